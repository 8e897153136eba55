"""What every handle class shares: ownership of the C handle, the locks, the
typed parameters and the callback machinery."""

import contextlib
import threading
import weakref
from ctypes import byref, c_double, c_int64

from . import _buffers as B
from ._errors import (E_BUSY, E_CALLBACK, E_PARAM_OUT_OF_BOUND,
                      E_PARAM_UNSUPPORTED, E_STATE, make_error)
from ._lib import decode, lib

RESET_SESSION = 1
RESET_PARAMS = 2
RESET_KNOWN = 4
RESET_ALL = 7
_RESET_NAMES = {"session": RESET_SESSION, "params": RESET_PARAMS,
                "known": RESET_KNOWN, "all": RESET_ALL}


def reset_flags(what):
    """``reset('session', 'params')`` (names) or an int of AC_RESET_* bits."""
    flags = 0
    for w in what:
        if isinstance(w, str):
            try:
                flags |= _RESET_NAMES[w]
            except KeyError:
                raise ValueError("reset: unknown part %r (known: %s)"
                                 % (w, ", ".join(_RESET_NAMES))) from None
        else:
            flags |= B.index(w, "reset flags")
    return flags


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
    value 1, so C aborts with AC_E_CALLBACK instead of seeing garbage."""
    def call(*args):
        try:
            body(*args)
            return 0
        except BaseException as exc:  # noqa: B902: must never reach C
            if state.pending is None:
                state.pending = exc
            return 1
    return call


def _free(fn, ptr, keep):
    # keep: objects C may use until the handle is freed (the allocator and
    # its callbacks); referenced here so they outlive the C handle.
    fn(ptr)


class Param:
    """One typed parameter: its C id, its type ("int", "f64", "bool" or
    "enum") and, for enums, the names of its values."""

    __slots__ = ("name", "id", "kind", "names", "doc")

    def __init__(self, name, pid, kind, doc, names=None):
        self.name, self.id, self.kind, self.doc = name, pid, kind, doc
        self.names = names or {}


class Handle:
    """Base of Estimator, Refiner, Localizer and Game."""

    _kind = "handle"          # "estimator", ... (C prefix ac_<kind>_)

    def __init__(self):
        self._ptr = None
        self._finalizer = None
        self._lock = threading.RLock()      # serialises calls on the handle
        self._ptr_lock = threading.Lock()   # cancel() against close()
        self._depth = 0                     # calls in progress
        self._cb = CallbackState()
        self._keep = {}                     # callbacks and buffers C uses

    # -- ownership -------------------------------------------------------
    def _adopt(self, ptr, keep=None):
        self._ptr = ptr
        self._finalizer = weakref.finalize(
            self, _free, getattr(lib, "ac_%s_free" % self._kind), ptr, keep)

    def close(self):
        """Frees the C handle now (also done when the object is collected,
        or at the end of a ``with`` block). Idempotent. Refused (Busy) from
        inside one of the handle's own callbacks; from another thread it
        waits for the call in progress to end."""
        with self._lock:
            if self._depth:
                raise make_error(E_BUSY, "close() of a %s from inside its own "
                                 "callback" % self._kind, "close")
            with self._ptr_lock:
                ptr, self._ptr = self._ptr, None
            if ptr is not None and self._finalizer is not None:
                self._finalizer()
            self._keep.clear()

    @property
    def closed(self):
        """True once close() ran."""
        return self._ptr is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self._ptr is None else "open"
        return "<agentcredit.%s %s %s>" % (type(self).__name__, self._describe(),
                                            state)

    def _describe(self):
        return ""

    @contextlib.contextmanager
    def _use(self, what):
        """Holds the handle for one call: its lock, and its pointer."""
        with self._lock:
            ptr = self._ptr
            if ptr is None:
                raise make_error(E_STATE, "%s: the %s is closed"
                                 % (what, self._kind), what)
            self._depth += 1
            try:
                yield ptr
            finally:
                self._depth -= 1

    # -- errors ------------------------------------------------------------
    def _last_error(self, ptr):
        return decode(getattr(lib, "ac_%s_last_error" % self._kind)(ptr))

    @property
    def last_error(self):
        """The detailed message of the handle's last failure ("" if none)."""
        with self._use("last_error") as ptr:
            return self._last_error(ptr)

    def _check(self, rc, ptr, fname):
        """Raises for a non-zero status; first re-raises the exception a
        Python callback raised during the call, chained to the status."""
        exc, self._cb.pending = self._cb.pending, None
        if exc is not None:
            base = self._last_error(ptr)
            raised = "the Python callback raised %s: %s" % (
                type(exc).__name__, exc)
            detail = "%s (%s)" % (base, raised) if base else raised
            err = make_error(rc or E_CALLBACK, detail, fname)
            if exc.__cause__ is None:
                raise exc from err
            raise exc
        if rc:
            raise make_error(rc, self._last_error(ptr), fname)



