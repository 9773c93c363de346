# SPDX-License-Identifier: MIT
"""hq job submit-file: TOML job definitions (spec 2.7), task graphs."""
import json
import subprocess

import pytest

from conftest import HQ_REPLAY_BIN


def write(hq, name, text):
    p = hq.work / name
    p.write_text(text)
    return str(p)


def job_count(hq):
    return len(hq.json(["job", "list", "--all"]))


GRAPH = """
name = "graph"

[[task]]
id = 1
command = ["bash", "-c", "sleep 0.3; echo a >> order.txt"]

[[task]]
id = 2
deps = [1]
command = ["bash", "-c", "echo b >> order.txt"]

[[task]]
deps = [2]
command = ["bash", "-c", "echo c >> order.txt; pwd"]
"""


def test_jobfile_graph_runs_in_dependency_order(hq):
    hq.start_server()
    hq.start_worker(cpus=4)
    path = write(hq, "graph.toml", GRAPH)
    r = hq.command(["job", "submit-file", path])
    assert r.stdout == "Job submitted successfully, job ID: 1\n"
    hq.wait_job(1)
    assert (hq.work / "order.txt").read_text() == "a\nb\nc\n"
    info = hq.job_info(1)
    assert info["info"]["name"] == "graph"
    assert {t["id"]: t["state"] for t in info["tasks"]} == {
        1: "finished", 2: "finished", 3: "finished"}
    graph = info["submits"][0]["graph"]
    assert len(graph) == 3
    # The default cwd is the client's directory (spec 2.7).
    assert (hq.work / "job-1" / "3.stdout").read_text() == \
        str(hq.work) + "\n"


