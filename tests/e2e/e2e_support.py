"""Shared helpers of the console end-to-end tests (imported by conftest.py and
the test modules): the integration suite's server wrapper and helpers, the
browser launch arguments, and page-level utilities."""

import importlib.util
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTEGRATION = HERE.parent / "integration"


def _load_integration():
    """tests/integration/conftest.py under its own module name: both it and
    tests/e2e/conftest.py are "conftest" to pytest."""
    name = "cinfer_integration_conftest"
    if name in sys.modules:
        return sys.modules[name]
    if str(INTEGRATION) not in sys.path:
        sys.path.insert(0, str(INTEGRATION))
    spec = importlib.util.spec_from_file_location(name, INTEGRATION / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


integration = _load_integration()
API = integration.API
CLS_CONFIG = integration.CLS_CONFIG
REPO_ROOT = integration.REPO_ROOT
Server = integration.Server
bearer = integration.bearer
require_binary = integration.require_binary

SAMPLES = REPO_ROOT / "models" / "samples"
CLS_MODEL = SAMPLES / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
DET_MODEL = SAMPLES / "ch_PP-OCRv4_det_infer.onnx"
IMAGES = SAMPLES / "images"

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--disable-dev-shm-usage"]

ADMIN_USER = "e2e-admin"
ADMIN_PASS = "E2e-Console-Pass-42!"

# Playwright timeouts (ms): this machine is slow and shared.
TIMEOUT_MS = 60_000


class PageWatch:
    """Collects a page's uncaught exceptions, console errors and dialogs
    (a dialog is dismissed at once and recorded)."""

    def __init__(self, page):
        self.page_errors = []
        self.console_errors = []
        self.dialogs = []
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, msg):
        if msg.type == "error":
            self.console_errors.append(msg.text)

    def _dialog(self, d):
        self.dialogs.append(f"{d.type}: {d.message}")
        try:
            d.dismiss()
        except Exception:  # the page may be gone
            pass

    def csp_violations(self):
        return [m for m in self.console_errors + self.page_errors
                if "Content Security Policy" in m or "Content-Security-Policy" in m]

    def report(self):
        return (f"page errors: {self.page_errors!r}\nconsole errors: {self.console_errors!r}\n"
                f"dialogs: {self.dialogs!r}")


def console_env(workdir):
    """Server env for the console under test. Default: the one installed next
    to the binary (build/share/cinfer/console, copied from web/dist by
    `cmake --build build --target cinfer_console`). E2E_CONSOLE_DIR=<dir> (e.g.
    web/dist) serves that build instead, through a private assets dir."""
    import os
    import shutil
    src = os.environ.get("E2E_CONSOLE_DIR")
    if not src:
        return {}
    share = Path(integration.CINFER_BIN).resolve().parent / "share" / "cinfer"
    assets = Path(workdir) / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for f in share.iterdir():
        if f.name != "console" and f.is_file():
            shutil.copy(f, assets / f.name)
    shutil.copytree(src, assets / "console", dirs_exist_ok=True)
    return {"CINFER_SERVER__ASSETS_DIR": str(assets)}


def make_server(workdir):
    workdir = Path(workdir)
    return Server(workdir, env=console_env(workdir))


def check_console(server):
    """Fails early, with the fix, when the served console is a stub build."""
    r = server.get("/login")
    assert r.status_code == 200 and "<script" in r.text, (
        f"no console at /login ({r.status_code}): build it (make console && "
        f"cmake --build build --target cinfer_console)")
    js = re.findall(r'src="(/assets/index-[^"]+\.js)"', r.text)
    assert js, r.text[:500]
    main = server.get(js[0]).text
    pages = re.findall(r'"(?:\./)?(?:assets/)?(LoginPage-[^"]+\.js)"', main)
    if pages:
        body = server.get(f"/assets/{pages[0]}").text
        assert len(body) > 400, (
            f"the served console's LoginPage is a stub ({len(body)} bytes): the console next "
            f"to the binary is stale; run `cmake --build build --target cinfer_console` or set "
            f"E2E_CONSOLE_DIR=web/dist")


def api_setup(server, username=ADMIN_USER, password=ADMIN_PASS):
    """First-run setup through the API; returns an admin JWT."""
    r = server.setup(username, password)
    assert r.status_code == 201, f"setup failed: {r.status_code} {r.text[:500]}"
    return server.login_token(username, password)


def ui_login(page, username=ADMIN_USER, password=ADMIN_PASS):
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
