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
	uint32_t worker; /* the root worker of a multi-node task */
	uint32_t job;
	uint32_t idx;	  /* task index in the job */
	uint32_t variant; /* resource variant chosen */
	/* Multi-node task: plan->nodes[nodes .. nodes + nnodes) are its
	 * workers, root first; nnodes is 0 for single-node tasks. */
	uint32_t nodes;
	uint32_t nnodes;
};

struct hq_plan {
	struct hq_assign *a;
	uint32_t n, cap;
	uint32_t *nodes; /* node lists of multi-node assignments */
	uint32_t nnodes, nodes_cap;
	/* Workers kept free of new tasks for waiting multi-node tasks. */
	uint32_t *held;
	uint32_t nheld, held_cap;
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
 *
 * Multi-node tasks (n_nodes > 0) take n_nodes whole workers of one group
 * with nothing in flight, only in the first layer. When no group has
 * enough such workers, the task holds n_nodes workers of the group with
 * the most usable workers (idle ones first): nothing later in the order
 * gets new work there, so they drain and the task starts in a later
 * round; tasks earlier in the order are not affected, so neither kind
 * starves the other beyond priority order.
 *
 * A worker with a minimal utilization (spec 1.4) gets new single-node
 * tasks only if afterwards at least min_utilization x its CPUs are
 * committed; otherwise the round is planned again without it. Such
 * workers are tried after the others.
 */
void hq_sched_plan(const struct hq_state *st, uint64_t now_ms,
    const struct hq_sched_opts *o, struct hq_plan *out);

/*
 * Can variant v of rq ever run on w (totals, time, node count)? For a
 * multi-node variant: at least n_nodes online workers of w's group (w
 * included) meet the time request.
 */
bool hq_sched_variant_possible(const struct hq_state *st,
    const struct hq_sworker *w, uint32_t rq, uint32_t v, uint64_t now_ms);

/* Online workers of group g (hq_sworker.group_id). */
uint32_t hq_sched_group_size(const struct hq_state *st, uint32_t g);

#endif
