/* SPDX-License-Identifier: MIT */
/* Allocation, error text, clocks and randomness shared by every module. */
#include "common/util.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

void
hq_assert_fail(const char *expr, const char *file, int line)
{
	hq_log(HQ_LOG_ERROR, "assertion failed: %s (%s:%d)", expr, file, line);
	abort();
}

const char *
hq_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case HQ_EINVAL:
		return "invalid argument";
	case HQ_ENOTFOUND:
		return "not found";
	case HQ_ESTATE:
		return "invalid state transition";
	case HQ_EPROTO:
		return "protocol error";
	case HQ_ETOOBIG:
		return "too large";
	case HQ_EJOURNAL:
		return "journal storage error";
	case HQ_EJOURNAL_FULL:
		return "journal full (disk or map size)";
	case HQ_EVERSION:
		return "unsupported version";
	case HQ_ECORRUPT:
		return "data corrupted";
	case HQ_EAUTH:
		return "authentication failed";
	case HQ_ECLOSED:
		return "connection closed";
	case HQ_ETIMEOUT:
		return "timed out";
	case HQ_EEXIST:
		return "already exists";
	case HQ_EBUSY:
		return "busy";
	}
	if (rc < 0 && rc > -4096)
		return strerror(-rc);
	return "unknown error";
}

int
hq_errf(struct hq_errbuf *eb, int rc, const char *fmt, ...)
{
	va_list ap;

	if (eb != NULL) {
		va_start(ap, fmt);
		vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void *
hq_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		hq_fatalx("out of memory (%zu bytes)", n);
	return p;
}

void *
hq_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		hq_fatalx("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *
hq_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		hq_fatalx("out of memory (%zu bytes)", n);
	return q;
}

void *
hq_xreallocarray(void *p, size_t n, size_t size)
{
	void *q = reallocarray(p, n ? n : 1, size ? size : 1);

	if (q == NULL)
		hq_fatalx("out of memory (%zu x %zu bytes)", n, size);
	return q;
}

char *
hq_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		hq_fatalx("out of memory");
	return p;
}

char *
hq_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		hq_fatalx("out of memory");
	return p;
}

void *
hq_xmemdup(const void *p, size_t n)
{
	void *q = hq_xmalloc(n);

	if (n > 0)
		memcpy(q, p, n);
	return q;
}

int
hq_xasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		hq_fatalx("out of memory");
	return n;
}

char *
hq_xprintf(const char *fmt, ...)
{
	va_list ap;
	char *out;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		hq_fatalx("out of memory");
	va_end(ap);
	return out;
}

uint64_t
hq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
hq_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int
hq_random_bytes(void *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1)
		return HQ_EINVAL;
	return 0;
}

void
hq_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hq_hex_decode(const char *in, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(in) != 2 * n)
		return HQ_EINVAL;
	for (i = 0; i < n; i++) {
		int hi = hex_val(in[2 * i]), lo = hex_val(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return HQ_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
