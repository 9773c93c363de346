/* SPDX-License-Identifier: MIT */
/*
 * Scheduler cost for `make bench` (issue 5, done-when 3): build a server
 * state through hq_state_apply() (the path the live server, recovery and
 * hq-replay use) with W workers and N waiting tasks in 10 request kinds and
 * two priorities, then time hq_sched_plan() and print JSON.
 *
 *   sched [--workers W] [--tasks N] [--jobs J] [--cpus C] [--layers L]
 *         [--rounds R] [--finish F]
 *
 * Defaults: 100 workers of 128 CPUs (every 4th also with 4 GPUs),
 * 1,000,000 tasks in 1,000 array jobs (job j has request kind j % 10 and
 * priority 1 for j % 20 < 10, else 0, so every round meets every kind),
 * the server's default prefill of 2 layers (L sets every worker's
 * adaptive depth, as the server does for workers that finish tasks fast),
 * 11 rounds, 8 tasks finished per worker before each refill round.
 *
 * Rounds timed:
 * - first: every worker empty; the same round planned R times (the plan
 *   is pure), the first call also reported on its own (cold caches);
 * - full: the first plan applied as ASSIGNED events, so that every worker
 *   is full; planned R times (nothing fits: the cost of a round that
 *   finds no room, with every queue non-empty);
 * - refill: R cycles of "F tasks finish on every worker, plan, apply the
 *   plan": the steady state of a busy server, each round timed once.
 *
 * The figures are wall-clock times of hq_sched_plan() alone
 * (CLOCK_MONOTONIC); building and applying are timed apart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/event.h"
#include "common/model.h"
#include "common/util.h"
#include "server/sched.h"
#include "server/state.h"

#define NKINDS	    10
#define MAX_ROUNDS  1000
#define GPU_EVERY   4 /* every 4th worker has GPUs */
#define GPUS_PER_WK 4

#define USAGE                                                            \
	"usage: sched [--workers W] [--tasks N] [--jobs J] [--cpus C]\n" \
	"             [--layers L] [--rounds R] [--finish F]\n"          \
	"defaults: 100 workers, 1000000 tasks, 1000 jobs, 128 cpus, 2 "  \
	"layers,\n"                                                      \
	"          11 rounds, 8 tasks finished per worker per refill\n"

struct opts {
	uint32_t workers, tasks, jobs, cpus, layers, rounds, finish;
};

