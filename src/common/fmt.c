/* SPDX-License-Identifier: MIT */
/* Formatting for the human and JSON outputs; the contracts are in fmt.h. */
#include "common/fmt.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

#define SECS_PER_YEAR  31557600ull /* 365.25 days, as humantime */
#define SECS_PER_MONTH 2630016ull  /* 30.44 days */
#define SECS_PER_DAY   86400ull

/* Keep data[len] a NUL so callers may read the buffer as a string. */
static void
fmt_terminate(struct hq_buf *out)
{
	*hq_buf_reserve(out, 1) = '\0';
}

static void
fmt_range(struct hq_buf *out, uint32_t first, uint32_t last, uint32_t step)
{
	if (first == last)
		hq_buf_printf(out, "%" PRIu32, first);
	else if (step == 1)
		hq_buf_printf(out, "%" PRIu32 "-%" PRIu32, first, last);
	else
		hq_buf_printf(out, "%" PRIu32 "-%" PRIu32 ":%" PRIu32, first,
		    last, step);
}

void
hq_fmt_idset(struct hq_buf *out, const struct hq_idset *s)
{
	const struct hq_idrange *r;
	bool first = true;
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		r = &s->r[i];
		if (r->count == 0)
			continue;
		if (!first)
			hq_buf_append_str(out, ",");
		fmt_range(out, r->start,
		    (uint32_t)(r->start + (uint64_t)(r->count - 1) * r->step),
		    r->step);
		first = false;
	}
	fmt_terminate(out);
}

void
hq_fmt_ids_sorted(struct hq_buf *out, const uint32_t *ids, size_t n)
{
	uint32_t first, last;
	size_t i;

	if (n == 0) {
		fmt_terminate(out);
		return;
	}
	first = last = ids[0];
	for (i = 1; i < n; i++) {
		if (ids[i] == last)
			continue;
		if ((uint64_t)ids[i] == (uint64_t)last + 1) {
			last = ids[i];
			continue;
		}
		fmt_range(out, first, last, 1);
		hq_buf_append_str(out, ",");
		first = last = ids[i];
	}
	fmt_range(out, first, last, 1);
	fmt_terminate(out);
}

/* One "<n><unit>" part, space-separated from the previous ones. */
static void
fmt_part(struct hq_buf *out, bool *started, uint64_t v, const char *unit,
    bool plural)
{
	if (v == 0)
		return;
	hq_buf_printf(out, "%s%" PRIu64 "%s%s", *started ? " " : "", v, unit,
	    plural && v > 1 ? "s" : "");
	*started = true;
}

void
hq_fmt_duration(struct hq_buf *out, uint64_t ms)
{
	uint64_t secs = ms / 1000, rest;
	bool started = false;

	if (ms == 0) {
		hq_buf_append_str(out, "0s");
		fmt_terminate(out);
		return;
	}
	fmt_part(out, &started, secs / SECS_PER_YEAR, "year", true);
	rest = secs % SECS_PER_YEAR;
	fmt_part(out, &started, rest / SECS_PER_MONTH, "month", true);
	rest %= SECS_PER_MONTH;
	fmt_part(out, &started, rest / SECS_PER_DAY, "day", true);
	rest %= SECS_PER_DAY;
	fmt_part(out, &started, rest / 3600, "h", false);
	fmt_part(out, &started, rest % 3600 / 60, "m", false);
	fmt_part(out, &started, rest % 60, "s", false);
	fmt_part(out, &started, ms % 1000, "ms", false);
	fmt_terminate(out);
}

void
hq_fmt_makespan(struct hq_buf *out, uint64_t ms)
{
	if (ms >= 3600 * 1000)
		ms -= ms % (60 * 1000);
	else if (ms >= 60 * 1000)
		ms -= ms % 1000;
	hq_fmt_duration(out, ms);
}

/* Broken-down time for ms since the epoch; false if it cannot be shown. */
static bool
fmt_tm(uint64_t ms, bool local, struct tm *tm)
{
	time_t t;

	if (ms / 1000 > (uint64_t)INT64_MAX)
		return false;
	t = (time_t)(ms / 1000);
	if (local)
		return localtime_r(&t, tm) != NULL;
	return gmtime_r(&t, tm) != NULL;
}

void
hq_fmt_rfc3339(struct hq_buf *out, uint64_t ms)
{
	struct tm tm;

	if (!fmt_tm(ms, false, &tm))
		memset(&tm, 0, sizeof tm); /* beyond year 2^31: not reached */
	hq_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu32 "Z",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (uint32_t)(ms % 1000) * 1000000u);
	fmt_terminate(out);
}

void
hq_fmt_utc(struct hq_buf *out, uint64_t ms)
{
	struct tm tm;

	if (!fmt_tm(ms, false, &tm))
		memset(&tm, 0, sizeof tm);
	hq_buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d UTC",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	fmt_terminate(out);
}

void
hq_fmt_local(struct hq_buf *out, uint64_t ms)
{
	struct tm tm;

	if (!fmt_tm(ms, true, &tm))
		memset(&tm, 0, sizeof tm);
	hq_buf_printf(out, "%02d.%02d.%04d %02d:%02d:%02d", tm.tm_mday,
	    tm.tm_mon + 1, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	fmt_terminate(out);
}

void
hq_fmt_size(struct hq_buf *out, uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB" };
	uint64_t unit = 1024 * 1024 * 1024;
	int i;

	for (i = 2; i >= 0; i--, unit /= 1024) {
		if (bytes >= 2 * unit) {
			hq_buf_printf(out, "%.2f %s",
			    (double)bytes / (double)unit, units[i]);
			fmt_terminate(out);
			return;
		}
	}
	hq_buf_printf(out, "%" PRIu64 " B", bytes);
	fmt_terminate(out);
}

void
hq_fmt_amount(struct hq_buf *out, uint64_t amount)
{
	uint64_t frac = amount % HQ_AMOUNT_ONE;
	char digits[8];
	int len;

	if (frac == 0) {
		hq_buf_printf(out, "%" PRIu64, amount / HQ_AMOUNT_ONE);
		fmt_terminate(out);
		return;
	}
	len = snprintf(digits, sizeof digits, "%04" PRIu64, frac);
	while (len > 0 && digits[len - 1] == '0')
		len--;
	hq_buf_printf(out, "%" PRIu64 ".%.*s", amount / HQ_AMOUNT_ONE, len,
	    digits);
	fmt_terminate(out);
}

double
hq_ms_to_secs(uint64_t ms)
{
	return (double)ms / 1000.0;
}
