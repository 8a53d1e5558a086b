#!/usr/bin/env python3
"""The A/B table of `benches/ab_refactor.sh`: reads its results directory and prints one
markdown row per benchmark (base and head per round, their ratios, the mean ratio and the
spread between rounds) and a verdict: within noise when |mean - 1| is at most the larger of 5 %
and the spread of the ratios between rounds.

    python3 benches/ab_table.py /tmp/nlsq-ab/ab-results
"""
import json
import re
import sys
from pathlib import Path


def cpu_pass(path):
    """ns per point per (N, pass, instruction set); the `#[model]` columns of a head table."""
    out = {}
    head = None
    for line in Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| N |"):
            head = cells
            continue
        if head is None or not re.match(r"^1e\d$", cells[0]):
            continue
        for name, value in zip(head[2:], cells[2:]):
            if "ExprModel" in name or "ratio" in name:
                continue
            isa = name.split(" ")[0]
            out[f"cpu_pass {cells[0]} {cells[1]} {isa}"] = float(value)
    return out


def fit_cpu(criterion, rnd):
    out = {}
    for est in Path(criterion).glob(f"*/*/r{rnd}/estimates.json"):
        group, n = est.parts[-4], est.parts[-3]
        out[f"{group}/{n}"] = json.loads(est.read_text())["median"]["point_estimate"]
    return out


def batch_cpu(path):
    out = {}
    for line in Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 3 and cells[0] in ("Lse", "PoissonMle"):
            out[f"batch_cpu {cells[0]} {cells[1]} thread(s)"] = float(cells[3])
    return out


def fmt(key, v):
    if key.startswith("fit_cpu"):
        return f"{v / 1e3:.1f} µs" if v < 1e6 else f"{v / 1e6:.2f} ms"
    if key.startswith("batch_cpu"):
        return f"{v:.2f} s"
    return f"{v:.2f}"


def main(res):
    res = Path(res)
    rounds = sorted({int(m.group(1)) for p in res.glob("*-base-r*.log")
                     for m in [re.search(r"-r(\d+)\.log$", p.name)] if m})
    data = {}
    for v in ("base", "head"):
        for r in rounds:
            d = {}
            for kind, reader in (("cpu_pass", cpu_pass), ("batch_cpu", batch_cpu)):
                p = res / f"{kind}-{v}-r{r}.log"
                if p.exists():
                    d.update(reader(p))
            d.update(fit_cpu(res / f"criterion-{v}", r))
            data[(v, r)] = d
    keys = [k for k in data[("base", rounds[0])] if all(k in d for d in data.values())]
    print("| benchmark | base (" + " / ".join(f"r{r}" for r in rounds) + ") | head | head/base | mean | spread | verdict |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for k in keys:
        b = [data[("base", r)][k] for r in rounds]
        h = [data[("head", r)][k] for r in rounds]
        ratios = [y / x for x, y in zip(b, h)]
        mean = sum(ratios) / len(ratios)
        spread = max(ratios) - min(ratios)
        verdict = "within noise" if abs(mean - 1) <= max(0.05, spread) else (
            "**head slower**" if mean > 1 else "**head faster**")
        print(f"| {k} | {' / '.join(fmt(k, x) for x in b)} | {' / '.join(fmt(k, x) for x in h)} | "
              f"{' / '.join(f'{x:.2f}' for x in ratios)} | **{mean:.2f}** | {100 * spread:.0f} % | {verdict} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/nlsq-ab/ab-results")
