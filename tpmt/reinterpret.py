"""Re-interpretation after a guideline update: re-run stored results under a newer rule set.

Each stored result (a line of ``tpmt batch``/``tpmt call`` JSON-lines output, full or compact)
is re-run from its own inputs under the target rule set: a typed diplotype or phenotype as it
was given; a diplotype called from variant data as called, with the other diplotypes the call
left possible (phase, untested positions, low quality) and its presumptive flag and minimum-panel
gaps carried over, so the more severe alternatives are re-derived under the new rules. The
stored rows of the target's guideline source (CPIC or DPWG) are then compared with the new ones
(see tpmt/guideline_diff.py for what counts as a difference) and every difference becomes a
ChangeRecord; a sample without one gets an ``unchanged`` record, a sample that cannot be re-run
an ``error`` record, so every input line is accounted for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from tpmt.batch import drug_list
from tpmt.cache import Memo
from tpmt.errors import InputError, TpmtError
from tpmt.guideline_diff import dosing_key, dosing_summary, strip_note
from tpmt.guideline_schema import DosingStep
from tpmt.guidelines import RuleSet
from tpmt.interpreter import Interpreter
from tpmt.models import CallEvidence, Report
from tpmt.outcome import Candidate, GeneOutcome, typed_outcome
from tpmt.parse import DiplotypeInput, NotTested, PhenotypeInput, parse_gene_input
from tpmt.records import ChangeRecord
from tpmt.rows import read_rows
from tpmt.vocab import Drug, Gene, InputType, Phenotype

Resolver = Callable[[str], tuple[str, ...] | None]  # rule id → its dosing (None: unknown)
RECALL_NOTE = (
    "called from variant data: re-run from the stored call (the allele definitions of the "
    "time); run tpmt call on the original file to apply new definitions"
)
Json = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One recommendation row as compared: strength, dosing and the more severe dosings."""

    rule_id: str
    lookup: tuple[str, ...]
    strength: str | None
    dosing: tuple[str, ...]
    alternatives: tuple[tuple[str, ...], ...]  # the more severe rows' dosings (or rule ids)


@dataclass(frozen=True)
class Snapshot:
    """What a result says under one guideline source: phenotypes, alternatives, rows."""

    guideline: str
    phenotypes: dict[Gene, str]
    alternatives: dict[Gene, dict[str, str]]  # "diplotype (basis)" → phenotype
    rows: dict[tuple[Drug, int], Row]


@dataclass(frozen=True)
class Stored:
    """A stored ok record, read: its sample, inputs, drugs and rule sets."""

    line: int
    sample: str
    record: Json
    compact: bool
    rule_sets: dict[str, str]  # id → sha256 (16 digits for compact records)

    def inputs(self) -> dict[Gene, str | None]:
        """Each gene's result as re-run: typed input, else the called diplotype."""
        out: dict[Gene, str | None] = {}
        for gene in Gene:
            result = self.record["genes"].get(gene.value) or {}
            if self.compact:
                shown = result.get("diplotype") or next(iter(result.get("phenotype", {}).values()))
                out[gene] = None if shown == Phenotype.NO_RESULT else shown
            elif result.get("input_type") == InputType.VARIANTS:
                out[gene] = result.get("diplotype") or _variant_phenotype(result)
            else:
                out[gene] = result.get("input")
        return out

    def drugs(self) -> list[str]:
        """The drugs of the stored recommendations, in report order."""
        recommendations = self.record["recommendations"]
        if self.compact:
            names = [rule_id.partition(":")[2].partition(".")[0] for rule_id in recommendations]
        else:
            names = [rec["drug"] for rec in recommendations]
        return list(dict.fromkeys(names))

    def called(self) -> bool:
        """Whether any gene was called from variant data (or, compact, looks so)."""
        genes = self.record["genes"].values()
        if self.compact:
            return any(
                g.get("presumptive")
                or g.get("limitations")
                or any(_from_call(a) for a in g.get("alternatives", ()))
                for g in genes
            )
        return any(g.get("input_type") == InputType.VARIANTS for g in genes)


def _from_call(alternative: Json) -> bool:
    """Whether an alternative can only come from variant data (untested positions, low
    quality, a novel allele) rather than from a rule set's tables (phase look-alikes, an
    allele of unknown function assumed to have none)."""
    basis = alternative.get("basis")
    return basis in ("untested", "low_quality") or (
        basis == "unknown_function" and not alternative.get("assumption")
    )


