"""The asynchronous request path (issue: request path) while versions come and go:
an application request holds its version until it is answered, so the last
handle on a switched-out or unpublished version is often dropped by the
request's own model worker. The server must keep serving through version
switches and an unpublish under load, answer every request (200, or 404 once
the model is unpublished), and stop cleanly afterwards."""

import json
import threading

import requests

from conftest import give_app_token
from test_model_lifecycle import (LONG_TIMEOUT_S, activate, add_version, expected_input,
                                  publish_ok, unpublish_ok)
from test_models_api import TINY_ONNX, need, upload_ok


def test_switches_and_unpublish_under_inference_load(admin):
    s = admin.server
    tiny = need(TINY_ONNX).read_bytes()
    mid = upload_ok(admin, tiny, "async-switch", filename="tiny.onnx")["id"]
    assert add_version(admin, mid, tiny, filename="tiny_v2.onnx").status_code == 201
    publish_ok(admin, mid, 1)
    headers = {"Content-Type": "application/json", **give_app_token(admin)}
    payload = json.dumps({"inputs": [expected_input()]})
    url = f"{s.url}/api/v1/models/{mid}/infer"
    stop = threading.Event()
    lock = threading.Lock()
    answers = {}
    problems = []

    def client():
        sess = requests.Session()
        try:
            while not stop.is_set():
                try:
                    r = sess.post(url, data=payload, headers=headers, timeout=LONG_TIMEOUT_S)
                except requests.RequestException as e:
                    with lock:
                        problems.append(repr(e))
                    continue
                with lock:
                    answers[r.status_code] = answers.get(r.status_code, 0) + 1
                    if r.status_code not in (200, 404):
                        problems.append(f"{r.status_code} {r.text[:200]}")
        finally:
            sess.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        for v in (2, 1, 2, 1):
            r = activate(admin, mid, v)
            assert r.status_code == 200, r.text[:300]
        unpublish_ok(admin, mid)
        publish_ok(admin, mid, 1)  # the current version after the switches
        unpublish_ok(admin, mid)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert s.proc.poll() is None, "the server died while versions were switched under load"
    assert not problems, problems[:10]
    assert answers.get(200, 0) > 0 and answers.get(404, 0) > 0, answers
    r = requests.get(f"{s.url}/health/live", timeout=10)
    assert r.status_code == 200
    s.signal()  # the server is this test's own (function-scoped fixture)
    assert s.wait(timeout=60) == 0, "unclean exit after the switches"
