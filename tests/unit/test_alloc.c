/* SPDX-License-Identifier: MIT */
/*
 * Automatic allocation, the pure parts: queues and allocations changed by
 * journal events and by worker connections and losses (alloc_state.c), the
 * decision loop (alloc_plan.c), replay through the journal encoding and
 * the NDJSON form of the events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/event.h"
#include "common/evjson.h"
#include "common/wire.h"
#include "server/alloc_plan.h"
#include "server/alloc_state.h"
#include "server/state.h"

#define ONE HQ_AMOUNT_ONE
#define MIN (60 * 1000ull)

static uint64_t tnow = 1000000; /* time of the next event built */

/* ---- event builders ------------------------------------------------------ */

static int
apply(struct hq_state *st, struct hq_event *ev)
{
	struct hq_errbuf eb = { "" };
	int rc = hq_state_apply(st, ev, &eb);

	hq_event_fini(ev);
	return rc;
}

static void
must(int rc, const char *what)
{
	if (rc != 0)
		fail_msg("%s: rc %d", what, rc);
}

static void
aev(struct hq_event *ev, enum hq_alloc_ev_kind kind, uint32_t queue_id)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = HQ_EV_ALLOC;
	ev->time_ms = tnow++;
	ev->u.alloc.kind = kind;
	ev->u.alloc.queue_id = queue_id;
}

struct qspec {
	uint32_t backlog, mwpa, max_workers;
	uint64_t time_limit_ms;
	const char *cpus;
	const char *resource;
	uint32_t min_util;
	bool pbs; /* default: Slurm */
};

static int
queue(struct hq_state *st, uint32_t id, const struct qspec *q)
{
	struct hq_event ev;
	struct hq_alloc_params *p = &ev.u.alloc.params;

	aev(&ev, HQ_AEV_QUEUE_CREATED, id);
	p->manager = q->pbs ? HQ_MANAGER_PBS : HQ_MANAGER_SLURM;
	p->backlog = q->backlog;
	p->max_workers_per_alloc = q->mwpa;
	p->max_worker_count = q->max_workers;
	p->time_limit_ms = q->time_limit_ms ? q->time_limit_ms : 60 * MIN;
	p->idle_timeout_ms = 5 * MIN;
	if (q->cpus)
		p->cpus = hq_xstrdup(q->cpus);
	if (q->resource) {
		p->nresources = 1;
		p->resources = hq_xcalloc(1, sizeof *p->resources);
		p->resources[0] = hq_xstrdup(q->resource);
	}
	p->min_utilization = q->min_util;
	return apply(st, &ev);
}

static int
alloc_ev(struct hq_state *st, enum hq_alloc_ev_kind kind, uint32_t q,
    const char *id, uint32_t workers, enum hq_alloc_end end)
{
	struct hq_event ev;

	aev(&ev, kind, q);
	ev.u.alloc.allocation_id = id ? hq_xstrdup(id) : NULL;
	ev.u.alloc.worker_count = workers;
	ev.u.alloc.end = end;
	if (kind == HQ_AEV_SUBMITTED)
		ev.u.alloc.workdir = hq_xprintf("/srv/autoalloc/%u/%s", q, id);
	return apply(st, &ev);
}

static int
submitted(struct hq_state *st, uint32_t q, const char *id, uint32_t workers)
{
	return alloc_ev(st, HQ_AEV_SUBMITTED, q, id, workers, 0);
}

static int
submit_failed(struct hq_state *st, uint32_t q)
{
	struct hq_event ev;

	aev(&ev, HQ_AEV_SUBMIT_FAILED, q);
	ev.u.alloc.message = hq_xstrdup("sbatch: error: invalid partition");
	return apply(st, &ev);
}

static void
pool_init(struct hq_res_pool *p, const char *name, uint32_t n)
{
	uint32_t i;

	p->name = hq_xstrdup(name);
	p->kind = HQ_POOL_RANGE;
	p->nlabels = n;
	p->labels = hq_xcalloc(n, sizeof *p->labels);
	for (i = 0; i < n; i++)
		p->labels[i] = hq_xprintf("%u", i);
}

/* Worker 'id' of allocation 'alloc' ("SLURM" unless manager given). */
static int
wconnect(struct hq_state *st, uint32_t id, const char *manager,
    const char *alloc, uint32_t ncpus)
{
	struct hq_event ev;
	struct hq_worker_config *c = &ev.u.wconn.cfg;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = tnow++;
	ev.u.wconn.worker_id = id;
	c->hostname = hq_xprintf("n%u", id);
	c->group = hq_xstrdup(alloc ? alloc : "default");
	c->manager = hq_xstrdup(manager ? manager : "");
	c->allocation_id = hq_xstrdup(alloc ? alloc : "");
	c->res.n = 1;
	c->res.pools = hq_xcalloc(1, sizeof *c->res.pools);
	pool_init(&c->res.pools[0], "cpus", ncpus);
	return apply(st, &ev);
}

static int
wlost(struct hq_state *st, uint32_t id, enum hq_worker_lost_reason r,
    uint64_t after_ms)
{
	struct hq_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_LOST;
	tnow += after_ms;
	ev.time_ms = tnow++;
	ev.u.wlost.worker_id = id;
	ev.u.wlost.reason = r;
	return apply(st, &ev);
}

struct tspec {
	uint32_t n;
	uint64_t cpus; /* 1/10000 units; 0: none */
	const char *other;
	uint64_t other_amount;
	uint64_t min_time_ms;
	uint32_t nodes; /* > 0: multi-node, no entries */
};

