# SPDX-License-Identifier: MIT
"""Issue 2 acceptance: the foundation, driven through the real binaries.

Submit, arrays, resources, outputs and placeholders, the task environment,
failure messages, cancel, time limits, lost and stopped workers, the crash
counter, priorities, --max-fails, output modes, the server dir and the wait
commands. Restarts from the journal and the wire-level checks (keys,
malformed frames) live in test_journal_restart.py and test_security.py.

Task commands are small bash scripts. Tasks that must run at the same time
meet at a file "barrier" (each one touches a marker and waits for the
others), so a test that passes proves real concurrency, and one that does not
fails within a bounded time instead of hanging.
"""
import json
import os
import signal
import stat
import subprocess
import time

from conftest import HQ_BIN, TIMEOUT, wait_until


# ---- helpers ----------------------------------------------------------------
def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def read_pid(path):
    """Wait for a task to write its pid into path; return it."""
    def get():
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None
    return wait_until(get, what=f"pid file {path}")


def task(info, tid):
    for t in info["tasks"]:
        if t["id"] == tid:
            return t
    raise AssertionError(f"task {tid} not in {info['tasks']}")


def wait_task_state(hq, job, tid, state):
    return wait_until(
        lambda: (lambda t: t if t["state"] == state else None)(
            task(hq.job_info(job), tid)),
        what=f"task {job}@{tid} {state}")


def read_env(path):
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


# A task that marks itself started, then waits (at most ~20 s) until the
# tasks listed in $PEERS have all started too. Exit 0 only if they did.
BARRIER = ('touch "started.$HQ_JOB_ID.$HQ_TASK_ID"; '
           'for i in $(seq 400); do ok=1; '
           'for p in $PEERS; do [ -e "started.$HQ_JOB_ID.$p" ] || ok=0; done; '
           '[ $ok = 1 ] && exit 0; sleep 0.05; done; exit 1')

# Writes its pid, then sleeps in the same process (exec).
SLEEPER = ('echo $$ > "pid.$HQ_JOB_ID.$HQ_TASK_ID.$HQ_INSTANCE_ID"; '
           'exec sleep 100')


# ---- submit, arrays, resources ----------------------------------------------
def test_submit_single_task_runs_with_id_zero(hq):
    hq.start_server()
    hq.start_worker()
    r = hq.command(["submit", "--", "bash", "-c", "echo hello; echo oops >&2"])
    assert r.stdout == "Job submitted successfully, job ID: 1\n"
    hq.wait_job(1)
    info = hq.job_info(1)
    assert info["info"]["name"] == "bash"
    assert info["info"]["task_count"] == 1
    assert [t["id"] for t in info["tasks"]] == [0]
    t = info["tasks"][0]
    assert t["state"] == "finished"
    assert t["worker"] == 1
    assert t["stdout"] == str(hq.work / "job-1" / "0.stdout")
    assert (hq.work / "job-1" / "0.stdout").read_text() == "hello\n"
    assert (hq.work / "job-1" / "0.stderr").read_text() == "oops\n"
    assert hq.command(["--output-mode", "quiet", "job", "list", "--all"]
                      ).stdout == "1 FINISHED\n"


