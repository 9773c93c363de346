/* SPDX-License-Identifier: MIT */
/*
 * `hq dashboard`'s model: spec 3.4 event lines folded into workers, jobs,
 * allocation queues and recent events. It mirrors what hq_state_apply()
 * does with the same events, as far as the lines carry it.
 */
#include "cli/dashmodel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/fmt.h"

struct hq_dash_task {
	uint32_t id;
	uint8_t state; /* enum hq_task_state */
	uint8_t crashes;
	bool assigned;	 /* waiting, sent to 'worker' */
	bool mn;	 /* its nodes are in a struct hq_dash_mn */
	uint32_t worker; /* 0: none */
};

/* The nodes of a multi-node task in flight, root first. */
struct hq_dash_mn {
	uint32_t job, task;
	uint32_t *nodes;
	uint32_t n;
};

/* Nodes of one run line: "worker", or "workers" for multi-node tasks. */
struct dash_nodes {
	uint32_t *v;
	uint32_t n;
};

#define DASH_EXCERPT 60
/* Longest text of a recent event (the rest is cut). */
#define DASH_RING_LINE 512

/* ---- JSON fields --------------------------------------------------------- */

/* The beginning of 'o' as compact JSON, for messages. */
static void
dash_excerpt(json_t *o, char *out, size_t size)
{
	char *s =
	    json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	snprintf(out, size, "%.*s%s", DASH_EXCERPT, s ? s : "?",
	    s != NULL && strlen(s) > DASH_EXCERPT ? "..." : "");
	free(s);
}

static int
dash_bad_field(json_t *ev, const char *key, const char *what,
    struct hq_errbuf *eb)
{
	char ex[DASH_EXCERPT + 8];

	dash_excerpt(ev, ex, sizeof ex);
	return hq_errf(eb, HQ_EINVAL, "event %s: \"%s\" is missing or not %s",
	    ex, key, what);
}

static int
dash_u32(json_t *ev, const char *key, uint32_t *out, struct hq_errbuf *eb)
{
	json_t *v = json_object_get(ev, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT32_MAX)
		return dash_bad_field(ev, key, "a 32-bit unsigned integer", eb);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

/* An optional unsigned integer: 'def' when absent or null. */
static int
dash_u32_opt(json_t *ev, const char *key, uint32_t def, uint32_t *out,
    struct hq_errbuf *eb)
{
	json_t *v = json_object_get(ev, key);

	if (v == NULL || json_is_null(v)) {
		*out = def;
		return 0;
	}
	return dash_u32(ev, key, out, eb);
}

/* An optional string: NULL when absent or null. */
static int
dash_str(json_t *ev, const char *key, const char **out, struct hq_errbuf *eb)
{
	json_t *v = json_object_get(ev, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return dash_bad_field(ev, key, "a string", eb);
	*out = json_string_value(v);
	return 0;
}

/* {"secs": S, "nanos": N} as ms; 0 when absent or null. */
static uint64_t
dash_duration(json_t *o)
{
	json_t *s = json_object_get(o, "secs"),
	       *n = json_object_get(o, "nanos");
	uint64_t ms = 0;

	if (json_is_integer(s) && json_integer_value(s) > 0)
		ms = (uint64_t)json_integer_value(s) * 1000;
	if (json_is_integer(n) && json_integer_value(n) > 0)
		ms += (uint64_t)json_integer_value(n) / 1000000;
	return ms;
}

/* The nodes of a task-assigned or task-started line. */
static int
dash_run_nodes(json_t *ev, struct dash_nodes *out, struct hq_errbuf *eb)
{
	json_t *arr = json_object_get(ev, "workers"), *v;
	size_t i;

	memset(out, 0, sizeof *out);
	if (arr == NULL) {
		out->v = hq_xmalloc(sizeof *out->v);
		out->n = 1;
		return dash_u32(ev, "worker", &out->v[0], eb);
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > UINT32_MAX)
		return dash_bad_field(ev, "workers", "a list of worker ids",
		    eb);
	out->v = hq_xreallocarray(NULL, json_array_size(arr), sizeof *out->v);
	json_array_foreach(arr, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > UINT32_MAX)
			return dash_bad_field(ev, "workers",
			    "a list of worker ids", eb);
		out->v[out->n++] = (uint32_t)json_integer_value(v);
	}
	return 0;
}

/* ---- lookups ------------------------------------------------------------- */

/* Index of the entry with 'id' in an array sorted by id, or where it
 * would go (*found false). */
#define DASH_BSEARCH(arr, n, key, idx, found)                  \
	do {                                                   \
		uint32_t lo_ = 0, hi_ = (n);                   \
		(found) = false;                               \
		while (lo_ < hi_) {                            \
			uint32_t mid_ = lo_ + (hi_ - lo_) / 2; \
			if ((arr)[mid_].id == (key)) {         \
				lo_ = mid_;                    \
				(found) = true;                \
				break;                         \
			}                                      \
			if ((arr)[mid_].id < (key))            \
				lo_ = mid_ + 1;                \
			else                                   \
				hi_ = mid_;                    \
		}                                              \
		(idx) = lo_;                                   \
	} while (0)

static struct hq_dash_worker *
worker_get(const struct hq_dashmodel *m, uint32_t id)
{
	uint32_t i;
	bool found;

	DASH_BSEARCH(m->workers, m->nworkers, id, i, found);
	return found ? &m->workers[i] : NULL;
}

static struct hq_dash_job *
job_get(const struct hq_dashmodel *m, uint32_t id)
{
	uint32_t i;
	bool found;

	DASH_BSEARCH(m->jobs, m->njobs, id, i, found);
	return found ? &m->jobs[i] : NULL;
}

static struct hq_dash_queue *
queue_get(const struct hq_dashmodel *m, uint32_t id)
{
	uint32_t i;
	bool found;

	DASH_BSEARCH(m->queues, m->nqueues, id, i, found);
	return found ? &m->queues[i] : NULL;
}

static struct hq_dash_alloc *
alloc_get(const struct hq_dashmodel *m, uint32_t queue_id, const char *id)
{
	uint32_t i;

	for (i = m->nallocs; i > 0; i--)
		if (m->allocs[i - 1].queue_id == queue_id &&
		    strcmp(m->allocs[i - 1].id, id) == 0)
			return &m->allocs[i - 1];
	return NULL;
}

const struct hq_dash_worker *
hq_dashmodel_worker(const struct hq_dashmodel *m, uint32_t id)
{
	return worker_get(m, id);
}

const struct hq_dash_job *
hq_dashmodel_job(const struct hq_dashmodel *m, uint32_t id)
{
	return job_get(m, id);
}

const struct hq_dash_queue *
hq_dashmodel_queue(const struct hq_dashmodel *m, uint32_t id)
{
	return queue_get(m, id);
}

const struct hq_dash_alloc *
hq_dashmodel_alloc(const struct hq_dashmodel *m, const char *id)
{
	uint32_t i;

	for (i = m->nallocs; i > 0; i--)
		if (strcmp(m->allocs[i - 1].id, id) == 0)
			return &m->allocs[i - 1];
	return NULL;
}

/* ---- lifecycle ----------------------------------------------------------- */

struct hq_dashmodel *
hq_dashmodel_create(uint32_t ring_cap)
{
	struct hq_dashmodel *m = hq_xcalloc(1, sizeof *m);

	m->ring_cap = ring_cap > 0 ? ring_cap : 1;
	m->ring = hq_xcalloc(m->ring_cap, sizeof *m->ring);
	return m;
}

static void
worker_fini(struct hq_dash_worker *w)
{
	free(w->hostname);
	free(w->group);
	free(w->resources);
	free(w->manager);
	free(w->allocation);
	free(w->lost_reason);
}

static void
job_fini(struct hq_dash_job *j)
{
	free(j->name);
	free(j->cancel_reason);
	hq_u32map_fini(&j->index);
	free(j->tasks);
}

static void
queue_fini(struct hq_dash_queue *q)
{
	free(q->manager);
	free(q->name);
	free(q->message);
}

static void
alloc_fini(struct hq_dash_alloc *a)
{
	free(a->id);
	free(a->workers);
}

void
hq_dashmodel_destroy(struct hq_dashmodel *m)
{
	uint32_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nworkers; i++)
		worker_fini(&m->workers[i]);
	for (i = 0; i < m->njobs; i++)
		job_fini(&m->jobs[i]);
	for (i = 0; i < m->nqueues; i++)
		queue_fini(&m->queues[i]);
	for (i = 0; i < m->nallocs; i++)
		alloc_fini(&m->allocs[i]);
	for (i = 0; i < m->nmn; i++)
		free(m->mn[i].nodes);
	for (i = 0; i < m->ring_cap; i++)
		free(m->ring[i]);
	free(m->workers);
	free(m->jobs);
	free(m->queues);
	free(m->allocs);
	free(m->mn);
	free(m->ring);
	free(m->server_uid);
	free(m->server_host);
	free(m);
}