static void
job(struct hq_state *st, uint32_t id, const struct tspec *t)
{
	struct hq_event ev;
	struct hq_task_desc *d;
	struct hq_res_variant *v;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = tnow++;
	ev.u.submitted.job_id = id;
	ev.u.submitted.new_job = true;
	ev.u.submitted.submit.ndescs = 1;
	ev.u.submitted.submit.descs = hq_xcalloc(1, sizeof *d);
	d = &ev.u.submitted.submit.descs[0];
	d->argc = 1;
	d->argv = hq_xcalloc(2, sizeof *d->argv);
	d->argv[0] = hq_xstrdup("true");
	d->crash_limit = HQ_CRASH_DEFAULT;
	d->req.n = 1;
	d->req.v = v = hq_xcalloc(1, sizeof *v);
	v->weight = ONE;
	v->min_time_ms = t->min_time_ms;
	v->n_nodes = t->nodes;
	v->e = hq_xcalloc(2, sizeof *v->e);
	if (t->cpus) {
		v->e[v->n].name = hq_xstrdup("cpus");
		v->e[v->n++].amount = t->cpus;
	}
	if (t->other) {
		v->e[v->n].name = hq_xstrdup(t->other);
		v->e[v->n++].amount = t->other_amount;
	}
	hq_idset_add_range(&ev.u.submitted.submit.ids, 0, t->n, 1);
	must(apply(st, &ev), "job");
}

static struct hq_aqueue *
Q(struct hq_state *st, uint32_t id)
{
	struct hq_aqueue *q = hq_alloc_queue(st->alloc, id);

	assert_non_null(q);
	return q;
}

static struct hq_allocation *
A(struct hq_state *st, uint32_t q, const char *id)
{
	struct hq_allocation *a = hq_aqueue_allocation(Q(st, q), id);

	assert_non_null(a);
	return a;
}

/* Run the plan with default tuning and count the actions. */
static uint32_t
plan(struct hq_state *st, uint64_t now, struct hq_alloc_actions *acts)
{
	struct hq_alloc_tuning t;

	hq_alloc_tuning_default(&t);
	hq_alloc_plan(st, now, &t, acts);
	return acts->n;
}

static void
expect_submit(const struct hq_alloc_actions *acts, uint32_t i, uint32_t q,
    uint32_t workers)
{
	assert_true(i < acts->n);
	assert_int_equal(acts->a[i].kind, HQ_AA_SUBMIT);
	assert_int_equal(acts->a[i].queue_id, q);
	assert_int_equal(acts->a[i].workers, workers);
}

/* ---- state --------------------------------------------------------------- */

static void
test_alloc_queue_lifecycle(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 1, .mwpa = 1 };
	struct hq_event ev;

	(void)unused;
	assert_int_equal(st->alloc->next_queue_id, 1);
	must(queue(st, 1, &qs), "queue 1");
	assert_int_equal(queue(st, 1, &qs), HQ_EEXIST);
	must(queue(st, 3, &qs), "queue 3");
	assert_int_equal(st->alloc->next_queue_id, 4);
	qs.backlog = 0;
	assert_int_equal(queue(st, 5, &qs), HQ_EINVAL);
	assert_null(hq_alloc_queue(st->alloc, 5));
	assert_int_equal(queue(st, 0, &qs), HQ_EINVAL);

	aev(&ev, HQ_AEV_QUEUE_PAUSED, 1);
	ev.u.alloc.message = hq_xstrdup("too many failures");
	must(apply(st, &ev), "pause");
	assert_true(Q(st, 1)->paused);
	assert_string_equal(Q(st, 1)->pause_reason, "too many failures");
	must(submit_failed(st, 1), "submit failed");
	assert_int_equal(Q(st, 1)->submit_fails, 1);
	aev(&ev, HQ_AEV_QUEUE_RESUMED, 1);
	must(apply(st, &ev), "resume");
	assert_false(Q(st, 1)->paused);
	assert_null(Q(st, 1)->pause_reason);
	assert_int_equal(Q(st, 1)->submit_fails, 0);

	aev(&ev, HQ_AEV_QUEUE_REMOVED, 1);
	must(apply(st, &ev), "remove");
	assert_null(hq_alloc_queue(st->alloc, 1));
	assert_non_null(hq_alloc_queue(st->alloc, 3));
	aev(&ev, HQ_AEV_QUEUE_REMOVED, 1);
	assert_int_equal(apply(st, &ev), HQ_ENOTFOUND);
	aev(&ev, HQ_AEV_QUEUE_PAUSED, 9);
	assert_int_equal(apply(st, &ev), HQ_ENOTFOUND);
	/* Ids are not reused after a removal. */
	assert_int_equal(st->alloc->next_queue_id, 4);
	hq_state_destroy(st);
}

