"""Model lifecycle API: edit, versions, test runs, publish / unpublish, hot
version switching and the reload of published models at startup.

  PATCH  /api/v1/internal/models/{id}            JSON {name?, description?, config?}
  POST   /api/v1/internal/models/{id}/versions   multipart: file, [config]
  GET    /api/v1/internal/models/{id}/versions
  POST   /api/v1/internal/models/{id}/versions/{v}/activate
  POST   /api/v1/internal/models/{id}/test       JSON {inputs?, version?} (optional)
  POST   /api/v1/internal/models/{id}/publish
  POST   /api/v1/internal/models/{id}/unpublish
  DELETE /api/v1/internal/models/{id}            (409 while published)

A model's JSON carries "serving": null, or {"version", "state", "in_flight",
"loaded_at", "load_ms", "devices"} while it is served.  At startup published
models are loaded again in the background; /health/ready answers 503 until
each of them has loaded or failed.

Every test runs on a fresh server; loads and uploads get generous timeouts
(slow 2-core CI machines).
"""

import json
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from conftest import assert_error, bearer, db_query, is_number
from test_models_api import (
    CLS, DET, FIXTURES, ISO_RE, MODELS, RANDOM_BIN, TINY_ONNX, TINY_PT,
    admin_identity, assert_no_leftovers, check_model_shape,
    delete_model, get_model, need, resolve_stored, sha256_hex, snapshot,
    upload_ok,
)

LONG_TIMEOUT_S = 120          # publish / activate / test / version upload
READY_TIMEOUT_S = 60          # /health/ready after a restart
EXPECTED_PATH = FIXTURES / "tiny_classifier_expected.json"

TINY_PT_CONFIG = {"input_shapes": {"input": [2, 3, 32, 32]}}
CLS_CONFIG = {"input_shapes": {"x": [1, 3, 48, 192]}}
DET_CONFIG = {"input_shapes": {"x": [1, 3, 320, 320]}}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def expected():
    return json.loads(need(EXPECTED_PATH).read_text())


def expected_input():
    inp = expected()["input"]
    return {"name": inp["name"], "shape": inp["shape"], "datatype": "FP32",
            "data": inp["data"]}


def call(admin, method, path, timeout=LONG_TIMEOUT_S, headers=None, **kw):
    h = bearer(admin.token)
    h.update(headers or {})
    return admin.server.request(method, path, headers=h, timeout=timeout, **kw)


def ok(resp, status=200, what="request"):
    assert resp.status_code == status, (
        f"{what}: expected HTTP {status}, got {resp.status_code}: "
        f"{resp.text[:1500]!r}")
    if status == 204:
        assert resp.content == b"", f"{what}: 204 with a body {resp.content[:200]!r}"
        return None
    ctype = resp.headers.get("Content-Type", "")
    assert "json" in ctype.lower(), f"{what}: Content-Type is {ctype!r}"
    return resp.json()


def patch_model(admin, mid, body=None, data=None, headers=None):
    if data is not None:
        return call(admin, "PATCH", f"{MODELS}/{mid}", data=data,
                    headers={"Content-Type": "application/json", **(headers or {})})
    return call(admin, "PATCH", f"{MODELS}/{mid}", json=body, headers=headers)


def publish(admin, mid):
    return call(admin, "POST", f"{MODELS}/{mid}/publish")


def unpublish(admin, mid):
    return call(admin, "POST", f"{MODELS}/{mid}/unpublish")


def activate(admin, mid, version):
    return call(admin, "POST", f"{MODELS}/{mid}/versions/{version}/activate")


def list_versions(admin, mid):
    return call(admin, "GET", f"{MODELS}/{mid}/versions")


def add_version(admin, mid, content, filename="model.onnx", config=None):
    if isinstance(content, Path):
        content = content.read_bytes()
    data = {}
    if config is not None:
        data["config"] = config if isinstance(config, str) else json.dumps(config)
    files = {"file": (filename, content, "application/octet-stream")}
    return call(admin, "POST", f"{MODELS}/{mid}/versions", data=data, files=files)


_NO_BODY = object()


def run_test(admin, mid, body=_NO_BODY, **kw):
    """POST /test.  body: a dict (sent as JSON) or _NO_BODY (empty request)."""
    if body is _NO_BODY:
        return call(admin, "POST", f"{MODELS}/{mid}/test", data=b"", **kw)
    return call(admin, "POST", f"{MODELS}/{mid}/test", json=body, **kw)


def get_ok(admin, mid):
    return ok(get_model(admin, mid), 200, f"GET model {mid}")


def publish_ok(admin, mid, version):
    m = ok(publish(admin, mid), 200, f"publish {mid}")
    check_published(m, version, "publish response")
    check_published(get_ok(admin, mid), version, "GET after publish")
    return m


def unpublish_ok(admin, mid):
    m = ok(unpublish(admin, mid), 200, f"unpublish {mid}")
    check_not_served(m, "unpublished", "unpublish response")
    check_not_served(get_ok(admin, mid), "unpublished", "GET after unpublish")
    return m


def check_serving(m, version, what="model"):
    assert "serving" in m, f"{what}: model JSON lacks 'serving': {m}"
    sv = m["serving"]
    assert isinstance(sv, dict), f"{what}: serving should be an object, got {sv!r}"
    for k in ("version", "state", "in_flight", "loaded_at", "load_ms", "devices"):
        assert k in sv, f"{what}: serving lacks {k!r}: {sv}"
    assert sv["version"] == version, (
        f"{what}: serving.version {sv['version']!r}, expected {version}")
    assert sv["state"] == "ready", f"{what}: serving.state {sv['state']!r}"
    assert isinstance(sv["in_flight"], int) and not isinstance(sv["in_flight"], bool) \
        and sv["in_flight"] >= 0, f"{what}: serving.in_flight {sv['in_flight']!r}"
    assert isinstance(sv["loaded_at"], str) and ISO_RE.match(sv["loaded_at"]), (
        f"{what}: serving.loaded_at {sv['loaded_at']!r}")
    assert is_number(sv["load_ms"]) and sv["load_ms"] >= 0, (
        f"{what}: serving.load_ms {sv['load_ms']!r}")
    assert isinstance(sv["devices"], list), f"{what}: serving.devices {sv['devices']!r}"
    # One engine instance per planned worker, each in service with no faults.
    inst = sv["instances"]
    assert [i["id"] for i in inst] == list(range(sv["plan"]["instances"])), (
        f"{what}: serving.instances {inst!r}")
    for i in inst:
        assert i["state"] in ("ready", "busy"), f"{what}: instance {i!r}"
        assert i["failures"] == 0 and i["recoveries"] == 0 and i["last_error"] is None, (
            f"{what}: instance {i!r}")


