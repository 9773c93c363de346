/* SPDX-License-Identifier: MIT */
/*
 * Client connections: hello, submits, queries, commands and waits. Every
 * change becomes an event through server_emit(); every reply is tagged
 * with the seq it depends on, so a client never hears of a change that is
 * not durable.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <unistd.h>

#include "common/log.h"
#include "common/parse.h"
#include "common/placeholder.h"
#include "common/version.h"
#include "server/autoalloc.h"
#include "server/server.h"

static void client_on_ready(struct hq_conn *c, void *arg);
static void client_on_frame(struct hq_conn *c, const uint8_t *data, size_t len,
    void *arg);
static void client_on_close(struct hq_conn *c, const char *why, void *arg);

static const struct hq_conn_cbs client_cbs = {
	.on_ready = client_on_ready,
	.on_frame = client_on_frame,
	.on_close = client_on_close,
};

void
clients_accept(int fd, void *arg)
{
	struct server *s = arg;
	struct client *cl;
	struct hq_conn *c;

	if (s->stopping) {
		close(fd);
		return;
	}
	cl = hq_xcalloc(1, sizeof *cl);
	cl->s = s;
	cl->id = ++s->next_client_id;
	if (hq_conn_create(s->loop, fd, s->client_tls, true,
		HQ_MAX_FRAME_CLIENT_IN, &client_cbs, cl, &c) != 0) {
		free(cl);
		return;
	}
	cl->conn = c;
	cl->next = s->clients;
	if (s->clients)
		s->clients->prev = cl;
	s->clients = cl;
}

static void
client_on_ready(struct hq_conn *c, void *arg)
{
	(void)c;
	(void)arg;
}

static void
waiter_free(struct server *s, struct waiter *w)
{
	struct waiter **pp;

	for (pp = &s->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	free(w->jobs);
	free(w);
}

static void
client_on_close(struct hq_conn *c, const char *why, void *arg)
{
	struct client *cl = arg;
	struct server *s = cl->s;

	(void)c;
	(void)why;
	if (cl->waiter != NULL)
		waiter_free(s, cl->waiter);
	if (cl->streaming && cl->in_live)
		s->nlive--;
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		s->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	free(cl);
	server_conn_gone(s);
}

void
clients_close_all(struct server *s)
{
	struct client *cl;

	for (cl = s->clients; cl != NULL; cl = cl->next)
		hq_conn_close(cl->conn, "server stopping");
}

/* ---- selectors ----------------------------------------------------------- */

uint32_t *
query_select_jobs(struct server *s, const struct hq_selector *sel, uint32_t *n,
    uint32_t **missing, uint32_t *nmissing)
{
	uint32_t *out = NULL, cap = 0, i, k, last;

	*n = 0;
	if (missing) {
		*missing = NULL;
		*nmissing = 0;
	}
	switch (sel->kind) {
	case HQ_SEL_LAST:
		last = hq_state_last_job_id(s->st);
		if (last != 0 && hq_state_job(s->st, last) != NULL)
			HQ_VEC_PUSH(out, *n, cap, last);
		break;
	case HQ_SEL_ALL:
		for (i = 1; i < s->st->next_job_id; i++)
			if (hq_state_job(s->st, i) != NULL)
				HQ_VEC_PUSH(out, *n, cap, i);
		break;
	default:
		for (i = 0; i < sel->ids.n; i++) {
			const struct hq_idrange *r = &sel->ids.r[i];

			for (k = 0; k < r->count; k++) {
				uint32_t id = r->start + k * r->step;

				if (hq_state_job(s->st, id) != NULL) {
					HQ_VEC_PUSH(out, *n, cap, id);
				} else if (missing) {
					uint32_t mcap = *nmissing;

					*missing = hq_xreallocarray(*missing,
					    mcap + 1, sizeof **missing);
					(*missing)[(*nmissing)++] = id;
				}
				/* Do not walk a huge range of absent ids. */
				if (id >= s->st->next_job_id &&
				    (!missing || *nmissing > 10000))
					break;
			}
		}
		break;
	}
	return out;
}

/* ---- submit -------------------------------------------------------------- */

