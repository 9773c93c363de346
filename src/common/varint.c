/* SPDX-License-Identifier: MIT */
/* Checkpoint encodings: varints and length-prefixed strings. */
#include "common/varint.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void
hq_vput_u(struct hq_buf *b, uint64_t v)
{
	uint8_t *p = hq_buf_reserve(b, 10);
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	b->len += n;
}

void
hq_vput_s(struct hq_buf *b, int64_t v)
{
	hq_vput_u(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void
hq_vput_bytes(struct hq_buf *b, const void *p, size_t n)
{
	hq_vput_u(b, n);
	hq_buf_append(b, p, n);
}

void
hq_vput_str(struct hq_buf *b, const char *s)
{
	hq_vput_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

void
hq_vput_ostr(struct hq_buf *b, const char *s)
{
	hq_vput_u(b, s != NULL);
	if (s != NULL)
		hq_vput_str(b, s);
}

uint64_t
hq_vget_u(struct hq_vrd *r)
{
	uint64_t v = 0;
	int shift = 0;

	while (r->err == NULL) {
		uint8_t byte;

		if (r->p >= r->end) {
			r->err = "truncated";
			break;
		}
		byte = *r->p++;
		if (shift == 63 && byte > 1) {
			r->err = "integer overflow";
			break;
		}
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
		shift += 7;
	}
	return 0;
}

uint32_t
hq_vget_u32(struct hq_vrd *r)
{
	uint64_t v = hq_vget_u(r);

	if (v > UINT32_MAX && r->err == NULL)
		r->err = "value out of range";
	return r->err ? 0 : (uint32_t)v;
}

int64_t
hq_vget_s(struct hq_vrd *r)
{
	uint64_t v = hq_vget_u(r);

	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

bool
hq_vget_bool(struct hq_vrd *r)
{
	uint64_t v = hq_vget_u(r);

	if (v > 1 && r->err == NULL)
		r->err = "flag out of range";
	return r->err == NULL && v == 1;
}

uint32_t
hq_vget_count(struct hq_vrd *r, size_t min_bytes_each)
{
	uint64_t n = hq_vget_u(r);

	if (r->err == NULL &&
	    (n > UINT32_MAX ||
		(min_bytes_each > 0 &&
		    n > (uint64_t)(r->end - r->p) / min_bytes_each)))
		r->err = "count larger than the data";
	return r->err ? 0 : (uint32_t)n;
}

const uint8_t *
hq_vget_bytes(struct hq_vrd *r, size_t *len)
{
	uint64_t n = hq_vget_u(r);
	const uint8_t *p = r->p;

	if (r->err == NULL && n > (uint64_t)(r->end - r->p))
		r->err = "truncated";
	if (r->err != NULL) {
		*len = 0;
		return NULL;
	}
	r->p += n;
	*len = (size_t)n;
	return p;
}

char *
hq_vget_str(struct hq_vrd *r)
{
	size_t len;
	const uint8_t *p = hq_vget_bytes(r, &len);

	if (p == NULL)
		return hq_xstrdup("");
	if (memchr(p, '\0', len) != NULL && r->err == NULL) {
		r->err = "string with a NUL byte";
		return hq_xstrdup("");
	}
	return hq_xstrndup((const char *)p, len);
}

char *
hq_vget_ostr(struct hq_vrd *r)
{
	char *s;

	if (!hq_vget_bool(r))
		return NULL;
	s = hq_vget_str(r);
	if (r->err != NULL) {
		free(s);
		return NULL;
	}
	return s;
}
