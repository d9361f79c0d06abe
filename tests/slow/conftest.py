"""Helpers for the slow campaigns (kill -9, soak): `make test-slow`.

Re-exports everything of tests/integration/conftest.py (the Server wrapper, the
admin and token helpers, its fixtures and its failure-report hook), so the slow
tests start the real binary exactly as the integration tests do, and adds what
both campaigns need: the PP-OCR classifier config, a text-line PNG, uploads.
"""

import importlib.util
import io
import json
import sys
import uuid
from pathlib import Path

import pytest

_INTEGRATION_CONFTEST = Path(__file__).resolve().parents[1] / "integration" / "conftest.py"
_spec = importlib.util.spec_from_file_location("cinfer_integration_conftest",
                                               _INTEGRATION_CONFTEST)
_itc = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _itc
_spec.loader.exec_module(_itc)

from cinfer_integration_conftest import *  # noqa: E402,F401,F403
from cinfer_integration_conftest import API, REPO_ROOT, bearer  # noqa: E402

SAMPLES = REPO_ROOT / "models" / "samples"
CLS = SAMPLES / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
TINY_ONNX = REPO_ROOT / "tests" / "fixtures" / "models" / "tiny_classifier.onnx"
TEXT_PNG = SAMPLES / "images" / "text.png"
MODELS = f"{API}/models"
APP = "/api/v1"
LONG_TIMEOUT_S = 60


def need(*paths):
    for p in paths:
        if not Path(p).is_file():
            pytest.skip(f"{p} missing (scripts/fetch-sample-models.sh, "
                        "scripts/fetch-sample-images.sh)")


def text_line_png():
    """A PNG of a line of handwriting (text.png cropped to a cls-sized strip)."""
    from PIL import Image
    with Image.open(TEXT_PNG) as im:
        img = im.convert("RGB").crop((0, 20, 448, 120))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def upload_model(server, token, content: bytes, name=None, config=None,
                 model_id=None, timeout=LONG_TIMEOUT_S):
    """POST a new model (model_id None) or a new version of model_id. Returns the
    response (any status); raises what requests raises."""
    data = {}
    if model_id is None:
        data["name"] = name or f"m-{uuid.uuid4().hex[:12]}"
        path = MODELS
    else:
        path = f"{MODELS}/{model_id}/versions"
    if config is not None:
        data["config"] = json.dumps(config)
    files = {"file": ("model.onnx", content, "application/octet-stream")}
    return server.post(path, data=data, files=files, headers=bearer(token),
                       timeout=timeout)


def publish_cls(admin):
    """Upload the PP-OCR classifier with its config and publish it; returns its id."""
    s = admin.server
    r = upload_model(s, admin.token, CLS.read_bytes(), name="ppocr-cls", config=CLS_CONFIG)
    assert r.status_code == 201, f"upload: {r.status_code} {r.text[:500]}"
    model_id = r.json()["id"]
    r = s.post(f"{MODELS}/{model_id}/publish", headers=bearer(admin.token),
               timeout=LONG_TIMEOUT_S)
    assert r.status_code == 200, f"publish: {r.status_code} {r.text[:500]}"
    return model_id
