# SPDX-License-Identifier: MIT
"""Issue 2 acceptance: a restart from the LMDB journal.

kill -9 of the server after acknowledged requests, then
`hq server start --journal J` on the same server dir: jobs (finished ones
too) with their task states and counts, the id counters, the server uid and
the ports come back; tasks that were running are waiting again and rerun
with a new instance id.
"""
import os
import signal
import stat

from conftest import TIMEOUT, wait_until
from test_foundation import SLEEPER, pid_alive, read_pid, wait_task_state


def kill_server(hq, server):
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=TIMEOUT)


def test_restart_restores_jobs_uid_ports_and_requeues_running(hq):
    journal = hq.tmp / "hq.journal"
    server = hq.start_server(journal=journal)
    before = hq.json(["server", "info"])
    assert before["journal_path"] == str(journal)
    w = hq.start_worker(cpus=1)

    done = hq.submit(["--array", "1-3", "--", "bash", "-c",
                      "echo $HQ_TASK_ID"])
    hq.wait_job(done)
    failed = hq.submit(["--", "bash", "-c", "exit 3"])
    hq.wait_job(failed)
    canceled = hq.submit(["--cpus", "4", "--", "true"])  # never fits
    hq.command(["job", "cancel", str(canceled)])
    running = hq.submit(["--", "bash", "-c",
                         'if [ $HQ_INSTANCE_ID = 0 ]; then ' + SLEEPER +
                         '; fi; echo $HQ_INSTANCE_ID > instance'])
    pid = read_pid(hq.work / f"pid.{running}.0.0")
    wait_task_state(hq, running, 0, "running")
    waiting = hq.submit(["--array", "1-2", "--", "true"])
    assert set(hq.task_states(waiting).values()) == {"waiting"}

    kill_server(hq, server)
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    # The worker notices, kills its task and exits.
    w.wait(timeout=TIMEOUT)
    wait_until(lambda: not pid_alive(pid), what="task of the lost worker")
    # The dead server's dir is still there; a new start must take over.
    assert os.readlink(hq.tmp / "server" / "hq-current").endswith("/001")

    hq.start_server(journal=journal)
    after = hq.json(["server", "info"])
    for key in ("server_uid", "client_port", "worker_port", "journal_path"):
        assert after[key] == before[key], key
    assert after["pid"] != before["pid"]
    assert os.readlink(hq.tmp / "server" / "hq-current").endswith("/002")

    jobs = {j["id"]: j for j in hq.json(["job", "list", "--all"])}
    assert sorted(jobs) == [1, 2, 3, 4, 5]
    assert jobs[done]["task_stats"]["finished"] == 3
    assert jobs[failed]["task_stats"]["failed"] == 1
    assert jobs[canceled]["task_stats"]["canceled"] == 1
    assert jobs[running]["task_stats"]["waiting"] == 1
    assert jobs[running]["task_stats"]["running"] == 0
    assert jobs[waiting]["task_stats"]["waiting"] == 2
    assert hq.command(["--output-mode", "quiet", "job", "list", "--all"]
                      ).stdout == ("1 FINISHED\n2 FAILED\n3 CANCELED\n"
                                   "4 WAITING\n5 WAITING\n")
    t = hq.job_info(failed)["tasks"][0]
    assert t["error"] == "Program terminated with exit code 3."
    assert "started_at" in t and "finished_at" in t
    t = hq.job_info(done)["tasks"][1]
    assert t["stdout"] == str(hq.work / "job-1" / "2.stdout")
    assert hq.job_info(done)["info"]["name"] == "bash"
    # No worker came back from the journal.
    assert hq.json(["worker", "list"]) == []

    # The counters continue; the requeued task reruns as instance 1.
    assert hq.submit(["--", "true"]) == 6
    w2 = hq.start_worker(cpus=1)
    assert w2.worker_id == 2
    for j in (running, waiting, 6):
        hq.wait_job(j)
    assert hq.task_states(running) == {0: "finished"}
    assert (hq.work / "instance").read_text() == "1\n"
    assert hq.task_states(waiting) == {1: "finished", 2: "finished"}


def test_every_acknowledged_submit_survives_kill_9(hq):
    journal = hq.tmp / "hq.journal"
    server = hq.start_server(journal=journal)
    ids = [hq.submit(["--array", f"1-{n}", "--", "true"])
           for n in range(1, 21)]
    assert ids == list(range(1, 21))
    kill_server(hq, server)

    server = hq.start_server(journal=journal)
    jobs = hq.json(["job", "list", "--all"])
    assert [j["id"] for j in jobs] == ids
    assert [j["task_count"] for j in jobs] == list(range(1, 21))
    assert all(j["task_stats"]["waiting"] == j["task_count"] for j in jobs)
    hq.start_worker(cpus=2)
    hq.wait_job("all")
    jobs = hq.json(["job", "list", "--all"])
    assert [j["task_stats"]["finished"] for j in jobs] == list(range(1, 21))

    # Finished counts survive a second crash, too.
    kill_server(hq, server)
    hq.start_server(journal=journal)
    jobs = hq.json(["job", "list", "--all"])
    assert [j["task_stats"]["finished"] for j in jobs] == list(range(1, 21))
    assert hq.command(["--output-mode", "quiet", "job", "list", "--all"]
                      ).stdout == "".join(f"{i} FINISHED\n" for i in ids)


def test_restart_after_clean_stop(hq):
    journal = hq.tmp / "hq.journal"
    server = hq.start_server(journal=journal)
    uid = hq.json(["server", "info"])["server_uid"]
    job = hq.submit(["--array", "1-5", "--", "true"])
    hq.command(["job", "cancel", str(job)])
    hq.command(["server", "stop"])
    assert server.wait(timeout=TIMEOUT) == 0
    assert not os.path.lexists(hq.tmp / "server" / "hq-current")

    hq.start_server(journal=journal)
    assert hq.json(["server", "info"])["server_uid"] == uid
    jobs = hq.json(["job", "list", "--all"])
    assert [(j["id"], j["task_stats"]["canceled"]) for j in jobs] == [(1, 5)]
    assert hq.submit(["--", "true"]) == 2
