# SPDX-License-Identifier: MIT
"""Automatic allocation on a real Slurm (issue 6, "done when" 1-4).

A local cluster of two fake nodes (slurmctld, two slurmd, munge; see
tests/slurm/start-cluster.sh) is started once per session and stopped at
the end. The tests are skipped only when they cannot run it: not root, or
apt cannot install Slurm.
"""
import fcntl
import os
import signal
import subprocess
import uuid

import pytest

from conftest import wait_until

SLURM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                         "slurm")
# Idle workers exit with 0 and Slurm records COMPLETED; in sanitizer
# builds a leak report (none of this feature's) would turn that into
# FAILED.
NO_LEAK_CHECK = "env ASAN_OPTIONS=detect_leaks=0"
FAST = {
    "HQ_AUTOALLOC_REFRESH_INTERVAL_MS": "1000",
    "HQ_AUTOALLOC_SCHEDULE_TICK_INTERVAL_MS": "250",
    "HQ_AUTOALLOC_MAX_SCHEDULE_DELAY_MS": "1000",
}


# The cluster is machine-wide: concurrent test sessions (say `make test`
# and `make check` at once) share it. Each holds a shared lock while it
# uses the cluster; the last one out (the only one that can take the lock
# exclusively) stops it.
LOCK = "/run/hq-slurm-tests.lock"


@pytest.fixture(scope="session")
def slurm_cluster():
    if os.geteuid() != 0:
        pytest.skip("the Slurm tests run a local Slurm cluster "
                    "(tests/slurm/start-cluster.sh), which needs root")
    lock = open(LOCK, "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        r = subprocess.run([os.path.join(SLURM_DIR, "start-cluster.sh"),
                            "--nodes", "2"], capture_output=True,
                           text=True, timeout=900)
        fcntl.flock(lock, fcntl.LOCK_SH)
        if r.returncode != 0:
            if "cannot install" in r.stderr:
                pytest.skip("apt cannot install Slurm: " +
                            r.stderr.strip().splitlines()[-1])
            pytest.fail(f"start-cluster.sh failed:\n{r.stderr}")
        yield
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another session still uses the cluster
        subprocess.run([os.path.join(SLURM_DIR, "stop-cluster.sh")],
                       capture_output=True, timeout=300)
    finally:
        lock.close()


def squeue(*ids):
    """{job id: state} of the given jobs (all states)."""
    r = subprocess.run(["squeue", "--noheader", "--states=all",
                        "--jobs=" + ",".join(ids), "--format=%i %T"],
                       capture_output=True, text=True)
    return dict(line.split() for line in r.stdout.splitlines()
                if line.strip())


@pytest.fixture
def slurm(hq, slurm_cluster):
    """hq against the cluster; the test's Slurm jobs die with it."""
    hq.env.update(FAST)
    hq.name = "t" + uuid.uuid4().hex[:8]
    try:
        yield hq
    finally:
        r = subprocess.run(["squeue", "--noheader", "--format=%i %j"],
                           capture_output=True, text=True)
        ids = [line.split()[0] for line in r.stdout.splitlines()
               if line.split()[1:2] and
               line.split()[1].startswith(hq.name)]
        if ids:
            subprocess.run(["scancel", *ids], capture_output=True)


def allocations(hq, queue=1):
    return hq.json(["alloc", "info", str(queue)])


def queues(hq):
    return hq.json(["alloc", "list"])


def test_alloc_slurm_tasks_run_on_slurm_workers(slurm):
    hq = slurm
    hq.start_server()
    r = hq.command(["alloc", "add", "slurm", "--time-limit", "5m",
                    "--backlog", "1", "--max-workers-per-alloc", "2",
                    "--idle-timeout", "15s", "--name", hq.name,
                    "--worker-wrap-cmd", NO_LEAK_CHECK])
    assert "Allocation queue 1 successfully created" in r.stderr
    job = hq.submit(["--array", "1-40", "--", "bash", "-c",
                     "echo $SLURM_JOB_ID"])
    hq.wait_job(job, timeout=120)
    assert hq.job_info(job)["info"]["task_stats"]["finished"] == 40
    ran_in = {(hq.work / "job-1" / f"{t}.stdout").read_text().strip()
              for t in range(1, 41)}
    allocs = allocations(hq)
    ids = {a["id"] for a in allocs}
    assert "" not in ran_in and ran_in <= ids
    assert allocs[0]["target_worker_count"] == 2
    assert all(1 <= a["target_worker_count"] <= 2 for a in allocs)
    workers = hq.json(["worker", "list", "--all"])
    assert {w["allocation"]["manager"] for w in workers} == {"Slurm"}
    # After the idle timeout the workers leave and Slurm completes the
    # allocations.
    wait_until(lambda: all(a["status"] == "finished"
                           for a in allocations(hq)),
               timeout=120, what="the allocations to finish")
    ids = {a["id"] for a in allocations(hq)}
    wait_until(lambda: set(squeue(*ids).values()) == {"COMPLETED"},
               timeout=60, what="COMPLETED in Slurm")
    first = allocations(hq)[0]
    with open(os.path.join(first["workdir"], "hq-submit.sh")) as f:
        script = f.read()
    assert "#SBATCH --nodes=2\n" in script
    assert "srun --overlap --ntasks=2 --nodes=2 " in script


