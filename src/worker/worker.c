/* SPDX-License-Identifier: MIT */
/*
 * The worker process: start-up (resources, server connection), the message
 * handlers, and the loop hooks that flush reports once per iteration.
 */
#include "worker/worker.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fmt.h"
#include "common/log.h"
#include "common/resource.h"
#include "common/version.h"
#include "worker/topo.h"

worker_print_fn *hq_worker_print_info;

static void worker_on_ready(struct hq_conn *c, void *arg);
static void worker_on_frame(struct hq_conn *c, const uint8_t *data, size_t len,
    void *arg);
static void worker_on_close(struct hq_conn *c, const char *why, void *arg);

static const struct hq_conn_cbs worker_cbs = {
	.on_ready = worker_on_ready,
	.on_frame = worker_on_frame,
	.on_close = worker_on_close,
};

/* ---- sending ------------------------------------------------------------- */

static void
worker_send(struct worker *w, const struct hq_wmsg *m)
{
	if (w->conn == NULL)
		return;
	hq_buf_reset(&w->frame);
	hq_wire_encode_wmsg(m, &w->frame);
	hq_conn_send(w->conn, w->frame.data, w->frame.len, 0);
}

void
worker_report_started(struct worker *w, struct wtask *t)
{
	HQ_VEC_RESERVE(w->started_variant, w->sv_cap, w->started.n + 1);
	w->started_variant[w->started.n] = t->variant;
	hq_taskrefs_push(&w->started, t->job, t->task, t->instance);
}

void
worker_report_finished(struct worker *w, struct wtask *t)
{
	hq_taskrefs_push(&w->finished, t->job, t->task, t->instance);
}

static void
held_push(struct worker *w, uint32_t job, uint32_t task, uint32_t instance,
    const char *error, uint64_t seq)
{
	struct held_result *h;

	HQ_VEC_RESERVE(w->held, w->held_cap, w->nheld + 1);
	h = &w->held[w->nheld++];
	h->job = job;
	h->task = task;
	h->instance = instance;
	h->failed = error != NULL;
	h->error = error ? hq_xstrdup(error) : NULL;
	h->report_seq = seq;
}

/* Results up to 'upto' are durable on the server: forget them. */
static void
held_ack(struct worker *w, uint64_t upto)
{
	uint32_t i, k = 0;

	for (i = 0; i < w->nheld; i++) {
		if (w->held[i].report_seq <= upto)
			free(w->held[i].error);
		else
			w->held[k++] = w->held[i];
	}
	w->nheld = k;
}

void
worker_report_notify(struct worker *w, struct wtask *t, const uint8_t *msg,
    size_t len)
{
	struct hq_wmsg m;

	/* The server must know the task runs here before it hears from it. */
	worker_flush(w);
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_NOTIFY;
	m.job = t->job;
	m.task = t->task;
	m.message = (uint8_t *)msg;
	m.message_len = len;
	worker_send(w, &m);
}

void
worker_report_failed(struct worker *w, struct wtask *t, const char *msg)
{
	struct hq_wmsg m;

	/* Starts of this iteration must reach the server before the failure,
	 * and so must finishes (order of reports = order of events). */
	worker_flush(w);
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_FAILED;
	m.job = t->job;
	m.task = t->task;
	m.instance = t->instance;
	m.error = (char *)msg;
	m.report_seq = ++w->report_seq;
	held_push(w, t->job, t->task, t->instance, msg ? msg : "",
	    m.report_seq);
	worker_send(w, &m);
}

void
worker_flush(struct worker *w)
{
	struct hq_wmsg m;

	if (w->started.n > 0) {
		memset(&m, 0, sizeof m);
		m.kind = HQ_WMSG_STARTED;
		m.refs = w->started;
		m.nvariant = w->started.n;
		m.variant = w->started_variant;
		worker_send(w, &m);
		hq_taskrefs_clear(&w->started);
	}
	if (w->finished.n > 0) {
		uint32_t i;

		memset(&m, 0, sizeof m);
		m.kind = HQ_WMSG_FINISHED;
		m.refs = w->finished;
		m.report_seq = ++w->report_seq;
		/* Kept until the server says they are durable (ack), and
		 * resent at a reconnect. */
		for (i = 0; i < w->finished.n; i++)
			held_push(w, w->finished.job[i], w->finished.task[i],
			    w->finished.instance[i], NULL, m.report_seq);
		worker_send(w, &m);
		hq_taskrefs_clear(&w->finished);
	}
}

/* ---- stopping ------------------------------------------------------------ */

