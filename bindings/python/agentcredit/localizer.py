"""First-error localization, failure blame and repair-aware preference pairs
(``ac_localizer``). docs/localizer.md explains the strategies, the noise
models and the calibration argument."""

import collections
import ctypes
import dataclasses
from collections.abc import Mapping
from ctypes import byref, c_double, c_int32, c_int64, c_uint32, c_void_p
from typing import Optional

from . import _buffers as B
from . import allocator as _allocator
from ._errors import make_error
from ._handle import (Audited, Param, enum_names, install_params, reset_flags,
                      trampoline)
from ._lib import (CANDIDATE_FN, REPAIR_FN, VERIFIER_FN, ac_preference_pair,
                   lib)
from .estimator import Progress

#: AC_LOCALIZER_PARAM_STRATEGY values.
STRATEGIES = {"auto": 0, "linear": 1, "binary": 2, "bisection": 3,
              "scores": 4}
#: AC_LOCALIZER_PARAM_NOISE values.
NOISE = {"none": 0, "independent": 1, "repeatable": 2}
#: AC_LOCALIZER_AUDIT_OUTCOME values.
OUTCOMES = {"pending": 0, "found": 1, "no_error": 2, "out_of_budget": 3,
            "exhausted": 4}
#: Per-message flags (step_flags): AC_STEP_FLAG_*.
STEP_FIRST_ERROR = 1
STEP_PROPAGATES = 2
STEP_CORRECTIVE = 4
STEP_RECOVERED = 8
_STEP_NAMES = ((STEP_FIRST_ERROR, "first_error"),
               (STEP_PROPAGATES, "propagates"),
               (STEP_CORRECTIVE, "corrective"),
               (STEP_RECOVERED, "recovered"))
#: Pair kinds (AC_PAIR_KIND_*) and no-pair reasons (AC_PAIR_REASON_*).
PAIR_KINDS = {0: "none", 1: "repair", 2: "corrective"}
NOPAIR_REASONS = {0: None, 1: "not_localized", 2: "no_candidate",
                  3: "not_verified", 4: "no_budget"}
UNKNOWN_AGENT = 2 ** 32 - 1

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

    def __bool__(self):
        return self.kind != "none"

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def _from_c(cls, p):
        kind = PAIR_KINDS.get(p.kind, str(p.kind))
        return cls(kind=kind,
                   reason=NOPAIR_REASONS.get(p.reason, str(p.reason))
                   if kind == "none" else None,
                   agent=None if p.agent == UNKNOWN_AGENT else p.agent,
                   step=p.step, prompt_end=p.prompt_end,
                   candidates=p.candidates, checked=p.checked,
                   verified=p.verified,
                   episode=p.episode,
                   chosen=None if kind == "none" else p.chosen,
                   confidence=p.confidence, localization=p.localization,
                   weight=p.weight)


