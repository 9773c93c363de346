/* SPDX-License-Identifier: MIT */
/*
 * Snapshot codec. Integers are LEB128 varints; signed ones are zigzag
 * encoded. Task columns are run-length encoded (a fresh array of a million
 * tasks is a handful of runs). Submits and worker configurations reuse the
 * wire encodings. Layout, in order:
 *
 *   "HQSNAP" version
 *   server_uid start_ms next_job_id next_worker_id nevents
 *   resource names; interned requests
 *   jobs (by id): header, submits, descs, task columns, errors, deps
 *   ready queues (scheduling order): priority rq nready ranges
 *   workers (by id): config, status, accounting, in-flight list
 */
#include "server/snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "common/varint.h"
#include "common/wire.h"
#include "server/alloc_state.h"

static const char snap_magic[6] = { 'H', 'Q', 'S', 'N', 'A', 'P' };

/* ---- writer ------------------------------------------------------------ */

/* A column of n values as (run length, value) pairs. */
struct col {
	struct hq_buf *b;
	uint64_t value;
	uint64_t run;
};

static void
col_push(struct col *c, uint64_t v)
{
	if (c->run > 0 && v == c->value) {
		c->run++;
		return;
	}
	if (c->run > 0) {
		hq_vput_u(c->b, c->run);
		hq_vput_u(c->b, c->value);
	}
	c->value = v;
	c->run = 1;
}

static void
col_end(struct col *c)
{
	if (c->run > 0) {
		hq_vput_u(c->b, c->run);
		hq_vput_u(c->b, c->value);
	}
	c->run = 0;
}

static void
put_request(struct hq_buf *b, const struct hq_res_request *r)
{
	uint32_t i, j;

	hq_vput_u(b, r->n);
	for (i = 0; i < r->n; i++) {
		const struct hq_res_variant *v = &r->v[i];

		hq_vput_u(b, v->n_nodes);
		hq_vput_u(b, v->min_time_ms);
		hq_vput_u(b, v->weight);
		hq_vput_u(b, v->n);
		for (j = 0; j < v->n; j++) {
			hq_vput_str(b, v->e[j].name);
			hq_vput_u(b, v->e[j].amount);
			hq_vput_u(b, v->e[j].policy);
		}
	}
}

/* Task columns, each run-length encoded. */
enum {
	COL_ID,
	COL_INSTANCE,
	COL_WORKER,
	COL_DESC,
	COL_WSLOT,
	COL_STATE,
	COL_CRASHES,
	COL_FLAGS,
	COL_VARIANT,
	COL_START,
	COL_END,
	NCOLS,
};

static uint64_t
task_col(const struct hq_task *t, int col, uint32_t prev_id)
{
	switch (col) {
	case COL_ID:
		return (uint64_t)(t->id - prev_id); /* deltas, usually 1 */
	case COL_INSTANCE:
		return t->instance;
	case COL_WORKER:
		return t->worker;
	case COL_DESC:
		return t->desc;
	case COL_WSLOT:
		return t->wslot;
	case COL_STATE:
		return t->state;
	case COL_CRASHES:
		return t->crashes;
	case COL_FLAGS:
		return t->flags & ~HQ_TF_VISIT;
	case COL_VARIANT:
		return t->variant;
	case COL_START:
		return t->start_ms;
	default:
		return t->end_ms;
	}
}