/* One measured kind of round: times in ns and assignments per round. */
struct series {
	uint64_t ns[MAX_ROUNDS];
	uint32_t assigned[MAX_ROUNDS];
	uint32_t n;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return HQ_EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* ---- building the state ------------------------------------------------ */

static void
entry_set(struct hq_res_entry *e, const char *name, uint32_t amount,
    enum hq_policy policy)
{
	e->name = hq_xstrdup(name);
	e->amount = (uint64_t)amount * HQ_AMOUNT_ONE;
	e->policy = policy;
}

/*
 * Request kind k: cpus 1/2/4 with compact and scatter (0-5), cpus=1 with
 * one GPU (6), cpus=4 with two GPUs (7), cpus=2 "compact!" (8), and two
 * variants: one GPU with 2 CPUs, else 8 CPUs (9).
 */
static void
kind_request(uint32_t k, struct hq_res_request *r)
{
	static const uint32_t cpus[] = { 1, 1, 2, 2, 4, 4, 1, 4, 2 };
	uint32_t i;

	r->n = k == 9 ? 2 : 1;
	r->v = hq_xcalloc(r->n, sizeof *r->v);
	for (i = 0; i < r->n; i++) {
		r->v[i].weight = HQ_AMOUNT_ONE;
		r->v[i].e = hq_xcalloc(2, sizeof *r->v[i].e);
	}
	if (k < 6)
		entry_set(&r->v[0].e[r->v[0].n++], "cpus", cpus[k],
		    k % 2 ? HQ_POLICY_SCATTER : HQ_POLICY_COMPACT);
	else if (k < 8) {
		entry_set(&r->v[0].e[r->v[0].n++], "cpus", cpus[k],
		    HQ_POLICY_COMPACT);
		entry_set(&r->v[0].e[r->v[0].n++], "gpus", k == 6 ? 1 : 2,
		    HQ_POLICY_COMPACT);
	} else if (k == 8)
		entry_set(&r->v[0].e[r->v[0].n++], "cpus", cpus[k],
		    HQ_POLICY_FORCE_COMPACT);
	else {
		entry_set(&r->v[0].e[r->v[0].n++], "cpus", 2,
		    HQ_POLICY_COMPACT);
		entry_set(&r->v[0].e[r->v[0].n++], "gpus", 1,
		    HQ_POLICY_COMPACT);
		entry_set(&r->v[1].e[r->v[1].n++], "cpus", 8,
		    HQ_POLICY_COMPACT);
	}
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

static int
add_worker(struct hq_state *st, uint32_t id, uint32_t ncpus, uint64_t *t,
    struct hq_errbuf *eb)
{
	struct hq_event ev;
	struct hq_worker_config *c = &ev.u.wconn.cfg;
	bool gpus = id % GPU_EVERY == 0;
	int rc;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = (*t)++;
	ev.u.wconn.worker_id = id;
	c->hostname = hq_xprintf("node%u", id);
	c->group = hq_xstrdup("default");
	/* Pools sorted by name. */
	c->res.n = gpus ? 2 : 1;
	c->res.pools = hq_xcalloc(c->res.n, sizeof *c->res.pools);
	pool_range(&c->res.pools[0], "cpus", ncpus);
	if (gpus)
		pool_range(&c->res.pools[1], "gpus", GPUS_PER_WK);
	rc = hq_state_apply(st, &ev, eb);
	hq_event_fini(&ev);
	return rc;
}

static int
add_job(struct hq_state *st, uint32_t id, uint32_t ntasks, uint64_t *t,
    struct hq_errbuf *eb)
{
	struct hq_event ev;
	struct hq_task_desc *d;
	uint32_t j = id - 1;
	int rc;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = (*t)++;
	ev.u.submitted.job_id = id;
	ev.u.submitted.new_job = true;
	ev.u.submitted.submit.ndescs = 1;
	ev.u.submitted.submit.descs = hq_xcalloc(1, sizeof *d);
	d = &ev.u.submitted.submit.descs[0];
	d->argc = 1;
	d->argv = hq_xcalloc(2, sizeof *d->argv);
	d->argv[0] = hq_xstrdup("/bin/true");
	kind_request(j % NKINDS, &d->req);
	d->priority = j % (2 * NKINDS) < NKINDS ? 1 : 0;
	d->crash_limit = HQ_CRASH_DEFAULT;
	hq_idset_add_range(&ev.u.submitted.submit.ids, 1, ntasks, 1);
	rc = hq_state_apply(st, &ev, eb);
	hq_event_fini(&ev);
	return rc;
}

/*
 * Apply a plan as the server does: ASSIGNED events. Consecutive
 * assignments of one job to one worker go in one event.
 */
static int
apply_plan(struct hq_state *st, const struct hq_plan *p, uint64_t *t,
    struct hq_errbuf *eb)
{
	uint32_t *tasks = NULL, *variants = NULL, i = 0, k, n;
	int rc = 0;

	if (p->n > 0) {
		tasks = hq_xcalloc(p->n, sizeof *tasks);
		variants = hq_xcalloc(p->n, sizeof *variants);
	}
	while (i < p->n) {
		const struct hq_assign *a = &p->a[i];
		const struct hq_job *job = hq_state_job(st, a->job);
		struct hq_event ev;

		for (n = 0, k = i; k < p->n && p->a[k].job == a->job &&
		     p->a[k].worker == a->worker && p->a[k].nnodes == 0;
		     k++, n++) {
			tasks[n] = job->tasks[p->a[k].idx].id;
			variants[n] = p->a[k].variant;
		}
		if (n == 0) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "plan: multi-node assignment in the benchmark");
			goto out;
		}
		memset(&ev, 0, sizeof ev);
		ev.kind = HQ_EV_TASK_RUN;
		ev.time_ms = (*t)++;
		ev.u.run.kind = HQ_RUN_ASSIGNED;
		ev.u.run.job = a->job;
		ev.u.run.worker = a->worker;
		ev.u.run.n = ev.u.run.cap = n;
		ev.u.run.tasks = tasks;
		ev.u.run.variants = variants;
		if ((rc = hq_state_apply(st, &ev, eb)) != 0)
			goto out;
		i = k;
	}
out:
	free(variants);
	free(tasks);
	return rc;
}

