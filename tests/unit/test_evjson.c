/* SPDX-License-Identifier: MIT */
/*
 * Journal events as NDJSON (spec 3.4): the exact line of every event kind,
 * one line per task or job for list events, instances from the state.
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

#include "common/buf.h"
#include "common/event.h"
#include "common/evjson.h"
#include "common/model.h"
#include "common/util.h"
#include "common/wire.h"
#include "server/state.h"

/* 2026-11-25T17:00:00.123Z */
#define T0     1795626000123ull
#define T0_STR "\"2026-11-25T17:00:00.123000000Z\""

static char *
dump(json_t *o)
{
	char *s;

	assert_non_null(o);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(s);
	json_decref(o);
	return s;
}

/* Line 'line' of 'ev' must be exactly 'want'. */
static void
check_line(const struct hq_event *ev, uint64_t seq, const struct hq_state *st,
    uint32_t line, const char *want)
{
	char *s = dump(hq_event_to_json(ev, seq, st, line));

	assert_string_equal(s, want);
	free(s);
}

/* Everything hq_events_to_ndjson() writes for 'ev'. */
static char *
ndjson(const struct hq_event *ev, uint64_t seq, const struct hq_state *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(hq_events_to_ndjson(ev, seq, st, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
ev_run(struct hq_event *ev, enum hq_run_kind kind, uint32_t job,
    uint32_t worker, const uint32_t *tasks, uint32_t n)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_TASK_RUN;
	ev->time_ms = T0;
	ev->u.run.kind = kind;
	ev->u.run.job = job;
	ev->u.run.worker = worker;
	ev->u.run.n = ev->u.run.cap = n;
	ev->u.run.tasks = hq_xmemdup(tasks, n * sizeof *tasks);
}

static void
ev_jobs(struct hq_event *ev, enum hq_event_kind kind, const uint32_t *ids,
    uint32_t n, const char *reason)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = kind;
	ev->time_ms = T0;
	ev->u.jobs.n = n;
	ev->u.jobs.ids = hq_xmemdup(ids, n * sizeof *ids);
	ev->u.jobs.reason = reason ? hq_xstrdup(reason) : NULL;
}

/* An array submit of ids 'start'..'start'+count-1, cpus=1 compact. */
static void
ev_submit(struct hq_event *ev, uint32_t job, bool new_job, uint32_t start,
    uint32_t count)
{
	struct hq_submit *s;

	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_JOB_SUBMITTED;
	ev->time_ms = T0;
	ev->u.submitted.job_id = job;
	ev->u.submitted.new_job = new_job;
	ev->u.submitted.name = new_job ? hq_xstrdup("sim") : NULL;
	s = &ev->u.submitted.submit;
	s->ndescs = 1;
	s->descs = hq_xcalloc(1, sizeof *s->descs);
	s->descs[0].argc = 1;
	s->descs[0].argv = hq_xcalloc(2, sizeof(char *));
	s->descs[0].argv[0] = hq_xstrdup("/bin/true");
	s->descs[0].crash_limit = HQ_CRASH_DEFAULT;
	hq_res_request_default(&s->descs[0].req);
	hq_idset_add_range(&s->ids, start, count, 1);
	s->submit_dir = hq_xstrdup("/home/u");
}

static void
ev_worker(struct hq_event *ev, uint32_t id, const char *config_json)
{
	struct hq_worker_config *c = &ev->u.wconn.cfg;

	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_WORKER_CONNECTED;
	ev->time_ms = T0;
	ev->u.wconn.worker_id = id;
	c->hostname = hq_xstrdup("node1");
	c->group = hq_xstrdup("default");
	c->work_dir = hq_xstrdup("/tmp/w");
	c->heartbeat_ms = 8000;
	c->pid = 77;
	c->config_json = config_json ? hq_xstrdup(config_json) : NULL;
}

static void
apply_ok(struct hq_state *st, const struct hq_event *ev)
{
	struct hq_errbuf eb = { { 0 } };

	if (hq_state_apply(st, ev, &eb) != 0)
		fail_msg("apply: %s", eb.msg);
}

static void
test_evjson_server_start_stop(void **state)
{
	struct hq_event ev = { 0 };

	(void)state;
	ev.kind = HQ_EV_SERVER_STARTED;
	ev.time_ms = T0;
	ev.u.started.server_uid = hq_xstrdup("aB3xYz");
	ev.u.started.pid = 42;
	ev.u.started.host = hq_xstrdup("login1");
	assert_int_equal(hq_event_json_nlines(&ev), 1);
	check_line(&ev, 1, NULL, 0,
	    "{\"seq\":1,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"server-start\",\"server_uid\":\"aB3xYz\"}}");
	assert_null(hq_event_to_json(&ev, 1, NULL, 1));
	hq_event_fini(&ev);

	ev.kind = HQ_EV_SERVER_STOPPED;
	ev.time_ms = 0;
	check_line(&ev, 7, NULL, 0,
	    "{\"seq\":7,\"time\":\"1970-01-01T00:00:00.000000000Z\","
	    "\"event\":{\"type\":\"server-stop\"}}");
}

static void
test_evjson_job_created_array(void **state)
{
	struct hq_event ev;
	struct hq_task_desc *d;

	(void)state;
	ev_submit(&ev, 3, true, 0, 10);
	ev.u.submitted.has_max_fails = true;
	ev.u.submitted.max_fails = 2;
	ev.u.submitted.submit.stream_dir = hq_xstrdup("/scratch/s");
	hq_idset_add_range(&ev.u.submitted.submit.ids, 100, 3, 5);
	check_line(&ev, 5, NULL, 0,
	    "{\"seq\":5,\"time\":" T0_STR
	    ",\"event\":{\"type\":\"job-created\","
	    "\"job\":3,\"closed_job\":true,"
	    "\"job_desc\":{\"name\":\"sim\",\"max_fails\":2},"
	    "\"submit_desc\":{\"submit_dir\":\"/home/u\","
	    "\"stream_path\":\"/scratch/s\",\"task_desc\":{"
	    "\"ids\":{\"ranges\":[{\"start\":0,\"count\":10,\"step\":1},"
	    "{\"start\":100,\"count\":3,\"step\":5}]},"
	    "\"resources\":{\"variants\":[{\"n_nodes\":0,\"resources\":"
	    "[{\"resource\":\"cpus\",\"policy\":{\"Compact\":10000}}],"
	    "\"min_time\":{\"secs\":0,\"nanos\":0},\"weight\":10000}]},"
	    "\"time_limit\":null,\"priority\":0,"
	    "\"crash_limit\":{\"MaxCrashes\":5}}}}}");

	/* Limits, priority, every policy and a second variant. */
	d = &ev.u.submitted.submit.descs[0];
	d->time_limit_ms = 90500;
	d->priority = -3;
	d->crash_limit = HQ_CRASH_NEVER_RESTART;
	hq_res_request_fini(&d->req);
	d->req.n = 2;
	d->req.v = hq_xcalloc(2, sizeof *d->req.v);
	d->req.v[0].weight = 5000;
	d->req.v[0].min_time_ms = 1500;
	d->req.v[0].n = 3;
	d->req.v[0].e = hq_xcalloc(3, sizeof *d->req.v[0].e);
	d->req.v[0].e[0].name = hq_xstrdup("cpus");
	d->req.v[0].e[0].amount = 25000;
	d->req.v[0].e[0].policy = HQ_POLICY_FORCE_TIGHT;
	d->req.v[0].e[1].name = hq_xstrdup("gpus");
	d->req.v[0].e[1].policy = HQ_POLICY_ALL;
	d->req.v[0].e[2].name = hq_xstrdup("mem");
	d->req.v[0].e[2].amount = 5;
	d->req.v[0].e[2].policy = HQ_POLICY_SCATTER;
	d->req.v[1].n_nodes = 2;
	d->req.v[1].weight = 10000;
	free(ev.u.submitted.name);
	ev.u.submitted.name = NULL;
	ev.u.submitted.has_max_fails = false;
	free(ev.u.submitted.submit.stream_dir);
	ev.u.submitted.submit.stream_dir = NULL;
	hq_idset_fini(&ev.u.submitted.submit.ids);
	check_line(&ev, 6, NULL, 0,
	    "{\"seq\":6,\"time\":" T0_STR
	    ",\"event\":{\"type\":\"job-created\","
	    "\"job\":3,\"closed_job\":true,"
	    "\"job_desc\":{\"name\":\"\",\"max_fails\":null},"
	    "\"submit_desc\":{\"submit_dir\":\"/home/u\","
	    "\"stream_path\":null,\"task_desc\":{"
	    "\"ids\":{\"ranges\":[]},"
	    "\"resources\":{\"variants\":[{\"n_nodes\":0,\"resources\":["
	    "{\"resource\":\"cpus\",\"policy\":{\"ForceTight\":25000}},"
	    "{\"resource\":\"gpus\",\"policy\":\"All\"},"
	    "{\"resource\":\"mem\",\"policy\":{\"Scatter\":5}}],"
	    "\"min_time\":{\"secs\":1,\"nanos\":500000000},\"weight\":5000},"
	    "{\"n_nodes\":2,\"resources\":[],"
	    "\"min_time\":{\"secs\":0,\"nanos\":0},\"weight\":10000}]},"
	    "\"time_limit\":{\"secs\":90,\"nanos\":500000000},"
	    "\"priority\":-3,\"crash_limit\":\"NeverRestart\"}}}}");
	d->crash_limit = HQ_CRASH_UNLIMITED;
	{
		char *s = dump(hq_event_to_json(&ev, 6, NULL, 0));

		assert_non_null(strstr(s, ",\"crash_limit\":\"Unlimited\"}"));
		free(s);
	}
	hq_event_fini(&ev);
}

static void
test_evjson_job_created_graph(void **state)
{
	struct hq_event ev;
	struct hq_submit *s;

	(void)state;
	ev_submit(&ev, 4, true, 0, 0);
	s = &ev.u.submitted.submit;
	s->graph = true;
	s->ntasks = 2;
	s->tasks = hq_xcalloc(2, sizeof *s->tasks);
	s->tasks[0].id = 1;
	s->tasks[1].id = 2;
	check_line(&ev, 2, NULL, 0,
	    "{\"seq\":2,\"time\":" T0_STR
	    ",\"event\":{\"type\":\"job-created\","
	    "\"job\":4,\"closed_job\":true,"
	    "\"job_desc\":{\"name\":\"sim\",\"max_fails\":null},"
	    "\"submit_desc\":{\"submit_dir\":\"/home/u\","
	    "\"stream_path\":null,\"task_desc\":{\"n_tasks\":2}}}}");
	hq_event_fini(&ev);
}

/* A submit into an open job: closed_job false, description from state. */
static void
test_evjson_job_created_into_open_job(void **state)
{
	struct hq_state *st = hq_state_create();
	struct hq_event ev = { 0 };

	(void)state;
	ev.kind = HQ_EV_JOB_OPENED;
	ev.time_ms = T0;
	ev.u.opened.job_id = 1;
	ev.u.opened.name = hq_xstrdup("open \"one\"");
	ev.u.opened.has_max_fails = true;
	ev.u.opened.max_fails = 0;
	check_line(&ev, 1, NULL, 0,
	    "{\"seq\":1,\"time\":" T0_STR ",\"event\":{\"type\":\"job-open\","
	    "\"job_id\":1,\"name\":\"open \\\"one\\\"\",\"max_fails\":0}}");
	apply_ok(st, &ev);
	hq_event_fini(&ev);

	ev_submit(&ev, 1, false, 0, 2);
	apply_ok(st, &ev);
	check_line(&ev, 2, st, 0,
	    "{\"seq\":2,\"time\":" T0_STR
	    ",\"event\":{\"type\":\"job-created\","
	    "\"job\":1,\"closed_job\":false,"
	    "\"job_desc\":{\"name\":\"open \\\"one\\\"\",\"max_fails\":0},"
	    "\"submit_desc\":{\"submit_dir\":\"/home/u\","
	    "\"stream_path\":null,\"task_desc\":{"
	    "\"ids\":{\"ranges\":[{\"start\":0,\"count\":2,\"step\":1}]},"
	    "\"resources\":{\"variants\":[{\"n_nodes\":0,\"resources\":"
	    "[{\"resource\":\"cpus\",\"policy\":{\"Compact\":10000}}],"
	    "\"min_time\":{\"secs\":0,\"nanos\":0},\"weight\":10000}]},"
	    "\"time_limit\":null,\"priority\":0,"
	    "\"crash_limit\":{\"MaxCrashes\":5}}}}}");
	/* Without the state the event alone tells less. */
	{
		char *s = dump(hq_event_to_json(&ev, 2, NULL, 0));

		assert_non_null(strstr(s,
		    "\"job_desc\":{\"name\":\"\",\"max_fails\":null}"));
		free(s);
	}
	hq_event_fini(&ev);
	hq_state_destroy(st);
}

static void
test_evjson_jobs_one_line_per_job(void **state)
{
	static const uint32_t ids[] = { 4, 9 };
	struct hq_event ev;
	char *text;

	(void)state;
	ev_jobs(&ev, HQ_EV_JOBS_CLOSED, ids, 2, NULL);
	assert_int_equal(hq_event_json_nlines(&ev), 2);
	text = ndjson(&ev, 11, NULL);
	assert_string_equal(text,
	    "{\"seq\":11,\"time\":" T0_STR ",\"event\":{\"type\":\"job-close\","
	    "\"job_id\":4}}\n"
	    "{\"seq\":11,\"time\":" T0_STR ",\"event\":{\"type\":\"job-close\","
	    "\"job_id\":9}}\n");
	free(text);
	hq_event_fini(&ev);

	ev_jobs(&ev, HQ_EV_JOBS_CANCELED, ids, 2, "by user");
	text = ndjson(&ev, 12, NULL);
	assert_string_equal(text,
	    "{\"seq\":12,\"time\":" T0_STR
	    ",\"event\":{\"type\":\"job-cancel\","
	    "\"job_id\":4,\"reason\":\"by user\"}}\n"
	    "{\"seq\":12,\"time\":" T0_STR
	    ",\"event\":{\"type\":\"job-cancel\","
	    "\"job_id\":9,\"reason\":\"by user\"}}\n");
	free(text);
	hq_event_fini(&ev);

	ev_jobs(&ev, HQ_EV_JOBS_CANCELED, ids, 1, NULL);
	check_line(&ev, 13, NULL, 0,
	    "{\"seq\":13,\"time\":" T0_STR
	    ",\"event\":{\"type\":\"job-cancel\","
	    "\"job_id\":4,\"reason\":null}}");
	assert_null(hq_event_to_json(&ev, 13, NULL, 1));
	hq_event_fini(&ev);

	ev_jobs(&ev, HQ_EV_JOBS_FORGOTTEN, ids + 1, 1, NULL);
	check_line(&ev, 14, NULL, 0,
	    "{\"seq\":14,\"time\":" T0_STR
	    ",\"event\":{\"type\":\"job-forget\","
	    "\"job_id\":9}}");
	hq_event_fini(&ev);

	/* An empty list has no line. */
	ev_jobs(&ev, HQ_EV_JOBS_CLOSED, ids, 0, NULL);
	assert_int_equal(hq_event_json_nlines(&ev), 0);
	assert_null(hq_event_to_json(&ev, 15, NULL, 0));
	text = ndjson(&ev, 15, NULL);
	assert_string_equal(text, "");
	free(text);
	hq_event_fini(&ev);
}

static void
test_evjson_task_run_one_line_per_task(void **state)
{
	static const uint32_t tasks[] = { 7, 3, 8 };
	static const struct {
		enum hq_run_kind kind;
		const char *type;
		bool worker;
	} kinds[] = {
		{ HQ_RUN_ASSIGNED, "task-assigned", true },
		{ HQ_RUN_STARTED, "task-started", true },
		{ HQ_RUN_FINISHED, "task-finished", false },
		{ HQ_RUN_REQUEUED, "task-requeued", false },
	};
	struct hq_event ev;
	struct hq_buf want;
	size_t k;
	uint32_t i;
	char *text;

	(void)state;
	for (k = 0; k < HQ_ARRAY_LEN(kinds); k++) {
		ev_run(&ev, kinds[k].kind, 2, 5, tasks, 3);
		assert_int_equal(hq_event_json_nlines(&ev), 3);
		hq_buf_init(&want);
		for (i = 0; i < 3; i++)
			hq_buf_printf(&want,
			    "{\"seq\":9,\"time\":" T0_STR ",\"event\":{"
			    "\"type\":\"%s\",\"job\":2,\"task\":%u%s}}\n",
			    kinds[k].type, tasks[i],
			    kinds[k].worker ? ",\"worker\":5" : "");
		hq_buf_append(&want, "", 1);
		text = ndjson(&ev, 9, NULL);
		assert_string_equal(text, (const char *)want.data);
		free(text);
		hq_buf_fini(&want);
		assert_null(hq_event_to_json(&ev, 9, NULL, 3));
		hq_event_fini(&ev);
	}
	ev_run(&ev, HQ_RUN_STARTED, 2, 5, tasks, 0);
	assert_int_equal(hq_event_json_nlines(&ev), 0);
	hq_event_fini(&ev);
}

/* Instances come from the state after the event: 0, then 1 after a
 * requeue and a new assignment. */
static void
test_evjson_task_started_instance_from_state(void **state)
{
	static const uint32_t two[] = { 1, 2 }, one[] = { 2 };
	struct hq_state *st = hq_state_create();
	struct hq_event ev;
	char *text;

	(void)state;
	ev_worker(&ev, 1, NULL);
	apply_ok(st, &ev);
	hq_event_fini(&ev);
	ev_submit(&ev, 1, true, 0, 4);
	apply_ok(st, &ev);
	hq_event_fini(&ev);

	ev_run(&ev, HQ_RUN_ASSIGNED, 1, 1, two, 2);
	apply_ok(st, &ev);
	check_line(&ev, 3, st, 1,
	    "{\"seq\":3,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-assigned\",\"job\":1,\"task\":2,\"instance\":0,"
	    "\"worker\":1}}");
	hq_event_fini(&ev);

	ev_run(&ev, HQ_RUN_STARTED, 1, 1, two, 2);
	apply_ok(st, &ev);
	text = ndjson(&ev, 4, st);
	assert_string_equal(text,
	    "{\"seq\":4,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-started\",\"job\":1,\"task\":1,\"instance\":0,"
	    "\"worker\":1}}\n"
	    "{\"seq\":4,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-started\",\"job\":1,\"task\":2,\"instance\":0,"
	    "\"worker\":1}}\n");
	free(text);
	hq_event_fini(&ev);

	ev_run(&ev, HQ_RUN_REQUEUED, 1, 1, one, 1);
	apply_ok(st, &ev);
	hq_event_fini(&ev);
	ev_run(&ev, HQ_RUN_ASSIGNED, 1, 1, one, 1);
	apply_ok(st, &ev);
	hq_event_fini(&ev);
	ev_run(&ev, HQ_RUN_STARTED, 1, 1, one, 1);
	apply_ok(st, &ev);
	check_line(&ev, 7, st, 0,
	    "{\"seq\":7,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-started\",\"job\":1,\"task\":2,\"instance\":1,"
	    "\"worker\":1}}");
	/* A task the state does not know: no instance, no crash. */
	ev.u.run.tasks[0] = 99;
	check_line(&ev, 7, st, 0,
	    "{\"seq\":7,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-started\",\"job\":1,\"task\":99,\"worker\":1}}");
	ev.u.run.job = 42;
	check_line(&ev, 7, st, 0,
	    "{\"seq\":7,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-started\",\"job\":42,\"task\":99,\"worker\":1}}");
	hq_event_fini(&ev);
	hq_state_destroy(st);
}

/* "variant" appears only when the task runs in a variant other than 0. */
static void
test_evjson_task_started_variant(void **state)
{
	static const uint32_t one[] = { 0 };
	struct hq_state *st = hq_state_create();
	struct hq_res_request *r;
	struct hq_res_pool *p;
	struct hq_event ev;

	(void)state;
	ev_worker(&ev, 1, NULL);
	ev.u.wconn.cfg.res.n = 1;
	p = ev.u.wconn.cfg.res.pools = hq_xcalloc(1, sizeof *p);
	p->name = hq_xstrdup("cpus");
	p->kind = HQ_POOL_SUM;
	p->size = 4 * HQ_AMOUNT_ONE;
	apply_ok(st, &ev);
	hq_event_fini(&ev);

	ev_submit(&ev, 1, true, 0, 1);
	r = &ev.u.submitted.submit.descs[0].req;
	hq_res_request_fini(r);
	r->n = 2;
	r->v = hq_xcalloc(2, sizeof *r->v);
	r->v[0].n = r->v[1].n = 1;
	r->v[0].e = hq_xcalloc(1, sizeof *r->v[0].e);
	r->v[0].e[0].name = hq_xstrdup("gpus");
	r->v[0].e[0].amount = HQ_AMOUNT_ONE;
	r->v[1].e = hq_xcalloc(1, sizeof *r->v[1].e);
	r->v[1].e[0].name = hq_xstrdup("cpus");
	r->v[1].e[0].amount = HQ_AMOUNT_ONE;
	apply_ok(st, &ev);
	hq_event_fini(&ev);

	/* The server chose variant 1 (cpus): the worker has no gpus. */
	ev_run(&ev, HQ_RUN_ASSIGNED, 1, 1, one, 1);
	ev.u.run.variants = hq_xcalloc(1, sizeof *ev.u.run.variants);
	ev.u.run.variants[0] = 1;
	apply_ok(st, &ev);
	check_line(&ev, 3, st, 0,
	    "{\"seq\":3,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-assigned\",\"job\":1,\"task\":0,\"instance\":0,"
	    "\"worker\":1,\"variant\":1}}");
	hq_event_fini(&ev);
	ev_run(&ev, HQ_RUN_STARTED, 1, 1, one, 1);
	apply_ok(st, &ev);
	check_line(&ev, 4, st, 0,
	    "{\"seq\":4,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-started\",\"job\":1,\"task\":0,\"instance\":0,"
	    "\"worker\":1,\"variant\":1}}");
	hq_event_fini(&ev);
	hq_state_destroy(st);
}

static void
test_evjson_task_failed(void **state)
{
	struct hq_event ev = { 0 };

	(void)state;
	ev.kind = HQ_EV_TASK_FAILED;
	ev.time_ms = T0;
	ev.u.failed.job = 6;
	ev.u.failed.task = 0;
	ev.u.failed.error = hq_xstrdup("Program terminated with exit code 1\n");
	check_line(&ev, 30, NULL, 0,
	    "{\"seq\":30,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-failed\",\"job\":6,\"task\":0,"
	    "\"error\":\"Program terminated with exit code 1\\n\"}}");
	/* Bytes that are not UTF-8 do not lose the line. */
	free(ev.u.failed.error);
	ev.u.failed.error = hq_xstrdup("bad \xff byte");
	check_line(&ev, 30, NULL, 0,
	    "{\"seq\":30,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-failed\",\"job\":6,\"task\":0,"
	    "\"error\":\"bad ? byte\"}}");
	free(ev.u.failed.error);
	ev.u.failed.error = NULL;
	check_line(&ev, 30, NULL, 0,
	    "{\"seq\":30,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-failed\",\"job\":6,\"task\":0,\"error\":\"\"}}");
	hq_event_fini(&ev);
}

static void
test_evjson_worker_connected(void **state)
{
	struct hq_event ev;

	(void)state;
	ev_worker(&ev, 3,
	    "{\"hostname\":\"node1\",\"heartbeat_interval\":8.0,"
	    "\"resources\":{\"resources\":[]}}");
	check_line(&ev, 2, NULL, 0,
	    "{\"seq\":2,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"worker-connected\",\"id\":3,\"configuration\":{"
	    "\"hostname\":\"node1\",\"heartbeat_interval\":8.0,"
	    "\"resources\":{\"resources\":[]}}}}");
	hq_event_fini(&ev);

	/* No (or no valid) display form: rebuilt from the fields. */
	ev_worker(&ev, 4, "not json");
	check_line(&ev, 3, NULL, 0,
	    "{\"seq\":3,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"worker-connected\",\"id\":4,\"configuration\":{"
	    "\"hostname\":\"node1\",\"group\":\"default\","
	    "\"work_dir\":\"/tmp/w\","
	    "\"heartbeat_interval\":{\"secs\":8,\"nanos\":0},"
	    "\"idle_timeout\":null,\"time_limit\":null,\"_pid\":77}}}");
	hq_event_fini(&ev);
	ev_worker(&ev, 4, NULL);
	ev.u.wconn.cfg.time_limit_ms = 3600000;
	check_line(&ev, 3, NULL, 0,
	    "{\"seq\":3,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"worker-connected\",\"id\":4,\"configuration\":{"
	    "\"hostname\":\"node1\",\"group\":\"default\","
	    "\"work_dir\":\"/tmp/w\","
	    "\"heartbeat_interval\":{\"secs\":8,\"nanos\":0},"
	    "\"idle_timeout\":null,"
	    "\"time_limit\":{\"secs\":3600,\"nanos\":0},\"_pid\":77}}}");
	hq_event_fini(&ev);
}

static void
test_evjson_worker_lost(void **state)
{
	static const struct {
		enum hq_worker_lost_reason r;
		const char *name;
	} reasons[] = {
		{ HQ_LOST_STOPPED, "Stopped" },
		{ HQ_LOST_CONNECTION, "ConnectionLost" },
		{ HQ_LOST_HEARTBEAT, "HeartbeatLost" },
		{ HQ_LOST_IDLE_TIMEOUT, "IdleTimeout" },
		{ HQ_LOST_TIME_LIMIT, "TimeLimitReached" },
	};
	struct hq_event ev = { 0 };
	char want[256];
	size_t i;

	(void)state;
	ev.kind = HQ_EV_WORKER_LOST;
	ev.time_ms = T0;
	ev.u.wlost.worker_id = 8;
	for (i = 0; i < HQ_ARRAY_LEN(reasons); i++) {
		ev.u.wlost.reason = reasons[i].r;
		snprintf(want, sizeof want,
		    "{\"seq\":40,\"time\":" T0_STR ",\"event\":{\"type\":"
		    "\"worker-lost\",\"id\":8,\"reason\":\"%s\"}}",
		    reasons[i].name);
		check_line(&ev, 40, NULL, 0, want);
	}
}

/* What the journal gives back (wire round trip) converts the same way. */
static void
test_evjson_decoded_events(void **state)
{
	static const uint32_t tasks[] = { 0, 1 };
	struct hq_event ev, back;
	struct hq_errbuf eb = { { 0 } };
	struct hq_buf b;
	char *a, *c;

	(void)state;
	ev_submit(&ev, 1, true, 0, 2);
	hq_buf_init(&b);
	assert_int_equal(hq_wire_encode_event(&ev, &b), 0);
	assert_int_equal(hq_wire_decode_event(b.data, b.len, &back, &eb), 0);
	a = dump(hq_event_to_json(&ev, 1, NULL, 0));
	c = dump(hq_event_to_json(&back, 1, NULL, 0));
	assert_string_equal(a, c);
	free(a);
	free(c);
	hq_event_fini(&back);
	hq_event_fini(&ev);
	hq_buf_fini(&b);

	ev_run(&ev, HQ_RUN_FINISHED, 1, 2, tasks, 2);
	hq_buf_init(&b);
	assert_int_equal(hq_wire_encode_event(&ev, &b), 0);
	assert_int_equal(hq_wire_decode_event(b.data, b.len, &back, &eb), 0);
	a = ndjson(&back, 3, NULL);
	assert_string_equal(a,
	    "{\"seq\":3,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-finished\",\"job\":1,\"task\":0}}\n"
	    "{\"seq\":3,\"time\":" T0_STR ",\"event\":{\"type\":"
	    "\"task-finished\",\"job\":1,\"task\":1}}\n");
	free(a);
	hq_event_fini(&back);
	hq_event_fini(&ev);
	hq_buf_fini(&b);
}

static void
test_evjson_ndjson_write_error(void **state)
{
	struct hq_event ev = { 0 };
	FILE *f;

	(void)state;
	ev.kind = HQ_EV_SERVER_STOPPED;
	ev.time_ms = T0;
	f = fopen("/dev/null", "r");
	assert_non_null(f);
	assert_true(hq_events_to_ndjson(&ev, 1, NULL, f) < 0);
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evjson_server_start_stop),
		cmocka_unit_test(test_evjson_job_created_array),
		cmocka_unit_test(test_evjson_job_created_graph),
		cmocka_unit_test(test_evjson_job_created_into_open_job),
		cmocka_unit_test(test_evjson_jobs_one_line_per_job),
		cmocka_unit_test(test_evjson_task_run_one_line_per_task),
		cmocka_unit_test(test_evjson_task_started_instance_from_state),
		cmocka_unit_test(test_evjson_task_started_variant),
		cmocka_unit_test(test_evjson_task_failed),
		cmocka_unit_test(test_evjson_worker_connected),
		cmocka_unit_test(test_evjson_worker_lost),
		cmocka_unit_test(test_evjson_decoded_events),
		cmocka_unit_test(test_evjson_ndjson_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
