"""Driving ask/tell from asyncio and from a thread pool: the results equal
run() with the same seed, whatever order the evaluations finish in."""

import asyncio
import concurrent.futures
import random
import unittest

import support  # noqa: F401  (puts the package on sys.path)

from agentcredit import Estimator, Localizer, Refiner

WEIGHTS = [0.4, 0.1, -0.2, 0.3, 0.25, 0.05, 0.6]


def value(c):
    s = sum(w for i, w in enumerate(WEIGHTS) if c >> i & 1)
    return s + (0.5 if c & 0b11 == 0b11 else 0.0)


def fresh():
    n = len(WEIGHTS)
    return Estimator(n, method="kernelshap", budget=120, seed=5,
                     known={(1 << n) - 1: value((1 << n) - 1), 0: 0.0})


class AsyncIO(unittest.TestCase):
    def test_estimator(self):
        want = fresh().run(lambda cs: [value(c) for c in cs])
        rng = random.Random(1)

        async def rollout(c):
            await asyncio.sleep(rng.random() / 1000)   # finishes any time
            return value(c)

        async def main(est):
            pending = {}
            while True:
                for ticket, c in est.ask(16):
                    pending[asyncio.ensure_future(rollout(c))] = ticket
                if not pending:
                    if est.progress().done:
                        return est.result()
                    continue
                done, _ = await asyncio.wait(
                    pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    est.tell([pending.pop(task)], [task.result()])

        with fresh() as est:
            got = asyncio.run(main(est))
            self.assertGreater(est.audit()["rounds"], 1)
        self.assertEqual(got, want)

    def test_localizer_and_refiner(self):
        err = 9

        async def judge(p):
            await asyncio.sleep(0)
            return 1.0 if p < err else 0.0

        async def localize(loc):
            while True:
                asked = loc.ask()
                if not asked:
                    return loc.result()
                answers = await asyncio.gather(*(judge(p) for _, p in asked))
                loc.tell([t for t, _ in asked], answers)

        async def label(ref):
            while True:
                asked = ref.ask(4)
                if not asked:     # every label in: this ask refined
                    return ref.rewards()
                labels = await asyncio.gather(*(asyncio.sleep(0, result=(
                    -1.0 if m == err else 0.2)) for _, m in asked))
                ref.tell([t for t, _ in asked], labels)

        loc = Localizer(15, batch=4)
        res = asyncio.run(localize(loc))
        self.assertEqual(res.step, err)
        authors = [t % 3 for t in range(15)]
        ref = Refiner(3, 15, authors=authors, credits=[0.3, -0.1, 0.2])
        rewards = asyncio.run(label(ref))
        labels = [-1.0 if m == err else 0.2 for m in range(15)]
        self.assertEqual(rewards, Refiner(3, 15, authors=authors,
                                          credits=[0.3, -0.1, 0.2],
                                          labels=labels).run())


class ThreadPool(unittest.TestCase):
    def test_estimator(self):
        want = fresh().run(lambda cs: [value(c) for c in cs])
        with fresh() as est, \
                concurrent.futures.ThreadPoolExecutor(4) as pool:
            while not est.progress().done:
                batch = est.ask(16)
                futures = {pool.submit(value, c): t for t, c in batch}
                for f in concurrent.futures.as_completed(futures):
                    est.tell([futures[f]], [f.result()])
            self.assertEqual(est.result(), want)


if __name__ == "__main__":
    unittest.main()
