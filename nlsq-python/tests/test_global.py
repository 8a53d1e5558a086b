"""Global fits (``global_fit``): three datasets sharing the rate ``k`` equal scipy's fit of the
concatenated problem (``tests/scipy/global_reference.json``, analytic Jacobian) to 1e-9, and
nlsq_rs's own fit of it; each dataset's part; errors."""

import json
import pathlib

import numpy as np
import pytest

import nlsq_rs

REF = json.loads((pathlib.Path(__file__).resolve().parents[2] / "tests" / "scipy" /
                  "global_reference.json").read_text())
X = [np.array(v) for v in REF["x"]]
Y = [np.array(v) for v in REF["y"]]
S1 = np.array(REF["sigma1"])


def rise(x, b, k):
    return b * x * np.exp(-k * x)


def datasets(**kw):
    return [
        nlsq_rs.Dataset("a*exp(-k*x)+c", X[0], Y[0], p0=[1, 1, 0], **kw),
        nlsq_rs.Dataset("a*exp(-k*x)+c", X[1], Y[1], p0=[1, 1, 0], sigma=S1, **kw),
        nlsq_rs.Dataset(rise, X[2], Y[2], p0=[1, 1], **kw),
    ]


def test_global_fit_equals_scipy_on_the_concatenated_problem():
    r = nlsq_rs.global_fit(datasets(), shared=["k"])
    assert r.param_names == ["a[0]", "k", "c[0]", "a[1]", "c[1]", "b[2]"]
    np.testing.assert_allclose(r.popt, REF["popt"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(r.pcov, REF["pcov"], rtol=1e-6, atol=0)
    assert r.success and r.n_points == 120 and r.dof == 114


def test_global_fit_equals_the_concatenated_fit():
    x = np.concatenate(X)
    ind = [np.concatenate([np.full(a.size, float(i == j)) for j, a in enumerate(X)])
           for i in range(3)]
    sigma = np.concatenate([np.ones(X[0].size), S1, np.ones(X[2].size)])
    hand = nlsq_rs.fit("x[1]*(a0*exp(-k*x[0])+c0) + x[2]*(a1*exp(-k*x[0])+c1) "
                       "+ x[3]*(b2*x[0]*exp(-k*x[0]))", np.vstack([x] + ind),
                       np.concatenate(Y), p0=REF["p0"], sigma=sigma, method="trf")
    for loss in ("linear", "soft_l1"):
        r = nlsq_rs.global_fit(datasets(), shared="k", method="trf", loss=loss)
        h = hand if loss == "linear" else nlsq_rs.fit(
            "x[1]*(a0*exp(-k*x[0])+c0) + x[2]*(a1*exp(-k*x[0])+c1) "
            "+ x[3]*(b2*x[0]*exp(-k*x[0]))", np.vstack([x] + ind), np.concatenate(Y),
            p0=REF["p0"], sigma=sigma, method="trf", loss=loss)
        np.testing.assert_allclose(r.popt, h.popt, rtol=1e-9, atol=0)
        np.testing.assert_allclose(r.pcov, h.pcov, rtol=1e-6, atol=0)
        assert abs(r.cost - h.cost) <= 1e-12 * h.cost


def test_each_dataset_reports_its_part_and_its_curve():
    ds = datasets()
    ds[2].label = "rise"
    r = nlsq_rs.global_fit(ds, shared=["k"])
    assert [p.label for p in r.datasets] == ["0", "1", "rise"]
    assert [p.n_points for p in r.datasets] == [40, 30, 50]
    assert abs(sum(p.cost for p in r.datasets) - r.cost) <= 1e-12 * r.cost
    part = r.datasets[2]
    assert part.params == [5, 1] and list(part.popt) == [r.popt[5], r.popt[1]]
    np.testing.assert_allclose(r.predict(X[2], "rise"), rise(X[2], *part.popt), rtol=1e-13)
    np.testing.assert_allclose(r.predict(X[0]), r.popt[0] * np.exp(-r.popt[1] * X[0]) +
                               r.popt[2], rtol=1e-13)
    d = r.to_dict()
    assert [p["label"] for p in d["datasets"]] == ["0", "1", "rise"]
    assert "rise" in repr(r) and "dataset" in repr(r)
    with pytest.raises(KeyError):
        r.predict(X[0], "nope")
    with pytest.raises(ValueError):
        r.bands(X[0])


def test_shared_bounds_intersect():
    x = np.linspace(0, 3, 30)
    a = nlsq_rs.Dataset("a*exp(-k*x)", x, 2 * np.exp(-0.5 * x), p0=[1, 0.3],
                        bounds=([0, 0], [10, 0.45]), label="cold")
    b = nlsq_rs.Dataset("a*exp(-k*x)", x, 3 * np.exp(-0.5 * x), p0=[1, 0.3],
                        bounds=([0, 0.1], [10, 5]), label="hot")
    r = nlsq_rs.global_fit([a, b], shared=["k"])
    assert r.param_names == ["a[cold]", "k", "a[hot]"]
    assert abs(r.popt[1] - 0.45) < 1e-12 and r.active_mask[1] == 1


def test_errors():
    x = np.linspace(0, 3, 10)
    y = np.exp(-x)
    with pytest.raises(TypeError):
        nlsq_rs.global_fit([])
    with pytest.raises(ValueError, match="p0 has 1 values"):
        nlsq_rs.Dataset("a*exp(-k*x)", x, y, p0=[1])
    with pytest.raises(nlsq_rs.TranslationError):
        nlsq_rs.Dataset(lambda x, a: a * np.sort(x), x, y)
    d = nlsq_rs.Dataset("a*exp(-k*x)", x, y)
    with pytest.raises(nlsq_rs.InvalidInputError, match="`q` is not a parameter"):
        nlsq_rs.global_fit([d], shared=["q"])
    d.label = "a"
    with pytest.raises(nlsq_rs.InvalidInputError, match="two datasets are labelled `a`"):
        nlsq_rs.global_fit([d, d])
    with pytest.raises(ValueError, match="nan_policy"):
        nlsq_rs.global_fit([d], nan_policy="propagate")
