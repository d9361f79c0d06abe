"""Start-up cost of a server without models: time from exec to the first 200 from
/health/ready, and the resident memory (VmRSS, and which engine libraries are mapped)
once it is idle. Each run starts the binary on a fresh data folder.

  .venv/bin/python bench/startup_bench.py [--bin build/cinfer] [--runs 10] [--label after]

Writes bench/results/startup-<date>-<label>.json and prints a one-line summary.
"""

import argparse
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE_LIBS = ("libonnxruntime", "libtorch", "libopencv_dnn", "libopenvino", "libc10")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def status_kb(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def mapped_engine_libs(pid):
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({Path(line.split()[-1]).name for line in maps.splitlines()
                   if any(lib in line for lib in ENGINE_LIBS)})


def one_run(binary, settle_s):
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, CINFER_SERVER__HOST="127.0.0.1", CINFER_SERVER__PORT=str(port),
                   CINFER_SERVER__DATA_DIR=data, CINFER_SERVER__LOG_LEVEL="warn")
        start = time.monotonic()
        proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while not ready(port):
                if proc.poll() is not None:
                    raise SystemExit(f"the server exited with {proc.returncode}")
                if time.monotonic() - start > 30:
                    raise SystemExit("the server was not ready within 30 s")
                time.sleep(0.005)
            ready_ms = (time.monotonic() - start) * 1000
            time.sleep(settle_s)
            rss_mb = status_kb(proc.pid, "VmRSS") / 1024
            libs = mapped_engine_libs(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return ready_ms, rss_mb, libs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "build" / "cinfer"))
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--label", default="run")
    args = ap.parse_args()
    runs = [one_run(args.bin, args.settle) for _ in range(args.runs)]
    ready_ms = [r[0] for r in runs]
    rss = [r[1] for r in runs]
    result = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "label": args.label, "binary": args.bin,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "runs": args.runs,
        "ready_ms": {"median": statistics.median(ready_ms), "min": min(ready_ms),
                     "max": max(ready_ms)},
        "idle_rss_mb": {"median": statistics.median(rss), "min": min(rss), "max": max(rss)},
        "engine_libraries_mapped": runs[-1][2],
    }
    out = ROOT / "bench" / "results" / f"startup-{dt.date.today()}-{args.label}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.label}: ready median {result['ready_ms']['median']:.0f} ms, idle RSS median "
          f"{result['idle_rss_mb']['median']:.0f} MB, engine libraries mapped: "
          f"{', '.join(result['engine_libraries_mapped']) or 'none'} ({out.relative_to(ROOT)})")


if __name__ == "__main__":
    sys.exit(main())
