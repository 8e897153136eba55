"""agentcredit's outputs as trainer records: plain dicts and lists of dicts.

Everything here is standard library and returns JSON-ready values, so
``datasets.Dataset.from_list(records)`` and :func:`write_jsonl` both work.
Field names follow each trainer's own data format, cited per function by
the file that defines it in the trainer's repository, as read at
huggingface/trl f2cd5771 (1.10.0.dev0), volcengine/verl b178a3cd
(0.8.0.dev), OpenRLHF/OpenRLHF 3c3be623 (0.11.0) and inclusionAI/AReaL
4aef98d8 (1.0.4).

Messages. A transcript is a list of messages; each is a str (its content)
or a dict with ``"content"`` and optionally ``"role"``, ``"agent"`` (its
author, an int) and ``"tool_calls"``. Authors come from the ``"agent"``
keys, or from an ``authors=`` list. Conversational records keep a message's
``"role"`` when it has one; otherwise a message of the agent the record is
for gets ``"assistant"`` and every other agent's message ``"user"`` (the
trained agent's point of view). Only ``role``, ``content`` and
``tool_calls`` are copied into records.

Rewards are the Refiner's per-message rewards (they add up to each agent's
credit); pairs are :class:`agentcredit.PreferencePair` objects (or their
``to_dict()``)."""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Mapping
from typing import (Any, Callable, Dict, Hashable, Iterable, List, Optional,
                    Sequence, TextIO, Union)

from ._types import Messages, Numbers, Record

__all__ = [
    "dpo_record", "reward_record", "kto_records", "prm_record",
    "message_records", "token_level_rewards", "areal_rewards",
    "column_reward_func", "write_jsonl", "read_jsonl",
]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _content(m, k):
    if isinstance(m, str):
        return m
    if isinstance(m, Mapping):
        c = m.get("content")
        if isinstance(c, str):
            return c
        raise TypeError("messages[%d]: 'content' must be a str, got %s"
                        % (k, type(c).__name__))
    raise TypeError("messages[%d]: expected a str or a dict with 'content', "
                    "got %s" % (k, type(m).__name__))


def _authors(messages, authors):
    if authors is not None:
        authors = [int(a) for a in authors]
        if len(authors) != len(messages):
            raise ValueError("authors: %d entries for %d messages"
                             % (len(authors), len(messages)))
        return authors
    out = []
    for k, m in enumerate(messages):
        a = m.get("agent") if isinstance(m, Mapping) else None
        out.append(None if a is None else int(a))
    return out


def _chat(m, k, author, me):
    """A message as a TRL conversational message dict."""
    role = m.get("role") if isinstance(m, Mapping) else None
    if role is None:
        role = "assistant" if me is not None and author == me else "user"
    out = {"role": role, "content": _content(m, k)}
    if isinstance(m, Mapping) and m.get("tool_calls") is not None:
        out["tool_calls"] = m["tool_calls"]
    return out


def _get(pair, key):
    if isinstance(pair, Mapping):
        return pair[key]
    return getattr(pair, key)


def _rewards(rewards, messages):
    rs = [float(r) for r in rewards]
    if len(rs) != len(messages):
        raise ValueError("rewards: %d values for %d messages"
                         % (len(rs), len(messages)))
    for k, r in enumerate(rs):
        if not math.isfinite(r):
            raise ValueError("rewards[%d] is not finite: %r" % (k, r))
    return rs


