"""Closed-form games with the exact and the sampled estimators, conservation,
and bit-for-bit agreement with the C library (the agentcredit CLI's
``shapley --json``, and ac_shapley_exact called directly)."""

import ctypes
import json
import math
import random
import subprocess
import unittest

import support
from support import (GAMES, TESTDATA, agentcredit, conserved, popcount,
                     shapley_brute)

from agentcredit import Estimator, Game, shapley_exact

METHODS = ("exact", "permutation", "kernelshap")


def run(n, oracle, known_all=None, known_empty=0.0, **params):
    known = {}
    if known_all is not None:
        known = {(1 << n) - 1: known_all, 0: known_empty}
    with Estimator(n, known=known, **params) as est:
        return est.run(oracle)


class ClosedForm(unittest.TestCase):
    def test_additive(self):
        w = [0.5, -1.25, 2.0, 0.0, 3.5]
        n = len(w)

        def v(s):
            return math.fsum(w[i] for i in range(n) if s >> i & 1)
        for method in METHODS:
            with self.subTest(method=method):
                phi, se = run(n, lambda cs: [v(c) for c in cs], v((1 << n)
                                                                  - 1),
                              method=method, budget=400, seed=3)
                for p, wi in zip(phi, w):
                    self.assertAlmostEqual(p, wi, delta=1e-9)
                self.assertTrue(conserved(phi, sum(w)))

    def test_additive_many_players(self):
        # 200 players: four uint64 words per coalition through Python
        rng = random.Random(5)
        n = 200
        w = [rng.uniform(-1, 1) for _ in range(n)]

        def oracle(cs):
            return [math.fsum(w[i] for i in range(n) if c >> i & 1)
                    for c in cs]
        phi, _ = run(n, oracle, math.fsum(w), method="permutation",
                     budget=4 * n, seed=1)
        for p, wi in zip(phi, w):
            self.assertAlmostEqual(p, wi, delta=1e-9)
        self.assertTrue(conserved(phi, math.fsum(w)))

    def test_unanimity(self):
        members = [1, 3, 4]
        t = sum(1 << i for i in members)
        n = 6
        for method in METHODS:
            with self.subTest(method=method):
                phi, _ = run(n, lambda cs: [float(c & t == t) for c in cs],
                             1.0, method=method, budget=2000, seed=2)
                for i in range(n):
                    want = 1 / 3 if i in members else 0.0
                    tol = 1e-12 if method == "exact" else 0.1
                    self.assertAlmostEqual(phi[i], want, delta=tol)
                self.assertTrue(conserved(phi, 1.0))

    def test_sum_of_unanimity_games(self):
        terms = [(0.5, [0]), (0.3, [0, 1]), (0.2, [2, 3, 4]), (-0.15, [5]),
                 (0.1, [1, 5])]
        want = [0.0] * 6
        for coef, m in terms:
            for i in m:
                want[i] += coef / len(m)
        spec = {"n": 6, "terms": [{"coef": c, "members": m}
                                  for c, m in terms]}
        g = Game(spec)
        for p, w in zip(g.exact(), want):
            self.assertAlmostEqual(p, w, delta=1e-15)
        total = g.value(63)
        phi, se = run(6, g, total, method="exact")
        self.assertEqual(se, [0.0] * 6)
        for p, w in zip(phi, want):
            self.assertAlmostEqual(p, w, delta=1e-12)
        self.assertTrue(conserved(phi, total))
        phi, se = run(6, g, total, method="kernelshap", budget=60, seed=4)
        self.assertTrue(conserved(phi, total))
        for p, w, s in zip(phi, want, se):
            self.assertLess(abs(p - w), 0.05)

    def test_glove(self):
        g = Game.load(TESTDATA / "glove3.json")
        self.assertEqual(g.n, 3)
        self.assertEqual(g.values(), [0, 0, 0, 1, 0, 1, 0, 1])
        phi, _ = run(3, g, 1.0, method="exact")
        for p, w in zip(phi, [2 / 3, 1 / 6, 1 / 6]):
            self.assertAlmostEqual(p, w, delta=1e-15)
        self.assertEqual(shapley_exact(g.values()), g.exact())
        # four players, two left gloves and two right ones
        g4 = Game.load(GAMES / "glove4.json")
        brute = shapley_brute(4, g4.value)
        for p, w in zip(run(4, g4, g4.value(15), method="exact").phi, brute):
            self.assertAlmostEqual(p, w, delta=1e-12)

    def test_airport_via_game_json(self):
        costs = [3.0, 1.0, 2.0, 2.0, 5.0]
        g = Game({"n": 5, "type": "airport", "costs": costs})
        # Littlechild-Owen: sorted costs, each increment shared by the
        # players who need at least that much runway
        order = sorted(range(5), key=lambda i: costs[i])
        want = [0.0] * 5
        share, prev = 0.0, 0.0
        for rank, i in enumerate(order):
            share += (costs[i] - prev) / (5 - rank)
            prev = costs[i]
            want[i] = share
        for p, w in zip(g.exact(), want):
            self.assertAlmostEqual(p, w, delta=1e-12)
        self.assertEqual(g.value(0b10010), 5.0)
        for method in METHODS:
            with self.subTest(method=method):
                phi, _ = run(5, g, g.value(31), method=method, budget=200,
                             seed=7)
                self.assertTrue(conserved(phi, max(costs)))
                tol = 1e-12 if method == "exact" else 0.25
                for p, w in zip(phi, want):
                    self.assertAlmostEqual(p, w, delta=tol)

    def test_weighted_voting(self):
        weights, quota = [4, 3, 2, 1, 1], 6
        spec = {"n": 5, "type": "voting", "weights": weights, "quota": quota}
        g = Game(spec)

        def v(s):
            return float(sum(w for i, w in enumerate(weights)
                             if s >> i & 1) >= quota)
        brute = shapley_brute(5, v)
        for p, w in zip(g.exact(), brute):
            self.assertAlmostEqual(p, w, delta=1e-12)
        for method in METHODS:
            with self.subTest(method=method):
                # a Python oracle this time
                phi, _ = run(5, lambda cs: [v(c) for c in cs], 1.0,
                             method=method, budget=300, seed=11)
                self.assertTrue(conserved(phi, 1.0))
                tol = 1e-12 if method == "exact" else 0.2
                for p, w in zip(phi, brute):
                    self.assertAlmostEqual(p, w, delta=tol)

    def test_sampled_error_is_within_its_standard_error(self):
        g = Game.load(GAMES / "voting5.json")
        exact = g.exact()
        hits = 0
        for seed in range(10):
            phi, se = run(g.n, g, g.value((1 << g.n) - 1),
                          method="permutation", budget=400, seed=seed)
            self.assertTrue(conserved(phi, g.value((1 << g.n) - 1)))
            hits += sum(abs(p - e) <= 3 * s + 1e-12
                        for p, e, s in zip(phi, exact, se))
        self.assertGreaterEqual(hits, 0.9 * 10 * g.n)

    def test_noisy_oracle_with_repeats(self):
        g = Game.load(TESTDATA / "team6_noisy.json")
        exact = g.exact()
        phi, se = run(6, g, g.value(63), method="exact", repeats=16,
                      budget=16 * 64)
        self.assertTrue(conserved(phi, g.value(63)))
        for p, e, s in zip(phi, exact, se):
            self.assertGreater(s, 0.0)
            self.assertLess(abs(p - e), 5 * s + 1e-9)

    def test_noisy_oracle_declared_takes_the_adaptive_method(self):
        # AUTO with noisy=1 and a budget beyond the table: adaptive repeats,
        # the whole budget spent, errors that cover the exact values
        g = Game.load(TESTDATA / "team6_noisy.json")
        exact = g.exact()
        known = {63: g.value(63), 0: g.value(0)}
        with Estimator(6, known=known, noisy=1, budget=16 * 64) as est:
            phi, se = est.run(g)
            audit = est.audit()
        self.assertEqual(audit["method"], "adaptive")
        self.assertEqual(audit["evaluations"], 16 * 64)
        self.assertTrue(conserved(phi, g.value(63) - g.value(0)))
        for p, e, s in zip(phi, exact, se):
            self.assertGreater(s, 0.0)
            self.assertLess(abs(p - e), 5 * s + 1e-9)

    def test_oddshap_fits_an_additive_game(self):
        w = [0.5, -1.25, 2.0, 0.0, 3.5, 1.0, -0.5, 0.25, 1.5, -2.0]
        n = len(w)

        def v(s):
            return math.fsum(w[i] for i in range(n) if s >> i & 1)
        with Estimator(n, known={(1 << n) - 1: sum(w), 0: 0.0},
                       method="oddshap", budget=200, seed=2) as est:
            phi, _ = est.run(lambda cs: [v(c) for c in cs])
            self.assertEqual(est.audit()["method"], "oddshap")
        for p, wi in zip(phi, w):
            self.assertAlmostEqual(p, wi, delta=1e-4)
        self.assertTrue(conserved(phi, sum(w)))

    def test_without_known_values_the_oracle_gives_them(self):
        g = Game.load(TESTDATA / "team6.json")
        with Estimator(6, method="exact") as est:
            phi, _ = est.run(g)
            self.assertEqual(est.audit()["known"], 0)
            self.assertEqual(est.audit()["evaluations"], 64)
        self.assertTrue(conserved(phi, g.value(63) - g.value(0)))

    def test_game_as_python_oracle(self):
        g = Game.load(TESTDATA / "team6.json")
        self.assertEqual(g([0, 63, [0, 1]]), [0.0, g.value(63),
                                              g.value(0b11)])
        by_c = run(6, g, g.value(63), method="kernelshap", budget=50, seed=2)
        by_py = run(6, lambda cs: g(cs), g.value(63), method="kernelshap",
                    budget=50, seed=2)
        self.assertEqual(by_c, by_py)


