"""Inputs from lists, tuples, iterables, array.array, memoryviews over
bytearrays, numpy arrays (skipped without numpy); outputs as lists or numpy
arrays; coalitions as ints or index iterables, up to 65536 players."""

import array
import math
import struct
import unittest

from support import HAVE_NUMPY, agentcredit

from agentcredit import Estimator, InvalidArgument, Localizer, Refiner

if HAVE_NUMPY:
    import numpy as np

AUTHORS = [0, 1, 0, 1]
CREDITS = [0.5, -0.25]
LABELS = [0.5, -1.0, 1.0, 0.25]


def refine(authors, credits, labels):
    with Refiner(2, 4, authors=authors, credits=credits,
                 labels=labels) as ref:
        return ref.run()


WANT = refine(AUTHORS, CREDITS, LABELS)


def bytearray_view(values, fmt):
    buf = bytearray(struct.calcsize(fmt) * len(values))
    m = memoryview(buf).cast(fmt)
    for k, v in enumerate(values):
        m[k] = v
    return m


class Inputs(unittest.TestCase):
    def test_sequences_and_iterables(self):
        self.assertEqual(refine(tuple(AUTHORS), tuple(CREDITS),
                                tuple(LABELS)), WANT)
        self.assertEqual(refine(iter(AUTHORS), (c for c in CREDITS),
                                map(float, LABELS)), WANT)
        self.assertEqual(refine(AUTHORS, CREDITS, [0.5, -1, 1, 0.25]),
                         WANT)                          # ints as floats
        self.assertEqual(refine(AUTHORS, CREDITS, [0.5, -1, True, 0.25]),
                         WANT)

    def test_array_array(self):
        self.assertEqual(refine(array.array("I", AUTHORS),
                                array.array("d", CREDITS),
                                array.array("d", LABELS)), WANT)
        # other widths are converted
        self.assertEqual(refine(array.array("b", AUTHORS),
                                array.array("f", CREDITS),
                                array.array("f", LABELS)), WANT)

    def test_bytearray_memoryview(self):
        self.assertEqual(refine(bytearray_view(AUTHORS, "I"),
                                bytearray_view(CREDITS, "d"),
                                bytearray_view(LABELS, "d")), WANT)
        # a strided view is copied element by element
        wide = bytearray_view([x for v in LABELS for x in (v, 99.0)], "d")
        self.assertEqual(refine(AUTHORS, CREDITS, wide[::2]), WANT)
        # a bytearray is read as bytes (format 'B'): small ints
        self.assertEqual(refine(bytearray(AUTHORS), CREDITS, LABELS), WANT)

    def test_rejected_inputs(self):
        with self.assertRaises(TypeError):
            refine(AUTHORS, CREDITS, "0.5 -1 1 0.25")
        with self.assertRaises(TypeError):
            refine(AUTHORS, CREDITS, [0.5, None, 1.0, 0.25])
        with self.assertRaises(TypeError):
            refine(AUTHORS, CREDITS, 0.5)
        with self.assertRaises(InvalidArgument):
            refine([0, -1, 0, 1], CREDITS, LABELS)   # not a uint32
        with self.assertRaises(TypeError):
            refine([0.0, 1.0, 0.0, 1.0], CREDITS, LABELS)
        grid = memoryview(bytearray(8 * 4)).cast("d", shape=[2, 2])
        with self.assertRaises(InvalidArgument):
            refine(AUTHORS, CREDITS, grid)
        with self.assertRaises(TypeError):
            refine(AUTHORS, CREDITS, memoryview(b"abcd").cast("c"))

    @unittest.skipUnless(HAVE_NUMPY, "numpy is not installed")
    def test_numpy(self):
        self.assertEqual(refine(np.array(AUTHORS, dtype=np.uint32),
                                np.array(CREDITS), np.array(LABELS)), WANT)
        # other dtypes, strides and byte orders are converted
        self.assertEqual(refine(np.array(AUTHORS, dtype=np.int64),
                                np.array(CREDITS, dtype=np.float32),
                                np.repeat(LABELS, 2)[::2]), WANT)
        self.assertEqual(refine(np.array(AUTHORS, dtype=">u4"),
                                np.array(CREDITS, dtype=">f8"),
                                np.array(LABELS, dtype=">f8")), WANT)
        self.assertEqual(agentcredit.shapley_exact(np.array([0.0, 1, 1, 3])),
                         [1.5, 1.5])
        with self.assertRaises(InvalidArgument):
            refine(AUTHORS, CREDITS, np.zeros((2, 2)))
        # numpy scalars as coalitions and values
        est = Estimator(3)
        est.set_value(np.int64(7), np.float64(1.0))
        phi, _ = est.run(lambda cs: np.array([float(c) for c in cs]))
        self.assertAlmostEqual(math.fsum(phi), 1.0, delta=1e-12)


