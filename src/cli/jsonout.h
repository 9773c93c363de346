/* SPDX-License-Identifier: MIT */
/*
 * JSON printing of jansson trees, byte-compatible with serde_json (what
 * HyperQueue prints): to_string_pretty for --output-mode json, to_string
 * for one-line NDJSON records.
 */
#ifndef HQ_JSONOUT_H
#define HQ_JSONOUT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct hq_buf;

/*
 * Append 'v' (borrowed; NULL prints as null) to 'out', without a final
 * newline. pretty: serde_json::to_string_pretty (2-space indent,
 * "key": value, one element per line, empty containers as [] and {});
 * otherwise serde_json::to_string (no whitespace at all). Object keys
 * keep insertion order. Reals are the shortest text that reads back to
 * the same double, in serde_json's (ryu) notation: 8.0, 0.1, 3600.0,
 * 1e16, 1e-7, 1.5e300; NaN and infinities print as null. Strings keep
 * UTF-8 as is; '"', '\\' and control characters are escaped (\n, \t...,
 * else \u00xx).
 */
void hq_json_format(struct hq_buf *out, json_t *v, bool pretty);

/* Print 'v' (borrowed) pretty, as above, and a final newline. */
void hq_json_print(FILE *out, json_t *v);

/* 'v' (borrowed) on one line. Caller owns the result; free with free(). */
char *hq_json_dumps_compact(json_t *v);

#endif
