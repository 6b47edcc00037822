"""The typer command line: the only place that prints or sets exit codes."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from tpmt.errors import InputError, OutputError, TpmtError
from tpmt.output import atomic_output, refuse_same_file

if TYPE_CHECKING:
    from tpmt.batch import BatchRecord
    from tpmt.lab_ranges import LabRanges
    from tpmt.models import Report
    from tpmt.render.fhir import BundleOptions

app = typer.Typer(
    name="tpmt",
    help="Thiopurine dosing from TPMT and NUDT15 results (CPIC and DPWG rule sets).",
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=True,
)
T = TypeVar("T")
BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`
UNUSED_SHOWN = 10  # input columns named in the note of tpmt batch


class ReportFormat(StrEnum):
    """Output formats of a report."""

    text = "text"
    json = "json"
    fhir = "fhir"
    html = "html"


GuidelineOption = Annotated[
    list[str] | None,
    typer.Option(
        "--guideline",
        "-g",
        help="Rule-set id or alias (cpic, dpwg, cpic-2025, cpic-2018, dpwg-2025); repeatable. "
        "Default: cpic-2025 and dpwg-2025 (the aliases cpic and dpwg name these, fixed).",
    ),
]
GuidelinesDirOption = Annotated[
    Path | None,
    typer.Option(
        "--guidelines-dir",
        help="Use the rule sets in this folder (one sub-folder per rule set, laid out like the "
        "bundled ones) instead of the bundled ones. They are not verified and every result "
        "labels them user-supplied. Default: $TPMT_GUIDELINES_DIR (also user-supplied), else "
        "the bundled rule sets.",
    ),
]
DrugOption = Annotated[
    list[str] | None,
    typer.Option(
        "--drug",
        "-d",
        help="azathioprine (aza), mercaptopurine (mp) or thioguanine (tg); repeatable or "
        "comma-separated (--drug aza,mp).",
    ),
]


def _drug_list(values: list[str] | None) -> list[str] | None:
    """--drug aza,mp and --drug aza --drug mp mean the same (as a batch file's drugs cell)."""
    if values is None:
        return None
    parts = [p.strip() for v in values for p in v.replace(";", ",").split(",")]
    return [p for p in parts if p] or None


FormatOption = Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")]
LabRangesOption = Annotated[
    Path | None,
    typer.Option(
        "--lab-ranges",
        help="Your lab's TPMT activity reference ranges (TOML or JSON: lab, unit, ranges → "
        "phenotype); needed with a TPMT activity. tpmt ships none (an ARUP example is in "
        "examples/activity-discordant/).",
    ),
]


def _lab_ranges(path: Path | None) -> LabRanges | None:
    """The lab ranges file, loaded (InputError, exit 3, when it cannot be used)."""
    if path is None:
        return None
    from tpmt.lab_ranges import load_lab_ranges

    return load_lab_ranges(path)


class ListingFormat(StrEnum):
    """Output formats of the listings (guidelines, alleles)."""

    text = "text"
    json = "json"


ListingFormatOption = Annotated[
    ListingFormat, typer.Option("--format", "-f", help="Output format.")
]


def _iso_date(value: str | None) -> str | None:
    """A --generated date must be a real calendar date, YYYY-MM-DD (it goes on a signed page)."""
    import datetime

    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise typer.BadParameter("give a date as YYYY-MM-DD, e.g. 2026-11-30") from None


OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write here instead of stdout (complete or not at all)."),
]
GeneratedOption = Annotated[
    str | None,
    typer.Option(
        "--generated",
        callback=_iso_date,
        help="Date printed on HTML output, YYYY-MM-DD (default: today).",
    ),
]


