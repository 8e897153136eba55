#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate the benchmark games in tests/bench/games/ (standard library only).

Run once; the output is committed, so the benchmark reads the same games on
every machine and anyone can run them against other tools:

    python3 tests/bench/gen_games.py            # writes tests/bench/games/
    python3 tests/bench/gen_games.py --check    # regenerates in memory and
                                                # fails if a file differs

The files use the game format of docs/estimators.md (include/agentcredit.h,
ac_game_load_json). Every file carries "exact", computed here independently
of the library (closed forms for sums of unanimity games and airport games,
an exact integer dynamic programme for weighted voting, the brute-force
Shapley formula over the value table for the team games), so the benchmark
can cross-check the library's own ac_game_exact() against it.

Games (the seed of each is fixed below, so the output is deterministic):

  soum_n14, soum_n50   sums of unanimity games, 30 and 100 terms, coefficients
                       uniform in [-1, 1], term sizes uniform in 1..5, members
                       uniform without replacement (the setting of the shapiq
                       and shap peer figures that bench_shapley.c quotes).
  voting_n14, voting_n50
                       weighted majority games, integer weights uniform in
                       1..20, quota floor(total / 2) + 1.
  airport_n14, airport_n50
                       airport (maximum-cost) games, costs uniform in (0, 1]
                       rounded to 6 decimals.
  team_n3 .. team_n10  small agent teams: v(S) is the probability that the
                       team S succeeds, each evaluation is one rollout
                       returning 0 or 1 ("noise": {"kind": "bernoulli"}).
                       See team_game() for the roles.
