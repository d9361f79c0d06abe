#!/usr/bin/env bash
# Installs Podman, Buildah, runc and debootstrap (Debian packages) when missing, for
# deploy/build-image.sh and tests/deploy. Writes nothing global beyond the packages:
# the scripts point Podman at deploy/containers.conf with CONTAINERS_CONF.
set -euo pipefail

PACKAGES=(podman buildah runc debootstrap uidmap slirp4netns)
log() { printf '[install-podman] %s\n' "$*"; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  log "present: $(podman --version)"
  exit 0
fi
log "installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
log "installed: $(podman --version)"
