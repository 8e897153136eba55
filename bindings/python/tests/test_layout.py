"""The two structures against the C layout: offsets computed here from the
header's field types and the C alignment rules, sizes checked by the library
itself (it requires struct_size == sizeof), and an allocator that routes a
handle's memory through Python."""

import ctypes
import unittest

from support import agentcredit

from agentcredit import _lib

# size and alignment of the header's field types on this platform (the
# primitive types only: the structure layout is computed below, by the C
# rules, not taken from ctypes' Structure)
_PRIM = {
    "uint32_t": ctypes.c_uint32, "int32_t": ctypes.c_int32,
    "uint64_t": ctypes.c_uint64, "double": ctypes.c_double,
    "void*": ctypes.c_void_p, "fnptr": ctypes.c_void_p,
}


def c_layout(fields):
    """[(name, offset)], size of a C struct: each member at the next offset
    that is a multiple of its alignment; the size rounded up to the largest
    alignment."""
    offset, max_align, out = 0, 1, []
    for name, ctype in fields:
        size = ctypes.sizeof(_PRIM[ctype])
        align = ctypes.alignment(_PRIM[ctype])
        offset = (offset + align - 1) // align * align
        out.append((name, offset))
        offset += size
        max_align = max(max_align, align)
    return out, (offset + max_align - 1) // max_align * max_align


class Layout(unittest.TestCase):
    def check(self, struct, cname):
        fields = _lib.C_FIELD_TYPES[cname]
        self.assertEqual([f[0] for f in struct._fields_],
                         [f[0] for f in fields])
        offsets, size = c_layout(fields)
        for name, off in offsets:
            self.assertEqual(getattr(struct, name).offset, off,
                             "%s.%s" % (cname, name))
        self.assertEqual(ctypes.sizeof(struct), size)
        return size

    def test_allocator_layout(self):
        size = self.check(_lib.ac_allocator, "ac_allocator")
        if ctypes.sizeof(ctypes.c_void_p) == 8:
            self.assertEqual(size, 32)

    def test_preference_pair_layout(self):
        size = self.check(_lib.ac_preference_pair, "ac_preference_pair")
        if ctypes.alignment(ctypes.c_uint64) == 8:
            self.assertEqual(size, 80)

    def test_work_layout(self):
        size = self.check(_lib.ac_work, "ac_work")
        if ctypes.alignment(ctypes.c_uint64) == 8:
            self.assertEqual(size, 32)

    def test_library_accepts_this_pair_size_or_a_larger_one(self):
        loc = agentcredit.Localizer(4)
        loc.run(lambda ps: [1.0 if p < 2 else 0.0 for p in ps])
        with loc._use("test") as ptr:
            for delta, ok in ((0, True), (-8, False), (8, True)):
                pair = _lib.ac_preference_pair()
                pair.struct_size = ctypes.sizeof(pair) + delta
                rc = _lib.lib.ac_localizer_make_pair(ptr, 7,
                                                     ctypes.byref(pair))
                self.assertEqual(rc == 0, ok, (delta, rc))
                if ok:
                    self.assertEqual((pair.episode, pair.step), (7, 2))

    def test_library_accepts_exactly_this_allocator_size(self):
        libc = ctypes.CDLL(None)
        malloc, free = libc.malloc, libc.free
        malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
        free.restype, free.argtypes = None, [ctypes.c_void_p]
        alloc_fn = _lib.ALLOC_FN(lambda opaque, size: malloc(size))
        free_fn = _lib.FREE_FN(lambda opaque, p: free(p))
        for delta, ok in ((0, True), (-8, False), (8, False)):
            a = _lib.ac_allocator(ctypes.sizeof(_lib.ac_allocator) + delta, 0,
                                  alloc_fn, free_fn, None)
            out = ctypes.c_void_p()
            rc = _lib.lib.ac_estimator_create(ctypes.byref(out), 3,
                                              ctypes.byref(a))
            self.assertEqual(rc == 0, ok, (delta, rc))
            _lib.lib.ac_estimator_free(out)


