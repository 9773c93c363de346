# SPDX-License-Identifier: MIT
"""Issue 8: load with faults.

50 workers (45 `--bench` workers for the bulk, 5 real ones) and 200k short
tasks submitted by several clients at once, while workers are killed with
SIGKILL, stopped and started, and jobs are canceled mid-run. Afterwards
every task is finished, failed with the message spec 2.5 gives, or
canceled, and the counters add up (per job, per state, and against the
journal, checked by hq-replay); the server's memory goes back close to its
start once the jobs are forgotten.

"Close" means: the server's anonymous resident memory (RssAnon: the heap,
not the journal's file map) after `hq job forget all` is within 8 MiB of
its value before the first submit (the server trims the heap after a
forget; connections keep their buffers), and a second round of the same
200k tasks leaves less than 4 MiB more behind: nothing grows with the
tasks. Measured here: 2 MiB at the start, 12-15 MiB with 212k tasks, 3-6
MiB after forgetting them. Under the sanitizers (HQ_TEST_SANITIZED=1, set
by `make check`) freed memory sits in quarantine, so the memory figures are
printed but not checked.

HQ_LOAD_SCALE (default 1) scales the number of tasks. Measured on the
2-core development machine: 5-7 s, and 28 s under ASan + UBSan
(`make check` runs it at full scale).
"""
import json
import os
import random
import signal
import subprocess
import threading
import time

from conftest import HQ_BIN, HQ_REPLAY_BIN, TIMEOUT, wait_until

SCALE = float(os.environ.get("HQ_LOAD_SCALE", "1"))
N_BENCH = 45
N_REAL = 4          # plus the "victim" worker: 50 in all
N_TASKS = max(2000, int(200000 * SCALE))
N_CLIENTS = 4
JOBS_PER_CLIENT = 4
CRASH_MSG = ("Task was running on a worker that was lost; the task has "
             "occurred 1 times in this situation and limit was reached.")
EXIT_MSG = "Program terminated with exit code 3."
CLOSE = 8 << 20
# Sanitizer builds keep freed memory in quarantine: RSS says nothing there.
SANITIZED = os.environ.get("HQ_TEST_SANITIZED") == "1"


