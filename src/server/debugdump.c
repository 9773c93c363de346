/* SPDX-License-Identifier: MIT */
/*
 * `hq server debug-dump`: the live scheduler state as one JSON document,
 * {"tako": {...}} as HyperQueue names it. A debug aid, read-only, built
 * from the state here (the client only writes it to a file); its shape is
 * documented in docs/COMPATIBILITY.md and is not a stable interface.
 */
#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"
#include "common/log.h"
#include "common/resource.h"
#include "common/version.h"
#include "server/server.h"

/* Ready ranges listed per queue; the rest are only counted. */
#define DEBUGDUMP_MAX_RANGES 1000

/* An amount (1/10000 units) in resource units: an integer when whole. */
static json_t *
dump_amount(uint64_t a)
{
	if (a % HQ_AMOUNT_ONE == 0)
		return json_integer((json_int_t)(a / HQ_AMOUNT_ONE));
	return json_real((double)a / HQ_AMOUNT_ONE);
}

static json_t *
dump_time(uint64_t ms)
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

/* "job@task", as worker info shows a task. */
static json_t *
dump_task_ref(uint32_t job, uint32_t task_id)
{
	char s[32];

	snprintf(s, sizeof s, "%u@%u", job, task_id);
	return json_string(s);
}

static int
dump_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Task ids of job->tasks[lo, hi) as an IntArray ("0-9,12"). */
static json_t *
dump_task_ids(const struct hq_job *job, uint32_t lo, uint32_t hi)
{
	uint32_t *ids = hq_xcalloc(hi - lo + 1, sizeof *ids), i;
	struct hq_buf b;
	json_t *j;

	for (i = lo; i < hi; i++)
		ids[i - lo] = job->tasks[i].id;
	qsort(ids, hi - lo, sizeof *ids, dump_cmp_u32);
	hq_buf_init(&b);
	hq_fmt_ids_sorted(&b, ids, hi - lo);
	j = json_stringn(b.len ? (const char *)b.data : "", b.len);
	hq_buf_fini(&b);
	free(ids);
	return j;
}

/* A resource request for people: "cpus=1 compact, mem=100" per variant,
 * variants joined by " | ". */
static json_t *
dump_request(const struct hq_res_request *r)
{
	struct hq_buf b;
	uint32_t i, k;
	json_t *j;

	hq_buf_init(&b);
	for (i = 0; i < r->n; i++) {
		const struct hq_res_variant *v = &r->v[i];
		const char *sep = "";

		if (i > 0)
			hq_buf_append_str(&b, " | ");
		if (v->n_nodes > 0) {
			hq_buf_printf(&b, "nodes=%u", v->n_nodes);
			sep = ", ";
		}
		for (k = 0; k < v->n; k++) {
			hq_buf_printf(&b, "%s%s=", sep, v->e[k].name);
			hq_fmt_request_entry(&b, &v->e[k]);
			sep = ", ";
		}
		if (v->min_time_ms > 0) {
			hq_buf_printf(&b, "%stime_request=", sep);
			hq_fmt_duration(&b, v->min_time_ms);
		}
	}
	j = json_stringn(b.len ? (const char *)b.data : "", b.len);
	hq_buf_fini(&b);
	return j;
}

