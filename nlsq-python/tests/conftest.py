"""Shared helpers of the nlsq_rs tests (pytest against the installed wheel)."""

import numpy as np
import pytest


def rho(z, loss):
    """scipy's loss functions rho(z), z = (r / f_scale)**2."""
    if loss == "linear":
        return z
    if loss == "soft_l1":
        return 2 * (np.sqrt(1 + z) - 1)
    if loss == "huber":
        return np.where(z <= 1, z, 2 * np.sqrt(z) - 1)
    if loss == "cauchy":
        return np.log1p(z)
    if loss == "arctan":
        return np.arctan(z)
    raise ValueError(loss)


def cost(f, x, y, p, sigma=None, loss="linear", f_scale=1.0):
    """scipy's least_squares cost of the curve_fit problem at p."""
    r = f(x, *p) - y
    if sigma is not None:
        s = np.asarray(sigma)
        r = r / s if s.ndim == 1 else np.linalg.solve(np.linalg.cholesky(s), r)
    z = (r / f_scale) ** 2
    return 0.5 * f_scale**2 * np.sum(rho(z, loss))


@pytest.fixture
def rng():
    return np.random.default_rng(20261203)
