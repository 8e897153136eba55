"""Every error path: status -> exception class, messages, bad parameters,
non-finite values, budgets, sizes, failing and raising callbacks, state
errors, re-entrancy, cancellation."""

import math
import pickle
import threading
import time
import unittest

from support import TESTDATA, agentcredit

from agentcredit import (AgentCreditError, BudgetError, Busy, CallbackError,
                         Cancelled, Estimator, Game, Infeasible,
                         InvalidArgument, IOFailure, Localizer, NoMemory,
                         OracleError, ParamOutOfBound, ParamUnsupported,
                         ParseError, Refiner, StateError, TooLarge)


def additive(cs):
    return [float(bin(c).count("1")) for c in cs]


class Statuses(unittest.TestCase):
    def test_every_status_has_its_class(self):
        table = {-1: InvalidArgument, -2: NoMemory, -3: StateError,
                 -4: TooLarge, -10: ParamUnsupported, -11: ParamOutOfBound,
                 -20: CallbackError, -21: OracleError, -22: Cancelled,
                 -23: Busy, -30: BudgetError, -31: Infeasible,
                 -40: ParseError, -41: IOFailure}
        for status, cls in table.items():
            err = agentcredit.error_class(status)(status, "detail", "fn")
            self.assertIs(type(err), cls)
            self.assertIsInstance(err, AgentCreditError)
            self.assertEqual(err.status, status)
            self.assertEqual(err.status_name, agentcredit.status_name(status))
            self.assertTrue(err.status_name.startswith("AC_E_"))
            self.assertEqual(str(err), agentcredit.strerror(status) +
                             ": detail")
            again = pickle.loads(pickle.dumps(err))
            self.assertEqual((type(again), again.status, str(again)),
                             (cls, status, str(err)))
        self.assertIs(agentcredit.error_class(-999), AgentCreditError)
        self.assertEqual(agentcredit.status_name(-999), "AC_E_UNKNOWN")
        self.assertEqual(agentcredit.strerror(-999), "unknown status code")
        self.assertTrue(issubclass(IOFailure, OSError))
        self.assertTrue(issubclass(ParamOutOfBound, ValueError))

    def test_message_is_strerror_plus_last_error(self):
        with Estimator(3) as est:
            with self.assertRaises(StateError) as cm:
                est.result()
            self.assertEqual(str(cm.exception),
                             agentcredit.strerror(-3) + ": " + est.last_error)
            self.assertEqual(cm.exception.function, "ac_estimator_result")
            self.assertEqual(cm.exception.status_name, "AC_E_STATE")


