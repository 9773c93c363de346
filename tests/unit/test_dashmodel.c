/* SPDX-License-Identifier: MIT */
/*
 * `hq dashboard`'s model: event lines in, workers, jobs, allocation queues
 * and recent events out; and the same counts as the server's state when
 * fed what hq_event_to_json() makes of real events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dashmodel.h"
#include "common/event.h"
#include "common/evjson.h"
#include "common/model.h"
#include "common/resource.h"
#include "common/util.h"
#include "server/state.h"

#define TIME "\"time\":\"2026-11-25T17:00:05.123000000Z\""

/* Fold one event object given as the text after "event":. */
static void
feed(struct hq_dashmodel *m, uint64_t seq, const char *event)
{
	struct hq_errbuf eb = { { 0 } };
	char *text = hq_xprintf("{\"seq\":%llu," TIME ",\"event\":%s}\n",
	    (unsigned long long)seq, event);
	uint32_t nbad = 99;

	if (hq_dashmodel_feed_text(m, text, strlen(text), &nbad, &eb) != 0)
		fail_msg("feed %s: %s", event, eb.msg);
	assert_int_equal(nbad, 0);
	free(text);
}

static void
worker(struct hq_dashmodel *m, uint64_t seq, uint32_t id, const char *host)
{
	char *ev = hq_xprintf("{\"type\":\"worker-connected\",\"id\":%u,"
			      "\"configuration\":{\"hostname\":\"%s\","
			      "\"group\":\"default\",\"resources\":{"
			      "\"resources\":[{\"name\":\"cpus\",\"kind\":"
			      "\"range\",\"start\":0,\"end\":3}]}}}",
	    id, host);

	feed(m, seq, ev);
	free(ev);
}

static void
submit(struct hq_dashmodel *m, uint64_t seq, uint32_t job, uint32_t n,
    const char *extra)
{
	char *ev = hq_xprintf("{\"type\":\"job-created\",\"job\":%u,"
			      "\"closed_job\":true,\"job_desc\":{\"name\":"
			      "\"sim\",\"max_fails\":null},\"submit_desc\":{"
			      "\"submit_dir\":\"/home/u\",\"stream_path\":"
			      "null,\"task_desc\":{\"ids\":{\"ranges\":[{"
			      "\"start\":0,\"count\":%u,\"step\":1}]}%s}}}",
	    job, n, extra);

	feed(m, seq, ev);
	free(ev);
}

static void
run(struct hq_dashmodel *m, uint64_t seq, const char *kind, uint32_t job,
    uint32_t task, uint32_t worker_id)
{
	char *ev = worker_id
	    ? hq_xprintf("{\"type\":\"task-%s\",\"job\":%u,\"task\":%u,"
			 "\"worker\":%u}",
		  kind, job, task, worker_id)
	    : hq_xprintf("{\"type\":\"task-%s\",\"job\":%u,\"task\":%u}", kind,
		  job, task);

	feed(m, seq, ev);
	free(ev);
}

static void
check_counts(const struct hq_dash_job *j, uint32_t waiting, uint32_t running,
    uint32_t finished, uint32_t failed, uint32_t canceled, uint32_t aborted)
{
	assert_non_null(j);
	assert_int_equal(j->counts[HQ_TASK_WAITING], waiting);
	assert_int_equal(j->counts[HQ_TASK_RUNNING], running);
	assert_int_equal(j->counts[HQ_TASK_FINISHED], finished);
	assert_int_equal(j->counts[HQ_TASK_FAILED], failed);
	assert_int_equal(j->counts[HQ_TASK_CANCELED], canceled);
	assert_int_equal(j->counts[HQ_TASK_ABORTED], aborted);
}

