"""OpenRLHF hook for agentcredit's exports (docs/trainers.md, "OpenRLHF").

Standard library only, and nothing of the rest of the package: OpenRLHF
loads ``reward_func`` from a ``.py`` file given as ``--reward.remote_url``
(``openrlhf/utils/agent.py:193-200`` at 3c3be623), so this module works
alone there; torch is imported when the function runs.

:func:`reward_func` scores ``Exporter('openrlhf')`` rows, whose
``label`` is the JSON text of the record's agentcredit object
(``reward``, ``response``, ...). It is a **replay** check, as verl's
``compute_score``: the logged message's reward when the sampled response
is the logged one, else 0.0.

Upstream lines are cited at OpenRLHF/OpenRLHF
3c3be6234e0cb353e76bb8019947db9dfe99fca7."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Dict, List, Sequence, Tuple

__all__ = ["reward_func", "replay"]

# End-of-turn tokens a decoded query may end with: OpenRLHF decodes the
# sequence with skip_special_tokens=False (agent.py:283).
_TRAILING_SPECIAL = re.compile(r"(?:\s*(?:<\|[^|<>\s]*\|>|</s>))+\s*$")


def _normalise(text: Any) -> str:
    """Whitespace-insensitive text: stripped, runs of whitespace as one
    space."""
    return " ".join(str(text).split())


def _label(label: Any, k: int) -> Mapping[str, Any]:
    try:
        info = json.loads(label) if isinstance(label, (str, bytes)) else label
    except ValueError as exc:
        raise ValueError("agentcredit.openrlhf.reward_func: labels[%d] is "
                         "not JSON (%s): rows come from agentcredit export "
                         "--to openrlhf" % (k, exc)) from None
    if not isinstance(info, Mapping) or "reward" not in info or \
            "response" not in info:
        raise ValueError("agentcredit.openrlhf.reward_func: labels[%d] is "
                         "not an agentcredit label (an object with "
                         "'reward' and 'response'): rows come from "
                         "agentcredit export --to openrlhf" % k)
    return info


def _response(query: str, prompt: Any) -> str:
    """The response part of a query: what follows the prompt (OpenRLHF's
    own examples do the same, examples/python/math_reward_func.py:28-32),
    without trailing end-of-turn tokens."""
    if isinstance(prompt, str) and prompt:
        at = query.find(prompt)
        if at >= 0:
            query = query[at + len(prompt):]
    return _TRAILING_SPECIAL.sub("", query)


def replay(query: str, prompt: Any, label: Any) -> Tuple[float, bool]:
    """(reward, match) of one sample: the label's reward when the
    response in ``query`` after ``prompt`` is the label's ``response``
    (whitespace collapsed), else 0.0."""
    info = _label(label, 0)
    match = _normalise(_response(query, prompt)) == \
        _normalise(info["response"])
    return (float(info["reward"]) if match else 0.0), match


def reward_func(queries: Sequence[str], prompts: Sequence[Any],
                labels: Sequence[Any], **kwargs: Any) -> Dict[str, Any]:
    """OpenRLHF's custom reward function (``--reward.remote_url`` a path
    to this file): OpenRLHF calls ``reward_func(queries, prompts,
    labels)`` with lists (``agent.py:313-318``) and reads ``rewards``,
    ``scores`` and ``extra_logs`` of the dict it returns (``:288-297``);
    its examples return torch tensors (``examples/python/reward_func.py:
    4-30``). Here: ``rewards`` the replayed rewards (float32, one per
    query), ``scores`` ``(reward + 1) / 2`` clipped to [0, 1] (OpenRLHF
    filters dynamically on scores in [0, 1]), ``extra_logs``
    ``{"agentcredit_match": 1.0 or 0.0 per query}``. ValueError for a
    label that is not agentcredit's (naming its position)."""
    if not len(queries) == len(prompts) == len(labels):
        raise ValueError("agentcredit.openrlhf.reward_func: %d queries, %d "
                         "prompts, %d labels" % (len(queries), len(prompts),
                                                 len(labels)))
    rewards: List[float] = []
    matches: List[float] = []
    for k, (query, prompt, label) in enumerate(zip(queries, prompts,
                                                   labels)):
        info = _label(label, k)
        reward, match = replay(query, prompt, info)
        rewards.append(reward)
        matches.append(1.0 if match else 0.0)
    import torch  # type: ignore[import]  # here: the module needs none
    scores = [min(1.0, max(0.0, (r + 1.0) / 2.0)) for r in rewards]
    return {"rewards": torch.tensor(rewards, dtype=torch.float32),
            "scores": torch.tensor(scores, dtype=torch.float32),
            "extra_logs": {"agentcredit_match":
                           torch.tensor(matches, dtype=torch.float32)}}
