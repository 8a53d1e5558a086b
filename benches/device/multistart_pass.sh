#!/bin/bash
# On the GPU machine, from the repo root: the K-vector pass against K single passes on the CPU,
# on CUDA (N = 1e6, 1e7, f64) and on wgpu through Vulkan (the same sizes, f32), from
# $DEVBIN/multistart_pass (built with `--features cuda,wgpu`, see run_all.sh) and Debian's
# libvulkan1 in $DEVBIN; the table goes to $OUT/multistart_pass.txt.
set -euo pipefail
DEVBIN=${DEVBIN:-.devbin}
OUT=${OUT:-/tmp/nlsq-out}
mkdir -p "$OUT"
. "$(dirname "$0")"/vulkan_loader.sh
NLSQ_BENCH_TABLE_ONLY=1 "$DEVBIN"/multistart_pass 2>&1 | tee "$OUT/multistart_pass.txt"
