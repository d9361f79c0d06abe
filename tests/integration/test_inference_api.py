"""Application (inference) API.

  GET  /api/v1/models                       published (served) models
  GET  /api/v1/models/{id}                  one, 404 MODEL_NOT_FOUND unless published
  POST /api/v1/models/{id}/infer            multipart `image`, a raw image body
                                            (image/jpeg|png|webp|bmp), JSON {"image":
                                            base64 | data URI} or JSON tensors
                                            {"inputs": [...]}; parameters in the query,
                                            JSON "parameters" or multipart fields
  POST /api/v1/models/{id}/infer/batch      multipart `images[]` or JSON {"images": [...]}
  POST /api/v1/models/{id}/infer/async      202 {request_id, status, status_url}
  GET  /api/v1/requests/{request_id}        202 while queued/running, 200 when finished
  GET  /api/v1/internal/logs                inference log (admin)
  GET  /api/v1/internal/models/{id}/stats   per-model statistics (admin)

Models: the PP-OCR angle classifier (classification), the PP-OCRv4 text
detector (text_detection) and the tiny test classifier (raw), all fetched by
scripts/fetch-sample-models.sh; photographs from scripts/fetch-sample-images.sh
(models/samples/images/).  Either missing: the tests that need it skip.

The application routes need an API token (docs/TOKENS.md): every server here
gets one without limits (conftest.give_app_token), which get_app/post_app send.

Most tests share one module-scoped server whose models are uploaded and
published once (lazily, per model).  Queue-full and async-expiry tests start
servers of their own with CINFER_* overrides.  Timeouts are generous: CI
machines have two slow cores.
"""

import base64
import concurrent.futures
import io
import json
import struct
import threading
import time
import uuid
import zlib

import numpy as np
import pytest

from conftest import (API, Server, assert_error, bearer, give_app_token, is_number,
                      make_admin)
from test_model_lifecycle import (EXPECTED_PATH, LONG_TIMEOUT_S, expected,
                                  expected_input, ok, publish_ok, unpublish_ok)
from test_models_api import CLS, DET, ISO_RE, SAMPLES, TINY_ONNX, need, upload_ok

PIL = pytest.importorskip("PIL", reason="Pillow is required (tests/requirements.txt)")
from PIL import Image  # noqa: E402

IMAGES = SAMPLES / "images"
APP = "/api/v1"
INFER_TIMEOUT_S = 60           # one HTTP request to an inference route
ASYNC_WAIT_S = 30              # an async request to finish
LOG_WAIT_S = 5                 # the inference-log writer flushes within ~200 ms

# Headers sent on every application-API call, besides the server's own API
# token (server.app_headers, set by conftest.give_app_token).
APP_HEADERS = {}

# --------------------------------------------------------------------------
# model configs (docs/MODEL_CONFIG.md)
# --------------------------------------------------------------------------

CLS_LABELS = ["0", "180"]
CLS_INPUT = {"width": 192, "height": 48, "resize": "stretch", "color": "bgr",
             "scale": 0.00392156862745098, "mean": [0.5, 0.5, 0.5],
             "std": [0.5, 0.5, 0.5]}
CLS_OUTPUT = {"task": "classification", "labels": CLS_LABELS, "top_k": 2,
              "softmax": False}
CLS_CONFIG = {"input_shapes": {"x": [1, 3, 48, 192]}, "input": CLS_INPUT,
              "output": CLS_OUTPUT}
# batching: the batch dimension must stay dynamic, so no input_shapes
CLS_BATCH_CONFIG = {"max_batch_size": 8,
                    "dynamic_batching": {"max_queue_delay_us": 20000},
                    "input": CLS_INPUT, "output": CLS_OUTPUT}

DET_BOX_THRESHOLD = 0.6
DET_CONFIG = {
    "input_shapes": {"x": [1, 3, 640, 640]},
    "input": {"width": 640, "height": 640, "resize": "stretch", "color": "bgr",
              "scale": 0.00392156862745098, "mean": [0.485, 0.456, 0.406],
              "std": [0.229, 0.224, 0.225]},
    "output": {"task": "text_detection", "binary_threshold": 0.3,
               "box_threshold": DET_BOX_THRESHOLD, "unclip_ratio": 1.5},
}

# The shared server: enough handler threads for the concurrency tests to
# reach the model queues, and a default deadline no slow machine hits.
SHARED_ENV = {"CINFER_SERVER__WORKERS": "16", "CINFER_SERVER__INFERENCE_WORKERS": "16", "CINFER_REQUEST__TIMEOUT_MS": "60000"}

TIMING_KEYS = ("queue", "preprocess", "infer", "postprocess", "total")
PUBLIC_MODEL_KEYS = ("id", "name", "description", "engine", "task", "version",
                     "io_schema", "updated_at")
LOG_KEYS = ("id", "model_id", "model_version", "request_id", "client_ip", "route",
            "status", "http_status", "error_code", "error_message", "timing_ms",
            "batch_size", "created_at")


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------

def sample(name):
    p = IMAGES / name
    if not p.is_file():
        pytest.skip(f"{p} missing (scripts/fetch-sample-images.sh)")
    return p


def load(name, mode="RGB"):
    with Image.open(sample(name)) as im:
        return im.convert(mode)


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    if fmt == "WEBP":
        kw.setdefault("lossless", True)
    if fmt == "JPEG":
        kw.setdefault("quality", 92)
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png(img):
    return encode(img, "PNG")


