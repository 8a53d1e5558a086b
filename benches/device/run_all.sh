#!/usr/bin/env bash
# Every pending GPU check and measurement in one call, on the reference GPU machine
# (../shared/GPU.md), from the repository root. Builds nothing: the binaries come prebuilt in
# .devbin/ (or $DEVBIN). Correctness first (the CUDA kernels and fits against the CPU, tests
# that are ignored without a GPU run here with --ignored), then every pending measurement,
# each under its own timeout so that the whole run stays under 9 minutes of the device's 10
# per call (the timeouts add up to 520 s). Writes every log, the figures (JSON lines) and summary.json under $OUT, and prints
# a table last. Exits 1 when a correctness step failed or timed out.
#
#   OUT=/tmp/out bash benches/device/run_all.sh            # on the GPU machine
#   ONLY="fit_cuda wgpu_roofline" OUT=/tmp/out bash ...    # only those steps (a rerun)
#   DRY_RUN=1 bash benches/device/run_all.sh               # anywhere: checks binaries, sizes and
#                                                          # scripts, prints what it would run
#
# Build on the development machine, from the repo root (release, stripped: the whole upload
# must stay under 64 MiB, so the binaries are packed with xz into one archive that this script
# unpacks on the machine; they compress well: fit_cuda_test is 24.8 MB stripped, 1.5 MB in
# xz; DRY_RUN=1 measures the archive):
#
#   export CARGO_TARGET_DIR=$PWD/target CARGO_PROFILE_RELEASE_STRIP=symbols \
#          CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_LTO=thin
#   mkdir -p .devbin
#   exe() { sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1; }
#   cp "$(cargo test --release -p kernels-gen --features nvrtc --test cuda_exec --no-run --message-format=json | exe)" .devbin/cuda_exec
#   cp "$(cargo test --release --features cuda --test fit_cuda --no-run --message-format=json | exe)" .devbin/fit_cuda_test
#   cp "$(cargo test --release --features cuda --test profile_cuda --no-run --message-format=json | exe)" .devbin/profile_cuda
#   cp "$(cargo test --release -p nlsq-runtime --test checkpoint_crash --no-run --message-format=json | exe)" .devbin/checkpoint_crash
#   cp "$(cargo test --release --features cuda --test streaming_cuda --no-run --message-format=json | exe)" .devbin/streaming_cuda_test
#   cp "$(cargo test --release --features cuda --test batch_cuda --no-run --message-format=json | exe)" .devbin/batch_cuda_test
#   cp "$(cargo test --release --features wgpu --test fit_wgpu --no-run --message-format=json | exe)" .devbin/fit_wgpu_test
#   cp "$(cargo test --release --features wgpu --test nist_wgpu --no-run --message-format=json | exe)" .devbin/nist_wgpu_test
#   cp "$(cargo bench --features cuda --bench cuda_roofline --no-run --message-format=json | exe)" .devbin/cuda_roofline
#   cp "$(cargo bench --features cuda,wgpu --bench multistart_pass --no-run --message-format=json | exe)" .devbin/multistart_pass
#   cp "$(cargo bench --features cuda --bench cuda_host_fits --no-run --message-format=json | exe)" .devbin/cuda_host_fits
#   cp "$(cargo bench --features cuda --bench cuda_chunked --no-run --message-format=json | exe)" .devbin/cuda_chunked_bench
#   cp "$(cargo bench --features cuda --bench batch_cuda --no-run --message-format=json | exe)" .devbin/batch_cuda_bench
#   cp "$(cargo bench --bench batch_cpu --no-run --message-format=json | exe)" .devbin/batch_cpu
#   cp "$(cargo bench --features wgpu --bench wgpu_roofline --no-run --message-format=json | exe)" .devbin/wgpu_roofline
#   strip .devbin/* 2>/dev/null || true
#   (cd .devbin && apt-get download libvulkan1)            # the machine has an ICD, no loader
#   (cd .devbin && XZ_OPT=-9 tar -cJf ../devbin.tar.xz --remove-files * && mv ../devbin.tar.xz .)
#   # optional, for the comparison with the Python NLSQ (its dependencies are on the machine):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp -d .whl nlsq==0.7.6
#   DRY_RUN=1 bash benches/device/run_all.sh               # checks all of the above is there
#
# Then carry .devbin (and .whl) to the machine and run `OUT=$OUT bash benches/device/run_all.sh`.
set -uo pipefail
cd "$(dirname "$0")/../.."
DEVBIN=${DEVBIN:-.devbin}
export DEVBIN
OUT=${OUT:-/tmp/nlsq-out}
DRY_RUN=${DRY_RUN:-0}
UPLOAD_LIMIT=$((64 * 1024 * 1024))

