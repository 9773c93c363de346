/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for `hq submit --from-json` input: any bytes are refused
 * with HQ_EINVAL and a message naming the file, or give one entry per
 * array element, each the compact JSON of the element (it parses back to
 * a value that prints the same).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/entries.h"
#include "cli/jsonout.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_errbuf eb;
	json_error_t jerr;
	char **entries = NULL, *again;
	uint32_t n = 0, i;
	json_t *v;
	int rc;

	memset(&eb, 0, sizeof eb);
	rc = hq_entries_from_json((const char *)data, size, "in.json", &entries,
	    &n, &eb);
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_EINVAL);
		fuzz_check_rejection(rc, &eb);
		HQ_ASSERT(strstr(eb.msg, "in.json") != NULL);
		return 0;
	}
	HQ_ASSERT(entries != NULL && entries[n] == NULL);
	for (i = 0; i < n; i++) {
		v = json_loads(entries[i], JSON_DECODE_ANY, &jerr);
		HQ_ASSERT(v != NULL);
		again = hq_json_dumps_compact(v);
		HQ_ASSERT(strcmp(again, entries[i]) == 0);
		free(again);
		json_decref(v);
		free(entries[i]);
	}
	free(entries);
	return 0;
}
