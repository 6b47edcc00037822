"""Every example in examples/ is run and compared with its recorded output (golden files).

Each example is a folder with ``args`` (the command line after ``tpmt``), ``stdout``, and
``exit_code``; ``stderr`` too when the command fails. Regenerate on purpose with
``TPMT_UPDATE_GOLDEN=1 pytest tests/test_examples.py``.

Rule-set content hashes (sha256, printed in full or as their first 16 digits) change with every
edit of the guideline data, so the comparison with the recorded output replaces them with a
placeholder on both sides; a recorded hash may therefore be stale. Separately, every hash the
command prints now must be the live hash (from the library) of the rule set named just before it.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from tpmt.cli import app
from tpmt.guidelines import GuidelineLibrary

EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "args").is_file())
HASH = re.compile(r"\b(?:[0-9a-f]{64}|[0-9a-f]{16})\b")


def without_hashes(text: str) -> str:
    """Text with every sha256-shaped string (64 or 16 hex digits) replaced by a placeholder."""
    return HASH.sub(lambda m: f"<sha256:{len(m.group(0))} digits>", text)


def misprinted_hashes(text: str, live: dict[str, str]) -> list[str]:
    """Hashes that are not the live hash (or its 16-digit prefix) of the nearest rule set named
    before them."""
    rule_set_ids = re.compile("|".join(re.escape(i) for i in sorted(live, key=len, reverse=True)))
    wrong = []
    for match in HASH.finditer(text):
        named = rule_set_ids.findall(text, 0, match.start())
        owner = named[-1] if named else None
        if owner is None or not live[owner].startswith(match.group(0)):
            wrong.append(f"{match.group(0)} (after {owner})")
    return wrong


@pytest.fixture(scope="module")
def live_hashes() -> dict[str, str]:
    library = GuidelineLibrary(ROOT / "guidelines")
    return {rule_set_id: library.get(rule_set_id).sha256 for rule_set_id in library.manifests}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example(
    example: Path, monkeypatch: pytest.MonkeyPatch, live_hashes: dict[str, str]
) -> None:
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
        assert misprinted_hashes(text, live_hashes) == [], f"{example.name}/{name}: stale hash"
        expected = without_hashes((example / name).read_text())
        assert expected == without_hashes(text), f"{example.name}/{name} differs"


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


def test_hash_handling_sees_the_hashes_of_all_three_rule_sets(live_hashes: dict[str, str]) -> None:
    """The placeholder and the live check are not vacuous: the listing prints all three."""
    listing = (ROOT / "examples" / "guidelines" / "stdout").read_text()
    assert sorted(live_hashes) == ["cpic-2018", "cpic-2025", "dpwg-2025"]
    assert len(HASH.findall(listing)) == 3
    assert without_hashes("sha256 " + "0123456789abcdef" * 4) == "sha256 <sha256:64 digits>"
    assert without_hashes("· sha256 44138a209ae1ea12\n") == "· sha256 <sha256:16 digits>\n"
    shown = "cpic-2025 ... sha256 " + live_hashes["cpic-2025"][:16]
    assert misprinted_hashes(shown, live_hashes) == []
    swapped = "cpic-2025 ... sha256 " + live_hashes["dpwg-2025"]
    assert misprinted_hashes(swapped, live_hashes) == [
        f"{live_hashes['dpwg-2025']} (after cpic-2025)"
    ]
    assert misprinted_hashes("sha256 " + "0" * 64, live_hashes) == ["0" * 64 + " (after None)"]


@pytest.mark.parametrize("name", ["readme-lookup", "batch-compact"])
def test_readme_shows_the_real_output_of_its_example(name: str) -> None:
    example = ROOT / "examples" / name
    readme = (ROOT / "README.md").read_text()
    command = "$ tpmt " + (example / "args").read_text().strip()
    shown = command + "\n" + (example / "stdout").read_text()
    assert without_hashes(shown) in without_hashes(readme)
