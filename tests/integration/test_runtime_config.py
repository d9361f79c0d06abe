"""Runtime configuration (design §4.5.4, docs/CONFIG.md "Changing settings at
run time"): GET/PATCH /api/v1/internal/system/config, the override file in the
data directory, live keys applied through change notifications, restart keys
reported as pending, environment-fixed keys refused."""

import concurrent.futures
import os
import random
import signal
import threading
import time

import pytest
import yaml

from conftest import (API, CLS_CONFIG, TOKENS, assert_error, bearer,
                      create_api_token, db_query, free_port, give_app_token, make_admin,
                      token_headers)
from test_model_lifecycle import LONG_TIMEOUT_S, publish_ok
from test_models_api import CLS, SAMPLES, need, upload_ok

CONFIG = f"{API}/system/config"
OVERRIDE_FILE = "config-override.yaml"


def config_server(server_factory, yaml_text="", env=None, name=None):
    """A server whose host, port and data dir come from its config file, so
    that (unlike the shared helper's) no key but those in `env` is fixed by
    the environment."""
    port = free_port()
    s = server_factory(start=False, env_overrides=False, port=port, name=name,
                       env=env or {})
    config = s.workdir / "cinfer.yaml"
    config.write_text(f"server: {{host: 127.0.0.1, port: {port}, data_dir: '{s.data_dir}'}}\n"
                      + yaml_text)
    s.config_file = config
    return s.start()


def get_config(admin):
    r = admin.server.get(CONFIG, headers=bearer(admin.token))
    assert r.status_code == 200, f"GET config: {r.status_code} {r.text[:500]}"
    return r.json()


def keyed(doc):
    return {k["key"]: k for k in doc["keys"]}


def patch(admin, body, status=200):
    r = admin.server.request("PATCH", CONFIG, json=body, headers=bearer(admin.token))
    assert r.status_code == status, f"PATCH {body}: {r.status_code} {r.text[:800]}"
    return r.json()


def override_path(server):
    return server.data_dir / OVERRIDE_FILE


def list_models(server, value, **headers):
    return server.get("/api/v1/models", headers={**token_headers(value), **headers})


@pytest.fixture
def cfg_admin(server_factory):
    s = config_server(server_factory, "server: {log_level: info}\n")
    return make_admin(s)


def test_get_describes_every_key_with_its_source_and_how_it_applies(server_factory):
    s = config_server(server_factory, "request: {timeout_ms: 4000}\n",
                      env={"CINFER_AUTH__LOGIN_WINDOW_S": "120"})
    admin = make_admin(s)
    doc = get_config(admin)
    keys = keyed(doc)
    assert len(keys) >= 60, f"only {len(keys)} keys"
    assert {k.split(".")[0] for k in keys} == {"server", "engines", "models", "request", "auth",
                                                "logs", "metrics"}
    assert {k["section"] for k in doc["keys"]} == {k.split(".")[0] for k in keys}
    assert doc["override_file"].endswith(OVERRIDE_FILE)
    assert keys["request.timeout_ms"]["value"] == 4000
    assert keys["request.timeout_ms"]["source"] == "file"
    assert keys["request.timeout_ms"]["default"] == 5000
    assert keys["auth.login_window_s"]["source"] == "environment"
    assert keys["auth.login_window_s"]["editable"] is False
    assert "CINFER_AUTH__LOGIN_WINDOW_S" in keys["auth.login_window_s"]["reason"]
    assert keys["logs.max_rows"]["source"] == "default"
    assert keys["server.log_level"]["apply"] == "live"
    assert keys["server.workers"]["apply"] == "restart"
    assert keys["server.data_dir"]["editable"] is False
    assert keys["server.log_level"]["choices"] == ["trace", "debug", "info", "warn", "error", "off"]
    assert keys["server.workers"]["type"] == "integer" and keys["server.workers"]["min"] == 1
    assert keys["server.trusted_proxies"]["type"] == "list"
    assert keys["auth.ip_filter.enabled"]["type"] == "boolean"
    assert keys["server.port"]["env"] == "CINFER_SERVER__PORT"
    assert doc["pending_restart"] == []


