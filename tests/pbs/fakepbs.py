# SPDX-License-Identifier: MIT
"""A tiny stand-in for a PBS server, for hq's automatic-allocation tests.

Debian packages no PBS server, so tests put these programs first on PATH:
qsub, qstat, qdel and pbsdsh. They keep a job table in a JSON file under
$HQ_FAKE_PBS_DIR (guarded by a lock file) and behave like PBS Pro where hq
looks:

* qsub SCRIPT reads the #PBS directives (-l select=N, -l walltime=HH:MM:SS,
  -N, -o, -e, -q QUEUE, -h), prints "<n>.fakepbs" and, unless the job is
  held, runs the script in the background like a batch system would: in a
  session of its own, in the submission directory, with PBS_ENVIRONMENT,
  PBS_JOBID, PBS_O_WORKDIR and PBS_NODEFILE (N lines) set, output into the
  -o/-e files, killed when its walltime is over. A queue other than those
  in $HQ_FAKE_PBS_QUEUES (default "workq") is refused as PBS does.
* qstat -f ID... -F json [-x] answers in PBS's JSON shape: {"Jobs": {id:
  {"job_state": "Q|H|R|F", "Exit_status", "stime", "mtime",
  "Resource_List": {"walltime", "select"}, "resources_used": {...}}}};
  finished jobs only with -x; unknown ids go to stderr, exit code 153.
* qdel ID... ends queued jobs and kills running ones (Exit_status 271).
* pbsdsh -- CMD... runs CMD once per line of $PBS_NODEFILE, in parallel.
"""
import fcntl
import json
import os
import signal
import subprocess
import sys
import time

UNKNOWN_JOB = 153
KILLED = 271


def state_dir():
    d = os.environ.get("HQ_FAKE_PBS_DIR")
    if not d:
        sys.exit("fake PBS: HQ_FAKE_PBS_DIR is not set")
    os.makedirs(d, exist_ok=True)
    return d


class Table:
    """The job table, locked while in use: `with Table() as t: t.jobs`."""

    def __enter__(self):
        d = state_dir()
        self.path = os.path.join(d, "jobs.json")
        self.lock = open(os.path.join(d, "lock"), "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            with open(self.path) as f:
                data = json.load(f)
        except FileNotFoundError:
            data = {"next": 1, "jobs": {}}
        self.data = data
        self.jobs = data["jobs"]
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.data, f, indent=1)
            os.replace(tmp, self.path)
        self.lock.close()
        return False


def stamp(t=None):
    return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t))


def walltime_secs(s):
    secs = 0
    for part in s.split(":"):
        secs = secs * 60 + int(part)
    return secs


