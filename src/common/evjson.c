/* SPDX-License-Identifier: MIT */
/* Journal events as spec 3.4 NDJSON lines. */
#include "common/evjson.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fmt.h"
#include "common/model.h"
#include "server/state.h"

static json_t *
evjson_duration(uint64_t ms)
{
	return json_pack("{s:I, s:I}", "secs", (json_int_t)(ms / 1000), "nanos",
	    (json_int_t)(ms % 1000) * 1000000);
}

static json_t *
evjson_time(uint64_t ms)
{
	struct hq_buf b;
	json_t *j;

	hq_buf_init(&b);
	hq_fmt_rfc3339(&b, ms);
	j = json_stringn((const char *)b.data, b.len);
	hq_buf_fini(&b);
	return j;
}

/* A string that may be NULL; jansson refuses invalid UTF-8, so fall back
 * to a lossy copy rather than losing the whole line. */
static json_t *
evjson_str(const char *s)
{
	json_t *j;
	char *copy;
	size_t i;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	copy = hq_xstrdup(s);
	for (i = 0; copy[i] != '\0'; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *
evjson_crash_limit(int32_t c)
{
	if (c == HQ_CRASH_NEVER_RESTART)
		return json_string("NeverRestart");
	if (c == HQ_CRASH_UNLIMITED || c < 0)
		return json_string("Unlimited");
	return json_pack("{s:I}", "MaxCrashes", (json_int_t)c);
}

static json_t *
evjson_idset(const struct hq_idset *s)
{
	json_t *ranges = json_array();
	uint32_t i;

	for (i = 0; i < s->n; i++)
		json_array_append_new(ranges,
		    json_pack("{s:I, s:I, s:I}", "start",
			(json_int_t)s->r[i].start, "count",
			(json_int_t)s->r[i].count, "step",
			(json_int_t)s->r[i].step));
	return json_pack("{s:o}", "ranges", ranges);
}

static json_t *
evjson_policy(const struct hq_res_entry *e)
{
	static const char *const names[] = {
		[HQ_POLICY_COMPACT] = "Compact",
		[HQ_POLICY_FORCE_COMPACT] = "ForceCompact",
		[HQ_POLICY_TIGHT] = "Tight",
		[HQ_POLICY_FORCE_TIGHT] = "ForceTight",
		[HQ_POLICY_SCATTER] = "Scatter",
	};

	if (e->policy == HQ_POLICY_ALL ||
	    (unsigned)e->policy >= HQ_ARRAY_LEN(names))
		return json_string("All");
	return json_pack("{s:I}", names[e->policy], (json_int_t)e->amount);
}

static json_t *
evjson_request(const struct hq_res_request *r)
{
	json_t *variants = json_array();
	uint32_t i, k;

	for (i = 0; i < r->n; i++) {
		const struct hq_res_variant *v = &r->v[i];
		json_t *entries = json_array();

		for (k = 0; k < v->n; k++)
			json_array_append_new(entries,
			    json_pack("{s:o, s:o}", "resource",
				evjson_str(v->e[k].name), "policy",
				evjson_policy(&v->e[k])));
		json_array_append_new(variants,
		    json_pack("{s:I, s:o, s:o, s:I}", "n_nodes",
			(json_int_t)v->n_nodes, "resources", entries,
			"min_time", evjson_duration(v->min_time_ms), "weight",
			(json_int_t)v->weight));
	}
	return json_pack("{s:o}", "variants", variants);
}

static json_t *
evjson_submit_desc(const struct hq_submit *s)
{
	json_t *td;

	if (s->graph || s->ndescs == 0) {
		td = json_pack("{s:I}", "n_tasks",
		    (json_int_t)(s->graph ? s->ntasks : 0));
	} else {
		const struct hq_task_desc *d = &s->descs[0];

		td = json_pack("{s:o, s:o, s:o, s:I, s:o}", "ids",
		    evjson_idset(&s->ids), "resources", evjson_request(&d->req),
		    "time_limit",
		    d->time_limit_ms ? evjson_duration(d->time_limit_ms)
				     : json_null(),
		    "priority", (json_int_t)d->priority, "crash_limit",
		    evjson_crash_limit(d->crash_limit));
	}
	return json_pack("{s:o, s:o, s:o}", "submit_dir",
	    evjson_str(s->submit_dir), "stream_path", evjson_str(s->stream_dir),
	    "task_desc", td);
}

static json_t *
evjson_max_fails(bool has, uint32_t n)
{
	return has ? json_integer(n) : json_null();
}

static json_t *
evjson_submitted(const struct hq_event *ev, const struct hq_state *st)
{
	const char *name = ev->u.submitted.name;
	const struct hq_job *job;
	bool has_mf = ev->u.submitted.has_max_fails;
	uint32_t mf = ev->u.submitted.max_fails;

	/* A submit into an open job may not repeat the job's description. */
	if (!ev->u.submitted.new_job && st != NULL &&
	    (job = hq_state_job(st, ev->u.submitted.job_id)) != NULL) {
		if (name == NULL || *name == '\0')
			name = job->name;
		if (!has_mf) {
			has_mf = job->has_max_fails;
			mf = job->max_fails;
		}
	}
	return json_pack("{s:s, s:I, s:b, s:{s:o, s:o}, s:o}", "type",
	    "job-created", "job", (json_int_t)ev->u.submitted.job_id,
	    "closed_job", ev->u.submitted.new_job, "job_desc", "name",
	    evjson_str(name ? name : ""), "max_fails",
	    evjson_max_fails(has_mf, mf), "submit_desc",
	    evjson_submit_desc(&ev->u.submitted.submit));
}

static json_t *
evjson_run(const struct hq_event *ev, const struct hq_state *st, uint32_t line)
{
	uint32_t job_id = ev->u.run.job, task_id = ev->u.run.tasks[line];
	const struct hq_task *t = NULL;
	const struct hq_job *job = NULL;
	uint32_t nn = 0;
	json_t *o;
	int64_t idx = -1;

	o = json_pack("{s:s, s:I, s:I}", "type", hq_event_kind_name(ev), "job",
	    (json_int_t)job_id, "task", (json_int_t)task_id);
	if (ev->u.run.kind != HQ_RUN_ASSIGNED &&
	    ev->u.run.kind != HQ_RUN_STARTED)
		return o;
	if (st != NULL && (job = hq_state_job(st, job_id)) != NULL &&
	    (idx = hq_job_task_index(job, task_id)) >= 0)
		t = &job->tasks[idx];
	if (t != NULL && (t->flags & HQ_TF_INSTANCED))
		json_object_set_new(o, "instance", json_integer(t->instance));
	if (ev->u.run.nnodes > 0 ||
	    (ev->u.run.kind == HQ_RUN_STARTED && t != NULL &&
		hq_job_task_nodes(job, (uint32_t)idx, &nn) != NULL)) {
		const uint32_t *nodes = ev->u.run.nnodes > 0
		    ? ev->u.run.nodes
		    : hq_job_task_nodes(job, (uint32_t)idx, &nn);
		json_t *arr = json_array();
		uint32_t k;

		if (ev->u.run.nnodes > 0)
			nn = ev->u.run.nnodes;
		for (k = 0; k < nn; k++)
			json_array_append_new(arr, json_integer(nodes[k]));
		json_object_set_new(o, "workers", arr);
	} else {
		json_object_set_new(o, "worker",
		    json_integer(ev->u.run.worker));
	}
	if (ev->u.run.kind == HQ_RUN_ASSIGNED && ev->u.run.variants != NULL &&
	    ev->u.run.variants[line] > 0)
		json_object_set_new(o, "variant",
		    json_integer(ev->u.run.variants[line]));
	else if (ev->u.run.kind == HQ_RUN_STARTED && t != NULL &&
	    t->variant > 0)
		json_object_set_new(o, "variant", json_integer(t->variant));
	return o;
}

static json_t *
evjson_jobs(const struct hq_event *ev, uint32_t line)
{
	json_t *o = json_pack("{s:s, s:I}", "type", hq_event_kind_name(ev),
	    "job_id", (json_int_t)ev->u.jobs.ids[line]);

	if (ev->kind == HQ_EV_JOBS_CANCELED)
		json_object_set_new(o, "reason", evjson_str(ev->u.jobs.reason));
	return o;
}

/* The display form the worker sent (spec 3.2 "configuration"); rebuilt
 * from the fields when it is missing or not JSON. */
static json_t *
evjson_wconfig(const struct hq_worker_config *c)
{
	json_error_t jerr;
	json_t *o = NULL;

	if (c->config_json != NULL && *c->config_json != '\0')
		o = json_loads(c->config_json, 0, &jerr);
	if (o != NULL && json_is_object(o))
		return o;
	json_decref(o);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "hostname",
	    evjson_str(c->hostname ? c->hostname : ""), "group",
	    evjson_str(c->group ? c->group : ""), "work_dir",
	    evjson_str(c->work_dir ? c->work_dir : ""), "heartbeat_interval",
	    evjson_duration(c->heartbeat_ms), "idle_timeout",
	    c->idle_timeout_ms ? evjson_duration(c->idle_timeout_ms)
			       : json_null(),
	    "time_limit",
	    c->time_limit_ms ? evjson_duration(c->time_limit_ms) : json_null(),
	    "_pid", (json_int_t)c->pid);
}

static json_t *
evjson_strv(char *const *v, uint32_t n)
{
	json_t *a = json_array();
	uint32_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, evjson_str(v[i]));
	return a;
}

