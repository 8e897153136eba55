#!/usr/bin/env python3
"""A training-loop sketch: simulated episodes in, trainer data out.

A team of four agents (planner, coder, reviewer, tester) solves tasks. Each
episode is one rollout: a transcript of messages and an outcome from the
evaluator (pass or fail). For every episode:

* success: Shapley credit per agent from counterfactual rollouts (a
  simulated team oracle that re-runs the task with only some agents
  acting), then message rewards that add up to each agent's credit, labelled
  by a judge (the scorer callback) with verbatim repeats penalised;
* failure: the same credit, then the first erroneous message found by a
  verifier (a test suite over transcript prefixes), blame labels, message
  rewards that still add up to the credit, and a repair-aware DPO pair.

It writes two files in TRL / verl shape (docs/python.md, "Trainer
formats", names the trainers' sources):

* ``dpo.jsonl``: TRL DPO preference records (conversational prompt, chosen,
  rejected), one per failed episode with a verified repair;
* ``grpo.jsonl``: one sample per message with its reward (``reward_score``)
  and its GRPO group key (``uid``), for GRPO / PPO-style trainers.

Usage: ``trainer.py [OUTDIR] [--episodes N] [--seed S]`` (OUTDIR defaults to
a new temporary directory). Standard library only; the shared library is
found through $AGENTCREDIT_LIB (or next to the package, or the system
loader)."""

import argparse
import math
import pathlib
import random
import sys
import tempfile

try:
    from agentcredit import Estimator, Localizer, Refiner, formats
except ModuleNotFoundError:   # run from a source tree: use its bindings
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] /
                           "bindings" / "python"))
    from agentcredit import Estimator, Localizer, Refiner, formats

AGENTS = ["planner", "coder", "reviewer", "tester"]
# how much each agent adds to the chance of success (the hidden truth the
# credit should recover): the coder matters most, the planner helps the
# coder, the reviewer a little, the tester only with the coder
SKILL = {"base": 0.0, "planner": 0.10, "coder": 0.35, "plan+code": 0.15,
         "reviewer": 0.05, "test+code": 0.05}


def p_success(coalition):
    """The team's success probability when only the agents in the
    coalition act (bit i: agent i)."""
    has = [bool(coalition >> i & 1) for i in range(len(AGENTS))]
    p = SKILL["base"]
    p += SKILL["planner"] * has[0] + SKILL["coder"] * has[1]
    p += SKILL["plan+code"] * (has[0] and has[1])
    p += SKILL["reviewer"] * has[2] + SKILL["test+code"] * (has[3] and has[1])
    return p


def simulate_episode(rng, k):
    """One rollout: a transcript (8 messages, round robin) and its outcome.
    A failed episode has a first error at some message of the coder or the
    tester; everything after it stays broken."""
    failed = rng.random() > p_success(0b1111)
    error_at = rng.choice([1, 3, 5, 7]) if failed else None
    messages = []
    for t in range(8):
        agent = t % len(AGENTS)
        if t == error_at:
            text = "%s: step %d of task %d, with a subtle bug" % (
                AGENTS[agent], t, k)
        elif agent == 2 and t > 3:
            text = "reviewer: looks good to me"   # a verbatim repeat below
        else:
            text = "%s: step %d of task %d" % (AGENTS[agent], t, k)
        messages.append({"agent": agent, "content": text})
    if not failed:
        messages[6]["content"] = messages[2]["content"] = \
            "reviewer: looks good to me"
    return messages, failed, error_at


def credit(rng, observed, episode_seed):
    """Shapley credit over the agents from counterfactual rollouts: each
    oracle evaluation re-runs the task with only some agents acting (a
    Bernoulli draw of p_success), averaged over 8 repeats."""
    n = len(AGENTS)

    def team_oracle(coalitions):
        return [float(rng.random() < p_success(c)) for c in coalitions]
    with Estimator(n, method="exact", repeats=8, budget=8 * 16,
                   seed=episode_seed) as est:
        est.set_value(est.grand_coalition, observed)   # the outcome R
        est.set_value(0, 0.0)                          # the baseline
        phi, se = est.run(team_oracle)
    return phi, se


