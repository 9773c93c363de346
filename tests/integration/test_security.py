# SPDX-License-Identifier: MIT
"""Issue 8: security checks (the threat model is docs/SECURITY.md).

Extends test_foundation_security.py (wrong keys, swapped keys, garbage):
- a peer without the key learns nothing beyond the TLS handshake: the
  bytes the server sends it, recorded by a proxy, are handshake and alert
  records only, and name neither the server uid nor the version;
- the right key on its own port but in the other role's hands (the CLI on
  the worker port, a worker on the client port) is refused by identity, so
  worker credentials cannot submit and client credentials cannot register
  a worker;
- files: server dir and instance dir 0700, access files 0400, journal and
  its lock 0600, stream files 0600; `hq` refuses an access file that others
  may read and says why.
"""
import json
import os
import select
import shutil
import socket
import stat
import subprocess
import threading

import pytest

from conftest import HQ_BIN, TIMEOUT, wait_until
from test_foundation_security import access, fake_server_dir, other_key

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None,
                                   reason="needs the openssl command")


class RecordingProxy:
    """One TCP connection 127.0.0.1:port -> upstream; keeps what the
    upstream (the server) sends."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.from_server = bytearray()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.lsock.settimeout(TIMEOUT)
        try:
            client, _ = self.lsock.accept()
        except socket.timeout:
            return
        server = socket.create_connection(("127.0.0.1", self.upstream_port))
        socks = [client, server]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], TIMEOUT)
                if not r:
                    return
                for s in r:
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    if s is server:
                        self.from_server += data
                        client.sendall(data)
                    else:
                        server.sendall(data)
        finally:
            client.close()
            server.close()
            self.lsock.close()

    def join(self):
        self.thread.join(TIMEOUT)
        return bytes(self.from_server)


def tls_record_types(data):
    """Content types of the TLS records in a byte stream."""
    types, i = [], 0
    while i + 5 <= len(data):
        types.append(data[i])
        i += 5 + int.from_bytes(data[i + 3:i + 5], "big")
    return types


def s_client_via(port, key, identity, stdin=b""):
    p = subprocess.run(
        [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
         "-psk", key, "-psk_identity", identity,
         "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-quiet", "-nocommands"],
        input=stdin, capture_output=True, timeout=TIMEOUT)
    return p.stdout + p.stderr


def hq_version():
    out = subprocess.run([HQ_BIN, "--version"], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[-1]


@needs_openssl
def test_peer_without_the_key_learns_nothing(hq):
    server = hq.start_server()
    acc = access(hq)
    uid, version = acc["server_uid"], hq_version()
    secrets = [uid.encode(), version.encode(), b"hyperqueue"]
    cases = [
        ("client port, wrong key", acc["client"]["port"],
         other_key(acc["client"]["secret_key"]), "hq:client"),
        ("worker port, wrong key", acc["worker"]["port"],
         other_key(acc["worker"]["secret_key"]), "hq:worker"),
        ("client port, the worker's key", acc["client"]["port"],
         acc["worker"]["secret_key"], "hq:client"),
        ("client port, unknown identity", acc["client"]["port"],
         acc["client"]["secret_key"], "admin"),
    ]
    for what, port, key, ident in cases:
        proxy = RecordingProxy(port)
        seen = s_client_via(proxy.port, key, ident,
                            stdin=b"\x00\x00\x00\x02\x08\x01")
        got = proxy.join()
        types = tls_record_types(got)
        # Only a (plaintext) handshake refusal: no encrypted record at all,
        # so nothing the server knows was sent.
        assert types and set(types) <= {21, 22}, (what, types)
        assert 23 not in types, what
        for s in secrets:
            assert s not in got, (what, s)
            assert s not in seen, (what, s)
    # Control: with the right key the same proxy sees encrypted records,
    # and the hello reply (inside them) is what a key holder gets.
    proxy = RecordingProxy(acc["client"]["port"])
    p = subprocess.Popen(
        [OPENSSL, "s_client", "-connect", f"127.0.0.1:{proxy.port}",
         "-tls1_3", "-psk", acc["client"]["secret_key"], "-psk_identity",
         "hq:client", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-quiet",
         "-nocommands"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    hq.procs.append(p)
    wait_until(lambda: 23 in tls_record_types(bytes(proxy.from_server)),
               what="encrypted records with the right key")
    p.kill()
    p.wait()
    p.stdin.close()
    proxy.join()
    wait_until(lambda: hq.output(server).count("refused") >= 4,
               what="four refusals in the server log")
    assert hq.server_up(server)


def test_credentials_of_the_other_role_are_refused(hq):
    server = hq.start_server()
    hq.start_worker(cpus=1)

    # The CLI with the worker's host, port and key: a TLS peer with the
    # right key for that port, but the client identity. It cannot submit.
    def cli_on_worker_port(acc):
        acc["client"] = dict(acc["worker"])
    d = fake_server_dir(hq, "cli-on-worker-port", cli_on_worker_port)
    r = hq.command(["--server-dir", d, "submit", "--", "true"], check=False)
    assert r.rc == 1 and "refused" in r.stderr, r
    assert "identity" in r.stderr, r
    assert hq.json(["job", "list", "--all"]) == []

    # A worker with the client's host, port and key: it cannot register.
    def worker_on_client_port(acc):
        acc["worker"] = dict(acc["client"])
    d = fake_server_dir(hq, "worker-on-client-port", worker_on_client_port)
    w = hq.spawn(["worker", "start", "--cpus", "1", "--server-dir", d],
                 "badworker")
    assert w.wait(timeout=TIMEOUT) != 0
    assert "refused" in hq.output(w), hq.output(w)
    assert len(hq.json(["worker", "list", "--all"])) == 1
    log = hq.output(server)
    assert "TLS identity 'hq:client' is for the client port; this is the " \
        "worker port" in log, log
    assert "TLS identity 'hq:worker' is for the worker port; this is the " \
        "client port" in log, log
    assert hq.server_up(server)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_file_modes(hq):
    journal = hq.tmp / "journal"
    hq.start_server(journal=journal)
    hq.start_worker(cpus=1)
    sd = hq.tmp / "server"
    inst = os.path.realpath(sd / "hq-current")
    assert mode(sd) == 0o700
    assert mode(inst) == 0o700
    assert mode(os.path.join(inst, "access.json")) == 0o400
    assert mode(journal) == 0o600
    assert mode(str(journal) + "-lock") == 0o600
    # Stream files of a job (task output, possibly confidential).
    job = hq.submit(["--stream", "streams", "--", "bash", "-c",
                     "echo secret"])
    hq.wait_job(job)
    files = [os.path.join(dp, f)
             for dp, _, fs in os.walk(hq.work / "streams") for f in fs]
    assert files, "no stream file"
    for f in files:
        assert mode(f) == 0o600, f
    # Access files written in advance.
    full, cfile, wfile = (str(hq.tmp / n) for n in ("a.json", "c.json",
                                                     "w.json"))
    hq.command(["server", "generate-access", full, "--client-port", "0",
                "--worker-port", "0", "--client-file", cfile,
                "--worker-file", wfile])
    for f in (full, cfile, wfile):
        assert mode(f) == 0o400, f


@pytest.mark.parametrize("bits", [0o444, 0o640, 0o602])
def test_access_file_open_to_others_is_refused(hq, bits):
    hq.start_server()
    f = os.path.join(os.path.realpath(hq.tmp / "server" / "hq-current"),
                     "access.json")
    os.chmod(f, bits)
    r = hq.command(["job", "list"], check=False)
    assert r.rc == 1
    assert "holds secret keys but is accessible by other users" in r.stderr
    assert f"mode {bits:04o}" in r.stderr and "chmod 600" in r.stderr, r
    assert f in r.stderr
    # In JSON mode the reason is the error.
    r = hq.command(["--output-mode", "json", "job", "list"], check=False)
    assert r.rc == 1 and "accessible by other users" in r.json()["error"]
    # A worker refuses it too, and so does a server given it.
    w = hq.spawn(["worker", "start", "--cpus", "1"], "worker")
    assert w.wait(timeout=TIMEOUT) != 0
    assert "accessible by other users" in hq.output(w)
    os.chmod(f, 0o400)
    assert hq.command(["job", "list"]).rc == 0
    copy = hq.tmp / "copy.json"
    shutil.copy(f, copy)
    os.chmod(copy, bits)
    s = hq.spawn(["server", "start", "--server-dir", str(hq.tmp / "other"),
                  "--access-file", str(copy)], "server2")
    assert s.wait(timeout=TIMEOUT) != 0
    assert "accessible by other users" in hq.output(s)
