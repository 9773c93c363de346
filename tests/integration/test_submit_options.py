# SPDX-License-Identifier: MIT
"""`hq submit` options (spec 1.5, 2.3, 2.4): entries, stdin, task dirs,
#HQ directives, placeholders, outputs, env, crash limits, priorities, time
limits and the failure messages of tasks."""
import json
import os
import time

PROMPT = ("Reading data from stdin. In the interactive mode press Ctrl-D to "
          "submit.")


def program(hq, job):
    return hq.job_info(job)["submits"][0]["array"]["program"]


def array_desc(hq, job):
    return hq.job_info(job)["submits"][0]["array"]


def tasks(hq, job):
    return {t["id"]: t for t in hq.job_info(job)["tasks"]}


def out(hq, job, task, channel="stdout", base=None):
    return ((base or hq.work) / f"job-{job}" / f"{task}.{channel}"
            ).read_text()


def job_count(hq):
    return len(hq.json(["job", "list", "--all"]))


def fails(hq, args, **kw):
    """Run hq, expect exit code 1, return stderr."""
    r = hq.command(args, check=False, **kw)
    assert r.rc == 1, r
    return r.stderr


# ---- entries ----------------------------------------------------------------

def test_each_line(hq):
    hq.start_server()
    hq.start_worker()
    (hq.work / "lines.txt").write_text("a\n\nb c\n")
    job = hq.submit(["--each-line", "lines.txt", "--", "bash", "-c",
                     'echo "[$HQ_ENTRY]"'])
    hq.wait_job(job)
    # The trailing newline gives no task; the empty middle line does.
    assert sorted(tasks(hq, job)) == [0, 1, 2]
    assert [out(hq, job, i) for i in range(3)] == ["[a]\n", "[]\n",
                                                   "[b c]\n"]
    (hq.work / "two.txt").write_text("x\ny")
    job = hq.submit(["--each-line", "two.txt", "--", "bash", "-c",
                     'echo "$HQ_TASK_ID=$HQ_ENTRY"'])
    hq.wait_job(job)
    assert [out(hq, job, i) for i in range(2)] == ["0=x\n", "1=y\n"]
    # Without entries there is no HQ_ENTRY at all.
    job = hq.submit(["--", "bash", "-c", 'echo "${HQ_ENTRY-unset}"'])
    hq.wait_job(job)
    assert out(hq, job, 0) == "unset\n"

    n = job_count(hq)
    (hq.work / "empty.txt").write_text("")
    assert "empty.txt" in fails(hq, ["submit", "--each-line", "empty.txt",
                                     "--", "true"])
    assert "nope.txt" in fails(hq, ["submit", "--each-line", "nope.txt",
                                    "--", "true"])
    assert job_count(hq) == n


def test_from_json(hq):
    hq.start_server()
    hq.start_worker()
    (hq.work / "e.json").write_text(
        '[{"a": 1, "b": [1, 2]}, "x y", 3, null]')
    job = hq.submit(["--from-json", "e.json", "--", "bash", "-c",
                     'echo "$HQ_ENTRY"'])
    hq.wait_job(job)
    # Each element re-serialised as compact JSON.
    assert [out(hq, job, i) for i in range(4)] == [
        '{"a":1,"b":[1,2]}\n', '"x y"\n', "3\n", "null\n"]

    n = job_count(hq)
    (hq.work / "obj.json").write_text('{"a": 1}')
    err = fails(hq, ["submit", "--from-json", "obj.json", "--", "true"])
    assert "obj.json" in err and "must be an array" in err
    (hq.work / "bad.json").write_text("[1,\n")
    err = fails(hq, ["submit", "--from-json", "bad.json", "--", "true"])
    assert "bad.json" in err and "line 2" in err
    err = fails(hq, ["submit", "--from-json", "missing.json", "--", "true"])
    assert err.strip() == "Cannot read missing.json: No such file or " \
        "directory"
    err = fails(hq, ["submit", "--from-json", "e.json", "--each-line",
                     "e.json", "--", "true"])
    assert "cannot be used with" in err
    assert job_count(hq) == n


