"""batch_fit with Python callables that do not translate: the fallback in the batch engine."""

import threading

import numpy as np
import pytest
import scipy.special

import nlsq_rs

R = np.random.default_rng(7)
X = np.linspace(0, 4, 40)
TIGHT = dict(tol=1e-14, xtol=1e-12, max_iterations=200)


def erf_decay(x, a, b, c):
    """scipy.special: does not translate."""
    return a * scipy.special.erfc(b * x) + c


ERF_DECAY = "a*erfc(b*x) + c"


def branchy(x, a, b):
    """A Python `if`: does not translate."""
    if x.size > 10000:
        raise ValueError("not for long fits")
    return a * np.exp(-b * x)


def make(n_fits, n=40, model=lambda x, a, b: a * np.exp(-b * x)):
    a = 1 + R.random(n_fits)
    b = 0.5 + R.random(n_fits)
    y = np.stack([model(X[:n], a[i], b[i]) for i in range(n_fits)])
    return y + 0.01 * R.standard_normal(y.shape)


def test_the_callables_do_not_translate():
    for f in (erf_decay, branchy):
        with pytest.raises(nlsq_rs.TranslationError):
            nlsq_rs.compile_model(f)


def test_equal_lengths_match_the_translated_model():
    a, b, c = 2 + R.random(64), 0.3 + R.random(64), 0.1 * R.random(64)
    y = a[:, None] * scipy.special.erfc(b[:, None] * X) + c[:, None]
    y += 0.002 * R.standard_normal(y.shape)
    p0 = [1.5, 0.6, 0.0]
    r = nlsq_rs.batch_fit(erf_decay, y, x=X, p0=p0, jac="3-point", **TIGHT)
    ref = nlsq_rs.batch_fit(ERF_DECAY, y, x=X, p0=p0, **TIGHT)
    assert r.fallback and "cannot translate" in r.fallback_reason
    assert not ref.fallback and ref.fallback_reason is None
    assert r.backend == "cpu" and "Python callable `erf_decay`" in r.reason, r.reason
    assert "Python callable" in repr(r)
    assert r.param_names == ["a", "b", "c"]
    assert r.converged.all() and ref.converged.all(), (r.state_counts(), ref.state_counts())
    np.testing.assert_allclose(r.params, ref.params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r.chi2, ref.chi2, rtol=1e-6)
    np.testing.assert_allclose(r.perr, ref.perr, rtol=1e-4)


def test_varying_lengths_weights_bounds_fixed_and_per_fit_p0():
    lengths = [40, 25, 0, 10, 3, 33]
    y2 = make(len(lengths))
    flat = np.concatenate([y2[i, :n] for i, n in enumerate(lengths)])
    w = 1 + R.random(flat.size)
    p0 = np.column_stack([np.full(6, 1.2), np.linspace(0.6, 1.4, 6)])
    kw = dict(lengths=lengths, p0=p0, weights=w, bounds=([0, 0], [1.6, 10]), **TIGHT)
    # x None: point i of each fit at x = i, as for compiled models.
    r = nlsq_rs.batch_fit(branchy, flat, **kw)
    ref = nlsq_rs.batch_fit("a*exp(-b*x)", flat, **kw)
    assert r.fallback
    np.testing.assert_array_equal(r.states, ref.states)
    assert r.states[2] == 4 and r.states[4] == 0  # 0 points: invalid input; 3 points: fits
    ok = ref.converged
    np.testing.assert_allclose(r.params[ok], ref.params[ok], rtol=1e-6)
    fixed = nlsq_rs.batch_fit(branchy, flat, fixed=[False, True], **kw)
    np.testing.assert_array_equal(fixed.params[fixed.converged, 1], p0[fixed.converged, 1])


