# SPDX-License-Identifier: MIT
"""hq worker deploy-ssh (spec 1.4), with a fake `ssh` first on PATH.

The fake ssh logs its argv (one JSON list per line) and then, depending on
FAKE_SSH_MODE, execs the command after `--` locally (real workers against
a real server), exits at once, fails, prints lines, or sleeps.
"""
import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import HQ_BIN, TIMEOUT, descendants, wait_until

FAKE_SSH = r"""#!PYTHON
import json, os, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_SSH_LOG"], "a") as f:
    f.write(json.dumps(args) + "\n")
host = args[0]
mode = os.environ.get("FAKE_SSH_MODE", "exec")
if host in os.environ.get("FAKE_SSH_FAIL", "").split(","):
    sys.exit(255)
if mode == "exit":
    sys.exit(0)
if mode == "print":
    sys.stdout.write(f"hello from {host}\r\nsecond line\r\nno newline")
    sys.stdout.flush()
    sys.exit(0)
if mode == "sleep":
    os.execvp("sleep", ["sleep", "1000"])
cmd = args[args.index("--") + 1:]
os.execv(cmd[0], cmd)
"""


def hq_path():
    return os.path.realpath(HQ_BIN)


@pytest.fixture
def fake_ssh(hq):
    bindir = hq.tmp / "fakebin"
    bindir.mkdir()
    ssh = bindir / "ssh"
    ssh.write_text(FAKE_SSH.replace("PYTHON", sys.executable, 1))
    ssh.chmod(0o755)
    log = hq.tmp / "ssh-argv.log"
    env = {"PATH": f"{bindir}:{os.environ.get('PATH', '')}",
           "FAKE_SSH_LOG": str(log)}
    return env, log


def ssh_calls(log):
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def write_hosts(hq, text, name="hosts"):
    path = hq.tmp / name
    path.write_text(text)
    return str(path)


def deploy(hq, env, args, mode="exit", extra_env=None, timeout=TIMEOUT):
    e = dict(env)
    e["FAKE_SSH_MODE"] = mode
    if extra_env:
        e.update(extra_env)
    return hq.command(["worker", "deploy-ssh"] + list(args), check=False,
                      env=e, timeout=timeout)


def test_deploy_ssh_runs_workers_and_sigint_stops_them(hq, fake_ssh):
    env, log = fake_ssh
    hq.start_server()
    hosts = write_hosts(hq, "node-a\n# a comment\n\n  node-b:2222  \n")
    e = dict(env, FAKE_SSH_MODE="exec")
    p = hq.spawn(["worker", "deploy-ssh", hosts, "--cpus", "1",
                  "--hostname", "deployed", "--server-dir", hq.server_dir],
                 "deploy", env=e)

    def two_workers():
        assert p.poll() is None, hq.output(p)
        ws = hq.json(["worker", "list"])
        return len(ws) == 2 and ws
    workers = wait_until(two_workers, what="2 deployed workers")
    assert sorted(w["configuration"]["hostname"] for w in workers) == \
        ["deployed", "deployed"]
    calls = ssh_calls(log)
    assert sorted(c[0] for c in calls) == ["node-a", "node-b"]
    # The ssh processes (the fake one execs the worker: same pid).
    ssh_pids = descendants(p.pid)
    assert len(ssh_pids) == 2, ssh_pids

    job = hq.submit(["--array", "1-6", "--", "sh", "-c",
                     "echo $HQ_TASK_ID"])
    hq.wait_job(job)
    info = hq.job_info(job)
    assert info["info"]["task_stats"]["finished"] == 6

    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=TIMEOUT) == 0, hq.output(p)
    # deploy-ssh reaped them: gone, not even zombies.
    for pid in ssh_pids:
        assert not os.path.exists(f"/proc/{pid}"), pid
    wait_until(lambda: hq.json(["worker", "list"]) == [],
               what="workers gone from the server")
    assert "Stopping 2 worker(s)" in hq.output(p)


