/* SPDX-License-Identifier: MIT */
/*
 * wire.c: round trips of every message kind and journal event with all
 * fields set, and decoding of truncated, random, mutated and hand-made
 * malformed input (run under ASan in the sanitizer build).
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
#include "common/model.h"
#include "common/wire.h"

#define ONE HQ_AMOUNT_ONE

/* ---- comparisons -------------------------------------------------------- */

static void
eq_str(const char *a, const char *b, const char *what)
{
	if (a == NULL && b == NULL)
		return;
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		fail_msg("%s: '%s' != '%s'", what, a ? a : "(null)",
		    b ? b : "(null)");
}

static void
eq_mem(const void *a, size_t alen, const void *b, size_t blen, const char *what)
{
	if (alen != blen || (alen > 0 && memcmp(a, b, alen) != 0))
		fail_msg("%s: %zu bytes != %zu bytes", what, alen, blen);
}

static void
eq_idset(const struct hq_idset *a, const struct hq_idset *b)
{
	uint32_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->r[i].start, b->r[i].start);
		assert_int_equal(a->r[i].count, b->r[i].count);
		assert_int_equal(a->r[i].step, b->r[i].step);
	}
}

static void
eq_req(const struct hq_res_request *a, const struct hq_res_request *b)
{
	uint32_t i, j;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->v[i].n_nodes, b->v[i].n_nodes);
		assert_int_equal(a->v[i].min_time_ms, b->v[i].min_time_ms);
		assert_int_equal(a->v[i].weight, b->v[i].weight);
		assert_int_equal(a->v[i].n, b->v[i].n);
		for (j = 0; j < a->v[i].n; j++) {
			eq_str(a->v[i].e[j].name, b->v[i].e[j].name,
			    "entry name");
			assert_int_equal(a->v[i].e[j].amount,
			    b->v[i].e[j].amount);
			assert_int_equal(a->v[i].e[j].policy,
			    b->v[i].e[j].policy);
		}
	}
}

static void
eq_stdio(const struct hq_stdio *a, const struct hq_stdio *b)
{
	assert_int_equal(a->kind, b->kind);
	eq_str(a->path, b->path, "stdio path");
	assert_int_equal(a->rm_if_finished, b->rm_if_finished);
}

static void
eq_desc(const struct hq_task_desc *a, const struct hq_task_desc *b)
{
	uint32_t i;

	assert_int_equal(a->argc, b->argc);
	for (i = 0; i < a->argc; i++)
		eq_str(a->argv[i], b->argv[i], "argv");
	assert_null(b->argv[b->argc]);
	assert_int_equal(a->nenv, b->nenv);
	for (i = 0; i < a->nenv; i++) {
		eq_str(a->env[i].key, b->env[i].key, "env key");
		eq_str(a->env[i].value, b->env[i].value, "env value");
	}
	eq_str(a->cwd, b->cwd, "cwd");
	eq_stdio(&a->out, &b->out);
	eq_stdio(&a->err, &b->err);
	eq_mem(a->stdin_data, a->stdin_len, b->stdin_data, b->stdin_len,
	    "stdin");
	eq_req(&a->req, &b->req);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->time_limit_ms, b->time_limit_ms);
	assert_int_equal(a->crash_limit, b->crash_limit);
	assert_int_equal(a->pin, b->pin);
	assert_int_equal(a->task_dir, b->task_dir);
}

static void
eq_submit(const struct hq_submit *a, const struct hq_submit *b)
{
	uint32_t i, k;

	assert_int_equal(a->graph, b->graph);
	assert_int_equal(a->ndescs, b->ndescs);
	for (i = 0; i < a->ndescs; i++)
		eq_desc(&a->descs[i], &b->descs[i]);
	eq_idset(&a->ids, &b->ids);
	assert_int_equal(a->nentries, b->nentries);
	for (i = 0; i < a->nentries; i++)
		eq_str(a->entries[i], b->entries[i], "entry");
	assert_int_equal(a->ntasks, b->ntasks);
	for (i = 0; i < a->ntasks; i++) {
		assert_int_equal(a->tasks[i].id, b->tasks[i].id);
		assert_int_equal(a->tasks[i].desc, b->tasks[i].desc);
		assert_int_equal(a->tasks[i].ndeps, b->tasks[i].ndeps);
		for (k = 0; k < a->tasks[i].ndeps; k++)
			assert_int_equal(a->tasks[i].deps[k],
			    b->tasks[i].deps[k]);
	}
	eq_str(a->submit_dir, b->submit_dir, "submit_dir");
	eq_str(a->stream_dir, b->stream_dir, "stream_dir");
}

static void
eq_wres(const struct hq_worker_res *a, const struct hq_worker_res *b)
{
	uint32_t i, j;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		const struct hq_res_pool *p = &a->pools[i], *q = &b->pools[i];

		eq_str(p->name, q->name, "pool name");
		assert_int_equal(p->kind, q->kind);
		assert_int_equal(p->nlabels, q->nlabels);
		for (j = 0; j < p->nlabels; j++)
			eq_str(p->labels[j], q->labels[j], "label");
		assert_int_equal(p->ngroups, q->ngroups);
		if (p->group_start != NULL) {
			assert_non_null(q->group_start);
			for (j = 0; j <= p->ngroups; j++)
				assert_int_equal(p->group_start[j],
				    q->group_start[j]);
		}
		assert_int_equal(p->size, q->size);
	}
	assert_int_equal(a->ncoupling, b->ncoupling);
	for (i = 0; i < a->ncoupling; i++)
		assert_memory_equal(&a->coupling[i], &b->coupling[i],
		    sizeof a->coupling[i]);
}

static void
eq_wcfg(const struct hq_worker_config *a, const struct hq_worker_config *b)
{
	eq_str(a->hostname, b->hostname, "hostname");
	eq_str(a->group, b->group, "group");
	eq_wres(&a->res, &b->res);
	assert_int_equal(a->heartbeat_ms, b->heartbeat_ms);
	assert_int_equal(a->idle_timeout_ms, b->idle_timeout_ms);
	assert_int_equal(a->time_limit_ms, b->time_limit_ms);
	assert_int_equal(a->started_ms, b->started_ms);
	eq_str(a->work_dir, b->work_dir, "work_dir");
	eq_str(a->on_server_lost, b->on_server_lost, "on_server_lost");
	assert_int_equal(a->min_utilization, b->min_utilization);
	eq_str(a->manager, b->manager, "manager");
	eq_str(a->allocation_id, b->allocation_id, "allocation_id");
	assert_int_equal(a->pid, b->pid);
	eq_str(a->listen_address, b->listen_address, "listen_address");
	eq_str(a->config_json, b->config_json, "config_json");
}

static void
eq_held(const struct hq_held_task *a, uint32_t na, const struct hq_held_task *b,
    uint32_t nb)
{
	uint32_t i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		assert_int_equal(a[i].job, b[i].job);
		assert_int_equal(a[i].task, b[i].task);
		assert_int_equal(a[i].instance, b[i].instance);
		assert_int_equal(a[i].status, b[i].status);
		eq_str(a[i].error, b[i].error, "held error");
		assert_int_equal(a[i].started_ms, b[i].started_ms);
	}
}

static void
eq_refs(const struct hq_taskrefs *a, const struct hq_taskrefs *b)
{
	uint32_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->job[i], b->job[i]);
		assert_int_equal(a->task[i], b->task[i]);
		assert_int_equal(a->instance[i], b->instance[i]);
	}
}

static void
eq_u32s(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	uint32_t i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++)
		assert_int_equal(a[i], b[i]);
}

/* ---- full values --------------------------------------------------------- */

