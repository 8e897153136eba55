"""The types the public API's annotations name (PEP 484). Only for
annotations: nothing here is checked at run time."""

from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, List,
                    Optional, Sequence, Tuple, Union)

if TYPE_CHECKING:   # numpy is optional: named for type checkers only
    import numpy

#: A coalition: an int bitmask (bit i: player i) or an iterable of indices.
Coalition = Union[int, Iterable[int]]
#: Numbers in: a list, a tuple, an array.array, a numpy array...
Numbers = Iterable[float]
#: Numbers out: a list, or a numpy array with ``as_numpy=True``.
FloatVector = Union[List[float], "numpy.ndarray"]
IntVector = Union[List[int], "numpy.ndarray"]
#: A square matrix out: a list of rows, or a 2-D numpy array.
FloatMatrix = Union[List[List[float]], "numpy.ndarray"]
#: A parameter: its name, its member of the parameter enum, or its C id.
ParamName = Union[str, int]
#: A parameter's value: a number, a bool, or the name of an enum value.
ParamValue = Union[int, float, bool, str]
#: A callback the library calls (oracle, verifier, scorer, repair, check:
#: docs/python.md, "Callbacks and exceptions", gives their arguments).
Callback = Callable[..., Any]
#: A JSON record (a trainer's, from the exports): what json.dumps takes.
Record = Dict[str, Any]

__all__ = ["Any", "Callable", "Dict", "Iterable", "List", "Optional",
           "Sequence", "Tuple", "Union", "Coalition", "Numbers",
           "FloatVector", "FloatMatrix", "IntVector", "ParamName", "ParamValue", "Callback",
           "Record"]
