"""nlsq_rs.curve_fit against scipy.optimize.curve_fit and the JAX NLSQ (where it is
installed: Python >= 3.12, ``pip install nlsq``, run on the CPU), same process, same data,
whole calls including argument conversion.

    python nlsq-python/benches/bench_vs_scipy.py [N ...]      (default: 1e3 1e4 1e5 1e6 1e7)

Prints a Markdown table: the best wall time per call over repeats (after a warm-up call) of
- nlsq_rs with a model string at its default tolerances (1e-12), at scipy's (leastsq's
  ftol = xtol = 1.49012e-8, gtol = 0: the same stopping rule as the scipy calls), and with a
  translated lambda (the translation cached after the first call, as in a loop of fits);
- scipy without a Jacobian (2-point differences) and with an analytic Jacobian;
- the JAX NLSQ (``nlsq.curve_fit`` with a ``jax.numpy`` model; its first call, which compiles,
  is reported apart);
- the per-call overhead of nlsq_rs over the engine's own fit time: "overhead", the median
  over nlsq_rs.fit calls of the call's wall time minus its FitResult.wall_time_s (the general
  path, a FitResult built); "curve_fit over engine", the median time of curve_fit's common
  call minus the median engine time of the same fit, the two run in turn.
Thread counts: nlsq_rs uses rayon's default (all cores; fits of 8,193 points and more run on
its pool, smaller ones on the calling thread); numpy's BLAS is not used by scipy's hot loop on
this problem (elementwise numpy); JAX uses XLA's CPU thread pool. For every library on one thread:
``RAYON_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python nlsq-python/benches/bench_vs_scipy.py``.
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


def curve_fit_over(call, fit, repeats):
    """Median time of ``call()`` (a curve_fit, which returns no engine clock) minus the median
    engine time of ``fit()`` (the same fit through nlsq_rs.fit), the two in turn."""
    call()
    c, e = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        call()
        c.append(time.perf_counter() - t)
        e.append(fit().wall_time_s)
    return statistics.median(c) - statistics.median(e)


def overhead(f, repeats):
    """Median of (call time - the engine's own fit time) over ``repeats`` fit() calls."""
    f()
    d = []
    for _ in range(repeats):
        t = time.perf_counter()
        r = f()
        d.append(time.perf_counter() - t - r.wall_time_s)
    return statistics.median(d), r


SCIPY_TOLS = dict(ftol=1.49012e-8, xtol=1.49012e-8, gtol=0.0)


def jax_nlsq():
    """The JAX NLSQ's curve_fit and a jax.numpy decay, or None when it is not installed."""
    try:
        import logging

        import jax.numpy as jnp
        from nlsq import curve_fit as jax_curve_fit
    except ImportError:
        return None
    logging.getLogger("nlsq").setLevel(logging.WARNING)
    return jax_curve_fit, lambda x, a, b, c: a * jnp.exp(-b * x) + c


def data(n):
    """The decay with noise at n points (the same arrays for every caller at this n)."""
    rng = np.random.default_rng(n)
    x = np.linspace(0, 5, n)
    return x, 2.5 * np.exp(-1.3 * x) + 0.5 + 0.01 * rng.standard_normal(n)


def ours_and_scipy(n, lam):
    """nlsq_rs's and scipy's figures at n points (JAX not imported yet: its thread pool slows
    every other call of the process by about 15 µs)."""
    x, y = data(n)
    p0 = [1.0, 1.0, 0.0]
    reps = 200 if n <= 1e3 else 50 if n <= 1e4 else 10 if n <= 1e5 else 3
    row = {"n": n}
    row["str"], _ = timed(lambda: nlsq_rs.curve_fit("a*exp(-b*x)+c", x, y, p0=p0), reps)
    row["tol"], _ = timed(lambda: nlsq_rs.curve_fit("a*exp(-b*x)+c", x, y, p0=p0, **SCIPY_TOLS),
                          reps)
    row["lam"], _ = timed(lambda: nlsq_rs.curve_fit(lam, x, y, p0=p0), reps)
    row["over"], r = overhead(lambda: nlsq_rs.fit("a*exp(-b*x)+c", x, y, p0=p0), reps)
    row["engine"] = r.wall_time_s
    row["cf_over"] = curve_fit_over(
        lambda: nlsq_rs.curve_fit("a*exp(-b*x)+c", x, y, p0=p0),
        lambda: nlsq_rs.fit("a*exp(-b*x)+c", x, y, p0=p0), reps)
    sreps = max(1, reps // 2) if n < 1e6 else 1
    row["sp"], sp = timed(lambda: scipy_curve_fit(model, x, y, p0=p0), sreps)
    row["spj"], _ = timed(lambda: scipy_curve_fit(model, x, y, p0=p0, jac=jac), sreps)
    np.testing.assert_allclose(r.popt, sp[0], rtol=1e-5)
    row["popt"] = sp[0]
    return row


def with_jax(rows):
    """The JAX NLSQ's warm time per row (None when it is not installed), and its first call."""
    jax = jax_nlsq()
    if jax is None:
        return None
    jax_fit, jax_model = jax
    cold = None
    for row in rows:
        x, y = data(row["n"])
        p0 = [1.0, 1.0, 0.0]
        if cold is None:
            t = time.perf_counter()
            jax_fit(jax_model, x, y, p0=p0)
            cold = (row["n"], time.perf_counter() - t)
        row["jax"], jp = timed(lambda: jax_fit(jax_model, x, y, p0=p0), 3 if row["n"] < 1e6 else 1)
        jpopt, _ = jp  # a result object that unpacks as (popt, pcov)
        np.testing.assert_allclose(np.asarray(jpopt), row["popt"], rtol=1e-5)
    return cold


def main(ns):
    lam = lambda x, a, b, c: a * np.exp(-b * x) + c  # noqa: E731
    nlsq_rs.compile_model(lam)  # translated once, cached for the calls below
    rows = [ours_and_scipy(n, lam) for n in ns]
    cold = with_jax(rows)
    print("| N | nlsq_rs string | at scipy's tolerances | nlsq_rs lambda | engine fit | overhead "
          "| curve_fit over engine | scipy 2-point | scipy jac | JAX NLSQ | speed-up vs scipy "
          "2-point / jac (at scipy's tolerances) | vs JAX NLSQ |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        jax_cell = vs_jax = "not installed"
        if "jax" in r:
            jax_cell, vs_jax = "%.3g ms" % (r["jax"] * 1e3), "%.0fx" % (r["jax"] / r["str"])
        print("| %.0e | %.3g ms | %.3g ms | %.3g ms | %.3g ms | %.1f µs | %.1f µs | %.3g ms | "
              "%.3g ms | %s | %.1fx / %.1fx (%.1fx / %.1fx) | %s |"
              % (r["n"], r["str"] * 1e3, r["tol"] * 1e3, r["lam"] * 1e3, r["engine"] * 1e3,
                 r["over"] * 1e6, r["cf_over"] * 1e6, r["sp"] * 1e3, r["spj"] * 1e3, jax_cell, r["sp"] / r["str"],
                 r["spj"] / r["str"], r["sp"] / r["tol"], r["spj"] / r["tol"], vs_jax))
    if cold is not None:
        print("\nJAX NLSQ first call (JIT compilation included) at N = %.0e: %.3g s"
              % (cold[0], cold[1]))
    else:
        print("\nJAX NLSQ (`nlsq` on PyPI, Python >= 3.12) is not installed: not compared")


if __name__ == "__main__":
    args = [int(float(a)) for a in sys.argv[1:]] or [1000, 10_000, 100_000, 1_000_000,
                                                      10_000_000]
    main(args)
