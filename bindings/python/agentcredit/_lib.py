"""Finding libagentcredit.so.1 and declaring its ABI for ctypes.

Everything the shared library exports is declared once, in ``_FUNCTIONS``
below: name, return type, argument types. The loader tries, in order,

1. the environment variable ``AGENTCREDIT_LIB``: a path to the library file,
   or a directory that holds ``libagentcredit.so.1``;
2. ``libagentcredit.so.1`` next to this package (``Path(__file__).parent``:
   where ``pip install`` of a built tree bundles it);
3. after ``meson install``: the install prefix's libdir, which the install
   recorded in the generated module ``agentcredit._paths`` (found relative to
   where the package now is, so a DESTDIR or a moved prefix still works);
4. run from a source tree (``bindings/python`` of a checkout): that tree's
   own build, ``build/lib/libagentcredit.so.1``;
5. the system loader: ``ctypes.CDLL('libagentcredit.so.1')`` (``LD_LIBRARY_PATH``,
   the ld.so cache, the default directories), then
   ``ctypes.util.find_library('agentcredit')``.

The first library that loads, exports every function of the table and has
``ac_abi_version() == ABI_VERSION`` is used. When none does, importing
agentcredit raises :class:`LibraryNotFoundError` (or
:class:`AbiMismatchError` when a library was found but speaks another ABI),
whose message lists every place tried and why each failed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pathlib
import warnings
from typing import Iterable, NamedTuple, Optional, Tuple
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double,
                    c_int, c_int32, c_int64, c_size_t, c_uint32, c_uint64,
                    c_void_p)

from ._constants import ABI_VERSION

#: The library's file name: the SONAME of the ABI (AC_ABI_VERSION, generated
#: into _constants.py) this package was written for.
SONAME = "libagentcredit.so.%d" % ABI_VERSION
ENV_VAR = "AGENTCREDIT_LIB"
PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


# --------------------------------------------------------------------------
# Structures and callback types, exactly as in include/agentcredit.h
# --------------------------------------------------------------------------

#: void *(*alloc)(void *opaque, size_t size)
ALLOC_FN = CFUNCTYPE(c_void_p, c_void_p, c_size_t)
#: void (*free)(void *opaque, void *ptr)
FREE_FN = CFUNCTYPE(None, c_void_p, c_void_p)


class ac_allocator(Structure):
    """``struct ac_allocator``: an optional per-handle allocator."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("alloc", ALLOC_FN),
        ("free", FREE_FN),
        ("opaque", c_void_p),
    ]


class ac_json_limits(Structure):
    """``struct ac_json_limits``: what parsing one JSON text may cost (a
    field of 0 keeps the library's default)."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("max_bytes", c_uint64),
        ("max_memory", c_uint64),
    ]


class ac_game_limits(Structure):
    """``struct ac_game_limits``: what loading a game may cost (a field of 0
    keeps the library's default)."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("max_bytes", c_uint64),
        ("max_memory", c_uint64),
        ("max_exact_work", c_uint64),
    ]


class ac_preference_pair(Structure):
    """``struct ac_preference_pair``: one repair-aware preference pair."""

    _fields_ = [
        ("struct_size", c_uint32),
        ("kind", c_int32),
        ("reason", c_int32),
        ("agent", c_uint32),
        ("step", c_uint32),
        ("prompt_end", c_uint32),
        ("candidates", c_uint32),
        ("checked", c_uint32),
        ("verified", c_uint32),
        ("reserved", c_uint32),
        ("episode", c_uint64),
        ("chosen", c_uint64),
        ("confidence", c_double),
        ("localization", c_double),
        ("weight", c_double),
    ]


class ac_work(Structure):
    """``struct ac_work``: one piece of a pipeline run's work (ask/tell)."""

    _fields_ = [
        ("ticket", c_uint64),
        ("kind", c_int32),
        ("message", c_uint32),
        ("max_count", c_uint32),
        ("reserved", c_uint32),
        ("candidate", c_uint64),
    ]


