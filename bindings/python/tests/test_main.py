"""``python3 -m agentcredit``: runs the CLI with the arguments given, finds
a CLI bundled next to the library, and says where it looked when there is
none."""

import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

import support
from support import run_python

from agentcredit import _lib

RUN_MAIN = "import runpy; runpy.run_module('agentcredit', run_name='__main__')"


def run_main(args, env_update=None, env_remove=(), cwd=None):
    """python3 -m agentcredit ARGS (through runpy: run_python takes code)."""
    return run_python("import sys; sys.argv[0] = 'agentcredit'; " + RUN_MAIN,
                      env_update, env_remove, cwd=cwd, args=args)


class WithTheBuildsCli(unittest.TestCase):
    def setUp(self):
        self.cli = support.cli_path()
        if self.cli is None:
            self.skipTest("no CLI built (set AGENTCREDIT_CLI)")

    def test_version_is_the_clis(self):
        own = subprocess.run([self.cli, "--version"], capture_output=True,
                             text=True)
        r = run_main(["--version"], {"AGENTCREDIT_CLI": self.cli})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, own.stdout)
        self.assertTrue(r.stdout.startswith("agentcredit %s (library"
                                            % support.agentcredit.__version__))

    def test_status_and_errors_pass_through(self):
        own = subprocess.run([self.cli, "no-such-command"],
                             capture_output=True, text=True)
        r = run_main(["no-such-command"], {"AGENTCREDIT_CLI": self.cli})
        self.assertNotEqual(own.returncode, 0)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (own.returncode, own.stdout, own.stderr))

    def test_cli_path(self):
        r = run_main(["--cli-path"], {"AGENTCREDIT_CLI": self.cli})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.cli + "\n")


class Bundled(unittest.TestCase):
    """The layout pip install gives: library and CLI in the package."""

    def bundle(self, tmp, with_cli):
        pkg = pathlib.Path(tmp) / "agentcredit"
        shutil.copytree(support.PYTHON_DIR / "agentcredit", pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(support.lib_path(), pkg / _lib.SONAME)
        if with_cli:
            shutil.copy2(self.cli, pkg / "agentcredit")
        empty = pathlib.Path(tmp) / "empty"
        empty.mkdir()
        # nothing but the copy: no variables, nothing on PATH
        return pkg, dict(env_update={"PYTHONPATH": tmp, "PATH": str(empty)},
                         env_remove=("AGENTCREDIT_LIB", "AGENTCREDIT_CLI",
                                     "LD_LIBRARY_PATH"), cwd=tmp)

    def setUp(self):
        self.cli = support.cli_path()

    def test_runs_the_cli_next_to_the_library(self):
        if self.cli is None:
            self.skipTest("no CLI built (set AGENTCREDIT_CLI)")
        with tempfile.TemporaryDirectory() as tmp:
            pkg, how = self.bundle(tmp, with_cli=True)
            r = run_main(["--cli-path"], **how)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "%s\n" % (pkg / "agentcredit"))
            # the copy's RUNPATH finds nothing: the library's directory
            # goes on LD_LIBRARY_PATH
            r = run_main(["--version"], **how)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("(library %s, ABI %d)"
                          % (support.agentcredit.__version__,
                             _lib.ABI_VERSION), r.stdout)

    def test_says_where_it_looked(self):
        with tempfile.TemporaryDirectory() as tmp:
            pkg, how = self.bundle(tmp, with_cli=False)
            r = run_main(["--version"], **how)
            self.assertEqual(r.returncode, 127, r.stdout + r.stderr)
            self.assertEqual(r.stdout, "")
            err = r.stderr
            self.assertIn("cannot find the agentcredit command-line tool; "
                          "tried, in order:", err)
            self.assertIn("1. next to the library: %s: no such file"
                          % (pkg / "agentcredit"), err)
            self.assertIn("2. the library's build: %s: no such file"
                          % (pathlib.Path(tmp) / "bindings" / "cli" /
                             "agentcredit"), err)
            self.assertIn("3. PATH: -: found nothing", err)
            self.assertIn("make build", err)
            self.assertIn("AGENTCREDIT_CLI", err)

    def test_a_variable_that_names_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            _, how = self.bundle(tmp, with_cli=False)
            how["env_update"]["AGENTCREDIT_CLI"] = os.path.join(tmp, "nope")
            r = run_main([], **how)
            self.assertEqual(r.returncode, 127)
            self.assertIn("1. $AGENTCREDIT_CLI: %s: no such file"
                          % os.path.join(tmp, "nope"), r.stderr)


if __name__ == "__main__":
    unittest.main()
