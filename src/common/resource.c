/* SPDX-License-Identifier: MIT */
/*
 * Resource pools and requests: the command-line syntaxes of spec 2.9 and
 * the display forms of spec 3.1/3.2. See resource.h for the contracts.
 */
#include "common/resource.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fmt.h"
#include "common/parse.h"

/* ---- names --------------------------------------------------------------- */

bool
hq_res_name_valid(const char *name)
{
	const char *p;

	if (!isalpha((unsigned char)name[0]))
		return false;
	for (p = name + 1; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '/')
			return false;
	return true;
}

static char *
res_strip(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return hq_xstrndup(s, len);
}

int
hq_split_name_value(const char *arg, char **name, char **value,
    struct hq_errbuf *eb)
{
	const char *eq = strchr(arg, '=');
	char *n;

	if (eq == NULL)
		return hq_errf(eb, HQ_EINVAL,
		    "expected NAME=VALUE, got \"%s\" (no '=')", arg);
	n = res_strip(arg, (size_t)(eq - arg));
	if (!hq_res_name_valid(n)) {
		hq_errf(eb, HQ_EINVAL,
		    "invalid resource name \"%s\" in \"%s\" (expected "
		    "[A-Za-z][A-Za-z0-9/]*)",
		    n, arg);
		free(n);
		return HQ_EINVAL;
	}
	*name = n;
	*value = res_strip(eq + 1, strlen(eq + 1));
	return 0;
}

/* ---- pool definitions ---------------------------------------------------- */

/* Parser state for one pool definition. */
struct pdef {
	const char *name; /* resource name, for messages */
	const char *def;  /* the whole definition */
	const char *p;	  /* cursor */
	bool is_cpus;
	struct hq_errbuf *eb;
	/* labels collected so far, with group boundaries */
	char **labels;
	uint32_t nlabels, labels_cap;
	uint32_t *gstart;
	uint32_t ngstart, gstart_cap;
};

static int pdef_errf(struct pdef *d, const char *at, const char *fmt, ...)
    HQ_PRINTF(3, 4);

/* Reject the definition, naming the problem and the column of 'at'. */
static int
pdef_errf(struct pdef *d, const char *at, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (at == NULL)
		return hq_errf(d->eb, HQ_EINVAL,
		    "invalid definition of resource \"%s\" (\"%s\"): %s",
		    d->name, d->def, what);
	return hq_errf(d->eb, HQ_EINVAL,
	    "invalid definition of resource \"%s\" (\"%s\"): %s at column %zu",
	    d->name, d->def, what, (size_t)(at - d->def) + 1);
}

static void
pdef_skip_ws(struct pdef *d)
{
	while (isspace((unsigned char)*d->p))
		d->p++;
}

static void
pdef_free_labels(struct pdef *d)
{
	uint32_t i;

	for (i = 0; i < d->nlabels; i++)
		free(d->labels[i]);
	free(d->labels);
	free(d->gstart);
	d->labels = NULL;
	d->gstart = NULL;
	d->nlabels = d->labels_cap = d->ngstart = d->gstart_cap = 0;
}

static int
pdef_add_label(struct pdef *d, char *label, const char *at)
{
	if (d->nlabels >= HQ_RES_MAX_INDICES) {
		free(label);
		return pdef_errf(d, at, "more than %u indices",
		    HQ_RES_MAX_INDICES);
	}
	HQ_VEC_PUSH(d->labels, d->nlabels, d->labels_cap, label);
	return 0;
}

static void
pdef_start_group(struct pdef *d)
{
	HQ_VEC_PUSH(d->gstart, d->ngstart, d->gstart_cap, d->nlabels);
}

/* A u32 with '_' separators at the cursor. */
static int
pdef_u32(struct pdef *d, uint32_t *out)
{
	const char *start = d->p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*d->p))
		return pdef_errf(d, d->p, "expected a number");
	for (; isdigit((unsigned char)*d->p) || *d->p == '_'; d->p++) {
		if (*d->p == '_')
			continue;
		v = v * 10 + (uint64_t)(*d->p - '0');
		if (v > UINT32_MAX)
			return pdef_errf(d, start, "number too large");
	}
	*out = (uint32_t)v;
	return 0;
}

