"""Every error path of curve_fit / fit: the exception class and the message."""

import warnings

import numpy as np
import pytest

import nlsq_rs
from nlsq_rs import (BackendError, ConvergenceError, FitError, InvalidInputError, ModelError,
                     NumericalError, OptimizeWarning)

X = np.linspace(0, 4, 30)
Y = 2 * np.exp(-1.3 * X) + 0.5
M = "a*exp(-b*x)+c"
P0 = [1.0, 1.0, 0.0]


def exp_decay(x, a, b, c):
    return a * np.exp(-b * x) + c


CASES = [
    # (name, call kwargs, exception classes, message fragment)
    ("f not callable", dict(f=3), TypeError, "model string"),
    ("unknown library name", dict(f="gausian", p0=None), ModelError, "gaussian"),
    ("bad expression", dict(f="a*exp(-b*x"), ModelError, "model `a*exp(-b*x`"),
    ("x/y lengths", dict(xdata=X[:-1]), ValueError, "29 points, ydata 30"),
    ("2-D ydata", dict(ydata=np.zeros((2, 30))), ValueError, "1-D"),
    ("3-D xdata", dict(xdata=np.zeros((1, 1, 30))), ValueError, "3-D"),
    ("p0 length", dict(p0=[1.0, 2.0]), ValueError, "p0 has 2 values"),
    ("p0 not finite", dict(p0=[1.0, np.nan, 0.0], check_finite=True), InvalidInputError,
     "p0 for parameter `b`"),
    ("bounds not a pair", dict(bounds=(0, 1, 2)), ValueError, "pair"),
    ("bounds shape", dict(bounds=([0, 0], [1, 1])), ValueError, "3 values"),
    ("bounds order", dict(bounds=([0, 5, -1], [10, 2, 1])), InvalidInputError,
     "not below upper bound"),
    ("p0 outside bounds", dict(bounds=([2, 0, -1], [10, 5, 1])), InvalidInputError,
     "outside its bounds"),
    ("lm with bounds", dict(bounds=(0, 10), method="lm"), ValueError,
     "does not handle bounds"),
    ("unknown method", dict(method="newton"), ValueError, "method must be"),
    ("unknown loss", dict(loss="l1"), ValueError, "unknown loss"),
    ("f_scale", dict(loss="huber", f_scale=-1.0), InvalidInputError, "f_scale"),
    ("tolerances", dict(ftol=0.0, xtol=0.0, gtol=0.0), InvalidInputError, "machine epsilon"),
    ("x_scale string", dict(x_scale="auto"), ValueError, "x_scale"),
    ("x_scale values", dict(x_scale=[1.0, -1.0, 1.0]), InvalidInputError, "x_scale"),
    ("sigma shape", dict(sigma=np.ones(5)), ValueError, "sigma has shape"),
    ("sigma zero", dict(sigma=np.zeros(30)), InvalidInputError, "sigma"),
    ("sigma covariance not PD", dict(sigma=-np.eye(30)), InvalidInputError, "sigma"),
    ("check_finite", dict(ydata=np.where(X > 2, np.nan, Y)), InvalidInputError,
     "y[15] is NaN"),
    ("check_finite x", dict(xdata=np.where(X > 2, np.inf, X)), InvalidInputError,
     "x[15] is inf"),
    ("check_finite fallback", dict(f=lambda x, a, b, c: exp_decay(x, a, b, c) + 0 * sum(
        [0 for _ in range(1)]), ydata=np.where(X > 2, np.nan, Y)), ValueError, "infs or NaNs"),
    ("nan_policy raise", dict(ydata=np.where(X > 2, np.nan, Y), nan_policy="raise"),
     InvalidInputError, "must be finite"),
    ("nan without check", dict(ydata=np.where(X > 2, np.nan, Y), check_finite=False),
     InvalidInputError, "must be finite"),
    ("nan_policy propagate", dict(nan_policy="propagate"), ValueError, "propagate"),
    ("nan_policy unknown", dict(nan_policy="drop"), ValueError, "nan_policy must be"),
    ("unknown keyword", dict(foo=1), TypeError, "foo"),
    ("jac string", dict(jac="exact"), ValueError, "jac must be"),
    ("unknown backend", dict(backend="tpu"), ValueError, "unknown backend"),
    ("unknown precision", dict(precision="f16"), ValueError, "unknown precision"),
    ("too few points", dict(xdata=X[:2], ydata=Y[:2]), InvalidInputError, "cannot determine"),
    ("empty data", dict(xdata=X[:0], ydata=Y[:0]), InvalidInputError, "no data"),
    ("model not finite at p0", dict(f="log(a*x)+b", p0=[-1.0, 0.0], xdata=X + 1),
     NumericalError, "non-finite"),
    ("not converged", dict(max_nfev=1), ConvergenceError, "Optimal parameters not found"),
    ("automatic p0 fails", dict(f="power_law", p0=None, xdata=X - 1), ModelError,
     "automatic p0"),
    ("predictor count", dict(f="a*x[0] + b*x[1]", p0=[1.0, 1.0]), ValueError,
     "predictor row"),
    ("fallback on a GPU", dict(f=lambda x, a, b, c: exp_decay(x, a, b, c) + 0 * sum(
        [0 for _ in range(1)]), backend="wgpu", fallback=True), ValueError, "CPU only"),
    ("fallback with a string", dict(fallback=True), ValueError, "needs a Python callable"),
    ("fallback value", dict(fallback="yes"), ValueError, "fallback must be"),
]


