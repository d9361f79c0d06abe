"""API tokens (docs/TOKENS.md, the contract).

  POST   /api/v1/internal/tokens                    201 token object + "token" (shown once)
  GET    /api/v1/internal/tokens                    ?page&page_size&state&name, newest first
  GET    /api/v1/internal/tokens/{id}
  PATCH  /api/v1/internal/tokens/{id}               any creation field; unknown fields 422
  POST   /api/v1/internal/tokens/{id}/pause|resume|reset-usage
  DELETE /api/v1/internal/tokens/{id}               204
  GET    /api/v1/internal/tokens/{id}/usage         ?days (1-366, default 30)

and the application API presenting them (Authorization: Bearer, X-Access-Token):
401 / 403 / 429 in the contract's order, X-RateLimit-* and X-Quota-* headers,
monthly quota units (one per successful request or batch image), usage that
is durable before the 2xx (graceful restart and kill -9), IP whitelists with
IPv4 / IPv6 CIDRs and trusted proxies, and token values that appear nowhere
(server log, inference log with payload capture, audit log, database bytes).

Servers (module scoped, shared by the tests):
  * main     127.0.0.1, no trusted proxies, logs.capture_payload on; two tiny
             published models (tests/fixtures/models/tiny_classifier.onnx).
             Never restarted: the rate-limit test checks its sliding window
             ~60 s later from a timer thread; the last test stops it and greps
             every file of its working directory for the token values.
  * edge     listening on "::" (dual stack): 127.0.0.1 clients are the peer
             ::ffff:127.0.0.1, ::1 clients an IPv6 peer; trusted_proxies
             127.0.0.1/32.
  * durable  default limits from the config, IP filter off; restarted (SIGTERM)
             and killed (SIGKILL) to check that usage is durable.
"""

import base64
import concurrent.futures
import datetime as dt
import hashlib
import ipaddress
import json
import math
import re
import secrets
import sqlite3
import struct
import threading
import time
import uuid
import zlib
from pathlib import Path

import pytest
import requests

from conftest import (API, TOKENS, TOKEN_RE, Server, assert_error, bearer,
                      create_api_token, db_query, get_api_token,
                      ipv6_loopback, make_admin, token_headers)
from test_model_lifecycle import LONG_TIMEOUT_S, publish_ok
from test_models_api import TINY_ONNX, admin_identity, need, upload_ok

APP = "/api/v1"
HTTP_TIMEOUT_S = 60
READY_TIMEOUT_S = 60

# The tiny classifier ([N,3,32,32] -> [N,4]) as an image classifier: cheap.
TINY_CONFIG = {"input": {"width": 32, "height": 32},
               "output": {"task": "classification", "labels": ["a", "b", "c", "d"],
                          "top_k": 1}}

TOKEN_KEYS = ("id", "name", "remark", "token_hint", "state", "is_active", "created_at",
              "updated_at", "expires_at", "allowed_models", "ip_whitelist",
              "rate_limit_per_minute", "monthly_limit", "used_count", "usage_month",
              "quota_remaining", "last_used_at", "created_by")
STATES = ("active", "paused", "expired", "exceeded")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
HINT_ELLIPSIS = "\u2026"
WWW_AUTH = 'Bearer realm="cinfer"'
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
QUOTA_HEADERS = ("X-Quota-Limit", "X-Quota-Remaining", "X-Quota-Reset")


# --------------------------------------------------------------------------
# images and time
# --------------------------------------------------------------------------

def _png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bytes(w=8, h=8, rgb=(10, 20, 30)):
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(raw)) + _png_chunk(b"IEND", b""))


PNG = png_bytes()
# a PNG signature followed by garbage: 422 INVALID_IMAGE
CORRUPT = b"\x89PNG\r\n\x1a\n" + bytes((i * 73 + 11) % 256 for i in range(2048))


