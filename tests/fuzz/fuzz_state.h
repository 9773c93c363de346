/* SPDX-License-Identifier: MIT */
/*
 * A fixed server state for the targets that apply fuzzed input to one
 * (two workers, an open job, an array job with a running task), and the
 * invariants a state keeps after any accepted or refused event.
 */
#ifndef HQ_FUZZ_STATE_H
#define HQ_FUZZ_STATE_H

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/resource.h"
#include "server/snapshot.h"
#include "server/state.h"

static inline void
fuzz_apply_ok(struct hq_state *st, const struct hq_event *ev)
{
	struct hq_errbuf eb;

	if (hq_state_apply(st, ev, &eb) != 0)
		hq_fatalx("fuzz prefix: %s", eb.msg);
}

static inline void
fuzz_worker(struct hq_state *st, uint32_t id, const char *cpus,
    const char *group)
{
	struct hq_res_pool *pools = hq_xcalloc(2, sizeof *pools);
	struct hq_event ev;
	struct hq_errbuf eb;

	memset(&ev, 0, sizeof ev);
	if (hq_parse_pool_def("cpus", cpus, true, &pools[0], &eb) != 0 ||
	    hq_parse_pool_def("gpus", "[a, b]", false, &pools[1], &eb) != 0 ||
	    hq_worker_res_from_pools(pools, 2, &ev.u.wconn.cfg.res, &eb) != 0)
		hq_fatalx("fuzz prefix: %s", eb.msg);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = 1000 + id;
	ev.u.wconn.worker_id = id;
	ev.u.wconn.cfg.hostname = hq_xstrdup("node");
	ev.u.wconn.cfg.group = hq_xstrdup(group);
	ev.u.wconn.cfg.heartbeat_ms = 8000;
	ev.u.wconn.cfg.on_server_lost = hq_xstrdup("stop");
	fuzz_apply_ok(st, &ev);
	hq_worker_config_fini(&ev.u.wconn.cfg);
}

static inline void
fuzz_submit_array(struct hq_state *st, uint32_t job_id, uint32_t ntasks)
{
	struct hq_task_desc *d;
	struct hq_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = 2000;
	ev.u.submitted.job_id = job_id;
	ev.u.submitted.new_job = true;
	ev.u.submitted.name = (char *)"array";
	ev.u.submitted.submit.ndescs = 1;
	d = ev.u.submitted.submit.descs = hq_xcalloc(1, sizeof *d);
	d->argc = 1;
	d->argv = hq_xcalloc(2, sizeof *d->argv);
	d->argv[0] = hq_xstrdup("true");
	d->cwd = hq_xstrdup("/tmp");
	d->crash_limit = HQ_CRASH_DEFAULT;
	hq_res_request_default(&d->req);
	hq_idset_add_range(&ev.u.submitted.submit.ids, 0, ntasks, 1);
	ev.u.submitted.submit.submit_dir = hq_xstrdup("/tmp");
	fuzz_apply_ok(st, &ev);
	hq_submit_fini(&ev.u.submitted.submit);
}

/*
 * Events 1..: server start, workers 1 and 2, job 1 (an array of 10 with
 * task 0 assigned to worker 1 and task 1 running there), job 2 (open).
 */
static inline struct hq_state *
fuzz_state_prefix(void)
{
	struct hq_state *st = hq_state_create();
	struct hq_event ev;
	uint32_t tasks[2] = { 0, 1 };

	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_SERVER_STARTED;
	ev.time_ms = 1000;
	ev.u.started.server_uid = (char *)"fuzzuid";
	ev.u.started.host = (char *)"node";
	fuzz_apply_ok(st, &ev);
	fuzz_worker(st, 1, "4", "g");
	fuzz_worker(st, 2, "2x2", "g");
	fuzz_submit_array(st, 1, 10);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_TASK_RUN;
	ev.time_ms = 3000;
	ev.u.run.kind = HQ_RUN_ASSIGNED;
	ev.u.run.job = 1;
	ev.u.run.worker = 1;
	ev.u.run.n = ev.u.run.cap = 2;
	ev.u.run.tasks = tasks;
	fuzz_apply_ok(st, &ev);
	ev.u.run.kind = HQ_RUN_STARTED;
	ev.u.run.n = 1;
	ev.u.run.tasks = &tasks[1];
	fuzz_apply_ok(st, &ev);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_OPENED;
	ev.time_ms = 4000;
	ev.u.opened.job_id = 2;
	ev.u.opened.name = (char *)"open";
	fuzz_apply_ok(st, &ev);
	return st;
}

/* Counters match the tasks; in-flight lists name live tasks. */
static inline void
fuzz_state_check(const struct hq_state *st)
{
	uint32_t counts[6], i, k, n;

	/* Up to the table's end: next_job_id may be far beyond (restore). */
	for (i = 1; i < HQ_MIN(st->next_job_id, st->jobs_cap); i++) {
		const struct hq_job *job = hq_state_job(st, i);

		if (job == NULL)
			continue;
		memset(counts, 0, sizeof counts);
		for (k = 0; k < job->ntasks; k++) {
			HQ_ASSERT(job->tasks[k].state <= HQ_TASK_ABORTED);
			counts[job->tasks[k].state]++;
			HQ_ASSERT(hq_job_task_index(job, job->tasks[k].id) ==
			    (int64_t)k);
		}
		for (k = 0, n = 0; k < 6; k++) {
			HQ_ASSERT(counts[k] == job->counts[k]);
			n += counts[k];
		}
		HQ_ASSERT(n == job->ntasks);
	}
	for (i = 1; i < st->workers_cap; i++) {
		const struct hq_sworker *w = st->workers[i];

		if (w == NULL)
			continue;
		HQ_ASSERT(w->id == i);
		for (k = 0; k < w->ninflight; k++) {
			const struct hq_job *job =
			    hq_state_job(st, w->inflight[k].job);

			HQ_ASSERT(job != NULL);
			HQ_ASSERT(w->inflight[k].idx < job->ntasks);
			HQ_ASSERT(!hq_task_state_done(
			    job->tasks[w->inflight[k].idx].state));
		}
	}
}

/* A snapshot restores to a state with the very same snapshot. */
static inline void
fuzz_snapshot_check(const struct hq_state *st)
{
	struct hq_state *back = NULL;
	struct hq_errbuf eb;
	struct hq_buf a, b;

	hq_buf_init(&a);
	hq_buf_init(&b);
	hq_state_snapshot(st, &a);
	if (hq_state_restore(a.data, a.len, &back, &eb) != 0)
		hq_fatalx("snapshot does not restore: %s", eb.msg);
	hq_state_snapshot(back, &b);
	HQ_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	fuzz_state_check(back);
	hq_state_destroy(back);
	hq_buf_fini(&a);
	hq_buf_fini(&b);
}

#endif
