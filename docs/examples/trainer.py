#!/usr/bin/env python3
"""A training-loop sketch: simulated episodes in, trainer data out.

A team of four agents (planner, coder, reviewer, tester) solves tasks a
user gives. Each episode is one rollout: the user's task, the agents'
messages and an outcome from the evaluator (pass or fail). The pipeline
computes every signal of an episode in one call:

* Shapley credit per agent from counterfactual rollouts (a simulated team
  oracle that re-runs the task with only some agents acting);
* on a failure, the first erroneous message found by a verifier (a test
  suite over transcript prefixes), blame, and a repair-aware preference
  pair (candidate fixes, checked by the test suite);
* message rewards that add up to each agent's credit, labelled by a judge
  (the scorer) on a success, with verbatim repeats penalised.

The library's exporter (the one ``agentcredit export`` runs) then writes
two files (docs/trainers.md says what each trainer does with them):

* ``dpo.jsonl``: TRL DPO records (conversational prompt, chosen,
  rejected), one per failed episode with a verified repair;
* ``verl.jsonl``: verl rows, one per agent message, its reward and group
  key in ``extra_info["agentcredit"]`` (scored by
  ``agentcredit.verl.compute_score``).

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
    import agentcredit
except ModuleNotFoundError:   # run from a source tree: use its bindings
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] /
                           "bindings" / "python"))
    import agentcredit

from agentcredit import Episode, Pipeline, formats

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
    """One rollout as an Episode: the user's task, then 8 agent messages
    round robin (transcript positions 1..8). A failed episode has a first
    error at a message of the coder or the tester; everything after it
    stays broken. Returns (episode, failed, error_at)."""
    failed = rng.random() > p_success(0b1111)
    error_at = rng.choice([2, 4, 6, 8]) if failed else None
    ep = Episode(outcome=0.0 if failed else 1.0, baseline=0.0)
    ep.id = "task-%d:0" % k          # group "task-k", rollout 0
    ep.add_participant("user", "user")
    for name in AGENTS:
        ep.add_participant(name)
    ep.add_message("user", "Task %d: make the tests pass." % k, role="user")
    for t in range(1, 9):
        agent = (t - 1) % len(AGENTS)
        if t == error_at:
            text = "step %d of task %d, with a subtle bug" % (t, k)
        elif agent == 2:
            text = "looks good to me"   # a verbatim repeat
        else:
            text = "step %d of task %d" % (t, k)
        ep.add_message(AGENTS[agent], text, role="assistant")
    return ep, failed, error_at


def pipeline(rng, episode_seed, error_at, k, repairs):
    """The pipeline of one episode, its callbacks closed over the rollout:
    the team oracle (8 counterfactual re-runs per coalition), the test
    suite as the verifier, a judge as the scorer, candidate fixes as the
    repair source (their texts kept in ``repairs`` for the export)."""
    def team_oracle(coalitions):
        return [float(rng.random() < p_success(c)) for c in coalitions]

    def test_suite(prefixes):           # exact and monotone
        return [1.0 if error_at is None or p < error_at else 0.0
                for p in prefixes]

    def judge(indices):                 # a label in [-1, 1] per message
        return [1.0 if (t - 1) % len(AGENTS) == 1 else 0.5 for t in indices]

    def propose(step, max_count):       # candidate fixes of message `step`
        ids = [1000 * k + step * 10 + j for j in range(min(2, max_count))]
        for j, i in enumerate(ids):
            repairs[str(i)] = ("step %d of task %d" if j else
                               "step %d of task %d (still buggy)") % (step, k)
        return ids

    def check(step, ids):               # the test suite on the repaired run
        return [0.1 if "buggy" in repairs[str(i)] else 0.95 for i in ids]

    return Pipeline(oracle=team_oracle, verifier=test_suite, scorer=judge,
                    repair=(propose, check), method="exact", repeats=8,
                    estimator_budget=8 * 16, seed=episode_seed, bound=0.5)


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

    episodes, signals, candidates = [], [], {}
    for k in range(args.episodes):
        ep, failed, error_at = simulate_episode(rng, k)
        repairs = candidates.setdefault(ep.id, {})
        with pipeline(rng, args.seed * 1000 + k, error_at, k,
                      repairs) as pipe:
            s = pipe.run(ep)
        credits = " ".join("%s %+.2f" % (a[:4], c)
                           for a, c in zip(AGENTS, s.credits))
        if failed:
            note = "first error at message %d (%s)" % (
                s.first_error.step, AGENTS[s.first_error.agent])
            if s.pair:
                note += ", %s pair" % s.pair.kind
        else:
            redundant = [t for t, f in enumerate(s.message_flag_names())
                         if "redundant" in f]
            note = "repeats flagged: %s" % (redundant or "none")
        # the message rewards add up to each agent's credit, failure or not
        authors = [m.participant - 1 for m in ep.messages]   # user: -1
        for a, c in enumerate(s.credits):
            got = math.fsum(r for r, who in zip(s.rewards, authors)
                            if who == a)
            assert abs(got - c) <= 1e-12 * max(1.0, abs(c))
        episodes.append(ep)
        signals.append(s)
        print("episode %2d %-7s credit %s; %s" % (
            k, "failed" if failed else "passed", credits, note))

    dpo = agentcredit.export("trl-dpo", episodes, signals,
                             candidates=candidates)
    verl = agentcredit.export("verl", episodes, signals)
    n_dpo = formats.write_jsonl(dpo.records, out / "dpo.jsonl")
    n_verl = formats.write_jsonl(verl.records, out / "verl.jsonl")
    skipped = sorted({s.reason for s in dpo.skips})
    print("wrote %d DPO records to %s (skipped: %s)"
          % (n_dpo, out / "dpo.jsonl", ", ".join(skipped) or "none"))
    print("wrote %d per-message verl rows to %s" % (n_verl, out / "verl.jsonl"))
    return 0 if n_dpo and n_verl else 1


if __name__ == "__main__":
    sys.exit(main())
