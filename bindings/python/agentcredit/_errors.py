"""Status codes as exceptions.

Every failing call raises a subclass of :class:`AgentCreditError`, chosen by
the ``ac_status`` the C function returned. The message is ``ac_strerror``'s
sentence followed by the handle's ``*_last_error`` detail, when there is
one."""

from __future__ import annotations

from typing import Optional, Type

from ._constants import Status
from ._lib import decode, lib


def strerror(status: int) -> str:
    """``ac_strerror``: a static English sentence for any status."""
    return decode(lib.ac_strerror(int(status)))


def status_name(status: int) -> str:
    """``ac_status_name``: ``"AC_E_BUDGET"``, or ``"AC_E_UNKNOWN"``."""
    return decode(lib.ac_status_name(int(status)))


class AgentCreditError(Exception):
    """A call into libagentcredit failed.

    Attributes: ``status`` (the negative ``ac_status``), ``status_name``
    (``"AC_E_..."``), ``detail`` (the handle's last_error message, or a
    message of the Python layer; may be ``""``) and ``function`` (the C
    function, or the Python method, that failed; may be None)."""

    def __init__(self, status: int, detail: str = "",
                 function: Optional[str] = None) -> None:
        self.status = int(status)
        self.status_name = status_name(self.status)
        self.detail = detail or ""
        self.function = function
        message = strerror(self.status)
        if self.detail:
            message += ": " + self.detail
        super().__init__(message)

    def __str__(self):
        return self.args[0] if self.args else ""

    def __reduce__(self):
        return (type(self), (self.status, self.detail, self.function))


class InvalidArgument(AgentCreditError, ValueError):
    """AC_E_INVALID_ARG: a bad pointer, length or value."""


class NoMemory(AgentCreditError, MemoryError):
    """AC_E_NO_MEMORY: an allocation failed; nothing changed."""


class StateError(AgentCreditError):
    """AC_E_STATE: the call is not valid in the handle's state (or the
    handle is closed)."""


class TooLarge(AgentCreditError, ValueError):
    """AC_E_TOO_LARGE: a size beyond the library's limits."""


class ParamUnsupported(AgentCreditError):
    """AC_E_PARAM_UNSUPPORTED: an unknown parameter for this object."""


class ParamOutOfBound(AgentCreditError, ValueError):
    """AC_E_PARAM_OUT_OF_BOUND: a value outside the parameter's bounds."""


class CallbackError(AgentCreditError):
    """AC_E_CALLBACK: a host callback returned non-zero (or raised: the
    Python exception is re-raised instead, chained to this one)."""


class OracleError(AgentCreditError):
    """AC_E_ORACLE: evaluations failed beyond the allowed retries."""


class Cancelled(AgentCreditError):
    """AC_E_CANCELLED: ``cancel()`` was called."""


class Busy(AgentCreditError):
    """AC_E_BUSY: a call that would change the handle, from inside its own
    callback."""


class BudgetError(AgentCreditError):
    """AC_E_BUDGET: the evaluation budget cannot pay for the request."""


class Infeasible(AgentCreditError):
    """AC_E_INFEASIBLE: constraints that cannot all hold, and relaxing them
    was not allowed."""


class ParseError(AgentCreditError, ValueError):
    """AC_E_PARSE: malformed or invalid JSON input."""


class IOFailure(AgentCreditError, OSError):
    """AC_E_IO: a file could not be read."""


_BY_STATUS = {
    Status.E_INVALID_ARG: InvalidArgument,
    Status.E_NO_MEMORY: NoMemory,
    Status.E_STATE: StateError,
    Status.E_TOO_LARGE: TooLarge,
    Status.E_PARAM_UNSUPPORTED: ParamUnsupported,
    Status.E_PARAM_OUT_OF_BOUND: ParamOutOfBound,
    Status.E_CALLBACK: CallbackError,
    Status.E_ORACLE: OracleError,
    Status.E_CANCELLED: Cancelled,
    Status.E_BUSY: Busy,
    Status.E_BUDGET: BudgetError,
    Status.E_INFEASIBLE: Infeasible,
    Status.E_PARSE: ParseError,
    Status.E_IO: IOFailure,
}


def error_class(status: int) -> Type[AgentCreditError]:
    """The exception class for a status (AgentCreditError when unknown)."""
    return _BY_STATUS.get(int(status), AgentCreditError)


def make_error(status: int, detail: str = "",
               function: Optional[str] = None) -> AgentCreditError:
    return error_class(status)(status, detail, function)