class AllocatorTest(unittest.TestCase):
    def setUp(self):
        libc = ctypes.CDLL(None)
        self.malloc = libc.malloc
        self.malloc.restype, self.malloc.argtypes = (ctypes.c_void_p,
                                                     [ctypes.c_size_t])
        self.free = libc.free
        self.free.restype, self.free.argtypes = None, [ctypes.c_void_p]
        self.live = {}
        self.allocs = 0

    def alloc_fn(self, size):
        self.allocs += 1
        p = self.malloc(size)
        self.live[p] = size
        return p

    def free_fn(self, p):
        del self.live[p]
        self.free(p)

    def test_python_allocator_sees_every_allocation(self):
        alloc = agentcredit.Allocator(self.alloc_fn, self.free_fn)
        est = agentcredit.Estimator(6, method="kernelshap", budget=100,
                                    allocator=alloc)
        phi, _ = est.run(lambda cs: [float(bin(c).count("1")) for c in cs])
        self.assertGreater(self.allocs, 0)
        self.assertTrue(self.live)
        est.close()
        self.assertEqual(self.live, {}, "memory not given back")
        self.assertEqual(alloc.errors, [])
        for p in phi:
            self.assertAlmostEqual(p, 1.0, places=9)

    def test_every_handle_takes_an_allocator(self):
        alloc = agentcredit.Allocator(self.alloc_fn, self.free_fn)
        handles = [agentcredit.Refiner(2, 3, allocator=alloc),
                   agentcredit.Localizer(5, allocator=alloc),
                   agentcredit.Game({"n": 2, "values": [0, 1, 1, 3]},
                                    allocator=alloc)]
        self.assertEqual(handles[2].exact(), [1.5, 1.5])
        del handles
        import gc
        gc.collect()
        self.assertEqual(self.live, {})

    def test_freed_when_unreachable_even_without_gc(self):
        # the callbacks a handle gives C hold no reference to the handle:
        # dropping the last reference frees it at once, no cycle collector
        import gc
        alloc = agentcredit.Allocator(self.alloc_fn, self.free_fn)
        gc.disable()
        try:
            est = agentcredit.Estimator(4, allocator=alloc,
                                        oracle=lambda cs: [0.0] * len(cs))
            loc = agentcredit.Localizer(4, allocator=alloc,
                                        verifier=lambda ps: [1.0] * len(ps))
            loc.set_repair(lambda s, m: [], lambda s, ids: [])
            ref = agentcredit.Refiner(1, 2, allocator=alloc)
            ref.set_scorer(lambda ms: [0.0] * len(ms))
            est.run()
            loc.run()
            self.assertTrue(self.live)
            del est, loc, ref
            self.assertEqual(self.live, {})
        finally:
            gc.enable()

    def test_c_function_as_alloc(self):
        # realloc(opaque = NULL, size) is malloc(size): a C function with
        # alloc's signature, called without Python in between
        realloc = ctypes.CDLL(None).realloc
        freed = []
        alloc = agentcredit.Allocator(realloc,
                                      lambda p: (freed.append(p),
                                                 self.free(p)))
        with agentcredit.Estimator(3, allocator=alloc) as est:
            est.run(lambda cs: [0.0] * len(cs))
        self.assertTrue(freed)
        self.assertEqual(alloc.errors, [])

    def test_failing_allocator_is_no_memory(self):
        alloc = agentcredit.Allocator(lambda size: 0, self.free_fn)
        with self.assertRaises(agentcredit.NoMemory) as cm:
            agentcredit.Estimator(3, allocator=alloc)
        self.assertIsInstance(cm.exception, MemoryError)

    def test_raising_allocator_is_no_memory_and_kept(self):
        def boom(size):
            raise RuntimeError("arena full")
        alloc = agentcredit.Allocator(boom, self.free_fn)
        with self.assertRaises(agentcredit.NoMemory):
            agentcredit.Localizer(3, allocator=alloc)
        self.assertIsInstance(alloc.errors[0], RuntimeError)

    def test_bad_allocator_type(self):
        with self.assertRaises(TypeError):
            agentcredit.Estimator(3, allocator=object())


if __name__ == "__main__":
    unittest.main()
