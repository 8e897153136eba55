"""Trainer exports (``ac_export``): one episode and its signals in, the
records a trainer loads out, by the library's one implementation of each
format, the one ``agentcredit export`` runs. docs/trainers.md says what
each trainer does with them; docs/python.md ("Exports and trainer hooks")
the Python use.

* :class:`Exporter`: one format and its options; ``convert(episode,
  signals)`` gives an :class:`ExportResult` (the records as dicts, and
  what was skipped and why);
* :func:`export`: many episodes and signals, joined by id as the command
  line joins them.

Episodes are :class:`agentcredit.Episode` objects, the
``"agentcredit.episode/1"`` object as a dict, or its JSON text; signals
:class:`agentcredit.Signals` (of a pipeline run, or read back), the
``"agentcredit.signals/1"`` object as a dict, or its JSON text (a line of
``agentcredit signals``)."""

from __future__ import annotations

import contextlib
import json
import os
from ctypes import (byref, c_char_p, c_int32, c_int64, c_size_t, c_uint32,
                    c_void_p)
from typing import (Any, Iterable, Iterator, List, Mapping, NamedTuple,
                    Optional, Union)

from . import _buffers as B
from . import allocator as _allocator
from ._constants import ExportFormat, ExportParam, Status, TokenPlacement
from ._errors import AgentCreditError, make_error
from ._handle import Handle, _check_enum, value_names
from ._lib import decode, lib
from ._types import Record
from .episode import Episode, SignalsLike, _c_string, signals_pointer

__all__ = ["Exporter", "ExportResult", "Skip", "export", "FORMATS",
           "SKIP_REASONS", "EpisodeLike", "SignalsLike"]


def _names(name_of):
    out, k = [], 1
    while name_of(k) is not None:
        out.append(decode(name_of(k)))
        k += 1
    return tuple(out)


#: The formats' names, by the library (``ac_export_format_name``):
#: ``'trl-dpo'``, ``'trl-dpo-standard'``, ... in the order of their numbers.
FORMATS = _names(lib.ac_export_format_name)
#: The skip reasons' names (``ac_export_skip_name``): ``'empty_prompt'``...
SKIP_REASONS = _names(lib.ac_export_skip_name)
_PLACEMENTS = value_names(TokenPlacement)

#: What the exports take as an episode: an :class:`Episode`, the
#: ``"agentcredit.episode/1"`` object as a dict, or its JSON text.
EpisodeLike = Union[Episode, Mapping[str, Any], str, bytes]
#: Candidates of repair pairs: ``{"<episode id>": {"<candidate id>": text
#: or {"role": "assistant", "content": ..., "tool_calls": [...]}}}`` as a
#: dict, its JSON text, or a path (``os.PathLike``) of a file holding it.
Candidates = Union[Mapping[str, Any], str, bytes, "os.PathLike[str]"]


class Skip(NamedTuple):
    """A record that was not written: the ``reason`` (a name of
    :data:`SKIP_REASONS`), the ``message`` it concerns (None: the
    episode), the ``agent`` (a name, or None) and the ``episode``'s id
    (None when it has none): the fields of the command line's
    ``--report`` lines."""
    reason: str
    message: Optional[int]
    agent: Optional[str]
    episode: Optional[str]


class ExportResult(NamedTuple):
    """What a conversion gives: ``records`` (dicts, the JSON objects the
    library wrote, in its order) and ``skips`` (:class:`Skip`)."""
    records: List[Record]
    skips: List[Skip]


def _format_id(format):
    """The number of a format given by name, ExportFormat member or int."""
    if isinstance(format, str):
        fid = lib.ac_export_format_from_name(format.encode("utf-8"))
    else:
        _check_enum(format, ExportFormat, "format")
        fid = B.index(format, "format")
        if not -2 ** 31 <= fid < 2 ** 31 or \
                lib.ac_export_format_name(fid) is None:
            fid = 0
    if fid == 0:
        raise make_error(Status.E_INVALID_ARG, "unknown export format %r "
                         "(known: %s)" % (format, ", ".join(FORMATS)),
                         "Exporter")
    return fid


