"""Shapley credit over agents: the estimator, and exact values from a table."""

from __future__ import annotations

import collections
import ctypes
from collections.abc import Mapping
from ctypes import byref, c_double, c_int32, c_uint32, c_uint64, c_void_p
from typing import Iterable, List, Optional, Tuple, Union

from . import _buffers as B
from . import _interrupt
from . import allocator as _allocator
from ._constants import (EXACT_MAX_PLAYERS, MAX_PLAYERS, EstimatorAudit,
                         EstimatorOutcome, EstimatorParam, Method, Status)
from ._errors import make_error
from ._handle import (Audited, audit_table, install_params, param_table,
                      reset_flags, trampoline)
from ._lib import ORACLE_FN, lib
from ._types import Callback, Coalition, FloatVector, Numbers, ParamValue

#: The estimator's result: ``phi[i]`` and its standard error ``se[i]``.
ShapleyResult = collections.namedtuple("ShapleyResult", "phi se")
#: Where an ask/tell run stands.
Progress = collections.namedtuple("Progress", "done outstanding")


def coalition_words(n_players: int) -> int:
    """``ac_coalition_words``: uint64 words per coalition of n players."""
    return lib.ac_coalition_words(B.u32(n_players, "n_players"))


def shapley_exact(values: Numbers, as_numpy: bool = False) -> FloatVector:
    """Exact Shapley values of the game whose value table is ``values``:
    ``values[S] = v(S)`` for every bitmask S of n players (bit i: player i),
    so ``len(values) == 2**n``, 1 <= n <= ``EXACT_MAX_PLAYERS``. Returns
    ``phi`` (a list, or a numpy array with ``as_numpy=True``);
    ``sum(phi) == v(all) - v(empty)`` to a relative 1e-12.
    ``ac_shapley_exact``; thread-safe."""
    table = B.to_array(values, c_double, "values")
    length = len(table)
    n = max(length.bit_length() - 1, 0)
    if length != 1 << n or n == 0:
        raise make_error(Status.E_INVALID_ARG, "values: the table has %d "
                         "entries, not 2**n for some n >= 1" % length,
                         "ac_shapley_exact")
    if n > EXACT_MAX_PLAYERS:
        raise make_error(Status.E_TOO_LARGE, "values: %d players, beyond %d"
                         % (n, EXACT_MAX_PLAYERS), "ac_shapley_exact")
    phi = (c_double * n)()
    # Nothing can cancel it: Ctrl-C raises at once, and the computation
    # (seconds for n in the high twenties) finishes alone on its worker.
    rc, interrupt = _interrupt.call(lib.ac_shapley_exact,
                                    (n, table, length, phi))
    if interrupt is not None:
        raise interrupt
    if rc:
        raise make_error(rc, "ac_shapley_exact(n=%d): %s"
                         % (n, "the values must be finite"
                            if rc == Status.E_INVALID_ARG else "failed"),
                         "ac_shapley_exact")
    return B.output(phi, as_numpy)


_AUDIT_KEYS = audit_table(
    EstimatorAudit,
    values={EstimatorAudit.METHOD: Method,
            EstimatorAudit.OUTCOME: EstimatorOutcome})


#: The keys of a handle's ``_keep`` that oracle_callback's ``keep`` fills.
ORACLE_KEYS = ("oracle", "game", "callable")


