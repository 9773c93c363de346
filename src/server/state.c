/* SPDX-License-Identifier: MIT */
/*
 * The server state and its one mutation function, hq_state_apply(). Pure:
 * no I/O, no clock, no randomness; iteration orders are fixed so that
 * replaying the same events rebuilds an identical state.
 */
#include "server/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/parse.h"

/* ---- small helpers -------------------------------------------------- */

static struct hq_job *
job_get(const struct hq_state *st, uint32_t id)
{
	if (id == 0 || id >= st->next_job_id || id >= st->jobs_cap)
		return NULL;
	return st->jobs[id];
}

struct hq_job *
hq_state_job(const struct hq_state *st, uint32_t id)
{
	return job_get(st, id);
}

struct hq_sworker *
hq_state_worker(const struct hq_state *st, uint32_t id)
{
	if (id == 0 || id >= st->workers_cap)
		return NULL;
	return st->workers[id];
}

uint32_t
hq_state_last_job_id(const struct hq_state *st)
{
	return st->next_job_id > 1 ? st->next_job_id - 1 : 0;
}

int64_t
hq_job_task_index(const struct hq_job *job, uint32_t id)
{
	uint32_t v;

	if (job->ntasks == 0)
		return -1;
	if (job->dense) {
		uint32_t base = job->tasks[0].id;

		if (id < base || id - base >= job->ntasks)
			return -1;
		return id - base;
	}
	if (hq_u32map_get(&job->idmap, id, &v))
		return v;
	return -1;
}

static void
job_count(struct hq_job *job, enum hq_task_state from, enum hq_task_state to)
{
	HQ_ASSERT(job->counts[from] > 0);
	job->counts[from]--;
	job->counts[to]++;
}

bool
hq_job_tasks_done(const struct hq_job *job)
{
	return job->counts[HQ_TASK_WAITING] == 0 &&
	    job->counts[HQ_TASK_RUNNING] == 0;
}

bool
hq_job_terminated(const struct hq_job *job)
{
	return !job->is_open && hq_job_tasks_done(job);
}

enum hq_job_state
hq_job_state(const struct hq_job *job)
{
	if (job->counts[HQ_TASK_RUNNING] > 0)
		return HQ_JOB_RUNNING;
	if (job->counts[HQ_TASK_WAITING] > 0)
		return HQ_JOB_WAITING;
	if (job->counts[HQ_TASK_FAILED] > 0)
		return HQ_JOB_FAILED;
	if (job->counts[HQ_TASK_ABORTED] > 0)
		return HQ_JOB_ABORTED;
	if (job->counts[HQ_TASK_CANCELED] > 0)
		return HQ_JOB_CANCELED;
	if (job->is_open)
		return HQ_JOB_OPENED;
	return HQ_JOB_FINISHED;
}

const char *
hq_job_task_error(const struct hq_job *job, uint32_t idx)
{
	uint32_t i;

	/* Newest first: a task fails at most once, but keep it robust. */
	for (i = job->nerrors; i > 0; i--)
		if (job->errors[i - 1].idx == idx)
			return job->errors[i - 1].msg;
	return NULL;
}

const struct hq_jsubmit *
hq_job_task_submit(const struct hq_job *job, uint32_t idx)
{
	uint32_t lo = 0, hi = job->nsubmits;

	/* Submits cover consecutive index ranges in order. */
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (job->submits[mid].first_task <= idx)
			lo = mid;
		else
			hi = mid;
	}
	return job->nsubmits ? &job->submits[lo] : NULL;
}

const char *
hq_job_task_entry(const struct hq_job *job, uint32_t idx)
{
	const struct hq_jsubmit *s = hq_job_task_submit(job, idx);
	uint32_t k;

	if (s == NULL || s->s.nentries == 0)
		return NULL;
	k = idx - s->first_task;
	return k < s->s.nentries ? s->s.entries[k] : NULL;
}

int32_t
hq_state_resource_id(const struct hq_state *st, const char *name)
{
	uint32_t i;

	for (i = 0; i < st->nresnames; i++)
		if (strcmp(st->resnames[i], name) == 0)
			return (int32_t)i;
	return -1;
}

static uint32_t
resource_intern(struct hq_state *st, const char *name)
{
	int32_t id = hq_state_resource_id(st, name);

	if (id >= 0)
		return (uint32_t)id;
	st->resnames = hq_xreallocarray(st->resnames, st->nresnames + 1,
	    sizeof *st->resnames);
	st->resnames[st->nresnames] = hq_xstrdup(name);
	return st->nresnames++;
}

uint64_t
hq_sworker_total(const struct hq_sworker *w, uint32_t rid)
{
	return rid < w->nres ? w->res_total[rid] : 0;
}

uint64_t
hq_sworker_used(const struct hq_sworker *w, uint32_t rid)
{
	return rid < w->nres ? w->res_used[rid] : 0;
}

bool
hq_state_rq_multinode(const struct hq_state *st, uint32_t rq)
{
	return rq < st->nrqs && st->rqs[rq].req.n > 0 &&
	    st->rqs[rq].req.v[0].n_nodes > 0;
}

bool
hq_sworker_mn_task(const struct hq_state *st, const struct hq_sworker *w,
    struct hq_job **jobp, uint32_t *idx)
{
	struct hq_job *job;

	if (w->mn_job == 0 || (job = job_get(st, w->mn_job)) == NULL ||
	    w->mn_idx >= job->ntasks)
		return false;
	*jobp = job;
	*idx = w->mn_idx;
	return true;
}

const uint32_t *
hq_job_task_nodes(const struct hq_job *job, uint32_t idx, uint32_t *n)
{
	uint32_t i;

	if (job->nmn > 0 && hq_u32map_get(&job->mn_index, idx, &i)) {
		*n = job->mn[i].n;
		return job->mn[i].nodes;
	}
	*n = 0;
	return NULL;
}

static uint32_t
group_intern(struct hq_state *st, const char *name)
{
	uint32_t i;

	if (name == NULL)
		name = "";
	for (i = 0; i < st->ngroups; i++)
		if (strcmp(st->groups[i], name) == 0)
			return i;
	st->groups =
	    hq_xreallocarray(st->groups, st->ngroups + 1, sizeof *st->groups);
	st->groups[st->ngroups] = hq_xstrdup(name);
	return st->ngroups++;
}

uint32_t
hq_job_task_ndeps(const struct hq_job *job, uint32_t idx)
{
	return job->deps ? job->deps->ndeps[idx] : 0;
}

uint32_t
hq_job_task_waiting_deps(const struct hq_job *job, uint32_t idx)
{
	return job->deps ? job->deps->waiting[idx] : 0;
}

/* ---- resource requests -------------------------------------------------- */

void
hq_rq_key(struct hq_buf *b, const struct hq_res_request *r)
{
	uint32_t i, j;

	for (i = 0; i < r->n; i++) {
		const struct hq_res_variant *v = &r->v[i];

		hq_buf_printf(b, "|%u,%llu,%u", v->n_nodes,
		    (unsigned long long)v->min_time_ms, v->weight);
		for (j = 0; j < v->n; j++)
			hq_buf_printf(b, ";%s=%llu/%d", v->e[j].name,
			    (unsigned long long)v->e[j].amount,
			    (int)v->e[j].policy);
	}
	hq_buf_append(b, "", 1);
}

