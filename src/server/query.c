/* SPDX-License-Identifier: MIT */
/*
 * Read-only views of the state as JSON, in the shapes of spec 3.2. The
 * client prints them as they are in JSON mode and renders its tables from
 * them in CLI mode, so both modes show the same data. Keys starting with
 * '_' are extra detail for the CLI and are stripped before JSON output.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/fmt.h"
#include "common/log.h"
#include "common/resource.h"
#include "common/taskpath.h"
#include "common/version.h"
#include "server/server.h"

static json_t *
json_time(uint64_t ms)
{
	struct hq_buf b;
	json_t *j;

	if (ms == 0)
		return json_null();
	hq_buf_init(&b);
	hq_fmt_rfc3339(&b, ms);
	j = json_stringn((const char *)b.data, b.len);
	hq_buf_fini(&b);
	return j;
}

static json_t *
json_secs(uint64_t ms)
{
	return json_real(hq_ms_to_secs(ms));
}

json_t *
query_server_info(struct server *s)
{
	return json_pack("{s:n, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:s, s:o}",
	    "server_dir", "server_uid", s->access.server_uid, "worker_host",
	    s->access.worker.host, "client_host", s->access.client.host,
	    "client_port", (json_int_t)s->access.client.port, "worker_port",
	    (json_int_t)s->access.worker.port, "pid", (json_int_t)getpid(),
	    "start_date", json_time(s->start_ms), "version", HQ_VERSION,
	    "journal_path",
	    s->opts.journal_path ? json_string(s->opts.journal_path)
				 : json_null());
}

/* ---- jobs ---------------------------------------------------------------- */

static json_t *
job_info_json(const struct hq_job *job)
{
	json_t *stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "running",
	    (json_int_t)job->counts[HQ_TASK_RUNNING], "finished",
	    (json_int_t)job->counts[HQ_TASK_FINISHED], "failed",
	    (json_int_t)job->counts[HQ_TASK_FAILED], "canceled",
	    (json_int_t)job->counts[HQ_TASK_CANCELED], "aborted",
	    (json_int_t)job->counts[HQ_TASK_ABORTED], "waiting",
	    (json_int_t)job->counts[HQ_TASK_WAITING]);

	return json_pack("{s:I, s:s, s:I, s:b, s:o, s:o, s:s}", "id",
	    (json_int_t)job->id, "name", job->name, "task_count",
	    (json_int_t)job->ntasks, "is_open", job->is_open, "task_stats",
	    stats, "cancel_reason",
	    job->cancel_reason ? json_string(job->cancel_reason) : json_null(),
	    "_state", hq_job_state_name(hq_job_state(job)));
}

json_t *
query_job_list(struct server *s)
{
	json_t *arr = json_array();
	uint32_t i;

	for (i = 1; i < s->st->next_job_id; i++) {
		struct hq_job *job = hq_state_job(s->st, i);

		if (job != NULL)
			json_array_append_new(arr, job_info_json(job));
	}
	return arr;
}

json_t *
query_job_summary(struct server *s)
{
	uint32_t counts[7] = { 0 }, i;
	json_t *o;

	for (i = 1; i < s->st->next_job_id; i++) {
		struct hq_job *job = hq_state_job(s->st, i);

		if (job != NULL)
			counts[hq_job_state(job)]++;
	}
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "Running",
	    (json_int_t)counts[HQ_JOB_RUNNING], "Waiting",
	    (json_int_t)counts[HQ_JOB_WAITING], "Finished",
	    (json_int_t)counts[HQ_JOB_FINISHED], "Failed",
	    (json_int_t)counts[HQ_JOB_FAILED], "Aborted",
	    (json_int_t)counts[HQ_JOB_ABORTED], "Canceled",
	    (json_int_t)counts[HQ_JOB_CANCELED]);
	if (counts[HQ_JOB_OPENED] > 0)
		json_object_set_new(o, "Opened",
		    json_integer(counts[HQ_JOB_OPENED]));
	return o;
}

