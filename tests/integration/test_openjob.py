# SPDX-License-Identifier: MIT
"""Open jobs end to end (spec 2.6): open, submit --job, close, wait, list."""
import subprocess
import time

from conftest import HQ_BIN, TIMEOUT, wait_until


def test_openjob_open_outputs(hq):
    hq.start_server()
    assert hq.command(["job", "open"]).stdout == "Job 1 is open.\n"
    assert hq.json(["job", "open", "--name", "mine",
                    "--max-fails", "3"]) == {"id": 2}
    assert hq.command(["--output-mode", "quiet", "job", "open"]).stdout \
        == "3\n"
    jobs = {j["id"]: j for j in hq.json(["job", "list"])}
    assert jobs[1]["name"] == "job" and jobs[1]["is_open"]
    assert jobs[2]["name"] == "mine" and jobs[2]["task_count"] == 0
    assert hq.json(["job", "info", "2"])[0]["max_fails"] == 3
    r = hq.command(["job", "open", "--max-fails", "x"], check=False)
    assert r.rc == 1 and "--max-fails" in r.stderr
    assert len(hq.json(["job", "list", "--all"])) == 3


def test_openjob_two_submits_ids_and_errors(hq):
    hq.start_server()
    hq.command(["job", "open"])
    # Auto ids: 0 for an empty job, then max id + 1 onwards.
    hq.submit(["--job", "1", "--", "true"])
    hq.submit(["--job", "1", "--array", "5-6", "--", "true"])
    hq.submit(["--job", "1", "--", "true"])
    assert sorted(hq.task_states(1)) == [0, 5, 6, 7]

    def refused(args, message):
        r = hq.command(["submit"] + args, check=False)
        assert r.rc == 1, r
        assert message in r.stderr, r

    refused(["--job", "1", "--array", "6-8", "--", "true"],
            "Task 6 already exists in job 1.")
    refused(["--job", "9", "--", "true"], "Job 9 not found.")
    refused(["--job", "1", "--name", "x", "--", "true"],
            "Parameter --name is not allowed when submitting to an open "
            "job.")
    refused(["--job", "1", "--max-fails", "1", "--", "true"],
            "Parameter --max-fails is not allowed when submitting to an "
            "open job.")
    assert sorted(hq.task_states(1)) == [0, 5, 6, 7]
    r = hq.command(["job", "close", "1"])
    assert "Job 1 closed" in r.stderr
    refused(["--job", "1", "--", "true"], "Job 1 is not opened.")
    assert sorted(hq.task_states(1)) == [0, 5, 6, 7]


def test_openjob_each_line_uses_intended_ids(hq):
    """Spec 4 item 13: entries into an open job get new_id..new_id+n-1."""
    hq.start_server()
    hq.start_worker(cpus=2)
    hq.command(["job", "open"])
    hq.submit(["--job", "1", "--array", "0-2", "--", "true"])
    lines = hq.work / "lines.txt"
    lines.write_text("a\nb\n")
    hq.submit(["--job", "1", "--each-line", str(lines), "--", "bash",
               "-c", "echo $HQ_ENTRY"])
    states = hq.task_states(1)
    assert sorted(states) == [0, 1, 2, 3, 4]
    info = hq.job_info(1)
    assert info["info"]["task_count"] == 5
    hq.command(["job", "close", "1"])
    hq.wait_job(1)
    assert set(hq.task_states(1).values()) == {"finished"}
    assert (hq.work / "job-1" / "3.stdout").read_text() == "a\n"
    assert (hq.work / "job-1" / "4.stdout").read_text() == "b\n"


def test_openjob_list_shows_star_and_opened(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    hq.command(["job", "open", "--name", "stream"])
    job = hq.submit(["--job", "1", "--", "true"])
    assert job == 1
    wait_until(lambda: hq.task_states(1) == {0: "finished"},
               what="task of the open job")
    hq.submit(["--", "true"])
    hq.wait_job(2)
    r = hq.command(["--colors", "never", "job", "list"])
    # Open jobs are listed by default, with a star, and OPENED once idle.
    assert "| *1 | stream | OPENED | 1     |" in r.stdout
    assert "* = Open jobs" in r.stdout
    assert "There are 2 jobs in total. Use `--all` to display all jobs." \
        in r.stdout
    assert "| 2 " not in r.stdout
    r = hq.command(["--output-mode", "quiet", "job", "list", "--all"])
    assert r.stdout == "1 OPENED\n2 FINISHED\n"
    r = hq.command(["--output-mode", "quiet", "job", "list", "--filter",
                    "opened"])
    assert r.stdout == "1 OPENED\n"
    assert hq.json(["job", "summary"])["Opened"] == 1
    hq.command(["job", "close", "1"])
    r = hq.command(["--output-mode", "quiet", "job", "list", "--all"])
    assert r.stdout == "1 FINISHED\n2 FINISHED\n"
    assert "Opened" not in hq.json(["job", "summary"])


def test_openjob_close_messages(hq):
    hq.start_server()
    hq.command(["job", "open"])
    hq.submit(["--", "true"])
    r = hq.command(["job", "close", "1-3"])
    assert r.rc == 0
    assert "INFO Job 1 closed" in r.stderr
    assert "ERROR Closing job 2 failed; job is already closed" in r.stderr
    assert "ERROR Closing job 3 failed; job not found" in r.stderr
    # Closing an already closed job is an error in the log, exit code 0.
    r = hq.command(["job", "close", "1"])
    assert r.rc == 0
    assert "Closing job 1 failed; job is already closed" in r.stderr
    hq.command(["job", "open"])
    hq.command(["job", "open"])
    r = hq.command(["job", "close", "all"])
    assert "Job 3 closed" in r.stderr and "Job 4 closed" in r.stderr
    assert "job 1" not in r.stderr and "job 2" not in r.stderr
    assert not any(j["is_open"] for j in hq.json(["job", "list", "--all"]))


def test_openjob_wait_waits_for_close(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    hq.command(["job", "open"])
    hq.submit(["--job", "1", "--", "true"])
    wait_until(lambda: hq.task_states(1) == {0: "finished"},
               what="task of the open job")
    # --without-close returns as soon as the tasks are done.
    hq.command(["job", "wait", "1", "--without-close"], timeout=10)
    waiter = subprocess.Popen([HQ_BIN, "job", "wait", "1"], env=hq.env,
                              cwd=str(hq.work), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        assert waiter.poll() is None, "job wait returned for an open job"
        hq.submit(["--job", "1", "--", "true"])
        time.sleep(0.3)
        assert waiter.poll() is None
        hq.command(["job", "close", "1"])
        assert waiter.wait(timeout=TIMEOUT) == 0
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    assert hq.task_states(1) == {0: "finished", 1: "finished"}
    # A closed job with every task finished: wait returns at once.
    hq.command(["job", "wait", "1"], timeout=10)
