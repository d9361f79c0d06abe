"""The OpenAPI contract (api/openapi.yaml) matches the routes the server serves.

Self-contained: uses only pytest, PyYAML and the standard library, and none of
the fixtures in conftest.py. The served routes come from `cinfer routes`, which
prints the route table as JSON without starting the server.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT / "api" / "openapi.yaml"
CINFER_BIN = os.environ.get("CINFER_BIN", str(REPO_ROOT / "build" / "cinfer"))

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
ADMIN_PREFIX = "/api/v1/internal/"
APP_PREFIX = "/api/v1/"            # the application API: the rest of /api/v1/
API_TOKEN_SCHEMES = {"apiToken", "accessToken"}
PUBLIC_INTERNAL = {"/api/v1/internal/system/setup", "/api/v1/internal/auth/login"}


def load_spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    assert isinstance(spec, dict), f"{SPEC_PATH} is not a YAML mapping"
    assert isinstance(spec.get("paths"), dict), f"{SPEC_PATH} has no 'paths' mapping"
    return spec


def spec_operations(spec):
    """Yields (METHOD, path, operation) for every operation in the spec."""
    for path, item in spec["paths"].items():
        assert isinstance(item, dict), f"path item {path!r} is not a mapping"
        for method in HTTP_METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def served_routes(tmp_path):
    if not os.access(CINFER_BIN, os.X_OK):
        pytest.fail(f"cinfer binary not found or not executable at {CINFER_BIN} "
                    "(build it, or set CINFER_BIN)")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = dict(os.environ, CINFER_SERVER__DATA_DIR=str(data_dir))
    proc = subprocess.run([CINFER_BIN, "routes"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, (
        f"`{CINFER_BIN} routes` exited {proc.returncode}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    try:
        routes = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        pytest.fail(f"`cinfer routes` did not print JSON ({e}):\n{proc.stdout}")
    assert isinstance(routes, list) and routes, f"`cinfer routes` printed no routes: {routes!r}"
    served = set()
    for r in routes:
        assert isinstance(r, dict) and {"method", "path"} <= r.keys(), f"bad route entry: {r!r}"
        served.add((r["method"].upper(), r["path"]))
    assert len(served) == len(routes), f"`cinfer routes` lists duplicates: {routes!r}"
    return served


def fmt(routes):
    return "\n".join(f"  {m} {p}" for m, p in sorted(routes, key=lambda r: (r[1], r[0])))


def test_spec_matches_served_routes(tmp_path):
    spec = load_spec()
    assert str(spec.get("openapi", "")).startswith("3.1"), (
        f"openapi version must be 3.1.x, got {spec.get('openapi')!r}")

    operations = list(spec_operations(spec))
    documented = {(m, p) for m, p, _ in operations}
    served = served_routes(tmp_path)

    undocumented = served - documented
    not_served = documented - served
    problems = []
    if undocumented:
        problems.append("served by the server but missing from api/openapi.yaml:\n"
                        + fmt(undocumented))
    if not_served:
        problems.append("documented in api/openapi.yaml but not served by the server:\n"
                        + fmt(not_served))
    assert not problems, "OpenAPI contract and route table differ.\n" + "\n".join(problems)

    op_ids = {}
    bad = []
    for method, path, op in operations:
        if not isinstance(op, dict):
            bad.append(f"{method} {path}: operation is not a mapping")
            continue
        responses = op.get("responses")
        if not isinstance(responses, dict) or not responses:
            bad.append(f"{method} {path}: declares no responses")
        op_id = op.get("operationId")
        if not isinstance(op_id, str) or not op_id:
            bad.append(f"{method} {path}: has no operationId")
        else:
            op_ids.setdefault(op_id, []).append(f"{method} {path}")
    for op_id, where in sorted(op_ids.items()):
        if len(where) > 1:
            bad.append(f"operationId {op_id!r} is used by several operations: {', '.join(where)}")
    assert not bad, "Invalid operations in api/openapi.yaml:\n" + "\n".join(f"  {b}" for b in bad)


def test_routes_declare_their_security():
    """Admin routes require the admin JWT, application routes an API token
    (docs/TOKENS.md: Authorization: Bearer or X-Access-Token, never the admin
    JWT) and declare the token refusals; public routes require nothing."""
    spec = load_spec()
    schemes = spec.get("components", {}).get("securitySchemes", {})
    missing, unexpected, wrong = [], [], []
    for method, path, op in spec_operations(spec):
        security = op.get("security") if isinstance(op, dict) else None
        if security is None:
            security = spec.get("security")  # the document-wide default, if any
        is_admin = path.startswith(ADMIN_PREFIX) and path not in PUBLIC_INTERNAL
        is_app = path.startswith(APP_PREFIX) and not path.startswith(ADMIN_PREFIX)
        requires = bool(security) and all(bool(req) for req in security)
        used = {name for req in (security or []) for name in req}
        if (is_admin or is_app) and not requires:
            missing.append(f"  {method} {path}: security={security!r}")
        elif is_admin and used != {"adminJWT"}:
            wrong.append(f"  {method} {path}: admin route with {sorted(used)}")
        elif is_app:
            if not used or not used <= API_TOKEN_SCHEMES or "adminJWT" in used:
                wrong.append(f"  {method} {path}: application route with {sorted(used)}")
            lacking = [c for c in ("401", "403", "429") if c not in op.get("responses", {})]
            if lacking:
                wrong.append(f"  {method} {path}: application route without {lacking}")
        if not is_admin and not is_app and security not in (None, []):
            unexpected.append(f"  {method} {path}: security={security!r}")
    undefined = sorted(API_TOKEN_SCHEMES - set(schemes)) + (
        [] if "adminJWT" in schemes else ["adminJWT"])
    problems = []
    if missing:
        problems.append("routes without a security requirement:\n" + "\n".join(missing))
    if wrong:
        problems.append("routes with the wrong security:\n" + "\n".join(wrong))
    if unexpected:
        problems.append("public routes that require security (want none or []):\n"
                        + "\n".join(unexpected))
    if undefined:
        problems.append(f"security schemes not defined: {undefined}")
    assert not problems, "\n".join(problems)
