"""The localizer: exact binary search at every position, ask/tell equal to
run, the other strategies, posterior, blame and preference pairs."""

import math
import random
import unittest

from support import agentcredit

from agentcredit import InvalidArgument, Localizer, PreferencePair, Refiner


def exact_verifier(err):
    """On track before message err, off track from it (err = T: none)."""
    return lambda ps: [1.0 if p < err else 0.0 for p in ps]


class BinarySearch(unittest.TestCase):
    def test_every_position(self):
        for T in (1, 2, 7, 20, 33):
            worst = math.ceil(math.log2(T + 1))
            for err in range(T + 1):
                with self.subTest(T=T, err=err):
                    loc = Localizer(T, scan_after=False,
                                    authors=[t % 3 for t in range(T)])
                    res = loc.run(exact_verifier(err))
                    audit = loc.audit()
                    self.assertEqual(audit["strategy"], "binary")
                    if err == T:
                        self.assertEqual(res, (None, None, 1.0))
                        self.assertEqual(audit["outcome"], "no_error")
                    else:
                        self.assertEqual(res, (err, err % 3, 1.0))
                        self.assertEqual(audit["outcome"], "found")
                    self.assertLessEqual(audit["search_calls"], worst)
                    post = loc.posterior()
                    self.assertEqual(len(post), T + 1)
                    self.assertEqual(post[err], 1.0)
                    flags = loc.step_flags(names=True)
                    for t in range(T):
                        want = (set() if t < err else {"first_error"}
                                if t == err else {"propagates"})
                        self.assertEqual(set(flags[t]), want)

    def test_wider_rounds(self):
        T, err = 100, 61
        loc = Localizer(T, batch=3)
        rounds = []

        def verifier(ps):
            rounds.append(len(ps))
            return exact_verifier(err)(ps)
        self.assertEqual(loc.run(verifier).step, err)
        self.assertTrue(all(r <= 3 for r in rounds))


class AskTellEqualsRun(unittest.TestCase):
    def noisy(self, seed, err):
        """A verifier with independent noise whose answer depends only on
        (prefix, how often it was asked): the same in both drivers."""
        asked = {}

        def answer(p):
            n = asked.get(p, 0)
            asked[p] = n + 1
            right = random.Random(seed * 1000003 + p * 101 + n).random() < 0.8
            truth = 1.0 if p < err else 0.0
            return truth if right else 1.0 - truth
        return lambda ps: [answer(p) for p in ps]

    def drive(self, loc, verifier, shuffle_seed, repeated=None):
        repeated = set() if repeated is None else repeated
        rng = random.Random(shuffle_seed)
        while True:
            ps = loc.ask()
            if not ps:
                self.assertTrue(loc.progress().done)
                break
            self.assertEqual(loc.progress().outstanding, len(ps))
            repeated.update(p for p in ps if ps.count(p) > 1)
            # a round may hold the same prefix twice (independent noise)
            answers = list(zip(ps, verifier(ps)))
            rng.shuffle(answers)
            # tell in a random order, one at a time or all together
            if shuffle_seed % 2:
                for p, a in answers:
                    loc.tell([p], [a])
            else:
                loc.tell([p for p, _ in answers], [a for _, a in answers])

    def test_noisy_bisection(self):
        repeated = set()
        for seed in range(6):
            err = seed * 3 % 16
            params = dict(noise="independent", accuracy=0.8, batch=1 + seed %
                          3, budget=80, target=0.9)
            by_run = Localizer(16, **params)
            res = by_run.run(self.noisy(seed, err))
            by_tell = Localizer(16, **params)
            self.drive(by_tell, self.noisy(seed, err), seed, repeated)
            with self.subTest(seed=seed):
                self.assertEqual(by_tell.result(), res)
                self.assertEqual(by_tell.posterior(), by_run.posterior())
                self.assertEqual(by_tell.audit(), by_run.audit())
                self.assertEqual(by_tell.blame_labels(),
                                 by_run.blame_labels())
                self.assertAlmostEqual(math.fsum(by_run.posterior()), 1.0,
                                       delta=1e-12)
        self.assertTrue(repeated, "no round asked a prefix twice")
        with self.assertRaises(TypeError):
            Localizer(3).tell({0: 1.0})

    def test_exact_binary(self):
        for err in range(13):
            a = Localizer(12, batch=2)
            b = Localizer(12, batch=2)
            self.drive(b, exact_verifier(err), err)
            self.assertEqual(b.result(), a.run(exact_verifier(err)))

    def test_repeatable_judge_never_asked_twice(self):
        wrong = {2, 10}
        err = 7

        def judge(ps):
            return [float((p < err) != (p in wrong)) for p in ps]
        loc = Localizer(12, noise="repeatable", accuracy=0.85, batch=3,
                        authors=[0, 1, 2] * 4)
        seen = []
        while True:
            ps = loc.ask(3)
            if not ps:
                break
            seen += ps
            loc.tell(ps, judge(ps))
        self.assertEqual(len(seen), len(set(seen)))
        res = loc.result()
        self.assertEqual((res.step, res.agent), (7, 1))
        self.assertAlmostEqual(res.probability, 0.680, places=3)
        self.assertAlmostEqual(loc.probability_within(1), 0.920, places=3)
        self.assertGreaterEqual(loc.probability_within(12), 1.0 - 1e-12)


