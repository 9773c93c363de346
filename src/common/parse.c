/* SPDX-License-Identifier: MIT */
/* Parsers for the command-line value syntaxes; the contracts are in parse.h. */
#include "common/parse.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Messages quote the input, but a huge argument must not push the
 * explanation out of the 512-byte buffer: quote at most QMAX bytes.
 */
#define QMAX	160
#define QFMT	"\"%.*s%s\""
#define QARG(s) parse_qlen(s), (s), (strlen(s) > QMAX ? "..." : "")

/* Outcomes of parse_digits(). */
enum {
	NUM_OK = 0,
	NUM_NODIGIT,
	NUM_RANGE,
};

static int
parse_qlen(const char *s)
{
	size_t n = strlen(s);

	return (int)(n > QMAX ? QMAX : n);
}

static bool
parse_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
parse_isblank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
parse_isalpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *
parse_skip_blanks(const char *p)
{
	while (parse_isblank(*p))
		p++;
	return p;
}

/*
 * Read "[0-9][0-9_]*" at *pp into *out, failing if the value exceeds 'max'.
 * On NUM_OK and NUM_RANGE *pp is advanced past the digits; *out is set
 * only on NUM_OK.
 */
static int
parse_digits(const char **pp, uint64_t max, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0, d;
	bool over = false;

	if (!parse_isdigit(*p))
		return NUM_NODIGIT;
	for (; parse_isdigit(*p) || *p == '_'; p++) {
		if (*p == '_')
			continue;
		d = (uint64_t)(*p - '0');
		if (over || v > (max - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	*pp = p;
	if (over)
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

/* A whole string as an unsigned integer of at most 'max'. */
static int
parse_unsigned(const char *s, uint64_t max, uint64_t *out, struct hq_errbuf *eb)
{
	const char *p = s;
	uint64_t v = 0;
	int r;

	r = parse_digits(&p, max, &v);
	if (r == NUM_NODIGIT || *p != '\0')
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid number " QFMT ": expected a non-negative integer",
		    QARG(s));
	if (r == NUM_RANGE)
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid number " QFMT ": out of range (maximum %" PRIu64
		    ")",
		    QARG(s), max);
	*out = v;
	return 0;
}

int
hq_parse_u64(const char *s, uint64_t *out, struct hq_errbuf *eb)
{
	return parse_unsigned(s, UINT64_MAX, out, eb);
}

int
hq_parse_u32(const char *s, uint32_t *out, struct hq_errbuf *eb)
{
	uint64_t v;
	int rc;

	if ((rc = parse_unsigned(s, UINT32_MAX, &v, eb)) != 0)
		return rc;
	*out = (uint32_t)v;
	return 0;
}

int
hq_parse_u16(const char *s, uint16_t *out, struct hq_errbuf *eb)
{
	uint64_t v;
	int rc;

	if ((rc = parse_unsigned(s, UINT16_MAX, &v, eb)) != 0)
		return rc;
	*out = (uint16_t)v;
	return 0;
}

int
hq_parse_i32(const char *s, int32_t *out, struct hq_errbuf *eb)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0, max;
	int r;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	max = neg ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX;
	r = parse_digits(&p, max, &v);
	if (r == NUM_NODIGIT || *p != '\0')
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid number " QFMT ": expected an integer", QARG(s));
	if (r == NUM_RANGE)
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid number " QFMT ": out of range (%" PRId32
		    " to %" PRId32 ")",
		    QARG(s), INT32_MIN, INT32_MAX);
	*out = neg ? (int32_t)(-(int64_t)v) : (int32_t)v;
	return 0;
}

int
hq_parse_f64(const char *s, double *out, struct hq_errbuf *eb)
{
	const char *p = s;
	char *end;
	size_t ndig = 0;
	double v;

	/* Check the shape first: strtod() would also take hex, inf, nan. */
	if (*p == '-' || *p == '+')
		p++;
	for (; parse_isdigit(*p); p++)
		ndig++;
	if (*p == '.')
		for (p++; parse_isdigit(*p); p++)
			ndig++;
	if (ndig > 0 && (*p == 'e' || *p == 'E')) {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!parse_isdigit(*p))
			ndig = 0;
		while (parse_isdigit(*p))
			p++;
	}
	if (ndig == 0 || *p != '\0')
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid number " QFMT ": expected a decimal number",
		    QARG(s));
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v))
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid number " QFMT ": out of range", QARG(s));
	*out = v;
	return 0;
}

