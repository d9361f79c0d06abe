"""End-to-end test of the web console: the real binary with a fresh data dir,
driven through Chromium with Playwright (see conftest.py).

test_console_scenario walks the whole first-day story in order: setup, model
uploads from presets, a field-named 422, the playground, publishing, an API
token used from outside the browser, dashboard/usage/logs, pausing, XSS in a
model name, the language switch and logging out. The smaller tests share one
server set up through the API.
"""

import json
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from playwright.sync_api import expect

from e2e_support import (
    ADMIN_PASS, ADMIN_USER, API, CLS_MODEL, DET_MODEL, IMAGES, SAMPLES, TIMEOUT_MS, api_setup, bearer,
    check_console, make_server, ui_login)

expect.set_options(timeout=TIMEOUT_MS)

XSS_NAME = "<img src=x onerror=alert(1)>"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def shot(page, out_dir, name):
    """A screenshot once spinners are gone, with CSS animations finished."""
    try:
        expect(page.locator(".ant-spin-spinning, .ant-table-placeholder .ant-spin")).to_have_count(0, timeout=15_000)
    except AssertionError:
        pass  # a screenshot of a slow page is still a screenshot
    page.screenshot(path=str(out_dir / f"{name}.png"), animations="disabled")


def wait_path(page, path_re):
    page.wait_for_url(re.compile(r"^https?://[^/]+" + path_re), timeout=TIMEOUT_MS)


def admin_token(page):
    """The console's session JWT (sessionStorage cinfer.session)."""
    raw = page.evaluate("() => sessionStorage.getItem('cinfer.session')")
    assert raw, "no console session in sessionStorage"
    return json.loads(raw)["token"]


def choose_option(page, select, label):
    """Opens an antd Select and clicks the option `label` in its (portal) list."""
    select.click()
    opt = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option",
                       has_text=label)
    opt.first.click()
    try:  # let the list close (not to be in a screenshot); the caller checks the effect
        expect(page.locator(".ant-select-dropdown:visible")).to_have_count(0, timeout=10_000)
    except AssertionError:
        pass


def confirm_popconfirm(page):
    """Clicks OK in the open antd Popconfirm (rendered in a portal)."""
    ok = page.locator(".ant-popover:not(.ant-popover-hidden) .ant-popconfirm-buttons .ant-btn-primary")
    ok.click()


def record_progress(page):
    """Records every aria-valuenow the upload progress bar shows (a
    MutationObserver, so fast uploads are caught too) into window.__e2eProgress."""
    page.evaluate("""() => {
      window.__e2eProgress = [];
      const grab = () => {
        const bar = document.querySelector('[data-testid="upload-progress"] [role="progressbar"]');
        if (bar) {
          const v = Number(bar.getAttribute('aria-valuenow'));
          const a = window.__e2eProgress;
          if (a.length === 0 || a[a.length - 1] !== v) a.push(v);
        }
      };
      if (window.__e2eObserver) window.__e2eObserver.disconnect();
      window.__e2eObserver = new MutationObserver(grab);
      window.__e2eObserver.observe(document.body, { subtree: true, childList: true, attributes: true,
                                                    attributeFilter: ['aria-valuenow'] });
    }""")


def upload_model(page, out_dir, path, name, preset_label, task, shot_name=None):
    """Uploads `path` (or a list of paths: one model's files) from the Models page
    through the dialog, configured from
    the preset `preset_label`; waits for the detail page. Returns (model id,
    progress values seen)."""
    page.get_by_test_id("model-upload").click()
    dialog = page.locator(".ant-modal:visible")
    expect(dialog.get_by_test_id("upload-name")).to_be_visible()
    paths = path if isinstance(path, list) else [path]  # a multi-file model: all at once
    dialog.locator("input[type=file]").set_input_files([str(p) for p in paths])
    for p in paths:
        expect(dialog.get_by_text(p.name)).to_be_visible()
    dialog.get_by_test_id("upload-name").fill(name)
    # The preset goes into the form and the advanced JSON (a second try if the
    # click on the option got lost on a busy machine).
    for attempt in range(2):
        choose_option(page, dialog.get_by_test_id("config-preset"), preset_label)
        try:
            expect(dialog.get_by_test_id("config-json")).to_have_value(
                re.compile(r'"task": "' + task + '"'), timeout=20_000 if attempt == 0 else TIMEOUT_MS)
            break
        except AssertionError:
            if attempt == 1:
                raise
    cfg = json.loads(dialog.get_by_test_id("config-json").input_value())
    record_progress(page)
    if shot_name:
        shot(page, out_dir, shot_name)
    dialog.get_by_test_id("upload-submit").click()
    # Either the detail page comes, or the dialog shows an error.
    err = dialog.get_by_test_id("upload-error")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if re.search(r"/models/[^/]+$", urlparse(page.url).path):
            break
        if err.count() and err.is_visible():
            pytest.fail(f"upload of {name} with preset {preset_label!r} was refused: "
                        f"{err.inner_text()}\nconfig: {json.dumps(cfg)}")
        page.wait_for_timeout(200)
    else:
        pytest.fail(f"upload of {name} did not finish")
    expect(page.get_by_test_id("model-name")).to_have_text(name)
    progress = page.evaluate("() => window.__e2eProgress")
    print(f"\nupload progress of {name} (aria-valuenow values seen): {progress}")
    model_id = urlparse(page.url).path.rsplit("/", 1)[1]
    return model_id, progress, cfg


