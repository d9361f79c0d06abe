"""Version switches that cannot break clients (issue: behaviour under faults):
activating a version whose inputs or outputs differ from the served version's
is refused with 409 INCOMPATIBLE_VERSION naming the differences, unless the
request says {"force": true}; the versions list shows each version's
compatibility with the served one."""

from conftest import API, assert_error, db_query, give_app_token
from test_model_lifecycle import (FIXTURES, MODELS, activate, add_version, call, get_ok, ok,
                                  publish_ok)
from test_models_api import TINY_ONNX, need, upload_ok

FLOAT = FIXTURES / "dtype_float32.onnx"   # x: FP32 [2, 3] -> y
INT = FIXTURES / "dtype_int32.onnx"       # x: INT32 [2, 3] -> y


def versions(admin, mid):
    body = ok(call(admin, "GET", f"{MODELS}/{mid}/versions"), 200, "versions")
    return {v["version"]: v for v in body["items"]}


def infer_float(server, mid, headers):
    body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 3],
                        "data": [1, 2, 3, 4, 5, 6]}]}
    return server.post(f"/api/v1/models/{mid}/infer", json=body, headers=headers)


def test_incompatible_activation_is_refused_unless_forced(admin):
    s = admin.server
    headers = give_app_token(admin)
    m = upload_ok(admin, need(FLOAT).read_bytes(), "compat", filename=FLOAT.name)
    mid = m["id"]
    ok(add_version(admin, mid, need(INT), filename=INT.name), 201, "v2 (INT32)")
    ok(add_version(admin, mid, FLOAT, filename=FLOAT.name), 201, "v3 (same IO as v1)")
    ok(add_version(admin, mid, need(TINY_ONNX), filename="tiny.onnx", config={}), 201,
       "v4 (other names)")

    # Nothing served yet: no compatibility to show, and a draft switches freely.
    assert all(v["compatibility"] is None for v in versions(admin, mid).values())
    publish_ok(admin, mid, 1)
    assert infer_float(s, mid, headers).status_code == 200

    vs = versions(admin, mid)
    assert vs[1]["compatibility"] == {"served_version": 1, "compatible": True,
                                      "differences": []}, vs[1]
    assert vs[3]["compatibility"]["compatible"] is True, vs[3]
    assert vs[2]["compatibility"]["compatible"] is False
    assert vs[2]["compatibility"]["differences"] == [
        "input 'x' changes datatype FP32 -> INT32", "output 'y' changes datatype FP32 -> INT32"]
    assert "input 'x' is missing" in vs[4]["compatibility"]["differences"], vs[4]

    err = assert_error(activate(admin, mid, 2), 409, "INCOMPATIBLE_VERSION")
    assert err["details"]["served_version"] == 1 and err["details"]["version"] == 2, err
    assert "FP32 -> INT32" in err["message"] and "force" in err["message"], err
    err = assert_error(activate(admin, mid, 4), 409, "INCOMPATIBLE_VERSION")
    assert "input 'x' is missing" in err["details"]["differences"], err
    m = get_ok(admin, mid)
    assert m["served_version"] == 1 and m["current_version"] == 1, m
    assert infer_float(s, mid, headers).status_code == 200, "clients keep working"

    # A compatible version switches without force.
    m = ok(activate(admin, mid, 3), 200, "activate compatible v3")
    assert m["served_version"] == 3
    assert infer_float(s, mid, headers).status_code == 200

    # Bad bodies are refused before anything happens.
    for body, field in (({"force": "yes"}, "force"), ({"forse": True}, "forse")):
        r = call(admin, "POST", f"{MODELS}/{mid}/versions/2/activate", json=body)
        err = assert_error(r, 422, "VALIDATION_FAILED")
        assert err["details"]["field"] == field, err
    assert get_ok(admin, mid)["served_version"] == 3

    # force: the operator takes responsibility; the switch happens.
    r = call(admin, "POST", f"{MODELS}/{mid}/versions/2/activate", json={"force": True})
    m = ok(r, 200, "forced activation")
    assert m["served_version"] == 2 and m["current_version"] == 2, m
    r = infer_float(s, mid, headers)
    assert_error(r, 422, "VALIDATION_FAILED")  # FP32 clients now break, as warned

    rows = db_query(s.data_dir, "SELECT detail FROM audit_log WHERE action = "
                    "'model.version.activate' AND object_id = ? ORDER BY id", (mid,))
    details = [r[0] for r in rows]
    assert sum('"result":"refused"' in d for d in details) == 2, details
    assert '"forced":true' in details[-1], details[-1]
