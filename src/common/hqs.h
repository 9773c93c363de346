/* SPDX-License-Identifier: MIT */
/*
 * The stream file format (.hqs, docs/STREAMS.md): what workers write for
 * `submit --stream` and what `hq output-log` reads. A header (magic,
 * version, worker id, server uid) and then self-checking chunks, each with
 * a CRC-32C of its header and of its data, so that a reader detects a
 * truncated tail (a crashed worker) or damage and never misreads.
 * Pure: no I/O; all integers are little-endian.
 */
#ifndef HQ_HQS_H
#define HQ_HQS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/util.h"

#define HQ_HQS_MAGIC	 "hqstream" /* 8 bytes, no NUL in the file */
#define HQ_HQS_MAGIC_LEN 8
#define HQ_HQS_VERSION	 1u
#define HQ_HQS_SUFFIX	 ".hqs"
/* Longest server uid a header may carry. */
#define HQ_HQS_MAX_UID 64u
/* Fixed size of a chunk header. */
#define HQ_HQS_CHUNK_HDR 36u
/* Writers read task output in blocks of this size (one chunk per block). */
#define HQ_HQS_BLOCK 16384u
/* Readers refuse chunks with more data than this (a damaged size). */
#define HQ_HQS_MAX_DATA (1u << 20)

enum hq_hqs_channel {
	HQ_HQS_STDOUT = 0,
	HQ_HQS_STDERR = 1,
};

struct hq_hqs_header {
	uint32_t version;
	uint32_t worker_id;
	char server_uid[HQ_HQS_MAX_UID + 1]; /* NUL-terminated */
};

/*
 * One chunk. size == 0 marks the end of the stream of that task instance
 * (all its channels; 'channel' is then 0 and 'data' NULL).
 */
struct hq_hqs_chunk {
	int64_t time_ms; /* wall clock, ms since the epoch */
	uint32_t job, task, instance;
	uint32_t channel; /* enum hq_hqs_channel */
	uint32_t size;
	const uint8_t *data; /* size bytes; borrowed */
};

/* CRC-32C (Castagnoli) of n bytes, continuing from 'crc' (start with 0). */
uint32_t hq_hqs_crc32c(uint32_t crc, const void *p, size_t n);

/*
 * Append the file header to 'out'. 'server_uid' must be at most
 * HQ_HQS_MAX_UID bytes without NUL (HQ_EINVAL otherwise, nothing
 * appended). Returns 0.
 */
int hq_hqs_encode_header(struct hq_buf *out, uint32_t worker_id,
    const char *server_uid, struct hq_errbuf *eb);

/*
 * Fill the HQ_HQS_CHUNK_HDR bytes of a chunk header for 'c' (its data is
 * read for the checksum). The chunk on disk is these bytes followed by
 * c->size data bytes. c->size must be <= HQ_HQS_MAX_DATA and c->channel
 * 0 or 1 (HQ_ASSERT).
 */
void hq_hqs_chunk_header(uint8_t out[HQ_HQS_CHUNK_HDR],
    const struct hq_hqs_chunk *c);

/* Append a whole chunk (header and data) to 'out'. */
void hq_hqs_encode_chunk(struct hq_buf *out, const struct hq_hqs_chunk *c);

/*
 * Decode the file header at the start of p[0..len). Returns 0 with *used
 * set to its length, or 0 with *used == 0 if p ends before the header
 * does. HQ_EINVAL for a file that is not a stream file (wrong magic),
 * HQ_EVERSION for an unknown version, HQ_ECORRUPT for a damaged header;
 * each with a message in 'eb' (may be NULL). *h is filled only on success.
 */
int hq_hqs_decode_header(const uint8_t *p, size_t len, struct hq_hqs_header *h,
    size_t *used, struct hq_errbuf *eb);

/*
 * Decode the chunk at the start of p[0..len). Returns 0 with *used set to
 * its total length and c->data pointing into p, or 0 with *used == 0 if p
 * ends inside the chunk (more bytes to come, or a truncated file).
 * HQ_ECORRUPT (message in 'eb') if the header or the data do not match
 * their checksums or the header is not valid. *c is filled only when a
 * chunk is returned.
 */
int hq_hqs_decode_chunk(const uint8_t *p, size_t len, struct hq_hqs_chunk *c,
    size_t *used, struct hq_errbuf *eb);

/* Reading a whole file held in memory (e.g. mmap'ed). */
struct hq_hqs_reader {
	const uint8_t *p; /* borrowed; must outlive the reader */
	size_t len;
	size_t off; /* offset of the next chunk */
	struct hq_hqs_header hdr;
};

enum hq_hqs_status {
	HQ_HQS_GOT_CHUNK = 0,
	HQ_HQS_END,	  /* clean end: the file ends after a whole chunk */
	HQ_HQS_TRUNCATED, /* the file ends inside a chunk at r->off */
};

/*
 * Start reading p[0..len): decode the header. Returns 0, or an error of
 * hq_hqs_decode_header(); a file shorter than its header is HQ_ECORRUPT
 * ("truncated header").
 */
int hq_hqs_reader_open(struct hq_hqs_reader *r, const uint8_t *p, size_t len,
    struct hq_errbuf *eb);

/*
 * The next chunk: 0 with *st telling whether a chunk was decoded into *c
 * (its data borrowed from the buffer), the file ended cleanly, or it ends
 * with a partial chunk at r->off. HQ_ECORRUPT with "offset N: ..." in 'eb'
 * for damage; the reader then stays at the damaged chunk.
 */
int hq_hqs_reader_next(struct hq_hqs_reader *r, struct hq_hqs_chunk *c,
    enum hq_hqs_status *st, struct hq_errbuf *eb);

#endif