def _pair_parts(messages, pair, chosen):
    """(step, prompt_end, agent, rejected message, chosen content)."""
    kind = _get(pair, "kind")
    if kind == "none" or not kind:
        reason = _get(pair, "reason")
        raise ValueError("the pair is empty (kind 'none', reason %r): no "
                         "preference record can be made" % (reason,))
    step, prompt_end = int(_get(pair, "step")), int(_get(pair, "prompt_end"))
    if not 0 <= step < len(messages) or prompt_end > step:
        raise ValueError("pair step %d / prompt_end %d do not fit a "
                         "transcript of %d messages"
                         % (step, prompt_end, len(messages)))
    pick = _get(pair, "chosen")
    if chosen is None:
        if kind != "corrective":
            raise ValueError("a %r pair's chosen message is the host's "
                             "candidate %r: pass its text as chosen= (a str, "
                             "a dict, a mapping id -> text, or a callable)"
                             % (kind, pick))
        chosen = messages[int(pick)]
    elif callable(chosen):
        chosen = chosen(pick)
    elif isinstance(chosen, Mapping) and "content" not in chosen:
        chosen = chosen[pick]
    return step, prompt_end, _get(pair, "agent"), messages[step], chosen


def _pair_metadata(pair):
    keys = ("episode", "agent", "step", "prompt_end", "kind", "chosen",
            "candidates", "checked", "verified", "confidence", "localization",
            "weight")
    return {k: _get(pair, k) for k in keys}


# --------------------------------------------------------------------------
# TRL (huggingface/trl: docs/source/dataset_formats.md)
# --------------------------------------------------------------------------

def dpo_record(messages: Messages, pair: Any, chosen: Any = None, *,
               conversational: bool = True,
               authors: Optional[Sequence[int]] = None,
               tools: Optional[Sequence[Any]] = None, weight: bool = False,
               metadata: bool = False, separator: str = "\n\n") -> Record:
    """A TRL DPO preference record (explicit prompt) from a repair-aware
    pair: TRL's preference format with an explicit prompt, ``prompt``,
    ``chosen`` and ``rejected`` (trl ``docs/source/dataset_formats.md``,
    ``trl/trainer/dpo_trainer.py``)::

        {"prompt": messages[:t*], "chosen": [repaired message],
         "rejected": [original message at t*]}

    Conversational (default): ``prompt`` is the list of message dicts before
    the first error (roles from the erring agent's point of view, see the
    module docstring); ``chosen`` and ``rejected`` are one assistant message
    each. ``conversational=False``: standard format, plain strings, the
    prompt's contents joined with ``separator``.

    ``chosen``: the repaired message (a str, or a message dict), a mapping
    from candidate id to text, or a callable ``id -> text``; it may be left
    out for a ``'corrective'`` pair (its chosen message is in the
    transcript). ``tools`` adds TRL's ``tools`` column (JSON schemas).

    DPO has no weight or margin column (``dpo_trainer.py``'s collator reads
    none): ``weight=True`` adds
    ``"weight"`` (confidence x localization) for a custom weighted loss, and
    ``metadata=True`` a ``"metadata"`` dict (episode, agent, step, ...).
    Neither is a TRL DPO column: leave them off for a stock DPOTrainer, or
    drop the columns before training."""
    step, prompt_end, agent, rejected, chosen = _pair_parts(messages, pair,
                                                            chosen)
    auth = _authors(messages, authors)
    me = agent if agent is not None else auth[step]
    if conversational:
        rec = {
            "prompt": [_chat(messages[k], k, auth[k], me)
                       for k in range(prompt_end)],
            "chosen": [{"role": "assistant",
                        "content": _content(chosen, step)}],
            "rejected": [{"role": "assistant",
                          "content": _content(rejected, step)}],
        }
    else:
        rec = {
            "prompt": separator.join(_content(messages[k], k)
                                     for k in range(prompt_end)),
            "chosen": _content(chosen, step),
            "rejected": _content(rejected, step),
        }
    if tools is not None:
        rec["tools"] = tools
    if weight:
        rec["weight"] = float(_get(pair, "weight"))
    if metadata:
        rec["metadata"] = _pair_metadata(pair)
    return rec