static void
full_desc(struct hq_task_desc *d, uint32_t k)
{
	static const uint8_t in[] = { 'i', 0, 0xff, '\n', 7 };
	struct hq_res_variant *v;

	memset(d, 0, sizeof *d);
	d->argc = 3;
	d->argv = hq_xcalloc(4, sizeof *d->argv);
	d->argv[0] = hq_xstrdup("/bin/prog");
	d->argv[1] = hq_xprintf("--k=%u", k);
	d->argv[2] = hq_xstrdup("arg with spaces \xc3\xa9");
	d->nenv = 2;
	d->env = hq_xcalloc(2, sizeof *d->env);
	d->env[0].key = hq_xstrdup("A");
	d->env[0].value = hq_xstrdup("1");
	d->env[1].key = hq_xstrdup("B_VAR");
	d->env[1].value = hq_xstrdup("x=y");
	d->cwd = hq_xstrdup("%{SUBMIT_DIR}/w");
	d->out.kind = HQ_STDIO_FILE;
	d->out.path = hq_xstrdup("out-%{TASK_ID}.txt");
	d->out.rm_if_finished = true;
	d->err.kind = HQ_STDIO_STREAM;
	d->stdin_len = sizeof in;
	d->stdin_data = hq_xmemdup(in, sizeof in);
	d->req.n = 3;
	d->req.v = hq_xcalloc(3, sizeof *d->req.v);
	v = &d->req.v[0];
	v->min_time_ms = 60000;
	v->weight = 12345;
	v->n = 3;
	v->e = hq_xcalloc(3, sizeof *v->e);
	v->e[0].name = hq_xstrdup("cpus");
	v->e[0].amount = 4 * ONE + 5000;
	v->e[0].policy = HQ_POLICY_FORCE_TIGHT;
	v->e[1].name = hq_xstrdup("gpus/nvidia");
	v->e[1].amount = 0;
	v->e[1].policy = HQ_POLICY_ALL;
	v->e[2].name = hq_xstrdup("mem");
	v->e[2].amount = 1ULL << 40;
	v->e[2].policy = HQ_POLICY_SCATTER;
	v = &d->req.v[1];
	v->weight = ONE;
	v->n = 1;
	v->e = hq_xcalloc(1, sizeof *v->e);
	v->e[0].name = hq_xstrdup("cpus");
	v->e[0].amount = ONE;
	v->e[0].policy = HQ_POLICY_FORCE_COMPACT;
	v = &d->req.v[2];
	v->n_nodes = 4; /* multi-node: no entries */
	d->priority = -7;
	d->time_limit_ms = 3600000;
	d->crash_limit = HQ_CRASH_NEVER_RESTART;
	d->pin = HQ_PIN_OMP;
	d->task_dir = true;
}

static void
full_submit(struct hq_submit *s, bool graph)
{
	uint32_t i;

	memset(s, 0, sizeof *s);
	s->graph = graph;
	s->ndescs = graph ? 2 : 1;
	s->descs = hq_xcalloc(s->ndescs, sizeof *s->descs);
	for (i = 0; i < s->ndescs; i++)
		full_desc(&s->descs[i], i);
	if (graph) {
		s->ntasks = 3;
		s->tasks = hq_xcalloc(3, sizeof *s->tasks);
		s->tasks[0].id = 10;
		s->tasks[1].id = 20;
		s->tasks[1].desc = 1;
		s->tasks[1].ndeps = 1;
		s->tasks[1].deps = hq_xcalloc(1, sizeof(uint32_t));
		s->tasks[1].deps[0] = 10;
		s->tasks[2].id = 4000000000u;
		s->tasks[2].ndeps = 2;
		s->tasks[2].deps = hq_xcalloc(2, sizeof(uint32_t));
		s->tasks[2].deps[0] = 10;
		s->tasks[2].deps[1] = 20;
	} else {
		hq_idset_add_range(&s->ids, 0, 3, 1);
		hq_idset_add_range(&s->ids, 100, 2, 7);
		s->nentries = 5;
		s->entries = hq_xcalloc(5, sizeof *s->entries);
		for (i = 0; i < 5; i++)
			s->entries[i] = hq_xprintf("entry %u", i);
	}
	s->submit_dir = hq_xstrdup("/home/u/dir");
	s->stream_dir = hq_xstrdup("/home/u/stream");
}

static void
full_pool(struct hq_res_pool *p, const char *name, enum hq_pool_kind kind)
{
	uint32_t i;

	memset(p, 0, sizeof *p);
	p->name = hq_xstrdup(name);
	p->kind = kind;
	if (kind == HQ_POOL_SUM) {
		p->size = 64ULL << 30;
		return;
	}
	p->nlabels = 6;
	p->labels = hq_xcalloc(6, sizeof *p->labels);
	for (i = 0; i < 6; i++)
		p->labels[i] = hq_xprintf("%s%u", name, i);
	p->ngroups = kind == HQ_POOL_GROUPS ? 2 : 1;
	p->group_start = hq_xcalloc(p->ngroups + 1, sizeof *p->group_start);
	p->group_start[p->ngroups] = 6;
	if (kind == HQ_POOL_GROUPS)
		p->group_start[1] = 4;
}

static void
full_wcfg(struct hq_worker_config *c)
{
	memset(c, 0, sizeof *c);
	c->hostname = hq_xstrdup("node17.cluster");
	c->group = hq_xstrdup("gpu-nodes");
	c->res.n = 4;
	c->res.pools = hq_xcalloc(4, sizeof *c->res.pools);
	full_pool(&c->res.pools[0], "cpus", HQ_POOL_GROUPS);
	full_pool(&c->res.pools[1], "gpus", HQ_POOL_LIST);
	full_pool(&c->res.pools[2], "mem", HQ_POOL_SUM);
	full_pool(&c->res.pools[3], "x", HQ_POOL_RANGE);
	c->res.ncoupling = 2;
	c->res.coupling = hq_xcalloc(2, sizeof *c->res.coupling);
	c->res.coupling[0] = (struct hq_coupling_weight){ 0, 0, 1, 0, 256 };
	c->res.coupling[1] = (struct hq_coupling_weight){ 0, 1, 1, 0, 64 };
	c->heartbeat_ms = 8000;
	c->idle_timeout_ms = 300000;
	c->time_limit_ms = 86400000;
	c->started_ms = 1700000000123ULL;
	c->work_dir = hq_xstrdup("/tmp/hq-worker");
	c->on_server_lost = hq_xstrdup("finish-running");
	c->min_utilization = 5000;
	c->manager = hq_xstrdup("SLURM");
	c->allocation_id = hq_xstrdup("123456");
	c->pid = 4242;
	c->listen_address = hq_xstrdup("10.0.0.17:40123");
	c->config_json = hq_xstrdup("{\"a\":1}");
}

static struct hq_held_task *
full_held(uint32_t *n)
{
	struct hq_held_task *h = hq_xcalloc(3, sizeof *h);

	h[0] = (struct hq_held_task){ 1, 2, 3, HQ_HELD_RUNNING, NULL, 99 };
	h[1] = (struct hq_held_task){ 4, 5, 6, HQ_HELD_FINISHED, NULL, 100 };
	h[2] = (struct hq_held_task){ 7, 8, 9, HQ_HELD_FAILED,
		hq_xstrdup("exit code 3"), 101 };
	*n = 3;
	return h;
}

static void
full_refs(struct hq_taskrefs *r)
{
	memset(r, 0, sizeof *r);
	hq_taskrefs_push(r, 1, 0, 0);
	hq_taskrefs_push(r, 1, 1, 2);
	hq_taskrefs_push(r, 3, 4000000000u, 7);
}

/* ---- corpus of encodings (for truncation and mutation) ------------------ */

enum kind {
	K_CMSG,
	K_SMSG,
	K_WMSG,
	K_VMSG,
	K_EVENT,
	K__N
};

struct sample {
	enum kind kind;
	uint8_t *p;
	size_t len;
};

static struct sample *corpus;
static uint32_t ncorpus, corpus_cap;

static void
keep(enum kind kind, const struct hq_buf *b)
{
	struct sample s = { kind, hq_xmemdup(b->data, b->len), b->len };

	HQ_VEC_PUSH(corpus, ncorpus, corpus_cap, s);
}

/* Decode with the decoder of 'kind' and release; returns the code. */
static int
decode_any(enum kind kind, const uint8_t *p, size_t len, struct hq_errbuf *eb,
    bool reencode)
{
	struct hq_buf b;
	int rc = 0;

	hq_buf_init(&b);
	switch (kind) {
	case K_CMSG: {
		struct hq_cmsg m;

		rc = hq_wire_decode_cmsg(p, len, &m, eb);
		if (rc == 0 && reencode)
			assert_int_equal(hq_wire_encode_cmsg(&m, &b), 0);
		if (rc == 0)
			hq_cmsg_fini(&m);
		break;
	}
	case K_SMSG: {
		struct hq_smsg m;

		rc = hq_wire_decode_smsg(p, len, &m, eb);
		if (rc == 0 && reencode)
			assert_int_equal(hq_wire_encode_smsg(&m, &b), 0);
		if (rc == 0)
			hq_smsg_fini(&m);
		break;
	}
	case K_WMSG: {
		struct hq_wmsg m;

		rc = hq_wire_decode_wmsg(p, len, &m, eb);
		if (rc == 0 && reencode)
			assert_int_equal(hq_wire_encode_wmsg(&m, &b), 0);
		if (rc == 0)
			hq_wmsg_fini(&m);
		break;
	}
	case K_VMSG: {
		struct hq_vmsg m;

		rc = hq_wire_decode_vmsg(p, len, &m, eb);
		if (rc == 0 && reencode)
			assert_int_equal(hq_wire_encode_vmsg(&m, &b), 0);
		if (rc == 0)
			hq_vmsg_fini(&m);
		break;
	}
	case K_EVENT: {
		struct hq_event ev;

		rc = hq_wire_decode_event(p, len, &ev, eb);
		if (rc == 0 && reencode)
			assert_int_equal(hq_wire_encode_event(&ev, &b), 0);
		if (rc == 0)
			hq_event_fini(&ev);
		break;
	}
	default:
		fail();
	}
	hq_buf_fini(&b);
	return rc;
}