#: The C type of every field of the structures, as written in the
#: header; tests/test_layout.py computes the C layout from these names and
#: compares it with ctypes' layout.
C_FIELD_TYPES = {
    "ac_allocator": [
        ("struct_size", "uint32_t"), ("reserved", "uint32_t"),
        ("alloc", "fnptr"), ("free", "fnptr"), ("opaque", "void*"),
    ],
    "ac_game_limits": [
        ("struct_size", "uint32_t"), ("reserved", "uint32_t"),
        ("max_bytes", "uint64_t"), ("max_memory", "uint64_t"),
        ("max_exact_work", "uint64_t"),
    ],
    "ac_preference_pair": [
        ("struct_size", "uint32_t"), ("kind", "int32_t"),
        ("reason", "int32_t"), ("agent", "uint32_t"), ("step", "uint32_t"),
        ("prompt_end", "uint32_t"), ("candidates", "uint32_t"),
        ("checked", "uint32_t"), ("verified", "uint32_t"),
        ("reserved", "uint32_t"), ("episode", "uint64_t"),
        ("chosen", "uint64_t"), ("confidence", "double"),
        ("localization", "double"), ("weight", "double"),
    ],
    "ac_work": [
        ("ticket", "uint64_t"), ("kind", "int32_t"), ("message", "uint32_t"),
        ("max_count", "uint32_t"), ("reserved", "uint32_t"),
        ("candidate", "uint64_t"),
    ],
}

#: int (*ac_oracle_fn)(void *user, const uint64_t *coalitions, uint32_t words,
#:                     uint32_t count, double *values, int32_t *status)
ORACLE_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_uint64), c_uint32, c_uint32,
                      POINTER(c_double), POINTER(c_int32))
#: int (*ac_scorer_fn)(void *user, const uint32_t *messages, uint32_t count,
#:                     double *labels, int32_t *status)
SCORER_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_uint32), c_uint32,
                      POINTER(c_double), POINTER(c_int32))
#: int (*ac_verifier_fn)(void *user, const uint32_t *prefixes, uint32_t count,
#:                       double *p_on_track, int32_t *status)
VERIFIER_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_uint32), c_uint32,
                        POINTER(c_double), POINTER(c_int32))
#: int (*ac_repair_fn)(void *user, uint32_t step, uint32_t max_count,
#:                     uint64_t *candidates, uint32_t *count)
REPAIR_FN = CFUNCTYPE(c_int, c_void_p, c_uint32, c_uint32, POINTER(c_uint64),
                      POINTER(c_uint32))
#: int (*ac_candidate_fn)(void *user, uint32_t step, const uint64_t *candidates,
#:                        uint32_t count, double *p_on_track, int32_t *status)
CANDIDATE_FN = CFUNCTYPE(c_int, c_void_p, c_uint32, POINTER(c_uint64),
                         c_uint32, POINTER(c_double), POINTER(c_int32))


# --------------------------------------------------------------------------
# The function table: every symbol of lib/agentcredit.map, once.
# Opaque handles are c_void_p; enums (ac_*_param, ac_*_audit_key) are int.
# --------------------------------------------------------------------------

_h = c_void_p                   # an opaque handle (ac_estimator *, ...)
_hp = POINTER(c_void_p)         # ac_xxx **out
_i = c_int                      # int status, or an enum
_u32, _i32, _i64, _u64, _f64 = c_uint32, c_int32, c_int64, c_uint64, c_double
_u32p, _i32p = POINTER(c_uint32), POINTER(c_int32)
_i64p, _u64p, _f64p = POINTER(c_int64), POINTER(c_uint64), POINTER(c_double)
_alloc = POINTER(ac_allocator)
_limits = POINTER(ac_game_limits)
_str = c_char_p                 # const char * (static or handle-owned)
_buf = POINTER(c_char)          # char *err_buf