def cli_json(path, *args):
    cli = support.cli_path()
    if cli is None:
        raise unittest.SkipTest("the agentcredit CLI is not built (set "
                                "AGENTCREDIT_CLI)")
    out = subprocess.run([cli, "shapley", str(path), "--json", *args],
                         capture_output=True, text=True, check=True,
                         timeout=60)
    return json.loads(out.stdout)


class Interactions(unittest.TestCase):
    """Estimator.interactions() and shapley_interactions(): the n x n
    symmetric matrix with a NaN diagonal, on a unanimity game (1/(|T|-1)
    inside T, 0 elsewhere), with standard errors under noise, and the
    refusals."""

    T = 0b01101  # players 0, 2, 3

    def v(self, s):
        return 1.0 if s & self.T == self.T else 0.0

    def check_unanimity(self, m, n=5):
        for i in range(n):
            self.assertTrue(math.isnan(m[i][i]))
            for j in range(n):
                if i == j:
                    continue
                inside = self.T >> i & 1 and self.T >> j & 1
                self.assertAlmostEqual(m[i][j], 0.5 if inside else 0.0,
                                       places=14)
                self.assertEqual(m[i][j], m[j][i])

    def test_table_function(self):
        table = [self.v(s) for s in range(32)]
        self.check_unanimity(agentcredit.shapley_interactions(table))
        m = agentcredit.shapley_interactions(table, as_numpy=True)
        self.assertEqual(m.shape, (5, 5))
        self.check_unanimity(m.tolist())
        with self.assertRaises(agentcredit.InvalidArgument):
            agentcredit.shapley_interactions([0.0, 1.0, 2.0])

    def test_exact_estimator(self):
        with Estimator(5, method="exact", budget=100,
                       interactions=1) as est:
            self.assertEqual(est.get_param("interactions"), 1)
            est.run(lambda cs: [self.v(c) for c in cs])
            index, se = est.interactions()
            self.check_unanimity(index)
            self.assertTrue(all(se[i][j] == 0.0 for i in range(5)
                                for j in range(5) if i != j))
            index, se = est.interactions(as_numpy=True)
            self.assertEqual(se.shape, (5, 5))

    def test_noisy_adaptive_has_standard_errors(self):
        rng = random.Random(4)
        with Estimator(5, method="adaptive", budget=400, noisy=1,
                       interactions=1, seed=1) as est:
            est.run(lambda cs: [self.v(c) + rng.gauss(0.0, 0.2)
                                for c in cs])
            index, se = est.interactions()
            for i in range(5):
                for j in range(i + 1, 5):
                    self.assertGreater(se[i][j], 0.0)
                    self.assertEqual(se[i][j], se[j][i])
                    inside = self.T >> i & 1 and self.T >> j & 1
                    self.assertLess(abs(index[i][j] - (0.5 if inside
                                                       else 0.0)),
                                    6 * se[i][j])

    def test_refusals(self):
        with Estimator(5, method="exact", budget=100) as est:
            with self.assertRaises(agentcredit.StateError):
                est.interactions()  # not run
            est.run(lambda cs: [self.v(c) for c in cs])
            with self.assertRaises(agentcredit.StateError):
                est.interactions()  # not asked for
        with Estimator(5, method="kernelshap", budget=20,
                       interactions=1) as est:
            with self.assertRaises(agentcredit.BudgetError):
                est.run(lambda cs: [self.v(c) for c in cs])


