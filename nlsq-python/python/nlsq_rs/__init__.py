"""nlsq_rs: scipy-compatible curve fitting on the nlsq Rust engine.

``nlsq_rs.curve_fit`` is a drop-in for ``scipy.optimize.curve_fit``; the model is a string in
the nlsq model language (``"a*exp(-b*x)+c"``), a model-library name or sum
(``"gaussian:g1 + gaussian:g2 + linear"``), or a Python function written with numpy/math
operations, which is translated (not called) into the model language and compiled with exact
derivatives. ``nlsq_rs.fit`` returns a :class:`FitResult` with statistics and a summary;
``nlsq_rs.batch_fit`` runs many small fits at once; ``nlsq_rs.global_fit`` fits several datasets
together with shared parameters.

The import name is ``nlsq_rs`` (distribution ``nlsq-rs``) so that it installs beside the JAX
library ``nlsq`` from PyPI.
"""

import collections
import json
import math
import warnings
import weakref

import numpy as np

from . import _fallback, _native
from ._errors import (
    BackendError,
    ConvergenceError,
    FitError,
    InvalidInputError,
    ModelError,
    NumericalError,
    OptimizeWarning,
    TranslationError,
)
from ._translate import Translation, translate

__all__ = [
    "curve_fit",
    "fit",
    "batch_fit",
    "global_fit",
    "Dataset",
    "DatasetPart",
    "GlobalFitResult",
    "compile_model",
    "translate",
    "library_names",
    "FitResult",
    "Bands",
    "ProfileInterval",
    "SearchReport",
    "Minimum",
    "BatchResult",
    "Translation",
    "FitError",
    "InvalidInputError",
    "ModelError",
    "TranslationError",
    "ConvergenceError",
    "NumericalError",
    "BackendError",
    "OptimizeWarning",
]
__version__ = _native.VERSION

_FUNCTION_MODELS = weakref.WeakKeyDictionary()
_FIT_KWARGS = {
    "loss", "f_scale", "ftol", "xtol", "gtol", "max_nfev", "maxfev", "x_scale", "backend",
    "precision", "fixed", "ties", "multistart", "seed",
}
# scipy options that choose how scipy approximates derivatives or prints: nlsq's derivatives
# are exact and it prints nothing, so they are accepted and have no effect.
_IGNORED_KWARGS = {"diff_step", "tr_solver", "tr_options", "verbose", "epsfcn", "factor", "diag",
                   "col_deriv", "lsmr_maxiter"}


def library_names():
    """The names of the model library (``gaussian``, ``exp_decay``, ``linear``, ...)."""
    return list(_native.library_names())


def compile_model(f):
    """The compiled model for ``f``: a model string, a library name or sum, or a translatable
    Python function (see :mod:`nlsq_rs._translate`). Compiled models are cached (by text,
    and by function object for functions: numeric globals a function reads are taken at its
    first use).

    Raises :class:`ModelError` (a ``ValueError``) for a text the engine rejects and
    :class:`TranslationError` (a ``TypeError``) for a function it cannot translate.
    """
    if isinstance(f, _native.Model):
        return f
    if isinstance(f, str):
        return _native.Model(f)
    if not callable(f):
        raise TypeError("f must be a model string, a library name or a Python function, not %r"
                        % type(f).__name__)
    try:
        cached = _FUNCTION_MODELS.get(f)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    if getattr(f, "__code__", None) is None:
        raise TranslationError(
            "%r is a callable without Python source (a ufunc, a partial, an object): only "
            "functions written with numpy/math operations translate" % (f,))
    t = translate(f)
    model = _native.Model(t.expression, t.params, t.name)
    try:
        _FUNCTION_MODELS[f] = model
    except TypeError:
        pass
    return model