static bool
has_cycle(const struct hq_submit *sub)
{
	struct hq_u32map pos;
	uint32_t *indeg, *queue, *off, *adj, i, k, head = 0, tail = 0, seen = 0;
	bool cycle;

	hq_u32map_init(&pos);
	for (i = 0; i < sub->ntasks; i++)
		hq_u32map_put(&pos, sub->tasks[i].id, i);
	indeg = hq_xcalloc(sub->ntasks + 1, sizeof *indeg);
	off = hq_xcalloc(sub->ntasks + 1, sizeof *off);
	/* Edges dep -> task, only between tasks of this submit. */
	for (i = 0; i < sub->ntasks; i++)
		for (k = 0; k < sub->tasks[i].ndeps; k++) {
			uint32_t d;

			if (hq_u32map_get(&pos, sub->tasks[i].deps[k], &d)) {
				off[d + 1]++;
				indeg[i]++;
			}
		}
	for (i = 0; i < sub->ntasks; i++)
		off[i + 1] += off[i];
	adj = hq_xcalloc(off[sub->ntasks] + 1, sizeof *adj);
	{
		uint32_t *fill = hq_xcalloc(sub->ntasks + 1, sizeof *fill);

		for (i = 0; i < sub->ntasks; i++)
			for (k = 0; k < sub->tasks[i].ndeps; k++) {
				uint32_t d;

				if (hq_u32map_get(&pos, sub->tasks[i].deps[k],
					&d))
					adj[off[d] + fill[d]++] = i;
			}
		free(fill);
	}
	queue = hq_xcalloc(sub->ntasks + 1, sizeof *queue);
	for (i = 0; i < sub->ntasks; i++)
		if (indeg[i] == 0)
			queue[tail++] = i;
	while (head < tail) {
		uint32_t t = queue[head++];

		seen++;
		for (k = off[t]; k < off[t + 1]; k++)
			if (--indeg[adj[k]] == 0)
				queue[tail++] = adj[k];
	}
	cycle = seen != sub->ntasks;
	free(indeg);
	free(queue);
	free(off);
	free(adj);
	hq_u32map_fini(&pos);
	return cycle;
}

static int
validate_desc(const struct hq_task_desc *d, struct hq_errbuf *eb)
{
	uint32_t i, j;

	if (d->argc == 0 || d->argv[0][0] == '\0')
		return hq_errf(eb, HQ_EINVAL, "the task has no command");
	if (d->req.n == 0)
		return hq_errf(eb, HQ_EINVAL,
		    "the task has no resource request");
	for (i = 0; i < d->req.n; i++) {
		const struct hq_res_variant *v = &d->req.v[i];

		if (v->weight == 0)
			return hq_errf(eb, HQ_EINVAL,
			    "resource weight must be positive");
		if (v->n_nodes > 0 && d->req.n > 1)
			return hq_errf(eb, HQ_EINVAL,
			    "a multi-node request cannot have variants");
		for (j = 0; j < v->n; j++) {
			if (v->e[j].policy != HQ_POLICY_ALL &&
			    v->e[j].amount == 0)
				return hq_errf(eb, HQ_EINVAL,
				    "resource %s: amount must be positive",
				    v->e[j].name);
			if (v->n_nodes > 0)
				return hq_errf(eb, HQ_EINVAL,
				    "a multi-node request cannot name "
				    "resources");
		}
	}
	if (d->crash_limit < HQ_CRASH_NEVER_RESTART)
		return hq_errf(eb, HQ_EINVAL, "invalid crash limit");
	return 0;
}

int
clients_validate_submit(const struct hq_submit *sub, const struct hq_job *job,
    struct hq_errbuf *eb)
{
	struct hq_u32map ids;
	uint32_t i, k, v;
	int rc = 0;

