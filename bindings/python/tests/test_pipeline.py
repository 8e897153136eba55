"""Episodes and the pipeline: an episode reads back as it was given and
refuses what is malformed; one run gives every signal, with the credits
adding up to R - reference and a non-player's messages never rewarded;
the annotation verifier finds the labelled first error; the three objects'
parameters route by name (prefixed where a bare name is ambiguous); errors
carry the library's message; Signals.to_dict() is JSON. The team is the
one of tests/unit/test_pipeline.c."""

import dataclasses
import json
import math
import threading
import unittest

from support import HAVE_NUMPY, agentcredit, conserved, shapley_brute

from agentcredit import (BudgetError, Busy, CallbackError, Episode,
                         Estimator, FirstError, InvalidArgument,
                         ParamOutOfBound, ParamUnsupported, Pipeline,
                         PreferencePair, Signals, StateError, TooLarge)

PLANNER, CODER, CRITIC, TOOL, USER = range(5)
NAMES = ["planner", "coder", "critic", "pytest", "user"]
KINDS = ["agent", "agent", "agent", "tool", "user"]
N_AGENTS = 3
# (who, text, on track: does the hidden check pass on messages 0..t?)
SCRIPT = [
    (USER, "Sum the amounts per key.", True),
    (PLANNER, "Plan: group by key, then sum.", True),
    (CODER, "def totals(rows): ...", True),
    (TOOL, "tests: 3 passed", True),
    (CRITIC, "Cast amounts to int, it is faster.", False),
    (CODER, "Applied the cast.", False),
    (TOOL, "tests: 1 failed", False),
    (CRITIC, "Revert the cast: amounts stay Decimal.", True),
    (PLANNER, "Final: totals() with Decimal sums.", True),
    (PLANNER, "Final: totals() with Decimal sums.", True),
]
N_MSG = len(SCRIPT)


def team_episode(outcome):
    ep = Episode()
    for i, (name, kind) in enumerate(zip(NAMES, KINDS)):
        if i == TOOL:
            kind = agentcredit.ParticipantKind.TOOL     # a member works too
        assert ep.add_participant(name, kind) == i
    for t, (who, text, _) in enumerate(SCRIPT):
        role = "tool" if who == TOOL else "assistant"
        # by index, or by name
        by = NAMES[who] if t % 2 else who
        assert ep.add_message(by, text, role=role) == t
    ep.outcome = outcome
    return ep


def team_value(s):
    """v(S) over the agents: each helps, the three together more."""
    v = 0.05 + sum(w for a, w in enumerate((0.3, 0.25, 0.1)) if s >> a & 1)
    return v + 0.2 if s == 7 else v


def team_oracle(coalitions):
    return [team_value(c) for c in coalitions]


def check_verifier(prefixes):
    return [1.0 if SCRIPT[p][2] else 0.0 for p in prefixes]


def propose(step, max_count):
    return [10 + k for k in range(min(max_count, 2))]


def judge(step, ids):
    return [0.9 if i == 11 else 0.1 for i in ids]


def author_of(t):
    who = SCRIPT[t][0]
    return who if who < N_AGENTS else None


