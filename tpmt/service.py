"""Optional HTTP service (FastAPI) over the same library: interpret, batch, guidelines, health."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tpmt.batch import interpret_prepared, prepare_row, row_from_json
from tpmt.errors import InputError, TpmtError
from tpmt.interpreter import Interpreter
from tpmt.render.listing import guidelines_data

DEFAULT_MAX_BODY = 1_000_000  # bytes
MAX_BATCH_ROWS = 10_000


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
    )
    async def batch(request: Request) -> Response:
        raw = await request.body()
        rows = _batch_rows(raw, request.headers.get("content-type", ""))
        records = interpret_prepared(rows, interpreter=engine)
        out = []
        for record in records:
            if record.report is not None:
                out.append(
                    '{"sample":'
                    + json.dumps(record.sample)
                    + ',"status":"ok","report":'
                    + record.report.model_dump_json()
                    + "}"
                )
            else:
                out.append(
                    json.dumps(
                        {"sample": record.sample, "status": "error", "message": record.message}
                    )
                )
        return Response("[" + ",".join(out) + "]", media_type="application/json")

    return BodyLimit(app, max_body)


def _batch_rows(raw: bytes, content_type: str) -> list[tuple[Any, ...]]:
    """Rows from a JSON list or JSON lines; a malformed body is a 400."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "body is not UTF-8") from None
    if "ndjson" in content_type or "jsonl" in content_type:
        lines = [line for line in text.splitlines() if line.strip()]
        rows = [prepare_row(n, row_from_json(line, n)) for n, line in enumerate(lines, start=1)]
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"body is not JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(value, list):
            raise HTTPException(400, "body must be a JSON list of objects (or JSON lines)")
        rows = [
            prepare_row(n, item)
            if isinstance(item, dict)
            else prepare_row(
                n, {"sample_id": f"item {n}", "__error__": f"item {n} is not an object"}
            )
            for n, item in enumerate(value, start=1)
        ]
    if len(rows) > MAX_BATCH_ROWS:
        raise HTTPException(413, f"{len(rows):,} rows; at most {MAX_BATCH_ROWS:,} per request")
    return rows