def test_array_selects_entries(hq):
    hq.start_server()
    hq.start_worker()
    (hq.work / "lines.txt").write_text("zero\none\ntwo\n")
    job = hq.submit(["--array", "2,0,5-7", "--each-line", "lines.txt", "--",
                     "bash", "-c", 'echo "$HQ_TASK_ID:$HQ_ENTRY"'])
    hq.wait_job(job)
    # Ids select entries by index; ids past the last entry are dropped.
    assert sorted(tasks(hq, job)) == [0, 2]
    assert out(hq, job, 0) == "0:zero\n"
    assert out(hq, job, 2) == "2:two\n"
    (hq.work / "e.json").write_text('["a", "b"]')
    job = hq.submit(["--array", "1", "--from-json", "e.json", "--", "bash",
                     "-c", 'echo "$HQ_TASK_ID:$HQ_ENTRY"'])
    hq.wait_job(job)
    assert sorted(tasks(hq, job)) == [1]
    assert out(hq, job, 1) == '1:"b"\n'
    n = job_count(hq)
    fails(hq, ["submit", "--array", "10-12", "--each-line", "lines.txt",
               "--", "true"])
    assert job_count(hq) == n


# ---- stdin --------------------------------------------------------------------

def test_stdin_fed_to_every_task(hq):
    hq.start_server()
    hq.start_worker()
    data = "line 1\nline 2\n" + "x" * 100000 + "\n"
    r = hq.command(["submit", "--stdin", "--array", "1-2", "--", "bash",
                    "-c", 'cat; echo "[$HQ_TASK_ID]"'], input=data)
    lines = r.stdout.splitlines()
    assert lines[0] == PROMPT
    assert lines[1] == "Job submitted successfully, job ID: 1"
    hq.wait_job(1)
    assert out(hq, 1, 1) == data + "[1]\n"
    assert out(hq, 1, 2) == data + "[2]\n"
    # The prompt goes to stdout even in JSON mode (spec 4.15).
    r = hq.command(["--output-mode", "json", "submit", "--stdin", "--",
                    "cat"], input="abc")
    assert r.stdout.startswith(PROMPT + "\n")
    assert json.loads(r.stdout[len(PROMPT) + 1:]) == {"id": 2}
    hq.wait_job(2)
    assert out(hq, 2, 0) == "abc"
    # Without --stdin, tasks read /dev/null.
    job = hq.submit(["--", "bash", "-c", "cat; echo end"], input="ignored")
    hq.wait_job(job)
    assert out(hq, job, 0) == "end\n"


# ---- task dir -------------------------------------------------------------------

def test_task_dir_and_error_file(hq):
    hq.start_server()
    w = hq.start_worker()
    work_dir = hq.json(["worker", "info", str(w.worker_id)]
                       )[0]["configuration"]["work_dir"]
    job = hq.submit(["--task-dir", "--", "bash", "-c",
                     'echo "$HQ_TASK_DIR"; echo "$HQ_ERROR_FILENAME"; '
                     'test -d "$HQ_TASK_DIR" && touch "$HQ_TASK_DIR/f" && '
                     'echo ok'])
    hq.wait_job(job)
    d, ef, ok = out(hq, job, 0).splitlines()
    assert os.path.dirname(d) == work_dir
    assert os.path.basename(d).startswith("t")
    assert ef == d + "/hq-error" and ok == "ok"
    assert not os.path.exists(d)  # removed when the task ended

    script = {
        "msg": 'printf "my error" > "$HQ_ERROR_FILENAME"; exit 1',
        "long": 'head -c 3000 /dev/zero | tr "\\0" e > "$HQ_ERROR_FILENAME";'
                ' exit 1',
        "empty": ': > "$HQ_ERROR_FILENAME"; exit 3',
        "ok": 'echo ignored > "$HQ_ERROR_FILENAME"; exit 0',
        "none": 'exit 4',
    }
    jobs = {k: hq.submit(["--task-dir", "--", "bash", "-c", v])
            for k, v in script.items()}
    for j in jobs.values():
        hq.wait_job(j)
    t = {k: tasks(hq, j)[0] for k, j in jobs.items()}
    assert t["msg"]["error"] == "my error"
    assert t["long"]["error"] == "e" * 2048 + "\n[The message was truncated]"
    assert t["empty"]["error"] == \
        "Task created an error file, but it is empty"
    assert t["ok"]["state"] == "finished"
    assert t["none"]["error"] == "Program terminated with exit code 4."
    assert array_desc(hq, jobs["msg"])["task_dir"] is True

    job = hq.submit(["--", "bash", "-c", 'echo "${HQ_TASK_DIR-unset}"'])
    hq.wait_job(job)
    assert out(hq, job, 0) == "unset\n"
    assert array_desc(hq, job)["task_dir"] is False