def reward_record(messages: Messages, pair: Any, chosen: Any = None, *,
                  conversational: bool = True,
                  authors: Optional[Sequence[int]] = None,
                  separator: str = "\n\n") -> Record:
    """A TRL RewardTrainer record (implicit prompt) with the pair's weight
    as the ``margin``, RewardTrainer's optional per-row column (trl
    ``trl/trainer/reward_trainer.py``)::

        {"chosen": prompt + [repaired], "rejected": prompt + [original],
         "margin": weight}

    OpenRLHF's reward-model data takes the same keys (OpenRLHF
    ``openrlhf/datasets/reward_dataset.py``: ``--chosen_key``,
    ``--rejected_key``, an optional ``margin``)."""
    rec = dpo_record(messages, pair, chosen, conversational=conversational,
                     authors=authors, separator=separator)
    if conversational:
        out = {"chosen": rec["prompt"] + rec["chosen"],
               "rejected": rec["prompt"] + rec["rejected"]}
    else:
        head = rec["prompt"] + separator if rec["prompt"] else ""
        out = {"chosen": head + rec["chosen"],
               "rejected": head + rec["rejected"]}
    out["margin"] = float(_get(pair, "weight"))
    return out


def kto_records(messages: Messages, rewards: Numbers, *,
                agent: Optional[int] = None,
                authors: Optional[Sequence[int]] = None,
                conversational: bool = True,
                separator: str = "\n\n") -> List[Record]:
    """TRL KTO / BCO unpaired-preference records, one per message (of
    ``agent`` only, when given), in TRL's unpaired-preference format,
    ``prompt``, ``completion`` and ``label: bool`` (trl
    ``docs/source/dataset_formats.md``, ``docs/source/kto_trainer.md``)::

        {"prompt": messages[:k], "completion": [m_k], "label": r_k > 0}

    Class imbalance is corrected by KTO's trainer-level desirable /
    undesirable weights, not per row."""
    rs = _rewards(rewards, messages)
    auth = _authors(messages, authors)
    out = []
    for k, m in enumerate(messages):
        if agent is not None and auth[k] != agent:
            continue
        me = auth[k]
        if conversational:
            rec = {"prompt": [_chat(messages[j], j, auth[j], me)
                              for j in range(k)],
                   "completion": [{"role": "assistant",
                                   "content": _content(m, k)}]}
        else:
            rec = {"prompt": separator.join(_content(messages[j], j)
                                            for j in range(k)),
                   "completion": _content(m, k)}
        rec["label"] = rs[k] > 0
        out.append(rec)
    return out


def prm_record(prompt: str, messages: Messages, rewards: Numbers, *,
               agent: Optional[int] = None,
               authors: Optional[Sequence[int]] = None) -> Record:
    """A TRL (experimental) PRM stepwise-supervision record, standard format
    only, the one PRMTrainer supports (trl ``docs/source/dataset_formats.md``,
    ``trl/experimental/prm/prm_trainer.py``)::

        {"prompt": task, "completions": [content_k, ...],
         "labels": [r_k > 0, ...]}

    The labels are binarised because PRMTrainer does ``int(label)`` and
    trains two classes (``tokenize_row`` in ``prm_trainer.py``, a token
    classifier with ``num_labels=2``); keep the float rewards elsewhere."""
    if not isinstance(prompt, str):
        raise TypeError("prompt: PRM supports the standard format only (a "
                        "str)")
    rs = _rewards(rewards, messages)
    auth = _authors(messages, authors)
    keep = [k for k in range(len(messages))
            if agent is None or auth[k] == agent]
    return {"prompt": prompt,
            "completions": [_content(messages[k], k) for k in keep],
            "labels": [rs[k] > 0 for k in keep]}


