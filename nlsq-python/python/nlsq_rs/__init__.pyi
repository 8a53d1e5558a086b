"""Type stubs of nlsq_rs: scipy-compatible curve fitting on the nlsq Rust engine."""

from typing import Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt
from typing_extensions import TypedDict, Unpack

from . import _native
from ._errors import (
    BackendError as BackendError,
    ConvergenceError as ConvergenceError,
    FitError as FitError,
    InvalidInputError as InvalidInputError,
    ModelError as ModelError,
    NumericalError as NumericalError,
    OptimizeWarning as OptimizeWarning,
    TranslationError as TranslationError,
)
from ._translate import Translation as Translation, translate as translate

__version__: str
STATE_NAMES: Tuple[str, ...]

ModelLike = Union[str, Callable[..., Any], _native.Model]
ArrayLike = npt.ArrayLike
BoundsLike = Any  # a (lower, upper) pair of scalars/arrays, or an object with lb and ub
JacLike = Union[None, str, Callable[..., Any]]  # a callable jac(x, *p), '2-point', '3-point'

class FitOptions(TypedDict, total=False):
    """The keyword options of :func:`curve_fit` and :func:`fit` beyond scipy's named ones
    (written once here; ``typing_extensions`` is read by type checkers only, stubs are not
    run)."""

    loss: str
    f_scale: float
    ftol: Optional[float]
    xtol: Optional[float]
    gtol: Optional[float]
    max_nfev: Optional[int]
    maxfev: Optional[int]
    x_scale: Union[str, float, ArrayLike]
    backend: str
    precision: str
    fallback: Optional[bool]
    fixed: Union[Mapping[str, float], Sequence[str]]
    ties: Mapping[str, str]
    multistart: Optional[int]
    seed: Optional[int]
    # scipy's options on how it approximates derivatives or prints: accepted, no effect.
    diff_step: Any
    tr_solver: Any
    tr_options: Any
    verbose: Any
    epsfcn: Any
    factor: Any
    diag: Any
    col_deriv: Any
    lsmr_maxiter: Any

def library_names() -> List[str]: ...
def compile_model(f: ModelLike) -> _native.Model: ...

class Bands(Tuple[npt.NDArray[np.float64], ...]):
    value: npt.NDArray[np.float64]
    se_fit: npt.NDArray[np.float64]
    se_obs: npt.NDArray[np.float64]
    conf_lower: npt.NDArray[np.float64]
    conf_upper: npt.NDArray[np.float64]
    pred_lower: npt.NDArray[np.float64]
    pred_upper: npt.NDArray[np.float64]

class ProfileInterval(Tuple[float, ...]):
    value: float
    lower: float
    upper: float
    chi2_min: float
    threshold: float

class Minimum(Tuple[Any, ...]):
    params: npt.NDArray[np.float64]
    cost: float
    starts: int
    start: int
    status: int

class SearchReport(Tuple[Any, ...]):
    starts: int
    seed: int
    finite_starts: int
    rounds: int
    solves: int
    k_passes: int
    vectors: int
    minima: List[Minimum]

class FitResult:
    popt: npt.NDArray[np.float64]
    search: Optional[SearchReport]
    correlation: npt.NDArray[np.float64]
    absolute_sigma: bool
    pcov: npt.NDArray[np.float64]
    perr: npt.NDArray[np.float64]
    ci95: npt.NDArray[np.float64]
    active_mask: npt.NDArray[np.int8]
    param_names: List[str]
    param_kinds: List[str]
    status: int
    message: str
    success: bool
    backend: str
    data_plan: str
    method: str
    loss: str
    covariance_indeterminate: bool
    covariance_issue: Optional[str]
    cost: float
    sum_rho: float
    chi2: float
    reduced_chi2: float
    r_squared: float
    rmse: float
    aic: float
    bic: float
    optimality: float
    f_scale: float
    wall_time_s: float
    n_points: int
    n_omitted: int
    dof: int
    nfev: int
    njev: int
    iterations: int
    model: str
    expression: Optional[str]
    p0: npt.NDArray[np.float64]
    p0_source: str
    fallback: bool
    fallback_reason: Optional[str]
    @property
    def params(self) -> Dict[str, float]: ...
    def predict(self, x: ArrayLike) -> npt.NDArray[np.float64]: ...
    def bands(self, x: ArrayLike, sigma: Optional[ArrayLike] = ...) -> Bands: ...
    def conf_interval(
        self, names: Union[str, Sequence[str], None] = ...
    ) -> Dict[str, ProfileInterval]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self, **kwargs: Any) -> str: ...
    def _repr_html_(self) -> str: ...