static int
pdef_expect(struct pdef *d, char c)
{
	pdef_skip_ws(d);
	if (*d->p != c) {
		if (*d->p == '\0')
			return pdef_errf(d, d->p,
			    "expected '%c', found the end", c);
		return pdef_errf(d, d->p, "expected '%c', found '%c'", c,
		    *d->p);
	}
	d->p++;
	return 0;
}

/* One label: "quoted" (with \" and \\) or a run of non-special chars. */
static int
pdef_label(struct pdef *d)
{
	const char *start = d->p;
	struct hq_buf b;
	int rc;

	hq_buf_init(&b);
	if (*d->p == '"') {
		for (d->p++; *d->p != '"'; d->p++) {
			if (*d->p == '\0') {
				hq_buf_fini(&b);
				return pdef_errf(d, start,
				    "unterminated quoted label");
			}
			if (*d->p == '\\' &&
			    (d->p[1] == '"' || d->p[1] == '\\'))
				d->p++;
			hq_buf_append(&b, d->p, 1);
		}
		d->p++;
	} else {
		while (*d->p != '\0' && !isspace((unsigned char)*d->p) &&
		    strchr("[],\"", *d->p) == NULL)
			hq_buf_append(&b, d->p++, 1);
	}
	if (b.len == 0) {
		hq_buf_fini(&b);
		return pdef_errf(d, start, "empty label");
	}
	hq_buf_append(&b, "", 1);
	rc = pdef_add_label(d, (char *)b.data, start);
	return rc;
}

/* "[" already consumed: labels up to and including "]". */
static int
pdef_label_list(struct pdef *d, const char *open)
{
	int rc;

	pdef_skip_ws(d);
	if (*d->p == ']')
		return pdef_errf(d, open, "empty list");
	for (;;) {
		if ((rc = pdef_label(d)) != 0)
			return rc;
		pdef_skip_ws(d);
		if (*d->p == ',') {
			d->p++;
			pdef_skip_ws(d);
			continue;
		}
		if (*d->p == ']') {
			d->p++;
			return 0;
		}
		if (*d->p == '\0')
			return pdef_errf(d, open, "unterminated list");
		return pdef_errf(d, d->p, "expected ',' or ']', found '%c'",
		    *d->p);
	}
}

/* "[a,b]" or "[[a,b],[c]]". */
static int
pdef_brackets(struct pdef *d)
{
	const char *open = d->p;
	const char *gopen;
	int rc;

	d->p++;
	pdef_skip_ws(d);
	if (*d->p != '[') {
		pdef_start_group(d);
		return pdef_label_list(d, open);
	}
	for (;;) {
		gopen = d->p;
		if (*d->p != '[')
			return pdef_errf(d, d->p, "expected '[' of a group");
		d->p++;
		pdef_skip_ws(d);
		if (*d->p == ']')
			return pdef_errf(d, gopen, "empty group");
		pdef_start_group(d);
		if ((rc = pdef_label_list(d, gopen)) != 0)
			return rc;
		pdef_skip_ws(d);
		if (*d->p == ',') {
			d->p++;
			pdef_skip_ws(d);
			continue;
		}
		if (*d->p == ']') {
			d->p++;
			return 0;
		}
		if (*d->p == '\0')
			return pdef_errf(d, open,
			    "unterminated list of groups");
		return pdef_errf(d, d->p, "expected ',' or ']', found '%c'",
		    *d->p);
	}
}

/* Labels start..start+count-1 as one group. */
static int
pdef_numbers(struct pdef *d, uint32_t start, uint64_t count, const char *at)
{
	uint64_t i;
	int rc;

	if (count > HQ_RES_MAX_INDICES)
		return pdef_errf(d, at, "more than %u indices",
		    HQ_RES_MAX_INDICES);
	pdef_start_group(d);
	for (i = 0; i < count; i++)
		if ((rc = pdef_add_label(d,
			 hq_xprintf("%llu", (unsigned long long)(start + i)),
			 at)) != 0)
			return rc;
	return 0;
}