def _as_x(xdata, n):
    """xdata as a C-contiguous (k, n) float64 array."""
    x = np.asarray(xdata, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("xdata must be an array of M points (or (k, M) for k predictors)")
    if x.ndim == 1:
        x = x.reshape(1, -1)
    elif x.ndim > 2:
        raise ValueError("xdata must be 1-D (M,) or 2-D (k, M), not %d-D" % x.ndim)
    if x.shape[1] != n:
        raise ValueError("xdata has %d points, ydata %d" % (x.shape[1], n))
    return np.ascontiguousarray(x)


_SCALARS = (int, float, np.integer, np.floating)


def _lower_upper(bounds):
    """The (lower, upper) of a pair or of an object with ``lb`` and ``ub`` (scipy's
    ``Bounds``)."""
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        return bounds.lb, bounds.ub
    try:
        lb, ub = bounds
    except (TypeError, ValueError):
        raise ValueError("bounds must be a (lower, upper) pair or an object with lb and ub "
                         "(scipy.optimize.Bounds)") from None
    return lb, ub


def _bounds(bounds, n):
    """scipy's bounds as (lower, upper) arrays of n values, or (None, None) when unbounded."""
    if bounds is None:
        return None, None
    if type(bounds) is tuple and len(bounds) == 2 and isinstance(bounds[0], _SCALARS) and \
            isinstance(bounds[1], _SCALARS):
        # The common case (scipy's default (-inf, inf), or one pair for every parameter).
        lo, hi = float(bounds[0]), float(bounds[1])
        if lo == -math.inf and hi == math.inf:
            return None, None
        return np.full(n, lo), np.full(n, hi)
    lb, ub = _lower_upper(bounds)
    try:
        lb = np.broadcast_to(np.asarray(lb, dtype=np.float64), (n,)).copy()
        ub = np.broadcast_to(np.asarray(ub, dtype=np.float64), (n,)).copy()
    except ValueError:
        raise ValueError("bounds must be scalars or arrays of %d values (one per parameter)" % n) \
            from None
    if np.all(np.isneginf(lb)) and np.all(np.isposinf(ub)):
        return None, None
    return lb, ub


def _feasible(lb, ub, n):
    """scipy's starting point without p0: 1, or inside the bounds."""
    p = np.ones(n)
    if lb is None:
        return p
    for j in range(n):
        lo, hi = lb[j], ub[j]
        if np.isfinite(lo) and np.isfinite(hi):
            p[j] = 0.5 * (lo + hi)
        elif np.isfinite(lo):
            p[j] = lo + 1
        elif np.isfinite(hi):
            p[j] = hi - 1
    return p


def _model(f, fallback):
    """The compiled model of ``f``, or ``(None, reason)`` when ``f`` goes to the fallback."""
    if fallback not in (None, True, False):
        raise ValueError("fallback must be None (when translation fails), True or False")
    if isinstance(f, (str, _native.Model)) or not callable(f):
        if fallback is True:
            raise ValueError("fallback=True needs a Python callable")
        return compile_model(f), None
    if fallback is True:
        return None, "fallback=True"
    try:
        return compile_model(f), None
    except TranslationError as e:
        if fallback is False:
            raise
        return None, str(e)


def _prepare(f, xdata, ydata, p0, sigma, absolute_sigma, check_finite, bounds, method, jac,
             nan_policy, kwargs):
    """scipy's argument conventions to the native fit's arguments."""
    fallback = kwargs.pop("fallback", None)
    unknown = set(kwargs) - _FIT_KWARGS - _IGNORED_KWARGS
    if unknown:
        raise TypeError("unexpected keyword argument(s): %s" % ", ".join(sorted(unknown)))
    if jac is not None and not callable(jac) and jac not in ("2-point", "3-point", "cs"):
        raise ValueError("jac must be None, a callable or '2-point', '3-point', 'cs'")
    if nan_policy not in (None, "raise", "omit", "propagate"):
        raise ValueError("nan_policy must be None, 'raise', 'omit' or 'propagate'")
    if nan_policy == "propagate":
        raise ValueError("nan_policy='propagate' is not supported: nlsq_rs never fits NaN values; "
                         "use 'omit' to drop them or 'raise' to refuse them")
    if method not in (None, "lm", "trf", "dogbox"):
        raise ValueError("method must be None, 'lm', 'trf' or 'dogbox', not %r" % (method,))
    model, why = _model(f, fallback)
    y = np.asarray(ydata, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError("ydata must be a 1-D array of M values, not %d-D" % y.ndim)
    y = np.ascontiguousarray(y)
    n = y.shape[0]
    if model is None:
        names = _fallback.param_names(f, p0)
        try:
            xcheck = np.asarray(xdata, dtype=np.float64)
        except (TypeError, ValueError):
            xcheck = None  # scipy lets xdata be any object the function understands
        if xcheck is not None and xcheck.ndim >= 1 and xcheck.shape[-1] != n:
            raise ValueError("xdata has %d points, ydata %d" % (xcheck.shape[-1], n))
        funcs = _fallback.Functions(f, xdata, n, len(names), jac)
        model = _Fallback(_native.Callable(funcs.evaluate, funcs.jacobian, funcs.name, names, n),
                          funcs, why)
        x = np.arange(n, dtype=np.float64).reshape(1, -1)
    else:
        x = xcheck = _as_x(xdata, n)
    if check_finite is None:
        check_finite = nan_policy is None
    # Compiled models: the engine checks x and y in its one pass over the inputs (a NaN or an
    # infinity is an InvalidInputError, a ValueError, naming the first one) unless
    # nan_policy='omit'. The fallback's engine sees point indices, so x is checked here.
    finite_x = True
    if isinstance(model, _Fallback) and xcheck is not None and xcheck.ndim > 0:
        finite_x = bool(np.isfinite(xcheck).all())
        if check_finite and not (finite_x and np.isfinite(y).all()):
            raise ValueError("array must not contain infs or NaNs (check_finite=True); use "
                             "nan_policy='omit' to drop such points")
    if isinstance(model, _Fallback) and not finite_x and nan_policy == "omit":
        # The engine sees point indices: points whose x is not finite are dropped through y.
        y = y.copy()
        y[~np.isfinite(xcheck).reshape(-1, n).all(axis=0)] = np.nan
    npar = len(model.param_names)
    lb, ub = _bounds(bounds, npar)
    p0_source = "given"
    if p0 is None:
        if getattr(model, "is_library", False):
            p0 = np.asarray(model.estimate_p0(x, y))
            p0_source = "library estimate"
            if lb is not None:
                p0 = np.clip(p0, lb, ub)
        else:
            p0 = _feasible(lb, ub, npar)
            p0_source = "default"
    p0 = np.asarray(p0, dtype=np.float64)
    if p0.ndim == 0:
        p0 = p0.reshape(1)
    if p0.ndim != 1 or p0.shape[0] != npar:
        raise ValueError("p0 has %d values, the model has %d parameters (%s)"
                         % (p0.size, npar, ", ".join(model.param_names)))
    s1 = s2 = None
    if sigma is not None:
        s = np.asarray(sigma, dtype=np.float64)
        if s.shape == (y.shape[0],):
            s1 = np.ascontiguousarray(s)
        elif s.shape == (y.shape[0], y.shape[0]):
            s2 = np.ascontiguousarray(s)
        else:
            raise ValueError("sigma has shape %s: it must be (M,) or (M, M) with M = %d"
                             % (s.shape, y.shape[0]))
    # Only what differs from the native defaults crosses (each keyword costs a lookup there,
    # and the common call has none).
    native = {}
    if lb is not None:
        native["lower"], native["upper"] = lb.tolist(), ub.tolist()
    if s1 is not None:
        native["sigma"] = s1
    if s2 is not None:
        native["sigma_cov"] = s2
    if absolute_sigma:
        native["absolute_sigma"] = True
    if method is not None:
        native["method"] = method
    if nan_policy == "omit":
        native["nan_policy"] = "omit"
    if kwargs:
        _keyword_options(kwargs, method, lb is None, npar, native)
        native.update(_named(model, kwargs.get("fixed"), kwargs.get("ties"), p0))
    return model, x, y, p0, p0_source, native


def _keyword_options(kwargs, method, unbounded, npar, native):
    """curve_fit's keyword options (loss, f_scale, tolerances, max_nfev, x_scale, backend,
    precision) into ``native``, the native fit's keywords, where they are given."""
    for key in ("loss", "backend", "precision"):
        if key in kwargs:
            native[key] = kwargs[key]
    if kwargs.get("multistart") is not None:
        native["multistart"] = int(kwargs["multistart"])
        native["seed"] = int(kwargs.get("seed") or 0)
    elif kwargs.get("seed") is not None:
        raise ValueError("seed is the seed of a multi-start search: give multistart=K too")
    if "f_scale" in kwargs:
        native["f_scale"] = float(kwargs["f_scale"])
    max_nfev = kwargs.get("max_nfev", kwargs.get("maxfev"))
    if max_nfev is not None:
        native["max_nfev"] = int(max_nfev)
    x_scale = kwargs.get("x_scale")
    if isinstance(x_scale, str):
        if x_scale != "jac":
            raise ValueError("x_scale must be 'jac' or positive numbers")
        native["x_scale_jac"] = True
    elif x_scale is not None:
        native["x_scale"] = [float(v) for v in
                             np.broadcast_to(np.asarray(x_scale, float), (npar,))]
    lm = method == "lm" or (method is None and unbounded)
    for key, tol in zip(_TOLERANCES, _tolerances(kwargs, lm)):
        if tol is not None:
            native[key] = tol


_TOLERANCES = ("ftol", "xtol", "gtol")


def _tolerances(kwargs, lm):
    """``ftol``, ``xtol`` and ``gtol`` of ``kwargs`` for the engine (None where not given);
    ``lm``: the fit runs Levenberg–Marquardt."""
    tols = [kwargs.get(k) for k in _TOLERANCES]
    # 0 means "this test off" in scipy's 'lm'; all three off is refused by the engine.
    zero_to_eps = lm and not all(t is not None and float(t) == 0.0 for t in tols)
    return [None if t is None else _tolerance(t, zero_to_eps) for t in tols]


def _named(model, fixed, ties, p0):
    """``fixed`` (``{name: value}``, or names whose values come from ``p0``) and ``ties``
    (``{name: expression}``) as the native fit's ``fixed`` and ``ties`` pairs."""
    if fixed is None and ties is None:
        return {}
    if isinstance(model, _Fallback):
        raise ValueError("fixed and tied parameters need a model the engine compiles (a model "
                         "string, a library model or a translated function); %r runs through "
                         "the fallback (%s)" % (model.name, model.reason))
    names = list(model.param_names)
    pairs = []
    if isinstance(fixed, dict):
        pairs = [(str(k), float(v)) for k, v in fixed.items()]
    elif isinstance(fixed, str):
        raise TypeError("fixed must be a dict {name: value} or a list of names, not a string")
    elif fixed is not None:
        for k in fixed:
            if k not in names:
                raise ValueError("fixed: `%s` is not a parameter of the model (%s)"
                                 % (k, ", ".join(names)))
            pairs.append((str(k), float(p0[names.index(k)])))
    if ties is not None and not isinstance(ties, dict):
        raise TypeError("ties must be a dict {name: expression}, e.g. {'s2': 's1'}")
    tied = [(str(k), str(v)) for k, v in (ties or {}).items()]
    return {"fixed": pairs or None, "ties": tied or None}


def _tolerance(tol, zero_to_eps):
    """A tolerance for the engine. scipy's ``leastsq`` (``curve_fit``'s 'lm') takes 0 for
    "this test off" (its ``gtol`` default); the engine's 'lm' needs every tolerance at least
    machine epsilon, the smallest relative change f64 can show, so with ``zero_to_eps`` 0
    becomes that."""
    tol = float(tol)
    if zero_to_eps and tol == 0.0:
        return float(np.finfo(np.float64).eps)
    return tol


def _run_native(f, xdata, ydata, p0, sigma, absolute_sigma, check_finite, bounds, method, jac,
                nan_policy, kwargs):
    """Validates the arguments and runs the fit: the engine's result, and what
    :func:`_wrap` needs to make a :class:`FitResult` of it."""
    model, x, y, p0, p0_source, native = _prepare(
        f, xdata, ydata, p0, sigma, absolute_sigma, check_finite, bounds, method, jac,
        nan_policy, kwargs)
    r = _native.fit(model.native if isinstance(model, _Fallback) else model, x, y, p0.tolist(),
                    **native)
    return r, (model, x, y, p0, p0_source, native)


def _wrap(r, args):
    """The :class:`FitResult` of the engine's result ``r`` (``args`` from :func:`_run_native`)."""
    model, x, y, p0, p0_source, native = args
    result = FitResult(r, model, p0, p0_source)
    result._fit_args = (model, x, y, native)
    return result


class _Fallback:
    """A Python callable fitted through the fallback (see :mod:`nlsq_rs._fallback`)."""

    is_library = False
    expression = None

    def __init__(self, native, funcs, reason):
        self.native = native
        self.funcs = funcs
        self.reason = reason
        self.param_names = native.param_names
        self.name = funcs.name
        self.spec = self.name

    def predict(self, x, p):
        """The callable's values at p, on xdata (x None) or on x."""
        if x is None:
            return self.funcs.evaluate(list(p))
        return np.asarray(self.funcs.f(x, *p), dtype=np.float64)


# curve_fit's default bounds: a call that leaves them is told apart by identity.
_UNBOUNDED = (-np.inf, np.inf)
# The keywords curve_fit's common call may give.
_PLAIN_KWARGS = frozenset({"ftol", "xtol", "gtol"})


def _plain(f, xdata, ydata, p0, kwargs):
    """The common call's fit (``_native.fit_plain``; ``kwargs`` holds tolerances at most):
    ``(popt, pcov)``, the engine's result of a fit that did not converge with a covariance,
    or None (nothing fitted) when the call is not the common one or ``f`` is a function not
    translated yet."""
    if type(f) is str:
        model = _native.Model(f)
    elif type(f) is _native.Model:
        model = f
    else:
        try:
            model = _FUNCTION_MODELS.get(f)
        except TypeError:
            return None
        if model is None:
            return None
    if not kwargs:
        return _native.fit_plain(model, xdata, ydata, p0)
    return _native.fit_plain(model, xdata, ydata, p0, *_tolerances(kwargs, True))


def curve_fit(f, xdata, ydata, p0=None, sigma=None, absolute_sigma=False, check_finite=None,
              bounds=_UNBOUNDED, method=None, jac=None, *, full_output=False,
              nan_policy=None, **kwargs):
    """Fits ``f(x, *p)`` to ``ydata``, as ``scipy.optimize.curve_fit``.

    ``f`` is a model string (``"a*exp(-b*x)+c"``), a library name or sum (``"gaussian"``,
    ``"gaussian:g1 + gaussian:g2 + linear"``; p0 is then estimated from the data when not
    given), or a Python function of numpy/math operations, translated into the model language
    (``lambda x, a, b: a * np.exp(-b * x)``). ``xdata`` is ``(M,)`` or ``(k, M)`` (the model then
    reads ``x[0]``, ``x[1]``, ...).

    scipy's arguments keep their meaning: ``p0`` (default: ones, or inside the bounds),
    ``sigma`` ``(M,)`` standard deviations or ``(M, M)`` covariance, ``absolute_sigma``,
    ``check_finite``, ``bounds`` (a pair of scalars/arrays or a ``Bounds``), ``method``
    (``'lm'`` unbounded, ``'trf'`` bounded or with a robust loss, ``'dogbox'``), and through
    ``kwargs``: ``loss``, ``f_scale``, ``ftol``, ``xtol``, ``gtol``, ``max_nfev`` (or
    ``maxfev``), ``x_scale``. ``nan_policy``: ``'raise'`` or ``'omit'``; ``'propagate'`` is a
    ``ValueError``. ``jac`` is not needed by compiled models (their derivatives are exact); a
    Python callable that does not translate falls back to vectorized calls on the CPU with
    ``jac`` (a callable, ``'2-point'`` (default) or ``'3-point'``) for its derivatives (see
    ``FitResult.fallback``; ``fallback=False`` raises :class:`TranslationError` instead,
    ``fallback=True`` skips translation). Extra keywords: ``backend`` (``'auto'``, ``'cpu'``,
    ``'cuda'``, ``'wgpu'``) and ``precision`` (``'f64'``, ``'f32'`` on GPUs), ``fixed`` (``{name: value}``, or
    names held at their ``p0`` values) and ``ties`` (``{name: expression}`` of other
    parameters, lmfit's ``expr``): ``p0`` and ``bounds`` still list every parameter (bounds
    on fixed or tied ones must be infinite), ``popt``/``pcov`` cover every parameter (fixed:
    zero covariance; tied: the delta method), ``FitResult.param_kinds`` says which is which.
    ``multistart=K`` (and ``seed=N``) makes the fit a global search: local fits from ``p0``
    and ``K - 1`` scrambled Sobol starts within the bounds (where a parameter is unbounded:
    a location such as ``c`` in ``x - c`` within the data's range of ``x``, a rate such as
    ``k`` in ``exp(-k*x)`` over its length scales, any other spanning decades around ``p0``,
    both signs), the parameters the model is linear in solved at each start, thinned by
    early elimination; the result is the fit from the best minimum, and
    ``FitResult.search`` lists the distinct minima.
    The default tolerances are 1e-12 (scipy: 1e-8), see the README.

    Returns ``(popt, pcov)``, or with ``full_output=True`` ``(popt, pcov, infodict, mesg, ier)``
    with ``infodict`` holding ``nfev``, ``njev``, ``fvec`` (the weighted residuals at popt),
    ``iterations`` and ``result`` (the :class:`FitResult`).

    ``check_finite``: NaN or infinite data are always refused (an :class:`InvalidInputError`
    naming the first) unless ``nan_policy='omit'``; scipy's ``check_finite=False`` with NaN data
    would propagate them into the result instead.

    Raises ``ValueError``/``TypeError`` for bad input (:class:`InvalidInputError`,
    :class:`ModelError`, :class:`TranslationError`), :class:`ConvergenceError` (a
    ``RuntimeError``) when the solver stops without converging, :class:`NumericalError`,
    :class:`BackendError`; ``KeyboardInterrupt`` on Ctrl-C. Warns :class:`OptimizeWarning`
    when the covariance cannot be estimated.
    """
    r = None
    if p0 is not None and sigma is None and bounds is _UNBOUNDED and \
            kwargs.keys() <= _PLAIN_KWARGS and not full_output and method is None and \
            jac is None and nan_policy is None and check_finite is None and \
            absolute_sigma is False:
        # The common call: 1-D float64 arrays, p0 and tolerances go to the engine as they are.
        r = _plain(f, xdata, ydata, p0, kwargs)
        if type(r) is tuple:
            return r
    if r is None:
        r, args = _run_native(f, xdata, ydata, p0, sigma, absolute_sigma, check_finite, bounds,
                              method, jac, nan_policy, kwargs)
    else:
        # The common call's fit did not end well: the arguments the general path would have
        # made of it, for the result below (the same fit, not run again).
        args = _prepare(f, xdata, ydata, p0, sigma, absolute_sigma, check_finite, bounds,
                        method, jac, nan_policy, kwargs)
    if not full_output and r.success and not r.covariance_indeterminate:
        # The common call reads two arrays of the engine's result and no more (a FitResult
        # costs as much as the Python side's argument checks).
        return r.popt, r.pcov
    result = _wrap(r, args)
    model, x, y, _, _, native = args
    if not result.success:
        raise ConvergenceError("Optimal parameters not found: " + result.message, result)
    if result.covariance_indeterminate:
        warnings.warn("Covariance of the parameters could not be estimated: %s"
                      % (result.covariance_issue or "unknown reason"), OptimizeWarning,
                      stacklevel=2)
    popt, pcov = result.popt, result.pcov
    if not full_output:
        return popt, pcov
    fvec = _weighted_residuals(model, x, y, popt, native, nan_policy == "omit")
    info = {"nfev": result.nfev, "njev": result.njev, "fvec": fvec,
            "iterations": result.iterations, "result": result}
    return popt, pcov, info, result.message, result.status


def _weighted_residuals(model, x, y, popt, native, omit):
    """scipy's fvec: the residuals at popt, whitened by sigma (1-D or 2-D)."""
    if isinstance(model, _Fallback):
        r = model.predict(None, popt) - y
    else:
        r = model.predict(x, list(popt)) - y
    keep = None
    if omit:
        keep = np.isfinite(r) & np.isfinite(x).all(axis=0)
        r = r[keep]
    sigma, sigma_cov = native.get("sigma"), native.get("sigma_cov")
    if sigma is not None:
        s = sigma if keep is None else sigma[keep]
        return r / s
    if sigma_cov is not None:
        c = sigma_cov if keep is None else sigma_cov[np.ix_(keep, keep)]
        return np.linalg.solve(np.linalg.cholesky(c), r)
    return r


def fit(f, xdata, ydata, p0=None, sigma=None, absolute_sigma=False, check_finite=None,
        bounds=(-np.inf, np.inf), method=None, jac=None, *, nan_policy=None, **kwargs):
    """Fits like :func:`curve_fit` and returns a :class:`FitResult` (popt, pcov, perr, ci95,
    chi2, r_squared, aic, bic, status, message, backend, data_plan, ...). A fit that stops
    without converging is returned with ``success == False`` rather than raised."""
    return _wrap(*_run_native(f, xdata, ydata, p0, sigma, absolute_sigma, check_finite, bounds,
                              method, jac, nan_policy, kwargs))


_STATS = ("cost", "sum_rho", "chi2", "reduced_chi2", "r_squared", "rmse", "aic", "bic",
          "optimality", "f_scale", "wall_time_s")
_COUNTS = ("n_points", "n_omitted", "dof", "nfev", "njev", "iterations")


Bands = collections.namedtuple(
    "Bands", ["value", "se_fit", "se_obs", "conf_lower", "conf_upper", "pred_lower", "pred_upper"])
Bands.__doc__ = """The fitted curve with its 95% bands (:meth:`FitResult.bands`): ``value``;
``se_fit`` and ``se_obs`` the standard errors of the curve and of a new observation;
``conf_lower``/``conf_upper`` the confidence band of the curve, ``value ∓ t·se_fit``;
``pred_lower``/``pred_upper`` the prediction band of a new observation, ``value ∓ t·se_obs``;
``t`` the quantile of ``ci95``: Student's 0.975 quantile on the fit's degrees of freedom, or
the normal's 1.96 with ``absolute_sigma`` (the noise variance is then known)."""


Minimum = collections.namedtuple("Minimum", ["params", "cost", "starts", "start", "status"])
Minimum.__doc__ = """A distinct minimum of a multi-start search: the fitted ``params`` where
the best solve reaching it ended, its ``cost`` (``½Σρ``), how many solves (``starts``) ended
there, the index of that best solve's ``start`` (0 is ``p0``) and its scipy ``status``."""

SearchReport = collections.namedtuple(
    "SearchReport", ["starts", "seed", "finite_starts", "rounds", "solves", "k_passes",
                     "vectors", "minima"])
SearchReport.__doc__ = """What a multi-start search did (``FitResult.search``): ``starts``
(``p0`` included), the Sobol ``seed``, ``finite_starts`` (finite cost at screening),
``rounds`` of successive halving, ``solves`` that ended at a minimum, ``k_passes`` (reads of
the data) and ``vectors`` evaluated in them, and ``minima``: the distinct :class:`Minimum`
found, best first."""


def _search_report(raw):
    """The native search tuple as a :class:`SearchReport`, or ``None``."""
    if raw is None:
        return None
    *head, minima = raw
    return SearchReport(*head, [Minimum(np.asarray(p, dtype=np.float64), c, n, s, st)
                                for p, c, n, s, st in minima])


ProfileInterval = collections.namedtuple(
    "ProfileInterval", ["value", "lower", "upper", "chi2_min", "threshold"])
ProfileInterval.__doc__ = """A profile-likelihood 95% interval (:meth:`FitResult.conf_interval`):
the best-fit ``value``, the ``lower`` and ``upper`` ends (``±inf`` where the profile never
reaches the threshold), the objective at the best fit ``chi2_min`` (``Σρ``) and ``threshold``,
the ``Δχ²`` at the ends."""


def _points(x):
    """``x`` (``(M,)`` or ``(k, M)``) as the engine's ``(k, M)`` float64 array, and the shape
    of one predictor's values."""
    xa = np.asarray(x, dtype=np.float64)
    shape = xa.shape if xa.ndim <= 1 else xa.shape[1:]
    return np.ascontiguousarray(xa.reshape(1, -1) if xa.ndim <= 1 else
                                xa.reshape(xa.shape[0], -1)), shape


class FitResult:
    """The result of :func:`fit` (and ``infodict['result']`` of :func:`curve_fit`).

    Arrays: ``popt``, ``pcov``, ``perr``, ``ci95`` ``(P, 2)``, ``active_mask``, ``correlation``
    ``(P, P)`` (NaN rows for fixed parameters). Statistics:
    ``cost``, ``chi2``, ``reduced_chi2``, ``r_squared``, ``rmse``, ``aic``, ``bic``,
    ``optimality``. Counts: ``n_points``, ``n_omitted``, ``dof``, ``nfev``, ``njev``,
    ``iterations``. Solver: ``status`` (scipy's code), ``message``, ``success``, ``method``,
    ``loss``, ``f_scale``. Where it ran: ``backend`` and ``data_plan`` (with why). Model:
    ``param_names``, ``model`` (the text given), ``expression`` (the compiled model language),
    ``p0`` and ``p0_source`` (given, library estimate or default), ``absolute_sigma``.
    Curve: :meth:`predict`, and :meth:`bands` with the confidence and prediction bands.

    Global search (``multistart=K``): ``search``, a :class:`SearchReport` (``None`` for a
    local fit) with the distinct minima found.

    ``repr()`` is the engine's summary table; in Jupyter an HTML table; ``to_dict()`` and
    ``to_json()`` give the engine's JSON report plus the Python-side fields.
    """

    # Read from the engine's result on first use (a fit that only needs popt and pcov, such
    # as curve_fit, does not pay for the rest).
    _FIELDS = ("popt", "pcov", "perr", "ci95", "active_mask", "status", "message", "success",
               "backend", "data_plan", "method", "loss", "covariance_indeterminate",
               "covariance_issue", "param_kinds", "correlation", "absolute_sigma")

    def __init__(self, native, model, p0, p0_source):
        self._native = native
        self._model = model
        self.p0 = np.asarray(p0, dtype=np.float64)
        self.p0_source = p0_source
        #: Whether the model was a Python callable fitted through the fallback (vectorized
        #: calls, finite differences or the user's jac, CPU), and why it was not translated.
        self.fallback = isinstance(model, _Fallback)
        self.fallback_reason = model.reason if self.fallback else None

    def __getattr__(self, name):
        """Reads an engine field on first use and keeps it."""
        if name.startswith("_"):
            raise AttributeError(name)
        native = self._native
        if name in FitResult._FIELDS:
            value = getattr(native, name)
        elif name == "param_names":
            value = list(native.param_names)
        elif name == "model":
            value = self._model.name
        elif name == "expression":
            value = self._model.expression
        elif name in _STATS:
            value = native.stat(name)
        elif name in _COUNTS:
            value = native.count(name)
        elif name == "search":
            value = _search_report(native.search)
        else:
            raise AttributeError("'FitResult' object has no attribute %r" % name)
        self.__dict__[name] = value
        return value

    def __dir__(self):
        """The attributes, the lazily read ones included."""
        return sorted(set(object.__dir__(self)) | set(FitResult._FIELDS) | set(_STATS) |
                      set(_COUNTS) | {"param_names", "model", "expression", "search"})

    @property
    def params(self):
        """The best-fit parameters by name."""
        return dict(zip(self.param_names, self.popt.tolist()))

    def predict(self, x):
        """The fitted model at ``x`` (``(M,)`` or ``(k, M)``)."""
        if self.fallback:
            return self._model.predict(x, self.popt)
        xa, shape = _points(x)
        return self._model.predict(xa, self.popt.tolist()).reshape(shape)

    def bands(self, x, sigma=None):
        """The fitted curve at ``x`` (``(M,)`` or ``(k, M)``) with its 95% confidence band
        and the 95% prediction band of a new observation, by the delta method, as
        :class:`Bands` of arrays shaped like a point of ``x``.

        The confidence band is ``f ± t·sqrt(gᵀ pcov g)`` (``g`` the model's gradient in the
        parameters at ``x``, ``t`` the quantile of ``ci95``: Student's 0.975 quantile on ``dof``, the
        normal's 1.96 with ``absolute_sigma``). The prediction band
        adds a new observation's variance ``s²·sigma²``: with relative sigma (the default)
        ``s²`` is the residual variance ``Σρ/dof`` (the reduced χ² for the linear loss; for a
        robust loss the robust objective, which also scales ``pcov``) and ``sigma`` the new
        points' sigma in the units of the fit's (default 1); with ``absolute_sigma`` ``s² = 1``
        and ``sigma`` their standard deviation (default 1). Needs a model the engine compiled
        (not the fallback of a Python callable)."""
        if self.fallback:
            raise ValueError("bands need a model the engine compiles; %r runs through the "
                             "fallback (%s)" % (self._model.name, self.fallback_reason))
        xa, shape = _points(x)
        s = None
        if sigma is not None:
            s = np.ascontiguousarray(np.broadcast_to(np.asarray(sigma, dtype=np.float64),
                                                     (xa.shape[1],)))
        out = self._native.bands(self._model, xa, s)
        return Bands(*(row.reshape(shape) for row in out))

    def conf_interval(self, names=None):
        """Profile-likelihood 95% intervals (lmfit's ``conf_interval``), which also serve
        parameters whose intervals are not symmetric: each parameter of ``names`` (default:
        every free one) is fixed at values around its best fit, the other free parameters are
        refitted to the same data with the same options (fixed and tied parameters stay so),
        and the ends are where ``Δχ² = χ²_min · F₀.₉₅(1, dof) / dof`` (lmfit's F-test;
        ``χ²`` the objective ``Σρ``). Equal to ``ci95`` for a model linear in its parameters
        (with relative sigma; with ``absolute_sigma`` ``ci95`` uses the normal quantile).
        The profiled parameter's own bounds are lifted while it is profiled (as in lmfit), so
        an interval may reach past them; the other parameters keep theirs. An end that no
        value reaches is ``±inf``. Returns ``{name: ProfileInterval}``. Needs a model the
        engine compiles."""
        if self.fallback:
            raise ValueError("profile intervals need a model the engine compiles; %r runs "
                             "through the fallback (%s)" % (self._model.name, self.fallback_reason))
        model, x, y, native = self._fit_args
        if names is None:
            names = [n for n, k in zip(self.param_names, self.param_kinds) if k == "free"]
        elif isinstance(names, str):
            names = [names]

        def refit(values, index):
            kw = dict(native)
            # Each profile point refits locally from the neighbouring solution, not by search.
            kw.pop("multistart", None)
            kw.pop("seed", None)
            kw["fixed"] = list(kw.get("fixed") or []) + [(self.param_names[index], values[index])]
            for side, unbounded in (("lower", -math.inf), ("upper", math.inf)):
                if kw.get(side) is not None:
                    kw[side] = list(kw[side])
                    kw[side][index] = unbounded
            return _native.fit(model, x, y, list(values), **kw)

        return {n: ProfileInterval(*_native.conf_interval(model, self._native, n, refit))
                for n in names}

    def to_dict(self):
        """The engine's report as a dict (non-finite numbers as strings "inf"/"nan", as in the
        JSON), plus ``expression``, ``p0`` and ``p0_source``."""
        d = json.loads(self._native.to_json())
        d["expression"] = self.expression
        d["p0"] = [float(v) for v in self.p0]
        d["p0_source"] = self.p0_source
        d["fallback"] = self.fallback
        d["fallback_reason"] = self.fallback_reason
        return d

    def to_json(self, **kwargs):
        """:meth:`to_dict` as JSON text (keyword arguments go to ``json.dumps``)."""
        return json.dumps(self.to_dict(), **kwargs)

    def __repr__(self):
        """The summary."""
        return str(self._native).rstrip("\n")

    def _repr_html_(self):
        """The summary as an HTML table (Jupyter)."""
        def esc(s):
            """HTML-escaped text."""
            return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))

        def num(v):
            """A number to 6 significant digits."""
            return "%.6g" % v if math.isfinite(v) else esc(v)

        rows = []
        for j, name in enumerate(self.param_names):
            bound = {-1: " (at lower bound)", 1: " (at upper bound)"}.get(
                int(self.active_mask[j]) if len(self.active_mask) > j else 0, "")
            rows.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>[%s, %s]%s</td></tr>" % (
                esc(name), num(self.popt[j]), num(self.perr[j]), num(self.ci95[j][0]),
                num(self.ci95[j][1]), esc(bound)))
        head = ("<p><b>nlsq fit of <code>%s</code></b>: method %s, loss %s, backend %s<br>"
                "%s (status %d, %s); %d points, %d dof; %d passes; "
                "&chi;&sup2; = %s, R&sup2; = %s, AIC = %s, BIC = %s</p>" % (
                    esc(self.model), esc(self.method), esc(self.loss), esc(self.backend),
                    esc(self.message), self.status,
                    "converged" if self.success else "NOT converged", self.n_points, self.dof,
                    self.nfev, num(self.chi2), num(self.r_squared), num(self.aic),
                    num(self.bic)))
        table = ("<table><thead><tr><th>parameter</th><th>value</th><th>std error</th>"
                 "<th>95%% confidence interval</th></tr></thead><tbody>%s</tbody></table>"
                 % "".join(rows))
        return head + table


