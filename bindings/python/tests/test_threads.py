"""Concurrency: 8 threads with 8 handles give bit-identical results to serial
runs; one handle fed from a thread pool; cancel from any thread."""

import concurrent.futures
import math
import random
import threading
import unittest

from support import TESTDATA, agentcredit

from agentcredit import Estimator, Game, Localizer, Refiner

THREADS = 8


def team_oracle(seed):
    """A noise-free 10-player game, different per seed."""
    rng = random.Random(seed)
    w = [rng.uniform(-1, 1) for _ in range(10)]
    pairs = [(rng.randrange(10), rng.randrange(10), rng.uniform(0, 1))
             for _ in range(6)]

    def v(c):
        s = math.fsum(w[i] for i in range(10) if c >> i & 1)
        return s + sum(b for i, j, b in pairs if c >> i & 1 and c >> j & 1)
    return lambda cs: [v(c) for c in cs], v


def estimate(seed, use_game=False):
    """One worker's episode: credit with a Python oracle (or its own Game),
    then a localization with a noisy verifier, then the rewards."""
    if use_game:    # the C oracle of the thread's own noisy game
        game = Game.load(TESTDATA / "team6_noisy.json")
        game.seed(seed)
        with Estimator(6, method="permutation", budget=200, seed=seed,
                       oracle=game) as est:
            phi, se = est.run()
    else:           # a Python oracle
        oracle, v = team_oracle(seed)
        with Estimator(10, method="kernelshap", budget=300, seed=seed,
                       batch=16, known={1023: v(1023), 0: 0.0}) as est:
            phi, se = est.run(oracle)
    rng = random.Random(seed)
    err = seed % 20

    def verifier(ps):   # independent noise, reproducible per call
        return [(1.0 if p < err else 0.0) if rng.random() < 0.85 else
                (0.0 if p < err else 1.0) for p in ps]
    with Localizer(20, noise="independent", accuracy=0.85, batch=2,
                   budget=60) as loc:
        first = loc.run(verifier)
        post = loc.posterior()
        labels = loc.blame_labels()
    authors = [t % len(phi) for t in range(20)]
    with Refiner(len(phi), 20, authors=authors, credits=phi,
                 labels=labels) as ref:
        rewards = ref.run()
    return phi, se, first, post, rewards


class EightThreads(unittest.TestCase):
    def run_parallel(self, fn, seeds):
        barrier = threading.Barrier(len(seeds))
        results = [None] * len(seeds)
        errors = []

        def work(k):
            try:
                barrier.wait(10)
                results[k] = fn(seeds[k])
            except BaseException as exc:  # noqa: B902
                errors.append(exc)
        threads = [threading.Thread(target=work, args=(k,))
                   for k in range(len(seeds))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if errors:
            raise errors[0]
        return results

    def test_parallel_equals_serial(self):
        seeds = list(range(100, 100 + THREADS))
        serial = [estimate(s) for s in seeds]
        for _ in range(2):
            parallel = self.run_parallel(estimate, seeds)
            self.assertEqual(parallel, serial)
        # and the seeds do differ
        self.assertEqual(len({tuple(r[0]) for r in serial}), THREADS)

    def test_parallel_with_game_oracles(self):
        seeds = list(range(THREADS))
        serial = [estimate(s, use_game=True) for s in seeds]
        parallel = self.run_parallel(lambda s: estimate(s, use_game=True),
                                     seeds)
        self.assertEqual(parallel, serial)

    def test_gil_is_released_during_c_calls(self):
        # a long C run on one thread does not stop Python on another
        game = Game({"n": 16, "values": [float(bin(s).count("1"))
                                         for s in range(1 << 16)]})
        ticks = []
        stop = threading.Event()

        def ticker():
            while not stop.is_set():
                ticks.append(1)
                stop.wait(0.001)
        t = threading.Thread(target=ticker)
        t.start()
        try:
            est = Estimator(16, method="exact", budget=1 << 17, oracle=game)
            phi, _ = est.run()
        finally:
            stop.set()
            t.join()
        self.assertTrue(all(abs(p - 1.0) < 1e-9 for p in phi))
        self.assertGreater(len(ticks), 0)


class OneHandleManyThreads(unittest.TestCase):
    def test_thread_pool_tells_in_any_order(self):
        oracle, v = team_oracle(7)
        want = Estimator(10, method="permutation", budget=400, seed=7,
                         known={1023: v(1023), 0: 0.0}).run(oracle)
        est = Estimator(10, method="permutation", budget=400, seed=7,
                        known={1023: v(1023), 0: 0.0})
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            while True:
                batch = est.ask(32)
                if not batch:
                    if est.progress().done:
                        break
                    continue
                futures = {pool.submit(v, c): t for t, c in batch}
                # tell each value from the worker thread that computed it:
                # the handle's lock serialises the calls
                done = concurrent.futures.wait(futures)
                for f in done.done:
                    pool.submit(est.tell, [futures[f]], [f.result()]).result()
        self.assertEqual(est.result(), want)

    def test_cancel_while_another_thread_runs(self):
        loc = Localizer(10 ** 5, strategy="linear", budget=10 ** 6)
        started = threading.Event()

        def verifier(ps):
            started.set()
            return [1.0] * len(ps)
        out = []
        t = threading.Thread(target=lambda: out.append(self.catch(loc,
                                                                  verifier)))
        t.start()
        started.wait(10)
        loc.cancel()
        t.join(30)
        self.assertIsInstance(out[0], agentcredit.Cancelled)

    @staticmethod
    def catch(loc, verifier):
        try:
            loc.run(verifier)
        except Exception as exc:  # noqa: B902
            return exc
        return None

    def test_close_waits_for_the_running_thread(self):
        est = Estimator(12, method="permutation", budget=20000, batch=16)
        started = threading.Event()

        def oracle(cs):
            started.set()
            return [float(bin(c).count("1")) for c in cs]
        out = []
        t = threading.Thread(target=lambda: out.append(est.run(oracle)))
        t.start()
        started.wait(10)
        est.close()             # blocks until run() returned, then frees
        t.join(30)
        self.assertTrue(est.closed)
        self.assertEqual(len(out[0].phi), 12)


if __name__ == "__main__":
    unittest.main()