/* ---- round trips --------------------------------------------------------- */

static void
eq_strv(char *const *a, uint32_t na, char *const *b, uint32_t nb)
{
	uint32_t i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++)
		eq_str(a[i], b[i], "string list");
}

static void
eq_aparams(const struct hq_alloc_params *a, const struct hq_alloc_params *b)
{
	assert_int_equal(a->manager, b->manager);
	assert_int_equal(a->backlog, b->backlog);
	assert_int_equal(a->max_workers_per_alloc, b->max_workers_per_alloc);
	assert_int_equal(a->max_worker_count, b->max_worker_count);
	assert_int_equal(a->time_limit_ms, b->time_limit_ms);
	assert_int_equal(a->worker_time_limit_ms, b->worker_time_limit_ms);
	assert_int_equal(a->idle_timeout_ms, b->idle_timeout_ms);
	eq_str(a->name, b->name, "name");
	eq_strv(a->worker_args, a->nworker_args, b->worker_args,
	    b->nworker_args);
	eq_strv(a->additional_args, a->nadditional_args, b->additional_args,
	    b->nadditional_args);
	eq_str(a->start_cmd, b->start_cmd, "start cmd");
	eq_str(a->stop_cmd, b->stop_cmd, "stop cmd");
	eq_str(a->wrap_cmd, b->wrap_cmd, "wrap cmd");
	eq_str(a->cpus, b->cpus, "cpus");
	eq_strv(a->resources, a->nresources, b->resources, b->nresources);
	assert_int_equal(a->min_utilization, b->min_utilization);
}

static void
rt_cmsg(const struct hq_cmsg *m)
{
	struct hq_buf b;
	struct hq_cmsg d;
	struct hq_errbuf eb = { "" };
	uint32_t i;

	hq_buf_init(&b);
	assert_int_equal(hq_wire_encode_cmsg(m, &b), 0);
	keep(K_CMSG, &b);
	if (hq_wire_decode_cmsg(b.data, b.len, &d, &eb) != 0)
		fail_msg("decode: %s", eb.msg);
	assert_int_equal(d.kind, m->kind);
	switch (m->kind) {
	case HQ_CMSG_HELLO:
		assert_int_equal(d.protocol_version, m->protocol_version);
		eq_str(d.version, m->version, "version");
		break;
	case HQ_CMSG_SUBMIT:
		assert_int_equal(d.job_id, m->job_id);
		assert_int_equal(d.notify, m->notify);
		eq_submit(&m->submit, &d.submit);
		/* fall through */
	case HQ_CMSG_JOB_OPEN:
		eq_str(d.name, m->name, "name");
		assert_int_equal(d.has_max_fails, m->has_max_fails);
		assert_int_equal(d.max_fails, m->max_fails);
		break;
	case HQ_CMSG_QUERY:
	case HQ_CMSG_COMMAND:
	case HQ_CMSG_WAIT:
		assert_int_equal(d.sel.kind, m->sel.kind);
		eq_idset(&d.sel.ids, &m->sel.ids);
		if (m->kind != HQ_CMSG_WAIT) {
			assert_int_equal(d.sub, m->sub);
			assert_int_equal(d.nstates, m->nstates);
			for (i = 0; i < m->nstates; i++)
				eq_str(d.states[i], m->states[i], "state");
		}
		if (m->kind == HQ_CMSG_QUERY) {
			eq_idset(&d.tasks, &m->tasks);
			assert_int_equal(d.has_tasks, m->has_tasks);
			assert_int_equal(d.all, m->all);
		} else if (m->kind == HQ_CMSG_COMMAND) {
			eq_str(d.reason, m->reason, "reason");
		} else {
			assert_int_equal(d.without_close, m->without_close);
			assert_int_equal(d.progress, m->progress);
			assert_int_equal(d.notify, m->notify);
		}
		break;
	case HQ_CMSG_STREAM:
		assert_int_equal(d.live, m->live);
		break;
	case HQ_CMSG_ALLOC:
		assert_int_equal(d.sub, m->sub);
		assert_int_equal(d.queue_id, m->queue_id);
		assert_int_equal(d.force, m->force);
		assert_int_equal(d.no_dry_run, m->no_dry_run);
		eq_aparams(&m->aparams, &d.aparams);
		break;
	case HQ_CMSG_DEBUG_DUMP:
		break;
	}
	hq_cmsg_fini(&d);
	hq_buf_fini(&b);
}

static void
test_wire_cmsg_roundtrip(void **unused)
{
	struct hq_cmsg m;
	int sub;

	(void)unused;
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_HELLO;
	m.protocol_version = 7;
	m.version = hq_xstrdup("hq 0.1.0");
	rt_cmsg(&m);
	hq_cmsg_fini(&m);

	m.kind = HQ_CMSG_SUBMIT;
	m.job_id = 12;
	m.name = hq_xstrdup("my job");
	m.has_max_fails = true;
	m.max_fails = 3;
	full_submit(&m.submit, false);
	rt_cmsg(&m);
	hq_submit_fini(&m.submit);
	full_submit(&m.submit, true);
	m.notify = true;
	rt_cmsg(&m);
	hq_cmsg_fini(&m);
	m.notify = false;

	m.kind = HQ_CMSG_JOB_OPEN;
	m.name = hq_xstrdup("open one");
	m.has_max_fails = true;
	m.max_fails = 0;
	rt_cmsg(&m);
	hq_cmsg_fini(&m);

	for (sub = 0; sub < HQ_Q__COUNT; sub++) {
		m.kind = HQ_CMSG_QUERY;
		m.sub = sub;
		m.sel.kind = (enum hq_sel_kind)(sub % 3);
		if (m.sel.kind == HQ_SEL_IDS) {
			hq_idset_add_range(&m.sel.ids, 1, 10, 1);
			hq_idset_add_range(&m.sel.ids, 50, 3, 5);
		}
		hq_idset_add_range(&m.tasks, 7, 2, 1);
		m.has_tasks = true;
		m.nstates = 2;
		m.states = hq_xcalloc(2, sizeof *m.states);
		m.states[0] = hq_xstrdup("running");
		m.states[1] = hq_xstrdup("failed");
		m.all = sub % 2;
		rt_cmsg(&m);
		hq_cmsg_fini(&m);
	}
	for (sub = 0; sub < HQ_C__COUNT; sub++) {
		m.kind = HQ_CMSG_COMMAND;
		m.sub = sub;
		m.sel.kind = (enum hq_sel_kind)(sub % 3);
		if (m.sel.kind == HQ_SEL_IDS)
			hq_idset_add_range(&m.sel.ids, 3, 1, 1);
		m.reason = hq_xstrdup("no longer needed");
		m.nstates = 1;
		m.states = hq_xcalloc(1, sizeof *m.states);
		m.states[0] = hq_xstrdup("finished");
		rt_cmsg(&m);
		hq_cmsg_fini(&m);
	}
	m.kind = HQ_CMSG_WAIT;
	m.sel.kind = HQ_SEL_IDS;
	hq_idset_add_range(&m.sel.ids, 1, 1000000, 2);
	m.without_close = true;
	m.progress = true;
	m.notify = true;
	rt_cmsg(&m);
	hq_cmsg_fini(&m);
	m.kind = HQ_CMSG_STREAM;
	m.live = true;
	rt_cmsg(&m);
	hq_cmsg_fini(&m);
	m.kind = HQ_CMSG_DEBUG_DUMP;
	rt_cmsg(&m);
	hq_cmsg_fini(&m);

	/* Encoding an unknown kind is refused. */
	{
		struct hq_buf b;

		hq_buf_init(&b);
		m.kind = (enum hq_cmsg_kind)0;
		assert_int_equal(hq_wire_encode_cmsg(&m, &b), HQ_EINVAL);
		assert_int_equal(b.len, 0);
		hq_buf_fini(&b);
	}
}