def _fhir_option(check_name: str) -> Callable[[str | None], str | None]:
    """An option callback running a check of tpmt.render.fhir (usage error, exit 2)."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        from tpmt.render import fhir

        try:
            result: str = getattr(fhir, check_name)(value)
        except InputError as exc:
            raise typer.BadParameter(str(exc)) from None
        return result

    return check


PatientRefOption = Annotated[
    str | None,
    typer.Option(
        "--patient-ref",
        callback=_fhir_option("check_patient_ref"),
        help="FHIR only: subject of every resource, Patient/<id> or an absolute URL ending in "
        "/Patient/<id>; {sample} stands for each sample's id (needed by batch, and by call "
        "without --sample). Default: no subject.",
    ),
]
IssuedOption = Annotated[
    str | None,
    typer.Option(
        "--issued",
        callback=_fhir_option("check_issued"),
        help="FHIR only: the report's issue time, e.g. 2025-06-01T09:30:00Z. Default: none "
        "(tpmt never reads the clock for FHIR).",
    ),
]


def _run(work: Callable[[], T]) -> T:
    """Run ``work``; turn tpmt errors into one stderr line and their documented exit code."""
    try:
        return work()
    except TpmtError as exc:
        typer.echo(f"tpmt: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        _quiet_broken_pipe()
    except Exception as exc:  # a bug: one line, no locals, traceback only on request
        if os.environ.get("TPMT_DEBUG"):
            raise
        typer.echo(
            f"tpmt: internal error ({type(exc).__name__}); this is a bug. "
            "Re-run with TPMT_DEBUG=1 for a traceback.",
            err=True,
        )
        raise typer.Exit(1) from None


def _echo(text: str, nl: bool = True) -> None:
    """Write a result to stdout; a reader that went away (``| head``) ends the run quietly."""
    try:
        typer.echo(text, nl=nl)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:
        typer.echo(f"tpmt: error: cannot write the standard output: {exc.strerror}", err=True)
        raise typer.Exit(OutputError.exit_code) from None


def _version(value: bool) -> None:
    if value:
        from tpmt.interpreter import tool_version

        typer.echo(f"tpmt {tool_version()}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Thiopurine dosing from TPMT and NUDT15 results (CPIC and DPWG rule sets)."""