class Parameters(unittest.TestCase):
    def test_out_of_bound(self):
        cases = [(Estimator, (3,), "budget", -1),
                 (Estimator, (3,), "budget", 2 ** 40 + 1),
                 (Estimator, (3,), "budget", 2 ** 70),
                 (Estimator, (3,), "repeats", 0),
                 (Estimator, (3,), "batch", 0),
                 (Estimator, (3,), "target_se", -0.5),
                 (Estimator, (3,), "target_se", math.nan),
                 (Estimator, (3,), "method", 9),
                 (Estimator, (3,), "method", "magic"),
                 (Refiner, (2, 2), "bound", 0.0),
                 (Refiner, (2, 2), "relaxation", "sometimes"),
                 (Localizer, (4,), "accuracy", 0.4),
                 (Localizer, (4,), "target", 1.0),
                 (Localizer, (4,), "noise", "loud"),
                 (Localizer, (4,), "candidates", 0)]
        for cls, args, name, value in cases:
            with self.subTest(cls=cls.__name__, param=name, value=value):
                with self.assertRaises(ParamOutOfBound) as cm:
                    cls(*args, **{name: value})
                self.assertEqual(cm.exception.status, -11)
                h = cls(*args)
                before = h.get_param(name)
                with self.assertRaises(ParamOutOfBound):
                    h.set_param(name, value)
                self.assertEqual(h.get_param(name), before, "changed")

    def test_unknown_parameters(self):
        est = Estimator(3)
        with self.assertRaises(ParamUnsupported):
            est.set_param("nope", 1)
        with self.assertRaises(ParamUnsupported) as cm:
            est.set_param(999, 1)       # the C library says so
        self.assertIn("999", str(cm.exception))
        with self.assertRaises(ParamUnsupported):
            Estimator.param_bounds("nope")
        with self.assertRaises(TypeError):
            Estimator(3, bogus=1)
        with self.assertRaises(TypeError):
            est.budget = "lots"
        with self.assertRaises(TypeError):
            est.budget = 5.0

    def test_wrong_type_in_c_is_invalid_argument(self):
        est = Estimator(3)
        with est._use("test") as ptr:
            rc = agentcredit._lib.lib.ac_estimator_set_int(
                ptr, agentcredit.EstimatorParam.TARGET_SE, 1)
        self.assertEqual(rc, agentcredit.Status.E_INVALID_ARG)

    def test_bounds_and_values(self):
        self.assertEqual(Estimator.param_bounds("budget"), (0, 2 ** 40))
        self.assertEqual(Estimator.param_bounds("target_se"), (0.0, 1e300))
        self.assertEqual(Estimator.param_bounds("method"), (0, 6))
        self.assertEqual(Localizer.param_bounds("accuracy"), (0.5, 0.999999999))
        self.assertEqual(Refiner.param_bounds("max_retries"), (0, 1000))
        est = Estimator(3, method="kernelshap", budget=500, seed=1, repeats=8,
                        batch=64, max_retries=2, target_se=0.01)
        self.assertEqual(est.params(), {
            "method": "kernelshap", "budget": 500, "seed": 1, "batch": 64,
            "repeats": 8, "max_retries": 2, "noisy": 0, "target_se": 0.01,
            "interactions": 0})
        est.method = 2
        self.assertEqual(est.method, "permutation")
        est.reset("params")
        self.assertEqual(est.budget, 2048)
        loc = Localizer(3, monotone=False)
        self.assertIs(loc.monotone, False)
        self.assertIs(loc.scan_after, True)

    def test_parameters_are_frozen_during_a_run(self):
        est = Estimator(3)
        est.ask(2)
        with self.assertRaises(StateError):
            est.budget = 10
        est.reset()
        est.budget = 10

    def test_inputs_only_while_idle(self):
        """After a run, set_value, a parameter and reset('known') alone
        raise StateError and change nothing: no silent reset."""
        est = Estimator(3, method="exact", known={7: 3.0, 0: 0.0})
        want = est.run(additive)
        for name, call in (("set_value", lambda: est.set_value(7, 5.0)),
                           ("seed", lambda: setattr(est, "seed", 9)),
                           ("reset known", lambda: est.reset("known")),
                           ("reset params", lambda: est.reset("params"))):
            with self.subTest(call=name):
                with self.assertRaises(StateError):
                    call()
                self.assertEqual(est.result(), want)
        self.assertEqual(est.audit()["known"], 2)
        est.reset("session", "known")
        est.set_value(7, 5.0)
        self.assertEqual(est.audit()["known"], 1)
        with self.assertRaises(InvalidArgument):
            est.reset(8)                # an unknown reset flag


