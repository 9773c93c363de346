/* SPDX-License-Identifier: MIT */
/* Growable byte buffer. */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void
hq_buf_init(struct hq_buf *b)
{
	memset(b, 0, sizeof *b);
}

void
hq_buf_fini(struct hq_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

uint8_t *
hq_buf_reserve(struct hq_buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 256;

		if (b->off > 0 && b->off >= b->len / 2) {
			hq_buf_compact(b);
			if (b->len + n <= b->cap)
				return b->data + b->len;
		}
		while (nc < b->len + n)
			nc *= 2;
		b->data = hq_xrealloc(b->data, nc);
		b->cap = nc;
	}
	return b->data + b->len;
}

void
hq_buf_append(struct hq_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(hq_buf_reserve(b, n), p, n);
	b->len += n;
}

void
hq_buf_append_str(struct hq_buf *b, const char *s)
{
	hq_buf_append(b, s, strlen(s));
}

void
hq_buf_printf(struct hq_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	hq_buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
hq_buf_consume(struct hq_buf *b, size_t n)
{
	HQ_ASSERT(n <= b->len - b->off);
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

char *
hq_buf_cstr(struct hq_buf *b)
{
	hq_buf_reserve(b, 1);
	b->data[b->len] = '\0';
	return (char *)hq_buf_head(b);
}

void
hq_buf_reset(struct hq_buf *b)
{
	b->off = b->len = 0;
}

void
hq_buf_compact(struct hq_buf *b)
{
	if (b->off == 0)
		return;
	memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

void
hq_put_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
hq_get_u32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}
