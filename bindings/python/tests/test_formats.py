"""Trainer records (agentcredit.formats): field names as in the trainers'
own formats (TRL, verl, OpenRLHF, AReaL; sources in formats.py),
conservation carried into the records, JSON round trips."""

import io
import json
import math
import os
import tempfile
import unittest

import support  # noqa: F401  (puts the package on sys.path)

from agentcredit import Localizer, Refiner, formats

MESSAGES = [
    {"agent": 0, "content": "Plan: parse the input, then sort."},
    {"agent": 1, "content": "def solve(xs): return sorted(xs)"},
    {"agent": 2, "content": "Looks right."},
    {"agent": 1, "content": "def solve(xs): return xs[::-1]"},   # the error
    {"agent": 2, "content": "Tests fail on [3, 1, 2]."},
    {"agent": 0, "content": "Revert to sorted()."},
]
AUTHORS = [m["agent"] for m in MESSAGES]
CREDITS = [0.2, -0.5, 0.1]


def episode():
    """A failed episode through the library: pair and rewards."""
    loc = Localizer(6, authors=AUTHORS, candidates=2)
    loc.run(lambda ps: [1.0 if p < 3 else 0.0 for p in ps])
    loc.set_repair(lambda step, m: [7, 8],
                   lambda step, ids: [0.4, 0.9])
    pair = loc.make_pair(episode=12)
    rewards = Refiner(3, 6, authors=AUTHORS, credits=CREDITS,
                      labels=loc.blame_labels()).run()
    return pair, rewards


class Preference(unittest.TestCase):
    def setUp(self):
        self.pair, self.rewards = episode()
        self.repair = {7: "def solve(xs): return sorted(xs)  # kept",
                       8: "def solve(xs): return sorted(xs)"}

    def test_dpo_conversational(self):
        rec = formats.dpo_record(MESSAGES, self.pair, self.repair)
        self.assertEqual(list(rec), ["prompt", "chosen", "rejected"])
        self.assertEqual(rec["prompt"], [
            {"role": "user", "content": MESSAGES[0]["content"]},
            {"role": "assistant", "content": MESSAGES[1]["content"]},
            {"role": "user", "content": MESSAGES[2]["content"]}])
        self.assertEqual(rec["chosen"], [{"role": "assistant",
                                          "content": self.repair[8]}])
        self.assertEqual(rec["rejected"], [{"role": "assistant",
                                            "content": MESSAGES[3]
                                            ["content"]}])
        # a callable or the text itself work too
        self.assertEqual(formats.dpo_record(MESSAGES, self.pair,
                                            self.repair.get), rec)
        self.assertEqual(formats.dpo_record(MESSAGES, self.pair,
                                            self.repair[8]), rec)
        # roles given by the host are kept, tool calls copied
        msgs = [dict(m, role="system") if k == 0 else m
                for k, m in enumerate(MESSAGES)]
        msgs[1] = dict(msgs[1], tool_calls=[{"type": "function"}])
        rec2 = formats.dpo_record(msgs, self.pair, self.repair,
                                  tools=[{"name": "run_tests"}])
        self.assertEqual(rec2["prompt"][0]["role"], "system")
        self.assertEqual(rec2["prompt"][1]["tool_calls"],
                         [{"type": "function"}])
        self.assertEqual(rec2["tools"], [{"name": "run_tests"}])

    def test_dpo_plain_with_weight_and_metadata(self):
        rec = formats.dpo_record(MESSAGES, self.pair.to_dict(), self.repair,
                                 conversational=False, weight=True,
                                 metadata=True, separator="\n")
        self.assertEqual(rec["prompt"], "\n".join(m["content"]
                                                  for m in MESSAGES[:3]))
        self.assertEqual(rec["chosen"], self.repair[8])
        self.assertEqual(rec["rejected"], MESSAGES[3]["content"])
        self.assertEqual(rec["weight"], self.pair.weight)
        self.assertEqual(rec["metadata"]["episode"], 12)
        self.assertEqual(rec["metadata"]["step"], 3)
        self.assertEqual(rec["metadata"]["agent"], 1)
        self.assertEqual(rec["metadata"]["chosen"], 8)

    def test_corrective_pair_needs_no_text(self):
        def verifier(ps):
            return [0.0 if p in (3, 4) else 1.0 for p in ps]
        loc = Localizer(6, authors=[0, 1, 2, 1, 2, 1], monotone=False)
        loc.run(verifier)
        pair = loc.make_pair()
        self.assertEqual((pair.kind, pair.chosen), ("corrective", 5))
        rec = formats.dpo_record(MESSAGES, pair)
        self.assertEqual(rec["chosen"][0]["content"], MESSAGES[5]["content"])

    def test_no_pair_or_no_text_is_an_error(self):
        loc = Localizer(6)
        loc.run(lambda ps: [1.0] * len(ps))
        with self.assertRaises(ValueError):
            formats.dpo_record(MESSAGES, loc.make_pair())
        with self.assertRaises(ValueError):
            formats.dpo_record(MESSAGES, self.pair)   # repair text missing

    def test_reward_record(self):
        rec = formats.reward_record(MESSAGES, self.pair, self.repair)
        self.assertEqual(list(rec), ["chosen", "rejected", "margin"])
        self.assertEqual(len(rec["chosen"]), 4)
        self.assertEqual(rec["chosen"][:3], rec["rejected"][:3])
        self.assertEqual(rec["margin"], self.pair.weight)
        plain = formats.reward_record(MESSAGES, self.pair, self.repair,
                                      conversational=False)
        self.assertTrue(plain["chosen"].endswith(self.repair[8]))
        self.assertTrue(plain["rejected"].startswith(MESSAGES[0]["content"]))


