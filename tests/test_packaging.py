"""The built wheel (typed package, licence, rule data, metadata) and the vendored engine sdist."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENDORED = ROOT / "vendor" / "durable-rules" / "durable_rules-2.0.28.tar.gz"
VENDORED_SHA256 = "d2ca4b3520ecc5572d49bf9fb77d4bdeccf339ef00313e377a0b4fc8d9f49cff"

CLASSIFIERS = [
    "Development Status :: 3 - Alpha",
    "Intended Audience :: Healthcare Industry",
    "Intended Audience :: Science/Research",
    "Operating System :: OS Independent",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3 :: Only",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
    "Topic :: Scientific/Engineering :: Bio-Informatics",
    "Topic :: Scientific/Engineering :: Medical Science Apps.",
    "Typing :: Typed",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    """The wheel that `pip wheel .` builds from this checkout (about 5 s: hatchling, isolated)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("tpmt-*-py3-none-any.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def metadata(wheel: zipfile.ZipFile) -> Message:
    """The wheel's METADATA headers."""
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return HeaderParser().parsestr(wheel.read(name).decode())


def test_wheel_carries_type_marker_hashes_module_and_licence(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "tpmt/py.typed" in names
    assert wheel.read("tpmt/rule_set_hashes.py") == (ROOT / "tpmt/rule_set_hashes.py").read_bytes()
    (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    text = wheel.read(licence).decode()
    assert text == (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "Copyright 2026 The tpmt authors" in text


def test_wheel_bundles_every_rule_set_file_byte_for_byte(wheel: zipfile.ZipFile) -> None:
    folder = ROOT / "guidelines"
    sources = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    bundled = [n for n in wheel.namelist() if n.startswith("tpmt/_guidelines/")]
    assert sorted(bundled) == sorted(f"tpmt/_guidelines/{name}" for name in sources)
    # README.md + 3 rule sets x (manifest, 2 genes, 3 drugs, 2 allele definitions) + the US
    # label dose data (us-labels-2026/doses.json) and label safety data (safety.json)
    assert len(bundled) == 1 + 3 * 8 + 2
    assert "tpmt/_guidelines/us-labels-2026/doses.json" in bundled
    for name, path in sources.items():
        assert wheel.read(f"tpmt/_guidelines/{name}") == path.read_bytes(), name


def test_wheel_metadata_licence_classifiers_python_and_engine(wheel: zipfile.ZipFile) -> None:
    meta = metadata(wheel)
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.11"
    assert sorted(meta.get_all("Classifier") or []) == CLASSIFIERS
    assert not [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    engine = [r for r in meta.get_all("Requires-Dist") or [] if r.startswith("durable-rules")]
    assert engine == [f"durable-rules @ {VENDORED.as_uri()}#sha256={VENDORED_SHA256}"]


def test_vendored_engine_sdist_is_the_pinned_file_with_the_upstream_patch_only() -> None:
    assert hashlib.sha256(VENDORED.read_bytes()).hexdigest() == VENDORED_SHA256
    assert f"#sha256={VENDORED_SHA256}" in (ROOT / "pyproject.toml").read_text()
    with tarfile.open(VENDORED) as sdist:
        rules_c = sdist.extractfile("durable_rules-2.0.28/src/rulespy/rules.c")
        licence = sdist.extractfile("durable_rules-2.0.28/LICENSE")
        assert rules_c is not None and licence is not None
        source = rules_c.read()
        assert licence.read() == (ROOT / "vendor/durable-rules/LICENSE").read_bytes()
    assert source.count(b"PyEval_CallObject") == 0
    assert source.count(b"result = PyObject_CallObject(callback, arglist);") == 5
    patch = (ROOT / "vendor/durable-rules/python313.patch").read_text()
    assert patch.count("\n-    result = PyEval_CallObject(callback, arglist);") == 5
    assert patch.count("\n+    result = PyObject_CallObject(callback, arglist);") == 5
    changed = [ln for ln in patch.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert len(changed) == 10  # the five call sites, nothing else
