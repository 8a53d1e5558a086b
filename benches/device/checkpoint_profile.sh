#!/usr/bin/env bash
# Profiling counters and checkpoint/resume on the CUDA backend (tests/profile_cuda.rs), and the
# crash-safety test (nlsq-runtime/tests/checkpoint_crash.rs), on the GPU machine.
#
# Build on the development machine, from the repo root:
#   export CARGO_TARGET_DIR=$PWD/target
#   mkdir -p .devbin
#   cp "$(cargo test -j1 --release --features cuda --test profile_cuda --no-run \
#         --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)" \
#      .devbin/profile_cuda
#   cp "$(cargo test -j1 --release -p nlsq-runtime --test checkpoint_crash --no-run \
#         --message-format=json | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)" \
#      .devbin/checkpoint_crash
#   strip .devbin/profile_cuda .devbin/checkpoint_crash
# Then run there, from the repo root:  OUT=<dir> benches/device/checkpoint_profile.sh
set -euo pipefail
DEVBIN=${DEVBIN:-.devbin}
OUT=${OUT:-/tmp/nlsq-out}
mkdir -p "$OUT"
# The profile test needs the GPU: ignored elsewhere, run here with --ignored.
"$DEVBIN"/profile_cuda --ignored --nocapture --test-threads=1 2>&1 | tee "$OUT/profile_cuda.txt"
"$DEVBIN"/checkpoint_crash --nocapture 2>&1 | tee "$OUT/checkpoint_crash.txt"
echo "--- summary"
grep -E "^test |passes|bytes|kernels|checkpoints|killed" "$OUT"/*.txt
