"""The package installed as a user installs it, then used with no
AGENTCREDIT_LIB, AGENTCREDIT_CLI, PYTHONPATH or LD_LIBRARY_PATH.

    check_install.py pip LIBRARY CLI
        In a temporary copy of the checkout's layout (bindings/python, and
        build/lib/libagentcredit.so.1 + build/bindings/cli/agentcredit from
        this build), ``pip install --no-index --no-build-isolation`` into a
        fresh venv (``--system-site-packages``, for Debian's numpy); the
        copy is then deleted, and the venv's interpreter must import the
        package, find the bundled library, compute, and run the CLI
        through ``python -m agentcredit``. Exit 77 (skip) when venv, pip,
        setuptools or wheel are missing (Debian: python3-venv, python3-pip,
        python3-setuptools, python3-wheel).

    check_install.py meson BUILDDIR
        ``meson install --destdir`` into a temporary directory: the
        package files must be the source package's plus _paths.py, and
        the staged package must find the staged library and CLI through
        _paths.py. Exit 77 when the build does not install the package
        (-Dpython_install=disabled, or no Python found).
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

PYTHON_DIR = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = PYTHON_DIR / "agentcredit"
SKIP = 77
#: What the installed package is used for: the 2-player game of
#: test_loader ([0, 1, 1, 3]: credits 1.5 each), the estimator over a
#: Python oracle, a pipeline over a tiny episode, the CLI's version.
PROBE = r"""
import sys, agentcredit
print(agentcredit.library[0])
print(agentcredit.library[1])
assert agentcredit.shapley_exact([0, 1, 1, 3]) == [1.5, 1.5]
with agentcredit.Estimator(3, known={0b111: 1.0, 0b000: 0.0}) as est:
    phi, se = est.run(lambda batch: [bin(c).count("1") / 3 for c in batch])
assert all(abs(p - 1 / 3) < 1e-12 for p in phi), phi
ep = agentcredit.Episode()
ep.add_participant("planner")
ep.add_participant("coder")
ep.add_message("planner", "plan")
ep.add_message("coder", "code")
ep.outcome = 1.0
with agentcredit.Pipeline(oracle=lambda b: [bin(c).count("1") / 2 for c in b]) as pipe:
    signals = pipe.run(ep)
