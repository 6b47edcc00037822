"""Rule-set integrity: bundled rule sets match their shipped hashes, aliases name fixed rule
sets, a missing bundled rule set is an error, and user-supplied rule sets are labelled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from conftest import ROOT
from tpmt import guidelines as guidelines_module
from tpmt import interpreter as interpreter_module
from tpmt.cli import app
from tpmt.errors import GuidelineError
from tpmt.guidelines import ALIASES, ENV_VAR, GuidelineLibrary, load_rule_set
from tpmt.rule_set_hashes import BUNDLED_SHA256

runner = CliRunner()
IM_IM = ["--tpmt", "*1/*3A", "--nudt15", "*1/*3"]
USER_NOTE = "user-supplied rule sets, not verified against tpmt's bundled copies"

# (rule set, file, text replaced once, replacement, a lookup that shows the edit, what it shows)
EDITS = [
    (
        "cpic-2025",
        "mercaptopurine.json",
        '"percent_of_standard": {\n            "min": 20,',
        '"percent_of_standard": {\n            "min": 25,',
        ["-g", "cpic", "-d", "mp", *IM_IM],
        ("recommendations", 0, "dosing", 0, "percent_of_standard", "min", 25),
    ),
    (
        "cpic-2025",
        "thioguanine.json",
        "Start at 20-50% of the standard starting dose",
        "Start at 60-90% of the standard starting dose",
        ["-g", "cpic", "-d", "tg", *IM_IM],
        ("recommendations", 0, "text", None, None, None, "Start at 60-90%"),
    ),
    (
        "dpwg-2025",
        "TPMT.json",
        '"*3C": "No function"',
        '"*3C": "Normal function"',
        ["-g", "dpwg", "-d", "aza", "--tpmt", "*3C/*3C"],
        ("genes", "TPMT", "phenotype", "DPWG", None, None, "Normal Metabolizer"),
    ),
    (
        "cpic-2018",
        "manifest.json",
        '"version": "2018 update with',
        '"version": "Edited 2018 update with',
        ["-g", "cpic-2018", "-d", "tg", *IM_IM],
        ("guidelines", 0, "version", None, None, None, "Edited 2018 update"),
    ),
    (
        "cpic-2025",
        "definitions/NUDT15.json",
        '"rsid": "rs186364861"',
        '"rsid": "rs186364862"',
        ["-g", "cpic", "-d", "tg", *IM_IM],
        ("guidelines", 0, "id", None, None, None, "cpic-2025"),
    ),
]
EDIT_IDS = [f"{rule_set}/{file}" for rule_set, file, *_ in EDITS]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the bundled guideline folder."""
    target = tmp_path / "guidelines"
    shutil.copytree(ROOT / "guidelines", target)
    return target