class TheEpisode(unittest.TestCase):
    def test_reads_back(self):
        ep = team_episode(0.25)
        self.assertEqual((ep.n_participants, ep.n_agents, ep.n_messages),
                         (5, 3, N_MSG))
        self.assertEqual(ep.participants[TOOL], ("pytest", "tool", None))
        self.assertEqual(ep.participant("critic"),
                         agentcredit.Participant("critic", "agent", 2))
        self.assertEqual(ep.agent_of("critic"), 2)
        self.assertEqual(ep.agent_of(CODER), 1)
        self.assertIsNone(ep.agent_of(TOOL))
        self.assertIsNone(ep.agent_of("user"))
        m = ep.messages[3]
        self.assertEqual(m, (TOOL, "tool", SCRIPT[3][1], None, None))
        self.assertEqual((m.participant, m.role, m.text), (TOOL, "tool",
                                                          SCRIPT[3][1]))
        ep.set_parent(5, 2)
        ep.set_token_span(5, 100, 140)
        self.assertEqual(ep.message(5).parent, 2)
        self.assertEqual(ep.message(5).token_span, (100, 140))
        ep.set_parent(5, None)
        ep.set_token_span(5, None)
        self.assertEqual(ep.message(5)[3:], (None, None))

        self.assertEqual(ep.outcome, 0.25)
        self.assertEqual(ep.threshold, 0.5)
        self.assertIsNone(ep.reference)
        self.assertIsNone(ep.baseline)
        ep.reference = 0.4
        ep.baseline = 0
        self.assertEqual((ep.reference, ep.baseline), (0.4, 0.0))
        ep.reference = None
        ep.baseline = None
        self.assertEqual((ep.reference, ep.baseline), (None, None))
        ep.threshold = 0.7
        self.assertEqual(ep.threshold, 0.7)
        with self.assertRaises(TypeError):
            ep.outcome = None

        ep.set_value(0b101, 0.3)
        ep.set_value([0, 2], 0.35)            # the same coalition: replaced
        ep.set_value([], 0.05)
        self.assertEqual(ep.known_values, {5: 0.35, 0: 0.05})

        ep.set_label(4, -0.75)
        self.assertEqual(ep.labels, [-0.75 if t == 4 else None
                                     for t in range(N_MSG)])
        self.assertIsNone(ep.first_error_label)
        ep.first_error_label = 4
        self.assertEqual(ep.first_error_label, 4)
        ep.first_error_label = None
        self.assertIsNone(ep.first_error_label)
        self.assertIn("agents=3", repr(ep))
        ep.close()
        self.assertTrue(ep.closed)

    def test_keywords_and_text(self):
        with Episode(outcome=1.0, threshold=0.8, reference=0.6,
                     baseline=0.1) as ep:
            self.assertEqual((ep.outcome, ep.threshold, ep.reference,
                              ep.baseline), (1.0, 0.8, 0.6, 0.1))
            ep.add_participant("żółw", "agent")
            ep.add_participant("env", agentcredit.ParticipantKind.ENVIRONMENT)
            ep.add_participant("sys", "system")
            ep.add_message("żółw", "naïve — ✓", role="assistant")
            ep.add_message("env", b"bytes ok")
            ep.add_message(0)                  # no text, no role
            self.assertEqual(ep.messages[0].text, "naïve — ✓")
            self.assertEqual(ep.messages[1].text, "bytes ok")
            self.assertEqual(ep.messages[2][1:3], (None, None))
            self.assertEqual([p.kind for p in ep.participants],
                             ["agent", "environment", "system"])

    def test_refuses_what_is_malformed(self):
        ep = team_episode(1.0)
        for name, kind, exc, says in (
                ("", "agent", InvalidArgument, "non-empty"),
                ("coder", "agent", InvalidArgument, "already"),
                ("judge", "referee", InvalidArgument, "unknown"),
                ("judge", 9, InvalidArgument, "unknown kind"),
                ("judge", agentcredit.Method.EXACT, TypeError, "Method")):
            with self.subTest(name=name, kind=kind):
                with self.assertRaises(exc) as cm:
                    ep.add_participant(name, kind)
                self.assertIn(says, str(cm.exception))
        with self.assertRaises(TypeError):
            ep.add_participant(None)
        with self.assertRaises(InvalidArgument):
            ep.add_participant("a\0b")
        with self.assertRaises(InvalidArgument):
            ep.add_message("judge", "x")       # no such name
        with self.assertRaises(InvalidArgument):
            ep.add_message(5, "x")             # no such index
        with self.assertRaises(InvalidArgument):
            ep.add_message(0, "x\0y")
        with self.assertRaises(InvalidArgument) as cm:
            ep.set_label(3, 0.5)               # the tool's
        self.assertIn("pytest", str(cm.exception))
        for t, label in ((1, 1.5), (1, math.nan), (N_MSG, 0.5)):
            with self.assertRaises(InvalidArgument):
                ep.set_label(t, label)
        with self.assertRaises(InvalidArgument):
            ep.first_error_label = 0           # the user's
        with self.assertRaises(InvalidArgument):
            ep.set_parent(3, 3)
        with self.assertRaises(InvalidArgument):
            ep.set_token_span(3, 9, 4)
        with self.assertRaises(InvalidArgument):
            ep.outcome = math.nan
        with self.assertRaises(InvalidArgument):
            ep.reference = math.inf
        with self.assertRaises(InvalidArgument):
            ep.set_value(8, 0.1)               # agent 3 does not exist
        with self.assertRaises(InvalidArgument):
            ep.set_value(1, math.nan)
        ep.set_value(1, 0.1)
        with self.assertRaises(StateError) as cm:
            ep.add_participant("late", "agent")
        self.assertIn("add every agent first", str(cm.exception))
        self.assertEqual(ep.add_participant("db", "tool"), 5)
        self.assertEqual((ep.n_participants, ep.n_agents, ep.n_messages),
                         (6, 3, N_MSG))
        self.assertEqual(ep.outcome, 1.0)
        with Episode() as empty, self.assertRaises(InvalidArgument):
            empty.set_value(0, 0.1)            # no agent yet


