/* SPDX-License-Identifier: MIT */
/*
 * The server process: start-up (server dir, access record, journal
 * recovery), the event loop, and the one mutation path:
 *
 *   message -> event -> hq_state_apply -> journal batch -> replies tagged
 *   with the event's seq -> group commit (ev_prepare) -> replies released
 *   once the journal reports the seq durable.
 */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/version.h"
#include "server/autoalloc.h"
#include "server/snapshot.h"

/* ---- mutation path ---------------------------------------------------- */

static void
journal_append(struct server *s, const struct hq_event *ev)
{
	uint64_t seq;
	int rc;

	if (s->journal == NULL) {
		s->last_seq = ++s->mem_seq;
		jstream_event(s, ev, s->last_seq);
		return;
	}
	hq_buf_reset(&s->enc);
	hq_wire_encode_event(ev, &s->enc);
	rc = hq_journal_append(s->journal, s->enc.data, s->enc.len, &seq);
	s->bytes_since_ckpt += s->enc.len;
	if (rc != 0) {
		/* The journal refuses appends after a failed commit: the
		 * failure is reported by the commit callback. */
		s->last_seq = UINT64_MAX;
		return;
	}
	s->last_seq = seq;
	jstream_event(s, ev, seq);
}

static void
run_close(struct server *s)
{
	if (!s->run_open)
		return;
	s->run_open = false;
	journal_append(s, &s->run);
	s->run.u.run.n = 0;
}

uint64_t
server_seq(struct server *s)
{
	run_close(s);
	return s->last_seq;
}

int
server_emit(struct server *s, const struct hq_event *ev, struct hq_errbuf *eb)
{
	struct hq_errbuf local;
	int rc;

	run_close(s);
	if ((rc = hq_state_apply(s->st, ev, eb ? eb : &local)) != 0) {
		/* Without eb the caller validated first: a rejection is a bug,
		 * but not a reason to lose the server. */
		if (eb == NULL)
			hq_error("internal error: event %s rejected: %s",
			    hq_event_kind_name(ev), local.msg);
		return rc;
	}
	journal_append(s, ev);
	s->need_schedule = true;
	return 0;
}

void
server_emit_run(struct server *s, enum hq_run_kind kind, uint32_t job,
    uint32_t worker, uint32_t task_id, uint32_t variant)
{
	struct hq_event one;
	struct hq_errbuf eb;
	int rc;

	if (s->run_open &&
	    (s->run.u.run.kind != kind || s->run.u.run.job != job ||
		s->run.u.run.worker != worker))
		run_close(s);
	memset(&one, 0, sizeof one);
	one.kind = HQ_EV_TASK_RUN;
	/* Every transition of a run carries the run's time, so replaying the
	 * run rebuilds exactly the same timestamps. */
	one.time_ms = s->run_open ? s->run.time_ms : hq_now_ms();
	one.u.run.kind = kind;
	one.u.run.job = job;
	one.u.run.worker = worker;
	one.u.run.n = 1;
	one.u.run.tasks = &task_id;
	one.u.run.variants = variant ? &variant : NULL;
	if ((rc = hq_state_apply(s->st, &one, &eb)) != 0) {
		hq_error("internal error: %s of %u@%u rejected: %s",
		    hq_event_kind_name(&one), job, task_id, eb.msg);
		return;
	}
	if (!s->run_open) {
		s->run.kind = HQ_EV_TASK_RUN;
		s->run.time_ms = one.time_ms;
		s->run.u.run.kind = kind;
		s->run.u.run.job = job;
		s->run.u.run.worker = worker;
		s->run.u.run.n = 0;
		s->run_open = true;
		free(s->run.u.run.variants);
		s->run.u.run.variants = NULL;
	}
	if (s->run.u.run.n == s->run.u.run.cap) {
		uint32_t ncap = s->run.u.run.cap ? s->run.u.run.cap * 2 : 64;

		s->run.u.run.tasks = hq_xreallocarray(s->run.u.run.tasks, ncap,
		    sizeof *s->run.u.run.tasks);
		if (s->run.u.run.variants != NULL)
			s->run.u.run.variants =
			    hq_xreallocarray(s->run.u.run.variants, ncap,
				sizeof *s->run.u.run.variants);
		s->run.u.run.cap = ncap;
	}
	if (variant != 0 && s->run.u.run.variants == NULL)
		/* Variants only when one differs from 0: zeroed so far. */
		s->run.u.run.variants =
		    hq_xcalloc(s->run.u.run.cap, sizeof *s->run.u.run.variants);
	if (s->run.u.run.variants != NULL)
		s->run.u.run.variants[s->run.u.run.n] = variant;
	s->run.u.run.tasks[s->run.u.run.n++] = task_id;
	if (kind != HQ_RUN_ASSIGNED)
		s->need_schedule = true;
}

