"""First-run setup, login, lockout, logout, password change, token checks."""

import hashlib
import hmac
import stat
import threading
import time

import pytest
import requests

from conftest import (
    ADMIN_PASSWORD, ADMIN_USERNAME, API, assert_error, assert_retry_after,
    bearer, b64url_decode, b64url_encode, db_query, forge_jwt, is_number,
    jwt_claims, jwt_parts,
)

SETUP = f"{API}/system/setup"
LOGIN = f"{API}/auth/login"
ME = f"{API}/auth/me"
LOGOUT = f"{API}/auth/logout"
PASSWORD = f"{API}/auth/password"
INFO = f"{API}/system/info"


# --------------------------------------------------------------------------
# setup
# --------------------------------------------------------------------------

def test_setup_status_before_and_after(server):
    r = server.get(SETUP)
    assert r.status_code == 200, r.text
    assert r.json().get("initialized") is False
    r = server.setup()
    assert r.status_code == 201, r.text
    r = server.get(SETUP)
    assert r.status_code == 200, r.text
    assert r.json().get("initialized") is True


def test_setup_code_file_mode_and_log(server):
    p = server.data_dir / "setup-code"
    code = server.setup_code()
    assert code, "setup-code file is empty"
    mode = stat.S_IMODE(p.stat().st_mode)
    assert mode == 0o600, f"setup-code mode is {oct(mode)}, expected 0o600"
    # the code is also printed in the log
    deadline = time.monotonic() + 5
    while code not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert code in server.log_text(), "setup code not printed in server log"


def test_setup_creates_admin_once(server):
    r = server.setup()
    assert r.status_code == 201, r.text
    body = r.json()
    assert body.get("username") == ADMIN_USERNAME
    assert isinstance(body.get("id"), str) and body["id"]
    assert not (server.data_dir / "setup-code").exists(), \
        "setup-code file must be deleted after successful setup"

    rows = db_query(server.data_dir,
                    "SELECT id, username, password_hash, is_admin FROM users")
    assert len(rows) == 1, rows
    uid, uname, phash, is_admin = rows[0]
    assert uid == body["id"]
    assert uname == ADMIN_USERNAME
    assert phash.startswith("$argon2id$"), f"hash is not argon2id: {phash[:20]!r}"
    assert ADMIN_PASSWORD not in phash
    assert is_admin == 1

    # a second setup (even with a plausible code) is rejected
    r2 = server.post(SETUP, json={"username": "other", "password": "another-pass-1",
                                  "setup_code": "whatever"})
    assert_error(r2, 409, "ALREADY_INITIALIZED")
    assert len(db_query(server.data_dir, "SELECT id FROM users")) == 1


def test_setup_wrong_and_missing_code(server):
    code = server.setup_code()
    r = server.setup(code=code + "x")
    assert_error(r, 403, "INVALID_SETUP_CODE")
    r = server.setup(code="")
    assert_error(r, 403, "INVALID_SETUP_CODE")
    r = server.post(SETUP, json={"username": "admin", "password": "long-enough-pw"})
    assert_error(r, 403, "INVALID_SETUP_CODE")
    assert server.get(SETUP).json().get("initialized") is False
    # the right code still works afterwards
    assert server.setup(code=code).status_code == 201


