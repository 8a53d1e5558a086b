"""Python functions translated into the model language: every library model written as a
numpy function fits like the library model; np.where and comparisons; what is refused."""

import math

import numpy as np
import pytest

import nlsq_rs
from nlsq_rs import TranslationError

R = np.random.default_rng(3)
LN_2 = math.log(2)
X = np.linspace(0.05, 6, 150)


def gaussian(x, amp, mu, sigma):
    return amp * np.exp(-(x - mu) ** 2 / (2 * sigma**2))


def lorentzian(x, amp, mu, gamma):
    return amp * gamma**2 / ((x - mu) ** 2 + gamma**2)


def pseudo_voigt(x, amp, mu, sigma, eta):
    d2 = (x - mu) ** 2
    return amp * ((1 - eta) * np.exp(-LN_2 * d2 / sigma**2) + eta * sigma**2 / (d2 + sigma**2))


def exp_decay(x, amp, tau, offset):
    return amp * np.exp(-x / tau) + offset


def exp_growth(x, amp, tau, offset):
    return amp * math.e ** (x / tau) + offset


def exp_decay2(x, amp1, tau1, amp2, tau2, offset):
    return amp1 * np.exp(-x / tau1) + amp2 * np.exp(-x / tau2) + offset


def logistic(x, amp, center, width, offset):
    return offset + amp / (1 + np.exp(-(x - center) / width))


def power_law(x, amp, exponent):
    return amp * np.power(x, exponent)


def linear(x, slope, intercept):
    return slope * x + intercept


def damped_sine(x, amp, decay, freq, phase, offset):
    return amp * np.exp(-decay * x) * np.sin(2 * np.pi * freq * x + phase) + offset


def michaelis_menten(x, vmax, km):
    return vmax * x / (km + x)


def hill(x, vmax, k, n):
    xn = x**n
    return vmax * xn / (k**n + xn)


def polynomial3(x, c0, c1, c2, c3):
    return c0 + c1 * x + c2 * x**2 + c3 * x**3


def gaussian2d(x, amp, x0, y0, sigma_x, sigma_y, offset):
    u = (x[0] - x0) ** 2 / (2 * sigma_x**2)
    v = (x[1] - y0) ** 2 / (2 * sigma_y**2)
    return amp * np.exp(-u - v) + offset


XY = np.vstack([g.ravel() for g in np.meshgrid(np.linspace(-2, 2, 14), np.linspace(-2, 2, 14))])
CASES = [
    ("gaussian", gaussian, X, (3, 2.5, 0.6)),
    ("lorentzian", lorentzian, X, (2, 3, 0.4)),
    ("pseudo_voigt", pseudo_voigt, X, (2, 3, 0.5, 0.4)),
    ("exp_decay", exp_decay, X, (2, 1.5, 0.3)),
    ("exp_growth", exp_growth, X, (0.5, 2.0, 0.1)),
    ("exp_decay2", exp_decay2, X, (2, 0.3, 1, 2.5, 0.1)),
    ("logistic", logistic, X, (2, 3, 0.4, 0.5)),
    ("power_law", power_law, X, (1.5, 1.3)),
    ("linear", linear, X, (2, -1)),
    ("damped_sine", damped_sine, X, (2, 0.3, 0.8, 0.4, 0.1)),
    ("michaelis_menten", michaelis_menten, X, (3, 0.8)),
    ("hill", hill, X, (3, 1.5, 2.2)),
    ("polynomial3", polynomial3, X, (1, -2, 0.5, 0.1)),
    ("gaussian2d", gaussian2d, XY, (2, 0.3, -0.4, 0.7, 0.9, 0.1)),
]


