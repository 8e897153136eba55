"""What every handle class shares: ownership of the C handle, the locks, the
typed parameters and the callback machinery."""

from __future__ import annotations

import contextlib
import enum
import functools
import threading
import weakref
from ctypes import byref, c_double, c_int64
from typing import Any, Dict, Tuple, TypeVar

from . import _buffers as B
from . import _interrupt
from ._constants import Reset, Status
from ._errors import make_error
from ._lib import decode, lib
from ._types import ParamName, ParamValue

_H = TypeVar("_H", bound="Handle")
_T = TypeVar("_T", bound=type)


def value_names(values):
    """{name: member} of a C value set: the member's name in lower case
    (Method.KERNELSHAP -> 'kernelshap'), the strings the Python API takes
    and gives back."""
    return {m.name.lower(): m for m in values.__members__.values()}


def flag_names(flags):
    """((bit, name), ...) of a flag set's single-bit members."""
    return tuple((m, m.name.lower()) for m in flags.__members__.values()
                 if m.value and not m.value & (m.value - 1))


def _check_enum(value, expected, what):
    """Refuses a member of another C set where one of `expected` (or a plain
    int) belongs: EstimatorParam.BUDGET is no Method, though both are ints."""
    if isinstance(value, enum.Enum) and not isinstance(value, expected):
        raise TypeError("%s takes a %s (or its name), not %s"
                        % (what, expected.__name__,
                           "%s.%s" % (type(value).__name__, value.name)))


_RESET_NAMES = value_names(Reset)


def reset_flags(what):
    """``reset('session', 'params')`` (names), Reset members or an int of
    AC_RESET_* bits."""
    flags = 0
    for w in what:
        if isinstance(w, str):
            try:
                flags |= _RESET_NAMES[w]
            except KeyError:
                raise ValueError("reset: unknown part %r (known: %s)"
                                 % (w, ", ".join(_RESET_NAMES))) from None
        else:
            _check_enum(w, Reset, "reset")
            flags |= B.index(w, "reset flags")
    return int(flags)


class CallbackState:
    """Shared by a handle and the trampolines it gave to C: the exception a
    Python callback raised, kept until the C call returns. It holds no
    reference to the handle, so a handle is freed as soon as it is
    unreachable (no cycle through its callbacks)."""

    __slots__ = ("pending",)

    def __init__(self):
        self.pending = None


def trampoline(state, body):
    """A Python function for a CFUNCTYPE: runs body(*args); any exception
    (even KeyboardInterrupt) is stored on state and turned into the return
    value 1, so C aborts with AC_E_CALLBACK instead of seeing garbage.
    Called on a worker thread of an interruptible call, it runs body on
    the thread that made the call (``_interrupt``)."""
    def run(*args):
        try:
            body(*args)
            return 0
        except BaseException as exc:  # noqa: B902: must never reach C
            if state.pending is None:
                state.pending = exc
            return 1

    def call(*args):
        try:
            return _interrupt.forward(run, args)
        except BaseException as exc:  # noqa: B902: must never reach C
            if state.pending is None:
                state.pending = exc
            return 1
    return call


def _free(fn, ptr, keep, guard):
    # keep: objects C may use until the handle is freed (the allocator and
    # its callbacks); referenced here so they outlive the C handle. A call
    # that an interrupt abandoned keeps its handle alive, so this runs
    # under it only at interpreter exit: then the handle is left unfreed.
    if not guard.busy():
        fn(ptr)


class Param:
    """One typed parameter: its C id (a member of the object's parameter
    enum), its type ("int", "f64", "bool" or "enum") and, for enums, the C
    value set it takes (``values``) with the names of its members."""

    __slots__ = ("name", "id", "kind", "values", "names", "doc")

    def __init__(self, name, pid, kind, doc, values=None):
        self.name, self.id, self.kind, self.doc = name, pid, kind, doc
        self.values = values
        self.names = value_names(values) if values is not None else {}


def param_table(params, specs):
    """{name: Param} for the members of a C parameter enum (EstimatorParam,
    ...): ``specs`` maps each member to ``(kind, doc)`` or, for an enum
    parameter, ``("enum", doc, value set)``. The Python name is the member's
    in lower case (EstimatorParam.TARGET_SE -> ``target_se``); the bounds
    come from the library (``param_bounds``)."""
    table = {}
    for member in params.__members__.values():
        if member in specs:
            kind, doc, *values = specs[member]
            table[member.name.lower()] = Param(
                member.name.lower(), member, kind,
                "AC_%s_%s: %s" % (_c_set(params), member.name, doc),
                values[0] if values else None)
    return table


