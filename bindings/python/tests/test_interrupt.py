"""Ctrl-C during long library calls (issue 13, defect 6).

A run whose oracle is a Game is the library's own loop with the GIL
released and no Python in it: CPython runs signal handlers on the main
thread between bytecodes only, so KeyboardInterrupt used to come after the
whole run (a 3-million-evaluation run ignored SIGINT for 200 s) and then
threw the result away. Now a long call on the main thread runs on a worker
while the main thread waits: an interrupt cancels the handle and is raised
once the call has stopped. These tests send real signals to the process.

The regression tests do not time anything: a run that is cancelled ends
with audit outcome 'cancelled' and raises Cancelled again until reset,
while the old binding let it finish (outcome 'budget', a result) before
raising. Each long call takes seconds (a run of 2^40 budget, a voting
game's exact values) and is interrupted 0.1 to 0.2 s in.
"""

import contextlib
import os
import signal
import threading
import time
import unittest

from support import agentcredit

from agentcredit import Estimator, Game, Localizer

N = 20
#: Additive and noisy: the permutation method keeps evaluating (about a
#: million evaluations, 5 to 15 s here) however large the budget.
NOISY_GAME = {"n": N,
              "terms": [{"coef": 1.0 + i, "members": [i]} for i in range(N)],
              "noise": {"kind": "gaussian", "sd": 1.0}}


class Signal:
    """Sends ``sig`` to this process from a timer thread, ``delay`` seconds
    after ``ready()`` first holds (polled), with the handler ``handler``
    installed for the duration (tests may run with SIGINT ignored, as in a
    background job)."""

    def __init__(self, delay=0.2, sig=signal.SIGINT,
                 handler=signal.default_int_handler, ready=None):
        self.delay, self.sig, self.handler = delay, sig, handler
        self.ready = ready or (lambda: True)
        self.sent = threading.Event()
        self.stop = threading.Event()

    def _fire(self):
        while not self.ready():
            if self.stop.wait(0.001):
                return
        if not self.stop.wait(self.delay):
            self.sent.set()
            os.kill(os.getpid(), self.sig)

    def __enter__(self):
        self.old = signal.signal(self.sig, self.handler)
        self.thread = threading.Thread(target=self._fire)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        # a signal sent just now is handled before the handler goes
        time.sleep(0.01)
        signal.signal(self.sig, self.old)
        return False


@contextlib.contextmanager
def entered(name):
    """An Event set once the library's function ``name`` has been entered
    (whatever thread calls it): the signal must land inside the long call,
    even on a machine so loaded that the main thread waits for a core."""
    lib = agentcredit._lib.lib
    real = getattr(lib, name)
    event = threading.Event()

    def spy(*args):
        event.set()
        return real(*args)
    setattr(lib, name, spy)
    try:
        yield event
    finally:
        setattr(lib, name, real)


class GameOracle(unittest.TestCase):
    def test_ctrl_c_cancels_a_run_with_a_game_oracle(self):
        game = Game(NOISY_GAME)
        est = Estimator(N, method="permutation", budget=2 ** 40, noisy=1,
                        seed=1)
        with entered("ac_estimator_run") as running, \
                Signal(0.2, ready=running.is_set) as sig:
            with self.assertRaises(KeyboardInterrupt) as caught:
                est.run(game)
        self.assertTrue(sig.sent.is_set())
        # the run was stopped, not finished and then thrown away
        audit = est.audit()
        self.assertEqual(audit["outcome"], "cancelled")
        self.assertLess(audit["evaluations"], 2 ** 40)
        self.assertTrue(est.progress().done)
        self.assertIsInstance(caught.exception.__cause__,
                              agentcredit.Cancelled)
        with self.assertRaises(agentcredit.StateError):
            est.result()
        with self.assertRaises(agentcredit.Cancelled):
            est.run()
        # reset makes the handle ready again
        est.reset()
        est.budget = 2000
        phi, _ = est.run(game)
        self.assertEqual(len(phi), N)
        self.assertEqual(est.audit()["outcome"], "budget")

    def test_a_handler_that_raises_its_own_exception(self):
        # a timeout from SIGALRM cancels the run as Ctrl-C does
        class Timeout(Exception):
            pass

        def on_alarm(signum, frame):
            raise Timeout("too slow")
        game = Game(NOISY_GAME)
        est = Estimator(N, method="permutation", budget=2 ** 40, noisy=1)
        with entered("ac_estimator_run") as running, \
                Signal(0.1, signal.SIGALRM, on_alarm, ready=running.is_set):
            with self.assertRaises(Timeout):
                est.run(game)
        self.assertEqual(est.audit()["outcome"], "cancelled")

    def test_a_handler_that_does_not_raise_does_not_cancel(self):
        # e.g. a trainer's "stop after this step" flag: the handler runs
        # during the call and the run goes on, until Ctrl-C stops it
        seen = []
        game = Game(NOISY_GAME)
        est = Estimator(N, method="permutation", budget=2 ** 40, noisy=1)
        with entered("ac_estimator_run") as running, \
                Signal(0.05, signal.SIGUSR1, lambda s, f: seen.append(s),
                       ready=running.is_set), \
                Signal(0.25, ready=running.is_set):
            with self.assertRaises(KeyboardInterrupt) as caught:
                est.run(game)
        self.assertEqual(seen, [signal.SIGUSR1])
        self.assertIsInstance(caught.exception.__cause__,
                              agentcredit.Cancelled)

    def test_from_another_thread(self):
        # only the main thread gets signals: a run from another thread is
        # made right there, its callbacks on that thread
        game = Game(NOISY_GAME)
        out = []

        def oracle(cs):
            out.append(threading.get_ident())
            return [float(bin(c).count("1")) for c in cs]

        def work():
            est = Estimator(N, method="permutation", budget=2000, noisy=1)
            out.append(len(est.run(game).phi))
            out.append(Estimator(6, method="exact").run(oracle).phi)
            out.append(threading.get_ident())
        t = threading.Thread(target=work)
        t.start()
        t.join()
        self.assertEqual(out[0], N)
        self.assertEqual(set(out[1:-2]), {out[-1]})
        self.assertEqual(out[-2], [1.0] * 6)


