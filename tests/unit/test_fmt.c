/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/fmt.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/fmt.h"
#include "common/parse.h"

#define MIN_MS	(60 * 1000ull)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS	(24 * HOUR_MS)

/* Format into a fresh buffer that already holds a prefix, check both. */
#define CHECK(call_with_b, want)                                 \
	do {                                                     \
		struct hq_buf b;                                 \
		hq_buf_init(&b);                                 \
		hq_buf_append_str(&b, "<");                      \
		call_with_b;                                     \
		assert_true(b.cap > b.len);                      \
		assert_int_equal(b.data[b.len], '\0');           \
		assert_string_equal((char *)b.data + 1, (want)); \
		assert_int_equal(b.len, strlen(want) + 1);       \
		hq_buf_fini(&b);                                 \
	} while (0)

static void
test_fmt_duration_table(void **state)
{
	static const struct {
		uint64_t ms;
		const char *want;
	} t[] = {
		{ 0, "0s" },
		{ 1, "1ms" },
		{ 500, "500ms" },
		{ 1000, "1s" },
		{ 1500, "1s 500ms" },
		{ 59999, "59s 999ms" },
		{ 60000, "1m" },
		{ 70000, "1m 10s" },
		{ HOUR_MS, "1h" },
		{ HOUR_MS + MIN_MS + 1001, "1h 1m 1s 1ms" },
		{ DAY_MS, "1day" },
		{ 2 * DAY_MS + 3 * HOUR_MS, "2days 3h" },
		{ 15 * DAY_MS + 2 * MIN_MS + 2000, "15days 2m 2s" },
		{ 2630016000ull, "1month" },
		{ 2 * 2630016000ull, "2months" },
		{ 31557600000ull, "1year" },
		{ 2 * 31557600000ull, "2years" },
		{ 31557600000ull + 2630016000ull + DAY_MS,
		    "1year 1month 1day" },
		{ 30 * DAY_MS, "30days" },
		{ 31 * DAY_MS, "1month 13h 26m 24s" },
		{ UINT64_MAX, "584542046years 1month 2days 15h 52m 15s 615ms" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++)
		CHECK(hq_fmt_duration(&b, t[i].ms), t[i].want);
}

/* What we print must be read back by our own humantime parser. */
static void
test_fmt_duration_roundtrip(void **state)
{
	uint64_t ms, got, seed = 7;
	struct hq_buf b;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		ms = (seed >> 11) % (200 * 31557600000ull);
		hq_buf_init(&b);
		hq_fmt_duration(&b, ms);
		assert_int_equal(hq_parse_humantime((char *)b.data, &got, NULL),
		    0);
		if (got != ms)
			fail_msg("%llu -> \"%s\" -> %llu",
			    (unsigned long long)ms, (char *)b.data,
			    (unsigned long long)got);
		hq_buf_fini(&b);
	}
}