def _placement(placement):
    if isinstance(placement, str):
        try:
            return int(_PLACEMENTS[placement])
        except KeyError:
            raise make_error(Status.E_PARAM_OUT_OF_BOUND, "placement: %r is "
                             "not one of %s" % (placement,
                                                ", ".join(_PLACEMENTS)),
                             "Exporter") from None
    _check_enum(placement, TokenPlacement, "placement")
    return B.index(placement, "placement")


def _json_text(value, what):
    """A str/bytes kept as JSON text, anything else dumped."""
    if value is None or isinstance(value, (str, bytes)):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise make_error(Status.E_INVALID_ARG, "%s: not JSON: %s" % (what, e),
                         what) from None


@contextlib.contextmanager
def _episode_of(episode: EpisodeLike) -> Iterator[Episode]:
    """The Episode of an Episode, a dict or JSON text (one made here is
    closed when the block ends)."""
    if isinstance(episode, Episode):
        yield episode
        return
    if isinstance(episode, Mapping):
        text = _json_text(episode, "episode")
    elif isinstance(episode, (str, bytes, bytearray, memoryview)):
        text = episode
    else:
        raise TypeError("episode: expected agentcredit.Episode, a dict or a "
                        "JSON line (str or bytes), got %s"
                        % type(episode).__name__)
    with Episode.from_json(text) as made:
        yield made


