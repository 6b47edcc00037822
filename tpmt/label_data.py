"""Label data files beside the rule sets (doses, co-medication, monitoring): read from the
bundled folder, verified against their shipped hash before parsing, validated, loaded once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

from tpmt.cache import Memo
from tpmt.errors import GuidelineError


class _WithId(Protocol):
    id: str


M = TypeVar("M", bound=BaseModel)
_BUNDLED: Memo[tuple[str, str], object] = Memo("bundled label data", 16)


@dataclass(frozen=True)
class LabelData(Generic[M]):
    """Validated label data with its content hash and origin."""

    data: M
    sha256: str
    origin: Literal["bundled", "user"]


def load_label_data(
    directory: Path, filename: str, model: type[M], shipped_sha256: str | None, what: str
) -> LabelData[M]:
    """Load and validate ``directory/filename``; with ``shipped_sha256`` the content must match
    it (GuidelineError otherwise, before anything is parsed)."""
    from tpmt.guidelines import HASH_SHOWN, _read_bytes, _read_model, content_hash

    path = directory / filename
    raw = _read_bytes(path)
    sha256 = content_hash({filename: raw})
    if shipped_sha256 is not None and sha256 != shipped_sha256:
        raise GuidelineError(
            f"bundled {what} {directory.name} has been modified: content hash "
            f"{sha256[:HASH_SHOWN]}..., expected {shipped_sha256[:HASH_SHOWN]}...; reinstall tpmt"
        )
    data = _read_model(path, model, raw)
    data_id = getattr(data, "id", None)
    if data_id != directory.name:
        raise GuidelineError(f"{path}: id {data_id!r} differs from folder name")
    return LabelData(data, sha256, "user" if shipped_sha256 is None else "bundled")


def bundled_label_data(
    data_id: str, filename: str, model: type[M], shipped: Mapping[str, str], what: str
) -> LabelData[M]:
    """The bundled copy, verified against its shipped hash (loaded once, on first use)."""
    from tpmt.guidelines import bundled_directory

    def load() -> LabelData[M]:
        sha256 = shipped.get(data_id)
        if sha256 is None:
            raise GuidelineError(f"{what} {data_id} has no shipped hash; reinstall tpmt")
        return load_label_data(bundled_directory() / data_id, filename, model, sha256, what)

    return _BUNDLED.get((data_id, filename), load)  # type: ignore[return-value]