_FUNCTIONS = [
    # version, status
    ("ac_version_number", _u32, []),
    ("ac_version_string", _str, []),
    ("ac_abi_version", _u32, []),
    ("ac_strerror", _str, [_i]),
    ("ac_status_name", _str, [_i]),
    # coalitions, exact Shapley values
    ("ac_coalition_words", _u32, [_u32]),
    ("ac_shapley_exact", _i, [_u32, _f64p, _u64, _f64p]),
    ("ac_shapley_interactions_exact", _i,
     [_u32, _f64p, _u64, _f64p, c_size_t]),
    # estimator
    ("ac_estimator_create", _i, [_hp, _u32, _alloc]),
    ("ac_estimator_free", None, [_h]),
    ("ac_estimator_set_int", _i, [_h, _i, _i64]),
    ("ac_estimator_get_int", _i, [_h, _i, _i64p]),
    ("ac_estimator_set_f64", _i, [_h, _i, _f64]),
    ("ac_estimator_get_f64", _i, [_h, _i, _f64p]),
    ("ac_estimator_param_bounds_int", _i, [_i, _i64p, _i64p]),
    ("ac_estimator_param_bounds_f64", _i, [_i, _f64p, _f64p]),
    ("ac_estimator_reset", _i, [_h, _u32]),
    ("ac_estimator_set_value", _i, [_h, _u64p, _u32, _f64]),
    ("ac_estimator_set_oracle", _i, [_h, ORACLE_FN, c_void_p]),
    ("ac_estimator_run", _i, [_h]),
    ("ac_estimator_ask", _i, [_h, _u32, _u64p, _u64p, _u32p]),
    ("ac_estimator_tell", _i, [_h, _u32, _u64p, _f64p, _i32p]),
    ("ac_estimator_progress", _i, [_h, _i32p, _u64p]),
    ("ac_estimator_result", _i, [_h, _f64p, _f64p, _u32]),
    ("ac_estimator_interactions", _i, [_h, _f64p, _f64p, c_size_t]),
    ("ac_estimator_audit", _i, [_h, _i, _i64p]),
    ("ac_estimator_cancel", None, [_h]),
    ("ac_estimator_last_error", _str, [_h]),
    ("ac_estimator_plan", _i, [_u32, _i, _f64, _f64, _u32, _i64p, _f64p,
                               _buf, c_size_t]),
    # refiner
    ("ac_refiner_create", _i, [_hp, _u32, _u32, _alloc]),
    ("ac_refiner_free", None, [_h]),
    ("ac_refiner_set_int", _i, [_h, _i, _i64]),
    ("ac_refiner_get_int", _i, [_h, _i, _i64p]),
    ("ac_refiner_set_f64", _i, [_h, _i, _f64]),
    ("ac_refiner_get_f64", _i, [_h, _i, _f64p]),
    ("ac_refiner_param_bounds_int", _i, [_i, _i64p, _i64p]),
    ("ac_refiner_param_bounds_f64", _i, [_i, _f64p, _f64p]),
    ("ac_refiner_reset", _i, [_h, _u32]),
    ("ac_refiner_set_authors", _i, [_h, _u32p, _u32]),
    ("ac_refiner_set_credits", _i, [_h, _f64p, _u32]),
    ("ac_refiner_set_labels", _i, [_h, _f64p, _u32]),
    ("ac_refiner_fix_label", _i, [_h, _u32, _f64]),
    ("ac_refiner_set_texts", _i, [_h, POINTER(c_char_p), _u64p, _u32]),
    ("ac_refiner_agent_messages", _i, [_h, _u32, _u32p, _u32, _u32p]),
    ("ac_refiner_labels_from_shapley", _i, [_h, _u32, _f64p, _u32]),
    ("ac_refiner_set_scorer", _i, [_h, SCORER_FN, c_void_p]),
    ("ac_refiner_run", _i, [_h]),
    ("ac_refiner_ask", _i, [_h, _u32, _u64p, _u32p, _u32p]),
    ("ac_refiner_tell", _i, [_h, _u32, _u64p, _f64p, _i32p]),
    ("ac_refiner_progress", _i, [_h, _i32p, _u64p]),
    ("ac_refiner_cancel", None, [_h]),
    ("ac_refiner_rewards", _i, [_h, _f64p, _u32]),
    ("ac_refiner_labels", _i, [_h, _f64p, _u32]),
    ("ac_refiner_message_flags", _i, [_h, _u32p, _u32]),
    ("ac_refiner_agent_flags", _i, [_h, _u32p, _u32]),
    ("ac_refiner_audit", _i, [_h, _i, _i64p]),
    ("ac_refiner_last_error", _str, [_h]),
    # localizer
    ("ac_localizer_create", _i, [_hp, _u32, _alloc]),
    ("ac_localizer_free", None, [_h]),
    ("ac_localizer_set_int", _i, [_h, _i, _i64]),
    ("ac_localizer_get_int", _i, [_h, _i, _i64p]),
    ("ac_localizer_set_f64", _i, [_h, _i, _f64]),
    ("ac_localizer_get_f64", _i, [_h, _i, _f64p]),
    ("ac_localizer_param_bounds_int", _i, [_i, _i64p, _i64p]),
    ("ac_localizer_param_bounds_f64", _i, [_i, _f64p, _f64p]),
    ("ac_localizer_reset", _i, [_h, _u32]),
    ("ac_localizer_set_authors", _i, [_h, _u32p, _u32]),
    ("ac_localizer_set_prior", _i, [_h, _f64p, _u32]),
    ("ac_localizer_set_scores", _i, [_h, _f64p, _u32]),
    ("ac_localizer_set_verifier", _i, [_h, VERIFIER_FN, c_void_p]),
    ("ac_localizer_run", _i, [_h]),
    ("ac_localizer_ask", _i, [_h, _u32, _u64p, _u32p, _u32p]),
    ("ac_localizer_tell", _i, [_h, _u32, _u64p, _f64p, _i32p]),
    ("ac_localizer_progress", _i, [_h, _i32p, _u64p]),
    ("ac_localizer_result", _i, [_h, _i64p, _u32p, _f64p]),
    ("ac_localizer_probability_within", _i, [_h, _u32, _f64p]),
    ("ac_localizer_posterior", _i, [_h, _f64p, _u32]),
    ("ac_localizer_audit", _i, [_h, _i, _i64p]),
    ("ac_localizer_step_flags", _i, [_h, _u32p, _u32]),
    ("ac_localizer_blame_labels", _i, [_h, _f64p, _u32]),
    ("ac_localizer_cancel", None, [_h]),
    ("ac_localizer_last_error", _str, [_h]),
    ("ac_localizer_set_repair", _i, [_h, REPAIR_FN, CANDIDATE_FN, c_void_p]),
    ("ac_localizer_make_pair", _i, [_h, _u64, POINTER(ac_preference_pair)]),
    # reference games
    ("ac_game_limits_default", None, [_limits]),
    ("ac_game_load_json", _i, [_hp, c_char_p, c_size_t, _alloc, _limits,
                               _buf, c_size_t]),
    ("ac_game_load_file", _i, [_hp, c_char_p, _alloc, _limits, _buf,
                               c_size_t]),
    ("ac_game_load_json2", _i, [_hp, c_char_p, c_size_t, _alloc, _limits,
                                _u32, _buf, c_size_t, _buf, c_size_t]),
    ("ac_game_load_file2", _i, [_hp, c_char_p, _alloc, _limits, _u32, _buf,
                                c_size_t, _buf, c_size_t]),
    ("ac_game_free", None, [_h]),
    ("ac_game_last_error", _str, [_h]),
    ("ac_game_players", _i, [_h, _u32p]),
    ("ac_game_value", _i, [_h, _u64p, _u32, _f64p]),
    ("ac_game_seed", _i, [_h, _u64]),
    ("ac_game_exact", _i, [_h, _f64p, _u32]),
    ("ac_game_oracle", _i, [c_void_p, _u64p, _u32, _u32, _f64p, _i32p]),
    # episodes
    ("ac_episode_create", _i, [_hp, _alloc]),
    ("ac_episode_free", None, [_h]),
    ("ac_episode_last_error", _str, [_h]),
    ("ac_episode_add_participant", _i, [_h, c_char_p, _i32, _u32p]),
    ("ac_episode_add_message", _i, [_h, _u32, c_char_p, c_char_p, _u32p]),
    ("ac_episode_set_parent", _i, [_h, _u32, _u32]),
    ("ac_episode_set_token_span", _i, [_h, _u32, _u64, _u64]),
    ("ac_episode_set_tool_calls", _i, [_h, _u32, c_char_p, c_size_t]),
    ("ac_episode_set_tool_call_id", _i, [_h, _u32, c_char_p]),
    ("ac_episode_set_message_name", _i, [_h, _u32, c_char_p]),
    ("ac_episode_set_outcome", _i, [_h, _f64]),
    ("ac_episode_set_threshold", _i, [_h, _f64]),
    ("ac_episode_set_reference", _i, [_h, _f64]),
    ("ac_episode_set_baseline", _i, [_h, _f64]),
    ("ac_episode_clear_reference", None, [_h]),
    ("ac_episode_clear_baseline", None, [_h]),
    ("ac_episode_set_value", _i, [_h, _u64p, _u32, _f64]),
    ("ac_episode_set_label", _i, [_h, _u32, _f64]),
    ("ac_episode_set_first_error_label", _i, [_h, _u32]),
    ("ac_episode_set_id", _i, [_h, c_char_p]),
    ("ac_episode_id", _str, [_h]),
    ("ac_episode_counts", _i, [_h, _u32p, _u32p, _u32p]),
    ("ac_episode_participant", _i, [_h, _u32, POINTER(c_char_p), _i32p]),
    ("ac_episode_agent_of", _i, [_h, _u32, _u32p]),
    ("ac_episode_message", _i, [_h, _u32, _u32p, POINTER(c_char_p),
                                POINTER(c_char_p)]),
    ("ac_episode_message_links", _i, [_h, _u32, _u32p, _u64p, _u64p]),
    ("ac_episode_message_tools", _i, [_h, _u32, POINTER(c_char_p),
                                      POINTER(c_char_p), POINTER(c_char_p)]),
    ("ac_episode_get_f64", _i, [_h, _i32, _f64p, POINTER(c_int)]),
    ("ac_episode_labels", _i, [_h, _f64p, _u32]),
    ("ac_episode_first_error_label", _i, [_h, _u32p]),
    ("ac_episode_known_count", _i, [_h, _u32p]),
    ("ac_episode_known_value", _i, [_h, _u32, _u64p, _u32, _f64p]),
    # the pipeline
    ("ac_pipeline_create", _i, [_hp, _alloc]),
    ("ac_pipeline_free", None, [_h]),
    ("ac_pipeline_set_int", _i, [_h, _i32, _i64]),
    ("ac_pipeline_get_int", _i, [_h, _i32, _i64p]),
    ("ac_pipeline_set_f64", _i, [_h, _i32, _f64]),
    ("ac_pipeline_get_f64", _i, [_h, _i32, _f64p]),
    ("ac_pipeline_set_oracle", _i, [_h, ORACLE_FN, c_void_p]),
    ("ac_pipeline_set_verifier", _i, [_h, VERIFIER_FN, c_void_p]),
    ("ac_pipeline_set_scorer", _i, [_h, SCORER_FN, c_void_p]),
    ("ac_pipeline_set_repair", _i, [_h, REPAIR_FN, CANDIDATE_FN, c_void_p]),
    ("ac_pipeline_run", _i, [_h, _h]),
    ("ac_pipeline_cancel", None, [_h]),
    ("ac_pipeline_start", _i, [_h, _h, _u32]),
    ("ac_pipeline_ask", _i, [_h, _u32, POINTER(ac_work), _u64p, _u32, _u32p]),
    ("ac_pipeline_tell", _i, [_h, _u32, _u64p, _f64p, _i32p]),
    ("ac_pipeline_tell_repair", _i, [_h, _u64, _u64p, _u32]),
    ("ac_pipeline_progress", _i, [_h, _i32p, _u64p]),
    ("ac_pipeline_credits", _i, [_h, _f64p, _f64p, _u32]),
    ("ac_pipeline_interactions", _i, [_h, _f64p, _f64p, c_size_t]),
    ("ac_pipeline_total", _i, [_h, _f64p, _f64p]),
    ("ac_pipeline_rewards", _i, [_h, _f64p, _u32]),
    ("ac_pipeline_labels", _i, [_h, _f64p, _u32]),
    ("ac_pipeline_message_flags", _i, [_h, _u32p, _u32]),
    ("ac_pipeline_step_flags", _i, [_h, _u32p, _u32]),
    ("ac_pipeline_agent_flags", _i, [_h, _u32p, _u32]),
    ("ac_pipeline_first_error", _i, [_h, _i64p, _u32p, _f64p]),
    ("ac_pipeline_pair", _i, [_h, POINTER(ac_preference_pair)]),
    ("ac_pipeline_audit", _i, [_h, _i32, _i64p]),
    ("ac_pipeline_last_error", _str, [_h]),
    # episodes and signals as JSON
    ("ac_json_limits_default", None, [POINTER(ac_json_limits)]),
    ("ac_episode_load_json", _i, [_hp, c_char_p, c_size_t, _alloc,
                                  POINTER(ac_json_limits), _u32, _buf,
                                  c_size_t, _buf, c_size_t]),
    ("ac_episode_write_json", _i, [_h, _buf, c_size_t, POINTER(c_size_t)]),
    ("ac_pipeline_write_json", _i, [_h, _h, _buf, c_size_t,
                                    POINTER(c_size_t)]),
    # the signals of one episode as data
    ("ac_pipeline_signals", _i, [_h, _h, _alloc, _hp]),
    ("ac_signals_load_json", _i, [_hp, c_char_p, c_size_t, _alloc,
                                  POINTER(ac_json_limits), _u32, _buf,
                                  c_size_t, _buf, c_size_t]),
    ("ac_signals_write_json", _i, [_h, _buf, c_size_t, POINTER(c_size_t)]),
    ("ac_signals_free", None, [_h]),
    ("ac_signals_matches", _i, [_h, _h, _buf, c_size_t]),
    ("ac_signals_counts", _i, [_h, _u32p, _u32p]),
    ("ac_signals_id", _str, [_h]),
    ("ac_signals_agent_name", _str, [_h, _u32]),
    ("ac_signals_message_from", _i, [_h, _u32, POINTER(c_char_p), _u32p]),
    ("ac_signals_outcome", _i, [_h, _f64p, _f64p]),
    ("ac_signals_credits", _i, [_h, _f64p, _f64p, _u32]),
    ("ac_signals_interactions", _i, [_h, _f64p, _f64p, c_size_t]),
    ("ac_signals_total", _i, [_h, _f64p, _f64p]),
    ("ac_signals_rewards", _i, [_h, _f64p, _u32]),
    ("ac_signals_labels", _i, [_h, _f64p, _u32]),
    ("ac_signals_message_flags", _i, [_h, _u32p, _u32]),
    ("ac_signals_step_flags", _i, [_h, _u32p, _u32]),
    ("ac_signals_agent_flags", _i, [_h, _u32p, _u32]),
    ("ac_signals_first_error", _i, [_h, _i64p, _u32p, _f64p]),
    ("ac_signals_pair", _i, [_h, POINTER(ac_preference_pair)]),
    ("ac_signals_audit", _i, [_h, _i32, _i64p]),
    # trainer exports
    ("ac_export_format_from_name", _i32, [c_char_p]),
    ("ac_export_format_name", _str, [_i32]),
    ("ac_export_skip_name", _str, [_i32]),
    ("ac_export_create", _i, [_hp, _i32, _alloc]),
    ("ac_export_free", None, [_h]),
    ("ac_export_last_error", _str, [_h]),
    ("ac_export_format_of", _i32, [_h]),
    ("ac_export_set_int", _i, [_h, _i32, _i64]),
    ("ac_export_get_int", _i, [_h, _i32, _i64p]),
    ("ac_export_set_f64", _i, [_h, _i32, _f64]),
    ("ac_export_get_f64", _i, [_h, _i32, _f64p]),
    ("ac_export_set_str", _i, [_h, _i32, c_char_p]),
    ("ac_export_get_str", _i, [_h, _i32, POINTER(c_char_p)]),
    ("ac_export_set_agents", _i, [_h, POINTER(c_char_p), _u32]),
    ("ac_export_load_candidates", _i, [_h, c_char_p, c_size_t,
                                       POINTER(ac_json_limits)]),
    ("ac_export_episode", _i, [_h, _h, _h]),
    ("ac_export_text", _i, [_h, POINTER(c_char_p), POINTER(c_size_t),
                            _u32p]),
    ("ac_export_skip_count", _i, [_h, _u32p]),
    ("ac_export_skip", _i, [_h, _u32, _i32p, _i64p, POINTER(c_char_p)]),
]


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