void
server_emit_multinode(struct server *s, uint32_t job, uint32_t task_id,
    const uint32_t *nodes, uint32_t nnodes)
{
	struct hq_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.time_ms = hq_now_ms();
	ev.u.run.kind = HQ_RUN_ASSIGNED;
	ev.u.run.job = job;
	ev.u.run.worker = nodes[0];
	ev.u.run.n = ev.u.run.cap = 1;
	ev.u.run.tasks = &task_id;
	ev.u.run.nnodes = nnodes;
	ev.u.run.nodes = (uint32_t *)nodes;
	server_emit(s, &ev, NULL);
}

void
server_mark_held(struct server *s)
{
	uint32_t i;

	/* Not journaled: only for the runtime info of `worker info`. */
	for (i = 1; i < s->st->workers_cap; i++)
		if (s->st->workers[i] != NULL)
			s->st->workers[i]->mn_held = false;
	for (i = 0; i < s->plan.nheld; i++) {
		struct hq_sworker *w = hq_state_worker(s->st, s->plan.held[i]);

		if (w != NULL)
			w->mn_held = true;
	}
}

void
server_send_smsg(struct server *s, struct hq_conn *c, const struct hq_smsg *m)
{
	uint64_t seq = server_seq(s);

	hq_buf_reset(&s->frame);
	hq_wire_encode_smsg(m, &s->frame);
	hq_conn_send(c, s->frame.data, s->frame.len, seq);
}

void
server_send_vmsg(struct server *s, struct hq_conn *c, const struct hq_vmsg *m)
{
	uint64_t seq = server_seq(s);

	hq_buf_reset(&s->frame);
	hq_wire_encode_vmsg(m, &s->frame);
	hq_conn_send(c, s->frame.data, s->frame.len, seq);
}

void
server_send_error(struct server *s, struct hq_conn *c, const char *fmt, ...)
{
	struct hq_smsg m;
	va_list ap;

	memset(&m, 0, sizeof m);
	m.kind = HQ_SMSG_ERROR;
	va_start(ap, fmt);
	if (vasprintf(&m.message, fmt, ap) < 0)
		hq_fatalx("out of memory");
	va_end(ap);
	server_send_smsg(s, c, &m);
	hq_smsg_fini(&m);
}

static void server_finish_stop(struct server *s);

static void
release_all(struct server *s, uint64_t durable)
{
	struct client *cl;
	struct wconn *wc;

	s->durable_seq = durable;
	for (cl = s->clients; cl != NULL; cl = cl->next)
		hq_conn_release(cl->conn, durable);
	for (wc = s->wconns; wc != NULL; wc = wc->next)
		hq_conn_release(wc->conn, durable);
	server_finish_stop(s);
}

/* ---- checkpoints --------------------------------------------------------- */

/* Checkpoints keep restarts bounded: a restart loads the newest one and
 * replays the events after it. One is taken when the tail since the last
 * one outgrows both 16 MiB and four times the last snapshot, so the cost
 * of writing them stays proportional to the events journalled. */
#define CKPT_MIN_BYTES (16u << 20)

void
server_checkpoint(struct server *s)
{
	struct hq_buf b;
	int rc;

	if (s->journal == NULL || s->journal_failed)
		return;
	run_close(s);
	if (s->last_seq == s->last_ckpt_seq)
		return;
	hq_buf_init(&b);
	hq_state_snapshot(s->st, &b);
	rc = hq_journal_put_checkpoint(s->journal, s->last_seq, b.data, b.len);
	if (rc != 0) {
		hq_warn("cannot write a checkpoint: %s", hq_strerror(rc));
	} else {
		s->last_snap_len = b.len;
		s->last_ckpt_seq = s->last_seq;
		s->bytes_since_ckpt = 0;
		hq_debug("checkpoint at event %llu (%zu bytes)",
		    (unsigned long long)s->last_seq, b.len);
	}
	hq_buf_fini(&b);
}

static void
maybe_checkpoint(struct server *s)
{
	if (s->journal != NULL && s->bytes_since_ckpt > CKPT_MIN_BYTES &&
	    s->bytes_since_ckpt > 4 * (uint64_t)s->last_snap_len)
		server_checkpoint(s);
}

struct ckpt_scan {
	struct hq_journal *j;
	uint64_t cutoff_ms;
	uint64_t best;
};

static int
record_time_cb(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct hq_event ev;
	uint64_t *t = arg;

	(void)seq;
	if (hq_wire_decode_event(rec, len, &ev, NULL) == 0) {
		*t = ev.time_ms;
		hq_event_fini(&ev);
	}
	return 1; /* one record is enough */
}

