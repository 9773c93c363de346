/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for server -> client messages (what `hq` reads): any
 * frame either decodes into a message whose encoding decodes again to the
 * same encoding, or is refused with HQ_EPROTO and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/wire.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_smsg m, m2;
	struct hq_errbuf eb;
	struct hq_buf b1, b2;
	int rc;

	memset(&eb, 0, sizeof eb);
	rc = hq_wire_decode_smsg(data, size, &m, &eb);
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_EPROTO);
		fuzz_check_rejection(rc, &eb);
		return 0;
	}
	HQ_ASSERT(m.kind >= HQ_SMSG_HELLO && m.kind <= HQ_SMSG_NOTIFICATION);
	hq_buf_init(&b1);
	hq_buf_init(&b2);
	HQ_ASSERT(hq_wire_encode_smsg(&m, &b1) == 0);
	HQ_ASSERT(hq_wire_decode_smsg(b1.data, b1.len, &m2, &eb) == 0);
	HQ_ASSERT(hq_wire_encode_smsg(&m2, &b2) == 0);
	HQ_ASSERT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	hq_smsg_fini(&m2);
	hq_smsg_fini(&m);
	hq_buf_fini(&b1);
	hq_buf_fini(&b2);
	return 0;
}
