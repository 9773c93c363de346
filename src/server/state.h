/* SPDX-License-Identifier: MIT */
/*
 * The server's in-memory state: jobs, tasks, workers, ready queues and
 * resource accounting. It changes only through hq_state_apply(), which is
 * pure (no I/O, no clock: times come in the events) and deterministic, so
 * the live server, recovery and hq-replay all rebuild the same state from
 * the same events. Side effects the glue must carry out (tell a worker to
 * drop a task, wake waiting clients) are reported through hooks.
 */
#ifndef HQ_STATE_H
#define HQ_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/event.h"
#include "common/model.h"
#include "common/u32map.h"
#include "common/util.h"
#include "server/alloc_state.h"

/* Task flags. */
#define HQ_TF_READY	0x01 /* waiting in a ready queue */
#define HQ_TF_ASSIGNED	0x02 /* waiting, sent to a worker, not started */
#define HQ_TF_INSTANCED 0x04 /* 'instance' holds a started instance */
#define HQ_TF_VISIT	0x08 /* scratch mark while validating an event */

/* 40 bytes per task: the dominant term of the server's memory. */
struct hq_task {
	uint32_t id;
	uint32_t instance;
	uint32_t worker; /* assigned/running worker; last one when done */
	uint32_t desc;	 /* index into hq_job.descs */
	uint32_t wslot;	 /* index into the worker's in-flight list */
	uint8_t state;	 /* enum hq_task_state */
	uint8_t crashes;
	uint8_t flags;
	uint8_t variant; /* resource variant of the current instance */
	uint64_t start_ms;
	uint64_t end_ms;
};

/* A task description of a job and what the scheduler derives from it. */
struct hq_jdesc {
	const struct hq_task_desc *d; /* owned by the submit */
	uint32_t submit;
	uint32_t rq;	      /* interned resource request */
	struct hq_bucket *bq; /* its ready queue, found on first use */
};

struct hq_jsubmit {
	struct hq_submit s;
	uint32_t first_task; /* index of its first task in hq_job.tasks */
	uint32_t ntasks;
	uint64_t time_ms;
};

struct hq_task_error {
	uint32_t idx;
	char *msg;
};

/* Dependency bookkeeping, only for jobs with task graphs. */
struct hq_jdeps {
	uint32_t *waiting;  /* per task: unfinished dependencies */
	uint32_t *cons_off; /* per task: offset into cons (CSR), ntasks + 1 */
	uint32_t *cons;	    /* consumer task indices */
	uint32_t ncons, cap;
	uint32_t *ndeps; /* per task: number of dependencies */
	uint32_t nslots; /* tasks covered by the arrays */
};

/* The nodes of a multi-node task's current (or last) instance. */
struct hq_mnrec {
	uint32_t idx;
	uint32_t n;
	uint32_t *nodes; /* worker ids, root first */
};

struct hq_job {
	uint32_t id;
	char *name;
	bool is_open;
	bool has_max_fails;
	uint32_t max_fails;
	uint64_t submitted_ms;
	uint64_t completed_ms; /* 0 while active */
	char *cancel_reason;
	struct hq_jsubmit *submits;
	uint32_t nsubmits;
	struct hq_jdesc *descs;
	uint32_t ndescs;
	struct hq_task *tasks;
	uint32_t ntasks, tcap;
	bool dense;		/* tasks[i].id == tasks[0].id + i */
	struct hq_u32map idmap; /* id -> index when not dense */
	uint32_t counts[6];	/* per enum hq_task_state */
	struct hq_task_error *errors;
	uint32_t nerrors;
	struct hq_jdeps *deps;
	uint32_t max_id;     /* largest task id, for open-job auto ids */
	struct hq_mnrec *mn; /* multi-node tasks that were assigned */
	uint32_t nmn;
	struct hq_u32map mn_index; /* task index -> index into mn */
};

/* A ready queue entry: task indices [lo, hi) of one job. */
struct hq_rrange {
	uint32_t job;
	uint32_t lo, hi;
};

struct hq_bucket {
	int32_t priority;
	uint32_t rq;
	struct hq_rrange *q; /* ring buffer, cap a power of two */
	uint32_t head, len, cap;
	uint64_t nready;
};

/* The i-th range of a ready queue (0 = head). */
static inline const struct hq_rrange *
hq_bucket_range(const struct hq_bucket *b, uint32_t i)
{
	return &b->q[(b->head + i) & (b->cap - 1)];
}

/* An interned resource request with its resource names resolved. */
struct hq_rq {
	struct hq_res_request req;
	uint32_t **rid; /* rid[variant][entry] = resource id */
	char *key;
};

struct hq_inflight {
	uint32_t job;
	uint32_t idx;
};

struct hq_sworker {
	uint32_t id;
	struct hq_worker_config cfg;
	bool online;
	enum hq_worker_lost_reason lost_reason;
	uint64_t connected_ms, lost_ms;
	uint32_t nres;
	uint64_t *res_total; /* per resource id */
	uint64_t *res_used;  /* committed to in-flight tasks */
	struct hq_inflight *inflight;
	uint32_t ninflight, icap;
	uint32_t nrunning;
	uint32_t last_job, last_task;
	uint64_t last_task_ms;
	uint64_t end_ms;   /* end of lifetime (started + time limit), 0: none */
	uint32_t group_id; /* interned cfg.group: index into hq_state.groups */
	/*
	 * Multi-node tasks (spec 2.8): a worker reserved by one has
	 * mn_job != 0 and no other task in flight. The root (task->worker)
	 * also holds the task in its in-flight list and owns mn_nodes, the
	 * ids of every node of the task, root first.
	 */
	uint32_t mn_job, mn_idx;
	uint32_t *mn_nodes;
	uint32_t mn_nnodes;
	/* Not journaled: set by the glue. A draining worker (stopping, or
	 * finishing its running tasks) gets no new tasks. */
	bool draining;
	/* Not journaled: a reconnect-mode worker without a connection keeps
	 * its tasks until this time (ms), then it is lost with 'await_reason'.
	 */
	uint64_t reconnect_deadline_ms;
	enum hq_worker_lost_reason await_reason;
	/* Not journaled: the last plan kept this worker free of new tasks
	 * for a waiting multi-node task (runtime info "reserved"). */
	bool mn_held;
	/* Not journaled: how many layers of its capacity the scheduler may
	 * commit to this worker (prefill), set by the glue from the rate at
	 * which it finishes tasks; 0 = the plan's default. */
	uint32_t sched_layers;
};