static void
put_job(struct hq_buf *b, const struct hq_job *job, struct hq_buf *scratch)
{
	uint32_t i, k;
	int c;

	hq_vput_u(b, job->id);
	hq_vput_str(b, job->name);
	hq_vput_u(b,
	    (uint64_t)job->is_open | (uint64_t)job->has_max_fails << 1 |
		(uint64_t)job->dense << 2);
	hq_vput_u(b, job->max_fails);
	hq_vput_u(b, job->submitted_ms);
	hq_vput_u(b, job->completed_ms);
	hq_vput_ostr(b, job->cancel_reason);
	hq_vput_u(b, job->max_id);
	hq_vput_u(b, job->nsubmits);
	for (i = 0; i < job->nsubmits; i++) {
		const struct hq_jsubmit *js = &job->submits[i];

		hq_vput_u(b, js->first_task);
		hq_vput_u(b, js->ntasks);
		hq_vput_u(b, js->time_ms);
		hq_buf_reset(scratch);
		hq_wire_encode_submit(&js->s, scratch);
		hq_vput_bytes(b, scratch->data, scratch->len);
	}
	hq_vput_u(b, job->ndescs);
	for (i = 0; i < job->ndescs; i++) {
		const struct hq_jdesc *jd = &job->descs[i];
		const struct hq_jsubmit *js = &job->submits[jd->submit];

		hq_vput_u(b, jd->submit);
		hq_vput_u(b, (uint64_t)(jd->d - js->s.descs));
		hq_vput_u(b, jd->rq);
	}
	hq_vput_u(b, job->ntasks);
	for (c = 0; c < NCOLS; c++) {
		struct col col = { b, 0, 0 };
		uint32_t prev = 0;

		for (i = 0; i < job->ntasks; i++) {
			col_push(&col, task_col(&job->tasks[i], c, prev));
			prev = job->tasks[i].id;
		}
		col_end(&col);
	}
	hq_vput_u(b, job->nerrors);
	for (i = 0; i < job->nerrors; i++) {
		hq_vput_u(b, job->errors[i].idx);
		hq_vput_str(b, job->errors[i].msg);
	}
	hq_vput_u(b, job->deps != NULL);
	if (job->deps != NULL) {
		const struct hq_jdeps *d = job->deps;

		hq_vput_u(b, d->nslots);
		for (i = 0; i < d->nslots; i++) {
			hq_vput_u(b, d->waiting[i]);
			hq_vput_u(b, d->ndeps[i]);
			hq_vput_u(b, d->cons_off[i + 1] - d->cons_off[i]);
			for (k = d->cons_off[i]; k < d->cons_off[i + 1]; k++)
				hq_vput_u(b, d->cons[k]);
		}
	}
	hq_vput_u(b, job->nmn);
	for (i = 0; i < job->nmn; i++) {
		hq_vput_u(b, job->mn[i].idx);
		hq_vput_u(b, job->mn[i].n);
		for (k = 0; k < job->mn[i].n; k++)
			hq_vput_u(b, job->mn[i].nodes[k]);
	}
}

