"""Inference engines through the `cinfer model ...` command line.

Drives the real binary ($CINFER_BIN, default <repo>/build/cinfer):

  cinfer model inspect  FILE [--engine E] [--shape NAME=dims]...
  cinfer model validate FILE [--engine E] [--shape ...] [--memory-mb N]
                             [--cpu-seconds N] [--timeout-s N]
  cinfer model run      FILE [--engine E] [--shape ...] --input NAME=PATH.bin...
                             --output-dir DIR
  cinfer model bench    FILE [--engine E] [--threads N] [--batch N]
                             [--shape ...] [--seconds S]

and compares the results with Python ONNX Runtime and with the expectations
that tools/make_fixtures.py computed with PyTorch.

Needs the sample PP-OCR models in models/samples/ (scripts/fetch-sample-models.sh)
and the fixtures committed in tests/fixtures/models/ (tools/README.md).
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from conftest import CINFER_BIN, REPO_ROOT, base_env, require_binary

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "models"
SAMPLES = REPO_ROOT / "models" / "samples"

DET = "ch_PP-OCRv4_det_infer.onnx"
REC = "ch_PP-OCRv4_rec_infer.onnx"
CLS = "ch_ppocr_mobile_v2.0_cls_infer.onnx"

# PP-OCR model -> the input shape used for the numeric comparisons
OCR_SHAPES = {
    DET: [1, 3, 640, 640],
    REC: [1, 3, 48, 320],
    CLS: [1, 3, 48, 192],
}

CMD_TIMEOUT_S = 180          # a single inspect / run / bench invocation
VALIDATE_TIMEOUT_S = 30      # --timeout-s given to validate unless stated
VALIDATE_GRACE_S = 20        # validate must return within its timeout + this

# KServe V2 datatype name -> numpy dtype (little endian)
V2_DTYPES = {
    "FP32": np.dtype("<f4"),
    "FP16": np.dtype("<f2"),
    "UINT8": np.dtype("u1"),
    "INT8": np.dtype("i1"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "BOOL": np.dtype("?"),
}
ORT_TYPE_TO_V2 = {
    "tensor(float)": "FP32",
    "tensor(float16)": "FP16",
    "tensor(uint8)": "UINT8",
    "tensor(int8)": "INT8",
    "tensor(int32)": "INT32",
    "tensor(int64)": "INT64",
    "tensor(bool)": "BOOL",
}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def cinfer(*args, timeout=CMD_TIMEOUT_S, cwd=None):
    """Run `cinfer <args>`; returns (CompletedProcess, seconds)."""
    require_binary()
    argv = [CINFER_BIN, *map(str, args)]
    start = time.monotonic()
    try:
        res = subprocess.run(argv, env=base_env(), cwd=cwd,
                             stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`{' '.join(argv)}` did not exit within {timeout}s "
                    f"(stdout: {e.stdout!r}, stderr: {e.stderr!r})")
    return res, time.monotonic() - start


def describe(res):
    return (f"exit {res.returncode}\n--- stdout ---\n{res.stdout[-4000:]}"
            f"\n--- stderr ---\n{res.stderr[-4000:]}")


def parse_stdout_json(res):
    try:
        return json.loads(res.stdout)
    except ValueError:
        pytest.fail(f"stdout is not a JSON document: {describe(res)}")


def ok_json(res):
    assert res.returncode == 0, f"expected exit 0: {describe(res)}"
    body = parse_stdout_json(res)
    assert isinstance(body, dict) and "error" not in body, describe(res)
    return body


def error_json(res):
    """Exit code 1 and {"error": {"code", "message"}} on stdout."""
    assert res.returncode == 1, (
        f"expected exit 1 with an error JSON: {describe(res)}")
    body = parse_stdout_json(res)
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), (
        f"no error object: {describe(res)}")
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], f"error.code: {err!r}"
    assert isinstance(err.get("message"), str) and err["message"].strip(), (
        f"error.message: {err!r}")
    return err


def shape_flag(name, shape):
    return ["--shape", f"{name}={','.join(str(int(d)) for d in shape)}"]


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def sample(name):
    path = SAMPLES / name
    if not path.is_file() or path.stat().st_size == 0:
        pytest.skip(f"sample model {path} missing: run scripts/fetch-sample-models.sh")
    return path


def fixture(name):
    path = FIXTURES / name
    assert path.is_file(), f"fixture {path} missing (see tools/README.md)"
    return path


def load_json(name):
    return json.loads(fixture(name).read_text())


def tensor_from_json(obj, dtype=np.float32):
    return np.array(obj["data"], dtype=dtype).reshape(obj["shape"])


def ort_session(path):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def ort_signature(sess_io):
    """Python ORT inputs/outputs -> [{"name","datatype","shape"}] with -1 for
    dynamic dims, as `cinfer model inspect` should print them."""
    return [{"name": t.name, "datatype": ORT_TYPE_TO_V2[t.type],
             "shape": [d if isinstance(d, int) else -1 for d in t.shape]}
            for t in sess_io]


def seeded_input(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def run_model(tmp_path, model, inputs, engine=None, shapes=None, tag="run"):
    """`cinfer model run`.  inputs: {name: ndarray}; shapes: {name: dims} for
    --shape flags.  Returns [(meta, ndarray)] in output order."""
    work = tmp_path / tag
    in_dir = work / "in"
    out_dir = work / "out"
    in_dir.mkdir(parents=True)
    args = ["model", "run", model]
    if engine:
        args += ["--engine", engine]
    for name, dims in (shapes or {}).items():
        args += shape_flag(name, dims)
    for i, (name, arr) in enumerate(inputs.items()):
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        path = in_dir / f"input{i}.bin"
        path.write_bytes(arr.tobytes())
        args += ["--input", f"{name}={path}"]
    args += ["--output-dir", out_dir]
    res, _ = cinfer(*args)
    assert res.returncode == 0, f"model run failed: {describe(res)}"
    index_path = out_dir / "outputs.json"
    assert index_path.is_file(), f"{index_path} not written: {describe(res)}"
    index = json.loads(index_path.read_text())
    assert isinstance(index, list) and index, f"outputs.json: {index!r}"
    outputs = []
    for meta in index:
        for key in ("name", "datatype", "shape", "file"):
            assert key in meta, f"outputs.json entry lacks {key!r}: {meta!r}"
        assert meta["datatype"] in V2_DTYPES, f"unknown datatype: {meta!r}"
        dtype = V2_DTYPES[meta["datatype"]]
        assert all(isinstance(d, int) and d >= 0 for d in meta["shape"]), meta
        file = out_dir / meta["file"]
        assert file.resolve().parent == out_dir.resolve(), (
            f"output file outside the output dir: {meta!r}")
        raw = file.read_bytes()
        want = int(np.prod(meta["shape"], dtype=np.int64)) * dtype.itemsize
        assert len(raw) == want, (
            f"{meta['name']}: {len(raw)} bytes, expected {want} for "
            f"{meta['datatype']} {meta['shape']}")
        outputs.append((meta, np.frombuffer(raw, dtype=dtype).reshape(meta["shape"])))
    return outputs


def assert_close(actual, expected, atol, what):
    assert actual.shape == expected.shape, (
        f"{what}: shape {list(actual.shape)} != expected {list(expected.shape)}")
    np.testing.assert_allclose(actual, expected, rtol=0, atol=atol, err_msg=what)


def processes_mentioning(needle):
    """pids (other than ours) whose command line contains needle."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if needle.encode() in cmdline:
            found.append((int(entry), cmdline.replace(b"\0", b" ").decode(errors="replace")))
    return found