def _variant_phenotype(result: Json) -> str | None:
    """A called gene without a diplotype: Indeterminate if anything was seen, else untested."""
    phenotypes = set(result.get("phenotype", {}).values())
    return None if phenotypes <= {Phenotype.NO_RESULT} else Phenotype.INDETERMINATE.value


def _alternative_key(alternative: Json) -> str:
    assumption = alternative.get("assumption")
    why = alternative.get("basis", "phase") + (f": {assumption}" if assumption else "")
    return f"{alternative['diplotype']} ({why})"


_SHORT: Memo[str, str] = Memo("short dosing of stored steps", 4_096)


def _short(step_json: str) -> str:
    from tpmt.compact import short_dosing

    return _SHORT.get(
        step_json,
        lambda: strip_note(short_dosing(DosingStep.model_validate_json(step_json))),
    )


def _summary(steps: Iterable[Any]) -> tuple[str, ...]:
    """Dosing steps (full: objects; compact: short strings) in short form without [note]."""
    return tuple(
        strip_note(s) if isinstance(s, str) else _short(json.dumps(s, sort_keys=True))
        for s in steps
    )


def _show_dosing(dosing: tuple[str, ...]) -> str:
    return "; ".join(dosing) if dosing else "no dosing"


def snapshot(
    record: Json,
    source: str,
    guideline: str,
    compact: bool,
    resolve: Callable[[str], tuple[str, ...] | None] | None = None,
) -> Snapshot:
    """The parts of a record (full or compact JSON) that belong to one guideline source.

    A compact record names its more severe rows by rule id only; ``resolve`` gives their
    dosing (None: unknown, and the rows are then compared by id).
    """
    phenotypes: dict[Gene, str] = {}
    alternatives: dict[Gene, dict[str, str]] = {}
    for gene in Gene:
        result = record["genes"].get(gene.value) or {}
        phenotypes[gene] = result.get("phenotype", {}).get(source, Phenotype.NO_RESULT.value)
        alternatives[gene] = {
            _alternative_key(a): a["phenotype"].get(source, "")
            for a in result.get("alternatives", ())
        }
    rows: dict[tuple[Drug, int], Row] = {}
    counts: dict[Drug, int] = {}
    for rule_id, rec in _recommendations(record, compact):
        if not rule_id.startswith(guideline + ":"):
            continue
        drug = Drug(rule_id.partition(":")[2].partition(".")[0])
        index = counts[drug] = counts.get(drug, -1) + 1
        if compact:
            more = _compact_more(rec.get("alternatives", ()), resolve)
            row = Row(rule_id, (), rec.get("strength"), _summary(rec["dosing"]), more)
        else:
            more = tuple(_summary(a["dosing"]) for a in rec["alternatives"])
            lookup = tuple(rec["lookup"].get(g.value, "") for g in Gene)
            row = Row(rule_id, lookup, rec.get("classification"), _summary(rec["dosing"]), more)
        rows[(drug, index)] = row
    return Snapshot(guideline, phenotypes, alternatives, rows)


def _compact_more(
    rule_ids: Iterable[str], resolve: Callable[[str], tuple[str, ...] | None] | None
) -> tuple[tuple[str, ...], ...]:
    """A compact row's more severe rows, as dosing when every one resolves, else as ids."""
    dosings = [None if resolve is None else resolve(rule_id) for rule_id in rule_ids]
    if all(d is not None for d in dosings):
        return tuple(d for d in dosings if d is not None)
    return tuple((_local(rule_id),) for rule_id in rule_ids)


def _recommendations(record: Json, compact: bool) -> Iterator[tuple[str, Json]]:
    if compact:
        yield from record["recommendations"].items()
    else:
        for rec in record["recommendations"]:
            yield rec["rule_id"], rec


def _guideline_source(interpreter: Interpreter, rule_set_id: str) -> str:
    manifest = interpreter.library.manifests.get(rule_set_id)
    return manifest.source.value if manifest else rule_set_id.partition("-")[0].upper()


def read_stored(line: int, record: Json) -> Stored:
    """A stored ok record (full or compact); InputError naming what is missing."""
    try:
        sample = str(record.get("sample") or f"line {line}")
        genes, recommendations = record["genes"], record["recommendations"]
        if not isinstance(genes, dict):
            raise TypeError
        compact = isinstance(recommendations, dict)
        if compact:
            rule_sets = {str(k): str(v) for k, v in record["guidelines"].items()}
        else:
            rule_sets = {g["id"]: g["sha256"] for g in record["guidelines"]}
    except (KeyError, TypeError, AttributeError):
        raise InputError(
            f"line {line}: not a tpmt batch or call record (it needs genes, recommendations and "
            "guidelines, as tpmt batch/call --format jsonl write them)"
        ) from None
    return Stored(line, sample, record, compact, rule_sets)


