"""The host package's listings the app runs as `python3 -c` (src/main/runs/host-scripts.ts): the run folders under a
run root (ptw_host.discovery) and a run's final_model manifest (ptw_host.manifest)."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

import host_support
from ptw_host import discovery, manifest


class Discovery(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.root = self._dir.name

    def tearDown(self):
        self._dir.cleanup()

    def run_folder(self, name, run=None, state=None, pid=None):
        folder = os.path.join(self.root, name)
        os.makedirs(os.path.join(folder, ".supervisor"))
        if run is not None:
            with open(os.path.join(folder, "run.json"), "w") as handle:
                handle.write(run if isinstance(run, str) else json.dumps(run))
        if state is not None:
            with open(os.path.join(folder, "state.json"), "w") as handle:
                json.dump(state, handle)
        if pid is not None:
            with open(os.path.join(folder, ".supervisor", "supervisor.pid"), "w") as handle:
                handle.write("%d\n" % pid)
        return folder

    def test_lists_run_folders_with_their_status_and_supervisor(self):
        a = self.run_folder("r-a", {"id": "r-a", "supervisor": {"agentContainerId": "c1"}}, {"status": "running", "heartbeatAt": 5, "agentContainerId": "c1"}, pid=os.getpid())
        self.run_folder("not-a-run")
        self.run_folder("r-b", "{broken")
        listing = discovery.discover(self.root, [])
        self.assertTrue(listing["rootExists"])
        runs = {entry["name"]: entry for entry in listing["runs"]}
        self.assertEqual(sorted(runs), ["r-a", "r-b"])
        self.assertEqual(
            {k: runs["r-a"][k] for k in ("dir", "id", "agentContainerId", "status", "heartbeatAt", "stateContainerId")},
            {"dir": a, "id": "r-a", "agentContainerId": "c1", "status": "running", "heartbeatAt": 5, "stateContainerId": "c1"},
        )
        # This process is no supervisor of r-a: its command line does not name the folder.
        self.assertEqual((runs["r-a"]["supervisorPid"], runs["r-a"]["supervisorAlive"]), (os.getpid(), False))
        self.assertTrue(runs["r-b"]["error"].startswith("run.json: "))
        self.assertIsNone(runs["r-b"]["status"])

    def test_a_missing_root_and_extra_folders(self):
        extra = self.run_folder("elsewhere", {"id": "r-x"})
        listing = discovery.discover(os.path.join(self.root, "nope"), [extra])
        self.assertFalse(listing["rootExists"])
        self.assertEqual([entry["id"] for entry in listing["runs"]], ["r-x"])

    def test_runs_as_its_own_source_the_way_the_app_sends_it(self):
        self.run_folder("r-a", {"id": "r-a"})
        with open(discovery.__file__, encoding="utf-8") as handle:
            source = handle.read()
        out = subprocess.run([sys.executable, "-c", source, self.root], stdout=subprocess.PIPE, check=True, cwd=self.root)
        self.assertEqual([entry["id"] for entry in json.loads(out.stdout)["runs"]], ["r-a"])


class Manifest(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.run_dir = self._dir.name
        self.model = os.path.join(self.run_dir, "workspace", "final_model")

    def tearDown(self):
        self._dir.cleanup()

    def test_files_with_sizes_and_hashes_and_links_by_their_target(self):
        os.makedirs(os.path.join(self.model, "sub"))
        with open(os.path.join(self.model, "config.json"), "wb") as handle:
            handle.write(b"{}")
        with open(os.path.join(self.model, "sub", "w.bin"), "wb") as handle:
            handle.write(b"x" * 10)
        os.symlink("/etc/passwd", os.path.join(self.model, "leak"))
        out = manifest.manifest(self.run_dir)
        self.assertTrue(out["exists"])
        self.assertEqual(
            out["files"],
            [
                {"path": "config.json", "size": 2, "sha256": hashlib.sha256(b"{}").hexdigest()},
                {"path": "sub/w.bin", "size": 10, "sha256": hashlib.sha256(b"x" * 10).hexdigest()},
            ],
        )
        self.assertEqual(out["symlinks"], [{"path": "leak", "target": "/etc/passwd"}])
        self.assertEqual(out["totalBytes"], 12)

    def test_missing_or_a_link(self):
        self.assertEqual(manifest.manifest(self.run_dir)["reason"], "workspace/final_model does not exist")
        os.makedirs(os.path.dirname(self.model))
        os.symlink("/tmp", self.model)
        out = manifest.manifest(self.run_dir)
        self.assertFalse(out["exists"])
        self.assertEqual(out["reason"], "workspace/final_model is a symlink (to /tmp)")

    def test_is_a_subcommand_of_the_package(self):
        out = subprocess.run(
            [sys.executable, "-m", "ptw_host", "manifest", self.run_dir],
            stdout=subprocess.PIPE,
            check=True,
            cwd=host_support.HOST_DIR,
        )
        self.assertEqual(json.loads(out.stdout)["reason"], "workspace/final_model does not exist")


if __name__ == "__main__":
    unittest.main()
