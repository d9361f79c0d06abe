"""The OCR pipeline on a real scanned page, overload, and inference whose answer
waits for its usage to be recorded.

  * PP-OCR det on scikit-image's scanned page (page.png) finds regions that cover
    every text line of the page (lines found from the image itself: rows of ink
    against a locally estimated background);
  * PP-OCR cls says "0" for each detected line crop and "180" for the same crop
    rotated by 180 degrees;
  * 1000 concurrent requests against a model with a small queue get only 200 or
    503 QUEUE_FULL, and the server keeps serving afterwards;
  * a 2xx is sent only after the API token's usage is committed (docs/TOKENS.md):
    while another connection holds SQLite's write lock, requests stay pending and
    all answer 200 once it is released (used_count grows by their number, the
    inference-log rows appear); held past the server's busy timeout (5 s), the
    requests answer 503 USAGE_NOT_RECORDED, count nothing, and the server serves
    again after the release.

The application routes need an API token: each server gets one without limits
(conftest.give_app_token).
"""

import concurrent.futures
import socket
import sqlite3
import threading
import time

import numpy as np
import pytest

from conftest import Server, assert_error, get_api_token, give_app_token, make_admin
from test_inference_api import (CLS, CLS_CONFIG, DET, DET_CONFIG, infer_png, infer_raw,
                                infer_url, load, publish_new, sample, wait_logs)

PIL = pytest.importorskip("PIL", reason="Pillow is required (tests/requirements.txt)")


def ink_lines(gray):
    """Text lines of a scanned page: runs of rows with ink, where ink is a pixel
    25 grey levels darker than the mean of its 31x31 neighbourhood."""
    a = gray.astype(np.float64)
    k = 15
    n = 2 * k + 1
    c = np.pad(np.pad(a, k, mode="edge").cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    bg = (c[n:, n:] - c[:-n, n:] - c[n:, :-n] + c[:-n, :-n]) / (n * n)
    ink = a < bg[: a.shape[0], : a.shape[1]] - 25
    rows = ink.sum(axis=1)
    lines, start = [], None
    for y, v in enumerate(list(rows) + [0]):
        if v > 3 and start is None:
            start = y
        elif v <= 3 and start is not None:
            if y - start >= 5:
                lines.append((start, y))
            start = None
    return lines, ink


@pytest.fixture(scope="module")
def ocr(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("ocr"),
               env={"CINFER_SERVER__WORKERS": "8", "CINFER_SERVER__INFERENCE_WORKERS": "8", "CINFER_REQUEST__TIMEOUT_MS": "60000"})
    s.start()
    try:
        admin = make_admin(s)
        give_app_token(admin)
        yield admin, publish_new(admin, DET, "ocr-det", DET_CONFIG), publish_new(
            admin, CLS, "ocr-cls", CLS_CONFIG)
    finally:
        s.stop()


def test_det_covers_every_text_line_and_cls_reads_orientation(ocr):
    admin, det, cls = ocr
    s = admin.server
    page = load("page.png", "L")
    gray = np.asarray(page)
    h, w = gray.shape
    lines, ink = ink_lines(gray)
    assert len(lines) >= 5, f"the page should show several text lines, found {lines}"

    r = infer_png(s, det, page.convert("RGB"))
    assert r.status_code == 200, r.text[:500]
    regions = r.json()["regions"]
    assert len(regions) >= len(lines), (len(regions), lines)
    boxes = []
    for g in regions:
        xs = [p[0] for p in g["polygon"]]
        ys = [p[1] for p in g["polygon"]]
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
        assert 0 <= min(xs) and max(xs) <= w and 0 <= min(ys) and max(ys) <= h, g

    # Every line is covered: some region spans at least 70% of the line's rows.
    for (y0, y1) in lines:
        best = max(max(0.0, min(y1, b[3]) - max(y0, b[1])) / (y1 - y0) for b in boxes)
        assert best >= 0.7, f"text line rows {y0}-{y1} not covered by any region: {boxes}"
    # And the regions hold nearly all of the ink of those lines.
    covered = np.zeros_like(ink)
    for x0, y0, x1, y1 in boxes:
        covered[int(y0):int(np.ceil(y1)) + 1, int(x0):int(np.ceil(x1)) + 1] = True
    line_ink = np.zeros_like(ink)
    for (y0, y1) in lines:
        line_ink[y0:y1] = ink[y0:y1]
    share = (line_ink & covered).sum() / max(1, line_ink.sum())
    assert share >= 0.9, f"only {share:.2%} of the text lines' ink lies inside regions"

    # The angle classifier on each detected line, upright and rotated.
    for x0, y0, x1, y1 in boxes:
        crop = page.crop((int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))).convert("RGB")
        up = infer_png(s, cls, crop)
        down = infer_png(s, cls, crop.rotate(180))
        assert up.status_code == 200 and down.status_code == 200, (up.text, down.text)
        assert up.json()["classes"][0]["label"] == "0", (
            f"upright line {(x0, y0, x1, y1)} classified {up.json()['classes']}")
        assert down.json()["classes"][0]["label"] == "180", (
            f"rotated line {(x0, y0, x1, y1)} classified {down.json()['classes']}")


