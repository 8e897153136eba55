"""Moving numbers and coalitions between Python and C.

Inputs: lists, tuples, ranges, generators, ``array.array``, numpy arrays,
``memoryview`` and anything else with the buffer protocol. A buffer whose
format is exactly the C type and that is C-contiguous is copied in one go;
any other numeric buffer (another width, a stride, another byte order) is
converted element by element. Everything is copied into a fresh ctypes array:
the library never sees Python memory after a call returns.

Outputs: plain lists, or numpy arrays with ``as_numpy=True``.

Coalitions: a Python int is a bitmask (bit i set: player i is a member, any
number of players up to 65536), anything else is an iterable of player
indices. C receives ``ac_coalition_words(n)`` little-endian-ordered uint64
words per coalition; coalitions come back as ints."""

import array
import ctypes
import operator
import sys
from ctypes import c_double, c_int32, c_uint32, c_uint64

from ._constants import Status
from ._errors import make_error

_LITTLE = sys.byteorder == "little"
_NUMERIC = set("bBhHiIlLqQnNfde")
_NATIVE_PREFIX = ("@", "=", "<" if _LITTLE else ">")

UINT32_MAX = 2 ** 32 - 1
INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
UINT64_MAX = 2 ** 64 - 1


def _typecode(kind, size):
    for code in {"u": "BHILQ", "i": "bhilq", "f": "fd"}[kind]:
        if array.array(code).itemsize == size:
            return code
    raise RuntimeError("no array typecode for %s%d" % (kind, size))


# ctype -> (array typecode, the memoryview format that matches it exactly)
_CTYPES = {}
for _ct, _kind in ((c_double, "f"), (c_uint32, "u"), (c_uint64, "u"),
                   (c_int32, "i")):
    _code = _typecode(_kind, ctypes.sizeof(_ct))
    _CTYPES[_ct] = (_code, _code)


def _invalid(name, what):
    return make_error(Status.E_INVALID_ARG, "%s: %s" % (name, what))


def _base_format(fmt):
    """The struct format letter of a native-order 1-item format, else None."""
    if fmt and fmt[0] in "@=<>!":
        if fmt[0] not in _NATIVE_PREFIX:
            return None
        fmt = fmt[1:]
    return fmt if len(fmt) == 1 else None


def to_list(obj, name="values"):
    """The elements of a 1-D buffer or an iterable, as a list."""
    if isinstance(obj, str):
        raise TypeError("%s: expected numbers, got a str" % name)
    try:
        m = memoryview(obj)
    except TypeError:
        try:
            return list(obj)
        except TypeError:
            raise TypeError("%s: expected a sequence, an iterable or a "
                            "buffer of numbers, got %s"
                            % (name, type(obj).__name__)) from None
    with m:
        _check_view(m, name)
        try:
            return m.tolist()
        except NotImplementedError:
            pass
    return list(obj)   # e.g. a numpy array in non-native byte order


def _check_view(m, name):
    if m.ndim != 1:
        raise _invalid(name, "expected a 1-D buffer, got %d dimensions"
                       % m.ndim)
    base = _base_format(m.format)
    if base is not None and base not in _NUMERIC:
        raise TypeError("%s: buffer format %r is not numeric" % (name,
                                                                 m.format))


def to_array(obj, ctype, name="values"):
    """A new ``ctype * n`` array holding the numbers of obj."""
    code, exact = _CTYPES[ctype]
    if isinstance(obj, str):
        raise TypeError("%s: expected numbers, got a str" % name)
    try:
        m = memoryview(obj)
    except TypeError:
        m = None
    if m is not None:
        with m:
            _check_view(m, name)
            if (_base_format(m.format) == exact and m.c_contiguous
                    and m.itemsize == ctypes.sizeof(ctype)):
                return (ctype * len(m)).from_buffer_copy(m)
    items = to_list(obj, name)
    try:
        arr = array.array(code, items)
    except OverflowError:
        raise _invalid(name, "a value does not fit in %s"
                       % ctype.__name__) from None
    except TypeError as exc:
        bad = next((x for x in items if x is None or isinstance(x, (str,
                                                                    bytes))),
                   None)
        if bad is None and ctype is c_double:
            try:
                arr = array.array(code, [float(x) for x in items])
            except (TypeError, ValueError):
                raise TypeError("%s: %s" % (name, exc)) from None
        else:
            raise TypeError("%s: %s" % (name, exc)) from None
    return (ctype * len(arr)).from_buffer_copy(arr) if len(arr) else \
        (ctype * 0)()


def numpy():
    try:
        import numpy as np
    except ImportError as exc:
        raise ImportError("as_numpy=True needs numpy, which is not "
                          "importable here (%s); leave as_numpy False to get "
                          "lists" % exc) from exc
    return np


def output(carray, as_numpy=False):
    """A ctypes array as a list, or as a numpy array (a copy)."""
    if as_numpy:
        np = numpy()
        return np.ctypeslib.as_array(carray).copy()
    return list(carray)


# --------------------------------------------------------------------------
# Scalars
# --------------------------------------------------------------------------

