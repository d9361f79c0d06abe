#!/usr/bin/env python3
"""Raw engine baseline: `cinfer model bench` (C++ ONNX Runtime engine) versus the
Python `onnxruntime` package on the same models, shapes, thread counts and machine.

Usage: .venv/bin/python bench/engine_bench.py [--seconds 10] [--out bench/results/...json]
Writes one JSON file under bench/results/ and prints a Markdown table.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
CINFER = os.environ.get("CINFER_BIN", str(ROOT / "build" / "cinfer"))
CASES = [
    ("ch_ppocr_mobile_v2.0_cls_infer.onnx", "cls", [1, 3, 48, 192]),
    ("ch_PP-OCRv4_det_infer.onnx", "det", [1, 3, 640, 640]),
]


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


def cinfer_bench(model, shape, threads, seconds):
    out = subprocess.run(
        [CINFER, "model", "bench", str(model), "--engine", "onnxruntime", "--threads", str(threads),
         "--shape", "x=" + ",".join(map(str, shape)), "--seconds", str(seconds)],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--out")
    args = ap.parse_args()
    version = subprocess.run([CINFER, "version"], capture_output=True, text=True).stdout.strip()
    results = []
    for file, label, shape in CASES:
        model = ROOT / "models" / "samples" / file
        for threads in (1, 2):
            c = cinfer_bench(model, shape, threads, args.seconds)
            p = python_ort(model, shape, threads, args.seconds)
            results.append({"model": label, "file": file, "shape": shape, "threads": threads,
                            "cinfer": c, "python_onnxruntime": p,
                            "throughput_ratio": c["throughput_per_s"] / p["throughput_per_s"]})
    doc = {
        "benchmark": "engine_bench",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cinfer": version,
        "python_onnxruntime": ort.__version__,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "model_name": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                        if l.startswith("model name")), "?")},
        "seconds_per_case": args.seconds,
        "results": results,
    }
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / (
        "engine_bench-" + datetime.date.today().isoformat() + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out}\n")
    print("| model | shape | threads | cinfer p50 ms | cinfer /s | python ORT p50 ms | python ORT /s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        c, p = r["cinfer"], r["python_onnxruntime"]
        print(f"| {r['model']} | {'x'.join(map(str, r['shape']))} | {r['threads']} | "
              f"{c['latency_ms']['p50']:.2f} | {c['throughput_per_s']:.1f} | "
              f"{p['latency_ms']['p50']:.2f} | {p['throughput_per_s']:.1f} | {r['throughput_ratio']:.2f} |")


if __name__ == "__main__":
    main()
