#!/usr/bin/env python3
"""scipy's curve_fit (method='lm', without and with an analytic jac) on the data of
benches/fit_cpu.rs; prints JSON {case: {n: median seconds}} to stdout.
Usage: OMP_NUM_THREADS=1 python3 benches/scipy_cpu.py [repeats]"""
import json
import sys
import time

import numpy as np
from scipy.optimize import curve_fit

M64 = (1 << 64) - 1


def noise(n):
    s = 12345
    out = np.empty(n)
    for i in range(n):
        s = (s * 6364136223846793005 + 1442695040888963407) & M64
        out[i] = (s >> 11) / float(1 << 53) - 0.5
    return out


def dataset(which, n):
    e = noise(n)
    if which == "decay":
        x = 5.0 * np.arange(n) / n
        return x, 2.5 * np.exp(-1.3 * x) + 0.4 + 0.02 * e
    x = -5.0 + 10.0 * np.arange(n) / n
    return x, 3.0 * np.exp(-(x - 0.4) ** 2 / (2 * 0.9**2)) + 0.02 * e


def decay(x, a, b, c):
    return a * np.exp(-b * x) + c


def decay_jac(x, a, b, c):
    e = np.exp(-b * x)
    return np.stack([e, -a * x * e, np.ones_like(x)], axis=1)


def gauss(x, amp, mu, s):
    return amp * np.exp(-(x - mu) ** 2 / (2 * s * s))


def gauss_jac(x, amp, mu, s):
    d = x - mu
    e = np.exp(-d * d / (2 * s * s))
    return np.stack([e, amp * e * d / (s * s), amp * e * d * d / (s**3)], axis=1)


CASES = {
    "decay": (decay, decay_jac, [1.0, 1.0, 0.0]),
    "gaussian": (gauss, gauss_jac, [1.0, 0.0, 1.0]),
}


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    out = {}
    for which, (f, jac, p0) in CASES.items():
        for n in [1000, 10_000, 100_000, 1_000_000]:
            x, y = dataset(which, n)
            for label, kw in [("nojac", {}), ("jac", {"jac": jac})]:
                times = []
                for _ in range(repeats if n < 1_000_000 else max(3, repeats // 2)):
                    t0 = time.perf_counter()
                    popt, _ = curve_fit(f, x, y, p0=p0, method="lm", **kw)
                    times.append(time.perf_counter() - t0)
                out.setdefault(f"{which}_{label}", {})[str(n)] = float(np.median(times))
                print(f"{which} {label} n={n}: {np.median(times)*1e3:.2f} ms popt={popt}", file=sys.stderr)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