static void
test_fmt_makespan_rounding(void **state)
{
	static const struct {
		uint64_t ms;
		const char *want;
	} t[] = {
		{ 0, "0s" },
		{ 500, "500ms" },
		{ 1500, "1s 500ms" },
		{ 59999, "59s 999ms" },
		{ 60000, "1m" },
		{ 70250, "1m 10s" },
		{ 3599999, "59m 59s" },
		{ HOUR_MS, "1h" },
		{ HOUR_MS + 61500, "1h 1m" },
		{ 2 * HOUR_MS + 2 * MIN_MS + 59999, "2h 2m" },
		{ 2 * DAY_MS + 59999, "2days" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++)
		CHECK(hq_fmt_makespan(&b, t[i].ms), t[i].want);
}

static void
test_fmt_timestamps(void **state)
{
	const uint64_t t2026 = 1767261600123ull; /* 2026-01-01 10:00:00.123 */
	const uint64_t t2024 = 1709210096789ull; /* 2024-02-29 12:34:56.789 */

	(void)state;
	CHECK(hq_fmt_rfc3339(&b, 0), "1970-01-01T00:00:00.000000000Z");
	CHECK(hq_fmt_rfc3339(&b, t2026), "2026-01-01T10:00:00.123000000Z");
	CHECK(hq_fmt_rfc3339(&b, t2024), "2024-02-29T12:34:56.789000000Z");
	CHECK(hq_fmt_rfc3339(&b, 946684799999ull),
	    "1999-12-31T23:59:59.999000000Z");
	CHECK(hq_fmt_utc(&b, t2026), "2026-01-01 10:00:00 UTC");
	CHECK(hq_fmt_utc(&b, t2024), "2024-02-29 12:34:56 UTC");
	CHECK(hq_fmt_utc(&b, 0), "1970-01-01 00:00:00 UTC");

	assert_int_equal(setenv("TZ", "UTC0", 1), 0);
	tzset();
	CHECK(hq_fmt_local(&b, t2026), "01.01.2026 10:00:00");
	CHECK(hq_fmt_local(&b, t2024), "29.02.2024 12:34:56");
	/* A POSIX TZ string needs no tzdata: one hour east of UTC. */
	assert_int_equal(setenv("TZ", "XXX-1", 1), 0);
	tzset();
	CHECK(hq_fmt_local(&b, t2026), "01.01.2026 11:00:00");
	CHECK(hq_fmt_local(&b, 946684799999ull), "01.01.2000 00:59:59");
	/* UTC formats ignore the zone. */
	CHECK(hq_fmt_utc(&b, t2026), "2026-01-01 10:00:00 UTC");
	unsetenv("TZ");
	tzset();
}

static void
test_fmt_size_switching(void **state)
{
	static const struct {
		uint64_t bytes;
		const char *want;
	} t[] = {
		{ 0, "0 B" },
		{ 271, "271 B" },
		{ 1024, "1024 B" },
		{ 2047, "2047 B" },
		{ 2048, "2.00 KiB" },
		{ 3000, "2.93 KiB" },
		{ 1536 * 1024, "1536.00 KiB" },
		{ 2 * 1024 * 1024 - 1, "2048.00 KiB" },
		{ 2 * 1024 * 1024, "2.00 MiB" },
		{ 5 * 1024 * 1024 + 512 * 1024, "5.50 MiB" },
		{ 2047ull * 1024 * 1024, "2047.00 MiB" },
		{ 2ull * 1024 * 1024 * 1024, "2.00 GiB" },
		{ 5ull * 1024 * 1024 * 1024 * 1024, "5120.00 GiB" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++)
		CHECK(hq_fmt_size(&b, t[i].bytes), t[i].want);
}

static void
test_fmt_amount_table(void **state)
{
	static const struct {
		uint64_t amount;
		const char *want;
	} t[] = {
		{ 0, "0" },
		{ 1, "0.0001" },
		{ 10, "0.001" },
		{ 5000, "0.5" },
		{ 10000, "1" },
		{ 10010, "1.001" },
		{ 12345, "1.2345" },
		{ 15000, "1.5" },
		{ 22500, "2.25" },
		{ 100000, "10" },
		{ 42949672959999ull, "4294967295.9999" },
	};
	const char *in[] = { "1", "1.5", "0.0001", "2.25", "1.001", "123" };
	struct hq_buf rb;
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++)
		CHECK(hq_fmt_amount(&b, t[i].amount), t[i].want);
	for (i = 0; i < HQ_ARRAY_LEN(in); i++) {
		assert_int_equal(hq_parse_amount(in[i], &v, NULL), 0);
		hq_buf_init(&rb);
		hq_fmt_amount(&rb, v);
		assert_string_equal((char *)rb.data, in[i]);
		hq_buf_fini(&rb);
	}
}

static void
test_fmt_idset_display(void **state)
{
	struct hq_idset s = { 0 };
	struct hq_buf rb;

	(void)state;
	CHECK(hq_fmt_idset(&b, &s), "");
	hq_idset_add_range(&s, 1, 3, 1);
	hq_idset_add_range(&s, 5, 1, 1);
	hq_idset_add_range(&s, 10, 11, 1);
	CHECK(hq_fmt_idset(&b, &s), "1-3,5,10-20");
	hq_idset_fini(&s);

	hq_idset_add_range(&s, 1, 5, 2);
	hq_idset_add_range(&s, 7, 1, 5);
	hq_idset_add_range(&s, 0, 2, 1);
	hq_idset_add_range(&s, 4294967294u, 2, 1);
	CHECK(hq_fmt_idset(&b, &s), "1-9:2,7,0-1,4294967294-4294967295");
	hq_idset_fini(&s);

	/* Parse -> display keeps the user's order and form. */
	assert_int_equal(hq_parse_idset("20-30:5, 3,1-2", &s, NULL), 0);
	hq_buf_init(&rb);
	hq_fmt_idset(&rb, &s);
	assert_string_equal((char *)rb.data, "20-30:5,3,1-2");
	hq_buf_fini(&rb);
	hq_idset_fini(&s);
}

static void
test_fmt_ids_sorted_coalescing(void **state)
{
	uint32_t a[] = { 1, 2, 3, 5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
		20 };
	uint32_t dup[] = { 1, 1, 2, 2, 3, 7, 7 };
	uint32_t two[] = { 1, 2 };
	uint32_t gaps[] = { 0, 2, 4 };
	uint32_t edge[] = { 0, 4294967294u, 4294967295u };

	(void)state;
	CHECK(hq_fmt_ids_sorted(&b, a, HQ_ARRAY_LEN(a)), "1-3,5,10-20");
	CHECK(hq_fmt_ids_sorted(&b, NULL, 0), "");
	CHECK(hq_fmt_ids_sorted(&b, a, 1), "1");
	CHECK(hq_fmt_ids_sorted(&b, two, 2), "1-2");
	CHECK(hq_fmt_ids_sorted(&b, dup, HQ_ARRAY_LEN(dup)), "1-3,7");
	CHECK(hq_fmt_ids_sorted(&b, gaps, HQ_ARRAY_LEN(gaps)), "0,2,4");
	CHECK(hq_fmt_ids_sorted(&b, edge, HQ_ARRAY_LEN(edge)),
	    "0,4294967294-4294967295");
}

static void
test_fmt_ms_to_secs(void **state)
{
	(void)state;
	assert_true(hq_ms_to_secs(0) == 0.0);
	assert_true(hq_ms_to_secs(1500) == 1.5);
	assert_true(hq_ms_to_secs(8000) == 8.0);
	assert_true(hq_ms_to_secs(1) == 0.001);
	assert_true(hq_ms_to_secs(3600000) == 3600.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_duration_table),
		cmocka_unit_test(test_fmt_duration_roundtrip),
		cmocka_unit_test(test_fmt_makespan_rounding),
		cmocka_unit_test(test_fmt_timestamps),
		cmocka_unit_test(test_fmt_size_switching),
		cmocka_unit_test(test_fmt_amount_table),
		cmocka_unit_test(test_fmt_idset_display),
		cmocka_unit_test(test_fmt_ids_sorted_coalescing),
		cmocka_unit_test(test_fmt_ms_to_secs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