/* "range(A-B)" */
static int
pdef_range(struct pdef *d)
{
	const char *at = d->p;
	uint32_t a, b;
	int rc;

	d->p += 5;
	if ((rc = pdef_expect(d, '(')) != 0)
		return rc;
	pdef_skip_ws(d);
	if ((rc = pdef_u32(d, &a)) != 0 || (rc = pdef_expect(d, '-')) != 0)
		return rc;
	pdef_skip_ws(d);
	if ((rc = pdef_u32(d, &b)) != 0 || (rc = pdef_expect(d, ')')) != 0)
		return rc;
	if (a > b)
		return pdef_errf(d, at, "range start %u is greater than end %u",
		    a, b);
	return pdef_numbers(d, a, (uint64_t)b - a + 1, at);
}

/* "NxM" or, for cpus, "N". */
static int
pdef_count(struct pdef *d)
{
	const char *at = d->p;
	uint32_t n, m, g;
	int rc;

	if ((rc = pdef_u32(d, &n)) != 0)
		return rc;
	if (*d->p != 'x') {
		if (!d->is_cpus)
			return pdef_errf(d, at,
			    "a plain number is only valid for cpus; use "
			    "\"range(0-%llu)\" for %u indices or \"sum(%u)\" "
			    "for an amount",
			    (unsigned long long)n - 1, n, n);
		if (n == 0)
			return pdef_errf(d, at, "zero CPUs");
		return pdef_numbers(d, 0, n, at);
	}
	d->p++;
	if ((rc = pdef_u32(d, &m)) != 0)
		return rc;
	if (n == 0 || m == 0)
		return pdef_errf(d, at, "empty resource (%ux%u)", n, m);
	if ((uint64_t)n * m > HQ_RES_MAX_INDICES)
		return pdef_errf(d, at, "more than %u indices",
		    HQ_RES_MAX_INDICES);
	for (g = 0; g < n; g++)
		if ((rc = pdef_numbers(d, g * m, m, at)) != 0)
			return rc;
	return 0;
}

/* "sum(SIZE)" */
static int
pdef_sum(struct pdef *d, uint64_t *size)
{
	const char *at = d->p, *tok;
	struct hq_errbuf aeb;
	char *s;
	int rc;

	if (d->is_cpus)
		return pdef_errf(d, at, "cpus cannot be a sum resource");
	d->p += 3;
	if ((rc = pdef_expect(d, '(')) != 0)
		return rc;
	pdef_skip_ws(d);
	tok = d->p;
	while (isdigit((unsigned char)*d->p) || *d->p == '_' || *d->p == '.')
		d->p++;
	if (d->p == tok)
		return pdef_errf(d, tok, "expected an amount");
	s = hq_xstrndup(tok, (size_t)(d->p - tok));
	rc = hq_parse_amount(s, size, &aeb);
	free(s);
	if (rc != 0)
		return pdef_errf(d, tok, "%s", aeb.msg);
	if ((rc = pdef_expect(d, ')')) != 0)
		return rc;
	if (*size == 0)
		return pdef_errf(d, at, "empty resource (size 0)");
	return 0;
}

static int
res_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Labels unique across all groups; CPU ids numeric. */
static int
pdef_check_labels(struct pdef *d)
{
	char **sorted;
	uint32_t i;
	int rc = 0;

	if (d->is_cpus) {
		for (i = 0; i < d->nlabels; i++) {
			const char *q = d->labels[i];
			unsigned long long v;
			char *end;

			if (!isdigit((unsigned char)*q))
				return pdef_errf(d, NULL,
				    "CPU id \"%s\" is not a number", q);
			v = strtoull(q, &end, 10);
			if (*end != '\0' || v > UINT32_MAX)
				return pdef_errf(d, NULL,
				    "CPU id \"%s\" is not a number", q);
		}
	}
	sorted = hq_xmemdup(d->labels, d->nlabels * sizeof *sorted);
	qsort(sorted, d->nlabels, sizeof *sorted, res_cmp_str);
	for (i = 1; i < d->nlabels; i++) {
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			rc = pdef_errf(d, NULL, "label \"%s\" is not unique",
			    sorted[i]);
			break;
		}
	}
	free(sorted);
	return rc;
}

int
hq_parse_pool_def(const char *name, const char *def, bool is_cpus,
    struct hq_res_pool *out, struct hq_errbuf *eb)
{
	struct pdef d = {
		.name = name,
		.def = def,
		.p = def,
		.is_cpus = is_cpus,
		.eb = eb,
	};
	struct hq_res_pool pool;
	int rc;

