/* SPDX-License-Identifier: MIT */
/*
 * Snapshots: restore(snapshot(st)) snapshots to the same bytes, and a
 * restored state evolves exactly like the original under the same events.
 * Damaged snapshots are refused, never crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "server/sched.h"
#include "server/snapshot.h"
#include "server/state.h"

static uint64_t rng = 88172645463325252ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static uint64_t now_ms = 1700000000000ULL;

/* Apply to every state in sts; all must accept or reject alike. */
static void
apply_all(struct hq_state **sts, int n, const struct hq_event *ev)
{
	int i, rc0 = 0;

	for (i = 0; i < n; i++) {
		struct hq_errbuf eb;
		int rc = hq_state_apply(sts[i], ev, &eb);

		if (i == 0)
			rc0 = rc;
		assert_int_equal(rc, rc0);
	}
}

static void
ev_worker(struct hq_state **sts, int n, uint32_t id, const char *cpus)
{
	struct hq_event ev;
	struct hq_res_pool *pool;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = now_ms++;
	ev.u.wconn.worker_id = id;
	ev.u.wconn.cfg.hostname = (char *)"node";
	ev.u.wconn.cfg.group = (char *)"default";
	ev.u.wconn.cfg.res.n = 1;
	ev.u.wconn.cfg.res.pools = pool = calloc(1, sizeof *pool);
	pool->name = (char *)"cpus";
	pool->kind = HQ_POOL_RANGE;
	pool->nlabels = (uint32_t)atoi(cpus);
	pool->labels = calloc(pool->nlabels, sizeof *pool->labels);
	for (uint32_t i = 0; i < pool->nlabels; i++)
		pool->labels[i] = (char *)"0";
	apply_all(sts, n, &ev);
	free(pool->labels);
	free(pool);
}

static void
ev_submit(struct hq_state **sts, int n, uint32_t job, uint32_t ntasks,
    uint32_t cpus, int32_t prio, bool graph)
{
	struct hq_event ev;
	struct hq_submit *s;
	struct hq_task_desc *d;
	char *argv[] = { (char *)"true", NULL };
	uint32_t i;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = now_ms++;
	ev.u.submitted.job_id = job;
	ev.u.submitted.new_job = true;
	ev.u.submitted.name = (char *)"j";
	ev.u.submitted.has_max_fails = rnd(3) == 0;
	ev.u.submitted.max_fails = 2;
	s = &ev.u.submitted.submit;
	s->graph = graph;
	s->ndescs = 1;
	s->descs = d = calloc(1, sizeof *d);
	d->argv = argv;
	d->argc = 1;
	d->priority = prio;
	d->crash_limit = (int32_t)rnd(3);
	hq_res_request_default(&d->req);
	d->req.v[0].e[0].amount = cpus * HQ_AMOUNT_ONE;
	if (cpus == 0) {
		/* A multi-node task of two whole workers. */
		free(d->req.v[0].e[0].name);
		d->req.v[0].n = 0;
		d->req.v[0].n_nodes = 2;
		graph = false;
		s->graph = false;
	}
	s->submit_dir = (char *)"/tmp";
	if (!graph) {
		hq_idset_add_range(&s->ids, rnd(5), ntasks, 1);
	} else {
		s->ntasks = ntasks;
		s->tasks = calloc(ntasks, sizeof *s->tasks);
		for (i = 0; i < ntasks; i++) {
			s->tasks[i].id = i + 1;
			if (i > 0 && rnd(2)) {
				s->tasks[i].ndeps = 1;
				s->tasks[i].deps = malloc(sizeof(uint32_t));
				s->tasks[i].deps[0] = 1 + rnd(i);
			}
		}
	}
	apply_all(sts, n, &ev);
	for (i = 0; i < s->ntasks; i++)
		free(s->tasks[i].deps);
	free(s->tasks);
	hq_res_request_fini(&d->req);
	free(d);
	hq_idset_fini(&s->ids);
}

static void
ev_run(struct hq_state **sts, int n, enum hq_run_kind kind, uint32_t job,
    uint32_t worker, uint32_t task)
{
	struct hq_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.time_ms = now_ms++;
	ev.u.run.kind = kind;
	ev.u.run.job = job;
	ev.u.run.worker = worker;
	ev.u.run.n = 1;
	ev.u.run.tasks = &task;
	apply_all(sts, n, &ev);
}

