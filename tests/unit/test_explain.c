/* SPDX-License-Identifier: MIT */
/*
 * hq_explain_task (src/server/explain.c): the items per worker and
 * variant, dependency counts, and agreement with the scheduler's own
 * hq_sched_variant_possible() on what can run where.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/event.h"
#include "server/explain.h"
#include "server/sched.h"
#include "server/state.h"

static uint64_t tnow = 1000;

static void
apply(struct hq_state *st, struct hq_event *ev)
{
	struct hq_errbuf eb = { "" };

	ev->time_ms = tnow++;
	if (hq_state_apply(st, ev, &eb) != 0)
		fail_msg("%s: %s", hq_event_kind_name(ev), eb.msg);
	hq_event_fini(ev);
}

static void
pool_range(struct hq_res_pool *p, const char *name, uint32_t n)
{
	uint32_t i;

	p->name = hq_xstrdup(name);
	p->kind = HQ_POOL_RANGE;
	p->nlabels = n;
	p->labels = hq_xcalloc(n, sizeof *p->labels);
	for (i = 0; i < n; i++)
		p->labels[i] = hq_xprintf("%u", i);
}

/* Worker 'id' in 'group' with cpus, gpus (0: none), a time limit. */
static void
worker(struct hq_state *st, uint32_t id, const char *group, uint32_t ncpus,
    uint32_t ngpus, uint64_t time_limit_ms)
{
	struct hq_event ev;
	struct hq_worker_config *c = &ev.u.wconn.cfg;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.u.wconn.worker_id = id;
	c->hostname = hq_xprintf("node%u", id);
	c->group = hq_xstrdup(group);
	c->time_limit_ms = time_limit_ms;
	c->started_ms = 0;
	c->res.n = ngpus ? 2 : 1;
	c->res.pools = hq_xcalloc(c->res.n, sizeof *c->res.pools);
	pool_range(&c->res.pools[0], "cpus", ncpus);
	if (ngpus)
		pool_range(&c->res.pools[1], "gpus", ngpus);
	apply(st, &ev);
}

static void
variant(struct hq_res_variant *v, uint64_t cpus, uint64_t gpus,
    uint32_t n_nodes, uint64_t min_time_ms)
{
	v->weight = HQ_AMOUNT_ONE;
	v->n_nodes = n_nodes;
	v->min_time_ms = min_time_ms;
	v->e = hq_xcalloc(2, sizeof *v->e);
	if (cpus) {
		v->e[v->n].name = hq_xstrdup("cpus");
		v->e[v->n++].amount = cpus;
	}
	if (gpus) {
		v->e[v->n].name = hq_xstrdup("gpus");
		v->e[v->n++].amount = gpus;
	}
}

/*
 * Job 1, a graph: task 1 (cpus 1), task 2 depending on 1 with variants
 * (cpus 3) | (gpus 1, time request 5 s), task 3 on 3 nodes.
 */
static void
submit_graph(struct hq_state *st)
{
	struct hq_event ev;
	struct hq_submit *s = &ev.u.submitted.submit;
	uint32_t i;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.u.submitted.job_id = 1;
	ev.u.submitted.new_job = true;
	ev.u.submitted.name = hq_xstrdup("g");
	s->graph = true;
	s->ndescs = s->ntasks = 3;
	s->descs = hq_xcalloc(3, sizeof *s->descs);
	s->tasks = hq_xcalloc(3, sizeof *s->tasks);
	for (i = 0; i < 3; i++) {
		s->descs[i].argc = 1;
		s->descs[i].argv = hq_xcalloc(2, sizeof(char *));
		s->descs[i].argv[0] = hq_xstrdup("true");
		s->descs[i].crash_limit = HQ_CRASH_DEFAULT;
		s->tasks[i].id = i + 1;
		s->tasks[i].desc = i;
	}
	s->descs[0].req.n = 1;
	s->descs[0].req.v = hq_xcalloc(1, sizeof(struct hq_res_variant));
	variant(&s->descs[0].req.v[0], HQ_AMOUNT_ONE, 0, 0, 0);
	s->descs[1].req.n = 2;
	s->descs[1].req.v = hq_xcalloc(2, sizeof(struct hq_res_variant));
	variant(&s->descs[1].req.v[0], 3 * HQ_AMOUNT_ONE, 0, 0, 0);
	variant(&s->descs[1].req.v[1], 0, HQ_AMOUNT_ONE, 0, 5000);
	s->descs[2].req.n = 1;
	s->descs[2].req.v = hq_xcalloc(1, sizeof(struct hq_res_variant));
	variant(&s->descs[2].req.v[0], 0, 0, 3, 0);
	s->tasks[1].ndeps = 1;
	s->tasks[1].deps = hq_xcalloc(1, sizeof(uint32_t));
	s->tasks[1].deps[0] = 1;
	apply(st, &ev);
}

