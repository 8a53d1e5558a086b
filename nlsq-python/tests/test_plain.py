"""curve_fit's common call (a compiled model, 1-D float64 arrays, p0, nothing else) goes to the
engine as it is (``_native.fit_plain``): the same fit, bit for bit, as the general path, and
anything else falls through to the general path with its checks and messages."""

import warnings

import numpy as np
import pytest

import nlsq_rs
from nlsq_rs import InvalidInputError, OptimizeWarning, _native

M = "a*exp(-b*x)+c"
X = np.linspace(0, 5, 400)
Y = 2.5 * np.exp(-1.3 * X) + 0.5 + 0.01 * np.random.default_rng(7).standard_normal(X.size)
P0 = [1.0, 1.0, 0.0]


def general(f, x, y, p0):
    """The general path's curve_fit (check_finite=True leaves the common call's gate and
    changes nothing for a compiled model: the engine checks the data either way)."""
    return nlsq_rs.curve_fit(f, x, y, p0=p0, check_finite=True)


def same_bits(a, b):
    np.testing.assert_array_equal(np.asarray(a).view(np.uint64), np.asarray(b).view(np.uint64))


@pytest.mark.parametrize("n", [400, 10_000])  # on this thread, and on the pool from 8,193
def test_the_common_call_is_the_general_fit_bit_for_bit(n):
    x = np.linspace(0, 5, n)
    y = 2.5 * np.exp(-1.3 * x) + 0.5 + 0.01 * np.random.default_rng(n).standard_normal(n)
    out = _native.fit_plain(_native.Model(M), x, y, P0)
    assert type(out) is tuple and len(out) == 2
    popt, pcov = nlsq_rs.curve_fit(M, x, y, p0=P0)
    gpopt, gpcov = general(M, x, y, P0)
    for a, b in ((out[0], gpopt), (popt, gpopt), (out[1], gpcov), (pcov, gpcov)):
        same_bits(a, b)
    np.testing.assert_allclose(popt, [2.5, 1.3, 0.5], rtol=2e-2)


@pytest.mark.parametrize("p0", [P0, tuple(P0), np.array(P0), [1, 1, 0]])
def test_p0_as_any_sequence_of_numbers(p0):
    assert type(_native.fit_plain(_native.Model(M), X, Y, p0)) is tuple
    same_bits(nlsq_rs.curve_fit(M, X, Y, p0=p0)[0], general(M, X, Y, P0)[0])


def test_a_translated_function_once_cached():
    f = lambda x, a, b, c: a * np.exp(-b * x) + c  # noqa: E731
    first = nlsq_rs.curve_fit(f, X, Y, p0=P0)  # translated here, then cached
    again = nlsq_rs.curve_fit(f, X, Y, p0=P0)
    same_bits(first[0], again[0])
    same_bits(again[0], general(M, X, Y, P0)[0])
    assert type(nlsq_rs._plain(f, X, Y, P0, {})) is tuple
    g = lambda x, a: a * x  # noqa: E731
    assert nlsq_rs._plain(g, X, Y, [1.0], {}) is None  # not translated yet: nothing fitted


@pytest.mark.parametrize("x, y, p0, why", [
    (X.tolist(), Y, P0, "x a list"),
    (X.astype(np.float32), Y, P0, "x float32"),
    (X, Y.astype(np.float32), P0, "y float32"),
    (np.repeat(X, 2)[::2], Y, P0, "x not contiguous"),
    (X.reshape(1, -1), Y, P0, "x 2-D"),
    (X[:-1], Y, P0, "lengths differ"),
    (X, Y, P0[:2], "p0 too short"),
    (X, Y, 1.0, "p0 a scalar"),
    (X, Y, ["1", "1", "0"], "p0 strings"),
])
def test_anything_else_is_not_the_common_call(x, y, p0, why):
    assert _native.fit_plain(_native.Model(M), x, y, p0) is None, why


@pytest.mark.parametrize("x, y", [
    (X.tolist(), Y.tolist()),
    (X.astype(np.float32), Y),
    (np.repeat(X, 2)[::2], np.repeat(Y, 2)[::2]),
    (X.reshape(1, -1), Y),
])
def test_other_inputs_go_the_general_way(x, y):
    popt, _ = nlsq_rs.curve_fit(M, x, y, p0=P0)
    np.testing.assert_allclose(popt, general(M, X, Y, P0)[0], rtol=1e-6)


