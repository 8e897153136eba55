"""The refiner's five properties on random episodes (conservation, bound,
sign, monotone, local), its three label feeds, redundancy and fixed
labels."""

import math
import random
import unittest

from support import agentcredit

from agentcredit import InvalidArgument, Refiner, StateError


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
        if flags & agentcredit.refiner.RELAXED_BOUND:
            self.assertTrue(all(r == phi / k for r in rs), ctx)
            return
        # 2. bound
        self.assertTrue(all(abs(r) <= bound for r in rs), ctx)
        # 3. sign (with the sign relaxed, the side agreeing with phi keeps it)
        keep_pos = keep_neg = True
        if flags == agentcredit.refiner.RELAXED_SIGN:
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
            rewards = ref.refine()
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
                                   labels=labels2).refine()
                for t in range(len(authors)):
                    if authors[t] != 0:
                        self.assertEqual(rewards2[t], rewards[t])
        self.assertGreater(relaxed, 0, "no case exercised a relaxation")

    def test_deterministic(self):
        rng = random.Random(3)
        n_agents, authors, credits, labels, bound, beta = random_episode(rng)
        runs = [Refiner(n_agents, len(authors), bound=bound, beta=beta,
                        authors=authors, credits=credits,
                        labels=labels).refine() for _ in range(3)]
        self.assertEqual(runs[0], runs[1])
        self.assertEqual(runs[1], runs[2])


class Feeds(unittest.TestCase):
    authors = [0, 1, 0, 2, 1, 0]
    credits = [0.6, -0.2, 0.3]
    labels = [0.5, -0.5, 1.0, 0.0, 0.25, -1.0]

    def base(self, **kw):
        return Refiner(3, 6, authors=self.authors, credits=self.credits, **kw)

    def test_scorer_equals_array(self):
        want = self.base(labels=self.labels).refine()
        batches = []

        def scorer(messages):
            batches.append(list(messages))
            return [self.labels[m] for m in messages]
        ref = self.base(batch=4)
        ref.score(scorer)
        self.assertEqual(ref.refine(), want)
        self.assertEqual(sorted(sum(batches, [])), list(range(6)))
        self.assertTrue(all(len(b) <= 4 for b in batches))

    def test_failed_labels_are_asked_again(self):
        asked = {}

        def flaky(messages):
            out = []
            for m in messages:
                asked[m] = asked.get(m, 0) + 1
                out.append(None if asked[m] == 1 else self.labels[m])
            return out
        ref = self.base()
        ref.score(flaky)
        self.assertEqual(ref.refine(), self.base(labels=self.labels).refine())
        self.assertTrue(all(v == 2 for v in asked.values()))

    def test_ask_tell_equals_array(self):
        want = self.base(labels=self.labels).refine()
        ref = self.base()
        pending = []
        while True:
            got = ref.ask(2)
            if not got:
                break
            pending += got
        self.assertEqual(sorted(pending), list(range(6)))
        pending.reverse()
        ref.tell({m: self.labels[m] for m in pending[:3]})
        ref.tell(pending[3:], [self.labels[m] for m in pending[3:]])
        self.assertEqual(ref.refine(), want)
        with self.assertRaises(InvalidArgument):
            ref.tell([0], [0.5])          # not outstanding

    def test_labels_from_shapley(self):
        ref = self.base(labels=self.labels)
        msgs = ref.agent_messages(0)
        self.assertEqual(msgs, [0, 2, 5])
        ref.labels_from_shapley(0, [0.2, -0.4, 0.1])
        ref.refine()
        got = ref.labels()
        self.assertEqual([got[m] for m in msgs], [0.5, -1.0, 0.25])
        ref.labels_from_shapley(0, [0.0, 0.0, 0.0])
        ref.refine()
        self.assertEqual([ref.labels()[m] for m in msgs], [0.0, 0.0, 0.0])
        with self.assertRaises(InvalidArgument):
            ref.labels_from_shapley(0, [1.0, 2.0])

    def test_fixed_label_and_redundancy(self):
        ref = self.base(labels=self.labels, redundancy_penalty=0.75)
        ref.set_texts(["plan", "code", "plan  ", "review", "code", "fix"])
        ref.refine()
        flags = ref.message_flags(names=True)
        self.assertEqual(flags[2], {"redundant"})   # agent 0 repeats itself
        self.assertEqual(flags[4], {"redundant"})   # agent 1 too
        self.assertEqual(ref.labels()[2], -0.75)
        ref.fix_label(2, 0.9)
        ref.refine()
        self.assertEqual(ref.labels()[2], 0.9)
        self.assertEqual(ref.message_flags()[2],
                         agentcredit.refiner.MSG_REDUNDANT |
                         agentcredit.refiner.MSG_LABEL_FIXED)
        rewards = ref.refine()
        for a, c in enumerate(self.credits):
            self.assertAlmostEqual(math.fsum(r for r, x in zip(
                rewards, self.authors) if x == a), c, delta=1e-12)
        self.assertEqual(ref.flags()["agents"], [frozenset()] * 3)

    def test_texts_as_bytes_with_nul(self):
        ref = Refiner(1, 2, authors=[0, 0], credits=[1.0], labels=[0.5, 0.5])
        ref.set_texts([b"a\x00b", "a\x00b"])
        self.assertEqual(ref.message_flags(), [0, 1])
        with self.assertRaises(TypeError):
            ref.set_texts([1, 2])

    def test_states(self):
        ref = self.base()
        with self.assertRaises(StateError):
            ref.rewards()
        with self.assertRaises(StateError):
            ref.refine()        # no labels yet
        ref.set_labels(self.labels)
        first = ref.refine(as_numpy=False)
        ref.reset()             # forgets labels and results
        with self.assertRaises(StateError):
            ref.rewards()
        ref.set_labels(self.labels)
        self.assertEqual(ref.refine(), first)
        ref.reset("known")
        ref.set_labels(self.labels)
        with self.assertRaises(StateError):
            ref.refine()        # authors and credits forgotten


if __name__ == "__main__":
    unittest.main()