# ---- directives -------------------------------------------------------------------

SCRIPT = """#!/bin/bash -l "a b"
# a comment
#HQ --name "my job" --array 1-3
#HQ --env A=1 --priority 5

#HQ --env "B=two words" --cpus 1
echo hello
#HQ --name ignored-after-the-block
"""


def write_script(hq, name, text):
    p = hq.work / name
    p.write_text(text)
    p.chmod(0o755)
    return p


def test_directives(hq):
    hq.start_server()
    write_script(hq, "d.sh", SCRIPT)
    job = hq.submit(["--env", "C=3", "d.sh"])
    info = hq.job_info(job)
    desc = info["submits"][0]["array"]
    assert info["info"]["name"] == "my job"
    assert [t["id"] for t in info["tasks"]] == [1, 2, 3]
    assert desc["priority"] == 5
    # The shebang's words come first.
    assert desc["program"]["args"] == ["/bin/bash", "-l", "a b", "d.sh"]
    # --env is concatenated: directives, then the command line.
    assert desc["program"]["env"] == {"A": "1", "B": "two words", "C": "3"}

    # The command line wins for single values; the array group comes
    # from one place only.
    job = hq.submit(["--name", "cli", "--array", "7", "--priority", "1",
                     "d.sh"])
    info = hq.job_info(job)
    assert info["info"]["name"] == "cli"
    assert [t["id"] for t in info["tasks"]] == [7]
    assert info["submits"][0]["array"]["priority"] == 1
    (hq.work / "lines.txt").write_text("x\ny\n")
    job = hq.submit(["--each-line", "lines.txt", "d.sh"])
    assert [t["id"] for t in hq.job_info(job)["tasks"]] == [0, 1]

    # Off: neither directives nor shebang.
    job = hq.submit(["--directives", "off", "d.sh"])
    info = hq.job_info(job)
    assert info["info"]["name"] == "d.sh"
    assert info["submits"][0]["array"]["program"]["args"] == ["d.sh"]
    assert [t["id"] for t in info["tasks"]] == [0]

    # Auto mode only looks at *.sh; file mode reads any script.
    write_script(hq, "prog.py", "#!/usr/bin/env python3\n#HQ --name py\n")
    job = hq.submit(["./prog.py"])
    assert hq.job_info(job)["info"]["name"] == "prog.py"
    job = hq.submit(["--directives", "file", "./prog.py"])
    info = hq.job_info(job)
    assert info["info"]["name"] == "py"
    assert info["submits"][0]["array"]["program"]["args"] == [
        "/usr/bin/env", "python3", "./prog.py"]


def test_directives_merge_resources_weight_task_dir(hq):
    hq.start_server()
    write_script(hq, "r.sh", "#HQ --resource gpus=1 --weight 3 --task-dir "
                 "--time-limit 10s --crash-limit 2\n")
    job = hq.submit(["--resource", "mem=2", "--crash-limit", "3", "r.sh"])
    desc = array_desc(hq, job)
    res = desc["resources"][0]
    names = sorted(r["resource"] for r in res["resources"])
    assert names == ["cpus", "gpus", "mem"]  # concatenated
    assert res["weight"] == 10000  # --weight comes from the CLI only
    assert desc["task_dir"] is True  # OR-ed
    assert desc["time_limit"] == 10.0
    assert desc["crash_limit"] == 3  # the CLI wins
    job = hq.submit(["--weight", "2", "r.sh"])
    assert array_desc(hq, job)["resources"][0]["weight"] == 20000


def test_directives_stdin_mode(hq):
    hq.start_server()
    text = "#!/bin/zsh\n#HQ --name from-stdin --array 1-2\necho hi\n"
    r = hq.command(["submit", "--stdin", "--directives", "stdin", "--",
                    "bash"], input=text)
    assert r.stdout.splitlines()[0] == PROMPT
    info = hq.job_info(1)
    assert info["info"]["name"] == "from-stdin"
    assert [t["id"] for t in info["tasks"]] == [1, 2]
    # No shebang from stdin.
    assert info["submits"][0]["array"]["program"]["args"] == ["bash"]
    err = fails(hq, ["submit", "--directives", "stdin", "--", "bash"])
    assert "--directives=stdin requires --stdin" in err
    err = fails(hq, ["submit", "--directives", "sometimes", "--", "bash"])
    assert "invalid value 'sometimes'" in err