/* ---- id sets ----------------------------------------------------------- */

/* One parsed IntArray item and where it was in the input. */
struct parse_item {
	uint32_t first, last, step, count;
	const char *txt;
	int len;
};

static uint64_t
parse_gcd(uint64_t a, uint64_t b)
{
	uint64_t t;

	while (b != 0) {
		t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Inverse of a modulo m, for gcd(a, m) == 1 and 1 <= m < 2^32. */
static uint64_t
parse_mod_inverse(uint64_t a, uint64_t m)
{
	int64_t t = 0, nt = 1, r = (int64_t)m, nr = (int64_t)(a % m);
	int64_t q, tmp;

	while (nr != 0) {
		q = r / nr;
		tmp = t - q * nt;
		t = nt;
		nt = tmp;
		tmp = r - q * nr;
		r = nr;
		nr = tmp;
	}
	if (t < 0)
		t += (int64_t)m;
	return (uint64_t)t % m;
}

/*
 * Whether two arithmetic progressions share an id. Solves the pair of
 * congruences (CRT) instead of walking them: a stepped range can hold
 * billions of ids.
 */
static bool
parse_items_meet(const struct parse_item *a, const struct parse_item *b)
{
	uint64_t lo = HQ_MAX(a->first, b->first);
	uint64_t hi = HQ_MIN(a->last, b->last);
	uint64_t g, m, rhs, k, x0, lcm, d, r;
	int64_t diff;

	if (lo > hi)
		return false;
	g = parse_gcd(a->step, b->step);
	diff = (int64_t)b->first - (int64_t)a->first;
	if (diff % (int64_t)g != 0)
		return false;
	m = b->step / g;
	rhs = (uint64_t)(((diff / (int64_t)g) % (int64_t)m + (int64_t)m) %
	    (int64_t)m);
	k = rhs * parse_mod_inverse((a->step / g) % m, m) % m;
	/* Fits: a->step * k < 2^64 - 2^33 and a->first < 2^32. */
	x0 = a->first + (uint64_t)a->step * k;
	lcm = (a->step / g) * (uint64_t)b->step;
	if (x0 >= lo) {
		d = (x0 - lo) % lcm;
	} else {
		r = (lo - x0) % lcm;
		d = r ? lcm - r : 0;
	}
	return d <= hi - lo;
}

static int
parse_item_cmp(const void *x, const void *y)
{
	const struct parse_item *a = *(const struct parse_item *const *)x;
	const struct parse_item *b = *(const struct parse_item *const *)y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a < b ? -1 : (a > b);
}

static int
parse_u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : (a > b);
}

/* With more items open at once than this, the sweep below could take
 * quadratic time: expand the ids and sort them instead. */
#define PARSE_SWEEP_MAX_OPEN 64

/*
 * Find two items sharing an id; *x and *y (indices into items, x < y) say
 * which. Sweep by start keeping the items still "open" at the current
 * start; only those can meet the next one. Returns 1 for a pair, 0 for
 * none, -1 when too many items are open at once (the caller decides).
 */
static int
parse_items_overlap(const struct parse_item *items, size_t n, size_t *x,
    size_t *y)
{
	const struct parse_item **sorted, **act;
	size_t i, j, k, nact = 0;
	int found = 0;

	if (n < 2)
		return 0;
	sorted = hq_xcalloc(n, sizeof *sorted);
	act = hq_xcalloc(n, sizeof *act);
	for (i = 0; i < n; i++)
		sorted[i] = &items[i];
	qsort(sorted, n, sizeof *sorted, parse_item_cmp);
	for (i = 0; i < n && found == 0; i++) {
		for (j = k = 0; j < nact; j++)
			if (act[j]->last >= sorted[i]->first)
				act[k++] = act[j];
		nact = k;
		for (j = 0; j < nact && found == 0; j++) {
			if (!parse_items_meet(act[j], sorted[i]))
				continue;
			*x = (size_t)(HQ_MIN(act[j], sorted[i]) - items);
			*y = (size_t)(HQ_MAX(act[j], sorted[i]) - items);
			found = 1;
		}
		if (nact == PARSE_SWEEP_MAX_OPEN)
			found = found ? found : -1;
		act[nact++] = sorted[i];
	}
	free(act);
	free(sorted);
	return found;
}

static int
parse_items_check(const char *s, const struct parse_item *items, size_t n,
    struct hq_errbuf *eb)
{
	struct hq_idset set = { 0 };
	size_t x = 0, y = 0;
	uint32_t dup;
	bool twice;

	switch (parse_items_overlap(items, n, &x, &y)) {
	case 0:
		return 0;
	case 1:
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid id range " QFMT ": items \"%.*s\" and "
		    "\"%.*s\" overlap",
		    QARG(s), HQ_MIN(items[x].len, 40), items[x].txt,
		    HQ_MIN(items[y].len, 40), items[y].txt);
	default:
		for (x = 0; x < n; x++)
			hq_idset_add_range(&set, items[x].first, items[x].count,
			    items[x].step);
		twice = hq_idset_find_overlap(&set, &dup);
		hq_idset_fini(&set);
		if (!twice)
			return 0;
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid id range " QFMT ": id %u is given twice", QARG(s),
		    dup);
	}
}

