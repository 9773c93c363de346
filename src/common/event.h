/* SPDX-License-Identifier: MIT */
/*
 * Journal events: every change of the server's scheduler state is one of
 * these. The server applies them (hq_state_apply), the journal stores them
 * (encoded by wire.c), recovery and hq-replay read them back.
 */
#ifndef HQ_EVENT_H
#define HQ_EVENT_H

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
};

/* Transitions carried by HQ_EV_TASK_RUN, for many tasks of one job. */
enum hq_run_kind {
	HQ_RUN_ASSIGNED = 0, /* waiting -> sent to worker, new instance */
	HQ_RUN_STARTED,      /* assigned -> running on worker */
	HQ_RUN_FINISHED,     /* assigned or running -> finished */
	HQ_RUN_REQUEUED,     /* assigned or running -> waiting, no crash */
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
	} u;
};

/* Free everything the event owns and zero it. */
void hq_event_fini(struct hq_event *ev);
/* Journal/NDJSON name of an event kind ("job-created", "task-finished"...). */
const char *hq_event_kind_name(const struct hq_event *ev);

#endif
