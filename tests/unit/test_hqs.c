/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/hqs.c (the .hqs stream file format). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hqs.h"
#include "common/util.h"

/* A file: header, two data chunks of one task, an end, a stderr chunk. */
static void
build_file(struct hq_buf *b, size_t *header_len)
{
	struct hq_hqs_chunk c;
	static const char big[] = "second chunk, a little longer\n";

	hq_buf_init(b);
	assert_int_equal(hq_hqs_encode_header(b, 7, "AbC123", NULL), 0);
	*header_len = b->len;
	memset(&c, 0, sizeof c);
	c.time_ms = 1700000000123;
	c.job = 1;
	c.task = 2;
	c.instance = 0;
	c.channel = HQ_HQS_STDOUT;
	c.data = (const uint8_t *)"hello\n";
	c.size = 6;
	hq_hqs_encode_chunk(b, &c);
	c.data = (const uint8_t *)big;
	c.size = sizeof big - 1;
	c.time_ms++;
	hq_hqs_encode_chunk(b, &c);
	c.channel = HQ_HQS_STDERR;
	c.task = 3;
	c.instance = 4;
	c.data = (const uint8_t *)"err";
	c.size = 3;
	hq_hqs_encode_chunk(b, &c);
	c.channel = HQ_HQS_STDOUT;
	c.task = 2;
	c.instance = 0;
	c.data = NULL;
	c.size = 0;
	hq_hqs_encode_chunk(b, &c);
}

/* Read every chunk; returns the number, and the final status. */
static int
read_all(const uint8_t *p, size_t len, enum hq_hqs_status *last,
    struct hq_errbuf *eb)
{
	struct hq_hqs_reader r;
	struct hq_hqs_chunk c;
	int n = 0, rc;

	if ((rc = hq_hqs_reader_open(&r, p, len, eb)) != 0)
		return rc;
	for (;;) {
		if ((rc = hq_hqs_reader_next(&r, &c, last, eb)) != 0)
			return rc;
		if (*last != HQ_HQS_GOT_CHUNK)
			return n;
		n++;
	}
}

