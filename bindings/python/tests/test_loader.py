"""The function table against lib/agentcredit.map and the header, the ABI
check, and the loader's search order and error message."""

import ctypes
import os
import pathlib
import re
import shutil
import tempfile
import unittest

import support
from support import ROOT, agentcredit, run_python

from agentcredit import _lib

HEADER = (ROOT / "include" / "agentcredit.h").read_text()


def map_symbols():
    text = (ROOT / "lib" / "agentcredit.map").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = []
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names += re.findall(r"\b(ac_\w+)\s*;", block)
    return names


def header_functions():
    """{name: (return type, [parameter types])} of every AC_API function."""
    text = re.sub(r"/\*.*?\*/", "", HEADER, flags=re.S)
    out = {}
    for ret, name, params in re.findall(
            r"AC_API\s+(?:AC_NODISCARD\s+)?([^;()]*?)\b(ac_\w+)\s*\(([^)]*)\)\s*;", text):
        ps = [p.strip() for p in params.split(",")]
        ps = [] if ps == ["void"] else ps
        types = [re.sub(r"\s*\b\w+$", "", p) if not p.endswith("*") else p
                 for p in ps]
        out[name] = (" ".join(ret.split()), [" ".join(t.split())
                                             for t in types])
    return out


def header_callbacks():
    text = re.sub(r"/\*.*?\*/", "", HEADER, flags=re.S)
    out = {}
    for ret, name, params in re.findall(
            r"typedef\s+(\w+)\s*\(\*(ac_\w+_fn)\)\s*\(([^)]*)\)\s*;", text):
        ps = [" ".join(re.sub(r"\s*\b\w+$", "", p.strip()).split())
              for p in params.split(",")]
        out[name] = (ret, ps)
    return out


_SCALARS = {
    "int": ctypes.c_int, "uint32_t": ctypes.c_uint32,
    "int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64, "double": ctypes.c_double,
    "size_t": ctypes.c_size_t,
}
#: Every typed enum of the header: passed as an int.
_ENUMS = set(re.findall(r"typedef\s+enum\s+(ac_\w+)\s*\{", HEADER))
_HANDLES = {"ac_estimator", "ac_refiner", "ac_localizer", "ac_game",
            "ac_episode", "ac_pipeline", "ac_signals", "ac_export"}
_CALLBACKS = {"ac_oracle_fn": _lib.ORACLE_FN, "ac_scorer_fn": _lib.SCORER_FN,
              "ac_verifier_fn": _lib.VERIFIER_FN,
              "ac_repair_fn": _lib.REPAIR_FN,
              "ac_candidate_fn": _lib.CANDIDATE_FN}
_STRUCTS = {"ac_allocator": _lib.ac_allocator,
            "ac_game_limits": _lib.ac_game_limits,
            "ac_json_limits": _lib.ac_json_limits,
            "ac_preference_pair": _lib.ac_preference_pair,
            "ac_work": _lib.ac_work}


def expected_ctype(ctype, is_return=False):
    """The ctypes type a C type must be declared as."""
    t = ctype.replace("const ", "").strip()
    if t == "void":
        return None
    if t in _SCALARS:
        return _SCALARS[t]
    if t in _ENUMS:
        return ctypes.c_int
    if t in _CALLBACKS:
        return _CALLBACKS[t]
    if t == "char *":
        return ctypes.c_char_p if is_return else ctypes.POINTER(ctypes.c_char)
    if t == "void *":
        return ctypes.c_void_p
    if t == "char **":  # a string the handle owns, written to the caller
        return ctypes.POINTER(ctypes.c_char_p)
    m = re.fullmatch(r"(\w+) \*\*", t)
    if m and m.group(1) in _HANDLES:
        return ctypes.POINTER(ctypes.c_void_p)
    m = re.fullmatch(r"(\w+) \*", t)
    if m:
        base = m.group(1)
        if base in _HANDLES:
            return ctypes.c_void_p
        if base in _STRUCTS:
            return ctypes.POINTER(_STRUCTS[base])
        if base in _SCALARS:
            return ctypes.POINTER(_SCALARS[base])
    raise AssertionError("no ctypes mapping for C type %r" % ctype)


