"""The container image (deploy/Containerfile) end to end under Podman.

One container from $CINFER_IMAGE (default localhost/cinfer:latest; `make test-deploy`
builds it with deploy/build-image.sh first, and this module builds it the same way when
it is absent), run as an operator would: --read-only with no tmpfs at all, a named
volume on /data, the port published on 127.0.0.1 only. Through it: first-run setup, the
PP-OCR angle classifier uploaded and published, an API token, inference; a stop (SIGTERM
to the server as PID 1, which must exit 0) and a start, and the same token and model
again. Also: the server runs as uid 10001, the root filesystem refuses writes outside
/data, and the image's HEALTHCHECK (kept by --format docker) reports healthy.

Skipped only when podman is not installed (deploy/install-podman.sh installs it).
Podman runs with deploy/containers.conf (CONTAINERS_CONF), as the scripts do.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from conftest import (API, CLS_CONFIG, HttpClient, bearer,  # noqa: E402
                      create_api_token, free_port, make_admin, token_headers)
from test_inference_api import (check_classes, check_result, png,  # noqa: E402
                                scores_by_index, text_line)
from test_model_lifecycle import LONG_TIMEOUT_S  # noqa: E402
from test_models_api import CLS, upload_ok  # noqa: E402

IMAGE = os.environ.get("CINFER_IMAGE", "localhost/cinfer:latest")
CONTAINERS_CONF = os.environ.get("CONTAINERS_CONF",
                                 str(REPO_ROOT / "deploy" / "containers.conf"))
READY_TIMEOUT_S = 120          # two slow cores: LibTorch and ONNX Runtime load first
BUILD_TIMEOUT_S = 3 * 3600     # a first build compiles everything
SERVER_UID = 10001

pytestmark = pytest.mark.skipif(
    shutil.which("podman") is None,
    reason="podman is not installed (deploy/install-podman.sh installs it; "
           "make test-deploy runs it)")


def podman(*args, check=True, timeout=300, **kw):
    env = {**os.environ, "CONTAINERS_CONF": CONTAINERS_CONF}
    r = subprocess.run(["podman", *args], env=env, capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, (
            f"podman {' '.join(args)} exited {r.returncode}:\n{r.stdout[-3000:]}\n"
            f"{r.stderr[-3000:]}")
    return r


class Container(HttpClient):
    """A cinfer container with the Server interface the integration helpers use
    (url, get/post/request, setup, login_token, app_headers)."""

    def __init__(self, image, name, volume):
        self.image = image
        self.name = name
        self.volume = volume
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app_headers = {}

    def run(self):
        podman("run", "-d", "--name", self.name,
               "--read-only", "--read-only-tmpfs=false",
               "-v", f"{self.volume}:/data",
               "-p", f"127.0.0.1:{self.port}:8000",
               "-e", "CINFER_SERVER__LOG_LEVEL=debug",
               self.image)

    def inspect(self, fmt):
        return podman("inspect", "--format", fmt, self.name).stdout.strip()

    def logs(self):
        r = podman("logs", self.name, check=False)
        return (r.stdout + r.stderr)[-6000:]

    def exec(self, *argv, check=True):
        return podman("exec", self.name, *argv, check=check, timeout=60)

    def wait_ready(self, timeout=READY_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.inspect("{{.State.Running}}") != "true":
                pytest.fail(f"container {self.name} stopped "
                            f"(exit {self.inspect('{{.State.ExitCode}}')}):\n{self.logs()}")
            try:
                r = requests.get(self.url + "/health/ready", timeout=2)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code} {r.text[:200]}"
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.5)
        pytest.fail(f"/health/ready not 200 within {timeout} s ({last}):\n{self.logs()}")

    def setup_code(self):
        deadline = time.monotonic() + 10
        while True:
            r = self.exec("cat", "/data/setup-code", check=False)
            if r.returncode == 0 and r.stdout.strip():
                return r.stdout.strip()
            assert time.monotonic() < deadline, f"no /data/setup-code: {r.stderr}"
            time.sleep(0.2)

    def setup(self, username, password, code=None):
        return self.post(f"{API}/system/setup", json={
            "username": username, "password": password,
            "setup_code": code or self.setup_code()})

    def login_token(self, username, password):
        r = self.post(f"{API}/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, f"login failed: {r.status_code} {r.text[:500]}"
        return r.json()["access_token"]


@pytest.fixture(scope="module")
def image():
    if podman("image", "exists", IMAGE, check=False).returncode != 0:
        env = {**os.environ, "CONTAINERS_CONF": CONTAINERS_CONF, "CINFER_IMAGE": IMAGE}
        r = subprocess.run([str(REPO_ROOT / "deploy" / "build-image.sh")], env=env,
                           timeout=BUILD_TIMEOUT_S)
        assert r.returncode == 0, "deploy/build-image.sh failed"
    return IMAGE


@pytest.fixture(scope="module")
def container(image):
    suffix = uuid.uuid4().hex[:8]
    c = Container(image, f"cinfer-test-{suffix}", f"cinfer-test-data-{suffix}")
    podman("volume", "create", c.volume)
    try:
        c.run()
        c.wait_ready()
        yield c
    finally:
        podman("rm", "-f", "-t", "5", c.name, check=False)
        podman("volume", "rm", "-f", c.volume, check=False)


@pytest.fixture(scope="module")
def admin(container):
    return make_admin(container)


def test_image_config(image):
    cfg = json.loads(podman("image", "inspect", image).stdout)[0]
    conf = cfg["Config"]
    assert conf.get("User") == f"{SERVER_UID}:{SERVER_UID}", conf.get("User")
    env = dict(e.split("=", 1) for e in conf.get("Env", []))
    assert env.get("CINFER_SERVER__HOST") == "0.0.0.0", env
    assert env.get("CINFER_SERVER__DATA_DIR") == "/data", env
    assert "/data" in (conf.get("Volumes") or {}), conf.get("Volumes")
    assert "8000/tcp" in (conf.get("ExposedPorts") or {}), conf.get("ExposedPorts")
    health = cfg.get("Healthcheck") or conf.get("Healthcheck")
    assert health and "/health/ready" in " ".join(health.get("Test", [])), (
        f"no HEALTHCHECK on /health/ready (built without --format docker?): {health}")
    print(f"\n{image}: {cfg['Size'] / 2**20:.0f} MiB")


def test_version_names_the_commit_it_was_built_from(image):
    # The build context has no .git: build-image.sh passes the commit as a build argument.
    out = podman("run", "--rm", "--read-only", image, "version").stdout
    assert out.startswith("cinfer "), out
    commit = out.split("(", 1)[1].split(",", 1)[0]
    assert commit != "unknown" and all(c in "0123456789abcdef" for c in commit), out
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                          capture_output=True, text=True).stdout.strip()
    tag = image.rsplit(":", 1)[-1]  # make test-deploy tags with `git describe` of HEAD
    if head and tag.split("-")[0] == head:
        assert commit == head, (out, head)


def test_runs_unprivileged_on_a_read_only_root(container):
    assert container.inspect("{{.HostConfig.ReadonlyRootfs}}") == "true"
    status = container.exec("cat", "/proc/1/status").stdout
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert uids == [str(SERVER_UID)] * 4, f"the server's uids: {uids}"
    assert "cinfer" in container.exec("cat", "/proc/1/cmdline").stdout
    # Nothing writable outside /data, not even /tmp (the container has no tmpfs).
    for path in ("/opt/cinfer/x", "/tmp/x", "/var/tmp/x", "/etc/x"):
        r = container.exec("sh", "-c", f"echo x > {path}", check=False)
        assert r.returncode != 0, f"{path} was writable"
        assert "Read-only file system" in r.stderr, r.stderr
    container.exec("sh", "-c", "echo x > /data/probe && rm /data/probe")
    # What the server keeps in the volume.
    listing = container.exec("ls", "-A", "/data").stdout.split()
    assert {"cinfer.db", "jwt-secret", "setup-code"} <= set(listing), listing


def test_serves_the_console_and_api_reference(container):
    r = container.get("/")
    assert r.status_code == 200, r.status_code
    assert 'id="root"' in r.text and "/assets/" in r.text, (
        f"/ is not the built console: {r.text[:300]!r}")
    r = container.get("/docs")
    assert r.status_code == 200, r.status_code
    r = container.get("/docs/redoc.standalone.js")
    assert r.status_code == 200 and len(r.content) > 100_000, (r.status_code, len(r.content))


def _publish(admin, mid, timeout=LONG_TIMEOUT_S):
    """Publishes version 1 and waits until every engine instance of it is ready."""
    r = admin.server.post(f"{API}/models/{mid}/publish", headers=bearer(admin.token),
                          timeout=timeout)
    assert r.status_code == 200, f"publish: {r.status_code} {r.text[:500]}"
    deadline = time.monotonic() + timeout
    while True:
        sv = admin.server.get(f"{API}/models/{mid}", headers=bearer(admin.token)).json()["serving"]
        if sv["version"] == 1 and sv["state"] == "ready" and sv["instances"] and all(
                i["state"] in ("ready", "busy") for i in sv["instances"]):
            return
        assert time.monotonic() < deadline, f"not served after {timeout} s: {sv}"
        time.sleep(0.2)


def _infer(container, mid, headers, data):
    r = container.post(f"/api/v1/models/{mid}/infer", data=data,
                       headers={**headers, "Content-Type": "image/png"}, timeout=60)
    assert r.status_code == 200, f"infer: {r.status_code} {r.text[:500]}"
    return check_classes(check_result(r.json(), mid, "classification"), "infer")


def test_model_token_and_inference_survive_a_restart(container, admin):
    assert CLS.is_file(), f"{CLS} missing (scripts/fetch-sample-models.sh)"
    mid = upload_ok(admin, CLS.read_bytes(), "cls-container", config=CLS_CONFIG,
                    filename=CLS.name, timeout=LONG_TIMEOUT_S)["id"]
    _publish(admin, mid)
    value, _ = create_api_token(admin, rate_limit_per_minute=None, monthly_limit=None,
                                expires_at=None)
    headers = token_headers(value)
    line = text_line()
    upright = _infer(container, mid, headers, png(line))
    flipped = _infer(container, mid, headers, png(line.rotate(180)))
    assert scores_by_index(upright) != scores_by_index(flipped)
    # The server's files, and nothing a library dropped into HOME (/data).
    names = set(container.exec("ls", "-A", "/data").stdout.split())
    assert names <= {"cinfer.db", "cinfer.db-wal", "cinfer.db-shm", "jwt-secret",
                     "setup-code", "models", "tmp"}, names

    # SIGTERM to PID 1: a clean exit, then the same volume again.
    podman("stop", "-t", "30", container.name, timeout=60)
    assert container.inspect("{{.State.ExitCode}}") == "0", container.logs()
    podman("start", container.name)
    container.wait_ready()

    assert _infer(container, mid, headers, png(line)) == upright
    r = container.get("/api/v1/models", headers=headers)
    assert r.status_code == 200 and mid in r.text, (r.status_code, r.text[:500])
    token = container.login_token(admin.username, admin.password)
    r = container.get(f"{API}/auth/me", headers=bearer(token))
    assert r.status_code == 200 and r.json()["username"] == admin.username


def test_healthcheck_reports_healthy(container):
    r = podman("healthcheck", "run", container.name, check=False)
    assert r.returncode == 0, f"healthcheck: {r.stdout} {r.stderr}"
    assert container.inspect("{{.State.Health.Status}}") == "healthy"