static void
test_alloc_allocation_lifecycle(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 2, .mwpa = 2 };
	struct hq_allocation *a;
	uint64_t nevents;

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	must(submitted(st, 1, "100", 2), "submitted");
	a = A(st, 1, "100");
	assert_int_equal(a->status, HQ_ALLOC_QUEUED);
	assert_int_equal(a->target, 2);
	assert_string_equal(a->workdir, "/srv/autoalloc/1/100");
	assert_true(a->queued_ms > 0);
	assert_int_equal(hq_allocation_pending(a), 2);
	assert_int_equal(Q(st, 1)->nsubmits, 1);

	/* Rejected events change nothing. */
	nevents = st->nevents;
	assert_int_equal(submitted(st, 1, "100", 2), HQ_EEXIST);
	assert_int_equal(submitted(st, 1, "101", 0), HQ_EINVAL);
	assert_int_equal(submitted(st, 7, "101", 1), HQ_ENOTFOUND);
	assert_int_equal(alloc_ev(st, HQ_AEV_STARTED, 1, "999", 0, 0),
	    HQ_ENOTFOUND);
	assert_int_equal(alloc_ev(st, HQ_AEV_STARTED, 1, NULL, 0, 0),
	    HQ_EINVAL);
	assert_int_equal(st->nevents, nevents);
	assert_int_equal(Q(st, 1)->nallocs, 1);

	must(alloc_ev(st, HQ_AEV_STARTED, 1, "100", 0, 0), "started");
	assert_int_equal(a->status, HQ_ALLOC_RUNNING);
	assert_true(a->started_ms > a->queued_ms);
	assert_int_equal(alloc_ev(st, HQ_AEV_STARTED, 1, "100", 0, 0),
	    HQ_ESTATE);
	must(alloc_ev(st, HQ_AEV_FINISHED, 1, "100", 0, HQ_ALLOC_END_FAILED),
	    "finished");
	assert_int_equal(a->status, HQ_ALLOC_FAILED);
	assert_int_equal(Q(st, 1)->alloc_fails, 1);
	assert_false(hq_allocation_active(a));
	assert_int_equal(hq_allocation_pending(a), 0);
	assert_int_equal(alloc_ev(st, HQ_AEV_FINISHED, 1, "100", 0, 0),
	    HQ_ESTATE);

	/* A queued allocation may end without starting. */
	must(submitted(st, 1, "101", 1), "submitted 101");
	must(alloc_ev(st, HQ_AEV_FINISHED, 1, "101", 0, HQ_ALLOC_END_FINISHED),
	    "finished 101");
	assert_int_equal(A(st, 1, "101")->started_ms, 0);
	assert_int_equal(Q(st, 1)->alloc_fails, 0);
	/* Cancelled by the server: neither failure nor success. */
	must(submitted(st, 1, "102", 1), "submitted 102");
	must(alloc_ev(st, HQ_AEV_FINISHED, 1, "102", 0, HQ_ALLOC_END_FAILED),
	    "failed 102");
	must(submitted(st, 1, "103", 1), "submitted 103");
	must(alloc_ev(st, HQ_AEV_FINISHED, 1, "103", 0, HQ_ALLOC_END_CANCELED),
	    "canceled 103");
	assert_int_equal(Q(st, 1)->alloc_fails, 1);
	assert_int_equal(A(st, 1, "103")->status, HQ_ALLOC_FAILED);
	assert_true(A(st, 1, "103")->canceled);
	assert_int_equal(hq_aqueue_count(Q(st, 1), HQ_ALLOC_FAILED), 3);
	hq_state_destroy(st);
}

static void
test_alloc_workers_move_allocations(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 1, .mwpa = 2 };
	struct hq_allocation *a;

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	must(submitted(st, 1, "77", 2), "submitted");
	a = A(st, 1, "77");
	/* Same id, other batch system; and a worker of no allocation. */
	must(wconnect(st, 1, "PBS", "77", 4), "pbs worker");
	must(wconnect(st, 2, NULL, NULL, 4), "plain worker");
	assert_int_equal(a->status, HQ_ALLOC_QUEUED);
	assert_false(Q(st, 1)->has_known_res);

	must(wconnect(st, 3, "SLURM", "77", 8), "worker 3");
	assert_int_equal(a->status, HQ_ALLOC_RUNNING);
	assert_true(a->started_ms > 0);
	assert_int_equal(a->nonline, 1);
	assert_int_equal(hq_allocation_pending(a), 1);
	assert_true(Q(st, 1)->has_known_res);
	assert_int_equal(hq_res_pool_total(&Q(st, 1)->known_res.pools[0]),
	    8 * ONE);
	must(wconnect(st, 4, "SLURM", "77", 8), "worker 4");
	assert_int_equal(hq_allocation_pending(a), 0);
	assert_int_equal(hq_aqueue_active_workers(Q(st, 1)), 2);

	/* Not the allocation's workers: nothing happens. */
	must(wlost(st, 1, HQ_LOST_CONNECTION, 0), "lost 1");
	must(wlost(st, 2, HQ_LOST_CONNECTION, 0), "lost 2");
	assert_int_equal(a->nonline, 2);
	/* Idle workers leave after a while: the allocation finished. */
	must(wlost(st, 3, HQ_LOST_IDLE_TIMEOUT, 5 * MIN), "lost 3");
	assert_int_equal(a->status, HQ_ALLOC_RUNNING);
	must(wlost(st, 4, HQ_LOST_CONNECTION, 0), "lost 4");
	assert_int_equal(a->status, HQ_ALLOC_FINISHED);
	assert_true(a->ended_ms > 0);
	assert_int_equal(a->ngone, 2);
	assert_int_equal(Q(st, 1)->alloc_fails, 0);
	assert_int_equal(hq_aqueue_active_workers(Q(st, 1)), 0);
	hq_state_destroy(st);
}

