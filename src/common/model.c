/* SPDX-License-Identifier: MIT */
/* Constructors, copies and destructors of the shared data model. */
#include "common/model.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void
hq_idset_fini(struct hq_idset *s)
{
	free(s->r);
	memset(s, 0, sizeof *s);
}

void
hq_idset_add_range(struct hq_idset *s, uint32_t start, uint32_t count,
    uint32_t step)
{
	struct hq_idrange r = { start, count, step ? step : 1 };

	if (count == 0)
		return;
	HQ_VEC_PUSH(s->r, s->n, s->cap, r);
}

void
hq_idset_add(struct hq_idset *s, uint32_t id)
{
	if (s->n > 0) {
		struct hq_idrange *last = &s->r[s->n - 1];

		if (last->count == 1 && id > last->start) {
			last->step = id - last->start;
			last->count = 2;
			return;
		}
		if ((uint64_t)last->start +
			(uint64_t)last->count * last->step ==
		    id) {
			last->count++;
			return;
		}
	}
	hq_idset_add_range(s, id, 1, 1);
}

uint64_t
hq_idset_count(const struct hq_idset *s)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < s->n; i++)
		n += s->r[i].count;
	return n;
}

bool
hq_idset_contains(const struct hq_idset *s, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		const struct hq_idrange *r = &s->r[i];
		uint64_t last =
		    (uint64_t)r->start + (uint64_t)(r->count - 1) * r->step;

		if (id >= r->start && id <= last &&
		    (id - r->start) % r->step == 0)
			return true;
	}
	return false;
}

void
hq_idset_copy(struct hq_idset *dst, const struct hq_idset *src)
{
	dst->n = dst->cap = src->n;
	dst->r = src->n ? hq_xmemdup(src->r, src->n * sizeof *src->r) : NULL;
}

void
hq_res_request_fini(struct hq_res_request *r)
{
	uint32_t i, j;

	for (i = 0; i < r->n; i++) {
		for (j = 0; j < r->v[i].n; j++)
			free(r->v[i].e[j].name);
		free(r->v[i].e);
	}
	free(r->v);
	memset(r, 0, sizeof *r);
}

void
hq_res_request_copy(struct hq_res_request *dst,
    const struct hq_res_request *src)
{
	uint32_t i, j;

	dst->n = src->n;
	dst->v = hq_xcalloc(src->n, sizeof *dst->v);
	for (i = 0; i < src->n; i++) {
		dst->v[i] = src->v[i];
		dst->v[i].e = hq_xcalloc(src->v[i].n, sizeof *dst->v[i].e);
		for (j = 0; j < src->v[i].n; j++) {
			dst->v[i].e[j] = src->v[i].e[j];
			dst->v[i].e[j].name = hq_xstrdup(src->v[i].e[j].name);
		}
	}
}

void
hq_res_request_default(struct hq_res_request *r)
{
	r->n = 1;
	r->v = hq_xcalloc(1, sizeof *r->v);
	r->v[0].weight = HQ_AMOUNT_ONE;
	r->v[0].n = 1;
	r->v[0].e = hq_xcalloc(1, sizeof *r->v[0].e);
	r->v[0].e[0].name = hq_xstrdup("cpus");
	r->v[0].e[0].amount = HQ_AMOUNT_ONE;
	r->v[0].e[0].policy = HQ_POLICY_COMPACT;
}

void
hq_res_pool_fini(struct hq_res_pool *p)
{
	uint32_t i;

	free(p->name);
	for (i = 0; i < p->nlabels; i++)
		free(p->labels[i]);
	free(p->labels);
	free(p->group_start);
	memset(p, 0, sizeof *p);
}

void
hq_worker_res_fini(struct hq_worker_res *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		hq_res_pool_fini(&r->pools[i]);
	free(r->pools);
	free(r->coupling);
	memset(r, 0, sizeof *r);
}

void
hq_worker_res_copy(struct hq_worker_res *dst, const struct hq_worker_res *src)
{
	uint32_t i, j;

	dst->n = src->n;
	dst->pools = hq_xcalloc(src->n, sizeof *dst->pools);
	for (i = 0; i < src->n; i++) {
		const struct hq_res_pool *s = &src->pools[i];
		struct hq_res_pool *d = &dst->pools[i];

		*d = *s;
		d->name = hq_xstrdup(s->name);
		d->labels = hq_xcalloc(s->nlabels, sizeof *d->labels);
		for (j = 0; j < s->nlabels; j++)
			d->labels[j] = hq_xstrdup(s->labels[j]);
		d->group_start = s->group_start
		    ? hq_xmemdup(s->group_start,
			  (s->ngroups + 1) * sizeof *s->group_start)
		    : NULL;
	}
	dst->ncoupling = src->ncoupling;
	dst->coupling = src->ncoupling
	    ? hq_xmemdup(src->coupling, src->ncoupling * sizeof *src->coupling)
	    : NULL;
}

uint64_t
hq_res_pool_total(const struct hq_res_pool *p)
{
	if (p->kind == HQ_POOL_SUM)
		return p->size;
	return (uint64_t)p->nlabels * HQ_AMOUNT_ONE;
}

