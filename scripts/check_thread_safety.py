#!/usr/bin/env python3
"""Clang's thread-safety analysis over the project's sources.

Reads the compile commands of a CMake build (GCC's), reruns each source of
src/ with clang++ -fsyntax-only and only -Wthread-safety enabled as errors:
members marked ABSL_GUARDED_BY touched without their mutex, functions marked
ABSL_EXCLUSIVE_LOCKS_REQUIRED called without it, locks not released. Parsing
only, so it costs a fraction of a build. Exits non-zero on any finding.

  scripts/check_thread_safety.py BUILD_DIR [SOURCE ...]
  scripts/check_thread_safety.py BUILD_DIR --probe FILE [-DNAME ...]
      checks FILE (outside src/) with the flags a source of src/common gets:
      the self-test of this script (tests/thread_safety/probe.cc).
"""
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys

CLANG = os.environ.get("CLANGXX", "clang++")
DROP_PREFIXES = ("-o", "-W", "-O", "-g", "-fdiagnostics", "-fno-semantic-interposition")
FLAGS = ["-fsyntax-only", "-DBOOST_ASIO_HAS_CO_AWAIT", "-DBOOST_ASIO_HAS_STD_COROUTINE", "-Wno-everything", "-Wthread-safety", "-Wthread-safety-beta",
         "-Werror=thread-safety", "-Werror=thread-safety-beta", "-Wno-thread-safety-negative"]


INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
LOCK_HEADERS = ("common/mutex.h", "absl/synchronization/mutex.h")
# Sources clang 14 cannot parse (LibTorch's headers); they must hold no lock.
UNPARSABLE = ("engines/libtorch/",)


def sees_a_lock(path, src, memo):
    """Whether `path` or a header it includes (through src/) includes a lock."""
    if path in memo:
        return memo[path]
    memo[path] = False  # include cycles
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return False
    found = False
    for inc in INCLUDE.findall(text):
        if inc in LOCK_HEADERS:
            found = True
        else:
            header = os.path.join(src, inc)
            found = os.path.isfile(header) and sees_a_lock(header, src, memo)
        if found:
            break
    memo[path] = found
    return found


def clang_command(entry):
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    out, skip = [CLANG], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c"):
            skip = a == "-o"
            continue
        if a.startswith(DROP_PREFIXES) and not a.startswith("-Wl"):
            continue
        out.append(a)
    return out + FLAGS


def check(entry):
    cmd = clang_command(entry)
    proc = subprocess.run(cmd, cwd=entry["directory"], capture_output=True, text=True)
    return entry["file"], proc.returncode, proc.stderr


def probe(build, path, defines):
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    base = next(e for e in entries if e["file"].endswith("src/common/errors.cc"))
    entry = dict(base, file=os.path.abspath(path))
    cmd = [a for a in clang_command(entry) if not a.endswith("src/common/errors.cc")]
    proc = subprocess.run(cmd + defines + [entry["file"]], cwd=entry["directory"],
                          capture_output=True, text=True)
    sys.stderr.write(proc.stderr)
    print(f"thread-safety probe {os.path.basename(path)} {' '.join(defines)}: rc {proc.returncode}")
    sys.exit(proc.returncode)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    if len(sys.argv) > 3 and sys.argv[2] == "--probe":
        return probe(build, sys.argv[3], sys.argv[4:])
    wanted = {os.path.abspath(f) for f in sys.argv[2:]}
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src")) + os.sep
    seen, todo, memo, unparsable = set(), [], {}, []
    for e in entries:
        path = os.path.abspath(os.path.join(e["directory"], e["file"]))
        if not path.startswith(src) or path in seen or (wanted and path not in wanted):
            continue
        seen.add(path)
        if not sees_a_lock(path, src, memo):
            continue
        if any(part in path for part in UNPARSABLE):
            unparsable.append(os.path.relpath(path))
            continue
        todo.append(dict(e, file=path))
    if unparsable:
        sys.exit(f"these sources hold locks but clang cannot parse them: {unparsable}")
    failed = 0
    jobs = int(os.environ.get("JOBS", os.cpu_count() or 2))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for path, rc, err in pool.map(check, todo):
            if rc != 0:
                failed += 1
                sys.stderr.write(f"--- {os.path.relpath(path)}\n{err}")
    print(f"thread-safety analysis: {len(todo)} of {len(seen)} sources see a lock; "
          f"{failed} with findings")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
