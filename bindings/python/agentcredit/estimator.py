"""Shapley credit over agents: the estimator, and exact values from a table."""

from __future__ import annotations

import collections
import ctypes
from collections.abc import Mapping
from ctypes import (byref, c_double, c_int32, c_int64, c_uint32, c_uint64,
                    c_void_p, create_string_buffer)
from typing import Iterable, List, Optional, Tuple, Union

from . import _buffers as B
from . import _interrupt
from . import allocator as _allocator
from ._constants import (EXACT_MAX_PLAYERS, MAX_PLAYERS, EstimatorAudit,
                         EstimatorOutcome, EstimatorParam, Method, PlanFlag,
                         PlanNoise, Status)
from ._errors import make_error
from ._handle import (Audited, audit_table, install_params, param_table,
                      reset_flags, trampoline)
from ._lib import ORACLE_FN, lib
from ._types import (Callback, Coalition, FloatMatrix, FloatVector, Numbers,
                     ParamValue)

#: The estimator's result: ``phi[i]`` and its standard error ``se[i]``.
ShapleyResult = collections.namedtuple("ShapleyResult", "phi se")
#: The pairs' interactions as n x n symmetric matrices: ``index[i][j]``
#: and its standard error ``se[i][j]``; the diagonal is NaN (a player has no
#: interaction with itself).
InteractionResult = collections.namedtuple("InteractionResult", "index se")
#: Where an ask/tell run stands.
Progress = collections.namedtuple("Progress", "done outstanding")
#: A planned budget and the standard error the planner's model gives at it.
Plan = collections.namedtuple("Plan", "evaluations se")


def coalition_words(n_players: int) -> int:
    """``ac_coalition_words``: uint64 words per coalition of n players."""
    return lib.ac_coalition_words(B.u32(n_players, "n_players"))


def _value_table(values: Numbers, fname: str) -> Tuple[ctypes.Array, int,
                                                        int]:
    """A full value table as a C array, its length and its n players
    (``fname`` names the C function in the errors)."""
    table = B.to_array(values, c_double, "values")
    length = len(table)
    n = max(length.bit_length() - 1, 0)
    if length != 1 << n or n == 0:
        raise make_error(Status.E_INVALID_ARG, "values: the table has %d "
                         "entries, not 2**n for some n >= 1" % length, fname)
    if n > EXACT_MAX_PLAYERS:
        raise make_error(Status.E_TOO_LARGE, "values: %d players, beyond %d"
                         % (n, EXACT_MAX_PLAYERS), fname)
    return table, length, n


def shapley_exact(values: Numbers, as_numpy: bool = False) -> FloatVector:
    """Exact Shapley values of the game whose value table is ``values``:
    ``values[S] = v(S)`` for every bitmask S of n players (bit i: player i),
    so ``len(values) == 2**n``, 1 <= n <= ``EXACT_MAX_PLAYERS``. Returns
    ``phi`` (a list, or a numpy array with ``as_numpy=True``);
    ``sum(phi) == v(all) - v(empty)`` to a relative 1e-12.
    ``ac_shapley_exact``; thread-safe."""
    table, length, n = _value_table(values, "ac_shapley_exact")
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


