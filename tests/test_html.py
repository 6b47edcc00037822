"""The printable HTML report, printed to PDF in a real headless Chromium: what is on each page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from tpmt.cli import app
from tpmt.interpreter import Interpreter
from tpmt.models import Report
from tpmt.render.html import condition_actions, css_string, render_html, rule_set_label
from tpmt.vocab import Condition, Drug

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    "--window-size=703,1000",  # the printable width of A4 with 12 mm margins, for the probe
]
# Run before printing, at the printable width; the result becomes the PDF's title.
PROBE = """<script>
window.addEventListener('load', () => {
  const wide = [...document.querySelectorAll('table, td, th, p, li, div, span')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).length;
  const badges = [...document.querySelectorAll('.badge')];
  const broken = badges.filter(b => {
    const box = b.getBoundingClientRect(), cell = b.closest('td').getBoundingClientRect();
    const size = parseFloat(getComputedStyle(b).fontSize);
    return b.getClientRects().length !== 1 || box.height > 2 * size
      || box.right > cell.right + 0.5 || b.scrollWidth > b.clientWidth + 1;
  }).length;
  const width = document.documentElement.scrollWidth;
  document.title = `probe:${width}:${wide}:${badges.length}:${broken}`;
});
</script></body>"""
LONG_ID = "LAB-2026-000123 / MRN 998877665544332211"
RULE_SET_IDS = ("cpic-2025", "dpwg-2025")
GENOTYPES = (  # P1 as in examples/call-genotype-table: presumptive, 41 alternatives
    "sample_id\trsid\tgenotype\n"
    "P1\trs1800462\tC/C\nP1\trs1800460\tC/T\nP1\trs1142345\tT/C\nP1\trs116855232\tC/C\n"
    "P2\trs1142345\tA/G\n"
    'S<3>&"q"\trs1142345\tT/T\nS<3>&"q"\trs116855232\tT/T\n'
)


def browser() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it")
    return CHROMIUM


def print_pdf(tmp_path: Path, page: str) -> tuple[list[str], list[int]]:
    """Print ``page`` in Chromium: the text of each PDF page and the layout probe's numbers."""
    assert "</body>" in page
    html = tmp_path / "report.html"
    html.write_text(page.replace("</body>", PROBE))
    pdf = tmp_path / "report.pdf"
    command = [
        browser(),
        *FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--print-to-pdf={pdf}",
        html.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    reader = PdfReader(pdf)
    for box in (p.mediabox for p in reader.pages):
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 points
    title = (reader.metadata or {}).get("/Title", "")
    match = re.fullmatch(r"probe:(\d+):(\d+):(\d+):(\d+)", str(title))
    assert match, title
    return [p.extract_text() for p in reader.pages], [int(n) for n in match.groups()]


def flat(text: str) -> str:
    """Page text with line breaks as spaces (table cells wrap)."""
    return re.sub(r"\s+", " ", text)


def assert_every_page(pages: list[str], sample_of: list[str]) -> None:
    """Each page names its sample, the rule sets and 'page N of M' (M the PDF's page count)."""
    assert len(pages) == len(sample_of)
    for number, (text, sample) in enumerate(zip(pages, sample_of, strict=True), 1):
        page = flat(text)
        assert sample in page, (number, page[:300])
        for rule_set in RULE_SET_IDS:
            assert rule_set in page, (number, page[:300])
        assert re.search(r"#[0-9a-f]{12}\b", page), number  # short rule-set hash
        assert f"page {number} of {len(pages)}" in page, (number, page[-300:])


def assert_layout(probe: list[int]) -> None:
    """Nothing wider than the printable width or its box; every badge on one line in its cell."""
    width, wide, badges, broken = probe
    assert width <= 703 and wide == 0
    assert badges >= 5 and broken == 0


def lookup_html(*args: str, sample: str = LONG_ID) -> str:
    command = ["lookup", *args, "-f", "html", "--sample", sample, "--generated", "2026-11-22"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_two_drugs_tpmt_poor_colours_mercaptopurine_per_indication(tmp_path: Path) -> None:
    page = lookup_html("--tpmt", "PM", "--nudt15", "*1/*1", "-d", "azathioprine", "-d", "mp")
    pages, probe = print_pdf(tmp_path, page)
    assert_layout(probe)
    assert 2 <= len(pages) <= 4
    assert_every_page(pages, [LONG_ID] * len(pages))
    one = flat(pages[0])
    for expected in (
        "Azathioprine CPIC cpic-2025 Strong Any indication: consider alternative",
        "Mercaptopurine CPIC cpic-2025 Strong Malignancy: reduce dose 10% of the standard dose",
        "Non-malignant conditions: consider alternative consider a non-thiopurine alternative",
        "DPWG dpwg-2025 not graded Any indication: consider alternative or reduce dose",
        "Reviewed and released by",
        "does not replace",
    ):
        assert expected in one, expected
    assert "Details: genes" not in one and "Details: genes" in flat(pages[1])
    # the malignancy row is amber, the non-malignant row red: by the row's own action
    assert re.search(r"Malignancy:</span> <span class='badge amber'>reduce dose<", page)
    assert re.search(r"conditions:</span> <span class='badge red'>consider alternative<", page)


def test_three_drugs_long_report(tmp_path: Path) -> None:
    page = lookup_html("--tpmt", "*3A/*8", "--nudt15", "*2/*5")
    pages, probe = print_pdf(tmp_path, page)
    assert_layout(probe)
    assert 4 <= len(pages) <= 7
    assert_every_page(pages, [LONG_ID] * len(pages))
    one = flat(pages[0])
    for expected in (
        "TPMT *3A/*8 CPIC: Possible Intermediate Metabolizer DPWG: Poor Metabolizer",
        "NUDT15 *3/*5 CPIC: Poor Metabolizer DPWG: Poor Metabolizer",
        "Azathioprine CPIC cpic-2025 Strong Any indication: consider alternative",
        "Mercaptopurine CPIC cpic-2025 Strong Malignancy: reduce dose",
        "Thioguanine CPIC cpic-2025 Strong Any indication: reduce dose 10% of the standard dose",
        "Reviewed and released by",
    ):
        assert expected in one, expected
    assert one.count("consider alternative or reduce dose") == 3  # DPWG, each drug
    assert "*2/*5 (diplotype)" in flat(" ".join(pages[1:]))  # the input, in the details


def test_phenotype_only(tmp_path: Path) -> None:
    page = lookup_html("--tpmt", "IM", "--nudt15", "IM", sample="P-9")
    pages, probe = print_pdf(tmp_path, page)
    assert_layout(probe)
    assert_every_page(pages, ["P-9"] * len(pages))
    one = flat(pages[0])
    assert one.count("phenotype given (not genotyped here)") == 2
    for drug in ("Azathioprine", "Mercaptopurine", "Thioguanine"):
        assert drug in one
    details = flat(" ".join(pages[1:]))
    assert "the positions and method behind it are not known to tpmt" in details


def call_html(tmp_path: Path, *args: str) -> tuple[int, str]:
    table = tmp_path / "genotypes.tsv"
    table.write_text(GENOTYPES)
    command = ["call", str(table), "-f", "html", "--generated", "2026-11-22", *args]
    result = CliRunner().invoke(app, command)
    return result.exit_code, result.stdout


def sample_of_pages(pages: list[str], names: list[str]) -> list[str]:
    """Which sample each page's header names ('Sample: NAME' first on the page)."""
    found = []
    for text in pages:
        match = re.match(r"Sample: (.*)", text)
        found.append(match.group(1).strip() if match else "")
    assert set(found) - {""} <= set(names)
    return found


def test_call_three_samples_one_file(tmp_path: Path) -> None:
    names = ["P1", "P2", 'S<3>&"q"']
    code, page = call_html(tmp_path)
    assert code == 0
    assert 'S<3>&"q"' not in page and "S&lt;3&gt;&amp;&quot;q&quot;" in page
    pages, probe = print_pdf(tmp_path, page)
    assert_layout(probe)
    index = flat(pages[0])
    assert "Sample index: 3 sample(s)" in index and '1. P1 2. P2 3. S<3>&"q"' in index
    headers = sample_of_pages(pages, names)
    assert headers[0] == "" and all(headers[1:])  # the index names the samples in its body
    assert_every_page(pages, ["Sample index", *headers[1:]])
    starts = [headers.index(name) for name in names]
    assert starts[0] == 1 and starts == sorted(starts)
    assert headers[1:] == sorted(headers[1:], key=names.index)  # contiguous sections
    for name, start in zip(names, starts, strict=True):
        first = flat(pages[start])
        assert f"Sample ID {name}" in first and "Reviewed and released by" in first
        for drug in ("Azathioprine", "Mercaptopurine", "Thioguanine"):
            assert drug in first
    assert "*1/*3A (presumptive)" in flat(pages[starts[0]])
    assert "21 alternative diplotype(s)" in flat(pages[starts[0]])


def test_call_many_alternatives_and_a_failed_sample(tmp_path: Path) -> None:
    table = tmp_path / "genotypes.tsv"
    code, page = call_html(tmp_path, "--sample", "P1")
    assert code == 0
    pages, probe = print_pdf(tmp_path, page)
    assert_layout(probe)
    assert len(pages) >= 6  # the alternatives and their advice run over several pages
    assert_every_page(pages, ["Sample index: 1 sample(s)"] + ["Sample: P1"] * (len(pages) - 1))
    details = flat(" ".join(pages[2:]))
    assert "*3B/*3C phase CPIC PM, DPWG PM" in details
    assert details.count("More severe advice the evidence leaves possible") >= 6
    table.write_text(GENOTYPES + "P4\trs1142345\tX/Y\n")
    result = CliRunner().invoke(app, ["call", str(table), "-f", "html", "--sample", "P4"])
    assert result.exit_code == 3
    assert "Sample P4: could not be interpreted" in result.stdout
    assert result.stdout.rstrip().endswith("</body></html>")


def test_condition_actions_follow_each_rows_own_advice(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="PM", nudt15="*1/*1", drugs=["mercaptopurine"])
    cpic = [r for r in report.recommendations if r.guideline == "cpic-2025"]
    got = [(a.condition, a.css, a.label) for a in condition_actions(cpic)]
    assert got == [
        (Condition.MALIGNANCY, "amber", "reduce dose"),
        (Condition.NONMALIGNANCY, "red", "consider alternative"),
    ]
    dpwg = [r for r in report.recommendations if r.guideline == "dpwg-2025"]
    assert [(a.condition, a.css, a.label) for a in condition_actions(dpwg)] == [
        (Condition.ANY, "red", "consider alternative or reduce dose")
    ]


def test_condition_without_advice_is_left_out(interpreter: Interpreter) -> None:
    # DPWG azathioprine for TPMT IM advises for non-malignant conditions only
    report = interpreter.interpret(tpmt="IM", nudt15="*1/*1", drugs=["azathioprine"])
    dpwg = [r for r in report.recommendations if r.guideline == "dpwg-2025"]
    got = [(a.condition, a.css, a.label, a.doses) for a in condition_actions(dpwg)]
    assert got == [
        (
            Condition.NONMALIGNANCY,
            "amber",
            "reduce dose",
            "50% of the standard dose, if the standard dose is ≥1.5 mg/kg/day, daily",
        )
    ]
    normal = interpreter.interpret(tpmt="NM", nudt15="NM", drugs=["thioguanine"])
    assert [
        (a.condition, a.css, a.label, a.doses)
        for a in condition_actions(
            [r for r in normal.recommendations if r.guideline == "dpwg-2025"]
        )
    ] == [(Condition.ANY, "green", "standard dose", "standard dose, daily")]


def test_css_string_escapes_everything_but_letters() -> None:
    assert css_string('A b</style>"\\') == '"A b\\3c \\2f style\\3e \\22 \\5c "'


def test_page_content_escaped(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="*1/*3A", nudt15="PM").model_copy(update={"sample": "S<1>"})
    page = render_html(report, "2026-11-22")
    for fragment in (
        "S&lt;1&gt;",
        "Sample\\3a  S\\3c 1\\3e ",  # in the page header
        "2026-11-22",
        "*3B/*3C",
        "consider alternative",
        "PMID 41618934",
        report.guidelines[0].sha256,
        report.guidelines[0].sha256[:12],
        "does not replace",
    ):
        assert fragment in page, fragment
    assert "S<1>" not in page
    assert "http://" not in page.split("<body>", 1)[1]  # self-contained


def test_no_recommendations_still_renders(interpreter: Interpreter) -> None:
    report: Report = interpreter.interpret(tpmt="*1/*1", nudt15="*1/*1", drugs=[Drug.THIOGUANINE])
    page = render_html(report.model_copy(update={"recommendations": ()}), "2026-11-22")
    assert "No recommendations." in page


def test_cli_html() -> None:
    page = lookup_html("--tpmt", "*1/*1", "--nudt15", "*1/*1", sample="P-1")
    assert page.startswith("<!DOCTYPE html>") and "P-1" in page
    assert "<span class='badge green'>standard dose</span>" in page


def test_no_genotype_based_dose_is_grey_and_says_so(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="Indeterminate", nudt15="Indeterminate", drugs=["aza"])
    got = {
        guideline: [(a.condition, a.css, a.label) for a in condition_actions(rows)]
        for guideline in RULE_SET_IDS
        for rows in [[r for r in report.recommendations if r.guideline == guideline]]
    }
    assert got == {
        "cpic-2025": [(Condition.ANY, "grey", "measure TPMT activity + monitor closely")],
        "dpwg-2025": [(Condition.ANY, "grey", "no dosing guidance")],
    }


def test_rule_set_label(interpreter: Interpreter) -> None:
    info = interpreter.interpret(tpmt="NM").guidelines[0]
    assert rule_set_label(info) == f"cpic-2025 {info.version} #{info.sha256[:12]}"
    user = info.model_copy(update={"origin": "user"})
    assert rule_set_label(user).endswith(f"#{info.sha256[:12]} (user-supplied)")