static uint32_t
rq_intern(struct hq_state *st, const struct hq_res_request *req)
{
	struct hq_buf key;
	struct hq_rq *rq;
	uint32_t i, j;

	hq_buf_init(&key);
	hq_rq_key(&key, req);
	for (i = 0; i < st->nrqs; i++)
		if (strcmp(st->rqs[i].key, (char *)key.data) == 0) {
			hq_buf_fini(&key);
			return i;
		}
	HQ_VEC_RESERVE(st->rqs, st->rqcap, st->nrqs + 1);
	rq = &st->rqs[st->nrqs];
	memset(rq, 0, sizeof *rq);
	hq_res_request_copy(&rq->req, req);
	rq->key = hq_xstrdup((char *)key.data);
	rq->rid = hq_xcalloc(req->n, sizeof *rq->rid);
	for (i = 0; i < req->n; i++) {
		rq->rid[i] = hq_xcalloc(req->v[i].n + 1, sizeof **rq->rid);
		for (j = 0; j < req->v[i].n; j++)
			rq->rid[i][j] =
			    resource_intern(st, req->v[i].e[j].name);
	}
	hq_buf_fini(&key);
	return st->nrqs++;
}

/* ---- ready queues -------------------------------------------------------- */

/* The ready queue of (priority, rq); created on first use. Buckets live
 * as long as the state, so descs cache the pointer. */
static struct hq_bucket *
bucket_get(struct hq_state *st, int32_t priority, uint32_t rq)
{
	struct hq_bucket *b;
	uint32_t i, pos;

	for (i = 0; i < st->nbuckets; i++)
		if (st->buckets[i]->priority == priority &&
		    st->buckets[i]->rq == rq)
			return st->buckets[i];
	b = hq_xcalloc(1, sizeof *b);
	b->priority = priority;
	b->rq = rq;
	st->buckets = hq_xreallocarray(st->buckets, st->nbuckets + 1,
	    sizeof *st->buckets);
	/* Keep the scheduling order: priority desc, then rq asc. */
	for (pos = 0; pos < st->nbuckets; pos++) {
		const struct hq_bucket *o = st->buckets[pos];

		if (o->priority < priority ||
		    (o->priority == priority && o->rq > rq))
			break;
	}
	memmove(&st->buckets[pos + 1], &st->buckets[pos],
	    (st->nbuckets - pos) * sizeof *st->buckets);
	st->buckets[pos] = b;
	st->nbuckets++;
	return b;
}

static struct hq_bucket *
bucket_of(struct hq_state *st, struct hq_jdesc *jd)
{
	if (jd->bq == NULL)
		jd->bq = bucket_get(st, jd->d->priority, jd->rq);
	return jd->bq;
}

static struct hq_rrange *
bucket_at(const struct hq_bucket *b, uint32_t i)
{
	return &b->q[(b->head + i) & (b->cap - 1)];
}

static void
bucket_grow(struct hq_bucket *b)
{
	uint32_t ncap = b->cap ? b->cap * 2 : 16, i;
	struct hq_rrange *nq = hq_xcalloc(ncap, sizeof *nq);

	for (i = 0; i < b->len; i++)
		nq[i] = *bucket_at(b, i);
	free(b->q);
	b->q = nq;
	b->cap = ncap;
	b->head = 0;
}

static void
bucket_push_back(struct hq_bucket *b, uint32_t job, uint32_t lo, uint32_t hi)
{
	if (b->len > 0) {
		struct hq_rrange *t = bucket_at(b, b->len - 1);

		if (t->job == job && t->hi == lo) {
			t->hi = hi;
			b->nready += hi - lo;
			return;
		}
	}
	if (b->len == b->cap)
		bucket_grow(b);
	*bucket_at(b, b->len) = (struct hq_rrange){ job, lo, hi };
	b->len++;
	b->nready += hi - lo;
}

static void
bucket_push_front(struct hq_bucket *b, uint32_t job, uint32_t idx)
{
	if (b->len == b->cap)
		bucket_grow(b);
	b->head = (b->head - 1) & (b->cap - 1);
	b->len++;
	*bucket_at(b, 0) = (struct hq_rrange){ job, idx, idx + 1 };
	b->nready++;
}

/* Drop leading entries whose tasks are no longer ready. */
static void
bucket_trim(struct hq_state *st, struct hq_bucket *b)
{
	while (b->len > 0) {
		struct hq_rrange *r = bucket_at(b, 0);
		struct hq_job *job = job_get(st, r->job);

		while (job != NULL && r->lo < r->hi &&
		    !(job->tasks[r->lo].flags & HQ_TF_READY))
			r->lo++;
		if (job != NULL && r->lo < r->hi)
			return;
		b->head = (b->head + 1) & (b->cap - 1);
		b->len--;
	}
}

/* Remove every range of a job (cancel, forget): ranges are few. */
static void
bucket_remove_job(struct hq_bucket *b, uint32_t job)
{
	uint32_t i, k = 0;

	for (i = 0; i < b->len; i++) {
		struct hq_rrange r = *bucket_at(b, i);

		if (r.job != job)
			*bucket_at(b, k++) = r;
	}
	b->len = k;
}

static void
task_make_ready(struct hq_state *st, struct hq_job *job, uint32_t idx,
    bool front)
{
	struct hq_task *t = &job->tasks[idx];
	struct hq_bucket *b = bucket_of(st, &job->descs[t->desc]);

	t->flags |= HQ_TF_READY;
	if (front)
		bucket_push_front(b, job->id, idx);
	else
		bucket_push_back(b, job->id, idx, idx + 1);
}

static void
task_unready(struct hq_state *st, struct hq_job *job, uint32_t idx)
{
	struct hq_task *t = &job->tasks[idx];
	struct hq_bucket *b;

	if (!(t->flags & HQ_TF_READY))
		return;
	t->flags &= ~HQ_TF_READY;
	b = bucket_of(st, &job->descs[t->desc]);
	HQ_ASSERT(b->nready > 0);
	b->nready--;
}

/* ---- workers and accounting -------------------------------------------- */

static void
account(const struct hq_state *st, struct hq_sworker *w, uint32_t rqid,
    uint32_t variant, bool add)
{
	const struct hq_rq *rq = &st->rqs[rqid];
	const struct hq_res_variant *v;
	uint32_t j;

	if (variant >= rq->req.n)
		return;
	v = &rq->req.v[variant];
	for (j = 0; j < v->n; j++) {
		uint32_t rid = rq->rid[variant][j];
		uint64_t amount;

		if (rid >= w->nres)
			continue;
		amount = v->e[j].policy == HQ_POLICY_ALL ? w->res_total[rid]
							 : v->e[j].amount;
		if (add)
			w->res_used[rid] += amount;
		else
			w->res_used[rid] -= HQ_MIN(amount, w->res_used[rid]);
	}
}

static void
inflight_add(struct hq_state *st, struct hq_sworker *w, struct hq_job *job,
    uint32_t idx, uint32_t variant)
{
	struct hq_task *t = &job->tasks[idx];

	HQ_VEC_RESERVE(w->inflight, w->icap, w->ninflight + 1);
	w->inflight[w->ninflight] = (struct hq_inflight){ job->id, idx };
	t->wslot = w->ninflight++;
	t->worker = w->id;
	t->variant = (uint8_t)variant;
	account(st, w, job->descs[t->desc].rq, t->variant, true);
}

