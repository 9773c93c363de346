/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/parse.c: tables of good and bad inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/parse.h"

/* Ranges of a set as "start/count/step ..." for comparison. */
static char *
ranges_str(const struct hq_idset *s)
{
	struct hq_buf b;
	uint32_t i;

	hq_buf_init(&b);
	for (i = 0; i < s->n; i++)
		hq_buf_printf(&b, "%s%u/%u/%u", i ? " " : "", s->r[i].start,
		    s->r[i].count, s->r[i].step);
	hq_buf_append(&b, "", 1);
	return (char *)b.data;
}

static void
expect_err(int rc, const struct hq_errbuf *eb, const char *input,
    const char *needle)
{
	if (rc != HQ_EINVAL)
		fail_msg("input \"%s\": expected HQ_EINVAL, got %d", input, rc);
	if (strstr(eb->msg, needle) == NULL)
		fail_msg("input \"%s\": message \"%s\" lacks \"%s\"", input,
		    eb->msg, needle);
}

/* ---- id sets ----------------------------------------------------------- */

static void
test_parse_idset_good(void **state)
{
	static const struct {
		const char *in, *ranges;
	} t[] = {
		{ "1", "1/1/1" },
		{ "0", "0/1/1" },
		{ "34-40", "34/7/1" },
		{ "101-101", "101/1/1" },
		{ "1-3,5,10-20", "1/3/1 5/1/1 10/11/1" },
		{ "1-10:2", "1/5/2" },
		{ "0-10:2", "0/6/2" },
		{ "1-10:9", "1/2/9" },
		{ "1-3:2", "1/2/2" },
		{ "1-1000_000", "1/1000000/1" },
		{ "1_0-2_0", "10/11/1" },
		{ " 1 , 2 ,\t3 ", "1/1/1 2/1/1 3/1/1" },
		{ "5,1", "5/1/1 1/1/1" },
		{ "3-5,1-2", "3/3/1 1/2/1" },
		{ "1-10:2,4", "1/5/2 4/1/1" },
		{ "1-9:2,2-10:2", "1/5/2 2/5/2" },
		{ "1-20:7,2-20:5", "1/3/7 2/4/5" },
		{ "0-4000000000:2,1-4000000001:2",
		    "0/2000000001/2 1/2000000001/2" },
		{ "4294967295", "4294967295/1/1" },
		{ "0-4294967294", "0/4294967295/1" },
		{ "10,9,8", "10/1/1 9/1/1 8/1/1" },
	};
	struct hq_errbuf eb;
	struct hq_idset s;
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++) {
		memset(&s, 0, sizeof s);
		if (hq_parse_idset(t[i].in, &s, &eb) != 0)
			fail_msg("\"%s\": %s", t[i].in, eb.msg);
		got = ranges_str(&s);
		if (strcmp(got, t[i].ranges) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", t[i].in,
			    got, t[i].ranges);
		free(got);
		hq_idset_fini(&s);
	}
}

static void
test_parse_idset_bad(void **state)
{
	static const struct {
		const char *in, *msg;
	} t[] = {
		{ "", "no ids" },
		{ "  ", "no ids" },
		{ "5-3", "start is greater than end" },
		{ "1-10:0", "step must be greater than 0" },
		{ "1-3:5", "step is greater than end - start" },
		{ "1-3:3", "step is greater than end - start" },
		{ "5-5:1", "step is greater than end - start" },
		{ "1-5,3", "items \"1-5\" and \"3\" overlap" },
		{ "0-10, 5", "overlap" },
		{ "3,1-5", "items \"3\" and \"1-5\" overlap" },
		{ "1,1", "overlap" },
		{ "1-10:2,5", "overlap" },
		{ "1-10:3,2-20:2", "overlap" },
		{ "1-100:7,2-100:5", "overlap" },
		{ "1-2,5-9,2-3", "items \"1-2\" and \"2-3\" overlap" },
		{ "abc", "expected a number at \"abc\"" },
		{ "12-x", "expected a number at \"x\"" },
		{ "1,,2", "empty item" },
		{ "1,", "empty item" },
		{ ",1", "empty item" },
		{ "1-", "expected a number at the end" },
		{ "1:2", "unexpected \":2\"" },
		{ "1-5:", "expected a number at the end" },
		{ "-5", "expected a number" },
		{ "_1", "expected a number" },
		{ "4294967296", "number out of range" },
		{ "1-4294967296", "number out of range" },
		{ "1 2", "unexpected \"2\"" },
		{ "1-2-3", "unexpected \"-3\"" },
		{ "1.5", "unexpected \".5\"" },
		{ "0-4294967295", "too many ids" },
		{ "1;2", "unexpected" },
	};
	struct hq_errbuf eb;
	struct hq_idset s = { .n = 77 };
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++) {
		eb.msg[0] = '\0';
		expect_err(hq_parse_idset(t[i].in, &s, &eb), &eb, t[i].in,
		    t[i].msg);
		assert_int_equal(s.n, 77); /* untouched on failure */
		assert_int_equal(hq_parse_idset(t[i].in, &s, NULL), HQ_EINVAL);
	}
}

