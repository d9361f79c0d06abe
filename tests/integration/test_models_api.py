"""Model management API: upload, list, get, delete.

  POST   /api/v1/internal/models        multipart: file, name, [description],
                                        [engine], [config]
  GET    /api/v1/internal/models        ?status=&engine=&name=&page=&page_size=
  GET    /api/v1/internal/models/{id}
  DELETE /api/v1/internal/models/{id}

Every failed upload must leave nothing behind: no row in `models` /
`model_versions`, no file under <data_dir>/models/ and no temp file under
<data_dir>/tmp/.  Uploads are validated in a child process, so each upload
request gets a generous timeout (slow 2-core CI machines).
"""

import hashlib
import json
import os
import re
import select
import socket
import time
import uuid
from pathlib import Path

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from conftest import (API, REPO_ROOT, assert_error, bearer, db_query,
                      make_admin)

MODELS = f"{API}/models"

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "models"
SAMPLES = REPO_ROOT / "models" / "samples"

CLS = SAMPLES / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
DET = SAMPLES / "ch_PP-OCRv4_det_infer.onnx"
TINY_ONNX = FIXTURES / "tiny_classifier.onnx"
TINY_PT = FIXTURES / "tiny_classifier.pt"
RANDOM_BIN = FIXTURES / "random.bin"
EMPTY_ONNX = FIXTURES / "empty.onnx"

UPLOAD_TIMEOUT_S = 60     # validation spawns a child process
CLEANUP_WAIT_S = 45       # how long a server may take to drop an aborted upload

ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def need(path):
    if not Path(path).is_file():
        pytest.skip(f"{path} missing (scripts/fetch-sample-models.sh)")
    return Path(path)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(admin, content, name, filename="model.onnx", engine=None,
           description=None, config=None, token=None, extra=None,
           timeout=UPLOAD_TIMEOUT_S):
    """POST a multipart upload.  content: bytes or a Path.  config: a dict
    (sent as JSON text) or a str (sent verbatim)."""
    if isinstance(content, Path):
        content = content.read_bytes()
    data = {}
    if name is not None:
        data["name"] = name
    if description is not None:
        data["description"] = description
    if engine is not None:
        data["engine"] = engine
    if config is not None:
        data["config"] = config if isinstance(config, str) else json.dumps(config)
    if extra:
        data.update(extra)
    files = {"file": (filename, content, "application/octet-stream")}
    headers = bearer(admin.token if token is None else token)
    return admin.server.post(MODELS, data=data, files=files, headers=headers,
                             timeout=timeout)


def upload_ok(admin, content, name, **kw):
    r = upload(admin, content, name, **kw)
    assert r.status_code == 201, (
        f"upload of {name!r} failed: {r.status_code} {r.text[:1000]!r}")
    return r.json()


def list_models(admin, **params):
    return admin.server.get(MODELS, params=params, headers=bearer(admin.token))


def get_model(admin, model_id):
    return admin.server.get(f"{MODELS}/{model_id}", headers=bearer(admin.token))


def delete_model(admin, model_id):
    return admin.server.request("DELETE", f"{MODELS}/{model_id}",
                                headers=bearer(admin.token))


def _tree(root: Path):
    """Relative paths of every file and directory below root (empty set if
    root does not exist)."""
    if not root.exists():
        return set()
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


def _db_ids(server, table):
    if not (server.data_dir / "cinfer.db").exists():
        return set()
    return {row[0] for row in db_query(server.data_dir, f"SELECT id FROM {table}")}


def snapshot(server):
    d = server.data_dir
    return {
        "models_rows": _db_ids(server, "models"),
        "version_rows": _db_ids(server, "model_versions"),
        "models_tree": _tree(d / "models"),
        "tmp_tree": _tree(d / "tmp"),
    }


def _diff(before, after):
    problems = []
    for key in ("models_rows", "version_rows", "models_tree", "tmp_tree"):
        new = after[key] - before[key]
        if new:
            problems.append(f"{key}: new {sorted(new)}")
    return problems


def assert_no_leftovers(server, before, wait_s=5.0):
    """Nothing new in the DB tables, <data_dir>/models or <data_dir>/tmp.
    Temp files are given a short grace period (the response may be sent just
    before the temp file is unlinked)."""
    deadline = time.monotonic() + wait_s
    while True:
        problems = _diff(before, snapshot(server))
        if not problems or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    assert not problems, "failed upload left something behind: " + "; ".join(problems)


def stored_versions(server, model_id):
    return db_query(server.data_dir,
                    "SELECT version, file_path, size_bytes, sha256, original_filename "
                    "FROM model_versions WHERE model_id = ? ORDER BY version",
                    (model_id,))


def resolve_stored(server, file_path):
    p = Path(file_path)
    if not p.is_absolute():
        # accept a path relative to data_dir or to the models directory
        for base in (server.data_dir, server.data_dir / "models"):
            if (base / p).exists():
                return (base / p)
        return server.data_dir / p
    return p


def is_under(path: Path, root: Path):
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
        return True
    except ValueError:
        return False


