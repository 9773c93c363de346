/* SPDX-License-Identifier: MIT */
/*
 * Automatic allocation, the glue (spec 2.13): runs the decision loop
 * (alloc_plan.h) on the server's event loop, submits allocations with
 * sbatch/qsub, polls their status with squeue/qstat and cancels them with
 * scancel/qdel. Every batch command is a child process watched by libev
 * (ev_child plus non-blocking pipes for its output): the server never
 * waits for one. Outcomes become HQ_EV_ALLOC events through server_emit().
 * Internal to src/server/.
 */
#ifndef HQ_AUTOALLOC_H
#define HQ_AUTOALLOC_H

#include <jansson.h>

#include "common/util.h"
#include "common/wire.h"

struct server;
struct client;

/*
 * Start the allocator of a server whose state is recovered and whose
 * instance directory exists: timers, tuning from HQ_AUTOALLOC_* variables
 * (spec 1.12), and an immediate status poll of the allocations the
 * journal brought back, so that the live ones are adopted and the ended
 * ones marked. Sets s->aa.
 */
void autoalloc_create(struct server *s);
/*
 * After the loop ended: wait a few seconds for batch commands still
 * running (an allocation submitted meanwhile is cancelled), then free
 * everything. NULL s->aa is ok.
 */
void autoalloc_destroy(struct server *s);
/* From the loop's prepare hook: a state change schedules a decision. */
void autoalloc_prepare(struct server *s);
/* The server is stopping: end and cancel every queued or running
 * allocation (journalled as canceled, so a restart does not adopt them). */
void autoalloc_stop(struct server *s);

/* An `hq alloc` request (HQ_CMSG_ALLOC): answered now or, after a dry
 * run, when the test submission is done. 'm' is borrowed. */
void autoalloc_request(struct server *s, struct client *cl,
    const struct hq_cmsg *m);
/* Spec 3.2 `alloc list` (plus '_' details for the tables). */
json_t *autoalloc_query_list(struct server *s);
/* Spec 3.2 `alloc info <queue>`, filtered by m->states; with selector
 * "all", the allocations of every queue with "_queue_id". NULL with *err
 * set (caller frees) for an unknown queue. */
json_t *autoalloc_query_info(struct server *s, const struct hq_cmsg *m,
    char **err);

#endif
