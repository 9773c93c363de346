/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the libFuzzer targets: a cursor that takes bytes off
 * the input, and the checks every decoder's rejection must pass.
 */
#ifndef HQ_FUZZ_H
#define HQ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)(fuzz_u8(in) << 8 | fuzz_u8(in));
}

/* Up to 'max' bytes of the input (a length byte pair, then the bytes). */
static inline const uint8_t *
fuzz_take(struct fuzz_in *in, size_t max, size_t *len)
{
	const uint8_t *p = in->p;
	size_t n = fuzz_u16(in);

	if (n > max)
		n = max;
	if (n > in->n)
		n = in->n;
	p = in->p;
	in->p += n;
	in->n -= n;
	*len = n;
	return p;
}

/* A rejection names its problem. */
static inline void
fuzz_check_rejection(int rc, const struct hq_errbuf *eb)
{
	HQ_ASSERT(rc < 0);
	HQ_ASSERT(eb->msg[0] != '\0');
	HQ_ASSERT(memchr(eb->msg, '\0', sizeof eb->msg) != NULL);
}

#endif
