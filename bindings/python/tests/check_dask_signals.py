"""Runs docs/examples/dask_signals.py (suite 'examples') on a LocalCluster of
2 worker processes and checks that its output is a serial run's, byte for
byte and in input order: the example's own --serial run and the command
line's `agentcredit signals`, with the same options. The episodes are
generated here, deterministically, with their coalition values (no oracle
needed); among them a line that is not JSON, an episode that needs a value
it does not have (both fail: reported, no line, the rest still in order),
an unknown key (a warning) and a blank line.

    check_dask_signals.py path/to/dask_signals.py
    check_dask_signals.py --generate N OUT.jsonl [--seed S]

Exit 0 when all agree, 1 otherwise, 77 (skipped) without Dask's
`distributed` (Debian: apt-get install python3-distributed). The second
form writes N generated episodes (docs/scaling.md measures with it).
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile

from support import cli_path


def coalition_value(weights, synergy, members):
    """A small team game: each agent adds its weight, agents 0 and 1 add
    `synergy` together; values are multiples of 1/1024 (exact in JSON)."""
    v = sum(weights[i] for i in members)
    if 0 in members and 1 in members:
        v += synergy
    return round(v * 1024) / 1024


def episode(seed, index, max_agents=5):
    """Episode `index` of the generated set: 2..max_agents agents, a user
    and a tool, every agent speaking, every coalition's value given; about
    a third fail, with a human first-error label on an agent's message."""
    rng = random.Random(f"{seed}:{index}")
    n = rng.randint(2, max_agents)
    agents = [f"agent{i}" for i in range(n)]
    participants = [{"name": a} for a in agents] + [
        {"name": "user", "kind": "user"}, {"name": "tool", "kind": "tool"}]
    speakers = agents + [rng.choice(agents + ["tool"])
                         for _ in range(rng.randint(2, 8))]
    rng.shuffle(speakers)
    messages = [{"from": "user", "text": f"task {index}"}] + [
        {"from": s, "text": f"step {k} by {s}"}
        for k, s in enumerate(speakers, 1)]
    weights = [rng.randint(1, 40) / 100 for _ in agents]
    synergy = rng.randint(0, 20) / 100
    values = []
    for mask in range(1, (1 << n) - 1):
        members = [i for i in range(n) if mask >> i & 1]
        values.append({"agents": [agents[i] for i in members],
                       "value": coalition_value(weights, synergy, members)})
    ep = {"format": "agentcredit.episode/1", "id": f"gen-{seed}-{index}",
          "participants": participants, "messages": messages,
          "baseline": 0.0, "values": values}
    if rng.random() < 0.35:
        ep["outcome"] = 0.0
        ep["reference"] = 0.4
        agent_steps = [k for k, m in enumerate(messages)
                       if m["from"] in agents]
        ep["annotations"] = {"first_error": rng.choice(agent_steps)}
    else:
        ep["outcome"] = coalition_value(weights, synergy, range(n))
    return ep


def generate(n, seed=1):
    return [json.dumps(episode(seed, i)) for i in range(n)]


def fixture():
    """40 generated episodes with the failures and oddities among them;
    returns the lines and the line numbers that must fail."""
    lines = generate(40, seed=7)
    needs_value = episode(7, 100)
    needs_value["values"] = needs_value["values"][1:]
    odd = episode(7, 101)
    odd["messages"][1]["mood"] = "cheerful"      # an unknown key: a warning
    lines[5:5] = ['{"format": "agentcredit.episode/1", "participants": [']
    lines[17:17] = [""]
    lines[23:23] = [json.dumps(needs_value)]
    lines[30:30] = [json.dumps(odd)]
    return lines, {6, 24}


def fail(msg):
    print("FAIL: dask_signals.py: " + msg, file=sys.stderr)
    sys.exit(1)


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, timeout=240)
    err = r.stderr.decode("utf-8", "replace")
    print(f"{what}: exit {r.returncode}; stderr:\n{err}", file=sys.stderr)
    return r.returncode, r.stdout, err


def reported(err, prefix):
    """The `FILE:LINE: message` lines of a run's stderr, without the
    program's prefix and the file's name, in order."""
    found = []
    for line in err.splitlines():
        m = re.match(re.escape(prefix) + r": [^:]*:(\d+): (.*)$", line)
        if m:
            found.append((int(m.group(1)), m.group(2)))
    return found


def check(script):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "episodes.jsonl")
        lines, failing = fixture()
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        options = ["--verifier", "annotations"]
        ex = [sys.executable, script, path] + options
        rc, dask, dask_err = run(ex + ["--workers", "2", "--batch", "3"],
                                 "dask (2 workers)")
        if rc == 77:
            print(dask_err.strip() or "skipped: no distributed")
            return 77
        rc_s, serial, serial_err = run(ex + ["--serial"], "serial")
        rc_c, cli, cli_err = run([cli_path(), "signals"] + options + [path],
                                 "agentcredit signals")
    for name, code in (("dask", rc), ("serial", rc_s), ("cli", rc_c)):
        if code != 1:
            fail(f"the {name} run exited with {code}, not 1 (two episodes "
                 "fail)")
    written = len(lines) - 1 - len(failing)          # one line is blank
    got = dask.decode("utf-8").splitlines()
    if len(got) != written:
        fail(f"{len(got)} signals lines, not {written}")
    if dask != serial:
        fail("the Dask output differs from the serial run's")
    if dask != cli:
        fail("the Dask output differs from `agentcredit signals`'")
    want_ids = [json.loads(t)["id"] for k, t in enumerate(lines, 1)
                if t and k not in failing]
    if [json.loads(t)["id"] for t in got] != want_ids:
        fail("the signals are not in input order")
    errors = reported(dask_err, "dask_signals")
    if [k for k, m in errors if not m.startswith("warning: ")] \
            != sorted(failing):
        fail(f"the failures reported are {errors}, not lines "
             f"{sorted(failing)}")
    if errors != reported(serial_err, "dask_signals") or \
            errors != reported(cli_err, "agentcredit"):
        fail("the errors and warnings differ from the serial run's or "
             "the command line's")
    if "warning: messages[1].mood: unknown key" not in dask_err:
        fail("the unknown key was not reported")
    print(f"ok: {len(got)} signals lines, equal to the serial run and to "
          f"`agentcredit signals`; {len(errors)} messages, on lines "
          f"{[k for k, _ in errors]}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?")
    parser.add_argument("--generate", nargs=2, metavar=("N", "OUT"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.generate:
        n, out = int(args.generate[0]), args.generate[1]
        with open(out, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in generate(n, args.seed)))
        return 0
    if not args.script:
        parser.error("the path of dask_signals.py, or --generate")
    return check(args.script)


if __name__ == "__main__":
    sys.exit(main())