static void
rt_smsg(const struct hq_smsg *m)
{
	struct hq_buf b;
	struct hq_smsg d;
	struct hq_errbuf eb = { "" };
	uint32_t i;

	hq_buf_init(&b);
	assert_int_equal(hq_wire_encode_smsg(m, &b), 0);
	keep(K_SMSG, &b);
	if (hq_wire_decode_smsg(b.data, b.len, &d, &eb) != 0)
		fail_msg("decode: %s", eb.msg);
	assert_int_equal(d.kind, m->kind);
	switch (m->kind) {
	case HQ_SMSG_HELLO:
		assert_int_equal(d.protocol_version, m->protocol_version);
		eq_str(d.version, m->version, "version");
		eq_str(d.server_uid, m->server_uid, "server_uid");
		break;
	case HQ_SMSG_ERROR:
		eq_str(d.message, m->message, "message");
		break;
	case HQ_SMSG_SUBMIT:
		assert_int_equal(d.job_id, m->job_id);
		break;
	case HQ_SMSG_JSON:
		eq_str(d.json, m->json, "json");
		break;
	case HQ_SMSG_COMMAND:
		assert_int_equal(d.nlines, m->nlines);
		for (i = 0; i < m->nlines; i++) {
			assert_int_equal(d.lines[i].level, m->lines[i].level);
			eq_str(d.lines[i].text, m->lines[i].text, "line");
		}
		break;
	case HQ_SMSG_PROGRESS:
		assert_memory_equal(&d.progress, &m->progress,
		    sizeof d.progress);
		break;
	case HQ_SMSG_NOTIFICATION:
		assert_int_equal(d.n_job, m->n_job);
		assert_int_equal(d.n_task, m->n_task);
		assert_int_equal(d.n_worker, m->n_worker);
		eq_mem(d.n_msg, d.n_msg_len, m->n_msg, m->n_msg_len,
		    "notification");
		break;
	}
	hq_smsg_fini(&d);
	hq_buf_fini(&b);
}

static void
test_wire_smsg_roundtrip(void **unused)
{
	static const uint8_t blob[] = { 0, 1, 2, 0xfe, 0 };
	struct hq_smsg m;

	(void)unused;
	memset(&m, 0, sizeof m);
	m.kind = HQ_SMSG_HELLO;
	m.protocol_version = 3;
	m.version = hq_xstrdup("1.2.3");
	m.server_uid = hq_xstrdup("aBcD12");
	rt_smsg(&m);
	hq_smsg_fini(&m);
	m.kind = HQ_SMSG_ERROR;
	m.message = hq_xstrdup("Job 4 not found.");
	rt_smsg(&m);
	hq_smsg_fini(&m);
	m.kind = HQ_SMSG_SUBMIT;
	m.job_id = 4000000000u;
	rt_smsg(&m);
	hq_smsg_fini(&m);
	m.kind = HQ_SMSG_JSON;
	m.json = hq_xstrdup("[{\"id\": 1, \"name\": \"\\u00e9\"}]");
	rt_smsg(&m);
	hq_smsg_fini(&m);
	m.kind = HQ_SMSG_COMMAND;
	hq_smsg_add_line(&m, HQ_LINE_INFO, "Job %u canceled", 3);
	hq_smsg_add_line(&m, HQ_LINE_WARN, "Job %u not found", 4);
	hq_smsg_add_line(&m, HQ_LINE_ERROR, "%s", "nothing");
	rt_smsg(&m);
	hq_smsg_fini(&m);
	m.kind = HQ_SMSG_PROGRESS;
	m.progress = (struct hq_wait_progress){ 5, 2, 1ULL << 33, 6, 7, 8, 9,
		10, 11, true };
	rt_smsg(&m);
	hq_smsg_fini(&m);
	m.kind = HQ_SMSG_NOTIFICATION;
	m.n_job = 1;
	m.n_task = 2;
	m.n_worker = 3;
	m.n_msg = hq_xmemdup(blob, sizeof blob);
	m.n_msg_len = sizeof blob;
	rt_smsg(&m);
	hq_smsg_fini(&m);
}

static void
rt_wmsg(const struct hq_wmsg *m)
{
	struct hq_buf b;
	struct hq_wmsg d;
	struct hq_errbuf eb = { "" };

	hq_buf_init(&b);
	assert_int_equal(hq_wire_encode_wmsg(m, &b), 0);
	keep(K_WMSG, &b);
	if (hq_wire_decode_wmsg(b.data, b.len, &d, &eb) != 0)
		fail_msg("decode: %s", eb.msg);
	assert_int_equal(d.kind, m->kind);
	switch (m->kind) {
	case HQ_WMSG_HELLO:
		assert_int_equal(d.protocol_version, m->protocol_version);
		eq_str(d.version, m->version, "version");
		assert_int_equal(d.worker_id, m->worker_id);
		eq_str(d.server_uid, m->server_uid, "server_uid");
		eq_wcfg(&m->cfg, &d.cfg);
		eq_held(m->held, m->nheld, d.held, d.nheld);
		break;
	case HQ_WMSG_HEARTBEAT:
		break;
	case HQ_WMSG_STARTED:
		eq_refs(&m->refs, &d.refs);
		eq_u32s(m->variant, m->nvariant, d.variant, d.nvariant);
		break;
	case HQ_WMSG_FINISHED:
		eq_refs(&m->refs, &d.refs);
		assert_int_equal(d.report_seq, m->report_seq);
		break;
	case HQ_WMSG_FAILED:
		assert_int_equal(d.job, m->job);
		assert_int_equal(d.task, m->task);
		assert_int_equal(d.instance, m->instance);
		eq_str(d.error, m->error, "error");
		assert_int_equal(d.report_seq, m->report_seq);
		break;
	case HQ_WMSG_STOPPING:
		assert_int_equal(d.reason, m->reason);
		break;
	case HQ_WMSG_NOTIFY:
		assert_int_equal(d.job, m->job);
		assert_int_equal(d.task, m->task);
		eq_mem(d.message, d.message_len, m->message, m->message_len,
		    "notify");
		break;
	}
	hq_wmsg_fini(&d);
	hq_buf_fini(&b);
}

static void
test_wire_wmsg_roundtrip(void **unused)
{
	struct hq_wmsg m;

	(void)unused;
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_HELLO;
	m.protocol_version = 2;
	m.version = hq_xstrdup("0.9");
	m.worker_id = 17;
	m.server_uid = hq_xstrdup("uid-1");
	full_wcfg(&m.cfg);
	m.held = full_held(&m.nheld);
	rt_wmsg(&m);
	hq_wmsg_fini(&m);
	m.kind = HQ_WMSG_HEARTBEAT;
	rt_wmsg(&m);
	m.kind = HQ_WMSG_STARTED;
	full_refs(&m.refs);
	m.nvariant = 3;
	m.variant = hq_xcalloc(3, sizeof *m.variant);
	m.variant[1] = 1;
	m.variant[2] = 2;
	rt_wmsg(&m);
	free(m.variant);
	m.variant = NULL;
	m.nvariant = 0; /* empty: all 0 */
	rt_wmsg(&m);
	hq_wmsg_fini(&m);
	m.kind = HQ_WMSG_FINISHED;
	full_refs(&m.refs);
	m.report_seq = 1ULL << 40;
	rt_wmsg(&m);
	hq_wmsg_fini(&m);
	m.kind = HQ_WMSG_FAILED;
	m.job = 5;
	m.task = 6;
	m.instance = 7;
	m.error = hq_xstrdup("Error: program terminated with exit code 1");
	m.report_seq = 99;
	rt_wmsg(&m);
	hq_wmsg_fini(&m);
	m.kind = HQ_WMSG_STOPPING;
	m.reason = HQ_LOST_TIME_LIMIT;
	rt_wmsg(&m);
	m.kind = HQ_WMSG_NOTIFY;
	m.job = 8;
	m.task = 9;
	m.message = hq_xmemdup("a\0b", 3);
	m.message_len = 3;
	rt_wmsg(&m);
	hq_wmsg_fini(&m);
}

