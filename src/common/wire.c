/* SPDX-License-Identifier: MIT */
/*
 * Conversions between the plain C messages of wire.h and the protobuf-c
 * structs generated from proto/hq.proto. Encoding builds temporary protobuf
 * structs in an arena (freed after packing); decoding unpacks, validates and
 * copies into the C structs, then frees the protobuf tree.
 */
#include "common/wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hq.pb-c.h"

/* ---- arena for encoding temporaries ---------------------------------- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
};

static void *
ar_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need =
	    (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);

	if (b == NULL || b->cap - b->used < need) {
		size_t cap = need > 16384 ? need : 16384;

		b = hq_xmalloc(sizeof *b + cap);
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += need;
	memset(p, 0, n);
	return p;
}

#define AR_NEW(a, T)	  ((T *)ar_alloc((a), sizeof(T)))
#define AR_ARRAY(a, T, n) ((T *)ar_alloc((a), sizeof(T) * ((n) ? (n) : 1)))

static void
ar_free(struct arena *a)
{
	struct arena_block *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

static ProtobufCBinaryData
bin_str(const char *s)
{
	ProtobufCBinaryData d = { 0, NULL };

	if (s != NULL) {
		d.len = strlen(s);
		d.data = (uint8_t *)s;
	}
	return d;
}

/* protobuf-c string fields must not be NULL when packing. */
static char *
str_or_empty(const char *s)
{
	return (char *)(s ? s : "");
}

/* Pack any message into out. */
static int
pack_into(const ProtobufCMessage *m, struct hq_buf *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *p = hq_buf_reserve(out, n);

	protobuf_c_message_pack(m, p);
	out->len += n;
	return 0;
}

/* ---- decoding helpers ------------------------------------------------- */

/* Copy bytes into a NUL-terminated string; refuse embedded NULs. */
static int
dec_str(const ProtobufCBinaryData *d, char **out, const char *what,
    struct hq_errbuf *eb)
{
	if (d->len > 0 && memchr(d->data, '\0', d->len) != NULL)
		return hq_errf(eb, HQ_EPROTO, "%s contains a NUL byte", what);
	*out = hq_xstrndup(d->len ? (const char *)d->data : "", d->len);
	return 0;
}

/* Same, but an empty value decodes to NULL. */
static int
dec_str_opt(const ProtobufCBinaryData *d, char **out, const char *what,
    struct hq_errbuf *eb)
{
	if (d->len == 0) {
		*out = NULL;
		return 0;
	}
	return dec_str(d, out, what, eb);
}

static char *
dup_pstr(const char *s)
{
	return hq_xstrdup(s ? s : "");
}

static char *
dup_pstr_opt(const char *s)
{
	return (s && *s) ? hq_xstrdup(s) : NULL;
}

static uint32_t *
dup_u32(const uint32_t *p, size_t n)
{
	return n ? hq_xmemdup(p, n * sizeof *p) : NULL;
}

/* ---- id sets ----------------------------------------------------------- */

static Hq__IdSet *
enc_idset(struct arena *a, const struct hq_idset *s)
{
	Hq__IdSet *m = AR_NEW(a, Hq__IdSet);
	uint32_t i;

	hq__id_set__init(m);
	m->n_ranges = s->n;
	m->ranges = AR_ARRAY(a, Hq__IdRange *, s->n);
	for (i = 0; i < s->n; i++) {
		Hq__IdRange *r = AR_NEW(a, Hq__IdRange);

		hq__id_range__init(r);
		r->start = s->r[i].start;
		r->count = s->r[i].count;
		r->step = s->r[i].step;
		m->ranges[i] = r;
	}
	return m;
}

static int
dec_idset(const Hq__IdSet *m, struct hq_idset *s, struct hq_errbuf *eb)
{
	size_t i;

	memset(s, 0, sizeof *s);
	if (m == NULL)
		return 0;
	for (i = 0; i < m->n_ranges; i++) {
		const Hq__IdRange *r = m->ranges[i];
		uint32_t step = r->step ? r->step : 1;

		if (r->count == 0 ||
		    (uint64_t)r->start + (uint64_t)(r->count - 1) * step >
			UINT32_MAX) {
			hq_idset_fini(s);
			return hq_errf(eb, HQ_EPROTO, "invalid id range");
		}
		hq_idset_add_range(s, r->start, r->count, step);
	}
	return 0;
}

static Hq__Selector *
enc_selector(struct arena *a, const struct hq_selector *s)
{
	Hq__Selector *m = AR_NEW(a, Hq__Selector);

	hq__selector__init(m);
	switch (s->kind) {
	case HQ_SEL_LAST:
		m->kind = HQ__SELECTOR__KIND__LAST;
		break;
	case HQ_SEL_ALL:
		m->kind = HQ__SELECTOR__KIND__ALL;
		break;
	default:
		m->kind = HQ__SELECTOR__KIND__IDS;
		m->ids = enc_idset(a, &s->ids);
		break;
	}
	return m;
}

static int
dec_selector(const Hq__Selector *m, struct hq_selector *s, struct hq_errbuf *eb)
{
	memset(s, 0, sizeof *s);
	if (m == NULL)
		return 0;
	switch (m->kind) {
	case HQ__SELECTOR__KIND__LAST:
		s->kind = HQ_SEL_LAST;
		return 0;
	case HQ__SELECTOR__KIND__ALL:
		s->kind = HQ_SEL_ALL;
		return 0;
	case HQ__SELECTOR__KIND__IDS:
		s->kind = HQ_SEL_IDS;
		return dec_idset(m->ids, &s->ids, eb);
	default:
		return hq_errf(eb, HQ_EPROTO, "unknown selector kind %d",
		    (int)m->kind);
	}
}

/* ---- resource requests ------------------------------------------------ */

static Hq__ResVariant **
enc_request(struct arena *a, const struct hq_res_request *r)
{
	Hq__ResVariant **vs = AR_ARRAY(a, Hq__ResVariant *, r->n);
	uint32_t i, j;

	for (i = 0; i < r->n; i++) {
		const struct hq_res_variant *v = &r->v[i];
		Hq__ResVariant *m = AR_NEW(a, Hq__ResVariant);

		hq__res_variant__init(m);
		m->n_nodes = v->n_nodes;
		m->min_time_ms = v->min_time_ms;
		m->weight = v->weight;
		m->n_entries = v->n;
		m->entries = AR_ARRAY(a, Hq__ResEntry *, v->n);
		for (j = 0; j < v->n; j++) {
			Hq__ResEntry *e = AR_NEW(a, Hq__ResEntry);

			hq__res_entry__init(e);
			e->name = str_or_empty(v->e[j].name);
			e->amount = v->e[j].amount;
			e->policy = (Hq__Policy)v->e[j].policy;
			m->entries[j] = e;
		}
		vs[i] = m;
	}
	return vs;
}

static int
dec_request(Hq__ResVariant *const *vs, size_t n, struct hq_res_request *r,
    struct hq_errbuf *eb)
{
	size_t i, j;

	memset(r, 0, sizeof *r);
	if (n == 0)
		return hq_errf(eb, HQ_EPROTO,
		    "resource request has no variant");
	r->n = (uint32_t)n;
	r->v = hq_xcalloc(n, sizeof *r->v);
	for (i = 0; i < n; i++) {
		struct hq_res_variant *v = &r->v[i];

		v->n_nodes = vs[i]->n_nodes;
		v->min_time_ms = vs[i]->min_time_ms;
		v->weight = vs[i]->weight;
		v->n = (uint32_t)vs[i]->n_entries;
		v->e = hq_xcalloc(v->n, sizeof *v->e);
		for (j = 0; j < v->n; j++) {
			const Hq__ResEntry *e = vs[i]->entries[j];

			v->e[j].name = dup_pstr(e->name);
			v->e[j].amount = e->amount;
			if ((unsigned)e->policy > HQ_POLICY_ALL) {
				hq_res_request_fini(r);
				return hq_errf(eb, HQ_EPROTO,
				    "unknown resource policy %d",
				    (int)e->policy);
			}
			v->e[j].policy = (enum hq_policy)e->policy;
			if (v->e[j].name[0] == '\0') {
				hq_res_request_fini(r);
				return hq_errf(eb, HQ_EPROTO,
				    "resource request without a name");
			}
		}
	}
	return 0;
}

/* ---- task descriptions ------------------------------------------------ */

static Hq__Stdio *
enc_stdio(struct arena *a, const struct hq_stdio *s)
{
	Hq__Stdio *m = AR_NEW(a, Hq__Stdio);

	hq__stdio__init(m);
	m->kind = (Hq__Stdio__Kind)s->kind;
	m->path = bin_str(s->path);
	m->rm_if_finished = s->rm_if_finished;
	return m;
}

static int
dec_stdio(const Hq__Stdio *m, struct hq_stdio *s, struct hq_errbuf *eb)
{
	memset(s, 0, sizeof *s);
	if (m == NULL)
		return 0;
	if ((unsigned)m->kind > HQ_STDIO_STREAM)
		return hq_errf(eb, HQ_EPROTO, "unknown stdio kind");
	s->kind = (enum hq_stdio_kind)m->kind;
	s->rm_if_finished = m->rm_if_finished;
	return dec_str_opt(&m->path, &s->path, "stdio path", eb);
}

static Hq__TaskDesc *
enc_desc(struct arena *a, const struct hq_task_desc *d)
{
	Hq__TaskDesc *m = AR_NEW(a, Hq__TaskDesc);
	uint32_t i;

	hq__task_desc__init(m);
	m->n_argv = d->argc;
	m->argv = AR_ARRAY(a, ProtobufCBinaryData, d->argc);
	for (i = 0; i < d->argc; i++)
		m->argv[i] = bin_str(d->argv[i]);
	m->n_env = d->nenv;
	m->env = AR_ARRAY(a, Hq__EnvVar *, d->nenv);
	for (i = 0; i < d->nenv; i++) {
		Hq__EnvVar *e = AR_NEW(a, Hq__EnvVar);

		hq__env_var__init(e);
		e->key = bin_str(d->env[i].key);
		e->value = bin_str(d->env[i].value);
		m->env[i] = e;
	}
	m->cwd = bin_str(d->cwd);
	m->out = enc_stdio(a, &d->out);
	m->err = enc_stdio(a, &d->err);
	m->stdin_data.len = d->stdin_len;
	m->stdin_data.data = d->stdin_data;
	m->n_variants = d->req.n;
	m->variants = enc_request(a, &d->req);
	m->priority = d->priority;
	m->time_limit_ms = d->time_limit_ms;
	m->crash_limit = d->crash_limit;
	m->pin = (Hq__Pin)d->pin;
	m->task_dir = d->task_dir;
	return m;
}