void
hq_state_snapshot(const struct hq_state *st, struct hq_buf *out)
{
	struct hq_buf scratch;
	uint32_t i, j, n;

	hq_buf_init(&scratch);
	hq_buf_append(out, snap_magic, sizeof snap_magic);
	hq_vput_u(out, HQ_SNAPSHOT_VERSION);
	hq_vput_str(out, st->server_uid);
	hq_vput_u(out, st->start_ms);
	hq_vput_u(out, st->next_job_id);
	hq_vput_u(out, st->next_worker_id);
	hq_vput_u(out, st->nevents);
	hq_vput_u(out, st->nresnames);
	for (i = 0; i < st->nresnames; i++)
		hq_vput_str(out, st->resnames[i]);
	hq_vput_u(out, st->ngroups);
	for (i = 0; i < st->ngroups; i++)
		hq_vput_str(out, st->groups[i]);
	hq_vput_u(out, st->nrqs);
	for (i = 0; i < st->nrqs; i++)
		put_request(out, &st->rqs[i].req);
	hq_vput_u(out, st->njobs_live);
	for (i = 1, n = 0; i < st->next_job_id; i++) {
		const struct hq_job *job = hq_state_job(st, i);

		if (job != NULL) {
			put_job(out, job, &scratch);
			n++;
		}
	}
	HQ_ASSERT(n == st->njobs_live);
	hq_vput_u(out, st->nbuckets);
	for (i = 0; i < st->nbuckets; i++) {
		const struct hq_bucket *bk = st->buckets[i];

		hq_vput_s(out, bk->priority);
		hq_vput_u(out, bk->rq);
		hq_vput_u(out, bk->nready);
		hq_vput_u(out, bk->len);
		for (j = 0; j < bk->len; j++) {
			const struct hq_rrange *r = hq_bucket_range(bk, j);

			hq_vput_u(out, r->job);
			hq_vput_u(out, r->lo);
			hq_vput_u(out, r->hi - r->lo);
		}
	}
	for (i = 1, n = 0; i < st->workers_cap; i++)
		n += st->workers[i] != NULL;
	hq_vput_u(out, n);
	for (i = 1; i < st->workers_cap; i++) {
		const struct hq_sworker *w = st->workers[i];

		if (w == NULL)
			continue;
		hq_vput_u(out, w->id);
		hq_buf_reset(&scratch);
		hq_wire_encode_wconfig(&w->cfg, &scratch);
		hq_vput_bytes(out, scratch.data, scratch.len);
		hq_vput_u(out, w->online);
		hq_vput_u(out, w->lost_reason);
		hq_vput_u(out, w->connected_ms);
		hq_vput_u(out, w->lost_ms);
		hq_vput_u(out, w->nres);
		for (j = 0; j < w->nres; j++) {
			hq_vput_u(out, w->res_total[j]);
			hq_vput_u(out, w->res_used[j]);
		}
		hq_vput_u(out, w->ninflight);
		for (j = 0; j < w->ninflight; j++) {
			hq_vput_u(out, w->inflight[j].job);
			hq_vput_u(out, w->inflight[j].idx);
		}
		hq_vput_u(out, w->nrunning);
		hq_vput_u(out, w->last_job);
		hq_vput_u(out, w->last_task);
		hq_vput_u(out, w->last_task_ms);
		hq_vput_u(out, w->end_ms);
		hq_vput_u(out, w->group_id);
		hq_vput_u(out, w->mn_job);
		hq_vput_u(out, w->mn_idx);
		hq_vput_u(out, w->mn_nnodes);
		for (j = 0; j < w->mn_nnodes; j++)
			hq_vput_u(out, w->mn_nodes[j]);
	}
	/* Automatic allocation: queues and allocations, length-prefixed. */
	hq_buf_reset(&scratch);
	hq_alloc_state_snapshot(st->alloc, &scratch);
	hq_vput_bytes(out, scratch.data, scratch.len);
	hq_buf_fini(&scratch);
}

/* ---- reader -------------------------------------------------------------- */

static void
get_request(struct hq_vrd *r, struct hq_res_request *req)
{
	uint32_t i, j;

	req->n = hq_vget_count(r, 4);
	req->v = hq_xcalloc(req->n ? req->n : 1, sizeof *req->v);
	for (i = 0; i < req->n && r->err == NULL; i++) {
		struct hq_res_variant *v = &req->v[i];

		v->n_nodes = hq_vget_u32(r);
		v->min_time_ms = hq_vget_u(r);
		v->weight = hq_vget_u32(r);
		v->n = hq_vget_count(r, 3);
		v->e = hq_xcalloc(v->n ? v->n : 1, sizeof *v->e);
		for (j = 0; j < v->n && r->err == NULL; j++) {
			v->e[j].name = hq_vget_str(r);
			v->e[j].amount = hq_vget_u(r);
			v->e[j].policy = (enum hq_policy)hq_vget_u32(r);
			if (v->e[j].policy > HQ_POLICY_ALL && r->err == NULL)
				r->err = "unknown policy";
		}
	}
}

/* The id index; false if the ids are not what the index assumes (dense:
 * consecutive from the first; otherwise unique). */