	memset(&pool, 0, sizeof pool);
	pdef_skip_ws(&d);
	if (*d.p == '[') {
		rc = pdef_brackets(&d);
		pool.kind = HQ_POOL_LIST;
	} else if (strncmp(d.p, "range", 5) == 0) {
		rc = pdef_range(&d);
		pool.kind = HQ_POOL_RANGE;
	} else if (strncmp(d.p, "sum", 3) == 0) {
		rc = pdef_sum(&d, &pool.size);
		pool.kind = HQ_POOL_SUM;
	} else if (isdigit((unsigned char)*d.p)) {
		rc = pdef_count(&d);
		pool.kind = HQ_POOL_RANGE;
	} else if (*d.p == '\0') {
		rc = pdef_errf(&d, NULL, "empty definition");
	} else {
		rc = pdef_errf(&d, d.p,
		    is_cpus ? "expected N, NxM, [..], [[..],..] or range(A-B)"
			    : "expected [..], [[..],..], range(A-B), NxM or "
			      "sum(SIZE)");
	}
	if (rc != 0)
		goto out;
	pdef_skip_ws(&d);
	if (*d.p != '\0') {
		rc = pdef_errf(&d, d.p, "unexpected \"%s\"", d.p);
		goto out;
	}
	if (pool.kind != HQ_POOL_SUM && (rc = pdef_check_labels(&d)) != 0)
		goto out;
	/* One group of a bracket list is a list; several are groups. An NxM
	 * with N > 1 is groups too. */
	if (d.ngstart > 1)
		pool.kind = HQ_POOL_GROUPS;
	if (pool.kind != HQ_POOL_SUM) {
		pool.nlabels = d.nlabels;
		pool.labels = d.labels;
		pool.ngroups = d.ngstart;
		HQ_VEC_PUSH(d.gstart, d.ngstart, d.gstart_cap, d.nlabels);
		pool.group_start = d.gstart;
		d.labels = NULL;
		d.gstart = NULL;
		d.nlabels = 0;
	}
	pool.name = hq_xstrdup(name);
	*out = pool;
out:
	pdef_free_labels(&d);
	return rc;
}

/* ---- worker resources ---------------------------------------------------- */

static int
res_cmp_pool(const void *a, const void *b)
{
	const struct hq_res_pool *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int
hq_worker_res_from_pools(struct hq_res_pool *pools, uint32_t n,
    struct hq_worker_res *out, struct hq_errbuf *eb)
{
	bool have_cpus = false;
	uint32_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const struct hq_res_pool *p = &pools[i];

		if (!hq_res_name_valid(p->name))
			rc = hq_errf(eb, HQ_EINVAL,
			    "invalid resource name \"%s\"", p->name);
		else if (hq_res_pool_total(p) == 0)
			rc = hq_errf(eb, HQ_EINVAL, "resource \"%s\" is empty",
			    p->name);
		if (strcmp(p->name, "cpus") == 0)
			have_cpus = true;
	}
	if (rc != 0)
		goto out;
	if (n > 1)
		qsort(pools, n, sizeof *pools, res_cmp_pool);
	for (i = 1; i < n; i++) {
		if (strcmp(pools[i - 1].name, pools[i].name) == 0) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "resource \"%s\" is defined more than once",
			    pools[i].name);
			goto out;
		}
	}
	if (!have_cpus) {
		rc = hq_errf(eb, HQ_EINVAL, "resource \"cpus\" is missing");
		goto out;
	}
	memset(out, 0, sizeof *out);
	out->n = n;
	out->pools = pools;
	pools = NULL;
out:
	if (pools != NULL) {
		for (i = 0; i < n; i++)
			hq_res_pool_fini(&pools[i]);
		free(pools);
	}
	return rc;
}

/* ---- coupling ------------------------------------------------------------ */

/* Parser state for --coupling. */
struct cpl {
	const char *s;
	const char *p;
	const struct hq_worker_res *res;
	struct hq_errbuf *eb;
};

static int cpl_errf(struct cpl *c, const char *at, const char *fmt, ...)
    HQ_PRINTF(3, 4);

