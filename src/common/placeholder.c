/* SPDX-License-Identifier: MIT */
/* Path placeholders; the contracts are in placeholder.h. */
#include "common/placeholder.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const ph_known[] = {
	"JOB_ID",
	"TASK_ID",
	"INSTANCE_ID",
	"SUBMIT_DIR",
	"CWD",
	"SERVER_UID",
};

/*
 * Find the next placeholder at or after 'p': returns the position of its
 * "%{" and sets *name and *len to its name, or returns NULL.
 */
static const char *
ph_next(const char *p, const char **name, size_t *len)
{
	const char *open, *close;

	if ((open = strstr(p, "%{")) == NULL)
		return NULL;
	if ((close = strchr(open + 2, '}')) == NULL)
		return NULL;
	*name = open + 2;
	*len = (size_t)(close - open - 2);
	return open;
}

/* Index into ph_known, or -1. */
static int
ph_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < HQ_ARRAY_LEN(ph_known); i++)
		if (strlen(ph_known[i]) == len &&
		    memcmp(ph_known[i], name, len) == 0)
			return (int)i;
	return -1;
}

static const char *
ph_value(const struct hq_ph_ctx *ctx, int idx)
{
	switch (idx) {
	case 0:
		return ctx->job_id;
	case 1:
		return ctx->task_id;
	case 2:
		return ctx->instance_id;
	case 3:
		return ctx->submit_dir;
	case 4:
		return ctx->cwd;
	case 5:
		return ctx->server_uid;
	default:
		return NULL;
	}
}

char *
hq_ph_expand(const char *s, const struct hq_ph_ctx *ctx, int *n_unknown)
{
	struct hq_buf b;
	const char *p = s, *at, *name, *val;
	size_t len;
	int idx, unknown = 0;

	hq_buf_init(&b);
	while ((at = ph_next(p, &name, &len)) != NULL) {
		hq_buf_append(&b, p, (size_t)(at - p));
		idx = ph_lookup(name, len);
		if (idx < 0)
			unknown++;
		val = idx >= 0 ? ph_value(ctx, idx) : NULL;
		if (val != NULL)
			hq_buf_append_str(&b, val);
		else
			hq_buf_append(&b, at, len + 3);
		p = name + len + 1;
	}
	hq_buf_append_str(&b, p);
	hq_buf_append(&b, "", 1);
	if (n_unknown != NULL)
		*n_unknown = unknown;
	return (char *)b.data;
}

bool
hq_ph_contains(const char *s, const char *name)
{
	const char *p = s, *at, *n;
	size_t len;

	while ((at = ph_next(p, &n, &len)) != NULL) {
		if (strlen(name) == len && memcmp(name, n, len) == 0)
			return true;
		p = n + len + 1;
	}
	return false;
}

bool
hq_ph_has_known(const char *s)
{
	const char *p = s, *at, *n;
	size_t len;

	while ((at = ph_next(p, &n, &len)) != NULL) {
		if (ph_lookup(n, len) >= 0)
			return true;
		p = n + len + 1;
	}
	return false;
}

/* Whether the name n/len occurs as a placeholder in s before 'end'. */
static bool
ph_seen_before(const char *s, const char *end, const char *n, size_t len)
{
	const char *p = s, *at, *m;
	size_t mlen;

	while ((at = ph_next(p, &m, &mlen)) != NULL && at < end) {
		if (mlen == len && memcmp(m, n, len) == 0)
			return true;
		p = m + mlen + 1;
	}
	return false;
}

int
hq_ph_unknown(const char *s, struct hq_buf *out)
{
	const char *p = s, *at, *n;
	size_t len;
	int count = 0;

	while ((at = ph_next(p, &n, &len)) != NULL) {
		p = n + len + 1;
		if (ph_lookup(n, len) >= 0 || ph_seen_before(s, at, n, len))
			continue;
		if (count++ > 0)
			hq_buf_append_str(out, ", ");
		hq_buf_append(out, n, len);
	}
	*hq_buf_reserve(out, 1) = '\0';
	return count;
}