class LibraryNotFoundError(ImportError):
    """No usable libagentcredit.so.1 was found.

    ``attempts`` is a list of ``(where, spec, why)`` tuples, one per place
    tried, in order; the message lists them too."""

    def __init__(self, message: str,
                 attempts: Iterable[Tuple[str, Optional[str], str]] = ()
                 ) -> None:
        super().__init__(message)
        self.attempts = list(attempts)


class AbiMismatchError(LibraryNotFoundError):
    """A libagentcredit was found, but its ``ac_abi_version()`` is not the
    ABI this package was written for."""


class _Rejected(Exception):
    def __init__(self, why, abi_mismatch=False):
        super().__init__(why)
        self.abi_mismatch = abi_mismatch


class InstalledDirs(NamedTuple):
    """Where ``meson install`` put the library and the CLI."""

    libdir: pathlib.Path
    bindir: pathlib.Path


def installed_dirs(package_dir: pathlib.Path = PACKAGE_DIR
                   ) -> Optional[InstalledDirs]:
    """The install prefix's libdir and bindir when ``meson install``
    installed this package (it generates ``_paths.py``), else None.

    ``_paths`` records absolute paths as configured; they are taken relative
    to the package's recorded directory, so that a package staged under a
    DESTDIR, or a prefix moved as a whole, still finds its own library."""
    try:
        from . import _paths  # type: ignore  # written by meson install
    except ImportError:
        return None

    def relocated(path: str) -> pathlib.Path:
        return pathlib.Path(os.path.normpath(
            package_dir / os.path.relpath(path, _paths.PACKAGE_DIR)))

    return InstalledDirs(relocated(_paths.LIBDIR), relocated(_paths.BINDIR))