STATE_NAMES = ("converged", "max_iterations", "singular", "non_finite", "invalid_input")


class BatchResult:
    """The result of :func:`batch_fit`, as numpy arrays, fit-major.

    ``params`` ``(n_fits, P)``; ``perr`` ``(n_fits, P)`` and ``covariance`` ``(n_fits, P, P)``
    (``None`` without ``covariance=True``; NaN for fits that did not converge); ``states``
    ``(n_fits,)`` uint8 codes named by :data:`STATE_NAMES` (0 converged, 1 max iterations,
    2 singular, 3 non-finite, 4 invalid input); ``converged`` (bool); ``chi2``;
    ``iterations``; ``param_names``; ``backend``, ``precision`` and ``reason`` (why that
    backend); ``fallback`` and ``fallback_reason`` (whether the model was a Python callable
    fitted through the fallback, and why it was not translated).
    """

    def __init__(self, d, param_names, fallback_reason=None):
        self.params = d["params"]
        self.perr = d.get("perr")
        self.covariance = d.get("covariance")
        self.states = d["states"]
        self.chi2 = d["chi2"]
        self.iterations = d["iterations"]
        self.backend = d["backend"]
        self.precision = d["precision"]
        self.reason = d["reason"]
        self.param_names = list(param_names)
        self.fallback = fallback_reason is not None
        self.fallback_reason = fallback_reason

    @property
    def converged(self):
        """Whether each fit converged."""
        return self.states == 0

    @property
    def n_fits(self):
        """The number of fits."""
        return self.params.shape[0]

    def state_counts(self):
        """How many fits ended in each state, by name."""
        return {name: int(np.count_nonzero(self.states == k)) for k, name in enumerate(STATE_NAMES)}

    def __repr__(self):
        """The summary."""
        counts = ", ".join("%s %d" % kv for kv in self.state_counts().items() if kv[1])
        return "BatchResult(%d fits of %s on %s%s: %s)" % (
            self.n_fits, ", ".join(self.param_names), self.backend,
            " (Python callable, not translated)" if self.fallback else "", counts)


