#!/usr/bin/env python3
"""The peer of bench/peer_bench.py: the Python stack of the design, done competently.

FastAPI + Uvicorn + ONNX Runtime, one `InferenceSession` per worker process
(`intra_op_num_threads=1`, `inter_op_num_threads=1`), run with one worker process per
core. The event loop only moves bytes: decoding, preprocessing and `session.run` run
in the worker's thread pool (`anyio.to_thread.run_sync`), which release the GIL in
OpenCV, NumPy and ONNX Runtime.

Endpoints:
  POST /infer        body: the raw image (`Content-Type: image/jpeg`, or PNG/WebP/BMP);
                     `cv2.imdecode` -> stretch resize to the model's width x height ->
                     BGR (or RGB) -> * scale -> (x - mean) / std -> NCHW float32 -> run.
                     Answers JSON:
                       classification:  {"label", "score"} of the argmax class;
                       text_detection:  {"text_pixels": N}, the count of pixels of the
                                        probability map above 0.3. A cheap stand-in for
                                        the DB post-processing (contours, unclip, boxes)
                                        that cinfer does, so the peer does somewhat LESS
                                        work per request than cinfer on det.
  GET  /health/live  {"status": "ok", "pid": ...} (the harness waits until it has seen
                     every worker's pid).

Configuration: environment variables (what `uvicorn --workers N` hands to every
worker), or the command-line options below when started as a script, which set them:
  PEER_MODEL   model file (.onnx)                      --model
  PEER_TASK    classification | text_detection          --task
  PEER_WIDTH, PEER_HEIGHT  input size in pixels         --width --height
  PEER_COLOR   bgr | rgb (default bgr)                  --color
  PEER_SCALE   pixel scale (default 1/255)              --scale
  PEER_MEAN, PEER_STD  three comma-separated numbers    --mean --std
  PEER_LABELS  comma-separated class labels (optional)  --labels
  PEER_THREADS images processed at once per worker      --threads
               (default 1: one per worker process, so workers = cores keeps every
               core on one request instead of time-slicing dozens of them)

Usage (the harness starts it this way):
  PEER_MODEL=models/samples/ch_ppocr_mobile_v2.0_cls_infer.onnx PEER_TASK=classification \\
  PEER_WIDTH=192 PEER_HEIGHT=48 PEER_MEAN=0.5,0.5,0.5 PEER_STD=0.5,0.5,0.5 PEER_LABELS=0,180 \\
    bench/.venv-peer/bin/uvicorn fastapi_server:app --app-dir bench/peers \\
      --workers 2 --port 8100 --no-access-log
or: bench/.venv-peer/bin/python bench/peers/fastapi_server.py --model ... --workers 2
"""
import argparse
import contextlib
import os
import sys
from pathlib import Path

import anyio
import cv2
import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

TASKS = ("classification", "text_detection")
TEXT_THRESHOLD = 0.3  # DB binary threshold, as cinfer's text_detection default


def floats(text, n=3):
    values = [float(v) for v in text.split(",")]
    if len(values) != n:
        raise ValueError(f"expected {n} comma-separated numbers, got {text!r}")
    return values


class Model:
    """One ONNX Runtime session and the preprocessing its input needs."""

    def __init__(self, env):
        self.task = env.get("PEER_TASK", "classification")
        if self.task not in TASKS:
            raise ValueError(f"PEER_TASK must be one of {TASKS}, not {self.task!r}")
        self.width = int(env["PEER_WIDTH"])
        self.height = int(env["PEER_HEIGHT"])
        self.rgb = env.get("PEER_COLOR", "bgr").lower() == "rgb"
        scale = float(env.get("PEER_SCALE", 1 / 255))
        mean = np.array(floats(env.get("PEER_MEAN", "0,0,0")), np.float32)
        std = np.array(floats(env.get("PEER_STD", "1,1,1")), np.float32)
        # (pixel * scale - mean) / std  ==  pixel * a + b, per channel.
        self.a = (scale / std).astype(np.float32)
        self.b = (-mean / std).astype(np.float32)
        labels = env.get("PEER_LABELS", "")
        self.labels = labels.split(",") if labels else None

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(env["PEER_MODEL"], sess_options=opts,
                                            providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def preprocess(self, data):
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)  # BGR, HWC
        if img is None:
            return None
        img = cv2.resize(img, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
        if self.rgb:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        x = img.astype(np.float32) * self.a + self.b  # broadcasts over the channel axis
        return np.ascontiguousarray(x.transpose(2, 0, 1))[np.newaxis]  # NCHW

    def __call__(self, data):
        """Decode, preprocess, run, post-process: the whole request off the event loop."""
        x = self.preprocess(data)
        if x is None:
            return None
        out = self.session.run(None, {self.input: x})[0]
        if self.task == "classification":
            scores = out.reshape(-1)
            k = int(scores.argmax())
            return {"label": self.labels[k] if self.labels and k < len(self.labels) else k,
                    "score": float(scores[k])}
        return {"text_pixels": int(np.count_nonzero(out > TEXT_THRESHOLD))}


@contextlib.asynccontextmanager
async def lifespan(app):
    # Built in each worker process (uvicorn --workers spawns them), never shared.
    model = Model(os.environ)
    model(cv2.imencode(".jpg", np.full((model.height, model.width, 3), 128, np.uint8))[1]
          .tobytes())  # warm-up: the first run allocates the session's buffers
    app.state.model = model
    app.state.limiter = anyio.CapacityLimiter(int(os.environ.get("PEER_THREADS", "1")))
    yield


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/infer")
async def infer(request: Request):
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind.startswith("image/"):
        raise HTTPException(415, "send the image as the raw body with an image/* type")
    data = await request.body()
    result = await anyio.to_thread.run_sync(request.app.state.model, data,
                                            limiter=request.app.state.limiter)
    if result is None:
        raise HTTPException(422, "the body is not a decodable image")
    return JSONResponse(result)


@app.get("/health/live")
async def live():
    return {"status": "ok", "pid": os.getpid()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--task", choices=TASKS, default="classification")
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--height", type=int, required=True)
    ap.add_argument("--color", choices=("bgr", "rgb"), default="bgr")
    ap.add_argument("--scale", type=float, default=1 / 255)
    ap.add_argument("--mean", default="0,0,0")
    ap.add_argument("--std", default="1,1,1")
    ap.add_argument("--labels", default="")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8100)
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = ap.parse_args()
    os.environ.update({
        "PEER_MODEL": str(Path(args.model).resolve()), "PEER_TASK": args.task,
        "PEER_WIDTH": str(args.width), "PEER_HEIGHT": str(args.height),
        "PEER_COLOR": args.color, "PEER_SCALE": repr(args.scale),
        "PEER_MEAN": args.mean, "PEER_STD": args.std, "PEER_LABELS": args.labels,
        "PEER_THREADS": str(args.threads)})
    import uvicorn
    uvicorn.run("fastapi_server:app", app_dir=str(Path(__file__).resolve().parent),
                host=args.host, port=args.port, workers=args.workers,
                access_log=False, log_level="warning")


if __name__ == "__main__":
    sys.exit(main())
