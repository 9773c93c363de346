/* SPDX-License-Identifier: MIT */
/* Greedy layered scheduler over the ready queues. Pure. */
#include "server/sched.h"

#include <stdlib.h>
#include <string.h>

void
hq_plan_fini(struct hq_plan *p)
{
	free(p->a);
	memset(p, 0, sizeof *p);
}

bool
hq_sched_variant_possible(const struct hq_state *st,
    const struct hq_sworker *w, uint32_t rqid, uint32_t vi, uint64_t now_ms)
{
	const struct hq_rq *rq = &st->rqs[rqid];
	const struct hq_res_variant *v = &rq->req.v[vi];
	uint32_t j;

	if (v->n_nodes > 0)
		return false; /* multi-node tasks take whole workers */
	if (v->min_time_ms > 0 && w->end_ms != 0 &&
	    (w->end_ms <= now_ms || w->end_ms - now_ms < v->min_time_ms))
		return false;
	for (j = 0; j < v->n; j++) {
		uint64_t total = hq_sworker_total(w, rq->rid[vi][j]);

		if (total == 0 || (v->e[j].policy != HQ_POLICY_ALL &&
				      v->e[j].amount > total))
			return false;
	}
	return true;
}

/* Does variant vi fit into w's capacity x layers given 'used'? */
static bool
variant_fits(const struct hq_state *st, const struct hq_sworker *w,
    const uint64_t *used, uint32_t rqid, uint32_t vi, uint32_t layers)
{
	const struct hq_rq *rq = &st->rqs[rqid];
	const struct hq_res_variant *v = &rq->req.v[vi];
	uint32_t j;

	for (j = 0; j < v->n; j++) {
		uint32_t rid = rq->rid[vi][j];
		uint64_t total = hq_sworker_total(w, rid);
		uint64_t u = rid < w->nres ? used[rid] : 0;
		uint64_t amount = v->e[j].policy == HQ_POLICY_ALL
		    ? total
		    : v->e[j].amount;

		if (u + amount > total * layers)
			return false;
	}
	return true;
}

static void
charge(const struct hq_state *st, const struct hq_sworker *w, uint64_t *used,
    uint32_t rqid, uint32_t vi)
{
	const struct hq_rq *rq = &st->rqs[rqid];
	const struct hq_res_variant *v = &rq->req.v[vi];
	uint32_t j;

	for (j = 0; j < v->n; j++) {
		uint32_t rid = rq->rid[vi][j];

		if (rid < w->nres)
			used[rid] += v->e[j].policy == HQ_POLICY_ALL
			    ? w->res_total[rid]
			    : v->e[j].amount;
	}
}

/* A read cursor over one ready queue that skips tasks not ready. */
struct cursor {
	const struct hq_bucket *b;
	uint32_t range;
	uint32_t pos;
	const struct hq_job *job;
};

static bool
cursor_peek(const struct hq_state *st, struct cursor *c, uint32_t *job,
    uint32_t *idx)
{
	while (c->range < c->b->len) {
		const struct hq_rrange *r = hq_bucket_range(c->b, c->range);

		if (c->job == NULL || c->job->id != r->job) {
			c->job = hq_state_job(st, r->job);
			if (c->pos < r->lo)
				c->pos = r->lo;
		}
		if (c->pos < r->lo)
			c->pos = r->lo;
		while (c->job != NULL && c->pos < r->hi) {
			if (c->job->tasks[c->pos].flags & HQ_TF_READY) {
				*job = r->job;
				*idx = c->pos;
				return true;
			}
			c->pos++;
		}
		c->range++;
		c->pos = 0;
		c->job = NULL;
	}
	return false;
}

/* Find a worker, from *hint on, where some variant of the queue's request
 * fits this layer; the variant goes to *vp. Workers before the hint are
 * known to be full for this queue in this round (they only fill up). */