static void
test_parse_idset_message(void **state)
{
	struct hq_errbuf eb;
	struct hq_idset s;

	(void)state;
	assert_int_equal(hq_parse_idset("5-3", &s, &eb), HQ_EINVAL);
	assert_string_equal(eb.msg,
	    "Invalid id range \"5-3\": start is greater than end");
	assert_int_equal(hq_parse_idset("1,5-3", &s, &eb), HQ_EINVAL);
	assert_string_equal(eb.msg,
	    "Invalid id range \"5-3\": start is greater than end");
	assert_int_equal(hq_parse_idset("1-5,3", &s, &eb), HQ_EINVAL);
	assert_string_equal(eb.msg,
	    "Invalid id range \"1-5,3\": items \"1-5\" and \"3\" overlap");
}

/* Brute-force check of the overlap detection on random stepped ranges. */
static void
test_parse_idset_overlap_random(void **state)
{
	char in[128];
	unsigned seed = 12345;
	int iter, k, n, a[3], b[3], c[3];
	bool seen[200], dup;
	struct hq_idset s;
	int rc;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		n = 2 + iter % 2;
		in[0] = '\0';
		memset(seen, 0, sizeof seen);
		dup = false;
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			a[k] = (int)(seed >> 8) % 60;
			seed = seed * 1103515245u + 12345u;
			b[k] = a[k] + 1 + (int)(seed >> 8) % 60;
			seed = seed * 1103515245u + 12345u;
			c[k] = 1 + (int)(seed >> 8) % (b[k] - a[k]);
			snprintf(in + strlen(in), sizeof in - strlen(in),
			    "%s%d-%d:%d", k ? "," : "", a[k], b[k], c[k]);
		}
		for (k = 0; k < n; k++) {
			int x;

			for (x = a[k]; x <= b[k]; x += c[k]) {
				if (seen[x])
					dup = true;
				seen[x] = true;
			}
		}
		rc = hq_parse_idset(in, &s, NULL);
		if (dup != (rc != 0))
			fail_msg("\"%s\": overlap %d, rc %d", in, dup, rc);
		if (rc == 0)
			hq_idset_fini(&s);
	}
}

/*
 * hq_idset_find_overlap against brute force: random sets of up to 150
 * stepped ranges (more than 64 open at once takes the sorting path), with
 * and without a shared id; the id it names is in two ranges.
 */
static void
test_idset_find_overlap_random(void **state)
{
	static uint8_t hits[4096];
	unsigned seed = 777;
	int iter, k, n;
	struct hq_idset s;
	uint32_t dup, x;
	bool want;

	(void)state;
	for (iter = 0; iter < 3000; iter++) {
		memset(&s, 0, sizeof s);
		memset(hits, 0, sizeof hits);
		want = false;
		n = 1 + iter % 150;
		for (k = 0; k < n; k++) {
			uint32_t start, count, step;

			seed = seed * 1103515245u + 12345u;
			step = 1 + (seed >> 8) % (iter % 3 ? 200 : 3);
			seed = seed * 1103515245u + 12345u;
			start = (seed >> 8) % 400;
			seed = seed * 1103515245u + 12345u;
			count = 1 + (seed >> 8) % 12;
			/* Mostly disjoint: residues of a large modulus. */
			if (iter % 2) {
				start = (uint32_t)k;
				step = 151;
			}
			hq_idset_add_range(&s, start, count, step);
			for (x = 0; x < count; x++)
				if (hits[start + x * step]++)
					want = true;
		}
		if (iter % 7 == 0 && n > 1) { /* force a repeat */
			hq_idset_add(&s, s.r[0].start);
			want = true;
		}
		dup = UINT32_MAX;
		if (hq_idset_find_overlap(&s, &dup) != want)
			fail_msg("iteration %d, %d ranges: overlap %d expected",
			    iter, n, want);
		if (want &&
		    (dup >= sizeof hits ||
			(hits[dup] < 2 && dup != s.r[0].start)))
			fail_msg("iteration %d: id %u is not repeated", iter,
			    dup);
		hq_idset_fini(&s);
	}
	/* Sparse huge ranges: only arithmetic, no expansion. */
	memset(&s, 0, sizeof s);
	hq_idset_add_range(&s, 0, 1000000000u, 4);
	hq_idset_add_range(&s, 2, 1000000000u, 4);
	assert_false(hq_idset_find_overlap(&s, &dup));
	hq_idset_add_range(&s, 3999999900u, 2, 2);
	assert_true(hq_idset_find_overlap(&s, &dup));
	assert_true(dup == 3999999900u || dup == 3999999902u);
	hq_idset_fini(&s);
}