def test_thousand_concurrent_requests_on_a_small_queue(tmp_path):
    """1000 requests at once, raw sockets (a thread each would be too heavy):
    every answer is 200 or 503 QUEUE_FULL, and the server serves afterwards."""
    s = Server(tmp_path / "flood", env={"CINFER_REQUEST__QUEUE_SIZE": "4",
                                        "CINFER_SERVER__WORKERS": "16", "CINFER_SERVER__INFERENCE_WORKERS": "16",
                                        "CINFER_REQUEST__TIMEOUT_MS": "60000"})
    s.start()
    try:
        admin = make_admin(s)
        auth = "".join(f"{k}: {v}\r\n" for k, v in give_app_token(admin).items())
        cls = publish_new(admin, CLS, "flood-cls", CLS_CONFIG)
        import io
        buf = io.BytesIO()
        load("text.png").crop((0, 20, 448, 120)).save(buf, "PNG")
        body = buf.getvalue()
        path = infer_url(cls)
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                   f"{auth}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                   ).encode() + body
        statuses = []
        lock = threading.Lock()

        def one(_):
            try:
                with socket.create_connection(("127.0.0.1", s.port), timeout=120) as c:
                    c.sendall(request)
                    data = b""
                    while True:
                        chunk = c.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                code = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else -1
            except OSError as e:
                code = f"{type(e).__name__}"
            with lock:
                statuses.append(code)

        with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
            list(pool.map(one, range(1000)))
        counts = {c: statuses.count(c) for c in set(statuses)}
        assert set(counts) <= {200, 503}, f"unexpected answers: {counts}"
        assert counts.get(200, 0) >= 1 and counts.get(503, 0) >= 1, counts
        # Still serving, and still alive.
        r = infer_png(s, cls, load("text.png").crop((0, 20, 448, 120)))
        assert r.status_code == 200, r.text[:300]
        assert s.proc.poll() is None
    finally:
        s.stop()


BUSY_TIMEOUT_S = 2.0      # how long the usage store may keep failing before the breaker opens
BREAKER_OPEN_S = 1.0      # then it refuses at once this long before a probe write


