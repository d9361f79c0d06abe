"""Multi-file model uploads (docs/ENGINES.md, api/openapi.yaml uploadModel): one archive
(.zip, .tar, .tar.gz) or several `file` parts, arranged by content into the version's
folder. Hostile archives are refused with a 4xx JSON error and leave nothing behind:
no row, nothing under <data_dir>/models or <data_dir>/tmp."""

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from conftest import CLS_CONFIG, REPO_ROOT, assert_error, bearer, give_app_token
from test_inference_api import check_result, infer_png, result_ok
from test_model_lifecycle import list_versions, ok, publish_ok, run_ok, unpublish_ok
from test_models_api import MODELS, assert_no_leftovers, delete_model, snapshot

UPLOAD_TIMEOUT_S = 120

# A tiny IR by hand: one Const whose 8 bytes of weights live in the .bin.
IR_XML = b"""<?xml version="1.0"?>
<net name="tiny" version="11">
  <layers>
    <layer id="0" name="w" type="Const" version="opset1">
      <data element_type="f32" shape="2" offset="0" size="8"/>
      <output><port id="0" precision="FP32"><dim>2</dim></port></output>
    </layer>
    <layer id="1" name="out" type="Result" version="opset1">
      <input><port id="0" precision="FP32"><dim>2</dim></port></input>
    </layer>
  </layers>
  <edges><edge from-layer="0" from-port="0" to-layer="1" to-port="0"/></edges>
</net>
"""


def upload_files(admin, files, name="bundle", engine=None):
    """POST an upload with `files`: a list of (filename, bytes)."""
    data = {"name": name}
    if engine:
        data["engine"] = engine
    parts = [("file", (fn, content, "application/octet-stream")) for fn, content in files]
    return admin.server.post(MODELS, data=data, files=parts, headers=bearer(admin.token),
                             timeout=UPLOAD_TIMEOUT_S)


def zip_of(entries):
    """entries: (name, bytes) pairs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in entries:
            z.writestr(name, content)
    return buf.getvalue()


def tar_of(members, gz=True):
    """members: (TarInfo, bytes or None) pairs."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as t:
        for info, content in members:
            if content is not None:
                info.size = len(content)
                t.addfile(info, io.BytesIO(content))
            else:
                t.addfile(info)
    return buf.getvalue()


def tar_file(name, content):
    return (tarfile.TarInfo(name), content)


