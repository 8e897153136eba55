"""agentcredit.formats after issue 15: the TRL records go through the
library's exporter, and each mismatch the issue lists is checked here
against the trainer line it encodes (docs/exports-spec.md, section 1;
upstream `path:line` at TRL f2cd5771, verl 1dda039b, OpenRLHF 3c3be623,
AReaL cbff54d6). Every class below failed on the Python-built records
the module made before (they took messages and rewards and wrote what
TRL, verl and AReaL could not load or read differently). JSON Lines
round trips, sets included."""

import io
import itertools
import json
import math
import os
import tempfile
import unittest

from support import ROOT

from agentcredit import (Episode, Exporter, Pipeline, Refiner, Signals,
                         areal, formats)

DATA = ROOT / "tests" / "data" / "exports"
EPISODES = {json.loads(line)["id"]: line for line in
            (DATA / "episodes.jsonl").read_text().splitlines()}
SIGNALS = {json.loads(line)["id"]: line for line in
           (DATA / "signals.jsonl").read_text().splitlines()}
REPAIR = {json.loads(line)["id"]: line for line in
          (DATA / "signals-repair.jsonl").read_text().splitlines()}
CANDIDATES = json.loads((DATA / "candidates.json").read_text())

TRL_KEYS = ["prompt", "chosen", "rejected", "completion", "messages"]


def trl_is_conversational(example, first):
    """trl/data_utils.py:184-196 with the key the set pops given: a list
    column is indexed at [0] (an IndexError when it is empty)."""
    maybe_messages = example[first]
    if isinstance(maybe_messages, list):
        maybe_message = maybe_messages[0]
        return isinstance(maybe_message, dict) and "role" in maybe_message
    return False


def check_trl_loads(test, record):
    """is_conversational on every key the set could pop first (which one
    depends on PYTHONHASHSEED): none may raise."""
    for key in (k for k in TRL_KEYS if k in record):
        trl_is_conversational(record, key)


class Claim1EmptyPrompt(unittest.TestCase):
    """TRL indexes a conversational column's [0] (trl/data_utils.py:193),
    called per row by dpo_trainer.py:1024, kto_trainer.py:1056,
    reward_trainer.py:672: the first error at step 0 made an empty
    prompt."""

    def test_step0_pair_has_no_record_unless_the_prompt_is_given(self):
        ep, sig = EPISODES["step0:0"], REPAIR["step0:0"]
        self.assertIsNone(formats.dpo_record(ep, sig,
                                             candidates=CANDIDATES))
        rec = formats.dpo_record(ep, sig, candidates=CANDIDATES,
                                 empty_prompt="Which is larger?")
        self.assertEqual(rec["prompt"], [{"role": "system",
                                          "content": "Which is larger?"}])
        # the standard format keeps it: "" tokenizes (dpo_trainer.py:1042)
        std = formats.dpo_record(ep, sig, candidates=CANDIDATES,
                                 conversational=False)
        self.assertEqual(std["prompt"], "")

    def test_no_conversational_column_is_empty(self):
        for eid in EPISODES:
            recs = formats.kto_records(EPISODES[eid], SIGNALS[eid])
            for fmt in ("trl-dpo", "trl-reward"):
                with Exporter(fmt, candidates=CANDIDATES) as x:
                    recs += x.convert(EPISODES[eid], REPAIR[eid]).records
            for rec in recs:
                with self.subTest(episode=eid, keys=sorted(rec)):
                    check_trl_loads(self, rec)
                    self.assertTrue(all(rec[k] for k in TRL_KEYS
                                        if k in rec))