static void
set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src != NULL ? hq_xstrdup(src) : NULL;
}

void
hq_dashmodel_set_server(struct hq_dashmodel *m, const char *uid,
    const char *host)
{
	if (uid != NULL)
		set_str(&m->server_uid, uid);
	if (host != NULL)
		set_str(&m->server_host, host);
}

/* ---- the ring of recent events ------------------------------------------- */

static void HQ_PRINTF(3, 4)
    ring_push(struct hq_dashmodel *m, const char *time, const char *fmt, ...)
{
	char text[DASH_RING_LINE], *line;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* "2026-11-25T17:00:00.123000000Z": the clock time. */
	if (time != NULL && strlen(time) >= 19 && time[10] == 'T')
		line = hq_xprintf("%.8s  %s", time + 11, text);
	else
		line = hq_xprintf("--:--:--  %s", text);
	/* One line on the screen: no control characters. */
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	free(m->ring[m->ring_head]);
	m->ring[m->ring_head] = line;
	m->ring_head = (m->ring_head + 1) % m->ring_cap;
	if (m->ring_n < m->ring_cap)
		m->ring_n++;
}

const char *
hq_dashmodel_recent(const struct hq_dashmodel *m, uint32_t i)
{
	if (i >= m->ring_n)
		return NULL;
	return m->ring[(m->ring_head + m->ring_cap - 1 - i) % m->ring_cap];
}

/* ---- workers ------------------------------------------------------------- */

/* The short value of one resource pool of a worker configuration. */
static void
pool_summary(struct hq_buf *b, json_t *p)
{
	const char *kind = json_string_value(json_object_get(p, "kind"));
	const char *name = json_string_value(json_object_get(p, "name"));
	json_t *v, *g;
	size_t i, first = 0, count = 0;
	bool same = true;

	if (kind == NULL)
		kind = "";
	hq_buf_printf(b, "%s ", name != NULL ? name : "?");
	if (strcmp(kind, "range") == 0) {
		json_int_t s = json_integer_value(json_object_get(p, "start"));
		json_int_t e = json_integer_value(json_object_get(p, "end"));

		hq_buf_printf(b, "%lld", e >= s ? (long long)(e - s + 1) : 0LL);
	} else if (strcmp(kind, "list") == 0) {
		hq_buf_printf(b, "%zu",
		    json_array_size(json_object_get(p, "values")));
	} else if (strcmp(kind, "groups") == 0) {
		v = json_object_get(p, "groups");
		json_array_foreach(v, i, g)
		{
			if (i == 0)
				first = json_array_size(g);
			same &= json_array_size(g) == first;
			count += json_array_size(g);
		}
		if (json_array_size(v) > 1 && same)
			hq_buf_printf(b, "%zux%zu", json_array_size(v), first);
		else
			hq_buf_printf(b, "%zu", count);
	} else if (strcmp(kind, "sum") == 0) {
		json_int_t size =
		    json_integer_value(json_object_get(p, "size"));
		double mib = (double)size / HQ_AMOUNT_ONE;

		if (name != NULL && strcmp(name, "mem") == 0)
			hq_buf_printf(b, mib < 512.0 ? "%.2f MiB" : "%.2f GiB",
			    mib < 512.0 ? mib : mib / 1024.0);
		else
			hq_fmt_amount(b, size > 0 ? (uint64_t)size : 0);
	} else {
		hq_buf_append_str(b, "?");
	}
}

static char *
resources_summary(json_t *cfg)
{
	json_t *pools = json_object_get(json_object_get(cfg, "resources"),
		   "resources"),
	       *p;
	struct hq_buf b;
	size_t i;

	hq_buf_init(&b);
	json_array_foreach(pools, i, p)
	{
		if (i > 0)
			hq_buf_append_str(&b, "; ");
		pool_summary(&b, p);
	}
	return hq_buf_cstr(&b);
}

static const char *
cfg_str(json_t *cfg, const char *key)
{
	const char *s = json_string_value(json_object_get(cfg, key));

	return s != NULL && *s != '\0' ? s : NULL;
}