def _per_fit(v, n_fits, npar, what):
    """A per-fit parameter array, flat: P values shared, or n_fits * P."""
    a = np.asarray(v, dtype=np.float64)
    if a.shape == (npar,) or a.shape == ():
        return np.ascontiguousarray(np.broadcast_to(a, (npar,)))
    if a.shape == (n_fits, npar):
        return np.ascontiguousarray(a).ravel()
    raise ValueError("%s must have shape (%d,) or (%d, %d), not %s"
                     % (what, npar, n_fits, npar, a.shape))


class _Layout:
    """Where each fit's points lie in the flat data: ``flat`` (y, fit after fit), ``lengths``
    (per fit, for a 1-D y) or ``equal`` (for a 2-D y), ``starts`` and ``sizes``."""

    def __init__(self, ya, lengths):
        if ya.ndim == 2:
            if lengths is not None:
                raise ValueError("lengths is for 1-D y; a 2-D y has equal lengths")
            n_fits, n = ya.shape
            self.flat = np.ascontiguousarray(ya).reshape(-1)
            self.equal, self.lengths = n, None
            self.starts = np.arange(n_fits) * n
            self.sizes = np.full(n_fits, n)
        elif ya.ndim == 1:
            if lengths is None:
                raise ValueError("a 1-D y needs lengths (points per fit); or pass y as (n_fits, n)")
            lens = [int(v) for v in np.asarray(lengths).ravel()]
            if any(v < 0 for v in lens):
                raise ValueError("lengths must be non-negative")
            self.flat = np.ascontiguousarray(ya)
            self.equal, self.lengths = None, lens
            self.sizes = np.asarray(lens, dtype=np.int64)
            self.starts = (np.concatenate([[0], np.cumsum(self.sizes)[:-1]]) if lens
                           else np.zeros(0, np.int64))
        else:
            raise ValueError("y must be (n_fits, n) or 1-D with lengths, not %d-D" % ya.ndim)
        self.n_fits = len(self.starts)