static bool
job_index_rebuild(struct hq_job *job)
{
	uint32_t i, v;

	hq_u32map_init(&job->idmap);
	for (i = 0; i < job->ntasks; i++) {
		if (job->dense) {
			/* As state.c keeps it (uint32 arithmetic). */
			if (job->tasks[i].id != job->tasks[0].id + i)
				return false;
			continue;
		}
		if (hq_u32map_get(&job->idmap, job->tasks[i].id, &v))
			return false;
		hq_u32map_put(&job->idmap, job->tasks[i].id, i);
	}
	return true;
}

static struct hq_job *
get_job(struct hq_vrd *r, const struct hq_state *st)
{
	struct hq_job *job = hq_xcalloc(1, sizeof *job);
	uint64_t flags;
	uint32_t i, k;
	int c;

	job->id = hq_vget_u32(r);
	job->name = hq_vget_str(r);
	flags = hq_vget_u(r);
	job->is_open = flags & 1;
	job->has_max_fails = (flags >> 1) & 1;
	job->dense = (flags >> 2) & 1;
	job->max_fails = hq_vget_u32(r);
	job->submitted_ms = hq_vget_u(r);
	job->completed_ms = hq_vget_u(r);
	job->cancel_reason = hq_vget_ostr(r);
	job->max_id = hq_vget_u32(r);
	job->nsubmits = hq_vget_count(r, 4);
	job->submits =
	    hq_xcalloc(job->nsubmits ? job->nsubmits : 1, sizeof *job->submits);
	for (i = 0; i < job->nsubmits && r->err == NULL; i++) {
		struct hq_jsubmit *js = &job->submits[i];
		struct hq_errbuf eb;
		const uint8_t *p;
		size_t len;

		js->first_task = hq_vget_u32(r);
		js->ntasks = hq_vget_u32(r);
		js->time_ms = hq_vget_u(r);
		p = hq_vget_bytes(r, &len);
		if (p != NULL &&
		    hq_wire_decode_submit(p, len, &js->s, &eb) != 0)
			r->err = "damaged submit";
	}
	job->ndescs = hq_vget_count(r, 3);
	job->descs =
	    hq_xcalloc(job->ndescs ? job->ndescs : 1, sizeof *job->descs);
	for (i = 0; i < job->ndescs && r->err == NULL; i++) {
		uint32_t s = hq_vget_u32(r), k2 = hq_vget_u32(r),
			 rq = hq_vget_u32(r);

		if (r->err != NULL)
			break;
		if (s >= job->nsubmits || k2 >= job->submits[s].s.ndescs ||
		    rq >= st->nrqs) {
			r->err = "description out of range";
			break;
		}
		job->descs[i].submit = s;
		job->descs[i].d = &job->submits[s].s.descs[k2];
		job->descs[i].rq = rq;
	}
	job->ntasks = job->tcap = hq_vget_count(r, 0);
	{
		/* The count must agree with the submits' own task lists, so
		 * damage cannot make us allocate an absurd array. */
		uint64_t sum = 0;

		for (i = 0; i < job->nsubmits && r->err == NULL; i++) {
			const struct hq_jsubmit *js = &job->submits[i];
			uint64_t n = js->s.graph ? js->s.ntasks
						 : hq_idset_count(&js->s.ids);

			if (n != js->ntasks || js->first_task != sum)
				r->err = "submit task counts disagree";
			sum += n;
		}
		if (r->err == NULL && sum != job->ntasks)
			r->err = "task count disagrees with the submits";
		if (r->err != NULL)
			job->ntasks = job->tcap = 0;
	}
	job->tasks =
	    hq_xcalloc(job->ntasks ? job->ntasks : 1, sizeof *job->tasks);
	for (c = 0; c < NCOLS && r->err == NULL; c++) {
		uint32_t filled = 0, prev = 0;

		while (filled < job->ntasks && r->err == NULL) {
			uint64_t run = hq_vget_u(r), v = hq_vget_u(r);

			if (r->err != NULL)
				break;
			if (run == 0 || run > job->ntasks - filled) {
				r->err = "bad task column";
				break;
			}
			for (k = 0; k < run; k++, filled++) {
				struct hq_task *t = &job->tasks[filled];

				switch (c) {
				case COL_ID:
					t->id = prev + (uint32_t)v;
					prev = t->id;
					break;
				case COL_INSTANCE:
					t->instance = (uint32_t)v;
					break;
				case COL_WORKER:
					t->worker = (uint32_t)v;
					break;
				case COL_DESC:
					t->desc = (uint32_t)v;
					if (v >= job->ndescs)
						r->err = "task description out "
							 "of range";
					break;
				case COL_WSLOT:
					t->wslot = (uint32_t)v;
					break;
				case COL_STATE:
					t->state = (uint8_t)v;
					if (v > HQ_TASK_ABORTED)
						r->err = "unknown task state";
					else
						job->counts[v]++;
					break;
				case COL_CRASHES:
					t->crashes = (uint8_t)v;
					break;
				case COL_FLAGS:
					t->flags = (uint8_t)v;
					break;
				case COL_VARIANT:
					t->variant = (uint8_t)v;
					break;
				case COL_START:
					t->start_ms = v;
					break;
				default:
					t->end_ms = v;
					break;
				}
			}
		}
	}
	job->nerrors = hq_vget_count(r, 2);
	job->errors =
	    hq_xcalloc(job->nerrors ? job->nerrors : 1, sizeof *job->errors);
	for (i = 0; i < job->nerrors && r->err == NULL; i++) {
		job->errors[i].idx = hq_vget_u32(r);
		job->errors[i].msg = hq_vget_str(r);
		if (job->errors[i].idx >= job->ntasks && r->err == NULL)
			r->err = "error of an unknown task";
	}
	if (hq_vget_u(r) != 0 && r->err == NULL) {
		struct hq_jdeps *d = job->deps = hq_xcalloc(1, sizeof *d);
		uint32_t cap = 0;

		d->nslots = hq_vget_count(r, 3);
		if (d->nslots > job->ntasks && r->err == NULL)
			r->err = "dependency table too large";
		d->waiting = hq_xcalloc(d->nslots + 1, sizeof *d->waiting);
		d->ndeps = hq_xcalloc(d->nslots + 1, sizeof *d->ndeps);
		d->cons_off = hq_xcalloc(d->nslots + 1, sizeof *d->cons_off);
		for (i = 0; i < d->nslots && r->err == NULL; i++) {
			uint32_t nc;

			d->waiting[i] = hq_vget_u32(r);
			d->ndeps[i] = hq_vget_u32(r);
			nc = hq_vget_count(r, 1);
			d->cons_off[i + 1] = d->cons_off[i] + nc;
			HQ_VEC_RESERVE(d->cons, cap, d->cons_off[i + 1] + 1);
			for (k = 0; k < nc && r->err == NULL; k++) {
				d->cons[d->cons_off[i] + k] = hq_vget_u32(r);
				if (d->cons[d->cons_off[i] + k] >= d->nslots)
					r->err = "consumer out of range";
			}
		}
		d->ncons = d->cons_off[d->nslots];
		d->cap = cap;
	}
	hq_u32map_init(&job->mn_index);
	job->nmn = hq_vget_count(r, 2);
	job->mn = hq_xcalloc(job->nmn ? job->nmn : 1, sizeof *job->mn);
	for (i = 0; i < job->nmn && r->err == NULL; i++) {
		struct hq_mnrec *mr = &job->mn[i];

		mr->idx = hq_vget_u32(r);
		mr->n = hq_vget_count(r, 1);
		mr->nodes = hq_xcalloc(mr->n ? mr->n : 1, sizeof *mr->nodes);
		for (k = 0; k < mr->n; k++)
			mr->nodes[k] = hq_vget_u32(r);
		if (r->err == NULL && mr->idx >= job->ntasks)
			r->err = "multi-node record of an unknown task";
		hq_u32map_put(&job->mn_index, mr->idx, i);
	}
	if (!job_index_rebuild(job) && r->err == NULL)
		r->err = "task ids repeat or are not consecutive";
	return job;
}