static int
ckpt_scan_cb(uint64_t seq, const void *snap, size_t len, void *arg)
{
	struct ckpt_scan *c = arg;
	uint64_t t = 0;

	(void)snap;
	(void)len;
	hq_journal_foreach(c->j, seq, seq, record_time_cb, &t);
	if (t != 0 && t <= c->cutoff_ms && seq > c->best)
		c->best = seq;
	return 0;
}

/* Drop history older than the retention period, at a durable checkpoint. */
static void
apply_retention(struct server *s)
{
	struct ckpt_scan c;
	struct hq_errbuf eb;
	uint64_t now = hq_now_ms();

	if (s->journal == NULL || s->opts.journal_retention_ms == 0 ||
	    now < s->opts.journal_retention_ms)
		return;
	c.j = s->journal;
	c.cutoff_ms = now - s->opts.journal_retention_ms;
	c.best = 0;
	hq_journal_foreach_checkpoint(s->journal, ckpt_scan_cb, &c);
	if (c.best > 1 && hq_journal_prune(s->journal, c.best, &eb) != 0)
		hq_warn("journal retention: %s", eb.msg);
}

int
server_sync_commit(struct server *s, struct hq_errbuf *eb)
{
	int rc;

	run_close(s);
	if (s->journal == NULL) {
		release_all(s, s->last_seq);
		return 0;
	}
	if (s->journal_failed)
		return hq_errf(eb, HQ_EJOURNAL, "the journal failed earlier");
	if ((rc = hq_journal_commit(s->journal, eb)) != 0)
		return rc;
	release_all(s, hq_journal_durable_seq(s->journal));
	return 0;
}

int
server_prune(struct server *s, uint64_t *dropped, struct hq_errbuf *eb)
{
	struct hq_journal_stat before, after;
	int rc;

	if (s->journal == NULL)
		return hq_errf(eb, HQ_EINVAL,
		    "the server runs without a journal");
	hq_journal_stat(s->journal, &before);
	server_checkpoint(s);
	if ((rc = server_sync_commit(s, eb)) != 0)
		return rc;
	if ((rc = hq_journal_prune(s->journal, s->last_ckpt_seq, eb)) != 0)
		return rc;
	hq_journal_stat(s->journal, &after);
	*dropped = before.n_records - after.n_records;
	return 0;
}

/* ---- state hooks --------------------------------------------------------- */

static void
hook_task_revoked(void *arg, uint32_t worker, uint32_t job, uint32_t task_id,
    uint32_t instance)
{
	workers_task_revoked(arg, worker, job, task_id, instance);
}

static void
hook_job_changed(void *arg, const struct hq_job *job)
{
	clients_job_changed(arg, job);
}

static void
hook_worker_lost(void *arg, const struct hq_sworker *w)
{
	struct server *s = arg;

	hq_info("Worker %u lost: %s", w->id,
	    hq_lost_reason_name(w->lost_reason));
	s->need_schedule = true;
}

/* ---- the loop -------------------------------------------------------- */

static void
schedule(struct server *s)
{
	uint32_t i;

	if (!s->need_schedule)
		return;
	s->need_schedule = false;
	hq_sched_plan(s->st, hq_now_ms(), &s->sched, &s->plan);
	for (i = 0; i < s->plan.n; i++) {
		const struct hq_assign *a = &s->plan.a[i];
		struct hq_job *job = hq_state_job(s->st, a->job);

		if (a->nnodes > 0)
			server_emit_multinode(s, a->job, job->tasks[a->idx].id,
			    s->plan.nodes + a->nodes, a->nnodes);
		else
			server_emit_run(s, HQ_RUN_ASSIGNED, a->job, a->worker,
			    job->tasks[a->idx].id, a->variant);
	}
	server_mark_held(s);
}

/*
 * Group commit. A client waiting for a reply gets its commit at once. When
 * only workers wait (their queues are deep enough to cover it), the batch
 * may grow for up to COMMIT_WINDOW_US after the previous hand-over, so that
 * a stream of small task reports shares one synced commit instead of one
 * each.
 */
#define COMMIT_WINDOW_US 2000

static bool
clients_waiting(struct server *s)
{
	struct client *cl;

	for (cl = s->clients; cl != NULL; cl = cl->next)
		if (hq_conn_has_held(cl->conn))
			return true;
	return false;
}

static void
server_commit_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* Nothing to do: the loop wakes up and ev_prepare flushes. */
}

