"""The refiner's five properties on random episodes (conservation, bound,
sign, monotone, local), its three label feeds, redundancy and fixed
labels, the run (run, ask/tell by ticket, progress, cancel, audit) and the
rule that inputs change only while it is idle."""

import math
import random
import unittest

from support import agentcredit

from agentcredit import (AgentFlag, Cancelled, InvalidArgument, MessageFlag,
                         OracleError, Refiner, StateError)


def ulp(x):
    """math.ulp (Python 3.9+) for Python 3.8 too."""
    x = abs(x)
    if x == 0.0:
        return 5e-324
    return max(math.ldexp(1.0, math.frexp(x)[1] - 53), 5e-324)


def random_episode(rng):
    n_agents = rng.randint(1, 5)
    n_messages = rng.randint(n_agents, 30)
    authors = list(range(n_agents)) + [rng.randrange(n_agents)
                                       for _ in range(n_messages - n_agents)]
    rng.shuffle(authors)
    bound = rng.choice([0.05, 0.25, 1.0, 3.0])
    credits = [rng.choice([0.0, rng.uniform(-2, 2), rng.uniform(-1e-6, 1e-6)])
               for _ in range(n_agents)]
    labels = [rng.choice([0.0, -1.0, 1.0, round(rng.uniform(-1, 1), 1),
                          rng.uniform(-1, 1)])
              for _ in range(n_messages)]
    beta = rng.choice([0.0, 0.5, 2.0])
    return n_agents, authors, credits, labels, bound, beta


class Properties(unittest.TestCase):
    def check_agent(self, a, phi, ls, rs, flags, bound, ctx):
        k = len(rs)
        scale = max(abs(phi), max(abs(r) for r in rs))
        # 1. conservation
        self.assertLessEqual(abs(math.fsum(rs) - phi),
                             1e-12 * max(abs(phi), sum(abs(r) for r in rs),
                                         1e-300), ctx)
        if flags & AgentFlag.RELAXED_BOUND:
            # the equal share (the last message would also take what the
            # k roundings miss, were it past 1e-12: never for these)
            self.assertTrue(all(r == phi / k for r in rs), ctx)
            return
        # 2. bound
        self.assertTrue(all(abs(r) <= bound for r in rs), ctx)
        # 3. sign (with the sign relaxed, the side agreeing with phi keeps it)
        keep_pos = keep_neg = True
        if flags == AgentFlag.RELAXED_SIGN:
            keep_neg, keep_pos = not phi > 0, not phi < 0
        for l, r in zip(ls, rs):
            if l > 0 and keep_pos:
                self.assertGreaterEqual(r, 0.0, ctx)
            if l < 0 and keep_neg:
                self.assertLessEqual(r, 0.0, ctx)
        # 4. monotone (ties to a few ulps: conservation outranks them)
        tie = 0.5 * (k + 2) * ulp(scale)
        for i in range(k):
            for j in range(k):
                if ls[i] < ls[j]:
                    self.assertLessEqual(rs[i], rs[j], ctx)
                elif ls[i] == ls[j]:
                    self.assertLessEqual(abs(rs[i] - rs[j]), tie, ctx)

    def test_random_episodes(self):
        rng = random.Random(2024)
        relaxed = 0
        for case in range(300):
            n_agents, authors, credits, labels, bound, beta = \
                random_episode(rng)
            ref = Refiner(n_agents, len(authors), bound=bound, beta=beta,
                          authors=authors, credits=credits, labels=labels)
            rewards = ref.run()
            self.assertEqual(ref.labels(), labels)
            flags = ref.agent_flags()
            relaxed += any(flags)
            for a in range(n_agents):
                idx = ref.agent_messages(a)
                self.assertEqual(idx, [t for t, x in enumerate(authors)
                                       if x == a])
                self.check_agent(a, credits[a], [labels[t] for t in idx],
                                 [rewards[t] for t in idx], flags[a], bound,
                                 "case %d agent %d" % (case, a))
            # 5. local: another agent's credit and labels change nothing here
            if n_agents > 1:
                credits2 = list(credits)
                credits2[0] = rng.uniform(-1, 1)
                labels2 = [rng.uniform(-1, 1) if authors[t] == 0 else
                           labels[t] for t in range(len(labels))]
                rewards2 = Refiner(n_agents, len(authors), bound=bound,
                                   beta=beta, authors=authors,
                                   credits=credits2,
                                   labels=labels2).run()
                for t in range(len(authors)):
                    if authors[t] != 0:
                        self.assertEqual(rewards2[t], rewards[t])
        self.assertGreater(relaxed, 0, "no case exercised a relaxation")

    def test_deterministic(self):
        rng = random.Random(3)
        n_agents, authors, credits, labels, bound, beta = random_episode(rng)
        runs = [Refiner(n_agents, len(authors), bound=bound, beta=beta,
                        authors=authors, credits=credits,
                        labels=labels).run() for _ in range(3)]
        self.assertEqual(runs[0], runs[1])
        self.assertEqual(runs[1], runs[2])