@app.command()
def lookup(
    tpmt: Annotated[
        str | None, typer.Option("--tpmt", help="TPMT diplotype (*1/*3A) or phenotype (IM).")
    ] = None,
    nudt15: Annotated[
        str | None, typer.Option("--nudt15", help="NUDT15 diplotype (*1/*3) or phenotype.")
    ] = None,
    drug: DrugOption = None,
    guideline: GuidelineOption = None,
    guidelines_dir: GuidelinesDirOption = None,
    output_format: FormatOption = ReportFormat.text,
    explain: Annotated[bool, typer.Option("--explain", help="Show the rule trace.")] = False,
    outside_call: Annotated[
        Path | None,
        typer.Option(
            "--outside-call",
            help="PharmCAT outside-call TSV instead of --tpmt/--nudt15; - reads stdin.",
        ),
    ] = None,
    sample: Annotated[
        str | None, typer.Option("--sample", help="Sample or patient identifier to print.")
    ] = None,
    generated: GeneratedOption = None,
    patient_ref: PatientRefOption = None,
    issued: IssuedOption = None,
    weight_kg: Annotated[
        str | None,
        typer.Option(
            "--weight-kg",
            help="Body weight in kg (above 0.2, at most 400): give doses in mg too, with "
            "--indication or --planned-dose.",
        ),
    ] = None,
    height_cm: Annotated[
        str | None,
        typer.Option(
            "--height-cm",
            help="Height in cm (above 30, at most 250): body-surface area by Mosteller, for "
            "doses and thresholds in mg/m2.",
        ),
    ] = None,
    indication: Annotated[
        str | None,
        typer.Option(
            "--indication",
            help="Indication whose label standard dose is used: azathioprine "
            "renal-transplant-initial, renal-transplant-maintenance, rheumatoid-arthritis, "
            "other-nonmalignant; mercaptopurine all-maintenance, other-nonmalignant; "
            "thioguanine acute-nonlymphocytic-leukemia.",
        ),
    ] = None,
    planned_dose: Annotated[
        str | None,
        typer.Option(
            "--planned-dose",
            help="Planned standard dose in mg/day (above 0, at most 1000); overrides the "
            "indication's standard dose.",
        ),
    ] = None,
    tpmt_activity: Annotated[
        str | None,
        typer.Option(
            "--tpmt-activity",
            help="Erythrocyte TPMT activity with its unit, e.g. '15.2 U/mL RBC' (needs "
            "--lab-ranges). With --tpmt the more severe phenotype of the two is used and a "
            "discordance is flagged.",
        ),
    ] = None,
    lab_ranges: LabRangesOption = None,
    comed: Annotated[
        list[str] | None,
        typer.Option(
            "--comed",
            help="Co-medication (repeatable or comma list): allopurinol, febuxostat. The labels' "
            "statements are shown beside the genotype advice, never combined with it; drugs "
            "not listed are not checked.",
        ),
    ] = None,
    monitoring: Annotated[
        bool,
        typer.Option(
            "--monitoring/--no-monitoring",
            help="Each drug's label monitoring schedule (shown by default; --no-monitoring "
            "leaves it out; each row's time to steady state stays in its dosing line).",
        ),
    ] = True,
) -> None:
    """Interpret TPMT and NUDT15 results into phenotypes and dosing recommendations."""
    from tpmt.interpreter import interpreter_for
    from tpmt.render.text import render_report

    def work() -> Report:
        given_tpmt, given_nudt15 = tpmt, nudt15
        if outside_call is not None:
            from tpmt.outside_call import parse_outside_call, read_outside_call
            from tpmt.vocab import Gene

            if tpmt is not None or nudt15 is not None:
                raise InputError("give either --outside-call or --tpmt/--nudt15, not both")
            if str(outside_call) == "-":
                calls = parse_outside_call(_stdin_text())
            else:
                calls = read_outside_call(outside_call)
            given_tpmt, given_nudt15 = calls.get(Gene.TPMT), calls.get(Gene.NUDT15)
        from tpmt.dose import dose_request

        dose = dose_request(weight_kg, height_cm, indication, planned_dose)
        interpreter = interpreter_for(guidelines_dir)
        activity = None
        if tpmt_activity is not None:
            from tpmt.activity import parse_activity

            activity = parse_activity(tpmt_activity, _lab_ranges(lab_ranges))
        report = interpreter.interpret(
            given_tpmt, given_nudt15, _drug_list(drug), guideline, dose=dose, activity=activity
        )
        from tpmt.comed import apply_safety

        return apply_safety(report, comed, monitoring)

    report = _run(work)
    if sample is not None:
        report = report.model_copy(update={"sample": sample})
    if output_format is ReportFormat.html:
        import datetime

        from tpmt.render.html import render_html

        _echo(render_html(report, generated or datetime.date.today().isoformat()), nl=False)
    elif output_format is ReportFormat.json:
        _echo(report.model_dump_json(indent=2))
    elif output_format is ReportFormat.fhir:
        from tpmt.render.fhir import BundleOptions, report_to_bundle

        options = BundleOptions(patient_ref, issued)
        _echo(json.dumps(_run(lambda: report_to_bundle(report, options)), indent=2))
    else:
        _echo(render_report(report, explain=explain), nl=False)


class CallFormat(StrEnum):
    """Output formats of ``tpmt call``."""

    text = "text"
    json = "json"
    jsonl = "jsonl"
    tsv = "tsv"
    fhir = "fhir"
    html = "html"