def audit_table(keys, values=None):
    """[(key, name, {value: name} or None)] for every member of a C audit
    key enum, in its order: the name is the member's in lower case
    (LocalizerAudit.SCAN_STOPPED -> ``scan_stopped``); ``values`` maps the
    keys whose figure is a member of a C value set (or a bool) to that set.
    A figure of the set is read as the member's name in lower case, a
    status as ``status_name()`` gives it (``'AC_E_CANCELLED'``)."""
    values = values or {}
    out = []
    for key in keys.__members__.values():
        decode = values.get(key)
        if decode is bool:
            names = {0: False, 1: True}
        elif decode is Status:
            names = {m.value: "AC_" + m.name for m in Status}
        elif decode is not None:
            names = {m.value: n for n, m in value_names(decode).items()}
        else:
            names = None
        out.append((key, key.name.lower(), names))
    return out


def _c_set(params):
    """EstimatorParam -> 'ESTIMATOR_PARAM' (the enumerators' prefix)."""
    name = params.__name__
    return "".join("_" + c if c.isupper() and k else c
                   for k, c in enumerate(name)).upper()


class Handle:
    """Base of Estimator, Refiner, Localizer and Game."""

    _kind = "handle"          # "estimator", ... (C prefix ac_<kind>_)

    def __init__(self) -> None:
        self._ptr = None
        self._finalizer = None
        self._lock = threading.RLock()      # serialises calls on the handle
        self._ptr_lock = threading.Lock()   # cancel() against close()
        self._depth = 0                     # calls in progress
        self._cb = CallbackState()
        self._keep = {}                     # callbacks and buffers C uses
        self._callback_exception = None     # raised in a call that succeeded
        self._guard = _interrupt.Guard()    # a call an interrupt abandoned

    # -- ownership -------------------------------------------------------
    def _adopt(self, ptr, keep=None):
        self._ptr = ptr
        self._finalizer = weakref.finalize(
            self, _free, getattr(lib, "ac_%s_free" % self._kind), ptr, keep,
            self._guard)

    def close(self) -> None:
        """Frees the C handle now (also done when the object is collected,
        or at the end of a ``with`` block). Idempotent. Refused (Busy) from
        inside one of the handle's own callbacks; from another thread it
        waits for the call in progress to end."""
        with self._lock:
            if self._depth:
                raise make_error(Status.E_BUSY, "close() of a %s from inside "
                                 "its own callback" % self._kind, "close")
            self._guard.settle()
            with self._ptr_lock:
                ptr, self._ptr = self._ptr, None
            if ptr is not None and self._finalizer is not None:
                self._finalizer()
            self._keep.clear()

    @property
    def closed(self) -> bool:
        """True once close() ran."""
        return self._ptr is None

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self):
        state = "closed" if self._ptr is None else "open"
        return "<agentcredit.%s %s %s>" % (type(self).__name__,
                                            self._describe(), state)

    def _describe(self):
        return ""

    @contextlib.contextmanager
    def _use(self, what):
        """Holds the handle for one call: its lock, and its pointer."""
        with self._lock:
            ptr = self._ptr
            if ptr is None:
                raise make_error(Status.E_STATE, "%s: the %s is closed"
                                 % (what, self._kind), what)
            self._guard.settle()
            self._depth += 1
            try:
                yield ptr
            finally:
                self._depth -= 1

    # -- long calls ----------------------------------------------------------
    def _long_call(self, fname, ptr, *args):
        """``fname(ptr, *args)``, a call that may take long (a run, an ask
        that computes), made so that Ctrl-C stops it: on the main thread,
        a signal handler that raises (KeyboardInterrupt) cancels the
        handle, and once the call has returned its exception is raised,
        chained to the call's error. Returns the status otherwise."""
        cancel = functools.partial(getattr(lib, "ac_%s_cancel" % self._kind),
                                   ptr)
        rc, interrupt = _interrupt.call(getattr(lib, fname), (ptr,) + args,
                                        cancel=cancel)
        if interrupt is not None:
            self._interrupted(interrupt, rc, ptr, fname)
        return rc

    def _uncancellable_call(self, fname, ptr, *args):
        """``fname(ptr, *args)`` for a long call that nothing can cancel
        (``Game.exact``): an interrupt raises at once, and the call goes on
        alone; the handle's next call (or close) waits for it."""
        rc, interrupt = _interrupt.call(getattr(lib, fname), (ptr,) + args,
                                        keep=self, guard=self._guard)
        if interrupt is not None:
            self._interrupted(interrupt, rc, ptr, fname)
        return rc

    def _interrupted(self, interrupt, rc, ptr, fname):
        # What a callback raised after the interrupt is dropped: the
        # interrupt is what the caller asked for.
        self._cb.pending = None
        if rc:
            raise interrupt from make_error(rc, self._last_error(ptr), fname)
        raise interrupt

    # -- errors ------------------------------------------------------------
    def _last_error(self, ptr):
        return decode(getattr(lib, "ac_%s_last_error" % self._kind)(ptr))

    @property
    def last_error(self) -> str:
        """The detailed message of the handle's last failure ("" if none)."""
        with self._use("last_error") as ptr:
            return self._last_error(ptr)

    def _check(self, rc, ptr, fname):
        """Raises for a non-zero status; first re-raises the exception a
        Python callback raised during the call, chained to the status.

        A call can succeed although a callback raised: the localizer's
        corrective scan ends when its verifier fails, and the run succeeds
        (AC_LOCALIZER_AUDIT_SCAN_STOPPED). Then the exception is kept in
        ``_callback_exception``, and only one that is not an Exception
        (KeyboardInterrupt, SystemExit) is raised: the result is there."""
        exc, self._cb.pending = self._cb.pending, None
        if exc is not None and not rc:
            self._callback_exception = exc
            if not isinstance(exc, Exception):
                raise exc
            return
        if exc is not None:
            base = self._last_error(ptr)
            raised = "the Python callback raised %s: %s" % (
                type(exc).__name__, exc)
            detail = "%s (%s)" % (base, raised) if base else raised
            err = make_error(rc or Status.E_CALLBACK, detail, fname)
            if exc.__cause__ is None:
                raise exc from err
            raise exc
        if rc:
            raise make_error(rc, self._last_error(ptr), fname)


