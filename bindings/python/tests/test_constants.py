"""The package's constants against include/agentcredit.h, read here with a
parser of its own (not gen_constants.py's): every enum has its class, named
by the scheme, with every enumerator's value; every numeric #define is a
module constant; the parameter tables cover every parameter with the type
and value set the header gives; every bound the header documents is the one
the library enforces (and the Python package copies none), every default
the one a new handle has; the audit tables cover every key, named as the
header names it."""

import enum
import math
import re
import unittest

from support import ROOT, agentcredit

from agentcredit import (Estimator, Localizer, ParamOutOfBound, Refiner,
                         _constants, _handle, _lib)
from agentcredit import localizer as _localizer
from agentcredit import refiner as _refiner

import gen_constants

HEADER_PATH = ROOT / "include" / "agentcredit.h"
HEADER = HEADER_PATH.read_text(encoding="utf-8")
DOC = ROOT / "docs" / "python.md"
COMMENT = re.compile(r"/\*.*?\*/", re.S)
INT64_MAX = 2 ** 63 - 1


def _int(literal):
    return int(literal.rstrip("uUlL"), 0)


def header_enums():
    """{C type: (body with comments, [(enumerator, value)])} in header
    order; values are literals, earlier enumerators or their | and +."""
    out = {}
    for m in re.finditer(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;",
                         HEADER, re.S):
        assert m.group(1) == m.group(3), m.group(0)
        body = m.group(2)
        known, members, nxt = {}, [], 0
        for item in COMMENT.sub(" ", body).split(","):
            if not item.strip():
                continue
            name, _, expr = (x.strip() for x in item.partition("="))
            if expr:
                value = 0
                for term in re.split(r"\s*\|\s*", expr):
                    value |= known[term] if term in known else _int(term)
            else:
                value = nxt
            known[name] = value
            members.append((name, value))
            nxt = value + 1
        out[m.group(1)] = (body, members)
    return out


def header_defines():
    """{AC_NAME: value} of every #define of one integer literal."""
    code = COMMENT.sub(" ", HEADER)
    return {m.group(1): int(m.group(2) + str(_int(m.group(3))))
            for m in re.finditer(r"^\s*#\s*define\s+(AC_[A-Z0-9]\w*)\s+"
                                 r"(-?)(\d+[uU]?)\s*$", code, re.M)}


ENUMS = header_enums()
DEFINES = header_defines()


def set_name(c_type):
    """ac_estimator_audit_key -> estimator_audit."""
    base = c_type[3:]
    return base[:-4] if base.endswith("_key") else base


def python_class(c_type):
    """The scheme: ac_estimator_audit_key -> EstimatorAudit."""
    return "".join(w.capitalize() for w in set_name(c_type).split("_"))


def prefix(c_type):
    """What the scheme strips from an enumerator for the member name."""
    return "AC_" if c_type == "ac_status" else \
        "AC_" + set_name(c_type).upper() + "_"


def python_members(c_type):
    p = prefix(c_type)
    members = ENUMS[c_type][1]
    for name, _ in members:
        assert name.startswith(p), "%s does not start with %s" % (name, p)
    return {name[len(p):]: value for name, value in members}


def groups(c_type):
    """[(comment, [enumerator, ...])] of an enum body: a comment on lines
    of its own documents the enumerators after it; one that follows an
    enumerator on its line documents that one."""
    body = ENUMS[c_type][0]
    out, current, last, last_line, expect = [], None, None, -1, True
    for m in re.finditer(r"/\*.*?\*/|,|[^,/]+|/", body, re.S):
        token, line = m.group(0), body.count("\n", 0, m.start())
        if token.startswith("/*"):
            if last is not None and line == last_line:
                out.append((token, [last]))
            else:
                current = (token, [])
                out.append(current)
            last = None
        elif token == ",":
            expect = True
        elif expect and token.strip():
            name = re.match(r"\s*(AC_\w+)", token).group(1)
            last, expect = name, False
            last_line = body.count("\n", 0, m.start() + token.index(name))
            if current is not None:
                current[1].append(name)
    return out