class BitIdenticalWithC(unittest.TestCase):
    CASES = [
        (TESTDATA / "team6.json", {}),
        (TESTDATA / "glove3.json", {}),
        (TESTDATA / "team6.json", {"method": "kernelshap", "budget": 40,
                                   "seed": 3}),
        (TESTDATA / "team6.json", {"method": "permutation", "budget": 100,
                                   "seed": 5, "batch": 7}),
        (TESTDATA / "team6_noisy.json", {"method": "exact", "repeats": 4,
                                         "budget": 256, "seed": 9}),
        (GAMES / "airport5.json", {"method": "kernelshap", "budget": 24,
                                   "seed": 1, "target_se": 0.02}),
        (GAMES / "soum6.json", {"method": "permutation", "budget": 150,
                                "seed": 2, "no_known": True}),
    ]

    def python_side(self, path, opts, python_oracle):
        opts = dict(opts)
        no_known = opts.pop("no_known", False)
        g = Game.load(path)
        if "seed" in opts:
            g.seed(opts["seed"])
        with Estimator(g.n, **opts) as est:
            if not no_known:
                est.set_value(est.grand_coalition,
                              g.value(est.grand_coalition))
                est.set_value(0, g.value(0))
            res = est.run((lambda cs: g(cs)) if python_oracle else g)
            return res, est.audit()

    def test_estimates_equal_the_cli_bit_for_bit(self):
        for path, opts in self.CASES:
            args = []
            for k, v in opts.items():
                if k == "no_known":
                    args.append("--no-known")
                else:
                    args += ["--" + k.replace("_", "-"), str(v)]
            want = cli_json(path, *args)
            for python_oracle in (False, True):
                with self.subTest(game=path.name, opts=opts,
                                  python_oracle=python_oracle):
                    (phi, se), audit = self.python_side(path, opts,
                                                        python_oracle)
                    self.assertEqual([p.hex() for p in phi],
                                     [float(x).hex()
                                      for x in want["credits"]])
                    self.assertEqual(
                        [s.hex() for s in se],
                        [float(x if x is not None else "inf").hex()
                         for x in want["se"]])
                    for key, value in want["audit"].items():
                        self.assertEqual(audit[key], value, key)

    def test_shapley_exact_equals_the_c_function(self):
        rng = random.Random(1)
        for n in (1, 2, 5, 9):
            values = [rng.uniform(-3, 3) for _ in range(1 << n)]
            arr = (ctypes.c_double * len(values))(*values)
            phi = (ctypes.c_double * n)()
            rc = agentcredit._lib.lib.ac_shapley_exact(n, arr, len(values),
                                                       phi)
            self.assertEqual(rc, 0)
            got = shapley_exact(values)
            self.assertEqual([p.hex() for p in got], [p.hex() for p in phi])
            self.assertTrue(conserved(got, values[-1] - values[0]))
            if n <= 5:
                brute = shapley_brute(n, lambda s: values[s])
                for a, b in zip(got, brute):
                    self.assertAlmostEqual(a, b, delta=1e-12)

    def test_exact_estimator_equals_the_table(self):
        g = Game.load(GAMES / "values3.json")
        table = g.values()
        phi, _ = run(3, support.table_oracle(table), table[7], table[0],
                     method="exact")
        for a, b in zip(phi, shapley_exact(table)):
            self.assertAlmostEqual(a, b, delta=1e-15)
        self.assertEqual(sum(popcount(s) for s in range(8)), 12)


