/* SPDX-License-Identifier: MIT */
/*
 * `hq task explain` (spec 2.15, 3.2): the explanation of one task against
 * every live worker, and the query that serves it.
 */
#include <stdlib.h>
#include <string.h>

#include "server/explain.h"
#include "server/server.h"

/* std Duration as serde writes it: {"secs": s, "nanos": n}. */
static json_t *
explain_duration(uint64_t ms)
{
	return json_pack("{s:I, s:I}", "secs", (json_int_t)(ms / 1000), "nanos",
	    (json_int_t)(ms % 1000) * 1000000);
}

/* Online workers of a group (multi-node tasks need that many). */
static uint32_t
explain_group_size(const struct hq_state *st, const char *group)
{
	uint32_t i, n = 0;

	for (i = 1; i < st->workers_cap; i++) {
		const struct hq_sworker *w = st->workers[i];

		if (w != NULL && w->online &&
		    strcmp(w->cfg.group ? w->cfg.group : "",
			group ? group : "") == 0)
			n++;
	}
	return n;
}

static json_t *
explain_variant(const struct hq_state *st, const struct hq_sworker *w,
    const struct hq_rq *rq, uint32_t vi, uint64_t now_ms)
{
	const struct hq_res_variant *v = &rq->req.v[vi];
	json_t *items = json_array();
	uint32_t j;

	if (v->min_time_ms > 0) {
		json_t *rem = w->end_ms == 0
		    ? json_null()
		    : explain_duration(
			  w->end_ms > now_ms ? w->end_ms - now_ms : 0);

		json_array_append_new(items,
		    json_pack("{s:{s:o, s:o}}", "Time", "min_time",
			explain_duration(v->min_time_ms), "remaining_time",
			rem));
	}
	if (v->n_nodes > 0) {
		json_array_append_new(items,
		    json_pack("{s:{s:I, s:I}}", "WorkerGroup", "n_nodes",
			(json_int_t)v->n_nodes, "group_size",
			(json_int_t)explain_group_size(st, w->cfg.group)));
		return items;
	}
	for (j = 0; j < v->n; j++) {
		const struct hq_res_entry *e = &v->e[j];
		uint64_t req =
		    e->policy == HQ_POLICY_ALL ? HQ_AMOUNT_ONE : e->amount;

		json_array_append_new(items,
		    json_pack("{s:{s:s, s:I, s:I}}", "Resources", "resource",
			e->name, "request_amount", (json_int_t)req,
			"worker_amount",
			(json_int_t)hq_sworker_total(w, rq->rid[vi][j])));
	}
	return items;
}

json_t *
hq_explain_task(const struct hq_state *st, const struct hq_job *job,
    uint32_t idx, uint64_t now_ms)
{
	const struct hq_task *t = &job->tasks[idx];
	const struct hq_rq *rq = &st->rqs[job->descs[t->desc].rq];
	json_t *workers = json_array(), *variants;
	uint32_t i, v;

	for (i = 1; i < st->workers_cap; i++) {
		const struct hq_sworker *w = st->workers[i];

		if (w == NULL || !w->online)
			continue;
		variants = json_array();
		for (v = 0; v < rq->req.n; v++)
			json_array_append_new(variants,
			    explain_variant(st, w, rq, v, now_ms));
		json_array_append_new(workers,
		    json_pack("{s:I, s:o}", "worker_id", (json_int_t)w->id,
			"variants", variants));
	}
	return json_pack("{s:{s:I, s:I}, s:{s:I, s:I, s:o}}", "task_id",
	    "job_id", (json_int_t)job->id, "job_task_id", (json_int_t)t->id,
	    "explanation", "n_task_deps",
	    (json_int_t)hq_job_task_ndeps(job, idx), "n_waiting_deps",
	    (json_int_t)hq_job_task_waiting_deps(job, idx), "workers", workers);
}

json_t *
query_task_explain(struct server *s, const struct hq_cmsg *m, char **err)
{
	uint32_t *jobs, n, tid;
	struct hq_job *job;
	enum hq_task_state ts;
	int64_t idx;

	if (!m->has_tasks || m->tasks.n == 0) {
		*err = hq_xstrdup("no task id given");
		return NULL;
	}
	tid = m->tasks.r[0].start;
	jobs = query_select_jobs(s, &m->sel, &n, NULL, NULL);
	job = n > 0 ? hq_state_job(s->st, jobs[0]) : NULL;
	free(jobs);
	if (job == NULL) {
		*err = hq_xstrdup("Job not found");
		return NULL;
	}
	if ((idx = hq_job_task_index(job, tid)) < 0) {
		*err = hq_xprintf("Task %u@%u not found", job->id, tid);
		return NULL;
	}
	ts = (enum hq_task_state)job->tasks[idx].state;
	if (ts != HQ_TASK_WAITING && ts != HQ_TASK_RUNNING) {
		*err = hq_xprintf("Task %u@%u is %s: only waiting or running "
				  "tasks can be explained",
		    job->id, tid, hq_task_state_name(ts));
		return NULL;
	}
	return hq_explain_task(s->st, job, (uint32_t)idx, hq_now_ms());
}
