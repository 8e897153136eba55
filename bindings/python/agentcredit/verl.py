"""verl hooks for agentcredit's exports (docs/trainers.md, "verl").

Standard library only, and nothing of the rest of the package: verl loads
a reward function from its file (``custom_reward_function.path``, verl
``verl/utils/import_utils.py:114-135`` at 1dda039b), so this module works
alone in verl's reward workers; verl itself is imported only when a call
needs it.

* :func:`compute_score`: verl's reward function for ``Exporter('verl')``
  rows, a **replay** check: the logged message's reward when the sampled
  text is the logged text, else 0.0 (verl always samples a fresh
  response, and a stored reward describes only the logged one);
* :func:`token_rewards`: a ``verl-tokens`` (or ``skyrl``) record's
  per-token rewards fitted to a response's length;
* :func:`agent_loop_worker`: an ``AgentLoopWorker`` subclass that puts
  those per-token rewards into ``rm_scores``, where stock verl puts the
  trajectory's one score on its last token.

Upstream lines are cited at verl-project/verl
1dda039b9c6311889a9c9a26040677e1254814f9."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence, Type, TypeVar, Union

__all__ = ["DATA_SOURCE", "EXTRA_FIELD", "compute_score", "token_rewards",
           "agent_loop_worker"]

#: The exporter's default ``data_source`` (``Exporter(data_source=...)``).
DATA_SOURCE = "agentcredit"
#: The key of ``AgentLoopOutput.extra_fields`` the worker hook reads.
EXTRA_FIELD = "agentcredit_token_rewards"

_W = TypeVar("_W", bound=type)


def _normalise(text: Any) -> str:
    """Whitespace-insensitive text: stripped, runs of whitespace as one
    space."""
    return " ".join(str(text).split())


def compute_score(data_source: Any, solution_str: str, ground_truth: Any,
                  extra_info: Optional[Mapping[str, Any]] = None,
                  **kwargs: Any) -> Any:
    """verl's reward function (``custom_reward_function.name=
    compute_score``): the naive reward manager calls it with these
    keywords per row (``verl/workers/reward_manager/naive.py:121-136``)
    and puts ``result["score"]`` on the response's last token
    (``:146``, ``:153``), keeping the other keys as extra info.

    A row of ``Exporter('verl')`` (``extra_info["agentcredit"]`` holds
    its ``reward``): ``{"score": reward if the solution is the logged text
    (``reward_model.ground_truth``, compared with whitespace collapsed)
    else 0.0, "agentcredit_match": 1 or 0, "agentcredit_reward":
    reward}``. Any other row goes to verl's own
    ``verl.utils.reward_score.default_compute_score`` (imported then;
    ImportError saying so when verl is not installed). A row whose
    ``data_source`` is ``"agentcredit"`` without the exporter's
    extra_info is a ValueError."""
    info = extra_info.get("agentcredit") if isinstance(extra_info,
                                                       Mapping) else None
    if info is None:
        if data_source == DATA_SOURCE:
            raise ValueError("agentcredit.verl.compute_score: a row of "
                             "data_source %r without extra_info"
                             "['agentcredit'] (rows come from agentcredit "
                             "export --to verl)" % data_source)
        return _default_compute_score()(data_source, solution_str,
                                        ground_truth, extra_info, **kwargs)
    if not isinstance(info, Mapping) or "reward" not in info:
        raise ValueError("agentcredit.verl.compute_score: extra_info"
                         "['agentcredit'] has no 'reward' (rows come from "
                         "agentcredit export --to verl)")
    reward = float(info["reward"])
    match = _normalise(solution_str) == _normalise(ground_truth)
    return {"score": reward if match else 0.0,
            "agentcredit_match": int(match), "agentcredit_reward": reward}


def _default_compute_score() -> Any:
    try:
        from verl.utils.reward_score import (  # type: ignore[import]
            default_compute_score)
    except ImportError as exc:
        raise ImportError("agentcredit.verl.compute_score: a row that is "
                          "not agentcredit's goes to verl's "
                          "verl.utils.reward_score.default_compute_score, "
                          "and verl cannot be imported (%s)" % exc) from exc
    return default_compute_score


def token_rewards(record: Union[Mapping[str, Any], Sequence[float]],
                  response_length: int) -> List[float]:
    """The per-token rewards of a ``verl-tokens`` record
    (``"token_rewards"``), a ``skyrl`` record (``"rewards"``) or a list,
    as ``response_length`` floats: padded with zeros, or cut when only
    zeros are cut (a response the trainer truncated after the agent's
    last rewarded token). ValueError when the response is too short to
    hold a non-zero reward (naming its position), or a value is not
    finite."""
    if isinstance(record, Mapping):
        key = "token_rewards" if "token_rewards" in record else "rewards"
        if key not in record:
            raise ValueError("token_rewards: the record has neither "
                             "'token_rewards' (verl-tokens) nor 'rewards' "
                             "(skyrl)")
        values = record[key]
    else:
        values = record
    out = [float(v) for v in values]
    n = int(response_length)
    if n < 0:
        raise ValueError("token_rewards: response_length %d < 0" % n)
    for k, v in enumerate(out):
        if not math.isfinite(v):
            raise ValueError("token_rewards: the reward at position %d is "
                             "not finite (%r)" % (k, v))
        if k >= n and v != 0.0:
            raise ValueError("token_rewards: the response has %d tokens, "
                             "but the record puts reward %r at position %d "
                             "(of %d): the rollout and the episode's token "
                             "spans do not match" % (n, v, k, len(out)))
    return out[:n] + [0.0] * (n - len(out))


def _torch() -> Any:
    try:
        import torch  # type: ignore[import]
    except ImportError as exc:
        raise ImportError("agentcredit.verl: the agent-loop hook needs "
                          "torch (%s)" % exc) from exc
    return torch


def agent_loop_worker(base_cls: _W) -> _W:
    """A subclass of ``base_cls`` (verl's ``AgentLoopWorker``, from
    ``verl.experimental.agent_loop``) whose ``_postprocess`` replaces each
    row of ``batch["rm_scores"]`` by the per-token rewards its agent loop
    left in ``output.extra_fields["agentcredit_token_rewards"]`` (a
    ``verl-tokens`` record or a list; :func:`token_rewards` fits it to the
    response length).

    Upstream, ``_postprocess(inputs, input_non_tensor_batch=None,
    validate=False)`` (``agent_loop.py:1026-1031``) writes each
    trajectory's one ``reward_score`` on its last response token
    (``:1062-1068``); the trainer then takes ``rm_scores`` as the
    token-level scores (``verl/trainer/ppo/ray_trainer.py:1563-1568``,
    ``:1633``; ``verl/trainer/ppo/reward.py:160-167``). The manager makes
    its workers from ``agent_loop_workers_class`` (``agent_loop.py:1166-
    1167``): ``agent_loop_workers_class = ray.remote(
    agent_loop_worker(AgentLoopWorker))`` in a subclass of
    ``AgentLoopManager``.

    A batch where no row carries the field is left as verl made it; one
    where only some rows do is a ValueError (a row would silently keep
    verl's scalar)."""
    class Worker(base_cls):  # type: ignore[valid-type, misc]
        def _postprocess(self, inputs: List[Any],
                         input_non_tensor_batch: Optional[Dict[str, Any]]
                         = None, validate: bool = False) -> Any:
            out = super()._postprocess(
                inputs, input_non_tensor_batch=input_non_tensor_batch,
                validate=validate)
            rows = [getattr(i, "extra_fields", {}).get(EXTRA_FIELD)
                    for i in inputs]
            if all(r is None for r in rows):
                return out
            missing = [k for k, r in enumerate(rows) if r is None]
            if missing:
                raise ValueError("agentcredit.verl: rows %s of the batch "
                                 "have no extra_fields[%r] while others do"
                                 % (missing, EXTRA_FIELD))
            torch = _torch()
            length = out.batch["response_mask"].shape[-1]
            out.batch["rm_scores"] = torch.tensor(
                [token_rewards(r, length) for r in rows if r is not None],
                dtype=torch.float32)
            return out

    Worker.__name__ = Worker.__qualname__ = "AgentCredit" + base_cls.__name__
    Worker.__doc__ = ("%s whose rm_scores rows are agentcredit's per-token "
                      "rewards (agentcredit.verl.agent_loop_worker)."
                      % base_cls.__name__)
    return Worker  # type: ignore[return-value]