/* Finish the first f tasks in flight on every worker. */
static int
finish_some(struct hq_state *st, uint32_t f, uint64_t *t, struct hq_errbuf *eb)
{
	struct hq_inflight *pick = hq_xcalloc(f ? f : 1, sizeof *pick);
	uint32_t i, k, n;
	int rc = 0;

	for (i = 1; i < st->workers_cap; i++) {
		struct hq_sworker *w = st->workers[i];

		if (w == NULL)
			continue;
		n = HQ_MIN(f, w->ninflight);
		memcpy(pick, w->inflight, n * sizeof *pick);
		for (k = 0; k < n; k++) {
			struct hq_job *job = hq_state_job(st, pick[k].job);
			uint32_t id = job->tasks[pick[k].idx].id;
			struct hq_event ev;

			memset(&ev, 0, sizeof ev);
			ev.kind = HQ_EV_TASK_RUN;
			ev.time_ms = (*t)++;
			ev.u.run.kind = HQ_RUN_FINISHED;
			ev.u.run.job = pick[k].job;
			ev.u.run.worker = w->id;
			ev.u.run.n = ev.u.run.cap = 1;
			ev.u.run.tasks = &id;
			if ((rc = hq_state_apply(st, &ev, eb)) != 0)
				goto out;
		}
	}
out:
	free(pick);
	return rc;
}

static uint64_t
waiting(const struct hq_state *st)
{
	uint64_t n = 0;
	uint32_t b;

	for (b = 0; b < st->nbuckets; b++)
		n += st->buckets[b]->nready;
	return n;
}

/* ---- measuring ---------------------------------------------------------- */