static void
inflight_remove(struct hq_state *st, struct hq_sworker *w, struct hq_job *job,
    uint32_t idx)
{
	struct hq_task *t = &job->tasks[idx];
	uint32_t slot = t->wslot;

	HQ_ASSERT(slot < w->ninflight && w->inflight[slot].job == job->id &&
	    w->inflight[slot].idx == idx);
	account(st, w, job->descs[t->desc].rq, t->variant, false);
	w->ninflight--;
	if (slot != w->ninflight) {
		struct hq_inflight moved = w->inflight[w->ninflight];
		struct hq_job *mj = job_get(st, moved.job);

		w->inflight[slot] = moved;
		if (mj != NULL)
			mj->tasks[moved.idx].wslot = slot;
	}
	if (t->state == HQ_TASK_RUNNING && w->nrunning > 0)
		w->nrunning--;
}

static void
worker_set_resources(struct hq_state *st, struct hq_sworker *w)
{
	uint32_t i;

	for (i = 0; i < w->cfg.res.n; i++)
		resource_intern(st, w->cfg.res.pools[i].name);
	w->nres = st->nresnames;
	w->res_total = hq_xcalloc(w->nres, sizeof *w->res_total);
	w->res_used = hq_xcalloc(w->nres, sizeof *w->res_used);
	for (i = 0; i < w->cfg.res.n; i++) {
		uint32_t rid = (uint32_t)hq_state_resource_id(st,
		    w->cfg.res.pools[i].name);

		w->res_total[rid] = hq_res_pool_total(&w->cfg.res.pools[i]);
	}
}

/* Reserve the nodes of multi-node task idx; root first, validated. */
static void
mn_reserve(struct hq_state *st, struct hq_job *job, uint32_t idx,
    const uint32_t *nodes, uint32_t n)
{
	struct hq_sworker *root = hq_state_worker(st, nodes[0]);
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct hq_sworker *w = hq_state_worker(st, nodes[i]);

		w->mn_job = job->id;
		w->mn_idx = idx;
	}
	free(root->mn_nodes);
	root->mn_nodes = hq_xmemdup(nodes, n * sizeof *nodes);
	root->mn_nnodes = n;
	/* Remember them for display after the task ends. */
	if (!hq_u32map_get(&job->mn_index, idx, &i)) {
		i = job->nmn;
		job->mn =
		    hq_xreallocarray(job->mn, job->nmn + 1, sizeof *job->mn);
		job->mn[job->nmn++] = (struct hq_mnrec){ idx, 0, NULL };
		hq_u32map_put(&job->mn_index, idx, i);
	}
	free(job->mn[i].nodes);
	job->mn[i].nodes = hq_xmemdup(nodes, n * sizeof *nodes);
	job->mn[i].n = n;
}

/* Free the nodes of a multi-node task whose root is w (if it is one). */
static void
mn_release(struct hq_state *st, struct hq_sworker *w, const struct hq_job *job,
    uint32_t idx)
{
	uint32_t i;

	if (w->mn_job != job->id || w->mn_idx != idx || w->mn_nodes == NULL)
		return;
	for (i = 0; i < w->mn_nnodes; i++) {
		struct hq_sworker *n = hq_state_worker(st, w->mn_nodes[i]);
		const struct hq_task *t = &job->tasks[idx];

		if (n == NULL || n->mn_job != job->id || n->mn_idx != idx)
			continue;
		n->mn_job = n->mn_idx = 0;
		/* A secondary node holds the task only as a reservation:
		 * it ends there whatever happened on the root. */
		if (n != w && n->online && st->hooks.task_revoked)
			st->hooks.task_revoked(st->hooks.arg, n->id, job->id,
			    t->id, t->instance);
	}
	free(w->mn_nodes);
	w->mn_nodes = NULL;
	w->mn_nnodes = 0;
}

/* ---- task transitions ---------------------------------------------------- */

static void
notify_job(struct hq_state *st, const struct hq_job *job)
{
	if (st->hooks.job_changed)
		st->hooks.job_changed(st->hooks.arg, job);
}

static void
job_check_completed(struct hq_job *job, uint64_t now)
{
	if (job->completed_ms == 0 && hq_job_terminated(job))
		job->completed_ms = now ? now : 1;
}

/* Take a task off its worker (if any), telling the glue when asked to. */
static void
task_detach(struct hq_state *st, struct hq_job *job, uint32_t idx, bool revoke)
{
	struct hq_task *t = &job->tasks[idx];
	struct hq_sworker *w;

	if (t->state != HQ_TASK_RUNNING && !(t->flags & HQ_TF_ASSIGNED))
		return;
	w = hq_state_worker(st, t->worker);
	if (w != NULL) {
		inflight_remove(st, w, job, idx);
		mn_release(st, w, job, idx);
		if (revoke && w->online && st->hooks.task_revoked)
			st->hooks.task_revoked(st->hooks.arg, w->id, job->id,
			    t->id, t->instance);
	}
	t->flags &= ~HQ_TF_ASSIGNED;
}

static void task_abort_consumers(struct hq_state *st, struct hq_job *job,
    uint32_t idx, uint64_t now);

/* Move a non-terminal task to a terminal state. */
static void
task_end(struct hq_state *st, struct hq_job *job, uint32_t idx,
    enum hq_task_state to, uint64_t now, bool revoke)
{
	struct hq_task *t = &job->tasks[idx];
	enum hq_task_state from = (enum hq_task_state)t->state;

	HQ_ASSERT(!hq_task_state_done(from));
	task_unready(st, job, idx);
	task_detach(st, job, idx, revoke);
	t->state = (uint8_t)to;
	t->end_ms = now;
	job_count(job, from, to);
	if (to != HQ_TASK_FINISHED)
		task_abort_consumers(st, job, idx, now);
}

static void
deps_task_finished(struct hq_state *st, struct hq_job *job, uint32_t idx)
{
	struct hq_jdeps *d = job->deps;
	uint32_t k;

	if (d == NULL)
		return;
	for (k = d->cons_off[idx]; k < d->cons_off[idx + 1]; k++) {
		uint32_t c = d->cons[k];

		if (d->waiting[c] > 0 && --d->waiting[c] == 0 &&
		    job->tasks[c].state == HQ_TASK_WAITING)
			task_make_ready(st, job, c, false);
	}
}

/* Abort every transitive consumer of a task that did not finish. An
 * explicit stack: dependency chains can be long. */
static void
task_abort_consumers(struct hq_state *st, struct hq_job *job, uint32_t idx,
    uint64_t now)
{
	struct hq_jdeps *d = job->deps;
	uint32_t *stack = NULL, n = 0, cap = 0, k;

	if (d == NULL)
		return;
	HQ_VEC_PUSH(stack, n, cap, idx);
	while (n > 0) {
		uint32_t cur = stack[--n];

		for (k = d->cons_off[cur]; k < d->cons_off[cur + 1]; k++) {
			uint32_t c = d->cons[k];
			struct hq_task *t = &job->tasks[c];
			enum hq_task_state from = (enum hq_task_state)t->state;

			if (hq_task_state_done(from))
				continue;
			task_unready(st, job, c);
			task_detach(st, job, c, true);
			t->state = HQ_TASK_ABORTED;
			t->end_ms = now;
			job_count(job, from, HQ_TASK_ABORTED);
			HQ_VEC_PUSH(stack, n, cap, c);
		}
	}
	free(stack);
}

static void
job_abort_rest(struct hq_state *st, struct hq_job *job, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < job->ntasks; i++)
		if (!hq_task_state_done(
			(enum hq_task_state)job->tasks[i].state))
			task_end(st, job, i, HQ_TASK_ABORTED, now, true);
	for (i = 0; i < st->nbuckets; i++)
		bucket_remove_job(st->buckets[i], job->id);
}

