/* SPDX-License-Identifier: MIT */
/*
 * The decision loop of automatic allocation (spec 2.13) as a pure
 * function: from the state and the time to a list of actions (submit an
 * allocation of N workers into queue Q, pause queue Q). The glue
 * (autoalloc.c) carries them out and journals the outcome; nothing here
 * mutates the state.
 */
#ifndef HQ_ALLOC_PLAN_H
#define HQ_ALLOC_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "server/alloc_state.h"
#include "server/state.h"

struct hq_alloc_tuning {
	/* Pause a queue after this many consecutive failed submissions
	 * (0: never). */
	uint32_t max_submit_fails;
	/* ... or after this many consecutive failed allocations (0: never). */
	uint32_t max_alloc_fails;
	/* Wait delays[min(fails, n - 1)] after the last failed submission
	 * before the next one. */
	const uint64_t *delays_ms;
	uint32_t ndelays;
};

/* 10 submissions, 3 allocations, delays 0, 1 min, 15, 30, 60 min. */
void hq_alloc_tuning_default(struct hq_alloc_tuning *t);

enum hq_alloc_action_kind {
	HQ_AA_SUBMIT = 0, /* submit an allocation of 'workers' workers */
	HQ_AA_PAUSE,	  /* pause the queue, with 'reason' */
};

struct hq_alloc_action {
	enum hq_alloc_action_kind kind;
	uint32_t queue_id;
	uint32_t workers;
	char reason[160];
};

struct hq_alloc_actions {
	struct hq_alloc_action *a;
	uint32_t n, cap;
};

void hq_alloc_actions_fini(struct hq_alloc_actions *acts);

/*
 * What the waiting tasks ask of one queue's workers: how many single-node
 * workers they could keep busy (at most max_sn), and the node counts of
 * multi-node tasks that fit one allocation (at most max_mn of them, in
 * priority order). The worker type is the last connected worker's
 * resources, else the partial --cpus/--resource description, else
 * nothing known; with a partial type, unknown cpus count as one task per
 * worker and a task that needs another unknown resource asks for one probe
 * worker. Tasks whose time request exceeds the workers' time limit, or
 * whose resources the workers lack, are left out. The mn array is owned
 * by 'out' (hq_alloc_demand_fini).
 */
struct hq_alloc_demand {
	uint32_t sn_workers;
	uint32_t *mn;
	uint32_t nmn, mncap;
	bool probe; /* the count includes a probe for unknown resources */
};

void hq_alloc_demand(const struct hq_state *st, const struct hq_aqueue *q,
    uint64_t now_ms, uint32_t max_sn, uint32_t max_mn,
    struct hq_alloc_demand *out);
void hq_alloc_demand_fini(struct hq_alloc_demand *d);

/*
 * One round of decisions at time now_ms, for every active queue in id
 * order. A queue over a failure limit gets a PAUSE. Otherwise, unless it
 * backs off after a failed submission, it gets SUBMITs: multi-node tasks
 * first (one allocation each, unless a queued allocation is big enough),
 * then the single-node workers still missing after subtracting the workers
 * of queued allocations, of running allocations not yet connected and of
 * submissions in flight, in allocations of at most max_workers_per_alloc;
 * never more than backlog queued allocations (submissions in flight
 * count) nor, with max_worker_count, more workers than it allows. out is
 * cleared first.
 */
void hq_alloc_plan(const struct hq_state *st, uint64_t now_ms,
    const struct hq_alloc_tuning *t, struct hq_alloc_actions *out);

#endif