# --------------------------------------------------------------------------
# ONNX Runtime engine vs Python onnxruntime on the PP-OCR models
# --------------------------------------------------------------------------

@pytest.mark.parametrize("model", [DET, REC, CLS])
def test_inspect_ppocr(model):
    path = sample(model)
    ref = ort_session(path)
    res, _ = cinfer("model", "inspect", path)
    info = ok_json(res)
    assert info.get("engine") == "onnxruntime", f"sniffed engine: {info!r}"
    assert isinstance(info.get("format"), str) and "onnx" in info["format"].lower(), info
    for key in ("load_ms", "test_infer_ms", "peak_rss_mb"):
        assert is_number(info.get(key)) and info[key] >= 0, f"{key}: {info!r}"
    assert info["peak_rss_mb"] > 0, info

    inputs = info.get("inputs")
    assert isinstance(inputs, list) and len(inputs) == 1, info
    assert inputs[0]["name"] == "x", inputs
    assert inputs[0]["datatype"] == "FP32", inputs
    assert -1 in inputs[0]["shape"], f"dynamic dims must be -1: {inputs}"
    assert inputs == ort_signature(ref.get_inputs()), "inputs differ from the model"
    assert info.get("outputs") == ort_signature(ref.get_outputs()), (
        f"outputs differ from the model: {info.get('outputs')!r}")


