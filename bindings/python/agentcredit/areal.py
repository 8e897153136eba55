"""AReaL hook for agentcredit's exports (docs/trainers.md, "AReaL").

Standard library only, and nothing of the rest of the package (it runs
inside an AReaL agent workflow).

AReaL's agent workflow returns ``{completion_id: reward}`` from ``run()``
(``areal/api/workflow_api.py:73-79,99-101`` at cbff54d6); before the
completions are exported, AReaL walks them backwards in creation order
and replaces each reward by ``reward + turn_discount * (the next one's
new reward)`` (``areal/experimental/openai/cache.py:243-257``, the line
``current_reward = current_reward * turn_discount + interaction.reward``
at ``:256``), at every discount including its default 1.0
(``areal/api/cli_args.py:2392-2395``). Handing it the message rewards
would give each call the sum of all later ones. An ``Exporter('areal')``
record's ``set_rewards`` undo that pass: after it, every call's reward is
the message's own reward.

* :func:`completion_rewards`: the dict ``run()`` returns;
* :func:`check_backward`: AReaL's pass replayed on a record, giving back
  what AReaL will train on."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any, Dict, Iterable, List, Optional

__all__ = ["completion_rewards", "check_backward"]


def _discount(record: Mapping[str, Any],
              turn_discount: Optional[float]) -> float:
    g = float(record["turn_discount"])
    if turn_discount is not None and float(turn_discount) != g:
        raise ValueError("agentcredit.areal: the record was exported with "
                         "--turn-discount %r, the run's agent.turn_discount "
                         "is %r: export again with the run's" %
                         (g, float(turn_discount)))
    return g


def completion_rewards(completion_ids: Iterable[Hashable],
                       record: Mapping[str, Any], *,
                       turn_discount: Optional[float] = None
                       ) -> Dict[Hashable, float]:
    """``{completion_id: s_k}``: the agent's completions (the ids of its
    LLM calls, in the order they were created: the order of the session's
    cache, which AReaL's pass walks) paired with the record's
    ``set_rewards``, one per message of the agent in ``record["messages"]``.
    ``turn_discount``: the run's ``agent.turn_discount``, checked against
    the record's. ValueError when the counts differ (a retried call the
    episode does not list shifts the order: drop AReaL's retry orphans
    first) or an id repeats."""
    ids = list(completion_ids)
    _discount(record, turn_discount)
    rewards = [float(s) for s in record["set_rewards"]]
    if len(ids) != len(rewards):
        raise ValueError("agentcredit.areal: %d completion ids for %d "
                         "messages of agent %r in episode %r"
                         % (len(ids), len(rewards), record.get("agent"),
                            record.get("episode")))
    out = dict(zip(ids, rewards))
    if len(out) != len(ids):
        raise ValueError("agentcredit.areal: the completion ids are not "
                         "unique")
    return out


def check_backward(record: Mapping[str, Any], *,
                   turn_discount: Optional[float] = None,
                   tolerance: float = 1e-12) -> List[float]:
    """AReaL's backward pass (``cache.py:243-257``) over the record's
    ``set_rewards``: the rewards AReaL will train on, one per call in
    creation order. ValueError when they differ from the record's
    ``rewards`` (the message rewards) by more than ``tolerance`` (times
    the larger magnitude, at least 1)."""
    g = _discount(record, turn_discount)
    current, replayed = 0.0, []
    for s in reversed([float(v) for v in record["set_rewards"]]):
        current = current * g + s      # cache.py:256
        replayed.append(current)
    replayed.reverse()
    wanted = [float(r) for r in record["rewards"]]
    for k, (got, want) in enumerate(zip(replayed, wanted)):
        if not abs(got - want) <= tolerance * max(1.0, abs(got), abs(want)):
            raise ValueError("agentcredit.areal: call %d gets %r after "
                             "AReaL's pass, the message's reward is %r"
                             % (k, got, want))
    if len(replayed) != len(wanted) or not all(map(math.isfinite,
                                                   replayed)):
        raise ValueError("agentcredit.areal: the record's rewards and "
                         "set_rewards do not match")
    return replayed