class Strategies(unittest.TestCase):
    def test_linear_with_repair_later(self):
        # off track at 4 and 5, back on track from 6 (message 6 repaired it)
        def verifier(ps):
            return [0.0 if p in (4, 5) else 1.0 for p in ps]
        loc = Localizer(10, monotone=False, authors=[0, 1] * 5)
        self.assertEqual(loc.run(verifier).step, 4)
        self.assertEqual(loc.audit()["strategy"], "linear")
        flags = loc.step_flags(names=True)
        self.assertIn("first_error", flags[4])
        self.assertIn("corrective", flags[6])
        # no repair callback: the corrective message of the same agent
        pair = loc.make_pair(5)
        self.assertEqual((pair.kind, pair.chosen, pair.step), ("corrective",
                                                               6, 4))
        self.assertTrue(pair)

    def test_scores(self):
        loc = Localizer(6, scores=[0.1, 0.2, 0.7, 0.9, 0.1, 0.3],
                        threshold=0.6)
        res = loc.run()
        self.assertEqual(res.step, 2)
        self.assertEqual(loc.audit()["strategy"], "scores")
        self.assertEqual(loc.audit()["calls"], 0)

    def test_prior(self):
        # with no budget for a single question, the prior decides the guess
        prior = [0.0] * 8 + [0.0]
        prior[5] = 3.0
        prior[2] = 1.0
        loc = Localizer(8, noise="independent", budget=0, prior=prior)
        res = loc.run(exact_verifier(2))
        self.assertEqual(res.step, 5)
        self.assertEqual(loc.audit()["outcome"], "out_of_budget")
        self.assertAlmostEqual(res.probability, 0.75, delta=1e-12)
        with self.assertRaises(InvalidArgument):
            Localizer(8).set_prior([1.0] * 3)     # needs T + 1 entries
        with self.assertRaises(agentcredit.StateError):
            loc.set_prior(prior)                  # the run has started


class Blame(unittest.TestCase):
    def test_blame_and_rewards_conserve_credit(self):
        authors = [0, 1, 2] * 4
        credits = [0.10, -0.35, 0.05]
        loc = Localizer(12, authors=authors)
        loc.run(exact_verifier(7))
        labels = loc.blame_labels()
        self.assertEqual(labels[7], -1.0)
        self.assertTrue(all(labels[t] == 0.1 for t in range(7)))
        self.assertTrue(all(labels[t] == -0.25 for t in range(8, 12)))
        rewards = Refiner(3, 12, authors=authors, credits=credits,
                          labels=labels).refine()
        for a in range(3):
            self.assertAlmostEqual(math.fsum(
                r for r, x in zip(rewards, authors) if x == a), credits[a],
                delta=1e-12)
        loc2 = Localizer(12, label_error=-0.5, label_before=0.0)
        loc2.run(exact_verifier(7))
        self.assertEqual(loc2.blame_labels()[7], -0.5)
        self.assertEqual(loc2.blame_labels()[0], 0.0)


class Pairs(unittest.TestCase):
    def localized(self, **kw):
        loc = Localizer(8, authors=[0, 1] * 4, **kw)
        loc.run(exact_verifier(5))
        return loc

    def test_repair(self):
        loc = self.localized(candidates=3)
        calls = []

        def repair(step, max_count):
            calls.append(("repair", step, max_count))
            return [10, 11, 12]

        def check(step, ids):
            calls.append(("check", step, list(ids)))
            return [0.3, 0.95, 0.7]
        loc.set_repair(repair, check)
        pair = loc.make_pair(99)
        self.assertIsInstance(pair, PreferencePair)
        self.assertEqual(calls, [("repair", 5, 3), ("check", 5, [10, 11, 12])])
        self.assertEqual(pair.to_dict(), {
            "kind": "repair", "reason": None, "agent": 1, "step": 5,
            "prompt_end": 5, "candidates": 3, "checked": 3, "verified": 2,
            "episode": 99,
            "chosen": 11, "confidence": 0.95, "localization": 1.0,
            "weight": 0.95})
        self.assertEqual(loc.audit()["repair_candidates"], 3)

    def test_no_pair_reasons(self):
        loc = self.localized()
        loc.set_repair(lambda s, m: [1, 2], lambda s, ids: [0.1, None])
        pair = loc.make_pair()
        self.assertFalse(pair)
        self.assertEqual((pair.kind, pair.reason, pair.chosen),
                         ("none", "not_verified", None))
        loc.set_repair(lambda s, m: [], lambda s, ids: [])
        self.assertEqual(loc.make_pair().reason, "no_candidate")
        loc.set_repair(None, None)
        self.assertEqual(loc.make_pair().reason, "no_candidate")
        clean = Localizer(8)
        clean.run(exact_verifier(8))
        self.assertEqual(clean.make_pair().reason, "not_localized")


if __name__ == "__main__":
    unittest.main()
