"""Episodes and the pipeline: one episode in, every training signal out
(``ac_episode``, ``ac_pipeline``). docs/signals.md ("The pipeline") gives
the wiring; docs/python.md ("Episodes and the pipeline") the Python use."""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import enum
import json
import math
import threading
from ctypes import (byref, c_char_p, c_double, c_int, c_int32, c_int64,
                    c_size_t, c_uint32, c_uint64, c_void_p,
                    create_string_buffer)
from typing import (Any, Dict, Iterator, List, Mapping, NoReturn, Optional,
                    Tuple, Type, Union)

from . import _buffers as B
from . import allocator as _allocator
from ._constants import (MESSAGE_FLAG_NON_PLAYER, AgentFlag, EpisodeField,
                         EstimatorParam, LabelSource, LocalizerParam,
                         MessageFlag, Method, ParticipantKind, PipelineAudit,
                         PipelineParam, RefinerParam, Status, StepFlag,
                         VerifierSource)
from ._errors import make_error
from ._handle import (Audited, Handle, Param, _check_enum, audit_table,
                      flag_names, install_params, param_property, read_audit,
                      value_names)
from ._lib import ac_json_limits, ac_preference_pair, decode, lib
from ._types import Callback, Coalition, ParamName, ParamValue
from .estimator import (ORACLE_KEYS, Estimator, InteractionResult,
                        oracle_callback, pair_matrix)
from .localizer import (REPAIR_KEYS, UNKNOWN_AGENT, VERIFIER_KEYS, FirstError,
                        Localizer, PreferencePair, repair_callbacks,
                        verifier_callback)
from .refiner import SCORER_KEYS, Refiner, scorer_callback

_KIND_NAMES = value_names(ParticipantKind)
_KIND_OF = {m.value: n for n, m in _KIND_NAMES.items()}
_NO_MESSAGE = B.UINT32_MAX          # UINT32_MAX: no parent, no annotation
_NO_TOKEN = B.UINT64_MAX            # UINT64_MAX: no token span

#: A participant of an episode: its ``name``, its ``kind`` (``'agent'``,
#: ``'tool'``, ``'user'``, ``'environment'``, ``'system'``) and, for an
#: agent, its ``agent`` index (the player of the credit game; None for a
#: non-player).
Participant = collections.namedtuple("Participant", "name kind agent")
#: A message of an episode: its ``participant`` (index), ``role`` and
#: ``text`` (str, None when not given), ``parent`` (the message it replies
#: to, or None) and ``token_span`` (``(begin, end)`` or None).
Message = collections.namedtuple("Message",
                                 "participant role text parent token_span")
#: A message's tool keys, as the OpenAI/TRL chat format has them:
#: ``tool_calls`` (a list of ``{"id"?, "type": "function", "function":
#: {"name", "arguments"}}`` dicts, the arguments a str as the model wrote
#: them or a dict; None when the message made no call), ``tool_call_id``
#: (the call a tool's message answers) and ``name`` (str or None).
MessageTools = collections.namedtuple("MessageTools",
                                      "tool_calls tool_call_id name")


def _c_string(value, what):
    """A str (UTF-8 encoded) or bytes as the NUL-terminated bytes C copies;
    None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    else:
        raise TypeError("%s: expected str, bytes or None, got %s"
                        % (what, type(value).__name__))
    if b"\0" in data:
        raise make_error(Status.E_INVALID_ARG, "%s: a NUL character would "
                         "cut the string short in C" % what, what)
    return data


def _from_c(value):
    return None if value is None else decode(value)


def _load_json(fname, text, strict, limits, allocator):
    """``ac_episode_load_json`` or ``ac_signals_load_json`` (the same
    arguments) of a str or bytes: (the handle's address, the warnings as a
    list of str). ``limits``: None or a dict of ``max_bytes`` and/or
    ``max_memory``."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    elif isinstance(text, (bytearray, memoryview)):
        text = bytes(text)
    elif not isinstance(text, bytes):
        raise TypeError("%s: expected JSON text (str or bytes), got %s"
                        % (fname, type(text).__name__))
    lim = None
    if limits is not None:
        lim = ac_json_limits()
        lib.ac_json_limits_default(byref(lim))
        for key, value in dict(limits).items():
            if key not in ("max_bytes", "max_memory"):
                raise TypeError("limits: unknown key %r (max_bytes, "
                                "max_memory)" % key)
            setattr(lim, key, int(value))
        lim = byref(lim)
    out = c_void_p()
    err, warn = create_string_buffer(512), create_string_buffer(8192)
    rc = getattr(lib, fname)(byref(out), text, len(text),
                             _allocator.pointer(allocator), lim,
                             1 if strict else 0, err, 512, warn, 8192)
    if rc:
        raise make_error(rc, decode(err.value), fname)
    return out.value, [w for w in decode(warn.value).split("\n") if w]


def _outcome_property(field: EpisodeField, name: str, clear: Optional[str],
                      doc: str) -> property:
    """An outcome field of the episode as a property (None: unset; a field
    without a clear function cannot be unset)."""
    def getter(self: Episode) -> Optional[float]:
        return self._field(field)

    def setter(self: Episode, value: Optional[float]) -> None:
        self._set_field(name, value, clear)
    return property(getter, setter, doc=doc)


