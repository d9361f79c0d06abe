#!/usr/bin/env python3
"""Where a served request's CPU goes, against the in-process raw ceiling.

Profiles, in one invocation on the same cores and the same JPEG as bench/peer_bench.py:
  raw     `cinfer model bench --threads 1 --batch 1 --image <jpeg>` (decode,
          preprocessing, ONNX Runtime; no HTTP, no threads to cross) under
          `perf record`: its mean latency split by the share of samples per library;
  served  the real server (default model config unless --tuned) under wrk at one
          concurrency, `perf record -p <server>` for the whole load: the server's CPU
          per response (utime + stime from /proc, as peer_bench measures it) split by
          the share of samples per thread group and library.
Thread groups: `worker` (model-worker-N: engine, decode, preprocessing, postprocessing,
the completion), `io` (http-io and the main thread, which runs an io_context too:
HTTP, routing, the token check, the response, socket syscalls), `usage-writer`,
`log-writer`, `other`. Libraries are folded into categories: engine (ONNX Runtime and
its plugin), decode (TurboJPEG, libjpeg, OpenCV), kernel, libc (malloc, memcpy,
locks), cinfer (the binary itself), sqlite, other.

The served table's engine and decode rows sit beside the raw ones. Everything else is
what serving adds. It is the issue's "CPU per request outside engine + decode",
broken down so that a missed target shows where the time went. Sampling at
999 Hz over ~10 s gives ~10 000 samples per core: shares below 0.5 % are noise.

Usage: .venv/bin/python bench/cpu_breakdown.py [--model cls|det] [--concurrency 16]
           [--seconds 10] [--tuned] [--queue-size N] [--out FILE]
Needs perf (Debian linux-perf; bench/setup-peer.sh installs it), wrk, build/cinfer and
the sample models and images (as peer_bench.py). Must run as root or with
kernel.perf_event_paranoid <= 1.
Writes bench/results/cpu_breakdown-<model>-c<c>-<date>.json unless --out says otherwise.
"""
import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peer_bench as pb  # noqa: E402
from benchlib import cpu_model, git_commit, write_result  # noqa: E402

CATEGORIES = [  # (category, substrings of the DSO name), first match wins
    ("engine", ("onnxruntime", "cinfer_engine_")),
    ("decode", ("turbojpeg", "libjpeg", "opencv", "libpng", "libwebp")),
    ("kernel", ("[kernel",)),
    ("libc", ("libc.so", "libstdc++", "libm.so", "ld-linux")),
    ("sqlite", ("libsqlite3",)),
    ("cinfer", ("cinfer",)),
]


def category(dso):
    for name, keys in CATEGORIES:
        if any(k in dso for k in keys):
            return name
    return "other"


def thread_group(comm):
    if comm.startswith("model-worker"):
        return "worker"
    if comm in ("http-io", "cinfer"):
        return "io"
    if comm in ("usage-writer", "log-writer"):
        return comm
    return "other"


def shares(data, by_thread):
    """{(group, category): share of samples} from `perf report` of `data`."""
    sort = "comm,dso" if by_thread else "dso"
    out = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", sort,
                          "-q", "--percent-limit", "0", "-t", "\t"],
                         capture_output=True, text=True, check=True).stdout
    result = defaultdict(float)
    for line in out.splitlines():
        cols = [c.strip() for c in line.split("\t") if c.strip()]
        if len(cols) < 2 or not cols[0].endswith("%"):
            continue
        pct = float(cols[0].rstrip("%")) / 100
        if by_thread and len(cols) >= 3:
            result[(thread_group(cols[1]), category(cols[2]))] += pct
        else:
            result[("raw", category(cols[-1]))] += pct
    return result


def profile_raw(m, body, seconds, tmp):
    data = tmp / "raw.perf"
    cmd = pb.raw_bench_cmd(pb.SAMPLES / m["file"], m["shape"], seconds, body,
                           {"input": m["input"], "output": m["output"]}, tmp)
    r = subprocess.run(["perf", "record", "-q", "-F", "999", "-o", str(data), "--"] + cmd,
                       capture_output=True, text=True, check=True)
    bench = json.loads(r.stdout)
    mean_us = bench["latency_ms"]["mean"] * 1000
    return {"mean_us": round(mean_us, 1), "p50_ms": bench["latency_ms"]["p50"],
            "us": {c: round(s * mean_us, 1) for (_, c), s in shares(data, False).items()}}