class Parametrised(Handle):
    """A handle with typed parameters (estimator, refiner, localizer)."""

    _PARAMS = {}              # name -> Param

    def _param(self, name, value=None):
        if isinstance(name, str):
            spec = self._PARAMS.get(name)
            if spec is None:
                raise make_error(
                    E_PARAM_UNSUPPORTED, "%s has no parameter %r (known: %s)"
                    % (type(self).__name__, name, ", ".join(self._PARAMS)),
                    "set_param")
            return spec
        pid = B.index(name, "parameter id")
        for spec in self._PARAMS.values():
            if spec.id == pid:
                return spec
        kind = "f64" if isinstance(value, float) else "int"
        return Param(str(pid), pid, kind, "")

    @classmethod
    def _int_value(cls, spec, value):
        if spec.kind == "enum" and isinstance(value, str):
            try:
                return spec.names[value]
            except KeyError:
                raise make_error(
                    E_PARAM_OUT_OF_BOUND, "%s: %r is not one of %s"
                    % (spec.name, value, ", ".join(spec.names)),
                    "set_param") from None
        v = B.index(value, spec.name)
        if not B.INT64_MIN <= v <= B.INT64_MAX:
            raise make_error(E_PARAM_OUT_OF_BOUND, "%s = %d is not an int64"
                             % (spec.name, v), "set_param")
        return v

    def set_param(self, name, value):
        """Sets one parameter by name (or by its C enum id)."""
        spec = self._param(name, value)
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

    def get_param(self, name):
        """One parameter's value: an int, a float, a bool, or the name of an
        enum value."""
        spec = self._param(name)
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

    def params(self):
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
    def param_bounds(cls, name):
        """``(lower, upper)`` of a parameter; no handle needed. Enum
        parameters give the range of their numeric values."""
        spec = cls._PARAMS.get(name) if isinstance(name, str) else None
        if spec is None:
            if isinstance(name, str):
                raise make_error(E_PARAM_UNSUPPORTED, "%s has no parameter "
                                 "%r" % (cls.__name__, name), "param_bounds")
            pid = B.index(name, "parameter id")
            spec = Param(str(pid), pid, "int", "")
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
    """A handle with an audit record (estimator, localizer)."""

    _AUDIT = ()   # (key id, name, enum names or None)

    def audit(self):
        """The audit record as a dict with readable names (the same names as
        the CLI's ``--json``); enum figures (method, stop reason, outcome,
        strategy) as names."""
        fname = "ac_%s_audit" % self._kind
        out = {}
        with self._use(fname) as ptr:
            v = c_int64()
            for key, name, names in self._AUDIT:
                self._check(getattr(lib, fname)(ptr, key, byref(v)), ptr,
                            fname)
                val = v.value
                if names:
                    val = names.get(val, val)
                out[name] = val
        return out


def install_params(cls):
    """Adds a property per parameter (``est.budget = 500``)."""
    for name, spec in cls._PARAMS.items():
        def getter(self, _n=name):
            return self.get_param(_n)

        def setter(self, value, _n=name):
            self.set_param(_n, value)
        setattr(cls, name, property(getter, setter, doc=spec.doc))
    return cls


def enum_names(mapping):
    """{value: name} from {name: value}."""
    return {v: k for k, v in mapping.items()}

