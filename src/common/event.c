/* SPDX-License-Identifier: MIT */
/* Journal event helpers. */
#include "common/event.h"

#include <stdlib.h>
#include <string.h>

void
hq_event_fini(struct hq_event *ev)
{
	switch (ev->kind) {
	case HQ_EV_SERVER_STARTED:
		free(ev->u.started.server_uid);
		free(ev->u.started.host);
		break;
	case HQ_EV_JOB_SUBMITTED:
		free(ev->u.submitted.name);
		hq_submit_fini(&ev->u.submitted.submit);
		break;
	case HQ_EV_JOB_OPENED:
		free(ev->u.opened.name);
		break;
	case HQ_EV_JOBS_CLOSED:
	case HQ_EV_JOBS_CANCELED:
	case HQ_EV_JOBS_FORGOTTEN:
		free(ev->u.jobs.ids);
		free(ev->u.jobs.reason);
		break;
	case HQ_EV_TASK_RUN:
		free(ev->u.run.tasks);
		free(ev->u.run.variants);
		free(ev->u.run.nodes);
		break;
	case HQ_EV_TASK_FAILED:
		free(ev->u.failed.error);
		break;
	case HQ_EV_WORKER_CONNECTED:
		hq_worker_config_fini(&ev->u.wconn.cfg);
		break;
	case HQ_EV_ALLOC:
		hq_alloc_params_fini(&ev->u.alloc.params);
		free(ev->u.alloc.allocation_id);
		free(ev->u.alloc.workdir);
		free(ev->u.alloc.message);
		break;
	case HQ_EV_SERVER_STOPPED:
	case HQ_EV_WORKER_LOST:
		break;
	}
	memset(ev, 0, sizeof *ev);
}

const char *
hq_event_kind_name(const struct hq_event *ev)
{
	switch (ev->kind) {
	case HQ_EV_SERVER_STARTED:
		return "server-start";
	case HQ_EV_SERVER_STOPPED:
		return "server-stop";
	case HQ_EV_JOB_SUBMITTED:
		return "job-created";
	case HQ_EV_JOB_OPENED:
		return "job-open";
	case HQ_EV_JOBS_CLOSED:
		return "job-close";
	case HQ_EV_JOBS_CANCELED:
		return "job-cancel";
	case HQ_EV_JOBS_FORGOTTEN:
		return "job-forget";
	case HQ_EV_TASK_RUN:
		switch (ev->u.run.kind) {
		case HQ_RUN_ASSIGNED:
			return "task-assigned";
		case HQ_RUN_STARTED:
			return "task-started";
		case HQ_RUN_FINISHED:
			return "task-finished";
		case HQ_RUN_REQUEUED:
			return "task-requeued";
		}
		return "task-run";
	case HQ_EV_TASK_FAILED:
		return "task-failed";
	case HQ_EV_WORKER_CONNECTED:
		return "worker-connected";
	case HQ_EV_WORKER_LOST:
		return "worker-lost";
	case HQ_EV_ALLOC:
		return hq_alloc_ev_kind_name(ev->u.alloc.kind);
	}
	return "unknown";
}

const char *
hq_alloc_ev_kind_name(enum hq_alloc_ev_kind kind)
{
	switch (kind) {
	case HQ_AEV_QUEUE_CREATED:
		return "autoalloc-queue-created";
	case HQ_AEV_QUEUE_REMOVED:
		return "autoalloc-queue-removed";
	case HQ_AEV_QUEUE_PAUSED:
		return "autoalloc-queue-paused";
	case HQ_AEV_QUEUE_RESUMED:
		return "autoalloc-queue-resumed";
	case HQ_AEV_SUBMITTED:
		return "autoalloc-allocation-queued";
	case HQ_AEV_SUBMIT_FAILED:
		return "autoalloc-submission-failed";
	case HQ_AEV_STARTED:
		return "autoalloc-allocation-started";
	case HQ_AEV_FINISHED:
		return "autoalloc-allocation-finished";
	}
	return "autoalloc";
}