static uint32_t
plan_timed(const struct hq_state *st, uint64_t now,
    const struct hq_sched_opts *o, struct hq_plan *p, struct series *s)
{
	uint64_t t0, t1;

	t0 = now_ns();
	hq_sched_plan(st, now, o, p);
	t1 = now_ns();
	s->ns[s->n] = t1 - t0;
	s->assigned[s->n] = p->n;
	s->n++;
	return p->n;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
median_ms(const struct series *s)
{
	uint64_t v[MAX_ROUNDS];

	memcpy(v, s->ns, s->n * sizeof *v);
	qsort(v, s->n, sizeof *v, cmp_u64);
	if (s->n % 2)
		return (double)v[s->n / 2] / 1e6;
	return ((double)v[s->n / 2 - 1] + (double)v[s->n / 2]) / 2e6;
}

static void
print_series(const char *name, const struct series *s, bool last)
{
	uint64_t total = 0;
	uint32_t i;

	printf("  \"%s\": {\"median_ms\": %.4f, \"ms\": [", name, median_ms(s));
	for (i = 0; i < s->n; i++)
		printf("%s%.4f", i ? ", " : "", (double)s->ns[i] / 1e6);
	printf("], \"assignments\": [");
	for (i = 0; i < s->n; i++) {
		printf("%s%" PRIu32, i ? ", " : "", s->assigned[i]);
		total += s->assigned[i];
	}
	printf("], \"ns_per_assignment\": ");
	if (total > 0) {
		uint64_t ns = 0;

		for (i = 0; i < s->n; i++)
			ns += s->ns[i];
		printf("%.1f", (double)ns / (double)total);
	} else
		printf("null");
	printf("}%s\n", last ? "" : ",");
}

static int
run(const struct opts *op, struct hq_errbuf *eb)
{
	struct hq_state *st = hq_state_create();
	struct hq_sched_opts so = { .layers = 2 };
	struct hq_plan p = { 0 };
	struct series *first, *full, *refill;
	uint64_t t = 1000, now, t0, build_ns, apply_ns = 0, finish_ns = 0;
	uint64_t first_call_ns, waiting_start, per;
	uint32_t i, first_n;
	int rc;

	first = hq_xcalloc(3, sizeof *first);
	full = first + 1;
	refill = first + 2;

	t0 = now_ns();
	for (i = 1; i <= op->workers; i++)
		if ((rc = add_worker(st, i, op->cpus, &t, eb)) != 0)
			goto out;
	per = op->tasks / op->jobs;
	for (i = 1; i <= op->jobs; i++) {
		/* The last job takes the remainder. */
		uint64_t n =
		    i < op->jobs ? per : op->tasks - per * (op->jobs - 1);

		if ((rc = add_job(st, i, (uint32_t)n, &t, eb)) != 0)
			goto out;
	}
	build_ns = now_ns() - t0;
	for (i = 1; op->layers != 2 && i < st->workers_cap; i++)
		if (st->workers[i] != NULL)
			st->workers[i]->sched_layers = op->layers;
	waiting_start = waiting(st);
	now = t;

	/* First round: empty workers, planned 'rounds' times. */
	for (i = 0; i < op->rounds; i++)
		plan_timed(st, now, &so, &p, first);
	first_call_ns = first->ns[0];
	first_n = p.n;
	t0 = now_ns();
	if ((rc = apply_plan(st, &p, &t, eb)) != 0)
		goto out;
	apply_ns += now_ns() - t0;

	/* Full: nothing fits anywhere. */
	for (i = 0; i < op->rounds; i++)
		plan_timed(st, t, &so, &p, full);

	/* Refill cycles. */
	for (i = 0; i < op->rounds; i++) {
		t0 = now_ns();
		if ((rc = finish_some(st, op->finish, &t, eb)) != 0)
			goto out;
		finish_ns += now_ns() - t0;
		plan_timed(st, t, &so, &p, refill);
		t0 = now_ns();
		if ((rc = apply_plan(st, &p, &t, eb)) != 0)
			goto out;
		apply_ns += now_ns() - t0;
	}

	printf("{\n  \"workers\": %" PRIu32 ", \"cpus_per_worker\": %" PRIu32
	       ", \"gpu_workers\": %" PRIu32 ", \"gpus_per_worker\": %d,\n",
	    op->workers, op->cpus, op->workers / GPU_EVERY, GPUS_PER_WK);
	printf("  \"tasks\": %" PRIu32 ", \"jobs\": %" PRIu32
	       ", \"request_kinds\": %d, \"priorities\": 2, \"queues\": "
	       "%" PRIu32 ",\n",
	    op->tasks, op->jobs, NKINDS, st->nbuckets);
	printf("  \"layers\": %" PRIu32 ", \"rounds\": %" PRIu32
	       ", \"finish_per_worker\": %" PRIu32 ",\n",
	    op->layers, op->rounds, op->finish);
	printf("  \"waiting_at_start\": %" PRIu64
	       ", \"waiting_at_end\": %" PRIu64 ",\n",
	    waiting_start, waiting(st));
	printf("  \"build_ms\": %.1f, \"apply_ms\": %.1f, \"finish_ms\": "
	       "%.1f,\n",
	    (double)build_ns / 1e6, (double)apply_ns / 1e6,
	    (double)finish_ns / 1e6);
	printf("  \"first_call_ms\": %.4f, \"first_assignments\": %" PRIu32
	       ",\n",
	    (double)first_call_ns / 1e6, first_n);
	print_series("first", first, false);
	print_series("full", full, false);
	print_series("refill", refill, true);
	printf("}\n");
	rc = 0;
out:
	hq_plan_fini(&p);
	hq_state_destroy(st);
	free(first);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts op = { .workers = 100,
		.tasks = 1000000,
		.jobs = 1000,
		.cpus = 128,
		.layers = 2,
		.rounds = 11,
		.finish = 8 };
	static const struct {
		const char *name;
		uint32_t min, max;
		size_t off;
	} flags[] = {
		{ "--workers", 1, 100000, offsetof(struct opts, workers) },
		{ "--tasks", 1, 100000000, offsetof(struct opts, tasks) },
		{ "--jobs", 1, 1000000, offsetof(struct opts, jobs) },
		{ "--cpus", 1, 4096, offsetof(struct opts, cpus) },
		{ "--layers", 1, 1024, offsetof(struct opts, layers) },
		{ "--rounds", 1, MAX_ROUNDS, offsetof(struct opts, rounds) },
		{ "--finish", 0, 100000, offsetof(struct opts, finish) },
	};
	struct hq_errbuf eb;
	size_t f;
	int a, rc;

	memset(&eb, 0, sizeof eb);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--help") == 0) {
			fputs(USAGE, stdout);
			return 0;
		}
		for (f = 0; f < HQ_ARRAY_LEN(flags); f++)
			if (strcmp(argv[a], flags[f].name) == 0)
				break;
		if (f == HQ_ARRAY_LEN(flags) || a + 1 == argc) {
			fprintf(stderr, "sched: %s: %s\n", argv[a],
			    f == HQ_ARRAY_LEN(flags) ? "unknown option"
						     : "missing value");
			goto usage;
		}
		if (parse_u32(argv[a + 1], flags[f].min, flags[f].max,
			(uint32_t *)((char *)&op + flags[f].off)) != 0) {
			fprintf(stderr,
			    "sched: %s %s: expected an integer from %" PRIu32
			    " to %" PRIu32 "\n",
			    argv[a], argv[a + 1], flags[f].min, flags[f].max);
			goto usage;
		}
		a++;
	}
	if (op.jobs > op.tasks) {
		fprintf(stderr,
		    "sched: --jobs %" PRIu32 " exceeds --tasks %" PRIu32 "\n",
		    op.jobs, op.tasks);
		goto usage;
	}
	if ((rc = run(&op, &eb)) != 0) {
		fprintf(stderr, "sched: %s\n",
		    eb.msg[0] ? eb.msg : hq_strerror(rc));
		return 1;
	}
	return 0;
usage:
	fputs(USAGE, stderr);
	return 2;
}