_AUDIT_KEYS = [
    (1, "calls", None),
    (2, "rounds", None),
    (3, "search_calls", None),
    (4, "search_rounds", None),
    (5, "scan_calls", None),
    (6, "failures", None),
    (7, "retries", None),
    (8, "outcome", enum_names(OUTCOMES)),
    (9, "strategy", enum_names(STRATEGIES)),
    (10, "budget", None),
    (11, "scan_complete", {0: False, 1: True}),
    (12, "repair_candidates", None),
    (13, "repair_checks", None),
]


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
    :meth:`make_pair`. One thread at a time; :meth:`cancel` from any."""

    _kind = "localizer"
    _PARAMS = {
        "strategy": Param("strategy", 300, "enum", "AC_LOCALIZER_PARAM_STRATEGY: 'auto',"
                          " 'linear', 'binary', 'bisection', 'scores'",
                          STRATEGIES),
        "noise": Param("noise", 301, "enum", "AC_LOCALIZER_PARAM_NOISE: 'none', "
                       "'independent', 'repeatable'", NOISE),
        "accuracy": Param("accuracy", 302, "f64", "AC_LOCALIZER_PARAM_ACCURACY [0.5, 1],"
                          " default 0.8"),
        "budget": Param("budget", 303, "int", "AC_LOCALIZER_PARAM_BUDGET: verifier "
                        "evaluations [0, 2**31], default 1024"),
        "batch": Param("batch", 304, "int", "AC_LOCALIZER_PARAM_BATCH: prefixes per "
                       "verifier call [1, 4096], default 1"),
        "target": Param("target", 305, "f64", "AC_LOCALIZER_PARAM_TARGET: stop at this "
                        "posterior probability (0.5, 1), default 0.95"),
        "max_retries": Param("max_retries", 306, "int", "AC_LOCALIZER_PARAM_MAX_RETRIES"
                             " [0, 1000], default 2"),
        "monotone": Param("monotone", 307, "bool", "AC_LOCALIZER_PARAM_MONOTONE: a "
                          "rejected prefix stays rejected, default True"),
        "scan_after": Param("scan_after", 308, "bool", "AC_LOCALIZER_PARAM_SCAN_AFTER: "
                            "look for corrective messages, default True"),
        "threshold": Param("threshold", 309, "f64", "AC_LOCALIZER_PARAM_THRESHOLD for "
                           "the 'scores' strategy [0, 1], default 0.5"),
        "label_error": Param("label_error", 310, "f64", "AC_LOCALIZER_PARAM_LABEL_ERROR"
                             " [-1, 0], default -1"),
        "label_propagate": Param("label_propagate", 311, "f64",
                                 "AC_LOCALIZER_PARAM_LABEL_PROPAGATE [-1, 0], default "
                                 "-0.25"),
        "label_corrective": Param("label_corrective", 312, "f64",
                                  "AC_LOCALIZER_PARAM_LABEL_CORRECTIVE [0, 1], default "
                                  "1"),
        "label_before": Param("label_before", 313, "f64", "AC_LOCALIZER_PARAM_LABEL_"
                              "BEFORE [-1, 1], default 0.1"),
        "candidates": Param("candidates", 314, "int", "AC_LOCALIZER_PARAM_CANDIDATES: "
                            "repairs to ask for [1, 1024], default 4"),
        "accept": Param("accept", 315, "f64", "AC_LOCALIZER_PARAM_ACCEPT: p_on_track a "
                        "repair needs (0, 1], default 0.5"),
    }
    _AUDIT = _AUDIT_KEYS

    def __init__(self, n_messages, *, authors=None, prior=None, scores=None,
                 verifier=None, allocator=None, **params):
        super().__init__()
        n = B.size(n_messages, "n_messages")
        out = c_void_p()
        rc = lib.ac_localizer_create(byref(out), n,
                                     _allocator.pointer(allocator))
        if rc:
            raise make_error(rc, "n_messages = %d (1..2**24)" % n,
                             "ac_localizer_create")
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
    def n_messages(self):
        return self._n

    def _call(self, fname, *args):
        with self._use(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, *args), ptr, fname)

    # -- inputs --------------------------------------------------------------
    def set_authors(self, agent_of):
        """Who wrote each message (optional; gives the first error's agent
        and lets corrective messages stand in for a repair)."""
        a = B.to_array(agent_of, c_uint32, "agent_of")
        self._call("ac_localizer_set_authors", a, len(a))

    def set_prior(self, prior):
        """The prior over the first error: n_messages + 1 weights (the last
        one for "no error"), >= 0, normalised by the library."""
        p = B.to_array(prior, c_double, "prior")
        self._call("ac_localizer_set_prior", p, len(p))

    def set_scores(self, p_error):
        """For the 'scores' strategy: each message's error probability."""
        p = B.to_array(p_error, c_double, "p_error")
        self._call("ac_localizer_set_scores", p, len(p))

    def set_verifier(self, verifier):
        """Registers ``verifier(prefixes) -> p_on_track``: ``prefixes`` a
        list of ints (prefix t = messages 0..t), one probability in [0, 1]
        back per prefix (None or NaN: a failed answer, asked again). Raising
        aborts :meth:`run`, which re-raises the exception. None
        unregisters."""
        if verifier is None:
            fn, keep = VERIFIER_FN(), {}
        elif callable(verifier):
            def body(_user, prefixes, count, p, status, _fn=verifier):
                B.write_results(_fn(prefixes[:count]), count, p, status,
                                "verifier")
            fn = VERIFIER_FN(trampoline(self._cb, body))
            keep = {"verifier": fn, "verifier_callable": verifier}
        else:
            raise TypeError("verifier must be callable or None")
        with self._use("ac_localizer_set_verifier") as ptr:
            self._check(lib.ac_localizer_set_verifier(ptr, fn, None), ptr,
                        "ac_localizer_set_verifier")
            self._keep.pop("verifier", None)
            self._keep.pop("verifier_callable", None)
            self._keep.update(keep)

    def set_repair(self, repair, check):
        """Registers the repair pair of callbacks for :meth:`make_pair`:

        * ``repair(step, max_count) -> ids``: up to max_count host ids of
          candidate replacements for message ``step``;
        * ``check(step, ids) -> p_on_track``: judges prefix 0..step-1
          followed by each candidate, like a verifier (None: failed).

        ``set_repair(None, None)`` unregisters."""
        if repair is None and check is None:
            rfn, cfn, keep = REPAIR_FN(), CANDIDATE_FN(), {}
        else:
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
                B.write_results(_fn(step, ids[:count]), count, p, status,
                                "check")
            rfn = REPAIR_FN(trampoline(self._cb, rbody))
            cfn = CANDIDATE_FN(trampoline(self._cb, cbody))
            keep = {"repair": rfn, "check": cfn,
                    "repair_callables": (repair, check)}
        with self._use("ac_localizer_set_repair") as ptr:
            self._check(lib.ac_localizer_set_repair(ptr, rfn, cfn, None), ptr,
                        "ac_localizer_set_repair")
            for k in ("repair", "check", "repair_callables"):
                self._keep.pop(k, None)
            self._keep.update(keep)

    # -- running -------------------------------------------------------------
    def run(self, verifier=None):
        """Runs the search (and the corrective scan) with the verifier given
        here or registered; returns :meth:`result`. Running out of budget is
        not an error (audit outcome 'out_of_budget')."""
        with self._lock:
            if verifier is not None:
                self.set_verifier(verifier)
            self._call("ac_localizer_run")
            return self.result()

    def ask(self, max_count=None):
        """Up to max_count (default: ``batch``) prefixes to judge, one round;
        [] when finished or waiting for outstanding answers."""
        batch = self.get_param("batch")
        # one round is at most `batch` prefixes: size the buffer by it
        m = min(B.u32(batch if max_count is None else max_count,
                      "max_count"), batch)
        buf = (c_uint32 * m)()
        count = c_uint32()
        self._call("ac_localizer_ask", m, buf, byref(count))
        return list(buf[:count.value])

    def tell(self, prefixes, p_on_track, status=None):
        """Answers back, in any order and grouping: ``tell([t...], [p...])``;
        None marks a failed answer. With independent noise one round may ask
        the same prefix more than once (asking again adds evidence): each
        occurrence needs its own answer, which is why there is no dict
        form here."""
        if isinstance(prefixes, Mapping):
            raise TypeError("Localizer.tell takes two lists (a round may "
                            "repeat a prefix, which a dict cannot hold)")
        t = B.to_array(prefixes, c_uint32, "prefixes")
        vals, st = B.values_and_status(p_on_track, status, len(t),
                                       "p_on_track")
        self._call("ac_localizer_tell", len(t), t, vals, st)

    def progress(self):
        """``Progress(done, outstanding)``."""
        done, outstanding = c_int32(), c_uint32()
        self._call("ac_localizer_progress", byref(done), byref(outstanding))
        return Progress(bool(done.value), outstanding.value)

    @property
    def done(self):
        return self.progress().done

    # -- results -------------------------------------------------------------
    def result(self):
        """``FirstError(step, agent, probability)``: step None when the
        verifier accepts every prefix, agent None when unknown."""
        step, agent, prob = c_int64(), c_uint32(), c_double()
        self._call("ac_localizer_result", byref(step), byref(agent),
                   byref(prob))
        return FirstError(None if step.value < 0 else step.value,
                          None if agent.value == UNKNOWN_AGENT
                          else agent.value,
                          prob.value)

    def probability_within(self, radius):
        """P(the first error is within ``radius`` steps of the reported
        one)."""
        p = c_double()
        self._call("ac_localizer_probability_within", B.u32(radius, "radius"),
                   byref(p))
        return p.value

    def posterior(self, as_numpy=False):
        """The posterior over the first error: n_messages + 1 entries, the
        last for "no error"."""
        buf = (c_double * (self._n + 1))()
        self._call("ac_localizer_posterior", buf, self._n + 1)
        return B.output(buf, as_numpy)

    def step_flags(self, names=False):
        """STEP_* bits per message; ``names=True``: frozensets of
        ``'first_error'``, ``'propagates'``, ``'corrective'``,
        ``'recovered'``."""
        buf = (c_uint32 * self._n)()
        self._call("ac_localizer_step_flags", buf, self._n)
        flags = list(buf)
        if names:
            return [frozenset(n for bit, n in _STEP_NAMES if f & bit)
                    for f in flags]
        return flags

    def blame_labels(self, as_numpy=False):
        """Failure blame as refiner labels in [-1, 1] (give them to
        ``Refiner.set_labels`` with the agents' credit)."""
        buf = (c_double * self._n)()
        self._call("ac_localizer_blame_labels", buf, self._n)
        return B.output(buf, as_numpy)

    def make_pair(self, episode=0):
        """The repair-aware preference pair of the finished localization
        (asks the repair callbacks): a :class:`PreferencePair`, falsy when
        there is none (its ``reason`` says why)."""
        pair = ac_preference_pair()
        pair.struct_size = ctypes.sizeof(ac_preference_pair)
        self._call("ac_localizer_make_pair", B.u64(episode, "episode"),
                   byref(pair))
        return PreferencePair._from_c(pair)

    def reset(self, *what):
        """``'session'`` (default), ``'params'``, ``'known'`` (authors, prior,
        scores) or ``'all'``."""
        self._call("ac_localizer_reset", reset_flags(what or ("session",)))

    def cancel(self):
        """Asks the run to stop (Cancelled at the next ask). Any thread."""
        with self._ptr_lock:
            if self._ptr is not None:
                lib.ac_localizer_cancel(self._ptr)


install_params(Localizer)