@pytest.mark.parametrize("model", [DET, REC, CLS])
def test_onnxruntime_matches_python_ppocr(tmp_path, model):
    path = sample(model)
    shape = OCR_SHAPES[model]
    x = seeded_input(shape, seed=1234 + len(model))
    ref = ort_session(path)
    expected = ref.run(None, {"x": x})
    names = [o.name for o in ref.get_outputs()]

    outputs = run_model(tmp_path, path, {"x": x}, engine="onnxruntime",
                        shapes={"x": shape})
    assert [m["name"] for m, _ in outputs] == names
    for (meta, actual), want in zip(outputs, expected):
        assert meta["datatype"] == "FP32", meta
        assert_close(actual, want, 1e-4, f"{model} output {meta['name']}")


# --------------------------------------------------------------------------
# TorchScript (libtorch) vs its ONNX twin
# --------------------------------------------------------------------------

def test_torchscript_matches_onnx_twin(tmp_path):
    exp = load_json("tiny_classifier_expected.json")
    x = tensor_from_json(exp["input"])
    want = tensor_from_json(exp["output"])
    shapes = {"input": list(x.shape)}

    ts = run_model(tmp_path, fixture("tiny_classifier.pt"), {"input": x},
                   engine="libtorch", shapes=shapes, tag="libtorch")
    ox = run_model(tmp_path, fixture("tiny_classifier.onnx"), {"input": x},
                   engine="onnxruntime", shapes=shapes, tag="onnxruntime")
    assert len(ts) == 1, f"libtorch outputs: {[m for m, _ in ts]}"
    assert len(ox) == 1, f"onnxruntime outputs: {[m for m, _ in ox]}"
    assert ox[0][0]["name"] == "probs", ox[0][0]
    for meta, _ in (ts[0], ox[0]):
        assert meta["datatype"] == "FP32" and meta["shape"] == [2, 4], meta

    assert_close(ts[0][1], ox[0][1], 1e-4, "libtorch vs onnxruntime")
    assert_close(ts[0][1], want, 1e-4, "libtorch vs expected")
    assert_close(ox[0][1], want, 1e-4, "onnxruntime vs expected")


def test_torchscript_tuple_outputs(tmp_path):
    exp = load_json("tuple_outputs_expected.json")
    x = tensor_from_json(exp["input"])
    outputs = run_model(tmp_path, fixture("tuple_outputs.pt"), {"x": x},
                        engine="libtorch", shapes={"x": list(x.shape)})
    assert len(outputs) == 2, f"expected 2 outputs: {[m for m, _ in outputs]}"
    names = [m["name"] for m, _ in outputs]
    assert len(set(names)) == 2, f"output names must be distinct: {names}"
    for i, ((meta, actual), want) in enumerate(zip(outputs, exp["outputs"])):
        assert meta["datatype"] == "FP32", meta
        assert_close(actual, tensor_from_json(want), 1e-4, f"tuple output {i}")


