"""Samples per second and peak memory of `tpmt call` on synthetic population VCFs.

    python benchmarks/bench_calling.py [10000 100000 ...]

Builds a multi-sample VCF of the TPMT and NUDT15 defining sites (unphased genotypes drawn
from illustrative allele frequencies, 0.1 % no-calls), then times calling + interpretation
of every sample with TSV output to /dev/null, on one core. Setup time is not counted.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tpmt.calling.run import call_samples
from tpmt.interpreter import Interpreter
from tpmt.render.calls import render_call_results
from tpmt.vocab import Gene

FREQUENCIES = {  # illustrative only
    Gene.TPMT: {
        "*1": 0.944,
        "*3A": 0.035,
        "*3C": 0.012,
        "*2": 0.003,
        "*3B": 0.002,
        "*8": 0.002,
        "*4": 0.001,
        "*16": 0.001,
    },
    Gene.NUDT15: {"*1": 0.965, "*3": 0.022, "*5": 0.005, "*6": 0.005, "*9": 0.002, "*4": 0.001},
}


def build_vcf(path: Path, interpreter: Interpreter, samples: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    definitions = interpreter.library.get("cpic-2025").definitions
    header = [
        "##fileformat=VCFv4.2",
        "##reference=GRCh38",
        "##contig=<ID=chr6,length=170805979>",
        "##contig=<ID=chr13,length=114364328>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
        + "\t".join(f"S{i}" for i in range(samples)),
    ]
    with path.open("w") as out:
        out.write("\n".join(header) + "\n")
        for gene, defs in definitions.items():
            names = list(FREQUENCIES[gene])
            weights = np.array(list(FREQUENCIES[gene].values()))
            haplotypes = rng.choice(len(names), size=(samples, 2), p=weights / weights.sum())
            for site in defs.positions:
                choices = [site.ref, *site.alts]
                index = np.array(
                    [
                        choices.index(defs.alleles[n][str(site.position)][-1])
                        if str(site.position) in defs.alleles[n]
                        else 0
                        for n in names
                    ]
                )
                calls = index[haplotypes]
                gt = np.char.add(np.char.add(calls[:, 0].astype(str), "/"), calls[:, 1].astype(str))
                gt[rng.random(samples) < 0.001] = "./."
                out.write(
                    f"{defs.chromosome}\t{site.position}\t{site.rsid or '.'}\t{site.ref}\t"
                    f"{','.join(site.alts)}\t.\tPASS\t.\tGT\t" + "\t".join(gt.tolist()) + "\n"
                )


def measure(path: Path, output_format: str) -> None:
    """Run in a fresh process: call every sample of ``path``; print time and peak memory.

    ``output_format`` is tsv, jsonl or compact (JSON lines with --compact)."""
    interpreter = Interpreter()
    interpreter.interpret(tpmt="*1/*1")  # load the rule sets before the clock starts
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    names, results = call_samples(interpreter, path)
    compact = output_format == "compact"
    with open(os.devnull, "w") as sink:
        for text, _ in render_call_results(results, "jsonl" if compact else output_format, compact):
            sink.write(text)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    samples = len(names)
    size = path.stat().st_size / 1e6
    print(
        f"{samples:>7,} samples ({size:,.0f} MB VCF), {output_format:>5}: {elapsed:6.2f} s, "
        f"{samples / elapsed:,.0f} samples/s, peak RSS {peak:,.0f} MB "
        f"(after start-up {before:,.0f} MB)",
        flush=True,
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(Path(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    counts = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as folder:
        for count in counts:
            path = Path(folder) / f"population_{count}.vcf"
            build_vcf(path, Interpreter(), count)
            for output_format in ("tsv", "compact", "jsonl"):
                command = [sys.executable, __file__, "--measure", str(path), output_format]
                subprocess.run(command, check=True)
