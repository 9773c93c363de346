# SPDX-License-Identifier: MIT
"""Output streaming (--stream, spec 2.12) and `hq output-log` (spec 1.10)."""
import json
import os
import re
import resource
import stat
import subprocess

from conftest import HQ_BIN, TIMEOUT, wait_until

HELLO = "bash -c 'echo Hello from $HQ_TASK_ID'"


def hqs_files(d):
    return sorted(p for p in os.listdir(d) if p.endswith(".hqs"))


def kv_table(text):
    """Rows of a vertical table: {key: value}."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1]
    return rows


def submit_hello(hq, n, stream="out", extra=()):
    job = hq.submit(["--stream", stream, "--array", f"1-{n}", *extra,
                     "--", "bash", "-c", "echo Hello from $HQ_TASK_ID"])
    hq.wait_job(job)
    return job


def test_stream_array_read_back(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    job = submit_hello(hq, 20)
    out = hq.work / "out"
    files = hqs_files(out)
    # One shared file for the whole array on one worker.
    assert len(files) == 1
    assert re.fullmatch(r"[A-Za-z0-9]{12}\.hqs", files[0])
    assert stat.S_IMODE(os.stat(out / files[0]).st_mode) == 0o600
    # No per-task output files.
    assert not (hq.work / f"job-{job}").exists()

    rows = kv_table(hq.command(["output-log", "out", "summary"]).stdout)
    assert rows["Path"] == "out"
    assert rows["Files"] == "1"
    assert rows["Jobs"] == "1"
    assert rows["Tasks"] == "20"
    assert rows["Opened streams"] == "0"
    assert rows["Stdout/stderr size"] == "271 B / 0 B"
    assert rows["Superseded streams"] == "0"
    assert rows["Superseded stdout/stderr size"] == "0 B / 0 B"

    r = hq.command(["output-log", "out", "cat", str(job), "stdout"])
    assert r.stdout == "".join(f"Hello from {i}\n" for i in range(1, 21))
    assert hq.command(["output-log", "out", "cat", str(job),
                       "stderr"]).stdout == ""
    r = hq.command(["output-log", "out", "cat", str(job), "stdout",
                    "--task=3-4,2"])
    assert r.stdout == "Hello from 3\nHello from 4\nHello from 2\n"

    lines = hq.command(["output-log", "out", "show"]).stdout.splitlines()
    assert sorted(lines) == sorted(f"1.{i:02}:0> Hello from {i}"
                                   for i in range(1, 21))
    assert hq.command(["output-log", "out", "show", "--channel=stderr"
                       ]).stdout == ""
    assert hq.command(["output-log", "out", "show", "--job", "7"
                       ]).stdout == ""
    assert hq.command(["output-log", "out", "jobs"]).stdout == f"{job}\n"

    r = hq.command(["output-log", "out", "export", str(job), "--task=3-4,2"])
    assert json.loads(r.stdout) == [
        {"id": 3, "finished": True, "stdout": "Hello from 3\n"},
        {"id": 4, "finished": True, "stdout": "Hello from 4\n"},
        {"id": 2, "finished": True, "stdout": "Hello from 2\n"},
    ]
    # Pretty JSON, as serde_json::to_string_pretty.
    assert r.stdout.startswith('[\n  {\n    "id": 3,\n')

    summary = hq.json(["output-log", "out", "summary"])
    assert summary == {"filename": "out", "summary": {
        "n_files": 1, "n_jobs": 1, "n_tasks": 20, "n_streams": 20,
        "n_opened": 0, "stdout_size": 271, "stderr_size": 0,
        "n_superseded": 0, "superseded_stdout_size": 0,
        "superseded_stderr_size": 0}}
    # Job info shows the channels as streamed.
    desc = hq.job_info(job)["submits"][0]["array"]["program"]
    assert desc["stdout"] == "<pipe>" and desc["stderr"] == "<pipe>"


def test_stream_channels_colors_and_missing_newline(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--stream", "s", "--stdout", "none", "--", "bash",
                     "-c", "printf 'to stdout\\n'; printf 'no newline' >&2"])
    hq.wait_job(job)
    assert hq.job_info(job)["tasks"][0]["state"] == "finished"
    # stdout went to /dev/null; only stderr is in the stream.
    r = hq.command(["output-log", "s", "show"])
    assert r.stdout == "1.0:1> no newline\n"
    assert hq.command(["output-log", "s", "cat", "1", "stderr"]
                      ).stdout == "no newline"
    r = hq.command(["--colors", "always", "output-log", "s", "show"])
    assert r.stdout == "\x1b[41m1.0:1>\x1b[0m no newline\n"

    # One channel to a file, the other streamed.
    job = hq.submit(["--stream", "s", "--stdout", "plain-%{TASK_ID}.txt",
                     "--", "bash", "-c", "echo out; echo err >&2"])
    hq.wait_job(job)
    assert (hq.work / "plain-0.txt").read_text() == "out\n"
    assert hq.command(["output-log", "s", "cat", str(job), "stderr"]
                      ).stdout == "err\n"
    assert hq.command(["output-log", "s", "cat", str(job), "stdout"]
                      ).stdout == ""
    # Two jobs, one worker: still one file.
    assert len(hqs_files(hq.work / "s")) == 1
    assert hq.command(["output-log", "s", "jobs"]).stdout == "1\n2\n"


def test_stream_large_output_is_complete_when_finished(hq):
    hq.start_server()
    hq.start_worker()
    # Far more than one 16 KiB block and than a pipe buffer, ending with
    # the exit: everything must be in the file when the task is reported.
    job = hq.submit(["--stream", "big", "--", "seq", "1", "300000"])
    hq.wait_job(job)
    expected = "".join(f"{i}\n" for i in range(1, 300001))
    r = hq.command(["output-log", "big", "cat", str(job), "stdout"])
    assert r.stdout == expected
    summary = hq.json(["output-log", "big", "summary"])["summary"]
    assert summary["stdout_size"] == len(expected)


def test_stream_dir_placeholders_and_relative_to_submit_dir(hq):
    hq.start_server()
    hq.start_worker()
    sub = hq.work / "sub"
    sub.mkdir()
    job = hq.submit(["--stream", "logs/%{JOB_ID}-%{SERVER_UID}", "--",
                     "echo", "x"], cwd=sub)
    hq.wait_job(job)
    uid = hq.json(["server", "info"])["server_uid"]
    d = sub / "logs" / f"{job}-{uid}"
    assert len(hqs_files(d)) == 1
    assert hq.command(["output-log", str(d), "cat", str(job), "stdout"]
                      ).stdout == "x\n"


def test_output_log_errors(hq):
    (hq.work / "empty").mkdir()
    r = hq.command(["output-log", "empty", "summary"], check=False)
    assert r.rc == 1 and r.stderr.strip() == "No log files found"
    r = hq.command(["--output-mode", "json", "output-log", "empty",
                    "jobs"], check=False)
    assert r.rc == 1 and r.json() == {"error": "No log files found"}
    r = hq.command(["output-log", "nonexistent", "summary"], check=False)
    assert r.rc == 1 and "nonexistent" in r.stderr
    assert "No such file or directory" in r.stderr
    r = hq.command(["output-log", "empty"], check=False)
    assert r.rc == 1 and "requires a subcommand" in r.stderr
    r = hq.command(["output-log", "empty", "frobnicate"], check=False)
    assert r.rc == 1 and "unrecognized subcommand 'frobnicate'" in r.stderr
    r = hq.command(["output-log", "empty", "cat", "1"], check=False)
    assert r.rc == 1 and "<CHANNEL>" in r.stderr
    r = hq.command(["output-log", "empty", "cat", "1", "stdin"], check=False)
    assert r.rc == 1 and "invalid value 'stdin'" in r.stderr
    r = hq.command(["output-log", "empty", "cat", "x", "stdout"],
                   check=False)
    assert r.rc == 1 and "invalid value 'x'" in r.stderr
    r = hq.command(["output-log", "empty", "show", "--channel", "both"],
                   check=False)
    assert r.rc == 1 and "invalid value 'both'" in r.stderr


def test_output_log_unknown_job_and_task(hq):
    hq.start_server()
    hq.start_worker()
    submit_hello(hq, 2)
    r = hq.command(["output-log", "out", "cat", "5", "stdout"], check=False)
    assert r.rc == 1 and r.stderr.strip() == "Job 5 not found"
    r = hq.command(["output-log", "out", "cat", "1", "stdout", "--task",
                    "2,9"], check=False)
    assert r.rc == 1 and r.stderr.strip() == "Task 9 not found"
    r = hq.command(["output-log", "out", "export", "1", "--task", "0"],
                   check=False)
    assert r.rc == 1 and r.stderr.strip() == "Task 0 not found"
    # Other files in the directory are not stream files: skipped, named.
    (hq.work / "out" / "junk.hqs").write_text("not a stream file\n")
    (hq.work / "out" / "notes.txt").write_text("ignored\n")
    r = hq.command(["output-log", "out", "cat", "1", "stdout"])
    assert r.stdout == "Hello from 1\nHello from 2\n"
    assert "junk.hqs" in r.stderr and "not a stream file" in r.stderr


def test_output_log_unfinished_and_canceled(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--stream", "out", "--", "bash", "-c",
                     "echo started; sleep 100"])
    out = hq.work / "out"

    def has_data():
        if not out.exists() or not hqs_files(out):
            return False
        r = hq.command(["output-log", "out", "cat", str(job), "stdout",
                        "--allow-unfinished"], check=False)
        return r.rc == 0 and r.stdout == "started\n"
    wait_until(has_data, what="streamed data")
    r = hq.command(["output-log", "out", "cat", str(job), "stdout"],
                   check=False)
    assert r.rc == 1
    assert r.stderr.strip() == "Stream for task 0 is not finished"
    rows = kv_table(hq.command(["output-log", "out", "summary"]).stdout)
    assert rows["Opened streams"] == "1"
    assert json.loads(hq.command(["output-log", "out", "export", str(job)]
                                 ).stdout) == [
        {"id": 0, "finished": False, "stdout": "started\n"}]
    hq.command(["job", "cancel", str(job)])
    hq.wait_job(job)
    # A canceled stream has no end: it stays unfinished.
    rows = kv_table(hq.command(["output-log", "out", "summary"]).stdout)
    assert rows["Opened streams"] == "1"


def test_stream_time_limit_drops_stream_end(hq):
    hq.start_server()
    hq.start_worker()
    job = hq.submit(["--stream", "out", "--time-limit", "1s", "--", "bash",
                     "-c", "echo before; sleep 50"])
    hq.wait_job(job)
    task = hq.job_info(job)["tasks"][0]
    assert task["state"] == "failed"
    assert task["error"] == "Time limit reached"
    r = hq.command(["output-log", "out", "cat", str(job), "stdout"],
                   check=False)
    assert r.rc == 1 and "is not finished" in r.stderr


def test_stream_superseded_instance(hq):
    hq.start_server()
    w1 = hq.start_worker()
    job = hq.submit(["--stream", "out", "--", "bash", "-c",
                     "echo run $HQ_INSTANCE_ID; "
                     "if [ $HQ_INSTANCE_ID = 0 ]; then sleep 100; fi"])

    def first_run_streamed():
        if not (hq.work / "out").exists() or not hqs_files(hq.work / "out"):
            return False
        r = hq.command(["output-log", "out", "cat", str(job), "stdout",
                        "--allow-unfinished"], check=False)
        return r.stdout == "run 0\n"
    wait_until(first_run_streamed, what="first instance output")
    hq.kill(w1)  # a crash: the task is restarted elsewhere
    hq.start_worker()
    hq.wait_job(job)
    assert hq.job_info(job)["tasks"][0]["state"] == "finished"
    # Two workers, two files; only the last instance counts.
    assert len(hqs_files(hq.work / "out")) == 2
    assert hq.command(["output-log", "out", "cat", str(job), "stdout"]
                      ).stdout == "run 1\n"
    assert hq.command(["output-log", "out", "show"]).stdout == \
        "1.0:0> run 1\n"
    rows = kv_table(hq.command(["output-log", "out", "summary"]).stdout)
    assert rows["Files"] == "2"
    assert rows["Tasks"] == "1"
    assert rows["Opened streams"] == "0"
    assert rows["Stdout/stderr size"] == "6 B / 0 B"
    assert rows["Superseded streams"] == "1"
    assert rows["Superseded stdout/stderr size"] == "6 B / 0 B"


def test_output_log_several_server_uids(hq):
    hq.start_server()
    hq.start_worker()
    submit_hello(hq, 1, stream=str(hq.work / "shared"))
    uid1 = hq.json(["server", "info"])["server_uid"]
    # A second, independent server writing into the same directory.
    other = ["--server-dir", str(hq.tmp / "server2")]
    p = hq.spawn(["server", "start"] + other, "server2")
    wait_until(lambda: hq.command(other + ["server", "info"],
                                  check=False).rc == 0,
               what="second server")
    hq.spawn(["worker", "start", "--cpus", "1"] + other, "worker2")
    wait_until(lambda: hq.json(other + ["worker", "list"]),
               what="second worker")
    job2 = int(hq.command(other + ["--output-mode", "quiet", "submit",
                                   "--stream", str(hq.work / "shared"),
                                   "--", "echo", "second"]).stdout)
    hq.command(other + ["job", "wait", str(job2)])
    uid2 = hq.json(other + ["server", "info"])["server_uid"]
    assert uid1 != uid2 and p.poll() is None

    r = hq.command(["output-log", "shared", "summary"], check=False)
    assert r.rc == 1
    lines = r.stderr.strip().splitlines()
    assert lines[0] == "Found streams from multiple server instances:"
    assert sorted(lines[1:3]) == sorted([uid1, uid2])
    assert lines[3] == "Use --server-uid=... to specify server uid"
    for sub in (["jobs"], ["show"], ["cat", "1", "stdout"]):
        assert hq.command(["output-log", "shared"] + sub,
                          check=False).rc == 1
    assert hq.command(["output-log", "shared", "--server-uid", uid1, "cat",
                       "1", "stdout"]).stdout == "Hello from 1\n"
    assert hq.command(["output-log", "shared", f"--server-uid={uid2}",
                       "cat", "1", "stdout"]).stdout == "second\n"


def test_output_log_truncated_and_damaged_files(hq):
    hq.start_server()
    hq.start_worker()
    submit_hello(hq, 3)
    path = hq.work / "out" / hqs_files(hq.work / "out")[0]
    data = path.read_bytes()
    # A crash in the middle of the last chunk (task 3's end marker).
    path.write_bytes(data[:-5])
    r = hq.command(["output-log", "out", "cat", "1", "stdout", "--task",
                    "1-2"])
    assert r.stdout == "Hello from 1\nHello from 2\n"
    assert "ends inside a chunk" in r.stderr and path.name in r.stderr
    r = hq.command(["output-log", "out", "cat", "1", "stdout"], check=False)
    assert r.rc == 1 and "Stream for task 3 is not finished" in r.stderr
    # A flipped byte inside the data is damage: refused, never misread.
    bad = bytearray(data)
    pos = data.index(b"Hello from 2")
    bad[pos] ^= 0x20
    path.write_bytes(bytes(bad))
    r = hq.command(["output-log", "out", "cat", "1", "stdout"], check=False)
    assert r.rc == 1
    assert path.name in r.stderr and "data checksum mismatch" in r.stderr
    assert re.search(r"offset \d+", r.stderr)


def spawn_worker_with_fsize_limit(hq, limit):
    """A worker whose files may not grow past 'limit' bytes (RLIMIT_FSIZE)."""
    log = open(hq.tmp / "worker-limited.log", "w+")
    hq.logs.append(log)

    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    before = hq.online_worker_ids()
    p = subprocess.Popen([HQ_BIN, "worker", "start", "--cpus", "1"],
                         stdout=log, stderr=subprocess.STDOUT, env=hq.env,
                         cwd=str(hq.work), start_new_session=True,
                         preexec_fn=preexec)
    p.log = log
    hq.procs.append(p)
    wait_until(lambda: hq.online_worker_ids() - before, what="worker")
    return p


def test_stream_write_failure_fails_task(hq):
    hq.start_server()
    spawn_worker_with_fsize_limit(hq, 64 * 1024)
    job = hq.submit(["--stream", "out", "--", "bash", "-c",
                     "head -c 300000 /dev/zero | tr '\\0' x; echo done"])
    hq.wait_job(job)
    task = hq.job_info(job)["tasks"][0]
    assert task["state"] == "failed"
    assert task["error"].startswith("Streaming: Cannot write stream file ")
    assert "File too large" in task["error"]
    # The file was cut back to whole chunks: still readable, no warning.
    r = hq.command(["output-log", "out", "cat", str(job), "stdout",
                    "--allow-unfinished"])
    assert r.stderr == ""
    assert 0 < len(r.stdout) < 64 * 1024 and set(r.stdout) == {"x"}
    # The worker survived and streams into a new file afterwards.
    job2 = hq.submit(["--stream", "out", "--", "echo", "small"])
    hq.wait_job(job2, timeout=TIMEOUT)
    assert hq.command(["output-log", "out", "cat", str(job2), "stdout"]
                      ).stdout == "small\n"
