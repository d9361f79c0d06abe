#!/usr/bin/env python3
"""Served versus raw: the real server driven over HTTP with real photographs, beside
`cinfer model bench` (in-process ONNX Runtime) at the same engine thread budget.

For PP-OCR cls (48x192 text-line crops, JPEG) and det (a 427x640 JPEG photograph,
resized to 640x640 by the server) at concurrency 1, 4 and 16, with dynamic batching
off and on. Reports throughput, p50/p99 latency, the server's CPU time per request
outside the engine ((server CPU - engine time) / requests, from /proc and the
responses' timing_ms.infer), and the raw engine numbers.

The load generator is this Python process (one thread and one keep-alive connection
per concurrent client, pre-built requests); it shares the machine's cores with the
server, which the summary states.

Usage: .venv/bin/python bench/served_vs_raw.py [--seconds 10] [--out FILE]
Needs models/samples (scripts/fetch-sample-models.sh) and models/samples/images
(scripts/fetch-sample-images.sh), Pillow (tests/requirements.txt).
"""
import argparse
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests
from PIL import Image

from benchlib import CLS_INPUT, DET_INPUT, free_port, jpeg, write_result

ROOT = Path(__file__).resolve().parents[1]
CINFER = os.environ.get("CINFER_BIN", str(ROOT / "build" / "cinfer"))
SAMPLES = ROOT / "models" / "samples"
IMAGES = SAMPLES / "images"
API = "/api/v1/internal"

