# SPDX-License-Identifier: MIT
"""Multi-node tasks (spec 2.8): --nodes N reserves N whole workers of one
group, the root runs the command with the node and host files."""
import time

from conftest import wait_until

SHOW = ("echo N=$HQ_NUM_NODES; echo CPUS=${HQ_CPUS-unset}; "
        "echo REQ=${HQ_RESOURCE_REQUEST_cpus-unset}; "
        "echo DIR=$HQ_TASK_DIR; echo NODEFILE=$HQ_NODE_FILE; "
        "echo HOSTFILE=$HQ_HOST_FILE; "
        "echo ---; cat $HQ_NODE_FILE; echo ---; cat $HQ_HOST_FILE")


def parse(text):
    head, nodes, hosts = text.split("---\n")
    env = dict(line.split("=", 1) for line in head.splitlines())
    return env, nodes.splitlines(), hosts.splitlines()


def runtime(hq, worker_id):
    return hq.json(["worker", "info", str(worker_id)])[0]["runtime_info"]


def test_two_nodes_of_one_group(hq):
    hq.start_server()
    a = hq.start_worker("--group", "g", "--hostname", "alpha.cluster.org")
    b = hq.start_worker("--group", "g", "--hostname", "10.1.2.3")
    other = hq.start_worker("--group", "h", "--hostname", "gamma")
    job = hq.submit(["--nodes", "2", "--", "bash", "-c",
                     SHOW + "; sleep 1.5"])
    wait_until(lambda: hq.task_states(job) == {0: "running"},
               what="multi-node task running")
    t = hq.json(["task", "info", str(job), "0"])[0]
    assert sorted(t["workers"]) == sorted([a.worker_id, b.worker_id])
    assert "worker" not in t
    root = t["workers"][0]
    second = t["workers"][1]
    assert runtime(hq, root) == {"MultiNodeTask": {"main_node": True}}
    assert runtime(hq, second) == {"MultiNodeTask": {"main_node": False}}
    assert runtime(hq, other.worker_id)["SingleNodeTasks"][
        "is_reserved"] is False
    text = hq.command(["worker", "info", str(second)]).stdout
    assert "running multinode task; secondary node" in text
    # the reserved workers take no single-node task meanwhile
    single = hq.submit(["--array", "0-3", "--", "true"])
    hq.wait_job(single)
    assert {x["worker"] for x in hq.job_info(single)["tasks"]} == {
        other.worker_id}
    hq.wait_job(job)
    info = hq.job_info(job)["tasks"][0]
    assert info["state"] == "finished"
    env, nodes, hosts = parse(
        (hq.work / f"job-{job}" / "0.stdout").read_text())
    assert env["N"] == "2"
    # no resource variables for multi-node tasks
    assert env["CPUS"] == "unset" and env["REQ"] == "unset"
    assert env["NODEFILE"] == env["DIR"] + "/hq-nodefile"
    assert env["HOSTFILE"] == env["DIR"] + "/hq-hostfile"
    names = {a.worker_id: "alpha.cluster.org", b.worker_id: "10.1.2.3"}
    short = {a.worker_id: "alpha", b.worker_id: "10.1.2.3"}
    assert hosts == [names[root], names[second]]
    assert nodes == [short[root], short[second]]
    # the task dir is gone with the task; both workers are free again
    assert runtime(hq, root)["SingleNodeTasks"]["assigned_tasks"] == 0
    again = hq.submit(["--nodes", "2", "--", "true"])
    hq.wait_job(again)
    assert hq.job_info(again)["tasks"][0]["state"] == "finished"
    desc = hq.job_info(again)["submits"][0]["array"]["resources"][0]
    assert desc["n_nodes"] == 2 and desc["resources"] == []
    text = hq.command(["job", "info", str(again)]).stdout
    assert "nodes: 2" in text


