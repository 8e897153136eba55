"""An optional per-handle allocator (``struct ac_allocator``).

Most hosts never need one: without it the library uses malloc/free. Pass
``allocator=Allocator(alloc, free)`` to a handle's constructor to route its
memory elsewhere: ``alloc(size) -> address`` (an int; 0 or None when it
fails, which the library reports as NoMemory and survives) and
``free(address)``. Either may also be a C function pointer (a ctypes foreign
function, e.g. from an arena library), in which case no Python runs in the
allocation path. The handle keeps the allocator (and its callbacks) alive
until it is freed.

Python callables are called with the GIL, from whichever thread uses the
handle (during a long call made on the main thread, ``run()`` or ``ask()``,
that is the binding's worker thread: see "Ctrl-C" in docs/python.md); an
exception in ``alloc`` counts as a failed allocation, one in ``free`` is
ignored, and both are kept in ``errors`` for inspection."""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Optional, Union

from ._lib import ALLOC_FN, FREE_FN, ac_allocator


class Allocator:
    """``Allocator(alloc, free, opaque=None)``; see the module docstring."""

    def __init__(self, alloc: Union[Callable[[int], Optional[int]], Any],
                 free: Union[Callable[[int], Any], Any],
                 opaque: Optional[int] = None) -> None:
        self.errors = []
        if isinstance(alloc, ctypes._CFuncPtr):
            self._alloc = ctypes.cast(alloc, ALLOC_FN)
        else:
            def _alloc(_opaque, size, _fn=alloc, _errors=self.errors):
                try:
                    return _fn(size) or None
                except BaseException as exc:  # noqa: B902
                    _errors.append(exc)
                    return None
            self._alloc = ALLOC_FN(_alloc)
        if isinstance(free, ctypes._CFuncPtr):
            self._free = ctypes.cast(free, FREE_FN)
        else:
            def _free(_opaque, ptr, _fn=free, _errors=self.errors):
                try:
                    if ptr:
                        _fn(ptr)
                except BaseException as exc:  # noqa: B902
                    _errors.append(exc)
            self._free = FREE_FN(_free)
        self.struct = ac_allocator(ctypes.sizeof(ac_allocator), 0,
                                   self._alloc, self._free, opaque)

    def _pointer(self):
        return ctypes.pointer(self.struct)


def pointer(allocator):
    """The ``const ac_allocator *`` for a constructor (None: NULL)."""
    if allocator is None:
        return None
    if isinstance(allocator, ac_allocator):
        return ctypes.pointer(allocator)
    if isinstance(allocator, Allocator):
        return allocator._pointer()
    raise TypeError("allocator must be an agentcredit.Allocator or an "
                    "ac_allocator structure, got %s"
                    % type(allocator).__name__)