# step name | kind (check: correctness, fails the run; measure) | timeout (s) | binaries | command
STEPS=(
    "cuda_exec|check|90|cuda_exec|\$DEVBIN/cuda_exec --ignored --nocapture --test-threads=1"
    "fit_cuda|check|45|fit_cuda_test|\$DEVBIN/fit_cuda_test --ignored --nocapture --test-threads=1"
    "checkpoint_profile|check|20|profile_cuda checkpoint_crash|bash benches/device/checkpoint_profile.sh"
    "cuda_roofline|measure|15|cuda_roofline|\$DEVBIN/cuda_roofline 1e8"
    "multistart_pass|measure|45|multistart_pass libvulkan1_*.deb|bash benches/device/multistart_pass.sh"
    "cuda_host_fits|measure|15|cuda_host_fits|\$DEVBIN/cuda_host_fits 1e6 && \$DEVBIN/cuda_host_fits 1e7"
    "python_nlsq|measure|60||python_nlsq"
    "batch_cuda|measure|80|batch_cuda_test batch_cuda_bench batch_cpu|bash benches/device/batch_cuda.sh"
    "cuda_chunked|measure|90|streaming_cuda_test cuda_chunked_bench|bash benches/device/cuda_chunked.sh"
    "wgpu_roofline|measure|60|fit_wgpu_test nist_wgpu_test wgpu_roofline libvulkan1_*.deb|bash benches/device/wgpu_roofline.sh"
)

# The Python NLSQ 0.7.6 on the same data as cuda_host_fits, from the wheel in .whl/.
python_nlsq() {
    local dir
    dir=$(mktemp -d)
    python3 -m pip install -q --no-index --no-deps --target "$dir" .whl/*.whl || return 1
    PYTHONPATH="$dir${PYTHONPATH:+:$PYTHONPATH}" python3 benches/nlsq_python.py 1e6 &&
        PYTHONPATH="$dir${PYTHONPATH:+:$PYTHONPATH}" python3 benches/nlsq_python.py 1e7
}

unpack() {
    if [ -f "$DEVBIN/devbin.tar.xz" ]; then
        tar -xJf "$DEVBIN/devbin.tar.xz" -C "$DEVBIN" || return 1
    fi
}

# DRY_RUN: the archive or binaries are there, the upload fits, the scripts parse.
dry_run() {
    local ok=0 size missing step name kind limit bins cmd b total=0
    size=$(du -sb "$DEVBIN" 2>/dev/null | cut -f1)
    size=${size:-0}
    if [ -d .whl ]; then size=$((size + $(du -sb .whl | cut -f1))); fi
    echo "upload: $DEVBIN $( [ -d .whl ] && echo "+ .whl") = $((size / 1024 / 1024)) MiB (limit 64 MiB)"
    if [ "$size" -ge "$UPLOAD_LIMIT" ]; then echo "  too large"; ok=1; fi
    for f in benches/device/*.sh; do
        bash -n "$f" || { echo "  $f does not parse"; ok=1; }
    done
    local tmp
    tmp=$(mktemp -d)
    if [ -f "$DEVBIN/devbin.tar.xz" ]; then
        tar -tJf "$DEVBIN/devbin.tar.xz" | sed 's|^\./||' > "$tmp/list"
    else
        ls "$DEVBIN" 2>/dev/null > "$tmp/list"
    fi
    for step in "${STEPS[@]}"; do
        IFS='|' read -r name kind limit bins cmd <<< "$step"
        total=$((total + limit))
        missing=""
        for b in $bins; do
            # shellcheck disable=SC2053
            grep -qx -- "$(printf '%s' "$b" | sed 's/\*/.*/g')" "$tmp/list" 2>/dev/null ||
                [ -n "$(compgen -G "$DEVBIN/$b")" ] || missing="$missing $b"
        done
        if [ "$name" = python_nlsq ] && [ -z "$(compgen -G '.whl/nlsq-*.whl')" ]; then
            missing=" .whl/nlsq-*.whl (optional: the step is skipped)"
        fi
        printf '  %-19s %-7s timeout %3ss  %s\n' "$name" "$kind" "$limit" "$cmd"
        if [ -n "$missing" ]; then
            echo "      missing:$missing"
            [ "$name" != python_nlsq ] && ok=1
        fi
    done
    rm -rf "$tmp"
    echo "timeouts add up to ${total}s (limit 540s)"
    [ "$total" -le 540 ] || ok=1
    [ "$ok" -eq 0 ] && echo "dry run: ready" || echo "dry run: NOT ready"
    return "$ok"
}