def test_alloc_slurm_workers_reconnect_after_server_kill(slurm):
    """With --on-server-lost reconnect the allocation's workers outlive a
    kill -9 of the server: the restarted server adopts them, their running
    tasks finish once (no second instance) and the allocation stays in
    use."""
    hq = slurm
    journal = hq.tmp / "journal"
    server = hq.start_server(journal=journal)
    hq.command(["alloc", "add", "slurm", "--time-limit", "5m",
                "--max-workers-per-alloc", "1", "--backlog", "1",
                "--idle-timeout", "20s", "--on-server-lost", "reconnect",
                "--name", hq.name, "--worker-wrap-cmd", NO_LEAK_CHECK])
    job = hq.submit(["--", "bash", "-c",
                     "echo $HQ_INSTANCE_ID $SLURM_JOB_ID; sleep 4"])
    wait_until(lambda: hq.job_info(job)["tasks"][0]["state"] == "running",
               timeout=60, what="the task to run in an allocation")
    before = allocations(hq)
    assert [a["status"] for a in before] == ["running"]
    workers = [w["id"] for w in hq.json(["worker", "list"])]
    hq.kill(server, signal.SIGKILL)

    hq.start_server(journal=journal)
    hq.wait_job(job, timeout=60)
    out = (hq.work / "job-1" / "0.stdout").read_text().split()
    assert out == ["0", before[0]["id"]]
    assert hq.job_info(job)["info"]["task_stats"]["finished"] == 1
    assert [w["id"] for w in hq.json(["worker", "list"])] == workers
    assert [a["status"] for a in allocations(hq)] == ["running"]
    # The adopted worker takes new work in the same allocation.
    job2 = hq.submit(["--", "bash", "-c", "echo $SLURM_JOB_ID"])
    hq.wait_job(job2, timeout=60)
    assert (hq.work / "job-2" / "0.stdout").read_text().strip() == \
        before[0]["id"]
    assert [a["id"] for a in allocations(hq)] == [before[0]["id"]]


def test_alloc_slurm_multinode_task(slurm):
    hq = slurm
    hq.start_server()
    hq.command(["alloc", "add", "slurm", "--time-limit", "5m",
                "--max-workers-per-alloc", "2", "--idle-timeout", "10s",
                "--name", hq.name])
    job = hq.submit(["--nodes", "2", "--", "bash", "-c",
                     "cat $HQ_NODE_FILE"])
    hq.wait_job(job, timeout=120)
    nodes = (hq.work / "job-1" / "0.stdout").read_text().split()
    assert len(nodes) == 2


def test_alloc_slurm_failures_and_forced_removal(slurm):
    hq = slurm
    hq.start_server(env={"HQ_AUTOALLOC_MAX_SUBMISSION_FAILS": "3",
                         "HQ_AUTOALLOC_SUBMIT_DELAYS_MS": "0,200"})
    r = hq.command(["alloc", "add", "slurm", "--time-limit", "5m",
                    "--name", hq.name, "--", "--partition=nosuch"],
                   check=False)
    assert r.rc == 1
    assert "Dry-run (test allocation submission) has failed" in r.stderr
    assert "invalid partition specified: nosuch" in r.stderr
    assert queues(hq) == []

    hq.command(["alloc", "add", "slurm", "--time-limit", "5m", "--name",
                hq.name, "--no-dry-run", "--", "--partition=nosuch"])
    hq.submit(["sleep", "300"])
    wait_until(lambda: queues(hq)[0]["state"] == "Paused",
               what="the failing queue to pause")
    assert allocations(hq) == []

    hq.command(["alloc", "add", "slurm", "--time-limit", "5m", "--name",
                hq.name + "b", "--idle-timeout", "1m"])
    wait_until(lambda: [a["status"] for a in allocations(hq, 2)] ==
               ["running"], timeout=60, what="a running allocation")
    alloc = allocations(hq, 2)[0]["id"]
    r = hq.command(["alloc", "remove", "2"], check=False)
    assert r.rc == 1 and "running allocations" in r.stderr
    r = hq.command(["alloc", "remove", "--force", "2"])
    assert "Allocation queue 2 successfully removed" in r.stderr
    assert [q["id"] for q in queues(hq)] == [1]
    wait_until(lambda: squeue(alloc).get(alloc) == "CANCELLED",
               timeout=60, what="scancel")


def test_alloc_slurm_server_restart(slurm):
    hq = slurm
    journal = hq.tmp / "journal"
    server = hq.start_server(journal=journal)
    hq.command(["alloc", "add", "slurm", "--time-limit", "5m",
                "--max-workers-per-alloc", "2", "--idle-timeout", "5s",
                "--name", hq.name])
    job = hq.submit(["--array", "1-8", "--", "bash", "-c",
                     "sleep 2; echo $SLURM_JOB_ID"])
    wait_until(lambda: any(t["state"] == "running"
                           for t in hq.job_info(job)["tasks"]),
               timeout=60, what="tasks running in an allocation")
    before = {a["id"]: a for a in allocations(hq)}
    assert any(a["status"] == "running" for a in before.values())
    hq.kill(server, signal.SIGKILL)

    hq.start_server(journal=journal)
    q = queues(hq)
    assert [x["id"] for x in q] == [1] and q[0]["state"] == "Active"
    after = {a["id"]: a for a in allocations(hq)}
    assert set(before) <= set(after)
    hq.wait_job(job, timeout=120)
    assert hq.job_info(job)["info"]["task_stats"]["finished"] == 8
    # The allocations of the killed server end (their workers lost it)
    # and are marked so; nothing stays active for ever.
    wait_until(lambda: all(a["status"] in ("finished", "failed")
                           for a in allocations(hq)),
               timeout=120, what="every allocation to end")
    assert queues(hq)[0]["state"] == "Active"
