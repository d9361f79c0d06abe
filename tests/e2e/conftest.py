"""Fixtures of the console end-to-end tests: the real binary (the integration
suite's Server, tests/integration/conftest.py) driven through Debian's Chromium
with Playwright.

Run with:  CINFER_BIN=$PWD/build/cinfer .venv/bin/pytest -q tests/e2e
Screenshots go to $E2E_OUT (default tests/e2e/out/, git-ignored).
Chromium: $E2E_CHROMIUM (default /usr/bin/chromium); no browser downloads.
"""

import os
from pathlib import Path

import pytest

from e2e_support import CHROMIUM_ARGS, HERE, TIMEOUT_MS, PageWatch, integration, require_binary

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")

# Attaches the server log of a failing test to its report.
pytest_runtest_makereport = integration.pytest_runtest_makereport

# The integration tests do `from conftest import ...`; when one pytest run
# collects tests/integration and tests/e2e together, "conftest" in sys.modules is
# the conftest imported last — this one. So it offers the same names.
for _k, _v in vars(integration).items():
    if not _k.startswith("_") and _k not in globals():
        globals()[_k] = _v


@pytest.fixture(scope="session")
def out_dir():
    d = Path(os.environ.get("E2E_OUT", HERE / "out"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def browser():
    require_binary()
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (set E2E_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser):
    """new_page() -> (page, PageWatch), each in a fresh browser context (own
    sessionStorage/localStorage); all closed at teardown."""
    contexts = []

    def make():
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        return page, PageWatch(page)

    yield make
    for c in contexts:
        c.close()