def tar_special(name, kind, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return (info, None)


def declared_10gb_tar():
    """A tar whose one member declares 10 GiB (GNU base-256 size) but carries 1 KiB."""
    info = tarfile.TarInfo("model.bin")
    info.size = 10 << 30
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    return header + b"\0" * 1024 + b"\0" * 1024


def lying_zip():
    """A zip whose central directory names an entry differently from its local header."""
    data = bytearray(zip_of([("model.xml", IR_XML), ("model.bin", b"\0" * 8)]))
    cd = data.rfind(b"PK\x01\x02model.xml"[:4])
    # the last central-directory record is model.bin's: rename it there only
    name_at = cd + 46
    assert data[name_at:name_at + 9] == b"model.bin", data[name_at:name_at + 9]
    data[name_at:name_at + 9] = b"other.bin"
    return bytes(data)


BAD_ARCHIVES = {
    "dotdot": (lambda: zip_of([("../evil.onnx", b"x"), ("model.xml", IR_XML)]),
               "leaves the folder"),
    "absolute": (lambda: tar_of([tar_file("/tmp/evil.xml", IR_XML)]), "absolute"),
    "symlink": (lambda: tar_of([tar_file("model.xml", IR_XML),
                                tar_special("model.bin", tarfile.SYMTYPE, "/etc/passwd")]),
                "link"),
    "hardlink": (lambda: tar_of([tar_file("model.xml", IR_XML),
                                 tar_special("model.bin", tarfile.LNKTYPE, "model.xml")]),
                 "link"),
    "device": (lambda: tar_of([tar_file("model.xml", IR_XML),
                               tar_special("model.bin", tarfile.CHRTYPE)]), "device"),
    "entries_10000": (lambda: zip_of([(f"f{i}.txt", b"") for i in range(10000)]), "entries"),
    "declared_10gb": (declared_10gb_tar, "larger"),
    "lying_zip": (lying_zip, "local header"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARCHIVES))
def test_bad_archives_are_refused_and_leave_nothing(admin, case):
    make, words = BAD_ARCHIVES[case]
    s = admin.server
    before = snapshot(s)
    r = upload_files(admin, [("model.zip", make())], name=f"bad-{case}")
    assert r.status_code in (400, 413, 422), (case, r.status_code, r.text[:300])
    err = assert_error(r, r.status_code, r.json()["error"]["code"])
    assert words in err["message"].lower(), (case, err)
    if case in ("entries_10000", "declared_10gb"):
        assert r.status_code == 413, (case, r.text)
    assert_no_leftovers(s, before)


def test_bad_parts_are_refused_and_leave_nothing(admin):
    s = admin.server
    before = snapshot(s)
    cases = [
        ([("model.pdmodel", Path("/dev/urandom").open("rb").read(4096)),
          ("model.pdiparams", b"\0" * 64)], "not a paddlepaddle program"),
        ([("model.xml", IR_XML)], "weights"),
        ([("model.xml", IR_XML), ("model.bin", b"\0" * 4)], "shorter"),
        ([("model.xml", IR_XML), ("model.bin", b"\0" * 8), ("notes.exe", b"MZ")],
         "unexpected file"),
        ([("model.xml", IR_XML), ("model.xml", IR_XML)], "two file parts"),
        ([("../model.xml", IR_XML), ("..", b"\0" * 8)], "plain file name"),
    ]
    for i, (files, words) in enumerate(cases):
        r = upload_files(admin, files, name=f"bad-parts-{i}")
        assert r.status_code in (400, 422), (files[0][0], r.status_code, r.text[:300])
        err = r.json()["error"]
        assert words in err["message"].lower(), (i, err)
    assert_no_leftovers(s, before)


def test_a_lone_ir_xml_names_its_missing_weights(admin):
    s = admin.server
    before = snapshot(s)
    r = upload_files(admin, [("net.xml", IR_XML)], name="lone-xml")
    err = r.json().get("error", {})
    assert r.status_code in (400, 422) and "weights" in err.get("message", ""), r.text[:300]
    assert_no_leftovers(s, before)


# --------------------------------------------------------------------------
# the whole lifecycle of an OpenVINO IR and a PaddlePaddle model, uploaded as an
# archive and as separate parts
# --------------------------------------------------------------------------

CLS_IR = REPO_ROOT / "models" / "samples" / "openvino" / "ch_ppocr_mobile_v2.0_cls_infer"
CLS_XML, CLS_BIN = Path(f"{CLS_IR}.xml"), Path(f"{CLS_IR}.bin")
PADDLE_DIR = REPO_ROOT / "tests" / "fixtures" / "models" / "paddle_cnn"
PADDLE_EXPECTED = REPO_ROOT / "tests" / "fixtures" / "models" / "paddle_cnn_expected.json"
PADDLE_CONFIG = {
    "input_shapes": {"x": [1, 3, 32, 32]},
    "input": {"width": 32, "height": 32, "resize": "stretch", "color": "rgb",
              "scale": 0.00392156862745098},
    "output": {"task": "classification", "top_k": 3, "softmax": False},
}


def model_files(kind):
    if kind == "ir":
        if not CLS_XML.is_file():
            pytest.skip("models/samples/openvino missing (scripts/install-deps.sh)")
        return [("cls.xml", CLS_XML.read_bytes()), ("cls.bin", CLS_BIN.read_bytes())], CLS_CONFIG
    return [("inference.pdmodel", (PADDLE_DIR / "inference.pdmodel").read_bytes()),
            ("inference.pdiparams", (PADDLE_DIR / "inference.pdiparams").read_bytes())], \
        PADDLE_CONFIG


def packed(files, packing):
    """The upload's file parts: one archive (with a top folder, as people zip a folder)
    or the files themselves."""
    if packing == "zip":
        return [("model.zip", zip_of([(f"exported/{n}", c) for n, c in files]))]
    if packing == "tar.gz":
        return [("model.tar.gz", tar_of([tar_file(f"exported/{n}", c) for n, c in files]
                                        + [tar_file("exported/inference.yml", b"a: 1\n")]))]
    return files


def post_version(admin, mid, parts, config):
    data = {"config": json.dumps(config)}
    files = [("file", (fn, content, "application/octet-stream")) for fn, content in parts]
    return admin.server.post(f"{MODELS}/{mid}/versions", data=data, files=files,
                             headers=bearer(admin.token), timeout=UPLOAD_TIMEOUT_S)


@pytest.mark.parametrize("kind,packing", [("ir", "zip"), ("ir", "parts"),
                                          ("paddle", "tar.gz"), ("paddle", "parts")])
def test_multi_file_model_lifecycle(admin, kind, packing):
    s = admin.server
    files, config = model_files(kind)
    parts = packed(files, packing)
    data = {"name": f"{kind}-{packing}", "config": json.dumps(config)}
    r = admin.server.post(MODELS, data=data, headers=bearer(admin.token),
                          files=[("file", (fn, c, "application/octet-stream")) for fn, c in parts],
                          timeout=UPLOAD_TIMEOUT_S)
    m = ok(r, 201, "upload")
    mid = m["id"]
    assert m["engine"] == "openvino", m  # chosen by content: IR and Paddle are OpenVINO's
    names = ({"model.xml", "model.bin"} if kind == "ir"
             else {"model.pdmodel", "model.pdiparams"})
    stored = {p.name for p in (s.data_dir / "models" / mid / "v1").iterdir()}
    assert stored == names, stored  # extras (inference.yml) dropped, canonical names
    assert [i["name"] for i in m["io_schema"]["inputs"]] == ["x"], m["io_schema"]

    # test: the Paddle model's numbers equal Paddle's own (tools/make_paddle_fixture.py)
    if kind == "paddle":
        exp = json.loads(PADDLE_EXPECTED.read_text())
        one = exp["input"]["data"][:3 * 32 * 32]
        outs = run_ok(admin, mid, 1, False, {"inputs": [
            {"name": "x", "datatype": "FP32", "shape": [1, 3, 32, 32], "data": one}]})
        want = exp["output"]["data"][:10]
        assert max(abs(a - b) for a, b in zip(outs[0]["data"], want)) <= 1e-4, outs[0]
    else:
        run_ok(admin, mid, 1, False)

    publish_ok(admin, mid, 1)
    give_app_token(admin)
    img = Image.new("RGB", (64, 64), (200, 30, 90))
    body = result_ok(infer_png(s, mid, img))
    classes = check_result(body, mid, "classification")
    assert len(classes) == (2 if kind == "ir" else 3), classes

    v2 = ok(post_version(admin, mid, parts, config), 201, "second version")
    assert v2["version"] == 2, v2
    versions = ok(list_versions(admin, mid), 200, "versions")
    assert sorted(v["version"] for v in versions["items"]) == [1, 2], versions
    assert {p.name for p in (s.data_dir / "models" / mid / "v2").iterdir()} == names

    unpublish_ok(admin, mid)
    assert delete_model(admin, mid).status_code == 204
    assert not (s.data_dir / "models" / mid).exists()
