# SPDX-License-Identifier: MIT
"""Harness for integration tests: real hq binaries on 127.0.0.1 in temp dirs.

Every process a test starts is tracked by pid and killed (with its
descendants) when the test ends, pass or fail.
"""
import json
import os
import signal
import subprocess
import time

import pytest

HQ_BIN = os.environ.get("HQ_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "hq")
HQ_REPLAY_BIN = os.environ.get("HQ_REPLAY_BIN") or os.path.join(
    os.path.dirname(HQ_BIN), "hq-replay")
# Generous by default: sanitizer builds and a shared 2-core machine.
TIMEOUT = float(os.environ.get("HQ_TEST_TIMEOUT", "30"))


def descendants(pid):
    """All live descendants of pid (from /proc), deepest last."""
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


def kill_tree(pid, sig=signal.SIGKILL):
    for p in [pid] + descendants(pid):
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def wait_until(cond, timeout=TIMEOUT, interval=0.05, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return f"<rc={self.rc} stdout={self.stdout!r} stderr={self.stderr!r}>"


class HqEnv:
    """One isolated hq installation: a server dir, a work dir, processes."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.server_dir = str(tmp_path / "server")
        self.work = tmp_path / "work"
        self.work.mkdir()
        self.procs = []
        self.logs = []
        self.env = dict(os.environ)
        self.env.pop("HQ_SERVER_DIR", None)
        self.env.pop("HQ_OUTPUT_MODE", None)
        self.env["HQ_SERVER_DIR"] = self.server_dir
        # hwloc plugins leak at exit; keep sanitizer runs about our code.
        self.env.setdefault("HWLOC_PLUGINS_PATH", "/nonexistent")

    # ---- processes -------------------------------------------------------
    def spawn(self, args, name, env=None, cwd=None):
        log = open(self.tmp / f"{name}-{len(self.logs)}.log", "w+")
        self.logs.append(log)
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.Popen([HQ_BIN] + list(args), stdout=log,
                             stderr=subprocess.STDOUT, env=e,
                             cwd=str(cwd or self.work),
                             start_new_session=True)
        p.log = log
        self.procs.append(p)
        return p

    def output(self, proc):
        proc.log.flush()
        proc.log.seek(0)
        return proc.log.read()

    def start_server(self, *args, journal=None, wait=True, env=None):
        a = ["server", "start"]
        if journal is not None:
            a += ["--journal", str(journal)]
        a += list(args)
        p = self.spawn(a, "server", env=env)
        if wait:
            wait_until(lambda: self.server_up(p), what="server start")
        return p

    def server_up(self, proc=None):
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"server exited with {proc.returncode}:\n{self.output(proc)}")
        r = self.command(["server", "info"], check=False, timeout=5)
        return r.rc == 0

    def start_worker(self, *args, cpus="1", wait=True, env=None):
        before = self.online_worker_ids() if wait else set()
        a = ["worker", "start"]
        if cpus is not None:
            a += ["--cpus", str(cpus)]
        a += list(args)
        p = self.spawn(a, "worker", env=env)
        if wait:
            def registered():
                if p.poll() is not None:
                    raise AssertionError(
                        f"worker exited with {p.returncode}:\n"
                        f"{self.output(p)}")
                new = self.online_worker_ids() - before
                return new and min(new)
            p.worker_id = wait_until(registered, what="worker registration")
        return p

    def online_worker_ids(self):
        r = self.command(["--output-mode", "json", "worker", "list"],
                         check=False, timeout=5)
        if r.rc != 0:
            return set()
        return {w["id"] for w in json.loads(r.stdout)}

    def kill(self, proc, sig=signal.SIGKILL):
        kill_tree(proc.pid, sig)
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid, signal.SIGKILL)
            proc.wait(timeout=TIMEOUT)

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                kill_tree(p.pid, signal.SIGKILL)
        for p in self.procs:
            try:
                p.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        # Tasks run in their own sessions: make sure none outlives the test.
        for p in self.procs:
            kill_tree(p.pid, signal.SIGKILL)
        for log in self.logs:
            log.close()

    # ---- client commands -----------------------------------------------------
    def command(self, args, check=True, input=None, cwd=None, env=None,
                timeout=TIMEOUT):
        e = dict(self.env)
        if env:
            e.update(env)
        proc = subprocess.run([HQ_BIN] + list(args), capture_output=True,
                              text=True, input=input, env=e,
                              cwd=str(cwd or self.work), timeout=timeout)
        r = Result(proc)
        if check and r.rc != 0:
            raise AssertionError(f"hq {' '.join(args)} failed: {r}")
        return r

    def json(self, args, **kw):
        return self.command(["--output-mode", "json"] + list(args),
                            **kw).json()

    def submit(self, args, **kw):
        """Submit and return the job id."""
        r = self.command(["--output-mode", "quiet", "submit"] + list(args),
                         **kw)
        return int(r.stdout.strip())

    def wait_job(self, job, timeout=TIMEOUT):
        self.command(["job", "wait", str(job)], timeout=timeout)

    def job_info(self, job):
        return self.json(["job", "info", str(job)])[0]

    def task_states(self, job):
        info = self.job_info(job)
        return {t["id"]: t["state"] for t in info["tasks"]}


@pytest.fixture
def hq(tmp_path):
    env = HqEnv(tmp_path)
    try:
        yield env
    finally:
        env.stop_all()
