# SPDX-License-Identifier: MIT
"""Automatic allocation through PBS (spec 1.8, 2.13), with the fake qsub,
qstat, qdel and pbsdsh of tests/pbs first on PATH: they keep a job table and
run submitted scripts in the background as a batch system would."""
import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import wait_until

PBS_DIR = os.path.join(os.path.dirname(__file__), "..", "pbs")
sys.path.insert(0, PBS_DIR)
import fakepbs  # noqa: E402

# Workers exit with 0 when idle; in sanitizer builds their leak report
# (none of this feature's) would change the exit code the batch system
# records. The wrap command also exercises --worker-wrap-cmd.
NO_LEAK_CHECK = "env ASAN_OPTIONS=detect_leaks=0"
FAST = {
    # Poll statuses and decide often, so that a test takes seconds.
    "HQ_AUTOALLOC_REFRESH_INTERVAL_MS": "500",
    "HQ_AUTOALLOC_SCHEDULE_TICK_INTERVAL_MS": "200",
    "HQ_AUTOALLOC_MAX_SCHEDULE_DELAY_MS": "1000",
}


@pytest.fixture
def pbs(hq):
    """hq with the fake PBS on PATH; running fake jobs die with the test."""
    state = str(hq.tmp / "pbs")
    hq.env["PATH"] = os.path.abspath(PBS_DIR) + ":" + hq.env["PATH"]
    hq.env["HQ_FAKE_PBS_DIR"] = state
    hq.env.update(FAST)
    old = os.environ.get("HQ_FAKE_PBS_DIR")
    os.environ["HQ_FAKE_PBS_DIR"] = state
    try:
        yield hq
    finally:
        for pid in fakepbs.running_pids():
            fakepbs.kill_group(pid)
        if old is None:
            os.environ.pop("HQ_FAKE_PBS_DIR", None)
        else:
            os.environ["HQ_FAKE_PBS_DIR"] = old


def qstat(hq, *ids):
    r = subprocess.run([os.path.join(PBS_DIR, "qstat"), "-f", *ids, "-F",
                        "json", "-x"], capture_output=True, text=True,
                       env=hq.env)
    return json.loads(r.stdout).get("Jobs", {})


def allocations(hq, queue=1):
    return hq.json(["alloc", "info", str(queue)])


def queues(hq):
    return hq.json(["alloc", "list"])


def add_queue(hq, *args, check=True):
    return hq.command(["alloc", "add", "pbs", "--time-limit", "5m", *args],
                      check=check)


def test_alloc_pbs_tasks_run_in_allocations(pbs):
    hq = pbs
    hq.start_server()
    r = add_queue(hq, "--backlog", "1", "--max-workers-per-alloc", "2",
                  "--idle-timeout", "3s", "--cpus", "2",
                  "--worker-wrap-cmd", NO_LEAK_CHECK)
    assert "Allocation queue 1 successfully created" in r.stderr
    q = queues(hq)
    assert q == [{
        "id": 1, "name": None, "state": "Active", "manager": "PBS",
        "additional_args": [], "backlog": 1, "max_workers_per_alloc": 2,
        "timelimit": 300.0, "max_worker_count": None,
        "worker_args": ["--cpus", '"2"', "--on-server-lost",
                        '"finish-running"', "--time-limit", '"5m"'],
        "known_worker_resources": None}]
    # The dry run was a held job, deleted at once.
    trial = qstat(hq)
    assert [j["Job_Name"] for j in trial.values()] == ["hq-dry-run"]
    wait_until(lambda: all(j["job_state"] == "F"
                           for j in qstat(hq).values()),
               what="the trial job to be deleted")
    assert all("stime" not in j for j in qstat(hq).values())

    job = hq.submit(["--array", "1-40", "--", "bash", "-c",
                     "echo $PBS_JOBID"])
    hq.wait_job(job, timeout=60)
    info = hq.job_info(job)
    assert info["info"]["task_stats"]["finished"] == 40
    ran_in = {(hq.work / "job-1" / f"{t}.stdout").read_text().strip()
              for t in range(1, 41)}
    allocs = allocations(hq)
    ids = {a["id"] for a in allocs}
    assert ran_in and ran_in <= ids
    for a in allocs:
        assert set(a) == {"id", "target_worker_count", "queued_at",
                          "started_at", "ended_at", "status", "workdir"}
        assert 1 <= a["target_worker_count"] <= 2
        assert os.path.isfile(os.path.join(a["workdir"], "hq-submit.sh"))
        with open(os.path.join(a["workdir"], "jobid")) as f:
            assert f.read() == a["id"]
    # Workers of an allocation: group and manager from PBS.
    workers = hq.json(["worker", "list", "--all"])
    assert {w["allocation"]["id"] for w in workers} <= ids
    assert all(w["allocation"]["manager"] == "PBS" for w in workers)
    assert all(w["configuration"]["group"] == w["allocation"]["id"]
               for w in workers)
    # After the idle timeout the workers leave and the allocations end.
    wait_until(lambda: all(a["status"] == "finished"
                           for a in allocations(hq)),
               what="allocations to finish")
    wait_until(lambda: all(j["job_state"] == "F"
                           for j in qstat(hq, *ids).values()),
               what="the jobs to end in PBS")
    done = qstat(hq, *ids)
    assert all(done[i]["Exit_status"] == 0 for i in ids), done
    first = allocations(hq)[0]
    assert first["started_at"] and first["ended_at"]
    with open(os.path.join(first["workdir"], "hq-submit.sh")) as f:
        assert NO_LEAK_CHECK + " " in f.read()
    log = hq.command(["alloc", "log", first["id"], "stderr"])
    assert "registered with server" in log.stderr + log.stdout
    r = hq.command(["alloc", "info", "1", "--filter", "running"])
    assert first["id"] not in r.stdout
    table = hq.command(["alloc", "info", "1"]).stdout
    assert "FINISHED" in table and first["workdir"] in table