class AskTell(unittest.TestCase):
    def test_ctrl_c_during_the_ask_that_computes(self):
        # The ask after the last tell computes the estimate: OddSHAP's fit
        # for n = 20 and budget 8190 takes seconds (14 s before the fit
        # looked at cancel, issue 13 defect 4).
        budget = 8190
        est = Estimator(20, method="oddshap", budget=budget)
        while est.audit()["evaluations"] < budget:
            batch = est.ask(budget)
            est.tell([t for t, _ in batch],
                     [float(bin(c).count("1")) for _, c in batch])
        with entered("ac_estimator_ask") as asking, \
                Signal(0.1, ready=asking.is_set):
            with self.assertRaises(KeyboardInterrupt) as caught:
                est.ask(budget)
        self.assertEqual(est.audit()["outcome"], "cancelled")
        self.assertIsInstance(caught.exception.__cause__,
                              agentcredit.Cancelled)


class PythonCallbacks(unittest.TestCase):
    def test_callbacks_run_on_the_calling_thread(self):
        # the worker hands each callback back to the thread that called
        # run(): thread-locals and signals stay where they were
        where = set()

        def oracle(cs):
            where.add(threading.get_ident())
            return [float(bin(c).count("1")) for c in cs]
        est = Estimator(10, method="permutation", budget=400, batch=8)
        phi, _ = est.run(oracle)
        self.assertEqual(where, {threading.get_ident()})
        self.assertTrue(all(abs(p - 1.0) < 1e-9 for p in phi))

        seen = set()

        def verifier(ps):
            seen.add(threading.get_ident())
            return [1.0 if p < 7 else 0.0 for p in ps]
        with Localizer(30, strategy="binary") as loc:
            self.assertEqual(loc.run(verifier).step, 7)
        self.assertEqual(seen, {threading.get_ident()})

    def test_interrupt_inside_a_python_oracle(self):
        # the signal lands in the oracle: it raises there, as before
        calls = []

        def oracle(cs):
            calls.append(len(cs))
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(5)   # interrupted
            return [float(bin(c).count("1")) for c in cs]
        est = Estimator(12, method="permutation", budget=20000, batch=4)
        old = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with self.assertRaises(KeyboardInterrupt) as caught:
                est.run(oracle)
        finally:
            signal.signal(signal.SIGINT, old)
        self.assertEqual(len(calls), 3)
        self.assertIsInstance(caught.exception.__cause__,
                              agentcredit.CallbackError)
        self.assertEqual(est.audit()["outcome"], "error")

    def test_nested_long_calls(self):
        # a callback that runs another handle (a second worker)
        game = Game({"n": 4, "terms": [{"coef": 1.0, "members": [0, 1]}]})

        def oracle(cs):
            with Estimator(4, method="exact") as inner:
                phi, _ = inner.run(game)
            return [phi[0] * bin(c).count("1") for c in cs]
        phi, _ = Estimator(3, method="exact").run(oracle)
        self.assertEqual(phi, [0.5, 0.5, 0.5])


class Uncancellable(unittest.TestCase):
    def test_ctrl_c_during_game_exact(self):
        # Nothing can cancel ac_game_exact: KeyboardInterrupt comes at
        # once and the computation (a second or more: 40 players, weights
        # summing to 1e5, past the default max_exact_work) finishes alone;
        # the game's next call waits for it.
        n = 40
        weights = [(i * 7919) % (2 * 100000 // n) + 1 for i in range(n)]
        game = Game({"n": n, "type": "voting", "weights": weights,
                     "quota": sum(weights) // 2},
                    limits={"max_exact_work": 2 ** 40,
                            "max_memory": 2 ** 32})
        with Signal(0.05, ready=game._guard.busy):
            with self.assertRaises(KeyboardInterrupt):
                game.exact()
            # still computing when the interrupt came
            self.assertTrue(game._guard.busy())
        self.assertEqual(game.value((1 << n) - 1), 1.0)   # waits
        self.assertFalse(game._guard.busy())
        phi = game.exact()
        self.assertAlmostEqual(sum(phi), 1.0, delta=1e-9)


class Fork(unittest.TestCase):
    @unittest.skipUnless(hasattr(os, "fork"), "no fork")
    def test_runs_after_fork(self):
        # the parent's idle worker threads do not exist in the child
        game = Game(NOISY_GAME)
        Estimator(N, method="permutation", budget=100, noisy=1).run(game)
        pid = os.fork()
        if pid == 0:    # the child
            code = 1
            try:
                est = Estimator(N, method="permutation", budget=100,
                                noisy=1)
                code = 0 if len(est.run(game).phi) == N else 1
            finally:
                os._exit(code)
        for _ in range(3000):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.01)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.fail("the child's run did not return")
        self.assertTrue(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0)


if __name__ == "__main__":
    unittest.main()
