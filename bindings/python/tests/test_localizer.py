"""The localizer: exact binary search at every position, ask/tell by ticket
equal to run, the other strategies, posterior, blame and preference pairs,
the corrective scan's stop (the run succeeds) and the rule that inputs
change only while it is idle."""

import math
import random
import unittest

from support import agentcredit

from agentcredit import (Cancelled, InvalidArgument, Localizer, OracleError,
                         PreferencePair, Refiner, StateError)


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
                    self.assertLessEqual(audit["search_evaluations"], worst)
                    self.assertEqual(audit["evaluations"],
                                     audit["search_evaluations"])
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
            asked = loc.ask()
            if not asked:
                self.assertTrue(loc.progress().done)
                break
            self.assertEqual(loc.progress().outstanding, len(asked))
            tickets = [t for t, _ in asked]
            ps = [p for _, p in asked]
            self.assertEqual(len(set(tickets)), len(tickets))
            # a round may hold the same prefix twice (independent noise),
            # each under its own ticket
            repeated.update(p for p in ps if ps.count(p) > 1)
            answers = list(zip(tickets, verifier(ps)))
            rng.shuffle(answers)
            # tell in a random order: one at a time, as a dict, or together
            if shuffle_seed % 3 == 1:
                for t, a in answers:
                    loc.tell([t], [a])
            elif shuffle_seed % 3 == 2:
                loc.tell(dict(answers))
            else:
                loc.tell([t for t, _ in answers], [a for _, a in answers])

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
            asked = loc.ask(3)
            if not asked:
                break
            ps = [p for _, p in asked]
            seen += ps
            loc.tell([t for t, _ in asked], judge(ps))
        self.assertEqual(len(seen), len(set(seen)))
        res = loc.result()
        self.assertEqual((res.step, res.agent), (7, 1))
        self.assertAlmostEqual(res.probability, 0.680, places=3)
        self.assertAlmostEqual(loc.probability_within(1), 0.920, places=3)
        self.assertGreaterEqual(loc.probability_within(12), 1.0 - 1e-12)


class Tickets(unittest.TestCase):
    """ask/tell by ticket: the checks of a tell, stale tickets, progress."""

    def test_tell_is_checked_whole(self):
        loc = Localizer(8, batch=2)
        with self.assertRaises(StateError):
            loc.tell([1], [1.0])            # idle: no run waits
        asked = loc.ask()
        self.assertEqual(len(asked), 2)
        self.assertEqual(loc.progress(), (False, 2))
        (t0, _), (t1, _) = asked
        for tickets, answers, why in (
                ([t0, 10 ** 12], [1.0, 1.0], "never handed out"),
                ([t0, t0], [1.0, 1.0], "twice in the call"),
                ([t0, t1], [1.0, 1.5], "an answer outside [0, 1]"),
                ([t0, t1], [-0.5, 1.0], "an answer outside [0, 1]")):
            with self.subTest(why=why):
                with self.assertRaises(InvalidArgument):
                    loc.tell(tickets, answers)
                self.assertEqual(loc.progress(), (False, 2), "taken")
        loc.tell({t0: 1.0})
        with self.assertRaises(InvalidArgument):
            loc.tell({t0: 1.0})             # told already
        self.assertEqual(loc.progress(), (False, 1))

    def test_stale_tickets_after_a_reset(self):
        loc = Localizer(8)
        old = loc.ask()
        loc.reset()
        self.assertEqual(loc.progress(), (False, 0))
        new = loc.ask()
        self.assertNotEqual(old[0][0], new[0][0])
        with self.assertRaises(InvalidArgument):
            loc.tell([old[0][0]], [1.0])
        loc.tell([new[0][0]], [1.0])

    def test_failed_answers_are_asked_again(self):
        loc = Localizer(8, batch=1, max_retries=2, scan_after=False)
        (t, p), = loc.ask()
        for bad in (None, math.inf):        # failed: asked again
            loc.tell([t], [bad])
            with self.assertRaises(InvalidArgument):
                loc.tell([t], [1.0])        # the failed ticket is spent
            (t2, p2), = loc.ask()
            self.assertEqual(p2, p)         # the same prefix, again
            self.assertNotEqual(t2, t)      # under a new ticket
            t = t2
        with self.assertRaises(OracleError):
            loc.tell([t], [1.0], status=[5])    # past max_retries = 2
        with self.assertRaises(OracleError):
            loc.ask()                       # the run's error, until reset
        self.assertEqual(loc.progress(), (True, 0))
        self.assertEqual(loc.audit()["failures"], 3)
        self.assertEqual(loc.audit()["retries"], 2)


