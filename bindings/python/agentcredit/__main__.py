"""``python3 -m agentcredit [ARGS...]``: the ``agentcredit`` command-line tool.

Runs the CLI (``demo``, ``shapley``, ``signals``, ``import``, ``--version``,
...; docs/cli.md) with ARGS, replacing this process, so its output and exit
status are the tool's. ``python3 -m agentcredit --cli-path`` prints the path
of that executable. The tool is looked for, in order:

1. ``$AGENTCREDIT_CLI``;
2. next to the library the package loaded (``pip install`` of a built tree
   bundles both in the package directory);
3. in the meson build the library came from (``<build>/bindings/cli``);
4. after ``meson install``: the install prefix's bindir;
5. run from a source tree: that tree's ``build/bindings/cli``;
6. on ``PATH``.

When none is there, it says where it looked and how to build the tool, and
exits with status 127 (a shell's "command not found")."""

import os
import pathlib
import shutil
import sys
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from . import _lib

CLI_NAME = "agentcredit"
ENV_VAR = "AGENTCREDIT_CLI"
#: The status when the tool is nowhere (as a shell's "command not found").
NOT_FOUND = 127


def candidates(environ: Optional[Mapping[str, str]] = None
               ) -> Iterator[Tuple[str, Optional[pathlib.Path]]]:
    """Yields ``(where, path)``: the places to look, in order; path is None
    when a step has nothing to offer."""
    environ = os.environ if environ is None else environ
    env = environ.get(ENV_VAR, "")
    if env:
        yield ("$" + ENV_VAR, pathlib.Path(env))
    if os.sep in _lib.LIBRARY_PATH:          # not a bare name: a file
        libdir = pathlib.Path(_lib.LIBRARY_PATH).parent
        yield ("next to the library", libdir / CLI_NAME)
        yield ("the library's build",
               libdir.parent / "bindings" / "cli" / CLI_NAME)
    installed = _lib.installed_dirs()
    if installed is not None:
        yield ("the install prefix (meson install)",
               installed.bindir / CLI_NAME)
    build = _lib.source_build()
    if build is not None:
        yield ("the source tree's build", build / "bindings" / "cli" / CLI_NAME)
    on_path = shutil.which(CLI_NAME, path=environ.get("PATH"))
    yield ("PATH", pathlib.Path(on_path) if on_path else None)


def find_cli(environ: Optional[Mapping[str, str]] = None
             ) -> Tuple[Optional[Tuple[str, pathlib.Path]],
                        List[Tuple[str, Optional[pathlib.Path], str]]]:
    """``((where, path) or None, attempts)``: the first executable found and
    every place tried before it, as ``(where, path, why)``."""
    attempts: List[Tuple[str, Optional[pathlib.Path], str]] = []
    for where, path in candidates(environ):
        if path is None:
            attempts.append((where, None, "found nothing"))
        elif not path.is_file():
            attempts.append((where, path, "no such file"))
        elif not os.access(str(path), os.X_OK):
            attempts.append((where, path, "not executable"))
        else:
            return (where, path), attempts
    return None, attempts


def not_found_message(attempts: Sequence[Tuple[str, Optional[pathlib.Path],
                                               str]]) -> str:
    """What to print when the tool is nowhere: every place tried, and how
    to get it."""
    lines = ["agentcredit: cannot find the %s command-line tool; tried, in "
             "order:" % CLI_NAME]
    for i, (where, path, why) in enumerate(attempts, 1):
        lines.append("  %d. %s: %s: %s" % (i, where, path or "-", why))
    lines.append("build it with `make build` (it is build/bindings/cli/%s), "
                 "install it with `meson install -C build`, or set %s to it"
                 % (CLI_NAME, ENV_VAR))
    return "\n".join(lines)


#: The steps that find the tool beside the library the package loaded.
WITH_THE_LIBRARY = ("next to the library", "the library's build",
                    "the install prefix (meson install)")


def cli_environment(where: str, environ: Mapping[str, str]
                    ) -> Dict[str, str]:
    """The tool's environment. A tool found with the library the package
    loaded gets that library's directory first on LD_LIBRARY_PATH: a bundled
    copy has no RUNPATH that finds it, an installed one relies on the
    ld.so cache (not there under a DESTDIR or a prefix ldconfig does not
    know); the tool and the package then use one library."""
    env = dict(environ)
    if where in WITH_THE_LIBRARY and os.sep in _lib.LIBRARY_PATH:
        libdir = str(pathlib.Path(_lib.LIBRARY_PATH).parent)
        old = env.get("LD_LIBRARY_PATH")
        env["LD_LIBRARY_PATH"] = libdir + (":" + old if old else "")
    return env


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the tool with argv (default ``sys.argv[1:]``); returns only
    when it cannot (the status to exit with)."""
    args = list(sys.argv[1:] if argv is None else argv)
    found, attempts = find_cli()
    if found is None:
        print(not_found_message(attempts), file=sys.stderr)
        return NOT_FOUND
    where, path = found
    if args[:1] == ["--cli-path"]:
        print(path)
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(str(path), [str(path)] + args,
              cli_environment(where, os.environ))
    return NOT_FOUND  # not reached: execve replaced the process


if __name__ == "__main__":
    sys.exit(main())