class Feeds(unittest.TestCase):
    authors = [0, 1, 0, 2, 1, 0]
    credits = [0.6, -0.2, 0.3]
    labels = [0.5, -0.5, 1.0, 0.0, 0.25, -1.0]

    def base(self, **kw):
        return Refiner(3, 6, authors=self.authors, credits=self.credits, **kw)

    def test_scorer_equals_array(self):
        want = self.base(labels=self.labels).run()
        batches = []

        def scorer(messages):
            batches.append(list(messages))
            return [self.labels[m] for m in messages]
        ref = self.base(batch=4)
        self.assertEqual(ref.run(scorer), want)
        self.assertEqual(sorted(sum(batches, [])), list(range(6)))
        self.assertTrue(all(len(b) <= 4 for b in batches))
        # the scorer given at creation is the same feed
        self.assertEqual(self.base(batch=4, scorer=scorer).run(), want)

    def test_failed_labels_are_asked_again(self):
        # None, NaN and an infinity are failed labels (the answer rule)
        for bad in (None, math.nan, math.inf, -math.inf):
            with self.subTest(bad=bad):
                asked = {}

                def flaky(messages):
                    out = []
                    for m in messages:
                        asked[m] = asked.get(m, 0) + 1
                        out.append(bad if asked[m] == 1 else self.labels[m])
                    return out
                ref = self.base()
                self.assertEqual(ref.run(flaky),
                                 self.base(labels=self.labels).run())
                self.assertTrue(all(v == 2 for v in asked.values()))
                audit = ref.audit()
                self.assertEqual((audit["failures"], audit["retries"],
                                  audit["evaluations"]), (6, 6, 12))

    def test_ask_tell_equals_array(self):
        want = self.base(labels=self.labels).run()
        ref = self.base()
        pending = []
        while True:
            got = ref.ask(2)
            if not got:
                break
            pending += got
        self.assertEqual(sorted(m for _, m in pending), list(range(6)))
        self.assertEqual(len({t for t, _ in pending}), 6)
        self.assertEqual(ref.progress(), (False, 6))
        pending.reverse()
        ref.tell({t: self.labels[m] for t, m in pending[:3]})
        ref.tell([t for t, _ in pending[3:]],
                 [self.labels[m] for _, m in pending[3:]])
        self.assertEqual(ref.progress(), (False, 0))
        with self.assertRaises(StateError):
            ref.rewards()           # every label in, rewards not computed
        self.assertEqual(ref.ask(), [])   # this ask computes them
        self.assertEqual(ref.progress(), (True, 0))
        self.assertTrue(ref.done)
        self.assertEqual(ref.rewards(), want)
        self.assertEqual(ref.run(), want)  # a finished run: the same, at once
        with self.assertRaises(StateError):
            ref.tell([pending[0][0]], [0.5])  # no run waits for a label

    def test_labels_from_shapley(self):
        ref = self.base(labels=self.labels)
        msgs = ref.agent_messages(0)
        self.assertEqual(msgs, [0, 2, 5])
        with self.assertRaises(InvalidArgument):
            ref.labels_from_shapley(0, [1.0, 2.0])
        ref.labels_from_shapley(0, [0.2, -0.4, 0.1])
        ref.run()
        got = ref.labels()
        self.assertEqual([got[m] for m in msgs], [0.5, -1.0, 0.25])
        with self.assertRaises(StateError):
            ref.labels_from_shapley(0, [0.0, 0.0, 0.0])   # after the run
        ref.reset()
        ref.labels_from_shapley(0, [0.0, 0.0, 0.0])
        ref.run()
        self.assertEqual([ref.labels()[m] for m in msgs], [0.0, 0.0, 0.0])

    def test_fixed_label_and_redundancy(self):
        ref = self.base(labels=self.labels, redundancy_penalty=0.75)
        ref.set_texts(["plan", "code", "plan  ", "review", "code", "fix"])
        ref.run()
        flags = ref.message_flags(names=True)
        self.assertEqual(flags[2], {"redundant"})   # agent 0 repeats itself
        self.assertEqual(flags[4], {"redundant"})   # agent 1 too
        self.assertEqual(ref.labels()[2], -0.75)
        self.assertEqual(ref.audit()["redundant"], 2)
        ref.reset()                 # the inputs stay; the run is forgotten
        ref.fix_label(2, 0.9)
        ref.run()
        self.assertEqual(ref.labels()[2], 0.9)
        self.assertEqual(ref.message_flags()[2],
                         MessageFlag.REDUNDANT | MessageFlag.LABEL_FIXED)
        rewards = ref.rewards()
        for a, c in enumerate(self.credits):
            self.assertAlmostEqual(math.fsum(r for r, x in zip(
                rewards, self.authors) if x == a), c, delta=1e-12)
        self.assertEqual(ref.flags()["agents"], [frozenset()] * 3)

    def test_redundant_and_fixed_messages_are_not_scored(self):
        scored = []

        def scorer(messages):
            scored.extend(messages)
            return [0.5] * len(messages)
        ref = self.base(texts=["plan", "code", "plan", "review", "x", "y"])
        ref.fix_label(3, -0.5)
        ref.run(scorer)
        self.assertEqual(sorted(scored), [0, 1, 4, 5])
        self.assertEqual(ref.audit()["evaluations"], 4)

    def test_texts_as_bytes_with_nul(self):
        ref = Refiner(1, 2, authors=[0, 0], credits=[1.0], labels=[0.5, 0.5])
        ref.set_texts([b"a\x00b", "a\x00b"])
        ref.run()
        self.assertEqual(ref.message_flags(), [0, 1])
        with self.assertRaises(TypeError):
            Refiner(1, 2).set_texts([1, 2])

    def test_states(self):
        ref = self.base()
        with self.assertRaises(StateError):
            ref.rewards()
        with self.assertRaises(StateError):
            ref.run()           # no labels and no scorer
        ref.reset()
        ref.set_labels(self.labels)
        first = ref.run(as_numpy=False)
        ref.reset()             # forgets the run, keeps the inputs
        with self.assertRaises(StateError):
            ref.rewards()
        self.assertEqual(ref.run(), first)
        with self.assertRaises(StateError):
            ref.reset("known")  # KNOWN alone: only while idle
        self.assertEqual(ref.rewards(), first)   # and nothing was reset
        ref.reset("session", "known")
        ref.set_labels(self.labels)
        with self.assertRaises(StateError):
            ref.run()           # authors and credits forgotten


