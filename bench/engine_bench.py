#!/usr/bin/env python3
"""Raw engine baseline on the PP-OCR cls and det models, same shapes, thread counts and
machine for every engine:

  cinfer                 `cinfer model bench --engine onnxruntime` on the ONNX file
  cinfer_openvino_onnx   `cinfer model bench --engine openvino` on the same ONNX file
  cinfer_openvino_ir     `cinfer model bench --engine openvino` on its IR twin,
                         models/samples/openvino/<stem>.xml (scripts/make-openvino-fixtures.py)
  python_onnxruntime     the Python `onnxruntime` package (CPU provider)

Usage: .venv/bin/python bench/engine_bench.py [--seconds 10] [--threads 1,2] [--out FILE]
Writes one JSON file (bench/results/engine_bench-<date>.json unless --out) and prints a
Markdown table with the throughput ratios of the Cinfer engines to Python ONNX Runtime.
A Cinfer engine that fails (plugin unavailable, IR twin missing) is recorded as
{"error": ...}, shown as "n/a", and makes the exit status 1. The OpenVINO Python package
is never imported (its version is read from the vendored headers).
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import cpu_model, git_commit, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CINFER = os.environ.get("CINFER_BIN", str(ROOT / "build" / "cinfer"))
SAMPLES = ROOT / "models" / "samples"
CASES = [
    ("ch_ppocr_mobile_v2.0_cls_infer.onnx", "cls", [1, 3, 48, 192]),
    ("ch_PP-OCRv4_det_infer.onnx", "det", [1, 3, 640, 640]),
]
# Result key, `--engine`, model path from the ONNX file name, table label.
CINFER_RUNS = [
    ("cinfer", "onnxruntime", lambda f: SAMPLES / f, "ORT"),
    ("cinfer_openvino_onnx", "openvino", lambda f: SAMPLES / f, "OV onnx"),
    ("cinfer_openvino_ir", "openvino",
     lambda f: SAMPLES / "openvino" / (Path(f).stem + ".xml"), "OV IR"),
]
PY_KEY, PY_LABEL = "python_onnxruntime", "py ORT"


def python_ort(model, shape, threads, seconds):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    feed = {sess.get_inputs()[0].name: x}
    for _ in range(3):
        sess.run(None, feed)
    lat = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        sess.run(None, feed)
        lat.append((time.perf_counter() - t0) * 1000)
        if time.perf_counter() - start >= seconds:
            break
    elapsed = time.perf_counter() - start
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    return {"iterations": len(lat), "seconds": elapsed, "throughput_per_s": len(lat) / elapsed,
            "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99),
                           "mean": sum(lat) / len(lat)}}


def cinfer_bench(model, shape, threads, seconds, engine="onnxruntime"):
    """`cinfer model bench` JSON, or {"error": reason} when it cannot run."""
    if not Path(model).is_file():
        return {"error": f"{model} missing (scripts/make-openvino-fixtures.py writes the IR)"}
    res = subprocess.run(
        [CINFER, "model", "bench", str(model), "--engine", engine, "--threads", str(threads),
         "--shape", "x=" + ",".join(map(str, shape)), "--seconds", str(seconds)],
        capture_output=True, text=True)
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        doc = None
    if res.returncode != 0 or not isinstance(doc, dict) or "throughput_per_s" not in doc:
        err = doc.get("error") if isinstance(doc, dict) else None
        why = (f"{err.get('code')}: {err.get('message')}" if isinstance(err, dict)
               else (res.stdout + res.stderr)[-400:].strip())
        return {"error": f"exit {res.returncode}: {why}"}
    return doc


def ratio(a, b):
    if "throughput_per_s" not in a or "throughput_per_s" not in b:
        return None
    return a["throughput_per_s"] / b["throughput_per_s"]


def run_case(file, label, shape, threads, seconds):
    r = {"model": label, "file": file, "shape": shape, "threads": threads}
    for key, engine, path_of, _ in CINFER_RUNS:
        r[key] = cinfer_bench(path_of(file), shape, threads, seconds, engine)
        if "error" not in r[key]:
            r[key]["file"] = str(path_of(file).relative_to(ROOT))
    r[PY_KEY] = python_ort(SAMPLES / file, shape, threads, seconds)
    ratios = {key: ratio(r[key], r[PY_KEY]) for key, *_ in CINFER_RUNS}
    r["throughput_ratio"] = ratios["cinfer"]  # Cinfer ORT / Python ORT, as before
    r["throughput_ratios"] = ratios  # every Cinfer engine / Python ORT
    return r


def header_version(path, pattern):
    """Version digits from a vendored header, or None."""
    try:
        found = re.findall(pattern, Path(path).read_text(errors="replace"))
    except OSError:
        return None
    return ".".join(found) if found else None


def print_table(results):
    cols = [(key, label) for key, _, _, label in CINFER_RUNS] + [(PY_KEY, PY_LABEL)]
    head = ["model", "shape", "threads"]
    for _, label in cols:
        head += [f"{label} p50 ms", f"{label} /s"]
    head += [f"{label} ÷ py ORT" for _, _, _, label in CINFER_RUNS]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    fmt = lambda v, spec: "n/a" if v is None else format(v, spec)
    for r in results:
        row = [r["model"], "x".join(map(str, r["shape"])), str(r["threads"])]
        for key, _ in cols:
            m = r[key]
            row += [fmt(m.get("latency_ms", {}).get("p50"), ".2f"),
                    fmt(m.get("throughput_per_s"), ".1f")]
        row += [fmt(r["throughput_ratios"][key], ".2f") for key, *_ in CINFER_RUNS]
        print("| " + " | ".join(row) + " |")
    # OpenVINO on the IR twin versus on the ONNX file: the same network either way.
    diffs = [f"{r['model']}/{r['threads']}t {100 * (x - 1):+.0f}%" for r in results
             if (x := ratio(r["cinfer_openvino_ir"], r["cinfer_openvino_onnx"])) is not None]
    if diffs:
        print("\nOpenVINO IR vs ONNX throughput: " + ", ".join(diffs))
    for r in results:
        for key, *_ in CINFER_RUNS:
            if "error" in r[key]:
                print(f"{r['model']}/{r['threads']}t {key}: {r[key]['error']}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10, help="per engine and case")
    ap.add_argument("--threads", default="1,2", help="comma-separated intra-op thread counts")
    ap.add_argument("--out", help="result file (default bench/results/engine_bench-<date>.json)")
    args = ap.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",") if t.strip()]
    version = subprocess.run([CINFER, "version"], capture_output=True, text=True).stdout.strip()
    results = [run_case(file, label, shape, threads, args.seconds)
               for file, label, shape in CASES for threads in thread_counts]
    doc = {
        "benchmark": "engine_bench",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cinfer": version,
        "git_commit": git_commit(),
        "python_onnxruntime": ort.__version__,
        "cinfer_onnxruntime_api": header_version(
            ROOT / "third_party/onnxruntime/include/onnxruntime_c_api.h",
            r"#define ORT_API_VERSION (\d+)"),
        "cinfer_openvino": header_version(
            ROOT / "third_party/openvino/include/openvino/core/version.hpp",
            r"#define OPENVINO_VERSION_(?:MAJOR|MINOR|PATCH) (\d+)"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "model_name": cpu_model()},
        "seconds_per_case": args.seconds,
        "engines": {key: {"engine": engine, "label": label}
                    for key, engine, _, label in CINFER_RUNS},
        "results": results,
    }
    write_result(doc, args.out, "engine_bench")
    print()
    print_table(results)
    return 1 if any("error" in r[key] for r in results for key, *_ in CINFER_RUNS) else 0


if __name__ == "__main__":
    sys.exit(main())