static json_t *
request_json(const struct hq_res_request *r)
{
	static const char *const policy[] = { "Compact", "ForceCompact",
		"Tight", "ForceTight", "Scatter" };
	json_t *arr = json_array();
	uint32_t i, j;

	for (i = 0; i < r->n; i++) {
		const struct hq_res_variant *v = &r->v[i];
		json_t *entries = json_array();

		for (j = 0; j < v->n; j++) {
			json_t *req;

			if (v->e[j].policy == HQ_POLICY_ALL)
				req = json_string("All");
			else
				req = json_pack("{s:I}", policy[v->e[j].policy],
				    (json_int_t)v->e[j].amount);
			json_array_append_new(entries,
			    json_pack("{s:s, s:o}", "resource", v->e[j].name,
				"request", req));
		}
		json_array_append_new(arr,
		    json_pack("{s:I, s:o, s:o, s:I}", "n_nodes",
			(json_int_t)v->n_nodes, "resources", entries,
			"min_time", json_secs(v->min_time_ms), "weight",
			(json_int_t)v->weight));
	}
	return arr;
}

static json_t *
stdio_json(const struct hq_stdio *io, const char *path)
{
	if (io->kind == HQ_STDIO_NONE)
		return json_null();
	if (io->kind == HQ_STDIO_STREAM)
		return json_string("<pipe>");
	return json_string(path ? path : "");
}

static json_t *
crash_limit_json(int32_t c)
{
	if (c == HQ_CRASH_NEVER_RESTART)
		return json_string("never-restart");
	if (c == HQ_CRASH_UNLIMITED)
		return json_string("unlimited");
	return json_integer(c);
}

static json_t *
desc_json(const struct hq_task_desc *d)
{
	json_t *args = json_array(), *env = json_object(), *prog;
	static const char *const pins[] = { NULL, "taskset", "openmp" };
	uint32_t i;

	for (i = 0; i < d->argc; i++)
		json_array_append_new(args, json_string(d->argv[i]));
	for (i = 0; i < d->nenv; i++)
		json_object_set_new(env, d->env[i].key,
		    json_string(d->env[i].value));
	prog = json_pack("{s:o, s:o, s:s, s:o, s:o}", "args", args, "env", env,
	    "cwd", d->cwd ? d->cwd : "", "stdout",
	    stdio_json(&d->out, d->out.path ? d->out.path : HQ_DEFAULT_STDOUT),
	    "stderr",
	    stdio_json(&d->err, d->err.path ? d->err.path : HQ_DEFAULT_STDERR));
	return json_pack("{s:o, s:o, s:o, s:I, s:o, s:b, s:o}", "program", prog,
	    "resources", request_json(&d->req), "pin_mode",
	    pins[d->pin] ? json_string(pins[d->pin]) : json_null(), "priority",
	    (json_int_t)d->priority, "time_limit",
	    d->time_limit_ms ? json_secs(d->time_limit_ms) : json_null(),
	    "task_dir", d->task_dir, "crash_limit",
	    crash_limit_json(d->crash_limit));
}

static json_t *
submit_json(const struct hq_jsubmit *js)
{
	json_t *arr;
	uint32_t i, k;

	if (!js->s.graph)
		return json_pack("{s:o}", "array", desc_json(&js->s.descs[0]));
	arr = json_array();
	for (i = 0; i < js->s.ntasks; i++) {
		json_t *d = desc_json(&js->s.descs[js->s.tasks[i].desc]);
		json_t *deps = json_array();

		for (k = 0; k < js->s.tasks[i].ndeps; k++)
			json_array_append_new(deps,
			    json_integer(js->s.tasks[i].deps[k]));
		json_object_set_new(d, "id", json_integer(js->s.tasks[i].id));
		json_object_set_new(d, "dependencies", deps);
		json_array_append_new(arr, d);
	}
	return json_pack("{s:o}", "graph", arr);
}

/* A multi-node task: "workers" (spec 3.2) and the hostnames, root first. */
static void
multinode_json(struct server *s, const struct hq_job *job, uint32_t idx,
    json_t *o, bool times)
{
	const uint32_t *nodes;
	uint32_t n, i;
	json_t *ids = json_array();
	struct hq_buf hosts;

	nodes = hq_job_task_nodes(job, idx, &n);
	hq_buf_init(&hosts);
	for (i = 0; i < n; i++) {
		const struct hq_sworker *w = hq_state_worker(s->st, nodes[i]);

		json_array_append_new(ids, json_integer(nodes[i]));
		if (i > 0)
			hq_buf_append_str(&hosts, ",");
		hq_buf_append_str(&hosts,
		    w != NULL && w->cfg.hostname ? w->cfg.hostname : "?");
	}
	if (times) {
		json_object_set_new(o, "started_at",
		    json_time(job->tasks[idx].start_ms));
		json_object_set_new(o, "workers", ids);
	} else {
		json_decref(ids);
	}
	json_object_set_new(o, "_worker_host",
	    json_stringn(hosts.len ? (char *)hosts.data : "", hosts.len));
	hq_buf_fini(&hosts);
}

