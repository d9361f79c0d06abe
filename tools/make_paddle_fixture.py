#!/usr/bin/env python3
"""Generate the PaddlePaddle fixture in tests/fixtures/models/ (committed).

Writes
  tests/fixtures/models/paddle_cnn/inference.pdmodel    classic ProgramDesc protobuf
  tests/fixtures/models/paddle_cnn/inference.pdiparams  combined parameters
  tests/fixtures/models/paddle_cnn.onnx                 the ONNX twin (paddle2onnx)
  tests/fixtures/models/paddle_cnn_expected.json        input + output computed by Paddle

The model is a small CNN with fixed weights (seeded numpy, not Paddle's
initializers):
  x float32 [N,3,32,32] (N dynamic) -> conv3x3(3->8) -> batch norm (non-trivial
  running statistics) -> ReLU -> max pool 2x2 -> conv3x3(8->16) -> ReLU ->
  global average pool -> flatten -> linear(16->10) -> softmax
The expected input is [2,3,32,32], seeded multiples of 1/256 (exact in JSON).
Paddle names the output `save_infer_model/scale_0.tmp_0` (paddle.jit.save adds a
scale op, as in the PP-OCR inference models); the ONNX twin keeps Paddle's names.

Paddle 2.6 writes the classic `.pdmodel` (ProgramDesc) format; Paddle 3.x would
write the new PIR JSON program by default, so do not upgrade it here.  The
`.pdiparams.info` file paddle.jit.save also writes is training metadata and is
dropped.  Paddle records a Python call stack (`op_callstack`, with absolute
paths of the venv) on some ops; the script strips those attributes so the
output does not depend on where the venv lives, and a rerun with the same
versions reproduces the committed bytes.

The script checks what it wrote: the .pdmodel through the OpenVINO Paddle
frontend and the ONNX twin through OpenVINO and ONNX Runtime must reproduce
Paddle's output within 1e-4 and keep its input/output names; it exits non-zero
otherwise, or if a file is over 200 KB.

Regenerate (throwaway venv, CPU wheels, Python 3.11; the exact versions used):

    python3 -m venv /tmp/paddle-venv
    /tmp/paddle-venv/bin/pip install paddlepaddle==2.6.2 paddle2onnx==1.2.11 \\
        onnxruntime==1.29.0 openvino==2026.4.1 "numpy==1.26.4"
    /tmp/paddle-venv/bin/python tools/make_paddle_fixture.py

(pip also pulls protobuf 7.36.2 with paddlepaddle 2.6.2; that combination
works.  numpy must stay 1.x for paddlepaddle 2.6.)
"""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

# Paddle's C++ side logs every executor start through glog; keep the output short.
os.environ.setdefault("GLOG_minloglevel", "2")
# Importing openvino starts its usage telemetry (openvino_telemetry: on unless opted
# out, writes ~/intel/); without that package OpenVINO uses its no-op stub.
sys.modules["openvino_telemetry"] = None

import numpy as np  # noqa: E402
import paddle  # noqa: E402
import paddle2onnx  # noqa: E402
from paddle.base.proto import framework_pb2  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT = REPO_ROOT / "tests" / "fixtures" / "models"
MODEL_DIR = OUT / "paddle_cnn"
ONNX_PATH = OUT / "paddle_cnn.onnx"
EXPECTED_PATH = OUT / "paddle_cnn_expected.json"

SEED = 20260417
INPUT_NAME = "x"
INPUT_SHAPE = (2, 3, 32, 32)
ONNX_OPSET = 13
TOLERANCE = 1e-4
MAX_FIXTURE_BYTES = 200 * 1024


