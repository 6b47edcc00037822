"""Optional HTTP service (FastAPI) over the same library: interpret, batch, guidelines, health.

Every error answer is an ErrorBody: a one-line ``detail`` and, for 422, the fields at fault.
No error answer quotes a submitted value beyond the 40-character excerpt that names a bad
allele, drug or guideline (tpmt.parse.shown); validation errors name the field, never its value.
"""

from __future__ import annotations

import io
import json
import logging
from array import array
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tpmt.activity import parse_activity
from tpmt.batch import BatchRecord, Prepared, interpret_prepared
from tpmt.comed import FIELD_NAMES as COMED_FIELD_NAMES
from tpmt.comed import apply_safety
from tpmt.dose import FIELD_NAMES, dose_request
from tpmt.errors import GuidelineError, InputError, TpmtError
from tpmt.interpreter import Interpreter
from tpmt.lab_ranges import LabRanges
from tpmt.models import Report
from tpmt.records import BatchLine, CompactLine, GuidelineEntry, Health
from tpmt.render.batch import Pieces, error_line, json_record
from tpmt.render.listing import guidelines_data
from tpmt.render.report_json import ReportJson
from tpmt.rows import StrictJson, checked_row, unreadable_row

DEFAULT_MAX_BODY = 64_000_000  # bytes: about 500,000 typical rows
MAX_INTERPRET_BODY = 100_000  # bytes: one small object
MAX_BATCH_ROWS = 500_000
CHUNK_ROWS = 256  # records computed per step of the streamed answer
INTERNAL_ROW_ERROR = "internal error while interpreting this row (a bug; logged without data)"
INTERNAL_ERROR = "internal error (a bug; logged without data)"
BAD_DATA = (  # a GuidelineError (exit 4 in the CLI): the server's files, not the request
    "the server's guideline or label data failed verification (logged); the operator must "
    "reinstall tpmt or fix the data"
)
_log = logging.getLogger("tpmt.service")
BATCH_ROWS = [  # the example batch of the OpenAPI document
    {"sample_id": "S1", "tpmt": "*1/*3A", "nudt15": "*1/*3", "drugs": "mercaptopurine"},
    {"sample_id": "S2", "tpmt": "*1/*99", "nudt15": "*1/*1", "drugs": "mercaptopurine"},
]