_NUM = r"-?(?:2\^\d+|INT64_MAX|\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
INTERVAL = re.compile(r"([\[(])\s*(%s)\s*,\s*(%s)\s*([\])])" % (_NUM, _NUM))


def number(text):
    if text == "INT64_MAX":
        return INT64_MAX
    m = re.fullmatch(r"(-?)2\^(\d+)", text)
    if m:
        return -(2 ** int(m.group(2))) if m.group(1) else 2 ** int(
            m.group(2))
    return float(text) if re.search(r"[.e]", text) else int(text)


def documented_params(c_type):
    """{enumerator: (type word, interval or None, comment)} from the
    header's comments: 'int:' / 'f64:' and the [lower, upper] written there
    (a comment over several parameters lists one interval each)."""
    out = {}
    for comment, names in groups(c_type):
        if not names:
            continue
        kind = re.match(r"/\*\s*(int|f64):", comment)
        intervals = INTERVAL.findall(comment)
        assert not intervals or len(intervals) == len(names), (
            "%s: %d intervals for %s" % (c_type, len(intervals), names))
        for k, name in enumerate(names):
            out[name] = (kind.group(1) if kind else None,
                         intervals[k] if intervals else None, comment)
    return out


def documented_defaults(c_type):
    """{enumerator: default as written} from the header's comments, in the
    forms it uses: "default 64" / "Default AC_METHOD_AUTO", "1 (default)" /
    "AC_RELAXATION_ORDERED (default)", and right after a parameter's
    interval "[1, 2^20], 64." or "[-1, 0] (-1)" (one per interval when a
    comment covers several parameters)."""
    value = r"(AC_\w+|%s)" % _NUM
    out = {}
    for comment, names in groups(c_type):
        text = " ".join(re.sub(r"^\s*\*+|/\*+|\*+/", " ", line)
                        for line in comment.split("\n"))
        text = " ".join(text.split())
        after = [m.end() for m in INTERVAL.finditer(text)]
        for k, name in enumerate(names):
            m = None
            if after:
                m = re.match(r"\s*(?:,\s*(?:default\s+)?|\(\s*)%s" % value,
                             text[after[k]:])
            if m is None and len(names) == 1:
                m = (re.search(r"\b[Dd]efault\s+%s" % value, text) or
                     re.search(r"%s\s*\(default\)" % value, text))
            if m is not None:
                out[name] = m.group(1).rstrip(".")
    return out


HANDLES = [(Estimator, "ac_estimator_param", lambda: Estimator(3)),
           (Refiner, "ac_refiner_param", lambda: Refiner(2, 2)),
           (Localizer, "ac_localizer_param", lambda: Localizer(4))]
#: The handles with an audit record in Python, each with its C key set.
AUDITED = [(cls, "ac_%s_audit_key" % cls._kind)
           for cls in (Estimator, Refiner, Localizer)
           if issubclass(cls, _handle.Audited)]


class Parser(unittest.TestCase):
    """The test's own parser finds what the header has (so that the checks
    below cannot pass on an empty reading)."""

    def test_it_reads_the_header(self):
        self.assertGreaterEqual(len(ENUMS), 18)
        self.assertIn("ac_status", ENUMS)
        self.assertEqual(dict(ENUMS["ac_reset"][1])["AC_RESET_ALL"], 7)
        self.assertEqual(DEFINES["AC_MAX_PLAYERS"], 65536)
        self.assertGreaterEqual(len(DEFINES), 9)
        self.assertEqual(len(documented_params("ac_localizer_param")), 16)