def admin_identity(admin):
    """Values acceptable as created_by / audit actor: the admin's user id or
    username."""
    return {admin.setup_body.get("id"), admin.username} - {None}


# ---- raw HTTP (malformed / oversized uploads) ------------------------------

class RawResponse:
    """Enough of requests.Response for conftest.assert_error."""

    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = headers
        self.content = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


def build_multipart(fields, file_part=None, boundary=None, close=True):
    """fields: [(name, value)], file_part: (filename, bytes) or None."""
    boundary = boundary or f"----cinfer-test-{uuid.uuid4().hex}"
    out = bytearray()
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() if isinstance(value, str) else value
        out += b"\r\n"
    if file_part is not None:
        filename, content = file_part
        out += f"--{boundary}\r\n".encode()
        out += (f'Content-Disposition: form-data; name="file"; '
                f'filename="{filename}"\r\n').encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n"
        out += content
        out += b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _parse_response(buf: bytes):
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = CaseInsensitiveDict()
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip()] = v.strip()
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        body = bytearray()
        while True:
            size_line, sep, rest2 = rest.partition(b"\r\n")
            if not sep:
                return None
            size = int(size_line.split(b";")[0], 16)
            if len(rest2) < size + 2:
                return None
            if size == 0:
                return RawResponse(status, headers, bytes(body))
            body += rest2[:size]
            rest = rest2[size + 2:]
    n = int(headers.get("Content-Length", "0"))
    if len(rest) < n:
        return None
    return RawResponse(status, headers, rest[:n])


