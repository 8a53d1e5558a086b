#!/bin/bash
# On the GPU machine, from the repo root, binaries and Debian's libvulkan1 in .devbin/ (built
# and fetched on the development machine, see below); writes figures under $OUT.
#
# Build (development machine, repo root):
#   export CARGO_TARGET_DIR=$PWD/target
#   mkdir -p .devbin
#   cargo test --release --features wgpu --test fit_wgpu --no-run --message-format=json \
#     | jq -r 'select(.executable != null) | .executable' | xargs -I{} cp {} .devbin/fit_wgpu_test
#   cargo test --release --features wgpu --test nist_wgpu --no-run --message-format=json \
#     | jq -r 'select(.executable != null) | .executable' | xargs -I{} cp {} .devbin/nist_wgpu_test
#   cargo bench --features wgpu --bench wgpu_roofline --no-run --message-format=json \
#     | jq -r 'select(.executable != null) | .executable' | xargs -I{} cp {} .devbin/wgpu_roofline
#   strip .devbin/fit_wgpu_test .devbin/nist_wgpu_test .devbin/wgpu_roofline
#   (cd .devbin && apt-get download libvulkan1)      # the machine has an ICD but no loader
#
# 1. Correctness on the H200 through Vulkan: the wgpu test binaries (CPU agreement,
#    bit-identical re-runs, tiled pass; NIST f64 54/54 per method and the f32 table), with
#    CI=true so that a missing adapter fails instead of skipping.
# 2. Pass time for N = 1e8 (N=... to change) in f32 and f64, resident decay and Gaussian,
#    against a buffer-to-buffer copy of the same bytes measured in the same run (goal: >= 70%
#    of that floor), beside the CUDA figure of benches/RESULTS.md.
set -euo pipefail
DEVBIN=${DEVBIN:-.devbin}
OUT=${OUT:-/tmp/nlsq-out}
mkdir -p "$OUT"
. "$(dirname "$0")"/vulkan_loader.sh
export CI=true
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tee "$OUT/vulkan_icds.txt" || true
"$DEVBIN"/fit_wgpu_test --test-threads=1 --nocapture 2>&1 | tee "$OUT/fit_wgpu_test.txt"
"$DEVBIN"/nist_wgpu_test --test-threads=1 --nocapture 2>&1 | tee "$OUT/nist_wgpu_test.txt"
N=${N:-1e8}
"$DEVBIN"/wgpu_roofline "$N" 2>&1 | tee "$OUT/wgpu_roofline.txt"
grep '^RESULT ' "$OUT/wgpu_roofline.txt" | sed 's/^RESULT //' > "$OUT/wgpu_roofline.json"
echo
grep -E 'pass floor|x floor' "$OUT/wgpu_roofline.txt"
