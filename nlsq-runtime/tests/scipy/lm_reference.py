"""Reference results of scipy's `least_squares(method='lm')` (MINPACK lmder) for the scipy
agreement test in `nlsq-runtime/src/solve/lm.rs` (`scipy_agreement`).

Run from anywhere: `python3 nlsq-runtime/tests/scipy/lm_reference.py`. It prints, per problem,
the solution (repr, full precision), nfev, njev and the status; the numbers are pasted into the
test. The residuals and Jacobians are written out exactly as in the Rust test.
"""

import os

import numpy as np
import scipy
from scipy.optimize import least_squares

HERE = os.path.dirname(os.path.abspath(__file__))
NIST = os.path.join(HERE, "..", "..", "..", "tests", "data", "nist-strd")


def nist(name):
    """Start 1, start 2, certified values and the (y, x) data of a NIST StRD problem."""
    with open(os.path.join(NIST, name + ".dat")) as f:
        lines = [line.rstrip("\r\n") for line in f]

    def line_range(line):
        a, b = line.split("(")[1].replace(")", "").split()[1::2]
        return int(a), int(b)

    p0, p1 = line_range(lines[4])
    d0, d1 = line_range(lines[6])
    rows = [[float(t) for t in line.split("=")[1].split()] for line in lines[p0 - 1 : p1]]
    data = np.array([[float(t) for t in line.split()] for line in lines[d0 - 1 : d1]])
    starts = (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))
    return starts, data[:, 0], data[:, 1]


def rosenbrock():
    fun = lambda p: np.array([10.0 * (p[1] - p[0] ** 2), 1.0 - p[0]])
    jac = lambda p: np.array([[-20.0 * p[0], 10.0], [-1.0, 0.0]])
    return fun, jac, np.array([-1.2, 1.0])


def misra1a(start):
    starts, y, x = nist("Misra1a")

    def fun(b):
        return b[0] * (1.0 - np.exp(-b[1] * x)) - y

    def jac(b):
        e = np.exp(-b[1] * x)
        return np.column_stack([1.0 - e, b[0] * x * e])

    return fun, jac, starts[start - 1]


def eckerle4(start):
    starts, y, x = nist("Eckerle4")

    def fun(b):
        u = (x - b[2]) / b[1]
        return b[0] / b[1] * np.exp(-0.5 * u * u) - y

    def jac(b):
        u = (x - b[2]) / b[1]
        e = np.exp(-0.5 * u * u)
        return np.column_stack(
            [e / b[1], b[0] * e / b[1] ** 2 * (u * u - 1.0), b[0] * e * u / b[1] ** 2]
        )

    return fun, jac, starts[start - 1]


def thurber(start):
    starts, y, x = nist("Thurber")

    def parts(b):
        num = b[0] + b[1] * x + b[2] * x**2 + b[3] * x**3
        den = 1.0 + b[4] * x + b[5] * x**2 + b[6] * x**3
        return num, den

    def fun(b):
        num, den = parts(b)
        return num / den - y

    def jac(b):
        num, den = parts(b)
        cols = [x**k / den for k in range(4)]
        cols += [-num * x**k / den**2 for k in range(1, 4)]
        return np.column_stack(cols)

    return fun, jac, starts[start - 1]


CASES = [
    # name, problem, options
    ("rosenbrock", rosenbrock(), dict(x_scale=1.0)),
    ("misra1a_start1", misra1a(1), dict(x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12)),
    ("eckerle4_start2", eckerle4(2), dict(x_scale="jac", ftol=1e-12, xtol=1e-12, gtol=1e-12)),
    ("thurber_start2", thurber(2), dict(x_scale=1.0, ftol=1e-12, xtol=1e-12, gtol=1e-12)),
]

if __name__ == "__main__":
    print("scipy", scipy.__version__, "numpy", np.__version__)
    for name, (fun, jac, x0), opts in CASES:
        r = least_squares(fun, x0, jac=jac, method="lm", **opts)
        print(name)
        print("  x      =", [float(v) for v in r.x])
        print("  cost   =", float(r.cost))
        print("  nfev   =", r.nfev, " njev =", r.njev, " status =", r.status)
