/* SPDX-License-Identifier: MIT */
/*
 * `hq task list` and `hq task info`: tables of tasks rendered from the
 * server's task JSON (spec 3.1, 3.2), and the display of task descriptions
 * shared with `hq job info`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "common/fmt.h"
#include "common/log.h"

/*
 * Display form of one field of a task description (the "array" desc JSON
 * of job info, or a task's "_desc"), appended to 'out' and NUL-terminated:
 * "resources", "pin", "priority", "command", "stdout", "stderr",
 * "environment", "cwd", "time_limit", "crash_limit" or "task_dir".
 * Used by cmd_job.c too, which repeats this prototype.
 */
void cli_desc_field(struct hq_buf *out, json_t *desc, const char *field);

/* Errors longer than these are cut without -v (HyperQueue's limits). */
#define TASK_ERROR_LIST 16
#define TASK_ERROR_INFO 237

static const char *const task_state_names[] = { "waiting", "running",
	"finished", "failed", "canceled", "aborted", NULL };

static const struct hq_opt task_list_opts[] = {
	{ "tasks", 0, HQ_OPT_VALUE, "TASKS",
	    "Select only tasks with these IDs" },
	{ "task-status", 0, HQ_OPT_VALUE, "STATES",
	    "Select only tasks in these states "
	    "(waiting,running,finished,failed,canceled,aborted)" },
	{ "verbose", 'v', HQ_OPT_FLAG, NULL, "Show the full error messages" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt task_info_opts[] = {
	{ "verbose", 'v', HQ_OPT_FLAG, NULL, "Show the full error message" },
	{ NULL, 0, 0, NULL, NULL },
};

/* "waiting" -> "WAITING" into 'out' (at least 16 bytes). */
static void
task_upper(const char *s, char *out, size_t size)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		out[i] =
		    (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
	out[i] = '\0';
}

/* ---- task descriptions --------------------------------------------------- */

static void
desc_policy(struct hq_buf *out, json_t *req)
{
	static const struct {
		const char *key, *name;
	} policies[] = {
		{ "Compact", "compact" },
		{ "ForceCompact", "compact!" },
		{ "Tight", "tight" },
		{ "ForceTight", "tight!" },
		{ "Scatter", "scatter" },
	};
	size_t i;

	if (json_is_string(req)) {
		hq_buf_append_str(out, "all");
		return;
	}
	for (i = 0; i < HQ_ARRAY_LEN(policies); i++) {
		json_t *v = json_object_get(req, policies[i].key);

		if (json_is_integer(v)) {
			hq_fmt_amount(out, (uint64_t)json_integer_value(v));
			hq_buf_printf(out, " %s", policies[i].name);
			return;
		}
	}
	hq_buf_append_str(out, "?");
}

static int
desc_entry_cmp(const void *a, const void *b)
{
	return strcmp(cli_jstr(*(json_t *const *)a, "resource"),
	    cli_jstr(*(json_t *const *)b, "resource"));
}

/* One variant: "cpus: 1 compact\ngpus: 2 scatter" or "nodes: N". */
static void
desc_variant(struct hq_buf *out, json_t *v)
{
	json_t *entries = json_object_get(v, "resources"), **sorted;
	size_t n = json_array_size(entries), i;
	int64_t weight = cli_jint(v, "weight");

	if (cli_jint(v, "n_nodes") > 0) {
		hq_buf_printf(out, "nodes: %lld",
		    (long long)cli_jint(v, "n_nodes"));
		return;
	}
	sorted = hq_xcalloc(n + 1, sizeof *sorted);
	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(entries, i);
	qsort(sorted, n, sizeof *sorted, desc_entry_cmp);
	for (i = 0; i < n; i++) {
		hq_buf_printf(out, "%s%s: ", i ? "\n" : "",
		    cli_jstr(sorted[i], "resource"));
		desc_policy(out, json_object_get(sorted[i], "request"));
	}
	free(sorted);
	if (weight > 0 && weight != HQ_AMOUNT_ONE) {
		hq_buf_append_str(out, n ? "\n[weight: " : "[weight: ");
		hq_fmt_amount(out, (uint64_t)weight);
		hq_buf_append_str(out, "]");
	}
}

static void
desc_resources(struct hq_buf *out, json_t *variants)
{
	size_t n = json_array_size(variants), i;

	if (n == 1) {
		desc_variant(out, json_array_get(variants, 0));
		return;
	}
	for (i = 0; i < n; i++) {
		hq_buf_printf(out, "%s# Variant %zu\n", i ? "\n\n" : "", i + 1);
		desc_variant(out, json_array_get(variants, i));
	}
}

/* null -> <None>, "<pipe>" -> <Stream>, else the path. */
static const char *
task_stdio(json_t *v)
{
	if (v == NULL)
		return "";
	if (!json_is_string(v))
		return "<None>";
	if (strcmp(json_string_value(v), "<pipe>") == 0)
		return "<Stream>";
	return json_string_value(v);
}

static int
desc_env_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* K=V lines sorted by key, without the HQ_* variables. */
static void
desc_env(struct hq_buf *out, json_t *env)
{
	const char **keys, *key;
	size_t n = 0, i;
	json_t *v;

	keys = hq_xcalloc(json_object_size(env) + 1, sizeof *keys);
	json_object_foreach(env, key, v)
	{
		if (strncmp(key, "HQ_", 3) != 0)
			keys[n++] = key;
	}
	qsort(keys, n, sizeof *keys, desc_env_cmp);
	for (i = 0; i < n; i++)
		hq_buf_printf(out, "%s%s=%s", i ? "\n" : "", keys[i],
		    cli_jstr(env, keys[i]));
	free(keys);
}

/* Float seconds (JSON) to milliseconds, rounded. */
static uint64_t
task_secs_ms(json_t *v)
{
	double s = json_number_value(v);

	return s > 0 ? (uint64_t)(s * 1000.0 + 0.5) : 0;
}

void
cli_desc_field(struct hq_buf *out, json_t *desc, const char *field)
{
	json_t *prog = json_object_get(desc, "program"), *v;
	size_t i;

	if (strcmp(field, "resources") == 0) {
		desc_resources(out, json_object_get(desc, "resources"));
	} else if (strcmp(field, "pin") == 0) {
		/* JSON says "openmp"; the tables say "omp". */
		v = json_object_get(desc, "pin_mode");
		if (!json_is_string(v))
			hq_buf_append_str(out, "none");
		else if (strcmp(json_string_value(v), "openmp") == 0)
			hq_buf_append_str(out, "omp");
		else
			hq_buf_append_str(out, json_string_value(v));
	} else if (strcmp(field, "priority") == 0) {
		hq_buf_printf(out, "%lld",
		    (long long)cli_jint(desc, "priority"));
	} else if (strcmp(field, "command") == 0) {
		v = json_object_get(prog, "args");
		for (i = 0; i < json_array_size(v); i++)
			hq_buf_printf(out, "%s%s", i ? "\n" : "",
			    json_string_value(json_array_get(v, i)));
	} else if (strcmp(field, "stdout") == 0 ||
	    strcmp(field, "stderr") == 0) {
		v = json_object_get(prog, field);
		hq_buf_append_str(out, task_stdio(v ? v : json_null()));
	} else if (strcmp(field, "environment") == 0) {
		desc_env(out, json_object_get(prog, "env"));
	} else if (strcmp(field, "cwd") == 0) {
		hq_buf_append_str(out, cli_jstr(prog, "cwd"));
	} else if (strcmp(field, "time_limit") == 0) {
		v = json_object_get(desc, "time_limit");
		if (json_is_number(v))
			hq_fmt_duration(out, task_secs_ms(v));
		else
			hq_buf_append_str(out, "None");
	} else if (strcmp(field, "crash_limit") == 0) {
		v = json_object_get(desc, "crash_limit");
		if (json_is_integer(v))
			hq_buf_printf(out, "%lld",
			    (long long)json_integer_value(v));
		else
			hq_buf_append_str(out, cli_jstr(desc, "crash_limit"));
	} else if (strcmp(field, "task_dir") == 0) {
		hq_buf_append_str(out,
		    json_is_true(json_object_get(desc, "task_dir")) ? "yes"
								    : "no");
	}
	hq_buf_cstr(out);
}

/* ---- shared task rendering
 * ---------------------------------------------------- */

static bool
task_has_times(const char *state)
{
	return strcmp(state, "waiting") != 0 && strcmp(state, "aborted") != 0;
}

/* Makespan of a task: running -> now - start; ended -> end - start. */
static void
task_makespan(struct hq_buf *out, json_t *t)
{
	const char *state = cli_jstr(t, "state");
	int64_t start = cli_jint(t, "_start_ms"), end = cli_jint(t, "_end_ms");
	int64_t now = (int64_t)hq_now_ms();

	if (start > 0 && task_has_times(state)) {
		if (strcmp(state, "running") == 0)
			hq_fmt_makespan(out,
			    (uint64_t)(now > start ? now - start : 0));
		else if (end > 0)
			hq_fmt_makespan(out,
			    (uint64_t)(end > start ? end - start : 0));
	}
	hq_buf_cstr(out);
}

static const char *
task_worker(json_t *t)
{
	/* A waiting task may be assigned but has not run there yet. */
	if (strcmp(cli_jstr(t, "state"), "waiting") == 0)
		return "";
	return cli_jstr(t, "_worker_host");
}

/*
 * The error cell: cut to 'limit' bytes plus "..." once it is at least that
 * long (HyperQueue cuts at ">=", so an error of exactly 'limit' bytes gets
 * the dots too). The cut backs off to a UTF-8 character boundary.
 */
static void
task_error(struct hq_buf *out, const char *err, size_t limit, bool verbose,
    bool *truncated)
{
	size_t len = strlen(err);

	if (!verbose && len >= limit) {
		while (limit > 0 && ((unsigned char)err[limit] & 0xc0) == 0x80)
			limit--;
		hq_buf_append(out, err, limit);
		hq_buf_append_str(out, "...");
		*truncated = true;
	} else {
		hq_buf_append_str(out, err);
	}
	hq_buf_cstr(out);
}

static int
task_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Log "Job N not found" for selected ids that are not keys of 'jobs'. */
static void
task_missing_jobs(const struct hq_selector *sel, json_t *jobs)
{
	uint32_t i, k, checked = 0;
	char key[16];

	if (sel->kind != HQ_SEL_IDS)
		return;
	for (i = 0; i < sel->ids.n; i++)
		for (k = 0; k < sel->ids.r[i].count && checked < 100000;
		     k++, checked++) {
			uint32_t id =
			    sel->ids.r[i].start + k * sel->ids.r[i].step;

			snprintf(key, sizeof key, "%u", id);
			if (json_object_get(jobs, key) == NULL)
				hq_error("Job %u not found", id);
		}
}

/* Job ids (the keys of a task-list answer) in numeric order. */
static uint32_t *
task_job_ids(json_t *jobs, size_t *n)
{
	uint32_t *ids = hq_xcalloc(json_object_size(jobs) + 1, sizeof *ids);
	const char *key;
	json_t *v;

	*n = 0;
	json_object_foreach(jobs, key, v)
	{
		ids[(*n)++] = (uint32_t)strtoul(key, NULL, 10);
	}
	qsort(ids, *n, sizeof *ids, task_u32_cmp);
	return ids;
}

/* Parse --tasks and --task-status into a query. */
static void
task_filters(struct cli *c, const char *tasks, const char *status,
    struct hq_idset *ids, bool *has_tasks, const char ***states,
    uint32_t *nstates)
{
	struct hq_errbuf eb;

	*has_tasks = false;
	*states = NULL;
	*nstates = 0;
	memset(ids, 0, sizeof *ids);
	if (tasks != NULL) {
		if (hq_parse_idset(tasks, ids, &eb) != 0)
			cli_fail(c,
			    "error: invalid value '%s' for '--tasks <TASKS>': "
			    "%s\n\nFor more information, try '--help'.",
			    tasks, eb.msg);
		*has_tasks = true;
	}
	if (status != NULL)
		*states = cli_states(c, status, task_state_names, nstates);
}

/* ---- task list
 * ------------------------------------------------------------------ */

int
cmd_task_list(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = task_list_opts;
	struct hq_args a;
	struct hq_selector sel;
	struct hq_idset ids;
	struct hq_table *t = NULL;
	struct hq_buf mk, err;
	const char **states = NULL;
	uint32_t nstates, *jobs = NULL;
	size_t njobs = 0, i, k, col;
	bool has_tasks, verbose, truncated = false, several;
	json_t *res;

	cli_parse(c, &a, opts, argc, argv, 1, false, "<JOB_SELECTOR>",
	    "Display tasks of jobs");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <JOB_SELECTOR>\n\nFor more information, try "
		    "'--help'.");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST, &sel);
	task_filters(c, hq_args_get(&a, "tasks"),
	    hq_args_get(&a, "task-status"), &ids, &has_tasks, &states,
	    &nstates);
	verbose = hq_args_flag(&a, "verbose");
	res = cli_query(c, HQ_Q_TASK_LIST, &sel, &ids, has_tasks, states,
	    nstates, false);
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, res);
		goto out;
	}
	task_missing_jobs(&sel, res);
	if (c->mode == CLI_MODE_QUIET)
		goto out;
	jobs = task_job_ids(res, &njobs);
	/* As HyperQueue: the Job ID column unless exactly one job. */
	several = njobs != 1;
	t = hq_table_create(several ? 6 : 5);
	{
		static const char *const hdr[] = { "Job ID", "Task ID", "State",
			"Worker", "Makespan", "Error" };

		hq_table_set_header(t, several ? hdr : hdr + 1);
	}
	if (several)
		hq_table_right(t, 0);
	hq_table_right(t, several ? 1 : 0);
	hq_buf_init(&mk);
	hq_buf_init(&err);
	for (i = 0; i < njobs; i++) {
		char key[16], jid[16], tid[16], state[16];
		json_t *tasks;

		snprintf(key, sizeof key, "%u", jobs[i]);
		tasks = json_object_get(res, key);
		for (k = 0; k < json_array_size(tasks); k++) {
			json_t *task = json_array_get(tasks, k);
			const char *cells[6];

			col = 0;
			snprintf(jid, sizeof jid, "%u", jobs[i]);
			snprintf(tid, sizeof tid, "%lld",
			    (long long)cli_jint(task, "id"));
			task_upper(cli_jstr(task, "state"), state,
			    sizeof state);
			hq_buf_reset(&mk);
			hq_buf_reset(&err);
			task_makespan(&mk, task);
			task_error(&err, cli_jstr(task, "error"),
			    TASK_ERROR_LIST, verbose, &truncated);
			if (several)
				cells[col++] = jid;
			cells[col++] = tid;
			cells[col++] = state;
			cells[col++] = task_worker(task);
			cells[col++] = (char *)mk.data;
			cells[col++] = (char *)err.data;
			hq_table_add_row(t, cells);
			hq_table_color_last(t, col - 4, hq_state_sgr(state));
			if (err.len > 0)
				hq_table_color_last(t, col - 1, "31");
		}
	}
	hq_buf_fini(&mk);
	hq_buf_fini(&err);
	cli_table_print(c, t);
	if (truncated)
		hq_info("An error message was truncated. Use -v to display the "
			"full error.");