static void
server_flush(struct server *s)
{
	uint64_t now = hq_mono_us();

	if (!clients_waiting(s) && !s->stopping &&
	    now - s->last_flush_us < COMMIT_WINDOW_US) {
		if (!ev_is_active(&s->commit_w)) {
			ev_timer_set(&s->commit_w,
			    (COMMIT_WINDOW_US - (now - s->last_flush_us)) / 1e6,
			    0.);
			ev_timer_start(s->loop, &s->commit_w);
		}
		return;
	}
	ev_timer_stop(s->loop, &s->commit_w);
	hq_journal_flush_async(s->journal);
	s->last_flush_us = now;
}

/*
 * Just before the loop blocks: schedule, send what that produced, and hand
 * the batch to the journal writer. Replies go out when it is durable.
 */
static void
server_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct server *s = w->data;

	(void)loop;
	(void)revents;
	if (!s->stopping)
		schedule(s);
	autoalloc_prepare(s);
	workers_dispatch(s);
	clients_flush_waiters(s);
	jstream_pump(s);
	run_close(s);
	maybe_checkpoint(s);
	if (s->journal == NULL) {
		release_all(s, s->last_seq);
		return;
	}
	if (s->last_seq > s->durable_seq) {
		if (!s->journal_failed)
			server_flush(s);
	} else {
		/* Replies that depend on nothing new go out now. */
		release_all(s, s->durable_seq);
	}
}

/*
 * A commit failed (disk or map full, I/O error): the file keeps everything
 * before it, but the changes since were applied in memory only. Nobody may
 * hear of them: replies still waiting for that commit are dropped, their
 * clients get an error instead, and the server stops (a restart reloads
 * what is stored).
 */
static void
server_journal_failed(struct server *s, const struct hq_errbuf *eb)
{
	struct client *cl;
	struct wconn *wc;

	if (s->journal_failed)
		return;
	s->journal_failed = true;
	s->exit_code = 1;
	hq_error("journal commit failed: %s; stopping so that no change is "
		 "acknowledged without being stored",
	    eb->msg);
	for (cl = s->clients; cl != NULL; cl = cl->next) {
		struct hq_smsg r;

		if (!hq_conn_has_held(cl->conn))
			continue;
		hq_conn_drop_held(cl->conn);
		memset(&r, 0, sizeof r);
		r.kind = HQ_SMSG_ERROR;
		r.message = hq_xprintf("The server could not store the change "
				       "in its journal (%s); nothing was "
				       "changed. The server stops.",
		    eb->msg);
		hq_buf_reset(&s->frame);
		hq_wire_encode_smsg(&r, &s->frame);
		hq_conn_send(cl->conn, s->frame.data, s->frame.len, 0);
		hq_smsg_fini(&r);
	}
	for (wc = s->wconns; wc != NULL; wc = wc->next)
		hq_conn_drop_held(wc->conn);
	server_request_stop(s);
	server_finish_stop(s);
}

static void
server_journal_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct server *s = w->data;
	struct hq_errbuf eb;
	uint64_t durable;
	int rc;

	(void)loop;
	(void)revents;
	durable = s->durable_seq;
	rc = hq_journal_poll(s->journal, &durable, &eb);
	if (durable > s->durable_seq)
		release_all(s, durable);
	if (rc != 0)
		server_journal_failed(s, &eb);
	if (durable > s->durable_seq)
		release_all(s, durable);
}

static bool
server_idle(struct server *s)
{
	uint32_t i;

	for (i = 1; i < s->st->workers_cap; i++)
		if (s->st->workers[i] != NULL && s->st->workers[i]->online)
			return false;
	for (i = 1; i < s->st->next_job_id; i++) {
		struct hq_job *job = hq_state_job(s->st, i);

		if (job != NULL && !hq_job_tasks_done(job))
			return false;
	}
	return true;
}

static void
server_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct server *s = w->data;

	(void)loop;
	(void)revents;
	workers_check_heartbeats(s);
	workers_check_reconnects(s);
	if (s->opts.idle_timeout_ms > 0 && !s->stopping) {
		if (!server_idle(s)) {
			s->idle_since_us = hq_mono_us();
		} else if (hq_mono_us() - s->idle_since_us >=
		    s->opts.idle_timeout_ms * 1000) {
			hq_info("Idle timeout reached, stopping the server");
			server_request_stop(s);
		}
	}
}

static void
server_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct server *s = w->data;

	(void)loop;
	(void)revents;
	hq_info("Received signal %d, stopping the server", w->signum);
	server_request_stop(s);
}

static void
server_stop_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

void
server_conn_gone(struct server *s)
{
	if (s->stop_sent && s->clients == NULL && s->wconns == NULL)
		ev_break(s->loop, EVBREAK_ALL);
}