class Enums(unittest.TestCase):
    def test_every_c_enum_has_its_class(self):
        for c_type in ENUMS:
            name = python_class(c_type)
            with self.subTest(c_type=c_type, cls=name):
                cls = getattr(_constants, name, None)
                self.assertIsNotNone(cls, "no class %s in _constants: run "
                                     "gen_constants.py" % name)
                flag = c_type.endswith("_flag") or c_type == "ac_reset"
                self.assertTrue(issubclass(
                    cls, enum.IntFlag if flag else enum.IntEnum))
                got = {k: int(v) for k, v in cls.__members__.items()}
                self.assertEqual(got, python_members(c_type))
                self.assertIs(getattr(agentcredit, name), cls)
                self.assertIn(name, agentcredit.__all__)

    def test_no_class_without_a_c_enum(self):
        classes = {python_class(c) for c in ENUMS}
        for name, obj in vars(_constants).items():
            if isinstance(obj, type) and issubclass(obj, enum.Enum) and \
                    obj.__module__ == _constants.__name__:
                self.assertIn(name, classes, "stale class %s" % name)

    def test_every_define_is_a_constant(self):
        for c_name, value in DEFINES.items():
            name = c_name[3:]
            with self.subTest(define=c_name):
                self.assertEqual(getattr(_constants, name), value)
                if not name.startswith("VERSION_"):
                    self.assertEqual(getattr(agentcredit, name), value)
                    self.assertIn(name, agentcredit.__all__)
        self.assertEqual(_lib.SONAME, "libagentcredit.so.%d"
                         % DEFINES["AC_ABI_VERSION"])

    def test_the_generated_file_is_current(self):
        path = ROOT / "bindings" / "python" / "agentcredit" / "_constants.py"
        text = path.read_text(encoding="utf-8")
        self.assertTrue(text.startswith("# generated by gen_constants.py "
                                        "from include/agentcredit.h; do "
                                        "not edit"))
        self.assertEqual(text, gen_constants.render(HEADER),
                         "run python3 bindings/python/gen_constants.py")

    def test_status_codes(self):
        classes = set()
        for member in agentcredit.Status:
            with self.subTest(status=member.name):
                self.assertEqual(agentcredit.status_name(member),
                                 "AC_" + member.name)
                if member == agentcredit.Status.OK:
                    continue
                cls = agentcredit.error_class(member)
                self.assertIsNot(cls, agentcredit.AgentCreditError)
                classes.add(cls)
        self.assertEqual(len(classes), len(agentcredit.Status) - 1)

    def test_flag_names(self):
        for names, flags in ((_localizer._STEP_NAMES, agentcredit.StepFlag),
                             (_refiner._AGENT_FLAG_NAMES,
                              agentcredit.AgentFlag),
                             (_refiner._MSG_FLAG_NAMES,
                              agentcredit.MessageFlag)):
            self.assertEqual([(int(b), n) for b, n in names],
                             [(int(m), m.name.lower()) for m in flags])