def text_line():
    """An RGB crop of text.png with a line of handwriting (a cls-sized strip)."""
    return load("text.png").crop((0, 20, 448, 120))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode_b64_image(s):
    assert isinstance(s, str) and s, f"annotated_image {str(s)[:80]!r}"
    raw = base64.b64decode(s, validate=True)
    assert raw[:3] == b"\xff\xd8\xff", f"annotated_image is not a JPEG: {raw[:16]!r}"
    im = Image.open(io.BytesIO(raw))
    im.load()
    assert im.format == "JPEG", im.format
    return im


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def huge_png_header(width=100000, height=100000):
    """A PNG whose (valid) IHDR declares width x height, with no real data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))


def corrupt_png():
    """Valid PNG signature, garbage after it."""
    rng = np.random.default_rng(7)
    return b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 2048, dtype=np.uint8).tobytes()


def unknown_bytes():
    """Bytes with no known image signature."""
    rng = np.random.default_rng(11)
    return b"RND!" + rng.integers(0, 256, 2048, dtype=np.uint8).tobytes()


def exif_rotated_jpeg(img, orientation=6):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(img, "JPEG", exif=exif.tobytes())


# --------------------------------------------------------------------------
# Python reference of the classifier (onnxruntime + the config's preprocessing)
# --------------------------------------------------------------------------

def _linear_coefs(n_in, n_out):
    """Source indices and 11-bit fixed-point weights of cv::INTER_LINEAR."""
    f = ((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5).astype(np.float32)
    i0 = np.floor(f).astype(np.int64)
    t = (f - i0).astype(np.float32)
    t[i0 < 0] = 0.0
    i0[i0 < 0] = 0
    last = i0 >= n_in - 1
    t[last] = 0.0
    i0[last] = n_in - 1
    i1 = np.minimum(i0 + 1, n_in - 1)
    w0 = np.rint((1.0 - t) * 2048).astype(np.int64)
    return i0, i1, w0, 2048 - w0


def cv_linear_resize(a, out_w, out_h):
    """cv::resize(INTER_LINEAR) of an HxWxC uint8 array, in OpenCV's 8-bit
    fixed-point arithmetic (its vectorised path: bit-exact with opencv-python
    on x86-64; another build may round a pixel one level differently)."""
    h, w = a.shape[:2]
    if (w, h) == (out_w, out_h):
        return a.astype(np.float32)
    x0, x1, a0, a1 = _linear_coefs(w, out_w)
    y0, y1, b0, b1 = _linear_coefs(h, out_h)
    a = a.astype(np.int64)
    rows = a[:, x0] * a0[None, :, None] + a[:, x1] * a1[None, :, None]
    top, bot = rows[y0] >> 4, rows[y1] >> 4
    out = (((top * b0[:, None, None]) >> 16) + ((bot * b1[:, None, None]) >> 16) + 2) >> 2
    return np.clip(out, 0, 255).astype(np.float32)


def cls_tensor(img):
    """The [1,3,48,192] tensor CLS_CONFIG makes of a PIL RGB image."""
    a = np.asarray(img.convert("RGB"), dtype=np.uint8)[:, :, ::-1]   # BGR
    a = cv_linear_resize(a, CLS_INPUT["width"], CLS_INPUT["height"])
    a = a * np.float32(CLS_INPUT["scale"])
    a = (a - np.asarray(CLS_INPUT["mean"], np.float32)) / np.asarray(CLS_INPUT["std"], np.float32)
    return a.transpose(2, 0, 1)[None].astype(np.float32)


_ORT = {}


def ort_session(path):
    ort = pytest.importorskip("onnxruntime")
    if path not in _ORT:
        _ORT[path] = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return _ORT[path]


def cls_reference(img):
    """Scores per class index, from Python onnxruntime."""
    sess = ort_session(need(CLS))
    return sess.run(None, {"x": cls_tensor(img)})[0][0].astype(np.float64)


# --------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------

def infer_url(mid, kind=""):
    return f"{APP}/models/{mid}/infer" + (f"/{kind}" if kind else "")


def app_headers(server, headers=None):
    return {**APP_HEADERS, **getattr(server, "app_headers", {}), **(headers or {})}


def post_app(server, path, timeout=INFER_TIMEOUT_S, headers=None, **kw):
    return server.post(path, headers=app_headers(server, headers), timeout=timeout, **kw)


def get_app(server, path, timeout=INFER_TIMEOUT_S, headers=None, **kw):
    return server.get(path, headers=app_headers(server, headers), timeout=timeout, **kw)


def infer_raw(server, mid, data, ctype, params=None, kind="", **kw):
    headers = {} if ctype is None else {"Content-Type": ctype}
    return post_app(server, infer_url(mid, kind), data=data, params=params,
                    headers=headers, **kw)


def infer_png(server, mid, img, params=None, **kw):
    return infer_raw(server, mid, png(img), "image/png", params=params, **kw)


def infer_multipart(server, mid, data, ctype="image/png", filename="image.png",
                    fields=None, params=None, kind=""):
    files = {"image": (filename, data, ctype)}
    return post_app(server, infer_url(mid, kind), files=files, data=fields or {},
                    params=params)


def infer_json(server, mid, body, params=None, kind=""):
    return post_app(server, infer_url(mid, kind), json=body, params=params)


def result_ok(resp, what="infer"):
    body = ok(resp, 200, what)
    assert resp.headers.get("X-Request-ID"), f"{what}: no X-Request-ID"
    return body


def check_timing(t, what):
    assert isinstance(t, dict), f"{what}: timing_ms {t!r}"
    for k in TIMING_KEYS:
        assert is_number(t.get(k)) and t[k] >= 0, f"{what}: timing_ms.{k} = {t.get(k)!r}"


def check_item(item, task, what):
    """A per-image result: the task's payload, timing_ms and batch_size."""
    check_timing(item.get("timing_ms"), what)
    bs = item.get("batch_size")
    assert isinstance(bs, int) and not isinstance(bs, bool) and bs >= 1, (
        f"{what}: batch_size {bs!r}")
    key = {"classification": "classes", "text_detection": "regions",
           "raw": "outputs", "detection": "detections"}[task]
    assert isinstance(item.get(key), list), f"{what}: no {key!r} list: {str(item)[:500]}"
    return item[key]


def check_result(body, mid, task, what="infer", version=1):
    assert body.get("model_id") == mid, f"{what}: model_id {body.get('model_id')!r}"
    assert body.get("model_version") == version, (
        f"{what}: model_version {body.get('model_version')!r}, expected {version}")
    assert body.get("task") == task, f"{what}: task {body.get('task')!r}, expected {task!r}"
    return check_item(body, task, what)


def check_classes(classes, what, k=2):
    assert len(classes) == k, f"{what}: {len(classes)} classes, expected {k}: {classes}"
    for c in classes:
        for f in ("index", "label", "score"):
            assert f in c, f"{what}: class lacks {f!r}: {c}"
        assert c["index"] in (0, 1), f"{what}: index {c['index']!r}"
        assert c["label"] == CLS_LABELS[c["index"]], f"{what}: {c}"
        assert is_number(c["score"]) and 0.0 <= c["score"] <= 1.0 + 1e-6, f"{what}: {c}"
    scores = [c["score"] for c in classes]
    assert scores == sorted(scores, reverse=True), f"{what}: scores not best first: {scores}"
    assert len({c["index"] for c in classes}) == len(classes), f"{what}: repeated class"
    return classes


def scores_by_index(classes):
    return {c["index"]: c["score"] for c in classes}


def assert_same_classes(a, b, what, tol=1e-6):
    assert [c["index"] for c in a] == [c["index"] for c in b], f"{what}: {a} != {b}"
    assert [c["label"] for c in a] == [c["label"] for c in b], f"{what}: {a} != {b}"
    diff = max(abs(x["score"] - y["score"]) for x, y in zip(a, b))
    assert diff <= tol, f"{what}: scores differ by {diff:g}: {a} vs {b}"


def check_regions(regions, w, h, what):
    for r in regions:
        assert is_number(r.get("score")), f"{what}: region score {r}"
        assert DET_BOX_THRESHOLD - 1e-6 <= r["score"] <= 1.0 + 1e-6, (
            f"{what}: region score {r['score']} below box_threshold {DET_BOX_THRESHOLD}")
        poly = r.get("polygon")
        assert isinstance(poly, list) and len(poly) == 4, f"{what}: polygon {poly!r}"
        for pt in poly:
            assert isinstance(pt, list) and len(pt) == 2 and all(map(is_number, pt)), (
                f"{what}: point {pt!r}")
            x, y = pt
            eps = 1e-3
            assert -eps <= x <= w + eps and -eps <= y <= h + eps, (
                f"{what}: point {pt} outside the {w}x{h} image: {poly}")
    return regions


def bbox_of(regions):
    pts = np.asarray([pt for r in regions for pt in r["polygon"]], dtype=np.float64)
    return pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()


