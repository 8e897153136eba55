"""Runs docs/examples/trainer.py (suite 'examples'): it must exit 0 and
write non-empty dpo.jsonl (TRL DPO records) and grpo.jsonl (per-message
reward records).

    check_trainer.py path/to/trainer.py
"""

import json
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
        grpo = records(os.path.join(out, "grpo.jsonl"))
    for rec in dpo:
        if sorted(rec) != ["chosen", "prompt", "rejected"]:
            fail("a DPO record has the keys %s" % sorted(rec))
        for key in ("chosen", "rejected"):
            if [m["role"] for m in rec[key]] != ["assistant"]:
                fail("a DPO %s is not one assistant message" % key)
        if rec["chosen"] == rec["rejected"]:
            fail("a DPO record prefers a message to itself")
    groups = {}
    for rec in grpo:
        for key in ("prompt", "response", "reward_score", "uid",
                    "extra_info"):
            if key not in rec:
                fail("a per-message record lacks %r" % key)
        groups.setdefault(rec["extra_info"]["episode"], 0)
        groups[rec["extra_info"]["episode"]] += 1
    print("ok: %d DPO records, %d per-message records over %d episodes"
          % (len(dpo), len(grpo), len(groups)))


if __name__ == "__main__":
    main()