@app.command()
def call(
    file: Annotated[
        Path,
        typer.Argument(help="GRCh38 VCF (.vcf/.vcf.gz) or genotype table; - reads stdin."),
    ],
    sample: Annotated[str | None, typer.Option("--sample", "-s", help="Only this sample.")] = None,
    drug: DrugOption = None,
    guideline: GuidelineOption = None,
    guidelines_dir: GuidelinesDirOption = None,
    output_format: Annotated[
        CallFormat, typer.Option("--format", "-f", help="Output format (json: one sample).")
    ] = CallFormat.jsonl,
    assume_reference: Annotated[
        bool,
        typer.Option(
            "--assume-reference",
            help="Take defining positions absent from the file as reference (never no-calls "
            "or filtered sites); every report says so.",
        ),
    ] = False,
    min_gq: Annotated[
        int, typer.Option("--min-gq", min=0, help="Genotype quality below this fails a call.")
    ] = 20,
    min_dp: Annotated[
        int,
        typer.Option("--min-dp", min=0, help="Read depth (MIN_DP in blocks) below this fails."),
    ] = 10,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="With json/jsonl: calls and advice by rule id only (tpmt schema --record "
            "compact).",
        ),
    ] = False,
    output: OutputOption = None,
    generated: GeneratedOption = None,
    patient_ref: PatientRefOption = None,
    issued: IssuedOption = None,
) -> None:
    """Call TPMT and NUDT15 diplotypes from variant data, then interpret each sample."""
    from tpmt.calling.options import CallOptions
    from tpmt.calling.run import VARIANT_ONLY, call_samples
    from tpmt.interpreter import interpreter_for
    from tpmt.render.calls import render_call_results

    options = CallOptions(min_gq=min_gq, min_dp=min_dp, assume_reference=assume_reference)
    if compact and output_format not in (CallFormat.json, CallFormat.jsonl):
        raise typer.BadParameter("--compact needs --format json or jsonl", param_hint="--compact")
    _one_patient_per_sample(patient_ref, sample is not None)

    source = _run(lambda: _stdin_copy() if str(file) == "-" else file)

    def start() -> tuple[list[str], object]:
        return call_samples(
            interpreter_for(guidelines_dir), source, sample, _drug_list(drug), guideline, options
        )

    if output is not None:
        _run(lambda: refuse_same_file(output, [file]))
    names, results = _run(start)
    _long_run()
    variant_only: list[str] = []

    def noticed(items: Iterator[tuple[str, object]]) -> Iterator[tuple[str, object]]:
        for name, result in items:
            if isinstance(result, InputError):
                if VARIANT_ONLY in str(result):
                    variant_only.append(name)
            elif VARIANT_ONLY in getattr(result, "warnings", ()):
                variant_only.append(name)
            yield name, result

    results = noticed(results)  # type: ignore[arg-type]
    if output_format is CallFormat.json and len(names) != 1:
        typer.echo(
            f"tpmt: error: --format json needs one sample; {file.name} has {len(names)} "
            "(use --sample NAME or --format jsonl)",
            err=True,
        )
        raise typer.Exit(3)
    failed = 0

    def write_all(target: IO[str]) -> None:
        import datetime

        nonlocal failed
        rendered = render_call_results(
            results,  # type: ignore[arg-type]
            output_format.value,
            compact,
            names,
            generated or datetime.date.today().isoformat(),
            _bundle_options(patient_ref, issued),
        )
        for chunk, ok in rendered:
            target.write(chunk)
            failed += not ok

    _run(lambda: _write_output(output, write_all))
    _stats()
    if variant_only:
        typer.echo(
            f"tpmt: warning: {len(variant_only)} of {len(names)} samples have no reference calls "
            "in the input (variant-only?); absent positions were reported as not tested "
            "(see --assume-reference)",
            err=True,
        )
    if failed:
        typer.echo(
            f"tpmt: error: {failed} of {len(names)} samples could not be interpreted", err=True
        )
        raise typer.Exit(3)


class BatchFormat(StrEnum):
    """Output formats of ``tpmt batch``."""

    jsonl = "jsonl"
    tsv = "tsv"
    fhir = "fhir"