static void
test_alloc_early_crashes_fail_and_pause(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 1, .mwpa = 1 };
	struct tspec ts = { .n = 10, .cpus = ONE };
	struct hq_alloc_actions acts = { 0 };
	char id[16];
	uint32_t i;

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	job(st, 1, &ts);
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "%u", 200 + i);
		must(submitted(st, 1, id, 1), "submitted");
		must(wconnect(st, 10 + i, "SLURM", id, 1), "connect");
		/* Crashed within a minute. */
		must(wlost(st, 10 + i, HQ_LOST_CONNECTION, 1000), "lost");
		assert_int_equal(A(st, 1, id)->status, HQ_ALLOC_FAILED);
		assert_int_equal(Q(st, 1)->alloc_fails, i + 1);
		if (i < 2)
			assert_int_equal(plan(st, tnow, &acts), 1);
	}
	assert_int_equal(plan(st, tnow, &acts), 1);
	assert_int_equal(acts.a[0].kind, HQ_AA_PAUSE);
	assert_non_null(strstr(acts.a[0].reason, "3 allocations"));

	/* A worker that crashes after a minute is no early crash. */
	must(submitted(st, 1, "300", 1), "submitted 300");
	must(wconnect(st, 20, "SLURM", "300", 1), "connect 20");
	must(wlost(st, 20, HQ_LOST_HEARTBEAT, 2 * MIN), "lost 20");
	assert_int_equal(A(st, 1, "300")->status, HQ_ALLOC_FINISHED);
	assert_int_equal(Q(st, 1)->alloc_fails, 0);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

static void
test_alloc_server_restart_orphans(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 1, .mwpa = 1 };
	struct tspec ts = { .n = 4, .cpus = ONE };
	struct hq_alloc_actions acts = { 0 };
	struct hq_allocation *a;

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	job(st, 1, &ts);
	must(submitted(st, 1, "5", 1), "submitted");
	must(wconnect(st, 1, "SLURM", "5", 1), "connect");
	a = A(st, 1, "5");
	assert_int_equal(plan(st, tnow, &acts), 1);
	/* The server restarted: its worker is dropped but may still run. */
	must(wlost(st, 1, HQ_LOST_SERVER_RESTART, 10), "restart");
	assert_int_equal(a->status, HQ_ALLOC_RUNNING);
	assert_int_equal(a->norphaned, 1);
	assert_int_equal(hq_allocation_pending(a), 0);
	/* It brings no more workers: a new allocation is submitted. */
	assert_int_equal(plan(st, tnow, &acts), 1);
	expect_submit(&acts, 0, 1, 1);
	/* Its end, often an error after losing the server, is not a
	 * failure of the queue. */
	must(alloc_ev(st, HQ_AEV_FINISHED, 1, "5", 0, HQ_ALLOC_END_FAILED),
	    "finished");
	assert_int_equal(Q(st, 1)->alloc_fails, 0);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

/* ---- plan ---------------------------------------------------------------- */

static void
test_alloc_plan_backlog_and_split(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 1, .mwpa = 2 };
	struct tspec ts = { .n = 40, .cpus = ONE };
	struct hq_alloc_actions acts = { 0 };

	(void)unused;
	must(queue(st, 1, &qs), "queue 1");
	qs.backlog = 3;
	qs.mwpa = 4;
	must(queue(st, 2, &qs), "queue 2");
	/* No waiting task, no allocation. */
	assert_int_equal(plan(st, tnow, &acts), 0);
	job(st, 1, &ts);
	/* Unknown workers: one task each, capped by backlog x mwpa. */
	assert_int_equal(plan(st, tnow, &acts), 4);
	expect_submit(&acts, 0, 1, 2);
	expect_submit(&acts, 1, 2, 4);
	expect_submit(&acts, 2, 2, 4);
	expect_submit(&acts, 3, 2, 4);

	/* Submissions in flight count as queued. */
	Q(st, 1)->inflight = 1;
	Q(st, 1)->inflight_workers = 2;
	Q(st, 2)->inflight = 1;
	Q(st, 2)->inflight_workers = 4;
	assert_int_equal(plan(st, tnow, &acts), 2);
	expect_submit(&acts, 0, 2, 4);
	expect_submit(&acts, 1, 2, 4);
	Q(st, 1)->inflight = Q(st, 2)->inflight = 0;
	Q(st, 1)->inflight_workers = Q(st, 2)->inflight_workers = 0;

	/* Queued allocations fill the backlog. */
	must(submitted(st, 1, "1", 2), "submitted");
	must(submitted(st, 2, "2", 4), "submitted");
	must(submitted(st, 2, "3", 4), "submitted");
	assert_int_equal(plan(st, tnow, &acts), 1);
	expect_submit(&acts, 0, 2, 4);
	/* Once one runs, the backlog has room again. */
	must(wconnect(st, 1, "SLURM", "1", 2), "connect");
	must(wconnect(st, 2, "SLURM", "1", 2), "connect");
	assert_int_equal(plan(st, tnow, &acts), 2);
	/* Known workers of 2 cpus: 20 workers wanted, 2 at most. */
	expect_submit(&acts, 0, 1, 2);
	/* Paused queues are left alone. */
	Q(st, 2)->paused = true;
	assert_int_equal(plan(st, tnow, &acts), 1);
	expect_submit(&acts, 0, 1, 2);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

