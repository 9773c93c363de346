/* SPDX-License-Identifier: MIT */
/*
 * The model behind `hq dashboard`: the server's events (spec 3.4 NDJSON
 * lines, as `hq journal stream` prints them) folded into workers, jobs,
 * allocation queues and a ring of recent events. Pure: no I/O, no clock.
 */
#ifndef HQ_DASHMODEL_H
#define HQ_DASHMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/model.h"
#include "common/u32map.h"
#include "common/util.h"

/* Counts per enum hq_task_state (waiting ... aborted). */
#define HQ_DASH_NSTATES 6

struct hq_dash_worker {
	uint32_t id;
	char *hostname;	  /* never NULL ("" when unknown) */
	char *group;	  /* never NULL */
	char *resources;  /* "cpus 4; gpus 2; mem 1024", never NULL */
	char *manager;	  /* "SLURM", "PBS" or NULL */
	char *allocation; /* allocation id of its manager, or NULL */
	bool online;
	char *lost_reason;  /* "ConnectionLost"...; NULL while online */
	uint32_t nrunning;  /* tasks running on it (every node of a
			       multi-node task counts it) */
	uint32_t nassigned; /* sent to it, not yet started */
};

/* Where a task the model has seen stands, and the nodes of a multi-node
 * task in flight (not visible outside). */
struct hq_dash_task;
struct hq_dash_mn;

struct hq_dash_job {
	uint32_t id;
	char *name; /* never NULL */
	bool open;
	bool has_max_fails;
	uint32_t max_fails;
	int32_t crash_limit; /* HQ_CRASH_* or N, of its first submit */
	uint32_t ntasks;
	/* Per enum hq_task_state; tasks sent to a worker but not started
	 * count as waiting, as in `hq job list`. */
	uint32_t counts[HQ_DASH_NSTATES];
	char *cancel_reason; /* NULL: none given */
	uint32_t nassigned;  /* of counts[HQ_TASK_WAITING] */
	/* Private: the tasks events named (task id -> index into tasks),
	 * and the states of the others, by count. */
	struct hq_u32map index;
	struct hq_dash_task *tasks;
	uint32_t ntracked, tcap;
	uint32_t ucounts[HQ_DASH_NSTATES];
};

enum hq_dash_alloc_state {
	HQ_DASH_ALLOC_QUEUED = 0,
	HQ_DASH_ALLOC_RUNNING,
	HQ_DASH_ALLOC_FINISHED,
	HQ_DASH_ALLOC_FAILED,
};

struct hq_dash_queue {
	uint32_t id;
	char *manager; /* "Slurm", "PBS" ("" when unknown) */
	char *name;    /* NULL: none */
	bool paused;
	char *message; /* why it paused, or the last failed submission */
	uint32_t backlog;
	uint32_t max_workers_per_alloc;
	uint32_t max_worker_count; /* 0: no limit */
	uint64_t time_limit_ms;
};

struct hq_dash_aworker {
	uint32_t id;
	bool online;
};

struct hq_dash_alloc {
	char *id;
	uint32_t queue_id;
	uint32_t target; /* workers asked for */
	enum hq_dash_alloc_state state;
	/* Private: workers that connected from it, how many of them are
	 * still online and how many have gone. */
	struct hq_dash_aworker *workers;
	uint32_t nworkers, wcap, nonline, ngone;
};

struct hq_dashmodel {
	char *server_uid;    /* NULL until known */
	char *server_host;   /* NULL until known */
	bool server_stopped; /* a server-stop after the last server-start */
	bool seeded;	     /* started from queries (no history) */
	uint64_t nevents;    /* lines folded */
	uint64_t first_seq;  /* of the first line, 0: none yet */
	uint64_t last_seq;
	/* Sorted by id. */
	struct hq_dash_worker *workers;
	uint32_t nworkers, wcap;
	struct hq_dash_job *jobs;
	uint32_t njobs, jcap;
	struct hq_dash_queue *queues;
	uint32_t nqueues, qcap;
	/* In the order they were queued; the oldest ended ones are dropped
	 * beyond HQ_DASH_MAX_ALLOCS. */
	struct hq_dash_alloc *allocs;
	uint32_t nallocs, acap;
	/* Private: multi-node tasks in flight, ring of recent events. */
	struct hq_dash_mn *mn;
	uint32_t nmn, mncap;
	char **ring;
	uint32_t ring_cap, ring_n, ring_head;
};