class Planning(unittest.TestCase):
    """agentcredit.plan (ac_estimator_plan) and `agentcredit plan`."""

    def test_hand_computed(self):
        # n = 2, ends known: Var(phi_i) = sd^2 / B, times 1.05 (the
        # adaptive method over its allocation), plus the retry margin 2
        got = agentcredit.plan(2, 0.1, sd=1.0, ends_known=True)
        self.assertEqual(got.evaluations, 105 + 2)
        self.assertAlmostEqual(got.se, 0.1, places=12)
        # 0/1 rollouts: sd 1/2 at the default (worst-case) rate
        self.assertEqual(agentcredit.plan(3, 0.05, ends_known=True),
                         agentcredit.plan(3, 0.05, sd=0.5, ends_known=True))
        self.assertIsInstance(agentcredit.plan(4, 0.1), agentcredit.Plan)

    def test_monotone(self):
        last = 0
        for target in (0.2, 0.1, 0.05, 0.02, 0.01):
            b = agentcredit.plan(6, target).evaluations
            self.assertGreaterEqual(b, last)
            self.assertLessEqual(agentcredit.plan(6, target,
                                                  success_rate=0.1)
                                 .evaluations, b)
            last = b

    def test_refusals(self):
        with self.assertRaises(agentcredit.InvalidArgument) as cm:
            agentcredit.plan(4, 0.0)
        self.assertIn("target_se", str(cm.exception))
        for bad in (0.0, 1.0, math.nan):
            with self.assertRaises(agentcredit.InvalidArgument):
                agentcredit.plan(4, 0.1, success_rate=bad)
        with self.assertRaises(agentcredit.InvalidArgument):
            agentcredit.plan(4, 0.1, sd=-1.0)
        with self.assertRaises(agentcredit.InvalidArgument):
            agentcredit.plan(0, 0.1)
        with self.assertRaises(agentcredit.TooLarge) as cm:
            agentcredit.plan(agentcredit.ADAPTIVE_MAX_PLAYERS + 1, 0.1)
        self.assertIn("n_players", str(cm.exception))
        with self.assertRaises(agentcredit.TooLarge):
            agentcredit.plan(20, 1e-9)
        # two noise models at once: refused, not one silently dropped
        with self.assertRaises(agentcredit.InvalidArgument) as cm:
            agentcredit.plan(4, 0.1, success_rate=0.3, sd=0.25)
        self.assertIn("give one", str(cm.exception))

    def test_equals_the_cli(self):
        cli = support.cli_path()
        if cli is None:
            raise unittest.SkipTest("the agentcredit CLI is not built")
        for args, kw in ((["--rollouts"], {}),
                         (["--success-rate", "0.2", "--known-ends"],
                          {"success_rate": 0.2, "ends_known": True}),
                         (["--sd", "0.25"], {"sd": 0.25})):
            out = subprocess.run([cli, "plan", "--agents", "7",
                                  "--target-se", "0.02", "--json", *args],
                                 capture_output=True, text=True, check=True,
                                 timeout=60)
            got = json.loads(out.stdout)
            want = agentcredit.plan(7, 0.02, **kw)
            self.assertEqual(got["evaluations"], want.evaluations)
            self.assertEqual(float(got["se"]).hex(), want.se.hex())


if __name__ == "__main__":
    unittest.main()