	if (sub->ndescs == 0)
		return hq_errf(eb, HQ_EINVAL, "the submit has no task");
	for (i = 0; i < sub->ndescs; i++)
		if ((rc = validate_desc(&sub->descs[i], eb)) != 0)
			return rc;
	if (!sub->graph) {
		uint64_t n = hq_idset_count(&sub->ids);

		if (sub->nentries > 0 && sub->ids.n > 0 && n != sub->nentries)
			return hq_errf(eb, HQ_EINVAL,
			    "%llu task ids for %u entries",
			    (unsigned long long)n, sub->nentries);
		if (n > 100000000ULL)
			return hq_errf(eb, HQ_ETOOBIG,
			    "too many tasks in one submit (%llu)",
			    (unsigned long long)n);
		return 0;
	}
	if (sub->ntasks == 0)
		return hq_errf(eb, HQ_EINVAL, "No tasks defined");
	hq_u32map_init(&ids);
	for (i = 0; i < sub->ntasks && rc == 0; i++) {
		if (hq_u32map_get(&ids, sub->tasks[i].id, &v))
			rc = hq_errf(eb, HQ_EINVAL,
			    "Task %u is defined multiple times",
			    sub->tasks[i].id);
		hq_u32map_put(&ids, sub->tasks[i].id, i);
	}
	for (i = 0; i < sub->ntasks && rc == 0; i++)
		for (k = 0; k < sub->tasks[i].ndeps && rc == 0; k++) {
			uint32_t d = sub->tasks[i].deps[k];

			if (d == sub->tasks[i].id ||
			    (!hq_u32map_get(&ids, d, &v) &&
				(job == NULL || hq_job_task_index(job, d) < 0)))
				rc = hq_errf(eb, HQ_EINVAL,
				    "Invalid dependency on %u", d);
		}
	if (rc == 0 && has_cycle(sub)) {
		for (i = 0; i < sub->ntasks; i++)
			if (sub->tasks[i].ndeps > 0)
				break;
		rc = hq_errf(eb, HQ_EINVAL,
		    "Task %u is part of dependency cycle or has an invalid "
		    "dependencies",
		    sub->tasks[i < sub->ntasks ? i : 0].id);
	}
	hq_u32map_fini(&ids);
	return rc;
}

/* Phase 1 of placeholder resolution (spec 2.3), for array submits. */
static void
resolve_paths(const char *server_uid, struct hq_submit *sub, uint32_t job_id)
{
	struct hq_task_desc *d = &sub->descs[0];
	char jid[16];
	struct hq_ph_ctx ctx;
	char *p;

	snprintf(jid, sizeof jid, "%u", job_id);
	memset(&ctx, 0, sizeof ctx);
	ctx.job_id = jid;
	ctx.submit_dir = sub->submit_dir;
	ctx.server_uid = server_uid;
	if (d->cwd == NULL)
		d->cwd = hq_xstrdup("%{SUBMIT_DIR}");
	p = hq_ph_expand(d->cwd, &ctx, NULL);
	free(d->cwd);
	d->cwd = p;
	if (!hq_ph_has_known(d->cwd) && d->cwd[0] != '/' && sub->submit_dir) {
		p = hq_path_join(sub->submit_dir, d->cwd);
		free(d->cwd);
		d->cwd = p;
	}
	if (!hq_ph_has_known(d->cwd))
		ctx.cwd = d->cwd;
	for (int i = 0; i < 2; i++) {
		struct hq_stdio *io = i == 0 ? &d->out : &d->err;

		if (io->kind != HQ_STDIO_FILE || io->path == NULL)
			continue;
		p = hq_ph_expand(io->path, &ctx, NULL);
		free(io->path);
		io->path = p;
		if (!hq_ph_has_known(io->path) && io->path[0] != '/' &&
		    ctx.cwd != NULL) {
			p = hq_path_join(ctx.cwd, io->path);
			free(io->path);
			io->path = p;
		}
	}
	if (sub->stream_dir != NULL) {
		ctx.cwd = NULL;
		p = hq_ph_expand(sub->stream_dir, &ctx, NULL);
		free(sub->stream_dir);
		sub->stream_dir = p;
		if (sub->stream_dir[0] != '/' && sub->submit_dir) {
			p = hq_path_join(sub->submit_dir, sub->stream_dir);
			free(sub->stream_dir);
			sub->stream_dir = p;
		}
	}
}

/*
 * Graph submits (job files) keep their task paths for the worker, but the
 * stream dir is resolved now as for arrays (spec 2.3): JOB_ID, SUBMIT_DIR
 * and SERVER_UID, then made absolute against the submit dir.
 */
static void
resolve_graph_stream(const char *server_uid, struct hq_submit *sub,
    uint32_t job_id)
{
	struct hq_ph_ctx ctx;
	char jid[16], *p;

	if (sub->stream_dir == NULL)
		return;
	snprintf(jid, sizeof jid, "%u", job_id);
	memset(&ctx, 0, sizeof ctx);
	ctx.job_id = jid;
	ctx.submit_dir = sub->submit_dir;
	ctx.server_uid = server_uid;
	p = hq_ph_expand(sub->stream_dir, &ctx, NULL);
	free(sub->stream_dir);
	sub->stream_dir = p;
	if (sub->stream_dir[0] != '/' && sub->submit_dir) {
		p = hq_path_join(sub->submit_dir, sub->stream_dir);
		free(sub->stream_dir);
		sub->stream_dir = p;
	}
}