static void
worker_kill_all(struct worker *w)
{
	struct wtask *t, *next;

	for (t = w->queue_head; t != NULL; t = next) {
		next = t->next;
		worker_task_free(t);
	}
	w->queue_head = w->queue_tail = NULL;
	w->nqueued = 0;
	for (t = w->running; t != NULL; t = t->next) {
		t->canceled = true;
		worker_task_kill(t);
	}
}

static ev_timer exit_timer;

static void
worker_exit_cb(struct ev_loop *loop, ev_timer *tw, int revents)
{
	struct worker *w = tw->data;

	(void)revents;
	/* Leave when every child is gone (SIGKILL comes after 1 s). */
	if (w->nrunning > 0 && tw->repeat > 0 &&
	    hq_mono_us() - w->idle_since_us < 3000000)
		return;
	ev_break(loop, EVBREAK_ALL);
}

/* Stop: tell the server why (if connected), kill tasks, leave the loop. */
static void
worker_stop(struct worker *w, enum hq_worker_lost_reason reason, int code)
{
	struct hq_wmsg m;

	if (w->stopping)
		return;
	w->stopping = true;
	w->exit_code = code;
	if (w->conn != NULL && w->registered && reason != HQ_LOST_NONE) {
		worker_flush(w);
		memset(&m, 0, sizeof m);
		m.kind = HQ_WMSG_STOPPING;
		m.reason = reason;
		worker_send(w, &m);
		hq_conn_close(w->conn, "worker stopping");
	}
	worker_kill_all(w);
	w->idle_since_us = hq_mono_us();
	ev_timer_init(&exit_timer, worker_exit_cb, 0.05, 0.05);
	exit_timer.data = w;
	ev_timer_start(w->loop, &exit_timer);
}

void
worker_check_idle(struct worker *w)
{
	if (w->nrunning == 0 && w->nqueued == 0 && w->reserved.n == 0) {
		if (w->lost_server && !w->stopping) {
			hq_info("All running tasks finished after the server "
				"was lost; stopping");
			worker_stop(w, HQ_LOST_NONE, 1);
		}
	} else {
		w->idle_since_us = hq_mono_us();
	}
}

/* ---- messages
 * ---------------------------------------------------------------- */

static void
worker_on_ready(struct hq_conn *c, void *arg)
{
	struct worker *w = arg;
	struct hq_wmsg m;

	(void)c;
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_HELLO;
	m.protocol_version = HQ_PROTOCOL_VERSION;
	m.version = (char *)HQ_VERSION;
	m.cfg = w->cfg;
	if (w->reconnecting) {
		/* Re-register as the same worker, with everything we hold. */
		struct wtask *t;
		uint32_t n = 0, i;

		m.worker_id = w->worker_id;
		m.server_uid = w->server_uid;
		m.held = hq_xcalloc(w->nrunning + w->nqueued + w->nheld + 1,
		    sizeof *m.held);
		for (t = w->running; t != NULL; t = t->next)
			m.held[n++] =
			    (struct hq_held_task){ t->job, t->task, t->instance,
				    HQ_HELD_RUNNING, NULL, t->started_ms };
		for (t = w->queue_head; t != NULL; t = t->next)
			m.held[n++] = (struct hq_held_task){ t->job, t->task,
				t->instance, HQ_HELD_QUEUED, NULL, 0 };
		for (i = 0; i < w->nheld; i++)
			m.held[n++] = (struct hq_held_task){ w->held[i].job,
				w->held[i].task, w->held[i].instance,
				w->held[i].failed ? HQ_HELD_FAILED
						  : HQ_HELD_FINISHED,
				w->held[i].error, 0 };
		m.nheld = n;
		hq_info("Reconnected; re-registering as worker %u with %u "
			"running, %u queued task(s) and %u unconfirmed "
			"result(s)",
		    w->worker_id, w->nrunning, w->nqueued, w->nheld);
	}
	worker_send(w, &m);
	free(m.held);
}

static void on_cancel_refs(struct worker *w, const struct hq_taskrefs *r);

