#!/usr/bin/env bash
# Instruction-count A/B of fit_cpu_decay/1000's work (issue 11): builds
# benches/ab11/ab11_decay.rs as an example at cadcf22 (before the fit-pipeline refactor),
# cbd51b5 (the refactor) and HEAD, each in its own worktree and target dir under /work/ab11,
# and runs each under callgrind for 20 and 120 fits: (Ir(120) - Ir(20)) / 100 is the
# instructions of one fit, start-up excluded.   bash benches/ab11/callgrind_ab.sh
set -x
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
mkdir -p /work/ab11 && cp "$repo/benches/ab11/ab11_decay.rs" /work/ab11/
cd "$repo"
for v in base:cadcf22 refac:cbd51b5 now:HEAD; do
  name=${v%%:*} commit=${v#*:}
  wt=/work/ab11/wt-$name
  [ -d $wt ] || git worktree add --detach $wt $(git rev-parse $commit)
  cp /work/ab11/ab11_decay.rs $wt/examples/
  (cd $wt && CARGO_TARGET_DIR=/work/ab11/tgt-$name nice -n 19 cargo build --release -j 1 --example ab11_decay) > /work/ab11/build-$name.log 2>&1
done
for name in base refac now; do
  bin=/work/ab11/tgt-$name/release/examples/ab11_decay
  for fits in 20 120; do
    valgrind --tool=callgrind --callgrind-out-file=/work/ab11/cg-$name-$fits.out $bin $fits > /work/ab11/cg-$name-$fits.log 2>&1
  done
  a=$(grep -h '^summary' /work/ab11/cg-$name-20.out | cut -d' ' -f2)
  b=$(grep -h '^summary' /work/ab11/cg-$name-120.out | cut -d' ' -f2)
  echo "$name: $(( (b - a) / 100 )) instructions per fit"
done