def run_playground(page, image):
    # antd puts the data-testid of the Dragger on its <input type=file>.
    drop = page.get_by_test_id("playground-file")
    (drop if drop.evaluate("e => e.tagName") == "INPUT" else drop.locator("input[type=file]")).set_input_files(str(image))
    page.get_by_test_id("playground-run").click()
    result = page.get_by_test_id("playground-result")
    expect(result.get_by_test_id("pg-timing")).to_be_visible(timeout=120_000)
    assert page.get_by_test_id("playground-error").count() == 0, \
        page.get_by_test_id("playground-error").inner_text()
    return result


def infer(server, model_id, value, image):
    return requests.post(f"{server.url}/api/v1/models/{model_id}/infer",
                         headers={"Authorization": f"Bearer {value}", "Content-Type": "image/png"},
                         data=image.read_bytes(), timeout=60)


# --------------------------------------------------------------------------
# the scenario
# --------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path):
    s = make_server(tmp_path / "srv")
    s.start()
    check_console(s)
    yield s
    s.stop()


def test_console_scenario(server, new_page, out_dir):
    page, watch = new_page()

    # 1. / -> /setup; a wrong code creates nothing; the right one logs in.
    page.goto(server.url + "/")
    wait_path(page, r"/setup$")
    page.get_by_test_id("setup-code").fill("WRONG-CODE-123")
    page.get_by_test_id("setup-username").fill(ADMIN_USER)
    page.get_by_test_id("setup-password").fill(ADMIN_PASS)
    page.get_by_test_id("setup-password2").fill(ADMIN_PASS)
    page.get_by_test_id("setup-submit").click()
    expect(page.get_by_test_id("setup-error")).to_be_visible()
    assert urlparse(page.url).path == "/setup"
    r = server.get(f"{API}/system/setup")
    assert r.status_code == 200 and r.json()["initialized"] is False, r.text
    assert server.login(ADMIN_USER, ADMIN_PASS).status_code == 401
    shot(page, out_dir, "01-setup-wrong-code")
    page.get_by_test_id("setup-code").fill(server.setup_code())
    page.get_by_test_id("setup-submit").click()
    wait_path(page, r"/$")
    expect(page.get_by_test_id("dashboard-requests")).to_be_visible()
    expect(page.get_by_test_id("user-menu")).to_contain_text(ADMIN_USER)
    shot(page, out_dir, "02-dashboard-empty")
    jwt = admin_token(page)

    # 2. Models: PP-OCR cls and det from their presets, progress to 100 %.
    page.get_by_role("menuitem", name="Models").click()
    wait_path(page, r"/models$")
    expect(page.get_by_test_id("models-table")).to_be_visible()
    cls_id, progress, cls_cfg = upload_model(page, out_dir, CLS_MODEL, "ppocr-cls",
                                             "PP-OCR direction classifier", "classification",
                                             "03-upload-dialog")
    assert progress and progress[-1] == 100, f"upload progress never reached 100: {progress}"
    assert cls_cfg["output"]["task"] == "classification" and cls_cfg["input"]["width"] == 192
    stored = server.get(f"{API}/models/{cls_id}", headers=bearer(jwt)).json()
    assert stored["config"]["output"]["labels"] == ["0", "180"], stored["config"]
    assert stored["config"]["input"]["height"] == 48, stored["config"]

    page.goto(server.url + "/models")
    expect(page.get_by_test_id("models-table")).to_contain_text("ppocr-cls")
    det_id, progress, det_cfg = upload_model(page, out_dir, DET_MODEL, "ppocr-det", "PP-OCR text detection",
                                             "text_detection")
    assert progress and progress[-1] == 100, f"upload progress never reached 100: {progress}"
    assert det_cfg["output"]["task"] == "text_detection"

    # 3. A bad config (mean of two values) -> 422 shown at the Mean field;
    #    the stored config is unchanged.
    before = server.get(f"{API}/models/{cls_id}", headers=bearer(jwt)).json()["config"]
    page.goto(f"{server.url}/models/{cls_id}")
    page.get_by_role("tab", name="Config").click()
    page.get_by_text("Advanced (JSON)").click()
    editor = page.get_by_test_id("config-json")
    expect(editor).to_be_visible()
    cfg = json.loads(editor.input_value())
    cfg["input"]["mean"] = [1, 2]
    editor.fill(json.dumps(cfg, indent=2))
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("config-error")).to_be_visible()
    mean_item = page.get_by_test_id("config-form").locator(".ant-form-item").filter(
        has=page.locator("label", has_text=re.compile(r"^Mean$")))
    expect(mean_item.locator(".ant-form-item-explain-error")).to_be_visible()
    mean_error = mean_item.locator(".ant-form-item-explain-error").inner_text()
    assert "mean" in mean_error, f"unexpected error at the Mean field: {mean_error!r}"
    mean_item.scroll_into_view_if_needed()
    shot(page, out_dir, "04-config-422-at-field")
    after = server.get(f"{API}/models/{cls_id}", headers=bearer(jwt)).json()["config"]
    assert after == before, "a refused config changed the stored config"

    # 4. Playground: det (unpublished) on a page of text -> regions; cls -> classes.
    page.goto(f"{server.url}/models/{det_id}")
    page.get_by_test_id("model-playground").click()
    wait_path(page, rf"/models/{det_id}/playground$")
    result = run_playground(page, IMAGES / "page.png")
    expect(result.get_by_test_id("pg-overlay")).to_be_visible()
    n_regions = result.get_by_test_id("pg-region").count()
    assert n_regions > 0, "no text regions drawn for page.png"
    shot(page, out_dir, "05-playground-det-regions")

    page.goto(f"{server.url}/models/{cls_id}/playground")
    result = run_playground(page, IMAGES / "text.png")
    expect(result.get_by_test_id("pg-class").first).to_be_visible()
    labels = [t.strip() for t in result.get_by_test_id("pg-class").all_inner_texts()]
    assert len(labels) == 2, labels
    assert any(t.startswith("0") for t in labels) and any(t.startswith("180") for t in labels), labels
    shot(page, out_dir, "06-playground-cls")

    # 5. Publish the cls model.
    page.goto(f"{server.url}/models/{cls_id}")
    page.get_by_test_id("model-publish").click()
    confirm_popconfirm(page)
    expect(page.get_by_test_id("model-status")).to_have_attribute("data-status", "published",
                                                                 timeout=120_000)
    expect(page.get_by_test_id("model-status")).to_have_text("Published")
    # The Overview shows the serving state and every engine instance, all ready.
    page.reload()
    expect(page.get_by_test_id("serving-state")).to_have_text("ready")
    instances = page.get_by_test_id("serving-instances")
    expect(instances).to_be_visible()
    rows = instances.locator("tbody tr.ant-table-row")
    assert rows.count() >= 1
    for i in range(rows.count()):
        expect(rows.nth(i)).to_contain_text("ready")
    instances.scroll_into_view_if_needed()
    shot(page, out_dir, "06b-model-serving-instances")

    # 6. A token, its value shown once.
    page.get_by_role("menuitem", name="Tokens").click()
    wait_path(page, r"/tokens$")
    page.get_by_test_id("token-create").click()
    page.get_by_test_id("token-name").fill("e2e-app")
    page.get_by_test_id("token-submit").click()
    value_el = page.get_by_test_id("token-value")
    expect(value_el).to_have_text(re.compile(r"^cit_[A-Za-z0-9_-]{43}$"))
    value = value_el.inner_text().strip()
    expect(page.get_by_test_id("token-name")).to_have_count(0)  # the form dialog has gone
    shot(page, out_dir, "07-token-value")
    page.get_by_test_id("token-value-close").click()
    expect(value_el).to_be_hidden()
    expect(page.get_by_test_id("token-state-e2e-app")).to_have_text("Active")

    # 7. Three inferences from outside the browser.
    for _ in range(3):
        r = infer(server, cls_id, value, IMAGES / "text.png")
        assert r.status_code == 200, r.text[:500]
        assert r.json().get("classes"), r.text[:500]

    # 8. Dashboard counts them; the token's usage is 3.
    page.get_by_role("menuitem", name="Dashboard").click()
    wait_path(page, r"/$")
    expect(page.get_by_test_id("dashboard-requests")).to_have_text(re.compile(r"^\d+$"))
    deadline = time.monotonic() + 40
    while int(page.get_by_test_id("dashboard-requests").inner_text()) < 3:
        assert time.monotonic() < deadline, "dashboard request count stayed below 3"
        page.wait_for_timeout(1000)  # the dashboard refreshes every 10 s
    shot(page, out_dir, "08-dashboard")
    # The token's page fetches it afresh: usage 3.
    page.get_by_role("menuitem", name="Tokens").click()
    wait_path(page, r"/tokens$")
    page.get_by_test_id("token-row-e2e-app").get_by_role("link", name="e2e-app").click()
    expect(page.get_by_test_id("token-detail-name")).to_have_text("e2e-app")
    expect(page.locator(".ant-descriptions")).to_contain_text("3 (no monthly limit)")
    # The list may show its cached page (fresh for 5 s); a reload refetches it.
    page.goto(server.url + "/tokens")
    row = page.get_by_test_id("token-row-e2e-app")
    expect(row).to_contain_text("3 (no monthly limit)")

    # 9. Pause it: the badge says so, and /infer answers 403 TOKEN_PAUSED.
    page.get_by_test_id("token-pause-e2e-app").click()
    page.locator(".ant-popover:not(.ant-popover-hidden)").get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("token-state-e2e-app")).to_have_text("Paused")
    expect(page.get_by_test_id("token-resume-e2e-app")).to_be_visible()
    shot(page, out_dir, "09-tokens-paused")
    r = infer(server, cls_id, value, IMAGES / "text.png")
    assert r.status_code == 403, r.text[:500]
    assert r.json()["error"]["code"] == "TOKEN_PAUSED", r.text[:500]

    # 10. Logs: the calls, and the audit trail.
    page.get_by_role("menuitem", name="Logs").click()
    wait_path(page, r"/logs")
    expect(page.get_by_test_id("log-row").nth(2)).to_be_visible()
    assert page.get_by_test_id("log-row").count() >= 3
    shot(page, out_dir, "10-logs")
    page.get_by_test_id("logs-tab-audit").click()
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    assert page.get_by_test_id("audit-row").count() >= 2
    shot(page, out_dir, "11-audit")

    # 11. XSS: a model named like markup shows as text, runs nothing.
    r = server.request("PATCH", f"{API}/models/{det_id}", headers=bearer(jwt), json={"name": XSS_NAME})
    assert r.status_code == 200, r.text[:500]
    page.get_by_role("menuitem", name="Models").click()
    table = page.get_by_test_id("models-table")
    expect(table.get_by_text(XSS_NAME, exact=True)).to_be_visible()
    assert page.locator('img[src="x"]').count() == 0
    table.get_by_text(XSS_NAME, exact=True).click()
    expect(page.get_by_test_id("model-name")).to_have_text(XSS_NAME)
    assert page.locator('img[src="x"]').count() == 0
    page.get_by_test_id("model-playground").click()
    expect(page.get_by_test_id("pg-model-name")).to_have_text(XSS_NAME)
    assert page.locator('img[src="x"]').count() == 0
    page.goto(server.url + "/models")
    expect(page.get_by_test_id("models-table").get_by_text(XSS_NAME, exact=True)).to_be_visible()
    assert page.locator('img[src="x"]').count() == 0
    assert watch.dialogs == [], watch.dialogs

    # 12. 中文, and back; the choice survives a reload.
    choose_option(page, page.get_by_test_id("language-switch"), "简体中文")
    nav = page.locator(".ant-layout-sider .ant-menu")
    expect(nav).to_contain_text("模型")
    expect(nav).to_contain_text("令牌")
    assert page.evaluate("() => localStorage.getItem('cinfer.lang')") == "zh"
    page.reload()
    expect(nav).to_contain_text("模型")
    shot(page, out_dir, "12-models-zh")
    choose_option(page, page.get_by_test_id("language-switch"), "English")
    expect(nav).to_contain_text("Models")
    page.reload()
    expect(nav).to_contain_text("Tokens")
    expect(nav).not_to_contain_text("令牌")
    assert page.evaluate("() => localStorage.getItem('cinfer.lang')") == "en"
    shot(page, out_dir, "13-models")

    # 13. Log out; a console page then asks to log in first.
    page.get_by_test_id("user-menu").hover()
    page.locator(".ant-dropdown:not(.ant-dropdown-hidden)").get_by_text("Log out").click()
    wait_path(page, r"/login")
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    r = server.get(f"{API}/auth/me", headers=bearer(jwt))
    assert r.status_code == 401, f"the session survived logout: {r.status_code}"
    page.goto(server.url + "/tokens")
    wait_path(page, r"/login\?next=")
    assert parse_qs(urlparse(page.url).query)["next"] == ["/tokens"]

    assert watch.dialogs == [], watch.dialogs
    assert watch.page_errors == [], watch.report()
    if watch.console_errors:
        print("\nbrowser console errors (not fatal):\n  " + "\n  ".join(watch.console_errors))