static int
dec_desc(const Hq__TaskDesc *m, struct hq_task_desc *d, struct hq_errbuf *eb)
{
	size_t i;
	int rc;

	memset(d, 0, sizeof *d);
	if (m == NULL)
		return hq_errf(eb, HQ_EPROTO, "missing task description");
	d->argc = (uint32_t)m->n_argv;
	d->argv = hq_xcalloc(m->n_argv + 1, sizeof *d->argv);
	for (i = 0; i < m->n_argv; i++)
		if ((rc = dec_str(&m->argv[i], &d->argv[i], "argument", eb)))
			goto fail;
	d->nenv = (uint32_t)m->n_env;
	d->env = hq_xcalloc(m->n_env, sizeof *d->env);
	for (i = 0; i < m->n_env; i++) {
		if ((rc = dec_str(&m->env[i]->key, &d->env[i].key,
			 "environment name", eb)) ||
		    (rc = dec_str(&m->env[i]->value, &d->env[i].value,
			 "environment value", eb)))
			goto fail;
	}
	if ((rc = dec_str_opt(&m->cwd, &d->cwd, "cwd", eb)) ||
	    (rc = dec_stdio(m->out, &d->out, eb)) ||
	    (rc = dec_stdio(m->err, &d->err, eb)))
		goto fail;
	if (m->stdin_data.len > 0) {
		d->stdin_data =
		    hq_xmemdup(m->stdin_data.data, m->stdin_data.len);
		d->stdin_len = (uint32_t)m->stdin_data.len;
	}
	if ((rc = dec_request(m->variants, m->n_variants, &d->req, eb)))
		goto fail;
	d->priority = m->priority;
	d->time_limit_ms = m->time_limit_ms;
	d->crash_limit = m->crash_limit;
	if ((unsigned)m->pin > HQ_PIN_OMP) {
		rc = hq_errf(eb, HQ_EPROTO, "unknown pin mode");
		goto fail;
	}
	d->pin = (enum hq_pin)m->pin;
	d->task_dir = m->task_dir;
	return 0;
fail:
	hq_task_desc_fini(d);
	return rc;
}

static Hq__Submit *
enc_submit(struct arena *a, const struct hq_submit *s)
{
	Hq__Submit *m = AR_NEW(a, Hq__Submit);
	uint32_t i;

	hq__submit__init(m);
	m->graph = s->graph;
	m->n_descs = s->ndescs;
	m->descs = AR_ARRAY(a, Hq__TaskDesc *, s->ndescs);
	for (i = 0; i < s->ndescs; i++)
		m->descs[i] = enc_desc(a, &s->descs[i]);
	m->ids = enc_idset(a, &s->ids);
	m->n_entries = s->nentries;
	m->entries = AR_ARRAY(a, ProtobufCBinaryData, s->nentries);
	for (i = 0; i < s->nentries; i++)
		m->entries[i] = bin_str(s->entries[i]);
	m->n_tasks = s->ntasks;
	m->tasks = AR_ARRAY(a, Hq__GraphTask *, s->ntasks);
	for (i = 0; i < s->ntasks; i++) {
		Hq__GraphTask *t = AR_NEW(a, Hq__GraphTask);

		hq__graph_task__init(t);
		t->id = s->tasks[i].id;
		t->desc = s->tasks[i].desc;
		t->n_deps = s->tasks[i].ndeps;
		t->deps = s->tasks[i].deps;
		m->tasks[i] = t;
	}
	m->submit_dir = bin_str(s->submit_dir);
	m->stream_dir = bin_str(s->stream_dir);
	return m;
}

static int
dec_submit(const Hq__Submit *m, struct hq_submit *s, struct hq_errbuf *eb)
{
	size_t i;
	int rc;

	memset(s, 0, sizeof *s);
	if (m == NULL)
		return hq_errf(eb, HQ_EPROTO, "missing submit");
	s->graph = m->graph;
	s->ndescs = (uint32_t)m->n_descs;
	s->descs = hq_xcalloc(m->n_descs, sizeof *s->descs);
	for (i = 0; i < m->n_descs; i++)
		if ((rc = dec_desc(m->descs[i], &s->descs[i], eb))) {
			s->ndescs = (uint32_t)i;
			goto fail;
		}
	if ((rc = dec_idset(m->ids, &s->ids, eb)))
		goto fail;
	s->nentries = (uint32_t)m->n_entries;
	s->entries = hq_xcalloc(m->n_entries, sizeof *s->entries);
	for (i = 0; i < m->n_entries; i++)
		if ((rc = dec_str(&m->entries[i], &s->entries[i], "entry", eb)))
			goto fail;
	s->ntasks = (uint32_t)m->n_tasks;
	s->tasks = hq_xcalloc(m->n_tasks, sizeof *s->tasks);
	for (i = 0; i < m->n_tasks; i++) {
		const Hq__GraphTask *t = m->tasks[i];

		s->tasks[i].id = t->id;
		s->tasks[i].desc = t->desc;
		if (t->desc >= s->ndescs) {
			rc = hq_errf(eb, HQ_EPROTO,
			    "task %u refers to a missing description", t->id);
			goto fail;
		}
		s->tasks[i].ndeps = (uint32_t)t->n_deps;
		s->tasks[i].deps = dup_u32(t->deps, t->n_deps);
	}
	if (!s->graph && s->ndescs != 1) {
		rc = hq_errf(eb, HQ_EPROTO,
		    "array submit needs exactly one description");
		goto fail;
	}
	if ((rc = dec_str_opt(&m->submit_dir, &s->submit_dir, "submit dir",
		 eb)) ||
	    (rc = dec_str_opt(&m->stream_dir, &s->stream_dir, "stream dir",
		 eb)))
		goto fail;
	return 0;
fail:
	hq_submit_fini(s);
	return rc;
}

/* ---- worker resources and configuration -------------------------------- */

static Hq__WorkerResources *
enc_wres(struct arena *a, const struct hq_worker_res *r)
{
	Hq__WorkerResources *m = AR_NEW(a, Hq__WorkerResources);
	uint32_t i, j;

	hq__worker_resources__init(m);
	m->n_pools = r->n;
	m->pools = AR_ARRAY(a, Hq__ResPool *, r->n);
	for (i = 0; i < r->n; i++) {
		const struct hq_res_pool *p = &r->pools[i];
		Hq__ResPool *pm = AR_NEW(a, Hq__ResPool);

		hq__res_pool__init(pm);
		pm->name = str_or_empty(p->name);
		pm->kind = (Hq__ResPool__Kind)p->kind;
		pm->n_labels = p->nlabels;
		pm->labels = AR_ARRAY(a, ProtobufCBinaryData, p->nlabels);
		for (j = 0; j < p->nlabels; j++)
			pm->labels[j] = bin_str(p->labels[j]);
		if (p->group_start != NULL) {
			pm->n_group_start = p->ngroups + 1;
			pm->group_start = p->group_start;
		}
		pm->size = p->size;
		m->pools[i] = pm;
	}
	m->n_coupling = r->ncoupling;
	m->coupling = AR_ARRAY(a, Hq__CouplingWeight *, r->ncoupling);
	for (i = 0; i < r->ncoupling; i++) {
		Hq__CouplingWeight *w = AR_NEW(a, Hq__CouplingWeight);

		hq__coupling_weight__init(w);
		w->resource1 = r->coupling[i].resource1;
		w->group1 = r->coupling[i].group1;
		w->resource2 = r->coupling[i].resource2;
		w->group2 = r->coupling[i].group2;
		w->weight = r->coupling[i].weight;
		m->coupling[i] = w;
	}
	return m;
}

static int
dec_wres(const Hq__WorkerResources *m, struct hq_worker_res *r,
    struct hq_errbuf *eb)
{
	size_t i, j;
	int rc;

	memset(r, 0, sizeof *r);
	if (m == NULL)
		return 0;
	r->n = (uint32_t)m->n_pools;
	r->pools = hq_xcalloc(m->n_pools, sizeof *r->pools);
	for (i = 0; i < m->n_pools; i++) {
		const Hq__ResPool *pm = m->pools[i];
		struct hq_res_pool *p = &r->pools[i];

		p->name = dup_pstr(pm->name);
		if ((unsigned)pm->kind > HQ_POOL_SUM || p->name[0] == '\0') {
			rc = hq_errf(eb, HQ_EPROTO, "invalid resource pool");
			goto fail;
		}
		p->kind = (enum hq_pool_kind)pm->kind;
		p->nlabels = (uint32_t)pm->n_labels;
		p->labels = hq_xcalloc(pm->n_labels, sizeof *p->labels);
		for (j = 0; j < pm->n_labels; j++)
			if ((rc = dec_str(&pm->labels[j], &p->labels[j],
				 "resource label", eb)))
				goto fail;
		if (pm->n_group_start > 0) {
			p->ngroups = (uint32_t)pm->n_group_start - 1;
			p->group_start =
			    dup_u32(pm->group_start, pm->n_group_start);
			for (j = 0; j < pm->n_group_start; j++)
				if (p->group_start[j] > p->nlabels ||
				    (j > 0 &&
					p->group_start[j] <
					    p->group_start[j - 1])) {
					rc = hq_errf(eb, HQ_EPROTO,
					    "invalid resource groups");
					goto fail;
				}
		}
		p->size = pm->size;
	}
	r->ncoupling = (uint32_t)m->n_coupling;
	r->coupling = hq_xcalloc(m->n_coupling, sizeof *r->coupling);
	for (i = 0; i < m->n_coupling; i++) {
		r->coupling[i].resource1 = m->coupling[i]->resource1;
		r->coupling[i].group1 = m->coupling[i]->group1;
		r->coupling[i].resource2 = m->coupling[i]->resource2;
		r->coupling[i].group2 = m->coupling[i]->group2;
		r->coupling[i].weight = m->coupling[i]->weight;
	}
	return 0;
fail:
	hq_worker_res_fini(r);
	return rc;
}

