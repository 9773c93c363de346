/* SPDX-License-Identifier: MIT */
/*
 * The data model shared by client, server, worker and journal: id sets,
 * resource requests and pools, task descriptions and submits. Plain C
 * structs; wire.c converts them to and from the protobuf encoding.
 * Every pointer field is owned by the struct; free with the _fini calls.
 */
#ifndef HQ_MODEL_H
#define HQ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- id sets (IntArray) ---------------------------------------------- */

/* ids start, start+step, ..., count of them (step >= 1). */
struct hq_idrange {
	uint32_t start;
	uint32_t count;
	uint32_t step;
};

struct hq_idset {
	struct hq_idrange *r;
	uint32_t n;
	uint32_t cap;
};

void hq_idset_fini(struct hq_idset *s);
void hq_idset_add_range(struct hq_idset *s, uint32_t start, uint32_t count,
    uint32_t step);
/* Append one id, extending the last range when it continues it. */
void hq_idset_add(struct hq_idset *s, uint32_t id);
uint64_t hq_idset_count(const struct hq_idset *s);
bool hq_idset_contains(const struct hq_idset *s, uint32_t id);
/* Deep copy into dst (dst is overwritten, not freed). */
void hq_idset_copy(struct hq_idset *dst, const struct hq_idset *src);

/* ---- resources ------------------------------------------------------- */

/* Amounts are fixed point in 1/10000 units: cpus=1 is 10000. */
#define HQ_AMOUNT_ONE 10000u

enum hq_policy {
	HQ_POLICY_COMPACT = 0,
	HQ_POLICY_FORCE_COMPACT, /* compact! */
	HQ_POLICY_TIGHT,
	HQ_POLICY_FORCE_TIGHT, /* tight! */
	HQ_POLICY_SCATTER,
	HQ_POLICY_ALL, /* "all": every index of the pool; amount is 0 */
};

struct hq_res_entry {
	char *name;
	uint64_t amount; /* 1/10000 units; 0 with HQ_POLICY_ALL */
	enum hq_policy policy;
};

struct hq_res_variant {
	uint32_t n_nodes;     /* > 0: multi-node task, entries empty */
	uint64_t min_time_ms; /* --time-request */
	uint32_t weight;      /* x10000, default 10000 */
	uint32_t n;
	struct hq_res_entry *e;
};

struct hq_res_request {
	uint32_t n; /* number of variants, >= 1 */
	struct hq_res_variant *v;
};

void hq_res_request_fini(struct hq_res_request *r);
void hq_res_request_copy(struct hq_res_request *dst,
    const struct hq_res_request *src);
/* The default request of a CLI submit: cpus = 1 compact. */
void hq_res_request_default(struct hq_res_request *r);

enum hq_pool_kind {
	HQ_POOL_RANGE = 0, /* indices start..end, labels are the numbers */
	HQ_POOL_LIST,	   /* one group of string labels */
	HQ_POOL_GROUPS,	   /* several groups of string labels */
	HQ_POOL_SUM,	   /* a plain amount */
};

/*
 * A worker's resource pool. Indexed pools keep every label in 'labels'
 * with groups as consecutive slices: group g is
 * labels[group_start[g] .. group_start[g+1]), group_start has
 * ngroups + 1 entries. A sum pool has only 'size'.
 */
struct hq_res_pool {
	char *name;
	enum hq_pool_kind kind;
	uint32_t nlabels;
	char **labels;
	uint32_t ngroups;
	uint32_t *group_start;
	uint64_t size; /* HQ_POOL_SUM, 1/10000 units */
};

struct hq_coupling_weight {
	uint32_t resource1, group1, resource2, group2, weight;
};

struct hq_worker_res {
	uint32_t n;
	struct hq_res_pool *pools; /* sorted by name */
	uint32_t ncoupling;
	struct hq_coupling_weight *coupling;
};

void hq_res_pool_fini(struct hq_res_pool *p);
void hq_worker_res_fini(struct hq_worker_res *r);
void hq_worker_res_copy(struct hq_worker_res *dst,
    const struct hq_worker_res *src);
/* Total amount of a pool in 1/10000 units (labels x 10000, or size). */
uint64_t hq_res_pool_total(const struct hq_res_pool *p);
/* The pool with that name, or NULL. */
const struct hq_res_pool *hq_worker_res_find(const struct hq_worker_res *r,
    const char *name);

