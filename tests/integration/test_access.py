# SPDX-License-Identifier: MIT
"""hq server generate-access, server start --access-file, split access
files for clients and workers (spec 1.3, 2.11)."""
import json
import os
import re
import shutil
import socket
import stat


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("0.0.0.0", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def read(path):
    with open(path) as f:
        return json.load(f)


def generate(hq, *args, check=True):
    return hq.command(["server", "generate-access"] + list(args),
                      check=check)


def test_access_generate_files(hq):
    full, cfile, wfile = (str(hq.tmp / n) for n in
                          ("full.json", "client.json", "worker.json"))
    r = generate(hq, full, "--client-port", "7001", "--worker-port", "7002",
                 "--host", "head", "--worker-host", "wnode",
                 "--client-file", cfile, "--worker-file", wfile)
    assert r.stdout == ""
    a = read(full)
    assert set(a) == {"version", "server_uid", "client", "worker"}
    assert re.fullmatch(r"[A-Za-z0-9]{6}", a["server_uid"])
    assert a["client"]["host"] == "head" and a["client"]["port"] == 7001
    assert a["worker"]["host"] == "wnode" and a["worker"]["port"] == 7002
    for part in ("client", "worker"):
        assert re.fullmatch(r"[0-9a-f]{64}", a[part]["secret_key"])
    assert a["client"]["secret_key"] != a["worker"]["secret_key"]
    assert read(cfile) == {"version": a["version"], "client": a["client"]}
    assert read(wfile) == {"version": a["version"], "worker": a["worker"]}
    for p in (full, cfile, wfile):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o400
    # Hosts default to the local hostname; each run makes new keys/uid.
    other = str(hq.tmp / "other.json")
    generate(hq, other, "--client-port", "1", "--worker-port", "2")
    b = read(other)
    assert b["client"]["host"] == socket.gethostname()
    assert b["worker"]["host"] == socket.gethostname()
    assert b["server_uid"] != a["server_uid"] or \
        b["client"]["secret_key"] != a["client"]["secret_key"]


def test_access_generate_errors_change_nothing(hq):
    full = str(hq.tmp / "full.json")
    r = generate(hq, full, "--worker-port", "1", check=False)
    assert r.rc == 1 and "--client-port <CLIENT_PORT>" in r.stderr
    r = generate(hq, full, "--client-port", "1", check=False)
    assert r.rc == 1 and "--worker-port <WORKER_PORT>" in r.stderr
    r = generate(hq, full, "--client-port", "70000", "--worker-port", "1",
                 check=False)
    assert r.rc == 1 and "'70000'" in r.stderr
    r = generate(hq, "--client-port", "1", "--worker-port", "2",
                 check=False)
    assert r.rc == 1 and "<ACCESS_FILE>" in r.stderr
    assert not os.path.exists(full)
    generate(hq, full, "--client-port", "1", "--worker-port", "2")
    before = read(full)
    r = generate(hq, full, "--client-port", "3", "--worker-port", "4",
                 check=False)
    assert r.rc == 1 and "File exists" in r.stderr
    assert read(full) == before
    # A clash on a split file leaves no half-written set behind.
    cfile = str(hq.tmp / "c.json")
    open(cfile, "w").close()
    new = str(hq.tmp / "new.json")
    r = generate(hq, new, "--client-port", "3", "--worker-port", "4",
                 "--client-file", cfile, check=False)
    assert r.rc == 1 and not os.path.exists(new)


def test_access_server_uses_generated_file(hq):
    cport, wport = free_ports(2)
    full = str(hq.tmp / "full.json")
    generate(hq, full, "--client-port", str(cport), "--worker-port",
             str(wport), "--host", "127.0.0.1")
    a = read(full)
    hq.start_server("--access-file", full)
    info = hq.json(["server", "info"])
    assert info["server_uid"] == a["server_uid"]
    assert (info["client_port"], info["worker_port"]) == (cport, wport)
    assert info["client_host"] == "127.0.0.1"
    # The record the server publishes has the same keys.
    published = read(os.path.join(hq.server_dir, "hq-current",
                                  "access.json"))
    assert published["client"] == a["client"]
    assert published["worker"] == a["worker"]
    assert published["server_uid"] == a["server_uid"]
    hq.start_worker(cpus=1)
    job = hq.submit(["--", "true"])
    hq.wait_job(job)
    assert hq.task_states(job) == {0: "finished"}


def test_access_cli_options_override_file(hq):
    cport, wport, wport2 = free_ports(3)
    full = str(hq.tmp / "full.json")
    generate(hq, full, "--client-port", str(cport), "--worker-port",
             str(wport), "--host", "127.0.0.1")
    hq.start_server("--access-file", full, "--worker-port", str(wport2))
    info = hq.json(["server", "info"])
    assert info["server_uid"] == read(full)["server_uid"]
    assert (info["client_port"], info["worker_port"]) == (cport, wport2)
    hq.start_worker(cpus=1)


def test_access_split_files_for_clients_and_workers(hq):
    cport, wport = free_ports(2)
    full, cfile, wfile = (str(hq.tmp / n) for n in
                          ("full.json", "client.json", "worker.json"))
    generate(hq, full, "--client-port", str(cport), "--worker-port",
             str(wport), "--host", "127.0.0.1", "--client-file", cfile,
             "--worker-file", wfile)
    hq.start_server("--access-file", full)
    # A directory holding only the client (or worker) part as access.json
    # serves as --server-dir for clients (or workers).
    cdir, wdir = hq.tmp / "cdir", hq.tmp / "wdir"
    cdir.mkdir()
    wdir.mkdir()
    shutil.copy(cfile, cdir / "access.json")
    shutil.copy(wfile, wdir / "access.json")
    hq.start_worker("--server-dir", str(wdir), cpus=1)
    r = hq.command(["--server-dir", str(cdir), "--output-mode", "quiet",
                    "submit", "--", "true"])
    job = r.stdout.strip()
    hq.command(["--server-dir", str(cdir), "job", "wait", job])
    assert hq.json(["--server-dir", str(cdir), "job", "info", job])[0][
        "tasks"][0]["state"] == "finished"
    # Each file is refused for the other role.
    r = hq.command(["--server-dir", str(wdir), "job", "list"], check=False)
    assert r.rc == 1 and "the access file has no client part" in r.stderr
    r = hq.command(["--server-dir", str(cdir), "worker", "start", "--cpus",
                    "1"], check=False)
    assert r.rc != 0
    assert "the access file has no worker part" in r.stderr + r.stdout
    # Keys of another generated file do not open this server.
    odir = hq.tmp / "odir"
    odir.mkdir()
    generate(hq, str(odir / "access.json"), "--client-port", str(cport),
             "--worker-port", str(wport), "--host", "127.0.0.1")
    r = hq.command(["--server-dir", str(odir), "job", "list"], check=False,
                   timeout=20)
    assert r.rc == 1