@pytest.mark.parametrize("model,engine,shape", [
    ("tiny_classifier.onnx", "onnxruntime", None),
    ("tiny_classifier.pt", "libtorch", "input=1,3,32,32"),
])
def test_engine_sniffed_from_content(tmp_path, model, engine, shape):
    # A misleading extension must not matter: the content decides.
    copy = tmp_path / "model.bin"
    shutil.copyfile(fixture(model), copy)
    args = ["model", "inspect", copy]
    if shape:
        args += ["--shape", shape]
    info = ok_json(cinfer(*args)[0])
    assert info.get("engine") == engine, info
    assert [i["name"] for i in info["inputs"]] == ["input"], info


# --------------------------------------------------------------------------
# element types
# --------------------------------------------------------------------------

DTYPE_CASES = sorted(json.loads((FIXTURES / "dtypes_expected.json").read_text()))


@pytest.mark.parametrize("model", DTYPE_CASES)
def test_dtype_roundtrip(tmp_path, model):
    case = load_json("dtypes_expected.json")[model]
    v2 = case["datatype"]
    dtype = V2_DTYPES[v2]
    path = fixture(model)

    info = ok_json(cinfer("model", "inspect", path, "--engine", "onnxruntime")[0])
    assert info["inputs"] == [{"name": "x", "datatype": v2, "shape": [2, 3]}], info
    assert info["outputs"] == [{"name": "y", "datatype": v2, "shape": [2, 3]}], info

    x = np.array(case["input"]["data"], dtype=dtype).reshape(case["input"]["shape"])
    want = np.array(case["output"]["data"], dtype=dtype).reshape(case["output"]["shape"])
    outputs = run_model(tmp_path, path, {"x": x}, engine="onnxruntime")
    assert len(outputs) == 1
    meta, y = outputs[0]
    assert meta["name"] == "y" and meta["datatype"] == v2, meta
    assert y.shape == want.shape and np.array_equal(y, want), (
        f"{model}: got {y.tolist()}, expected {want.tolist()}")


# --------------------------------------------------------------------------
# OpenCV DNN
# --------------------------------------------------------------------------

def test_opencv_matches_onnxruntime_cls(tmp_path):
    path = sample(CLS)
    shape = OCR_SHAPES[CLS]
    x = seeded_input(shape, seed=99)
    expected = ort_session(path).run(None, {"x": x})
    outputs = run_model(tmp_path, path, {"x": x}, engine="opencv",
                        shapes={"x": shape})
    assert len(outputs) == len(expected), [m for m, _ in outputs]
    for (meta, actual), want in zip(outputs, expected):
        assert meta["datatype"] == "FP32", meta
        assert_close(actual, want, 1e-3, f"opencv {CLS} output {meta['name']}")


def test_opencv_dynamic_shape_needs_fixed_shape():
    path = sample(DET)
    res, _ = cinfer("model", "inspect", path, "--engine", "opencv")
    err = error_json(res)
    msg = err["message"].lower()
    assert "dynamic" in msg, f"message does not mention the dynamic shape: {err!r}"
    assert "--shape" in msg, f"message does not say to pass a fixed --shape: {err!r}"


# --------------------------------------------------------------------------
# rejections through the isolated `model validate`
# --------------------------------------------------------------------------

def validate(tmp_path, model, *extra, timeout_s=VALIDATE_TIMEOUT_S, subdir=None,
             name=None):
    """Copy the model to a path unique to this test, run `model validate`
    on it; check exit 1 + error JSON, promptness, and that no child process
    is left behind.  Returns the error object."""
    dest_dir = tmp_path / subdir if subdir else tmp_path
    dest_dir.mkdir(parents=True, exist_ok=True)
    copy = dest_dir / (name or Path(model).name)
    shutil.copyfile(model, copy)
    args = ["model", "validate", copy, *extra]
    if "--timeout-s" not in extra:
        args += ["--timeout-s", timeout_s]
    limit = timeout_s + VALIDATE_GRACE_S
    res, elapsed = cinfer(*args, timeout=limit + 60)
    err = error_json(res)
    assert elapsed <= limit, (
        f"validate took {elapsed:.1f}s, more than its timeout {timeout_s}s + "
        f"{VALIDATE_GRACE_S}s: {describe(res)}")
    deadline = time.monotonic() + 5
    left = processes_mentioning(str(copy))
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = processes_mentioning(str(copy))
    assert not left, f"validate left processes running: {left}"
    return err


