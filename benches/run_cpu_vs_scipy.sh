#!/usr/bin/env bash
# Side by side, one run: nlsq's CPU fits (criterion, release) and scipy's curve_fit on the same
# data and the same thread count. Writes benches/results/cpu_vs_scipy_<threads>.md.
#   bash benches/run_cpu_vs_scipy.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-1}"
mkdir -p benches/results
python3 -c "import scipy" 2>/dev/null || python3 -m pip install --quiet scipy numpy
export RAYON_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
cargo bench --bench fit_cpu -- --noplot
python3 benches/scipy_cpu.py 5 > benches/results/scipy_cpu.json
python3 benches/compare_cpu.py "$threads" > "benches/results/cpu_vs_scipy_${threads}.md"
cat "benches/results/cpu_vs_scipy_${threads}.md"
