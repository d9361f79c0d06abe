#!/usr/bin/env python3
"""Size limits of the house rules: no source file over 600 lines and no function over
60 lines outside tests (src/**/*_test.cc and src/testing/ are exempt). Function lengths
come from lizard (tests/requirements.txt). Prints the largest file and function either
way; exits 1 naming every file or function over its limit."""
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 60
LIZARD = os.environ.get("LIZARD", str(ROOT / ".venv" / "bin" / "lizard"))


def sources():
    for path in sorted((ROOT / "src").rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if path.suffix in (".cc", ".h") and not rel.endswith("_test.cc") \
                and not rel.startswith("src/testing/"):
            yield path


def main() -> int:
    files = list(sources())
    sizes = sorted(((sum(1 for _ in p.open()), p.relative_to(ROOT).as_posix()) for p in files),
                   reverse=True)
    # lizard's CSV: NLOC, CCN, tokens, params, length, "location", "file", "function", ...
    out = subprocess.run([LIZARD, "--csv", *map(str, files)], check=True, capture_output=True,
                         text=True).stdout
    functions = []
    for cols in csv.reader(io.StringIO(out)):
        if len(cols) < 8 or not cols[4].isdigit():
            continue
        length, location = int(cols[4]), cols[5].replace(f"{ROOT}/", "")
        functions.append((length, location))
    functions.sort(reverse=True)
    print(f"largest file: {sizes[0][1]} ({sizes[0][0]} lines); "
          f"longest function: {functions[0][1]} ({functions[0][0]} lines)")
    bad = [f"{name}: {n} lines (max {MAX_FILE_LINES})" for n, name in sizes if n > MAX_FILE_LINES]
    bad += [f"{loc}: {n} lines (max {MAX_FUNCTION_LINES})" for n, loc in functions
            if n > MAX_FUNCTION_LINES]
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
