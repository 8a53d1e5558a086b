"""The Rust extension of nlsq_rs (PyO3): compiled models, fits and batch fits."""

import typing
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

VERSION: str

class Model:
    """A compiled model: a model-language expression or a model-library name or sum."""

    def __init__(self, spec: str, params: Optional[Sequence[str]] = ..., name: Optional[str] = ...) -> None: ...
    @property
    def spec(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def param_names(self) -> List[str]: ...
    @property
    def n_inputs(self) -> int: ...
    @property
    def is_library(self) -> bool: ...
    @property
    def expression(self) -> str: ...
    def estimate_p0(self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> List[float]: ...
    def predict(self, x: npt.NDArray[np.float64], p: Sequence[float]) -> npt.NDArray[np.float64]: ...

class Callable:
    """A Python callable as a model (the fallback) of ``n`` points: for one fit
    ``evaluate(p)`` -> ``(n,)`` and ``jacobian(p)`` -> ``(n, P)``; in a batch (``n``: all its
    points), per fit ``i`` of ``m`` points, ``evaluate(i, p)`` -> ``(m,)`` and
    ``jacobian(i, p)`` -> ``(m, P)``."""

    def __init__(
        self,
        evaluate: typing.Callable[..., npt.NDArray[np.float64]],
        jacobian: typing.Callable[..., npt.NDArray[np.float64]],
        name: str,
        names: Sequence[str],
        n: int,
    ) -> None: ...
    @property
    def param_names(self) -> List[str]: ...

class NativeFitResult:
    """The engine's FitResult; wrapped by nlsq_rs.FitResult."""

    @property
    def popt(self) -> npt.NDArray[np.float64]: ...
    @property
    def pcov(self) -> npt.NDArray[np.float64]: ...
    @property
    def perr(self) -> npt.NDArray[np.float64]: ...
    @property
    def ci95(self) -> npt.NDArray[np.float64]: ...
    @property
    def correlation(self) -> npt.NDArray[np.float64]: ...
    @property
    def datasets(self) -> List[Tuple[str, str, int, float, List[int]]]: ...
    @property
    def absolute_sigma(self) -> bool: ...
    def bands(
        self,
        model: Model,
        x: npt.NDArray[np.float64],
        sigma: Optional[npt.NDArray[np.float64]] = ...,
    ) -> npt.NDArray[np.float64]: ...
    @property
    def active_mask(self) -> npt.NDArray[np.int8]: ...
    @property
    def param_kinds(self) -> List[str]: ...
    @property
    def param_names(self) -> List[str]: ...
    @property
    def status(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def success(self) -> bool: ...
    @property
    def backend(self) -> str: ...
    @property
    def data_plan(self) -> str: ...
    @property
    def search(
        self,
    ) -> Optional[
        Tuple[int, int, int, int, int, int, int, List[Tuple[List[float], float, int, int, int]]]
    ]: ...
    @property
    def method(self) -> str: ...
    @property
    def loss(self) -> str: ...
    @property
    def covariance_indeterminate(self) -> bool: ...
    @property
    def covariance_issue(self) -> Optional[str]: ...
    def stat(self, name: str) -> float: ...
    def count(self, name: str) -> int: ...
    def to_json(self) -> str: ...

def conf_interval(
    model: Model,
    result: NativeFitResult,
    name: str,
    refit: Callable[[List[float], int], NativeFitResult],
) -> Tuple[float, float, float, float, float]: ...

def fit(
    model: Any,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    p0: Sequence[float],
    lower: Optional[Sequence[float]] = ...,
    upper: Optional[Sequence[float]] = ...,
    sigma: Optional[npt.NDArray[np.float64]] = ...,
    sigma_cov: Optional[npt.NDArray[np.float64]] = ...,
    absolute_sigma: bool = ...,
    loss: str = ...,
    f_scale: float = ...,
    method: Optional[str] = ...,
    ftol: Optional[float] = ...,
    xtol: Optional[float] = ...,
    gtol: Optional[float] = ...,
    max_nfev: Optional[int] = ...,
    x_scale: Optional[Sequence[float]] = ...,
    x_scale_jac: bool = ...,
    nan_policy: str = ...,
    backend: str = ...,
    precision: str = ...,
    fixed: Optional[Sequence[Tuple[str, float]]] = ...,
    ties: Optional[Sequence[Tuple[str, str]]] = ...,
    multistart: Optional[int] = ...,
    seed: int = ...,
) -> NativeFitResult: ...
def fit_plain(
    model: Any,
    x: Any,
    y: Any,
    p0: Any,
    ftol: Optional[float] = ...,
    xtol: Optional[float] = ...,
    gtol: Optional[float] = ...,
) -> Union[
    Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]], NativeFitResult, None
]: ...
def batch_fit(
    model: Union[Model, Callable],
    y: npt.NDArray[np.float64],
    lengths: Optional[Sequence[int]] = ...,
    equal: Optional[int] = ...,
    x_shared: Optional[npt.NDArray[np.float64]] = ...,
    x_per_point: Optional[npt.NDArray[np.float64]] = ...,
    p0: Optional[npt.NDArray[np.float64]] = ...,
    lower: Optional[npt.NDArray[np.float64]] = ...,
    upper: Optional[npt.NDArray[np.float64]] = ...,
    weights: Optional[npt.NDArray[np.float64]] = ...,
    fixed: Optional[Sequence[bool]] = ...,
    estimator: str = ...,
    tolerance: Optional[float] = ...,
    step_tolerance: Optional[float] = ...,
    max_iterations: Optional[int] = ...,
    covariance: bool = ...,
    backend: str = ...,
    precision: str = ...,
) -> Dict[str, Any]: ...
def global_fit(
    models: Sequence[Model],
    xs: Sequence[npt.NDArray[np.float64]],
    ys: Sequence[npt.NDArray[np.float64]],
    sigmas: Sequence[Optional[npt.NDArray[np.float64]]],
    p0s: Sequence[Sequence[float]],
    lowers: Sequence[Optional[Sequence[float]]],
    uppers: Sequence[Optional[Sequence[float]]],
    labels: Sequence[str],
    backends: Sequence[str],
    shared: Sequence[str],
    absolute_sigma: bool = ...,
    loss: str = ...,
    f_scale: float = ...,
    method: Optional[str] = ...,
    ftol: Optional[float] = ...,
    xtol: Optional[float] = ...,
    gtol: Optional[float] = ...,
    max_nfev: Optional[int] = ...,
    nan_policy: str = ...,
    precision: str = ...,
) -> NativeFitResult: ...
def library_names() -> List[str]: ...