out:
	hq_table_destroy(t);
	free(jobs);
	json_decref(res);
	free(states);
	hq_idset_fini(&ids);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

/* ---- task info
 * ------------------------------------------------------------------ */

static void
task_info_row(struct hq_table *t, const char *key, const char *value)
{
	const char *cells[2] = { key, value };

	hq_table_add_row(t, cells);
}

static void
task_info_print(struct cli *c, json_t *task, bool verbose, bool *truncated)
{
	struct hq_table *t = hq_table_create(2);
	json_t *desc = json_object_get(task, "_desc"), *deps;
	const char *state_l = cli_jstr(task, "state");
	int64_t start = cli_jint(task, "_start_ms"),
		end = cli_jint(task, "_end_ms");
	struct hq_buf b;
	char state[16];
	size_t i;

	hq_buf_init(&b);
	hq_buf_printf(&b, "%lld", (long long)cli_jint(task, "id"));
	task_info_row(t, "Task ID", hq_buf_cstr(&b));
	task_upper(state_l, state, sizeof state);
	task_info_row(t, "State", state);
	hq_table_color_last(t, 1, hq_state_sgr(state));
	hq_buf_reset(&b);
	cli_desc_field(&b, desc, "command");
	task_info_row(t, "Command", (char *)b.data);
	hq_buf_reset(&b);
	cli_desc_field(&b, desc, "environment");
	task_info_row(t, "Environment", (char *)b.data);
	task_info_row(t, "Worker", task_worker(task));
	hq_buf_reset(&b);
	if (start > 0 && task_has_times(state_l))
		hq_fmt_local(&b, (uint64_t)start);
	task_info_row(t, "Start", hq_buf_cstr(&b));
	hq_buf_reset(&b);
	if (end > 0 && start > 0 && task_has_times(state_l) &&
	    strcmp(state_l, "running") != 0)
		hq_fmt_local(&b, (uint64_t)end);
	task_info_row(t, "End", hq_buf_cstr(&b));
	hq_buf_reset(&b);
	task_makespan(&b, task);
	task_info_row(t, "Makespan", (char *)b.data);
	task_info_row(t, "Workdir", cli_jstr(task, "cwd"));
	task_info_row(t, "Stdout", task_stdio(json_object_get(task, "stdout")));
	task_info_row(t, "Stderr", task_stdio(json_object_get(task, "stderr")));
	hq_buf_reset(&b);
	cli_desc_field(&b, desc, "time_limit");
	task_info_row(t, "Time limit", (char *)b.data);
	hq_buf_reset(&b);
	cli_desc_field(&b, desc, "resources");
	task_info_row(t, "Resources", (char *)b.data);
	hq_buf_reset(&b);
	cli_desc_field(&b, desc, "priority");
	task_info_row(t, "Priority", (char *)b.data);
	hq_buf_reset(&b);
	cli_desc_field(&b, desc, "pin");
	task_info_row(t, "Pin", (char *)b.data);
	hq_buf_reset(&b);
	cli_desc_field(&b, desc, "task_dir");
	task_info_row(t, "Task dir", (char *)b.data);
	hq_buf_reset(&b);
	cli_desc_field(&b, desc, "crash_limit");
	task_info_row(t, "Crash limit", (char *)b.data);
	hq_buf_reset(&b);
	deps = json_object_get(task, "_deps");
	for (i = 0; i < json_array_size(deps); i++)
		hq_buf_printf(&b, "%s%lld", i ? "," : "",
		    (long long)json_integer_value(json_array_get(deps, i)));
	task_info_row(t, "Dependencies", hq_buf_cstr(&b));
	hq_buf_reset(&b);
	task_error(&b, cli_jstr(task, "error"), TASK_ERROR_INFO, verbose,
	    truncated);
	task_info_row(t, "Error", (char *)b.data);
	if (b.len > 0)
		hq_table_color_last(t, 1, "31");
	cli_kv_print(c, t);
	hq_table_destroy(t);
	hq_buf_fini(&b);
}