def check_published(m, version, what="model"):
    check_model_shape(m)
    assert m["status"] == "published", f"{what}: status {m['status']!r}, expected published"
    assert m["status_reason"] is None, f"{what}: status_reason {m['status_reason']!r}"
    assert m["served_version"] == version, (
        f"{what}: served_version {m['served_version']!r}, expected {version}")
    assert m["current_version"] == version, (
        f"{what}: current_version {m['current_version']!r}, expected {version}")
    check_serving(m, version, what)


def check_not_served(m, status, what="model"):
    check_model_shape(m)
    assert m["status"] == status, f"{what}: status {m['status']!r}, expected {status!r}"
    assert m["served_version"] is None, (
        f"{what}: served_version {m['served_version']!r}, expected null")
    assert "serving" in m, f"{what}: model JSON lacks 'serving': {m}"
    assert m["serving"] is None, f"{what}: serving {m['serving']!r}, expected null"


def check_test_result(body, mid, version, served, what="test run"):
    assert isinstance(body, dict), body
    for k in ("model_id", "model_version", "served", "outputs", "timing_ms"):
        assert k in body, f"{what}: result lacks {k!r}: {str(body)[:500]}"
    assert body["model_id"] == mid, f"{what}: model_id {body['model_id']!r} != {mid!r}"
    assert body["model_version"] == version, (
        f"{what}: model_version {body['model_version']!r}, expected {version}")
    assert body["served"] is served, (
        f"{what}: served {body['served']!r}, expected {served}")
    outs = body["outputs"]
    assert isinstance(outs, list) and outs, f"{what}: outputs {str(outs)[:300]}"
    for o in outs:
        for k in ("name", "datatype", "shape", "data"):
            assert k in o, f"{what}: output lacks {k!r}: {str(o)[:300]}"
        assert isinstance(o["shape"], list) and all(
            isinstance(d, int) and d > 0 for d in o["shape"]), (
            f"{what}: output shape {o['shape']!r}")
        assert isinstance(o["data"], list), f"{what}: output data is not a list"
        assert len(o["data"]) == math.prod(o["shape"]), (
            f"{what}: {len(o['data'])} values for shape {o['shape']}")
    t = body["timing_ms"]
    assert isinstance(t, dict), f"{what}: timing_ms {t!r}"
    for k in ("load", "infer", "total"):
        assert is_number(t.get(k)) and t[k] >= 0, f"{what}: timing_ms.{k} = {t.get(k)!r}"
    return outs


def run_ok(admin, mid, version, served, body=_NO_BODY, what="test run"):
    """POST /test, expect 200, check the result; returns its outputs."""
    r = run_test(admin, mid, body)
    return check_test_result(ok(r, 200, what), mid, version, served, what)


def shape_matches(shape, pattern):
    return len(shape) == len(pattern) and all(
        p == -1 or s == p for s, p in zip(shape, pattern))


def assert_close(actual, want, tol, what):
    a = np.asarray(actual, dtype=np.float64).ravel()
    w = np.asarray(want, dtype=np.float64).ravel()
    assert a.shape == w.shape, f"{what}: {a.size} values, expected {w.size}"
    assert np.all(np.isfinite(a)), f"{what}: non-finite values"
    diff = float(np.max(np.abs(a - w))) if a.size else 0.0
    assert diff <= tol, f"{what}: max abs difference {diff:g} > {tol:g}"


def check_tiny_output(outs, what):
    exp = expected()["output"]
    assert len(outs) == 1, f"{what}: {len(outs)} outputs, expected 1"
    o = outs[0]
    assert o["datatype"] == "FP32", f"{what}: datatype {o['datatype']!r}"
    assert o["shape"] == exp["shape"], f"{what}: shape {o['shape']}, expected {exp['shape']}"
    assert_close(o["data"], exp["data"], 1e-5, what)


def stored_file(server, mid, version):
    rows = db_query(server.data_dir,
                    "SELECT file_path FROM model_versions WHERE model_id = ? AND version = ?",
                    (mid, version))
    assert len(rows) == 1, f"model_versions rows for {mid} v{version}: {rows}"
    p = resolve_stored(server, rows[0][0])
    assert p.is_file(), f"stored file {p} of {mid} v{version} missing"
    return p


def model_paths(server, mid):
    root = server.data_dir / "models"
    if not root.exists():
        return []
    return [str(p.relative_to(root)) for p in root.rglob("*") if mid in str(p.relative_to(root))]


def assert_model_gone(admin, mid, before=None):
    s = admin.server
    assert_error(get_model(admin, mid), 404, "MODEL_NOT_FOUND")
    assert db_query(s.data_dir, "SELECT id FROM models WHERE id = ?", (mid,)) == [], (
        f"models row of {mid} still present")
    assert db_query(s.data_dir, "SELECT id FROM model_versions WHERE model_id = ?",
                    (mid,)) == [], f"model_versions rows of {mid} still present"
    assert not (s.data_dir / "models" / mid).exists(), (
        f"{s.data_dir / 'models' / mid} still exists")
    left = model_paths(s, mid)
    assert not left, f"files of deleted model {mid} left under models/: {left}"
    if before is not None:
        after = snapshot(s)
        assert after["models_rows"] == before["models_rows"], (
            f"models rows {after['models_rows']} != before {before['models_rows']}")
        assert after["version_rows"] == before["version_rows"], (
            f"model_versions rows differ from before the upload")
        new_files = [p for p in after["models_tree"] - before["models_tree"]
                     if (s.data_dir / "models" / p).is_file()]
        assert not new_files, f"files left under models/: {sorted(new_files)}"
        # temp files get a short grace period
        deadline = time.monotonic() + 5
        while True:
            new_tmp = [p for p in snapshot(s)["tmp_tree"] - before["tmp_tree"]
                       if (s.data_dir / "tmp" / p).is_file()]
            if not new_tmp or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert not new_tmp, f"files left under tmp/: {sorted(new_tmp)}"