static json_t *
dump_worker(const struct hq_state *st, const struct hq_sworker *w)
{
	json_t *o, *total = json_object(), *freej = json_object();
	json_t *running = json_array(), *prefilled = json_array();
	uint32_t i;

	for (i = 0; i < w->nres && i < st->nresnames; i++) {
		if (w->res_total[i] == 0)
			continue;
		json_object_set_new(total, st->resnames[i],
		    dump_amount(w->res_total[i]));
		json_object_set_new(freej, st->resnames[i],
		    dump_amount(w->res_total[i] > w->res_used[i]
			    ? w->res_total[i] - w->res_used[i]
			    : 0));
	}
	for (i = 0; i < w->ninflight; i++) {
		const struct hq_inflight *f = &w->inflight[i];
		const struct hq_job *job = hq_state_job(st, f->job);
		const struct hq_task *t;

		if (job == NULL || f->idx >= job->ntasks)
			continue;
		t = &job->tasks[f->idx];
		json_array_append_new(t->state == HQ_TASK_RUNNING ? running
								  : prefilled,
		    dump_task_ref(f->job, t->id));
	}
	o = json_pack("{s:I, s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)w->id, "hostname",
	    w->cfg.hostname ? w->cfg.hostname : "", "group",
	    w->group_id < st->ngroups ? st->groups[w->group_id]
				      : (w->cfg.group ? w->cfg.group : ""),
	    "online", w->online, "state",
	    w->online ? "RUNNING" : hq_lost_reason_display(w->lost_reason),
	    "resources", total, "free", freej, "running", running, "prefilled",
	    prefilled);
	json_object_set_new(o, "connected", dump_time(w->connected_ms));
	json_object_set_new(o, "lifetime_end", dump_time(w->end_ms));
	json_object_set_new(o, "draining", json_boolean(w->draining));
	json_object_set_new(o, "held_for_multinode", json_boolean(w->mn_held));
	json_object_set_new(o, "prefill_layers", json_integer(w->sched_layers));
	if (w->mn_job != 0) {
		const struct hq_job *job = hq_state_job(st, w->mn_job);
		json_t *nodes = json_array();

		for (i = 0; i < w->mn_nnodes; i++)
			json_array_append_new(nodes,
			    json_integer(w->mn_nodes[i]));
		json_object_set_new(o, "multinode_task",
		    json_pack("{s:o, s:o}", "task",
			job && w->mn_idx < job->ntasks
			    ? dump_task_ref(w->mn_job, job->tasks[w->mn_idx].id)
			    : json_null(),
			"nodes", nodes));
	} else {
		json_object_set_new(o, "multinode_task", json_null());
	}
	return o;
}

static json_t *
dump_job(const struct hq_job *job)
{
	uint32_t ready = 0, prefilled = 0, blocked = 0, i;
	json_t *counts;

	for (i = 0; i < job->ntasks; i++) {
		const struct hq_task *t = &job->tasks[i];

		if (t->state != HQ_TASK_WAITING)
			continue;
		if (t->flags & HQ_TF_READY)
			ready++;
		else if (t->flags & HQ_TF_ASSIGNED)
			prefilled++;
		else
			blocked++;
	}
	counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "waiting",
	    (json_int_t)job->counts[HQ_TASK_WAITING], "running",
	    (json_int_t)job->counts[HQ_TASK_RUNNING], "finished",
	    (json_int_t)job->counts[HQ_TASK_FINISHED], "failed",
	    (json_int_t)job->counts[HQ_TASK_FAILED], "canceled",
	    (json_int_t)job->counts[HQ_TASK_CANCELED], "aborted",
	    (json_int_t)job->counts[HQ_TASK_ABORTED]);
	return json_pack("{s:I, s:s, s:s, s:b, s:I, s:o, s:{s:I, s:I, s:I}}",
	    "id", (json_int_t)job->id, "name", job->name ? job->name : "",
	    "state", hq_job_state_name(hq_job_state(job)), "is_open",
	    job->is_open, "n_tasks", (json_int_t)job->ntasks, "counts", counts,
	    "waiting", "ready", (json_int_t)ready, "prefilled",
	    (json_int_t)prefilled, "blocked", (json_int_t)blocked);
}