def assert_mentions(err, *keywords):
    msg = err["message"].lower()
    assert any(k in msg for k in keywords), (
        f"message mentions none of {keywords}: {err!r}")


def test_reject_empty(tmp_path):
    err = validate(tmp_path, fixture("empty.onnx"))
    assert_mentions(err, "empty", "0 bytes", "zero")


def test_reject_truncated(tmp_path):
    err = validate(tmp_path, fixture("truncated.onnx"))
    assert_mentions(err, "truncat", "parse", "invalid", "corrupt", "protobuf", "malformed")


def test_reject_random_bytes(tmp_path):
    err = validate(tmp_path, fixture("random.bin"))
    assert_mentions(err, "format", "recogni", "unknown", "unsupported", "not a",
                    "parse", "invalid", "corrupt", "malformed")


def test_reject_external_data_absolute(tmp_path):
    err = validate(tmp_path, fixture("external_abs.onnx"))
    assert_mentions(err, "external")


def test_reject_external_data_dotdot(tmp_path):
    # Put real bytes where ../../outside.bin points, so only the path check
    # can reject it (not a missing file).
    (tmp_path / "outside.bin").write_bytes(np.ones(4, np.float32).tobytes())
    err = validate(tmp_path, fixture("external_dotdot.onnx"), subdir="a/b")
    assert_mentions(err, "external")
    assert_mentions(err, "outside", "directory", "..", "escape", "path")


def test_reject_torchscript_with_onnxruntime(tmp_path):
    err = validate(tmp_path, fixture("tiny_classifier.pt"), "--engine", "onnxruntime")
    assert_mentions(err, "torchscript", "pytorch")


def test_reject_onnx_with_libtorch(tmp_path):
    err = validate(tmp_path, fixture("tiny_classifier.onnx"), "--engine", "libtorch")
    assert_mentions(err, "onnx")


def test_reject_memory_bomb(tmp_path):
    err = validate(tmp_path, fixture("memory_bomb.onnx"), "--memory-mb", "2048")
    assert_mentions(err, "memory", "limit")


def test_reject_infinite_loop(tmp_path):
    err = validate(tmp_path, fixture("infinite_loop.onnx"),
                   "--timeout-s", "10", "--cpu-seconds", "8", timeout_s=10)
    assert_mentions(err, "time", "cpu")


def test_reject_infinite_loop_wall_clock(tmp_path):
    # CPU limit out of reach: the wall-clock timeout must kill the child.
    err = validate(tmp_path, fixture("infinite_loop.onnx"),
                   "--timeout-s", "5", "--cpu-seconds", "600", timeout_s=5)
    assert_mentions(err, "time")


def test_reject_newer_torchscript(tmp_path):
    err = validate(tmp_path, fixture("newer_torchscript.pt"))
    assert_mentions(err, "version")


def test_validate_accepts_good_model(tmp_path):
    # The isolation must not reject everything: a good model passes and
    # reports the same signature as inspect.
    copy = tmp_path / "tiny_classifier.onnx"
    shutil.copyfile(fixture("tiny_classifier.onnx"), copy)
    res, _ = cinfer("model", "validate", copy, "--timeout-s", VALIDATE_TIMEOUT_S,
                    "--memory-mb", "2048")
    info = ok_json(res)
    assert info.get("engine") == "onnxruntime", info
    assert info["inputs"] == [{"name": "input", "datatype": "FP32",
                               "shape": [-1, 3, 32, 32]}], info
    assert [o["name"] for o in info["outputs"]] == ["probs"], info


# --------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------

