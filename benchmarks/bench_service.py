"""The HTTP service under a large batch: throughput, memory, and /healthz latency meanwhile.

    python benchmarks/bench_service.py [ROWS]       (default 100000)

Starts `tpmt serve` on a free loopback port, then: posts a 50,000-row batch (JSON lines,
uniform over all published pairs, compact records) while another connection asks /healthz
every 20 ms, and prints the batch's rows/s and the health latencies (median, 95th
percentile, maximum); posts ROWS rows the same way; posts 5,000 rows for full reports; and
prints the server's peak RSS after each (VmHWM), and the answer to a body over the limit.
Every record is counted: the answer must hold one per row. Nothing is asserted.
"""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mix import pairs  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def body(rows: int) -> bytes:
    lines = (
        json.dumps({"sample_id": f"S{i:07d}", "tpmt": t, "nudt15": n})
        for i, (t, n) in enumerate(pairs("uniform", rows, seed=rows))
    )
    return ("\n".join(lines) + "\n").encode()


def post_batch(port: int, payload: bytes, compact: bool) -> tuple[float, int, bytes]:
    """Seconds, status, and the answer (parsed later: parsing here would hold the GIL and
    delay the health probes of this process, not the server's answers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request(
        "POST",
        "/v1/batch" + ("?compact=true" if compact else ""),
        payload,
        {"content-type": "application/x-ndjson"},
    )
    response = connection.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, response.status, data


def health_latencies(port: int, stop: threading.Event, out: list[float]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        started = time.perf_counter()
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        out.append(time.perf_counter() - started)
        time.sleep(0.02)
    connection.close()


def run(port: int, pid: int, rows: int, compact: bool, watch: bool) -> None:
    payload = body(rows)
    latencies: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=health_latencies, args=(port, stop, latencies))
    if watch:
        watcher.start()
    elapsed, status, data = post_batch(port, payload, compact)
    stop.set()
    if watch:
        watcher.join()
    records, size = (len(json.loads(data)) if status == 200 else 0), len(data)
    kind = "compact" if compact else "full"
    line = (
        f"{rows:>7,} rows ({len(payload) / 1e6:.1f} MB in, {size / 1e6:,.0f} MB out, {kind}): "
        f"HTTP {status}, {records:,} records, {rows / elapsed:,.0f} rows/s; "
        f"server peak RSS {peak_rss(pid):,.0f} MB"
    )
    if latencies:
        ordered = sorted(latencies)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        line += (
            f"; /healthz meanwhile: median {statistics.median(ordered) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms ({len(ordered)} probes)"
        )
    print(line, flush=True)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tpmt", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        print(f"server started: peak RSS {peak_rss(server.pid):,.0f} MB", flush=True)
        run(port, server.pid, 50_000, compact=True, watch=True)
        run(port, server.pid, rows, compact=True, watch=True)
        run(port, server.pid, 5_000, compact=False, watch=False)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", "/v1/batch", b"[" + b" " * 65_000_000 + b"]")
        response = connection.getresponse()
        print(f"a 65 MB body: HTTP {response.status} {response.read().decode()[:80]}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
