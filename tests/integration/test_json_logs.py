"""server.log_format: json (docs/CONFIG.md): every line the server writes is one
JSON object with time and level; an access line carries the request id, the
route template, status, latency, model id and token id — never a token value or
a password."""

import json
from pathlib import Path

from conftest import ADMIN_PASSWORD, give_app_token, make_admin
from test_model_lifecycle import publish_ok
from test_models_api import need, upload_ok
from test_tokens import assert_values_absent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
FLOAT = FIXTURES / "dtype_float32.onnx"
BODY = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6]}]}


def json_lines(server):
    """Every line the server wrote (the test harness's ===== markers aside), parsed."""
    out = []
    for line in server.log_text().splitlines():
        if not line.strip() or line.startswith("====="):
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise AssertionError(f"not a JSON line: {line[:300]!r}") from e
    return out


def test_json_log_lines_carry_the_request_fields(server_factory):
    s = server_factory(env={"CINFER_SERVER__LOG_FORMAT": "json"})
    admin = make_admin(s)
    headers = give_app_token(admin)
    value, token = s.app_token
    mid = upload_ok(admin, need(FLOAT).read_bytes(), "json-logs", filename=FLOAT.name)["id"]
    publish_ok(admin, mid, 1)
    ok = s.post(f"/api/v1/models/{mid}/infer", json=BODY, headers=headers, timeout=30)
    assert ok.status_code == 200, ok.text
    refused = s.post(f"/api/v1/models/{mid}/infer", json=BODY, timeout=30,
                     headers={"Authorization": "Bearer cinfer_" + "z" * 40})
    assert refused.status_code == 401

    s.log_text_with(refused.headers["X-Request-ID"])
    lines = json_lines(s)
    assert len(lines) >= 10
    for line in lines:
        assert isinstance(line.get("time"), str) and line["time"].endswith("Z"), line
        assert line.get("level") in ("trace", "debug", "info", "warning", "error", "critical"), line
        assert "msg" in line or line.get("event") == "access", line
    assert any("listening on" in line.get("msg", "") for line in lines)

    by_rid = {line["request_id"]: line for line in lines if line.get("event") == "access"}
    a = by_rid[ok.headers["X-Request-ID"]]
    assert a["route"] == "/api/v1/models/{id}/infer"
    assert a["path"] == f"/api/v1/models/{mid}/infer"
    assert (a["method"], a["status"]) == ("POST", 200)
    assert isinstance(a["latency_ms"], (int, float)) and a["latency_ms"] >= 0
    assert a["bytes"] == len(ok.content)
    assert a["model_id"] == mid
    assert a["token_id"] == token["id"]
    r = by_rid[refused.headers["X-Request-ID"]]
    assert r["status"] == 401 and "token_id" not in r

    text = s.log_text()
    assert_values_absent(text, [value], "the JSON log")
    assert ADMIN_PASSWORD not in text