def raw_request(server, method, path, headers, body=b"", timeout=UPLOAD_TIMEOUT_S,
                send_limit=None, close_after_send=False):
    """Send a request over a plain socket and read the response.  The server
    may answer (e.g. 413) before the whole body has been sent: sending stops
    as soon as a response arrives or the peer stops reading; a send error is
    not a failure as long as a complete response is read back.

    send_limit: send only that many body bytes.  close_after_send: close the
    connection after sending (no response is read; returns None)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
    hdrs = {"Connection": "close", **headers}
    if "Content-Length" not in hdrs:
        hdrs["Content-Length"] = str(len(body))
    for k, v in hdrs.items():
        head += f"{k}: {v}\r\n"
    head += "\r\n"
    payload = head.encode() + (body if send_limit is None else body[:send_limit])

    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    try:
        deadline = time.monotonic() + timeout
        sent = 0
        received = bytearray()
        send_error = None
        eof = False
        sock.setblocking(False)
        while time.monotonic() < deadline:
            want_write = sent < len(payload) and send_error is None
            if not want_write and close_after_send:
                return None
            r, w, _ = select.select([sock], [sock] if want_write else [], [], 0.5)
            if r:
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError) as e:
                    send_error = send_error or e
                    eof = True
                    chunk = b""
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    eof = True
                elif chunk:
                    received += chunk
                resp = _parse_response(bytes(received))
                if resp is not None:
                    return resp
                if eof:
                    break
            if w and want_write:
                try:
                    n = sock.send(payload[sent:sent + 65536])
                    sent += n
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError) as e:
                    send_error = e
        raise AssertionError(
            f"no complete HTTP response (sent {sent}/{len(payload)} bytes, "
            f"send error {send_error!r}, eof={eof}, received "
            f"{bytes(received[:500])!r})")
    finally:
        sock.close()


def raw_upload(admin, fields, file_part, close=True, timeout=UPLOAD_TIMEOUT_S):
    body, ctype = build_multipart(fields, file_part, close=close)
    return raw_request(admin.server, "POST", MODELS,
                       {"Content-Type": ctype, **bearer(admin.token)}, body,
                       timeout=timeout)


# ---- model shape ------------------------------------------------------------

MODEL_KEYS = ("id", "name", "description", "engine", "status", "status_reason",
              "current_version", "served_version", "versions", "io_schema",
              "config", "created_by", "created_at", "updated_at")
VERSION_KEYS = ("version", "size_bytes", "sha256", "original_filename",
                "created_by", "created_at")


def check_model_shape(m):
    assert isinstance(m, dict), m
    missing = [k for k in MODEL_KEYS if k not in m]
    assert not missing, f"model lacks {missing}: {m}"
    assert isinstance(m["id"], str) and m["id"], m
    assert isinstance(m["versions"], list) and m["versions"], m
    for v in m["versions"]:
        vmissing = [k for k in VERSION_KEYS if k not in v]
        assert not vmissing, f"version lacks {vmissing}: {v}"
    assert isinstance(m["io_schema"], dict), m
    assert isinstance(m["io_schema"].get("inputs"), list), m
    assert isinstance(m["io_schema"].get("outputs"), list), m
    assert isinstance(m["config"], dict), m


def check_new_model(m, admin, *, name, content: bytes, filename, engine,
                    description=None):
    check_model_shape(m)
    who = admin_identity(admin)
    assert m["name"] == name
    if description is None:
        assert m["description"] in ("", None), m["description"]
    else:
        assert m["description"] == description
    assert m["engine"] == engine
    assert m["status"] == "draft"
    assert m["status_reason"] is None
    assert m["current_version"] == 1
    assert m["served_version"] is None
    assert m["created_by"] in who, f"created_by {m['created_by']!r} not in {who}"
    for k in ("created_at", "updated_at"):
        assert isinstance(m[k], str) and ISO_RE.match(m[k]), f"{k}={m[k]!r}"
    assert len(m["versions"]) == 1, m["versions"]
    v = m["versions"][0]
    assert v["version"] == 1
    assert v["size_bytes"] == len(content)
    assert not isinstance(v["size_bytes"], bool)
    assert v["sha256"] == sha256_hex(content)
    assert v["original_filename"] == filename
    assert v["created_by"] in who, f"versions[0].created_by {v['created_by']!r}"
    assert isinstance(v["created_at"], str) and ISO_RE.match(v["created_at"])


def check_stored_file(server, model, content: bytes):
    rows = stored_versions(server, model["id"])
    assert len(rows) == 1, rows
    version, file_path, size, digest, _orig = rows[0]
    assert version == 1
    assert size == len(content)
    assert digest == sha256_hex(content)
    assert ".." not in Path(file_path).parts, file_path
    p = resolve_stored(server, file_path)
    assert is_under(p, server.data_dir / "models"), (
        f"model file {file_path!r} is not under {server.data_dir / 'models'}")
    assert p.is_file(), f"stored model file {p} missing"
    assert sha256_hex(p.read_bytes()) == sha256_hex(content)
    return p


# --------------------------------------------------------------------------
# authentication
# --------------------------------------------------------------------------

def test_models_require_admin_jwt(admin):
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    before = snapshot(s)
    r = s.post(MODELS, data={"name": "noauth"},
               files={"file": ("m.onnx", tiny, "application/octet-stream")},
               timeout=UPLOAD_TIMEOUT_S)
    assert_error(r, 401, "UNAUTHENTICATED")
    r = s.post(MODELS, data={"name": "badauth"},
               files={"file": ("m.onnx", tiny, "application/octet-stream")},
               headers=bearer("not.a.jwt"), timeout=UPLOAD_TIMEOUT_S)
    assert_error(r, 401, "UNAUTHENTICATED")
    assert_no_leftovers(s, before)

    m = upload_ok(admin, tiny, "authed", filename="tiny.onnx")
    assert_error(s.get(MODELS), 401, "UNAUTHENTICATED")
    assert_error(s.get(f"{MODELS}/{m['id']}"), 401, "UNAUTHENTICATED")
    assert_error(s.request("DELETE", f"{MODELS}/{m['id']}"), 401, "UNAUTHENTICATED")
    # the unauthenticated DELETE did nothing
    assert get_model(admin, m["id"]).status_code == 200


# --------------------------------------------------------------------------
# happy paths
# --------------------------------------------------------------------------

def test_upload_cls_onnx(admin):
    s = admin.server
    content = need(CLS).read_bytes()
    filename = CLS.name
    desc = "PP-OCR text direction classifier"
    r = upload(admin, content, "ppocr-cls", filename=filename, description=desc)
    assert r.status_code == 201, f"{r.status_code} {r.text[:1000]!r}"
    assert "json" in r.headers.get("Content-Type", "").lower()
    m = r.json()
    check_new_model(m, admin, name="ppocr-cls", content=content,
                    filename=filename, engine="onnxruntime", description=desc)

    inputs = m["io_schema"]["inputs"]
    outputs = m["io_schema"]["outputs"]
    assert len(inputs) == 1, inputs
    assert inputs[0]["name"] == "x"
    assert inputs[0]["datatype"] == "FP32"
    assert inputs[0]["shape"] == [-1, 3, -1, -1]
    assert len(outputs) == 1, outputs
    assert isinstance(outputs[0]["name"], str) and outputs[0]["name"]
    assert outputs[0]["datatype"] == "FP32"
    assert outputs[0]["shape"] == [-1, 2]

    # GET returns the same model
    g = get_model(admin, m["id"])
    assert g.status_code == 200, g.text
    assert g.json() == m

    # the database and the file on disk agree
    rows = db_query(s.data_dir,
                    "SELECT name, engine_type, status FROM models WHERE id = ?",
                    (m["id"],))
    assert rows == [("ppocr-cls", "onnxruntime", "draft")], rows
    check_stored_file(s, m, content)
    # no temp files remain once the upload has been committed
    tmp_files = [p for p in _tree(s.data_dir / "tmp")
                 if (s.data_dir / "tmp" / p).is_file()]
    assert not tmp_files, f"temp files left after a successful upload: {tmp_files}"


@pytest.mark.parametrize("engine", [None, "libtorch"])
def test_upload_torchscript(admin, engine):
    s = admin.server
    content = need(TINY_PT).read_bytes()
    m = upload_ok(admin, content, "tiny-torch", filename="tiny_classifier.pt",
                  engine=engine)
    check_new_model(m, admin, name="tiny-torch", content=content,
                    filename="tiny_classifier.pt", engine="libtorch")
    inputs = m["io_schema"]["inputs"]
    outputs = m["io_schema"]["outputs"]
    assert [i["name"] for i in inputs] == ["input"], inputs
    assert inputs[0]["datatype"] == "FP32"
    assert len(outputs) == 1 and outputs[0]["datatype"] == "FP32", outputs
    check_stored_file(s, m, content)


def test_upload_with_valid_config(admin):
    s = admin.server
    content = need(TINY_ONNX).read_bytes()
    config = {
        "input_shapes": {"input": [1, 3, 32, 32]},
        "max_batch_size": 8,
        "instances": 2,
        "warmup_iterations": 3,
        "engine_options": {"threads": 1},
        "dynamic_batching": {"max_queue_delay_us": 500},
    }
    m = upload_ok(admin, content, "tiny-configured", filename="tiny.onnx",
                  engine="onnxruntime", config=config)
    check_new_model(m, admin, name="tiny-configured", content=content,
                    filename="tiny.onnx", engine="onnxruntime")
    for k, v in config.items():
        assert m["config"].get(k) == v, f"config[{k!r}] = {m['config'].get(k)!r}, sent {v!r}"
    g = get_model(admin, m["id"])
    assert g.status_code == 200, g.text
    assert g.json()["config"] == m["config"]
    check_stored_file(s, m, content)


def test_name_of_128_chars_accepted(admin):
    content = need(TINY_ONNX).read_bytes()
    name = "n" * 128
    m = upload_ok(admin, content, name, filename="tiny.onnx")
    assert m["name"] == name


# --------------------------------------------------------------------------
# list / filter / paginate
# --------------------------------------------------------------------------

def test_list_filter_and_paginate(admin):
    tiny = need(TINY_ONNX).read_bytes()
    pt = need(TINY_PT).read_bytes()

    r = list_models(admin)
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b.get("items"), b.get("total"), b.get("page"), b.get("page_size")) == (
        [], 0, 1, 20), b

    uploaded = []   # oldest first
    for name in ("alpha-one", "alpha-two", "beta-three"):
        uploaded.append(upload_ok(admin, tiny, name, filename=f"{name}.onnx"))
        time.sleep(1.1)   # distinct created_at even at 1 s resolution
    uploaded.append(upload_ok(admin, pt, "gamma-torch", filename="tiny.pt"))
    newest_first = [m["id"] for m in reversed(uploaded)]
    by_id = {m["id"]: m for m in uploaded}

    r = list_models(admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 4, body
    assert body["page"] == 1 and body["page_size"] == 20, body
    assert [m["id"] for m in body["items"]] == newest_first, (
        [m["name"] for m in body["items"]])
    for item in body["items"]:
        check_model_shape(item)
        assert item["name"] == by_id[item["id"]]["name"]
        assert item["versions"][0]["sha256"] == by_id[item["id"]]["versions"][0]["sha256"]

    # pagination
    r = list_models(admin, page_size=2)
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b["total"], b["page"], b["page_size"]) == (4, 1, 2), b
    assert [m["id"] for m in b["items"]] == newest_first[:2]
    r = list_models(admin, page=2, page_size=2)
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b["total"], b["page"], b["page_size"]) == (4, 2, 2), b
    assert [m["id"] for m in b["items"]] == newest_first[2:]
    r = list_models(admin, page=2, page_size=3)
    b = r.json()
    assert (b["total"], b["page"], b["page_size"]) == (4, 2, 3), b
    assert [m["id"] for m in b["items"]] == newest_first[3:]
    r = list_models(admin, page=3, page_size=2)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["items"] == [] and b["total"] == 4 and b["page"] == 3, b
    r = list_models(admin, page_size=100)
    assert r.status_code == 200, r.text
    assert r.json()["page_size"] == 100 and len(r.json()["items"]) == 4

    def names(**params):
        r = list_models(admin, **params)
        assert r.status_code == 200, f"{params}: {r.status_code} {r.text[:500]}"
        b = r.json()
        assert b["total"] == len(b["items"]), b
        return [m["name"] for m in b["items"]]

    # name: substring match
    assert names(name="alpha") == ["alpha-two", "alpha-one"]
    assert names(name="three") == ["beta-three"]
    assert names(name="-t") == ["gamma-torch", "beta-three", "alpha-two"]
    assert names(name="no-such-model") == []
    # engine
    assert names(engine="libtorch") == ["gamma-torch"]
    assert names(engine="onnxruntime") == ["beta-three", "alpha-two", "alpha-one"]
    assert names(engine="opencv") == []
    # status
    assert names(status="draft") == ["gamma-torch", "beta-three", "alpha-two", "alpha-one"]
    # combined
    assert names(engine="onnxruntime", name="beta") == ["beta-three"]
    assert names(engine="libtorch", name="alpha") == []
    # filter + pagination: total counts the filtered set
    r = list_models(admin, engine="onnxruntime", page_size=1, page=2)
    b = r.json()
    assert b["total"] == 3 and [m["name"] for m in b["items"]] == ["alpha-two"], b


@pytest.mark.parametrize("params", [
    {"page": 0}, {"page": -1}, {"page": "x"}, {"page": ""},
    {"page_size": 0}, {"page_size": -1}, {"page_size": "x"},
    {"page_size": 1000}, {"page_size": 101},
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_list_bad_pagination(admin, params):
    r = list_models(admin, **params)
    assert_error(r, 400, "BAD_REQUEST")


# --------------------------------------------------------------------------
# get / delete
# --------------------------------------------------------------------------

def test_get_and_delete(admin):
    s = admin.server
    content = need(TINY_ONNX).read_bytes()
    before = snapshot(s)
    m = upload_ok(admin, content, "to-delete", filename="tiny.onnx")
    keep = upload_ok(admin, content, "to-keep", filename="tiny.onnx")
    stored = check_stored_file(s, m, content)
    kept_file = check_stored_file(s, keep, content)

    r = get_model(admin, m["id"])
    assert r.status_code == 200, r.text
    assert r.json()["id"] == m["id"] and r.json()["name"] == "to-delete"

    r = delete_model(admin, m["id"])
    assert r.status_code == 204, f"{r.status_code} {r.text[:500]!r}"
    assert r.content == b""

    assert_error(get_model(admin, m["id"]), 404, "MODEL_NOT_FOUND")
    ids = [x["id"] for x in list_models(admin).json()["items"]]
    assert ids == [keep["id"]], ids

    assert db_query(s.data_dir, "SELECT id FROM models WHERE id = ?", (m["id"],)) == []
    assert db_query(s.data_dir, "SELECT id FROM model_versions WHERE model_id = ?",
                    (m["id"],)) == []
    assert not stored.exists(), f"{stored} still exists after DELETE"
    models_root = s.data_dir / "models"
    # the model's own directory (the stored file's parent, when it is not the
    # models root itself) is gone, and nothing under models/ names the model
    if stored.parent.resolve() != models_root.resolve():
        assert not stored.parent.exists(), f"{stored.parent} still exists"
    leftovers = [p for p in _tree(models_root) if m["id"] in p]
    assert not leftovers, leftovers
    # the kept model is untouched
    assert get_model(admin, keep["id"]).status_code == 200
    assert kept_file.is_file()

    # deleting again -> 404
    assert_error(delete_model(admin, m["id"]), 404, "MODEL_NOT_FOUND")

    # deleting the last one leaves the tree as before the uploads
    assert delete_model(admin, keep["id"]).status_code == 204
    after = snapshot(s)
    assert after["models_rows"] == before["models_rows"]
    assert after["version_rows"] == before["version_rows"]
    new_files = {p for p in after["models_tree"] - before["models_tree"]
                 if (models_root / p).is_file()}
    assert not new_files, new_files


@pytest.mark.parametrize("model_id", [
    "00000000-0000-0000-0000-000000000000", "does-not-exist",
    "5f0c7c1e9a4b4d2c8e1f3a6b7c8d9e0f"])
def test_unknown_model_404(admin, model_id):
    assert_error(get_model(admin, model_id), 404, "MODEL_NOT_FOUND")
    assert_error(delete_model(admin, model_id), 404, "MODEL_NOT_FOUND")


# --------------------------------------------------------------------------
# rejected uploads (each must leave nothing behind)
# --------------------------------------------------------------------------

def test_upload_not_multipart(admin):
    s = admin.server
    before = snapshot(s)
    h = bearer(admin.token)
    r = s.post(MODELS, json={"name": "json-body"}, headers=h)
    assert_error(r, 400, "BAD_REQUEST")
    r = s.post(MODELS, data=need(TINY_ONNX).read_bytes(),
               headers={**h, "Content-Type": "application/octet-stream"},
               timeout=UPLOAD_TIMEOUT_S)
    assert_error(r, 400, "BAD_REQUEST")
    # multipart content type without a boundary
    r = s.post(MODELS, data=b"whatever",
               headers={**h, "Content-Type": "multipart/form-data"})
    assert_error(r, 400, "BAD_REQUEST")
    assert_no_leftovers(s, before)


def test_upload_missing_file_part(admin):
    s = admin.server
    before = snapshot(s)
    # requests only sends multipart when files= is given: use a non-file part
    r = s.post(MODELS, files={"name": (None, "no-file")},
               headers=bearer(admin.token))
    assert_error(r, 400, "BAD_REQUEST")
    r = raw_upload(admin, [("name", "no-file"), ("description", "d")], None)
    assert_error(r, 400, "BAD_REQUEST")
    assert_no_leftovers(s, before)


def test_upload_missing_name(admin):
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(TINY_ONNX), None, filename="tiny.onnx")
    assert_error(r, 400, "BAD_REQUEST")
    assert_no_leftovers(s, before)


@pytest.mark.parametrize("name", ["", "x" * 129])
def test_upload_bad_name_length(admin, name):
    """The contract does not pin the code for an out-of-range name; it must be
    a client error in the standard envelope and leave nothing behind."""
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(TINY_ONNX), name, filename="tiny.onnx")
    assert r.status_code in (400, 422), f"{r.status_code} {r.text[:500]!r}"
    assert_error(r, r.status_code,
                 "BAD_REQUEST" if r.status_code == 400 else "VALIDATION_FAILED")
    assert_no_leftovers(s, before)


def test_upload_truncated_multipart(admin):
    """A Content-Length-correct body whose closing boundary is missing."""
    s = admin.server
    before = snapshot(s)
    content = need(CLS).read_bytes()
    r = raw_upload(admin, [("name", "truncated")], ("cls.onnx", content), close=False)
    assert_error(r, 400, "BAD_REQUEST")
    # cut in the middle of the file data as well
    body, ctype = build_multipart([("name", "truncated2")], ("cls.onnx", content))
    cut = body[:len(body) // 2]
    r = raw_request(s, "POST", MODELS, {"Content-Type": ctype, **bearer(admin.token)},
                    cut)
    assert_error(r, 400, "BAD_REQUEST")
    assert_no_leftovers(s, before)
    assert s.get("/health/live").status_code == 200


def test_upload_client_disconnects_mid_body(admin):
    """The client announces the full Content-Length, sends half and hangs up:
    the partial temp file must be removed and nothing committed."""
    s = admin.server
    before = snapshot(s)
    content = need(CLS).read_bytes()
    body, ctype = build_multipart([("name", "aborted")], ("cls.onnx", content))
    raw_request(s, "POST", MODELS,
                {"Content-Type": ctype, "Content-Length": str(len(body)),
                 **bearer(admin.token)},
                body, send_limit=len(body) // 2, close_after_send=True)
    assert_no_leftovers(s, before, wait_s=CLEANUP_WAIT_S)
    assert s.get("/health/live").status_code == 200
    # and the server still accepts a proper upload under the same name
    upload_ok(admin, content, "aborted", filename="cls.onnx")


def test_upload_empty_file(admin):
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(EMPTY_ONNX).read_bytes(), "empty", filename="empty.onnx")
    assert_error(r, 422, "MODEL_REJECTED")
    assert_no_leftovers(s, before)


def test_upload_random_bytes(admin):
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(RANDOM_BIN), "random", filename="random.onnx")
    err = assert_error(r, 422, "MODEL_REJECTED")
    assert len(err["message"].strip()) >= 5, err
    # same with the original .bin name and with every engine forced
    r = upload(admin, RANDOM_BIN, "random2", filename="random.bin")
    assert_error(r, 422, "MODEL_REJECTED")
    for engine in ("onnxruntime", "libtorch", "opencv"):
        r = upload(admin, RANDOM_BIN, f"random-{engine}", filename="random.bin",
                   engine=engine)
        assert_error(r, 422, "MODEL_REJECTED")
    assert_no_leftovers(s, before)


def test_upload_torchscript_as_onnx_rejected(admin):
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(TINY_PT), "pt-as-onnx", filename="tiny_classifier.pt",
               engine="onnxruntime")
    assert_error(r, 422, "MODEL_REJECTED")
    assert_no_leftovers(s, before)


def test_upload_unknown_engine(admin):
    """Not pinned by the contract: a client error in the standard envelope."""
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(TINY_ONNX), "bad-engine", filename="tiny.onnx",
               engine="tensorflow")
    assert r.status_code in (400, 422), f"{r.status_code} {r.text[:500]!r}"
    assert_error(r, r.status_code,
                 "BAD_REQUEST" if r.status_code == 400 else "VALIDATION_FAILED")
    assert_no_leftovers(s, before)


def test_upload_duplicate_name(admin):
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    first = upload_ok(admin, tiny, "dup-name", filename="tiny.onnx")
    before = snapshot(s)
    r = upload(admin, tiny, "dup-name", filename="tiny.onnx")
    assert_error(r, 409, "MODEL_NAME_TAKEN")
    # a different file with the same name is refused too
    r = upload(admin, need(TINY_PT), "dup-name", filename="tiny.pt")
    assert_error(r, 409, "MODEL_NAME_TAKEN")
    assert_no_leftovers(s, before)
    b = list_models(admin).json()
    assert b["total"] == 1 and b["items"][0]["id"] == first["id"], b


@pytest.mark.parametrize("config", [
    "not json", "{", "{'single': 1}", '{"max_batch_size": 1,}',
], ids=["text", "open-brace", "single-quotes", "trailing-comma"])
def test_upload_config_not_json(admin, config):
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(TINY_ONNX), "bad-config", filename="tiny.onnx",
               config=config)
    assert_error(r, 422, "VALIDATION_FAILED")
    assert_no_leftovers(s, before)


@pytest.mark.parametrize("config", ["[1, 2]", "42", '"text"', "null"],
                         ids=["array", "number", "string", "null"])
def test_upload_config_not_an_object(admin, config):
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(TINY_ONNX), "bad-config", filename="tiny.onnx",
               config=config)
    assert_error(r, 422, "VALIDATION_FAILED")
    assert_no_leftovers(s, before)


def test_upload_config_unknown_field(admin):
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(TINY_ONNX), "bogus-config", filename="tiny.onnx",
               config={"bogus": 1})
    err = assert_error(r, 422, "VALIDATION_FAILED")
    assert "bogus" in err["message"], err
    r = upload(admin, TINY_ONNX, "bogus-config", filename="tiny.onnx",
               config={"max_batch_size": 2, "zzz_unknown_key": True})
    err = assert_error(r, 422, "VALIDATION_FAILED")
    assert "zzz_unknown_key" in err["message"], err
    assert_no_leftovers(s, before)


# (config, names any of which the error message must contain)
BAD_CONFIGS = [
    ({"max_batch_size": "x"}, ["max_batch_size"]),
    ({"max_batch_size": -1}, ["max_batch_size"]),
    ({"max_batch_size": 1.5}, ["max_batch_size"]),
    ({"instances": -1}, ["instances"]),  # 0 is valid: sized from the machine
    ({"instances": 65}, ["instances"]),
    ({"instances": "2"}, ["instances"]),
    ({"warmup_iterations": -1}, ["warmup_iterations"]),
    ({"engine_options": {"threads": "x"}}, ["engine_options", "threads"]),
    ({"engine_options": 3}, ["engine_options"]),
    ({"dynamic_batching": {"max_queue_delay_us": -5}},
     ["dynamic_batching", "max_queue_delay_us"]),
    ({"dynamic_batching": "fast"}, ["dynamic_batching"]),
    ({"input_shapes": {"input": [0, 3, 32, 32]}}, ["input_shapes"]),
    ({"input_shapes": {"input": [-1, 3, 32, 32]}}, ["input_shapes"]),
    ({"input_shapes": {"input": "1x3x32x32"}}, ["input_shapes"]),
    ({"input_shapes": [1, 3, 32, 32]}, ["input_shapes"]),
    ({"input": "nope"}, ["input"]),
    ({"output": 5}, ["output"]),
]


@pytest.mark.parametrize("config,fields", BAD_CONFIGS,
                         ids=[json.dumps(c, separators=(",", ":")) for c, _ in BAD_CONFIGS])
def test_upload_config_wrong_type(admin, config, fields):
    s = admin.server
    before = snapshot(s)
    r = upload(admin, need(TINY_ONNX), "typed-config", filename="tiny.onnx",
               config=config)
    err = assert_error(r, 422, "VALIDATION_FAILED")
    assert any(f in err["message"] for f in fields), (
        f"message does not name any of {fields}: {err['message']!r}")
    assert_no_leftovers(s, before)


def test_upload_too_large(server_factory):
    s = server_factory(env={"CINFER_MODELS__MAX_FILE_SIZE_MB": "1"})
    admin = make_admin(s)
    before = snapshot(s)
    det = need(DET).read_bytes()
    assert len(det) > 1024 * 1024

    r = raw_upload(admin, [("name", "det-too-big")], ("det.onnx", det))
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    assert_no_leftovers(s, before)

    blob = os.urandom(3 * 1024 * 1024)
    r = raw_upload(admin, [("name", "blob-too-big")], ("blob.bin", blob))
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    assert_no_leftovers(s, before)

    # just over the limit (a request-body limit with some slack for the form
    # fields must not let the file itself exceed max_file_size_mb)
    blob = os.urandom(1024 * 1024 + 4096)
    r = raw_upload(admin, [("name", "blob-just-over")], ("blob.bin", blob))
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    assert_no_leftovers(s, before)

    # the same through requests (it may see the early answer or a reset;
    # the server must still be fine afterwards)
    try:
        r = upload(admin, det, "det-too-big-2", filename="det.onnx")
        assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    except requests.ConnectionError:
        pass
    assert_no_leftovers(s, before)

    assert s.get("/health/live").status_code == 200
    # a model under the limit is still accepted
    cls = need(CLS).read_bytes()
    assert len(cls) < 1024 * 1024
    m = upload_ok(admin, cls, "cls-fits", filename="cls.onnx")
    assert m["versions"][0]["sha256"] == sha256_hex(cls)


def test_upload_path_traversal_filename(admin, tmp_path):
    s = admin.server
    content = need(CLS).read_bytes()
    fname = "../../etc/passwd"

    def outside_files():
        """Every file below the test's tmp dir that is not in data_dir."""
        out = set()
        for p in _tree(tmp_path):
            full = tmp_path / p
            if full.is_file() and not is_under(full, s.data_dir):
                out.add(p)
        return out

    def data_files_outside_models():
        out = set()
        for p in _tree(s.data_dir):
            full = s.data_dir / p
            if (full.is_file() and not is_under(full, s.data_dir / "models")
                    and not is_under(full, s.data_dir / "tmp")
                    and not p.startswith("cinfer.db")):
                out.add(p)
        return out

    before_outside = outside_files()
    before_data = data_files_outside_models()

    m = upload_ok(admin, content, "traversal", filename=fname)
    assert m["versions"][0]["original_filename"] == fname
    assert m["versions"][0]["sha256"] == sha256_hex(content)

    rows = stored_versions(s, m["id"])
    assert len(rows) == 1, rows
    file_path = rows[0][1]
    assert ".." not in file_path, f"model_versions.file_path {file_path!r} contains '..'"
    assert rows[0][4] == fname
    p = check_stored_file(s, m, content)
    if Path(file_path).is_absolute():
        assert is_under(Path(file_path), s.data_dir / "models"), file_path

    new_outside = outside_files() - before_outside
    assert not new_outside, f"files written outside data_dir: {sorted(new_outside)}"
    new_data = data_files_outside_models() - before_data
    assert not new_data, f"files written in data_dir outside models/: {sorted(new_data)}"
    # where "../../etc/passwd" would land relative to the likely bases
    for base in (s.data_dir / "models", s.data_dir / "tmp", s.data_dir,
                 s.workdir, tmp_path):
        target = Path(os.path.normpath(base / fname))
        if target.exists():
            assert target.read_bytes() != content, f"model written to {target}"