def test_setup_malformed_json(server):
    r = server.post(SETUP, data=b'{"username": "admin", "password": ',
                    headers={"Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_JSON")


def test_setup_validation(server):
    code = server.setup_code()
    r = server.setup(username="admin", password="short7!", code=code)
    assert_error(r, 422, "VALIDATION_FAILED")
    r = server.setup(username="", password="long-enough-password", code=code)
    assert_error(r, 422, "VALIDATION_FAILED")
    assert server.get(SETUP).json().get("initialized") is False
    # exactly 8 chars is accepted
    r = server.setup(username="admin", password="eight888", code=code)
    assert r.status_code == 201, r.text


def test_setup_check_order_before_init(server):
    # wrong code beats validation errors
    r = server.setup(username="", password="x", code="definitely-wrong")
    assert_error(r, 403, "INVALID_SETUP_CODE")


def test_setup_check_order_after_init(server):
    code = server.setup_code()
    assert server.setup(code=code).status_code == 201
    # malformed JSON is still 400 first
    r = server.post(SETUP, data=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_JSON")
    # already-initialized beats wrong code and validation
    r = server.setup(username="", password="x", code="wrong")
    assert_error(r, 409, "ALREADY_INITIALIZED")
    r = server.setup(username="second", password="long-enough-pw", code=code)
    assert_error(r, 409, "ALREADY_INITIALIZED")


def test_setup_race(server):
    code = server.setup_code()
    barrier = threading.Barrier(2)
    results = [None, None]

    def worker(i):
        body = {"username": f"racer{i}", "password": f"racer-password-{i}",
                "setup_code": code}
        barrier.wait()
        try:
            results[i] = requests.post(server.url + SETUP, json=body, timeout=60)
        except Exception as e:  # pragma: no cover - reported below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for r in results:
        assert isinstance(r, requests.Response), f"request failed: {r!r}"
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409], [(r.status_code, r.text) for r in results]
    loser = [r for r in results if r.status_code == 409][0]
    assert_error(loser, 409, "ALREADY_INITIALIZED")
    rows = db_query(server.data_dir, "SELECT username FROM users")
    assert len(rows) == 1, rows
    winner = [r for r in results if r.status_code == 201][0]
    assert rows[0][0] == winner.json()["username"]


# --------------------------------------------------------------------------
# login / me / logout
# --------------------------------------------------------------------------

def test_login_and_me(admin):
    s = admin.server
    r = s.login(admin.username, admin.password)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body.get("access_token"), str) and body["access_token"]
    assert body.get("token_type") == "Bearer"
    assert isinstance(body.get("expires_in"), int) and not isinstance(body["expires_in"], bool)
    assert body["expires_in"] > 0
    claims = jwt_claims(body["access_token"])
    assert claims.get("exp", 0) > time.time()

    r = s.me(body["access_token"])
    assert r.status_code == 200, r.text
    me = r.json()
    for key in ("id", "username", "is_admin", "created_at", "last_login"):
        assert key in me, f"/me lacks {key}: {me}"
    assert me["username"] == admin.username
    assert me["is_admin"] is True
    assert me["id"] == admin.setup_body["id"]


def test_me_requires_auth(shared_admin):
    r = shared_admin.server.get(ME)
    assert_error(r, 401, "UNAUTHENTICATED")


def test_login_failures_indistinguishable(admin):
    s = admin.server
    r1 = s.login(admin.username, "wrong-password-1")
    r2 = s.login("no-such-user", "wrong-password-1")
    e1 = assert_error(r1, 401, "UNAUTHENTICATED")
    e2 = assert_error(r2, 401, "UNAUTHENTICATED")
    assert e1["code"] == e2["code"]
    assert e1["message"] == e2["message"]