/* Warn about requested task ids the answer does not have. */
static void
task_missing_tasks(const struct hq_idset *want, json_t *tasks)
{
	size_t n = json_array_size(tasks), i;
	uint32_t *have = hq_xcalloc(n + 1, sizeof *have), k, checked = 0;

	for (i = 0; i < n; i++)
		have[i] = (uint32_t)cli_jint(json_array_get(tasks, i), "id");
	qsort(have, n, sizeof *have, task_u32_cmp);
	for (i = 0; i < want->n; i++)
		for (k = 0; k < want->r[i].count && checked < 1000000;
		     k++, checked++) {
			uint32_t id = want->r[i].start + k * want->r[i].step;

			if (bsearch(&id, have, n, sizeof *have, task_u32_cmp) ==
			    NULL)
				hq_warn("Task %u not found", id);
		}
	free(have);
}

int
cmd_task_info(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = task_info_opts;
	struct hq_args a;
	struct hq_selector sel;
	struct hq_idset ids;
	struct hq_errbuf eb;
	bool verbose, truncated = false;
	json_t *res;
	size_t i;

	cli_parse(c, &a, opts, argc, argv, 2, false,
	    "<JOB_SELECTOR> <TASK_IDS>", "Display information about tasks");
	if (a.npos < 2)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  %s\n\nFor more information, try '--help'.",
		    a.npos == 0 ? "<JOB_SELECTOR>\n  <TASK_IDS>"
				: "<TASK_IDS>");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_SINGLE, &sel);
	if (hq_parse_idset(a.pos[1], &ids, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '<TASK_IDS>': %s\n\nFor "
		    "more information, try '--help'.",
		    a.pos[1], eb.msg);
	verbose = hq_args_flag(&a, "verbose");
	res = cli_query(c, HQ_Q_TASK_INFO, &sel, &ids, true, NULL, 0, true);
	if (c->mode != CLI_MODE_JSON)
		task_missing_tasks(&ids, res);
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, res);
	} else if (c->mode == CLI_MODE_CLI) {
		for (i = 0; i < json_array_size(res); i++)
			task_info_print(c, json_array_get(res, i), verbose,
			    &truncated);
		if (truncated)
			hq_info("An error message(s) was truncated. Use -v to "
				"display the full error(s).");
	}
	json_decref(res);
	hq_idset_fini(&ids);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}
