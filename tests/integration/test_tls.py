"""HTTPS: the server speaks TLS when server.tls is configured, and refuses
plain HTTP on that port."""

import socket
import subprocess
import time

import pytest
import requests

from conftest import CINFER_BIN, free_port, require_binary, self_signed_cert, tls_env


@pytest.fixture
def tls_server(tmp_path):
    require_binary()
    cert, key = self_signed_cert(tmp_path)
    port = free_port()
    env = tls_env(tmp_path, port, cert, key)
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([CINFER_BIN, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "server.log").read_text()
        try:
            requests.get(url + "/health/live", verify=str(cert), timeout=2)
            break
        except requests.RequestException:
            time.sleep(0.2)
    yield url, cert, port
    proc.terminate()
    assert proc.wait(timeout=20) == 0
    log.close()


def test_https_serves_requests(tls_server):
    url, cert, _ = tls_server
    r = requests.get(url + "/health/live", verify=str(cert), timeout=10)
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers.get("X-Request-ID")
    r = requests.get(url + "/api/nope", verify=str(cert), timeout=10)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


def test_plain_http_on_tls_port_gets_no_http_response(tls_server):
    _, _, port = tls_server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    assert not data.startswith(b"HTTP/1.1 200")
