/* SPDX-License-Identifier: MIT */
/*
 * Allocation queues and allocations, changed only by journalled events.
 * Pure and deterministic: the same events rebuild the same queues.
 */
#include "server/alloc_state.h"

#include <stdlib.h>
#include <string.h>

#include "common/resource.h"
#include "common/varint.h"
#include "common/wire.h"

struct hq_alloc_state *
hq_alloc_state_create(void)
{
	struct hq_alloc_state *as = hq_xcalloc(1, sizeof *as);

	as->next_queue_id = 1;
	return as;
}

static void
allocation_free(struct hq_allocation *a)
{
	if (a == NULL)
		return;
	free(a->id);
	free(a->workdir);
	free(a->workers);
	free(a);
}

static void
queue_free(struct hq_aqueue *q)
{
	uint32_t i;

	if (q == NULL)
		return;
	hq_alloc_params_fini(&q->p);
	free(q->pause_reason);
	if (q->has_cli_res)
		hq_worker_res_fini(&q->cli_res);
	if (q->has_known_res)
		hq_worker_res_fini(&q->known_res);
	for (i = 0; i < q->nallocs; i++)
		allocation_free(q->allocs[i]);
	free(q->allocs);
	free(q);
}

void
hq_alloc_state_destroy(struct hq_alloc_state *as)
{
	uint32_t i;

	if (as == NULL)
		return;
	for (i = 0; i < as->nqueues; i++)
		queue_free(as->queues[i]);
	free(as->queues);
	free(as);
}

/* ---- lookups ------------------------------------------------------------- */

