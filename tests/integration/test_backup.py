"""`cinfer admin backup` while the server serves (docs/DEPLOY.md).

- Two backups taken under inference traffic: both succeed, no request fails,
  each holds cinfer.db (integrity_check ok), the model file and jwt-secret,
  and nothing else (no -wal/-shm, setup-code, tmp/ or the backups themselves).
- A token committed just before a backup, still only in the WAL, is in it.
- A backup copied back into the data dir of a stopped server: the model is
  published and serves the same API token; the token's usage is what the
  backup saw (every answered request before it, none after the live end);
  what came after the backup (the marker token) is not there.
- A non-empty output (or a file, or a place inside the models dir) is refused
  and left untouched; a failed backup leaves nothing behind.
- A backup restored at another path (the live data dir gone) serves its models.
"""

import json
import shutil
import sqlite3
import threading
import time
from types import SimpleNamespace

import pytest
import requests

from conftest import (CLS_CONFIG, TOKENS, UNLIMITED_TOKEN, Admin, bearer, create_api_token,
                      get_api_token, make_admin, token_headers)
from test_model_lifecycle import LONG_TIMEOUT_S, check_published, get_ok, publish_ok, wait_ready
from test_models_api import CLS, SAMPLES, need, upload_ok

IMAGE = SAMPLES / "images" / "text.png"
TRAFFIC_THREADS = 2
TRAFFIC_MAX_S = 20             # each traffic thread stops by then at the latest
BACKUP_TIMEOUT_S = 120
EXPECTED_FILES = {"cinfer.db", "jwt-secret", "models"}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def infer(server, mid, token, image):
    return server.post(f"/api/v1/models/{mid}/infer", data=image,
                       headers={**token_headers(token), "Content-Type": "image/png"},
                       timeout=60)


class Traffic(threading.Thread):
    """Inference requests one after the other until stopped (or TRAFFIC_MAX_S)."""

    def __init__(self, server, mid, token, image):
        super().__init__(daemon=True)
        self.args = (server, mid, token, image)
        self.outcomes = []
        self.halt = threading.Event()

    def run(self):
        deadline = time.monotonic() + TRAFFIC_MAX_S
        while not self.halt.is_set() and time.monotonic() < deadline:
            try:
                self.outcomes.append(infer(*self.args).status_code)
            except requests.RequestException as e:
                self.outcomes.append(repr(e))

    def answered(self):
        return sum(1 for o in list(self.outcomes) if o == 200)


def backup(server, out):
    return server.cli("admin", "backup", "--output", str(out), timeout=BACKUP_TIMEOUT_S)


def summary_of(result, out):
    assert result.returncode == 0, (
        f"backup into {out} exited {result.returncode}: {result.stderr[-3000:]}")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"expected a one-line JSON summary, got {result.stdout!r}"
    summary = json.loads(lines[0])
    assert summary["output"] == str(out), summary
    for key in ("files", "bytes", "db_pages", "ms"):
        assert isinstance(summary[key], int) and summary[key] >= 0, summary
    return summary