@pytest.mark.parametrize("name,kw,exc,needle", CASES, ids=[c[0] for c in CASES])
def test_error(name, kw, exc, needle):
    args = dict(f=M, xdata=X, ydata=Y, p0=P0)
    args.update(kw)
    with pytest.raises(exc) as e:
        nlsq_rs.curve_fit(**args)
    assert needle in str(e.value), str(e.value)
    if issubclass(exc, FitError):
        assert isinstance(e.value, RuntimeError)


def test_backend_without_feature_is_a_backend_error():
    # The wheel is built without the cuda feature (or runs without a GPU): a clear FitError.
    with pytest.raises((BackendError, ValueError)) as e:
        nlsq_rs.curve_fit(M, X, Y, p0=P0, backend="cuda")
    assert "cuda" in str(e.value).lower()


def test_convergence_error_carries_the_result_and_fit_does_not_raise():
    with pytest.raises(RuntimeError) as e:
        nlsq_rs.curve_fit(M, X, Y, p0=P0, max_nfev=1)
    assert e.value.result is not None and e.value.result.status == 0
    r = nlsq_rs.fit(M, X, Y, p0=P0, max_nfev=1)
    assert not r.success and r.status == 0


def test_indeterminate_covariance_warns():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        popt, pcov = nlsq_rs.curve_fit("a*x + b*x + c", X, 3 * X + 1, p0=[1.0, 1.0, 0.0])
    assert any(issubclass(v.category, OptimizeWarning) for v in w)
    assert not np.isfinite(pcov).all()


def test_fallback_errors_propagate():
    def boom(x, a):
        for _ in range(1):
            pass
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        nlsq_rs.curve_fit(boom, X, Y)

    def wrong_shape(x, a):
        for _ in range(1):
            pass
        return np.zeros(3) * a

    with pytest.raises(ValueError, match="3 values for 30 points"):
        nlsq_rs.curve_fit(wrong_shape, X, Y)

    def varargs(x, *p):
        return p[0] * x

    with pytest.raises(ValueError, match="number of fit parameters"):
        nlsq_rs.curve_fit(varargs, X, Y)


def test_hierarchy():
    assert issubclass(InvalidInputError, ValueError) and issubclass(InvalidInputError, FitError)
    assert issubclass(ModelError, ValueError) and issubclass(nlsq_rs.TranslationError, TypeError)
    assert issubclass(FitError, RuntimeError) and issubclass(ConvergenceError, FitError)
    assert issubclass(NumericalError, FitError) and issubclass(BackendError, FitError)