static int
cpl_errf(struct cpl *c, const char *at, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return hq_errf(c->eb, HQ_EINVAL,
	    "invalid coupling \"%s\": %s at column %zu", c->s, what,
	    (size_t)(at - c->s) + 1);
}

static void
cpl_skip_ws(struct cpl *c)
{
	while (isspace((unsigned char)*c->p))
		c->p++;
}

static int
cpl_u32(struct cpl *c, uint32_t *out)
{
	const char *start = c->p;
	uint64_t v = 0;

	cpl_skip_ws(c);
	start = c->p;
	if (!isdigit((unsigned char)*c->p))
		return cpl_errf(c, c->p, "expected a number");
	for (; isdigit((unsigned char)*c->p); c->p++) {
		v = v * 10 + (uint64_t)(*c->p - '0');
		if (v > UINT32_MAX)
			return cpl_errf(c, start, "number too large");
	}
	*out = (uint32_t)v;
	return 0;
}

static int
cpl_expect(struct cpl *c, char ch)
{
	cpl_skip_ws(c);
	if (*c->p != ch)
		return cpl_errf(c, c->p, "expected '%c'", ch);
	c->p++;
	return 0;
}

/* "name[g]": resource index and group, both validated against res. */
static int
cpl_ref(struct cpl *c, uint32_t *ridx, uint32_t *group)
{
	const char *start;
	const struct hq_res_pool *p;
	char *name;
	int rc;

	cpl_skip_ws(c);
	start = c->p;
	while (isalnum((unsigned char)*c->p) || *c->p == '/')
		c->p++;
	if (c->p == start)
		return cpl_errf(c, start, "expected a resource name");
	name = hq_xstrndup(start, (size_t)(c->p - start));
	p = hq_worker_res_find(c->res, name);
	if (p == NULL)
		rc = cpl_errf(c, start, "unknown resource \"%s\"", name);
	else if (p->kind == HQ_POOL_SUM || p->ngroups < 2)
		rc = cpl_errf(c, start,
		    "resource \"%s\" does not have more than one group", name);
	else
		rc = 0;
	free(name);
	if (rc != 0)
		return rc;
	*ridx = (uint32_t)(p - c->res->pools);
	if ((rc = cpl_expect(c, '[')) != 0)
		return rc;
	start = c->p;
	if ((rc = cpl_u32(c, group)) != 0)
		return rc;
	if (*group >= p->ngroups)
		return cpl_errf(c, start, "resource \"%s\" has no group %u",
		    p->name, *group);
	return cpl_expect(c, ']');
}

static int
cpl_cmp(const void *a, const void *b)
{
	const struct hq_coupling_weight *x = a, *y = b;

	if (x->resource1 != y->resource1)
		return x->resource1 < y->resource1 ? -1 : 1;
	if (x->group1 != y->group1)
		return x->group1 < y->group1 ? -1 : 1;
	if (x->resource2 != y->resource2)
		return x->resource2 < y->resource2 ? -1 : 1;
	if (x->group2 != y->group2)
		return x->group2 < y->group2 ? -1 : 1;
	return 0;
}

int
hq_parse_coupling(const char *s, struct hq_worker_res *res,
    struct hq_errbuf *eb)
{
	struct cpl c = { .s = s, .p = s, .res = res, .eb = eb };
	struct hq_coupling_weight *all = NULL, w;
	uint32_t n = 0, cap = 0, i, t;
	const char *item;
	int rc = 0;

