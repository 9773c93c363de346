# SPDX-License-Identifier: MIT
"""Issue 4, the tools: `hq journal export|stream|replay|prune|flush` and
`hq-replay events|state|verify|stats`, on journals written by a real
server, read while it runs and after it stopped, across the checkpoints it
writes when it stops, and after a prune.
"""
import hashlib
import json
import subprocess

from conftest import HQ_REPLAY_BIN, TIMEOUT, wait_until


def replay(hq, *args, check=True):
    p = subprocess.run([HQ_REPLAY_BIN] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=60,
                       env=hq.env)
    if check:
        assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
    return p


def ndjson(text):
    return [json.loads(x) for x in text.splitlines() if x.startswith("{")]


def stats(hq, journal):
    return json.loads(replay(hq, "stats", journal, "--json").stdout)


def state(hq, journal, *args, check=True):
    p = replay(hq, "state", journal, "--json", *args, check=check)
    return json.loads(p.stdout) if p.returncode == 0 else p


def stop_server(hq, server):
    hq.command(["server", "stop"])
    wait_until(lambda: server.poll() is not None, what="server exit")
    assert server.returncode == 0, hq.output(server)


def run_jobs(hq):
    """A finished array, a failed task and a canceled job: ids 1, 2, 3."""
    ok = hq.submit(["--array", "1-6", "--", "true"])
    hq.wait_job(ok)
    bad = hq.submit(["--", "bash", "-c", "exit 3"])
    hq.wait_job(bad)
    never = hq.submit(["--cpus", "8", "--", "true"])  # never fits
    hq.command(["job", "cancel", str(never)])
    return ok, bad, never


# ---- hq journal export ---------------------------------------------------------
def test_journal_export_ndjson_while_running_and_after_stop(hq):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    w = hq.start_worker(cpus=2)
    ok, bad, never = run_jobs(hq)

    r = hq.command(["journal", "export", str(journal)])
    lines = ndjson(r.stdout)
    assert len(lines) == len(r.stdout.splitlines())
    assert f"Outputted {len(lines)} event(s)" in r.stderr
    assert all(set(x) >= {"time", "event"} and "type" in x["event"]
               for x in lines)
    seqs = [x["seq"] for x in lines]
    assert seqs == sorted(seqs) and seqs[0] == 1
    types = {x["event"]["type"] for x in lines}
    assert {"server-start", "worker-connected", "job-created",
            "task-started", "task-finished", "task-failed",
            "job-cancel"} <= types
    # Instances come from the state rebuilt along the way.
    started = [x["event"] for x in lines
               if x["event"]["type"] == "task-started"
               and x["event"]["job"] == ok]
    assert sorted(e["task"] for e in started) == [1, 2, 3, 4, 5, 6]
    assert all(e["instance"] == 0 and e["worker"] == w.worker_id
               for e in started)
    failed = [x["event"] for x in lines
              if x["event"]["type"] == "task-failed"]
    assert failed == [{"type": "task-failed", "job": bad, "task": 0,
                       "error": "Program terminated with exit code 3."}]
    created = [x["event"] for x in lines
               if x["event"]["type"] == "job-created"]
    assert [e["job"] for e in created] == [ok, bad, never]
    assert created[0]["submit_desc"]["submit_dir"] == str(hq.work)
    # The same lines as hq-replay's, and no "{}" in JSON mode.
    assert replay(hq, "events", journal, "--json").stdout == r.stdout
    rj = hq.command(["--output-mode", "json", "journal", "export",
                     str(journal)])
    assert rj.stdout == r.stdout

    stop_server(hq, server)
    after = hq.command(["journal", "export", str(journal)])
    later = ndjson(after.stdout)
    assert later[:len(lines)] == lines
    assert later[-1]["event"] == {"type": "server-stop"}
    assert f"Outputted {len(later)} event(s)" in after.stderr