static void
test_dashmodel_workers_and_resources(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(10);
	const struct hq_dash_worker *w;
	struct hq_dash_totals t;

	(void)state;
	feed(m, 1,
	    "{\"type\":\"worker-connected\",\"id\":7,\"configuration\":{"
	    "\"hostname\":\"node7\",\"group\":\"g1\",\"resources\":{"
	    "\"resources\":["
	    "{\"name\":\"cpus\",\"kind\":\"groups\",\"groups\":[[\"0\",\"1\"],"
	    "[\"2\",\"3\"]]},"
	    "{\"name\":\"gpus\",\"kind\":\"list\",\"values\":[\"0\",\"1\","
	    "\"2\"]},"
	    "{\"name\":\"mem\",\"kind\":\"sum\",\"size\":20480000},"
	    "{\"name\":\"fpga\",\"kind\":\"range\",\"start\":4,\"end\":5}]},"
	    "\"_manager\":\"SLURM\",\"_allocation_id\":\"123\"}}");
	worker(m, 2, 3, "node3");
	w = hq_dashmodel_worker(m, 7);
	assert_non_null(w);
	assert_string_equal(w->hostname, "node7");
	assert_string_equal(w->group, "g1");
	assert_string_equal(w->resources,
	    "cpus 2x2; gpus 3; mem 2.00 GiB; fpga 2");
	assert_string_equal(w->manager, "SLURM");
	assert_string_equal(w->allocation, "123");
	assert_true(w->online);
	assert_null(w->lost_reason);
	/* Sorted by id. */
	assert_int_equal(m->nworkers, 2);
	assert_int_equal(m->workers[0].id, 3);
	assert_int_equal(m->workers[1].id, 7);
	assert_string_equal(m->workers[0].resources, "cpus 4");
	assert_null(m->workers[0].manager);

	feed(m, 3,
	    "{\"type\":\"worker-lost\",\"id\":7,\"reason\":"
	    "\"HeartbeatLost\"}");
	w = hq_dashmodel_worker(m, 7);
	assert_false(w->online);
	assert_string_equal(w->lost_reason, "HeartbeatLost");
	hq_dashmodel_totals(m, &t);
	assert_int_equal(t.workers, 2);
	assert_int_equal(t.workers_online, 1);
	assert_string_equal(hq_dashmodel_recent(m, 0),
	    "17:00:05  worker 7 lost (HeartbeatLost)");
	assert_string_equal(hq_dashmodel_recent(m, 1),
	    "17:00:05  worker 3 connected (node3)");

	/* Back under its id. */
	worker(m, 4, 7, "node7b");
	w = hq_dashmodel_worker(m, 7);
	assert_true(w->online);
	assert_null(w->lost_reason);
	assert_string_equal(w->hostname, "node7b");
	assert_null(hq_dashmodel_worker(m, 5));
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_job_lifecycle(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(100);
	const struct hq_dash_worker *w;
	const struct hq_dash_job *j;
	struct hq_dash_totals t;

	(void)state;
	feed(m, 1, "{\"type\":\"server-start\",\"server_uid\":\"aB3xYz\"}");
	assert_string_equal(m->server_uid, "aB3xYz");
	worker(m, 2, 1, "node1");
	submit(m, 3, 1, 4, "");
	j = hq_dashmodel_job(m, 1);
	assert_string_equal(j->name, "sim");
	assert_int_equal(j->ntasks, 4);
	check_counts(j, 4, 0, 0, 0, 0, 0);
	assert_int_equal(hq_dash_job_state(j), HQ_JOB_WAITING);

	run(m, 4, "assigned", 1, 0, 1);
	run(m, 4, "assigned", 1, 1, 1);
	w = hq_dashmodel_worker(m, 1);
	assert_int_equal(w->nassigned, 2);
	assert_int_equal(w->nrunning, 0);
	check_counts(j, 4, 0, 0, 0, 0, 0);
	assert_int_equal(j->nassigned, 2);

	run(m, 5, "started", 1, 0, 1);
	assert_int_equal(w->nassigned, 1);
	assert_int_equal(w->nrunning, 1);
	check_counts(j, 3, 1, 0, 0, 0, 0);
	assert_int_equal(hq_dash_job_state(j), HQ_JOB_RUNNING);

	/* Finished straight from assigned (started and finished in one
	 * report), then from running. */
	run(m, 6, "finished", 1, 1, 0);
	run(m, 6, "finished", 1, 0, 0);
	assert_int_equal(w->nassigned, 0);
	assert_int_equal(w->nrunning, 0);
	check_counts(j, 2, 0, 2, 0, 0, 0);

	run(m, 7, "assigned", 1, 2, 1);
	run(m, 8, "started", 1, 2, 1);
	feed(m, 9,
	    "{\"type\":\"task-failed\",\"job\":1,\"task\":2,"
	    "\"error\":\"exit code 1\"}");
	run(m, 10, "assigned", 1, 3, 1);
	run(m, 11, "started", 1, 3, 1);
	run(m, 12, "finished", 1, 3, 0);
	check_counts(j, 0, 0, 3, 1, 0, 0);
	assert_int_equal(hq_dash_job_state(j), HQ_JOB_FAILED);
	assert_int_equal(w->nrunning, 0);
	/* Nothing left in progress: no task records are kept. */
	assert_int_equal(j->ntracked, 0);
	assert_string_equal(hq_dashmodel_recent(m, 3),
	    "17:00:05  job 1 task 2 failed: exit code 1");
	assert_string_equal(hq_dashmodel_recent(m, 0),
	    "17:00:05  job 1 task 3 finished");
	assert_string_equal(hq_dashmodel_recent(m, 1),
	    "17:00:05  job 1 task 3 started on worker 1");

	hq_dashmodel_totals(m, &t);
	assert_int_equal(t.jobs, 1);
	assert_int_equal(t.tasks, 4);
	assert_int_equal(t.counts[HQ_TASK_FINISHED], 3);
	assert_int_equal(t.counts[HQ_TASK_FAILED], 1);
	assert_int_equal(m->first_seq, 1);
	assert_int_equal(m->last_seq, 12);
	assert_int_equal(m->nevents, 14);

	feed(m, 13, "{\"type\":\"server-stop\"}");
	assert_true(m->server_stopped);
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_cancel_and_forget(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(10);
	const struct hq_dash_job *j;

	(void)state;
	worker(m, 1, 1, "node1");
	submit(m, 2, 1, 5, "");
	run(m, 3, "assigned", 1, 0, 1);
	run(m, 3, "assigned", 1, 1, 1);
	run(m, 4, "started", 1, 0, 1);
	run(m, 5, "finished", 1, 0, 0);
	run(m, 6, "started", 1, 1, 1);
	run(m, 6, "assigned", 1, 2, 1);
	feed(m, 7,
	    "{\"type\":\"job-cancel\",\"job_id\":1,\"reason\":"
	    "\"by user\"}");
	j = hq_dashmodel_job(m, 1);
	check_counts(j, 0, 0, 1, 0, 4, 0);
	assert_int_equal(hq_dash_job_state(j), HQ_JOB_CANCELED);
	assert_string_equal(j->cancel_reason, "by user");
	assert_int_equal(j->nassigned, 0);
	assert_int_equal(hq_dashmodel_worker(m, 1)->nrunning, 0);
	assert_int_equal(hq_dashmodel_worker(m, 1)->nassigned, 0);
	/* A second cancel changes nothing, nor does its reason stick. */
	feed(m, 8, "{\"type\":\"job-cancel\",\"job_id\":1,\"reason\":null}");
	check_counts(j, 0, 0, 1, 0, 4, 0);
	assert_string_equal(j->cancel_reason, "by user");

	submit(m, 9, 2, 1, "");
	feed(m, 10, "{\"type\":\"job-forget\",\"job_id\":1}");
	assert_null(hq_dashmodel_job(m, 1));
	assert_non_null(hq_dashmodel_job(m, 2));
	assert_int_equal(m->njobs, 1);
	/* Events of a job the model does not know are ignored. */
	run(m, 11, "finished", 1, 4, 0);
	assert_null(hq_dashmodel_job(m, 1));
	assert_string_equal(hq_dashmodel_recent(m, 0),
	    "17:00:05  job 1 task 4 finished");
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_max_fails_aborts_rest(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(10);
	const struct hq_dash_job *j;

	(void)state;
	worker(m, 1, 1, "node1");
	feed(m, 2,
	    "{\"type\":\"job-created\",\"job\":1,\"closed_job\":true,"
	    "\"job_desc\":{\"name\":\"mf\",\"max_fails\":1},\"submit_desc\":{"
	    "\"task_desc\":{\"ids\":{\"ranges\":[{\"start\":0,\"count\":3,"
	    "\"step\":1},{\"start\":10,\"count\":3,\"step\":2}]}}}}");
	j = hq_dashmodel_job(m, 1);
	assert_int_equal(j->ntasks, 6);
	assert_true(j->has_max_fails);
	assert_int_equal(j->max_fails, 1);
	run(m, 3, "assigned", 1, 0, 1);
	run(m, 3, "assigned", 1, 1, 1);
	run(m, 3, "assigned", 1, 2, 1);
	run(m, 4, "started", 1, 0, 1);
	run(m, 4, "started", 1, 1, 1);
	feed(m, 5,
	    "{\"type\":\"task-failed\",\"job\":1,\"task\":0,"
	    "\"error\":\"e\"}");
	check_counts(j, 4, 1, 0, 1, 0, 0);
	feed(m, 6,
	    "{\"type\":\"task-failed\",\"job\":1,\"task\":1,"
	    "\"error\":\"e\"}");
	check_counts(j, 0, 0, 0, 2, 0, 4);
	assert_int_equal(hq_dash_job_state(j), HQ_JOB_FAILED);
	assert_int_equal(hq_dashmodel_worker(m, 1)->nassigned, 0);
	assert_int_equal(hq_dashmodel_worker(m, 1)->nrunning, 0);
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_worker_lost_requeues_or_fails(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(10);
	const struct hq_dash_job *j1, *j2, *j3;

	(void)state;
	worker(m, 1, 1, "node1");
	worker(m, 2, 2, "node2");
	submit(m, 3, 1, 2, ",\"crash_limit\":{\"MaxCrashes\":2}");
	submit(m, 4, 2, 1, ",\"crash_limit\":\"NeverRestart\"");
	submit(m, 5, 3, 1, ",\"crash_limit\":\"Unlimited\"");
	j1 = hq_dashmodel_job(m, 1);
	j2 = hq_dashmodel_job(m, 2);
	j3 = hq_dashmodel_job(m, 3);
	assert_int_equal(j1->crash_limit, 2);
	assert_int_equal(j2->crash_limit, HQ_CRASH_NEVER_RESTART);
	assert_int_equal(j3->crash_limit, HQ_CRASH_UNLIMITED);
	run(m, 6, "assigned", 1, 0, 1);
	run(m, 6, "assigned", 1, 1, 1);
	run(m, 7, "started", 1, 0, 1);
	run(m, 6, "assigned", 2, 0, 1);
	run(m, 7, "started", 2, 0, 1);
	run(m, 6, "assigned", 3, 0, 2);
	run(m, 7, "started", 3, 0, 2);

	/* Worker 1 crashes: the running task counts a crash and is
	 * requeued, the assigned one is requeued, the never-restart one
	 * fails; worker 2's task stays. */
	feed(m, 8,
	    "{\"type\":\"worker-lost\",\"id\":1,\"reason\":"
	    "\"ConnectionLost\"}");
	check_counts(j1, 2, 0, 0, 0, 0, 0);
	check_counts(j2, 0, 0, 0, 1, 0, 0);
	check_counts(j3, 0, 1, 0, 0, 0, 0);
	assert_int_equal(j1->nassigned, 0);
	assert_int_equal(hq_dashmodel_worker(m, 1)->nrunning, 0);
	assert_int_equal(hq_dashmodel_worker(m, 2)->nrunning, 1);

	/* Second crash of task 1@0: its limit of 2 is reached. */
	worker(m, 9, 3, "node3");
	run(m, 10, "assigned", 1, 0, 3);
	run(m, 11, "started", 1, 0, 3);
	feed(m, 12,
	    "{\"type\":\"worker-lost\",\"id\":3,\"reason\":"
	    "\"HeartbeatLost\"}");
	check_counts(j1, 1, 0, 0, 1, 0, 0);

	/* A stopped worker is no crash. */
	feed(m, 13,
	    "{\"type\":\"worker-lost\",\"id\":2,\"reason\":"
	    "\"Stopped\"}");
	check_counts(j3, 1, 0, 0, 0, 0, 0);
	assert_int_equal(hq_dashmodel_worker(m, 2)->nrunning, 0);
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_open_job(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(10);
	const struct hq_dash_job *j;

	(void)state;
	feed(m, 1,
	    "{\"type\":\"job-open\",\"job_id\":4,\"name\":\"op\","
	    "\"max_fails\":null}");
	j = hq_dashmodel_job(m, 4);
	assert_true(j->open);
	assert_false(j->has_max_fails);
	assert_int_equal(hq_dash_job_state(j), HQ_JOB_OPENED);
	/* A submit into it may not repeat its name. */
	feed(m, 2,
	    "{\"type\":\"job-created\",\"job\":4,\"closed_job\":false,"
	    "\"job_desc\":{\"name\":\"\",\"max_fails\":null},\"submit_desc\":{"
	    "\"task_desc\":{\"n_tasks\":3}}}");
	j = hq_dashmodel_job(m, 4);
	assert_string_equal(j->name, "op");
	assert_int_equal(j->ntasks, 3);
	assert_true(j->open);
	run(m, 3, "finished", 4, 0, 0);
	run(m, 3, "finished", 4, 1, 0);
	run(m, 3, "finished", 4, 2, 0);
	assert_int_equal(hq_dash_job_state(j), HQ_JOB_OPENED);
	assert_int_equal(j->ntracked, 0);
	/* More tasks after the records went. */
	feed(m, 3,
	    "{\"type\":\"job-created\",\"job\":4,\"closed_job\":false,"
	    "\"job_desc\":{\"name\":\"\",\"max_fails\":null},\"submit_desc\":{"
	    "\"task_desc\":{\"ids\":{\"ranges\":[{\"start\":3,\"count\":1,"
	    "\"step\":1}]}}}}");
	run(m, 3, "assigned", 4, 3, 1);
	check_counts(j, 1, 0, 3, 0, 0, 0);
	assert_int_equal(j->ntracked, 1);
	run(m, 3, "finished", 4, 3, 0);
	check_counts(j, 0, 0, 4, 0, 0, 0);
	feed(m, 4, "{\"type\":\"job-close\",\"job_id\":4}");
	assert_false(j->open);
	assert_int_equal(hq_dash_job_state(j), HQ_JOB_FINISHED);
	/* A task no submit announced (history pruned before it). */
	run(m, 5, "finished", 4, 9, 0);
	assert_int_equal(j->ntasks, 5);
	check_counts(j, 0, 0, 5, 0, 0, 0);
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_multinode(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(10);

	(void)state;
	worker(m, 1, 1, "a");
	worker(m, 2, 2, "b");
	worker(m, 3, 3, "c");
	submit(m, 4, 1, 1, "");
	feed(m, 5,
	    "{\"type\":\"task-assigned\",\"job\":1,\"task\":0,"
	    "\"workers\":[2,3]}");
	assert_int_equal(hq_dashmodel_worker(m, 2)->nassigned, 1);
	assert_int_equal(hq_dashmodel_worker(m, 3)->nassigned, 1);
	/* Read back from a journal, the start names the root only. */
	run(m, 6, "started", 1, 0, 2);
	assert_int_equal(hq_dashmodel_worker(m, 2)->nrunning, 1);
	assert_int_equal(hq_dashmodel_worker(m, 3)->nrunning, 1);
	assert_int_equal(hq_dashmodel_worker(m, 1)->nrunning, 0);
	assert_int_equal(hq_dashmodel_worker(m, 3)->nassigned, 0);
	/* Losing a secondary node loses the task. */
	feed(m, 7,
	    "{\"type\":\"worker-lost\",\"id\":3,\"reason\":"
	    "\"Stopped\"}");
	assert_int_equal(hq_dashmodel_worker(m, 2)->nrunning, 0);
	check_counts(hq_dashmodel_job(m, 1), 1, 0, 0, 0, 0, 0);
	feed(m, 8,
	    "{\"type\":\"task-assigned\",\"job\":1,\"task\":0,"
	    "\"workers\":[1,2]}");
	feed(m, 9,
	    "{\"type\":\"task-started\",\"job\":1,\"task\":0,"
	    "\"workers\":[1,2]}");
	assert_int_equal(hq_dashmodel_worker(m, 1)->nrunning, 1);
	run(m, 10, "finished", 1, 0, 0);
	assert_int_equal(hq_dashmodel_worker(m, 1)->nrunning, 0);
	assert_int_equal(hq_dashmodel_worker(m, 2)->nrunning, 0);
	assert_int_equal(m->nmn, 0);
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_autoalloc(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(10);
	const struct hq_dash_queue *q;
	const struct hq_dash_alloc *a;
	struct hq_dash_totals t;

	(void)state;
	feed(m, 1,
	    "{\"type\":\"autoalloc-queue-created\",\"queue-id\":1,\"params\":{"
	    "\"manager\":\"Slurm\",\"backlog\":2,\"max_workers_per_alloc\":1,"
	    "\"max_worker_count\":null,\"timelimit\":{\"secs\":3600,"
	    "\"nanos\":0},\"idle_timeout\":{\"secs\":300,\"nanos\":0},"
	    "\"name\":\"q1\",\"worker_args\":[],\"additional_args\":[]}}");
	q = hq_dashmodel_queue(m, 1);
	assert_non_null(q);
	assert_string_equal(q->manager, "Slurm");
	assert_string_equal(q->name, "q1");
	assert_int_equal(q->backlog, 2);
	assert_int_equal(q->max_workers_per_alloc, 1);
	assert_int_equal(q->max_worker_count, 0);
	assert_int_equal(q->time_limit_ms, 3600000);
	assert_false(q->paused);

	feed(m, 2,
	    "{\"type\":\"autoalloc-allocation-queued\",\"queue-id\":1,"
	    "\"allocation-id\":\"100\",\"worker-count\":1}");
	feed(m, 3,
	    "{\"type\":\"autoalloc-allocation-queued\",\"queue-id\":1,"
	    "\"allocation-id\":\"101\",\"worker-count\":1}");
	a = hq_dashmodel_alloc(m, "100");
	assert_int_equal(a->state, HQ_DASH_ALLOC_QUEUED);
	assert_int_equal(a->target, 1);
	/* Its worker connecting starts it; losing it ends it. */
	feed(m, 4,
	    "{\"type\":\"worker-connected\",\"id\":5,"
	    "\"configuration\":{\"hostname\":\"n5\",\"_manager\":"
	    "\"SLURM\",\"_allocation_id\":\"100\"}}");
	a = hq_dashmodel_alloc(m, "100");
	assert_int_equal(a->state, HQ_DASH_ALLOC_RUNNING);
	hq_dashmodel_totals(m, &t);
	assert_int_equal(t.queues, 1);
	assert_int_equal(t.allocs_queued, 1);
	assert_int_equal(t.allocs_running, 1);
	feed(m, 5,
	    "{\"type\":\"worker-lost\",\"id\":5,\"reason\":"
	    "\"IdleTimeout\"}");
	assert_int_equal(hq_dashmodel_alloc(m, "100")->state,
	    HQ_DASH_ALLOC_FINISHED);
	feed(m, 6,
	    "{\"type\":\"autoalloc-allocation-started\",\"queue-id\":"
	    "1,\"allocation-id\":\"101\"}");
	assert_int_equal(hq_dashmodel_alloc(m, "101")->state,
	    HQ_DASH_ALLOC_RUNNING);
	feed(m, 7,
	    "{\"type\":\"autoalloc-allocation-finished\",\"queue-id\":"
	    "1,\"allocation-id\":\"101\",\"failed\":true}");
	assert_int_equal(hq_dashmodel_alloc(m, "101")->state,
	    HQ_DASH_ALLOC_FAILED);
	assert_string_equal(hq_dash_alloc_state_name(HQ_DASH_ALLOC_FAILED),
	    "FAILED");

	feed(m, 8,
	    "{\"type\":\"autoalloc-submission-failed\",\"queue-id\":1,"
	    "\"message\":\"sbatch: error\"}");
	assert_string_equal(q->message, "sbatch: error");
	feed(m, 9,
	    "{\"type\":\"autoalloc-queue-paused\",\"queue-id\":1,"
	    "\"message\":\"too many failures\"}");
	assert_true(q->paused);
	assert_string_equal(q->message, "too many failures");
	feed(m, 10, "{\"type\":\"autoalloc-queue-resumed\",\"queue-id\":1}");
	assert_false(q->paused);
	assert_null(q->message);
	assert_string_equal(hq_dashmodel_recent(m, 0),
	    "17:00:05  allocation queue 1 resumed");
	feed(m, 11, "{\"type\":\"autoalloc-queue-removed\",\"queue-id\":1}");
	assert_null(hq_dashmodel_queue(m, 1));
	assert_int_equal(m->nallocs, 0);
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_malformed_lines(void **state)
{
	static const struct {
		const char *line;
		const char *msg;
	} bad[] = {
		{ "{\"seq\":1,", "not JSON" },
		{ "[1,2]", "not an event line" },
		{ "{\"seq\":1,\"event\":{}}", "not an event line" },
		{ "{\"seq\":-1,\"event\":{\"type\":\"server-stop\"}}",
		    "\"seq\" is not an unsigned integer" },
		{ "{\"time\":5,\"event\":{\"type\":\"server-stop\"}}",
		    "\"time\" is missing or not a string" },
		{ "{\"event\":{\"type\":\"task-started\",\"job\":1,"
		  "\"task\":\"x\",\"worker\":1}}",
		    "\"task\" is missing or not a 32-bit unsigned integer" },
		{ "{\"event\":{\"type\":\"task-started\",\"job\":1,"
		  "\"task\":1,\"workers\":[]}}",
		    "\"workers\" is missing or not a list of worker ids" },
		{ "{\"event\":{\"type\":\"job-created\",\"job\":1}}",
		    "\"submit_desc\" is missing or not a submit description" },
		{ "{\"event\":{\"type\":\"worker-connected\",\"id\":1,"
		  "\"configuration\":3}}",
		    "\"configuration\" is missing or not an object" },
		{ "{\"event\":{\"type\":\"autoalloc-allocation-queued\","
		  "\"queue-id\":1}}",
		    "\"allocation-id\" is missing or not a string" },
		{ "{\"event\":{\"type\":\"job-open\",\"job_id\":4294967296}}",
		    "\"job_id\" is missing or not a 32-bit" },
	};
	struct hq_dashmodel *m = hq_dashmodel_create(10);
	struct hq_errbuf eb = { { 0 } };
	const char *text;
	uint32_t nbad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(bad); i++) {
		memset(&eb, 0, sizeof eb);
		assert_int_equal(hq_dashmodel_feed_text(m, bad[i].line,
				     strlen(bad[i].line), &nbad, &eb),
		    HQ_EINVAL);
		assert_int_equal(nbad, 1);
		if (strstr(eb.msg, bad[i].msg) == NULL ||
		    strncmp(eb.msg, "line 1: ", 8) != 0)
			fail_msg("%s: got \"%s\"", bad[i].line, eb.msg);
	}
	assert_int_equal(m->nevents, 0);
	assert_int_equal(m->ring_n, 0);
	assert_int_equal(m->njobs, 0);
	assert_int_equal(m->nworkers, 0);

	/* Good lines around bad ones are folded; the first bad one is
	 * named; unknown types are only recent events. */
	text = "{\"seq\":1,\"event\":{\"type\":\"server-stop\"}}\n"
	       "\n"
	       "garbage\n"
	       "{\"seq\":2,\"event\":{\"type\":\"job-open\",\"job_id\":1}}\n"
	       "{\"seq\":3,\"event\":{\"type\":\"job-open\"}}\n"
	       "{\"seq\":4,\"event\":{\"type\":\"something-new\"}}";
	assert_int_equal(hq_dashmodel_feed_text(m, text, strlen(text), &nbad,
			     &eb),
	    HQ_EINVAL);
	assert_int_equal(nbad, 2);
	assert_non_null(strstr(eb.msg, "line 3: not JSON"));
	assert_non_null(strstr(eb.msg, "garbage"));
	assert_int_equal(m->nevents, 3);
	assert_non_null(hq_dashmodel_job(m, 1));
	assert_string_equal(hq_dashmodel_recent(m, 0),
	    "--:--:--  something-new");
	assert_int_equal(m->last_seq, 4);
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_ring_keeps_last(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(3);
	uint32_t i;
	char ev[64];

	(void)state;
	assert_null(hq_dashmodel_recent(m, 0));
	for (i = 1; i <= 5; i++) {
		snprintf(ev, sizeof ev,
		    "{\"type\":\"job-close\",\"job_id\":%u}", i);
		feed(m, i, ev);
	}
	assert_int_equal(m->ring_n, 3);
	assert_string_equal(hq_dashmodel_recent(m, 0),
	    "17:00:05  job 5 closed");
	assert_string_equal(hq_dashmodel_recent(m, 2),
	    "17:00:05  job 3 closed");
	assert_null(hq_dashmodel_recent(m, 3));
	/* Control characters never reach the screen. */
	feed(m, 6,
	    "{\"type\":\"job-cancel\",\"job_id\":9,\"reason\":"
	    "\"a\\u001b[2Jb\\nc\"}");
	assert_string_equal(hq_dashmodel_recent(m, 0),
	    "17:00:05  job 9 canceled: a [2Jb c");
	hq_dashmodel_destroy(m);
}

static void
test_dashmodel_seed(void **state)
{
	struct hq_dashmodel *m = hq_dashmodel_create(10);
	struct hq_errbuf eb = { { 0 } };
	json_error_t jerr;
	json_t *workers, *jobs;
	const struct hq_dash_job *j;

	(void)state;
	workers = json_loads("[{\"id\":2,\"configuration\":{\"hostname\":"
			     "\"n2\",\"group\":\"default\"}}]",
	    0, &jerr);
	jobs = json_loads("[{\"id\":1,\"name\":\"a\",\"task_count\":5,"
			  "\"is_open\":false,\"task_stats\":{\"running\":2,"
			  "\"finished\":1,\"failed\":0,\"canceled\":0,"
			  "\"aborted\":0,\"waiting\":2}}]",
	    0, &jerr);
	assert_int_equal(hq_dashmodel_seed(m, workers, jobs, &eb), 0);
	assert_true(m->seeded);
	assert_string_equal(hq_dashmodel_worker(m, 2)->hostname, "n2");
	j = hq_dashmodel_job(m, 1);
	check_counts(j, 2, 2, 1, 0, 0, 0);
	/* The tasks that were running end; a waiting one starts. */
	run(m, 10, "finished", 1, 3, 0);
	check_counts(j, 2, 1, 2, 0, 0, 0);
	run(m, 11, "requeued", 1, 4, 0);
	check_counts(j, 3, 0, 2, 0, 0, 0);
	run(m, 12, "assigned", 1, 0, 2);
	run(m, 12, "started", 1, 0, 2);
	check_counts(j, 2, 1, 2, 0, 0, 0);
	assert_int_equal(hq_dashmodel_worker(m, 2)->nrunning, 1);
	json_decref(workers);
	json_decref(jobs);

	jobs = json_loads("[{\"id\":3,\"name\":\"a\"}]", 0, &jerr);
	assert_int_equal(hq_dashmodel_seed(m, NULL, jobs, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "\"task_count\""));
	json_decref(jobs);
	hq_dashmodel_destroy(m);
}

/* ---- against the server's state ------------------------------------------ */

static uint64_t seq_next;

/* Apply 'ev' to the state and feed its lines as the server's history
 * sends them (no state at hand), then free it. */
static void
both(struct hq_state *st, struct hq_dashmodel *m, struct hq_event *ev)
{
	struct hq_errbuf eb = { { 0 } };
	uint32_t i, n = hq_event_json_nlines(ev);
	json_t *o;

	if (hq_state_apply(st, ev, &eb) != 0)
		fail_msg("apply: %s", eb.msg);
	seq_next++;
	for (i = 0; i < n; i++) {
		o = hq_event_to_json(ev, seq_next, NULL, i);
		if (hq_dashmodel_feed_json(m, o, &eb) != 0)
			fail_msg("feed: %s", eb.msg);
		json_decref(o);
	}
	hq_event_fini(ev);
}

static void
ev_worker(struct hq_event *ev, uint32_t id)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_WORKER_CONNECTED;
	ev->time_ms = 1000;
	ev->u.wconn.worker_id = id;
	ev->u.wconn.cfg.hostname = hq_xprintf("host%u", id);
	ev->u.wconn.cfg.group = hq_xstrdup("default");
	ev->u.wconn.cfg.res.n = 1;
	ev->u.wconn.cfg.res.pools =
	    hq_xcalloc(1, sizeof *ev->u.wconn.cfg.res.pools);
	ev->u.wconn.cfg.res.pools[0].name = hq_xstrdup("cpus");
	ev->u.wconn.cfg.res.pools[0].kind = HQ_POOL_SUM;
	ev->u.wconn.cfg.res.pools[0].size = 64 * HQ_AMOUNT_ONE;
}

static void
ev_submit(struct hq_event *ev, uint32_t job, uint32_t count, int32_t crash)
{
	struct hq_submit *s;

	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_JOB_SUBMITTED;
	ev->time_ms = 1000;
	ev->u.submitted.job_id = job;
	ev->u.submitted.new_job = true;
	ev->u.submitted.name = hq_xprintf("job%u", job);
	s = &ev->u.submitted.submit;
	s->ndescs = 1;
	s->descs = hq_xcalloc(1, sizeof *s->descs);
	s->descs[0].argc = 1;
	s->descs[0].argv = hq_xcalloc(2, sizeof(char *));
	s->descs[0].argv[0] = hq_xstrdup("/bin/true");
	s->descs[0].crash_limit = crash;
	hq_res_request_default(&s->descs[0].req);
	hq_idset_add_range(&s->ids, 0, count, 1);
	s->submit_dir = hq_xstrdup("/home/u");
}

static void
ev_run(struct hq_event *ev, enum hq_run_kind kind, uint32_t job,
    uint32_t worker_id, uint32_t first, uint32_t n)
{
	uint32_t i;

	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_TASK_RUN;
	ev->time_ms = 2000;
	ev->u.run.kind = kind;
	ev->u.run.job = job;
	ev->u.run.worker = worker_id;
	ev->u.run.n = ev->u.run.cap = n;
	ev->u.run.tasks = hq_xcalloc(n, sizeof *ev->u.run.tasks);
	for (i = 0; i < n; i++)
		ev->u.run.tasks[i] = first + i;
}

static void
ev_lost(struct hq_event *ev, uint32_t id, enum hq_worker_lost_reason r)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_WORKER_LOST;
	ev->time_ms = 3000;
	ev->u.wlost.worker_id = id;
	ev->u.wlost.reason = r;
}

static void
same_as_state(const struct hq_state *st, const struct hq_dashmodel *m)
{
	uint32_t i, k, njobs = 0, nworkers = 0;

	for (i = 1; i < st->jobs_cap; i++) {
		const struct hq_job *sj = st->jobs[i];
		const struct hq_dash_job *j;

		if (sj == NULL)
			continue;
		njobs++;
		j = hq_dashmodel_job(m, sj->id);
		assert_non_null(j);
		assert_string_equal(j->name, sj->name);
		assert_int_equal(j->ntasks, sj->ntasks);
		for (k = 0; k < HQ_DASH_NSTATES; k++)
			if (j->counts[k] != sj->counts[k])
				fail_msg("job %u: %u tasks %s, the state has "
					 "%u",
				    sj->id, j->counts[k], hq_task_state_name(k),
				    sj->counts[k]);
		assert_int_equal(hq_dash_job_state(j), hq_job_state(sj));
	}
	assert_int_equal(m->njobs, njobs);
	for (i = 1; i < st->workers_cap; i++) {
		const struct hq_sworker *sw = st->workers[i];
		const struct hq_dash_worker *w;

		if (sw == NULL)
			continue;
		nworkers++;
		w = hq_dashmodel_worker(m, sw->id);
		assert_non_null(w);
		assert_string_equal(w->hostname, sw->cfg.hostname);
		assert_int_equal(w->online, sw->online);
		assert_int_equal(w->nrunning, sw->online ? sw->nrunning : 0);
		assert_int_equal(w->nrunning + w->nassigned,
		    sw->online ? sw->ninflight : 0);
	}
	assert_int_equal(m->nworkers, nworkers);
}

static void
test_dashmodel_matches_state(void **state)
{
	struct hq_state *st = hq_state_create();
	struct hq_dashmodel *m = hq_dashmodel_create(50);
	struct hq_event ev;
	static const uint32_t ids[] = { 3 };

	(void)state;
	seq_next = 0;
	ev_worker(&ev, 1);
	both(st, m, &ev);
	ev_worker(&ev, 2);
	both(st, m, &ev);
	ev_submit(&ev, 1, 10, HQ_CRASH_DEFAULT);
	both(st, m, &ev);
	ev_submit(&ev, 2, 3, HQ_CRASH_NEVER_RESTART);
	both(st, m, &ev);
	ev_submit(&ev, 3, 4, 1);
	both(st, m, &ev);
	same_as_state(st, m);

	ev_run(&ev, HQ_RUN_ASSIGNED, 1, 1, 0, 4);
	both(st, m, &ev);
	ev_run(&ev, HQ_RUN_ASSIGNED, 1, 2, 4, 4);
	both(st, m, &ev);
	ev_run(&ev, HQ_RUN_STARTED, 1, 1, 0, 3);
	both(st, m, &ev);
	ev_run(&ev, HQ_RUN_STARTED, 1, 2, 4, 2);
	both(st, m, &ev);
	same_as_state(st, m);
	ev_run(&ev, HQ_RUN_FINISHED, 1, 1, 0, 2);
	both(st, m, &ev);
	ev_run(&ev, HQ_RUN_FINISHED, 1, 1, 3, 1); /* from assigned */
	both(st, m, &ev);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_FAILED;
	ev.time_ms = 2500;
	ev.u.failed.job = 1;
	ev.u.failed.task = 2;
	ev.u.failed.error = hq_xstrdup("boom");
	both(st, m, &ev);
	same_as_state(st, m);

	ev_run(&ev, HQ_RUN_ASSIGNED, 2, 1, 0, 3);
	both(st, m, &ev);
	ev_run(&ev, HQ_RUN_STARTED, 2, 1, 0, 2);
	both(st, m, &ev);
	ev_run(&ev, HQ_RUN_ASSIGNED, 3, 1, 0, 2);
	both(st, m, &ev);
	ev_run(&ev, HQ_RUN_STARTED, 3, 1, 0, 1);
	both(st, m, &ev);
	same_as_state(st, m);

	/* Worker 1 is lost with every kind of task on it. */
	ev_lost(&ev, 1, HQ_LOST_HEARTBEAT);
	both(st, m, &ev);
	same_as_state(st, m);

	ev_run(&ev, HQ_RUN_REQUEUED, 1, 2, 4, 1);
	both(st, m, &ev);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOBS_CANCELED;
	ev.time_ms = 4000;
	ev.u.jobs.n = 1;
	ev.u.jobs.ids = hq_xmemdup(ids, sizeof ids);
	both(st, m, &ev);
	same_as_state(st, m);
	ev_lost(&ev, 2, HQ_LOST_STOPPED);
	both(st, m, &ev);
	same_as_state(st, m);
	hq_dashmodel_destroy(m);
	hq_state_destroy(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dashmodel_workers_and_resources),
		cmocka_unit_test(test_dashmodel_job_lifecycle),
		cmocka_unit_test(test_dashmodel_cancel_and_forget),
		cmocka_unit_test(test_dashmodel_max_fails_aborts_rest),
		cmocka_unit_test(test_dashmodel_worker_lost_requeues_or_fails),
		cmocka_unit_test(test_dashmodel_open_job),
		cmocka_unit_test(test_dashmodel_multinode),
		cmocka_unit_test(test_dashmodel_autoalloc),
		cmocka_unit_test(test_dashmodel_malformed_lines),
		cmocka_unit_test(test_dashmodel_ring_keeps_last),
		cmocka_unit_test(test_dashmodel_seed),
		cmocka_unit_test(test_dashmodel_matches_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