def judge(messages):
    """A judge as a scorer callback: a label in [-1, 1] per message."""
    def scorer(indices):
        return [1.0 if messages[t]["agent"] == 1 else 0.5 for t in indices]
    return scorer


def success_rewards(messages, phi):
    authors = [m["agent"] for m in messages]
    with Refiner(len(AGENTS), len(messages), bound=0.5, authors=authors,
                 credits=phi, texts=[m["content"] for m in messages]) as ref:
        rewards = ref.run(judge(messages))   # scores, then the rewards
        redundant = [t for t, f in enumerate(ref.message_flags(names=True))
                     if "redundant" in f]
    return rewards, redundant


def failure_signals(messages, phi, error_at, k):
    """First error, blame, rewards and the repair-aware pair."""
    authors = [m["agent"] for m in messages]

    def test_suite(prefixes):           # exact and monotone
        return [1.0 if p < error_at else 0.0 for p in prefixes]

    repairs = {}

    def propose(step, max_count):       # candidate fixes of message `step`
        ids = [1000 * k + step * 10 + j for j in range(min(2, max_count))]
        for j, i in enumerate(ids):
            repairs[i] = ("%s: step %d of task %d" if j else
                          "%s: step %d of task %d (still buggy)") % (
                AGENTS[authors[step]], step, k)
        return ids

    def check(step, ids):               # the test suite on the repaired run
        return [0.1 if "buggy" in repairs[i] else 0.95 for i in ids]

    with Localizer(len(messages), authors=authors) as loc:
        first = loc.run(test_suite)
        labels = loc.blame_labels()
        loc.set_repair(propose, check)
        pair = loc.make_pair(episode=k)
    with Refiner(len(AGENTS), len(messages), bound=0.5, authors=authors,
                 credits=phi, labels=labels) as ref:
        rewards = ref.run()
    dpo = formats.dpo_record(messages, pair, repairs) if pair else None
    return first, rewards, dpo


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?", help="where to write the files "
                    "(default: a new temporary directory)")
    ap.add_argument("--episodes", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.outdir or tempfile.mkdtemp(prefix="agentcredit-"))
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)

    dpo_records, grpo_records = [], []
    for k in range(args.episodes):
        messages, failed, error_at = simulate_episode(rng, k)
        phi, se = credit(rng, 0.0 if failed else 1.0, args.seed * 1000 + k)
        credits = " ".join("%s %+.2f" % (a[:4], p) for a, p in zip(AGENTS,
                                                                    phi))
        if failed:
            first, rewards, dpo = failure_signals(messages, phi, error_at, k)
            note = "first error at message %d (%s)" % (
                first.step, AGENTS[first.agent])
            if dpo is not None:
                dpo_records.append(dpo)
                note += ", DPO pair"
        else:
            rewards, redundant = success_rewards(messages, phi)
            note = "repeats flagged: %s" % (redundant or "none")
        # the message rewards add up to each agent's credit, failure or not
        for a in range(len(AGENTS)):
            got = math.fsum(r for r, m in zip(rewards, messages)
                            if m["agent"] == a)
            assert abs(got - phi[a]) <= 1e-12 * max(1.0, abs(phi[a]))
        grpo_records += formats.message_records(messages, rewards, episode=k,
                                                group="task-%d" % k)
        print("episode %2d %-7s credit %s; %s" % (
            k, "failed" if failed else "passed", credits, note))

    n_dpo = formats.write_jsonl(dpo_records, out / "dpo.jsonl")
    n_grpo = formats.write_jsonl(grpo_records, out / "grpo.jsonl")
    print("wrote %d DPO records to %s" % (n_dpo, out / "dpo.jsonl"))
    print("wrote %d per-message reward records to %s"
          % (n_grpo, out / "grpo.jsonl"))
    return 0 if n_dpo and n_grpo else 1


if __name__ == "__main__":
    sys.exit(main())