# --------------------------------------------------------------------------
# smaller tests on one shared, already set-up server
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    s = make_server(tmp_path_factory.mktemp("e2e-shared"))
    s.start()
    try:
        check_console(s)
        api_setup(s)
        yield s
    finally:
        s.stop()


def test_wrong_password_then_next(ready, new_page):
    page, watch = new_page()
    page.goto(ready.url + "/logs?tab=audit")
    wait_path(page, r"/login\?next=")
    ui_login(page, ADMIN_USER, "not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong username or password")
    assert urlparse(page.url).path == "/login"
    page.get_by_test_id("login-password").fill(ADMIN_PASS)
    page.get_by_test_id("login-submit").click()
    wait_path(page, r"/logs\?tab=audit$")
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    assert watch.page_errors == [], watch.report()


def test_revoked_session_returns_after_login(ready, new_page):
    page, watch = new_page()
    page.goto(ready.url + "/login?next=%2Ftokens")
    ui_login(page)
    wait_path(page, r"/tokens$")
    expect(page.get_by_test_id("token-create")).to_be_visible()
    # The session ends on the server (as after a logout elsewhere, or a restart
    # with a new secret); the console finds out on its next call.
    r = ready.post(f"{API}/auth/logout", headers=bearer(admin_token(page)))
    assert r.status_code in (200, 204), r.text[:300]
    page.goto(ready.url + "/models")
    wait_path(page, r"/login\?")
    q = parse_qs(urlparse(page.url).query)
    assert q.get("next") == ["/models"] and q.get("expired") == ["1"], page.url
    expect(page.get_by_test_id("login-expired")).to_be_visible()
    ui_login(page)
    wait_path(page, r"/models$")
    expect(page.get_by_test_id("models-table")).to_be_visible()
    assert watch.page_errors == [], watch.report()