static void
on_welcome(struct worker *w, struct hq_vmsg *m)
{
	if (w->reconnecting) {
		struct hq_taskrefs refs;
		uint32_t i;

		/* What the server did not adopt is dropped; every held
		 * result was either applied (the welcome follows its commit)
		 * or refused. */
		memset(&refs, 0, sizeof refs);
		for (i = 0; i < m->nheld; i++)
			hq_taskrefs_push(&refs, m->held[i].job, m->held[i].task,
			    m->held[i].instance);
		on_cancel_refs(w, &refs);
		hq_taskrefs_fini(&refs);
		held_ack(w, UINT64_MAX);
		w->reconnecting = false;
		if (m->worker_id != w->worker_id)
			hq_warn("The server did not know this worker any more; "
				"registered as worker %u",
			    m->worker_id);
		w->worker_id = m->worker_id;
		free(w->server_uid);
		w->server_uid = hq_xstrdup(m->server_uid ? m->server_uid : "");
		w->registered = true;
		hq_info("Worker %u is back with server %s", w->worker_id,
		    w->server_uid);
		worker_start_queued(w);
		return;
	}
	w->worker_id = m->worker_id;
	free(w->server_uid);
	w->server_uid = hq_xstrdup(m->server_uid ? m->server_uid : "");
	w->registered = true;
	hq_info("Worker %u registered with server %s", w->worker_id,
	    w->server_uid);
	if (hq_worker_print_info != NULL) {
		json_error_t jerr;
		json_t *cfg = json_loads(w->cfg.config_json, 0, &jerr);
		json_t *info = json_pack("{s:I, s:o, s:n, s:n, s:n, s:n, s:n}",
		    "id", (json_int_t)w->worker_id, "configuration",
		    cfg ? cfg : json_object(), "allocation", "runtime_info",
		    "last_task_started", "started", "ended");
		struct hq_buf ts;

		hq_buf_init(&ts);
		hq_fmt_rfc3339(&ts, w->started_ms);
		json_object_set_new(info, "started",
		    json_stringn((char *)ts.data, ts.len));
		hq_buf_fini(&ts);
		if (w->cfg.manager && *w->cfg.manager)
			json_object_set_new(info, "allocation",
			    json_pack("{s:s, s:s}", "manager",
				strcmp(w->cfg.manager, "PBS") == 0 ? "PBS"
								   : "Slurm",
				"id", w->cfg.allocation_id));
		json_object_set_new(info, "_state", json_string("RUNNING"));
		hq_worker_print_info(w, info);
		json_decref(info);
	}
}

static void
on_spec(struct worker *w, struct hq_vmsg *m)
{
	uint64_t key = (uint64_t)m->job << 32 | m->desc;
	struct wspec *sp = hq_xcalloc(1, sizeof *sp);
	uint32_t idx;

	sp->d = m->task;
	memset(&m->task, 0, sizeof m->task);
	sp->submit_dir = m->submit_dir;
	sp->stream_dir = m->stream_dir;
	m->submit_dir = m->stream_dir = NULL;
	if (hq_u32map_get(&w->spec_index, key, &idx)) {
		/* Replaced (should not happen): keep the newest. */
		hq_task_desc_fini(&w->specs[idx]->d);
		free(w->specs[idx]->submit_dir);
		free(w->specs[idx]->stream_dir);
		free(w->specs[idx]);
		w->specs[idx] = sp;
		return;
	}
	HQ_VEC_PUSH(w->specs, w->nspecs, w->spec_cap, sp);
	hq_u32map_put(&w->spec_index, key, w->nspecs - 1);
}

/* Insert into the queue: higher priority first, FIFO within one. */
static void
queue_insert(struct worker *w, struct wtask *t)
{
	struct wtask *p = w->queue_tail;

	while (p != NULL && p->priority < t->priority)
		p = p->prev;
	t->prev = p;
	t->next = p ? p->next : w->queue_head;
	if (t->next)
		t->next->prev = t;
	else
		w->queue_tail = t;
	if (p)
		p->next = t;
	else
		w->queue_head = t;
	w->nqueued++;
}

static void
on_assign(struct worker *w, struct hq_vmsg *m)
{
	uint32_t i, idx;

	if (m->secondary) {
		/* A secondary node of a multi-node task: nothing runs here;
		 * the worker is busy until the task is cancelled for it. */
		for (i = 0; i < m->refs.n; i++)
			hq_taskrefs_push(&w->reserved, m->refs.job[i],
			    m->refs.task[i], m->refs.instance[i]);
		worker_check_idle(w);
		return;
	}

	for (i = 0; i < m->refs.n; i++) {
		uint64_t key = (uint64_t)m->refs.job[i] << 32 | m->descs[i];
		struct wtask *t;

		if (!hq_u32map_get(&w->spec_index, key, &idx)) {
			hq_warn("assignment of %u@%u without its description",
			    m->refs.job[i], m->refs.task[i]);
			continue;
		}
		t = hq_xcalloc(1, sizeof *t);
		t->w = w;
		t->job = m->refs.job[i];
		t->task = m->refs.task[i];
		t->instance = m->refs.instance[i];
		t->desc = m->descs[i];
		t->spec = w->specs[idx];
		t->priority = t->spec->d.priority;
		t->variant = m->variants ? m->variants[i] : 0;
		if (t->variant >= t->spec->d.req.n)
			t->variant = 0;
		t->stdin_fd = -1;
		if (m->entries != NULL && m->entries[i] != NULL) {
			t->entry = m->entries[i];
			m->entries[i] = NULL;
		}
		if (m->nhosts > 0 && m->refs.n == 1) {
			t->mn_hosts = m->hosts;
			t->mn_nhosts = m->nhosts;
			m->hosts = NULL;
			m->nhosts = 0;
		}
		queue_insert(w, t);
	}
	if (!w->lost_server)
		worker_start_queued(w);
}