def test_journal_export_errors_name_the_problem(hq):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    hq.submit(["--name", "exportmarker", "--", "true"])
    stop_server(hq, server)

    r = hq.command(["journal", "export", str(hq.tmp / "missing")],
                   check=False)
    assert r.rc == 1 and r.stdout == ""
    assert str(hq.tmp / "missing") in r.stderr
    assert "No such file" in r.stderr

    garbage = hq.tmp / "garbage"
    garbage.write_bytes(b"this is not a journal\n" * 400)
    r = hq.command(["journal", "export", str(garbage)], check=False)
    assert r.rc == 1 and r.stdout == ""
    assert str(garbage) in r.stderr and "not an LMDB file" in r.stderr

    cut = hq.tmp / "cut"
    cut.write_bytes(journal.read_bytes()[:8192])
    r = hq.command(["journal", "export", str(cut)], check=False)
    assert r.rc == 1 and r.stdout == ""
    assert str(cut) in r.stderr and "truncated" in r.stderr

    # A record altered in place still decodes: the hash chain catches it.
    altered = hq.tmp / "altered"
    altered.write_bytes(journal.read_bytes().replace(b"exportmarker",
                                                     b"exportMARKER"))
    r = hq.command(["journal", "export", str(altered)], check=False)
    assert r.rc == 1 and r.stdout == ""
    assert str(altered) in r.stderr and "records altered" in r.stderr
    assert "hq-replay verify" in r.stderr

    r = hq.command(["journal", "export"], check=False)
    assert r.rc == 1 and "<JOURNAL>" in r.stderr
    r = hq.command(["--output-mode", "json", "journal", "export",
                    str(garbage)], check=False)
    assert r.rc == 1 and "not an LMDB file" in json.loads(r.stdout)["error"]


# ---- hq journal replay / stream ----------------------------------------------------
def test_journal_replay_and_stream_from_the_server(hq):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    hq.start_worker(cpus=2)
    first = hq.submit(["--array", "1-3", "--", "true"])
    hq.wait_job(first)

    exported = ndjson(hq.command(["journal", "export",
                                  str(journal)]).stdout)
    r = hq.command(["journal", "replay"], timeout=TIMEOUT)
    past = ndjson(r.stdout)
    assert [(x["seq"], x["event"]["type"]) for x in past] == \
        [(x["seq"], x["event"]["type"]) for x in exported]

    stream = hq.spawn(["journal", "stream"], "stream")

    def streamed():
        return ndjson(hq.output(stream))
    wait_until(lambda: len(streamed()) >= len(past),
               what="the history in the stream")
    second = hq.submit(["--array", "1-2", "--", "true"])
    hq.wait_job(second)

    def live_done():
        ev = [x["event"] for x in streamed()]
        return [e for e in ev if e["type"] == "task-finished"
                and e["job"] == second]
    wait_until(lambda: len(live_done()) == 2, what="live events")
    lines = streamed()
    assert [(x["seq"], x["event"]["type"]) for x in lines[:len(past)]] == \
        [(x["seq"], x["event"]["type"]) for x in past]
    assert any(x["event"]["type"] == "job-created" and
               x["event"]["job"] == second for x in lines[len(past):])
    seqs = [x["seq"] for x in lines]
    assert seqs == sorted(seqs)
    assert stream.poll() is None  # live: it waits for more

    stop_server(hq, server)
    stream.wait(timeout=TIMEOUT)
    assert stream.returncode == 0, hq.output(stream)


def test_journal_replay_without_journal_and_prune_errors(hq):
    hq.start_server()
    r = hq.command(["journal", "replay"])
    assert r.rc == 0 and ndjson(r.stdout) == []
    r = hq.command(["journal", "flush"])
    assert r.rc == 0
    r = hq.command(["journal", "prune"], check=False)
    assert r.rc == 1 and "journal" in r.stderr


