/* SPDX-License-Identifier: MIT */
/*
 * Worker connections: registration, task reports, heartbeats, and the
 * dispatch of assignments and cancels. Reports become TASK_RUN and
 * TASK_FAILED events; a report that does not match the server's view
 * (stale instance, task taken away meanwhile) is ignored.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/version.h"
#include "server/server.h"

static void wconn_on_ready(struct hq_conn *c, void *arg);
static void wconn_on_frame(struct hq_conn *c, const uint8_t *data, size_t len,
    void *arg);
static void wconn_on_close(struct hq_conn *c, const char *why, void *arg);

static const struct hq_conn_cbs wconn_cbs = {
	.on_ready = wconn_on_ready,
	.on_frame = wconn_on_frame,
	.on_close = wconn_on_close,
};

void
workers_accept(int fd, void *arg)
{
	struct server *s = arg;
	struct wconn *wc;
	struct hq_conn *c;

	if (s->stopping) {
		close(fd);
		return;
	}
	wc = hq_xcalloc(1, sizeof *wc);
	wc->s = s;
	wc->last_seen_us = hq_mono_us();
	hq_u32map_init(&wc->sent_specs);
	if (hq_conn_create(s->loop, fd, s->worker_tls, true,
		HQ_MAX_FRAME_WORKER, &wconn_cbs, wc, &c) != 0) {
		hq_u32map_fini(&wc->sent_specs);
		free(wc);
		return;
	}
	wc->conn = c;
	wc->next = s->wconns;
	if (s->wconns)
		s->wconns->prev = wc;
	s->wconns = wc;
}

static void
wconn_on_ready(struct hq_conn *c, void *arg)
{
	(void)c;
	(void)arg;
}

struct wconn *
workers_find(struct server *s, uint32_t worker_id)
{
	struct wconn *wc;

	for (wc = s->wconns; wc != NULL; wc = wc->next)
		if (wc->worker_id == worker_id)
			return wc;
	return NULL;
}

static void
worker_lost(struct server *s, uint32_t worker_id,
    enum hq_worker_lost_reason reason)
{
	struct hq_sworker *w = hq_state_worker(s->st, worker_id);
	struct hq_event ev;

	if (w == NULL || !w->online)
		return;
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_LOST;
	ev.time_ms = hq_now_ms();
	ev.u.wlost.worker_id = worker_id;
	ev.u.wlost.reason = reason;
	server_emit(s, &ev, NULL);
}

void
workers_disconnected(struct server *s, uint32_t worker_id,
    enum hq_worker_lost_reason reason)
{
	struct hq_sworker *w = hq_state_worker(s->st, worker_id);

	if (w == NULL || !w->online)
		return;
	if (w->cfg.on_server_lost != NULL &&
	    strcmp(w->cfg.on_server_lost, "reconnect") == 0 &&
	    s->opts.reconnect_grace_ms > 0) {
		/* Its tasks keep running over there: wait for it. */
		w->draining = true;
		w->reconnect_deadline_ms =
		    hq_now_ms() + s->opts.reconnect_grace_ms;
		w->await_reason = reason;
		hq_info("Worker %u disconnected; waiting up to %llu s for it "
			"to "
			"reconnect",
		    worker_id,
		    (unsigned long long)(s->opts.reconnect_grace_ms / 1000));
		return;
	}
	worker_lost(s, worker_id, reason);
}

void
workers_check_reconnects(struct server *s)
{
	uint64_t now = hq_now_ms();
	uint32_t i;

	for (i = 1; i < s->st->workers_cap; i++) {
		struct hq_sworker *w = s->st->workers[i];

		if (w == NULL || !w->online || w->reconnect_deadline_ms == 0 ||
		    now < w->reconnect_deadline_ms)
			continue;
		w->reconnect_deadline_ms = 0;
		w->draining = false;
		hq_warn("Worker %u did not come back in time", w->id);
		worker_lost(s, w->id, w->await_reason);
	}
}

