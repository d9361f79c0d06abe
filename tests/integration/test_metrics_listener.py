"""metrics.listen (docs/CONFIG.md, docs/OBSERVABILITY.md): GET /metrics on a
listener of its own. There it parses with the official parser and counts what
the main port answered; the main port answers /metrics 404; the scrape token
still applies; port 0 picks a free port that the log names; IPv6; TLS as the
server's; the listener stops with the server; a bad value or a busy port stops
the start naming the key; the key applies after a restart."""

import re
import socket
import subprocess
import time
import uuid

import pytest
import requests

from conftest import (API, CINFER_BIN, assert_error, bearer, free_port, make_admin,
                      ipv6_loopback, require_binary, self_signed_cert, tls_env)
from test_metrics import samples  # skips this module too without prometheus_client

SETUP = f"{API}/system/setup"
CONFIG = f"{API}/system/config"
LISTENING = re.compile(r"cinfer metrics listening on http://(\S+):(\d+)")
START_TIMEOUT_S = 30


def listen_env(address, **extra):
    return {"CINFER_METRICS__LISTEN": address, **extra}


def other_free_port(taken, host="127.0.0.1"):
    """A free port on `host` other than `taken`."""
    while True:
        port = free_port(host)
        if port != taken:
            return port


def with_listener(server_factory, host="127.0.0.1", **env):
    """A started server whose metrics listener is on a free port of `host`
    (other than the main one): (server, port)."""
    s = server_factory(start=False)
    mport = other_free_port(s.port, host)
    address = f"[{host}]" if ":" in host else host
    s.extra_env.update(listen_env(f"{address}:{mport}", **env))
    return s.start(), mport


def metrics_url(host, port):
    return f"http://{host}:{port}/metrics"


def requests_total(found, route, status, method="GET"):
    key = ("cinfer_http_requests_total",
           frozenset({"route": route, "method": method, "status": str(status)}.items()))
    return found.get(key, 0.0)


def scrape(url, headers=None):
    r = requests.get(url, headers=headers or {}, timeout=30)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    return samples(r.text)


def logged_listener(server):
    found = LISTENING.findall(server.log_text())
    assert found, f"no 'cinfer metrics listening on' line in the log:\n{server.log_text()[-3000:]}"
    host, port = found[-1]
    return host, int(port)


