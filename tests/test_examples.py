"""Every example in examples/ is run and compared with its recorded output (golden files).

Each example is a folder with ``args`` (the command line after ``tpmt``), ``stdout``, and
``exit_code``; ``stderr`` too when the command fails. Regenerate on purpose with
``TPMT_UPDATE_GOLDEN=1 pytest tests/test_examples.py``.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app

EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "args").is_file())


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # example arguments name files relative to the repository
    args = shlex.split((example / "args").read_text())
    result = CliRunner().invoke(app, args)
    outputs = {"stdout": result.stdout, "exit_code": f"{result.exit_code}\n"}
    if result.exit_code != 0:
        outputs["stderr"] = result.stderr
    if os.environ.get("TPMT_UPDATE_GOLDEN"):
        for name, text in outputs.items():
            (example / name).write_text(text)
    for name, text in outputs.items():
        assert (example / name).read_text() == text, f"{example.name}/{name} differs"


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("name", ["readme-lookup", "batch-compact"])
def test_readme_shows_the_real_output_of_its_example(name: str) -> None:
    example = ROOT / "examples" / name
    readme = (ROOT / "README.md").read_text()
    command = "$ tpmt " + (example / "args").read_text().strip()
    assert command + "\n" + (example / "stdout").read_text() in readme