static void
wconn_on_close(struct hq_conn *c, const char *why, void *arg)
{
	struct wconn *wc = arg;
	struct server *s = wc->s;

	(void)c;
	if (wc->worker_id != 0 && !wc->stopping && !s->stopping) {
		hq_debug("worker %u: connection closed: %s", wc->worker_id,
		    why ? why : "");
		workers_disconnected(s, wc->worker_id, HQ_LOST_CONNECTION);
	}
	if (wc->prev)
		wc->prev->next = wc->next;
	else
		s->wconns = wc->next;
	if (wc->next)
		wc->next->prev = wc->prev;
	hq_u32map_fini(&wc->sent_specs);
	hq_taskrefs_fini(&wc->cancel);
	free(wc);
	server_conn_gone(s);
}

void
workers_close_all(struct server *s)
{
	struct wconn *wc;
	struct hq_vmsg m;

	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_STOP;
	for (wc = s->wconns; wc != NULL; wc = wc->next) {
		if (wc->worker_id != 0)
			server_send_vmsg(s, wc->conn, &m);
		hq_conn_close(wc->conn, "server stopping");
	}
}

void
workers_stop(struct server *s, uint32_t worker_id)
{
	struct wconn *wc = workers_find(s, worker_id);
	struct hq_vmsg m;

	worker_lost(s, worker_id, HQ_LOST_STOPPED);
	if (wc == NULL)
		return;
	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_STOP;
	/* The worker closes the connection when it has the Stop: closing
	 * here would drop the Stop while it waits for the commit. */
	server_send_vmsg(s, wc->conn, &m);
	wc->stopping = true;
}

void
workers_check_heartbeats(struct server *s)
{
	uint64_t now = hq_mono_us();
	struct wconn *wc;

	for (wc = s->wconns; wc != NULL; wc = wc->next) {
		uint64_t limit = 2 * wc->heartbeat_ms * 1000;

		if (wc->worker_id == 0 || wc->stopping || limit == 0)
			continue;
		if (now - wc->last_seen_us > limit) {
			hq_warn("Worker %u: heartbeat lost", wc->worker_id);
			workers_disconnected(s, wc->worker_id,
			    HQ_LOST_HEARTBEAT);
			wc->stopping = true;
			hq_conn_abort(wc->conn, "heartbeat lost");
		}
	}
}

void
workers_task_revoked(struct server *s, uint32_t worker, uint32_t job,
    uint32_t task_id, uint32_t instance)
{
	struct wconn *wc = workers_find(s, worker);

	if (wc != NULL && !wc->stopping)
		hq_taskrefs_push(&wc->cancel, job, task_id, instance);
}

/* ---- registration ------------------------------------------------------ */

static struct hq_task *report_task(struct server *s, struct wconn *wc,
    uint32_t job_id, uint32_t task_id, uint32_t instance, struct hq_job **jobp);
static void send_ack(struct server *s, struct wconn *wc, uint64_t report_seq);

/*
 * A known worker comes back (after a server restart, or a lost
 * connection): adopt the task instances it reports instead of rerunning
 * them, accept the results it finished meanwhile, requeue what it never
 * got, and tell it to drop what the server gave away. false: not adopted
 * (a stranger, or a different server).
 */