const struct hq_res_pool *
hq_worker_res_find(const struct hq_worker_res *r, const char *name)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->pools[i].name, name) == 0)
			return &r->pools[i];
	return NULL;
}

static char *
dup_or_null(const char *s)
{
	return s ? hq_xstrdup(s) : NULL;
}

void
hq_worker_config_fini(struct hq_worker_config *c)
{
	free(c->hostname);
	free(c->group);
	hq_worker_res_fini(&c->res);
	free(c->work_dir);
	free(c->on_server_lost);
	free(c->manager);
	free(c->allocation_id);
	free(c->listen_address);
	free(c->config_json);
	memset(c, 0, sizeof *c);
}

void
hq_worker_config_copy(struct hq_worker_config *dst,
    const struct hq_worker_config *src)
{
	*dst = *src;
	dst->hostname = dup_or_null(src->hostname);
	dst->group = dup_or_null(src->group);
	hq_worker_res_copy(&dst->res, &src->res);
	dst->work_dir = dup_or_null(src->work_dir);
	dst->on_server_lost = dup_or_null(src->on_server_lost);
	dst->manager = dup_or_null(src->manager);
	dst->allocation_id = dup_or_null(src->allocation_id);
	dst->listen_address = dup_or_null(src->listen_address);
	dst->config_json = dup_or_null(src->config_json);
}

static void
stdio_copy(struct hq_stdio *d, const struct hq_stdio *s)
{
	*d = *s;
	d->path = dup_or_null(s->path);
}

void
hq_task_desc_fini(struct hq_task_desc *d)
{
	uint32_t i;

	for (i = 0; i < d->argc; i++)
		free(d->argv[i]);
	free(d->argv);
	for (i = 0; i < d->nenv; i++) {
		free(d->env[i].key);
		free(d->env[i].value);
	}
	free(d->env);
	free(d->cwd);
	free(d->out.path);
	free(d->err.path);
	free(d->stdin_data);
	hq_res_request_fini(&d->req);
	memset(d, 0, sizeof *d);
}

void
hq_task_desc_copy(struct hq_task_desc *dst, const struct hq_task_desc *src)
{
	uint32_t i;

	*dst = *src;
	dst->argv = hq_xcalloc(src->argc + 1, sizeof *dst->argv);
	for (i = 0; i < src->argc; i++)
		dst->argv[i] = hq_xstrdup(src->argv[i]);
	dst->env = hq_xcalloc(src->nenv, sizeof *dst->env);
	for (i = 0; i < src->nenv; i++) {
		dst->env[i].key = hq_xstrdup(src->env[i].key);
		dst->env[i].value = hq_xstrdup(src->env[i].value);
	}
	dst->cwd = src->cwd ? hq_xstrdup(src->cwd) : NULL;
	stdio_copy(&dst->out, &src->out);
	stdio_copy(&dst->err, &src->err);
	dst->stdin_data =
	    src->stdin_len ? hq_xmemdup(src->stdin_data, src->stdin_len) : NULL;
	hq_res_request_copy(&dst->req, &src->req);
}

void
hq_submit_fini(struct hq_submit *s)
{
	uint32_t i;

	for (i = 0; i < s->ndescs; i++)
		hq_task_desc_fini(&s->descs[i]);
	free(s->descs);
	hq_idset_fini(&s->ids);
	for (i = 0; i < s->nentries; i++)
		free(s->entries[i]);
	free(s->entries);
	for (i = 0; i < s->ntasks; i++)
		free(s->tasks[i].deps);
	free(s->tasks);
	free(s->submit_dir);
	free(s->stream_dir);
	memset(s, 0, sizeof *s);
}

const char *
hq_task_state_name(enum hq_task_state s)
{
	static const char *const names[] = { "waiting", "running", "finished",
		"failed", "canceled", "aborted" };

	return (unsigned)s < HQ_ARRAY_LEN(names) ? names[s] : "unknown";
}

const char *
hq_job_state_name(enum hq_job_state s)
{
	static const char *const names[] = { "WAITING", "RUNNING", "FINISHED",
		"FAILED", "CANCELED", "ABORTED", "OPENED" };

	return (unsigned)s < HQ_ARRAY_LEN(names) ? names[s] : "UNKNOWN";
}

const char *
hq_lost_reason_name(enum hq_worker_lost_reason r)
{
	static const char *const names[] = { "None", "Stopped",
		"ConnectionLost", "HeartbeatLost", "IdleTimeout",
		"TimeLimitReached", "ConnectionLost" };

	return (unsigned)r < HQ_ARRAY_LEN(names) ? names[r] : "Unknown";
}

const char *
hq_lost_reason_display(enum hq_worker_lost_reason r)
{
	static const char *const names[] = { "RUNNING", "STOPPED",
		"CONNECTION LOST", "HEARTBEAT LOST", "IDLE TIMEOUT",
		"TIME LIMIT REACHED", "CONNECTION LOST" };

	return (unsigned)r < HQ_ARRAY_LEN(names) ? names[r] : "UNKNOWN";
}
