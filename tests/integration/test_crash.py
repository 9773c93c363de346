# SPDX-License-Identifier: MIT
"""Crash safety: kill -9 the server at random moments, restart it from its
journal, and check that nothing acknowledged is lost and nothing runs twice.
"""
import collections
import json
import random
import subprocess
import time

from conftest import HQ_REPLAY_BIN, wait_until


def replay(hq, *args, check=True):
    p = subprocess.run([HQ_REPLAY_BIN] + list(args), capture_output=True,
                       text=True, timeout=60, env=hq.env)
    if check:
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p


def logged_runs(path):
    """task id -> list of instance ids that started."""
    runs = collections.defaultdict(list)
    if path.exists():
        for line in path.read_text().splitlines():
            job, task, inst = line.split()
            runs[(int(job), int(task))].append(int(inst))
    return runs


def restart(hq, journal):
    return hq.start_server("--reconnect-grace", "30s", journal=journal)


def test_kill_server_repeatedly_nothing_lost_nothing_twice(hq):
    journal = hq.tmp / "state.lmdb"
    log = hq.tmp / "runs.log"
    rnd = random.Random(1234)
    server = restart(hq, journal)
    for _ in range(2):
        hq.start_worker("--on-server-lost", "reconnect", cpus=2)
    task = ["bash", "-c",
            f'echo "$HQ_JOB_ID $HQ_TASK_ID $HQ_INSTANCE_ID" >> {log}']
    acked = {}
    job = hq.submit(["--array", "1-1500", "--"] + task)
    acked[job] = 1500
    for round_ in range(4):
        # A submit acknowledged just before the crash must survive it.
        job = hq.submit(["--array", f"1-{50 + round_}", "--"] + task)
        acked[job] = 50 + round_
        time.sleep(rnd.uniform(0.2, 0.8))
        hq.kill(server)
        server = restart(hq, journal)
    for job in acked:
        hq.wait_job(job, timeout=120)

    jobs = {j["id"]: j for j in hq.json(["job", "list", "--all"])}
    for job, n in acked.items():
        assert job in jobs, f"acknowledged job {job} lost"
        assert jobs[job]["task_stats"]["finished"] == n, jobs[job]
    runs = logged_runs(log)
    for job, n in acked.items():
        for t in range(1, n + 1):
            starts = runs.get((job, t), [])
            assert len(starts) == 1, f"task {job}@{t} ran {starts}"
    # No crash was counted: workers were adopted, never lost.
    hq.command(["server", "stop"])
    wait_until(lambda: server.poll() is not None, what="server exit")
    replay(hq, "verify", str(journal))
    state = json.loads(replay(hq, "state", str(journal), "--job", "1",
                              "--json").stdout)
    tasks = state["tasks"] if isinstance(state, dict) else state[0]["tasks"]
    assert all(t.get("crashes", 0) == 0 for t in tasks)


def test_restart_mid_run_400_tasks_exactly_once(hq):
    """Issue 4, done-when 2."""
    journal = hq.tmp / "j.lmdb"
    log = hq.tmp / "runs.log"
    server = restart(hq, journal)
    for _ in range(2):
        hq.start_worker("--on-server-lost", "reconnect", cpus=2)
    job = hq.submit(["--array", "0-399", "--", "bash", "-c",
                     f'echo "$HQ_JOB_ID $HQ_TASK_ID $HQ_INSTANCE_ID" >> {log};'
                     ' sleep 0.05'])
    wait_until(lambda: len(logged_runs(log)) > 60, what="tasks running")
    hq.kill(server)
    server = restart(hq, journal)
    hq.wait_job(job, timeout=120)
    runs = logged_runs(log)
    assert sorted(t for (_, t) in runs) == list(range(400))
    assert all(len(v) == 1 for v in runs.values())
    assert hq.job_info(job)["info"]["task_stats"]["finished"] == 400

    replay(hq, "verify", str(journal))
    ev = replay(hq, "events", str(journal), "--job", str(job), "--task", "7")
    assert "7" in ev.stdout and ev.stdout.strip()
    out = hq.command(["journal", "export", str(journal)])
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.strip()]
    assert lines and all("time" in x and "event" in x for x in lines)


def test_stop_policy_worker_tasks_requeued_after_restart(hq):
    """Without reconnect, workers die with the server; after a restart
    their tasks run again elsewhere (new instance), counted as no crash."""
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    w = hq.start_worker(cpus=1)
    job = hq.submit(["--", "sleep", "30"])
    wait_until(lambda: hq.task_states(job).get(0) == "running",
               what="task running")
    hq.kill(server)
    wait_until(lambda: w.poll() is not None, what="worker exit")
    server = hq.start_server(journal=journal)
    hq.start_worker(cpus=1)
    wait_until(lambda: hq.task_states(job).get(0) == "running",
               what="task running again")
    info = hq.json(["task", "info", str(job), "0"])[0]
    assert info["state"] == "running"
    hq.command(["job", "cancel", str(job)])


def test_reconnect_timeout_stops_worker(hq):
    server = hq.start_server()
    w = hq.start_worker("--on-server-lost", "reconnect",
                        "--reconnect-timeout", "1s", cpus=1)
    hq.kill(server)
    wait_until(lambda: w.poll() is not None, timeout=20,
               what="worker gives up")
    assert w.returncode != 0
    assert "reconnect" in hq.output(w)