def profile_served(m, label, body, conc, seconds, tuned, queue_size, tmp):
    lua = tmp / "post.lua"
    lua.write_text(pb.WRK_LUA)
    (tmp / "served").mkdir()
    srv = pb.Cinfer(tmp / "served", queue_size=queue_size)
    try:
        cfg = {"input": m["input"], "output": m["output"], "input_shapes": {"x": m["shape"]},
               **pb.VARIANTS["cinfer-tuned" if tuned else "cinfer-default"]}
        srv.publish(label, pb.SAMPLES / m["file"], cfg)
        pb.wrk(srv, body, lua, max(2, pb.CORES), 2)  # warm-up
        data = tmp / "served.perf"
        rec = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-p", str(srv.proc.pid),
                                "-o", str(data), "--", "sleep", str(seconds + 1)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        point = pb.measure(srv, body, lua, conc, seconds, False)
        rec.wait()
        timings = server_timings(srv, body.read_bytes(), 300)
    finally:
        srv.stop()
    per_req = point["cpu_us_per_req"]
    us = defaultdict(dict)
    for (group, cat), s in shares(data, True).items():
        us[group][cat] = round(s * per_req, 1)
    return {"point": point, "cpu_us_per_req": per_req, "us": dict(us),
            "timing_ms_p50_one_at_a_time": timings}


def server_timings(srv, body, n):
    """Medians of the responses' own timing_ms over n requests sent one at a time
    (after the load): where a lone request's time goes inside the server."""
    headers = {"Content-Type": "image/jpeg", "Authorization": "Bearer " + srv.token}
    rows = []
    with requests.Session() as s:
        for _ in range(n):
            r = s.post(srv.url + srv.path, data=body, headers=headers, timeout=60)
            r.raise_for_status()
            rows.append(r.json()["timing_ms"])
    keys = sorted({k for row in rows for k in row})
    return {k: round(statistics.median(row.get(k, 0) for row in rows), 3) for k in keys}


def report(doc):
    raw, served = doc["raw"], doc["served"]
    per_req = served["cpu_us_per_req"]
    print(f"\n{doc['model']} c={doc['concurrency']} ({doc['config']}): "
          f"{served['point']['rps']} req/s, server CPU {per_req} us per response; "
          f"raw mean {raw['mean_us']} us per inference (decode included)")
    cats = [c for c, _ in CATEGORIES] + ["other"]
    groups = ["worker", "io", "usage-writer", "log-writer", "other"]
    print(f"{'us per request':20}" + "".join(f"{c:>9}" for c in cats) + f"{'total':>9}")
    print(f"{'raw':20}" + "".join(f"{raw['us'].get(c, 0):9.1f}" for c in cats)
          + f"{sum(raw['us'].values()):9.1f}")
    for g in groups:
        row = served["us"].get(g, {})
        if row:
            print(f"{'served ' + g:20}" + "".join(f"{row.get(c, 0):9.1f}" for c in cats)
                  + f"{sum(row.values()):9.1f}")
    d = doc["summary"]
    print(f"engine: served {d['engine_served_us']} vs raw {d['engine_raw_us']} us; decode: "
          f"served {d['decode_served_us']} vs raw {d['decode_raw_us']} us; outside engine + "
          f"decode: served {d['outside_served_us']} us (raw {d['outside_raw_us']}); server CPU "
          f"minus the raw mean: {d['cpu_minus_raw_mean_us']} us")
    print(f"one request at a time, the server's own timing_ms (p50): "
          f"{served['timing_ms_p50_one_at_a_time']}; raw p50 {raw['p50_ms']} ms")


def summarise(raw, served):
    def total(cat):
        return round(sum(row.get(cat, 0) for row in served["us"].values()), 1)
    engine, decode = total("engine"), total("decode")
    return {"engine_served_us": engine, "engine_raw_us": raw["us"].get("engine", 0),
            "decode_served_us": decode, "decode_raw_us": raw["us"].get("decode", 0),
            "outside_served_us": round(served["cpu_us_per_req"] - engine - decode, 1),
            "outside_raw_us": round(raw["mean_us"] - raw["us"].get("engine", 0)
                                    - raw["us"].get("decode", 0), 1),
            "cpu_minus_raw_mean_us": round(served["cpu_us_per_req"] - raw["mean_us"], 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="cls", choices=sorted(pb.MODELS))
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--tuned", action="store_true", help="instances 2, threads 1")
    ap.add_argument("--queue-size", type=int, help="CINFER_REQUEST__QUEUE_SIZE")
    ap.add_argument("--out")
    args = ap.parse_args()
    m = pb.MODELS[args.model]
    tmp = Path(tempfile.mkdtemp(prefix="cpu-breakdown-"))
    body = tmp / f"{args.model}.jpg"
    body.write_bytes(pb.inputs()[args.model])
    raw = profile_raw(m, body, args.seconds, tmp)
    served = profile_served(m, args.model, body, args.concurrency, args.seconds, args.tuned,
                            args.queue_size, tmp)
    doc = {"benchmark": "cpu_breakdown", "model": args.model, "concurrency": args.concurrency,
           "config": "tuned" if args.tuned else "default", "queue_size": args.queue_size,
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "commit": git_commit(), "cpu": cpu_model(), "cores": pb.CORES,
           "raw": raw, "served": served, "summary": summarise(raw, served)}
    report(doc)
    write_result(doc, args.out, f"cpu_breakdown-{args.model}-c{args.concurrency}")


if __name__ == "__main__":
    main()