def rss(pid, key="RssAnon"):
    """Resident memory of pid. RssAnon by default: the heap, without the
    pages of the journal's file map (the kernel's cache, shared)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {key}")


def spawn_worker(hq, *args, cpus=4):
    return hq.spawn(["worker", "start", "--cpus", str(cpus), "--manager",
                     "none"] + list(args), "worker")


def online(hq):
    return {w["id"] for w in hq.json(["worker", "list"])}


def bench_ids(hq):
    """Online workers without the resources of the real ones."""
    out = set()
    for w in hq.json(["worker", "list"]):
        names = {r["name"] for r in
                 w["configuration"]["resources"]["resources"]}
        if not names & {"real", "victim"}:
            out.add(w["id"])
    return out


def submit_json(hq, args):
    r = hq.command(["--output-mode", "quiet", "submit"] + args,
                   timeout=120)
    return int(r.stdout.strip())


def submit_bulk(hq, per_job):
    """N_CLIENTS clients submitting JOBS_PER_CLIENT arrays each, at once.
    Returns the threads (to join), the job ids and the errors."""
    bulk, errors = [], []
    lock = threading.Lock()

    def client():
        try:
            for _ in range(JOBS_PER_CLIENT):
                j = submit_json(hq, ["--array", f"1-{per_job}", "--stdout",
                                     "none", "--stderr", "none", "--",
                                     "true"])
                with lock:
                    bulk.append(j)
        except Exception as e:  # reported by the caller
            errors.append(e)
    threads = [threading.Thread(target=client) for _ in range(N_CLIENTS)]
    for t in threads:
        t.start()
    return threads, bulk, errors


def stats(hq):
    return {j["id"]: j for j in hq.json(["job", "list", "--all"])}


def test_load_with_faults(hq):
    rng = random.Random(8)
    journal = hq.tmp / "journal"
    server = hq.start_server(journal=journal)

    # ---- 50 workers ----------------------------------------------------------
    bench = [spawn_worker(hq, "--bench") for _ in range(N_BENCH)]
    real = [spawn_worker(hq, "--resource", "real=sum(100)", cpus=2)
            for _ in range(N_REAL)]
    victim = spawn_worker(hq, "--resource", "victim=[a,b]", cpus=2)
    wait_until(lambda: len(online(hq)) == N_BENCH + N_REAL + 1,
               timeout=120, what="50 workers online")
    time.sleep(0.5)
    base = rss(server.pid)

    # ---- jobs with known outcomes -----------------------------------------
    # Two tasks on the victim worker, which is killed while they run:
    # crash limit 1, so they fail with the crash message.
    crash_job = submit_json(hq, ["--array", "1-2", "--resource", "victim=1",
                                 "--crash-limit", "1", "--stdout", "none",
                                 "--stderr", "none", "--", "sleep", "60"])
    # Tasks that fail by themselves (real workers only).
    fail_job = submit_json(hq, ["--array", "1-20", "--resource", "real=1",
                                "--stdout", "none", "--stderr", "none", "--",
                                "bash", "-c", "exit 3"])
    # Long tasks canceled while some run and the rest wait.
    sleep_job = submit_json(hq, ["--array", "1-40", "--resource", "real=1",
                                 "--stdout", "none", "--stderr", "none",
                                 "--", "sleep", "30"])

    # ---- the bulk, from several clients at once ------------------------
    per_job = N_TASKS // (N_CLIENTS * JOBS_PER_CLIENT)
    threads, bulk, errors = submit_bulk(hq, per_job)
    # One more large job, canceled mid-run.
    cancel_job = submit_json(hq, ["--array", f"1-{per_job}", "--stdout",
                                  "none", "--stderr", "none", "--", "true"])
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(bulk) == N_CLIENTS * JOBS_PER_CLIENT

    # ---- faults while it runs -----------------------------------------------
    def running_on_victim():
        info = hq.job_info(crash_job)
        return info["info"]["task_stats"]["running"] == 2
    wait_until(running_on_victim, timeout=60, what="crash job running")
    hq.kill(victim)
    wait_until(lambda: hq.job_info(sleep_job)["info"]["task_stats"]
               ["running"] > 0, timeout=60, what="sleep job running")
    # Mid-run: once some of its tasks are done (or all of them).
    wait_until(lambda: hq.job_info(cancel_job)["info"]["task_stats"]
               ["finished"] > 0, timeout=120, what="cancel job under way")
    r = hq.command(["job", "cancel", f"{sleep_job},{cancel_job}"])
    assert f"Job {sleep_job} canceled (40 tasks canceled" in r.stderr, r
    killed, stopped = 0, 0
    victims = rng.sample(bench, 12)
    for p in victims[:8]:
        hq.kill(p)
        killed += 1
        time.sleep(rng.uniform(0.05, 0.3))
    ids = sorted(bench_ids(hq))
    for wid in rng.sample(ids, 4):
        hq.command(["worker", "stop", str(wid)], check=False)
        stopped += 1
    fresh = [spawn_worker(hq, "--bench") for _ in range(6)]

    # ---- everything ends ----------------------------------------------------
    all_jobs = bulk + [cancel_job, crash_job, fail_job, sleep_job]
    hq.command(["job", "wait", "all"], timeout=600)
    jobs = stats(hq)
    assert sorted(jobs) == sorted(all_jobs)
    total = 0
    for jid, j in jobs.items():
        s = j["task_stats"]
        assert sum(s.values()) == j["task_count"], j
        total += j["task_count"]
        assert s["waiting"] == 0 and s["running"] == 0, j
        if jid in bulk:
            assert s["finished"] == per_job == j["task_count"], j
    assert total == (len(bulk) + 1) * per_job + 2 + 20 + 40
    c = jobs[cancel_job]["task_stats"]
    assert c["failed"] == 0 and c["aborted"] == 0, c
    assert c["finished"] + c["canceled"] == per_job
    assert c["canceled"] > 0 or c["finished"] == per_job, c
    assert jobs[sleep_job]["task_stats"]["canceled"] == 40, jobs[sleep_job]
    assert jobs[fail_job]["task_stats"]["failed"] == 20, jobs[fail_job]
    assert jobs[crash_job]["task_stats"]["failed"] == 2, jobs[crash_job]
    for jid, msg in ((fail_job, EXIT_MSG), (crash_job, CRASH_MSG)):
        tasks = hq.json(["task", "list", str(jid)])[str(jid)]
        assert {t["error"] for t in tasks} == {msg}, tasks

    # Workers: the killed ones were lost, the stopped ones stopped.
    # The fresh workers may still be connecting when the work is done.
    expected = N_BENCH + N_REAL + 1 + len(fresh)
    wait_until(lambda: len(hq.json(["worker", "list", "--all"])) ==
               expected, timeout=60, what="the fresh workers to connect")
    workers = hq.json(["worker", "list", "--all"])
    assert len(workers) == expected
    assert len(online(hq)) == len(workers) - killed - stopped - 1
    assert hq.server_up(server)

    # ---- memory after forgetting ------------------------------------------
    peak = rss(server.pid)
    r = hq.command(["job", "forget", "all"])
    assert f"{len(all_jobs)} job(s) were forgotten" in r.stderr, r
    assert hq.json(["job", "list", "--all"]) == []
    after1 = rss(server.pid)
    # The same bulk again, without faults: what stays after forgetting it
    # must not grow with the tasks (a leak of even 20 bytes per task
    # would show as 4 MiB here).
    threads, bulk2, errors = submit_bulk(hq, per_job)
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    hq.command(["job", "wait", "all"], timeout=600)
    jobs = stats(hq)
    assert all(j["task_stats"]["finished"] == per_job for j in jobs.values())
    peak = max(peak, rss(server.pid))
    hq.command(["job", "forget", "all"])
    after2 = rss(server.pid)
    print(f"load: {total} + {len(bulk2) * per_job} tasks, {killed} killed, "
          f"{stopped} stopped; RssAnon {base >> 20} MiB at the start, "
          f"peak {peak >> 20} MiB, after forgetting {after1 >> 20} MiB, "
          f"{after2 >> 20} MiB (VmRSS {rss(server.pid, 'VmRSS') >> 20} MiB)")
    if not SANITIZED:
        assert after1 - base < CLOSE, (base, peak, after1)
        assert after2 - after1 < (4 << 20), (after1, after2)

    # ---- the journal holds all of it -------------------------------------
    hq.command(["server", "stop"])
    server.wait(timeout=TIMEOUT)
    r = subprocess.run([HQ_REPLAY_BIN, "verify", str(journal)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