class Idle(unittest.TestCase):
    """Inputs and parameters change only while the refiner is idle: during
    or after a run they raise StateError and change nothing (no silent
    reset); the scorer may be registered at any time."""

    def test_inputs_after_a_run(self):
        ref = Refiner(2, 3, authors=[0, 1, 0], credits=[0.5, -0.5],
                      labels=[0.5, -0.5, 1.0])
        want = ref.run()
        for name, call in (
                ("set_authors", lambda: ref.set_authors([0, 0, 1])),
                ("set_credits", lambda: ref.set_credits([1.0, 0.0])),
                ("set_labels", lambda: ref.set_labels([0.0, 0.0, 0.0])),
                ("fix_label", lambda: ref.fix_label(0, -1.0)),
                ("set_texts", lambda: ref.set_texts(["a", "a", "a"])),
                ("labels_from_shapley",
                 lambda: ref.labels_from_shapley(0, [1.0, 1.0])),
                ("bound", lambda: setattr(ref, "bound", 0.1)),
                ("reset params", lambda: ref.reset("params"))):
            with self.subTest(call=name):
                with self.assertRaises(StateError) as cm:
                    call()
                self.assertEqual(cm.exception.status_name, "AC_E_STATE")
                self.assertEqual(ref.rewards(), want)
                self.assertTrue(ref.done)
        self.assertEqual(ref.bound, 1.0)
        ref.set_scorer(lambda ms: [0.0] * len(ms))    # callbacks: any time
        ref.reset("session", "params")
        ref.bound = 0.1
        self.assertEqual(ref.run(), Refiner(
            2, 3, bound=0.1, authors=[0, 1, 0], credits=[0.5, -0.5],
            labels=[0.5, -0.5, 1.0]).run())

    def test_inputs_during_an_ask_tell_run(self):
        ref = Refiner(1, 3, authors=[0, 0, 0], credits=[1.0])
        asked = ref.ask(2)
        self.assertEqual(len(asked), 2)
        with self.assertRaises(StateError):
            ref.set_labels([0.0, 0.0, 0.0])
        with self.assertRaises(StateError):
            ref.beta = 0.1
        self.assertEqual(ref.progress(), (False, 2))   # the run goes on


