"""The caches step's downloader against a fake hub: layout, progress, resume after a cut, disk refusal."""

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fake_hub import FakeHub  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "..", "resources", "host"))
from ptw_host import hf_fetch as fetch  # noqa: E402

MODEL_SHA = "a" * 40
DATA_SHA = "b" * 40
WEIGHTS = bytes(range(256)) * 40000  # ~10 MB


class HfFetch(unittest.TestCase):
    def setUp(self):
        self.hub = FakeHub(
            {
                ("model", "org/tiny-base"): {
                    "sha": MODEL_SHA,
                    "files": {"config.json": b'{"model_type": "llama"}', "model.safetensors": WEIGHTS},
                },
                ("dataset", "org/math"): {"sha": DATA_SHA, "files": {"data/test.jsonl": b'{"q": 1}\n'}},
            }
        )
        self.dir = tempfile.TemporaryDirectory()
        self.cache = os.path.join(self.dir.name, "hf")
        self.resources = os.path.join(self.dir.name, "resources.json")
        with open(self.resources, "w") as handle:
            json.dump({"models": ["org/tiny-base"], "datasets": [{"dataset": "org/math", "splits": ["test"]}]}, handle)

    def tearDown(self):
        self.hub.close()
        self.dir.cleanup()

    def run_fetch(self, *extra):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = fetch.main(["--resources", self.resources, "--cache", self.cache, "--endpoint", self.hub.endpoint, "--spare-bytes", "0", *extra])
        return code, [json.loads(line) for line in out.getvalue().splitlines()]

    def snapshot(self, kind, repo, sha, name):
        folder = fetch.repo_folder(kind, repo)
        return os.path.join(self.cache, "hub", folder, "snapshots", sha, name)

    def test_fetches_into_the_hub_cache_layout_with_progress(self):
        code, events = self.run_fetch()
        self.assertEqual(code, 0, events)
        plan = events[0]
        self.assertEqual(plan["event"], "plan")
        self.assertEqual(plan["files"], 3)
        self.assertEqual(plan["missingBytes"], len(WEIGHTS) + len(b'{"model_type": "llama"}') + len(b'{"q": 1}\n'))
        weights = self.snapshot("model", "org/tiny-base", MODEL_SHA, "model.safetensors")
        self.assertTrue(os.path.islink(weights))
        with open(weights, "rb") as handle:
            self.assertEqual(handle.read(), WEIGHTS)
        self.assertIn("/blobs/", os.path.realpath(weights))
        with open(os.path.join(self.cache, "hub", "models--org--tiny-base", "refs", "main")) as handle:
            self.assertEqual(handle.read(), MODEL_SHA)
        with open(self.snapshot("dataset", "org/math", DATA_SHA, "data/test.jsonl"), "rb") as handle:
            self.assertEqual(handle.read(), b'{"q": 1}\n')
        done = [e for e in events if e["event"] == "file" and e["file"] == "model.safetensors"]
        self.assertEqual(done[-1]["done"], len(WEIGHTS))
        self.assertEqual(done[-1]["total"], len(WEIGHTS))
        self.assertEqual(events[-1], {"event": "end", "ok": True, "failed": []})
        # Again: everything is there; nothing is downloaded twice.
        before = len(self.hub.requests)
        code, events = self.run_fetch()
        self.assertEqual(code, 0)
        self.assertEqual([e["status"] for e in events if e["event"] == "repo"], ["cached", "cached"])
        self.assertTrue(all(r[0] == "GET" and r[1].startswith("/api/") for r in self.hub.requests[before:]))

    def test_resumes_a_cut_download_from_where_it_stopped(self):
        self.hub.cut_after["model.safetensors"] = 3_000_000
        code, events = self.run_fetch()
        self.assertEqual(code, 0, events)
        retries = [e for e in events if e.get("retry")]
        self.assertEqual(len(retries), 1)
        self.assertEqual(retries[0]["done"], 3_000_000)
        ranges = [r[2] for r in self.hub.requests if r[1].endswith("model.safetensors") and r[0] == "GET"]
        self.assertEqual(ranges, [None, "bytes=3000000-"])
        with open(self.snapshot("model", "org/tiny-base", MODEL_SHA, "model.safetensors"), "rb") as handle:
            self.assertEqual(handle.read(), WEIGHTS)

    def test_refuses_before_fetching_when_the_disk_cannot_hold_it(self):
        code, events = self.run_fetch("--spare-bytes", str(1 << 60))
        self.assertEqual(code, 2)
        self.assertIn("free in", events[-1]["error"])
        self.assertFalse(any(r[0] == "GET" and "/resolve/" in r[1] for r in self.hub.requests))

    def test_a_repository_the_hub_does_not_have_fails_alone(self):
        with open(self.resources, "w") as handle:
            json.dump({"models": ["org/tiny-base", "org/missing"]}, handle)
        code, events = self.run_fetch()
        self.assertEqual(code, 1)
        statuses = {e["repo"]: e["status"] for e in events if e["event"] == "repo"}
        self.assertEqual(statuses, {"org/missing": "failed", "org/tiny-base": "done"})
        self.assertEqual(events[-1]["failed"], ["org/missing"])


if __name__ == "__main__":
    unittest.main()
