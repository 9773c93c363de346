/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a read offset, for frames and encoders. */
#ifndef HQ_BUF_H
#define HQ_BUF_H

#include <stddef.h>
#include <stdint.h>

struct hq_buf {
	uint8_t *data;
	size_t len; /* bytes written */
	size_t off; /* bytes consumed from the front */
	size_t cap;
};

void hq_buf_init(struct hq_buf *b);
void hq_buf_fini(struct hq_buf *b);
/* Make room for n more bytes at data + len; returns that pointer. */
uint8_t *hq_buf_reserve(struct hq_buf *b, size_t n);
void hq_buf_append(struct hq_buf *b, const void *p, size_t n);
void hq_buf_append_str(struct hq_buf *b, const char *s);
void hq_buf_printf(struct hq_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Unconsumed bytes. */
static inline size_t
hq_buf_avail(const struct hq_buf *b)
{
	return b->len - b->off;
}
static inline uint8_t *
hq_buf_head(const struct hq_buf *b)
{
	return b->data + b->off;
}
/* Consume n bytes from the front; compacts when everything is consumed. */
void hq_buf_consume(struct hq_buf *b, size_t n);
void hq_buf_reset(struct hq_buf *b);
/* NUL-terminate the contents (not counted in len) and return them. */
char *hq_buf_cstr(struct hq_buf *b);
/* Move the unconsumed bytes to the start of the buffer. */
void hq_buf_compact(struct hq_buf *b);

void hq_put_u32be(uint8_t *p, uint32_t v);
uint32_t hq_get_u32be(const uint8_t *p);

#endif