class Parameters(unittest.TestCase):
    def test_every_parameter_is_in_the_table(self):
        for cls, c_type, _ in HANDLES:
            params = getattr(_constants, python_class(c_type))
            with self.subTest(cls=cls.__name__):
                self.assertIs(cls._PARAM_SET, params)
                self.assertEqual(
                    {name: int(spec.id) for name, spec in cls._PARAMS.items()},
                    {m.name.lower(): int(m) for m in params})

    def test_types_and_value_sets_are_the_header_s(self):
        for cls, c_type, _ in HANDLES:
            doc = documented_params(c_type)
            p = prefix(c_type)
            for spec in cls._PARAMS.values():
                kind, interval, comment = doc[p + spec.id.name]
                with self.subTest(param=p + spec.id.name):
                    self.assertEqual(kind, "f64" if spec.kind == "f64"
                                     else "int")
                    if spec.kind != "enum":
                        self.assertIsNone(spec.values)
                        continue
                    c_values = [c for c in ENUMS
                                if python_class(c) == spec.values.__name__]
                    self.assertEqual(len(c_values), 1)
                    self.assertTrue(c_values[0] in comment or
                                    prefix(c_values[0]) in comment,
                                    "the header's comment names another "
                                    "value set")
                    self.assertEqual(spec.names, {
                        m.name.lower(): m for m in spec.values})

    def test_bounds_are_the_library_s(self):
        """Python copies no bound: the header's documented interval, the
        library's param_bounds and what a handle accepts agree; enum
        parameters span their value set, bool ones [0, 1]."""
        for cls, c_type, make in HANDLES:
            doc = documented_params(c_type)
            p = prefix(c_type)
            for spec in cls._PARAMS.values():
                _, interval, _ = doc[p + spec.id.name]
                lo, hi = cls.param_bounds(spec.name)
                with self.subTest(param=p + spec.id.name, bounds=(lo, hi)):
                    self.assertEqual(cls.param_bounds(spec.id), (lo, hi))
                    if spec.kind == "enum":
                        self.assertIsNone(interval)
                        values = [int(m) for m in spec.values]
                        self.assertEqual((lo, hi), (min(values),
                                                    max(values)))
                        continue
                    if spec.kind == "bool":
                        self.assertIsNone(interval)
                        self.assertEqual((lo, hi), (0, 1))
                        continue
                    self.assertIsNotNone(interval, "the header documents "
                                         "no bounds")
                    left, a, b, right = interval
                    self.assertEqual((lo, hi), (number(a), number(b)))
                    self.check_enforced(make, spec, left, lo, hi, right)

    def test_defaults_are_the_library_s(self):
        """Every parameter's default as the header writes it is what a new
        handle has (and what reset('params') restores)."""
        for cls, c_type, make in HANDLES:
            defaults = documented_defaults(c_type)
            p = prefix(c_type)
            for spec in cls._PARAMS.values():
                with self.subTest(param=p + spec.id.name):
                    self.assertIn(p + spec.id.name, defaults,
                                  "the header documents no default")
                    text = defaults[p + spec.id.name]
                    if spec.kind == "enum":
                        want = text[len(prefix(next(
                            c for c in ENUMS if python_class(c) ==
                            spec.values.__name__))):].lower()
                    elif spec.kind == "bool":
                        want = bool(number(text))
                    else:
                        want = number(text)
                    with make() as h:
                        self.assertEqual(h.get_param(spec.name), want)
                        h.set_param(spec.name, _another(cls, spec, want))
                        self.assertNotEqual(h.get_param(spec.name), want)
                        h.reset("params")
                        self.assertEqual(h.get_param(spec.name), want)

    def check_enforced(self, make, spec, left, lo, hi, right):
        if spec.kind == "f64":
            below, above = math.nextafter(lo, -math.inf), \
                math.nextafter(hi, math.inf)
        else:
            below, above = lo - 1, hi + 1
        with make() as h:
            for value, ok in ((lo, left == "["), (hi, right == "]"),
                              (below, False), (above, False)):
                if ok:
                    h.set_param(spec.name, value)
                    self.assertEqual(h.get_param(spec.name), value)
                else:
                    with self.assertRaises(ParamOutOfBound, msg=repr(value)):
                        h.set_param(spec.name, value)

    def test_string_options_and_members(self):
        for cls, _, make in HANDLES:
            for spec in cls._PARAMS.values():
                if spec.kind != "enum":
                    continue
                for member in spec.values:
                    name = member.name.lower()
                    with self.subTest(param=spec.name, value=name):
                        with cls(*_args(cls), **{spec.name: name}) as h:
                            self.assertEqual(h.get_param(spec.name), name)
                            h.set_param(spec.name, member)
                            self.assertEqual(getattr(h, spec.name), name)
                            h.set_param(spec.id, int(member))
                            self.assertEqual(h.get_param(spec.id), name)
        other = next(iter(agentcredit.Strategy))
        with Estimator(3) as est, self.assertRaises(TypeError):
            est.method = other
        with Estimator(3) as est, self.assertRaises(TypeError):
            est.set_param(agentcredit.LocalizerParam.BUDGET, 5)

    def test_documented_sizes(self):
        """The sizes the create functions document (the Python messages
        quote them)."""
        for module, fn in ((_localizer, "ac_localizer_create"),
                           (_refiner, "ac_refiner_create")):
            m = re.search(r"/\*((?:(?!\*/).)*)\*/\s*AC_API[^;]*\b%s\(" % fn,
                          HEADER, re.S)
            self.assertIsNotNone(m, fn)
            size = re.search(r"n_messages[\w ]*\(1\.\.(%s)\)" % _NUM,
                             m.group(1))
            self.assertIsNotNone(size, "%s: no n_messages (1..N)" % fn)
            self.assertEqual(module._MAX_MESSAGES, number(size.group(1)))
        m = re.search(r"/\*((?:(?!\*/).)*)\*/\s*AC_API[^;]*"
                      r"\bac_refiner_create\(", HEADER, re.S)
        self.assertIn("n_agents agents (1..AC_MAX_PLAYERS)", m.group(1))

    def test_docs_tables(self):
        """docs/python.md's tables: each parameter row's C name and the
        bounds it quotes, each exception row's status."""
        rows = re.findall(r"^\| `(\w+)` \| `(AC_\w+)`[^|]*\|(.*)\|$",
                          DOC.read_text(encoding="utf-8"), re.M)
        tables = {cls: prefix(c_type) for cls, c_type, _ in HANDLES}
        params = [r for r in rows
                  if any(r[1].startswith(p) for p in tables.values())]
        statuses = [r for r in rows if r[1].startswith("AC_E_")]
        self.assertGreaterEqual(len(params), 8)
        self.assertEqual(len(statuses), len(agentcredit.Status) - 1)
        for name, c_name, _ in statuses:
            with self.subTest(status=c_name):
                self.assertEqual(agentcredit.error_class(
                    agentcredit.Status[c_name[3:]]).__name__, name)
        for name, c_name, text in params:
            cls = next(c for c, p in tables.items() if c_name.startswith(p))
            with self.subTest(param=c_name):
                self.assertEqual(c_name, tables[cls] + name.upper())
                for a, b in re.findall(r"`\[([-\d*]+), ([-\d*]+)\]`", text):
                    self.assertEqual(cls.param_bounds(name),
                                     (_eval_int(a), _eval_int(b)))