/* What a worker reports about itself; the server keeps a copy. */
struct hq_worker_config {
	char *hostname;
	char *group;
	struct hq_worker_res res;
	uint64_t heartbeat_ms;
	uint64_t idle_timeout_ms; /* 0: none */
	uint64_t time_limit_ms;	  /* lifetime from started_ms; 0: none */
	uint64_t started_ms;
	char *work_dir;
	char *on_server_lost;	  /* stop | finish-running | reconnect */
	uint32_t min_utilization; /* x10000 */
	char *manager;		  /* "" | "PBS" | "SLURM" */
	char *allocation_id;
	uint32_t pid;
	char *listen_address;
	char *config_json; /* display form, spec 3.2 "configuration" */
};

void hq_worker_config_fini(struct hq_worker_config *c);
void hq_worker_config_copy(struct hq_worker_config *dst,
    const struct hq_worker_config *src);

/* ---- tasks ------------------------------------------------------------ */

enum hq_stdio_kind {
	HQ_STDIO_FILE = 0,
	HQ_STDIO_NONE,
	HQ_STDIO_STREAM,
};

struct hq_stdio {
	enum hq_stdio_kind kind;
	char *path; /* HQ_STDIO_FILE; may contain placeholders */
	bool rm_if_finished;
};

enum hq_pin {
	HQ_PIN_NONE = 0,
	HQ_PIN_TASKSET,
	HQ_PIN_OMP,
};

/* crash_limit: N >= 1, or one of these. */
#define HQ_CRASH_UNLIMITED     0
#define HQ_CRASH_NEVER_RESTART (-1)
#define HQ_CRASH_DEFAULT       5

struct hq_env {
	char *key;
	char *value;
};

struct hq_task_desc {
	char **argv;
	uint32_t argc;
	struct hq_env *env;
	uint32_t nenv;
	char *cwd; /* may contain placeholders */
	struct hq_stdio out, err;
	uint8_t *stdin_data;
	uint32_t stdin_len;
	struct hq_res_request req;
	int32_t priority;
	uint64_t time_limit_ms; /* 0: none */
	int32_t crash_limit;
	enum hq_pin pin;
	bool task_dir;
};

void hq_task_desc_fini(struct hq_task_desc *d);
void hq_task_desc_copy(struct hq_task_desc *dst,
    const struct hq_task_desc *src);

/* A task of a graph submit (job file [[task]]). */
struct hq_graph_task {
	uint32_t id;
	uint32_t desc; /* index into hq_submit.descs */
	uint32_t ndeps;
	uint32_t *deps;
};

/*
 * One submit into a job. An array submit has one desc, the task ids in
 * 'ids' (empty: the server assigns them) and optional entries zipped with
 * the ids. A graph submit has one desc per task (or shared) and 'tasks'.
 */
struct hq_submit {
	bool graph;
	uint32_t ndescs;
	struct hq_task_desc *descs;
	struct hq_idset ids;
	uint32_t nentries;
	char **entries;
	uint32_t ntasks;
	struct hq_graph_task *tasks;
	char *submit_dir;
	char *stream_dir; /* NULL: no stream */
};

void hq_submit_fini(struct hq_submit *s);

/* ---- states ------------------------------------------------------------ */

enum hq_task_state {
	HQ_TASK_WAITING = 0,
	HQ_TASK_RUNNING,
	HQ_TASK_FINISHED,
	HQ_TASK_FAILED,
	HQ_TASK_CANCELED,
	HQ_TASK_ABORTED,
};

enum hq_job_state {
	HQ_JOB_WAITING = 0,
	HQ_JOB_RUNNING,
	HQ_JOB_FINISHED,
	HQ_JOB_FAILED,
	HQ_JOB_CANCELED,
	HQ_JOB_ABORTED,
	HQ_JOB_OPENED,
};

enum hq_worker_lost_reason {
	HQ_LOST_NONE = 0,
	HQ_LOST_STOPPED,
	HQ_LOST_CONNECTION,
	HQ_LOST_HEARTBEAT,
	HQ_LOST_IDLE_TIMEOUT,
	HQ_LOST_TIME_LIMIT,
	/* The server restarted and the worker did not come back within the
	 * grace period: its tasks are requeued without a crash count. */
	HQ_LOST_SERVER_RESTART,
};

const char *hq_task_state_name(enum hq_task_state s); /* "waiting" */
const char *hq_job_state_name(enum hq_job_state s);   /* "WAITING" */
const char *hq_lost_reason_name(
    enum hq_worker_lost_reason r); /* "ConnectionLost" */
const char *hq_lost_reason_display(
    enum hq_worker_lost_reason r); /* "CONNECTION LOST" */

static inline bool
hq_task_state_done(enum hq_task_state s)
{
	return s >= HQ_TASK_FINISHED;
}

#endif
