"""What the web console needs from the server (issue: web console).

  GET /, /assets/{file}, client routes   the console's files: history fallback,
                                         CSP / nosniff / no framing, immutable
                                         hashed files, pre-compressed gzip
  GET /api/v1/internal/stats/overview    the dashboard's aggregate
  GET /api/v1/internal/audit             the audit log, paged and filtered
  POST /api/v1/internal/models/{id}/test an image, through the /infer pipeline
  422 error.details.field                a config error names its field

The console files come from build/share/cinfer/console (make build builds
web/ into it); the tests of the files skip when the console is not built.
"""
import gzip
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from conftest import CLS_CONFIG, API, assert_error, bearer, give_app_token, make_admin
from test_model_lifecycle import LONG_TIMEOUT_S, publish_ok
from test_inference_api import DET_CONFIG
from test_models_api import CLS, DET, SAMPLES, need, upload_ok

IMAGES = SAMPLES / "images"


@pytest.fixture(scope="module")
def admin(tmp_path_factory):
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("console-api"))
    s.start()
    try:
        yield make_admin(s)
    finally:
        s.stop()


def console_installed(server):
    r = server.get("/")
    return "/assets/" in r.text


# --------------------------------------------------------------------------
# console files
# --------------------------------------------------------------------------

def check_console_headers(r):
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src, csp
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("X-Frame-Options") == "DENY"


def test_index_and_client_routes_serve_the_console(admin):
    s = admin.server
    if not console_installed(s):
        pytest.skip("console not built (make build)")
    root = s.get("/")
    assert root.status_code == 200
    assert root.headers["Content-Type"].startswith("text/html")
    assert root.headers.get("Cache-Control") == "no-cache"
    check_console_headers(root)
    for path in ("/models", "/models/0b6c2a/playground", "/tokens", "/login", "/setup"):
        r = s.get(path)
        assert r.status_code == 200, path
        assert r.text == root.text, f"{path} is not the console's index.html"
        check_console_headers(r)
    # Not client routes: the API, files with an extension, other methods.
    assert_error(s.get("/api/v1/internal/nope"), 404, "NOT_FOUND")
    assert_error(s.get("/favicon.ico"), 404, "NOT_FOUND")
    assert_error(s.post("/models"), 404, "NOT_FOUND")
    assert s.get("/health/live").json() == {"status": "ok"}