MODELS = {
    "cls": {"file": "ch_ppocr_mobile_v2.0_cls_infer.onnx", "shape": [1, 3, 48, 192],
            "input": CLS_INPUT,
            "output": {"task": "classification", "labels": ["0", "180"], "top_k": 2}},
    "det": {"file": "ch_PP-OCRv4_det_infer.onnx", "shape": [1, 3, 640, 640],
            "input": DET_INPUT, "output": {"task": "text_detection"}},
}


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CINFER_")}
        env.update({"CINFER_SERVER__PORT": str(self.port),
                    "CINFER_SERVER__DATA_DIR": str(self.dir / "data"),
                    "CINFER_SERVER__WORKERS": "32", "CINFER_SERVER__INFERENCE_WORKERS": "32",
                    "CINFER_SERVER__ACCESS_LOG": "false",
                    "CINFER_SERVER__LOG_LEVEL": "warn",
                    "CINFER_REQUEST__QUEUE_SIZE": "1000",
                    "CINFER_REQUEST__TIMEOUT_MS": "60000"})
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen([CINFER, "serve"], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                if requests.get(self.url + "/health/live", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        code = (self.dir / "data" / "setup-code").read_text().strip()
        r = requests.post(self.url + API + "/system/setup", json={
            "username": "bench", "password": "Bench-Pass-123!", "setup_code": code})
        r.raise_for_status()
        r = requests.post(self.url + API + "/auth/login",
                          json={"username": "bench", "password": "Bench-Pass-123!"})
        self.auth = {"Authorization": "Bearer " + r.json()["access_token"]}
        # The application API needs an API token (docs/TOKENS.md): one without
        # limits, so the load is never throttled.
        r = requests.post(self.url + API + "/tokens", headers=self.auth, json={
            "name": "bench", "rate_limit_per_minute": None, "monthly_limit": None,
            "expires_at": None})
        r.raise_for_status()
        self.app_token = r.json()["token"]

    def publish(self, name, file, config):
        with open(file, "rb") as f:
            r = requests.post(self.url + API + "/models", headers=self.auth,
                              data={"name": name, "config": json.dumps(config)},
                              files={"file": (Path(file).name, f)}, timeout=300)
        r.raise_for_status()
        mid = r.json()["id"]
        r = requests.post(f"{self.url}{API}/models/{mid}/publish", headers=self.auth, timeout=300)
        r.raise_for_status()
        return mid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def http_request(path, body, content_type, token):
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body


def read_response(sock, buf):
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    return status, rest[:length], rest[length:]


def drive(port, path, bodies, concurrency, seconds):
    """`concurrency` clients, each sending the next body as soon as it has the answer."""
    lat, infer_ms, batch, errors = [], [], [], []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(i):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        k = i
        mine, mine_infer, mine_batch, mine_err = [], [], [], 0
        while time.perf_counter() < stop_at:
            req = bodies[k % len(bodies)]
            k += 1
            t0 = time.perf_counter()
            s.sendall(req)
            status, body, buf = read_response(s, buf)
            dt = (time.perf_counter() - t0) * 1000
            if status != 200:
                mine_err += 1
                continue
            j = json.loads(body)
            mine.append(dt)
            # A batch's engine time is shared by its requests.
            mine_infer.append(j["timing_ms"]["infer"] / max(1, j["batch_size"]))
            mine_batch.append(j["batch_size"])
        s.close()
        with lock:
            lat.extend(mine)
            infer_ms.extend(mine_infer)
            batch.extend(mine_batch)
            errors.append(mine_err)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else None
    return {"requests": len(lat), "errors": sum(errors), "seconds": elapsed,
            "throughput_per_s": len(lat) / elapsed,
            "latency_ms": {"p50": pct(0.5), "p99": pct(0.99),
                           "mean": sum(lat) / len(lat) if lat else None},
            "engine_ms_total": sum(infer_ms),
            "mean_batch_size": sum(batch) / len(batch) if batch else None,
            "max_batch_size": max(batch) if batch else None}


def raw_bench(model, shape, threads, batch, seconds):
    out = subprocess.run(
        [CINFER, "model", "bench", str(model), "--engine", "onnxruntime", "--threads",
         str(threads), "--batch", str(batch), "--shape",
         "x=" + ",".join(map(str, [batch] + shape[1:])), "--seconds", str(seconds)],
        check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    r["inferences_per_s"] = r["throughput_per_s"]  # cinfer model bench counts batch items
    return r


def inputs():
    page = Image.open(IMAGES / "page.png").convert("RGB")
    w, h = page.size
    crops = []
    for y in range(0, h - 24, 24):  # strips of the scanned page, resized to 192x48
        crops.append(jpeg(page.crop((0, y, w, y + 24)).resize((192, 48))))
    det = [(IMAGES / "rocket.jpg").read_bytes(), jpeg(Image.open(IMAGES / "coffee.png"))]
    return {"cls": crops, "det": det}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--out")
    args = ap.parse_args()
    version = subprocess.run([CINFER, "version"], capture_output=True, text=True).stdout.strip()
    images = inputs()
    budget = {"cls": 1, "det": 2}  # engine threads (the same for served and raw)
    results, raw = [], {}
    for label, m in MODELS.items():
        file = SAMPLES / m["file"]
        t = budget[label]
        raw[label] = {"batch_1": raw_bench(file, m["shape"], t, 1, args.seconds)}
        if label == "cls":
            raw[label]["batch_16_2_threads"] = raw_bench(file, m["shape"], 2, 16, args.seconds)
            raw[label]["batch_1_2_threads"] = raw_bench(file, m["shape"], 2, 1, args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(tmp)
        try:
            for label, m in MODELS.items():
                for batching in (False, True):
                    cfg = {"input": m["input"], "output": m["output"],
                           "engine_options": {"threads": budget[label] if not batching else 2},
                           "warmup_iterations": 3}
                    if batching:
                        cfg["max_batch_size"] = 16 if label == "cls" else 4
                        cfg["dynamic_batching"] = {"max_queue_delay_us": 2000}
                    else:
                        cfg["input_shapes"] = {"x": m["shape"]}
                    mid = server.publish(f"{label}-{'batch' if batching else 'plain'}",
                                         SAMPLES / m["file"], cfg)
                    path = f"/api/v1/models/{mid}/infer"
                    bodies = [http_request(path, b, "image/jpeg", server.app_token)
                              for b in images[label]]
                    drive(server.port, path, bodies, 2, 2)  # warm the connection pools
                    for conc in (1, 4, 16):
                        cpu0 = cpu_seconds(server.proc.pid)
                        r = drive(server.port, path, bodies, conc, args.seconds)
                        cpu = cpu_seconds(server.proc.pid) - cpu0
                        r["server_cpu_s"] = cpu
                        if r["requests"]:
                            r["server_overhead_us_per_request"] = (
                                (cpu - r["engine_ms_total"] / 1000 * cfg["engine_options"]["threads"])
                                / r["requests"] * 1e6)
                        results.append({"model": label, "batching": batching,
                                        "engine_threads": cfg["engine_options"]["threads"],
                                        "concurrency": conc, **r})
                        print(f"{label} batching={batching} c={conc}: "
                              f"{r['throughput_per_s']:.1f}/s p50 {r['latency_ms']['p50']:.2f} ms "
                              f"p99 {r['latency_ms']['p99']:.2f} ms batch {r['mean_batch_size']:.2f} "
                              f"errors {r['errors']}", flush=True)
        finally:
            server.stop()
    doc = {
        "benchmark": "served_vs_raw",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cinfer": version,
        "machine": {"cores": os.cpu_count(), "arch": platform.machine(),
                    "model_name": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                        if l.startswith("model name")), "?")},
        "seconds_per_case": args.seconds,
        "load_generator": "this Python process on the same cores (one thread + keep-alive "
                          "connection per client)",
        "raw": raw,
        "served": results,
    }
    write_result(doc, args.out, "served_vs_raw")


if __name__ == "__main__":
    main()
