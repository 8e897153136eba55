"""Ctrl-C at random moments (issue 13, defect 6): runs with a Game oracle,
with Python oracles (batches of 1 and 2, so that the signals land inside
callbacks, between them and in the hand-over to the worker) and Game.exact
calls (which an interrupt abandons), each hit by 1 to 3 SIGINTs 0 to 4 ms
after it starts. Checks that nothing hangs (meson's timeout), that every
interrupted run left its handle in a state its exception explains, and
that the handle then works after reset(). Prints the tally.

    stress_interrupt.py [--iterations N] [--seed S]
"""

import argparse
import collections
import os
import random
import signal
import sys
import threading
import time

import support  # noqa: F401  (the package path)

from agentcredit import CallbackError, Cancelled, Estimator, Game

N = 20
GAME = {"n": N,
        "terms": [{"coef": 1.0 + i, "members": [i]} for i in range(N)],
        "noise": {"kind": "gaussian", "sd": 1.0}}
#: A voting game whose exact values take a few milliseconds.
VOTERS = [(i * 7919) % 400 + 1 for i in range(24)]
VOTING = {"n": 24, "type": "voting", "weights": VOTERS,
          "quota": sum(VOTERS) // 2}


def popcounts(cs):
    return [float(bin(c).count("1")) for c in cs]


def shooter(go, delays, done):
    go.wait()
    for d in delays:
        time.sleep(d)
        os.kill(os.getpid(), signal.SIGINT)
    done.set()


def settle(done):
    """Waits for the shooter; signals still on their way are swallowed.

    A SIGINT the kernel gave to another thread (the shooter, a worker)
    reaches the main thread's handler only at its next check, which may
    come after one quiet sleep: the wait ends after 20 ms without one."""
    quiet = 0
    while quiet < 4:
        try:
            while not done.wait(0.01):
                pass
            time.sleep(0.005)
            quiet += 1
        except KeyboardInterrupt:
            quiet = 0


def one(kind, game, voting):
    """(the object, what to call, the check afterwards)."""
    if kind == 0:
        est = Estimator(N, method="permutation", budget=20000, noisy=1)
        return est, lambda: est.run(game), game
    if kind == 1:
        est = Estimator(10, method="permutation", budget=3000, batch=1)
        return est, lambda: est.run(popcounts), popcounts
    if kind == 2:
        est = Estimator(12, method="kernelshap", budget=3000, batch=2)
        return est, lambda: est.run(popcounts), popcounts
    return voting, voting.exact, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rng = random.Random(args.seed)
    game = Game(GAME)
    voting = Game(VOTING, limits={"max_exact_work": 2 ** 32})
    exact = voting.exact()
    tally = collections.Counter()
    signals = 0
    for it in range(args.iterations):
        kind = it % 4
        obj, call, oracle = one(kind, game, voting)
        delays = [rng.uniform(0, 0.004) for _ in range(rng.choice(
            [1, 1, 2, 3]))]
        signals += len(delays)
        go, done = threading.Event(), threading.Event()
        t = threading.Thread(target=shooter, args=(go, delays, done))
        t.start()
        got = cause = None
        try:
            go.set()
            try:
                call()
                got = "finished"
            except KeyboardInterrupt as exc:
                got, cause = "interrupted", exc.__cause__
        except KeyboardInterrupt:
            got = "before or after the call"
        settle(done)
        t.join()
        if kind == 3:   # Game.exact: waits for an abandoned call
            if voting.exact() != exact:
                sys.exit("FAIL: exact values changed")
            tally[(got, "exact")] += 1
            continue
        outcome = obj.audit()["outcome"]
        if isinstance(cause, Cancelled) and outcome != "cancelled":
            sys.exit("FAIL: KeyboardInterrupt from Cancelled, outcome %r"
                     % outcome)
        if isinstance(cause, CallbackError) and outcome != "error":
            sys.exit("FAIL: KeyboardInterrupt from CallbackError, outcome %r"
                     % outcome)
        if got == "finished" and outcome in ("cancelled", "error",
                                             "pending"):
            sys.exit("FAIL: run returned, outcome %r" % outcome)
        tally[(got, type(cause).__name__ if cause else "-", outcome)] += 1
        obj.reset()
        obj.budget = 300
        if len(obj.run(oracle).phi) != obj.n:
            sys.exit("FAIL: no result after reset")
        obj.close()
    for key, count in sorted(tally.items(), key=str):
        print("%6d  %s" % (count, " / ".join(key)))
    workers = sum(t.name == "agentcredit-call" for t in threading.enumerate())
    print("%d calls, %d SIGINTs: no hang, every handle consistent and "
          "usable after reset; %d worker threads left"
          % (args.iterations, signals, workers))


if __name__ == "__main__":
    main()