/* Add or refresh worker 'id' from its configuration (may be NULL). */
static struct hq_dash_worker *
worker_put(struct hq_dashmodel *m, uint32_t id, json_t *cfg)
{
	struct hq_dash_worker *w;
	const char *s;
	uint32_t i;
	bool found;

	DASH_BSEARCH(m->workers, m->nworkers, id, i, found);
	if (!found) {
		HQ_VEC_RESERVE(m->workers, m->wcap, m->nworkers + 1);
		memmove(&m->workers[i + 1], &m->workers[i],
		    (m->nworkers - i) * sizeof *m->workers);
		m->nworkers++;
		w = &m->workers[i];
		memset(w, 0, sizeof *w);
		w->id = id;
	} else {
		w = &m->workers[i];
		worker_fini(w);
		/* The counts stay: a worker back under its id keeps its
		 * tasks' records until they move. */
		w->hostname = w->group = w->resources = w->manager = NULL;
		w->allocation = w->lost_reason = NULL;
	}
	s = json_string_value(json_object_get(cfg, "hostname"));
	w->hostname = hq_xstrdup(s != NULL ? s : "");
	s = json_string_value(json_object_get(cfg, "group"));
	w->group = hq_xstrdup(s != NULL ? s : "");
	w->resources = resources_summary(cfg);
	s = cfg_str(cfg, "_manager");
	w->manager =
	    s != NULL && strcasecmp(s, "None") != 0 ? hq_xstrdup(s) : NULL;
	s = cfg_str(cfg, "_allocation_id");
	w->allocation = s != NULL ? hq_xstrdup(s) : NULL;
	w->online = true;
	return w;
}

static void
worker_count(struct hq_dashmodel *m, uint32_t id, bool running, int delta)
{
	struct hq_dash_worker *w = worker_get(m, id);
	uint32_t *n;

	if (w == NULL)
		return;
	n = running ? &w->nrunning : &w->nassigned;
	if (delta < 0 && *n > 0)
		(*n)--;
	else if (delta > 0)
		(*n)++;
}

/* ---- tasks --------------------------------------------------------------- */

static struct hq_dash_mn *
mn_get(struct hq_dashmodel *m, uint32_t job, uint32_t task)
{
	uint32_t i;

	for (i = 0; i < m->nmn; i++)
		if (m->mn[i].job == job && m->mn[i].task == task)
			return &m->mn[i];
	return NULL;
}

static void
mn_drop(struct hq_dashmodel *m, struct hq_dash_mn *r)
{
	free(r->nodes);
	*r = m->mn[--m->nmn];
}

/* Take a task off its worker(s): the counts of its assignment or run. */
static void
task_detach(struct hq_dashmodel *m, struct hq_dash_job *j,
    struct hq_dash_task *t)
{
	bool running = t->state == HQ_TASK_RUNNING;
	struct hq_dash_mn *r;
	uint32_t k;

	if (t->assigned && j->nassigned > 0)
		j->nassigned--;
	if (t->mn && (r = mn_get(m, j->id, t->id)) != NULL) {
		if (t->assigned || running)
			for (k = 0; k < r->n; k++)
				worker_count(m, r->nodes[k], running, -1);
		mn_drop(m, r);
	} else if (t->worker != 0 && (t->assigned || running)) {
		worker_count(m, t->worker, running, -1);
	}
	t->worker = 0;
	t->assigned = t->mn = false;
}

/* Put a (detached) task on nodes: assigned, or running. */
static void
task_attach(struct hq_dashmodel *m, struct hq_dash_job *j,
    struct hq_dash_task *t, const struct dash_nodes *nd, bool running)
{
	struct hq_dash_mn r;
	uint32_t k;

	t->worker = nd->v[0];
	t->assigned = !running;
	if (!running)
		j->nassigned++;
	for (k = 0; k < nd->n; k++)
		worker_count(m, nd->v[k], running, +1);
	if (nd->n > 1) {
		r.job = j->id;
		r.task = t->id;
		r.n = nd->n;
		r.nodes = hq_xmemdup(nd->v, nd->n * sizeof *nd->v);
		HQ_VEC_PUSH(m->mn, m->nmn, m->mncap, r);
		t->mn = true;
	}
}

static void
task_set_state(struct hq_dash_job *j, struct hq_dash_task *t,
    enum hq_task_state to)
{
	if (j->counts[t->state] > 0)
		j->counts[t->state]--;
	j->counts[to]++;
	t->state = (uint8_t)to;
}

/*
 * The record of task 'id', made from the untracked ones if needed: one in
 * state 'pref' if there is one, else one waiting or running. Events only
 * name tasks that are not done, so a task found in neither is one the
 * submits did not announce (pruned history): it is added as waiting.
 */
static struct hq_dash_task *
task_get(struct hq_dash_job *j, uint32_t id, enum hq_task_state pref)
{
	struct hq_dash_task *t;
	enum hq_task_state st = pref;
	uint32_t idx;

	if (hq_u32map_get(&j->index, id, &idx))
		return &j->tasks[idx];
	if (j->ucounts[st] == 0)
		st = j->ucounts[HQ_TASK_WAITING] > 0 ? HQ_TASK_WAITING
						     : HQ_TASK_RUNNING;
	if (j->ucounts[st] == 0) {
		st = HQ_TASK_WAITING;
		j->ntasks++;
		j->counts[st]++;
		j->ucounts[st]++;
	}
	j->ucounts[st]--;
	HQ_VEC_RESERVE(j->tasks, j->tcap, j->ntracked + 1);
	t = &j->tasks[j->ntracked];
	memset(t, 0, sizeof *t);
	t->id = id;
	t->state = (uint8_t)st;
	hq_u32map_put(&j->index, id, j->ntracked);
	j->ntracked++;
	return t;
}

/*
 * No event names a task that is done: once a job has none waiting or
 * running, its records go back to plain counts, so that the memory of
 * the model follows the tasks in progress rather than the whole history.
 */
static void
job_compact(struct hq_dash_job *j)
{
	uint32_t i;

	if (j->ntracked == 0 || j->counts[HQ_TASK_WAITING] > 0 ||
	    j->counts[HQ_TASK_RUNNING] > 0)
		return;
	for (i = 0; i < j->ntracked; i++)
		j->ucounts[j->tasks[i].state]++;
	hq_u32map_fini(&j->index);
	hq_u32map_init(&j->index);
	free(j->tasks);
	j->tasks = NULL;
	j->ntracked = j->tcap = 0;
}

