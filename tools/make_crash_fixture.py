#!/usr/bin/env python3
"""Derives tests/fixtures/models/stack_overflow_code.pt from tiny_classifier.pt.

TorchScript archives carry their code as Python source that LibTorch compiles at load
time with a recursive-descent parser. An expression nested 300000 parentheses deep
overflows that parser's stack: `torch::jit::load` dies with SIGSEGV. The isolated
validator must turn that into a rejection while the calling process survives.

Needs only the standard library:  python3 tools/make_crash_fixture.py
"""
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "models"
DEPTH = 300_000


def main():
    src = zipfile.ZipFile(FIXTURES / "tiny_classifier.pt")
    dst_path = FIXTURES / "stack_overflow_code.pt"
    with zipfile.ZipFile(dst_path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("code/__torch__.py"):
                text = data.decode()
                assert "    return _0\n" in text
                text = text.replace("    return _0\n",
                                    "    return " + "(" * DEPTH + "_0" + ")" * DEPTH + "\n")
                data = text.encode()
                info.compress_type = zipfile.ZIP_DEFLATED  # 600 KB of parentheses -> 1 KB
            dst.writestr(info, data)
    print(f"wrote {dst_path} ({dst_path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