static void
rt_vmsg(const struct hq_vmsg *m)
{
	struct hq_buf b;
	struct hq_vmsg d;
	struct hq_errbuf eb = { "" };
	uint32_t i;

	hq_buf_init(&b);
	assert_int_equal(hq_wire_encode_vmsg(m, &b), 0);
	keep(K_VMSG, &b);
	if (hq_wire_decode_vmsg(b.data, b.len, &d, &eb) != 0)
		fail_msg("decode: %s", eb.msg);
	assert_int_equal(d.kind, m->kind);
	switch (m->kind) {
	case HQ_VMSG_WELCOME:
		assert_int_equal(d.protocol_version, m->protocol_version);
		eq_str(d.version, m->version, "version");
		assert_int_equal(d.worker_id, m->worker_id);
		eq_str(d.server_uid, m->server_uid, "server_uid");
		eq_held(m->held, m->nheld, d.held, d.nheld);
		break;
	case HQ_VMSG_SPEC:
		assert_int_equal(d.job, m->job);
		assert_int_equal(d.desc, m->desc);
		eq_desc(&m->task, &d.task);
		eq_str(d.submit_dir, m->submit_dir, "submit_dir");
		eq_str(d.stream_dir, m->stream_dir, "stream_dir");
		eq_str(d.server_uid, m->server_uid, "server_uid");
		break;
	case HQ_VMSG_ASSIGN:
		eq_refs(&m->refs, &d.refs);
		eq_u32s(m->descs, m->refs.n, d.descs, d.refs.n);
		if (m->entries == NULL) {
			assert_null(d.entries);
			break;
		}
		assert_non_null(d.entries);
		for (i = 0; i < m->refs.n; i++)
			eq_str(d.entries[i], m->entries[i], "entry");
		assert_int_equal(d.nhosts, m->nhosts);
		assert_int_equal(d.secondary, m->secondary);
		for (i = 0; i < m->nhosts; i++)
			eq_str(d.hosts[i], m->hosts[i], "host");
		break;
	case HQ_VMSG_CANCEL:
		eq_refs(&m->refs, &d.refs);
		break;
	case HQ_VMSG_ACK:
		assert_int_equal(d.upto, m->upto);
		break;
	case HQ_VMSG_STOP:
		break;
	case HQ_VMSG_ERROR:
		eq_str(d.message, m->message, "message");
		break;
	}
	hq_vmsg_fini(&d);
	hq_buf_fini(&b);
}

static void
test_wire_vmsg_roundtrip(void **unused)
{
	struct hq_vmsg m;

	(void)unused;
	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_WELCOME;
	m.protocol_version = 2;
	m.version = hq_xstrdup("0.9");
	m.worker_id = 3;
	m.server_uid = hq_xstrdup("uid-2");
	m.held = full_held(&m.nheld);
	rt_vmsg(&m);
	hq_vmsg_fini(&m);
	m.kind = HQ_VMSG_SPEC;
	m.job = 11;
	m.desc = 2;
	full_desc(&m.task, 5);
	m.submit_dir = hq_xstrdup("/sub");
	m.stream_dir = hq_xstrdup("/stream");
	m.server_uid = hq_xstrdup("uid-3");
	rt_vmsg(&m);
	hq_vmsg_fini(&m);
	m.kind = HQ_VMSG_ASSIGN;
	full_refs(&m.refs);
	m.descs = hq_xcalloc(3, sizeof *m.descs);
	m.descs[1] = 1;
	m.descs[2] = 9;
	rt_vmsg(&m); /* without entries */
	m.entries = hq_xcalloc(3, sizeof *m.entries);
	m.entries[0] = hq_xstrdup("first");
	m.entries[2] = hq_xstrdup("third");
	rt_vmsg(&m); /* entry 1 has none */
	hq_vmsg_fini(&m);
	/* a multi-node task: one task and the hosts of its nodes */
	m.kind = HQ_VMSG_ASSIGN;
	hq_taskrefs_push(&m.refs, 4, 7, 1);
	m.descs = hq_xcalloc(1, sizeof *m.descs);
	m.entries = hq_xcalloc(1, sizeof *m.entries);
	m.entries[0] = hq_xstrdup("e");
	m.nhosts = 3;
	m.hosts = hq_xcalloc(3, sizeof *m.hosts);
	m.hosts[0] = hq_xstrdup("root.cluster");
	m.hosts[1] = hq_xstrdup("10.0.0.7");
	m.hosts[2] = hq_xstrdup("n3");
	rt_vmsg(&m);
	m.secondary = true;
	rt_vmsg(&m);
	hq_vmsg_fini(&m);
	m.kind = HQ_VMSG_CANCEL;
	full_refs(&m.refs);
	rt_vmsg(&m);
	hq_vmsg_fini(&m);
	m.kind = HQ_VMSG_ACK;
	m.upto = 123456789012ULL;
	rt_vmsg(&m);
	m.kind = HQ_VMSG_STOP;
	rt_vmsg(&m);
	m.kind = HQ_VMSG_ERROR;
	m.message = hq_xstrdup("protocol version mismatch");
	rt_vmsg(&m);
	hq_vmsg_fini(&m);
}

static void
rt_event(const struct hq_event *ev)
{
	struct hq_buf b;
	struct hq_event d;
	struct hq_errbuf eb = { "" };

	hq_buf_init(&b);
	assert_int_equal(hq_wire_encode_event(ev, &b), 0);
	keep(K_EVENT, &b);
	if (hq_wire_decode_event(b.data, b.len, &d, &eb) != 0)
		fail_msg("decode: %s", eb.msg);
	assert_int_equal(d.kind, ev->kind);
	assert_int_equal(d.time_ms, ev->time_ms);
	switch (ev->kind) {
	case HQ_EV_SERVER_STARTED:
		eq_str(d.u.started.server_uid, ev->u.started.server_uid, "uid");
		assert_int_equal(d.u.started.pid, ev->u.started.pid);
		eq_str(d.u.started.host, ev->u.started.host, "host");
		break;
	case HQ_EV_SERVER_STOPPED:
		break;
	case HQ_EV_JOB_SUBMITTED:
		assert_int_equal(d.u.submitted.job_id, ev->u.submitted.job_id);
		assert_int_equal(d.u.submitted.new_job,
		    ev->u.submitted.new_job);
		eq_str(d.u.submitted.name, ev->u.submitted.name, "name");
		assert_int_equal(d.u.submitted.has_max_fails,
		    ev->u.submitted.has_max_fails);
		assert_int_equal(d.u.submitted.max_fails,
		    ev->u.submitted.max_fails);
		eq_submit(&ev->u.submitted.submit, &d.u.submitted.submit);
		break;
	case HQ_EV_JOB_OPENED:
		assert_int_equal(d.u.opened.job_id, ev->u.opened.job_id);
		eq_str(d.u.opened.name, ev->u.opened.name, "name");
		assert_int_equal(d.u.opened.has_max_fails,
		    ev->u.opened.has_max_fails);
		assert_int_equal(d.u.opened.max_fails, ev->u.opened.max_fails);
		break;
	case HQ_EV_JOBS_CLOSED:
	case HQ_EV_JOBS_CANCELED:
	case HQ_EV_JOBS_FORGOTTEN:
		eq_u32s(ev->u.jobs.ids, ev->u.jobs.n, d.u.jobs.ids, d.u.jobs.n);
		eq_str(d.u.jobs.reason, ev->u.jobs.reason, "reason");
		break;
	case HQ_EV_TASK_RUN:
		assert_int_equal(d.u.run.kind, ev->u.run.kind);
		assert_int_equal(d.u.run.job, ev->u.run.job);
		assert_int_equal(d.u.run.worker, ev->u.run.worker);
		eq_u32s(ev->u.run.tasks, ev->u.run.n, d.u.run.tasks, d.u.run.n);
		eq_u32s(ev->u.run.nodes, ev->u.run.nnodes, d.u.run.nodes,
		    d.u.run.nnodes);
		break;
	case HQ_EV_TASK_FAILED:
		assert_int_equal(d.u.failed.job, ev->u.failed.job);
		assert_int_equal(d.u.failed.task, ev->u.failed.task);
		eq_str(d.u.failed.error, ev->u.failed.error, "error");
		break;
	case HQ_EV_WORKER_CONNECTED:
		assert_int_equal(d.u.wconn.worker_id, ev->u.wconn.worker_id);
		eq_wcfg(&ev->u.wconn.cfg, &d.u.wconn.cfg);
		break;
	case HQ_EV_WORKER_LOST:
		assert_int_equal(d.u.wlost.worker_id, ev->u.wlost.worker_id);
		assert_int_equal(d.u.wlost.reason, ev->u.wlost.reason);
		break;
	case HQ_EV_ALLOC:
		assert_int_equal(d.u.alloc.kind, ev->u.alloc.kind);
		assert_int_equal(d.u.alloc.queue_id, ev->u.alloc.queue_id);
		eq_str(d.u.alloc.allocation_id, ev->u.alloc.allocation_id,
		    "allocation id");
		assert_int_equal(d.u.alloc.worker_count,
		    ev->u.alloc.worker_count);
		eq_str(d.u.alloc.workdir, ev->u.alloc.workdir, "workdir");
		eq_str(d.u.alloc.message, ev->u.alloc.message, "message");
		assert_int_equal(d.u.alloc.end, ev->u.alloc.end);
		if (ev->u.alloc.kind == HQ_AEV_QUEUE_CREATED)
			eq_aparams(&ev->u.alloc.params, &d.u.alloc.params);
		break;
	}
	hq_event_fini(&d);
	hq_buf_fini(&b);
}

