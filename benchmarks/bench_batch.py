"""Rows per second and peak memory of `tpmt batch` on a generated input (a realistic mix).

    python benchmarks/bench_batch.py [ROWS ...]      (default 100000 1000000)

Each measurement runs `tpmt batch` as its own process (one core) writing to /dev/null, and
reports wall time and the child's peak RSS. The input has a sample_id, tpmt, nudt15 and, for
a tenth of the rows, a drugs column; 0.5 % of rows are deliberately bad.
"""

from __future__ import annotations

import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIX = [
    ("*1/*1", "*1/*1", 800),
    ("*1/*3A", "*1/*1", 60),
    ("*1/*3C", "*1/*1", 20),
    ("*1/*1", "*1/*3", 40),
    ("*3A/*1", "*1/*3", 5),
    ("Normal Metabolizer", "NM", 40),
    ("IM", "", 20),
    ("*3A/*3A", "*1/*1", 2),
    ("TPMT*1/TPMT*2", "NUDT15*1/*5", 3),
    ("*1/*99", "*1/*1", 5),  # the last one is invalid
]


def build(path: Path, rows: int) -> None:
    rng = random.Random(11)
    population = [(t, n) for t, n, w in MIX for _ in range(w)]
    with path.open("w") as out:
        out.write("sample_id\ttpmt\tnudt15\tdrugs\n")
        for i in range(rows):
            tpmt, nudt15 = rng.choice(population)
            drugs = "mercaptopurine" if i % 10 == 0 else ""
            out.write(f"S{i:07d}\t{tpmt}\t{nudt15}\t{drugs}\n")


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    exe = shutil.which("tpmt")
    command = [exe] if exe else [sys.executable, "-m", "tpmt"]
    with tempfile.TemporaryDirectory() as folder:
        for rows in counts:
            path = Path(folder) / f"batch_{rows}.tsv"
            build(path, rows)
            for output_format in ("tsv", "jsonl"):
                before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                started = time.perf_counter()
                result = subprocess.run(
                    [*command, "batch", str(path), "--format", output_format, "-o", "/dev/null"],
                    capture_output=True,
                    text=True,
                )
                elapsed = time.perf_counter() - started
                peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                assert result.returncode == 3, result.stderr  # the bad rows make it 3
                print(
                    f"{rows:>9,} rows, {output_format:>5}: {elapsed:6.2f} s, "
                    f"{rows / elapsed:,.0f} rows/s, peak RSS {max(peak, before) / 1024:,.0f} MB "
                    f"({result.stderr.strip()})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