class FunctionTable(unittest.TestCase):
    def test_the_header_parses(self):
        """The readings below see what the header has (a test that reads
        nothing passes nothing)."""
        self.assertGreaterEqual(len(_ENUMS), 18)
        self.assertIn("ac_refiner_audit_key", _ENUMS)
        functions = header_functions()
        self.assertGreater(len(functions), 80)
        self.assertEqual(functions["ac_refiner_ask"],
                         ("int", ["ac_refiner *", "uint32_t", "uint64_t *",
                                  "uint32_t *", "uint32_t *"]))
        self.assertEqual(functions["ac_localizer_progress"],
                         ("int", ["const ac_localizer *", "int32_t *",
                                  "uint64_t *"]))

    def test_every_exported_symbol_is_declared_once(self):
        exported = map_symbols()
        self.assertGreater(len(exported), 80)
        declared = [name for name, _, _ in _lib._FUNCTIONS]
        self.assertEqual(len(declared), len(set(declared)),
                         "a function is declared twice in _FUNCTIONS")
        self.assertEqual(sorted(set(exported) - set(declared)), [],
                         "exported by lib/agentcredit.map, not declared")
        self.assertEqual(sorted(set(declared) - set(exported)), [],
                         "declared, not exported by lib/agentcredit.map")

    def test_table_matches_the_header(self):
        header = header_functions()
        self.assertEqual(sorted(header), sorted(map_symbols()))
        for name, restype, argtypes in _lib._FUNCTIONS:
            ret, params = header[name]
            with self.subTest(function=name):
                self.assertEqual(len(argtypes), len(params),
                                 "%s has %d parameters in the header"
                                 % (name, len(params)))
                self.assertIs(restype, expected_ctype(ret, True))
                for k, (got, c) in enumerate(zip(argtypes, params)):
                    if name == "ac_refiner_set_texts" and k == 1:
                        self.assertEqual(c, "const char *const *")
                        self.assertIs(got, ctypes.POINTER(ctypes.c_char_p))
                        continue
                    # strings the library reads (paths, texts, names)
                    if (name.startswith(("ac_game_load", "ac_episode_add",
                                         "ac_episode_load", "ac_episode_set_id",
                                         "ac_episode_set_tool",
                                         "ac_episode_set_message_name",
                                         "ac_signals_load",
                                         "ac_export_format_from_name",
                                         "ac_export_set_str",
                                         "ac_export_load_candidates"))
                            and c == "const char *"):
                        self.assertIs(got, ctypes.c_char_p)
                        continue
                    self.assertIs(got, expected_ctype(c),
                                  "parameter %d (%s)" % (k, c))

    def test_callback_types_match_the_header(self):
        callbacks = header_callbacks()
        self.assertEqual(sorted(callbacks), sorted(_CALLBACKS))
        for name, (ret, params) in callbacks.items():
            fn = _CALLBACKS[name]
            with self.subTest(callback=name):
                self.assertIs(fn._restype_, expected_ctype(ret))
                self.assertEqual(len(fn._argtypes_), len(params))
                for got, c in zip(fn._argtypes_, params):
                    self.assertIs(got, expected_ctype(c))

    def test_declared_on_the_loaded_library(self):
        for name, restype, argtypes in _lib._FUNCTIONS:
            fn = getattr(_lib.lib, name)
            self.assertIs(fn.restype, restype, name)
            self.assertEqual(list(fn.argtypes), list(argtypes), name)


class Version(unittest.TestCase):
    def macro(self, name):
        return re.search(r"#define %s (\S+)" % name, HEADER).group(1)

    def test_versions_match_the_header(self):
        self.assertEqual(agentcredit.abi_version(),
                         int(self.macro("AC_ABI_VERSION")))
        self.assertEqual(agentcredit.ABI_VERSION,
                         int(self.macro("AC_ABI_VERSION")))
        self.assertEqual(agentcredit.library_version(), ".".join(
            self.macro("AC_VERSION_" + part)
            for part in ("MAJOR", "MINOR", "PATCH")))
        major, minor, patch = (int(x) for x in
                               agentcredit.library_version().split("."))
        self.assertEqual(agentcredit.library_version_number(),
                         major * 10000 + minor * 100 + patch)
        self.assertEqual(agentcredit.__version__,
                         agentcredit.library_version())