/* Every task of the job not done yet becomes 'to' (cancel, abort). */
static void
job_end_rest(struct hq_dashmodel *m, struct hq_dash_job *j,
    enum hq_task_state to)
{
	uint32_t i, n;

	for (i = 0; i < j->ntracked; i++) {
		struct hq_dash_task *t = &j->tasks[i];

		if (hq_task_state_done((enum hq_task_state)t->state))
			continue;
		task_detach(m, j, t);
		task_set_state(j, t, to);
	}
	for (i = HQ_TASK_WAITING; i <= HQ_TASK_RUNNING; i++) {
		n = j->ucounts[i];
		j->ucounts[i] = 0;
		j->ucounts[to] += n;
		j->counts[i] -= HQ_MIN(n, j->counts[i]);
		j->counts[to] += n;
	}
}

/* A task failed: past max_fails, the rest of the job is aborted. */
static void
task_failed(struct hq_dashmodel *m, struct hq_dash_job *j,
    struct hq_dash_task *t)
{
	task_detach(m, j, t);
	task_set_state(j, t, HQ_TASK_FAILED);
	if (j->has_max_fails && j->counts[HQ_TASK_FAILED] > j->max_fails)
		job_end_rest(m, j, HQ_TASK_ABORTED);
}

/* ---- jobs ---------------------------------------------------------------- */

static struct hq_dash_job *
job_put(struct hq_dashmodel *m, uint32_t id)
{
	struct hq_dash_job *j;
	uint32_t i;
	bool found;

	DASH_BSEARCH(m->jobs, m->njobs, id, i, found);
	if (found)
		return &m->jobs[i];
	HQ_VEC_RESERVE(m->jobs, m->jcap, m->njobs + 1);
	memmove(&m->jobs[i + 1], &m->jobs[i], (m->njobs - i) * sizeof *m->jobs);
	m->njobs++;
	j = &m->jobs[i];
	memset(j, 0, sizeof *j);
	j->id = id;
	j->name = hq_xstrdup("");
	j->crash_limit = HQ_CRASH_DEFAULT;
	hq_u32map_init(&j->index);
	return j;
}

static void
job_drop(struct hq_dashmodel *m, struct hq_dash_job *j)
{
	uint32_t i = (uint32_t)(j - m->jobs), k;

	for (k = 0; k < j->ntracked; k++)
		task_detach(m, j, &j->tasks[k]);
	job_fini(j);
	memmove(&m->jobs[i], &m->jobs[i + 1],
	    (m->njobs - i - 1) * sizeof *m->jobs);
	m->njobs--;
}

static void
job_add_tasks(struct hq_dash_job *j, uint32_t n)
{
	j->ntasks += n;
	j->counts[HQ_TASK_WAITING] += n;
	j->ucounts[HQ_TASK_WAITING] += n;
}

enum hq_job_state
hq_dash_job_state(const struct hq_dash_job *j)
{
	if (j->counts[HQ_TASK_RUNNING] > 0)
		return HQ_JOB_RUNNING;
	if (j->counts[HQ_TASK_WAITING] > 0)
		return HQ_JOB_WAITING;
	if (j->counts[HQ_TASK_FAILED] > 0)
		return HQ_JOB_FAILED;
	if (j->counts[HQ_TASK_ABORTED] > 0)
		return HQ_JOB_ABORTED;
	if (j->counts[HQ_TASK_CANCELED] > 0)
		return HQ_JOB_CANCELED;
	if (j->open)
		return HQ_JOB_OPENED;
	return HQ_JOB_FINISHED;
}

/* Tasks of a submit: the ids of an array, or "n_tasks" of a graph. */
static int
submit_ntasks(json_t *ev, json_t *td, uint32_t *n, struct hq_errbuf *eb)
{
	json_t *ranges, *r;
	uint64_t total = 0;
	size_t i;

	if (json_object_get(td, "n_tasks") != NULL)
		return dash_u32(td, "n_tasks", n, eb);
	ranges = json_object_get(json_object_get(td, "ids"), "ranges");
	if (!json_is_array(ranges))
		return dash_bad_field(ev, "submit_desc",
		    "a submit description with task ids", eb);
	json_array_foreach(ranges, i, r)
	{
		uint32_t count;

		if (dash_u32(r, "count", &count, eb) != 0)
			return dash_bad_field(ev, "submit_desc",
			    "a submit description with task ids", eb);
		total += count;
	}
	if (total > UINT32_MAX)
		return dash_bad_field(ev, "submit_desc",
		    "a submit of at most 2^32-1 tasks", eb);
	*n = (uint32_t)total;
	return 0;
}

static int32_t
crash_limit(json_t *v)
{
	json_t *n;

	if (json_is_string(v) &&
	    strcmp(json_string_value(v), "NeverRestart") == 0)
		return HQ_CRASH_NEVER_RESTART;
	if (json_is_string(v))
		return HQ_CRASH_UNLIMITED;
	n = json_object_get(v, "MaxCrashes");
	if (json_is_integer(n) && json_integer_value(n) > 0 &&
	    json_integer_value(n) < INT32_MAX)
		return (int32_t)json_integer_value(n);
	return HQ_CRASH_DEFAULT;
}

static int
fold_job_created(struct hq_dashmodel *m, json_t *ev, const char *time,
    struct hq_errbuf *eb)
{
	json_t *desc = json_object_get(ev, "job_desc");
	json_t *td =
	    json_object_get(json_object_get(ev, "submit_desc"), "task_desc");
	json_t *closed = json_object_get(ev, "closed_job");
	const char *name = NULL;
	struct hq_dash_job *j;
	uint32_t id, n, mf;
	bool isnew;
	int rc;

	if ((rc = dash_u32(ev, "job", &id, eb)) != 0)
		return rc;
	if (desc != NULL && !json_is_object(desc))
		return dash_bad_field(ev, "job_desc", "an object", eb);
	if ((rc = dash_str(desc, "name", &name, eb)) != 0 ||
	    (rc = dash_u32_opt(desc, "max_fails", UINT32_MAX, &mf, eb)) != 0)
		return rc;
	if (!json_is_object(td))
		return dash_bad_field(ev, "submit_desc", "a submit description",
		    eb);
	if ((rc = submit_ntasks(ev, td, &n, eb)) != 0)
		return rc;
	isnew = job_get(m, id) == NULL;
	j = job_put(m, id);
	if (isnew) {
		/* "closed_job" false: a submit into an open job. */
		j->open = json_is_false(closed);
		j->crash_limit = json_object_get(td, "crash_limit") != NULL
		    ? crash_limit(json_object_get(td, "crash_limit"))
		    : HQ_CRASH_DEFAULT;
	}
	if (name != NULL && (*name != '\0' || isnew))
		set_str(&j->name, name);
	if (mf != UINT32_MAX) {
		j->has_max_fails = true;
		j->max_fails = mf;
	}
	job_add_tasks(j, n);
	ring_push(m, time, "job %u: %u task%s submitted%s%s", id, n,
	    n == 1 ? "" : "s", *j->name ? " -- " : "", j->name);
	return 0;
}