"""

import argparse
import json
import math
import os
import random
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "games")


# --------------------------------------------------------------------------
# Sums of unanimity games: v(S) = sum_T c_T [T subset of S];
# phi_i = sum_{T containing i} c_T / |T|.

def soum_game(n, n_terms, seed):
    rng = random.Random(seed)
    terms = []
    for _ in range(n_terms):
        size = rng.randint(1, 5)
        members = sorted(rng.sample(range(n), size))
        coef = round(rng.uniform(-1.0, 1.0), 6)
        terms.append({"coef": coef, "members": members})
    phi = [Fraction(0)] * n
    for t in terms:
        share = Fraction(t["coef"]) / len(t["members"])
        for i in t["members"]:
            phi[i] += share
    return {"n": n, "terms": terms, "exact": [float(x) for x in phi]}


# --------------------------------------------------------------------------
# Weighted voting: v(S) = 1 when sum of weights in S >= quota.
# phi_i = sum_k k!(n-1-k)!/n! * #{S not containing i: |S| = k,
#                                  quota - w_i <= w(S) < quota}
# counted exactly with integers: a table count[k][w] over all players, from
# which player i is removed by the inverse recurrence.

def voting_exact(weights, quota):
    n = len(weights)
    total = sum(weights)
    count = [[0] * (total + 1) for _ in range(n + 1)]
    count[0][0] = 1
    for w in weights:
        for k in range(n - 1, -1, -1):
            row, nxt = count[k], count[k + 1]
            for s in range(total - w, -1, -1):
                if row[s]:
                    nxt[s + w] += row[s]
    fact = [math.factorial(k) for k in range(n + 1)]
    phi = []
    for wi in weights:
        # without[k][s] = subsets of the others with k members, weight s:
        # count[k][s] = without[k][s] + without[k-1][s-wi].
        without = [[0] * (total + 1) for _ in range(n)]
        for k in range(n):
            for s in range(total + 1):
                c = count[k][s]
                if k > 0 and s >= wi:
                    c -= without[k - 1][s - wi]
                without[k][s] = c
        acc = Fraction(0)
        lo = max(quota - wi, 0)
        for k in range(n):
            swings = sum(without[k][lo:quota])
            if swings:
                acc += Fraction(fact[k] * fact[n - 1 - k] * swings, fact[n])
        phi.append(acc)
    assert sum(phi) == 1, "voting: efficiency failed"
    return phi


def voting_game(n, seed):
    rng = random.Random(seed)
    weights = [rng.randint(1, 20) for _ in range(n)]
    quota = sum(weights) // 2 + 1
    phi = voting_exact(weights, quota)
    return {"n": n, "type": "voting", "weights": weights, "quota": quota,
            "exact": [float(x) for x in phi]}


# --------------------------------------------------------------------------
# Airport: v(S) = max_{i in S} c_i (v(empty) = 0). With the costs sorted,
# c_(1) <= ... <= c_(n), the player of rank k gets
#   sum_{j <= k} (c_(j) - c_(j-1)) / (n - j + 1).

def airport_game(n, seed):
    rng = random.Random(seed)
    costs = [round(rng.uniform(1e-6, 1.0), 6) for _ in range(n)]
    order = sorted(range(n), key=lambda i: costs[i])
    phi = [Fraction(0)] * n
    acc = Fraction(0)
    prev = Fraction(0)
    for rank, i in enumerate(order):
        c = Fraction(costs[i])
        acc += (c - prev) / (n - rank)
        prev = c
        phi[i] = acc
    return {"n": n, "type": "airport", "costs": costs,
            "exact": [float(x) for x in phi]}


# --------------------------------------------------------------------------
# Small agent teams. Player roles (indices in this order):
#   complementary  all are needed: a missing one leaves its leak factor
#   substitute     any one is enough: noisy-or of their reliabilities
#   helper         cuts the remaining failure probability by a factor
#   saboteur       multiplies the success probability by (1 - strength)
#   null           does nothing (a redundant agent)
# p(S) = 1 - (1 - core(S)) * prod_{helpers h in S} (1 - gain_h), then
#        times (1 - strength) for each saboteur in S, where
# core(S) = floor + (ceiling - floor) * prod_{complementary c}
#           ([c in S] or leak_c) * (1 - prod_{substitutes j in S} (1 - q_j))
# (the substitute factor is 1 when the team has no substitute role).

TEAM_ROLES = {
    3: dict(comp=2, subs=0, helpers=0, sabs=1, nulls=0),
    4: dict(comp=1, subs=2, helpers=0, sabs=1, nulls=0),
    5: dict(comp=2, subs=2, helpers=0, sabs=1, nulls=0),
    6: dict(comp=2, subs=2, helpers=1, sabs=1, nulls=0),
    8: dict(comp=3, subs=3, helpers=1, sabs=1, nulls=0),
    10: dict(comp=3, subs=3, helpers=2, sabs=1, nulls=1),
}


def shapley_bruteforce(n, values):
    fact = [math.factorial(k) for k in range(n + 1)]
    phi = [0.0] * n
    for i in range(n):
        bit = 1 << i
        acc = 0.0
        for s in range(1 << n):
            if s & bit:
                continue
            k = bin(s).count("1")
            acc += fact[k] * fact[n - 1 - k] / fact[n] * (values[s | bit] - values[s])
        phi[i] = acc
    return phi


def team_game(n, seed):
    rng = random.Random(seed)
    r = TEAM_ROLES[n]
    roles = (["comp"] * r["comp"] + ["subs"] * r["subs"] + ["helper"] * r["helpers"]
             + ["sab"] * r["sabs"] + ["null"] * r["nulls"])
    assert len(roles) == n
    floor, ceiling = 0.05, 0.9
    leak = [round(rng.uniform(0.05, 0.3), 3) for _ in range(n)]
    q = [round(rng.uniform(0.5, 0.9), 3) for _ in range(n)]
    gain = [round(rng.uniform(0.2, 0.5), 3) for _ in range(n)]
    strength = [round(rng.uniform(0.3, 0.6), 3) for _ in range(n)]
    values = []
    for s in range(1 << n):
        comp = 1.0
        subs_fail = 1.0
        has_subs = False
        for i, role in enumerate(roles):
            inside = (s >> i) & 1
            if role == "comp" and not inside:
                comp *= leak[i]
            elif role == "subs":
                has_subs = True
                if inside:
                    subs_fail *= 1.0 - q[i]
        subs = (1.0 - subs_fail) if has_subs else 1.0
        p = floor + (ceiling - floor) * comp * subs
        fail = 1.0 - p
        for i, role in enumerate(roles):
            if role == "helper" and (s >> i) & 1:
                fail *= 1.0 - gain[i]
        p = 1.0 - fail
        for i, role in enumerate(roles):
            if role == "sab" and (s >> i) & 1:
                p *= 1.0 - strength[i]
        values.append(round(p, 12))
    assert all(0.0 <= v <= 1.0 for v in values)
    return {"n": n, "values": values, "noise": {"kind": "bernoulli"},
            "exact": shapley_bruteforce(n, values)}


# --------------------------------------------------------------------------

def all_games():
    games = {
        "soum_n14": soum_game(14, 30, 1401),
        "soum_n50": soum_game(50, 100, 5001),
        "voting_n14": voting_game(14, 1402),
        "voting_n50": voting_game(50, 5002),
        "airport_n14": airport_game(14, 1403),
        "airport_n50": airport_game(50, 5003),
    }
    for n in sorted(TEAM_ROLES):
        games["team_n%d" % n] = team_game(n, 300 + n)
    return games


def dump(game):
    # One game per file; the value table and term list stay compact.
    return json.dumps(game, separators=(",", ":")) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT_DIR, help="output directory")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files on disk instead of writing")
    args = ap.parse_args()
    games = all_games()
    bad = 0
    if not args.check:
        os.makedirs(args.out, exist_ok=True)
    for name, game in sorted(games.items()):
        path = os.path.join(args.out, name + ".json")
        text = dump(game)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    same = f.read() == text
            except OSError:
                same = False
            if not same:
                print("differs: %s" % path, file=sys.stderr)
                bad += 1
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print("wrote %s" % path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
