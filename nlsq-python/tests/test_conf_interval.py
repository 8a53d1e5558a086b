"""FitResult.conf_interval: profile-likelihood intervals equal ci95 for a model linear in its
parameters, are asymmetric for a decay rate with Δχ² at the ends equal to the threshold, keep
fixed parameters and bounds, and refuse the fallback."""

import numpy as np
import pytest

import nlsq_rs

R = np.random.default_rng(3)


def test_linear_model_intervals_equal_ci95():
    x = np.linspace(0, 10, 30)
    y = 1.0 + 0.4 * x - 0.02 * x * x + 0.2 * R.standard_normal(x.size)
    r = nlsq_rs.fit("a + b*x + c*x*x", x, y, p0=[0, 0, 0])
    ci = r.conf_interval()
    assert list(ci) == ["a", "b", "c"]
    for j, name in enumerate(ci):
        half = r.ci95[j, 1] - r.popt[j]
        assert ci[name].value == r.popt[j]
        np.testing.assert_allclose([ci[name].lower, ci[name].upper], r.ci95[j], rtol=0,
                                   atol=1e-6 * half)


def test_decay_rate_is_asymmetric_and_reaches_the_threshold():
    x = np.linspace(0, 5, 12)
    y = 3.0 * np.exp(-0.9 * x) + 0.3 * R.standard_normal(x.size)
    r = nlsq_rs.fit("a*exp(-b*x)", x, y, p0=[1, 1], bounds=([0, 0], [10, 10]))
    ci = r.conf_interval("b")["b"]
    b = r.popt[1]
    assert ci.lower < b < ci.upper
    below, above = b - ci.lower, ci.upper - b
    assert abs(above - below) > 0.05 * (above + below), ci
    for end in (ci.lower, ci.upper):
        e = nlsq_rs.fit("a*exp(-b*x)", x, y, p0=[r.popt[0], end], fixed=["b"])
        assert abs(e.chi2 - r.chi2 - ci.threshold) <= 1e-6 * ci.threshold


def test_fixed_parameters_stay_fixed_and_the_fallback_is_refused():
    x = np.linspace(0, 6, 40)
    y = 2.0 * np.exp(-0.7 * x) + 0.4 + 0.02 * R.standard_normal(x.size)
    r = nlsq_rs.fit("a*exp(-b*x)+c+d*x", x, y, p0=[1, 1, 0, 0], fixed={"d": 0.0})
    ci = r.conf_interval()
    assert list(ci) == ["a", "b", "c"] and ci["c"].lower < r.popt[2] < ci["c"].upper
    with pytest.raises(ValueError, match="not a free parameter"):
        r.conf_interval(["d"])

    def line(x, a, b):
        return np.array([a + b * xi for xi in x])  # a comprehension: the fallback runs

    f = nlsq_rs.fit(line, x, y, p0=[0, 0])
    assert f.fallback
    with pytest.raises(ValueError, match="fallback"):
        f.conf_interval()
