"""Output files that are complete or absent: written to a temporary file, renamed on success."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tpmt.errors import OutputError

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "it is a folder",
}


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0, exc.strerror or type(exc).__name__)


def refuse_same_file(output: Path, inputs: list[Path]) -> None:
    """OutputError if ``output`` is one of ``inputs`` (same path or same file by inode)."""
    try:
        target = output.stat()
    except OSError:
        return  # does not exist yet: cannot be an input
    if not stat.S_ISREG(target.st_mode):
        return  # /dev/null, a pipe: writing it destroys nothing
    for source in inputs:
        with contextlib.suppress(OSError):
            if os.path.samestat(target, source.stat()):
                raise OutputError(
                    f"the output {output.name!r} is the input file; "
                    "choose another output path (the input would be destroyed)"
                )


@contextlib.contextmanager
def atomic_output(output: Path) -> Iterator[IO[str]]:
    """A text file for ``output`` that appears there, complete, only if the block succeeds.

    A regular (or not yet existing) target is written to a temporary file in the same folder
    and renamed over it at the end; on any error the temporary file is removed and an existing
    target is left as it was. Special files (/dev/null, a named pipe) are written directly.
    Write failures become OutputError naming the path and the reason.
    """
    try:
        existing = output.stat()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise OutputError(f"cannot write {output.name!r}: {_reason(exc)}") from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise OutputError(f"cannot write {output.name!r}: it is a folder")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        yield from _direct(output)
        return
    folder = output.parent
    try:
        handle = tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            dir=folder,
            prefix=f".{output.name}.",
            suffix=".part",
            delete=False,
        )
    except OSError as exc:
        raise OutputError(f"cannot write {output.name!r}: {_reason(exc)}") from None
    temporary = Path(handle.name)
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if existing is not None:
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, output)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write {output.name!r}: {_reason(exc)}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _direct(output: Path) -> Iterator[IO[str]]:
    try:
        with output.open("w", encoding="utf-8") as handle:
            yield handle
    except OSError as exc:
        raise OutputError(f"cannot write {output.name!r}: {_reason(exc)}") from None
