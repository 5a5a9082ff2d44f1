"""ptw_host.slurm_job: the GPUs a SLURM job got, put into the agent's create request, and the errors a job script
sees. The container part (create, stop on scancel) runs against a real dockerd and slurmd in
test/integration/slurm-backend.test.ts.

Run by test/unit/host/python-unittest.test.ts with the machine's python3."""

import io
import os
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stderr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "resources", "host"))
from ptw_host import slurm_job  # noqa: E402

GPU_BODY = {
    "Image": "x",
    "HostConfig": {
        "Memory": 1,
        "DeviceRequests": [{"Driver": "nvidia", "DeviceIDs": ["0"], "Capabilities": [["gpu"]]}],
    },
}


class JobGpus(unittest.TestCase):
    def test_slurm_job_gpus_first_then_cuda_visible_devices(self):
        self.assertEqual(slurm_job.job_gpus({"SLURM_JOB_GPUS": "2,3", "CUDA_VISIBLE_DEVICES": "0,1"}), ["2", "3"])
        self.assertEqual(slurm_job.job_gpus({"CUDA_VISIBLE_DEVICES": "1"}), ["1"])
        self.assertEqual(slurm_job.job_gpus({}), [])

    def test_device_request_gets_the_jobs_gpus(self):
        body = slurm_job.with_job_gpus(GPU_BODY, ["3"])
        self.assertEqual(body["HostConfig"]["DeviceRequests"][0]["DeviceIDs"], ["3"])
        self.assertEqual(body["HostConfig"]["Memory"], 1)
        # The launcher's request is left as it was.
        self.assertEqual(GPU_BODY["HostConfig"]["DeviceRequests"][0]["DeviceIDs"], ["0"])

    def test_a_cpu_run_is_left_alone_and_a_gpu_run_without_gpus_refused(self):
        cpu = {"Image": "x", "HostConfig": {}}
        self.assertIs(slurm_job.with_job_gpus(cpu, []), cpu)
        with self.assertRaisesRegex(ValueError, "SLURM gave the job none"):
            slurm_job.with_job_gpus(GPU_BODY, [])


class CreateErrors(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        os.makedirs(os.path.join(self.dir, ".supervisor"))
        self.addCleanup(shutil.rmtree, self.dir)

    def run_create(self):
        err = io.StringIO()
        with redirect_stderr(err):
            code = slurm_job.main(["create", "--run-dir", self.dir, "--docker-socket", "/nonexistent.sock"], {})
        return code, err.getvalue()

    def test_missing_request_is_named(self):
        code, err = self.run_create()
        self.assertEqual(code, 1)
        self.assertIn("slurm-job create:", err)
        self.assertIn("agent-container.json", err)

    def test_request_without_a_name_is_named(self):
        with open(os.path.join(self.dir, ".supervisor", "agent-container.json"), "w") as f:
            f.write('{"body": {}}')
        code, err = self.run_create()
        self.assertEqual(code, 1)
        self.assertIn("needs a name and a body", err)


if __name__ == "__main__":
    unittest.main()