class InterpretRequest(BaseModel):
    """Body of POST /v1/interpret: JSON types taken as given (strict: true is not 1, "70" is
    not a number, "no" is not false)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    sample: str | None = Field(
        default=None, max_length=200, description="sample identifier, named in the report"
    )
    tpmt: str | None = Field(default=None, max_length=200, examples=["*1/*3A"])
    nudt15: str | None = Field(default=None, max_length=200, examples=["*1/*3"])
    drugs: list[str] | None = Field(default=None, max_length=10, examples=[["mercaptopurine"]])
    guidelines: list[str] | None = Field(default=None, max_length=10, examples=[["cpic"]])
    weight_kg: float | None = Field(
        default=None, description="kg, above 0.2 and at most 400: doses in mg too", examples=[70]
    )
    height_cm: float | None = Field(
        default=None, description="cm, above 30 and at most 250 (BSA by Mosteller)"
    )
    indication: str | None = Field(
        default=None,
        max_length=60,
        description="label standard dose to use, e.g. renal-transplant-initial, all-maintenance",
        examples=["renal-transplant-initial"],
    )
    planned_dose_mg: float | None = Field(
        default=None, description="planned standard dose in mg/day; overrides the indication's"
    )
    tpmt_activity: str | None = Field(
        default=None,
        max_length=80,
        description="erythrocyte TPMT activity with its unit, read against the lab ranges the "
        "server was started with (tpmt serve --lab-ranges FILE); 400 without them",
        examples=["15.2 U/mL RBC"],
    )
    comed: list[Annotated[str, Field(max_length=60)]] | None = Field(
        default=None,
        max_length=10,
        description="co-medications (allopurinol, febuxostat): the labels' statements beside "
        "the genotype advice, never combined; drugs not listed are not checked",
        examples=[["allopurinol"]],
    )
    monitoring: bool = Field(
        default=True,
        description="each recommendation's label monitoring schedule and time to steady state "
        "(false leaves them out)",
    )


class FieldProblem(BaseModel):
    """One field at fault: where it is and what is wrong, never its value."""

    loc: list[str | int] = Field(examples=[["body", "tpmt"]])
    msg: str = Field(examples=["Input should be a valid string"])
    type: str = Field(examples=["string_type"])


class ErrorBody(BaseModel):
    """Every error answer: a one-line message, and for 422 the fields at fault."""

    detail: str = Field(examples=["body.tpmt: Input should be a valid string"])
    errors: list[FieldProblem] = Field(default_factory=list)


STATUS_MEANINGS = {
    400: "bad input: the body is not UTF-8, not JSON, or not the accepted shape (a duplicate "
    "key, NaN or Infinity, an integer over 50 digits, nesting too deep); or, for "
    "/v1/interpret, a result, drug or guideline the rules do not accept",
    413: "request body over the size limit, or over 500,000 batch rows",
    422: "a field of the right JSON shape has the wrong type, length or name",
    500: f"{INTERNAL_ERROR}; or {BAD_DATA}",
}


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": STATUS_MEANINGS[s]} for s in statuses}


def _error(status: int, detail: str, errors: Sequence[FieldProblem] = ()) -> JSONResponse:
    body = ErrorBody(detail=detail, errors=list(errors))
    return JSONResponse(status_code=status, content=body.model_dump())


def _loc_part(part: Any) -> str | int:
    """A location step: an index, or a key cut to 40 characters (a key is a name, not data)."""
    if isinstance(part, int):
        return part
    text = str(part)
    return text if len(text) <= 40 else text[:40] + "..."


def _field_problems(errors: Sequence[Any]) -> list[FieldProblem]:
    """Validation errors without the submitted values (pydantic puts them under ``input``)."""
    return [
        FieldProblem(
            loc=[_loc_part(p) for p in e.get("loc", ())],
            msg=str(e.get("msg", "invalid")),
            type=str(e.get("type", "invalid")),
        )
        for e in errors
    ]


def _summary(problems: Sequence[FieldProblem]) -> str:
    if not problems:
        return "invalid request"
    first = problems[0]
    where = ".".join(str(p) for p in first.loc) or "body"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {first.msg}{more}"


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
        body = json.dumps({"detail": f"request body over {self.limit:,} bytes", "errors": []})
        data = body.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})


def create_app(
    interpreter: Interpreter | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    lab_ranges: LabRanges | None = None,
) -> Any:
    """The FastAPI application (OpenAPI at /openapi.json, docs at /docs); ``lab_ranges``
    reads the tpmt_activity of a request or batch row (none: such a request is refused).

    The rule sets and the bundled label data are loaded and verified here: a modified or
    broken file is a GuidelineError at start, not a failure of some later request."""
    from tpmt import __version__
    from tpmt.interpreter import default_interpreter

    engine = interpreter or default_interpreter()
    _load_data(engine)
    app = FastAPIOffline(  # /docs and /redoc from packaged assets: no CDN, work offline
        title="tpmt",
        version=__version__,
        description="Thiopurine dosing from TPMT and NUDT15 results (CPIC and DPWG). "
        "The records are those of the command line (tpmt schema --record KIND). "
        "Every error answer is an ErrorBody; none quotes submitted patient data.",
        separate_input_output_schemas=False,
    )
    _with_examples(app, engine)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _field_problems(exc.errors())
        return _error(422, _summary(problems), problems)

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        answer = _error(exc.status_code, str(exc.detail))
        answer.headers.update(exc.headers or {})
        return answer

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(GuidelineError)
    async def bad_data(request: Request, exc: GuidelineError) -> JSONResponse:
        # the message names a data file and its hash, never request data
        _log.error("bad guideline or label data in %s: %s", request.url.path, exc)
        return _error(500, BAD_DATA)

    @app.exception_handler(TpmtError)
    async def failed(request: Request, exc: TpmtError) -> JSONResponse:
        _log.error("internal error in %s: %s", request.url.path, type(exc).__name__)
        return _error(500, INTERNAL_ERROR)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        _log.error("internal error in %s: %s", request.url.path, type(exc).__name__)
        return _error(500, INTERNAL_ERROR)

    @app.get("/healthz", response_model=Health, responses=_responses(413, 500))
    def healthz() -> Health:
        """Liveness and the tool version (tpmt schema --record health)."""
        return Health(status="ok", version=__version__)

    @app.get("/v1/guidelines", response_model=list[GuidelineEntry], responses=_responses(413, 500))
    def guidelines() -> list[dict[str, Any]]:
        """The rule sets: what tpmt guidelines --format json writes (--record guidelines)."""
        return guidelines_data(engine.library)

    @app.post(
        "/v1/interpret",
        openapi_extra={
            "requestBody": {
                "content": {"application/json": {"schema": InterpretRequest.model_json_schema()}},
                "required": True,
            }
        },
        response_model=Report,
        responses=_responses(400, 413, 422, 500),
    )
    async def interpret(request: Request) -> Response:
        """One report, as tpmt lookup --format json writes it (tpmt schema --record report).

        The body is read strictly: a duplicate key or NaN is a 400."""
        raw = await request.body()
        if len(raw) > MAX_INTERPRET_BODY:
            raise HTTPException(413, f"request body over {MAX_INTERPRET_BODY:,} bytes")
        body = _interpret_request(raw)
        dose = dose_request(
            body.weight_kg, body.height_cm, body.indication, body.planned_dose_mg, FIELD_NAMES
        )
        activity = None
        if body.tpmt_activity is not None:
            activity = parse_activity(body.tpmt_activity, lab_ranges)
        report = await run_in_threadpool(
            partial(engine.interpret, dose=dose, dose_names=FIELD_NAMES, activity=activity),
            body.tpmt,
            body.nudt15,
            body.drugs,
            body.guidelines,
            body.sample,
        )
        report = apply_safety(report, body.comed, body.monitoring, COMED_FIELD_NAMES)
        return Response(report.model_dump_json(), media_type="application/json")

    @app.post(
        "/v1/batch",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {"type": "array", "items": {"type": "object"}},
                        "example": BATCH_ROWS,
                    },
                    "application/x-ndjson": {
                        "schema": {"type": "string"},
                        "example": "".join(json.dumps(row) + "\n" for row in BATCH_ROWS),
                    },
                },
                "required": True,
            }
        },
        response_model=list[BatchLine] | list[CompactLine],
        response_description="A JSON list, one record per row in input order: the lines tpmt "
        "batch --format jsonl writes (tpmt schema --record batch), or with compact=true those "
        "of --compact (tpmt schema --record compact)",
        responses=_responses(400, 413, 422, 500),
    )
    async def batch(request: Request, compact: bool = False) -> Response:
        """Interpret rows (a JSON list or JSON lines); the answer is a JSON list, streamed, of
        the records tpmt batch --format jsonl writes for the same rows (--compact with
        ``compact=true``).

        The rows are interpreted in a worker thread, a chunk at a time, so the server keeps
        answering other requests; ``compact=true`` gives compact records (about 1.5 KB each).
        A row that cannot be read or interpreted gets an error record: every row is answered.
        """
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        rows = await run_in_threadpool(_batch_rows, raw, content_type)
        chunks = _record_chunks(_answered(rows, engine, lab_ranges), compact)
        # the first chunk before the 200: a GuidelineError there is still a 500 ErrorBody
        first = await run_in_threadpool(next, chunks, "")
        return StreamingResponse(_after(first, chunks), media_type="application/json")

    return BodyLimit(app, max_body)


def _load_data(engine: Interpreter) -> None:
    """Load (and for bundled data, verify) every rule set of the engine's folder and the
    bundled label dose and safety data; GuidelineError for any that fails."""
    from tpmt.dose_schema import bundled_dose_data
    from tpmt.safety_schema import bundled_safety_data

    for rule_set_id in engine.library.manifests:
        engine.library.get(rule_set_id)
    bundled_dose_data()
    bundled_safety_data()


def _after(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _interpret_request(raw: bytes) -> InterpretRequest:
    """The body of /v1/interpret, read strictly (HTTPException 400, RequestValidationError)."""
    text = _utf8(raw)
    decoder = StrictJson()
    try:
        value, _ = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"body is not JSON: {exc.msg} at {_where(exc)}") from None
    except RecursionError:
        raise HTTPException(
            400, "body is not accepted: arrays or objects nested too deeply"
        ) from None
    if decoder.problems:
        raise HTTPException(400, "body is not accepted: " + "; ".join(decoder.problems))
    try:
        return InterpretRequest.model_validate(value)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]
        raise RequestValidationError(errors) from None


def _utf8(raw: bytes) -> str:
    """The body as text (a leading byte-order mark dropped); HTTPException 400 if not UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise HTTPException(
            400, f"body is not UTF-8: cannot decode byte {column:,} of line {line:,}"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _answered(
    rows: Iterator[Prepared], engine: Interpreter, lab_ranges: LabRanges | None = None
) -> Iterator[BatchRecord]:
    """interpret_prepared, but a row that fails with an unexpected exception (a bug) gets an
    error record and the rows after it are still interpreted. A GuidelineError (bad guideline
    or label data: exit 4 in the CLI) is no row's fault: it ends the answer."""
    current: Prepared | None = None
    answered = 0

    def tracked() -> Iterator[Prepared]:
        nonlocal current
        for row in rows:
            current = row
            yield row

    while True:
        try:
            for record in interpret_prepared(tracked(), interpreter=engine, lab_ranges=lab_ranges):
                answered = record.row
                yield record
            return
        except GuidelineError:
            raise
        except Exception as exc:
            if current is None or current.number == answered:
                raise  # the failure is not a row's: nothing to answer it with
            _log.error("internal error in batch row %d: %s", current.number, type(exc).__name__)
            answered = current.number
            yield BatchRecord(current.number, current.sample, None, INTERNAL_ROW_ERROR)


def _record_chunks(records: Iterator[BatchRecord], compact: bool) -> Iterator[str]:
    """The JSON list of batch records, CHUNK_ROWS records a chunk (each chunk computed when the
    response asks for it, in Starlette's thread pool: never on the event loop).

    Each record is the line ``tpmt batch --format jsonl`` (with ``--compact``) writes for the row.
    """
    pieces = Pieces()
    full = ReportJson()
    first = True
    chunk: list[str] = ["["]
    for record in records:
        chunk.append("" if first else ",")
        first = False
        try:  # the line of tpmt batch --format jsonl (--compact)
            text = json_record(pieces, full, record, compact).rstrip("\n")
        except GuidelineError:
            raise
        except Exception as exc:
            _log.error("internal error writing batch row %d: %s", record.row, type(exc).__name__)
            text = error_line(record.sample, INTERNAL_ROW_ERROR).rstrip("\n")
        chunk.append(text)
        if len(chunk) >= 2 * CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    chunk.append("]")
    yield "".join(chunk)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _item_starts(text: str) -> array[int]:
    """Where each item of a JSON list starts (ValueError if the body is not one JSON list;
    RecursionError if an item is nested too deeply). The items are not kept: they are decoded
    again, strictly, as they are interpreted."""
    scan = json.JSONDecoder(parse_int=_zero, parse_constant=_zero).raw_decode
    starts: array[int] = array("q")
    at = _skip(text, 0)
    if not text.startswith("[", at):
        raise ValueError(
            "body must be a JSON list of row objects, or JSON lines sent as application/x-ndjson"
        )
    at = _skip(text, at + 1)
    if not text.startswith("]", at):
        while True:
            starts.append(at)
            _, at = scan(text, at)
            at = _skip(text, at)
            if text.startswith("]", at):
                break
            if not text.startswith(",", at):
                where = _where(json.JSONDecodeError("", text, at))
                raise ValueError(f"expected ',' or ']' at {where}")
            at = _skip(text, at + 1)
    if _skip(text, at + 1) != len(text):
        raise ValueError("text after the end of the JSON list")
    return starts


def _where(exc: json.JSONDecodeError) -> str:
    return f"line {exc.lineno:,}, column {exc.colno:,}"


def _zero(text: str) -> int:
    return 0


def _batch_rows(raw: bytes, content_type: str) -> Iterator[Prepared]:
    """Rows from a JSON list or JSON lines, decoded as they are interpreted.

    The body is checked whole first (400 for a malformed body, 413 over MAX_BATCH_ROWS), so
    the streamed answer never stops half-way; what is wrong with one row is that row's error.
    """
    text = _utf8(raw)
    if "ndjson" in content_type or "jsonl" in content_type:
        count = sum(1 for line in io.StringIO(text, newline=None) if line.strip())
        _check_count(count)
        return _line_rows(text)
    try:
        starts = _item_starts(text)
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"body is not a JSON list: {exc.msg} at {_where(exc)}") from None
    except ValueError as exc:
        raise HTTPException(400, f"body is not a JSON list: {exc}") from None
    except RecursionError:
        raise HTTPException(
            400, "body is not a JSON list of rows: arrays or objects nested too deeply"
        ) from None
    _check_count(len(starts))
    return _item_rows(text, starts)


