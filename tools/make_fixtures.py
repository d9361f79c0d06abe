#!/usr/bin/env python3
"""Generate the small model fixtures in tests/fixtures/models/.

The fixtures are committed; rerun this only to change or add one.  Output is
deterministic (fixed seeds, no timestamps), so a rerun with the same
torch / onnx versions reproduces the committed files.

Requirements: Debian's python3 with python3-torch (PyTorch 1.13) and the
`onnx` Python package.  Install onnx into a throwaway venv that still sees
the system torch / numpy:

    /usr/bin/python3 -m venv --system-site-packages /tmp/fixtures-venv
    /tmp/fixtures-venv/bin/pip install onnx==1.17.0
    /tmp/fixtures-venv/bin/python tools/make_fixtures.py

(pip keeps Debian's numpy 1.24, which torch 1.13 was built against; do not
let it install numpy 2.x into that venv.)  Then check the ONNX fixtures with
ONNX Runtime from the test venv:

    .venv/bin/python tools/check_fixtures.py

See tools/README.md for what each fixture is for.
"""

import io
import json
import os
import random
import sys
import zipfile
from pathlib import Path

# TorchScript serializes some module attributes in set-iteration order, which
# depends on str hashing: pin the hash seed (re-exec before torch is loaded).
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT = REPO_ROOT / "tests" / "fixtures" / "models"

SEED = 20240607
MAX_FIXTURE_BYTES = 200 * 1024

# IR version 8 / default-domain opset 13-14 keep the files loadable by every
# ONNX Runtime of the last few years and by OpenCV's importer.
IR_VERSION = 8


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def write_bytes(name, data):
    path = OUT / name
    path.write_bytes(data)
    return path


def write_json(name, obj):
    text = json.dumps(obj, indent=1, sort_keys=False) + "\n"
    return write_bytes(name, text.encode("utf-8"))


def tensor_json(arr, name=None):
    """{"name", "shape", "data"} with exact values (float32 -> repr of the
    double it widens to, which round-trips to the same float32)."""
    arr = np.asarray(arr)
    if arr.dtype == np.bool_:
        data = [bool(v) for v in arr.ravel()]
    elif arr.dtype.kind == "f":
        data = [float(v) for v in arr.astype(np.float64).ravel()]
    else:
        data = [int(v) for v in arr.ravel()]
    obj = {}
    if name is not None:
        obj["name"] = name
    obj["shape"] = list(arr.shape)
    obj["data"] = data
    return obj


def make_model(graph, opset):
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)],
        producer_name="cinfer-make-fixtures", producer_version="1")
    model.ir_version = IR_VERSION
    return model


def save_model(name, model, check=True, full_check=True):
    if check:
        onnx.checker.check_model(model, full_check=full_check)
    # SerializeToString rather than onnx.save: onnx.save would try to
    # resolve/write external data next to the file.
    return write_bytes(name, model.SerializeToString())


# --------------------------------------------------------------------------
# tiny classifier: TorchScript + ONNX twin with the same weights
# --------------------------------------------------------------------------

