#!/usr/bin/env bash
# Installs everything the build and the tests need, and nothing twice:
#  - Debian packages (only the missing ones; apt-get update only when needed)
#  - ONNX Runtime 1.29.0 headers + library from the npm package
#    com.github.asus4.onnxruntime@0.4.9 into third_party/onnxruntime (sha256 checked)
#  - the OpenVINO 2026.4.1 C++ runtime (headers, CMake config, libs: CPU plugin, IR, ONNX
#    and Paddle frontends, TBB) from the PyPI wheel into third_party/openvino (sha256 checked)
#  - the Redoc bundle for /docs from the npm package redoc@2.5.1 (sha256 checked)
#  - a Python venv for the test tools under .venv
#  - the public PP-OCR sample models (scripts/fetch-sample-models.sh) into models/samples,
#    and their OpenVINO IR twins (scripts/make-openvino-fixtures.py) in models/samples/openvino
#  - sample photographs from the scikit-image wheel (scripts/fetch-sample-images.sh)
# Idempotent: a second run takes a few seconds.
# With --fuzz (make fuzz): only the Debian packages, plus libFuzzer
# (libclang-rt-14-dev), and ONNX Runtime (the build needs it to configure).
# With --build-only (deploy/Containerfile): only the Debian packages that compiling the
# server and the console needs, ONNX Runtime and Redoc; no test tools, venv or samples.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  clang clang-format python3 python3-venv python3-pip nodejs npm openssl unzip
  libboost-dev libabsl-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libcli11-dev libargon2-dev libjwt-dev libsqlite3-dev libssl-dev libsimdjson-dev
  libgtest-dev libgmock-dev prometheus-cpp-dev sqlite3 libicu-dev strace chromium fonts-noto-cjk
  libtorch-dev libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-dnn-dev
  libarchive-dev libturbojpeg0-dev
)

FUZZ=0
[ "${1:-}" = "--fuzz" ] && { FUZZ=1; APT_PACKAGES+=(libclang-rt-14-dev); }
BUILD_ONLY=0
if [ "${1:-}" = "--build-only" ]; then
  BUILD_ONLY=1
  APT_PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config git ca-certificates nodejs npm python3-pip
    libboost-dev libabsl-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
    libcli11-dev libargon2-dev libjwt-dev libsqlite3-dev libssl-dev libsimdjson-dev
    prometheus-cpp-dev libicu-dev
    libtorch-dev libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-dnn-dev
    libarchive-dev libturbojpeg0-dev
  )
fi

log() { printf '[install-deps] %s\n' "$*"; }

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # npm may come with Node.js from elsewhere; do not fight an existing install.
  if command -v npm >/dev/null 2>&1; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
  fi
  local wanted=()
  for p in "${missing[@]}"; do [ -n "$p" ] && wanted+=("$p"); done
  [ ${#wanted[@]} -eq 0 ] && { log "Debian packages: present"; return; }
  log "installing Debian packages: ${wanted[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${wanted[@]}"
}

# npm_fetch NAME@VERSION SHA256 DEST_DIR: unpacks the verified tarball into DEST_DIR/package
npm_fetch() {
  local spec=$1 sha=$2 dest=$3
  mkdir -p "$dest"
  (cd "$dest" && npm pack --silent "$spec" >/dev/null)
  local tgz
  tgz=$(ls "$dest"/*.tgz)
  echo "$sha  $tgz" | sha256sum -c --quiet - || { log "sha256 mismatch for $spec"; exit 1; }
  tar -xzf "$tgz" -C "$dest"
}

ORT_VERSION_STAMP="com.github.asus4.onnxruntime@0.4.9"
ORT_SHA256=e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
install_onnxruntime() {
  local dir=$ROOT/third_party/onnxruntime
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$ORT_VERSION_STAMP" ]; then
    log "ONNX Runtime: present"; return
  fi
  log "fetching ONNX Runtime ($ORT_VERSION_STAMP, ~150 MB)"
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  npm_fetch "$ORT_VERSION_STAMP" "$ORT_SHA256" "$tmp"
  rm -rf "$dir" && mkdir -p "$dir/include" "$dir/lib"
  cp "$tmp/package/Plugins/Linux/x64/libonnxruntime.so" "$dir/lib/"
  ln -sf libonnxruntime.so "$dir/lib/libonnxruntime.so.1"
  cp "$tmp"/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers/*.h \
    "$dir/include/"
  echo "$ORT_VERSION_STAMP" > "$dir/.stamp"
}

# The wheel is only an archive here: its openvino/{cmake,include,libs} are the C++ runtime
# (the CMake config expects <prefix>/libs, so the folder keeps that name). The Intel GPU/NPU
# plugins and the frontends nobody links are left out.
OV_WHEEL="openvino-2026.4.1-22982-cp311-cp311-manylinux_2_28_x86_64.whl"
OV_SHA256=2d22b1da03f7caf74df30e9f6417d0ab2f637e4a38e08e1dcd294d2c37407aaf
install_openvino() {
  local dir=$ROOT/third_party/openvino
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$OV_WHEEL" ]; then
    log "OpenVINO: present"; return
  fi
  log "fetching OpenVINO ($OV_WHEEL, ~60 MB)"
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp \
    -d "$tmp" "openvino==2026.4.1"
  echo "$OV_SHA256  $tmp/$OV_WHEEL" | sha256sum -c --quiet - || { log "sha256 mismatch for $OV_WHEEL"; exit 1; }
  (cd "$tmp" && python3 -m zipfile -e "$OV_WHEEL" wheel)
  rm -rf "$dir" && mkdir -p "$dir"
  cp -r "$tmp/wheel/openvino/cmake" "$tmp/wheel/openvino/include" "$tmp/wheel/openvino/libs" "$dir/"
  rm -f "$dir"/libs/libopenvino_intel_{gpu,npu}_plugin.so "$dir/libs/libopenvino_jax_frontend.so.2641" \
    "$dir/libs/cache.json"
  echo "$OV_WHEEL" > "$dir/.stamp"
}

REDOC_SPEC="redoc@2.5.1"
REDOC_SHA256=01ba9840ed89ca7862268d8d21892bcaa54e0fce6a62941faf12021834cd2032
install_redoc() {
  local dir=$ROOT/third_party/redoc
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$REDOC_SPEC" ]; then
    log "Redoc: present"; return
  fi
  log "fetching $REDOC_SPEC"
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  npm_fetch "$REDOC_SPEC" "$REDOC_SHA256" "$tmp"
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$tmp/package/bundles/redoc.standalone.js" "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" "$dir/"
  echo "$REDOC_SPEC" > "$dir/.stamp"
}

install_venv() {
  local req=$ROOT/tests/requirements.txt stamp=$ROOT/.venv/.requirements
  if [ -x "$ROOT/.venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
    log "Python venv: present"; return
  fi
  log "creating Python venv in .venv"
  python3 -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
}

install_apt
install_onnxruntime
install_openvino
if [ "$FUZZ" -eq 1 ]; then log "done (fuzz)"; exit 0; fi
install_redoc
if [ "$BUILD_ONLY" -eq 1 ]; then log "done (build only)"; exit 0; fi
install_venv
"$ROOT/scripts/fetch-sample-models.sh"
"$ROOT/.venv/bin/python" "$ROOT/scripts/make-openvino-fixtures.py"
"$ROOT/scripts/fetch-sample-images.sh"
log "done"
