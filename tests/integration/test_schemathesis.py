"""Property-based API tests: Schemathesis against api/openapi.yaml and the live server.

Every operation of the spec is called with requests Schemathesis generates from the
spec (valid and invalid ones), on one real server (random port, temporary data dir)
that has an administrator, one published PP-OCR model and API tokens:

- /api/v1/internal/* (except setup and login, which are public): the admin JWT;
- the application API (/api/v1/models*, /api/v1/requests/*): an API token, sent as
  `Authorization: Bearer` or `X-Access-Token` (alternately);
- the public routes: nothing.

Checks on every response: no 5xx (`not_a_server_error`), the status code is one the
operation declares (`status_code_conformance`), the content type is one it declares
(`content_type_conformance`), and the body validates against the declared schema
(`response_schema_conformance`).

Bounded and deterministic: Schemathesis' seed is fixed (SEED) and Hypothesis is
derandomized, so every run sends the same requests; SCHEMATHESIS_MAX_EXAMPLES (default
below) bounds the generated requests per operation. On a two-core machine the whole
module takes about the time printed in docs/SECURITY-CAMPAIGNS.md.

Nothing is excluded from generation. Routes that would destroy the state the other
operations need are given throwaway resources instead (see `_prepare`):

- POST /auth/logout revokes the session it is called with: it gets a fresh login;
- POST /auth/password revokes every session of the administrator when it succeeds: it
  gets a fresh login, and a success (a generated `old_password` that is right) swaps
  the module's admin session for the one it returns;
- DELETE /models/{id} and DELETE /tokens/{id}: every other call targets a model or
  token created just for it (the rest a generated, unknown id);
- the token routes that change a token (pause, PATCH, reset-usage, ...) target a
  "victim" token, never the token the application-API calls use.
"""

import json
import os
import time
import uuid
from pathlib import Path

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis", reason="tests/requirements.txt")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)

from conftest import (  # noqa: E402
    ADMIN_PASSWORD, ADMIN_USERNAME, API, CLS_CONFIG, REPO_ROOT, TOKENS, Server, bearer,
    create_api_token, make_admin, token_headers,
)

SPEC_PATH = REPO_ROOT / "api" / "openapi.yaml"
SAMPLES = REPO_ROOT / "models" / "samples"
CLS = SAMPLES / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
TINY_ONNX = REPO_ROOT / "tests" / "fixtures" / "models" / "tiny_classifier.onnx"

SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261129"))
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))
HTTP_TIMEOUT_S = 60   # model uploads validate in a child process; publish loads a model

PUBLIC_INTERNAL = {f"{API}/system/setup", f"{API}/auth/login"}
APP_PREFIXES = ("/api/v1/models", "/api/v1/requests/")
# 503 and 504 with these codes are the documented answers of an inference that did
# not run (docs/API.md): e.g. a generated `timeout_ms=1` makes the request expire in
# the queue (504 TIMEOUT) - what the parameter is for, not a server failure. Every
# other 5xx (and these statuses with any other code) fails `not_a_server_error`.
DOCUMENTED_5XX = {503: {"QUEUE_FULL", "USAGE_NOT_RECORDED", "MODEL_NOT_READY"},
                  504: {"TIMEOUT"}}


def no_undocumented_server_error(ctx, response, case):
    if response.status_code in DOCUMENTED_5XX and \
            str(response.status_code) in case.operation.definition.raw.get("responses", {}):
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        if code in DOCUMENTED_5XX[response.status_code]:
            return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_undocumented_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    # Slow operations (uploads validate in a child) and filtered inputs are expected.
    "suppress-health-check": ["all"],
    "generation": {"max-examples": MAX_EXAMPLES,
                   "database": "none"},
})
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)


@schemathesis.serializer("image/bmp")
def _bmp(ctx, value):
    """Raw image bodies: Schemathesis knows image/png, jpeg and webp, not bmp."""
    return value if isinstance(value, bytes) else str(value).encode()


# --------------------------------------------------------------------------
# the server under test
# --------------------------------------------------------------------------