/*
 * Second half of a stop, once the stop event is durable (or the journal
 * failed): workers are told to stop, every connection is closed after its
 * released replies are written, and the loop ends when they are gone (or
 * after a grace period).
 */
static void
server_finish_stop(struct server *s)
{
	if (!s->stopping || s->stop_sent)
		return;
	if (!s->journal_failed && s->durable_seq < s->stop_seq)
		return;
	s->stop_sent = true;
	workers_close_all(s);
	clients_close_all(s);
	ev_timer_init(&s->stop_w, server_stop_timer_cb, 3.0, 0.);
	s->stop_w.data = s;
	ev_timer_start(s->loop, &s->stop_w);
	server_conn_gone(s);
}

void
server_request_stop(struct server *s)
{
	struct hq_event ev;

	if (s->stopping)
		return;
	s->stopping = true;
	autoalloc_stop(s);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_SERVER_STOPPED;
	ev.time_ms = hq_now_ms();
	if (!s->journal_failed)
		server_emit(s, &ev, NULL);
	s->stop_seq = server_seq(s);
}

/* ---- start-up ------------------------------------------------------------ */

struct replay_ctx {
	struct hq_state *st;
	uint64_t last;
	uint64_t bytes;
	uint64_t failed_seq;
	char msg[600];
};

static int
replay_cb(uint64_t seq, const void *rec, size_t len, void *arg)
{
	struct replay_ctx *c = arg;
	struct hq_errbuf eb;
	struct hq_event ev;
	int rc;

	if ((rc = hq_wire_decode_event(rec, len, &ev, &eb)) == 0) {
		rc = hq_state_apply(c->st, &ev, &eb);
		hq_event_fini(&ev);
	}
	if (rc != 0) {
		c->failed_seq = seq;
		snprintf(c->msg, sizeof c->msg, "%s", eb.msg);
		return rc;
	}
	c->last = seq;
	c->bytes += len;
	return 0;
}

/* Keep a byte copy of a damaged journal before changing it. */
static int
copy_file(const char *from, const char *to, struct hq_errbuf *eb)
{
	char buf[1 << 16];
	int in, out, rc = 0;
	ssize_t n;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return hq_errf(eb, -errno, "cannot read %s: %s", from,
		    strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = hq_errf(eb, -errno, "cannot create %s: %s", to,
		    strerror(errno));
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(out) != 0)
		rc = hq_errf(eb, -errno, "cannot copy %s to %s: %s", from, to,
		    strerror(errno));
	close(in);
	close(out);
	return rc;
}

/* --journal-recover: keep the consistent prefix before event 'bad'. */
static int
server_salvage(struct server *s, uint64_t bad, struct hq_errbuf *eb)
{
	const char *path = s->opts.journal_path;
	uint64_t last = hq_journal_last_seq(s->journal), kept = 0;
	char *aside = hq_xprintf("%s.damaged-%llu", path,
	    (unsigned long long)hq_now_ms());
	int rc;

	if ((rc = copy_file(path, aside, eb)) == 0 &&
	    (rc = hq_journal_truncate(s->journal, bad, &kept, eb)) == 0)
		hq_warn("journal %s: recovered the consistent prefix up to "
			"event %llu; dropped events %llu..%llu (%llu "
			"event(s)); "
			"the damaged file is kept as %s",
		    path, (unsigned long long)kept,
		    (unsigned long long)(kept + 1), (unsigned long long)last,
		    (unsigned long long)(last > kept ? last - kept : 0), aside);
	free(aside);
	return rc;
}

