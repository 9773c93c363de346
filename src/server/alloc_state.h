/* SPDX-License-Identifier: MIT */
/*
 * The automatic allocator's part of the server state: allocation queues and
 * the allocations they submitted. Like the rest of hq_state it changes only
 * through journalled events, applied by hq_state_apply(): HQ_EV_ALLOC
 * events, plus worker connections and losses, which move an allocation to
 * running and, once all its workers are gone, to finished or failed. Pure:
 * no I/O, no clock.
 *
 * A few fields are marked "glue": the server's autoalloc.c keeps its
 * volatile bookkeeping there (submissions in flight, status polls); apply
 * never reads or writes them and they are not journalled.
 */
#ifndef HQ_ALLOC_STATE_H
#define HQ_ALLOC_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/alloc_params.h"
#include "common/buf.h"
#include "common/event.h"
#include "common/model.h"
#include "common/util.h"

/* A worker lost this soon after connecting counts as crashed early. */
#define HQ_ALLOC_EARLY_CRASH_MS 60000u

enum hq_alloc_status {
	HQ_ALLOC_QUEUED = 0,
	HQ_ALLOC_RUNNING,
	HQ_ALLOC_FINISHED,
	HQ_ALLOC_FAILED,
};

/* A worker of an allocation, as the allocation counts it. */
enum hq_alloc_worker_state {
	HQ_AW_ONLINE = 0,
	HQ_AW_GONE,	/* lost: stopped, idle, crashed... */
	HQ_AW_ORPHANED, /* dropped by a server restart; may still run */
};

struct hq_alloc_worker {
	uint32_t id;
	uint8_t state; /* enum hq_alloc_worker_state */
};

struct hq_allocation {
	char *id;	 /* batch job id */
	uint32_t target; /* workers (nodes) it was submitted for */
	enum hq_alloc_status status;
	uint64_t queued_ms, started_ms, ended_ms; /* 0: not yet */
	char *workdir;
	struct hq_alloc_worker *workers; /* that connected from it */
	uint32_t nworkers, wcap;
	uint32_t nonline, ngone, norphaned; /* workers in each state */
	uint32_t ncrashed; /* lost by a crash within HQ_ALLOC_EARLY_CRASH_MS */
	bool canceled;	   /* ended by the server: not a failure */
	/* glue */
	uint32_t status_errors; /* consecutive failed status polls */
	bool dir_removed;
};

struct hq_aqueue {
	uint32_t id;
	struct hq_alloc_params p;
	bool paused;
	char *pause_reason; /* NULL: paused by the user (or not paused) */
	/* Worker resources from --cpus/--resource (partial: other resources
	 * are unknown), and those of the last worker that connected. */
	struct hq_worker_res cli_res;
	bool has_cli_res;
	struct hq_worker_res known_res;
	bool has_known_res;
	struct hq_allocation **allocs; /* in submission order */
	uint32_t nallocs, acap;
	uint32_t submit_fails; /* consecutive failed submissions */
	uint64_t last_fail_ms;
	uint32_t alloc_fails; /* consecutive failed allocations */
	uint32_t nsubmits;    /* submissions so far (names, directories) */
	/* glue */
	uint32_t inflight;	   /* submissions running now */
	uint32_t inflight_workers; /* workers they ask for */
	bool refreshing;	   /* a status poll is running */
	uint64_t next_refresh_us;  /* monotonic time of the next poll */
};

struct hq_alloc_state {
	struct hq_aqueue **queues; /* sorted by id */
	uint32_t nqueues, qcap;
	uint32_t next_queue_id;
};

struct hq_alloc_state *hq_alloc_state_create(void);
void hq_alloc_state_destroy(struct hq_alloc_state *as); /* NULL ok */

/*
 * Apply an HQ_EV_ALLOC event (hq_state_apply calls it). Returns 0, or
 * HQ_EINVAL / HQ_ENOTFOUND / HQ_ESTATE / HQ_EEXIST with a message in eb
 * when the event does not fit; the state is then unchanged. 'ev' is
 * borrowed (params are copied).
 */
int hq_alloc_state_apply(struct hq_alloc_state *as, const struct hq_event *ev,
    struct hq_errbuf *eb);
/*
 * A worker connected (after hq_state_apply accepted WORKER_CONNECTED):
 * if its manager and allocation id name an active allocation, the
 * allocation is running and counts the worker; the queue learns the
 * worker's resources. 'cfg' is borrowed.
 */
void hq_alloc_state_worker_connected(struct hq_alloc_state *as,
    uint32_t worker_id, const struct hq_worker_config *cfg, uint64_t now_ms);
/*
 * A worker that connected at connected_ms was lost at now_ms. When every
 * worker of its allocation is gone (none merely dropped by a server
 * restart), the allocation ends: failed if all of them crashed within
 * HQ_ALLOC_EARLY_CRASH_MS, finished otherwise.
 */
void hq_alloc_state_worker_lost(struct hq_alloc_state *as, uint32_t worker_id,
    enum hq_worker_lost_reason reason, uint64_t connected_ms, uint64_t now_ms);

/*
 * Checkpoints: a deterministic encoding of the allocator state (the same
 * state gives the same bytes; glue fields are left out), for the server's
 * state snapshots, and its inverse. restore never trusts its input: it
 * returns 0 and *out (hq_alloc_state_destroy), or HQ_ECORRUPT /
 * HQ_EVERSION with a message.
 */
#define HQ_ALLOC_SNAPSHOT_VERSION 1
void hq_alloc_state_snapshot(const struct hq_alloc_state *as,
    struct hq_buf *out);
int hq_alloc_state_restore(const uint8_t *p, size_t len,
    struct hq_alloc_state **out, struct hq_errbuf *eb);

/* Lookups; NULL when absent. */
struct hq_aqueue *hq_alloc_queue(const struct hq_alloc_state *as, uint32_t id);
struct hq_allocation *hq_aqueue_allocation(const struct hq_aqueue *q,
    const char *id);
/* Queued or running. */
bool hq_allocation_active(const struct hq_allocation *a);
/* Workers an active allocation may still bring (never connected yet). */
uint32_t hq_allocation_pending(const struct hq_allocation *a);
/* Allocations of q in that status. */
uint32_t hq_aqueue_count(const struct hq_aqueue *q, enum hq_alloc_status s);
/* Workers online or expected from q's active allocations and submissions
 * in flight (for --max-worker-count). */
uint32_t hq_aqueue_active_workers(const struct hq_aqueue *q);
/* "queued", "running", "finished", "failed". */
const char *hq_alloc_status_name(enum hq_alloc_status s);

#endif
