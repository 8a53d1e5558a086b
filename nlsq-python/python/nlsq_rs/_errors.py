"""The exceptions of nlsq_rs.

Every error that nlsq_rs raises on its own account is a :class:`FitError` (a
``RuntimeError``, as scipy's ``curve_fit`` raises when a fit fails). Subclasses that stand
for bad input also derive from ``ValueError`` (or ``TypeError``), so code written for scipy
that catches those keeps working.
"""


class FitError(RuntimeError):
    """Base class of nlsq_rs's errors; carries the Rust engine's message."""


class InvalidInputError(FitError, ValueError):
    """Data or options that cannot be fitted (lengths, non-finite data, bounds, sigma, ...)."""


class ModelError(FitError, ValueError):
    """A model text, library name or p0 estimate that the engine rejects."""


class TranslationError(ModelError, TypeError):
    """A Python function that cannot be translated into the model language."""


class ConvergenceError(FitError):
    """The solver stopped before a convergence test held (scipy: "Optimal parameters not
    found"); the partial result is in ``.result``."""

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


class NumericalError(FitError):
    """The model or its sums are not finite at the starting point."""


class BackendError(FitError):
    """The requested device (CUDA, wgpu) cannot be used."""


class OptimizeWarning(UserWarning):
    """The covariance of the parameters could not be estimated (as scipy's OptimizeWarning)."""