def wait_async(server, status_url, timeout=ASYNC_WAIT_S):
    """Poll until the async request has finished; returns (final body, the
    statuses seen while it was pending)."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        r = get_app(server, status_url)
        if r.status_code == 200:
            return r.json(), seen
        assert r.status_code == 202, (
            f"GET {status_url}: {r.status_code} {r.text[:500]!r}")
        body = r.json()
        assert body.get("status") in ("queued", "running"), f"pending status {body!r}"
        seen.append(body["status"])
        assert time.monotonic() < deadline, f"async request unfinished after {timeout}s"
        time.sleep(0.05)


def submit_async(server, mid, **kw):
    """POST /infer/async with a raw body or JSON; returns the 202 body."""
    r = (infer_json(server, mid, kw["json"], kind="async") if "json" in kw
         else infer_raw(server, mid, kw["data"], kw["ctype"], kind="async"))
    body = ok(r, 202, "infer/async")
    for k in ("request_id", "status", "status_url"):
        assert k in body, f"async response lacks {k!r}: {body}"
    assert body["status"] == "queued", body
    assert isinstance(body["request_id"], str) and body["request_id"], body
    assert body["status_url"] == f"{APP}/requests/{body['request_id']}", body
    return body


def fire_concurrently(n, fn):
    """Run fn(i) for i < n on n threads released together; returns the results
    in order."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait(timeout=30)
        return fn(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def admin_get(admin, path, **kw):
    kw.setdefault("timeout", INFER_TIMEOUT_S)
    return admin.server.get(path, headers=bearer(admin.token), **kw)


def wait_logs(admin, mid, count, timeout=LOG_WAIT_S):
    """Poll the inference log of model `mid` until it holds at least `count`
    rows and two reads 0.5 s apart agree; returns the last page (newest first)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        r = admin_get(admin, f"{API}/logs", params={"model_id": mid, "page_size": 100})
        body = ok(r, 200, "GET logs")
        if body["total"] >= count and last is not None and last == body["total"]:
            return body
        if time.monotonic() >= deadline:
            break
        last = body["total"] if body["total"] >= count else None
        time.sleep(0.5 if last is not None else 0.1)
    assert body["total"] >= count, (
        f"{body['total']} log rows for {mid} after {timeout}s, expected {count}: "
        f"{json.dumps(body['items'])[:1500]}")
    return body


def publish_new(admin, path, name, config=None):
    m = upload_ok(admin, need(path).read_bytes(), name, filename=path.name,
                  config=config, timeout=LONG_TIMEOUT_S)
    publish_ok(admin, m["id"], 1)
    return m["id"]


# --------------------------------------------------------------------------
# fixtures: one shared server, models published on first use
# --------------------------------------------------------------------------

class Shared:
    def __init__(self, admin):
        self.admin = admin
        self.server = admin.server
        self.models = {}
        self.lock = threading.Lock()

    def model(self, key, path, config=None):
        with self.lock:
            if key not in self.models:
                self.models[key] = publish_new(self.admin, path, f"app-{key}", config)
            return self.models[key]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("infer"), env=SHARED_ENV)
    try:
        s.start()
        admin = make_admin(s)
        give_app_token(admin)
        yield Shared(admin)
    finally:
        s.stop()


@pytest.fixture
def srv(shared):
    # a Server among the test's arguments: conftest attaches its log to failures
    return shared.server


@pytest.fixture
def cls_id(shared):
    return shared.model("cls", CLS, CLS_CONFIG)


@pytest.fixture
def cls_batch_id(shared):
    return shared.model("cls-batching", CLS, CLS_BATCH_CONFIG)


@pytest.fixture
def det_id(shared):
    return shared.model("det", DET, DET_CONFIG)


@pytest.fixture
def tiny_id(shared):
    return shared.model("tiny", TINY_ONNX)


@pytest.fixture
def draft_id(shared):
    with shared.lock:
        if "draft" not in shared.models:
            m = upload_ok(shared.admin, need(TINY_ONNX).read_bytes(), "app-draft",
                          filename="tiny.onnx", timeout=LONG_TIMEOUT_S)
            shared.models["draft"] = m["id"]
        return shared.models["draft"]


# --------------------------------------------------------------------------
# published models
# --------------------------------------------------------------------------

def check_public_model(m, what):
    missing = [k for k in PUBLIC_MODEL_KEYS if k not in m]
    assert not missing, f"{what}: model lacks {missing}: {m}"
    assert isinstance(m["io_schema"], dict) and isinstance(m["io_schema"].get("inputs"), list), (
        f"{what}: io_schema {m['io_schema']!r}")
    assert isinstance(m["updated_at"], str) and ISO_RE.match(m["updated_at"]), m["updated_at"]


def test_list_and_get_published_models(srv, cls_id, det_id, tiny_id, draft_id):
    r = get_app(srv, f"{APP}/models")
    body = ok(r, 200, "GET /api/v1/models")
    assert isinstance(body.get("items"), list) and is_number(body.get("total")), body
    assert body["total"] == len(body["items"]), body
    by_id = {m["id"]: m for m in body["items"]}
    for m in body["items"]:
        check_public_model(m, "list item")
    want = {cls_id: ("classification", "app-cls"), det_id: ("text_detection", "app-det"),
            tiny_id: ("raw", "app-tiny")}
    for mid, (task, name) in want.items():
        assert mid in by_id, f"published model {name} ({mid}) not listed: {list(by_id)}"
        m = by_id[mid]
        assert (m["task"], m["name"], m["version"], m["engine"]) == (
            task, name, 1, "onnxruntime"), m
    assert draft_id not in by_id, "a draft model is listed"

    for mid in want:
        one = ok(get_app(srv, f"{APP}/models/{mid}"), 200, f"GET /api/v1/models/{mid}")
        check_public_model(one, "GET one")
        assert one == by_id[mid], f"GET one differs from the list item:\n{one}\n{by_id[mid]}"
    assert [i["name"] for i in by_id[cls_id]["io_schema"]["inputs"]] == ["x"]

    assert_error(get_app(srv, f"{APP}/models/{draft_id}"), 404, "MODEL_NOT_FOUND")
    assert_error(get_app(srv, f"{APP}/models/{uuid.uuid4()}"), 404, "MODEL_NOT_FOUND")


def test_unpublished_model_is_not_served(shared, srv):
    admin = shared.admin
    m = upload_ok(admin, need(TINY_ONNX).read_bytes(), "app-unpublish",
                  filename="tiny.onnx", timeout=LONG_TIMEOUT_S)
    mid = m["id"]
    tensors = {"inputs": [expected_input()]}

    assert_error(get_app(srv, f"{APP}/models/{mid}"), 404, "MODEL_NOT_FOUND")
    assert_error(infer_json(srv, mid, tensors), 404, "MODEL_NOT_FOUND")

    publish_ok(admin, mid, 1)
    ok(get_app(srv, f"{APP}/models/{mid}"), 200, "GET after publish")
    check_result(result_ok(infer_json(srv, mid, tensors)), mid, "raw", "infer after publish")

    unpublish_ok(admin, mid)
    assert_error(get_app(srv, f"{APP}/models/{mid}"), 404, "MODEL_NOT_FOUND")
    ids = [x["id"] for x in ok(get_app(srv, f"{APP}/models"), 200, "list")["items"]]
    assert mid not in ids, "an unpublished model is listed"
    assert_error(infer_json(srv, mid, tensors), 404, "MODEL_NOT_FOUND")
    assert_error(infer_json(srv, mid, {"images": [b64(png(Image.new("RGB", (8, 8))))]},
                            kind="batch"), 404, "MODEL_NOT_FOUND")
    r = infer_json(srv, mid, tensors, kind="async")
    if r.status_code == 202:      # accepted, fails when it runs
        final, _ = wait_async(srv, r.json()["status_url"])
        assert final["status"] == "failed" and final["error"]["code"] == "MODEL_NOT_FOUND", final
    else:
        assert_error(r, 404, "MODEL_NOT_FOUND")


# --------------------------------------------------------------------------
# classification
# --------------------------------------------------------------------------

def test_classification_real_photo(srv, cls_id):
    line = text_line()
    upright = check_classes(check_result(result_ok(infer_png(srv, cls_id, line)),
                                         cls_id, "classification", "upright"), "upright")
    flipped = check_classes(check_result(
        result_ok(infer_png(srv, cls_id, line.rotate(180))), cls_id, "classification",
        "rotated 180"), "rotated 180")
    assert {c["label"] for c in upright} == set(CLS_LABELS)
    assert {c["label"] for c in flipped} == set(CLS_LABELS)
    assert scores_by_index(upright) != scores_by_index(flipped), (
        "the rotated image got exactly the same scores")

    for params, how in (({"top_k": 1}, "query"),):
        one = check_result(result_ok(infer_png(srv, cls_id, line, params=params)),
                           cls_id, "classification", f"top_k=1 ({how})")
        check_classes(one, "top_k=1", k=1)
        assert one[0]["index"] == upright[0]["index"], (one, upright)
    one = check_result(result_ok(infer_json(srv, cls_id, {
        "image": b64(png(line)), "parameters": {"top_k": 1}})), cls_id, "classification",
        "top_k=1 (JSON parameters)")
    check_classes(one, "top_k=1 (JSON)", k=1)
    one = check_result(result_ok(infer_multipart(srv, cls_id, png(line), fields={"top_k": "1"})),
                       cls_id, "classification", "top_k=1 (multipart field)")
    check_classes(one, "top_k=1 (multipart)", k=1)
    # more than there are classes: every class
    check_classes(check_result(result_ok(infer_png(srv, cls_id, line, params={"top_k": 50})),
                               cls_id, "classification", "top_k=50"), "top_k=50", k=2)
    for prio in ("low", "normal", "high"):
        got = check_result(result_ok(infer_png(srv, cls_id, line, params={"priority": prio})),
                           cls_id, "classification", f"priority={prio}")
        assert_same_classes(got, upright, f"priority={prio}")


def test_classification_matches_onnxruntime_exact_tensors(srv, cls_id):
    """Images whose preprocessing is exact (already 192x48, or one colour):
    the server's scores equal Python onnxruntime's on the same tensor."""
    rng = np.random.default_rng(5)
    noise = Image.fromarray(rng.integers(0, 256, (48, 192, 3), dtype=np.uint8), "RGB")
    solid = Image.new("RGB", (317, 93), (200, 30, 90))
    stripes = np.zeros((48, 192, 3), np.uint8)
    stripes[:, :, 0] = np.arange(192, dtype=np.uint8)[None, :]        # red ramp
    stripes[::2, :, 2] = 255                                            # blue rows
    for img, what in ((noise, "noise 192x48"), (solid, "solid colour 317x93"),
                      (Image.fromarray(stripes, "RGB"), "ramps 192x48")):
        got = check_classes(check_result(result_ok(infer_png(srv, cls_id, img)),
                                         cls_id, "classification", what), what)
        want = cls_reference(img)
        for c in got:
            assert abs(c["score"] - want[c["index"]]) <= 1e-4, (
                f"{what}: class {c['index']} score {c['score']}, onnxruntime "
                f"{want[c['index']]} (all: {got} vs {want.tolist()})")


def test_classification_matches_onnxruntime_real_photo(srv, cls_id):
    """Photographs that need resizing: cv::INTER_LINEAR emulated in numpy,
    so the scores may differ slightly."""
    crops = [(text_line(), "text line"),
             (text_line().rotate(180), "text line rotated"),
             (load("astronaut.png").crop((40, 300, 440, 420)), "astronaut crop"),
             (load("coffee.png").crop((0, 0, 600, 160)), "coffee crop")]
    for img, what in crops:
        got = check_classes(check_result(result_ok(infer_png(srv, cls_id, img)),
                                         cls_id, "classification", what), what)
        want = cls_reference(img)
        for c in got:
            assert abs(c["score"] - want[c["index"]]) <= 0.05, (
                f"{what}: class {c['index']} score {c['score']}, onnxruntime "
                f"{want[c['index']]} (all: {got} vs {want.tolist()})")


def test_input_forms_give_the_same_result(srv, cls_id):
    img = text_line()
    png_bytes = png(img)
    ref = check_classes(check_result(result_ok(infer_raw(srv, cls_id, png_bytes, "image/png")),
                                     cls_id, "classification", "raw PNG"), "raw PNG")
    lossless = {
        "multipart PNG": lambda: infer_multipart(srv, cls_id, png_bytes),
        "raw BMP": lambda: infer_raw(srv, cls_id, encode(img, "BMP"), "image/bmp"),
        "raw lossless WebP": lambda: infer_raw(srv, cls_id, encode(img, "WEBP"), "image/webp"),
        "multipart WebP": lambda: infer_multipart(srv, cls_id, encode(img, "WEBP"),
                                                  ctype="image/webp", filename="i.webp"),
        "JSON base64": lambda: infer_json(srv, cls_id, {"image": b64(png_bytes)}),
        "JSON data URI": lambda: infer_json(
            srv, cls_id, {"image": "data:image/png;base64," + b64(png_bytes)}),
        "Content-Type with parameters": lambda: infer_raw(
            srv, cls_id, png_bytes, "image/png; charset=binary"),
    }
    for what, send in lossless.items():
        got = check_classes(check_result(result_ok(send(), what), cls_id, "classification",
                                         what), what)
        assert_same_classes(got, ref, f"{what} vs raw PNG")

    jpeg = encode(img, "JPEG", quality=95)
    for what, send in {
        "raw JPEG": lambda: infer_raw(srv, cls_id, jpeg, "image/jpeg"),
        "multipart JPEG": lambda: infer_multipart(srv, cls_id, jpeg, ctype="image/jpeg",
                                                  filename="i.jpg"),
        "JSON data URI JPEG": lambda: infer_json(
            srv, cls_id, {"image": "data:image/jpeg;base64," + b64(jpeg)}),
    }.items():
        got = check_classes(check_result(result_ok(send(), what), cls_id, "classification",
                                         what), what)
        assert {c["index"] for c in got} == {0, 1}
        diff = max(abs(a - b) for a, b in zip(
            [scores_by_index(got)[i] for i in (0, 1)], [scores_by_index(ref)[i] for i in (0, 1)]))
        assert diff <= 0.2, f"{what}: scores far from the PNG's: {got} vs {ref}"

    # a JPEG file straight from the fetch script
    rocket = sample("rocket.jpg").read_bytes()
    check_classes(check_result(result_ok(infer_raw(srv, cls_id, rocket, "image/jpeg")),
                               cls_id, "classification", "rocket.jpg"), "rocket.jpg")
    # a grey-level PNG and one with an alpha channel
    grey = load("text.png", "L").crop((0, 20, 448, 120))
    got = check_classes(check_result(result_ok(infer_png(srv, cls_id, grey)), cls_id,
                                     "classification", "grey PNG"), "grey PNG")
    assert_same_classes(got, ref, "grey-level PNG vs its RGB version", tol=1e-5)
    rgba = img.convert("RGBA")
    got = check_classes(check_result(result_ok(infer_png(srv, cls_id, rgba)), cls_id,
                                     "classification", "RGBA PNG"), "RGBA PNG")
    assert_same_classes(got, ref, "opaque RGBA PNG vs RGB", tol=1e-5)


# --------------------------------------------------------------------------
# text detection
# --------------------------------------------------------------------------

def test_text_detection_on_photo(srv, det_id):
    img = load("text.png")
    w, h = img.size
    regions = check_result(result_ok(infer_raw(srv, det_id, sample("text.png").read_bytes(),
                                               "image/png")), det_id, "text_detection",
                           "text.png")
    assert len(regions) >= 1, "no text region found in text.png"
    check_regions(regions, w, h, "text.png")

    # score_threshold raises the bar for text regions
    strict = check_result(result_ok(infer_raw(srv, det_id, sample("text.png").read_bytes(),
                                              "image/png", params={"score_threshold": "0.9"})),
                          det_id, "text_detection", "score_threshold=0.9")
    assert all(r["score"] >= 0.9 - 1e-6 for r in strict), strict
    key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    assert sorted(map(key, strict)) == sorted(key(r) for r in regions if r["score"] >= 0.9), (
        f"score_threshold=0.9 should keep exactly the regions scoring >= 0.9:\n"
        f"{strict}\nof\n{regions}")

    # the same photo at twice the size: regions in its own pixels, about twice
    # as far out
    big = img.resize((2 * w, 2 * h), Image.BICUBIC)
    big_regions = check_result(result_ok(infer_png(srv, det_id, big)), det_id,
                               "text_detection", "text.png x2")
    assert big_regions, "no text region in text.png at twice the size"
    check_regions(big_regions, 2 * w, 2 * h, "text.png x2")
    b1, b2 = np.asarray(bbox_of(regions)), np.asarray(bbox_of(big_regions))
    limit = 0.1 * np.asarray([2 * w, 2 * h, 2 * w, 2 * h])
    assert np.all(np.abs(b2 - 2 * b1) <= limit), (
        f"regions of the doubled image {b2.tolist()} are not about twice "
        f"{b1.tolist()} (limit {limit.tolist()})")

    # a photograph without text has none (or only confident ones)
    check_regions(check_result(result_ok(infer_raw(srv, det_id, sample("rocket.jpg").read_bytes(),
                                                   "image/jpeg")), det_id, "text_detection",
                               "rocket.jpg"), 640, 427, "rocket.jpg")


def test_annotate_returns_original_size_jpeg(srv, det_id):
    data = sample("text.png").read_bytes()
    w, h = load("text.png").size
    body = result_ok(infer_raw(srv, det_id, data, "image/png", params={"annotate": "true"}))
    regions = check_result(body, det_id, "text_detection", "annotate=true")
    assert regions
    im = decode_b64_image(body.get("annotated_image"))
    assert im.size == (w, h), f"annotated image is {im.size}, the input {w}x{h}"

    body = result_ok(infer_json(srv, det_id, {"image": b64(data),
                                              "parameters": {"annotate": True}}))
    assert decode_b64_image(body.get("annotated_image")).size == (w, h)

    for params in ({"annotate": "false"}, None):
        body = result_ok(infer_raw(srv, det_id, data, "image/png", params=params))
        assert "annotated_image" not in body or body["annotated_image"] is None, (
            f"annotated_image without annotate=true ({params})")


def test_exif_orientation_is_applied(srv, det_id):
    img = load("text.png")
    w, h = img.size                                    # 448 x 172
    jpeg = exif_rotated_jpeg(img, 6)                   # shown rotated: 172 x 448
    with Image.open(io.BytesIO(jpeg)) as check:
        assert check.getexif().get(0x0112) == 6, "Pillow did not write the orientation"
    body = result_ok(infer_raw(srv, det_id, jpeg, "image/jpeg", params={"annotate": "true"}))
    regions = check_result(body, det_id, "text_detection", "EXIF orientation 6")
    check_regions(regions, h, w, "EXIF orientation 6 (rotated size)")
    im = decode_b64_image(body["annotated_image"])
    assert im.size == (h, w), (
        f"annotated image of an EXIF-rotated {w}x{h} JPEG is {im.size}, expected {(h, w)}")


# --------------------------------------------------------------------------
# tensors (raw)
# --------------------------------------------------------------------------

def test_tensors_on_tiny_classifier(srv, tiny_id):
    want = expected()
    body = result_ok(infer_json(srv, tiny_id, {"inputs": [expected_input()]}))
    outs = check_result(body, tiny_id, "raw", "tensors")
    assert len(outs) == 1, outs
    o = outs[0]
    for k in ("name", "datatype", "shape", "data"):
        assert k in o, f"output lacks {k!r}: {str(o)[:300]}"
    assert o["name"] == want["output"]["name"], o["name"]
    assert o["datatype"] == "FP32" and o["shape"] == want["output"]["shape"], (o["datatype"], o["shape"])
    diff = float(np.max(np.abs(np.asarray(o["data"]) - np.asarray(want["output"]["data"]))))
    assert diff <= 1e-5, f"tiny classifier output differs by {diff:g} ({EXPECTED_PATH.name})"

    # data may be nested as the shape says
    inp = expected_input()
    nested = np.asarray(inp["data"], np.float32).reshape(inp["shape"]).tolist()
    outs = check_result(result_ok(infer_json(srv, tiny_id, {"inputs": [{**inp, "data": nested}]})),
                        tiny_id, "raw", "nested tensor data")
    diff = float(np.max(np.abs(np.asarray(outs[0]["data"]) - np.asarray(want["output"]["data"]))))
    assert diff <= 1e-5, f"nested data: output differs by {diff:g}"

    # an image works too on a model with no output config: raw outputs
    outs = check_result(result_ok(infer_png(srv, tiny_id, load("coffee.png"))), tiny_id, "raw",
                        "image on the tiny classifier")
    assert outs and outs[0]["shape"] == [1, 4], outs


def test_tensors_on_image_model(srv, cls_id):
    """Tensors work on any model and skip the task's postprocessing."""
    rng = np.random.default_rng(9)
    x = (rng.integers(-128, 128, size=(1, 3, 48, 192)) / 128.0).astype(np.float32)
    body = result_ok(infer_json(srv, cls_id, {"inputs": [
        {"name": "x", "shape": list(x.shape), "datatype": "FP32", "data": x.ravel().tolist()}]}))
    outs = check_result(body, cls_id, "raw", "tensors on cls")
    want = ort_session(need(CLS)).run(None, {"x": x})[0]
    assert outs[0]["shape"] == list(want.shape), outs[0]["shape"]
    diff = float(np.max(np.abs(np.asarray(outs[0]["data"]) - want.ravel())))
    assert diff <= 1e-4, f"cls tensors differ from onnxruntime by {diff:g}"


def test_tensor_validation(srv, tiny_id):
    good = expected_input()

    def bad(inp, what, names=("input",)):
        r = infer_json(srv, tiny_id, {"inputs": [inp]})
        err = assert_error(r, 422, "VALIDATION_FAILED")
        assert any(n in err["message"] for n in names), (
            f"{what}: message does not name {names}: {err['message']!r}")

    bad({**good, "name": "nope"}, "wrong name", names=("nope", "input"))
    n = 2 * 3 * 32 * 31
    bad({**good, "shape": [2, 3, 32, 31], "data": good["data"][:n]}, "wrong shape")
    bad({**good, "shape": [2, 3, 1024], "data": good["data"]}, "wrong rank")
    bad({**good, "datatype": "INT32", "data": [int(round(v)) for v in good["data"]]},
        "wrong datatype")
    r = infer_json(srv, tiny_id, {"inputs": [{**good, "data": good["data"][:100]}]})
    assert r.status_code in (400, 422), f"short data: {r.status_code} {r.text[:300]!r}"
    assert_error(r, r.status_code, "BAD_REQUEST" if r.status_code == 400 else "VALIDATION_FAILED")


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

def test_image_errors(srv, cls_id):
    # corrupt: a known signature, garbage after it
    for what, send in {
        "raw": lambda: infer_raw(srv, cls_id, corrupt_png(), "image/png"),
        "multipart": lambda: infer_multipart(srv, cls_id, corrupt_png()),
        "JSON": lambda: infer_json(srv, cls_id, {"image": b64(corrupt_png())}),
        "JPEG": lambda: infer_raw(srv, cls_id, b"\xff\xd8\xff\xe0" + corrupt_png()[8:],
                                  "image/jpeg"),
    }.items():
        assert_error(send(), 422, "INVALID_IMAGE")

    # no known signature
    assert_error(infer_raw(srv, cls_id, unknown_bytes(), "image/png"), 415,
                 "UNSUPPORTED_MEDIA_TYPE")
    assert_error(infer_multipart(srv, cls_id, unknown_bytes()), 415, "UNSUPPORTED_MEDIA_TYPE")
    # content types that are not inputs
    good = png(text_line())
    for ctype in ("text/plain", "application/octet-stream", "image/gif", None):
        assert_error(infer_raw(srv, cls_id, good, ctype), 415, "UNSUPPORTED_MEDIA_TYPE")

    # a header declaring 100000 x 100000 pixels is refused before decoding
    t0 = time.monotonic()
    r = infer_raw(srv, cls_id, huge_png_header(), "image/png")
    elapsed = time.monotonic() - t0
    assert_error(r, 422, "IMAGE_TOO_LARGE")
    assert elapsed < 5, f"IMAGE_TOO_LARGE took {elapsed:.1f}s"
    assert_error(infer_json(srv, cls_id, {"image": b64(huge_png_header())}), 422,
                 "IMAGE_TOO_LARGE")

    # the server still serves
    check_result(result_ok(infer_raw(srv, cls_id, good, "image/png")), cls_id,
                 "classification", "after the errors")


def test_request_errors(srv, cls_id, draft_id):
    good = png(text_line())
    # models that are not published
    for mid in (draft_id, str(uuid.uuid4()), "not-a-uuid"):
        assert_error(infer_raw(srv, mid, good, "image/png"), 404, "MODEL_NOT_FOUND")
    # malformed JSON
    r = post_app(srv, infer_url(cls_id), data=b'{"image": "abc',
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400, "INVALID_JSON")
    # unknown and out-of-range parameters
    assert_error(infer_json(srv, cls_id, {"image": b64(good), "parameters": {"bogus": 1}}),
                 422, "VALIDATION_FAILED")
    for params in ({"score_threshold": "2"}, {"iou_threshold": "-0.1"}, {"top_k": "0"},
                   {"top_k": "1001"}, {"priority": "urgent"}, {"annotate": "maybe"},
                   {"top_k": "abc"}):
        assert_error(infer_raw(srv, cls_id, good, "image/png", params=params), 422,
                     "VALIDATION_FAILED")
        key, val = next(iter(params.items()))
        assert_error(infer_json(srv, cls_id, {"image": b64(good), "parameters": {key: val}}),
                     422, "VALIDATION_FAILED")
    # neither an image nor tensors
    r = infer_json(srv, cls_id, {"parameters": {"top_k": 1}})
    assert r.status_code in (400, 422), f"no input: {r.status_code} {r.text[:300]!r}"
    # not base64
    r = infer_json(srv, cls_id, {"image": "!!! not base64 !!!"})
    assert r.status_code in (400, 422), f"bad base64: {r.status_code} {r.text[:300]!r}"
    # the server still serves
    check_result(result_ok(infer_raw(srv, cls_id, good, "image/png")), cls_id,
                 "classification", "after the errors")


# --------------------------------------------------------------------------
# batch
# --------------------------------------------------------------------------

def test_batch_mixed_items(srv, cls_id):
    line = text_line()
    upright = png(line)
    flipped = png(line.rotate(180))
    single = {}
    for key, data in (("up", upright), ("flip", flipped)):
        single[key] = check_result(result_ok(infer_raw(srv, cls_id, data, "image/png")),
                                   cls_id, "classification", key)

    def check_batch(body, what):
        assert body.get("model_id") == cls_id and body.get("model_version") == 1, body
        assert body.get("task") == "classification", body
        res = body.get("results")
        assert isinstance(res, list) and len(res) == 4, f"{what}: results {str(res)[:500]}"
        for i, key in ((0, "up"), (2, "flip"), (3, "up")):
            got = check_classes(check_item(res[i], "classification", f"{what}[{i}]"),
                                f"{what}[{i}]")
            assert_same_classes(got, single[key], f"{what}[{i}] vs a single request", 1e-5)
        err = res[1].get("error")
        assert isinstance(err, dict), f"{what}[1]: no error object: {res[1]}"
        assert err.get("code") == "INVALID_IMAGE" and err.get("status") == 422, err
        assert isinstance(err.get("message"), str) and err["message"], err

    files = [("images[]", ("a.png", upright, "image/png")),
             ("images[]", ("b.png", corrupt_png(), "image/png")),
             ("images[]", ("c.png", flipped, "image/png")),
             ("images[]", ("d.png", upright, "image/png"))]
    check_batch(ok(post_app(srv, infer_url(cls_id, "batch"), files=files), 200,
                   "multipart batch"), "multipart batch")
    check_batch(ok(infer_json(srv, cls_id, {"images": [
        b64(upright), b64(corrupt_png()), "data:image/png;base64," + b64(flipped),
        b64(upright)]}, kind="batch"), 200, "JSON batch"), "JSON batch")

    # parameters apply to every item
    body = ok(infer_json(srv, cls_id, {"images": [b64(upright), b64(flipped)],
                                       "parameters": {"top_k": 1}}, kind="batch"), 200,
              "batch top_k=1")
    for i, item in enumerate(body["results"]):
        check_classes(check_item(item, "classification", f"top_k=1 [{i}]"), "top_k=1", k=1)


def test_batch_limits(srv, cls_id, draft_id):
    tiny = b64(png(Image.new("RGB", (8, 8), (10, 20, 30))))
    r = infer_json(srv, cls_id, {"images": [tiny] * 65}, kind="batch")
    assert_error(r, 422, "VALIDATION_FAILED")
    body = ok(infer_json(srv, cls_id, {"images": [tiny] * 64}, kind="batch"), 200, "64 images")
    assert len(body["results"]) == 64 and all("classes" in x for x in body["results"])
    assert_error(infer_json(srv, draft_id, {"images": [tiny]}, kind="batch"), 404,
                 "MODEL_NOT_FOUND")


# --------------------------------------------------------------------------
# async
# --------------------------------------------------------------------------

def test_async_lifecycle(srv, cls_id):
    data = png(text_line())
    sync = check_result(result_ok(infer_raw(srv, cls_id, data, "image/png")), cls_id,
                        "classification", "sync")

    sub = submit_async(srv, cls_id, data=data, ctype="image/png")
    final, seen = wait_async(srv, sub["status_url"])
    assert final.get("request_id") == sub["request_id"], final
    assert final.get("status") == "done", final
    got = check_classes(check_result(final["result"], cls_id, "classification",
                                      "async result"), "async result")
    assert_same_classes(got, sync, "async vs sync", 1e-5)
    # a finished result can be read again until it expires
    again = ok(get_app(srv, sub["status_url"]), 200, "second GET")
    assert again["status"] == "done" and again["result"]["classes"] == final["result"]["classes"]

    # JSON input and parameters
    sub = submit_async(srv, cls_id, json={"image": b64(data), "parameters": {"top_k": 1}})
    final, _ = wait_async(srv, sub["status_url"])
    check_classes(check_result(final["result"], cls_id, "classification", "async JSON"),
                  "async JSON", k=1)

    # an image that fails: refused at once, or accepted and failed
    r = infer_raw(srv, cls_id, corrupt_png(), "image/png", kind="async")
    if r.status_code == 202:
        final, _ = wait_async(srv, r.json()["status_url"])
        assert final.get("status") == "failed", final
        err = final.get("error")
        assert isinstance(err, dict) and err.get("code") == "INVALID_IMAGE", final
        assert err.get("status") == 422, err
    else:
        assert_error(r, 422, "INVALID_IMAGE")

    # input errors found while reading the request are immediate
    assert_error(infer_raw(srv, cls_id, data, "text/plain", kind="async"), 415,
                 "UNSUPPORTED_MEDIA_TYPE")
    assert_error(get_app(srv, f"{APP}/requests/{uuid.uuid4()}"), 404, "REQUEST_NOT_FOUND")
    assert_error(get_app(srv, f"{APP}/requests/nope"), 404, "REQUEST_NOT_FOUND")


def test_async_results_expire(server_factory):
    s = server_factory(env={"CINFER_REQUEST__ASYNC_RESULT_TTL_S": "1"})
    admin = make_admin(s)
    give_app_token(admin)
    mid = publish_new(admin, TINY_ONNX, "async-ttl")
    sub = submit_async(s, mid, json={"inputs": [expected_input()]})
    final, _ = wait_async(s, sub["status_url"])
    assert final["status"] == "done", final
    outs = check_result(final["result"], mid, "raw", "async tensors")
    want = expected()["output"]["data"]
    assert float(np.max(np.abs(np.asarray(outs[0]["data"]) - np.asarray(want)))) <= 1e-5
    done_at = time.monotonic()
    deadline = done_at + 8
    while True:
        r = get_app(s, sub["status_url"])
        if r.status_code == 404:
            assert_error(r, 404, "REQUEST_NOT_FOUND")
            break
        assert r.status_code == 200, f"{r.status_code} {r.text[:300]!r}"
        assert time.monotonic() < deadline, "async result still there 8 s after it finished"
        time.sleep(0.2)
    assert time.monotonic() - done_at >= 0.5, "the result expired before its TTL of 1 s"


# --------------------------------------------------------------------------
# inference log and statistics
# --------------------------------------------------------------------------

def test_inference_logs_and_stats(shared, srv):
    admin = shared.admin
    mid = publish_new(admin, CLS, "app-logs", CLS_CONFIG)
    good = png(text_line())

    r1 = infer_raw(srv, mid, good, "image/png")
    result_ok(r1)
    r2 = infer_json(srv, mid, {"image": b64(good)})
    result_ok(r2)
    r3 = infer_raw(srv, mid, corrupt_png(), "image/png")
    assert_error(r3, 422, "INVALID_IMAGE")
    rb = infer_json(srv, mid, {"images": [b64(good), b64(good)]}, kind="batch")
    ok(rb, 200, "batch")
    sub = submit_async(srv, mid, data=good, ctype="image/png")
    wait_async(srv, sub["status_url"])

    # 2 infer + 1 error + the batch (one row, or one per item) + 1 async
    body = wait_logs(admin, mid, 5)
    items = body["items"]
    batch_rows = [it for it in items if it["request_id"] == rb.headers["X-Request-ID"]]
    assert len(batch_rows) in (1, 2), f"rows of the 2-image batch request: {batch_rows}"
    n = 4 + len(batch_rows)
    assert body["page"] == 1 and is_number(body["page_size"]), body
    assert body["total"] == len(items), (body["total"], len(items))
    for it in items:
        missing = [k for k in LOG_KEYS if k not in it]
        assert not missing, f"log row lacks {missing}: {it}"
        assert it["model_id"] == mid and it["model_version"] == 1, it
        assert it["status"] in ("ok", "error"), it
        assert isinstance(it["created_at"], str) and ISO_RE.match(it["created_at"]), it
        assert isinstance(it["timing_ms"], dict), it
        assert isinstance(it["client_ip"], str) and it["client_ip"], it
    created = [it["created_at"] for it in items]
    assert created == sorted(created, reverse=True), f"not newest first: {created}"

    def route_is(it, name):
        return isinstance(it["route"], str) and it["route"].rstrip("/").endswith(name)

    oks = [it for it in items if it["status"] == "ok"]
    errs = [it for it in items if it["status"] == "error"]
    assert len(errs) == 1, f"error rows: {errs}"
    e = errs[0]
    assert (e["http_status"], e["error_code"]) == (422, "INVALID_IMAGE"), e
    assert isinstance(e["error_message"], str) and e["error_message"], e
    assert e["request_id"] == r3.headers["X-Request-ID"], (e, r3.headers)
    assert route_is(e, "infer"), e
    for it in oks:
        assert it["http_status"] == 200 and it["error_code"] in (None, ""), it
        assert isinstance(it["batch_size"], int) and it["batch_size"] >= 1, it
        for k in ("infer", "total"):
            assert is_number(it["timing_ms"].get(k)), it
    by_rid = {it["request_id"]: it for it in items}
    for r in (r1, r2):
        rid = r.headers["X-Request-ID"]
        assert rid in by_rid and by_rid[rid]["status"] == "ok", (rid, list(by_rid))
        assert route_is(by_rid[rid], "infer"), by_rid[rid]
    assert all(route_is(it, "infer/batch") for it in batch_rows), batch_rows
    assert sum(route_is(it, "infer/async") for it in items) == 1, [it["route"] for it in items]
    assert len(items) == n and len(oks) == n - 1, (
        f"rows: {[(it['route'], it['status']) for it in items]}")

    # filters and paging
    page = ok(admin_get(admin, f"{API}/logs", params={"model_id": mid, "status": "error"}),
              200, "logs status=error")
    assert page["total"] == 1 and [it["id"] for it in page["items"]] == [e["id"]], page
    page = ok(admin_get(admin, f"{API}/logs", params={"model_id": mid, "status": "ok"}),
              200, "logs status=ok")
    assert page["total"] == n - 1 and all(it["status"] == "ok" for it in page["items"]), page
    p1 = ok(admin_get(admin, f"{API}/logs", params={"model_id": mid, "page": 1,
                                                     "page_size": 2}), 200, "page 1")
    p2 = ok(admin_get(admin, f"{API}/logs", params={"model_id": mid, "page": 2,
                                                     "page_size": 2}), 200, "page 2")
    assert p1["total"] == p2["total"] == n and (p1["page"], p2["page"]) == (1, 2)
    assert p1["page_size"] == p2["page_size"] == 2
    ids = [it["id"] for it in p1["items"] + p2["items"]]
    assert ids == [it["id"] for it in items[:4]], "pages do not follow the full listing"
    # admin only
    assert_error(srv.get(f"{API}/logs", timeout=30), 401, "UNAUTHENTICATED")

    # statistics
    st = ok(admin_get(admin, f"{API}/models/{mid}/stats"), 200, "stats")
    for k in ("model_id", "from", "to", "requests", "errors", "error_rate", "latency_ms",
              "mean_batch_size", "errors_by_code"):
        assert k in st, f"stats lack {k!r}: {st}"
    assert st["model_id"] == mid, st
    assert st["requests"] == n and st["errors"] == 1, st
    assert abs(st["error_rate"] - 1 / n) < 1e-6, st
    assert st["errors_by_code"] == {"INVALID_IMAGE": 1}, st
    lat = st["latency_ms"]
    for k in ("p50", "p90", "p99", "mean", "max"):
        assert is_number(lat.get(k)) and lat[k] >= 0, f"latency_ms.{k}: {lat}"
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] + 1e-9, lat
    assert lat["mean"] <= lat["max"] + 1e-9, lat
    assert is_number(st["mean_batch_size"]) and st["mean_batch_size"] >= 1, st
    assert_error(srv.get(f"{API}/models/{mid}/stats", timeout=30), 401, "UNAUTHENTICATED")