def column_reward_func(column: str = "reward_score"
                       ) -> Callable[..., List[Optional[float]]]:
    """A TRL GRPO reward function that returns a dataset column as the
    rewards (TRL GRPO, trl ``docs/source/grpo_trainer.md`` and
    ``trl/trainer/grpo_trainer.py``: a reward function receives every
    dataset column and returns ``list[float]``, one per completion; None
    means "not applicable"). Use it with :func:`message_records` rows, one
    completion per message::

        GRPOTrainer(..., reward_funcs=[column_reward_func()])"""
    def reward_func(prompts: Any = None, completions: Any = None,
                    **kwargs: Any) -> List[Optional[float]]:
        values = kwargs.get(column)
        if values is None:
            raise KeyError("the dataset has no %r column" % column)
        return [None if v is None else float(v) for v in values]
    reward_func.__name__ = "agentcredit_%s" % column
    return reward_func


# --------------------------------------------------------------------------
# verl / OpenRLHF / AReaL
# --------------------------------------------------------------------------

def message_records(messages: Messages, rewards: Numbers, *, episode: Any,
                    group: Any = None,
                    authors: Optional[Sequence[int]] = None,
                    agent: Optional[int] = None, conversational: bool = True,
                    separator: str = "\n\n") -> List[Record]:
    """One sample per message, for GRPO / PPO-style trainers that train each
    agent message as its own sample: verl (a row per sample, scored by a
    ``custom_reward_function``, verl
    ``docs/preparation/reward_function.rst``; GRPO groups by
    ``non_tensor_batch["uid"]``, ``verl/trainer/ppo/core_algos.py``),
    OpenRLHF's ``reward_func`` with one sample per message (OpenRLHF
    ``README.md``), and the multi-agent trainers built on them that train
    each agent turn as a sample (PettingLLMs' AT-GRPO, MARTI)::

        {"prompt": context before m_k, "response": content of m_k,
         "reward_score": r_k, "uid": "<group>:<agent>:<turn>",
         "extra_info": {"episode", "group", "agent", "turn", "message"}}

    ``uid`` is the GRPO group key (episode group, agent, turn): ``turn`` is
    the agent's own turn number (its k-th message), so the same agent's k-th
    message of every rollout of a group is compared. ``group`` defaults to
    ``episode``. ``agent`` keeps only that agent's messages. The rewards of
    an agent's rows add up to its credit. For OpenRLHF, point
    ``--data.label_key`` at ``reward_score`` and return the labels from
    ``reward_func``; for TRL GRPO see :func:`column_reward_func`."""
    rs = _rewards(rewards, messages)
    auth = _authors(messages, authors)
    group = episode if group is None else group
    turns = {}
    out = []
    for k, m in enumerate(messages):
        a = auth[k]
        turn = turns.get(a, 0)
        turns[a] = turn + 1
        if agent is not None and a != agent:
            continue
        if conversational:
            prompt = [_chat(messages[j], j, auth[j], a) for j in range(k)]
        else:
            prompt = separator.join(_content(messages[j], j)
                                    for j in range(k))
        out.append({
            "prompt": prompt,
            "response": _content(m, k),
            "reward_score": rs[k],
            "uid": "%s:%s:%d" % (group, "-" if a is None else a, turn),
            "extra_info": {"episode": episode, "group": group, "agent": a,
                           "turn": turn, "message": k},
        })
    return out