#define HQ_DASH_MAX_ALLOCS 1000

/* An empty model keeping the last 'ring_cap' (>= 1) events as text.
 * Free with hq_dashmodel_destroy(). */
struct hq_dashmodel *hq_dashmodel_create(uint32_t ring_cap);
/* NULL ok. */
void hq_dashmodel_destroy(struct hq_dashmodel *m);

/*
 * Fold one event line {"seq": N, "time": "...", "event": {"type": ...}}
 * (borrowed). Events of unknown types only enter the ring; events naming
 * jobs, tasks or workers the model does not know (pruned history) are
 * folded as far as they can be. Returns 0, or HQ_EINVAL with 'eb' naming
 * the problem when the line is not such an object or a field of a known
 * event has the wrong type (the model is then unchanged).
 */
int hq_dashmodel_feed_json(struct hq_dashmodel *m, json_t *line,
    struct hq_errbuf *eb);

/*
 * Fold NDJSON text (several lines, as the server sends them; empty lines
 * are skipped, the last may lack its '\n'). Every good line is folded;
 * returns 0, or the code of the first bad line with 'eb' naming it (its
 * number within 'text' and its beginning) and *nbad (may be NULL) set to
 * the number of bad lines.
 */
int hq_dashmodel_feed_text(struct hq_dashmodel *m, const char *text, size_t len,
    uint32_t *nbad, struct hq_errbuf *eb);

/* Set what the events do not say (NULL leaves a field as it is). */
void hq_dashmodel_set_server(struct hq_dashmodel *m, const char *uid,
    const char *host);

/*
 * Start from the answers of queries, for a server that has no history to
 * replay: 'workers' is the JSON of `hq worker list` (objects with "id"
 * and "configuration"), 'jobs' that of `hq job list` (objects with "id",
 * "name", "task_count", "is_open", "task_stats"). Either may be NULL.
 * Tasks running at that point are counted in their jobs, not on their
 * workers. Returns 0 or HQ_EINVAL with 'eb' for a malformed entry (those
 * before it stay).
 */
int hq_dashmodel_seed(struct hq_dashmodel *m, json_t *workers, json_t *jobs,
    struct hq_errbuf *eb);

/* Lookups; NULL when absent. Valid until the next feed or seed. */
const struct hq_dash_worker *hq_dashmodel_worker(const struct hq_dashmodel *m,
    uint32_t id);
const struct hq_dash_job *hq_dashmodel_job(const struct hq_dashmodel *m,
    uint32_t id);
const struct hq_dash_queue *hq_dashmodel_queue(const struct hq_dashmodel *m,
    uint32_t id);
const struct hq_dash_alloc *hq_dashmodel_alloc(const struct hq_dashmodel *m,
    const char *id);

/* The state of a job, derived as the server does. */
enum hq_job_state hq_dash_job_state(const struct hq_dash_job *j);
/* "QUEUED", "RUNNING", "FINISHED", "FAILED". */
const char *hq_dash_alloc_state_name(enum hq_dash_alloc_state s);

/* Recent event i, 0 being the newest, as "HH:MM:SS text" (UTC); NULL
 * past the last one kept. Valid until the next feed. */
const char *hq_dashmodel_recent(const struct hq_dashmodel *m, uint32_t i);

/* Totals over the model. */
struct hq_dash_totals {
	uint32_t workers, workers_online;
	uint32_t jobs;
	uint64_t tasks;
	uint64_t counts[HQ_DASH_NSTATES];
	uint32_t queues, allocs_queued, allocs_running;
};
void hq_dashmodel_totals(const struct hq_dashmodel *m,
    struct hq_dash_totals *t);

#endif