def test_log_level_changes_what_is_logged(cfg_admin):
    s = cfg_admin.server

    def access_lines():
        return s.log_text().count('"GET /health/live"')

    before = access_lines()
    s.get("/health/live")
    assert wait_for(lambda: access_lines() == before + 1), "info: the access line is logged"
    out = patch(cfg_admin, {"server.log_level": "warn"})
    assert out["changed"] == ["server.log_level"]
    assert keyed(out)["server.log_level"]["source"] == "override"
    quiet = access_lines()
    for _ in range(3):
        s.get("/health/live")
    time.sleep(0.5)
    assert access_lines() == quiet, "warn: info-level access lines must stop"
    patch(cfg_admin, {"server.log_level": None})  # back to the file's info
    assert keyed(get_config(cfg_admin))["server.log_level"]["source"] == "file"
    s.get("/health/live")
    assert wait_for(lambda: access_lines() == quiet + 1), "info again: logged"


def test_access_log_switches_off_and_on(cfg_admin):
    s = cfg_admin.server
    count = lambda: s.log_text().count('"GET /health/ready"')  # noqa: E731
    patch(cfg_admin, {"server.access_log": False})
    before = count()
    s.get("/health/ready")
    time.sleep(0.5)
    assert count() == before
    patch(cfg_admin, {"server.access_log": True})
    s.get("/health/ready")
    assert wait_for(lambda: count() == before + 1)


def test_new_default_rate_limit_applies_to_the_next_token(cfg_admin):
    _, first = create_api_token(cfg_admin)
    assert first["rate_limit_per_minute"] == 60
    patch(cfg_admin, {"auth.rate_limit.requests_per_minute": 7,
                      "auth.rate_limit.requests_per_month": 0, "auth.token_expiry_days": 0})
    _, second = create_api_token(cfg_admin)
    assert second["rate_limit_per_minute"] == 7
    assert second["monthly_limit"] is None and second["expires_at"] is None
    r = cfg_admin.server.get(f"{TOKENS}/{first['id']}", headers=bearer(cfg_admin.token))
    assert r.json()["rate_limit_per_minute"] == 60, "existing tokens keep their limits"


def test_trusted_proxies_change_the_client_ip_seen(cfg_admin):
    s = cfg_admin.server
    value, _ = create_api_token(cfg_admin, ip_whitelist=["203.0.113.0/24"],
                                rate_limit_per_minute=None)
    xff = {"X-Forwarded-For": "203.0.113.7"}
    assert_error(list_models(s, value, **xff), 403, "IP_NOT_ALLOWED")
    patch(cfg_admin, {"server.trusted_proxies": ["127.0.0.1/32"]})
    assert list_models(s, value, **xff).status_code == 200, "the proxy's header now counts"
    assert_error(list_models(s, value), 403, "IP_NOT_ALLOWED")
    patch(cfg_admin, {"server.trusted_proxies": []})
    assert_error(list_models(s, value, **xff), 403, "IP_NOT_ALLOWED")


def test_ip_filtering_and_login_throttling_apply_live(cfg_admin):
    s = cfg_admin.server
    value, _ = create_api_token(cfg_admin, ip_whitelist=["203.0.113.0/24"],
                                rate_limit_per_minute=None)
    assert_error(list_models(s, value), 403, "IP_NOT_ALLOWED")
    patch(cfg_admin, {"auth.ip_filter.enabled": False})
    assert list_models(s, value).status_code == 200
    patch(cfg_admin, {"auth.ip_filter.enabled": True})
    assert_error(list_models(s, value), 403, "IP_NOT_ALLOWED")

    patch(cfg_admin, {"auth.login_max_failures": 2})
    for _ in range(2):
        assert s.login("nobody", "Wrong-Passw0rd!").status_code == 401
    assert_error(s.login("nobody", "Wrong-Passw0rd!"), 429, "TOO_MANY_ATTEMPTS")


