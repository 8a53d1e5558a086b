"""nlsq_rs.curve_fit against scipy.optimize.curve_fit on the same problems.

Each problem is fitted by both, from the same p0 with the same options; scipy runs at
tolerance 1e-15 so that both reach the optimum. popt must agree to 1e-6 and pcov to 1e-4
(relative, pcov scaled by its diagonal), or nlsq must reach a lower cost.
"""

import numpy as np
import pytest
from scipy.optimize import Bounds
from scipy.optimize import curve_fit as scipy_curve_fit

import nlsq_rs
from conftest import cost

R = np.random.default_rng(7)


def exp_decay(x, a, b, c):
    return a * np.exp(-b * x) + c


def gaussian(x, amp, mu, sigma):
    return amp * np.exp(-((x - mu) ** 2) / (2 * sigma**2))


def lorentzian(x, amp, mu, gamma):
    return amp * gamma**2 / ((x - mu) ** 2 + gamma**2)


def logistic(x, amp, center, width, offset):
    return offset + amp / (1 + np.exp(-(x - center) / width))


def damped_sine(x, amp, decay, freq, phase, offset):
    return amp * np.exp(-decay * x) * np.sin(2 * np.pi * freq * x + phase) + offset


def power_law(x, amp, k):
    return amp * x**k


def mm(x, vmax, km):
    return vmax * x / (km + x)


def cubic(x, c0, c1, c2, c3):
    return c0 + c1 * x + c2 * x**2 + c3 * x**3


def exp2(x, a1, t1, a2, t2, c):
    return a1 * np.exp(-x / t1) + a2 * np.exp(-x / t2) + c


def plane_gauss(x, amp, x0, y0, s, off):
    return amp * np.exp(-((x[0] - x0) ** 2 + (x[1] - y0) ** 2) / (2 * s * s)) + off


def data(f, p, x, noise=0.02, outliers=0):
    y = f(x, *p)
    y = y + noise * R.standard_normal(y.shape)
    if outliers:
        idx = R.choice(y.size, outliers, replace=False)
        y[idx] += 2.0 * (1 + R.random(outliers))
    return y


X = np.linspace(0, 5, 120)
XP = np.linspace(0.1, 5, 100)
XY = np.vstack([g.ravel() for g in np.meshgrid(np.linspace(-2, 2, 15), np.linspace(-2, 2, 15))])
SIG = 0.02 * (1 + R.random(X.size))
# A correlated covariance (AR(1), rho = 0.5) of the observations.
IDX = np.arange(X.size)
COV = 0.02**2 * 0.5 ** np.abs(IDX[:, None] - IDX[None, :])
Y_NAN = data(exp_decay, (2.0, 1.2, 0.3), X)
Y_NAN[[3, 40, 77]] = np.nan

