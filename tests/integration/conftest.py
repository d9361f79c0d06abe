"""Shared fixtures and helpers for the Cinfer integration tests.

Run with:  python3 -m pytest tests/integration
Binary:    $CINFER_BIN, default <repo>/build/cinfer
"""

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
CINFER_BIN = os.environ.get("CINFER_BIN", str(REPO_ROOT / "build" / "cinfer"))

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0
HTTP_TIMEOUT_S = 30.0

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "Adm1n-Initial-Pass!"

API = "/api/v1/internal"
TOKENS = f"{API}/tokens"

# An API token value (docs/TOKENS.md): cit_ + 43 base64url characters.
TOKEN_RE = re.compile(r"^cit_[A-Za-z0-9_-]{43}$")
# The PP-OCR angle classifier (models/samples) as the security, schema and slow
# suites publish it: 48x192 stretch, BGR, (x/255 - 0.5) / 0.5, labels 0/180.
CLS_CONFIG = {
    "input_shapes": {"x": [1, 3, 48, 192]},
    "input": {"width": 192, "height": 48, "resize": "stretch", "color": "bgr",
              "scale": 0.00392156862745098, "mean": [0.5, 0.5, 0.5],
              "std": [0.5, 0.5, 0.5]},
    "output": {"task": "classification", "labels": ["0", "180"], "top_k": 2,
               "softmax": False},
}

# Token fields for tests that are not about tokens: no limits, no expiry.
UNLIMITED_TOKEN = {"rate_limit_per_minute": None, "monthly_limit": None,
                   "expires_at": None}


# --------------------------------------------------------------------------
# generic helpers
# --------------------------------------------------------------------------

def require_binary():
    if not (os.path.isfile(CINFER_BIN) and os.access(CINFER_BIN, os.X_OK)):
        pytest.skip(f"cinfer binary not found at {CINFER_BIN} (set CINFER_BIN)")


def free_port(host="127.0.0.1"):
    """A free TCP port on `host` ("::" and "::1" use an IPv6 socket)."""
    v6 = ":" in host
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def url_host(host):
    """`host` as it goes into a URL: IPv6 literals in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def base_env():
    """os.environ without any CINFER_* variables (so that e.g. CINFER_BIN is
    never interpreted as a config override by the server)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CINFER_")}


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    parts = token.split(".")
    assert len(parts) == 3, f"token is not a 3-part JWT: {token!r}"
    return parts


def jwt_header(token):
    return json.loads(b64url_decode(jwt_parts(token)[0]))


def jwt_claims(token):
    return json.loads(b64url_decode(jwt_parts(token)[1]))


def forge_jwt(claims, key: bytes, alg="HS256", header=None):
    """Build and sign a JWT.  alg in HS256/HS384/HS512/none."""
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    h = b64url_encode(json.dumps(hdr, separators=(",", ":")).encode())
    p = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{h}.{p}".encode("ascii")
    if alg == "none":
        return f"{h}.{p}."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
              "HS512": hashlib.sha512}[alg]
    sig = hmac.new(key, signing_input, digest).digest()
    return f"{h}.{p}.{b64url_encode(sig)}"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def assert_error(resp, status, code):
    """Check the uniform error envelope and return the error object."""
    assert resp.status_code == status, (
        f"expected HTTP {status} ({code}), got {resp.status_code}: "
        f"{resp.text[:500]!r}")
    ctype = resp.headers.get("Content-Type", "")
    assert "json" in ctype.lower(), f"error Content-Type is {ctype!r}"
    try:
        body = resp.json()
    except ValueError:
        pytest.fail(f"error body is not JSON: {resp.text[:500]!r}")
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), (
        f"error envelope missing: {body!r}")
    err = body["error"]
    assert err.get("code") == code, f"expected code {code}, got {err!r}"
    assert isinstance(err.get("message"), str) and err["message"], err
    rid = resp.headers.get("X-Request-ID")
    assert rid, "error response lacks X-Request-ID header"
    assert err.get("request_id") == rid, (
        f"error.request_id {err.get('request_id')!r} != X-Request-ID {rid!r}")
    return err