/* An IntArray typed with many overlapping items: the sorting path. */
static void
test_parse_idset_many_open_items(void **state)
{
	char in[4096] = "";
	struct hq_errbuf eb;
	struct hq_idset s;
	int k;

	(void)state;
	for (k = 0; k < 100; k++)
		snprintf(in + strlen(in), sizeof in - strlen(in), "%s%d-%d:100",
		    k ? "," : "", k, k + 9900);
	assert_int_equal(hq_parse_idset(in, &s, &eb), 0);
	assert_int_equal(hq_idset_count(&s), 10000);
	hq_idset_fini(&s);
	snprintf(in + strlen(in), sizeof in - strlen(in), ",5050");
	expect_err(hq_parse_idset(in, &s, &eb), &eb, "many items",
	    "id 5050 is given twice");
}

/* ---- selectors --------------------------------------------------------- */

static void
test_parse_selector_keywords(void **state)
{
	struct hq_selector sel;
	struct hq_errbuf eb;
	int all = HQ_SEL_ALLOW_LAST | HQ_SEL_ALLOW_ALL;

	(void)state;
	assert_int_equal(hq_parse_selector("last", all, &sel, &eb), 0);
	assert_int_equal(sel.kind, HQ_SEL_LAST);
	assert_int_equal(sel.ids.n, 0);
	hq_selector_fini(&sel);
	assert_int_equal(hq_parse_selector("all", all, &sel, &eb), 0);
	assert_int_equal(sel.kind, HQ_SEL_ALL);
	hq_selector_fini(&sel);

	expect_err(hq_parse_selector("all", HQ_SEL_ALLOW_LAST, &sel, &eb), &eb,
	    "all", "not allowed");
	expect_err(hq_parse_selector("last", HQ_SEL_ALLOW_ALL, &sel, &eb), &eb,
	    "last", "not allowed");
	expect_err(hq_parse_selector("all",
		       HQ_SEL_SINGLE | HQ_SEL_ALLOW_LAST | HQ_SEL_ALLOW_ALL,
		       &sel, &eb),
	    &eb, "all", "not allowed");
	expect_err(hq_parse_selector("LAST", all, &sel, &eb), &eb, "LAST",
	    "expected \"last\", \"all\" or ids");
	expect_err(hq_parse_selector("lastx", all, &sel, &eb), &eb, "lastx",
	    "Invalid selector \"lastx\"");
	expect_err(hq_parse_selector("", all, &sel, &eb), &eb, "", "no ids");
}

static void
test_parse_selector_ids(void **state)
{
	struct hq_selector sel;
	struct hq_errbuf eb;
	char *got;

	(void)state;
	assert_int_equal(hq_parse_selector("1-3,5,10-20", HQ_SEL_ALLOW_LAST,
			     &sel, &eb),
	    0);
	assert_int_equal(sel.kind, HQ_SEL_IDS);
	got = ranges_str(&sel.ids);
	assert_string_equal(got, "1/3/1 5/1/1 10/11/1");
	free(got);
	hq_selector_fini(&sel);
	assert_int_equal(sel.ids.n, 0);

	expect_err(hq_parse_selector("1-5,3", HQ_SEL_ALLOW_ALL, &sel, &eb), &eb,
	    "1-5,3", "overlap");
	expect_err(hq_parse_selector("1-10:0", 0, &sel, &eb), &eb, "1-10:0",
	    "step");
}

static void
test_parse_selector_single(void **state)
{
	int fl = HQ_SEL_SINGLE | HQ_SEL_ALLOW_LAST;
	struct hq_selector sel;
	struct hq_errbuf eb;

	(void)state;
	assert_int_equal(hq_parse_selector("7", fl, &sel, &eb), 0);
	assert_int_equal(sel.kind, HQ_SEL_IDS);
	assert_int_equal(sel.ids.n, 1);
	assert_int_equal(sel.ids.r[0].start, 7);
	assert_int_equal(sel.ids.r[0].count, 1);
	hq_selector_fini(&sel);
	assert_int_equal(hq_parse_selector("1_000", fl, &sel, &eb), 0);
	assert_int_equal(sel.ids.r[0].start, 1000);
	hq_selector_fini(&sel);
	assert_int_equal(hq_parse_selector("last", fl, &sel, &eb), 0);
	assert_int_equal(sel.kind, HQ_SEL_LAST);

	expect_err(hq_parse_selector("1-3", fl, &sel, &eb), &eb, "1-3",
	    "expected a single id or \"last\"");
	expect_err(hq_parse_selector("1,2", fl, &sel, &eb), &eb, "1,2",
	    "single id");
	expect_err(hq_parse_selector("x", HQ_SEL_SINGLE, &sel, &eb), &eb, "x",
	    "expected a single id");
	expect_err(hq_parse_selector("last", HQ_SEL_SINGLE, &sel, &eb), &eb,
	    "last", "not allowed");
	expect_err(hq_parse_selector("", fl, &sel, &eb), &eb, "", "single id");
}