static bool
wconn_adopt(struct server *s, struct wconn *wc, struct hq_wmsg *m)
{
	struct hq_sworker *w = hq_state_worker(s->st, m->worker_id);
	struct hq_held_task *cancel = NULL;
	struct hq_u32map seen;
	struct hq_inflight *lost = NULL;
	uint32_t ncancel = 0, nlost = 0, i, v;
	struct hq_vmsg r;

	if (w == NULL || !w->online || w->reconnect_deadline_ms == 0 ||
	    workers_find(s, w->id) != NULL || m->server_uid == NULL ||
	    strcmp(m->server_uid, s->access.server_uid) != 0)
		return false;
	wc->worker_id = w->id;
	hq_u32map_init(&seen);
	cancel = hq_xcalloc(m->nheld + 1, sizeof *cancel);
	for (i = 0; i < m->nheld; i++) {
		const struct hq_held_task *h = &m->held[i];
		struct hq_job *job;
		struct hq_task *t =
		    report_task(s, wc, h->job, h->task, h->instance, &job);

		if (t == NULL) {
			if (h->status == HQ_HELD_RUNNING ||
			    h->status == HQ_HELD_QUEUED)
				cancel[ncancel++] = *h;
			continue;
		}
		hq_u32map_put(&seen,
		    (uint64_t)job->id << 32 | (uint32_t)(t - job->tasks), 1);
		switch (h->status) {
		case HQ_HELD_RUNNING:
			if (t->state == HQ_TASK_WAITING)
				server_emit_run(s, HQ_RUN_STARTED, job->id,
				    w->id, t->id, 0);
			break;
		case HQ_HELD_QUEUED:
			break;
		case HQ_HELD_FINISHED:
			server_emit_run(s, HQ_RUN_FINISHED, job->id, w->id,
			    t->id, 0);
			break;
		case HQ_HELD_FAILED: {
			struct hq_event ev;

			memset(&ev, 0, sizeof ev);
			ev.kind = HQ_EV_TASK_FAILED;
			ev.time_ms = hq_now_ms();
			ev.u.failed.job = job->id;
			ev.u.failed.task = t->id;
			ev.u.failed.error = h->error ? h->error : (char *)"";
			server_emit(s, &ev, NULL);
			break;
		}
		}
	}
	/* What the server thinks the worker has but it does not: requeue. */
	for (i = 0; i < w->ninflight; i++)
		if (!hq_u32map_get(&seen,
			(uint64_t)w->inflight[i].job << 32 | w->inflight[i].idx,
			&v)) {
			lost = hq_xreallocarray(lost, nlost + 1, sizeof *lost);
			lost[nlost++] = w->inflight[i];
		}
	for (i = 0; i < nlost; i++) {
		struct hq_job *job = hq_state_job(s->st, lost[i].job);

		server_emit_run(s, HQ_RUN_REQUEUED, job->id, w->id,
		    job->tasks[lost[i].idx].id, 0);
	}
	w->draining = false;
	w->reconnect_deadline_ms = 0;
	wc->heartbeat_ms = w->cfg.heartbeat_ms ? w->cfg.heartbeat_ms : 8000;
	hq_info("Worker %u reconnected from %s: %u task(s) adopted, %u "
		"requeued, %u dropped",
	    w->id, hq_conn_peer(wc->conn), m->nheld - ncancel, nlost, ncancel);
	memset(&r, 0, sizeof r);
	r.kind = HQ_VMSG_WELCOME;
	r.protocol_version = HQ_PROTOCOL_VERSION;
	r.version = (char *)HQ_VERSION;
	r.worker_id = w->id;
	r.server_uid = s->access.server_uid;
	r.held = cancel;
	r.nheld = ncancel;
	server_send_vmsg(s, wc->conn, &r);
	s->need_schedule = true;
	free(cancel);
	free(lost);
	hq_u32map_fini(&seen);
	return true;
}