def test_wrong_inputs_keep_the_general_messages():
    with pytest.raises(ValueError, match="p0 has 2 values, the model has 3 parameters"):
        nlsq_rs.curve_fit(M, X, Y, p0=[1.0, 1.0])
    with pytest.raises(ValueError, match="xdata has 399 points, ydata 400"):
        nlsq_rs.curve_fit(M, X[:-1], Y, p0=P0)
    y = Y.copy()
    y[17] = np.nan
    with pytest.raises(InvalidInputError) as plain:
        nlsq_rs.curve_fit(M, X, y, p0=P0)
    with pytest.raises(InvalidInputError) as gen:
        general(M, X, y, P0)
    assert str(plain.value) == str(gen.value) and "17" in str(plain.value)


def test_two_predictors_are_not_the_common_call():
    x2 = np.vstack([X, X[::-1]]).copy()
    m = _native.Model("a*x[0] + b*x[1]")
    assert _native.fit_plain(m, X, Y, [1.0, 1.0]) is None
    popt, _ = nlsq_rs.curve_fit("a*x[0] + b*x[1]", x2, 2 * X + 3 * X[::-1], p0=[1.0, 1.0])
    np.testing.assert_allclose(popt, [2.0, 3.0], rtol=1e-9)


def test_a_fit_that_ends_badly_is_reported_as_by_the_general_path():
    # Indeterminate covariance: the engine's result comes back, and curve_fit warns as always.
    out = _native.fit_plain(_native.Model("a*x + b*x + c"), X, 3 * X + 1, P0)
    assert type(out) is _native.NativeFitResult and out.covariance_indeterminate
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        popt, pcov = nlsq_rs.curve_fit("a*x + b*x + c", X, 3 * X + 1, p0=P0)
    assert any(issubclass(v.category, OptimizeWarning) for v in w)
    assert not np.isfinite(pcov).all()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        gpopt, _ = general("a*x + b*x + c", X, 3 * X + 1, P0)
    same_bits(popt, gpopt)


SCIPY_TOLS = dict(ftol=1.49012e-8, xtol=1.49012e-8, gtol=0.0)


def test_tolerances_take_the_common_call_too():
    popt, pcov = nlsq_rs.curve_fit(M, X, Y, p0=P0, **SCIPY_TOLS)
    # method="lm" (the default here) leaves the gate: the general path's fit.
    gpopt, gpcov = nlsq_rs.curve_fit(M, X, Y, p0=P0, method="lm", **SCIPY_TOLS)
    same_bits(popt, gpopt)
    same_bits(pcov, gpcov)
    r = nlsq_rs.fit(M, X, Y, p0=P0, **SCIPY_TOLS)
    assert r.message == nlsq_rs.fit(M, X, Y, p0=P0, method="lm", **SCIPY_TOLS).message
    # gtol = 0 ("off" in scipy's 'lm') becomes machine epsilon on both paths.
    eps = float(np.finfo(np.float64).eps)
    out = _native.fit_plain(_native.Model(M), X, Y, P0, 1.49012e-8, 1.49012e-8, eps)
    assert type(out) is tuple
    same_bits(out[0], popt)


def test_bad_tolerances_keep_the_general_messages():
    with pytest.raises(ValueError) as plain:
        nlsq_rs.curve_fit(M, X, Y, p0=P0, ftol=0.0, xtol=0.0, gtol=0.0)
    with pytest.raises(ValueError) as gen:
        nlsq_rs.curve_fit(M, X, Y, p0=P0, method="lm", ftol=0.0, xtol=0.0, gtol=0.0)
    assert str(plain.value) == str(gen.value)
    with pytest.raises((TypeError, ValueError)):
        nlsq_rs.curve_fit(M, X, Y, p0=P0, ftol="tight")
    with pytest.raises(ValueError) as plain:
        nlsq_rs.curve_fit(M, X, Y, p0=P0, xtol=-1.0)
    with pytest.raises(ValueError) as gen:
        nlsq_rs.curve_fit(M, X, Y, p0=P0, method="lm", xtol=-1.0)
    assert str(plain.value) == str(gen.value)