/* ---- numbers ----------------------------------------------------------- */

static void
test_parse_numbers_good(void **state)
{
	struct hq_errbuf eb;
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	int32_t i32;
	double d;

	(void)state;
	assert_int_equal(hq_parse_u32("0", &u32, &eb), 0);
	assert_int_equal(u32, 0);
	assert_int_equal(hq_parse_u32("4294967295", &u32, &eb), 0);
	assert_int_equal(u32, 4294967295u);
	assert_int_equal(hq_parse_u32("1_000_000", &u32, &eb), 0);
	assert_int_equal(u32, 1000000);
	assert_int_equal(hq_parse_u32("007", &u32, &eb), 0);
	assert_int_equal(u32, 7);
	assert_int_equal(hq_parse_u16("65535", &u16, &eb), 0);
	assert_int_equal(u16, 65535);
	assert_int_equal(hq_parse_i32("-2147483648", &i32, &eb), 0);
	assert_int_equal(i32, INT32_MIN);
	assert_int_equal(hq_parse_i32("2147483647", &i32, &eb), 0);
	assert_int_equal(i32, INT32_MAX);
	assert_int_equal(hq_parse_i32("+5", &i32, &eb), 0);
	assert_int_equal(i32, 5);
	assert_int_equal(hq_parse_i32("-1_0", &i32, &eb), 0);
	assert_int_equal(i32, -10);
	assert_int_equal(hq_parse_u64("18446744073709551615", &u64, &eb), 0);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(hq_parse_f64("1.5", &d, &eb), 0);
	assert_true(d == 1.5);
	assert_int_equal(hq_parse_f64("-2", &d, &eb), 0);
	assert_true(d == -2.0);
	assert_int_equal(hq_parse_f64(".25", &d, &eb), 0);
	assert_true(d == 0.25);
	assert_int_equal(hq_parse_f64("1e3", &d, &eb), 0);
	assert_true(d == 1000.0);
	assert_int_equal(hq_parse_f64("11.2", &d, &eb), 0);
	assert_true(d == 11.2);
	assert_int_equal(hq_parse_f64("5.", &d, &eb), 0);
	assert_true(d == 5.0);
}

static void
test_parse_numbers_bad(void **state)
{
	static const char *const bad_u32[] = { "", "-1", "+1", " 1", "1 ",
		"abc", "1x", "_1", "4294967296", "99999999999999999999999",
		"0x10", "1.0" };
	static const char *const bad_i32[] = { "", "-", "+", "2147483648",
		"-2147483649", "--1", "1-", "a" };
	static const char *const bad_f64[] = { "", "abc", "1e", "e5", "inf",
		"nan", "0x1p3", "1.2.3", " 1", "1 ", "-", ".", "1e999", "1,5" };
	struct hq_errbuf eb;
	uint32_t u32 = 42;
	uint16_t u16 = 42;
	int32_t i32 = 42;
	uint64_t u64 = 42;
	double d = 42;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(bad_u32); i++)
		expect_err(hq_parse_u32(bad_u32[i], &u32, &eb), &eb, bad_u32[i],
		    "Invalid number");
	assert_int_equal(u32, 42);
	expect_err(hq_parse_u32("4294967296", &u32, &eb), &eb, "4294967296",
	    "out of range (maximum 4294967295)");
	expect_err(hq_parse_u16("65536", &u16, &eb), &eb, "65536",
	    "out of range");
	assert_int_equal(u16, 42);
	for (i = 0; i < HQ_ARRAY_LEN(bad_i32); i++)
		expect_err(hq_parse_i32(bad_i32[i], &i32, &eb), &eb, bad_i32[i],
		    "Invalid number");
	assert_int_equal(i32, 42);
	expect_err(hq_parse_u64("18446744073709551616", &u64, &eb), &eb, "2^64",
	    "out of range");
	assert_int_equal(u64, 42);
	for (i = 0; i < HQ_ARRAY_LEN(bad_f64); i++)
		expect_err(hq_parse_f64(bad_f64[i], &d, &eb), &eb, bad_f64[i],
		    "Invalid number");
	assert_true(d == 42);
	expect_err(hq_parse_u32("abc", &u32, &eb), &eb, "abc",
	    "Invalid number \"abc\"");
}

/* ---- durations --------------------------------------------------------- */

