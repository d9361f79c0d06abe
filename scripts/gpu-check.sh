#!/usr/bin/env bash
# Checks Cinfer's ONNX Runtime engine on an NVIDIA GPU: CUDA and TensorRT execution
# providers, from the GPU build of ONNX Runtime and the CUDA/cuDNN/TensorRT libraries
# of their PyPI wheels (docs/ENGINES.md, "GPU deployments").
#
#   scripts/gpu-check.sh            (after `make build`; needs network for pip, or a wheelhouse)
#
# On a machine without an NVIDIA GPU (no nvidia-smi, no /dev/nvidia0) it says so and exits 0.
# Otherwise it
#   1. makes a venv in $GPU_CHECK_DIR (default /tmp/cinfer-gpu-check) and pip-installs the
#      pinned onnxruntime-gpu, the CUDA 13 / cuDNN 9 runtime wheels and TensorRT 10's libraries;
#   2. puts the wheel's onnxruntime/capi folder (libonnxruntime.so.1 and the provider
#      libraries) and the nvidia/ and tensorrt_libs/ library folders on LD_LIBRARY_PATH, which
#      the dynamic loader searches before the RUNPATH of build/engines/libcinfer_engine_onnxruntime.so,
#      so the plugin loads the GPU build instead of third_party/onnxruntime's CPU build;
#   3. runs PP-OCRv4 det (x=1,3,640,640, one seeded random input) with `cinfer model run` on
#      CPU (the stock CPU build), CUDA ([CUDAExecutionProvider]) and TensorRT
#      ([TensorrtExecutionProvider, CUDAExecutionProvider]), set with `-c` configs
#      (engines.onnx.execution_providers), and compares every output to the CPU's
#      (max abs diff <= $GPU_CHECK_ATOL, default 1e-3);
#   4. checks with `cinfer model inspect` that each GPU config lists its providers in
#      `devices` and has no `fallback_reason`, and that the GPU really computes: each GPU
#      config, and a TensorRT-only probe ([TensorrtExecutionProvider]: were TensorRT to claim
#      no node, the graph would run on CPU), must be >= $GPU_CHECK_MIN_SPEEDUP (default 2)
#      times the CPU throughput;
#   5. benchmarks every config with `cinfer model bench` ($GPU_CHECK_SECONDS s each, default
#      10), prints a table and writes bench/results/gpu-check-<date>.json.
# Exit status 0 when every check passes, 1 otherwise (the table and result file are still
# written), 2 when something needed is missing.
#
# Environment: GPU_CHECK_DIR, GPU_CHECK_SECONDS, GPU_CHECK_ATOL, GPU_CHECK_MIN_SPEEDUP,
#   GPU_CHECK_TIMEOUT (s per cinfer command, default 900: TensorRT builds its engine on the
#   first inference of each process), GPU_CHECK_TENSORRT=0 (skip TensorRT: no install, no
#   checks), GPU_CHECK_WHEELHOUSE=DIR (install offline from wheels downloaded there with
#   `pip download` of the same pins), GPU_CHECK_NVIDIA_INDEX (index of the TensorRT wheels,
#   default https://pypi.nvidia.com; PyPI only has placeholders that fetch from it),
#   CINFER_BIN, PYTHON (>= 3.11, default python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${GPU_CHECK_DIR:-/tmp/cinfer-gpu-check}
CINFER=${CINFER_BIN:-$ROOT/build/cinfer}
PLUGIN=$(dirname "$CINFER")/engines/libcinfer_engine_onnxruntime.so
PYTHON=${PYTHON:-python3}
MODEL=$ROOT/models/samples/ch_PP-OCRv4_det_infer.onnx
SHAPE=x=1,3,640,640
BENCH_SECONDS=${GPU_CHECK_SECONDS:-10}
ATOL=${GPU_CHECK_ATOL:-1e-3}
MIN_SPEEDUP=${GPU_CHECK_MIN_SPEEDUP:-2}
CMD_TIMEOUT=${GPU_CHECK_TIMEOUT:-900}
WITH_TENSORRT=${GPU_CHECK_TENSORRT:-1}
NVIDIA_INDEX=${GPU_CHECK_NVIDIA_INDEX:-https://pypi.nvidia.com}

# onnxruntime-gpu 1.29.0 matches third_party/onnxruntime (1.29.0, C API 29). Its PyPI build
# is for CUDA 13.0 (capi/build_and_package_info.py: cuda_version '13.0'; the provider
# libraries need libcudart.so.13, libcublas(Lt).so.13, libcurand.so.10, libcudnn.so.9 and,
# for TensorRT, libnvinfer.so.10 and libnvonnxparser.so.10). The CUDA wheels are the 13.0
# releases its [cuda,cudnn] extras accept (nvidia-*~=13.0, cufft~=12.0, curand~=10.0,
# nvidia-cudnn-cu13~=9.0); newer 13.x would do too (CUDA minor-version compatibility).
ORT_PINS=(onnxruntime-gpu==1.29.0 numpy==2.4.6 protobuf==7.36.2 flatbuffers==25.12.19
  packaging==26.4)
CUDA_PINS=(nvidia-cuda-runtime==13.0.96 nvidia-cuda-nvrtc==13.0.88 nvidia-cublas==13.0.2.14
  nvidia-cufft==12.0.0.61 nvidia-curand==10.4.0.35 nvidia-nvjitlink==13.0.88
  nvidia-cudnn-cu13==9.28.1.4)
TRT_PINS=(tensorrt-cu13-libs==10.16.1.11)

# name|execution providers (YAML flow list)|what it shows
CONFIGS=(
  "cpu|CPUExecutionProvider|the stock CPU build (third_party/onnxruntime), the reference"
  "cuda|CUDAExecutionProvider|the GPU build, CUDA"
  "tensorrt|TensorrtExecutionProvider, CUDAExecutionProvider|the GPU build, TensorRT then CUDA"
  "tensorrt_only|TensorrtExecutionProvider|probe: TensorRT alone, CPU for what it leaves"
)

FAILURES=()
VENV_PY=
GPU_LD_PATH=

log() { printf 'gpu-check: %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  FAILURES+=("$*")
}
die() {
  log "$*"
  exit 2
}

have_gpu() {
  command -v nvidia-smi >/dev/null 2>&1 && [[ -e /dev/nvidia0 ]] && nvidia-smi -L >/dev/null 2>&1
}

config_names() {
  local entry
  for entry in "${CONFIGS[@]}"; do
    [[ $WITH_TENSORRT == 1 || $entry != tensorrt* ]] && printf '%s\n' "${entry%%|*}"
  done
  return 0
}

config_field() { # NAME FIELD(2=providers, 3=what)
  local entry
  for entry in "${CONFIGS[@]}"; do
    [[ ${entry%%|*} == "$1" ]] && cut -d'|' -f"$2" <<<"$entry" && return 0
  done
  return 1
}

check_prereqs() {
  [[ -x $CINFER ]] || die "$CINFER missing: build first (make build)"
  [[ -f $PLUGIN ]] || die "$PLUGIN missing: build first (make build)"
  [[ -s $MODEL ]] || die "$MODEL missing: run scripts/fetch-sample-models.sh"
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set PYTHON)"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "$PYTHON is older than 3.11, which onnxruntime-gpu 1.29 needs (set PYTHON)"
}

