#!/usr/bin/env python3
"""Scale-out with Dask: agentcredit stays in the driver, Dask runs the rollouts.

Several episodes run at once. Each episode owns an ``agentcredit.Estimator``
driven by ask/tell; every batch it asks for becomes one task on a
``distributed.LocalCluster`` of worker processes; ``as_completed`` yields the
tasks as they finish (out of order: the simulated rollouts take random time)
and each result is told back to its episode. The workers never load the
library. At the end the credits are compared with a serial run of the same
episodes: they must be equal bit for bit, since the estimator's result
depends only on the seed, the options and the values told, and every
simulated rollout is a pure function of (episode, coalition, ticket).

    python3 docs/examples/dask_oracle.py [--workers N] [--episodes N]

Exit status 0 when the distributed and serial credits agree and conserve,
1 otherwise, 77 (skipped) when Dask's ``distributed`` is not installed
(Debian: ``apt-get install python3-distributed``). docs/scaling.md explains
the pattern and maps it onto Ray and cluster schedulers.
"""
import argparse
import hashlib
import math
import sys
import time

import agentcredit

AGENTS = 5
REPEATS = 6   # rollouts per coalition: 0/1 outcomes are noisy
BATCH = 12    # coalitions per asked batch = per Dask task


def success_probability(episode, coalition):
    """A small team game: agent 0 carries the task, agents 1 and 2 help only
    together, agent 3 adds a little, agent 4 sabotages; the weights vary by
    episode."""
    w = 0.35 + 0.05 * (episode % 4)
    p = 0.05
    if coalition & 1:
        p += w
    if coalition & 0b110 == 0b110:
        p += 0.25
    if coalition & 0b1000:
        p += 0.1
    if coalition & 0b10000:
        p *= 0.7
    return min(p, 1.0)


def draw(episode, coalition, ticket):
    """One simulated rollout: a 0/1 outcome, a pure function of its inputs."""
    h = hashlib.blake2b(f"{episode}:{coalition}:{ticket}".encode(),
                        digest_size=8).digest()
    u = int.from_bytes(h, "little") / 2.0**64
    return 1.0 if u < success_probability(episode, coalition) else 0.0


def rollout_batch(episode, jobs, delay=0.0):
    """A Dask task: a batch of (ticket, coalition) rollouts of one episode.
    The delay (seeded, up to `delay` seconds) makes tasks finish out of
    order, as real rollouts do."""
    if delay:
        first = jobs[0][0] if jobs else 0
        time.sleep(delay * ((first * 2654435761) % 97) / 97.0)
    return episode, [(t, draw(episode, c, t)) for t, c in jobs]


def new_estimator(episode):
    full = (1 << AGENTS) - 1
    return agentcredit.Estimator(
        AGENTS, method="exact", repeats=REPEATS, seed=episode,
        budget=((1 << AGENTS) - 2) * REPEATS,
        known={0: 0.05, full: success_probability(episode, full)})


def serial(episodes):
    """The reference: every episode alone, its batches evaluated in order."""
    credits = {}
    for e in episodes:
        with new_estimator(e) as est:
            while True:
                jobs = est.ask(BATCH)
                if not jobs:
                    break
                _, results = rollout_batch(e, jobs)
                est.tell(dict(results))
            credits[e] = est.result().phi
    return credits


def distributed_run(episodes, workers):
    from distributed import Client, LocalCluster, as_completed

    with LocalCluster(n_workers=workers, threads_per_worker=1,
                      processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        estimators = {e: new_estimator(e) for e in episodes}
        pending = as_completed()
        order = {}   # future key -> submission number
        tasks = late = newest = 0

        def submit(e):
            nonlocal tasks
            jobs = estimators[e].ask(BATCH)
            if jobs:
                f = client.submit(rollout_batch, e, jobs, 0.02, pure=False)
                order[f.key] = tasks
                pending.add(f)
                tasks += 1
            return bool(jobs)

        for e in episodes:          # one batch in flight per episode to start,
            submit(e)               # then a new ask for each told batch
            submit(e)
        for future in pending:
            late += order[future.key] < newest   # finished after a later one
            newest = max(newest, order[future.key])
            e, results = future.result()
            estimators[e].tell(dict(results))
            while submit(e):        # keep the episode's pipeline full
                if estimators[e].progress().outstanding >= 2 * BATCH:
                    break
        credits = {}
        for e, est in estimators.items():
            credits[e] = est.result().phi
            audit = est.audit()
            est.close()
            print(f"episode {e}: {audit['evaluations']} rollouts, "
                  f"{audit['rounds']} asks", file=sys.stderr)
        return credits, tasks, late


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=4)
    args = parser.parse_args()
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("skipped: Dask's distributed is not installed "
              "(apt-get install python3-distributed)")
        return 77
    episodes = list(range(args.episodes))
    start = time.time()
    got, tasks, late = distributed_run(episodes, args.workers)
    took = time.time() - start
    want = serial(episodes)
    ok = True
    print(f"{len(episodes)} episodes, {tasks} Dask tasks on {args.workers} "
          f"worker processes, {late} finished after a later one, "
          f"{took:.1f} s")
    for e in episodes:
        full = (1 << AGENTS) - 1
        total = math.fsum(got[e])
        target = success_probability(e, full) - 0.05
        same = got[e] == want[e]
        conserves = abs(total - target) <= 1e-12 * max(1.0, abs(target))
        ok &= same and conserves
        print(f"episode {e}: credits "
              + " ".join(f"{x:+.4f}" for x in got[e])
              + f"  sum {total:.6f}  equal to serial: {same}")
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
