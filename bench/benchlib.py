"""Helpers shared by the benchmarks in bench/ (imported, never run)."""
import datetime
import io
import json
import platform
import signal
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The preprocessing of the PP-OCR models the benchmarks serve (model config `input`).
CLS_INPUT = {"width": 192, "height": 48, "resize": "stretch", "color": "bgr",
             "scale": 1 / 255, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
DET_INPUT = {"width": 640, "height": 640, "resize": "stretch", "color": "bgr",
             "scale": 1 / 255, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def free_port():
    """A loopback port that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def jpeg(img, quality=90):
    """A Pillow image as JPEG bytes."""
    b = io.BytesIO()
    img.convert("RGB").save(b, "JPEG", quality=quality)
    return b.getvalue()


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def git_commit():
    """HEAD, with "-dirty" when tracked files differ from it; None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def write_result(doc, out, name):
    """Writes `doc` as JSON to `out`, or to bench/results/<name>-<date>.json."""
    path = Path(out) if out else ROOT / "bench" / "results" / (
        f"{name}-{datetime.date.today().isoformat()}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwrote {path}")
    return path


def stop_server(proc, log):
    """SIGTERM, then SIGKILL after 60 s; closes the server's log file."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
