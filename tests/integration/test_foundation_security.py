# SPDX-License-Identifier: MIT
"""Issue 2 acceptance: keys and frames on the wire.

A client or worker with a wrong or missing key is refused (and the refusal
is logged) while everyone else keeps working; garbage, an oversized length
prefix, an undecodable or a truncated frame close only the connection that
sent them.

The in-TLS checks use `openssl s_client` with the access file's pre-shared
key, so that the bytes reach the framing layer behind the handshake.
"""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import HQ_BIN, TIMEOUT, wait_until

OPENSSL = shutil.which("openssl")


def access(hq):
    return json.loads((hq.tmp / "server" / "hq-current" / "access.json")
                      .read_text())


def fake_server_dir(hq, name, edit):
    """A copy of the live server dir whose access.json went through edit()."""
    d = hq.tmp / name
    inst = d / "001"
    inst.mkdir(parents=True)
    acc = access(hq)
    edit(acc)
    f = inst / "access.json"
    f.write_text(json.dumps(acc, indent=2))
    os.chmod(f, 0o400)
    os.symlink(str(inst), str(d / "hq-current"))
    return str(d)


def other_key(key):
    return ("0" if key[0] != "0" else "1") + key[1:]


def server_log(hq, server):
    return hq.output(server)


def long_job_waiter(hq):
    """A job that runs until 'release' exists, and a client connection
    (`hq job wait`) that stays open meanwhile."""
    job = hq.submit(["--", "bash", "-c",
                     "while [ ! -e release ]; do sleep 0.05; done"])
    waiter = subprocess.Popen([HQ_BIN, "job", "wait", str(job)], env=hq.env,
                              cwd=str(hq.work), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True)
    hq.procs.append(waiter)
    return job, waiter


def finish_long_job(hq, job, waiter):
    assert waiter.poll() is None, "the waiting client lost its connection"
    (hq.work / "release").touch()
    assert waiter.wait(timeout=TIMEOUT) == 0
    assert hq.task_states(job) == {0: "finished"}


def assert_serving(hq):
    job = hq.submit(["--", "bash", "-c", "echo ok"])
    hq.wait_job(job)
    assert hq.task_states(job) == {0: "finished"}


def test_client_with_wrong_key_is_refused_others_keep_working(hq):
    server = hq.start_server()
    hq.start_worker(cpus=2)
    job, waiter = long_job_waiter(hq)

    def wrong(acc):
        acc["client"]["secret_key"] = other_key(acc["client"]["secret_key"])
    bad = fake_server_dir(hq, "bad", wrong)
    r = hq.command(["--server-dir", bad, "job", "list"], check=False)
    assert r.rc == 1 and r.stdout == ""
    assert "refused" in r.stderr, r
    r = hq.command(["--server-dir", bad, "--output-mode", "json", "submit",
                    "--", "true"], check=False)
    assert r.rc == 1
    assert "refused" in r.json()["error"]
    wait_until(lambda: "wrong key" in server_log(hq, server),
               what="refusal in the server log")

    # Using the worker's key, or no key at all, is refused as well.
    def swapped(acc):
        acc["client"]["secret_key"] = acc["worker"]["secret_key"]

    def missing(acc):
        acc["client"]["secret_key"] = None
    for name, edit in (("swapped", swapped), ("nokey", missing)):
        d = fake_server_dir(hq, name, edit)
        r = hq.command(["--server-dir", d, "job", "list"], check=False)
        assert r.rc == 1, (name, r)
    # Nothing was submitted through the bad files.
    assert [j["id"] for j in hq.json(["job", "list", "--all"])] == [job]
    assert hq.server_up(server)
    finish_long_job(hq, job, waiter)
    assert_serving(hq)