if [ "$DRY_RUN" = 1 ]; then
    dry_run
    exit $?
fi

mkdir -p "$OUT"
export OUT
export LD_LIBRARY_PATH="/usr/local/cuda-13.0/targets/x86_64-linux/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The kernel cache outside $OUT: its many files would crowd out the logs coming back.
export NLSQ_CACHE_DIR="${NLSQ_CACHE_DIR:-$(mktemp -d)}"
unpack || { echo "cannot unpack $DEVBIN/devbin.tar.xz"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"
git rev-parse HEAD > "$OUT/commit.txt" 2>/dev/null || true

failed=0
rows=()
: > "$OUT/results.jsonl"
echo "[" > "$OUT/summary.json"
first=1
for step in "${STEPS[@]}"; do
    IFS='|' read -r name kind limit bins cmd <<< "$step"
    # ONLY="step step ...": run those steps alone (a rerun of what failed).
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then continue; fi
    log="$OUT/$name.log"
    if [ "$name" = python_nlsq ] && [ -z "$(compgen -G '.whl/nlsq-*.whl')" ]; then
        status=skipped
        secs=0.0
        echo "== $name: skipped (no .whl/nlsq-*.whl)"
    else
        echo "== $name ($kind, timeout ${limit}s): $cmd"
        start=$(date +%s%N)
        if [ "$name" = python_nlsq ]; then
            timeout --kill-after=5 "$limit" bash -c "$(declare -f python_nlsq); python_nlsq" > "$log" 2>&1
        else
            timeout --kill-after=5 "$limit" bash -c "$cmd" > "$log" 2>&1
        fi
        rc=$?
        ms=$((($(date +%s%N) - start) / 1000000))
        secs="$((ms / 1000)).$((ms % 1000 / 100))"
        case $rc in
            0) status=ok ;;
            124 | 137) status=timeout ;;
            *) status="failed(rc=$rc)" ;;
        esac
        tail -n 5 "$log"
        # A failure's first panics, which the tail of a test log does not show.
        [ "$rc" -eq 0 ] || grep -m 3 -A 4 'panicked' "$log"
    fi
    if [ "$kind" = check ] && [ "$status" != ok ]; then failed=1; fi
    grep -h '^RESULT ' "$OUT/$name.log" 2>/dev/null | sed "s/^RESULT /{\"step\":\"$name\",\"result\":/; s/\$/}/" >> "$OUT/results.jsonl"
    [ "$first" = 1 ] || echo "," >> "$OUT/summary.json"
    first=0
    printf '{"step":"%s","kind":"%s","timeout_s":%s,"status":"%s","seconds":%s}' \
        "$name" "$kind" "$limit" "$status" "$secs" >> "$OUT/summary.json"
    rows+=("$(printf '| %-19s | %-7s | %-14s | %6s |' "$name" "$kind" "$status" "$secs")")
done
echo "]" >> "$OUT/summary.json"

echo
echo "== figures (RESULT lines, also in $OUT/results.jsonl) =="
cut -c1-220 "$OUT/results.jsonl"
echo
echo "== nlsq on $(head -2 "$OUT/gpu.txt" | tail -1) =="
echo "| step                | kind    | status         | s      |"
echo "|---------------------|---------|----------------|--------|"
printf '%s\n' "${rows[@]}"
exit "$failed"