class Parametrised(Handle):
    """A handle with typed parameters (estimator, refiner, localizer)."""

    _PARAMS = {}              # name -> Param
    _PARAM_SET = enum.IntEnum  # the C parameter enum (EstimatorParam, ...)

    @classmethod
    def _spec(cls, name, value=None, what="set_param"):
        """The Param of a name, a member of the parameter enum or a raw id
        (an unknown id is left for the library to refuse)."""
        if isinstance(name, str):
            spec = cls._PARAMS.get(name)
            if spec is None:
                raise make_error(
                    Status.E_PARAM_UNSUPPORTED, "%s has no parameter %r "
                    "(known: %s)" % (cls.__name__, name,
                                     ", ".join(cls._PARAMS)), what)
            return spec
        _check_enum(name, cls._PARAM_SET, what)
        pid = B.index(name, "parameter id")
        for spec in cls._PARAMS.values():
            if spec.id == pid:
                return spec
        kind = "f64" if isinstance(value, float) else "int"
        return Param(str(pid), pid, kind, "")

    @classmethod
    def _int_value(cls, spec, value):
        if spec.kind == "enum" and isinstance(value, str):
            try:
                return int(spec.names[value])
            except KeyError:
                raise make_error(
                    Status.E_PARAM_OUT_OF_BOUND, "%s: %r is not one of %s"
                    % (spec.name, value, ", ".join(spec.names)),
                    "set_param") from None
        if spec.values is not None:
            _check_enum(value, spec.values, spec.name)
        v = B.index(value, spec.name)
        if not B.INT64_MIN <= v <= B.INT64_MAX:
            raise make_error(Status.E_PARAM_OUT_OF_BOUND, "%s = %d is not an "
                             "int64" % (spec.name, v), "set_param")
        return int(v)

    def set_param(self, name: ParamName, value: ParamValue) -> None:
        """Sets one parameter by name, by its member of the parameter enum
        (``EstimatorParam.BUDGET``) or by its C id. An enum parameter takes
        the name of a value (``'kernelshap'``), the member
        (``Method.KERNELSHAP``) or its int."""
        spec = self._spec(name, value)
        fname = "ac_%s_set_%s" % (self._kind,
                                  "f64" if spec.kind == "f64" else "int")
        if spec.kind == "f64":
            if isinstance(value, (str, bytes)):
                raise TypeError("%s must be a number" % spec.name)
            v = float(value)
        else:
            v = self._int_value(spec, value)
        with self._use(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, spec.id, v), ptr, fname)

    def get_param(self, name: ParamName) -> ParamValue:
        """One parameter's value: an int, a float, a bool, or the name of an
        enum value (``'kernelshap'``)."""
        spec = self._spec(name, what="get_param")
        if spec.kind == "f64":
            fname, out = "ac_%s_get_f64" % self._kind, c_double()
        else:
            fname, out = "ac_%s_get_int" % self._kind, c_int64()
        with self._use(fname) as ptr:
            self._check(getattr(lib, fname)(ptr, spec.id, byref(out)), ptr,
                        fname)
        v = out.value
        if spec.kind == "bool":
            return bool(v)
        if spec.kind == "enum":
            for k, n in spec.names.items():
                if n == v:
                    return k
        return v

    def params(self) -> Dict[str, ParamValue]:
        """Every parameter's current value, by name."""
        return {name: self.get_param(name) for name in self._PARAMS}

    def _set_params(self, params):
        for name, value in params.items():
            if name not in self._PARAMS:
                raise TypeError("%s() got an unexpected keyword argument %r "
                                "(parameters: %s)"
                                % (type(self).__name__, name,
                                   ", ".join(self._PARAMS)))
            if value is not None:
                self.set_param(name, value)

    @classmethod
    def param_bounds(cls, name: ParamName) -> Tuple[float, float]:
        """``(lower, upper)`` of a parameter (a name, a member of the
        parameter enum or a C id), from the library; no handle needed. Enum
        parameters give the range of their numeric values. The library's
        checks may exclude the lower bound itself (the header says which:
        ``(0, 1]``)."""
        spec = cls._spec(name, what="param_bounds")
        if spec.kind == "f64":
            fname, lo, hi = ("ac_%s_param_bounds_f64" % cls._kind, c_double(),
                             c_double())
        else:
            fname, lo, hi = ("ac_%s_param_bounds_int" % cls._kind, c_int64(),
                             c_int64())
        rc = getattr(lib, fname)(spec.id, byref(lo), byref(hi))
        if rc:
            raise make_error(rc, "%s: no bounds for %s" % (fname, spec.name),
                             fname)
        return lo.value, hi.value