static void
test_alloc_plan_known_resources_and_pending(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 5, .mwpa = 1, .cpus = "4" };
	struct tspec ts = { .n = 10, .cpus = ONE };
	struct hq_alloc_actions acts = { 0 };

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	job(st, 1, &ts);
	/* --cpus 4: 10 tasks need 3 workers. */
	assert_int_equal(plan(st, tnow, &acts), 3);
	expect_submit(&acts, 2, 1, 1);
	/* A running allocation whose worker has not connected yet is
	 * about to bring it. */
	must(submitted(st, 1, "a", 1), "submitted a");
	must(alloc_ev(st, HQ_AEV_STARTED, 1, "a", 0, 0), "started a");
	assert_int_equal(plan(st, tnow, &acts), 2);
	/* Half a worker of demand left over: 2 tasks of 2 cpus on 4. */
	ts.n = 3;
	ts.cpus = 2 * ONE;
	job(st, 2, &ts);
	/* 10/4 + 3/2 = 4 workers, one is pending. */
	assert_int_equal(plan(st, tnow, &acts), 3);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

static void
test_alloc_plan_max_worker_count(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 4, .mwpa = 3, .max_workers = 5 };
	struct tspec ts = { .n = 100, .cpus = ONE };
	struct hq_alloc_actions acts = { 0 };

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	job(st, 1, &ts);
	assert_int_equal(plan(st, tnow, &acts), 2);
	expect_submit(&acts, 0, 1, 3);
	expect_submit(&acts, 1, 1, 2);
	must(submitted(st, 1, "x", 3), "x");
	must(wconnect(st, 1, "SLURM", "x", 1), "connect");
	/* One online, two pending: two more are allowed. */
	assert_int_equal(plan(st, tnow, &acts), 1);
	expect_submit(&acts, 0, 1, 2);
	must(submitted(st, 1, "y", 2), "y");
	assert_int_equal(plan(st, tnow, &acts), 0);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

static void
test_alloc_plan_backoff_and_pause(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 1, .mwpa = 1 };
	struct tspec ts = { .n = 1, .cpus = ONE };
	struct hq_alloc_actions acts = { 0 };
	struct hq_alloc_tuning t;
	uint64_t delays[] = { 0, 100 };
	uint64_t t0;
	uint32_t i;

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	job(st, 1, &ts);
	must(submit_failed(st, 1), "failed");
	t0 = tnow - 1;
	/* One failure: wait a minute, then try again. */
	assert_int_equal(plan(st, t0 + 1000, &acts), 0);
	assert_int_equal(plan(st, t0 + MIN - 1, &acts), 0);
	assert_int_equal(plan(st, t0 + MIN, &acts), 1);
	/* Two: fifteen minutes. */
	must(submit_failed(st, 1), "failed");
	t0 = tnow - 1;
	assert_int_equal(plan(st, t0 + 14 * MIN, &acts), 0);
	assert_int_equal(plan(st, t0 + 15 * MIN, &acts), 1);
	/* A success resets the count. */
	must(submitted(st, 1, "ok", 1), "submitted");
	assert_int_equal(Q(st, 1)->submit_fails, 0);
	must(alloc_ev(st, HQ_AEV_FINISHED, 1, "ok", 0, HQ_ALLOC_END_FINISHED),
	    "finished");
	assert_int_equal(plan(st, tnow, &acts), 1);

	/* Custom tuning: short delays, pause after 4 failures. */
	hq_alloc_tuning_default(&t);
	t.delays_ms = delays;
	t.ndelays = 2;
	t.max_submit_fails = 4;
	for (i = 0; i < 3; i++) {
		must(submit_failed(st, 1), "failed");
		t0 = tnow - 1;
		hq_alloc_plan(st, t0 + 99, &t, &acts);
		assert_int_equal(acts.n, 0);
		hq_alloc_plan(st, t0 + 100, &t, &acts);
		assert_int_equal(acts.n, 1);
		assert_int_equal(acts.a[0].kind, HQ_AA_SUBMIT);
	}
	must(submit_failed(st, 1), "failed");
	hq_alloc_plan(st, tnow, &t, &acts);
	assert_int_equal(acts.n, 1);
	assert_int_equal(acts.a[0].kind, HQ_AA_PAUSE);
	assert_non_null(strstr(acts.a[0].reason, "4 times"));
	/* Default tuning pauses after 10. */
	for (i = 4; i < 10; i++) {
		assert_int_equal(plan(st, tnow + 24 * 60 * MIN, &acts), 1);
		assert_int_equal(acts.a[0].kind, HQ_AA_SUBMIT);
		must(submit_failed(st, 1), "failed");
	}
	assert_int_equal(plan(st, tnow, &acts), 1);
	assert_int_equal(acts.a[0].kind, HQ_AA_PAUSE);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

static void
test_alloc_plan_time_request(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 1,
		.mwpa = 1,
		.time_limit_ms = 30 * MIN };
	struct tspec ts = { .n = 2, .cpus = ONE, .min_time_ms = 31 * MIN };
	struct hq_alloc_actions acts = { 0 };

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	job(st, 1, &ts);
	/* Needs more time than an allocation lives. */
	assert_int_equal(plan(st, tnow, &acts), 0);
	ts.min_time_ms = 30 * MIN;
	job(st, 2, &ts);
	assert_int_equal(plan(st, tnow, &acts), 1);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