void
clients_resolve_submit(struct hq_submit *sub, uint32_t job_id,
    const char *server_uid)
{
	if (!sub->graph)
		resolve_paths(server_uid, sub, job_id);
	else
		resolve_graph_stream(server_uid, sub, job_id);
}

static void
reply_job_id(struct server *s, struct client *cl, uint32_t job_id)
{
	struct hq_smsg r;

	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_SUBMIT;
	r.job_id = job_id;
	server_send_smsg(s, cl->conn, &r);
}

static void client_submit_waiter(struct server *s, struct client *cl,
    uint32_t job_id);

static void
client_submit(struct server *s, struct client *cl, struct hq_cmsg *m)
{
	struct hq_submit *sub = &m->submit;
	struct hq_job *job = NULL;
	struct hq_event ev;
	struct hq_errbuf eb;
	uint32_t job_id;

	if (m->job_id != 0) {
		job = hq_state_job(s->st, m->job_id);
		if (job == NULL) {
			server_send_error(s, cl->conn, "Job %u not found.",
			    m->job_id);
			return;
		}
		if (!job->is_open) {
			server_send_error(s, cl->conn, "Job %u is not opened.",
			    m->job_id);
			return;
		}
		job_id = m->job_id;
	} else {
		job_id = s->st->next_job_id;
	}
	if (clients_validate_submit(sub, job, &eb) != 0) {
		server_send_error(s, cl->conn, "%s", eb.msg);
		return;
	}
	if (!sub->graph && sub->ids.n == 0) {
		/* The server assigns ids: 0 (or 0..n-1 for entries), after
		 * the largest id of an open job. */
		uint32_t first = 0, n = sub->nentries ? sub->nentries : 1;

		if (job != NULL && job->ntasks > 0)
			first = job->max_id + 1;
		hq_idset_add_range(&sub->ids, first, n, 1);
	}
	clients_resolve_submit(sub, job_id, s->access.server_uid);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = hq_now_ms();
	ev.u.submitted.job_id = job_id;
	ev.u.submitted.new_job = job == NULL;
	ev.u.submitted.name = m->name;
	ev.u.submitted.has_max_fails = m->has_max_fails;
	ev.u.submitted.max_fails = m->max_fails;
	ev.u.submitted.submit = *sub; /* borrowed: apply copies it */
	if (server_emit(s, &ev, &eb) != 0) {
		/* Duplicate ids into an open job and the like. */
		server_send_error(s, cl->conn, "%s", eb.msg);
		return;
	}
	reply_job_id(s, cl, job_id);
	if (m->notify)
		client_submit_waiter(s, cl, job_id);
}

static void
client_job_open(struct server *s, struct client *cl, struct hq_cmsg *m)
{
	struct hq_event ev;
	uint32_t id = s->st->next_job_id;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_OPENED;
	ev.time_ms = hq_now_ms();
	ev.u.opened.job_id = id;
	ev.u.opened.name = m->name && *m->name ? m->name : (char *)"job";
	ev.u.opened.has_max_fails = m->has_max_fails;
	ev.u.opened.max_fails = m->max_fails;
	server_emit(s, &ev, NULL);
	reply_job_id(s, cl, id);
}

/* ---- queries
 * ------------------------------------------------------------------ */

static void
reply_json(struct server *s, struct client *cl, json_t *j)
{
	struct hq_smsg r;

	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_JSON;
	r.json = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (r.json == NULL)
		hq_fatalx("out of memory");
	server_send_smsg(s, cl->conn, &r);
	hq_smsg_fini(&r);
}

