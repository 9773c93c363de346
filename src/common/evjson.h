/* SPDX-License-Identifier: MIT */
/*
 * Journal events as NDJSON (spec 3.4): one JSON object per line, for
 * hq-replay and journal export. Pure: no clock; I/O only in
 * hq_events_to_ndjson().
 */
#ifndef HQ_EVJSON_H
#define HQ_EVJSON_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/event.h"

struct hq_state;

/*
 * How the lines are written: compact, keys in insertion order, reals with
 * 16 significant digits (0.1 stays "0.1"; jansson's default of 17 would
 * print 0.10000000000000001).
 */
#define HQ_EVJSON_DUMP_FLAGS \
	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16))

/*
 * Number of NDJSON lines 'ev' becomes. Most events are one line; the
 * events that carry lists become one line per element, in list order:
 *   HQ_EV_TASK_RUN     line i is task ev->u.run.tasks[i] of ev->u.run.job
 *                      (task-assigned, task-started, task-finished,
 *                      task-requeued);
 *   HQ_EV_JOBS_*       line i is job ev->u.jobs.ids[i] (job-close,
 *                      job-cancel, job-forget).
 * So an event with an empty list has no line at all.
 */
uint32_t hq_event_json_nlines(const struct hq_event *ev);

/*
 * Line 'line' of event 'ev' (journal sequence number 'seq') as the object
 *   {"seq": N, "time": "<RFC 3339, UTC, 9 fraction digits>",
 *    "event": {"type": "<spec 3.4 name>", ...}}
 * with spec 3.4's type names and fields; kinds the spec lacks keep the
 * names of hq_event_kind_name() (task-assigned, task-requeued,
 * job-forget). Event fields:
 *   server-start       server_uid
 *   server-stop        -
 *   job-created        job, closed_job, job_desc {name, max_fails},
 *                      submit_desc {submit_dir, stream_path, task_desc}
 *                      where task_desc is {ids, resources, time_limit,
 *                      priority, crash_limit} for an array submit and
 *                      {n_tasks} for a graph (job file) submit
 *   job-open           job_id, name, max_fails
 *   job-close          job_id
 *   job-cancel         job_id, reason (null: none given)
 *   job-forget         job_id
 *   task-assigned      job, task, instance, worker, variant (only if > 0)
 *   task-started       job, task, instance, worker, variant (only if > 0)
 *   task-finished      job, task
 *   task-requeued      job, task
 *   task-failed        job, task, error
 *   worker-connected   id, configuration
 *   worker-lost        id, reason ("Stopped", "ConnectionLost", ...)
 *   autoalloc-*        queue-id, and: queue-created params; queue-paused
 *                      and submission-failed message; allocation-queued
 *                      allocation-id, worker-count; allocation-started
 *                      allocation-id; allocation-finished allocation-id,
 *                      failed
 * max_fails and time_limit are null when unset. Nested values use the
 * raw serde encodings of spec 3.4 (durations {secs, nanos}, crash limits
 * {"MaxCrashes": N} | "NeverRestart" | "Unlimited", id sets
 * {"ranges": [{start, count, step}]}, resource policies
 * {"Compact": amount} ... | "All" with amounts in 1/10000 units).
 *
 * 'st' (may be NULL) is the state AFTER applying 'ev'; it supplies what
 * the event does not carry: the instance of task-assigned and
 * task-started lines, the variant of task-started lines (task-assigned
 * events carry theirs), and the description of a submit into an existing
 * job. Without it, or when the task is not in it, "instance" is omitted.
 * 'ev' and 'st' are borrowed. Returns a new reference (caller owns;
 * json_decref()), or NULL when line >= hq_event_json_nlines(ev).
 */
json_t *hq_event_to_json(const struct hq_event *ev, uint64_t seq,
    const struct hq_state *st, uint32_t line);

/*
 * Write every line of 'ev' to 'out', compact JSON, each followed by '\n'.
 * 'st' as for hq_event_to_json(). Returns 0, or -errno (EIO when the
 * error is not known) if writing failed.
 */
int hq_events_to_ndjson(const struct hq_event *ev, uint64_t seq,
    const struct hq_state *st, FILE *out);

#endif