# --------------------------------------------------------------------------
# load: queue full, deadlines, dynamic batching
# --------------------------------------------------------------------------

def _queue_full_rows(admin, mid):
    page = ok(admin_get(admin, f"{API}/logs", params={"model_id": mid, "status": "error",
                                                     "page_size": 100}), 200, "logs")
    return [it for it in page["items"] if it["error_code"] == "QUEUE_FULL"]


def test_queue_full(server_factory):
    # logs.refusals_per_second 1: at most one QUEUE_FULL row per model and second.
    s = server_factory(env={"CINFER_REQUEST__QUEUE_SIZE": "1", "CINFER_SERVER__WORKERS": "16",
                            "CINFER_SERVER__INFERENCE_WORKERS": "16",
                            "CINFER_LOGS__REFUSALS_PER_SECOND": "1"})
    admin = make_admin(s)
    give_app_token(admin)
    mid = publish_new(admin, DET, "queue-full", {**DET_CONFIG, "instances": 1})
    data = sample("coffee.png").read_bytes()

    resps = fire_concurrently(16, lambda i: infer_raw(s, mid, data, "image/png"))
    codes = [r.status_code for r in resps]
    assert set(codes) <= {200, 503, 504}, f"status codes {codes}"
    assert 503 in codes, f"no 503 among 16 concurrent requests with queue_size 1: {codes}"
    assert 200 in codes, f"no request succeeded: {codes}"
    for r in resps:
        if r.status_code == 503:
            assert_error(r, 503, "QUEUE_FULL")
            ra = r.headers.get("Retry-After")
            assert ra is not None and ra.strip().isdigit() and int(ra) > 0, (
                f"503 Retry-After {ra!r}")
        elif r.status_code == 504:
            assert_error(r, 504, "TIMEOUT")
        else:
            check_result(r.json(), mid, "text_detection", "queue-full 200")
    # the queue drains: the next request succeeds
    check_result(result_ok(infer_raw(s, mid, data, "image/png")), mid, "text_detection",
                 "after the burst")

    # The inference log kept at most one refusal a second; a later refusal's row
    # counts the ones left out.
    refused = codes.count(503)
    deadline = time.monotonic() + 30
    while not _queue_full_rows(admin, mid) and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = _queue_full_rows(admin, mid)
    seconds = [r["created_at"][:19] for r in rows]
    assert rows and len(set(seconds)) == len(seconds), seconds
    # a burst's refusals come within a second or two, not one a second
    assert refused >= 3 and len(rows) < refused, (refused, seconds)
    time.sleep(1.1)  # the next refusal, in a new second, says how many were left out
    burst = fire_concurrently(16, lambda i: infer_raw(s, mid, data, "image/png"))
    assert 503 in [r.status_code for r in burst], [r.status_code for r in burst]

    def notes():
        return [r["error_message"] for r in _queue_full_rows(admin, mid)
                if "more refusals of this model" in (r["error_message"] or "")]
    while not notes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert notes(), _queue_full_rows(admin, mid)