static Hq__WorkerConfig *
enc_wconfig(struct arena *a, const struct hq_worker_config *c)
{
	Hq__WorkerConfig *m = AR_NEW(a, Hq__WorkerConfig);

	hq__worker_config__init(m);
	m->hostname = str_or_empty(c->hostname);
	m->group = str_or_empty(c->group);
	m->resources = enc_wres(a, &c->res);
	m->heartbeat_ms = c->heartbeat_ms;
	m->idle_timeout_ms = c->idle_timeout_ms;
	m->time_limit_ms = c->time_limit_ms;
	m->started_ms = c->started_ms;
	m->work_dir = str_or_empty(c->work_dir);
	m->on_server_lost = str_or_empty(c->on_server_lost);
	m->min_utilization = c->min_utilization;
	m->manager = str_or_empty(c->manager);
	m->allocation_id = str_or_empty(c->allocation_id);
	m->pid = c->pid;
	m->listen_address = str_or_empty(c->listen_address);
	m->config_json = str_or_empty(c->config_json);
	return m;
}

static int
dec_wconfig(const Hq__WorkerConfig *m, struct hq_worker_config *c,
    struct hq_errbuf *eb)
{
	int rc;

	memset(c, 0, sizeof *c);
	if (m == NULL)
		return hq_errf(eb, HQ_EPROTO, "missing worker configuration");
	if ((rc = dec_wres(m->resources, &c->res, eb)))
		return rc;
	c->hostname = dup_pstr(m->hostname);
	c->group = dup_pstr(m->group);
	c->heartbeat_ms = m->heartbeat_ms;
	c->idle_timeout_ms = m->idle_timeout_ms;
	c->time_limit_ms = m->time_limit_ms;
	c->started_ms = m->started_ms;
	c->work_dir = dup_pstr(m->work_dir);
	c->on_server_lost = dup_pstr(m->on_server_lost);
	c->min_utilization = m->min_utilization;
	c->manager = dup_pstr(m->manager);
	c->allocation_id = dup_pstr(m->allocation_id);
	c->pid = m->pid;
	c->listen_address = dup_pstr(m->listen_address);
	c->config_json = dup_pstr(m->config_json);
	return 0;
}

/* ---- task refs ---------------------------------------------------------- */

void
hq_taskrefs_push(struct hq_taskrefs *r, uint32_t job, uint32_t task,
    uint32_t instance)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->job = hq_xreallocarray(r->job, r->cap, sizeof *r->job);
		r->task = hq_xreallocarray(r->task, r->cap, sizeof *r->task);
		r->instance =
		    hq_xreallocarray(r->instance, r->cap, sizeof *r->instance);
	}
	r->job[r->n] = job;
	r->task[r->n] = task;
	r->instance[r->n] = instance;
	r->n++;
}

void
hq_taskrefs_clear(struct hq_taskrefs *r)
{
	r->n = 0;
}

void
hq_taskrefs_fini(struct hq_taskrefs *r)
{
	free(r->job);
	free(r->task);
	free(r->instance);
	memset(r, 0, sizeof *r);
}

static Hq__TaskRefs *
enc_refs(struct arena *a, const struct hq_taskrefs *r)
{
	Hq__TaskRefs *m = AR_NEW(a, Hq__TaskRefs);

	hq__task_refs__init(m);
	m->n_job = m->n_task = m->n_instance = r->n;
	m->job = r->job;
	m->task = r->task;
	m->instance = r->instance;
	return m;
}

static int
dec_refs(const Hq__TaskRefs *m, struct hq_taskrefs *r, struct hq_errbuf *eb)
{
	memset(r, 0, sizeof *r);
	if (m == NULL)
		return 0;
	if (m->n_job != m->n_task || m->n_job != m->n_instance)
		return hq_errf(eb, HQ_EPROTO,
		    "task references of unequal length");
	r->n = r->cap = (uint32_t)m->n_job;
	r->job = dup_u32(m->job, m->n_job);
	r->task = dup_u32(m->task, m->n_task);
	r->instance = dup_u32(m->instance, m->n_instance);
	return 0;
}

static Hq__HeldTask **
enc_held(struct arena *a, const struct hq_held_task *h, uint32_t n)
{
	Hq__HeldTask **v = AR_ARRAY(a, Hq__HeldTask *, n);
	uint32_t i;

	for (i = 0; i < n; i++) {
		Hq__HeldTask *m = AR_NEW(a, Hq__HeldTask);

		hq__held_task__init(m);
		m->job = h[i].job;
		m->task = h[i].task;
		m->instance = h[i].instance;
		m->status = (Hq__HeldTask__Status)h[i].status;
		m->error = str_or_empty(h[i].error);
		m->started_ms = h[i].started_ms;
		v[i] = m;
	}
	return v;
}

static int
dec_held(Hq__HeldTask *const *v, size_t n, struct hq_held_task **out,
    uint32_t *nout, struct hq_errbuf *eb)
{
	struct hq_held_task *h = hq_xcalloc(n, sizeof *h);
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned)v[i]->status > HQ_HELD_QUEUED) {
			size_t k;

			for (k = 0; k < i; k++)
				free(h[k].error);
			free(h);
			return hq_errf(eb, HQ_EPROTO, "unknown task status");
		}
		h[i].job = v[i]->job;
		h[i].task = v[i]->task;
		h[i].instance = v[i]->instance;
		h[i].status = (enum hq_held_status)v[i]->status;
		h[i].error = dup_pstr_opt(v[i]->error);
		h[i].started_ms = v[i]->started_ms;
	}
	*out = h;
	*nout = (uint32_t)n;
	return 0;
}

static void
held_free(struct hq_held_task *h, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		free(h[i].error);
	free(h);
}

/* ---- allocation queue parameters ----------------------------------------- */

static Hq__AllocParams *
enc_aparams(struct arena *a, const struct hq_alloc_params *p)
{
	Hq__AllocParams *m = AR_NEW(a, Hq__AllocParams);
	uint32_t i;

	hq__alloc_params__init(m);
	m->manager = (Hq__AllocParams__Manager)p->manager;
	m->backlog = p->backlog;
	m->max_workers_per_alloc = p->max_workers_per_alloc;
	m->max_worker_count = p->max_worker_count;
	m->time_limit_ms = p->time_limit_ms;
	m->worker_time_limit_ms = p->worker_time_limit_ms;
	m->idle_timeout_ms = p->idle_timeout_ms;
	m->name = str_or_empty(p->name);
	m->n_worker_args = p->nworker_args;
	m->worker_args = AR_ARRAY(a, char *, p->nworker_args);
	for (i = 0; i < p->nworker_args; i++)
		m->worker_args[i] = str_or_empty(p->worker_args[i]);
	m->n_additional_args = p->nadditional_args;
	m->additional_args = AR_ARRAY(a, char *, p->nadditional_args);
	for (i = 0; i < p->nadditional_args; i++)
		m->additional_args[i] = str_or_empty(p->additional_args[i]);
	m->start_cmd = str_or_empty(p->start_cmd);
	m->stop_cmd = str_or_empty(p->stop_cmd);
	m->wrap_cmd = str_or_empty(p->wrap_cmd);
	m->cpus = str_or_empty(p->cpus);
	m->n_resources = p->nresources;
	m->resources = AR_ARRAY(a, char *, p->nresources);
	for (i = 0; i < p->nresources; i++)
		m->resources[i] = str_or_empty(p->resources[i]);
	m->min_utilization = p->min_utilization;
	return m;
}

static char **
dec_strv(char *const *v, size_t n)
{
	char **out;
	size_t i;

	if (n == 0)
		return NULL;
	out = hq_xcalloc(n, sizeof *out);
	for (i = 0; i < n; i++)
		out[i] = dup_pstr(v[i]);
	return out;
}

static int
dec_aparams(const Hq__AllocParams *m, struct hq_alloc_params *p,
    struct hq_errbuf *eb)
{
	memset(p, 0, sizeof *p);
	if (m == NULL)
		return hq_errf(eb, HQ_EPROTO, "missing allocation parameters");
	if ((unsigned)m->manager > HQ_MANAGER_SLURM)
		return hq_errf(eb, HQ_EPROTO, "unknown batch manager %d",
		    (int)m->manager);
	p->manager = (enum hq_manager)m->manager;
	p->backlog = m->backlog;
	p->max_workers_per_alloc = m->max_workers_per_alloc;
	p->max_worker_count = m->max_worker_count;
	p->time_limit_ms = m->time_limit_ms;
	p->worker_time_limit_ms = m->worker_time_limit_ms;
	p->idle_timeout_ms = m->idle_timeout_ms;
	p->name = dup_pstr_opt(m->name);
	p->nworker_args = (uint32_t)m->n_worker_args;
	p->worker_args = dec_strv(m->worker_args, m->n_worker_args);
	p->nadditional_args = (uint32_t)m->n_additional_args;
	p->additional_args = dec_strv(m->additional_args, m->n_additional_args);
	p->start_cmd = dup_pstr_opt(m->start_cmd);
	p->stop_cmd = dup_pstr_opt(m->stop_cmd);
	p->wrap_cmd = dup_pstr_opt(m->wrap_cmd);
	p->cpus = dup_pstr_opt(m->cpus);
	p->nresources = (uint32_t)m->n_resources;
	p->resources = dec_strv(m->resources, m->n_resources);
	p->min_utilization = m->min_utilization;
	return 0;
}

/* ---- client -> server -------------------------------------------------- */