def test_invalid_directives(hq):
    hq.start_server()
    cases = {
        "bad1.sh": ("#HQ --foo\n", "unexpected argument '--foo'"),
        # Submit-only options are not allowed in directives.
        "bad2.sh": ("#HQ --wait\n", "unexpected argument '--wait'"),
        "bad3.sh": ('#!/bin/sh\n#HQ --name "unterminated\n',
                    "line 2"),
        "bad4.sh": ("#HQ --cpus\n", "--cpus"),
        "bad5.sh": ("#HQ --priority high\n", '"high"'),
    }
    for name, (text, detail) in cases.items():
        write_script(hq, name, text)
        err = fails(hq, ["submit", name])
        if name in ("bad1.sh", "bad2.sh", "bad4.sh"):
            assert err.startswith("You have used invalid parameter(s) "
                                  "after a #HQ directive.")
        assert detail in err, (name, err)
    assert job_count(hq) == 0
    # Without the space it is not a directive.
    write_script(hq, "nospace.sh", "#HQ--name x\n#HQname\n")
    job = hq.submit(["nospace.sh"])
    assert hq.job_info(job)["info"]["name"] == "nospace.sh"


# ---- placeholders and outputs ------------------------------------------------------

def test_placeholders_two_phases(hq):
    hq.start_server()
    hq.start_worker()
    sub = hq.work / "sub"
    sub.mkdir()
    uid = hq.json(["server", "info"])["server_uid"]
    job = hq.submit(["--array", "1-2",
                     "--cwd", "w-%{JOB_ID}-%{SERVER_UID}",
                     "--stdout", "o-%{TASK_ID}-%{INSTANCE_ID}.txt",
                     "--stderr", "%{SUBMIT_DIR}/e-%{JOB_ID}-%{TASK_ID}.err",
                     "--", "bash", "-c", "pwd; echo err >&2"], cwd=sub)
    hq.wait_job(job)
    cwd = f"{sub}/w-{job}-{uid}"
    # Phase 1 (server, at submit): JOB_ID, SUBMIT_DIR, SERVER_UID; cwd made
    # absolute; outputs absolute against cwd once no placeholder remains.
    p = program(hq, job)
    assert p["cwd"] == cwd
    assert p["stdout"] == "o-%{TASK_ID}-%{INSTANCE_ID}.txt"
    assert p["stderr"] == f"{sub}/e-{job}-%{{TASK_ID}}.err"
    # Phase 2 (worker, at start): everything.
    t = tasks(hq, job)
    for i in (1, 2):
        assert t[i]["cwd"] == cwd
        assert t[i]["stdout"] == f"{cwd}/o-{i}-0.txt"
        assert t[i]["stderr"] == f"{sub}/e-{job}-{i}.err"
        assert (sub / f"w-{job}-{uid}" / f"o-{i}-0.txt").read_text() == \
            cwd + "\n"
        assert (sub / f"e-{job}-{i}.err").read_text() == "err\n"

    # The default outputs: %{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout.
    job = hq.submit(["--", "echo", "x"], cwd=sub)
    hq.wait_job(job)
    p = program(hq, job)
    assert p["cwd"] == str(sub)
    assert p["stdout"] == f"{sub}/job-{job}/%{{TASK_ID}}.stdout"
    assert out(hq, job, 0, base=sub) == "x\n"
    # CWD in stdout is the task's working directory.
    job = hq.submit(["--cwd", "deep", "--stdout", "%{CWD}/here.txt", "--",
                     "echo", "y"], cwd=sub)
    hq.wait_job(job)
    assert (sub / "deep" / "here.txt").read_text() == "y\n"

    r = hq.command(["job", "info", str(job)])
    assert f"{sub}/deep/here.txt" in r.stdout

    err = fails(hq, ["submit", "--cwd", "%{CWD}/x", "--", "true"])
    assert "%{CWD}" in err
    r = hq.command(["submit", "--stdout", "u-%{FOO}.txt", "--", "echo", "z"])
    assert "Unknown placeholder" in r.stderr and "FOO" in r.stderr
    hq.wait_job("last")
    assert (hq.work / "u-%{FOO}.txt").read_text() == "z\n"
    r = hq.command(["submit", "--array", "1-2", "--stdout", "same.txt",
                    "--", "true"])
    assert "%{TASK_ID}" in r.stderr