class Reinterpreter:
    """Re-runs results under one target rule set and lists what changed."""

    def __init__(self, interpreter: Interpreter, target: str) -> None:
        self.interpreter = interpreter
        self.target: RuleSet = interpreter.library.get(target)
        self.source = self.target.source.value
        self._resolvers: dict[tuple[str, str], Resolver | None] = {}

    def stored(self, stored: Stored) -> list[ChangeRecord]:
        """The changes for one stored ok record (error records for what cannot be re-run)."""
        inputs = stored.inputs()
        base = self._base(stored.line, stored.sample, inputs)
        before_id = next(
            (
                rule_set_id
                for rule_set_id in stored.rule_sets
                if _guideline_source(self.interpreter, rule_set_id) == self.source
            ),
            None,
        )
        if before_id is None:
            shown = ", ".join(stored.rule_sets) or "none"
            return [
                _record(
                    base,
                    "error",
                    note=f"the stored result has no {self.source} rule set to compare with "
                    f"{self.target.id} (it used {shown})",
                )
            ]
        base["guideline_before"], base["guideline_after"] = before_id, self.target.id
        if before_id == self.target.id and self.target.sha256.startswith(
            stored.rule_sets[before_id]
        ):
            return [_record(base, "unchanged", note=f"same rule set ({self.target.id})")]
        if stored.compact and stored.called():
            return [
                _record(
                    base,
                    "error",
                    note="a compact record of a call keeps too little to re-run (no call "
                    "evidence); re-run tpmt call on the original file, or store full records",
                )
            ]
        try:
            report = self._rerun(stored, inputs)
        except TpmtError as exc:
            return [_record(base, "error", note=f"cannot re-run under {self.target.id}: {exc}")]
        key = (before_id, stored.rule_sets[before_id])
        if key not in self._resolvers:
            self._resolvers[key] = self._resolver(*key)
        resolve = self._resolvers[key]
        before = snapshot(stored.record, self.source, before_id, stored.compact, resolve)
        after = snapshot(_report_json(report), self.source, self.target.id, False)
        if stored.compact and resolve is None:
            after = _compact_alternatives(after, report)
        changes = compare(base, before, after)
        if changes and not stored.compact and stored.called():
            changes = [c.model_copy(update={"note": c.note or RECALL_NOTE}) for c in changes]
        return changes or [_record(base, "unchanged", note=f"no change under {self.target.id}")]

    def fresh(
        self,
        line: int,
        sample: str,
        tpmt: str | None,
        nudt15: str | None,
        before_id: str,
        drugs: list[str] | None,
    ) -> list[ChangeRecord]:
        """The changes for one batch input row, interpreted under ``before_id`` and the target."""
        base = self._base(line, sample, {Gene.TPMT: tpmt, Gene.NUDT15: nudt15})
        try:
            report = self.interpreter.interpret(tpmt, nudt15, drugs, [before_id], sample)
        except TpmtError as exc:
            return [_record(base, "error", note=str(exc))]
        record = _report_json(report)
        record["status"] = "ok"
        return self.stored(read_stored(line, record))

    def _resolver(self, rule_set_id: str, sha256: str) -> Resolver | None:
        """Rule id → its dosing, from the library's copy of a stored rule set (if the same)."""
        try:
            rule_set = self.interpreter.library.get(rule_set_id)
        except TpmtError:
            return None
        if not rule_set.sha256.startswith(sha256):
            return None

        resolved: Memo[str, tuple[str, ...] | None] = Memo("stored rule dosing", 4_096)

        def lookup(rule_id: str) -> tuple[str, ...] | None:
            found = rule_set.recommendation_rules.get(_local(rule_id))
            if found is None:
                return None
            drug, rule = found
            advice = rule_set.drugs[drug].advice
            return dosing_summary([step for key in rule.advice for step in advice[key].dosing])

        def resolve(rule_id: str) -> tuple[str, ...] | None:
            return resolved.call(rule_id, lookup, rule_id)

        return resolve

    def _base(self, line: int, sample: str, inputs: Mapping[Gene, str | None]) -> Json:
        return {
            "sample": sample,
            "line": line,
            "tpmt": inputs.get(Gene.TPMT),
            "nudt15": inputs.get(Gene.NUDT15),
        }

    def _rerun(self, stored: Stored, inputs: dict[Gene, str | None]) -> Report:
        interpreter = self.interpreter
        drugs = stored.drugs() or None
        if not stored.called():
            return interpreter.interpret(
                inputs[Gene.TPMT], inputs[Gene.NUDT15], drugs, [self.target.id], stored.sample
            )
        selection = interpreter.selection(drugs, [self.target.id])
        genes = {}
        for gene in Gene:
            outcome = self._outcome(gene, stored.record["genes"].get(gene.value) or {})
            Interpreter._check_alleles(outcome.gene_input, selection.rule_sets)
            genes[gene] = (outcome, interpreter.gene_fragment(outcome, selection))
        return interpreter.compose_called(genes, selection).report(stored.sample)

    def _outcome(self, gene: Gene, result: Json) -> GeneOutcome:
        """A gene's outcome rebuilt from its stored result (typed, or called from variants)."""
        if result.get("input_type") != InputType.VARIANTS:
            raw = result.get("input")
            return typed_outcome(parse_gene_input(raw, gene), raw, [self.target])
        evidence = result.get("evidence")
        proof = None if evidence is None else CallEvidence.model_validate(evidence)
        panel = () if proof is None else tuple(a for a, ok in proof.minimum_panel.items() if not ok)
        candidates = tuple(
            Candidate(_pair(a["diplotype"]), a["basis"])
            for a in result.get("alternatives", ())
            if not (a.get("basis") == "unknown_function" and a.get("assumption"))
        )
        common: Json = {
            "raw": None,
            "input_type": InputType.VARIANTS,
            "candidates": candidates,
            "untested_panel": panel,
            "limitations": tuple(result.get("limitations", ())),
            "evidence": proof,
        }
        diplotype = result.get("diplotype")
        if diplotype is None:
            shown = _variant_phenotype(result)
            gene_input = (
                NotTested(gene) if shown is None else PhenotypeInput(gene, Phenotype(shown))
            )
            return GeneOutcome(gene, gene_input, **common)
        return GeneOutcome(
            gene,
            DiplotypeInput(gene, _pair(diplotype)),
            diplotype=diplotype,
            presumptive=bool(result.get("presumptive")),
            **common,
        )