# ---- hq-replay across checkpoints ------------------------------------------------
def test_replay_tools_while_running_after_stop_and_across_checkpoints(hq):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    w = hq.start_worker(cpus=2)
    ok, bad, never = run_jobs(hq)

    # While the server runs.
    v = replay(hq, "verify", journal)
    assert "chain: ok" in v.stdout and v.stdout.endswith("verify: ok\n")
    ev = replay(hq, "events", journal, "--job", ok, "--task", 2).stdout
    assert f"job {ok} task 2: started on worker {w.worker_id} " \
        "(instance 0)" in ev
    assert f"job {ok} task 2: finished" in ev
    st = state(hq, journal)
    assert {j["id"]: j["state"] for j in st["jobs"]} == \
        {ok: "FINISHED", bad: "FAILED", never: "CANCELED"}
    assert st["checkpoint"] is None
    s = stats(hq, journal)
    assert s["first_seq"] == 1 and s["records"] == s["last_seq"]
    assert s["events"]["task-failed"]["events"] == 1

    # A clean stop writes a checkpoint of the final state.
    stop_server(hq, server)
    s = stats(hq, journal)
    assert s["checkpoints"] == 1
    c1 = s["last_checkpoint_seq"]
    assert c1 == s["last_seq"]
    v = replay(hq, "verify", journal, check=False)
    assert "checkpoints: 1, 1 identical" in v.stdout, v.stdout
    assert v.returncode == 0 and v.stdout.endswith("verify: ok\n")

    # Restart from it, more work, a second checkpoint at the next stop.
    server = hq.start_server(journal=journal)
    hq.start_worker(cpus=2)
    more = hq.submit(["--array", "1-3", "--", "true"])
    hq.wait_job(more)
    mid = stats(hq, journal)["last_seq"]
    v = replay(hq, "verify", journal, check=False)
    assert v.returncode == 0, v.stdout
    stop_server(hq, server)
    s = stats(hq, journal)
    assert s["checkpoints"] == 2 and s["last_checkpoint_seq"] > mid
    v = replay(hq, "verify", journal, check=False)
    assert "checkpoints: 2, 2 identical" in v.stdout, v.stdout
    assert v.returncode == 0

    # state --at on both sides of the first checkpoint: from seq 1 and
    # from the newest checkpoint before the moment, the same state.
    def jobs(x):
        return {j["id"]: (j["state"], j["task_stats"]) for j in x["jobs"]}
    for at, ckpt in ((c1 - 1, None), (c1, c1), (c1 + 1, c1),
                     (s["last_seq"], s["last_seq"])):
        full = state(hq, journal, "--at", at)
        fast = state(hq, journal, "--at", at, "--from-checkpoint")
        assert full["seq"] == fast["seq"] == at
        assert full["checkpoint"] is None and fast["checkpoint"] == ckpt
        assert jobs(full) == jobs(fast)
    assert set(jobs(state(hq, journal, "--at", c1))) == {ok, bad, never}
    assert jobs(state(hq, journal))[more] == \
        ("FINISHED", {"waiting": 0, "running": 0, "finished": 3,
                      "failed": 0, "canceled": 0, "aborted": 0})
    # By time: the first checkpoint's record time gives that state.
    t1 = state(hq, journal, "--at", c1)["time"]
    by_time = state(hq, journal, "--at", t1, "--from-checkpoint")
    assert by_time["seq"] >= c1 and set(jobs(by_time)) == {ok, bad, never}


def test_journal_prune_keeps_the_state_and_the_tools_start_from_it(hq):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    w = hq.start_worker(cpus=2)
    ok, bad, never = run_jobs(hq)
    before = stats(hq, journal)

    r = hq.command(["journal", "prune"])
    assert "Journal pruned" in r.stderr
    s = stats(hq, journal)
    assert s["first_seq"] > 1 and s["records"] < before["records"]
    assert s["checkpoints"] == 1
    ckpt = s["last_checkpoint_seq"]
    assert s["first_seq"] - 1 <= ckpt
    v = replay(hq, "verify", journal)
    assert f"base: the checkpoint at seq {ckpt}" in v.stdout

    more = hq.submit(["--array", "1-3", "--", "true"])
    hq.wait_job(more)
    assert replay(hq, "verify", journal).stdout.endswith("verify: ok\n")
    st = state(hq, journal)
    assert st["checkpoint"] == ckpt
    assert {j["id"]: j["state"] for j in st["jobs"]} == \
        {ok: "FINISHED", bad: "FAILED", never: "CANCELED",
         more: "FINISHED"}
    p = state(hq, journal, "--at", s["first_seq"] - 1, check=False)
    assert p.returncode == 1 and "pruned" in p.stderr
    ev = replay(hq, "events", journal, "--job", more, "--task", 1).stdout
    assert f"job {more} task 1: started on worker {w.worker_id} " \
        "(instance 0)" in ev

    r = hq.command(["journal", "export", str(journal)])
    lines = ndjson(r.stdout)
    assert lines[0]["seq"] == s["first_seq"]
    assert f"Outputted {len(lines)} event(s)" in r.stderr
    started = [x["event"] for x in lines
               if x["event"]["type"] == "task-started"
               and x["event"]["job"] == more]
    assert len(started) == 3 and all(e["instance"] == 0 for e in started)
    assert replay(hq, "events", journal, "--json").stdout == r.stdout
    # The live state was not touched by the prune.
    assert len(hq.json(["job", "list", "--all"])) == 4

    stop_server(hq, server)
    hq.start_server(journal=journal)
    assert hq.command(["--output-mode", "quiet", "job", "list", "--all"]
                      ).stdout == (f"{ok} FINISHED\n{bad} FAILED\n"
                                   f"{never} CANCELED\n{more} FINISHED\n")