def test_submit_array_ids_and_outputs(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    job = hq.submit(["--array", "1-20,30-40:5", "--", "bash", "-c",
                     "echo $HQ_TASK_ID"])
    hq.wait_job(job)
    info = hq.job_info(job)
    ids = list(range(1, 21)) + [30, 35, 40]
    assert sorted(t["id"] for t in info["tasks"]) == ids
    assert info["info"]["task_stats"]["finished"] == len(ids)
    assert (hq.work / "job-1" / "17.stdout").read_text() == "17\n"
    assert (hq.work / "job-1" / "35.stdout").read_text() == "35\n"
    assert not (hq.work / "job-1" / "21.stdout").exists()
    # Placeholders stay in the job's template, resolved per task.
    prog = info["submits"][0]["array"]["program"]
    assert prog["stdout"] == str(hq.work / "job-1" / "%{TASK_ID}.stdout")
    assert task(info, 17)["stdout"] == str(hq.work / "job-1" / "17.stdout")


def test_two_one_cpu_tasks_run_at_once_on_a_two_cpu_worker(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    job = hq.submit(["--array", "1-2", "--cpus", "1", "--env", "PEERS=1 2",
                     "--", "bash", "-c",
                     'echo $HQ_CPUS > "cpus.$HQ_TASK_ID"; ' + BARRIER])
    hq.wait_job(job)
    info = hq.job_info(job)
    assert info["info"]["task_stats"]["finished"] == 2, info["tasks"]
    cpus = {(hq.work / f"cpus.{i}").read_text().strip() for i in (1, 2)}
    assert cpus == {"0", "1"}


def test_two_cpu_tasks_take_the_whole_worker_one_at_a_time(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    # mkdir is atomic: a second task running concurrently would fail.
    job = hq.submit(["--array", "1-3", "--cpus", "2", "--", "bash", "-c",
                     'mkdir lock || exit 1; '
                     'echo $HQ_CPUS > "cpus.$HQ_TASK_ID"; '
                     'sleep 0.2; rmdir lock'])
    big = hq.submit(["--cpus", "3", "--", "true"])
    hq.wait_job(job)
    info = hq.job_info(job)
    assert info["info"]["task_stats"]["finished"] == 3, info["tasks"]
    for i in (1, 2, 3):
        assert (hq.work / f"cpus.{i}").read_text().strip() == "0,1"
    # Three CPUs never fit on this worker: the task keeps waiting.
    assert hq.job_info(big)["tasks"][0]["state"] == "waiting"


# ---- outputs, cwd, env ------------------------------------------------------
def test_stdout_stderr_paths_with_placeholders(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--array", "1-3",
                     "--stdout", "out/%{JOB_ID}/%{TASK_ID}.%{INSTANCE_ID}.o",
                     "--stderr", "%{SUBMIT_DIR}/err/%{TASK_ID}.e",
                     "--", "bash", "-c", "echo o$HQ_TASK_ID; echo e >&2"])
    hq.wait_job(job)
    for i in (1, 2, 3):
        assert (hq.work / "out" / "1" / f"{i}.0.o").read_text() == f"o{i}\n"
        assert (hq.work / "err" / f"{i}.e").read_text() == "e\n"
    assert not (hq.work / "job-1").exists()
    prog = hq.job_info(job)["submits"][0]["array"]["program"]
    # Phase 1 fills JOB_ID and SUBMIT_DIR; a path with a placeholder left
    # stays relative (spec 2.3) and is resolved against cwd on the worker.
    assert prog["stdout"] == "out/1/%{TASK_ID}.%{INSTANCE_ID}.o"
    assert prog["stderr"] == str(hq.work / "err/%{TASK_ID}.e")
    t = task(hq.job_info(job), 2)
    assert t["stdout"] == str(hq.work / "out/1/2.0.o")


def test_stdout_none_writes_no_file(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--stdout", "none", "--stderr", "none", "--",
                     "bash", "-c", "echo x; echo y >&2; touch done"])
    hq.wait_job(job)
    assert (hq.work / "done").exists()
    assert not (hq.work / "job-1").exists()
    info = hq.job_info(job)
    prog = info["submits"][0]["array"]["program"]
    assert prog["stdout"] is None and prog["stderr"] is None
    assert info["tasks"][0]["state"] == "finished"


def test_rm_if_finished_removes_only_finished_outputs(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--array", "1-2", "--stdout", ":rm-if-finished",
                     "--stderr", "keep/%{TASK_ID}.err:rm-if-finished",
                     "--", "bash", "-c",
                     "echo out; echo err >&2; exit $((HQ_TASK_ID - 1))"])
    hq.wait_job(job)
    states = hq.task_states(job)
    assert states == {1: "finished", 2: "failed"}
    assert not (hq.work / "job-1" / "1.stdout").exists()
    assert not (hq.work / "keep" / "1.err").exists()
    assert (hq.work / "job-1" / "2.stdout").read_text() == "out\n"
    assert (hq.work / "keep" / "2.err").read_text() == "err\n"


