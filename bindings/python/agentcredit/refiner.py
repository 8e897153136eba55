"""Per-message rewards that add up to each agent's credit (``ac_refiner``).

docs/signals.md gives the construction and proves its five properties:
conservation, bound, sign, monotonicity and locality."""

from __future__ import annotations

from collections.abc import Mapping
from ctypes import (byref, c_char_p, c_double, c_int32, c_uint32, c_uint64,
                    c_void_p)
from typing import (Dict, FrozenSet, Iterable, List, Optional,
                    Tuple, Union)

from . import _buffers as B
from . import allocator as _allocator
from ._constants import (MAX_PLAYERS, AgentFlag, MessageFlag, RefinerAudit,
                         RefinerParam, Relaxation)
from ._errors import make_error
from ._handle import (Audited, audit_table, flag_names, install_params,
                      param_table, reset_flags, trampoline)
from ._lib import SCORER_FN, lib
from ._types import Callback, FloatVector, Numbers, ParamValue
from .estimator import Progress

_AGENT_FLAG_NAMES = flag_names(AgentFlag)
_MSG_FLAG_NAMES = flag_names(MessageFlag)
#: n_messages of ac_refiner_create: 1..2^28 (the header; checked by
#: tests/test_constants.py).
_MAX_MESSAGES = 2 ** 28
_AUDIT_KEYS = audit_table(RefinerAudit)


def _names(flags, table):
    return [frozenset(name for bit, name in table if f & bit) for f in flags]


def _encode(text, k):
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("texts[%d]: expected str or bytes, got %s"
                    % (k, type(text).__name__))


#: The keys of a handle's ``_keep`` that scorer_callback's ``keep`` fills.
SCORER_KEYS = ("scorer", "scorer_callable")


def scorer_callback(state, scorer):
    """The C side of a scorer, for ``ac_refiner_set_scorer`` and
    ``ac_pipeline_set_scorer``: ``(fn, keep)``. ``scorer(messages) ->
    labels`` runs through a trampoline that stores what it raises on
    ``state``; None unregisters."""
    if scorer is None:
        return SCORER_FN(), {}
    if not callable(scorer):
        raise TypeError("scorer must be callable or None")

    def body(_user, messages, count, labels, status, _fn=scorer):
        B.write_results(_fn(messages[:count]), count, labels, status,
                        "scorer")
    fn = SCORER_FN(trampoline(state, body))
    return fn, {"scorer": fn, "scorer_callable": scorer}