def test_per_point_x_shared_x_and_two_predictors():
    lengths = [40, 17, 29]
    y2 = make(3)
    flat = np.concatenate([y2[i, :n] for i, n in enumerate(lengths)])
    xs = np.concatenate([X[:n] for n in lengths])
    seen = []

    def spy(x, a, b):
        seen.append(x.shape)
        return branchy(x, a, b)

    r = nlsq_rs.batch_fit(spy, flat, x=xs, lengths=lengths, p0=[1.0, 1.0], **TIGHT)
    assert set(seen) == {(40,), (17,), (29,)}
    ref = nlsq_rs.batch_fit("a*exp(-b*x)", y2, x=X, p0=[1.0, 1.0], **TIGHT)
    np.testing.assert_allclose(r.params[0], ref.params[0], rtol=1e-6)
    # Per-point x shaped like a 2-D y, and the same x shared: the same fits.
    pp = nlsq_rs.batch_fit(branchy, y2, x=np.broadcast_to(X, y2.shape), p0=[1.0, 1.0], **TIGHT)
    sh = nlsq_rs.batch_fit(branchy, y2, x=X, p0=[1.0, 1.0], **TIGHT)
    np.testing.assert_allclose(pp.params, ref.params, rtol=1e-6)
    np.testing.assert_allclose(sh.params, ref.params, rtol=1e-6)

    # Two predictors, shared (k, n), and per point y.shape + (k,); f sees (k, m).
    g = np.meshgrid(np.linspace(-1, 1, 8), np.linspace(-1, 1, 8))
    xy = np.vstack([v.ravel() for v in g])
    truth = [(1, 2), (3, -1), (0.5, 0.25)]
    yy = np.stack([a * xy[0] + b * xy[1] ** 3 for a, b in truth])

    def plane(x, a, b):
        assert x.shape == (2, 64)
        return a * x[0] + b * scipy.special.cbrt(x[1] ** 9)

    r2 = nlsq_rs.batch_fit(plane, yy, x=xy, p0=[0.5, 0.5], **TIGHT)
    np.testing.assert_allclose(r2.params, truth, rtol=1e-6)
    per_point = np.broadcast_to(xy.T, (3, 64, 2))
    r3 = nlsq_rs.batch_fit(plane, yy, x=per_point, p0=[0.5, 0.5], **TIGHT)
    np.testing.assert_allclose(r3.params, r2.params, rtol=1e-10)


def test_user_jacobian_poisson_and_non_finite_x():
    y2 = np.round(100 * np.clip(make(4), 0, None))

    def jac(x, a, b):
        e = np.exp(-b * x)
        return np.column_stack([e, -a * x * e])

    kw = dict(x=X, p0=[100.0, 1.0], estimator="poisson", max_iterations=100)
    r = nlsq_rs.batch_fit(branchy, y2, jac=jac, **kw)
    ref = nlsq_rs.batch_fit("a*exp(-b*x)", y2, **kw)
    assert r.converged.all()
    np.testing.assert_allclose(r.params, ref.params, rtol=1e-8)
    xs = np.broadcast_to(X, y2.shape).copy()
    xs[1, 5] = np.nan
    calls = []

    def counted(x, a, b):
        calls.append(x.copy())
        return branchy(x, a, b)

    r = nlsq_rs.batch_fit(counted, y2, x=xs, p0=[100.0, 1.0], max_iterations=100)
    assert r.states[1] == 3 and r.state_counts()["non_finite"] == 1
    assert all(np.isfinite(c).all() for c in calls)  # fit 1 is never called


def test_one_parameter_fallback_single_and_batch():
    # A one-parameter callable: its Jacobian is (n, 1), still 2-D.
    y = 2.5 * scipy.special.erfc(X)
    popt, _ = nlsq_rs.curve_fit(lambda x, a: a * scipy.special.erfc(x), X, y, p0=[1.0])
    np.testing.assert_allclose(popt, [2.5], rtol=1e-8)
    r = nlsq_rs.batch_fit(lambda x, a: a * scipy.special.erfc(x), np.stack([y, 2 * y]), x=X,
                          p0=[1.0], **TIGHT)
    np.testing.assert_allclose(r.params[:, 0], [2.5, 5.0], rtol=1e-8)