def publish_cls(admin, name):
    m = upload_ok(admin, need(CLS).read_bytes(), name, config=CLS_CONFIG, filename=CLS.name,
                  timeout=LONG_TIMEOUT_S)
    publish_ok(admin, m["id"], 1)
    return m["id"]


def run_async(server, mid, image, headers):
    r = server.post(f"/api/v1/models/{mid}/infer/async", data=image, headers=headers)
    assert r.status_code == 202, r.text
    rid = r.json()["request_id"]
    assert wait_for(lambda: server.get(f"/api/v1/requests/{rid}", headers=headers).status_code
                    == 200, timeout=30), f"async {rid} did not finish"
    return rid


def test_async_limits_and_log_retention_apply_live(cfg_admin):
    s = cfg_admin.server
    headers = {"Content-Type": "image/jpeg", **give_app_token(cfg_admin)}
    mid = publish_cls(cfg_admin, "cls-async-live")
    image = (SAMPLES / "images" / "rocket.jpg").read_bytes()
    first = run_async(s, mid, image, headers)
    second = run_async(s, mid, image, headers)
    assert s.get(f"/api/v1/requests/{first}", headers=headers).status_code == 200
    patch(cfg_admin, {"request.async_max_results": 1})
    assert_error(s.get(f"/api/v1/requests/{first}", headers=headers), 404, "REQUEST_NOT_FOUND")
    assert s.get(f"/api/v1/requests/{second}", headers=headers).status_code == 200

    for _ in range(3):
        assert s.post(f"/api/v1/models/{mid}/infer", data=image, headers=headers).ok
    logs = lambda: s.get(f"{API}/logs", headers=bearer(cfg_admin.token)).json()["total"]  # noqa
    assert wait_for(lambda: logs() >= 5), "five inference rows are logged"
    patch(cfg_admin, {"logs.max_rows": 2})
    assert wait_for(lambda: logs() == 2), f"the purge keeps the newest 2, has {logs()}"


def test_restart_key_is_pending_until_a_restart(cfg_admin):
    s = cfg_admin.server
    big = b"x" * (2 << 20)
    headers = {"Content-Type": "image/jpeg", **give_app_token(cfg_admin)}
    r = s.post("/api/v1/models/nope/infer", data=big, headers=headers)
    assert r.status_code == 404, f"a 2 MiB body is within 32 MiB: {r.status_code}"
    out = patch(cfg_admin, {"request.max_body_mb": 1})
    k = keyed(out)["request.max_body_mb"]
    assert k["value"] == 32 and k["pending"] is True and k["pending_value"] == 1, k
    assert out["pending_restart"] == ["request.max_body_mb"]
    info = s.get(f"{API}/system/info", headers=bearer(cfg_admin.token)).json()
    assert info["config"]["pending_restart"] == ["request.max_body_mb"]
    assert s.post("/api/v1/models/nope/infer", data=big, headers=headers).status_code == 404

    s.restart()
    token = s.login_token()
    r = s.get(CONFIG, headers=bearer(token))
    k = keyed(r.json())["request.max_body_mb"]
    assert k["value"] == 1 and "pending" not in k and k["source"] == "override", k
    assert r.json()["pending_restart"] == []
    assert_error(s.post("/api/v1/models/nope/infer", data=big, headers=headers), 413,
                 "PAYLOAD_TOO_LARGE")