def test_alloc_pbs_failures_are_reported_and_pause(pbs):
    hq = pbs
    hq.start_server(env={"HQ_AUTOALLOC_MAX_SUBMISSION_FAILS": "3",
                         "HQ_AUTOALLOC_SUBMIT_DELAYS_MS": "0,100"})
    r = add_queue(hq, "--", "-q", "nosuch", check=False)
    assert r.rc == 1
    assert "Dry-run (test allocation submission) has failed" in r.stderr
    assert "qsub: Unknown queue" in r.stderr
    assert queues(hq) == []
    r = hq.command(["alloc", "dry-run", "pbs", "--time-limit", "1m"])
    assert ("A trial allocation was submitted successfully. It was "
            "immediately canceled to avoid wasting resources.") in r.stderr
    assert queues(hq) == []

    add_queue(hq, "--no-dry-run", "--", "-q", "nosuch")
    hq.submit(["true"])
    wait_until(lambda: queues(hq)[0]["state"] == "Paused",
               what="the queue to pause")
    assert allocations(hq) == []
    r = hq.command(["alloc", "resume", "1"])
    assert "Allocation queue 1 successfully resumed" in r.stderr
    assert queues(hq)[0]["state"] == "Active"
    r = hq.command(["alloc", "pause", "1"])
    assert "Allocation queue 1 successfully paused" in r.stderr
    r = hq.command(["alloc", "pause", "7"], check=False)
    assert r.rc == 1 and "Allocation queue 7 not found" in r.stderr
    r = add_queue(hq, "--backlog", "0", check=False)
    assert r.rc == 1 and "'--backlog <BACKLOG>'" in r.stderr
    r = hq.command(["alloc", "add", "pbs"], check=False)
    assert r.rc == 1 and "--time-limit" in r.stderr
    r = add_queue(hq, "--time-limit", "1m", "--worker-time-limit", "2m",
                  check=False)
    assert r.rc == 1 and "Worker time limit" in r.stderr
    # Worker resources are checked as `worker start` checks them.
    for args, why in ((["--resource", "fairy=[a]", "--resource", "fairy=[b]"],
                       "the resource is defined twice"),
                      (["--cpus", "2", "--resource", "cpus=4"],
                       "--cpus conflicts with --resource cpus=..."),
                      (["--resource", "fairy"], "(no '=')"),
                      (["--cpus", "0"], "zero CPUs")):
        for r in (add_queue(hq, *args, check=False),
                  hq.command(["worker", "start", *args], check=False)):
            assert r.rc == 1 and why in r.stderr, (args, r)
    assert len(queues(hq)) == 1  # the paused queue above, nothing new