/* Automatic allocation events: "queue-id" and the fields of each kind. */
static json_t *
evjson_alloc(const struct hq_event *ev)
{
	const struct hq_alloc_params *p = &ev->u.alloc.params;
	json_t *e = json_pack("{s:s, s:I}", "type",
	    hq_alloc_ev_kind_name(ev->u.alloc.kind), "queue-id",
	    (json_int_t)ev->u.alloc.queue_id);

	switch (ev->u.alloc.kind) {
	case HQ_AEV_QUEUE_CREATED:
		json_object_set_new(e, "params",
		    json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
			"manager", hq_manager_name(p->manager), "backlog",
			(json_int_t)p->backlog, "max_workers_per_alloc",
			(json_int_t)p->max_workers_per_alloc,
			"max_worker_count",
			p->max_worker_count ? json_integer(p->max_worker_count)
					    : json_null(),
			"timelimit", evjson_duration(p->time_limit_ms),
			"idle_timeout", evjson_duration(p->idle_timeout_ms),
			"name", evjson_str(p->name), "worker_args",
			evjson_strv(p->worker_args, p->nworker_args),
			"additional_args",
			evjson_strv(p->additional_args, p->nadditional_args)));
		break;
	case HQ_AEV_QUEUE_PAUSED:
	case HQ_AEV_SUBMIT_FAILED:
		json_object_set_new(e, "message",
		    evjson_str(ev->u.alloc.message));
		break;
	case HQ_AEV_SUBMITTED:
		json_object_set_new(e, "allocation-id",
		    evjson_str(ev->u.alloc.allocation_id));
		json_object_set_new(e, "worker-count",
		    json_integer(ev->u.alloc.worker_count));
		break;
	case HQ_AEV_STARTED:
		json_object_set_new(e, "allocation-id",
		    evjson_str(ev->u.alloc.allocation_id));
		break;
	case HQ_AEV_FINISHED:
		json_object_set_new(e, "allocation-id",
		    evjson_str(ev->u.alloc.allocation_id));
		json_object_set_new(e, "failed",
		    json_boolean(ev->u.alloc.end == HQ_ALLOC_END_FAILED));
		break;
	case HQ_AEV_QUEUE_REMOVED:
	case HQ_AEV_QUEUE_RESUMED:
		break;
	}
	return e;
}