class Exporter(Handle):
    """One trainer format and its options (``ac_export``).

    ``Exporter(format, *, agents=None, placement="last",
    turn_discount=1.0, speaker_prefix=True, empty_prompt=None,
    group_sep=":", tools=None, data_source="agentcredit",
    max_tokens=None, candidates=None, allocator=None)``

    * ``format``: a name of :data:`FORMATS` (``'trl-dpo'``, ``'verl'``,
      ...), an :class:`ExportFormat` member or its number;
    * ``agents``: the trained agents' names (records are written for them
      only, from their point of view); None: every agent;
    * ``placement``: ``'last'`` (a message's reward on its last token) or
      ``'spread'`` (an equal share on each): verl-tokens, skyrl;
    * ``turn_discount``: AReaL's ``agent.turn_discount``, which the areal
      records undo;
    * ``speaker_prefix``: another agent's or a tool's text as ``"NAME:
      text"``;
    * ``empty_prompt``: None skips a conversational record with nothing
      before its message (``'empty_prompt'``: TRL cannot load an empty
      conversational prompt); a str is the system message that stands for
      it (what the agent was really given);
    * ``group_sep``: an episode's group is its id up to the last
      occurrence (``""``: the id);
    * ``tools``: a JSON array of tool schemas (a list, or its text),
      written as the ``tools`` of every record whose chat turns a template
      renders with tools (trl-dpo, trl-reward, trl-kto, verl);
    * ``data_source``: verl's ``data_source``;
    * ``max_tokens``: the most tokens of a per-token record (None: the
      library's default, 2^20);
    * ``candidates``: the chosen side of repair pairs (``{"<episode id>":
      {"<candidate id>": text or assistant message}}``, a dict, its JSON
      text or a path); :meth:`load_candidates` replaces them.

    Values are checked by the library (ParamOutOfBound, InvalidArgument
    with its message). One exporter converts any number of episodes, one
    at a time (calls are serialised by a lock); exporters are
    independent."""

    _kind = "export"

    def __init__(self, format: Union[str, int, ExportFormat], *,
                 agents: Optional[Iterable[str]] = None,
                 placement: Union[str, int, TokenPlacement] = "last",
                 turn_discount: float = 1.0, speaker_prefix: bool = True,
                 empty_prompt: Optional[str] = None,
                 group_sep: Optional[str] = ":",
                 tools: Union[None, str, bytes, List[Any]] = None,
                 data_source: Optional[str] = "agentcredit",
                 max_tokens: Optional[int] = None,
                 candidates: Optional[Candidates] = None,
                 allocator: Optional[_allocator.Allocator] = None) -> None:
        super().__init__()
        fid = _format_id(format)
        out = c_void_p()
        rc = lib.ac_export_create(byref(out), fid,
                                  _allocator.pointer(allocator))
        if rc:
            raise make_error(rc, "", "ac_export_create")
        self._adopt(out.value, keep=allocator)
        try:
            if isinstance(turn_discount, (str, bytes)):
                raise TypeError("turn_discount must be a number")
            self._set("ac_export_set_int", ExportParam.PLACEMENT,
                      _placement(placement))
            self._set("ac_export_set_f64", ExportParam.TURN_DISCOUNT,
                      float(turn_discount))
            self._set("ac_export_set_int", ExportParam.SPEAKER_PREFIX,
                      B.index(speaker_prefix, "speaker_prefix"))
            if max_tokens is not None:
                self._set("ac_export_set_int", ExportParam.MAX_TOKENS,
                          B.index(max_tokens, "max_tokens"))
            for param, value in ((ExportParam.EMPTY_PROMPT, empty_prompt),
                                 (ExportParam.GROUP_SEP, group_sep),
                                 (ExportParam.TOOLS,
                                  _json_text(tools, "tools")),
                                 (ExportParam.DATA_SOURCE, data_source)):
                self._set("ac_export_set_str", param,
                          _c_string(value, param.name.lower()))
            self.set_agents(agents)
            if candidates is not None:
                self.load_candidates(candidates)
        except BaseException:
            self.close()
            raise

    def _describe(self):
        return repr(self.format) if self._ptr is not None else ""

    def _set(self, fname, *args):
        with self._use(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, *args), ptr, fname)

    @property
    def format(self) -> str:
        """The format's name (``'trl-dpo'``...)."""
        with self._use("format") as ptr:
            return decode(lib.ac_export_format_name(
                lib.ac_export_format_of(ptr)))

    def set_agents(self, agents: Optional[Iterable[str]]) -> None:
        """The trained agents, by name (a str: one agent); None or empty:
        every agent. A name an episode does not have is ignored in it."""
        if isinstance(agents, (str, bytes)):
            agents = [agents]
        names = [_c_string(a, "agents[%d]" % k)
                 for k, a in enumerate(agents or ())]
        array = (c_char_p * max(1, len(names)))(*names)
        self._set("ac_export_set_agents", array if names else None,
                  len(names))

    def load_candidates(self, candidates: Candidates) -> None:
        """The chosen side of repair pairs (replacing what was loaded): a
        dict ``{"<episode id>": {"<candidate id>": CANDIDATE}}`` (ids as
        str or int), its JSON text, or a path (``os.PathLike``) of a file
        holding it; a CANDIDATE is the text, or an assistant message
        ``{"role": "assistant", "content": str or None, "tool_calls":
        [...]}``. ParseError names the place (``"tau:0"."7".tool_calls:
        an array is needed``); nothing changes on failure."""
        if isinstance(candidates, os.PathLike):
            with open(candidates, "rb") as f:
                text = f.read()
        else:
            text = _json_text(candidates, "candidates")
        if isinstance(text, str):
            text = text.encode("utf-8")
        self._set("ac_export_load_candidates", text, len(text), None)

    # -- converting ----------------------------------------------------------
    def convert(self, episode: EpisodeLike, signals: SignalsLike
                ) -> ExportResult:
        """The records of one episode and its signals (the signals must
        be the episode's: InvalidArgument saying what differs), and the
        skips. Raises what the library refuses (InvalidArgument: a
        zero-length token span with a reward, a name rLLM would split;
        TooLarge: a record past ``max_tokens``), with its message."""
        with _episode_of(episode) as ep, signals_pointer(signals) as sptr:
            return self._convert(ep, sptr)

    def _convert(self, ep, sptr):
        fname = "ac_export_episode"
        with self._use(fname) as ptr, ep._reading("convert") as eptr:
            self._check(lib.ac_export_episode(ptr, eptr, sptr), ptr, fname)
            return ExportResult(self._records(ptr),
                                self._skips(ptr, _from_c(
                                    lib.ac_episode_id(eptr))))

    def _records(self, ptr):
        text, length, count = c_char_p(), c_size_t(), c_uint32()
        self._check(lib.ac_export_text(ptr, byref(text), byref(length),
                                       byref(count)), ptr, "ac_export_text")
        lines = decode(text.value or b"")[:length.value].split("\n")
        records = [json.loads(line) for line in lines if line]
        if len(records) != count.value:
            raise make_error(Status.E_STATE, "ac_export_text: %d records "
                             "announced, %d read" % (count.value,
                                                     len(records)),
                             "ac_export_text")
        return records

    def _skips(self, ptr, episode_id):
        count = c_uint32()
        self._check(lib.ac_export_skip_count(ptr, byref(count)), ptr,
                    "ac_export_skip_count")
        out = []
        for k in range(count.value):
            reason, message, agent = c_int32(), c_int64(), c_char_p()
            self._check(lib.ac_export_skip(ptr, k, byref(reason),
                                           byref(message), byref(agent)),
                        ptr, "ac_export_skip")
            name = lib.ac_export_skip_name(reason.value)
            out.append(Skip(decode(name) if name is not None
                            else str(reason.value),
                            None if message.value < 0 else message.value,
                            _from_c(agent.value), episode_id))
        return out