def test_login_malformed_json(admin):
    r = admin.server.post(LOGIN, data=b'{"username":', headers={"Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_JSON")


def test_login_lockout_per_user(admin):
    s = admin.server
    for i in range(5):
        r = s.login(admin.username, f"wrong-password-{i}")
        assert_error(r, 401, "UNAUTHENTICATED")
    r = s.login(admin.username, admin.password)
    assert_error(r, 429, "TOO_MANY_ATTEMPTS")
    assert_retry_after(r)


def test_login_lockout_per_ip(admin):
    s = admin.server
    for i in range(5):
        r = s.login(f"ghost-user-{i}", "wrong-password")
        assert_error(r, 401, "UNAUTHENTICATED")
    # a different (valid) user with the right password from the same IP
    r = s.login(admin.username, admin.password)
    assert_error(r, 429, "TOO_MANY_ATTEMPTS")
    assert_retry_after(r)


def test_logout_revokes_token(admin):
    s = admin.server
    token = s.login_token(admin.username, admin.password)
    assert s.me(token).status_code == 200
    r = s.post(LOGOUT, headers=bearer(token))
    assert r.status_code == 204, r.text
    assert_error(s.me(token), 401, "UNAUTHENTICATED")
    # other tokens are unaffected
    assert s.me(admin.token).status_code == 200


def test_logout_requires_auth(shared_admin):
    assert_error(shared_admin.server.post(LOGOUT), 401, "UNAUTHENTICATED")


# --------------------------------------------------------------------------
# password change
# --------------------------------------------------------------------------

def test_password_change(admin):
    s = admin.server
    old_token = admin.token
    new_pw = "Brand-New-Passw0rd"
    r = s.post(PASSWORD, headers=bearer(old_token),
               json={"old_password": admin.password, "new_password": new_pw})
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body.get("access_token"), str) and body["access_token"]
    assert body.get("token_type") == "Bearer"
    assert isinstance(body.get("expires_in"), int) and body["expires_in"] > 0
    fresh = body["access_token"]

    assert_error(s.me(old_token), 401, "UNAUTHENTICATED")
    assert s.me(fresh).status_code == 200

    assert s.login(admin.username, new_pw).status_code == 200
    assert_error(s.login(admin.username, admin.password), 401, "UNAUTHENTICATED")


def test_password_change_wrong_old(admin):
    s = admin.server
    r = s.post(PASSWORD, headers=bearer(admin.token),
               json={"old_password": "not-the-password", "new_password": "Another-Passw0rd"})
    assert_error(r, 403, "FORBIDDEN")
    # nothing changed
    assert s.me(admin.token).status_code == 200
    assert s.login(admin.username, admin.password).status_code == 200


def test_password_change_too_short(admin):
    s = admin.server
    r = s.post(PASSWORD, headers=bearer(admin.token),
               json={"old_password": admin.password, "new_password": "short"})
    assert_error(r, 422, "VALIDATION_FAILED")
    assert s.me(admin.token).status_code == 200


def test_password_change_requires_auth(shared_admin):
    r = shared_admin.server.post(PASSWORD, json={"old_password": "x" * 10,
                                                 "new_password": "y" * 10})
    assert_error(r, 401, "UNAUTHENTICATED")


# --------------------------------------------------------------------------
# system info
# --------------------------------------------------------------------------

def test_system_info(shared_admin):
    s = shared_admin.server
    r = s.get(INFO, headers=bearer(shared_admin.token))
    assert r.status_code == 200, r.text
    info = r.json()
    for key in ("version", "build", "uptime_s", "engines", "cpu", "memory", "disk"):
        assert key in info, f"system/info lacks {key}: {info}"
    assert isinstance(info["version"], str) and info["version"]
    assert is_number(info["uptime_s"]) and info["uptime_s"] >= 0
    assert isinstance(info["engines"], list)
    cpu = info["cpu"]
    assert isinstance(cpu, dict)
    assert isinstance(cpu.get("count"), int) and cpu["count"] > 0
    assert "load_1m" in cpu and is_number(cpu["load_1m"])
    mem = info["memory"]
    for k in ("total_mb", "available_mb", "process_rss_mb"):
        assert k in mem and is_number(mem[k]), f"memory.{k}: {mem}"
    assert mem["total_mb"] > 0 and mem["process_rss_mb"] > 0
    disk = info["disk"]
    for k in ("data_dir", "free_mb", "total_mb"):
        assert k in disk, f"disk.{k} missing: {disk}"
    assert isinstance(disk["data_dir"], str) and disk["data_dir"]
    assert is_number(disk["free_mb"]) and is_number(disk["total_mb"])
    assert disk["total_mb"] > 0


def test_system_info_requires_auth(shared_admin):
    assert_error(shared_admin.server.get(INFO), 401, "UNAUTHENTICATED")