static int
find_worker(const struct hq_state *st, const struct hq_sworker **ws,
    uint32_t nw, uint64_t *used, uint32_t nres, const struct hq_bucket *bk,
    uint32_t layer, uint64_t now_ms, uint32_t *hint, uint32_t *vp)
{
	const struct hq_rq *rq = &st->rqs[bk->rq];
	uint32_t i, v;

	for (i = *hint; i < nw; i++) {
		for (v = 0; v < rq->req.n; v++)
			if (hq_sched_variant_possible(st, ws[i], bk->rq, v,
				now_ms) &&
			    variant_fits(st, ws[i], used + (size_t)i * nres,
				bk->rq, v, layer))
				break;
		if (v < rq->req.n) {
			*hint = i;
			*vp = v;
			return (int)i;
		}
	}
	*hint = nw;
	return -1;
}

void
hq_sched_plan(const struct hq_state *st, uint64_t now_ms,
    const struct hq_sched_opts *o, struct hq_plan *out)
{
	uint32_t layers = o && o->layers ? o->layers : 2;
	uint32_t nw = 0, i, b, layer, nres = st->nresnames, lo, hi;
	const struct hq_sworker **ws;
	uint64_t *used;
	struct cursor *cur;
	uint32_t *hint;
	bool *blocked;

	out->n = 0;
	if (st->nbuckets == 0)
		return;
	ws = hq_xcalloc(st->workers_cap ? st->workers_cap : 1, sizeof *ws);
	for (i = 1; i < st->workers_cap; i++) {
		const struct hq_sworker *w = st->workers[i];

		if (w != NULL && w->online && !w->draining)
			ws[nw++] = w;
	}
	if (nw == 0) {
		free(ws);
		return;
	}
	used = hq_xcalloc((size_t)nw * (nres ? nres : 1), sizeof *used);
	for (i = 0; i < nw; i++)
		memcpy(used + (size_t)i * nres, ws[i]->res_used,
		    HQ_MIN(ws[i]->nres, nres) * sizeof *used);
	cur = hq_xcalloc(st->nbuckets, sizeof *cur);
	hint = hq_xcalloc(st->nbuckets, sizeof *hint);
	blocked = hq_xcalloc(st->nbuckets, sizeof *blocked);
	for (b = 0; b < st->nbuckets; b++)
		cur[b].b = st->buckets[b];

	/*
	 * Layer 1 fills what can run now; later layers queue work on workers
	 * (prefill). Within a layer, priority levels go from the highest;
	 * inside a level the queues (one per request kind) are merged by job
	 * id, so older jobs go first whatever their request.
	 */
	for (layer = 1; layer <= layers; layer++) {
		memset(hint, 0, st->nbuckets * sizeof *hint);
		memset(blocked, 0, st->nbuckets * sizeof *blocked);
		for (lo = 0; lo < st->nbuckets; lo = hi) {
			for (hi = lo + 1; hi < st->nbuckets &&
			     st->buckets[hi]->priority ==
				 st->buckets[lo]->priority;
			     hi++)
				;
			for (;;) {
				uint32_t best = UINT32_MAX, bjob = 0, bidx = 0;
				uint32_t job, idx, v;
				int wi;

				for (b = lo; b < hi; b++) {
					if (blocked[b] ||
					    st->buckets[b]->nready == 0 ||
					    !cursor_peek(st, &cur[b], &job,
						&idx)) {
						blocked[b] = true;
						continue;
					}
					if (best == UINT32_MAX || job < bjob ||
					    (job == bjob && idx < bidx)) {
						best = b;
						bjob = job;
						bidx = idx;
					}
				}
				if (best == UINT32_MAX)
					break;
				wi = find_worker(st, ws, nw, used, nres,
				    st->buckets[best], layer, now_ms,
				    &hint[best], &v);
				if (wi < 0) {
					blocked[best] = true;
					continue;
				}
				charge(st, ws[wi], used + (size_t)wi * nres,
				    st->buckets[best]->rq, v);
				HQ_VEC_RESERVE(out->a, out->cap, out->n + 1);
				out->a[out->n++] = (struct hq_assign){
					ws[wi]->id, bjob, bidx, v
				};
				cur[best].pos++;
			}
		}
	}
	free(blocked);
	free(hint);
	free(cur);
	free(used);
	free(ws);
}
