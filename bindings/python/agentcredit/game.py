"""Reference games read from JSON (``ac_game``): closed-form and table games
for tests, benchmarks and demos. docs/estimators.md gives the format."""

from __future__ import annotations

import json
import os
from ctypes import byref, c_double, c_int32, c_uint32, c_void_p, \
    create_string_buffer
from typing import Any, Dict, Iterable, List, Optional, Union

from . import _buffers as B
from . import allocator as _allocator
from ._errors import make_error
from ._handle import Handle
from ._lib import ac_game_limits, lib
from ._types import Coalition, FloatVector

_ERR_CAP = 1024
_LIMIT_KEYS = ("max_bytes", "max_memory", "max_exact_work")


def default_limits() -> Dict[str, int]:
    """The library's default limits, a dict: ``max_bytes`` (the text),
    ``max_memory`` (what the game may allocate, the parse and
    ``exact()``'s work space included) and ``max_exact_work`` (the steps
    ``exact()`` may take)."""
    limits = ac_game_limits()
    lib.ac_game_limits_default(byref(limits))
    return {key: getattr(limits, key) for key in _LIMIT_KEYS}


def _limits_pointer(limits):
    """``const ac_game_limits *`` for a load: None (the defaults), a dict
    of some of ``max_bytes``, ``max_memory``, ``max_exact_work`` (the
    others keep their defaults), or an ``ac_game_limits`` structure."""
    if limits is None:
        return None
    if isinstance(limits, ac_game_limits):
        return byref(limits)
    if not isinstance(limits, dict):
        raise TypeError("limits must be a dict with keys among %s, got %s"
                        % (", ".join(_LIMIT_KEYS), type(limits).__name__))
    unknown = sorted(set(limits) - set(_LIMIT_KEYS))
    if unknown:
        raise TypeError("unknown game limit %s (known: %s)"
                        % (", ".join(map(repr, unknown)),
                           ", ".join(_LIMIT_KEYS)))
    struct = ac_game_limits()
    lib.ac_game_limits_default(byref(struct))
    for key, value in limits.items():
        if value is not None:
            setattr(struct, key, B.u64(value, key))
    return byref(struct)


