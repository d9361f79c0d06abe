#!/usr/bin/env python3
"""Check the ONNX fixtures in tests/fixtures/models/ with Python ONNX Runtime.

    .venv/bin/python tools/check_fixtures.py

Needs numpy + onnxruntime (tests/requirements.txt).  Every risky load runs in
a child process: the memory bomb only ever under an address-space limit
(RLIMIT_AS, like `ulimit -v`), the infinite loop under a wall-clock timeout.
Exits non-zero on the first fixture that does not behave as documented in
tools/README.md.
"""

import json
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

REPO_ROOT = Path(__file__).resolve().parents[1]
FIX = REPO_ROOT / "tests" / "fixtures" / "models"

AS_LIMIT_BYTES = 4_000_000 * 1024     # same as `ulimit -v 4000000`


def session(path):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts,
                                providers=["CPUExecutionProvider"])


def child(code, timeout, limit_as=None):
    """Run python `code` in a child; returns (rc, output, seconds)."""
    def preexec():
        if limit_as is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    start = time.monotonic()
    try:
        res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                             capture_output=True, text=True, timeout=timeout,
                             preexec_fn=preexec)
        return res.returncode, res.stdout + res.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() + (e.stderr or b"").decode()
        return None, out, time.monotonic() - start


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        sys.exit(1)


def main():
    # tiny classifier ONNX twin vs the torch-computed expectation
    exp = json.loads((FIX / "tiny_classifier_expected.json").read_text())
    s = session(FIX / "tiny_classifier.onnx")
    check([i.name for i in s.get_inputs()] == ["input"]
          and s.get_inputs()[0].shape[1:] == [3, 32, 32]
          and not isinstance(s.get_inputs()[0].shape[0], int),
          "tiny_classifier.onnx: input 'input' [N,3,32,32] with dynamic N")
    x = np.array(exp["input"]["data"], np.float32).reshape(exp["input"]["shape"])
    (y,) = s.run(["probs"], {"input": x})
    want = np.array(exp["output"]["data"], np.float32).reshape(exp["output"]["shape"])
    err = float(np.max(np.abs(y - want)))
    check(err <= 1e-5, f"tiny_classifier.onnx matches torch (max abs err {err:.2e})")

    # dtype models
    dexp = json.loads((FIX / "dtypes_expected.json").read_text())
    for name, e in dexp.items():
        dt = np.dtype(e["numpy_dtype"])
        s = session(FIX / name)
        x = np.array(e["input"]["data"], dt).reshape(e["input"]["shape"])
        (y,) = s.run(None, {"x": x})
        want = np.array(e["output"]["data"], dt).reshape(e["output"]["shape"])
        check(y.dtype == dt and np.array_equal(y, want), f"{name}: {e['datatype']} y == expected")

    # files that must not load
    for name in ("empty.onnx", "truncated.onnx", "random.bin",
                 "external_abs.onnx", "external_dotdot.onnx"):
        rc, out, _ = child(f"""
            import onnxruntime as ort
            ort.InferenceSession({str(FIX / name)!r}, providers=["CPUExecutionProvider"])
            """, timeout=60)
        last = out.strip().splitlines()[-1] if out.strip() else ""
        check(rc not in (0, None), f"{name}: ONNX Runtime refuses it ({last[:150]})")

    # memory bomb: only ever under an address-space limit
    rc, out, secs = child(f"""
        import onnxruntime as ort
        ort.InferenceSession({str(FIX / "memory_bomb.onnx")!r}, providers=["CPUExecutionProvider"])
        """, timeout=120, limit_as=AS_LIMIT_BYTES)
    check(rc not in (0, None) and "bad_alloc" in out,
          f"memory_bomb.onnx: session creation fails with bad_alloc under RLIMIT_AS=4 GB "
          f"in {secs:.1f}s")

    # infinite loop: loads quickly, inference does not end within 5 s
    rc, out, secs = child(f"""
        import time, numpy as np, onnxruntime as ort
        t = time.monotonic()
        s = ort.InferenceSession({str(FIX / "infinite_loop.onnx")!r}, providers=["CPUExecutionProvider"])
        print("loaded in", time.monotonic() - t, flush=True)
        s.run(None, {{"x": np.zeros([1], np.float32)}})
        print("FINISHED", flush=True)
        """, timeout=5)
    check(rc is None and "loaded in" in out and "FINISHED" not in out,
          "infinite_loop.onnx: loads, inference still running after 5 s")
    print("all fixtures behave as documented")


if __name__ == "__main__":
    main()