def test_bench_cls():
    path = sample(CLS)
    res, _ = cinfer("model", "bench", path, "--seconds", "1",
                    *shape_flag("x", OCR_SHAPES[CLS]))
    out = ok_json(res)
    assert out.get("engine") == "onnxruntime", out
    assert isinstance(out.get("iterations"), int) and out["iterations"] > 0, out
    assert is_number(out.get("seconds")) and out["seconds"] > 0, out
    assert is_number(out.get("throughput_per_s")) and out["throughput_per_s"] > 0, out
    lat = out.get("latency_ms")
    assert isinstance(lat, dict), out
    for key in ("p50", "p90", "p99", "mean"):
        assert is_number(lat.get(key)) and lat[key] > 0, f"latency_ms.{key}: {out!r}"
    assert lat["p50"] <= lat["p90"] <= lat["p99"], f"percentiles out of order: {lat!r}"


def test_bench_with_an_image_decodes_and_preprocesses_every_run(tmp_path):
    """`--image` measures what a served request costs before HTTP: decode,
    preprocessing by the config's `input`, engine. It is slower than the
    engine alone on the same model, and a wrong config is a JSON error."""
    path = sample(CLS)
    image = SAMPLES / "images" / "rocket.jpg"  # 427x640: decoding is not free
    config = tmp_path / "cls.json"
    config.write_text(json.dumps({"input": {"width": 192, "height": 48, "resize": "stretch",
                                            "scale": 1 / 255, "mean": [0.5] * 3,
                                            "std": [0.5] * 3}}))
    out = ok_json(cinfer("model", "bench", path, "--seconds", "1", "--image", image,
                         "--model-config", config, *shape_flag("x", OCR_SHAPES[CLS]))[0])
    assert out["image"] == str(image), out
    assert out["iterations"] > 0 and out["latency_ms"]["p50"] > 0, out
    plain = ok_json(cinfer("model", "bench", path, "--seconds", "1",
                           *shape_flag("x", OCR_SHAPES[CLS]))[0])
    assert plain["image"] is None, plain
    # A 427x640 JPEG decode and resize cost far more than the 1 ms classifier varies.
    assert out["latency_ms"]["p50"] > plain["latency_ms"]["p50"], (out, plain)
    config.write_text(json.dumps({"input": {"resize": "sideways"}}))
    err = error_json(cinfer("model", "bench", path, "--seconds", "1", "--image", image,
                            "--model-config", config, *shape_flag("x", OCR_SHAPES[CLS]))[0])
    assert err["code"] == "VALIDATION_FAILED" and "input.resize" in err["message"], err


def test_invalid_utf8_in_model_error_is_still_json(tmp_path):
    """Found by mutating tiny_classifier.onnx: a node name with a byte that is
    not UTF-8 ends up in OpenCV's error message.  The rejection must still be
    one JSON document (it used to abort the process while printing it)."""
    model = fixture("invalid_utf8_names.onnx")
    res, _ = cinfer("model", "inspect", model, "--engine", "opencv",
                    *shape_flag("input", [1, 3, 32, 32]))
    err = error_json(res)
    assert err["code"] == "MODEL_REJECTED", err
    assert_mentions(err, "opencv")
    err = validate(tmp_path, model, "--engine", "opencv", *shape_flag("input", [1, 3, 32, 32]))
    assert err["code"] == "MODEL_REJECTED", err


def test_reject_model_that_crashes_the_loader(tmp_path):
    """stack_overflow_code.pt makes LibTorch's TorchScript parser overflow its
    stack (SIGSEGV) inside torch::jit::load.  The validator reports the crash;
    the validating process itself survives and answers with JSON."""
    model = fixture("stack_overflow_code.pt")
    res, _ = cinfer("model", "inspect", model)
    assert res.returncode < 0 or res.returncode >= 128, (
        f"the fixture no longer crashes an unprotected load: {describe(res)}")
    err = validate(tmp_path, model)
    assert err["code"] == "MODEL_REJECTED", err
    assert_mentions(err, "crash")
    assert_mentions(err, "signal")