static void
task_fail(struct hq_state *st, struct hq_job *job, uint32_t idx,
    const char *msg, uint64_t now)
{
	job->errors = hq_xreallocarray(job->errors, job->nerrors + 1,
	    sizeof *job->errors);
	job->errors[job->nerrors].idx = idx;
	job->errors[job->nerrors].msg = hq_xstrdup(msg ? msg : "");
	job->nerrors++;
	task_end(st, job, idx, HQ_TASK_FAILED, now, false);
	if (job->has_max_fails && job->counts[HQ_TASK_FAILED] > job->max_fails)
		job_abort_rest(st, job, now);
}

/* Back to waiting (worker lost or stopped); 'front' keeps its place. */
static void
task_requeue(struct hq_state *st, struct hq_job *job, uint32_t idx)
{
	struct hq_task *t = &job->tasks[idx];

	task_detach(st, job, idx, false);
	if (t->state == HQ_TASK_RUNNING)
		job_count(job, HQ_TASK_RUNNING, HQ_TASK_WAITING);
	t->state = HQ_TASK_WAITING;
	task_make_ready(st, job, idx, true);
}

/* ---- events
 * ------------------------------------------------------------------ */

static struct hq_job *
job_new(struct hq_state *st, uint32_t id, const char *name, bool has_max_fails,
    uint32_t max_fails, uint64_t now)
{
	struct hq_job *job = hq_xcalloc(1, sizeof *job);

	job->id = id;
	job->name = hq_xstrdup(name ? name : "");
	job->has_max_fails = has_max_fails;
	job->max_fails = max_fails;
	job->submitted_ms = now;
	job->dense = true;
	hq_u32map_init(&job->idmap);
	hq_u32map_init(&job->mn_index);
	if (id >= st->jobs_cap) {
		uint32_t ncap = st->jobs_cap ? st->jobs_cap : 64;

		while (ncap <= id)
			ncap *= 2;
		st->jobs = hq_xreallocarray(st->jobs, ncap, sizeof *st->jobs);
		memset(st->jobs + st->jobs_cap, 0,
		    (ncap - st->jobs_cap) * sizeof *st->jobs);
		st->jobs_cap = ncap;
	}
	st->jobs[id] = job;
	st->njobs_live++;
	if (id >= st->next_job_id)
		st->next_job_id = id + 1;
	return job;
}

static void
job_free(struct hq_job *job)
{
	uint32_t i;

	if (job == NULL)
		return;
	free(job->name);
	free(job->cancel_reason);
	for (i = 0; i < job->nsubmits; i++)
		hq_submit_fini(&job->submits[i].s);
	free(job->submits);
	free(job->descs);
	free(job->tasks);
	hq_u32map_fini(&job->idmap);
	for (i = 0; i < job->nerrors; i++)
		free(job->errors[i].msg);
	free(job->errors);
	for (i = 0; i < job->nmn; i++)
		free(job->mn[i].nodes);
	free(job->mn);
	hq_u32map_fini(&job->mn_index);
	if (job->deps != NULL) {
		free(job->deps->waiting);
		free(job->deps->cons_off);
		free(job->deps->cons);
		free(job->deps->ndeps);
		free(job->deps);
	}
	free(job);
}

/* Append a task; keeps the id index. */
static uint32_t
job_add_task(struct hq_job *job, uint32_t id, uint32_t desc)
{
	uint32_t idx = job->ntasks;
	struct hq_task *t;

	if (job->dense && job->ntasks > 0 && id != job->tasks[0].id + idx) {
		uint32_t i;

		job->dense = false;
		for (i = 0; i < job->ntasks; i++)
			hq_u32map_put(&job->idmap, job->tasks[i].id, i);
	}
	HQ_VEC_RESERVE(job->tasks, job->tcap, job->ntasks + 1);
	t = &job->tasks[job->ntasks++];
	memset(t, 0, sizeof *t);
	t->id = id;
	t->desc = desc;
	t->state = HQ_TASK_WAITING;
	job->counts[HQ_TASK_WAITING]++;
	if (!job->dense)
		hq_u32map_put(&job->idmap, id, idx);
	if (id > job->max_id || job->ntasks == 1)
		job->max_id = id;
	return idx;
}

/*
 * Grow the dependency arrays of a job to its current task count: new tasks
 * have no dependencies and no consumers (until a later graph submit adds
 * some). Creates the arrays when 'create'.
 */
static void
deps_extend(struct hq_job *job, bool create)
{
	struct hq_jdeps *d = job->deps;
	uint32_t n = job->ntasks, old, i;

	if (d == NULL) {
		if (!create)
			return;
		d = job->deps = hq_xcalloc(1, sizeof *d);
	}
	old = d->cons_off ? d->nslots : 0;
	if (old == n && d->cons_off != NULL)
		return;
	d->waiting =
	    hq_xreallocarray(d->waiting, n ? n : 1, sizeof *d->waiting);
	d->ndeps = hq_xreallocarray(d->ndeps, n ? n : 1, sizeof *d->ndeps);
	d->cons_off = hq_xreallocarray(d->cons_off, n + 1, sizeof *d->cons_off);
	if (old == 0)
		d->cons_off[0] = 0;
	for (i = old; i < n; i++) {
		d->waiting[i] = d->ndeps[i] = 0;
		d->cons_off[i + 1] = d->cons_off[old];
	}
	d->nslots = n;
}

/* Resolve the dependencies of a graph submit; tasks [first, ntasks). */
static int
job_add_deps(struct hq_state *st, struct hq_job *job, const struct hq_submit *s,
    uint32_t first, uint64_t now, struct hq_errbuf *eb)
{
	struct hq_jdeps *d;
	uint32_t i, k, n = job->ntasks, total = 0;
	uint32_t *cnt;

	for (i = 0; i < s->ntasks; i++)
		total += s->tasks[i].ndeps;
	if (total == 0 && job->deps == NULL)
		return 0;
	/* Validate first: every dependency names a known task, not itself. */
	for (i = 0; i < s->ntasks; i++)
		for (k = 0; k < s->tasks[i].ndeps; k++) {
			int64_t di =
			    hq_job_task_index(job, s->tasks[i].deps[k]);

			if (di < 0 || (uint32_t)di == first + i)
				return hq_errf(eb, HQ_EINVAL,
				    "Invalid dependency on %u",
				    s->tasks[i].deps[k]);
		}
	deps_extend(job, true);
	d = job->deps;
	/* Rebuild the consumer lists (CSR) with the old and new edges. */
	cnt = hq_xcalloc(n + 1, sizeof *cnt);
	for (i = 0; i < first; i++)
		cnt[i] = d->cons_off[i + 1] - d->cons_off[i];
	for (i = 0; i < s->ntasks; i++)
		for (k = 0; k < s->tasks[i].ndeps; k++)
			cnt[hq_job_task_index(job, s->tasks[i].deps[k])]++;
	{
		uint32_t *off = hq_xcalloc(n + 1, sizeof *off);
		uint32_t *fill = hq_xcalloc(n, sizeof *fill);
		uint32_t *cons;

		for (i = 0; i < n; i++)
			off[i + 1] = off[i] + cnt[i];
		cons = hq_xcalloc(off[n] + 1, sizeof *cons);
		for (i = 0; i < first; i++)
			for (k = d->cons_off[i]; k < d->cons_off[i + 1]; k++)
				cons[off[i] + fill[i]++] = d->cons[k];
		for (i = 0; i < s->ntasks; i++)
			for (k = 0; k < s->tasks[i].ndeps; k++) {
				uint32_t di = (uint32_t)hq_job_task_index(job,
				    s->tasks[i].deps[k]);

				cons[off[di] + fill[di]++] = first + i;
			}
		free(d->cons_off);
		free(d->cons);
		d->cons_off = off;
		d->cons = cons;
		d->ncons = off[n];
		free(fill);
	}
	free(cnt);
	/* Count unfinished dependencies; a failed one aborts the task. */
	for (i = 0; i < s->ntasks; i++) {
		uint32_t idx = first + i;
		bool abort = false;

		d->ndeps[idx] = s->tasks[i].ndeps;
		for (k = 0; k < s->tasks[i].ndeps; k++) {
			uint32_t di = (uint32_t)hq_job_task_index(job,
			    s->tasks[i].deps[k]);
			enum hq_task_state ds =
			    (enum hq_task_state)job->tasks[di].state;

			if (ds == HQ_TASK_FINISHED)
				continue;
			if (hq_task_state_done(ds))
				abort = true;
			d->waiting[idx]++;
		}
		/* A consumer of an earlier aborted task is already done. */
		if (abort &&
		    !hq_task_state_done(
			(enum hq_task_state)job->tasks[idx].state))
			task_end(st, job, idx, HQ_TASK_ABORTED, now, false);
	}
	return 0;
}

