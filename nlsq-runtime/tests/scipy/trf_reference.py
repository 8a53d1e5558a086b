"""Reference results of scipy's least_squares(method='trf' / 'dogbox') for the solver tests in
nlsq-runtime/src/solve/trf.rs and nlsq-runtime/src/solve/dogbox.rs.

Run from anywhere: python3 nlsq-runtime/tests/scipy/trf_reference.py
The printed popt / status / nfev are pasted into the Rust tests (which name this script).
Every problem uses the analytic Jacobian written the same way as in the Rust tests.
"""
import os

import numpy as np
import scipy
from scipy.optimize import least_squares

HERE = os.path.dirname(os.path.abspath(__file__))
NIST = os.path.join(HERE, "..", "..", "..", "tests", "data", "nist-strd")


def rosenbrock(x):
    return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


def rosenbrock_jac(x):
    return np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0]])


# y = a exp(-b t) + c on t = 0..20 with a deterministic wiggle; c is held below its best value.
T = np.arange(21.0)
Y = 2.5 * np.exp(-0.3 * T) + 0.5 + 0.01 * np.sin(1.3 * np.arange(21))


def expdecay(p):
    return p[0] * np.exp(-p[1] * T) + p[2] - Y


def expdecay_jac(p):
    e = np.exp(-p[1] * T)
    return np.column_stack([e, -p[0] * T * e, np.ones_like(T)])


def load_nist(name):
    with open(os.path.join(NIST, name + ".dat")) as f:
        lines = f.read().replace("\r", "").split("\n")
    s1, s2, cert = [], [], []
    for line in lines[40:]:
        t = line.split()
        if len(t) >= 5 and t[0].startswith("b") and t[1] == "=":
            s1.append(float(t[2]))
            s2.append(float(t[3]))
            cert.append(float(t[4]))
        elif s1:
            break
    data = np.array([[float(v) for v in l.split()] for l in lines[60:] if l.strip()])
    return np.array(s1), np.array(s2), np.array(cert), data[:, 1], data[:, 0]


_, _, _, MX, MY = load_nist("Misra1a")


def misra1a(b):
    return b[0] * (1.0 - np.exp(-b[1] * MX)) - MY


def misra1a_jac(b):
    e = np.exp(-b[1] * MX)
    return np.column_stack([1.0 - e, b[0] * MX * e])


INF = np.inf
CASES = [
    # name, fun, jac, x0, bounds, options
    ("rosenbrock", rosenbrock, rosenbrock_jac, [-1.2, 1.0], (-INF, INF), {}),
    ("rosenbrock_bounded", rosenbrock, rosenbrock_jac, [-1.2, 1.0], (-INF, [0.8, INF]), {}),
    ("rosenbrock_scipy_doc", rosenbrock, rosenbrock_jac, [2.0, 2.0], ([-INF, 1.5], INF), {}),
    ("expdecay_bounded", expdecay, expdecay_jac, [1.0, 0.1, 0.0],
     ([0.0, 0.0, -INF], [INF, INF, 0.3]), {}),
    ("expdecay_bounded_jac", expdecay, expdecay_jac, [1.0, 0.1, 0.0],
     ([0.0, 0.0, -INF], [INF, INF, 0.3]), {"x_scale": "jac"}),
    ("misra1a_start1", misra1a, misra1a_jac, [500.0, 1e-4], (-INF, INF), {}),
    ("misra1a_start1_jac", misra1a, misra1a_jac, [500.0, 1e-4], (-INF, INF), {"x_scale": "jac"}),
]

print(f"scipy {scipy.__version__}")
for method in ("trf", "dogbox"):
    for name, fun, jac, x0, bounds, kw in CASES:
        r = least_squares(fun, x0, jac=jac, bounds=bounds, method=method, **kw)
        popt = ", ".join(repr(float(v)) for v in r.x)
        mask = ", ".join(str(int(v)) for v in r.active_mask)
        print(f"{method:6} {name:22} popt=[{popt}] status={r.status} nfev={r.nfev} "
              f"njev={r.njev} cost={r.cost!r} optimality={r.optimality:.3e} active_mask=[{mask}]")