def index(value, name):
    """An integer argument (int, numpy integer, anything with __index__)."""
    if isinstance(value, bool):
        return int(value)
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, got %s"
                        % (name, type(value).__name__)) from None


def u32(value, name, status=Status.E_INVALID_ARG):
    v = index(value, name)
    if v < 0:
        raise make_error(Status.E_INVALID_ARG, "%s must be >= 0, got %d"
                         % (name, v))
    if v > UINT32_MAX:
        raise make_error(status, "%s = %d does not fit in uint32_t"
                         % (name, v))
    return v


def u64(value, name):
    v = index(value, name)
    if not 0 <= v <= UINT64_MAX:
        raise make_error(Status.E_INVALID_ARG, "%s = %d is not a uint64_t"
                         % (name, v))
    return v


def size(value, name):
    """A count of players / messages: negative is invalid, beyond uint32_t
    is too large for the library."""
    return u32(value, name, status=Status.E_TOO_LARGE)


# --------------------------------------------------------------------------
# Coalitions
# --------------------------------------------------------------------------

def coalition(c, n, name="coalition"):
    """A coalition of n players as an int bitmask."""
    if isinstance(c, bool):
        raise TypeError("%s: a bool is not a coalition (use an int bitmask "
                        "or an iterable of player indices)" % name)
    try:
        v = operator.index(c)
    except TypeError:
        if isinstance(c, (str, bytes)):
            raise TypeError("%s: expected an int bitmask or an iterable of "
                            "player indices, got %s" % (name,
                                                        type(c).__name__))
        try:
            members = list(c)
        except TypeError:
            raise TypeError("%s: expected an int bitmask or an iterable of "
                            "player indices, got %s"
                            % (name, type(c).__name__)) from None
        v = 0
        for i in members:
            i = index(i, name + " member")
            if not 0 <= i < n:
                raise _invalid(name, "player %d is not in 0..%d" % (i, n - 1))
            v |= 1 << i
        return v
    if v < 0:
        raise _invalid(name, "a bitmask must be >= 0, got %d" % v)
    if v >> n:
        raise _invalid(name, "bit %d is set but the game has %d players"
                       % (v.bit_length() - 1, n))
    return v


def coalition_words_array(ints, words):
    """uint64 words for a list of int bitmasks, one after the other."""
    count = len(ints)
    arr = (c_uint64 * (count * words))()
    if count == 0:
        return arr
    if _LITTLE:
        nbytes = 8 * words
        raw = b"".join(v.to_bytes(nbytes, "little") for v in ints)
        ctypes.memmove(arr, raw, len(raw))
    else:
        mask = UINT64_MAX
        for k, v in enumerate(ints):
            for w in range(words):
                arr[k * words + w] = (v >> (64 * w)) & mask
    return arr


def read_coalitions(ptr, words, count):
    """count coalitions of `words` uint64 words at ptr, as ints."""
    if count == 0:
        return []
    if words == 1:
        return ptr[:count]
    if _LITTLE:
        nbytes = 8 * words
        raw = ctypes.string_at(ptr, nbytes * count)
        return [int.from_bytes(raw[k * nbytes:(k + 1) * nbytes], "little")
                for k in range(count)]
    out = []
    for k in range(count):
        v = 0
        for w in range(words):
            v |= ptr[k * words + w] << (64 * w)
        out.append(v)
    return out


# --------------------------------------------------------------------------
# Values that may be missing (None: a failed evaluation)
# --------------------------------------------------------------------------

def _number(v, name):
    if isinstance(v, (str, bytes)):
        raise TypeError("%s: expected a number or None, got %s"
                        % (name, type(v).__name__))
    try:
        return float(v)
    except (TypeError, ValueError):
        raise TypeError("%s: expected a number or None, got %s"
                        % (name, type(v).__name__)) from None


def write_results(result, count, values, status, name):
    """Writes a callback's result (one number or None per item) into the
    C arrays; None marks a failure (status 1)."""
    if result is None:
        raise TypeError("%s returned None; return one value per item (None "
                        "marks a failed one)" % name)
    items = to_list(result, name + " result")
    if len(items) != count:
        raise ValueError("%s returned %d values for %d items"
                         % (name, len(items), count))
    for k, v in enumerate(items):
        if v is None:
            status[k] = 1
        else:
            values[k] = _number(v, name)


def values_and_status(values, status, count, name="values"):
    """C arrays for a tell: values (None: failed) and the optional status."""
    items = to_list(values, name)
    if len(items) != count:
        raise _invalid(name, "%d values for %d items" % (len(items), count))
    vals = (c_double * count)()
    st = None
    if status is not None:
        st = to_array(status, c_int32, "status")
        if len(st) != count:
            raise _invalid("status", "%d entries for %d items" % (len(st),
                                                                  count))
    for k, v in enumerate(items):
        if v is None:
            vals[k] = float("nan")
            if st is None:
                st = (c_int32 * count)()
            st[k] = st[k] or 1
        else:
            vals[k] = _number(v, name)
    return vals, st
