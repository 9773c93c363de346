/* SPDX-License-Identifier: MIT */
/* The automatic allocation decision loop. Pure. */
#include "server/alloc_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint64_t default_delays_ms[] = {
	0,
	60 * 1000,
	15 * 60 * 1000,
	30 * 60 * 1000,
	60 * 60 * 1000,
};

void
hq_alloc_tuning_default(struct hq_alloc_tuning *t)
{
	t->max_submit_fails = 10;
	t->max_alloc_fails = 3;
	t->delays_ms = default_delays_ms;
	t->ndelays = HQ_ARRAY_LEN(default_delays_ms);
}

void
hq_alloc_actions_fini(struct hq_alloc_actions *acts)
{
	free(acts->a);
	memset(acts, 0, sizeof *acts);
}

void
hq_alloc_demand_fini(struct hq_alloc_demand *d)
{
	free(d->mn);
	memset(d, 0, sizeof *d);
}

/* ---- demand
 * ------------------------------------------------------------------ */

enum fit {
	FIT_NO = 0,
	FIT_SN,	   /* single-node: per_worker tasks fit one worker */
	FIT_PROBE, /* needs a resource the partial description lacks */
	FIT_MN,	   /* multi-node task that fits one allocation */
};

/*
 * How variant v of a request fits the queue's workers. 'res' may be NULL
 * (nothing known); with 'partial', absent resources are unknown rather
 * than missing.
 */
static enum fit
variant_fit(const struct hq_res_variant *v, const struct hq_worker_res *res,
    bool partial, uint64_t wlimit_ms, uint32_t mwpa, uint64_t *per_worker)
{
	uint64_t per = UINT64_MAX;
	bool probe = false;
	uint32_t j;

	if (v->min_time_ms > wlimit_ms)
		return FIT_NO;
	if (v->n_nodes > 0)
		return v->n_nodes <= mwpa ? FIT_MN : FIT_NO;
	for (j = 0; j < v->n; j++) {
		const struct hq_res_entry *e = &v->e[j];
		const struct hq_res_pool *pool =
		    res != NULL ? hq_worker_res_find(res, e->name) : NULL;
		uint64_t k;

		if (pool != NULL) {
			uint64_t total = hq_res_pool_total(pool);

			if (total == 0)
				return FIT_NO;
			if (e->policy == HQ_POLICY_ALL) {
				k = 1;
			} else {
				if (e->amount == 0 || e->amount > total)
					return FIT_NO;
				k = total / e->amount;
			}
		} else if (partial) {
			/* Unknown cpus: one task per worker, the most
			 * workers it could take. Anything else: a probe. */
			k = 1;
			if (strcmp(e->name, "cpus") != 0)
				probe = true;
		} else {
			return FIT_NO;
		}
		if (k < per)
			per = k;
	}
	*per_worker = per == UINT64_MAX ? 1 : per;
	return probe ? FIT_PROBE : FIT_SN;
}

void
hq_alloc_demand(const struct hq_state *st, const struct hq_aqueue *q,
    uint64_t now_ms, uint32_t max_sn, uint32_t max_mn,
    struct hq_alloc_demand *out)
{
	const struct hq_worker_res *res = NULL;
	uint64_t wlimit = hq_alloc_params_worker_limit(&q->p);
	double demand = 0.0, minu = q->p.min_utilization / 10000.0, whole;
	bool partial = true;
	uint32_t b, vi;
	uint64_t sn;

	(void)now_ms;
	out->sn_workers = 0;
	out->nmn = 0;
	out->probe = false;
	if (q->has_known_res) {
		res = &q->known_res;
		partial = false;
	} else if (q->has_cli_res) {
		res = &q->cli_res;
	}
	for (b = 0; b < st->nbuckets; b++) {
		const struct hq_bucket *bk = st->buckets[b];
		const struct hq_rq *rq = &st->rqs[bk->rq];
		enum fit fit = FIT_NO;
		uint64_t per = 1, k;

		if (bk->nready == 0)
			continue;
		for (vi = 0; vi < rq->req.n && fit == FIT_NO; vi++)
			fit = variant_fit(&rq->req.v[vi], res, partial, wlimit,
			    q->p.max_workers_per_alloc, &per);
		switch (fit) {
		case FIT_NO:
			break;
		case FIT_SN:
			demand += (double)bk->nready / (double)per;
			break;
		case FIT_PROBE:
			out->probe = true;
			break;
		case FIT_MN:
			for (k = 0; k < bk->nready && out->nmn < max_mn; k++)
				HQ_VEC_PUSH(out->mn, out->nmn, out->mncap,
				    rq->req.v[vi - 1].n_nodes);
			break;
		}
	}
	/* A last worker that would be used less than min_utilization is
	 * not worth asking for. */
	whole = (double)(uint64_t)demand;
	sn = (uint64_t)whole;
	if (demand - whole > 1e-6 && demand - whole + 1e-6 >= minu)
		sn++;
	if (sn == 0 && out->probe)
		sn = 1;
	else
		out->probe = false;
	out->sn_workers = sn > max_sn ? max_sn : (uint32_t)sn;
}