static json_int_t
ji(json_t *o, const char *path)
{
	json_t *v = json_object_get(o, path);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static uint64_t
dur_ms(json_t *d)
{
	return (uint64_t)ji(d, "secs") * 1000 +
	    (uint64_t)ji(d, "nanos") / 1000000;
}

static bool
item_blocks(json_t *item)
{
	json_t *x;

	if ((x = json_object_get(item, "Time")) != NULL)
		return !json_is_null(json_object_get(x, "remaining_time")) &&
		    dur_ms(json_object_get(x, "min_time")) >
		    dur_ms(json_object_get(x, "remaining_time"));
	if ((x = json_object_get(item, "Resources")) != NULL)
		return ji(x, "request_amount") > ji(x, "worker_amount");
	x = json_object_get(item, "WorkerGroup");
	assert_non_null(x);
	return ji(x, "n_nodes") > ji(x, "group_size");
}

/* Items agree with the scheduler for every single-node variant. */
static void
check_agrees_with_sched(const struct hq_state *st, json_t *ex,
    const struct hq_job *job, uint32_t idx, uint64_t now)
{
	json_t *workers =
	    json_object_get(json_object_get(ex, "explanation"), "workers");
	uint32_t rq = job->descs[job->tasks[idx].desc].rq;
	size_t i, v, k;

	for (i = 0; i < json_array_size(workers); i++) {
		json_t *w = json_array_get(workers, i);
		const struct hq_sworker *sw =
		    hq_state_worker(st, (uint32_t)ji(w, "worker_id"));
		json_t *vars = json_object_get(w, "variants");

		assert_int_equal(json_array_size(vars), st->rqs[rq].req.n);
		for (v = 0; v < json_array_size(vars); v++) {
			json_t *items = json_array_get(vars, v);
			bool blocks = false;

			if (st->rqs[rq].req.v[v].n_nodes > 0)
				continue;
			for (k = 0; k < json_array_size(items); k++)
				blocks |= item_blocks(json_array_get(items, k));
			assert_int_equal(blocks,
			    !hq_sched_variant_possible(st, sw, rq, (uint32_t)v,
				now));
		}
	}
}

static void
test_explain_items_per_worker_and_variant(void **state)
{
	struct hq_state *st = hq_state_create();
	struct hq_event ev;
	struct hq_job *job;
	json_t *ex, *workers, *w, *item;

	(void)state;
	worker(st, 1, "default", 4, 0, 0);
	worker(st, 2, "default", 2, 1, 3000); /* ends at 3000 ms */
	worker(st, 3, "other", 8, 0, 0);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_LOST;
	ev.u.wlost.worker_id = 3;
	ev.u.wlost.reason = HQ_LOST_STOPPED;
	apply(st, &ev);
	submit_graph(st);
	job = hq_state_job(st, 1);

	ex = hq_explain_task(st, job, 1, 1000);
	assert_int_equal(ji(json_object_get(ex, "task_id"), "job_id"), 1);
	assert_int_equal(ji(json_object_get(ex, "task_id"), "job_task_id"), 2);
	assert_int_equal(ji(json_object_get(ex, "explanation"), "n_task_deps"),
	    1);
	assert_int_equal(ji(json_object_get(ex, "explanation"),
			     "n_waiting_deps"),
	    1);
	workers =
	    json_object_get(json_object_get(ex, "explanation"), "workers");
	/* Only live workers, by id. */
	assert_int_equal(json_array_size(workers), 2);
	w = json_array_get(workers, 0);
	assert_int_equal(ji(w, "worker_id"), 1);
	/* Variant 0 on worker 1: cpus 3 of 4. */
	item = json_array_get(json_array_get(json_object_get(w, "variants"), 0),
	    0);
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(item,
						    "Resources"),
				    "resource")),
	    "cpus");
	assert_int_equal(ji(json_object_get(item, "Resources"),
			     "request_amount"),
	    30000);
	assert_int_equal(ji(json_object_get(item, "Resources"),
			     "worker_amount"),
	    40000);
	/* Variant 1 on worker 1: time first (no limit: null), gpus 1 of 0. */
	item = json_array_get(json_array_get(json_object_get(w, "variants"), 1),
	    0);
	assert_true(json_is_null(
	    json_object_get(json_object_get(item, "Time"), "remaining_time")));
	assert_int_equal(dur_ms(json_object_get(json_object_get(item, "Time"),
			     "min_time")),
	    5000);
	item = json_array_get(json_array_get(json_object_get(w, "variants"), 1),
	    1);
	assert_int_equal(ji(json_object_get(item, "Resources"),
			     "worker_amount"),
	    0);
	/* Worker 2: 2 s left, so the 5 s time request blocks. */
	w = json_array_get(workers, 1);
	item = json_array_get(json_array_get(json_object_get(w, "variants"), 1),
	    0);
	assert_int_equal(dur_ms(json_object_get(json_object_get(item, "Time"),
			     "remaining_time")),
	    2000);
	assert_true(item_blocks(item));
	check_agrees_with_sched(st, ex, job, 1, 1000);
	json_decref(ex);

	/* The multi-node task: group "default" has 2 live workers. */
	ex = hq_explain_task(st, job, 2, 1000);
	w = json_array_get(json_object_get(json_object_get(ex, "explanation"),
			       "workers"),
	    0);
	item = json_object_get(json_array_get(json_array_get(json_object_get(w,
								 "variants"),
						  0),
				   0),
	    "WorkerGroup");
	assert_int_equal(ji(item, "n_nodes"), 3);
	assert_int_equal(ji(item, "group_size"), 2);
	json_decref(ex);

	/* Once task 1 finished, task 2 waits for no dependency. */
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.u.run.kind = HQ_RUN_ASSIGNED;
	ev.u.run.job = 1;
	ev.u.run.worker = 1;
	ev.u.run.n = 1;
	ev.u.run.tasks = hq_xcalloc(1, sizeof(uint32_t));
	ev.u.run.tasks[0] = 1;
	apply(st, &ev);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.u.run.kind = HQ_RUN_FINISHED;
	ev.u.run.job = 1;
	ev.u.run.worker = 1;
	ev.u.run.n = 1;
	ev.u.run.tasks = hq_xcalloc(1, sizeof(uint32_t));
	ev.u.run.tasks[0] = 1;
	apply(st, &ev);
	ex = hq_explain_task(st, job, 1, 2500);
	assert_int_equal(ji(json_object_get(ex, "explanation"),
			     "n_waiting_deps"),
	    0);
	check_agrees_with_sched(st, ex, job, 1, 2500);
	/* Past the worker's end the remaining time is 0, not negative. */
	json_decref(ex);
	ex = hq_explain_task(st, job, 1, 9000);
	w = json_array_get(json_object_get(json_object_get(ex, "explanation"),
			       "workers"),
	    1);
	item = json_array_get(json_array_get(json_object_get(w, "variants"), 1),
	    0);
	assert_int_equal(dur_ms(json_object_get(json_object_get(item, "Time"),
			     "remaining_time")),
	    0);
	check_agrees_with_sched(st, ex, job, 1, 9000);
	json_decref(ex);
	hq_state_destroy(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain_items_per_worker_and_variant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