static int
server_recover(struct server *s, struct hq_errbuf *eb)
{
	const char *path = s->opts.journal_path;
	struct replay_ctx ctx;
	struct hq_errbuf inner;
	uint64_t from = 1, cseq = 0, bad = 0;
	void *val = NULL, *snap = NULL;
	size_t len, slen;
	char why[600] = "";
	int rc;

	if (hq_journal_latest_checkpoint(s->journal, &cseq, &snap, &slen) ==
	    0) {
		struct hq_state *restored = NULL;

		rc = hq_state_restore(snap, slen, &restored, &inner);
		free(snap);
		if (rc != 0)
			return hq_errf(eb, rc,
			    "journal %s: the checkpoint at event %llu cannot "
			    "be loaded: %s. Run `hq-replay verify %s` to "
			    "inspect the file",
			    path, (unsigned long long)cseq, inner.msg, path);
		hq_state_destroy(s->st);
		s->st = restored;
		from = cseq + 1;
		s->last_ckpt_seq = cseq;
		s->last_snap_len = slen;
	}
	/* Check the hash chain over everything this start replays. */
	memset(&ctx, 0, sizeof ctx);
	if (hq_journal_verify_tail(s->journal, cseq, &bad, &inner) != 0) {
		snprintf(why, sizeof why, "%s", inner.msg);
		if (bad == 0)
			bad = from;
	} else {
		ctx.st = s->st;
		rc = hq_journal_foreach(s->journal, from, UINT64_MAX, replay_cb,
		    &ctx);
		if (rc != 0) {
			bad = ctx.failed_seq ? ctx.failed_seq : ctx.last + 1;
			snprintf(why, sizeof why, "%s",
			    ctx.failed_seq ? ctx.msg : hq_strerror(rc));
		}
	}
	if (bad != 0) {
		if (!s->opts.journal_recover || s->recovered)
			return hq_errf(eb, HQ_ECORRUPT,
			    "journal %s is damaged at event %llu: %s.\nThe "
			    "server refuses to start so that no acknowledged "
			    "change is silently dropped. Run `hq-replay verify "
			    "%s` to inspect it; `hq server start "
			    "--journal-recover` starts from the consistent "
			    "part before event %llu and keeps a copy of the "
			    "damaged file.",
			    path, (unsigned long long)bad, why, path,
			    (unsigned long long)bad);
		if ((rc = server_salvage(s, bad, eb)) != 0)
			return rc;
		s->recovered = true;
		hq_state_destroy(s->st);
		s->st = hq_state_create();
		s->last_ckpt_seq = 0;
		s->last_snap_len = 0;
		return server_recover(s, eb);
	}
	s->last_seq = s->durable_seq = hq_journal_last_seq(s->journal);
	if (ctx.last > 0 || from > 1)
		hq_info("Restored %s: %u job(s); checkpoint at event %llu, "
			"%llu event(s) replayed after it",
		    path, s->st->njobs_live, (unsigned long long)(from - 1),
		    (unsigned long long)(ctx.last ? ctx.last - from + 1 : 0));
	s->bytes_since_ckpt = ctx.bytes;
	if (hq_journal_get_meta(s->journal, "access", &val, &len) == 0) {
		char *text = hq_xstrndup(val, len);

		free(val);
		hq_access_fini(&s->access);
		rc = hq_access_from_json(text, &s->access, &inner);
		free(text);
		if (rc != 0)
			return hq_errf(eb, rc,
			    "journal %s holds a damaged access record: %s",
			    path, inner.msg);
	}
	return 0;
}

static char *
local_hostname(void)
{
	char buf[256];

	if (gethostname(buf, sizeof buf) != 0)
		return hq_xstrdup("localhost");
	buf[sizeof buf - 1] = '\0';
	return hq_xstrdup(buf);
}

/* Refuse a second server on a live server dir. */
static int
check_running(const char *dir, struct hq_errbuf *eb)
{
	char *cur = hq_server_dir_current(dir);
	char *path = hq_xprintf("%s/access.json", cur);
	struct hq_access a;
	int fd, rc = 0;

	if (access(path, F_OK) == 0 && hq_access_read(path, &a, NULL) == 0) {
		if (hq_tcp_connect(a.client.host, a.client.port, 1.0, &fd,
			NULL) == 0) {
			close(fd);
			rc = hq_errf(eb, HQ_EBUSY,
			    "Server at %s is already online, please stop it "
			    "first using `hq server stop --server-dir %s`",
			    dir, dir);
		}
		hq_access_fini(&a);
	}
	free(path);
	free(cur);
	return rc;
}

static int
server_setup_access(struct server *s, struct hq_errbuf *eb)
{
	const char *host = s->opts.host ? s->opts.host : s->hostname;
	int rc;

	if (s->opts.access_file != NULL) {
		struct hq_access a;

		if ((rc = hq_access_read(s->opts.access_file, &a, eb)) != 0)
			return rc;
		if (a.parts != HQ_ACCESS_ALL || a.server_uid == NULL) {
			hq_access_fini(&a);
			return hq_errf(eb, HQ_EINVAL,
			    "access file %s must hold both the client and the "
			    "worker part and a server_uid",
			    s->opts.access_file);
		}
		hq_access_fini(&s->access);
		s->access = a;
	}
	if (s->access.version == NULL) {
		if ((rc = hq_access_generate(&s->access, host, 0, host, 0)))
			return hq_errf(eb, rc, "cannot generate keys: %s",
			    hq_strerror(rc));
	} else {
		free(s->access.version);
		s->access.version = hq_xstrdup(HQ_VERSION);
	}
	if (s->opts.host != NULL) {
		free(s->access.client.host);
		free(s->access.worker.host);
		s->access.client.host = hq_xstrdup(s->opts.host);
		s->access.worker.host = hq_xstrdup(s->opts.host);
	}
	if (s->opts.client_port >= 0)
		s->access.client.port = (uint16_t)s->opts.client_port;
	if (s->opts.worker_port >= 0)
		s->access.worker.port = (uint16_t)s->opts.worker_port;
	if (s->opts.disable_client_auth)
		s->access.client.has_key = false;
	if (s->opts.disable_worker_auth)
		s->access.worker.has_key = false;
	return 0;
}

