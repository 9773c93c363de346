# SPDX-License-Identifier: MIT
"""Task notifications: `hq task notify` and `submit --on-notify` (2.14)."""
import os
import signal
import stat

CALLBACK = """#!/bin/sh
echo "$HQ_JOB_ID/$HQ_TASK_ID/$HQ_WORKER_ID: $*" >> {log}
"""


def make_callback(hq, body=CALLBACK):
    log = hq.work / "notes.txt"
    path = hq.work / "cb.sh"
    path.write_text(body.format(log=log))
    path.chmod(0o755)
    return path, log


def test_on_notify_runs_callback_with_env_and_message(hq):
    hq.start_server()
    w = hq.start_worker(cpus=2)
    cb, log = make_callback(hq)
    r = hq.command(["submit", "--array", "1-2", "--wait", "--on-notify",
                    f"{cb} 'first arg'", "--", "bash", "-c",
                    'sleep 0.$HQ_TASK_ID; "$HQ" task notify "hello $HQ_TASK_ID"'
                    ' && "$HQ" task notify "bye $HQ_TASK_ID"'])
    assert r.rc == 0
    assert r.stdout == "Job submitted successfully, job ID: 1\n"
    notes = log.read_text().splitlines()
    # Sequential callbacks; per task in the order sent.
    assert sorted(notes) == sorted([
        f"1/1/{w.worker_id}: first arg hello 1",
        f"1/1/{w.worker_id}: first arg bye 1",
        f"1/2/{w.worker_id}: first arg hello 2",
        f"1/2/{w.worker_id}: first arg bye 2"])
    assert notes.index(f"1/1/{w.worker_id}: first arg hello 1") < \
        notes.index(f"1/1/{w.worker_id}: first arg bye 1")
    assert hq.task_states(1) == {1: "finished", 2: "finished"}


def test_on_notify_callback_failures_only_warn(hq):
    hq.start_server()
    hq.start_worker()
    cb, log = make_callback(hq, CALLBACK + "exit 3\n")
    r = hq.command(["submit", "--wait", "--on-notify", str(cb), "--",
                    "bash", "-c", '"$HQ" task notify one'])
    assert r.rc == 0
    assert "exited with code 3" in r.stderr
    assert log.read_text() == "1/0/1: one\n"
    r = hq.command(["submit", "--wait", "--on-notify",
                    "/nonexistent/callback", "--", "bash", "-c",
                    '"$HQ" task notify two'])
    assert r.rc == 0
    assert "/nonexistent/callback" in r.stderr
    assert "could not be started" in r.stderr
    assert hq.task_states(2) == {0: "finished"}


def test_on_notify_is_ignored_without_wait(hq):
    hq.start_server()
    hq.start_worker()
    cb, log = make_callback(hq)
    job = hq.submit(["--on-notify", str(cb), "--", "bash", "-c",
                     '"$HQ" task notify ignored'])
    hq.wait_job(job)
    assert hq.task_states(job) == {0: "finished"}
    assert not log.exists()
    # A waiter that did not ask for notifications gets none.
    r = hq.command(["submit", "--wait", "--", "bash", "-c",
                    '"$HQ" task notify nobody'])
    assert r.rc == 0 and "nobody" not in r.stdout + r.stderr


def test_on_notify_bad_command_is_refused_before_submit(hq):
    hq.start_server()
    r = hq.command(["submit", "--wait", "--on-notify", "echo 'unterminated",
                    "--", "true"], check=False)
    assert r.rc == 1 and "--on-notify" in r.stderr
    r = hq.command(["submit", "--wait", "--on-notify", "  ", "--", "true"],
                   check=False)
    assert r.rc == 1 and "empty" in r.stderr
    assert hq.json(["job", "list", "--all"]) == []


