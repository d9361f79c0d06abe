#!/usr/bin/env python3
"""The dashboard overview's cost on a large inference log.

Starts the real server once to create a data directory (setup + login), stops
it, inserts 1,000,000 inference_logs rows spread over the last hour across 5
models straight into <data_dir>/cinfer.db with sqlite3, restarts the server and
times GET /api/v1/internal/stats/overview for a one-hour window in 60 s steps
and a one-day window in 600 s steps (median of 5 each). Then, while one client
runs the one-hour overview in a loop, it measures the p50 latency of
GET /health/live and of an admin call (GET /api/v1/internal/models), probed
sequentially for 5 s each, beside the same measurement with the server idle.

The load generator is this Python process; it shares the machine's cores with
the server, which the result records (nproc, CPU model).

Usage: .venv/bin/python bench/overview_cost.py [--rows 1000000] [--out FILE]
"""
import argparse
import datetime
import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import free_port, stop_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CINFER = os.environ.get("CINFER_BIN", str(ROOT / "build" / "cinfer"))
API = "/api/v1/internal"
USER, PASSWORD = "bench", "Bench-Pass-123!"
MODELS = 5


def iso(ts):
    """Unix seconds as stored: 2026-11-29T18:19:00.123Z."""
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class Server:
    def __init__(self, data_dir, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CINFER_")}
        env.update({"CINFER_SERVER__PORT": str(self.port),
                    "CINFER_SERVER__DATA_DIR": str(data_dir),
                    "CINFER_SERVER__ACCESS_LOG": "false",
                    "CINFER_SERVER__LOG_LEVEL": "warn"})
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([CINFER, "serve"], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for _ in range(600):
            if self.proc.poll() is not None:
                sys.exit(f"server exited with {self.proc.returncode}; see {log_path}")
            try:
                if requests.get(self.url + "/health/live", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        sys.exit(f"server did not come up; see {log_path}")

    def login(self):
        r = requests.post(self.url + API + "/auth/login",
                          json={"username": USER, "password": PASSWORD})
        r.raise_for_status()
        return {"Authorization": "Bearer " + r.json()["access_token"]}

    def stop(self):
        stop_server(self.proc, self.log)


def insert_rows(db_path, rows, now):
    """5 draft models and `rows` logs evenly over [now - 3600, now), oldest first."""
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    created = iso(now - 7200)
    model_ids = [f"bench-model-{i}" for i in range(MODELS)]
    con.executemany(
        "INSERT INTO models (id, name, engine_type, config, io_schema, status, created_at, "
        "updated_at) VALUES (?, ?, 'onnxruntime', '{}', '{}', 'draft', ?, ?)",
        [(m, f"bench {i}", created, created) for i, m in enumerate(model_ids)])

    def gen():
        step = 3600.0 / rows
        for i in range(rows):
            error = i % 50 == 0  # 2 % errors
            yield (f"log-{i:08d}", model_ids[i % MODELS], f"req-{i}", "127.0.0.1",
                   "error" if error else "ok", 503 if error else 200,
                   "MODEL_BUSY" if error else None, 2.0 + (i * 7919 % 1000) / 10.0,
                   "infer", iso(now - 3600 + i * step))

    t0 = time.monotonic()
    con.executemany(
        "INSERT INTO inference_logs (id, model_id, request_id, client_ip, status, http_status, "
        "error_code, latency_ms, route, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", gen())
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return time.monotonic() - t0


def timed_get(session, url, headers=None):
    t0 = time.perf_counter()
    r = session.get(url, headers=headers, timeout=120)
    ms = (time.perf_counter() - t0) * 1000
    r.raise_for_status()
    return ms, r


def overview(server, auth, window, step, runs=5):
    s = requests.Session()
    times, body = [], None
    for _ in range(runs):
        ms, r = timed_get(s, f"{server.url}{API}/stats/overview?window_s={window}&step_s={step}",
                          auth)
        times.append(ms)
        body = r.json()
    return {"window_s": window, "step_s": step, "runs_ms": [round(t, 1) for t in times],
            "median_ms": round(statistics.median(times), 1),
            "rows_scanned": body["rows_scanned"], "requests": body["totals"]["requests"],
            "buckets": len(body["series"]), "models": len(body["models"])}


def probe(server, auth, path, seconds):
    """Sequential GETs of `path`, 20 ms apart, for `seconds`: p50, p90 and max (ms)."""
    s = requests.Session()
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        times.append(timed_get(s, server.url + path, auth)[0])
        time.sleep(0.02)
    times.sort()
    return {"samples": len(times), "p50_ms": round(statistics.median(times), 2),
            "p90_ms": round(times[int(0.9 * (len(times) - 1))], 2),
            "max_ms": round(times[-1], 2)}


def concurrent(server, auth, seconds=5.0):
    def both():
        return {"health_live": probe(server, None, "/health/live", seconds),
                "models_list": probe(server, auth, API + "/models", seconds)}

    idle = both()
    stop = threading.Event()
    done = []

    def loop():
        s = requests.Session()
        while not stop.is_set():
            done.append(timed_get(s, f"{server.url}{API}/stats/overview?window_s=3600&step_s=60",
                                  auth)[0])

    t = threading.Thread(target=loop)
    t.start()
    time.sleep(0.2)  # let the first overview start
    try:
        busy = both()
    finally:
        stop.set()
        t.join()
    busy["overviews_completed"] = len(done)
    busy["overview_median_ms"] = round(statistics.median(done), 1) if done else None
    return {"probe_s": seconds, "probe_interval_ms": 20, "idle": idle,
            "during_overview_loop": busy}


def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu_model": model, "arch": platform.machine(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    today = datetime.date.today().isoformat()
    out = Path(args.out or ROOT / "bench" / "results" / f"overview-1m-{today}.json")
    result = {"bench": "overview_cost", "date": today, "machine": machine(), "rows": args.rows,
              "models": MODELS}

    with tempfile.TemporaryDirectory(prefix="cinfer-overview-") as tmp:
        data = Path(tmp) / "data"
        log = Path(tmp) / "server.log"
        server = Server(data, log)
        try:
            code = (data / "setup-code").read_text().strip()
            r = requests.post(server.url + API + "/system/setup",
                              json={"username": USER, "password": PASSWORD, "setup_code": code})
            r.raise_for_status()
            server.login()
        finally:
            server.stop()

        now = time.time()
        result["insert_s"] = round(insert_rows(data / "cinfer.db", args.rows, now), 1)
        result["db_mb"] = round((data / "cinfer.db").stat().st_size / 2**20, 1)
        print(f"inserted {args.rows} rows in {result['insert_s']} s ({result['db_mb']} MB)",
              flush=True)

        server = Server(data, log)
        try:
            auth = server.login()
            result["overview_1h_60s"] = overview(server, auth, 3600, 60)
            result["overview_1d_600s"] = overview(server, auth, 86400, 600)
            result["concurrent"] = concurrent(server, auth)
        finally:
            server.stop()

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
