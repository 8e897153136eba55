#!/usr/bin/env python3
"""Writes bindings/python/agentcredit/_constants.py from include/agentcredit.h.

    python3 bindings/python/gen_constants.py           # (re)writes the file
    python3 bindings/python/gen_constants.py --check   # exit 1 and a diff
                                                       # when it is stale

What it takes from the header (standard library only, no C preprocessor):

* every ``typedef enum ac_X { ... } ac_X;``: one Python class per C enum,
  ``enum.IntFlag`` for the sets whose members combine (``ac_*_flag`` and
  ``ac_reset``), ``enum.IntEnum`` for the others;
* every ``#define AC_NAME <integer>``: a module constant ``NAME`` (the
  limits such as ``MAX_PLAYERS``, ``ABI_VERSION``, the version numbers).

The naming rule, applied to every set:

* class: the C type without ``ac_`` and without a final ``_key``, in
  CamelCase: ``ac_estimator_param`` -> ``EstimatorParam``,
  ``ac_estimator_audit_key`` -> ``EstimatorAudit``, ``ac_step_flag`` ->
  ``StepFlag``, ``ac_status`` -> ``Status``;
* member: the C enumerator without ``AC_`` and the set's name, the same
  words upper-case: ``AC_ESTIMATOR_PARAM_BUDGET`` ->
  ``EstimatorParam.BUDGET``, ``AC_STEP_FLAG_FIRST_ERROR`` ->
  ``StepFlag.FIRST_ERROR``. The status codes are the one set whose
  enumerators do not spell the set's name: they only lose ``AC_``
  (``AC_OK`` -> ``Status.OK``, ``AC_E_BUDGET`` -> ``Status.E_BUDGET``), so
  that ``"AC_" + member.name`` is what ``ac_status_name()`` returns.

An enumerator that breaks the rule (another set's prefix, a name that is not
a Python identifier) stops the generator with the header line to fix."""

import argparse
import ast
import difflib
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HEADER = ROOT / "include" / "agentcredit.h"
OUTPUT = HERE / "agentcredit" / "_constants.py"

#: Sets whose members are bits that combine (IntFlag): *_flag, and the reset
#: parts.
FLAG_SETS = ("ac_reset",)
#: The one set whose enumerators do not carry the set's name (AC_OK, AC_E_*).
BARE_SETS = ("ac_status",)
#: #defines that are versions rather than limits: generated, not exported.
VERSION_DEFINES = ("AC_VERSION_MAJOR", "AC_VERSION_MINOR", "AC_VERSION_PATCH")


class HeaderError(Exception):
    """The header says something the generator cannot turn into Python."""