class Claim2ToolMessages(unittest.TestCase):
    """trl docs/source/dataset_formats.md:141-155: an assistant message's
    tool_calls with arguments an object, a tool message with its name;
    the OpenAI shape has content None on a call."""

    def test_names_ids_and_arguments_are_kept(self):
        rec = formats.dpo_record(EPISODES["tau-cancel:0"],
                                 REPAIR["tau-cancel:0"],
                                 candidates=CANDIDATES)
        call, answer = rec["prompt"][2], rec["prompt"][3]
        self.assertEqual(call["content"], "")
        self.assertEqual(call["tool_calls"][0]["function"],
                         {"name": "get_order_details",
                          "arguments": {"order_id": "#W123"}})
        self.assertEqual(answer["name"], "get_order_details")
        self.assertEqual(answer["tool_call_id"], "call_1")

    def test_content_none_is_taken(self):
        ep = Episode.from_json(EPISODES["tau-cancel:0"])
        self.assertIsNone(ep.message(2).text)
        recs = formats.kto_records(ep, SIGNALS["tau-cancel:0"])
        self.assertEqual(recs[0]["completion"][0]["content"], "")


class Claim3Grpo(unittest.TestCase):
    """trl grpo_trainer.py:1617-1618, :1659-1660: dataset columns reach the
    reward functions beside completions GRPO has just generated; a stored
    reward column scored the logged message instead."""

    def test_the_column_reward_function_is_gone(self):
        with self.assertRaises(AttributeError) as cm:
            formats.column_reward_func   # noqa: B018
        self.assertIn("GRPO", str(cm.exception))
        self.assertNotIn("column_reward_func", formats.__all__)


class Claim4Verl(unittest.TestCase):
    """verl reads data_source and reward_model.ground_truth of every row
    (verl/workers/reward_manager/naive.py:121-122) and overwrites uid
    (verl/trainer/ppo/ray_trainer.py:1482-1484)."""

    def test_rows_carry_what_verl_reads(self):
        with Exporter("verl") as x:
            rows = x.convert(EPISODES["team:3"], SIGNALS["team:3"]).records
        for row in rows:
            self.assertEqual(row["data_source"], "agentcredit")
            self.assertIsInstance(row["reward_model"]["ground_truth"], str)
            self.assertNotIn("uid", row)
            self.assertIn("key", row["extra_info"]["agentcredit"])
        self.assertRaises(AttributeError, getattr, formats,
                          "message_records")


class Claim5OpenRLHF(unittest.TestCase):
    """OpenRLHF's input key is `input` (openrlhf/cli/train_ppo_ray.py:542)
    and its labels are text."""

    def test_input_and_label(self):
        with Exporter("openrlhf") as x:
            rows = x.convert(EPISODES["team:3"], SIGNALS["team:3"]).records
        for row in rows:
            self.assertEqual(sorted(row), ["input", "label"])
            self.assertIsInstance(json.loads(row["label"])["reward"], float)


class Claim6AReaL(unittest.TestCase):
    """AReaL adds each later reward back into the earlier ones at every
    discount, 1.0 included (areal/experimental/openai/cache.py:256,
    areal/api/cli_args.py:2392-2395)."""

    def test_the_exported_rewards_survive_the_pass(self):
        with Exporter("areal") as x:
            rec = x.convert(EPISODES["tau-cancel:0"],
                            SIGNALS["tau-cancel:0"]).records[0]
        back = areal.check_backward(rec)
        for got, want in zip(back, rec["rewards"]):
            self.assertAlmostEqual(got, want, delta=1e-12)
        # the message rewards themselves, as formats.areal_rewards gave
        # them, come out of the pass as sums of the later ones
        with self.assertRaises(ValueError):
            areal.check_backward(dict(rec, set_rewards=rec["rewards"]))
        self.assertRaises(AttributeError, getattr, formats, "areal_rewards")