static int
apply_submitted(struct hq_state *st, const struct hq_event *ev,
    struct hq_errbuf *eb)
{
	const struct hq_submit *src = &ev->u.submitted.submit;
	struct hq_job *job;
	struct hq_jsubmit *js;
	uint32_t first, desc0, i, k, n, old_max_id, old_next_job, dup;
	uint64_t now = ev->time_ms;
	int rc;

	old_next_job = st->next_job_id;

	if (src->ndescs == 0)
		return hq_errf(eb, HQ_EINVAL, "submit without a description");
	/* Each id once (the CLI refuses overlapping items; a peer or a
	 * damaged record might not), checked before a new job exists. */
	if (!src->graph && hq_idset_find_overlap(&src->ids, &dup))
		return hq_errf(eb, HQ_EINVAL,
		    "Task %u is defined multiple times", dup);
	if (ev->u.submitted.new_job) {
		if (job_get(st, ev->u.submitted.job_id) != NULL ||
		    ev->u.submitted.job_id == 0)
			return hq_errf(eb, HQ_ESTATE, "job %u already exists",
			    ev->u.submitted.job_id);
		if (ev->u.submitted.job_id >= HQ_STATE_MAX_ID)
			return hq_errf(eb, HQ_ESTATE,
			    "job id %u is out of range (next: %u)",
			    ev->u.submitted.job_id, st->next_job_id);
		job = job_new(st, ev->u.submitted.job_id, ev->u.submitted.name,
		    ev->u.submitted.has_max_fails, ev->u.submitted.max_fails,
		    now);
	} else {
		job = job_get(st, ev->u.submitted.job_id);
		if (job == NULL)
			return hq_errf(eb, HQ_ENOTFOUND, "Job %u not found.",
			    ev->u.submitted.job_id);
		if (!job->is_open)
			return hq_errf(eb, HQ_ESTATE, "Job %u is not opened.",
			    job->id);
	}
	old_max_id = job->max_id;
	/* Check ids before changing anything. */
	if (src->graph) {
		for (i = 0; i < src->ntasks; i++)
			if (hq_job_task_index(job, src->tasks[i].id) >= 0)
				return hq_errf(eb, HQ_EEXIST,
				    "Task %u already exists in job %u.",
				    src->tasks[i].id, job->id);
	} else {
		for (i = 0; i < src->ids.n; i++) {
			const struct hq_idrange *r = &src->ids.r[i];

			/* Cheap check for the common case: an empty job. */
			if (job->ntasks == 0)
				break;
			for (k = 0; k < r->count; k++)
				if (hq_job_task_index(job,
					r->start + k * r->step) >= 0)
					return hq_errf(eb, HQ_EEXIST,
					    "Task %u already exists in job %u.",
					    r->start + k * r->step, job->id);
		}
	}
	job->submits = hq_xreallocarray(job->submits, job->nsubmits + 1,
	    sizeof *job->submits);
	js = &job->submits[job->nsubmits++];
	memset(js, 0, sizeof *js);
	/* Deep copy: the event is borrowed. */
	js->s.graph = src->graph;
	js->s.ndescs = src->ndescs;
	js->s.descs = hq_xcalloc(src->ndescs, sizeof *js->s.descs);
	for (i = 0; i < src->ndescs; i++)
		hq_task_desc_copy(&js->s.descs[i], &src->descs[i]);
	hq_idset_copy(&js->s.ids, &src->ids);
	js->s.nentries = src->nentries;
	js->s.entries = hq_xcalloc(src->nentries, sizeof *js->s.entries);
	for (i = 0; i < src->nentries; i++)
		js->s.entries[i] = hq_xstrdup(src->entries[i]);
	js->s.submit_dir = src->submit_dir ? hq_xstrdup(src->submit_dir) : NULL;
	js->s.stream_dir = src->stream_dir ? hq_xstrdup(src->stream_dir) : NULL;
	/* Graph tasks are needed for display (deps); keep them. */
	js->s.ntasks = src->ntasks;
	js->s.tasks = hq_xcalloc(src->ntasks, sizeof *js->s.tasks);
	for (i = 0; i < src->ntasks; i++) {
		js->s.tasks[i] = src->tasks[i];
		js->s.tasks[i].deps = src->tasks[i].ndeps
		    ? hq_xmemdup(src->tasks[i].deps,
			  src->tasks[i].ndeps * sizeof(uint32_t))
		    : NULL;
	}
	js->time_ms = now;
	js->first_task = first = job->ntasks;

	desc0 = job->ndescs;
	job->descs = hq_xreallocarray(job->descs, job->ndescs + src->ndescs,
	    sizeof *job->descs);
	for (i = 0; i < src->ndescs; i++) {
		struct hq_jdesc *jd = &job->descs[job->ndescs++];

		jd->d = &js->s.descs[i];
		jd->submit = job->nsubmits - 1;
		jd->rq = rq_intern(st, &jd->d->req);
		jd->bq = NULL;
	}
	if (src->graph) {
		for (i = 0; i < src->ntasks; i++)
			job_add_task(job, src->tasks[i].id,
			    desc0 + src->tasks[i].desc);
	} else {
		for (i = 0; i < src->ids.n; i++) {
			const struct hq_idrange *r = &src->ids.r[i];

			HQ_VEC_RESERVE(job->tasks, job->tcap,
			    job->ntasks + r->count);
			for (k = 0; k < r->count; k++)
				job_add_task(job, r->start + k * r->step,
				    desc0);
		}
	}
	n = job->ntasks - first;
	js->ntasks = n;
	deps_extend(job, false);
	if (src->graph &&
	    (rc = job_add_deps(st, job, src, first, now, eb)) != 0) {
		/* Roll back this submit's tasks. */
		for (i = first; i < job->ntasks; i++)
			job->counts[job->tasks[i].state]--;
		job->ntasks = first;
		job->ndescs = desc0;
		job->max_id = old_max_id;
		if (job->deps != NULL)
			job->deps->nslots = HQ_MIN(job->deps->nslots, first);
		hq_submit_fini(&js->s);
		job->nsubmits--;
		if (!job->dense) {
			hq_u32map_fini(&job->idmap);
			hq_u32map_init(&job->idmap);
			for (i = 0; i < job->ntasks; i++)
				hq_u32map_put(&job->idmap, job->tasks[i].id, i);
		}
		if (ev->u.submitted.new_job) {
			st->jobs[job->id] = NULL;
			st->njobs_live--;
			st->next_job_id = old_next_job;
			job_free(job);
		}
		return rc;
	}
	/* Ready tasks join their queue in index order. */
	if (!src->graph) {
		struct hq_bucket *b = bucket_of(st, &job->descs[desc0]);

		for (i = first; i < job->ntasks; i++)
			job->tasks[i].flags |= HQ_TF_READY;
		if (n > 0)
			bucket_push_back(b, job->id, first, job->ntasks);
	} else {
		for (i = first; i < job->ntasks; i++)
			if (job->tasks[i].state == HQ_TASK_WAITING &&
			    hq_job_task_waiting_deps(job, i) == 0)
				task_make_ready(st, job, i, false);
	}
	job->completed_ms = 0;
	job_check_completed(job, now);
	notify_job(st, job);
	return 0;
}

