/* SPDX-License-Identifier: MIT */
/*
 * Task entries of `hq submit --from-json FILE` (spec 1.5): one entry per
 * element of a top-level JSON array, each the compact JSON text of that
 * element. Pure: the caller reads the file.
 */
#ifndef HQ_ENTRIES_H
#define HQ_ENTRIES_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/*
 * Parse 'len' bytes of JSON text (named 'what' in messages, usually the
 * path). Returns 0 with *out, a malloc'd array of *n malloc'd strings
 * (caller frees each and the array; never NULL, even for n = 0), or
 * HQ_EINVAL with "Cannot parse WHAT: line L, column C: ..." or "The
 * top-level value of WHAT must be an array" in 'eb'.
 */
int hq_entries_from_json(const char *text, size_t len, const char *what,
    char ***out, uint32_t *n, struct hq_errbuf *eb);

#endif
