"""batch_fit: numpy in, numpy out, against single fits."""

import numpy as np
import pytest

import nlsq_rs

R = np.random.default_rng(11)
X = np.linspace(0, 4, 40)


def exp_decay(x, a, b):
    return a * np.exp(-b * x)


def make(n_fits=200):
    a = 1 + R.random(n_fits)
    b = 0.5 + R.random(n_fits)
    y = a[:, None] * np.exp(-b[:, None] * X[None, :])
    return y + 0.01 * R.standard_normal(y.shape), np.column_stack([a, b])


def test_equal_lengths_against_single_fits():
    y, truth = make()
    r = nlsq_rs.batch_fit(exp_decay, y, x=X, p0=[1.0, 1.0], tol=1e-12, max_iterations=200)
    assert r.params.shape == (200, 2) and r.perr.shape == (200, 2)
    assert r.covariance.shape == (200, 2, 2)
    assert r.states.dtype == np.uint8 and r.converged.all(), r.state_counts()
    assert r.chi2.shape == (200,) and r.iterations.shape == (200,)
    assert r.param_names == ["a", "b"] and r.backend == "cpu"
    for i in range(0, 200, 37):
        popt, pcov = nlsq_rs.curve_fit(exp_decay, X, y[i], p0=[1.0, 1.0])
        np.testing.assert_allclose(r.params[i], popt, rtol=1e-7)
        np.testing.assert_allclose(r.covariance[i], pcov, rtol=1e-4)
    np.testing.assert_allclose(r.params, truth, rtol=0.05)
    assert "200 fits" in repr(r)


def test_variable_lengths_per_point_x_weights_bounds_fixed():
    y2, _ = make(3)
    lengths = [40, 25, 10]
    flat = np.concatenate([y2[i, :n] for i, n in enumerate(lengths)])
    xs = np.concatenate([X[:n] for n in lengths])
    r = nlsq_rs.batch_fit("a*exp(-b*x)", flat, x=None, p0=[1.0, 1.0], lengths=lengths,
                          max_iterations=100, tol=1e-12)
    assert r.params.shape == (3, 2)
    r2 = nlsq_rs.batch_fit("a*exp(-b*x)", flat.reshape(-1), lengths=lengths, p0=[1.0, 1.0],
                           weights=np.full(flat.shape, 4.0), max_iterations=100, tol=1e-12)
    np.testing.assert_allclose(r2.params, r.params, rtol=1e-8)
    np.testing.assert_allclose(r2.chi2, 4 * r.chi2, rtol=1e-8)
    # Per-point x of the same shape as y (here the flat data) and a fixed parameter.
    r3 = nlsq_rs.batch_fit("a*exp(-b*x)", y2, x=np.broadcast_to(X, y2.shape), p0=[1.0, 0.9],
                           fixed=[False, True], max_iterations=100)
    np.testing.assert_array_equal(r3.params[:, 1], 0.9)
    r4 = nlsq_rs.batch_fit("a*exp(-b*x)", y2, x=X, p0=[1.0, 1.0],
                           bounds=([0, 0], [1.2, 10]), max_iterations=100)
    assert (r4.params[:, 0] <= 1.2).all()
    assert xs.size == flat.size


def test_library_model_estimates_p0_per_fit_and_sigma():
    x = np.linspace(-3, 3, 60)
    mus = np.array([-1.0, 0.0, 1.2])
    y = 2 * np.exp(-((x[None, :] - mus[:, None]) ** 2) / 0.5)
    r = nlsq_rs.batch_fit("gaussian", y, x=x, tol=1e-12, max_iterations=100,
                          sigma=np.full(y.shape, 0.1))
    assert r.converged.all()
    np.testing.assert_allclose(r.params[:, 1], mus, atol=1e-6)


def test_poisson_estimator_and_states():
    y, _ = make(4)
    counts = np.round(100 * np.clip(y, 0, None))
    r = nlsq_rs.batch_fit("a*exp(-b*x)", counts, x=X, p0=[100.0, 1.0], estimator="poisson",
                          max_iterations=100)
    assert r.converged.all()
    bad = counts.copy()
    bad[2, 3] = np.nan
    r = nlsq_rs.batch_fit("a*exp(-b*x)", bad, x=X, p0=[100.0, 1.0], max_iterations=100)
    assert r.states[2] == 3 and r.state_counts()["non_finite"] == 1


def test_two_predictors_shared_x():
    g = np.meshgrid(np.linspace(-1, 1, 8), np.linspace(-1, 1, 8))
    xy = np.vstack([v.ravel() for v in g])
    y = np.stack([a * xy[0] + b * xy[1] for a, b in [(1, 2), (3, -1)]])
    r = nlsq_rs.batch_fit("a*x[0] + b*x[1]", y, x=xy, p0=[0.5, 0.5], tol=1e-14,
                          max_iterations=100)
    np.testing.assert_allclose(r.params, [[1, 2], [3, -1]], rtol=1e-8)


@pytest.mark.parametrize("kwargs,exc,needle", [
    (dict(y=np.zeros(10)), ValueError, "lengths"),
    (dict(y=np.zeros((2, 5)), lengths=[5, 5]), ValueError, "lengths is for 1-D"),
    (dict(y=np.zeros(10), lengths=[4, 4]), ValueError, "add up"),
    (dict(y=np.zeros((2, 5, 1))), ValueError, "3-D"),
    (dict(y=np.zeros((2, 5)), p0=[1, 2, 3]), ValueError, "p0 must have shape"),
    (dict(y=np.zeros((2, 5)), x=np.zeros((3, 3))), ValueError, "x has shape"),
    (dict(y=np.zeros((2, 5)), sigma=np.ones(3)), ValueError, "sigma"),
    (dict(y=np.zeros((2, 5)), estimator="l1"), ValueError, "estimator"),
    (dict(y=np.zeros((2, 5)), backend="tpu"), ValueError, "backend"),
    (dict(y=np.zeros((2, 5)), sigma=np.ones((2, 5)), weights=np.ones((2, 5))), ValueError,
     "not both"),
])
def test_batch_errors(kwargs, exc, needle):
    kwargs.setdefault("p0", [1.0, 1.0])
    y = kwargs.pop("y")
    with pytest.raises(exc) as e:
        nlsq_rs.batch_fit("a*exp(-b*x)", y, **kwargs)
    assert needle in str(e.value), str(e.value)


def test_batch_needs_p0_for_expressions_and_refuses_the_fallback_on_request():
    with pytest.raises(ValueError, match="p0 is needed"):
        nlsq_rs.batch_fit("a*exp(-b*x)", np.zeros((2, 5)))

    def loopy(x, a):
        for _ in range(1):
            pass
        return a * x

    with pytest.raises(nlsq_rs.TranslationError):
        nlsq_rs.batch_fit(loopy, np.zeros((2, 5)), p0=[1.0], fallback=False)
    with pytest.raises(ValueError, match="p0 is needed"):
        nlsq_rs.batch_fit(loopy, np.zeros((2, 5)))