def test_request_deadline(srv, det_id):
    big = load("astronaut.png").resize((1536, 1536), Image.BILINEAR)
    data = png(big)
    err = assert_error(infer_raw(srv, det_id, data, "image/png", params={"timeout_ms": "1"}),
                       504, "TIMEOUT")
    assert err["message"]
    r = infer_json(srv, det_id, {"image": b64(sample("coffee.png").read_bytes()),
                                 "parameters": {"timeout_ms": 1}})
    assert_error(r, 504, "TIMEOUT")
    # a generous deadline is met
    check_result(result_ok(infer_raw(srv, det_id, data, "image/png",
                                     params={"timeout_ms": "60000"})), det_id,
                 "text_detection", "timeout_ms=60000")


def _concurrent_cls(srv, mid, imgs, n=16):
    def one(i):
        return infer_raw(srv, mid, imgs[i % len(imgs)], "image/png")
    resps = fire_concurrently(n, one)
    out = []
    for i, r in enumerate(resps):
        body = result_ok(r, f"concurrent request {i}")
        out.append((body["batch_size"],
                    check_classes(check_result(body, mid, "classification", f"request {i}"),
                                  f"request {i}")))
    return out


def test_dynamic_batching(srv, cls_id, cls_batch_id):
    line = text_line()
    imgs = [png(line), png(line.rotate(180))]
    ref = [check_result(result_ok(infer_raw(srv, cls_id, d, "image/png")), cls_id,
                        "classification", "unbatched reference") for d in imgs]

    sizes = []
    for attempt in range(3):
        res = _concurrent_cls(srv, cls_batch_id, imgs)
        for i, (bs, classes) in enumerate(res):
            assert 1 <= bs <= 8, f"batch_size {bs} outside 1..max_batch_size 8"
            assert_same_classes(classes, ref[i % 2], f"batched request {i} vs unbatched", 1e-5)
        sizes += [bs for bs, _ in res]
        if max(sizes) > 1:
            break
    assert max(sizes) > 1, f"no request was batched with max_batch_size 8: {sizes}"

    # the same model without batching: always alone
    res = _concurrent_cls(srv, cls_id, imgs)
    assert [bs for bs, _ in res] == [1] * len(res), f"batch sizes with batching off: {res}"
    for i, (_, classes) in enumerate(res):
        assert_same_classes(classes, ref[i % 2], f"concurrent unbatched request {i}", 1e-5)

    # one /infer/batch request is batched too, in input order
    body = ok(infer_json(srv, cls_batch_id, {"images": [b64(imgs[i % 2]) for i in range(6)]},
                         kind="batch"), 200, "batch on a batching model")
    for i, item in enumerate(body["results"]):
        got = check_classes(check_item(item, "classification", f"batch[{i}]"), f"batch[{i}]")
        assert_same_classes(got, ref[i % 2], f"batch[{i}]", 1e-5)