def source_build(package_dir: pathlib.Path = PACKAGE_DIR
                 ) -> Optional[pathlib.Path]:
    """``<checkout>/build`` when this package is ``bindings/python/agentcredit``
    of a source tree (the header beside it says so), else None."""
    root = package_dir.parent.parent.parent
    if (package_dir.parent.parent.name == "bindings"
            and (root / "include" / "agentcredit.h").is_file()):
        return root / "build"
    return None


def _candidates(environ=None, package_dir=None):
    """Yields ``(where, spec)``: the places to try, in order. ``spec`` is a
    path, or a bare name for the system loader; None when a step has
    nothing to offer (the reason is then in ``where``)."""
    environ = os.environ if environ is None else environ
    package_dir = PACKAGE_DIR if package_dir is None else package_dir
    env = environ.get(ENV_VAR, "")
    if env:
        p = pathlib.Path(env)
        if p.is_dir():
            yield ("$%s (a directory)" % ENV_VAR, str(p / SONAME))
        else:
            yield ("$%s" % ENV_VAR, str(p))
    package_dir = pathlib.Path(package_dir)
    yield ("next to the package", str(package_dir / SONAME))
    installed = installed_dirs(package_dir)
    if installed is not None:
        yield ("the install prefix (meson install)",
               str(installed.libdir / SONAME))
    build = source_build(package_dir)
    if build is not None:
        yield ("the source tree's build", str(build / "lib" / SONAME))
    yield ("system loader", SONAME)
    found = ctypes.util.find_library("agentcredit")
    yield ("ctypes.util.find_library('agentcredit')", found)