@app.command()
def batch(
    input_file: Annotated[
        str, typer.Argument(metavar="INPUT", help="TSV, CSV or JSONL file; - reads stdin.")
    ],
    output: OutputOption = None,
    output_format: Annotated[
        BatchFormat, typer.Option("--format", "-f", help="Output format.")
    ] = BatchFormat.jsonl,
    drug: Annotated[
        list[str] | None,
        typer.Option("--drug", "-d", help="Default drugs for rows without a drugs column."),
    ] = None,
    guideline: GuidelineOption = None,
    guidelines_dir: GuidelinesDirOption = None,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact",
            help="JSON lines with calls and advice by rule id only (~1.5 KB a record; "
            "tpmt schema --record compact).",
        ),
    ] = False,
    patient_ref: PatientRefOption = None,
    issued: IssuedOption = None,
    lab_ranges: LabRangesOption = None,
) -> None:
    """Interpret a file of samples: one record per input row, in order (exit 3 if any failed).

    A tpmt_activity column (value and unit, e.g. 15.2 U/mL RBC) is read with --lab-ranges.
    Columns weight_kg, height_cm, indication, planned_dose_mg and comed give a row doses in mg
    and co-medication statements, as tpmt lookup does (TSV: in the columns after message).
    Other columns are not used (one note names them); a column named almost like one tpmt
    reads (co_med, weight) is refused.
    """
    import contextlib

    from tpmt.batch import interpret_prepared, read_rows
    from tpmt.interpreter import interpreter_for
    from tpmt.render.batch import render_batch

    if compact and output_format is not BatchFormat.jsonl:
        raise typer.BadParameter("--compact needs --format jsonl", param_hint="--compact")
    _one_patient_per_sample(patient_ref, False)
    if output is not None and input_file != "-":
        _run(lambda: refuse_same_file(output, [Path(input_file)]))
    ranges = _run(lambda: _lab_ranges(lab_ranges))
    source = _run(
        lambda: (
            contextlib.nullcontext(sys.stdin.buffer)
            if input_file == "-"
            else _open_binary(Path(input_file), input_file)
        )
    )
    _long_run()
    counts = {"rows": 0, "failed": 0}
    with source as handle:
        engine = _run(lambda: interpreter_for(guidelines_dir))
        _run(lambda: engine.selection(_drug_list(drug), guideline))  # a typo: one error, not N
        rows = _run(lambda: read_rows(handle, input_file, _note_unused))
        records = interpret_prepared(rows, guideline, _drug_list(drug), engine, ranges)

        def counted() -> Iterator[BatchRecord]:
            for record in records:
                counts["rows"] += 1
                counts["failed"] += not record.ok
                yield record

        def write_all(target: IO[str]) -> None:
            chunks = render_batch(
                counted(), output_format.value, compact, _bundle_options(patient_ref, issued)
            )
            write = target.write
            with _progress() as advance:
                if advance is None:
                    for chunk in chunks:
                        write(chunk)
                else:
                    for chunk in chunks:
                        write(chunk)
                        advance(1)

        _run(lambda: _write_output(output, write_all))
    _stats()
    if not counts["rows"]:
        typer.echo("tpmt: warning: the input has a header but no rows", err=True)
    if counts["failed"]:
        typer.echo(
            f"tpmt: error: {counts['failed']} of {counts['rows']} rows failed "
            "(their records say why)",
            err=True,
        )
        raise typer.Exit(3)


def _note_unused(names: Sequence[str]) -> None:
    """One stderr note naming the input columns (or JSON keys) tpmt did not use (names are
    not patient data; at most UNUSED_SHOWN of them)."""
    from tpmt.parse import shown

    plain = (n if n.isprintable() and len(n) <= 40 else shown(n) for n in names[:UNUSED_SHOWN])
    listed = ", ".join(plain)
    more = f" (and {len(names) - UNUSED_SHOWN:,} more)" if len(names) > UNUSED_SHOWN else ""
    typer.echo(f"tpmt: note: columns not used: {listed}{more}", err=True)