def tree(root):
    """{relative path: bytes} of every file under `root`."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def integrity(db_path):
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def check_backup(out, live, mid):
    """What a backup must hold, and nothing more."""
    names = {p.name for p in out.iterdir()}
    assert names == EXPECTED_FILES, f"{out}: {sorted(names)}"
    assert tree(out / "models") == {f"{mid}/v1/model.onnx": CLS.read_bytes()}
    assert (out / "jwt-secret").read_bytes() == (live.data_dir / "jwt-secret").read_bytes()
    assert integrity(out / "cinfer.db") == [("ok",)]


def has_token(db_path, token_id):
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM tokens WHERE id = ?",
                            (token_id,)).fetchone()[0] == 1
    finally:
        conn.close()


def in_main_file(db_path, token_id):
    """Whether a copy of the main database file alone holds the token. Before the
    first checkpoint even the schema is only in the WAL: no tokens table, no token."""
    try:
        return has_token(db_path, token_id)
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return False
        raise


def wal_only_token(admin, scratch):
    """A new API token whose row is still only in the WAL: a copy of the main
    database file alone lacks it (a commit that happens to run a checkpoint
    puts it in the main file: then another one)."""
    for attempt in range(5):
        _, token = create_api_token(admin, **UNLIMITED_TOKEN)
        bare = scratch / f"main-file-only-{attempt}"
        bare.mkdir(parents=True)
        shutil.copyfile(admin.server.data_dir / "cinfer.db", bare / "cinfer.db")
        if not in_main_file(bare / "cinfer.db", token["id"]):
            return token["id"]
    pytest.fail("every new token reached the main database file at once (checkpoints?)")


def serve_with_model(server_factory):
    """A server with an admin, the PP-OCR angle classifier published and an
    API token; (server, admin, model id, token value, token id)."""
    # A generous deadline: a request that a loaded CI machine answers late is no
    # fault of the backup.
    live = server_factory(name="live", env={"CINFER_REQUEST__TIMEOUT_MS": "60000"})
    admin = make_admin(live)
    m = upload_ok(admin, need(CLS).read_bytes(), "backup-cls", config=CLS_CONFIG,
                  filename=CLS.name, timeout=LONG_TIMEOUT_S)
    publish_ok(admin, m["id"], 1)
    value, token = create_api_token(admin, **UNLIMITED_TOKEN)
    return live, admin, m["id"], value, token["id"]


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def backups_under_traffic(live, mid, value, outs):
    """Takes a backup into each of `outs` while TRAFFIC_THREADS threads send
    inference requests; per backup (out, result, requests answered before it)."""
    image = need(IMAGE).read_bytes()
    traffic = [Traffic(live, mid, value, image) for _ in range(TRAFFIC_THREADS)]
    answered = lambda: sum(t.answered() for t in traffic)  # noqa: E731
    for t in traffic:
        t.start()
    try:
        wait_for(lambda: answered() >= 10, 60, "10 answered inference requests")
        taken = []
        for out in outs:
            before = answered()
            taken.append((out, backup(live, out), before))
        assert all(t.is_alive() for t in traffic), "the traffic ended before the backups did"
    finally:
        for t in traffic:
            t.halt.set()
        for t in traffic:
            t.join(timeout=90)
    outcomes = [o for t in traffic for o in t.outcomes]
    failed = [o for o in outcomes if o != 200]
    assert not failed, f"{len(failed)} of {len(outcomes)} requests failed: {failed[:10]}"
    return SimpleNamespace(taken=taken, answered=len(outcomes))


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

def test_backups_under_traffic_restore_a_serving_server(server_factory, tmp_path):
    live, admin, mid, value, token_id = serve_with_model(server_factory)
    image = need(IMAGE).read_bytes()
    reference = infer(live, mid, value, image)
    assert reference.status_code == 200, reference.text[:500]
    # The second one inside the data dir, as in a container (/data/backups/<date>).
    outs = [tmp_path / "backups" / "first", live.data_dir / "backups" / "second"]
    run = backups_under_traffic(live, mid, value, outs)
    for out, result, _ in run.taken:
        summary = summary_of(result, out)
        assert summary["files"] == 3, summary  # cinfer.db, model.onnx, jwt-secret
        assert summary["bytes"] > len(CLS.read_bytes()) and summary["db_pages"] > 0, summary
        check_backup(out, live, mid)
    live_used = get_api_token(admin, token_id)["used_count"]
    assert live_used >= run.answered + 1, (live_used, run.answered)
    # With the traffic stopped: a token committed just before a backup, still only
    # in the WAL, is in the backup (more than a copy of the main file).
    marker = wal_only_token(admin, tmp_path / "scratch")
    third = tmp_path / "backups" / "third"
    summary_of(backup(live, third), third)
    assert has_token(third / "cinfer.db", marker), "the backup lacks what the WAL held"

    # Restore: stop, put the live data dir aside, copy the backup back in its place.
    assert live.stop() == 0
    aside = live.workdir / "data.before-restore"
    live.data_dir.rename(aside)
    out, _, answered_before = run.taken[1]
    shutil.copytree(aside / out.relative_to(live.data_dir), live.data_dir)
    restored = server_factory(name="restored", start=False)
    restored.data_dir = live.data_dir
    restored.start()
    wait_ready(restored)
    radmin = Admin(restored, admin.username, admin.password, admin.setup_body, admin.token)
    check_published(get_ok(radmin, mid), 1, "restored model")  # the live session is valid
    assert restored.get(f"{TOKENS}/{marker}", headers=bearer(admin.token)).status_code == 404
    restored_used = get_api_token(radmin, token_id)["used_count"]
    # Every request answered before the backup started was counted in it (usage
    # commits before the answer), + 1 for `reference`; nothing past the live end.
    assert answered_before + 1 <= restored_used <= live_used, (
        answered_before, restored_used, live_used)
    again = infer(restored, mid, value, image)
    assert again.status_code == 200, again.text[:500]
    got, want = again.json()["classes"], reference.json()["classes"]
    assert [c["label"] for c in got] == [c["label"] for c in want], (got, want)
    assert all(abs(g["score"] - w["score"]) < 1e-4 for g, w in zip(got, want)), (got, want)
    assert get_api_token(radmin, token_id)["used_count"] == restored_used + 1


def test_backup_refuses_a_non_empty_output_and_leaves_it_alone(server_factory, tmp_path):
    server = server_factory()
    make_admin(server)
    out = tmp_path / "older"
    (out / "models").mkdir(parents=True)
    (out / "keep.txt").write_text("precious\n")
    (out / "cinfer.db").write_bytes(b"an older backup")
    before = tree(out)
    result = backup(server, out)
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "is not empty" in result.stderr, result.stderr
    assert result.stdout == ""
    assert tree(out) == before and {p.name for p in out.iterdir()} == {
        "models", "keep.txt", "cinfer.db"}

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    result = backup(server, a_file)
    assert result.returncode == 1 and "not a directory" in result.stderr, result.stderr
    assert a_file.read_text() == "x"

    inside = server.data_dir / "models" / "backup"
    result = backup(server, inside)
    assert result.returncode == 1 and "cannot go inside" in result.stderr, result.stderr
    assert not inside.exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    summary_of(backup(server, empty), empty)
    assert {p.name for p in empty.iterdir()} == EXPECTED_FILES
    assert list((empty / "models").iterdir()) == []  # no model uploaded


def test_a_failed_backup_leaves_nothing_behind(server_factory, tmp_path):
    server = server_factory(start=False)
    (server.data_dir / "models" / "m" / "v1").mkdir(parents=True)
    (server.data_dir / "models" / "m" / "v1" / "model.onnx").write_bytes(b"model bytes")
    (server.data_dir / "cinfer.db").write_bytes(b"not a database" * 512)
    created = tmp_path / "new" / "backup"
    result = backup(server, created)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "backup failed" in result.stderr, result.stderr
    assert not (tmp_path / "new").exists(), tree(tmp_path / "new")  # parents it made too
    empty = tmp_path / "empty"
    empty.mkdir()
    assert backup(server, empty).returncode == 1
    assert list(empty.iterdir()) == []


# model_versions.file_path records the path under the live data dir; the server
# looks for a version's file under its own models dir, so this works.
def test_a_backup_restored_at_another_path_serves_its_models(server_factory, tmp_path):
    live, admin, mid, value, _ = serve_with_model(server_factory)
    out = tmp_path / "backup"
    summary_of(backup(live, out), out)
    assert live.stop() == 0
    shutil.rmtree(live.data_dir)
    elsewhere = server_factory(name="elsewhere", start=False)
    shutil.rmtree(elsewhere.data_dir)
    shutil.copytree(out, elsewhere.data_dir)
    elsewhere.start()
    wait_ready(elsewhere)
    radmin = Admin(elsewhere, admin.username, admin.password, admin.setup_body, admin.token)
    check_published(get_ok(radmin, mid), 1, "model restored elsewhere")
    assert infer(elsewhere, mid, value, need(IMAGE).read_bytes()).status_code == 200
