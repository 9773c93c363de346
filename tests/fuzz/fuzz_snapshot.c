/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for checkpoints (hq_state_restore): any bytes are
 * refused with HQ_ECORRUPT / HQ_EVERSION and a message, or restore into a
 * consistent state whose own snapshot restores to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_state.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_state *st = NULL;
	struct hq_errbuf eb;
	int rc;

	memset(&eb, 0, sizeof eb);
	rc = hq_state_restore(data, size, &st, &eb);
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_ECORRUPT || rc == HQ_EVERSION);
		HQ_ASSERT(st == NULL);
		fuzz_check_rejection(rc, &eb);
		return 0;
	}
	fuzz_state_check(st);
	fuzz_snapshot_check(st);
	hq_state_destroy(st);
	return 0;
}
