"""Configuration validation and the command line interface."""

import json
import subprocess

import pytest

from conftest import (
    ADMIN_PASSWORD, ADMIN_USERNAME, API, CINFER_BIN, Server, assert_error,
    base_env, free_port, make_admin, require_binary,
)

EXIT_TIMEOUT_S = 30


def run_cinfer(args, env=None, cwd=None, input=None, timeout=EXIT_TIMEOUT_S):
    require_binary()
    full_env = base_env()
    full_env.update(env or {})
    try:
        return subprocess.run([CINFER_BIN, *args], env=full_env, cwd=cwd,
                              input=input, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`cinfer {' '.join(args)}` did not exit within {timeout}s "
                    f"(output: {e.stdout!r} {e.stderr!r})")


def _env(tmp_path, port=True):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    env = {"CINFER_SERVER__DATA_DIR": str(data),
           "CINFER_SERVER__HOST": "127.0.0.1"}
    if port:
        env["CINFER_SERVER__PORT"] = str(free_port())
    return env


def _assert_config_error(res, needle):
    out = (res.stdout or "") + (res.stderr or "")
    assert res.returncode != 0, f"expected non-zero exit, got 0; output: {out!r}"
    assert needle in out, f"{needle!r} not mentioned in output: {out!r}"


# --------------------------------------------------------------------------
# config errors
# --------------------------------------------------------------------------

def test_unknown_yaml_key(tmp_path):
    cfg = tmp_path / "cinfer.yaml"
    cfg.write_text("server:\n  prot: 1\n")
    res = run_cinfer(["serve", "--config", str(cfg)], env=_env(tmp_path), cwd=tmp_path)
    _assert_config_error(res, "server.prot")


def test_unknown_env_override(tmp_path):
    env = _env(tmp_path)
    env["CINFER_SERVER__PROTT"] = "1"
    res = run_cinfer(["serve"], env=env, cwd=tmp_path)
    _assert_config_error(res, "server.prott")


@pytest.mark.parametrize("value", ['"abc"', "70000"])
def test_invalid_port_yaml(tmp_path, value):
    cfg = tmp_path / "cinfer.yaml"
    cfg.write_text(f"server:\n  port: {value}\n")
    # no port env override here, so the file value is what gets validated
    res = run_cinfer(["serve", "--config", str(cfg)], env=_env(tmp_path, port=False),
                     cwd=tmp_path)
    _assert_config_error(res, "server.port")


@pytest.mark.parametrize("value", ["abc", "70000"])
def test_invalid_port_env(tmp_path, value):
    env = _env(tmp_path, port=False)
    env["CINFER_SERVER__PORT"] = value
    res = run_cinfer(["serve"], env=env, cwd=tmp_path)
    _assert_config_error(res, "server.port")


def test_valid_config_file(tmp_path):
    """A server configured purely through a YAML file starts and serves."""
    port = free_port()
    work = tmp_path / "w"
    data = work / "data"
    data.mkdir(parents=True)
    cfg = tmp_path / "cinfer.yaml"
    cfg.write_text(
        "server:\n"
        "  host: 127.0.0.1\n"
        f"  port: {port}\n"
        f"  data_dir: {data}\n"
        "  log_level: debug\n")
    s = Server(work, config_file=cfg, port=port, env_overrides=False)
    try:
        s.start()
        assert s.get("/health/live").status_code == 200
        assert (data / "setup-code").exists()
        assert (data / "cinfer.db").exists()
    finally:
        s.stop()


# --------------------------------------------------------------------------
# CLI basics
# --------------------------------------------------------------------------

def test_version(tmp_path):
    res = run_cinfer(["version"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip(), "version printed nothing on stdout"


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"]])
def test_help(tmp_path, args):
    res = run_cinfer(args, cwd=tmp_path)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert (res.stdout + res.stderr).strip()


# --------------------------------------------------------------------------
# admin reset-password
# --------------------------------------------------------------------------

def test_admin_reset_password(server):
    a = make_admin(server)
    old_token = a.token
    assert server.me(old_token).status_code == 200
    rc = server.stop()
    assert rc == 0, f"SIGTERM exit code {rc}"

    new_pw = "Reset-By-Cli-Passw0rd"
    res = server.cli("admin", "reset-password", "--username", ADMIN_USERNAME,
                     input=new_pw + "\n")
    assert res.returncode == 0, (res.stdout, res.stderr)
    out = res.stdout + res.stderr
    assert new_pw not in out, "CLI echoed the new password"

    server.start()
    assert_error(server.me(old_token), 401, "UNAUTHENTICATED")
    r = server.login(ADMIN_USERNAME, new_pw)
    assert r.status_code == 200, r.text
    assert server.me(r.json()["access_token"]).status_code == 200
    assert_error(server.login(ADMIN_USERNAME, ADMIN_PASSWORD), 401, "UNAUTHENTICATED")


def test_admin_reset_password_unknown_user(server):
    make_admin(server)
    server.stop()
    res = server.cli("admin", "reset-password", "--username", "nobody-here",
                     input="Whatever-Passw0rd\n")
    assert res.returncode != 0, (res.stdout, res.stderr)
    # the admin's password is unchanged
    server.start()
    assert server.login(ADMIN_USERNAME, ADMIN_PASSWORD).status_code == 200


# --------------------------------------------------------------------------
# the offline tools construct only what they need
# --------------------------------------------------------------------------

def test_routes_needs_no_data_dir(tmp_path):
    # A data dir that cannot be created: the whole application could not start, the
    # route listing does not touch it.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir would be\n")
    res = run_cinfer(["routes"], env={"CINFER_SERVER__DATA_DIR": str(blocker / "data")},
                     cwd=tmp_path)
    assert res.returncode == 0, (res.stdout, res.stderr)
    routes = json.loads(res.stdout)
    paths = {(r["method"], r["path"]) for r in routes}
    assert ("POST", "/api/v1/models/{id}/infer") in paths, sorted(paths)[:10]
    assert ("GET", "/api/v1/internal/users") in paths, "user routes missing from the listing"
    assert all(r["auth"] != "admin" or r.get("role") for r in routes), "admin route without role"


def test_reset_password_opens_only_the_database(server):
    make_admin(server)
    server.stop()
    # The session key is not needed to reset a password: the full application would
    # create it again, the offline tool does not.
    (server.data_dir / "jwt-secret").unlink()
    res = server.cli("admin", "reset-password", "--username", ADMIN_USERNAME,
                     input="Reset-By-Cli-Passw0rd\n")
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert not (server.data_dir / "jwt-secret").exists(), "reset-password built the server"
    server.start()
    r = server.login(ADMIN_USERNAME, "Reset-By-Cli-Passw0rd")
    assert r.status_code == 200, r.text