def _from_c(value):
    return None if value is None else decode(value)


def _signals_id(sptr):
    return _from_c(lib.ac_signals_id(sptr))


def _join_table(stack, episodes):
    """{id: Episode} of the episodes; each must have an id, and ids are
    unique (InvalidArgument naming the positions)."""
    table, where = {}, {}
    for k, item in enumerate(episodes):
        ep = stack.enter_context(_episode_of(item))
        eid = ep.id
        if eid is None:
            raise make_error(Status.E_INVALID_ARG, "episodes[%d]: the "
                             "episode has no \"id\", which the join needs"
                             % k, "export")
        if eid in table:
            raise make_error(Status.E_INVALID_ARG, "episodes[%d] and "
                             "episodes[%d]: two episodes with id %r"
                             % (where[eid], k, eid), "export")
        table[eid], where[eid] = ep, k
    return table


def export(format: Union[str, int, ExportFormat],
           episodes: Iterable[EpisodeLike], signals: Iterable[SignalsLike],
           **options: Any) -> ExportResult:
    """``agentcredit export --to FORMAT --episodes EPISODES SIGNALS`` in
    Python: each signals item joined to its episode by id and converted,
    in the signals' order; ``options`` are :class:`Exporter`'s. Returns
    every record and every skip (each naming its episode). Raises
    InvalidArgument for an episode without an id, two episodes with one
    id, or signals whose id no episode has; a conversion that fails raises
    its error, the message prefixed with the signals' position and id.
    Episodes made here from dicts or text are freed before it returns."""
    records, skips = [], []
    with Exporter(format, **options) as x, contextlib.ExitStack() as stack:
        table = _join_table(stack, episodes)
        for k, item in enumerate(signals):
            with signals_pointer(item) as sptr:
                sid = _signals_id(sptr)
                ep = table.get(sid)
                if ep is None:
                    raise make_error(Status.E_INVALID_ARG, "signals[%d]: no "
                                     "episode with id %r among the episodes"
                                     % (k, sid), "export")
                try:
                    got = x._convert(ep, sptr)
                except AgentCreditError as e:
                    raise make_error(e.status, "signals[%d] (id %r): %s"
                                     % (k, sid, e.detail),
                                     e.function) from None
            records += got.records
            skips += got.skips
    return ExportResult(records, skips)