def test_worker_with_wrong_key_is_refused(hq):
    server = hq.start_server()

    def wrong(acc):
        acc["worker"]["secret_key"] = other_key(acc["worker"]["secret_key"])
    bad = fake_server_dir(hq, "bad", wrong)
    w = hq.spawn(["worker", "start", "--cpus", "1", "--server-dir", bad],
                 "badworker")
    assert w.wait(timeout=TIMEOUT) != 0
    assert hq.json(["worker", "list", "--all"]) == []
    assert "refused" in server_log(hq, server)

    # A worker presenting the client key on the worker port: refused too.
    def client_key(acc):
        acc["worker"]["secret_key"] = acc["client"]["secret_key"]
    bad2 = fake_server_dir(hq, "bad2", client_key)
    w = hq.spawn(["worker", "start", "--cpus", "1", "--server-dir", bad2],
                 "badworker")
    assert w.wait(timeout=TIMEOUT) != 0
    assert hq.json(["worker", "list", "--all"]) == []
    hq.start_worker()
    assert_serving(hq)


def raw_exchange(port, payload):
    """Send payload on a raw TCP connection; True if the server then closes
    it (EOF or reset) within the timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            return True
        s.settimeout(TIMEOUT)
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def test_garbage_before_the_handshake_closes_only_that_connection(hq):
    server = hq.start_server()
    hq.start_worker(cpus=2)
    job, waiter = long_job_waiter(hq)
    acc = access(hq)
    # An idle connection that never says anything must not block others.
    idle = socket.create_connection(("127.0.0.1", acc["client"]["port"]))
    try:
        for port in (acc["client"]["port"], acc["worker"]["port"]):
            assert raw_exchange(port, b"GET / HTTP/1.0\r\n\r\n")
            assert raw_exchange(port, bytes(range(256)) * 4)
            assert raw_exchange(port, b"\xff\xff\xff\xff" + b"\x00" * 64)
        assert_serving(hq)
    finally:
        idle.close()
    assert hq.server_up(server)
    finish_long_job(hq, job, waiter)
    assert "refused" in server_log(hq, server)


def s_client(port, key, identity):
    return subprocess.Popen(
        [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
         "-psk", key, "-psk_identity", identity,
         "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-quiet", "-nocommands"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True)


def closed_by_server(proc, payload, wait=TIMEOUT):
    """Send payload through an established s_client; keep its stdin open
    (-quiet ignores EOF anyway) and report whether the server hung up."""
    try:
        if payload:
            proc.stdin.write(payload)
            proc.stdin.flush()
        proc.wait(timeout=wait)
        return True
    except subprocess.TimeoutExpired:
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")
def test_malformed_frames_close_only_that_connection(hq):
    server = hq.start_server()
    hq.start_worker(cpus=2)
    job, waiter = long_job_waiter(hq)
    acc = access(hq)
    cport, ckey = acc["client"]["port"], acc["client"]["secret_key"]
    wport, wkey = acc["worker"]["port"], acc["worker"]["secret_key"]

    # Control: a correct handshake that sends nothing stays connected, so
    # the closes below are the server's answer to the bytes.
    assert not closed_by_server(s_client(cport, ckey, "hq:client"), b"",
                                wait=1.0)

    cases = [
        # length prefix of 4 GiB - 1: refused before any allocation
        (b"\xff\xff\xff\xfe", "exceeds the limit"),
        # a well-framed message that is not a valid protobuf hello
        (b"\x00\x00\x00\x08" + b"\xff" * 8, "undecodable"),
    ]
    for payload, logged in cases:
        for port, key, ident in ((cport, ckey, "hq:client"),
                                 (wport, wkey, "hq:worker")):
            assert closed_by_server(s_client(port, key, ident), payload), \
                (port, payload)
            wait_until(lambda: logged in server_log(hq, server),
                       what=f"log line {logged!r}")
            assert hq.server_up(server)

    # A truncated frame: announce 100 bytes, send 10, hang up.
    p = s_client(cport, ckey, "hq:client")
    p.stdin.write(b"\x00\x00\x00\x64" + b"x" * 10)
    p.stdin.flush()
    time.sleep(0.3)
    p.kill()
    p.wait()
    for f in (p.stdin, p.stdout, p.stderr):
        f.close()

    assert hq.server_up(server)
    assert_serving(hq)
    finish_long_job(hq, job, waiter)
