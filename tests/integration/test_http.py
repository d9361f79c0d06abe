"""HTTP-level behaviour: health, static docs, error envelope, request ids,
body limits, keep-alive, access log hygiene."""

import http.client
import re
import time
import uuid

import pytest

from conftest import API, assert_error, bearer

LOGIN = f"{API}/auth/login"
RID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def test_health_live(server):
    r = server.get("/health/live")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers.get("X-Request-ID")


def test_health_ready(server):
    deadline = time.monotonic() + 30
    while True:
        r = server.get("/health/ready")
        if r.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready"}


def test_openapi(shared_admin):
    r = shared_admin.server.get("/openapi.yaml")
    assert r.status_code == 200
    assert "openapi: 3.1" in r.text


def test_docs_and_redoc(shared_admin):
    s = shared_admin.server
    r = s.get("/docs")
    assert r.status_code == 200
    assert "text/html" in r.headers.get("Content-Type", "")
    assert "/docs/redoc.standalone.js" in r.text
    js = s.get("/docs/redoc.standalone.js")
    assert js.status_code == 200
    assert "javascript" in js.headers.get("Content-Type", "").lower(), js.headers
    assert len(js.content) > 0


def test_root_html(shared_admin):
    r = shared_admin.server.get("/")
    assert r.status_code == 200
    assert "text/html" in r.headers.get("Content-Type", "")
    assert "<" in r.text


def test_unknown_route_404(shared_admin):
    r = shared_admin.server.get("/api/nope")
    assert_error(r, 404, "NOT_FOUND")
    r = shared_admin.server.get(f"{API}/does-not-exist")
    assert_error(r, 404, "NOT_FOUND")


def test_wrong_method_405(shared_admin):
    r = shared_admin.server.request("DELETE", "/health/live")
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    r = shared_admin.server.request("GET", LOGIN)
    assert_error(r, 405, "METHOD_NOT_ALLOWED")


# --------------------------------------------------------------------------
# request ids
# --------------------------------------------------------------------------

def test_request_id_generated(shared_admin):
    s = shared_admin.server
    a = s.get("/health/live").headers.get("X-Request-ID")
    b = s.get("/health/live").headers.get("X-Request-ID")
    assert a and b and a != b
    e = s.get("/api/nope")
    assert_error(e, 404, "NOT_FOUND")


@pytest.mark.parametrize("rid", ["abc-123_X.y", "A" * 128,
                                 "6a93a82c-54ad-4bdb-b0fb-d4b49278101f"])
def test_request_id_sane_echoed(shared_admin, rid):
    s = shared_admin.server
    r = s.get("/health/live", headers={"X-Request-ID": rid})
    assert r.headers.get("X-Request-ID") == rid
    e = s.get("/api/nope", headers={"X-Request-ID": rid})
    err = assert_error(e, 404, "NOT_FOUND")
    assert err["request_id"] == rid


@pytest.mark.parametrize("rid", ["abc def", "x" * 300, "A" * 129,
                                 "bad/slash", "semi;colon"])
def test_request_id_insane_replaced(shared_admin, rid):
    s = shared_admin.server
    r = s.get("/health/live", headers={"X-Request-ID": rid})
    got = r.headers.get("X-Request-ID")
    assert got and got != rid
    assert RID_RE.match(got), f"generated request id not sane: {got!r}"
    e = s.get("/api/nope", headers={"X-Request-ID": rid})
    err = assert_error(e, 404, "NOT_FOUND")
    assert err["request_id"] != rid


# --------------------------------------------------------------------------
# bodies
# --------------------------------------------------------------------------

def test_invalid_json(shared_admin):
    r = shared_admin.server.post(LOGIN, data=b"{this is not json}",
                                 headers={"Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_JSON")


def test_payload_too_large(shared_admin):
    body = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    r = shared_admin.server.post(LOGIN, data=body,
                                 headers={"Content-Type": "application/json"},
                                 timeout=120)
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    # server still healthy afterwards
    assert shared_admin.server.get("/health/live").status_code == 200


def test_keep_alive(shared_admin):
    s = shared_admin.server
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    try:
        conn.request("GET", "/health/live")
        r1 = conn.getresponse()
        b1 = r1.read()
        assert r1.status == 200, b1
        assert (r1.getheader("Connection") or "").lower() != "close"
        sock1 = conn.sock
        assert sock1 is not None, "server closed the keep-alive connection"

        conn.request("GET", f"{API}/auth/me",
                     headers=bearer(shared_admin.token))
        r2 = conn.getresponse()
        b2 = r2.read()
        assert r2.status == 200, b2
        assert conn.sock is sock1, "second request did not reuse the connection"
    finally:
        conn.close()


# --------------------------------------------------------------------------
# access log
# --------------------------------------------------------------------------

def test_access_log_hygiene(admin):
    s = admin.server
    rid = f"trace-{uuid.uuid4().hex[:12]}_X.y"
    wrong_pw = "Wr0ng-Pa55word-zz9"
    r = s.login(admin.username, wrong_pw)
    assert r.status_code == 401
    r = s.login(admin.username, admin.password, headers={"X-Request-ID": rid})
    assert r.status_code == 200, r.text
    assert r.headers.get("X-Request-ID") == rid
    token = r.json()["access_token"]
    assert s.me(token).status_code == 200
    assert s.me(admin.token).status_code == 200

    log = s.log_text_with(rid)
    assert rid in log, "custom request id not found in server log"
    assert admin.password not in log, "admin password leaked into log"
    assert wrong_pw not in log, "attempted password leaked into log"
    assert token not in log, "bearer token leaked into log"
    assert admin.token not in log, "bearer token leaked into log"