def test_jobfile_failed_task_aborts_transitive_consumers(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    path = write(hq, "fail.toml", """
[[task]]
id = 1
command = ["false"]
[[task]]
id = 2
deps = [1]
command = ["true"]
[[task]]
id = 3
deps = [2]
command = ["true"]
[[task]]
id = 4
command = ["true"]
""")
    job = int(hq.command(["--output-mode", "quiet", "job", "submit-file",
                          path]).stdout)
    hq.wait_job(job)
    assert hq.task_states(job) == {1: "failed", 2: "aborted",
                                   3: "aborted", 4: "finished"}
    tasks = hq.json(["task", "list", str(job)])[str(job)]
    aborted = [t for t in tasks if t["state"] == "aborted"]
    # Aborted tasks never started: no timestamps, no paths (spec 3.2).
    assert all("started_at" not in t and "cwd" not in t for t in aborted)
    r = hq.command(["task", "list", str(job)])
    assert r.stdout.count("ABORTED") == 2
    r = hq.command(["job", "list", "--all"])
    assert "FAILED" in r.stdout


def test_jobfile_array_entries_and_options(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    path = write(hq, "array.toml", """
name = "sweep"
[array]
entries = ["alpha", "beta", "gamma"]
command = ["bash", "-c", "echo $HQ_ENTRY-$HQ_TASK_ID-$MODE; cat"]
stdin = "from-stdin"
env = { MODE = "batch" }
stderr = "none"
crash_limit = "never-restart"
priority = 3
""")
    job = hq.json(["job", "submit-file", path])["id"]
    hq.wait_job(job)
    for i, e in enumerate(["alpha", "beta", "gamma"]):
        out = (hq.work / f"job-{job}" / f"{i}.stdout").read_text()
        assert out == f"{e}-{i}-batch\nfrom-stdin"
    assert not (hq.work / f"job-{job}" / "0.stderr").exists()
    desc = hq.job_info(job)["submits"][0]["array"]
    assert desc["crash_limit"] == "never-restart"
    assert desc["priority"] == 3
    assert desc["program"]["stderr"] is None


def test_jobfile_resource_variants_and_stdio_table(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    path = write(hq, "var.toml", """
[[task]]
command = ["bash", "-c", "echo $HQ_RESOURCE_VARIANT $HQ_CPUS"]
stdout = { path = "out/%{TASK_ID}.txt", on_close = "none" }
[[task.request]]
resources = { cpus = 8 }
[[task.request]]
resources = { cpus = "1 compact" }
weight = 2.5
time_request = "1s"
""")
    job = hq.json(["job", "submit-file", path])["id"]
    hq.wait_job(job)
    # Variant 0 needs 8 cpus; the worker has 2: variant 1 runs.
    assert (hq.work / "out" / "1.txt").read_text().split()[0] == "1"
    desc = hq.job_info(job)["submits"][0]["graph"][0]
    res = desc["resources"]
    assert res[0]["resources"] == [
        {"resource": "cpus", "request": {"Compact": 80000}}]
    assert res[1]["weight"] == 25000
    assert res[1]["min_time"] == 1.0


def test_jobfile_quiet_and_json_output(hq):
    hq.start_server()
    path = write(hq, "one.toml", '[[task]]\ncommand = ["true"]\n')
    assert hq.command(["--output-mode", "quiet", "job", "submit-file",
                       path]).stdout == "1\n"
    assert hq.json(["job", "submit-file", path]) == {"id": 2}


@pytest.mark.parametrize("text,message", [
    ("", "No tasks defined"),
    ('name = "x"\n', "No tasks defined"),
    ('[[task]]\nid = 1\ncommand = ["a"]\n\n[[task]]\nid = 1\n'
     'command = ["b"]\n',
     "line 5, column 1: Task 1 is defined multiple times"),
    ('[[task]]\nid = 1\ncommand = ["a"]\ndeps = [2]\n[[task]]\nid = 2\n'
     'command = ["b"]\ndeps = [1]\n',
     "Task 1 is part of dependency cycle or has an invalid dependencies"),
    ('[[task]]\nid = 1\ncommand = ["a"]\ndeps = [1]\n',
     "Invalid dependency on 1"),
    ('[[task]]\nid = 1\ncommand = ["a"]\ndeps = [5]\n',
     "Invalid dependency on 5"),
    ('[array]\ncommand = ["a"]\nids = "1-3"\nentries = ["x"]\n',
     "Items 'ids' and 'entries' does not match"),
    ('[[task]]\ncommand = ["a"]\ncomand = ["b"]\n',
     "line 3, column 10: unknown field `comand` in [[task]]"),
    ('[[task]]\ncommand = ["a"]\nstdout = { path = "x", mode = "y" }\n',
     "unknown field `mode` in `stdout`"),
    ('[[task]]\ncommand = ["a"\n', "line 2, column 11: unterminated array"),
    ('[[task]]\ncommand = ["a"]\ntime_limit = "1 fortnight"\n',
     "line 3, column 14: invalid `time_limit`"),
    ('[[task]]\ncommand = ["a"]\n[[task.request]]\n'
     'resources = { cpus = 0 }\n',
     "resource `cpus`: the amount must be between 1"),
])
def test_jobfile_errors_change_nothing(hq, text, message):
    hq.start_server()
    path = write(hq, "bad.toml", text)
    r = hq.command(["job", "submit-file", path], check=False)
    assert r.rc == 1
    assert message in r.stderr
    assert "bad.toml" in r.stderr
    r = hq.command(["--output-mode", "json", "job", "submit-file", path],
                   check=False)
    assert r.rc == 1
    assert message in json.loads(r.stdout)["error"]
    assert job_count(hq) == 0


def test_jobfile_missing_file_and_bad_job_option(hq):
    hq.start_server()
    r = hq.command(["job", "submit-file", "nope.toml"], check=False)
    assert r.rc == 1
    assert "Cannot read nope.toml: No such file or directory" in r.stderr
    path = write(hq, "ok.toml", '[[task]]\ncommand = ["true"]\n')
    r = hq.command(["job", "submit-file", "--job", "x", path], check=False)
    assert r.rc == 1 and "'--job" in r.stderr
    r = hq.command(["job", "submit-file"], check=False)
    assert r.rc == 1 and "<PATH>" in r.stderr
    assert job_count(hq) == 0


def test_jobfile_dependencies_into_open_job(hq):
    hq.start_server()
    hq.start_worker(cpus=4)
    r = hq.command(["job", "open"])
    assert r.stdout == "Job 1 is open.\n"
    hq.submit(["--job", "1", "--array", "0-1", "--", "bash", "-c",
               "sleep 0.5; echo $HQ_TASK_ID >> order.txt"])
    path = write(hq, "later.toml", """
[[task]]
id = 10
deps = [0, 1]
command = ["bash", "-c", "echo 10 >> order.txt"]
[[task]]
id = 11
deps = [10]
command = ["bash", "-c", "echo 11 >> order.txt"]
""")
    hq.command(["job", "submit-file", "--job", "1", path])
    # Unknown dependency, reused id, closed job: refused, nothing changes.
    bad = write(hq, "bad.toml",
                '[[task]]\nid = 20\ncommand = ["true"]\ndeps = [7]\n')
    r = hq.command(["job", "submit-file", "--job", "1", bad], check=False)
    assert r.rc == 1 and "Invalid dependency on 7" in r.stderr
    r = hq.command(["job", "submit-file", "--job", "1", path], check=False)
    assert r.rc == 1 and "Task 10 already exists in job 1." in r.stderr
    r = hq.command(["job", "submit-file", "--job", "7", path], check=False)
    assert r.rc == 1 and "Job 7 not found." in r.stderr
    assert sorted(hq.task_states(1)) == [0, 1, 10, 11]
    hq.command(["job", "close", "1"])
    r = hq.command(["job", "submit-file", "--job", "1", bad], check=False)
    assert r.rc == 1 and "Job 1 is not opened." in r.stderr
    hq.wait_job(1)
    lines = (hq.work / "order.txt").read_text().split()
    assert sorted(lines[:2]) == ["0", "1"] and lines[2:] == ["10", "11"]
    assert set(hq.task_states(1).values()) == {"finished"}


def test_jobfile_stream_dir_resolved_at_submit(hq):
    """A job file's `stream` gets JOB_ID/SUBMIT_DIR/SERVER_UID and is made
    absolute against the submit dir when submitted (spec 2.3)."""
    journal = hq.tmp / "journal"
    hq.start_server(journal=journal)
    path = write(hq, "s.toml",
                 'stream = "logs/%{JOB_ID}"\n[[task]]\ncommand = ["true"]\n')
    job = hq.json(["job", "submit-file", path])["id"]
    graph = hq.job_info(job)["submits"][0]["graph"]
    assert graph[0]["program"]["stdout"] == "<pipe>"
    r = subprocess.run([HQ_REPLAY_BIN, "events", str(journal), "--json"],
                       capture_output=True, text=True, check=True)
    paths = [json.loads(ln)["event"]["submit_desc"]["stream_path"]
             for ln in r.stdout.splitlines()
             if '"stream_path"' in ln]
    assert paths == [f"{hq.work}/logs/{job}"]