def _pair(diplotype: str) -> tuple[str, str]:
    first, _, second = diplotype.partition("/")
    return first, second


def _report_json(report: Report) -> Json:
    data: Json = report.model_dump(mode="json", exclude={"trace"})
    return data


def _compact_alternatives(after: Snapshot, report: Report) -> Snapshot:
    """The new rows with their alternatives as local rule ids (how compact records list them)."""
    rows = {}
    for key, row in after.rows.items():
        rec = next(r for r in report.recommendations if r.rule_id == row.rule_id)
        more = tuple((_local(a.rule_id),) for a in rec.alternatives)
        rows[key] = Row(row.rule_id, (), row.strength, row.dosing, more)
    return Snapshot(after.guideline, after.phenotypes, after.alternatives, rows)


def _record(base: Json, change_type: str, **fields: Any) -> ChangeRecord:
    return ChangeRecord.model_validate({**base, "change_type": change_type, **fields})


def compare(base: Json, before: Snapshot, after: Snapshot) -> list[ChangeRecord]:
    """Every difference between two snapshots of one sample, gene rows first."""
    changes = []
    for gene in Gene:
        old, new = before.phenotypes[gene], after.phenotypes[gene]
        if old != new:
            changes.append(_record(base, "phenotype", gene=gene, before=old, after=new))
        olds, news = before.alternatives[gene], after.alternatives[gene]
        for key in dict.fromkeys([*olds, *news]):
            if olds.get(key) != news.get(key):
                changes.append(
                    _record(
                        base,
                        "alternative",
                        gene=gene,
                        before=f"{key}: {olds[key]}" if key in olds else "none",
                        after=f"{key}: {news[key]}" if key in news else "none",
                    )
                )
    for place in dict.fromkeys([*before.rows, *after.rows]):
        old_row, new_row = before.rows.get(place), after.rows.get(place)
        changes.extend(_row_changes(base, place[0], old_row, new_row))
    return changes