def test_env_cwd_and_task_environment(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--env", "A=1", "--env", "B=x=y", "--env", "EMPTY",
                     "--cwd", "sub/%{JOB_ID}", "--", "bash", "-c",
                     "pwd > pwd.txt; env > env.txt"])
    hq.wait_job(job)
    info = hq.job_info(job)
    assert info["tasks"][0]["state"] == "finished", info["tasks"]
    cwd = hq.work / "sub" / "1"
    assert info["tasks"][0]["cwd"] == str(cwd)
    assert (cwd / "pwd.txt").read_text().strip() == str(cwd)
    # stdout defaults to %{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout
    assert (cwd / "job-1" / "0.stdout").exists()
    env = read_env(cwd / "env.txt")
    assert env["A"] == "1"
    assert env["B"] == "x=y"
    assert env["EMPTY"] == ""
    assert env["HQ_JOB_ID"] == "1"
    assert env["HQ_TASK_ID"] == "0"
    assert env["HQ_INSTANCE_ID"] == "0"
    assert env["HQ_SUBMIT_DIR"] == str(hq.work)
    assert env["HQ_CPUS"] == "0"
    assert os.path.isabs(env["HQ"])
    assert os.path.realpath(env["HQ"]) == os.path.realpath(HQ_BIN)
    prog = info["submits"][0]["array"]["program"]
    assert prog["env"] == {"A": "1", "B": "x=y", "EMPTY": ""}
    assert prog["cwd"] == str(cwd)