def test_alloc_pbs_remove_force_cancels(pbs):
    hq = pbs
    hq.start_server()
    add_queue(hq, "--idle-timeout", "30s")
    hq.submit(["sleep", "100"])
    wait_until(lambda: [a["status"] for a in allocations(hq)] == ["running"],
               what="a running allocation")
    alloc = allocations(hq)[0]["id"]
    r = hq.command(["alloc", "remove", "1"], check=False)
    assert r.rc == 1 and "running allocations" in r.stderr
    assert "--force" in r.stderr
    r = hq.command(["alloc", "remove", "--force", "1"])
    assert "Allocation queue 1 successfully removed" in r.stderr
    assert queues(hq) == []
    wait_until(lambda: qstat(hq, alloc)[alloc]["job_state"] == "F",
               what="qdel")
    assert qstat(hq, alloc)[alloc]["Exit_status"] != 0


def test_alloc_pbs_restart_adopts_live_allocations(pbs):
    hq = pbs
    journal = hq.tmp / "journal"
    # Allocations start 4 s after qsub: the server dies while the
    # allocation waits in the queue.
    hq.env["HQ_FAKE_PBS_START_DELAY"] = "4"
    server = hq.start_server(journal=journal)
    add_queue(hq, "--no-dry-run", "--idle-timeout", "3s")
    job = hq.submit(["--array", "1-4", "--", "bash", "-c",
                     "echo $PBS_JOBID"])
    wait_until(lambda: [a["status"] for a in allocations(hq)] == ["queued"],
               what="a queued allocation")
    alloc = allocations(hq)[0]["id"]
    hq.kill(server, signal.SIGKILL)
    hq.start_server(journal=journal)
    q = queues(hq)
    assert [x["id"] for x in q] == [1] and q[0]["state"] == "Active"
    assert [a["id"] for a in allocations(hq)] == [alloc]
    hq.wait_job(job, timeout=60)
    # The queued allocation was adopted: its worker ran the tasks and no
    # other allocation was needed.
    ran_in = {(hq.work / "job-1" / f"{t}.stdout").read_text().strip()
              for t in range(1, 5)}
    assert ran_in == {alloc}
    wait_until(lambda: allocations(hq)[0]["status"] == "finished",
               what="the adopted allocation to finish")
    assert len(allocations(hq)) == 1


def test_alloc_pbs_restart_marks_ended_allocations(pbs):
    hq = pbs
    journal = hq.tmp / "journal"
    hq.env["HQ_FAKE_PBS_START_DELAY"] = "30"
    server = hq.start_server(journal=journal)
    add_queue(hq, "--no-dry-run")
    hq.submit(["true"])
    wait_until(lambda: [a["status"] for a in allocations(hq)] == ["queued"],
               what="a queued allocation")
    alloc = allocations(hq)[0]["id"]
    hq.kill(server, signal.SIGKILL)
    # It ends while no server watches.
    subprocess.run([os.path.join(PBS_DIR, "qdel"), alloc], env=hq.env,
                   check=True)
    hq.env["HQ_FAKE_PBS_START_DELAY"] = "0.2"
    hq.start_server(journal=journal)
    wait_until(lambda: allocations(hq)[0]["status"] == "failed",
               what="the ended allocation to be marked")
    # The queue goes on with a new allocation for the waiting task.
    wait_until(lambda: len(allocations(hq)) == 2, what="a new allocation")
    hq.wait_job(1, timeout=60)


def test_alloc_pbs_server_stop_cancels_allocations(pbs):
    hq = pbs
    hq.env["HQ_FAKE_PBS_START_DELAY"] = "30"
    journal = hq.tmp / "journal"
    server = hq.start_server(journal=journal)
    add_queue(hq, "--no-dry-run", "--backlog", "2")
    hq.submit(["--array", "1-2", "--", "true"])
    wait_until(lambda: [a["status"] for a in allocations(hq)] ==
               ["queued", "queued"], what="two queued allocations")
    ids = [a["id"] for a in allocations(hq)]
    hq.command(["server", "stop"])
    server.wait(timeout=30)
    jobs = qstat(hq, *ids)
    assert all(jobs[i]["job_state"] == "F" for i in ids)
    # Cancelled, as the journal says: a restart adopts nothing.
    hq.env["HQ_FAKE_PBS_START_DELAY"] = "0.2"
    hq.start_server(journal=journal)
    assert {a["id"]: a["status"] for a in allocations(hq)} == {
        i: "failed" for i in ids}