static int
server_listen(struct server *s, struct hq_errbuf *eb)
{
	int rc;

	if (s->access.client.has_key &&
	    (rc = hq_tls_create(HQ_ROLE_CLIENT, true, s->access.client.key,
		 &s->client_tls, eb)))
		return rc;
	if (s->access.worker.has_key &&
	    (rc = hq_tls_create(HQ_ROLE_WORKER, true, s->access.worker.key,
		 &s->worker_tls, eb)))
		return rc;
	if ((rc = hq_listener_open(s->loop, NULL, s->access.client.port,
		 clients_accept, s, &s->client_l, eb)))
		return rc;
	if ((rc = hq_listener_open(s->loop, NULL, s->access.worker.port,
		 workers_accept, s, &s->worker_l, eb)))
		return rc;
	s->access.client.port = hq_listener_port(s->client_l);
	s->access.worker.port = hq_listener_port(s->worker_l);
	return 0;
}

static void
server_emit_started(struct server *s)
{
	struct hq_event ev;
	uint32_t i;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_SERVER_STARTED;
	ev.time_ms = s->start_ms;
	ev.u.started.server_uid = s->access.server_uid;
	ev.u.started.pid = (uint32_t)getpid();
	ev.u.started.host = s->hostname;
	server_emit(s, &ev, NULL);
	/* Workers of the previous run: those in reconnect mode still run
	 * their tasks and get a grace period to come back; the others are
	 * gone and their tasks go back to waiting (no crash counted). */
	for (i = 1; i < s->st->workers_cap; i++) {
		struct hq_sworker *w = s->st->workers[i];

		if (w == NULL || !w->online)
			continue;
		workers_disconnected(s, w->id, HQ_LOST_SERVER_RESTART);
	}
}

void (*hq_server_print_info)(struct server *s, json_t *info);