def token_level_rewards(rewards: Numbers, token_counts: Iterable[int], *,
                        authors: Optional[Sequence[int]] = None,
                        agent: Optional[int] = None,
                        length: Optional[int] = None,
                        placement: str = "last") -> Record:
    """Message rewards scattered onto a dense per-token vector over the
    response tokens, the message spans given by per-message token counts
    (message k covers tokens ``[s_k, e_k)``, one after the other):
    verl's ``token_level_rewards`` ``[T]`` with ``response_mask``
    (``verl/trainer/ppo/core_algos.py``: REINFORCE++ and GAE consume it per
    token, GRPO sums it over T) and OpenRLHF's ``action_ranges``
    (``openrlhf/utils/agent.py``). ``r_k`` goes at ``e_k - 1``, the
    message's last token, where verl puts a sequence's score
    (``verl/workers/reward_manager/naive.py``). Returns::

        {"token_level_rewards": [T floats], "response_mask": [T ints],
         "action_ranges": [[s_k, e_k], ...]}

    ``placement='last'`` puts r_k on the last token of its message (each
    reward placed once, exactly); ``'uniform'`` spreads r_k / (e_k - s_k)
    over the message's tokens. ``agent`` (with ``authors``) keeps only that
    agent's messages: other tokens get reward 0 and mask 0, and the vector
    then adds up to the agent's credit. ``length`` pads with masked zeros
    (or fails when the messages need more tokens)."""
    rs = [float(r) for r in rewards]
    counts = [int(c) for c in token_counts]
    if len(counts) != len(rs):
        raise ValueError("token_counts: %d entries for %d rewards"
                         % (len(counts), len(rs)))
    if placement not in ("last", "uniform"):
        raise ValueError("placement must be 'last' or 'uniform'")
    if agent is not None:
        if authors is None:
            raise ValueError("agent= needs authors=")
        authors = [int(a) for a in authors]
        if len(authors) != len(rs):
            raise ValueError("authors: %d entries for %d rewards"
                             % (len(authors), len(rs)))
    total = sum(counts)
    if length is None:
        length = total
    elif length < total:
        raise ValueError("length %d is shorter than the %d tokens of the "
                         "messages" % (length, total))
    values = [0.0] * length
    mask = [0] * length
    ranges = []
    s = 0
    for k, (r, c) in enumerate(zip(rs, counts)):
        if c < 0:
            raise ValueError("token_counts[%d] is negative" % k)
        if not math.isfinite(r):
            raise ValueError("rewards[%d] is not finite" % k)
        e = s + c
        if agent is None or authors[k] == agent:
            if c == 0:
                if r != 0.0:
                    raise ValueError("message %d has no token to carry its "
                                     "reward %r" % (k, r))
            else:
                ranges.append([s, e])
                for t in range(s, e):
                    mask[t] = 1
                if placement == "last":
                    values[e - 1] = r
                else:
                    share = r / c
                    for t in range(s, e):
                        values[t] = share
        s = e
    return {"token_level_rewards": values, "response_mask": mask,
            "action_ranges": ranges}


def areal_rewards(completion_ids: Iterable[Hashable], rewards: Numbers
                  ) -> Dict[Hashable, float]:
    """AReaL agent-workflow rewards: ``{completion_id: r_k}``, the dict an
    agent workflow's ``run()`` returns, one reward per LLM call
    (AReaL ``docs/en/reference/agent_workflow.md``). Export with
    ``style="individual"`` and no turn discount: the discount
    (``apply_reward_discount``, ``areal/experimental/openai/cache.py``)
    passes rewards back to earlier calls and would break credit
    conservation."""
    ids = list(completion_ids)
    rs = [float(r) for r in rewards]
    if len(ids) != len(rs):
        raise ValueError("completion_ids: %d ids for %d rewards"
                         % (len(ids), len(rs)))
    out = dict(zip(ids, rs))
    if len(out) != len(ids):
        raise ValueError("completion_ids are not unique")
    return out


# --------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------

def write_jsonl(records: Iterable[Mapping[str, Any]],
                destination: Union[str, bytes, "os.PathLike[str]", TextIO]
                ) -> int:
    """Writes one JSON object per line (UTF-8) to a path or a text file;
    returns the number of records. NaN and infinities are refused (they are
    not JSON)."""
    if isinstance(destination, (str, bytes, os.PathLike)):
        with open(destination, "w", encoding="utf-8", newline="\n") as f:
            return write_jsonl(records, f)
    n = 0
    for rec in records:
        if not isinstance(rec, Mapping):
            raise TypeError("record %d is a %s, not a dict"
                            % (n, type(rec).__name__))
        destination.write(json.dumps(rec, ensure_ascii=False,
                                     allow_nan=False))
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