	for (i = 0; i < res->ncoupling; i++)
		HQ_VEC_PUSH(all, n, cap, res->coupling[i]);
	cpl_skip_ws(&c);
	if (*c.p == '\0') {
		rc =
		    hq_errf(eb, HQ_EINVAL, "invalid coupling \"%s\": empty", s);
		goto out;
	}
	for (;;) {
		cpl_skip_ws(&c);
		item = c.p;
		memset(&w, 0, sizeof w);
		w.weight = HQ_COUPLING_DEFAULT_WEIGHT;
		if ((rc = cpl_ref(&c, &w.resource1, &w.group1)) != 0 ||
		    (rc = cpl_expect(&c, ':')) != 0 ||
		    (rc = cpl_ref(&c, &w.resource2, &w.group2)) != 0)
			goto out;
		cpl_skip_ws(&c);
		if (*c.p == '=') {
			const char *at;

			c.p++;
			cpl_skip_ws(&c);
			at = c.p;
			if ((rc = cpl_u32(&c, &w.weight)) != 0)
				goto out;
			if (w.weight > UINT16_MAX) {
				rc = cpl_errf(&c, at,
				    "weight %u is larger than 65535", w.weight);
				goto out;
			}
		}
		if (w.resource1 == w.resource2) {
			rc = cpl_errf(&c, item,
			    "a resource cannot be coupled with itself");
			goto out;
		}
		if (w.resource1 > w.resource2) {
			t = w.resource1;
			w.resource1 = w.resource2;
			w.resource2 = t;
			t = w.group1;
			w.group1 = w.group2;
			w.group2 = t;
		}
		for (i = 0; i < n; i++) {
			if (cpl_cmp(&all[i], &w) == 0) {
				rc = cpl_errf(&c, item,
				    "this pair of groups is coupled twice");
				goto out;
			}
		}
		HQ_VEC_PUSH(all, n, cap, w);
		cpl_skip_ws(&c);
		if (*c.p == '\0')
			break;
		if (*c.p != ',') {
			rc = cpl_errf(&c, c.p, "expected ',' or the end");
			goto out;
		}
		c.p++;
	}
	qsort(all, n, sizeof *all, cpl_cmp);
	free(res->coupling);
	res->coupling = all;
	res->ncoupling = n;
	all = NULL;
out:
	free(all);
	return rc;
}

/* ---- requests
 * ---------------------------------------------------------------- */

static const char *const res_policy_names[] = {
	[HQ_POLICY_COMPACT] = "compact",
	[HQ_POLICY_FORCE_COMPACT] = "compact!",
	[HQ_POLICY_TIGHT] = "tight",
	[HQ_POLICY_FORCE_TIGHT] = "tight!",
	[HQ_POLICY_SCATTER] = "scatter",
	[HQ_POLICY_ALL] = "all",
};

const char *
hq_policy_name(enum hq_policy p)
{
	if ((unsigned)p < HQ_ARRAY_LEN(res_policy_names))
		return res_policy_names[p];
	return "unknown";
}

int
hq_parse_request_entry(const char *name, const char *req,
    struct hq_res_entry *out, struct hq_errbuf *eb)
{
	char *r = res_strip(req, strlen(req)), *amount_s = NULL;
	struct hq_errbuf aeb;
	const char *pol;
	enum hq_policy policy = HQ_POLICY_COMPACT;
	uint64_t amount = 0;
	size_t len;
	unsigned i;
	int rc = 0;

	if (!hq_res_name_valid(name)) {
		rc = hq_errf(eb, HQ_EINVAL,
		    "invalid resource name \"%s\" (expected "
		    "[A-Za-z][A-Za-z0-9/]*)",
		    name);
		goto out;
	}
	if (strcmp(r, "all") == 0) {
		policy = HQ_POLICY_ALL;
		goto done;
	}
	if (*r == '\0') {
		rc = hq_errf(eb, HQ_EINVAL, "empty request for resource \"%s\"",
		    name);
		goto out;
	}
	len = strcspn(r, " \t\r\n\v\f");
	amount_s = hq_xstrndup(r, len);
	pol = r + len;
	while (isspace((unsigned char)*pol))
		pol++;
	if ((rc = hq_parse_amount(amount_s, &amount, &aeb)) != 0) {
		hq_errf(eb, rc,
		    "invalid request \"%s\" for resource \"%s\": %s", req, name,
		    aeb.msg);
		goto out;
	}
	if (amount == 0) {
		rc = hq_errf(eb, HQ_EINVAL,
		    "invalid request \"%s\" for resource \"%s\": the amount "
		    "must be greater than zero",
		    req, name);
		goto out;
	}
	if (*pol != '\0') {
		for (i = 0; i < HQ_POLICY_ALL; i++)
			if (strcmp(pol, res_policy_names[i]) == 0)
				break;
		if (i == HQ_POLICY_ALL) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "invalid policy \"%s\" for resource \"%s\" "
			    "(expected compact, compact!, tight, tight! or "
			    "scatter)",
			    pol, name);
			goto out;
		}
		policy = (enum hq_policy)i;
	}
