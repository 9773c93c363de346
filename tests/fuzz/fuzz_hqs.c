/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the .hqs stream file reader: any input is either
 * refused with a message, or read chunk by chunk where every chunk lies
 * inside the input, re-encodes to exactly the bytes it was read from, and
 * the reader ends cleanly, at a truncation, or at damage with an offset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hqs.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_hqs_reader r;
	struct hq_hqs_chunk c;
	enum hq_hqs_status st;
	struct hq_errbuf eb;
	struct hq_buf b;
	size_t before;
	int rc;

	memset(&eb, 0, sizeof eb);
	rc = hq_hqs_reader_open(&r, data, size, &eb);
	if (rc != 0) {
		HQ_ASSERT(
		    rc == HQ_EINVAL || rc == HQ_EVERSION || rc == HQ_ECORRUPT);
		HQ_ASSERT(eb.msg[0] != '\0');
		return 0;
	}
	HQ_ASSERT(r.off <= size);
	HQ_ASSERT(strlen(r.hdr.server_uid) <= HQ_HQS_MAX_UID);
	/* The header re-encodes to the bytes it came from. */
	hq_buf_init(&b);
	HQ_ASSERT(hq_hqs_encode_header(&b, r.hdr.worker_id, r.hdr.server_uid,
		      NULL) == 0);
	HQ_ASSERT(b.len == r.off && memcmp(b.data, data, b.len) == 0);
	for (;;) {
		before = r.off;
		rc = hq_hqs_reader_next(&r, &c, &st, &eb);
		if (rc != 0) {
			HQ_ASSERT(rc == HQ_ECORRUPT);
			HQ_ASSERT(strncmp(eb.msg, "offset ", 7) == 0);
			HQ_ASSERT(r.off == before);
			break;
		}
		if (st == HQ_HQS_END) {
			HQ_ASSERT(r.off == size);
			break;
		}
		if (st == HQ_HQS_TRUNCATED) {
			HQ_ASSERT(r.off == before && r.off < size);
			break;
		}
		HQ_ASSERT(r.off == before + HQ_HQS_CHUNK_HDR + c.size);
		HQ_ASSERT(r.off <= size);
		HQ_ASSERT(c.channel <= HQ_HQS_STDERR);
		HQ_ASSERT(c.size > 0
			? c.data == data + before + HQ_HQS_CHUNK_HDR
			: c.data == NULL);
		hq_buf_reset(&b);
		hq_hqs_encode_chunk(&b, &c);
		HQ_ASSERT(b.len == r.off - before);
		HQ_ASSERT(memcmp(b.data, data + before, b.len) == 0);
	}
	hq_buf_fini(&b);
	return 0;
}