static void
wconn_hello(struct server *s, struct wconn *wc, struct hq_wmsg *m)
{
	struct hq_event ev;
	struct hq_vmsg r;
	uint32_t id;

	if (m->protocol_version != HQ_PROTOCOL_VERSION ||
	    strcmp(m->version ? m->version : "", HQ_VERSION) != 0) {
		struct hq_vmsg e;

		memset(&e, 0, sizeof e);
		e.kind = HQ_VMSG_ERROR;
		e.message = hq_xprintf("Hyperqueue version mismatch detected.\n"
				       "Server runs version %s, but the worker "
				       "is version %s.",
		    HQ_VERSION, m->version ? m->version : "?");
		server_send_vmsg(s, wc->conn, &e);
		hq_vmsg_fini(&e);
		hq_conn_close(wc->conn, "version mismatch");
		return;
	}
	if (m->worker_id != 0 && wconn_adopt(s, wc, m))
		return;
	id = s->st->next_worker_id;
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = hq_now_ms();
	ev.u.wconn.worker_id = id;
	ev.u.wconn.cfg = m->cfg; /* borrowed */
	if (server_emit(s, &ev, NULL) != 0) {
		hq_conn_abort(wc->conn, "registration failed");
		return;
	}
	wc->worker_id = id;
	wc->heartbeat_ms = m->cfg.heartbeat_ms ? m->cfg.heartbeat_ms : 8000;
	hq_info("Worker %u registered from %s (%s)", id, hq_conn_peer(wc->conn),
	    m->cfg.hostname);
	memset(&r, 0, sizeof r);
	r.kind = HQ_VMSG_WELCOME;
	r.protocol_version = HQ_PROTOCOL_VERSION;
	r.version = (char *)HQ_VERSION;
	r.worker_id = id;
	r.server_uid = s->access.server_uid;
	/* A worker that held tasks of another server (or of a past it was
	 * not adopted for) drops them. */
	r.held = m->held;
	r.nheld = m->nheld;
	server_send_vmsg(s, wc->conn, &r);
}

/* ---- reports ------------------------------------------------------------- */

/* The task a report names, if it is still this worker's current instance. */
static struct hq_task *
report_task(struct server *s, struct wconn *wc, uint32_t job_id,
    uint32_t task_id, uint32_t instance, struct hq_job **jobp)
{
	struct hq_job *job = hq_state_job(s->st, job_id);
	struct hq_task *t;
	int64_t idx;

	if (job == NULL || (idx = hq_job_task_index(job, task_id)) < 0)
		return NULL;
	t = &job->tasks[idx];
	if (t->worker != wc->worker_id || t->instance != instance)
		return NULL;
	if (t->state != HQ_TASK_RUNNING && !(t->flags & HQ_TF_ASSIGNED))
		return NULL;
	*jobp = job;
	return t;
}

static void
send_ack(struct server *s, struct wconn *wc, uint64_t report_seq)
{
	struct hq_vmsg r;

	if (report_seq == 0)
		return;
	memset(&r, 0, sizeof r);
	r.kind = HQ_VMSG_ACK;
	r.upto = report_seq;
	server_send_vmsg(s, wc->conn, &r);
}

static void
wconn_started(struct server *s, struct wconn *wc, const struct hq_wmsg *m)
{
	uint32_t i;

	for (i = 0; i < m->refs.n; i++) {
		struct hq_job *job;
		struct hq_task *t = report_task(s, wc, m->refs.job[i],
		    m->refs.task[i], m->refs.instance[i], &job);

		if (t == NULL || t->state != HQ_TASK_WAITING)
			continue;
		server_emit_run(s, HQ_RUN_STARTED, job->id, wc->worker_id,
		    t->id, 0);
	}
}

/*
 * Prefill depth: a worker should hold enough queued work to stay busy while
 * a refill crosses the wire and the journal (about a synced commit plus a
 * round trip). From the rate at which it finishes tasks, give it that many
 * layers of its capacity: short tasks get a deeper queue, long ones just
 * one extra layer.
 */
#define PREFILL_WINDOW_US 8000 /* work to keep queued, in time */

