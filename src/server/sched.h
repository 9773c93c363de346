/* SPDX-License-Identifier: MIT */
/*
 * The scheduler: a pure function from the state (and the time) to a list
 * of assignments. It never mutates the state; the glue turns the plan into
 * TASK_RUN ASSIGNED events and applies them. Ready tasks are grouped in
 * queues by (priority, resource request), so a round costs in
 * workers x queues plus the tasks it assigns, never in the number of
 * waiting tasks.
 */
#ifndef HQ_SCHED_H
#define HQ_SCHED_H

#include "server/state.h"

struct hq_assign {
	uint32_t worker;
	uint32_t job;
	uint32_t idx;	  /* task index in the job */
	uint32_t variant; /* resource variant chosen */
};

struct hq_plan {
	struct hq_assign *a;
	uint32_t n, cap;
};

struct hq_sched_opts {
	/*
	 * How many layers of a worker's capacity may be committed: 1 = only
	 * what runs now; 2 = one more layer queued on the worker, so that a
	 * finishing task is replaced without a round trip (prefill).
	 */
	uint32_t layers;
};

void hq_plan_fini(struct hq_plan *p);

/*
 * Plan assignments for the ready tasks at time now_ms. Tasks go out in
 * priority order (higher first, then older jobs, then task order); a
 * lower-priority task only gets resources that no waiting higher-priority
 * task fits into. Results are appended to out (cleared first).
 */
void hq_sched_plan(const struct hq_state *st, uint64_t now_ms,
    const struct hq_sched_opts *o, struct hq_plan *out);

/* Can variant v of rq ever run on w (totals, time, node count)? */
bool hq_sched_variant_possible(const struct hq_state *st,
    const struct hq_sworker *w, uint32_t rq, uint32_t v, uint64_t now_ms);

#endif
