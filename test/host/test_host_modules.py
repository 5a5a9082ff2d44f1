"""Small modules of the host package the inspectors and the integrity checks share (resources/host/ptw_host/):
safetensors header framing, the HF cache lookup, the diff's range sums and engines, the dataset line counter.

Run by test/unit/host/python-unittest.test.ts with the machine's python3."""

import io
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "resources", "host"))
from ptw_host import hf_cache, safetensors  # noqa: E402
from ptw_host.checkpoints import checkpoint_files, diff, engine_numpy, work_size  # noqa: E402
from ptw_host.checkpoints.range_sums import RangeSums  # noqa: E402
from ptw_host.datasets import line_count  # noqa: E402
from ptw_host.integrity import substitution  # noqa: E402
from ptw_host.integrity.files import Skip  # noqa: E402


def write_safetensors(path, tensors):
    """tensors: {name: (dtype, shape, raw bytes)}"""
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + data)


class Workdir(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ptw-host-modules-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def file(self, name, data):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        return path


class SafetensorsHeaderTest(Workdir):
    def test_each_framing_problem_has_its_kind_and_each_reader_its_words(self):
        cases = {
            "short": b"\x01\x02",
            "past-end": struct.pack("<Q", 1000) + b"{}",
            "not-json": struct.pack("<Q", 2) + b"{x",
            "not-object": struct.pack("<Q", 2) + b"[]",
        }
        for kind, data in cases.items():
            path = self.file(kind + ".safetensors", data)
            with self.assertRaises(safetensors.HeaderError) as caught:
                safetensors.read_raw_header(path)
            self.assertEqual(caught.exception.kind, kind)
            # The inspector names the path as the app's own reader does; the integrity checks the file and why.
            with self.assertRaises(checkpoint_files.InspectError) as strict:
                checkpoint_files.read_header(path)
            self.assertTrue(str(strict.exception).startswith(path + ": "))
            with self.assertRaises(Skip) as lenient:
                substitution.read_header(path)
            self.assertTrue(str(lenient.exception).startswith(kind + ".safetensors: "))

    def test_a_good_header_with_its_data_start(self):
        path = os.path.join(self.dir, "ok.safetensors")
        write_safetensors(path, {"w": ("F32", [2], struct.pack("<2f", 1.0, 2.0))})
        header, length, size = safetensors.read_raw_header(path)
        self.assertEqual(header["w"]["dtype"], "F32")
        self.assertEqual(size, 8 + length + 8)
        tensors, _meta, start, _size = checkpoint_files.read_header(path)
        self.assertEqual((tensors["w"][2], start), (0, 8 + length))
        self.assertEqual(substitution.read_header(path)["w"][3], 8 + length)


class HfCacheTest(Workdir):
    def test_refs_main_first_else_the_newest_snapshot_under_the_cache_or_its_hub(self):
        repo = os.path.join(self.dir, "hub", hf_cache.repo_folder("model", "org/m"))
        old = os.path.join(repo, "snapshots", "a" * 40)
        new = os.path.join(repo, "snapshots", "b" * 40)
        os.makedirs(old)
        os.makedirs(new)
        past = time.time() - 100
        os.utime(old, (past, past))
        self.assertEqual(hf_cache.snapshot("org/m", [self.dir])[0], new)
        os.makedirs(os.path.join(repo, "refs"))
        with open(os.path.join(repo, "refs", "main"), "w") as handle:
            handle.write("a" * 40)
        self.assertEqual(hf_cache.snapshot("org/m", [self.dir])[0], old)
        found, tried = hf_cache.snapshot("org/other", [self.dir])
        self.assertIsNone(found)
        self.assertEqual(tried, hf_cache.candidates(self.dir, "model", "org/other"))
        self.assertEqual(hf_cache.repo_folder("dataset", "org/d"), "datasets--org--d")


class RangeSumsTest(unittest.TestCase):
    def test_identical_chunks_count_for_both_sides_and_norm_mode_is_the_same(self):
        sums = RangeSums()
        sums.same = False
        sums.a2.append(1.0)
        sums.b2.append(4.0)
        sums.d2.append(1.0)
        sums.max_abs = 1.0
        sums.changed = 1
        sums.add_identical(9.0)
        self.assertEqual(sums.result("compare"), (False, 10.0, 13.0, 1.0, 1.0, 1))
        self.assertEqual(sums.result("norm"), (True, 10.0, 10.0, 0.0, 0.0, 0))


class DiffEnginesTest(Workdir):
    def diff_lines(self, engine):
        out = io.StringIO()
        diff.diff(os.path.join(self.dir, "a"), os.path.join(self.dir, "b"), diff.Emitter(out), 1, engine)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        return {line["name"]: line for line in lines if line["type"] == "tensor"}

    def test_both_engines_give_the_same_sums_over_identical_and_changed_ranges(self):
        n = 64
        a = struct.pack("<%df" % n, *[i / 7.0 for i in range(n)])
        b = bytearray(a)
        b[4 * 40 : 4 * 41] = struct.pack("<f", 100.0)
        for side, weights in (("a", a), ("b", bytes(b))):
            os.makedirs(os.path.join(self.dir, side))
            write_safetensors(os.path.join(self.dir, side, "model.safetensors"), {"w": ("F32", [n], weights), "same": ("F32", [2], a[:8])})
        saved = (work_size.TASK_BYTES, work_size.CHUNK_ELEMENTS)
        work_size.TASK_BYTES, work_size.CHUNK_ELEMENTS = 64, 4  # identical and changed ranges within one tensor
        try:
            python = self.diff_lines("python")
            try:
                engine_numpy.choose_engine("numpy")
            except checkpoint_files.InspectError:
                numpy = None
            else:
                numpy = self.diff_lines("numpy")
        finally:
            work_size.TASK_BYTES, work_size.CHUNK_ELEMENTS = saved
        w = python["w"]
        self.assertEqual((w["same"], w["changedElements"]), (False, 1))
        self.assertAlmostEqual(w["a2"], sum((i / 7.0) ** 2 for i in range(n)), places=3)
        self.assertAlmostEqual(w["maxAbs"], 100.0 - struct.unpack("<f", struct.pack("<f", 40 / 7.0))[0], places=4)
        self.assertTrue(python["same"]["same"])
        if numpy is not None:
            # The same sums, added in another order: equal to the last few bits.
            for name, line in python.items():
                for key, value in line.items():
                    if isinstance(value, float):
                        self.assertAlmostEqual(numpy[name][key], value, delta=abs(value) * 1e-12, msg=(name, key))
                    else:
                        self.assertEqual(numpy[name][key], value, (name, key))


class LineCountTest(unittest.TestCase):
    def test_a_chunk_counts_rows_blank_lines_and_checkpoints_and_says_where_it_stopped(self):
        data = b'{"a":1}\n\n  \n{"b":2}\n{"c":3}'
        f = io.BytesIO(data)
        found, lines, rows, end, tail = line_count.count_chunk(f, 0, 1 << 20, 0)
        self.assertEqual((lines, rows, end, tail), (4, 2, data.rfind(b"\n") + 1, True))
        self.assertEqual(found, [(0, 0, 0)])
        self.assertIsNone(line_count.count_chunk(f, len(data), 1 << 20, 0))


if __name__ == "__main__":
    unittest.main()