def assert_retry_after(resp):
    ra = resp.headers.get("Retry-After")
    assert ra is not None, "429 response lacks Retry-After header"
    assert ra.strip().isdigit(), f"Retry-After is not integer seconds: {ra!r}"
    assert int(ra) > 0, f"Retry-After must be > 0, got {ra!r}"


def db_query(data_dir, sql, params=()):
    path = Path(data_dir) / "cinfer.db"
    assert path.exists(), f"{path} does not exist"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --------------------------------------------------------------------------
# server process wrapper
# --------------------------------------------------------------------------

class HttpClient:
    """get/post/request against `self.url`, with the tests' default timeout."""

    def get(self, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT_S)
        return requests.get(self.url + path, **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT_S)
        return requests.post(self.url + path, **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT_S)
        return requests.request(method, self.url + path, **kw)


class Server(HttpClient):
    """host: the listen address (server.host). "::" listens dual-stack; the
    helpers then connect over IPv4 (127.0.0.1), so the server sees the peer
    ::ffff:127.0.0.1. url_via(host) builds a URL over another address."""

    def __init__(self, workdir, env=None, config_file=None, port=None,
                 env_overrides=True, host="127.0.0.1"):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.log_path = self.workdir / "server.log"
        self.host = host
        self.port = port or free_port(host if host not in ("", "0.0.0.0") else "127.0.0.1")
        self.config_file = config_file
        self.extra_env = dict(env or {})
        self.env_overrides = env_overrides
        self.proc = None
        self._log_fh = None
        # Headers the application-API helpers send (an API token: see
        # give_app_token); empty until a test gives the server a token.
        self.app_headers = {}
        self.app_token = None   # (value, token object) of that token

    # -- properties -------------------------------------------------------
    @property
    def connect_host(self):
        return "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host

    def url_via(self, host):
        return f"http://{url_host(host)}:{self.port}"

    @property
    def url(self):
        return self.url_via(self.connect_host)

    def env(self):
        env = base_env()
        if self.env_overrides:
            env.update({
                "CINFER_SERVER__HOST": self.host,
                "CINFER_SERVER__PORT": str(self.port),
                "CINFER_SERVER__DATA_DIR": str(self.data_dir),
                "CINFER_SERVER__LOG_LEVEL": "debug",
            })
        env.update(self.extra_env)
        return env

    def argv(self):
        argv = [CINFER_BIN, "serve"]
        if self.config_file:
            argv += ["--config", str(self.config_file)]
        return argv

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_text_with(self, needle, timeout=10.0):
        """The log once `needle` is in it (or after `timeout`). A request's access
        line is written after its response has left, so a client can hold the answer
        a moment before the line exists."""
        deadline = time.monotonic() + timeout
        text = self.log_text()
        while needle not in text and time.monotonic() < deadline:
            time.sleep(0.02)
            text = self.log_text()
        return text

    # -- lifecycle --------------------------------------------------------
    def start(self, timeout=START_TIMEOUT_S):
        require_binary()
        assert self.proc is None or self.proc.poll() is not None
        self._log_fh = open(self.log_path, "ab")
        self._log_fh.write(f"\n===== start {' '.join(self.argv())} =====\n".encode())
        self._log_fh.flush()
        self.proc = subprocess.Popen(
            self.argv(), env=self.env(), cwd=str(self.workdir),
            stdin=subprocess.DEVNULL, stdout=self._log_fh,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        last_err = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(
                    f"cinfer exited with {rc} during startup; log:\n"
                    f"{self.log_text()[-5000:]}")
            try:
                # Connection: close, so the probe leaves no open connection behind for
                # tests that count them (server.max_connections).
                r = requests.get(self.url + "/health/live", timeout=2,
                                 headers={"Connection": "close"})
                if r.status_code == 200:
                    return self
                last_err = f"HTTP {r.status_code}"
            except requests.RequestException as e:
                last_err = repr(e)
            time.sleep(0.2)
        self.kill()
        raise AssertionError(
            f"cinfer did not become live within {timeout}s ({last_err}); "
            f"log:\n{self.log_text()[-5000:]}")

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT_S):
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM, wait, then SIGKILL.  Returns the exit code, or None if the
        process had to be killed (or was never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            self._close_log()
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = None
        self._close_log()
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._close_log()

    def restart(self):
        rc = self.stop()
        assert rc == 0, f"server did not exit cleanly on SIGTERM (rc={rc})"
        return self.start()

    def _close_log(self):
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    # -- cinfer specifics -------------------------------------------------
    def setup_code(self):
        p = self.data_dir / "setup-code"
        deadline = time.monotonic() + 10
        while not p.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert p.exists(), f"{p} not found"
        return p.read_text().strip()

    def jwt_secret(self) -> bytes:
        txt = (self.data_dir / "jwt-secret").read_text().strip()
        return bytes.fromhex(txt)

    def setup(self, username=ADMIN_USERNAME, password=ADMIN_PASSWORD, code=None):
        if code is None:
            code = self.setup_code()
        return self.post(f"{API}/system/setup", json={
            "username": username, "password": password, "setup_code": code})

    def login(self, username=ADMIN_USERNAME, password=ADMIN_PASSWORD, **kw):
        return self.post(f"{API}/auth/login",
                         json={"username": username, "password": password}, **kw)

    def login_token(self, username=ADMIN_USERNAME, password=ADMIN_PASSWORD):
        r = self.login(username, password)
        assert r.status_code == 200, f"login failed: {r.status_code} {r.text[:500]}"
        return r.json()["access_token"]

    def me(self, token, **kw):
        headers = kw.pop("headers", {})
        if token is not None:
            headers.update(bearer(token))
        return self.get(f"{API}/auth/me", headers=headers, **kw)

    def cli(self, *args, input=None, timeout=60):
        """Run `cinfer <args>` with the same env/config as the server."""
        require_binary()
        argv = [CINFER_BIN, *args]
        if self.config_file and "--config" not in args:
            argv += ["--config", str(self.config_file)]
        return subprocess.run(argv, env=self.env(), cwd=str(self.workdir),
                              input=input, capture_output=True, text=True,
                              timeout=timeout)


class Admin:
    """A server on which setup has been done; holds the admin credentials."""

    def __init__(self, server, username, password, setup_body, token):
        self.server = server
        self.username = username
        self.password = password
        self.setup_body = setup_body
        self.token = token


def make_admin(server, username=ADMIN_USERNAME, password=ADMIN_PASSWORD):
    r = server.setup(username, password)
    assert r.status_code == 201, f"setup failed: {r.status_code} {r.text[:500]}"
    token = server.login_token(username, password)
    return Admin(server, username, password, r.json(), token)


# --------------------------------------------------------------------------
# API tokens (docs/TOKENS.md)
# --------------------------------------------------------------------------

def token_headers(value, form="bearer"):
    """The headers presenting an API token: form "bearer" (Authorization:
    Bearer) or "x-access-token"."""
    if form == "bearer":
        return {"Authorization": f"Bearer {value}"}
    assert form == "x-access-token", form
    return {"X-Access-Token": value}


def create_api_token(admin, **fields):
    """POST /api/v1/internal/tokens with `fields` (a unique name unless one is
    given); expects 201 and returns (value, token object)."""
    body = {"name": f"tok-{uuid.uuid4().hex[:12]}", **fields}
    r = admin.server.post(TOKENS, json=body, headers=bearer(admin.token))
    assert r.status_code == 201, (
        f"token creation failed: {r.status_code} {r.text[:1000]!r} (body {body!r})")
    out = r.json()
    value = out.get("token")
    assert isinstance(value, str) and TOKEN_RE.match(value), (
        f"created token value {value!r} is not cit_ + 43 base64url characters")
    return value, out


def give_app_token(admin, **fields):
    """Give admin.server an API token for the application API (no limits, no
    expiry unless `fields` say otherwise), once; the app helpers then send it
    (server.app_headers). Returns those headers."""
    s = admin.server
    if not s.app_headers:
        value, body = create_api_token(
            admin, name=f"integration-tests-{uuid.uuid4().hex[:8]}",
            **{**UNLIMITED_TOKEN, **fields})
        s.app_token = (value, body)
        s.app_headers = token_headers(value)
    return dict(s.app_headers)


def get_api_token(admin, token_id):
    """GET /api/v1/internal/tokens/{id}; expects 200, returns the object."""
    r = admin.server.get(f"{TOKENS}/{token_id}", headers=bearer(admin.token),
                         timeout=HTTP_TIMEOUT_S)
    assert r.status_code == 200, f"GET token {token_id}: {r.status_code} {r.text[:500]!r}"
    return r.json()


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

@pytest.fixture
def server_factory(tmp_path):
    """make(env=..., config_file=..., start=True, name=...) -> Server.
    All servers are stopped at teardown."""
    servers = []

    def make(env=None, config_file=None, start=True, name=None, **kw):
        name = name or f"srv{len(servers)}"
        s = Server(tmp_path / name, env=env, config_file=config_file, **kw)
        servers.append(s)
        if start:
            s.start()
        return s

    make.servers = servers
    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def server(server_factory):
    """A fresh, un-initialized server (function scoped)."""
    return server_factory()


@pytest.fixture
def admin(server):
    """A fresh server with an admin created and logged in."""
    return make_admin(server)


@pytest.fixture(scope="module")
def shared_admin(tmp_path_factory):
    """A module-scoped initialized server, for read-only tests that never
    fail a login and never invalidate the admin token."""
    s = Server(tmp_path_factory.mktemp("shared"))
    try:
        s.start()
        yield make_admin(s)
    finally:
        s.stop()


# --------------------------------------------------------------------------
# attach server logs to failing test reports
# --------------------------------------------------------------------------

def _servers_of(item):
    found = []
    for val in getattr(item, "funcargs", {}).values():
        if isinstance(val, Server):
            found.append(val)
        elif isinstance(val, Admin):
            found.append(val.server)
        elif callable(val) and isinstance(getattr(val, "servers", None), list):
            found.extend(val.servers)
    uniq = []
    for s in found:
        if s not in uniq:
            uniq.append(s)
    return uniq


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for i, s in enumerate(_servers_of(item)):
            text = s.log_text()
            if text:
                rep.sections.append(
                    (f"cinfer server log [{i}] {s.log_path}", text[-20000:]))


# --------------------------------------------------------------------------
# parallel runs
# --------------------------------------------------------------------------

def pytest_configure(config):
    # `make integration` runs the suite in two passes: everything not marked serial
    # under pytest-xdist (`-n`, one server per test, whole files per worker), then the
    # modules marked serial alone, because they assert wall-clock limits (shutdown
    # within 1.5 s, breaker refusals in milliseconds) that a second busy worker on a
    # 2-core machine would blur.
    config.addinivalue_line(
        "markers", "serial: asserts wall-clock limits; run without other workers")


def ipv6_loopback():
    """True when this machine can bind ::1."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def tls_env(tmp_path, port, cert, key):
    """base_env() for a server on `port` with a data dir under tmp_path, serving HTTPS."""
    env = base_env()
    env.update({
        "CINFER_SERVER__PORT": str(port),
        "CINFER_SERVER__DATA_DIR": str(tmp_path / "data"),
        "CINFER_SERVER__TLS__ENABLED": "true",
        "CINFER_SERVER__TLS__CERT_FILE": str(cert),
        "CINFER_SERVER__TLS__KEY_FILE": str(key),
    })
    return env


def self_signed_cert(tmp_path):
    """A self-signed certificate for 127.0.0.1 (openssl): (cert.pem, key.pem) paths."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key