class Refiner(Audited):
    """Splits each agent's credit over its messages (``ac_refiner``).

    ``Refiner(n_agents, n_messages, bound=1.0, beta=0.5,
    redundancy_penalty=0.5, relaxation='ordered', batch=64, max_retries=2,
    authors=None, credits=None, labels=None, texts=None, scorer=None,
    allocator=None)``

    Typical use: the inputs (``set_authors``, ``set_credits``, e.g. the
    estimator's phi, and a label feed: ``set_labels``,
    ``labels_from_shapley``, or a scorer for the messages still without a
    label), then :meth:`run`, which asks the scorer and returns the
    rewards; or drive the scorer yourself with :meth:`ask` / :meth:`tell`.
    Inputs and parameters change only while the refiner is idle (after
    creation or ``reset()``); after a run they raise StateError. One thread
    at a time; :meth:`cancel` from any."""

    _kind = "refiner"
    _PARAM_SET = RefinerParam
    _PARAMS = param_table(RefinerParam, {
        RefinerParam.BOUND: ("f64", "B, the bound on |reward|, above 0; "
                             "default 1"),
        RefinerParam.BETA: ("f64", "label strength, default 0.5"),
        RefinerParam.REDUNDANCY_PENALTY: ("f64", "the label of a redundant "
                                          "message is minus this, default "
                                          "0.5"),
        RefinerParam.RELAXATION: ("enum", "infeasible boxes: relax "
                                  "('ordered', default) or fail ('never')",
                                  Relaxation),
        RefinerParam.BATCH: ("int", "messages per scorer call, default 64"),
        RefinerParam.MAX_RETRIES: ("int", "retries of a failed label, "
                                   "default 2"),
    })
    _AUDIT = _AUDIT_KEYS

    def __init__(self, n_agents: int, n_messages: int, *,
                 authors: Optional[Iterable[int]] = None,
                 credits: Optional[Numbers] = None,
                 labels: Optional[Numbers] = None,
                 texts: Optional[Iterable[Union[str, bytes]]] = None,
                 scorer: Optional[Callback] = None,
                 allocator: Optional[_allocator.Allocator] = None,
                 **params: ParamValue) -> None:
        super().__init__()
        na = B.size(n_agents, "n_agents")
        nm = B.size(n_messages, "n_messages")
        out = c_void_p()
        rc = lib.ac_refiner_create(byref(out), na, nm,
                                   _allocator.pointer(allocator))
        if rc:
            detail = "n_agents = %d (1..%d), n_messages = %d (1..%d)" % (
                na, MAX_PLAYERS, nm, _MAX_MESSAGES)
            raise make_error(rc, detail, "ac_refiner_create")
        self._adopt(out.value, keep=allocator)
        self._n_agents, self._n_messages = na, nm
        try:
            self._set_params(params)
            if authors is not None:
                self.set_authors(authors)
            if credits is not None:
                self.set_credits(credits)
            if texts is not None:
                self.set_texts(texts)
            if labels is not None:
                self.set_labels(labels)
            if scorer is not None:
                self.set_scorer(scorer)
        except BaseException:
            self.close()
            raise

    def _describe(self):
        return "agents=%d messages=%d" % (self._n_agents, self._n_messages)

    @property
    def n_agents(self) -> int:
        return self._n_agents

    @property
    def n_messages(self) -> int:
        return self._n_messages

    def _call(self, fname, *args):
        with self._use(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, *args), ptr, fname)

    def _call_long(self, fname, *args):
        with self._use(fname) as ptr:
            self._check(self._long_call(fname, ptr, *args), ptr, fname)

    # -- inputs --------------------------------------------------------------
    def set_authors(self, agent_of: Iterable[int]) -> None:
        """Who wrote each message: ``agent_of[t]`` in 0..n_agents-1."""
        a = B.to_array(agent_of, c_uint32, "agent_of")
        self._call("ac_refiner_set_authors", a, len(a))

    def set_credits(self, credits: Numbers) -> None:
        """Each agent's credit (finite), e.g. ``Estimator.result().phi``."""
        c = B.to_array(credits, c_double, "credits")
        self._call("ac_refiner_set_credits", c, len(c))

    def set_labels(self, labels: Numbers) -> None:
        """Feed 1: a label per message in [-1, 1] (helpful > 0 > harmful)."""
        lab = B.to_array(labels, c_double, "labels")
        self._call("ac_refiner_set_labels", lab, len(lab))

    def fix_label(self, message: int, label: float) -> None:
        """Fixes one message's label; no feed or redundancy rule changes it."""
        self._call("ac_refiner_fix_label", B.u32(message, "message"),
                   B._number(label, "label"))

    def set_texts(self, texts: Iterable[Union[str, bytes]]) -> None:
        """Message texts (str, UTF-8 encoded, or bytes), for redundancy: an
        agent's verbatim repeat (white space collapsed) is flagged redundant
        and labelled -redundancy_penalty."""
        encoded = [_encode(t, k) for k, t in enumerate(texts)]
        n = len(encoded)
        arr = (c_char_p * n)(*encoded)
        lengths = (c_uint64 * n)(*[len(e) for e in encoded])
        self._call("ac_refiner_set_texts", arr, lengths, n)

    def agent_messages(self, agent: int) -> List[int]:
        """The messages of one agent, in episode order: the map from player k
        of a message-level game to the message index."""
        a = B.u32(agent, "agent")
        count = c_uint32()
        self._call("ac_refiner_agent_messages", a, None, 0, byref(count))
        buf = (c_uint32 * count.value)()
        self._call("ac_refiner_agent_messages", a, buf, count.value,
                   byref(count))
        return list(buf[:count.value])

    def labels_from_shapley(self, agent: int, message_phi: Numbers) -> None:
        """Feed 3: labels for one agent's messages from the Shapley values of
        a message-level game over them (``message_phi[k]`` for the k-th
        message of :meth:`agent_messages`), normalised by the largest |phi|."""
        phi = B.to_array(message_phi, c_double, "message_phi")
        self._call("ac_refiner_labels_from_shapley", B.u32(agent, "agent"),
                   phi, len(phi))

    # -- feed 2: a scorer ----------------------------------------------------
    def set_scorer(self, scorer: Optional[Callback]) -> None:
        """Registers ``scorer(messages) -> labels`` for :meth:`run`:
        ``messages`` a list of message indices, one label in [-1, 1] per
        message back (None, NaN or an infinity: a failed label, asked again
        up to max_retries). Raising aborts :meth:`run`, which re-raises the
        exception. None unregisters. Allowed at any time but from inside
        the scorer."""
        fn, keep = scorer_callback(self._cb, scorer)
        with self._use("ac_refiner_set_scorer") as ptr:
            self._check(lib.ac_refiner_set_scorer(ptr, fn, None), ptr,
                        "ac_refiner_set_scorer")
            for k in SCORER_KEYS:
                self._keep.pop(k, None)
            self._keep.update(keep)

    # -- running -------------------------------------------------------------
    def run(self, scorer: Optional[Callback] = None,
            as_numpy: bool = False) -> FloatVector:
        """Runs to the end: asks the scorer (given here or registered) for
        every message still without a label, ``batch`` at a time, then
        computes the rewards and returns them, as :meth:`rewards`. No scorer
        is needed when every message has a label. On a finished run it
        returns the same rewards at once; after a failed one it raises the
        run's error until ``reset()``. Ctrl-C (on the main thread) cancels
        the run and raises KeyboardInterrupt (docs/python.md, "Ctrl-C")."""
        with self._lock:
            if scorer is not None:
                self.set_scorer(scorer)
            self._call_long("ac_refiner_run")
            return self.rewards(as_numpy)

    def ask(self, max_count: int = 64) -> List[Tuple[int, int]]:
        """The scorer as ask/tell: up to max_count messages to label, as a
        list of ``(ticket, message)`` pairs. An empty list: the run is done
        (once every label is in, this ask computed the rewards) or waits for
        outstanding tells (see :meth:`progress`). The first ask starts the
        run."""
        # a message is outstanding under one ticket at a time
        m = min(B.u32(max_count, "max_count"), self._n_messages)
        tickets = (c_uint64 * m)()
        messages = (c_uint32 * m)()
        count = c_uint32()
        # the ask after the last label computes the rewards
        self._call_long("ac_refiner_ask", m, tickets, messages, byref(count))
        k = count.value
        return list(zip(tickets[:k], messages[:k]))

    def tell(self, tickets: Union[Iterable[int], Mapping[int, Optional[float]]],
             labels: Optional[Iterable[Optional[float]]] = None,
             status: Optional[Iterable[int]] = None) -> None:
        """Labels back for asked tickets, in any order and grouping:
        ``tell([t1, t2], [l1, l2])`` or ``tell({t1: l1, t2: l2})``. A label
        None, NaN or infinite (or ``status[k] != 0``) is a failed label,
        asked again up to max_retries; a finite label outside [-1, 1] is
        InvalidArgument and nothing is taken. Raises OracleError when this
        tell ended the run with it."""
        if labels is None and isinstance(tickets, Mapping):
            tickets, labels = list(tickets.keys()), list(tickets.values())
        t = B.to_array(tickets, c_uint64, "tickets")
        vals, st = B.values_and_status(labels, status, len(t), "labels")
        self._call("ac_refiner_tell", len(t), t, vals, st)

    def progress(self) -> Progress:
        """``Progress(done, outstanding)``: done is True once the run has
        ended (rewards ready, or failed), outstanding the tickets not yet
        told."""
        done, outstanding = c_int32(), c_uint64()
        self._call("ac_refiner_progress", byref(done), byref(outstanding))
        return Progress(bool(done.value), outstanding.value)

    @property
    def done(self) -> bool:
        """True once the run has ended (done or failed)."""
        return self.progress().done

    def cancel(self) -> None:
        """Asks the run to stop (Cancelled at the next ask, or between scorer
        calls in run); a finished run keeps its rewards. Safe from any
        thread and from the scorer; a no-op on a closed handle."""
        with self._ptr_lock:
            if self._ptr is not None:
                lib.ac_refiner_cancel(self._ptr)

    # -- results -------------------------------------------------------------
    def _read(self, fname, ctype, n, as_numpy=False):
        buf = (ctype * n)()
        self._call(fname, buf, n)
        return B.output(buf, as_numpy)

    def rewards(self, as_numpy: bool = False) -> FloatVector:
        """The message rewards of the run (StateError until it is done)."""
        return self._read("ac_refiner_rewards", c_double, self._n_messages,
                          as_numpy)

    def labels(self, as_numpy: bool = False) -> FloatVector:
        """The labels the projection used (after redundancy and fixing)."""
        return self._read("ac_refiner_labels", c_double, self._n_messages,
                          as_numpy)

    def message_flags(self, names: bool = False
                      ) -> Union[List[int], List[FrozenSet[str]]]:
        """:class:`MessageFlag` bits per message (ints); ``names=True``:
        frozensets of ``'redundant'``, ``'label_fixed'``."""
        flags = self._read("ac_refiner_message_flags", c_uint32,
                           self._n_messages)
        return _names(flags, _MSG_FLAG_NAMES) if names else flags

    def agent_flags(self, names: bool = False
                    ) -> Union[List[int], List[FrozenSet[str]]]:
        """:class:`AgentFlag` bits per agent from the run (ints);
        ``names=True``: frozensets of ``'relaxed_sign'``,
        ``'relaxed_bound'``."""
        flags = self._read("ac_refiner_agent_flags", c_uint32,
                           self._n_agents)
        return _names(flags, _AGENT_FLAG_NAMES) if names else flags

    def flags(self) -> Dict[str, List[FrozenSet[str]]]:
        """``{'messages': [...], 'agents': [...]}``, both as name sets."""
        return {"messages": self.message_flags(names=True),
                "agents": self.agent_flags(names=True)}

    def reset(self, *what: Union[str, int]) -> None:
        """``'session'`` (the default: forget the run, i.e. the scorer's
        labels, tickets, results, audit and a cancellation), ``'params'``
        (the defaults), ``'known'`` (the inputs: authors, credits, given and
        fixed labels, texts) or ``'all'``. ``'params'`` and ``'known'``
        need an idle refiner or ``'session'`` with them (else
        StateError)."""
        self._call("ac_refiner_reset", reset_flags(what or ("session",)))


install_params(Refiner)