static void
test_parse_duration_good(void **state)
{
	static const struct {
		const char *in;
		uint64_t ms;
	} t[] = {
		{ "01:00:00", 3600000 },
		{ "5:00", 300000 },
		{ "30", 30000 },
		{ "0", 0 },
		{ "1:90", 150000 },
		{ "100:00:00", 360000000 },
		{ "1_0", 10000 },
		{ "1h", 3600000 },
		{ "2h5m10s", (2 * 3600 + 5 * 60 + 10) * 1000ull },
		{ "3h 10m 5s", (3 * 3600 + 10 * 60 + 5) * 1000ull },
		{ "2 hours 5 minutes", (2 * 3600 + 5 * 60) * 1000ull },
		{ "15days 2min 2s", (15 * 86400 + 2 * 60 + 2) * 1000ull },
		{ "500ms", 500 },
		{ "1s 500ms", 1500 },
		{ "0s", 0 },
		{ "0ms", 0 },
		{ " 1h ", 3600000 },
		{ "1h30m", 5400000 },
		{ "2h 37min", 9420000 },
		{ "1hr", 3600000 },
		{ "2hrs", 7200000 },
		{ "1hour", 3600000 },
		{ "1sec", 1000 },
		{ "2secs", 2000 },
		{ "1second", 1000 },
		{ "3seconds", 3000 },
		{ "1min", 60000 },
		{ "2mins", 120000 },
		{ "1minute", 60000 },
		{ "1d", 86400000 },
		{ "1day", 86400000 },
		{ "2days", 172800000 },
		{ "1w", 604800000 },
		{ "1week", 604800000 },
		{ "2weeks", 1209600000 },
		{ "1M", 2630016000ull },
		{ "1month", 2630016000ull },
		{ "3months", 3 * 2630016000ull },
		{ "1y", 31557600000ull },
		{ "1year", 31557600000ull },
		{ "2years", 2 * 31557600000ull },
		{ "1msec", 1 },
		{ "5millis", 5 },
		{ "1500us", 1 },
		{ "2500usec", 2 },
		{ "500us", 1 }, /* non-zero below 1 ms rounds up */
		{ "1ns", 1 },
		{ "17nsec", 1 },
		{ "5nanos", 1 },
		{ "0ns", 0 },
		{ "1s 999999999ns", 1999 },
		{ "1s 1000000000ns", 2000 },
		{ "20 min 17 nsec ", 1200000 },
		{ "1h\t5m", 3900000 },
		{ "18446744073709551s 615ms", UINT64_MAX },
	};
	struct hq_errbuf eb;
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++) {
		ms = 12345;
		if (hq_parse_duration(t[i].in, &ms, &eb) != 0)
			fail_msg("\"%s\": %s", t[i].in, eb.msg);
		if (ms != t[i].ms)
			fail_msg("\"%s\": got %llu, want %llu", t[i].in,
			    (unsigned long long)ms,
			    (unsigned long long)t[i].ms);
	}
}

static void
test_parse_duration_bad(void **state)
{
	static const struct {
		const char *in, *msg;
	} t[] = {
		{ "", "empty" },
		{ "   ", "empty" },
		{ "1x", "unknown time unit \"x\"" },
		{ "-5", "expected a number at \"-5\"" },
		{ "h", "expected a number" },
		{ "1h 5", "time unit needed" },
		{ "5 5", "unexpected character '5'" },
		{ "1:2:3:4", "expected [[HH:]MM:]SS" },
		{ "1::2", "expected [[HH:]MM:]SS" },
		{ ":30", "Invalid duration" },
		{ "1:", "Invalid duration" },
		{ "1.5h", "unexpected character '.'" },
		{ "1h-5m", "unexpected character '-'" },
		{ "1H", "unknown time unit \"H\"" },
		{ "1 m s", "expected a number" },
		{ "1hours2", "time unit needed" },
		{ "99999999999999999999s", "too large" },
		{ "999999999999999999y", "too large" },
		{ "18446744073709552s", "too large" },
		{ "18446744073709551s 616ms", "too large" },
		{ "1µs", "unexpected character" },
		{ "4294967296:00", "expected [[HH:]MM:]SS" },
	};
	struct hq_errbuf eb;
	uint64_t ms = 42;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++) {
		eb.msg[0] = '\0';
		expect_err(hq_parse_duration(t[i].in, &ms, &eb), &eb, t[i].in,
		    t[i].msg);
		assert_int_equal(ms, 42);
		assert_int_equal(hq_parse_duration(t[i].in, &ms, NULL),
		    HQ_EINVAL);
	}
	expect_err(hq_parse_duration("1x", &ms, &eb), &eb, "1x",
	    "Invalid duration \"1x\"");
	expect_err(hq_parse_duration("1x", &ms, &eb), &eb, "1x",
	    "[[HH:]MM:]SS");
}

