#!/usr/bin/env python3
"""The Python NLSQ library (JAX) on the data of benches/cuda_host_fits.rs: first call (cold,
JIT included) and warm calls. Usage: python3 benches/nlsq_python.py N"""
import sys
import time

t_start = time.perf_counter()
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from nlsq import curve_fit  # noqa: E402

import_s = time.perf_counter() - t_start
M64 = (1 << 64) - 1


def data(n):
    x = 5.0 * np.arange(n) / n
    s = 12345
    e = np.empty(n)
    a, c = 6364136223846793005, 1442695040888963407
    # Same LCG as the Rust side, vectorised by jumping: compute sequentially in chunks.
    for i in range(n):
        s = (s * a + c) & M64
        e[i] = (s >> 11) / float(1 << 53) - 0.5
    return x, 2.5 * np.exp(-1.3 * x) + 0.4 + 0.02 * e


def f(x, a, b, c):
    return a * jnp.exp(-b * x) + c


n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000
x, y = data(n)
t = time.perf_counter()
popt, _ = curve_fit(f, x, y, p0=[1.0, 1.0, 0.0])
cold = time.perf_counter() - t
warm = []
for _ in range(5):
    t = time.perf_counter()
    popt, _ = curve_fit(f, x, y, p0=[1.0, 1.0, 0.0])
    np.asarray(popt)
    warm.append(time.perf_counter() - t)
warm = float(np.median(warm))
print(f"NLSQ (Python, JAX): N = {n}: import {import_s:.2f} s, first call {cold*1e3:.1f} ms, warm {warm*1e3:.2f} ms, popt {np.asarray(popt)}")
print(f'RESULT {{"impl":"nlsq-python","n":{n},"cold_s":{cold:.5f},"warm_s":{warm:.6f},"import_s":{import_s:.3f}}}')