def _open_binary(path: Path, shown: str) -> IO[bytes]:
    """An input file opened for reading bytes, or InputError naming it as the user gave it."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read {shown!r}: {exc.strerror}") from None


def _stdin_text() -> str:
    """Standard input as text (UTF-8; InputError if it is not)."""
    try:
        return sys.stdin.buffer.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"standard input is not UTF-8 text (byte {exc.start + 1}); send UTF-8"
        ) from None


def _stdin_copy() -> Path:
    """Standard input saved to a temporary folder (removed at exit) as ``stdin`` with the
    suffix of what it holds: .vcf or .tsv (a genotype table), + .gz when gzip-compressed."""
    import atexit
    import gzip
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="tpmt-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    raw = folder / "stdin"
    with raw.open("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out)
    with raw.open("rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    try:
        with gzip.open(raw, "rb") if compressed else raw.open("rb") as handle:
            vcf = handle.read(2) == b"##"
    except (OSError, EOFError):
        vcf = True  # corrupt gzip: the VCF reader names the problem
    path = folder / ("stdin" + (".vcf" if vcf else ".tsv") + (".gz" if compressed else ""))
    raw.rename(path)
    return path


def _one_patient_per_sample(patient_ref: str | None, one_sample: bool) -> None:
    """Refuse one fixed --patient-ref for many samples: it would merge their records."""
    if patient_ref is not None and "{sample}" not in patient_ref and not one_sample:
        raise typer.BadParameter(
            "with several samples the reference must contain {sample} (e.g. "
            "Patient/{sample}); a fixed one would file every sample under one patient",
            param_hint="--patient-ref",
        )


def _bundle_options(patient_ref: str | None, issued: str | None) -> BundleOptions:
    """The subject and issue time every FHIR bundle of this run gets."""
    from tpmt.render.fhir import BundleOptions

    return BundleOptions(patient_ref, issued)


def _write_output(output: Path | None, write: Callable[[IO[str]], None]) -> None:
    """Run ``write`` on the output file (complete or absent: tpmt/output.py) or on stdout."""
    if output is not None:
        with atomic_output(output) as handle:
            write(handle)
        return
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:
        raise OutputError(f"cannot write the standard output: {exc.strerror}") from None


def _long_run() -> None:
    """Tune the cyclic garbage collector for a long batch.

    The memoised fragments are long-lived and the per-row objects are freed by reference
    counting (they form no cycles), so frequent full collections only re-scan the memos.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1_000)


def _stats() -> None:
    """With TPMT_STATS=1: how often the rule engine ran (for benchmarks), on stderr."""
    if os.environ.get("TPMT_STATS"):
        from tpmt.interpreter import default_interpreter

        runs = default_interpreter().evaluator.evaluations
        typer.echo(f"tpmt: stats: {runs} engine evaluations", err=True)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int], None] | None]:
    """A row counter on stderr when stderr is a terminal; None otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("batch", total=None)
        yield lambda rows: progress.advance(task, rows)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port (0: any free port).")
    ] = 8000,
    max_body: Annotated[
        int, typer.Option(help="Largest request body in bytes (413 above).")
    ] = 64_000_000,
    lab_ranges: LabRangesOption = None,
) -> None:
    """Run the HTTP service (needs the optional extra: pip install 'tpmt\\[service]')."""
    try:
        import uvicorn

        from tpmt.service import create_app
    except ImportError:
        typer.echo("tpmt: error: the service needs: pip install 'tpmt[service]'", err=True)
        raise typer.Exit(3) from None
    from tpmt.interpreter import default_interpreter

    ranges = _run(lambda: _lab_ranges(lab_ranges))
    engine = _run(default_interpreter)
    application = _run(lambda: create_app(engine, max_body, ranges))  # data verified: exit 4
    listening = _run(lambda: _listen(host, port))
    bound = listening.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"tpmt: serving on http://{shown}:{bound} (API docs: http://{shown}:{bound}/docs); "
        "Ctrl-C stops",
        err=True,
    )
    config = uvicorn.Config(application, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listening])


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening, or InputError saying why it cannot be."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (OSError, UnicodeError):
        raise InputError(f"cannot listen on {host!r}: not a known host name or address") from None
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
        listening.listen(2048)
    except OSError as exc:
        listening.close()
        raise InputError(
            f"cannot listen on {host}:{port}: {exc.strerror or 'refused'} (choose another --port)"
        ) from None
    return listening


class GuidelinesFormat(StrEnum):
    """Output formats of ``tpmt guidelines`` (tsv: with --diff only)."""

    text = "text"
    json = "json"
    tsv = "tsv"


@app.command()
def guidelines(
    output_format: Annotated[
        GuidelinesFormat, typer.Option("--format", "-f", help="Output format (tsv: --diff only).")
    ] = GuidelinesFormat.text,
    guidelines_dir: GuidelinesDirOption = None,
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule",
            help="Show one recommendation row by its rule id (as in compact records), e.g. "
            "cpic-2025:mercaptopurine.IM-IM.",
        ),
    ] = None,
    diff: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--diff",
            metavar="OLD NEW",
            help="Show what differs between two rule sets, e.g. --diff cpic-2018 cpic-2025: "
            "every diplotype whose phenotype differs and every drug × phenotype pair whose "
            "dosing or strength differs.",
        ),
    ] = None,
) -> None:
    """List the rule sets with versions, sources and content hashes (or one rule: --rule)."""
    from tpmt.interpreter import interpreter_for
    from tpmt.render.listing import render_guidelines, render_rule

    if diff is not None:
        if rule is not None:
            raise typer.BadParameter("give --diff or --rule, not both", param_hint="--diff")
        _echo(_run(lambda: _guidelines_diff(guidelines_dir, diff, output_format)), nl=False)
        return
    if output_format is GuidelinesFormat.tsv:
        raise typer.BadParameter("--format tsv needs --diff", param_hint="--format")
    as_json = output_format is GuidelinesFormat.json

    def work() -> str:
        library = interpreter_for(guidelines_dir).library
        if rule is not None:
            return render_rule(library, rule, as_json)
        return render_guidelines(library, as_json)

    text = _run(work)
    _echo(text, nl=False)


@app.command()
def alleles(
    gene: Annotated[str, typer.Option("--gene", help="TPMT or NUDT15.")],
    guideline: GuidelineOption = None,
    guidelines_dir: GuidelinesDirOption = None,
    output_format: ListingFormatOption = ListingFormat.text,
) -> None:
    """List a gene's alleles and their function in the default rule sets (or those given)."""
    from tpmt.interpreter import interpreter_for
    from tpmt.parse import parse_gene
    from tpmt.render.listing import render_alleles

    def work() -> str:
        library = interpreter_for(guidelines_dir).library
        chosen = parse_gene(gene)
        ids = (
            library.default_ids() if guideline is None else [library.resolve(g) for g in guideline]
        )
        rule_sets = [library.get(i) for i in dict.fromkeys(ids)]
        return render_alleles(chosen, rule_sets, output_format is ListingFormat.json)

    _echo(_run(work), nl=False)