def b64(data):
    return base64.b64encode(data).decode("ascii")


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def iso(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{t.microsecond // 1000:03d}Z"


def parse_ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def seconds_to_next_utc_month(now=None):
    now = now or utcnow()
    y, m = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return (dt.datetime(y, m, 1, tzinfo=dt.timezone.utc) - now).total_seconds()


def this_month():
    return utcnow().strftime("%Y-%m")


# --------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------

def app_call(server, method, path, value=None, form="bearer", headers=None, base=None,
             **kw):
    """An application-API request presenting `value` (None: no token)."""
    h = {} if value is None else token_headers(value, form)
    h.update(headers or {})
    kw.setdefault("timeout", HTTP_TIMEOUT_S)
    return requests.request(method, (base or server.url) + path, headers=h, **kw)


def list_models(server, value, **kw):
    return app_call(server, "GET", f"{APP}/models", value, **kw)


def infer(server, value, mid, data=PNG, kind="", **kw):
    path = f"{APP}/models/{mid}/infer" + (f"/{kind}" if kind else "")
    h = {"Content-Type": "image/png", **kw.pop("headers", {})}
    return app_call(server, "POST", path, value, data=data, headers=h, **kw)


def infer_batch(server, value, mid, images, **kw):
    return app_call(server, "POST", f"{APP}/models/{mid}/infer/batch", value,
                    json={"images": [b64(i) for i in images]}, **kw)


def admin_call(admin, method, path, **kw):
    h = bearer(admin.token)
    h.update(kw.pop("headers", {}) or {})
    kw.setdefault("timeout", HTTP_TIMEOUT_S)
    base = kw.pop("base", None) or admin.server.url
    return requests.request(method, base + path, headers=h, **kw)


def ok(resp, status=200, what="request"):
    assert resp.status_code == status, (
        f"{what}: expected HTTP {status}, got {resp.status_code}: {resp.text[:1000]!r}")
    if status == 204:
        assert resp.content == b"", f"{what}: 204 with a body {resp.content[:200]!r}"
        return None
    assert "json" in resp.headers.get("Content-Type", "").lower(), (
        f"{what}: Content-Type {resp.headers.get('Content-Type')!r}")
    return resp.json()


def refused(resp, status, code, what=""):
    """assert_error plus, for 429, a Retry-After of whole seconds > 0."""
    try:
        err = assert_error(resp, status, code)
    except AssertionError as e:
        raise AssertionError(f"{what}: {e}") from None
    if status == 429:
        ra = resp.headers.get("Retry-After")
        assert ra is not None and ra.strip().isdigit() and int(ra) > 0, (
            f"{what}: 429 {code} Retry-After {ra!r}")
    return err


def validation_failed(resp, field, what):
    err = refused(resp, 422, "VALIDATION_FAILED", what)
    assert field in err["message"], (
        f"{what}: the 422 message does not name the field {field!r}: {err['message']!r}")
    return err


def bad_param(resp, param, what):
    """A malformed query parameter: 400 BAD_REQUEST (as on the other list routes)
    or 422 VALIDATION_FAILED (the contract does not say), naming it."""
    assert resp.status_code in (400, 422), (
        f"{what}: expected 400/422, got {resp.status_code}: {resp.text[:300]!r}")
    err = refused(resp, resp.status_code,
                  "BAD_REQUEST" if resp.status_code == 400 else "VALIDATION_FAILED", what)
    assert param in err["message"], f"{what}: message does not name {param!r}: {err}"


def int_header(resp, name, what=""):
    v = resp.headers.get(name)
    assert v is not None, (
        f"{what}: {resp.status_code} response lacks {name}: {dict(resp.headers)}")
    assert re.fullmatch(r"\d+", v.strip()), f"{what}: {name} is not an integer: {v!r}"
    return int(v)


def no_headers(resp, names, what=""):
    present = {n: resp.headers[n] for n in names if n in resp.headers}
    assert not present, f"{what}: unexpected headers on a {resp.status_code}: {present}"


def wait_ready(server, timeout=READY_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while True:
        r = server.get("/health/ready", timeout=5)
        if r.status_code == 200:
            return
        assert time.monotonic() < deadline, f"/health/ready still {r.status_code}"
        time.sleep(0.2)


def fire(n, fn):
    """fn(i) on n threads released together; results in order."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait(timeout=60)
        return fn(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def check_token(t, value=None, what="token"):
    """The token object of docs/TOKENS.md; never the value."""
    assert isinstance(t, dict), f"{what}: {t!r}"
    missing = [k for k in TOKEN_KEYS if k not in t]
    assert not missing, f"{what}: token object lacks {missing}: {t}"
    assert "token" not in t, f"{what}: the token value is returned again: {t}"
    if value is not None:
        assert value not in json.dumps(t), f"{what}: the value appears in {t}"
        assert t["token_hint"] == f"cit_{HINT_ELLIPSIS}{value[-4:]}", (
            f"{what}: token_hint {t['token_hint']!r}, expected 'cit_…{value[-4:]}'")
    assert isinstance(t["id"], str) and t["id"], t
    assert isinstance(t["name"], str) and isinstance(t["remark"], str), t
    assert t["state"] in STATES, f"{what}: state {t['state']!r}"
    assert isinstance(t["is_active"], bool), t
    if t["state"] == "paused":
        assert t["is_active"] is False, f"{what}: paused but is_active: {t}"
    if t["is_active"] is False:
        assert t["state"] in ("paused", "expired"), f"{what}: not active, state {t['state']}"
    for k in ("created_at", "updated_at"):
        assert isinstance(t[k], str) and TS_RE.match(t[k]), f"{what}: {k} {t[k]!r}"
    for k in ("expires_at", "last_used_at"):
        assert t[k] is None or (isinstance(t[k], str) and TS_RE.match(t[k])), (
            f"{what}: {k} {t[k]!r}")
    assert isinstance(t["allowed_models"], list) and t["allowed_models"], t
    assert all(isinstance(m, str) for m in t["allowed_models"]), t
    assert isinstance(t["ip_whitelist"], list), t
    for k in ("rate_limit_per_minute", "monthly_limit"):
        assert t[k] is None or (isinstance(t[k], int) and t[k] >= 1), f"{what}: {k} {t[k]!r}"
    assert isinstance(t["used_count"], int) and t["used_count"] >= 0, t
    assert t["usage_month"] in (None, "") or re.fullmatch(r"\d{4}-\d{2}", t["usage_month"]), t
    if t["monthly_limit"] is None:
        assert t["quota_remaining"] is None, f"{what}: quota_remaining without a limit: {t}"
    else:
        assert t["quota_remaining"] == max(0, t["monthly_limit"] - t["used_count"]), (
            f"{what}: quota_remaining {t['quota_remaining']} != monthly_limit "
            f"{t['monthly_limit']} - used_count {t['used_count']}")
    assert isinstance(t["created_by"], str) and t["created_by"], t
    return t


def assert_values_absent(blob, values, where):
    """None of the token values (nor their first 20 characters) in `blob`."""
    is_bytes = isinstance(blob, (bytes, bytearray))
    for v in values:
        for needle in (v, v[:20]):
            n = needle.encode() if is_bytes else needle
            i = blob.find(n)
            assert i < 0, (
                f"token value {'prefix ' if needle != v else ''}{needle[:8]}… found in {where} "
                f"at offset {i}: {blob[max(0, i - 80):i + 60]!r}")


def publish_tiny(admin, name):
    m = upload_ok(admin, need(TINY_ONNX).read_bytes(), name, filename="tiny.onnx",
                  config=TINY_CONFIG, timeout=LONG_TIMEOUT_S)
    publish_ok(admin, m["id"], 1)
    return m["id"]


class Ctx:
    """A server with its admin, published models and every token value created
    on it. Callable with a `servers` list so that conftest attaches the server
    log to failing tests."""

    def __init__(self, admin):
        self.admin = admin
        self.server = admin.server
        self.servers = [self.server]
        self.values = []      # every token value created here
        self.presented = []   # values presented that were never tokens
        self.models = {}

    def __call__(self):
        return self

    def token(self, **fields):
        value, body = create_api_token(self.admin, **fields)
        self.values.append(value)
        assert body["token"] == value
        check_token({k: v for k, v in body.items() if k != "token"}, value, "creation answer")
        return value, body

    def create(self, body, **kw):
        """POST /tokens with `body` as is (for refusals); records any value."""
        r = admin_call(self.admin, "POST", TOKENS, json=body, **kw)
        if r.status_code == 201 and isinstance(r.json().get("token"), str):
            self.values.append(r.json()["token"])
        return r

    def call(self, method, path, **kw):
        return admin_call(self.admin, method, path, **kw)

    def get(self, tid):
        return check_token(get_api_token(self.admin, tid), what=f"GET {tid}")

    def act(self, tid, action, status=200):
        r = self.call("POST", f"{TOKENS}/{tid}/{action}")
        return check_token(ok(r, status, action), what=action) if status == 200 else r

    def patch(self, tid, body):
        return self.call("PATCH", f"{TOKENS}/{tid}", json=body)

    def listing(self, **params):
        return ok(self.call("GET", TOKENS, params=params), 200, f"list {params}")

    def fake_value(self):
        v = "cit_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        assert TOKEN_RE.match(v)
        self.presented.append(v)
        return v


def start_server(tmp_path_factory, name, env, host="127.0.0.1"):
    s = Server(tmp_path_factory.mktemp(name), env=env, host=host)
    s.start()
    return s


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

MAIN_ENV = {"CINFER_SERVER__WORKERS": "16", "CINFER_SERVER__INFERENCE_WORKERS": "16", "CINFER_REQUEST__TIMEOUT_MS": "60000",
            "CINFER_LOGS__CAPTURE_PAYLOAD": "true"}
EXPIRY_S = 5.0


@pytest.fixture(scope="module")
def main(tmp_path_factory):
    s = start_server(tmp_path_factory, "main", MAIN_ENV)
    try:
        ctx = Ctx(make_admin(s))
        # tokens that expire a few seconds from now (test_expired_token waits
        # for them, by then usually without waiting)
        exp = iso(utcnow() + dt.timedelta(seconds=EXPIRY_S))
        ctx.expiring = {"plain": ctx.token(expires_at=exp, rate_limit_per_minute=None),
                        "paused": ctx.token(expires_at=exp, rate_limit_per_minute=None)}
        ctx.expires_at = parse_ts(exp)
        ctx.act(ctx.expiring["paused"][1]["id"], "pause")
        ctx.a = publish_tiny(ctx.admin, "tok-a")
        ctx.b = publish_tiny(ctx.admin, "tok-b")
        yield ctx
    finally:
        s.stop()


EDGE_ENV = {"CINFER_SERVER__TRUSTED_PROXIES": "127.0.0.1/32", "CINFER_SERVER__WORKERS": "8", "CINFER_SERVER__INFERENCE_WORKERS": "8"}


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback (::1) on this machine")
    s = start_server(tmp_path_factory, "edge", EDGE_ENV, host="::")
    try:
        ctx = Ctx(make_admin(s))
        ctx.v4 = s.url_via("127.0.0.1")   # peer ::ffff:127.0.0.1 = 127.0.0.1, trusted
        ctx.v6 = s.url_via("::1")         # peer ::1, not trusted
        yield ctx
    finally:
        s.stop()


DURABLE_ENV = {"CINFER_SERVER__WORKERS": "16", "CINFER_SERVER__INFERENCE_WORKERS": "16", "CINFER_REQUEST__TIMEOUT_MS": "60000",
               "CINFER_REQUEST__QUEUE_SIZE": "1000",
               "CINFER_AUTH__TOKEN_EXPIRY_DAYS": "7",
               "CINFER_AUTH__RATE_LIMIT__REQUESTS_PER_MINUTE": "120",
               "CINFER_AUTH__RATE_LIMIT__REQUESTS_PER_MONTH": "0",
               "CINFER_AUTH__IP_FILTER__ENABLED": "false"}


@pytest.fixture(scope="module")
def durable(tmp_path_factory):
    s = start_server(tmp_path_factory, "durable", DURABLE_ENV)
    try:
        ctx = Ctx(make_admin(s))
        ctx.a = publish_tiny(ctx.admin, "dur-a")
        yield ctx
    finally:
        s.stop()


# --------------------------------------------------------------------------
# rate limit: a burst now, the sliding window checked ~60 s later
# --------------------------------------------------------------------------

RATE_GAP_S = 8.0      # between the first request and the burst


def _timed(fn):
    t0 = time.monotonic()
    r = fn()
    return t0, time.monotonic(), r


def _ra_bounds(oldest_lo, oldest_hi, sent, received):
    """Retry-After / X-RateLimit-Reset expected when the oldest counted
    admission happened in [oldest_lo, oldest_hi] and the answer was made in
    [sent, received]: ceil(oldest + 60 - now), with one second of slack."""
    return (math.ceil(oldest_lo + 60 - received) - 1, math.ceil(oldest_hi + 60 - sent) + 1)


@pytest.fixture(scope="module")
def rate_window(main):
    """rate_limit_per_minute 30: one request, 8 s later a burst of 40, one more request
    after it; then a timer sends 3 requests once the first has left the window (~61 s
    after it) while the module's other tests run. Either rate test may run alone or
    first: whichever asks first makes the traffic."""
    s = main.server
    value, t = main.token(rate_limit_per_minute=30, monthly_limit=None)
    rate = {}
    rate["first"] = _timed(lambda: list_models(s, value))
    time.sleep(RATE_GAP_S)
    rate["burst"] = fire(40, lambda i: _timed(lambda: list_models(s, value)))
    rate["after"] = list_models(s, value)
    admitted = [(a, b, r) for a, b, r in rate["burst"] if r.status_code == 200]
    rate["burst_lo"] = min(a for a, _, _ in rate["burst"])
    rate["burst_hi"] = min((b for _, b, _ in admitted), default=rate["burst_lo"])
    first_recv = rate["first"][1]
    delay = first_recv + 61.0 - time.monotonic()

    def later():
        try:
            rate["results"] = [_timed(lambda: list_models(s, value)) for _ in range(3)]
        except Exception as e:  # noqa: BLE001 - reported by the slide test
            rate["error"] = repr(e)

    timer = threading.Timer(max(0.0, delay), later)
    timer.daemon = True
    timer.start()
    rate["timer"] = timer
    yield rate
    timer.cancel()


def test_rate_limit_burst(rate_window):
    """Exactly 29 of the burst are admitted; the refused get 429 RATE_LIMITED with
    Retry-After = seconds until the *oldest* counted request leaves the window (~52,
    not 60); X-RateLimit-Remaining counts down 28..0 over the admitted."""
    first_sent, first_recv, r = rate_window["first"]
    ok(r, 200, "first request")
    assert int_header(r, "X-RateLimit-Limit", "first") == 30
    assert int_header(r, "X-RateLimit-Remaining", "first") == 29
    reset = int_header(r, "X-RateLimit-Reset", "first")
    assert 59 <= reset <= 60, f"X-RateLimit-Reset of the only counted request: {reset}"

    burst = rate_window["burst"]
    codes = [r.status_code for _, _, r in burst]
    assert codes.count(200) == 29 and codes.count(429) == 11, (
        f"burst of 40 with 29 admissions left in the window: {sorted(codes)}")
    admitted = [(a, b, r) for a, b, r in burst if r.status_code == 200]
    rem = sorted(int_header(r, "X-RateLimit-Remaining", "burst 200") for _, _, r in admitted)
    assert rem == list(range(29)), f"X-RateLimit-Remaining of the admitted: {rem}"
    for sent, recv, r in burst:
        assert int_header(r, "X-RateLimit-Limit", "burst") == 30
        if r.status_code != 429:
            continue
        refused(r, 429, "RATE_LIMITED", "burst 429")
        ra = int(r.headers["Retry-After"])
        lo, hi = _ra_bounds(first_sent, first_recv, sent, recv)
        assert lo <= ra <= hi, (
            f"Retry-After {ra}: the oldest counted request (sent {RATE_GAP_S:.0f} s "
            f"before the burst) leaves the window in [{lo}, {hi}] s")
        assert int_header(r, "X-RateLimit-Remaining", "429") == 0
        assert abs(int_header(r, "X-RateLimit-Reset", "429") - ra) <= 1, (
            f"X-RateLimit-Reset {r.headers['X-RateLimit-Reset']} vs Retry-After {ra}")
    # refused requests are not counted: still full
    refused(rate_window["after"], 429, "RATE_LIMITED", "after the burst")


# --------------------------------------------------------------------------
# token values and the admin API
# --------------------------------------------------------------------------

def test_create_shows_the_value_once(main):
    before = utcnow()
    value, t = main.token(remark="first")
    assert value.startswith("cit_") and len(value) == 47 and TOKEN_RE.match(value), value
    # defaults: auth.token_expiry_days 30, requests_per_minute 60, per month 10000
    assert t["state"] == "active" and t["is_active"] is True, t
    assert t["allowed_models"] == ["*"] and t["ip_whitelist"] == [], t
    assert t["rate_limit_per_minute"] == 60 and t["monthly_limit"] == 10000, t
    assert t["used_count"] == 0 and t["quota_remaining"] == 10000, t
    assert t["last_used_at"] is None and t["remark"] == "first", t
    assert t["created_by"] in admin_identity(main.admin), t["created_by"]
    created = parse_ts(t["created_at"])
    assert abs((created - before).total_seconds()) < 30, (t["created_at"], before)
    exp = parse_ts(t["expires_at"])
    assert abs((exp - created).total_seconds() - 30 * 86400) < 60, (
        f"default expires_at {t['expires_at']} is not created_at + 30 days")

    v2, t2 = main.token()
    assert v2 != value and t2["id"] != t["id"]

    got = main.get(t["id"])
    check_token(got, value, "GET")
    assert got == {k: v for k, v in t.items() if k != "token"}, (
        f"GET differs from the creation answer:\n{got}\n{t}")
    listing = main.call("GET", TOKENS, params={"name": t["name"]})
    assert value not in listing.text and v2 not in listing.text
    items = ok(listing)["items"]
    assert [i["id"] for i in items] == [t["id"]], items
    check_token(items[0], value, "list item")

    # stored: the SHA-256 (hex) of the whole value and its last 4 characters
    rows = db_query(main.server.data_dir,
                    "SELECT token_hash, token_suffix FROM tokens WHERE id = ?", (t["id"],))
    assert rows == [(hashlib.sha256(value.encode()).hexdigest(), value[-4:])], rows

    # it works, on both header forms
    ok(list_models(main.server, value), 200, "Bearer")
    ok(list_models(main.server, value, form="x-access-token"), 200, "X-Access-Token")


def test_create_validation(main):
    prefix = f"val-{uuid.uuid4().hex[:8]}-"
    n = iter(range(1000))

    def name():
        return f"{prefix}{next(n)}"

    past = iso(utcnow() - dt.timedelta(minutes=1))
    cases = [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": prefix + "x" * 100}, "name"),
        ({"name": 5}, "name"),
        ({"name": name(), "remark": "r" * 1001}, "remark"),
        ({"name": name(), "remark": 7}, "remark"),
        ({"name": name(), "expires_at": past}, "expires_at"),
        ({"name": name(), "expires_at": "tomorrow"}, "expires_at"),
        ({"name": name(), "expires_at": 1893456000}, "expires_at"),
        ({"name": name(), "allowed_models": []}, "allowed_models"),
        ({"name": name(), "allowed_models": "*"}, "allowed_models"),
        ({"name": name(), "allowed_models": [str(uuid.uuid4())]}, "allowed_models"),
        ({"name": name(), "allowed_models": [main.a, "no-such-model"]}, "allowed_models"),
        ({"name": name(), "ip_whitelist": ["10.0.0.0/33"]}, "ip_whitelist"),
        ({"name": name(), "ip_whitelist": ["10.0.0.0/8", "not-an-ip"]}, "ip_whitelist"),
        ({"name": name(), "ip_whitelist": ["2001:db8::/129"]}, "ip_whitelist"),
        ({"name": name(), "ip_whitelist": ["host.example.com"]}, "ip_whitelist"),
        ({"name": name(), "ip_whitelist": "10.0.0.0/8"}, "ip_whitelist"),
        ({"name": name(), "ip_whitelist": [f"10.0.{i}.0/24" for i in range(101)]},
         "ip_whitelist"),
        ({"name": name(), "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
        ({"name": name(), "rate_limit_per_minute": 1000001}, "rate_limit_per_minute"),
        ({"name": name(), "rate_limit_per_minute": "60"}, "rate_limit_per_minute"),
        ({"name": name(), "rate_limit_per_minute": 1.5}, "rate_limit_per_minute"),
        ({"name": name(), "monthly_limit": 0}, "monthly_limit"),
        ({"name": name(), "monthly_limit": -5}, "monthly_limit"),
        ({"name": name(), "colour": "red"}, "colour"),
        ({"name": name(), "token": main.fake_value()}, "token"),
    ]
    for body, field in cases:
        validation_failed(main.create(body), field, f"POST {json.dumps(body)[:120]}")
    r = main.call("POST", TOKENS, data=b"{not json", headers={"Content-Type": "application/json"})
    refused(r, 400, "INVALID_JSON", "malformed JSON")
    refused(main.call("POST", TOKENS, json=[{"name": name()}]), 400, "INVALID_JSON",
            "a JSON array")
    assert ok(main.call("GET", TOKENS, params={"name": prefix}))["total"] == 0, (
        "a refused creation left a token behind")

    # the edges that are allowed
    _, t = main.token(name=prefix + "y" * (100 - len(prefix)), rate_limit_per_minute=1,
                      monthly_limit=1, expires_at=None, remark="r" * 1000)
    assert len(t["name"]) == 100 and t["expires_at"] is None, t
    assert t["rate_limit_per_minute"] == 1 and t["monthly_limit"] == 1, t
    _, t = main.token(rate_limit_per_minute=1000000, monthly_limit=None,
                      ip_whitelist=[f"10.{i}.0.0/16" for i in range(100)])
    assert t["rate_limit_per_minute"] == 1000000 and t["monthly_limit"] is None, t
    assert len(t["ip_whitelist"]) == 100 and t["quota_remaining"] is None, t
    wl = ["10.0.0.0/8", "2001:db8::/32", "192.168.1.7", "::1"]
    _, t = main.token(ip_whitelist=wl, allowed_models=[main.a, main.b])
    assert ({ipaddress.ip_network(e, strict=False) for e in t["ip_whitelist"]}
            == {ipaddress.ip_network(e, strict=False) for e in wl}), t["ip_whitelist"]
    assert sorted(t["allowed_models"]) == sorted([main.a, main.b]), t

    # a taken name
    refused(main.create({"name": t["name"]}), 409, "TOKEN_NAME_TAKEN", "taken name")
    # admin only
    refused(requests.post(main.server.url + TOKENS, json={"name": name()}, timeout=30),
            401, "UNAUTHENTICATED", "no admin token")


def test_list_paging_and_filters(main):
    tag = uuid.uuid4().hex[:8]
    prefix = f"list-{tag}-"
    made = []
    for i in range(5):
        v, t = main.token(name=f"{prefix}{i}")
        made.append((v, t))
        time.sleep(0.01)
    ids = [t["id"] for _, t in made]
    newest_first = ids[::-1]

    r = main.call("GET", TOKENS, params={"name": prefix})
    page = ok(r)
    for v, _ in made:
        assert v not in r.text, "a token value in the listing"
    assert set(page) >= {"items", "total", "page", "page_size"}, page
    assert page["total"] == 5 and page["page"] == 1 and page["page_size"] == 20, page
    assert [i["id"] for i in page["items"]] == newest_first, "not newest first"
    for it in page["items"]:
        check_token(it, what="list item")

    got = []
    for n in (1, 2, 3):
        p = main.listing(name=prefix, page=n, page_size=2)
        assert p["total"] == 5 and p["page"] == n and p["page_size"] == 2, p
        got += [i["id"] for i in p["items"]]
    assert got == newest_first, f"pages {got} do not follow the listing {newest_first}"
    p = main.listing(name=prefix, page=4, page_size=2)
    assert p["items"] == [] and p["total"] == 5, p
    assert [i["id"] for i in main.listing(name=f"{tag}-3")["items"]] == [ids[3]]

    main.act(ids[1], "pause")
    p = main.listing(name=prefix, state="paused")
    assert [i["id"] for i in p["items"]] == [ids[1]] and p["total"] == 1, p
    p = main.listing(name=prefix, state="active")
    assert [i["id"] for i in p["items"]] == [x for x in newest_first if x != ids[1]], p
    assert main.listing(name=prefix, state="expired")["total"] == 0
    assert main.listing(name=prefix, state="exceeded")["total"] == 0

    # paging as on the model and log lists: 400 BAD_REQUEST naming the parameter
    for params in ({"page_size": 0}, {"page_size": 101}, {"page_size": "x"}, {"page": 0},
                   {"page": -1}):
        r = main.call("GET", TOKENS, params=params)
        err = refused(r, 400, "BAD_REQUEST", f"GET tokens {params}")
        assert next(iter(params)) in err["message"], err
    bad_param(main.call("GET", TOKENS, params={"state": "sleeping"}), "state",
              "GET tokens state=sleeping")
    assert main.listing(page_size=100)["page_size"] == 100


def test_get_patch_and_not_found(main):
    value, t = main.token(remark="before", rate_limit_per_minute=None)
    _, other = main.token()
    tid = t["id"]
    time.sleep(0.01)
    p = check_token(ok(main.patch(tid, {"remark": "after"}), 200, "PATCH remark"), value)
    assert p["remark"] == "after", p
    unchanged = {k: v for k, v in t.items() if k not in ("token", "remark", "updated_at")}
    assert {k: p[k] for k in unchanged} == unchanged, f"a partial PATCH changed more:\n{p}\n{t}"
    assert parse_ts(p["updated_at"]) >= parse_ts(t["updated_at"]), p
    assert main.get(tid) == p

    future = iso(utcnow() + dt.timedelta(days=3))
    refusals = [
        ({"name": other["name"]}, 409, "TOKEN_NAME_TAKEN", None),
        ({"colour": "red"}, 422, "VALIDATION_FAILED", "colour"),
        ({"token": main.fake_value()}, 422, "VALIDATION_FAILED", "token"),
        ({"ip_whitelist": ["300.1.2.3"]}, 422, "VALIDATION_FAILED", "ip_whitelist"),
        ({"remark": "x", "ip_whitelist": ["10.0.0.0/8", "::1/200"]}, 422,
         "VALIDATION_FAILED", "ip_whitelist"),
        ({"allowed_models": [str(uuid.uuid4())]}, 422, "VALIDATION_FAILED", "allowed_models"),
        ({"allowed_models": []}, 422, "VALIDATION_FAILED", "allowed_models"),
        ({"expires_at": iso(utcnow() - dt.timedelta(seconds=5))}, 422, "VALIDATION_FAILED",
         "expires_at"),
        ({"rate_limit_per_minute": 0}, 422, "VALIDATION_FAILED", "rate_limit_per_minute"),
        ({"monthly_limit": 0}, 422, "VALIDATION_FAILED", "monthly_limit"),
        ({"name": ""}, 422, "VALIDATION_FAILED", "name"),
        ({"remark": "x", "expires_at": future, "monthly_limit": "many"}, 422,
         "VALIDATION_FAILED", "monthly_limit"),
    ]
    for body, status, code, field in refusals:
        r = main.patch(tid, body)
        if field:
            validation_failed(r, field, f"PATCH {body}")
        else:
            refused(r, status, code, f"PATCH {body}")
    r = main.call("PATCH", f"{TOKENS}/{tid}", data=b"[1,",
                  headers={"Content-Type": "application/json"})
    refused(r, 400, "INVALID_JSON", "PATCH malformed JSON")
    assert main.get(tid) == p, "a refused PATCH changed the token"

    body = {"name": f"patched-{uuid.uuid4().hex[:8]}", "allowed_models": [main.a],
            "ip_whitelist": ["127.0.0.0/8", "2001:db8::/32"], "rate_limit_per_minute": 5,
            "monthly_limit": 50, "expires_at": future}
    q = check_token(ok(main.patch(tid, body), 200, "PATCH all"), value)
    for k in ("name", "allowed_models", "rate_limit_per_minute", "monthly_limit"):
        assert q[k] == body[k], (k, q[k], body[k])
    assert abs((parse_ts(q["expires_at"]) - parse_ts(future)).total_seconds()) < 1, q
    assert q["quota_remaining"] == 50 and q["state"] == "active", q
    q = check_token(ok(main.patch(tid, {"expires_at": None, "rate_limit_per_minute": None,
                                        "monthly_limit": None}), 200, "PATCH nulls"), value)
    assert (q["expires_at"], q["rate_limit_per_minute"], q["monthly_limit"],
            q["quota_remaining"]) == (None, None, None, None), q
    # the value is unchanged by a PATCH
    ok(app_call(main.server, "GET", f"{APP}/models/{main.a}", value), 200, "after PATCH")

    missing = str(uuid.uuid4())
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/pause"),
                         ("POST", "/resume"), ("POST", "/reset-usage"), ("GET", "/usage")):
        kw = {"json": {"remark": "x"}} if method == "PATCH" else {}
        refused(main.call(method, f"{TOKENS}/{missing}{path}", **kw), 404, "TOKEN_NOT_FOUND",
                f"{method} unknown token{path}")


def test_pause_resume_delete(main):
    s = main.server
    value, t = main.token(rate_limit_per_minute=None)
    tid = t["id"]
    ok(list_models(s, value), 200, "active")
    p = main.act(tid, "pause")
    assert p["state"] == "paused" and p["is_active"] is False, p
    refused(list_models(s, value), 403, "TOKEN_PAUSED", "paused")
    refused(infer(s, value, main.a), 403, "TOKEN_PAUSED", "paused infer")
    assert main.act(tid, "pause")["state"] == "paused", "pause is not idempotent"
    assert main.get(tid)["used_count"] == 0
    r = main.act(tid, "resume")
    assert r["state"] == "active" and r["is_active"] is True, r
    ok(list_models(s, value), 200, "resumed")
    assert main.act(tid, "resume")["state"] == "active", "resume is not idempotent"

    ok(main.call("DELETE", f"{TOKENS}/{tid}"), 204, "DELETE")
    body = refused(list_models(s, value), 401, "UNAUTHENTICATED", "deleted token")
    refused(infer(s, value, main.a, form="x-access-token"), 401, "UNAUTHENTICATED",
            "deleted token (X-Access-Token)")
    refused(main.call("GET", f"{TOKENS}/{tid}"), 404, "TOKEN_NOT_FOUND", "GET deleted")
    refused(main.call("DELETE", f"{TOKENS}/{tid}"), 404, "TOKEN_NOT_FOUND", "DELETE again")
    assert main.listing(name=t["name"])["total"] == 0
    assert body["code"] == "UNAUTHENTICATED"


def _strip_rid(resp):
    body = resp.json()
    err = dict(body["error"])
    err.pop("request_id", None)
    return {**body, "error": err}


def test_unauthenticated_answers_are_identical(main):
    """Missing, malformed and unknown tokens (and admin JWTs) get one 401 body,
    WWW-Authenticate: Bearer realm="cinfer", and no rate/quota headers."""
    s = main.server
    jwt = main.admin.token
    variants = {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "bearer junk": {"Authorization": "Bearer not-a-token"},
        "short cit_": {"Authorization": "Bearer cit_abc"},
        "unknown cit_": token_headers(main.fake_value()),
        "unknown cit_ (X-Access-Token)": token_headers(main.fake_value(), "x-access-token"),
        "junk X-Access-Token": {"X-Access-Token": "hello"},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "admin JWT": bearer(jwt),
        "admin JWT (X-Access-Token)": {"X-Access-Token": jwt},
    }
    routes = [("GET", f"{APP}/models", {}), ("GET", f"{APP}/models/{main.a}", {}),
              ("POST", f"{APP}/models/{main.a}/infer",
               {"data": PNG, "headers": {"Content-Type": "image/png"}}),
              ("GET", f"{APP}/requests/{uuid.uuid4()}", {})]
    bodies = {}
    for label, h in variants.items():
        for method, path, kw in routes:
            kw = dict(kw)
            headers = {**kw.pop("headers", {}), **h}
            r = requests.request(method, s.url + path, headers=headers, timeout=30, **kw)
            what = f"{label}: {method} {path}"
            refused(r, 401, "UNAUTHENTICATED", what)
            assert r.headers.get("WWW-Authenticate") == WWW_AUTH, (
                f"{what}: WWW-Authenticate {r.headers.get('WWW-Authenticate')!r}")
            no_headers(r, RATE_HEADERS + QUOTA_HEADERS, what)
            bodies[what] = _strip_rid(r)
    distinct = {json.dumps(b, sort_keys=True) for b in bodies.values()}
    assert len(distinct) == 1, "401 bodies differ (minus request_id):\n" + "\n".join(
        f"  {k}: {v}" for k, v in bodies.items())


def test_header_forms_and_scopes(main):
    s = main.server
    good, gt = main.token(rate_limit_per_minute=None)
    paused, pt = main.token(rate_limit_per_minute=None)
    main.act(pt["id"], "pause")
    ok(list_models(s, good, form="x-access-token"), 200, "X-Access-Token")
    ok(infer(s, good, main.a, form="x-access-token"), 200, "infer with X-Access-Token")
    # both given: Authorization wins
    ok(list_models(s, good, headers={"X-Access-Token": paused}), 200,
       "valid Authorization + paused X-Access-Token")
    refused(list_models(s, paused, headers={"X-Access-Token": good}), 403, "TOKEN_PAUSED",
            "paused Authorization + valid X-Access-Token")
    refused(app_call(s, "GET", f"{APP}/models", None,
                     headers={"Authorization": "Bearer nope", "X-Access-Token": good}),
            401, "UNAUTHENTICATED", "junk Authorization + valid X-Access-Token")
    # an API token is not an admin JWT
    for method, path in (("GET", TOKENS), ("GET", f"{API}/auth/me"), ("GET", f"{API}/models"),
                         ("GET", f"{API}/logs"), ("GET", f"{TOKENS}/{gt['id']}"),
                         ("POST", f"{TOKENS}/{pt['id']}/resume")):
        for form in ("bearer", "x-access-token"):
            r = requests.request(method, s.url + path, headers=token_headers(good, form),
                                 timeout=30)
            refused(r, 401, "UNAUTHENTICATED", f"API token ({form}) on {method} {path}")
    assert main.get(pt["id"])["state"] == "paused"


def test_expired_token(main):
    """Tokens created with expires_at a few seconds ahead: 403 TOKEN_EXPIRED
    once it passed (also when paused: expired is checked first), state
    expired, listed under state=expired; a PATCH of expires_at revives them."""
    s = main.server
    wait = (main.expires_at - utcnow()).total_seconds() + 0.5
    if wait > 0:
        time.sleep(wait)
    plain_v, plain = main.expiring["plain"]
    paused_v, paused = main.expiring["paused"]
    t = main.get(plain["id"])
    assert t["state"] == "expired" and t["is_active"] is True, t
    refused(list_models(s, plain_v), 403, "TOKEN_EXPIRED", "expired")
    refused(infer(s, plain_v, main.a), 403, "TOKEN_EXPIRED", "expired infer")
    t = main.get(paused["id"])
    assert t["state"] == "expired" and t["is_active"] is False, t
    refused(list_models(s, paused_v), 403, "TOKEN_EXPIRED", "expired and paused")
    ids = {i["id"] for i in main.listing(state="expired", page_size=100)["items"]}
    assert {plain["id"], paused["id"]} <= ids, "expired tokens not listed under state=expired"
    assert plain["id"] not in {i["id"] for i in main.listing(state="active", page_size=100)["items"]}

    # other changes leave it expired (its expires_at, not given, is not re-checked)
    t = check_token(ok(main.patch(plain["id"], {"remark": "still expired"}), 200,
                       "PATCH remark of an expired token"))
    assert t["state"] == "expired" and t["remark"] == "still expired", t
    # resuming does not revive an expired token; a later expires_at does
    assert main.act(paused["id"], "resume")["state"] == "expired"
    refused(list_models(s, paused_v), 403, "TOKEN_EXPIRED", "expired, resumed")
    t = check_token(ok(main.patch(plain["id"], {"expires_at": iso(utcnow() + dt.timedelta(
        hours=1))}), 200, "PATCH expires_at"))
    assert t["state"] == "active", t
    ok(list_models(s, plain_v), 200, "revived")
    t = check_token(ok(main.patch(paused["id"], {"expires_at": None}), 200, "PATCH null"))
    assert t["state"] == "active" and t["expires_at"] is None, t
    ok(list_models(s, paused_v), 200, "revived (never expires)")
    assert main.get(plain["id"])["used_count"] == 0, "403 answers used quota"


def test_order_of_checks(main):
    s = main.server
    # paused and outside the whitelist: TOKEN_PAUSED
    v, t = main.token(ip_whitelist=["10.0.0.0/8"], rate_limit_per_minute=None)
    main.act(t["id"], "pause")
    refused(list_models(s, v), 403, "TOKEN_PAUSED", "paused + IP")
    # outside the whitelist and the model not allowed: IP_NOT_ALLOWED
    v, t = main.token(ip_whitelist=["10.0.0.0/8"], allowed_models=[main.a],
                      rate_limit_per_minute=None)
    refused(app_call(s, "GET", f"{APP}/models/{main.b}", v), 403, "IP_NOT_ALLOWED",
            "IP + model")
    # 403s are not counted by the rate limit; model-not-allowed before 429
    v, t = main.token(allowed_models=[main.a], rate_limit_per_minute=2, monthly_limit=10)
    for _ in range(3):
        refused(app_call(s, "GET", f"{APP}/models/{main.b}", v), 403, "MODEL_NOT_ALLOWED",
                "model B")
    refused(infer(s, v, main.b), 403, "MODEL_NOT_ALLOWED", "infer model B")
    ok(app_call(s, "GET", f"{APP}/models/{main.a}", v), 200, "1st allowed")
    r = app_call(s, "GET", f"{APP}/models/{main.a}", v)
    ok(r, 200, "2nd allowed: the 403s before it were not counted")
    assert int_header(r, "X-RateLimit-Remaining") == 0
    refused(app_call(s, "GET", f"{APP}/models/{main.a}", v), 429, "RATE_LIMITED", "3rd")
    refused(app_call(s, "GET", f"{APP}/models/{main.b}", v), 403, "MODEL_NOT_ALLOWED",
            "model B while rate limited")
    # a paused token's refusals are not counted either
    v, t = main.token(rate_limit_per_minute=1, monthly_limit=None)
    main.act(t["id"], "pause")
    for _ in range(3):
        refused(list_models(s, v), 403, "TOKEN_PAUSED", "paused")
    main.act(t["id"], "resume")
    ok(list_models(s, v), 200, "the paused refusals were not counted")
    refused(list_models(s, v), 429, "RATE_LIMITED", "limit 1 reached")
    assert main.get(t["id"])["used_count"] == 0


def test_rate_limit_changes_apply_at_once(main):
    s = main.server
    v, t = main.token(rate_limit_per_minute=2, monthly_limit=None)
    assert [list_models(s, v).status_code for _ in range(3)] == [200, 200, 429]
    ok(main.patch(t["id"], {"rate_limit_per_minute": 3}), 200)
    r = list_models(s, v)
    ok(r, 200, "limit raised to 3")
    assert (int_header(r, "X-RateLimit-Limit"), int_header(r, "X-RateLimit-Remaining")) == (3, 0)
    refused(list_models(s, v), 429, "RATE_LIMITED", "3 of 3")
    ok(main.patch(t["id"], {"rate_limit_per_minute": None}), 200)
    r = list_models(s, v)
    ok(r, 200, "no limit")
    no_headers(r, RATE_HEADERS, "no per-minute limit")


def test_quota_refusals_are_not_counted_by_the_rate_limit(main):
    """docs/TOKENS.md: "refused (429) requests do not [count]" - a request
    refused with 429 QUOTA_EXCEEDED leaves the per-minute window as it was."""
    s = main.server
    v, t = main.token(rate_limit_per_minute=2, monthly_limit=1)
    r = infer(s, v, main.a)
    ok(r, 200, "the one unit")
    assert int_header(r, "X-RateLimit-Remaining") == 1
    r = infer(s, v, main.a)
    refused(r, 429, "QUOTA_EXCEEDED", "quota used up")
    r = list_models(s, v)
    assert r.status_code == 200, (
        f"GET /api/v1/models after [200 infer, 429 QUOTA_EXCEEDED infer] on "
        f"rate_limit_per_minute 2: {r.status_code} {r.text[:200]!r} - the QUOTA_EXCEEDED "
        f"refusal was counted by the rate limit")
    assert int_header(r, "X-RateLimit-Remaining") == 0
    refused(list_models(s, v), 429, "RATE_LIMITED", "2 of 2")


def test_allowed_models(main):
    s = main.server
    v, t = main.token(allowed_models=[main.a], rate_limit_per_minute=None, monthly_limit=100)
    listing = ok(list_models(s, v), 200, "list")
    ids = [m["id"] for m in listing["items"]]
    assert ids == [main.a], f"a token allowed only {main.a} lists {ids}"
    assert listing.get("total", len(ids)) == 1, listing
    ok(app_call(s, "GET", f"{APP}/models/{main.a}", v), 200, "GET allowed model")
    ok(infer(s, v, main.a), 200, "infer allowed model")
    refused(app_call(s, "GET", f"{APP}/models/{main.b}", v), 403, "MODEL_NOT_ALLOWED", "GET B")
    refused(infer(s, v, main.b), 403, "MODEL_NOT_ALLOWED", "infer B")
    refused(infer_batch(s, v, main.b, [PNG]), 403, "MODEL_NOT_ALLOWED", "batch B")
    refused(infer(s, v, main.b, kind="async"), 403, "MODEL_NOT_ALLOWED", "async B")
    refused(app_call(s, "GET", f"{APP}/models/{uuid.uuid4()}", v), 403, "MODEL_NOT_ALLOWED",
            "a model id outside the list")
    assert main.get(t["id"])["used_count"] == 1, "403 answers used quota"

    wild, _ = main.token(rate_limit_per_minute=None)
    ids = {m["id"] for m in ok(list_models(s, wild))["items"]}
    assert {main.a, main.b} <= ids, ids
    refused(app_call(s, "GET", f"{APP}/models/{uuid.uuid4()}", wild), 404, "MODEL_NOT_FOUND",
            "unknown model with [*]")

    # a change applies to the very next request
    ok(main.patch(t["id"], {"allowed_models": [main.b]}), 200, "PATCH allowed_models")
    assert [m["id"] for m in ok(list_models(s, v))["items"]] == [main.b]
    refused(infer(s, v, main.a), 403, "MODEL_NOT_ALLOWED", "A after PATCH")
    ok(infer(s, v, main.b), 200, "B after PATCH")


def test_async_result_belongs_to_its_token(main):
    s = main.server
    v1, t1 = main.token(rate_limit_per_minute=None, monthly_limit=10)
    v2, _ = main.token(rate_limit_per_minute=None)
    sub = ok(infer(s, v1, main.a, kind="async"), 202, "async")
    # the unit is committed before the 202
    assert main.get(t1["id"])["used_count"] == 1, "async unit not committed before the 202"
    url = sub["status_url"]
    refused(app_call(s, "GET", url, v2), 404, "REQUEST_NOT_FOUND", "another token")
    refused(app_call(s, "GET", url, None), 401, "UNAUTHENTICATED", "no token")
    deadline = time.monotonic() + 30
    while True:
        r = app_call(s, "GET", url, v1)
        if r.status_code == 200:
            break
        assert r.status_code == 202, f"owner GET: {r.status_code} {r.text[:300]}"
        assert time.monotonic() < deadline, "async request unfinished after 30 s"
        time.sleep(0.05)
    assert r.json()["status"] == "done", r.json()
    refused(app_call(s, "GET", url, v2, form="x-access-token"), 404, "REQUEST_NOT_FOUND",
            "another token, after it finished")
    ok(app_call(s, "GET", url, v1, form="x-access-token"), 200, "owner, X-Access-Token")
    assert main.get(t1["id"])["used_count"] == 1, "reading the result used quota"


def test_usage_units_and_usage_report(main):
    """One unit per successful single / async request and per successful batch
    image; 401/403/404/422 and listings use nothing; the usage report."""
    s = main.server
    today = utcnow().date()
    v, t = main.token(rate_limit_per_minute=None, monthly_limit=1000)
    tid = t["id"]

    def used():
        return main.get(tid)["used_count"]

    rep = ok(main.call("GET", f"{TOKENS}/{tid}/usage"), 200, "usage of an unused token")
    assert rep["total"] == 0 and rep["models"] == [] and len(rep["days"]) == 30, rep
    assert all(d["count"] == 0 for d in rep["days"]), rep

    steps = [
        (lambda: list_models(s, v), 200, 0),
        (lambda: app_call(s, "GET", f"{APP}/models/{main.a}", v), 200, 0),
        (lambda: infer(s, v, main.a), 200, 1),
        (lambda: infer(s, v, main.a, data=CORRUPT), 422, 0),
        (lambda: infer(s, v, main.a, params={"top_k": 0}), 422, 0),
        (lambda: infer(s, v, str(uuid.uuid4())), 404, 0),
        (lambda: infer_batch(s, v, main.a, [PNG, CORRUPT, PNG]), 200, 2),
        (lambda: infer_batch(s, v, main.b, [PNG, PNG]), 200, 2),
        (lambda: infer_batch(s, v, main.b, [CORRUPT]), (200, 422), 0),
        (lambda: infer(s, v, main.b, kind="async"), 202, 1),
        (lambda: app_call(s, "GET", f"{APP}/requests/{uuid.uuid4()}", v), 404, 0),
    ]
    expect = 0
    last_ok = None
    for i, (call, status, units) in enumerate(steps):
        r = call()
        allowed = status if isinstance(status, tuple) else (status,)
        assert r.status_code in allowed, f"step {i}: {r.status_code} {r.text[:300]!r}"
        expect += units
        got = used()
        assert got == expect, (
            f"step {i} (HTTP {status}, {units} unit(s)): used_count {got}, expected {expect}")
        if r.status_code in (200, 202) and units:
            last_ok = r
            assert int_header(r, "X-Quota-Remaining", f"step {i}") == 1000 - expect, (
                f"step {i}: X-Quota-Remaining {r.headers.get('X-Quota-Remaining')} after "
                f"{expect} units of 1000")
    assert last_ok is not None
    t = main.get(tid)
    assert t["used_count"] == 6 and t["quota_remaining"] == 994, t
    assert t["usage_month"] == this_month(), t
    assert t["last_used_at"] is not None and abs(
        (parse_ts(t["last_used_at"]) - utcnow()).total_seconds()) < 60, t

    # a token without a monthly limit counts too
    v0, t0 = main.token(rate_limit_per_minute=None, monthly_limit=None)
    r = infer(s, v0, main.a)
    ok(r, 200, "unlimited token")
    no_headers(r, RATE_HEADERS + QUOTA_HEADERS, "token without limits")
    t0 = main.get(t0["id"])
    assert t0["used_count"] == 1 and t0["usage_month"] == this_month(), (
        f"a token without a monthly limit does not count its usage: {t0}")

    if utcnow().date() != today:
        pytest.skip("the UTC day changed during the test")
    rep = ok(main.call("GET", f"{TOKENS}/{tid}/usage"), 200, "usage")
    assert rep["token_id"] == tid and rep["to"] == today.isoformat(), rep
    assert rep["from"] == (today - dt.timedelta(days=29)).isoformat(), rep
    assert [d["date"] for d in rep["days"]] == [
        (today - dt.timedelta(days=29 - i)).isoformat() for i in range(30)], rep["days"]
    assert [d["count"] for d in rep["days"]] == [0] * 29 + [6], rep["days"]
    assert rep["total"] == 6 and rep["used_count"] == 6, rep
    assert rep["usage_month"] == this_month() and rep["monthly_limit"] == 1000, rep
    by_model = {m["model_id"]: m["count"] for m in rep["models"]}
    assert by_model == {main.a: 3, main.b: 3}, rep["models"]
    for days in (1, 7, 366):
        rep = ok(main.call("GET", f"{TOKENS}/{tid}/usage", params={"days": days}), 200,
                 f"usage days={days}")
        assert len(rep["days"]) == days and rep["days"][-1] == {
            "date": today.isoformat(), "count": 6}, (days, rep["days"][-3:])
        assert rep["from"] == (today - dt.timedelta(days=days - 1)).isoformat(), rep
        assert rep["total"] == 6, rep
    for days in (0, 367, "x"):
        bad_param(main.call("GET", f"{TOKENS}/{tid}/usage", params={"days": days}), "days",
                  f"usage days={days}")


def test_rate_and_quota_headers(main):
    """Every answer to an identified token carries X-RateLimit-* (with a
    per-minute limit) and X-Quota-* (with a monthly limit): 200, 404, 422, 429
    and 403."""
    s = main.server
    v, t = main.token(rate_limit_per_minute=1000, monthly_limit=500)
    month_s = seconds_to_next_utc_month()
    answers = [
        ("200 list", list_models(s, v), 200),
        ("404 model", app_call(s, "GET", f"{APP}/models/{uuid.uuid4()}", v), 404),
        ("422 image", infer(s, v, main.a, data=CORRUPT), 422),
        ("200 infer", infer(s, v, main.a), 200),
        ("404 request", app_call(s, "GET", f"{APP}/requests/{uuid.uuid4()}", v), 404),
    ]
    remaining = []
    for what, r, status in answers:
        assert r.status_code == status, f"{what}: {r.status_code} {r.text[:300]!r}"
        assert int_header(r, "X-RateLimit-Limit", what) == 1000
        remaining.append(int_header(r, "X-RateLimit-Remaining", what))
        reset = int_header(r, "X-RateLimit-Reset", what)
        assert 55 <= reset <= 60, f"{what}: X-RateLimit-Reset {reset}"
        assert int_header(r, "X-Quota-Limit", what) == 500
        qr = int_header(r, "X-Quota-Reset", what)
        assert abs(qr - month_s) <= 120, f"{what}: X-Quota-Reset {qr}, to next month {month_s:.0f}"
    assert remaining == [999, 998, 997, 996, 995], (
        f"every request that passes the 401/403 checks counts: X-RateLimit-Remaining "
        f"{remaining}")
    quota = [int(r.headers["X-Quota-Remaining"]) for _, r, _ in answers]
    assert quota == [500, 500, 500, 499, 499], f"X-Quota-Remaining {quota}"

    # no limits: no headers
    v0, _ = main.token(rate_limit_per_minute=None, monthly_limit=None)
    for r in (list_models(s, v0), app_call(s, "GET", f"{APP}/models/{uuid.uuid4()}", v0)):
        no_headers(r, RATE_HEADERS + QUOTA_HEADERS, f"unlimited token, {r.status_code}")
    v1, _ = main.token(rate_limit_per_minute=10, monthly_limit=None)
    r = list_models(s, v1)
    assert int_header(r, "X-RateLimit-Limit") == 10
    no_headers(r, QUOTA_HEADERS, "no monthly limit")
    v2, _ = main.token(rate_limit_per_minute=None, monthly_limit=7)
    r = list_models(s, v2)
    assert int_header(r, "X-Quota-Limit") == 7 and int_header(r, "X-Quota-Remaining") == 7
    no_headers(r, RATE_HEADERS, "no per-minute limit")

    # 429 and 403 answers of an identified token carry them too
    v3, t3 = main.token(rate_limit_per_minute=1, monthly_limit=20)
    ok(list_models(s, v3))
    r = list_models(s, v3)
    refused(r, 429, "RATE_LIMITED", "limit 1")
    assert int_header(r, "X-RateLimit-Remaining", "429") == 0
    assert int_header(r, "X-Quota-Remaining", "429") == 20
    main.act(t3["id"], "pause")
    r = list_models(s, v3)
    refused(r, 403, "TOKEN_PAUSED", "paused")
    for h in RATE_HEADERS + QUOTA_HEADERS:
        int_header(r, h, "403 TOKEN_PAUSED of an identified token")


def test_rate_headers_of_a_refusal_count_nothing(main):
    """A 403 is not counted by the rate limit, so its X-RateLimit-* headers show
    the window as it is: all N admissions left and X-RateLimit-Reset 0 when
    nothing is counted; after one counted request N-1 left and the seconds until
    that request leaves the window."""
    s = main.server
    H = RATE_HEADERS + ("X-Quota-Limit", "X-Quota-Remaining")
    v, t = main.token(rate_limit_per_minute=5, monthly_limit=9)
    main.act(t["id"], "pause")
    seen = []
    for _ in range(2):
        r = list_models(s, v)
        refused(r, 403, "TOKEN_PAUSED", "paused, nothing counted")
        seen.append(tuple(int_header(r, h, "403") for h in H))
    assert seen == [(5, 5, 0, 9, 9)] * 2, (
        f"GET /api/v1/models with a paused token (rate_limit_per_minute 5, nothing counted): "
        f"(X-RateLimit-Limit, -Remaining, -Reset, X-Quota-Limit, -Remaining) = {seen}, "
        f"expected (5, 5, 0, 9, 9): the refusal is not counted, the window is empty")
    main.act(t["id"], "resume")
    sent = time.monotonic()
    r = list_models(s, v)
    ok(r, 200)
    assert (int_header(r, "X-RateLimit-Remaining"), int_header(r, "X-RateLimit-Reset")) == (4, 60)
    time.sleep(2.2)
    main.act(t["id"], "pause")
    r = list_models(s, v)
    refused(r, 403, "TOKEN_PAUSED", "paused, one counted")
    got = (int_header(r, "X-RateLimit-Remaining"), int_header(r, "X-RateLimit-Reset"))
    want_reset = math.ceil(sent + 60 - time.monotonic())
    assert got[0] == 4 and abs(got[1] - want_reset) <= 1, (
        f"403 after one counted request {time.monotonic() - sent:.1f} s earlier: "
        f"(X-RateLimit-Remaining, -Reset) = {got}, expected (4, ~{want_reset})")


def test_quota_exhaustion_and_reset(main):
    s = main.server
    v, t = main.token(rate_limit_per_minute=None, monthly_limit=3)
    tid = t["id"]
    r = infer_batch(s, v, main.a, [PNG] * 4)
    refused(r, 429, "QUOTA_EXCEEDED", "a batch of 4 on a quota of 3")
    ra = int(r.headers["Retry-After"])
    assert abs(ra - seconds_to_next_utc_month()) <= 120, (
        f"QUOTA_EXCEEDED Retry-After {ra}, next UTC month in {seconds_to_next_utc_month():.0f} s")
    assert main.get(tid)["used_count"] == 0, "a refused batch used quota"
    ok(infer_batch(s, v, main.a, [PNG, PNG]), 200, "batch of 2")
    t = main.get(tid)
    assert (t["used_count"], t["quota_remaining"], t["state"]) == (2, 1, "active"), t
    ok(infer(s, v, main.a), 200, "the last unit")
    t = main.get(tid)
    assert (t["used_count"], t["quota_remaining"], t["state"]) == (3, 0, "exceeded"), t
    assert tid in {i["id"] for i in main.listing(state="exceeded", page_size=100)["items"]}
    r = infer(s, v, main.a)
    refused(r, 429, "QUOTA_EXCEEDED", "over quota")
    assert int_header(r, "X-Quota-Remaining") == 0
    assert abs(int(r.headers["Retry-After"]) - seconds_to_next_utc_month()) <= 120
    refused(infer(s, v, main.a, kind="async"), 429, "QUOTA_EXCEEDED", "async over quota")
    refused(infer_batch(s, v, main.a, [PNG]), 429, "QUOTA_EXCEEDED", "batch over quota")
    ok(list_models(s, v), 200, "listing is not an inference route")
    assert main.get(tid)["used_count"] == 3

    t = check_token(ok(main.patch(tid, {"monthly_limit": 5}), 200, "raise the limit"))
    assert (t["state"], t["quota_remaining"]) == ("active", 2), t
    ok(infer(s, v, main.a), 200, "after raising the limit")
    t = main.act(tid, "reset-usage")
    assert (t["used_count"], t["quota_remaining"], t["state"]) == (0, 5, "active"), t
    ok(infer(s, v, main.a), 200, "after reset-usage")
    assert main.get(tid)["used_count"] == 1
    # a limit lowered below what is used: exceeded at once
    t = check_token(ok(main.patch(tid, {"monthly_limit": 1}), 200, "lower the limit"))
    assert (t["state"], t["quota_remaining"]) == ("exceeded", 0), t
    refused(infer(s, v, main.a), 429, "QUOTA_EXCEEDED", "limit lowered to what is used")
    t = check_token(ok(main.patch(tid, {"monthly_limit": None}), 200, "no limit"))
    assert (t["state"], t["quota_remaining"]) == ("active", None), t
    r = infer(s, v, main.a)
    ok(r, 200, "no monthly limit")
    no_headers(r, QUOTA_HEADERS, "no monthly limit")
    assert main.get(tid)["used_count"] == 2


def test_ip_whitelist_and_untrusted_forwarding(main):
    """Peer 127.0.0.1, no trusted proxies: X-Forwarded-For / X-Real-IP are
    ignored; the inference log records the peer."""
    s = main.server
    cases = [(["127.0.0.0/8"], 200), (["127.0.0.1"], 200), (["10.0.0.0/8", "::1/128"], 403),
             (["10.0.0.0/8", "2001:db8::/32", "127.0.0.0/30"], 200),
             (["2001:db8::/32"], 403), ([], 200)]
    for wl, status in cases:
        v, _ = main.token(ip_whitelist=wl, rate_limit_per_minute=None)
        r = list_models(s, v)
        if status == 200:
            ok(r, 200, f"whitelist {wl}")
        else:
            refused(r, 403, "IP_NOT_ALLOWED", f"whitelist {wl}")
    v, t = main.token(ip_whitelist=["203.0.113.0/24"], rate_limit_per_minute=None)
    for h in ({"X-Forwarded-For": "203.0.113.9"}, {"X-Real-IP": "203.0.113.9"},
              {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}):
        refused(list_models(s, v, headers=h), 403, "IP_NOT_ALLOWED",
                f"spoofed {h} from an untrusted peer")
    # a change applies to the very next request
    ok(main.patch(t["id"], {"ip_whitelist": ["127.0.0.0/8"]}), 200)
    r = infer(s, v, main.a, headers={"X-Forwarded-For": "203.0.113.9"})
    ok(r, 200, "whitelisted peer with a spoofed X-Forwarded-For")
    rid = r.headers["X-Request-ID"]
    row = _log_row(main, t["id"], rid)
    assert row["client_ip"] == "127.0.0.1", f"inference log client_ip of a spoofed request: {row}"


def _log_row(ctx, token_id, request_id, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        r = ctx.call("GET", f"{API}/logs", params={"token_id": token_id, "page_size": 200})
        items = ok(r, 200, "logs")["items"]
        rows = [it for it in items if it.get("request_id") == request_id]
        if rows:
            return rows[0]
        assert time.monotonic() < deadline, (
            f"no inference-log row for request {request_id} of token {token_id}: {items}")
        time.sleep(0.2)


def test_token_changes_are_audited(main):
    v, t = main.token(rate_limit_per_minute=None)
    tid, name = t["id"], t["name"]
    ok(main.patch(tid, {"remark": "audited"}), 200)
    main.patch(tid, {"colour": 1})           # refused: not audited
    main.act(tid, "pause")
    main.act(tid, "resume")
    main.act(tid, "reset-usage")
    ok(main.call("DELETE", f"{TOKENS}/{tid}"), 204)
    rows = db_query(main.server.data_dir,
                    "SELECT actor, action, object_id, client_ip, detail FROM audit_log "
                    "WHERE action LIKE 'token.%' AND (object_id = ? OR detail LIKE ?) "
                    "ORDER BY id", (tid, f"%{tid}%"))
    actions = [r[1] for r in rows]
    assert actions == ["token.create", "token.update", "token.pause", "token.resume",
                       "token.reset_usage", "token.delete"], f"audit entries: {rows}"
    ident = admin_identity(main.admin)
    for actor, action, object_id, client_ip, detail in rows:
        assert actor in ident, f"{action}: actor {actor!r}"
        assert tid in (object_id + detail), f"{action}: no token id: {object_id!r} {detail!r}"
        assert name in detail or name == object_id, f"{action}: no token name: {detail!r}"
        assert client_ip == "127.0.0.1", f"{action}: client_ip {client_ip!r}"
        assert v not in detail and v[:20] not in detail, f"{action}: the value in {detail!r}"


# --------------------------------------------------------------------------
# IPv6, IPv4-mapped peers and trusted proxies (edge: "::", trusted 127.0.0.1/32)
# --------------------------------------------------------------------------

def _expect(resp, status, what):
    if status == 200:
        ok(resp, 200, what)
    else:
        refused(resp, 403, "IP_NOT_ALLOWED", what)


def test_ipv6_and_ipv4_mapped_peers(edge):
    s = edge.server
    cases = [  # whitelist, via 127.0.0.1 (::ffff:127.0.0.1), via ::1
        (["127.0.0.0/8"], 200, 403),
        (["::ffff:127.0.0.1"], 200, 403),  # a mapped host; mapped ranges are refused
        (["::/120"], 403, 200),
        (["::1"], 403, 200),
        (["10.0.0.0/8", "2001:db8::/32"], 403, 403),
        (["2001:db8::/32", "::/127", "127.0.0.1/32"], 200, 200),
        ([], 200, 200),
    ]
    for wl, via4, via6 in cases:
        v, _ = edge.token(ip_whitelist=wl, rate_limit_per_minute=None)
        _expect(list_models(s, v, base=edge.v4), via4, f"{wl} from ::ffff:127.0.0.1")
        _expect(list_models(s, v, base=edge.v6), via6, f"{wl} from ::1")
    # audit client_ip: the IPv4-mapped peer is 127.0.0.1
    _, t4 = create_api_token_via(edge, edge.v4, {})
    _, t6 = create_api_token_via(edge, edge.v6, {})
    ips = dict(db_query(s.data_dir, "SELECT object_id, client_ip FROM audit_log WHERE "
                        "action = 'token.create' AND object_id IN (?, ?)", (t4["id"], t6["id"])))
    assert ips == {t4["id"]: "127.0.0.1", t6["id"]: "::1"}, f"audit client_ip: {ips}"


def create_api_token_via(ctx, base, fields, headers=None):
    body = {"name": f"via-{uuid.uuid4().hex[:10]}", **fields}
    r = admin_call(ctx.admin, "POST", TOKENS, json=body, base=base, headers=headers or {})
    out = ok(r, 201, f"create via {base}")
    ctx.values.append(out["token"])
    return out["token"], out


def test_forwarded_for_from_trusted_and_untrusted_peers(edge):
    s = edge.server
    v, t = edge.token(ip_whitelist=["203.0.113.0/24"], rate_limit_per_minute=None)
    trusted = [  # headers from 127.0.0.1 (trusted), expected
        ({}, 403),
        ({"X-Forwarded-For": "203.0.113.7"}, 200),
        ({"X-Forwarded-For": "198.51.100.1"}, 403),
        ({"X-Forwarded-For": "203.0.113.7, 198.51.100.1"}, 403),   # the left part is spoofable
        ({"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}, 200),
        ({"X-Forwarded-For": "203.0.113.7, 127.0.0.1"}, 200),      # trusted proxies skipped
        ({"X-Forwarded-For": "198.51.100.1,203.0.113.7 , 127.0.0.1"}, 200),
        ({"X-Real-IP": "203.0.113.7"}, 200),
        ({"X-Real-IP": "198.51.100.1"}, 403),
        ({"X-Forwarded-For": "198.51.100.1", "X-Real-IP": "203.0.113.7"}, 403),  # XFF first
        ({"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "198.51.100.1"}, 200),
    ]
    for h, status in trusted:
        _expect(list_models(s, v, base=edge.v4, headers=h), status, f"trusted peer, {h}")
    for h in ({"X-Forwarded-For": "203.0.113.7"}, {"X-Real-IP": "203.0.113.7"},
              {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"}):
        _expect(list_models(s, v, base=edge.v6, headers=h), 403,
                f"untrusted peer ::1, spoofed {h}")
    v6, _ = edge.token(ip_whitelist=["2001:db8::/32"], rate_limit_per_minute=None)
    _expect(list_models(s, v6, base=edge.v4, headers={"X-Forwarded-For": "2001:db8::5"}), 200,
            "IPv6 client behind the trusted proxy")
    _expect(list_models(s, v6, base=edge.v4, headers={"X-Forwarded-For": "2001:db9::5"}), 403,
            "other IPv6 client behind the trusted proxy")
    _expect(list_models(s, v6, base=edge.v6, headers={"X-Forwarded-For": "2001:db8::5"}), 403,
            "IPv6 peer ::1 (untrusted) claiming 2001:db8::5")

    # the same client IP in the audit log, the inference log and the access log
    _, ta = create_api_token_via(edge, edge.v4, {}, {"X-Forwarded-For": "203.0.113.50"})
    _, tb = create_api_token_via(edge, edge.v6, {}, {"X-Forwarded-For": "203.0.113.51"})
    ips = dict(db_query(s.data_dir, "SELECT object_id, client_ip FROM audit_log WHERE "
                        "action = 'token.create' AND object_id IN (?, ?)", (ta["id"], tb["id"])))
    assert ips == {ta["id"]: "203.0.113.50", tb["id"]: "::1"}, f"audit client_ip: {ips}"
    mid = publish_tiny(edge.admin, "edge-a")
    r = infer(s, v, mid, base=edge.v4, headers={"X-Forwarded-For": "203.0.113.77"})
    ok(r, 200, "inference through the trusted proxy")
    row = _log_row(edge, t["id"], r.headers["X-Request-ID"])
    assert row["client_ip"] == "203.0.113.77", f"inference log client_ip: {row}"
    log = s.log_text_with(r.headers["X-Request-ID"])
    assert "203.0.113.77" in log, "the access log does not show the forwarded client"
    assert_values_absent(log, edge.values, "the edge server log")


# --------------------------------------------------------------------------
# durable usage (durable: config defaults, restarts, kill -9)
# --------------------------------------------------------------------------

def test_defaults_from_config(durable):
    before = utcnow()
    v, t = durable.token()
    assert t["rate_limit_per_minute"] == 120, t
    assert t["monthly_limit"] is None and t["quota_remaining"] is None, (
        f"requests_per_month 0 should mean no monthly limit: {t}")
    exp = parse_ts(t["expires_at"])
    assert abs((exp - before).total_seconds() - 7 * 86400) < 120, t["expires_at"]
    # auth.ip_filter.enabled false: whitelists are not enforced
    v, _ = durable.token(ip_whitelist=["10.0.0.0/8"])
    ok(list_models(durable.server, v), 200, "IP filter off")


def test_quota_under_64_concurrent_clients_survives_restart(durable):
    s = durable.server
    v, t = durable.token(rate_limit_per_minute=None, monthly_limit=100)
    tid = t["id"]

    def client(i):
        out = []
        for _ in range(10):
            r = infer(s, v, durable.a)
            out.append(r)
            if r.status_code != 200:
                break
        return out

    results = [r for rs in fire(64, client) for r in rs]
    codes = [r.status_code for r in results]
    assert codes.count(200) == 100, (
        f"64 concurrent clients on a monthly_limit of 100: {codes.count(200)} successes "
        f"({sorted(set(codes))})")
    assert set(codes) == {200, 429} and codes.count(429) == 64, (
        f"every client stops at its first 429: {sorted(codes)}")
    month_s = seconds_to_next_utc_month()
    for r in results:
        if r.status_code == 429:
            refused(r, 429, "QUOTA_EXCEEDED", "over quota")
            assert abs(int(r.headers["Retry-After"]) - month_s) <= 120, r.headers["Retry-After"]
        else:
            q = int_header(r, "X-Quota-Remaining", "200")
            assert 0 <= q < 100, q
    t = durable.get(tid)
    assert (t["used_count"], t["state"], t["quota_remaining"]) == (100, "exceeded", 0), t

    rc = s.stop()
    assert rc == 0, f"SIGTERM exit code {rc}"
    assert db_query(s.data_dir, "SELECT used_count FROM tokens WHERE id = ?", (tid,)) == [(100,)]
    s.start()
    wait_ready(s)
    t = durable.get(tid)
    assert (t["used_count"], t["state"]) == (100, "exceeded"), f"after a restart: {t}"
    refused(infer(s, v, durable.a), 429, "QUOTA_EXCEEDED", "after a restart")
    rep = ok(durable.call("GET", f"{TOKENS}/{tid}/usage", params={"days": 2}), 200, "usage")
    assert rep["total"] == 100 and rep["used_count"] == 100, rep
    durable.act(tid, "reset-usage")
    ok(infer(s, v, durable.a), 200, "after reset-usage")


def test_usage_of_an_earlier_month_does_not_count(durable):
    """used_count is this month's: a token whose usage_month is an earlier
    month (as after 00:00 UTC on the 1st) has its whole quota again."""
    s = durable.server
    v, t = durable.token(rate_limit_per_minute=None, monthly_limit=3)
    for _ in range(3):
        ok(infer(s, v, durable.a), 200)
    assert durable.get(t["id"])["state"] == "exceeded"
    assert s.stop() == 0
    conn = sqlite3.connect(str(s.data_dir / "cinfer.db"))
    try:
        with conn:
            n = conn.execute("UPDATE tokens SET usage_month = '2000-01' WHERE id = ?",
                             (t["id"],)).rowcount
        assert n == 1
    finally:
        conn.close()
    s.start()
    wait_ready(s)
    t = durable.get(t["id"])
    assert (t["used_count"], t["state"], t["quota_remaining"]) == (0, "active", 3), (
        f"usage counted in 2000-01 still counts this month: {t}")
    r = infer(s, v, durable.a)
    ok(r, 200, "a new month")
    assert int_header(r, "X-Quota-Remaining") == 2
    t = durable.get(t["id"])
    assert (t["used_count"], t["usage_month"]) == (1, this_month()), t


def test_kill9_counts_every_answered_request(durable):
    """Concurrent successful calls, kill -9, restart: used_count >= the 2xx the
    clients received and <= those plus the requests cut off by the kill."""
    s = durable.server
    v, t = durable.token(rate_limit_per_minute=None, monthly_limit=1000000)
    stop = threading.Event()
    lock = threading.Lock()
    tally = {"ok": 0, "cut": 0, "other": []}

    def client():
        sess = requests.Session()
        while True:
            try:
                r = sess.post(f"{s.url}{APP}/models/{durable.a}/infer", data=PNG,
                              headers={"Content-Type": "image/png", **token_headers(v)},
                              timeout=30)
            except requests.RequestException:
                with lock:
                    tally["cut"] += 1
                return
            with lock:
                if r.status_code == 200:
                    tally["ok"] += 1
                else:
                    tally["other"].append((r.status_code, r.text[:200]))
            if stop.is_set():
                return

    threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 20
    while tally["ok"] < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    s.kill()                                  # SIGKILL while requests are in flight
    stop.set()
    for th in threads:
        th.join(60)
    assert not any(th.is_alive() for th in threads)
    assert not tally["other"], f"non-200 answers under load: {tally['other'][:5]}"
    assert tally["ok"] >= 40, f"only {tally['ok']} successes before the kill"
    s.start()
    used = durable.get(t["id"])["used_count"]
    got, cut = tally["ok"], tally["cut"]
    assert got <= used <= got + cut, (
        f"after kill -9: used_count {used}, 2xx received {got}, requests cut off by the "
        f"kill {cut} (expected {got} <= used_count <= {got + cut})")
    rep = ok(durable.call("GET", f"{TOKENS}/{t['id']}/usage", params={"days": 2}), 200)
    assert rep["total"] == used, f"per-day counters {rep['total']} != used_count {used}"
    wait_ready(s)
    ok(infer(s, v, durable.a), 200, "after kill -9 and restart")


# --------------------------------------------------------------------------
# the rate-limit window, ~60 s after the burst (see test_rate_limit_burst)
# --------------------------------------------------------------------------

def test_rate_limit_window_slides(rate_window):
    """When the first request has left the window (and the burst has not): exactly one
    admission, then 429 until the burst's oldest leaves."""
    RATE = rate_window
    RATE["timer"].join(timeout=120)
    assert "error" not in RATE, RATE.get("error")
    assert "results" in RATE, "the timer's requests did not run"
    results = RATE["results"]
    s1, r1 = results[0][0], results[0][2]
    last_recv = results[-1][1]
    if last_recv > RATE["burst_lo"] + 60 - 0.5 or s1 < RATE["first"][1] + 60:
        pytest.skip("the timer ran too late to observe the window between the first "
                    "request and the burst leaving it (machine overloaded)")
    ok(r1, 200, "the first request left the window: one admission")
    assert int_header(r1, "X-RateLimit-Remaining") == 0
    for sent, recv, r in results[1:]:
        refused(r, 429, "RATE_LIMITED", "the burst still fills the window")
        ra = int(r.headers["Retry-After"])
        lo, hi = _ra_bounds(RATE["burst_lo"], RATE["burst_hi"], sent, recv)
        assert lo <= ra <= hi, (
            f"Retry-After {ra}: the burst's oldest admission leaves in [{lo}, {hi}] s")


# --------------------------------------------------------------------------
# token values appear nowhere (runs last: stops the main server)
# --------------------------------------------------------------------------

def test_token_values_appear_nowhere(main):
    s = main.server
    time.sleep(1.0)                                   # the inference-log writer flushes
    values = list(main.values)
    assert len(values) >= 30, f"only {len(values)} token values were created"

    assert_values_absent(s.log_text(), values, "the server log")
    assert_values_absent(s.log_text(), main.presented, "the server log (presented values)")

    rows = db_query(s.data_dir, "SELECT * FROM inference_logs")
    assert len(rows) >= 10, f"{len(rows)} inference-log rows"
    cols = [c[1] for c in db_query(s.data_dir, "PRAGMA table_info(inference_logs)")]
    if "response_data" in cols:
        i = cols.index("response_data")
        assert any(r[i] for r in rows), (
            "no inference-log row has a captured payload although logs.capture_payload is on")
    assert_values_absent(json.dumps(rows, default=str), values, "the inference_logs table")
    audit = db_query(s.data_dir, "SELECT * FROM audit_log")
    assert sum("token." in str(r) for r in audit) >= 30, "token changes missing from audit_log"
    assert_values_absent(json.dumps(audit, default=str), values, "the audit_log table")

    def scan(when):
        files = [p for p in Path(s.workdir).rglob("*") if p.is_file()]
        assert any(p.name == "cinfer.db" for p in files), files
        for p in files:
            if p.stat().st_size > 64 << 20:
                continue
            assert_values_absent(p.read_bytes(), values, f"{p} ({when})")

    scan("while running")
    rc = s.stop()
    assert rc == 0, f"SIGTERM exit code {rc}"
    scan("after shutdown")
