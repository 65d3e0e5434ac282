#!/usr/bin/env bash
# Benchmark entry point: installs missing peers and tools (Debian packages), then runs Benchmarks/bench.py with the
# given arguments. Build the proxy first: swift build -c release --product kanaria.
#   Benchmarks/run.sh                      # throughput + CPU/request: direct, kanaria, nginx, HAProxy (3 rounds)
#   Benchmarks/run.sh --rounds 5 --duration 5
#   Benchmarks/run.sh --callgrind [--target nginx]   # instructions, mallocs, retain/release per request
#   Benchmarks/run.sh --syscalls           # syscalls per request
#   Benchmarks/run.sh --h2                 # h2c front end (h2load 20 connections x 10 streams), HTTP/1.1 upstreams
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v haproxy >/dev/null || need+=(haproxy)
command -v wrk >/dev/null || need+=(wrk)
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v valgrind >/dev/null || need+=(valgrind)
command -v nstat >/dev/null || need+=(iproute2)
command -v taskset >/dev/null || need+=(util-linux)
command -v perf >/dev/null || need+=(linux-perf)
if [ "${#need[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Benchmarks/run.sh: installing ${need[*]}" >&2
    $sudo apt-get update
    $sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
exec python3 Benchmarks/bench.py "$@"