class AbiCheck(unittest.TestCase):
    def test_refuses_another_abi(self):
        path = support.lib_path()
        other = _lib.ABI_VERSION + 1
        with self.assertRaises(_lib.AbiMismatchError) as cm:
            _lib.load([("test", path)], expected_abi=other)
        msg = str(cm.exception)
        self.assertIn("its ABI is %d" % _lib.ABI_VERSION, msg)
        self.assertIn("written for ABI %d" % other, msg)
        self.assertIn(path, msg)
        self.assertIsInstance(cm.exception, ImportError)
        self.assertEqual(cm.exception.attempts[0][:2], ("test", path))

    def test_refuses_a_build_that_lacks_a_function(self):
        saved = list(_lib._FUNCTIONS)
        _lib._FUNCTIONS.append(("ac_from_the_future", None, []))
        try:
            with self.assertRaises(_lib.LibraryNotFoundError) as cm:
                _lib.load([("test", support.lib_path())])
        finally:
            _lib._FUNCTIONS[:] = saved
        self.assertNotIsInstance(cm.exception, _lib.AbiMismatchError)
        self.assertIn("it lacks 1 exported function(s) this package needs "
                      "(ac_from_the_future)", str(cm.exception))

    def test_accepts_its_abi(self):
        cdll, where, spec = _lib.load([("test", support.lib_path())])
        self.assertEqual(cdll.ac_abi_version(), _lib.ABI_VERSION)
        self.assertEqual(where, "test")