class Values(unittest.TestCase):
    def test_non_finite_inputs(self):
        est = Estimator(3)
        for bad in (math.nan, math.inf, -math.inf):
            with self.assertRaises(InvalidArgument):
                est.set_value(7, bad)
        with self.assertRaises(InvalidArgument):
            agentcredit.shapley_exact([0.0, math.nan])
        with self.assertRaises(InvalidArgument):
            agentcredit.shapley_exact([0.0, 1.0, 2.0])
        with self.assertRaises(InvalidArgument):
            agentcredit.shapley_exact([1.0])
        ref = Refiner(2, 3)
        with self.assertRaises(InvalidArgument):
            ref.set_labels([0.0, math.nan, 0.5])
        with self.assertRaises(InvalidArgument):
            ref.set_labels([0.0, 1.5, 0.5])
        with self.assertRaises(InvalidArgument):
            ref.set_credits([math.inf, 0.0])
        with self.assertRaises(InvalidArgument):
            ref.set_credits([1.0])          # wrong length
        loc = Localizer(3)
        with self.assertRaises(InvalidArgument):
            loc.set_prior([1, 1, math.nan, 1])
        with self.assertRaises(InvalidArgument):
            loc.set_prior([0, 0, 0, 0])

    def test_budget(self):
        with self.assertRaises(BudgetError) as cm:
            Estimator(3, budget=0).run(additive)
        self.assertIn("budget is 0", str(cm.exception))
        # known v(all) and v(empty) make one player free
        phi, _ = Estimator(1, budget=0, known={1: 2.0, 0: 0.0}).run(additive)
        self.assertEqual(phi, [2.0])
        with self.assertRaises(BudgetError):
            Estimator(5, budget=3, method="exact").run(additive)
        with self.assertRaises(TooLarge):
            Estimator(31, method="exact").run(additive)

    def test_huge_ask_allocates_only_what_can_come(self):
        est = Estimator(3, budget=100, method="exact")
        self.assertEqual(len(est.ask(2 ** 32 - 1)), 8)
        loc = Localizer(10 ** 6, batch=4)
        self.assertEqual(len(loc.ask(2 ** 32 - 1)), 4)
        ref = Refiner(1, 3, authors=[0, 0, 0], credits=[1.0])
        self.assertEqual([m for _, m in ref.ask(2 ** 32 - 1)], [0, 1, 2])
        with self.assertRaises(InvalidArgument):
            est.ask(-1)
        with self.assertRaises(InvalidArgument):
            est.ask(2 ** 32)

    def test_sizes(self):
        for n, cls in ((65537, TooLarge), (2 ** 32, TooLarge),
                       (2 ** 40, TooLarge), (0, InvalidArgument),
                       (-1, InvalidArgument)):
            with self.subTest(n=n):
                with self.assertRaises(cls):
                    Estimator(n)
        self.assertEqual(Estimator(65536).words, 1024)
        with self.assertRaises(TooLarge):
            Localizer(2 ** 24 + 1)
        with self.assertRaises(TooLarge):
            Refiner(2, 2 ** 28 + 1)
        with self.assertRaises(InvalidArgument):
            Refiner(0, 3)
        with self.assertRaises(TypeError):
            Estimator(3.0)


class FailingOracles(unittest.TestCase):
    def test_nan_and_none_are_retried_then_oracle_error(self):
        for bad in (math.nan, None, math.inf):
            with self.subTest(value=bad):
                calls = []

                def oracle(cs):
                    calls.append(len(cs))
                    return [bad] * len(cs)
                est = Estimator(2, method="exact", max_retries=3)
                with self.assertRaises(OracleError) as cm:
                    est.run(oracle)
                self.assertIn("4 times", str(cm.exception))
                audit = est.audit()
                self.assertEqual(audit["outcome"], "error")
                self.assertEqual(audit["retries"], audit["failures"] - 1)
                self.assertGreaterEqual(audit["failures"], 4)
                self.assertEqual(len(calls), 4)

    def test_sporadic_failures_are_retried(self):
        seen = {}

        def flaky(cs):
            out = []
            for c in cs:
                seen[c] = seen.get(c, 0) + 1
                out.append(None if seen[c] == 1 else float(c))
            return out
        est = Estimator(3, method="exact")
        phi, _ = est.run(flaky)
        self.assertEqual(est.audit()["failures"], 8)
        self.assertEqual(phi, Estimator(3, method="exact").run(
            lambda cs: [float(c) for c in cs]).phi)

    def test_status_in_tell(self):
        est = Estimator(2, max_retries=0)
        asked = est.ask(8)
        with self.assertRaises(OracleError):
            est.tell([t for t, _ in asked], [1.0] * len(asked),
                     status=[7] + [0] * (len(asked) - 1))

    def test_wrong_results_abort_with_the_python_error(self):
        for result, exc in (([1.0], ValueError), (None, TypeError),
                            ("abc", TypeError), (5, TypeError),
                            ([object()] * 4, TypeError)):
            with self.subTest(result=result):
                est = Estimator(2, method="exact")
                with self.assertRaises(exc) as cm:
                    est.run(lambda cs, r=result: r)
                self.assertIsInstance(cm.exception.__cause__, CallbackError)


