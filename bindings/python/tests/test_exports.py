"""Trainer exports from Python (agentcredit.exports) and the trainer hooks
(agentcredit.verl, agentcredit.openrlhf, agentcredit.areal).

Every format through Python equals `agentcredit export` on
tests/data/exports (records and skips, with and without options); the
edge cases of issue 15 on those fixtures and on episodes built here; the
errors; each hook against the upstream contract it serves, cited as
`path:line` at the commits of docs/exports-spec.md (verl 1dda039b,
OpenRLHF 3c3be623, AReaL cbff54d6, TRL f2cd5771). The trainers are not
installed: fakes reproduce the upstream signatures, and torch is a tiny
fake put into sys.modules."""

import contextlib
import importlib.util
import io
import json
import math
import subprocess
import sys
import tempfile
import types
import unittest

import support
from support import PYTHON_DIR, ROOT, cli_path, run_python

import agentcredit
from agentcredit import (Episode, Exporter, InvalidArgument, ParamOutOfBound,
                         ParseError, Pipeline, Signals, areal, exports,
                         formats, openrlhf, verl)

DATA = ROOT / "tests" / "data" / "exports"
EPISODES = (DATA / "episodes.jsonl").read_text().splitlines()
SIGNALS = (DATA / "signals.jsonl").read_text().splitlines()
REPAIR = (DATA / "signals-repair.jsonl").read_text().splitlines()
CANDIDATES = DATA / "candidates.json"
BY_ID = {json.loads(e)["id"]: k for k, e in enumerate(EPISODES)}
TOOLS = [{"type": "function", "function": {"name": "get_order_details",
                                           "parameters": {}}}]


def fixture(eid, repair=False):
    """(episode line, signals line) of one fixture episode."""
    k = BY_ID[eid]
    return EPISODES[k], (REPAIR if repair else SIGNALS)[k]