def copy_package(into):
    """Copies the package to into/agentcredit (outside any source tree, so
    that the source tree's build is not a candidate); returns that path."""
    pkg = pathlib.Path(into) / "agentcredit"
    shutil.copytree(support.PYTHON_DIR / "agentcredit", pkg,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return pkg


def run_copy(tmp, code, env_update=None):
    """Runs code against the package copied under tmp (PYTHONPATH=tmp), with
    no $AGENTCREDIT_LIB or LD_LIBRARY_PATH unless env_update sets them."""
    return run_python(code, dict({"PYTHONPATH": str(tmp)}, **(env_update or {})),
                      env_remove=("AGENTCREDIT_LIB", "LD_LIBRARY_PATH"),
                      cwd=str(tmp))


class Loader(unittest.TestCase):
    def test_error_lists_every_place_tried(self):
        missing = "/nonexistent/dir/libagentcredit.so.1"
        with tempfile.TemporaryDirectory() as tmp:
            pkg = copy_package(tmp)
            r = run_copy(tmp, "import agentcredit",
                         {"AGENTCREDIT_LIB": missing})
        if r.returncode == 0:   # a libagentcredit is installed system-wide
            self.skipTest("the system loader finds an installed library")
        err = r.stderr
        self.assertIn("LibraryNotFoundError", err)
        self.assertIn("cannot load %s (ABI %d); tried, in order:"
                      % (_lib.SONAME, _lib.ABI_VERSION), err)
        self.assertIn("1. $AGENTCREDIT_LIB: %s: no such file" % missing, err)
        self.assertIn("2. next to the package: %s: no such file"
                      % (pkg / _lib.SONAME), err)
        self.assertIn("3. system loader: %s: cannot load it:" % _lib.SONAME,
                      err)
        self.assertIn("4. ctypes.util.find_library('agentcredit')", err)
        # neither installed by meson nor in a source tree: not tried
        self.assertNotIn("install prefix", err)
        self.assertNotIn("source tree", err)

    def test_the_source_trees_build(self):
        # <tree>/bindings/python/agentcredit with <tree>/include/agentcredit.h
        # looks in <tree>/build/lib after next to the package
        with tempfile.TemporaryDirectory() as tmp:
            tree = pathlib.Path(tmp)
            python_dir = tree / "bindings" / "python"
            copy_package(python_dir)
            (tree / "include").mkdir()
            (tree / "include" / "agentcredit.h").write_text("")
            r = run_copy(python_dir, "import agentcredit")
            if r.returncode == 0:
                self.skipTest("the system loader finds an installed library")
            self.assertIn("2. the source tree's build: %s: no such file"
                          % (tree / "build" / "lib" / _lib.SONAME), r.stderr)
            (tree / "build" / "lib").mkdir(parents=True)
            shutil.copy(support.lib_path(), tree / "build" / "lib" / _lib.SONAME)
            r = run_copy(python_dir, "import agentcredit;"
                         "print(agentcredit.library);"
                         "print(agentcredit.shapley_exact([0, 1, 1, 3]))")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.split("\n")[:2], [
                str(("the source tree's build",
                     str(tree / "build" / "lib" / _lib.SONAME))),
                "[1.5, 1.5]"])

    def test_the_install_prefix(self):
        # _paths.py (meson install) records where the package and the
        # library went; a staged or moved prefix is found relative to it
        with tempfile.TemporaryDirectory() as tmp:
            prefix = pathlib.Path(tmp) / "stage" / "opt" / "ac"
            site = prefix / "lib" / "python3" / "site-packages"
            pkg = copy_package(site)
            (pkg / "_paths.py").write_text(
                'PREFIX = "/opt/ac"\nLIBDIR = "/opt/ac/lib64"\n'
                'BINDIR = "/opt/ac/bin"\n'
                'PACKAGE_DIR = "/opt/ac/lib/python3/site-packages/agentcredit"\n')
            r = run_copy(site, "import agentcredit")
            if r.returncode == 0:
                self.skipTest("the system loader finds an installed library")
            lib = prefix / "lib64" / _lib.SONAME
            self.assertIn("2. the install prefix (meson install): %s: no "
                          "such file" % lib, r.stderr)
            lib.parent.mkdir()
            shutil.copy(support.lib_path(), lib)
            r = run_copy(site, "import agentcredit;"
                         "print(agentcredit.library);"
                         "print(agentcredit._lib.installed_dirs().bindir)")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.split("\n")[:2], [
                str(("the install prefix (meson install)", str(lib))),
                str(prefix / "bin")])

    def test_without_the_variable_it_says_how_to_set_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy_package(tmp)
            r = run_copy(tmp, "import agentcredit")
        if r.returncode == 0:
            self.skipTest("the system loader finds an installed library")
        self.assertIn("set AGENTCREDIT_LIB to the library file", r.stderr)
        self.assertNotIn("1. $AGENTCREDIT_LIB", r.stderr)

    def test_directory_in_the_variable(self):
        d = os.path.dirname(support.lib_path())
        r = run_python("import agentcredit; print(agentcredit.library)",
                       {"AGENTCREDIT_LIB": d})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("$AGENTCREDIT_LIB (a directory)", r.stdout)
        self.assertIn(os.path.join(d, _lib.SONAME), r.stdout)

    def test_next_to_the_package(self):
        with tempfile.TemporaryDirectory() as tmp:
            pkg = pathlib.Path(tmp) / "agentcredit"
            shutil.copytree(support.PYTHON_DIR / "agentcredit", pkg,
                            ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(support.lib_path(), pkg / _lib.SONAME)
            r = run_python("import agentcredit; print(agentcredit.library[0]);"
                           "print(agentcredit.shapley_exact([0, 1, 1, 3]))",
                           {"PYTHONPATH": tmp},
                           env_remove=("AGENTCREDIT_LIB",), cwd=tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.split("\n")[:2],
                             ["next to the package", "[1.5, 1.5]"])

    def test_not_agentcredit(self):
        maps = pathlib.Path("/proc/self/maps")
        if not maps.exists():
            self.skipTest("needs /proc/self/maps")
        libc = next((line.split()[-1] for line in maps.read_text().splitlines()
                     if re.search(r"/libc[.-][\w.]*so", line)), None)
        if libc is None:
            self.skipTest("libc not found in /proc/self/maps")
        r = run_python("import agentcredit", {"AGENTCREDIT_LIB": libc},
                       env_remove=("LD_LIBRARY_PATH",))
        if r.returncode == 0:
            self.assertIn("RuntimeWarning", r.stderr)
            self.assertIn("not libagentcredit", r.stderr)
            return
        self.assertIn("1. $AGENTCREDIT_LIB: %s: not libagentcredit: it does "
                      "not export ac_abi_version" % libc, r.stderr)

    def test_fallback_after_a_bad_variable_warns(self):
        # the variable is wrong, but the library sits next to the package
        with tempfile.TemporaryDirectory() as tmp:
            pkg = pathlib.Path(tmp) / "agentcredit"
            shutil.copytree(support.PYTHON_DIR / "agentcredit", pkg,
                            ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(support.lib_path(), pkg / _lib.SONAME)
            r = run_python("import agentcredit; print(agentcredit.library[0])",
                           {"PYTHONPATH": tmp,
                            "AGENTCREDIT_LIB": "/nonexistent.so"}, cwd=tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("next to the package", r.stdout)
            self.assertIn("RuntimeWarning: agentcredit: $AGENTCREDIT_LIB did "
                          "not give a usable library (no such file)",
                          r.stderr)


if __name__ == "__main__":
    unittest.main()