class Tickets(unittest.TestCase):
    """ask/tell by ticket: the checks of a tell, retries, the run's end."""

    def make(self, **kw):
        return Refiner(2, 4, authors=[0, 1, 0, 1], credits=[0.4, -0.2], **kw)

    def test_tell_is_checked_whole(self):
        ref = self.make()
        with self.assertRaises(StateError):
            ref.tell([1], [0.5])            # idle: no run waits
        asked = ref.ask(4)
        self.assertEqual(ref.progress(), (False, 4))
        (t0, m0), (t1, m1) = asked[:2]
        for tickets, labels, why in (
                ([t0, 10 ** 12], [0.5, 0.5], "never handed out"),
                ([t0, t0], [0.5, 0.5], "twice in the call"),
                ([t0, t1], [0.5, 1.5], "a label outside [-1, 1]"),
                ([t0], [0.5, 0.5], "lengths differ")):
            with self.subTest(why=why):
                with self.assertRaises(InvalidArgument):
                    ref.tell(tickets, labels)
                self.assertEqual(ref.progress(), (False, 4), "taken")
        ref.tell([t0], [0.5])
        with self.assertRaises(InvalidArgument):
            ref.tell([t0], [0.5])           # told already
        self.assertEqual(ref.progress(), (False, 3))

    def test_stale_tickets_after_a_reset(self):
        ref = self.make()
        old = ref.ask(4)
        ref.reset()
        new = ref.ask(4)
        self.assertTrue({t for t, _ in old}.isdisjoint(t for t, _ in new))
        with self.assertRaises(InvalidArgument):
            ref.tell([old[0][0]], [0.5])
        ref.tell({t: 0.5 for t, _ in new})
        self.assertEqual(ref.ask(), [])
        self.assertTrue(ref.done)

    def test_failed_tells_are_asked_again(self):
        ref = self.make(max_retries=1)
        asked = ref.ask(4)
        by_message = {m: t for t, m in asked}
        # message 0 fails by status, 1 by NaN, 2 by infinity, 3 succeeds
        ref.tell([by_message[0], by_message[1], by_message[2], by_message[3]],
                 [0.5, math.nan, math.inf, 0.25], status=[3, 0, 0, 0])
        again = ref.ask(4)
        self.assertEqual(sorted(m for _, m in again), [0, 1, 2])
        self.assertTrue({t for t, _ in again}.isdisjoint(by_message.values()))
        ref.tell([t for t, _ in again], [0.5, 0.5, 0.5])
        self.assertEqual(ref.ask(), [])
        audit = ref.audit()
        self.assertEqual((audit["evaluations"], audit["failures"],
                          audit["retries"]), (7, 3, 3))
        self.assertGreaterEqual(audit["rounds"], 2)

    def test_past_the_retries_the_run_fails(self):
        ref = self.make(max_retries=1)
        asked = ref.ask(4)
        ref.tell({t: None if m == 2 else 0.5 for t, m in asked})
        again = ref.ask(4)
        self.assertEqual([m for _, m in again], [2])    # the one retry
        with self.assertRaises(OracleError):
            ref.tell([again[0][0]], [None])
        self.assertEqual(ref.progress().done, True)
        with self.assertRaises(OracleError):
            ref.ask()                       # the run's error, until reset
        with self.assertRaises(StateError):
            ref.rewards()
        ref.reset()
        self.assertEqual(ref.progress(), (False, 0))

    def test_ask_equals_run(self):
        labels = {0: 0.75, 1: -0.5, 2: -0.25, 3: 1.0}
        want = self.make(batch=3).run(lambda ms: [labels[m] for m in ms])
        ref = self.make()
        while True:
            asked = ref.ask(1)
            if not asked:
                break
            ref.tell({t: labels[m] for t, m in asked})
        self.assertEqual(ref.rewards(), want)