def test_assets_are_immutable_typed_and_gzipped(admin):
    s = admin.server
    if not console_installed(s):
        pytest.skip("console not built (make build)")
    index = s.get("/").text
    scripts = re.findall(r'src="(/assets/[^"]+\.js)"', index)
    styles = re.findall(r'href="(/assets/[^"]+\.css)"', index)
    assert scripts, f"index.html names no script: {index[:500]}"
    for path in scripts + styles:
        plain = s.get(path, headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200, path
        assert "Content-Encoding" not in plain.headers
        want = "text/javascript" if path.endswith(".js") else "text/css"
        assert plain.headers["Content-Type"].startswith(want), plain.headers["Content-Type"]
        assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        check_console_headers(plain)
        packed = s.get(path, headers={"Accept-Encoding": "gzip, deflate"}, stream=True)
        raw = packed.raw.read(decode_content=False)
        assert packed.headers.get("Content-Encoding") == "gzip", path
        assert "Accept-Encoding" in packed.headers.get("Vary", "")
        assert len(raw) < len(plain.content)
        assert gzip.decompress(raw) == plain.content
    assert_error(s.get("/assets/no-such-file.js"), 404, "NOT_FOUND")
    assert_error(s.get("/assets/..%2Fconsole%2Findex.html"), 404, "NOT_FOUND")


def test_initial_load_is_small(admin):
    """The first page load (index.html + the scripts and styles it names, gzipped)
    stays under 400 KB; the pages themselves are lazy chunks."""
    s = admin.server
    if not console_installed(s):
        pytest.skip("console not built (make build)")
    index = s.get("/", headers={"Accept-Encoding": "gzip"}, stream=True)
    total = len(index.raw.read(decode_content=False))
    text = s.get("/").text
    for path in re.findall(r'(?:src|href)="(/assets/[^"]+)"', text):
        r = s.get(path, headers={"Accept-Encoding": "gzip"}, stream=True)
        total += len(r.raw.read(decode_content=False))
    print(f"initial console load: {total / 1024:.0f} KiB gzipped")
    assert total <= 400 * 1024, f"initial load is {total} bytes gzipped"


# --------------------------------------------------------------------------
# dashboard overview and audit
# --------------------------------------------------------------------------

def test_overview_counts_requests_errors_and_top_tokens(admin):
    s = admin.server
    h = bearer(admin.token)
    mid = upload_ok(admin, need(CLS).read_bytes(), "overview-cls", filename=CLS.name,
                    config=CLS_CONFIG, timeout=LONG_TIMEOUT_S)["id"]
    publish_ok(admin, mid, 1)
    app = give_app_token(admin)
    before = s.get(f"{API}/stats/overview", headers=h).json()
    image = (IMAGES / "text.png").read_bytes()
    for _ in range(3):
        r = s.post(f"/api/v1/models/{mid}/infer", data=image,
                   headers={**app, "Content-Type": "image/png"}, timeout=60)
        assert r.status_code == 200, r.text
    bad = s.post(f"/api/v1/models/{mid}/infer", data=b"not an image",
                 headers={**app, "Content-Type": "image/png"}, timeout=60)
    assert bad.status_code in (415, 422), bad.text
    deadline = time.time() + 10
    while True:
        o = s.get(f"{API}/stats/overview", params={"window_s": 600, "step_s": 60},
                  headers=h).json()
        if o["totals"]["requests"] >= before["totals"]["requests"] + 4 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert o["totals"]["requests"] == before["totals"]["requests"] + 4, o["totals"]
    assert o["totals"]["errors"] == before["totals"]["errors"] + 1
    assert o["totals"]["p50_ms"] > 0 and o["totals"]["p99_ms"] >= o["totals"]["p50_ms"]
    assert o["step_s"] == 60 and len(o["series"]) == 10
    assert sum(b["requests"] for b in o["series"]) == o["totals"]["requests"]
    starts = [datetime.fromisoformat(b["t"].replace("Z", "+00:00")) for b in o["series"]]
    assert all(b - a == timedelta(seconds=60) for a, b in zip(starts, starts[1:]))
    assert starts[-1] <= datetime.now(timezone.utc) < starts[-1] + timedelta(seconds=61)
    row = next(m for m in o["models"] if m["model_id"] == mid)
    assert row["name"] == "overview-cls" and row["status"] == "published"
    assert row["requests"] == 4 and row["errors"] == 1
    assert o["models_by_status"].get("published", 0) >= 1
    token_id = s.app_token[1]["id"]
    top = next(t for t in o["top_tokens"] if t["token_id"] == token_id)
    assert top["used_count"] == 3  # the failed request used no quota
    assert top["monthly_limit"] is None


def test_overview_refuses_bad_windows(admin):
    s, h = admin.server, bearer(admin.token)
    for params in ({"window_s": 10}, {"window_s": "x"}, {"step_s": 5},
                   {"window_s": 86400 * 7, "step_s": 10}, {"window_s": 600, "step_s": 3600}):
        assert_error(s.get(f"{API}/stats/overview", params=params, headers=h), 400,
                     "BAD_REQUEST")
    assert_error(s.get(f"{API}/stats/overview"), 401, "UNAUTHENTICATED")


def test_audit_pages_and_filters(admin):
    s, h = admin.server, bearer(admin.token)
    r = s.get(f"{API}/audit", headers=h, params={"page_size": 200})
    assert r.status_code == 200
    body = r.json()
    actions = [e["action"] for e in body["items"]]
    assert "system.setup" in actions and "auth.login" in actions
    assert body["total"] == len(body["items"])
    times = [e["created_at"] for e in body["items"]]
    assert times == sorted(times, reverse=True)
    for e in body["items"]:
        assert isinstance(e["detail"], dict)
        assert admin.password not in str(e)
    page = s.get(f"{API}/audit", headers=h, params={"page_size": 1, "page": 2}).json()
    assert page["total"] == body["total"] and page["items"] == body["items"][1:2]
    logins = s.get(f"{API}/audit", headers=h, params={"action": "auth."}).json()
    assert logins["items"] and all(e["action"].startswith("auth.") for e in logins["items"])
    assert s.get(f"{API}/audit", headers=h, params={"action": "auth%"}).json()["total"] == 0
    assert s.get(f"{API}/audit", headers=h, params={"actor": "nobody"}).json()["total"] == 0
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert s.get(f"{API}/audit", headers=h, params={"from": future}).json()["total"] == 0
    assert_error(s.get(f"{API}/audit", headers=h, params={"from": "yesterday"}), 400,
                 "BAD_REQUEST")
    assert_error(s.get(f"{API}/audit"), 401, "UNAUTHENTICATED")


# --------------------------------------------------------------------------
# the playground's test endpoint, and field-named config errors
# --------------------------------------------------------------------------

def test_image_test_on_an_unpublished_detector(admin):
    s, h = admin.server, bearer(admin.token)
    mid = upload_ok(admin, need(DET).read_bytes(), "console-det", filename=DET.name,
                    config=DET_CONFIG, timeout=LONG_TIMEOUT_S)["id"]
    image = (IMAGES / "text.png").read_bytes()
    r = s.post(f"{API}/models/{mid}/test", headers=h, timeout=LONG_TIMEOUT_S,
               files={"image": ("text.png", image, "image/png")},
               data={"score_threshold": "0.5"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["source"] == "loaded" and out["task"] == "text_detection"
    assert out["model_version"] == 1
    from PIL import Image
    import io
    w, h_ = Image.open(io.BytesIO(image)).size
    assert out["image"] == {"width": w, "height": h_}
    assert out["regions"], "text.png has text: the detector found no region"
    for region in out["regions"]:
        assert len(region["polygon"]) == 4 and region["score"] >= 0.5
        for x, y in region["polygon"]:
            assert -1 <= x <= w + 1 and -1 <= y <= h_ + 1
    t = out["timing_ms"]
    for k in ("decode", "preprocess", "infer", "postprocess", "total", "load"):
        assert t[k] >= 0, k
    assert t["decode"] <= t["preprocess"] <= t["total"]
    # A raw image body works too, and a stricter threshold keeps fewer regions.
    strict = s.post(f"{API}/models/{mid}/test", params={"score_threshold": "0.99"},
                    data=image, headers={**h, "Content-Type": "image/png"},
                    timeout=LONG_TIMEOUT_S)
    assert strict.status_code == 200, strict.text
    assert len(strict.json()["regions"]) <= len(out["regions"])
    # No inference-log row for a test.
    logs = s.get(f"{API}/logs", params={"model_id": mid}, headers=h).json()
    assert logs["total"] == 0


def test_image_test_errors(admin):
    s, h = admin.server, bearer(admin.token)
    mid = upload_ok(admin, need(CLS).read_bytes(), "console-cls-errors", filename=CLS.name,
                    config=CLS_CONFIG, timeout=LONG_TIMEOUT_S)["id"]
    bad = s.post(f"{API}/models/{mid}/test", headers=h,
                 files={"image": ("x.png", b"\x89PNG\r\n\x1a\nbroken", "image/png")})
    assert bad.status_code in (415, 422), bad.text
    assert_error(s.post(f"{API}/models/{mid}/test", headers={**h, "Content-Type": "text/plain"},
                        data=b"hello"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(s.post(f"{API}/models/{mid}/test", headers=h,
                        files={"other": ("x", b"1", "text/plain")}), 422, "VALIDATION_FAILED")
    assert_error(s.post(f"{API}/models/nope/test", headers=h,
                        files={"image": ("t.png", (IMAGES / "text.png").read_bytes(),
                                         "image/png")}), 404, "MODEL_NOT_FOUND")


def test_config_errors_name_their_field(admin):
    s, h = admin.server, bearer(admin.token)
    mid = upload_ok(admin, need(CLS).read_bytes(), "console-cls-fields", filename=CLS.name,
                    config=CLS_CONFIG, timeout=LONG_TIMEOUT_S)["id"]
    cases = [({"input": {"mean": [1, 2]}}, "input.mean"),
             ({"output": {"task": "detection", "score_threshold": 7}}, "output.score_threshold"),
             ({"input": {"colour": "rgb"}}, "input.colour"),
             ({"warmup_iterations": -1}, "warmup_iterations")]
    for config, field in cases:
        r = s.request("PATCH", f"{API}/models/{mid}", json={"config": config}, headers=h)
        err = assert_error(r, 422, "VALIDATION_FAILED")
        assert err.get("details", {}).get("field") == field, (config, err)
        assert field in err["message"]