def test_many_fits_on_several_threads_match_one_by_one():
    # Enough fits for rayon to spread them over its threads: the per-fit cache and the calls
    # (the GIL serializes them) must give each fit its own values.
    y = make(700)
    threads = set()

    def f(x, a, b):
        threads.add(threading.get_ident())
        return branchy(x, a, b)

    r = nlsq_rs.batch_fit(f, y, x=X, p0=[1.0, 1.0], **TIGHT)
    ref = nlsq_rs.batch_fit("a*exp(-b*x)", y, x=X, p0=[1.0, 1.0], **TIGHT)
    np.testing.assert_array_equal(r.states, ref.states)
    np.testing.assert_allclose(r.params, ref.params, rtol=1e-6)
    assert threading.get_ident() not in threads  # called from the engine's threads


class Boom(Exception):
    pass


def test_an_exception_in_the_callable_propagates():
    y = make(300)
    n = [0]

    def fails_later(x, a, b):
        n[0] += 1
        if n[0] == 50:
            raise Boom("no more")
        return branchy(x, a, b)

    with pytest.raises(Boom, match="no more"):
        nlsq_rs.batch_fit(fails_later, y, x=X, p0=[1.0, 1.0], **TIGHT)
    # The batch stops calling Python after the first exception.
    assert n[0] < 60

    def bad_jac(x, a, b):
        raise ZeroDivisionError("jac")

    with pytest.raises(ZeroDivisionError, match="jac"):
        nlsq_rs.batch_fit(branchy, y, x=X, p0=[1.0, 1.0], jac=bad_jac)


@pytest.mark.parametrize("f,jac,needle", [
    (lambda x, a, b: np.ones(3) * a * b, None, "returned 3 values for 40 points"),
    (lambda x, a, b: branchy(x, a, b)[:, None] * np.ones(2), None, "returned 80 values"),
    (branchy, lambda x, a, b: np.ones((len(x), 3)), "jac returned shape"),
    (lambda x, a, b: "text", None, None),
])
def test_wrong_output_shapes(f, jac, needle):
    with pytest.raises((ValueError, TypeError)) as e:
        nlsq_rs.batch_fit(f, make(3), x=X, p0=[1.0, 1.0], jac=jac, fallback=True)
    if needle:
        assert needle in str(e.value), str(e.value)


@pytest.mark.parametrize("backend", ["cuda", "wgpu"])
def test_device_backends_refuse_the_fallback(backend):
    with pytest.raises(ValueError, match="CPU only"):
        nlsq_rs.batch_fit(branchy, make(3), x=X, p0=[1.0, 1.0], backend=backend)
    r = nlsq_rs.batch_fit(branchy, make(3), x=X, p0=[1.0, 1.0], backend="auto")
    assert r.backend == "cpu" and r.fallback


def test_fallback_options():
    y = make(2)
    with pytest.raises(ValueError, match="needs a Python callable"):
        nlsq_rs.batch_fit("a*exp(-b*x)", y, p0=[1.0, 1.0], fallback=True)
    with pytest.raises(ValueError, match="jac must be"):
        nlsq_rs.batch_fit(branchy, y, p0=[1.0, 1.0], jac="4-point")
    with pytest.raises(ValueError, match="x has 10 points, the longest fit 40"):
        nlsq_rs.batch_fit(branchy, y, x=X[:10], p0=[1.0, 1.0])
    # A translatable function with fallback=True: the same fits through Python calls.
    r = nlsq_rs.batch_fit(lambda x, a, b: a * np.exp(-b * x), y, x=X, p0=[1.0, 1.0],
                          fallback=True, **TIGHT)
    ref = nlsq_rs.batch_fit("a*exp(-b*x)", y, x=X, p0=[1.0, 1.0], **TIGHT)
    assert r.fallback and r.fallback_reason == "fallback=True"
    np.testing.assert_allclose(r.params, ref.params, rtol=1e-6)
    # f(x, *p): the parameter names come from p0.
    r = nlsq_rs.batch_fit(lambda x, *p: branchy(x, *p), y, x=X, p0=[1.0, 1.0], **TIGHT)
    assert r.param_names == ["p0", "p1"] and r.converged.all()