class RecordKind(StrEnum):
    """Records whose JSON Schema ``tpmt schema`` prints (tpmt/records.py defines them)."""

    report = "report"
    batch = "batch"
    call = "call"
    compact = "compact"
    guidelines = "guidelines"
    rule = "rule"
    alleles = "alleles"
    health = "health"
    reinterpret = "reinterpret"
    guidelines_diff = "guidelines-diff"


@app.command()
def schema(
    record: Annotated[
        RecordKind,
        typer.Option(
            "--record",
            help="report: a full report (lookup --format json, POST /v1/interpret); batch: a "
            "line of tpmt batch --format jsonl, an item of POST /v1/batch (a report with "
            "status ok, or an error record); call: a line of tpmt call --format jsonl/json (a "
            "report or an error record); compact: a line of --compact output (a compact record "
            "or an error record); guidelines, rule, alleles: tpmt guidelines/guidelines "
            "--rule/alleles --format json (guidelines: also GET /v1/guidelines); health: GET "
            "/healthz; reinterpret: a line of tpmt reinterpret --format jsonl; guidelines-diff: "
            "tpmt guidelines --diff OLD NEW --format json.",
        ),
    ] = RecordKind.report,
) -> None:
    """Print the JSON Schema of a record (default: the full report)."""
    from tpmt.records import record_schema

    _echo(json.dumps(record_schema(record.value), indent=2, sort_keys=True))


def _guidelines_diff(
    guidelines_dir: Path | None, names: tuple[str, str], output_format: GuidelinesFormat
) -> str:
    """``tpmt guidelines --diff OLD NEW`` in the format asked for."""
    from tpmt.guideline_diff import guideline_diff
    from tpmt.interpreter import interpreter_for
    from tpmt.render.changes import render_diff_json, render_diff_text, render_diff_tsv

    found = guideline_diff(interpreter_for(guidelines_dir), *names)
    if output_format is GuidelinesFormat.json:
        return render_diff_json(found)
    if output_format is GuidelinesFormat.tsv:
        return render_diff_tsv(found)
    return render_diff_text(found)


class ChangesFormat(StrEnum):
    """Output formats of ``tpmt reinterpret``."""

    tsv = "tsv"
    jsonl = "jsonl"
    html = "html"


CHANGES_EXIT = 6  # tpmt reinterpret: something changed (3 wins when a sample also failed)


