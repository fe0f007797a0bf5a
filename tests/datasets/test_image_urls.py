"""image_from_url: no network unless asked; then a deadline, a size cap, http(s)-only redirects.

The network tests talk to an http.server the test starts on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import io
import os
import threading
import time

import numpy as np
import pytest
from PIL import Image

from vislab.datasets.image_urls import image_from_url


def _png_bytes(size=(6, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


class _Handler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Handler.requests.append(self.path)
        try:
            self._reply()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading, as it should

    def _reply(self):
        if self.path == "/image.png":
            body = _png_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/big":  # no Content-Length: the cap must hold while reading
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(bytes(2**16))
        elif self.path == "/slow":  # a byte every 0.1 s: each read is quick, the whole is not
            self.send_response(200)
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path.startswith("/to-"):
            self.send_response(302)
            self.send_header("Location", f"{self.path[4:]}://127.0.0.1/etc/passwd")
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_is_not_fetched_without_the_flag(server, caplog):
    assert image_from_url(f"{server}/image.png") is None
    assert "--allow-network" in caplog.text
    assert _Handler.requests == []


def test_http_with_the_flag(server):
    image = image_from_url(f"{server}/image.png", allow_network=True)
    assert image.shape == (4, 6, 3) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [10, 200, 30]


def test_size_cap_holds_without_content_length(server, caplog):
    assert image_from_url(f"{server}/big", allow_network=True, max_bytes=2**18) is None
    assert "larger than the 262144-byte limit" in caplog.text


def test_total_deadline(server, caplog):
    start = time.monotonic()
    assert image_from_url(f"{server}/slow", timeout=0.5, allow_network=True) is None
    assert time.monotonic() - start < 3, "each byte came quickly, but the whole took too long"
    assert "took longer than 0.5 s" in caplog.text


def test_no_redirect_to_another_scheme(server, caplog):
    assert image_from_url(f"{server}/to-ftp", allow_network=True) is None
    assert "redirects to a ftp URL" in caplog.text
    assert image_from_url(f"{server}/to-file", allow_network=True) is None
    assert "'file://127.0.0.1/etc/passwd' is not allowed" in caplog.text


def test_local_files_only_regular_and_capped(tmp_path, caplog):
    path = tmp_path / "photo.png"
    path.write_bytes(_png_bytes())
    assert image_from_url(str(path)).shape == (4, 6, 3)
    assert image_from_url(f"file://{path}").shape == (4, 6, 3)
    assert image_from_url(str(path), max_bytes=10) is None
    assert "over the 10 limit" in caplog.text
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it for reading would block forever
    assert image_from_url(str(fifo)) is None
    assert image_from_url("/dev/zero") is None
    assert caplog.text.count("is not a regular file") == 2
    assert image_from_url("gopher://example.org/photo.png") is None
    assert "unsupported URL scheme 'gopher'" in caplog.text
