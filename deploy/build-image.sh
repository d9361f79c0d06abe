#!/usr/bin/env bash
# Builds the Cinfer container image with Podman (deploy/Containerfile, docs/DEPLOY.md).
#  - the base: CINFER_BASE_IMAGE when set (e.g. docker.io/library/debian:12-slim, where a
#    registry is reachable); otherwise localhost/cinfer-base:bookworm, made once from
#    Debian packages with debootstrap (minbase) and podman import, and reused after.
#  - the image: localhost/cinfer:<git describe> and localhost/cinfer:latest
#    (CINFER_IMAGE overrides the first name); prints its size.
# Podman runs with deploy/containers.conf (CONTAINERS_CONF). Run deploy/install-podman.sh
# first. --base-only: make the base image and stop.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$ROOT/deploy/containers.conf}

MIRROR=${CINFER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${CINFER_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
LOCAL_BASE=localhost/cinfer-base:bookworm
BASE=${CINFER_BASE_IMAGE:-$LOCAL_BASE}
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE=${CINFER_IMAGE:-localhost/cinfer:$VERSION}

log() { printf '[build-image] %s\n' "$*"; }

# The base image from Debian packages: debootstrap --variant=minbase, the same apt sources
# as a stock bookworm (updates and security included), no package caches.
make_local_base() {
  if podman image exists "$LOCAL_BASE"; then
    log "base $LOCAL_BASE: present"; return
  fi
  log "making $LOCAL_BASE with debootstrap (minbase, $MIRROR)"
  local dir
  dir=$(mktemp -d /var/tmp/cinfer-base.XXXXXX)
  trap 'rm -rf "$dir"' RETURN
  nice debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >/tmp/cinfer-debootstrap.log 2>&1 ||
    { tail -20 /tmp/cinfer-debootstrap.log; log "debootstrap failed (log: /tmp/cinfer-debootstrap.log)"; exit 1; }
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$dir/etc/apt/apt.conf.d/99cinfer-no-recommends"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
  tar -C "$dir" -c . | podman import -q \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$LOCAL_BASE" >/dev/null
  log "base $LOCAL_BASE: $(podman image inspect --format '{{.Size}}' "$LOCAL_BASE" | numfmt --to=iec)"
}

if [ "$BASE" = "$LOCAL_BASE" ]; then
  make_local_base
else
  log "base: $BASE"
fi
[ "${1:-}" = "--base-only" ] && exit 0

# npm inside the build reaches the registry through whatever TLS interception the host
# trusts: the host's CA bundle goes in as a build secret (not into any layer).
secret=()
HOST_CA=${CINFER_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$HOST_CA" ] && secret=(--secret "id=ca_bundle,src=$HOST_CA")

log "building $IMAGE from $BASE"
start=$(date +%s)
nice podman build --format docker --layers -f deploy/Containerfile \
  --build-arg "BASE_IMAGE=$BASE" --build-arg "CINFER_VERSION=$VERSION" \
  --build-arg "CINFER_GIT_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "${secret[@]}" \
  -t "$IMAGE" -t localhost/cinfer:latest .
log "built $IMAGE in $(( $(date +%s) - start )) s, size $(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec)"

# Each commit is a new tag: keep the new image and :latest, drop the older cinfer tags (their
# own layers are the binary and assets). Untagged stage layers stay: they are the build
# cache of the dependency stages, and the build tree and ccache live in cache mounts.
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' --filter reference='localhost/cinfer'); do
  case "$old" in "$IMAGE" | localhost/cinfer:latest) ;; *) podman rmi "$old" >/dev/null || true ;; esac
done
