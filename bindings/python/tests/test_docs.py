"""The documentation runs: every ```python block of docs/python.md, and the
ten-line example shown after the ``<!-- readme-python -->`` marker (read
from README.md when the marker is there, else from docs/python.md), with
its printed output."""

import contextlib
import io
import os
import re
import tempfile
import unittest

from support import ROOT, run_python

MARKER = "<!-- readme-python -->"
DOC = ROOT / "docs" / "python.md"
README = ROOT / "README.md"

FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(text):
    """[(language, code, start offset)] of the fenced blocks."""
    return [(m.group(1), m.group(2), m.start()) for m in FENCE.finditer(text)]


def readme_example():
    """(file, code, expected output or None) of the marked example."""
    for path in (README, DOC):
        text = path.read_text(encoding="utf-8")
        at = text.find(MARKER)
        if at < 0:
            continue
        after = [b for b in blocks(text) if b[2] > at]
        if not after or after[0][0] != "python":
            raise AssertionError("%s: no ```python block after %s"
                                 % (path, MARKER))
        expected = None
        if len(after) > 1 and after[1][0] in ("", "text"):
            between = text[after[0][2]:after[1][2]]
            if between.count("```") == 2:     # nothing else in between
                expected = after[1][1]
        return path, after[0][1], expected
    raise AssertionError("no %s marker in README.md or docs/python.md"
                         % MARKER)


class Docs(unittest.TestCase):
    def test_every_python_block_runs(self):
        text = DOC.read_text(encoding="utf-8")
        code_blocks = [(code, text.count("\n", 0, start) + 1)
                       for lang, code, start in blocks(text)
                       if lang == "python"]
        self.assertGreaterEqual(len(code_blocks), 8)
        cwd = os.getcwd()
        for code, line in code_blocks:
            with self.subTest(line=line), \
                    tempfile.TemporaryDirectory() as tmp:
                os.chdir(tmp)
                out = io.StringIO()
                try:
                    with contextlib.redirect_stdout(out):
                        exec(compile(code, "%s:%d" % (DOC, line), "exec"),
                             {"__name__": "__docs__"})
                finally:
                    os.chdir(cwd)
                self.assertTrue(out.getvalue() or "print" not in code)

    def test_readme_example(self):
        path, code, expected = readme_example()
        lines = code.rstrip("\n").split("\n")
        self.assertLessEqual(len(lines), 10, "the README example is meant "
                             "to be ten lines")
        self.assertTrue(all(len(line) <= 88 for line in lines),
                        "keep the README example within 88 columns")
        with tempfile.TemporaryDirectory() as tmp:
            r = run_python(code, cwd=tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        if expected is not None:
            self.assertEqual(r.stdout, expected)

    def test_readme_and_guide_agree(self):
        readme = README.read_text(encoding="utf-8")
        if MARKER not in readme:
            self.skipTest("README.md has no %s block yet" % MARKER)
        in_readme = readme_example()[1]
        guide = DOC.read_text(encoding="utf-8")
        at = guide.find(MARKER)
        in_guide = [b for b in blocks(guide) if b[2] > at][0][1]
        self.assertEqual(in_readme, in_guide, "README.md and docs/python.md "
                         "show different examples: keep them identical")

    def test_localizer_block_prints_what_the_c_example_prints(self):
        # docs/python.md says its localizer block prints the numbers of
        # docs/examples/localizer_example.c
        expected = (ROOT / "docs" / "examples" /
                    "localizer_example.expected").read_text()
        text = DOC.read_text(encoding="utf-8")
        code = next(c for lang, c, _ in blocks(text)
                    if lang == "python" and "judge_errs" in c)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, {"__name__": "__docs__"})
        first, pair, rewards = out.getvalue().strip().split("\n")
        self.assertIn("message 7 by agent 1, probability 0.680 (within one "
                      "step 0.920)", expected)
        self.assertTrue(first.startswith("FirstError(step=7, agent=1, "
                                         "probability=0.679"), first)
        self.assertTrue(first.endswith(" 0.92"), first)
        self.assertIn("chosen candidate 101, prompt messages 0..6, weight "
                      "0.612", expected)
        self.assertEqual(pair.split(), ["repair", "7", "101", "0.612"])
        want = [float(line.split()[-1]) for line in expected.splitlines()
                if line.startswith("message ")]
        got = [float(x) for x in rewards.strip("[]").split(",")]
        self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
