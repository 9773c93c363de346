/* SPDX-License-Identifier: MIT */
/*
 * The server process (glue around the pure state and scheduler): event
 * loop, listeners, client and worker connections, the journal pipeline.
 * Internal to src/server/.
 */
#ifndef HQ_SERVER_H
#define HQ_SERVER_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/access.h"
#include "common/buf.h"
#include "common/conn.h"
#include "common/event.h"
#include "common/tls.h"
#include "common/u32map.h"
#include "common/wire.h"
#include "journal/journal.h"
#include "server/sched.h"
#include "server/state.h"

/* The deepest prefill a worker gets (layers of its capacity). */
#define PREFILL_MAX_LAYERS 32

struct server_opts {
	const char *server_dir;
	const char *host;	  /* NULL: hostname */
	int client_port;	  /* -1: random (or from the journal) */
	int worker_port;	  /* -1: random (or from the journal) */
	const char *journal_path; /* NULL: no journal */
	uint64_t idle_timeout_ms;
	const char *access_file;
	bool disable_client_auth;
	bool disable_worker_auth;
	bool journal_recover;
	uint64_t journal_map_size;
	uint64_t journal_retention_ms; /* 0: keep all history */
	uint64_t reconnect_grace_ms;   /* how long lost workers may come back */
};

struct client;
struct wconn;
struct autoalloc;

/* A client waiting for jobs to finish (wait, --progress). */
struct waiter {
	struct waiter *next;
	struct client *cl;
	uint32_t *jobs;
	uint32_t njobs;
	bool without_close;
	bool progress;
	bool dirty;
	uint64_t last_sent_us; /* progress updates go out at most 10 a second */
	bool notify;	       /* wants the task notifications of its jobs */
};

struct client {
	struct client *next, *prev;
	struct server *s;
	struct hq_conn *conn;
	bool hello_done;
	struct waiter *waiter;
	uint64_t id;
	/* journal stream/replay: history [hist_next, ...], then live */
	bool streaming;
	bool stream_live; /* asked for live events after the history */
	bool in_live;	  /* history sent, receiving live events */
	uint64_t hist_next;
};

struct wconn {
	struct wconn *next, *prev;
	struct server *s;
	struct hq_conn *conn;
	uint32_t worker_id; /* 0 until registered */
	uint64_t last_seen_us;
	uint64_t heartbeat_ms;
	struct hq_u32map sent_specs; /* (job << 32 | desc) -> 1 */
	struct hq_taskrefs cancel;   /* to send at the next flush */
	bool stopping;
	/* finish rate, for the prefill depth */
	uint64_t rate_since_us;
	uint32_t rate_count;
};

struct server {
	struct ev_loop *loop;
	struct server_opts opts;
	struct hq_state *st;
	struct hq_journal *journal;
	char *server_dir;
	char *instance_dir;
	struct hq_access access;
	char *hostname;
	uint64_t start_ms;
	struct hq_tls *client_tls, *worker_tls;
	struct hq_listener *client_l, *worker_l;
	struct client *clients;
	struct wconn *wconns;
	struct waiter *waiters;
	uint64_t next_client_id;
	uint32_t nlive; /* clients receiving live events */

	/* The mutation path. */
	struct hq_event run; /* open TASK_RUN being coalesced */
	bool run_open;
	struct hq_buf enc;    /* encoding scratch */
	struct hq_buf frame;  /* outgoing frame scratch */
	uint64_t last_seq;    /* last event appended */
	uint64_t durable_seq; /* last event known durable */
	uint64_t mem_seq;     /* event counter without a journal */
	bool journal_failed;
	bool recovered;		   /* --journal-recover truncated the journal */
	uint64_t bytes_since_ckpt; /* journal bytes since the last checkpoint */
	size_t last_snap_len;
	uint64_t last_ckpt_seq;
	struct hq_plan plan;
	struct hq_sched_opts sched;
	bool need_schedule;

	ev_prepare prepare_w;
	ev_io journal_w;
	ev_timer commit_w; /* the end of a commit window */
	uint64_t last_flush_us;
	ev_timer tick_w;
	ev_signal sigint_w, sigterm_w;
	uint64_t idle_since_us;
	bool stopping;
	bool stop_sent;
	uint64_t stop_seq;
	ev_timer stop_w;
	int exit_code;
	struct autoalloc *aa; /* automatic allocation (autoalloc.h) */
};

/* ---- server.c ---------------------------------------------------------- */

/*
 * Apply an event and append it to the journal batch (the one mutation
 * path). Ownership of the event's contents stays with the caller. If the
 * state rejects the event, nothing is journalled and the error is returned
 * with its message in eb; with eb NULL the caller asserts validity and a
 * rejection is logged as an internal error.
 */
int server_emit(struct server *s, const struct hq_event *ev,
    struct hq_errbuf *eb);
/* One task transition, coalesced into runs of (kind, job, worker). */
void server_emit_run(struct server *s, enum hq_run_kind kind, uint32_t job,
    uint32_t worker, uint32_t task_id, uint32_t variant);