# --------------------------------------------------------------------------
# persistence and audit
# --------------------------------------------------------------------------

def test_models_survive_restart(admin):
    s = admin.server
    cls = need(CLS).read_bytes()
    pt = need(TINY_PT).read_bytes()
    a = upload_ok(admin, cls, "persist-cls", filename="cls.onnx")
    b = upload_ok(admin, pt, "persist-pt", filename="tiny.pt")

    s.restart()
    admin.token = s.login_token(admin.username, admin.password)

    r = list_models(admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2, body
    got = {m["id"]: m for m in body["items"]}
    assert set(got) == {a["id"], b["id"]}
    for orig in (a, b):
        m = got[orig["id"]]
        assert m["name"] == orig["name"]
        assert m["engine"] == orig["engine"]
        assert m["versions"][0]["sha256"] == orig["versions"][0]["sha256"]
        assert m["versions"][0]["size_bytes"] == orig["versions"][0]["size_bytes"]
        assert m["io_schema"] == orig["io_schema"]
        g = get_model(admin, orig["id"])
        assert g.status_code == 200, g.text
        assert g.json()["versions"][0]["sha256"] == orig["versions"][0]["sha256"]
    check_stored_file(s, a, cls)
    check_stored_file(s, b, pt)
    # names are still taken after the restart
    assert_error(upload(admin, cls, "persist-cls", filename="cls.onnx"),
                 409, "MODEL_NAME_TAKEN")


def test_audit_entries(admin):
    s = admin.server
    who = admin_identity(admin)
    m = upload_ok(admin, need(TINY_ONNX), "audited", filename="tiny.onnx")
    # a failed upload is not audited as a creation
    upload(admin, RANDOM_BIN, "audited-bad", filename="random.bin")
    r = delete_model(admin, m["id"])
    assert r.status_code == 204, r.text

    rows = db_query(s.data_dir,
                    "SELECT actor, action, object_type, object_id FROM audit_log "
                    "WHERE action LIKE 'model.%' ORDER BY id")
    created = [row for row in rows if row[1] == "model.create"]
    deleted = [row for row in rows if row[1] == "model.delete"]
    assert len(created) == 1, rows
    assert len(deleted) == 1, rows
    for actor, _action, object_type, object_id in created + deleted:
        assert object_type == "model", rows
        assert object_id == m["id"], rows
        assert actor in who, f"audit actor {actor!r} not in {who}"
    assert rows.index(created[0]) < rows.index(deleted[0])


def _rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_large_upload_streams_to_disk(server_factory):
    """A 200 MB upload raises the server's RSS by less than 30 MB: the body is
    streamed to disk and parsed in chunks, never held in memory.  (A resource
    bound, not a timing.)  The bytes are not a model, so the upload ends in 422
    and leaves nothing behind."""
    s = server_factory(env={"CINFER_MODELS__MAX_FILE_SIZE_MB": "300"})
    admin = make_admin(s)
    boundary = "cinfer-test-" + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nbig\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = os.urandom(1 << 20)
    size = 200 << 20

    def body():
        yield head
        for _ in range(size >> 20):
            yield chunk
        yield tail

    before_tree = snapshot(s)
    rss_before = _rss_kb(s.proc.pid)
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=600)
    conn.request("POST", MODELS, body=body(), headers={
        **bearer(admin.token),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + size + len(tail))})
    resp = conn.getresponse()
    status, payload = resp.status, json.loads(resp.read())
    conn.close()
    rss_after = _rss_kb(s.proc.pid)
    assert status == 422, payload
    assert payload["error"]["code"] == "MODEL_REJECTED", payload
    growth_mb = (rss_after - rss_before) / 1024
    assert growth_mb < 30, f"RSS grew by {growth_mb:.1f} MB during a 200 MB upload"
    assert_no_leftovers(s, before_tree)