static void
client_query(struct server *s, struct client *cl, struct hq_cmsg *m)
{
	char *err = NULL;
	json_t *j = NULL;

	switch (m->sub) {
	case HQ_Q_SERVER_INFO:
		j = query_server_info(s);
		break;
	case HQ_Q_JOB_LIST:
		j = query_job_list(s);
		break;
	case HQ_Q_JOB_INFO:
		j = query_job_info(s, m);
		break;
	case HQ_Q_TASK_LIST:
		j = query_task_list(s, m, &err);
		break;
	case HQ_Q_TASK_INFO:
		j = query_task_info(s, m, &err);
		break;
	case HQ_Q_WORKER_LIST:
		j = query_worker_list(s, m->all);
		break;
	case HQ_Q_WORKER_INFO:
		j = query_worker_info(s, m);
		break;
	case HQ_Q_JOB_SUMMARY:
		j = query_job_summary(s);
		break;
	case HQ_Q_TASK_IDS:
		j = query_task_ids(s, m);
		break;
	case HQ_Q_JOB_OUTPUTS:
		j = query_job_outputs(s, m, &err);
		break;
	case HQ_Q_TASK_EXPLAIN:
		j = query_task_explain(s, m, &err);
		break;
	case HQ_Q_ALLOC_LIST:
		j = autoalloc_query_list(s);
		break;
	case HQ_Q_ALLOC_INFO:
		j = autoalloc_query_info(s, m, &err);
		break;
	default:
		err = hq_xprintf("query %d is not supported by this server",
		    m->sub);
	}
	if (err != NULL) {
		server_send_error(s, cl->conn, "%s", err);
		free(err);
		json_decref(j);
		return;
	}
	reply_json(s, cl, j);
}

/* ---- commands
 * -------------------------------------------------------------------- */

static bool
state_in(const struct hq_cmsg *m, const char *name, const char *const *dflt)
{
	uint32_t i;

	if (m->nstates == 0) {
		for (i = 0; dflt[i] != NULL; i++)
			if (strcasecmp(dflt[i], name) == 0)
				return true;
		return false;
	}
	for (i = 0; i < m->nstates; i++)
		if (strcasecmp(m->states[i], name) == 0)
			return true;
	return false;
}

static void
cmd_cancel(struct server *s, struct hq_cmsg *m, struct hq_smsg *r)
{
	uint32_t *jobs, n, *missing, nmissing, i, *cancel = NULL, nc = 0,
						  cc = 0;
	struct hq_event ev;

	jobs = query_select_jobs(s, &m->sel, &n, &missing, &nmissing);
	for (i = 0; i < nmissing; i++)
		hq_smsg_add_line(r, HQ_LINE_ERROR,
		    "Canceling job %u failed; job not found", missing[i]);
	for (i = 0; i < n; i++) {
		struct hq_job *job = hq_state_job(s->st, jobs[i]);
		uint32_t active =
		    job->counts[HQ_TASK_WAITING] + job->counts[HQ_TASK_RUNNING];

		if (active == 0) {
			if (m->sel.kind != HQ_SEL_ALL)
				hq_smsg_add_line(r, HQ_LINE_ERROR,
				    "Canceling job %u failed; all tasks are "
				    "already finished",
				    job->id);
			continue;
		}
		hq_smsg_add_line(r, HQ_LINE_INFO,
		    "Job %u canceled (%u tasks canceled, %u tasks already "
		    "finished)",
		    job->id, active, job->ntasks - active);
		HQ_VEC_PUSH(cancel, nc, cc, job->id);
	}
	if (nc == 0 && (m->sel.kind == HQ_SEL_ALL || n == 0) && nmissing == 0)
		hq_smsg_add_line(r, HQ_LINE_INFO, "There is nothing to cancel");
	if (nc > 0) {
		memset(&ev, 0, sizeof ev);
		ev.kind = HQ_EV_JOBS_CANCELED;
		ev.time_ms = hq_now_ms();
		ev.u.jobs.n = nc;
		ev.u.jobs.ids = cancel;
		ev.u.jobs.reason = m->reason;
		server_emit(s, &ev, NULL);
	}
	free(cancel);
	free(jobs);
	free(missing);
}