def err_state(err):
    details = err.get("details")
    assert isinstance(details, dict), f"error lacks a details object: {err!r}"
    return details.get("state")


def wait_ready(server, timeout=READY_TIMEOUT_S):
    """Poll /health/ready until 200; only 200 and 503 are acceptable."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        r = server.get("/health/ready", timeout=10)
        assert r.status_code in (200, 503), (
            f"/health/ready answered {r.status_code}: {r.text[:500]!r}")
        seen.append(r.status_code)
        if r.status_code == 200:
            return seen
        assert time.monotonic() < deadline, (
            f"/health/ready still 503 after {timeout}s: {r.text[:500]!r}")
        time.sleep(0.2)


def relogin(admin):
    admin.token = admin.server.login_token(admin.username, admin.password)


def random_cls_input():
    """A deterministic [1,3,48,192] input whose values are exact in FP32."""
    rng = np.random.default_rng(1234)
    return (rng.integers(-128, 128, size=(1, 3, 48, 192)) / 128.0).astype(np.float32)


def ort_reference(path, name, x):
    """The output of Python ONNX Runtime, or None when it is not installed."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {name: x})[0]


# --------------------------------------------------------------------------
# full lifecycle
# --------------------------------------------------------------------------

LIFECYCLE_CASES = [
    # path, config, input name, engine, synthetic output shape pattern, numeric check
    pytest.param(CLS, CLS_CONFIG, "x", "onnxruntime", [1, 2], "ort", id="ppocr-cls"),
    pytest.param(DET, DET_CONFIG, "x", "onnxruntime", [1, 1, 320, 320], None,
                 id="ppocr-det-320"),
    pytest.param(TINY_ONNX, None, "input", "onnxruntime", [-1, 4], "expected",
                 id="tiny-onnx"),
    pytest.param(TINY_PT, TINY_PT_CONFIG, "input", "libtorch", [2, 4], "expected",
                 id="tiny-torchscript"),
]


@pytest.mark.parametrize("path,config,input_name,engine,out_shape,numeric",
                         LIFECYCLE_CASES)
def test_full_lifecycle(admin, path, config, input_name, engine, out_shape, numeric):
    """upload -> test (draft) -> publish -> test (served) -> unpublish ->
    publish -> unpublish -> delete, with the status checked at every step and
    nothing left behind at the end."""
    s = admin.server
    content = need(path).read_bytes()
    before = snapshot(s)

    m = upload_ok(admin, content, f"life-{path.stem}", filename=path.name,
                  config=config, timeout=LONG_TIMEOUT_S)
    mid = m["id"]
    assert m["engine"] == engine, f"engine {m['engine']!r}, expected {engine!r}"
    check_not_served(m, "draft", "upload response")
    assert m["current_version"] == 1

    d = get_ok(admin, mid)
    check_not_served(d, "draft", "GET after upload")
    assert [i["name"] for i in d["io_schema"]["inputs"]] == [input_name], (
        f"io_schema inputs {d['io_schema']['inputs']}")
    out_name = d["io_schema"]["outputs"][0]["name"]

    # explicit input (and what it must produce)
    explicit = want = None
    tol = 1e-5
    if numeric == "expected":
        explicit = {"inputs": [expected_input()]}
        want = expected()["output"]["data"]
    elif numeric == "ort":
        x = random_cls_input()
        explicit = {"inputs": [{"name": input_name, "shape": list(x.shape),
                                "datatype": "FP32", "data": x.ravel().tolist()}]}
        want = ort_reference(path, input_name, x)
        tol = 1e-4

    def check_run(version, served, what):
        for body, label in ((_NO_BODY, "empty body"), ({}, "{}")):
            outs = run_ok(admin, mid, version, served, body, f"{what} ({label})")
            assert outs[0]["name"] == out_name, (
                f"{what}: output name {outs[0]['name']!r}, io_schema says {out_name!r}")
            assert outs[0]["datatype"] == "FP32", outs[0]["datatype"]
            assert shape_matches(outs[0]["shape"], out_shape), (
                f"{what} ({label}): output shape {outs[0]['shape']}, expected {out_shape}")
        if explicit is not None:
            outs = run_ok(admin, mid, version, served, explicit, f"{what} (explicit)")
            assert outs[0]["name"] == out_name
            assert shape_matches(outs[0]["shape"], out_shape), (
                f"{what} (explicit): output shape {outs[0]['shape']}, expected {out_shape}")
            if want is not None:
                assert_close(outs[0]["data"], want, tol, f"{what} (explicit input)")
            if numeric == "expected":
                check_tiny_output(outs, f"{what} (explicit input)")

    check_run(1, False, "draft test run")
    check_not_served(get_ok(admin, mid), "draft", "GET after a draft test run")

    publish_ok(admin, mid, 1)
    check_run(1, True, "published test run")

    unpublish_ok(admin, mid)
    check_run(1, False, "unpublished test run")

    publish_ok(admin, mid, 1)
    run_ok(admin, mid, 1, True, {}, "republished test run")
    unpublish_ok(admin, mid)

    ok(delete_model(admin, mid), 204, "delete after unpublish")
    assert_model_gone(admin, mid, before)


# --------------------------------------------------------------------------
# /test
# --------------------------------------------------------------------------

