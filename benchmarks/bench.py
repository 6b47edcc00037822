"""Print throughput, latency and memory figures for the core (not a test; nothing is asserted).

    python benchmarks/bench.py [--quick]

Figures: engine evaluations per second on distinct facts (the whole chain, no memo), warm
``interpret()`` calls per second on a realistic input mix (reports composed from memoised
fragments), cold ``tpmt lookup`` wall time (new process each run), and peak memory. For
throughput on diverse input see bench_mix.py.
"""

from __future__ import annotations

import random
import resource
import shutil
import statistics
import subprocess
import sys
import time

from tpmt.evaluate import Evaluator
from tpmt.interpreter import Interpreter
from tpmt.parse import DiplotypeInput, PhenotypeInput
from tpmt.vocab import Gene, Phenotype

# A realistic mix for a clinical lab: mostly normal results, some carriers, a few rare calls,
# phenotype-only rows and spelling variation (weights are illustrative, not population data).
MIX = [
    (("*1/*1", "*1/*1"), 800),
    (("*1/*3A", "*1/*1"), 60),
    (("*3A/*1", "*1/*1"), 10),
    (("*1/*3C", "*1/*1"), 20),
    (("*1/*1", "*1/*3"), 40),
    (("*1/*3A", "*1/*3"), 5),
    (("*1/*2", "*1/*1"), 5),
    (("*3A/*3A", "*1/*1"), 2),
    (("Normal Metabolizer", "Normal Metabolizer"), 30),
    (("IM", None), 10),
    (("*1/*1", None), 10),
    (("TPMT*1/TPMT*3A", "NUDT15*1/*5"), 3),
    (("*1/*8", "*1/*9"), 2),
    (("*1/*40", "*3/*6"), 1),
    (("*1/*3A", "*1/*22"), 1),
]


def engine_rate(interpreter: Interpreter, seconds: float) -> tuple[float, int]:
    """Evaluations per second straight through durable-rules, every fact distinct."""
    rule_set = interpreter.library.get("cpic-2025")
    names = list(rule_set.genes[Gene.TPMT].alleles)
    inputs = [DiplotypeInput(Gene.TPMT, (a, b)) for i, a in enumerate(names) for b in names[i:]]
    partner = PhenotypeInput(Gene.NUDT15, Phenotype.NORMAL)
    evaluator = Evaluator()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        evaluator.evaluate_chained(rule_set, inputs[done % len(inputs)], partner)
        done += 1
    return done / (time.perf_counter() - started), len(inputs)


def warm_rate(interpreter: Interpreter, calls: int) -> tuple[float, float]:
    """interpret() calls per second on the mix, after one warm-up pass."""
    rng = random.Random(20261122)
    population = [pair for pair, weight in MIX for _ in range(weight)]
    sample = [rng.choice(population) for _ in range(calls)]
    for tpmt, nudt15 in set(sample):
        interpreter.interpret(tpmt=tpmt, nudt15=nudt15)
    started = time.perf_counter()
    for tpmt, nudt15 in sample:
        interpreter.interpret(tpmt=tpmt, nudt15=nudt15)
    elapsed = time.perf_counter() - started
    return calls / elapsed, elapsed / calls * 1e6


def cold_lookup(runs: int) -> list[float]:
    """Wall time of a whole `tpmt lookup` process, runs times."""
    exe = shutil.which("tpmt")
    command = [exe] if exe else [sys.executable, "-m", "tpmt"]
    command += ["lookup", "--tpmt", "*1/*3A", "--nudt15", "*1/*3"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    quick = "--quick" in sys.argv
    interpreter = Interpreter()
    rate, distinct = engine_rate(interpreter, 1.0 if quick else 3.0)
    print(
        f"engine (durable-rules, no memo): {rate:,.0f} evaluations/s "
        f"over {distinct} distinct TPMT diplotypes, cpic-2025"
    )
    calls = 20_000 if quick else 200_000
    per_second, micros = warm_rate(interpreter, calls)
    print(
        f"warm interpret() on a realistic mix: {per_second:,.0f} calls/s "
        f"({micros:.2f} µs per call, {calls:,} calls)"
    )
    times = cold_lookup(5 if quick else 11)
    print(
        f"cold `tpmt lookup` (new process): median {statistics.median(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)} runs"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: benchmark process {own:.0f} MB; one `tpmt lookup` process {child:.0f} MB")


if __name__ == "__main__":
    main()