static uint32_t *
ids3(void)
{
	uint32_t *p = hq_xcalloc(3, sizeof *p);

	p[0] = 1;
	p[1] = 5;
	p[2] = 4000000000u;
	return p;
}

static void
test_wire_event_roundtrip(void **unused)
{
	struct hq_event ev;
	int k, r;

	(void)unused;
	memset(&ev, 0, sizeof ev);
	ev.time_ms = 1700000000999ULL;
	ev.kind = HQ_EV_SERVER_STARTED;
	ev.u.started.server_uid = hq_xstrdup("Xy12");
	ev.u.started.pid = 999;
	ev.u.started.host = hq_xstrdup("login1");
	rt_event(&ev);
	hq_event_fini(&ev);

	ev.time_ms = 5;
	ev.kind = HQ_EV_SERVER_STOPPED;
	rt_event(&ev);

	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = 6;
	ev.u.submitted.job_id = 77;
	ev.u.submitted.new_job = true;
	ev.u.submitted.name = hq_xstrdup("a job");
	ev.u.submitted.has_max_fails = true;
	ev.u.submitted.max_fails = 9;
	full_submit(&ev.u.submitted.submit, false);
	rt_event(&ev);
	hq_event_fini(&ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = 7;
	ev.u.submitted.job_id = 78;
	ev.u.submitted.name = hq_xstrdup("graph");
	full_submit(&ev.u.submitted.submit, true);
	rt_event(&ev);
	hq_event_fini(&ev);

	ev.kind = HQ_EV_JOB_OPENED;
	ev.time_ms = 8;
	ev.u.opened.job_id = 79;
	ev.u.opened.name = hq_xstrdup("opened");
	ev.u.opened.has_max_fails = true;
	ev.u.opened.max_fails = 1;
	rt_event(&ev);
	hq_event_fini(&ev);

	for (k = HQ_EV_JOBS_CLOSED; k <= HQ_EV_JOBS_FORGOTTEN; k++) {
		ev.kind = (enum hq_event_kind)k;
		ev.time_ms = 9;
		ev.u.jobs.n = 3;
		ev.u.jobs.ids = ids3();
		if (k == HQ_EV_JOBS_CANCELED)
			ev.u.jobs.reason = hq_xstrdup("user request");
		rt_event(&ev);
		hq_event_fini(&ev);
	}
	for (k = HQ_RUN_ASSIGNED; k <= HQ_RUN_REQUEUED; k++) {
		ev.kind = HQ_EV_TASK_RUN;
		ev.time_ms = 10;
		ev.u.run.kind = (enum hq_run_kind)k;
		ev.u.run.job = 3;
		ev.u.run.worker = 4;
		ev.u.run.n = ev.u.run.cap = 3;
		ev.u.run.tasks = ids3();
		rt_event(&ev);
		hq_event_fini(&ev);
	}
	/* a multi-node assignment names its nodes */
	ev.kind = HQ_EV_TASK_RUN;
	ev.u.run.kind = HQ_RUN_ASSIGNED;
	ev.u.run.job = 3;
	ev.u.run.worker = 4;
	ev.u.run.n = ev.u.run.cap = 1;
	ev.u.run.tasks = hq_xcalloc(1, sizeof *ev.u.run.tasks);
	ev.u.run.nnodes = 3;
	ev.u.run.nodes = ids3();
	ev.u.run.nodes[0] = 4;
	rt_event(&ev);
	hq_event_fini(&ev);
	ev.kind = HQ_EV_TASK_FAILED;
	ev.time_ms = 11;
	ev.u.failed.job = 3;
	ev.u.failed.task = 4;
	ev.u.failed.error = hq_xstrdup("Task was running on a lost worker");
	rt_event(&ev);
	hq_event_fini(&ev);

	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = 12;
	ev.u.wconn.worker_id = 33;
	full_wcfg(&ev.u.wconn.cfg);
	rt_event(&ev);
	hq_event_fini(&ev);

	for (r = HQ_LOST_NONE; r <= HQ_LOST_SERVER_RESTART; r++) {
		ev.kind = HQ_EV_WORKER_LOST;
		ev.time_ms = 13;
		ev.u.wlost.worker_id = 34;
		ev.u.wlost.reason = (enum hq_worker_lost_reason)r;
		rt_event(&ev);
	}
	/* Standalone submit encoding. */
	{
		struct hq_submit s, d;
		struct hq_buf b;
		struct hq_errbuf eb = { "" };

		full_submit(&s, true);
		hq_buf_init(&b);
		assert_int_equal(hq_wire_encode_submit(&s, &b), 0);
		assert_int_equal(hq_wire_decode_submit(b.data, b.len, &d, &eb),
		    0);
		eq_submit(&s, &d);
		hq_submit_fini(&s);
		hq_submit_fini(&d);
		hq_buf_fini(&b);
	}
}

/* ---- malformed input ----------------------------------------------------- */

static const char *const kind_names[] = { "cmsg", "smsg", "wmsg", "vmsg",
	"event" };

/* Every strict prefix of every encoding from the round trips fails. */
static void
test_wire_truncated(void **unused)
{
	uint32_t i;
	size_t len;
	uint64_t tried = 0;

	(void)unused;
	assert_true(ncorpus > 50);
	for (i = 0; i < ncorpus; i++) {
		const struct sample *s = &corpus[i];

		for (len = 0; len < s->len; len++) {
			struct hq_errbuf eb = { "" };
			/* An exact-size copy, so ASan sees any overread. */
			uint8_t *p = hq_xmemdup(s->p, len ? len : 1);
			int rc = decode_any(s->kind, p, len, &eb, false);

			if (rc == 0)
				fail_msg("%s sample %u: prefix of %zu of %zu "
					 "bytes decoded",
				    kind_names[s->kind], i, len, s->len);
			assert_true(eb.msg[0] != '\0');
			free(p);
			tried++;
		}
	}
	print_message("  %u encodings, %llu prefixes\n", ncorpus,
	    (unsigned long long)tried);
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 10,000 random inputs through every decoder. */
static void
test_wire_random_bytes(void **unused)
{
	uint64_t seed = 0x5eed;
	uint32_t i, ok = 0, len, k;
	int kind;

	(void)unused;
	for (i = 0; i < 10000; i++) {
		uint8_t *p;

		len = (uint32_t)(rnd(&seed) % 257);
		p = hq_xmalloc(len ? len : 1);
		for (k = 0; k < len; k++)
			p[k] = (uint8_t)rnd(&seed);
		/* Half start like a real message: a oneof tag and the
		 * length of the rest. */
		if (len > 1 && len < 130 && i % 2) {
			p[0] = (uint8_t)((1 + rnd(&seed) % 20) << 3 | 2);
			p[1] = (uint8_t)(len - 2);
		}
		for (kind = 0; kind < K__N; kind++) {
			struct hq_errbuf eb = { "" };

			if (decode_any((enum kind)kind, p, len, &eb, true) == 0)
				ok++;
			else
				assert_true(eb.msg[0] != '\0');
		}
		{
			struct hq_submit s;
			struct hq_errbuf eb = { "" };

			if (hq_wire_decode_submit(p, len, &s, &eb) == 0)
				hq_submit_fini(&s);
		}
		free(p);
	}
	print_message("  10000 random inputs x 5 decoders: %u decoded\n", ok);
}

/* Valid encodings with a few random bytes changed, dropped or added. */
static void
test_wire_mutated(void **unused)
{
	uint64_t seed = 77;
	uint32_t i, ok = 0, k, n;

	(void)unused;
	for (i = 0; i < 20000; i++) {
		const struct sample *s = &corpus[rnd(&seed) % ncorpus];
		size_t len = s->len + 8;
		uint8_t *p = hq_xmalloc(len);
		struct hq_errbuf eb = { "" };

		memcpy(p, s->p, s->len);
		len = s->len;
		n = 1 + (uint32_t)(rnd(&seed) % 4);
		for (k = 0; k < n && len > 0; k++) {
			size_t at = rnd(&seed) % len;

			switch (rnd(&seed) % 4) {
			case 0:
				p[at] ^= (uint8_t)(1u << (rnd(&seed) % 8));
				break;
			case 1:
				p[at] = (uint8_t)rnd(&seed);
				break;
			case 2:
				memmove(p + at, p + at + 1, len - at - 1);
				len--;
				break;
			default:
				p[at] = 0xff; /* huge varints, lengths */
				break;
			}
		}
		{
			uint8_t *exact = hq_xmemdup(p, len ? len : 1);

			if (decode_any(s->kind, exact, len, &eb, true) == 0)
				ok++;
			else
				assert_true(eb.msg[0] != '\0');
			free(exact);
		}
		free(p);
	}
	print_message("  20000 mutated encodings: %u still decoded\n", ok);
}

/* ---- a tiny protobuf writer for hand-made malformed messages ----------- */

struct pb {
	uint8_t b[512];
	size_t n;
};

static void
pb_varint(struct pb *p, uint64_t v)
{
	do {
		assert_true(p->n < sizeof p->b);
		p->b[p->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
}

static void
pb_uint(struct pb *p, uint32_t field, uint64_t v)
{
	pb_varint(p, (uint64_t)field << 3);
	pb_varint(p, v);
}

static void
pb_bytes(struct pb *p, uint32_t field, const void *d, size_t n)
{
	pb_varint(p, (uint64_t)field << 3 | 2);
	pb_varint(p, n);
	assert_true(p->n + n <= sizeof p->b);
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void
pb_msg(struct pb *p, uint32_t field, const struct pb *sub)
{
	pb_bytes(p, field, sub->b, sub->n);
}

/* Decode with 'kind'; must fail with 'want' and mention 'text'. */
static void
expect_bad(enum kind kind, const uint8_t *p, size_t len, int want,
    const char *text)
{
	struct hq_errbuf eb = { "" };
	int rc = decode_any(kind, p, len, &eb, false);

	if (rc != want)
		fail_msg("%s: rc %d (%s), want %d (%s)", text, rc,
		    hq_strerror(rc), want, hq_strerror(want));
	if (strstr(eb.msg, text) == NULL)
		fail_msg("message '%s' does not mention '%s'", eb.msg, text);
}

static void
expect_bad_buf(enum kind kind, const struct hq_buf *b, int want,
    const char *text)
{
	expect_bad(kind, b->data, b->len, want, text);
}

static void
test_wire_handmade_malformed(void **unused)
{
	struct pb sel = { .n = 0 }, wait = { .n = 0 }, msg = { .n = 0 };
	struct pb ent = { .n = 0 }, var = { .n = 0 }, desc = { .n = 0 };
	struct pb sub = { .n = 0 }, req = { .n = 0 }, refs = { .n = 0 };
	struct pb tf = { .n = 0 }, as = { .n = 0 };

	(void)unused;
	/* Selector kind 9. */
	pb_uint(&sel, 1, 9);
	pb_msg(&wait, 1, &sel);
	pb_msg(&msg, 6, &wait);
	expect_bad(K_CMSG, msg.b, msg.n, HQ_EPROTO, "selector kind");

	/* An argument with a NUL byte. */
	pb_bytes(&ent, 1, "cpus", 4);
	pb_uint(&ent, 2, ONE);
	pb_msg(&var, 4, &ent);
	pb_bytes(&desc, 1, "a\0b", 3);
	pb_msg(&desc, 7, &var);
	pb_msg(&sub, 2, &desc);
	pb_msg(&req, 5, &sub);
	msg.n = 0;
	pb_msg(&msg, 2, &req);
	expect_bad(K_CMSG, msg.b, msg.n, HQ_EPROTO, "NUL");

	/* Task references of unequal length (job has 2, task 1). */
	pb_uint(&refs, 1, 1);
	pb_uint(&refs, 1, 2);
	pb_uint(&refs, 2, 1);
	pb_uint(&refs, 3, 0);
	pb_msg(&tf, 1, &refs);
	msg.n = 0;
	pb_msg(&msg, 4, &tf);
	expect_bad(K_WMSG, msg.b, msg.n, HQ_EPROTO, "unequal length");

	/* Assign with 2 descs for 1 task. */
	refs.n = 0;
	pb_uint(&refs, 1, 1);
	pb_uint(&refs, 2, 1);
	pb_uint(&refs, 3, 0);
	pb_msg(&as, 1, &refs);
	pb_uint(&as, 2, 0);
	pb_uint(&as, 2, 0);
	msg.n = 0;
	pb_msg(&msg, 3, &as);
	expect_bad(K_VMSG, msg.b, msg.n, HQ_EPROTO, "assign list lengths");

	/* Only fields a decoder does not know, or none at all (1000: far
	 * above the field numbers in use). */
	msg.n = 0;
	pb_bytes(&msg, 1000, "zz", 2);
	expect_bad(K_CMSG, msg.b, msg.n, HQ_EPROTO, "empty");
	expect_bad(K_SMSG, msg.b, msg.n, HQ_EPROTO, "empty");
	expect_bad(K_WMSG, msg.b, msg.n, HQ_EPROTO, "empty");
	expect_bad(K_VMSG, msg.b, msg.n, HQ_EPROTO, "empty");
	expect_bad(K_EVENT, msg.b, msg.n, HQ_ECORRUPT, "unknown kind");
	msg.n = 0;
	pb_uint(&msg, 1, 12345); /* an event with a time and no kind */
	expect_bad(K_EVENT, msg.b, msg.n, HQ_ECORRUPT, "unknown kind");
	expect_bad(K_CMSG, msg.b, 0, HQ_EPROTO, "empty");
	/* A wrong wire type for a known field. */
	msg.n = 0;
	pb_uint(&msg, 6, 1);
	expect_bad(K_CMSG, msg.b, msg.n, HQ_EPROTO, "undecodable");
}

/* Encode a C value with an out-of-range enum (or another invalid part)
 * and check that the decoder refuses it. */
static void
test_wire_invalid_enums(void **unused)
{
	struct hq_buf b;
	struct hq_cmsg c;
	struct hq_wmsg w;
	struct hq_vmsg v;
	struct hq_event ev;

	(void)unused;
	hq_buf_init(&b);
	memset(&c, 0, sizeof c);

	/* Query and command kinds. */
	c.kind = HQ_CMSG_QUERY;
	c.sub = HQ_Q__COUNT;
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "unknown query");
	hq_buf_reset(&b);
	c.kind = HQ_CMSG_COMMAND;
	c.sub = 1000;
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "unknown command");

	/* Submit parts: policy, stdio kind, pin, empty names, no variant,
	 * graph desc index, array with two descs, bad id ranges. */
	c.kind = HQ_CMSG_SUBMIT;
	c.sub = 0;
	full_submit(&c.submit, false);
	c.submit.descs[0].req.v[0].e[1].policy = (enum hq_policy)6;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "policy");
	c.submit.descs[0].req.v[0].e[1].policy = HQ_POLICY_ALL;
	c.submit.descs[0].err.kind = (enum hq_stdio_kind)3;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "stdio");
	c.submit.descs[0].err.kind = HQ_STDIO_NONE;
	c.submit.descs[0].pin = (enum hq_pin)3;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "pin");
	c.submit.descs[0].pin = HQ_PIN_NONE;
	free(c.submit.descs[0].req.v[0].e[0].name);
	c.submit.descs[0].req.v[0].e[0].name = hq_xstrdup("");
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "without a name");
	hq_res_request_fini(&c.submit.descs[0].req);
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "no variant");
	hq_res_request_default(&c.submit.descs[0].req);
	c.submit.ids.r[1].count = 0;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "id range");
	c.submit.ids.r[1] = (struct hq_idrange){ UINT32_MAX - 5, 3, 4 };
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "id range");
	c.submit.ids.r[1] = (struct hq_idrange){ UINT32_MAX - 5, 3, 2 };
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	assert_int_equal(decode_any(K_CMSG, b.data, b.len, NULL, false), 0);
	hq_cmsg_fini(&c);

	c.kind = HQ_CMSG_SUBMIT;
	full_submit(&c.submit, true);
	c.submit.tasks[1].desc = 2;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "missing description");
	c.submit.tasks[1].desc = 1;
	c.submit.graph = false; /* two descs in an array submit */
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_cmsg(&c, &b), 0);
	expect_bad_buf(K_CMSG, &b, HQ_EPROTO, "exactly one description");
	hq_cmsg_fini(&c);

	/* Worker hello: pool kind, groups, held status; started variants. */
	memset(&w, 0, sizeof w);
	w.kind = HQ_WMSG_HELLO;
	full_wcfg(&w.cfg);
	w.cfg.res.pools[1].kind = (enum hq_pool_kind)4;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_wmsg(&w, &b), 0);
	expect_bad_buf(K_WMSG, &b, HQ_EPROTO, "resource pool");
	w.cfg.res.pools[1].kind = HQ_POOL_LIST;
	w.cfg.res.pools[0].group_start[1] = 7; /* beyond the labels */
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_wmsg(&w, &b), 0);
	expect_bad_buf(K_WMSG, &b, HQ_EPROTO, "groups");
	w.cfg.res.pools[0].group_start[1] = 4;
	w.held = full_held(&w.nheld);
	w.held[2].status = (enum hq_held_status)4;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_wmsg(&w, &b), 0);
	expect_bad_buf(K_WMSG, &b, HQ_EPROTO, "status");
	hq_wmsg_fini(&w);
	w.kind = HQ_WMSG_STARTED;
	full_refs(&w.refs);
	w.nvariant = 2;
	w.variant = hq_xcalloc(2, sizeof *w.variant);
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_wmsg(&w, &b), 0);
	expect_bad_buf(K_WMSG, &b, HQ_EPROTO, "variant");
	hq_wmsg_fini(&w);

	/* Welcome with a bad held status. */
	memset(&v, 0, sizeof v);
	v.kind = HQ_VMSG_WELCOME;
	v.held = full_held(&v.nheld);
	v.held[0].status = (enum hq_held_status)77;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_vmsg(&v, &b), 0);
	expect_bad_buf(K_VMSG, &b, HQ_EPROTO, "status");
	hq_vmsg_fini(&v);

	/* Journal events: run kind, lost reason, a bad submit inside. */
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.u.run.kind = (enum hq_run_kind)4;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_event(&ev, &b), 0);
	expect_bad_buf(K_EVENT, &b, HQ_ECORRUPT, "run kind");
	ev.u.run.kind = HQ_RUN_STARTED;
	ev.u.run.n = 1;
	ev.u.run.tasks = hq_xcalloc(1, sizeof *ev.u.run.tasks);
	ev.u.run.nnodes = 2;
	ev.u.run.nodes = ids3();
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_event(&ev, &b), 0);
	expect_bad_buf(K_EVENT, &b, HQ_ECORRUPT, "nodes");
	hq_event_fini(&ev);
	ev.kind = HQ_EV_WORKER_LOST;
	ev.u.wlost.reason = (enum hq_worker_lost_reason)7;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_event(&ev, &b), 0);
	expect_bad_buf(K_EVENT, &b, HQ_ECORRUPT, "lost reason");
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	full_submit(&ev.u.submitted.submit, false);
	ev.u.submitted.submit.descs[0].pin = (enum hq_pin)42;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_event(&ev, &b), 0);
	expect_bad_buf(K_EVENT, &b, HQ_ECORRUPT, "pin");
	hq_event_fini(&ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	full_wcfg(&ev.u.wconn.cfg);
	free(ev.u.wconn.cfg.res.pools[2].name);
	ev.u.wconn.cfg.res.pools[2].name = hq_xstrdup("");
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_event(&ev, &b), 0);
	expect_bad_buf(K_EVENT, &b, HQ_ECORRUPT, "resource pool");
	hq_event_fini(&ev);
	ev.kind = (enum hq_event_kind)0;
	assert_int_equal(hq_wire_encode_event(&ev, &b), HQ_EINVAL);
	hq_buf_fini(&b);
}