json_t *
query_task_json(struct server *s, const struct hq_job *job, uint32_t idx,
    bool detail)
{
	const struct hq_task *t = &job->tasks[idx];
	enum hq_task_state st = (enum hq_task_state)t->state;
	const struct hq_jdesc *jd = &job->descs[t->desc];
	const struct hq_jsubmit *js = &job->submits[jd->submit];
	bool started = t->start_ms != 0 && st != HQ_TASK_ABORTED;
	json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)t->id, "state",
	    hq_task_state_name(st));
	uint32_t nnodes = 0;

	if (started && st != HQ_TASK_WAITING) {
		struct hq_task_paths p;

		hq_task_paths_resolve(&p, jd->d, job->id, t->id, t->instance,
		    js->s.submit_dir, s->access.server_uid);
		json_object_set_new(o, "cwd", json_string(p.cwd));
		json_object_set_new(o, "stdout",
		    stdio_json(&jd->d->out, p.out));
		json_object_set_new(o, "stderr",
		    stdio_json(&jd->d->err, p.err));
		hq_task_paths_fini(&p);
	}
	if (hq_job_task_nodes(job, idx, &nnodes) != NULL &&
	    (started || (t->flags & HQ_TF_ASSIGNED))) {
		multinode_json(s, job, idx, o,
		    started &&
			(st == HQ_TASK_RUNNING || st == HQ_TASK_FINISHED ||
			    st == HQ_TASK_FAILED));
	} else if (started &&
	    (st == HQ_TASK_RUNNING || st == HQ_TASK_FINISHED ||
		st == HQ_TASK_FAILED)) {
		json_object_set_new(o, "started_at", json_time(t->start_ms));
		json_object_set_new(o, "worker", json_integer(t->worker));
	}
	if (t->worker != 0 && nnodes == 0 &&
	    (started || (t->flags & HQ_TF_ASSIGNED))) {
		const struct hq_sworker *w = hq_state_worker(s->st, t->worker);

		if (w != NULL && w->cfg.hostname)
			json_object_set_new(o, "_worker_host",
			    json_string(w->cfg.hostname));
	}
	if (t->start_ms != 0)
		json_object_set_new(o, "_start_ms",
		    json_integer((json_int_t)t->start_ms));
	if (t->end_ms != 0)
		json_object_set_new(o, "_end_ms",
		    json_integer((json_int_t)t->end_ms));
	if (st == HQ_TASK_FINISHED || (st == HQ_TASK_FAILED && started))
		json_object_set_new(o, "finished_at", json_time(t->end_ms));
	if (st == HQ_TASK_FAILED) {
		const char *e = hq_job_task_error(job, idx);

		json_object_set_new(o, "error", json_string(e ? e : ""));
	}
	if (detail) {
		json_t *deps = json_array();
		uint32_t k;

		json_object_set_new(o, "_desc", desc_json(jd->d));
		json_object_set_new(o, "_instance", json_integer(t->instance));
		json_object_set_new(o, "_crashes", json_integer(t->crashes));
		if (js->s.graph) {
			for (k = 0; k < js->s.ntasks; k++)
				if (js->s.tasks[k].id == t->id)
					break;
			if (k < js->s.ntasks) {
				uint32_t d;

				for (d = 0; d < js->s.tasks[k].ndeps; d++)
					json_array_append_new(deps,
					    json_integer(
						js->s.tasks[k].deps[d]));
			}
		}
		json_object_set_new(o, "_deps", deps);
		if (st == HQ_TASK_WAITING && (t->flags & HQ_TF_ASSIGNED))
			json_object_set_new(o, "_assigned",
			    json_integer(t->worker));
	}
	return o;
}