def test_expired_session_in_storage(ready, new_page):
    page, watch = new_page()
    page.goto(ready.url + "/login?next=%2Flogs")
    ui_login(page)
    wait_path(page, r"/logs$")
    # The stored session's expiry passes (e.g. the tab slept through it).
    page.evaluate("""() => {
      const s = JSON.parse(sessionStorage.getItem('cinfer.session'));
      s.expiresAt = Date.now() - 1000;
      sessionStorage.setItem('cinfer.session', JSON.stringify(s));
    }""")
    page.goto(ready.url + "/tokens")
    wait_path(page, r"/login\?")
    q = parse_qs(urlparse(page.url).query)
    assert q.get("next") == ["/tokens"], page.url
    expect(page.get_by_test_id("login-expired")).to_be_visible()
    ui_login(page)
    wait_path(page, r"/tokens$")
    assert watch.page_errors == [], watch.report()


def test_console_headers(ready, new_page):
    page, watch = new_page()
    resp = page.goto(ready.url + "/login")
    assert resp is not None and resp.status == 200
    h = resp.headers
    csp = h.get("content-security-policy", "")
    assert "default-src" in csp and "script-src 'self'" in csp, csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0], csp
    assert h.get("x-content-type-options") == "nosniff", h
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    assert watch.csp_violations() == [], watch.report()
    assert watch.page_errors == [], watch.report()