def alter_snapshots(path, fix_digest):
    """Rename job "ckptmarker0001" inside every stored snapshot (a value
    link || sha256 digest || snapshot, the snapshot starting with HQSNAP),
    and with fix_digest store the digest of the altered bytes. The length
    of a snapshot is found as the prefix whose digest matches."""
    data = bytearray(path.read_bytes())
    hits, pos = 0, data.find(b"HQSNAP")
    while pos >= 0:
        digest = bytes(data[pos - 32:pos])
        h, length = hashlib.sha256(), None
        for n in range(pos, min(len(data), pos + (1 << 16))):
            h.update(data[n:n + 1])
            if h.copy().digest() == digest:
                length = n + 1 - pos
                break
        body = bytes(data[pos:pos + (length or 0)])
        if length and b"ckptmarker0001" in body:
            body = body.replace(b"ckptmarker0001", b"ckptmarker0002")
            data[pos:pos + length] = body
            if fix_digest:
                data[pos - 32:pos] = hashlib.sha256(body).digest()
            hits += 1
        pos = data.find(b"HQSNAP", pos + 1)
    path.write_bytes(bytes(data))
    return hits


def test_verify_names_a_checkpoint_that_differs_from_the_log(hq):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    hq.start_worker(cpus=2)
    job = hq.submit(["--name", "ckptmarker0001", "--array", "1-3", "--",
                     "true"])
    hq.wait_job(job)
    stop_server(hq, server)
    ckpt = stats(hq, journal)["last_checkpoint_seq"]
    assert ckpt > 0
    v = replay(hq, "verify", journal, check=False)
    assert v.returncode == 0, v.stdout

    # Alter the job name inside the stored snapshot. Its digest gives that
    # away unless it is recomputed; then the snapshot is well-formed and
    # only the comparison with the replay can tell it from the truth.
    original = journal.read_bytes()
    assert alter_snapshots(journal, fix_digest=False) > 0
    v = replay(hq, "verify", journal, check=False)
    assert v.returncode == 1, v.stdout
    assert "checkpoint" in v.stdout and "verify: FAILED" in v.stdout

    journal.write_bytes(original)
    assert alter_snapshots(journal, fix_digest=True) > 0
    v = replay(hq, "verify", journal, check=False)
    assert v.returncode == 1, v.stdout
    assert "chain: ok" in v.stdout
    assert f"checkpoint at seq {ckpt}: BAD: differs from the state " \
        "rebuilt from the log" in v.stdout
    assert v.stdout.endswith(
        f"verify: FAILED, first bad checkpoint: seq {ckpt}\n")
    # The tools that start from a checkpoint show what it holds.
    st = state(hq, journal, "--from-checkpoint")
    assert st["checkpoint"] == ckpt
    assert [j["name"] for j in st["jobs"]] == ["ckptmarker0002"]
    assert [j["name"] for j in state(hq, journal)["jobs"]] == \
        ["ckptmarker0001"]


# ---- hq journal report ---------------------------------------------------------
def test_journal_report_writes_html_statistics(hq):
    journal = hq.tmp / "j.lmdb"
    server = hq.start_server(journal=journal)
    hq.start_worker(cpus=2)
    ok = hq.submit(["--name", "report<&>job", "--array", "1-6", "--",
                    "true"])
    hq.wait_job(ok)
    out = hq.tmp / "report.html"
    r = hq.command(["journal", "report", str(journal), str(out)])
    events = len(ndjson(hq.command(["journal", "export",
                                    str(journal)]).stdout))
    # One NDJSON line per task of a run; the report counts events.
    n = stats(hq, journal)["records"]
    assert events >= n
    assert f"Report of {n} event(s) written to {out}" in r.stderr
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and \
        html.rstrip().endswith("</html>")
    assert "<td>report&lt;&amp;&gt;job</td><td>FINISHED</td>" \
        "<td class=\"n\">6</td>" in html
    assert "<svg" in html and "<polygon" in html
    assert "<tr><td>task-finished</td>" in html
    # A window before any task ran: no task events, the job still waiting
    # or assigned at its end.
    stop_server(hq, server)
    early = hq.tmp / "early.html"
    hq.command(["journal", "report", str(journal), str(early),
                "--end-time", "0s"])
    assert "task-finished" not in early.read_text()

    r = hq.command(["journal", "report", str(journal)], check=False)
    assert r.rc == 1 and "<OUTPUT.html>" in r.stderr
    r = hq.command(["journal", "report", str(journal), str(early),
                    "--start-time", "nonsense"], check=False)
    assert r.rc == 1 and "--start-time" in r.stderr
    r = hq.command(["journal", "report", str(hq.tmp / "none"), str(early)],
                   check=False)
    assert r.rc == 1 and "No such file" in r.stderr
