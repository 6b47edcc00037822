"""The HTTP service: framework test client for every rule, plus a real server under load."""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time

import pytest
from fastapi.testclient import TestClient

from tpmt.interpreter import Interpreter
from tpmt.service import create_app


@pytest.fixture(scope="module")
def client(interpreter: Interpreter) -> TestClient:
    return TestClient(create_app(interpreter, max_body=50_000))


def test_interpret_returns_the_report(client: TestClient) -> None:
    response = client.post(
        "/v1/interpret",
        json={
            "tpmt": "*1/*3A",
            "nudt15": "*1/*3",
            "drugs": ["mercaptopurine"],
            "guidelines": ["cpic"],
        },
    )
    assert response.status_code == 200
    report = response.json()
    assert report["genes"]["TPMT"]["phenotype"]["CPIC"] == "Intermediate Metabolizer"
    assert [r["drug"] for r in report["recommendations"]] == ["mercaptopurine"]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"tpmt": "*1/*99"}, 400, "unknown TPMT allele '*99'"),
        ({}, 400, "no result given"),
        ({"tpmt": "*1/*1", "drugs": ["warfarin"]}, 400, "unknown drug"),
        ({"tpmt": "*1/*1", "guidelines": ["cpic", "cpic-2018"]}, 400, "one CPIC rule set"),
        ({"tpmt": 5}, 422, "string"),
        ({"tpmt": "*1/*1", "surprise": 1}, 422, "Extra inputs"),
        ({"tpmt": "x" * 500}, 422, "at most 200"),
    ],
)
def test_client_mistakes_are_4xx_with_a_message(
    client: TestClient, body: dict, status: int, fragment: str
) -> None:
    response = client.post("/v1/interpret", json=body)
    assert response.status_code == status
    assert fragment in json.dumps(response.json())


def test_malformed_and_oversized_bodies(client: TestClient) -> None:
    bad = client.post(
        "/v1/interpret", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "detail": "body is not JSON: Expecting property name enclosed in double quotes "
        "at line 1, column 2",
        "errors": [],
    }
    huge = client.post(
        "/v1/interpret", content=b"x" * 60_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413 and "over 50,000 bytes" in huge.json()["detail"]
    chunked = client.post("/v1/batch", content=iter([b"[" + b" " * 30_000, b" " * 30_000 + b"]"]))
    assert chunked.status_code == 413


def test_batch_json_list_and_jsonl(client: TestClient) -> None:
    rows = [{"sample_id": "A", "tpmt": "*1/*3A"}, {"sample_id": "B", "tpmt": "*1/*99"}, 7]
    response = client.post("/v1/batch", json=rows)
    assert response.status_code == 200
    records = response.json()
    assert [(r["sample"], r["status"]) for r in records] == [
        ("A", "ok"),
        ("B", "error"),
        ("item 3", "error"),
    ]
    assert records[0]["genes"]["TPMT"]["diplotype"] == "*1/*3A"  # the CLI's record shape
    assert "report" not in records[0]
    lines = '{"sample_id": "X", "nudt15": "PM"}\n{bad\n'
    response = client.post(
        "/v1/batch", content=lines, headers={"content-type": "application/x-ndjson"}
    )
    assert [r["status"] for r in response.json()] == ["ok", "error"]
    assert client.post("/v1/batch", json={"sample_id": "A"}).status_code == 400
    assert (
        client.post(
            "/v1/batch", content=b"[", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_guidelines_health_and_openapi(client: TestClient) -> None:
    assert [g["id"] for g in client.get("/v1/guidelines").json()] == [
        "cpic-2018",
        "cpic-2025",
        "dpwg-2025",
    ]
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert {"/v1/interpret", "/v1/batch", "/v1/guidelines", "/healthz"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_real_server_under_bounded_load() -> None:
    """2,000 requests from 8 threads against `tpmt serve` on loopback: zero errors."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tpmt", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                try:
                    probe.request("GET", "/healthz")
                    if probe.getresponse().status == 200:
                        break
                finally:
                    probe.close()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        bodies = [
            {"tpmt": t, "nudt15": n}
            for t in ("*1/*1", "*1/*3A", "PM", "*3A/*1", "*1/*99")
            for n in ("*1/*1", "*1/*3", None)
        ]
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def worker(offset: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for i in range(250):
                body = bodies[(offset + i) % len(bodies)]
                started = time.perf_counter()
                connection.request(
                    "POST", "/v1/interpret", json.dumps(body), {"content-type": "application/json"}
                )
                response = connection.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - started
                expected = 400 if body["tpmt"] == "*1/*99" else 200
                with lock:
                    latencies.append(elapsed)
                    if response.status != expected or (
                        expected == 200 and b"schema_version" not in payload
                    ):
                        errors.append(f"{body}: {response.status}")
            connection.close()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(latencies) == 2000
        assert errors == []
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"\n2000 requests, 8 threads: p50 {cuts[49] * 1e3:.1f} ms, p99 {cuts[98] * 1e3:.1f} ms"
        )
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)
    assert b"Traceback" not in stderr
    assert b"*1/*3A" not in stderr  # no patient data in the server's logs


def test_batch_bodies_after_an_empty_list_and_cr_line_endings(client: TestClient) -> None:
    for body in (b"[] trailing", b"[]]"):
        answer = client.post(
            "/v1/batch", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400
    assert client.post("/v1/batch", json=[]).json() == []
    lines = b'{"sample_id": "a", "tpmt": "IM"}\r{"sample_id": "b", "tpmt": "PM"}\r'
    answer = client.post(
        "/v1/batch", content=lines, headers={"content-type": "application/x-ndjson"}
    )
    assert [(r["sample"], r["status"]) for r in answer.json()] == [("a", "ok"), ("b", "ok")]


def test_interpret_names_the_sample(client: TestClient) -> None:
    answer = client.post("/v1/interpret", json={"tpmt": "*1/*3A", "sample": "LAB-0042"})
    assert answer.status_code == 200
    assert answer.json()["sample"] == "LAB-0042"
