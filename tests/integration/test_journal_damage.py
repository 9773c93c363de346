# SPDX-License-Identifier: MIT
"""Damaged journals and full disks: refuse loudly, never lose acknowledged
changes, and let --journal-recover salvage the consistent prefix."""
import glob

import pytest

from conftest import wait_until


def corrupt(path, marker, replacement):
    data = path.read_bytes()
    assert marker in data, "marker not found in the journal"
    path.write_bytes(data.replace(marker, replacement))


def make_journal(hq, names, stop=True):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    for name in names:
        hq.submit(["--name", name, "--", "true"])
    if stop:
        hq.command(["server", "stop"])
        wait_until(lambda: server.poll() is not None, what="server exit")
    return journal, server


def test_damaged_record_refused_then_recovered(hq):
    # No clean stop: no checkpoint holds the names, only the events do.
    journal, server = make_journal(hq, ["firstjob", "DAMAGEME", "lastjob"],
                                   stop=False)
    hq.kill(server)
    corrupt(journal, b"DAMAGEME", b"DAMAGEMX")
    r = hq.command(["server", "start", "--journal", str(journal)],
                   check=False, timeout=20)
    assert r.rc == 1
    assert "damaged at event" in r.stderr
    assert "hq-replay verify" in r.stderr
    assert "--journal-recover" in r.stderr

    hq.start_server("--journal-recover", journal=journal)
    names = [j["name"] for j in hq.json(["job", "list", "--all"])]
    assert names == ["firstjob"]
    assert glob.glob(str(journal) + ".damaged-*"), "no copy of the file"
    # The salvaged journal is consistent again and keeps working.
    hq.submit(["--name", "after", "--", "true"])
    names = [j["name"] for j in hq.json(["job", "list", "--all"])]
    assert names == ["firstjob", "after"]


def test_damaged_checkpoint_refused(hq):
    journal, _ = make_journal(hq, ["a", "CKPTNAME"])  # stop writes one
    # The name is in the submit event and in the checkpoint: damage both.
    corrupt(journal, b"CKPTNAME", b"CKPTNAMX")
    r = hq.command(["server", "start", "--journal", str(journal)],
                   check=False, timeout=20)
    assert r.rc == 1
    assert "damaged" in r.stderr


def test_truncated_journal_refused(hq):
    journal, _ = make_journal(hq, ["a", "b"])
    data = journal.read_bytes()
    journal.write_bytes(data[: len(data) // 2])
    r = hq.command(["server", "start", "--journal", str(journal)],
                   check=False, timeout=20)
    assert r.rc == 1
    assert str(journal) in r.stderr


def test_not_a_journal_refused(hq):
    bogus = hq.tmp / "bogus.lmdb"
    bogus.write_bytes(b"this is not an LMDB file\n" * 1000)
    r = hq.command(["server", "start", "--journal", str(bogus)],
                   check=False, timeout=20)
    assert r.rc == 1
    assert "bogus.lmdb" in r.stderr


@pytest.mark.parametrize("map_size", ["1048576"])
def test_full_journal_acknowledges_nothing_unstored(hq, map_size):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server("--journal-map-size", map_size, journal=journal)
    big = "x" * 20000
    acked, failed = [], None
    for i in range(200):
        r = hq.command(["--output-mode", "quiet", "submit", "--name",
                        f"job{i}", "--", "echo", big], check=False)
        if r.rc != 0:
            failed = r
            break
        acked.append(int(r.stdout))
    assert failed is not None, "the journal never filled up"
    assert acked, "not a single submit was stored"
    # The first failing client learns why; later ones find no server.
    assert ("could not store the change" in failed.stderr
            or "No running instance" in failed.stderr)
    wait_until(lambda: server.poll() is not None, what="server exit")
    assert server.returncode == 1
    hq.start_server("--journal-map-size", str(8 << 20), journal=journal)
    ids = [j["id"] for j in hq.json(["job", "list", "--all"])]
    assert ids == acked