def test_test_endpoint_validation(admin):
    s = admin.server
    m = upload_ok(admin, need(TINY_ONNX), "test-validation", filename="tiny.onnx")
    mid = m["id"]
    good = expected_input()
    url = f"{MODELS}/{mid}/test"

    def bad(inp, what, names=("input",)):
        r = run_test(admin, mid, {"inputs": [inp]})
        err = assert_error(r, 422, "VALIDATION_FAILED")
        assert any(n in err["message"] for n in names), (
            f"{what}: message does not name {names}: {err['message']!r}")

    bad({**good, "name": "nope"}, "wrong input name", names=("nope", "input"))
    n = 2 * 3 * 32 * 31
    bad({**good, "shape": [2, 3, 32, 31], "data": good["data"][:n]}, "wrong shape")
    bad({**good, "shape": [2, 3, 1024], "data": good["data"]}, "wrong rank")
    bad({**good, "datatype": "INT32", "data": [int(round(v)) for v in good["data"]]},
        "wrong datatype")
    # too few values for the declared shape: a client error in the envelope
    r = run_test(admin, mid, {"inputs": [{**good, "data": good["data"][:100]}]})
    assert r.status_code in (400, 422), f"short data: {r.status_code} {r.text[:500]!r}"
    assert_error(r, r.status_code,
                 "BAD_REQUEST" if r.status_code == 400 else "VALIDATION_FAILED")

    # media types: images are the playground's form (test_console_api.py has the
    # working cases); a broken one or a wrong part is refused, other types are 415
    r = s.post(url, headers=bearer(admin.token), timeout=LONG_TIMEOUT_S,
               files={"file": ("img.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 64, "image/jpeg")})
    err = assert_error(r, 422, "VALIDATION_FAILED")
    assert "'file'" in err["message"], err
    for ctype in ("image/jpeg", "image/png"):
        r = s.post(url, data=b"\x89PNG\r\n\x1a\n" + b"\0" * 64, timeout=LONG_TIMEOUT_S,
                   headers={**bearer(admin.token), "Content-Type": ctype})
        assert_error(r, 422, "INVALID_IMAGE")
    r = s.post(url, data=b"hello", timeout=LONG_TIMEOUT_S,
               headers={**bearer(admin.token), "Content-Type": "text/plain"})
    assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")

    # malformed JSON
    r = s.post(url, data=b'{"inputs": [', timeout=LONG_TIMEOUT_S,
               headers={**bearer(admin.token), "Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_JSON")

    # unknown model / version
    assert_error(run_test(admin, "00000000-0000-0000-0000-000000000000", {}),
                 404, "MODEL_NOT_FOUND")
    assert_error(run_test(admin, mid, {"version": 7}), 404, "VERSION_NOT_FOUND")

    # authentication
    r = s.post(url, json={}, timeout=LONG_TIMEOUT_S)
    assert_error(r, 401, "UNAUTHENTICATED")

    # none of this changed the model, and a good request still works
    check_not_served(get_ok(admin, mid), "draft", "GET after rejected test runs")
    outs = run_ok(admin, mid, 1, False, {"inputs": [good], "version": 1})
    check_tiny_output(outs, "explicit version 1")


# --------------------------------------------------------------------------
# PATCH
# --------------------------------------------------------------------------

def test_patch_model(admin):
    tiny = need(TINY_ONNX).read_bytes()
    a = upload_ok(admin, tiny, "patch-a", filename="tiny.onnx",
                  description="first")
    b = upload_ok(admin, tiny, "patch-b", filename="tiny.onnx")
    mid = a["id"]

    m = ok(patch_model(admin, mid, {"name": "patch-a2"}), 200, "PATCH name")
    check_model_shape(m)
    assert m["name"] == "patch-a2" and m["description"] == "first", m
    assert m["updated_at"] >= a["updated_at"], (m["updated_at"], a["updated_at"])

    m = ok(patch_model(admin, mid, {"description": "second"}), 200, "PATCH description")
    assert m["name"] == "patch-a2" and m["description"] == "second", m

    cfg = {"max_batch_size": 4, "warmup_iterations": 3,
           "input_shapes": {"input": [2, 3, 32, 32]}}
    m = ok(patch_model(admin, mid, {"config": cfg}), 200, "PATCH config")
    for k, v in cfg.items():
        assert m["config"].get(k) == v, f"config[{k!r}] = {m['config'].get(k)!r}, sent {v!r}"
    for k in ("instances", "engine_options", "dynamic_batching"):
        assert k in m["config"], f"stored config lacks default {k!r}: {m['config']}"

    m = ok(patch_model(admin, mid, {"name": "patch-a3", "description": "third",
                                    "config": {"warmup_iterations": 0}}),
           200, "PATCH all three")
    assert (m["name"], m["description"]) == ("patch-a3", "third"), m
    assert m["config"]["warmup_iterations"] == 0, m["config"]
    assert "max_batch_size" in m["config"], m["config"]
    assert m["status"] == "draft" and m["current_version"] == 1, m

    g = get_ok(admin, mid)
    assert g == m, f"GET differs from the PATCH response:\n{g}\n{m}"
    rows = db_query(admin.server.data_dir,
                    "SELECT name, description FROM models WHERE id = ?", (mid,))
    assert rows == [("patch-a3", "third")], rows

    # the model still runs after the edits
    run_ok(admin, mid, 1, False, {"inputs": [expected_input()]}, "test after PATCH")

    # ---- failures change nothing ----
    snap = get_ok(admin, mid)
    h = {"Content-Type": "application/json"}

    def unchanged(what):
        g = get_ok(admin, mid)
        assert g == snap, f"a failed PATCH ({what}) changed the model:\n{g}\n{snap}"

    err = assert_error(patch_model(admin, mid, {"name": "x", "bogus_field": 1}),
                       422, "VALIDATION_FAILED")
    assert "bogus_field" in err["message"], err
    unchanged("unknown field")

    err = assert_error(patch_model(admin, mid, {
        "description": "nope", "config": {"engine_options": {"gpu": 1}}}),
        422, "VALIDATION_FAILED")
    assert "engine_options.gpu" in err["message"], err
    unchanged("unknown config field")

    err = assert_error(patch_model(admin, mid, {"config": {"max_batch_size": -1}}),
                       422, "VALIDATION_FAILED")
    assert "max_batch_size" in err["message"], err
    unchanged("bad config value")

    err = assert_error(patch_model(admin, mid, {"config": [1, 2]}), 422,
                       "VALIDATION_FAILED")
    assert "config" in err["message"], err
    unchanged("config not an object")

    for raw in (b'{"name": ', b"not json", b"[1, 2]"):
        assert_error(patch_model(admin, mid, data=raw), 400, "INVALID_JSON")
    unchanged("malformed JSON")

    err = assert_error(patch_model(admin, mid, {"name": "patch-b"}), 409,
                       "MODEL_NAME_TAKEN")
    unchanged("name taken")
    assert get_ok(admin, b["id"])["name"] == "patch-b"

    for name in ("", "x" * 129, 42):
        r = patch_model(admin, mid, {"name": name})
        assert r.status_code in (400, 422), (
            f"name {name!r}: {r.status_code} {r.text[:500]!r}")
        assert_error(r, r.status_code,
                     "BAD_REQUEST" if r.status_code == 400 else "VALIDATION_FAILED")
    unchanged("bad name")

    assert_error(patch_model(admin, "00000000-0000-0000-0000-000000000000",
                             {"description": "x"}), 404, "MODEL_NOT_FOUND")
    r = admin.server.request("PATCH", f"{MODELS}/{mid}", json={"description": "x"},
                             timeout=LONG_TIMEOUT_S)
    assert_error(r, 401, "UNAUTHENTICATED")
    unchanged("unauthenticated")

    # the freed name can be reused by another model
    m = ok(patch_model(admin, b["id"], {"name": "patch-a"}), 200, "PATCH to a freed name")
    assert m["name"] == "patch-a"


# --------------------------------------------------------------------------
# versions
# --------------------------------------------------------------------------

VERSION_JSON_KEYS = ("version", "size_bytes", "sha256", "original_filename",
                     "created_by", "created_at", "io_schema", "config")


def check_version_json(v, admin, version, content, filename, what="version"):
    missing = [k for k in VERSION_JSON_KEYS if k not in v]
    assert not missing, f"{what}: lacks {missing}: {v}"
    assert v["version"] == version, f"{what}: version {v['version']!r}, expected {version}"
    assert v["size_bytes"] == len(content), f"{what}: size_bytes {v['size_bytes']!r}"
    assert v["sha256"] == sha256_hex(content), f"{what}: sha256 {v['sha256']!r}"
    assert v["original_filename"] == filename, f"{what}: {v['original_filename']!r}"
    who = admin_identity(admin)
    assert v["created_by"] in who, f"{what}: created_by {v['created_by']!r} not in {who}"
    assert isinstance(v["created_at"], str) and ISO_RE.match(v["created_at"]), v
    assert isinstance(v["io_schema"], dict) and isinstance(
        v["io_schema"].get("inputs"), list), f"{what}: io_schema {v['io_schema']!r}"
    assert isinstance(v["config"], dict), f"{what}: config {v['config']!r}"


def test_versions_upload_list_activate(admin):
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    m = upload_ok(admin, tiny, "versions", filename="tiny.onnx",
                  config={"warmup_iterations": 2})
    mid = m["id"]

    # v2: same bytes, config copied from the current version
    v2 = ok(add_version(admin, mid, tiny, filename="tiny_v2.onnx"), 201, "add v2")
    check_version_json(v2, admin, 2, tiny, "tiny_v2.onnx", "v2")
    assert v2["config"].get("warmup_iterations") == 2, (
        f"v2 config is not a copy of the current config: {v2['config']}")
    assert [i["name"] for i in v2["io_schema"]["inputs"]] == ["input"], v2["io_schema"]
    assert stored_file(s, mid, 2).read_bytes() == tiny
    assert stored_file(s, mid, 1) != stored_file(s, mid, 2), "v1 and v2 share a file"

    g = get_ok(admin, mid)
    assert g["current_version"] == 1 and g["served_version"] is None, (
        f"adding a version changed current/served: {g['current_version']}, "
        f"{g['served_version']}")
    assert [v["version"] for v in g["versions"]] == [1, 2], g["versions"]

    # rejected versions leave nothing behind
    before = snapshot(s)
    assert_error(add_version(admin, mid, need(RANDOM_BIN), filename="random.bin"),
                 422, "MODEL_REJECTED")
    assert_no_leftovers(s, before)
    # a TorchScript file cannot be loaded by this model's engine (onnxruntime)
    assert_error(add_version(admin, mid, need(TINY_PT), filename="tiny.pt"),
                 422, "MODEL_REJECTED")
    assert_no_leftovers(s, before)
    err = assert_error(add_version(admin, mid, tiny, filename="t.onnx",
                                   config={"bogus": 1}), 422, "VALIDATION_FAILED")
    assert "bogus" in err["message"], err
    assert_no_leftovers(s, before)
    r = call(admin, "POST", f"{MODELS}/{mid}/versions",
             files={"description": (None, "no file")})
    assert_error(r, 400, "BAD_REQUEST")
    assert_no_leftovers(s, before)
    assert_error(add_version(admin, "00000000-0000-0000-0000-000000000000", tiny,
                             filename="t.onnx"), 404, "MODEL_NOT_FOUND")
    assert_no_leftovers(s, before)

    # v3 with its own config
    v3 = ok(add_version(admin, mid, tiny, filename="tiny_v3.onnx",
                        config={"warmup_iterations": 0}), 201, "add v3")
    assert v3["version"] > 2, v3
    assert v3["config"].get("warmup_iterations") == 0, v3["config"]
    assert "instances" in v3["config"], f"defaults not filled in: {v3['config']}"

    lv = ok(list_versions(admin, mid), 200, "list versions")
    items = lv.get("items")
    assert isinstance(items, list), lv
    assert [v["version"] for v in items] == [1, 2, v3["version"]], items
    check_version_json(items[0], admin, 1, tiny, "tiny.onnx", "items[0]")
    check_version_json(items[1], admin, 2, tiny, "tiny_v2.onnx", "items[1]")
    assert_error(list_versions(admin, "00000000-0000-0000-0000-000000000000"),
                 404, "MODEL_NOT_FOUND")

    # on a draft, activate only moves current_version
    m = ok(activate(admin, mid, 2), 200, "activate v2 on a draft")
    assert m["current_version"] == 2, m["current_version"]
    check_not_served(m, "draft", "activate on a draft")
    run_ok(admin, mid, 2, False, {}, "draft test run defaults to current_version")
    m = ok(activate(admin, mid, 1), 200, "activate v1 on a draft")
    assert m["current_version"] == 1
    check_not_served(m, "draft", "activate v1 on a draft")

    # published: activation moves traffic
    publish_ok(admin, mid, 1)
    exp_in = {"inputs": [expected_input()]}
    check_tiny_output(run_ok(admin, mid, 1, True, exp_in, "served v1"), "served v1")

    m = ok(activate(admin, mid, 2), 200, "activate v2 while published")
    check_published(m, 2, "activate v2 response")
    check_published(get_ok(admin, mid), 2, "GET after activating v2")
    check_tiny_output(run_ok(admin, mid, 2, True, exp_in, "served v2"), "served v2")
    # another version on request: loaded for this call only
    check_tiny_output(run_ok(admin, mid, 1, False, {**exp_in, "version": 1},
                              "explicit v1 while v2 is served"), "explicit v1")
    run_ok(admin, mid, 2, True, {}, "served v2 after the explicit run")

    # roll back
    m = ok(activate(admin, mid, 1), 200, "roll back to v1")
    check_published(m, 1, "roll back response")
    check_tiny_output(run_ok(admin, mid, 1, True, exp_in, "served v1 again"), "rolled back")

    assert_error(activate(admin, mid, 99), 404, "VERSION_NOT_FOUND")
    assert_error(activate(admin, "00000000-0000-0000-0000-000000000000", 1),
                 404, "MODEL_NOT_FOUND")
    check_published(get_ok(admin, mid), 1, "GET after a failed activation")


def test_activate_broken_version_keeps_serving(admin):
    """A version is loaded, warmed and test-run before traffic moves: if it
    cannot be loaded the served version keeps serving."""
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    m = upload_ok(admin, tiny, "broken-v2", filename="tiny.onnx")
    mid = m["id"]
    ok(add_version(admin, mid, tiny, filename="tiny_v2.onnx"), 201, "add v2")
    publish_ok(admin, mid, 1)
    stored_file(s, mid, 2).unlink()

    r = activate(admin, mid, 2)
    assert r.status_code in (409, 422), (
        f"activating a version whose file is gone: {r.status_code} {r.text[:500]!r}")
    assert_error(r, r.status_code, "MODEL_STATE_CONFLICT" if r.status_code == 409
                 else "MODEL_LOAD_FAILED")
    g = get_ok(admin, mid)
    assert g["status"] == "published", f"status {g['status']!r} after a failed activation"
    assert g["served_version"] == 1, g["served_version"]
    check_serving(g, 1, "GET after a failed activation")
    exp_in = {"inputs": [expected_input()]}
    check_tiny_output(run_ok(admin, mid, 1, True, exp_in, "still serving v1"), "v1")


# --------------------------------------------------------------------------
# hot switch under load
# --------------------------------------------------------------------------

def test_hot_switch_under_load(admin):
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    m = upload_ok(admin, tiny, "hot-switch", filename="tiny.onnx")
    mid = m["id"]
    ok(add_version(admin, mid, tiny, filename="tiny_v2.onnx"), 201, "add v2")
    publish_ok(admin, mid, 1)

    want = np.asarray(expected()["output"]["data"], dtype=np.float64)
    payload = json.dumps({"inputs": [expected_input()]})
    url = f"{s.url}{MODELS}/{mid}/test"
    n_threads = 8
    stop = threading.Event()
    lock = threading.Lock()
    counts = [0] * n_threads
    failures = []          # (thread, description)
    versions_seen = set()

    def worker(i):
        sess = requests.Session()
        sess.headers.update({**bearer(admin.token), "Content-Type": "application/json"})
        try:
            while not stop.is_set():
                try:
                    r = sess.post(url, data=payload, timeout=LONG_TIMEOUT_S)
                except requests.RequestException as e:
                    with lock:
                        counts[i] += 1
                        failures.append((i, f"request error {e!r}"))
                    continue
                problem = None
                ver = None
                if r.status_code != 200:
                    problem = f"HTTP {r.status_code}: {r.text[:300]!r}"
                else:
                    try:
                        b = r.json()
                        ver = b["model_version"]
                        out = b["outputs"][0]
                        got = np.asarray(out["data"], dtype=np.float64)
                        if b["served"] is not True:
                            problem = f"served={b['served']!r}"
                        elif out["shape"] != [2, 4] or got.shape != want.shape:
                            problem = f"output shape {out['shape']}"
                        elif float(np.max(np.abs(got - want))) > 1e-5:
                            problem = f"output differs by {np.max(np.abs(got - want)):g}"
                    except (ValueError, KeyError, IndexError, TypeError) as e:
                        problem = f"bad body {e!r}: {r.text[:300]!r}"
                with lock:
                    counts[i] += 1
                    if ver is not None:
                        versions_seen.add(ver)
                    if problem:
                        failures.append((i, problem))
        finally:
            sess.close()

    def total():
        with lock:
            return sum(counts)

    def wait_for(pred, timeout):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(n_threads)]
    activations = []
    try:
        for t in threads:
            t.start()
        assert wait_for(lambda: min(counts) >= 1, 30), (
            f"not every thread completed a request within 30s: {counts}")
        for v in (2, 1, 2, 1, 2):
            r = activate(admin, mid, v)
            activations.append((v, r.status_code, r.text[:300]))
            if r.status_code == 200:
                served = r.json().get("served_version")
                if served != v:
                    activations[-1] = (v, f"served_version {served!r}", r.text[:300])
            # let requests that started after the switch complete (each
            # thread has at most one request in flight at the switch)
            mark = total()
            wait_for(lambda: total() >= mark + 2 * n_threads, 20)
        wait_for(lambda: total() > 40, 30)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=LONG_TIMEOUT_S)

    assert not any(t.is_alive() for t in threads), "worker threads did not stop"
    bad_acts = [a for a in activations if a[1] != 200]
    assert not bad_acts, f"activations that did not return 200: {bad_acts}"
    assert len(activations) == 5, activations
    assert not failures, (
        f"{len(failures)} failed requests during the switches "
        f"(of {sum(counts)}), first: {failures[:5]}")
    assert all(c >= 1 for c in counts), f"a thread made no request: {counts}"
    assert sum(counts) > 40, f"only {sum(counts)} requests during the switches: {counts}"
    assert {1, 2} <= versions_seen, f"model_version values seen: {versions_seen}"
    assert versions_seen <= {1, 2}, f"unexpected model_version values: {versions_seen}"

    g = get_ok(admin, mid)
    check_published(g, 2, "GET after the switches")
    deadline = time.monotonic() + 5   # the counter may drop just after the reply
    while g["serving"]["in_flight"] != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        g = get_ok(admin, mid)
    assert g["serving"]["in_flight"] == 0, f"in_flight {g['serving']['in_flight']} at rest"
    check_tiny_output(run_ok(admin, mid, 2, True, {"inputs": [expected_input()]},
                              "after the switches"), "after the switches")


# --------------------------------------------------------------------------
# publish failure and illegal transitions
# --------------------------------------------------------------------------

def test_publish_load_failure(admin):
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    m = upload_ok(admin, tiny, "will-fail", filename="tiny.onnx")
    mid = m["id"]
    path = stored_file(s, mid, 1)
    path.unlink()

    for attempt in (1, 2):   # failed --publish--> loading is legal; it fails again
        err = assert_error(publish(admin, mid), 422, "MODEL_LOAD_FAILED")
        assert err["message"].strip(), err
        g = get_ok(admin, mid)
        assert g["status"] == "failed", f"attempt {attempt}: status {g['status']!r}"
        assert isinstance(g["status_reason"], str) and g["status_reason"].strip(), (
            f"attempt {attempt}: status_reason {g['status_reason']!r}")
        assert g["served_version"] is None, g["served_version"]
        assert g.get("serving") is None, f"a failed model is serving: {g.get('serving')}"

    # with the file back, publishing from "failed" succeeds
    path.write_bytes(tiny)
    publish_ok(admin, mid, 1)
    check_tiny_output(run_ok(admin, mid, 1, True, {"inputs": [expected_input()]},
                              "after recovering"), "after recovering")
    unpublish_ok(admin, mid)
    ok(delete_model(admin, mid), 204, "delete")
    assert_model_gone(admin, mid)


def test_failed_model_can_be_deleted(admin):
    s = admin.server
    m = upload_ok(admin, need(TINY_ONNX), "failed-delete", filename="tiny.onnx")
    mid = m["id"]
    stored_file(s, mid, 1).unlink()
    assert_error(publish(admin, mid), 422, "MODEL_LOAD_FAILED")
    assert get_ok(admin, mid)["status"] == "failed"
    ok(delete_model(admin, mid), 204, "delete a failed model")
    assert_model_gone(admin, mid)


def test_illegal_transitions(admin):
    s = admin.server
    m = upload_ok(admin, need(TINY_ONNX), "transitions", filename="tiny.onnx")
    mid = m["id"]

    err = assert_error(unpublish(admin, mid), 409, "MODEL_STATE_CONFLICT")
    assert err_state(err) == "draft", err
    check_not_served(get_ok(admin, mid), "draft", "after unpublishing a draft")

    publish_ok(admin, mid, 1)
    err = assert_error(publish(admin, mid), 409, "MODEL_STATE_CONFLICT")
    assert err_state(err) == "published", err
    err = assert_error(delete_model(admin, mid), 409, "MODEL_STATE_CONFLICT")
    assert err_state(err) == "published", err
    check_published(get_ok(admin, mid), 1, "after refused publish/delete")
    assert stored_file(s, mid, 1).is_file()
    run_ok(admin, mid, 1, True, {}, "still served after refused transitions")

    unpublish_ok(admin, mid)
    err = assert_error(unpublish(admin, mid), 409, "MODEL_STATE_CONFLICT")
    assert err_state(err) == "unpublished", err

    missing = "00000000-0000-0000-0000-000000000000"
    assert_error(publish(admin, missing), 404, "MODEL_NOT_FOUND")
    assert_error(unpublish(admin, missing), 404, "MODEL_NOT_FOUND")
    for path in (f"{MODELS}/{mid}/publish", f"{MODELS}/{mid}/unpublish"):
        r = s.post(path, timeout=LONG_TIMEOUT_S)
        assert_error(r, 401, "UNAUTHENTICATED")

    ok(delete_model(admin, mid), 204, "delete after unpublish")
    assert_model_gone(admin, mid)


def test_concurrent_delete_and_publish(admin):
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    outcomes = []
    for i in range(3):
        m = upload_ok(admin, tiny, f"race-{i}", filename="tiny.onnx")
        mid = m["id"]
        barrier = threading.Barrier(2)
        results = {}

        def go(kind, fn):
            barrier.wait(timeout=30)
            try:
                results[kind] = fn(admin, mid)
            except requests.RequestException as e:
                results[kind] = e

        ts = [threading.Thread(target=go, args=("delete", delete_model)),
              threading.Thread(target=go, args=("publish", publish))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=LONG_TIMEOUT_S + 10)
        d, p = results.get("delete"), results.get("publish")
        assert isinstance(d, requests.Response), f"round {i}: delete -> {d!r}"
        assert isinstance(p, requests.Response), f"round {i}: publish -> {p!r}"
        what = (f"round {i}: delete {d.status_code} {d.text[:300]!r}, "
                f"publish {p.status_code} {p.text[:300]!r}")
        if d.status_code == 204:
            assert p.status_code in (404, 409), f"delete won but {what}"
            assert_error(p, p.status_code, "MODEL_NOT_FOUND" if p.status_code == 404
                         else "MODEL_STATE_CONFLICT")
            assert_model_gone(admin, mid)
            outcomes.append("deleted")
        else:
            assert p.status_code == 200 and d.status_code == 409, f"inconsistent: {what}"
            assert_error(d, 409, "MODEL_STATE_CONFLICT")
            check_published(get_ok(admin, mid), 1, f"round {i}: publish won")
            assert stored_file(s, mid, 1).is_file()
            run_ok(admin, mid, 1, True, {}, f"round {i}: served after the race")
            unpublish_ok(admin, mid)
            ok(delete_model(admin, mid), 204, f"round {i}: cleanup delete")
            assert_model_gone(admin, mid)
            outcomes.append("published")
    assert len(outcomes) == 3, outcomes


# --------------------------------------------------------------------------
# audit
# --------------------------------------------------------------------------

def test_lifecycle_audit_entries(admin):
    s = admin.server
    who = admin_identity(admin)
    tiny = need(TINY_ONNX).read_bytes()
    m = upload_ok(admin, tiny, "audit-life", filename="tiny.onnx")
    mid = m["id"]
    ok(patch_model(admin, mid, {"description": "audited"}), 200, "PATCH")
    # a refused PATCH is not audited as an update
    assert_error(patch_model(admin, mid, {"bogus_field": 1}), 422, "VALIDATION_FAILED")
    ok(add_version(admin, mid, tiny, filename="tiny_v2.onnx"), 201, "add v2")
    ok(activate(admin, mid, 2), 200, "activate v2")
    publish_ok(admin, mid, 2)
    unpublish_ok(admin, mid)
    ok(delete_model(admin, mid), 204, "delete")

    rows = db_query(s.data_dir,
                    "SELECT actor, action, object_id FROM audit_log "
                    "WHERE object_id = ? ORDER BY id", (mid,))
    actions = [r[1] for r in rows]
    order = ["model.create", "model.update", "model.version.create",
             "model.version.activate", "model.publish", "model.unpublish",
             "model.delete"]
    for a in order:
        assert a in actions, f"audit_log lacks {a!r} for {mid}: {actions}"
    firsts = [actions.index(a) for a in order]
    assert firsts == sorted(firsts), f"audit entries out of order: {actions}"
    assert actions.count("model.update") == 1, (
        f"expected exactly one model.update (the refused PATCH must not count): {actions}")
    for actor, action, _ in rows:
        if action in order:
            assert actor in who, f"{action}: actor {actor!r} not in {who}"


# --------------------------------------------------------------------------
# restart
# --------------------------------------------------------------------------

def test_restart_reloads_published_models(admin):
    """Graceful restart: the published model comes back with the same served
    version (not the newest one), a draft stays a draft."""
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    a = upload_ok(admin, tiny, "restart-published", filename="tiny.onnx")
    aid = a["id"]
    ok(add_version(admin, aid, tiny, filename="tiny_v2.onnx"), 201, "add v2")
    ok(activate(admin, aid, 2), 200, "activate v2 on the draft")
    publish_ok(admin, aid, 2)
    ok(add_version(admin, aid, tiny, filename="tiny_v3.onnx"), 201, "add v3")
    d = upload_ok(admin, need(TINY_PT), "restart-draft", filename="tiny.pt",
                  config=TINY_PT_CONFIG)
    assert wait_ready(s)[-1] == 200

    s.restart()
    wait_ready(s)
    relogin(admin)

    g = get_ok(admin, aid)
    check_published(g, 2, "published model after restart")
    assert [v["version"] for v in g["versions"]] == [1, 2, 3], g["versions"]
    check_tiny_output(run_ok(admin, aid, 2, True, {"inputs": [expected_input()]},
                              "served after restart"), "served after restart")
    check_not_served(get_ok(admin, d["id"]), "draft", "draft after restart")


def test_kill9_reloads_published_models(admin):
    s = admin.server
    a = upload_ok(admin, need(TINY_ONNX), "kill-onnx", filename="tiny.onnx")
    b = upload_ok(admin, need(TINY_PT), "kill-torch", filename="tiny.pt",
                  config=TINY_PT_CONFIG)
    d = upload_ok(admin, need(TINY_ONNX), "kill-draft", filename="tiny.onnx")
    publish_ok(admin, a["id"], 1)
    publish_ok(admin, b["id"], 1)

    s.kill()
    s.start()
    wait_ready(s)
    relogin(admin)

    exp_in = {"inputs": [expected_input()]}
    for m in (a, b):
        check_published(get_ok(admin, m["id"]), 1, f"{m['name']} after kill -9")
        check_tiny_output(run_ok(admin, m["id"], 1, True, exp_in,
                                  f"{m['name']} after kill -9"), m["name"])
    check_not_served(get_ok(admin, d["id"]), "draft", "draft after kill -9")


def test_restart_with_missing_model_file(admin):
    s = admin.server
    a = upload_ok(admin, need(TINY_ONNX), "missing-file", filename="tiny.onnx")
    b = upload_ok(admin, need(TINY_ONNX), "still-fine", filename="tiny.onnx")
    publish_ok(admin, a["id"], 1)
    publish_ok(admin, b["id"], 1)
    path = stored_file(s, a["id"], 1)

    rc = s.stop()
    assert rc == 0, f"server did not exit cleanly on SIGTERM (rc={rc})"
    path.unlink()
    s.start()
    wait_ready(s)
    relogin(admin)

    g = get_ok(admin, a["id"])
    assert g["status"] == "failed", f"status {g['status']!r} with its file gone"
    reason = g["status_reason"]
    assert isinstance(reason, str) and reason.strip(), f"status_reason {reason!r}"
    hints = ("file", path.name, str(path), "no such", "not found", "missing")
    assert any(h.lower() in reason.lower() for h in hints), (
        f"status_reason does not mention the missing file: {reason!r}")
    assert g.get("serving") is None, f"failed model is serving: {g.get('serving')}"

    check_published(get_ok(admin, b["id"]), 1, "other model after restart")
    check_tiny_output(run_ok(admin, b["id"], 1, True, {"inputs": [expected_input()]},
                              "other model after restart"), "other model")
    assert s.get("/health/ready").status_code == 200


def test_ready_waits_for_published_models_after_restart(admin):
    """/health/ready is 503 while published models load at startup, then 200.

    PP-OCR det at 640x640 with 30 warm-up inferences takes seconds to restore
    on any machine (each inference is ~0.1 s on 2 cores), so the 503 phase is
    observable right after the server is live."""
    s = admin.server
    m = upload_ok(admin, need(DET).read_bytes(), "slow-restore", filename="det.onnx",
                  config={"input_shapes": {"x": [1, 3, 640, 640]},
                          "warmup_iterations": 30})
    publish_ok(admin, m["id"], 1)
    s.stop()
    s.start()  # returns once /health/live answers 200
    r = s.get("/health/ready")
    assert r.status_code == 503, (
        f"ready must wait for the published model to load: {r.status_code} {r.text}")
    wait_ready(s)
    relogin(admin)
    got = get_ok(admin, m["id"])
    check_published(got, 1, "restored det model")
    run_ok(admin, m["id"], 1, served=True, what="restored det model")