# name, f, x, y, p0, curve_fit keyword arguments
PROBLEMS = [
    ("exp_decay", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X), [1, 1, 0], {}),
    ("exp_decay_sigma", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X), [1, 1, 0],
     {"sigma": SIG}),
    ("exp_decay_abs_sigma", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X), [1, 1, 0],
     {"sigma": SIG, "absolute_sigma": True}),
    ("exp_decay_cov", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X), [1, 1, 0],
     {"sigma": COV}),
    ("exp_decay_cov_abs", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X), [1, 1, 0],
     {"sigma": COV, "absolute_sigma": True}),
    ("gaussian_bounds_trf", gaussian, X, data(gaussian, (3, 2.2, 0.6), X), [1, 2, 1],
     {"bounds": ([0, 0, 0.01], [10, 5, 5])}),
    ("gaussian_bounds_dogbox", gaussian, X, data(gaussian, (3, 2.2, 0.6), X), [1, 2, 1],
     {"bounds": ([0, 0, 0.01], [10, 5, 5]), "method": "dogbox"}),
    ("gaussian_Bounds_object", gaussian, X, data(gaussian, (3, 2.2, 0.6), X), [1, 2, 1],
     {"bounds": Bounds([0, 0, 0.01], [10, 5, 5])}),
    ("gaussian_active_bound", gaussian, X, data(gaussian, (3, 2.2, 0.6), X), [1, 2, 1],
     {"bounds": ([0, 0, 0.01], [2.0, 5, 5])}),
    ("lorentzian", lorentzian, X, data(lorentzian, (2, 2.5, 0.4), X), [1, 2.4, 0.5], {}),
    ("logistic", logistic, X, data(logistic, (2, 2.5, 0.4, 0.3), X), [1, 2, 1, 0], {}),
    ("damped_sine", damped_sine, X, data(damped_sine, (2, 0.3, 0.8, 0.4, 0.1), X),
     [1.5, 0.2, 0.75, 0.3, 0], {}),
    ("power_law", power_law, XP, data(power_law, (1.5, 1.7), XP), [1, 1], {}),
    ("michaelis_menten", mm, XP, data(mm, (3, 0.8), XP), [1, 1], {}),
    ("cubic", cubic, X, data(cubic, (1, -2, 0.5, 0.1), X), [0, 0, 0, 0], {}),
    ("exp2", exp2, X, data(exp2, (2, 0.3, 1, 2.0, 0.1), X, noise=0.005), [1.5, 0.2, 1, 1.5, 0],
     {}),
    ("two_predictors", plane_gauss, XY, data(plane_gauss, (2, 0.3, -0.4, 0.7, 0.1), XY),
     [1, 0, 0, 1, 0], {}),
    ("trf_unbounded", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X), [1, 1, 0],
     {"method": "trf"}),
    ("x_scale", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X), [1, 1, 0],
     {"method": "trf", "x_scale": [1.0, 0.5, 0.1]}),
    ("soft_l1", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X, outliers=8), [1, 1, 0],
     {"loss": "soft_l1", "method": "trf"}),
    ("soft_l1_fscale", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X, outliers=8),
     [1, 1, 0], {"loss": "soft_l1", "f_scale": 0.1, "method": "trf"}),
    ("huber", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X, outliers=8), [1, 1, 0],
     {"loss": "huber", "f_scale": 0.05, "method": "trf"}),
    ("cauchy", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X, outliers=8), [1, 1, 0],
     {"loss": "cauchy", "f_scale": 0.05, "method": "trf"}),
    ("arctan", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X, outliers=8), [1, 1, 0],
     {"loss": "arctan", "f_scale": 0.1, "method": "trf"}),
    ("huber_sigma_bounds", exp_decay, X, data(exp_decay, (2.5, 1.3, 0.5), X, outliers=8),
     [1, 1, 0], {"loss": "huber", "f_scale": 2.0, "sigma": SIG, "bounds": (0, 10)}),
    ("nan_omit", exp_decay, X, Y_NAN, [1, 1, 0], {"nan_policy": "omit"}),
    ("nan_omit_sigma", exp_decay, X, Y_NAN, [1, 1, 0], {"nan_policy": "omit", "sigma": SIG}),
]

TIGHT = {"ftol": 1e-15, "xtol": 1e-15, "gtol": 1e-15}


def _scipy(f, x, y, p0, kw):
    kw = dict(kw)
    kw.update(TIGHT)
    if kw.pop("nan_policy", None) == "omit":
        # scipy's documented meaning of 'omit', spelled out: older scipy versions refuse it
        # together with sigma.
        keep = np.isfinite(y) & np.isfinite(x).reshape(-1, y.size).all(axis=0)
        x, y = x[..., keep], y[keep]
        if "sigma" in kw:
            kw["sigma"] = kw["sigma"][keep]
    if kw.get("method") in (None, "lm") and "bounds" not in kw:
        kw.pop("gtol")  # leastsq's gtol is a different test; ftol/xtol suffice
        kw["gtol"] = 0.0
    return scipy_curve_fit(f, x, y, p0=p0, **kw)


def _fit_string(f, x, y, p0, kw):
    """The same fit with the model as a string, whose parameters come in order of first
    appearance: p0, bounds and x_scale are permuted into that order and the result back."""
    t = nlsq_rs.translate(f)
    names = nlsq_rs.compile_model(t.expression).param_names
    perm = [t.params.index(n) for n in names]
    kw = dict(kw)
    b = kw.get("bounds")
    if b is not None:
        lb, ub = (b.lb, b.ub) if hasattr(b, "lb") else b
        n = len(p0)
        lb = np.broadcast_to(np.asarray(lb, float), (n,))[perm]
        ub = np.broadcast_to(np.asarray(ub, float), (n,))[perm]
        kw["bounds"] = (lb, ub)
    if "x_scale" in kw:
        kw["x_scale"] = np.asarray(kw["x_scale"])[perm]
    popt, pcov = nlsq_rs.curve_fit(t.expression, x, y, p0=np.asarray(p0, float)[perm], **kw)
    inv = np.argsort(perm)
    return popt[inv], pcov[np.ix_(inv, inv)]