static int
queue_index(const struct hq_alloc_state *as, uint32_t id)
{
	uint32_t lo = 0, hi = as->nqueues;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (as->queues[mid]->id == id)
			return (int)mid;
		if (as->queues[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct hq_aqueue *
hq_alloc_queue(const struct hq_alloc_state *as, uint32_t id)
{
	int i = queue_index(as, id);

	return i < 0 ? NULL : as->queues[i];
}

struct hq_allocation *
hq_aqueue_allocation(const struct hq_aqueue *q, const char *id)
{
	uint32_t i;

	/* Newest first: lookups are mostly about recent allocations. */
	for (i = q->nallocs; i > 0; i--)
		if (strcmp(q->allocs[i - 1]->id, id) == 0)
			return q->allocs[i - 1];
	return NULL;
}

bool
hq_allocation_active(const struct hq_allocation *a)
{
	return a->status == HQ_ALLOC_QUEUED || a->status == HQ_ALLOC_RUNNING;
}

uint32_t
hq_allocation_pending(const struct hq_allocation *a)
{
	if (!hq_allocation_active(a) || a->nworkers >= a->target)
		return 0;
	return a->target - a->nworkers;
}

uint32_t
hq_aqueue_count(const struct hq_aqueue *q, enum hq_alloc_status s)
{
	uint32_t i, n = 0;

	for (i = 0; i < q->nallocs; i++)
		n += q->allocs[i]->status == s;
	return n;
}

uint32_t
hq_aqueue_active_workers(const struct hq_aqueue *q)
{
	uint32_t i, n = q->inflight_workers;

	for (i = 0; i < q->nallocs; i++) {
		const struct hq_allocation *a = q->allocs[i];

		if (hq_allocation_active(a))
			n += a->nonline + hq_allocation_pending(a);
	}
	return n;
}

const char *
hq_alloc_status_name(enum hq_alloc_status s)
{
	switch (s) {
	case HQ_ALLOC_QUEUED:
		return "queued";
	case HQ_ALLOC_RUNNING:
		return "running";
	case HQ_ALLOC_FINISHED:
		return "finished";
	case HQ_ALLOC_FAILED:
		return "failed";
	}
	return "unknown";
}

/* ---- events -------------------------------------------------------------- */

/*
 * The resources named by --cpus/--resource: a partial description (other
 * resources, even cpus, may be unknown). The client validated them;
 * anything that does not parse now, or repeats a name, is left out.
 */
static void
queue_cli_res(struct hq_aqueue *q)
{
	struct hq_worker_res *r = &q->cli_res;
	uint32_t i;

	memset(r, 0, sizeof *r);
	r->pools = hq_xcalloc(q->p.nresources + 1, sizeof *r->pools);
	if (q->p.cpus != NULL &&
	    hq_parse_pool_def("cpus", q->p.cpus, true, &r->pools[r->n], NULL) ==
		0)
		r->n++;
	for (i = 0; i < q->p.nresources; i++) {
		char *name, *def;

		if (hq_split_name_value(q->p.resources[i], &name, &def, NULL) !=
		    0)
			continue;
		if (hq_worker_res_find(r, name) == NULL &&
		    hq_parse_pool_def(name, def, strcmp(name, "cpus") == 0,
			&r->pools[r->n], NULL) == 0)
			r->n++;
		free(name);
		free(def);
	}
	q->has_cli_res = r->n > 0;
	if (!q->has_cli_res) {
		free(r->pools);
		r->pools = NULL;
	}
}

static int
apply_queue_created(struct hq_alloc_state *as, const struct hq_event *ev,
    struct hq_errbuf *eb)
{
	const struct hq_alloc_params *p = &ev->u.alloc.params;
	uint32_t id = ev->u.alloc.queue_id;
	struct hq_aqueue *q;
	uint32_t i;

	if (id == 0)
		return hq_errf(eb, HQ_EINVAL, "allocation queue id 0");
	if (queue_index(as, id) >= 0)
		return hq_errf(eb, HQ_EEXIST, "allocation queue %u exists", id);
	if (p->backlog == 0 || p->max_workers_per_alloc == 0 ||
	    p->time_limit_ms == 0)
		return hq_errf(eb, HQ_EINVAL,
		    "allocation queue %u: backlog, workers per allocation "
		    "and time limit must be positive",
		    id);
	q = hq_xcalloc(1, sizeof *q);
	q->id = id;
	hq_alloc_params_copy(&q->p, p);
	queue_cli_res(q);
	HQ_VEC_RESERVE(as->queues, as->qcap, as->nqueues + 1);
	for (i = as->nqueues; i > 0 && as->queues[i - 1]->id > id; i--)
		as->queues[i] = as->queues[i - 1];
	as->queues[i] = q;
	as->nqueues++;
	if (id >= as->next_queue_id)
		as->next_queue_id = id + 1;
	return 0;
}

static void
allocation_end(struct hq_aqueue *q, struct hq_allocation *a,
    enum hq_alloc_end end, uint64_t now)
{
	a->status =
	    end == HQ_ALLOC_END_FINISHED ? HQ_ALLOC_FINISHED : HQ_ALLOC_FAILED;
	a->ended_ms = now;
	a->canceled = end == HQ_ALLOC_END_CANCELED;
	/* Workers cut off by a server restart end their allocation as they
	 * can (often with an error): that is no failure of the queue. */
	if (end == HQ_ALLOC_END_FAILED && a->norphaned == 0)
		q->alloc_fails++;
	else if (end == HQ_ALLOC_END_FINISHED)
		q->alloc_fails = 0;
}

static int
apply_allocation(struct hq_aqueue *q, const struct hq_event *ev,
    struct hq_errbuf *eb)
{
	const char *id = ev->u.alloc.allocation_id;
	struct hq_allocation *a;

	if (id == NULL || *id == '\0')
		return hq_errf(eb, HQ_EINVAL,
		    "allocation queue %u: event without an allocation id",
		    q->id);
	a = hq_aqueue_allocation(q, id);
	if (ev->u.alloc.kind == HQ_AEV_SUBMITTED) {
		if (a != NULL)
			return hq_errf(eb, HQ_EEXIST,
			    "allocation %s of queue %u exists", id, q->id);
		if (ev->u.alloc.worker_count == 0)
			return hq_errf(eb, HQ_EINVAL,
			    "allocation %s: no workers", id);
		a = hq_xcalloc(1, sizeof *a);
		a->id = hq_xstrdup(id);
		a->target = ev->u.alloc.worker_count;
		a->status = HQ_ALLOC_QUEUED;
		a->queued_ms = ev->time_ms;
		a->workdir =
		    hq_xstrdup(ev->u.alloc.workdir ? ev->u.alloc.workdir : "");
		HQ_VEC_PUSH(q->allocs, q->nallocs, q->acap, a);
		q->submit_fails = 0;
		q->nsubmits++;
		return 0;
	}
	if (a == NULL)
		return hq_errf(eb, HQ_ENOTFOUND,
		    "allocation %s of queue %u not found", id, q->id);
	if (ev->u.alloc.kind == HQ_AEV_STARTED) {
		if (a->status != HQ_ALLOC_QUEUED)
			return hq_errf(eb, HQ_ESTATE,
			    "allocation %s is %s, not queued", id,
			    hq_alloc_status_name(a->status));
		a->status = HQ_ALLOC_RUNNING;
		a->started_ms = ev->time_ms;
		return 0;
	}
	if (!hq_allocation_active(a))
		return hq_errf(eb, HQ_ESTATE, "allocation %s has already ended",
		    id);
	allocation_end(q, a, ev->u.alloc.end, ev->time_ms);
	return 0;
}

int
hq_alloc_state_apply(struct hq_alloc_state *as, const struct hq_event *ev,
    struct hq_errbuf *eb)
{
	struct hq_aqueue *q;
	int i;

	HQ_ASSERT(ev->kind == HQ_EV_ALLOC);
	if (ev->u.alloc.kind == HQ_AEV_QUEUE_CREATED)
		return apply_queue_created(as, ev, eb);
	if ((i = queue_index(as, ev->u.alloc.queue_id)) < 0)
		return hq_errf(eb, HQ_ENOTFOUND,
		    "allocation queue %u not found", ev->u.alloc.queue_id);
	q = as->queues[i];
	switch (ev->u.alloc.kind) {
	case HQ_AEV_QUEUE_CREATED:
		break;
	case HQ_AEV_QUEUE_REMOVED:
		queue_free(q);
		memmove(&as->queues[i], &as->queues[i + 1],
		    (as->nqueues - (uint32_t)i - 1) * sizeof *as->queues);
		as->nqueues--;
		break;
	case HQ_AEV_QUEUE_PAUSED:
		q->paused = true;
		free(q->pause_reason);
		q->pause_reason = ev->u.alloc.message
		    ? hq_xstrdup(ev->u.alloc.message)
		    : NULL;
		break;
	case HQ_AEV_QUEUE_RESUMED:
		/* A fresh start: failures before the pause are forgiven. */
		q->paused = false;
		free(q->pause_reason);
		q->pause_reason = NULL;
		q->submit_fails = 0;
		q->alloc_fails = 0;
		break;
	case HQ_AEV_SUBMIT_FAILED:
		q->submit_fails++;
		q->last_fail_ms = ev->time_ms;
		q->nsubmits++;
		break;
	case HQ_AEV_SUBMITTED:
	case HQ_AEV_STARTED:
	case HQ_AEV_FINISHED:
		return apply_allocation(q, ev, eb);
	default:
		return hq_errf(eb, HQ_EINVAL, "unknown autoalloc event %d",
		    (int)ev->u.alloc.kind);
	}
	return 0;
}

/* ---- workers ------------------------------------------------------------- */

static struct hq_alloc_worker *
allocation_worker(struct hq_allocation *a, uint32_t worker_id)
{
	uint32_t j;

	for (j = 0; j < a->nworkers; j++)
		if (a->workers[j].id == worker_id)
			return &a->workers[j];
	return NULL;
}

static void
worker_set_state(struct hq_allocation *a, struct hq_alloc_worker *w,
    enum hq_alloc_worker_state st)
{
	uint32_t *count[] = { &a->nonline, &a->ngone, &a->norphaned };

	HQ_ASSERT(*count[w->state] > 0);
	(*count[w->state])--;
	(*count[st])++;
	w->state = (uint8_t)st;
}

void
hq_alloc_state_worker_connected(struct hq_alloc_state *as, uint32_t worker_id,
    const struct hq_worker_config *cfg, uint64_t now_ms)
{
	uint32_t i, k;

	if (cfg->manager == NULL || cfg->allocation_id == NULL ||
	    *cfg->allocation_id == '\0')
		return;
	for (i = 0; i < as->nqueues; i++) {
		struct hq_aqueue *q = as->queues[i];
		struct hq_alloc_worker *w;
		struct hq_allocation *a;

		if (strcmp(cfg->manager, hq_manager_worker_name(q->p.manager)))
			continue;
		for (k = q->nallocs; k > 0; k--) {
			a = q->allocs[k - 1];
			if (!hq_allocation_active(a) ||
			    strcmp(a->id, cfg->allocation_id) != 0)
				continue;
			if (a->status == HQ_ALLOC_QUEUED) {
				a->status = HQ_ALLOC_RUNNING;
				a->started_ms = now_ms;
			}
			if ((w = allocation_worker(a, worker_id)) == NULL) {
				HQ_VEC_RESERVE(a->workers, a->wcap,
				    a->nworkers + 1);
				a->workers[a->nworkers++] =
				    (struct hq_alloc_worker){ worker_id,
					    HQ_AW_ONLINE };
				a->nonline++;
			} else if (w->state != HQ_AW_ONLINE) {
				/* Back under its id (a reconnect). */
				worker_set_state(a, w, HQ_AW_ONLINE);
			}
			if (q->has_known_res)
				hq_worker_res_fini(&q->known_res);
			hq_worker_res_copy(&q->known_res, &cfg->res);
			q->has_known_res = true;
			return;
		}
	}
}

static bool
lost_is_crash(enum hq_worker_lost_reason r)
{
	return r == HQ_LOST_CONNECTION || r == HQ_LOST_HEARTBEAT;
}

void
hq_alloc_state_worker_lost(struct hq_alloc_state *as, uint32_t worker_id,
    enum hq_worker_lost_reason reason, uint64_t connected_ms, uint64_t now_ms)
{
	uint32_t i, k;

	for (i = 0; i < as->nqueues; i++) {
		struct hq_aqueue *q = as->queues[i];

		for (k = q->nallocs; k > 0; k--) {
			struct hq_allocation *a = q->allocs[k - 1];
			struct hq_alloc_worker *w;

			if (!hq_allocation_active(a) || a->nonline == 0 ||
			    (w = allocation_worker(a, worker_id)) == NULL ||
			    w->state != HQ_AW_ONLINE)
				continue;
			if (reason == HQ_LOST_SERVER_RESTART) {
				worker_set_state(a, w, HQ_AW_ORPHANED);
				return;
			}
			worker_set_state(a, w, HQ_AW_GONE);
			if (lost_is_crash(reason) &&
			    now_ms - connected_ms < HQ_ALLOC_EARLY_CRASH_MS)
				a->ncrashed++;
			if (a->nonline == 0 && a->norphaned == 0 &&
			    a->ngone >= a->target)
				allocation_end(q, a,
				    a->ncrashed >= a->ngone
					? HQ_ALLOC_END_FAILED
					: HQ_ALLOC_END_FINISHED,
				    now_ms);
			return;
		}
	}
}

/* ---- checkpoints --------------------------------------------------------- */

/*
 * Layout: "HQALLOC" version next_queue_id nqueues, then per queue: id,
 * params (wire encoding), paused, pause reason, known resources (flag +
 * wire encoding), submit_fails, last_fail_ms, alloc_fails, nsubmits,
 * nallocs, and per allocation: id, target, status, queued/started/ended
 * times, workdir, workers (id, state), ncrashed, canceled. Integers are
 * LEB128 varints; strings and blobs are length-prefixed.
 */
static const char snap_magic[7] = { 'H', 'Q', 'A', 'L', 'L', 'O', 'C' };

void
hq_alloc_state_snapshot(const struct hq_alloc_state *as, struct hq_buf *out)
{
	struct hq_buf blob;
	uint32_t i, k, j;

	hq_buf_init(&blob);
	hq_buf_append(out, snap_magic, sizeof snap_magic);
	hq_vput_u(out, HQ_ALLOC_SNAPSHOT_VERSION);
	hq_vput_u(out, as->next_queue_id);
	hq_vput_u(out, as->nqueues);
	for (i = 0; i < as->nqueues; i++) {
		const struct hq_aqueue *q = as->queues[i];

		hq_vput_u(out, q->id);
		hq_buf_reset(&blob);
		hq_wire_encode_alloc_params(&q->p, &blob);
		hq_vput_bytes(out, blob.data, blob.len);
		hq_vput_u(out, q->paused);
		hq_vput_ostr(out, q->pause_reason);
		hq_vput_u(out, q->has_known_res);
		if (q->has_known_res) {
			hq_buf_reset(&blob);
			hq_wire_encode_worker_res(&q->known_res, &blob);
			hq_vput_bytes(out, blob.data, blob.len);
		}
		hq_vput_u(out, q->submit_fails);
		hq_vput_u(out, q->last_fail_ms);
		hq_vput_u(out, q->alloc_fails);
		hq_vput_u(out, q->nsubmits);
		hq_vput_u(out, q->nallocs);
		for (k = 0; k < q->nallocs; k++) {
			const struct hq_allocation *a = q->allocs[k];

			hq_vput_ostr(out, a->id);
			hq_vput_u(out, a->target);
			hq_vput_u(out, a->status);
			hq_vput_u(out, a->queued_ms);
			hq_vput_u(out, a->started_ms);
			hq_vput_u(out, a->ended_ms);
			hq_vput_ostr(out, a->workdir);
			hq_vput_u(out, a->nworkers);
			for (j = 0; j < a->nworkers; j++) {
				hq_vput_u(out, a->workers[j].id);
				hq_vput_u(out, a->workers[j].state);
			}
			hq_vput_u(out, a->ncrashed);
			hq_vput_u(out, a->canceled);
		}
	}
	hq_buf_fini(&blob);
}

static int
restore_allocation(struct hq_vrd *r, struct hq_aqueue *q)
{
	struct hq_allocation *a = hq_xcalloc(1, sizeof *a);
	uint32_t j, nw, status;

	HQ_VEC_PUSH(q->allocs, q->nallocs, q->acap, a);
	a->id = hq_vget_ostr(r);
	a->target = hq_vget_u32(r);
	status = hq_vget_u32(r);
	a->queued_ms = hq_vget_u(r);
	a->started_ms = hq_vget_u(r);
	a->ended_ms = hq_vget_u(r);
	a->workdir = hq_vget_ostr(r);
	nw = hq_vget_count(r, 2);
	if (r->err != NULL || a->id == NULL || a->workdir == NULL ||
	    status > HQ_ALLOC_FAILED || a->target == 0)
		return -1;
	for (j = 0; j + 1 < q->nallocs; j++)
		if (strcmp(q->allocs[j]->id, a->id) == 0)
			return -1;
	a->status = (enum hq_alloc_status)status;
	a->workers = hq_xcalloc(nw ? nw : 1, sizeof *a->workers);
	a->wcap = nw ? nw : 1;
	for (j = 0; j < nw && r->err == NULL; j++) {
		uint32_t id = hq_vget_u32(r), st = hq_vget_u32(r);

		if (st > HQ_AW_ORPHANED || allocation_worker(a, id) != NULL)
			return -1;
		a->workers[a->nworkers++] =
		    (struct hq_alloc_worker){ id, (uint8_t)st };
		if (st == HQ_AW_ONLINE)
			a->nonline++;
		else if (st == HQ_AW_GONE)
			a->ngone++;
		else
			a->norphaned++;
	}
	a->ncrashed = hq_vget_u32(r);
	a->canceled = hq_vget_bool(r);
	return r->err != NULL ? -1 : 0;
}

static int
restore_queue(struct hq_vrd *r, struct hq_alloc_state *as, struct hq_errbuf *eb)
{
	struct hq_aqueue *q = hq_xcalloc(1, sizeof *q);
	const uint8_t *blob;
	uint32_t k, n;
	size_t len;

	q->id = hq_vget_u32(r);
	blob = hq_vget_bytes(r, &len);
	if (r->err != NULL || q->id == 0 ||
	    (as->nqueues > 0 && as->queues[as->nqueues - 1]->id >= q->id) ||
	    q->id >= as->next_queue_id ||
	    hq_wire_decode_alloc_params(blob, len, &q->p, eb) != 0 ||
	    q->p.backlog == 0 || q->p.max_workers_per_alloc == 0 ||
	    q->p.time_limit_ms == 0) {
		queue_free(q);
		return -1;
	}
	queue_cli_res(q);
	HQ_VEC_PUSH(as->queues, as->nqueues, as->qcap, q);
	q->paused = hq_vget_bool(r);
	q->pause_reason = hq_vget_ostr(r);
	if (hq_vget_bool(r)) {
		blob = hq_vget_bytes(r, &len);
		if (r->err != NULL ||
		    hq_wire_decode_worker_res(blob, len, &q->known_res, eb) !=
			0)
			return -1;
		q->has_known_res = true;
	}
	q->submit_fails = hq_vget_u32(r);
	q->last_fail_ms = hq_vget_u(r);
	q->alloc_fails = hq_vget_u32(r);
	q->nsubmits = hq_vget_u32(r);
	n = hq_vget_count(r, 8);
	for (k = 0; k < n && r->err == NULL; k++)
		if (restore_allocation(r, q) != 0)
			return -1;
	return r->err != NULL ? -1 : 0;
}

int
hq_alloc_state_restore(const uint8_t *p, size_t len,
    struct hq_alloc_state **out, struct hq_errbuf *eb)
{
	struct hq_vrd r = { p, p + len, NULL };
	struct hq_alloc_state *as;
	struct hq_errbuf inner;
	uint64_t version;
	uint32_t i, n;

	if (len < sizeof snap_magic ||
	    memcmp(p, snap_magic, sizeof snap_magic) != 0)
		return hq_errf(eb, HQ_ECORRUPT,
		    "not an allocation state snapshot");
	r.p += sizeof snap_magic;
	version = hq_vget_u(&r);
	if (r.err == NULL && version != HQ_ALLOC_SNAPSHOT_VERSION)
		return hq_errf(eb, HQ_EVERSION,
		    "allocation state snapshot version %llu is not known "
		    "(this hq reads version %d)",
		    (unsigned long long)version, HQ_ALLOC_SNAPSHOT_VERSION);
	as = hq_alloc_state_create();
	as->next_queue_id = hq_vget_u32(&r);
	n = hq_vget_count(&r, 8);
	inner.msg[0] = '\0';
	for (i = 0; i < n && r.err == NULL; i++)
		if (restore_queue(&r, as, &inner) != 0)
			r.err = "invalid value";
	if (r.err == NULL && r.p != r.end)
		r.err = "invalid value";
	if (r.err != NULL || as->next_queue_id == 0) {
		hq_alloc_state_destroy(as);
		return hq_errf(eb, HQ_ECORRUPT,
		    "damaged allocation state snapshot (at byte %zu)%s%s",
		    (size_t)(r.p - p), inner.msg[0] ? ": " : "", inner.msg);
	}
	*out = as;
	return 0;
}