def oracle_callback(state, oracle):
    """The C side of an oracle, for ``ac_estimator_set_oracle`` and
    ``ac_pipeline_set_oracle``: ``(fn, user, keep)``, ``keep`` what the
    handle must keep alive while C may call ``fn`` (under ORACLE_KEYS).
    ``oracle`` is a callable ``oracle(coalitions) -> values`` (run through
    a trampoline that stores what it raises on ``state``), a Game (the
    library's ``ac_game_oracle``, no Python per call; its players are
    checked by the caller) or None (unregisters)."""
    from .game import Game
    if oracle is None:
        return ORACLE_FN(), None, {}
    if isinstance(oracle, Game):
        with oracle._use("set_oracle") as gptr:
            user = gptr
        fn = ctypes.cast(lib.ac_game_oracle, ORACLE_FN)
        return fn, user, {"oracle": fn, "game": oracle}
    if callable(oracle):
        def body(_user, coalitions, words, count, values, status,
                 _fn=oracle):
            batch = B.read_coalitions(coalitions, words, count)
            B.write_results(_fn(batch), count, values, status, "oracle")
        fn = ORACLE_FN(trampoline(state, body))
        return fn, None, {"oracle": fn, "callable": oracle}
    raise TypeError("oracle must be callable, a Game or None, got %s"
                    % type(oracle).__name__)


def _create_error(rc, what, n, limit):
    if rc == Status.E_TOO_LARGE:
        detail = "%s = %d is beyond the library's limit (%d)" % (what, n,
                                                                 limit)
    elif rc == Status.E_INVALID_ARG:
        detail = "%s = %d: must be at least 1" % (what, n)
    else:
        detail = "%s = %d" % (what, n)
    return detail