/* Clear the validation marks of the first n tasks of a run. */
static void
run_unmark(struct hq_job *job, const struct hq_event *ev, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		int64_t idx = hq_job_task_index(job, ev->u.run.tasks[i]);

		if (idx >= 0)
			job->tasks[idx].flags &= ~HQ_TF_VISIT;
	}
}

/*
 * An ASSIGNED event names nodes exactly for a multi-node task: one task,
 * as many distinct online workers of one group as it requests, root (the
 * event's worker) first, none with anything in flight.
 */
static int
run_check_nodes(const struct hq_state *st, const struct hq_event *ev,
    const struct hq_job *job)
{
	const struct hq_sworker *root = hq_state_worker(st, ev->u.run.worker);
	uint32_t i, k, rq;
	int64_t idx;

	if (ev->u.run.n != 1)
		return -1;
	idx = hq_job_task_index(job, ev->u.run.tasks[0]);
	if (idx < 0)
		return -1;
	rq = job->descs[job->tasks[idx].desc].rq;
	if (!hq_state_rq_multinode(st, rq) ||
	    st->rqs[rq].req.v[0].n_nodes != ev->u.run.nnodes ||
	    ev->u.run.nodes[0] != ev->u.run.worker || root == NULL)
		return -1;
	for (i = 0; i < ev->u.run.nnodes; i++) {
		const struct hq_sworker *w =
		    hq_state_worker(st, ev->u.run.nodes[i]);

		if (w == NULL || !w->online || w->ninflight > 0 ||
		    w->mn_job != 0 || w->group_id != root->group_id)
			return -1;
		for (k = 0; k < i; k++)
			if (ev->u.run.nodes[k] == ev->u.run.nodes[i])
				return -1;
	}
	return 0;
}

static int
apply_run(struct hq_state *st, const struct hq_event *ev, struct hq_errbuf *eb)
{
	struct hq_job *job = job_get(st, ev->u.run.job);
	struct hq_sworker *w = hq_state_worker(st, ev->u.run.worker);
	uint64_t now = ev->time_ms;
	uint32_t i;

	if (job == NULL)
		return hq_errf(eb, HQ_ENOTFOUND, "job %u not found",
		    ev->u.run.job);
	if (w == NULL && ev->u.run.kind != HQ_RUN_REQUEUED &&
	    ev->u.run.kind != HQ_RUN_FINISHED)
		return hq_errf(eb, HQ_ENOTFOUND, "worker %u not found",
		    ev->u.run.worker);
	if (ev->u.run.nnodes > 0 &&
	    (ev->u.run.kind != HQ_RUN_ASSIGNED ||
		run_check_nodes(st, ev, job) != 0))
		return hq_errf(eb, HQ_EINVAL,
		    "job %u: invalid nodes of a multi-node assignment",
		    job->id);
	/* Validate every task first so that a bad event changes nothing. */
	for (i = 0; i < ev->u.run.n; i++) {
		int64_t idx = hq_job_task_index(job, ev->u.run.tasks[i]);
		const struct hq_task *t;
		bool ok;
		int rc;

		if (idx < 0) {
			rc = hq_errf(eb, HQ_ENOTFOUND, "task %u@%u not found",
			    job->id, ev->u.run.tasks[i]);
			run_unmark(job, ev, i);
			return rc;
		}
		t = &job->tasks[idx];
		if (t->flags & HQ_TF_VISIT) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "task %u@%u appears twice in one event", job->id,
			    t->id);
			run_unmark(job, ev, i);
			return rc;
		}
		job->tasks[idx].flags |= HQ_TF_VISIT;
		if (ev->u.run.kind == HQ_RUN_ASSIGNED &&
		    (ev->u.run.variants ? ev->u.run.variants[i] : 0) >=
			HQ_MIN(st->rqs[job->descs[t->desc].rq].req.n, 256u)) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "task %u@%u: no resource variant %u", job->id,
			    t->id, ev->u.run.variants[i]);
			run_unmark(job, ev, i + 1);
			return rc;
		}
		switch (ev->u.run.kind) {
		case HQ_RUN_ASSIGNED:
			ok = t->state == HQ_TASK_WAITING &&
			    (t->flags & HQ_TF_READY) && w->online &&
			    w->mn_job == 0 &&
			    hq_state_rq_multinode(st, job->descs[t->desc].rq) ==
				(ev->u.run.nnodes > 0);
			break;
		case HQ_RUN_STARTED:
			ok = t->state == HQ_TASK_WAITING &&
			    (t->flags & HQ_TF_ASSIGNED) && t->worker == w->id;
			break;
		case HQ_RUN_FINISHED:
			ok = t->state == HQ_TASK_RUNNING ||
			    (t->state == HQ_TASK_WAITING &&
				(t->flags & HQ_TF_ASSIGNED));
			break;
		default:
			ok = t->state == HQ_TASK_RUNNING ||
			    (t->flags & HQ_TF_ASSIGNED);
			break;
		}
		if (!ok && ev->u.run.kind == HQ_RUN_ASSIGNED &&
		    w->mn_job != 0) {
			rc = hq_errf(eb, HQ_ESTATE,
			    "task %u@%u: worker %u is reserved for a "
			    "multi-node task",
			    job->id, t->id, w->id);
			run_unmark(job, ev, i + 1);
			return rc;
		}
		if (!ok) {
			rc = hq_errf(eb, HQ_ESTATE,
			    "task %u@%u cannot become %s in state %s", job->id,
			    t->id, hq_event_kind_name(ev),
			    hq_task_state_name((enum hq_task_state)t->state));
			run_unmark(job, ev, i + 1);
			return rc;
		}
	}
	run_unmark(job, ev, ev->u.run.n);
	for (i = 0; i < ev->u.run.n; i++) {
		uint32_t idx =
		    (uint32_t)hq_job_task_index(job, ev->u.run.tasks[i]);
		struct hq_task *t = &job->tasks[idx];

		switch (ev->u.run.kind) {
		case HQ_RUN_ASSIGNED:
			task_unready(st, job, idx);
			if (t->flags & HQ_TF_INSTANCED)
				t->instance++;
			t->flags |= HQ_TF_INSTANCED | HQ_TF_ASSIGNED;
			inflight_add(st, w, job, idx,
			    ev->u.run.variants ? ev->u.run.variants[i] : 0);
			if (ev->u.run.nnodes > 0)
				mn_reserve(st, job, idx, ev->u.run.nodes,
				    ev->u.run.nnodes);
			break;
		case HQ_RUN_STARTED:
			t->flags &= ~HQ_TF_ASSIGNED;
			t->state = HQ_TASK_RUNNING;
			t->start_ms = now;
			job_count(job, HQ_TASK_WAITING, HQ_TASK_RUNNING);
			w->nrunning++;
			w->last_job = job->id;
			w->last_task = t->id;
			w->last_task_ms = now;
			break;
		case HQ_RUN_FINISHED:
			if (t->state == HQ_TASK_WAITING) {
				/* Started and finished within one report. */
				t->start_ms = now;
				task_detach(st, job, idx, false);
				t->state = HQ_TASK_RUNNING;
				job_count(job, HQ_TASK_WAITING,
				    HQ_TASK_RUNNING);
				t->state = HQ_TASK_FINISHED;
				t->end_ms = now;
				job_count(job, HQ_TASK_RUNNING,
				    HQ_TASK_FINISHED);
			} else {
				task_end(st, job, idx, HQ_TASK_FINISHED, now,
				    false);
			}
			deps_task_finished(st, job, idx);
			break;
		case HQ_RUN_REQUEUED:
			task_requeue(st, job, idx);
			break;
		}
	}
	if (ev->u.run.kind == HQ_RUN_ASSIGNED) {
		uint32_t b;

		for (b = 0; b < st->nbuckets; b++)
			bucket_trim(st, st->buckets[b]);
	}
	job_check_completed(job, now);
	if (ev->u.run.kind != HQ_RUN_ASSIGNED)
		notify_job(st, job);
	return 0;
}

