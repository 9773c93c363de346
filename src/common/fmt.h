/* SPDX-License-Identifier: MIT */
/*
 * Formatting of ids, durations, timestamps, sizes and resource amounts for
 * the human (spec 3.1) and JSON (spec 3.2) outputs. Pure: no I/O, except
 * that hq_fmt_local() consults the local time zone.
 *
 * Every hq_fmt_* function appends to 'out' and leaves a NUL byte after
 * out->data[out->len] (not counted in len), so (char *)out->data can be
 * used as a C string right after the call.
 */
#ifndef HQ_FMT_H
#define HQ_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/model.h"

/*
 * IntArray display of a set as given: its ranges as "N", "A-B" (step 1)
 * or "A-B:S", joined by ",". A-B:S is written with B the last id of the
 * range ("1-10:2" is shown as "1-9:2"). An empty set appends nothing.
 */
void hq_fmt_idset(struct hq_buf *out, const struct hq_idset *s);

/*
 * Display of sorted ids, coalescing runs of consecutive ids:
 * {1,2,3,5,10..20} -> "1-3,5,10-20". Repeated ids are shown once.
 */
void hq_fmt_ids_sorted(struct hq_buf *out, const uint32_t *ids, size_t n);

/*
 * A duration as the humantime crate prints it: "0s", "500ms", "1s 500ms",
 * "1m 10s", "1h", "2days 3h", "1year 1month". Units: years (365.25 d),
 * months (30.44 d), days (singular "1day"), h, m, s, ms.
 */
void hq_fmt_duration(struct hq_buf *out, uint64_t ms);

/*
 * A makespan (spec 3.1): truncated to milliseconds below 1 minute, to
 * whole seconds below 1 hour and to whole minutes above, then printed by
 * hq_fmt_duration() ("1m 10s", not "1m 10s 250ms").
 */
void hq_fmt_makespan(struct hq_buf *out, uint64_t ms);

/* ms since the epoch as RFC 3339 UTC, 9 fractional digits (JSON mode):
 * "2026-01-01T10:00:00.123000000Z". */
void hq_fmt_rfc3339(struct hq_buf *out, uint64_t ms);

/* ms since the epoch as "2026-01-01 10:00:00 UTC" (job info). */
void hq_fmt_utc(struct hq_buf *out, uint64_t ms);

/* ms since the epoch as "01.01.2026 10:00:00" in local time (task info). */
void hq_fmt_local(struct hq_buf *out, uint64_t ms);

/*
 * Byte size (spec 3.1 output-log): "271 B", then KiB, MiB, GiB with two
 * decimals, each unit used once the value is at least twice that unit:
 * 2047 -> "2047 B", 2048 -> "2.00 KiB", 2 MiB - 1 -> "2048.00 KiB".
 */
void hq_fmt_size(struct hq_buf *out, uint64_t bytes);

/* Resource amount in 1/10000 units, no trailing zeros: 10000 -> "1",
 * 15000 -> "1.5", 1 -> "0.0001". */
void hq_fmt_amount(struct hq_buf *out, uint64_t amount);

/* Milliseconds as float seconds for JSON: 1500 -> 1.5. */
double hq_ms_to_secs(uint64_t ms);

#endif
