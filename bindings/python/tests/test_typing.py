"""Type hints: every public function, method and property of the package
is annotated (PEP 484), and the package says so with a ``py.typed``."""

import inspect
import unittest

from support import PYTHON_DIR

import agentcredit
from agentcredit import __main__ as main_module
from agentcredit import areal, exports, formats, openrlhf, verl

#: The package's modules whose __all__ is public API beside the top level.
MODULES = {"formats": formats, "exports": exports, "verl": verl,
           "openrlhf": openrlhf, "areal": areal}

#: Special methods that are public API of the classes that define them.
PUBLIC_DUNDERS = ("__init__", "__call__", "__enter__", "__exit__", "__bool__")


def ours(obj):
    return (getattr(obj, "__module__", None) or "").startswith("agentcredit")


def public_api():
    """[(qualified name, function)] of every public function, method,
    classmethod, staticmethod and property accessor: the names of
    agentcredit.__all__, the __all__ of the MODULES and
    ``agentcredit.__main__.main``, with the members of their classes (the
    ones they inherit from the package's base classes too)."""
    roots = [(n, getattr(agentcredit, n)) for n in agentcredit.__all__]
    for prefix, module in MODULES.items():
        roots += [("%s.%s" % (prefix, n), getattr(module, n))
                  for n in module.__all__]
    roots.append(("__main__.main", main_module.main))
    out = []
    for name, obj in roots:
        if inspect.isclass(obj) and ours(obj):
            for klass in obj.__mro__:
                if not ours(klass):
                    continue
                for attr, member in vars(klass).items():
                    if attr.startswith("_") and attr not in PUBLIC_DUNDERS:
                        continue
                    out += accessors("%s.%s" % (name, attr), member)
        elif inspect.isfunction(obj) and ours(obj):
            out.append((name, obj))
    return out


def accessors(name, member):
    if isinstance(member, (staticmethod, classmethod)):
        return [(name, member.__func__)]
    if isinstance(member, property):
        return [("%s (%s)" % (name, part), getattr(member, part))
                for part in ("fget", "fset") if getattr(member, part)]
    return [(name, member)] if inspect.isfunction(member) else []


def missing_annotations(fn):
    """The parameters (and "return") of fn that have no annotation; the
    first parameter of a method (self, cls) needs none."""
    sig = inspect.signature(fn)
    missing = [p.name for i, p in enumerate(sig.parameters.values())
               if p.annotation is inspect.Parameter.empty
               and not (i == 0 and p.name in ("self", "cls"))]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


class Annotations(unittest.TestCase):
    def test_every_public_function_is_annotated(self):
        api = public_api()
        # the walk reaches the API (a broken walk must not pass vacuously)
        names = {n for n, _ in api}
        for expected in ("Estimator.run", "Estimator.budget (fset)",
                         "Pipeline.run", "Episode.outcome (fget)",
                         "Game.__call__", "formats.dpo_record",
                         "shapley_exact", "Refiner.close",
                         "Pipeline.method (fget)", "__main__.main",
                         "Exporter.convert", "exports.export",
                         "Signals.from_json", "verl.compute_score",
                         "verl.agent_loop_worker", "openrlhf.reward_func",
                         "areal.completion_rewards"):
            self.assertIn(expected, names)
        self.assertGreater(len(api), 200)
        bare = ["%s: %s (%s:%d)" % (name, ", ".join(missing_annotations(fn)),
                                     fn.__code__.co_filename,
                                     fn.__code__.co_firstlineno)
                for name, fn in api if missing_annotations(fn)]
        self.assertEqual(bare, [], "functions without annotations:\n"
                         + "\n".join(bare))

    def test_the_check_sees_a_missing_annotation(self):
        def f(self, x: int, y) -> None:
            pass

        def g(x: int):
            pass
        self.assertEqual(missing_annotations(f), ["y"])
        self.assertEqual(missing_annotations(g), ["return"])


class Marker(unittest.TestCase):
    def test_py_typed_is_shipped(self):
        self.assertTrue((PYTHON_DIR / "agentcredit" / "py.typed").is_file())
        pyproject = (PYTHON_DIR / "pyproject.toml").read_text()
        self.assertIn('agentcredit = ["py.typed"]', pyproject)
        meson = (PYTHON_DIR / "meson.build").read_text()
        self.assertIn("'agentcredit/py.typed'", meson)


if __name__ == "__main__":
    unittest.main()
