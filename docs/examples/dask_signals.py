#!/usr/bin/env python3
"""Many episodes on a Dask cluster: the signals of a JSONL file of episodes.

A training run produces thousands of episodes per step. This reads a file
of ``"agentcredit.episode/1"`` lines (docs/format.md), cuts it into batches
of ``--batch`` episodes and submits one Dask task per batch. Each task makes
its own ``agentcredit.Pipeline`` on the worker (handles are never shipped:
only the batch's text goes out and its signals lines come back), runs every
episode of the batch and returns one signals line per episode, or the
error that stopped it. The driver writes the lines in input order, as
``agentcredit signals`` does, and the output is the same bytes as a serial
run (``--serial``, or ``agentcredit signals`` with the same options): the
pipeline's result depends only on the episode and the options.

    python3 docs/examples/dask_signals.py EPISODES.jsonl [-o OUT]
        [--workers N | --scheduler ADDRESS] [--batch N] [--serial]
        [--verifier annotations|none] [--seed N] [--budget N] [--strict]

The coalition values come from the episodes (``"values"``, the outcome and
the ``"baseline"``), as on the command line; an episode that needs an
oracle it does not have fails, is reported and writes no line. With
``--workers N`` (default 2) the cluster is a ``distributed.LocalCluster``
of N worker processes; ``--scheduler tcp://host:8786`` uses a running
cluster instead, whose workers must be able to import ``agentcredit`` and
load ``libagentcredit.so.1`` (docs/python.md, "Installation").

Errors go to stderr as ``FILE:LINE: message`` (warnings as ``FILE:LINE:
warning: ...``), the last line counts the episodes and gives the
throughput. Exit status 0 when every episode gave its line, 1 when any
failed, 2 on a bad command line, 77 (skipped) when Dask's ``distributed``
is not installed (Debian: ``apt-get install python3-distributed``) and
``--serial`` was not given. docs/scaling.md explains the recipe.
"""
import argparse
import collections
import contextlib
import sys
import time

import agentcredit


def pipeline_params(args):
    """The options of ``agentcredit signals``, as Pipeline keywords: a plain
    dict, so that it travels to the workers."""
    params = {"verifier_source": {"annotations": "annotation",
                                  "none": "none"}[args.verifier]}
    if args.seed is not None:
        params["estimator_seed"] = args.seed
    if args.budget is not None:
        params["estimator_budget"] = args.budget
    return params


def signals_of_batch(batch, params, strict=False):
    """A Dask task: the signals of a batch of ``(line number, text)``
    episodes, as ``(line number, signals line or None, [messages])`` in the
    batch's order. The pipeline is made here, on the worker, and closed
    before the task returns."""
    results = []
    with agentcredit.Pipeline(**params) as pipe:
        for number, text in batch:
            results.append((number,) + signals_of_episode(pipe, text,
                                                          strict))
    return results


def signals_of_episode(pipe, text, strict):
    """One episode's signals line (None when it failed) and its messages:
    the warnings, then the error, worded as the command line words them."""
    try:
        episode = agentcredit.Episode.from_json(text, strict=strict)
    except agentcredit.AgentCreditError as e:
        return None, [e.detail or str(e)]
    with episode:
        notes = ["warning: " + w for w in episode.warnings]
        try:
            pipe.run(episode)
            return pipe.to_json(episode), notes
        except agentcredit.AgentCreditError as e:
            return None, notes + [str(e)]


def batches(lines, size):
    """``(line number, text)`` batches of up to ``size`` episodes; blank
    lines are skipped, as the command line skips them."""
    batch = []
    for number, text in enumerate(lines, 1):
        if text.strip():
            batch.append((number, text.rstrip("\n")))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Writer:
    """Writes the results of the batches, in the order it is given them,
    and counts them."""

    def __init__(self, name, out, err):
        self.name, self.out, self.err = name, out, err
        self.episodes = self.written = self.failed = self.warnings = 0

    def write(self, results):
        for number, line, notes in results:
            self.episodes += 1
            for note in notes:
                print(f"dask_signals: {self.name}:{number}: {note}",
                      file=self.err)
                self.warnings += note.startswith("warning: ")
            if line is None:
                self.failed += 1
            else:
                self.out.write(line + "\n")
                self.written += 1