def _another(cls, spec, value):
    """A valid value of the parameter other than value."""
    if spec.kind == "enum":
        return next(n for n in spec.names if n != value)
    if spec.kind == "bool":
        return not value
    lo, hi = cls.param_bounds(spec.name)
    return hi if hi != value else lo + (hi - lo) / 2 \
        if spec.kind == "f64" else lo


def _args(cls):
    return {Estimator: (3,), Refiner: (2, 2), Localizer: (4,)}[cls]


def _eval_int(text):
    """'2**63-1' -> int (the docs' Python spelling of a bound)."""
    m = re.fullmatch(r"(-?\d+)(?:\*\*(\d+))?(?:-(\d+))?", text)
    assert m, text
    v = int(m.group(1)) ** int(m.group(2) or 1)
    return v - int(m.group(3) or 0)


class Audits(unittest.TestCase):
    def test_every_key_is_read(self):
        # every object has an audit record in C, and so in Python
        self.assertEqual(len(AUDITED), 3)
        for cls, c_type in AUDITED:
            keys = getattr(_constants, python_class(c_type))
            with self.subTest(cls=cls.__name__):
                self.assertEqual([int(k) for k, _, _ in cls._AUDIT],
                                 [int(m) for m in keys])
                # the C member in lower case, and nothing else
                self.assertEqual([n for _, n, _ in cls._AUDIT],
                                 [m.name.lower() for m in keys])

    def test_a_handle_reads_every_key(self):
        """audit() of a fresh handle has every key of the C enum, named by
        the header's enumerators (read by the test's own parser)."""
        for cls, c_type in AUDITED:
            names = [e[len(prefix(c_type)):].lower()
                     for e, _ in ENUMS[c_type][1]]
            with cls(*_args(cls)) as h, self.subTest(cls=cls.__name__):
                self.assertEqual(list(h.audit()), names)

    def test_enum_figures_are_named(self):
        """A key whose header comment names a value set (``an
        ac_estimator_outcome``) reads back as that set's names."""
        for cls, c_type in AUDITED:
            by_key = {int(k): names for k, _, names in cls._AUDIT}
            p = prefix(c_type)
            for comment, names in groups(c_type):
                sets = [c for c in re.findall(r"\bac_\w+", comment)
                        if c in ENUMS]
                for enumerator in names:
                    key = getattr(_constants, python_class(c_type))[
                        enumerator[len(p):]]
                    with self.subTest(key=enumerator):
                        if not sets:
                            continue
                        values = getattr(_constants, python_class(sets[0]))
                        self.assertEqual(by_key[int(key)], {
                            int(m): "AC_" + m.name
                            if values is agentcredit.Status
                            else m.name.lower() for m in values})


if __name__ == "__main__":
    unittest.main()
