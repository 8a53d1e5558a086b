"""FitResult.correlation and FitResult.bands: the correlation is pcov normalized; the bands of a
straight line equal ordinary least squares' closed forms; sigma conventions; fixed parameters;
the bands of a nonlinear model equal a finite-difference delta method."""

import numpy as np
import pytest
from scipy import stats

import nlsq_rs

R = np.random.default_rng(5)
X = np.linspace(0.0, 10.0, 40)
Y_LINE = 1.5 + 0.7 * X + 0.3 * R.standard_normal(X.size)
Y_DECAY = 2.0 * np.exp(-0.4 * X) + 0.3 + 0.02 * R.standard_normal(X.size)


def test_correlation_is_normalized_pcov_with_nan_for_fixed():
    r = nlsq_rs.fit("a*exp(-b*x)+c+d*x", X, Y_DECAY, p0=[1, 1, 0, 0], fixed={"d": 0.0})
    c = r.pcov[:3, :3]
    sd = np.sqrt(np.diag(c))
    np.testing.assert_allclose(r.correlation[:3, :3], c / np.outer(sd, sd), rtol=1e-14)
    assert np.isnan(r.correlation[3]).all() and np.isnan(r.correlation[:, 3]).all()
    assert r.correlation.shape == (4, 4) and "correlation of the fitted parameters" in repr(r)
    assert r.to_dict()["absolute_sigma"] is False and r.absolute_sigma is False


def test_line_bands_equal_the_closed_forms():
    r = nlsq_rs.fit("a + b*x", X, Y_LINE, p0=[0, 0])
    n = X.size
    b, a = np.polyfit(X, Y_LINE, 1)
    s2 = np.sum((Y_LINE - a - b * X) ** 2) / (n - 2)
    sxx = np.sum((X - X.mean()) ** 2)
    x0 = np.array([-2.0, 0.0, 3.3, 12.0])
    lever = 1 / n + (x0 - X.mean()) ** 2 / sxx
    se_mean, se_pred = np.sqrt(s2 * lever), np.sqrt(s2 * (1 + lever))
    t = stats.t.ppf(0.975, n - 2)
    bands = r.bands(x0)
    assert isinstance(bands, nlsq_rs.Bands) and bands.value.shape == x0.shape
    np.testing.assert_allclose(bands.value, r.predict(x0), rtol=1e-15)
    np.testing.assert_allclose(bands.se_fit, se_mean, rtol=1e-10)
    np.testing.assert_allclose(bands.se_obs, se_pred, rtol=1e-10)
    np.testing.assert_allclose(bands.conf_upper - bands.value, t * se_mean, rtol=1e-10)
    np.testing.assert_allclose(bands.value - bands.pred_lower, t * se_pred, rtol=1e-10)


def test_sigma_conventions():
    sigma = np.full(X.size, 0.3)
    x0 = np.array([1.0, 5.0])
    ab = nlsq_rs.fit("a + b*x", X, Y_LINE, p0=[0, 0], sigma=sigma, absolute_sigma=True)
    rel = nlsq_rs.fit("a + b*x", X, Y_LINE, p0=[0, 0], sigma=sigma)
    noise = lambda bands: bands.se_obs ** 2 - bands.se_fit ** 2  # noqa: E731
    np.testing.assert_allclose(noise(ab.bands(x0, sigma=0.3)), 0.09, rtol=1e-10)
    np.testing.assert_allclose(noise(ab.bands(x0)), 1.0, rtol=1e-10)
    np.testing.assert_allclose(noise(rel.bands(x0, sigma=[0.3, 0.6])),
                               rel.reduced_chi2 * np.array([0.09, 0.36]), rtol=1e-10)
    with pytest.raises(ValueError):
        rel.bands(x0, sigma=[1.0, 2.0, 3.0])


def test_nonlinear_bands_equal_finite_differences_and_fixed_parameters_are_ignored():
    r = nlsq_rs.fit("a*exp(-b*x)+c+d*x", X, Y_DECAY, p0=[1, 1, 0, 0], fixed={"d": 0.0})
    x0 = np.array([0.0, 2.0, 9.0])
    f = lambda p: p[0] * np.exp(-p[1] * x0) + p[2] + p[3] * x0  # noqa: E731
    g = np.empty((4, x0.size))
    for j in range(4):
        h = 1e-6 * max(abs(r.popt[j]), 1e-3)
        up, down = r.popt.copy(), r.popt.copy()
        up[j] += h
        down[j] -= h
        g[j] = (f(up) - f(down)) / (2 * h)
    want = np.sqrt(np.einsum("in,ij,jn->n", g, r.pcov, g))
    np.testing.assert_allclose(r.bands(x0).se_fit, want, rtol=1e-6)


def stepwise(x, a, b):
    out = np.empty_like(x)
    for i, xi in enumerate(x):  # a loop: not translatable, so the fallback runs
        out[i] = a + b * xi
    return out


def test_fallback_refuses_bands():
    r = nlsq_rs.fit(stepwise, X, Y_LINE, p0=[0, 0])
    assert r.fallback
    with pytest.raises(ValueError, match="fallback"):
        r.bands(X)