static void
wconn_measure_rate(struct server *s, struct wconn *wc, uint32_t finished)
{
	struct hq_sworker *w = hq_state_worker(s->st, wc->worker_id);
	uint64_t now = hq_mono_us(), span;
	uint64_t cpus, tasks, layers;
	int32_t rid;

	wc->rate_count += finished;
	if (wc->rate_since_us == 0)
		wc->rate_since_us = now;
	span = now - wc->rate_since_us;
	if (span < 100000 || w == NULL)
		return;
	rid = hq_state_resource_id(s->st, "cpus");
	cpus =
	    rid >= 0 ? hq_sworker_total(w, (uint32_t)rid) / HQ_AMOUNT_ONE : 1;
	/* Tasks finished per window, spread over the CPUs: extra layers. */
	tasks = (uint64_t)wc->rate_count * PREFILL_WINDOW_US / span;
	layers = 1 + (tasks + HQ_MAX(cpus, 1) - 1) / HQ_MAX(cpus, 1);
	w->sched_layers = (uint32_t)HQ_MIN(HQ_MAX(layers, s->sched.layers),
	    PREFILL_MAX_LAYERS);
	wc->rate_since_us = now;
	wc->rate_count = 0;
}

static void
wconn_finished(struct server *s, struct wconn *wc, const struct hq_wmsg *m)
{
	uint32_t i;

	wconn_measure_rate(s, wc, m->refs.n);
	for (i = 0; i < m->refs.n; i++) {
		struct hq_job *job;
		struct hq_task *t = report_task(s, wc, m->refs.job[i],
		    m->refs.task[i], m->refs.instance[i], &job);

		if (t == NULL)
			continue;
		server_emit_run(s, HQ_RUN_FINISHED, job->id, wc->worker_id,
		    t->id, 0);
	}
	send_ack(s, wc, m->report_seq);
}

static void
wconn_failed(struct server *s, struct wconn *wc, struct hq_wmsg *m)
{
	struct hq_job *job;
	struct hq_task *t =
	    report_task(s, wc, m->job, m->task, m->instance, &job);

	if (t != NULL) {
		struct hq_event ev;

		memset(&ev, 0, sizeof ev);
		ev.kind = HQ_EV_TASK_FAILED;
		ev.time_ms = hq_now_ms();
		ev.u.failed.job = job->id;
		ev.u.failed.task = t->id;
		ev.u.failed.error = m->error;
		server_emit(s, &ev, NULL);
	}
	send_ack(s, wc, m->report_seq);
}

/* A task notification (spec 2.14): pass it on if the task runs there. */
static void
wconn_notify(struct server *s, struct wconn *wc, const struct hq_wmsg *m)
{
	struct hq_job *job = hq_state_job(s->st, m->job);
	struct hq_task *t = NULL;
	int64_t idx;

	/* NotifyRequest carries no instance: the running one is meant. */
	if (job != NULL && (idx = hq_job_task_index(job, m->task)) >= 0)
		t = &job->tasks[idx];
	if (t == NULL || t->state != HQ_TASK_RUNNING ||
	    t->worker != wc->worker_id) {
		hq_debug("worker %u: notification of %u@%u, which does not run "
			 "there; dropped",
		    wc->worker_id, m->job, m->task);
		return;
	}
	clients_notify(s, job->id, t->id, wc->worker_id, m->message,
	    m->message_len);
}