bool
hq_idset_find_overlap(const struct hq_idset *s, uint32_t *dup)
{
	struct parse_item *items;
	uint32_t *ids, i, k;
	uint64_t total = 0;
	size_t x = 0, y = 0, n = 0;
	int found;

	items = hq_xcalloc(s->n ? s->n : 1, sizeof *items);
	for (i = 0; i < s->n; i++) {
		const struct hq_idrange *r = &s->r[i];

		if (r->count == 0)
			continue;
		items[n].first = r->start;
		items[n].step = r->step ? r->step : 1;
		items[n].count = r->count;
		items[n].last = r->start + (r->count - 1) * items[n].step;
		total += r->count;
		n++;
	}
	found = parse_items_overlap(items, n, &x, &y);
	if (found == 1) {
		/* The first id of y that x also holds. */
		for (k = 0; k < items[y].count; k++) {
			uint32_t id = items[y].first + k * items[y].step;
			const struct parse_item *a = &items[x];

			if (id >= a->first && id <= a->last &&
			    (id - a->first) % a->step == 0) {
				*dup = id;
				break;
			}
		}
	} else if (found == -1) {
		/* Many ranges open at once: sort every id (at most the
		 * tasks the submit would create anyway). */
		ids = hq_xcalloc(total, sizeof *ids);
		for (i = 0, total = 0; i < n; i++)
			for (k = 0; k < items[i].count; k++)
				ids[total++] =
				    items[i].first + k * items[i].step;
		qsort(ids, total, sizeof *ids, parse_u32_cmp);
		found = 0;
		for (k = 1; k < total && !found; k++)
			if (ids[k] == ids[k - 1]) {
				*dup = ids[k];
				found = 1;
			}
		free(ids);
	}
	free(items);
	return found == 1;
}

/* Item-level error: quote just the item, which is what the user got wrong. */
static int
parse_item_err(struct hq_errbuf *eb, const char *start, const char *why,
    const char *at)
{
	size_t len = strcspn(start, ",");

	while (len > 0 && parse_isblank(start[len - 1]))
		len--;
	if (len > QMAX)
		len = QMAX;
	if (at != NULL && *at == '\0')
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid id range \"%.*s\": %s the end", (int)len, start,
		    why);
	if (at != NULL)
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid id range \"%.*s\": %s \"%.*s\"", (int)len, start,
		    why, (int)strcspn(at, ","), at);
	return hq_errf(eb, HQ_EINVAL, "Invalid id range \"%.*s\": %s", (int)len,
	    start, why);
}

/* One number of the item that starts at 'start'. */
static int
parse_item_num(const char **pp, const char *start, uint64_t *v,
    struct hq_errbuf *eb)
{
	int r = parse_digits(pp, UINT32_MAX, v);