static void
cmd_forget(struct server *s, struct hq_cmsg *m, struct hq_smsg *r)
{
	static const char *const dflt[] = { "finished", "failed", "aborted",
		"canceled", NULL };
	uint32_t *jobs, n, *missing, nmissing, i, *forget = NULL, nf = 0,
						  fc = 0;
	struct hq_event ev;

	jobs = query_select_jobs(s, &m->sel, &n, &missing, &nmissing);
	for (i = 0; i < n; i++) {
		struct hq_job *job = hq_state_job(s->st, jobs[i]);
		char lower[16];
		const char *st = hq_job_state_name(hq_job_state(job));
		size_t k;

		for (k = 0; st[k] && k < sizeof lower - 1; k++)
			lower[k] = (char)(st[k] | 0x20);
		lower[k] = '\0';
		if (hq_job_terminated(job) && state_in(m, lower, dflt))
			HQ_VEC_PUSH(forget, nf, fc, job->id);
	}
	if (nf > 0) {
		memset(&ev, 0, sizeof ev);
		ev.kind = HQ_EV_JOBS_FORGOTTEN;
		ev.time_ms = hq_now_ms();
		ev.u.jobs.n = nf;
		ev.u.jobs.ids = forget;
		server_emit(s, &ev, NULL);
#ifdef __GLIBC__
		/* The tasks are freed, but glibc keeps freed heap pages: give
		 * them back, since a server runs for weeks on a shared node. */
		malloc_trim(0);
#endif
	}
	if (n + nmissing - nf > 0)
		hq_smsg_add_line(r, HQ_LINE_INFO,
		    "%u job(s) were forgotten, %u were ignored due to wrong "
		    "state or invalid ID",
		    nf, n + nmissing - nf);
	else
		hq_smsg_add_line(r, HQ_LINE_INFO, "%u job(s) were forgotten",
		    nf);
	free(forget);
	free(jobs);
	free(missing);
}

static void
cmd_close(struct server *s, struct hq_cmsg *m, struct hq_smsg *r)
{
	uint32_t *jobs, n, *missing, nmissing, i, *close_ids = NULL, ncl = 0,
						  ccap = 0;
	struct hq_event ev;

	jobs = query_select_jobs(s, &m->sel, &n, &missing, &nmissing);
	for (i = 0; i < nmissing; i++)
		hq_smsg_add_line(r, HQ_LINE_ERROR,
		    "Closing job %u failed; job not found", missing[i]);
	for (i = 0; i < n; i++) {
		struct hq_job *job = hq_state_job(s->st, jobs[i]);

		if (!job->is_open) {
			if (m->sel.kind != HQ_SEL_ALL)
				hq_smsg_add_line(r, HQ_LINE_ERROR,
				    "Closing job %u failed; job is already "
				    "closed",
				    job->id);
			continue;
		}
		HQ_VEC_PUSH(close_ids, ncl, ccap, job->id);
		hq_smsg_add_line(r, HQ_LINE_INFO, "Job %u closed", job->id);
	}
	if (ncl > 0) {
		memset(&ev, 0, sizeof ev);
		ev.kind = HQ_EV_JOBS_CLOSED;
		ev.time_ms = hq_now_ms();
		ev.u.jobs.n = ncl;
		ev.u.jobs.ids = close_ids;
		server_emit(s, &ev, NULL);
	}
	free(close_ids);
	free(jobs);
	free(missing);
}

static void
cmd_worker_stop(struct server *s, struct hq_cmsg *m, struct hq_smsg *r)
{
	uint32_t i, k;

	if (m->sel.kind == HQ_SEL_ALL) {
		for (i = 1; i < s->st->workers_cap; i++) {
			struct hq_sworker *w = s->st->workers[i];

			if (w != NULL && w->online) {
				workers_stop(s, w->id);
				hq_smsg_add_line(r, HQ_LINE_INFO,
				    "Worker %u stopped", w->id);
			}
		}
		return;
	}
	if (m->sel.kind == HQ_SEL_LAST) {
		for (i = s->st->workers_cap; i > 1; i--)
			if (s->st->workers[i - 1] != NULL)
				break;
		hq_idset_fini(&m->sel.ids);
		if (i > 1)
			hq_idset_add(&m->sel.ids, i - 1);
	}
	for (i = 0; i < m->sel.ids.n; i++)
		for (k = 0; k < m->sel.ids.r[i].count && k < 100000; k++) {
			uint32_t id =
			    m->sel.ids.r[i].start + k * m->sel.ids.r[i].step;
			struct hq_sworker *w = hq_state_worker(s->st, id);

			if (w == NULL) {
				hq_smsg_add_line(r, HQ_LINE_ERROR,
				    "Stopping worker %u failed; worker not "
				    "found",
				    id);
			} else if (!w->online) {
				hq_smsg_add_line(r, HQ_LINE_WARN,
				    "Stopping worker %u failed; worker is "
				    "already stopped",
				    id);
			} else {
				workers_stop(s, id);
				hq_smsg_add_line(r, HQ_LINE_INFO,
				    "Worker %u stopped", id);
			}
		}
}

