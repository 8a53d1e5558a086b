"""Global fits: several datasets fitted together, some parameters shared (``global_fit``).

The engine sums the datasets' passes (each dataset on its own backend), so the fit is the
least-squares fit of all the data together and its covariance is the joint one.
"""

import collections

import numpy as np

from . import (  # nlsq_rs imports this module after defining these
    FitResult,
    _as_x,
    _bounds,
    _feasible,
    _native,
    _points,
    _tolerance,
    compile_model,
)

DatasetPart = collections.namedtuple(
    "DatasetPart", ["label", "model", "n_points", "cost", "params", "popt"])
DatasetPart.__doc__ = """One dataset's part of a global fit (:attr:`GlobalFitResult.datasets`):
its ``label``, ``model`` (as given), ``n_points`` fitted, ``cost`` (its share of ``½Σρ``),
``params`` (for each of its model's parameters, the index of the global parameter it is) and
``popt`` (its model's parameters at the solution, in the model's order)."""


class Dataset:
    """One dataset of :func:`global_fit`: a model (a model string, a library model or a
    translatable Python function, as for :func:`curve_fit`) and its data, with the settings
    that are its own.

    ``p0``: its model's starting values (default: a library model's estimate from this data,
    else 1, or inside the bounds); a shared parameter starts from the first dataset that has
    it. ``sigma``: 1-D standard deviations. ``bounds``: as scipy's, for its model's parameters;
    a shared parameter is bounded by every dataset's bounds on it. ``label``: names the
    dataset's own parameters (``amp[label]``; default its position, from 0). ``backend``:
    where its passes run ("auto", "cpu", "cuda", "wgpu")."""

    def __init__(self, f, xdata, ydata, p0=None, sigma=None, bounds=(-np.inf, np.inf),
                 label=None, backend="auto"):
        # Compiled models only: a function that does not translate raises TranslationError.
        self.model = compile_model(f)
        self.name = self.model.name
        y = np.asarray(ydata, dtype=np.float64)
        if y.ndim != 1:
            raise ValueError("ydata must be a 1-D array of M values, not %d-D" % y.ndim)
        self.y = np.ascontiguousarray(y)
        self.x = _as_x(xdata, self.y.shape[0])
        npar = len(self.model.param_names)
        self.lower, self.upper = _bounds(bounds, npar)
        if p0 is None:
            if getattr(self.model, "is_library", False):
                p0 = np.asarray(self.model.estimate_p0(self.x, self.y))
                if self.lower is not None:
                    p0 = np.clip(p0, self.lower, self.upper)
            else:
                p0 = _feasible(self.lower, self.upper, npar)
        p0 = np.atleast_1d(np.asarray(p0, dtype=np.float64))
        if p0.ndim != 1 or p0.shape[0] != npar:
            raise ValueError("p0 has %d values, the model `%s` has %d parameters (%s)"
                             % (p0.size, self.name, npar, ", ".join(self.model.param_names)))
        self.p0 = p0
        self.sigma = None
        if sigma is not None:
            s = np.asarray(sigma, dtype=np.float64)
            if s.shape != self.y.shape:
                raise ValueError("sigma has shape %s: it must be (M,) with M = %d"
                                 % (s.shape, self.y.shape[0]))
            self.sigma = np.ascontiguousarray(s)
        self.label = label
        self.backend = backend


def _tol(v):
    """A tolerance for the engine, or None for its default."""
    return None if v is None else _tolerance(v, False)


class _GlobalModel:
    """What a :class:`FitResult` reads of its model, for a global fit."""

    def __init__(self, datasets):
        names = [d.name for d in datasets]
        self.name = "global(%s)" % ", ".join(names)
        self.expression = "; ".join(d.model.expression for d in datasets)


def global_fit(datasets, shared=(), *, method=None, loss="linear", f_scale=1.0,
               absolute_sigma=False, ftol=None, xtol=None, gtol=None, max_nfev=None,
               nan_policy=None, precision="f64"):
    """Fits several :class:`Dataset` s together; the parameters named in ``shared`` (by their
    models' names) are one parameter across every dataset whose model has it, the others are
    each dataset's own, named ``name[label]``.

    Returns a :class:`GlobalFitResult`: popt, pcov (joint), statistics over all points, and
    ``datasets`` (each one's part, with its own popt). The options are those of :func:`fit`.
    """
    datasets = list(datasets)
    if not datasets or not all(isinstance(d, Dataset) for d in datasets):
        raise TypeError("datasets must be a non-empty sequence of nlsq_rs.Dataset")
    if isinstance(shared, str):
        shared = [shared]
    if nan_policy not in (None, "raise", "omit"):
        raise ValueError("nan_policy must be None, 'raise' or 'omit'")
    labels = [str(i) if d.label is None else str(d.label) for i, d in enumerate(datasets)]
    native = _native.global_fit(
        [d.model for d in datasets], [d.x for d in datasets], [d.y for d in datasets],
        [d.sigma for d in datasets], [d.p0.tolist() for d in datasets],
        [None if d.lower is None else d.lower.tolist() for d in datasets],
        [None if d.upper is None else d.upper.tolist() for d in datasets],
        labels, [d.backend for d in datasets], [str(s) for s in shared],
        absolute_sigma=bool(absolute_sigma), loss=loss, f_scale=float(f_scale), method=method,
        ftol=_tol(ftol), xtol=_tol(xtol), gtol=_tol(gtol), max_nfev=max_nfev,
        nan_policy="omit" if nan_policy == "omit" else "raise", precision=precision)
    return GlobalFitResult(native, datasets)


class GlobalFitResult(FitResult):
    """The result of :func:`global_fit`: a :class:`FitResult` over the global parameters,
    with ``datasets``, each dataset's :class:`DatasetPart`, and :meth:`predict` of one
    dataset's curve. Bands and profile intervals are for fits of one dataset."""

    def __init__(self, native, datasets):
        p0 = np.full(len(native.popt), np.nan)
        for d, part in zip(datasets, native.datasets):
            p0[list(part[4])] = d.p0
        super().__init__(native, _GlobalModel(datasets), p0, "given")
        popt = native.popt
        self._models = [d.model for d in datasets]
        self.datasets = [
            DatasetPart(label, d.name, n, cost, list(params), popt[list(params)])
            for d, (label, _, n, cost, params) in zip(datasets, native.datasets)]

    def _index(self, dataset):
        if isinstance(dataset, str):
            labels = [p.label for p in self.datasets]
            if dataset not in labels:
                raise KeyError("no dataset labelled %r (labels: %s)"
                               % (dataset, ", ".join(labels)))
            return labels.index(dataset)
        return int(dataset)

    def predict(self, x, dataset=0):
        """Dataset ``dataset``'s (its index or label) fitted model at ``x``."""
        i = self._index(dataset)
        xa, shape = _points(x)
        return self._models[i].predict(xa, self.datasets[i].popt.tolist()).reshape(shape)

    def bands(self, x, sigma=None):
        """Not available for global fits."""
        raise ValueError("bands are computed for fits of one dataset; fit the dataset "
                         "alone, or use pcov with the dataset's params")

    def conf_interval(self, names=None):
        """Not available for global fits."""
        raise ValueError("profile intervals are computed for fits of one dataset")