	if (r == NUM_RANGE)
		return parse_item_err(eb, start,
		    "number out of range (maximum 4294967295)", NULL);
	if (r == NUM_NODIGIT)
		return parse_item_err(eb, start, "expected a number at", *pp);
	return 0;
}

/* Parse one "N", "A-B" or "A-B:S" at *pp. */
static int
parse_item(const char **pp, struct parse_item *it, struct hq_errbuf *eb)
{
	const char *start = *pp, *p = *pp;
	uint64_t a, b, step = 1, count;
	int rc;

	if ((rc = parse_item_num(&p, start, &a, eb)) != 0)
		return rc;
	b = a;
	if (*p == '-') {
		p++;
		if ((rc = parse_item_num(&p, start, &b, eb)) != 0)
			return rc;
		if (b < a)
			return parse_item_err(eb, start,
			    "start is greater than end", NULL);
		if (*p == ':') {
			p++;
			if ((rc = parse_item_num(&p, start, &step, eb)) != 0)
				return rc;
			if (step == 0)
				return parse_item_err(eb, start,
				    "step must be greater than 0", NULL);
			if (step > b - a)
				return parse_item_err(eb, start,
				    "step is greater than end - start", NULL);
		}
	}
	count = (b - a) / step + 1;
	if (count > UINT32_MAX)
		return parse_item_err(eb, start, "too many ids", NULL);
	it->first = (uint32_t)a;
	it->last = (uint32_t)(a + (count - 1) * step);
	it->step = (uint32_t)step;
	it->count = (uint32_t)count;
	it->txt = start;
	it->len = (int)(p - start);
	*pp = p;
	return 0;
}

