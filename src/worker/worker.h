/* SPDX-License-Identifier: MIT */
/*
 * The worker process: connects to the server, receives task descriptions
 * and assignments, runs tasks (posix_spawn) on its resources, and reports
 * starts, results and failures in batches once per loop iteration.
 * Internal to src/worker/.
 */
#ifndef HQ_WORKER_H
#define HQ_WORKER_H

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/access.h"
#include "common/conn.h"
#include "common/model.h"
#include "common/resalloc.h"
#include "common/tls.h"
#include "common/u32map.h"
#include "common/wire.h"

enum worker_lost_policy {
	WORKER_ON_LOST_STOP = 0,
	WORKER_ON_LOST_FINISH,
	/* Keep tasks running and results held; reconnect to the server (or
	 * its restarted successor) and re-register as the same worker. */
	WORKER_ON_LOST_RECONNECT,
};

struct worker_opts {
	const char *server_dir;
	const char *cpus;	/* NULL: detect */
	const char **resources; /* NAME=DEF */
	uint32_t nresources;
	const char *hostname; /* NULL: gethostname */
	const char *work_dir; /* NULL: /tmp/hq-worker<random>/work */
	const char *group;    /* NULL: allocation id or "default" */
	const char *manager;  /* detect | none | pbs | slurm */
	enum worker_lost_policy on_server_lost;
	uint64_t reconnect_timeout_ms;
	uint64_t heartbeat_ms;
	uint64_t idle_timeout_ms;
	uint64_t time_limit_ms;
	bool no_hyper_threading;
	const char *detect; /* all | none | list */
	const char *coupling;
	uint32_t min_utilization; /* x10000 */
	/* Benchmark mode: tasks complete at once without a process; the
	 * whole server, wire and journal path still runs. */
	bool bench;
};

/* Longest `hq task notify` message, in bytes (spec 2.14). */
#define HQ_NOTIFY_MAX 1024u
/* Hex characters of a task's notification token. */
#define WORKER_TOKEN_LEN 32

/* A task description received from the server. */
struct wspec {
	struct hq_task_desc d;
	char *submit_dir;
	char *stream_dir;
};

struct wtask {
	struct wtask *next, *prev; /* queue or running list */
	struct worker *w;
	uint32_t job, task, instance, desc;
	int32_t priority;
	char *entry;
	struct wspec *spec;
	pid_t pid;
	ev_child child_w;
	ev_timer limit_w;
	ev_timer kill_w;
	bool running;
	bool canceled;
	bool timed_out;
	bool killing;
	uint32_t variant;
	struct hq_ralloc_result alloc;
	uint64_t started_ms;
	char *task_dir;
	/* multi-node task (run on its root): hostnames of the nodes */
	char **mn_hosts;
	uint32_t mn_nhosts;
	char *out_path, *err_path; /* for rm-if-finished */
	bool rm_out, rm_err;
	int stdin_fd;
	ev_io stdin_w;
	uint32_t stdin_off;
	struct wstream *stream; /* stream.c; NULL unless streaming */
	char notify_token[WORKER_TOKEN_LEN + 1]; /* notify.c; "" if none */
};

/* A result reported but not yet confirmed durable by the server. */
struct held_result {
	uint32_t job, task, instance;
	bool failed;
	char *error;
	uint64_t report_seq;
};