class TinyClassifier(torch.nn.Module):
    """conv3x3(3->8) -> ReLU -> global average pool -> linear(8->4) -> softmax."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, kernel_size=3, padding=1)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(input))
        x = torch.flatten(self.pool(x), 1)
        return torch.softmax(self.fc(x), dim=1)


class TupleOutputs(torch.nn.Module):
    def forward(self, x: torch.Tensor):
        return x.mean(dim=(2, 3)), x * 2


def exact_random(gen, shape, scale=256):
    """Seeded random float32 values that are multiples of 1/scale, so the JSON
    stays short and every value is exact."""
    ints = torch.randint(-2 * scale, 2 * scale + 1, shape, generator=gen)
    return ints.to(torch.float32) / scale


def make_tiny_classifier():
    torch.manual_seed(SEED)
    model = TinyClassifier().eval()
    # Larger fc weights than the default init, so the four probabilities are
    # clearly different from 0.25 and a wrong computation shows.
    with torch.no_grad():
        model.fc.weight.normal_(0.0, 2.0)
        model.fc.bias.normal_(0.0, 0.5)

    gen = torch.Generator().manual_seed(SEED + 1)
    x = exact_random(gen, (2, 3, 32, 32))
    with torch.no_grad():
        y = model(x)

    scripted = torch.jit.script(model)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    write_bytes("tiny_classifier.pt", buf.getvalue())

    buf = io.BytesIO()
    torch.onnx.export(
        model, (x,), buf, input_names=["input"], output_names=["probs"],
        dynamic_axes={"input": {0: "N"}, "probs": {0: "N"}},
        opset_version=13, do_constant_folding=True)
    onnx_model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(onnx_model, full_check=True)
    write_bytes("tiny_classifier.onnx", buf.getvalue())

    # Sanity: the saved TorchScript reproduces the eager output.
    reloaded = torch.jit.load(str(OUT / "tiny_classifier.pt"))
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x), y, rtol=0, atol=1e-6)

    write_json("tiny_classifier_expected.json", {
        "input": tensor_json(x.numpy(), "input"),
        "output": tensor_json(y.numpy(), "probs"),
    })


def make_tuple_outputs():
    scripted = torch.jit.script(TupleOutputs().eval())
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    write_bytes("tuple_outputs.pt", buf.getvalue())

    gen = torch.Generator().manual_seed(SEED + 2)
    x = exact_random(gen, (1, 3, 8, 8))
    reloaded = torch.jit.load(str(OUT / "tuple_outputs.pt"))
    with torch.no_grad():
        a, b = reloaded(x)
    write_json("tuple_outputs_expected.json", {
        "input": tensor_json(x.numpy(), "x"),
        "outputs": [tensor_json(a.numpy()), tensor_json(b.numpy())],
    })


# --------------------------------------------------------------------------
# one tiny ONNX model per element type
# --------------------------------------------------------------------------

# file suffix, ONNX element type, numpy dtype, KServe V2 datatype, sample input
DTYPES = [
    ("float32", TensorProto.FLOAT, np.float32, "FP32",
     [[1.5, -2.0, 0.25], [3.0, 1024.5, -5.125]]),
    ("float16", TensorProto.FLOAT16, np.float16, "FP16",
     [[1.5, -2.0, 0.25], [3.0, 1000.0, -5.125]]),
    ("uint8", TensorProto.UINT8, np.uint8, "UINT8",
     [[0, 1, 2], [63, 100, 127]]),
    ("int8", TensorProto.INT8, np.int8, "INT8",
     [[-64, -1, 0], [1, 2, 63]]),
    ("int32", TensorProto.INT32, np.int32, "INT32",
     [[-1000000000, -1, 0], [1, 70000, 1000000000]]),
    ("int64", TensorProto.INT64, np.int64, "INT64",
     [[-5000000000, -1, 0], [1, 70000, 1 << 40]]),
    ("bool", TensorProto.BOOL, np.bool_, "BOOL",
     [[True, False, True], [False, False, True]]),
]


def make_dtype_models():
    expected = {}
    for suffix, etype, npdt, v2name, sample in DTYPES:
        if etype == TensorProto.BOOL:
            node = helper.make_node("Not", ["x"], ["y"])
        else:
            node = helper.make_node("Add", ["x", "x"], ["y"])
        graph = helper.make_graph(
            [node], f"dtype_{suffix}",
            [helper.make_tensor_value_info("x", etype, [2, 3])],
            [helper.make_tensor_value_info("y", etype, [2, 3])])
        # Add-14 is the first Add with int8/uint8.
        name = f"dtype_{suffix}.onnx"
        save_model(name, make_model(graph, 14))

        x = np.array(sample, dtype=npdt)
        y = np.logical_not(x) if etype == TensorProto.BOOL else (x + x)
        assert y.dtype == x.dtype
        expected[name] = {
            "datatype": v2name,
            "numpy_dtype": np.dtype(npdt).name,
            "input": tensor_json(x, "x"),
            "output": tensor_json(y, "y"),
        }
    write_json("dtypes_expected.json", expected)


# --------------------------------------------------------------------------
# rejection fixtures
# --------------------------------------------------------------------------

def make_broken_files():
    write_bytes("empty.onnx", b"")
    full = (OUT / "tiny_classifier.onnx").read_bytes()
    write_bytes("truncated.onnx", full[: int(len(full) * 0.6)])
    rng = random.Random(SEED + 3)
    write_bytes("random.bin", rng.randbytes(4096))


def make_external_data(name, location):
    """y = x + w, w a [4] float32 initializer whose bytes are 'stored' in an
    external file at `location` (which must never be opened)."""
    w = TensorProto()
    w.name = "w"
    w.data_type = TensorProto.FLOAT
    w.dims.extend([4])
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"),
                       ("length", "16")):
        entry = w.external_data.add()
        entry.key = key
        entry.value = value
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])], "external_data",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
        initializer=[w])
    # The checker would try to resolve the external file; skip it.
    save_model(name, make_model(graph, 13), check=False)


MEMORY_BOMB_DIM = 100_000   # [1e5, 1e5] float32 = 40 GB when densified


def make_memory_bomb():
    """A 40 GB float32 initializer stored as a *sparse* initializer with a
    single non-zero value, so the file is tiny.  ONNX Runtime converts sparse
    initializers to dense tensors while it builds the graph at session
    creation, i.e. it asks for 40 GB before any inference.  (A
    ConstantOfShape/Expand/Tile to a huge shape does not work: ONNX Runtime's
    constant folding skips nodes whose output would exceed 1 GiB.)"""
    values = numpy_helper.from_array(np.array([1.0], dtype=np.float32), "w")
    indices = numpy_helper.from_array(np.array([0], dtype=np.int64), "w_indices")
    sparse = helper.make_sparse_tensor(
        values, indices, [MEMORY_BOMB_DIM, MEMORY_BOMB_DIM])
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["w"], ["s"], keepdims=0),
         helper.make_node("Add", ["x", "s"], ["y"])],
        "memory_bomb",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    graph.sparse_initializer.extend([sparse])
    # full_check runs onnx's shape inference, which does not accept a sparse
    # initializer feeding ReduceSum; ONNX Runtime densifies it first.
    save_model("memory_bomb.onnx", make_model(graph, 13), full_check=False)


LOOP_TRIP_COUNT = 10 ** 15   # ~3 us per iteration in ONNX Runtime: ~100 years


def make_infinite_loop():
    """y = x + trip_count, computed by an ONNX Loop that adds 1.0 per
    iteration.  Loads instantly; one inference never ends in practice."""
    trip = numpy_helper.from_array(np.array(LOOP_TRIP_COUNT, dtype=np.int64),
                                   "trip_count")
    cond = numpy_helper.from_array(np.array(True), "keep_going")
    one = numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["v_in", "one"], ["v_out"])],
        "loop_body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1])])
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trip_count", "keep_going", "x"], ["y"],
                          body=body)],
        "infinite_loop",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        initializer=[trip, cond, one])
    save_model("infinite_loop.onnx", make_model(graph, 13))


NEWER_ARCHIVE_VERSION = b"99\n"


def make_newer_torchscript():
    """tiny_classifier.pt with its archive `version` record set to 99 (PyTorch
    1.13 reads at most 10).  Rewritten entry by entry with zipfile, so every
    CRC is valid and only the version check can reject it."""
    src = OUT / "tiny_classifier.pt"
    out = io.BytesIO()
    found = False
    with zipfile.ZipFile(src) as zin, \
            zipfile.ZipFile(out, "w", allowZip64=False) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            # The record is "<archive name>/version" at the top level.
            parts = info.filename.split("/")
            if len(parts) == 2 and parts[1] == "version":
                data = NEWER_ARCHIVE_VERSION
                found = True
            new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            new.compress_type = info.compress_type
            new.external_attr = info.external_attr
            zout.writestr(new, data)
    if not found:
        raise RuntimeError("no version record in tiny_classifier.pt")
    write_bytes("newer_torchscript.pt", out.getvalue())

    try:
        torch.jit.load(str(OUT / "newer_torchscript.pt"))
    except RuntimeError as e:
        if "version" not in str(e):
            raise RuntimeError(f"unexpected load error: {e}") from e
    else:
        raise RuntimeError("torch.jit.load accepted newer_torchscript.pt")


# --------------------------------------------------------------------------

def main():
    # Only this script's own files are replaced: the Paddle fixtures
    # (make_paddle_fixture.py, paddle_cnn*) stay.
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if old.is_file() and not old.name.startswith("paddle_cnn"):
            old.unlink()

    make_tiny_classifier()
    make_tuple_outputs()
    make_dtype_models()
    make_broken_files()
    make_external_data("external_abs.onnx", "/etc/passwd")
    make_external_data("external_dotdot.onnx", "../../outside.bin")
    make_memory_bomb()
    make_infinite_loop()
    make_newer_torchscript()

    too_big = []
    for path in sorted(OUT.iterdir()):
        size = path.stat().st_size
        print(f"{size:8d}  {path.relative_to(REPO_ROOT)}")
        if size > MAX_FIXTURE_BYTES:
            too_big.append(path.name)
    if too_big:
        print(f"error: fixtures over {MAX_FIXTURE_BYTES} bytes: {too_big}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