def _start_requests(s, cls, img, n):
    """n inference requests on threads; returns (threads, results), results[i]
    = (status, error code or None, monotonic time answered) once answered."""
    results = [None] * n

    def one(i):
        try:
            r = infer_png(s, cls, img, timeout=60)
            code = None
            if r.status_code != 200:
                try:
                    code = r.json()["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    code = r.text[:200]
            results[i] = (r.status_code, code, time.monotonic())
        except Exception as e:  # noqa: BLE001 - recorded, asserted below
            results[i] = (type(e).__name__, str(e)[:200], time.monotonic())

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    return threads, results


def _lock_db(s):
    conn = sqlite3.connect(str(s.data_dir / "cinfer.db"), timeout=10, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    return conn


def test_success_waits_for_the_usage_commit(ocr):
    """A 2xx is sent only after the token's usage is committed. Another
    connection holds SQLite's exclusive lock: requests stay pending (none
    answers before the release, ~1.5 s later: the rolled-back commit is
    retried within their 60 s deadline), then all answer 200 and used_count
    grew by exactly their number; their log rows appear. Held past the breaker
    delay, the commit fails: 503 USAGE_NOT_RECORDED, nothing counted, and the
    server serves again once it is released (after the breaker's probe)."""
    admin, _det, cls = ocr
    s = admin.server
    token_id = s.app_token[1]["id"]
    crop = load("text.png").crop((0, 20, 448, 120))
    # warm up (and flush anything pending) before counting
    assert infer_png(s, cls, crop).status_code == 200
    used0 = get_api_token(admin, token_id)["used_count"]
    logs0 = wait_logs(admin, cls, 0)["total"]

    # 1. held for ~1.5 s (< busy timeout): pending, then 200
    conn = _lock_db(s)
    try:
        threads, results = _start_requests(s, cls, crop, 5)
        time.sleep(1.5)
        early = [r for r in results if r is not None]
        released_at = time.monotonic()
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    for t in threads:
        t.join(60)
    assert not early, (
        f"{len(early)} of 5 requests answered while the database was locked "
        f"(their usage cannot have been committed): {early}")
    assert [r and r[0] for r in results] == [200] * 5, f"answers after the release: {results}"
    assert all(r[2] >= released_at for r in results), results
    used1 = get_api_token(admin, token_id)["used_count"]
    assert used1 == used0 + 5, (
        f"used_count {used0} -> {used1} after 5 successful requests (expected +5)")
    after = wait_logs(admin, cls, logs0 + 5, timeout=15)
    assert after["total"] >= logs0 + 5

    # 2. held past the busy timeout: the commit fails, 503, nothing counted
    conn = _lock_db(s)
    try:
        locked_at = time.monotonic()
        threads, results = _start_requests(s, cls, crop, 5)
        # keep the lock until every request has answered (a server that
        # waited for the lock forever would show up as pending here)
        deadline = locked_at + 6 * BUSY_TIMEOUT_S
        while any(r is None for r in results) and time.monotonic() < deadline:
            time.sleep(0.1)
        pending = sum(r is None for r in results)
        held_for = time.monotonic() - locked_at
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    for t in threads:
        t.join(60)
    assert pending == 0, (
        f"{pending} of 5 requests still pending after holding the lock {held_for:.1f} s "
        f"(busy timeout {BUSY_TIMEOUT_S} s): {results}")
    assert [(r[0], r[1]) for r in results] == [(503, "USAGE_NOT_RECORDED")] * 5, (
        f"answers while the lock was held past the busy timeout: {results}")
    used2 = get_api_token(admin, token_id)["used_count"]
    assert used2 == used1, (
        f"used_count {used1} -> {used2}: requests answered 503 USAGE_NOT_RECORDED "
        f"were counted")
    recover_by = time.monotonic() + BREAKER_OPEN_S + 2
    r = infer_png(s, cls, crop)
    while r.status_code == 503 and time.monotonic() < recover_by:
        assert r.json()["error"]["code"] == "USAGE_NOT_RECORDED", r.text[:300]
        time.sleep(0.1)
        r = infer_png(s, cls, crop)
    assert r.status_code == 200, f"after the release: {r.status_code} {r.text[:300]}"
    used3 = get_api_token(admin, token_id)["used_count"]
    assert used3 == used1 + 1, f"used_count {used1} -> {used3} after one more success"
    assert s.proc.poll() is None


def test_truncated_jpeg_and_empty_body_are_refused(ocr):
    """A JPEG cut short (libjpeg alone would fill the rest with grey) and an empty
    image body each get their JSON error; the server keeps serving."""
    admin, _det, cls = ocr
    s = admin.server
    rocket = sample("rocket.jpg").read_bytes()
    for keep in (len(rocket) // 2, len(rocket) - 2):
        assert_error(infer_raw(s, cls, rocket[:keep], "image/jpeg"), 422, "INVALID_IMAGE")
    assert_error(infer_raw(s, cls, b"", "image/png"), 422, "VALIDATION_FAILED")
    r = infer_raw(s, cls, rocket, "image/jpeg")
    assert r.status_code == 200, r.text[:300]
