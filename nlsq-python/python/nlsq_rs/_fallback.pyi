from typing import Any, Callable, List, Optional, Sequence

import numpy as np
import numpy.typing as npt

EPS: float

def param_names(f: Callable[..., Any], p0: Optional[Any]) -> List[str]: ...

class Functions:
    f: Callable[..., Any]
    name: str
    x: Any
    n: int
    npar: int
    jac: Any
    def __init__(self, f: Callable[..., Any], xdata: Any, n: int, npar: int, jac: Any = ...) -> None: ...
    def evaluate(self, p: Sequence[float]) -> npt.NDArray[np.float64]: ...
    def jacobian(self, p: Sequence[float]) -> npt.NDArray[np.float64]: ...

class BatchFunctions:
    f: Callable[..., Any]
    name: str
    x_of: Callable[[int], Any]
    sizes: Any
    npar: int
    jac: Any
    def __init__(
        self,
        f: Callable[..., Any],
        x_of: Callable[[int], Any],
        sizes: Any,
        npar: int,
        jac: Any = ...,
    ) -> None: ...
    def functions(self, i: int) -> Functions: ...
    def evaluate(self, i: int, p: Sequence[float]) -> npt.NDArray[np.float64]: ...
    def jacobian(self, i: int, p: Sequence[float]) -> npt.NDArray[np.float64]: ...