/*
 * Values the decoders accept although they are out of range: pinned here
 * so that a change is noticed. A log line level beyond ERROR is clamped
 * to ERROR; a worker's stopping reason is passed through unchecked (the
 * server clamps it in workers.c).
 */
static void
test_wire_lenient_values(void **unused)
{
	struct hq_buf b;
	struct hq_smsg s, sd;
	struct hq_wmsg w, wd;
	struct hq_errbuf eb = { "" };

	(void)unused;
	hq_buf_init(&b);
	memset(&s, 0, sizeof s);
	s.kind = HQ_SMSG_COMMAND;
	hq_smsg_add_line(&s, HQ_LINE_INFO, "x");
	s.lines[0].level = (enum hq_logline_level)9;
	assert_int_equal(hq_wire_encode_smsg(&s, &b), 0);
	assert_int_equal(hq_wire_decode_smsg(b.data, b.len, &sd, &eb), 0);
	assert_int_equal(sd.lines[0].level, HQ_LINE_ERROR);
	hq_smsg_fini(&sd);
	hq_smsg_fini(&s);

	memset(&w, 0, sizeof w);
	w.kind = HQ_WMSG_STOPPING;
	w.reason = 1000;
	hq_buf_reset(&b);
	assert_int_equal(hq_wire_encode_wmsg(&w, &b), 0);
	assert_int_equal(hq_wire_decode_wmsg(b.data, b.len, &wd, &eb), 0);
	assert_int_equal(wd.reason, 1000);
	hq_wmsg_fini(&wd);
	hq_buf_fini(&b);
}

