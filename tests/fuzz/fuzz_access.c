/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for access records (access.json, and the copy kept in
 * the journal): any text is refused with HQ_EINVAL and a message, or reads
 * into a record that writes back to text reading into the same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/access.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_access a, b;
	struct hq_errbuf eb;
	char *text, *t1, *t2;
	int rc;

	text = hq_xstrndup((const char *)data, size);
	memset(&eb, 0, sizeof eb);
	rc = hq_access_from_json(text, &a, &eb);
	free(text);
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_EINVAL);
		fuzz_check_rejection(rc, &eb);
		return 0;
	}
	HQ_ASSERT(a.version != NULL && a.parts != 0);
	HQ_ASSERT((a.parts & ~HQ_ACCESS_ALL) == 0);
	t1 = hq_access_to_json(&a, a.parts);
	HQ_ASSERT(hq_access_from_json(t1, &b, &eb) == 0);
	HQ_ASSERT(b.parts == a.parts);
	t2 = hq_access_to_json(&b, b.parts);
	HQ_ASSERT(strcmp(t1, t2) == 0);
	free(t1);
	free(t2);
	hq_access_fini(&a);
	hq_access_fini(&b);
	return 0;
}
