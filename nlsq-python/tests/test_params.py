"""Fixed and tied parameters (``fixed=``, ``ties=``): each fit equals the fit of the model with
the constants and ties substituted by hand, to 1e-12; fixed parameters have no standard error,
tied ones the delta method's."""

import numpy as np
import pytest

import nlsq_rs

R = np.random.default_rng(11)
X = np.linspace(0.0, 6.0, 400)


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(a, b, rtol=tol, atol=0)


def decay_data():
    return 2.5 * np.exp(-1.3 * X) + 0.5 + 0.01 * R.standard_normal(X.size)


def two_gaussians_data():
    g = lambda a, m, s: a * np.exp(-((X - m) ** 2) / (2 * s * s))  # noqa: E731
    return g(3.0, 2.0, 0.4) + g(1.5, 4.0, 0.4) + 0.02 * R.standard_normal(X.size)


def test_fixed_equals_the_substituted_model():
    y = decay_data()
    r = nlsq_rs.fit("a*exp(-b*x)+c", X, y, p0=[1, 1, 0], fixed={"c": 0.5})
    h = nlsq_rs.fit("a*exp(-b*x)+0.5", X, y, p0=[1, 1])
    close(r.popt[:2], h.popt)
    close(r.pcov[:2, :2], h.pcov)
    close(r.cost, h.cost)
    assert r.popt[2] == 0.5 and np.isnan(r.perr[2])
    assert not r.pcov[2].any() and not r.pcov[:, 2].any()
    assert r.param_kinds == ["free", "free", "fixed"]
    assert r.dof == h.dof


def test_fixed_by_name_takes_the_value_from_p0():
    y = decay_data()
    r = nlsq_rs.fit("a*exp(-b*x)+c", X, y, p0=[1, 1.3, 0], fixed=["b"])
    h = nlsq_rs.fit("a*exp(-1.3*x)+c", X, y, p0=[1, 0])
    close(r.popt[[0, 2]], h.popt)
    assert r.popt[1] == 1.3


def test_ties_equal_the_substituted_model_and_propagate_errors():
    y = two_gaussians_data()
    model = "a1*exp(-pow(x-m1, 2)/(2*pow(s1, 2))) + a2*exp(-pow(x-m2, 2)/(2*pow(s2, 2)))"
    r = nlsq_rs.fit(model, X, y, p0=[2, 1.8, 0.5, 1, 4.2, 0.5],
                    ties={"a2": "0.5*a1", "s2": "s1"})
    hand = "a1*exp(-pow(x-m1, 2)/(2*pow(s1, 2))) + 0.5*a1*exp(-pow(x-m2, 2)/(2*pow(s1, 2)))"
    h = nlsq_rs.fit(hand, X, y, p0=[2, 1.8, 0.5, 4.2])
    names = r.param_names
    free = [names.index(n) for n in h.param_names]
    close(r.popt[free], h.popt)
    close(r.pcov[np.ix_(free, free)], h.pcov)
    a1, a2, s1, s2 = (names.index(n) for n in ("a1", "a2", "s1", "s2"))
    close(r.popt[a2], 0.5 * r.popt[a1])
    assert r.popt[s2] == r.popt[s1]
    # The delta method for linear ties: exact multiples of the free parameter's error.
    close(r.perr[a2], 0.5 * r.perr[a1])
    close(r.perr[s2], r.perr[s1])
    close(r.pcov[a2, a1], 0.5 * r.pcov[a1, a1])
    assert r.param_kinds[a2] == "tied: 0.5*a1"


def test_curve_fit_returns_every_parameter():
    y = decay_data()
    popt, pcov = nlsq_rs.curve_fit("a*exp(-b*x)+c", X, y, p0=[1, 1, 0.5], fixed=["c"],
                                   bounds=([0, 0, -np.inf], [10, 10, np.inf]))
    h, hc = nlsq_rs.curve_fit("a*exp(-b*x)+0.5", X, y, p0=[1, 1], bounds=([0, 0], [10, 10]))
    assert popt.shape == (3,) and pcov.shape == (3, 3)
    close(popt[:2], h)
    close(pcov[:2, :2], hc)


def test_library_composition_with_a_tie_and_automatic_p0():
    y = two_gaussians_data()
    r = nlsq_rs.fit("gaussian:g1 + gaussian:g2", X, y, ties={"g2_sigma": "g1_sigma"})
    assert r.success and r.p0_source == "library estimate"
    s1, s2 = r.param_names.index("g1_sigma"), r.param_names.index("g2_sigma")
    assert r.popt[s1] == r.popt[s2]
    assert abs(abs(r.popt[s1]) - 0.4) < 0.01


def test_translated_function_with_fixed_parameter():
    y = decay_data()
    r = nlsq_rs.fit(lambda x, a, b, c: a * np.exp(-b * x) + c, X, y, p0=[1, 1, 0],
                    fixed={"c": 0.5})
    h = nlsq_rs.fit("a*exp(-b*x)+0.5", X, y, p0=[1, 1])
    close(r.popt[:2], h.popt)


@pytest.mark.parametrize("kw, exc, text", [
    (dict(fixed={"d": 1.0}), ValueError, "d"),
    (dict(fixed=["d"]), ValueError, "not a parameter"),
    (dict(fixed="c"), TypeError, "dict"),
    (dict(ties=["a"]), TypeError, "dict"),
    (dict(ties={"a": "b", "b": "a"}), ValueError, "cycle"),
    (dict(ties={"a": "a"}), ValueError, "itself"),
    (dict(ties={"a": "2*"}), ValueError, "a"),
    (dict(fixed={"a": 1.0, "b": 1.0, "c": 0.0}), ValueError, "free"),
    (dict(fixed={"c": 0.5}, bounds=([0, 0, 0], [5, 5, 1])), ValueError, "c"),
])
def test_bad_constraints_are_errors(kw, exc, text):
    y = decay_data()
    with pytest.raises(exc, match="(?i)" + text):
        nlsq_rs.fit("a*exp(-b*x)+c", X, y, p0=[1, 1, 0], **kw)


def test_the_fallback_refuses_constraints():
    from scipy.special import erfc

    y = decay_data()
    with pytest.raises(ValueError, match="fallback"):
        nlsq_rs.fit(lambda x, a, b, c: a * erfc(b * x) + c, X, y, p0=[1, 1, 0],
                    fixed={"c": 0.5})
