"""Optional HTTP service (FastAPI) over the same library: interpret, batch, guidelines, health."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tpmt.batch import BatchRecord, Prepared, interpret_prepared, prepare_row, row_from_json
from tpmt.errors import InputError, TpmtError
from tpmt.interpreter import Interpreter
from tpmt.render.batch import Pieces, compact_line, error_line
from tpmt.render.listing import guidelines_data
from tpmt.render.report_json import ReportJson

DEFAULT_MAX_BODY = 64_000_000  # bytes: about 500,000 typical rows
MAX_BATCH_ROWS = 500_000
CHUNK_ROWS = 256  # records computed per step of the streamed answer


class InterpretRequest(BaseModel):
    """Body of POST /v1/interpret."""

    model_config = ConfigDict(extra="forbid")

    tpmt: str | None = Field(default=None, max_length=200, examples=["*1/*3A"])
    nudt15: str | None = Field(default=None, max_length=200, examples=["*1/*3"])
    drugs: list[str] | None = Field(default=None, max_length=10, examples=[["mercaptopurine"]])
    guidelines: list[str] | None = Field(default=None, max_length=10, examples=[["cpic"]])


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with 413, streamed or not."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._reject(send)
            return
        seen = 0
        too_large = False
        replaced = False

        async def limited() -> Message:
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # a streamed body grew too large: stop reading it
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal replaced
            if not too_large:
                await send(message)
            elif not replaced:  # whatever the app answers to the cut body becomes a 413
                replaced = True
                await self._reject(send)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not too_large:
                raise
            if not replaced:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body over {self.limit:,} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(interpreter: Interpreter | None = None, max_body: int = DEFAULT_MAX_BODY) -> Any:
    """The FastAPI application (OpenAPI at /openapi.json, docs at /docs)."""
    from tpmt import __version__
    from tpmt.interpreter import default_interpreter

    engine = interpreter or default_interpreter()
    app = FastAPI(
        title="tpmt",
        version=__version__,
        description="Thiopurine dosing from TPMT and NUDT15 results (CPIC and DPWG).",
    )

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.exception_handler(TpmtError)
    async def failed(request: Request, exc: TpmtError) -> JSONResponse:
        return JSONResponse(
            status_code=500, content={"detail": "internal error (logged without data)"}
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/v1/guidelines")
    def guidelines() -> list[dict[str, Any]]:
        return guidelines_data(engine.library)

    @app.post("/v1/interpret")
    def interpret(body: InterpretRequest) -> Response:
        report = engine.interpret(
            tpmt=body.tpmt, nudt15=body.nudt15, drugs=body.drugs, guidelines=body.guidelines
        )
        return Response(report.model_dump_json(), media_type="application/json")

    @app.post(
        "/v1/batch",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
                "required": True,
            }
        },
        responses={413: {"description": "body or row count over the limit"}},
    )
    async def batch(request: Request, compact: bool = False) -> Response:
        """Interpret rows (a JSON list or JSON lines); the answer is a JSON list, streamed.

        The rows are interpreted in a worker thread, a chunk at a time, so the server keeps
        answering other requests; ``compact=true`` gives compact records (about 1.5 KB each).
        """
        raw = await request.body()
        rows = _batch_rows(raw, request.headers.get("content-type", ""))
        records = interpret_prepared(rows, interpreter=engine)
        return StreamingResponse(_record_chunks(records, compact), media_type="application/json")

    return BodyLimit(app, max_body)


def _record_chunks(records: Iterator[BatchRecord], compact: bool) -> Iterator[str]:
    """The JSON list of batch records, CHUNK_ROWS records a chunk (each chunk computed when the
    response asks for it, in Starlette's thread pool: never on the event loop)."""
    pieces = Pieces()
    full = ReportJson()
    first = True
    chunk: list[str] = ["["]
    for record in records:
        chunk.append("" if first else ",")
        first = False
        result = record.result
        if result is None:
            chunk.append(error_line(record.sample, record.message or "").rstrip("\n"))
        elif compact:
            chunk.append(compact_line(pieces, record.sample, result).rstrip("\n"))
        else:
            sample = to_json(record.sample).decode()
            chunk.append(
                f'{{"sample":{sample},"status":"ok","report":{full.line(result, record.sample)}}}'
            )
        if len(chunk) >= 2 * CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    chunk.append("]")
    yield "".join(chunk)


def _json_items(text: str) -> Iterator[Any]:
    """The items of a JSON list, decoded one at a time (ValueError if it is not one)."""
    decoder = json.JSONDecoder()
    at = _skip(text, 0)
    if not text.startswith("[", at):
        raise ValueError("body must be a JSON list of objects (or JSON lines)")
    at = _skip(text, at + 1)
    if text.startswith("]", at):
        if _skip(text, at + 1) != len(text):
            raise ValueError("text after the end of the JSON list")
        return
    while True:
        item, at = decoder.raw_decode(text, at)
        yield item
        at = _skip(text, at)
        if text.startswith("]", at):
            if _skip(text, at + 1) != len(text):
                raise ValueError("text after the end of the JSON list")
            return
        if not text.startswith(",", at):
            raise ValueError(f"expected ',' or ']' at character {at}")
        at = _skip(text, at + 1)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _batch_rows(raw: bytes, content_type: str) -> Iterator[Prepared]:
    """Rows from a JSON list or JSON lines, decoded as they are interpreted.

    The body is checked whole first (400 for a malformed body, 413 over MAX_BATCH_ROWS), so
    the streamed answer never stops half-way.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "body is not UTF-8") from None
    if "ndjson" in content_type or "jsonl" in content_type:
        count = sum(1 for line in io.StringIO(text, newline=None) if line.strip())
        _check_count(count)
        lines = (line for line in io.StringIO(text, newline=None) if line.strip())
        return (prepare_row(n, row_from_json(line, n)) for n, line in enumerate(lines, start=1))
    try:
        count = sum(1 for _ in _json_items(text))
    except ValueError as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise HTTPException(400, f"body is not a JSON list: {message}") from None
    _check_count(count)
    return (
        prepare_row(n, item)
        if isinstance(item, dict)
        else prepare_row(n, {"sample_id": f"item {n}", "__error__": f"item {n} is not an object"})
        for n, item in enumerate(_json_items(text), start=1)
    )


def _check_count(count: int) -> None:
    if count > MAX_BATCH_ROWS:
        raise HTTPException(413, f"{count:,} rows; at most {MAX_BATCH_ROWS:,} per request")