class Claim7Prm(unittest.TestCase):
    """PRMTrainer labels each step's last token with int(label), -100
    elsewhere, and the loss ignores -100 (trl/experimental/prm/
    prm_trainer.py:331-342, :55-71): a solution keeps every step."""

    def test_one_agent_keeps_the_whole_solution(self):
        full = formats.prm_record(EPISODES["team:3"], SIGNALS["team:3"])
        critic = formats.prm_record(EPISODES["team:3"], SIGNALS["team:3"],
                                    agents=["critic"])
        self.assertEqual(len(critic["completions"]), 9)
        self.assertEqual(critic["completions"], full["completions"])
        self.assertEqual(critic["labels"],
                         [-100, -100, -100, 0, -100, -100, -100, -100, -100])
        self.assertEqual(full["labels"], [1, 1, -100, 0, 0, -100, -100, 0, 0])
        # labels are ints, never bools (prm_trainer.py:225, int64)
        self.assertTrue(all(type(v) is int for v in full["labels"]))


class Claim8Flags(unittest.TestCase):
    """The refiner's flags by name are frozensets."""

    def test_write_jsonl_writes_sets_as_sorted_lists(self):
        ref = Refiner(2, 4, authors=[0, 1, 0, 1], credits=[0.5, -0.2],
                      texts=["a", "b", "a", "b"])
        ref.run(lambda ts: [0.5] * len(ts))
        flags = ref.message_flags(names=True)
        self.assertIsInstance(flags[0], frozenset)
        out = io.StringIO()
        formats.write_jsonl([{"flags": flags, "set": {"b", "a", "c"},
                              "mixed": frozenset([2, "x", 1])}], out)
        rec = json.loads(out.getvalue())
        self.assertEqual(rec["flags"], [sorted(f) for f in flags])
        self.assertIn(["redundant"], rec["flags"])
        self.assertEqual(rec["set"], ["a", "b", "c"])
        self.assertEqual(rec["mixed"], [1, 2, "x"])
        with self.assertRaises(TypeError):
            formats.write_jsonl([{"x": object()}], io.StringIO())


class Records(unittest.TestCase):
    """The remaining functions are the exporter's records of one
    episode."""

    def test_same_as_the_exporter(self):
        for eid in EPISODES:
            ep, sig = EPISODES[eid], REPAIR[eid]
            for fn, fmt in ((formats.dpo_record, "trl-dpo"),
                            (formats.reward_record, "trl-reward"),
                            (formats.prm_record, "trl-prm")):
                with Exporter(fmt, candidates=CANDIDATES) as x:
                    want = x.convert(ep, sig).records
                got = fn(ep, sig, candidates=CANDIDATES)
                self.assertEqual([got] if got is not None else [], want)
            with Exporter("trl-kto") as x:
                self.assertEqual(formats.kto_records(ep, sig),
                                 x.convert(ep, sig).records)

    def test_from_a_pipeline_run(self):
        ep = Episode.from_json(EPISODES["team:4"])
        s = Pipeline(verifier_source="annotation").run(ep)
        labels = [r["label"] for r in formats.kto_records(ep, s)]
        self.assertEqual(labels, [True, True, False, True])
        self.assertEqual(formats.kto_records(ep, s),
                         formats.kto_records(ep, Signals.from_json(
                             SIGNALS["team:4"])))

    def test_old_arguments_are_refused(self):
        messages = [{"agent": 0, "content": "x"}]
        with self.assertRaises(TypeError):
            formats.kto_records(messages, [0.5])
        with self.assertRaises(AttributeError) as cm:
            formats.token_level_rewards   # noqa: B018
        self.assertIn("verl-tokens", str(cm.exception))


class JsonLines(unittest.TestCase):
    def test_round_trip(self):
        with Exporter("trl-dpo", candidates=CANDIDATES) as x:
            records = list(itertools.chain.from_iterable(
                x.convert(EPISODES[e], REPAIR[e]).records
                for e in EPISODES))
        records += [{"text": "ünïcødé"}]
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

    def test_refuses_non_json(self):
        with self.assertRaises(ValueError):
            formats.write_jsonl([{"x": math.nan}], io.StringIO())
        with self.assertRaises(TypeError):
            formats.write_jsonl([[1, 2]], io.StringIO())
        with self.assertRaises(TypeError):
            formats.read_jsonl(42)


if __name__ == "__main__":
    unittest.main()