static bool
state_selected(const struct hq_cmsg *m, enum hq_task_state st)
{
	uint32_t i;

	if (m->nstates == 0)
		return true;
	for (i = 0; i < m->nstates; i++)
		if (strcasecmp(m->states[i], hq_task_state_name(st)) == 0)
			return true;
	return false;
}

/* Task indices of a job selected by m->tasks (if given) and states. */
static uint32_t *
select_tasks(const struct hq_job *job, const struct hq_cmsg *m, uint32_t *n)
{
	uint32_t *out = NULL, cap = 0, i, k;

	*n = 0;
	if (m->has_tasks) {
		for (i = 0; i < m->tasks.n; i++)
			for (k = 0; k < m->tasks.r[i].count; k++) {
				int64_t idx = hq_job_task_index(job,
				    m->tasks.r[i].start +
					k * m->tasks.r[i].step);

				if (idx >= 0 &&
				    state_selected(m,
					(enum hq_task_state)job->tasks[idx]
					    .state))
					HQ_VEC_PUSH(out, *n, cap,
					    (uint32_t)idx);
			}
		return out;
	}
	for (i = 0; i < job->ntasks; i++)
		if (state_selected(m, (enum hq_task_state)job->tasks[i].state))
			HQ_VEC_PUSH(out, *n, cap, i);
	return out;
}

static int
cmp_task_id(const void *a, const void *b, void *arg)
{
	const struct hq_job *job = arg;
	uint32_t x = job->tasks[*(const uint32_t *)a].id;
	uint32_t y = job->tasks[*(const uint32_t *)b].id;

	return x < y ? -1 : x > y;
}

static json_t *
tasks_json(struct server *s, const struct hq_job *job, const struct hq_cmsg *m,
    bool detail)
{
	json_t *arr = json_array();
	uint32_t n, i, *idx = select_tasks(job, m, &n);

	if (!job->dense)
		qsort_r(idx, n, sizeof *idx, cmp_task_id, (void *)job);
	for (i = 0; i < n; i++)
		json_array_append_new(arr,
		    query_task_json(s, job, idx[i], detail));
	free(idx);
	return arr;
}

/* When the job's last task ended, once it has no active task; else 0. */
static uint64_t
job_finished_ms(const struct hq_job *job)
{
	uint64_t last = 0;
	uint32_t i;

	if (!hq_job_tasks_done(job) || job->ntasks == 0)
		return 0;
	for (i = 0; i < job->ntasks; i++)
		if (job->tasks[i].end_ms > last)
			last = job->tasks[i].end_ms;
	return last ? last : job->submitted_ms;
}

json_t *
query_job_info(struct server *s, const struct hq_cmsg *m)
{
	json_t *arr = json_array();
	uint32_t n, *jobs, *missing, nmissing, i, k;

	jobs = query_select_jobs(s, &m->sel, &n, &missing, &nmissing);
	for (i = 0; i < n; i++) {
		struct hq_job *job = hq_state_job(s->st, jobs[i]);
		json_t *subs = json_array(), *o, *workers = json_array();
		struct hq_u32map seen;
		uint32_t v;

		for (k = 0; k < job->nsubmits; k++)
			json_array_append_new(subs,
			    submit_json(&job->submits[k]));
		hq_u32map_init(&seen);
		for (k = 0; k < job->ntasks; k++) {
			const struct hq_task *t = &job->tasks[k];

			if (t->start_ms == 0 || t->worker == 0 ||
			    hq_u32map_get(&seen, t->worker, &v))
				continue;
			hq_u32map_put(&seen, t->worker, 1);
			{
				struct hq_sworker *w =
				    hq_state_worker(s->st, t->worker);

				json_array_append_new(workers,
				    json_string(w && w->cfg.hostname
					    ? w->cfg.hostname
					    : "?"));
			}
		}
		hq_u32map_fini(&seen);
		o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "info",
		    job_info_json(job), "max_fails",
		    job->has_max_fails ? json_integer(job->max_fails)
				       : json_null(),
		    "started_at", json_time(job->submitted_ms), "finished_at",
		    json_time(job_finished_ms(job)), "submits", subs, "tasks",
		    m->all ? tasks_json(s, job, m, false) : json_array());
		json_object_set_new(o, "_workers", workers);
		json_object_set_new(o, "_submit_dir",
		    job->nsubmits && job->submits[0].s.submit_dir
			? json_string(job->submits[0].s.submit_dir)
			: json_null());
		if (job->nerrors > 0) {
			json_t *errs = json_array();

			for (k = 0; k < job->nerrors && k < 5; k++) {
				const struct hq_task *t =
				    &job->tasks[job->errors[k].idx];

				json_array_append_new(errs,
				    json_pack("{s:I, s:I, s:s}", "id",
					(json_int_t)t->id, "worker",
					(json_int_t)t->worker, "error",
					job->errors[k].msg));
			}
			json_object_set_new(o, "_errors", errs);
			json_object_set_new(o, "_nerrors",
			    json_integer(job->nerrors));
		}
		json_array_append_new(arr, o);
	}
	if (nmissing > 0) {
		json_t *miss = json_array();

		for (i = 0; i < nmissing; i++)
			json_array_append_new(miss, json_integer(missing[i]));
		/* The client logs these; the array stays the spec's shape. */
		json_array_append_new(arr,
		    json_pack("{s:o}", "_missing", miss));
	}
	free(jobs);
	free(missing);
	return arr;
}