class Episode(Handle):
    """One episode: who took part, the messages in order, how it ended and
    what the host knows (``ac_episode``).

    ``Episode(outcome=None, threshold=None, reference=None, baseline=None,
    allocator=None)``

    Participants are agents (the players of the credit game, agent indices
    0, 1, ... in the order they are added) and non-players (``'tool'``,
    ``'user'``, ``'environment'``, ``'system'``): their messages are part
    of the transcript (a verifier reads them in its prefixes) but are never
    rewarded, blamed or players. Names are unique; strings are str (UTF-8)
    or bytes, without NUL. An episode is data: it copies every string,
    computes nothing, and :meth:`Pipeline.run` only reads it. It may be
    changed at any time but while a pipeline run reads it (from another
    thread: the change waits for the run; from the run's own callbacks:
    Busy). Use it as a context manager, or call :meth:`close`; it is also
    freed when collected."""

    _kind = "episode"

    def __init__(self, *, outcome: Optional[float] = None,
                 threshold: Optional[float] = None,
                 reference: Optional[float] = None,
                 baseline: Optional[float] = None,
                 allocator: Optional[_allocator.Allocator] = None) -> None:
        super().__init__()
        out = c_void_p()
        rc = lib.ac_episode_create(byref(out), _allocator.pointer(allocator))
        if rc:
            raise make_error(rc, "", "ac_episode_create")
        self._adopt(out.value, keep=allocator)
        self._setup()
        try:
            for name, value in (("outcome", outcome),
                                ("threshold", threshold),
                                ("reference", reference),
                                ("baseline", baseline)):
                if value is not None:
                    setattr(self, name, value)
        except BaseException:
            self.close()
            raise

    def _setup(self):
        self._index = {}                       # participant name -> index
        self._readers = {}                     # thread id -> pipeline runs
        self._idle = threading.Condition(self._lock)
        #: the warnings of :meth:`from_json` (unknown keys), one str each
        self.warnings = []

    @classmethod
    def from_json(cls, text: Union[str, bytes], *, strict: bool = False,
                  limits: Optional[Dict[str, int]] = None,
                  allocator: Optional[_allocator.Allocator] = None
                  ) -> Episode:
        """Reads one ``"agentcredit.episode/1"`` object (docs/format.md):
        ``text`` a str or bytes. Unknown keys are warnings, kept in
        ``episode.warnings``; with ``strict=True`` the first is a
        ParseError. ``limits``: a dict with ``max_bytes`` and/or
        ``max_memory`` (the library's defaults otherwise). Raises
        ParseError naming the line and column or the field, TooLarge past
        a limit."""
        ptr, warnings = _load_json("ac_episode_load_json", text, strict,
                                   limits, allocator)
        self = cls.__new__(cls)
        Handle.__init__(self)
        self._adopt(ptr, keep=allocator)
        self._setup()
        self._index = {p.name: i for i, p in enumerate(self.participants)}
        self.warnings = warnings
        return self

    def to_json(self) -> str:
        """The episode as one line of ``"agentcredit.episode/1"`` JSON (no
        newline); :meth:`from_json` reads it back as it was."""
        with self._use("ac_episode_write_json") as ptr:
            return _written(lambda buf, cap, n: lib.ac_episode_write_json(
                ptr, buf, cap, n), self, ptr, "ac_episode_write_json")

    @property
    def id(self) -> Optional[str]:
        """The host's id of the episode (a str), or None."""
        with self._use("ac_episode_id") as ptr:
            raw = lib.ac_episode_id(ptr)
        return None if raw is None else decode(raw)

    @id.setter
    def id(self, value: Optional[str]) -> None:
        self._set("ac_episode_set_id",
                  None if value is None else _c_string(value, "id"))

    def _describe(self):
        if self._ptr is None:
            return ""
        p, a, m = self._counts()
        return "participants=%d agents=%d messages=%d" % (p, a, m)

    # -- readers and writers -------------------------------------------------
    @contextlib.contextmanager
    def _reading(self, what):
        """The episode for a pipeline run, without holding its lock (any
        number of runs may read one episode at once): changes wait for the
        runs of other threads, and are Busy from the run's own thread."""
        me = threading.get_ident()
        with self._lock:
            ptr = self._ptr
            if ptr is None:
                raise make_error(Status.E_STATE, "%s: the episode is closed"
                                 % what, what)
            self._guard.settle()
            self._readers[me] = self._readers.get(me, 0) + 1
        try:
            yield ptr
        finally:
            with self._lock:
                left = self._readers.pop(me) - 1
                if left:
                    self._readers[me] = left
                self._idle.notify_all()

    def _wait_for_readers(self, what):
        me = threading.get_ident()
        while self._readers:
            if me in self._readers:
                raise make_error(Status.E_BUSY, "%s: the episode is being "
                                 "read by a pipeline run of this thread (a "
                                 "callback of the run cannot change it)"
                                 % what, what)
            self._idle.wait()

    @contextlib.contextmanager
    def _write(self, fname):
        with self._lock:
            self._wait_for_readers(fname)
            with self._use(fname) as ptr:
                yield ptr

    def _set(self, fname, *args):
        with self._write(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, *args), ptr, fname)

    def _get(self, fname, *args):
        with self._use(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, *args), ptr, fname)

    def close(self) -> None:
        """Frees the C episode now (also at the end of a ``with`` block, or
        when collected). Idempotent. Waits for the pipeline runs of other
        threads that read it; Busy from inside a run's callback."""
        with self._lock:
            self._wait_for_readers("close")
            super().close()

    # -- participants and messages ------------------------------------------
    def add_participant(self, name: str,
                        kind: Union[str, ParticipantKind] = "agent") -> int:
        """Adds a participant and returns its participant index. ``kind``:
        ``'agent'`` (a player; it also gets the next agent index, see
        :meth:`agent_of`), ``'tool'``, ``'user'``, ``'environment'``,
        ``'system'``, or a :class:`ParticipantKind` member. An agent must
        come before any :meth:`set_value` (StateError). InvalidArgument for
        an empty or duplicate name or an unknown kind."""
        if not isinstance(name, str):
            raise TypeError("a participant's name must be a str, got %s"
                            % type(name).__name__)
        k = self._kind_value(kind)
        data = _c_string(name, "participant name")
        index = c_uint32()
        self._set("ac_episode_add_participant", data, k, byref(index))
        self._index[name] = index.value
        return index.value

    @staticmethod
    def _kind_value(kind):
        if isinstance(kind, str):
            try:
                return int(_KIND_NAMES[kind])
            except KeyError:
                raise make_error(Status.E_INVALID_ARG, "unknown participant "
                                 "kind %r (known: %s)"
                                 % (kind, ", ".join(_KIND_NAMES)),
                                 "add_participant") from None
        _check_enum(kind, ParticipantKind, "kind")
        return B.index(kind, "kind")

    def _participant(self, participant):
        """A participant index from an index or a name."""
        if isinstance(participant, str):
            try:
                return self._index[participant]
            except KeyError:
                raise make_error(Status.E_INVALID_ARG, "no participant "
                                 "named %r" % participant,
                                 "participant") from None
        return B.u32(participant, "participant")

    def add_message(self, participant: Union[int, str],
                    text: Optional[str] = None,
                    role: Optional[str] = None) -> int:
        """Appends a message by ``participant`` (its index or name) and
        returns the message's index. ``text`` and ``role`` (as the
        transcript names it: ``'assistant'``, ``'tool'``, ...) may be None
        (a message without content, such as a tool call)."""
        p = self._participant(participant)
        index = c_uint32()
        self._set("ac_episode_add_message", p, _c_string(role, "role"),
                  _c_string(text, "text"), byref(index))
        return index.value

    def set_parent(self, message: int, parent: Optional[int]) -> None:
        """The earlier message ``message`` replies to or depends on
        (``parent < message``); None: none (the default). Carried for the
        trainer; the pipeline computes nothing from it."""
        par = _NO_MESSAGE if parent is None else B.u32(parent, "parent")
        self._set("ac_episode_set_parent", B.u32(message, "message"), par)

    def set_token_span(self, message: int, begin: Optional[int],
                       end: Optional[int] = None) -> None:
        """The message's tokens ``[begin, end)`` in the trained model's
        tokenization of the transcript; ``set_token_span(t, None)``: none
        (the default)."""
        if begin is None and end is None:
            b = e = _NO_TOKEN
        elif begin is None or end is None:
            raise TypeError("set_token_span: give begin and end, or None "
                            "for no span")
        else:
            b, e = B.u64(begin, "begin"), B.u64(end, "end")
        self._set("ac_episode_set_token_span", B.u32(message, "message"),
                  b, e)

    def set_tool_calls(self, message: int,
                       tool_calls: Union[None, str, List[Dict[str, Any]]]
                       ) -> None:
        """The tool calls ``message`` made: a list of OpenAI tool calls
        (dicts ``{"id"?, "type"?: "function", "function": {"name",
        "arguments"}}``, the arguments a str, kept as given, or a dict), or
        their JSON text (str or bytes); None or ``[]`` removes them. Checked
        by the library (InvalidArgument naming the field: an unknown key, a
        name that is not a non-empty str, ...); kept in a canonical form
        (:meth:`message_tools`). Carried to the exports; the pipeline
        computes nothing from them."""
        if tool_calls is None:
            data = None
        elif isinstance(tool_calls, (str, bytes, bytearray, memoryview)):
            data = _c_string(tool_calls, "tool_calls")
        else:
            try:
                data = json.dumps(tool_calls, ensure_ascii=False,
                                  allow_nan=False).encode("utf-8")
            except (TypeError, ValueError) as e:
                raise make_error(Status.E_INVALID_ARG, "tool_calls: not "
                                 "JSON: %s" % e, "tool_calls") from None
        self._set("ac_episode_set_tool_calls", B.u32(message, "message"),
                  data, 0 if data is None else len(data))

    def set_tool_call_id(self, message: int,
                         tool_call_id: Optional[str]) -> None:
        """The id of the tool call a tool's message answers (a non-empty
        str); None removes it."""
        self._set("ac_episode_set_tool_call_id", B.u32(message, "message"),
                  _c_string(tool_call_id, "tool_call_id"))

    def set_message_name(self, message: int, name: Optional[str]) -> None:
        """The message's ``name`` in the chat format (a tool's message: the
        function's name; another: the speaker's), a non-empty str; None
        removes it."""
        self._set("ac_episode_set_message_name", B.u32(message, "message"),
                  _c_string(name, "name"))

    # -- the outcome ----------------------------------------------------------
    def _field(self, field):
        value, is_set = c_double(), c_int()
        self._get("ac_episode_get_f64", int(field), byref(value),
                  byref(is_set))
        return value.value if is_set.value else None

    def _set_field(self, name, value, clear=None):
        if value is None:
            if clear is None:
                raise TypeError("the %s cannot be unset" % name)
            with self._write(clear) as ptr:
                getattr(lib, clear)(ptr)
            return
        self._set("ac_episode_set_%s" % name, B._number(value, name))

    outcome = _outcome_property(
        EpisodeField.OUTCOME, "outcome", None,
        "R, the evaluator's score (finite; required by the pipeline); None "
        "until set.")
    threshold = _outcome_property(
        EpisodeField.THRESHOLD, "threshold", None,
        "Success is R >= threshold (finite; default 0.5).")
    reference = _outcome_property(
        EpisodeField.REFERENCE, "reference", "ac_episode_clear_reference",
        "What R is judged against (the group's mean outcome, an expected "
        "success rate): the agents' credits add up to R - reference. None "
        "(the default, or set None): the threshold serves.")
    baseline = _outcome_property(
        EpisodeField.BASELINE, "baseline", "ac_episode_clear_baseline",
        "v(empty), the outcome with no agent acting. None (the default, or "
        "set None): the oracle is asked for it.")

    def set_value(self, coalition: Coalition, value: float) -> None:
        """A coalition value the host knows (free for the oracle): the
        coalition an int bitmask over the agent indices (bit a: agent a) or
        an iterable of agent indices. v(all) is the outcome unless given
        here. Giving a coalition again replaces its value. Add every agent
        first."""
        v = B._number(value, "value")
        fname = "ac_episode_set_value"
        with self._write(fname) as ptr:
            n = self.n_agents
            c = B.coalition(coalition, n)
            words = lib.ac_coalition_words(n) if n else 1
            arr = B.coalition_words_array([c], words)
            self._check(lib.ac_episode_set_value(ptr, arr, words, v), ptr,
                        fname)

    def set_label(self, message: int, label: Optional[float]) -> None:
        """A label the host gives an agent's message, in [-1, 1] (helpful >
        0 > harmful): on a success the pipeline takes it as given, instead
        of the scorer's. A non-player's message takes none
        (InvalidArgument)."""
        self._set("ac_episode_set_label", B.u32(message, "message"),
                  B._number(label, "label"))

    @property
    def first_error_label(self) -> Optional[int]:
        """The first erroneous message as a human annotated it (an agent's
        message), or None. The pipeline can use it as an exact verifier
        (``Pipeline(verifier_source='annotation')``)."""
        m = c_uint32()
        self._get("ac_episode_first_error_label", byref(m))
        return None if m.value == _NO_MESSAGE else m.value

    @first_error_label.setter
    def first_error_label(self, message: Optional[int]) -> None:
        m = _NO_MESSAGE if message is None else B.u32(message, "message")
        self._set("ac_episode_set_first_error_label", m)

    # -- reading back ------------------------------------------------------
    def _counts(self):
        p, a, m = c_uint32(), c_uint32(), c_uint32()
        self._get("ac_episode_counts", byref(p), byref(a), byref(m))
        return p.value, a.value, m.value

    @property
    def n_participants(self) -> int:
        return self._counts()[0]

    @property
    def n_agents(self) -> int:
        """The agents (the players of the credit game)."""
        return self._counts()[1]

    @property
    def n_messages(self) -> int:
        return self._counts()[2]

    def participant(self, participant: Union[int, str]) -> Participant:
        """One :class:`Participant` (by index or name)."""
        index = self._participant(participant)
        name, kind = c_char_p(), c_int32()
        self._get("ac_episode_participant", index, byref(name), byref(kind))
        agent = None
        if kind.value == ParticipantKind.AGENT:
            a = c_uint32()
            self._get("ac_episode_agent_of", index, byref(a))
            agent = a.value
        return Participant(_from_c(name.value),
                           _KIND_OF.get(kind.value, kind.value), agent)

    @property
    def participants(self) -> List[Participant]:
        """Every :class:`Participant`, in participant order."""
        with self._use("participants"):
            return [self.participant(i)
                    for i in range(self.n_participants)]

    def agent_of(self, participant: Union[int, str]) -> Optional[int]:
        """The agent index of a participant (index or name); None for a
        non-player."""
        return self.participant(participant).agent

    def message(self, index: int) -> Message:
        """One :class:`Message`."""
        t = B.u32(index, "message")
        who, role, text = c_uint32(), c_char_p(), c_char_p()
        parent, begin, end = c_uint32(), c_uint64(), c_uint64()
        self._get("ac_episode_message", t, byref(who), byref(role),
                  byref(text))
        self._get("ac_episode_message_links", t, byref(parent), byref(begin),
                  byref(end))
        span = (None if begin.value == _NO_TOKEN and end.value == _NO_TOKEN
                else (begin.value, end.value))
        return Message(who.value, _from_c(role.value), _from_c(text.value),
                       None if parent.value == _NO_MESSAGE else parent.value,
                       span)

    def message_tools(self, index: int) -> "MessageTools":
        """One message's :class:`MessageTools` (each None when not
        given)."""
        calls, call_id, name = c_char_p(), c_char_p(), c_char_p()
        self._get("ac_episode_message_tools", B.u32(index, "message"),
                  byref(calls), byref(call_id), byref(name))
        return MessageTools(
            None if calls.value is None else json.loads(decode(calls.value)),
            _from_c(call_id.value), _from_c(name.value))

    @property
    def messages(self) -> List[Message]:
        """Every :class:`Message`, in transcript order."""
        with self._use("messages"):
            return [self.message(t) for t in range(self.n_messages)]

    @property
    def labels(self) -> List[Optional[float]]:
        """The labels given (:meth:`set_label`) per message; None where
        none was."""
        with self._use("labels"):
            n = self.n_messages
            buf = (c_double * n)()
            self._get("ac_episode_labels", buf, n)
        return [None if math.isnan(v) else v for v in buf]

    @property
    def known_values(self) -> Dict[int, float]:
        """The known coalition values (:meth:`set_value`): ``{coalition:
        value}``, coalitions as int bitmasks over the agent indices."""
        with self._use("known_values"):
            count = c_uint32()
            self._get("ac_episode_known_count", byref(count))
            n = self.n_agents
            words = lib.ac_coalition_words(n) if n else 1
            out = {}
            for k in range(count.value):
                key, value = (c_uint64 * words)(), c_double()
                self._get("ac_episode_known_value", k, key, words,
                          byref(value))
                out[B.read_coalitions(key, words, 1)[0]] = value.value
        return out


