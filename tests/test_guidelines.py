"""Loading and validating guideline data: every problem is a GuidelineError naming the file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import ROOT
from tpmt.errors import GuidelineError
from tpmt.guidelines import GuidelineLibrary, load_rule_set


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "cpic-2025"
    shutil.copytree(ROOT / "guidelines" / "cpic-2025", target)
    return target


def edit(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("file", "change", "fragment"),
    [
        ("TPMT.json", lambda d: d.update(extra=1), "extra: Extra inputs are not permitted"),
        ("TPMT.json", lambda d: d["alleles"].update({"*3A": "Half function"}), "alleles.*3A"),
        (
            "TPMT.json",
            lambda d: d.update(phenotype_rules=d["phenotype_rules"][1:]),
            "no phenotype rule for Normal function + Normal function",
        ),
        (
            "TPMT.json",
            lambda d: d["phenotype_rules"].append(dict(d["phenotype_rules"][0], id="dup")),
            "cover the same pair",
        ),
        ("NUDT15.json", lambda d: d["aliases"]["*2"].update(allele="*22"), "has no function"),
        (
            "azathioprine.json",
            lambda d: d.update(rules=d["rules"][1:]),
            "no rule for TPMT=Normal Metabolizer, NUDT15=Normal Metabolizer",
        ),
        (
            "azathioprine.json",
            lambda d: d["rules"][0].update(advice=["missing"]),
            "unknown advice 'missing'",
        ),
        (
            "azathioprine.json",
            lambda d: d["advice"]["single_reduced"]["dosing"][0].update(percent_of_standard=None),
            "reduce_dose needs",
        ),
        ("manifest.json", lambda d: d.update(id="cpic-2099"), "differs from folder name"),
    ],
)
def test_bad_guideline_data_is_refused_with_file_and_problem(
    copy: Path, file: str, change: Callable[[dict], None], fragment: str
) -> None:
    edit(copy / file, change)
    with pytest.raises(GuidelineError) as caught:
        load_rule_set(copy)
    assert file in str(caught.value)
    assert fragment in str(caught.value)


def test_content_hash_changes_with_the_data(copy: Path) -> None:
    before = load_rule_set(copy).sha256
    assert before == load_rule_set(ROOT / "guidelines" / "cpic-2025").sha256
    edit(
        copy / "thioguanine.json",
        lambda d: d["advice"]["standard"].update(text="Changed text here."),
    )
    assert load_rule_set(copy).sha256 != before


def test_aliases_and_defaults_pick_the_newest_of_each_source() -> None:
    library = GuidelineLibrary(ROOT / "guidelines")
    assert library.aliases() == {"cpic": "cpic-2025", "dpwg": "dpwg-2025"}
    assert library.default_ids() == ["cpic-2025", "dpwg-2025"]
    assert library.resolve(" CPIC ") == "cpic-2025"


def test_missing_folder_is_a_guideline_error(tmp_path: Path) -> None:
    with pytest.raises(GuidelineError, match="not found"):
        GuidelineLibrary(tmp_path / "nowhere")
