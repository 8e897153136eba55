#!/usr/bin/env python3
"""A stand-in oracle for `agentcredit signals --oracle-cmd` on imported logs.

    agentcredit signals --verifier annotations \\
        --oracle-cmd 'python3 docs/examples/oracle_counterfactual.py' \\
        episodes.jsonl > signals.jsonl

Logs (Who&When, tau-bench: `agentcredit import`) record one run of the
whole team; they hold no coalition values, and no program can know what a
team without some of its agents would have done without running it again.
This program does not know either: it ANSWERS BY ASSUMPTION, from what the
episode holds, so that the credits of a log can be computed at all. Its
values are a modelling choice standing in for real re-runs, not
measurements. For real values run the team again with only the coalition's
agents acting (a rollout per coalition) and give those: docs/oracles.md.

The assumptions, for a coalition S of an episode with outcome R:
  * Every agent that spoke is needed: a coalition that lacks one of them
    (other than the erring agent below) reaches what no team does, the
    baseline (the episode's "baseline", else 0). So does the empty
    coalition.
  * An episode without a labelled mistake (a success, or a failure without
    a human label): S holding every agent that spoke reaches R. Agents that
    never spoke change nothing. The agents that spoke share R - baseline
    equally.
  * A failure with a human first-error label ("annotations": {"first_error":
    t}) by agent e: the labelled mistake is taken as the failure's only
    cause, and leaving e out as leaving the mistake out. S holding every
    other agent that spoke reaches R when it holds e, and a success
    (--success, 1.0 by default) when it does not. With n agents that spoke
    (n >= 2; e alone: as without a label), e's Shapley value is
    (R - success) / n, the blame, and each other's
    (success - baseline) / (n (n - 1)) + (R - baseline) / n.

It speaks protocol "agentcredit.work/1" (docs/cli.md, "External
programs"): one JSON request a line on stdin, one reply a line on stdout;
"values" requests only (any other is refused with {"error": ...}). Python 3
standard library only.
"""
import argparse
import json
import sys

PROTOCOL = "agentcredit.work/1"


def agents_that_spoke(episode):
    """The agents (participants of kind "agent", the default) with a message."""
    agents = {p["name"] for p in episode["participants"]
              if p.get("kind", "agent") == "agent"}
    return {m["from"] for m in episode["messages"]} & agents


def erring_agent(episode):
    """The author of the labelled first error of a failure, or None."""
    label = (episode.get("annotations") or {}).get("first_error")
    failed = episode["outcome"] < episode.get("threshold", 0.5)
    if label is None or not failed:
        return None
    return episode["messages"][label]["from"]


class Assumed:
    """The assumed game of one episode (the module's docstring)."""

    def __init__(self, episode, success):
        self.outcome = episode["outcome"]
        baseline = episode.get("baseline")
        self.baseline = 0.0 if baseline is None else baseline
        self.success = success
        self.erring = erring_agent(episode)
        self.needed = agents_that_spoke(episode) - {self.erring}

    def value(self, coalition):
        s = set(coalition)
        if not s or not self.needed <= s:
            return self.baseline
        if self.erring is None or self.erring in s:
            return self.outcome
        # without e; and with nobody who spoke when e alone did
        return self.success if self.needed else self.baseline


def serve(requests, replies, success):
    game = None
    for line in requests:
        request = json.loads(line)
        if request.get("protocol") != PROTOCOL:
            reply = {"error": "protocol %r, not %s"
                     % (request.get("protocol"), PROTOCOL)}
        else:
            if "episode" in request:  # sent once per episode
                game = Assumed(request["episode"], success)
            if request["request"] == "values":
                reply = {"answers": [game.value(c)
                                     for c in request["coalitions"]]}
            else:
                reply = {"error": "this oracle serves values only, not %s"
                         % request["request"]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--success", type=float, default=1.0,
                        help="the outcome assumed for a failure's team "
                             "without its erring agent (default 1.0)")
    args = parser.parse_args()
    serve(sys.stdin, sys.stdout, args.success)


if __name__ == "__main__":
    main()
