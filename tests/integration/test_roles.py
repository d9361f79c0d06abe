"""Users and roles (issue: administration).

  /api/v1/internal/users[...]   admin: list, create, get, patch, delete, disable,
                                enable, reset-password
  roles                         viewer < operator < admin, one table
                                (src/api/route_roles.cc), printed by `cinfer routes`
                                and repeated in api/openapi.yaml (x-required-role)

The role matrix reads the route table from the binary, so a new admin route
without a role fails here (and the server refuses to start without one).
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import (API, CINFER_BIN, Server, assert_error, bearer, create_api_token,
                      make_admin, token_headers)

REPO_ROOT = Path(__file__).resolve().parents[2]
USERS = f"{API}/users"
PASSWORD = "Correct-Horse-42"
FAKE_ID = "00000000-0000-0000-0000-000000000000"
ROLES = ("viewer", "operator", "admin")


def served_routes(tmp_path):
    env = dict(os.environ, CINFER_SERVER__DATA_DIR=str(tmp_path / "routes-data"))
    out = subprocess.run([CINFER_BIN, "routes"], env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def admin(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("roles"))
    s.start()
    try:
        yield make_admin(s)
    finally:
        s.stop()


def create_user(admin, username, role, password=PASSWORD):
    r = admin.server.post(USERS, json={"username": username, "password": password,
                                       "role": role}, headers=bearer(admin.token))
    assert r.status_code == 201, r.text
    return r.json()


def login(server, username, password=PASSWORD):
    r = server.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def test_every_admin_route_has_a_role_in_the_binary_and_the_spec(tmp_path):
    routes = served_routes(tmp_path)
    admin_routes = [r for r in routes if r["auth"] == "admin"]
    assert admin_routes
    for r in admin_routes:
        assert r.get("role") in ROLES, f"admin route without a role: {r}"
    for r in routes:
        if r["auth"] != "admin":
            assert "role" not in r, r
    spec = yaml.safe_load((REPO_ROOT / "api" / "openapi.yaml").read_text())
    for r in admin_routes:
        op = spec["paths"][r["path"]][r["method"].lower()]
        assert op.get("x-required-role") == r["role"], (r, op.get("x-required-role"))
    assert {r["role"] for r in admin_routes if r["path"].startswith(USERS)} == {"admin"}


def concrete(path):
    return path.replace("{id}", FAKE_ID).replace("{version}", "1")


def call(server, method, path, headers):
    body = {} if method in ("POST", "PATCH") else None
    return server.request(method, concrete(path), json=body, headers=headers, timeout=60)


def test_role_matrix(admin, tmp_path):
    """Every admin route × {admin, operator, viewer, disabled user, API token, no
    token}: below the route's role 403 FORBIDDEN, at or above it anything but
    401/403 (the fake ids and empty bodies give 404/400/422), a disabled user's
    session and an API token 401, no token 401."""
    s = admin.server
    sessions = {"admin": admin.token}
    for role in ("operator", "viewer"):
        create_user(admin, f"matrix-{role}", role)
        sessions[role] = login(s, f"matrix-{role}")["access_token"]
    gone = create_user(admin, "matrix-disabled", "admin")
    gone_token = login(s, "matrix-disabled")["access_token"]
    r = s.post(f"{USERS}/{gone['id']}/disable", headers=bearer(admin.token))
    assert r.status_code == 200 and r.json()["status"] == "disabled", r.text
    app_value, _ = create_api_token(admin, name="matrix-app")
    rank = {role: i for i, role in enumerate(ROLES)}
    for route in served_routes(tmp_path):
        if route["auth"] != "admin":
            continue
        method, path, need = route["method"], route["path"], route["role"]
        if path.endswith("/auth/logout"):
            continue  # would end the session the rest of the matrix uses; below
        for role, token in sessions.items():
            r = call(s, method, path, bearer(token))
            if rank[role] < rank[need]:
                assert_error(r, 403, "FORBIDDEN")
            else:
                assert r.status_code not in (401, 403), (role, method, path, r.text)
        assert_error(call(s, method, path, bearer(gone_token)), 401, "UNAUTHENTICATED")
        assert_error(call(s, method, path, token_headers(app_value)), 401, "UNAUTHENTICATED")
        assert_error(call(s, method, path, {}), 401, "UNAUTHENTICATED")
    for role in ("viewer", "operator"):
        token = login(s, f"matrix-{role}")["access_token"]
        assert s.post(f"{API}/auth/logout", headers=bearer(token)).status_code == 204
        assert_error(s.get(f"{API}/auth/me", headers=bearer(token)), 401, "UNAUTHENTICATED")


def test_user_lifecycle_and_audit(admin):
    s, h = admin.server, bearer(admin.token)
    u = create_user(admin, "life-op", "operator")
    assert u["role"] == "operator" and u["status"] == "active"
    assert u["must_change_password"] is False and u["last_login"] is None
    assert_error(s.post(USERS, json={"username": "life-op", "password": PASSWORD}, headers=h),
                 409, "USERNAME_TAKEN")
    err = assert_error(s.post(USERS, json={"username": "x1", "password": PASSWORD,
                                           "role": "root"}, headers=h), 422, "VALIDATION_FAILED")
    assert err["details"]["field"] == "role"
    assert_error(s.post(USERS, json={"username": "x2", "password": "short"}, headers=h),
                 422, "VALIDATION_FAILED")
    assert_error(s.post(USERS, json={"username": "x3", "password": PASSWORD, "admin": True},
                        headers=h), 422, "VALIDATION_FAILED")
    r = s.post(USERS, json={"username": "life-default", "password": PASSWORD}, headers=h)
    assert r.status_code == 201 and r.json()["role"] == "viewer"
    # Failed logins are counted, and reset by a successful one.
    bad = s.post(f"{API}/auth/login", json={"username": "life-op", "password": "wrong-pass"})
    assert_error(bad, 401, "UNAUTHENTICATED")
    got = s.get(f"{USERS}/{u['id']}", headers=h).json()
    assert got["failed_logins"] == 1 and got["last_failed_login"]
    session = login(s, "life-op")
    assert session["role"] == "operator" and session["must_change_password"] is False
    got = s.get(f"{USERS}/{u['id']}", headers=h).json()
    assert got["failed_logins"] == 0 and got["last_login"]
    me = s.get(f"{API}/auth/me", headers=bearer(session["access_token"])).json()
    assert me["role"] == "operator"
    # A role change ends the sessions; the new role applies at the next login.
    r = s.request("PATCH", f"{USERS}/{u['id']}", json={"role": "viewer"}, headers=h)
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    assert_error(s.get(f"{API}/models", headers=bearer(session["access_token"])), 401,
                 "UNAUTHENTICATED")
    viewer = login(s, "life-op")["access_token"]
    assert s.get(f"{API}/models", headers=bearer(viewer)).status_code == 200
    assert_error(s.post(f"{API}/tokens", json={"name": "nope"}, headers=bearer(viewer)), 403,
                 "FORBIDDEN")
    users = s.get(USERS, headers=h).json()["items"]
    assert [x["username"] for x in users] == sorted(x["username"] for x in users)
    assert all("password_hash" not in x and "$argon2" not in json.dumps(x) for x in users)
    assert s.request("DELETE", f"{USERS}/{u['id']}", headers=h).status_code == 204
    assert_error(s.get(f"{USERS}/{u['id']}", headers=h), 404, "USER_NOT_FOUND")
    assert_error(s.get(f"{API}/models", headers=bearer(viewer)), 401, "UNAUTHENTICATED")
    audit = s.get(f"{API}/audit", params={"action": "user.", "page_size": 200}, headers=h).json()
    actions = {(e["action"], e["object_id"]) for e in audit["items"]}
    assert {("user.create", u["id"]), ("user.update", u["id"]), ("user.delete", u["id"])} <= actions
    for e in audit["items"]:
        assert e["actor"] == admin.username
        assert PASSWORD not in json.dumps(e)
    update = next(e for e in audit["items"] if e["action"] == "user.update"
                  and e["object_id"] == u["id"])
    assert update["detail"]["role"] == {"old": "operator", "new": "viewer"}


def test_last_admin_cannot_be_disabled_demoted_or_deleted(tmp_path):
    s = Server(tmp_path / "last-admin")
    s.start()
    try:
        a = make_admin(s)
        h = bearer(a.token)
        me = s.get(f"{API}/auth/me", headers=h).json()
        for method, path, body in (("PATCH", f"{USERS}/{me['id']}", {"role": "operator"}),
                                   ("PATCH", f"{USERS}/{me['id']}", {"status": "disabled"}),
                                   ("POST", f"{USERS}/{me['id']}/disable", None),
                                   ("DELETE", f"{USERS}/{me['id']}", None)):
            assert_error(s.request(method, path, json=body, headers=h), 409, "LAST_ADMIN")
        assert s.get(f"{API}/auth/me", headers=h).status_code == 200  # nothing changed
        second = create_user(a, "second-admin", "admin")
        r = s.request("PATCH", f"{USERS}/{me['id']}", json={"role": "operator"}, headers=h)
        assert r.status_code == 200, r.text
        h2 = bearer(login(s, "second-admin")["access_token"])
        assert_error(s.post(f"{USERS}/{second['id']}/disable", headers=h2), 409, "LAST_ADMIN")
    finally:
        s.stop()


def test_disabled_user_is_refused_on_the_next_request_and_at_login(admin):
    s, h = admin.server, bearer(admin.token)
    u = create_user(admin, "soon-disabled", "operator")
    token = login(s, "soon-disabled")["access_token"]
    assert s.get(f"{API}/models", headers=bearer(token)).status_code == 200
    assert s.post(f"{USERS}/{u['id']}/disable", headers=h).status_code == 200
    assert_error(s.get(f"{API}/models", headers=bearer(token)), 401, "UNAUTHENTICATED")
    assert_error(s.post(f"{API}/auth/login", json={"username": "soon-disabled",
                                                   "password": PASSWORD}), 401, "UNAUTHENTICATED")
    assert s.post(f"{USERS}/{u['id']}/enable", headers=h).json()["status"] == "active"
    assert s.get(f"{API}/models", headers=bearer(login(s, "soon-disabled")["access_token"])
                 ).status_code == 200


def test_reset_password_forces_a_change(admin):
    s, h = admin.server, bearer(admin.token)
    u = create_user(admin, "forgetful", "operator")
    old = login(s, "forgetful")["access_token"]
    r = s.post(f"{USERS}/{u['id']}/reset-password", json={"password": "Temporary-Pass-1"},
               headers=h)
    assert r.status_code == 204, r.text
    assert_error(s.get(f"{API}/models", headers=bearer(old)), 401, "UNAUTHENTICATED")
    session = login(s, "forgetful", "Temporary-Pass-1")
    assert session["must_change_password"] is True
    t = bearer(session["access_token"])
    assert_error(s.get(f"{API}/models", headers=t), 403, "PASSWORD_CHANGE_REQUIRED")
    assert s.get(f"{API}/auth/me", headers=t).json()["must_change_password"] is True
    r = s.post(f"{API}/auth/password", json={"old_password": "Temporary-Pass-1",
                                             "new_password": "Chosen-By-Me-7"}, headers=t)
    assert r.status_code == 200, r.text
    fresh = bearer(r.json()["access_token"])
    assert s.get(f"{API}/models", headers=fresh).status_code == 200
    assert s.get(f"{USERS}/{u['id']}", headers=h).json()["must_change_password"] is False
    assert_error(s.post(f"{USERS}/{FAKE_ID}/reset-password", json={"password": "Whatever-123"},
                        headers=h), 404, "USER_NOT_FOUND")


def test_offline_reset_password_still_works(tmp_path):
    s = Server(tmp_path / "offline")
    s.start()
    try:
        a = make_admin(s)
        create_user(a, "cli-op", "operator")
    finally:
        s.stop()
    out = s.cli("admin", "reset-password", "--username", "cli-op", input="Offline-Reset-9\n")
    assert out.returncode == 0, out.stderr
    s.start()
    try:
        session = login(s, "cli-op", "Offline-Reset-9")
        assert session["role"] == "operator"
    finally:
        s.stop()
