#!/usr/bin/env bash
# Benchmark entry point: installs the peers and tools it lacks (scripts/packages.txt, set `bench`; as root or not),
# then runs Benchmarks/bench.py with the given arguments. Build the proxy first: swift build -c release --product kanaria.
#   Benchmarks/run.sh                      # throughput + CPU/request: direct, kanaria, nginx, HAProxy (3 rounds)
#   Benchmarks/run.sh --rounds 5 --duration 5
#   Benchmarks/run.sh --callgrind [--target nginx]   # instructions, mallocs, retain/release per request
#   Benchmarks/run.sh --syscalls           # syscalls per request
#   Benchmarks/run.sh --h2                 # h2c front end (h2load 20 connections x 10 streams), HTTP/1.1 upstreams
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-missing bench 1>&2
exec python3 Benchmarks/bench.py "$@"
