"""The fallback for Python callables that cannot be translated into the model language.

The callable is called vectorized, ``f(xdata, *p)`` on the whole ``xdata`` at once, and its
derivatives come from the user's ``jac(xdata, *p)`` (an ``(M, P)`` array) or from finite
differences (scipy's ``'2-point'`` rule by default, ``'3-point'`` on request): one call per
pass for the values and ``P`` (or ``2P``) for the Jacobian. The fit itself (solver, bounds,
losses, sigma, covariance, statistics) is the same engine's, on the CPU; the result says it
ran this way (``FitResult.fallback``). In a batch (:class:`BatchFunctions`) the same calls are
made per fit, on that fit's x, and ``BatchResult.fallback`` says so.
"""

import inspect

import numpy as np

EPS = np.finfo(np.float64).eps


def param_names(f, p0):
    """The parameter names of ``f(x, a, b, ...)``; ``p0``, ``p1``, ... for ``f(x, *p)``."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        sig = None
    names = []
    varargs = sig is None
    if sig is not None:
        ps = list(sig.parameters.values())
        for q in ps[1:]:
            if q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD):
                names.append(q.name)
            elif q.kind == q.VAR_POSITIONAL:
                varargs = True
    if varargs and not names:
        if p0 is None:
            raise ValueError("Unable to determine number of fit parameters: give p0")
        return ["p%d" % j for j in range(np.atleast_1d(p0).size)]
    if not names:
        raise ValueError("the model function takes no parameters besides x")
    return names


class Functions:
    """``evaluate(p)`` and ``jacobian(p)`` for the engine, over ``xdata`` of ``n`` points."""

    def __init__(self, f, xdata, n, npar, jac=None):
        self.f = f
        self.name = getattr(f, "__name__", None) or type(f).__name__
        self.x = xdata
        self.n = n
        self.npar = npar
        self.jac = jac
        self._last = (None, None)

    def evaluate(self, p):
        """f(xdata, *p) as N float64 values (the last result is kept)."""
        key = tuple(p)
        if self._last[0] == key:
            return self._last[1]
        v = np.asarray(self.f(self.x, *p), dtype=np.float64)
        if v.size == 1 and self.n != 1:
            v = np.full(self.n, float(v.reshape(-1)[0]))
        v = np.ascontiguousarray(v.reshape(-1))
        if v.size != self.n:
            raise ValueError("the model function returned %d values for %d points"
                             % (v.size, self.n))
        self._last = (key, v)
        return v

    def jacobian(self, p):
        """The (N, P) derivatives: the user's jac, or finite differences."""
        p = np.asarray(p, dtype=np.float64)
        if callable(self.jac):
            J = np.asarray(self.jac(self.x, *p), dtype=np.float64)
            if J.shape != (self.n, self.npar):
                raise ValueError("jac returned shape %s, expected (%d, %d)"
                                 % (J.shape, self.n, self.npar))
            return np.ascontiguousarray(J)
        f0 = self.evaluate(list(p))
        J = np.empty((self.n, self.npar))
        central = self.jac == "3-point"
        rel = EPS ** (1 / 3) if central else EPS**0.5
        for j in range(self.npar):
            h = rel * max(1.0, abs(p[j])) * (1.0 if p[j] >= 0 else -1.0)
            q = p.copy()
            q[j] = p[j] + h
            h = q[j] - p[j]  # the step as represented
            fp = np.asarray(self.f(self.x, *q), dtype=np.float64).reshape(-1)
            if central:
                q[j] = p[j] - h
                fm = np.asarray(self.f(self.x, *q), dtype=np.float64).reshape(-1)
                J[:, j] = (fp - fm) / (2 * h)
            else:
                J[:, j] = (fp - f0) / h
        return J


class BatchFunctions:
    """``evaluate(i, p)`` and ``jacobian(i, p)`` of fit ``i`` of a batch for the engine, on
    ``x_of(i)``, that fit's ``sizes[i]`` points (see :class:`Functions`; the one of the last
    fit asked for is kept, so that the Jacobian's finite differences reuse its values)."""

    def __init__(self, f, x_of, sizes, npar, jac=None):
        self.f = f
        self.name = getattr(f, "__name__", None) or type(f).__name__
        self.x_of = x_of
        self.sizes = sizes
        self.npar = npar
        self.jac = jac
        self._fit = (None, None)

    def functions(self, i):
        """The :class:`Functions` of fit ``i``."""
        if self._fit[0] != i:
            self._fit = (i, Functions(self.f, self.x_of(i), int(self.sizes[i]), self.npar,
                                      self.jac))
        return self._fit[1]

    def evaluate(self, i, p):
        """Fit ``i``'s values at ``p``."""
        return self.functions(i).evaluate(p)

    def jacobian(self, i, p):
        """Fit ``i``'s ``(m, P)`` derivatives at ``p``."""
        return self.functions(i).jacobian(p)