done:
	out->name = hq_xstrdup(name);
	out->amount = amount;
	out->policy = policy;
out:
	free(amount_s);
	free(r);
	return rc;
}

int
hq_variant_add_entry(struct hq_res_variant *v, struct hq_res_entry *e,
    struct hq_errbuf *eb)
{
	uint32_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->e[i].name, e->name) == 0)
			return hq_errf(eb, HQ_EINVAL,
			    "resource \"%s\" is requested more than once",
			    e->name);
	v->e = hq_xreallocarray(v->e, v->n + 1, sizeof *v->e);
	v->e[v->n++] = *e;
	e->name = NULL;
	return 0;
}

/* ---- display
 * ----------------------------------------------------------------- */

void
hq_fmt_request_entry(struct hq_buf *out, const struct hq_res_entry *e)
{
	if (e->policy == HQ_POLICY_ALL) {
		hq_buf_append_str(out, "all");
		return;
	}
	hq_fmt_amount(out, e->amount);
	hq_buf_printf(out, " %s", hq_policy_name(e->policy));
}

static void
res_fmt_labels(struct hq_buf *out, const struct hq_res_pool *p, uint32_t from,
    uint32_t to)
{
	uint32_t i;

	hq_buf_append_str(out, "[");
	for (i = from; i < to; i++) {
		if (i > from)
			hq_buf_append_str(out, ",");
		hq_buf_append_str(out, p->labels[i]);
	}
	hq_buf_append_str(out, "]");
}

void
hq_fmt_pool_def(struct hq_buf *out, const struct hq_res_pool *p)
{
	uint32_t g;

	switch (p->kind) {
	case HQ_POOL_SUM:
		hq_buf_append_str(out, "sum(");
		hq_fmt_amount(out, p->size);
		hq_buf_append_str(out, ")");
		break;
	case HQ_POOL_RANGE:
		if (p->nlabels == 1)
			hq_buf_printf(out, "[%s]", p->labels[0]);
		else if (p->nlabels > 1)
			hq_buf_printf(out, "range(%s-%s)", p->labels[0],
			    p->labels[p->nlabels - 1]);
		else
			hq_buf_append_str(out, "[]");
		break;
	case HQ_POOL_LIST:
		res_fmt_labels(out, p, 0, p->nlabels);
		break;
	case HQ_POOL_GROUPS:
		hq_buf_append_str(out, "[");
		for (g = 0; g < p->ngroups; g++) {
			if (g > 0)
				hq_buf_append_str(out, ",");
			res_fmt_labels(out, p, p->group_start[g],
			    p->group_start[g + 1]);
		}
		hq_buf_append_str(out, "]");
		break;
	}
}

/* HyperQueue's memory display: MiB below 512 MiB, else GiB. */
static void
res_fmt_mem(struct hq_buf *out, uint64_t amount)
{
	double mib = (double)amount / HQ_AMOUNT_ONE;

	if (mib < 512.0)
		hq_buf_printf(out, "%.2f MiB", mib);
	else
		hq_buf_printf(out, "%.2f GiB", mib / 1024.0);
}

/* The short value of one pool: a count, "NxM [NxM..]", memory or amount. */
static void
res_fmt_pool_short(struct hq_buf *out, const struct hq_res_pool *p)
{
	uint32_t g, h, size, count, prev;
	bool first = true;

	if (p->kind == HQ_POOL_SUM) {
		if (strcmp(p->name, "mem") == 0)
			res_fmt_mem(out, p->size);
		else
			hq_fmt_amount(out, p->size);
		return;
	}
	if (p->kind != HQ_POOL_GROUPS || p->ngroups < 2) {
		hq_buf_printf(out, "%u", p->nlabels);
		return;
	}
	/* "countxsize" per distinct group size, smallest size first. */
	prev = 0;
	for (;;) {
		size = UINT32_MAX;
		for (g = 0; g < p->ngroups; g++) {
			h = p->group_start[g + 1] - p->group_start[g];
			if ((first || h > prev) && h < size)
				size = h;
		}
		if (size == UINT32_MAX)
			break;
		count = 0;
		for (g = 0; g < p->ngroups; g++)
			if (p->group_start[g + 1] - p->group_start[g] == size)
				count++;
		hq_buf_printf(out, "%s%ux%u", first ? "" : " ", count, size);
		first = false;
		prev = size;
	}
}

