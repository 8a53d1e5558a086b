#!/usr/bin/env bash
# On the GPU machine, from the repository root, with the binaries built on the development
# machine in .devbin/ (see below). Checks correctness first (CUDA batch fits against the CPU
# and against single fits), then times Gpufit's standard case; writes figures under $OUT.
#
# Build on the development machine (release; cargo prints each executable's path):
#   mkdir -p .devbin
#   cp "$(cargo bench --features cuda --bench batch_cuda --no-run 2>&1 \
#        | grep -o 'target/release/deps/batch_cuda-[0-9a-f]*')" .devbin/batch_cuda_bench
#   cp "$(cargo test --release --features cuda --test batch_cuda --no-run 2>&1 \
#        | grep -o 'target/release/deps/batch_cuda-[0-9a-f]*')" .devbin/batch_cuda_test
#   cp "$(cargo bench --bench batch_cpu --no-run 2>&1 \
#        | grep -o 'target/release/deps/batch_cpu-[0-9a-f]*')" .devbin/batch_cpu
#   strip .devbin/batch_cuda_bench .devbin/batch_cuda_test .devbin/batch_cpu
set -euo pipefail
DEVBIN=${DEVBIN:-.devbin}
OUT="${OUT:-out}"
mkdir -p "$OUT"
export LD_LIBRARY_PATH="/usr/local/cuda-13.0/targets/x86_64-linux/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NLSQ_CACHE_DIR="$OUT/kernel-cache"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"

# 1. Correctness: 10,000 CUDA batch fits equal single fits (f64, 1e-8), states as on the CPU,
#    f32 within a fraction of a standard error.
#    The device tests need the GPU: ignored elsewhere, run here with --ignored.
"$DEVBIN"/batch_cuda_test --ignored --nocapture 2>&1 | tee "$OUT/batch_cuda_test.txt"

# 2. Gpufit's standard case on the H200, 1e6 and 1e7 fits, f32 and f64, transfers included.
"$DEVBIN"/batch_cuda_bench 1e6 1e7 2>&1 | tee "$OUT/batch_cuda_bench.txt"
grep '^RESULT ' "$OUT/batch_cuda_bench.txt" | sed 's/^RESULT //' > "$OUT/batch_cuda.jsonl"

# 3. The CPU figure on the same machine (16 cores), for the ratio.
NLSQ_BENCH_FITS=1000000 "$DEVBIN"/batch_cpu 2>&1 | tee "$OUT/batch_cpu_h200.txt"

echo
echo "== batch fits on the H200 (Gpufit's standard case) =="
grep '^|' "$OUT/batch_cuda_bench.txt"
grep '^|' "$OUT/batch_cpu_h200.txt"
