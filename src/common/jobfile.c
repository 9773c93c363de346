/* SPDX-License-Identifier: MIT */
/*
 * Job definition files (spec 2.7): a TOML tree becomes a struct hq_submit.
 * Every rejection names the field and where it is in the file, as serde's
 * deny_unknown_fields does for HyperQueue.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/jobfile.h"
#include "common/parse.h"
#include "common/resource.h"
#include "common/taskpath.h"
#include "common/toml.h"
#include "common/u32map.h"

/* A task's variant index is stored in a byte by the server. */
#define JF_MAX_VARIANTS 255

#define JF_TASK_FIELDS                                               \
	"command", "env", "cwd", "stdout", "stderr", "stdin", "pin", \
	    "task_dir", "time_limit", "priority", "crash_limit", "request"

static const char *const jf_top_fields[] = { "name", "max_fails", "stream",
	"data_layer", "task", "array", NULL };
static const char *const jf_task_fields[] = { "id", "deps", JF_TASK_FIELDS,
	NULL };
static const char *const jf_array_fields[] = { "ids", "entries", JF_TASK_FIELDS,
	NULL };
static const char *const jf_request_fields[] = { "resources", "n_nodes",
	"time_request", "weight", NULL };
static const char *const jf_stdio_fields[] = { "path", "on_close", NULL };

struct jf_ctx {
	const struct hq_jobfile_opts *o;
	bool stream;	   /* top-level "stream": default stdio is streamed */
	const char *where; /* "[[task]]" or "[array]" */
	const char *req_where; /* "[[task.request]]" or "[[array.request]]" */
};

static int jf_err(struct hq_errbuf *eb, const struct hq_toml_value *at,
    const char *fmt, ...) HQ_PRINTF(3, 4);