def test_bad_values_get_422_naming_the_key_and_change_nothing(cfg_admin):
    s = cfg_admin.server
    patch(cfg_admin, {"request.timeout_ms": 4500})
    file_before = override_path(s).read_bytes()
    doc_before = keyed(get_config(cfg_admin))
    cases = [
        ({"request.timeout_ms": 0}, "request.timeout_ms"),
        ({"request.timeout_ms": "fast"}, "request.timeout_ms"),
        ({"request.timeout_ms": 1.5}, "request.timeout_ms"),
        ({"server.log_level": "loud"}, "server.log_level"),
        ({"server.trusted_proxies": ["10.0.0.0/33"]}, "server.trusted_proxies"),
        ({"server.trusted_proxies": "10.0.0.1"}, "server.trusted_proxies"),
        ({"auth.ip_filter.enabled": "yes"}, "auth.ip_filter.enabled"),
        ({"auth.jwt_secret": "short"}, "auth.jwt_secret"),
        ({"no.such.key": 1}, "no.such.key"),
        # one bad key spoils the whole patch
        ({"auth.login_max_failures": 9, "server.workers": 0}, "server.workers"),
    ]
    for body, field in cases:
        r = s.request("PATCH", CONFIG, json=body, headers=bearer(cfg_admin.token))
        err = assert_error(r, 422, "VALIDATION_FAILED")
        assert err.get("details", {}).get("field") == field, f"{body}: {r.text}"
        assert field in err["message"], f"{body}: {r.text}"
    assert_error(s.request("PATCH", CONFIG, data=b"{not json",
                           headers={**bearer(cfg_admin.token),
                                    "Content-Type": "application/json"}), 400, "INVALID_JSON")
    assert override_path(s).read_bytes() == file_before
    assert keyed(get_config(cfg_admin)) == doc_before


def test_environment_fixed_and_startup_only_keys_are_refused(server_factory):
    s = config_server(server_factory, env={"CINFER_REQUEST__TIMEOUT_MS": "3000"})
    admin = make_admin(s)
    r = s.request("PATCH", CONFIG, json={"request.timeout_ms": 100}, headers=bearer(admin.token))
    err = assert_error(r, 409, "FIXED_BY_ENVIRONMENT")
    assert err["details"]["field"] == "request.timeout_ms"
    assert "CINFER_REQUEST__TIMEOUT_MS" in err["message"]
    r = s.request("PATCH", CONFIG, json={"server.data_dir": "/tmp/x"},
                  headers=bearer(admin.token))
    assert_error(r, 409, "NOT_RUNTIME_CONFIGURABLE")
    assert not override_path(s).exists()
    assert keyed(get_config(admin))["request.timeout_ms"]["value"] == 3000


def test_override_survives_a_restart_and_is_audited_with_secrets_redacted(cfg_admin):
    s = cfg_admin.server
    secret = "s3cret-" + "k" * 40
    out = patch(cfg_admin, {"auth.rate_limit.requests_per_minute": 9, "auth.jwt_secret": secret})
    assert sorted(out["changed"]) == ["auth.jwt_secret", "auth.rate_limit.requests_per_minute"]
    k = keyed(out)["auth.jwt_secret"]
    assert k["value"] == "" and k["pending_value"] == "********" and k["secret"] is True
    assert secret not in str(out)
    f = override_path(s)
    assert oct(f.stat().st_mode & 0o777) == "0o600"
    assert yaml.safe_load(f.read_text())["auth.rate_limit.requests_per_minute"] == 9
    rows = db_query(s.data_dir, "SELECT actor, detail FROM audit_log WHERE action = "
                    "'config.update' ORDER BY id")
    assert rows, "PATCH is audited"
    actor, detail = rows[-1]
    assert actor == cfg_admin.username
    assert secret not in detail and "<redacted>" in detail
    assert '"old":60' in detail.replace(" ", "") and '"new":9' in detail.replace(" ", "")
    old_session = cfg_admin.token
    # Sending the redacted value back leaves the secret as it is.
    again = patch(cfg_admin, {"auth.jwt_secret": "********"})
    assert again["changed"] == []

    s.restart()
    assert s.me(old_session).status_code == 401, "a new JWT secret ends old sessions"
    token = s.login_token()
    keys = keyed(s.get(CONFIG, headers=bearer(token)).json())
    assert keys["auth.rate_limit.requests_per_minute"]["value"] == 9
    assert keys["auth.rate_limit.requests_per_minute"]["source"] == "override"
    assert keys["auth.jwt_secret"]["value"] == "********"


