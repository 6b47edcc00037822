"""Throughput on diverse input: uniform over every published diplotype pair, and a population mix.

    python benchmarks/bench_mix.py [ROWS]            (default 1000000)
    python benchmarks/bench_mix.py --quick           (100,000 rows, no full JSON lines)

Prints, for each input mix and output format, rows/s, µs per row, the peak RSS of the
`tpmt batch` process (one core, output to /dev/null) and how many times the rule engine ran;
then library `interpret()` over 100,000 uniform random pairs after a warm-up pass, and the
wall time of a cold `tpmt lookup`. Nothing is asserted; the README quotes these figures.

Mixes (pairs from the CPIC 2025 tables in tests/data/conformance, 1,225 TPMT x 210 NUDT15):
- uniform: every row an independent uniform draw from all 257,250 published pairs;
- population: ~89% *1/*1 + *1/*1, ~10% one no-function allele (TPMT *1/*3A, *1/*3C, *1/*2,
  NUDT15 *1/*3, *1/*2, ...), ~1% rare (a uniform draw from all published pairs). The weights
  are illustrative, not population frequencies.
"""

from __future__ import annotations

import csv
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES = ROOT / "tests" / "data" / "conformance" / "cpic-2025"
CARRIERS = [
    ("*1/*3A", "*1/*1", 45),
    ("*1/*3C", "*1/*1", 20),
    ("*1/*2", "*1/*1", 5),
    ("*1/*3B", "*1/*1", 2),
    ("*1/*1", "*1/*3", 20),
    ("*1/*1", "*1/*2", 4),
    ("*1/*1", "*1/*5", 2),
    ("*1/*1", "*1/*4", 2),
]


def diplotypes(gene: str) -> list[str]:
    with (TABLES / f"{gene}_diplotypes.tsv").open(newline="") as handle:
        return [row["diplotype"] for row in csv.DictReader(handle, delimiter="\t")]


def pairs(mix: str, count: int, seed: int = 9) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    tpmt, nudt15 = diplotypes("TPMT"), diplotypes("NUDT15")
    carriers = [(t, n) for t, n, w in CARRIERS for _ in range(w)]
    out = []
    for _ in range(count):
        draw = rng.random()
        if mix == "uniform" or draw >= 0.99:
            out.append((rng.choice(tpmt), rng.choice(nudt15)))
        elif draw < 0.89:
            out.append(("*1/*1", "*1/*1"))
        else:
            out.append(rng.choice(carriers))
    return out


def write_input(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w") as out:
        out.write("sample_id\ttpmt\tnudt15\n")
        for i, (tpmt, nudt15) in enumerate(rows):
            out.write(f"S{i:07d}\t{tpmt}\t{nudt15}\n")


def run_batch(path: Path, rows: int, options: list[str]) -> str:
    exe = shutil.which("tpmt")
    command = [exe] if exe else [sys.executable, "-m", "tpmt"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "batch", str(path), *options, "-o", os.devnull],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TPMT_STATS": "1"},
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = process.stderr.read() if process.stderr else ""
    runs = next((line.split()[2] for line in stderr.splitlines() if "stats:" in line), "?")
    code = os.waitstatus_to_exitcode(status)
    return (
        f"{' '.join(options):<22} {rows / elapsed:>9,.0f} rows/s "
        f"{elapsed / rows * 1e6:>7.1f} µs/row"
        f"  peak RSS {usage.ru_maxrss / 1024:>5,.0f} MB  engine evaluations {runs}"
        + ("" if code == 0 else f"  (exit {code})")
    )


def library_rate(count: int) -> str:
    from tpmt.interpreter import Interpreter

    interpreter = Interpreter()
    sample = pairs("uniform", count, seed=4)
    for tpmt, nudt15 in sample:  # warm-up: every fragment built once
        interpreter.interpret(tpmt, nudt15)
    runs = interpreter.evaluator.evaluations
    started = time.perf_counter()
    for tpmt, nudt15 in sample:
        interpreter.interpret(tpmt, nudt15)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"interpret() on {count:,} uniform pairs after warm-up: {count / elapsed:,.0f} reports/s"
        f" ({elapsed / count * 1e6:.1f} µs each); engine evaluations {runs} in all;"
        f" peak RSS {peak:,.0f} MB"
    )


def cold_lookup(runs: int = 11) -> str:
    exe = shutil.which("tpmt")
    command = [exe] if exe else [sys.executable, "-m", "tpmt"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [*command, "lookup", "--tpmt", "*1/*3A", "--nudt15", "*1/*3"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return (
        f"cold `tpmt lookup`: median {statistics.median(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms over {runs} runs"
    )


def main() -> None:
    quick = "--quick" in sys.argv
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    rows = numbers[0] if numbers else (100_000 if quick else 1_000_000)
    formats = [["-f", "tsv"], ["-f", "jsonl", "--compact"]]
    with tempfile.TemporaryDirectory() as folder:
        for mix in ("uniform", "population"):
            path = Path(folder) / f"{mix}.tsv"
            write_input(path, pairs(mix, rows))
            print(f"{mix} mix, {rows:,} rows:", flush=True)
            for options in formats:
                print("  " + run_batch(path, rows, options), flush=True)
            if not quick:  # full reports are ~30 KB each: a tenth of the rows
                small = Path(folder) / f"{mix}-small.tsv"
                write_input(small, pairs(mix, rows // 10))
                print("  " + run_batch(small, rows // 10, ["-f", "jsonl"]), flush=True)
    print(library_rate(100_000), flush=True)
    print(cold_lookup(), flush=True)


if __name__ == "__main__":
    main()
