# SPDX-License-Identifier: MIT
"""Resources end to end (issue 5): worker pool forms, detection, requests
and policies, the task environment of spec 2.4, strict policies waiting on
the worker, --min-utilization, --time-request and CPU pinning."""
import json
import os
import time

import pytest

from conftest import wait_until


def task_env(hq, job, task=0):
    """The environment a task printed with `env -0`."""
    data = (hq.work / f"job-{job}" / f"{task}.stdout").read_bytes()
    out = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            out[k.decode()] = v.decode()
    return out


def run_env(hq, args, task=0):
    """Submit `env -0` with the given submit options, wait, return its env."""
    job = hq.submit(list(args) + ["--", "env", "-0"])
    hq.wait_job(job)
    info = hq.job_info(job)
    assert info["info"]["task_stats"]["finished"] == len(info["tasks"]), info
    return task_env(hq, job, task)


def worker_resources(hq, worker_id):
    info = hq.json(["worker", "info", str(worker_id)])[0]
    res = info["configuration"]["resources"]
    return {r["name"]: r for r in res["resources"]}, res["coupling"]


def labels(value):
    return value.split(",") if value else []


# ---- the examples ------------------------------------------------


def test_cpus_2x2_scatter_and_compact(hq):
    hq.start_server()
    hq.start_worker(cpus="2x2")
    groups = [{"0", "1"}, {"2", "3"}]
    env = run_env(hq, ["--cpus", "2 scatter"])
    cpus = set(labels(env["HQ_CPUS"]))
    assert len(cpus) == 2
    assert all(len(cpus & g) == 1 for g in groups), cpus
    assert env["HQ_RESOURCE_REQUEST_cpus"] == "2 scatter"
    assert env["HQ_RESOURCE_VALUES_cpus"] == env["HQ_CPUS"]
    assert env["OMP_NUM_THREADS"] == "2"
    env = run_env(hq, ["--cpus", "2 compact"])
    assert set(labels(env["HQ_CPUS"])) in groups
    assert env["HQ_RESOURCE_REQUEST_cpus"] == "2 compact"
    for policy in ("compact!", "tight", "tight!"):
        env = run_env(hq, ["--cpus", f"2 {policy}"])
        assert set(labels(env["HQ_CPUS"])) in groups, policy
        assert env["HQ_RESOURCE_REQUEST_cpus"] == f"2 {policy}"
    env = run_env(hq, ["--cpus", "3 scatter"])
    assert len(set(labels(env["HQ_CPUS"]))) == 3


def test_fairy_list_two_labels(hq):
    hq.start_server()
    hq.start_worker("--resource", "fairy=[a,b,c]", cpus="1")
    env = run_env(hq, ["--resource", "fairy=2"])
    values = labels(env["HQ_RESOURCE_VALUES_fairy"])
    assert len(values) == 2 and len(set(values)) == 2
    assert set(values) <= {"a", "b", "c"}
    assert env["HQ_RESOURCE_REQUEST_fairy"] == "2 compact"
    # the default cpus request is still there
    assert env["HQ_RESOURCE_REQUEST_cpus"] == "1 compact"
    assert env["HQ_CPUS"] == "0"


def test_fairy_fractions_share_one_label(hq):
    hq.start_server()
    hq.start_worker("--resource", "fairy=[a,b,c]", cpus="6")
    # six half fairies run at once on three labels: one label each
    job = hq.submit(["--array", "0-5", "--resource", "fairy=0.5", "--",
                     "bash", "-c",
                     "echo $HQ_RESOURCE_VALUES_fairy; sleep 1"])
    hq.wait_job(job)
    seen = {}
    for t in range(6):
        out = (hq.work / f"job-{job}" / f"{t}.stdout").read_text().split()
        assert len(out) == 1 and out[0] in {"a", "b", "c"}, out
        seen[out[0]] = seen.get(out[0], 0) + 1
    assert all(n <= 2 for n in seen.values()), seen
    env = run_env(hq, ["--resource", "fairy=1.5"])
    values = labels(env["HQ_RESOURCE_VALUES_fairy"])
    assert len(values) == 2 and len(set(values)) == 2
    assert env["HQ_RESOURCE_REQUEST_fairy"] == "1.5 compact"


