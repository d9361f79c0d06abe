"""GET /metrics (docs/OBSERVABILITY.md): the Prometheus text format, parsed by
the official parser (prometheus_client), OpenMetrics when Accept asks for it,
counters that move by exactly what the test sent, histograms whose buckets add
up, the optional scrape token, and a scrape of a server with 100 models."""

import sqlite3
import statistics
import time
import uuid
from pathlib import Path

import pytest

from conftest import assert_error, give_app_token, make_admin
from test_model_lifecycle import publish_ok
from test_models_api import need, upload_ok

parser = pytest.importorskip("prometheus_client.parser",
                             reason="prometheus_client is required (tests/requirements.txt)")
om_parser = pytest.importorskip("prometheus_client.openmetrics.parser")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
FLOAT = FIXTURES / "dtype_float32.onnx"
GOOD = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}]}
BAD = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [1, 2, 3, 4]}]}
INFER_ROUTE = "/api/v1/models/{id}/infer"


def scrape(server, headers=None):
    r = server.get("/metrics", headers=headers or {}, timeout=30)
    assert r.status_code == 200, r.text[:500]
    return r


def samples(text):
    """{(name, frozenset(labels.items())): value} of every sample."""
    out = {}
    for family in parser.text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(found, name, **labels):
    return found.get((name, frozenset(labels.items())), 0.0)


def series(found, name, **labels):
    """Samples of `name` whose labels include `labels`: [(labels dict, value)]."""
    want = set(labels.items())
    return [(dict(k[1]), v) for k, v in found.items() if k[0] == name and want <= set(k[1])]


def infer(server, mid, headers, body):
    return server.post(f"/api/v1/models/{mid}/infer", json=body, headers=headers, timeout=30)


@pytest.fixture
def served(server_factory):
    s = server_factory()
    admin = make_admin(s)
    headers = give_app_token(admin)
    mid = upload_ok(admin, need(FLOAT).read_bytes(), "metrics-float", filename=FLOAT.name)["id"]
    publish_ok(admin, mid, 1)
    return s, admin, headers, mid


def test_counters_move_by_exactly_what_was_sent(served):
    s, _, headers, mid = served
    before = samples(scrape(s).text)
    for _ in range(5):
        assert infer(s, mid, headers, GOOD).status_code == 200
    codes = set()
    for _ in range(2):
        r = infer(s, mid, headers, BAD)
        assert r.status_code >= 400, r.text
        codes.add((r.status_code, r.json()["error"]["code"]))
    assert len(codes) == 1, codes
    (status, code), = codes
    for _ in range(3):
        r = infer(s, mid, {"Authorization": "Bearer cinfer_" + "x" * 40}, GOOD)
        assert r.status_code == 401
    after = samples(scrape(s).text)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    model = {"model_id": mid, "version": "1"}
    assert delta("cinfer_inference_requests_total", **model) == 7
    assert delta("cinfer_inference_errors_total", code=code, **model) == 2
    total = dict(model, stage="total")
    assert delta("cinfer_inference_duration_seconds_count", **total) == 5
    http = {"route": INFER_ROUTE, "method": "POST"}
    assert delta("cinfer_http_requests_total", status="200", **http) == 5
    assert delta("cinfer_http_requests_total", status=str(status), **http) == 2
    assert delta("cinfer_http_requests_total", status="401", **http) == 3
    assert delta("cinfer_token_refusals_total", reason="invalid") == 3
    # Every 200 waited for its usage commit: at least one transaction, none failed.
    assert delta("cinfer_usage_commits_total", result="ok") >= 1
    assert delta("cinfer_usage_commits_total", result="error") == 0
    # The publish loaded the version once; it is idle now.
    assert value(after, "cinfer_model_load_duration_seconds_count", model_id=mid) == 1
    assert value(after, "cinfer_model_queue_depth", **model) == 0
    assert value(after, "cinfer_model_in_flight", **model) == 0
    # Every planned instance is ready (idle), none in the other states.
    states = {i["state"]: v for i, v in series(after, "cinfer_model_instances", **model)}
    assert set(states) == {"initialising", "ready", "busy", "error", "recovering", "stopped"}
    assert states["ready"] >= 1
    assert sum(states.values()) == states["ready"]
    assert value(after, "cinfer_model_instance_failures_total", **model) == 0
    assert value(after, "cinfer_model_instance_recoveries_total", **model) == 0
    assert value(after, "cinfer_model_degraded", **model) == 0
    info = series(after, "cinfer_model_info", model_id=mid)
    assert [(i["model"], i["status"], v) for i, v in info] == [("metrics-float", "published", 1)]


def test_histogram_buckets_add_up(served):
    s, _, headers, mid = served
    for _ in range(4):
        assert infer(s, mid, headers, GOOD).status_code == 200
    text = scrape(s).text
    families = {f.name: f for f in parser.text_string_to_metric_families(text)}
    checked = 0
    for name in ("cinfer_inference_duration_seconds", "cinfer_http_request_duration_seconds",
                 "cinfer_inference_batch_size"):
        assert families[name].type == "histogram", name
        by_series = {}
        for smp in families[name].samples:
            key = frozenset((k, v) for k, v in smp.labels.items() if k != "le")
            by_series.setdefault(key, {"buckets": []})
            if smp.name.endswith("_bucket"):
                by_series[key]["buckets"].append((float(smp.labels["le"]), smp.value))
            elif smp.name.endswith("_count"):
                by_series[key]["count"] = smp.value
        for key, h in by_series.items():
            buckets = sorted(h["buckets"])
            counts = [c for _, c in buckets]
            assert counts == sorted(counts), (name, dict(key), buckets)  # cumulative
            assert buckets[-1][0] == float("inf")
            assert buckets[-1][1] == h["count"], (name, dict(key))
            checked += 1
    assert checked >= 3


