"""First-error localization, failure blame and repair-aware preference pairs
(``ac_localizer``). docs/localizer.md explains the strategies, the noise
models and the calibration argument."""

from __future__ import annotations

import collections
import ctypes
import dataclasses
from collections.abc import Mapping
from ctypes import (byref, c_double, c_int32, c_int64, c_uint32, c_uint64,
                    c_void_p)
from typing import (Any, Dict, FrozenSet, Iterable, List, Optional, Tuple,
                    Union)

from . import _buffers as B
from . import allocator as _allocator
from ._constants import (LocalizerAudit, LocalizerOutcome, LocalizerParam,
                         Noise, PairKind, PairReason, Reset, Status, StepFlag,
                         Strategy)
from ._errors import make_error
from ._handle import (Audited, audit_table, flag_names, install_params,
                      param_table, reset_flags, trampoline, value_names)
from ._lib import (CANDIDATE_FN, REPAIR_FN, VERIFIER_FN, ac_preference_pair,
                   lib)
from ._types import Callback, FloatVector, Numbers, ParamValue
from .estimator import Progress

_STEP_NAMES = flag_names(StepFlag)
_PAIR_KINDS = {m.value: n for n, m in value_names(PairKind).items()}
#: No reason when a pair was made (PairReason.NONE).
_NOPAIR_REASONS = {m.value: None if m == PairReason.NONE else n
                   for n, m in value_names(PairReason).items()}
#: UINT32_MAX: the agent of a message without authors.
UNKNOWN_AGENT = 2 ** 32 - 1
#: n_messages of ac_localizer_create: 1..2^24 (the header; checked by
#: tests/test_constants.py).
_MAX_MESSAGES = 2 ** 24

#: The first error: ``step`` (None: the verifier accepts every prefix),
#: ``agent`` (None without authors) and its posterior ``probability``.
FirstError = collections.namedtuple("FirstError", "step agent probability")


@dataclasses.dataclass(frozen=True)
class PreferencePair:
    """One repair-aware preference pair (``ac_preference_pair``).

    ``kind``: ``'repair'`` (chosen is the verified candidate's host id),
    ``'corrective'`` (chosen is a later corrective message's index) or
    ``'none'`` (no pair; ``reason`` says why: ``'not_localized'``,
    ``'no_candidate'``, ``'not_verified'``, ``'no_budget'``). The rejected
    message is
    ``step``; the prompt is messages ``[0, prompt_end)``. ``weight`` =
    confidence x localization, for a weighted preference loss. A pair is
    truthy when it exists; :meth:`to_dict` gives a JSON-ready dict."""

    kind: str
    reason: Optional[str]
    agent: Optional[int]
    step: int
    prompt_end: int
    candidates: int
    checked: int
    verified: int
    episode: int
    chosen: Optional[int]
    confidence: float
    localization: float
    weight: float

    def __bool__(self) -> bool:
        return self.kind != "none"

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def _from_c(cls, p):
        kind = _PAIR_KINDS.get(p.kind, str(p.kind))
        return cls(kind=kind,
                   reason=_NOPAIR_REASONS.get(p.reason, str(p.reason))
                   if kind == "none" else None,
                   agent=None if p.agent == UNKNOWN_AGENT else p.agent,
                   step=p.step, prompt_end=p.prompt_end,
                   candidates=p.candidates, checked=p.checked,
                   verified=p.verified,
                   episode=p.episode,
                   chosen=None if kind == "none" else p.chosen,
                   confidence=p.confidence, localization=p.localization,
                   weight=p.weight)


_AUDIT_KEYS = audit_table(
    LocalizerAudit,
    values={LocalizerAudit.OUTCOME: LocalizerOutcome,
            LocalizerAudit.STRATEGY: Strategy,
            LocalizerAudit.SCAN_COMPLETE: bool,
            LocalizerAudit.SCAN_STOPPED: Status})


#: The keys of a handle's ``_keep`` that verifier_callback's ``keep``
#: fills, and repair_callbacks'.
VERIFIER_KEYS = ("verifier", "verifier_callable")
REPAIR_KEYS = ("repair", "check", "repair_callables")