def _line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def _blank_comments(text):
    """The text with every comment replaced by spaces (newlines kept), so
    offsets and line numbers still point into the header."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"/\*.*?\*/|//[^\n]*", blank, text, flags=re.S)


def _c_int(literal):
    """A C integer literal (decimal, hex or octal, u/l suffixes) as int."""
    lit = literal.rstrip("uUlL")
    if lit.lower().startswith("0x"):
        return int(lit, 16)
    if len(lit) > 1 and lit.startswith("0"):
        return int(lit, 8)
    return int(lit, 10)


_INT = r"(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*"


def _evaluate(expr, known, where):
    """An enumerator's value: integer literals, earlier enumerators of the
    set, parentheses and the operators + - | << ~."""
    text = re.sub(_INT, lambda m: str(_c_int(m.group(0))), expr)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise HeaderError("%s: cannot read the value %r" % (where, expr))

    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(
                node.op, (ast.USub, ast.UAdd, ast.Invert)):
            v = value(node.operand)
            return {ast.USub: -v, ast.UAdd: v, ast.Invert: ~v}[
                type(node.op)]
        if isinstance(node, ast.BinOp) and isinstance(
                node.op, (ast.Add, ast.Sub, ast.BitOr, ast.LShift)):
            a, b = value(node.left), value(node.right)
            return {ast.Add: a + b, ast.Sub: a - b, ast.BitOr: a | b,
                    ast.LShift: a << b}[type(node.op)]
        raise HeaderError("%s: cannot evaluate %r" % (where, expr))
    return value(tree.body)


def class_name(c_type):
    """ac_estimator_audit_key -> EstimatorAudit."""
    base = c_type[len("ac_"):]
    if base.endswith("_key"):
        base = base[:-len("_key")]
    return "".join(w.capitalize() for w in base.split("_"))


def member_prefix(c_type):
    """What every enumerator of the set starts with."""
    if c_type in BARE_SETS:
        return "AC_"
    base = c_type[len("ac_"):]
    if base.endswith("_key"):
        base = base[:-len("_key")]
    return "AC_" + base.upper() + "_"


def is_flag_set(c_type):
    return c_type.endswith("_flag") or c_type in FLAG_SETS


def parse_enums(text):
    """[(C type, [(C enumerator, value), ...])] in header order."""
    code = _blank_comments(text)
    enums = []
    pattern = re.compile(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;",
                         re.S)
    for m in pattern.finditer(code):
        tag, body, name = m.group(1), m.group(2), m.group(3)
        where = "include/agentcredit.h:%d" % _line_of(code, m.start())
        if tag != name or not name.startswith("ac_"):
            raise HeaderError("%s: typedef enum %s { } %s: the tag and the "
                              "type must be the same ac_ name"
                              % (where, tag, name))
        members, known, nxt = [], {}, 0
        for im in re.finditer(r"[^,]+", body):
            item = im.group(0)
            if not item.strip():
                continue
            start = m.start(2) + im.start() + len(item) - len(item.lstrip())
            here = "include/agentcredit.h:%d" % _line_of(code, start)
            enumerator, _, expr = item.strip().partition("=")
            enumerator = enumerator.strip()
            if not re.fullmatch(r"AC_\w+", enumerator):
                raise HeaderError("%s: %r is not an AC_ enumerator"
                                  % (here, enumerator))
            v = _evaluate(expr, known, here) if expr.strip() else nxt
            known[enumerator] = v
            members.append((enumerator, v, here))
            nxt = v + 1
        if not members:
            raise HeaderError("%s: enum %s has no enumerator" % (where, name))
        enums.append((name, members))
    return enums


def parse_defines(text):
    """[(AC_NAME, value)] of every #define of one integer literal, in header
    order (internal AC__ macros and expressions are left out)."""
    code = _blank_comments(text)
    pattern = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(AC_[A-Z0-9]\w*)[ \t]+"
                         r"(-?" + _INT + r"|\([ \t]*-?[ \t]*" + _INT +
                         r"[ \t]*\))[ \t]*$", re.M)
    out = []
    for m in pattern.finditer(code):
        literal = re.sub(r"[()\s]", "", m.group(2))
        value = (-_c_int(literal[1:]) if literal.startswith("-")
                 else _c_int(literal))
        out.append((m.group(1), value))
    return out


def python_members(c_type, members):
    """[(Python member, value, C enumerator)] by the naming rule."""
    prefix = member_prefix(c_type)
    out, seen = [], set()
    for enumerator, value, where in members:
        if not enumerator.startswith(prefix):
            raise HeaderError("%s: %s is in %s but does not start with %s"
                              % (where, enumerator, c_type, prefix))
        name = enumerator[len(prefix):]
        if not name.isidentifier() or name in seen or name.startswith("_"):
            raise HeaderError("%s: %s gives the Python name %r, which is not "
                              "a usable member name" % (where, enumerator,
                                                        name))
        seen.add(name)
        out.append((name, value, enumerator))
    return out


def render(text):
    """The text of _constants.py for the header text."""
    enums = parse_enums(text)
    defines = parse_defines(text)
    out = [
        "# generated by gen_constants.py from include/agentcredit.h; do not "
        "edit.",
        "# Regenerate: python3 bindings/python/gen_constants.py (the test "
        "suite runs",
        "# it with --check).",
        '"""Every enum and numeric limit of include/agentcredit.h.',
        "",
        "One class per C enum: the C type without ``ac_`` and a final "
        "``_key``, in",
        "CamelCase. Members: the enumerator without ``AC_`` and the set's "
        "name",
        "(``AC_ESTIMATOR_PARAM_BUDGET`` is ``EstimatorParam.BUDGET``); the "
        "status",
        "codes only lose ``AC_`` (``Status.OK``, ``Status.E_BUDGET``). "
        "Limits lose",
        "``AC_``: ``AC_MAX_PLAYERS`` is ``MAX_PLAYERS``.",
        '"""',
        "",
        "import enum",
        "",
    ]
    exported = []
    for name, value in defines:
        py = name[len("AC_"):]
        if name in VERSION_DEFINES:
            out.append("#: %s (the header's; the loaded library's: "
                       "library_version())" % name)
        else:
            out.append("#: %s" % name)
            exported.append(py)
        out.append("%s = %d" % (py, value))
    for c_type, members in enums:
        cls = class_name(c_type)
        base = "enum.IntFlag" if is_flag_set(c_type) else "enum.IntEnum"
        if c_type in BARE_SETS:
            doc = "``%s``: ``AC_`` + the member's name." % c_type
        else:
            doc = "``%s``: ``%s*``." % (c_type, member_prefix(c_type))
        out += ["", "", "class %s(%s):" % (cls, base),
                '    """%s"""' % doc, ""]
        for py, value, enumerator in python_members(c_type, members):
            out.append("    %s = %d  # %s" % (py, value, enumerator))
        exported.append(cls)
    out += ["", "", "__all__ = ["]
    line = "   "
    for name in exported:
        item = ' "%s",' % name
        if len(line) + len(item) > 79:
            out.append(line)
            line = "   "
        line += item
    out += [line, "]", ""]
    return "\n".join(out)


def _shown(path):
    """A path as the source tree names it, when it is inside."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write: exit 1 with a diff when the file "
                    "differs from what the header gives")
    ap.add_argument("--header", type=pathlib.Path, default=HEADER)
    ap.add_argument("--output", type=pathlib.Path, default=OUTPUT)
    args = ap.parse_args(argv)
    try:
        want = render(args.header.read_text(encoding="utf-8"))
    except HeaderError as exc:
        print("gen_constants.py: %s" % exc, file=sys.stderr)
        return 2
    try:
        have = args.output.read_text(encoding="utf-8")
    except FileNotFoundError:
        have = None
    if args.check:
        if have == want:
            return 0
        diff = difflib.unified_diff(
            (have or "").splitlines(True), want.splitlines(True),
            "%s (checked in)" % _shown(args.output),
            "%s (from %s)" % (_shown(args.output), _shown(args.header)))
        sys.stderr.write("".join(diff))
        print("gen_constants.py: %s is %s; run python3 %s to regenerate it"
              % (_shown(args.output), "missing" if have is None else "stale",
                 _shown(pathlib.Path(__file__))), file=sys.stderr)
        return 1
    if have != want:
        args.output.write_text(want, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