def run_cli(args, cwd):
    """`agentcredit export ARGS` with the fixtures' paths absolute:
    (records, report lines), both parsed."""
    report = "%s/report.jsonl" % cwd
    r = subprocess.run([cli_path(), "export", "-q", "--report", report]
                       + args, cwd=cwd, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise AssertionError("agentcredit export %s: %s"
                             % (" ".join(args), r.stderr))
    with open(report, encoding="utf-8") as f:
        skips = [json.loads(line) for line in f]
    return [json.loads(line) for line in r.stdout.splitlines()], skips


#: Option sets, as the CLI takes them and as Exporter does.
OPTIONS = [
    ([], {}),
    (["--agent", "critic", "--agent", "solver", "--placement", "spread",
      "--turn-discount", "0.9", "--empty-prompt", "system:You solve it.",
      "--no-speaker-prefix", "--group-sep", "-", "--data-source", "mine",
      "--tools", "tools.json"],
     {"agents": ["critic", "solver"], "placement": "spread",
      "turn_discount": 0.9, "empty_prompt": "You solve it.",
      "speaker_prefix": False, "group_sep": "-", "data_source": "mine",
      "tools": TOOLS}),
]


class SameAsTheCli(unittest.TestCase):
    """exports.export == `agentcredit export`, record for record and skip
    for skip, on every format, both signals files and two option sets."""

    @classmethod
    def setUpClass(cls):
        if cli_path() is None:
            raise unittest.SkipTest("no agentcredit CLI in this build")
        cls.tmp = tempfile.TemporaryDirectory()
        with open("%s/tools.json" % cls.tmp.name, "w") as f:
            json.dump(TOOLS, f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_format(self):
        self.assertEqual(len(exports.FORMATS), 12)
        for fmt in exports.FORMATS:
            for name, lines in (("signals.jsonl", SIGNALS),
                                ("signals-repair.jsonl", REPAIR)):
                for args, options in OPTIONS:
                    if fmt == "rllm" and args:   # its ids keep the ':'
                        at = args.index("--group-sep")
                        args = args[:at] + args[at + 2:]
                        options = {k: v for k, v in options.items()
                                   if k != "group_sep"}
                    with self.subTest(format=fmt, signals=name, args=args):
                        want, report = run_cli(
                            ["--to", fmt, "--episodes",
                             str(DATA / "episodes.jsonl"), "--candidates",
                             str(CANDIDATES)] + args + [str(DATA / name)],
                            self.tmp.name)
                        # the inputs in every form export() takes
                        sigs = [Signals.from_json(s) if k % 3 == 0 else
                                json.loads(s) if k % 3 == 1 else s
                                for k, s in enumerate(lines)]
                        eps = [json.loads(e) if k % 2 else e
                               for k, e in enumerate(EPISODES)]
                        got = agentcredit.export(
                            fmt, eps, sigs, candidates=CANDIDATES,
                            **options)
                        self.assertEqual(got.records, want)
                        self.assertEqual(
                            [{"id": s.episode, "format": fmt,
                              "reason": s.reason, "message": s.message,
                              "agent": s.agent} for s in got.skips], report)
                        self.assertGreater(len(want) + len(report), 0)
                        formats.write_jsonl(got.records, io.StringIO())

    def test_pipeline_signals_export_as_their_json(self):
        # Signals of a run (not read back) convert as their JSON line does
        ep = Episode.from_json(fixture("team:3")[0])
        pipe = Pipeline(verifier_source="annotation")
        s = pipe.run(ep)
        for fmt in ("trl-kto", "verl-tokens", "areal"):
            with Exporter(fmt) as x:
                self.assertEqual(x.convert(ep, s),
                                 x.convert(ep, pipe.to_json(ep)))


class EdgeCases(unittest.TestCase):
    """Issue 15's edge cases, on the fixtures (tests/data/exports/
    README.md says what each must give) and on episodes built here."""

    def convert(self, fmt, eid, repair=False, **options):
        with Exporter(fmt, candidates=CANDIDATES, **options) as x:
            return x.convert(*fixture(eid, repair))

    def test_step0_empty_prompt_is_skipped_or_given(self):
        # trl/data_utils.py:184-196: is_conversational pops a key of a
        # *set* and indexes its list's [0]: an empty prompt raises
        # IndexError when the set yields "prompt" first.
        got = self.convert("trl-dpo", "step0:0", repair=True)
        self.assertEqual(got.records, [])
        self.assertEqual(got.skips, [("empty_prompt", 0, "solver",
                                      "step0:0")])
        got = self.convert("trl-dpo", "step0:0", repair=True,
                           empty_prompt="Which is larger, 9.8 or 9.11?")
        self.assertEqual(got.records[0]["prompt"],
                         [{"role": "system",
                           "content": "Which is larger, 9.8 or 9.11?"}])
        # standard format: "" tokenizes (dpo_trainer.py:1042)
        std = self.convert("trl-dpo-standard", "step0:0", repair=True)
        self.assertEqual(std.records[0]["prompt"], "")
        kto = self.convert("trl-kto", "step0:0")
        self.assertIn(("empty_prompt", 0, "solver", "step0:0"), kto.skips)
        self.assertTrue(all(r["prompt"] for r in kto.records))

    def test_tool_messages_and_content_none(self):
        # trl docs/source/dataset_formats.md:141-155: tool_calls with
        # arguments an object; a tool message with its name
        rec = self.convert("trl-dpo", "tau-cancel:0", repair=True).records[0]
        call, tool = rec["prompt"][2], rec["prompt"][3]
        self.assertEqual((call["role"], call["content"]), ("assistant", ""))
        self.assertEqual(call["tool_calls"][0]["function"]["arguments"],
                         {"order_id": "#W123"})
        self.assertEqual((tool["role"], tool["name"], tool["tool_call_id"]),
                         ("tool", "get_order_details", "call_1"))
        self.assertEqual(rec["chosen"][0]["tool_calls"][0]["function"]
                         ["arguments"]["order_id"], "#W123")
        self.assertEqual(rec["rejected"][0]["tool_calls"][0]["function"]
                         ["arguments"]["order_id"], "#W124")

    def built_episode(self, arguments):
        """An episode built in Python: a call with content None and the
        given arguments text, the tool's answer, a final message."""
        ep = Episode(outcome=1.0, threshold=0.5)
        ep.id = "built:0"
        for name, kind in (("user", "user"), ("agent", "agent"),
                           ("tool:lookup", "tool")):
            ep.add_participant(name, kind)
        ep.add_message("user", "Find order 7.", role="user")
        call = ep.add_message("agent", None, role="assistant")
        ep.set_tool_calls(call, [{"id": "c1", "type": "function",
                                  "function": {"name": "lookup",
                                               "arguments": arguments}}])
        answer = ep.add_message("tool:lookup", "found", role="tool")
        ep.set_tool_call_id(answer, "c1")
        ep.set_message_name(answer, "lookup")
        ep.add_message("agent", "Order 7 is found.", role="assistant")
        ep.set_value(0, 0.0)
        return ep, Pipeline(method="exact").run(ep)

    def test_content_none_built_here(self):
        ep, s = self.built_episode('{"id": 7}')
        with Exporter("trl-kto") as x:
            recs = x.convert(ep, s).records
        self.assertEqual(recs[0]["completion"],
                         [{"role": "assistant", "content": "",
                           "tool_calls": [{"id": "c1", "type": "function",
                                           "function": {"name": "lookup",
                                                        "arguments":
                                                        {"id": 7}}}]}])
        self.assertEqual(recs[1]["prompt"][2],
                         {"role": "tool", "content": "found",
                          "name": "lookup", "tool_call_id": "c1"})
        # arguments that are not a JSON object: skipped, never a crash
        ep, s = self.built_episode("id=7")
        with Exporter("trl-kto") as x:
            got = x.convert(ep, s)
        self.assertIn("arguments_not_json", [k.reason for k in got.skips])

    def test_flags_are_lists_of_names(self):
        rows = self.convert("verl", "team:3").records
        flags = {r["extra_info"]["agentcredit"]["message"]:
                 r["extra_info"]["agentcredit"]["flags"] for r in rows}
        self.assertEqual(flags[8], ["redundant"])
        self.assertEqual(flags[4], [])
        out = io.StringIO()
        formats.write_jsonl(rows, out)
        self.assertIn('"flags": ["redundant"]', out.getvalue())

    def test_multi_agent_prm(self):
        # trl/experimental/prm/prm_trainer.py:331-342: int(label) on each
        # step's last token, -100 elsewhere; :55-71: -100 is ignored
        rec = self.convert("trl-prm", "team:3").records[0]
        self.assertEqual(rec["prompt"], "Sum the amounts per key.\n")
        self.assertEqual(len(rec["completions"]), 9)
        self.assertEqual(rec["labels"], [1, 1, -100, 0, 0, -100, -100, 0, 0])
        critic = self.convert("trl-prm", "team:3", agents=["critic"])
        self.assertEqual(critic.records[0]["completions"],
                         rec["completions"])
        self.assertEqual(critic.records[0]["labels"],
                         [-100, -100, -100, 0, -100, -100, -100, -100, -100])
        self.assertTrue(all(type(v) is int for v in rec["labels"]))

    def test_token_records(self):
        # verl agent_loop.py:1062-1068 puts a scalar on the last token;
        # verl-tokens replaces the row
        for fmt, key, mask in (("verl-tokens", "token_rewards",
                                "response_mask"),
                               ("skyrl", "rewards", "loss_mask")):
            rec = self.convert(fmt, "team:3", agents=["critic"]).records[0]
            self.assertEqual((rec["begin"], rec["length"]), (6, 65))
            self.assertEqual([k for k, m in enumerate(rec[mask]) if m],
                             list(range(21, 30)) + list(range(40, 49)))
            self.assertEqual([(k, v) for k, v in enumerate(rec[key]) if v],
                             [(29, -0.25)])
        spread = self.convert("verl-tokens", "team:3", agents=["critic"],
                              placement="spread").records[0]
        self.assertAlmostEqual(math.fsum(spread["token_rewards"]), -0.25,
                               delta=1e-15)
        self.assertEqual(self.convert("skyrl", "tau-cancel:0").skips[0]
                         .reason, "no_tokens")


class Errors(unittest.TestCase):
    def test_unknown_format(self):
        for bad in ("trl-ppo", 0, 99, agentcredit.ExportParam.PLACEMENT):
            with self.subTest(format=bad):
                with self.assertRaises((InvalidArgument, TypeError)) as cm:
                    Exporter(bad)
                if isinstance(cm.exception, InvalidArgument):
                    self.assertIn("trl-dpo", str(cm.exception))
        self.assertEqual(Exporter(agentcredit.ExportFormat.RLLM).format,
                         "rllm")
        self.assertEqual(Exporter(7).format, "verl-tokens")

    def test_bad_options(self):
        with self.assertRaises(ParamOutOfBound):
            Exporter("areal", turn_discount=1.5)
        with self.assertRaises(ParamOutOfBound):
            Exporter("skyrl", placement="first")
        with self.assertRaises(InvalidArgument) as cm:
            Exporter("trl-dpo", tools='{"not": "an array"}')
        self.assertIn("AC_EXPORT_PARAM_TOOLS", str(cm.exception))
        with self.assertRaises(InvalidArgument):
            Exporter("trl-dpo", agents=[""])

    def test_bad_candidates(self):
        bad = {"tau:0": {"7": {"role": "assistant", "tool_calls": 3}}}
        with self.assertRaises(ParseError) as cm:
            Exporter("trl-dpo", candidates=bad)
        self.assertIn('"tau:0"."7": tool_calls: an array is needed',
                      str(cm.exception))
        with self.assertRaises(ParseError):
            Exporter("trl-dpo", candidates="{not json")
        with Exporter("trl-dpo", candidates=CANDIDATES) as x:
            with self.assertRaises(ParseError):   # nothing changes
                x.load_candidates("[]")
            self.assertEqual(len(x.convert(*fixture("step0:1", True))
                                 .records), 1)

    def test_signals_of_another_episode(self):
        episode, _ = fixture("team:3")
        _, other = fixture("team:4")
        with Exporter("trl-kto") as x:
            with self.assertRaises(InvalidArgument) as cm:
                x.convert(episode, other)
        self.assertIn("the signals are not the episode's", str(cm.exception))
        # export joins by id: signals of team:4 under team:3's id
        posing = dict(json.loads(other), id="team:3")
        with self.assertRaises(InvalidArgument) as cm:
            agentcredit.export("trl-kto", EPISODES, [SIGNALS[0], posing])
        self.assertIn("signals[1] (id 'team:3'): the signals are not the "
                      "episode's", str(cm.exception))
        with self.assertRaises(ParseError):
            Exporter("trl-kto").convert(episode, "{}")
        with self.assertRaises(TypeError):
            Exporter("trl-kto").convert(episode, 42)

    def test_join_errors(self):
        nameless = json.loads(EPISODES[0])
        del nameless["id"]
        for eps, sigs, says in (
                ([nameless], SIGNALS[:1], 'episodes[0]: the episode has no '
                                          '"id"'),
                (EPISODES + EPISODES[:1], SIGNALS, "episodes[0] and "
                                                   "episodes[5]"),
                (EPISODES[1:], SIGNALS, "signals[0]: no episode with id "
                                        "'step0:0'")):
            with self.subTest(says=says):
                with self.assertRaises(InvalidArgument) as cm:
                    agentcredit.export("verl", eps, sigs)
                self.assertIn(says, str(cm.exception))

    def test_a_failed_conversion_names_its_signals(self):
        ep = json.loads(EPISODES[BY_ID["team:3"]])
        ep["id"] = "team:3:x"     # rLLM would split the group at ':'
        sig = json.loads(SIGNALS[BY_ID["team:3"]])
        sig["id"] = "team:3:x"
        with self.assertRaises(InvalidArgument) as cm:
            agentcredit.export("rllm", [ep], [sig], group_sep="-")
        self.assertIn("signals[0] (id 'team:3:x')", str(cm.exception))


# --------------------------------------------------------------------------
# fakes of the trainers' modules
# --------------------------------------------------------------------------

class FakeTensor:
    """What the hooks use of a torch tensor: the data, its shape."""

    def __init__(self, data, dtype=None):
        self.data, self.dtype = data, dtype
        shape, d = [], data
        while isinstance(d, list):
            shape.append(len(d))
            d = d[0] if d else None
        self.shape = tuple(shape)

    def tolist(self):
        return self.data


@contextlib.contextmanager
def fake_modules(**modules):
    """Puts modules into sys.modules for the block (None: absent)."""
    saved = {name: sys.modules.get(name) for name in modules}
    try:
        for name, module in modules.items():
            sys.modules[name] = module
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def fake_torch():
    torch = types.ModuleType("torch")
    torch.float32 = "float32"
    torch.tensor = FakeTensor
    return torch


class VerlScore(unittest.TestCase):
    """agentcredit.verl.compute_score as verl's naive reward manager calls
    it: compute_score(data_source=, solution_str=, ground_truth=,
    extra_info=) with the row's keys (verl/workers/reward_manager/
    naive.py:121-136) and result["score"] on the last token (:146,
    :153)."""

    def rows(self):
        with Exporter("verl") as x:
            return x.convert(*fixture("team:3")).records

    def call(self, row, solution):
        return verl.compute_score(
            data_source=row["data_source"], solution_str=solution,
            ground_truth=row["reward_model"]["ground_truth"],
            extra_info=dict(row["extra_info"], num_turns=1))

    def test_replay(self):
        row = next(r for r in self.rows()
                   if r["extra_info"]["agentcredit"]["message"] == 4)
        self.assertEqual(row["extra_info"]["agentcredit"]["key"],
                         "team:critic:0")
        logged = row["reward_model"]["ground_truth"]
        self.assertEqual(self.call(row, logged),
                         {"score": -0.25, "agentcredit_match": 1,
                          "agentcredit_reward": -0.25})
        self.assertEqual(self.call(row, "  %s\n" % logged.replace(" ", "  "))
                         ["score"], -0.25)
        self.assertEqual(self.call(row, "Something else."),
                         {"score": 0.0, "agentcredit_match": 0,
                          "agentcredit_reward": -0.25})
        for r in self.rows():   # every row: its own reward on its text
            self.assertEqual(self.call(r, r["reward_model"]["ground_truth"])
                             ["score"],
                             r["extra_info"]["agentcredit"]["reward"])

    def test_other_rows_go_to_verl(self):
        calls = []

        def default_compute_score(data_source, solution_str, ground_truth,
                                  extra_info=None, **kwargs):
            # verl/utils/reward_score/__init__.py:19-28
            calls.append((data_source, solution_str, ground_truth))
            return 1.0
        score = types.ModuleType("verl.utils.reward_score")
        score.default_compute_score = default_compute_score
        with fake_modules(verl=types.ModuleType("verl"),
                          **{"verl.utils": types.ModuleType("verl.utils"),
                             "verl.utils.reward_score": score}):
            self.assertEqual(verl.compute_score("openai/gsm8k", "42", "42",
                                                {"index": 3}), 1.0)
        self.assertEqual(calls, [("openai/gsm8k", "42", "42")])
        with fake_modules(verl=None, **{"verl.utils": None,
                                        "verl.utils.reward_score": None}):
            with self.assertRaises(ImportError) as cm:
                verl.compute_score("openai/gsm8k", "42", "42", {})
        self.assertIn("default_compute_score", str(cm.exception))
        with self.assertRaises(ValueError):
            verl.compute_score("agentcredit", "x", "x", {"index": 0})


class VerlTokens(unittest.TestCase):
    def record(self):
        with Exporter("verl-tokens", agents=["critic"]) as x:
            return x.convert(*fixture("team:3")).records[0]

    def test_fitted_to_the_response(self):
        rec = self.record()
        padded = verl.token_rewards(rec, 80)
        self.assertEqual(padded[:65], rec["token_rewards"])
        self.assertEqual(padded[65:], [0.0] * 15)
        # cutting zeros only is fine (a response truncated after the last
        # rewarded token); cutting a reward is an error naming it
        self.assertEqual(len(verl.token_rewards(rec, 30)), 30)
        with self.assertRaises(ValueError) as cm:
            verl.token_rewards(rec, 29)
        self.assertIn("position 29", str(cm.exception))
        with self.assertRaises(ValueError):
            verl.token_rewards([0.0, math.nan], 2)
        with Exporter("skyrl", agents=["critic"]) as x:
            sky = x.convert(*fixture("team:3")).records[0]
        self.assertEqual(verl.token_rewards(sky, 65), rec["token_rewards"])
        with self.assertRaises(ValueError):
            verl.token_rewards({"credit": 1.0}, 3)

    def test_agent_loop_worker(self):
        torch = fake_torch()

        class Output:
            def __init__(self, extra):
                self.extra_fields = extra

        class DataProto:
            def __init__(self, batch, meta_info):
                self.batch, self.meta_info = batch, meta_info

        class AgentLoopWorker:
            # verl/experimental/agent_loop/agent_loop.py:1026-1031: the
            # signature; :1062-1068: each trajectory's scalar on its last
            # valid response token, in a [bsz, response_length] float32
            def _postprocess(self, inputs, input_non_tensor_batch=None,
                             validate=False):
                self.seen = (len(inputs), input_non_tensor_batch, validate)
                T = 70
                rm = [[0.0] * T for _ in inputs]
                for row in rm:
                    row[T - 1] = 1.0
                return DataProto({"response_mask": FakeTensor(
                    [[1] * T for _ in inputs]), "rm_scores":
                    FakeTensor(rm, torch.float32)}, {"metrics": []})

        rec = self.record()
        Worker = verl.agent_loop_worker(AgentLoopWorker)
        self.assertTrue(issubclass(Worker, AgentLoopWorker))
        w = Worker()
        with fake_modules(torch=torch):
            out = w._postprocess([Output({verl.EXTRA_FIELD: rec}),
                                  Output({verl.EXTRA_FIELD:
                                          rec["token_rewards"][:40]})],
                                 input_non_tensor_batch={"k": 1},
                                 validate=True)
            self.assertEqual(w.seen, (2, {"k": 1}, True))
            rows = out.batch["rm_scores"].tolist()
            self.assertEqual(out.batch["rm_scores"].dtype, "float32")
            self.assertEqual(rows[0], verl.token_rewards(rec, 70))
            self.assertEqual(rows[1], [0.0] * 29 + [-0.25] + [0.0] * 40)
            self.assertAlmostEqual(math.fsum(rows[0]), rec["credit"],
                                   delta=1e-15)
            # no row carries the field: verl's scalars stay
            out = w._postprocess([Output({}), Output({})])
            self.assertEqual(out.batch["rm_scores"].tolist()[0][-1], 1.0)
            with self.assertRaises(ValueError):
                w._postprocess([Output({verl.EXTRA_FIELD: rec}),
                                Output({})])


class OpenRLHF(unittest.TestCase):
    """agentcredit.openrlhf.reward_func as OpenRLHF calls it:
    reward_func(queries, prompts, labels) (openrlhf/utils/agent.py:
    313-318), the query decoded with special tokens (:283); rewards,
    scores and extra_logs read back (:288-297)."""

    def rows(self):
        with Exporter("openrlhf") as x:
            return x.convert(*fixture("team:3")).records

    def test_replay(self):
        rows = self.rows()
        self.assertTrue(all(set(r) == {"input", "label"} for r in rows))
        prompts = ["<chat %d>" % k for k in range(len(rows))]
        labels = [r["label"] for r in rows]
        infos = [json.loads(lab) for lab in labels]
        queries = [p + i["response"] + "<|im_end|>"
                   for p, i in zip(prompts, infos)]
        queries[1] = prompts[1] + "something else"
        with fake_modules(torch=fake_torch()):
            out = openrlhf.reward_func(queries, prompts, labels)
        want = [i["reward"] for i in infos]
        want[1] = 0.0
        self.assertEqual(out["rewards"].tolist(), want)
        self.assertEqual(out["rewards"].dtype, "float32")
        self.assertEqual(out["scores"].tolist(),
                         [min(1.0, max(0.0, (r + 1) / 2)) for r in want])
        self.assertEqual(out["extra_logs"]["agentcredit_match"].tolist(),
                         [1.0, 0.0] + [1.0] * (len(rows) - 2))
        # the agent's rows add up to its credit (agent.py:119 sums steps)
        critic = [i for i in infos if i["agent"] == "critic"]
        self.assertAlmostEqual(math.fsum(i["reward"] for i in critic),
                               critic[0]["credit"], delta=1e-15)
        with fake_modules(torch=fake_torch()):
            with self.assertRaises(ValueError) as cm:
                openrlhf.reward_func(["q"], ["p"], ["0.5"])
            self.assertIn("labels[0]", str(cm.exception))


def close(test, got, want, tol=1e-12):
    test.assertEqual(len(got), len(want))
    for g, w in zip(got, want):
        test.assertAlmostEqual(g, w, delta=tol)


class AReaL(unittest.TestCase):
    """agentcredit.areal against AReaL's backward pass
    (areal/experimental/openai/cache.py:256: current = current * g +
    reward, walked from the last completion)."""

    def record(self, g):
        with Exporter("areal", turn_discount=g) as x:
            return x.convert(*fixture("tau-cancel:0")).records[0]

    def test_the_pass_gives_back_the_rewards(self):
        for g in (1.0, 0.9, 0.0):
            rec = self.record(g)
            close(self, rec["rewards"], [0.075, -0.475, -0.1])
            close(self, areal.check_backward(rec), rec["rewards"])
        close(self, self.record(1.0)["set_rewards"], [0.55, -0.375, -0.1])
        rec = self.record(0.9)
        self.assertAlmostEqual(rec["set_rewards"][0], 0.075 + 0.9 * 0.475,
                               delta=1e-15)
        ids = ["chatcmpl-a", "chatcmpl-b", "chatcmpl-c"]
        self.assertEqual(areal.completion_rewards(ids, rec),
                         dict(zip(ids, rec["set_rewards"])))

    def test_mismatches_are_errors(self):
        rec = self.record(0.9)
        with self.assertRaises(ValueError):
            areal.completion_rewards(["a", "b"], rec)
        with self.assertRaises(ValueError):
            areal.completion_rewards(["a", "a", "b"], rec)
        with self.assertRaises(ValueError):
            areal.completion_rewards(["a", "b", "c"], rec, turn_discount=1.0)
        with self.assertRaises(ValueError):   # the raw rewards do not
            areal.check_backward(dict(rec, set_rewards=rec["rewards"]))


class Standalone(unittest.TestCase):
    """The hooks load from their files alone, as the trainers load them
    (verl/utils/import_utils.py:125-133, openrlhf/utils/agent.py:197-200):
    no package, no library."""

    def test_loaded_from_the_file(self):
        code = (
            "import importlib.util, sys\n"
            "for name in ('verl', 'openrlhf', 'areal'):\n"
            "    spec = importlib.util.spec_from_file_location(\n"
            "        'reward_func', sys.argv[1] + '/' + name + '.py')\n"
            "    m = importlib.util.module_from_spec(spec)\n"
            "    spec.loader.exec_module(m)\n"
            "    print(name, sorted(m.__all__))\n"
            "print('agentcredit' in sys.modules, 'torch' in sys.modules)\n"
            "print(m.check_backward({'turn_discount': 1.0,\n"
            "    'set_rewards': [0.5, -0.25], 'rewards': [0.25, -0.25]}))\n")
        r = run_python(code, env_remove=("AGENTCREDIT_LIB",),
                       env_update={"PYTHONPATH": ""}, cwd="/",
                       args=(str(PYTHON_DIR / "agentcredit"),))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("False False\n[0.25, -0.25]", r.stdout)


if __name__ == "__main__":
    unittest.main()