int
hq_state_restore(const uint8_t *p, size_t len, struct hq_state **out,
    struct hq_errbuf *eb)
{
	struct hq_vrd r = { p, p + len, NULL };
	struct hq_state *st;
	uint64_t version;
	uint32_t i, j, n;

	if (len < sizeof snap_magic ||
	    memcmp(p, snap_magic, sizeof snap_magic) != 0)
		return hq_errf(eb, HQ_ECORRUPT, "not a state snapshot");
	r.p += sizeof snap_magic;
	version = hq_vget_u(&r);
	if (r.err == NULL && version != HQ_SNAPSHOT_VERSION)
		return hq_errf(eb, HQ_EVERSION,
		    "snapshot format %llu, this hq reads format %d",
		    (unsigned long long)version, HQ_SNAPSHOT_VERSION);
	st = hq_state_create();
	free(st->server_uid);
	st->server_uid = hq_vget_str(&r);
	st->start_ms = hq_vget_u(&r);
	st->next_job_id = hq_vget_u32(&r);
	st->next_worker_id = hq_vget_u32(&r);
	if (r.err == NULL &&
	    (st->next_job_id == 0 || st->next_job_id > HQ_STATE_MAX_ID ||
		st->next_worker_id == 0 ||
		st->next_worker_id > HQ_STATE_MAX_ID))
		r.err = "next job or worker id out of range";
	st->nevents = hq_vget_u(&r);
	st->nresnames = hq_vget_count(&r, 1);
	st->resnames =
	    hq_xcalloc(st->nresnames ? st->nresnames : 1, sizeof *st->resnames);
	for (i = 0; i < st->nresnames; i++)
		st->resnames[i] = hq_vget_str(&r);
	st->ngroups = hq_vget_count(&r, 1);
	st->groups =
	    hq_xcalloc(st->ngroups ? st->ngroups : 1, sizeof *st->groups);
	for (i = 0; i < st->ngroups; i++)
		st->groups[i] = hq_vget_str(&r);
	n = hq_vget_count(&r, 1);
	st->rqs = hq_xcalloc(n ? n : 1, sizeof *st->rqs);
	st->rqcap = n ? n : 1;
	for (i = 0; i < n && r.err == NULL; i++) {
		struct hq_rq *rq = &st->rqs[st->nrqs++];

		get_request(&r, &rq->req);
		rq->rid =
		    hq_xcalloc(rq->req.n ? rq->req.n : 1, sizeof *rq->rid);
		for (j = 0; j < rq->req.n && r.err == NULL; j++) {
			uint32_t e;

			rq->rid[j] =
			    hq_xcalloc(rq->req.v[j].n + 1, sizeof **rq->rid);
			for (e = 0; e < rq->req.v[j].n; e++) {
				int32_t id = hq_state_resource_id(st,
				    rq->req.v[j].e[e].name);

				if (id < 0) {
					r.err = "request of an unknown "
						"resource";
					break;
				}
				rq->rid[j][e] = (uint32_t)id;
			}
		}
		{
			struct hq_buf key;

			hq_buf_init(&key);
			hq_rq_key(&key, &rq->req);
			rq->key = hq_xstrdup((char *)key.data);
			hq_buf_fini(&key);
		}
	}
	n = hq_vget_count(&r, 8);
	for (i = 0; i < n && r.err == NULL; i++) {
		struct hq_job *job = get_job(&r, st);

		if (r.err == NULL &&
		    (job->id == 0 || job->id >= st->next_job_id ||
			(job->id < st->jobs_cap && st->jobs[job->id]))) {
			r.err = "bad job id";
		}
		if (job->id >= st->jobs_cap && r.err == NULL) {
			uint32_t ncap = st->jobs_cap ? st->jobs_cap : 64;

			while (ncap <= job->id)
				ncap *= 2;
			st->jobs =
			    hq_xreallocarray(st->jobs, ncap, sizeof *st->jobs);
			memset(st->jobs + st->jobs_cap, 0,
			    (ncap - st->jobs_cap) * sizeof *st->jobs);
			st->jobs_cap = ncap;
		}
		if (r.err != NULL) {
			/* Not yet owned by st: free it here. */
			struct hq_state *tmp = hq_state_create();

			tmp->jobs = hq_xcalloc(2, sizeof *tmp->jobs);
			tmp->jobs_cap = 2;
			tmp->jobs[1] = job;
			hq_state_destroy(tmp);
			break;
		}
		st->jobs[job->id] = job;
		st->njobs_live++;
	}
	n = hq_vget_count(&r, 4);
	st->buckets = hq_xcalloc(n ? n : 1, sizeof *st->buckets);
	for (i = 0; i < n && r.err == NULL; i++) {
		struct hq_bucket *bk = hq_xcalloc(1, sizeof *bk);
		uint32_t cap = 16;

		st->buckets[st->nbuckets++] = bk;
		bk->priority = (int32_t)hq_vget_s(&r);
		bk->rq = hq_vget_u32(&r);
		bk->nready = hq_vget_u(&r);
		bk->len = hq_vget_count(&r, 3);
		if (bk->rq >= st->nrqs && r.err == NULL)
			r.err = "queue of an unknown request";
		while (cap < bk->len)
			cap *= 2;
		bk->cap = cap;
		bk->q = hq_xcalloc(cap, sizeof *bk->q);
		for (j = 0; j < bk->len && r.err == NULL; j++) {
			struct hq_job *job;

			bk->q[j].job = hq_vget_u32(&r);
			bk->q[j].lo = hq_vget_u32(&r);
			bk->q[j].hi = bk->q[j].lo + hq_vget_u32(&r);
			job = hq_state_job(st, bk->q[j].job);
			if (r.err == NULL &&
			    (job == NULL || bk->q[j].hi > job->ntasks ||
				bk->q[j].hi < bk->q[j].lo))
				r.err = "ready range out of bounds";
		}
	}
	n = hq_vget_count(&r, 8);
	for (i = 0; i < n && r.err == NULL; i++) {
		struct hq_sworker *w = hq_xcalloc(1, sizeof *w);
		struct hq_errbuf eb2;
		const uint8_t *cp;
		size_t clen;

		w->id = hq_vget_u32(&r);
		cp = hq_vget_bytes(&r, &clen);
		if (cp != NULL &&
		    hq_wire_decode_wconfig(cp, clen, &w->cfg, &eb2) != 0)
			r.err = "damaged worker configuration";
		w->online = hq_vget_u(&r) != 0;
		w->lost_reason = (enum hq_worker_lost_reason)hq_vget_u32(&r);
		w->connected_ms = hq_vget_u(&r);
		w->lost_ms = hq_vget_u(&r);
		w->nres = hq_vget_count(&r, 2);
		w->res_total = hq_xcalloc(w->nres + 1, sizeof *w->res_total);
		w->res_used = hq_xcalloc(w->nres + 1, sizeof *w->res_used);
		for (j = 0; j < w->nres; j++) {
			w->res_total[j] = hq_vget_u(&r);
			w->res_used[j] = hq_vget_u(&r);
		}
		w->ninflight = w->icap = hq_vget_count(&r, 2);
		w->inflight = hq_xcalloc(w->icap + 1, sizeof *w->inflight);
		for (j = 0; j < w->ninflight && r.err == NULL; j++) {
			struct hq_job *job;

			w->inflight[j].job = hq_vget_u32(&r);
			w->inflight[j].idx = hq_vget_u32(&r);
			job = hq_state_job(st, w->inflight[j].job);
			if (r.err == NULL &&
			    (job == NULL || w->inflight[j].idx >= job->ntasks))
				r.err = "in-flight task out of bounds";
		}
		w->nrunning = hq_vget_u32(&r);
		w->last_job = hq_vget_u32(&r);
		w->last_task = hq_vget_u32(&r);
		w->last_task_ms = hq_vget_u(&r);
		w->end_ms = hq_vget_u(&r);
		w->group_id = hq_vget_u32(&r);
		w->mn_job = hq_vget_u32(&r);
		w->mn_idx = hq_vget_u32(&r);
		w->mn_nnodes = hq_vget_count(&r, 1);
		/* Only the root of a multi-node task owns a node list. */
		w->mn_nodes = w->mn_nnodes
		    ? hq_xcalloc(w->mn_nnodes, sizeof *w->mn_nodes)
		    : NULL;
		for (j = 0; j < w->mn_nnodes; j++)
			w->mn_nodes[j] = hq_vget_u32(&r);
		if (r.err == NULL && w->group_id >= st->ngroups)
			r.err = "worker of an unknown group";
		if (r.err == NULL &&
		    (w->id == 0 || w->id >= st->next_worker_id ||
			hq_state_worker(st, w->id) != NULL))
			r.err = "bad worker id";
		if (w->id >= st->workers_cap && w->id < st->next_worker_id) {
			uint32_t ncap = st->workers_cap ? st->workers_cap : 16;

			while (ncap <= w->id)
				ncap *= 2;
			st->workers = hq_xreallocarray(st->workers, ncap,
			    sizeof *st->workers);
			memset(st->workers + st->workers_cap, 0,
			    (ncap - st->workers_cap) * sizeof *st->workers);
			st->workers_cap = ncap;
		}
		if (w->id != 0 && w->id < st->workers_cap &&
		    st->workers[w->id] == NULL) {
			st->workers[w->id] = w;
		} else {
			hq_worker_config_fini(&w->cfg);
			free(w->res_total);
			free(w->res_used);
			free(w->inflight);
			free(w->mn_nodes);
			free(w);
		}
	}
	{
		const uint8_t *ap;
		size_t alen;
		struct hq_alloc_state *as = NULL;
		struct hq_errbuf aeb;

		ap = hq_vget_bytes(&r, &alen);
		if (ap != NULL && r.err == NULL) {
			if (hq_alloc_state_restore(ap, alen, &as, &aeb) != 0) {
				r.err = "damaged allocation state";
			} else {
				hq_alloc_state_destroy(st->alloc);
				st->alloc = as;
			}
		}
	}
	if (r.err == NULL && r.p != r.end)
		r.err = "trailing bytes";
	/* In-flight lists and tasks must point at each other. */
	for (i = 1; i < st->workers_cap && r.err == NULL; i++) {
		const struct hq_sworker *w = st->workers[i];

		for (j = 0; w != NULL && j < w->ninflight; j++) {
			const struct hq_job *job =
			    hq_state_job(st, w->inflight[j].job);
			const struct hq_task *t =
			    &job->tasks[w->inflight[j].idx];

			if (t->worker != w->id || t->wslot != j) {
				r.err = "in-flight list inconsistent";
				break;
			}
			/* Only assigned or running tasks are in flight (a
			 * done one would trip the state's own asserts). */
			if (t->state != HQ_TASK_RUNNING &&
			    !(t->state == HQ_TASK_WAITING &&
				(t->flags & HQ_TF_ASSIGNED))) {
				r.err = "in-flight task neither assigned nor "
					"running";
				break;
			}
		}
	}
	if (r.err != NULL) {
		int rc =
		    hq_errf(eb, HQ_ECORRUPT, "damaged snapshot: %s", r.err);

		hq_state_destroy(st);
		return rc;
	}
	*out = st;
	return 0;
}