/* The ready queues in scheduling order (priority, then request). */
static json_t *
dump_queues(const struct hq_state *st)
{
	json_t *arr = json_array();
	uint32_t i, k;

	for (i = 0; i < st->nbuckets; i++) {
		const struct hq_bucket *bq = st->buckets[i];
		json_t *ranges = json_array(), *o;

		for (k = 0; k < bq->len && k < DEBUGDUMP_MAX_RANGES; k++) {
			const struct hq_rrange *r = hq_bucket_range(bq, k);
			const struct hq_job *job = hq_state_job(st, r->job);

			if (job == NULL || r->hi > job->ntasks ||
			    r->lo >= r->hi)
				continue;
			json_array_append_new(ranges,
			    json_pack("{s:I, s:o}", "job", (json_int_t)r->job,
				"tasks", dump_task_ids(job, r->lo, r->hi)));
		}
		o = json_pack("{s:I, s:o, s:I, s:o, s:I}", "priority",
		    (json_int_t)bq->priority, "request",
		    bq->rq < st->nrqs ? dump_request(&st->rqs[bq->rq].req)
				      : json_null(),
		    "ready", (json_int_t)bq->nready, "ranges", ranges,
		    "ranges_not_shown",
		    (json_int_t)(bq->len > DEBUGDUMP_MAX_RANGES
			    ? bq->len - DEBUGDUMP_MAX_RANGES
			    : 0));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *
dump_journal(struct server *s)
{
	return json_pack("{s:o, s:I, s:I, s:I, s:I, s:b}", "path",
	    s->opts.journal_path ? json_string(s->opts.journal_path)
				 : json_null(),
	    "last_seq", (json_int_t)s->last_seq, "durable_seq",
	    (json_int_t)(s->journal ? s->durable_seq : s->last_seq),
	    "last_checkpoint_seq", (json_int_t)s->last_ckpt_seq,
	    "bytes_since_checkpoint", (json_int_t)s->bytes_since_ckpt, "failed",
	    s->journal_failed);
}

static json_t *
dump_scheduler(struct server *s)
{
	const struct hq_state *st = s->st;
	json_t *names = json_array(), *groups = json_array();
	json_t *held = json_array();
	uint32_t i;

	for (i = 0; i < st->nresnames; i++)
		json_array_append_new(names, json_string(st->resnames[i]));
	for (i = 0; i < st->ngroups; i++)
		json_array_append_new(groups, json_string(st->groups[i]));
	for (i = 0; i < s->plan.nheld; i++)
		json_array_append_new(held, json_integer(s->plan.held[i]));
	return json_pack("{s:I, s:b, s:o, s:o, s:I, s:{s:I, s:o}}",
	    "prefill_layers", (json_int_t)s->sched.layers, "round_pending",
	    s->need_schedule, "resource_names", names, "worker_groups", groups,
	    "resource_requests", (json_int_t)st->nrqs, "last_plan",
	    "assignments", (json_int_t)s->plan.n, "held_workers", held);
}

static json_t *
debugdump_json(struct server *s)
{
	const struct hq_state *st = s->st;
	json_t *workers = json_array(), *jobs = json_array(), *tako;
	uint32_t i;

	for (i = 1; i < st->workers_cap; i++)
		if (st->workers[i] != NULL)
			json_array_append_new(workers,
			    dump_worker(st, st->workers[i]));
	for (i = 1; i < st->next_job_id; i++) {
		const struct hq_job *job = hq_state_job(st, i);

		if (job != NULL)
			json_array_append_new(jobs, dump_job(job));
	}
	tako = json_pack("{s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:o}",
	    "version", HQ_VERSION, "server_uid",
	    s->access.server_uid ? s->access.server_uid : "", "time",
	    dump_time(hq_now_ms()), "events_applied", (json_int_t)st->nevents,
	    "scheduler", dump_scheduler(s), "workers", workers, "jobs", jobs,
	    "queues", dump_queues(st), "journal", dump_journal(s));
	return json_pack("{s:o}", "tako", tako);
}

void
debugdump_request(struct server *s, struct client *cl)
{
	struct hq_smsg r;
	json_t *j = debugdump_json(s);

	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_JSON;
	r.json = json_dumps(j,
	    JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(j);
	if (r.json == NULL)
		hq_fatalx("out of memory");
	server_send_smsg(s, cl->conn, &r);
	hq_smsg_fini(&r);
}