@pytest.fixture
def as_bundled(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    """The CLI's bundled folder is the copy (a fresh default interpreter reads it)."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(guidelines_module, "bundled_directory", lambda: folder)
    monkeypatch.setattr(interpreter_module, "_default", None)
    return folder


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def edit(folder: Path, rule_set: str, file: str, old: str, new: str) -> None:
    path = folder / rule_set / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def one_error_line(result: Result) -> str:
    """The single stderr line of a refused command (no traceback, nothing on stdout)."""
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tpmt: error: ")
    return lines[0]


def test_aliases_name_fixed_rule_sets_that_are_bundled() -> None:
    assert dict(ALIASES) == {"cpic": "cpic-2025", "dpwg": "dpwg-2025"}
    library = GuidelineLibrary(ROOT / "guidelines")
    assert library.origin == "bundled"
    assert library.default_ids() == ["cpic-2025", "dpwg-2025"]
    assert set(ALIASES.values()) <= set(BUNDLED_SHA256)


def test_shipped_hashes_match_the_guideline_folder() -> None:
    found = {
        path.name: load_rule_set(path).sha256
        for path in sorted((ROOT / "guidelines").iterdir())
        if (path / "manifest.json").is_file()
    }
    assert found == dict(BUNDLED_SHA256), (
        "guidelines/ changed but tpmt/rule_set_hashes.py was not regenerated: run "
        "python scripts/rule_set_hashes.py (after the data change has been reviewed) and "
        "commit the module with the data"
    )


# (a) a deleted manifest: the alias, the default and the id all fail; nothing falls back
@pytest.mark.parametrize(
    ("removed", "args"),
    [
        ("cpic-2025", ["-g", "cpic"]),
        ("cpic-2025", ["-g", "CPIC-2025"]),
        ("cpic-2025", []),
        ("dpwg-2025", ["-g", "dpwg"]),
        ("dpwg-2025", []),
    ],
)
def test_missing_bundled_rule_set_is_an_error_never_an_older_one(
    as_bundled: Path, removed: str, args: list[str]
) -> None:
    (as_bundled / removed / "manifest.json").unlink()
    result = run("lookup", *IM_IM, "-f", "json", *args)
    assert result.exit_code == 4
    message = one_error_line(result)
    assert f"bundled rule set {removed}" in message and "is missing" in message
    assert "reinstall tpmt" in message
    assert "cpic-2018" not in message
    if args and args[1] in ALIASES:
        assert f"(alias '{args[1]}')" in message


def test_missing_bundled_rule_set_leaves_the_others_usable(as_bundled: Path) -> None:
    (as_bundled / "cpic-2025" / "manifest.json").unlink()
    result = run("lookup", *IM_IM, "-f", "json", "-g", "cpic-2018")
    assert result.exit_code == 0, result.output
    assert [g["id"] for g in json.loads(result.stdout)["guidelines"]] == ["cpic-2018"]
    listing = run("guidelines")
    assert listing.exit_code == 4
    assert "bundled rule set cpic-2025 is missing" in one_error_line(listing)


def test_missing_alias_target_in_a_user_folder_is_an_error(folder: Path) -> None:
    (folder / "cpic-2025" / "manifest.json").unlink()
    for args in (["-g", "cpic"], []):
        result = run("lookup", *IM_IM, "--guidelines-dir", str(folder), *args)
        assert result.exit_code == 4
        message = one_error_line(result)
        assert "rule set cpic-2025" in message and "is not in the guideline folder" in message
        assert "--guideline" in message


# (b) an edited bundled rule set is refused
@pytest.mark.parametrize(("rule_set", "file", "old", "new", "args", "shows"), EDITS, ids=EDIT_IDS)
def test_edited_bundled_rule_set_is_refused(
    as_bundled: Path,
    rule_set: str,
    file: str,
    old: str,
    new: str,
    args: list[str],
    shows: tuple[object, ...],
) -> None:
    edit(as_bundled, rule_set, file, old, new)
    found = load_rule_set(as_bundled / rule_set).sha256
    shipped = BUNDLED_SHA256[rule_set]
    assert found != shipped
    result = run("lookup", *args, "-f", "json")
    assert result.exit_code == 4
    assert one_error_line(result) == (
        f"tpmt: error: bundled rule set {rule_set} has been modified: content hash "
        f"{found[:12]}..., expected {shipped[:12]}...; reinstall tpmt, or load a deliberately "
        "edited rule set from its own folder with --guidelines-dir DIR (its results are then "
        "labelled user-supplied)"
    )
    with pytest.raises(GuidelineError, match=f"bundled rule set {rule_set} has been modified"):
        GuidelineLibrary(as_bundled, origin="bundled").get(rule_set)


def test_unshipped_rule_set_in_the_bundled_folder_is_refused(as_bundled: Path) -> None:
    shutil.copytree(as_bundled / "cpic-2025", as_bundled / "cpic-2030")
    edit(as_bundled, "cpic-2030", "manifest.json", '"id": "cpic-2025"', '"id": "cpic-2030"')
    result = run("lookup", *IM_IM, "-g", "cpic-2030")
    assert result.exit_code == 4
    message = one_error_line(result)
    assert "rule set cpic-2030 is not one tpmt ships" in message
    assert "--guidelines-dir" in message


# (c) the same edit from a user folder is accepted, used, and labelled
@pytest.mark.parametrize(("rule_set", "file", "old", "new", "args", "shows"), EDITS, ids=EDIT_IDS)
def test_edited_rule_set_from_a_user_folder_is_used_and_labelled(
    folder: Path,
    rule_set: str,
    file: str,
    old: str,
    new: str,
    args: list[str],
    shows: tuple[object, ...],
) -> None:
    edit(folder, rule_set, file, old, new)
    result = run("lookup", *args, "-f", "json", "--guidelines-dir", str(folder))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    sha256 = load_rule_set(folder / rule_set).sha256
    assert [(g["id"], g["sha256"], g["origin"]) for g in report["guidelines"]] == [
        (rule_set, sha256, "user")
    ]
    assert report["warnings"] == [f"{USER_NOTE}: {rule_set} (sha256 {sha256[:12]}...)"]
    *path, expected = shows
    value = report
    for step in path:
        if step is not None:
            value = value[step]
    assert value == expected if isinstance(expected, int) else str(value).startswith(expected)

    text = run("lookup", *args, "--guidelines-dir", str(folder))
    assert text.exit_code == 0, text.output
    assert f"! {USER_NOTE}: {rule_set}" in " ".join(text.stdout.split())


def test_bundled_reports_carry_no_origin_and_no_note() -> None:
    result = run("lookup", *IM_IM, "-f", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert [sorted(g) for g in report["guidelines"]] == [
        ["date", "doi", "id", "pmid", "sha256", "source", "title", "version"]
    ] * 2
    assert report["warnings"] == []
    assert "user-supplied" not in run("lookup", *IM_IM).stdout


def test_environment_folder_is_user_supplied(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(folder))
    assert GuidelineLibrary().origin == "user"
    monkeypatch.setattr(interpreter_module, "_default", None)
    result = run("lookup", *IM_IM, "-f", "json")
    assert result.exit_code == 0, result.output
    assert [g["origin"] for g in json.loads(result.stdout)["guidelines"]] == ["user", "user"]


def test_guidelines_dir_labels_batch_call_and_listings(tmp_path: Path, folder: Path) -> None:
    rows = tmp_path / "rows.tsv"
    rows.write_text("sample_id\ttpmt\tnudt15\nP1\t*1/*1\t*1/*1\nP2\t*1/*3A\t*1/*3\n")
    given = ["--guidelines-dir", str(folder)]
    batch = run("batch", str(rows), "-g", "cpic", "-d", "mp", *given)
    assert batch.exit_code == 0, batch.output
    for line in batch.stdout.splitlines():
        record = json.loads(line)
        assert [g["origin"] for g in record["guidelines"]] == ["user"]
        assert record["warnings"][0].startswith(USER_NOTE)
    compact = run("batch", str(rows), "-g", "cpic", "-d", "mp", "--compact", *given)
    assert compact.exit_code == 0, compact.output
    assert all(
        json.loads(line)["warnings"][0].startswith(USER_NOTE)
        for line in compact.stdout.splitlines()
    )
    tsv = run("batch", str(rows), "-g", "cpic", "-d", "mp", "-f", "tsv", *given)
    assert tsv.exit_code == 0, tsv.output
    lines = tsv.stdout.splitlines()
    warnings_at = lines[0].split("\t").index("warnings")
    assert len(lines) > 2
    assert all(line.split("\t")[warnings_at].startswith(USER_NOTE) for line in lines[1:])
    table = ROOT / "examples" / "call-genotype-table" / "genotypes.tsv"
    called = run("call", str(table), "-f", "jsonl", "-g", "cpic", "-d", "mp", *given)
    assert called.exit_code == 0, called.output
    for line in called.stdout.splitlines():
        assert [g["origin"] for g in json.loads(line)["guidelines"]] == ["user"]

    listing = json.loads(run("guidelines", "-f", "json", *given).stdout)
    assert [(e["id"], e["origin"]) for e in listing] == [
        ("cpic-2018", "user"),
        ("cpic-2025", "user"),
        ("dpwg-2025", "user"),
    ]
    assert "[alias cpic, default, user-supplied, not verified]" in run("guidelines", *given).stdout
    alleles = run("alleles", "--gene", "TPMT", "-g", "cpic", *given)
    assert alleles.exit_code == 0 and "cpic-2025" in alleles.stdout.splitlines()[0]