def test_cuda_visible_devices_from_worker_env(hq):
    hq.start_server()
    hq.start_worker(cpus="2", env={"CUDA_VISIBLE_DEVICES": "5,7",
                                   "ROCR_VISIBLE_DEVICES": "3"})
    res, _ = worker_resources(hq, 1)
    assert res["gpus/nvidia"]["kind"] == "list"
    assert res["gpus/nvidia"]["values"] == ["5", "7"]
    assert res["gpus/amd"]["values"] == ["3"]
    env = run_env(hq, ["--resource", "gpus/nvidia=1"])
    assert env["CUDA_VISIBLE_DEVICES"] in ("5", "7")
    assert env["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"
    assert env["HQ_RESOURCE_VALUES_gpus_nvidia"] == env["CUDA_VISIBLE_DEVICES"]
    assert env["HQ_RESOURCE_REQUEST_gpus_nvidia"] == "1 compact"
    env = run_env(hq, ["--resource", "gpus/nvidia=2", "--resource",
                       "gpus/amd=1"])
    assert sorted(labels(env["CUDA_VISIBLE_DEVICES"])) == ["5", "7"]
    assert env["ROCR_VISIBLE_DEVICES"] == "3"
    assert env["HQ_RESOURCE_VALUES_gpus_amd"] == "3"
    # two one-GPU tasks at once get different GPUs
    job = hq.submit(["--array", "0-1", "--resource", "gpus/nvidia=1", "--",
                     "bash", "-c", "echo $CUDA_VISIBLE_DEVICES; sleep 1"])
    hq.wait_job(job)
    got = {(hq.work / f"job-{job}" / f"{t}.stdout").read_text().strip()
           for t in range(2)}
    assert got == {"5", "7"}


def test_hwdetect_json(hq):
    info = hq.json(["worker", "hwdetect"])
    assert set(info) == {"resources", "coupling"}
    assert info["coupling"] == {"weights": []}
    res = {r["name"]: r for r in info["resources"]}
    assert res["cpus"]["kind"] in ("range", "list", "groups")
    ncpus = len(os.sched_getaffinity(0))
    if res["cpus"]["kind"] == "range":
        assert res["cpus"]["end"] - res["cpus"]["start"] + 1 == ncpus
    assert res["mem"]["kind"] == "sum" and res["mem"]["size"] > 0
    env = {"CUDA_VISIBLE_DEVICES": "5,7"}
    info = hq.json(["worker", "hwdetect", "--no-hyper-threading"], env=env)
    res = {r["name"]: r for r in info["resources"]}
    assert res["gpus/nvidia"] == {"name": "gpus/nvidia", "kind": "list",
                                  "values": ["5", "7"]}
    text = hq.command(["worker", "hwdetect"], env=env).stdout
    assert text.startswith("Summary:\n")
    assert "Full Description:\n" in text
    assert "gpus/nvidia: [5,7]" in text


# ---- worker pool forms and options -------------------------------------------


def test_worker_pool_forms(hq):
    hq.start_server()
    hq.start_worker(
        "--resource", "r=range(1-3)",
        "--resource", "g=[[a,b],[c]]",
        "--resource", "n=2x3",
        "--resource", "one=[[x]]",
        "--resource", "s=sum(100.5)",
        "--resource", 'l=[x, "y z"]',
        "--detect-resources", "none",
        cpus="[[0,1],[2,3]]")
    res, coupling = worker_resources(hq, 1)
    assert set(res) == {"cpus", "r", "g", "n", "one", "s", "l"}
    assert res["cpus"] == {"name": "cpus", "kind": "groups",
                           "groups": [["0", "1"], ["2", "3"]]}
    assert res["r"] == {"name": "r", "kind": "range", "start": 1, "end": 3}
    assert res["g"]["groups"] == [["a", "b"], ["c"]]
    assert res["n"]["groups"] == [["0", "1", "2"], ["3", "4", "5"]]
    assert res["one"] == {"name": "one", "kind": "list", "values": ["x"]}
    assert res["s"] == {"name": "s", "kind": "sum", "size": 1005000}
    assert res["l"]["values"] == ["x", "y z"]
    assert coupling == {"weights": []}
    lst = hq.command(["worker", "list"]).stdout
    assert "cpus 2x2" in lst and "n 2x3" in lst
    env = run_env(hq, ["--cpus", "all", "--resource", "r=2",
                       "--resource", "g=2 tight!", "--resource", "n=3 compact!",
                       "--resource", "s=100.5", "--resource", "l=all",
                       "--resource", "one=0.25"])
    assert env["HQ_CPUS"] == "0,1,2,3"
    assert env["HQ_RESOURCE_REQUEST_cpus"] == "all"
    assert env["OMP_NUM_THREADS"] == "4"
    assert len(labels(env["HQ_RESOURCE_VALUES_r"])) == 2
    assert sorted(labels(env["HQ_RESOURCE_VALUES_g"])) == ["a", "b"]
    assert sorted(labels(env["HQ_RESOURCE_VALUES_n"])) in (
        ["0", "1", "2"], ["3", "4", "5"])
    assert env["HQ_RESOURCE_REQUEST_s"] == "100.5 compact"
    assert "HQ_RESOURCE_VALUES_s" not in env
    assert env["HQ_RESOURCE_VALUES_l"] == "x,y z"
    assert env["HQ_RESOURCE_VALUES_one"] == "x"
    assert "HQ_RESOURCE_VARIANT" not in env


@pytest.mark.parametrize("cpus,want", [
    ("3", {"kind": "range", "start": 0, "end": 2}),
    ("range(2-4)", {"kind": "range", "start": 2, "end": 4}),
    ("[1,0]", {"kind": "list", "values": ["1", "0"]}),
    ("1x3", {"kind": "range", "start": 0, "end": 2}),
    ("2x1", {"kind": "groups", "groups": [["0"], ["1"]]}),
])
def test_worker_cpus_forms(hq, cpus, want):
    hq.start_server()
    hq.start_worker("--detect-resources", "none", cpus=cpus)
    res, _ = worker_resources(hq, 1)
    assert set(res) == {"cpus"}
    got = dict(res["cpus"])
    del got["name"]
    assert got == want


@pytest.mark.parametrize("args,needle", [
    (["--cpus", "sum(4)"], "cpus"),
    (["--cpus", "0"], "cpus"),
    (["--cpus", "[a,b]"], "cpus"),
    (["--cpus", "2", "--resource", "cpus=[0]"], "conflicts"),
    (["--resource", "x=[a]", "--resource", "x=[b]"], "twice"),
    (["--resource", "x=[a,a]"], "x=[a,a]"),
    (["--resource", "1x=[a]"], "1x"),
    (["--resource", "x=range(3-1)"], "range(3-1)"),
    (["--detect-resources", "cpus,fpga"], "fpga"),
    (["--coupling", "cpus[0]:gpus[0]"], "gpus"),
    (["--min-utilization", "1.5"], "min-utilization"),
])
def test_worker_bad_resources(hq, args, needle):
    hq.start_server()
    r = hq.command(["worker", "start"] + args, check=False)
    assert r.rc == 1
    assert needle in r.stderr, r


def test_detect_resources_and_group(hq):
    hq.start_server()
    hq.start_worker("--detect-resources", "none", "--group", "g7",
                    cpus="1")
    hq.start_worker("--detect-resources", "mem", cpus=None)
    res1, _ = worker_resources(hq, 1)
    res2, _ = worker_resources(hq, 2)
    assert set(res1) == {"cpus"}
    assert set(res2) == {"cpus", "mem"}
    assert res2["mem"]["kind"] == "sum"
    info = hq.json(["worker", "info", "1"])[0]
    assert info["configuration"]["group"] == "g7"
    assert hq.json(["worker", "info", "2"])[0]["configuration"][
        "group"] == "default"
    text = hq.command(["worker", "info", "1"]).stdout
    assert "| Group" in text and "g7" in text


def test_no_hyper_threading_keeps_one_pu_per_core(hq):
    # what the machine has: the test holds whatever the SMT layout
    full = hq.json(["worker", "hwdetect"])
    noht = hq.json(["worker", "hwdetect", "--no-hyper-threading"])

    def count(info):
        c = {r["name"]: r for r in info["resources"]}["cpus"]
        if c["kind"] == "range":
            return c["end"] - c["start"] + 1
        if c["kind"] == "list":
            return len(c["values"])
        return sum(len(g) for g in c["groups"])

    cores = set()
    for cpu in os.sched_getaffinity(0):
        path = f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list"
        try:
            with open(path) as f:
                cores.add(f.read().strip())
        except OSError:
            cores.add(str(cpu))
    assert count(full) == len(os.sched_getaffinity(0))
    assert count(noht) == len(cores)
    hq.start_server()
    hq.start_worker("--no-hyper-threading", cpus=None)
    res, _ = worker_resources(hq, 1)
    assert count({"resources": list(res.values())}) == len(cores)


def test_coupling(hq):
    hq.start_server()
    hq.start_worker("--resource", "gpus=[[a],[b]]", "--coupling",
                    "cpus[0]:gpus[0],cpus[1]:gpus[1]=100",
                    "--detect-resources", "none", cpus="2x2")
    _, coupling = worker_resources(hq, 1)
    assert coupling == {"weights": [
        {"resource1_idx": 0, "group1_idx": 0, "resource2_idx": 1,
         "group2_idx": 0, "weight": 256},
        {"resource1_idx": 0, "group1_idx": 1, "resource2_idx": 1,
         "group2_idx": 1, "weight": 100}]}
    text = hq.command(["worker", "info", "1"]).stdout
    assert "[coupled]" in text
    # with CPU 0 busy, two CPUs come from group 1, and so does the GPU
    busy = hq.submit(["--", "sleep", "2"])
    wait_until(lambda: hq.task_states(busy) == {0: "running"},
               what="busy task running")
    env = run_env(hq, ["--cpus", "2 compact", "--resource", "gpus=1"])
    assert env["HQ_CPUS"] == "2,3"
    assert env["HQ_RESOURCE_VALUES_gpus"] == "b"


# ---- requests ----------------------------------------------------------------


def test_omp_num_threads(hq):
    hq.start_server()
    hq.start_worker(cpus="2")
    env = run_env(hq, ["--cpus", "0.5"])
    assert "OMP_NUM_THREADS" not in env
    assert env["HQ_RESOURCE_REQUEST_cpus"] == "0.5 compact"
    assert env["HQ_CPUS"] == "0"
    env = run_env(hq, ["--cpus", "2", "--env", "OMP_NUM_THREADS=7"])
    assert env["OMP_NUM_THREADS"] == "7"
    env = run_env(hq, ["--cpus", "1.5"])
    assert "OMP_NUM_THREADS" not in env
    assert env["HQ_CPUS"] == "0,1"
    env = run_env(hq, [])
    assert env["OMP_NUM_THREADS"] == "1"


def test_weight_is_stored(hq):
    hq.start_server()
    hq.start_worker(cpus="1")
    job = hq.submit(["--weight", "2.5", "--", "true"])
    hq.wait_job(job)
    desc = hq.job_info(job)["submits"][0]["array"]["resources"][0]
    assert desc["weight"] == 25000
    assert desc["min_time"] == 0.0
    r = hq.command(["submit", "--weight", "0", "--", "true"], check=False)
    assert r.rc == 1


def test_time_request_against_worker_lifetime(hq):
    hq.start_server()
    hq.start_worker("--time-limit", "1h", cpus="1")
    long = hq.submit(["--time-request", "2h", "--", "true"])
    short = hq.submit(["--time-request", "30m", "--", "true"])
    hq.wait_job(short)
    desc = hq.job_info(long)["submits"][0]["array"]["resources"][0]
    assert desc["min_time"] == 7200.0
    time.sleep(0.5)
    assert hq.task_states(long) == {0: "waiting"}
    # a worker without a lifetime accepts any time request
    hq.start_worker(cpus="1")
    hq.wait_job(long)
    assert hq.job_info(long)["tasks"][0]["worker"] == 2


def test_min_utilization(hq):
    hq.start_server()
    hq.start_worker("--min-utilization", "0.5", cpus="4")
    info = hq.json(["worker", "info", "1"])[0]
    assert info["configuration"]["min_utilization"] == 0.5
    one = hq.submit(["--", "sleep", "1"])
    time.sleep(1.0)
    # one CPU of four is below 50%: the worker takes nothing
    assert hq.task_states(one) == {0: "waiting"}
    two = hq.submit(["--", "sleep", "1"])
    hq.wait_job(one)
    hq.wait_job(two)
    a, b = hq.job_info(one)["tasks"][0], hq.job_info(two)["tasks"][0]
    assert a["worker"] == b["worker"] == 1


def test_variants_with_job_file(hq):
    hq.start_server()
    hq.start_worker("--resource", "gpus=[g0]", cpus="2")
    (hq.work / "v.toml").write_text(
        '[[task]]\nid = 1\ncommand = ["env", "-0"]\n'
        '[[task.request]]\nresources = { cpus = "1", gpus = 1 }\n'
        '[[task.request]]\nresources = { cpus = "2" }\n'
        '[[task]]\nid = 2\ncommand = ["env", "-0"]\n'
        '[[task.request]]\nresources = { cpus = "2", gpus = 1 }\n'
        '[[task.request]]\nresources = { cpus = "1" }\n'
        '[[task]]\nid = 3\ncommand = ["env", "-0"]\n'
        '[[task.request]]\nresources = { cpus = "1" }\n')
    r = hq.command(["--output-mode", "quiet", "job", "submit-file",
                    "v.toml"], check=False)
    if r.rc != 0 and "submit-file" in r.stderr:
        pytest.skip("hq job submit-file is not available in this build")
    assert r.rc == 0, r
    job = int(r.stdout.strip())
    hq.wait_job(job)
    assert task_env(hq, job, 1)["HQ_RESOURCE_VARIANT"] == "0"
    assert task_env(hq, job, 1)["HQ_RESOURCE_VALUES_gpus"] == "g0"
    # cpus=2 + gpus does not fit next to... it may take either variant
    assert task_env(hq, job, 2)["HQ_RESOURCE_VARIANT"] in ("0", "1")
    assert "HQ_RESOURCE_VARIANT" not in task_env(hq, job, 3)


# ---- strict policies on a busy worker ---------------------------------------------


def started_at(task):
    return task["started_at"]


def test_strict_task_waits_for_a_whole_group(hq):
    """A compact! task the server placed waits on the worker until one
    group is free, and the 1-CPU tasks submitted after it do not pass it:
    without the worker's queue pass they would take the free CPUs and the
    strict task could wait forever."""
    hq.start_server()
    hq.start_worker(cpus="2x2")
    blocker = hq.submit(["--cpus", "2 scatter", "--", "sleep", "2"])
    wait_until(lambda: hq.task_states(blocker) == {0: "running"},
               what="blocker running")
    strict = hq.submit(["--cpus", "2 compact!", "--", "bash", "-c",
                        "echo $HQ_CPUS; sleep 0.5"])
    small = hq.submit(["--array", "0-5", "--", "sleep", "0.2"])
    time.sleep(0.8)
    # 2 CPUs are free, but not a whole group: everything waits
    assert hq.task_states(strict) == {0: "waiting"}
    assert set(hq.task_states(small).values()) == {"waiting"}
    hq.wait_job(strict)
    hq.wait_job(small)
    cpus = set(
        (hq.work / f"job-{strict}" / "0.stdout").read_text().split()[0]
        .split(","))
    assert cpus in ({"0", "1"}, {"2", "3"})
    s = hq.job_info(strict)["tasks"][0]
    b = hq.job_info(blocker)["tasks"][0]
    assert started_at(s) >= b["finished_at"]
    for t in hq.job_info(small)["tasks"]:
        assert started_at(t) >= started_at(s)


def test_worker_info_resources_and_all_policy_queue(hq):
    """'all' waits for every index; a task behind it waits too."""
    hq.start_server()
    hq.start_worker(cpus="2")
    first = hq.submit(["--", "sleep", "1"])
    wait_until(lambda: hq.task_states(first) == {0: "running"},
               what="first running")
    everything = hq.submit(["--cpus", "all", "--", "sleep", "0.3"])
    after = hq.submit(["--", "true"])
    hq.wait_job(after)
    hq.wait_job(everything)
    e = hq.job_info(everything)["tasks"][0]
    a = hq.job_info(after)["tasks"][0]
    assert started_at(e) >= hq.job_info(first)["tasks"][0]["finished_at"]
    assert started_at(a) >= started_at(e)


# ---- pinning ---------------------------------------------------------------------


def cpu_list(text):
    """Expand "0-2,5" into {0, 1, 2, 5}."""
    out = set()
    for part in text.strip().split(","):
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        elif part:
            out.add(int(part))
    return out


def allowed_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return cpu_list(line.split(":", 1)[1])
    raise AssertionError("no Cpus_allowed_list")


SHOW = ("echo $HQ_CPUS; echo ${HQ_PIN-}; echo ${OMP_PROC_BIND-}; "
        "echo ${OMP_PLACES-}; grep Cpus_allowed_list /proc/self/status")


def pinned_run(hq, args):
    job = hq.submit(list(args) + ["--", "bash", "-c", SHOW])
    hq.wait_job(job)
    info = hq.job_info(job)["tasks"][0]
    assert info["state"] == "finished", info
    lines = (hq.work / f"job-{job}" / "0.stdout").read_text().splitlines()
    return lines[0], lines[1], lines[2], lines[3], cpu_list(
        lines[4].split(":", 1)[1])


def test_pin_taskset_sets_affinity(hq):
    ncpus = len(os.sched_getaffinity(0))
    hq.start_server()
    w = hq.start_worker(cpus=str(ncpus))
    before = allowed_of(w.pid)
    cpus, pin, bind, places, allowed = pinned_run(
        hq, ["--pin", "taskset", "--cpus", "1"])
    assert pin == "taskset"
    assert allowed == {int(c) for c in labels(cpus)}
    assert len(allowed) == 1
    assert bind == "" and places == ""
    if ncpus >= 2:
        cpus, _, _, _, allowed = pinned_run(
            hq, ["--pin", "taskset", "--cpus", "2"])
        assert allowed == {int(c) for c in labels(cpus)}
        assert len(allowed) == 2
    # the worker got its own affinity back
    assert allowed_of(w.pid) == before
    # without pinning the task keeps the worker's affinity
    _, pin, _, _, allowed = pinned_run(hq, ["--cpus", "1"])
    assert pin == "" and allowed == before
    text = hq.command(["task", "info", "1", "0"]).stdout
    assert "taskset" in text
    assert hq.job_info(1)["submits"][0]["array"]["pin_mode"] == "taskset"


def test_pin_omp_sets_places(hq):
    hq.start_server()
    w = hq.start_worker(cpus="2")
    cpus, pin, bind, places, allowed = pinned_run(
        hq, ["--pin", "omp", "--cpus", "2"])
    assert pin == "omp"
    assert bind == "close"
    assert places == "{" + cpus + "}"
    assert allowed == allowed_of(w.pid)
    _, _, bind, places, _ = pinned_run(
        hq, ["--pin", "omp", "--env", "OMP_PROC_BIND=spread", "--env",
             "OMP_PLACES=cores"])
    assert bind == "spread" and places == "cores"
    assert hq.job_info(1)["submits"][0]["array"]["pin_mode"] == "openmp"


def test_pin_to_missing_cpu_fails_the_task(hq):
    # CPU ids the machine does not have: sched_setaffinity refuses them
    hq.start_server()
    hq.start_worker(cpus="[4000,4001]")
    job = hq.submit(["--pin", "taskset", "--", "true"])
    hq.wait_job(job)
    t = hq.job_info(job)["tasks"][0]
    assert t["state"] == "failed"
    assert t["error"].startswith("Pinning failed")
    assert "4000" in t["error"]