static void
test_parse_humantime_only(void **state)
{
	struct hq_errbuf eb;
	uint64_t ms = 42;

	(void)state;
	assert_int_equal(hq_parse_humantime("2h5m10s", &ms, &eb), 0);
	assert_int_equal(ms, 7510000);
	assert_int_equal(hq_parse_humantime("500ms", &ms, &eb), 0);
	assert_int_equal(ms, 500);
	ms = 42;
	expect_err(hq_parse_humantime("30", &ms, &eb), &eb, "30",
	    "time unit needed");
	expect_err(hq_parse_humantime("01:00:00", &ms, &eb), &eb, "01:00:00",
	    "unexpected character ':'");
	expect_err(hq_parse_humantime("", &ms, &eb), &eb, "", "empty");
	assert_int_equal(ms, 42);
	assert_null(strstr(eb.msg, "HH:"));
}

/* ---- submit option values ---------------------------------------------- */

static void
test_parse_amount(void **state)
{
	static const struct {
		const char *in;
		uint64_t v;
	} good[] = {
		{ "1", 10000 },
		{ "0", 0 },
		{ "1.5", 15000 },
		{ "0.0001", 1 },
		{ "2.25", 22500 },
		{ "1.0000", 10000 },
		{ "1_000", 10000000 },
		{ "1_000.5", 10005000 },
		{ "0.1_2", 1200 },
		{ "4294967295.9999", 42949672959999ull },
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "1.00001", "Resource precision exceeded" },
		{ "0.12345", "Resource precision exceeded" },
		{ "abc", "expected a number" },
		{ "", "expected a number" },
		{ ".5", "expected a number" },
		{ "-1", "expected a number" },
		{ "1.", "expected digits after '.'" },
		{ "1._5", "expected digits after '.'" },
		{ "1.5x", "unexpected \"x\"" },
		{ "1,5", "unexpected \",5\"" },
		{ "4294967296", "out of range" },
		{ " 1", "expected a number" },
		{ "1 ", "unexpected" },
	};
	struct hq_errbuf eb;
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(good); i++) {
		v = 7;
		if (hq_parse_amount(good[i].in, &v, &eb) != 0)
			fail_msg("\"%s\": %s", good[i].in, eb.msg);
		if (v != good[i].v)
			fail_msg("\"%s\": got %llu", good[i].in,
			    (unsigned long long)v);
	}
	for (i = 0; i < HQ_ARRAY_LEN(bad); i++) {
		v = 7;
		expect_err(hq_parse_amount(bad[i].in, &v, &eb), &eb, bad[i].in,
		    bad[i].msg);
		assert_int_equal(v, 7);
	}
	expect_err(hq_parse_amount("1.00001", &v, &eb), &eb, "1.00001",
	    "Invalid resource amount \"1.00001\"");
}

static void
test_parse_env(void **state)
{
	static const struct {
		const char *in, *key, *value;
	} good[] = {
		{ "K=V", "K", "V" },
		{ "K", "K", "" },
		{ "K=", "K", "" },
		{ "K=a=b", "K", "a=b" },
		{ "PATH=/bin:/usr/bin", "PATH", "/bin:/usr/bin" },
		{ "K= v ", "K", " v " },
	};
	struct hq_errbuf eb;
	char *k, *v;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(good); i++) {
		assert_int_equal(hq_parse_env(good[i].in, &k, &v, &eb), 0);
		assert_string_equal(k, good[i].key);
		assert_string_equal(v, good[i].value);
		free(k);
		free(v);
	}
	k = v = NULL;
	expect_err(hq_parse_env("=V", &k, &v, &eb), &eb, "=V", "name is empty");
	expect_err(hq_parse_env("", &k, &v, &eb), &eb, "", "name is empty");
	expect_err(hq_parse_env("=", &k, &v, &eb), &eb, "=",
	    "Invalid environment variable \"=\"");
	assert_null(k);
	assert_null(v);
}

static void
test_parse_stdio(void **state)
{
	static const struct {
		const char *in;
		enum hq_stdio_kind kind;
		const char *path;
		bool rm;
	} t[] = {
		{ "none", HQ_STDIO_NONE, NULL, false },
		{ "out.txt", HQ_STDIO_FILE, "out.txt", false },
		{ "/a/%{TASK_ID}.out", HQ_STDIO_FILE, "/a/%{TASK_ID}.out",
		    false },
		{ "out.txt:rm-if-finished", HQ_STDIO_FILE, "out.txt", true },
		{ ":rm-if-finished", HQ_STDIO_FILE, NULL, true },
		{ "a:b", HQ_STDIO_FILE, "a:b", false },
		{ "rm-if-finished", HQ_STDIO_FILE, "rm-if-finished", false },
		{ "None", HQ_STDIO_FILE, "None", false },
		{ "x:rm-if-finished:rm-if-finished", HQ_STDIO_FILE,
		    "x:rm-if-finished", true },
	};
	struct hq_stdio io;
	struct hq_errbuf eb;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++) {
		memset(&io, 0xff, sizeof io);
		assert_int_equal(hq_parse_stdio(t[i].in, &io, &eb), 0);
		assert_int_equal(io.kind, t[i].kind);
		assert_int_equal(io.rm_if_finished, t[i].rm);
		if (t[i].path == NULL)
			assert_null(io.path);
		else
			assert_string_equal(io.path, t[i].path);
		free(io.path);
	}
	io.kind = HQ_STDIO_STREAM;
	expect_err(hq_parse_stdio("", &io, &eb), &eb, "", "Invalid output");
	assert_int_equal(io.kind, HQ_STDIO_STREAM);
}

