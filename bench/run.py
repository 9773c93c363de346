#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`make bench`: the benchmark suite of hq (issue 7).

Runs every benchmark against the real binaries on 127.0.0.1, prints a table,
writes BUILD/bench/results.json and rewrites docs/BENCHMARKS.md (a --quick run
writes BUILD/bench/BENCHMARKS.md instead, so that the documented full run is
not replaced by small sizes; pass --docs to force it). Standard library only.

Every process started here is tracked by pid and killed, with its
descendants, at the end: on success, on failure and on Ctrl-C.

No benchmark asserts on timings: a missed goal is reported, never failed.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Sizes of the suite. The issue fixes the task counts; the repetitions and
# the time caps are ours (a capped run reports the rate over what it did).
SIZES = {
    "full": {
        "floor_n": 10000, "floor_reps": 5,
        "dispatch_n": 1000000, "dispatch_reps": 3, "dispatch_cap_s": 120,
        "window_n": 100000,
        "mem_n": 1000000,
        "submit_reps": 3, "restart_reps": 3,
        "journal_max_records": 0,
        "s2s_reps": 50,
        "many_workers": 100, "many_n": 1000000, "many_cap_s": 180,
        "sched_rounds": 21,
    },
    "quick": {
        "floor_n": 2000, "floor_reps": 3,
        "dispatch_n": 200000, "dispatch_reps": 2, "dispatch_cap_s": 8,
        "window_n": 20000,
        "mem_n": 200000,
        "submit_reps": 2, "restart_reps": 2,
        "journal_max_records": 20000,
        "s2s_reps": 15,
        "many_workers": 20, "many_n": 100000, "many_cap_s": 8,
        "sched_rounds": 21,
    },
}
SUBMIT_N = 1000000  # submit_1m_ms and restart_1m_ms, in both modes
# sched_round_1m_ms (issue 5): bench/sched's defaults, in both modes: 100
# workers of 128 CPUs (25 with 4 GPUs), 1,000,000 waiting tasks in 1,000
# jobs, 10 request kinds, 2 priorities. Also run with every worker at the
# deepest adaptive prefill (server: PREFILL_MAX_LAYERS in workers.c).
SCHED_DEEP_LAYERS = 32
# CPUs declared by each benchmark-mode worker: the size of a current HPC
# node. The server keeps at most (prefill layers x CPUs) tasks in flight per
# worker, so this sets the pipelining window; the window effect is measured
# separately with workers of this machine's real size (WINDOW_CPUS).
BENCH_CPUS = 128
WINDOW_CPUS = 2
DISPATCH_WORKERS = 4

# Goals of issue 7: (comparison, value). None: reported, no goal.
GOALS = {
    "throughput_vs_floor": (">=", 0.95),
    "dispatch_tasks_per_s_journal": (">=", 500000),
    "dispatch_tasks_per_s_nojournal": None,
    "server_cpu_us_per_task": ("<=", 2.0),
    "server_bytes_per_waiting_task": ("<=", 64),
    "submit_1m_ms": ("<=", 200),
    "restart_1m_ms": ("<=", 1000),
    "journal_bytes_per_event": ("<=", 32),
    "journal_us_per_event": ("<=", 1.0),
    "submit_to_start_ms_p50": ("<=", 2.0),
    "workers_100_tasks_per_s": None,
    "sched_round_1m_ms": ("<=", 1.0),
}
# Where a goal comes from (the table's goal column names it).
GOAL_ISSUE = {"sched_round_1m_ms": 5}
UNITS = {
    "throughput_vs_floor": "ratio",
    "dispatch_tasks_per_s_journal": "tasks/s",
    "dispatch_tasks_per_s_nojournal": "tasks/s",
    "server_cpu_us_per_task": "us",
    "server_bytes_per_waiting_task": "B",
    "submit_1m_ms": "ms",
    "restart_1m_ms": "ms",
    "journal_bytes_per_event": "B",
    "journal_us_per_event": "us",
    "submit_to_start_ms_p50": "ms",
    "workers_100_tasks_per_s": "tasks/s",
    "sched_round_1m_ms": "ms",
}
# HyperQueue's published figures, only where a source can be named. Rows
# citing the same source share its number.
HQ_DOC = "HyperQueue documentation"
HQ_SRC_PERF = (
    HQ_DOC + ": README, Features > Performance: \"Scales to millions of "
    "tasks and hundreds of nodes\", \"Overhead per task is around "
    "0.1 ms\"; FAQ: \"Our preliminary benchmarks show that overhead of HQ "
    "is around 0.1 ms per task\"")
HQ_PUBLISHED = {
    "server_cpu_us_per_task": (
        "~100 µs \"overhead per task\" (not a CPU-time figure)",
        HQ_SRC_PERF),
    "journal_us_per_event": (
        "not durable per event: flushed every 30 s by default",
        "HyperQueue CLI reference, `hq server start --journal-flush-period` "
        "(default 30s); " + HQ_DOC + ", Deployment > Server: \"If the server "
        "crashes, last few seconds of progress may be lost\""),
    "sched_round_1m_ms": (
        "not published (\"scales to millions of tasks and hundreds of "
        "nodes\", no time per round)",
        HQ_SRC_PERF),
}


def hq_sources():
    """The distinct sources of HQ_PUBLISHED, in order of first use."""
    out = []
    for _, src in HQ_PUBLISHED.values():
        if src not in out:
            out.append(src)
    return out


class BenchError(Exception):
    pass


# ---- processes ----------------------------------------------------------