static void
test_hqs_crc32c_known_vector(void **state)
{
	(void)state;
	/* The check value of CRC-32C (RFC 3720, B.4). */
	assert_int_equal(hq_hqs_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(hq_hqs_crc32c(0, "", 0), 0);
	/* Continuing a CRC over a split buffer gives the same value. */
	assert_int_equal(hq_hqs_crc32c(hq_hqs_crc32c(0, "1234", 4), "56789", 5),
	    0xe3069283u);
}

static void
test_hqs_round_trip(void **state)
{
	struct hq_hqs_reader r;
	struct hq_hqs_chunk c;
	enum hq_hqs_status st;
	struct hq_buf b;
	size_t hl;

	(void)state;
	build_file(&b, &hl);
	assert_int_equal(hq_hqs_reader_open(&r, b.data, b.len, NULL), 0);
	assert_int_equal(r.hdr.version, HQ_HQS_VERSION);
	assert_int_equal(r.hdr.worker_id, 7);
	assert_string_equal(r.hdr.server_uid, "AbC123");
	assert_int_equal(r.off, hl);

	assert_int_equal(hq_hqs_reader_next(&r, &c, &st, NULL), 0);
	assert_int_equal(st, HQ_HQS_GOT_CHUNK);
	assert_true(c.time_ms == 1700000000123);
	assert_int_equal(c.job, 1);
	assert_int_equal(c.task, 2);
	assert_int_equal(c.instance, 0);
	assert_int_equal(c.channel, HQ_HQS_STDOUT);
	assert_int_equal(c.size, 6);
	assert_memory_equal(c.data, "hello\n", 6);

	assert_int_equal(hq_hqs_reader_next(&r, &c, &st, NULL), 0);
	assert_int_equal(st, HQ_HQS_GOT_CHUNK);
	assert_int_equal(c.size, 30);
	assert_memory_equal(c.data, "second chunk", 12);

	assert_int_equal(hq_hqs_reader_next(&r, &c, &st, NULL), 0);
	assert_int_equal(c.channel, HQ_HQS_STDERR);
	assert_int_equal(c.task, 3);
	assert_int_equal(c.instance, 4);

	assert_int_equal(hq_hqs_reader_next(&r, &c, &st, NULL), 0);
	assert_int_equal(st, HQ_HQS_GOT_CHUNK);
	assert_int_equal(c.size, 0);
	assert_null(c.data);

	assert_int_equal(hq_hqs_reader_next(&r, &c, &st, NULL), 0);
	assert_int_equal(st, HQ_HQS_END);
	hq_buf_fini(&b);
}

/* A cut anywhere after the header is a truncation, never damage. */
static void
test_hqs_truncation_at_every_offset(void **state)
{
	enum hq_hqs_status st;
	struct hq_errbuf eb;
	struct hq_buf b;
	size_t hl, cut;
	int n;

	(void)state;
	build_file(&b, &hl);
	for (cut = 0; cut < hl; cut++) {
		n = read_all(b.data, cut, &st, &eb);
		assert_int_equal(n, HQ_ECORRUPT);
		assert_non_null(strstr(eb.msg, "truncated header"));
	}
	for (cut = hl; cut <= b.len; cut++) {
		n = read_all(b.data, cut, &st, &eb);
		assert_true(n >= 0);
		if (cut == b.len) {
			assert_int_equal(n, 4);
			assert_int_equal(st, HQ_HQS_END);
		} else if (st == HQ_HQS_END) {
			/* Exactly at a chunk boundary. */
			assert_true(cut == hl || n > 0);
		} else {
			assert_int_equal(st, HQ_HQS_TRUNCATED);
		}
	}
	hq_buf_fini(&b);
}

/* Any single flipped bit is detected: never a silent misread. */
static void
test_hqs_every_bit_flip_detected(void **state)
{
	enum hq_hqs_status st;
	struct hq_errbuf eb;
	struct hq_buf b;
	size_t hl, i;
	int bit, n;

	(void)state;
	build_file(&b, &hl);
	for (i = 0; i < b.len; i++)
		for (bit = 0; bit < 8; bit++) {
			b.data[i] ^= (uint8_t)(1u << bit);
			n = read_all(b.data, b.len, &st, &eb);
			if (i >= hl) {
				assert_int_equal(n, HQ_ECORRUPT);
				assert_non_null(strstr(eb.msg, "offset "));
			} else {
				assert_true(n == HQ_EINVAL ||
				    n == HQ_EVERSION || n == HQ_ECORRUPT);
			}
			b.data[i] ^= (uint8_t)(1u << bit);
		}
	assert_int_equal(read_all(b.data, b.len, &st, &eb), 4);
	hq_buf_fini(&b);
}

static void
test_hqs_header_errors(void **state)
{
	struct hq_hqs_header h;
	struct hq_errbuf eb;
	struct hq_buf b;
	char uid[HQ_HQS_MAX_UID + 2];
	size_t used;

	(void)state;
	hq_buf_init(&b);
	memset(uid, 'x', sizeof uid - 1);
	uid[sizeof uid - 1] = '\0';
	assert_int_equal(hq_hqs_encode_header(&b, 1, uid, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "longer than"));
	assert_int_equal(b.len, 0);

	/* Not a stream file at all. */
	assert_int_equal(hq_hqs_decode_header((const uint8_t *)"hqsf0000xx", 10,
			     &h, &used, &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "not a stream file"));
	/* A prefix of the magic just needs more bytes. */
	assert_int_equal(hq_hqs_decode_header((const uint8_t *)"hqs", 3, &h,
			     &used, &eb),
	    0);
	assert_int_equal(used, 0);

	/* A future version is refused by number. */
	assert_int_equal(hq_hqs_encode_header(&b, 1, "uid", NULL), 0);
	b.data[8] = 9;
	assert_int_equal(hq_hqs_decode_header(b.data, b.len, &h, &used, &eb),
	    HQ_EVERSION);
	assert_non_null(strstr(eb.msg, "version 9"));
	b.data[8] = 1;
	assert_int_equal(hq_hqs_decode_header(b.data, b.len, &h, &used, &eb),
	    0);
	assert_int_equal(used, b.len);
	assert_string_equal(h.server_uid, "uid");

	/* An absurd uid length is damage, not a request for more bytes. */
	b.data[16] = 0xff;
	assert_int_equal(hq_hqs_decode_header(b.data, b.len, &h, &used, &eb),
	    HQ_ECORRUPT);
	assert_non_null(strstr(eb.msg, "uid length"));
	hq_buf_fini(&b);
}

/* Chunks that pass the checksum but break the rules are refused. */
static void
test_hqs_chunk_rules(void **state)
{
	uint8_t hdr[HQ_HQS_CHUNK_HDR];
	struct hq_hqs_chunk c;
	struct hq_errbuf eb;
	size_t used;
	uint32_t crc;

	(void)state;
	memset(&c, 0, sizeof c);
	hq_hqs_chunk_header(hdr, &c);
	assert_int_equal(hq_hqs_decode_chunk(hdr, sizeof hdr, &c, &used, &eb),
	    0);
	assert_int_equal(used, HQ_HQS_CHUNK_HDR);
	assert_int_equal(c.size, 0);

	/* Channel 2, with a matching header checksum. */
	hdr[20] = 2;
	crc = hq_hqs_crc32c(0, hdr, 32);
	memcpy(hdr + 32, &crc, 4); /* little-endian host (x86, arm) */
	assert_int_equal(hq_hqs_decode_chunk(hdr, sizeof hdr, &c, &used, &eb),
	    HQ_ECORRUPT);
	assert_non_null(strstr(eb.msg, "unknown channel 2"));

	/* A size over the limit. */
	hdr[20] = 0;
	hdr[24] = 0;
	hdr[25] = 0;
	hdr[26] = 0x20;
	crc = hq_hqs_crc32c(0, hdr, 32);
	memcpy(hdr + 32, &crc, 4);
	assert_int_equal(hq_hqs_decode_chunk(hdr, sizeof hdr, &c, &used, &eb),
	    HQ_ECORRUPT);
	assert_non_null(strstr(eb.msg, "over the limit"));

	/* Short input is "need more", not an error. */
	assert_int_equal(hq_hqs_decode_chunk(hdr, 10, &c, &used, &eb), 0);
	assert_int_equal(used, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hqs_crc32c_known_vector),
		cmocka_unit_test(test_hqs_round_trip),
		cmocka_unit_test(test_hqs_truncation_at_every_offset),
		cmocka_unit_test(test_hqs_every_bit_flip_detected),
		cmocka_unit_test(test_hqs_header_errors),
		cmocka_unit_test(test_hqs_chunk_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