class Outputs(unittest.TestCase):
    def test_lists_by_default(self):
        res = Estimator(2).run(lambda cs: [float(c) for c in cs])
        self.assertIsInstance(res.phi, list)
        self.assertIsInstance(res.se, list)
        self.assertIsInstance(WANT, list)

    @unittest.skipUnless(HAVE_NUMPY, "numpy is not installed")
    def test_numpy_on_request(self):
        res = Estimator(2).run(lambda cs: [float(c) for c in cs],
                               as_numpy=True)
        self.assertIsInstance(res.phi, np.ndarray)
        self.assertEqual(res.phi.dtype, np.float64)
        self.assertEqual(res.phi.tolist(), [1.0, 2.0])
        ref = Refiner(2, 4, authors=AUTHORS, credits=CREDITS, labels=LABELS)
        self.assertEqual(ref.run(as_numpy=True).tolist(), WANT)
        loc = Localizer(4)
        loc.run(lambda ps: [1.0 if p < 2 else 0.0 for p in ps])
        self.assertEqual(loc.posterior(as_numpy=True).shape, (5,))
        self.assertEqual(loc.blame_labels(as_numpy=True).shape, (4,))
        self.assertEqual(agentcredit.shapley_exact([0, 1, 1, 3],
                                                   as_numpy=True).tolist(),
                         [1.5, 1.5])

    @unittest.skipIf(HAVE_NUMPY, "numpy is installed")
    def test_numpy_missing_is_a_clear_error(self):
        with self.assertRaises(ImportError) as cm:
            agentcredit.shapley_exact([0, 1, 1, 3], as_numpy=True)
        self.assertIn("as_numpy=True needs numpy", str(cm.exception))


class Coalitions(unittest.TestCase):
    def test_forms(self):
        est = Estimator(5)
        for form in (0b10110, [1, 2, 4], (4, 2, 1), {1, 2, 4},
                     frozenset([1, 2, 4]), [1, 4, 2],
                     iter([1, 2, 4]), [4, 4, 2, 1]):
            self.assertEqual(est.coalition(form), 0b10110)
        self.assertEqual(est.coalition([]), 0)
        self.assertEqual(est.grand_coalition, 31)
        for bad, exc in ((32, InvalidArgument), (-1, InvalidArgument),
                         ([5], InvalidArgument), ([-1], InvalidArgument),
                         (True, TypeError), ("01", TypeError),
                         (1.0, TypeError), ([1.5], TypeError)):
            with self.subTest(bad=bad):
                with self.assertRaises(exc):
                    est.coalition(bad)

    def test_multiword_round_trip(self):
        n = 130                             # three words
        est = Estimator(n, method="permutation", budget=2 * n + 4, seed=3)
        self.assertEqual(est.words, 3)
        full = (1 << n) - 1
        est.set_value(full, 1.0)
        est.set_value([], 0.0)
        seen = []
        while True:
            batch = est.ask(50)
            if not batch:
                break
            for _, c in batch:
                self.assertTrue(0 <= c <= full)
            seen += [c for _, c in batch]
            est.tell([t for t, _ in batch], [float(c >> 129 & 1)
                                             for _, c in batch])
        phi, _ = est.result()
        self.assertEqual(phi[129], 1.0)
        self.assertEqual(sum(abs(p) for p in phi[:129]), 0.0)
        self.assertTrue(any(c >> 128 for c in seen))

    def test_largest_game(self):
        n = agentcredit.MAX_PLAYERS
        with Estimator(n) as est:
            top = 1 << (n - 1)
            est.set_value(top, 2.0)
            est.set_value(est.grand_coalition, 3.0)
            est.set_value([0, n - 1], 1.0)
            with self.assertRaises(InvalidArgument):
                est.set_value(1 << n, 1.0)


if __name__ == "__main__":
    unittest.main()
