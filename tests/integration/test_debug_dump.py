# SPDX-License-Identifier: MIT
"""hq server debug-dump <PATH> (spec 1.3): the server's live scheduler
state as JSON {"tako": {...}}, written by the client."""
import json
import os

from conftest import wait_until


def dump(hq, path):
    hq.command(["server", "debug-dump", str(path)])
    with open(path) as f:
        return json.load(f)


def test_debug_dump_workers_jobs_queues(hq):
    journal = hq.tmp / "journal"
    hq.start_server(journal=journal)
    w = hq.start_worker("--hostname", "dumphost", "--group", "grp",
                        cpus="2")
    # Job 1: two tasks run, one is prefilled or ready; job 2 waits for
    # more CPUs than any worker has.
    j1 = hq.submit(["--array", "1-4", "--", "sleep", "100"])
    j2 = hq.submit(["--cpus", "3", "--", "sleep", "1"])
    wait_until(lambda: hq.job_info(j1)["info"]["task_stats"]["running"]
               == 2, what="two running tasks")
    d = dump(hq, hq.tmp / "dump.json")
    assert list(d) == ["tako"]
    t = d["tako"]

    workers = {x["id"]: x for x in t["workers"]}
    assert set(workers) == {w.worker_id}
    wk = workers[w.worker_id]
    assert wk["hostname"] == "dumphost"
    assert wk["group"] == "grp"
    assert wk["online"] is True and wk["state"] == "RUNNING"
    assert wk["resources"]["cpus"] == 2
    assert wk["free"]["cpus"] == 0

    jobs = {x["id"]: x for x in t["jobs"]}
    assert set(jobs) == {j1, j2}
    for j in (j1, j2):
        info = hq.job_info(j)
        assert jobs[j]["name"] == info["info"]["name"]
        assert jobs[j]["n_tasks"] == info["info"]["task_count"]
        assert jobs[j]["counts"] == info["info"]["task_stats"], j
        waiting = jobs[j]["waiting"]
        assert waiting["ready"] + waiting["prefilled"] + \
            waiting["blocked"] == info["info"]["task_stats"]["waiting"]
    running = sorted(x["id"] for x in hq.job_info(j1)["tasks"]
                     if x["state"] == "running")
    assert sorted(wk["running"]) == sorted(f"{j1}@{i}" for i in running)
    assert len(wk["prefilled"]) == jobs[j1]["waiting"]["prefilled"]
    assert jobs[j2]["state"] == "WAITING"
    assert jobs[j2]["waiting"] == {"ready": 1, "prefilled": 0,
                                   "blocked": 0}

    # Every ready task is in exactly one queue.
    ready = {}
    for q in t["queues"]:
        n = 0
        for r in q["ranges"]:
            ids = []
            for part in r["tasks"].split(","):
                a, _, b = part.partition("-")
                ids += list(range(int(a), int(b or a) + 1))
            ready.setdefault(r["job"], []).extend(ids)
            n += len(ids)
        assert n == q["ready"] and q["ranges_not_shown"] == 0
    assert ready[j2] == [0]
    assert len(ready.get(j1, [])) == jobs[j1]["waiting"]["ready"]
    assert any(q["request"] == "cpus=3 compact" for q in t["queues"])

    assert t["journal"]["path"] == str(journal)
    assert 0 < t["journal"]["durable_seq"] <= t["journal"]["last_seq"]
    assert "cpus" in t["scheduler"]["resource_names"]
    assert "grp" in t["scheduler"]["worker_groups"]

    # The dump follows the state: after a cancel the counts change.
    hq.command(["job", "cancel", str(j1)])
    t = dump(hq, hq.tmp / "dump2.json")["tako"]
    jobs = {x["id"]: x for x in t["jobs"]}
    assert jobs[j1]["counts"] == hq.job_info(j1)["info"]["task_stats"]
    assert jobs[j1]["counts"]["canceled"] == 4
    wk = t["workers"][0]
    assert wk["running"] == [] and wk["prefilled"] == []


def test_debug_dump_without_journal_and_offline_worker(hq):
    hq.start_server()
    w = hq.start_worker(cpus="1")
    hq.kill(w)
    wait_until(lambda: hq.json(["worker", "list"]) == [],
               what="worker lost")
    t = dump(hq, hq.tmp / "d.json")["tako"]
    assert t["journal"]["path"] is None
    assert t["jobs"] == [] and t["queues"] == []
    assert [x["online"] for x in t["workers"]] == [False]
    assert t["workers"][0]["state"] == "CONNECTION LOST"


def test_debug_dump_errors(hq):
    r = hq.command(["server", "debug-dump", str(hq.tmp / "x.json")],
                   check=False)
    assert r.rc == 1 and r.stderr, r
    assert not os.path.exists(hq.tmp / "x.json")
    hq.start_server()
    bad = hq.tmp / "no" / "such" / "dir.json"
    r = hq.command(["server", "debug-dump", str(bad)], check=False)
    assert r.rc == 1, r
    assert f"Cannot write the debug dump to {bad}: No such file or " \
        "directory" in r.stderr, r
    r = hq.command(["server", "debug-dump", str(hq.tmp)], check=False)
    assert r.rc == 1 and "Is a directory" in r.stderr, r
    r = hq.command(["--output-mode", "json", "server", "debug-dump",
                    str(bad)], check=False)
    assert r.rc == 1 and "Cannot write" in json.loads(r.stdout)["error"]
    r = hq.command(["server", "debug-dump"], check=False)
    assert r.rc == 1 and "<PATH>" in r.stderr, r
    # JSON mode on success: {} on stdout, the dump in the file.
    out = hq.tmp / "ok.json"
    assert hq.json(["server", "debug-dump", str(out)]) == {}
    assert "tako" in json.loads(out.read_text())


def test_prefill_layers_knob_is_checked(hq):
    """HQ_PREFILL_LAYERS (a benchmark knob) sets the default prefill depth,
    1 to 32; anything else is ignored with a warning, not trusted."""
    s = hq.start_server(env={"HQ_PREFILL_LAYERS": "99999999999"})
    t = dump(hq, hq.tmp / "a.json")["tako"]
    assert t["scheduler"]["prefill_layers"] == 2
    assert "HQ_PREFILL_LAYERS=99999999999 ignored: expected 1 to 32" in \
        hq.output(s)
    hq.command(["server", "stop"])
    wait_until(lambda: s.poll() is not None, what="server stop")
    hq.start_server(env={"HQ_PREFILL_LAYERS": "8"})
    t = dump(hq, hq.tmp / "b.json")["tako"]
    assert t["scheduler"]["prefill_layers"] == 8
