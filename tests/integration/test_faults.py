"""Faults an operator meets (issue: behaviour under faults): a full disk logs a
few lines per second, not one per refused request, and the server recovers
without a restart when space is freed; a stop in the middle of a transition is
repaired at start, logged and audited."""

import os
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import db_query, give_app_token, make_admin
from test_model_lifecycle import publish_ok
from test_models_api import need, upload_ok

pytestmark = pytest.mark.serial  # wall-clock limits: run without other workers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
FLOAT = FIXTURES / "dtype_float32.onnx"
BODY = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}]}


def infer(server, mid, headers):
    return server.post(f"/api/v1/models/{mid}/infer", json=BODY, headers=headers, timeout=30)


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(path):
    """Fills the file system of `path`; returns the filler file."""
    filler = path / f"filler-{uuid.uuid4().hex[:6]}"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        except OSError:
            pass
    return filler


def test_full_disk_logs_few_lines_and_recovers_without_restart(server_factory, small_disk):
    s = server_factory(start=False)
    s.data_dir = small_disk / "data"
    s.data_dir.mkdir()
    s.start()
    admin = make_admin(s)
    headers = give_app_token(admin)
    mid = upload_ok(admin, need(FLOAT).read_bytes(), "full-disk", filename=FLOAT.name)["id"]
    publish_ok(admin, mid, 1)
    assert infer(s, mid, headers).status_code == 200

    filler = fill(small_disk)
    start_log = len(s.log_text())
    statuses, late = [], []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 4:
        t = time.monotonic()
        statuses.append(infer(s, mid, headers).status_code)
        if t - t0 > 3 and statuses[-1] == 503:  # the breaker is open by then
            late.append(time.monotonic() - t)
    elapsed = time.monotonic() - t0
    refused = sum(st == 503 for st in statuses)
    assert refused > 0, f"a full disk refuses usage commits: {statuses[:20]}"
    assert set(statuses) <= {200, 503}, set(statuses)
    late.sort()
    assert late and late[len(late) // 2] < 0.05, f"refusals with the breaker open: {late[:20]}"
    info = s.get("/api/v1/internal/system/info", headers={"Authorization": f"Bearer {admin.token}"})
    assert info.json()["inference_log"]["dropped"] > 0, info.text[:500]
    log = s.log_text()[start_log:]
    errors = [ln for ln in log.splitlines() if "[error]" in ln or "[warning]" in ln]
    per_second = len(errors) / elapsed
    assert per_second < 20, (f"{len(errors)} error lines in {elapsed:.1f}s for {refused} "
                             f"refusals:\n" + "\n".join(errors[:30]))
    assert any("more like it" in ln for ln in errors) or refused < 10, errors[:10]

    os.unlink(filler)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and infer(s, mid, headers).status_code != 200:
        time.sleep(0.2)
    assert infer(s, mid, headers).status_code == 200, "service resumes once space is freed"


def test_interrupted_transitions_are_repaired_logged_and_audited(server_factory):
    s = server_factory()
    admin = make_admin(s)
    a = upload_ok(admin, need(FLOAT).read_bytes(), "stopped-loading", filename=FLOAT.name)["id"]
    b = upload_ok(admin, need(FLOAT).read_bytes(), "stopped-draining", filename=FLOAT.name)["id"]
    assert s.stop() == 0
    # What a kill -9 in the middle of a publish and of an unpublish leaves behind.
    conn = sqlite3.connect(s.data_dir / "cinfer.db")
    with conn:
        for mid, state in ((a, "loading"), (b, "draining")):
            conn.execute("UPDATE models SET status = ? WHERE id = ?", (state, mid))
    conn.close()
    (s.data_dir / "tmp").mkdir(exist_ok=True)
    (s.data_dir / "tmp" / "body-left-behind").write_bytes(b"x" * 100)
    s.start()
    admin.token = s.login_token()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and s.get("/health/ready").status_code != 200:
        time.sleep(0.2)
    rows = dict(db_query(s.data_dir, "SELECT id, status FROM models WHERE id IN (?, ?)", (a, b)))
    assert rows == {a: "failed", b: "unpublished"}, rows
    audit = db_query(s.data_dir, "SELECT object_id, actor, detail FROM audit_log WHERE action = "
                     "'model.recovered' ORDER BY id")
    by_model = {r[0]: r for r in audit}
    assert by_model[a][1] == "system" and '"from":"loading"' in by_model[a][2], audit
    assert '"to":"unpublished"' in by_model[b][2], audit
    log = s.log_text()
    assert "was loading when the server stopped; it is now failed" in log
    assert "was draining when the server stopped; it is now unpublished" in log
    assert "removed 1 spool file(s)" in log
    assert not (s.data_dir / "tmp" / "body-left-behind").exists()


def test_a_locked_database_cannot_hold_requests_past_their_deadline(server_factory):
    """Another process holds SQLite's write lock for 10 s, request.timeout_ms
    is 1 000: every request answers within 1.5 s (503 USAGE_NOT_RECORDED, the
    breaker soon making that immediate), nothing is counted that was not
    answered 200, and service resumes after the release without a restart."""
    s = server_factory(env={"CINFER_REQUEST__TIMEOUT_MS": "1000"})
    admin = make_admin(s)
    headers = give_app_token(admin)
    token_id = s.app_token[1]["id"]
    mid = upload_ok(admin, need(FLOAT).read_bytes(), "locked-db", filename=FLOAT.name)["id"]
    publish_ok(admin, mid, 1)
    assert infer(s, mid, headers).status_code == 200
    ok_count = [1]
    answers = []  # (started after the lock, seconds, status, code)
    lock = threading.Lock()
    stop = threading.Event()
    locked_at = [None]

    def client():
        while not stop.is_set():
            t = time.monotonic()
            r = infer(s, mid, headers)
            took = time.monotonic() - t
            code = r.json().get("error", {}).get("code") if r.status_code != 200 else None
            with lock:
                if r.status_code == 200:
                    ok_count[0] += 1
                answers.append((t - locked_at[0] if locked_at[0] else None, took,
                                r.status_code, code))

    conn = sqlite3.connect(str(s.data_dir / "cinfer.db"), timeout=10, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    locked_at[0] = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(10)
    stop.set()
    for t in threads:
        t.join(30)
    conn.execute("ROLLBACK")
    conn.close()

    assert len(answers) >= 20, answers
    slow = [a for a in answers if a[1] > 1.5]
    assert not slow, f"{len(slow)} of {len(answers)} answers took over 1.5 s: {slow[:5]}"
    assert {(a[2], a[3]) for a in answers} <= {(200, None), (503, "USAGE_NOT_RECORDED")}, answers
    late = sorted(a[1] for a in answers if a[0] is not None and a[0] > 3)
    assert late and late[len(late) // 2] < 0.1, f"the breaker does not fail fast: {late[:20]}"

    recover_by = time.monotonic() + 5
    r = infer(s, mid, headers)
    while r.status_code != 200 and time.monotonic() < recover_by:
        time.sleep(0.1)
        r = infer(s, mid, headers)
    assert r.status_code == 200, f"no recovery after the release: {r.text[:300]}"
    ok_count[0] += 1
    used = db_query(s.data_dir, "SELECT used_count FROM tokens WHERE id = ?", (token_id,))[0][0]
    assert used == ok_count[0], f"used_count {used}, 200 answers {ok_count[0]}"