@pytest.mark.parametrize("name,f,x,p", CASES, ids=[c[0] for c in CASES])
def test_library_equivalent_functions(name, f, x, p):
    y = f(x, *p)
    y = y + 0.01 * np.std(y) * R.standard_normal(y.shape)
    lib = nlsq_rs.fit(name, x, y)
    assert lib.p0_source == "library estimate"
    fun = nlsq_rs.fit(f, x, y, p0=lib.p0)
    assert fun.param_names == lib.param_names and fun.expression != lib.expression
    assert fun.success and lib.success
    np.testing.assert_allclose(fun.popt, lib.popt, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(fun.pcov, lib.pcov, rtol=1e-5, atol=1e-12)
    # The translated model evaluates like the Python function.
    np.testing.assert_allclose(fun.predict(x), f(x, *fun.popt), rtol=1e-12, atol=1e-12)


def broken_line(x, a, b, k):
    return np.where(x < k, a * x, a * k + b * (x - k))


def window(x, h, lo, hi):
    return np.where((x > lo) & (x < hi), h, 0.0)


def clipped(x, a, b):
    y = a * x + b
    return y if y < 2 else 2 + 0.1 * (y - 2)


def chained(x, a, c):
    return np.where(1 < x < 3, a, np.where(np.logical_or(x <= 1, not x < 5), c, 0.5 * (a + c)))


@pytest.mark.parametrize("f,p", [(broken_line, (1.0, 3.0, 2.0)), (clipped, (1.5, -1.0)),
                                 (chained, (2.0, 0.5))])
def test_where_and_comparisons(f, p):
    x = np.linspace(0, 6, 301)
    vec = np.vectorize(lambda xi: f(xi, *p)) if f in (clipped, chained) else None
    y = vec(x) if vec else f(x, *p)
    model = nlsq_rs.compile_model(f)
    np.testing.assert_allclose(model.predict(x.reshape(1, -1), list(p)), y, rtol=1e-14)
    if f is broken_line:
        r = nlsq_rs.fit(f, x, y + 0.01 * R.standard_normal(x.size), p0=[1.2, 2.5, 2.3])
        np.testing.assert_allclose(r.popt, p, rtol=2e-2)


def test_window_and_bitwise_conditions():
    m = nlsq_rs.compile_model(window)
    x = np.linspace(0, 4, 9)
    np.testing.assert_array_equal(m.predict(x.reshape(1, -1), [2.0, 1.0, 3.0]), window(x, 2, 1, 3))


K = 0.5


def with_global(x, a):
    """A numeric global and a closure constant are inlined."""
    return a * np.exp(-K * x)


def test_globals_closures_math_and_expression_text():
    scale = 3.0
    g = lambda x, a: scale * a * math.sin(x) + math.pi  # noqa: E731
    t = nlsq_rs.translate(g)
    assert t.params == ["a"] and "3.0" in t.expression and "sin(x)" in t.expression
    t = nlsq_rs.translate(with_global)
    assert "0.5" in t.expression and t.name == "with_global"
    t = nlsq_rs.translate(lambda t_, a, b: a * t_ ** 2 + b)
    assert t.params == ["a", "b"] and "powi(x, 2)" in t.expression


def test_two_lambdas_on_one_line():
    f, g = (lambda x, a: a * x), (lambda x, a: a * x * x)
    assert nlsq_rs.translate(f).expression != nlsq_rs.translate(g).expression


def test_assignment_forms():
    def f(x, a, b):
        u, v = a * x, b
        u += v
        w: float = u * 2
        return w

    m = nlsq_rs.compile_model(f)
    np.testing.assert_allclose(m.predict(np.array([[1.0, 2.0]]), [2.0, 1.0]), [6.0, 10.0])


def loop(x, a):
    for _ in range(2):
        x = x + a
    return x


def early(x, a):
    if a > 0:
        return a * x
    return x


def unknown_call(x, a):
    return a * np.sinc(x)


def modulo(x, a):
    return a * (x % 2)


def bad_index(x, a):
    return a * x[a]


def string_const(x, a):
    return a * "x"


def kwcall(x, a):
    return np.exp(a * x, out=None)


def nonfinite(x, a):
    return a * np.inf


def no_params(x):
    return x


def reserved(x, type_, fn):
    return type_ * x + fn


def comparison_value(x, a):
    return a * (x > 1)


def unknown_name(x, a):
    return a * undefined_thing  # noqa: F821


def varargs(x, *p):
    return p[0] * x


@pytest.mark.parametrize("f,needle", [
    (loop, "a for loop"),
    (early, "an if statement"),
    (unknown_call, "sinc"),
    (modulo, "operator"),
    (bad_index, "index"),
    (string_const, "constant"),
    (kwcall, "keyword arguments"),
    (nonfinite, "np.inf"),
    (no_params, "at least one parameter"),
    (reserved, "reserved"),
    (comparison_value, "comparison"),
    (unknown_name, "undefined_thing"),
    (varargs, "*args"),
    (np.exp, "without Python source"),
])
def test_untranslatable_raise_type_error(f, needle):
    with pytest.raises(TypeError) as e:
        nlsq_rs.compile_model(f)
    assert isinstance(e.value, TranslationError) and isinstance(e.value, nlsq_rs.FitError)
    assert needle in str(e.value), str(e.value)
    # fallback=False: curve_fit refuses with the same error instead of falling back.
    if f not in (no_params, varargs, np.exp, reserved):
        with pytest.raises(TranslationError):
            nlsq_rs.curve_fit(f, X, X, p0=[1.0], fallback=False)


def test_lambda_spanning_lines_inside_a_call():
    x = np.linspace(0, 3, 40)
    y = 2 * np.exp(-0.7 * x)
    r = nlsq_rs.fit(
        lambda x, a, b: a * np.exp(
            -b * x),
        x, y, p0=[1.0, 1.0])
    assert not r.fallback and r.model.startswith("lambda x, a, b:")
    np.testing.assert_allclose(r.popt, [2, 0.7], rtol=1e-10)