static int
apply_failed(struct hq_state *st, const struct hq_event *ev,
    struct hq_errbuf *eb)
{
	struct hq_job *job = job_get(st, ev->u.failed.job);
	int64_t idx;
	struct hq_task *t;

	if (job == NULL)
		return hq_errf(eb, HQ_ENOTFOUND, "job %u not found",
		    ev->u.failed.job);
	idx = hq_job_task_index(job, ev->u.failed.task);
	if (idx < 0)
		return hq_errf(eb, HQ_ENOTFOUND, "task %u@%u not found",
		    job->id, ev->u.failed.task);
	t = &job->tasks[idx];
	if (hq_task_state_done((enum hq_task_state)t->state))
		return hq_errf(eb, HQ_ESTATE, "task %u@%u is already %s",
		    job->id, t->id,
		    hq_task_state_name((enum hq_task_state)t->state));
	if (t->state == HQ_TASK_WAITING && (t->flags & HQ_TF_ASSIGNED)) {
		/* Failed at start (spawn error): count it as started. */
		t->start_ms = ev->time_ms;
		t->state = HQ_TASK_RUNNING;
		job_count(job, HQ_TASK_WAITING, HQ_TASK_RUNNING);
		{
			struct hq_sworker *w = hq_state_worker(st, t->worker);

			if (w != NULL)
				w->nrunning++;
		}
	}
	task_fail(st, job, (uint32_t)idx, ev->u.failed.error, ev->time_ms);
	job_check_completed(job, ev->time_ms);
	notify_job(st, job);
	return 0;
}

static int
apply_jobs(struct hq_state *st, const struct hq_event *ev, struct hq_errbuf *eb)
{
	uint32_t i, k;

	for (i = 0; i < ev->u.jobs.n; i++) {
		struct hq_job *job = job_get(st, ev->u.jobs.ids[i]);

		if (job == NULL)
			return hq_errf(eb, HQ_ENOTFOUND, "Job %u not found",
			    ev->u.jobs.ids[i]);
		if (ev->kind == HQ_EV_JOBS_FORGOTTEN && !hq_job_terminated(job))
			return hq_errf(eb, HQ_ESTATE,
			    "job %u is not terminated", job->id);
		for (k = 0; k < i; k++)
			if (ev->u.jobs.ids[k] == job->id)
				return hq_errf(eb, HQ_EINVAL,
				    "job %u appears twice in one event",
				    job->id);
	}
	for (i = 0; i < ev->u.jobs.n; i++) {
		struct hq_job *job = job_get(st, ev->u.jobs.ids[i]);

		switch (ev->kind) {
		case HQ_EV_JOBS_CLOSED:
			job->is_open = false;
			job_check_completed(job, ev->time_ms);
			break;
		case HQ_EV_JOBS_CANCELED: {
			uint32_t ncanceled = 0;

			for (k = 0; k < job->ntasks; k++) {
				if (hq_task_state_done(
					(enum hq_task_state)job->tasks[k]
					    .state))
					continue;
				task_end(st, job, k, HQ_TASK_CANCELED,
				    ev->time_ms, true);
				ncanceled++;
			}
			for (k = 0; k < st->nbuckets; k++)
				bucket_remove_job(st->buckets[k], job->id);
			if (ncanceled > 0 && ev->u.jobs.reason != NULL) {
				free(job->cancel_reason);
				job->cancel_reason =
				    hq_xstrdup(ev->u.jobs.reason);
			}
			job_check_completed(job, ev->time_ms);
			break;
		}
		case HQ_EV_JOBS_FORGOTTEN:
			for (k = 0; k < st->nbuckets; k++)
				bucket_remove_job(st->buckets[k], job->id);
			st->jobs[job->id] = NULL;
			st->njobs_live--;
			job_free(job);
			continue;
		default:
			break;
		}
		notify_job(st, job);
	}
	return 0;
}

static int
apply_worker_connected(struct hq_state *st, const struct hq_event *ev,
    struct hq_errbuf *eb)
{
	uint32_t id = ev->u.wconn.worker_id;
	struct hq_sworker *w;

	if (id == 0)
		return hq_errf(eb, HQ_EINVAL, "worker id 0");
	w = hq_state_worker(st, id);
	if (w != NULL && w->online)
		return hq_errf(eb, HQ_ESTATE, "worker %u is already online",
		    id);
	if (w == NULL && id >= HQ_STATE_MAX_ID)
		return hq_errf(eb, HQ_ESTATE,
		    "worker id %u is out of range (next: %u)", id,
		    st->next_worker_id);
	if (id >= st->workers_cap) {
		uint32_t ncap = st->workers_cap ? st->workers_cap : 16;

		while (ncap <= id)
			ncap *= 2;
		st->workers =
		    hq_xreallocarray(st->workers, ncap, sizeof *st->workers);
		memset(st->workers + st->workers_cap, 0,
		    (ncap - st->workers_cap) * sizeof *st->workers);
		st->workers_cap = ncap;
	}
	if (w == NULL) {
		w = hq_xcalloc(1, sizeof *w);
		st->workers[id] = w;
	} else {
		/* A known worker comes back (reconnect): fresh accounting. */
		hq_worker_config_fini(&w->cfg);
		free(w->res_total);
		free(w->res_used);
	}
	w->id = id;
	hq_worker_config_copy(&w->cfg, &ev->u.wconn.cfg);
	w->online = true;
	w->lost_reason = HQ_LOST_NONE;
	w->connected_ms = ev->time_ms;
	w->lost_ms = 0;
	w->end_ms =
	    w->cfg.time_limit_ms ? w->cfg.started_ms + w->cfg.time_limit_ms : 0;
	w->group_id = group_intern(st, w->cfg.group);
	w->mn_held = false;
	worker_set_resources(st, w);
	if (id >= st->next_worker_id)
		st->next_worker_id = id + 1;
	hq_alloc_state_worker_connected(st->alloc, id, &w->cfg, ev->time_ms);
	return 0;
}

static bool
reason_is_crash(enum hq_worker_lost_reason r)
{
	return r == HQ_LOST_CONNECTION || r == HQ_LOST_HEARTBEAT;
}

/* A task in flight on a lost worker: requeue it or fail it (crash limit). */
static void
lost_task(struct hq_state *st, struct hq_job *job, uint32_t idx,
    enum hq_worker_lost_reason reason, uint64_t now)
{
	struct hq_task *t = &job->tasks[idx];
	int32_t limit = job->descs[t->desc].d->crash_limit;