class PerMessage(unittest.TestCase):
    def setUp(self):
        self.pair, self.rewards = episode()

    def test_kto(self):
        recs = formats.kto_records(MESSAGES, self.rewards)
        self.assertEqual(len(recs), 6)
        for k, rec in enumerate(recs):
            self.assertEqual(list(rec), ["prompt", "completion", "label"])
            self.assertEqual(len(rec["prompt"]), k)
            self.assertIs(rec["label"], self.rewards[k] > 0)
        only = formats.kto_records(MESSAGES, self.rewards, agent=2,
                                   conversational=False)
        self.assertEqual([r["completion"] for r in only],
                         [MESSAGES[2]["content"], MESSAGES[4]["content"]])

    def test_prm(self):
        rec = formats.prm_record("Sort the list.", MESSAGES, self.rewards,
                                 agent=1)
        self.assertEqual(rec, {"prompt": "Sort the list.",
                               "completions": [MESSAGES[1]["content"],
                                               MESSAGES[3]["content"]],
                               "labels": [self.rewards[1] > 0,
                                          self.rewards[3] > 0]})
        with self.assertRaises(TypeError):
            formats.prm_record([{"role": "user"}], MESSAGES, self.rewards)

    def test_message_records_conserve_credit(self):
        recs = formats.message_records(MESSAGES, self.rewards, episode=12,
                                       group="task-3")
        self.assertEqual(len(recs), 6)
        self.assertEqual(list(recs[0]), ["prompt", "response", "reward_score",
                                         "uid", "extra_info"])
        self.assertEqual([r["uid"] for r in recs],
                         ["task-3:0:0", "task-3:1:0", "task-3:2:0",
                          "task-3:1:1", "task-3:2:1", "task-3:0:1"])
        for a, credit in enumerate(CREDITS):
            got = math.fsum(r["reward_score"] for r in recs
                            if r["extra_info"]["agent"] == a)
            self.assertAlmostEqual(got, credit, delta=1e-12)
        self.assertEqual(recs[3]["prompt"][1],
                         {"role": "assistant",
                          "content": MESSAGES[1]["content"]})
        self.assertEqual(recs[3]["extra_info"],
                         {"episode": 12, "group": "task-3", "agent": 1,
                          "turn": 1, "message": 3})
        plain = formats.message_records([m["content"] for m in MESSAGES],
                                        self.rewards, episode=1,
                                        authors=AUTHORS, agent=0,
                                        conversational=False)
        self.assertEqual([r["uid"] for r in plain], ["1:0:0", "1:0:1"])
        self.assertEqual(plain[1]["prompt"], "\n\n".join(
            m["content"] for m in MESSAGES[:5]))
        with self.assertRaises(ValueError):
            formats.message_records(MESSAGES, self.rewards[:3], episode=1)
        with self.assertRaises(ValueError):
            formats.message_records(MESSAGES, [math.nan] * 6, episode=1)

    def test_token_level_rewards(self):
        counts = [5, 3, 0, 4, 2, 6]
        rewards = [0.1, -0.2, 0.0, 0.3, 0.05, -0.1]
        out = formats.token_level_rewards(rewards, counts)
        self.assertEqual(list(out), ["token_level_rewards", "response_mask",
                                     "action_ranges"])
        t = out["token_level_rewards"]
        self.assertEqual(len(t), 20)
        self.assertEqual([i for i, x in enumerate(t) if x != 0],
                         [4, 7, 11, 13, 19])
        self.assertEqual(out["action_ranges"], [[0, 5], [5, 8], [8, 12],
                                                [12, 14], [14, 20]])
        self.assertEqual(out["response_mask"], [1] * 20)
        # one agent's tokens only: the vector adds up to its credit
        pair, rw = episode()
        counts = [4, 6, 2, 6, 3, 2]
        for a, credit in enumerate(CREDITS):
            out = formats.token_level_rewards(rw, counts, authors=AUTHORS,
                                              agent=a, length=30)
            self.assertEqual(len(out["token_level_rewards"]), 30)
            self.assertAlmostEqual(math.fsum(out["token_level_rewards"]),
                                   credit, delta=1e-12)
            masked = [v for v, m in zip(out["token_level_rewards"],
                                        out["response_mask"]) if not m]
            self.assertEqual(set(masked) - {0.0}, set())
        uni = formats.token_level_rewards(rw, counts, placement="uniform")
        self.assertAlmostEqual(math.fsum(uni["token_level_rewards"]),
                               math.fsum(rw), delta=1e-12)
        self.assertEqual(len(set(uni["token_level_rewards"][:4])), 1)
        for bad in (dict(length=3), dict(placement="first"),
                    dict(agent=0)):
            with self.assertRaises(ValueError):
                formats.token_level_rewards(rw, counts, **bad)
        with self.assertRaises(ValueError):
            formats.token_level_rewards([1.0], [0])   # nowhere to put it

    def test_areal_and_grpo(self):
        ids = ["c%d" % k for k in range(6)]
        self.assertEqual(formats.areal_rewards(ids, self.rewards),
                         dict(zip(ids, self.rewards)))
        with self.assertRaises(ValueError):
            formats.areal_rewards(["a", "a"], [1.0, 2.0])
        recs = formats.message_records(MESSAGES, self.rewards, episode=0)
        fn = formats.column_reward_func()
        cols = {k: [r[k] for r in recs] for k in recs[0]}
        got = fn(prompts=cols["prompt"], completions=cols["response"],
                 **{k: v for k, v in cols.items() if k != "prompt"})
        self.assertEqual(got, self.rewards)
        with self.assertRaises(KeyError):
            fn(prompts=[], completions=[])


