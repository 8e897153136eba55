"""agentcredit: evaluation-aligned training signals for multi-LLM-agent teams.

Python bindings (ctypes, standard library only; numpy optional) for
libagentcredit.so.1:

* :class:`Estimator`: Shapley credit over agents from a coalition value
  oracle (a Python callable, a :class:`Game`, or ask/tell);
* :func:`shapley_exact`: exact Shapley values from a full value table;
* :func:`plan`: the budget a target standard error needs, before any rollout;
* :class:`Refiner`: per-message rewards that add up to each agent's credit;
* :class:`Localizer`: the first erroneous message of a failed episode, blame
  labels and repair-aware :class:`PreferencePair` s;
* :class:`Episode` and :class:`Pipeline`: one episode (agents, tools, the
  user, messages, the outcome) in, every training signal out
  (:class:`Signals`: credits, message rewards, labels, flags, the first
  error, the preference pair, the audit) in one call;
* :class:`Game`: reference games (JSON);
* :class:`Exporter` and :func:`export` (:mod:`agentcredit.exports`): the
  records TRL, verl, OpenRLHF, AReaL, prime-rl, rLLM and SkyRL load, by
  the library's exporter (what ``agentcredit export`` writes);
  :mod:`agentcredit.formats` the TRL ones per episode, and JSON Lines;
* trainer hooks, standard library only: :mod:`agentcredit.verl`
  (``compute_score``, the agent-loop worker), :mod:`agentcredit.openrlhf`
  (``reward_func``), :mod:`agentcredit.areal` (``completion_rewards``);
* the header's enums as :class:`enum.IntEnum` / :class:`enum.IntFlag`
  classes (:class:`Method`, :class:`EstimatorParam`, :class:`StepFlag`,
  :class:`Status`, ...) and its limits (``MAX_PLAYERS``, ...), generated
  from include/agentcredit.h into ``agentcredit._constants``.

docs/python.md is the guide. The library is found through
``$AGENTCREDIT_LIB``, next to this package, or the system loader (see
:mod:`agentcredit._lib`)."""

from __future__ import annotations

from . import _constants, _lib
from ._constants import *  # noqa: F401,F403  (the header's enums, limits)
from ._errors import (AgentCreditError, BudgetError, Busy, CallbackError,
                      Cancelled, Infeasible, InvalidArgument, IOFailure,
                      NoMemory, OracleError, ParamOutOfBound,
                      ParamUnsupported, ParseError, StateError, TooLarge,
                      error_class, status_name, strerror)
from ._lib import AbiMismatchError, LibraryNotFoundError
from .allocator import Allocator
from .estimator import (Estimator, InteractionResult, Plan, Progress,
                        ShapleyResult, coalition_words, plan, shapley_exact,
                        shapley_interactions)
from .episode import (Episode, Message, MessageTools, Participant, Pipeline,
                      Signals)
from .exports import ExportResult, Exporter, Skip, export
from .game import Game
from .localizer import FirstError, Localizer, PreferencePair
from .refiner import Refiner
from . import formats  # noqa: E402
from . import areal, openrlhf, verl  # noqa: E402  (stdlib only)

#: The loaded library's version: the package is versioned with the library it
#: drives (include/agentcredit.h holds the number).
__version__ = _lib.decode(_lib.lib.ac_version_string())

#: Where the loaded library came from: (which step of the search, the path
#: or name given to the loader).
library = (_lib.LIBRARY_WHERE, _lib.LIBRARY_PATH)


def library_version() -> str:
    """``ac_version_string()`` of the loaded library ("1.0.0")."""
    return _lib.decode(_lib.lib.ac_version_string())


def library_version_number() -> int:
    """``ac_version_number()``: MAJOR*10000 + MINOR*100 + PATCH."""
    return _lib.lib.ac_version_number()


def abi_version() -> int:
    """``ac_abi_version()`` of the loaded library (== ABI_VERSION)."""
    return _lib.lib.ac_abi_version()


__all__ = sorted(_constants.__all__ + [
    "AbiMismatchError", "AgentCreditError", "Allocator", "BudgetError",
    "Busy", "CallbackError", "Cancelled", "Episode", "Estimator",
    "ExportResult", "Exporter", "FirstError", "Game", "IOFailure",
    "Infeasible", "InteractionResult", "InvalidArgument",
    "LibraryNotFoundError", "Localizer",
    "Message", "MessageTools", "NoMemory", "OracleError", "ParamOutOfBound",
    "ParamUnsupported", "ParseError", "Participant", "Pipeline", "Plan",
    "PreferencePair", "Progress", "Refiner", "ShapleyResult", "Signals",
    "Skip", "StateError", "TooLarge", "abi_version", "areal",
    "coalition_words", "error_class", "export", "formats", "library",
    "library_version", "library_version_number", "openrlhf", "plan",
    "shapley_exact", "shapley_interactions", "status_name", "strerror",
    "verl",
])