def test_deploy_ssh_argv(hq, fake_ssh):
    env, log = fake_ssh
    hosts = write_hosts(hq, "alpha\nbeta:2222\n[::1]:23\nfe80::1\n"
                            "#gamma\n   \n\tdelta:1\n")
    r = deploy(hq, env, [hosts, "--cpus", "2", "--group", "g1",
                         "--hostname", "x y"])
    assert r.rc == 0, r
    tail = ["--", hq_path(), "worker", "start", "--cpus", "2", "--group",
            "g1", "--hostname", "x y"]
    assert sorted(ssh_calls(log)) == sorted([
        ["alpha", "-t", "-t"] + tail,
        ["beta", "-t", "-t", "-p", "2222"] + tail,
        ["::1", "-t", "-t", "-p", "23"] + tail,
        ["fe80::1", "-t", "-t"] + tail,
        ["delta", "-t", "-t", "-p", "1"] + tail,
    ])


def test_deploy_ssh_no_worker_args_and_separator(hq, fake_ssh):
    env, log = fake_ssh
    hosts = write_hosts(hq, "alpha\n")
    r = deploy(hq, env, ["--", hosts, "--cpus", "1"])
    assert r.rc == 0, r
    r = deploy(hq, env, [hosts])
    assert r.rc == 0, r
    assert ssh_calls(log) == [
        ["alpha", "-t", "-t", "--", hq_path(), "worker", "start", "--cpus",
         "1"],
        ["alpha", "-t", "-t", "--", hq_path(), "worker", "start"],
    ]


def test_deploy_ssh_failed_hosts(hq, fake_ssh):
    env, log = fake_ssh
    hosts = write_hosts(hq, "ok1\nbad1\nok2:22\nbad2:2200\n")
    r = deploy(hq, env, [hosts], extra_env={"FAKE_SSH_FAIL": "bad1,bad2"})
    assert r.rc == 1, r
    lines = [ln for ln in r.stderr.splitlines() if "failed" in ln]
    assert len(lines) == 2, r.stderr
    assert any("bad1" in ln and "code 255" in ln for ln in lines)
    assert any("bad2:2200" in ln and "code 255" in ln for ln in lines)
    assert "ok1" not in r.stderr.replace("Starting", "")
    assert len(ssh_calls(log)) == 4


def test_deploy_ssh_show_output(hq, fake_ssh):
    env, _ = fake_ssh
    hosts = write_hosts(hq, "alpha\nbeta:99\n")
    r = deploy(hq, env, ["--show-output", hosts], mode="print")
    assert r.rc == 0, r
    out = r.stdout.splitlines()
    assert sorted(out) == sorted([
        "[alpha] hello from alpha", "[alpha] second line",
        "[alpha] no newline", "[beta:99] hello from beta",
        "[beta:99] second line", "[beta:99] no newline"])
    # Lines of one host keep their order.
    a = [ln for ln in out if ln.startswith("[alpha]")]
    assert a == ["[alpha] hello from alpha", "[alpha] second line",
                 "[alpha] no newline"]
    # Right after the hostfile, --show-output is still ours.
    r2 = deploy(hq, env, [hosts, "--show-output"], mode="print")
    assert r2.rc == 0 and sorted(r2.stdout.splitlines()) == sorted(out), r2
    # Without --show-output the output goes nowhere.
    r = deploy(hq, env, [hosts], mode="print")
    assert r.rc == 0 and r.stdout == "", r


def test_deploy_ssh_sigterm_forwarded(hq, fake_ssh):
    env, log = fake_ssh
    hosts = write_hosts(hq, "s1\ns2\ns3\n")
    p = hq.spawn(["worker", "deploy-ssh", hosts], "deploy",
                 env=dict(env, FAKE_SSH_MODE="sleep"))
    wait_until(lambda: len(descendants(p.pid)) == 3 and
               len(ssh_calls(log)) == 3, what="3 ssh processes")
    pids = descendants(p.pid)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=TIMEOUT) == 0, hq.output(p)
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}"), pid