def test_only_admins_read_or_change_the_configuration(cfg_admin):
    s = cfg_admin.server
    for role in ("operator", "viewer"):
        name = f"{role}1"
        r = s.post(f"{API}/users", json={"username": name, "password": "Op3rator-Pass-9!",
                                         "role": role}, headers=bearer(cfg_admin.token))
        assert r.status_code == 201, r.text
        tok = s.login_token(name, "Op3rator-Pass-9!")
        assert_error(s.get(CONFIG, headers=bearer(tok)), 403, "FORBIDDEN")
        assert_error(s.request("PATCH", CONFIG, json={"server.access_log": False},
                               headers=bearer(tok)), 403, "FORBIDDEN")
    assert_error(s.get(CONFIG), 401, "UNAUTHENTICATED")


def test_kill9_during_patches_leaves_the_old_or_the_new_file(server_factory):
    s = config_server(server_factory)
    admin = make_admin(s)
    sent = [4000]
    for round_ in range(4):
        stop = threading.Event()

        def patcher():
            while not stop.is_set():
                value = sent[-1] + 1
                sent.append(value)
                try:
                    s.request("PATCH", CONFIG, json={"request.timeout_ms": value},
                              headers=bearer(admin.token), timeout=5)
                except Exception:  # the server is being killed
                    return

        t = threading.Thread(target=patcher)
        t.start()
        time.sleep(0.3 + random.random() * 0.4)
        os.kill(s.proc.pid, signal.SIGKILL)
        s.proc.wait(10)
        stop.set()
        t.join(10)
        f = override_path(s)
        assert f.exists(), f"round {round_}: no override file after {len(sent)} patches"
        data = yaml.safe_load(f.read_text())
        assert data["request.timeout_ms"] in sent, f"round {round_}: torn file {f.read_text()!r}"
        leftovers = [p.name for p in s.data_dir.iterdir() if p.name.startswith(OVERRIDE_FILE)
                     and p.name != OVERRIDE_FILE]
        s.start()
        admin.token = s.login_token()
        k = keyed(get_config(admin))["request.timeout_ms"]
        assert k["value"] == data["request.timeout_ms"], "the server runs what the file says"
        del leftovers  # temporary files of a cut write are harmless and replaced next time


def test_patches_racing_with_traffic_fail_no_request(server_factory):
    s = config_server(server_factory)
    admin = make_admin(s)
    headers = {"Content-Type": "image/jpeg", **give_app_token(admin)}
    m = upload_ok(admin, need(CLS).read_bytes(), "cls-live-config", config=CLS_CONFIG,
                  filename=CLS.name, timeout=LONG_TIMEOUT_S)
    publish_ok(admin, m["id"], 1)
    image = (SAMPLES / "images" / "rocket.jpg").read_bytes()
    stop = threading.Event()
    failures, counts = [], [0]
    lock = threading.Lock()

    def traffic(i):
        while not stop.is_set():
            if i % 4 == 3:
                r = s.get(CONFIG, headers=bearer(admin.token), timeout=60)
            elif i % 4 == 2:
                r = s.get("/api/v1/models", headers=headers, timeout=60)
            else:
                r = s.post(f"/api/v1/models/{m['id']}/infer", data=image, headers=headers,
                           timeout=60)
            with lock:
                counts[0] += 1
                if r.status_code != 200:
                    failures.append((i, r.status_code, r.text[:200]))

    patches = [
        {"request.timeout_ms": 20000 + n, "server.log_level": random.choice(["info", "warn"]),
         "server.trusted_proxies": random.choice([[], ["127.0.0.1/32"], ["10.0.0.0/8"]]),
         "auth.rate_limit.requests_per_minute": 10 + n, "request.max_batch_images": 8 + n,
         "request.async_max_pending": 100 + n, "logs.retention_days": 30 + n,
         "server.access_log": n % 2 == 0}
        for n in range(50)
    ]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(traffic, i) for i in range(8)]
        for body in patches:
            patch(admin, body)
        stop.set()
        for f in futures:
            f.result()
    assert counts[0] >= 50, f"only {counts[0]} requests ran"
    assert failures == [], f"{len(failures)} of {counts[0]} failed: {failures[:5]}"
    k = keyed(get_config(admin))
    assert k["request.timeout_ms"]["value"] == 20049
    assert k["request.max_batch_images"]["value"] == 57


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
