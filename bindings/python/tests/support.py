"""Shared by the tests: paths, the package import, small games.

meson runs every test_*.py with PYTHONPATH=bindings/python,
AGENTCREDIT_LIB=<build>/lib/libagentcredit.so.1 and AGENTCREDIT_CLI=<build>/
bindings/cli/agentcredit. Run by hand:

    AGENTCREDIT_LIB=build/lib/libagentcredit.so.1 \\
        python3 bindings/python/tests/test_estimator.py -v
"""

import itertools
import math
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
PYTHON_DIR = HERE.parent
ROOT = PYTHON_DIR.parent.parent
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))

import agentcredit  # noqa: E402

TESTDATA = ROOT / "bindings" / "cli" / "testdata"
GAMES = ROOT / "tests" / "data" / "games"

try:
    import numpy  # noqa: F401
    HAVE_NUMPY = True
except ImportError:
    HAVE_NUMPY = False


def cli_path():
    """The CLI of this build: $AGENTCREDIT_CLI when set (meson sets it; a
    CLI of another build may speak another API), else build/'s."""
    p = os.environ.get("AGENTCREDIT_CLI")
    if p:
        return p if os.path.exists(p) else None
    guess = ROOT / "build" / "bindings" / "cli" / "agentcredit"
    return str(guess) if guess.exists() else None


def lib_path():
    """The library the tests run against (a path)."""
    env = os.environ.get("AGENTCREDIT_LIB")
    if env:
        p = pathlib.Path(env)
        return str(p / agentcredit._lib.SONAME) if p.is_dir() else str(p)
    return agentcredit.library[1]


def run_python(code, env_update=None, env_remove=(), cwd=None, timeout=60,
               args=()):
    """Runs code in a fresh interpreter (this one), returns the
    CompletedProcess (text)."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for k in env_remove:
        env.pop(k, None)
    if "PYTHONPATH" not in (env_update or {}):
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PYTHON_DIR)] + [p for p in env.get("PYTHONPATH", "").split(
                os.pathsep) if p])
    env.update(env_update or {})
    return subprocess.run([sys.executable, "-c", code, *args], env=env,
                          cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def conserved(phi, total, tol=1e-12):
    return abs(math.fsum(phi) - total) <= tol * max(1.0, abs(total))


def shapley_brute(n, v):
    """Shapley values by enumerating all permutations (small n)."""
    phi = [0.0] * n
    perms = list(itertools.permutations(range(n)))
    for perm in perms:
        s = 0
        for i in perm:
            phi[i] += v(s | (1 << i)) - v(s)
            s |= 1 << i
    return [p / len(perms) for p in phi]


def table_oracle(values):
    """A Python oracle over a value table."""
    return lambda coalitions: [values[c] for c in coalitions]


def popcount(x):
    return bin(x).count("1")