class ScanStop(unittest.TestCase):
    """Once the first error is localized, whatever stops the corrective
    scan ends the scan, not the run: the run succeeds with the result,
    scan_complete False and scan_stopped the status. The same stop during
    the search fails the run."""

    T, ERR = 8, 3

    def verifier(self, loc, in_scan, search=None):
        """Linear search asks prefixes 0..ERR, the scan those after it."""
        def answer(ps):
            if any(p > self.ERR for p in ps):
                return in_scan(ps)
            if search is not None:
                return search(ps)
            return exact_verifier(self.ERR)(ps)
        return answer

    def localizer(self, **kw):
        return Localizer(self.T, strategy="linear", authors=[0, 1] * 4, **kw)

    def check_stopped(self, loc, status):
        self.assertEqual(loc.result(), (self.ERR, 1, 1.0))
        audit = loc.audit()
        self.assertEqual(audit["outcome"], "found")
        self.assertEqual(audit["scan_complete"], False)
        self.assertEqual(audit["scan_stopped"], status)
        self.assertTrue(loc.done)
        self.assertEqual(loc.step_flags(names=True)[self.ERR],
                         {"first_error"})
        self.assertEqual(len(loc.blame_labels()), self.T)

    def test_a_complete_scan(self):
        loc = self.localizer()
        loc.run(self.verifier(loc, lambda ps: [0.0] * len(ps)))
        audit = loc.audit()
        self.assertEqual((audit["scan_complete"], audit["scan_stopped"]),
                         (True, "AC_OK"))
        self.assertEqual(audit["scan_evaluations"], self.T - 1 - self.ERR)
        self.assertIsNone(loc.scan_exception)

    def test_cancel(self):
        loc = self.localizer()

        def in_scan(ps):
            loc.cancel()
            return [0.0] * len(ps)
        self.assertEqual(loc.run(self.verifier(loc, in_scan)).step, self.ERR)
        self.check_stopped(loc, "AC_E_CANCELLED")
        self.assertIsNone(loc.scan_exception)
        # during the search the same cancel fails the run
        loc2 = self.localizer()

        def search(ps):
            loc2.cancel()
            return [1.0] * len(ps)
        with self.assertRaises(Cancelled):
            loc2.run(self.verifier(loc2, in_scan, search))
        with self.assertRaises(StateError):
            loc2.result()

    def test_failures_past_the_retries(self):
        loc = self.localizer(max_retries=1)
        loc.run(self.verifier(loc, lambda ps: [None] * len(ps)))
        self.check_stopped(loc, "AC_E_ORACLE")
        self.assertEqual(loc.audit()["failures"], 2)
        loc2 = self.localizer(max_retries=1)
        with self.assertRaises(OracleError):
            loc2.run(self.verifier(loc2, None,
                                   lambda ps: [None] * len(ps)))

    def test_a_raising_verifier(self):
        loc = self.localizer()
        boom = ValueError("the judge is down")

        def in_scan(ps):
            raise boom
        self.assertEqual(loc.run(self.verifier(loc, in_scan)).step, self.ERR)
        self.check_stopped(loc, "AC_E_CALLBACK")
        self.assertIs(loc.scan_exception, boom)
        self.assertEqual(loc.run().step, self.ERR)    # done: the same result
        self.assertIs(loc.scan_exception, boom)
        loc.reset()
        self.assertIsNone(loc.scan_exception)
        # during the search it fails the run and is raised
        loc2 = self.localizer()
        with self.assertRaises(ValueError):
            loc2.run(self.verifier(loc2, in_scan, in_scan))
        self.assertIsNone(loc2.scan_exception)

    def test_keyboard_interrupt_is_raised_the_result_kept(self):
        loc = self.localizer()

        def in_scan(ps):
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt):
            loc.run(self.verifier(loc, in_scan))
        self.check_stopped(loc, "AC_E_CALLBACK")

    def test_cancel_during_an_ask_tell_scan(self):
        loc = self.localizer()
        while True:
            asked = loc.ask()
            self.assertTrue(asked)
            ps = [p for _, p in asked]
            if any(p > self.ERR for p in ps):
                break                       # the scan has begun
            loc.tell([t for t, _ in asked], exact_verifier(self.ERR)(ps))
        loc.tell([t for t, _ in asked], [0.0] * len(asked))
        loc.cancel()
        self.assertEqual(loc.ask(), [])     # ends the scan: the run is done
        self.check_stopped(loc, "AC_E_CANCELLED")
        self.assertEqual(loc.progress(), (True, 0))


