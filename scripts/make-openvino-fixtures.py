#!/usr/bin/env python3
"""Convert the ONNX test models to OpenVINO IR (.xml + .bin) for the OpenVINO engine tests.

  models/samples/<stem>.onnx              -> models/samples/openvino/<stem>.{xml,bin}
      for the PP-OCR samples of scripts/fetch-sample-models.sh:
      ch_ppocr_mobile_v2.0_cls_infer, ch_PP-OCRv4_det_infer, ch_PP-OCRv4_rec_infer
  tests/fixtures/models/tiny_classifier.onnx -> models/samples/openvino/tiny_classifier.{xml,bin}

Converted with openvino.convert_model and saved with openvino.save_model(...,
compress_to_fp16=False), so the IR keeps the float32 weights and the ONNX tensor
names and (dynamic) shapes.  models/ is git-ignored.  Idempotent: a model is
skipped when its .xml and .bin are both newer than its .onnx.  Missing PP-OCR samples
(scripts/fetch-sample-models.sh not run) are reported and skipped, with exit status 0.
Needs the `openvino` Python package (tests/requirements.txt), so run it with the
repo's venv:

  .venv/bin/python scripts/make-openvino-fixtures.py [--force] [--check]

--force converts even when the IR is up to date; --check then compiles each IR and
its ONNX source with OpenVINO on CPU, runs both on the same seeded random input and
fails (exit 1) if the outputs differ by more than 1e-5.
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "models" / "samples"
DEST = SAMPLES / "openvino"
SAMPLE_STEMS = ("ch_ppocr_mobile_v2.0_cls_infer", "ch_PP-OCRv4_det_infer",
                "ch_PP-OCRv4_rec_infer")
FIXTURE = ROOT / "tests" / "fixtures" / "models" / "tiny_classifier.onnx"
NAME = "make-openvino-fixtures"

# Shapes for --check where the model's input has dynamic dimensions.
CHECK_SHAPES = {
    "ch_ppocr_mobile_v2.0_cls_infer": (2, 3, 48, 192),
    "ch_PP-OCRv4_det_infer": (1, 3, 320, 416),
    "ch_PP-OCRv4_rec_infer": (2, 3, 48, 320),
    "tiny_classifier": (2, 3, 32, 32),
}
CHECK_TOLERANCE = 1e-5


def up_to_date(source: Path, xml: Path) -> bool:
    bin_ = xml.with_suffix(".bin")
    if not (xml.is_file() and bin_.is_file()):
        return False
    built = min(xml.stat().st_mtime_ns, bin_.stat().st_mtime_ns)
    return built > source.stat().st_mtime_ns


def convert(ov, source: Path, xml: Path) -> None:
    """Writes <xml> and its .bin via a temporary folder next to them and renames,
    so an interrupted run never leaves a half-written IR that looks up to date."""
    model = ov.convert_model(str(source))
    with tempfile.TemporaryDirectory(dir=xml.parent, prefix=f".{xml.stem}.") as tmp:
        tmp_xml = Path(tmp) / xml.name
        ov.save_model(model, str(tmp_xml), compress_to_fp16=False)
        xml.unlink(missing_ok=True)  # never a new .bin next to an old .xml
        os.replace(tmp_xml.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(tmp_xml, xml)


def check(ov, source: Path, xml: Path) -> float:
    """Max abs difference between the IR and its ONNX source on one seeded input."""
    import numpy as np
    core = ov.Core()
    ir, onnx = core.read_model(str(xml)), core.read_model(str(source))

    def names(m):
        return ([sorted(p.get_names()) for p in m.inputs],
                [sorted(p.get_names()) for p in m.outputs])
    if names(ir) != names(onnx):
        raise RuntimeError(f"{xml.name}: tensor names {names(ir)} != {names(onnx)}")
    rng = np.random.default_rng(20260417)
    x = rng.uniform(-1.0, 1.0, CHECK_SHAPES[xml.stem]).astype(np.float32)
    outs = [core.compile_model(m, "CPU")(x) for m in (ir, onnx)]
    diff = max(float(np.abs(outs[0][i] - outs[1][i]).max()) for i in range(len(ir.outputs)))
    print(f"{NAME}: check {xml.stem}: inputs {names(ir)[0]} {ir.inputs[0].get_partial_shape()}"
          f", outputs {names(ir)[1]}, max |IR - ONNX| = {diff:.3g} on {list(x.shape)}")
    return diff


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--force", action="store_true", help="convert even when up to date")
    parser.add_argument("--check", action="store_true", help="compare each IR with its ONNX")
    args = parser.parse_args()
    # convert_model reports usage to Intel (openvino_telemetry, on unless opted out, and
    # it writes ~/intel/); without that package OpenVINO falls back to its no-op stub.
    sys.modules["openvino_telemetry"] = None
    try:
        import openvino as ov
    except ImportError:
        print(f"{NAME}: error: the openvino Python package is required "
              "(run with .venv/bin/python; tests/requirements.txt)", file=sys.stderr)
        return 1

    jobs = [(FIXTURE, DEST / "tiny_classifier.xml")]
    missing = [s for s in SAMPLE_STEMS if not (SAMPLES / f"{s}.onnx").is_file()]
    jobs += [(SAMPLES / f"{s}.onnx", DEST / f"{s}.xml") for s in SAMPLE_STEMS if s not in missing]
    DEST.mkdir(parents=True, exist_ok=True)
    converted = 0
    for source, xml in jobs:
        if args.force or not up_to_date(source, xml):
            convert(ov, source, xml)
            converted += 1
    diffs = [check(ov, source, xml) for source, xml in jobs] if args.check else []
    failed = any(not d <= CHECK_TOLERANCE for d in diffs)

    note = (f"; PP-OCR samples missing ({', '.join(missing)}), run scripts/fetch-sample-models.sh"
            if missing else "")
    if converted:
        print(f"{NAME}: converted {converted} of {len(jobs)} ONNX models to OpenVINO "
              f"{ov.__version__.split('-')[0]} IR in {DEST}{note}")
    else:
        print(f"{NAME}: {len(jobs)} OpenVINO IR models already in {DEST} (nothing to do){note}")
    if failed:
        print(f"{NAME}: error: an IR differs from its ONNX by more than {CHECK_TOLERANCE}",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
