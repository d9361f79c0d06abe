"""No phoning home (docs/SECURITY.md): the server and its validator children,
driven through every engine (ONNX Runtime, LibTorch, OpenCV DNN, OpenVINO: upload →
isolated validation → publish → inference), under strace -f:

- connect/sendto/sendmsg reach nothing but loopback (ONNX Runtime 1.29's 1DS
  telemetry resolves mobile.events.data.microsoft.com unless disabled);
- no file is created or written outside the data dir (the telemetry client
  writes /tmp/mat-debug-<pid>.log and ~/.cache/Microsoft/...).

A new engine must be added to ENGINES below.
"""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CINFER_BIN, Server, bearer, give_app_token, make_admin
from test_models_api import TINY_ONNX, TINY_PT, need, upload_ok
from test_model_lifecycle import LONG_TIMEOUT_S, publish_ok

# (engine form field, fixture, model config): every engine the binary registers.
ENGINES = [("onnxruntime", TINY_ONNX, None), ("libtorch", TINY_PT, None),
           ("opencv", TINY_ONNX, {"input_shapes": {"input": [1, 3, 32, 32]}}),
           ("openvino", TINY_ONNX, None)]

TRACED = "connect,sendto,sendmsg,sendmmsg,open,openat,creat,mkdir,mkdirat,rename,renameat," \
         "renameat2,link,linkat,symlink,symlinkat,truncate"

LINE = re.compile(r"^(?P<pid>\d+)\s+(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+|\?)")
INET4 = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
INET6 = re.compile(r'inet_pton\(AF_INET6,\s*"([^"]+)"')
PATH_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")


def is_loopback(addr):
    return (addr.startswith("127.") or addr == "::1" or addr.startswith("::ffff:127.")
            or addr in ("0.0.0.0", "::"))


def violations(trace_text, allowed_dirs, cwd):
    """Network destinations other than loopback, and paths created or opened
    for writing outside `allowed_dirs`, in strace output."""
    bad = []
    for line in trace_text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        call, args, ret = m.group("call"), m.group("args"), m.group("ret")
        if call in ("connect", "sendto", "sendmsg", "sendmmsg"):
            # glog (LibTorch's) resolves the user name at load time: getpwuid asks the
            # local name-service cache, a Unix socket on this machine. Nothing else.
            if "sa_family=AF_UNIX" in args and '"/var/run/nscd/socket"' not in args:
                bad.append(f"local socket: {line}")
            for addr in INET4.findall(args) + INET6.findall(args):
                if not is_loopback(addr):
                    bad.append(f"network: {line}")
            continue
        if call in ("open", "openat") and not any(f in args for f in WRITE_FLAGS):
            continue
        paths = PATH_ARG.findall(args)
        if not paths:
            continue
        targets = paths[-1:] if call in ("rename", "renameat", "renameat2", "link", "linkat",
                                         "symlink", "symlinkat") else paths[:1]
        for p in targets:
            full = os.path.normpath(os.path.join(cwd, p))
            if full == "/dev/null" or any(full == d or full.startswith(d + os.sep)
                                          for d in allowed_dirs):
                continue
            bad.append(f"file outside the data dir ({ret}): {line}")
    return bad


def test_the_detector_sees_what_it_must():
    """The parser flags a DNS query, a file in /tmp and one under $HOME, and
    passes loopback and the data dir (so the real test can fail)."""
    trace = "\n".join([
        '10 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.53")}, 16) = 0',
        '10 sendto(5, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::53", &sin6_addr), sin6_scope_id=0}, 28) = 1',
        '11 openat(AT_FDCWD, "/tmp/mat-debug-11.log", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3',
        '11 mkdir("/home/u/.cache/Microsoft", 0777) = 0',
        '12 connect(6, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '12 openat(AT_FDCWD, "data/cinfer.db", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 7',
        '12 openat(AT_FDCWD, "/usr/lib/libx.so", O_RDONLY|O_CLOEXEC) = 3',
        '13 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
        '13 connect(3, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 110) = 0',
    ])
    found = violations(trace, ["/w/data"], "/w")
    assert len(found) == 5, found


class TracedServer(Server):
    def __init__(self, workdir, trace_path, **kw):
        super().__init__(workdir, **kw)
        self.trace_path = trace_path

    def argv(self):
        return ["strace", "-f", "-qq", "-s", "256", "-e", f"trace={TRACED}",
                "-o", str(self.trace_path), CINFER_BIN, "serve"]

    def traced_pid(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        return pids[0] if pids else None

    def stop(self, timeout=60):
        if self.proc is None or self.proc.poll() is not None:
            return
        pid = self.traced_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)  # strace itself would only detach
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if pid:
                os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait()
        self._close_log()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace missing (install-deps.sh)")
def test_no_outbound_connections_and_no_files_outside_the_data_dir(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    started = time.time()
    trace = tmp_path / "strace.log"
    s = TracedServer(tmp_path / "srv", trace, env={
        "HOME": str(home), "TMPDIR": str(tmp_path / "tmpdir"),
        # whatever the caller's environment says, the server turns telemetry off
        "ORT_DISABLE_TELEMETRY": "0"})
    try:
        s.start(timeout=120)
        admin = make_admin(s)
        give_app_token(admin)
        for engine, fixture, config in ENGINES:
            m = upload_ok(admin, need(fixture).read_bytes(), f"phone-{engine}", engine=engine,
                          config=config, filename=Path(fixture).name, timeout=LONG_TIMEOUT_S)
            publish_ok(admin, m["id"], 1)
            r = s.get(f"/api/v1/models/{m['id']}", headers=s.app_headers, timeout=60)
            assert r.status_code == 200, r.text[:300]
            inputs = r.json()["io_schema"]["inputs"]
            declared = inputs[0]["shape"] or [1, 3, 32, 32]  # TorchScript declares none
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in declared]
            count = 1
            for d in shape:
                count *= d
            body = {"inputs": [{"name": inputs[0]["name"], "shape": shape, "datatype": "FP32",
                                "data": [0.25] * count}]}
            r = s.post(f"/api/v1/models/{m['id']}/infer", json=body, headers=s.app_headers,
                       timeout=120)
            assert r.status_code == 200, (engine, r.text[:500])
    finally:
        s.stop()
    text = trace.read_text(errors="replace")
    pids = set(int(m.group("pid")) for m in map(LINE.match, text.splitlines()) if m)
    assert len(pids) >= 4, "the validator children were not traced"
    found = violations(text, [str(s.data_dir.resolve())], str(s.workdir.resolve()))
    assert not found, "\n".join(found[:40])
    assert not (home / ".cache").exists(), list(home.rglob("*"))
    # Written by one of the traced processes during this test: an older file whose
    # name holds a recycled pid (other processes on the machine write them too) is not.
    leftovers = [p for p in Path("/tmp").glob("mat-debug-*.log")
                 if int(p.stem.rsplit("-", 1)[1]) in pids and p.stat().st_mtime >= started - 1]
    assert not leftovers, leftovers