	if (t->state != HQ_TASK_RUNNING) {
		task_requeue(st, job, idx);
	} else if (limit == HQ_CRASH_NEVER_RESTART &&
	    reason != HQ_LOST_SERVER_RESTART) {
		task_fail(st, job, idx,
		    "Task was running on a lost worker while never "
		    "restart flag was set.",
		    now);
	} else if (!reason_is_crash(reason)) {
		task_requeue(st, job, idx);
	} else {
		if (t->crashes < UINT8_MAX)
			t->crashes++;
		if (limit > 0 && t->crashes >= (uint32_t)limit) {
			char msg[256];

			snprintf(msg, sizeof msg,
			    "Task was running on a worker that was "
			    "lost; the task has occurred %u times in "
			    "this situation and limit was reached.",
			    t->crashes);
			task_fail(st, job, idx, msg, now);
		} else {
			task_requeue(st, job, idx);
		}
	}
	job_check_completed(job, now);
	notify_job(st, job);
}

static int
apply_worker_lost(struct hq_state *st, const struct hq_event *ev,
    struct hq_errbuf *eb)
{
	struct hq_sworker *w = hq_state_worker(st, ev->u.wlost.worker_id);
	enum hq_worker_lost_reason reason = ev->u.wlost.reason;
	uint64_t now = ev->time_ms;
	struct hq_job *mjob;
	uint32_t midx;

	if (w == NULL || !w->online)
		return hq_errf(eb, HQ_ESTATE, "worker %u is not online",
		    ev->u.wlost.worker_id);
	w->online = false;
	w->lost_reason = reason;
	w->lost_ms = now;
	w->mn_held = false;
	/* A secondary node of a multi-node task: the task loses it as if
	 * its root were lost, and the root is told to kill it. */
	if (hq_sworker_mn_task(st, w, &mjob, &midx) &&
	    mjob->tasks[midx].worker != w->id) {
		const struct hq_task *t = &mjob->tasks[midx];
		struct hq_sworker *root = hq_state_worker(st, t->worker);

		if (root != NULL && root->online && st->hooks.task_revoked)
			st->hooks.task_revoked(st->hooks.arg, root->id,
			    mjob->id, t->id, t->instance);
		lost_task(st, mjob, midx, reason, now);
	}
	/* Walk the in-flight list from the end: removal swaps with the last
	 * element, so this visits each entry once in a fixed order. */
	while (w->ninflight > 0) {
		struct hq_inflight f = w->inflight[w->ninflight - 1];
		struct hq_job *job = job_get(st, f.job);

		HQ_ASSERT(job != NULL);
		lost_task(st, job, f.idx, reason, now);
	}
	w->mn_job = w->mn_idx = 0;
	w->nrunning = 0;
	hq_alloc_state_worker_lost(st->alloc, w->id, reason, w->connected_ms,
	    now);
	if (st->hooks.worker_lost)
		st->hooks.worker_lost(st->hooks.arg, w);
	return 0;
}

int
hq_state_apply(struct hq_state *st, const struct hq_event *ev,
    struct hq_errbuf *eb)
{
	int rc = 0;

	switch (ev->kind) {
	case HQ_EV_SERVER_STARTED:
		free(st->server_uid);
		st->server_uid = hq_xstrdup(
		    ev->u.started.server_uid ? ev->u.started.server_uid : "");
		if (st->start_ms == 0)
			st->start_ms = ev->time_ms;
		break;
	case HQ_EV_SERVER_STOPPED:
		break;
	case HQ_EV_JOB_SUBMITTED:
		rc = apply_submitted(st, ev, eb);
		break;
	case HQ_EV_JOB_OPENED: {
		struct hq_job *job;

		if (ev->u.opened.job_id == 0 ||
		    job_get(st, ev->u.opened.job_id) != NULL)
			return hq_errf(eb, HQ_ESTATE, "job %u already exists",
			    ev->u.opened.job_id);
		/* The job table is sized by the id (state.h). */
		if (ev->u.opened.job_id >= HQ_STATE_MAX_ID)
			return hq_errf(eb, HQ_ESTATE,
			    "job id %u is out of range (next: %u)",
			    ev->u.opened.job_id, st->next_job_id);
		job = job_new(st, ev->u.opened.job_id, ev->u.opened.name,
		    ev->u.opened.has_max_fails, ev->u.opened.max_fails,
		    ev->time_ms);
		job->is_open = true;
		notify_job(st, job);
		break;
	}
	case HQ_EV_JOBS_CLOSED:
	case HQ_EV_JOBS_CANCELED:
	case HQ_EV_JOBS_FORGOTTEN:
		rc = apply_jobs(st, ev, eb);
		break;
	case HQ_EV_TASK_RUN:
		rc = apply_run(st, ev, eb);
		break;
	case HQ_EV_TASK_FAILED:
		rc = apply_failed(st, ev, eb);
		break;
	case HQ_EV_WORKER_CONNECTED:
		rc = apply_worker_connected(st, ev, eb);
		break;
	case HQ_EV_WORKER_LOST:
		rc = apply_worker_lost(st, ev, eb);
		break;
	case HQ_EV_ALLOC:
		rc = hq_alloc_state_apply(st->alloc, ev, eb);
		break;
	default:
		rc = hq_errf(eb, HQ_EINVAL, "unknown event kind %d",
		    (int)ev->kind);
	}
	/* Count transitions, not records: the live server applies a run one
	 * task at a time, replay applies it whole; both must agree. */
	if (rc == 0)
		st->nevents += ev->kind == HQ_EV_TASK_RUN ? ev->u.run.n : 1;
	return rc;
}

struct hq_state *
hq_state_create(void)
{
	struct hq_state *st = hq_xcalloc(1, sizeof *st);

	st->next_job_id = 1;
	st->next_worker_id = 1;
	st->server_uid = hq_xstrdup("");
	st->alloc = hq_alloc_state_create();
	return st;
}

void
hq_state_set_hooks(struct hq_state *st, const struct hq_state_hooks *h)
{
	if (h != NULL)
		st->hooks = *h;
	else
		memset(&st->hooks, 0, sizeof st->hooks);
}

void
hq_state_destroy(struct hq_state *st)
{
	uint32_t i, j;

	if (st == NULL)
		return;
	for (i = 0; i < st->jobs_cap; i++)
		job_free(st->jobs[i]);
	free(st->jobs);
	for (i = 0; i < st->workers_cap; i++) {
		struct hq_sworker *w = st->workers[i];

		if (w == NULL)
			continue;
		hq_worker_config_fini(&w->cfg);
		free(w->res_total);
		free(w->res_used);
		free(w->inflight);
		free(w->mn_nodes);
		free(w);
	}
	free(st->workers);
	for (i = 0; i < st->ngroups; i++)
		free(st->groups[i]);
	free(st->groups);
	for (i = 0; i < st->nresnames; i++)
		free(st->resnames[i]);
	free(st->resnames);
	for (i = 0; i < st->nrqs; i++) {
		for (j = 0; j < st->rqs[i].req.n; j++)
			free(st->rqs[i].rid[j]);
		free(st->rqs[i].rid);
		hq_res_request_fini(&st->rqs[i].req);
		free(st->rqs[i].key);
	}
	free(st->rqs);
	for (i = 0; i < st->nbuckets; i++) {
		free(st->buckets[i]->q);
		free(st->buckets[i]);
	}
	free(st->buckets);
	free(st->server_uid);
	hq_alloc_state_destroy(st->alloc);
	free(st);
}