pip_install() { # ARGS... (pins)
  local src=()
  if [[ -n ${GPU_CHECK_WHEELHOUSE:-} ]]; then
    src=(--no-index --find-links "$GPU_CHECK_WHEELHOUSE")
  fi
  "$WORK/venv/bin/pip" install --disable-pip-version-check --no-input --only-binary=:all: \
    "${src[@]}" "$@"
}

make_venv() {
  mkdir -p "$WORK"
  [[ -x $WORK/venv/bin/python ]] || "$PYTHON" -m venv "$WORK/venv"
  VENV_PY=$WORK/venv/bin/python
  log "installing ${ORT_PINS[*]} ${CUDA_PINS[*]} into $WORK/venv (several GB)"
  pip_install "${ORT_PINS[@]}" "${CUDA_PINS[@]}" || die "pip install of the ONNX Runtime GPU and CUDA wheels failed"
  if [[ $WITH_TENSORRT == 1 ]]; then
    log "installing ${TRT_PINS[*]} (index $NVIDIA_INDEX)"
    pip_install --extra-index-url "$NVIDIA_INDEX" "${TRT_PINS[@]}" ||
      die "pip install of ${TRT_PINS[*]} failed (GPU_CHECK_TENSORRT=0 checks CUDA alone)"
  fi
}