@pytest.mark.parametrize("text,line,what", [
    ("alpha\nbeta:abc\n", 2, "invalid port 'abc'"),
    ("alpha:0\n", 1, "invalid port '0'"),
    ("alpha:65536\n", 1, "invalid port '65536'"),
    ("alpha:+22\n", 1, "invalid port '+22'"),
    ("alpha:\n", 1, "invalid port ''"),
    ("# c\n:22\n", 2, "empty host"),
    ("a\nb\nhost one\n", 3, "invalid host name 'host one'"),
    ("-oProxyCommand=evil\n", 1, "starts with '-'"),
    ("[::1\n", 1, "missing ']'"),
    ("[::1]x\n", 1, "unexpected text after ']'"),
    ("[]:22\n", 1, "empty host"),
])
def test_deploy_ssh_bad_hostfile_lines(hq, fake_ssh, text, line, what):
    env, log = fake_ssh
    hosts = write_hosts(hq, text)
    r = deploy(hq, env, [hosts])
    assert r.rc == 1, r
    assert f"{hosts}:{line}: " in r.stderr, r.stderr
    assert what in r.stderr, r.stderr
    assert ssh_calls(log) == []


def test_deploy_ssh_empty_and_missing_hostfile(hq, fake_ssh):
    env, log = fake_ssh
    hosts = write_hosts(hq, "# only comments\n\n   \n")
    r = deploy(hq, env, [hosts])
    assert r.rc == 1 and f"The hostfile {hosts} contains no hosts" in \
        r.stderr, r
    hosts = write_hosts(hq, "", name="empty")
    r = deploy(hq, env, [hosts])
    assert r.rc == 1 and "contains no hosts" in r.stderr, r
    missing = str(hq.tmp / "nope")
    r = deploy(hq, env, [missing])
    assert r.rc == 1, r
    assert f"Cannot read the hostfile {missing}: No such file or " \
        "directory" in r.stderr, r
    r = deploy(hq, env, [])
    assert r.rc == 1 and "<HOSTFILE>" in r.stderr, r
    r = deploy(hq, env, ["--bogus", "x"])
    assert r.rc == 1 and "unexpected argument '--bogus'" in r.stderr, r
    assert ssh_calls(log) == []


@pytest.mark.parametrize("args", [
    ["--cpus", "foo"],
    ["--bogus-option"],
    ["--idle-timeout", "ten"],
    ["--manager", "lsf"],
    ["--heartbeat"],
    ["--cpus", "2", "--resource", "cpus=[0,1]"],
])
def test_deploy_ssh_bad_worker_option(hq, fake_ssh, args):
    env, log = fake_ssh
    hosts = write_hosts(hq, "alpha\n")
    r = deploy(hq, env, [hosts] + args)
    assert r.rc == 1, r
    # The same error as `hq worker start` gives (it fails before it
    # connects anywhere).
    w = hq.command(["worker", "start"] + args, check=False)
    assert w.rc == 1
    assert r.stderr == w.stderr and r.stderr, (r, w)
    assert ssh_calls(log) == []
    # JSON mode: the error as JSON.
    r = hq.command(["--output-mode", "json", "worker", "deploy-ssh", hosts]
                   + args, check=False, env=env)
    assert r.rc == 1 and "error" in json.loads(r.stdout), r


def test_deploy_ssh_without_ssh(hq, fake_ssh):
    env, log = fake_ssh
    hosts = write_hosts(hq, "alpha\nbeta\n")
    empty = hq.tmp / "emptybin"
    empty.mkdir()
    r = deploy(hq, dict(env, PATH=str(empty)), [hosts])
    assert r.rc == 1, r
    assert "Cannot run ssh for alpha: No such file or directory" in \
        r.stderr, r


def test_deploy_ssh_help_and_completion(hq):
    r = hq.command(["worker", "deploy-ssh", "--help"])
    assert "--show-output" in r.stdout and "<HOSTFILE>" in r.stdout
    r = hq.command(["worker", "--help"])
    assert "deploy-ssh" in r.stdout
    r = subprocess.run([HQ_BIN, "generate-completion", "bash"],
                       capture_output=True, text=True, check=True)
    assert "deploy-ssh" in r.stdout and "show-output" in r.stdout