def _batch_x(x, ya, k):
    """x as the engine takes it, point-major: ``(x_shared, x_per_point)``, one of them or
    neither ``None``."""
    if x is None:
        return None, None
    xa = np.asarray(x, dtype=np.float64)
    if k == 1 and xa.ndim == 1:
        return np.ascontiguousarray(xa), None
    if k > 1 and xa.ndim == 2 and xa.shape[0] == k and xa.shape != ya.shape + (k,):
        return np.ascontiguousarray(xa.T).ravel(), None
    if xa.shape == ya.shape or xa.shape == ya.shape + (k,):
        if k == 1 and xa.shape != ya.shape:
            raise ValueError("x per point must have y's shape %s" % (ya.shape,))
        return None, np.ascontiguousarray(xa).ravel()
    raise ValueError("x has shape %s: use (n,) shared, (k, n) shared for k predictors, "
                     "or y's shape (+ (k,)) per point" % (xa.shape,))


def _callable_inputs(x, ya):
    """The number of predictors k of a Python callable's x (a compiled model knows its own):
    the last axis of an x shaped ``y.shape + (k,)`` (per point), the first of a 2-D x
    ``(k, n)`` not shaped like y (shared); else 1."""
    if x is None:
        return 1
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim == ya.ndim + 1 and xa.shape[:-1] == ya.shape:
        return xa.shape[-1]
    if xa.ndim == 2 and xa.shape != ya.shape:
        return xa.shape[0]
    return 1


