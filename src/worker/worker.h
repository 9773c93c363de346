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
};

struct worker_opts {
	const char *server_dir;
	const char *cpus;	 /* NULL: detect */
	const char **resources;	 /* NAME=DEF */
	uint32_t nresources;
	const char *hostname;	 /* NULL: gethostname */
	const char *work_dir;	 /* NULL: /tmp/hq-worker<random>/work */
	const char *group;	 /* NULL: allocation id or "default" */
	const char *manager;	 /* detect | none | pbs | slurm */
	enum worker_lost_policy on_server_lost;
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
	char *out_path, *err_path; /* for rm-if-finished */
	bool rm_out, rm_err;
	int stdin_fd;
	ev_io stdin_w;
	uint32_t stdin_off;
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
	/* reports for the next flush */
	struct hq_taskrefs started, finished;
	uint32_t *started_variant;
	uint32_t sv_cap;
	uint64_t report_seq;
	struct hq_buf frame;
	uint64_t idle_since_us;
	uint64_t started_ms;
	ev_prepare prepare_w;
	ev_timer heartbeat_w;
	ev_timer tick_w;
	ev_signal sigint_w, sigterm_w, sigtstp_w;
	int exit_code;
	char **base_env; /* environ at start */
};

typedef void worker_print_fn(struct worker *w, json_t *info);
extern worker_print_fn *hq_worker_print_info;

int worker_main(const struct worker_opts *o);

/* ---- wmanager.c ------------------------------------------------------------
 */

/* Remaining walltime of the worker's allocation ("SLURM" or "PBS"), from
 * scontrol or qstat; 0 when unlimited or unknown (a warning is logged). */
uint64_t worker_manager_time_limit(const char *manager,
    const char *allocation_id);

/* ---- task.c ---------------------------------------------------------------- */

/* Try to start queued tasks that fit the free resources now. */
void worker_start_queued(struct worker *w);
/* Kill a running task (SIGINT to its group, SIGKILL after 1 s). */
void worker_task_kill(struct wtask *t);
void worker_task_free(struct wtask *t);
void worker_report_failed(struct worker *w, struct wtask *t, const char *msg);
void worker_report_started(struct worker *w, struct wtask *t);
void worker_report_finished(struct worker *w, struct wtask *t);
void worker_flush(struct worker *w);
void worker_check_idle(struct worker *w);

#endif