class Campaign:
    """The live server and the credentials and objects the calls use."""

    def __init__(self, server, admin):
        self.server = server
        self.admin = admin              # admin.token is swapped if a password change succeeds
        self.password = ADMIN_PASSWORD
        self.model_id = None            # the published PP-OCR classifier
        self.app_value = None           # the API token the application calls use
        self.victim_id = None           # the token the token routes may change
        self.victim_model_id = None     # the model the state-changing model routes use
        self.async_ids = []             # request ids of accepted async inferences
        self.calls = {}                 # operation label -> calls made
        self.statuses = {}              # operation label -> {status: count}

    def admin_headers(self):
        return bearer(self.admin.token)

    def login(self):
        r = self.server.login(ADMIN_USERNAME, self.password)
        assert r.status_code == 200, f"throwaway login: {r.status_code} {r.text[:300]}"
        return r.json()["access_token"]

    def upload_tiny(self):
        with open(TINY_ONNX, "rb") as f:
            data = f.read()
        r = self.server.post(f"{API}/models", headers=self.admin_headers(),
                             data={"name": f"throwaway-{uuid.uuid4().hex[:10]}"},
                             files={"file": ("tiny.onnx", data, "application/octet-stream")},
                             timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 201, f"throwaway upload: {r.status_code} {r.text[:300]}"
        return r.json()["id"]

    def new_token(self):
        _, body = create_api_token(self.admin)
        return body["id"]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    for p in (CLS, TINY_ONNX):
        if not p.is_file():
            pytest.skip(f"{p} missing (scripts/fetch-sample-models.sh)")
    # The login fuzzing fails logins from 127.0.0.1 by the dozen: without a higher
    # threshold the address is throttled (429) and the throwaway logins of the logout
    # and password routes would be refused. The throttle has tests of its own.
    s = Server(tmp_path_factory.mktemp("schemathesis"),
               env={"CINFER_AUTH__LOGIN_MAX_FAILURES": "1000000",
                    "CINFER_REQUEST__TIMEOUT_MS": "60000"})
    s.start()
    try:
        admin = make_admin(s)
        c = Campaign(s, admin)
        with open(CLS, "rb") as f:
            r = s.post(f"{API}/models", headers=bearer(admin.token),
                       data={"name": "ppocr-cls", "config": json.dumps(CLS_CONFIG)},
                       files={"file": ("cls.onnx", f.read(), "application/octet-stream")},
                       timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 201, r.text[:500]
        c.model_id = r.json()["id"]
        r = s.post(f"{API}/models/{c.model_id}/publish", headers=bearer(admin.token),
                   timeout=HTTP_TIMEOUT_S)
        assert r.status_code == 200, r.text[:500]
        # Limits high enough never to be reached, so the X-RateLimit-* and X-Quota-*
        # headers are present (and checked) without refusing anything.
        c.app_value, _ = create_api_token(admin, rate_limit_per_minute=1000000,
                                          monthly_limit=1000000000, expires_at=None)
        c.victim_id = c.new_token()
        c.victim_model_id = c.upload_tiny()
        started = time.monotonic()
        yield c
        print(f"\nschemathesis: seed {SEED}, {MAX_EXAMPLES} examples max per operation, "
              f"{sum(c.calls.values())} calls in {time.monotonic() - started:.1f} s")
        for label in sorted(c.calls):
            print(f"  {label}: {c.calls[label]} calls, statuses {c.statuses.get(label, {})}")
        assert s.proc.poll() is None, "the server died during the run:\n" + s.log_text()[-5000:]
    finally:
        s.stop()


# --------------------------------------------------------------------------
# per-call preparation
# --------------------------------------------------------------------------

def _label(case):
    """The operation's label; the coverage phase's calls with methods the path does
    not serve (answered 405) are counted together."""
    if case.method.upper() != case.operation.method.upper():
        return "(methods not served, 405 expected)"
    return case.operation.label


def _prepare(c, case):
    """The headers for `case` (its authentication), after pointing destructive or
    state-dependent calls at throwaway or known objects. Returns (headers, after), where
    after(response) runs once the response is in."""
    path = case.operation.path
    method = case.method.upper()
    label = _label(case)
    n = c.calls.get(label, 0)
    c.calls[label] = n + 1
    after = None
    pp = case.path_parameters if case.path_parameters is not None else {}
    real = n % 2 == 0       # every other call targets an object that exists

    if path.startswith(API + "/") and path not in PUBLIC_INTERNAL:
        headers = c.admin_headers()
        if path == f"{API}/auth/logout":
            headers = bearer(c.login())            # logout revokes only this one
        elif path == f"{API}/auth/password":
            headers = bearer(c.login())

            def after(resp, body=case.body):
                if resp.status_code == 200 and isinstance(body, dict):
                    # the generated old password was right: every earlier session is
                    # revoked; continue with the new password and session
                    c.password = body["new_password"]
                    c.admin.token = resp.json()["access_token"]
        elif path.startswith(f"{API}/models/{{id}}") and "id" in pp and real:
            if method == "DELETE":
                pp["id"] = c.upload_tiny()
            elif method == "GET" or path.endswith("/test"):
                pp["id"] = c.model_id          # read-only: the served PP-OCR model
            else:
                # PATCH, publish, unpublish, activate, new versions: a model of its
                # own, so that the application routes keep a published model with
                # the config they were given
                pp["id"] = c.victim_model_id
        elif path.startswith(f"{TOKENS}/{{id}}") and "id" in pp and real:
            pp["id"] = c.new_token() if method == "DELETE" else c.victim_id
    elif path.startswith(APP_PREFIXES):
        headers = token_headers(c.app_value, "bearer" if n % 2 == 0 else "x-access-token")
        if "id" in pp and real:
            pp["id"] = c.model_id
        if "request_id" in pp and real and c.async_ids:
            pp["request_id"] = c.async_ids[n % len(c.async_ids)]
        if path.endswith("/infer/async"):
            def after(resp):
                if resp.status_code == 202:
                    c.async_ids.append(resp.json()["request_id"])
    else:
        headers = {}
    if pp:
        case.path_parameters = pp
    return headers, after


@schema.parametrize()
def test_api_conforms_to_schema(case, campaign):
    headers, after = _prepare(campaign, case)
    # Generated values of the security headers are replaced by the real credentials:
    # the authentication checks have their own tests (test_setup_auth, test_tokens).
    if case.headers:
        for k in list(case.headers):
            if k.lower() in ("authorization", "x-access-token"):
                del case.headers[k]
    resp = case.call(base_url=campaign.server.url, headers=headers, timeout=HTTP_TIMEOUT_S)
    st = campaign.statuses.setdefault(_label(case), {})
    st[resp.status_code] = st.get(resp.status_code, 0) + 1
    if after is not None:
        after(resp)
    case.validate_response(resp, checks=CHECKS, headers=headers)