def fmt_walltime(secs):
    secs = int(secs)
    return "%02d:%02d:%02d" % (secs // 3600, secs // 60 % 60, secs % 60)


# ---- qsub -------------------------------------------------------------------

def parse_directives(path):
    """#PBS lines of the leading comment block, as qsub reads them."""
    opts = {"select": 1, "walltime": None, "name": os.path.basename(path),
            "out": None, "err": None, "queue": "workq", "hold": False}
    with open(path) as f:
        lines = f.read().splitlines()
    for line in lines[1:]:
        s = line.strip()
        if s and not s.startswith("#"):
            break
        if not s.startswith("#PBS"):
            continue
        words = s[4:].split()
        i = 0
        while i < len(words):
            w = words[i]
            arg = words[i + 1] if i + 1 < len(words) else None
            if w == "-h":
                opts["hold"] = True
                i += 1
                continue
            if w not in ("-l", "-N", "-o", "-e", "-q") or arg is None:
                raise SystemExit(f"qsub: illegal -- {w}")
            if w == "-l":
                for res in arg.split(","):
                    key, _, val = res.partition("=")
                    if key == "select":
                        opts["select"] = int(val.split(":")[0])
                    elif key == "walltime":
                        walltime_secs(val)
                        opts["walltime"] = val
                    else:
                        raise SystemExit(
                            f"qsub: Unknown resource Resource_List.{key}")
            elif w == "-N":
                opts["name"] = arg
            elif w == "-o":
                opts["out"] = arg
            elif w == "-e":
                opts["err"] = arg
            elif w == "-q":
                opts["queue"] = arg
            i += 2
    return opts


def qsub(argv):
    if len(argv) != 1:
        sys.exit("usage: qsub SCRIPT")
    script = os.path.abspath(argv[0])
    try:
        opts = parse_directives(script)
    except OSError as e:
        sys.exit(f"qsub: script file cannot be loaded - {e.strerror}")
    queues = os.environ.get("HQ_FAKE_PBS_QUEUES", "workq").split(",")
    if opts["queue"] not in queues:
        print("qsub: Unknown queue", file=sys.stderr)
        sys.exit(170)
    cwd = os.getcwd()
    with Table() as t:
        n = t.data["next"]
        t.data["next"] = n + 1
        job_id = f"{n}.fakepbs"
        t.jobs[job_id] = {
            "name": opts["name"], "state": "H" if opts["hold"] else "Q",
            "select": opts["select"], "walltime": opts["walltime"],
            "queue": opts["queue"], "script": script, "cwd": cwd,
            "out": opts["out"] or os.path.join(cwd, f"{opts['name']}.o{n}"),
            "err": opts["err"] or os.path.join(cwd, f"{opts['name']}.e{n}"),
            "qtime": time.time(), "stime": None, "mtime": time.time(),
            "exit_status": None, "pid": None,
        }
    if not opts["hold"]:
        start_runner(job_id)
    print(job_id)


def start_runner(job_id):
    """Run the job in a detached process; qsub returns at once."""
    pid = os.fork()
    if pid > 0:
        return
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        run_job(job_id)
    finally:
        os._exit(0)


def run_job(job_id):
    time.sleep(float(os.environ.get("HQ_FAKE_PBS_START_DELAY", "0.2")))
    with Table() as t:
        job = t.jobs[job_id]
        if job["state"] != "Q":
            return
        nodefile = os.path.join(state_dir(), f"nodes.{job_id}")
        with open(nodefile, "w") as f:
            for i in range(job["select"]):
                f.write(f"fakenode{i + 1}\n")
        env = dict(os.environ)
        env.update({"PBS_ENVIRONMENT": "PBS_BATCH", "PBS_JOBID": job_id,
                    "PBS_O_WORKDIR": job["cwd"], "PBS_NODEFILE": nodefile,
                    "PBS_JOBNAME": job["name"]})
        out = open(job["out"], "w")
        err = open(job["err"], "w")
        proc = subprocess.Popen(["/bin/bash", job["script"]], cwd=job["cwd"],
                                env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL,
                                start_new_session=True)
        job.update(state="R", stime=time.time(), mtime=time.time(),
                   pid=proc.pid)
    limit = walltime_secs(job["walltime"]) if job["walltime"] else None
    try:
        rc = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.wait()
        rc = KILLED
    with Table() as t:
        job = t.jobs[job_id]
        if job["state"] == "R":
            job.update(state="F", exit_status=rc if rc >= 0 else 256 - rc,
                       mtime=time.time(), pid=None)


def kill_group(pid):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        time.sleep(0.5)


# ---- qstat, qdel --------------------------------------------------------------

def job_json(job):
    out = {"Job_Name": job["name"], "job_state": job["state"],
           "queue": job["queue"], "qtime": stamp(job["qtime"]),
           "mtime": stamp(job["mtime"]),
           "Resource_List": {"select": str(job["select"]),
                             "nodect": job["select"]}}
    if job["walltime"]:
        out["Resource_List"]["walltime"] = job["walltime"]
    if job["stime"]:
        out["stime"] = stamp(job["stime"])
        used = (time.time() if job["state"] == "R" else job["mtime"]) \
            - job["stime"]
        out["resources_used"] = {"walltime": fmt_walltime(used)}
    if job["state"] == "F":
        out["Exit_status"] = job["exit_status"]
    return out


def qstat(argv):
    ids, history, fmt, full = [], False, None, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-f":
            full = True
        elif a == "-x":
            history = True
        elif a == "-F":
            i += 1
            fmt = argv[i] if i < len(argv) else None
        else:
            ids.append(a)
        i += 1
    if not full or fmt != "json":
        sys.exit("fake qstat: only `qstat -f [ids] -F json [-x]` is known")
    rc = 0
    jobs = {}
    with Table() as t:
        for job_id in ids or list(t.jobs):
            job = t.jobs.get(job_id)
            if job is None or (job["state"] == "F" and not history):
                print(f"qstat: Unknown Job Id {job_id}", file=sys.stderr)
                rc = UNKNOWN_JOB
                continue
            jobs[job_id] = job_json(job)
    doc = {"timestamp": int(time.time()), "pbs_version": "fake-2024",
           "pbs_server": "fakepbs"}
    if jobs:
        doc["Jobs"] = jobs
    print(json.dumps(doc, indent=4))
    sys.exit(rc)


def qdel(argv):
    rc = 0
    victims = []
    with Table() as t:
        for job_id in argv:
            job = t.jobs.get(job_id)
            if job is None or job["state"] == "F":
                print(f"qdel: Unknown Job Id {job_id}", file=sys.stderr)
                rc = UNKNOWN_JOB
                continue
            if job["pid"]:
                victims.append(job["pid"])
            job.update(state="F", exit_status=KILLED, mtime=time.time(),
                       pid=None)
    for pid in victims:
        kill_group(pid)
    sys.exit(rc)


def pbsdsh(argv):
    if argv[:1] == ["--"]:
        argv = argv[1:]
    with open(os.environ["PBS_NODEFILE"]) as f:
        nodes = [n for n in f.read().split() if n]
    procs = []
    for i, node in enumerate(nodes):
        env = dict(os.environ, PBS_NODENUM=str(i), PBS_VNODENUM=str(i))
        procs.append(subprocess.Popen(argv, env=env))
    sys.exit(max([p.wait() for p in procs] or [0]))


def running_pids():
    """Process groups of running jobs (for test cleanup)."""
    with Table() as t:
        return [j["pid"] for j in t.jobs.values() if j["pid"]]


def main(prog, argv):
    {"qsub": qsub, "qstat": qstat, "qdel": qdel, "pbsdsh": pbsdsh}[prog](argv)