assert abs(sum(signals.credits) - signals.total) < 1e-12, signals
print(agentcredit.__version__)
"""


def fail(message: str) -> int:
    print("FAIL: " + message, file=sys.stderr)
    return 1


def skip(message: str) -> int:
    print("SKIP: " + message)
    return SKIP


def clean_environment() -> Dict[str, str]:
    """This environment without anything that would find the library or
    the package for it."""
    env = dict(os.environ)
    for name in ("AGENTCREDIT_LIB", "AGENTCREDIT_CLI", "PYTHONPATH",
                 "LD_LIBRARY_PATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(name, None)
    for name in [k for k in env if k.startswith("PIP_")]:
        del env[name]           # no index, no find-links: this tree only
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(cmd: List[str], env: Dict[str, str], cwd: pathlib.Path
        ) -> subprocess.CompletedProcess:
    print("$ " + " ".join(cmd))
    return subprocess.run(cmd, env=env, cwd=str(cwd), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=300)


def inside(path: pathlib.Path, root: pathlib.Path) -> bool:
    """path is root or under it (symlinks resolved)."""
    path, root = path.resolve(), root.resolve()
    return os.path.commonpath([str(path), str(root)]) == str(root)


def check_probe(python: str, env: Dict[str, str], cwd: pathlib.Path,
                where: str, under: pathlib.Path) -> Optional[str]:
    """Runs PROBE and ``python -m agentcredit --version``; None when both
    did what they must, else what went wrong."""
    r = run([python, "-c", PROBE], env, cwd)
    if r.returncode != 0:
        return "the installed package failed:\n" + r.stdout + r.stderr
    found_where, found_path, version = r.stdout.split("\n")[:3]
    print("loaded %s (%s), version %s" % (found_path, found_where, version))
    if found_where != where:
        return "the library came from %r, not %r" % (found_where, where)
    if not inside(pathlib.Path(found_path), under):
        return "the library %s is not under %s" % (found_path, under)
    r = run([python, "-m", "agentcredit", "--version"], env, cwd)
    if r.returncode != 0 or not r.stdout.startswith(
            "agentcredit %s (library %s, ABI" % (version, version)):
        return ("python -m agentcredit --version gave (exit %d):\n%s%s"
                % (r.returncode, r.stdout, r.stderr))
    print(r.stdout.strip())
    r = run([python, "-m", "agentcredit", "--cli-path"], env, cwd)
    cli = pathlib.Path(r.stdout.strip())
    if r.returncode != 0 or not inside(cli, under):
        return ("python -m agentcredit --cli-path gave %r, not a tool under "
                "%s:\n%s" % (r.stdout, under, r.stderr))
    return None


def check_pip(lib: pathlib.Path, cli: pathlib.Path) -> int:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = pathlib.Path(tmp_name)
        env = clean_environment()
        venv = tmp / "venv"
        r = run([sys.executable, "-m", "venv", "--system-site-packages",
                 str(venv)], env, tmp)
        if r.returncode != 0:
            return skip("no venv with pip for %s (Debian: python3-venv): %s"
                        % (sys.executable, r.stderr.strip()))
        python = str(venv / "bin" / "python")
        r = run([python, "-c", "import setuptools, wheel"], env, tmp)
        if r.returncode != 0:
            return skip("the venv has no setuptools or wheel to build with "
                        "(Debian: python3-setuptools, python3-wheel): "
                        + r.stderr.strip().split("\n")[-1])
        # The checkout's layout, so that the build finds build/ by itself.
        src = tmp / "checkout"
        shutil.copytree(str(PYTHON_DIR), str(src / "bindings" / "python"),
                        ignore=shutil.ignore_patterns(
                            "__pycache__", "build", "*.egg-info", "tests"))
        (src / "build" / "lib").mkdir(parents=True)
        (src / "build" / "bindings" / "cli").mkdir(parents=True)
        shutil.copy2(str(lib), str(src / "build" / "lib" / lib.name))
        shutil.copy2(str(cli), str(src / "build" / "bindings" / "cli" /
                                   "agentcredit"))
        r = run([python, "-m", "pip", "install", "--no-index",
                 "--no-build-isolation", "--disable-pip-version-check",
                 str(src / "bindings" / "python")], env, tmp)
        print(r.stdout[-2000:])
        if r.returncode != 0:
            return fail("pip install failed:\n" + r.stderr)
        shutil.rmtree(str(src))   # the installed package must stand alone
        problem = check_probe(python, env, tmp, "next to the package", venv)
        if problem:
            return fail(problem)
        r = run([python, "-c", "import numpy"], env, tmp)
        print("numpy in the venv: %s" % ("yes" if r.returncode == 0 else
                                         "no (python3-numpy not installed)"))
    print("ok: pip install of the package works without any variable")
    return 0


def check_meson(builddir: pathlib.Path) -> int:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = pathlib.Path(tmp_name)
        dest = tmp / "dest"
        env = clean_environment()
        r = run([os.environ.get("MESON", "meson"), "install", "-C",
                 str(builddir), "--no-rebuild", "--quiet", "--destdir",
                 str(dest)], env, tmp)
        if r.returncode != 0:
            return fail("meson install failed:\n" + r.stdout + r.stderr)
        paths = sorted(dest.rglob("agentcredit/_paths.py"))
        if not paths:
            return skip("meson install did not install the Python package "
                        "(-Dpython_install=disabled, or no Python found)")
        installed = paths[0].parent
        want = sorted(p.name for p in PACKAGE.iterdir()
                      if p.suffix == ".py" or p.name == "py.typed")
        got = sorted(p.name for p in installed.iterdir()
                     if p.name != "_paths.py")
        if got != want:
            return fail("meson install put %s into %s, the package has %s: "
                        "update ac_py_sources in bindings/python/meson.build"
                        % (got, installed, want))
        env["PYTHONPATH"] = str(installed.parent)
        problem = check_probe(sys.executable, env, tmp,
                              "the install prefix (meson install)", dest)
        if problem:
            return fail(problem)
    print("ok: meson install's package finds the installed library and CLI")
    return 0


def main(argv: List[str]) -> int:
    if len(argv) == 3 and argv[0] == "pip":
        return check_pip(pathlib.Path(argv[1]), pathlib.Path(argv[2]))
    if len(argv) == 2 and argv[0] == "meson":
        return check_meson(pathlib.Path(argv[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
