/* SPDX-License-Identifier: MIT */
/*
 * `hq task explain` (spec 2.15): why a task can or cannot run on each live
 * worker. The explanation itself is a pure function of the state and the
 * time; the query glue lives in explain.c too.
 */
#ifndef HQ_EXPLAIN_H
#define HQ_EXPLAIN_H

#include <jansson.h>
#include <stdint.h>

#include "server/state.h"

/*
 * The JSON of spec 3.2 for task 'idx' of 'job' at time now_ms:
 * {"task_id": {"job_id", "job_task_id"}, "explanation": {"n_task_deps",
 * "n_waiting_deps", "workers": [{"worker_id", "variants": [[items]]}]}}
 * with one entry per online worker (ascending ids) and, per resource
 * variant, the items HyperQueue reports: {"Time": {"min_time",
 * "remaining_time"}} when the variant has a time request, then
 * {"WorkerGroup": {"n_nodes", "group_size"}} for a multi-node variant or
 * one {"Resources": {"resource", "request_amount", "worker_amount"}} per
 * requested resource. Durations are {"secs", "nanos"}; remaining_time is
 * null for a worker without a time limit. An item blocks when min_time >
 * remaining_time, request_amount > worker_amount or n_nodes > group_size;
 * for single-node variants that agrees with hq_sched_variant_possible()
 * (a request of "all" is shown as 1, HyperQueue's minimum, so it blocks
 * on a pool smaller than one unit where the scheduler needs only > 0).
 * Returns a new reference.
 */
json_t *hq_explain_task(const struct hq_state *st, const struct hq_job *job,
    uint32_t idx, uint64_t now_ms);

#endif