static bool
ref_match(const struct wtask *t, const struct hq_taskrefs *r, uint32_t i)
{
	return t->job == r->job[i] && t->task == r->task[i] &&
	    t->instance == r->instance[i];
}

static void
on_cancel(struct worker *w, struct hq_vmsg *m)
{
	on_cancel_refs(w, &m->refs);
}

static void
on_cancel_refs(struct worker *w, const struct hq_taskrefs *r)
{
	struct wtask *t, *next;
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		uint32_t k;

		for (k = 0; k < w->reserved.n; k++) {
			if (w->reserved.job[k] != r->job[i] ||
			    w->reserved.task[k] != r->task[i] ||
			    w->reserved.instance[k] != r->instance[i])
				continue;
			w->reserved.n--;
			w->reserved.job[k] = w->reserved.job[w->reserved.n];
			w->reserved.task[k] = w->reserved.task[w->reserved.n];
			w->reserved.instance[k] =
			    w->reserved.instance[w->reserved.n];
			break;
		}
		for (t = w->queue_head; t != NULL; t = next) {
			next = t->next;
			if (!ref_match(t, r, i))
				continue;
			if (t->prev)
				t->prev->next = t->next;
			else
				w->queue_head = t->next;
			if (t->next)
				t->next->prev = t->prev;
			else
				w->queue_tail = t->prev;
			w->nqueued--;
			worker_task_free(t);
		}
		for (t = w->running; t != NULL; t = t->next)
			if (ref_match(t, r, i) && !t->canceled) {
				t->canceled = true;
				worker_task_kill(t);
			}
	}
}

static void
worker_on_frame(struct hq_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct worker *w = arg;
	struct hq_errbuf eb;
	struct hq_vmsg m;

	if (hq_wire_decode_vmsg(data, len, &m, &eb) != 0) {
		hq_error("malformed message from the server: %s", eb.msg);
		hq_conn_abort(c, eb.msg);
		return;
	}
	if (!w->registered && m.kind != HQ_VMSG_WELCOME) {
		if (w->reconnecting) {
			hq_warn("reconnect refused: %s",
			    m.kind == HQ_VMSG_ERROR ? m.message
						    : "unexpected message");
			hq_vmsg_fini(&m);
			hq_conn_close(c, "reconnect refused");
			return;
		}
		if (m.kind == HQ_VMSG_ERROR)
			hq_error("server refused the worker: %s", m.message);
		else
			hq_error("unexpected message before registration");
		hq_vmsg_fini(&m);
		w->lost_server = true;
		worker_stop(w, HQ_LOST_NONE, 1);
		return;
	}
	switch (m.kind) {
	case HQ_VMSG_WELCOME:
		on_welcome(w, &m);
		break;
	case HQ_VMSG_SPEC:
		on_spec(w, &m);
		break;
	case HQ_VMSG_ASSIGN:
		on_assign(w, &m);
		break;
	case HQ_VMSG_CANCEL:
		on_cancel(w, &m);
		break;
	case HQ_VMSG_ACK:
		held_ack(w, m.upto);
		break;
	case HQ_VMSG_STOP:
		hq_info("Stop requested by the server");
		worker_stop(w, HQ_LOST_NONE, 0);
		break;
	case HQ_VMSG_ERROR:
		hq_error("server error: %s", m.message);
		break;
	}
	hq_vmsg_fini(&m);
}

static int worker_connect(struct worker *w, struct hq_errbuf *eb);
static int worker_load_access(struct worker *w, struct hq_errbuf *eb);

static void
worker_reconnect_cb(struct ev_loop *loop, ev_timer *tw, int revents)
{
	struct worker *w = tw->data;
	struct hq_errbuf eb;

	(void)loop;
	(void)revents;
	if (w->stopping || w->conn != NULL)
		return;
	if (hq_mono_us() - w->lost_at_us >=
	    w->opts.reconnect_timeout_ms * 1000) {
		hq_error("Could not reconnect to the server within the "
			 "reconnect timeout; stopping");
		w->lost_server = true;
		worker_stop(w, HQ_LOST_NONE, 1);
		return;
	}
	if (worker_load_access(w, &eb) == 0 && worker_connect(w, &eb) == 0)
		return; /* on_ready sends the hello; on_close retries */
	hq_debug("reconnect: %s", eb.msg);
	w->backoff_s = HQ_MIN(w->backoff_s * 2, 10.0);
	ev_timer_set(&w->reconnect_w, w->backoff_s, 0.);
	ev_timer_start(w->loop, &w->reconnect_w);
}