int
hq_parse_idset(const char *s, struct hq_idset *out, struct hq_errbuf *eb)
{
	struct parse_item *items = NULL, it;
	size_t n = 0, cap = 0, i;
	struct hq_idset set = { 0 };
	const char *p = s;
	int rc = 0;

	if (*parse_skip_blanks(s) == '\0') {
		rc = hq_errf(eb, HQ_EINVAL,
		    "Invalid id range " QFMT ": no ids given", QARG(s));
		goto out;
	}
	for (;;) {
		p = parse_skip_blanks(p);
		if (*p == ',' || *p == '\0') {
			rc = hq_errf(eb, HQ_EINVAL,
			    "Invalid id range " QFMT ": empty item", QARG(s));
			goto out;
		}
		if ((rc = parse_item(&p, &it, eb)) != 0)
			goto out;
		HQ_VEC_PUSH(items, n, cap, it);
		p = parse_skip_blanks(p);
		if (*p == '\0')
			break;
		if (*p != ',') {
			rc = parse_item_err(eb, it.txt, "unexpected", p);
			goto out;
		}
		p++;
	}
	if ((rc = parse_items_check(s, items, n, eb)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		hq_idset_add_range(&set, items[i].first, items[i].count,
		    items[i].step);
	*out = set;
out:
	free(items);
	return rc;
}

void
hq_selector_fini(struct hq_selector *s)
{
	hq_idset_fini(&s->ids);
}

int
hq_parse_selector(const char *s, int allow, struct hq_selector *out,
    struct hq_errbuf *eb)
{
	struct hq_idset ids = { 0 };
	const char *forms;
	uint32_t id;
	int rc;

	if (allow & HQ_SEL_SINGLE)
		forms = (allow & HQ_SEL_ALLOW_LAST) ? "a single id or \"last\""
						    : "a single id";
	else if ((allow & HQ_SEL_ALLOW_LAST) && (allow & HQ_SEL_ALLOW_ALL))
		forms = "\"last\", \"all\" or ids (e.g. 1,3,5-8)";
	else if (allow & HQ_SEL_ALLOW_LAST)
		forms = "\"last\" or ids (e.g. 1,3,5-8)";
	else if (allow & HQ_SEL_ALLOW_ALL)
		forms = "\"all\" or ids (e.g. 1,3,5-8)";
	else
		forms = "ids (e.g. 1,3,5-8)";

	if (strcmp(s, "last") == 0 || strcmp(s, "all") == 0) {
		bool last = s[0] == 'l';

		if (last ? !(allow & HQ_SEL_ALLOW_LAST)
			 : (!(allow & HQ_SEL_ALLOW_ALL) ||
			       (allow & HQ_SEL_SINGLE)))
			return hq_errf(eb, HQ_EINVAL,
			    "Invalid selector \"%s\": not allowed here; "
			    "expected %s",
			    s, forms);
		out->kind = last ? HQ_SEL_LAST : HQ_SEL_ALL;
		out->ids = ids;
		return 0;
	}
	if (allow & HQ_SEL_SINGLE) {
		if (hq_parse_u32(s, &id, NULL) != 0)
			return hq_errf(eb, HQ_EINVAL,
			    "Invalid id " QFMT ": expected %s", QARG(s), forms);
		hq_idset_add_range(&ids, id, 1, 1);
	} else {
		/* A word is a misspelt keyword, not a broken id range. */
		if (parse_isalpha(*parse_skip_blanks(s)))
			return hq_errf(eb, HQ_EINVAL,
			    "Invalid selector " QFMT ": expected %s", QARG(s),
			    forms);
		if ((rc = hq_parse_idset(s, &ids, eb)) != 0)
			return rc;
	}
	out->kind = HQ_SEL_IDS;
	out->ids = ids;
	return 0;
}

/* ---- durations --------------------------------------------------------- */

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS  1000000ull

/* A time unit: 'mult' seconds each, or 'mult' nanoseconds if 'sub'. */
struct parse_unit {
	const char *name;
	uint64_t mult;
	bool sub;
};

static const struct parse_unit parse_units[] = {
	{ "ns", 1, true },
	{ "nsec", 1, true },
	{ "nanos", 1, true },
	{ "us", 1000, true },
	{ "usec", 1000, true },
	{ "ms", NS_PER_MS, true },
	{ "msec", NS_PER_MS, true },
	{ "millis", NS_PER_MS, true },
	{ "s", 1, false },
	{ "sec", 1, false },
	{ "secs", 1, false },
	{ "second", 1, false },
	{ "seconds", 1, false },
	{ "m", 60, false },
	{ "min", 60, false },
	{ "mins", 60, false },
	{ "minute", 60, false },
	{ "minutes", 60, false },
	{ "h", 3600, false },
	{ "hr", 3600, false },
	{ "hrs", 3600, false },
	{ "hour", 3600, false },
	{ "hours", 3600, false },
	{ "d", 86400, false },
	{ "day", 86400, false },
	{ "days", 86400, false },
	{ "w", 7 * 86400, false },
	{ "week", 7 * 86400, false },
	{ "weeks", 7 * 86400, false },
	{ "M", 2630016, false }, /* 30.44 days */
	{ "month", 2630016, false },
	{ "months", 2630016, false },
	{ "y", 31557600, false }, /* 365.25 days */
	{ "year", 31557600, false },
	{ "years", 31557600, false },
};

static const struct parse_unit *
parse_find_unit(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < HQ_ARRAY_LEN(parse_units); i++)
		if (strlen(parse_units[i].name) == len &&
		    memcmp(parse_units[i].name, p, len) == 0)
			return &parse_units[i];
	return NULL;
}

static int parse_dur_err(struct hq_errbuf *eb, const char *s, bool hms,
    const char *fmt, ...) HQ_PRINTF(4, 5);

/* "Invalid duration "<s>": <why>", plus the accepted forms. */
static int
parse_dur_err(struct hq_errbuf *eb, const char *s, bool hms, const char *fmt,
    ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return hq_errf(eb, HQ_EINVAL,
	    "Invalid duration " QFMT ": %s; use %shumantime (e.g. \"1h 30m\", "
	    "\"90s\", \"500ms\")",
	    QARG(s), why, hms ? "[[HH:]MM:]SS or " : "");
}

static int
parse_human(const char *s, bool hms, uint64_t *ms, struct hq_errbuf *eb)
{
	const struct parse_unit *u;
	const char *p, *ustart;
	uint64_t n, secs = 0, nanos = 0, v, d, total;

	p = parse_skip_blanks(s);
	if (*p == '\0')
		return parse_dur_err(eb, s, hms, "empty value");
	while (*p != '\0') {
		if (!parse_isdigit(*p))
			return parse_dur_err(eb, s, hms,
			    "expected a number at \"%.20s\"", p);
		for (n = 0; parse_isdigit(*p); p++) {
			d = (uint64_t)(*p - '0');
			if (n > (UINT64_MAX - d) / 10)
				return parse_dur_err(eb, s, hms,
				    "number is too large");
			n = n * 10 + d;
		}
		p = parse_skip_blanks(p);
		for (ustart = p; parse_isalpha(*p); p++)
			;
		if (p == ustart) {
			if (*p == '\0')
				return parse_dur_err(eb, s, hms,
				    "time unit needed after %" PRIu64
				    " (e.g. %" PRIu64 "s or %" PRIu64 "ms)",
				    n, n, n);
			return parse_dur_err(eb, s, hms,
			    "unexpected character '%c'", *p);
		}
		if ((u = parse_find_unit(ustart, (size_t)(p - ustart))) == NULL)
			return parse_dur_err(eb, s, hms,
			    "unknown time unit \"%.*s\" (known: ns, us, ms, s, "
			    "m, h, d, w, M, y and their long forms)",
			    (int)HQ_MIN(p - ustart, 20), ustart);
		if (n > UINT64_MAX / u->mult)
			return parse_dur_err(eb, s, hms, "value is too large");
		v = n * u->mult;
		if (u->sub) {
			if (nanos > UINT64_MAX - v)
				return parse_dur_err(eb, s, hms,
				    "value is too large");
			nanos += v;
			v = nanos / NS_PER_SEC;
			nanos %= NS_PER_SEC;
		}
		if (secs > UINT64_MAX - v)
			return parse_dur_err(eb, s, hms, "value is too large");
		secs += v;
		if (*p != '\0' && !parse_isdigit(*p) && !parse_isblank(*p))
			return parse_dur_err(eb, s, hms,
			    "unexpected character '%c'", *p);
		p = parse_skip_blanks(p);
	}
	if (secs > (UINT64_MAX - nanos / NS_PER_MS) / 1000)
		return parse_dur_err(eb, s, hms, "value is too large");
	total = secs * 1000 + nanos / NS_PER_MS;
	if (total == 0 && nanos != 0)
		total = 1; /* "500us" must not become "no limit" */
	*ms = total;
	return 0;
}

/* "[[HH:]MM:]SS"; false if 's' does not have that shape. */
static bool
parse_hms(const char *s, uint64_t *ms)
{
	const char *p = s;
	uint64_t f[3];
	int n = 0;

	for (;;) {
		if (parse_digits(&p, UINT32_MAX, &f[n]) != NUM_OK)
			return false;
		n++;
		if (*p == '\0')
			break;
		if (*p != ':' || n == 3)
			return false;
		p++;
	}
	if (n == 1)
		*ms = f[0] * 1000;
	else if (n == 2)
		*ms = (f[0] * 60 + f[1]) * 1000;
	else
		*ms = (f[0] * 3600 + f[1] * 60 + f[2]) * 1000;
	return true;
}

int
hq_parse_duration(const char *s, uint64_t *ms, struct hq_errbuf *eb)
{
	if (parse_hms(s, ms))
		return 0;
	/* Only digits and colons: a broken HH:MM:SS, not humantime. */
	if (strchr(s, ':') != NULL && s[strspn(s, "0123456789_:")] == '\0')
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid duration " QFMT ": expected [[HH:]MM:]SS with "
		    "numbers below 2^32",
		    QARG(s));
	return parse_human(s, true, ms, eb);
}