static void
client_command(struct server *s, struct client *cl, struct hq_cmsg *m)
{
	struct hq_smsg r;
	bool stop = false;

	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_COMMAND;
	switch (m->sub) {
	case HQ_C_SERVER_STOP:
		stop = true;
		break;
	case HQ_C_JOB_CANCEL:
		cmd_cancel(s, m, &r);
		break;
	case HQ_C_JOB_FORGET:
		cmd_forget(s, m, &r);
		break;
	case HQ_C_JOB_CLOSE:
		cmd_close(s, m, &r);
		break;
	case HQ_C_WORKER_STOP:
		cmd_worker_stop(s, m, &r);
		break;
	case HQ_C_JOURNAL_FLUSH:
		/* Every change is committed before it is acknowledged: the
		 * reply below is released once everything so far is
		 * durable. */
		break;
	case HQ_C_JOURNAL_PRUNE: {
		struct hq_errbuf eb;
		uint64_t dropped = 0;

		if (server_prune(s, &dropped, &eb) != 0) {
			hq_smsg_fini(&r);
			server_send_error(s, cl->conn, "%s", eb.msg);
			return;
		}
		hq_smsg_add_line(&r, HQ_LINE_INFO,
		    "Journal pruned: %llu event(s) of history dropped; the "
		    "state is kept in the checkpoint at event %llu",
		    (unsigned long long)dropped,
		    (unsigned long long)s->last_ckpt_seq);
		break;
	}
	default:
		hq_smsg_fini(&r);
		server_send_error(s, cl->conn,
		    "command %d is not supported by this server", m->sub);
		return;
	}
	server_send_smsg(s, cl->conn, &r);
	hq_smsg_fini(&r);
	if (stop) {
		hq_info("Stop requested by a client");
		server_request_stop(s);
	}
}

/* ---- waiting
 * ------------------------------------------------------------------------ */

static void
waiter_progress(struct server *s, const struct waiter *w,
    struct hq_wait_progress *p)
{
	uint32_t i;

	memset(p, 0, sizeof *p);
	p->jobs_total = w->njobs;
	for (i = 0; i < w->njobs; i++) {
		struct hq_job *job = hq_state_job(s->st, w->jobs[i]);

		if (job == NULL) {
			p->jobs_done++;
			continue;
		}
		p->tasks_total += job->ntasks;
		p->waiting += job->counts[HQ_TASK_WAITING];
		p->running += job->counts[HQ_TASK_RUNNING];
		p->finished += job->counts[HQ_TASK_FINISHED];
		p->failed += job->counts[HQ_TASK_FAILED];
		p->canceled += job->counts[HQ_TASK_CANCELED];
		p->aborted += job->counts[HQ_TASK_ABORTED];
		if (w->without_close ? hq_job_tasks_done(job)
				     : hq_job_terminated(job))
			p->jobs_done++;
	}
	p->done = p->jobs_done == p->jobs_total;
}

static void
waiter_send(struct server *s, struct waiter *w)
{
	struct hq_smsg r;

	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_PROGRESS;
	waiter_progress(s, w, &r.progress);
	if (!r.progress.done && w->progress) {
		/* A progress bar needs no more than 10 updates a second; the
		 * change stays pending until then (the loop ticks). */
		uint64_t now = hq_mono_us();

		if (now - w->last_sent_us < 100000) {
			w->dirty = true;
			return;
		}
		w->last_sent_us = now;
	}
	if (r.progress.done || w->progress)
		server_send_smsg(s, w->cl->conn, &r);
	if (r.progress.done) {
		w->cl->waiter = NULL;
		waiter_free(s, w);
	}
}

void
clients_job_changed(struct server *s, const struct hq_job *job)
{
	struct waiter *w;
	uint32_t i;

	for (w = s->waiters; w != NULL; w = w->next)
		for (i = 0; i < w->njobs; i++)
			if (w->jobs[i] == job->id) {
				w->dirty = true;
				break;
			}
}

void
clients_flush_waiters(struct server *s)
{
	struct waiter *w, *next;

	for (w = s->waiters; w != NULL; w = next) {
		next = w->next;
		if (w->dirty) {
			w->dirty = false;
			waiter_send(s, w);
		}
	}
}

