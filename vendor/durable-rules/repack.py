"""Rebuild durable_rules-2.0.28.tar.gz here from the PyPI sdist, with the Python 3.13 patch.

Usage: python vendor/durable-rules/repack.py PATH/TO/PYPI/durable_rules-2.0.28.tar.gz

The PyPI sdist is checked against its published SHA-256; the one change is upstream PR #403
(PyEval_CallObject -> PyObject_CallObject, 5 call sites in src/rulespy/rules.c). Every other
member, with its metadata, is copied unchanged; the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path

PYPI_SHA256 = "053b26f5e48d312d4fa27995243f954671be6eece477f150c059c364eb4d7d61"
PATCHED = "durable_rules-2.0.28/src/rulespy/rules.c"
OLD, NEW, COUNT = b"PyEval_CallObject(", b"PyObject_CallObject(", 5
HERE = Path(__file__).resolve().parent
OUT = HERE / "durable_rules-2.0.28.tar.gz"


def patched_source(data: bytes) -> bytes:
    """rules.c with the upstream replacement, refusing anything but exactly 5 call sites."""
    if data.count(OLD) != COUNT or NEW in data:
        raise SystemExit(f"{PATCHED}: expected {COUNT} calls of {OLD.decode()}, none of {NEW!r}")
    return data.replace(OLD, NEW)


def repack(source: Path) -> bytes:
    """The patched sdist as bytes (uncompressed tar in the original member order, then gzip)."""
    raw = source.read_bytes()
    if hashlib.sha256(raw).hexdigest() != PYPI_SHA256:
        raise SystemExit(f"{source}: not the PyPI durable_rules-2.0.28 sdist (SHA-256 differs)")
    tar_bytes = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as original,
        tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.GNU_FORMAT) as out,
    ):
        for member in original.getmembers():
            content = original.extractfile(member) if member.isfile() else None
            if member.name == PATCHED and content is not None:
                data = patched_source(content.read())
                member.size = len(data)
                content = io.BytesIO(data)
            out.addfile(member, content)
    return gzip.compress(tar_bytes.getvalue(), mtime=0)


def main() -> None:
    """Write the patched sdist next to this script and report its SHA-256."""
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    OUT.write_bytes(repack(Path(sys.argv[1])))
    sys.stdout.write(f"{OUT.name} sha256={hashlib.sha256(OUT.read_bytes()).hexdigest()}\n")


if __name__ == "__main__":
    main()