def _fit_x(layout, i, k, x_shared, x_pp):
    """Fit ``i``'s predictors, ``(k, m)``: its slice of x, or the point index without x."""
    s, m = int(layout.starts[i]), int(layout.sizes[i])
    if x_pp is not None:
        return x_pp[s * k:(s + m) * k].reshape(m, k).T
    if x_shared is not None:
        return x_shared[:m * k].reshape(m, k).T
    return np.arange(m, dtype=np.float64).reshape(1, m)


def _batch_p0(model, p0, layout, npar, k, x_shared, x_pp):
    """p0 flat (``P`` or ``n_fits * P``); estimated per fit for a library model."""
    if p0 is not None:
        return _per_fit(p0, layout.n_fits, npar, "p0")
    if not getattr(model, "is_library", False):
        raise ValueError("p0 is needed for a model that is not from the model library")
    rows = []
    for i in range(layout.n_fits):
        s, m = int(layout.starts[i]), int(layout.sizes[i])
        xi = np.ascontiguousarray(_fit_x(layout, i, k, x_shared, x_pp))
        rows.append(model.estimate_p0(xi, layout.flat[s:s + m]))
    p0 = np.asarray(rows, dtype=np.float64).reshape(layout.n_fits, npar)
    return np.ascontiguousarray(p0).ravel()