@pytest.mark.parametrize("name,f,x,y,p0,kw", PROBLEMS, ids=[p[0] for p in PROBLEMS])
@pytest.mark.parametrize("form", ["function", "string"])
def test_agrees_with_scipy(name, f, x, y, p0, kw, form):
    ref_popt, ref_pcov = _scipy(f, x, y, p0, kw)
    if form == "function":
        popt, pcov = nlsq_rs.curve_fit(f, x, y, p0=p0, **kw)
    else:
        popt, pcov = _fit_string(f, x, y, p0, kw)
    assert popt.shape == ref_popt.shape and pcov.shape == ref_pcov.shape
    keep = np.isfinite(y)
    sigma = kw.get("sigma")
    if sigma is not None and keep.sum() < y.size:
        sigma = sigma[keep]
    c_ours = cost(f, x[..., keep], y[keep], popt, sigma, kw.get("loss", "linear"),
                  kw.get("f_scale", 1.0))
    c_ref = cost(f, x[..., keep], y[keep], ref_popt, sigma, kw.get("loss", "linear"),
                 kw.get("f_scale", 1.0))
    if np.allclose(popt, ref_popt, rtol=1e-6, atol=1e-9 * np.max(np.abs(ref_popt))):
        d = np.sqrt(np.abs(np.diag(ref_pcov)))
        scaled = (pcov - ref_pcov) / np.outer(d, d)
        assert np.max(np.abs(scaled)) < 1e-4, (name, pcov, ref_pcov)
    else:
        assert c_ours <= c_ref * (1 + 1e-12), (name, popt, ref_popt, c_ours, c_ref)
    print("%-22s %-8s max |dp|/|p| %.1e  cost %.10g vs scipy %.10g" % (
        name, form, np.max(np.abs(popt - ref_popt) / np.maximum(np.abs(ref_popt), 1e-12)),
        c_ours, c_ref))


def test_at_least_twenty_problems():
    assert len(PROBLEMS) >= 20
    losses = {p[5].get("loss", "linear") for p in PROBLEMS}
    assert losses == {"linear", "soft_l1", "huber", "cauchy", "arctan"}


def test_default_p0_and_scipy_defaults():
    """No p0 and default tolerances: the same optimum as scipy (ones as the start)."""
    y = data(exp_decay, (2.5, 1.3, 0.5), X)
    ref, _ = scipy_curve_fit(exp_decay, X, y)
    ours, _ = nlsq_rs.curve_fit(exp_decay, X, y)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_leastsq_tolerances_with_gtol_zero():
    """scipy's 'lm' (leastsq) takes gtol=0, its default, for "test off": so does nlsq_rs,
    and with leastsq's tolerances both stop at the same optimum."""
    y = data(exp_decay, (2.5, 1.3, 0.5), X)
    tols = dict(ftol=1.49012e-8, xtol=1.49012e-8, gtol=0.0)
    ref, _ = scipy_curve_fit(exp_decay, X, y, p0=[1, 1, 0], method="lm", **tols)
    ours, _ = nlsq_rs.curve_fit(exp_decay, X, y, p0=[1, 1, 0], method="lm", **tols)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    r = nlsq_rs.fit(exp_decay, X, y, p0=[1, 1, 0], gtol=0.0)
    assert r.success and r.method == "lm"


def test_default_p0_inside_bounds_like_scipy():
    y = data(gaussian, (3, 2.2, 0.6), X)
    bounds = ([0, 1, 0.1], [6, 4, 2])
    ref, _ = scipy_curve_fit(gaussian, X, y, bounds=bounds)
    ours, _ = nlsq_rs.curve_fit(gaussian, X, y, bounds=bounds)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_full_output_like_scipy():
    y = data(exp_decay, (2.5, 1.3, 0.5), X)
    popt, pcov, info, mesg, ier = nlsq_rs.curve_fit(exp_decay, X, y, p0=[1, 1, 0], sigma=SIG,
                                                    full_output=True)
    rp, rc, rinfo, rmesg, rier = scipy_curve_fit(exp_decay, X, y, p0=[1, 1, 0], sigma=SIG,
                                                 full_output=True)
    assert ier in (1, 2, 3, 4) and isinstance(mesg, str)
    assert info["nfev"] > 0 and info["result"].success
    np.testing.assert_allclose(info["fvec"], rinfo["fvec"], rtol=1e-4, atol=1e-6)
