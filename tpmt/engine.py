"""The only module that touches durable_rules: one private host, one lock, clean sessions.

See research notes on durable_rules: facts (never events) so every matching rule fires;
actions bound by name through a Host subclass without background timers; one session id
reused and emptied after every evaluation; swallowed action errors surfaced explicitly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from durable import engine as durable_engine

from tpmt.errors import EngineError
from tpmt.frozen import FrozenDict
from tpmt.rules import CompiledRule, CompiledRuleSet, Fact

SESSION = "0"


@dataclass(frozen=True)
class Firing:
    """One rule firing: which rule, what it matched and what it derived."""

    rule_id: str
    stage: str
    premises: tuple[Fact, ...]
    derived: Fact | None


class _Host(durable_engine.Host):  # type: ignore[misc]
    """A durable Host that resolves actions by name and runs no timer threads."""

    def __init__(self) -> None:
        self._actions: dict[str, Callable[[Any], None]] = {}
        super().__init__()

    def get_action(self, name: str) -> Callable[[Any], None]:
        return self._actions[name]

    def _run(self) -> None:  # no background dispatch: actions are synchronous
        pass


def _clean(fact: dict[str, Any]) -> Fact:
    """A fact without the engine's bookkeeping keys (read-only: firings are memoised)."""
    return FrozenDict({k: v for k, v in fact.items() if k not in ("sid", "id", "$s")})


class RuleEngine:
    """Evaluates facts against compiled rule sets, one call at a time."""

    def __init__(self) -> None:
        self._host = _Host()
        self._lock = threading.Lock()
        self._registered: set[str] = set()
        self._firings: list[Firing] | None = None
        self.evaluations = 0

    def register(self, compiled: CompiledRuleSet) -> None:
        """Register a compiled rule set once; its name carries the data digest."""
        with self._lock:
            if compiled.name in self._registered:
                return
            for name, rule in compiled.rules.items():
                self._host._actions[f"{compiled.name}:{name}"] = self._action(rule)
            # a private copy for the engine (a JSON round trip: plain data, faster than deepcopy)
            definition = {
                name: dict(json.loads(json.dumps(when)), run=f"{compiled.name}:{name}")
                for name, when in compiled.definition.items()
            }
            self._host.register_rulesets({compiled.name: definition})
            self._registered.add(compiled.name)

    def _action(self, rule: CompiledRule) -> Callable[[Any], None]:
        """A one-argument closure (durable treats two-argument actions as async)."""

        def action(c: Any) -> None:
            premises = tuple(_clean(fact) for _, fact in sorted(c._m.items()))
            derived = None
            if rule.derive is not None:
                derived = dict(rule.derive)
                if rule.stage == "function":
                    derived["slot"] = premises[0]["slot"]
                derived["by"] = rule.rule_id
                try:
                    c.assert_fact(dict(derived))
                except durable_engine.MessageNotHandledException:
                    pass  # a derived fact no later rule uses is still recorded in the trace
            if self._firings is not None:
                frozen: Fact | None = None if derived is None else FrozenDict(derived)
                self._firings.append(Firing(rule.rule_id, rule.stage, premises, frozen))

        return action

    def evaluate(self, compiled: CompiledRuleSet, facts: Iterable[Fact]) -> list[Firing]:
        """Assert ``facts`` into a clean session and return every rule firing."""
        self.register(compiled)
        with self._lock:
            self._firings = []
            self.evaluations += 1
            try:
                for fact in facts:
                    try:
                        state = self._host.assert_fact(compiled.name, dict(fact, sid=SESSION))
                    except durable_engine.MessageNotHandledException:
                        continue  # no rule uses this fact (e.g. "No Result" under DPWG)
                    if state and "exception" in state:
                        raise EngineError(f"rule action failed: {state['exception']}")
                return self._firings
            finally:
                self._firings = None
                self._reset(compiled.name)

    def _reset(self, name: str) -> None:
        """Retract every fact and drop a session state that recorded an error."""
        try:
            try:
                left = self._host.get_facts(name, SESSION)
            except Exception as exc:
                if "309" in str(exc):  # no session yet (or deleted): nothing to reset
                    return
                raise
            if left:
                self._host.retract_facts(name, left)
            if "exception" in self._host.get_state(name, SESSION):
                self._host.delete_state(name, SESSION)
        except Exception as exc:  # the session is unusable: fail loudly, never reuse it
            raise EngineError(f"could not reset rule session {name}: {exc}") from exc