int
server_main(const struct server_opts *o)
{
	struct server srv, *s = &srv;
	struct hq_state_hooks hooks;
	struct hq_errbuf eb;
	char *path = NULL, *text;
	int rc;

	memset(s, 0, sizeof *s);
	s->opts = *o;
	s->exit_code = 0;
	s->loop = EV_DEFAULT;
	s->st = hq_state_create();
	s->hostname = local_hostname();
	s->start_ms = hq_now_ms();
	s->sched.layers = 2;
	{
		/* A benchmark knob: the prefill of workers not yet measured. */
		const char *e = getenv("HQ_PREFILL_LAYERS");
		uint32_t n;

		if (e != NULL &&
		    (hq_parse_u32(e, &n, &eb) != 0 || n == 0 ||
			n > PREFILL_MAX_LAYERS))
			hq_warn("HQ_PREFILL_LAYERS=%s ignored: expected 1 to "
				"%u",
			    e, PREFILL_MAX_LAYERS);
		else if (e != NULL)
			s->sched.layers = n;
	}
	s->server_dir = hq_path_absolute(o->server_dir);
	hq_tls_global_init();

	if ((rc = check_running(s->server_dir, &eb)) != 0)
		goto fail;
	if (o->journal_path != NULL) {
		struct hq_journal_opts jo = { 0 };

		jo.map_size = o->journal_map_size;
		jo.recover = o->journal_recover;
		if ((rc = hq_journal_open(o->journal_path, &jo, &s->journal,
			 &eb)) != 0) {
			if (rc == HQ_ECORRUPT && !o->journal_recover)
				snprintf(eb.msg + strlen(eb.msg),
				    sizeof eb.msg - strlen(eb.msg),
				    ". `hq server start --journal-recover` "
				    "starts from its consistent part");
			goto fail;
		}
		if ((rc = server_recover(s, &eb)) != 0)
			goto fail;
	}
	if ((rc = server_setup_access(s, &eb)) != 0 ||
	    (rc = server_listen(s, &eb)) != 0)
		goto fail;
	/* From here on every change goes through the journal. */
	hooks.arg = s;
	hooks.task_revoked = hook_task_revoked;
	hooks.job_changed = hook_job_changed;
	hooks.worker_lost = hook_worker_lost;
	hq_state_set_hooks(s->st, &hooks);
	server_emit_started(s);
	run_close(s);
	if (s->journal != NULL) {
		text = hq_access_to_json(&s->access, HQ_ACCESS_ALL);
		hq_journal_put_meta(s->journal, "access", text, strlen(text));
		free(text);
		if ((rc = hq_journal_commit(s->journal, &eb)) != 0)
			goto fail;
		s->durable_seq = hq_journal_durable_seq(s->journal);
		apply_retention(s);
	}
	if ((rc = hq_server_dir_new_instance(s->server_dir, &s->instance_dir,
		 &eb)) != 0)
		goto fail;
	path = hq_xprintf("%s/access.json", s->instance_dir);
	if ((rc = hq_access_write(path, &s->access, HQ_ACCESS_ALL, &eb)) != 0 ||
	    (rc = hq_server_dir_link(s->server_dir, s->instance_dir, &eb)) != 0)
		goto fail;

	autoalloc_create(s);
	ev_prepare_init(&s->prepare_w, server_prepare_cb);
	s->prepare_w.data = s;
	ev_prepare_start(s->loop, &s->prepare_w);
	if (s->journal != NULL) {
		ev_io_init(&s->journal_w, server_journal_cb,
		    hq_journal_event_fd(s->journal), EV_READ);
		s->journal_w.data = s;
		ev_io_start(s->loop, &s->journal_w);
	}
	ev_timer_init(&s->commit_w, server_commit_timer_cb, 0., 0.);
	s->commit_w.data = s;
	ev_timer_init(&s->tick_w, server_tick_cb, 1.0, 1.0);
	s->tick_w.data = s;
	ev_timer_start(s->loop, &s->tick_w);
	ev_signal_init(&s->sigint_w, server_signal_cb, SIGINT);
	s->sigint_w.data = s;
	ev_signal_start(s->loop, &s->sigint_w);
	ev_signal_init(&s->sigterm_w, server_signal_cb, SIGTERM);
	s->sigterm_w.data = s;
	ev_signal_start(s->loop, &s->sigterm_w);
	s->idle_since_us = hq_mono_us();

	if (hq_server_print_info != NULL) {
		json_t *info = query_server_info(s);

		hq_server_print_info(s, info);
		json_decref(info);
	}
	hq_info("Server %s listening: clients on %s:%u, workers on %s:%u",
	    s->access.server_uid, s->access.client.host, s->access.client.port,
	    s->access.worker.host, s->access.worker.port);

	ev_run(s->loop, 0);

	/* Left the loop (stop done or timed out): drop what is left. A last
	 * checkpoint makes the next start fast. */
	run_close(s);
	if (!s->journal_failed)
		server_checkpoint(s);
	if (s->journal != NULL && !s->journal_failed &&
	    hq_journal_commit(s->journal, &eb) != 0)
		hq_error("final journal commit failed: %s", eb.msg);
	{
		int round;

		for (round = 0; round < 100 && (s->clients || s->wconns);
		     round++) {
			struct client *cl;
			struct wconn *wc;

			for (cl = s->clients; cl != NULL; cl = cl->next)
				hq_conn_abort(cl->conn, "server exiting");
			for (wc = s->wconns; wc != NULL; wc = wc->next)
				hq_conn_abort(wc->conn, "server exiting");
			ev_run(s->loop, EVRUN_NOWAIT);
		}
	}
	autoalloc_destroy(s);
	ev_prepare_stop(s->loop, &s->prepare_w);
	ev_timer_stop(s->loop, &s->tick_w);
	ev_timer_stop(s->loop, &s->commit_w);
	ev_timer_stop(s->loop, &s->stop_w);
	ev_signal_stop(s->loop, &s->sigint_w);
	ev_signal_stop(s->loop, &s->sigterm_w);
	if (s->journal != NULL)
		ev_io_stop(s->loop, &s->journal_w);
	hq_server_dir_unlink(s->server_dir, s->instance_dir);
	hq_listener_close(s->client_l);
	hq_listener_close(s->worker_l);
	rc = s->exit_code;
	goto out;
fail:
	hq_error("%s", eb.msg);
	rc = 1;
out:
	hq_journal_close(s->journal);
	hq_tls_destroy(s->client_tls);
	hq_tls_destroy(s->worker_tls);
	hq_state_destroy(s->st);
	hq_access_fini(&s->access);
	hq_buf_fini(&s->enc);
	hq_buf_fini(&s->frame);
	hq_plan_fini(&s->plan);
	free(s->run.u.run.tasks);
	free(s->run.u.run.variants);
	free(s->server_dir);
	free(s->instance_dir);
	free(s->hostname);
	free(path);
	return rc;
}
