# SPDX-License-Identifier: MIT
"""hq task explain (spec 2.15, 3.1, 3.2; spec 4 item 14 fixed)."""
import json

from conftest import wait_until


def rows(stdout):
    """Data rows of the explain table, as lists of stripped cells."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[1:]]


def test_explain_resources_time_and_json(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    hq.start_worker("--time-limit", "5m", cpus=4)
    hq.submit(["--cpus", "3", "--", "sleep", "0"])          # job 1
    hq.submit(["--cpus", "8", "--time-request", "1h", "--", "true"])
    wait_until(lambda: hq.task_states(1) == {0: "finished"}, what="job 1")
    r = hq.command(["--colors", "never", "task", "explain", "2", "0"])
    lines = r.stdout.splitlines()
    assert lines[0] == "Task 2@0 is ready to run because it has no " \
        "dependencies."
    assert lines[1] == "There is no worker where the task can run."
    assert lines[2].startswith("+-")
    assert [c.strip() for c in lines[3].strip("|").split("|")] == [
        "Worker Id", "Runnable", "Variant", "Type", "Provides", "Request"]
    t = rows(r.stdout)
    assert t[0] == ["1", "No", "0", "time", "unknown", "1h"]
    assert t[1] == ["", "", "", "cpus", "2", "8"]
    assert t[2][:4] == ["2", "No", "0", "time"]
    assert t[2][4].startswith("4m ")
    assert t[3] == ["", "", "", "cpus", "4", "8"]
    j = hq.json(["task", "explain", "2", "0"])
    assert j["task_id"] == {"job_id": 2, "job_task_id": 0}
    ex = j["explanation"]
    assert ex["n_task_deps"] == 0 and ex["n_waiting_deps"] == 0
    assert [w["worker_id"] for w in ex["workers"]] == [1, 2]
    v1 = ex["workers"][0]["variants"]
    assert v1 == [[
        {"Time": {"min_time": {"secs": 3600, "nanos": 0},
                  "remaining_time": None}},
        {"Resources": {"resource": "cpus", "request_amount": 80000,
                       "worker_amount": 20000}}]]
    rem = ex["workers"][1]["variants"][0][0]["Time"]["remaining_time"]
    assert 200 < rem["secs"] <= 300 and 0 <= rem["nanos"] < 10**9
    # `last` is the newest job; quiet mode prints nothing.
    assert hq.json(["task", "explain", "last", "0"])["task_id"] == \
        {"job_id": 2, "job_task_id": 0}
    r = hq.command(["--output-mode", "quiet", "task", "explain", "2", "0"])
    assert r.stdout == ""


def test_explain_runnable_workers_and_variants(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    hq.start_worker(cpus=4)
    path = hq.work / "v.toml"
    path.write_text("""
[[task]]
id = 0
command = ["sleep", "30"]
[[task.request]]
resources = { cpus = 4 }
[[task]]
id = 1
deps = [0]
command = ["true"]
[[task.request]]
resources = { cpus = 4 }
[[task.request]]
resources = { cpus = 1 }
""")
    job = hq.json(["job", "submit-file", str(path)])["id"]
    wait_until(lambda: hq.task_states(job)[0] == "running", what="task 0")
    r = hq.command(["--colors", "never", "task", "explain", str(job), "0"])
    assert "The task can run on 1 worker: 2" in r.stdout
    assert rows(r.stdout) == [["1", "No", "0", "cpus", "1", "4"],
                              ["2", "Yes", "0", "cpus", "4", "4"]]
    # Task 1 waits for task 0; variant 0 fits worker 2 only, variant 1
    # both workers.
    r = hq.command(["--colors", "never", "task", "explain", str(job), "1"])
    assert "The task can run on 2 workers: 1-2" in r.stdout
    assert rows(r.stdout) == [
        ["1", "Yes (1/2)", "0", "cpus", "1", "4"],
        ["", "", "1", "cpus", "1", "1"],
        ["2", "Yes (2/2)", "0", "cpus", "4", "4"],
        ["", "", "1", "cpus", "4", "1"]]
    # With colours on, the blocking request is red.
    r = hq.command(["--colors", "always", "task", "explain", str(job), "1"])
    assert "\x1b[31m4\x1b[0m" in r.stdout


def test_explain_dependency_sentences(hq):
    """Spec 4 item 14: ready when no dependency is waiting."""
    hq.start_server()
    hq.start_worker(cpus=1)
    path = hq.work / "d.toml"
    path.write_text("""
[[task]]
id = 1
command = ["sleep", "1"]
[[task]]
id = 2
deps = [1]
command = ["true"]
[[task.request]]
resources = { cpus = 8 }
""")
    hq.command(["job", "submit-file", str(path)])
    wait_until(lambda: hq.task_states(1)[1] == "running", what="task 1")
    r = hq.command(["--colors", "never", "task", "explain", "1", "2"])
    assert r.stdout.splitlines()[0] == \
        "Task 1@2 is not ready to run, because 1/1 dependencies are not " \
        "finished."
    ex = hq.json(["task", "explain", "1", "2"])["explanation"]
    assert ex["n_task_deps"] == 1 and ex["n_waiting_deps"] == 1
    wait_until(lambda: hq.task_states(1)[1] == "finished", what="task 1")
    r = hq.command(["--colors", "never", "task", "explain", "1", "2"])
    assert r.stdout.splitlines()[0] == \
        "Task 1@2 is ready to run because its all 1 dependencies are " \
        "finished."
    assert hq.json(["task", "explain", "1", "2"])["explanation"][
        "n_waiting_deps"] == 0


def test_explain_errors(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    hq.wait_job(hq.submit(["--", "true"]))

    def fails(args, message):
        r = hq.command(["task", "explain"] + args, check=False)
        assert r.rc == 1, r
        assert message in r.stderr, r
        r = hq.command(["--output-mode", "json", "task", "explain"] + args,
                       check=False)
        assert r.rc == 1 and message in json.loads(r.stdout)["error"]

    fails(["5", "0"], "Job not found")
    fails(["1", "3"], "Task 1@3 not found")
    fails(["1", "0"], "Task 1@0 is finished: only waiting or running "
          "tasks can be explained")
    fails(["1", "x"], "invalid value 'x' for '<TASK_ID>'")
    fails(["1-2", "0"], "expected a single id")
    fails(["1"], "<TASK_ID>")
