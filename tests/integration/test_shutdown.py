"""SIGTERM with a deep queue (issue: behaviour under faults): the server exits
within server.shutdown_timeout_s + 0.5 s, and every request it has read gets a
response — 200 if it finished in time, 503 otherwise — never a dropped
connection; one read after the signal is answered 503 SHUTTING_DOWN."""

import concurrent.futures
import threading
import time

import pytest
import requests

from conftest import give_app_token, make_admin
from test_inference_api import DET_CONFIG
from test_model_lifecycle import LONG_TIMEOUT_S, publish_ok
from test_models_api import DET, SAMPLES, need, upload_ok

pytestmark = pytest.mark.serial  # wall-clock limits: run without other workers

CLIENTS = 48


def test_sigterm_with_a_deep_queue_answers_everyone_and_keeps_its_limit(server_factory):
    s = server_factory(env={"CINFER_SERVER__SHUTDOWN_TIMEOUT_S": "1",
                            "CINFER_SERVER__INFERENCE_WORKERS": str(CLIENTS + 8),
                            "CINFER_REQUEST__QUEUE_SIZE": "500",
                            "CINFER_REQUEST__TIMEOUT_MS": "120000"})
    admin = make_admin(s)
    headers = {"Content-Type": "image/jpeg", **give_app_token(admin)}
    mid = upload_ok(admin, need(DET).read_bytes(), "det-shutdown", config=DET_CONFIG,
                    filename=DET.name, timeout=LONG_TIMEOUT_S)["id"]
    publish_ok(admin, mid, 1)
    image = (SAMPLES / "images" / "rocket.jpg").read_bytes()
    url = f"{s.url}/api/v1/models/{mid}/infer"
    t = time.monotonic()
    assert requests.post(url, data=image, headers=headers, timeout=60).status_code == 200
    one = time.monotonic() - t

    sent = threading.Barrier(CLIENTS + 1)

    def client(_):
        sent.wait()
        try:
            return requests.post(url, data=image, headers=headers, timeout=60).status_code
        except requests.RequestException as e:
            return f"no response: {e.__class__.__name__}"

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client, i) for i in range(CLIENTS)]
        sent.wait()
        time.sleep(max(0.5, 2 * one))  # every request read and queued; a few done
        t0 = time.monotonic()
        s.signal()
        time.sleep(0.2)  # draining: the queue holds the server for ~1 s
        late = requests.post(url, data=image, headers=headers, timeout=10)
        rc = s.wait(timeout=30)
        exited = time.monotonic() - t0
        results = [f.result() for f in futures]
    assert rc == 0, f"exit code {rc}"
    done = results.count(200)
    refused = results.count(503)
    assert done + refused == CLIENTS, f"requests without a response: {results}"
    assert refused > 0, f"the queue was not deep enough ({one:.2f}s per inference): {results}"
    assert exited <= 1.5, f"exited {exited:.2f}s after SIGTERM (limit 1 s + 0.5 s)"
    # A request read after the signal (a new connection here) is refused, not dropped.
    assert late.status_code == 503, late.text
    assert late.json()["error"]["code"] == "SHUTTING_DOWN"
    assert late.headers["Retry-After"] == "1"
    assert late.headers["Connection"] == "close"
    log = s.log_text()
    assert "queued inference(s) answered 503" in log
