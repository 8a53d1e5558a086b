#!/bin/bash
# On the GPU machine, from the repo root, with the batch_wgpu test binary and Debian's
# libvulkan1 in .devbin/ (built and fetched on the development machine, see below); writes
# the output under $OUT.
#
# Build (development machine, repo root):
#   export CARGO_TARGET_DIR=$PWD/target
#   mkdir -p .devbin
#   cargo test --release --features wgpu --test batch_wgpu --no-run --message-format=json \
#     | jq -r 'select(.executable != null) | .executable' | xargs -I{} cp {} .devbin/batch_wgpu_test
#   strip .devbin/batch_wgpu_test
#   (cd .devbin && apt-get download libvulkan1)      # the machine has an ICD but no loader
#
# Correctness of batch fits on the H200 through Vulkan (a hardware adapter, so no loop limit
# and the full 1000-iteration f32 budget): the 10,000 problems against single fits (f64, 1e-8),
# per-fit states as on the CPU, f32 within 0.05 standard errors, bit-identical re-runs and
# chunks, and Backend::Auto taking the hardware adapter for 20,000 fits. CI=true: a missing
# adapter fails instead of skipping.
set -euo pipefail
DEVBIN=${DEVBIN:-.devbin}
OUT=${OUT:-/tmp/nlsq-out}
mkdir -p "$OUT"
VK="$DEVBIN"/vulkan-loader
if [ ! -e "$VK/usr/lib/x86_64-linux-gnu/libvulkan.so.1" ]; then
    dpkg -x "$DEVBIN"/libvulkan1_*.deb "$VK"
fi
export LD_LIBRARY_PATH="$(cd "$VK" && pwd)/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
export CI=true
"$DEVBIN"/batch_wgpu_test --test-threads=1 --nocapture 2>&1 | tee "$OUT/batch_wgpu_test.txt"
echo
grep -E 'on Wgpu|f32 on wgpu|bit for bit|^test result' "$OUT/batch_wgpu_test.txt"