static int
fold_job_open(struct hq_dashmodel *m, json_t *ev, const char *time,
    struct hq_errbuf *eb)
{
	const char *name;
	struct hq_dash_job *j;
	uint32_t id, mf;
	int rc;

	if ((rc = dash_u32(ev, "job_id", &id, eb)) != 0 ||
	    (rc = dash_str(ev, "name", &name, eb)) != 0 ||
	    (rc = dash_u32_opt(ev, "max_fails", UINT32_MAX, &mf, eb)) != 0)
		return rc;
	j = job_put(m, id);
	j->open = true;
	set_str(&j->name, name != NULL ? name : "");
	j->has_max_fails = mf != UINT32_MAX;
	j->max_fails = mf != UINT32_MAX ? mf : 0;
	ring_push(m, time, "job %u opened%s%s", id, *j->name ? " -- " : "",
	    j->name);
	return 0;
}

/* job-close, job-cancel, job-forget */
static int
fold_job_change(struct hq_dashmodel *m, json_t *ev, const char *type,
    const char *time, struct hq_errbuf *eb)
{
	const char *reason = NULL;
	struct hq_dash_job *j;
	uint32_t id;
	int rc;

	if ((rc = dash_u32(ev, "job_id", &id, eb)) != 0 ||
	    (rc = dash_str(ev, "reason", &reason, eb)) != 0)
		return rc;
	j = job_get(m, id);
	if (strcmp(type, "job-close") == 0) {
		if (j != NULL)
			j->open = false;
		ring_push(m, time, "job %u closed", id);
	} else if (strcmp(type, "job-cancel") == 0) {
		if (j != NULL) {
			uint32_t before = j->counts[HQ_TASK_CANCELED];

			job_end_rest(m, j, HQ_TASK_CANCELED);
			job_compact(j);
			if (reason != NULL &&
			    j->counts[HQ_TASK_CANCELED] > before)
				set_str(&j->cancel_reason, reason);
		}
		ring_push(m, time, "job %u canceled%s%s", id,
		    reason ? ": " : "", reason ? reason : "");
	} else {
		if (j != NULL)
			job_drop(m, j);
		ring_push(m, time, "job %u forgotten", id);
	}
	return 0;
}

static int
fold_task(struct hq_dashmodel *m, json_t *ev, const char *type,
    const char *time, struct hq_errbuf *eb)
{
	struct dash_nodes nd = { NULL, 0 };
	const char *error = NULL, *what = type + 5;
	struct hq_dash_job *j;
	struct hq_dash_task *t;
	struct hq_dash_mn *r;
	uint32_t job, task;
	bool assign = strcmp(type, "task-assigned") == 0;
	bool start = strcmp(type, "task-started") == 0;
	int rc;

	if ((rc = dash_u32(ev, "job", &job, eb)) != 0 ||
	    (rc = dash_u32(ev, "task", &task, eb)) != 0)
		goto out;
	if ((assign || start) && (rc = dash_run_nodes(ev, &nd, eb)) != 0)
		goto out;
	if (strcmp(type, "task-failed") == 0 &&
	    (rc = dash_str(ev, "error", &error, eb)) != 0)
		goto out;
	if ((j = job_get(m, job)) == NULL)
		goto ring; /* pruned history */
	t = task_get(j, task,
	    assign || start ? HQ_TASK_WAITING : HQ_TASK_RUNNING);
	if (assign) {
		task_detach(m, j, t);
		if (t->state != HQ_TASK_WAITING)
			task_set_state(j, t, HQ_TASK_WAITING);
		task_attach(m, j, t, &nd, false);
	} else if (start) {
		/* Lines read back from the journal name only the root of a
		 * multi-node task: its nodes came with the assignment. */
		if (nd.n == 1 && t->mn && (r = mn_get(m, job, task)) != NULL &&
		    r->nodes[0] == nd.v[0]) {
			free(nd.v);
			nd.v = hq_xmemdup(r->nodes, r->n * sizeof *r->nodes);
			nd.n = r->n;
		}
		task_detach(m, j, t);
		task_set_state(j, t, HQ_TASK_RUNNING);
		task_attach(m, j, t, &nd, true);
	} else if (strcmp(type, "task-finished") == 0) {
		task_detach(m, j, t);
		task_set_state(j, t, HQ_TASK_FINISHED);
	} else if (strcmp(type, "task-requeued") == 0) {
		task_detach(m, j, t);
		task_set_state(j, t, HQ_TASK_WAITING);
	} else {
		task_failed(m, j, t);
	}
	job_compact(j);
ring:
	if (error != NULL)
		ring_push(m, time, "job %u task %u failed: %s", job, task,
		    error);
	else if (nd.n > 0)
		ring_push(m, time, "job %u task %u %s on worker %u%s", job,
		    task, what, nd.v[0], nd.n > 1 ? " (multi-node)" : "");
	else
		ring_push(m, time, "job %u task %u %s", job, task, what);
	rc = 0;
out:
	free(nd.v);
	return rc;
}

/* ---- workers and allocations --------------------------------------------- */

/* hq_lost_reason_name() of the reasons that count as a crash. */
static bool
reason_is_crash(const char *reason)
{
	return strcmp(reason, "ConnectionLost") == 0 ||
	    strcmp(reason, "HeartbeatLost") == 0;
}

/* A task in flight on a lost worker: requeued, or failed by its crash
 * limit (as the server's lost_task()). */
static void
lost_task(struct hq_dashmodel *m, struct hq_dash_job *j, struct hq_dash_task *t,
    const char *reason)
{
	bool running = t->state == HQ_TASK_RUNNING;

	task_detach(m, j, t);
	if (!running) {
		task_set_state(j, t, HQ_TASK_WAITING);
	} else if (j->crash_limit == HQ_CRASH_NEVER_RESTART) {
		task_failed(m, j, t);
	} else if (!reason_is_crash(reason)) {
		task_set_state(j, t, HQ_TASK_WAITING);
	} else {
		if (t->crashes < UINT8_MAX)
			t->crashes++;
		if (j->crash_limit > 0 &&
		    t->crashes >= (uint32_t)j->crash_limit)
			task_failed(m, j, t);
		else
			task_set_state(j, t, HQ_TASK_WAITING);
	}
}

