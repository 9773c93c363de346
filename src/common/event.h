/* SPDX-License-Identifier: MIT */
/*
 * Journal events: every change of the server's scheduler state is one of
 * these. The server applies them (hq_state_apply), the journal stores them
 * (encoded by wire.c), recovery and hq-replay read them back.
 */
#ifndef HQ_EVENT_H
#define HQ_EVENT_H

#include "common/alloc_params.h"
#include "common/model.h"

enum hq_event_kind {
	HQ_EV_SERVER_STARTED = 1,
	HQ_EV_SERVER_STOPPED,
	HQ_EV_JOB_SUBMITTED,
	HQ_EV_JOB_OPENED,
	HQ_EV_JOBS_CLOSED,
	HQ_EV_JOBS_CANCELED,
	HQ_EV_JOBS_FORGOTTEN,
	HQ_EV_TASK_RUN,
	HQ_EV_TASK_FAILED,
	HQ_EV_WORKER_CONNECTED,
	HQ_EV_WORKER_LOST,
	HQ_EV_ALLOC, /* automatic allocation: see enum hq_alloc_ev_kind */
};

/* Transitions carried by HQ_EV_TASK_RUN, for many tasks of one job. */
enum hq_run_kind {
	HQ_RUN_ASSIGNED = 0, /* waiting -> sent to worker, new instance */
	HQ_RUN_STARTED,	     /* assigned -> running on worker */
	HQ_RUN_FINISHED,     /* assigned or running -> finished */
	HQ_RUN_REQUEUED,     /* assigned or running -> waiting, no crash */
};

/* What an HQ_EV_ALLOC event records (proto AllocEvent.Kind). */
enum hq_alloc_ev_kind {
	HQ_AEV_QUEUE_CREATED = 0, /* queue_id, params */
	HQ_AEV_QUEUE_REMOVED,	  /* queue_id */
	HQ_AEV_QUEUE_PAUSED,	  /* queue_id, message (reason, may be NULL) */
	HQ_AEV_QUEUE_RESUMED,	  /* queue_id */
	HQ_AEV_SUBMITTED,     /* queue_id, allocation_id, workers, workdir */
	HQ_AEV_SUBMIT_FAILED, /* queue_id, message */
	HQ_AEV_STARTED,	      /* queue_id, allocation_id */
	HQ_AEV_FINISHED,      /* queue_id, allocation_id, end */
};

/* How an allocation ended. */
enum hq_alloc_end {
	HQ_ALLOC_END_FINISHED = 0,
	HQ_ALLOC_END_FAILED,
	HQ_ALLOC_END_CANCELED, /* by the server; not a failure of the queue */
};

struct hq_event {
	enum hq_event_kind kind;
	uint64_t time_ms;
	union {
		struct {
			char *server_uid;
			uint32_t pid;
			char *host;
		} started;
		struct {
			uint32_t job_id;
			bool new_job;
			char *name;
			bool has_max_fails;
			uint32_t max_fails;
			struct hq_submit submit;
		} submitted;
		struct {
			uint32_t job_id;
			char *name;
			bool has_max_fails;
			uint32_t max_fails;
		} opened;
		/* closed, canceled, forgotten */
		struct {
			uint32_t n;
			uint32_t *ids;
			char *reason; /* canceled only; may be NULL */
		} jobs;
		struct {
			enum hq_run_kind kind;
			uint32_t job;
			uint32_t worker;
			uint32_t n;
			uint32_t cap;
			uint32_t *tasks; /* job task ids */
			/* ASSIGNED: variant per task (cap entries); NULL
			 * means every task uses variant 0. */
			uint32_t *variants;
			/* ASSIGNED of one multi-node task (n == 1): the
			 * workers it reserves, root (== worker) first. */
			uint32_t nnodes;
			uint32_t *nodes;
		} run;
		struct {
			uint32_t job;
			uint32_t task;
			char *error;
		} failed;
		struct {
			uint32_t worker_id;
			struct hq_worker_config cfg;
		} wconn;
		struct {
			uint32_t worker_id;
			enum hq_worker_lost_reason reason;
		} wlost;
		struct {
			enum hq_alloc_ev_kind kind;
			uint32_t queue_id;
			struct hq_alloc_params params; /* QUEUE_CREATED */
			char *allocation_id;
			uint32_t worker_count;
			char *workdir;
			char *message;
			enum hq_alloc_end end;
		} alloc;
	} u;
};

/* Free everything the event owns and zero it. */
void hq_event_fini(struct hq_event *ev);
/* Journal/NDJSON name of an event kind ("job-created", "task-finished"...). */
const char *hq_event_kind_name(const struct hq_event *ev);
/* Name of an automatic allocation event ("autoalloc-queue-created"...). */
const char *hq_alloc_ev_kind_name(enum hq_alloc_ev_kind kind);

#endif