def _row_changes(base: Json, drug: Drug, old: Row | None, new: Row | None) -> list[ChangeRecord]:
    fields: Json = {
        "drug": drug,
        "rule_before": old and old.rule_id,
        "rule_after": new and new.rule_id,
    }
    if old is None or new is None:
        shown = [
            None if r is None else f"{_show_dosing(r.dosing)} ({r.strength})" for r in (old, new)
        ]
        return [_record(base, "advice", before=shown[0], after=shown[1], **fields)]
    out = []
    same_lookup = _local(old.rule_id) == _local(new.rule_id)
    if dosing_key(old.dosing) != dosing_key(new.dosing):
        kind = "advice" if same_lookup else "phenotype_advice"
        out.append(
            _record(
                base,
                kind,
                before=f"{_show_dosing(old.dosing)} ({old.strength or 'not graded'})",
                after=f"{_show_dosing(new.dosing)} ({new.strength or 'not graded'})",
                **fields,
            )
        )
    elif old.strength != new.strength:
        out.append(
            _record(
                base,
                "strength",
                before=old.strength or "not graded",
                after=new.strength or "not graded",
                **fields,
            )
        )
    if _more_severe(old) != _more_severe(new):
        out.append(
            _record(
                base,
                "alternative_advice",
                before=_show_more(old),
                after=_show_more(new),
                **fields,
            )
        )
    return out


def _more_severe(row: Row) -> set[Any]:
    """What a row's more severe alternatives ask for (as dosing_key compares dosing)."""
    return {dosing_key(dosing) for dosing in row.alternatives}


def _show_more(row: Row) -> str:
    shown = sorted({_show_dosing(dosing) for dosing in row.alternatives})
    return " | ".join(shown) or "none"


def _local(rule_id: str) -> str:
    """'cpic-2018:azathioprine.IM-NM' → 'azathioprine.IM-NM' (the row's phenotype pair)."""
    return rule_id.partition(":")[2]


def first_line(handle: IO[bytes]) -> bytes:
    """The first non-blank line of a seekable binary stream, which is left at its start."""
    found = b""
    for line in handle:
        if line.strip():
            found = line
            break
    handle.seek(0)
    return found


def is_stored_results(first_line: bytes) -> bool:
    """Whether a file's first line is a tpmt result record (it has a status), not batch input."""
    text = first_line.decode("utf-8-sig", errors="replace").strip()
    if not text.startswith("{"):
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and "status" in data


def reinterpret_stored(
    handle: IO[bytes], reinterpreter: Reinterpreter
) -> Iterator[list[ChangeRecord]]:
    """The changes for each line of a stored-results stream, in order (one list per line)."""
    number = 0
    for raw in handle:
        number += 1
        if not raw.strip():
            continue
        yield _stored_line(number, raw, reinterpreter)


def _stored_line(number: int, raw: bytes, reinterpreter: Reinterpreter) -> list[ChangeRecord]:
    base = {"sample": f"line {number}", "line": number}
    try:
        record = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return [_record(base, "error", note=f"line {number} is not UTF-8 text")]
    except ValueError:
        return [_record(base, "error", note=f"line {number} is not valid JSON")]
    if not isinstance(record, dict):
        return [_record(base, "error", note=f"line {number} is not a JSON object")]
    if isinstance(record.get("sample"), str) and record["sample"]:
        base["sample"] = record["sample"]
    if record.get("status") == "error":
        sample = str(base["sample"])
        message = str(record.get("message") or "no message")
        return [
            _record(
                {**base, "sample": sample},
                "error",
                note=f"the stored record is an error, nothing to re-run: {message}",
            )
        ]
    try:
        stored = read_stored(number, record)
    except InputError as exc:
        return [_record(base, "error", note=str(exc))]
    return reinterpreter.stored(stored)


def reinterpret_rows(
    handle: IO[bytes],
    name: str,
    reinterpreter: Reinterpreter,
    before_id: str,
    drugs: list[str] | None,
) -> Iterator[list[ChangeRecord]]:
    """The changes for each row of a batch input file, interpreted under ``before_id`` first."""
    for number, sample, tpmt, nudt15, drug_cell, error, extras in read_rows(handle, name):
        name = sample or f"line {number}"
        if extras is not None and extras.activity and error is None:
            error = (
                f"line {number} gives a TPMT activity: re-interpreting activity results needs the "
                "lab's ranges and is not supported; re-run tpmt batch --lab-ranges FILE"
            )
        base = {
            "sample": name,
            "line": number,
            "tpmt": tpmt,
            "nudt15": nudt15,
        }
        if error is not None:
            yield [_record(base, "error", note=error)]
            continue
        chosen = drugs
        if drug_cell:
            chosen = list(drug_list(drug_cell) or ())
        yield reinterpreter.fresh(number, name, tpmt, nudt15, before_id, chosen)