/* The server went away: keep tasks running and retry with back-off. */
static void
worker_begin_reconnect(struct worker *w, const char *why)
{
	if (!w->reconnecting) {
		hq_warn("Server lost (%s); tasks keep running, reconnecting",
		    why ? why : "connection closed");
		w->reconnecting = true;
		w->lost_at_us = hq_mono_us();
		w->backoff_s = 0.25;
	} else {
		w->backoff_s = HQ_MIN(w->backoff_s * 2, 10.0);
	}
	w->registered = false;
	ev_timer_init(&w->reconnect_w, worker_reconnect_cb, w->backoff_s, 0.);
	w->reconnect_w.data = w;
	ev_timer_start(w->loop, &w->reconnect_w);
}

static void
worker_on_close(struct hq_conn *c, const char *why, void *arg)
{
	struct worker *w = arg;

	(void)c;
	w->conn = NULL;
	if (w->stopping)
		return;
	if (w->opts.on_server_lost == WORKER_ON_LOST_RECONNECT &&
	    w->worker_id != 0) {
		worker_begin_reconnect(w, why);
		return;
	}
	w->lost_server = true;
	if (!w->registered) {
		hq_error("cannot register at the server: %s",
		    why ? why : "connection closed");
		worker_stop(w, HQ_LOST_NONE, 1);
		return;
	}
	if (w->opts.on_server_lost == WORKER_ON_LOST_FINISH) {
		hq_warn("Server lost (%s); finishing %u running task(s)",
		    why ? why : "connection closed", w->nrunning);
		/* Queued tasks are not started any more. */
		{
			struct wtask *t, *next;

			for (t = w->queue_head; t != NULL; t = next) {
				next = t->next;
				worker_task_free(t);
			}
			w->queue_head = w->queue_tail = NULL;
			w->nqueued = 0;
			/* Reservations for the server's multi-node tasks
			 * end with the server. */
			hq_taskrefs_clear(&w->reserved);
		}
		worker_check_idle(w);
		return;
	}
	hq_error("Server lost (%s); stopping", why ? why : "connection closed");
	worker_stop(w, HQ_LOST_NONE, 1);
}

/* ---- loop hooks ---------------------------------------------------------- */

static void
worker_prepare_cb(struct ev_loop *loop, ev_prepare *pw, int revents)
{
	struct worker *w = pw->data;

	(void)loop;
	(void)revents;
	worker_flush(w);
}

static void
worker_heartbeat_cb(struct ev_loop *loop, ev_timer *tw, int revents)
{
	struct worker *w = tw->data;
	struct hq_wmsg m;

	(void)loop;
	(void)revents;
	if (!w->registered || w->conn == NULL)
		return;
	memset(&m, 0, sizeof m);
	m.kind = HQ_WMSG_HEARTBEAT;
	worker_send(w, &m);
}

static void
worker_tick_cb(struct ev_loop *loop, ev_timer *tw, int revents)
{
	struct worker *w = tw->data;
	uint64_t now = hq_mono_us();

	(void)loop;
	(void)revents;
	if (w->stopping)
		return;
	worker_check_idle(w);
	if (w->opts.idle_timeout_ms > 0 && w->nrunning == 0 &&
	    w->nqueued == 0 && w->reserved.n == 0 &&
	    now - w->idle_since_us >= w->opts.idle_timeout_ms * 1000) {
		hq_info("Idle timeout reached; stopping");
		worker_stop(w, HQ_LOST_IDLE_TIMEOUT, 0);
		return;
	}
	if (w->opts.time_limit_ms > 0 &&
	    hq_now_ms() >= w->started_ms + w->opts.time_limit_ms) {
		hq_info("Time limit reached; stopping");
		worker_stop(w, HQ_LOST_TIME_LIMIT, 0);
	}
}

static void
worker_signal_cb(struct ev_loop *loop, ev_signal *sw, int revents)
{
	struct worker *w = sw->data;

	(void)loop;
	(void)revents;
	hq_info("Received signal %d; stopping", sw->signum);
	worker_stop(w, HQ_LOST_STOPPED, 0);
}

/* ---- start-up
 * ------------------------------------------------------------------ */

static void
topo_warn(void *arg, const char *msg)
{
	(void)arg;
	hq_warn("%s", msg);
}