json_t *
query_task_list(struct server *s, const struct hq_cmsg *m, char **err)
{
	json_t *o = json_object();
	uint32_t n, *jobs, i;

	(void)err;
	jobs = query_select_jobs(s, &m->sel, &n, NULL, NULL);
	for (i = 0; i < n; i++) {
		struct hq_job *job = hq_state_job(s->st, jobs[i]);
		char key[16];

		snprintf(key, sizeof key, "%u", job->id);
		json_object_set_new(o, key, tasks_json(s, job, m, m->all));
	}
	free(jobs);
	return o;
}

json_t *
query_task_info(struct server *s, const struct hq_cmsg *m, char **err)
{
	uint32_t n, *jobs;
	struct hq_job *job;
	json_t *arr;

	jobs = query_select_jobs(s, &m->sel, &n, NULL, NULL);
	if (n == 0) {
		free(jobs);
		*err = hq_xstrdup("Job not found");
		return NULL;
	}
	job = hq_state_job(s->st, jobs[0]);
	free(jobs);
	arr = tasks_json(s, job, m, true);
	return arr;
}

json_t *
query_task_ids(struct server *s, const struct hq_cmsg *m)
{
	json_t *o = json_object();
	uint32_t n, *jobs, i, k;

	jobs = query_select_jobs(s, &m->sel, &n, NULL, NULL);
	for (i = 0; i < n; i++) {
		struct hq_job *job = hq_state_job(s->st, jobs[i]);
		uint32_t cnt, *idx = select_tasks(job, m, &cnt);
		json_t *ids = json_array();
		char key[16];

		if (!job->dense)
			qsort_r(idx, cnt, sizeof *idx, cmp_task_id,
			    (void *)job);
		for (k = 0; k < cnt; k++)
			json_array_append_new(ids,
			    json_integer(job->tasks[idx[k]].id));
		snprintf(key, sizeof key, "%u", job->id);
		json_object_set_new(o, key, ids);
		free(idx);
	}
	free(jobs);
	return o;
}

json_t *
query_job_outputs(struct server *s, const struct hq_cmsg *m, char **err)
{
	return query_task_list(s, m, err);
}

/* ---- workers
 * ----------------------------------------------------------------- */

