"""Trainer records of one episode, and JSON Lines.

The conversions go through the library's exporter (:mod:`agentcredit.exports`,
the one implementation ``agentcredit export`` also runs): each function
here is :class:`agentcredit.exports.Exporter` of one TRL format applied to
one episode and its signals, returning the records alone (the exporter
also says what it skipped, and why). ``options`` are the Exporter's
(``agents``, ``empty_prompt``, ``candidates``, ``tools``, ...).
docs/trainers.md gives each format and what the trainer does with it;
the verl, OpenRLHF, AReaL, prime-rl, rLLM and SkyRL formats are
``Exporter("verl")`` and so on, with the hooks in :mod:`agentcredit.verl`,
:mod:`agentcredit.openrlhf` and :mod:`agentcredit.areal`.

Changed in issue 15: these functions took messages, rewards and pairs
and built the records in Python, which TRL, verl and AReaL could not load
or read differently (empty conversational prompts, tool messages without
``name``/``tool_call_id``, PRM solutions cut to one agent, AReaL's
backward discount). They now take ``(episode, signals)``;
``message_records``, ``token_level_rewards``, ``areal_rewards`` and
``column_reward_func`` are gone (see the message their name raises).

:func:`write_jsonl` writes any records (sets and frozensets, such as the
refiner's flags by name, as sorted lists) and :func:`read_jsonl` reads
them back."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from typing import Any, Iterable, List, NoReturn, Optional, TextIO, Union

from ._types import Record
from .episode import SignalsLike
from .exports import EpisodeLike, Exporter

__all__ = [
    "dpo_record", "reward_record", "kto_records", "prm_record",
    "write_jsonl", "read_jsonl",
]


def _records(format: str, episode: EpisodeLike, signals: SignalsLike,
             options: Any) -> List[Record]:
    with Exporter(format, **options) as x:
        return x.convert(episode, signals).records


def _at_most_one(format, records):
    if len(records) > 1:   # one pair, one solution per episode
        raise RuntimeError("%s gave %d records for one episode"
                             % (format, len(records)))
    return records[0] if records else None


def dpo_record(episode: EpisodeLike, signals: SignalsLike, *,
               conversational: bool = True, **options: Any
               ) -> Optional[Record]:
    """The TRL DPO record of an episode whose signals hold a preference
    pair (``trl-dpo``; ``conversational=False``: ``trl-dpo-standard``,
    plain strings), or None when there is none: no pair, a repair pair
    whose candidate's text was not given (``candidates=``), an empty
    conversational prompt (unless ``empty_prompt=``), a trained agent
    not the pair's. ``{"prompt", "chosen", "rejected"}`` from the erring
    agent's point of view (docs/trainers.md, "TRL")."""
    fmt = "trl-dpo" if conversational else "trl-dpo-standard"
    return _at_most_one(fmt, _records(fmt, episode, signals, options))


def reward_record(episode: EpisodeLike, signals: SignalsLike,
                  **options: Any) -> Optional[Record]:
    """The TRL RewardTrainer record of the episode's pair (``trl-reward``:
    ``{"chosen": prompt + [chosen], "rejected": prompt + [rejected],
    "margin": weight}``), or None as for :func:`dpo_record`."""
    return _at_most_one("trl-reward",
                        _records("trl-reward", episode, signals, options))


def kto_records(episode: EpisodeLike, signals: SignalsLike,
                **options: Any) -> List[Record]:
    """TRL KTO records (``trl-kto``): one per message of a trained agent
    with a non-zero reward, ``{"prompt", "completion", "label": reward >
    0}``; a message with nothing before it is left out unless
    ``empty_prompt=`` says what the agent was given."""
    return _records("trl-kto", episode, signals, options)


def prm_record(episode: EpisodeLike, signals: SignalsLike,
               **options: Any) -> Optional[Record]:
    """The TRL PRM record of the episode (``trl-prm``): the whole solution
    (every message after the first agent's, tools and other agents
    included), labels 1/0 for a trained agent's message by the sign of
    its reward and -100 (ignored by the loss) for the others and for zero
    rewards; None when no label is left."""
    return _at_most_one("trl-prm",
                        _records("trl-prm", episode, signals, options))


#: What each removed function became.
_REMOVED = {
    "message_records": "Exporter('verl') (rows verl loads, scored by "
                       "agentcredit.verl.compute_score) or "
                       "Exporter('openrlhf') (with "
                       "agentcredit.openrlhf.reward_func)",
    "token_level_rewards": "Exporter('verl-tokens') or Exporter('skyrl') "
                           "(positions relative to the response; "
                           "agentcredit.verl.token_rewards pads a record to "
                           "a response)",
    "areal_rewards": "Exporter('areal') and "
                     "agentcredit.areal.completion_rewards(completion_ids, "
                     "record), which undo AReaL's backward reward pass",
    "column_reward_func": "nothing: GRPO scores the completions it has just "
                          "generated, and a stored reward describes the "
                          "logged message only; docs/python.md (\"Exports "
                          "and trainer hooks\", GRPO) says what to do",
}


def __getattr__(name: str) -> NoReturn:
    if name in _REMOVED:
        raise AttributeError("agentcredit.formats.%s was removed (issue 15): "
                             "use %s" % (name, _REMOVED[name]))
    raise AttributeError("module 'agentcredit.formats' has no attribute %r"
                         % name)


# --------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------

def _json_default(value: Any) -> Any:
    """Sets (the refiner's and localizer's flags by name are frozensets)
    as sorted lists; anything else JSON cannot write is a TypeError."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda v: (type(v).__name__, v))
    raise TypeError("Object of type %s is not JSON serializable"
                    % type(value).__name__)


def write_jsonl(records: Iterable[Mapping[str, Any]],
                destination: Union[str, bytes, "os.PathLike[str]", TextIO]
                ) -> int:
    """Writes one JSON object per line (UTF-8) to a path or a text file;
    returns the number of records. Sets and frozensets are written as
    sorted lists; NaN and infinities are refused (they are not JSON)."""
    if isinstance(destination, (str, bytes, os.PathLike)):
        with open(destination, "w", encoding="utf-8", newline="\n") as f:
            return write_jsonl(records, f)
    n = 0
    for rec in records:
        if not isinstance(rec, Mapping):
            raise TypeError("record %d is a %s, not a dict"
                            % (n, type(rec).__name__))
        destination.write(json.dumps(rec, ensure_ascii=False,
                                     allow_nan=False, default=_json_default))
        destination.write("\n")
        n += 1
    return n


def read_jsonl(source: Union[str, bytes, "os.PathLike[str]", TextIO]
               ) -> List[Any]:
    """The records of a JSON Lines file (a path or a text file)."""
    if isinstance(source, (str, bytes, os.PathLike)):
        with open(source, encoding="utf-8") as f:
            return read_jsonl(f)
    if isinstance(source, io.TextIOBase) or hasattr(source, "read"):
        return [json.loads(line) for line in source if line.strip()]
    raise TypeError("read_jsonl: a path or a text file")