def test_process_host_and_log_writer_metrics(served):
    s, *_ = served
    found = samples(scrape(s).text)
    assert value(found, "process_resident_memory_bytes") > 10 << 20
    assert value(found, "process_open_fds") > 3
    assert value(found, "process_threads") > 2
    assert value(found, "process_cpu_seconds_total") > 0
    assert value(found, "cinfer_host_memory_total_bytes") >= value(
        found, "cinfer_host_memory_available_bytes") > 0
    disk = series(found, "cinfer_data_disk_total_bytes")
    assert len(disk) == 1 and disk[0][1] > 0
    assert ("cinfer_inference_log_dropped_rows_total", frozenset()) in found
    assert ("cinfer_inference_log_queued_rows", frozenset()) in found


def test_openmetrics_when_the_accept_header_asks(served):
    s, _, headers, mid = served
    assert infer(s, mid, headers, GOOD).status_code == 200
    r = scrape(s, {"Accept": "application/openmetrics-text; version=1.0.0"})
    assert r.headers["Content-Type"].startswith("application/openmetrics-text")
    assert r.text.endswith("# EOF\n")
    names = {f.name: f.type for f in om_parser.text_string_to_metric_families(r.text)}
    assert names["cinfer_http_requests"] == "counter"
    assert names["cinfer_inference_duration_seconds"] == "histogram"
    plain = scrape(s, {"Accept": "text/plain"})
    assert plain.headers["Content-Type"].startswith("text/plain; version=0.0.4")


def test_a_scrape_token_guards_the_endpoint(server_factory):
    token = uuid.uuid4().hex
    s = server_factory(env={"CINFER_METRICS__TOKEN": token})
    assert_error(s.get("/metrics", timeout=30), 401, "UNAUTHENTICATED")
    assert_error(s.get("/metrics", headers={"Authorization": "Bearer wrong"}, timeout=30), 401,
                 "UNAUTHENTICATED")
    assert "cinfer_http_requests_total" in scrape(s, {"Authorization": f"Bearer {token}"}).text


def test_metrics_can_be_switched_off(server_factory):
    s = server_factory(env={"CINFER_METRICS__ENABLED": "false"})
    assert s.get("/metrics", timeout=30).status_code == 404


@pytest.mark.serial  # a wall-clock limit: run without other workers
def test_a_scrape_with_100_models_is_quick(server_factory):
    """100 model rows (copies of one uploaded draft, written while the server is
    stopped): the scrape lists them all in cinfer_model_info; median of 10
    scrapes under 50 ms."""
    s = server_factory()
    admin = make_admin(s)
    mid = upload_ok(admin, need(FLOAT).read_bytes(), "m000", filename=FLOAT.name)["id"]
    s.stop()
    db = sqlite3.connect(s.data_dir / "cinfer.db")
    cols = [r[1] for r in db.execute("PRAGMA table_info(models)")]
    picks = ", ".join("?" if c in ("id", "name") else c for c in cols)
    for i in range(1, 100):
        db.execute(f"INSERT INTO models ({', '.join(cols)}) SELECT {picks} FROM models WHERE id = ?",
                   [uuid.uuid4().hex if c == "id" else f"m{i:03}" for c in cols
                    if c in ("id", "name")] + [mid])
    db.commit()
    db.close()
    s.start()
    found = samples(scrape(s).text)
    assert len(series(found, "cinfer_model_info")) == 100
    took = []
    for _ in range(10):
        t = time.monotonic()
        scrape(s)
        took.append(time.monotonic() - t)
    assert statistics.median(took) < 0.050, took


def test_the_grafana_dashboard_queries_only_served_metrics(served):
    """Every metric deploy/grafana/cinfer-dashboard.json queries is in a scrape
    (GPU metrics only where NVML is present)."""
    import json
    import re
    s, _, headers, mid = served
    assert infer(s, mid, headers, GOOD).status_code == 200
    assert infer(s, mid, headers, BAD).status_code >= 400
    assert infer(s, mid, {"Authorization": "Bearer cinfer_" + "y" * 40}, GOOD).status_code == 401
    served_names = set()
    for f in parser.text_string_to_metric_families(scrape(s).text):  # declared, maybe empty
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
        served_names |= {f.name + x for x in suffixes.get(f.type, [""])}
    path = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "cinfer-dashboard.json"
    dashboard = json.loads(path.read_text())
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                exprs.append(node["expr"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(dashboard)
    assert exprs
    used = set()
    for e in exprs:
        used |= set(re.findall(r"\b((?:cinfer|process)_[a-z_]+)", e))
    missing = {n for n in used - served_names if not n.startswith("cinfer_gpu_")}
    assert not missing, sorted(missing)