static int
worker_resources(struct worker *w, struct hq_errbuf *eb)
{
	struct hq_res_pool *pools = NULL;
	uint32_t n = 0, i;
	const char *detect = w->opts.detect ? w->opts.detect : "all";
	bool has_cpus = w->opts.cpus != NULL, names[4] = { false };
	struct hq_topo_opts to;
	int rc;

	if (w->opts.cpus != NULL) {
		pools = hq_xcalloc(1, sizeof *pools);
		if ((rc = hq_parse_pool_def("cpus", w->opts.cpus, true,
			 &pools[0], eb)) != 0) {
			free(pools);
			return rc;
		}
		n = 1;
	}
	for (i = 0; i < w->opts.nresources; i++) {
		char *name, *def;

		if ((rc = hq_split_name_value(w->opts.resources[i], &name, &def,
			 eb)) != 0)
			goto fail;
		pools = hq_xreallocarray(pools, n + 1, sizeof *pools);
		memset(&pools[n], 0, sizeof pools[n]);
		rc = hq_parse_pool_def(name, def, strcmp(name, "cpus") == 0,
		    &pools[n], eb);
		if (rc == 0 && strcmp(name, "cpus") == 0 && has_cpus)
			rc = hq_errf(eb, HQ_EINVAL,
			    "--cpus conflicts with --resource cpus=...");
		if (strcmp(name, "cpus") == 0)
			has_cpus = true;
		if (strcmp(name, "mem") == 0)
			names[1] = true;
		if (strcmp(name, "gpus/nvidia") == 0)
			names[2] = true;
		if (strcmp(name, "gpus/amd") == 0)
			names[3] = true;
		free(name);
		free(def);
		if (rc != 0)
			goto fail;
		n++;
	}
	memset(&to, 0, sizeof to);
	to.no_hyper_threading = w->opts.no_hyper_threading;
	to.warn = topo_warn;
	if (strcmp(detect, "all") == 0) {
		to.detect_cpus = !has_cpus;
		to.detect_mem = !names[1];
		to.detect_gpus_nvidia = !names[2];
		to.detect_gpus_amd = !names[3];
	} else if (strcmp(detect, "none") != 0) {
		to.detect_cpus = !has_cpus && strstr(detect, "cpus") != NULL;
		to.detect_mem = !names[1] && strstr(detect, "mem") != NULL;
		to.detect_gpus_nvidia =
		    !names[2] && strstr(detect, "gpus/nvidia") != NULL;
		to.detect_gpus_amd =
		    !names[3] && strstr(detect, "gpus/amd") != NULL;
	}
	if (!has_cpus)
		to.detect_cpus = true;
	if ((rc = hq_topo_detect(&to, &pools, &n, eb)) != 0)
		goto fail;
	rc = hq_worker_res_from_pools(pools, n, &w->cfg.res, eb);
	pools = NULL;
	if (rc == 0 && w->opts.coupling != NULL)
		rc = hq_parse_coupling(w->opts.coupling, &w->cfg.res, eb);
	return rc;
fail:
	for (i = 0; i < n; i++)
		hq_res_pool_fini(&pools[i]);
	free(pools);
	return rc;
}

static void
worker_detect_manager(struct worker *w)
{
	const char *m = w->opts.manager ? w->opts.manager : "detect";
	const char *pbs = getenv("PBS_ENVIRONMENT");
	const char *slurm = getenv("SLURM_JOB_ID");

	if (slurm == NULL)
		slurm = getenv("SLURM_JOBID");
	w->cfg.manager = hq_xstrdup("");
	w->cfg.allocation_id = hq_xstrdup("");
	if ((strcmp(m, "detect") == 0 && pbs != NULL) ||
	    strcmp(m, "pbs") == 0) {
		const char *id = getenv("PBS_JOBID");

		if (id != NULL) {
			free(w->cfg.manager);
			free(w->cfg.allocation_id);
			w->cfg.manager = hq_xstrdup("PBS");
			w->cfg.allocation_id = hq_xstrdup(id);
		}
	} else if ((strcmp(m, "detect") == 0 && slurm != NULL) ||
	    strcmp(m, "slurm") == 0) {
		if (slurm != NULL) {
			free(w->cfg.manager);
			free(w->cfg.allocation_id);
			w->cfg.manager = hq_xstrdup("SLURM");
			w->cfg.allocation_id = hq_xstrdup(slurm);
		}
	}
}