class RaisingCallbacks(unittest.TestCase):
    def check_chain(self, cm, detail_part):
        cause = cm.exception.__cause__
        self.assertIsInstance(cause, CallbackError)
        self.assertEqual(cause.status, -20)
        self.assertIn(detail_part, str(cause))

    def test_oracle(self):
        class Boom(Exception):
            pass

        def oracle(cs):
            raise Boom("no rollout today")
        est = Estimator(3)
        with self.assertRaises(Boom) as cm:
            est.run(oracle)
        self.check_chain(cm, "the Python callback raised Boom: no rollout")
        self.assertEqual(est.audit()["outcome"], "error")
        self.assertIn("callback", est.last_error)
        # the handle stays in its failed state: CallbackError from now on
        with self.assertRaises(CallbackError):
            est.run()
        est.reset()
        self.assertEqual(est.run(additive).phi, [1.0, 1.0, 1.0])

    def test_existing_cause_is_kept(self):
        def oracle(cs):
            try:
                raise KeyError("inner")
            except KeyError as inner:
                raise RuntimeError("outer") from inner
        with self.assertRaises(RuntimeError) as cm:
            Estimator(2).run(oracle)
        self.assertIsInstance(cm.exception.__cause__, KeyError)

    def test_keyboard_interrupt_goes_through(self):
        def oracle(cs):
            raise KeyboardInterrupt
        est = Estimator(2)
        with self.assertRaises(KeyboardInterrupt):
            est.run(oracle)

    def test_scorer(self):
        ref = Refiner(1, 3, authors=[0, 0, 0], credits=[1.0])
        with self.assertRaises(ZeroDivisionError) as cm:
            ref.run(lambda ms: [1 / 0 for _ in ms])
        self.check_chain(cm, "ZeroDivisionError")
        # the run failed: a new scorer is taken, but the run's error stays
        with self.assertRaises(CallbackError):
            ref.run(lambda ms: [0.5] * len(ms))
        ref.reset()
        with self.assertRaises(ValueError) as cm:
            ref.run(lambda ms: [0.5])     # too few labels
        ref.reset()
        with self.assertRaises(InvalidArgument) as cm:
            ref.run(lambda ms: [3.0] * len(ms))   # outside [-1, 1]
        self.assertIn("3", cm.exception.detail)
        ref.reset()
        self.assertEqual(ref.run(lambda ms: [0.5] * len(ms)),
                         [1 / 3, 1 / 3, 1 / 3])

    def test_verifier(self):
        loc = Localizer(6)
        with self.assertRaises(LookupError) as cm:
            loc.run(lambda ps: {}["missing"])
        self.check_chain(cm, "KeyError")
        self.assertEqual(loc.progress().done, True)
        with self.assertRaises(CallbackError):
            loc.run()

    def test_repair_and_check(self):
        def verifier(ps):
            return [1.0 if p < 3 else 0.0 for p in ps]

        def ok_check(step, ids):
            return [1.0] * len(ids)
        for repair, check, exc in (
                (lambda s, m: 1 / 0, ok_check, ZeroDivisionError),
                (lambda s, m: [1, 2], lambda s, ids: [][5], IndexError),
                (lambda s, m: list(range(m + 1)), ok_check, ValueError),
                (lambda s, m: [-1], ok_check, InvalidArgument)):
            with self.subTest(exc=exc):
                loc = Localizer(6, authors=[0, 1] * 3, candidates=2)
                loc.run(verifier)
                loc.set_repair(repair, check)
                with self.assertRaises(exc) as cm:
                    loc.make_pair(1)
                self.assertIsInstance(cm.exception.__cause__, CallbackError)


