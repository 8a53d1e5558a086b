#!/usr/bin/env python3
"""Joins criterion's medians (target/criterion) with benches/results/scipy_cpu.json into a
markdown table of times and ratios."""
import json
import pathlib
import platform
import sys

import scipy

threads = sys.argv[1] if len(sys.argv) > 1 else "1"
root = pathlib.Path(__file__).resolve().parent.parent
scipy_t = json.loads((root / "benches/results/scipy_cpu.json").read_text())
print(f"CPU: {platform.processor() or platform.machine()}, {threads} thread(s) for both; scipy {scipy.__version__}\n")
print("| model | N | nlsq (ms) | scipy lm (ms) | scipy lm + jac (ms) | speed-up vs lm | vs lm + jac |")
print("|---|---:|---:|---:|---:|---:|---:|")
for which in ["decay", "gaussian"]:
    for n in ["1000", "10000", "100000", "1000000"]:
        est = root / f"target/criterion/fit_cpu_{which}/{n}/new/estimates.json"
        ours = json.loads(est.read_text())["median"]["point_estimate"] / 1e9
        a = scipy_t[f"{which}_nojac"][n]
        b = scipy_t[f"{which}_jac"][n]
        print(f"| {which} | {int(n):.0e} | {ours*1e3:.3f} | {a*1e3:.2f} | {b*1e3:.2f} | {a/ours:.1f}x | {b/ours:.1f}x |")
