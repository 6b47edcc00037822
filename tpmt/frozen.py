"""Immutable containers for report models: a read-only dict and the field types built on it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Annotated, Any, NoReturn, TypeVar

from pydantic import AfterValidator

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(dict[K, V]):
    """A dict that refuses changes; it serialises, compares and copies like a dict."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("this mapping is part of a tpmt result and cannot be changed")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __init__(self, *args: object, **kwargs: object) -> None:
        if self:  # construction fills an empty dict once; a second __init__ would change it
            self._refuse()
        super().__init__(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenDict, (dict(self),)

    def __copy__(self) -> FrozenDict[K, V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict[K, V]:
        return FrozenDict({copy.deepcopy(k, memo): copy.deepcopy(v, memo) for k, v in self.items()})


def frozen_dict(value: Mapping[K, V]) -> FrozenDict[K, V]:
    """``value`` as a FrozenDict (itself if it already is one)."""
    return value if type(value) is FrozenDict else FrozenDict(value)


def deep_freeze(value: Any) -> Any:
    """JSON-like data with every dict made a FrozenDict and every list a tuple."""
    if isinstance(value, Mapping):
        return frozen_dict({k: deep_freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(deep_freeze(v) for v in value)
    return value


# A model field holding a read-only mapping (JSON: an object, as for dict)
FrozenMap = Annotated[Mapping[K, V], AfterValidator(frozen_dict)]
# A model field holding read-only JSON-like data
FrozenJson = Annotated[Mapping[str, Any], AfterValidator(deep_freeze)]
