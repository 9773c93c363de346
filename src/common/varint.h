/* SPDX-License-Identifier: MIT */
/*
 * The encodings of checkpoints (server snapshot, allocation state):
 * LEB128 varints, zigzag signed varints, length-prefixed byte strings and
 * optional strings (0, or 1 then the string). Pure.
 *
 * The reader stops at the first problem: every later read returns 0 (or
 * NULL, or "") and r->err names the problem, so a decoder reads on and
 * checks r->err where it matters.
 */
#ifndef HQ_COMMON_VARINT_H
#define HQ_COMMON_VARINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

void hq_vput_u(struct hq_buf *b, uint64_t v);
void hq_vput_s(struct hq_buf *b, int64_t v);
void hq_vput_bytes(struct hq_buf *b, const void *p, size_t n);
void hq_vput_str(struct hq_buf *b, const char *s); /* NULL as "" */
void hq_vput_ostr(struct hq_buf *b, const char *s);

struct hq_vrd {
	const uint8_t *p, *end;
	const char *err; /* the first problem, or NULL */
};

uint64_t hq_vget_u(struct hq_vrd *r);
uint32_t hq_vget_u32(struct hq_vrd *r);
int64_t hq_vget_s(struct hq_vrd *r);
bool hq_vget_bool(struct hq_vrd *r);
/* A count of items of at least min_bytes_each bytes that can still follow. */
uint32_t hq_vget_count(struct hq_vrd *r, size_t min_bytes_each);
/* Points into the input; NULL (and *len 0) on error. */
const uint8_t *hq_vget_bytes(struct hq_vrd *r, size_t *len);
/* A string without NUL bytes, allocated; "" on error. */
char *hq_vget_str(struct hq_vrd *r);
/* NULL when absent or on error. */
char *hq_vget_ostr(struct hq_vrd *r);

#endif