static char *
worker_config_json(struct worker *w)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "heartbeat_interval",
	    json_real(hq_ms_to_secs(w->cfg.heartbeat_ms)));
	json_object_set_new(o, "idle_timeout",
	    w->cfg.idle_timeout_ms
		? json_real(hq_ms_to_secs(w->cfg.idle_timeout_ms))
		: json_null());
	json_object_set_new(o, "time_limit",
	    w->cfg.time_limit_ms
		? json_real(hq_ms_to_secs(w->cfg.time_limit_ms))
		: json_null());
	json_object_set_new(o, "work_dir", json_string(w->work_dir));
	json_object_set_new(o, "hostname", json_string(w->cfg.hostname));
	json_object_set_new(o, "group", json_string(w->cfg.group));
	json_object_set_new(o, "listen_address",
	    json_string(w->cfg.listen_address));
	json_object_set_new(o, "resources", hq_worker_res_json(&w->cfg.res));
	json_object_set_new(o, "on_server_lost",
	    json_string(w->cfg.on_server_lost));
	json_object_set_new(o, "min_utilization",
	    json_real(w->cfg.min_utilization / 10000.0));
	json_object_set_new(o, "_pid", json_integer(w->cfg.pid));
	json_object_set_new(o, "_manager", json_string(w->cfg.manager));
	json_object_set_new(o, "_allocation_id",
	    json_string(w->cfg.allocation_id));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* (Re)read <server dir>/hq-current/access.json: a restarted server may
 * live in a new instance dir. */
static int
worker_load_access(struct worker *w, struct hq_errbuf *eb)
{
	char *cur = hq_server_dir_current(w->opts.server_dir);
	char *path = hq_xprintf("%s/access.json", cur);
	struct hq_access acc;
	struct hq_tls *tls = NULL;
	int rc;

	free(cur);
	if (access(path, F_OK) != 0) {
		rc = hq_errf(eb, HQ_ENOTFOUND,
		    "No running instance of HQ found at \"%s\".\nTry to start "
		    "the server: `hq server start` or use a different server "
		    "directory.",
		    w->opts.server_dir);
		free(path);
		return rc;
	}
	rc = hq_access_read(path, &acc, eb);
	free(path);
	if (rc != 0)
		return rc;
	if (!(acc.parts & HQ_ACCESS_WORKER)) {
		hq_access_fini(&acc);
		return hq_errf(eb, HQ_EINVAL,
		    "the access file has no worker part");
	}
	if (acc.worker.has_key &&
	    (rc = hq_tls_create(HQ_ROLE_WORKER, false, acc.worker.key, &tls,
		 eb)) != 0) {
		hq_access_fini(&acc);
		return rc;
	}
	hq_access_fini(&w->access);
	w->access = acc;
	hq_tls_destroy(w->tls);
	w->tls = tls;
	return 0;
}

static int
worker_setup(struct worker *w, struct hq_errbuf *eb)
{
	char host[256];
	int rc;

	w->started_ms = hq_now_ms();
	if (w->opts.hostname != NULL) {
		w->hostname = hq_xstrdup(w->opts.hostname);
	} else {
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		w->hostname = hq_xstrdup(host);
	}
	if (w->opts.work_dir != NULL) {
		w->work_dir = hq_path_absolute(w->opts.work_dir);
	} else {
		char tmpl[] = "/tmp/hq-workerXXXXXX";

		if (mkdtemp(tmpl) == NULL)
			return hq_errf(eb, -errno,
			    "cannot create a work directory: %s",
			    strerror(errno));
		w->work_dir = hq_xprintf("%s/work", tmpl);
	}
	if (mkdir(w->work_dir, 0700) != 0 && errno != EEXIST)
		return hq_errf(eb, -errno,
		    "cannot create work directory %s: %s", w->work_dir,
		    strerror(errno));
	if ((rc = worker_resources(w, eb)) != 0)
		return rc;
	w->ralloc = hq_ralloc_create(&w->cfg.res);
	worker_detect_manager(w);
	if (w->opts.time_limit_ms == 0 && *w->cfg.manager != '\0' &&
	    !w->opts.bench) {
		/* No --time-limit: live as long as the allocation. */
		w->opts.time_limit_ms =
		    worker_manager_time_limit(w->cfg.manager,
			w->cfg.allocation_id);
		if (w->opts.time_limit_ms > 0)
			hq_info("Time limit from allocation %s: %llu s",
			    w->cfg.allocation_id,
			    (unsigned long long)w->opts.time_limit_ms / 1000);
	}
	w->cfg.hostname = hq_xstrdup(w->hostname);
	w->cfg.group = hq_xstrdup(w->opts.group ? w->opts.group
		: *w->cfg.allocation_id		? w->cfg.allocation_id
						: "default");
	w->cfg.heartbeat_ms = w->opts.heartbeat_ms;
	w->cfg.idle_timeout_ms = w->opts.idle_timeout_ms;
	w->cfg.time_limit_ms = w->opts.time_limit_ms;
	w->cfg.started_ms = w->started_ms;
	w->cfg.work_dir = hq_xstrdup(w->work_dir);
	w->cfg.on_server_lost = hq_xstrdup(
	    w->opts.on_server_lost == WORKER_ON_LOST_FINISH ? "finish-running"
		: w->opts.on_server_lost == WORKER_ON_LOST_RECONNECT
		? "reconnect"
		: "stop");
	w->cfg.min_utilization = w->opts.min_utilization;
	w->cfg.pid = (uint32_t)getpid();
	w->cfg.listen_address = hq_xprintf("%s:0", w->hostname);
	w->cfg.config_json = worker_config_json(w);

	return worker_load_access(w, eb);
}