static void
test_parse_crash_limit(void **state)
{
	static const struct {
		const char *in;
		int32_t v;
	} good[] = {
		{ "1", 1 },
		{ "5", 5 },
		{ "65535", 65535 },
		{ "never-restart", HQ_CRASH_NEVER_RESTART },
		{ "unlimited", HQ_CRASH_UNLIMITED },
	};
	static const char *const bad[] = { "0", "", "-1", "65536", "never",
		"Unlimited", "1.5", "x" };
	struct hq_errbuf eb;
	int32_t v;
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(good); i++) {
		assert_int_equal(hq_parse_crash_limit(good[i].in, &v, &eb), 0);
		assert_int_equal(v, good[i].v);
	}
	for (i = 0; i < HQ_ARRAY_LEN(bad); i++) {
		v = 99;
		expect_err(hq_parse_crash_limit(bad[i], &v, &eb), &eb, bad[i],
		    "Invalid crash limit");
		assert_int_equal(v, 99);
	}
}

/* ---- word splitting ---------------------------------------------------- */

/* Words joined by "|" for comparison. */
static char *
words_str(char **v, int n)
{
	struct hq_buf b;
	int i;

	hq_buf_init(&b);
	for (i = 0; i < n; i++)
		hq_buf_printf(&b, "%s%s", i ? "|" : "", v[i]);
	hq_buf_append(&b, "", 1);
	assert_null(v[n]);
	return (char *)b.data;
}

typedef int split_fn(const char *, char ***, int *, struct hq_errbuf *);

static void
check_split(split_fn *fn, const char *in, int argc, const char *want)
{
	struct hq_errbuf eb;
	char **v = NULL;
	int n = -1;
	char *got;

	if (fn(in, &v, &n, &eb) != 0)
		fail_msg("\"%s\": %s", in, eb.msg);
	got = words_str(v, n);
	if (n != argc || strcmp(got, want) != 0)
		fail_msg("\"%s\": got %d \"%s\", want %d \"%s\"", in, n, got,
		    argc, want);
	free(got);
	hq_strv_free(v);
}

static void
test_parse_split_directive(void **state)
{
	struct hq_errbuf eb;
	char **v = NULL;
	int n = -1;

	(void)state;
	check_split(hq_split_directive, "", 0, "");
	check_split(hq_split_directive, "   ", 0, "");
	check_split(hq_split_directive, "--cpus 4", 2, "--cpus|4");
	check_split(hq_split_directive, "  --cpus=4\t--name  x  ", 3,
	    "--cpus=4|--name|x");
	check_split(hq_split_directive, "--name \"a b\"", 2, "--name|a b");
	check_split(hq_split_directive, "--name=\"a b\"", 1, "--name=a b");
	check_split(hq_split_directive, "\"\"", 1, "");
	check_split(hq_split_directive, "a \"\" b", 3, "a||b");
	check_split(hq_split_directive, "\"a \\\"q\\\" b\"", 1, "a \"q\" b");
	check_split(hq_split_directive, "'a b'", 2, "'a|b'");
	check_split(hq_split_directive, "it's", 1, "it's");
	check_split(hq_split_directive, "a\\ b", 1, "a b");
	check_split(hq_split_directive, "a\\\"b", 1, "a\"b");
	check_split(hq_split_directive, "a\\nb", 1, "a\\nb");
	check_split(hq_split_directive, "\"a\\\\\"", 1, "a\\");
	check_split(hq_split_directive, "\"a\\b\"", 1, "a\\b");
	check_split(hq_split_directive, "\"a\"\"b\"", 1, "ab");
	check_split(hq_split_directive, "x\"a b\"y", 1, "xa by");
	check_split(hq_split_directive, "$HOME", 1, "$HOME");

	expect_err(hq_split_directive("--name \"abc", &v, &n, &eb), &eb,
	    "--name \"abc", "unterminated double quote at column 8");
	expect_err(hq_split_directive("\"a\\\"", &v, &n, &eb), &eb, "\"a\\\"",
	    "unterminated");
	assert_null(v);
	assert_int_equal(n, -1);
}

