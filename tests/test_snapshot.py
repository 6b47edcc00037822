"""Byte-identity: the full JSON of every published pair equals the snapshot taken before the
staged engine and composed reports replaced the one-piece evaluation (issue 9).

The snapshot (tests/data/snapshot/published-pairs.tsv) was written by
scripts/snapshot_pairs.py on commit 966a38f; regenerate it only for a deliberate change of
output, and say so in the commit. The label monitoring added to every recommendation later
(issue 12) is left out here (``Interpreter(monitoring=False)``): it is label data beside the
engine's result, and tests/test_monitoring.py checks that it is the only difference.
"""

from __future__ import annotations

import importlib.util

from conftest import ROOT
from tpmt.interpreter import Interpreter

SNAPSHOT = ROOT / "tests" / "data" / "snapshot" / "published-pairs.tsv"


def _snapshot_module():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location(
        "snapshot_pairs", ROOT / "scripts" / "snapshot_pairs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_published_pair_is_byte_identical_to_the_snapshot() -> None:
    expected = SNAPSHOT.read_text().splitlines()
    # 300,000 reports: more than the memos hold, so eviction and rebuilding are exercised too
    interpreter = Interpreter(ROOT / "guidelines", monitoring=False)
    got = list(_snapshot_module().snapshot_lines(interpreter.interpret))
    assert len(got) == len(expected) == 2183
    differ = [g.split("\t")[:2] for g, e in zip(got, expected, strict=True) if g != e]
    assert differ == []
    pairs = sum(int(line.split("\t")[2]) for line in expected)
    assert pairs == 1225 * 210 + 946 * 45 + 2 * (6 * 6 - 1)
