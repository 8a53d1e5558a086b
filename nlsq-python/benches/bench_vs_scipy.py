"""nlsq_rs.curve_fit against scipy.optimize.curve_fit (and the JAX NLSQ where it is
installed), same process, same data, whole calls including argument conversion.

    python nlsq-python/benches/bench_vs_scipy.py [N ...]      (default: 1e3 1e4 1e5 1e6 1e7)

Prints a Markdown table: the best wall time per call over repeats (after a warm-up call) of
- nlsq_rs with a model string, and with a translated lambda (the translation cached after the
  first call, as in a loop of fits);
- scipy without a Jacobian (2-point differences) and with an analytic Jacobian;
- the per-call overhead of nlsq_rs over the engine's own fit time (median over calls of the
  call's wall time minus its FitResult.wall_time_s).
Thread counts: nlsq_rs uses rayon's default (all cores); numpy's BLAS is not used by either
fit's hot loop on this problem (elementwise numpy for scipy).
"""

import statistics
import sys
import time

import numpy as np
from scipy.optimize import curve_fit as scipy_curve_fit

import nlsq_rs


def model(x, a, b, c):
    return a * np.exp(-b * x) + c


def jac(x, a, b, c):
    e = np.exp(-b * x)
    return np.stack([e, -a * x * e, np.ones_like(x)], axis=1)


def timed(f, repeats):
    """The best wall time of ``repeats`` calls (after one warm-up call), and the last output."""
    out = f()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t)
    return min(ts), out


def overhead(f, repeats):
    """Median of (call time - the engine's own fit time) over ``repeats`` fit() calls."""
    f()
    d = []
    for _ in range(repeats):
        t = time.perf_counter()
        r = f()
        d.append(time.perf_counter() - t - r.wall_time_s)
    return statistics.median(d), r


def main(ns):
    rng = np.random.default_rng(0)
    p0 = [1.0, 1.0, 0.0]
    lam = lambda x, a, b, c: a * np.exp(-b * x) + c  # noqa: E731
    nlsq_rs.compile_model(lam)  # translated once, cached for the calls below
    print("| N | nlsq_rs string | nlsq_rs lambda | engine fit | overhead | scipy 2-point | "
          "scipy jac | speed-up vs scipy 2-point / jac |")
    print("|---|---|---|---|---|---|---|---|")
    for n in ns:
        x = np.linspace(0, 5, n)
        y = 2.5 * np.exp(-1.3 * x) + 0.5 + 0.01 * rng.standard_normal(n)
        reps = 200 if n <= 1e3 else 50 if n <= 1e4 else 10 if n <= 1e5 else 3
        t_str, _ = timed(lambda: nlsq_rs.curve_fit("a*exp(-b*x)+c", x, y, p0=p0), reps)
        t_lam, _ = timed(lambda: nlsq_rs.curve_fit(lam, x, y, p0=p0), reps)
        over, r = overhead(lambda: nlsq_rs.fit("a*exp(-b*x)+c", x, y, p0=p0), reps)
        engine = r.wall_time_s
        sreps = max(1, reps // 2) if n < 1e6 else 1
        t_sp, sp = timed(lambda: scipy_curve_fit(model, x, y, p0=p0), sreps)
        t_spj, _ = timed(lambda: scipy_curve_fit(model, x, y, p0=p0, jac=jac), sreps)
        np.testing.assert_allclose(r.popt, sp[0], rtol=1e-5)
        print("| %.0e | %.3g ms | %.3g ms | %.3g ms | %.1f µs | %.3g ms | %.3g ms | %.1fx / %.1fx |"
              % (n, t_str * 1e3, t_lam * 1e3, engine * 1e3, over * 1e6, t_sp * 1e3,
                 t_spj * 1e3, t_sp / t_str, t_spj / t_str))
        sys.stdout.flush()
    try:
        import nlsq  # noqa: F401  (the JAX library)
        print("\nJAX NLSQ is installed: not benchmarked by this script yet")
    except ImportError:
        print("\nJAX NLSQ (`nlsq` on PyPI) is not installed: not compared")


if __name__ == "__main__":
    args = [int(float(a)) for a in sys.argv[1:]] or [1000, 10_000, 100_000, 1_000_000,
                                                      10_000_000]
    main(args)
