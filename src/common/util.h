/* SPDX-License-Identifier: MIT */
/*
 * Small shared definitions: attributes, assertions, error codes and the
 * human-readable error buffer used across hq.
 */
#ifndef HQ_UTIL_H
#define HQ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define HQ_UNUSED	__attribute__((unused))
#define HQ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define HQ_NORETURN	__attribute__((noreturn))
#define HQ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HQ_MIN(a, b)	((a) < (b) ? (a) : (b))
#define HQ_MAX(a, b)	((a) > (b) ? (a) : (b))

/* Always compiled in, also in release builds. */
#define HQ_ASSERT(e)                                            \
	do {                                                    \
		if (!(e))                                       \
			hq_assert_fail(#e, __FILE__, __LINE__); \
	} while (0)

HQ_NORETURN void hq_assert_fail(const char *expr, const char *file, int line);

/*
 * Error codes. Functions return 0 or a negative code: -errno for system
 * failures, HQ_E* (-1000..-1099) for domain failures.
 */
enum {
	HQ_EINVAL = -1000,    /* bad input */
	HQ_ENOTFOUND = -1001, /* no such object */
	HQ_ESTATE = -1002,    /* transition not valid in the current state */
	HQ_EPROTO = -1003,    /* malformed or unexpected message */
	HQ_ETOOBIG = -1004,   /* over a size limit */
	HQ_EJOURNAL = -1005,  /* journal storage error */
	HQ_EJOURNAL_FULL = -1006, /* journal map or disk full */
	HQ_EVERSION = -1007,	  /* unknown format or protocol version */
	HQ_ECORRUPT = -1008,	  /* damaged data (hash chain, decode) */
	HQ_EAUTH = -1009,	  /* authentication failed */
	HQ_ECLOSED = -1010,	  /* peer closed the connection */
	HQ_ETIMEOUT = -1011,	  /* timed out */
	HQ_EEXIST = -1012,	  /* already exists */
	HQ_EBUSY = -1013,	  /* resource in use (e.g. live server) */
};

/* Text for an hq error code or a negated errno; never NULL. */
const char *hq_strerror(int rc);

/* A message for humans, filled by the function that rejects input. */
struct hq_errbuf {
	char msg[512];
};

/*
 * Format a message into 'eb' (may be NULL) and return 'rc', so that a
 * rejection is one line: return hq_errf(eb, HQ_EINVAL, "bad %s", x);
 */
int hq_errf(struct hq_errbuf *eb, int rc, const char *fmt, ...) HQ_PRINTF(3, 4);

/* Allocation that never returns NULL: aborts through hq_fatalx on OOM. */
void *hq_xmalloc(size_t n);
void *hq_xcalloc(size_t n, size_t size);
void *hq_xrealloc(void *p, size_t n);
void *hq_xreallocarray(void *p, size_t n, size_t size);
char *hq_xstrdup(const char *s);
char *hq_xstrndup(const char *s, size_t n);
void *hq_xmemdup(const void *p, size_t n);
int hq_xasprintf(char **out, const char *fmt, ...) HQ_PRINTF(2, 3);
char *hq_xprintf(const char *fmt, ...) HQ_PRINTF(1, 2);

/* Growable array helpers: ensure room for 'need' elements in *p (cap in *cap).
 */
#define HQ_VEC_RESERVE(p, cap, need)                                    \
	do {                                                            \
		if ((size_t)(need) > (size_t)(cap)) {                   \
			size_t nc_ = (cap) ? (size_t)(cap)*2 : 8;       \
			while (nc_ < (size_t)(need))                    \
				nc_ *= 2;                               \
			(p) = hq_xreallocarray((p), nc_, sizeof(*(p))); \
			(cap) = nc_;                                    \
		}                                                       \
	} while (0)

#define HQ_VEC_PUSH(p, len, cap, v)                \
	do {                                       \
		HQ_VEC_RESERVE(p, cap, (len) + 1); \
		(p)[(len)++] = (v);                \
	} while (0)

/* Monotonic and wall clocks in milliseconds / microseconds (glue only). */
uint64_t hq_now_ms(void);  /* CLOCK_REALTIME, ms since the epoch */
uint64_t hq_mono_us(void); /* CLOCK_MONOTONIC, us */

/* Fill 'out' with n cryptographically random bytes; 0 or -errno/HQ_E*. */
int hq_random_bytes(void *out, size_t n);

/* Hex encode n bytes into out (2n+1 bytes). */
void hq_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decode exactly n bytes from a 2n-char hex string; 0 or HQ_EINVAL. */
int hq_hex_decode(const char *in, uint8_t *out, size_t n);

#endif