class Game(Handle):
    """A cooperative game: ``Game(spec)`` with spec a dict or JSON text (str
    or bytes), or ``Game.load(path)``. One of::

        {"n": N, "values": [v(S) for S = 0 .. 2**N - 1]}
        {"n": N, "terms": [{"coef": c, "members": [i, ...]}, ...]}
        {"n": N, "type": "airport", "costs": [...]}
        {"n": N, "type": "voting", "weights": [...], "quota": q}

    optionally with ``"exact"``, ``"noise"``, ``"name"``, ``"description"``.
    Raises ParseError (TooLarge, NoMemory) with the library's message saying
    what was wrong and where.

    ``limits`` bounds what the game may cost (a text or file from someone
    else): a dict of ``max_bytes``, ``max_memory``, ``max_exact_work``
    (``Game.default_limits()`` gives the defaults; a key left out keeps its
    default). A game past a limit raises TooLarge naming it, at the load or
    at ``exact()``.

    ``game(coalitions)`` is a Python oracle (one noisy draw per coalition);
    ``Estimator.run(game)`` uses the C oracle directly. Not thread-safe for
    one game (its noise generator): one Game per thread."""

    _kind = "game"
    #: The library's default limits (a dict); see :func:`default_limits`.
    default_limits = staticmethod(default_limits)

    def __init__(self, spec: Union[str, bytes, Dict[str, Any]], *,
                 allocator: Optional[_allocator.Allocator] = None,
                 limits: Optional[Dict[str, int]] = None) -> None:
        super().__init__()
        if isinstance(spec, dict):
            text = json.dumps(spec).encode("utf-8")
        elif isinstance(spec, str):
            text = spec.encode("utf-8")
        elif isinstance(spec, (bytes, bytearray, memoryview)):
            text = bytes(spec)
        else:
            raise TypeError("Game(spec): a dict or JSON text, got %s (use "
                            "Game.load(path) for a file)" % type(spec)
                            .__name__)
        out, err = c_void_p(), create_string_buffer(_ERR_CAP)
        rc = lib.ac_game_load_json(byref(out), text, len(text),
                                   _allocator.pointer(allocator),
                                   _limits_pointer(limits), err, _ERR_CAP)
        if rc:
            raise make_error(rc, err.value.decode("utf-8", "replace"),
                             "ac_game_load_json")
        self._init(out.value, allocator)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], *,
             allocator: Optional[_allocator.Allocator] = None,
             limits: Optional[Dict[str, int]] = None) -> Game:
        """Reads a game file (IOFailure when it cannot be read; limits as
        for ``Game(spec)``)."""
        lim = _limits_pointer(limits)
        self = cls.__new__(cls)
        Handle.__init__(self)
        out, err = c_void_p(), create_string_buffer(_ERR_CAP)
        rc = lib.ac_game_load_file(byref(out), os.fsencode(path),
                                   _allocator.pointer(allocator), lim, err,
                                   _ERR_CAP)
        if rc:
            # the library's message names the path already, most of the time
            detail = err.value.decode("utf-8", "replace")
            where = os.fsdecode(os.fspath(path))
            raise make_error(rc, detail if detail.startswith(where + ": ")
                             else "%s: %s" % (where, detail) if detail
                             else where, "ac_game_load_file")
        self._init(out.value, allocator)
        return self

    def _init(self, ptr, allocator):
        self._adopt(ptr, keep=allocator)
        n = c_uint32()
        with self._use("ac_game_players") as p:
            self._check(lib.ac_game_players(p, byref(n)), p,
                        "ac_game_players")
        self._n = n.value
        self._words = lib.ac_coalition_words(self._n)

    def _describe(self):
        return "n=%d" % self._n

    @property
    def n(self) -> int:
        """The number of players."""
        return self._n

    def value(self, coalition: Coalition) -> float:
        """v(S), the expected value (no noise)."""
        c = B.coalition(coalition, self._n)
        words = B.coalition_words_array([c], self._words)
        out = c_double()
        with self._use("ac_game_value") as ptr:
            self._check(lib.ac_game_value(ptr, words, self._words,
                                          byref(out)),
                        ptr, "ac_game_value")
        return out.value

    def values(self) -> List[float]:
        """The whole value table ``[v(S) for S in range(2**n)]`` (small n)."""
        return [self.value(s) for s in range(1 << self._n)]

    def exact(self, as_numpy: bool = False) -> FloatVector:
        """The Shapley values: the file's ``exact``, a closed form, dynamic
        programming or the table (TooLarge when none applies). Ctrl-C on
        the main thread raises KeyboardInterrupt at once; the computation,
        which nothing can cancel, finishes in the background, and the
        game's next call waits for it."""
        phi = (c_double * self._n)()
        with self._use("ac_game_exact") as ptr:
            self._check(self._uncancellable_call("ac_game_exact", ptr, phi,
                                                 self._n),
                        ptr, "ac_game_exact")
        return B.output(phi, as_numpy)

    def seed(self, seed: int) -> None:
        """Seeds the game's noise generator (default 0)."""
        s = B.u64(seed, "seed")
        with self._use("ac_game_seed") as ptr:
            self._check(lib.ac_game_seed(ptr, s), ptr, "ac_game_seed")

    def __call__(self, coalitions: Iterable[Coalition]) -> List[Optional[float]]:
        """One draw per coalition through ``ac_game_oracle``: a Python
        oracle (a list of floats; NaN marks a failed draw)."""
        cs = [B.coalition(c, self._n) for c in coalitions]
        words = B.coalition_words_array(cs, self._words)
        count = len(cs)
        values = (c_double * count)(*([float("nan")] * count))
        status = (c_int32 * count)()
        with self._use("ac_game_oracle") as ptr:
            self._check(lib.ac_game_oracle(ptr, words, self._words, count,
                                           values, status),
                        ptr, "ac_game_oracle")
        return [v if s == 0 else None for v, s in zip(values, status)]