def test_upload_openvino_ir_as_two_files(ready, new_page, out_dir):
    """An OpenVINO IR chosen as its two files (.xml + .bin) in the upload dialog becomes
    one model, recognised by content and served by OpenVINO."""
    xml = SAMPLES / "openvino" / "ch_ppocr_mobile_v2.0_cls_infer.xml"
    if not xml.is_file():
        pytest.skip("models/samples/openvino missing (scripts/install-deps.sh)")
    weights = xml.with_name(xml.name[:-len(".xml")] + ".bin")
    page, watch = new_page()
    page.goto(ready.url + "/login?next=%2Fmodels")
    ui_login(page)
    wait_path(page, r"/models$")
    token = admin_token(page)
    mid, progress, cfg = upload_model(page, out_dir, [xml, weights], "ppocr-cls-ir",
                                      "PP-OCR direction classifier", "classification",
                                      "03c-upload-ir-two-files")
    assert progress and progress[-1] == 100, progress
    m = ready.get(f"{API}/models/{mid}", headers=bearer(token)).json()
    assert m["engine"] == "openvino", m
    v = ready.get(f"{API}/models/{mid}/versions", headers=bearer(token)).json()["items"][0]
    assert xml.name in v["original_filename"] and weights.name in v["original_filename"], v
    assert watch.page_errors == [], watch.report()