/* A rejection located at 'at' (NULL: the file as a whole). */
static int
jf_err(struct hq_errbuf *eb, const struct hq_toml_value *at, const char *fmt,
    ...)
{
	char msg[sizeof eb->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (at == NULL)
		return hq_errf(eb, HQ_EINVAL, "%s", msg);
	return hq_errf(eb, HQ_EINVAL, "line %d, column %d: %s",
	    hq_toml_line(at), hq_toml_col(at), msg);
}

/* "a string", "an integer", ... */
static const char *
jf_a(enum hq_toml_type t)
{
	switch (t) {
	case HQ_TOML_STRING:
		return "a string";
	case HQ_TOML_INT:
		return "an integer";
	case HQ_TOML_FLOAT:
		return "a float";
	case HQ_TOML_BOOL:
		return "a boolean";
	case HQ_TOML_ARRAY:
		return "an array";
	case HQ_TOML_TABLE:
		return "a table";
	}
	return "a value";
}

static int
jf_check_fields(const struct hq_toml_value *t, const char *const *allowed,
    const char *where, struct hq_errbuf *eb)
{
	struct hq_buf b;
	size_t i, k;
	int rc;

	for (i = 0; i < hq_toml_table_len(t); i++) {
		const char *key = hq_toml_table_key(t, i);

		for (k = 0; allowed[k] != NULL; k++)
			if (strcmp(allowed[k], key) == 0)
				break;
		if (allowed[k] != NULL)
			continue;
		hq_buf_init(&b);
		for (k = 0; allowed[k] != NULL; k++)
			hq_buf_printf(&b, "%s`%s`", k ? ", " : "", allowed[k]);
		hq_buf_append(&b, "", 1);
		rc = jf_err(eb, hq_toml_table_value(t, i),
		    "unknown field `%.64s` in %s, expected one of %s", key,
		    where, (char *)b.data);
		hq_buf_fini(&b);
		return rc;
	}
	return 0;
}

/* *out = the value of 'key' if present (NULL if absent); it must have
 * type 'type'. */
static int
jf_get(const struct hq_toml_value *t, const char *key, enum hq_toml_type type,
    const struct hq_toml_value **out, struct hq_errbuf *eb)
{
	const struct hq_toml_value *v = hq_toml_get(t, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (hq_toml_type(v) != type)
		return jf_err(eb, v, "`%s` must be %s, not %s", key, jf_a(type),
		    jf_a(hq_toml_type(v)));
	*out = v;
	return 0;
}

/* An integer field in [min, max]; *present tells whether it was given. */
static int
jf_int(const struct hq_toml_value *t, const char *key, int64_t min, int64_t max,
    bool *present, int64_t *out, struct hq_errbuf *eb)
{
	const struct hq_toml_value *v;
	int64_t n;
	int rc;

	*present = false;
	if ((rc = jf_get(t, key, HQ_TOML_INT, &v, eb)) != 0 || v == NULL)
		return rc;
	n = hq_toml_int(v);
	if (n < min || n > max)
		return jf_err(eb, v,
		    "`%s` must be between %lld and %lld, not "
		    "%lld",
		    key, (long long)min, (long long)max, (long long)n);
	*present = true;
	*out = n;
	return 0;
}

/* A humantime duration field (spec 1.2: job files take only humantime). */
static int
jf_humantime(const struct hq_toml_value *t, const char *key, uint64_t *ms,
    struct hq_errbuf *eb)
{
	const struct hq_toml_value *v;
	struct hq_errbuf e2;
	int rc;

	if ((rc = jf_get(t, key, HQ_TOML_STRING, &v, eb)) != 0 || v == NULL)
		return rc;
	if (hq_parse_humantime(hq_toml_string(v), ms, &e2) != 0)
		return jf_err(eb, v, "invalid `%s`: %s", key, e2.msg);
	return 0;
}

/* ---- stdio, resources ------------------------------------------------- */

static int
jf_stdio(const struct hq_toml_value *t, const char *key, const char *dflt,
    bool stream, struct hq_stdio *io, struct hq_errbuf *eb)
{
	const struct hq_toml_value *v = hq_toml_get(t, key), *p, *oc;
	char where[32];
	const char *s;
	int rc;

	memset(io, 0, sizeof *io);
	if (v == NULL) {
		io->kind = stream ? HQ_STDIO_STREAM : HQ_STDIO_FILE;
		if (!stream)
			io->path = hq_xstrdup(dflt);
		return 0;
	}
	switch (hq_toml_type(v)) {
	case HQ_TOML_STRING:
		s = hq_toml_string(v);
		if (strcmp(s, "none") == 0) {
			io->kind = HQ_STDIO_NONE;
			return 0;
		}
		if (*s == '\0')
			return jf_err(eb, v, "`%s` must not be an empty path",
			    key);
		io->kind = HQ_STDIO_FILE;
		io->path = hq_xstrdup(s);
		return 0;
	case HQ_TOML_TABLE:
		snprintf(where, sizeof where, "`%s`", key);
		if ((rc = jf_check_fields(v, jf_stdio_fields, where, eb)) ||
		    (rc = jf_get(v, "path", HQ_TOML_STRING, &p, eb)) ||
		    (rc = jf_get(v, "on_close", HQ_TOML_STRING, &oc, eb)))
			return rc;
		if (p == NULL)
			return jf_err(eb, v, "missing field `path` in `%s`",
			    key);
		if (*hq_toml_string(p) == '\0')
			return jf_err(eb, p, "`path` must not be empty");
		if (oc != NULL && strcmp(hq_toml_string(oc), "none") != 0 &&
		    strcmp(hq_toml_string(oc), "rm-if-finished") != 0)
			return jf_err(eb, oc,
			    "`on_close` must be \"none\" or "
			    "\"rm-if-finished\", not \"%.64s\"",
			    hq_toml_string(oc));
		io->kind = HQ_STDIO_FILE;
		io->path = hq_xstrdup(hq_toml_string(p));
		io->rm_if_finished = oc != NULL &&
		    strcmp(hq_toml_string(oc), "rm-if-finished") == 0;
		return 0;
	default:
		return jf_err(eb, v,
		    "`%s` must be a path, \"none\" or a table "
		    "{ path = \"...\", on_close = \"...\" }, not %s",
		    key, jf_a(hq_toml_type(v)));
	}
}

/*
 * One entry of "resources": an integer, a float (through f32, rounded up
 * to 1/10000 as HyperQueue does) or an allocation request string.
 */
static int
jf_res_entry(const char *name, const struct hq_toml_value *v,
    struct hq_res_entry *e, struct hq_errbuf *eb)
{
	struct hq_errbuf e2;
	int64_t n;
	double d, a;
	float f;

	memset(e, 0, sizeof *e);
	if (!hq_res_name_valid(name))
		return jf_err(eb, v,
		    "invalid resource name `%.64s` (expected "
		    "[A-Za-z][A-Za-z0-9/]*)",
		    name);
	switch (hq_toml_type(v)) {
	case HQ_TOML_INT:
		n = hq_toml_int(v);
		if (n <= 0 || n > (int64_t)UINT32_MAX)
			return jf_err(eb, v,
			    "resource `%s`: the amount must be between 1 and "
			    "%u, not %lld",
			    name, UINT32_MAX, (long long)n);
		e->amount = (uint64_t)n * HQ_AMOUNT_ONE;
		break;
	case HQ_TOML_FLOAT:
		d = hq_toml_float(v);
		f = (float)d;
		a = ceil((double)f * HQ_AMOUNT_ONE);
		if (!isfinite(d) || !isfinite(f) || !(a >= 1) ||
		    a > (double)UINT32_MAX * HQ_AMOUNT_ONE)
			return jf_err(eb, v,
			    "resource `%s`: the amount must be a positive "
			    "number up to %u, not %g",
			    name, UINT32_MAX, d);
		e->amount = (uint64_t)a;
		break;
	case HQ_TOML_STRING:
		if (hq_parse_request_entry(name, hq_toml_string(v), e, &e2))
			return jf_err(eb, v, "resource `%s`: %s", name, e2.msg);
		return 0;
	default:
		return jf_err(eb, v,
		    "resource `%s` must be an integer, a float or a string "
		    "such as \"4 compact\", not %s",
		    name, jf_a(hq_toml_type(v)));
	}
	e->name = hq_xstrdup(name);
	e->policy = HQ_POLICY_COMPACT;
	return 0;
}

static int
jf_variant(const struct hq_toml_value *r, const char *where,
    struct hq_res_variant *var, struct hq_errbuf *eb)
{
	const struct hq_toml_value *res, *w;
	struct hq_res_entry e;
	struct hq_errbuf e2;
	bool present;
	int64_t n;
	size_t i;
	double d;
	int rc;

	memset(var, 0, sizeof *var);
	var->weight = HQ_AMOUNT_ONE;
	if ((rc = jf_check_fields(r, jf_request_fields, where, eb)) != 0 ||
	    (rc = jf_int(r, "n_nodes", 0, UINT32_MAX, &present, &n, eb)) != 0)
		return rc;
	if (present)
		var->n_nodes = (uint32_t)n;
	if ((rc = jf_humantime(r, "time_request", &var->min_time_ms, eb)) != 0)
		return rc;
	if ((w = hq_toml_get(r, "weight")) != NULL) {
		if (hq_toml_type(w) == HQ_TOML_INT)
			d = (double)hq_toml_int(w);
		else if (hq_toml_type(w) == HQ_TOML_FLOAT)
			d = hq_toml_float(w);
		else
			return jf_err(eb, w,
			    "`weight` must be a number, not %s",
			    jf_a(hq_toml_type(w)));
		if (!isfinite(d) || !(d > 0) ||
		    d * HQ_AMOUNT_ONE > (double)UINT32_MAX)
			return jf_err(eb, w,
			    "`weight` must be a number greater than 0 (and at "
			    "most %u), not %g",
			    UINT32_MAX / HQ_AMOUNT_ONE, d);
		var->weight = (uint32_t)(d * HQ_AMOUNT_ONE + 0.5);
		if (var->weight == 0)
			var->weight = 1;
	}
	if ((rc = jf_get(r, "resources", HQ_TOML_TABLE, &res, eb)) != 0)
		return rc;
	for (i = 0; res != NULL && i < hq_toml_table_len(res); i++) {
		const struct hq_toml_value *v = hq_toml_table_value(res, i);

		if ((rc = jf_res_entry(hq_toml_table_key(res, i), v, &e, eb)))
			return rc;
		if (hq_variant_add_entry(var, &e, &e2) != 0) {
			free(e.name);
			return jf_err(eb, v, "%s", e2.msg);
		}
	}
	if (var->n_nodes > 0 && var->n > 0)
		return jf_err(eb, r,
		    "a request with `n_nodes` cannot also list `resources`");
	if (var->n_nodes == 0 && var->n == 0)
		return jf_err(eb, r,
		    "the request has neither `resources` nor `n_nodes`");
	return 0;
}

static int
jf_request(const struct hq_toml_value *t, const struct jf_ctx *x,
    struct hq_res_request *req, struct hq_errbuf *eb)
{
	const struct hq_toml_value *arr, *r;
	size_t i, n;
	int rc;

	if ((rc = jf_get(t, "request", HQ_TOML_ARRAY, &arr, eb)) != 0)
		return rc;
	n = arr != NULL ? hq_toml_array_len(arr) : 0;
	if (n == 0) {
		/* No request at all: cpus = 1 compact (spec 2.7). */
		hq_res_request_default(req);
		return 0;
	}
	if (n > JF_MAX_VARIANTS)
		return jf_err(eb, arr,
		    "too many request variants (%zu, at most "
		    "%d)",
		    n, JF_MAX_VARIANTS);
	req->v = hq_xcalloc(n, sizeof *req->v);
	for (i = 0; i < n; i++) {
		r = hq_toml_array_get(arr, i);
		if (hq_toml_type(r) != HQ_TOML_TABLE)
			return jf_err(eb, r,
			    "each `request` must be a table, not %s",
			    jf_a(hq_toml_type(r)));
		/* Count the variant first so that fini frees its entries. */
		req->n++;
		if ((rc = jf_variant(r, x->req_where, &req->v[i], eb)) != 0)
			return rc;
	}
	return 0;
}

/* ---- task descriptions -------------------------------------------------- */

static int
jf_command(const struct hq_toml_value *t, const struct jf_ctx *x,
    struct hq_task_desc *d, struct hq_errbuf *eb)
{
	const struct hq_toml_value *cmd, *a;
	size_t i, n;
	int rc;

	if ((rc = jf_get(t, "command", HQ_TOML_ARRAY, &cmd, eb)) != 0)
		return rc;
	if (cmd == NULL)
		return jf_err(eb, t, "missing field `command` in %s", x->where);
	n = hq_toml_array_len(cmd);
	if (n == 0)
		return jf_err(eb, cmd, "`command` must not be empty");
	d->argv = hq_xcalloc(n + 1, sizeof *d->argv);
	for (i = 0; i < n; i++) {
		a = hq_toml_array_get(cmd, i);
		if (hq_toml_type(a) != HQ_TOML_STRING)
			return jf_err(eb, a,
			    "`command` must be an array of strings, but item "
			    "%zu is %s",
			    i, jf_a(hq_toml_type(a)));
		d->argv[d->argc++] = hq_xstrdup(hq_toml_string(a));
	}
	if (d->argv[0][0] == '\0')
		return jf_err(eb, hq_toml_array_get(cmd, 0),
		    "the program (the first item of `command`) must not be "
		    "empty");
	return 0;
}

static int
jf_env(const struct hq_toml_value *t, struct hq_task_desc *d,
    struct hq_errbuf *eb)
{
	const struct hq_toml_value *env, *v;
	const char *key;
	size_t i, n;
	int rc;

	if ((rc = jf_get(t, "env", HQ_TOML_TABLE, &env, eb)) != 0 ||
	    env == NULL)
		return rc;
	n = hq_toml_table_len(env);
	d->env = hq_xcalloc(n ? n : 1, sizeof *d->env);
	for (i = 0; i < n; i++) {
		key = hq_toml_table_key(env, i);
		v = hq_toml_table_value(env, i);
		if (hq_toml_type(v) != HQ_TOML_STRING)
			return jf_err(eb, v,
			    "environment variable `%.64s` must be a string, "
			    "not %s",
			    key, jf_a(hq_toml_type(v)));
		if (*key == '\0' || strchr(key, '=') != NULL)
			return jf_err(eb, v,
			    "invalid environment variable name `%.64s`", key);
		d->env[d->nenv].key = hq_xstrdup(key);
		d->env[d->nenv].value = hq_xstrdup(hq_toml_string(v));
		d->nenv++;
	}
	return 0;
}

static int
jf_options(const struct hq_toml_value *t, struct hq_task_desc *d,
    struct hq_errbuf *eb)
{
	const struct hq_toml_value *v;
	bool present;
	int64_t n;
	int rc;

	if ((rc = jf_get(t, "stdin", HQ_TOML_STRING, &v, eb)) != 0)
		return rc;
	if (v != NULL && *hq_toml_string(v) != '\0') {
		size_t len = strlen(hq_toml_string(v));

		if (len > UINT32_MAX)
			return jf_err(eb, v, "`stdin` is too large");
		d->stdin_data = hq_xmemdup(hq_toml_string(v), len);
		d->stdin_len = (uint32_t)len;
	}
	if ((rc = jf_get(t, "pin", HQ_TOML_STRING, &v, eb)) != 0)
		return rc;
	if (v != NULL) {
		const char *s = hq_toml_string(v);

		if (strcmp(s, "none") == 0)
			d->pin = HQ_PIN_NONE;
		else if (strcmp(s, "taskset") == 0)
			d->pin = HQ_PIN_TASKSET;
		else if (strcmp(s, "omp") == 0)
			d->pin = HQ_PIN_OMP;
		else
			return jf_err(eb, v,
			    "`pin` must be \"none\", \"taskset\" or \"omp\", "
			    "not \"%.64s\"",
			    s);
	}
	if ((rc = jf_get(t, "task_dir", HQ_TOML_BOOL, &v, eb)) != 0)
		return rc;
	d->task_dir = v != NULL && hq_toml_bool(v);
	if ((rc = jf_humantime(t, "time_limit", &d->time_limit_ms, eb)) != 0)
		return rc;
	if ((rc = jf_int(t, "priority", INT32_MIN, INT32_MAX, &present, &n,
		 eb)) != 0)
		return rc;
	if (present)
		d->priority = (int32_t)n;
	d->crash_limit = HQ_CRASH_DEFAULT;
	if ((v = hq_toml_get(t, "crash_limit")) == NULL)
		return 0;
	if (hq_toml_type(v) == HQ_TOML_INT) {
		n = hq_toml_int(v);
		if (n < 1 || n > UINT16_MAX)
			return jf_err(eb, v,
			    "`crash_limit` must be between 1 and %u, "
			    "\"never-restart\" or \"unlimited\", not %lld",
			    UINT16_MAX, (long long)n);
		d->crash_limit = (int32_t)n;
	} else if (hq_toml_type(v) == HQ_TOML_STRING &&
	    strcmp(hq_toml_string(v), "never-restart") == 0) {
		d->crash_limit = HQ_CRASH_NEVER_RESTART;
	} else if (hq_toml_type(v) == HQ_TOML_STRING &&
	    strcmp(hq_toml_string(v), "unlimited") == 0) {
		d->crash_limit = HQ_CRASH_UNLIMITED;
	} else {
		return jf_err(eb, v,
		    "`crash_limit` must be a number, \"never-restart\" or "
		    "\"unlimited\"");
	}
	return 0;
}

/* The fields shared by [[task]] and [array]. */
static int
jf_desc(const struct hq_toml_value *t, const struct jf_ctx *x,
    struct hq_task_desc *d, struct hq_errbuf *eb)
{
	const struct hq_toml_value *cwd;
	int rc;

	if ((rc = jf_command(t, x, d, eb)) != 0 ||
	    (rc = jf_env(t, d, eb)) != 0 ||
	    (rc = jf_get(t, "cwd", HQ_TOML_STRING, &cwd, eb)) != 0)
		return rc;
	if (cwd != NULL && *hq_toml_string(cwd) == '\0')
		return jf_err(eb, cwd, "`cwd` must not be empty");
	/* The default is the client's directory, not %{SUBMIT_DIR}. */
	if (cwd != NULL)
		d->cwd = hq_xstrdup(hq_toml_string(cwd));
	else
		d->cwd = hq_xstrdup(x->o->cwd ? x->o->cwd : "%{SUBMIT_DIR}");
	if ((rc = jf_stdio(t, "stdout", HQ_DEFAULT_STDOUT, x->stream, &d->out,
		 eb)) != 0 ||
	    (rc = jf_stdio(t, "stderr", HQ_DEFAULT_STDERR, x->stream, &d->err,
		 eb)) != 0 ||
	    (rc = jf_options(t, d, eb)) != 0 ||
	    (rc = jf_request(t, x, &d->req, eb)) != 0)
		return rc;
	return 0;
}

/* ---- [array] ------------------------------------------------------------- */

static int
jf_array(const struct hq_toml_value *a, const struct jf_ctx *x,
    struct hq_submit *s, struct hq_errbuf *eb)
{
	const struct hq_toml_value *ids, *ents, *e;
	struct hq_errbuf e2;
	size_t i, n;
	int rc;

	if ((rc = jf_check_fields(a, jf_array_fields, "[array]", eb)) != 0)
		return rc;
	s->descs = hq_xcalloc(1, sizeof *s->descs);
	s->ndescs = 1;
	if ((rc = jf_desc(a, x, &s->descs[0], eb)) != 0 ||
	    (rc = jf_get(a, "ids", HQ_TOML_STRING, &ids, eb)) != 0 ||
	    (rc = jf_get(a, "entries", HQ_TOML_ARRAY, &ents, eb)) != 0)
		return rc;
	if (ids != NULL && hq_parse_idset(hq_toml_string(ids), &s->ids, &e2))
		return jf_err(eb, ids, "invalid `ids`: %s", e2.msg);
	n = ents != NULL ? hq_toml_array_len(ents) : 0;
	if (n > UINT32_MAX)
		return jf_err(eb, ents, "too many `entries`");
	if (n > 0)
		s->entries = hq_xcalloc(n, sizeof *s->entries);
	for (i = 0; i < n; i++) {
		e = hq_toml_array_get(ents, i);
		if (hq_toml_type(e) != HQ_TOML_STRING)
			return jf_err(eb, e,
			    "`entries` must be an array of strings, but item "
			    "%zu is %s",
			    i, jf_a(hq_toml_type(e)));
		s->entries[s->nentries++] = hq_xstrdup(hq_toml_string(e));
	}
	if (ids != NULL && ents != NULL && hq_idset_count(&s->ids) != n)
		return jf_err(eb, a,
		    "Items 'ids' and 'entries' does not match");
	if (ids == NULL && n == 0)
		return jf_err(eb, a,
		    "No tasks defined: [array] needs `ids` or `entries`");
	if (ids == NULL)
		hq_idset_add_range(&s->ids, 0, (uint32_t)n, 1);
	return 0;
}

/* ---- [[task]] ------------------------------------------------------------ */

/* Per-task scratch while building a graph submit. */
struct jf_task {
	const struct hq_toml_value *t;
	uint32_t id;
	bool has_id;
	uint32_t *deps;
	uint32_t ndeps, cap;
};

static int
jf_deps(struct jf_task *jt, struct hq_errbuf *eb)
{
	const struct hq_toml_value *deps, *v;
	size_t i, k;
	int64_t n;
	int rc;

	if ((rc = jf_get(jt->t, "deps", HQ_TOML_ARRAY, &deps, eb)) != 0 ||
	    deps == NULL)
		return rc;
	for (i = 0; i < hq_toml_array_len(deps); i++) {
		v = hq_toml_array_get(deps, i);
		if (hq_toml_type(v) != HQ_TOML_INT)
			return jf_err(eb, v,
			    "`deps` must be an array of task ids, but item "
			    "%zu is %s",
			    i, jf_a(hq_toml_type(v)));
		n = hq_toml_int(v);
		if (n < 0 || n > (int64_t)UINT32_MAX)
			return jf_err(eb, v, "invalid task id %lld in `deps`",
			    (long long)n);
		/* A repeated dependency counts once. */
		for (k = 0; k < jt->ndeps; k++)
			if (jt->deps[k] == (uint32_t)n)
				break;
		if (k == jt->ndeps)
			HQ_VEC_PUSH(jt->deps, jt->ndeps, jt->cap, (uint32_t)n);
	}
	return 0;
}

/*
 * Kahn's algorithm over the dependencies inside the file (ids of an open
 * job are not edges here): zero-indegree tasks in file order, then their
 * consumers as they become free. Fills order[] with file indices; returns
 * the count sorted (< n when there is a cycle).
 */
static uint32_t
jf_toposort(const struct jf_task *jt, uint32_t n, const struct hq_u32map *pos,
    uint32_t *order, uint32_t *indeg)
{
	uint32_t *off, *cons, *fill, i, k, p, head = 0, tail = 0;

	off = hq_xcalloc((size_t)n + 1, sizeof *off);
	for (i = 0; i < n; i++)
		for (k = 0; k < jt[i].ndeps; k++)
			if (hq_u32map_get(pos, jt[i].deps[k], &p)) {
				off[p + 1]++;
				indeg[i]++;
			}
	for (i = 0; i < n; i++)
		off[i + 1] += off[i];
	cons = hq_xcalloc((size_t)off[n] + 1, sizeof *cons);
	fill = hq_xcalloc((size_t)n + 1, sizeof *fill);
	for (i = 0; i < n; i++)
		for (k = 0; k < jt[i].ndeps; k++)
			if (hq_u32map_get(pos, jt[i].deps[k], &p))
				cons[off[p] + fill[p]++] = i;
	for (i = 0; i < n; i++)
		if (indeg[i] == 0)
			order[tail++] = i;
	while (head < tail) {
		uint32_t cur = order[head++];

		for (k = off[cur]; k < off[cur + 1]; k++)
			if (--indeg[cons[k]] == 0)
				order[tail++] = cons[k];
	}
	free(off);
	free(cons);
	free(fill);
	return tail;
}

static int
jf_graph(const struct hq_toml_value *tasks, const struct jf_ctx *x,
    struct hq_submit *s, struct hq_errbuf *eb)
{
	struct jf_task *jt = NULL;
	struct hq_u32map pos;
	uint32_t n, i, k, p, max_id = 0, *order = NULL, *indeg = NULL;
	size_t len = hq_toml_array_len(tasks);
	bool present;
	int64_t id;
	int rc = 0;

	hq_u32map_init(&pos);
	if (len == 0)
		return jf_err(eb, NULL, "No tasks defined");
	if (len > UINT32_MAX - 1)
		return jf_err(eb, tasks, "too many tasks");
	n = (uint32_t)len;
	jt = hq_xcalloc(n, sizeof *jt);
	for (i = 0; i < n; i++) {
		jt[i].t = hq_toml_array_get(tasks, i);
		if (hq_toml_type(jt[i].t) != HQ_TOML_TABLE) {
			rc = jf_err(eb, jt[i].t,
			    "each `task` must be a table, not %s",
			    jf_a(hq_toml_type(jt[i].t)));
			goto out;
		}
		if ((rc = jf_check_fields(jt[i].t, jf_task_fields, "[[task]]",
			 eb)) != 0 ||
		    (rc = jf_int(jt[i].t, "id", 0, UINT32_MAX, &present, &id,
			 eb)) != 0)
			goto out;
		jt[i].has_id = present;
		jt[i].id = present ? (uint32_t)id : 0;
		if (present && jt[i].id > max_id)
			max_id = jt[i].id;
	}
	/* Ids: explicit ones, then max(explicit, 0) + 1, + 2, ... */
	s->descs = hq_xcalloc(n, sizeof *s->descs);
	for (i = 0; i < n; i++) {
		if (!jt[i].has_id) {
			if (max_id == UINT32_MAX) {
				rc = jf_err(eb, jt[i].t,
				    "no task id is left after %u for this "
				    "task",
				    max_id);
				goto out;
			}
			jt[i].id = ++max_id;
		}
		if (hq_u32map_get(&pos, jt[i].id, &p)) {
			rc = jf_err(eb, jt[i].t,
			    "Task %u is defined multiple times", jt[i].id);
			goto out;
		}
		hq_u32map_put(&pos, jt[i].id, i);
		s->ndescs++;
		if ((rc = jf_desc(jt[i].t, x, &s->descs[i], eb)) != 0 ||
		    (rc = jf_deps(&jt[i], eb)) != 0)
			goto out;
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < jt[i].ndeps; k++) {
			uint32_t d = jt[i].deps[k];

			if (d == jt[i].id ||
			    (!x->o->open_job && !hq_u32map_get(&pos, d, &p))) {
				rc = jf_err(eb, jt[i].t,
				    "Invalid dependency on %u", d);
				goto out;
			}
		}
	order = hq_xcalloc(n, sizeof *order);
	indeg = hq_xcalloc(n, sizeof *indeg);
	if (jf_toposort(jt, n, &pos, order, indeg) < n) {
		for (i = 0; i < n && indeg[i] == 0; i++)
			;
		rc = jf_err(eb, jt[i].t,
		    "Task %u is part of dependency cycle or has an invalid "
		    "dependencies",
		    jt[i].id);
		goto out;
	}
	s->graph = true;
	s->tasks = hq_xcalloc(n, sizeof *s->tasks);
	for (i = 0; i < n; i++) {
		struct jf_task *t = &jt[order[i]];
		struct hq_graph_task *g = &s->tasks[i];

		g->id = t->id;
		g->desc = order[i];
		g->ndeps = t->ndeps;
		g->deps = t->deps;
		t->deps = NULL;
		s->ntasks++;
	}
out:
	for (i = 0; jt != NULL && i < n; i++)
		free(jt[i].deps);
	free(jt);
	free(order);
	free(indeg);
	hq_u32map_fini(&pos);
	return rc;
}

/* ---- entry points
 * ------------------------------------------------------------- */

int
hq_jobfile_parse(const char *text, size_t len, const struct hq_jobfile_opts *o,
    struct hq_jobfile *out, struct hq_errbuf *eb)
{
	struct hq_toml_value *root = NULL;
	const struct hq_toml_value *v, *tasks, *array;
	struct hq_jobfile jf;
	struct jf_ctx x;
	bool present;
	int64_t n;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&jf, 0, sizeof jf);
	memset(&x, 0, sizeof x);
	x.o = o;
	if ((rc = hq_toml_parse(text, len, &root, eb)) != 0)
		return rc;
	if ((rc = jf_check_fields(root, jf_top_fields, "the job definition",
		 eb)) != 0 ||
	    (rc = jf_get(root, "name", HQ_TOML_STRING, &v, eb)) != 0)
		goto out;
	if (v != NULL && strpbrk(hq_toml_string(v), "\n\t") != NULL) {
		rc =
		    jf_err(eb, v, "`name` must not contain a newline or a tab");
		goto out;
	}
	jf.name = hq_xstrdup(v != NULL ? hq_toml_string(v) : "");
	if ((rc = jf_int(root, "max_fails", 0, UINT32_MAX, &present, &n, eb)) !=
	    0)
		goto out;
	jf.has_max_fails = present;
	jf.max_fails = present ? (uint32_t)n : 0;
	if ((rc = jf_get(root, "stream", HQ_TOML_STRING, &v, eb)) != 0)
		goto out;
	if (v != NULL && *hq_toml_string(v) == '\0') {
		rc = jf_err(eb, v, "`stream` must not be empty");
		goto out;
	}
	x.stream = v != NULL;
	if (v != NULL)
		jf.submit.stream_dir = hq_xstrdup(hq_toml_string(v));
	if (o->cwd != NULL)
		jf.submit.submit_dir = hq_xstrdup(o->cwd);
	/* data_layer is accepted and unused, as in HyperQueue. */
	if ((rc = jf_get(root, "data_layer", HQ_TOML_BOOL, &v, eb)) != 0 ||
	    (rc = jf_get(root, "task", HQ_TOML_ARRAY, &tasks, eb)) != 0 ||
	    (rc = jf_get(root, "array", HQ_TOML_TABLE, &array, eb)) != 0)
		goto out;
	if (array != NULL && tasks != NULL) {
		rc = jf_err(eb, array,
		    "[array] cannot be combined with "
		    "[[task]]");
		goto out;
	}
	if (array != NULL) {
		x.where = "[array]";
		x.req_where = "[[array.request]]";
		rc = jf_array(array, &x, &jf.submit, eb);
	} else if (tasks != NULL) {
		x.where = "[[task]]";
		x.req_where = "[[task.request]]";
		rc = jf_graph(tasks, &x, &jf.submit, eb);
	} else {
		rc = jf_err(eb, NULL, "No tasks defined");
	}
out:
	hq_toml_free(root);
	if (rc != 0)
		hq_jobfile_fini(&jf);
	else
		*out = jf;
	return rc;
}

void
hq_jobfile_fini(struct hq_jobfile *jf)
{
	free(jf->name);
	hq_submit_fini(&jf->submit);
	memset(jf, 0, sizeof *jf);
}
