"""FitResult (fit), full_output, the fallback path and the package's surface."""

import json

import numpy as np
import pytest
from scipy.optimize import curve_fit as scipy_curve_fit

import nlsq_rs

R = np.random.default_rng(5)
X = np.linspace(0, 4, 80)
Y = 2.5 * np.exp(-1.3 * X) + 0.5 + 0.01 * R.standard_normal(X.size)


def exp_decay(x, a, b, c):
    return a * np.exp(-b * x) + c


def test_fit_result_fields():
    r = nlsq_rs.fit(exp_decay, X, Y, p0=[1, 1, 0])
    popt, pcov = nlsq_rs.curve_fit(exp_decay, X, Y, p0=[1, 1, 0])
    np.testing.assert_array_equal(r.popt, popt)
    np.testing.assert_array_equal(r.pcov, pcov)
    np.testing.assert_allclose(r.perr, np.sqrt(np.diag(pcov)))
    assert r.ci95.shape == (3, 2) and (r.ci95[:, 0] < r.popt).all() and (r.popt < r.ci95[:, 1]).all()
    assert r.success and r.status in (1, 2, 3, 4) and r.message
    assert r.param_names == ["a", "b", "c"] and r.params["b"] == pytest.approx(r.popt[1])
    assert r.n_points == 80 and r.dof == 77 and r.nfev > 0 and r.iterations > 0
    assert 0.99 < r.r_squared <= 1 and r.chi2 > 0 and np.isfinite(r.aic) and np.isfinite(r.bic)
    assert r.backend.startswith("cpu") and r.data_plan and r.method == "lm"
    assert r.model == "exp_decay" and "exp" in r.expression
    assert r.fallback is False and r.fallback_reason is None
    np.testing.assert_allclose(r.predict(X), exp_decay(X, *r.popt), rtol=1e-13)


def test_repr_html_dict_json():
    r = nlsq_rs.fit("a*exp(-b*x)+c", X, Y, p0=[1, 1, 0])
    text = repr(r)
    assert "nlsq fit of `a*exp(-b*x)+c`" in text and "95% confidence interval" in text
    html = r._repr_html_()
    assert html.count("<tr>") == 4 and "<table>" in html and "&chi;&sup2;" in html
    d = r.to_dict()
    assert d["popt"] == pytest.approx(list(r.popt)) and d["p0_source"] == "given"
    again = json.loads(r.to_json())
    assert again["param_names"] == ["a", "b", "c"] and again["success"] is True
    print(text)


def test_library_auto_p0_and_composition():
    x = np.linspace(-5, 5, 400)
    y = 3 * np.exp(-((x + 1.5) ** 2) / 0.5) + 2 * np.exp(-((x - 2) ** 2) / 0.8) + 0.1 * x + 1
    r = nlsq_rs.fit("gaussian:g1 + gaussian:g2 + linear", x, y)
    assert r.p0_source == "library estimate" and r.success
    assert r.param_names[:3] == ["g1_amp", "g1_mu", "g1_sigma"]
    mus = sorted([r.params["g1_mu"], r.params["g2_mu"]])
    np.testing.assert_allclose(mus, [-1.5, 2.0], atol=1e-6)
    assert "gaussian" in nlsq_rs.library_names()


def test_two_predictors_and_sigma_2d_full_output():
    popt, pcov, info, mesg, ier = nlsq_rs.curve_fit(
        exp_decay, X, Y, p0=[1, 1, 0], sigma=0.01 * np.eye(X.size) * 0.01 + 1e-6,
        full_output=True)
    assert info["fvec"].shape == (80,) and ier in (1, 2, 3, 4)
    xy = R.random((2, 50))
    z = 1 + 2 * xy[0] - 3 * xy[1]
    popt, _ = nlsq_rs.curve_fit(lambda x, a, b, c: a + b * x[0] + c * x[1], xy, z)
    np.testing.assert_allclose(popt, [1, 2, -3], rtol=1e-10)


def test_nan_omit_counts():
    y = Y.copy()
    y[[4, 9]] = np.nan
    r = nlsq_rs.fit(exp_decay, X, y, p0=[1, 1, 0], nan_policy="omit")
    assert r.n_omitted == 2 and r.n_points == 78


def stepwise(x, a, b, c):
    out = np.empty_like(x)
    for i, xi in enumerate(x):  # a loop: not translatable, so the fallback runs
        out[i] = a * np.exp(-b * xi) + c
    return out


def test_fallback_matches_scipy():
    r = nlsq_rs.fit(stepwise, X, Y, p0=[1, 1, 0])
    assert r.fallback and "cannot translate" in r.fallback_reason and "Python callable" in r.backend
    ref, ref_cov = scipy_curve_fit(stepwise, X, Y, p0=[1, 1, 0])
    np.testing.assert_allclose(r.popt, ref, rtol=1e-6)
    np.testing.assert_allclose(r.pcov, ref_cov, rtol=1e-3)
    # The translated function reaches the same optimum with exact derivatives.
    exact = nlsq_rs.fit(exp_decay, X, Y, p0=[1, 1, 0])
    np.testing.assert_allclose(r.popt, exact.popt, rtol=1e-6)
    # A user Jacobian, 3-point differences, bounds, a robust loss and sigma on the fallback.
    jac = lambda x, a, b, c: np.stack([np.exp(-b * x), -a * x * np.exp(-b * x),  # noqa: E731
                                       np.ones_like(x)], axis=1)
    rj = nlsq_rs.fit(stepwise, X, Y, p0=[1, 1, 0], jac=jac)
    np.testing.assert_allclose(rj.popt, exact.popt, rtol=1e-9)
    r3 = nlsq_rs.fit(stepwise, X, Y, p0=[1, 1, 0], jac="3-point", bounds=(0, 10),
                     loss="soft_l1", sigma=np.full(X.size, 0.01))
    ref3, _ = scipy_curve_fit(stepwise, X, Y, p0=[1, 1, 0], jac="3-point", bounds=(0, 10),
                              loss="soft_l1", sigma=np.full(X.size, 0.01), ftol=1e-14,
                              xtol=1e-14, gtol=1e-14)
    np.testing.assert_allclose(r3.popt, ref3, rtol=1e-6)
    np.testing.assert_allclose(r.predict(X), stepwise(X, *r.popt))


def test_fallback_for_objects_and_nan_omit_on_x():
    class Model:
        def __call__(self, x, a, b):
            return a * x + b

    x = np.linspace(0, 1, 20)
    x[3] = np.nan
    r = nlsq_rs.fit(Model(), x, 2 * np.nan_to_num(x) + 1, p0=[1, 1], nan_policy="omit")
    assert r.fallback and r.n_omitted == 1
    np.testing.assert_allclose(r.popt, [2, 1], rtol=1e-7)


def test_compile_model_cache_and_version():
    f = lambda x, a: a * x  # noqa: E731
    assert nlsq_rs.compile_model(f) is nlsq_rs.compile_model(f)
    assert nlsq_rs.__version__
    m = nlsq_rs.compile_model("a*x+b")
    assert m.param_names == ["a", "b"] and "Model(" in repr(m)