static bool
task_on_worker(struct hq_dashmodel *m, uint32_t job,
    const struct hq_dash_task *t, uint32_t worker)
{
	struct hq_dash_mn *r;
	uint32_t k;

	if (!t->assigned && t->state != HQ_TASK_RUNNING)
		return false;
	if (t->worker == worker)
		return true;
	if (!t->mn || (r = mn_get(m, job, t->id)) == NULL)
		return false;
	for (k = 0; k < r->n; k++)
		if (r->nodes[k] == worker)
			return true;
	return false;
}

/* An allocation whose workers are all gone has ended (alloc_state.c). */
static void
alloc_worker_lost(struct hq_dashmodel *m, uint32_t worker)
{
	uint32_t i, k;

	for (i = 0; i < m->nallocs; i++) {
		struct hq_dash_alloc *a = &m->allocs[i];

		if (a->state > HQ_DASH_ALLOC_RUNNING)
			continue;
		for (k = 0; k < a->nworkers; k++)
			if (a->workers[k].id == worker && a->workers[k].online)
				break;
		if (k == a->nworkers)
			continue;
		a->workers[k].online = false;
		a->nonline--;
		a->ngone++;
		if (a->nonline == 0 && a->ngone >= a->target)
			a->state = HQ_DASH_ALLOC_FINISHED;
		return;
	}
}

static void
alloc_worker_connected(struct hq_dashmodel *m, const struct hq_dash_worker *w)
{
	struct hq_dash_aworker aw = { w->id, true };
	struct hq_dash_queue *q;
	uint32_t i, k;

	if (w->manager == NULL || w->allocation == NULL)
		return;
	for (i = m->nallocs; i > 0; i--) {
		struct hq_dash_alloc *a = &m->allocs[i - 1];

		if (a->state > HQ_DASH_ALLOC_RUNNING ||
		    strcmp(a->id, w->allocation) != 0 ||
		    (q = queue_get(m, a->queue_id)) == NULL ||
		    strcasecmp(q->manager, w->manager) != 0)
			continue;
		a->state = HQ_DASH_ALLOC_RUNNING;
		for (k = 0; k < a->nworkers; k++)
			if (a->workers[k].id == w->id)
				break;
		if (k == a->nworkers) {
			HQ_VEC_PUSH(a->workers, a->nworkers, a->wcap, aw);
			a->nonline++;
		} else if (!a->workers[k].online) {
			a->workers[k].online = true;
			a->nonline++;
			a->ngone--;
		}
		return;
	}
}

static int
fold_worker(struct hq_dashmodel *m, json_t *ev, const char *type,
    const char *time, struct hq_errbuf *eb)
{
	json_t *cfg = json_object_get(ev, "configuration");
	const char *reason = NULL;
	struct hq_dash_worker *w;
	uint32_t id, i, k;
	int rc;

	if ((rc = dash_u32(ev, "id", &id, eb)) != 0)
		return rc;
	if (strcmp(type, "worker-connected") == 0) {
		if (cfg != NULL && !json_is_object(cfg))
			return dash_bad_field(ev, "configuration", "an object",
			    eb);
		w = worker_put(m, id, cfg);
		alloc_worker_connected(m, w);
		ring_push(m, time, "worker %u connected%s%s%s", id,
		    *w->hostname ? " (" : "", w->hostname,
		    *w->hostname ? ")" : "");
		return 0;
	}
	if ((rc = dash_str(ev, "reason", &reason, eb)) != 0)
		return rc;
	if (reason == NULL)
		reason = "ConnectionLost";
	if ((w = worker_get(m, id)) != NULL) {
		w->online = false;
		set_str(&w->lost_reason, reason);
	}
	for (i = 0; i < m->njobs; i++) {
		struct hq_dash_job *j = &m->jobs[i];

		if (j->counts[HQ_TASK_RUNNING] == 0 && j->nassigned == 0)
			continue;
		for (k = 0; k < j->ntracked; k++)
			if (task_on_worker(m, j->id, &j->tasks[k], id))
				lost_task(m, j, &j->tasks[k], reason);
		job_compact(j);
	}
	if ((w = worker_get(m, id)) != NULL)
		w->nrunning = w->nassigned = 0;
	alloc_worker_lost(m, id);
	ring_push(m, time, "worker %u lost (%s)", id, reason);
	return 0;
}

const char *
hq_dash_alloc_state_name(enum hq_dash_alloc_state s)
{
	switch (s) {
	case HQ_DASH_ALLOC_QUEUED:
		return "QUEUED";
	case HQ_DASH_ALLOC_RUNNING:
		return "RUNNING";
	case HQ_DASH_ALLOC_FINISHED:
		return "FINISHED";
	case HQ_DASH_ALLOC_FAILED:
		return "FAILED";
	}
	return "?";
}

/* Keep at most HQ_DASH_MAX_ALLOCS: the oldest ended ones go first. */
static void
alloc_trim(struct hq_dashmodel *m)
{
	uint32_t i;

	while (m->nallocs > HQ_DASH_MAX_ALLOCS) {
		for (i = 0; i < m->nallocs; i++)
			if (m->allocs[i].state > HQ_DASH_ALLOC_RUNNING)
				break;
		if (i == m->nallocs)
			return;
		alloc_fini(&m->allocs[i]);
		memmove(&m->allocs[i], &m->allocs[i + 1],
		    (m->nallocs - i - 1) * sizeof *m->allocs);
		m->nallocs--;
	}
}

static void
queue_drop(struct hq_dashmodel *m, struct hq_dash_queue *q)
{
	uint32_t i = (uint32_t)(q - m->queues), k, n = 0;

	for (k = 0; k < m->nallocs; k++) {
		if (m->allocs[k].queue_id == q->id)
			alloc_fini(&m->allocs[k]);
		else
			m->allocs[n++] = m->allocs[k];
	}
	m->nallocs = n;
	queue_fini(q);
	memmove(&m->queues[i], &m->queues[i + 1],
	    (m->nqueues - i - 1) * sizeof *m->queues);
	m->nqueues--;
}