static void
test_parse_split_shell(void **state)
{
	struct hq_errbuf eb;
	char **v = NULL;
	int n = -1;

	(void)state;
	check_split(hq_split_shell, "", 0, "");
	check_split(hq_split_shell, "echo hello", 2, "echo|hello");
	check_split(hq_split_shell, " a\tb\nc ", 3, "a|b|c");
	check_split(hq_split_shell, "'a b' c", 2, "a b|c");
	check_split(hq_split_shell, "'a\\b'", 1, "a\\b");
	check_split(hq_split_shell, "'a\"b'", 1, "a\"b");
	check_split(hq_split_shell, "\"a 'b' c\"", 1, "a 'b' c");
	check_split(hq_split_shell, "\"a \\\" \\\\ \\$ \\` \\x\"", 1,
	    "a \" \\ $ ` \\x");
	check_split(hq_split_shell, "a\\ b", 1, "a b");
	check_split(hq_split_shell, "\\'a", 1, "'a");
	check_split(hq_split_shell, "a\\\nb", 1, "ab");
	check_split(hq_split_shell, "\"a\\\nb\"", 1, "ab");
	check_split(hq_split_shell, "''", 1, "");
	check_split(hq_split_shell, "a '' b", 3, "a||b");
	check_split(hq_split_shell, "x'y'\"z\"", 1, "xyz");
	check_split(hq_split_shell, "sh -c 'echo $HQ_JOB_ID'", 3,
	    "sh|-c|echo $HQ_JOB_ID");

	expect_err(hq_split_shell("'abc", &v, &n, &eb), &eb, "'abc",
	    "unterminated single quote at column 1");
	expect_err(hq_split_shell("a \"abc", &v, &n, &eb), &eb, "a \"abc",
	    "unterminated double quote at column 3");
	expect_err(hq_split_shell("abc\\", &v, &n, &eb), &eb, "abc\\",
	    "trailing backslash");
	assert_null(v);
	assert_int_equal(n, -1);
	hq_strv_free(NULL);
}

static void
test_parse_path_join(void **state)
{
	static const struct {
		const char *base, *path, *want;
	} t[] = {
		{ "/a", "b", "/a/b" },
		{ "/a/", "b", "/a/b" },
		{ "/a", "/x/y", "/x/y" },
		{ "/a", "./b", "/a/b" },
		{ "/a", "././b/c", "/a/b/c" },
		{ "/a", ".//b", "/a/b" },
		{ "/a", ".", "/a" },
		{ "/a", "./", "/a" },
		{ "/a", "", "/a" },
		{ "/", "b", "/b" },
		{ "/", ".", "/" },
		{ "/a", "../b", "/a/../b" },
		{ "/a", ".hidden", "/a/.hidden" },
		{ "/a", "b/./c", "/a/b/./c" },
		{ "rel", "b", "rel/b" },
		{ "", "b", "b" },
		{ "/a", "%{CWD}/x", "/a/%{CWD}/x" },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++) {
		got = hq_path_join(t[i].base, t[i].path);
		if (strcmp(got, t[i].want) != 0)
			fail_msg("(\"%s\", \"%s\"): got \"%s\", want \"%s\"",
			    t[i].base, t[i].path, got, t[i].want);
		free(got);
	}
}

/* A long input is quoted shortened, and the explanation still fits. */
static void
test_parse_long_input_message(void **state)
{
	struct hq_errbuf eb;
	struct hq_idset s;
	uint64_t v;
	char in[2000];

	(void)state;
	memset(in, 'x', sizeof in - 1);
	in[sizeof in - 1] = '\0';
	assert_int_equal(hq_parse_amount(in, &v, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "...\": expected a number"));
	memset(in, '1', 1000);
	strcpy(in + 1000, "x");
	assert_int_equal(hq_parse_idset(in, &s, &eb), HQ_EINVAL);
	assert_true(strlen(eb.msg) < sizeof eb.msg - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_idset_good),
		cmocka_unit_test(test_parse_idset_bad),
		cmocka_unit_test(test_parse_idset_message),
		cmocka_unit_test(test_parse_idset_overlap_random),
		cmocka_unit_test(test_idset_find_overlap_random),
		cmocka_unit_test(test_parse_idset_many_open_items),
		cmocka_unit_test(test_parse_selector_keywords),
		cmocka_unit_test(test_parse_selector_ids),
		cmocka_unit_test(test_parse_selector_single),
		cmocka_unit_test(test_parse_numbers_good),
		cmocka_unit_test(test_parse_numbers_bad),
		cmocka_unit_test(test_parse_duration_good),
		cmocka_unit_test(test_parse_duration_bad),
		cmocka_unit_test(test_parse_humantime_only),
		cmocka_unit_test(test_parse_amount),
		cmocka_unit_test(test_parse_env),
		cmocka_unit_test(test_parse_stdio),
		cmocka_unit_test(test_parse_crash_limit),
		cmocka_unit_test(test_parse_split_directive),
		cmocka_unit_test(test_parse_split_shell),
		cmocka_unit_test(test_parse_path_join),
		cmocka_unit_test(test_parse_long_input_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