/* Commit everything now (synchronously) and release what it covers. */
int server_sync_commit(struct server *s, struct hq_errbuf *eb);
/* Write a checkpoint of the state into the next commit. */
void server_checkpoint(struct server *s);
/* Checkpoint, commit, and drop the history before the checkpoint. */
int server_prune(struct server *s, uint64_t *dropped, struct hq_errbuf *eb);
/* The ASSIGNED event of one multi-node task: its own run, naming every
 * node (root first). */
void server_emit_multinode(struct server *s, uint32_t job, uint32_t task_id,
    const uint32_t *nodes, uint32_t nnodes);
/* Mark the workers the last plan held for multi-node tasks (not
 * journaled: worker info only). */
void server_mark_held(struct server *s);
/* Close the open run; returns the seq replies must be tagged with. */
uint64_t server_seq(struct server *s);
/* Encode a message and queue it on a connection, tagged with the seq. */
void server_send_smsg(struct server *s, struct hq_conn *c,
    const struct hq_smsg *m);
void server_send_vmsg(struct server *s, struct hq_conn *c,
    const struct hq_vmsg *m);
void server_send_error(struct server *s, struct hq_conn *c, const char *fmt,
    ...) HQ_PRINTF(3, 4);
void server_request_stop(struct server *s);
/* Called when a connection goes away: ends the loop once a stop is done. */
void server_conn_gone(struct server *s);
int server_main(const struct server_opts *o);
/* Set by the CLI: prints the server info once the server listens. */
extern void (*hq_server_print_info)(struct server *s, json_t *info);

/* ---- clients.c --------------------------------------------------------- */

void clients_accept(int fd, void *arg);
/*
 * The checks a submit passes before it becomes an event (tasks,
 * requests, ids, dependencies, cycles). 'job' is the open job it goes
 * into, or NULL for a new job. Returns 0 or HQ_EINVAL / HQ_ETOOBIG with
 * the message the client gets. Pure: also used by the fuzz targets.
 */
int clients_validate_submit(const struct hq_submit *sub,
    const struct hq_job *job, struct hq_errbuf *eb);
/* Phase 1 of path resolution (spec 2.3) of a validated submit: cwd and
 * stdio paths of array submits, and the stream dir. */
void clients_resolve_submit(struct hq_submit *sub, uint32_t job_id,
    const char *server_uid);
void clients_job_changed(struct server *s, const struct hq_job *job);
void clients_flush_waiters(struct server *s);
void clients_close_all(struct server *s);
/* Send a task notification to the waiters of its job that asked for them
 * (spec 2.14; live only, nothing is journalled). 'msg' is borrowed. */
void clients_notify(struct server *s, uint32_t job, uint32_t task,
    uint32_t worker, const uint8_t *msg, size_t len);

/* ---- jstream.c (journal stream / replay) -------------------------------- */

void jstream_start(struct server *s, struct client *cl, bool live);
/* Send the next piece of history to streaming clients (each iteration). */
void jstream_pump(struct server *s);
/* A journalled event: forward it to live streams. */
void jstream_event(struct server *s, const struct hq_event *ev, uint64_t seq);

/* ---- debugdump.c (`server debug-dump`) --------------------------------- */

/* Reply to cl with the live scheduler state as JSON {"tako": {...}}. */
void debugdump_request(struct server *s, struct client *cl);

/* ---- workers.c --------------------------------------------------------- */

void workers_accept(int fd, void *arg);
void workers_dispatch(struct server *s);
void workers_task_revoked(struct server *s, uint32_t worker, uint32_t job,
    uint32_t task_id, uint32_t instance);
void workers_check_heartbeats(struct server *s);
void workers_stop(struct server *s, uint32_t worker_id);
/* A worker without a connection: lost now, or (reconnect mode) kept until
 * the grace period ends. */
void workers_disconnected(struct server *s, uint32_t worker_id,
    enum hq_worker_lost_reason reason);
/* Expire workers whose grace period ended. */
void workers_check_reconnects(struct server *s);
void workers_close_all(struct server *s);
struct wconn *workers_find(struct server *s, uint32_t worker_id);

/* ---- query.c (JSON replies in the shapes of spec 3.2) ------------------ */

json_t *query_server_info(struct server *s);
json_t *query_job_list(struct server *s);
json_t *query_job_info(struct server *s, const struct hq_cmsg *m);
json_t *query_task_list(struct server *s, const struct hq_cmsg *m, char **err);
json_t *query_task_info(struct server *s, const struct hq_cmsg *m, char **err);
json_t *query_worker_list(struct server *s, bool all);
json_t *query_worker_info(struct server *s, const struct hq_cmsg *m);
json_t *query_job_summary(struct server *s);
json_t *query_task_ids(struct server *s, const struct hq_cmsg *m);
json_t *query_job_outputs(struct server *s, const struct hq_cmsg *m,
    char **err);
json_t *query_task_json(struct server *s, const struct hq_job *job,
    uint32_t idx, bool detail);
/* explain.c: `task explain` (m->sel: the job, m->tasks: the task). */
json_t *query_task_explain(struct server *s, const struct hq_cmsg *m,
    char **err);
/* Resolve the job ids of a selector (last/all/ids) that exist. */
uint32_t *query_select_jobs(struct server *s, const struct hq_selector *sel,
    uint32_t *n, uint32_t **missing, uint32_t *nmissing);

#endif