struct worker {
	struct ev_loop *loop;
	struct worker_opts opts;
	struct hq_access access;
	struct hq_tls *tls;
	struct hq_conn *conn;
	bool registered;
	bool lost_server;
	bool stopping;
	uint32_t worker_id;
	char *server_uid;
	char *hostname;
	char *work_dir;
	char *self_exe;
	struct hq_worker_config cfg;
	struct hq_ralloc *ralloc;
	/* (job << 32 | desc) -> index into specs */
	struct hq_u32map spec_index;
	struct wspec **specs;
	uint32_t nspecs, spec_cap;
	/* task queue (priority order) and running tasks */
	struct wtask *queue_head, *queue_tail;
	struct wtask *running;
	uint32_t nqueued, nrunning;
	/* secondary node of multi-node tasks: reservations until cancel */
	struct hq_taskrefs reserved;
	/* reports for the next flush */
	struct hq_taskrefs started, finished;
	uint32_t *started_variant;
	uint32_t sv_cap;
	uint64_t report_seq;
	struct held_result *held;
	uint32_t nheld, held_cap;
	/* reconnection */
	ev_timer reconnect_w;
	uint64_t lost_at_us;
	double backoff_s;
	bool reconnecting;
	struct hq_buf frame;
	uint64_t idle_since_us;
	uint64_t started_ms;
	ev_prepare prepare_w;
	ev_timer heartbeat_w;
	ev_timer tick_w;
	ev_signal sigint_w, sigterm_w, sigtstp_w;
	int exit_code;
	char **base_env;	  /* environ at start */
	int devnull_r, devnull_w; /* shared by every task, -1 until needed */
	struct wstream_file *stream_files; /* stream.c */
	struct wnotify *notify;		   /* notify.c; NULL: no socket */
};

typedef void worker_print_fn(struct worker *w, json_t *info);
extern worker_print_fn *hq_worker_print_info;

int worker_main(const struct worker_opts *o);

/* ---- wmanager.c ---------------------------------------------------------- */

/* Remaining walltime of the worker's allocation ("SLURM" or "PBS"), from
 * scontrol or qstat; 0 when unlimited or unknown (a warning is logged). */
uint64_t worker_manager_time_limit(const char *manager,
    const char *allocation_id);

/* ---- task.c -------------------------------------------------------------- */

/* Try to start queued tasks that fit the free resources now. */
void worker_start_queued(struct worker *w);
/* Kill a running task (SIGINT to its group, SIGKILL after 1 s). */
void worker_task_kill(struct wtask *t);
void worker_task_free(struct wtask *t);
void worker_report_failed(struct worker *w, struct wtask *t, const char *msg);
void worker_report_started(struct worker *w, struct wtask *t);
void worker_report_finished(struct worker *w, struct wtask *t);
/* Forward a task's notification message to the server (not persisted). */
void worker_report_notify(struct worker *w, struct wtask *t, const uint8_t *msg,
    size_t len);
void worker_flush(struct worker *w);
void worker_check_idle(struct worker *w);
/* mkdir -p; 0 or -errno. */
int worker_mkdir_p(const char *path);

/* ---- stream.c (output streaming, spec 2.12) ---------------------------- */

/*
 * Start streaming the task's HQ_STDIO_STREAM channels: open (or reuse) this
 * worker's .hqs file in the task's stream dir and make a pipe per channel,
 * read by the loop. The write ends go to fds[1] (stdout) and fds[2]
 * (stderr), owned by the caller. Returns 0, or -1 with *err a
 * "Streaming: ..." message (caller frees); t->stream must then still be
 * released with worker_stream_drop() (worker_task_free() does it).
 */
int worker_stream_start(struct worker *w, struct wtask *t, int fds[3],
    char **err);
/*
 * The task's process has exited: read what is left in its pipes, write
 * the end of its stream, release the streaming state. Returns NULL, or the
 * "Streaming: ..." error that fails the task (caller frees).
 */
char *worker_stream_finish(struct wtask *t);
/* Cancel, time limit, failed start: drop unread output, no end marker.
 * NULL-safe (no stream: nothing to do). */
void worker_stream_drop(struct wtask *t);
/* At exit: close every stream file. */
void worker_stream_close_all(struct worker *w);

/* ---- notify.c (task notifications, spec 2.14) -------------------------- */

/* Listen on <work dir>/notify.sock (mode 0600). 0, or -errno with eb. */
int worker_notify_open(struct worker *w, struct hq_errbuf *eb);
/*
 * Give the task a new random token and return its HQ_ACCESS_KEY value
 * "<socket path>:<token>" (caller frees), or NULL without a socket.
 */
char *worker_notify_key(struct worker *w, struct wtask *t);
/* Close the socket and its connections, remove the socket file. */
void worker_notify_close(struct worker *w);

#endif
