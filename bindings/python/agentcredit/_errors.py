"""Status codes as exceptions.

Every failing call raises a subclass of :class:`AgentCreditError`, chosen by
the ``ac_status`` the C function returned. The message is ``ac_strerror``'s
sentence followed by the handle's ``*_last_error`` detail, when there is
one."""

from ._lib import decode, lib

OK = 0
E_INVALID_ARG = -1
E_NO_MEMORY = -2
E_STATE = -3
E_TOO_LARGE = -4
E_PARAM_UNSUPPORTED = -10
E_PARAM_OUT_OF_BOUND = -11
E_CALLBACK = -20
E_ORACLE = -21
E_CANCELLED = -22
E_BUSY = -23
E_BUDGET = -30
E_INFEASIBLE = -31
E_PARSE = -40
E_IO = -41


def strerror(status):
    """``ac_strerror``: a static English sentence for any status."""
    return decode(lib.ac_strerror(int(status)))


def status_name(status):
    """``ac_status_name``: ``"AC_E_BUDGET"``, or ``"AC_E_UNKNOWN"``."""
    return decode(lib.ac_status_name(int(status)))


class AgentCreditError(Exception):
    """A call into libagentcredit failed.

    Attributes: ``status`` (the negative ``ac_status``), ``status_name``
    (``"AC_E_..."``), ``detail`` (the handle's last_error message, or a
    message of the Python layer; may be ``""``) and ``function`` (the C
    function, or the Python method, that failed; may be None)."""

    def __init__(self, status, detail="", function=None):
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
    E_INVALID_ARG: InvalidArgument,
    E_NO_MEMORY: NoMemory,
    E_STATE: StateError,
    E_TOO_LARGE: TooLarge,
    E_PARAM_UNSUPPORTED: ParamUnsupported,
    E_PARAM_OUT_OF_BOUND: ParamOutOfBound,
    E_CALLBACK: CallbackError,
    E_ORACLE: OracleError,
    E_CANCELLED: Cancelled,
    E_BUSY: Busy,
    E_BUDGET: BudgetError,
    E_INFEASIBLE: Infeasible,
    E_PARSE: ParseError,
    E_IO: IOFailure,
}


def error_class(status):
    """The exception class for a status (AgentCreditError when unknown)."""
    return _BY_STATUS.get(int(status), AgentCreditError)


def make_error(status, detail="", function=None):
    return error_class(status)(status, detail, function)