# --------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------

_MSG_FLAG_NAMES = flag_names(MessageFlag) + (
    (MESSAGE_FLAG_NON_PLAYER, "non_player"),)
_STEP_FLAG_NAMES = flag_names(StepFlag)
_AGENT_FLAG_NAMES = flag_names(AgentFlag)
_AUDIT_KEYS = audit_table(
    PipelineAudit,
    values={PipelineAudit.SUCCESS: bool, PipelineAudit.LOCALIZED: bool,
            PipelineAudit.LABELS: LabelSource,
            PipelineAudit.REFERENCE_GIVEN: bool,
            PipelineAudit.METHOD: Method})


def _written(write, owner, ptr, fname):
    """The text of an snprintf-style writer: sized, then written."""
    n = c_size_t()
    owner._check(write(None, 0, byref(n)), ptr, fname)
    buf = create_string_buffer(n.value + 1)
    owner._check(write(buf, n.value + 1, byref(n)), ptr, fname)
    return decode(buf.value)


def _flag_list(value, table):
    return [name for bit, name in table if value & bit]


def _json_number(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _json_numbers(values):
    return [_json_number(v) for v in values]


_SIGNALS_FORMAT = "agentcredit.signals/1"
_INT64_MAX = (1 << 63) - 1

#: What the signals name from their episode: its id, outcome and
#: threshold, each agent's name (by agent index) and each message's author.
_EpisodeNames = collections.namedtuple(
    "_EpisodeNames", "id outcome threshold agents authors")


def _episode_names(episode):
    parts = episode.participants
    agents = sorted((p.agent, p.name) for p in parts if p.agent is not None)
    return _EpisodeNames(
        episode.id, episode.outcome, episode.threshold,
        [name for _, name in agents],
        [parts[m.participant].name for m in episode.messages])


def _chosen_json(chosen):
    """As the C writer: a candidate id past INT64_MAX is its digits."""
    return str(chosen) if chosen > _INT64_MAX else chosen


def _read_interactions(inter, na, as_numpy):
    """The pairs' interactions through ``inter(index, se, len)`` (the
    status of ``ac_pipeline_interactions`` or ``ac_signals_interactions``),
    or None when the result has none (AC_E_STATE)."""
    pairs = na * (na - 1) // 2
    index, se = (c_double * max(pairs, 1))(), (c_double * max(pairs, 1))()
    rc = inter(index, se, pairs)
    if rc == Status.E_STATE:
        return None
    if rc:
        raise make_error(rc, "", "interactions")
    return InteractionResult(pair_matrix(index, na, as_numpy),
                             pair_matrix(se, na, as_numpy))


def _read_signals(get, inter, na, nm, audit, names, as_numpy):
    """Signals through the getters of a pipeline's result or of an
    ``ac_signals`` (the same shapes): ``get(name, *args)`` calls
    ``ac_pipeline_<name>`` or ``ac_signals_<name>`` and raises when it
    fails; ``inter`` as :func:`_read_interactions` takes it."""
    phi, se = (c_double * na)(), (c_double * na)()
    get("credits", phi, se, na)
    total, reference = c_double(), c_double()
    get("total", byref(total), byref(reference))
    rewards, labels = (c_double * nm)(), (c_double * nm)()
    get("rewards", rewards, nm)
    get("labels", labels, nm)
    mflags, sflags = (c_uint32 * nm)(), (c_uint32 * nm)()
    get("message_flags", mflags, nm)
    get("step_flags", sflags, nm)
    aflags = (c_uint32 * na)()
    get("agent_flags", aflags, na)
    step, agent, prob = c_int64(), c_uint32(), c_double()
    get("first_error", byref(step), byref(agent), byref(prob))
    pair = ac_preference_pair()
    pair.struct_size = ctypes.sizeof(ac_preference_pair)
    get("pair", byref(pair))
    first = None
    if step.value >= 0:
        first = FirstError(step.value,
                           None if agent.value == UNKNOWN_AGENT
                           else agent.value, prob.value)
    return Signals(
        credits=B.output(phi, as_numpy), se=B.output(se, as_numpy),
        total=total.value, reference=reference.value,
        rewards=B.output(rewards, as_numpy),
        labels=B.output(labels, as_numpy),
        message_flags=list(mflags), step_flags=list(sflags),
        agent_flags=list(aflags), first_error=first,
        pair=PreferencePair._from_c(pair), audit=audit,
        interactions=_read_interactions(inter, na, as_numpy), _names=names)


#: What a trainer export and :meth:`Signals.from_json` take as signals: a
#: :class:`Signals` of a pipeline run (or read back), the
#: ``"agentcredit.signals/1"`` object as a dict, or its JSON text.
SignalsLike = Union["Signals", Mapping[str, Any], str, bytes]


def _signals_text(signals):
    if isinstance(signals, Signals):
        return signals.to_json()
    if isinstance(signals, Mapping):
        try:
            return json.dumps(signals, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise make_error(Status.E_INVALID_ARG, "signals: not JSON: %s"
                             % e, "signals") from None
    if isinstance(signals, (str, bytes, bytearray, memoryview)):
        return signals
    raise TypeError("signals: expected agentcredit.Signals, a dict or a "
                    "JSON line (str or bytes), got %s"
                    % type(signals).__name__)


@contextlib.contextmanager
def signals_pointer(signals: SignalsLike, *, strict: bool = False,
                    limits: Optional[Dict[str, int]] = None,
                    warnings: Optional[List[str]] = None) -> Iterator[int]:
    """An ``ac_signals`` (its address) of ``signals``, loaded by the
    library (``ac_signals_load_json``: every figure checked) and freed
    when the block ends. Its warnings (unknown keys) go to ``warnings``
    when given."""
    ptr, warned = _load_json("ac_signals_load_json", _signals_text(signals),
                             strict, limits, None)
    if warnings is not None:
        warnings.extend(warned)
    try:
        yield ptr
    finally:
        lib.ac_signals_free(ptr)


def _loaded_signals(ptr, as_numpy):
    """The :class:`Signals` of an ``ac_signals``."""
    def get(name, *args):
        fname = "ac_signals_" + name
        rc = getattr(lib, fname)(ptr, *args)
        if rc:
            raise make_error(rc, "", fname)
    na, nm = c_uint32(), c_uint32()
    get("counts", byref(na), byref(nm))
    na, nm = na.value, nm.value
    outcome, threshold = c_double(), c_double()
    get("outcome", byref(outcome), byref(threshold))
    authors = []
    for k in range(nm):
        name = c_char_p()
        get("message_from", k, byref(name), None)
        authors.append(decode(name.value))
    names = _EpisodeNames(
        _from_c(lib.ac_signals_id(ptr)), outcome.value, threshold.value,
        [decode(lib.ac_signals_agent_name(ptr, a)) for a in range(na)],
        authors)
    audit = read_audit(_AUDIT_KEYS,
                       lambda key, out: get("audit", key, out))
    return _read_signals(
        get, lambda *a: lib.ac_signals_interactions(ptr, *a), na, nm, audit,
        names, as_numpy)


@dataclasses.dataclass(frozen=True, eq=False)
class Signals:
    """Every training signal of one episode, as :meth:`Pipeline.run`
    returns it.

    * ``credits``, ``se``: each agent's credit and its standard error (by
      agent index); the credits add up to ``total`` = R - ``reference``
      (the episode's reference, or its threshold when none was given);
    * ``rewards``, ``labels``: per message of the transcript; a
      non-player's reward is 0 and its label NaN;
    * ``message_flags`` (:class:`MessageFlag` bits and
      ``MESSAGE_FLAG_NON_PLAYER``), ``step_flags`` (:class:`StepFlag`, 0
      when the localizer did not run) per message, ``agent_flags``
      (:class:`AgentFlag`) per agent, as ints;
    * ``first_error``: a :class:`FirstError` (step, agent index,
      probability) when a failure was localized to a message, else None;
    * ``pair``: the repair-aware :class:`PreferencePair` (falsy, reason
      ``'not_localized'``, when no localization ran);
    * ``interactions``: an :class:`InteractionResult` (index, se: n x n
      matrices, NaN diagonal) when the run asked for them
      (``estimator_interactions=1``), else None;
    * ``audit``: the pipeline's audit, ``AC_PIPELINE_AUDIT_*`` in lower
      case (``labels`` names where the labels came from: ``'neutral'``,
      ``'given'``, ``'scorer'``, ``'blame'``; ``method`` the estimator's).

    The float sequences are lists, or numpy arrays with ``as_numpy=True``.
    :meth:`to_dict` gives the ``"agentcredit.signals/1"`` object
    (docs/format.md) as a dict, :meth:`to_json` its text; compare two
    results by their ``to_dict()`` (the labels hold NaN, and NaN != NaN:
    ``==`` on Signals is identity)."""

    credits: Any
    se: Any
    total: float
    reference: float
    rewards: Any
    labels: Any
    message_flags: List[int]
    step_flags: List[int]
    agent_flags: List[int]
    first_error: Optional[FirstError]
    pair: PreferencePair
    audit: Dict[str, Any]
    #: the interaction index of every agent pair and its standard error
    #: (n x n, NaN diagonal), when the run had the estimator's
    #: ``interactions`` parameter; else None
    interactions: Optional[InteractionResult] = None
    #: the names the JSON form takes from the episode of the run
    _names: Optional[_EpisodeNames] = dataclasses.field(
        default=None, repr=False, compare=False)

    @classmethod
    def from_json(cls, text: Union[str, bytes], *, strict: bool = False,
                  limits: Optional[Dict[str, int]] = None,
                  as_numpy: bool = False) -> Signals:
        """Reads one ``"agentcredit.signals/1"`` line (what ``agentcredit
        signals`` and :meth:`to_json` write) through the library, which
        checks that the figures hold together as a run's do
        (``ac_signals_load_json``; ParseError naming the field, as
        ``messages[3].reward: a number is needed``). ``strict`` and
        ``limits`` as for :meth:`Episode.from_json`; unknown keys are
        ignored unless ``strict``. ``to_dict()`` and ``to_json()`` of the
        result give the line back (the same keys and numbers)."""
        if not isinstance(text, (str, bytes, bytearray, memoryview)):
            raise TypeError("Signals.from_json: expected str or bytes, got "
                            "%s (Signals.from_dict takes a dict)"
                            % type(text).__name__)
        with signals_pointer(text, strict=strict, limits=limits) as ptr:
            return _loaded_signals(ptr, as_numpy)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = False,
                  as_numpy: bool = False) -> Signals:
        """:meth:`from_json` of the ``"agentcredit.signals/1"`` object as
        a dict (``json.loads`` of a signals line, or :meth:`to_dict`)."""
        if not isinstance(data, Mapping):
            raise TypeError("Signals.from_dict: expected a dict, got %s"
                            % type(data).__name__)
        with signals_pointer(data, strict=strict) as ptr:
            return _loaded_signals(ptr, as_numpy)

    def message_flag_names(self) -> List[List[str]]:
        """``message_flags`` as lists of names (``'redundant'``,
        ``'label_fixed'``, ``'non_player'``)."""
        return [_flag_list(f, _MSG_FLAG_NAMES) for f in self.message_flags]

    def step_flag_names(self) -> List[List[str]]:
        """``step_flags`` as lists of names (``'first_error'``,
        ``'propagates'``, ``'corrective'``, ``'recovered'``)."""
        return [_flag_list(f, _STEP_FLAG_NAMES) for f in self.step_flags]

    def agent_flag_names(self) -> List[List[str]]:
        """``agent_flags`` as lists of names (``'relaxed_sign'``,
        ``'relaxed_bound'``)."""
        return [_flag_list(f, _AGENT_FLAG_NAMES) for f in self.agent_flags]

    def to_dict(self) -> Dict[str, Any]:
        """The ``"agentcredit.signals/1"`` object (docs/format.md) as a
        dict of JSON types only, the keys and values
        ``json.loads(pipe.to_json(episode))`` gives: per agent its
        ``name``, ``credit``, ``se``, ``flags``; per message ``from``,
        ``reward``, ``label``, ``flags``, ``step_flags``; ``first_error``
        and ``pair`` naming the agent; None for NaN or an infinity (a
        non-player's label, an unbounded standard error)."""
        names = self._names
        if names is None:
            raise ValueError("to_dict: these Signals were not made by a "
                             "Pipeline run, and the JSON form names the "
                             "episode's agents")

        def agent_name(a):
            return None if a is None else names.agents[a]
        out = {"format": _SIGNALS_FORMAT}
        if names.id is not None:
            out["id"] = names.id
        out.update(
            outcome=_json_number(names.outcome),
            threshold=_json_number(names.threshold),
            reference=_json_number(self.reference),
            total=_json_number(self.total),
            agents=[{"name": name, "credit": _json_number(c),
                     "se": _json_number(e), "flags": f}
                    for name, c, e, f in zip(names.agents, self.credits,
                                             self.se,
                                             self.agent_flag_names())])
        if self.interactions is not None:
            index, se = self.interactions
            n = len(names.agents)
            out["interactions"] = [
                {"agents": [names.agents[i], names.agents[j]],
                 "index": _json_number(index[i][j]),
                 "se": _json_number(se[i][j])}
                for i in range(n) for j in range(i + 1, n)]
        out.update(
            messages=[{"from": who, "reward": _json_number(r),
                       "label": _json_number(lab), "flags": f,
                       "step_flags": sf}
                      for who, r, lab, f, sf in zip(
                          names.authors, self.rewards, self.labels,
                          self.message_flag_names(),
                          self.step_flag_names())],
            first_error=None if self.first_error is None else {
                "message": self.first_error.step,
                "agent": agent_name(self.first_error.agent),
                "probability": _json_number(self.first_error.probability)},
            pair=self._pair_dict(agent_name),
            audit=dict(self.audit))
        return out

    def _pair_dict(self, agent_name):
        pair = self.pair
        if not pair:
            return {"kind": pair.kind, "reason": pair.reason}
        return {"kind": pair.kind, "agent": agent_name(pair.agent),
                "step": pair.step, "prompt_end": pair.prompt_end,
                "chosen": _chosen_json(pair.chosen),
                "candidates": pair.candidates, "verified": pair.verified,
                "confidence": _json_number(pair.confidence),
                "localization": _json_number(pair.localization),
                "weight": _json_number(pair.weight)}

    def to_json(self) -> str:
        """:meth:`to_dict` as one line of JSON (no newline): the
        ``"agentcredit.signals/1"`` line ``Pipeline.to_json(episode)`` and
        ``agentcredit signals`` write, the same keys and values."""
        return json.dumps(self.to_dict(), allow_nan=False,
                          ensure_ascii=False, separators=(",", ":"))


# The parameters: the pipeline's own, and the three objects' under
# '<object>_<name>', with the bare name as an alias where it is unambiguous.
_OWN_PARAMS = {
    "verifier_source": Param(
        "verifier_source", PipelineParam.VERIFIER, "enum",
        "AC_PIPELINE_PARAM_VERIFIER: where a failed episode's verdicts come "
        "from: the verifier callback ('callback', default), the episode's "
        "first_error_label ('annotation') or none ('none')",
        VerifierSource),
    "episode_id": Param(
        "episode_id", PipelineParam.EPISODE_ID, "int",
        "AC_PIPELINE_PARAM_EPISODE_ID: the host's id of the next episode, "
        "carried into its preference pair; default 0"),
}
#: The bounds the header gives the pipeline's own parameters (the library
#: has no ac_pipeline_param_bounds).
_OWN_BOUNDS = {
    PipelineParam.VERIFIER: (min(VerifierSource), max(VerifierSource)),
    PipelineParam.EPISODE_ID: (0, B.INT64_MAX),
}
_OBJECTS = (("estimator", Estimator), ("refiner", Refiner),
            ("localizer", Localizer))
#: Bare names that stay prefixed although one object only has them, and
#: why.
_RESERVED = {"threshold": "the episode's success threshold is "
                          "Episode.threshold"}


def _pipeline_params():
    table, owners, bare = dict(_OWN_PARAMS), {}, {}
    for prefix, cls in _OBJECTS:
        for name, spec in cls._PARAMS.items():
            full = "%s_%s" % (prefix, name)
            table[full] = Param(full, spec.id, spec.kind, spec.doc,
                                spec.values)
            owners[full] = cls
            bare.setdefault(name, []).append(full)
    aliases = {n: f[0] for n, f in bare.items()
               if len(f) == 1 and n not in _RESERVED and n not in table}
    ambiguous = {n: f for n, f in bare.items()
                 if n not in aliases and n not in table}
    return table, owners, aliases, ambiguous


_TABLE, _OWNERS, _ALIASES, _AMBIGUOUS = _pipeline_params()
_PARAM_SETS = (PipelineParam, EstimatorParam, RefinerParam, LocalizerParam)


def _ambiguous(name):
    why = _RESERVED.get(name)
    return "%r is ambiguous in a Pipeline: say %s%s" % (
        name, " or ".join(_AMBIGUOUS[name]), " (%s)" % why if why else "")


class Pipeline(Audited):
    """An episode in, every signal out (``ac_pipeline``).

    ``Pipeline(oracle=None, verifier=None, scorer=None, repair=None,
    allocator=None, verifier_source='callback', episode_id=0,
    **object_params)``

    :meth:`run` computes credit (the estimator over the episode's agents,
    with the oracle), on a failure the first error, blame and the
    repair-aware pair (the localizer over the whole transcript, with the
    verifier), and the message rewards (the refiner over the agents'
    messages); docs/signals.md, "The pipeline". It returns :class:`Signals`.

    Callbacks, the same shapes as the three objects take, over the whole
    episode:

    * ``oracle(coalitions) -> values``: coalitions (ints) over the agent
      indices, as :meth:`Estimator.set_oracle` (or a :class:`Game` of as
      many players as the episode has agents);
    * ``verifier(prefixes) -> p_on_track``: prefix t is messages 0..t of
      the transcript, non-players' messages included;
    * ``scorer(messages) -> labels``: transcript positions of agents'
      messages (never a non-player's);
    * ``repair=(repair, check)``: as :meth:`Localizer.set_repair`.

    Parameters: the pipeline's own (``verifier_source``: ``'callback'``,
    ``'annotation'``, ``'none'``; ``episode_id``) and every parameter of
    the three objects, as ``estimator_<name>``, ``refiner_<name>``,
    ``localizer_<name>`` (``estimator_budget``, ``refiner_bound``,
    ``localizer_strategy``). The bare name (``method``, ``bound``,
    ``strategy``) is an alias where one object only has it; ``budget``,
    ``batch`` and ``max_retries`` (two or three objects) and ``threshold``
    (the localizer's, not the episode's success threshold) need the
    prefix. Keyword arguments, properties and :meth:`set_param` take the
    same names; values are checked as each object checks them when set,
    kept and given to the objects of every run.

    One pipeline runs any number of episodes, one at a time; its
    parameters and callbacks stay set. One thread at a time (calls are
    serialised by a lock); :meth:`cancel` from any; nothing may change it
    from inside its own callbacks (Busy)."""

    _kind = "pipeline"
    _PARAM_SET = PipelineParam
    _PARAMS = _TABLE
    _ALIASES = _ALIASES
    _AMBIGUOUS = _AMBIGUOUS
    _OWNERS = _OWNERS
    _AUDIT = _AUDIT_KEYS

    def __init__(self, *, oracle: Optional[Callback] = None,
                 verifier: Optional[Callback] = None,
                 scorer: Optional[Callback] = None,
                 repair: Optional[Tuple[Callback, Callback]] = None,
                 allocator: Optional[_allocator.Allocator] = None,
                 **params: ParamValue) -> None:
        super().__init__()
        out = c_void_p()
        rc = lib.ac_pipeline_create(byref(out),
                                    _allocator.pointer(allocator))
        if rc:
            raise make_error(rc, "", "ac_pipeline_create")
        self._adopt(out.value, keep=allocator)
        self._counts = None             # (agents, messages) of the result
        self._names = None              # _EpisodeNames of the result
        try:
            self._set_params(params)
            if oracle is not None:
                self.set_oracle(oracle)
            if verifier is not None:
                self.set_verifier(verifier)
            if scorer is not None:
                self.set_scorer(scorer)
            if repair is not None:
                try:
                    fix, check = repair
                except (TypeError, ValueError):
                    raise TypeError("repair must be a pair (repair, check) "
                                    "of callables, as Localizer.set_repair "
                                    "takes them") from None
                self.set_repair(fix, check)
        except BaseException:
            self.close()
            raise

    # -- parameters --------------------------------------------------------
    @classmethod
    def _spec(cls, name, value=None, what="set_param"):
        if isinstance(name, str):
            if name in cls._AMBIGUOUS:
                raise make_error(Status.E_PARAM_UNSUPPORTED,
                                 _ambiguous(name), what)
            return super()._spec(cls._ALIASES.get(name, name), value, what)
        if isinstance(name, enum.Enum) and not isinstance(name, _PARAM_SETS):
            raise TypeError("%s takes a parameter of the pipeline or of one "
                            "of its objects (%s), not %s.%s"
                            % (what, ", ".join(s.__name__
                                               for s in _PARAM_SETS),
                               type(name).__name__, name.name))
        pid = B.index(name, "parameter id")
        for spec in cls._PARAMS.values():
            if spec.id == pid:
                return spec
        kind = "f64" if isinstance(value, float) else "int"
        return Param(str(pid), pid, kind, "")

    def _set_params(self, params):
        given = {}
        for name, value in params.items():
            if name in self._AMBIGUOUS:
                raise TypeError("Pipeline() got an ambiguous keyword "
                                "argument: %s" % _ambiguous(name))
            full = self._ALIASES.get(name, name)
            if full not in self._PARAMS:
                raise TypeError("Pipeline() got an unexpected keyword "
                                "argument %r (parameters: %s; the bare "
                                "names of %s)"
                                % (name, ", ".join(self._PARAMS),
                                   ", ".join(self._ALIASES)))
            if full in given:
                raise TypeError("Pipeline() got parameter %s twice (as %r "
                                "and %r)" % (full, given[full], name))
            given[full] = name
            if value is not None:
                self.set_param(full, value)

    @classmethod
    def param_bounds(cls, name: ParamName) -> Tuple[float, float]:
        """``(lower, upper)`` of a parameter: an object's, as that class
        gives them (``Estimator.param_bounds``); the pipeline's own from
        the header."""
        spec = cls._spec(name, what="param_bounds")
        owner = cls._OWNERS.get(spec.name)
        if owner is not None:
            return owner.param_bounds(spec.id)
        try:
            return _OWN_BOUNDS[spec.id]
        except KeyError:
            raise make_error(Status.E_PARAM_UNSUPPORTED, "no parameter %s"
                             % spec.name, "param_bounds") from None

    def _not_from_a_callback(self, what):
        # The library does not guard the pipeline against re-entry: a
        # change (or a run) from inside one of its callbacks is refused
        # here. Other threads wait on the lock.
        if self._depth:
            raise make_error(Status.E_BUSY, "%s of a pipeline from inside "
                             "its own callback" % what, what)

    def set_param(self, name: ParamName, value: ParamValue) -> None:
        """Sets one parameter by name (see the class), by its member of
        :class:`PipelineParam`, :class:`EstimatorParam`,
        :class:`RefinerParam` or :class:`LocalizerParam`, or by its C id.
        Checked as the object checks it; kept for every run."""
        with self._lock:
            self._not_from_a_callback("set_param")
            super().set_param(name, value)

    # -- callbacks -----------------------------------------------------------
    def _register(self, fname, keys, args, keep):
        with self._lock:
            self._not_from_a_callback(fname)
            with self._use(fname) as ptr:
                self._check(getattr(lib, fname)(ptr, *args), ptr, fname)
                for k in keys:
                    self._keep.pop(k, None)
                self._keep.update(keep)

    def set_oracle(self, oracle: Optional[Callback]) -> None:
        """Registers the oracle: a callable ``oracle(coalitions) -> values``
        (coalitions as ints over the agent indices), a :class:`Game` (the
        library's own oracle; it must have as many players as the episode
        has agents), or None. See :meth:`Estimator.set_oracle`."""
        fn, user, keep = oracle_callback(self._cb, oracle)
        self._register("ac_pipeline_set_oracle", ORACLE_KEYS, (fn, user),
                       keep)

    def set_verifier(self, verifier: Optional[Callback]) -> None:
        """Registers ``verifier(prefixes) -> p_on_track`` over the whole
        transcript (with ``verifier_source='callback'``, the default), or
        None. See :meth:`Localizer.set_verifier`."""
        fn, keep = verifier_callback(self._cb, verifier)
        self._register("ac_pipeline_set_verifier", VERIFIER_KEYS,
                       (fn, None), keep)

    def set_scorer(self, scorer: Optional[Callback]) -> None:
        """Registers ``scorer(messages) -> labels`` (transcript positions of
        agents' messages the episode gives no label), or None. See
        :meth:`Refiner.set_scorer`."""
        fn, keep = scorer_callback(self._cb, scorer)
        self._register("ac_pipeline_set_scorer", SCORER_KEYS, (fn, None),
                       keep)

    def set_repair(self, repair: Optional[Callback],
                   check: Optional[Callback]) -> None:
        """Registers ``repair(step, max_count) -> ids`` and ``check(step,
        ids) -> p_on_track`` for the preference pair of a localized
        failure; ``set_repair(None, None)`` unregisters. See
        :meth:`Localizer.set_repair`."""
        rfn, cfn, keep = repair_callbacks(self._cb, repair, check)
        self._register("ac_pipeline_set_repair", REPAIR_KEYS,
                       (rfn, cfn, None), keep)

    # -- running -------------------------------------------------------------
    def run(self, episode: Episode, as_numpy: bool = False) -> Signals:
        """Computes every signal of ``episode`` (an :class:`Episode`, read
        only) and returns them as :class:`Signals` (float sequences as
        lists, or numpy arrays with ``as_numpy=True``). Raises what the
        failing stage raised, the library's message naming the stage
        (``'credit: ...'``, ``'first error: ...'``, ``'rewards: ...'``);
        StateError for an episode the pipeline cannot take (no outcome, no
        agent, a silent agent, values needed and no oracle). A callback
        that raises aborts the run, which re-raises the exception (chained
        to a CallbackError); a verifier that raises during the localizer's
        corrective scan ends the scan only (:attr:`scan_exception`). Ctrl-C
        (on the main thread) cancels the run and raises KeyboardInterrupt
        (docs/python.md, "Ctrl-C")."""
        if not isinstance(episode, Episode):
            raise TypeError("run takes an agentcredit.Episode, got %s"
                            % type(episode).__name__)
        with self._lock:
            self._not_from_a_callback("run")
            names = _episode_names(episode)
            with self._use("ac_pipeline_run") as ptr, \
                    episode._reading("run") as eptr:
                agents, messages = c_uint32(), c_uint32()
                lib.ac_episode_counts(eptr, None, byref(agents),
                                      byref(messages))
                game = self._keep.get("game")
                if game is not None and agents.value and \
                        game.n != agents.value:
                    raise make_error(Status.E_INVALID_ARG, "the oracle game "
                                     "has %d players, the episode %d agents"
                                     % (game.n, agents.value), "run")
                self._counts = None
                self._callback_exception = None
                holding_game = (game._use("run (the oracle game)")
                                if game is not None
                                else contextlib.nullcontext())
                try:
                    with holding_game:
                        rc = self._long_call("ac_pipeline_run", ptr, eptr)
                finally:
                    # A run that succeeded keeps its result readable, also
                    # when an interrupt is raised after it (the pipeline
                    # has a result only after a successful run).
                    if lib.ac_pipeline_total(ptr, None, None) == Status.OK:
                        self._counts = (agents.value, messages.value)
                        self._names = names
                self._check(rc, ptr, "ac_pipeline_run")
                return self.signals(as_numpy)

    @property
    def scan_exception(self) -> Optional[BaseException]:
        """The exception the verifier raised during the localizer's
        corrective scan of the last run, which ended the scan but not the
        run (``Localizer.scan_exception``); None otherwise."""
        return self._callback_exception

    def cancel(self) -> None:
        """Stops the run: it raises Cancelled once the batch of work under
        way is answered. Safe from any thread and from the callbacks; a
        no-op on a closed pipeline or between runs."""
        with self._ptr_lock:
            if self._ptr is not None:
                lib.ac_pipeline_cancel(self._ptr)

    # -- the result ------------------------------------------------------
    def _result_counts(self, what):
        if self._counts is None:
            raise make_error(Status.E_STATE, "%s: no result (no run yet, or "
                             "the last one failed)" % what, what)
        return self._counts

    def signals(self, as_numpy: bool = False) -> Signals:
        """The :class:`Signals` of the last successful run (StateError when
        there is none: no run yet, or the last one failed)."""
        with self._use("signals") as ptr:
            na, nm = self._result_counts("signals")

            def get(name, *args):
                fname = "ac_pipeline_" + name
                self._check(getattr(lib, fname)(ptr, *args), ptr, fname)
            return _read_signals(get, lambda *a: lib.ac_pipeline_interactions(
                ptr, *a), na, nm, self.audit(), self._names,
                                 as_numpy)

    def to_json(self, episode: Episode) -> str:
        """The last run's signals of ``episode`` (the one it ran) as one
        line of ``"agentcredit.signals/1"`` JSON (docs/format.md): what the
        command line's ``signals`` writes. StateError before a run."""
        with self._use("ac_pipeline_write_json") as ptr, \
                episode._use("ac_pipeline_write_json") as ep:
            return _written(lambda buf, cap, n: lib.ac_pipeline_write_json(
                ptr, ep, buf, cap, n), self, ptr, "ac_pipeline_write_json")

    def audit(self) -> Dict[str, Any]:
        """The last successful run's audit as a dict: ``success``,
        ``localized``, ``reference_given`` (bools), ``labels`` (where the
        refiner's labels came from: ``'neutral'``, ``'given'``,
        ``'scorer'``, ``'blame'``), ``method`` (the estimator's, by name),
        ``oracle_evaluations``, ``verifier_evaluations``,
        ``scorer_evaluations``, ``relaxed_agents``. StateError without a
        result."""
        with self._use("audit"):
            self._result_counts("audit")
            return super().audit()


def _install_aliases(cls: Type[Pipeline]) -> Type[Pipeline]:
    """A property per alias (``pipe.method``), and one per ambiguous bare
    name that says which prefixed names to use instead of quietly making
    an attribute."""
    for alias, full in cls._ALIASES.items():
        setattr(cls, alias, param_property(full, "Alias of %s." % full))
    for name in cls._AMBIGUOUS:
        def refuse(self: Pipeline, *value: ParamValue, _n: str = name
                   ) -> NoReturn:
            raise AttributeError(_ambiguous(_n))
        setattr(cls, name, property(refuse, refuse, doc=_ambiguous(name)))
    return cls


_install_aliases(install_params(Pipeline))
