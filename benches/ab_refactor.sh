#!/usr/bin/env bash
# A/B of the CPU benches (cpu_pass, fit_cpu, batch_cpu) between two commits, in one run on one
# machine: each commit is built in its own worktree and target dir (one build after the other),
# then the bench binaries run directly, interleaved per bench: base, head, base, head, ...
#   bash benches/ab_refactor.sh <base-commit> <head-commit> [work-dir]
# work-dir (default /tmp/nlsq-ab) receives bench-{base,head}/ (worktrees, kept),
# target-bench-{base,head}/ and ab-results/ (or $AB_RESULTS: one log per run, criterion
# estimates, runs.tsv).
# Env: ROUNDS (2), BENCHES ("cpu_pass fit_cpu batch_cpu"), FIT_ARGS (criterion arguments of
# fit_cpu), NLSQ_BENCH_FITS (batch_cpu's fits, default 1e6).
# Before each run it waits (30 s polls, 10 min at most) while a compiler (rustc, cargo, clippy,
# cc, ld) is running,
# and runs.tsv records the load average and whether a compile appeared during the run.
set -euo pipefail
base=$1 head=$2 work=${3:-/tmp/nlsq-ab}
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
rounds=${ROUNDS:-2}
read -r -a benches <<< "${BENCHES:-cpu_pass fit_cpu batch_cpu}"
fit_args=${FIT_ARGS:---measurement-time 5 --noplot}
res=${AB_RESULTS:-$work/ab-results}
mkdir -p "$res"
declare -A bin
for v in base head; do
  commit=${!v} wt=$work/bench-$v tgt=$work/target-bench-$v
  [ -d "$wt" ] || git -C "$repo" worktree add --detach "$wt" "$commit"
  [ "$(git -C "$wt" rev-parse HEAD)" = "$(git -C "$repo" rev-parse "$commit^{commit}")" ] \
    || { echo "$wt is not at $commit" >&2; exit 1; }
  (cd "$wt" && CARGO_TARGET_DIR=$tgt nice -n 10 cargo bench --no-run \
    $(printf -- '--bench %s ' "${benches[@]}") 2>&1) | tee "$res/build-$v.log"
  for b in "${benches[@]}"; do
    bin[$v,$b]=$(grep -o "$tgt/release/deps/$b-[0-9a-f]*" "$res/build-$v.log" | tail -1)
  done
done

compiling() { ps -eo comm= | grep -qxE 'rustc|cargo|clippy-driver|cc|cc1|ld|ld.lld'; }
wait_idle() {
  local i
  for i in $(seq 20); do compiling || return 0; sleep 30; done
  echo "still compiling after 10 min" >&2
}
echo -e "bench\tround\tversion\tstart\tseconds\tload_before\tcompile_during" > "$res/runs.tsv"
for b in "${benches[@]}"; do
  for r in $(seq "$rounds"); do
    for v in base head; do
      wait_idle
      load=$(cut -d' ' -f1 /proc/loadavg) start=$(date +%T) t0=$(date +%s)
      (while sleep 2; do compiling && echo yes; done) > "$res/busy" & poll=$!
      case $b in
        fit_cpu) RAYON_NUM_THREADS=1 CRITERION_HOME=$res/criterion-$v \
                   "${bin[$v,$b]}" --bench $fit_args --save-baseline "r$r" ;;
        cpu_pass) RAYON_NUM_THREADS=1 "${bin[$v,$b]}" --bench ;;
        *) "${bin[$v,$b]}" --bench ;;
      esac > "$res/$b-$v-r$r.log" 2>&1
      kill "$poll"; wait "$poll" 2> /dev/null || true
      busy=$([ -s "$res/busy" ] && echo yes || echo no)
      echo -e "$b\t$r\t$v\t$start\t$(( $(date +%s) - t0 ))\t$load\t$busy" | tee -a "$res/runs.tsv"
    done
  done
done