class Estimator(Audited):
    """A Shapley estimator for a game of ``n_players`` (``ac_estimator``).

    ``Estimator(n, method='auto', budget=2048, seed=0, batch=64, repeats=1,
    max_retries=2, noisy=0, target_se=0.0, oracle=None, known=None,
    allocator=None)``

    Parameters are keyword arguments and properties (``est.budget = 500``);
    ``method`` takes ``'auto'``, ``'exact'``, ``'permutation'``,
    ``'kernelshap'``, ``'adaptive'``, ``'oddshap'``, ``'surrogate'``
    (or a :class:`Method` member). ``known`` maps coalitions to values the host already has
    (typically v(all) and v(empty)); ``oracle``
    is a Python callable or a :class:`agentcredit.Game` (see
    :meth:`set_oracle`).

    Coalitions are ints (bit i: player i) or iterables of player indices;
    the estimator hands them out as ints. Parameters and known values
    change only while the estimator is idle (after creation or
    ``reset()``); once a run has started they raise StateError. Use it as
    a context manager, or
    call :meth:`close`; it is also freed when collected. One thread at a
    time (calls are serialised by a lock); :meth:`cancel` from any thread.
    """

    _kind = "estimator"
    _PARAM_SET = EstimatorParam
    _PARAMS = param_table(EstimatorParam, {
        EstimatorParam.METHOD: ("enum", "the method, default 'auto'", Method),
        EstimatorParam.BUDGET: ("int", "hard cap on oracle evaluations, "
                                "default 2048"),
        EstimatorParam.SEED: ("int", "the seed, default 0"),
        EstimatorParam.BATCH: ("int", "coalitions per oracle call in run(), "
                               "default 64"),
        EstimatorParam.REPEATS: ("int", "evaluations per coalition, "
                                 "default 1"),
        EstimatorParam.MAX_RETRIES: ("int", "retries of a failed evaluation, "
                                     "default 2"),
        EstimatorParam.NOISY: ("int", "1 declares the oracle noisy ('auto' "
                               "may then repeat evaluations), default 0"),
        EstimatorParam.TARGET_SE: ("f64", "stop once every standard error "
                                   "is at most this; 0 (default) off"),
    })
    _AUDIT = _AUDIT_KEYS

    def __init__(self, n_players: int, *, oracle: Optional[Callback] = None,
                 known: Optional[Mapping[Coalition, float]] = None,
                 allocator: Optional[_allocator.Allocator] = None,
                 **params: ParamValue) -> None:
        super().__init__()
        n = B.size(n_players, "n_players")
        out = c_void_p()
        rc = lib.ac_estimator_create(byref(out), n,
                                     _allocator.pointer(allocator))
        if rc:
            raise make_error(rc, _create_error(rc, "n_players", n,
                                               MAX_PLAYERS),
                             "ac_estimator_create")
        self._adopt(out.value, keep=allocator)
        self._n = n
        self._words = lib.ac_coalition_words(n)
        try:
            self._set_params(params)
            if known:
                self.set_values(known)
            if oracle is not None:
                self.set_oracle(oracle)
        except BaseException:
            self.close()
            raise

    def _describe(self):
        return "n=%d" % self._n

    @property
    def n(self) -> int:
        """The number of players."""
        return self._n

    @property
    def words(self) -> int:
        """uint64 words per coalition (``ac_coalition_words(n)``)."""
        return self._words

    def coalition(self, c: Coalition) -> int:
        """A coalition (int bitmask or iterable of indices) as an int,
        checked against n."""
        return B.coalition(c, self._n)

    @property
    def grand_coalition(self) -> int:
        """All players, as an int."""
        return (1 << self._n) - 1

    # -- setup -------------------------------------------------------------
    def set_value(self, coalition: Coalition, value: float) -> None:
        """A value the host already knows (free, exact). While idle only
        (StateError once a run has started, until ``reset()``)."""
        c = B.coalition(coalition, self._n)
        words = B.coalition_words_array([c], self._words)
        v = B._number(value, "value")
        with self._use("ac_estimator_set_value") as ptr:
            self._check(lib.ac_estimator_set_value(ptr, words, self._words,
                                                   v),
                        ptr, "ac_estimator_set_value")

    def set_values(self, known: Mapping[Coalition, float]) -> None:
        """``set_value`` for each ``coalition: value`` of a mapping (or an
        iterable of pairs)."""
        items = known.items() if isinstance(known, Mapping) else known
        for c, v in items:
            self.set_value(c, v)

    def set_oracle(self, oracle: Optional[Callback]) -> None:
        """Registers the oracle that :meth:`run` calls.

        * a callable ``oracle(coalitions) -> values``: ``coalitions`` is a
          list of ints (a batch of up to ``batch``), ``values`` one number
          per coalition in the same order (a list, tuple, array...). A
          ``None``, NaN or infinite value marks that evaluation failed: it is
          retried within the budget. Raising aborts the run; :meth:`run`
          then re-raises that exception, chained to a CallbackError.
        * an :class:`agentcredit.Game`: the library's own ``ac_game_oracle``
          is called directly, without Python in the loop.
        * None: unregisters.
        """
        from .game import Game
        if isinstance(oracle, Game) and oracle.n != self._n:
            raise make_error(Status.E_INVALID_ARG, "the game has %d "
                             "players, the estimator %d"
                             % (oracle.n, self._n),
                             "set_oracle")
        fn, user, keep = oracle_callback(self._cb, oracle)
        with self._use("ac_estimator_set_oracle") as ptr:
            self._check(lib.ac_estimator_set_oracle(ptr, fn, user), ptr,
                        "ac_estimator_set_oracle")
            for k in ORACLE_KEYS:
                self._keep.pop(k, None)
            self._keep.update(keep)

    # -- running -------------------------------------------------------------
    def run(self, oracle: Optional[Callback] = None,
            as_numpy: bool = False) -> ShapleyResult:
        """Runs to the end with the oracle (given here or registered before)
        and returns :meth:`result`. The GIL is released while C runs; a
        Python oracle takes it back for each batch. Ctrl-C (on the main
        thread) cancels the run and raises KeyboardInterrupt (see
        docs/python.md, "Ctrl-C")."""
        if oracle is not None:
            self.set_oracle(oracle)
        with self._use("ac_estimator_run") as ptr:
            game = self._keep.get("game")
            if game is not None:
                with game._use("run (the oracle game)"):
                    rc = self._long_call("ac_estimator_run", ptr)
            else:
                rc = self._long_call("ac_estimator_run", ptr)
            self._check(rc, ptr, "ac_estimator_run")
            return self.result(as_numpy)

    def ask(self, max_count: int = 64) -> List[Tuple[int, int]]:
        """Up to ``max_count`` evaluations to do, as a list of
        ``(ticket, coalition)`` pairs (coalition an int). An empty list:
        the run is done, or it waits for outstanding tells (see
        :meth:`progress`). The first ask starts the run."""
        m = B.u32(max_count, "max_count")
        # never more than the budget is handed out: size the buffers by it
        m = min(m, self.get_param("budget"))
        tickets = (c_uint64 * m)()
        coalitions = (c_uint64 * (m * self._words))()
        count = c_uint32()
        with self._use("ac_estimator_ask") as ptr:
            # the ask that ends the run computes the result: interruptible
            self._check(self._long_call("ac_estimator_ask", ptr, m, tickets,
                                        coalitions, byref(count)),
                        ptr, "ac_estimator_ask")
        k = count.value
        return list(zip(tickets[:k],
                        B.read_coalitions(coalitions, self._words, k)))

    def tell(self, tickets: Union[Iterable[int], Mapping[int, Optional[float]]],
             values: Optional[Iterable[Optional[float]]] = None,
             status: Optional[Iterable[int]] = None) -> None:
        """Gives values back for asked tickets, in any order and grouping:
        ``tell([t1, t2], [v1, v2])`` or ``tell({t1: v1, t2: v2})``. A value
        None (or NaN, inf, or ``status[k] != 0``) marks a failed evaluation,
        retried within the budget. Raises OracleError / BudgetError when
        this tell ended the run with that error."""
        if values is None and isinstance(tickets, Mapping):
            tickets, values = list(tickets.keys()), list(tickets.values())
        t = B.to_array(tickets, c_uint64, "tickets")
        vals, st = B.values_and_status(values, status, len(t))
        with self._use("ac_estimator_tell") as ptr:
            self._check(lib.ac_estimator_tell(ptr, len(t), t, vals, st), ptr,
                        "ac_estimator_tell")

    def progress(self) -> Progress:
        """``Progress(done, outstanding)``: done is True once the result is
        ready (or the run failed), outstanding the asked, untold
        evaluations."""
        done, outstanding = c_int32(), c_uint64()
        with self._use("ac_estimator_progress") as ptr:
            self._check(lib.ac_estimator_progress(ptr, byref(done),
                                                  byref(outstanding)),
                        ptr, "ac_estimator_progress")
        return Progress(bool(done.value), outstanding.value)

    @property
    def done(self) -> bool:
        """True once the run finished (or failed)."""
        return self.progress().done

    def result(self, as_numpy: bool = False) -> ShapleyResult:
        """``ShapleyResult(phi, se)``: each player's credit and its standard
        error (0 for exact values, inf when the method had too few samples).
        Lists, or numpy arrays with ``as_numpy=True``. StateError before the
        run is done."""
        phi = (c_double * self._n)()
        se = (c_double * self._n)()
        with self._use("ac_estimator_result") as ptr:
            self._check(lib.ac_estimator_result(ptr, phi, se, self._n), ptr,
                        "ac_estimator_result")
        return ShapleyResult(B.output(phi, as_numpy), B.output(se, as_numpy))

    def reset(self, *what: Union[str, int]) -> None:
        """Resets ``'session'`` (the default: forget the run, i.e. the
        cache, tickets, result, audit and a cancellation), ``'params'``
        (the defaults), ``'known'`` (the values of ``set_value``) or
        ``'all'``. ``'params'`` and ``'known'`` need an idle estimator or
        ``'session'`` with them (else StateError)."""
        flags = reset_flags(what or ("session",))
        with self._use("ac_estimator_reset") as ptr:
            self._check(lib.ac_estimator_reset(ptr, flags), ptr,
                        "ac_estimator_reset")

    def cancel(self) -> None:
        """Asks the run to stop (Cancelled at the next ask, or between oracle
        calls in run). Safe from any thread, also while another thread is
        inside run(), and from the oracle; a no-op on a closed handle."""
        with self._ptr_lock:
            if self._ptr is not None:
                lib.ac_estimator_cancel(self._ptr)


install_params(Estimator)