def test_output_options(hq):
    hq.start_server()
    hq.start_worker()
    ok = hq.submit(["--stdout", ":rm-if-finished", "--stderr",
                    "keep.err:rm-if-finished", "--", "bash", "-c",
                    "echo x; echo y >&2"])
    bad = hq.submit(["--stdout", ":rm-if-finished", "--stderr",
                     "bad.err:rm-if-finished", "--", "bash", "-c",
                     "echo x; echo y >&2; exit 2"])
    hq.wait_job(ok)
    hq.wait_job(bad)
    # Removed only when the task finished successfully.
    assert not (hq.work / f"job-{ok}" / "0.stdout").exists()
    assert not (hq.work / "keep.err").exists()
    assert out(hq, bad, 0) == "x\n"
    assert (hq.work / "bad.err").read_text() == "y\n"

    job = hq.submit(["--stdout", "none", "--stderr", "none", "--", "bash",
                     "-c", "echo x; echo y >&2"])
    hq.wait_job(job)
    assert not (hq.work / f"job-{job}").exists()
    p = program(hq, job)
    assert p["stdout"] is None and p["stderr"] is None
    info = hq.command(["job", "info", str(job)]).stdout
    assert "| Stdout               | <None>" in info
    err = fails(hq, ["submit", "--stdout", "", "--", "true"])
    assert "--stdout" in err


def test_env_duplicates(hq):
    hq.start_server()
    hq.start_worker()
    r = hq.command(["submit", "--env", "A=1", "--env", "A=2=3", "--env", "B",
                    "--", "bash", "-c", 'echo "$A [$B] ${B+set}"'])
    assert "A" in r.stderr and "WARN" in r.stderr
    hq.wait_job(1)
    assert out(hq, 1, 0) == "2=3 [] set\n"
    assert program(hq, 1)["env"] == {"A": "2=3", "B": ""}
    assert "--env" in fails(hq, ["submit", "--env", "=x", "--", "true"])


def test_crash_limit_values(hq):
    hq.start_server()
    for value, shown in (("1", 1), ("65535", 65535),
                         ("never-restart", "never-restart"),
                         ("unlimited", "unlimited")):
        job = hq.submit(["--crash-limit", value, "--", "true"])
        assert array_desc(hq, job)["crash_limit"] == shown
    job = hq.submit(["--", "true"])
    assert array_desc(hq, job)["crash_limit"] == 5
    for bad in ("0", "65536", "-1", "x"):
        err = fails(hq, ["submit", "--crash-limit", bad, "--", "true"])
        assert f'"{bad}"' in err and "--crash-limit" in err
    assert job_count(hq) == 5


def test_priority_order_on_one_cpu(hq):
    hq.start_server()
    log = hq.work / "order.txt"
    for p in (1, 5, -3, 5, 10):
        hq.submit(["--priority", str(p), "--", "bash", "-c",
                   f'echo "$HQ_JOB_ID:{p}" >> {log}'])
    # All are waiting when the only CPU appears.
    hq.start_worker(cpus=1)
    for j in range(1, 6):
        hq.wait_job(j)
    assert log.read_text().split() == ["5:10", "2:5", "4:5", "1:1", "3:-3"]
    assert array_desc(hq, 3)["priority"] == -3
    assert "--priority" in fails(hq, ["submit", "--priority", "x", "--",
                                      "true"])