def _declare(cdll, expected_abi):
    """Checks the ABI and declares every function of the table on cdll."""
    try:
        abi_fn = cdll.ac_abi_version
    except AttributeError:
        raise _Rejected("not libagentcredit: it does not export "
                        "ac_abi_version")
    abi_fn.restype, abi_fn.argtypes = c_uint32, []
    abi = abi_fn()
    if abi != expected_abi:
        raise _Rejected(
            "its ABI is %d (ac_abi_version()), but this package was written "
            "for ABI %d: install the libagentcredit.so.%d this package "
            "belongs to, or the agentcredit package that matches the library"
            % (abi, expected_abi, expected_abi), abi_mismatch=True)
    missing = []
    for name, restype, argtypes in _FUNCTIONS:
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise _Rejected("it lacks %d exported function(s) this package needs "
                        "(%s): an older or a different build"
                        % (len(missing), ", ".join(missing)))


def load(candidates=None, expected_abi=ABI_VERSION):
    """Loads the library from the first candidate that works.

    Returns ``(cdll, where, spec)``. Raises LibraryNotFoundError listing every
    attempt (AbiMismatchError when the only libraries found had another
    ABI)."""
    attempts = []
    env_failed = False
    abi_mismatch = False
    for where, spec in (_candidates() if candidates is None else candidates):
        if spec is None:
            attempts.append((where, None, "found nothing"))
            continue
        is_path = os.sep in spec
        if is_path and not os.path.exists(spec):
            why = "no such file"
        else:
            try:
                cdll = ctypes.CDLL(spec)
            except OSError as exc:
                why = "cannot load it: %s" % (exc,)
            else:
                try:
                    _declare(cdll, expected_abi)
                except _Rejected as exc:
                    why = str(exc)
                    abi_mismatch = abi_mismatch or exc.abi_mismatch
                else:
                    if env_failed:
                        warnings.warn(
                            "agentcredit: $%s did not give a usable library "
                            "(%s); using %s (%s) instead"
                            % (ENV_VAR, attempts[0][2], spec, where),
                            RuntimeWarning, stacklevel=3)
                    return cdll, where, spec
        if where.startswith("$" + ENV_VAR):
            env_failed = True
        attempts.append((where, spec, why))
    lines = ["cannot load %s (ABI %d); tried, in order:" % (SONAME,
                                                           expected_abi)]
    for i, (where, spec, why) in enumerate(attempts, 1):
        lines.append("  %d. %s: %s: %s" % (i, where, spec if spec else "-",
                                           why))
    if not any(w.startswith("$" + ENV_VAR) for w, _, _ in attempts):
        lines.append("set %s to the library file (or its directory), e.g. "
                     "build/lib/%s after building with meson, or install "
                     "the package from a built tree with pip (docs/python.md, "
                     "Installation)" % (ENV_VAR, SONAME))
    cls = AbiMismatchError if abi_mismatch else LibraryNotFoundError
    raise cls("\n".join(lines), attempts)


lib, LIBRARY_WHERE, LIBRARY_PATH = load()


def decode(s):
    """A C string (bytes or None) as str."""
    return "" if s is None else s.decode("utf-8", "replace")