@app.command()
def reinterpret(
    input_file: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="Stored results (JSON lines of tpmt batch or tpmt call, full or --compact), "
            "or a batch input file (TSV, CSV or JSONL, as tpmt batch reads; needs --from); "
            "- reads stdin.",
        ),
    ],
    guideline: Annotated[
        str,
        typer.Option(
            "--guideline", "-g", help="The rule set to re-interpret under, e.g. cpic-2025."
        ),
    ],
    from_guideline: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Batch input only: the rule set the results were reported under, e.g. "
            "cpic-2018 (stored results name their own).",
        ),
    ] = None,
    drug: Annotated[
        list[str] | None,
        typer.Option(
            "--drug", "-d", help="Batch input only: drugs for rows without a drugs column."
        ),
    ] = None,
    guidelines_dir: GuidelinesDirOption = None,
    output_format: Annotated[
        ChangesFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ChangesFormat.tsv,
    output: OutputOption = None,
    generated: GeneratedOption = None,
) -> None:
    """Re-run results under a newer rule set and list what changed, per sample.

    Exit 0: nothing changed; 6: something changed; 3: a sample could not be re-interpreted
    (also when others changed: every change is still listed).
    """
    import datetime

    from tpmt.interpreter import interpreter_for
    from tpmt.reinterpret import (
        Reinterpreter,
        first_line,
        is_stored_results,
        reinterpret_rows,
        reinterpret_stored,
    )
    from tpmt.render.changes import Tally, render_changes

    path = _run(lambda: _stdin_copy() if input_file == "-" else Path(input_file))
    if output is not None:
        _run(lambda: refuse_same_file(output, [path]))

    handle = _run(lambda: _open_binary(path, input_file))
    with handle:
        head = _run(lambda: first_line(handle))
        stored = not head.strip() or is_stored_results(head)
        if stored and from_guideline is not None:
            raise typer.BadParameter(
                "--from is for batch input files; stored results name their rule sets",
                param_hint="--from",
            )
        if not stored and from_guideline is None:
            raise typer.BadParameter(
                f"{Path(input_file).name} is not stored results (JSON lines of tpmt batch or "
                "tpmt call); for a batch input file give --from RULE_SET, the rule set its "
                "results were reported under",
                param_hint="--from",
            )
        interpreter = _run(lambda: interpreter_for(guidelines_dir))
        reinterpreter = _run(lambda: Reinterpreter(interpreter, guideline))
        if from_guideline is not None:
            before = _run(lambda: interpreter.library.get(from_guideline))
            if before.source is not reinterpreter.target.source:
                raise typer.BadParameter(
                    f"--from {before.id} is a {before.source} rule set and --guideline "
                    f"{reinterpreter.target.id} a {reinterpreter.target.source} one; compare "
                    "rule sets of one source",
                    param_hint="--from",
                )
            samples = _run(
                lambda: reinterpret_rows(
                    handle, input_file, reinterpreter, before.id, _drug_list(drug)
                )
            )
        else:
            samples = reinterpret_stored(handle, reinterpreter)
        _long_run()
        tally = Tally()
        when = generated or datetime.date.today().isoformat()

        def write_all(target: IO[str]) -> None:
            for chunk in render_changes(samples, output_format.value, tally, when):
                target.write(chunk)

        _run(lambda: _write_output(output, write_all))
    typer.echo(f"tpmt: reinterpret: {tally.summary()}", err=True)
    if tally.failed:
        typer.echo(
            f"tpmt: error: {tally.failed} of {tally.samples} samples could not be "
            "re-interpreted (their error rows say why)",
            err=True,
        )
        raise typer.Exit(InputError.exit_code)
    if tally.changed:
        raise typer.Exit(CHANGES_EXIT)


def main() -> None:
    """Console-script entry point."""
    # tpmt uses no pydantic plugins; skipping their entry-point scan saves ~25 ms per start
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app(prog_name="tpmt")


def _quiet_broken_pipe() -> NoReturn:
    """The reader closed the pipe (``| head``): stop quietly, as Unix tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(BROKEN_PIPE_EXIT)


if __name__ == "__main__":  # pragma: no cover
    main()
