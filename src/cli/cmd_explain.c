/* SPDX-License-Identifier: MIT */
/*
 * hq task explain <last|JOB_ID> <TASK_ID> (spec 2.15, 3.1, 3.2): the
 * server's explanation, printed as HyperQueue prints it, except that the
 * dependency sentence is decided the right way round (spec 4 item 14).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "common/fmt.h"

#define SGR_RED	    "31"
#define SGR_GREEN   "32"
#define SGR_YELLOW  "33"
#define SGR_MAGENTA "35"
#define SGR_CYAN    "36"

static const struct hq_opt explain_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

/* Append 's' in colour 'sgr' when colours are on. */
static void
explain_put(struct hq_buf *b, bool colors, const char *sgr, const char *s)
{
	if (colors)
		hq_buf_printf(b, "\x1b[%sm%s\x1b[0m", sgr, s);
	else
		hq_buf_append_str(b, s);
}

static char *
explain_cstr(struct hq_buf *b)
{
	hq_buf_append(b, "", 1);
	b->len--;
	return (char *)b->data;
}

/* {"secs": s, "nanos": n} -> ms. */
static uint64_t
explain_ms(json_t *d)
{
	return (uint64_t)cli_jint(d, "secs") * 1000 +
	    (uint64_t)cli_jint(d, "nanos") / 1000000;
}

static bool
explain_item_blocks(json_t *item)
{
	json_t *x;

	if ((x = json_object_get(item, "Time")) != NULL) {
		json_t *rem = json_object_get(x, "remaining_time");

		return json_is_object(rem) &&
		    explain_ms(json_object_get(x, "min_time")) >
		    explain_ms(rem);
	}
	if ((x = json_object_get(item, "Resources")) != NULL)
		return cli_jint(x, "request_amount") >
		    cli_jint(x, "worker_amount");
	if ((x = json_object_get(item, "WorkerGroup")) != NULL)
		return cli_jint(x, "n_nodes") > cli_jint(x, "group_size");
	return false;
}

static bool
explain_variant_blocks(json_t *variant)
{
	size_t i;

	for (i = 0; i < json_array_size(variant); i++)
		if (explain_item_blocks(json_array_get(variant, i)))
			return true;
	return false;
}

/* One item as the Type, Provides and Request lines of the table. */
static void
explain_item(bool colors, json_t *item, struct hq_buf *type,
    struct hq_buf *prov, struct hq_buf *req)
{
	const char *rc = explain_item_blocks(item) ? SGR_RED : SGR_GREEN;
	struct hq_buf t;
	json_t *x;

	hq_buf_init(&t);
	if ((x = json_object_get(item, "Time")) != NULL) {
		json_t *rem = json_object_get(x, "remaining_time");

		explain_put(type, colors, SGR_MAGENTA, "time");
		if (json_is_object(rem))
			hq_fmt_duration(&t, explain_ms(rem));
		else
			hq_buf_append_str(&t, "unknown");
		explain_put(prov, colors, SGR_YELLOW, explain_cstr(&t));
		hq_buf_reset(&t);
		hq_fmt_duration(&t, explain_ms(json_object_get(x, "min_time")));
		explain_put(req, colors, rc, explain_cstr(&t));
	} else if ((x = json_object_get(item, "Resources")) != NULL) {
		explain_put(type, colors, SGR_CYAN, cli_jstr(x, "resource"));
		hq_fmt_amount(&t, (uint64_t)cli_jint(x, "worker_amount"));
		explain_put(prov, colors, SGR_YELLOW, explain_cstr(&t));
		hq_buf_reset(&t);
		hq_fmt_amount(&t, (uint64_t)cli_jint(x, "request_amount"));
		explain_put(req, colors, rc, explain_cstr(&t));
	} else if ((x = json_object_get(item, "WorkerGroup")) != NULL) {
		explain_put(type, colors, SGR_MAGENTA, "nodes");
		hq_buf_printf(&t, "group size %lld",
		    (long long)cli_jint(x, "group_size"));
		explain_put(prov, colors, SGR_YELLOW, explain_cstr(&t));
		hq_buf_reset(&t);
		hq_buf_printf(&t, "%lld", (long long)cli_jint(x, "n_nodes"));
		explain_put(req, colors, rc, explain_cstr(&t));
	}
	hq_buf_fini(&t);
}