def verifier_callback(state, verifier):
    """The C side of a verifier, for ``ac_localizer_set_verifier`` and
    ``ac_pipeline_set_verifier``: ``(fn, keep)``. ``verifier(prefixes) ->
    p_on_track`` runs through a trampoline that stores what it raises on
    ``state``; None unregisters."""
    if verifier is None:
        return VERIFIER_FN(), {}
    if not callable(verifier):
        raise TypeError("verifier must be callable or None")

    def body(_user, prefixes, count, p, status, _fn=verifier):
        B.write_results(_fn(prefixes[:count]), count, p, status, "verifier")
    fn = VERIFIER_FN(trampoline(state, body))
    return fn, {"verifier": fn, "verifier_callable": verifier}


def repair_callbacks(state, repair, check):
    """The C side of the repair pair, for ``ac_localizer_set_repair`` and
    ``ac_pipeline_set_repair``: ``(repair_fn, check_fn, keep)``.
    ``repair(step, max_count) -> ids`` and ``check(step, ids) ->
    p_on_track`` run through trampolines that store what they raise on
    ``state``; both None unregisters."""
    if repair is None and check is None:
        return REPAIR_FN(), CANDIDATE_FN(), {}
    if not callable(repair) or not callable(check):
        raise TypeError("set_repair: repair and check must both be "
                        "callable (or both None)")

    def rbody(_user, step, max_count, out, count, _fn=repair):
        ids = B.to_list(_fn(step, max_count), "repair result")
        if len(ids) > max_count:
            raise ValueError("repair returned %d candidates, at most "
                             "%d allowed" % (len(ids), max_count))
        for k, i in enumerate(ids):
            out[k] = B.u64(i, "candidate id")
        count[0] = len(ids)

    def cbody(_user, step, ids, count, p, status, _fn=check):
        B.write_results(_fn(step, ids[:count]), count, p, status, "check")
    rfn = REPAIR_FN(trampoline(state, rbody))
    cfn = CANDIDATE_FN(trampoline(state, cbody))
    return rfn, cfn, {"repair": rfn, "check": cfn,
                      "repair_callables": (repair, check)}