/* ---- plan
 * ---------------------------------------------------------------------- */

static void
push_action(struct hq_alloc_actions *out, enum hq_alloc_action_kind kind,
    uint32_t queue_id, uint32_t workers, const char *reason)
{
	struct hq_alloc_action *a;

	HQ_VEC_RESERVE(out->a, out->cap, out->n + 1);
	a = &out->a[out->n++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->queue_id = queue_id;
	a->workers = workers;
	if (reason != NULL)
		snprintf(a->reason, sizeof a->reason, "%s", reason);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
plan_queue(const struct hq_state *st, const struct hq_aqueue *q,
    uint64_t now_ms, struct hq_alloc_actions *out)
{
	const struct hq_alloc_params *p = &q->p;
	uint32_t nqueued = q->inflight, allocs_left, workers_left = UINT32_MAX;
	uint32_t *sizes = NULL, nsizes = 0, scap = 0, i, k, need;
	uint64_t pending = q->inflight_workers, max_sn;
	struct hq_alloc_demand d;

	for (i = 0; i < q->nallocs; i++) {
		const struct hq_allocation *a = q->allocs[i];

		if (a->status == HQ_ALLOC_QUEUED) {
			nqueued++;
			HQ_VEC_PUSH(sizes, nsizes, scap, a->target);
		}
		pending += hq_allocation_pending(a);
	}
	if (nqueued >= p->backlog) {
		free(sizes);
		return;
	}
	allocs_left = p->backlog - nqueued;
	if (p->max_worker_count > 0) {
		uint32_t active = hq_aqueue_active_workers(q);

		workers_left = p->max_worker_count > active
		    ? p->max_worker_count - active
		    : 0;
	}
	max_sn = (uint64_t)p->backlog * p->max_workers_per_alloc;
	memset(&d, 0, sizeof d);
	hq_alloc_demand(st, q, now_ms,
	    max_sn > UINT32_MAX ? UINT32_MAX : (uint32_t)max_sn,
	    p->backlog + nqueued, &d);

	/* Multi-node tasks first: each takes a queued allocation that is
	 * big enough, or a new one of its size. */
	if (nsizes > 1)
		qsort(sizes, nsizes, sizeof *sizes, cmp_u32);
	for (i = 0; i < d.nmn; i++) {
		for (k = 0; k < nsizes; k++)
			if (sizes[k] >= d.mn[i])
				break;
		if (k < nsizes) {
			pending -= sizes[k];
			memmove(&sizes[k], &sizes[k + 1],
			    (nsizes - k - 1) * sizeof *sizes);
			nsizes--;
			continue;
		}
		if (allocs_left == 0 || workers_left < d.mn[i])
			continue;
		push_action(out, HQ_AA_SUBMIT, q->id, d.mn[i], NULL);
		allocs_left--;
		workers_left -= d.mn[i];
	}
	need = d.sn_workers > pending ? d.sn_workers - (uint32_t)pending : 0;
	if (need > workers_left)
		need = workers_left;
	while (need > 0 && allocs_left > 0) {
		uint32_t n = HQ_MIN(need, p->max_workers_per_alloc);

		push_action(out, HQ_AA_SUBMIT, q->id, n, NULL);
		need -= n;
		allocs_left--;
	}
	hq_alloc_demand_fini(&d);
	free(sizes);
}

void
hq_alloc_plan(const struct hq_state *st, uint64_t now_ms,
    const struct hq_alloc_tuning *t, struct hq_alloc_actions *out)
{
	const struct hq_alloc_state *as = st->alloc;
	char reason[160];
	uint32_t i;

	out->n = 0;
	for (i = 0; i < as->nqueues; i++) {
		const struct hq_aqueue *q = as->queues[i];

		if (q->paused)
			continue;
		if (t->max_submit_fails > 0 &&
		    q->submit_fails >= t->max_submit_fails) {
			snprintf(reason, sizeof reason,
			    "submitting an allocation failed %u times in a "
			    "row",
			    q->submit_fails);
			push_action(out, HQ_AA_PAUSE, q->id, 0, reason);
			continue;
		}
		if (t->max_alloc_fails > 0 &&
		    q->alloc_fails >= t->max_alloc_fails) {
			snprintf(reason, sizeof reason,
			    "%u allocations in a row failed", q->alloc_fails);
			push_action(out, HQ_AA_PAUSE, q->id, 0, reason);
			continue;
		}
		if (q->submit_fails > 0 && t->ndelays > 0) {
			uint32_t k = HQ_MIN(q->submit_fails, t->ndelays - 1);

			if (now_ms < q->last_fail_ms + t->delays_ms[k])
				continue;
		}
		plan_queue(st, q, now_ms, out);
	}
}