def run_serial(lines, args, writer):
    """Returns how it ran and when it was ready to run (now)."""
    params = pipeline_params(args)
    ready = time.perf_counter()
    for batch in batches(lines, args.batch):
        writer.write(signals_of_batch(batch, params, args.strict))
    return "serial, in this process", ready


def run_dask(lines, args, writer):
    """One task per batch, at most ``--in-flight`` batches per worker
    submitted at a time (the file is never all in memory), written in
    submission order as each oldest batch completes. Returns how it ran
    and when the cluster was ready."""
    from distributed import Client, LocalCluster

    params = pipeline_params(args)
    if args.scheduler is None:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                               processes=True, dashboard_address=":0")
    else:
        cluster = contextlib.nullcontext(args.scheduler)
    with cluster as where, Client(where) as client:
        client.wait_for_workers(1)
        workers = len(client.scheduler_info()["workers"])
        ready = time.perf_counter()
        window = collections.deque()
        for batch in batches(lines, args.batch):
            window.append(client.submit(signals_of_batch, batch, params,
                                        args.strict, pure=False))
            if len(window) >= args.in_flight * workers:
                writer.write(window.popleft().result())
        while window:
            writer.write(window.popleft().result())
        return (f"Dask, {workers} worker process"
                f"{'es' if workers != 1 else ''}", ready)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("episodes", help="a JSONL file of episodes, "
                        "or - for stdin")
    parser.add_argument("-o", "--output", default="-",
                        help="the signals JSONL (stdout by default)")
    parser.add_argument("--workers", type=int, default=2,
                        help="LocalCluster worker processes (2)")
    parser.add_argument("--scheduler", help="the address of a running "
                        "Dask scheduler, instead of a LocalCluster")
    parser.add_argument("--batch", type=int, default=64,
                        help="episodes per task (64)")
    parser.add_argument("--in-flight", type=int, default=4,
                        help="batches submitted ahead, per worker (4)")
    parser.add_argument("--serial", action="store_true",
                        help="no Dask: every batch in this process")
    parser.add_argument("--verifier", choices=["annotations", "none"],
                        default="none")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--budget", type=int)
    parser.add_argument("--strict", action="store_true",
                        help="an unknown key fails the episode")
    args = parser.parse_args(argv)
    for name in ("workers", "batch", "in_flight"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if not args.serial:
        try:
            import distributed  # noqa: F401
        except ImportError:
            print("skipped: Dask's distributed is not installed "
                  "(apt-get install python3-distributed)")
            return 77
    src = sys.stdin if args.episodes == "-" else \
        open(args.episodes, encoding="utf-8")
    out = sys.stdout if args.output == "-" else \
        open(args.output, "w", encoding="utf-8")
    with src, out:
        writer = Writer("-" if src is sys.stdin else args.episodes, out,
                        sys.stderr)
        start = time.perf_counter()
        how, ready = (run_serial if args.serial else run_dask)(src, args,
                                                               writer)
        end = time.perf_counter()
    rate = writer.episodes / max(end - ready, 1e-9)
    print(f"dask_signals: {writer.episodes} episodes, {writer.written} "
          f"written, {writer.failed} failed, {writer.warnings} warnings; "
          f"{end - start:.2f} s, {ready - start:.2f} s of it starting; "
          f"{rate:.0f} episodes/s after that ({how}, {args.batch} episodes "
          "per batch)", file=sys.stderr)
    return 1 if writer.failed else 0


if __name__ == "__main__":
    sys.exit(main())