struct hq_state_hooks {
	void *arg;
	/* A task assigned to or running on 'worker' was taken away. */
	void (*task_revoked)(void *arg, uint32_t worker, uint32_t job,
	    uint32_t task_id, uint32_t instance);
	/* Counters of 'job' changed. */
	void (*job_changed)(void *arg, const struct hq_job *job);
	/* A worker went offline (its tasks are already requeued). */
	void (*worker_lost)(void *arg, const struct hq_sworker *w);
};

struct hq_state {
	char *server_uid;
	uint64_t start_ms;
	uint32_t next_job_id;
	uint32_t next_worker_id;
	/* jobs[id] for 1 <= id < next_job_id; NULL when forgotten */
	struct hq_job **jobs;
	uint32_t jobs_cap;
	uint32_t njobs_live;
	struct hq_sworker **workers; /* workers[id], NULL if unknown */
	uint32_t workers_cap;
	/* resource names, ids are indices */
	char **resnames;
	uint32_t nresnames;
	/* worker group names (multi-node tasks), ids are indices */
	char **groups;
	uint32_t ngroups;
	struct hq_rq *rqs;
	uint32_t nrqs, rqcap;
	/* ready queues, sorted by priority (desc), then rq */
	struct hq_bucket **buckets;
	uint32_t nbuckets;
	struct hq_state_hooks hooks;
	uint64_t nevents;	      /* events applied */
	struct hq_alloc_state *alloc; /* automatic allocation queues */
};

/*
 * Job and worker ids stay below this (67M): the tables are indexed by id
 * (at the limit the job table alone holds 512 MiB of pointers), so an
 * event or a snapshot with a larger id is damage and is refused.
 */
#define HQ_STATE_MAX_ID (1u << 26)

struct hq_state *hq_state_create(void);
void hq_state_destroy(struct hq_state *st); /* NULL ok */
void hq_state_set_hooks(struct hq_state *st, const struct hq_state_hooks *h);

/*
 * Apply one journalled event. Used verbatim by the live path, recovery and
 * hq-replay: deterministic, no I/O, no clock. Returns 0, or HQ_ESTATE /
 * HQ_ENOTFOUND / HQ_EINVAL with a message in eb if the event does not fit
 * the current state; the state is then unchanged where possible. 'ev' is
 * borrowed (a JOB_SUBMITTED event's submit is copied).
 */
int hq_state_apply(struct hq_state *st, const struct hq_event *ev,
    struct hq_errbuf *eb);

/* Lookups; NULL when absent. */
struct hq_job *hq_state_job(const struct hq_state *st, uint32_t id);
struct hq_sworker *hq_state_worker(const struct hq_state *st, uint32_t id);
/* Index of task 'id' in job, or -1. */
int64_t hq_job_task_index(const struct hq_job *job, uint32_t id);
enum hq_job_state hq_job_state(const struct hq_job *job);
/* No waiting or running task. */
bool hq_job_tasks_done(const struct hq_job *job);
/* Terminated: tasks done and closed. */
bool hq_job_terminated(const struct hq_job *job);
/* The error message of a failed task, or NULL. */
const char *hq_job_task_error(const struct hq_job *job, uint32_t idx);
/* The submit a task index belongs to. */
const struct hq_jsubmit *hq_job_task_submit(const struct hq_job *job,
    uint32_t idx);
/* Entry (HQ_ENTRY) of a task, or NULL. */
const char *hq_job_task_entry(const struct hq_job *job, uint32_t idx);
/* Id of the newest job, 0 if none. */
uint32_t hq_state_last_job_id(const struct hq_state *st);
/* Is interned request rq a multi-node request (n_nodes > 0)? */
bool hq_state_rq_multinode(const struct hq_state *st, uint32_t rq);
/* Workers of the current or last instance of multi-node task idx (root
 * first; *n of them), or NULL if it never was assigned. */
const uint32_t *hq_job_task_nodes(const struct hq_job *job, uint32_t idx,
    uint32_t *n);
/* The multi-node task holding worker w (reserved), or false. */
bool hq_sworker_mn_task(const struct hq_state *st, const struct hq_sworker *w,
    struct hq_job **job, uint32_t *idx);
/* Resource id of a name, or -1. */
int32_t hq_state_resource_id(const struct hq_state *st, const char *name);
/* Total of a worker's resource (0 if it has none). */
uint64_t hq_sworker_total(const struct hq_sworker *w, uint32_t rid);
uint64_t hq_sworker_used(const struct hq_sworker *w, uint32_t rid);
/* The interning key of a resource request (NUL-terminated in b). */
struct hq_buf;
void hq_rq_key(struct hq_buf *b, const struct hq_res_request *r);
/* Dependencies of task idx (indices), for display. */
uint32_t hq_job_task_ndeps(const struct hq_job *job, uint32_t idx);
uint32_t hq_job_task_waiting_deps(const struct hq_job *job, uint32_t idx);

#endif