class Audited(Parametrised):
    """A handle with an audit record (estimator, refiner, localizer)."""

    _AUDIT = ()   # audit_table(): (key, name, {value: name} or None)

    def audit(self) -> Dict[str, Any]:
        """The audit record as a dict: each key of the C audit enum in lower
        case (``AC_ESTIMATOR_AUDIT_OUTCOME`` -> ``'outcome'``, the names of
        the CLI's ``--json``); figures that are values of a C set (method,
        outcome, strategy) as their names in lower case, a status as
        ``'AC_E_...'``, a yes/no figure as a bool. Valid during and after a
        run."""
        fname = "ac_%s_audit" % self._kind
        with self._use(fname) as ptr:
            return read_audit(self._AUDIT, lambda key, out: self._check(
                getattr(lib, fname)(ptr, key, out), ptr, fname))


def read_audit(table, call):
    """The audit dict of an ``audit_table``: ``call(key, byref(int64))``
    makes one C audit call (and raises when it fails)."""
    out = {}
    v = c_int64()
    for key, name, names in table:
        call(key, byref(v))
        val = v.value
        if names:
            val = names.get(val, val)
        out[name] = val
    return out


def _property_doc(cls, spec):
    """The parameter's doc and what it takes: the names of an enum
    parameter's values, or the bounds the library gives."""
    if spec.kind == "enum":
        return "%s; one of %s (or a %s member)" % (
            spec.doc, ", ".join(repr(n) for n in spec.names),
            spec.values.__name__)
    if spec.kind == "bool":
        return spec.doc
    try:
        lo, hi = cls.param_bounds(spec.name)
    except Exception:   # noqa: BLE001 - a doc string must not fail imports
        return spec.doc
    return "%s; the library's bounds: %r to %r" % (spec.doc, lo, hi)


def param_property(name: str, doc: str) -> property:
    """A property that reads and sets the parameter ``name``."""
    def getter(self: Parametrised) -> ParamValue:
        return self.get_param(name)

    def setter(self: Parametrised, value: ParamValue) -> None:
        self.set_param(name, value)
    return property(getter, setter, doc=doc)


def install_params(cls: _T) -> _T:
    """Adds a property per parameter (``est.budget = 500``), but where the
    class has a method of that name (``Estimator.interactions()`` reads
    what the ``interactions`` parameter asks for): that parameter is set
    and read by keyword, ``set_param`` and ``get_param``."""
    for name, spec in cls._PARAMS.items():  # type: ignore[attr-defined]
        if name in vars(cls):
            continue
        setattr(cls, name, param_property(name, _property_doc(cls, spec)))
    return cls