class PaddleCnn(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv1 = paddle.nn.Conv2D(3, 8, 3, padding=1)
        self.bn = paddle.nn.BatchNorm2D(8)
        self.pool = paddle.nn.MaxPool2D(2, 2)
        self.conv2 = paddle.nn.Conv2D(8, 16, 3, padding=1)
        self.gap = paddle.nn.AdaptiveAvgPool2D(1)
        self.fc = paddle.nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(paddle.nn.functional.relu(self.bn(self.conv1(x))))
        x = paddle.nn.functional.relu(self.conv2(x))
        x = paddle.flatten(self.gap(x), 1)
        return paddle.nn.functional.softmax(self.fc(x), axis=-1)


def seeded_weights(model, rng):
    """Every parameter and buffer from a seeded numpy generator, so the values
    do not depend on Paddle's initializers.  The batch-norm running variance
    stays positive; with these scales the ten probabilities range from about
    0.001 to 0.4, so a wrong computation shows."""
    state = {}
    for name, tensor in model.state_dict().items():
        shape = tuple(tensor.shape)
        if name.endswith("_variance"):
            value = rng.uniform(0.5, 2.0, shape)
        elif name.endswith("_mean"):
            value = rng.normal(0.0, 0.5, shape)
        elif name.startswith("fc."):
            value = rng.normal(0.0, 0.5, shape)
        else:
            value = rng.normal(0.0, 0.3, shape)
        state[name] = value.astype(np.float32)
    model.set_state_dict(state)


def exact_random(rng, shape, scale=256):
    """Seeded float32 multiples of 1/scale in [-2, 2]: short and exact in JSON."""
    ints = rng.integers(-2 * scale, 2 * scale + 1, size=shape)
    return (ints / scale).astype(np.float32)


def strip_callstacks(pdmodel):
    """Drop the `op_callstack` attributes (Python tracebacks with absolute
    paths) from a serialized ProgramDesc."""
    program = framework_pb2.ProgramDesc()
    program.ParseFromString(pdmodel.read_bytes())
    for block in program.blocks:
        for op in block.ops:
            keep = [a for a in op.attrs if a.name != "op_callstack"]
            del op.attrs[:]
            op.attrs.extend(keep)
    pdmodel.write_bytes(program.SerializeToString(deterministic=True))


def save_paddle_model(model):
    """paddle.jit.save into MODEL_DIR; returns the eager output for comparison."""
    spec = paddle.static.InputSpec([None, *INPUT_SHAPE[1:]], "float32", INPUT_NAME)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "inference"
        paddle.jit.save(model, str(prefix), input_spec=[spec])
        written = sorted(p.name for p in Path(tmp).iterdir())
        if written != ["inference.pdiparams", "inference.pdiparams.info",
                       "inference.pdmodel"]:
            raise RuntimeError(f"paddle.jit.save wrote {written}, expected the "
                               "classic .pdmodel/.pdiparams(.info) files")
        if MODEL_DIR.exists():
            shutil.rmtree(MODEL_DIR)
        MODEL_DIR.mkdir(parents=True)
        for name in ("inference.pdmodel", "inference.pdiparams"):
            shutil.copyfile(Path(tmp) / name, MODEL_DIR / name)
    strip_callstacks(MODEL_DIR / "inference.pdmodel")


def run_saved_paddle(x):
    """Runs the saved files with Paddle's static executor (what the fixture
    itself computes); returns (input names, output names, output)."""
    paddle.enable_static()
    try:
        exe = paddle.static.Executor(paddle.CPUPlace())
        program, feeds, fetches = paddle.static.load_inference_model(
            str(MODEL_DIR / "inference"), exe)
        (y,) = exe.run(program, feed={feeds[0]: x}, fetch_list=fetches)
        return list(feeds), [v.name for v in fetches], np.asarray(y)
    finally:
        paddle.disable_static()


def tensor_json(arr, name):
    arr = np.asarray(arr, dtype=np.float32)
    return {"name": name, "shape": list(arr.shape),
            "data": [float(v) for v in arr.astype(np.float64).ravel()]}


def export_onnx():
    paddle2onnx.export(str(MODEL_DIR / "inference.pdmodel"),
                       str(MODEL_DIR / "inference.pdiparams"),
                       save_file=str(ONNX_PATH), opset_version=ONNX_OPSET,
                       auto_upgrade_opset=False, verbose=False,
                       enable_onnx_checker=True)


def generate():
    """Writes all fixture files; returns (input, output, names)."""
    rng = np.random.default_rng(SEED)
    paddle.seed(SEED)
    model = PaddleCnn()
    seeded_weights(model, rng)
    model.eval()
    x = exact_random(rng, INPUT_SHAPE)
    eager = model(paddle.to_tensor(x)).numpy()

    save_paddle_model(model)
    inputs, outputs, y = run_saved_paddle(x)
    if inputs != [INPUT_NAME] or len(outputs) != 1:
        raise RuntimeError(f"unexpected program signature {inputs} -> {outputs}")
    diff = float(np.abs(y - eager).max())
    if diff > 1e-6:
        raise RuntimeError(f"saved program differs from the eager model by {diff}")
    export_onnx()
    EXPECTED_PATH.write_text(json.dumps({
        "input": tensor_json(x, INPUT_NAME),
        "output": tensor_json(y, outputs[0]),
    }, indent=1) + "\n")
    return x, y, outputs[0]


def check_openvino(path, x, y, out_name):
    """Compiles `path` with OpenVINO on CPU; returns the max abs diff to y."""
    import openvino as ov
    core = ov.Core()
    model = core.read_model(str(path))
    names = ([sorted(p.get_names()) for p in model.inputs],
             [sorted(p.get_names()) for p in model.outputs])
    if names != ([[INPUT_NAME]], [[out_name]]):
        raise RuntimeError(f"{path.name}: OpenVINO tensor names {names}")
    compiled = core.compile_model(model, "CPU")
    got = compiled({INPUT_NAME: x})[compiled.output(0)]
    print(f"  OpenVINO {ov.__version__} {path.relative_to(REPO_ROOT)}: "
          f"{names[0]} {model.inputs[0].get_partial_shape()} -> {names[1]} "
          f"{model.outputs[0].get_partial_shape()}")
    return float(np.abs(got - y).max())


def check_onnxruntime(x, y, out_name):
    import onnxruntime as ort
    sess = ort.InferenceSession(str(ONNX_PATH), providers=["CPUExecutionProvider"])
    names = ([i.name for i in sess.get_inputs()], [o.name for o in sess.get_outputs()])
    if names != ([INPUT_NAME], [out_name]):
        raise RuntimeError(f"paddle_cnn.onnx: ONNX Runtime names {names}")
    print(f"  ONNX Runtime {ort.__version__}: {names[0]} "
          f"{sess.get_inputs()[0].shape} -> {names[1]} {sess.get_outputs()[0].shape}")
    (got,) = sess.run(None, {INPUT_NAME: x})
    return float(np.abs(got - y).max())


def main():
    print(f"paddle {paddle.__version__}, paddle2onnx {paddle2onnx.__version__}")
    x, y, out_name = generate()
    diffs = {
        "OpenVINO .pdmodel": check_openvino(MODEL_DIR / "inference.pdmodel", x, y, out_name),
        "OpenVINO .onnx": check_openvino(ONNX_PATH, x, y, out_name),
        "ONNX Runtime .onnx": check_onnxruntime(x, y, out_name),
    }
    failed = False
    for what, diff in diffs.items():
        print(f"  max |{what} - Paddle| = {diff:.3g}")
        failed |= not diff <= TOLERANCE
    for path in [*sorted(MODEL_DIR.iterdir()), ONNX_PATH, EXPECTED_PATH]:
        size = path.stat().st_size
        print(f"{size:8d}  {path.relative_to(REPO_ROOT)}")
        failed |= size > MAX_FIXTURE_BYTES
    if failed:
        print(f"error: a check failed (tolerance {TOLERANCE}, "
              f"size limit {MAX_FIXTURE_BYTES} bytes)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