static void
wconn_on_frame(struct hq_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct wconn *wc = arg;
	struct server *s = wc->s;
	struct hq_errbuf eb;
	struct hq_wmsg m;

	wc->last_seen_us = hq_mono_us();
	if (wc->stopping)
		return;
	if (hq_wire_decode_wmsg(data, len, &m, &eb) != 0) {
		hq_warn("worker connection %s: %s; closing it", hq_conn_peer(c),
		    eb.msg);
		hq_conn_abort(c, eb.msg);
		return;
	}
	if (wc->worker_id == 0) {
		if (m.kind != HQ_WMSG_HELLO) {
			hq_warn("worker connection %s: no hello; closing it",
			    hq_conn_peer(c));
			hq_conn_abort(c, "no hello");
		} else {
			wconn_hello(s, wc, &m);
		}
		hq_wmsg_fini(&m);
		return;
	}
	switch (m.kind) {
	case HQ_WMSG_HEARTBEAT:
		break;
	case HQ_WMSG_STARTED:
		wconn_started(s, wc, &m);
		break;
	case HQ_WMSG_FINISHED:
		wconn_finished(s, wc, &m);
		break;
	case HQ_WMSG_FAILED:
		wconn_failed(s, wc, &m);
		break;
	case HQ_WMSG_STOPPING: {
		enum hq_worker_lost_reason r =
		    (enum hq_worker_lost_reason)m.reason;

		if (r < HQ_LOST_STOPPED || r > HQ_LOST_TIME_LIMIT)
			r = HQ_LOST_STOPPED;
		worker_lost(s, wc->worker_id, r);
		wc->stopping = true;
		break;
	}
	case HQ_WMSG_NOTIFY:
		wconn_notify(s, wc, &m);
		break;
	default:
		hq_warn("worker %u: unexpected message; closing",
		    wc->worker_id);
		hq_conn_abort(c, "unexpected message");
		break;
	}
	hq_wmsg_fini(&m);
}

/* ---- dispatch
 * ------------------------------------------------------------------ */

static void
send_spec(struct server *s, struct wconn *wc, const struct hq_job *job,
    uint32_t desc)
{
	const struct hq_jdesc *jd = &job->descs[desc];
	const struct hq_jsubmit *js = &job->submits[jd->submit];
	struct hq_vmsg m;

	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_SPEC;
	m.job = job->id;
	m.desc = desc;
	m.task = *jd->d; /* borrowed for encoding */
	m.submit_dir = js->s.submit_dir;
	m.stream_dir = js->s.stream_dir;
	m.server_uid = s->access.server_uid;
	server_send_vmsg(s, wc->conn, &m);
}

static void
send_cancels(struct server *s, struct wconn *wc)
{
	struct hq_vmsg m;

	if (wc->cancel.n == 0)
		return;
	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_CANCEL;
	m.refs = wc->cancel;
	server_send_vmsg(s, wc->conn, &m);
	hq_taskrefs_clear(&wc->cancel);
}

/* A multi-node task goes to its root alone, with the nodes' hostnames. */
static void
send_multinode(struct server *s, struct wconn *wc, const struct hq_assign *a)
{
	struct hq_job *job = hq_state_job(s->st, a->job);
	struct hq_task *t = &job->tasks[a->idx];
	uint32_t desc = t->desc, variant = 0, i;
	char *entry = (char *)hq_job_task_entry(job, a->idx);
	struct hq_vmsg m;

	memset(&m, 0, sizeof m);
	m.kind = HQ_VMSG_ASSIGN;
	hq_taskrefs_push(&m.refs, job->id, t->id, t->instance);
	m.descs = &desc;
	m.variants = &variant;
	m.entries = entry != NULL ? &entry : NULL;
	m.nhosts = a->nnodes;
	m.hosts = hq_xcalloc(a->nnodes, sizeof *m.hosts);
	for (i = 0; i < a->nnodes; i++) {
		const struct hq_sworker *w =
		    hq_state_worker(s->st, s->plan.nodes[a->nodes + i]);

		m.hosts[i] =
		    w != NULL && w->cfg.hostname ? w->cfg.hostname : (char *)"";
	}
	server_send_vmsg(s, wc->conn, &m);
	free(m.hosts);
	/* The other nodes only keep the task as a reservation (so that,
	 * e.g., their idle timeout does not stop them meanwhile). */
	m.nhosts = 0;
	m.hosts = NULL;
	m.entries = NULL;
	m.secondary = true;
	for (i = 1; i < a->nnodes; i++) {
		struct wconn *sc = workers_find(s, s->plan.nodes[a->nodes + i]);

		if (sc != NULL && !sc->stopping)
			server_send_vmsg(s, sc->conn, &m);
	}
	hq_taskrefs_fini(&m.refs);
}