class Idle(unittest.TestCase):
    """Inputs and parameters change only while the localizer is idle: after
    a run they raise StateError and change nothing (no silent reset)."""

    def test_inputs_after_a_run(self):
        loc = Localizer(6, authors=[0, 1] * 3)
        want = loc.run(exact_verifier(2))
        for name, call in (
                ("set_authors", lambda: loc.set_authors([0] * 6)),
                ("set_prior", lambda: loc.set_prior([1.0] * 7)),
                ("set_scores", lambda: loc.set_scores([0.5] * 6)),
                ("budget", lambda: setattr(loc, "budget", 3)),
                ("reset known", lambda: loc.reset("known"))):
            with self.subTest(call=name):
                with self.assertRaises(StateError):
                    call()
                self.assertEqual(loc.result(), want)
        self.assertEqual(loc.budget, 1024)
        loc.set_verifier(exact_verifier(4))         # callbacks: any time
        self.assertEqual(loc.run().step, 2)         # the finished run
        loc.reset("session", "known")
        self.assertEqual(loc.run().step, 4)
        self.assertIsNone(loc.result().agent)       # authors forgotten

    def test_inputs_during_an_ask_tell_run(self):
        loc = Localizer(6)
        loc.ask()
        with self.assertRaises(StateError):
            loc.set_prior([1.0] * 7)
        with self.assertRaises(StateError):
            loc.batch = 2
        self.assertEqual(loc.progress(), (False, 1))


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
        self.assertEqual(loc.audit()["evaluations"], 0)

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
                          labels=labels).run()
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
        # a failed answer (None) is asked again: id 2 answers 0.2 the
        # second time, and only it is asked again
        answers = {1: [0.1], 2: [None, 0.2]}
        asked = []

        def check(step, ids):
            asked.append(list(ids))
            return [answers[i].pop(0) for i in ids]
        loc.set_repair(lambda s, m: [1, 2], check)
        pair = loc.make_pair()
        self.assertFalse(pair)
        self.assertEqual((pair.kind, pair.reason, pair.chosen),
                         ("none", "not_verified", None))
        self.assertEqual(asked, [[1, 2], [2]])
        # failing past the retries: OracleError, and nothing changed
        before = loc.audit()
        loc.set_repair(lambda s, m: [1, 2], lambda s, ids: [None] * len(ids))
        with self.assertRaises(OracleError):
            loc.make_pair()
        self.assertEqual(loc.audit(), before)
        loc.set_repair(lambda s, m: [], lambda s, ids: [])
        self.assertEqual(loc.make_pair().reason, "no_candidate")
        loc.set_repair(None, None)
        self.assertEqual(loc.make_pair().reason, "no_candidate")
        clean = Localizer(8)
        clean.run(exact_verifier(8))
        self.assertEqual(clean.make_pair().reason, "not_localized")


if __name__ == "__main__":
    unittest.main()
