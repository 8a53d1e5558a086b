"""``multistart=K``: a global search from Python (``fit`` and ``curve_fit``)."""

import numpy as np
import pytest

import nlsq_rs

# Bard's problem (Moré, Garbow & Hillstrom 1981) from 10·x0: a local fit ends at Σr² = 17.43,
# the global minimum is 8.21487e-3.
Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34,
              2.10, 4.39])
U = np.arange(1.0, 16.0)
BARD = "p1 + x / ((16 - x) * p2 + min(x, 16 - x) * p3)"
F_MIN = 8.21487e-3


def test_fit_with_multistart_finds_the_global_minimum():
    local = nlsq_rs.fit(BARD, U, Y, p0=[10.0, 10.0, 10.0])
    assert 2 * local.cost > 17.0
    assert local.search is None
    r = nlsq_rs.fit(BARD, U, Y, p0=[10.0, 10.0, 10.0], multistart=32, seed=1)
    assert abs(2 * r.cost - F_MIN) < 1e-5 * F_MIN
    s = r.search
    assert isinstance(s, nlsq_rs.SearchReport)
    assert (s.starts, s.seed) == (32, 1)
    assert s.minima and isinstance(s.minima[0], nlsq_rs.Minimum)
    assert s.minima[0].cost <= s.minima[-1].cost
    np.testing.assert_allclose(s.minima[0].params, r.popt, rtol=1e-6)
    assert "multistart: 32 starts" in repr(r)
    # The same seed, the same search.
    again = nlsq_rs.fit(BARD, U, Y, p0=[10.0, 10.0, 10.0], multistart=32, seed=1)
    np.testing.assert_array_equal(again.popt, r.popt)
    assert [m.cost for m in again.search.minima] == [m.cost for m in s.minima]
    # Profile intervals refit locally (no search per profile point).
    ci = r.conf_interval("p1")
    assert ci["p1"].lower < r.popt[0] < ci["p1"].upper


def test_curve_fit_multistart_keyword():
    popt, _ = nlsq_rs.curve_fit(BARD, U, Y, p0=[10.0, 10.0, 10.0], multistart=32, seed=1)
    r = nlsq_rs.fit(BARD, U, Y, p0=[10.0, 10.0, 10.0], multistart=32, seed=1)
    np.testing.assert_array_equal(popt, r.popt)


def test_bad_multistart_values():
    with pytest.raises(nlsq_rs.InvalidInputError, match="starts"):
        nlsq_rs.fit(BARD, U, Y, p0=[10.0, 10.0, 10.0], multistart=0)
    with pytest.raises(ValueError, match="multistart"):
        nlsq_rs.fit(BARD, U, Y, p0=[10.0, 10.0, 10.0], seed=3)