static void
strv_free_n(char **v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
hq_cmsg_fini(struct hq_cmsg *m)
{
	free(m->version);
	free(m->name);
	hq_submit_fini(&m->submit);
	hq_idset_fini(&m->sel.ids);
	hq_idset_fini(&m->tasks);
	strv_free_n(m->states, m->nstates);
	free(m->reason);
	hq_alloc_params_fini(&m->aparams);
	memset(m, 0, sizeof *m);
}

int
hq_wire_encode_cmsg(const struct hq_cmsg *m, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__ClientMessage msg = HQ__CLIENT_MESSAGE__INIT;
	int rc = 0;

	switch (m->kind) {
	case HQ_CMSG_HELLO: {
		Hq__ClientHello *h = AR_NEW(&a, Hq__ClientHello);

		hq__client_hello__init(h);
		h->protocol_version = m->protocol_version;
		h->version = str_or_empty(m->version);
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_HELLO;
		msg.hello = h;
		break;
	}
	case HQ_CMSG_SUBMIT: {
		Hq__SubmitRequest *s = AR_NEW(&a, Hq__SubmitRequest);

		hq__submit_request__init(s);
		s->job_id = m->job_id;
		s->name = str_or_empty(m->name);
		s->has_max_fails = m->has_max_fails;
		s->max_fails = m->max_fails;
		s->submit = enc_submit(&a, &m->submit);
		s->notify = m->notify;
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_SUBMIT;
		msg.submit = s;
		break;
	}
	case HQ_CMSG_JOB_OPEN: {
		Hq__JobOpenRequest *o = AR_NEW(&a, Hq__JobOpenRequest);

		hq__job_open_request__init(o);
		o->name = str_or_empty(m->name);
		o->has_max_fails = m->has_max_fails;
		o->max_fails = m->max_fails;
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_JOB_OPEN;
		msg.job_open = o;
		break;
	}
	case HQ_CMSG_QUERY: {
		Hq__QueryRequest *q = AR_NEW(&a, Hq__QueryRequest);

		hq__query_request__init(q);
		q->kind = (Hq__QueryRequest__Kind)m->sub;
		q->selector = enc_selector(&a, &m->sel);
		q->tasks = enc_idset(&a, &m->tasks);
		q->has_tasks = m->has_tasks;
		q->n_states = m->nstates;
		q->states = m->states;
		q->all = m->all;
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_QUERY;
		msg.query = q;
		break;
	}
	case HQ_CMSG_COMMAND: {
		Hq__CommandRequest *c = AR_NEW(&a, Hq__CommandRequest);

		hq__command_request__init(c);
		c->kind = (Hq__CommandRequest__Kind)m->sub;
		c->selector = enc_selector(&a, &m->sel);
		c->reason = str_or_empty(m->reason);
		c->n_states = m->nstates;
		c->states = m->states;
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_COMMAND;
		msg.command = c;
		break;
	}
	case HQ_CMSG_WAIT: {
		Hq__WaitRequest *w = AR_NEW(&a, Hq__WaitRequest);

		hq__wait_request__init(w);
		w->selector = enc_selector(&a, &m->sel);
		w->without_close = m->without_close;
		w->progress = m->progress;
		w->notify = m->notify;
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_WAIT;
		msg.wait = w;
		break;
	}
	case HQ_CMSG_STREAM: {
		Hq__StreamRequest *st = AR_NEW(&a, Hq__StreamRequest);

		hq__stream_request__init(st);
		st->live = m->live;
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_STREAM;
		msg.stream = st;
		break;
	}
	case HQ_CMSG_ALLOC: {
		Hq__AllocRequest *r = AR_NEW(&a, Hq__AllocRequest);

		hq__alloc_request__init(r);
		r->kind = (Hq__AllocRequest__Kind)m->sub;
		r->queue_id = m->queue_id;
		r->force = m->force;
		r->no_dry_run = m->no_dry_run;
		r->params = enc_aparams(&a, &m->aparams);
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_ALLOC;
		msg.alloc = r;
		break;
	}
	case HQ_CMSG_DEBUG_DUMP: {
		Hq__DebugDumpRequest *dd = AR_NEW(&a, Hq__DebugDumpRequest);

		hq__debug_dump_request__init(dd);
		msg.msg_case = HQ__CLIENT_MESSAGE__MSG_DEBUG_DUMP;
		msg.debug_dump = dd;
		break;
	}
	default:
		rc = HQ_EINVAL;
	}
	if (rc == 0)
		pack_into(&msg.base, out);
	ar_free(&a);
	return rc;
}

static int
dec_states(char *const *v, size_t n, struct hq_cmsg *m)
{
	size_t i;

	m->nstates = (uint32_t)n;
	m->states = hq_xcalloc(n, sizeof *m->states);
	for (i = 0; i < n; i++)
		m->states[i] = dup_pstr(v[i]);
	return 0;
}

int
hq_wire_decode_cmsg(const uint8_t *p, size_t len, struct hq_cmsg *m,
    struct hq_errbuf *eb)
{
	Hq__ClientMessage *msg = hq__client_message__unpack(NULL, len, p);
	int rc = 0;

	memset(m, 0, sizeof *m);
	if (msg == NULL)
		return hq_errf(eb, HQ_EPROTO, "undecodable client message");
	switch (msg->msg_case) {
	case HQ__CLIENT_MESSAGE__MSG_HELLO:
		m->kind = HQ_CMSG_HELLO;
		m->protocol_version = msg->hello->protocol_version;
		m->version = dup_pstr(msg->hello->version);
		break;
	case HQ__CLIENT_MESSAGE__MSG_SUBMIT:
		m->kind = HQ_CMSG_SUBMIT;
		m->job_id = msg->submit->job_id;
		m->name = dup_pstr(msg->submit->name);
		m->has_max_fails = msg->submit->has_max_fails;
		m->max_fails = msg->submit->max_fails;
		m->notify = msg->submit->notify;
		rc = dec_submit(msg->submit->submit, &m->submit, eb);
		break;
	case HQ__CLIENT_MESSAGE__MSG_JOB_OPEN:
		m->kind = HQ_CMSG_JOB_OPEN;
		m->name = dup_pstr(msg->job_open->name);
		m->has_max_fails = msg->job_open->has_max_fails;
		m->max_fails = msg->job_open->max_fails;
		break;
	case HQ__CLIENT_MESSAGE__MSG_QUERY:
		m->kind = HQ_CMSG_QUERY;
		m->sub = (int)msg->query->kind;
		if (m->sub < 0 || m->sub >= HQ_Q__COUNT) {
			rc = hq_errf(eb, HQ_EPROTO, "unknown query %d", m->sub);
			break;
		}
		m->has_tasks = msg->query->has_tasks;
		m->all = msg->query->all;
		dec_states(msg->query->states, msg->query->n_states, m);
		if ((rc = dec_selector(msg->query->selector, &m->sel, eb)))
			break;
		rc = dec_idset(msg->query->tasks, &m->tasks, eb);
		break;
	case HQ__CLIENT_MESSAGE__MSG_COMMAND:
		m->kind = HQ_CMSG_COMMAND;
		m->sub = (int)msg->command->kind;
		if (m->sub < 0 || m->sub >= HQ_C__COUNT) {
			rc = hq_errf(eb, HQ_EPROTO, "unknown command %d",
			    m->sub);
			break;
		}
		m->reason = dup_pstr_opt(msg->command->reason);
		dec_states(msg->command->states, msg->command->n_states, m);
		rc = dec_selector(msg->command->selector, &m->sel, eb);
		break;
	case HQ__CLIENT_MESSAGE__MSG_WAIT:
		m->kind = HQ_CMSG_WAIT;
		m->without_close = msg->wait->without_close;
		m->progress = msg->wait->progress;
		m->notify = msg->wait->notify;
		rc = dec_selector(msg->wait->selector, &m->sel, eb);
		break;
	case HQ__CLIENT_MESSAGE__MSG_STREAM:
		m->kind = HQ_CMSG_STREAM;
		m->live = msg->stream->live;
		break;
	case HQ__CLIENT_MESSAGE__MSG_ALLOC:
		m->kind = HQ_CMSG_ALLOC;
		m->sub = (int)msg->alloc->kind;
		if (m->sub < 0 || m->sub >= HQ_AREQ__COUNT) {
			rc = hq_errf(eb, HQ_EPROTO, "unknown alloc request %d",
			    m->sub);
			break;
		}
		m->queue_id = msg->alloc->queue_id;
		m->force = msg->alloc->force;
		m->no_dry_run = msg->alloc->no_dry_run;
		rc = dec_aparams(msg->alloc->params, &m->aparams, eb);
		break;
	case HQ__CLIENT_MESSAGE__MSG_DEBUG_DUMP:
		m->kind = HQ_CMSG_DEBUG_DUMP;
		break;
	default:
		rc = hq_errf(eb, HQ_EPROTO, "empty client message");
	}
	hq__client_message__free_unpacked(msg, NULL);
	if (rc != 0)
		hq_cmsg_fini(m);
	return rc;
}

/* ---- server -> client -------------------------------------------------- */

void
hq_smsg_fini(struct hq_smsg *m)
{
	uint32_t i;

	free(m->version);
	free(m->server_uid);
	free(m->message);
	free(m->json);
	for (i = 0; i < m->nlines; i++)
		free(m->lines[i].text);
	free(m->lines);
	free(m->n_msg);
	memset(m, 0, sizeof *m);
}

void
hq_smsg_add_line(struct hq_smsg *m, enum hq_logline_level level,
    const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		hq_fatalx("out of memory");
	va_end(ap);
	m->lines = hq_xreallocarray(m->lines, m->nlines + 1, sizeof *m->lines);
	m->lines[m->nlines].level = level;
	m->lines[m->nlines].text = text;
	m->nlines++;
}

int
hq_wire_encode_smsg(const struct hq_smsg *m, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__ServerToClient msg = HQ__SERVER_TO_CLIENT__INIT;
	uint32_t i;
	int rc = 0;

	switch (m->kind) {
	case HQ_SMSG_HELLO: {
		Hq__ServerHello *h = AR_NEW(&a, Hq__ServerHello);

		hq__server_hello__init(h);
		h->protocol_version = m->protocol_version;
		h->version = str_or_empty(m->version);
		h->server_uid = str_or_empty(m->server_uid);
		msg.msg_case = HQ__SERVER_TO_CLIENT__MSG_HELLO;
		msg.hello = h;
		break;
	}
	case HQ_SMSG_ERROR: {
		Hq__ErrorReply *e = AR_NEW(&a, Hq__ErrorReply);

		hq__error_reply__init(e);
		e->message = str_or_empty(m->message);
		msg.msg_case = HQ__SERVER_TO_CLIENT__MSG_ERROR;
		msg.error = e;
		break;
	}
	case HQ_SMSG_SUBMIT: {
		Hq__SubmitReply *s = AR_NEW(&a, Hq__SubmitReply);

		hq__submit_reply__init(s);
		s->job_id = m->job_id;
		msg.msg_case = HQ__SERVER_TO_CLIENT__MSG_SUBMIT;
		msg.submit = s;
		break;
	}
	case HQ_SMSG_JSON: {
		Hq__JsonReply *j = AR_NEW(&a, Hq__JsonReply);

		hq__json_reply__init(j);
		j->json = str_or_empty(m->json);
		msg.msg_case = HQ__SERVER_TO_CLIENT__MSG_JSON;
		msg.json = j;
		break;
	}
	case HQ_SMSG_COMMAND: {
		Hq__CommandReply *c = AR_NEW(&a, Hq__CommandReply);

		hq__command_reply__init(c);
		c->n_lines = m->nlines;
		c->lines = AR_ARRAY(&a, Hq__LogLine *, m->nlines);
		for (i = 0; i < m->nlines; i++) {
			Hq__LogLine *l = AR_NEW(&a, Hq__LogLine);

			hq__log_line__init(l);
			l->level = (Hq__LogLine__Level)m->lines[i].level;
			l->text = str_or_empty(m->lines[i].text);
			c->lines[i] = l;
		}
		msg.msg_case = HQ__SERVER_TO_CLIENT__MSG_COMMAND;
		msg.command = c;
		break;
	}
	case HQ_SMSG_PROGRESS: {
		Hq__WaitProgress *w = AR_NEW(&a, Hq__WaitProgress);

		hq__wait_progress__init(w);
		w->jobs_total = m->progress.jobs_total;
		w->jobs_done = m->progress.jobs_done;
		w->tasks_total = m->progress.tasks_total;
		w->waiting = m->progress.waiting;
		w->running = m->progress.running;
		w->finished = m->progress.finished;
		w->failed = m->progress.failed;
		w->canceled = m->progress.canceled;
		w->aborted = m->progress.aborted;
		w->done = m->progress.done;
		msg.msg_case = HQ__SERVER_TO_CLIENT__MSG_PROGRESS;
		msg.progress = w;
		break;
	}
	case HQ_SMSG_NOTIFICATION: {
		Hq__TaskNotification *n = AR_NEW(&a, Hq__TaskNotification);

		hq__task_notification__init(n);
		n->job_id = m->n_job;
		n->task_id = m->n_task;
		n->worker_id = m->n_worker;
		n->message.data = m->n_msg;
		n->message.len = m->n_msg_len;
		msg.msg_case = HQ__SERVER_TO_CLIENT__MSG_NOTIFICATION;
		msg.notification = n;
		break;
	}
	default:
		rc = HQ_EINVAL;
	}
	if (rc == 0)
		pack_into(&msg.base, out);
	ar_free(&a);
	return rc;
}

int
hq_wire_decode_smsg(const uint8_t *p, size_t len, struct hq_smsg *m,
    struct hq_errbuf *eb)
{
	Hq__ServerToClient *msg = hq__server_to_client__unpack(NULL, len, p);
	size_t i;
	int rc = 0;

	memset(m, 0, sizeof *m);
	if (msg == NULL)
		return hq_errf(eb, HQ_EPROTO, "undecodable server message");
	switch (msg->msg_case) {
	case HQ__SERVER_TO_CLIENT__MSG_HELLO:
		m->kind = HQ_SMSG_HELLO;
		m->protocol_version = msg->hello->protocol_version;
		m->version = dup_pstr(msg->hello->version);
		m->server_uid = dup_pstr(msg->hello->server_uid);
		break;
	case HQ__SERVER_TO_CLIENT__MSG_ERROR:
		m->kind = HQ_SMSG_ERROR;
		m->message = dup_pstr(msg->error->message);
		break;
	case HQ__SERVER_TO_CLIENT__MSG_SUBMIT:
		m->kind = HQ_SMSG_SUBMIT;
		m->job_id = msg->submit->job_id;
		break;
	case HQ__SERVER_TO_CLIENT__MSG_JSON:
		m->kind = HQ_SMSG_JSON;
		m->json = dup_pstr(msg->json->json);
		break;
	case HQ__SERVER_TO_CLIENT__MSG_COMMAND:
		m->kind = HQ_SMSG_COMMAND;
		m->nlines = (uint32_t)msg->command->n_lines;
		m->lines = hq_xcalloc(m->nlines, sizeof *m->lines);
		for (i = 0; i < m->nlines; i++) {
			unsigned lv = (unsigned)msg->command->lines[i]->level;

			m->lines[i].level = lv > HQ_LINE_ERROR
			    ? HQ_LINE_ERROR
			    : (enum hq_logline_level)lv;
			m->lines[i].text =
			    dup_pstr(msg->command->lines[i]->text);
		}
		break;
	case HQ__SERVER_TO_CLIENT__MSG_PROGRESS:
		m->kind = HQ_SMSG_PROGRESS;
		m->progress.jobs_total = msg->progress->jobs_total;
		m->progress.jobs_done = msg->progress->jobs_done;
		m->progress.tasks_total = msg->progress->tasks_total;
		m->progress.waiting = msg->progress->waiting;
		m->progress.running = msg->progress->running;
		m->progress.finished = msg->progress->finished;
		m->progress.failed = msg->progress->failed;
		m->progress.canceled = msg->progress->canceled;
		m->progress.aborted = msg->progress->aborted;
		m->progress.done = msg->progress->done;
		break;
	case HQ__SERVER_TO_CLIENT__MSG_NOTIFICATION:
		m->kind = HQ_SMSG_NOTIFICATION;
		m->n_job = msg->notification->job_id;
		m->n_task = msg->notification->task_id;
		m->n_worker = msg->notification->worker_id;
		m->n_msg_len = msg->notification->message.len;
		m->n_msg =
		    hq_xmemdup(msg->notification->message.data, m->n_msg_len);
		break;
	default:
		rc = hq_errf(eb, HQ_EPROTO, "empty server message");
	}
	hq__server_to_client__free_unpacked(msg, NULL);
	if (rc != 0)
		hq_smsg_fini(m);
	return rc;
}

/* ---- worker -> server -------------------------------------------------- */

void
hq_wmsg_fini(struct hq_wmsg *m)
{
	free(m->version);
	free(m->server_uid);
	hq_worker_config_fini(&m->cfg);
	held_free(m->held, m->nheld);
	hq_taskrefs_fini(&m->refs);
	free(m->variant);
	free(m->error);
	free(m->message);
	memset(m, 0, sizeof *m);
}

int
hq_wire_encode_wmsg(const struct hq_wmsg *m, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__WorkerMessage msg = HQ__WORKER_MESSAGE__INIT;
	int rc = 0;

	switch (m->kind) {
	case HQ_WMSG_HELLO: {
		Hq__WorkerHello *h = AR_NEW(&a, Hq__WorkerHello);

		hq__worker_hello__init(h);
		h->protocol_version = m->protocol_version;
		h->version = str_or_empty(m->version);
		h->worker_id = m->worker_id;
		h->server_uid = str_or_empty(m->server_uid);
		h->config = enc_wconfig(&a, &m->cfg);
		h->n_held = m->nheld;
		h->held = enc_held(&a, m->held, m->nheld);
		msg.msg_case = HQ__WORKER_MESSAGE__MSG_HELLO;
		msg.hello = h;
		break;
	}
	case HQ_WMSG_HEARTBEAT: {
		Hq__Heartbeat *h = AR_NEW(&a, Hq__Heartbeat);

		hq__heartbeat__init(h);
		msg.msg_case = HQ__WORKER_MESSAGE__MSG_HEARTBEAT;
		msg.heartbeat = h;
		break;
	}
	case HQ_WMSG_STARTED: {
		Hq__TasksStarted *s = AR_NEW(&a, Hq__TasksStarted);

		hq__tasks_started__init(s);
		s->refs = enc_refs(&a, &m->refs);
		s->n_variant = m->nvariant;
		s->variant = m->variant;
		msg.msg_case = HQ__WORKER_MESSAGE__MSG_STARTED;
		msg.started = s;
		break;
	}
	case HQ_WMSG_FINISHED: {
		Hq__TasksFinished *f = AR_NEW(&a, Hq__TasksFinished);

		hq__tasks_finished__init(f);
		f->refs = enc_refs(&a, &m->refs);
		f->report_seq = m->report_seq;
		msg.msg_case = HQ__WORKER_MESSAGE__MSG_FINISHED;
		msg.finished = f;
		break;
	}
	case HQ_WMSG_FAILED: {
		Hq__TaskFailed *f = AR_NEW(&a, Hq__TaskFailed);

		hq__task_failed__init(f);
		f->job = m->job;
		f->task = m->task;
		f->instance = m->instance;
		f->error = str_or_empty(m->error);
		f->report_seq = m->report_seq;
		msg.msg_case = HQ__WORKER_MESSAGE__MSG_FAILED;
		msg.failed = f;
		break;
	}
	case HQ_WMSG_STOPPING: {
		Hq__WorkerStopping *s = AR_NEW(&a, Hq__WorkerStopping);

		hq__worker_stopping__init(s);
		s->reason = m->reason;
		msg.msg_case = HQ__WORKER_MESSAGE__MSG_STOPPING;
		msg.stopping = s;
		break;
	}
	case HQ_WMSG_NOTIFY: {
		Hq__NotifyRequest *n = AR_NEW(&a, Hq__NotifyRequest);

		hq__notify_request__init(n);
		n->job = m->job;
		n->task = m->task;
		n->message.data = m->message;
		n->message.len = m->message_len;
		msg.msg_case = HQ__WORKER_MESSAGE__MSG_NOTIFY;
		msg.notify = n;
		break;
	}
	default:
		rc = HQ_EINVAL;
	}
	if (rc == 0)
		pack_into(&msg.base, out);
	ar_free(&a);
	return rc;
}

int
hq_wire_decode_wmsg(const uint8_t *p, size_t len, struct hq_wmsg *m,
    struct hq_errbuf *eb)
{
	Hq__WorkerMessage *msg = hq__worker_message__unpack(NULL, len, p);
	int rc = 0;

	memset(m, 0, sizeof *m);
	if (msg == NULL)
		return hq_errf(eb, HQ_EPROTO, "undecodable worker message");
	switch (msg->msg_case) {
	case HQ__WORKER_MESSAGE__MSG_HELLO:
		m->kind = HQ_WMSG_HELLO;
		m->protocol_version = msg->hello->protocol_version;
		m->version = dup_pstr(msg->hello->version);
		m->worker_id = msg->hello->worker_id;
		m->server_uid = dup_pstr(msg->hello->server_uid);
		if ((rc = dec_wconfig(msg->hello->config, &m->cfg, eb)))
			break;
		rc = dec_held(msg->hello->held, msg->hello->n_held, &m->held,
		    &m->nheld, eb);
		break;
	case HQ__WORKER_MESSAGE__MSG_HEARTBEAT:
		m->kind = HQ_WMSG_HEARTBEAT;
		break;
	case HQ__WORKER_MESSAGE__MSG_STARTED:
		m->kind = HQ_WMSG_STARTED;
		if ((rc = dec_refs(msg->started->refs, &m->refs, eb)))
			break;
		if (msg->started->n_variant != 0 &&
		    msg->started->n_variant != m->refs.n) {
			rc = hq_errf(eb, HQ_EPROTO, "variant list length");
			break;
		}
		m->nvariant = (uint32_t)msg->started->n_variant;
		m->variant =
		    dup_u32(msg->started->variant, msg->started->n_variant);
		break;
	case HQ__WORKER_MESSAGE__MSG_FINISHED:
		m->kind = HQ_WMSG_FINISHED;
		m->report_seq = msg->finished->report_seq;
		rc = dec_refs(msg->finished->refs, &m->refs, eb);
		break;
	case HQ__WORKER_MESSAGE__MSG_FAILED:
		m->kind = HQ_WMSG_FAILED;
		m->job = msg->failed->job;
		m->task = msg->failed->task;
		m->instance = msg->failed->instance;
		m->error = dup_pstr(msg->failed->error);
		m->report_seq = msg->failed->report_seq;
		break;
	case HQ__WORKER_MESSAGE__MSG_STOPPING:
		m->kind = HQ_WMSG_STOPPING;
		m->reason = msg->stopping->reason;
		break;
	case HQ__WORKER_MESSAGE__MSG_NOTIFY:
		m->kind = HQ_WMSG_NOTIFY;
		m->job = msg->notify->job;
		m->task = msg->notify->task;
		m->message_len = msg->notify->message.len;
		m->message =
		    hq_xmemdup(msg->notify->message.data, m->message_len);
		break;
	default:
		rc = hq_errf(eb, HQ_EPROTO, "empty worker message");
	}
	hq__worker_message__free_unpacked(msg, NULL);
	if (rc != 0)
		hq_wmsg_fini(m);
	return rc;
}

/* ---- server -> worker -------------------------------------------------- */

void
hq_vmsg_fini(struct hq_vmsg *m)
{
	uint32_t i;

	free(m->version);
	free(m->server_uid);
	held_free(m->held, m->nheld);
	hq_task_desc_fini(&m->task);
	free(m->submit_dir);
	free(m->stream_dir);
	if (m->entries != NULL) {
		for (i = 0; i < m->refs.n; i++)
			free(m->entries[i]);
		free(m->entries);
	}
	hq_taskrefs_fini(&m->refs);
	free(m->descs);
	free(m->variants);
	for (i = 0; i < m->nhosts; i++)
		free(m->hosts[i]);
	free(m->hosts);
	free(m->message);
	memset(m, 0, sizeof *m);
}

int
hq_wire_encode_vmsg(const struct hq_vmsg *m, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__ServerToWorker msg = HQ__SERVER_TO_WORKER__INIT;
	uint32_t i;
	int rc = 0;

	switch (m->kind) {
	case HQ_VMSG_WELCOME: {
		Hq__WorkerWelcome *w = AR_NEW(&a, Hq__WorkerWelcome);

		hq__worker_welcome__init(w);
		w->protocol_version = m->protocol_version;
		w->version = str_or_empty(m->version);
		w->worker_id = m->worker_id;
		w->server_uid = str_or_empty(m->server_uid);
		w->n_cancel = m->nheld;
		w->cancel = enc_held(&a, m->held, m->nheld);
		msg.msg_case = HQ__SERVER_TO_WORKER__MSG_WELCOME;
		msg.welcome = w;
		break;
	}
	case HQ_VMSG_SPEC: {
		Hq__JobSpec *s = AR_NEW(&a, Hq__JobSpec);

		hq__job_spec__init(s);
		s->job = m->job;
		s->desc = m->desc;
		s->task = enc_desc(&a, &m->task);
		s->submit_dir = bin_str(m->submit_dir);
		s->stream_dir = bin_str(m->stream_dir);
		s->server_uid = str_or_empty(m->server_uid);
		msg.msg_case = HQ__SERVER_TO_WORKER__MSG_SPEC;
		msg.spec = s;
		break;
	}
	case HQ_VMSG_ASSIGN: {
		Hq__Assign *as = AR_NEW(&a, Hq__Assign);

		hq__assign__init(as);
		as->refs = enc_refs(&a, &m->refs);
		as->n_desc = m->refs.n;
		as->desc = m->descs;
		if (m->variants != NULL) {
			as->n_variant = m->refs.n;
			as->variant = m->variants;
		}
		if (m->entries != NULL) {
			as->n_entries = as->n_has_entry = m->refs.n;
			as->entries =
			    AR_ARRAY(&a, ProtobufCBinaryData, m->refs.n);
			as->has_entry =
			    AR_ARRAY(&a, protobuf_c_boolean, m->refs.n);
			for (i = 0; i < m->refs.n; i++) {
				as->entries[i] = bin_str(m->entries[i]);
				as->has_entry[i] = m->entries[i] != NULL;
			}
		}
		if (m->nhosts > 0) {
			as->n_node_hosts = m->nhosts;
			as->node_hosts =
			    AR_ARRAY(&a, ProtobufCBinaryData, m->nhosts);
			for (i = 0; i < m->nhosts; i++)
				as->node_hosts[i] = bin_str(m->hosts[i]);
		}
		as->secondary = m->secondary;
		msg.msg_case = HQ__SERVER_TO_WORKER__MSG_ASSIGN;
		msg.assign = as;
		break;
	}
	case HQ_VMSG_CANCEL: {
		Hq__CancelTasks *c = AR_NEW(&a, Hq__CancelTasks);

		hq__cancel_tasks__init(c);
		c->refs = enc_refs(&a, &m->refs);
		msg.msg_case = HQ__SERVER_TO_WORKER__MSG_CANCEL;
		msg.cancel = c;
		break;
	}
	case HQ_VMSG_ACK: {
		Hq__ResultsAck *k = AR_NEW(&a, Hq__ResultsAck);

		hq__results_ack__init(k);
		k->upto = m->upto;
		msg.msg_case = HQ__SERVER_TO_WORKER__MSG_ACK;
		msg.ack = k;
		break;
	}
	case HQ_VMSG_STOP: {
		Hq__StopWorker *s = AR_NEW(&a, Hq__StopWorker);

		hq__stop_worker__init(s);
		msg.msg_case = HQ__SERVER_TO_WORKER__MSG_STOP;
		msg.stop = s;
		break;
	}
	case HQ_VMSG_ERROR: {
		Hq__ErrorReply *e = AR_NEW(&a, Hq__ErrorReply);

		hq__error_reply__init(e);
		e->message = str_or_empty(m->message);
		msg.msg_case = HQ__SERVER_TO_WORKER__MSG_ERROR;
		msg.error = e;
		break;
	}
	default:
		rc = HQ_EINVAL;
	}
	if (rc == 0)
		pack_into(&msg.base, out);
	ar_free(&a);
	return rc;
}

int
hq_wire_decode_vmsg(const uint8_t *p, size_t len, struct hq_vmsg *m,
    struct hq_errbuf *eb)
{
	Hq__ServerToWorker *msg = hq__server_to_worker__unpack(NULL, len, p);
	size_t i;
	int rc = 0;

	memset(m, 0, sizeof *m);
	if (msg == NULL)
		return hq_errf(eb, HQ_EPROTO, "undecodable server message");
	switch (msg->msg_case) {
	case HQ__SERVER_TO_WORKER__MSG_WELCOME:
		m->kind = HQ_VMSG_WELCOME;
		m->protocol_version = msg->welcome->protocol_version;
		m->version = dup_pstr(msg->welcome->version);
		m->worker_id = msg->welcome->worker_id;
		m->server_uid = dup_pstr(msg->welcome->server_uid);
		rc = dec_held(msg->welcome->cancel, msg->welcome->n_cancel,
		    &m->held, &m->nheld, eb);
		break;
	case HQ__SERVER_TO_WORKER__MSG_SPEC:
		m->kind = HQ_VMSG_SPEC;
		m->job = msg->spec->job;
		m->desc = msg->spec->desc;
		m->server_uid = dup_pstr(msg->spec->server_uid);
		if ((rc = dec_desc(msg->spec->task, &m->task, eb)) ||
		    (rc = dec_str_opt(&msg->spec->submit_dir, &m->submit_dir,
			 "submit dir", eb)) ||
		    (rc = dec_str_opt(&msg->spec->stream_dir, &m->stream_dir,
			 "stream dir", eb)))
			break;
		break;
	case HQ__SERVER_TO_WORKER__MSG_ASSIGN: {
		const Hq__Assign *as = msg->assign;

		m->kind = HQ_VMSG_ASSIGN;
		if ((rc = dec_refs(as->refs, &m->refs, eb)))
			break;
		if (as->n_desc != m->refs.n ||
		    (as->n_entries != 0 && as->n_entries != m->refs.n) ||
		    as->n_has_entry != as->n_entries) {
			rc = hq_errf(eb, HQ_EPROTO, "assign list lengths");
			break;
		}
		m->descs = dup_u32(as->desc, as->n_desc);
		m->secondary = as->secondary;
		if (m->secondary && m->refs.n != 1) {
			rc = hq_errf(eb, HQ_EPROTO,
			    "secondary-node assign of %u tasks", m->refs.n);
			break;
		}
		if (as->n_variant != 0) {
			if (as->n_variant != m->refs.n) {
				rc = hq_errf(eb, HQ_EPROTO,
				    "assign variants of unequal length");
				break;
			}
			m->variants = dup_u32(as->variant, as->n_variant);
		}
		if (as->n_entries > 0) {
			m->entries = hq_xcalloc(m->refs.n, sizeof *m->entries);
			for (i = 0; i < as->n_entries; i++)
				if (as->has_entry[i] &&
				    (rc = dec_str(&as->entries[i],
					 &m->entries[i], "entry", eb)))
					break;
			if (rc)
				break;
		}
		if (as->n_node_hosts > 0) {
			if (m->refs.n != 1) {
				rc = hq_errf(eb, HQ_EPROTO,
				    "multi-node assign of %u tasks", m->refs.n);
				break;
			}
			m->hosts =
			    hq_xcalloc(as->n_node_hosts, sizeof *m->hosts);
			m->nhosts = (uint32_t)as->n_node_hosts;
			for (i = 0; i < as->n_node_hosts; i++)
				if ((rc = dec_str(&as->node_hosts[i],
					 &m->hosts[i], "node host", eb)))
					break;
		}
		break;
	}
	case HQ__SERVER_TO_WORKER__MSG_CANCEL:
		m->kind = HQ_VMSG_CANCEL;
		rc = dec_refs(msg->cancel->refs, &m->refs, eb);
		break;
	case HQ__SERVER_TO_WORKER__MSG_ACK:
		m->kind = HQ_VMSG_ACK;
		m->upto = msg->ack->upto;
		break;
	case HQ__SERVER_TO_WORKER__MSG_STOP:
		m->kind = HQ_VMSG_STOP;
		break;
	case HQ__SERVER_TO_WORKER__MSG_ERROR:
		m->kind = HQ_VMSG_ERROR;
		m->message = dup_pstr(msg->error->message);
		break;
	default:
		rc = hq_errf(eb, HQ_EPROTO, "empty server message");
	}
	hq__server_to_worker__free_unpacked(msg, NULL);
	if (rc != 0)
		hq_vmsg_fini(m);
	return rc;
}

/* ---- journal events ---------------------------------------------------- */

static Hq__JobClosed *
enc_closed(struct arena *a, const struct hq_event *ev)
{
	Hq__JobClosed *m = AR_NEW(a, Hq__JobClosed);

	hq__job_closed__init(m);
	m->n_jobs = ev->u.jobs.n;
	m->jobs = ev->u.jobs.ids;
	return m;
}

int
hq_wire_encode_event(const struct hq_event *ev, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__Event msg = HQ__EVENT__INIT;
	int rc = 0;

	msg.time_ms = ev->time_ms;
	switch (ev->kind) {
	case HQ_EV_SERVER_STARTED: {
		Hq__ServerStarted *m = AR_NEW(&a, Hq__ServerStarted);

		hq__server_started__init(m);
		m->server_uid = str_or_empty(ev->u.started.server_uid);
		m->pid = ev->u.started.pid;
		m->host = str_or_empty(ev->u.started.host);
		msg.kind_case = HQ__EVENT__KIND_SERVER_STARTED;
		msg.server_started = m;
		break;
	}
	case HQ_EV_SERVER_STOPPED: {
		Hq__ServerStopped *m = AR_NEW(&a, Hq__ServerStopped);

		hq__server_stopped__init(m);
		msg.kind_case = HQ__EVENT__KIND_SERVER_STOPPED;
		msg.server_stopped = m;
		break;
	}
	case HQ_EV_JOB_SUBMITTED: {
		Hq__JobSubmitted *m = AR_NEW(&a, Hq__JobSubmitted);

		hq__job_submitted__init(m);
		m->job_id = ev->u.submitted.job_id;
		m->new_job = ev->u.submitted.new_job;
		m->name = str_or_empty(ev->u.submitted.name);
		m->has_max_fails = ev->u.submitted.has_max_fails;
		m->max_fails = ev->u.submitted.max_fails;
		m->submit = enc_submit(&a, &ev->u.submitted.submit);
		msg.kind_case = HQ__EVENT__KIND_JOB_SUBMITTED;
		msg.job_submitted = m;
		break;
	}
	case HQ_EV_JOB_OPENED: {
		Hq__JobOpened *m = AR_NEW(&a, Hq__JobOpened);

		hq__job_opened__init(m);
		m->job_id = ev->u.opened.job_id;
		m->name = str_or_empty(ev->u.opened.name);
		m->has_max_fails = ev->u.opened.has_max_fails;
		m->max_fails = ev->u.opened.max_fails;
		msg.kind_case = HQ__EVENT__KIND_JOB_OPENED;
		msg.job_opened = m;
		break;
	}
	case HQ_EV_JOBS_CLOSED:
		msg.kind_case = HQ__EVENT__KIND_JOB_CLOSED;
		msg.job_closed = enc_closed(&a, ev);
		break;
	case HQ_EV_JOBS_CANCELED: {
		Hq__JobsCanceled *m = AR_NEW(&a, Hq__JobsCanceled);

		hq__jobs_canceled__init(m);
		m->n_jobs = ev->u.jobs.n;
		m->jobs = ev->u.jobs.ids;
		m->reason = str_or_empty(ev->u.jobs.reason);
		msg.kind_case = HQ__EVENT__KIND_JOBS_CANCELED;
		msg.jobs_canceled = m;
		break;
	}
	case HQ_EV_JOBS_FORGOTTEN: {
		Hq__JobsForgotten *m = AR_NEW(&a, Hq__JobsForgotten);

		hq__jobs_forgotten__init(m);
		m->n_jobs = ev->u.jobs.n;
		m->jobs = ev->u.jobs.ids;
		msg.kind_case = HQ__EVENT__KIND_JOBS_FORGOTTEN;
		msg.jobs_forgotten = m;
		break;
	}
	case HQ_EV_TASK_RUN: {
		Hq__TaskRun *m = AR_NEW(&a, Hq__TaskRun);

		hq__task_run__init(m);
		m->kind = (Hq__TaskRun__Kind)ev->u.run.kind;
		m->job = ev->u.run.job;
		m->worker = ev->u.run.worker;
		m->n_tasks = ev->u.run.n;
		m->tasks = ev->u.run.tasks;
		if (ev->u.run.variants != NULL) {
			m->n_variants = ev->u.run.n;
			m->variants = ev->u.run.variants;
		}
		m->n_nodes = ev->u.run.nnodes;
		m->nodes = ev->u.run.nodes;
		msg.kind_case = HQ__EVENT__KIND_TASK_RUN;
		msg.task_run = m;
		break;
	}
	case HQ_EV_TASK_FAILED: {
		Hq__TaskFailedEv *m = AR_NEW(&a, Hq__TaskFailedEv);

		hq__task_failed_ev__init(m);
		m->job = ev->u.failed.job;
		m->task = ev->u.failed.task;
		m->error = str_or_empty(ev->u.failed.error);
		msg.kind_case = HQ__EVENT__KIND_TASK_FAILED;
		msg.task_failed = m;
		break;
	}
	case HQ_EV_WORKER_CONNECTED: {
		Hq__WorkerConnected *m = AR_NEW(&a, Hq__WorkerConnected);

		hq__worker_connected__init(m);
		m->worker_id = ev->u.wconn.worker_id;
		m->config = enc_wconfig(&a, &ev->u.wconn.cfg);
		msg.kind_case = HQ__EVENT__KIND_WORKER_CONNECTED;
		msg.worker_connected = m;
		break;
	}
	case HQ_EV_WORKER_LOST: {
		Hq__WorkerLost *m = AR_NEW(&a, Hq__WorkerLost);

		hq__worker_lost__init(m);
		m->worker_id = ev->u.wlost.worker_id;
		m->reason = ev->u.wlost.reason;
		msg.kind_case = HQ__EVENT__KIND_WORKER_LOST;
		msg.worker_lost = m;
		break;
	}
	case HQ_EV_ALLOC: {
		Hq__AllocEvent *m = AR_NEW(&a, Hq__AllocEvent);

		hq__alloc_event__init(m);
		m->kind = (Hq__AllocEvent__Kind)ev->u.alloc.kind;
		m->queue_id = ev->u.alloc.queue_id;
		if (ev->u.alloc.kind == HQ_AEV_QUEUE_CREATED)
			m->params = enc_aparams(&a, &ev->u.alloc.params);
		m->allocation_id = str_or_empty(ev->u.alloc.allocation_id);
		m->worker_count = ev->u.alloc.worker_count;
		m->workdir = bin_str(ev->u.alloc.workdir);
		m->message = bin_str(ev->u.alloc.message);
		m->end = (Hq__AllocEvent__End)ev->u.alloc.end;
		msg.kind_case = HQ__EVENT__KIND_ALLOC;
		msg.alloc = m;
		break;
	}
	default:
		rc = HQ_EINVAL;
	}
	if (rc == 0)
		pack_into(&msg.base, out);
	ar_free(&a);
	return rc;
}

static void
dec_jobs(struct hq_event *ev, const uint32_t *ids, size_t n)
{
	ev->u.jobs.n = (uint32_t)n;
	ev->u.jobs.ids = dup_u32(ids, n);
}

static int
dec_alloc_event(const Hq__AllocEvent *m, struct hq_event *ev,
    struct hq_errbuf *eb)
{
	int rc;

	ev->kind = HQ_EV_ALLOC;
	if ((unsigned)m->kind > HQ_AEV_FINISHED)
		return hq_errf(eb, HQ_ECORRUPT, "unknown autoalloc event kind");
	if ((unsigned)m->end > HQ_ALLOC_END_CANCELED)
		return hq_errf(eb, HQ_ECORRUPT, "unknown allocation end");
	ev->u.alloc.kind = (enum hq_alloc_ev_kind)m->kind;
	ev->u.alloc.queue_id = m->queue_id;
	ev->u.alloc.allocation_id = dup_pstr_opt(m->allocation_id);
	ev->u.alloc.worker_count = m->worker_count;
	ev->u.alloc.end = (enum hq_alloc_end)m->end;
	if ((rc = dec_str_opt(&m->workdir, &ev->u.alloc.workdir,
		 "allocation workdir", eb)) != 0 ||
	    (rc = dec_str_opt(&m->message, &ev->u.alloc.message,
		 "autoalloc message", eb)) != 0)
		return rc;
	if (ev->u.alloc.kind == HQ_AEV_QUEUE_CREATED)
		return dec_aparams(m->params, &ev->u.alloc.params, eb);
	return 0;
}

int
hq_wire_decode_event(const uint8_t *p, size_t len, struct hq_event *ev,
    struct hq_errbuf *eb)
{
	Hq__Event *msg = hq__event__unpack(NULL, len, p);
	int rc = 0;

	memset(ev, 0, sizeof *ev);
	if (msg == NULL)
		return hq_errf(eb, HQ_ECORRUPT, "undecodable journal event");
	ev->time_ms = msg->time_ms;
	switch (msg->kind_case) {
	case HQ__EVENT__KIND_SERVER_STARTED:
		ev->kind = HQ_EV_SERVER_STARTED;
		ev->u.started.server_uid =
		    dup_pstr(msg->server_started->server_uid);
		ev->u.started.pid = msg->server_started->pid;
		ev->u.started.host = dup_pstr(msg->server_started->host);
		break;
	case HQ__EVENT__KIND_SERVER_STOPPED:
		ev->kind = HQ_EV_SERVER_STOPPED;
		break;
	case HQ__EVENT__KIND_JOB_SUBMITTED:
		ev->kind = HQ_EV_JOB_SUBMITTED;
		ev->u.submitted.job_id = msg->job_submitted->job_id;
		ev->u.submitted.new_job = msg->job_submitted->new_job;
		ev->u.submitted.name = dup_pstr(msg->job_submitted->name);
		ev->u.submitted.has_max_fails =
		    msg->job_submitted->has_max_fails;
		ev->u.submitted.max_fails = msg->job_submitted->max_fails;
		rc = dec_submit(msg->job_submitted->submit,
		    &ev->u.submitted.submit, eb);
		break;
	case HQ__EVENT__KIND_JOB_OPENED:
		ev->kind = HQ_EV_JOB_OPENED;
		ev->u.opened.job_id = msg->job_opened->job_id;
		ev->u.opened.name = dup_pstr(msg->job_opened->name);
		ev->u.opened.has_max_fails = msg->job_opened->has_max_fails;
		ev->u.opened.max_fails = msg->job_opened->max_fails;
		break;
	case HQ__EVENT__KIND_JOB_CLOSED:
		ev->kind = HQ_EV_JOBS_CLOSED;
		dec_jobs(ev, msg->job_closed->jobs, msg->job_closed->n_jobs);
		break;
	case HQ__EVENT__KIND_JOBS_CANCELED:
		ev->kind = HQ_EV_JOBS_CANCELED;
		dec_jobs(ev, msg->jobs_canceled->jobs,
		    msg->jobs_canceled->n_jobs);
		ev->u.jobs.reason = dup_pstr_opt(msg->jobs_canceled->reason);
		break;
	case HQ__EVENT__KIND_JOBS_FORGOTTEN:
		ev->kind = HQ_EV_JOBS_FORGOTTEN;
		dec_jobs(ev, msg->jobs_forgotten->jobs,
		    msg->jobs_forgotten->n_jobs);
		break;
	case HQ__EVENT__KIND_TASK_RUN:
		ev->kind = HQ_EV_TASK_RUN;
		if ((unsigned)msg->task_run->kind > HQ_RUN_REQUEUED) {
			rc = hq_errf(eb, HQ_ECORRUPT, "unknown task run kind");
			break;
		}
		ev->u.run.kind = (enum hq_run_kind)msg->task_run->kind;
		ev->u.run.job = msg->task_run->job;
		ev->u.run.worker = msg->task_run->worker;
		ev->u.run.n = ev->u.run.cap = (uint32_t)msg->task_run->n_tasks;
		ev->u.run.tasks =
		    dup_u32(msg->task_run->tasks, msg->task_run->n_tasks);
		if (msg->task_run->n_variants != 0) {
			if (msg->task_run->n_variants !=
			    msg->task_run->n_tasks) {
				rc = hq_errf(eb, HQ_ECORRUPT,
				    "task run variants of unequal length");
				break;
			}
			ev->u.run.variants = dup_u32(msg->task_run->variants,
			    msg->task_run->n_variants);
		}
		if (msg->task_run->n_nodes != 0) {
			if (msg->task_run->n_tasks != 1 ||
			    ev->u.run.kind != HQ_RUN_ASSIGNED) {
				rc = hq_errf(eb, HQ_ECORRUPT,
				    "task run nodes without one assigned "
				    "task");
				break;
			}
			ev->u.run.nnodes = (uint32_t)msg->task_run->n_nodes;
			ev->u.run.nodes = dup_u32(msg->task_run->nodes,
			    msg->task_run->n_nodes);
		}
		break;
	case HQ__EVENT__KIND_TASK_FAILED:
		ev->kind = HQ_EV_TASK_FAILED;
		ev->u.failed.job = msg->task_failed->job;
		ev->u.failed.task = msg->task_failed->task;
		ev->u.failed.error = dup_pstr(msg->task_failed->error);
		break;
	case HQ__EVENT__KIND_WORKER_CONNECTED:
		ev->kind = HQ_EV_WORKER_CONNECTED;
		ev->u.wconn.worker_id = msg->worker_connected->worker_id;
		rc = dec_wconfig(msg->worker_connected->config,
		    &ev->u.wconn.cfg, eb);
		break;
	case HQ__EVENT__KIND_WORKER_LOST:
		ev->kind = HQ_EV_WORKER_LOST;
		ev->u.wlost.worker_id = msg->worker_lost->worker_id;
		if (msg->worker_lost->reason > HQ_LOST_SERVER_RESTART) {
			rc = hq_errf(eb, HQ_ECORRUPT, "unknown lost reason");
			break;
		}
		ev->u.wlost.reason =
		    (enum hq_worker_lost_reason)msg->worker_lost->reason;
		break;
	case HQ__EVENT__KIND_ALLOC:
		rc = dec_alloc_event(msg->alloc, ev, eb);
		break;
	default:
		rc = hq_errf(eb, HQ_ECORRUPT, "journal event of unknown kind");
	}
	hq__event__free_unpacked(msg, NULL);
	if (rc != 0) {
		if (rc == HQ_EPROTO)
			rc = HQ_ECORRUPT;
		hq_event_fini(ev);
	}
	return rc;
}

/* ---- standalone ---------------------------------------------------------- */

int
hq_wire_encode_submit(const struct hq_submit *s, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__Submit *m = enc_submit(&a, s);

	pack_into(&m->base, out);
	ar_free(&a);
	return 0;
}

int
hq_wire_decode_submit(const uint8_t *p, size_t len, struct hq_submit *s,
    struct hq_errbuf *eb)
{
	Hq__Submit *m = hq__submit__unpack(NULL, len, p);
	int rc;

	if (m == NULL)
		return hq_errf(eb, HQ_EPROTO, "undecodable submit");
	rc = dec_submit(m, s, eb);
	hq__submit__free_unpacked(m, NULL);
	return rc;
}

int
hq_wire_encode_wconfig(const struct hq_worker_config *c, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__WorkerConfig *m = enc_wconfig(&a, c);

	pack_into(&m->base, out);
	ar_free(&a);
	return 0;
}

int
hq_wire_encode_alloc_params(const struct hq_alloc_params *p, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__AllocParams *m = enc_aparams(&a, p);

	pack_into(&m->base, out);
	ar_free(&a);
	return 0;
}

int
hq_wire_decode_wconfig(const uint8_t *p, size_t len, struct hq_worker_config *c,
    struct hq_errbuf *eb)
{
	Hq__WorkerConfig *m = hq__worker_config__unpack(NULL, len, p);
	int rc;

	if (m == NULL)
		return hq_errf(eb, HQ_EPROTO,
		    "undecodable worker configuration");
	rc = dec_wconfig(m, c, eb);
	hq__worker_config__free_unpacked(m, NULL);
	return rc;
}

int
hq_wire_decode_alloc_params(const uint8_t *p, size_t len,
    struct hq_alloc_params *out, struct hq_errbuf *eb)
{
	Hq__AllocParams *m = hq__alloc_params__unpack(NULL, len, p);
	int rc;

	if (m == NULL)
		return hq_errf(eb, HQ_EPROTO,
		    "undecodable allocation parameters");
	rc = dec_aparams(m, out, eb);
	hq__alloc_params__free_unpacked(m, NULL);
	if (rc != 0)
		hq_alloc_params_fini(out);
	return rc;
}

int
hq_wire_encode_worker_res(const struct hq_worker_res *r, struct hq_buf *out)
{
	struct arena a = { NULL };
	Hq__WorkerResources *m = enc_wres(&a, r);

	pack_into(&m->base, out);
	ar_free(&a);
	return 0;
}

int
hq_wire_decode_worker_res(const uint8_t *p, size_t len,
    struct hq_worker_res *out, struct hq_errbuf *eb)
{
	Hq__WorkerResources *m = hq__worker_resources__unpack(NULL, len, p);
	int rc;

	if (m == NULL)
		return hq_errf(eb, HQ_EPROTO, "undecodable worker resources");
	rc = dec_wres(m, out, eb);
	hq__worker_resources__free_unpacked(m, NULL);
	return rc;
}