void
clients_notify(struct server *s, uint32_t job, uint32_t task, uint32_t worker,
    const uint8_t *msg, size_t len)
{
	struct hq_smsg r;
	struct waiter *w;
	uint32_t i;

	memset(&r, 0, sizeof r);
	r.kind = HQ_SMSG_NOTIFICATION;
	r.n_job = job;
	r.n_task = task;
	r.n_worker = worker;
	r.n_msg = (uint8_t *)msg;
	r.n_msg_len = len;
	for (w = s->waiters; w != NULL; w = w->next) {
		if (!w->notify)
			continue;
		for (i = 0; i < w->njobs; i++)
			if (w->jobs[i] == job) {
				server_send_smsg(s, w->cl->conn, &r);
				break;
			}
	}
}

/*
 * submit --wait --on-notify: the client waits for its job from the submit
 * on. Registered with the submit, before any task of the job can run, so
 * no notification goes out before the client listens.
 */
static void
client_submit_waiter(struct server *s, struct client *cl, uint32_t job_id)
{
	struct waiter *w;

	if (cl->waiter != NULL)
		return;
	w = hq_xcalloc(1, sizeof *w);
	w->cl = cl;
	w->jobs = hq_xcalloc(1, sizeof *w->jobs);
	w->jobs[0] = job_id;
	w->njobs = 1;
	w->notify = true;
	w->next = s->waiters;
	s->waiters = w;
	cl->waiter = w;
	waiter_send(s, w);
}

static void
client_wait(struct server *s, struct client *cl, struct hq_cmsg *m)
{
	struct waiter *w;

	if (cl->waiter != NULL) {
		server_send_error(s, cl->conn, "a wait is already running");
		return;
	}
	w = hq_xcalloc(1, sizeof *w);
	w->cl = cl;
	w->jobs = query_select_jobs(s, &m->sel, &w->njobs, NULL, NULL);
	w->without_close = m->without_close;
	w->progress = m->progress;
	w->notify = m->notify;
	w->next = s->waiters;
	s->waiters = w;
	cl->waiter = w;
	waiter_send(s, w);
}

/* ---- dispatch
 * ------------------------------------------------------------------------- */

static void
client_on_frame(struct hq_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct client *cl = arg;
	struct server *s = cl->s;
	struct hq_errbuf eb;
	struct hq_cmsg m;

	if (hq_wire_decode_cmsg(data, len, &m, &eb) != 0) {
		hq_warn("client %s: %s; closing the connection",
		    hq_conn_peer(c), eb.msg);
		hq_conn_abort(c, eb.msg);
		return;
	}
	if (!cl->hello_done) {
		if (m.kind != HQ_CMSG_HELLO) {
			hq_warn("client %s: no hello; closing",
			    hq_conn_peer(c));
			hq_conn_abort(c, "no hello");
		} else if (m.protocol_version != HQ_PROTOCOL_VERSION ||
		    strcmp(m.version ? m.version : "", HQ_VERSION) != 0) {
			server_send_error(s, c,
			    "Hyperqueue version mismatch detected.\nServer "
			    "runs version %s, but the client is version %s.",
			    HQ_VERSION, m.version ? m.version : "?");
			hq_conn_close(c, "version mismatch");
		} else {
			struct hq_smsg r;

			memset(&r, 0, sizeof r);
			r.kind = HQ_SMSG_HELLO;
			r.protocol_version = HQ_PROTOCOL_VERSION;
			r.version = (char *)HQ_VERSION;
			r.server_uid = s->access.server_uid;
			server_send_smsg(s, c, &r);
			cl->hello_done = true;
		}
		hq_cmsg_fini(&m);
		return;
	}
	if (s->stopping && m.kind != HQ_CMSG_QUERY) {
		server_send_error(s, c, "the server is stopping");
		hq_cmsg_fini(&m);
		return;
	}
	switch (m.kind) {
	case HQ_CMSG_SUBMIT:
		client_submit(s, cl, &m);
		break;
	case HQ_CMSG_JOB_OPEN:
		client_job_open(s, cl, &m);
		break;
	case HQ_CMSG_QUERY:
		client_query(s, cl, &m);
		break;
	case HQ_CMSG_COMMAND:
		client_command(s, cl, &m);
		break;
	case HQ_CMSG_WAIT:
		client_wait(s, cl, &m);
		break;
	case HQ_CMSG_STREAM:
		jstream_start(s, cl, m.live);
		break;
	case HQ_CMSG_ALLOC:
		autoalloc_request(s, cl, &m);
		break;
	case HQ_CMSG_DEBUG_DUMP:
		debugdump_request(s, cl);
		break;
	default:
		server_send_error(s, c, "unexpected message");
		break;
	}
	hq_cmsg_fini(&m);
}
