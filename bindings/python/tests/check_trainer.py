"""Runs docs/examples/trainer.py (suite 'examples'): it must exit 0 and
write non-empty dpo.jsonl (TRL DPO records) and verl.jsonl (verl rows),
records the trainers load: no DPO prompt empty (TRL indexes a
conversational column's [0], trl/data_utils.py:193 at f2cd5771), the
first row included; every verl row with the keys verl reads
(verl/workers/reward_manager/naive.py:121-122 at 1dda039b), scored back
by agentcredit.verl.compute_score, and each agent's rows adding up to
its credit.

    check_trainer.py path/to/trainer.py
"""

import json
import math
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: trainer.py: " + msg, file=sys.stderr)
    sys.exit(1)


def records(path):
    if not os.path.exists(path):
        fail("%s was not written" % path)
    if os.path.getsize(path) == 0:
        fail("%s is empty" % path)
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def check_dpo(dpo):
    for k, rec in enumerate(dpo):
        if sorted(rec) != ["chosen", "prompt", "rejected"]:
            fail("DPO record %d has the keys %s" % (k, sorted(rec)))
        if not rec["prompt"] or "role" not in rec["prompt"][0]:
            fail("DPO record %d has an empty prompt, which TRL cannot "
                 "load" % k)
        for key in ("chosen", "rejected"):
            if [m["role"] for m in rec[key]] != ["assistant"]:
                fail("DPO record %d: %s is not one assistant message"
                     % (k, key))
        if rec["chosen"] == rec["rejected"]:
            fail("DPO record %d prefers a message to itself" % k)


def check_verl(rows):
    from agentcredit.verl import compute_score
    sums, credits = {}, {}
    for k, row in enumerate(rows):
        if row.get("data_source") != "agentcredit" or \
                "ground_truth" not in row.get("reward_model", {}):
            fail("verl row %d lacks data_source or reward_model"
                 ".ground_truth" % k)
        info = row["extra_info"]["agentcredit"]
        got = compute_score(row["data_source"],
                            row["reward_model"]["ground_truth"],
                            row["reward_model"]["ground_truth"],
                            row["extra_info"])
        if got["score"] != info["reward"]:
            fail("verl row %d scores %r, its reward is %r"
                 % (k, got["score"], info["reward"]))
        key = (info["episode"], info["agent"])
        sums.setdefault(key, []).append(info["reward"])
        credits[key] = info["credit"]
    for key, rewards in sums.items():
        if abs(math.fsum(rewards) - credits[key]) > 1e-12:
            fail("the verl rows of %s add up to %r, the credit is %r"
                 % (key, math.fsum(rewards), credits[key]))
    return len({e for e, _ in sums})


def main():
    script = sys.argv[1]
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([sys.executable, script, out], capture_output=True,
                           text=True, timeout=120)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        if r.returncode != 0:
            fail("exited with %d" % r.returncode)
        dpo = records(os.path.join(out, "dpo.jsonl"))
        rows = records(os.path.join(out, "verl.jsonl"))
    check_dpo(dpo)
    episodes = check_verl(rows)
    print("ok: %d DPO records, %d verl rows over %d episodes"
          % (len(dpo), len(rows), episodes))


if __name__ == "__main__":
    main()
