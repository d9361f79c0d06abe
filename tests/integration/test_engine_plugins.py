"""Engines as plugins (docs/ENGINES.md): a server maps no engine library until a model
of that engine is loaded, then only that engine's; the validator child opens only the
plugin of the file it checks; a missing or broken plugin disables its engine, with the
reason, never the server."""

import os
import shutil
import subprocess
from pathlib import Path

from conftest import API, CINFER_BIN, bearer, make_admin
from test_model_lifecycle import publish_ok
from test_models_api import need, upload, upload_ok

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
TINY = FIXTURES / "tiny_classifier.onnx"
PLUGIN_DIR = Path(CINFER_BIN).resolve().parent / "engines"
ENGINE_LIBS = {"onnxruntime": "libonnxruntime", "libtorch": "libtorch_cpu",
               "opencv": "libopencv_dnn", "openvino": "libopenvino."}


def mapped(server):
    """The engines whose framework library the server process has mapped."""
    maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
    return {engine for engine, lib in ENGINE_LIBS.items() if lib in maps}


def plugins(admin):
    info = admin.server.get(f"{API}/system/info", headers=bearer(admin.token)).json()
    return info["engines"], {p["name"]: p for p in info["engine_plugins"]}


def test_an_idle_server_maps_no_engine_and_the_first_model_only_its_own(server_factory):
    s = server_factory()
    admin = make_admin(s)
    assert mapped(s) == set()
    names, by_name = plugins(admin)
    assert set(names) == {"onnxruntime", "libtorch", "opencv", "openvino"}, names
    assert {n: p["state"] for n, p in by_name.items()} == dict.fromkeys(names, "available")
    assert by_name["openvino"]["formats"] == ["openvino_ir", "paddle", "onnx"], by_name

    # Validation runs in a child process: the server itself still maps nothing.
    mid = upload_ok(admin, need(TINY).read_bytes(), "tiny", filename="tiny.onnx")["id"]
    assert mapped(s) == set()
    publish_ok(admin, mid, 1)
    assert mapped(s) == {"onnxruntime"}
    _, by_name = plugins(admin)
    assert by_name["onnxruntime"]["state"] == "loaded"
    assert {by_name[n]["state"] for n in ("libtorch", "opencv", "openvino")} == {"available"}


def test_the_validator_child_opens_only_the_plugin_it_needs(tmp_path):
    env = dict(os.environ, LD_DEBUG="files", LD_DEBUG_OUTPUT=str(tmp_path / "ld"))
    r = subprocess.run([CINFER_BIN, "model", "inspect", str(need(TINY))], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    opened = "".join(p.read_text(errors="replace") for p in tmp_path.glob("ld*"))
    assert "libcinfer_engine_onnxruntime.so" in opened
    for other in ("libtorch", "opencv", "openvino"):
        assert f"libcinfer_engine_{other}.so" not in opened, other


def test_without_plugins_the_server_runs_and_says_why(server_factory):
    s = server_factory(env={"CINFER_ENGINES__PLUGIN_DIR": "/nonexistent/engines"})
    admin = make_admin(s)
    names, by_name = plugins(admin)
    assert names == []
    for p in by_name.values():
        assert p["state"] == "unavailable" and "not found" in p["reason"], p
    r = upload(admin, need(TINY).read_bytes(), "tiny", filename="tiny.onnx")
    assert r.status_code == 422, r.text
    assert s.get("/health/live").status_code == 200


def test_a_broken_plugin_disables_only_its_engine(server_factory, tmp_path):
    plugin_dir = tmp_path / "engines"
    shutil.copytree(PLUGIN_DIR, plugin_dir)
    (plugin_dir / "libcinfer_engine_openvino.so").write_bytes(b"\x7fELF not really")
    s = server_factory(env={"CINFER_ENGINES__PLUGIN_DIR": str(plugin_dir)})
    admin = make_admin(s)
    r = upload(admin, need(TINY).read_bytes(), "tiny-ov", filename="tiny.onnx",
               engine="openvino")
    assert r.status_code == 422, r.text
    assert "cannot be opened" in r.json()["error"]["message"], r.text
    # ONNX Runtime is untouched.
    mid = upload_ok(admin, need(TINY).read_bytes(), "tiny-ort", filename="tiny.onnx")["id"]
    publish_ok(admin, mid, 1)
    assert mapped(s) == {"onnxruntime"}
