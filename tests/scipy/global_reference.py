#!/usr/bin/env python3
"""Reference values from scipy.optimize.curve_fit for tests/global.rs.

Three datasets share the decay rate k: two decays `a*exp(-k*x) + c` (the second with 1-D
sigma) and one `b*x*exp(-k*x)`. scipy fits the concatenated problem written by hand (indicator
columns select each dataset's model), with its analytic Jacobian (finite differences leave
scipy's solution uncertain at about 1e-9). Writes global_reference.json: the data and scipy's popt
and pcov in the order a[0], k, c[0], a[1], c[1], b[2].
Run from this folder:  python3 global_reference.py   (scipy 1.17.1, numpy 2.x)
"""
import json
import numpy as np
import scipy
from scipy.optimize import curve_fit

rng = np.random.default_rng(20261203)
K = 0.8
x0 = np.linspace(0.0, 5.0, 40)
x1 = np.linspace(0.2, 6.0, 30)
x2 = np.linspace(0.0, 8.0, 50)
y0 = 2.5 * np.exp(-K * x0) + 0.3 + rng.normal(0, 0.003, x0.size)
s1 = 0.002 + 0.004 * rng.random(x1.size)
y1 = 1.2 * np.exp(-K * x1) + 0.1 + rng.normal(0, 1.0, x1.size) * s1
y2 = 3.0 * x2 * np.exp(-K * x2) + rng.normal(0, 0.005, x2.size)


def concatenated(X, a0, k, c0, a1, c1, b2):
    x, i0, i1, i2 = X
    return (i0 * (a0 * np.exp(-k * x) + c0) + i1 * (a1 * np.exp(-k * x) + c1)
            + i2 * (b2 * x * np.exp(-k * x)))


def jacobian(X, a0, k, c0, a1, c1, b2):
    x, i0, i1, i2 = X
    e = np.exp(-k * x)
    dk = -x * e * (i0 * a0 + i1 * a1 + i2 * b2 * x)
    return np.column_stack([i0 * e, dk, i0, i1 * e, i1, i2 * x * e])


x = np.concatenate([x0, x1, x2])
ind = [np.concatenate([np.full(a.size, float(i == j)) for j, a in enumerate((x0, x1, x2))])
       for i in range(3)]
y = np.concatenate([y0, y1, y2])
sigma = np.concatenate([np.ones(x0.size), s1, np.ones(x2.size)])
p0 = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0]
popt, pcov = curve_fit(concatenated, np.vstack([x] + ind), y, p0=p0, sigma=sigma,
                       jac=jacobian, method="trf", ftol=1e-15, xtol=1e-15, gtol=1e-15,
                       max_nfev=10000)
out = {
    "scipy": scipy.__version__,
    "x": [x0.tolist(), x1.tolist(), x2.tolist()],
    "y": [y0.tolist(), y1.tolist(), y2.tolist()],
    "sigma1": s1.tolist(),
    "p0": p0,
    "popt": popt.tolist(),
    "pcov": pcov.tolist(),
}
with open("global_reference.json", "w") as f:
    json.dump(out, f, indent=1)
print(popt)
