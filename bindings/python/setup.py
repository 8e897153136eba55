"""Builds the agentcredit wheel (pyproject.toml holds the metadata).

The package is pure Python over ctypes; what makes it work is the C library
(and, for ``python3 -m agentcredit``, the CLI). This build bundles both into
the package directory, where the loader looks second ("next to the
package"), taking them from, in order:

1. ``$AGENTCREDIT_LIB`` (the library file, or a directory that holds it) and
   ``$AGENTCREDIT_CLI``: the same variables the package reads at run time;
2. the source tree's build: ``build/lib/libagentcredit.so.1`` and
   ``build/bindings/cli/agentcredit`` of the checkout this directory is in
   (``make build``, or ``meson setup build && ninja -C build``).

A CLI is taken from the library's own build when the variable does not name
one. ``AGENTCREDIT_BUNDLE=0`` bundles nothing (a pure package that finds an
installed library through the system loader); so does a tree with no build,
with a warning. A wheel with the library in it is tagged for this platform
(``py3-none-<platform>``: any CPython 3 can load it through ctypes)."""

import os
import pathlib
import re
import shutil
import warnings
from typing import List, Optional, Tuple

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = pathlib.Path(__file__).resolve().parent
CONSTANTS = (HERE / "agentcredit" / "_constants.py").read_text()
CLI_NAME = "agentcredit"


def constant(name: str) -> int:
    """An integer of the generated _constants.py (the header's value)."""
    match = re.search(r"^%s = (\d+)$" % name, CONSTANTS, re.M)
    if match is None:
        raise RuntimeError("agentcredit/_constants.py has no %s" % name)
    return int(match.group(1))


VERSION = "%d.%d.%d" % (constant("VERSION_MAJOR"), constant("VERSION_MINOR"),
                        constant("VERSION_PATCH"))
SONAME = "libagentcredit.so.%d" % constant("ABI_VERSION")


def bundled_files() -> List[Tuple[pathlib.Path, str]]:
    """``[(source, name in the package)]``: what to bundle (see above)."""
    if os.environ.get("AGENTCREDIT_BUNDLE", "1") == "0":
        return []
    env_lib = os.environ.get("AGENTCREDIT_LIB", "")
    if env_lib:
        lib = pathlib.Path(env_lib)
        lib = lib / SONAME if lib.is_dir() else lib
        if not lib.is_file():
            raise RuntimeError("AGENTCREDIT_LIB=%s: no such file" % env_lib)
    else:
        lib = HERE.parent.parent / "build" / "lib" / SONAME
        if not lib.is_file():
            warnings.warn("agentcredit: no %s to bundle (set AGENTCREDIT_LIB "
                          "to it, or build the tree first): the package will "
                          "look for an installed library" % lib)
            return []
    files = [(lib, SONAME)]
    cli = bundled_cli(lib)
    if cli is not None:
        files.append((cli, CLI_NAME))
    return files


def bundled_cli(lib: pathlib.Path) -> Optional[pathlib.Path]:
    """$AGENTCREDIT_CLI, else the CLI of the library's build, else None."""
    env_cli = os.environ.get("AGENTCREDIT_CLI", "")
    if env_cli:
        if not os.access(env_cli, os.X_OK):
            raise RuntimeError("AGENTCREDIT_CLI=%s: not an executable file"
                               % env_cli)
        return pathlib.Path(env_cli)
    cli = lib.resolve().parent.parent / "bindings" / "cli" / CLI_NAME
    return cli if os.access(str(cli), os.X_OK) else None


BUNDLED = bundled_files()


class BuildPyBundling(build_py):
    """build_py that copies the bundled files into the built package."""

    def run(self) -> None:
        super().run()
        target = pathlib.Path(self.build_lib) / "agentcredit"
        for source, name in BUNDLED:
            # copy2 follows the .so.1 symlink and keeps the executable bit
            shutil.copy2(str(source), str(target / name))


class PlatformDistribution(Distribution):
    """Platform-specific when a library is bundled (platlib, tagged
    wheel), pure otherwise."""

    def has_ext_modules(self) -> bool:
        return bool(BUNDLED)


commands = {"build_py": BuildPyBundling}
try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:     # no wheel: pip cannot build one either; setup.py can
    pass
else:
    class BdistWheelAnyPython(bdist_wheel):
        """ctypes loads the library from any CPython 3: py3-none-<plat>."""

        def get_tag(self) -> Tuple[str, str, str]:
            python, abi, plat = super().get_tag()
            return (python, abi, plat) if not BUNDLED else ("py3", "none",
                                                            plat)

    commands["bdist_wheel"] = BdistWheelAnyPython

setup(version=VERSION, cmdclass=commands, distclass=PlatformDistribution)
