"""Per-message rewards that add up to each agent's credit (``ac_refiner``).

docs/signals.md gives the construction and proves its five properties:
conservation, bound, sign, monotonicity and locality."""

from ctypes import byref, c_char_p, c_double, c_uint32, c_uint64, c_void_p

from . import _buffers as B
from . import allocator as _allocator
from ._errors import make_error
from ._handle import Parametrised, Param, install_params, reset_flags, trampoline
from ._lib import SCORER_FN, lib

#: AC_REFINER_PARAM_RELAXATION values.
RELAXATIONS = {"ordered": 0, "never": 1}
#: Per-agent flags (agent_flags): AC_AGENT_FLAG_RELAXED_*.
RELAXED_SIGN = 1
RELAXED_BOUND = 2
#: Per-message flags (message_flags): AC_MESSAGE_FLAG_*.
MSG_REDUNDANT = 1
MSG_LABEL_FIXED = 2

_AGENT_FLAG_NAMES = ((RELAXED_SIGN, "relaxed_sign"),
                     (RELAXED_BOUND, "relaxed_bound"))
_MSG_FLAG_NAMES = ((MSG_REDUNDANT, "redundant"),
                   (MSG_LABEL_FIXED, "label_fixed"))


def _names(flags, table):
    return [frozenset(name for bit, name in table if f & bit) for f in flags]


def _encode(text, k):
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("texts[%d]: expected str or bytes, got %s"
                    % (k, type(text).__name__))