def _batch_bounds(bounds, p0f, estimated, n_fits, npar):
    """``(lower, upper, p0)`` flat: bounds per fit or shared (``None`` without), and p0
    clipped into them when it was ``estimated``."""
    if bounds is None:
        return None, None, p0f
    lb, ub = _lower_upper(bounds)
    lo = _per_fit(lb, n_fits, npar, "lower bounds")
    hi = _per_fit(ub, n_fits, npar, "upper bounds")
    if lo.size != hi.size:
        lo = np.ascontiguousarray(np.broadcast_to(lo.reshape(-1, npar), (n_fits, npar))).ravel()
        hi = np.ascontiguousarray(np.broadcast_to(hi.reshape(-1, npar), (n_fits, npar))).ravel()
    if estimated:
        p0f = np.clip(p0f.reshape(n_fits, npar), lo.reshape(-1, npar), hi.reshape(-1, npar)).ravel()
    return lo, hi, p0f


def _batch_weights(sigma, weights, ya):
    """The weights ``1/sigma²`` (or as given), flat, or ``None``."""
    if sigma is not None and weights is not None:
        raise ValueError("give sigma or weights, not both")
    if sigma is not None:
        s = np.asarray(sigma, dtype=np.float64)
        if s.shape != ya.shape:
            raise ValueError("sigma must have y's shape %s" % (ya.shape,))
        return np.ascontiguousarray(1.0 / (s * s)).ravel()
    if weights is not None:
        wa = np.asarray(weights, dtype=np.float64)
        if wa.shape != ya.shape:
            raise ValueError("weights must have y's shape %s" % (ya.shape,))
        return np.ascontiguousarray(wa).ravel()
    return None