int
hq_parse_humantime(const char *s, uint64_t *ms, struct hq_errbuf *eb)
{
	return parse_human(s, false, ms, eb);
}

/* ---- submit option values ---------------------------------------------- */

int
hq_parse_amount(const char *s, uint64_t *out, struct hq_errbuf *eb)
{
	const char *p = s;
	uint64_t ip = 0, frac = 0;
	int r, nd = 0;

	r = parse_digits(&p, UINT32_MAX, &ip);
	if (r == NUM_NODIGIT)
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid resource amount " QFMT ": expected a number "
		    "(e.g. 2 or 0.5)",
		    QARG(s));
	if (r == NUM_RANGE)
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid resource amount " QFMT ": out of range "
		    "(maximum %" PRIu32 ")",
		    QARG(s), UINT32_MAX);
	if (*p == '.') {
		p++;
		if (!parse_isdigit(*p))
			return hq_errf(eb, HQ_EINVAL,
			    "Invalid resource amount " QFMT
			    ": expected digits after '.'",
			    QARG(s));
		for (; parse_isdigit(*p) || *p == '_'; p++) {
			if (*p == '_')
				continue;
			if (++nd <= 4)
				frac = frac * 10 + (uint64_t)(*p - '0');
		}
		if (nd > 4)
			return hq_errf(eb, HQ_EINVAL,
			    "Invalid resource amount " QFMT
			    ": Resource precision exceeded (at most 4 "
			    "fractional digits)",
			    QARG(s));
		for (; nd < 4; nd++)
			frac *= 10;
	}
	if (*p != '\0')
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid resource amount " QFMT ": unexpected \"%.20s\"",
		    QARG(s), p);
	*out = ip * HQ_AMOUNT_ONE + frac;
	return 0;
}