class Refiner(Parametrised):
    """Splits each agent's credit over its messages (``ac_refiner``).

    ``Refiner(n_agents, n_messages, bound=1.0, beta=0.5,
    redundancy_penalty=0.5, relaxation='ordered', batch=64, max_retries=2,
    authors=None, credits=None, labels=None, texts=None, allocator=None)``

    Typical use: ``set_authors``, ``set_credits`` (e.g. the estimator's phi),
    a label feed (``set_labels``, ``score`` with a scorer callable or the
    ask/tell pair, or ``labels_from_shapley``), then ``refine()``, which
    returns the rewards. One thread at a time."""

    _kind = "refiner"
    _PARAMS = {
        "bound": Param("bound", 200, "f64", "AC_REFINER_PARAM_BOUND: B, the bound on "
                       "|reward| (0, 1e300], default 1"),
        "beta": Param("beta", 201, "f64", "AC_REFINER_PARAM_BETA: label strength "
                      "[0, 1e6], default 0.5"),
        "redundancy_penalty": Param("redundancy_penalty", 202, "f64",
                                    "AC_REFINER_PARAM_REDUNDANCY_PENALTY [0, 1], "
                                    "default 0.5"),
        "relaxation": Param("relaxation", 203, "enum", "AC_REFINER_PARAM_RELAXATION: "
                            "'ordered' (default) or 'never'", RELAXATIONS),
        "batch": Param("batch", 204, "int", "AC_REFINER_PARAM_BATCH: messages per "
                       "scorer call [1, 2**20], default 64"),
        "max_retries": Param("max_retries", 205, "int", "AC_REFINER_PARAM_MAX_RETRIES"
                             " per failed label [0, 1000], default 2"),
    }

    def __init__(self, n_agents, n_messages, *, authors=None, credits=None,
                 labels=None, texts=None, allocator=None, **params):
        super().__init__()
        na = B.size(n_agents, "n_agents")
        nm = B.size(n_messages, "n_messages")
        out = c_void_p()
        rc = lib.ac_refiner_create(byref(out), na, nm,
                                   _allocator.pointer(allocator))
        if rc:
            detail = "n_agents = %d (1..65536), n_messages = %d (1..2**28)" \
                % (na, nm)
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
        except BaseException:
            self.close()
            raise

    def _describe(self):
        return "agents=%d messages=%d" % (self._n_agents, self._n_messages)

    @property
    def n_agents(self):
        return self._n_agents

    @property
    def n_messages(self):
        return self._n_messages

    def _call(self, fname, *args):
        with self._use(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, *args), ptr, fname)

    # -- inputs --------------------------------------------------------------
    def set_authors(self, agent_of):
        """Who wrote each message: ``agent_of[t]`` in 0..n_agents-1."""
        a = B.to_array(agent_of, c_uint32, "agent_of")
        self._call("ac_refiner_set_authors", a, len(a))

    def set_credits(self, credits):
        """Each agent's credit (finite), e.g. ``Estimator.result().phi``."""
        c = B.to_array(credits, c_double, "credits")
        self._call("ac_refiner_set_credits", c, len(c))

    def set_labels(self, labels):
        """Feed 1: a label per message in [-1, 1] (helpful > 0 > harmful)."""
        lab = B.to_array(labels, c_double, "labels")
        self._call("ac_refiner_set_labels", lab, len(lab))

    def fix_label(self, message, label):
        """Fixes one message's label; no feed or redundancy rule changes it."""
        self._call("ac_refiner_fix_label", B.u32(message, "message"),
                   B._number(label, "label"))

    def set_texts(self, texts):
        """Message texts (str, UTF-8 encoded, or bytes), for redundancy: an
        agent's verbatim repeat (white space collapsed) is flagged redundant
        and labelled -redundancy_penalty."""
        encoded = [_encode(t, k) for k, t in enumerate(texts)]
        n = len(encoded)
        arr = (c_char_p * n)(*encoded)
        lengths = (c_uint64 * n)(*[len(e) for e in encoded])
        self._call("ac_refiner_set_texts", arr, lengths, n)

    def agent_messages(self, agent):
        """The messages of one agent, in episode order: the map from player k
        of a message-level game to the message index."""
        a = B.u32(agent, "agent")
        count = c_uint32()
        self._call("ac_refiner_agent_messages", a, None, 0, byref(count))
        buf = (c_uint32 * count.value)()
        self._call("ac_refiner_agent_messages", a, buf, count.value,
                   byref(count))
        return list(buf[:count.value])

    def labels_from_shapley(self, agent, message_phi):
        """Feed 3: labels for one agent's messages from the Shapley values of
        a message-level game over them (``message_phi[k]`` for the k-th
        message of :meth:`agent_messages`), normalised by the largest |phi|."""
        phi = B.to_array(message_phi, c_double, "message_phi")
        self._call("ac_refiner_labels_from_shapley", B.u32(agent, "agent"),
                   phi, len(phi))

    # -- feed 2: a scorer ----------------------------------------------------
    def set_scorer(self, scorer):
        """Registers ``scorer(messages) -> labels``: ``messages`` a list of
        message indices, one label in [-1, 1] per message back (None or NaN:
        a failed label, asked again up to max_retries). Raising aborts
        :meth:`score`, which re-raises the exception. None unregisters."""
        if scorer is None:
            fn, keep = SCORER_FN(), {}
        elif callable(scorer):
            def body(_user, messages, count, labels, status, _fn=scorer):
                B.write_results(_fn(messages[:count]), count, labels, status,
                                "scorer")
            fn = SCORER_FN(trampoline(self._cb, body))
            keep = {"scorer": fn, "scorer_callable": scorer}
        else:
            raise TypeError("scorer must be callable or None")
        with self._use("ac_refiner_set_scorer") as ptr:
            self._check(lib.ac_refiner_set_scorer(ptr, fn, None), ptr,
                        "ac_refiner_set_scorer")
            self._keep.pop("scorer", None)
            self._keep.pop("scorer_callable", None)
            self._keep.update(keep)

    def score(self, scorer=None):
        """Asks the scorer (given here or registered) for every message still
        without a label, ``batch`` at a time."""
        if scorer is not None:
            self.set_scorer(scorer)
        self._call("ac_refiner_score")

    def ask(self, max_count=64):
        """Feed 2 as ask/tell: up to max_count message indices still needing
        a label ([] when none is left to hand out)."""
        m = min(B.u32(max_count, "max_count"), self._n_messages)
        buf = (c_uint32 * m)()
        count = c_uint32()
        self._call("ac_refiner_ask", m, buf, byref(count))
        return list(buf[:count.value])

    def tell(self, messages, labels=None, status=None):
        """Labels back for asked messages, any order: ``tell([m...],
        [label...])`` or ``tell({m: label})``; None marks a failed label."""
        if labels is None and isinstance(messages, dict):
            messages, labels = list(messages.keys()), list(messages.values())
        m = B.to_array(messages, c_uint32, "messages")
        vals, st = B.values_and_status(labels, status, len(m), "labels")
        self._call("ac_refiner_tell", len(m), m, vals, st)

    # -- results -------------------------------------------------------------
    def refine(self, as_numpy=False):
        """Computes the rewards (needs authors, credits and a label for every
        non-redundant message) and returns them, as :meth:`rewards`."""
        with self._lock:
            self._call("ac_refiner_refine")
            return self.rewards(as_numpy)

    def _read(self, fname, ctype, n, as_numpy=False):
        buf = (ctype * n)()
        self._call(fname, buf, n)
        return B.output(buf, as_numpy)

    def rewards(self, as_numpy=False):
        """The message rewards of the last refine (StateError before)."""
        return self._read("ac_refiner_rewards", c_double, self._n_messages,
                          as_numpy)

    def labels(self, as_numpy=False):
        """The labels the projection used (after redundancy and fixing)."""
        return self._read("ac_refiner_labels", c_double, self._n_messages,
                          as_numpy)

    def message_flags(self, names=False):
        """MSG_* bits per message; ``names=True``: frozensets of
        ``'redundant'``, ``'label_fixed'``."""
        flags = self._read("ac_refiner_message_flags", c_uint32,
                           self._n_messages)
        return _names(flags, _MSG_FLAG_NAMES) if names else flags

    def agent_flags(self, names=False):
        """RELAXED_* bits per agent from the last refine; ``names=True``:
        frozensets of ``'relaxed_sign'``, ``'relaxed_bound'``."""
        flags = self._read("ac_refiner_agent_flags", c_uint32,
                           self._n_agents)
        return _names(flags, _AGENT_FLAG_NAMES) if names else flags

    def flags(self):
        """``{'messages': [...], 'agents': [...]}``, both as name sets."""
        return {"messages": self.message_flags(names=True),
                "agents": self.agent_flags(names=True)}

    def reset(self, *what):
        """``'session'`` (default: labels, texts, results), ``'params'``,
        ``'known'`` (authors and credits too) or ``'all'``."""
        self._call("ac_refiner_reset", reset_flags(what or ("session",)))


install_params(Refiner)