def _item_rows(text: str, starts: array[int]) -> Iterator[Prepared]:
    decoder = StrictJson()
    for number, start in enumerate(starts, start=1):
        try:
            item, _ = decoder.decode(text, start)
        except (ValueError, RecursionError) as exc:
            yield unreadable_row(number, f"item {number}", exc)
        else:
            yield checked_row(number, item, "item", number, decoder)


def _line_rows(text: str) -> Iterator[Prepared]:
    decoder = StrictJson()
    number = 0
    for line_number, line in enumerate(io.StringIO(text, newline=None), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            item, _ = decoder.decode(line)
        except (ValueError, RecursionError) as exc:
            yield unreadable_row(number, f"line {line_number}", exc)
        else:
            yield checked_row(number, item, "line", line_number, decoder)


def _check_count(count: int) -> None:
    if count > MAX_BATCH_ROWS:
        raise HTTPException(413, f"{count:,} rows; at most {MAX_BATCH_ROWS:,} per request")


def _with_examples(app: FastAPI, engine: Interpreter) -> None:
    """Answer examples in the OpenAPI document, computed by the service's own code from the
    loaded rule sets when the document is first asked for (never at start-up)."""

    generated = app.openapi
    done: list[bool] = []

    def openapi() -> dict[str, Any]:
        spec = generated()
        if not done:
            _add_examples(spec, engine)
            done.append(True)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _add_examples(spec: dict[str, Any], engine: Interpreter) -> None:
    from tpmt import __version__

    def batch_answer(compact: bool) -> Any:
        rows = _batch_rows(json.dumps(BATCH_ROWS).encode(), "application/json")
        return json.loads("".join(_record_chunks(_answered(rows, engine), compact)))

    report = engine.interpret("*1/*3A", "*1/*3", ["mercaptopurine"], ["cpic"])
    examples = {
        ("/healthz", "get"): {"ok": {"value": {"status": "ok", "version": __version__}}},
        ("/v1/guidelines", "get"): {"bundled": {"value": guidelines_data(engine.library)}},
        ("/v1/interpret", "post"): {
            "TPMT *1/*3A, NUDT15 *1/*3": {"value": json.loads(report.model_dump_json())}
        },
        ("/v1/batch", "post"): {
            "full": {"summary": "compact=false", "value": batch_answer(False)},
            "compact": {"summary": "compact=true", "value": batch_answer(True)},
        },
    }
    for (path, method), values in examples.items():
        content = spec["paths"][path][method]["responses"]["200"]["content"]
        content["application/json"]["examples"] = values