# --------------------------------------------------------------------------
# token validation
# --------------------------------------------------------------------------

def _tamper(token):
    h, p, sig = jwt_parts(token)
    i = len(p) // 2
    c = p[i]
    repl = "A" if c != "A" else "B"
    return f"{h}.{p[:i]}{repl}{p[i + 1:]}.{sig}"


def _bad_token(kind, admin):
    s = admin.server
    tok = admin.token
    claims = jwt_claims(tok)
    now = int(time.time())
    key = s.jwt_secret()
    if kind == "missing":
        return {}
    if kind == "malformed":
        return {"Authorization": "Bearer abc"}
    if kind == "not_bearer":
        return {"Authorization": f"Basic {tok}"}
    if kind == "tampered":
        return bearer(_tamper(tok))
    if kind == "expired":
        c = dict(claims, exp=now - 60, iat=now - 3600)
        return bearer(forge_jwt(c, key, "HS256"))
    if kind == "alg_none":
        return bearer(forge_jwt(claims, key, "none"))
    if kind == "wrong_secret":
        return bearer(forge_jwt(claims, b"\x01" * 32, "HS256"))
    if kind == "hs512":
        return bearer(forge_jwt(claims, key, "HS512"))
    raise AssertionError(kind)


BAD_KINDS = ["missing", "malformed", "not_bearer", "tampered", "expired",
             "alg_none", "wrong_secret", "hs512"]


@pytest.mark.parametrize("path", [ME, INFO])
@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_tokens_rejected(shared_admin, kind, path):
    headers = _bad_token(kind, shared_admin)
    r = shared_admin.server.get(path, headers=headers)
    assert_error(r, 401, "UNAUTHENTICATED")


@pytest.mark.parametrize("path", [ME, INFO])
def test_forged_token_with_right_key_accepted(shared_admin, path):
    """Positive control for the forging helper."""
    s = shared_admin.server
    claims = jwt_claims(shared_admin.token)
    now = int(time.time())
    c = dict(claims, iat=now - 5, exp=now + 600)
    tok = forge_jwt(c, s.jwt_secret(), "HS256")
    r = s.get(path, headers=bearer(tok))
    assert r.status_code == 200, r.text


def test_jwt_secret_file(shared_admin):
    p = shared_admin.server.data_dir / "jwt-secret"
    txt = p.read_text().strip()
    assert len(txt) == 64 and all(c in "0123456789abcdef" for c in txt), txt
    mode = p.stat().st_mode & 0o777
    assert mode == 0o600, f"jwt-secret mode {oct(mode)}"
    # the real token really is HS256 signed with this key
    tok = shared_admin.token
    h, p_, sig = jwt_parts(tok)
    expect = hmac.new(bytes.fromhex(txt), f"{h}.{p_}".encode(), hashlib.sha256).digest()
    assert b64url_decode(sig) == expect
    assert b64url_encode(expect) == sig


def test_revoked_token_rejected_on_info(admin):
    s = admin.server
    tok = s.login_token(admin.username, admin.password)
    assert s.get(INFO, headers=bearer(tok)).status_code == 200
    assert s.post(LOGOUT, headers=bearer(tok)).status_code == 204
    assert_error(s.get(INFO, headers=bearer(tok)), 401, "UNAUTHENTICATED")
    assert_error(s.me(tok), 401, "UNAUTHENTICATED")


def test_token_before_password_change_rejected_everywhere(admin):
    s = admin.server
    other = s.login_token(admin.username, admin.password)
    r = s.post(PASSWORD, headers=bearer(admin.token),
               json={"old_password": admin.password, "new_password": "Changed-Passw0rd"})
    assert r.status_code == 200, r.text
    for tok in (admin.token, other):
        assert_error(s.me(tok), 401, "UNAUTHENTICATED")
        assert_error(s.get(INFO, headers=bearer(tok)), 401, "UNAUTHENTICATED")