def test_weight_order_on_one_cpu(hq):
    """Within one priority the heavier request goes first; priority still
    comes first; a heavier task that cannot fit blocks nobody."""
    hq.start_server()
    log = hq.work / "order.txt"

    def sub(*opts):
        return hq.submit(list(opts) + ["--", "bash", "-c",
                                       f'echo "$HQ_JOB_ID.$HQ_TASK_ID" >> {log}'])
    light = sub("--array", "1-2")
    heavy = sub("--array", "1-2", "--weight", "4")
    mid = sub("--weight", "2.5")
    urgent = sub("--priority", "1", "--weight", "0.5")
    too_big = sub("--weight", "100", "--cpus", "2")
    hq.start_worker(cpus=1)
    for j in (light, heavy, mid, urgent):
        hq.wait_job(j)
    assert log.read_text().split() == ["4.0", "2.1", "2.2", "3.0", "1.1",
                                       "1.2"]
    assert tasks(hq, too_big)[0]["state"] == "waiting"
    assert "weight" in fails(hq, ["submit", "--weight", "0", "--", "true"])
    # Stored x10000 in 32 bits: the largest weight round-trips exactly.
    assert "at most 429496" in fails(hq, ["submit", "--weight", "429497",
                                          "--", "true"])
    big = hq.submit(["--weight", "429496", "--", "true"])
    assert array_desc(hq, big)["resources"][0]["weight"] == 4294960000
    assert array_desc(hq, heavy)["resources"][0]["weight"] == 40000


def test_time_limit(hq):
    hq.start_server()
    hq.start_worker(cpus=2)
    start = time.time()
    a = hq.submit(["--time-limit", "1s", "--", "sleep", "20"])
    b = hq.submit(["--time-limit", "00:00:01", "--", "bash", "-c",
                   "trap '' INT; sleep 20"])
    hq.wait_job(a)
    hq.wait_job(b)
    assert time.time() - start < 10
    for j in (a, b):
        t = tasks(hq, j)[0]
        assert t["state"] == "failed" and t["error"] == "Time limit reached"
    assert array_desc(hq, a)["time_limit"] == 1.0
    job = hq.submit(["--time-limit", "10m", "--", "true"])
    hq.wait_job(job)
    assert tasks(hq, job)[0]["state"] == "finished"
    assert "--time-limit" in fails(hq, ["submit", "--time-limit", "soon",
                                        "--", "true"])


def test_failure_messages(hq):
    hq.start_server()
    hq.start_worker()
    (hq.work / "localprog").write_text("#!/bin/sh\n")
    (hq.work / "noexec.sh").write_text("#!/bin/sh\n")
    cases = {
        "exit": (["bash", "-c", "exit 7"],
                 "Program terminated with exit code 7."),
        "kill": (["bash", "-c", "kill -9 $$"],
                 "Program terminated with exit code -1. Received signal 9 "
                 "(SIGKILL)."),
        "term": (["bash", "-c", "kill -TERM $$"],
                 "Program terminated with exit code -1. Received signal 15 "
                 "(SIGTERM)."),
        "missing": (["nonexistent-prog", "a", "b"],
                    'Cannot execute "nonexistent-prog a b": No such file or '
                    'directory\nThe program "nonexistent-prog" was not '
                    'found.'),
        "local": (["localprog"],
                  'Cannot execute "localprog": No such file or directory\n'
                  'The program "localprog" was not found. Maybe you have '
                  'meant `./localprog`?'),
        "noexec": (["./noexec.sh"],
                   'Cannot execute "./noexec.sh": Permission denied\n'
                   'The script "./noexec.sh" is not executable.'),
    }
    jobs = {k: hq.submit(["--directives", "off", "--"] + argv)
            for k, (argv, _) in cases.items()}
    for k, j in jobs.items():
        hq.wait_job(j)
        t = tasks(hq, j)[0]
        assert t["state"] == "failed", k
        assert t["error"] == cases[k][1], k
    # The hint looks in the task's directory, not the worker's.
    sub = hq.work / "sub"
    sub.mkdir()
    (sub / "subprog").write_text("#!/bin/sh\n")
    job = hq.submit(["--cwd", str(sub), "--", "subprog"])
    hq.wait_job(job)
    assert tasks(hq, job)[0]["error"].endswith(
        "Maybe you have meant `./subprog`?")
    # `hq submit --wait` exits 0 even though tasks failed (spec 4.12).
    r = hq.command(["submit", "--wait", "--", "false"])
    assert r.rc == 0


def test_name_and_wait_conflicts(hq):
    hq.start_server()
    err = fails(hq, ["submit", "--name", "a\tb", "--", "true"])
    assert "tab" in err or "newline" in err
    err = fails(hq, ["submit", "--wait", "--progress", "--", "true"])
    assert "cannot be used with" in err
    err = fails(hq, ["submit"])
    assert "<COMMANDS>" in err
    assert job_count(hq) == 0
