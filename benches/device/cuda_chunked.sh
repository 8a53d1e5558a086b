#!/bin/bash
# On the GPU machine, from the repo root, binaries in .devbin/ (built on the development
# machine, see below); writes figures under $OUT.
#
# Build (development machine, repo root):
#   export CARGO_TARGET_DIR=$PWD/target
#   cargo test --release --features cuda --test streaming_cuda --no-run --message-format=json \
#     | jq -r 'select(.executable != null) | .executable' | xargs -I{} cp {} .devbin/streaming_cuda_test
#   cargo bench --features cuda --bench cuda_chunked --no-run --message-format=json \
#     | jq -r 'select(.executable != null) | .executable' | xargs -I{} cp {} .devbin/cuda_chunked_bench
#   strip .devbin/streaming_cuda_test .devbin/cuda_chunked_bench
#
# 1. Correctness: the chunked and streamed device fits against the in-memory fits (1e-12).
# 2. The 1e9-point f32 chunked fit with a 2 GiB device budget (data: 8 GB), its pass
#    throughput against a plain pinned host-to-device copy in the same run (acceptance:
#    ratio >= 0.8).
set -euo pipefail
DEVBIN=${DEVBIN:-.devbin}
OUT=${OUT:-/tmp/nlsq-out}
mkdir -p "$OUT"
# The device tests need the GPU: ignored elsewhere, run here with --include-ignored (the
# budget arithmetic test runs too).
"$DEVBIN"/streaming_cuda_test --include-ignored --test-threads=1 2>&1 | tee "$OUT/streaming_cuda_test.txt"
N=${N:-1e9}
BUDGET=${BUDGET:-2147483648}
"$DEVBIN"/cuda_chunked_bench "$N" "$BUDGET" 2>&1 | tee "$OUT/cuda_chunked.txt"
grep '^RESULT ' "$OUT/cuda_chunked.txt" | sed 's/^RESULT //' > "$OUT/cuda_chunked.json"
echo
grep -A2 '^| N ' "$OUT/cuda_chunked.txt"