def descendants(pid):
    """Live descendants of pid, from /proc (children before grandchildren)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
            ppid = int(data.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        for c in children.get(p, []):
            out.append(c)
            stack.append(c)
    return out


class Procs:
    """Every long-running process of the suite, killed by pid at the end."""

    def __init__(self):
        self.procs = []

    def spawn(self, argv, log_path, env):
        log = open(log_path, "wb")
        try:
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env,
                                 start_new_session=True)
        finally:
            log.close()
        p.log_path = log_path
        self.procs.append(p)
        return p

    def kill(self, p, sig=signal.SIGKILL):
        """Kill p and its descendants (tasks run in their own sessions)."""
        for pid in [p.pid] + descendants(p.pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def kill_all(self):
        # Collect every descendant first: once a parent dies its children
        # are re-parented and could no longer be found.
        pids = []
        for p in self.procs:
            if p.poll() is None:
                pids.append(p.pid)
                pids.extend(descendants(p.pid))
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []


def log_tail(path, n=15):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return "(no log)"


def proc_cpu_ticks(pid):
    """utime + stime of a process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def thread_cpu_ticks(pid):
    """{tid: utime + stime} for every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = int(fields[11]) + int(fields[12])
        except (OSError, ValueError):
            pass
    return out


def proc_cpu_detail(pid):
    """(utime + stime, cutime + cstime) of pid in clock ticks: its own CPU
    and that of its reaped children (a worker's tasks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]))


def proc_status(pid):
    """VmRSS, RssAnon, RssFile of pid, in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[k] = int(v.split()[0]) * 1024
    return out


# ---- hq -------------------------------------------------------------------

class Hq:
    def __init__(self, build, tmp, procs):
        self.hq = os.path.join(build, "hq")
        self.replay = os.path.join(build, "hq-replay")
        self.bench = os.path.join(build, "bench")
        self.tmp = tmp
        self.procs = procs
        self.nserver = 0
        self.nworker = 0
        self.env = dict(os.environ)
        for k in ("HQ_SERVER_DIR", "HQ_OUTPUT_MODE", "HQ_DEBUG", "RUST_LOG"):
            self.env.pop(k, None)
        # Keep hwloc to its sysfs backend: quicker worker start-up.
        self.env.setdefault("HWLOC_PLUGINS_PATH", "/nonexistent")

    def cmd(self, sd, args, timeout=60, check=True):
        """Run an hq client against server dir sd; returns CompletedProcess."""
        r = subprocess.run([self.hq, "--server-dir", sd] + args,
                           capture_output=True, text=True, env=self.env,
                           timeout=timeout, cwd=self.tmp)
        if check and r.returncode != 0:
            raise BenchError(f"hq {' '.join(args)} failed ({r.returncode}):"
                             f"\n{r.stderr.strip() or r.stdout.strip()}")
        return r

    def json(self, sd, args, timeout=60):
        return json.loads(self.cmd(sd, ["--output-mode", "json"] + args,
                                   timeout=timeout).stdout)

    def server_up(self, sd):
        try:
            return self.cmd(sd, ["server", "info"], timeout=10,
                            check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def start_server(self, name, journal=None, sd=None, wait=True):
        self.nserver += 1
        if sd is None:
            sd = os.path.join(self.tmp, f"{name}-sd")
        args = [self.hq, "--server-dir", sd, "server", "start",
                "--host", "127.0.0.1"]
        if journal:
            args += ["--journal", journal]
        p = self.procs.spawn(args, os.path.join(
            self.tmp, f"{name}-server{self.nserver}.log"), self.env)
        p.sd = sd
        if wait:
            self.wait_server(p)
        return p

    def wait_server(self, p, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if p.poll() is not None:
                raise BenchError(f"server exited with {p.returncode}:\n"
                                 f"{log_tail(p.log_path)}")
            if self.server_up(p.sd):
                return
            time.sleep(0.02)
        raise BenchError(f"server did not answer within {timeout} s:\n"
                         f"{log_tail(p.log_path)}")

    def start_workers(self, server, n, cpus, bench, timeout=120):
        """Start n workers and wait until all are registered."""
        before = len(self.json(server.sd, ["worker", "list"]))
        ws = []
        for _ in range(n):
            self.nworker += 1
            wd = os.path.join(self.tmp, f"w{self.nworker}")
            args = [self.hq, "--server-dir", server.sd, "worker", "start",
                    "--cpus", str(cpus), "--manager", "none",
                    "--work-dir", wd]
            if bench:
                args.append("--bench")
            ws.append(self.procs.spawn(args, wd + ".log", self.env))
        end = time.monotonic() + timeout
        while True:
            for w in ws:
                if w.poll() is not None:
                    raise BenchError(f"worker exited with {w.returncode}:\n"
                                     f"{log_tail(w.log_path)}")
            if len(self.json(server.sd, ["worker", "list"])) >= before + n:
                return ws
            if time.monotonic() > end:
                raise BenchError(f"{n} workers did not register within "
                                 f"{timeout} s")
            time.sleep(0.05)

    def submit(self, sd, args, timeout=120):
        r = self.cmd(sd, ["--output-mode", "quiet", "submit"] + args,
                     timeout=timeout)
        return int(r.stdout.strip().splitlines()[-1])

    def job_stats(self, sd, job):
        for j in self.json(sd, ["job", "list", "--all"]):
            if j["id"] == job:
                return j
        raise BenchError(f"job {job} not found")


def array_args(n, prog="/bin/true"):
    return ["--array", f"1-{n}", "--stdout", "none", "--stderr", "none",
            prog]


def median(xs):
    return statistics.median(xs) if xs else None


def workers_cpu(workers):
    own = tasks = 0
    for w in workers:
        try:
            a, b = proc_cpu_detail(w.pid)
        except OSError:
            continue
        own += a
        tasks += b
    return own, tasks


def timed_job(hq, server, n, cap_s, prog="/bin/true", workers=()):
    """Submit an n-task array and wait for it, with a time cap.

    Returns wall seconds, tasks done, server CPU seconds and per-thread CPU
    seconds over the window from just before the submit to the end of
    `hq job wait`, and the CPU of the given workers and of their tasks.
    A capped run cancels the job and counts what finished.
    """
    pid = server.pid
    c0, th0 = proc_cpu_ticks(pid), thread_cpu_ticks(pid)
    w0 = workers_cpu(workers)
    t0 = time.perf_counter()
    job = hq.submit(server.sd, array_args(n, prog))
    complete = True
    try:
        hq.cmd(server.sd, ["job", "wait", str(job)], timeout=cap_s)
    except subprocess.TimeoutExpired:
        complete = False
    t1 = time.perf_counter()
    c1, th1 = proc_cpu_ticks(pid), thread_cpu_ticks(pid)
    w1 = workers_cpu(workers)
    done = n
    if not complete:
        done = hq.job_stats(server.sd, job)["task_stats"]["finished"]
        hq.cmd(server.sd, ["job", "cancel", str(job)], check=False)
        hq.cmd(server.sd, ["job", "wait", str(job)], timeout=60,
               check=False)
    threads = {}
    for tid, v in th1.items():
        name = "loop" if tid == pid else f"thread-{tid}"
        threads[name] = (v - th0.get(tid, 0)) / CLK_TCK
    return {
        "job": job, "tasks": n, "done": done, "complete": complete,
        "wall_s": t1 - t0, "server_cpu_s": (c1 - c0) / CLK_TCK,
        "server_threads_cpu_s": threads,
        "tasks_per_s": done / (t1 - t0) if t1 > t0 else None,
        "server_cpu_us_per_task":
            (c1 - c0) / CLK_TCK / done * 1e6 if done else None,
        "workers_cpu_s": (w1[0] - w0[0]) / CLK_TCK,
        "tasks_cpu_s": (w1[1] - w0[1]) / CLK_TCK,
    }


# ---- the benchmarks --------------------------------------------------------

def bench_floor(hq, sz, out):
    """throughput_vs_floor, plus xargs -P 2 and GNU parallel -j2."""
    n, reps = sz["floor_n"], sz["floor_reps"]
    floor = os.path.join(hq.bench, "floor")
    server = hq.start_server("floor", journal=os.path.join(hq.tmp,
                                                           "floor.lmdb"))
    workers = hq.start_workers(server, 1, 2, bench=False)
    parallel = shutil.which("parallel")
    lines = "".join(f"{i}\n" for i in range(1, n + 1))

    cpu = {"floor": [], "hq": []}

    def run_floor():
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run([floor, str(n), "2", "/bin/true"],
                           capture_output=True, text=True)
        t1 = time.perf_counter()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            raise BenchError(f"floor failed: {r.stderr}")
        cpu["floor"].append({"floor_and_tasks_cpu_s":
                             ru1.ru_utime + ru1.ru_stime -
                             ru0.ru_utime - ru0.ru_stime})
        return t1 - t0

    def run_hq():
        r = timed_job(hq, server, n, 600, workers=workers)
        if not r["complete"]:
            raise BenchError("hq throughput run did not finish")
        cpu["hq"].append({k: r[k] for k in ("server_cpu_s",
                                            "server_threads_cpu_s",
                                            "workers_cpu_s", "tasks_cpu_s")})
        return r["wall_s"]

    def run_xargs():
        t0 = time.perf_counter()
        r = subprocess.run(["xargs", "-P", "2", "-n", "1", "/bin/true"],
                           input=lines, text=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        t1 = time.perf_counter()
        if r.returncode != 0:
            raise BenchError(f"xargs failed: {r.stderr}")
        return t1 - t0

    def run_parallel():
        t0 = time.perf_counter()
        r = subprocess.run([parallel, "-j2", "/bin/true"], input=lines,
                           text=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        t1 = time.perf_counter()
        if r.returncode != 0:
            raise BenchError(f"parallel failed: {r.stderr}")
        return t1 - t0

    runners = [("floor", run_floor), ("hq", run_hq), ("xargs", run_xargs)]
    if parallel:
        runners.append(("parallel", run_parallel))
    times = {name: [] for name, _ in runners}
    for rep in range(reps):
        k = rep % len(runners)  # rotate the order: interleaved repetitions
        for name, fn in runners[k:] + runners[:k]:
            times[name].append(fn())
    ratio, per_rep = {}, {}
    for name in times:
        if name == "floor":
            continue
        per_rep[name] = [f / t for f, t in zip(times["floor"], times[name])]
        ratio[name] = median(per_rep[name])
    out["throughput_vs_floor"] = ratio["hq"]
    out["_details"]["throughput_vs_floor"] = {
        "tasks": n, "reps": reps, "worker_cpus": 2,
        "times_s": times,
        "tasks_per_s_median": {k: n / median(v) for k, v in times.items()},
        "ratio_to_floor_median": ratio,
        "ratio_to_floor_per_rep": per_rep,
        "parallel": "installed" if parallel else "not installed",
        "cpu": cpu,
        "cpu_us_per_task_median": {
            "floor_and_tasks": median([c["floor_and_tasks_cpu_s"]
                                       for c in cpu["floor"]]) / n * 1e6,
            "hq_server": median([c["server_cpu_s"]
                                 for c in cpu["hq"]]) / n * 1e6,
            "hq_worker": median([c["workers_cpu_s"]
                                 for c in cpu["hq"]]) / n * 1e6,
            "hq_tasks": median([c["tasks_cpu_s"]
                                for c in cpu["hq"]]) / n * 1e6,
        },
        "command": f"hq submit --array 1-{n} --stdout none --stderr none "
                   "/bin/true; hq job wait <id>  (journal on, one worker "
                   "--cpus 2) vs bench/floor N 2 /bin/true",
    }
    hq.procs.kill(server)


def bench_dispatch(hq, sz, out, perf_dir=None):
    """dispatch_tasks_per_s_{journal,nojournal}, server_cpu_us_per_task,
    journal_bytes_per_event, journal_us_per_event."""
    n, reps, cap = sz["dispatch_n"], sz["dispatch_reps"], sz["dispatch_cap_s"]
    jpath = os.path.join(hq.tmp, "dispatch.lmdb")
    sj = hq.start_server("dispatch-j", journal=jpath)
    sn = hq.start_server("dispatch-nj")
    wj = hq.start_workers(sj, DISPATCH_WORKERS, BENCH_CPUS, bench=True)
    wn = hq.start_workers(sn, DISPATCH_WORKERS, BENCH_CPUS, bench=True)
    runs = {"journal": [], "nojournal": []}
    for rep in range(reps):
        order = [("journal", sj, wj), ("nojournal", sn, wn)]
        if rep % 2:
            order.reverse()
        for name, s, ws in order:
            runs[name].append(timed_job(hq, s, n, cap, workers=ws))
    if perf_dir:
        profile_server(hq, sj, n, cap, perf_dir, "dispatch-journal")
    # The journal is read while the server still holds it (readers are
    # allowed beside the writer).
    stats = journal_stats(hq, jpath)
    hq.procs.kill(sn)

    def med(name, key):
        return median([r[key] for r in runs[name]])

    out["dispatch_tasks_per_s_journal"] = med("journal", "tasks_per_s")
    out["dispatch_tasks_per_s_nojournal"] = med("nojournal", "tasks_per_s")
    out["server_cpu_us_per_task"] = med("journal", "server_cpu_us_per_task")
    out["_details"]["dispatch"] = {
        "tasks": n, "reps": reps, "workers": DISPATCH_WORKERS,
        "worker_cpus": BENCH_CPUS, "cap_s": cap,
        "runs": runs,
        "server_cpu_us_per_task_nojournal":
            med("nojournal", "server_cpu_us_per_task"),
        "command": f"hq submit --array 1-{n} --stdout none --stderr none "
                   f"/bin/true; hq job wait <id>  ({DISPATCH_WORKERS} x hq "
                   f"worker start --bench --cpus {BENCH_CPUS})",
    }

    # Journal size, from the file the journal runs wrote.
    trans = stats["transitions"]
    out["journal_bytes_per_event"] = stats["file_bytes"] / trans
    jd = out["_details"]["journal"] = {
        "file_bytes": stats["file_bytes"],
        "record_bytes": stats["record_bytes"],
        "records": stats["records"], "commits": stats["commits"],
        "events": trans,
        "record_bytes_per_event": stats["record_bytes"] / trans,
        "events_per_record": trans / stats["records"],
        "records_per_commit": stats["records"] / max(stats["commits"], 1),
        "event_definition": "one task transition (a task-assigned or "
                            "task-finished entry counts each task it "
                            "carries) or one other event",
    }
    # Journal time: the same records appended again through the journal API,
    # committed (synced) in the live run's grouping.
    jb = journal_copy(hq, jpath, "journal-copy.lmdb", sz)
    out["journal_us_per_event"] = jb["elapsed_ns"] / 1e3 / jb["transitions"]
    jd["copy"] = jb
    # The same records in large groups: what the journal costs when the
    # server batches well.
    jb2 = journal_copy(hq, jpath, "journal-copy-1000.lmdb", sz, group=1000)
    jd["copy_group_1000"] = jb2
    jd["us_per_event_group_1000"] = (jb2["elapsed_ns"] / 1e3 /
                                     jb2["transitions"])
    # CPU of the journal writer thread in the live journal runs.
    wt = []
    for run in runs["journal"]:
        th = [v for k, v in run["server_threads_cpu_s"].items()
              if k != "loop"]
        wt.append(sum(th) / run["done"] * 1e6 if run["done"] else 0)
    jd["writer_thread_cpu_us_per_task_live"] = median(wt)
    hq.procs.kill(sj)


def journal_copy(hq, src, name, sz, group=0):
    """Run bench/journal: copy src's records into a new journal."""
    args = [os.path.join(hq.bench, "journal"), src,
            os.path.join(hq.tmp, name)]
    if sz["journal_max_records"]:
        args += ["--max", str(sz["journal_max_records"])]
    if group:
        args += ["--group", str(group)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise BenchError(f"bench/journal failed: {r.stderr}")
    jb = json.loads(r.stdout)
    jb["us_per_record"] = jb["elapsed_ns"] / 1e3 / jb["records"]
    jb["us_per_commit"] = jb["elapsed_ns"] / 1e3 / jb["commits"]
    return jb


def journal_stats(hq, path):
    r = subprocess.run([hq.replay, "stats", path, "--json"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise BenchError(f"hq-replay stats failed: {r.stderr}")
    st = json.loads(r.stdout)
    trans = 0
    for kind, v in st["events"].items():
        # A task-* record counts each task it carries; a job-created
        # record is one event, however many tasks the job has.
        trans += v["tasks"] if kind.startswith("task-") else v["events"]
    return {"file_bytes": st["file_bytes"], "record_bytes":
            st["record_bytes"], "records": st["records"],
            "commits": st["commits"], "transitions": trans, "raw": st}


def bench_window(hq, sz, out):
    """The same dispatch with workers of this machine's size (2 CPUs)."""
    n = sz["window_n"]
    jpath = os.path.join(hq.tmp, "window.lmdb")
    s = hq.start_server("window", journal=jpath)
    ws = hq.start_workers(s, DISPATCH_WORKERS, WINDOW_CPUS, bench=True)
    r = timed_job(hq, s, n, sz["dispatch_cap_s"], workers=ws)
    st = journal_stats(hq, jpath)
    jb = journal_copy(hq, jpath, "window-copy.lmdb", sz)
    out["_details"]["dispatch_window"] = {
        "tasks": n, "workers": DISPATCH_WORKERS, "worker_cpus": WINDOW_CPUS,
        "journal": True, "run": r, "tasks_per_s": r["tasks_per_s"],
        "server_cpu_us_per_task": r["server_cpu_us_per_task"],
        "journal_bytes_per_event": st["file_bytes"] / st["transitions"],
        "journal_events_per_record": st["transitions"] / st["records"],
        "journal_records_per_commit": st["records"] / max(st["commits"], 1),
        "journal_us_per_event": jb["elapsed_ns"] / 1e3 / jb["transitions"],
        "journal_copy": jb,
    }
    hq.procs.kill(s)


def bench_memory(hq, sz, out):
    """server_bytes_per_waiting_task: RSS growth, journal on, no workers."""
    n = sz["mem_n"]
    s = hq.start_server("mem", journal=os.path.join(hq.tmp, "mem.lmdb"))
    time.sleep(0.2)
    before = proc_status(s.pid)
    hq.submit(s.sd, array_args(n), timeout=300)
    hq.cmd(s.sd, ["server", "info"])
    time.sleep(0.2)
    after = proc_status(s.pid)
    out["server_bytes_per_waiting_task"] = (after["VmRSS"] -
                                            before["VmRSS"]) / n
    out["_details"]["memory"] = {
        "tasks": n, "before": before, "after": after,
        "anon_bytes_per_task": (after["RssAnon"] - before["RssAnon"]) / n,
        "file_bytes_per_task": (after["RssFile"] - before["RssFile"]) / n,
        "command": f"hq submit --array 1-{n} --stdout none --stderr none "
                   "/bin/true  (journal on, no workers); VmRSS of the "
                   "server before and after",
    }
    hq.procs.kill(s)


def bench_submit_restart(hq, sz, out):
    """submit_1m_ms and restart_1m_ms."""
    times, restarts, restored = [], [], []
    server = None
    for rep in range(sz["submit_reps"]):
        if server is not None:
            hq.procs.kill(server)
        jpath = os.path.join(hq.tmp, f"submit{rep}.lmdb")
        server = hq.start_server(f"submit{rep}", journal=jpath)
        t0 = time.perf_counter()
        hq.submit(server.sd, array_args(SUBMIT_N), timeout=300)
        times.append((time.perf_counter() - t0) * 1e3)
    out["submit_1m_ms"] = median(times)
    # Kill -9 the server holding 1M tasks, restart it on the same journal
    # and server dir; time until `hq server info` answers.
    for rep in range(sz["restart_reps"]):
        hq.procs.kill(server, signal.SIGKILL)
        t0 = time.perf_counter()
        server = hq.start_server(f"restart{rep}", journal=jpath,
                                 sd=server.sd, wait=False)
        hq.wait_server(server, timeout=120)
        restarts.append((time.perf_counter() - t0) * 1e3)
        j = hq.job_stats(server.sd, 1)
        restored.append(j["task_count"])
        if j["task_count"] != SUBMIT_N:
            raise BenchError(f"restarted server holds {j['task_count']} "
                             f"tasks, not {SUBMIT_N}")
    out["restart_1m_ms"] = median(restarts)
    out["_details"]["submit_restart"] = {
        "tasks": SUBMIT_N, "submit_ms": times, "restart_ms": restarts,
        "restored_task_counts": restored,
        "journal_file_bytes": os.path.getsize(jpath),
        "command": f"hq submit --array 1-{SUBMIT_N} --stdout none "
                   "--stderr none /bin/true (journal on, no workers); "
                   "kill -9; hq server start --journal J; poll "
                   "`hq server info`",
    }
    hq.procs.kill(server)


def rfc3339_ns(text):
    """ns since the epoch of "2026-11-25T17:00:00.123000000Z"."""
    import calendar
    base, _, frac = text.rstrip("Z").partition(".")
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return t * 10**9 + int((frac + "000000000")[:9])


def bench_submit_to_start(hq, sz, out):
    """submit_to_start_ms_p50: one task to an idle worker."""
    stamp = os.path.join(hq.bench, "stamp")
    d = os.path.join(hq.tmp, "s2s")
    os.mkdir(d)
    s = hq.start_server("s2s", journal=os.path.join(hq.tmp, "s2s.lmdb"))
    hq.start_workers(s, 1, 2, bench=False)
    lat, client, floor, server = [], [], [], []

    def wait_file(path, timeout=30):
        end = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > end:
                raise BenchError(f"task did not write {path}")
            time.sleep(0.0002)
        with open(path) as f:
            return int(f.read())

    for rep in range(sz["s2s_reps"]):
        # The floor: the same stamp program started directly from here.
        path = os.path.join(d, f"floor{rep}")
        t0 = time.time_ns()
        subprocess.run([stamp, path])
        floor.append((wait_file(path) - t0) / 1e6)

        path = os.path.join(d, f"t{rep}")
        argv = [hq.hq, "--server-dir", s.sd, "--output-mode", "quiet",
                "submit", "--stdout", "none", "--stderr", "none", stamp,
                path]
        t0 = time.time_ns()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=hq.env, cwd=hq.tmp)
        ts = wait_file(path)
        o, e = p.communicate(timeout=60)
        t2 = time.time_ns()
        if p.returncode != 0:
            raise BenchError(f"submit failed: {e.decode()}")
        lat.append((ts - t0) / 1e6)
        client.append((t2 - t0) / 1e6)
        job = o.decode().strip()
        hq.cmd(s.sd, ["job", "wait", job])
        # The server's part: from its record of the submit (the job's
        # submission time, ms resolution) to the task's process running.
        info = hq.json(s.sd, ["job", "info", job])
        server.append((ts - rfc3339_ns(info[0]["started_at"])) / 1e6)
        time.sleep(0.05)  # an idle worker and server again
    lat_sorted = sorted(lat)
    out["submit_to_start_ms_p50"] = median(lat)
    out["_details"]["submit_to_start"] = {
        "reps": len(lat), "ms": lat,
        "p90_ms": lat_sorted[int(0.9 * (len(lat) - 1))],
        "client_exit_ms_p50": median(client),
        "server_side_ms_p50": median(server),
        "floor_ms_p50": median(floor),
        "command": "hq submit --stdout none --stderr none bench/stamp FILE "
                   "(journal on, one idle worker); from before the client "
                   "is started to the time the task writes",
        "floor_command": "bench/stamp FILE started directly by run.py",
    }
    hq.procs.kill(s)


def bench_many_workers(hq, sz, out, perf_dir=None):
    """workers_100_tasks_per_s."""
    nw, n = sz["many_workers"], sz["many_n"]
    s = hq.start_server("many", journal=os.path.join(hq.tmp, "many.lmdb"))
    t0 = time.perf_counter()
    ws = hq.start_workers(s, nw, BENCH_CPUS, bench=True, timeout=300)
    reg = time.perf_counter() - t0
    r = timed_job(hq, s, n, sz["many_cap_s"], workers=ws)
    if perf_dir:
        profile_server(hq, s, n, sz["many_cap_s"], perf_dir,
                       f"workers-{nw}")
    out["workers_100_tasks_per_s"] = r["tasks_per_s"]
    out["_details"]["many_workers"] = {
        "workers": nw, "worker_cpus": BENCH_CPUS, "tasks": n,
        "registration_s": reg, "run": r,
        "server_cpu_us_per_task": r["server_cpu_us_per_task"],
        "command": f"{nw} x hq worker start --bench --cpus {BENCH_CPUS}; "
                   f"hq submit --array 1-{n} ...; hq job wait <id> "
                   "(journal on)",
    }
    hq.procs.kill(s)


def run_sched(hq, args):
    r = subprocess.run([os.path.join(hq.bench, "sched")] + args,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise BenchError(f"bench/sched failed: {r.stderr}")
    return json.loads(r.stdout)


def bench_sched(hq, sz, out):
    """sched_round_1m_ms (issue 5): one hq_sched_plan round, in process."""
    rounds = ["--rounds", str(sz["sched_rounds"])]
    r = run_sched(hq, rounds)
    deep = run_sched(hq, rounds + ["--layers", str(SCHED_DEEP_LAYERS)])
    out["sched_round_1m_ms"] = r["first"]["median_ms"]
    out["_details"]["sched"] = {
        "default": r, "deep_prefill": deep,
        "command": "bench/sched " + " ".join(rounds)
                   + f"  (and with --layers {SCHED_DEEP_LAYERS})",
    }


def profile_server(hq, server, n, cap, perf_dir, name):
    """One extra run under `perf record` (not counted in the figures)."""
    perf = shutil.which("perf")
    if perf is None:
        return
    data = os.path.join(perf_dir, f"perf-{name}.data")
    p = subprocess.Popen([perf, "record", "-e", "cpu-clock", "-F", "4999",
                          "-g", "-p", str(server.pid), "-o", data],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        timed_job(hq, server, n, cap)
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    with open(os.path.join(perf_dir, f"perf-{name}.txt"), "w") as f:
        subprocess.run([perf, "report", "-i", data, "--stdio", "--no-children",
                        "--sort", "symbol", "-g", "none",
                        "--percent-limit", "0.5"],
                       stdout=f, stderr=subprocess.DEVNULL)
    print(f"  profile: {data} (report: perf-{name}.txt)")


# ---- machine and report ---------------------------------------------------

def machine_info(path):
    info = {"cores": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["memory_gib"] = round(int(f.readline().split()[1]) /
                                       1048576, 1)
    except OSError:
        pass
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    info["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    r = subprocess.run(["df", "--output=source,fstype", path],
                       capture_output=True, text=True)
    if r.returncode == 0 and len(r.stdout.splitlines()) > 1:
        src, fstype = r.stdout.splitlines()[1].split()[:2]
        disk = {"device": src, "fs": fstype}
        dev = os.path.basename(src)
        base = re.sub(r"p?\d+$", "", dev) if not os.path.exists(
            f"/sys/block/{dev}") else dev
        for k, f in (("rotational", "queue/rotational"),
                     ("model", "device/model"),
                     ("vendor", "device/vendor")):
            try:
                with open(f"/sys/block/{base}/{f}") as fh:
                    disk[k] = fh.read().strip()
            except OSError:
                pass
        try:
            drv = os.path.basename(os.readlink(
                f"/sys/block/{base}/device/driver"))
            disk["driver"] = drv
        except OSError:
            pass
        info["disk"] = disk
    return info


def fmt(v, key):
    if v is None:
        return "n/a"
    u = UNITS.get(key, "")
    if u == "tasks/s":
        return f"{v:,.0f} tasks/s"
    if u == "ratio":
        return f"{v:.3f}"
    if u == "B":
        return f"{v:,.1f} B"
    if u in ("ms", "us"):
        return f"{v:,.2f} {'µs' if u == 'us' else 'ms'}"
    return str(v)


def goal_text(key):
    g = GOALS.get(key)
    if g is None:
        return "(reported)"
    op, v = g
    return f"{'≥' if op == '>=' else '≤'} {fmt(v, key)}"


def goal_met(key, v):
    g = GOALS.get(key)
    if g is None or v is None:
        return None
    op, goal = g
    return v >= goal if op == ">=" else v <= goal


def status_text(key, v):
    m = goal_met(key, v)
    return "–" if m is None else ("met" if m else "MISSED")


def capped(results):
    d = results["_details"]
    notes = []
    for name, runs in d.get("dispatch", {}).get("runs", {}).items():
        for r in runs:
            if not r["complete"]:
                notes.append(f"dispatch ({name}): {r['done']:,} of "
                             f"{r['tasks']:,} tasks within the "
                             f"{d['dispatch']['cap_s']} s cap")
    for sect in ("many_workers", "dispatch_window"):
        r = d.get(sect, {}).get("run")
        if r and not r["complete"]:
            notes.append(f"{sect}: {r['done']:,} of {r['tasks']:,} tasks "
                         f"within the cap")
    return notes


def print_table(results):
    print()
    print(f"{'key':34} {'measured':>22}  {'goal':>18}  status")
    for key in GOALS:
        v = results.get(key)
        print(f"{key:34} {fmt(v, key):>22}  {goal_text(key):>18}  "
              f"{status_text(key, v)}")
    d = results["_details"]
    fl = d.get("throughput_vs_floor")
    if fl:
        r = fl["ratio_to_floor_median"]
        print(f"\nfloor ratios (floor time / tool time): hq "
              f"{r['hq']:.3f}, xargs -P 2 {r['xargs']:.3f}, GNU parallel "
              + (f"{r['parallel']:.3f}" if "parallel" in r
                 else "not installed"))
    for n in capped(results):
        print(f"capped: {n}")


ANALYSIS_BEGIN = "<!-- analysis:begin (kept when run.py rewrites the file) -->"
ANALYSIS_END = "<!-- analysis:end -->"


def write_doc(path, results, sz, mode):
    keep = ""
    try:
        with open(path) as f:
            old = f.read()
        i, j = old.find(ANALYSIS_BEGIN), old.find(ANALYSIS_END)
        if i >= 0 and j > i:
            keep = old[i + len(ANALYSIS_BEGIN):j].strip("\n")
    except OSError:
        pass
    m = results["_machine"]
    d = results["_details"]
    disk = m.get("disk", {})
    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append("This file is rewritten by `make bench` (`bench/run.py`); only "
             "the analysis section between the markers is kept across runs. "
             "The figures of the table come from one run of the suite; "
             "`build/bench/results.json` holds every raw measurement.")
    L.append("")
    L.append("## Run")
    L.append("")
    L.append(f"- Mode: **{mode}** (`{results['_run']['command']}`), "
             f"{results['_run']['started']}, took "
             f"{results['_run']['duration_s']:.0f} s")
    L.append(f"- hq: {results['_run'].get('hq_version', '?')}, commit "
             f"{results['_run'].get('commit', '?')}")
    L.append(f"- Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, "
             f"{m.get('memory_gib', '?')} GiB, kernel {m.get('kernel')}, "
             f"{m.get('os', '?')}")
    dtxt = ", ".join(f"{k} {v}" for k, v in disk.items())
    L.append(f"- Disk (journals and work dirs): {dtxt}")
    L.append("- Everything (server, workers, clients, tasks) runs on this "
             "one machine over 127.0.0.1, so servers and workers share the "
             "same cores. Load average before / after: "
             + " / ".join(", ".join(f"{x:.2f}" for x in results["_run"][k])
                          for k in ("loadavg_before", "loadavg_after"))
             + " (other work on a shared machine shows up here).")
    L.append("")
    L.append("## Results")
    L.append("")
    L.append("| key | measured | goal | status | HyperQueue, published |")
    L.append("|---|---|---|---|---|")
    sources = hq_sources()
    for key in GOALS:
        v = results.get(key)
        if key in HQ_PUBLISHED:
            ref = sources.index(HQ_PUBLISHED[key][1]) + 1
            pub = f"{HQ_PUBLISHED[key][0]} [{ref}]"
        else:
            pub = "not published"
        L.append(f"| `{key}` | {fmt(v, key)} | {goal_text(key)} | "
                 f"{status_text(key, v)} | {pub} |")
    L.append("")
    L.append("Goals: issue 7, except "
             + ", ".join(f"`{k}` (issue {n})" for k, n in GOAL_ISSUE.items())
             + ".")
    L.append("")
    L.append("Sources of the HyperQueue column:")
    L.append("")
    for i, src in enumerate(sources):
        L.append(f"{i + 1}. {src}.")
    L.append("")
    L.append("Issue 7 also quotes about 18–25 µs of server CPU per task, "
             "about 600 B of server memory per task, \"within 10 % of a "
             "hand-written spawner\" and \"hundreds of thousands\" of tasks "
             "per second for HyperQueue. We found none of these in "
             "HyperQueue's documentation, so the table says \"not "
             "published\" for them.")
    L.append("")
    notes = capped(results)
    if notes:
        L.append("Capped runs (the rate is over the tasks finished within "
                 "the cap):")
        L.append("")
        for n in notes:
            L.append(f"- {n}")
        L.append("")
    fl = d.get("throughput_vs_floor")
    if fl:
        r = fl["ratio_to_floor_median"]
        tps = fl["tasks_per_s_median"]
        L.append("### Against the spawn floor and the usual tools")
        L.append("")
        L.append(f"{fl['tasks']:,} × `/bin/true`, at most 2 at a time, "
                 f"median of {fl['reps']} interleaved repetitions. Ratio = "
                 "floor time ÷ tool time (1.0 = as fast as the floor).")
        L.append("")
        L.append("| tool | ratio to floor | tasks/s |")
        L.append("|---|---|---|")
        L.append(f"| `bench/floor` (posix_spawn, 2 in flight) | 1.000 | "
                 f"{tps['floor']:,.0f} |")
        L.append(f"| hq (journal on, 1 worker `--cpus 2`) | "
                 f"{r['hq']:.3f} | {tps['hq']:,.0f} |")
        spread = ", ".join(f"{x:.2f}"
                           for x in fl["ratio_to_floor_per_rep"]["hq"])
        L.append(f"| `xargs -P 2 -n 1` | {r['xargs']:.3f} | "
                 f"{tps['xargs']:,.0f} |")
        if "parallel" in r:
            L.append(f"| GNU `parallel -j2` | {r['parallel']:.3f} | "
                     f"{tps['parallel']:,.0f} |")
        else:
            L.append("| GNU `parallel -j2` | not installed | |")
        L.append("")
        L.append(f"hq's ratio in each repetition: {spread}.")
        L.append("")
        c = fl["cpu_us_per_task_median"]
        L.append(f"CPU per task (median): floor and its `/bin/true` "
                 f"{c['floor_and_tasks']:.0f} µs; hq server "
                 f"{c['hq_server']:.0f} µs, worker {c['hq_worker']:.0f} µs, "
                 f"tasks {c['hq_tasks']:.0f} µs.")
        L.append("")
    L.append("### Details")
    L.append("")
    sd = d.get("sched")
    if sd:
        a, b = sd["default"], sd["deep_prefill"]
        L.append(f"- Scheduler round (`bench/sched`, in process): "
                 f"{a['workers']} workers of {a['cpus_per_worker']} CPUs "
                 f"({a['gpu_workers']} with {a['gpus_per_worker']} GPUs), "
                 f"{a['waiting_at_start']:,} waiting tasks in "
                 f"{a['jobs']:,} jobs, {a['request_kinds']} request kinds, "
                 f"{a['priorities']} priorities ({a['queues']} ready "
                 f"queues), {a['layers']} prefill layers; median of "
                 f"{a['rounds']} rounds. Empty workers: "
                 f"{a['first']['median_ms']:.3f} ms for "
                 f"{a['first_assignments']:,} assignments (first call "
                 f"{a['first_call_ms']:.3f} ms); every worker full: "
                 f"{a['full']['median_ms']:.3f} ms; refill after "
                 f"{a['finish_per_worker']} tasks finished per worker: "
                 f"{a['refill']['median_ms']:.3f} ms "
                 f"({median(a['refill']['assignments']):,.0f} "
                 "assignments). With every worker at the deepest adaptive "
                 f"prefill ({b['layers']} layers): empty "
                 f"{b['first']['median_ms']:.3f} ms for "
                 f"{b['first_assignments']:,} assignments, full "
                 f"{b['full']['median_ms']:.3f} ms, refill "
                 f"{b['refill']['median_ms']:.3f} ms.")
    dd = d.get("dispatch")
    if dd:
        L.append(f"- Dispatch: {dd['tasks']:,} tasks, {dd['workers']} "
                 f"workers in benchmark mode declaring `--cpus "
                 f"{dd['worker_cpus']}`, median of {dd['reps']} "
                 "interleaved journal/no-journal runs. Server CPU per task "
                 "without the journal: "
                 + fmt(dd["server_cpu_us_per_task_nojournal"],
                       "server_cpu_us_per_task") + ".")
    dw = d.get("dispatch_window")
    if dw:
        L.append(f"- The same dispatch with workers of this machine's size "
                 f"(`--cpus {dw['worker_cpus']}`, {dw['tasks']:,} tasks, "
                 "journal on): "
                 + fmt(dw["tasks_per_s"], "dispatch_tasks_per_s_journal")
                 + ", "
                 + fmt(dw["server_cpu_us_per_task"], "server_cpu_us_per_task")
                 + " "
                 "of server CPU per task; journal: "
                 f"{dw['journal_events_per_record']:.1f} events per record, "
                 f"{dw['journal_records_per_commit']:.1f} records per "
                 f"commit, {dw['journal_bytes_per_event']:.1f} B and "
                 f"{dw['journal_us_per_event']:.2f} µs per event. The server "
                 "keeps (prefill layers × CPUs) tasks in flight per worker, "
                 "2 to 32 layers from the worker's finish rate, and each "
                 "refill waits for a synced commit.")
    jd = d.get("journal")
    if jd:
        L.append(f"- Journal: {jd['events']:,} events in {jd['records']:,} "
                 f"records and {jd['commits']:,} commits; "
                 f"{jd['record_bytes_per_event']:.1f} B of record per "
                 f"event; the file is {jd['file_bytes']:,} B. "
                 "`journal_us_per_event` copies "
                 f"{jd['copy']['records']:,} of those records through the "
                 "journal API with the live run's grouping "
                 f"({jd['copy']['group']} records per synced commit, "
                 f"{jd['copy']['us_per_commit']:.0f} µs per commit)"
                 + (f"; in groups of 1,000 records: "
                    f"{jd['us_per_event_group_1000']:.3f} µs per event"
                    if "us_per_event_group_1000" in jd else "")
                 + ". Journal writer thread CPU in the live run: "
                 f"{jd['writer_thread_cpu_us_per_task_live']:.2f} µs per "
                 "task.")
    mem = d.get("memory")
    if mem:
        L.append(f"- Memory: {mem['tasks']:,} waiting tasks; anonymous "
                 f"memory {mem['anon_bytes_per_task']:.1f} B per task, "
                 f"file-backed (journal map) "
                 f"{mem['file_bytes_per_task']:.1f} B per task.")
    sr = d.get("submit_restart")
    if sr:
        L.append(f"- Submit of {sr['tasks']:,} tasks: "
                 + ", ".join(f"{x:.0f}" for x in sr["submit_ms"])
                 + " ms; restart: "
                 + ", ".join(f"{x:.0f}" for x in sr["restart_ms"])
                 + f" ms (journal file {sr['journal_file_bytes']:,} B; "
                 "every restarted server held all tasks).")
    s2 = d.get("submit_to_start")
    if s2:
        L.append("- Submit to start: p50 "
                 + fmt(median(s2["ms"]), "submit_to_start_ms_p50") + ", "
                 f"p90 {s2['p90_ms']:.2f} ms over {s2['reps']} tasks; the "
                 f"client exits after {s2['client_exit_ms_p50']:.2f} ms "
                 "(p50); server side (from the job's submission time, ms "
                 "resolution, to the task's stamp) "
                 f"{s2['server_side_ms_p50']:.2f} ms (p50). Floor (the same "
                 "stamp program started directly): "
                 f"{s2['floor_ms_p50']:.2f} ms.")
    mw = d.get("many_workers")
    if mw:
        L.append(f"- {mw['workers']} workers (`--bench --cpus "
                 f"{mw['worker_cpus']}`), {mw['tasks']:,} tasks: "
                 + fmt(mw["run"]["tasks_per_s"], "workers_100_tasks_per_s")
                 + ", "
                 + fmt(mw["server_cpu_us_per_task"], "server_cpu_us_per_task")
                 + " "
                 f"of server CPU per task; registering them took "
                 f"{mw['registration_s']:.1f} s.")
    L.append("")
    L.append("## How each figure is measured")
    L.append("")
    L.append(METHOD)
    L.append("")
    L.append("## Reproduce")
    L.append("")
    L.append("```")
    L.append("make deps && make bench            # full suite, about "
             f"{results['_run']['duration_s'] / 60:.0f} min here"
             if mode == "full" else "make deps && make bench")
    L.append("make bench QUICK=1                 # smaller sizes (goal: "
             "< 50 s); writes build/bench/BENCHMARKS.md")
    L.append("python3 bench/run.py --build build --perf --only "
             "dispatch,workers   # perf profiles of the server")
    L.append("HQ_PREFILL_LAYERS=8 python3 bench/run.py --build build --quick "
             "--only floor   # one step, with a server setting")
    L.append("build/bench/sched --layers 32   # one scheduler round in "
             "process (JSON); sched --help for the sizes")
    L.append("```")
    L.append("")
    L.append("## Analysis")
    L.append("")
    L.append(ANALYSIS_BEGIN)
    L.append(keep if keep else "(none yet)")
    L.append(ANALYSIS_END)
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


METHOD = """\
All servers run with `--host 127.0.0.1`; all but
`dispatch_tasks_per_s_nojournal` run with `--journal` on a file of the disk
above. Times are wall clock, taken
by `bench/run.py` around the client commands; server CPU is utime + stime from
`/proc/<server pid>/stat` before and after; RSS is `VmRSS` from
`/proc/<server pid>/status`.

- `throughput_vs_floor`: N × `/bin/true` (`--stdout none --stderr none`) on
  one worker with `--cpus 2`, from the start of `hq submit` to the exit of
  `hq job wait`, against `bench/floor N 2 /bin/true` (posix_spawn, 2 in
  flight, stdio on /dev/null). The repetitions rotate the order of the tools;
  the figure is the median of the per-repetition ratios.
- `dispatch_tasks_per_s_*`: N tasks on 4 workers started with
  `--bench --cpus 128` (tasks complete at once without a process; the
  server, wire and journal path is the real one; 128 CPUs stand for a
  current HPC node and set how many tasks the server keeps in flight per
  worker), from the start of `hq submit` to the exit of `hq job wait`.
  Journal and no-journal servers run side by side, alternately. A run that
  exceeds its time cap is cancelled and its rate is taken over the tasks
  that finished (reported as capped). The same dispatch is also run with
  `--cpus 2` workers (this machine's size), reported under Details.
- `server_cpu_us_per_task`: the journal server's CPU during that window ÷ N.
- `server_bytes_per_waiting_task`: VmRSS growth of a fresh journal server
  after `hq submit --array 1-N`, no workers, ÷ N.
- `submit_1m_ms`: `hq submit --array 1-1000000` from the start of the client
  to its exit (the reply means the submit is durable), fresh server each time.
- `restart_1m_ms`: `kill -9` of the server holding those tasks, then
  `hq server start --journal` on the same file and server dir; time until
  `hq server info` succeeds (polled back to back). The restarted server is
  checked to hold all 1,000,000 tasks.
- `journal_bytes_per_event`: journal file size ÷ events, for the journal the
  dispatch runs wrote. An event is one task transition (assigned, finished,
  …; a record carrying many tasks counts each) or one other event (job
  submitted, worker connected, …). `hq-replay stats --json` gives the counts.
- `journal_us_per_event`: `bench/journal` appends the records of that
  journal to a new one through `hq_journal_append`/`hq_journal_commit`
  (synced), with as many records per commit as the live run had; wall time ÷
  events.
- `submit_to_start_ms_p50`: one task (`bench/stamp FILE`, which writes the
  wall clock first thing) submitted to an idle worker; from just before the
  client is started to the stamp. Median over the repetitions.
- `workers_100_tasks_per_s`: as dispatch, with 100 `--bench` workers and
  1,000,000 tasks (quick: 20 workers, 100,000 tasks), journal on.
- `sched_round_1m_ms`: `bench/sched` builds a server state in process
  through `hq_state_apply` (100 workers of 128 CPUs, every 4th with 4
  GPUs; 1,000,000 waiting tasks in 1,000 array jobs, job j with request
  kind j mod 10 and priority 1 or 0 by blocks of ten jobs; the kinds: cpus
  1, 2 and 4 each compact and scatter, cpus 1 + 1 GPU, cpus 4 + 2 GPUs,
  cpus 2 `compact!`, and two variants 2 CPUs + 1 GPU or 8 CPUs) and times
  `hq_sched_plan` with the server's default of 2 prefill layers: the
  median of R plans of the round with every worker empty (the figure; the
  same in both modes, R = 11, quick 5). It also times the round with every
  worker full (the first plan applied) and R refill rounds (8 tasks
  finished per worker, plan, apply), and all three again with every
  worker at 32 layers, the deepest adaptive prefill."""


# ---- main -------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--docs", action="store_true",
                    help="rewrite docs/BENCHMARKS.md also in quick mode")
    ap.add_argument("--perf", action="store_true",
                    help="also profile the server (perf record) in one "
                         "extra dispatch run and the many-workers run")
    ap.add_argument("--only", default="",
                    help="comma-separated: sched,floor,dispatch,window,"
                         "memory,submit,s2s,workers")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory")
    ap.add_argument("--commit", default="",
                    help="the commit the binaries were built from, when "
                         "it is not this tree's (recorded as given)")
    args = ap.parse_args()

    mode = "quick" if args.quick else "full"
    sz = SIZES[mode]
    build = os.path.abspath(os.path.join(ROOT, args.build)
                            if not os.path.isabs(args.build) else args.build)
    outdir = os.path.join(build, "bench")
    for b in ("hq", "hq-replay", "bench/floor", "bench/stamp",
              "bench/journal", "bench/sched"):
        if not os.access(os.path.join(build, b), os.X_OK):
            sys.exit(f"bench: {build}/{b} is missing: run `make "
                     f"BUILD={args.build} bench`")
    os.makedirs(outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=outdir)
    procs = Procs()
    hq = Hq(build, tmp, procs)

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    started = time.time()
    results = {"_details": {}}
    results["_machine"] = machine_info(tmp)
    results["_run"] = {
        "mode": mode, "sizes": sz, "started":
            datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
        "command": "make bench" + (" QUICK=1" if args.quick else ""),
        "loadavg_before": os.getloadavg(),
    }
    if "HQ_PREFILL_LAYERS" in os.environ:
        results["_run"]["HQ_PREFILL_LAYERS"] = os.environ["HQ_PREFILL_LAYERS"]
    try:
        r = subprocess.run([hq.hq, "--version"], capture_output=True,
                           text=True)
        results["_run"]["hq_version"] = r.stdout.strip()
        r = subprocess.run(["git", "-C", ROOT, "describe", "--always",
                            "--dirty"], capture_output=True, text=True)
        results["_run"]["commit"] = (args.commit or r.stdout.strip()
                                     or "?")
    except OSError:
        pass

    steps = [
        ("sched", "sched_round_1m_ms", bench_sched),
        ("floor", "throughput_vs_floor", bench_floor),
        ("dispatch", "dispatch + journal", bench_dispatch),
        ("window", "dispatch with 2-CPU workers", bench_window),
        ("memory", "server_bytes_per_waiting_task", bench_memory),
        ("submit", "submit_1m_ms + restart_1m_ms", bench_submit_restart),
        ("s2s", "submit_to_start_ms_p50", bench_submit_to_start),
        ("workers", "workers_100_tasks_per_s", bench_many_workers),
    ]
    only = set(x for x in args.only.split(",") if x)
    rc = 0
    try:
        for name, title, fn in steps:
            if only and name not in only:
                continue
            t0 = time.monotonic()
            print(f"bench: {title} ...", flush=True)
            if args.perf and name in ("dispatch", "workers"):
                fn(hq, sz, results, perf_dir=outdir)
            else:
                fn(hq, sz, results)
            procs.kill_all()
            print(f"bench: {title}: {time.monotonic() - t0:.1f} s",
                  flush=True)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        rc = 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        rc = 130
    finally:
        procs.kill_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"bench: kept {tmp}")
    if rc != 0:
        return rc

    results["_run"]["duration_s"] = time.time() - started
    results["_run"]["loadavg_after"] = os.getloadavg()
    results["_goals"] = {k: (list(g) if g else None)
                         for k, g in GOALS.items()}
    ordered = {k: results.get(k) for k in GOALS}
    ordered.update({k: v for k, v in results.items() if k.startswith("_")})
    # A partial run (--only) must not replace the results of a whole one.
    rpath = os.path.join(outdir, "results-partial.json" if only
                         else "results.json")
    with open(rpath, "w") as f:
        json.dump(ordered, f, indent=2)
        f.write("\n")
    print_table(results)
    if only:
        print(f"\nbench: partial run (--only): docs not written; {rpath}")
        return 0
    doc = (os.path.join(ROOT, "docs", "BENCHMARKS.md")
           if mode == "full" or args.docs
           else os.path.join(outdir, "BENCHMARKS.md"))
    write_doc(doc, results, sz, mode)
    print(f"\nbench: {outdir}/results.json, {doc} "
          f"({results['_run']['duration_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
