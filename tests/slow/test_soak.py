"""Soak: SOAK_SECONDS (default 600) of mixed valid and invalid traffic at a moderate
rate, watching the server's memory.

A few client threads pick, with fixed weights (seeded RNG), one of: valid inference
(raw PNG, multipart, JSON base64, JSON tensors, batch, async + result poll), corrupt
and truncated images, wrong tensor shapes, malformed JSON, bad API tokens, unknown
model and request ids, bodies over `request.max_body_mb` (set to 1 MiB here), and
admin list calls (models, tokens, logs). A sampler reads VmRSS from
/proc/<pid>/status every SOAK_SAMPLE_S seconds (default 5).

Asserts: RSS grows by less than 50 MB from minute 2 (or a fifth of a shorter run) to
the end; no 5xx other than 503/504 ever; the server is alive at the end. The RSS
series and the counts go to bench/results/soak-<date>.json.
"""

import base64
import collections
import datetime
import json
import os
import random
import threading
import time
import uuid

import requests

from conftest import (
    API, APP, CLS, REPO_ROOT, TEXT_PNG, Server, bearer, create_api_token, make_admin,
    need, publish_cls, text_line_png, token_headers,
)

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
SAMPLE_S = float(os.environ.get("SOAK_SAMPLE_S", "5"))
SEED = int(os.environ.get("SOAK_SEED", "4242"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "3"))
RSS_GROWTH_LIMIT_KB = 50 * 1024
MAX_BODY_MB = 1
CLIENT_TIMEOUT_S = 60
RESULTS = REPO_ROOT / "bench" / "results"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Soak:
    def __init__(self, server, admin_token, app_value, model_id):
        self.s = server
        self.url = server.url
        self.admin = bearer(admin_token)
        self.app = token_headers(app_value)
        self.model = model_id
        self.png = text_line_png()
        self.b64 = base64.b64encode(self.png).decode()
        self.lock = threading.Lock()
        self.counts = collections.defaultdict(collections.Counter)   # kind -> status
        self.server_errors = []     # (kind, status, body) of 5xx other than 503/504
        self.exceptions = collections.Counter()
        self.async_ids = collections.deque(maxlen=200)

    def infer_url(self, model=None, suffix=""):
        return f"{self.url}{APP}/models/{model or self.model}/infer{suffix}"

    # Each kind returns a requests.Response.
    def valid_raw(self, rng):
        return requests.post(self.infer_url(), data=self.png,
                             headers={**self.app, "Content-Type": "image/png"},
                             timeout=CLIENT_TIMEOUT_S)

    def valid_multipart(self, rng):
        return requests.post(self.infer_url(), headers=self.app,
                             files={"image": ("x.png", self.png, "image/png")},
                             data={"top_k": "1"}, timeout=CLIENT_TIMEOUT_S)

    def valid_json(self, rng):
        return requests.post(self.infer_url(), headers=self.app,
                             json={"image": self.b64, "parameters": {"top_k": 2}},
                             timeout=CLIENT_TIMEOUT_S)

    def valid_tensor(self, rng):
        data = [round(rng.uniform(-1, 1), 3) for _ in range(3 * 48 * 192)]
        return requests.post(self.infer_url(), headers=self.app, timeout=CLIENT_TIMEOUT_S,
                             json={"inputs": [{"name": "x", "shape": [1, 3, 48, 192],
                                               "datatype": "FP32", "data": data}]})

    def valid_batch(self, rng):
        return requests.post(self.infer_url(suffix="/batch"), headers=self.app,
                             json={"images": [self.b64] * rng.randint(1, 4)},
                             timeout=CLIENT_TIMEOUT_S)

    def valid_async(self, rng):
        r = requests.post(self.infer_url(suffix="/async"), data=self.png,
                          headers={**self.app, "Content-Type": "image/png"},
                          timeout=CLIENT_TIMEOUT_S)
        if r.status_code == 202:
            self.async_ids.append(r.json()["request_id"])
        return r

    def async_result(self, rng):
        rid = self.async_ids[0] if self.async_ids else uuid.uuid4().hex
        if rng.random() < 0.2:
            rid = uuid.uuid4().hex     # unknown: 404
        return requests.get(f"{self.url}{APP}/requests/{rid}", headers=self.app,
                            timeout=CLIENT_TIMEOUT_S)

    def corrupt_image(self, rng):
        junk = rng.randbytes(rng.randint(1, 20000))
        ctype = rng.choice(["image/png", "image/jpeg", "image/webp", "image/bmp"])
        if rng.random() < 0.5:     # a real signature, garbage after it
            junk = self.png[:16] + junk
        return requests.post(self.infer_url(), data=junk,
                             headers={**self.app, "Content-Type": ctype},
                             timeout=CLIENT_TIMEOUT_S)

    def truncated_image(self, rng):
        cut = self.png[:rng.randint(8, len(self.png) - 1)]
        return requests.post(self.infer_url(), data=cut,
                             headers={**self.app, "Content-Type": "image/png"},
                             timeout=CLIENT_TIMEOUT_S)

    def wrong_shape(self, rng):
        # the classifier's input is x: FP32 [-1, 3, -1, -1]: every shape here breaks it
        shape = rng.choice([[1, 4, 48, 192], [3, 48, 192], [1, 48, 192], [1, 1, 48, 192]])
        n = 1
        for d in shape:
            n *= d
        name = rng.choice(["x", "x", "y"])
        dtype = rng.choice(["FP32", "FP32", "INT64"])
        return requests.post(self.infer_url(), headers=self.app, timeout=CLIENT_TIMEOUT_S,
                             json={"inputs": [{"name": name, "shape": shape,
                                               "datatype": dtype, "data": [0] * n}]})

    def malformed_json(self, rng):
        body = rng.choice([b'{"image": ', b"[1,2,3]", b'{"inputs": [{"name": "x"}]}',
                           b"\xff\xfe{}", b'{"image": 12}', b"null"])
        return requests.post(self.infer_url(), data=body,
                             headers={**self.app, "Content-Type": "application/json"},
                             timeout=CLIENT_TIMEOUT_S)

    def bad_token(self, rng):
        value = rng.choice([
            "cit_" + base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("="),
            "cit_short", "", "Bearer", self.admin["Authorization"][7:]])
        return requests.post(self.infer_url(), data=self.png,
                             headers={"Authorization": f"Bearer {value}",
                                      "Content-Type": "image/png"},
                             timeout=CLIENT_TIMEOUT_S)

    def unknown_model(self, rng):
        return requests.post(self.infer_url(model=str(uuid.uuid4())), data=self.png,
                             headers={**self.app, "Content-Type": "image/png"},
                             timeout=CLIENT_TIMEOUT_S)

    def oversized(self, rng):
        body = b"\0" * (MAX_BODY_MB * 1024 * 1024 + rng.randint(1, 300_000))
        return requests.post(self.infer_url(), data=body,
                             headers={**self.app, "Content-Type": "image/png"},
                             timeout=CLIENT_TIMEOUT_S)

    def admin_lists(self, rng):
        path = rng.choice([f"{API}/models", f"{API}/tokens", f"{API}/logs?page_size=50",
                           f"{API}/models/{self.model}/stats", f"{API}/system/info",
                           f"{API}/models/{uuid.uuid4()}"])
        return requests.get(self.url + path, headers=self.admin, timeout=CLIENT_TIMEOUT_S)

    KINDS = [  # (name, weight)
        ("valid_raw", 6), ("valid_multipart", 3), ("valid_json", 3), ("valid_tensor", 1),
        ("valid_batch", 1), ("valid_async", 1), ("async_result", 1),
        ("corrupt_image", 3), ("truncated_image", 2), ("wrong_shape", 2),
        ("malformed_json", 2), ("bad_token", 2), ("unknown_model", 2), ("oversized", 1),
        ("admin_lists", 2),
    ]

    def client(self, idx, deadline):
        rng = random.Random(SEED + idx)
        names = [k for k, _ in self.KINDS]
        weights = [w for _, w in self.KINDS]
        while time.monotonic() < deadline:
            kind = rng.choices(names, weights)[0]
            try:
                r = getattr(self, kind)(rng)
            except requests.RequestException as e:
                with self.lock:
                    self.exceptions[f"{kind}: {type(e).__name__}"] += 1
                time.sleep(0.1)
                continue
            with self.lock:
                self.counts[kind][r.status_code] += 1
                if r.status_code >= 500 and r.status_code not in (503, 504):
                    self.server_errors.append((kind, r.status_code, r.text[:300]))
            time.sleep(rng.uniform(0.01, 0.05))