class States(unittest.TestCase):
    def test_closed_handles(self):
        for h in (Estimator(2), Refiner(1, 1), Localizer(2),
                  Game({"n": 1, "values": [0, 1]})):
            with self.subTest(handle=type(h).__name__):
                self.assertFalse(h.closed)
                h.close()
                h.close()           # idempotent
                self.assertTrue(h.closed)
                self.assertIn("closed", repr(h))
                with self.assertRaises(StateError) as cm:
                    h.last_error
                self.assertIn("closed", str(cm.exception))
        est = Estimator(2)
        est.close()
        est.cancel()                # a no-op

    def test_context_manager_closes(self):
        with Estimator(2) as est:
            pass
        self.assertTrue(est.closed)

    def test_ask_tell_states(self):
        est = Estimator(3)
        with self.assertRaises(StateError):
            est.tell([0], [1.0])
        asked = est.ask(4)
        with self.assertRaises(InvalidArgument):
            est.tell([12345], [1.0])
        t = asked[0][0]
        with self.assertRaises(InvalidArgument):
            est.tell([t, t], [1.0, 1.0])
        with self.assertRaises(InvalidArgument):
            est.tell([t], [1.0, 2.0])
        self.assertEqual(est.progress().outstanding, len(asked))
        est.tell({t: 1.0})                  # the dict form
        self.assertEqual(est.progress().outstanding, len(asked) - 1)
        with self.assertRaises(InvalidArgument):
            est.tell({t: 1.0})              # told already

    def test_closed_game_as_oracle(self):
        g = Game.load(TESTDATA / "glove3.json")
        est = Estimator(3, oracle=g)
        g.close()
        with self.assertRaises(StateError):
            est.run()
        with self.assertRaises(InvalidArgument):
            Estimator(4, oracle=Game.load(TESTDATA / "glove3.json"))

    def test_games(self):
        with self.assertRaises(ParseError) as cm:
            Game('{"n": 3')
        self.assertIn("line 1", str(cm.exception))
        with self.assertRaises(ParseError) as cm:
            Game({"n": 3, "bogus": 1})
        self.assertIn("bogus", str(cm.exception))
        with self.assertRaises(IOFailure) as cm:
            Game.load("/nonexistent/game.json")
        self.assertIn("/nonexistent/game.json", str(cm.exception))
        self.assertIsInstance(cm.exception, OSError)
        with self.assertRaises(TypeError):
            Game(42)
        # fractional weights, too many players for the table: no exact way
        g = Game({"n": 40, "type": "voting", "weights": [1.5] * 40,
                  "quota": 30})
        with self.assertRaises(TooLarge):
            g.exact()

    def test_infeasible(self):
        ref = Refiner(1, 2, relaxation="never", authors=[0, 0],
                      credits=[1.0], labels=[-1.0, -1.0])
        with self.assertRaises(Infeasible):
            ref.run()
        with self.assertRaises(StateError):
            ref.rewards()               # a failed run has no result
        with self.assertRaises(StateError):
            ref.relaxation = "ordered"  # parameters only while idle
        ref.reset()
        ref.relaxation = "ordered"
        self.assertEqual(ref.run(), [0.5, 0.5])
        self.assertEqual(ref.agent_flags(names=True),
                         [frozenset({"relaxed_sign"})])


class Reentrancy(unittest.TestCase):
    def test_changing_the_handle_from_its_callback_is_busy(self):
        est = Estimator(3)

        def oracle(cs):
            est.budget = 5
            return additive(cs)
        with self.assertRaises(Busy) as cm:
            est.run(oracle)
        self.assertIsInstance(cm.exception.__cause__, CallbackError)

    def test_reading_from_the_callback_is_fine(self):
        est = Estimator(3)
        seen = []

        def oracle(cs):
            seen.append((est.progress(), est.audit()["rounds"], est.budget))
            return additive(cs)
        est.run(oracle)
        self.assertEqual(seen[0][2], 2048)

    def test_close_from_the_callback_is_busy(self):
        loc = Localizer(4)

        def verifier(ps):
            loc.close()
        with self.assertRaises(Busy):
            loc.run(verifier)
        self.assertFalse(loc.closed)


class Cancellation(unittest.TestCase):
    def test_cancel_from_the_oracle(self):
        est = Estimator(8, method="permutation", budget=10000, batch=8)

        def oracle(cs):
            est.cancel()
            return additive(cs)
        with self.assertRaises(Cancelled):
            est.run(oracle)
        self.assertEqual(est.audit()["outcome"], "cancelled")
        est.reset()
        self.assertEqual(len(est.run(additive).phi), 8)

    def test_cancel_from_another_thread(self):
        est = Estimator(10, method="permutation", budget=10 ** 6, batch=4)
        started = threading.Event()

        def slow(cs):
            started.set()
            time.sleep(0.002)
            return additive(cs)
        t = threading.Thread(target=lambda: (started.wait(5), est.cancel()))
        t.start()
        t0 = time.monotonic()
        with self.assertRaises(Cancelled):
            est.run(slow)
        t.join()
        self.assertLess(time.monotonic() - t0, 10)

    def test_cancel_localizer(self):
        loc = Localizer(50, strategy="linear")

        def verifier(ps):
            loc.cancel()
            return [1.0] * len(ps)
        with self.assertRaises(Cancelled):
            loc.run(verifier)
        loc.reset()
        self.assertEqual(loc.run(lambda ps: [1.0] * len(ps)).step, None)


if __name__ == "__main__":
    unittest.main()