/* Rows of one worker: one per variant that has items (spec 2.15). */
static void
explain_worker_rows(struct cli *c, struct hq_table *t, json_t *w,
    uint32_t *runnable, size_t *nrunnable)
{
	json_t *variants = json_object_get(w, "variants");
	size_t nv = json_array_size(variants), enabled = 0, i, k;
	struct hq_buf run, type, prov, req;
	char id[24], vi[24];
	bool first = true;

	for (i = 0; i < nv; i++)
		if (!explain_variant_blocks(json_array_get(variants, i)))
			enabled++;
	hq_buf_init(&run);
	if (enabled == 0)
		explain_put(&run, c->colors, SGR_RED, "No");
	else if (nv == 1)
		explain_put(&run, c->colors, SGR_GREEN, "Yes");
	else {
		char n[48];

		explain_put(&run, c->colors, SGR_GREEN, "Yes");
		hq_buf_append_str(&run, " (");
		snprintf(n, sizeof n, "%zu", enabled);
		explain_put(&run, c->colors, SGR_GREEN, n);
		hq_buf_printf(&run, "/%zu)", nv);
	}
	if (enabled > 0)
		runnable[(*nrunnable)++] = (uint32_t)cli_jint(w, "worker_id");
	snprintf(id, sizeof id, "%lld", (long long)cli_jint(w, "worker_id"));
	hq_buf_init(&type);
	hq_buf_init(&prov);
	hq_buf_init(&req);
	for (i = 0; i < nv; i++) {
		json_t *v = json_array_get(variants, i);
		const char *cells[6];

		if (json_array_size(v) == 0)
			continue;
		hq_buf_reset(&type);
		hq_buf_reset(&prov);
		hq_buf_reset(&req);
		for (k = 0; k < json_array_size(v); k++) {
			if (k > 0) {
				hq_buf_append_str(&type, "\n");
				hq_buf_append_str(&prov, "\n");
				hq_buf_append_str(&req, "\n");
			}
			explain_item(c->colors, json_array_get(v, k), &type,
			    &prov, &req);
		}
		snprintf(vi, sizeof vi, "%zu", i);
		cells[0] = first ? id : "";
		cells[1] = first ? explain_cstr(&run) : "";
		cells[2] = vi;
		cells[3] = explain_cstr(&type);
		cells[4] = explain_cstr(&prov);
		cells[5] = explain_cstr(&req);
		hq_table_add_row(t, cells);
		if (explain_variant_blocks(v))
			hq_table_color_last(t, 2, SGR_RED);
		first = false;
	}
	if (first) {
		const char *cells[6] = { id, explain_cstr(&run), "", "", "",
			"" };

		hq_table_add_row(t, cells);
	}
	hq_buf_fini(&run);
	hq_buf_fini(&type);
	hq_buf_fini(&prov);
	hq_buf_fini(&req);
}