# ---- failures ---------------------------------------------------------------
def test_exit_code_failure_message(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--", "bash", "-c", "exit 3"])
    hq.wait_job(job)
    t = hq.job_info(job)["tasks"][0]
    assert t["state"] == "failed"
    assert t["error"] == "Program terminated with exit code 3."
    assert "finished_at" in t and "started_at" in t
    assert hq.command(["--output-mode", "quiet", "job", "list", "--all"]
                      ).stdout == "1 FAILED\n"
    r = hq.command(["task", "list", "1", "-v"])
    assert "Program terminated with exit code 3." in r.stdout


def test_killed_by_signal_failure_message(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--", "bash", "-c", "kill -KILL $$"])
    hq.wait_job(job)
    t = hq.job_info(job)["tasks"][0]
    assert t["state"] == "failed"
    assert t["error"] == ("Program terminated with exit code -1. "
                          "Received signal 9 (SIGKILL).")


def test_spawn_failure_messages(hq):
    hq.start_server()
    hq.start_worker()
    script = hq.work / "noexec.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    j1 = hq.submit(["--", "/nonexistent/prog", "arg"])
    j2 = hq.submit(["--directives", "off", "--", "./noexec.sh"])
    hq.wait_job(j1)
    hq.wait_job(j2)
    t1 = hq.job_info(j1)["tasks"][0]
    assert t1["state"] == "failed"
    assert t1["error"].startswith(
        'Cannot execute "/nonexistent/prog arg": No such file or directory'
    ), t1["error"]
    assert "was not found" in t1["error"]
    t2 = hq.job_info(j2)["tasks"][0]
    assert t2["state"] == "failed"
    assert t2["error"].startswith(
        'Cannot execute "./noexec.sh": Permission denied'), t2["error"]
    assert "not executable" in t2["error"]


def test_max_fails_aborts_the_rest(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    job = hq.submit(["--array", "1-10", "--max-fails", "1", "--",
                     "bash", "-c", "exit 1"])
    hq.wait_job(job)
    info = hq.job_info(job)
    stats = info["info"]["task_stats"]
    assert stats["failed"] == 2, info["tasks"]
    assert stats["aborted"] == 8
    assert stats["finished"] == 0 and stats["waiting"] == 0
    assert info["max_fails"] == 1
    aborted = [t for t in info["tasks"] if t["state"] == "aborted"]
    assert all("started_at" not in t and "stdout" not in t for t in aborted)
    assert hq.command(["--output-mode", "quiet", "job", "list", "--all"]
                      ).stdout == "1 FAILED\n"


def test_job_wait_and_submit_wait_exit_zero_when_tasks_fail(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--array", "1-3", "--", "bash", "-c", "exit 2"])
    r = hq.command(["job", "wait", str(job)], check=False)
    assert r.rc == 0, r
    assert hq.job_info(job)["info"]["task_stats"]["failed"] == 3
    r = hq.command(["submit", "--wait", "--", "false"], check=False)
    assert r.rc == 0, r
    assert hq.job_info(2)["tasks"][0]["state"] == "failed"


# ---- cancel and time limit --------------------------------------------------
def test_cancel_waiting_and_running_tasks(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    running = hq.submit(["--", "bash", "-c", SLEEPER])
    pid = read_pid(hq.work / "pid.1.0.0")
    wait_task_state(hq, running, 0, "running")
    waiting = hq.submit(["--array", "1-3", "--", "bash", "-c", SLEEPER])
    assert set(hq.task_states(waiting).values()) == {"waiting"}

    r = hq.command(["job", "cancel", str(waiting)])
    assert "Job 2 canceled (3 tasks canceled, 0 tasks already finished)" \
        in r.stderr
    assert set(hq.task_states(waiting).values()) == {"canceled"}
    assert pid_alive(pid)

    r = hq.command(["job", "cancel", str(running)])
    assert "Job 1 canceled (1 tasks canceled, 0 tasks already finished)" \
        in r.stderr
    wait_until(lambda: not pid_alive(pid), what="canceled task killed")
    t = hq.job_info(running)["tasks"][0]
    assert t["state"] == "canceled"
    assert "finished_at" not in t and "error" not in t
    for j in (running, waiting):
        assert hq.command(["job", "wait", str(j)]).rc == 0
    assert hq.command(["--output-mode", "quiet", "job", "list", "--all"]
                      ).stdout == "1 CANCELED\n2 CANCELED\n"
    # Nothing left to cancel.
    r = hq.command(["job", "cancel", "1"])
    assert "Canceling job 1 failed; all tasks are already finished" in r.stderr
    r = hq.command(["job", "cancel", "99"])
    assert "Canceling job 99 failed; job not found" in r.stderr
    # The worker is free again.
    job = hq.submit(["--", "true"])
    hq.wait_job(job)
    assert hq.task_states(job) == {0: "finished"}


def test_cancel_kills_a_task_that_ignores_sigint(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--", "bash", "-c",
                     "trap '' INT; echo $$ > pid; "
                     "while true; do sleep 0.1; done"])
    pid = read_pid(hq.work / "pid")
    wait_task_state(hq, job, 0, "running")
    t0 = time.monotonic()
    hq.command(["job", "cancel", str(job)])
    wait_until(lambda: not pid_alive(pid), what="SIGKILL after SIGINT")
    # SIGINT is ignored: the process dies of the SIGKILL sent ~1 s later.
    assert time.monotonic() - t0 >= 0.8


def test_cancel_part_of_an_array(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    job = hq.submit(["--array", "1-3", "--", "bash", "-c",
                     '[ $HQ_TASK_ID = 1 ] && exit 0; ' + SLEEPER])
    wait_task_state(hq, job, 1, "finished")
    pid = read_pid(hq.work / "pid.1.2.0")
    r = hq.command(["job", "cancel", str(job)])
    assert "Job 1 canceled (2 tasks canceled, 1 tasks already finished)" \
        in r.stderr
    wait_until(lambda: not pid_alive(pid), what="canceled task killed")
    assert hq.task_states(job) == {1: "finished", 2: "canceled",
                                   3: "canceled"}


def test_time_limit_kills_the_task(hq):
    hq.start_server()
    hq.start_worker()
    t0 = time.monotonic()
    job = hq.submit(["--time-limit", "1s", "--", "bash", "-c", SLEEPER])
    pid = read_pid(hq.work / "pid.1.0.0")
    hq.wait_job(job)
    elapsed = time.monotonic() - t0
    t = hq.job_info(job)["tasks"][0]
    assert t["state"] == "failed"
    assert t["error"] == "Time limit reached"
    assert 1.0 <= elapsed < 15, elapsed
    wait_until(lambda: not pid_alive(pid), what="timed-out task killed")
    assert hq.job_info(job)["submits"][0]["array"]["time_limit"] == 1.0


# ---- workers: lost, stopped, several, priorities ----------------------------
def test_killed_worker_tasks_rerun_elsewhere_with_new_instance(hq):
    hq.start_server()
    w1 = hq.start_worker()
    job = hq.submit(["--", "bash", "-c",
                     'if [ $HQ_INSTANCE_ID = 0 ]; then ' + SLEEPER + '; fi; '
                     'echo $HQ_INSTANCE_ID > instance'])
    pid = read_pid(hq.work / "pid.1.0.0")
    wait_task_state(hq, job, 0, "running")
    os.kill(w1.pid, signal.SIGKILL)
    w1.wait(timeout=TIMEOUT)
    wait_task_state(hq, job, 0, "waiting")
    # The worker's task does not outlive it.
    wait_until(lambda: not pid_alive(pid), what="orphaned task killed")
    workers = hq.json(["worker", "list", "--all"])
    assert [w["ended"] is not None for w in workers] == [True]
    assert hq.command(["--output-mode", "quiet", "worker", "list", "--all"]
                      ).stdout == "1 CONNECTION LOST\n"

    w2 = hq.start_worker()
    hq.wait_job(job)
    t = hq.job_info(job)["tasks"][0]
    assert t["state"] == "finished"
    assert t["worker"] == w2.worker_id == 2
    assert (hq.work / "instance").read_text() == "1\n"


def test_crash_counter_fails_task_at_the_limit(hq):
    hq.start_server()
    job = hq.submit(["--crash-limit", "2", "--", "bash", "-c", SLEEPER])
    for instance in (0, 1):
        w = hq.start_worker()
        read_pid(hq.work / f"pid.1.0.{instance}")
        wait_task_state(hq, job, 0, "running")
        os.kill(w.pid, signal.SIGKILL)
        w.wait(timeout=TIMEOUT)
        if instance == 0:
            wait_task_state(hq, job, 0, "waiting")
    t = wait_task_state(hq, job, 0, "failed")
    assert t["error"] == (
        "Task was running on a worker that was lost; the task has occurred "
        "2 times in this situation and limit was reached.")
    hq.wait_job(job)


def test_crash_limit_one_fails_on_first_loss(hq):
    hq.start_server()
    w = hq.start_worker()
    job = hq.submit(["--crash-limit", "1", "--", "bash", "-c", SLEEPER])
    read_pid(hq.work / "pid.1.0.0")
    wait_task_state(hq, job, 0, "running")
    os.kill(w.pid, signal.SIGKILL)
    t = wait_task_state(hq, job, 0, "failed")
    assert t["error"] == (
        "Task was running on a worker that was lost; the task has occurred "
        "1 times in this situation and limit was reached.")
    assert hq.job_info(job)["submits"][0]["array"]["crash_limit"] == 1


def test_stopped_worker_requeues_without_counting_a_crash(hq):
    hq.start_server()
    w1 = hq.start_worker()
    job = hq.submit(["--crash-limit", "1", "--", "bash", "-c",
                     'if [ $HQ_INSTANCE_ID = 0 ]; then ' + SLEEPER + '; fi; '
                     'echo $HQ_INSTANCE_ID > instance'])
    pid = read_pid(hq.work / "pid.1.0.0")
    wait_task_state(hq, job, 0, "running")
    r = hq.command(["worker", "stop", str(w1.worker_id)])
    assert f"Worker {w1.worker_id} stopped" in r.stderr + r.stdout
    # A clean exit (under the sanitizers this also means no leak report).
    assert w1.wait(timeout=TIMEOUT) == 0, hq.output(w1)
    wait_until(lambda: not pid_alive(pid), what="stopped worker's task killed")
    # Not failed, although the crash limit is 1: a stop is not a crash.
    wait_task_state(hq, job, 0, "waiting")
    assert hq.command(["--output-mode", "quiet", "worker", "list", "--all"]
                      ).stdout == "1 STOPPED\n"
    hq.start_worker()
    hq.wait_job(job)
    assert hq.task_states(job) == {0: "finished"}
    assert (hq.work / "instance").read_text() == "1\n"


def test_two_workers_share_work(hq):
    hq.start_server()
    w1 = hq.start_worker(cpus=1)
    w2 = hq.start_worker(cpus=1)
    job = hq.submit(["--array", "1-2", "--env", "PEERS=1 2", "--",
                     "bash", "-c", BARRIER])
    hq.wait_job(job)
    info = hq.job_info(job)
    assert info["info"]["task_stats"]["finished"] == 2, info["tasks"]
    assert {t["worker"] for t in info["tasks"]} == {w1.worker_id,
                                                     w2.worker_id}
    # And a larger array spreads over both.
    job = hq.submit(["--array", "1-40", "--", "bash", "-c", "sleep 0.05"])
    hq.wait_job(job)
    info = hq.job_info(job)
    assert info["info"]["task_stats"]["finished"] == 40
    assert {t["worker"] for t in info["tasks"]} == {w1.worker_id,
                                                     w2.worker_id}


def test_priorities_on_a_one_cpu_worker(hq):
    hq.start_server()
    # Submitted before any worker exists, so that all are waiting at once.
    order = 'echo "$HQ_JOB_ID.$HQ_TASK_ID" >> order'
    low = hq.submit(["--array", "1-3", "--", "bash", "-c", order])
    high = hq.submit(["--array", "1-3", "--priority", "10", "--",
                      "bash", "-c", order])
    neg = hq.submit(["--priority", "-5", "--", "bash", "-c", order])
    mid = hq.submit(["--array", "1-2", "--priority", "5", "--",
                     "bash", "-c", order])
    hq.start_worker(cpus=1)
    for j in (low, high, neg, mid):
        hq.wait_job(j)
    got = (hq.work / "order").read_text().split()
    assert got == ["2.1", "2.2", "2.3", "4.1", "4.2", "1.1", "1.2", "1.3",
                   "3.0"]
    assert hq.job_info(high)["submits"][0]["array"]["priority"] == 10


# ---- output modes -----------------------------------------------------------
JOB_INFO_KEYS = {"id", "name", "task_count", "is_open", "task_stats",
                 "cancel_reason"}
STATS_KEYS = {"running", "finished", "failed", "canceled", "aborted",
              "waiting"}


def test_json_and_quiet_output_shapes(hq):
    hq.start_server()
    w = hq.start_worker(cpus=2)
    r = hq.command(["--output-mode", "json", "submit", "--name", "demo",
                    "--array", "1-3", "--", "bash", "-c",
                    "exit $((HQ_TASK_ID==3))"])
    assert r.json() == {"id": 1}
    r = hq.command(["--output-mode", "quiet", "submit", "--", "true"])
    assert r.stdout == "2\n"
    hq.wait_job("1,2")

    jobs = hq.json(["job", "list", "--all"])
    assert [j["id"] for j in jobs] == [1, 2]
    for j in jobs:
        assert set(j) == JOB_INFO_KEYS
        assert set(j["task_stats"]) == STATS_KEYS
    assert jobs[0]["name"] == "demo"
    assert jobs[0]["task_count"] == 3
    assert jobs[0]["is_open"] is False
    assert jobs[0]["task_stats"] == {"running": 0, "finished": 2,
                                     "failed": 1, "canceled": 0,
                                     "aborted": 0, "waiting": 0}
    assert jobs[1]["name"] == "true"
    # Without --all, completed jobs are not listed.
    assert hq.json(["job", "list"]) == []
    assert hq.command(["--output-mode", "quiet", "job", "list", "--all"]
                      ).stdout == "1 FAILED\n2 FINISHED\n"

    info = hq.json(["job", "info", "1"])
    assert isinstance(info, list) and len(info) == 1
    info = info[0]
    assert {"info", "max_fails", "started_at", "finished_at", "submits",
            "tasks"} <= set(info)
    assert set(info["info"]) == JOB_INFO_KEYS
    assert info["finished_at"] is not None
    desc = info["submits"][0]["array"]
    assert desc["program"]["args"] == ["bash", "-c",
                                       "exit $((HQ_TASK_ID==3))"]
    assert desc["resources"] == [{
        "n_nodes": 0,
        "resources": [{"resource": "cpus", "request": {"Compact": 10000}}],
        "min_time": 0.0, "weight": 10000}]
    assert desc["pin_mode"] is None
    assert desc["priority"] == 0
    assert desc["time_limit"] is None
    assert desc["task_dir"] is False
    assert desc["crash_limit"] == 5
    t3 = task(info, 3)
    assert t3["state"] == "failed"
    assert {"id", "state", "cwd", "stdout", "stderr", "started_at", "worker",
            "finished_at", "error"} == set(t3)
    assert t3["started_at"].endswith("Z")
    assert "error" not in task(info, 1)
    # Two jobs in one query, an unknown one ignored.
    both = hq.json(["job", "info", "1-2,7"])
    assert [j["info"]["id"] for j in both] == [1, 2]

    tl = hq.json(["task", "list", "1"])
    assert list(tl) == ["1"]
    assert [t["id"] for t in tl["1"]] == [1, 2, 3]
    assert tl["1"][2]["error"] == "Program terminated with exit code 1."
    assert hq.command(["--output-mode", "quiet", "task", "list", "1"]
                      ).stdout == ""

    workers = hq.json(["worker", "list"])
    assert len(workers) == 1
    wk = workers[0]
    assert {"id", "configuration", "allocation", "runtime_info",
            "last_task_started", "started", "ended"} <= set(wk)
    assert wk["id"] == w.worker_id
    assert wk["runtime_info"] is None
    assert wk["ended"] is None
    cfg = wk["configuration"]
    assert cfg["heartbeat_interval"] == 8.0
    assert cfg["on_server_lost"] == "stop"
    assert cfg["group"] == "default"
    res = {r["name"]: r for r in cfg["resources"]["resources"]}
    assert res["cpus"] == {"name": "cpus", "kind": "range", "start": 0,
                           "end": 1}
    assert hq.command(["--output-mode", "quiet", "worker", "list"]
                      ).stdout == f"{w.worker_id} RUNNING\n"

    si = hq.json(["server", "info"])
    assert set(si) == {"server_dir", "server_uid", "worker_host",
                       "client_host", "client_port", "worker_port", "pid",
                       "start_date", "version", "journal_path"}
    assert si["server_dir"] is None
    assert si["journal_path"] is None
    assert len(si["server_uid"]) == 6 and si["server_uid"].isalnum()
    assert isinstance(si["client_port"], int) and si["client_port"] > 0
    assert hq.command(["--output-mode", "quiet", "server", "info"]
                      ).stdout == ""
    access = json.loads((hq.tmp / "server" / "hq-current" / "access.json")
                        .read_text())
    assert access["server_uid"] == si["server_uid"]
    assert access["client"]["port"] == si["client_port"]
    assert access["worker"]["port"] == si["worker_port"]

    # A command with no data prints {} in JSON mode.
    assert hq.json(["job", "cancel", "1"]) == {}


def test_cli_mode_tables(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--name", "tbl", "--", "true"])
    hq.wait_job(job)
    out = hq.command(["job", "list", "--all"]).stdout
    lines = out.splitlines()
    assert lines[0].startswith("+-") and lines[1].split("|")[1:5] == [
        " ID ", " Name ", " State    ", " Tasks "]
    assert any("tbl" in line and "FINISHED" in line for line in lines)
    out = hq.command(["job", "list"]).stdout
    assert "There is 1 job in total. Use `--all` to display all jobs." in out
    out = hq.command(["server", "info"]).stdout
    assert "| Server UID " in out and "| Client port " in out


def test_errors_in_json_mode(hq):
    # No server at all.
    r = hq.command(["--output-mode", "json", "job", "list"], check=False)
    assert r.rc == 1
    err = r.json()["error"]
    assert err.startswith(
        f'No running instance of HQ found at "{hq.server_dir}"')
    r = hq.command(["job", "list"], check=False)
    assert r.rc == 1 and r.stdout == ""
    assert "No running instance of HQ found" in r.stderr
    hq.start_server()
    # A malformed selector and an invalid request.
    for args in (["job", "info", "x-y"],
                 ["submit", "--cpus", "0", "--", "true"],
                 ["submit", "--array", "5-1", "--", "true"]):
        r = hq.command(["--output-mode", "json"] + args, check=False)
        assert r.rc == 1, r
        assert set(r.json()) == {"error"}, r
        assert r.json()["error"]
    # Nothing was submitted by the rejected requests.
    assert hq.json(["job", "list", "--all"]) == []


# ---- server dir, stop, waits ------------------------------------------------
def test_server_dir_layout_permissions_and_clean_stop(hq):
    server = hq.start_server()
    w = hq.start_worker()
    sd = hq.tmp / "server"
    assert stat.S_IMODE(os.stat(sd).st_mode) == 0o700
    cur = sd / "hq-current"
    assert os.path.islink(cur)
    assert os.readlink(cur) == str(sd / "001")
    acc = sd / "001" / "access.json"
    assert stat.S_IMODE(os.stat(acc).st_mode) == 0o400
    access = json.loads(acc.read_text())
    assert set(access) == {"version", "server_uid", "client", "worker"}
    for side in ("client", "worker"):
        assert set(access[side]) == {"host", "port", "secret_key"}
        key = access[side]["secret_key"]
        assert len(key) == 64 and int(key, 16) >= 0
    assert access["client"]["secret_key"] != access["worker"]["secret_key"]

    r = hq.command(["server", "stop"])
    assert r.rc == 0
    assert server.wait(timeout=TIMEOUT) == 0, hq.output(server)
    # The worker is told to stop and exits cleanly.
    assert w.wait(timeout=TIMEOUT) == 0, hq.output(w)
    assert not os.path.lexists(cur)
    assert acc.exists()  # the instance dir stays for the record
    r = hq.command(["server", "info"], check=False)
    assert r.rc == 1

    # The next server gets the next instance dir.
    hq.start_server()
    assert os.readlink(cur) == str(sd / "002")


def test_second_server_on_a_live_dir_is_refused(hq):
    hq.start_server()
    uid = hq.json(["server", "info"])["server_uid"]
    second = hq.spawn(["server", "start"], "server2")
    assert second.wait(timeout=TIMEOUT) == 1
    out = hq.output(second)
    sd = hq.server_dir
    assert (f"Server at {sd} is already online, please stop it first using "
            f"`hq server stop --server-dir {sd}`") in out
    # The first one is untouched.
    assert hq.json(["server", "info"])["server_uid"] == uid
    assert os.readlink(hq.tmp / "server" / "hq-current").endswith("/001")


def test_server_wait_and_worker_wait(hq):
    r = hq.command(["server", "wait", "--timeout", "1s"], check=False)
    assert r.rc == 1
    assert ("Timeout after 1s: Could not connect to server at "
            f"`{hq.server_dir}`. Make sure that the server is running."
            ) in r.stderr

    waiter = subprocess.Popen([HQ_BIN, "server", "wait", "--timeout", "30s"],
                              env=hq.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True)
    hq.procs.append(waiter)
    time.sleep(0.3)
    assert waiter.poll() is None
    hq.start_server()
    assert waiter.wait(timeout=TIMEOUT) == 0

    wwait = subprocess.Popen([HQ_BIN, "worker", "wait", "2"], env=hq.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    hq.procs.append(wwait)
    hq.start_worker()
    time.sleep(0.3)
    assert wwait.poll() is None
    hq.start_worker()
    assert wwait.wait(timeout=TIMEOUT) == 0
    assert hq.command(["worker", "wait", "1"]).rc == 0
