/* SPDX-License-Identifier: MIT */
/* Greedy layered scheduler over the ready queues. Pure. */
#include "server/sched.h"

#include <stdlib.h>
#include <string.h>

void
hq_plan_fini(struct hq_plan *p)
{
	free(p->a);
	free(p->nodes);
	free(p->held);
	memset(p, 0, sizeof *p);
}

uint32_t
hq_sched_group_size(const struct hq_state *st, uint32_t g)
{
	uint32_t i, n = 0;

	for (i = 1; i < st->workers_cap; i++)
		if (st->workers[i] != NULL && st->workers[i]->online &&
		    st->workers[i]->group_id == g)
			n++;
	return n;
}

static bool
time_ok(const struct hq_sworker *w, const struct hq_res_variant *v,
    uint64_t now_ms)
{
	return v->min_time_ms == 0 || w->end_ms == 0 ||
	    (w->end_ms > now_ms && w->end_ms - now_ms >= v->min_time_ms);
}

bool
hq_sched_variant_possible(const struct hq_state *st, const struct hq_sworker *w,
    uint32_t rqid, uint32_t vi, uint64_t now_ms)
{
	const struct hq_rq *rq = &st->rqs[rqid];
	const struct hq_res_variant *v = &rq->req.v[vi];
	uint32_t j;

	if (!time_ok(w, v, now_ms))
		return false;
	if (v->n_nodes > 0) {
		/* Enough workers of w's group that meet the time request. */
		uint32_t i, n = 0;

		for (i = 1; i < st->workers_cap; i++) {
			const struct hq_sworker *o = st->workers[i];

			if (o != NULL && o->online &&
			    o->group_id == w->group_id && time_ok(o, v, now_ms))
				n++;
		}
		return v->n_nodes <= n;
	}
	for (j = 0; j < v->n; j++) {
		uint64_t total = hq_sworker_total(w, rq->rid[vi][j]);

		if (total == 0 ||
		    (v->e[j].policy != HQ_POLICY_ALL && v->e[j].amount > total))
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
		uint64_t amount =
		    v->e[j].policy == HQ_POLICY_ALL ? total : v->e[j].amount;

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

/* Per-worker marks of one round. */
#define W_HELD	   0x01 /* kept free for a waiting multi-node task */
#define W_TAKEN	   0x02 /* got a multi-node task in this round */
#define W_EXCLUDED 0x04 /* min utilization not reachable: no new tasks */

/* The scratch of one planning round. */
struct round {
	const struct hq_state *st;
	uint64_t now;
	uint32_t layers;	      /* the most any worker takes */
	uint32_t default_layers;      /* for workers without their own limit */
	const struct hq_sworker **ws; /* usable workers, by id */
	uint32_t nw, nres;
	uint64_t *used;	    /* nw x nres: committed amounts */
	uint32_t *nplanned; /* per worker: assignments in this round */
	uint8_t *flag;	    /* per worker: W_* */
	int32_t *hold_prio; /* per held worker: the holding task's order */
	uint32_t *hold_weight;
	uint32_t *hold_job;
	uint32_t *bweight;	   /* per bucket: its request's weight */
	struct cursor *cur;	   /* per bucket */
	uint32_t *hint;		   /* per bucket: first worker worth trying */
	bool *blocked;		   /* per bucket, in this layer */
	uint32_t *gidle, *gusable; /* per group scratch */
	uint32_t gate;		   /* see round_gate() */
	uint32_t *room;		   /* per worker: first layer with room */
};

/*
 * A resource that every variant of every waiting single-node request asks
 * for (a positive amount or "all"), usually "cpus"; UINT32_MAX if there is
 * none. A worker whose committed amount of it fills L layers has no room
 * for any of these tasks in layers 1..L, so the round skips it there
 * without looking at the requests: a round over workers that are full
 * costs in workers x queues, not in workers x queues x layers.
 */
static uint32_t
round_gate(const struct hq_state *st, int32_t cpus)
{
	uint32_t b, v, e;
	bool any = false;

	if (cpus < 0)
		return UINT32_MAX;
	for (b = 0; b < st->nbuckets; b++) {
		const struct hq_rq *rq = &st->rqs[st->buckets[b]->rq];

		if (st->buckets[b]->nready == 0 ||
		    hq_state_rq_multinode(st, st->buckets[b]->rq))
			continue;
		for (v = 0; v < rq->req.n; v++) {
			const struct hq_res_variant *var = &rq->req.v[v];

			for (e = 0; e < var->n; e++)
				if (rq->rid[v][e] == (uint32_t)cpus &&
				    (var->e[e].amount > 0 ||
					var->e[e].policy == HQ_POLICY_ALL))
					break;
			if (e == var->n)
				return UINT32_MAX;
		}
		any = true;
	}
	return any ? (uint32_t)cpus : UINT32_MAX;
}

/* The first layer in which worker i may have room for the gate. */
static uint32_t
room_of(const struct round *r, uint32_t i)
{
	uint64_t total, used, layer;

	if (r->gate == UINT32_MAX)
		return 1;
	total = hq_sworker_total(r->ws[i], r->gate);
	if (total == 0)
		return UINT32_MAX; /* none of the waiting tasks fits here */
	used = r->gate < r->nres ? r->used[(size_t)i * r->nres + r->gate] : 0;
	layer = used / total + 1;
	return layer > UINT32_MAX ? UINT32_MAX : (uint32_t)layer;
}

/* A task with a time request is not queued on a worker with a lifetime
 * (layers > 1): by the time it would start, the worker may have too
 * little time left. It waits on the server until it can start at once. */
static bool
prefill_ok(const struct hq_sworker *w, const struct hq_res_variant *v,
    uint32_t layer, uint32_t default_layers)
{
	if (layer > (w->sched_layers ? w->sched_layers : default_layers))
		return false;
	return layer == 1 || v->min_time_ms == 0 || w->end_ms == 0;
}

/* The weight of a request: the highest of its variants' (x10000). */
static uint32_t
rq_weight(const struct hq_rq *rq)
{
	uint32_t v, w = 0;

	for (v = 0; v < rq->req.n; v++)
		w = HQ_MAX(w, rq->req.v[v].weight);
	return w;
}

/* The order of the ready queues: priority (higher first), then weight
 * (higher first), then job (older first). Is a after b? */
static bool
order_after(int32_t ap, uint32_t aw, uint32_t aj, int32_t bp, uint32_t bw,
    uint32_t bj)
{
	if (ap != bp)
		return ap < bp;
	if (aw != bw)
		return aw < bw;
	return aj > bj;
}

/* Find a worker, from *hint on, where some variant of the queue's request
 * fits this layer; the variant goes to *vp. Workers before the hint are
 * known to be full for this queue in this round (they only fill up, and
 * holds only grow). A held worker takes only tasks that come before the
 * holding multi-node task in the order (they matter in later layers). */
static int
find_worker(struct round *r, const struct hq_bucket *bk, uint32_t weight,
    uint32_t job, uint32_t layer, uint32_t *hint, uint32_t *vp)
{
	const struct hq_state *st = r->st;
	const struct hq_rq *rq = &st->rqs[bk->rq];
	uint32_t i, v;

	for (i = *hint; i < r->nw; i++) {
		if (layer < r->room[i] ||
		    (r->flag[i] & (W_TAKEN | W_EXCLUDED)) ||
		    ((r->flag[i] & W_HELD) &&
			order_after(bk->priority, weight, job, r->hold_prio[i],
			    r->hold_weight[i], r->hold_job[i])))
			continue;
		for (v = 0; v < rq->req.n; v++)
			if (prefill_ok(r->ws[i], &rq->req.v[v], layer,
				r->default_layers) &&
			    hq_sched_variant_possible(st, r->ws[i], bk->rq, v,
				r->now) &&
			    variant_fits(st, r->ws[i],
				r->used + (size_t)i * r->nres, bk->rq, v,
				layer))
				break;
		if (v < rq->req.n) {
			*hint = i;
			*vp = v;
			return (int)i;
		}
	}
	*hint = r->nw;
	return -1;
}

static void
plan_push(struct hq_plan *out, uint32_t worker, uint32_t job, uint32_t idx,
    uint32_t variant, uint32_t nodes, uint32_t nnodes)
{
	HQ_VEC_RESERVE(out->a, out->cap, out->n + 1);
	out->a[out->n++] =
	    (struct hq_assign){ worker, job, idx, variant, nodes, nnodes };
}

/* Can worker i take part in multi-node variant v in this round? */
static bool
mn_usable(const struct round *r, uint32_t i, const struct hq_res_variant *v)
{
	return !(r->flag[i] & (W_HELD | W_TAKEN)) &&
	    time_ok(r->ws[i], v, r->now);
}

static bool
mn_idle(const struct round *r, uint32_t i)
{
	return r->ws[i]->ninflight == 0 && r->nplanned[i] == 0;
}

/*
 * Place multi-node task (job, idx) of queue bk on n idle workers of one
 * group (the lowest group that has them; the lowest worker ids, the first
 * is the root). If no group has them, hold n workers of the group with
 * the most idle, then usable workers, preferring the least loaded ones,
 * so that they drain. Returns whether the task was placed.
 */
static bool
place_multinode(struct round *r, const struct hq_bucket *bk, uint32_t weight,
    uint32_t job, uint32_t idx, struct hq_plan *out)
{
	const struct hq_state *st = r->st;
	const struct hq_res_variant *v = &st->rqs[bk->rq].req.v[0];
	uint32_t n = v->n_nodes, ng = st->ngroups, g, i, k, best = UINT32_MAX;

	if (ng == 0)
		return false;
	memset(r->gidle, 0, ng * sizeof *r->gidle);
	memset(r->gusable, 0, ng * sizeof *r->gusable);
	for (i = 0; i < r->nw; i++) {
		if (!mn_usable(r, i, v))
			continue;
		g = r->ws[i]->group_id;
		r->gusable[g]++;
		if (mn_idle(r, i))
			r->gidle[g]++;
	}
	for (g = 0; g < ng; g++)
		if (r->gidle[g] >= n)
			break;
	if (g < ng) {
		uint32_t first = out->nnodes;

		HQ_VEC_RESERVE(out->nodes, out->nodes_cap, out->nnodes + n);
		for (i = 0, k = 0; i < r->nw && k < n; i++) {
			if (r->ws[i]->group_id != g || !mn_usable(r, i, v) ||
			    !mn_idle(r, i))
				continue;
			r->flag[i] |= W_TAKEN;
			r->nplanned[i]++;
			out->nodes[out->nnodes++] = r->ws[i]->id;
			k++;
		}
		HQ_ASSERT(k == n);
		plan_push(out, out->nodes[first], job, idx, 0, first, n);
		return true;
	}
	for (g = 0; g < ng; g++)
		if (r->gusable[g] >= n &&
		    (best == UINT32_MAX || r->gidle[g] > r->gidle[best] ||
			(r->gidle[g] == r->gidle[best] &&
			    r->gusable[g] > r->gusable[best])))
			best = g;
	if (best == UINT32_MAX)
		return false; /* not enough workers now: nothing to hold */
	for (k = 0; k < n; k++) {
		uint32_t pick = UINT32_MAX, load, pload = 0;

		for (i = 0; i < r->nw; i++) {
			if (r->ws[i]->group_id != best || !mn_usable(r, i, v))
				continue;
			load = r->ws[i]->ninflight + r->nplanned[i];
			if (pick == UINT32_MAX || load < pload) {
				pick = i;
				pload = load;
			}
		}
		HQ_ASSERT(pick != UINT32_MAX);
		r->flag[pick] |= W_HELD;
		r->hold_prio[pick] = bk->priority;
		r->hold_weight[pick] = weight;
		r->hold_job[pick] = job;
		HQ_VEC_RESERVE(out->held, out->held_cap, out->nheld + 1);
		out->held[out->nheld++] = r->ws[pick]->id;
	}
	return false;
}

/* Does the head (job, idx) of queue b come before (job2, idx2) of queue
 * b2 in the order of the ready queues? */
static bool
head_before(const struct round *r, uint32_t b, uint32_t job, uint32_t idx,
    uint32_t b2, uint32_t job2, uint32_t idx2)
{
	const struct hq_state *st = r->st;
	int32_t p = st->buckets[b]->priority, p2 = st->buckets[b2]->priority;

	if (order_after(p2, r->bweight[b2], job2, p, r->bweight[b], job))
		return true;
	if (order_after(p, r->bweight[b], job, p2, r->bweight[b2], job2))
		return false;
	return idx < idx2; /* one job, one weight */
}

/*
 * Merge the queues lo..hi-1 of one priority level into this layer: the
 * first task in the order goes to the first worker with room for it. The
 * queue at the front keeps the front while its next task still comes
 * before the runner-up's head, so the heads of all queues are compared
 * once per change of queue, not once per task (an array job's tasks go
 * one after another).
 */
static void
plan_level(struct round *r, struct hq_plan *out, uint32_t lo, uint32_t hi,
    uint32_t layer)
{
	const struct hq_state *st = r->st;

	for (;;) {
		uint32_t best = UINT32_MAX, bjob = 0, bidx = 0;
		uint32_t run = UINT32_MAX, rjob = 0, ridx = 0;
		uint32_t b, job, idx, v;
		int wi;

		for (b = lo; b < hi; b++) {
			if (r->blocked[b] || st->buckets[b]->nready == 0 ||
			    !cursor_peek(st, &r->cur[b], &job, &idx)) {
				r->blocked[b] = true;
				continue;
			}
			if (best == UINT32_MAX ||
			    head_before(r, b, job, idx, best, bjob, bidx)) {
				run = best;
				rjob = bjob;
				ridx = bidx;
				best = b;
				bjob = job;
				bidx = idx;
			} else if (run == UINT32_MAX ||
			    head_before(r, b, job, idx, run, rjob, ridx)) {
				run = b;
				rjob = job;
				ridx = idx;
			}
		}
		if (best == UINT32_MAX)
			return;
		if (hq_state_rq_multinode(st, st->buckets[best]->rq)) {
			if (place_multinode(r, st->buckets[best],
				r->bweight[best], bjob, bidx, out))
				r->cur[best].pos++;
			else
				r->blocked[best] = true;
			continue;
		}
		for (;;) {
			wi = find_worker(r, st->buckets[best], r->bweight[best],
			    bjob, layer, &r->hint[best], &v);
			if (wi < 0) {
				r->blocked[best] = true;
				break;
			}
			charge(st, r->ws[wi], r->used + (size_t)wi * r->nres,
			    st->buckets[best]->rq, v);
			r->nplanned[wi]++;
			r->room[wi] = room_of(r, (uint32_t)wi);
			plan_push(out, r->ws[wi]->id, bjob, bidx, v, 0, 0);
			r->cur[best].pos++;
			if (!cursor_peek(st, &r->cur[best], &job, &idx) ||
			    (run != UINT32_MAX &&
				!head_before(r, best, job, idx, run, rjob,
				    ridx)))
				break;
			bjob = job;
			bidx = idx;
		}
	}
}

/* One full planning pass over every layer; keeps W_EXCLUDED marks. */
static void
plan_round(struct round *r, struct hq_plan *out)
{
	const struct hq_state *st = r->st;
	uint32_t nres = r->nres, nb = st->nbuckets, i, b, lo, hi, layer;

	out->n = out->nnodes = out->nheld = 0;
	for (i = 0; i < r->nw; i++) {
		memset(r->used + (size_t)i * nres, 0, nres * sizeof *r->used);
		memcpy(r->used + (size_t)i * nres, r->ws[i]->res_used,
		    HQ_MIN(r->ws[i]->nres, nres) * sizeof *r->used);
		r->nplanned[i] = 0;
		r->flag[i] &= W_EXCLUDED;
		r->room[i] = room_of(r, i);
	}
	memset(r->cur, 0, nb * sizeof *r->cur);
	for (b = 0; b < nb; b++)
		r->cur[b].b = st->buckets[b];

	/*
	 * Layer 1 fills what can run now; later layers queue work on workers
	 * (prefill). Within a layer, priority levels go from the highest;
	 * inside a level the queues (one per request kind) are merged by
	 * weight (--weight, higher first), then by job id, so among equal
	 * weights older jobs go first whatever their request. A queue that
	 * finds no room is skipped for the layer: neither a weight nor an
	 * older job blocks the queues after it.
	 */
	for (layer = 1; layer <= r->layers; layer++) {
		/* Multi-node tasks go in layer 1 only, single-node ones
		 * where a worker has room: skip a later layer without it. */
		if (layer > 1) {
			for (i = 0; i < r->nw && r->room[i] > layer; i++)
				;
			if (i == r->nw)
				continue;
		}
		memset(r->hint, 0, nb * sizeof *r->hint);
		memset(r->blocked, 0, nb * sizeof *r->blocked);
		for (b = 0; b < nb; b++)
			if (layer > 1 &&
			    hq_state_rq_multinode(st, st->buckets[b]->rq))
				r->blocked[b] = true;
		for (lo = 0; lo < nb; lo = hi) {
			for (hi = lo + 1; hi < nb &&
			     st->buckets[hi]->priority ==
				 st->buckets[lo]->priority;
			     hi++)
				;
			plan_level(r, out, lo, hi, layer);
		}
	}
}

/* Mark workers whose new single-node work stays below their minimal
 * utilization; returns how many were newly marked. */
static uint32_t
check_min_utilization(struct round *r, int32_t cpus)
{
	uint32_t i, bad = 0;

	for (i = 0; i < r->nw; i++) {
		const struct hq_sworker *w = r->ws[i];
		uint64_t total, used;

		if (w->cfg.min_utilization == 0 || r->nplanned[i] == 0 ||
		    (r->flag[i] & (W_TAKEN | W_EXCLUDED)))
			continue;
		total = cpus >= 0 ? hq_sworker_total(w, (uint32_t)cpus) : 0;
		used = cpus >= 0 && (uint32_t)cpus < r->nres
		    ? r->used[(size_t)i * r->nres + (uint32_t)cpus]
		    : 0;
		if (HQ_MIN(used, total) * HQ_AMOUNT_ONE <
		    (uint64_t)w->cfg.min_utilization * total) {
			r->flag[i] |= W_EXCLUDED;
			bad++;
		}
	}
	return bad;
}

void
hq_sched_plan(const struct hq_state *st, uint64_t now_ms,
    const struct hq_sched_opts *o, struct hq_plan *out)
{
	struct round r;
	uint32_t i, k, nb = st->nbuckets;
	int32_t cpus;

	out->n = out->nnodes = out->nheld = 0;
	if (nb == 0)
		return;
	memset(&r, 0, sizeof r);
	r.st = st;
	r.now = now_ms;
	r.layers = r.default_layers = o && o->layers ? o->layers : 2;
	for (i = 1; i < st->workers_cap; i++)
		if (st->workers[i] != NULL &&
		    st->workers[i]->sched_layers > r.layers)
			r.layers = st->workers[i]->sched_layers;
	r.nres = st->nresnames;
	r.ws = hq_xcalloc(st->workers_cap ? st->workers_cap : 1, sizeof *r.ws);
	/* Workers with a minimal utilization last: they take what the
	 * others leave, which is what they need to reach it. */
	for (k = 0; k < 2; k++)
		for (i = 1; i < st->workers_cap; i++) {
			const struct hq_sworker *w = st->workers[i];

			if (w != NULL && w->online && !w->draining &&
			    w->mn_job == 0 &&
			    (w->cfg.min_utilization > 0) == (k == 1))
				r.ws[r.nw++] = w;
		}
	if (r.nw == 0) {
		free(r.ws);
		return;
	}
	r.used =
	    hq_xcalloc((size_t)r.nw * (r.nres ? r.nres : 1), sizeof *r.used);
	r.nplanned = hq_xcalloc(r.nw, sizeof *r.nplanned);
	r.flag = hq_xcalloc(r.nw, sizeof *r.flag);
	r.hold_prio = hq_xcalloc(r.nw, sizeof *r.hold_prio);
	r.hold_weight = hq_xcalloc(r.nw, sizeof *r.hold_weight);
	r.hold_job = hq_xcalloc(r.nw, sizeof *r.hold_job);
	r.bweight = hq_xcalloc(nb, sizeof *r.bweight);
	for (i = 0; i < nb; i++)
		r.bweight[i] = rq_weight(&st->rqs[st->buckets[i]->rq]);
	r.cur = hq_xcalloc(nb, sizeof *r.cur);
	r.hint = hq_xcalloc(nb, sizeof *r.hint);
	r.blocked = hq_xcalloc(nb, sizeof *r.blocked);
	r.gidle = hq_xcalloc(st->ngroups ? st->ngroups : 1, sizeof *r.gidle);
	r.gusable =
	    hq_xcalloc(st->ngroups ? st->ngroups : 1, sizeof *r.gusable);
	cpus = hq_state_resource_id(st, "cpus");
	r.gate = round_gate(st, cpus);
	r.room = hq_xcalloc(r.nw, sizeof *r.room);
	/* Every repetition excludes one more worker: at most nw + 1. */
	do
		plan_round(&r, out);
	while (check_min_utilization(&r, cpus) > 0);
	free(r.room);
	free(r.gusable);
	free(r.gidle);
	free(r.blocked);
	free(r.hint);
	free(r.cur);
	free(r.bweight);
	free(r.hold_job);
	free(r.hold_weight);
	free(r.hold_prio);
	free(r.flag);
	free(r.nplanned);
	free(r.used);
	free(r.ws);
}