# Sets GPU_LD_PATH: capi first, then every folder of the nvidia/ wheels and tensorrt_libs/
# that holds a shared library.
setup_library_path() {
  local site capi lib
  site=$("$VENV_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  capi=$site/onnxruntime/capi
  lib=$(find "$capi" -maxdepth 1 -name 'libonnxruntime.so.1.*' | sort | tail -n 1)
  [[ -n $lib ]] || die "no libonnxruntime.so.1.* in $capi"
  # The wheel ships only libonnxruntime.so.<version>; the plugin asks for the soname.
  [[ -e $capi/libonnxruntime.so.1 ]] || ln -s "$(basename "$lib")" "$capi/libonnxruntime.so.1"
  GPU_LD_PATH=$capi
  while IFS= read -r dir; do
    GPU_LD_PATH+=:$dir
  done < <(find "$site/nvidia" "$site/tensorrt_libs" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u)
  GPU_LD_PATH+=${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  check_resolved "$PLUGIN" "$capi"
  check_resolved "$capi/libonnxruntime_providers_cuda.so" ""
  [[ $WITH_TENSORRT == 1 ]] && check_resolved "$capi/libonnxruntime_providers_tensorrt.so" ""
  return 0
}

check_resolved() { # LIBRARY EXPECTED_ORT_DIR: every dependency found, ORT from that folder
  local out
  out=$(LD_LIBRARY_PATH=$GPU_LD_PATH ldd "$1") || die "ldd $1 failed"
  if grep -q 'not found' <<<"$out"; then
    die "$(basename "$1") has unresolved libraries with LD_LIBRARY_PATH=$GPU_LD_PATH:
$(grep 'not found' <<<"$out")"
  fi
  if [[ -n $2 ]] && ! grep -qF "libonnxruntime.so.1 => $2/" <<<"$out"; then
    die "$(basename "$1") does not load libonnxruntime.so.1 from $2: $(grep libonnxruntime <<<"$out")"
  fi
}

write_inputs() {
  local name
  mkdir -p "$WORK/run"
  for name in $(config_names); do
    printf 'engines:\n  onnx:\n    execution_providers: [%s]\n' "$(config_field "$name" 2)" \
      >"$WORK/run/$name.yaml"
  done
  "$VENV_PY" - "$WORK/run/x.bin" <<'EOF'
import sys
import numpy as np
rng = np.random.default_rng(20261130)
rng.uniform(-1.0, 1.0, size=(1, 3, 640, 640)).astype("<f4").tofile(sys.argv[1])
EOF
}

cinfer_as() { # CONFIG_NAME ARGS...: the CPU reference runs the stock build
  local name=$1 ld=$GPU_LD_PATH
  shift
  [[ $name == cpu ]] && ld=${LD_LIBRARY_PATH:-}
  LD_LIBRARY_PATH=$ld timeout "$CMD_TIMEOUT" "$CINFER" "$@"
}

# inspect + run + bench of one config; files under $WORK/run/<name>.*
exercise() {
  local name=$1 dir=$WORK/run common
  common=(--engine onnxruntime -c "$dir/$name.yaml" --shape "$SHAPE")
  log "$name: inspect"
  cinfer_as "$name" model inspect "$MODEL" "${common[@]}" >"$dir/$name.inspect.json" 2>"$dir/$name.log" ||
    { fail "$name: model inspect failed: $(tail -c 600 "$dir/$name.inspect.json" "$dir/$name.log")"; return 0; }
  log "$name: run"
  rm -rf "$dir/$name.out"
  cinfer_as "$name" model run "$MODEL" "${common[@]}" --input "x=$dir/x.bin" --output-dir "$dir/$name.out" \
    >/dev/null 2>>"$dir/$name.log" || fail "$name: model run failed (see $dir/$name.log)"
  log "$name: bench ${BENCH_SECONDS}s"
  cinfer_as "$name" model bench "$MODEL" "${common[@]}" --seconds "$BENCH_SECONDS" \
    >"$dir/$name.bench.json" 2>>"$dir/$name.log" || fail "$name: model bench failed (see $dir/$name.log)"
}

# Checks devices/fallback_reason, output differences and speed-ups; prints the table and
# writes the result JSON; prints one line per failed check on stdout.
report() {
  local out names
  out=$ROOT/bench/results/gpu-check-$(date +%F).json
  names=$(config_names | paste -sd, -)
  mkdir -p "$(dirname "$out")"
  "$VENV_PY" - "$WORK/run" "$names" "$ATOL" "$MIN_SPEEDUP" "$out" "$CINFER" \
    "${ORT_PINS[*]} ${CUDA_PINS[*]} $([[ $WITH_TENSORRT == 1 ]] && echo "${TRT_PINS[*]}")" \
    "$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1)" \
    "$("$CINFER" version 2>/dev/null)" <<'EOF'
import datetime, json, sys
from pathlib import Path
import numpy as np

run, names, atol, min_speedup, out, cinfer, pins, gpu, version = sys.argv[1:]
run, names, atol, min_speedup = Path(run), names.split(","), float(atol), float(min_speedup)
GPU_EPS = {"CUDAExecutionProvider", "TensorrtExecutionProvider"}
failures, results = [], {}

def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

def outputs(name):
    index = load(run / f"{name}.out" / "outputs.json") or []
    return {o["name"]: np.fromfile(run / f"{name}.out" / o["file"], "<f4").reshape(o["shape"])
            for o in index}

ref = outputs("cpu")
for name in names:
    cfg = (run / f"{name}.yaml").read_text()
    wanted = [p.strip() for p in cfg.split("[", 1)[1].split("]", 1)[0].split(",")]
    r = results[name] = {"execution_providers": wanted, "inspect": load(run / f"{name}.inspect.json"),
                         "bench": load(run / f"{name}.bench.json")}
    ins = r["inspect"] or {}
    if ins.get("fallback_reason"):
        failures.append(f"{name}: fallback_reason: {ins['fallback_reason']}")
    missing = [p for p in wanted if p in GPU_EPS and p not in ins.get("devices", [])]
    if missing:
        failures.append(f"{name}: devices {ins.get('devices')} lack {missing}")
    got = outputs(name)
    if name != "cpu":
        if not got or got.keys() != ref.keys():
            failures.append(f"{name}: outputs {sorted(got)} differ from the CPU's {sorted(ref)}")
        else:
            diffs = {k: float(np.max(np.abs(got[k] - ref[k]))) if got[k].shape == ref[k].shape
                     else float("inf") for k in ref}
            r["max_abs_diff"] = max(diffs.values())
            if r["max_abs_diff"] > atol:
                failures.append(f"{name}: max abs diff {r['max_abs_diff']:.3g} > {atol:g} ({diffs})")

cpu_tp = (results.get("cpu", {}).get("bench") or {}).get("throughput_per_s")
print("| config | execution providers | devices | /s | p50 ms | p99 ms | × CPU | max abs diff |")
print("|---|---|---|---|---|---|---|---|")
for name in names:
    r = results[name]
    b, ins = r["bench"] or {}, r["inspect"] or {}
    tp, lat = b.get("throughput_per_s"), b.get("latency_ms", {})
    r["speedup_vs_cpu"] = tp / cpu_tp if tp and cpu_tp else None
    if name != "cpu" and (r["speedup_vs_cpu"] or 0) < min_speedup:
        failures.append(f"{name}: {r['speedup_vs_cpu'] or 0:.2f}x the CPU throughput, under "
                        f"{min_speedup:g}x: the graph did not run on the GPU"
                        + (" (TensorRT claimed no node?)" if "Tensorrt" in name.title() else ""))
    f = lambda v, spec: "n/a" if v is None else format(v, spec)
    print(f"| {name} | {', '.join(r['execution_providers'])} | {', '.join(ins.get('devices', []))} | "
          f"{f(tp, '.1f')} | {f(lat.get('p50'), '.2f')} | {f(lat.get('p99'), '.2f')} | "
          f"{f(r['speedup_vs_cpu'], '.1f')} | {f(r.get('max_abs_diff'), '.2g')} |")

doc = {"benchmark": "gpu-check",
       "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
       "cinfer": version, "gpu": gpu, "pins": pins.split(), "model": "ch_PP-OCRv4_det_infer.onnx",
       "shape": [1, 3, 640, 640], "atol": atol, "min_speedup": min_speedup,
       "configs": results, "failures": failures}
Path(out).write_text(json.dumps(doc, indent=2) + "\n")
print(f"\nwrote {out}", file=sys.stderr)
for line in failures:
    print(line, file=sys.stderr)
sys.exit(1 if failures else 0)
EOF
}

main() {
  if ! have_gpu; then
    echo "gpu-check: no NVIDIA GPU on this machine (nvidia-smi not found / no device); nothing to check"
    exit 0
  fi
  check_prereqs
  log "GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -n 1)"
  make_venv
  setup_library_path
  write_inputs
  local name
  for name in $(config_names); do
    exercise "$name"
  done
  report || FAILURES+=("see the lines above")
  if ((${#FAILURES[@]})); then
    log "FAILED: ${FAILURES[*]}"
    exit 1
  fi
  log "OK: CUDA$([[ $WITH_TENSORRT == 1 ]] && echo ' and TensorRT') ran the model on the GPU and matched the CPU"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