uint32_t
hq_event_json_nlines(const struct hq_event *ev)
{
	switch (ev->kind) {
	case HQ_EV_TASK_RUN:
		return ev->u.run.tasks != NULL ? ev->u.run.n : 0;
	case HQ_EV_JOBS_CLOSED:
	case HQ_EV_JOBS_CANCELED:
	case HQ_EV_JOBS_FORGOTTEN:
		return ev->u.jobs.ids != NULL ? ev->u.jobs.n : 0;
	case HQ_EV_SERVER_STARTED:
	case HQ_EV_SERVER_STOPPED:
	case HQ_EV_JOB_SUBMITTED:
	case HQ_EV_JOB_OPENED:
	case HQ_EV_TASK_FAILED:
	case HQ_EV_WORKER_CONNECTED:
	case HQ_EV_WORKER_LOST:
	case HQ_EV_ALLOC:
		return 1;
	}
	return 0;
}

json_t *
hq_event_to_json(const struct hq_event *ev, uint64_t seq,
    const struct hq_state *st, uint32_t line)
{
	json_t *e = NULL;

	if (line >= hq_event_json_nlines(ev))
		return NULL;
	switch (ev->kind) {
	case HQ_EV_SERVER_STARTED:
		e = json_pack("{s:s, s:o}", "type", "server-start",
		    "server_uid", evjson_str(ev->u.started.server_uid));
		break;
	case HQ_EV_SERVER_STOPPED:
		e = json_pack("{s:s}", "type", "server-stop");
		break;
	case HQ_EV_JOB_SUBMITTED:
		e = evjson_submitted(ev, st);
		break;
	case HQ_EV_JOB_OPENED:
		e = json_pack("{s:s, s:I, s:o, s:o}", "type", "job-open",
		    "job_id", (json_int_t)ev->u.opened.job_id, "name",
		    evjson_str(ev->u.opened.name ? ev->u.opened.name : ""),
		    "max_fails",
		    evjson_max_fails(ev->u.opened.has_max_fails,
			ev->u.opened.max_fails));
		break;
	case HQ_EV_JOBS_CLOSED:
	case HQ_EV_JOBS_CANCELED:
	case HQ_EV_JOBS_FORGOTTEN:
		e = evjson_jobs(ev, line);
		break;
	case HQ_EV_TASK_RUN:
		e = evjson_run(ev, st, line);
		break;
	case HQ_EV_TASK_FAILED:
		e = json_pack("{s:s, s:I, s:I, s:o}", "type", "task-failed",
		    "job", (json_int_t)ev->u.failed.job, "task",
		    (json_int_t)ev->u.failed.task, "error",
		    evjson_str(ev->u.failed.error ? ev->u.failed.error : ""));
		break;
	case HQ_EV_WORKER_CONNECTED:
		e = json_pack("{s:s, s:I, s:o}", "type", "worker-connected",
		    "id", (json_int_t)ev->u.wconn.worker_id, "configuration",
		    evjson_wconfig(&ev->u.wconn.cfg));
		break;
	case HQ_EV_WORKER_LOST:
		e = json_pack("{s:s, s:I, s:s}", "type", "worker-lost", "id",
		    (json_int_t)ev->u.wlost.worker_id, "reason",
		    hq_lost_reason_name(ev->u.wlost.reason));
		break;
	case HQ_EV_ALLOC:
		e = evjson_alloc(ev);
		break;
	}
	HQ_ASSERT(e != NULL);
	return json_pack("{s:I, s:o, s:o}", "seq", (json_int_t)seq, "time",
	    evjson_time(ev->time_ms), "event", e);
}

int
hq_events_to_ndjson(const struct hq_event *ev, uint64_t seq,
    const struct hq_state *st, FILE *out)
{
	uint32_t i, n = hq_event_json_nlines(ev);
	json_t *o;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		o = hq_event_to_json(ev, seq, st, i);
		errno = 0;
		if (json_dumpf(o, out, HQ_EVJSON_DUMP_FLAGS) != 0 ||
		    fputc('\n', out) == EOF)
			rc = errno ? -errno : -EIO;
		json_decref(o);
	}
	return rc;
}