def plan(n_players: int, target_se: float, *,
         success_rate: Optional[float] = None, sd: Optional[float] = None,
         ends_known: bool = False) -> Plan:
    """The budget ``Method.ADAPTIVE`` needs for a standard error of
    ``target_se`` on every agent's credit, before any rollout
    (``ac_estimator_plan``). The noise: 0/1 rollouts whose success rate is
    expected near ``success_rate`` (0.5, the default, is the worst case),
    or, with ``sd``, values whose single evaluation has that standard
    deviation. ``ends_known``: v(empty) and v(all) will be given as known
    values. Returns ``Plan(evaluations, se)``: the budget to set and the
    standard error the model gives at it (``target_se`` or less). Raises
    InvalidArgument for a bad input, TooLarge beyond
    ``ADAPTIVE_MAX_PLAYERS`` players or beyond the budget's bound.
    Thread-safe (docs/estimators.md, "Planning a budget")."""
    if sd is not None and success_rate is not None:
        raise make_error(Status.E_INVALID_ARG, "plan: success_rate (0/1 "
                         "rollouts) and sd (a known noise) are two noise "
                         "models: give one", "ac_estimator_plan")
    noise, param = ((PlanNoise.ROLLOUTS,
                     0.5 if success_rate is None else success_rate)
                    if sd is None else (PlanNoise.SD, sd))
    flags = PlanFlag.ENDS_KNOWN if ends_known else 0
    evaluations, se = c_int64(), c_double()
    err = create_string_buffer(512)
    rc = lib.ac_estimator_plan(B.u32(n_players, "n_players"), int(noise),
                               float(param), float(target_se), int(flags),
                               byref(evaluations), byref(se), err, len(err))
    if rc:
        raise make_error(rc, err.value.decode("utf-8", "replace"),
                         "ac_estimator_plan")
    return Plan(evaluations.value, se.value)


def pair_matrix(condensed: Numbers, n: int,
                as_numpy: bool = False) -> FloatMatrix:
    """The condensed pairs (0,1), (0,2), ..., (1,2), ... (scipy's pdist
    order) as an n x n symmetric matrix with a NaN diagonal: a list of
    lists, or a numpy array with ``as_numpy=True``."""
    rows = [[float("nan")] * n for _ in range(n)]
    p = 0
    for i in range(n):
        for j in range(i + 1, n):
            rows[i][j] = rows[j][i] = condensed[p]
            p += 1
    if as_numpy:
        return B.numpy().array(rows, dtype=float).reshape(n, n)
    return rows


def shapley_interactions(values: Numbers,
                         as_numpy: bool = False) -> FloatMatrix:
    """The Shapley interaction index of every pair of players of the value
    table ``values`` (as :func:`shapley_exact`), as an n x n symmetric
    matrix with a NaN diagonal (a list of lists, or a numpy array with
    ``as_numpy=True``). Negative: the two are redundant; positive:
    complementary. ``ac_shapley_interactions_exact``; thread-safe."""
    table, length, n = _value_table(values, "ac_shapley_interactions_exact")
    pairs = n * (n - 1) // 2
    index = (c_double * max(pairs, 1))()
    rc, interrupt = _interrupt.call(lib.ac_shapley_interactions_exact,
                                    (n, table, length, index, pairs))
    if interrupt is not None:
        raise interrupt
    if rc:
        raise make_error(rc, "ac_shapley_interactions_exact(n=%d): %s"
                         % (n, "the values must be finite"
                            if rc == Status.E_INVALID_ARG
                            else "an index beyond a double, or n too large"
                            if rc == Status.E_TOO_LARGE else "failed"),
                         "ac_shapley_interactions_exact")
    return pair_matrix(index, n, as_numpy)


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
    max_retries=2, noisy=0, target_se=0.0, interactions=0, oracle=None,
    known=None, allocator=None)``

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
        EstimatorParam.INTERACTIONS: ("int", "1 also computes every pair's "
                                      "interaction (interactions()), "
                                      "default 0"),
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

    def interactions(self, as_numpy: bool = False) -> InteractionResult:
        """``InteractionResult(index, se)``: the Shapley interaction index
        of every pair of players and its standard error, each an n x n
        symmetric matrix (lists of lists, or numpy arrays with
        ``as_numpy=True``) whose diagonal is NaN. Negative: the pair is
        redundant; positive: complementary. Needs ``interactions=1`` for
        the run (and a method that reached every coalition: 'exact',
        'adaptive', or a sampled one whose cache ended complete);
        StateError otherwise, and before the run is done."""
        pairs = self._n * (self._n - 1) // 2
        index = (c_double * max(pairs, 1))()
        se = (c_double * max(pairs, 1))()
        with self._use("ac_estimator_interactions") as ptr:
            self._check(lib.ac_estimator_interactions(ptr, index, se, pairs),
                        ptr, "ac_estimator_interactions")
        return InteractionResult(pair_matrix(index, self._n, as_numpy),
                                 pair_matrix(se, self._n, as_numpy))

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
