"""Admission control and machine-sized defaults (issue: request path).

Work is bounded everywhere and refused at once with 503 QUEUE_FULL and
Retry-After, never queued without limit: application-API requests in flight,
open connections, the async queue's bytes. Health checks keep answering while
inference is saturated. A model published without `instances` /
`engine_options.threads` gets a plan sized from the cores, shown in its serving
info. No timing thresholds: the assertions compare events within one run."""

import concurrent.futures
import io
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from conftest import give_app_token, make_admin
from test_inference_api import CLS_CONFIG, DET_CONFIG
from test_model_lifecycle import LONG_TIMEOUT_S, publish_ok
from test_models_api import CLS, DET, SAMPLES, get_model, need, upload_ok

pytestmark = pytest.mark.serial  # wall-clock limits: run without other workers

APP = "/api/v1"


def _published(admin, path, name, config):
    mid = upload_ok(admin, need(path).read_bytes(), name, config=config, filename=path.name,
                    timeout=LONG_TIMEOUT_S)["id"]
    publish_ok(admin, mid, 1)
    return mid


def test_in_flight_bound_refuses_at_once_while_health_answers(server_factory):
    s = server_factory(env={"CINFER_REQUEST__MAX_IN_FLIGHT": "2",
                            "CINFER_REQUEST__TIMEOUT_MS": "120000"})
    admin = make_admin(s)
    headers = {"Content-Type": "image/jpeg", **give_app_token(admin)}
    mid = _published(admin, DET, "det-admission", DET_CONFIG)
    image = (SAMPLES / "images" / "rocket.jpg").read_bytes()
    url = f"{s.url}{APP}/models/{mid}/infer"
    clients = 12
    start = threading.Barrier(clients + 1)

    def client(_):
        start.wait()
        t0 = time.monotonic()
        r = requests.post(url, data=image, headers=headers, timeout=120)
        return r, time.monotonic() - t0

    health = []
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            r = requests.get(f"{s.url}/health/live", timeout=30)
            health.append((time.monotonic(), r.status_code))
            time.sleep(0.02)

    with concurrent.futures.ThreadPoolExecutor(clients + 1) as pool:
        futures = [pool.submit(client, i) for i in range(clients)]
        start.wait()
        prober = pool.submit(probe)
        results = [f.result() for f in futures]
        last_inference_done = time.monotonic()
        stop.set()
        prober.result()

    ok = [t for r, t in results if r.status_code == 200]
    refused = [(r, t) for r, t in results if r.status_code == 503]
    assert len(ok) + len(refused) == clients, [(r.status_code, r.text[:200]) for r, _ in results]
    assert len(ok) >= 2, "the two admitted requests must finish"
    assert refused, "12 concurrent requests against a bound of 2: some must be refused"
    for r, _ in refused:
        assert r.json()["error"]["code"] == "QUEUE_FULL", r.text
        assert r.headers["Retry-After"] == "1"
        assert "in flight" in r.json()["error"]["message"]
    # refused at once: every refusal came back before the slowest admitted request
    assert max(t for _, t in refused) < max(ok), (refused, ok)
    # health answered while inference was saturated, not only after it
    assert health and all(code == 200 for _, code in health), health
    assert any(t < last_inference_done for t, _ in health), "no health answer during the load"


def _open_idle(port, n):
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
    time.sleep(0.3)  # accepted and counted
    return socks


def test_connection_bound_answers_the_extra_connection_503(server_factory):
    s = server_factory(env={"CINFER_SERVER__MAX_CONNECTIONS": "3"})
    idle = _open_idle(s.port, 3)
    try:
        r = requests.get(f"{s.url}/health/live", timeout=10)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "QUEUE_FULL"
        assert "connections" in r.json()["error"]["message"]
        assert r.headers["Retry-After"] == "1"
        assert r.headers["Connection"].lower() == "close"
    finally:
        idle.pop().close()
    try:
        deadline = time.monotonic() + 10
        while True:  # the closed connection is given back once the server notices
            r = requests.get(f"{s.url}/health/live", timeout=10)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.status_code == 200, r.text
    finally:
        for sock in idle:
            sock.close()


def _noise_png(side):
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def test_async_queue_is_bounded_in_bytes(server_factory):
    s = server_factory(env={"CINFER_REQUEST__ASYNC_MAX_PENDING_MB": "1"})
    admin = make_admin(s)
    headers = {"Content-Type": "image/png", **give_app_token(admin)}
    mid = _published(admin, CLS, "cls-async-bytes", CLS_CONFIG)
    big = _noise_png(800)
    assert len(big) > 1 << 20
    r = requests.post(f"{s.url}{APP}/models/{mid}/infer/async", data=big, headers=headers,
                      timeout=60)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "QUEUE_FULL"
    assert "MiB" in r.json()["error"]["message"]
    assert r.headers["Retry-After"] == "1"
    small = _noise_png(64)
    r = requests.post(f"{s.url}{APP}/models/{mid}/infer/async", data=small, headers=headers,
                      timeout=60)
    assert r.status_code == 202, r.text


