#!/usr/bin/env bash
# Builds the helm CLI (v3.22.0) from source with Go into third_party/helm/bin,
# for the chart tests (tests/deploy/test_helm.py). Modules come from the Go
# module proxy; GOMODCACHE/GOCACHE stay at Go's defaults.
# Idempotent: a version stamp skips the build on a second run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

HELM_VERSION=v3.22.0
# The Kubernetes version `helm template`/`lint` assume without a cluster: helm's own
# Makefile derives it from its client-go (v0.37.0 -> 1.37); plain `go install` would
# leave the built-in 1.20.
K8S_MAJOR=1 K8S_MINOR=37
STAMP="$HELM_VERSION k8s-$K8S_MAJOR.$K8S_MINOR"
DIR=$ROOT/third_party/helm
BIN=$DIR/bin/helm

log() { printf '[install-helm] %s\n' "$*"; }

if [ -x "$BIN" ] && [ -f "$DIR/.stamp" ] && [ "$(cat "$DIR/.stamp")" = "$STAMP" ]; then
  log "helm $HELM_VERSION: present ($BIN)"
  exit 0
fi

GO=${GO:-}
if [ -z "$GO" ]; then
  if command -v go >/dev/null 2>&1; then GO=$(command -v go)
  elif [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go
  fi
fi
if [ -z "$GO" ]; then
  log "error: Go is not installed (looked for 'go' in PATH and /usr/local/go/bin/go);"
  log "install Go (https://go.dev/dl/) or set GO=/path/to/go, then run this script again"
  exit 1
fi

log "building helm $HELM_VERSION with $("$GO" version | cut -d' ' -f3) (takes minutes the first time)"
rm -f "$DIR/.stamp"
mkdir -p "$DIR/bin"
GOBIN=$DIR/bin nice -n 10 "$GO" install \
  -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION
            -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$K8S_MAJOR
            -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$K8S_MINOR
            -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$K8S_MAJOR
            -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
"$BIN" version --short >/dev/null
echo "$STAMP" > "$DIR/.stamp"
log "helm $HELM_VERSION: installed ($("$BIN" version --short))"