static int
fold_queue_created(struct hq_dashmodel *m, json_t *ev, uint32_t qid,
    const char *time, struct hq_errbuf *eb)
{
	json_t *p = json_object_get(ev, "params");
	const char *manager = NULL, *name = NULL;
	struct hq_dash_queue *q;
	uint32_t backlog, perall, maxw, i;
	bool found;
	int rc;

	if (!json_is_object(p))
		return dash_bad_field(ev, "params", "an object", eb);
	if ((rc = dash_str(p, "manager", &manager, eb)) != 0 ||
	    (rc = dash_str(p, "name", &name, eb)) != 0 ||
	    (rc = dash_u32_opt(p, "backlog", 0, &backlog, eb)) != 0 ||
	    (rc = dash_u32_opt(p, "max_workers_per_alloc", 0, &perall, eb)) !=
		0 ||
	    (rc = dash_u32_opt(p, "max_worker_count", 0, &maxw, eb)) != 0)
		return rc;
	DASH_BSEARCH(m->queues, m->nqueues, qid, i, found);
	if (found) {
		queue_fini(&m->queues[i]);
	} else {
		HQ_VEC_RESERVE(m->queues, m->qcap, m->nqueues + 1);
		memmove(&m->queues[i + 1], &m->queues[i],
		    (m->nqueues - i) * sizeof *m->queues);
		m->nqueues++;
	}
	q = &m->queues[i];
	memset(q, 0, sizeof *q);
	q->id = qid;
	q->manager = hq_xstrdup(manager != NULL ? manager : "");
	q->name = name != NULL ? hq_xstrdup(name) : NULL;
	q->backlog = backlog;
	q->max_workers_per_alloc = perall;
	q->max_worker_count = maxw;
	q->time_limit_ms = dash_duration(json_object_get(p, "timelimit"));
	ring_push(m, time, "allocation queue %u created (%s%s%s)", qid,
	    q->manager, name ? ", " : "", name ? name : "");
	return 0;
}

static int
fold_alloc(struct hq_dashmodel *m, json_t *ev, const char *type,
    const char *time, struct hq_errbuf *eb)
{
	const char *what = type + strlen("autoalloc-"), *aid = NULL;
	const char *msg = NULL;
	struct hq_dash_queue *q;
	struct hq_dash_alloc *a, na;
	json_t *failed = json_object_get(ev, "failed");
	uint32_t qid, count = 0;
	int rc;

	if ((rc = dash_u32(ev, "queue-id", &qid, eb)) != 0 ||
	    (rc = dash_str(ev, "allocation-id", &aid, eb)) != 0 ||
	    (rc = dash_str(ev, "message", &msg, eb)) != 0 ||
	    (rc = dash_u32_opt(ev, "worker-count", 0, &count, eb)) != 0)
		return rc;
	if (strcmp(what, "queue-created") == 0)
		return fold_queue_created(m, ev, qid, time, eb);
	if (strncmp(what, "allocation-", 11) == 0 && aid == NULL)
		return dash_bad_field(ev, "allocation-id", "a string", eb);
	q = queue_get(m, qid);
	a = aid != NULL ? alloc_get(m, qid, aid) : NULL;
	if (strcmp(what, "queue-removed") == 0) {
		if (q != NULL)
			queue_drop(m, q);
		ring_push(m, time, "allocation queue %u removed", qid);
	} else if (strcmp(what, "queue-paused") == 0 ||
	    strcmp(what, "queue-resumed") == 0) {
		bool pause = what[6] == 'p';

		if (q != NULL) {
			q->paused = pause;
			set_str(&q->message, pause ? msg : NULL);
		}
		ring_push(m, time, "allocation queue %u %s%s%s", qid,
		    pause ? "paused" : "resumed", msg ? ": " : "",
		    msg ? msg : "");
	} else if (strcmp(what, "submission-failed") == 0) {
		if (q != NULL)
			set_str(&q->message, msg);
		ring_push(m, time, "allocation queue %u: submission failed%s%s",
		    qid, msg ? ": " : "", msg ? msg : "");
	} else if (strcmp(what, "allocation-queued") == 0) {
		if (q != NULL && a == NULL) {
			memset(&na, 0, sizeof na);
			na.id = hq_xstrdup(aid);
			na.queue_id = qid;
			na.target = count;
			HQ_VEC_PUSH(m->allocs, m->nallocs, m->acap, na);
			alloc_trim(m);
		}
		ring_push(m, time,
		    "allocation %s queued (queue %u, %u worker%s)", aid, qid,
		    count, count == 1 ? "" : "s");
	} else if (strcmp(what, "allocation-started") == 0) {
		if (a != NULL && a->state == HQ_DASH_ALLOC_QUEUED)
			a->state = HQ_DASH_ALLOC_RUNNING;
		ring_push(m, time, "allocation %s started", aid);
	} else if (strcmp(what, "allocation-finished") == 0) {
		if (a != NULL)
			a->state = json_is_true(failed)
			    ? HQ_DASH_ALLOC_FAILED
			    : HQ_DASH_ALLOC_FINISHED;
		ring_push(m, time, "allocation %s %s", aid,
		    json_is_true(failed) ? "failed" : "finished");
	} else {
		ring_push(m, time, "%s (queue %u)", type, qid);
	}
	return 0;
}

/* ---- feeding ------------------------------------------------------------- */

int
hq_dashmodel_feed_json(struct hq_dashmodel *m, json_t *line,
    struct hq_errbuf *eb)
{
	json_t *ev = json_object_get(line, "event"), *seqv;
	const char *type, *time = NULL;
	uint64_t seq = 0;
	char ex[DASH_EXCERPT + 8];
	int rc;

