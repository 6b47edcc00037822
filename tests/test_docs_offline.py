"""/docs and /redoc work on a network without internet access (a hospital's, say).

`tpmt serve` runs on loopback; headless Chromium may reach nothing else: every host name
resolves to nothing but 127.0.0.1, and any other connection goes to a proxy that is not there.
The pages must load their scripts from the service itself and render the operations.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OFFLINE = [  # nothing but loopback: no DNS answers, and a proxy that refuses every connection
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1000,800",
    "--virtual-time-budget=20000",
    *OFFLINE,
]
OPERATIONS = ("/v1/interpret", "/v1/batch", "/v1/guidelines", "/healthz")


def browser() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tpmt", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_browser(tmp_path: Path, *args: str) -> str:
    command = [browser(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(server: int, page: str) -> None:
    status, html = _get(server, page)
    assert status == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert all(a.startswith("/static-offline-docs/") for a in assets), assets
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    for asset in assets:
        assert _get(server, asset)[0] == 200, asset


def test_swagger_ui_renders_the_operations_offline(server: int, tmp_path: Path) -> None:
    dom = run_browser(tmp_path, "--dump-dom", f"http://127.0.0.1:{server}/docs")
    assert 'class="swagger-ui' in dom, dom[:1000]
    for operation in OPERATIONS:
        assert f'data-path="{operation}"' in dom, operation
    shot = tmp_path / "docs.png"
    run_browser(tmp_path, f"--screenshot={shot}", f"http://127.0.0.1:{server}/docs")
    width, height, pixels = decode_png(shot.read_bytes())
    assert (width, height) == (1000, 800)
    share = non_white_share(pixels)
    assert share > 0.05, f"{share:.1%} of the screenshot is not white: the page looks blank"


def test_redoc_renders_the_operations_offline(server: int, tmp_path: Path) -> None:
    dom = run_browser(tmp_path, "--dump-dom", f"http://127.0.0.1:{server}/redoc")
    assert "redoc-wrap" in dom, dom[:1000]
    for operation in OPERATIONS:
        assert operation in dom, operation


def non_white_share(pixels: list[bytes]) -> float:
    """The share of pixels that are not (nearly) white."""
    dark = total = 0
    for row in pixels:
        for at in range(0, len(row), 4):
            total += 1
            dark += min(row[at], row[at + 1], row[at + 2]) < 240
    return dark / total


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGBA rows of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    at, idat = 8, b""
    width = height = channels = 0
    while at < len(data):
        (length,), kind = struct.unpack(">I", data[at : at + 4]), data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind_byte, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind_byte, line, previous, channels)
        rows.append(bytes(line) if channels == 4 else _rgba(bytes(line)))
        previous = line
    return width, height, rows


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    """Undo one PNG scanline filter in place (PNG specification, section 9)."""
    if kind == 0:
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        else:
            corner = previous[i - bpp] if i >= bpp else 0
            estimate = left + up - corner
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
            best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + best) & 0xFF


def _rgba(rgb: bytes) -> bytes:
    out = bytearray()
    for at in range(0, len(rgb), 3):
        out += rgb[at : at + 3] + b"\xff"
    return bytes(out)


def test_the_png_decoder_reads_a_known_image() -> None:
    """A 2x2 RGB image (one row Sub-filtered, one Paeth): black, white / red, white."""
    rows = b"\x01" + bytes([0, 0, 0, 255, 255, 255]) + b"\x04" + bytes([255, 0, 0, 0, 0, 0])
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
    png += chunk(b"IEND", b"")
    width, height, pixels = decode_png(png)
    assert (width, height) == (2, 2)
    # row 2, Paeth: pixel 1 predicted from above (black) → red; pixel 2 from above (white)
    assert pixels == [
        bytes([0, 0, 0, 255, 255, 255, 255, 255]),
        bytes([255, 0, 0, 255, 255, 255, 255, 255]),
    ]
    assert non_white_share(pixels) == 0.5
