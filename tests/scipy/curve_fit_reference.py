#!/usr/bin/env python3
"""Reference values from scipy.optimize.curve_fit for tests/scipy_agreement.rs.

Writes curve_fit_reference.json: for each case the data, the options, and scipy's popt and pcov.
Run from this folder:  python3 curve_fit_reference.py   (scipy 1.17.1, numpy 2.x)
"""
import json
import numpy as np
import scipy
from scipy.optimize import curve_fit

rng = np.random.default_rng(20261124)
TOL = dict(ftol=1e-12, xtol=1e-12, gtol=1e-12)


def decay(x, a, b, c):
    return a * np.exp(-b * x) + c


def gauss(x, amp, mu, sigma):
    return amp * np.exp(-((x - mu) ** 2) / (2 * sigma**2))


def logistic(x, l, k, x0):
    return l / (1 + np.exp(-k * (x - x0)))


def gauss2d(xy, amp, x0, y0, s):
    x, y = xy
    return amp * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s**2))


MODELS = {
    "decay": (decay, "a * exp(-b * x) + c", ["a", "b", "c"]),
    "gauss": (gauss, "amp * exp(-((x - mu) * (x - mu)) / (2 * sigma * sigma))", ["amp", "mu", "sigma"]),
    "logistic": (logistic, "l / (1 + exp(-k * (x - x0)))", ["l", "k", "x0"]),
    "gauss2d": (gauss2d, "amp * exp(-((x[0] - x0) * (x[0] - x0) + (x[1] - y0) * (x[1] - y0)) / (2 * s * s))", ["amp", "x0", "y0", "s"]),
}


def data(model, n, p, noise, outliers=0):
    if model == "gauss2d":
        g = np.linspace(-2, 2, int(np.sqrt(n)))
        X, Y = np.meshgrid(g, g)
        x = np.vstack([X.ravel(), Y.ravel()])
    else:
        x = np.sort(rng.uniform(0, 5, n)) if model != "gauss" else np.linspace(-3, 3, n)
    y = MODELS[model][0](x, *p) + noise * rng.standard_normal(x.shape[-1])
    if outliers:
        idx = rng.choice(x.shape[-1], outliers, replace=False)
        y[idx] += rng.choice([-1, 1], outliers) * 2.0
    return x, y


def ar1(n, rho, s):
    i = np.arange(n)
    return s**2 * rho ** np.abs(i[:, None] - i[None, :])


cases = []


def case(name, model, x, y, p0, **kw):
    f, expr, params = MODELS[model]
    popt, pcov = curve_fit(f, x, y, p0=p0, **kw, **TOL)
    c = dict(name=name, expr=expr, params=params, x=np.atleast_2d(x).tolist(), y=y.tolist(), p0=list(p0),
             popt=popt.tolist(), pcov=pcov.tolist())
    for k, v in kw.items():
        if k == "bounds":
            c["lower"], c["upper"] = [list(map(float, b)) for b in v]
        elif k == "sigma":
            c["sigma"] = np.asarray(v).tolist()
        else:
            c[k] = v
    cases.append(c)


x, y = data("decay", 200, [2.5, 1.3, 0.4], 0.05)
case("decay_lm", "decay", x, y, [1, 1, 0])
case("decay_trf_active_bound", "decay", x, y, [1, 1, 0], bounds=([0, 0, -1], [10, 10, 0.3]), method="trf")
xg, yg = data("gauss", 150, [3.0, 0.4, 0.9], 0.08)
case("gauss_dogbox_bounds", "gauss", xg, yg, [1, 0, 1], bounds=([0, -1, 0.1], [10, 1, 5]), method="dogbox")
xo, yo = data("decay", 300, [2.5, 1.3, 0.4], 0.03, outliers=15)
for loss in ["soft_l1", "huber", "cauchy", "arctan"]:
    case(f"decay_{loss}", "decay", xo, yo, [1, 1, 0], loss=loss, f_scale=0.1, method="trf")
s1 = 0.02 + 0.1 * rng.uniform(size=x.size)
ys = decay(x, 2.5, 1.3, 0.4) + s1 * rng.standard_normal(x.size)
case("decay_sigma_1d", "decay", x, ys, [1, 1, 0], sigma=s1)
case("decay_sigma_1d_absolute", "decay", x, ys, [1, 1, 0], sigma=s1, absolute_sigma=True)
xl, _ = data("logistic", 80, [5.0, 2.0, 2.5], 0.0)
cov = ar1(xl.size, 0.6, 0.1)
yl = logistic(xl, 5.0, 2.0, 2.5) + np.linalg.cholesky(cov) @ rng.standard_normal(xl.size)
case("logistic_sigma_2d", "logistic", xl, yl, [4, 1, 2], sigma=cov)
case("logistic_sigma_2d_absolute_trf", "logistic", xl, yl, [4, 1, 2], sigma=cov, absolute_sigma=True, method="trf")
x2, y2 = data("gauss2d", 400, [2.0, 0.3, -0.2, 0.7], 0.05)
case("gauss2d_lm", "gauss2d", x2, y2, [1, 0, 0, 1])
case("gauss2d_trf_bounds", "gauss2d", x2, y2, [1, 0, 0, 1], bounds=([0, -1, -1, 0.1], [5, 1, 1, 3]))

with open("curve_fit_reference.json", "w") as fh:
    json.dump(dict(scipy=scipy.__version__, numpy=np.__version__, tolerances=TOL, cases=cases), fh)
print(f"{len(cases)} cases written with scipy {scipy.__version__}")