def test_task_notify_errors(hq):
    env = dict(hq.env)
    env.pop("HQ_ACCESS_KEY", None)
    hq.env = env
    r = hq.command(["task", "notify", "x"], check=False)
    assert r.rc == 1
    assert r.stderr.strip() == ("HQ_ACCESS_KEY variable not found. Are you "
                                "running this command inside a task?")
    r = hq.command(["task", "notify", "x" * 1025], check=False)
    assert r.rc == 1
    assert r.stderr.strip() == ("Notify message limit exceeded, message "
                                "len: 1025, limit: 1024")
    r = hq.command(["task", "notify", "x"], env={"HQ_ACCESS_KEY": "nocolon"},
                   check=False)
    assert r.rc == 1
    assert r.stderr.strip() == "Value of HQ_ACCESS_KEY has a wrong format"
    r = hq.command(["task", "notify", "x"],
                   env={"HQ_ACCESS_KEY": "/nonexistent/sock:" + "0" * 32},
                   check=False)
    assert r.rc == 1 and "Cannot connect to the worker" in r.stderr
    r = hq.command(["task", "notify"], check=False)
    assert r.rc == 1 and "<MESSAGE>" in r.stderr


def test_task_notify_socket_and_wrong_token(hq):
    hq.start_server()
    hq.start_worker()
    cb, log = make_callback(hq)
    # The socket is private (0600), and a valid-looking but wrong token is
    # refused by the worker.
    script = ('sock=${HQ_ACCESS_KEY%:*}; stat -c %a "$sock"; '
              'HQ_ACCESS_KEY="$sock:0123456789abcdef0123456789abcdef" '
              '"$HQ" task notify forged; echo "rc=$?"; '
              '"$HQ" task notify "$(printf "x%.0s" $(seq 1 1024))"; '
              'echo "rc=$?"')
    r = hq.command(["submit", "--wait", "--on-notify", str(cb), "--",
                    "bash", "-c", script])
    assert r.rc == 0
    out = (hq.work / "job-1" / "0.stdout").read_text().splitlines()
    err = (hq.work / "job-1" / "0.stderr").read_text()
    assert out == ["600", "rc=1", "rc=0"]
    assert "Invalid access key" in err
    notes = log.read_text().splitlines()
    assert notes == ["1/0/1: " + "x" * 1024]


def test_notifications_are_not_journalled(hq):
    journal = hq.tmp / "journal"
    hq.start_server(journal=journal)
    hq.start_worker()
    cb, log = make_callback(hq)
    # The message is computed by the task: its text is not in the command.
    hq.command(["submit", "--wait", "--on-notify", str(cb), "--", "bash",
                "-c", '"$HQ" task notify "secret-$((6 * 7))-message"'])
    assert log.read_text() == "1/0/1: secret-42-message\n"
    hq.command(["journal", "flush"])
    for name in os.listdir(journal) if journal.is_dir() else [journal.name]:
        p = journal / name if journal.is_dir() else journal
        if stat.S_ISREG(os.stat(p).st_mode):
            assert b"secret-42-message" not in p.read_bytes()


def test_notify_with_long_work_dir(hq):
    # A socket path must fit in 108 bytes: a long work dir falls back to a
    # private directory in /tmp.
    hq.start_server()
    work_dir = hq.tmp / ("w" * 60) / ("x" * 60)
    work_dir.parent.mkdir()
    w = hq.start_worker("--work-dir", str(work_dir))
    cb, log = make_callback(hq)
    r = hq.command(["submit", "--wait", "--on-notify", str(cb), "--",
                    "bash", "-c", 'echo "${HQ_ACCESS_KEY%:*}"; '
                    'stat -c %a "$(dirname "${HQ_ACCESS_KEY%:*}")"; '
                    '"$HQ" task notify long'])
    assert r.rc == 0
    sock, mode = out_lines(hq, 1)
    assert sock.startswith("/tmp/hq-notify-") and mode == "700"
    assert log.read_text() == "1/0/1: long\n"
    # A worker that stops removes the socket and its directory.
    hq.kill(w, signal.SIGTERM)
    assert not os.path.exists(os.path.dirname(sock))


def out_lines(hq, job):
    return (hq.work / f"job-{job}" / "0.stdout").read_text().splitlines()