static bool
res_is_coupled(const struct hq_worker_res *r, uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < r->ncoupling; i++)
		if (r->coupling[i].resource1 == idx ||
		    r->coupling[i].resource2 == idx)
			return true;
	return false;
}

void
hq_fmt_worker_res_summary(struct hq_buf *out, const struct hq_worker_res *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		hq_buf_printf(out, "%s%s ", i > 0 ? "; " : "",
		    r->pools[i].name);
		res_fmt_pool_short(out, &r->pools[i]);
	}
}

void
hq_fmt_worker_res_lines(struct hq_buf *out, const struct hq_worker_res *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		hq_buf_printf(out, "%s%s: ", i > 0 ? "\n" : "",
		    r->pools[i].name);
		res_fmt_pool_short(out, &r->pools[i]);
		if (res_is_coupled(r, i))
			hq_buf_append_str(out, " [coupled]");
	}
}

void
hq_fmt_worker_res_describe(struct hq_buf *out, const struct hq_worker_res *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		hq_buf_printf(out, "%s%s: ", i > 0 ? "\n" : "",
		    r->pools[i].name);
		hq_fmt_pool_def(out, &r->pools[i]);
	}
}

static json_t *
res_json_labels(const struct hq_res_pool *p, uint32_t from, uint32_t to)
{
	json_t *a = json_array();
	uint32_t i;

	for (i = from; i < to; i++)
		json_array_append_new(a, json_string(p->labels[i]));
	return a;
}

static json_t *
res_json_pool(const struct hq_res_pool *p)
{
	json_t *o = json_object(), *groups;
	uint32_t g;

	json_object_set_new(o, "name", json_string(p->name));
	switch (p->kind) {
	case HQ_POOL_RANGE:
		json_object_set_new(o, "kind", json_string("range"));
		json_object_set_new(o, "start",
		    json_integer((json_int_t)strtoull(p->labels[0], NULL, 10)));
		json_object_set_new(o, "end",
		    json_integer((json_int_t)strtoull(p->labels[p->nlabels - 1],
			NULL, 10)));
		break;
	case HQ_POOL_LIST:
		json_object_set_new(o, "kind", json_string("list"));
		json_object_set_new(o, "values",
		    res_json_labels(p, 0, p->nlabels));
		break;
	case HQ_POOL_GROUPS:
		json_object_set_new(o, "kind", json_string("groups"));
		groups = json_array();
		for (g = 0; g < p->ngroups; g++)
			json_array_append_new(groups,
			    res_json_labels(p, p->group_start[g],
				p->group_start[g + 1]));
		json_object_set_new(o, "groups", groups);
		break;
	case HQ_POOL_SUM:
		json_object_set_new(o, "kind", json_string("sum"));
		json_object_set_new(o, "size",
		    json_integer((json_int_t)p->size));
		break;
	}
	return o;
}

json_t *
hq_worker_res_json(const struct hq_worker_res *r)
{
	json_t *root = json_object(), *pools = json_array(),
	       *weights = json_array(), *coupling = json_object(), *w;
	uint32_t i;

	for (i = 0; i < r->n; i++)
		json_array_append_new(pools, res_json_pool(&r->pools[i]));
	for (i = 0; i < r->ncoupling; i++) {
		const struct hq_coupling_weight *c = &r->coupling[i];

		w = json_object();
		json_object_set_new(w, "resource1_idx",
		    json_integer(c->resource1));
		json_object_set_new(w, "group1_idx", json_integer(c->group1));
		json_object_set_new(w, "resource2_idx",
		    json_integer(c->resource2));
		json_object_set_new(w, "group2_idx", json_integer(c->group2));
		json_object_set_new(w, "weight", json_integer(c->weight));
		json_array_append_new(weights, w);
	}
	json_object_set_new(coupling, "weights", weights);
	json_object_set_new(root, "resources", pools);
	json_object_set_new(root, "coupling", coupling);
	return root;
}

char *
hq_res_env_name(const char *name)
{
	char *s = hq_xstrdup(name), *p;

	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p))
			*p = '_';
	return s;
}