static void
test_alloc_plan_multinode_first(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 3, .mwpa = 2 };
	struct tspec mn = { .n = 2, .nodes = 2 };
	struct tspec big = { .n = 1, .nodes = 3 };
	struct tspec sn = { .n = 1, .cpus = ONE };
	struct hq_alloc_actions acts = { 0 };

	(void)unused;
	must(queue(st, 1, &qs), "queue");
	job(st, 1, &big); /* never fits 2 nodes per allocation */
	assert_int_equal(plan(st, tnow, &acts), 0);
	job(st, 2, &mn);
	job(st, 3, &sn);
	assert_int_equal(plan(st, tnow, &acts), 3);
	expect_submit(&acts, 0, 1, 2);
	expect_submit(&acts, 1, 1, 2);
	expect_submit(&acts, 2, 1, 1);
	/* A queued 2-node allocation serves one multi-node task. */
	must(submitted(st, 1, "m", 2), "submitted");
	assert_int_equal(plan(st, tnow, &acts), 2);
	expect_submit(&acts, 0, 1, 2);
	expect_submit(&acts, 1, 1, 1);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

static void
test_alloc_plan_probe_unknown_resources(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 4, .mwpa = 1, .cpus = "4" };
	struct tspec gpu = { .n = 20,
		.cpus = ONE,
		.other = "gpus",
		.other_amount = ONE };
	struct hq_alloc_actions acts = { 0 };
	struct hq_alloc_demand d = { 0 };

	(void)unused;
	must(queue(st, 1, &qs), "queue 1");
	qs.cpus = NULL;
	qs.resource = "gpus=[0,1]";
	must(queue(st, 2, &qs), "queue 2");
	job(st, 1, &gpu);
	/* Queue 1 does not know whether its workers have GPUs: one probe.
	 * Queue 2 knows 2 GPUs (cpus unknown: one task per worker). */
	assert_int_equal(plan(st, tnow, &acts), 5);
	expect_submit(&acts, 0, 1, 1);
	expect_submit(&acts, 1, 2, 1);
	hq_alloc_demand(st, Q(st, 1), tnow, 100, 10, &d);
	assert_true(d.probe);
	assert_int_equal(d.sn_workers, 1);
	hq_alloc_demand(st, Q(st, 2), tnow, 100, 10, &d);
	assert_false(d.probe);
	assert_int_equal(d.sn_workers, 20);
	/* Queue 1's first worker comes without GPUs: no more probes. */
	must(submitted(st, 1, "p", 1), "submitted");
	must(wconnect(st, 1, "SLURM", "p", 4), "connect");
	hq_alloc_demand(st, Q(st, 1), tnow, 100, 10, &d);
	assert_int_equal(d.sn_workers, 0);
	hq_alloc_demand_fini(&d);
	hq_alloc_actions_fini(&acts);
	hq_state_destroy(st);
}

static void
test_alloc_plan_min_utilization(void **unused)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 10,
		.mwpa = 1,
		.cpus = "4",
		.min_util = 5000 };
	struct tspec ts = { .n = 5, .cpus = ONE };
	struct hq_alloc_demand d = { 0 };

	(void)unused;
	must(queue(st, 1, &qs), "queue 1");
	qs.min_util = 2000;
	must(queue(st, 2, &qs), "queue 2");
	job(st, 1, &ts);
	/* 5 tasks on 4-cpu workers: the second worker would be 25% used. */
	hq_alloc_demand(st, Q(st, 1), tnow, 100, 0, &d);
	assert_int_equal(d.sn_workers, 1);
	hq_alloc_demand(st, Q(st, 2), tnow, 100, 0, &d);
	assert_int_equal(d.sn_workers, 2);
	/* The cap. */
	hq_alloc_demand(st, Q(st, 2), tnow, 1, 0, &d);
	assert_int_equal(d.sn_workers, 1);
	hq_alloc_demand_fini(&d);
	hq_state_destroy(st);
}

/* ---- replay and NDJSON --------------------------------------------------- */

/* Encode every event through the wire format into a journal-like list. */
struct recorder {
	struct hq_buf *recs;
	uint32_t n;
};

static int
record(struct hq_state *st, struct recorder *r, struct hq_event *ev)
{
	struct hq_errbuf eb = { "" };
	int rc;

	r->recs = hq_xreallocarray(r->recs, r->n + 1, sizeof *r->recs);
	hq_buf_init(&r->recs[r->n]);
	assert_int_equal(hq_wire_encode_event(ev, &r->recs[r->n]), 0);
	r->n++;
	rc = hq_state_apply(st, ev, &eb);
	hq_event_fini(ev);
	return rc;
}