def test_soak(tmp_path):
    need(CLS, TEXT_PNG)
    server = Server(tmp_path / "srv", env={
        "CINFER_REQUEST__MAX_BODY_MB": str(MAX_BODY_MB),
        # info, not the integration tests' debug: ten minutes of access lines
        "CINFER_SERVER__LOG_LEVEL": "info",
    })
    server.start()
    try:
        admin = make_admin(server)
        model_id = publish_cls(admin)
        app_value, _ = create_api_token(admin, rate_limit_per_minute=None,
                                        monthly_limit=None, expires_at=None)
        soak = Soak(server, admin.token, app_value, model_id)
        pid = server.proc.pid
        started = time.monotonic()
        deadline = started + SOAK_SECONDS
        threads = [threading.Thread(target=soak.client, args=(i, deadline), daemon=True)
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        samples = []        # [seconds since start, VmRSS kB]
        while True:
            now = time.monotonic()
            assert server.proc.poll() is None, (
                f"server died (rc {server.proc.returncode}):\n{server.log_text()[-5000:]}")
            samples.append([round(now - started, 1), rss_kb(pid)])
            if now >= deadline:
                break
            time.sleep(min(SAMPLE_S, max(0.0, deadline - now)))
        for t in threads:
            t.join(timeout=CLIENT_TIMEOUT_S + 10)
        samples.append([round(time.monotonic() - started, 1), rss_kb(pid)])
        alive = server.proc.poll() is None
    finally:
        server.stop()

    base_t = min(120.0, SOAK_SECONDS / 5)
    base = next(s for s in samples if s[0] >= base_t)
    end = samples[-1]
    growth_kb = end[1] - base[1]
    total = sum(sum(c.values()) for c in soak.counts.values())
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seconds": SOAK_SECONDS, "clients": CLIENTS, "seed": SEED,
        "requests": total, "requests_per_s": round(total / max(1.0, end[0]), 1),
        "rss_kb": {"start": samples[0][1], "baseline_at_s": base[0], "baseline": base[1],
                   "end": end[1], "max": max(s[1] for s in samples),
                   "growth_baseline_to_end": growth_kb},
        "counts": {k: {str(s): n for s, n in sorted(c.items())}
                   for k, c in sorted(soak.counts.items())},
        "client_exceptions": dict(soak.exceptions),
        "server_errors_5xx_not_503_504": soak.server_errors[:50],
        "rss_series_kb": samples,
    }
    if os.environ.get("SOAK_WRITE_RESULTS", "1") == "1":
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"soak-{datetime.date.today().isoformat()}.json"
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"\nresults written to {out}")
    print(json.dumps({k: v for k, v in result.items() if k != "rss_series_kb"}, indent=1))

    assert alive, "the server died during the soak"
    assert not soak.server_errors, f"5xx other than 503/504: {soak.server_errors[:10]}"
    assert growth_kb < RSS_GROWTH_LIMIT_KB, (
        f"RSS grew {growth_kb / 1024:.1f} MB from {base[0]} s to the end "
        f"({base[1]} kB -> {end[1]} kB)")
    valid_ok = sum(soak.counts[k][200] for k in ("valid_raw", "valid_multipart", "valid_json"))
    assert valid_ok > 0, f"no valid inference succeeded: {dict(soak.counts)}"