	if (!json_is_object(line) || !json_is_object(ev) ||
	    !json_is_string(json_object_get(ev, "type"))) {
		dash_excerpt(line, ex, sizeof ex);
		return hq_errf(eb, HQ_EINVAL,
		    "not an event line (an object with \"event\": {\"type\": "
		    "...}): %s",
		    ex);
	}
	seqv = json_object_get(line, "seq");
	if (seqv != NULL &&
	    (!json_is_integer(seqv) || json_integer_value(seqv) < 0)) {
		dash_excerpt(line, ex, sizeof ex);
		return hq_errf(eb, HQ_EINVAL,
		    "event line %s: \"seq\" is not an unsigned integer", ex);
	}
	if (seqv != NULL)
		seq = (uint64_t)json_integer_value(seqv);
	if ((rc = dash_str(line, "time", &time, eb)) != 0)
		return rc;
	type = json_string_value(json_object_get(ev, "type"));
	if (strcmp(type, "server-start") == 0) {
		const char *uid;

		if ((rc = dash_str(ev, "server_uid", &uid, eb)) != 0)
			return rc;
		if (uid != NULL)
			set_str(&m->server_uid, uid);
		m->server_stopped = false;
		ring_push(m, time, "server started (uid %s)",
		    uid != NULL ? uid : "?");
	} else if (strcmp(type, "server-stop") == 0) {
		m->server_stopped = true;
		ring_push(m, time, "server stopped");
	} else if (strcmp(type, "job-created") == 0) {
		rc = fold_job_created(m, ev, time, eb);
	} else if (strcmp(type, "job-open") == 0) {
		rc = fold_job_open(m, ev, time, eb);
	} else if (strcmp(type, "job-close") == 0 ||
	    strcmp(type, "job-cancel") == 0 ||
	    strcmp(type, "job-forget") == 0) {
		rc = fold_job_change(m, ev, type, time, eb);
	} else if (strncmp(type, "task-", 5) == 0 &&
	    (strcmp(type + 5, "assigned") == 0 ||
		strcmp(type + 5, "started") == 0 ||
		strcmp(type + 5, "finished") == 0 ||
		strcmp(type + 5, "requeued") == 0 ||
		strcmp(type + 5, "failed") == 0)) {
		rc = fold_task(m, ev, type, time, eb);
	} else if (strcmp(type, "worker-connected") == 0 ||
	    strcmp(type, "worker-lost") == 0) {
		rc = fold_worker(m, ev, type, time, eb);
	} else if (strncmp(type, "autoalloc-", 10) == 0) {
		rc = fold_alloc(m, ev, type, time, eb);
	} else {
		ring_push(m, time, "%s", type);
	}
	if (rc != 0)
		return rc;
	if (m->first_seq == 0)
		m->first_seq = seq;
	if (seq > m->last_seq)
		m->last_seq = seq;
	m->nevents++;
	return 0;
}

int
hq_dashmodel_feed_text(struct hq_dashmodel *m, const char *text, size_t len,
    uint32_t *nbad, struct hq_errbuf *eb)
{
	struct hq_errbuf one;
	json_error_t jerr;
	const char *p = text, *end = text + len, *nl;
	uint32_t lineno = 0, bad = 0;
	json_t *o;
	int rc, first_rc = 0;

	while (p < end) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (n > 0 && !(n == 1 && p[0] == '\r')) {
			o = json_loadb(p, n, 0, &jerr);
			if (o == NULL)
				rc = hq_errf(&one, HQ_EINVAL,
				    "not JSON (%s): %.*s%s", jerr.text,
				    (int)HQ_MIN(n, (size_t)DASH_EXCERPT), p,
				    n > DASH_EXCERPT ? "..." : "");
			else
				rc = hq_dashmodel_feed_json(m, o, &one);
			json_decref(o);
			if (rc != 0) {
				if (bad++ == 0) {
					first_rc = rc;
					hq_errf(eb, rc, "line %u: %s", lineno,
					    one.msg);
				}
			}
		}
		p += n + (nl != NULL);
	}
	if (nbad != NULL)
		*nbad = bad;
	return first_rc;
}

/* ---- seeding ------------------------------------------------------------- */

static int
seed_job(struct hq_dashmodel *m, json_t *o, struct hq_errbuf *eb)
{
	static const char *const keys[HQ_DASH_NSTATES] = { "waiting", "running",
		"finished", "failed", "canceled", "aborted" };
	json_t *stats = json_object_get(o, "task_stats");
	uint32_t id, n, c[HQ_DASH_NSTATES], k;
	const char *name;
	struct hq_dash_job *j;
	int rc;

	if ((rc = dash_u32(o, "id", &id, eb)) != 0 ||
	    (rc = dash_str(o, "name", &name, eb)) != 0 ||
	    (rc = dash_u32(o, "task_count", &n, eb)) != 0)
		return rc;
	if (!json_is_object(stats))
		return dash_bad_field(o, "task_stats", "an object", eb);
	for (k = 0; k < HQ_DASH_NSTATES; k++)
		if ((rc = dash_u32_opt(stats, keys[k], 0, &c[k], eb)) != 0)
			return rc;
	if (job_get(m, id) != NULL)
		return 0;
	j = job_put(m, id);
	set_str(&j->name, name != NULL ? name : "");
	j->open = json_is_true(json_object_get(o, "is_open"));
	j->ntasks = n;
	memcpy(j->counts, c, sizeof c);
	memcpy(j->ucounts, c, sizeof c);
	return 0;
}

int
hq_dashmodel_seed(struct hq_dashmodel *m, json_t *workers, json_t *jobs,
    struct hq_errbuf *eb)
{
	json_t *o, *cfg;
	size_t i;
	uint32_t id;
	int rc;

	m->seeded = true;
	if (workers != NULL && !json_is_array(workers))
		return hq_errf(eb, HQ_EINVAL, "the worker list is not a list");
	if (jobs != NULL && !json_is_array(jobs))
		return hq_errf(eb, HQ_EINVAL, "the job list is not a list");
	json_array_foreach(workers, i, o)
	{
		if ((rc = dash_u32(o, "id", &id, eb)) != 0)
			return rc;
		cfg = json_object_get(o, "configuration");
		if (cfg != NULL && !json_is_object(cfg))
			return dash_bad_field(o, "configuration", "an object",
			    eb);
		worker_put(m, id, cfg);
	}
	json_array_foreach(jobs, i, o)
	{
		if ((rc = seed_job(m, o, eb)) != 0)
			return rc;
	}
	return 0;
}

void
hq_dashmodel_totals(const struct hq_dashmodel *m, struct hq_dash_totals *t)
{
	uint32_t i, k;

	memset(t, 0, sizeof *t);
	t->workers = m->nworkers;
	for (i = 0; i < m->nworkers; i++)
		t->workers_online += m->workers[i].online;
	t->jobs = m->njobs;
	for (i = 0; i < m->njobs; i++) {
		t->tasks += m->jobs[i].ntasks;
		for (k = 0; k < HQ_DASH_NSTATES; k++)
			t->counts[k] += m->jobs[i].counts[k];
	}
	t->queues = m->nqueues;
	for (i = 0; i < m->nallocs; i++) {
		t->allocs_queued += m->allocs[i].state == HQ_DASH_ALLOC_QUEUED;
		t->allocs_running +=
		    m->allocs[i].state == HQ_DASH_ALLOC_RUNNING;
	}
}