static void
test_alloc_replay_rebuilds_queues(void **unused)
{
	struct hq_state *st = hq_state_create(), *st2 = hq_state_create();
	struct recorder r = { NULL, 0 };
	struct hq_event ev;
	struct hq_errbuf eb;
	uint32_t i, k;

	(void)unused;
	aev(&ev, HQ_AEV_QUEUE_CREATED, 1);
	ev.u.alloc.params.manager = HQ_MANAGER_PBS;
	ev.u.alloc.params.backlog = 2;
	ev.u.alloc.params.max_workers_per_alloc = 1;
	ev.u.alloc.params.time_limit_ms = MIN;
	ev.u.alloc.params.name = hq_xstrdup("q");
	must(record(st, &r, &ev), "created");
	aev(&ev, HQ_AEV_SUBMITTED, 1);
	ev.u.alloc.allocation_id = hq_xstrdup("1.pbs");
	ev.u.alloc.worker_count = 1;
	ev.u.alloc.workdir = hq_xstrdup("/d/001");
	must(record(st, &r, &ev), "submitted");
	aev(&ev, HQ_AEV_SUBMIT_FAILED, 1);
	ev.u.alloc.message = hq_xstrdup("qsub: bad");
	must(record(st, &r, &ev), "failed");
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = tnow++;
	ev.u.wconn.worker_id = 1;
	ev.u.wconn.cfg.manager = hq_xstrdup("PBS");
	ev.u.wconn.cfg.allocation_id = hq_xstrdup("1.pbs");
	must(record(st, &r, &ev), "connected");
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_LOST;
	ev.time_ms = tnow++;
	ev.u.wlost.worker_id = 1;
	ev.u.wlost.reason = HQ_LOST_IDLE_TIMEOUT;
	must(record(st, &r, &ev), "lost");
	aev(&ev, HQ_AEV_QUEUE_PAUSED, 1);
	must(record(st, &r, &ev), "paused");

	for (i = 0; i < r.n; i++) {
		if (hq_wire_decode_event(r.recs[i].data, r.recs[i].len, &ev,
			&eb) != 0)
			fail_msg("decode %u: %s", i, eb.msg);
		if (hq_state_apply(st2, &ev, &eb) != 0)
			fail_msg("replay %u: %s", i, eb.msg);
		hq_event_fini(&ev);
		hq_buf_fini(&r.recs[i]);
	}
	free(r.recs);
	assert_int_equal(st2->alloc->nqueues, st->alloc->nqueues);
	for (i = 0; i < st->alloc->nqueues; i++) {
		const struct hq_aqueue *a = st->alloc->queues[i];
		const struct hq_aqueue *b = st2->alloc->queues[i];

		assert_int_equal(a->id, b->id);
		assert_string_equal(a->p.name, b->p.name);
		assert_int_equal(a->paused, b->paused);
		assert_int_equal(a->submit_fails, b->submit_fails);
		assert_int_equal(a->last_fail_ms, b->last_fail_ms);
		assert_int_equal(a->nsubmits, b->nsubmits);
		assert_int_equal(a->nallocs, b->nallocs);
		for (k = 0; k < a->nallocs; k++) {
			assert_string_equal(a->allocs[k]->id, b->allocs[k]->id);
			assert_int_equal(a->allocs[k]->status,
			    b->allocs[k]->status);
			assert_int_equal(a->allocs[k]->started_ms,
			    b->allocs[k]->started_ms);
			assert_int_equal(a->allocs[k]->ended_ms,
			    b->allocs[k]->ended_ms);
		}
	}
	assert_int_equal(A(st2, 1, "1.pbs")->status, HQ_ALLOC_FINISHED);
	hq_state_destroy(st);
	hq_state_destroy(st2);
}

static void
test_alloc_event_json(void **unused)
{
	struct hq_event ev;
	json_t *j, *e;

	(void)unused;
	aev(&ev, HQ_AEV_SUBMITTED, 3);
	ev.time_ms = 1700000000000ull;
	ev.u.alloc.allocation_id = hq_xstrdup("42");
	ev.u.alloc.worker_count = 2;
	assert_int_equal(hq_event_json_nlines(&ev), 1);
	j = hq_event_to_json(&ev, 9, NULL, 0);
	e = json_object_get(j, "event");
	assert_string_equal(json_string_value(json_object_get(e, "type")),
	    "autoalloc-allocation-queued");
	assert_int_equal(json_integer_value(json_object_get(e, "queue-id")), 3);
	assert_string_equal(json_string_value(
				json_object_get(e, "allocation-id")),
	    "42");
	assert_int_equal(json_integer_value(json_object_get(e, "worker-count")),
	    2);
	json_decref(j);
	hq_event_fini(&ev);

	aev(&ev, HQ_AEV_QUEUE_CREATED, 1);
	ev.u.alloc.params.manager = HQ_MANAGER_SLURM;
	ev.u.alloc.params.backlog = 1;
	ev.u.alloc.params.max_workers_per_alloc = 2;
	ev.u.alloc.params.time_limit_ms = 90000;
	j = hq_event_to_json(&ev, 1, NULL, 0);
	e = json_object_get(json_object_get(j, "event"), "params");
	assert_string_equal(json_string_value(json_object_get(e, "manager")),
	    "Slurm");
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(e, "timelimit"),
				 "secs")),
	    90);
	assert_true(json_is_null(json_object_get(e, "max_worker_count")));
	json_decref(j);
	hq_event_fini(&ev);
	assert_string_equal(hq_alloc_ev_kind_name(HQ_AEV_FINISHED),
	    "autoalloc-allocation-finished");
}

/* A state with queues, allocations in every status, workers in every
 * state, learned resources and failure counters. */
static struct hq_state *
rich_state(void)
{
	struct hq_state *st = hq_state_create();
	struct qspec qs = { .backlog = 2,
		.mwpa = 2,
		.cpus = "4",
		.resource = "gpus=[a,b]",
		.min_util = 2500 };
	struct hq_event ev;

	must(queue(st, 1, &qs), "queue 1");
	qs.pbs = true;
	qs.cpus = NULL;
	must(queue(st, 4, &qs), "queue 4");
	must(submitted(st, 1, "10", 2), "10");
	must(submitted(st, 1, "11", 1), "11");
	must(submitted(st, 1, "12", 1), "12");
	must(submitted(st, 4, "10", 1), "pbs 10");
	must(wconnect(st, 1, "SLURM", "10", 4), "w1");
	must(wconnect(st, 2, "SLURM", "10", 4), "w2");
	must(wconnect(st, 3, "SLURM", "11", 4), "w3");
	must(wlost(st, 2, HQ_LOST_SERVER_RESTART, 5), "w2 orphaned");
	must(wlost(st, 3, HQ_LOST_CONNECTION, 5), "w3 crashed");
	must(alloc_ev(st, HQ_AEV_FINISHED, 1, "12", 0, HQ_ALLOC_END_CANCELED),
	    "12 canceled");
	must(submit_failed(st, 1), "failed");
	aev(&ev, HQ_AEV_QUEUE_PAUSED, 4);
	ev.u.alloc.message = hq_xstrdup("by hand");
	must(apply(st, &ev), "paused");
	return st;
}