static int
worker_connect(struct worker *w, struct hq_errbuf *eb)
{
	int fd, rc;

	if ((rc = hq_tcp_connect(w->access.worker.host, w->access.worker.port,
		 w->reconnecting ? 2.0 : 10.0, &fd, eb)) != 0)
		return hq_errf(eb, rc,
		    "Access token found but HQ server %s:%u is unreachable: %s",
		    w->access.worker.host, w->access.worker.port,
		    eb ? eb->msg : "");
	return hq_conn_create(w->loop, fd, w->tls, false, HQ_MAX_FRAME_WORKER,
	    &worker_cbs, w, &w->conn);
}

extern char **environ;

int
worker_main(const struct worker_opts *o)
{
	struct worker wk, *w = &wk;
	struct hq_errbuf eb;
	uint32_t i;
	int rc;

	memset(w, 0, sizeof *w);
	w->opts = *o;
	if (w->opts.heartbeat_ms == 0)
		w->opts.heartbeat_ms = 8000;
	w->loop = EV_DEFAULT;
	w->exit_code = 0;
	w->base_env = environ;
	w->devnull_r = w->devnull_w = -1;
	hq_u32map_init(&w->spec_index);
	{
		char buf[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);

		if (n > 0) {
			buf[n] = '\0';
			w->self_exe = hq_xstrdup(buf);
		} else {
			w->self_exe = hq_xstrdup("hq");
		}
	}
	hq_tls_global_init();
	if ((rc = worker_setup(w, &eb)) != 0 ||
	    (rc = worker_connect(w, &eb)) != 0) {
		hq_error("%s", eb.msg);
		rc = 1;
		goto out;
	}
	if (worker_notify_open(w, &eb) != 0)
		hq_warn("Task notifications are not available: %s", eb.msg);
	ev_prepare_init(&w->prepare_w, worker_prepare_cb);
	w->prepare_w.data = w;
	ev_prepare_start(w->loop, &w->prepare_w);
	ev_timer_init(&w->heartbeat_w, worker_heartbeat_cb,
	    w->opts.heartbeat_ms / 1000.0, w->opts.heartbeat_ms / 1000.0);
	w->heartbeat_w.data = w;
	ev_timer_start(w->loop, &w->heartbeat_w);
	ev_timer_init(&w->tick_w, worker_tick_cb, 0.25, 0.25);
	w->tick_w.data = w;
	ev_timer_start(w->loop, &w->tick_w);
	ev_signal_init(&w->sigint_w, worker_signal_cb, SIGINT);
	w->sigint_w.data = w;
	ev_signal_start(w->loop, &w->sigint_w);
	ev_signal_init(&w->sigterm_w, worker_signal_cb, SIGTERM);
	w->sigterm_w.data = w;
	ev_signal_start(w->loop, &w->sigterm_w);
	ev_signal_init(&w->sigtstp_w, worker_signal_cb, SIGTSTP);
	w->sigtstp_w.data = w;
	ev_signal_start(w->loop, &w->sigtstp_w);
	w->idle_since_us = hq_mono_us();

	ev_run(w->loop, 0);
	rc = w->exit_code;
out:
	if (w->conn != NULL)
		hq_conn_abort(w->conn, "worker exiting");
	hq_tls_destroy(w->tls);
	hq_access_fini(&w->access);
	/* Before the config: the allocator walks its pools (w->cfg.res). */
	hq_ralloc_destroy(w->ralloc);
	hq_worker_config_fini(&w->cfg);
	for (i = 0; i < w->nspecs; i++) {
		hq_task_desc_fini(&w->specs[i]->d);
		free(w->specs[i]->submit_dir);
		free(w->specs[i]->stream_dir);
		free(w->specs[i]);
	}
	free(w->specs);
	worker_stream_close_all(w);
	worker_notify_close(w);
	hq_u32map_fini(&w->spec_index);
	hq_taskrefs_fini(&w->started);
	hq_taskrefs_fini(&w->finished);
	hq_taskrefs_fini(&w->reserved);
	free(w->started_variant);
	held_ack(w, UINT64_MAX);
	free(w->held);
	ev_timer_stop(w->loop, &w->reconnect_w);
	hq_buf_fini(&w->frame);
	if (w->devnull_r >= 0)
		close(w->devnull_r);
	if (w->devnull_w >= 0)
		close(w->devnull_w);
	free(w->server_uid);
	free(w->hostname);
	free(w->work_dir);
	free(w->self_exe);
	return rc;
}