class RunControl(unittest.TestCase):
    def test_cancel(self):
        ref = Refiner(1, 4, authors=[0] * 4, credits=[1.0])
        ref.ask(2)
        ref.cancel()
        with self.assertRaises(Cancelled):
            ref.ask()
        self.assertEqual(ref.progress().done, True)
        with self.assertRaises(Cancelled):
            ref.run()
        ref.reset()                         # clears the cancellation
        self.assertEqual(ref.run(lambda ms: [0.0] * len(ms)), [0.25] * 4)
        ref.cancel()                        # a finished run keeps its result
        self.assertEqual(ref.run(), [0.25] * 4)
        ref.close()
        ref.cancel()                        # a no-op on a closed handle

    def test_cancel_from_the_scorer(self):
        ref = Refiner(1, 8, authors=[0] * 8, credits=[1.0], batch=2)
        calls = []

        def scorer(ms):
            calls.append(list(ms))
            ref.cancel()
            return [0.5] * len(ms)
        with self.assertRaises(Cancelled):
            ref.run(scorer)
        self.assertEqual(len(calls), 1)
        self.assertEqual(ref.audit()["evaluations"], 2)

    def test_audit(self):
        ref = Refiner(2, 5, authors=[0, 0, 1, 1, 1], credits=[3.0, -0.5],
                      texts=["a", "b", "c", "c", "d"], batch=2)
        # redundancy is known from the texts; the rest comes with the run
        self.assertEqual(ref.audit(), {
            "evaluations": 0, "rounds": 0, "failures": 0, "retries": 0,
            "relaxed_agents": 0, "redundant": 1})
        ref.run(lambda ms: [0.5] * len(ms))
        audit = ref.audit()
        # message 3 repeats message 2: 4 messages scored, 2 per call
        self.assertEqual(audit, {
            "evaluations": 4, "rounds": 2, "failures": 0, "retries": 0,
            "relaxed_agents": 1, "redundant": 1})
        # agent 0: credit 3 over 2 messages, beyond B = 1: relaxed
        self.assertIn("relaxed_bound", ref.agent_flags(names=True)[0])
        self.assertEqual(ref.agent_flags(names=True)[1], frozenset())
        ref.reset()
        self.assertEqual(ref.audit(), {
            "evaluations": 0, "rounds": 0, "failures": 0, "retries": 0,
            "relaxed_agents": 0, "redundant": 1})


if __name__ == "__main__":
    unittest.main()