static int
teardown_corpus(void **unused)
{
	uint32_t i;

	(void)unused;
	for (i = 0; i < ncorpus; i++)
		free(corpus[i].p);
	free(corpus);
	corpus = NULL;
	ncorpus = corpus_cap = 0;
	return 0;
}

/* Allocation queue parameters with every field set. */
static void
aparams_full(struct hq_alloc_params *p)
{
	memset(p, 0, sizeof *p);
	p->manager = HQ_MANAGER_SLURM;
	p->backlog = 3;
	p->max_workers_per_alloc = 4;
	p->max_worker_count = 12;
	p->time_limit_ms = 3600000;
	p->worker_time_limit_ms = 1800000;
	p->idle_timeout_ms = 15000;
	p->name = hq_xstrdup("gpu queue");
	p->nworker_args = 2;
	p->worker_args = hq_xcalloc(2, sizeof *p->worker_args);
	p->worker_args[0] = hq_xstrdup("--cpus");
	p->worker_args[1] = hq_xstrdup("\"4\"");
	p->nadditional_args = 2;
	p->additional_args = hq_xcalloc(2, sizeof *p->additional_args);
	p->additional_args[0] = hq_xstrdup("-p");
	p->additional_args[1] = hq_xstrdup("debug");
	p->start_cmd = hq_xstrdup("module load x");
	p->stop_cmd = hq_xstrdup("echo done");
	p->wrap_cmd = hq_xstrdup("podman run img");
	p->cpus = hq_xstrdup("4");
	p->nresources = 1;
	p->resources = hq_xcalloc(1, sizeof *p->resources);
	p->resources[0] = hq_xstrdup("gpus=[0,1]");
	p->min_utilization = 5000;
}

static void
test_wire_alloc_roundtrip(void **unused)
{
	struct hq_cmsg m;
	struct hq_event ev;
	int k;

	(void)unused;
	for (k = 0; k < HQ_AREQ__COUNT; k++) {
		memset(&m, 0, sizeof m);
		m.kind = HQ_CMSG_ALLOC;
		m.sub = k;
		m.queue_id = 7;
		m.force = k == HQ_AREQ_REMOVE;
		m.no_dry_run = k == HQ_AREQ_ADD;
		if (k <= HQ_AREQ_DRY_RUN)
			aparams_full(&m.aparams);
		else
			m.aparams.manager = HQ_MANAGER_PBS;
		rt_cmsg(&m);
		hq_cmsg_fini(&m);
	}
	for (k = HQ_AEV_QUEUE_CREATED; k <= HQ_AEV_FINISHED; k++) {
		memset(&ev, 0, sizeof ev);
		ev.kind = HQ_EV_ALLOC;
		ev.time_ms = 1700000000000ull + (uint64_t)k;
		ev.u.alloc.kind = (enum hq_alloc_ev_kind)k;
		ev.u.alloc.queue_id = 2;
		if (k == HQ_AEV_QUEUE_CREATED)
			aparams_full(&ev.u.alloc.params);
		if (k >= HQ_AEV_SUBMITTED && k != HQ_AEV_SUBMIT_FAILED)
			ev.u.alloc.allocation_id = hq_xstrdup("1234.pbs01");
		if (k == HQ_AEV_SUBMITTED) {
			ev.u.alloc.worker_count = 3;
			ev.u.alloc.workdir =
			    hq_xstrdup("/srv/hq/001/autoalloc");
		}
		if (k == HQ_AEV_SUBMIT_FAILED || k == HQ_AEV_QUEUE_PAUSED)
			ev.u.alloc.message = hq_xstrdup("sbatch: error: x");
		if (k == HQ_AEV_FINISHED)
			ev.u.alloc.end = HQ_ALLOC_END_CANCELED;
		rt_event(&ev);
		hq_event_fini(&ev);
	}
}

int
main(void)
{
	/* The round trips fill the corpus the later tests use: keep order. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_cmsg_roundtrip),
		cmocka_unit_test(test_wire_smsg_roundtrip),
		cmocka_unit_test(test_wire_wmsg_roundtrip),
		cmocka_unit_test(test_wire_vmsg_roundtrip),
		cmocka_unit_test(test_wire_event_roundtrip),
		cmocka_unit_test(test_wire_truncated),
		cmocka_unit_test(test_wire_random_bytes),
		cmocka_unit_test(test_wire_mutated),
		cmocka_unit_test(test_wire_handmade_malformed),
		cmocka_unit_test(test_wire_invalid_enums),
		cmocka_unit_test(test_wire_lenient_values),
		cmocka_unit_test(test_wire_alloc_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_corpus);
}
