#!/usr/bin/env python3
"""Peer benchmark: cinfer against the design's Python stack (FastAPI + Uvicorn + ONNX
Runtime, bench/peers/fastapi_server.py) and against the raw engine, in one run, on the
same cores and with the same image bytes.

Servers, each started fresh per model so it has the cores alone:
  cinfer-default  the real server binary, the model published with a config that
                  names only its input/output (no `instances`, no `engine_options`:
                  the server sizes them from the cores, docs/MODEL_CONFIG.md);
  cinfer-tuned    the same with `instances: 2` and `engine_options: {"threads": 1}`;
  fastapi         the peer under `uvicorn --workers <cores>`, one single-threaded
                  ONNX Runtime session per worker process.
Both cinfer variants run with the server's default settings except port, data
directory, log level `warn`, no access log (the peer logs none either) and
`request.timeout_ms` 60000 (the peer has no deadline; with it, a slow det point
measures throughput instead of deadline shedding).

Models: PP-OCR cls (a 48x192 JPEG strip of models/samples/images/page.png) and PP-OCR
det (models/samples/images/rocket.jpg, a 427x640 photograph, stretched to 640x640 by
each server). Every request of a point carries the same JPEG bytes.

Load: wrk (keep-alive connections; -t min(c, 2), -c c, -d seconds) with a Lua script
that POSTs the JPEG as `Content-Type: image/jpeg` with the API token and prints its
summary as JSON: 2xx/non-2xx/503 counts, socket errors, p50/p99 latency. wrk runs on
the same cores as the server under test (stated in the output). Per point: rps
(2xx responses per second), p50/p99 (of every response), errors (connect, read,
write, timeout), non_2xx, status_503, the server's CPU time per response (utime +
stime from /proc of the server and, for uvicorn, every process under it) and its
memory after the point (rss_mb: the sum of VmRSS, which counts pages shared between
uvicorn workers once per worker; pss_mb shares them out). At the highest concurrency
a thread also GETs `/health/live` every 100 ms during the load and reports its max
and p99 latency.

Admission (--queue-size N): wrk's one latency distribution mixes the fast 503s into
the 200s, so each cinfer point of such a run is driven a second time, after wrk, by
bench/.build/loadgen (bench/loadgen/loadgen.cc, built by bench/setup-peer.sh: c
keep-alive connections, one blocking thread each, the same POST, the same seconds)
which splits latency by status code. The point gains n_2xx, n_503, n_other,
loadgen_errors, p50_2xx_ms/p99_2xx_ms (of the 200 responses alone) and p99_503_ms;
the c=64 ratios row gains c64_p99_2xx_over_c16 and its verdict against "p99 of the
200s at c=64 <= 2x c=16", per cinfer server.

Raw ceiling: `cinfer model bench --threads 1 --batch 1 --image <the same JPEG>`
(in-process: decode, preprocessing by the model config's `input`, ONNX Runtime; no
HTTP) times the number of cores, as the issue defines it ("decode included"); the
engine alone on a synthetic tensor is kept beside it. Ratios printed and stored, per
model and concurrency: cinfer-tuned/fastapi, cinfer-default/cinfer-tuned, every
server / raw ceiling, each server's CPU per request minus the raw mean ("outside"),
and its p50 minus the raw p50.

Usage: .venv/bin/python bench/peer_bench.py [--seconds 10] [--models cls,det]
           [--concurrency 1,4,16,64] [--servers cinfer-default,cinfer-tuned,fastapi]
           [--queue-size N] [--repeat N] [--out FILE]
With --repeat N the whole matrix runs N times and each point (and the raw ceiling)
is the round with the median rps; every round is kept under "rounds".
Needs: bash bench/setup-peer.sh (bench/.venv-peer, wrk, bench/.build/loadgen), build/cinfer,
models/samples (scripts/fetch-sample-models.sh) and models/samples/images
(scripts/fetch-sample-images.sh), requests and Pillow in .venv.
Writes bench/results/peer_bench-<date>.json unless --out says otherwise.
PEER_BENCH_CINFER_SET=KEY=VALUE,... adds CINFER_* settings to the cinfer servers (A/B runs).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from PIL import Image, ImageStat

from benchlib import (CLS_INPUT, DET_INPUT, cpu_model, free_port, git_commit, jpeg, stop_server,
                      write_result)

ROOT = Path(__file__).resolve().parents[1]
CINFER = os.environ.get("CINFER_BIN", str(ROOT / "build" / "cinfer"))
SAMPLES = ROOT / "models" / "samples"
IMAGES = SAMPLES / "images"
PEER_DIR = ROOT / "bench" / "peers"
PEER_VENV = ROOT / "bench" / ".venv-peer"
LOADGEN = ROOT / "bench" / ".build" / "loadgen"
API = "/api/v1/internal"
SERVERS = ("cinfer-default", "cinfer-tuned", "fastapi")
CORES = len(os.sched_getaffinity(0))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

MODELS = {
    "cls": {"file": "ch_ppocr_mobile_v2.0_cls_infer.onnx", "shape": [1, 3, 48, 192],
            "input": CLS_INPUT,
            "output": {"task": "classification", "labels": ["0", "180"], "top_k": 2},
            "peer": {"PEER_TASK": "classification", "PEER_LABELS": "0,180"}},
    "det": {"file": "ch_PP-OCRv4_det_infer.onnx", "shape": [1, 3, 640, 640],
            "input": DET_INPUT, "output": {"task": "text_detection"},
            "peer": {"PEER_TASK": "text_detection"}},
}
# The model config of each cinfer variant, beyond input/output and input_shapes
# (which the ONNX Runtime engine does not use; it fixes the shape for validation
# and the publish-time warm-up).
VARIANTS = {"cinfer-default": {},
            "cinfer-tuned": {"instances": 2, "engine_options": {"threads": 1}}}

# wrk script: POSTs the JPEG named by PEER_BENCH_BODY with the token PEER_BENCH_TOKEN
# (if any); counts responses by class in each thread's Lua state and prints one JSON
# line at the end. Latencies are in microseconds.
WRK_LUA = r"""
local f = assert(io.open(os.getenv("PEER_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
local token = os.getenv("PEER_BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

ok, non2xx, s503 = 0, 0, 0
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1
  else
    non2xx = non2xx + 1
    if status == 503 then s503 = s503 + 1 end
  end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local n_ok, n_non2xx, n_503 = 0, 0, 0
  for _, t in ipairs(threads) do
    n_ok = n_ok + t:get("ok")
    n_non2xx = n_non2xx + t:get("non2xx")
    n_503 = n_503 + t:get("s503")
  end
  local e = summary.errors
  io.write(string.format(
    'PEER_BENCH_JSON {"requests": %d, "duration_us": %d, "ok": %d, "non_2xx": %d, ' ..
    '"status_503": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
    '"status_ge_400": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, n_ok, n_non2xx, n_503, e.connect, e.read,
    e.write, e.timeout, e.status, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def wait_live(url, proc, what, timeout=60):
    """GETs url/health/live until it answers 200 (the JSON body) or proc exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        try:
            r = requests.get(url + "/health/live", timeout=1)
            if r.ok:
                return r.json()
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


def process_tree(pid):
    """pid and every process below it (uvicorn's workers), from /proc."""
    children = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def cpu_seconds(pids):
    """utime + stime of the live processes in pids."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def memory_mb(pids):
    """(sum of VmRSS, sum of Pss) over pids, in MiB."""
    rss = pss = 0
    for pid in pids:
        try:
            rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return round(rss / 2**20, 1), round(pss / 2**20, 1)


class Cinfer:
    """The real server on a random port with a fresh data directory, an admin and an
    API token without limits (the approach of bench/served_vs_raw.py)."""

    def __init__(self, workdir, queue_size=None):
        self.dir = Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.queue_size = queue_size
        env = {k: v for k, v in os.environ.items() if not k.startswith("CINFER_")}
        self.settings = {"CINFER_SERVER__PORT": str(self.port),
                         "CINFER_SERVER__DATA_DIR": str(self.dir / "data"),
                         "CINFER_SERVER__ACCESS_LOG": "false",
                         "CINFER_SERVER__LOG_LEVEL": "warn",
                         "CINFER_REQUEST__TIMEOUT_MS": "60000"}
        if queue_size is not None:  # admission: the per-model queue bound
            self.settings["CINFER_REQUEST__QUEUE_SIZE"] = str(queue_size)
        # More settings for an A/B run, e.g. PEER_BENCH_CINFER_SET=CINFER_METRICS__ENABLED=false
        for item in filter(None, os.environ.get("PEER_BENCH_CINFER_SET", "").split(",")):
            key, _, value = item.partition("=")
            self.settings[key.strip()] = value.strip()
        env.update(self.settings)
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen([CINFER, "serve"], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_live(self.url, self.proc, "cinfer")
        code = (self.dir / "data" / "setup-code").read_text().strip()
        r = requests.post(self.url + API + "/system/setup", json={
            "username": "bench", "password": "Bench-Pass-123!", "setup_code": code})
        r.raise_for_status()
        r = requests.post(self.url + API + "/auth/login",
                          json={"username": "bench", "password": "Bench-Pass-123!"})
        r.raise_for_status()
        self.auth = {"Authorization": "Bearer " + r.json()["access_token"]}
        r = requests.post(self.url + API + "/tokens", headers=self.auth, json={
            "name": "bench", "rate_limit_per_minute": None, "monthly_limit": None,
            "expires_at": None})
        r.raise_for_status()
        self.token = r.json()["token"]
        self.path = None

    def publish(self, name, file, config):
        with open(file, "rb") as f:
            r = requests.post(self.url + API + "/models", headers=self.auth,
                              data={"name": name, "config": json.dumps(config)},
                              files={"file": (Path(file).name, f)}, timeout=300)
        r.raise_for_status()
        mid = r.json()["id"]
        r = requests.post(f"{self.url}{API}/models/{mid}/publish", headers=self.auth,
                          timeout=300)
        r.raise_for_status()
        self.path = f"/api/v1/models/{mid}/infer"

    def pids(self):
        return process_tree(self.proc.pid)

    def stop(self):
        stop_server(self.proc, self.log)


class FastApiPeer:
    """bench/peers/fastapi_server.py under `uvicorn --workers <cores>`."""

    def __init__(self, workdir, model):
        self.dir = Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self.path = "/infer"
        inp = model["input"]
        env = dict(os.environ)
        env.update({"PEER_MODEL": str(SAMPLES / model["file"]),
                    "PEER_WIDTH": str(inp["width"]), "PEER_HEIGHT": str(inp["height"]),
                    "PEER_COLOR": inp["color"], "PEER_SCALE": repr(inp["scale"]),
                    "PEER_MEAN": ",".join(map(str, inp["mean"])),
                    "PEER_STD": ",".join(map(str, inp["std"])),
                    **model["peer"]})
        env.setdefault("PEER_THREADS", "1")  # images at once per worker (the peer's default)
        self.settings = {k: v for k, v in env.items() if k.startswith("PEER_")}
        self.settings["workers"] = CORES
        self.log = open(self.dir / "peer.log", "wb")
        self.proc = subprocess.Popen(
            [str(PEER_VENV / "bin" / "uvicorn"), "fastapi_server:app",
             "--app-dir", str(PEER_DIR), "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(CORES), "--no-access-log", "--log-level", "warning"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        # Ready when every worker has answered (each has loaded and warmed its
        # session before it accepts); new connections land on whichever accepts.
        seen, deadline = set(), time.monotonic() + 120
        while len(seen) < CORES and time.monotonic() < deadline:
            seen.add(wait_live(self.url, self.proc, "uvicorn")["pid"])
            time.sleep(0.05)
        if len(seen) < CORES:
            print(f"  warning: only {len(seen)} of {CORES} uvicorn workers answered",
                  flush=True)

    def pids(self):
        return process_tree(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in reversed(self.pids()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait()
        self.log.close()


class HealthProbe(threading.Thread):
    """GET /health/live every 100 ms on one keep-alive connection until stopped."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url + "/health/live"
        self.stop_flag = threading.Event()
        self.lat_ms, self.failures = [], 0

    def run(self):
        s = requests.Session()
        tick = time.perf_counter()
        while not self.stop_flag.is_set():
            t0 = time.perf_counter()
            try:
                ok = s.get(self.url, timeout=30).ok
            except requests.RequestException:
                ok = False
            self.lat_ms.append((time.perf_counter() - t0) * 1000)
            self.failures += not ok
            tick += 0.1
            self.stop_flag.wait(max(0.0, tick - time.perf_counter()))
        s.close()

    def result(self):
        lat = sorted(self.lat_ms)
        if not lat:
            return None
        return {"probes": len(lat), "failures": self.failures,
                "p50_ms": round(lat[len(lat) // 2], 2),
                "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 2),
                "max_ms": round(lat[-1], 2)}


def wrk(server, body_file, lua_file, conc, seconds):
    """One wrk run against server; returns wrk's JSON summary."""
    env = dict(os.environ, PEER_BENCH_BODY=str(body_file), PEER_BENCH_TOKEN=server.token)
    cmd = ["wrk", "-t", str(min(conc, 2)), "-c", str(conc), "-d", f"{seconds}s",
           "--timeout", "60s", "-s", str(lua_file), server.url + server.path]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                         timeout=seconds + 120)
    for line in out.stdout.splitlines():
        if line.startswith("PEER_BENCH_JSON "):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError(f"wrk printed no summary (rc {out.returncode}):\n"
                       f"{out.stdout}\n{out.stderr}")


def loadgen(server, body_file, conc, seconds):
    """One bench/.build/loadgen run: wrk's POSTs, with latency per status code."""
    cmd = [str(LOADGEN), "--url", server.url + server.path, "-c", str(conc), "-d", str(seconds),
           "--timeout", "60", "--body", str(body_file), "--header", "Content-Type: image/jpeg"]
    if server.token:
        cmd += ["--header", "Authorization: Bearer " + server.token]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed (rc {out.returncode}): {out.stderr}")
    return json.loads(out.stdout)


def by_status(lg):
    """The admission fields of a point from loadgen's summary; *_2xx_ms are of the 200s."""
    st = lg["status"]
    n_2xx = sum(v["count"] for k, v in st.items() if k.startswith("2"))
    n_503 = st.get("503", {}).get("count", 0)
    return {"n_2xx": n_2xx, "n_503": n_503, "n_other": lg["requests"] - n_2xx - n_503,
            "loadgen_errors": sum(lg["errors"].values()),
            "p50_2xx_ms": st.get("200", {}).get("p50_ms"),
            "p99_2xx_ms": st.get("200", {}).get("p99_ms"),
            "p99_503_ms": st.get("503", {}).get("p99_ms")}


def settle(pids, timeout=300):
    """Waits until the server is idle: when wrk stops, requests it had in flight may
    still be queued in the server (64 det inferences take seconds), and the next
    point must not pay for them. Idle: under 12 % of one core over 250 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c0 = cpu_seconds(pids)
        time.sleep(0.25)
        if cpu_seconds(pids) - c0 < 0.03:
            return
    print("  warning: the server did not become idle", flush=True)


def measure(server, body_file, lua_file, conc, seconds, probe_health):
    pids = server.pids()
    settle(pids)
    probe = HealthProbe(server.url) if probe_health else None
    cpu0 = cpu_seconds(pids)
    if probe:
        probe.start()
    w = wrk(server, body_file, lua_file, conc, seconds)
    if probe:
        probe.stop_flag.set()
        probe.join()
    cpu = cpu_seconds(pids) - cpu0
    rss, pss = memory_mb(server.pids())
    dur = w["duration_us"] / 1e6
    point = {"rps": round(w["ok"] / dur, 1), "p50_ms": w["p50_us"] / 1000,
             "p99_ms": w["p99_us"] / 1000, "max_ms": w["max_us"] / 1000,
             "errors": w["connect"] + w["read"] + w["write"] + w["timeout"],
             "non_2xx": w["non_2xx"], "status_503": w["status_503"],
             "responses": w["requests"], "seconds": round(dur, 3),
             "server_cpu_s": round(cpu, 3),
             "cpu_us_per_req": round(cpu / w["requests"] * 1e6, 1) if w["requests"] else None,
             "rss_mb": rss, "pss_mb": pss}
    if probe:
        point["health_live"] = probe.result()
    if getattr(server, "queue_size", None) is not None:  # admission: 200s apart from 503s
        settle(pids)
        point.update(by_status(loadgen(server, body_file, conc, seconds)))
    return point


def raw_bench_cmd(file, shape, seconds, image=None, config=None, tmp=None):
    """The `cinfer model bench` command line: one engine thread, batch 1. With
    `image`, every run first decodes and preprocesses that JPEG by `config`'s
    `input` (what the server does before the engine call); without, a synthetic
    tensor."""
    cmd = [CINFER, "model", "bench", str(file), "--engine", "onnxruntime", "--threads", "1",
           "--batch", "1", "--shape", "x=" + ",".join(map(str, shape)),
           "--seconds", str(seconds)]
    if image is not None:
        cfg = Path(tmp) / f"raw-config-{Path(image).stem}.json"
        cfg.write_text(json.dumps(config))
        cmd += ["--image", str(image), "--model-config", str(cfg)]
    return cmd


def raw_bench(file, shape, seconds, image=None, config=None, tmp=None):
    """Runs raw_bench_cmd; its throughput and latency."""
    cmd = raw_bench_cmd(file, shape, seconds, image, config, tmp)
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return {"threads": 1, "batch": 1, "inferences_per_s": round(r["throughput_per_s"], 1),
            "p50_ms": r["latency_ms"]["p50"], "mean_ms": r["latency_ms"]["mean"],
            "ceiling_rps": round(r["throughput_per_s"] * CORES, 1)}


def raw_both(m, body, seconds, tmp):
    """The raw ceiling with decode (the issue's definition) and the engine alone."""
    engine = raw_bench(SAMPLES / m["file"], m["shape"], seconds)
    decoded = raw_bench(SAMPLES / m["file"], m["shape"], seconds, body,
                        {"input": m["input"], "output": m["output"]}, tmp)
    return {**decoded, "decode_included": True, "engine_only": engine}


def inputs():
    """The one JPEG each model is driven with. cls: the 24-pixel strip of page.png
    with the most ink, resized to 192x48 (as bench/served_vs_raw.py cuts them);
    det: rocket.jpg as it is."""
    page = Image.open(IMAGES / "page.png").convert("RGB")
    w, h = page.size
    strips = [page.crop((0, y, w, y + 24)) for y in range(0, h - 24, 24)]
    inkiest = min(strips, key=lambda s: ImageStat.Stat(s.convert("L")).mean[0])
    return {"cls": jpeg(inkiest.resize((192, 48))),
            "det": (IMAGES / "rocket.jpg").read_bytes()}


def sample_answer(server, body):
    """One request before the load: proves the server answers, and what."""
    headers = {"Content-Type": "image/jpeg"}
    if server.token:
        headers["Authorization"] = "Bearer " + server.token
    r = requests.post(server.url + server.path, data=body, headers=headers, timeout=60)
    r.raise_for_status()
    j = r.json()
    # cinfer: keep the result, drop ids and timings; text regions are summarised by count.
    j = {k: v for k, v in j.items() if k not in ("model_id", "model_version", "timing_ms")}
    if isinstance(j.get("regions"), list):
        j["regions"] = len(j["regions"])
    return j


def machine():
    return {"cores": CORES, "cpu_model": cpu_model(), "arch": platform.machine(),
            "kernel": platform.release()}


def check_prerequisites(models, queue_size):
    missing = [SAMPLES / MODELS[m]["file"] for m in models
               if not (SAMPLES / MODELS[m]["file"]).is_file()]
    missing += [p for p in (IMAGES / "page.png", IMAGES / "rocket.jpg") if not p.is_file()]
    if missing:
        print("missing: " + ", ".join(map(str, missing)) +
              "\nfetch them with scripts/fetch-sample-models.sh and "
              "scripts/fetch-sample-images.sh", file=sys.stderr)
        sys.exit(2)
    problems = []
    if not os.access(CINFER, os.X_OK):
        problems.append(f"no server binary at {CINFER} (build it, or set CINFER_BIN)")
    if not shutil.which("wrk"):
        problems.append("wrk is not installed: run bash bench/setup-peer.sh")
    if not (PEER_VENV / "bin" / "uvicorn").exists():
        problems.append(f"no {PEER_VENV.relative_to(ROOT)}: run bash bench/setup-peer.sh")
    src = ROOT / "bench" / "loadgen" / "loadgen.cc"
    if queue_size is not None and (not os.access(LOADGEN, os.X_OK) or
                                   LOADGEN.stat().st_mtime < src.stat().st_mtime):
        problems.append(f"{LOADGEN.relative_to(ROOT)} is missing or older than "
                        f"{src.relative_to(ROOT)}: run bash bench/setup-peer.sh")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(2)


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def p99_2xx_growth(per_server):
    """The admission target, per server with loadgen points (a --queue-size run): p99 of
    the 200s at c=64 over that at c=16, and whether it is at most 2x."""
    growth, verdict = {}, {}
    for s, pts in per_server.items():
        hi, lo = (pts.get(c, {}).get("p99_2xx_ms") for c in ("64", "16"))
        if hi is not None and lo:
            growth[s] = ratio(hi, lo)
            verdict[s] = "pass" if hi <= 2 * lo else "fail"
    return {"c64_p99_2xx_over_c16": growth,
            "verdict_p99_2xx_c64_le_2x_c16": verdict} if growth else {}


def ratios(doc):
    """Within-run ratios of throughput (rps), per model and concurrency."""
    out = {}
    for label, per_server in doc["results"].items():
        ceiling = doc["raw"][label]["ceiling_rps"]
        rows = {}
        concs = sorted({int(c) for pts in per_server.values() for c in pts})
        for c in concs:
            rps = {s: per_server.get(s, {}).get(str(c), {}).get("rps") for s in SERVERS}
            raw = doc["raw"][label]
            outside, p50_excess = {}, {}
            for s in SERVERS:
                p = per_server.get(s, {}).get(str(c), {})
                if p.get("cpu_us_per_req") is not None:
                    outside[s] = round(p["cpu_us_per_req"] - raw["mean_ms"] * 1000)
                if p.get("p50_ms") is not None:
                    p50_excess[s] = round(p["p50_ms"] - raw["p50_ms"], 3)
            rows[str(c)] = {
                "cpu_outside_raw_us": outside,
                "p50_minus_raw_p50_ms": p50_excess,
                "cinfer_tuned_over_fastapi": ratio(rps["cinfer-tuned"], rps["fastapi"]),
                "cinfer_default_over_tuned": ratio(rps["cinfer-default"], rps["cinfer-tuned"]),
                **{f"{s.replace('-', '_')}_over_raw_ceiling": ratio(rps[s], ceiling)
                   for s in SERVERS}}
        if "64" in rows:
            rows["64"].update(p99_2xx_growth(per_server))
        out[label] = rows
    return out


def print_table(doc):
    head = (f"{'model':5} {'server':15} {'c':>3} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'err':>4} {'non2xx':>6} {'503':>5} {'cpu us/req':>10} {'rss MB':>7} "
            f"{'health p99/max ms':>18}")
    print("\n" + head)
    print("-" * len(head))
    for label, per_server in doc["results"].items():
        for s, pts in per_server.items():
            for c, p in pts.items():
                h = p.get("health_live")
                hs = f"{h['p99_ms']:.1f}/{h['max_ms']:.1f}" if h else ""
                print(f"{label:5} {s:15} {c:>3} {p['rps']:8.1f} {p['p50_ms']:8.2f} "
                      f"{p['p99_ms']:8.2f} {p['errors']:4d} {p['non_2xx']:6d} "
                      f"{p['status_503']:5d} {p['cpu_us_per_req'] or 0:10.0f} "
                      f"{p['rss_mb']:7.1f} {hs:>18}")
    print(f"\nraw ceiling = {CORES} cores x single-thread `cinfer model bench --image` "
          "inferences/s (decode + preprocess + engine, no HTTP)")
    for label, raw in doc["raw"].items():
        e = raw["engine_only"]
        print(f"  {label}: {raw['inferences_per_s']:.1f}/s per thread "
              f"({raw['mean_ms']:.3f} ms mean, p50 {raw['p50_ms']:.3f}) -> ceiling "
              f"{raw['ceiling_rps']:.1f} req/s; engine alone {e['inferences_per_s']:.1f}/s "
              f"({e['mean_ms']:.3f} ms mean)")
    print(f"\n{'model':5} {'c':>3} {'tuned/fastapi':>13} {'default/tuned':>13} "
          f"{'default/raw':>11} {'tuned/raw':>9} {'fastapi/raw':>11}")
    fmt = lambda v: f"{v:.2f}" if v is not None else "-"
    for label, rows in doc["ratios"].items():
        for c, r in rows.items():
            print(f"{label:5} {c:>3} {fmt(r['cinfer_tuned_over_fastapi']):>13} "
                  f"{fmt(r['cinfer_default_over_tuned']):>13} "
                  f"{fmt(r['cinfer_default_over_raw_ceiling']):>11} "
                  f"{fmt(r['cinfer_tuned_over_raw_ceiling']):>9} "
                  f"{fmt(r['fastapi_over_raw_ceiling']):>11}  outside us "
                  f"{r['cpu_outside_raw_us']}  p50-raw ms {r['p50_minus_raw_p50_ms']}")
            if "c64_p99_2xx_over_c16" in r:
                print(f"{'':9} p99 of 200s, c=64 over c=16 (loadgen): "
                      f"{r['c64_p99_2xx_over_c16']}  <= 2x: {r['verdict_p99_2xx_c64_le_2x_c16']}")


def median_by(runs, pick, key):
    """The item of the round whose `key` is the median (the lower one for an even count)."""
    items = sorted((pick(run) for run in runs), key=lambda item: item[key] or 0)
    return items[(len(items) - 1) // 2]


def measure_model(label, servers, concs, seconds, images, tmp, lua, queue_size, doc, run):
    """One round for one model: the raw ceiling, then each server fresh, every concurrency."""
    m = MODELS[label]
    tmp.mkdir(exist_ok=True)
    body = tmp / f"{label}.jpg"
    body.write_bytes(images[label])
    print(f"{label}: raw engine (cinfer model bench, 1 thread) ...", flush=True)
    run["raw"][label] = raw_both(m, body, seconds, tmp)
    run["results"][label] = {}
    for name in servers:
        work = tmp / f"{label}-{name}"
        work.mkdir()
        server = FastApiPeer(work, m) if name == "fastapi" else Cinfer(work, queue_size)
        try:
            if name != "fastapi":
                cfg = {"input": m["input"], "output": m["output"],
                       "input_shapes": {"x": m["shape"]}, **VARIANTS[name]}
                server.publish(f"{label}-{name}", SAMPLES / m["file"], cfg)
                setup = {"settings": server.settings, "model_config": cfg}
            else:
                setup = {"settings": server.settings}
            doc["servers"].setdefault(label, {})[name] = setup
            doc["sample_answers"].setdefault(label, {})[name] = \
                sample_answer(server, images[label])
            wrk(server, body, lua, max(2, CORES), min(2, seconds))  # warm-up
            run["results"][label][name] = {}
            for c in concs:
                p = measure(server, body, lua, c, seconds, c == max(concs))
                run["results"][label][name][str(c)] = p
                print(f"  {label} {name:14} c={c:<3} {p['rps']:8.1f} req/s  "
                      f"p50 {p['p50_ms']:7.2f} ms  p99 {p['p99_ms']:7.2f} ms  "
                      f"non-2xx {p['non_2xx']} (503: {p['status_503']})  "
                      f"errors {p['errors']}  cpu {p['cpu_us_per_req']} us/req",
                      flush=True)
                if "n_2xx" in p:
                    print(f"  {'':21} loadgen: 200s {p['n_2xx']} (p50 {p['p50_2xx_ms']} ms, "
                          f"p99 {p['p99_2xx_ms']} ms)  503s {p['n_503']} (p99 "
                          f"{p['p99_503_ms']} ms)  other {p['n_other']}  "
                          f"errors {p['loadgen_errors']}", flush=True)
        finally:
            server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10, help="per point (default 10)")
    ap.add_argument("--models", default="cls,det", help="cls,det")
    ap.add_argument("--concurrency", default="1,4,16,64", help="comma-separated")
    ap.add_argument("--servers", default=",".join(SERVERS), help=",".join(SERVERS))
    ap.add_argument("--queue-size", type=int,
                    help="cinfer's request.queue_size (default: the server's, 100); with a "
                         "small queue the highest concurrency measures admission: every "
                         "response a 200 or an immediate 503")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of the whole matrix; each point reports the median round")
    ap.add_argument("--out", help="default bench/results/peer_bench-<date>.json")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    servers = [s for s in args.servers.split(",") if s]
    concs = [int(c) for c in args.concurrency.split(",") if c]
    bad = [m for m in models if m not in MODELS] + [s for s in servers if s not in SERVERS]
    if bad or not concs or min(concs) < 1:
        ap.error(f"unknown model/server {bad}" if bad else "concurrency must be >= 1")
    check_prerequisites(models, args.queue_size)
    seconds = max(1, round(args.seconds))  # wrk takes whole seconds
    version = subprocess.run([CINFER, "version"], capture_output=True, text=True).stdout.strip()
    images = inputs()
    doc = {"benchmark": "peer_bench",
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "cinfer": version, "git_commit": git_commit(), "machine": machine(),
           "seconds_per_point": seconds, "cinfer_queue_size": args.queue_size,
           "rounds_run": args.repeat,
           "load_generator": f"wrk -t min(c,2) -c c -d {seconds}s --timeout 60s, keep-alive, "
                             "on the same cores as the server under test"
                             + ("; with --queue-size each cinfer point again under "
                                f"bench/.build/loadgen -c c -d {seconds} --timeout 60"
                                if args.queue_size is not None else ""),
           "notes": ["rps counts 2xx responses; p50/p99/max are wrk's latency of every "
                     "response; errors are wrk's socket errors (connect/read/write/timeout)",
                     "cpu_us_per_req: server CPU (utime+stime, uvicorn master and workers "
                     "summed) over the point / responses",
                     "rss_mb sums VmRSS over the server's processes (shared pages once per "
                     "uvicorn worker); pss_mb shares them out",
                     "raw ceiling = cores x single-thread cinfer model bench inferences/s "
                     "with --image: JPEG decode and preprocessing of the same bytes included, "
                     "HTTP excluded; raw.engine_only is the engine on a synthetic tensor",
                     "outside_us: cpu_us_per_req minus the raw mean (decode + preprocess + "
                     "engine) of the same run",
                     "fastapi det answers a count of pixels above 0.3 instead of DB boxes "
                     "(less post-processing than cinfer)",
                     "queue runs: n_2xx/n_503/n_other, loadgen_errors, p50_2xx_ms/p99_2xx_ms "
                     "(the 200s alone) and p99_503_ms come from a separate loadgen run of the "
                     "point (same c and seconds, after wrk); loadgen lets in-flight requests "
                     "finish at the end instead of dropping them"],
           "inputs": {k: {"bytes": len(images[k])} for k in models},
           "raw": {}, "servers": {}, "sample_answers": {}, "results": {}}
    for label in models:
        doc["inputs"][label]["shape"] = MODELS[label]["shape"]

    runs = []
    with tempfile.TemporaryDirectory(prefix="peer_bench-") as tmp:
        tmp = Path(tmp)
        lua = tmp / "post.lua"
        lua.write_text(WRK_LUA)
        for r in range(args.repeat):
            if args.repeat > 1:
                print(f"round {r + 1} of {args.repeat}", flush=True)
            run = {"raw": {}, "results": {}}
            for label in models:
                measure_model(label, servers, concs, seconds, images, tmp / f"r{r}", lua,
                              args.queue_size, doc, run)
            runs.append(run)
    # Each point (and raw ceiling) is the round with the median rps: the host's
    # speed drifts between rounds, and servers of one round ran minutes apart.
    for label in models:
        doc["raw"][label] = median_by(runs, lambda run: run["raw"][label], "ceiling_rps")
        doc["results"][label] = {
            name: {str(c): median_by(runs, lambda run: run["results"][label][name][str(c)], "rps")
                   for c in concs}
            for name in servers}
    if args.repeat > 1:
        doc["rounds"] = runs
    doc["ratios"] = ratios(doc)
    print_table(doc)
    write_result(doc, args.out, "peer_bench")


if __name__ == "__main__":
    main()