static void
snap_equal(struct hq_state *a, struct hq_state *b)
{
	struct hq_buf x, y;

	hq_buf_init(&x);
	hq_buf_init(&y);
	hq_state_snapshot(a, &x);
	hq_state_snapshot(b, &y);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.data, y.data, x.len);
	hq_buf_fini(&x);
	hq_buf_fini(&y);
}

static struct hq_state *
roundtrip(struct hq_state *st)
{
	struct hq_state *copy = NULL;
	struct hq_errbuf eb;
	struct hq_buf b;

	hq_buf_init(&b);
	hq_state_snapshot(st, &b);
	if (hq_state_restore(b.data, b.len, &copy, &eb) != 0)
		fail_msg("restore failed: %s", eb.msg);
	hq_buf_fini(&b);
	snap_equal(st, copy);
	return copy;
}

/* One random step on all states (driven by the first one's view). */
static void
step(struct hq_state **sts, int n, uint32_t *next_job, uint32_t *next_worker)
{
	struct hq_state *st = sts[0];
	uint32_t r = rnd(100), i;

	if (r < 8) {
		/* cpus 0 means a multi-node task (two whole workers). */
		ev_submit(sts, n, (*next_job)++, 1 + rnd(50), rnd(3),
		    (int32_t)rnd(3), rnd(3) == 0);
	} else if (r < 10) {
		char cpus[8];

		snprintf(cpus, sizeof cpus, "%u", 1 + rnd(4));
		ev_worker(sts, n, (*next_worker)++, cpus);
	} else if (r < 40) {
		struct hq_plan plan = { 0 };
		struct hq_sched_opts o = { 2 };

		hq_sched_plan(st, now_ms, &o, &plan);
		for (i = 0; i < plan.n; i++) {
			uint32_t tid = hq_state_job(st, plan.a[i].job)
					   ->tasks[plan.a[i].idx]
					   .id;

			if (plan.a[i].nnodes > 0) {
				struct hq_event ev;

				memset(&ev, 0, sizeof ev);
				ev.kind = HQ_EV_TASK_RUN;
				ev.time_ms = now_ms++;
				ev.u.run.kind = HQ_RUN_ASSIGNED;
				ev.u.run.job = plan.a[i].job;
				ev.u.run.worker = plan.a[i].worker;
				ev.u.run.n = 1;
				ev.u.run.tasks = &tid;
				ev.u.run.nnodes = plan.a[i].nnodes;
				ev.u.run.nodes = plan.nodes + plan.a[i].nodes;
				apply_all(sts, n, &ev);
			} else {
				ev_run(sts, n, HQ_RUN_ASSIGNED, plan.a[i].job,
				    plan.a[i].worker, tid);
			}
		}
		hq_plan_fini(&plan);
	} else {
		/* Act on a random in-flight task of a random online worker. */
		uint32_t wid = 1 +
		    rnd(st->next_worker_id > 1 ? st->next_worker_id - 1 : 1);
		struct hq_sworker *w = hq_state_worker(st, wid);
		struct hq_inflight f;
		struct hq_job *job;
		struct hq_task *t;

		if (w == NULL || !w->online)
			return;
		if (r > 97) {
			struct hq_event ev;

			memset(&ev, 0, sizeof ev);
			ev.kind = HQ_EV_WORKER_LOST;
			ev.time_ms = now_ms++;
			ev.u.wlost.worker_id = wid;
			ev.u.wlost.reason =
			    (enum hq_worker_lost_reason)(1 + rnd(5));
			apply_all(sts, n, &ev);
			return;
		}
		if (w->ninflight == 0)
			return;
		f = w->inflight[rnd(w->ninflight)];
		job = hq_state_job(st, f.job);
		t = &job->tasks[f.idx];
		if (t->state == HQ_TASK_WAITING && rnd(2)) {
			ev_run(sts, n, HQ_RUN_STARTED, f.job, wid, t->id);
		} else if (r < 90) {
			ev_run(sts, n, HQ_RUN_FINISHED, f.job, wid, t->id);
		} else if (r < 95) {
			struct hq_event ev;

			memset(&ev, 0, sizeof ev);
			ev.kind = HQ_EV_TASK_FAILED;
			ev.time_ms = now_ms++;
			ev.u.failed.job = f.job;
			ev.u.failed.task = t->id;
			ev.u.failed.error = (char *)"boom";
			apply_all(sts, n, &ev);
		} else {
			struct hq_event ev;
			uint32_t id = f.job;

			memset(&ev, 0, sizeof ev);
			ev.kind = HQ_EV_JOBS_CANCELED;
			ev.time_ms = now_ms++;
			ev.u.jobs.n = 1;
			ev.u.jobs.ids = &id;
			ev.u.jobs.reason = (char *)"test";
			apply_all(sts, n, &ev);
		}
	}
}