def test_settings_page(ready, new_page, out_dir):
    """Settings: sources and markers, a live change saved, a restart key pending,
    a bad value refused at its field, and a reset back to the default."""
    page, watch = new_page()
    page.goto(ready.url + "/login?next=%2Fsettings")
    ui_login(page)
    wait_path(page, r"/settings$")
    token = admin_token(page)
    expect(page.get_by_test_id("settings-section-server")).to_be_visible()
    # The test server sets its port through the environment: shown, locked.
    expect(page.get_by_test_id("setting-source-server.port")).to_have_text("environment")
    expect(page.get_by_test_id("setting-locked-server.port")).to_be_visible()
    expect(page.get_by_test_id("setting-apply-request.timeout_ms")).to_have_text("live")

    timeout = page.get_by_test_id("setting-input-request.timeout_ms")
    timeout.fill("4321")
    body = page.get_by_test_id("setting-input-request.max_body_mb")
    body.fill("16")
    expect(page.get_by_test_id("settings-unsaved")).to_contain_text("2")
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("settings-pending")).to_contain_text("request.max_body_mb")
    expect(page.get_by_test_id("setting-source-request.timeout_ms")).to_have_text("override")
    doc = ready.get(f"{API}/system/config", headers=bearer(token)).json()
    keys = {k["key"]: k for k in doc["keys"]}
    assert keys["request.timeout_ms"]["value"] == 4321, keys["request.timeout_ms"]
    assert keys["request.max_body_mb"]["pending_value"] == 16, keys["request.max_body_mb"]
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, out_dir, "settings")

    # A bad list entry: 422 shown at the field, nothing saved.
    proxies = page.get_by_test_id("setting-row-server.trusted_proxies").locator("input")
    proxies.fill("not-an-address,")
    page.get_by_test_id("settings-save").click()
    row = page.get_by_test_id("setting-row-server.trusted_proxies")
    expect(row.locator(".ant-form-item-explain-error")).to_contain_text("server.trusted_proxies")
    doc = ready.get(f"{API}/system/config", headers=bearer(token)).json()
    assert {k["key"]: k for k in doc["keys"]}["server.trusted_proxies"]["value"] == []
    page.get_by_test_id("settings-discard").click()

    # Reset the live key to its default, and drop the pending restart change.
    page.get_by_test_id("setting-reset-request.timeout_ms").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("setting-source-request.timeout_ms")).to_have_text("default")
    r = ready.request("PATCH", f"{API}/system/config", json={"request.max_body_mb": None},
                      headers=bearer(token))
    assert r.status_code == 200 and r.json()["pending_restart"] == [], r.text[:300]
    assert watch.page_errors == [], watch.report()
