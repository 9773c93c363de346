/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the value parsers of src/common/parse.h (id
 * selectors and sets, numbers, durations, amounts, --env, --stdout,
 * --crash-limit, directive and shell word splitting). The first byte picks
 * the parser, the rest is the NUL-terminated text. Every parser accepts
 * with results that hold their documented bounds, or refuses with
 * HQ_EINVAL and a message quoting the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "fuzz.h"

static void
fuzz_check_idset(const struct hq_idset *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		HQ_ASSERT(s->r[i].count > 0);
		HQ_ASSERT(s->r[i].step > 0);
		HQ_ASSERT((uint64_t)s->r[i].start +
			(uint64_t)(s->r[i].count - 1) * s->r[i].step <=
		    UINT32_MAX);
		HQ_ASSERT(hq_idset_contains(s, s->r[i].start));
	}
}

static void
fuzz_check_words(char **argv, int argc)
{
	int i;

	HQ_ASSERT(argc >= 0 && argv != NULL && argv[argc] == NULL);
	for (i = 0; i < argc; i++)
		HQ_ASSERT(argv[i] != NULL);
	hq_strv_free(argv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_selector sel;
	struct hq_idset ids;
	struct hq_stdio io;
	struct hq_errbuf eb;
	uint64_t u64, ms;
	uint32_t u32;
	uint16_t u16;
	int32_t i32;
	double f;
	char *s, *k, *v, **argv;
	int rc, argc;
	uint8_t which;

	if (size == 0)
		return 0;
	which = data[0] % 16;
	s = hq_xstrndup((const char *)data + 1, size - 1);
	memset(&eb, 0, sizeof eb);
	switch (which) {
	case 0:
	case 1:
		rc = hq_parse_selector(s,
		    which == 0 ? HQ_SEL_ALLOW_LAST | HQ_SEL_ALLOW_ALL
			       : HQ_SEL_SINGLE | HQ_SEL_ALLOW_LAST,
		    &sel, &eb);
		if (rc == 0) {
			fuzz_check_idset(&sel.ids);
			if (which == 1 && sel.kind == HQ_SEL_IDS)
				HQ_ASSERT(hq_idset_count(&sel.ids) == 1);
			hq_selector_fini(&sel);
		}
		break;
	case 2:
		if ((rc = hq_parse_idset(s, &ids, &eb)) == 0) {
			HQ_ASSERT(ids.n > 0);
			fuzz_check_idset(&ids);
			hq_idset_fini(&ids);
		}
		break;
	case 3:
		rc = hq_parse_u32(s, &u32, &eb);
		break;
	case 4:
		rc = hq_parse_u16(s, &u16, &eb);
		break;
	case 5:
		rc = hq_parse_i32(s, &i32, &eb);
		break;
	case 6:
		rc = hq_parse_u64(s, &u64, &eb);
		break;
	case 7:
		if ((rc = hq_parse_f64(s, &f, &eb)) == 0)
			HQ_ASSERT(f == f && f - f == 0); /* finite */
		break;
	case 8:
		rc = hq_parse_duration(s, &ms, &eb);
		break;
	case 9:
		if ((rc = hq_parse_humantime(s, &ms, &eb)) == 0 && ms == 0)
			HQ_ASSERT(strpbrk(s, "123456789") == NULL);
		break;
	case 10:
		if ((rc = hq_parse_amount(s, &u64, &eb)) == 0)
			HQ_ASSERT(u64 <= (uint64_t)UINT32_MAX * HQ_AMOUNT_ONE +
				HQ_AMOUNT_ONE - 1);
		break;
	case 11:
		if ((rc = hq_parse_env(s, &k, &v, &eb)) == 0) {
			HQ_ASSERT(k[0] != '\0' && strchr(k, '=') == NULL);
			HQ_ASSERT(strlen(k) + strlen(v) + 1 >= strlen(s));
			free(k);
			free(v);
		}
		break;
	case 12:
		if ((rc = hq_parse_stdio(s, &io, &eb)) == 0) {
			HQ_ASSERT(io.kind == HQ_STDIO_FILE ||
			    io.kind == HQ_STDIO_NONE);
			HQ_ASSERT(io.kind == HQ_STDIO_FILE || io.path == NULL);
			free(io.path);
		}
		break;
	case 13:
		if ((rc = hq_parse_crash_limit(s, &i32, &eb)) == 0)
			HQ_ASSERT(
			    i32 >= HQ_CRASH_NEVER_RESTART && i32 <= UINT16_MAX);
		break;
	case 14:
		if ((rc = hq_split_directive(s, &argv, &argc, &eb)) == 0)
			fuzz_check_words(argv, argc);
		break;
	default:
		if ((rc = hq_split_shell(s, &argv, &argc, &eb)) == 0)
			fuzz_check_words(argv, argc);
		break;
	}
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_EINVAL);
		fuzz_check_rejection(rc, &eb);
	}
	free(s);
	return 0;
}
