"""Fits large enough to run on the engine's thread pool (8,193 points and more), alone and from
several Python threads at once: the same bits every time."""

import threading

import numpy as np

import nlsq_rs


def problem(n=20_000):
    x = np.linspace(0, 5, n)
    rng = np.random.default_rng(7)
    y = 2.5 * np.exp(-1.3 * x) + 0.5 + 0.01 * rng.standard_normal(n)
    return x, y


def test_fits_from_several_threads_equal_the_fit_alone():
    x, y = problem()
    alone = nlsq_rs.fit("a*exp(-b*x)+c", x, y, p0=[1.0, 1.0, 0.0])
    assert alone.success
    results = [None] * 4

    def one(i):
        results[i] = nlsq_rs.fit("a*exp(-b*x)+c", x, y, p0=[1.0, 1.0, 0.0])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r.popt, alone.popt)
        np.testing.assert_array_equal(r.pcov, alone.pcov)
        assert (r.nfev, r.cost) == (alone.nfev, alone.cost)


def test_a_fit_on_the_pool_agrees_with_scipy():
    from scipy.optimize import curve_fit as scipy_curve_fit

    x, y = problem()
    popt, pcov = nlsq_rs.curve_fit("a*exp(-b*x)+c", x, y, p0=[1.0, 1.0, 0.0])
    sp, spcov = scipy_curve_fit(lambda x, a, b, c: a * np.exp(-b * x) + c, x, y,
                                p0=[1.0, 1.0, 0.0])
    np.testing.assert_allclose(popt, sp, rtol=1e-6)
    np.testing.assert_allclose(pcov, spcov, rtol=1e-4)