static json_t *
worker_json(struct server *s, const struct hq_sworker *w, bool runtime)
{
	json_error_t jerr;
	json_t *cfg = NULL, *o;

	(void)s;
	if (w->cfg.config_json && *w->cfg.config_json)
		cfg = json_loads(w->cfg.config_json, 0, &jerr);
	if (cfg == NULL)
		cfg = json_object();
	o = json_pack("{s:I, s:o}", "id", (json_int_t)w->id, "configuration",
	    cfg);
	if (w->cfg.manager && *w->cfg.manager)
		json_object_set_new(o, "allocation",
		    json_pack("{s:s, s:s}", "manager",
			strcasecmp(w->cfg.manager, "PBS") == 0 ? "PBS"
							       : "Slurm",
			"id",
			w->cfg.allocation_id ? w->cfg.allocation_id : ""));
	else
		json_object_set_new(o, "allocation", json_null());
	if (runtime && w->online && w->mn_job != 0) {
		struct hq_job *mj;
		uint32_t midx;
		bool root = hq_sworker_mn_task(s->st, w, &mj, &midx) &&
		    mj->tasks[midx].worker == w->id;

		json_object_set_new(o, "runtime_info",
		    json_pack("{s:{s:b}}", "MultiNodeTask", "main_node", root));
	} else if (runtime && w->online)
		json_object_set_new(o, "runtime_info",
		    json_pack("{s:{s:I, s:I, s:b}}", "SingleNodeTasks",
			"assigned_tasks", (json_int_t)w->ninflight,
			"running_tasks", (json_int_t)w->nrunning, "is_reserved",
			w->mn_held));
	else
		json_object_set_new(o, "runtime_info", json_null());
	if (w->last_job != 0)
		json_object_set_new(o, "last_task_started",
		    json_pack("{s:{s:I, s:I}, s:o}", "task_id", "job_id",
			(json_int_t)w->last_job, "job_task_id",
			(json_int_t)w->last_task, "time",
			json_time(w->last_task_ms)));
	else
		json_object_set_new(o, "last_task_started", json_null());
	json_object_set_new(o, "started", json_time(w->connected_ms));
	json_object_set_new(o, "ended",
	    w->online ? json_null()
		      : json_pack("{s:o}", "at", json_time(w->lost_ms)));
	json_object_set_new(o, "_state",
	    json_string(w->online ? "RUNNING"
				  : hq_lost_reason_display(w->lost_reason)));
	{
		struct hq_buf b;

		hq_buf_init(&b);
		hq_fmt_worker_res_summary(&b, &w->cfg.res);
		json_object_set_new(o, "_resources",
		    json_stringn((char *)b.data, b.len));
		hq_buf_reset(&b);
		hq_fmt_worker_res_lines(&b, &w->cfg.res);
		json_object_set_new(o, "_resources_lines",
		    json_stringn((char *)b.data, b.len));
		hq_buf_fini(&b);
	}
	json_object_set_new(o, "_manager",
	    json_string(
		w->cfg.manager && *w->cfg.manager ? w->cfg.manager : "None"));
	json_object_set_new(o, "_manager_job_id",
	    json_string(w->cfg.allocation_id && *w->cfg.allocation_id
		    ? w->cfg.allocation_id
		    : "N/A"));
	json_object_set_new(o, "_hostname",
	    json_string(w->cfg.hostname ? w->cfg.hostname : ""));
	json_object_set_new(o, "_pid", json_integer(w->cfg.pid));
	return o;
}

json_t *
query_worker_list(struct server *s, bool all)
{
	json_t *arr = json_array();
	uint32_t i;

	for (i = 1; i < s->st->workers_cap; i++) {
		const struct hq_sworker *w = s->st->workers[i];

		if (w != NULL && (all || w->online))
			json_array_append_new(arr, worker_json(s, w, false));
	}
	return arr;
}

json_t *
query_worker_info(struct server *s, const struct hq_cmsg *m)
{
	json_t *arr = json_array(), *miss = json_array();
	uint32_t i, k;

	if (m->sel.kind == HQ_SEL_ALL || m->sel.kind == HQ_SEL_LAST) {
		for (i = s->st->workers_cap; i > 1; i--) {
			const struct hq_sworker *w = s->st->workers[i - 1];

			if (w == NULL)
				continue;
			json_array_insert_new(arr, 0, worker_json(s, w, true));
			if (m->sel.kind == HQ_SEL_LAST)
				break;
		}
	} else {
		for (i = 0; i < m->sel.ids.n; i++)
			for (k = 0; k < m->sel.ids.r[i].count && k < 100000;
			     k++) {
				uint32_t id = m->sel.ids.r[i].start +
				    k * m->sel.ids.r[i].step;
				const struct hq_sworker *w =
				    hq_state_worker(s->st, id);

				if (w != NULL)
					json_array_append_new(arr,
					    worker_json(s, w, true));
				else
					json_array_append_new(miss,
					    json_integer(id));
			}
	}
	if (json_array_size(miss) > 0)
		json_array_append_new(arr,
		    json_pack("{s:o}", "_missing", miss));
	else
		json_decref(miss);
	return arr;
}