class Localizer(Audited):
    """Finds the first erroneous message of a failed episode of
    ``n_messages`` messages (``ac_localizer``).

    ``Localizer(n_messages, strategy='auto', noise='none', accuracy=0.8,
    budget=1024, batch=1, target=0.95, max_retries=2, monotone=True,
    scan_after=True, threshold=0.5, label_error=-1, label_propagate=-0.25,
    label_corrective=1, label_before=0.1, candidates=4, accept=0.5,
    authors=None, prior=None, scores=None, verifier=None, allocator=None)``

    A verifier judges prefixes (prefix t: messages 0..t): 1.0 on track, 0.0
    off track, a probability between. Drive it with :meth:`run` and a
    verifier callable, or with :meth:`ask` / :meth:`tell`. Then
    :meth:`result`, :meth:`blame_labels` (for the Refiner) and
    :meth:`make_pair`. Inputs and parameters change only while the
    localizer is idle (after creation or ``reset()``); after a run they
    raise StateError. One thread at a time; :meth:`cancel` from any."""

    _kind = "localizer"
    _PARAM_SET = LocalizerParam
    _PARAMS = param_table(LocalizerParam, {
        LocalizerParam.STRATEGY: ("enum", "the search, default 'auto'",
                                  Strategy),
        LocalizerParam.NOISE: ("enum", "the verifier's mistakes, default "
                               "'none'", Noise),
        LocalizerParam.ACCURACY: ("f64", "how often a noisy verifier is "
                                  "right, above 0.5; default 0.8"),
        LocalizerParam.BUDGET: ("int", "verifier evaluations, default 1024"),
        LocalizerParam.BATCH: ("int", "prefixes per verifier call, "
                               "default 1"),
        LocalizerParam.TARGET: ("f64", "stop at this posterior probability, "
                                "above 0.5; default 0.95"),
        LocalizerParam.MAX_RETRIES: ("int", "retries of a failed answer, "
                                     "default 2"),
        LocalizerParam.MONOTONE: ("bool", "a rejected prefix stays rejected, "
                                  "default True"),
        LocalizerParam.SCAN_AFTER: ("bool", "look for corrective messages, "
                                    "default True"),
        LocalizerParam.THRESHOLD: ("f64", "the 'scores' strategy's "
                                   "threshold, default 0.5"),
        LocalizerParam.LABEL_ERROR: ("f64", "blame label of the first error, "
                                     "default -1"),
        LocalizerParam.LABEL_PROPAGATE: ("f64", "blame label of a message "
                                         "that propagates it, default -0.25"),
        LocalizerParam.LABEL_CORRECTIVE: ("f64", "blame label of a corrective "
                                          "message, default 1"),
        LocalizerParam.LABEL_BEFORE: ("f64", "blame label of a message before "
                                      "it or back on track, default 0.1"),
        LocalizerParam.CANDIDATES: ("int", "repairs to ask for, default 4"),
        LocalizerParam.ACCEPT: ("f64", "the p_on_track a repair needs, above "
                                "0; default 0.5"),
    })
    _AUDIT = _AUDIT_KEYS

    def __init__(self, n_messages: int, *,
                 authors: Optional[Iterable[int]] = None,
                 prior: Optional[Numbers] = None,
                 scores: Optional[Numbers] = None,
                 verifier: Optional[Callback] = None,
                 allocator: Optional[_allocator.Allocator] = None,
                 **params: ParamValue) -> None:
        super().__init__()
        n = B.size(n_messages, "n_messages")
        out = c_void_p()
        rc = lib.ac_localizer_create(byref(out), n,
                                     _allocator.pointer(allocator))
        if rc:
            raise make_error(rc, "n_messages = %d (1..%d)"
                             % (n, _MAX_MESSAGES), "ac_localizer_create")
        self._adopt(out.value, keep=allocator)
        self._n = n
        try:
            self._set_params(params)
            if authors is not None:
                self.set_authors(authors)
            if prior is not None:
                self.set_prior(prior)
            if scores is not None:
                self.set_scores(scores)
            if verifier is not None:
                self.set_verifier(verifier)
        except BaseException:
            self.close()
            raise

    def _describe(self):
        return "messages=%d" % self._n

    @property
    def n_messages(self) -> int:
        return self._n

    def _call(self, fname, *args):
        with self._use(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, *args), ptr, fname)

    def _call_long(self, fname, *args):
        with self._use(fname) as ptr:
            self._check(self._long_call(fname, ptr, *args), ptr, fname)

    # -- inputs --------------------------------------------------------------
    def set_authors(self, agent_of: Iterable[int]) -> None:
        """Who wrote each message (optional; gives the first error's agent
        and lets corrective messages stand in for a repair)."""
        a = B.to_array(agent_of, c_uint32, "agent_of")
        self._call("ac_localizer_set_authors", a, len(a))

    def set_prior(self, prior: Numbers) -> None:
        """The prior over the first error: n_messages + 1 weights (the last
        one for "no error"), >= 0, normalised by the library."""
        p = B.to_array(prior, c_double, "prior")
        self._call("ac_localizer_set_prior", p, len(p))

    def set_scores(self, p_error: Numbers) -> None:
        """For the 'scores' strategy: each message's error probability."""
        p = B.to_array(p_error, c_double, "p_error")
        self._call("ac_localizer_set_scores", p, len(p))

    def set_verifier(self, verifier: Optional[Callback]) -> None:
        """Registers ``verifier(prefixes) -> p_on_track``: ``prefixes`` a
        list of ints (prefix t = messages 0..t), one probability in [0, 1]
        back per prefix (None or NaN: a failed answer, asked again). Raising
        aborts :meth:`run`, which re-raises the exception. None
        unregisters."""
        fn, keep = verifier_callback(self._cb, verifier)
        with self._use("ac_localizer_set_verifier") as ptr:
            self._check(lib.ac_localizer_set_verifier(ptr, fn, None), ptr,
                        "ac_localizer_set_verifier")
            for k in VERIFIER_KEYS:
                self._keep.pop(k, None)
            self._keep.update(keep)

    def set_repair(self, repair: Optional[Callback],
                   check: Optional[Callback]) -> None:
        """Registers the repair pair of callbacks for :meth:`make_pair`:

        * ``repair(step, max_count) -> ids``: up to max_count host ids of
          candidate replacements for message ``step``;
        * ``check(step, ids) -> p_on_track``: judges prefix 0..step-1
          followed by each candidate, like a verifier (None: failed).

        ``set_repair(None, None)`` unregisters."""
        rfn, cfn, keep = repair_callbacks(self._cb, repair, check)
        with self._use("ac_localizer_set_repair") as ptr:
            self._check(lib.ac_localizer_set_repair(ptr, rfn, cfn, None), ptr,
                        "ac_localizer_set_repair")
            for k in REPAIR_KEYS:
                self._keep.pop(k, None)
            self._keep.update(keep)

    # -- running -------------------------------------------------------------
    def run(self, verifier: Optional[Callback] = None) -> FirstError:
        """Runs the search, then the corrective scan, with the verifier
        given here or registered; returns :meth:`result`. Running out of
        budget is not an error (audit outcome 'out_of_budget'). Once the
        error is localized, whatever stops the corrective scan (a cancel,
        a verifier failing past its retries, a verifier that raises) ends
        the scan, not the run: run() returns the result, the audit says
        ``scan_complete`` False and ``scan_stopped`` the status
        (``'AC_E_CANCELLED'``, ``'AC_E_ORACLE'``, ``'AC_E_CALLBACK'``), and
        :attr:`scan_exception` holds what the verifier raised (a
        KeyboardInterrupt or SystemExit is raised again, the result
        kept). Ctrl-C (on the main thread) cancels the run and raises
        KeyboardInterrupt (docs/python.md, "Ctrl-C")."""
        with self._lock:
            if verifier is not None:
                self.set_verifier(verifier)
            self._call_long("ac_localizer_run")
            return self.result()

    @property
    def scan_exception(self) -> Optional[BaseException]:
        """The exception the verifier raised during the corrective scan of
        the run, which ended the scan (``audit()['scan_stopped'] ==
        'AC_E_CALLBACK'``) but not the run; None otherwise. Forgotten by
        ``reset()``."""
        return self._callback_exception

    def ask(self, max_count: Optional[int] = None) -> List[Tuple[int, int]]:
        """Up to max_count (default: ``batch``) prefixes to judge, one
        round, as a list of ``(ticket, prefix)`` pairs; [] when the run is
        done or waits for outstanding answers. With independent noise a
        round may hold the same prefix more than once (asking again adds
        evidence), each under its own ticket."""
        batch = self.get_param("batch")
        # one round is at most `batch` prefixes: size the buffers by it
        m = min(B.u32(batch if max_count is None else max_count,
                      "max_count"), batch)
        tickets = (c_uint64 * m)()
        prefixes = (c_uint32 * m)()
        count = c_uint32()
        self._call_long("ac_localizer_ask", m, tickets, prefixes,
                        byref(count))
        k = count.value
        return list(zip(tickets[:k], prefixes[:k]))

    def tell(self, tickets: Union[Iterable[int], Mapping[int, Optional[float]]],
             p_on_track: Optional[Iterable[Optional[float]]] = None,
             status: Optional[Iterable[int]] = None) -> None:
        """Answers back for asked tickets, in any order and grouping:
        ``tell([t1, t2], [p1, p2])`` or ``tell({t1: p1, t2: p2})``. An
        answer None, NaN or infinite (or ``status[k] != 0``) has failed and
        is asked again within the budget; a finite one outside [0, 1] is
        InvalidArgument and nothing is taken. A round's answers are applied
        in prefix order once all are in, so the order of the tells never
        changes the result."""
        if p_on_track is None and isinstance(tickets, Mapping):
            tickets, p_on_track = (list(tickets.keys()),
                                   list(tickets.values()))
        t = B.to_array(tickets, c_uint64, "tickets")
        vals, st = B.values_and_status(p_on_track, status, len(t),
                                       "p_on_track")
        self._call("ac_localizer_tell", len(t), t, vals, st)

    def progress(self) -> Progress:
        """``Progress(done, outstanding)``: done is True once the run has
        ended (done or failed), outstanding the tickets not yet told."""
        done, outstanding = c_int32(), c_uint64()
        self._call("ac_localizer_progress", byref(done), byref(outstanding))
        return Progress(bool(done.value), outstanding.value)

    @property
    def done(self) -> bool:
        """True once the run has ended (done or failed)."""
        return self.progress().done

    # -- results -------------------------------------------------------------
    def result(self) -> FirstError:
        """``FirstError(step, agent, probability)``: step None when the
        verifier accepts every prefix, agent None when unknown."""
        step, agent, prob = c_int64(), c_uint32(), c_double()
        self._call("ac_localizer_result", byref(step), byref(agent),
                   byref(prob))
        return FirstError(None if step.value < 0 else step.value,
                          None if agent.value == UNKNOWN_AGENT
                          else agent.value,
                          prob.value)

    def probability_within(self, radius: int) -> float:
        """P(the first error is within ``radius`` steps of the reported
        one)."""
        p = c_double()
        self._call("ac_localizer_probability_within", B.u32(radius, "radius"),
                   byref(p))
        return p.value

    def posterior(self, as_numpy: bool = False) -> FloatVector:
        """The posterior over the first error: n_messages + 1 entries, the
        last for "no error"."""
        buf = (c_double * (self._n + 1))()
        self._call("ac_localizer_posterior", buf, self._n + 1)
        return B.output(buf, as_numpy)

    def step_flags(self, names: bool = False
                   ) -> Union[List[int], List[FrozenSet[str]]]:
        """:class:`StepFlag` bits per message (ints); ``names=True``:
        frozensets of ``'first_error'``, ``'propagates'``, ``'corrective'``,
        ``'recovered'``."""
        buf = (c_uint32 * self._n)()
        self._call("ac_localizer_step_flags", buf, self._n)
        flags = list(buf)
        if names:
            return [frozenset(n for bit, n in _STEP_NAMES if f & bit)
                    for f in flags]
        return flags

    def blame_labels(self, as_numpy: bool = False) -> FloatVector:
        """Failure blame as refiner labels in [-1, 1] (give them to
        ``Refiner.set_labels`` with the agents' credit)."""
        buf = (c_double * self._n)()
        self._call("ac_localizer_blame_labels", buf, self._n)
        return B.output(buf, as_numpy)

    def make_pair(self, episode: int = 0) -> PreferencePair:
        """The repair-aware preference pair of the finished localization
        (asks the repair callbacks): a :class:`PreferencePair`, falsy when
        there is none (its ``reason`` says why)."""
        pair = ac_preference_pair()
        pair.struct_size = ctypes.sizeof(ac_preference_pair)
        self._call("ac_localizer_make_pair", B.u64(episode, "episode"),
                   byref(pair))
        return PreferencePair._from_c(pair)

    def reset(self, *what: Union[str, int]) -> None:
        """``'session'`` (the default: forget the run, i.e. tickets,
        answers, posterior, result, pair, audit and a cancellation),
        ``'params'`` (the defaults), ``'known'`` (the inputs: authors,
        prior, scores) or ``'all'``. ``'params'`` and ``'known'`` need an
        idle localizer or ``'session'`` with them (else StateError)."""
        flags = reset_flags(what or ("session",))
        with self._use("ac_localizer_reset") as ptr:
            self._check(lib.ac_localizer_reset(ptr, flags), ptr,
                        "ac_localizer_reset")
            if flags & Reset.SESSION:
                self._callback_exception = None

    def cancel(self) -> None:
        """Asks the run to stop: during the search it fails with Cancelled
        at the next ask (or between verifier calls in run); during the
        corrective scan it ends the scan and the run succeeds
        (``audit()['scan_stopped'] == 'AC_E_CANCELLED'``). A finished run
        keeps its result. Safe from any thread and from the verifier; a
        no-op on a closed handle."""
        with self._ptr_lock:
            if self._ptr is not None:
                lib.ac_localizer_cancel(self._ptr)


install_params(Localizer)
