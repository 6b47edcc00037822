"""The one cache design: bounded, thread-safe memos of immutable values, one per stage.

Every cache in tpmt is a ``Memo``: a key is computed into a value once, the value is immutable
(frozen dataclasses, tuples, frozen models), and the memo holds at most ``size`` entries; when
full, the older half is dropped (insertion order), so memory stays bounded whatever the input.

Where the memos are, from the engine down to the renderers:

- ``Evaluator`` (tpmt/evaluate.py), keyed by rule-set hash plus what the engine step reads:
  allele → function (per gene, slot and allele), function pair → phenotype (per gene),
  phenotype pair → recommendation and note firings. Their misses are the engine evaluations,
  so a batch costs at most one per distinct allele, function pair and phenotype pair.
- ``Interpreter`` (tpmt/interpreter.py): the rule-set selection per (drugs, guidelines)
  argument; the gene fragment (a frozen ``GeneResult`` and its trace) per gene input as typed;
  the advice fragment (recommendation rows and their trace) per phenotype pair and the
  alternatives that can change it. A Report is composed from these fragments per call.
- Calling (tpmt/calling/run.py): the genes' calls and report fragments per genotype signature.
- Renderers (tpmt/render/batch.py, tpmt/render/calls.py): the rendered text of each fragment,
  keyed by the fragment object itself (``Identity``), for the duration of one output.
- Re-interpretation (tpmt/reinterpret.py): the short form of a stored dosing step, and a stored
  rule id's dosing per rule set.
- Label data (tpmt/label_data.py): each bundled data file, loaded and verified once.
- Batch rows (tpmt/rows.py): the field a column or key name tpmt does not read looks like.

Keys are plain tuples of strings, enums and serial numbers (fragments and rows are numbered
from one counter, never reused), or ``Identity`` wrappers that hold the object they stand for
(so an id is never reused while it is a key). Loaded rule sets and compiled allele matchers are
data loaded once (``GuidelineLibrary``, ``cached_property``), not caches of results.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class Memo(Generic[K, V]):
    """A bounded map from key to a value computed once; safe to share between threads."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self.misses = 0
        self._data: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value for ``key``, computed by ``compute()`` on a miss."""
        found = self._data.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self.misses += 1
            if len(self._data) >= self.size:
                for old in list(itertools.islice(self._data, max(self.size // 2, 1))):
                    del self._data[old]
            return self._data.setdefault(key, value)

    def call(self, key: K, function: Callable[..., V], *args: object) -> V:
        """The value for ``key``, computed by ``function(*args)`` on a miss (no closure needed)."""
        found = self._data.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        return self.get(key, lambda: function(*args))

    def peek(self, key: K) -> V | None:
        """The value for ``key`` if present (the fast path: no closure for ``get`` to call)."""
        return self._data.get(key)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()


class Identity:
    """A key that compares by object identity and keeps the object alive while it is a key."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Identity) and other.value is self.value
