"""Small input files read whole as UTF-8 text, with one clear message for each way that fails."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from tpmt.errors import InputError


def read_text(path: Path, what: str, limit: int | None = None) -> str:
    """The text of ``path`` (gzip-compressed if it ends in .gz; a leading byte-order mark
    dropped), or InputError naming ``what``, the file and the problem, never its content."""
    name = f"{what} {path.name!r}"
    try:
        if path.is_dir():
            raise InputError(f"cannot read {name}: it is a folder")
        with path.open("rb") as handle:
            raw = handle.read() if limit is None else handle.read(limit + 1)
        if path.suffix.lower() == ".gz":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise InputError(f"cannot read {name}: no such file") from None
    except PermissionError:
        raise InputError(f"cannot read {name}: permission denied") from None
    except (OSError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or "its compressed data is truncated or corrupt"
        raise InputError(f"cannot read {name}: {reason}") from None
    if limit is not None and len(raw) > limit:
        raise InputError(f"cannot read {name}: larger than {limit:,} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"cannot read {name}: line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02X}); "
            "save the file as UTF-8"
        ) from None
