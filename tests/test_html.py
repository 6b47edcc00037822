"""The printable HTML report, checked in a real headless Chromium: renders, fits A4, prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tpmt.cli import app
from tpmt.interpreter import Interpreter
from tpmt.render.html import render_html, status

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
]
A4_WIDTH_PX = 794  # 210 mm at 96 px/inch
PROBE = """<script>
window.addEventListener('load', () => {
  const wide = [...document.querySelectorAll('table, td, th, p, li')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).length;
  document.title = 'probe:' + document.documentElement.scrollWidth + ':' + wide;
});
</script></body>"""


def browser() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it")
    return CHROMIUM


def run_browser(tmp_path: Path, *args: str) -> str:
    command = [browser(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize(
    ("tpmt", "nudt15"),
    [("*1/*3A", "*1/*3"), ("PM", "*1/*1"), ("*1/*42", None), ("Indeterminate", "Indeterminate")],
)
def test_page_renders_within_a4_and_prints_to_pdf(
    interpreter: Interpreter, tmp_path: Path, tpmt: str, nudt15: str | None
) -> None:
    report = interpreter.interpret(
        tpmt=tpmt, nudt15=nudt15, guidelines=["cpic-2018", "dpwg"] if tpmt == "*1/*42" else None
    )
    report = report.model_copy(update={"sample": "LAB-2026-000123 / MRN 998877665544332211"})
    page = render_html(report, "2026-11-22")
    assert "http://" not in page.split("<body>", 1)[1].replace(
        "http://www.w3.org", ""
    )  # self-contained
    path = tmp_path / "report.html"
    path.write_text(page.replace("</body>", PROBE))
    dom = run_browser(tmp_path, f"--window-size={A4_WIDTH_PX},1123", "--dump-dom", path.as_uri())
    match = re.search(r"<title>probe:(\d+):(\d+)</title>", dom)
    assert match, dom[:500]
    assert int(match.group(1)) <= A4_WIDTH_PX and int(match.group(2)) == 0
    pdf = tmp_path / "report.pdf"
    run_browser(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert re.search(rb"/MediaBox \[0 0 59[45](\.\d+)? 84[12]", data)  # A4 in points
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 1


def test_page_content(interpreter: Interpreter) -> None:
    report = interpreter.interpret(tpmt="*1/*3A", nudt15="PM").model_copy(update={"sample": "S<1>"})
    page = render_html(report, "2026-11-22")
    for fragment in (
        "S&lt;1&gt;",
        "2026-11-22",
        "*3B/*3C",
        "avoid / alternative",
        "reduce dose",
        "PMID 41618934",
        report.guidelines[0].sha256,
        "does not replace",
    ):
        assert fragment in page
    assert {status(r) for r in report.recommendations} >= {"avoid"}


def test_cli_html(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "lookup",
            "--tpmt",
            "*1/*1",
            "--nudt15",
            "*1/*1",
            "-f",
            "html",
            "--sample",
            "P-1",
            "--generated",
            "2026-01-02",
        ],
    )
    assert result.exit_code == 0
    assert result.stdout.startswith("<!DOCTYPE html>") and "P-1" in result.stdout
    assert "standard dose" in result.stdout
