# SPDX-License-Identifier: MIT
"""job list --verbose, job cancel --reason, job forget --filter, job summary
(spec 1.6, 3.1-3.3)."""


def test_jobcmds_cancel_reason_and_verbose_list(hq):
    hq.start_server()
    hq.submit(["--array", "1-3", "--", "true"])          # job 1, waiting
    hq.submit(["--", "true"])                            # job 2
    r = hq.command(["job", "cancel", "1", "--reason", "x" * 200])
    assert "Job 1 canceled (3 tasks canceled, 0 tasks already finished)" \
        in r.stderr
    # Over 200 bytes is a parse error: exit 1, nothing canceled.
    r = hq.command(["job", "cancel", "2", "--reason", "é" * 101],
                   check=False)
    assert r.rc == 1
    assert "--reason" in r.stderr and "200" in r.stderr
    assert hq.task_states(2) == {0: "waiting"}
    # Nothing left to cancel: the reason is not replaced.
    r = hq.command(["job", "cancel", "1", "--reason", "second"])
    assert "Canceling job 1 failed; all tasks are already finished" \
        in r.stderr
    r = hq.command(["job", "cancel", "7"])
    assert "Canceling job 7 failed; job not found" in r.stderr
    hq.command(["job", "cancel", "2", "--reason", "because"])
    r = hq.command(["job", "cancel", "all"])
    assert "There is nothing to cancel" in r.stderr
    jobs = {j["id"]: j for j in hq.json(["job", "list", "--all"])}
    assert jobs[1]["cancel_reason"] == "x" * 200
    assert jobs[2]["cancel_reason"] == "because"
    assert jobs[1]["task_stats"]["canceled"] == 3
    r = hq.command(["--colors", "never", "job", "list", "--all",
                    "--verbose"])
    header = r.stdout.splitlines()[1]
    assert [c.strip() for c in header.strip("|").split("|")] == \
        ["ID", "Name", "State", "Tasks", "Cancel Reason"]
    assert "| because" in r.stdout
    r = hq.command(["--colors", "never", "job", "list", "--all"])
    assert "Cancel Reason" not in r.stdout
    info = hq.job_info(2)
    assert info["info"]["cancel_reason"] == "because"


def test_jobcmds_forget_filter(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    ok = hq.submit(["--", "true"])
    bad = hq.submit(["--", "false"])
    hq.wait_job(ok)
    hq.wait_job(bad)
    hq.command(["worker", "stop", "all"])
    canceled = hq.submit(["--", "true"])
    hq.command(["job", "cancel", str(canceled)])
    waiting = hq.submit(["--", "true"])
    opened = int(hq.command(["--output-mode", "quiet", "job", "open"])
                 .stdout)
    r = hq.command(["job", "forget", "all", "--filter", "waiting"],
                   check=False)
    assert r.rc == 1 and "'waiting'" in r.stderr
    r = hq.command(["job", "forget", "all", "--filter", "canceled,failed"])
    assert "2 job(s) were forgotten, 3 were ignored due to wrong state or " \
        "invalid ID" in r.stderr
    ids = {j["id"] for j in hq.json(["job", "list", "--all"])}
    assert ids == {ok, waiting, opened}
    r = hq.command(["job", "forget", f"{ok},{waiting},{opened},99"])
    assert "1 job(s) were forgotten, 3 were ignored" in r.stderr
    ids = {j["id"] for j in hq.json(["job", "list", "--all"])}
    assert ids == {waiting, opened}
    r = hq.command(["job", "forget", str(waiting)])
    assert "0 job(s) were forgotten, 1 were ignored" in r.stderr


def test_jobcmds_summary_modes(hq):
    hq.start_server()
    hq.start_worker(cpus=1)
    hq.wait_job(hq.submit(["--", "true"]))
    hq.wait_job(hq.submit(["--", "false"]))
    hq.command(["worker", "stop", "all"])
    hq.submit(["--", "true"])
    c = hq.submit(["--", "true"])
    hq.command(["job", "cancel", str(c)])
    assert hq.json(["job", "summary"]) == {
        "Running": 0, "Waiting": 1, "Finished": 1, "Failed": 1,
        "Aborted": 0, "Canceled": 1}
    r = hq.command(["--output-mode", "quiet", "job", "summary"])
    assert r.stdout == ("RUNNING 0\nWAITING 1\nFINISHED 1\nFAILED 1\n"
                        "ABORTED 0\nCANCELED 1\n")
    r = hq.command(["--colors", "never", "job", "summary"])
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in r.stdout.splitlines() if line.startswith("|")]
    assert rows == [["Status", "Count"], ["RUNNING", "0"],
                    ["WAITING", "1"], ["FINISHED", "1"], ["FAILED", "1"],
                    ["ABORTED", "0"], ["CANCELED", "1"]]
