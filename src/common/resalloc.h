/* SPDX-License-Identifier: MIT */
/*
 * Choosing concrete resource indices on one worker (spec 2.9): the free
 * state of every pool and the group policies compact, compact!, tight,
 * tight! and scatter, fractions and "all". Pure and deterministic: used by
 * the worker when it starts a task and by the server for feasibility.
 * Coupling weights (--coupling) steer compact and tight when one group is
 * enough: entries are allocated in request order, and a later entry
 * prefers the group most strongly coupled to the groups the earlier ones
 * took. Strict policies do not wait for the best coupling.
 */
#ifndef HQ_RESALLOC_H
#define HQ_RESALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/model.h"

/* Free state of every pool of one worker: per index the free fraction
 * (HQ_AMOUNT_ONE = whole), per sum pool the free amount. Opaque. */
struct hq_ralloc;

/* All resources free. 'res' is borrowed and must outlive the allocator.
 * Destroy with hq_ralloc_destroy(). */
struct hq_ralloc *hq_ralloc_create(const struct hq_worker_res *res);
void hq_ralloc_destroy(struct hq_ralloc *a); /* NULL ok */

/*
 * What one request entry got: 'pool' indexes res->pools. For indexed
 * pools n (label index, amount) pairs; whole indices come first in
 * ascending order, a partially used index (amount < HQ_AMOUNT_ONE) last.
 * For sum pools n is 0. sum_amount is the total amount in both cases.
 */
struct hq_ralloc_part {
	uint32_t pool;
	uint32_t n;
	uint32_t *index;
	uint32_t *amount;
	uint64_t sum_amount;
};

/* One part per entry of the variant, in the variant's entry order. */
struct hq_ralloc_result {
	uint32_t n;
	struct hq_ralloc_part *parts;
};

void hq_ralloc_result_fini(struct hq_ralloc_result *r);

/*
 * Try to allocate variant v now. Returns
 *   0          *out filled (caller owns it: hq_ralloc_result_fini) and the
 *              amounts taken from the free state;
 *   HQ_EBUSY   it does not fit the free resources now; strict policies
 *              (compact!, tight!) also wait until their optimal number of
 *              groups is free;
 *   HQ_EINVAL  it can never fit: a resource is missing, a total is too
 *              small, an amount is 0, or v is a multi-node variant.
 * On error the state and *out are unchanged.
 * Policies on a pool with several groups, for k whole indices (3x4 free:
 * 6 compact -> [3,3], 6 tight -> [4,2], 6 scatter -> [2,2,2]):
 *   compact   fewest groups; one group: the most coupled, then the
 *             smallest that fits; several: the groups with most free
 *             indices, taken from evenly;
 *   tight     fewest groups; the fullest groups are emptied and the
 *             smallest group that fits takes the rest;
 *   scatter   evenly over every group with a free index.
 * A fractional remainder takes one more index: preferably in a group
 * already used, preferably one already shared (the fullest that fits),
 * then the lowest index. "all" takes every index and needs all free.
 * Ties go to the lowest group and index.
 */
int hq_ralloc_try(struct hq_ralloc *a, const struct hq_res_variant *v,
    struct hq_ralloc_result *out);

/*
 * One pass over a worker's queue of assigned tasks, in queue order
 * (priority, then arrival), deciding which may start now. The server
 * accounts amounts only; the layout (groups, strictness, shared fractional
 * indices) is the worker's business, so a task the server placed may not
 * fit the free layout yet. A pass makes sure such a task is never starved
 * by tasks behind it:
 *   - a task whose amounts do not fit the free amounts (minus what earlier
 *     waiting tasks reserved) reserves its amounts: later tasks may only
 *     use what is left beyond the reservations;
 *   - a task whose amounts fit but whose layout does not (compact!/tight!
 *     waiting for whole groups, fragmented fractions) freezes every pool
 *     it names: no later task takes anything from them in this pass.
 * So every pool a waiting task needs only drains (except to tasks ahead of
 * it), and the task starts at the latest when the worker is otherwise
 * idle. Usage: begin, try for each queued task in order, end. 'a' must
 * not change between begin and end except through hq_ralloc_pass_try.
 */
struct hq_ralloc_pass {
	const struct hq_ralloc *a;
	uint64_t *free;	    /* per pool, as hq_ralloc_pool_free */
	uint64_t *reserved; /* per pool; UINT64_MAX: frozen */
};

void hq_ralloc_pass_begin(const struct hq_ralloc *a, struct hq_ralloc_pass *p);
/*
 * Returns 0 (allocated into *out, as hq_ralloc_try), HQ_EBUSY (the task
 * waits; its reservation is recorded) or HQ_EINVAL (it can never fit this
 * worker; nothing is reserved).
 */
int hq_ralloc_pass_try(struct hq_ralloc *a, struct hq_ralloc_pass *p,
    const struct hq_res_variant *v, struct hq_ralloc_result *out);
void hq_ralloc_pass_end(struct hq_ralloc_pass *p);

/* Give back what hq_ralloc_try allocated ('r' stays owned by the caller). */
void hq_ralloc_release(struct hq_ralloc *a, const struct hq_ralloc_result *r);

/* Labels of a part joined by ',' (partially used index last), for
 * HQ_RESOURCE_VALUES_<name>, HQ_CPUS and CUDA_VISIBLE_DEVICES. Appends
 * nothing for sum pools. */
void hq_ralloc_fmt_labels(struct hq_buf *out, const struct hq_ralloc *a,
    const struct hq_ralloc_part *p);

/* Can variant v ever fit this worker (totals only)? False for multi-node
 * variants (n_nodes > 0), which are matched by worker groups instead. */
bool hq_ralloc_fits_total(const struct hq_worker_res *res,
    const struct hq_res_variant *v);

/* Free amount of index 'index' of indexed pool 'pool' (0..HQ_AMOUNT_ONE). */
uint32_t hq_ralloc_index_free(const struct hq_ralloc *a, uint32_t pool,
    uint32_t index);

/* Free amount of a pool in 1/10000 units (sum of its indices, or the sum
 * pool's free size). */
uint64_t hq_ralloc_pool_free(const struct hq_ralloc *a, uint32_t pool);

#endif