def refused(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return True
    return False


def test_metrics_move_to_their_own_listener(server_factory):
    s, mport = with_listener(server_factory)
    assert logged_listener(s) == ("127.0.0.1", mport)
    url = metrics_url("127.0.0.1", mport)
    before = scrape(url)
    for _ in range(3):
        assert s.get(SETUP).status_code == 200
    assert_error(s.get("/metrics"), 404, "NOT_FOUND")  # a clean JSON 404 on the main port
    after = scrape(url)
    assert requests_total(after, SETUP, 200) - requests_total(before, SETUP, 200) == 3
    # The listener's own answers are counted too (the first scrape, when it answered).
    assert requests_total(after, "/metrics", 200) - requests_total(before, "/metrics", 200) == 1
    assert requests_total(after, "/metrics", 404) == 0  # the main port has no /metrics route
    # Nothing else is served there.
    for path in ("/health/live", SETUP, "/", "/openapi.yaml"):
        assert_error(requests.get(f"http://127.0.0.1:{mport}{path}", timeout=30), 404,
                     "NOT_FOUND")
    om = requests.get(url, headers={"Accept": "application/openmetrics-text; version=1.0.0"},
                      timeout=30)
    assert om.headers["Content-Type"].startswith("application/openmetrics-text")
    assert om.text.endswith("# EOF\n")


def test_the_listener_requires_the_scrape_token(server_factory):
    token = uuid.uuid4().hex
    s, mport = with_listener(server_factory, CINFER_METRICS__TOKEN=token)
    url = metrics_url("127.0.0.1", mport)
    assert_error(requests.get(url, timeout=30), 401, "UNAUTHENTICATED")
    assert_error(requests.get(url, headers=bearer("wrong"), timeout=30), 401, "UNAUTHENTICATED")
    found = scrape(url, bearer(token))
    assert requests_total(found, "/metrics", 401) == 2
    assert_error(s.get("/metrics", headers=bearer(token)), 404, "NOT_FOUND")


def test_port_zero_picks_a_free_port_named_in_the_log(server_factory):
    s = server_factory(env=listen_env("127.0.0.1:0"))
    host, port = logged_listener(s)
    assert host == "127.0.0.1" and port not in (0, s.port)
    found = scrape(metrics_url(host, port))
    assert any(name == "cinfer_http_requests_total" for name, _ in found), sorted(found)[:20]


def test_the_listener_stops_with_the_server(server_factory):
    s, mport = with_listener(server_factory)
    scrape(metrics_url("127.0.0.1", mport))
    assert s.stop() == 0, s.log_text()[-3000:]
    assert refused("127.0.0.1", mport)


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback")
def test_an_ipv6_listener(server_factory):
    s, mport = with_listener(server_factory, host="::1")
    assert logged_listener(s) == ("[::1]", mport)
    assert "cinfer_http_requests_total" in requests.get(metrics_url("[::1]", mport),
                                                        timeout=30).text


def test_switched_off_metrics_open_no_listener(server_factory):
    s, mport = with_listener(server_factory, CINFER_METRICS__ENABLED="false")
    assert not LISTENING.search(s.log_text())
    assert refused("127.0.0.1", mport)
    assert s.get("/metrics").status_code == 404


@pytest.mark.parametrize("bad", ["nohost", "1.2.3.4:99999", "localhost:9464", "::1:9464",
                                 "127.0.0.1:", "[::1:9464"])
def test_a_bad_value_stops_the_start_naming_the_key(server_factory, bad):
    s = server_factory(start=False, env=listen_env(bad))
    r = s.cli("serve", timeout=30)
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "configuration error" in r.stderr and "'metrics.listen'" in r.stderr, r.stderr
    assert bad in r.stderr, r.stderr


def test_a_bad_value_in_the_config_file_names_the_file_and_key(server_factory, tmp_path):
    config = tmp_path / "cinfer.yaml"
    config.write_text("metrics:\n  listen: '127.0.0.1:70000'\n")
    s = server_factory(start=False, config_file=config)
    r = s.cli("serve", timeout=30)
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert str(config) in r.stderr and "'metrics.listen'" in r.stderr, r.stderr
    assert "between 0 and 65535" in r.stderr, r.stderr


def test_a_busy_port_stops_the_start_naming_the_key(server_factory):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        s = server_factory(start=False, env=listen_env(f"127.0.0.1:{port}"))
        r = s.cli("serve", timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 1, (r.returncode, out[-3000:])
    assert "metrics.listen" in out and "cannot listen" in out, out[-3000:]


def test_the_key_applies_after_a_restart(server_factory):
    s = server_factory()
    admin = make_admin(s)
    r = s.request("PATCH", CONFIG, json={"metrics.listen": "127.0.0.1:99999"},
                  headers=bearer(admin.token))
    err = assert_error(r, 422, "VALIDATION_FAILED")
    assert err["details"]["field"] == "metrics.listen", r.text
    mport = other_free_port(s.port)
    r = s.request("PATCH", CONFIG, json={"metrics.listen": f"127.0.0.1:{mport}"},
                  headers=bearer(admin.token))
    assert r.status_code == 200, r.text
    key = {k["key"]: k for k in r.json()["keys"]}["metrics.listen"]
    assert key["apply"] == "restart" and key["pending_value"] == f"127.0.0.1:{mport}", key
    assert s.get("/metrics").status_code == 200  # still on the main port until the restart
    assert refused("127.0.0.1", mport)
    s.restart()
    assert_error(s.get("/metrics"), 404, "NOT_FOUND")
    scrape(metrics_url("127.0.0.1", mport))


def test_the_listener_uses_the_servers_tls(tmp_path):
    require_binary()
    cert, key = self_signed_cert(tmp_path)
    port = free_port()
    mport = other_free_port(port)
    env = tls_env(tmp_path, port, cert, key)
    env["CINFER_METRICS__LISTEN"] = f"127.0.0.1:{mport}"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([CINFER_BIN, "serve"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        url = f"https://127.0.0.1:{mport}/metrics"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                r = requests.get(url, verify=str(cert), timeout=2)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        assert r.status_code == 200, r.text[:500]
        assert samples(r.text)
        assert f"cinfer metrics listening on https://127.0.0.1:{mport}" in log_path.read_text()
        main = requests.get(f"https://127.0.0.1:{port}/metrics", verify=str(cert), timeout=10)
        assert_error(main, 404, "NOT_FOUND")
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0, log_path.read_text()[-3000:]