class JsonLines(unittest.TestCase):
    def test_round_trip(self):
        pair, rewards = episode()
        repair = {8: "def solve(xs): return sorted(xs)"}
        records = ([formats.dpo_record(MESSAGES, pair, repair, weight=True,
                                       metadata=True)] +
                   formats.message_records(MESSAGES, rewards, episode=3) +
                   [formats.token_level_rewards(rewards, [1] * 6),
                    pair.to_dict(), {"text": "ünïcødé"}])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "out.jsonl")
            self.assertEqual(formats.write_jsonl(records, path), len(records))
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            self.assertEqual(lines[-1], "")
            self.assertEqual(len(lines), len(records) + 1)
            self.assertEqual(formats.read_jsonl(path), records)
            self.assertIn("ünïcødé", lines[-2])
        buf = io.StringIO()
        formats.write_jsonl(records, buf)
        buf.seek(0)
        self.assertEqual(formats.read_jsonl(buf), records)
        self.assertEqual(json.loads(json.dumps(records)), records)

    def test_refuses_non_json(self):
        with self.assertRaises(ValueError):
            formats.write_jsonl([{"x": math.nan}], io.StringIO())
        with self.assertRaises(TypeError):
            formats.write_jsonl([[1, 2]], io.StringIO())
        with self.assertRaises(TypeError):
            formats.read_jsonl(42)


if __name__ == "__main__":
    unittest.main()
