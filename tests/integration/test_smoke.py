# SPDX-License-Identifier: MIT
"""The smallest end-to-end path: server, worker, an array job, outputs."""


def test_array_job_runs_and_writes_outputs(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    job = hq.submit(["--array", "1-200", "--", "bash", "-c",
                     "echo $HQ_TASK_ID"])
    hq.wait_job(job)
    info = hq.job_info(job)
    assert info["info"]["task_stats"]["finished"] == 200
    assert len(info["tasks"]) == 200
    assert all(t["state"] == "finished" for t in info["tasks"])
    assert (hq.work / "job-1" / "17.stdout").read_text() == "17\n"


def test_version_flag(hq):
    r = hq.command(["--version"])
    assert r.stdout.startswith("hyperqueue ")
