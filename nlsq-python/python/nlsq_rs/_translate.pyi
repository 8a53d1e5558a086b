from typing import Any, Callable, List

class Translation:
    expression: str
    params: List[str]
    n_inputs: int
    name: str
    def __init__(self, expression: str, params: List[str], n_inputs: int, name: str) -> None: ...

def translate(func: Callable[..., Any]) -> Translation: ...