/*
 * Send the assignments of the last plan (already applied and journalled):
 * one Assign per worker, preceded by the task descriptions it lacks. The
 * plan is grouped by worker first, so this costs in assignments plus
 * connections, not in their product.
 */
void
workers_dispatch(struct server *s)
{
	struct hq_taskrefs refs;
	uint32_t *descs = NULL, *variants = NULL, cap = 0, i, k;
	uint32_t *order = NULL, *count = NULL, maxw = 0;
	char **entries = NULL;
	struct wconn *wc;

	memset(&refs, 0, sizeof refs);
	if (s->plan.n > 0) {
		uint32_t *fill;

		/* Counting sort of the plan by worker id, keeping the plan's
		 * order within a worker: worker w's assignments are
		 * order[count[w] .. count[w + 1]). */
		for (i = 0; i < s->plan.n; i++)
			maxw = HQ_MAX(maxw, s->plan.a[i].worker);
		count = hq_xcalloc(maxw + 2, sizeof *count);
		for (i = 0; i < s->plan.n; i++)
			count[s->plan.a[i].worker + 1]++;
		for (i = 1; i <= maxw + 1; i++)
			count[i] += count[i - 1];
		fill = hq_xmemdup(count, (maxw + 2) * sizeof *count);
		order = hq_xcalloc(s->plan.n, sizeof *order);
		for (i = 0; i < s->plan.n; i++)
			order[fill[s->plan.a[i].worker]++] = i;
		free(fill);
	}
	for (wc = s->wconns; wc != NULL; wc = wc->next) {
		bool any_entry = false, any_variant = false;

		if (wc->worker_id == 0 || wc->stopping)
			continue;
		send_cancels(s, wc);
		if (count == NULL || wc->worker_id > maxw)
			continue;
		hq_taskrefs_clear(&refs);
		for (k = count[wc->worker_id]; k < count[wc->worker_id + 1];
		     k++) {
			const struct hq_assign *a = &s->plan.a[order[k]];
			struct hq_job *job = hq_state_job(s->st, a->job);
			struct hq_task *t = &job->tasks[a->idx];
			uint32_t v;

			if (!hq_u32map_get(&wc->sent_specs,
				(uint64_t)job->id << 32 | t->desc, &v)) {
				send_spec(s, wc, job, t->desc);
				hq_u32map_put(&wc->sent_specs,
				    (uint64_t)job->id << 32 | t->desc, 1);
			}
			if (a->nnodes > 0) {
				send_multinode(s, wc, a);
				continue;
			}
			if (refs.n + 1 > cap) {
				cap = cap ? cap * 2 : 64;
				descs =
				    hq_xreallocarray(descs, cap, sizeof *descs);
				variants = hq_xreallocarray(variants, cap,
				    sizeof *variants);
				entries = hq_xreallocarray(entries, cap,
				    sizeof *entries);
			}
			descs[refs.n] = t->desc;
			variants[refs.n] = t->variant;
			any_variant |= t->variant != 0;
			entries[refs.n] =
			    (char *)hq_job_task_entry(job, a->idx);
			any_entry |= entries[refs.n] != NULL;
			hq_taskrefs_push(&refs, job->id, t->id, t->instance);
		}
		if (refs.n > 0) {
			struct hq_vmsg m;

			memset(&m, 0, sizeof m);
			m.kind = HQ_VMSG_ASSIGN;
			m.refs = refs;
			m.descs = descs;
			m.variants = any_variant ? variants : NULL;
			m.entries = any_entry ? entries : NULL;
			server_send_vmsg(s, wc->conn, &m);
		}
	}
	s->plan.n = 0;
	hq_taskrefs_fini(&refs);
	free(order);
	free(count);
	free(descs);
	free(variants);
	free(entries);
}
