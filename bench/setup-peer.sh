#!/usr/bin/env bash
# Prepares what bench/peer_bench.py needs beyond the project's own .venv:
#   - bench/.venv-peer: a virtual environment with the FastAPI peer's packages
#     (bench/peers/requirements.txt);
#   - wrk, the load generator (the Debian package), and perf (Debian's linux-perf, for
#     bench/cpu_breakdown.py);
#   - bench/.build/loadgen, built from bench/loadgen/loadgen.cc (latency per status
#     code, for the --queue-size runs).
# Idempotent: a second run finds all three in place and returns at once (the venv is
# reinstalled only when requirements.txt changed since the last install, loadgen is
# rebuilt only when its source is newer than the binary).
#
# Usage: bash bench/setup-peer.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-peer"
req="$here/peers/requirements.txt"
stamp="$venv/.requirements.installed"

if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv"
    python3 -m venv "$venv"
fi
if ! cmp -s "$req" "$stamp"; then
    echo "installing $req"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
else
    echo "$venv is up to date"
fi

if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
echo "wrk: $(command -v wrk)"

if ! command -v perf >/dev/null 2>&1; then
    echo "installing linux-perf"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq linux-perf >/dev/null
fi
echo "perf: $(command -v perf)"

loadgen_src="$here/loadgen/loadgen.cc"
loadgen="$here/.build/loadgen"
if [ ! -x "$loadgen" ] || [ "$loadgen_src" -nt "$loadgen" ]; then
    echo "building $loadgen"
    mkdir -p "$here/.build"
    "${CXX:-g++}" -std=c++20 -O2 -Wall -Wextra -Werror -pthread -o "$loadgen" "$loadgen_src"
else
    echo "$loadgen is up to date"
fi