static void
test_snapshot_roundtrip_and_evolution(void **unused)
{
	struct hq_state *sts[2];
	uint32_t next_job = 1, next_worker = 1, round;

	(void)unused;
	sts[0] = hq_state_create();
	ev_worker(sts, 1, next_worker++, "2");
	for (round = 0; round < 60; round++) {
		uint32_t k;

		for (k = 0; k < 40; k++)
			step(sts, 1, &next_job, &next_worker);
		/* Fork a restored copy; both must evolve identically. */
		sts[1] = roundtrip(sts[0]);
		for (k = 0; k < 40; k++)
			step(sts, 2, &next_job, &next_worker);
		snap_equal(sts[0], sts[1]);
		hq_state_destroy(sts[1]);
	}
	{
		/* The run must have covered multi-node tasks too. */
		uint32_t j, nmn = 0;

		for (j = 1; j < sts[0]->next_job_id; j++) {
			struct hq_job *job = hq_state_job(sts[0], j);

			nmn += job != NULL ? job->nmn : 0;
		}
		print_message("  multi-node tasks assigned: %u\n", nmn);
		assert_true(nmn > 0);
	}
	hq_state_destroy(sts[0]);
}

static void
test_snapshot_empty_state(void **unused)
{
	struct hq_state *st = hq_state_create(), *copy;

	(void)unused;
	copy = roundtrip(st);
	hq_state_destroy(copy);
	hq_state_destroy(st);
}

static void
test_snapshot_large_array_is_small(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct hq_state *sts[1] = { st };
	struct hq_buf b;

	(void)unused;
	ev_submit(sts, 1, 1, 1000000, 1, 0, false);
	hq_buf_init(&b);
	hq_state_snapshot(st, &b);
	/* Run-length columns: a fresh array is a handful of runs. */
	assert_true(b.len < 1024);
	print_message("  snapshot of a 1,000,000-task array: %zu bytes\n",
	    b.len);
	hq_buf_fini(&b);
	hq_state_destroy(st);
}

static void
test_snapshot_damaged_refused(void **unused)
{
	struct hq_state *sts[1], *out;
	uint32_t next_job = 1, next_worker = 1, i;
	struct hq_errbuf eb;
	struct hq_buf b;

	(void)unused;
	sts[0] = hq_state_create();
	ev_worker(sts, 1, next_worker++, "4");
	for (i = 0; i < 300; i++)
		step(sts, 1, &next_job, &next_worker);
	hq_buf_init(&b);
	hq_state_snapshot(sts[0], &b);
	/* Every truncation is refused. */
	for (i = 0; i < b.len; i += 1 + b.len / 500) {
		out = NULL;
		assert_int_not_equal(hq_state_restore(b.data, i, &out, &eb), 0);
		assert_null(out);
	}
	/* Flipped bytes: refused or, if still well-formed, restorable and
	 * destroyable; never a crash (ASan checks the rest). */
	for (i = 0; i < 2000; i++) {
		uint8_t *copy = malloc(b.len);

		memcpy(copy, b.data, b.len);
		copy[rnd((uint32_t)b.len)] ^= (uint8_t)(1 + rnd(255));
		out = NULL;
		if (hq_state_restore(copy, b.len, &out, &eb) == 0)
			hq_state_destroy(out);
		free(copy);
	}
	hq_buf_fini(&b);
	hq_state_destroy(sts[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_empty_state),
		cmocka_unit_test(test_snapshot_roundtrip_and_evolution),
		cmocka_unit_test(test_snapshot_large_array_is_small),
		cmocka_unit_test(test_snapshot_damaged_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