static void
explain_print(struct cli *c, json_t *res)
{
	static const char *const hdr[] = { "Worker Id", "Runnable", "Variant",
		"Type", "Provides", "Request" };
	json_t *tid = json_object_get(res, "task_id");
	json_t *ex = json_object_get(res, "explanation");
	json_t *workers = json_object_get(ex, "workers");
	int64_t ndeps = cli_jint(ex, "n_task_deps");
	int64_t nwait = cli_jint(ex, "n_waiting_deps");
	size_t nw = json_array_size(workers), nrun = 0, i;
	uint32_t *run = hq_xcalloc(nw + 1, sizeof *run);
	struct hq_table *t = hq_table_create(6);
	struct hq_buf b, x;
	char id[48];

	snprintf(id, sizeof id, "%lld@%lld", (long long)cli_jint(tid, "job_id"),
	    (long long)cli_jint(tid, "job_task_id"));
	hq_buf_init(&b);
	hq_buf_init(&x);
	hq_buf_append_str(&b, "Task ");
	explain_put(&b, c->colors, SGR_CYAN, id);
	/*
	 * HyperQueue says "ready ... all dependencies are finished" when every
	 * dependency is still waiting (n_waiting_deps == n_task_deps). The
	 * intent is the opposite: ready when none is waiting.
	 */
	if (ndeps == 0) {
		hq_buf_append_str(&b, " is ");
		explain_put(&b, c->colors, SGR_YELLOW, "ready");
		hq_buf_append_str(&b,
		    " to run because it has no dependencies.\n");
	} else if (nwait == 0) {
		hq_buf_append_str(&b, " is ");
		explain_put(&b, c->colors, SGR_YELLOW, "ready");
		hq_buf_append_str(&b, " to run because its all ");
		hq_buf_printf(&x, "%lld", (long long)ndeps);
		explain_put(&b, c->colors, SGR_CYAN, explain_cstr(&x));
		hq_buf_append_str(&b, " dependencies are finished.\n");
	} else {
		hq_buf_append_str(&b, " is ");
		explain_put(&b, c->colors, SGR_GREEN, "not ready");
		hq_buf_append_str(&b, " to run, because ");
		hq_buf_printf(&x, "%lld/%lld", (long long)nwait,
		    (long long)ndeps);
		explain_put(&b, c->colors, SGR_RED, explain_cstr(&x));
		hq_buf_append_str(&b, " dependencies are not finished.\n");
	}
	hq_table_set_header(t, hdr);
	for (i = 0; i < nw; i++)
		explain_worker_rows(c, t, json_array_get(workers, i), run,
		    &nrun);
	if (nrun == 0) {
		hq_buf_append_str(&b, "There is ");
		explain_put(&b, c->colors, SGR_RED, "no worker");
		hq_buf_append_str(&b, " where the task can run.\n");
	} else {
		hq_buf_reset(&x);
		hq_buf_printf(&x, "%zu", nrun);
		hq_buf_append_str(&b, "The task can run on ");
		explain_put(&b, c->colors, SGR_GREEN, explain_cstr(&x));
		hq_buf_printf(&b, " worker%s: ", nrun == 1 ? "" : "s");
		hq_buf_reset(&x);
		hq_fmt_ids_sorted(&x, run, nrun);
		explain_put(&b, c->colors, SGR_GREEN, explain_cstr(&x));
		hq_buf_append_str(&b, "\n");
	}
	fwrite(b.data, 1, b.len, stdout);
	if (nw > 0)
		cli_table_print(c, t);
	hq_table_destroy(t);
	hq_buf_fini(&b);
	hq_buf_fini(&x);
	free(run);
}

int
cmd_task_explain(struct cli *c, int argc, char **argv)
{
	struct hq_selector sel;
	struct hq_idset tasks;
	struct hq_errbuf eb;
	struct hq_args a;
	uint32_t tid;
	json_t *res;

	cli_parse(c, &a, explain_opts, argc, argv, 2, false,
	    "<JOB_ID> <TASK_ID>",
	    "Explain why a task can or cannot run on the workers");
	if (a.npos < 2)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n%s  <TASK_ID>\n\nFor more information, try "
		    "'--help'.",
		    a.npos == 0 ? "  <JOB_ID>\n" : "");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_SINGLE, &sel);
	if (hq_parse_u32(a.pos[1], &tid, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '<TASK_ID>': %s\n\nFor "
		    "more information, try '--help'.",
		    a.pos[1], eb.msg);
	memset(&tasks, 0, sizeof tasks);
	hq_idset_add(&tasks, tid);
	res =
	    cli_query(c, HQ_Q_TASK_EXPLAIN, &sel, &tasks, true, NULL, 0, false);
	if (c->mode == CLI_MODE_JSON)
		cli_print_json(c, res);
	else if (c->mode == CLI_MODE_CLI)
		explain_print(c, res);
	json_decref(res);
	hq_idset_fini(&tasks);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}