def test_group_too_small_waits(hq):
    hq.start_server()
    hq.start_worker("--group", "g")
    hq.start_worker("--group", "g")
    hq.start_worker("--group", "other")
    job = hq.submit(["--nodes", "3", "--", "true"])
    time.sleep(1.0)
    assert hq.task_states(job) == {0: "waiting"}
    # single-node work is not held back by a task that cannot run
    single = hq.submit(["--array", "0-5", "--", "true"])
    hq.wait_job(single)
    assert hq.task_states(job) == {0: "waiting"}
    # a third worker in the group lets it run
    hq.start_worker("--group", "g")
    hq.wait_job(job)
    t = hq.json(["task", "info", str(job), "0"])[0]
    assert t["state"] == "finished"
    assert len(t["workers"]) == 3


def test_waiting_multinode_task_reserves_busy_workers(hq):
    """A multi-node task that cannot start holds the workers it waits
    for: newer single-node tasks do not start there, so it is not
    starved; once they drain it runs, then the rest."""
    hq.start_server()
    w1 = hq.start_worker("--group", "g")
    w2 = hq.start_worker("--group", "g")
    busy = hq.submit(["--", "sleep", "1.5"])
    wait_until(lambda: hq.task_states(busy) == {0: "running"},
               what="single-node task running")
    mn = hq.submit(["--nodes", "2", "--", "sleep", "0.5"])
    later = hq.submit(["--array", "0-3", "--", "true"])
    time.sleep(0.6)
    assert hq.task_states(mn) == {0: "waiting"}
    assert set(hq.task_states(later).values()) == {"waiting"}
    rts = [runtime(hq, w.worker_id)["SingleNodeTasks"]
           for w in (w1, w2)]
    assert all(r["is_reserved"] for r in rts), rts
    busy_worker = hq.job_info(busy)["tasks"][0]["worker"]
    text = hq.command(["worker", "info", str(busy_worker)]).stdout
    assert "reserved for a multi-node task" in text
    hq.wait_job(mn)
    hq.wait_job(later)
    m = hq.json(["task", "info", str(mn), "0"])[0]
    assert m["started_at"] >= hq.job_info(busy)["tasks"][0]["finished_at"]
    for t in hq.job_info(later)["tasks"]:
        assert t["started_at"] >= m["finished_at"]


def test_secondary_node_lost_requeues(hq):
    hq.start_server()
    w1 = hq.start_worker("--group", "g")
    w2 = hq.start_worker("--group", "g")
    job = hq.submit(["--nodes", "2", "--", "sleep", "30"])
    wait_until(lambda: hq.task_states(job) == {0: "running"},
               what="multi-node task running")
    t = hq.json(["task", "info", str(job), "0"])[0]
    secondary = w1 if t["workers"][1] == w1.worker_id else w2
    hq.kill(secondary)
    wait_until(lambda: hq.task_states(job) == {0: "waiting"},
               what="task requeued")
    # the root is free again (its copy was killed)
    root = t["workers"][0]
    wait_until(lambda: runtime(hq, root).get("SingleNodeTasks", {}).get(
        "assigned_tasks") == 0, what="root released")
    hq.start_worker("--group", "g")
    wait_until(lambda: hq.task_states(job) == {0: "running"},
               what="multi-node task running again")
    t2 = hq.json(["task", "info", str(job), "0"])[0]
    assert secondary.worker_id not in t2["workers"]
    hq.command(["job", "cancel", str(job)])
    wait_until(lambda: runtime(hq, t2["workers"][1]).get(
        "SingleNodeTasks") is not None, what="nodes released on cancel")


def test_secondary_node_is_busy_during_the_task(hq):
    """A secondary node runs nothing, yet its idle timeout must not stop
    it while the multi-node task runs; afterwards it applies again."""
    hq.start_server()
    hq.start_worker("--group", "g", "--idle-timeout", "1s")
    hq.start_worker("--group", "g", "--idle-timeout", "1s")
    job = hq.submit(["--nodes", "2", "--", "sleep", "2.5"])
    hq.wait_job(job)
    t = hq.json(["task", "info", str(job), "0"])[0]
    assert t["state"] == "finished", t
    assert len(t["workers"]) == 2
    # both idle now: they time out
    wait_until(lambda: hq.online_worker_ids() == set(),
               what="idle timeout after the task")
    states = {w["id"]: w["ended"] is not None for w in
              hq.json(["worker", "list", "--all"])}
    assert states == {1: True, 2: True}