def test_serving_plan_is_sized_from_the_cores(server_factory):
    s = server_factory()
    admin = make_admin(s)
    cores = os.cpu_count()
    auto = _published(admin, CLS, "cls-plan-auto", CLS_CONFIG)
    plan = get_model(admin, auto).json()["serving"]["plan"]
    assert plan["instances"] == min(cores, 4), plan
    assert plan["threads"] >= 1 and plan["instances"] * plan["threads"] <= cores, plan
    assert plan["allow_spinning"] == (plan["instances"] == 1), plan
    assert "cores" in plan["rule"], plan

    one = _published(admin, CLS, "cls-plan-one", {**CLS_CONFIG, "instances": 1})
    plan = get_model(admin, one).json()["serving"]["plan"]
    assert plan["instances"] == 1 and plan["threads"] == cores and plan["allow_spinning"], plan

    fixed = _published(admin, CLS, "cls-plan-fixed",
                       {**CLS_CONFIG, "instances": 3, "engine_options": {"threads": 2}})
    plan = get_model(admin, fixed).json()["serving"]["plan"]
    assert (plan["instances"], plan["threads"], plan["rule"]) == (3, 2, "as configured"), plan


def _nice_by_thread(pid):
    """{thread name: sorted nice values} of a process's threads (/proc/<pid>/task); the
    main thread as "main" (unnamed pool threads share its name)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        name = "main" if task.name == str(pid) else stat[stat.index("(") + 1:stat.rindex(")")]
        nice = int(stat[stat.rindex(")") + 2:].split()[16])  # field 19 of proc(5)
        out.setdefault(name, []).append(nice)
    return {name: sorted(v) for name, v in out.items()}


def test_io_threads_yield_the_cpu_to_model_workers(server_factory):
    """server.io_nice: the network threads (the main thread and http-io) run at nice 5
    by default and the model workers, usage and log writers at the start priority, so
    under a retry storm the refusals cannot take the cores from admitted requests;
    0 leaves the network threads alone. Nice values only go up without privileges, so
    the expectations are relative to the priority this test runs at."""
    base = os.getpriority(os.PRIO_PROCESS, 0)
    for setting, io_nice in ((None, max(base, 5)), ("0", base)):
        s = server_factory(env={} if setting is None else {"CINFER_SERVER__IO_NICE": setting})
        admin = make_admin(s)
        mid = _published(admin, CLS, f"cls-nice-{setting}", CLS_CONFIG)
        jpeg = io.BytesIO()
        Image.new("RGB", (192, 48), (200, 200, 200)).save(jpeg, "JPEG")
        r = requests.post(f"{s.url}{APP}/models/{mid}/infer", data=jpeg.getvalue(),
                          headers={"Content-Type": "image/jpeg", **give_app_token(admin)},
                          timeout=60)
        assert r.status_code == 200, r.text
        threads = _nice_by_thread(s.proc.pid)
        assert threads["main"] == [io_nice] and threads["http-io"] == [io_nice], threads
        assert any(name.startswith("model-worker") for name in threads), threads
        assert "usage-writer" in threads and "log-writer" in threads, threads
        # Every other thread (workers, writers, the handler pools that load models and
        # so start the workers) keeps the start priority.
        others = {n for name, v in threads.items() if name not in ("main", "http-io") for n in v}
        assert others == {base}, threads


def test_login_answers_while_models_load(server_factory):
    """Publishing loads and warms a model up for seconds; those loads run on a pool of
    their own, so a login never waits behind them (it used to share the control
    pool: with every control thread loading, the login waited for a load to end)."""
    s = server_factory(env={"CINFER_SERVER__WORKERS": "2"})  # 2 control, 2 long threads
    admin = make_admin(s)
    slow = {**DET_CONFIG, "warmup_iterations": 10}  # seconds of warm-up per publish
    mids = [upload_ok(admin, need(DET).read_bytes(), f"det-slow-{i}", config=slow,
                      filename=DET.name, timeout=LONG_TIMEOUT_S)["id"] for i in range(3)]
    done = {}

    def publish(mid):
        r = requests.post(f"{s.url}/api/v1/internal/models/{mid}/publish",
                          headers={"Authorization": f"Bearer {admin.token}"},
                          timeout=LONG_TIMEOUT_S)
        done[mid] = time.monotonic()
        return r.status_code

    with concurrent.futures.ThreadPoolExecutor(len(mids)) as pool:
        publishes = [pool.submit(publish, mid) for mid in mids]
        time.sleep(0.5)  # every long thread is loading now
        login = s.login()
        login_done = time.monotonic()
        statuses = [p.result() for p in publishes]
    assert login.status_code == 200, login.text
    assert statuses == [200] * len(mids), statuses
    assert login_done < min(done.values()), "the login waited for a model load"