int
hq_parse_env(const char *s, char **key, char **value, struct hq_errbuf *eb)
{
	const char *eq = strchr(s, '=');
	size_t klen = eq != NULL ? (size_t)(eq - s) : strlen(s);

	if (klen == 0)
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid environment variable " QFMT
		    ": the name is empty (expected KEY=VALUE)",
		    QARG(s));
	*key = hq_xstrndup(s, klen);
	*value = hq_xstrdup(eq != NULL ? eq + 1 : "");
	return 0;
}

#define RM_SUFFIX ":rm-if-finished"

int
hq_parse_stdio(const char *s, struct hq_stdio *out, struct hq_errbuf *eb)
{
	size_t len = strlen(s), slen = strlen(RM_SUFFIX);

	if (len == 0)
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid output specification \"\": expected \"none\", a "
		    "path, <path>" RM_SUFFIX " or " RM_SUFFIX);
	if (strcmp(s, "none") == 0) {
		out->kind = HQ_STDIO_NONE;
		out->path = NULL;
		out->rm_if_finished = false;
		return 0;
	}
	out->kind = HQ_STDIO_FILE;
	if (len >= slen && strcmp(s + len - slen, RM_SUFFIX) == 0) {
		out->rm_if_finished = true;
		out->path = len > slen ? hq_xstrndup(s, len - slen) : NULL;
	} else {
		out->rm_if_finished = false;
		out->path = hq_xstrdup(s);
	}
	return 0;
}

int
hq_parse_crash_limit(const char *s, int32_t *out, struct hq_errbuf *eb)
{
	uint16_t n;

	if (strcmp(s, "never-restart") == 0) {
		*out = HQ_CRASH_NEVER_RESTART;
		return 0;
	}
	if (strcmp(s, "unlimited") == 0) {
		*out = HQ_CRASH_UNLIMITED;
		return 0;
	}
	if (hq_parse_u16(s, &n, NULL) != 0 || n == 0)
		return hq_errf(eb, HQ_EINVAL,
		    "Invalid crash limit " QFMT ": expected a number from 1 "
		    "to 65535, \"never-restart\" or \"unlimited\"",
		    QARG(s));
	*out = n;
	return 0;
}

/* ---- word splitting ---------------------------------------------------- */

/* Words under construction; the splitters push bytes, then finish words. */
struct parse_words {
	char **v;
	size_t n, cap;
	char *w;
	size_t wlen, wcap;
	bool inword;
};

static void
parse_words_putc(struct parse_words *ws, char c)
{
	HQ_VEC_PUSH(ws->w, ws->wlen, ws->wcap, c);
	ws->inword = true;
}

static void
parse_words_end(struct parse_words *ws)
{
	if (!ws->inword)
		return;
	HQ_VEC_PUSH(ws->v, ws->n, ws->cap,
	    hq_xstrndup(ws->w ? ws->w : "", ws->wlen));
	ws->wlen = 0;
	ws->inword = false;
}

