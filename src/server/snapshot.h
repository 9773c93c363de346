/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints of the server state. A snapshot is a deterministic encoding
 * of everything hq_state_apply() depends on: the same state always gives
 * the same bytes, so `hq-replay verify` can rebuild a state from the log
 * and compare it with a stored checkpoint byte for byte. Pure: no I/O.
 */
#ifndef HQ_SNAPSHOT_H
#define HQ_SNAPSHOT_H

#include "common/buf.h"
#include "server/state.h"

/* Snapshot format version, refused when unknown. */
#define HQ_SNAPSHOT_VERSION 2

/* Append the encoding of st to out. Hooks are not part of it. */
void hq_state_snapshot(const struct hq_state *st, struct hq_buf *out);

/*
 * Rebuild a state from a snapshot. Returns 0 and *out (destroy with
 * hq_state_destroy), or HQ_ECORRUPT / HQ_EVERSION with a message; the
 * input is never trusted (every length and index is checked).
 */
int hq_state_restore(const uint8_t *p, size_t len, struct hq_state **out,
    struct hq_errbuf *eb);

#endif