def _batch_callable(f, jac, names, layout, k, x_shared, x_pp):
    """The fallback of a batch: the native callable (called per fit with that fit's x, see
    :class:`nlsq_rs._fallback.BatchFunctions`) and y, with a NaN in each fit whose x is not
    finite (the engine sees point indices; such a fit ends ``non_finite``, as with a compiled
    model)."""
    longest = int(layout.sizes.max()) if layout.n_fits else 0
    if x_shared is not None and x_shared.size // k < longest:
        raise ValueError("x has %d points, the longest fit %d" % (x_shared.size // k, longest))

    def x_of(i):
        """Fit i's x as the callable takes it: (m,), or (k, m) for k predictors."""
        xi = _fit_x(layout, i, k, x_shared, x_pp)
        return np.ascontiguousarray(xi[0] if k == 1 else xi)

    flat = layout.flat
    if x_pp is not None or x_shared is not None:
        xs = x_pp if x_pp is not None else x_shared
        bad = np.concatenate([[0], np.cumsum(~np.isfinite(xs.reshape(-1, k)).all(axis=1))])
        if x_pp is not None:
            nonfinite = bad[layout.starts + layout.sizes] > bad[layout.starts]
        else:
            nonfinite = bad[layout.sizes] > 0
        if nonfinite.any():
            flat = flat.copy()
            flat[layout.starts[nonfinite]] = np.nan
    funcs = _fallback.BatchFunctions(f, x_of, layout.sizes, len(names), jac)
    return _native.Callable(funcs.evaluate, funcs.jacobian, funcs.name, names, flat.size), flat


def batch_fit(f, y, x=None, p0=None, *, lengths=None, bounds=None, sigma=None, weights=None,
              fixed=None, estimator="lse", tol=None, xtol=None, max_iterations=None,
              covariance=True, backend="auto", precision="f64", jac=None, fallback=None):
    """Many independent fits of one model (Gpufit's use case), in one call.

    ``f``: as for :func:`curve_fit`, a model string, a library name or sum, or a Python
    function, translated into the model language. A callable that does not translate runs
    through the fallback in the same engine (same estimator, tolerances, bounds, fixed
    parameters, weights and states): it is called once per fit and parameter vector,
    vectorized over that fit's points, ``f(x_fit, *p)`` (``x_fit``: the fit's ``(m,)`` points,
    ``(k, m)`` for k predictors, or ``arange(m)`` without ``x``), with derivatives from ``jac``
    (a callable ``jac(x_fit, *p)`` -> ``(m, P)``, ``'2-point'`` (default) or ``'3-point'``
    finite differences), on the CPU only (``backend='cuda'``/``'wgpu'`` is a ``ValueError``;
    ``'auto'`` picks the CPU); ``BatchResult.fallback`` says so, and an exception the callable
    raises propagates. ``fallback=False`` raises :class:`TranslationError` instead,
    ``fallback=True`` skips translation. A callable does not declare its number of predictors
    k: it is read from ``x``'s shape (``y.shape + (k,)`` per point, ``(k, n)`` shared; an
    ``x`` shaped like ``y`` is one predictor per point).

    ``y``: ``(n_fits, n)`` (equal lengths; zero-copy when C-contiguous float64) or 1-D, all
    fits' points one after another, with ``lengths`` per fit. ``x``: ``None`` (point ``i`` at
    ``x = i``), ``(n,)`` shared by every fit (``(k, n)`` for k predictors), or one value per
    point, shaped like ``y`` (``y.shape + (k,)`` for k predictors). ``p0``: ``(P,)`` for all
    fits or ``(n_fits, P)``; estimated per fit for a library model when ``None``. ``bounds``:
    a (lower, upper) pair of ``(P,)`` or ``(n_fits, P)``. ``sigma`` (standard deviations, like
    ``y``) or ``weights`` (``1/sigma²``). ``fixed``: ``P`` booleans. ``estimator``: ``'lse'``
    or ``'poisson'``. ``tol``: relative χ² tolerance (default 1e-4, Gpufit's), ``xtol``: an
    optional step tolerance, ``max_iterations`` (default 25).

    Returns a :class:`BatchResult`; per-fit failures are states, not exceptions.
    """
    if jac is not None and not callable(jac) and jac not in ("2-point", "3-point", "cs"):
        raise ValueError("jac must be None, a callable or '2-point', '3-point', 'cs'")
    model, why = _model(f, fallback)
    ya = np.asarray(y, dtype=np.float64)
    layout = _Layout(ya, lengths)
    if model is None:
        names = _fallback.param_names(f, p0)
        k = _callable_inputs(x, ya)
    else:
        names = model.param_names
        k = model.n_inputs
    npar = len(names)
    x_shared, x_pp = _batch_x(x, ya, k)
    p0f = _batch_p0(model, p0, layout, npar, k, x_shared, x_pp)
    lo, hi, p0f = _batch_bounds(bounds, p0f, p0 is None, layout.n_fits, npar)
    w = _batch_weights(sigma, weights, ya)
    fx = None if fixed is None else [bool(v) for v in np.asarray(fixed).ravel()]
    flat = layout.flat
    if model is None:
        model, flat = _batch_callable(f, jac, names, layout, k, x_shared, x_pp)
        x_shared = x_pp = None  # they stay on this side; the engine sees point indices
    d = _native.batch_fit(model, flat, lengths=layout.lengths, equal=layout.equal,
                          x_shared=x_shared, x_per_point=x_pp, p0=p0f, lower=lo, upper=hi,
                          weights=w, fixed=fx, estimator=estimator, tolerance=tol,
                          step_tolerance=xtol, max_iterations=max_iterations,
                          covariance=bool(covariance), backend=backend, precision=precision)
    return BatchResult(d, names, why)


# Global fits build on FitResult and the argument helpers above.
from ._global import Dataset, DatasetPart, GlobalFitResult, global_fit  # noqa: E402