/* Hand the words to the caller, or free them on error. */
static int
parse_words_finish(struct parse_words *ws, int rc, char ***argvp, int *argcp)
{
	free(ws->w);
	HQ_VEC_PUSH(ws->v, ws->n, ws->cap, NULL);
	if (rc != 0) {
		hq_strv_free(ws->v);
		return rc;
	}
	*argvp = ws->v;
	*argcp = (int)(ws->n - 1);
	return 0;
}

int
hq_split_directive(const char *s, char ***argvp, int *argcp,
    struct hq_errbuf *eb)
{
	struct parse_words ws = { 0 };
	const char *p, *quote = NULL;
	int rc = 0;

	for (p = s; *p != '\0'; p++) {
		if (quote != NULL) {
			if (*p == '"')
				quote = NULL;
			else if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				parse_words_putc(&ws, *++p);
			else
				parse_words_putc(&ws, *p);
		} else if (parse_isblank(*p)) {
			parse_words_end(&ws);
		} else if (*p == '"') {
			quote = p;
			ws.inword = true; /* "" is an empty word */
		} else if (*p == '\\' &&
		    (parse_isblank(p[1]) || p[1] == '"' || p[1] == '\\')) {
			parse_words_putc(&ws, *++p);
		} else {
			parse_words_putc(&ws, *p);
		}
	}
	if (quote != NULL)
		rc = hq_errf(eb, HQ_EINVAL,
		    "Invalid directive arguments " QFMT
		    ": unterminated double quote at column %d",
		    QARG(s), (int)(quote - s) + 1);
	else
		parse_words_end(&ws);
	return parse_words_finish(&ws, rc, argvp, argcp);
}

int
hq_split_shell(const char *s, char ***argvp, int *argcp, struct hq_errbuf *eb)
{
	struct parse_words ws = { 0 };
	const char *p, *quote = NULL;
	int rc = 0;

	for (p = s; *p != '\0'; p++) {
		if (quote != NULL && *quote == '\'') {
			if (*p == '\'')
				quote = NULL;
			else
				parse_words_putc(&ws, *p);
		} else if (quote != NULL) {
			if (*p == '"')
				quote = NULL;
			else if (*p == '\\' && p[1] == '\n')
				p++;
			else if (*p == '\\' && p[1] != '\0' &&
			    strchr("\\\"$`", p[1]) != NULL)
				parse_words_putc(&ws, *++p);
			else
				parse_words_putc(&ws, *p);
		} else if (parse_isblank(*p)) {
			parse_words_end(&ws);
		} else if (*p == '\'' || *p == '"') {
			quote = p;
			ws.inword = true;
		} else if (*p == '\\') {
			if (p[1] == '\0') {
				rc = hq_errf(eb, HQ_EINVAL,
				    "Invalid command " QFMT
				    ": trailing backslash",
				    QARG(s));
				goto out;
			}
			if (*++p != '\n')
				parse_words_putc(&ws, *p);
		} else {
			parse_words_putc(&ws, *p);
		}
	}
	if (quote != NULL) {
		rc = hq_errf(eb, HQ_EINVAL,
		    "Invalid command " QFMT
		    ": unterminated %s quote at column %d",
		    QARG(s), *quote == '"' ? "double" : "single",
		    (int)(quote - s) + 1);
		goto out;
	}
	parse_words_end(&ws);
out:
	return parse_words_finish(&ws, rc, argvp, argcp);
}

void
hq_strv_free(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

char *
hq_path_join(const char *base, const char *path)
{
	size_t blen;

	if (path[0] == '/')
		return hq_xstrdup(path);
	for (;;) {
		if (path[0] == '.' && path[1] == '/') {
			for (path += 2; *path == '/'; path++)
				;
		} else if (path[0] == '.' && path[1] == '\0') {
			path++;
		} else {
			break;
		}
	}
	blen = strlen(base);
	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	if (*path == '\0')
		return hq_xstrndup(base, blen);
	if (blen == 0)
		return hq_xstrdup(path);
	if (blen == 1 && base[0] == '/')
		return hq_xprintf("/%s", path);
	return hq_xprintf("%.*s/%s", (int)blen, base, path);
}