class Run(unittest.TestCase):
    def assert_invariants(self, s, outcome, reference):
        self.assertIsInstance(s, Signals)
        self.assertEqual(s.reference, reference)
        self.assertEqual(s.total, outcome - reference)
        self.assertTrue(conserved(s.credits, s.total),
                        (math.fsum(s.credits), s.total))
        self.assertEqual(len(s.credits), N_AGENTS)
        self.assertEqual(len(s.rewards), N_MSG)
        for a in range(N_AGENTS):
            mine = [s.rewards[t] for t in range(N_MSG) if author_of(t) == a]
            self.assertTrue(conserved(mine, s.credits[a]), a)
        for t in range(N_MSG):
            non_player = author_of(t) is None
            self.assertEqual(bool(s.message_flags[t] &
                                  agentcredit.MESSAGE_FLAG_NON_PLAYER),
                             non_player, t)
            if non_player:
                self.assertEqual(s.rewards[t], 0.0)
                self.assertTrue(math.isnan(s.labels[t]))
                self.assertIn("non_player", s.message_flag_names()[t])

    def test_success_with_scorer(self):
        ep = team_episode(1.0)
        ep.set_label(2, 1.0)
        asked = []

        def scorer(messages):
            asked.extend(messages)
            for t in messages:
                self.assertIsNotNone(author_of(t), t)
            return [0.5 if SCRIPT[t][2] else -0.5 for t in messages]
        pipe = Pipeline(oracle=team_oracle, scorer=scorer,
                        verifier=check_verifier)
        s = pipe.run(ep)
        self.assert_invariants(s, 1.0, 0.5)
        # agents' messages only, never the given one or the repeat
        self.assertEqual(sorted(asked), [1, 4, 5, 7, 8])
        self.assertEqual(s.labels[2], 1.0)
        self.assertIn("redundant", s.message_flag_names()[9])
        self.assertIsNone(s.first_error)
        self.assertFalse(s.pair)
        self.assertEqual((s.pair.kind, s.pair.reason),
                         ("none", "not_localized"))
        self.assertEqual(s.audit, {
            "success": True, "localized": False, "labels": "scorer",
            "reference_given": False, "method": "exact",
            "oracle_evaluations": 7, "verifier_evaluations": 0,
            "scorer_evaluations": 5, "relaxed_agents": 0})
        self.assertTrue(all(c > 0 for c in s.credits), s.credits)
        self.assertEqual(s.step_flags, [0] * N_MSG)
        self.assertEqual(pipe.audit(), s.audit)
        self.assertEqual(pipe.signals().to_dict(), s.to_dict())

    def test_credits_add_up_to_outcome_minus_reference(self):
        cases = [(0.0, None, None), (0.0, 0.2, None), (1.0, None, None),
                 (1.0, 0.8, 0.0), (0.3, 0.3, 0.3), (0.0, None, 0.0)]
        pipe = Pipeline(oracle=team_oracle)
        for outcome, reference, baseline in cases:
            with self.subTest(outcome=outcome, reference=reference,
                              baseline=baseline):
                ep = team_episode(outcome)
                ep.reference = reference
                ep.baseline = baseline
                s = pipe.run(ep)
                ref = 0.5 if reference is None else reference
                self.assert_invariants(s, outcome, ref)
                table = [team_value(m) for m in range(8)]
                table[7] = outcome
                if baseline is not None:
                    table[0] = baseline
                exact = shapley_brute(3, table.__getitem__)
                shift = (outcome - ref - (table[7] - table[0])) / 3
                for a in range(3):
                    self.assertAlmostEqual(s.credits[a], exact[a] + shift,
                                           delta=1e-14)
                if outcome < ref:
                    self.assertLess(math.fsum(s.credits), 0.0)
                if outcome > ref:
                    self.assertGreater(math.fsum(s.credits), 0.0)
                self.assertEqual(s.audit["reference_given"],
                                 reference is not None)
                self.assertEqual(s.audit["success"], outcome >= 0.5)
                self.assertEqual(s.audit["labels"], "neutral")

    def test_failure_localized_by_annotation(self):
        ep = team_episode(0.0)
        ep.first_error_label = 4
        pipe = Pipeline(verifier_source="annotation", episode_id=77,
                        oracle=team_oracle, repair=(propose, judge))
        s = pipe.run(ep)
        self.assert_invariants(s, 0.0, 0.5)
        self.assertEqual(s.first_error, FirstError(4, 2, 1.0))
        self.assertIn("first_error", s.step_flag_names()[4])
        self.assertLess(s.labels[4], 0.0)
        self.assertLessEqual(s.rewards[4], 0.0)
        self.assertIsInstance(s.pair, PreferencePair)
        self.assertEqual((s.pair.kind, s.pair.chosen, s.pair.step,
                          s.pair.agent, s.pair.episode),
                         ("repair", 11, 4, 2, 77))
        self.assertTrue(s.audit["localized"])
        self.assertEqual(s.audit["labels"], "blame")
        # without the annotation, no localization
        ep.first_error_label = None
        s = pipe.run(ep)
        self.assertIsNone(s.first_error)
        self.assertEqual(s.pair.reason, "not_localized")

    def test_failure_localized_by_the_verifier_equals_the_localizer(self):
        ep = team_episode(0.0)
        ep.reference = 0.35
        pipe = Pipeline(oracle=team_oracle, verifier=check_verifier,
                        monotone=False, bound=0.3, seed=5)
        pipe.set_repair(propose, judge)
        s = pipe.run(ep)
        self.assert_invariants(s, 0.0, 0.35)
        # the localizer by hand, over the agents' messages: prefix k ends
        # where the next agent message begins
        mine = [t for t in range(N_MSG) if author_of(t) is not None]
        ends = [mine[k + 1] - 1 if k + 1 < len(mine) else N_MSG - 1
                for k in range(len(mine))]
        loc = agentcredit.Localizer(len(mine), monotone=False,
                                    authors=[author_of(t) for t in mine])
        first = loc.run(lambda ks: check_verifier([ends[k] for k in ks]))
        self.assertEqual(mine[first.step], s.first_error.step)
        self.assertEqual((first.agent, first.probability),
                         (s.first_error.agent, s.first_error.probability))
        self.assertEqual(s.first_error.step, 4)
        flags = dict(zip(mine, loc.step_flags()))
        self.assertEqual([flags.get(t, 0) for t in range(N_MSG)],
                         s.step_flags)
        loc.set_repair(lambda k, n: propose(mine[k], n),
                       lambda k, ids: judge(mine[k], ids))
        pair = loc.make_pair(0)
        self.assertEqual((mine[pair.step], pair.chosen, pair.agent,
                          pair.weight),
                         (s.pair.step, s.pair.chosen, s.pair.agent,
                          s.pair.weight))
        blame = loc.blame_labels()
        # the refiner by hand, over the agents' messages
        ref = agentcredit.Refiner(N_AGENTS, len(mine), bound=0.3,
                                  authors=[author_of(t) for t in mine],
                                  credits=s.credits,
                                  texts=[SCRIPT[t][1] for t in mine],
                                  labels=blame)
        rewards = ref.run()
        self.assertEqual([s.rewards[t] for t in mine], rewards)
        self.assertEqual(s.audit["labels"], "blame")
        self.assertGreater(s.audit["verifier_evaluations"], 0)

    @unittest.skipUnless(HAVE_NUMPY, "numpy is not importable")
    def test_numpy(self):
        import numpy as np
        s = Pipeline(oracle=team_oracle).run(team_episode(1.0),
                                             as_numpy=True)
        for field in (s.credits, s.se, s.rewards, s.labels):
            self.assertIsInstance(field, np.ndarray)
            self.assertEqual(field.dtype, np.float64)
        json.dumps(s.to_dict(), allow_nan=False)

    def test_to_dict_is_json(self):
        ep = team_episode(0.0)
        ep.first_error_label = 4
        s = Pipeline(oracle=team_oracle, verifier_source="annotation",
                     repair=(propose, judge)).run(ep)
        d = s.to_dict()
        text = json.dumps(d, allow_nan=False)
        back = json.loads(text)
        self.assertEqual(back, d)
        self.assertEqual(list(d), [
            "format", "outcome", "threshold", "reference", "total",
            "agents", "messages", "first_error", "pair", "audit"])
        self.assertEqual(d["format"], "agentcredit.signals/1")
        self.assertIsNone(d["messages"][0]["label"])   # the user's: NaN
        self.assertEqual(d["messages"][3]["flags"], ["non_player"])
        self.assertEqual(d["messages"][9]["flags"], ["redundant"])
        self.assertEqual(d["messages"][4]["step_flags"], ["first_error"])
        critic = next(p.name for p in ep.participants if p.agent == 2)
        self.assertEqual(d["first_error"], {"message": 4, "agent": critic,
                                            "probability": 1.0})
        self.assertEqual(d["pair"]["kind"], "repair")
        self.assertEqual(d["pair"]["agent"], critic)
        self.assertEqual(d["audit"]["labels"], "blame")
        self.assertEqual([a["credit"] for a in d["agents"]], s.credits)
        # a success: no first error
        d = Pipeline(oracle=team_oracle).run(team_episode(1.0)).to_dict()
        self.assertIsNone(d["first_error"])
        json.dumps(d, allow_nan=False)

    def test_to_dict_and_to_json_are_the_signals_format(self):
        """One shape (issue 14): Signals.to_dict() is what
        json.loads(pipe.to_json(episode)) gives, key for key and value for
        value, and Signals.to_json() is its text; for a failure with a
        pair, a success, numpy results and pipe.signals() again."""
        failed = team_episode(0.0)
        failed.id = "ep-1"
        pipe = Pipeline(oracle=team_oracle, verifier=check_verifier,
                        repair=(propose, judge), localizer_monotone=0)
        for ep, as_numpy in ((failed, False), (team_episode(1.0), False),
                             (failed, True)):
            with self.subTest(outcome=ep.outcome, as_numpy=as_numpy):
                s = pipe.run(ep, as_numpy=as_numpy)
                want = json.loads(pipe.to_json(ep))
                self.assertEqual(s.to_dict(), want)
                self.assertEqual(list(s.to_dict()), list(want))
                self.assertEqual(json.loads(s.to_json()), want)
                self.assertNotIn("\n", s.to_json())
                self.assertEqual(pipe.signals().to_dict(), want)
        self.assertEqual(want["id"], "ep-1")
        self.assertEqual(want["pair"]["kind"], "repair")

    def test_interactions_reach_the_signals(self):
        """With estimator_interactions=1 the Signals carry the interaction
        of every agent pair (n x n, NaN diagonal) as the estimator gives
        them, in to_dict()/to_json() exactly as the C writer puts them, and
        read back by Signals.from_json; without it, None and no key."""
        ep = team_episode(1.0)
        plain = Pipeline(oracle=team_oracle).run(ep)
        self.assertIsNone(plain.interactions)
        self.assertNotIn("interactions", plain.to_dict())
        pipe = Pipeline(oracle=team_oracle, estimator_interactions=1)
        s = pipe.run(ep)
        index, se = s.interactions
        n = len(s.credits)
        self.assertEqual(len(index), n)
        for i in range(n):
            self.assertTrue(math.isnan(index[i][i]))
            for j in range(n):
                if i != j:
                    self.assertEqual(index[i][j], index[j][i])
                    self.assertEqual(se[i][j], 0.0)
        want = json.loads(pipe.to_json(ep))
        self.assertEqual(s.to_dict(), want)
        self.assertEqual(list(s.to_dict()), list(want))
        self.assertEqual(len(want["interactions"]), n * (n - 1) // 2)
        self.assertEqual(want["interactions"][0]["index"], index[0][1])
        back = agentcredit.Signals.from_json(pipe.to_json(ep))
        self.assertEqual(back.to_dict(), want)
        # pair (0, 1) by hand: the oracle's game with v(all) the outcome,
        # weights |S|! (n - |S| - 2)! / (n - 1)! = 1/2 for S = {} and {2}
        self.assertEqual(n, 3)
        v = [team_value(c) for c in range(7)] + [ep.outcome]
        by_hand = 0.5 * (v[3] - v[1] - v[2] + v[0]) + \
            0.5 * (v[7] - v[5] - v[6] + v[4])
        self.assertAlmostEqual(index[0][1], by_hand, places=14)

    def test_to_dict_needs_a_run(self):
        s = Pipeline(oracle=team_oracle).run(team_episode(1.0))
        bare = dataclasses.replace(s, _names=None)
        with self.assertRaises(ValueError):
            bare.to_dict()

    def test_a_candidate_id_past_int64_is_its_digits(self):
        """As the C writer: a candidate id of 2^63 or more is a string of
        its digits in both forms, never a negative number."""
        big = (1 << 64) - 1

        def big_propose(step, max_count):
            return [big - 1, big][:max_count]

        def big_judge(step, ids):
            return [0.9 if i == big else 0.1 for i in ids]
        ep = team_episode(0.0)
        pipe = Pipeline(oracle=team_oracle, verifier=check_verifier,
                        repair=(big_propose, big_judge),
                        localizer_monotone=0)
        s = pipe.run(ep)
        self.assertEqual(s.pair.chosen, big)
        self.assertEqual(json.loads(pipe.to_json(ep))["pair"]["chosen"],
                         str(big))
        self.assertEqual(s.to_dict()["pair"]["chosen"], str(big))

    def test_a_game_as_the_oracle(self):
        game = agentcredit.Game({"n": 3, "values": [team_value(m)
                                                    for m in range(8)]})
        by_game = Pipeline(oracle=game).run(team_episode(1.0))
        by_python = Pipeline(oracle=team_oracle).run(team_episode(1.0))
        self.assertEqual(by_game.credits, by_python.credits)
        small = agentcredit.Game({"n": 2, "values": [0, 1, 1, 2]})
        with self.assertRaises(InvalidArgument) as cm:
            Pipeline(oracle=small).run(team_episode(1.0))
        self.assertIn("2 players", str(cm.exception))

    def test_known_values_cost_nothing(self):
        ep = Episode(outcome=1.0, baseline=0.0)
        ep.add_participant("solo")
        ep.add_participant("duo")
        ep.add_message("solo", "hi")
        ep.add_message("duo")
        with self.assertRaises(StateError) as cm:
            Pipeline().run(ep)                 # no oracle: v({solo})?
        self.assertTrue(cm.exception.detail.startswith("credit: "),
                        cm.exception.detail)
        ep.set_value([0], 0.7)
        ep.set_value([1], 0.1)
        s = Pipeline().run(ep)
        self.assertTrue(conserved(s.credits, 0.5))
        self.assertEqual(s.audit["oracle_evaluations"], 0)


class Json(unittest.TestCase):
    def test_episode_round_trip(self):
        ep = team_episode(0.0)
        ep.id = "who&when/17"
        ep.reference = 0.4
        ep.set_parent(5, 4)
        ep.set_token_span(5, 120, 131)
        ep.set_label(7, 0.1 + 0.2)
        ep.first_error_label = 4
        ep.set_value([0, 1], 1 / 3)
        text = ep.to_json()
        back = Episode.from_json(text, strict=True)
        self.assertEqual(back.to_json(), text)
        self.assertEqual(back.id, "who&when/17")
        self.assertEqual(back.participants, ep.participants)
        self.assertEqual(back.messages, ep.messages)
        self.assertEqual(back.labels[7], 0.1 + 0.2)
        self.assertEqual(back.known_values, {3: 1 / 3})
        self.assertEqual(back.first_error_label, 4)
        self.assertEqual(back.warnings, [])
        # names work on a loaded episode as on a built one
        self.assertEqual(back.add_message("coder", "more"), N_MSG)
        json.loads(text)

    def test_tool_keys(self):
        MessageTools = agentcredit.episode.MessageTools
        ep = team_episode(0.0)
        self.assertEqual(ep.message_tools(2), MessageTools(None, None, None))
        calls = [{"id": "call_1", "type": "function",
                  "function": {"name": "pytest",
                               "arguments": '{"k":  "caf\u00e9"}'}},
                 {"function": {"arguments": {"b": [1, 2.5], "a": None},
                               "name": "lint"}}]
        ep.set_tool_calls(2, calls)
        ep.set_tool_call_id(3, "call_1")
        ep.set_message_name(3, "pytest")
        want = [calls[0], {"type": "function",
                           "function": {"name": "lint",
                                        "arguments": {"b": [1, 2.5],
                                                      "a": None}}}]
        self.assertEqual(ep.message_tools(2), (want, None, None))
        self.assertEqual(ep.message_tools(3),
                         MessageTools(None, "call_1", "pytest"))
        # the arguments string as given, character for character
        self.assertEqual(ep.message_tools(2).tool_calls[0]["function"]
                         ["arguments"], '{"k":  "caf\u00e9"}')
        text = ep.to_json()
        self.assertIn('"tool_call_id":"call_1","name":"pytest"', text)
        back = Episode.from_json(text, strict=True)
        self.assertEqual(back.to_json(), text)
        self.assertEqual([back.message_tools(t) for t in range(N_MSG)],
                         [ep.message_tools(t) for t in range(N_MSG)])
        self.assertEqual(back.messages, ep.messages)
        # JSON text works too; None and [] remove
        ep.set_tool_calls(4, b'[{"function": {"name": "f", '
                             b'"arguments": "{}"}}]')
        self.assertEqual(ep.message_tools(4).tool_calls[0]["function"],
                         {"name": "f", "arguments": "{}"})
        ep.set_tool_calls(4, [])
        ep.set_tool_calls(2, None)
        ep.set_tool_call_id(3, None)
        ep.set_message_name(3, None)
        for t in (2, 3, 4):
            self.assertEqual(ep.message_tools(t), (None, None, None))
        # refused, naming what: nothing changes
        ep.set_tool_calls(2, calls)
        for bad, says in (
                ([{"function": {"name": "", "arguments": ""}}],
                 "tool_calls[0].function.name: the function's name is "
                 "empty"),
                ([{"function": {"name": "f"}}],
                 "tool_calls[0].function.arguments"),
                ([{"index": 0, "function": {"name": "f", "arguments": ""}}],
                 'unknown key "index"'),
                ({"function": {}}, "tool_calls: an array"),
                ([float("nan")], "tool_calls: not JSON"),
                ("[", "tool_calls: line 1")):
            with self.assertRaises(InvalidArgument) as cm:
                ep.set_tool_calls(2, bad)
            self.assertIn(says, str(cm.exception))
        with self.assertRaises(InvalidArgument):
            ep.set_tool_call_id(3, "")
        with self.assertRaises(InvalidArgument):
            ep.set_message_name(3, "a\0b")
        with self.assertRaises(InvalidArgument):
            ep.message_tools(N_MSG)
        with self.assertRaises(InvalidArgument):
            ep.set_tool_call_id(N_MSG, "x")
        self.assertEqual(ep.message_tools(2).tool_calls, want)
        # the keys load with no warning
        ep2 = Episode.from_json(
            '{"participants": [{"name": "a"}], "messages": [{"from": "a", '
            '"text": null, "tool_calls": [{"id": "c", "function": {"name": '
            '"f", "arguments": "{}"}}]}, {"from": "a", "tool_call_id": "c", '
            '"name": "f"}], "outcome": 1}')
        self.assertEqual(ep2.warnings, [])
        self.assertEqual(ep2.message_tools(1), (None, "c", "f"))

    def test_errors_and_warnings(self):
        with self.assertRaises(agentcredit.ParseError) as cm:
            Episode.from_json('{"participants": [{"name": "a"}], '
                              '"messages": [{"from": "b"}], "outcome": 1}')
        self.assertIn('messages[0].from: no participant "b"',
                      str(cm.exception))
        text = ('{"participants": [{"name": "a", "colour": 1}], '
                '"messages": [{"from": "a"}], "outcome": 1}')
        ep = Episode.from_json(text)
        self.assertEqual(ep.warnings,
                         ["participants[0].colour: unknown key, ignored"])
        with self.assertRaises(agentcredit.ParseError):
            Episode.from_json(text, strict=True)
        with self.assertRaises(TooLarge):
            Episode.from_json(text, limits={"max_bytes": 10})
        with self.assertRaises(TypeError):
            Episode.from_json(text, limits={"max_lines": 10})

    def test_signals_json_is_what_the_signals_say(self):
        ep = team_episode(0.0)
        ep.id = "ep-1"
        pipe = Pipeline(oracle=team_oracle, verifier=check_verifier,
                        repair=(propose, judge), localizer_monotone=0)
        with self.assertRaises(StateError):
            pipe.to_json(ep)
        s = pipe.run(ep)
        got = json.loads(pipe.to_json(ep))
        self.assertEqual(got["format"], "agentcredit.signals/1")
        self.assertEqual(got["id"], "ep-1")
        self.assertEqual([a["credit"] for a in got["agents"]],
                         list(s.credits))
        self.assertEqual([m["reward"] for m in got["messages"]],
                         list(s.rewards))
        self.assertEqual(got["first_error"]["message"], 4)
        self.assertEqual(got["pair"]["kind"], "repair")


class Parameters(unittest.TestCase):
    def test_every_parameter_has_a_name(self):
        names = Pipeline._PARAMS
        ids = {int(spec.id) for spec in names.values()}
        for params in (agentcredit.PipelineParam,
                       agentcredit.EstimatorParam,
                       agentcredit.RefinerParam,
                       agentcredit.LocalizerParam):
            for m in params:
                self.assertIn(int(m), ids, m)
        self.assertEqual(len(ids), len(names))
        for prefix, cls in (("estimator", Estimator),
                            ("refiner", agentcredit.Refiner),
                            ("localizer", agentcredit.Localizer)):
            for name, spec in cls._PARAMS.items():
                self.assertIs(names[prefix + "_" + name].id, spec.id)

    def test_routing_and_the_prefix_rule(self):
        pipe = Pipeline(method="exact", localizer_budget=50,
                        refiner_batch=8, estimator_max_retries=0,
                        strategy="linear", verifier_source="none")
        self.assertEqual(pipe.estimator_method, "exact")
        self.assertEqual(pipe.method, "exact")
        self.assertEqual(pipe.get_param("method"), "exact")
        self.assertEqual(pipe.localizer_budget, 50)
        self.assertEqual(pipe.estimator_budget, 2048)   # the default
        self.assertEqual(pipe.refiner_batch, 8)
        self.assertEqual(pipe.estimator_batch, 64)
        self.assertEqual(pipe.localizer_batch, 1)
        self.assertEqual(pipe.estimator_max_retries, 0)
        self.assertEqual(pipe.localizer_strategy, "linear")
        self.assertEqual(pipe.verifier_source, "none")
        self.assertEqual(pipe.localizer_threshold, 0.5)
        self.assertIs(pipe.localizer_monotone, True)
        pipe.set_param(agentcredit.EstimatorParam.BUDGET, 7)
        self.assertEqual(pipe.estimator_budget, 7)
        pipe.set_param(agentcredit.PipelineParam.VERIFIER,
                       agentcredit.VerifierSource.ANNOTATION)
        self.assertEqual(pipe.get_param(agentcredit.PipelineParam.VERIFIER),
                         "annotation")
        pipe.bound = 0.25
        self.assertEqual(pipe.refiner_bound, 0.25)
        self.assertEqual(set(pipe.params()), set(Pipeline._PARAMS))
        self.assertEqual(Pipeline.param_bounds("localizer_batch"),
                         agentcredit.Localizer.param_bounds("batch"))
        self.assertEqual(Pipeline.param_bounds("seed"),
                         Estimator.param_bounds("seed"))
        self.assertEqual(Pipeline.param_bounds("verifier_source"), (0, 2))

        # ambiguous and unknown names
        for name in ("budget", "batch", "max_retries", "threshold"):
            with self.subTest(name=name):
                with self.assertRaises(TypeError) as cm:
                    Pipeline(**{name: 1})
                self.assertIn("ambiguous", str(cm.exception))
                self.assertIn("_" + name, str(cm.exception))
                with self.assertRaises(ParamUnsupported):
                    pipe.set_param(name, 1)
                with self.assertRaises(ParamUnsupported):
                    pipe.get_param(name)
                with self.assertRaises(AttributeError):
                    getattr(pipe, name)
                with self.assertRaises(AttributeError):
                    setattr(pipe, name, 1)
        with self.assertRaises(TypeError):
            Pipeline(bugdet=5)
        with self.assertRaises(TypeError):
            Pipeline(verifier="annotation")    # a callback, not the source
        with self.assertRaises(TypeError):
            Pipeline(method="exact", estimator_method="auto")
        with self.assertRaises(ParamUnsupported):
            pipe.set_param("bugdet", 5)
        with self.assertRaises(ParamUnsupported):
            pipe.set_param(999, 1)
        with self.assertRaises(TypeError):
            pipe.set_param(agentcredit.Method.EXACT, 1)

    def test_values_are_checked_as_each_object_checks_them(self):
        pipe = Pipeline()
        with self.assertRaises(ParamOutOfBound):
            pipe.estimator_budget = -1
        with self.assertRaises(ParamOutOfBound):
            pipe.accuracy = 0.5                # an open bound
        with self.assertRaises(ParamOutOfBound):
            pipe.verifier_source = 3
        with self.assertRaises(ParamOutOfBound):
            pipe.episode_id = -1
        with self.assertRaises(ParamOutOfBound):
            pipe.strategy = "sideways"
        self.assertEqual(pipe.estimator_budget, 2048)   # nothing changed

    def test_an_estimator_budget_too_small(self):
        ep = team_episode(1.0)
        pipe = Pipeline(oracle=team_oracle, method="exact",
                        estimator_budget=2)
        with self.assertRaises(BudgetError) as cm:
            pipe.run(ep)
        self.assertTrue(cm.exception.detail.startswith("credit: "),
                        cm.exception.detail)
        with self.assertRaises(StateError):
            pipe.signals()                     # a failed run: no result
        with self.assertRaises(StateError):
            pipe.audit()
        pipe.estimator_budget = 7              # the 7 unknown coalitions
        s = pipe.run(ep)
        self.assertEqual(s.audit["oracle_evaluations"], 7)


class Errors(unittest.TestCase):
    def test_episodes_the_pipeline_refuses(self):
        pipe = Pipeline(oracle=team_oracle)
        with self.assertRaises(TypeError):
            pipe.run(None)
        ep = Episode()
        with self.assertRaises(StateError) as cm:
            pipe.run(ep)
        self.assertIn("outcome", str(cm.exception))
        ep.outcome = 1.0
        with self.assertRaises(StateError) as cm:
            pipe.run(ep)
        self.assertIn("no agent", str(cm.exception))
        ep.add_participant("solo")
        ep.add_participant("quiet")
        ep.add_message("solo", "hi")
        with self.assertRaises(StateError) as cm:
            pipe.run(ep)
        self.assertIn('"quiet"', str(cm.exception))
        self.assertIn('"quiet"', cm.exception.detail)
        self.assertEqual(cm.exception.status_name, "AC_E_STATE")
        ep.add_message("quiet")
        self.assertTrue(conserved(pipe.run(ep).credits, 0.5))
        with self.assertRaises(StateError):
            pipe.run(Episode())                # a failed run ...
        with self.assertRaises(StateError):
            pipe.signals()                     # ... leaves no result

    def test_raising_callbacks(self):
        class Boom(Exception):
            pass

        def bad_oracle(coalitions):
            raise Boom("the oracle")

        def bad_scorer(messages):
            raise Boom("the scorer")
        for kwargs in ({"oracle": bad_oracle},
                       {"oracle": team_oracle, "scorer": bad_scorer}):
            with self.subTest(kwargs=sorted(kwargs)):
                with self.assertRaises(Boom) as cm:
                    Pipeline(**kwargs).run(team_episode(1.0))
                self.assertIsInstance(cm.exception.__cause__, CallbackError)
                self.assertIn("Boom", str(cm.exception.__cause__))

    def test_a_verifier_that_raises_in_the_scan(self):
        def verifier(prefixes):          # the error is message 4
            if any(p > 4 for p in prefixes):
                raise TimeoutError("the judge is down")
            return check_verifier(prefixes)
        pipe = Pipeline(oracle=team_oracle, verifier=verifier,
                        strategy="linear")
        s = pipe.run(team_episode(0.0))
        self.assertEqual(s.first_error.step, 4)
        self.assertIsInstance(pipe.scan_exception, TimeoutError)
        pipe.set_verifier(check_verifier)
        pipe.run(team_episode(0.0))
        self.assertIsNone(pipe.scan_exception)

        def stopping(prefixes):          # Ctrl-C inside the scan
            if any(p > 4 for p in prefixes):
                raise KeyboardInterrupt
            return check_verifier(prefixes)
        pipe.set_verifier(stopping)
        with self.assertRaises(KeyboardInterrupt):
            pipe.run(team_episode(0.0))
        # the run succeeded all the same: its result stays readable
        self.assertEqual(pipe.signals().first_error.step, 4)

    def test_nothing_changes_from_inside_a_callback(self):
        ep = team_episode(1.0)
        pipe = Pipeline()
        seen = []

        def oracle(coalitions):
            for change in (lambda: pipe.set_param("seed", 3),
                           lambda: pipe.set_oracle(None),
                           lambda: pipe.run(ep),
                           lambda: pipe.close(),
                           lambda: ep.add_message(0, "more"),
                           lambda: ep.set_label(1, 0.5),
                           lambda: setattr(ep, "outcome", 0.0),
                           lambda: ep.close()):
                try:
                    change()
                except Busy:
                    seen.append("busy")
            seen.append(pipe.get_param("seed"))   # reading is fine
            seen.append(ep.n_messages)
            return team_oracle(coalitions)
        pipe.set_oracle(oracle)
        pipe.run(ep)
        self.assertEqual(seen[:10], ["busy"] * 8 + [0, N_MSG])
        self.assertEqual(ep.outcome, 1.0)
        ep.add_message(0, "after the run")    # fine again

    def test_cancel_from_the_oracle(self):
        pipe = Pipeline()

        def oracle(coalitions):
            pipe.cancel()
            return team_oracle(coalitions)
        pipe.set_oracle(oracle)
        with self.assertRaises(agentcredit.Cancelled):
            pipe.run(team_episode(1.0))
        pipe.set_oracle(team_oracle)           # the next run starts afresh
        self.assertTrue(conserved(pipe.run(team_episode(1.0)).credits, 0.5))

    def test_another_thread_waits_for_the_run(self):
        ep = team_episode(1.0)
        started, release = threading.Event(), threading.Event()

        def oracle(coalitions):
            started.set()
            release.wait(5)
            return team_oracle(coalitions)
        pipe = Pipeline(oracle=oracle)
        runner = threading.Thread(target=pipe.run, args=(ep,))
        runner.start()
        self.assertTrue(started.wait(5))
        order = []
        writer = threading.Thread(
            target=lambda: (ep.add_message(1, "late"), order.append("w")))
        writer.start()
        writer.join(0.2)
        self.assertTrue(writer.is_alive())     # waits for the run
        order.append("run")
        release.set()
        runner.join(5)
        writer.join(5)
        self.assertEqual(order, ["run", "w"])
        self.assertEqual(ep.n_messages, N_MSG + 1)

    def test_two_pipelines_read_one_episode_at_once(self):
        ep = team_episode(1.0)
        barrier = threading.Barrier(2, timeout=5)

        def oracle(coalitions):
            barrier.wait()                     # both runs inside at once
            return team_oracle(coalitions)
        results = []

        def run():
            results.append(Pipeline(oracle=oracle, method="exact").run(ep))
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual(len(results), 2)
        self.assertEqual(results[0].to_dict(), results[1].to_dict())

    def test_ctrl_c_cancels_the_run(self):
        from test_interrupt import NOISY_GAME, N, Signal, entered
        ep = Episode(outcome=1.0)
        for a in range(N):
            ep.add_participant("agent%d" % a)
            ep.add_message(a, "turn %d" % a)
        pipe = Pipeline(oracle=agentcredit.Game(NOISY_GAME),
                        method="permutation", estimator_budget=2 ** 40,
                        noisy=1)
        with entered("ac_pipeline_run") as running, \
                Signal(0.2, ready=running.is_set) as sig:
            with self.assertRaises(KeyboardInterrupt) as caught:
                pipe.run(ep)
        self.assertTrue(sig.sent.is_set())
        self.assertIsInstance(caught.exception.__cause__,
                              agentcredit.Cancelled)
        self.assertIn("credit: ", str(caught.exception.__cause__))
        with self.assertRaises(StateError):
            pipe.signals()
        ep.add_message(0, "the episode is free again")
        pipe.estimator_budget = 200
        self.assertEqual(len(pipe.run(ep).credits), N)

    def test_closed_handles(self):
        ep = team_episode(1.0)
        pipe = Pipeline(oracle=team_oracle)
        ep.close()
        with self.assertRaises(StateError):
            pipe.run(ep)
        with self.assertRaises(StateError):
            ep.n_messages
        pipe.close()
        with self.assertRaises(StateError):
            pipe.run(team_episode(1.0))
        with Pipeline() as p:
            self.assertFalse(p.closed)
        self.assertTrue(p.closed)

    def test_sizes(self):
        ep = Episode()
        with self.assertRaises(TooLarge):
            for k in range(agentcredit.EPISODE_MAX_PARTICIPANTS + 1):
                ep.add_participant("tool%d" % k, "tool")
        self.assertEqual(ep.n_participants,
                         agentcredit.EPISODE_MAX_PARTICIPANTS)


class Guide(unittest.TestCase):
    def test_the_example_prints_what_the_guide_says(self):
        import contextlib
        import io
        from test_docs import DOC, blocks
        found = blocks(DOC.read_text(encoding="utf-8"))
        k = next(i for i, (lang, code, _) in enumerate(found)
                 if lang == "python" and "agentcredit.Pipeline(" in code)
        self.assertEqual(found[k + 1][0], "text")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(found[k][1], {"__name__": "__docs__"})
        self.assertEqual(out.getvalue(), found[k + 1][1])


if __name__ == "__main__":
    unittest.main()