static void
test_alloc_snapshot_roundtrip(void **unused)
{
	struct hq_state *st = rich_state();
	struct hq_alloc_state *copy = NULL;
	struct hq_buf a, b;
	struct hq_errbuf eb;
	uint32_t i, k;

	(void)unused;
	hq_buf_init(&a);
	hq_buf_init(&b);
	hq_alloc_state_snapshot(st->alloc, &a);
	if (hq_alloc_state_restore(a.data, a.len, &copy, &eb) != 0)
		fail_msg("restore: %s", eb.msg);
	/* Deterministic: the restored state encodes to the same bytes. */
	hq_alloc_state_snapshot(copy, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(copy->next_queue_id, 5);
	assert_int_equal(copy->nqueues, 2);
	for (i = 0; i < copy->nqueues; i++) {
		const struct hq_aqueue *x = st->alloc->queues[i];
		const struct hq_aqueue *y = copy->queues[i];

		assert_int_equal(x->id, y->id);
		assert_int_equal(x->paused, y->paused);
		assert_int_equal(x->submit_fails, y->submit_fails);
		assert_int_equal(x->has_known_res, y->has_known_res);
		assert_int_equal(x->has_cli_res, y->has_cli_res);
		assert_int_equal(x->p.min_utilization, y->p.min_utilization);
		for (k = 0; k < x->nallocs; k++) {
			assert_string_equal(x->allocs[k]->id, y->allocs[k]->id);
			assert_int_equal(x->allocs[k]->nonline,
			    y->allocs[k]->nonline);
			assert_int_equal(x->allocs[k]->norphaned,
			    y->allocs[k]->norphaned);
			assert_int_equal(x->allocs[k]->ngone,
			    y->allocs[k]->ngone);
			assert_int_equal(x->allocs[k]->canceled,
			    y->allocs[k]->canceled);
		}
	}
	assert_string_equal(copy->queues[1]->pause_reason, "by hand");
	assert_int_equal(hq_aqueue_allocation(copy->queues[0], "11")->status,
	    HQ_ALLOC_FAILED);
	/* The restored state goes on like the original: worker 1 leaves,
	 * the orphan keeps allocation 10 active. */
	hq_alloc_state_worker_lost(copy, 1, HQ_LOST_IDLE_TIMEOUT, 0, tnow);
	assert_true(
	    hq_allocation_active(hq_aqueue_allocation(copy->queues[0], "10")));
	hq_alloc_state_destroy(copy);

	/* Every truncation and a wrong version are refused. */
	for (i = 0; i < a.len; i++) {
		copy = NULL;
		assert_int_not_equal(hq_alloc_state_restore(a.data, i, &copy,
					 &eb),
		    0);
		assert_null(copy);
	}
	a.data[7] = 9;
	assert_int_equal(hq_alloc_state_restore(a.data, a.len, &copy, &eb),
	    HQ_EVERSION);
	a.data[7] = HQ_ALLOC_SNAPSHOT_VERSION;
	/* Flipped bytes never crash (run under ASan in make check). */
	srand(7);
	for (i = 0; i < 20000; i++) {
		hq_buf_reset(&b);
		hq_buf_append(&b, a.data, a.len);
		for (k = 0; k < 1 + (uint32_t)rand() % 4; k++)
			b.data[(size_t)rand() % b.len] = (uint8_t)rand();
		copy = NULL;
		if (hq_alloc_state_restore(b.data, b.len, &copy, &eb) == 0)
			hq_alloc_state_destroy(copy);
	}
	/* An empty state. */
	hq_buf_reset(&b);
	copy = hq_alloc_state_create();
	hq_alloc_state_snapshot(copy, &b);
	hq_alloc_state_destroy(copy);
	assert_int_equal(hq_alloc_state_restore(b.data, b.len, &copy, &eb), 0);
	assert_int_equal(copy->nqueues, 0);
	hq_alloc_state_destroy(copy);
	hq_buf_fini(&a);
	hq_buf_fini(&b);
	hq_state_destroy(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_queue_lifecycle),
		cmocka_unit_test(test_alloc_allocation_lifecycle),
		cmocka_unit_test(test_alloc_workers_move_allocations),
		cmocka_unit_test(test_alloc_early_crashes_fail_and_pause),
		cmocka_unit_test(test_alloc_server_restart_orphans),
		cmocka_unit_test(test_alloc_plan_backlog_and_split),
		cmocka_unit_test(test_alloc_plan_known_resources_and_pending),
		cmocka_unit_test(test_alloc_plan_max_worker_count),
		cmocka_unit_test(test_alloc_plan_backoff_and_pause),
		cmocka_unit_test(test_alloc_plan_time_request),
		cmocka_unit_test(test_alloc_plan_multinode_first),
		cmocka_unit_test(test_alloc_plan_probe_unknown_resources),
		cmocka_unit_test(test_alloc_plan_min_utilization),
		cmocka_unit_test(test_alloc_replay_rebuilds_queues),
		cmocka_unit_test(test_alloc_event_json),
		cmocka_unit_test(test_alloc_snapshot_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