class BatchResult:
    params: npt.NDArray[np.float64]
    perr: Optional[npt.NDArray[np.float64]]
    covariance: Optional[npt.NDArray[np.float64]]
    states: npt.NDArray[np.uint8]
    chi2: npt.NDArray[np.float64]
    iterations: npt.NDArray[np.uint32]
    backend: str
    precision: str
    reason: str
    param_names: List[str]
    fallback: bool
    fallback_reason: Optional[str]
    @property
    def converged(self) -> npt.NDArray[np.bool_]: ...
    @property
    def n_fits(self) -> int: ...
    def state_counts(self) -> Dict[str, int]: ...

@overload
def curve_fit(
    f: ModelLike,
    xdata: Any,
    ydata: ArrayLike,
    p0: Optional[ArrayLike] = ...,
    sigma: Optional[ArrayLike] = ...,
    absolute_sigma: bool = ...,
    check_finite: Optional[bool] = ...,
    bounds: BoundsLike = ...,
    method: Optional[str] = ...,
    jac: JacLike = ...,
    *,
    full_output: Literal[False] = ...,
    nan_policy: Optional[str] = ...,
    **kwargs: Unpack[FitOptions],
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
@overload
def curve_fit(
    f: ModelLike,
    xdata: Any,
    ydata: ArrayLike,
    p0: Optional[ArrayLike] = ...,
    sigma: Optional[ArrayLike] = ...,
    absolute_sigma: bool = ...,
    check_finite: Optional[bool] = ...,
    bounds: BoundsLike = ...,
    method: Optional[str] = ...,
    jac: JacLike = ...,
    *,
    full_output: Literal[True],
    nan_policy: Optional[str] = ...,
    **kwargs: Unpack[FitOptions],
) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], Dict[str, Any], str, int]: ...
def fit(
    f: ModelLike,
    xdata: Any,
    ydata: ArrayLike,
    p0: Optional[ArrayLike] = ...,
    sigma: Optional[ArrayLike] = ...,
    absolute_sigma: bool = ...,
    check_finite: Optional[bool] = ...,
    bounds: BoundsLike = ...,
    method: Optional[str] = ...,
    jac: JacLike = ...,
    *,
    nan_policy: Optional[str] = ...,
    **kwargs: Unpack[FitOptions],
) -> FitResult: ...
def batch_fit(
    f: ModelLike,
    y: ArrayLike,
    x: Optional[ArrayLike] = ...,
    p0: Optional[ArrayLike] = ...,
    *,
    lengths: Optional[Sequence[int]] = ...,
    bounds: Optional[BoundsLike] = ...,
    sigma: Optional[ArrayLike] = ...,
    weights: Optional[ArrayLike] = ...,
    fixed: Optional[Sequence[bool]] = ...,
    estimator: str = ...,
    tol: Optional[float] = ...,
    xtol: Optional[float] = ...,
    max_iterations: Optional[int] = ...,
    covariance: bool = ...,
    backend: str = ...,
    precision: str = ...,
    jac: JacLike = ...,
    fallback: Optional[bool] = ...,
) -> BatchResult: ...

class DatasetPart(Tuple[str, str, int, float, List[int], npt.NDArray[np.float64]]):
    label: str
    model: str
    n_points: int
    cost: float
    params: List[int]
    popt: npt.NDArray[np.float64]

class Dataset:
    model: _native.Model
    name: str
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    p0: npt.NDArray[np.float64]
    sigma: Optional[npt.NDArray[np.float64]]
    label: Optional[str]
    backend: str
    def __init__(
        self,
        f: ModelLike,
        xdata: ArrayLike,
        ydata: ArrayLike,
        p0: Optional[ArrayLike] = ...,
        sigma: Optional[ArrayLike] = ...,
        bounds: BoundsLike = ...,
        label: Optional[str] = ...,
        backend: str = ...,
    ) -> None: ...

class GlobalFitResult(FitResult):
    datasets: List[DatasetPart]
    def predict(self, x: ArrayLike, dataset: Union[int, str] = ...) -> npt.NDArray[np.float64]: ...  # type: ignore[override]

def global_fit(
    datasets: Sequence[Dataset],
    shared: Union[str, Sequence[str]] = ...,
    *,
    method: Optional[str] = ...,
    loss: str = ...,
    f_scale: float = ...,
    absolute_sigma: bool = ...,
    ftol: Optional[float] = ...,
    xtol: Optional[float] = ...,
    gtol: Optional[float] = ...,
    max_nfev: Optional[int] = ...,
    nan_policy: Optional[str] = ...,
    precision: str = ...,
) -> GlobalFitResult: ...
