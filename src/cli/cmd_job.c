/* SPDX-License-Identifier: MIT */
/*
 * The `hq job ...` commands other than submit, wait and progress: list,
 * info, summary, cancel, forget, close, open, task-ids and cat. Tables and
 * lines are rendered from the server's JSON (spec 3.1, 3.2, 3.3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "common/fmt.h"
#include "common/log.h"

/* Defined in cmd_task.c (see there). */
void cli_desc_field(struct hq_buf *out, json_t *desc, const char *field);

/* The longest --reason accepted by `job cancel`, in bytes. */
#define JOB_REASON_MAX 200
/* Hostnames shown in the Workers row of job info. */
#define JOB_SHOWN_WORKERS 2

static const char *const job_state_names[] = { "waiting", "running", "finished",
	"failed", "canceled", "aborted", "opened", NULL };
static const char *const job_forget_states[] = { "finished", "failed",
	"aborted", "canceled", NULL };
static const char *const job_task_states[] = { "waiting", "running", "finished",
	"failed", "canceled", "aborted", NULL };

static const struct hq_opt job_list_opts[] = {
	{ "all", 0, HQ_OPT_FLAG, NULL, "Display all jobs" },
	{ "filter", 0, HQ_OPT_VALUE, "STATES",
	    "Display only jobs in these states "
	    "(waiting,running,finished,failed,canceled,aborted,opened)" },
	{ "verbose", 0, HQ_OPT_FLAG, NULL, "Show the cancel reason too" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt job_none_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt job_cancel_opts[] = {
	{ "reason", 0, HQ_OPT_VALUE, "REASON",
	    "Why the jobs are canceled (at most 200 bytes)" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt job_forget_opts[] = {
	{ "filter", 0, HQ_OPT_VALUE, "STATES",
	    "Forget only jobs in these states "
	    "(default: finished,failed,aborted,canceled)" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt job_task_ids_opts[] = {
	{ "filter", 0, HQ_OPT_VALUE, "STATES",
	    "Only tasks in these states "
	    "(waiting,running,finished,failed,canceled,aborted)" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt job_open_opts[] = {
	{ "name", 0, HQ_OPT_VALUE, "NAME", "Name of the job [default: job]" },
	{ "max-fails", 0, HQ_OPT_VALUE, "MAX_FAILS",
	    "Cancel the job once more than this many tasks failed" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt job_cat_opts[] = {
	{ "tasks", 0, HQ_OPT_VALUE, "TASKS",
	    "Select only tasks with these IDs" },
	{ "task-status", 0, HQ_OPT_VALUE, "STATES",
	    "Select only tasks in these states" },
	{ "print-task-header", 0, HQ_OPT_FLAG, NULL,
	    "Print '# Job J, task T' before each file" },
	{ NULL, 0, 0, NULL, NULL },
};

static void
job_need_pos(struct cli *c, const struct hq_args *a, uint32_t n,
    const char *names)
{
	if (a->npos < n)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  %s\n\nFor more information, try '--help'.",
		    names);
}

/* Text in the SGR colour 'sgr' when colours are on. */
static void
job_colored(struct hq_buf *out, bool colors, const char *sgr, const char *s)
{
	if (colors && sgr != NULL)
		hq_buf_printf(out, "\x1b[%sm%s\x1b[0m", sgr, s);
	else
		hq_buf_append_str(out, s);
}

/* "2026-01-01T10:00:00.123456789Z" -> ms since the epoch; 0 if malformed. */
static uint64_t
job_parse_time(const char *s)
{
	struct tm tm;
	int n = 0, len = 0;
	uint64_t ms = 0, scale = 100;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if (s[n] == '.')
		for (len = n + 1; s[len] >= '0' && s[len] <= '9'; len++) {
			ms += (uint64_t)(s[len] - '0') * scale;
			scale /= 10;
		}
	if ((t = timegm(&tm)) == (time_t)-1 || t < 0)
		return 0;
	return (uint64_t)t * 1000 + ms;
}

/* A command (cancel, forget, close, worker stop): print the reply lines. */
static void
job_command(struct cli *c, int sub, const struct hq_selector *sel,
    const char **states, uint32_t nstates, const char *reason)
{
	struct hq_cmsg m;
	struct hq_smsg r;

	cli_connect(c);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_COMMAND;
	m.sub = sub;
	m.sel = *sel;
	m.states = (char **)states;
	m.nstates = nstates;
	m.reason = (char *)reason;
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message ? r.message : "server error");
	if (r.kind != HQ_SMSG_COMMAND)
		cli_fail(c, "unexpected reply from the server");
	/* Error lines are reported, but the exit code stays 0 (spec 1.6). */
	cli_print_lines(c, &r);
	hq_smsg_fini(&r);
}

static int
job_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Keys of an object keyed by job id, in numeric order. */
static uint32_t *
job_keys(json_t *o, size_t *n)
{
	uint32_t *ids = hq_xcalloc(json_object_size(o) + 1, sizeof *ids);
	const char *key;
	json_t *v;

	*n = 0;
	json_object_foreach(o, key, v)
	{
		ids[(*n)++] = (uint32_t)strtoul(key, NULL, 10);
	}
	qsort(ids, *n, sizeof *ids, job_u32_cmp);
	return ids;
}

/* A JSON array of integers as IntArray text ("1-3,7"). */
static void
job_fmt_ids(struct hq_buf *out, json_t *arr)
{
	size_t n = json_array_size(arr), i;
	uint32_t *ids = hq_xcalloc(n + 1, sizeof *ids);

	for (i = 0; i < n; i++)
		ids[i] = (uint32_t)json_integer_value(json_array_get(arr, i));
	qsort(ids, n, sizeof *ids, job_u32_cmp);
	hq_fmt_ids_sorted(out, ids, n);
	free(ids);
	hq_buf_cstr(out);
}

/* ---- job list
 * ------------------------------------------------------------------ */

static bool
job_listed(json_t *job, const char **states, uint32_t nstates)
{
	const char *st = cli_jstr(job, "_state");
	uint32_t i;

	if (states == NULL)
		return strcmp(st, "WAITING") == 0 ||
		    strcmp(st, "RUNNING") == 0 ||
		    json_is_true(json_object_get(job, "is_open"));
	for (i = 0; i < nstates; i++)
		if (strcasecmp(states[i], st) == 0)
			return true;
	return false;
}

static void
job_list_print(struct cli *c, json_t *shown, size_t total, bool verbose)
{
	static const char *const hdr[] = { "ID", "Name", "State", "Tasks",
		"Cancel Reason" };
	struct hq_table *t = hq_table_create(verbose ? 5 : 4);
	size_t n = json_array_size(shown), i;
	bool open = false;

	hq_table_set_header(t, hdr);
	hq_table_right(t, 0);
	for (i = 0; i < n; i++) {
		json_t *job = json_array_get(shown, i);
		const char *cells[5];
		char id[16], tasks[24], *name;

		if (json_is_true(json_object_get(job, "is_open"))) {
			snprintf(id, sizeof id, "*%lld",
			    (long long)cli_jint(job, "id"));
			open = true;
		} else {
			snprintf(id, sizeof id, "%lld",
			    (long long)cli_jint(job, "id"));
		}
		snprintf(tasks, sizeof tasks, "%lld",
		    (long long)cli_jint(job, "task_count"));
		name = hq_truncate_middle(cli_jstr(job, "name"), 50);
		cells[0] = id;
		cells[1] = name;
		cells[2] = cli_jstr(job, "_state");
		cells[3] = tasks;
		cells[4] = cli_jstr(job, "cancel_reason");
		hq_table_add_row(t, cells);
		hq_table_color_last(t, 2, hq_state_sgr(cells[2]));
		free(name);
	}
	cli_table_print(c, t);
	hq_table_destroy(t);
	if (open)
		printf("* = Open jobs\n");
	if (n != total)
		printf("There %s %zu job%s in total. Use `--all` to display "
		       "all "
		       "jobs.\n",
		    total == 1 ? "is" : "are", total, total == 1 ? "" : "s");
}

int
cmd_job_list(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = job_list_opts;
	struct hq_args a;
	const char **states = NULL, *filter;
	uint32_t nstates = 0;
	json_t *all, *shown;
	size_t i;

	cli_parse(c, &a, opts, argc, argv, 0, false, NULL,
	    "Display information about jobs");
	filter = hq_args_get(&a, "filter");
	if (hq_args_flag(&a, "all") && filter != NULL)
		cli_fail(c,
		    "error: the argument '--all' cannot be used with "
		    "'--filter <STATES>'\n\nFor more information, try "
		    "'--help'.");
	if (filter != NULL)
		states = cli_states(c, filter, job_state_names, &nstates);
	all = cli_query(c, HQ_Q_JOB_LIST, NULL, NULL, false, NULL, 0, false);
	shown = json_array();
	for (i = 0; i < json_array_size(all); i++) {
		json_t *job = json_array_get(all, i);

		if (hq_args_flag(&a, "all") ||
		    job_listed(job, filter ? states : NULL, nstates))
			json_array_append(shown, job);
	}
	switch (c->mode) {
	case CLI_MODE_JSON:
		cli_print_json(c, shown);
		break;
	case CLI_MODE_QUIET:
		for (i = 0; i < json_array_size(shown); i++) {
			json_t *job = json_array_get(shown, i);

			printf("%lld %s\n", (long long)cli_jint(job, "id"),
			    cli_jstr(job, "_state"));
		}
		break;
	default:
		job_list_print(c, shown, json_array_size(all),
		    hq_args_flag(&a, "verbose"));
	}
	json_decref(shown);
	json_decref(all);
	free(states);
	hq_args_fini(&a);
	return 0;
}

/* ---- job info
 * ------------------------------------------------------------------ */

static void
job_row(struct hq_table *t, const char *key, const char *value)
{
	const char *cells[2] = { key, value };

	hq_table_add_row(t, cells);
}

/* The State cell: one word for one task, else bar and counts. */
static void
job_state_cell(struct cli *c, struct hq_buf *out, json_t *info)
{
	static const struct {
		const char *name, *key;
	} rows[] = {
		{ "RUNNING", "running" },
		{ "FAILED", "failed" },
		{ "FINISHED", "finished" },
		{ "CANCELED", "canceled" },
		{ "WAITING", "waiting" },
		{ "ABORTED", "aborted" },
	};
	json_t *st = json_object_get(info, "task_stats");
	struct hq_progress p;
	size_t i;

	if (cli_jint(info, "task_count") == 1) {
		hq_buf_append_str(out, cli_jstr(info, "_state"));
		hq_buf_cstr(out);
		return;
	}
	memset(&p, 0, sizeof p);
	p.tasks_total = (uint64_t)cli_jint(info, "task_count");
	p.running = (uint64_t)cli_jint(st, "running");
	p.finished = (uint64_t)cli_jint(st, "finished");
	p.failed = (uint64_t)cli_jint(st, "failed");
	p.canceled = (uint64_t)cli_jint(st, "canceled");
	p.aborted = (uint64_t)cli_jint(st, "aborted");
	hq_progress_bar(out, &p, HQ_PROGRESS_WIDTH, c->colors);
	hq_buf_append_str(out, "\n");
	for (i = 0; i < HQ_ARRAY_LEN(rows); i++) {
		int64_t v = cli_jint(st, rows[i].key);
		char line[48];

		if (v <= 0)
			continue;
		snprintf(line, sizeof line, "%s (%lld)", rows[i].name,
		    (long long)v);
		job_colored(out, c->colors, hq_state_sgr(rows[i].name), line);
		hq_buf_append_str(out, "\n");
	}
	hq_buf_cstr(out);
}

/* Rows of a single array submit's task description (spec 3.1, row 4). */
static void
job_desc_rows(struct hq_table *t, json_t *desc)
{
	static const struct {
		const char *key, *field;
	} rows[] = {
		{ "Resources", "resources" },
		{ "Pin", "pin" },
		{ "Priority", "priority" },
		{ "Command", "command" },
		{ "Stdout", "stdout" },
		{ "Stderr", "stderr" },
		{ "Environment", "environment" },
		{ "Working directory", "cwd" },
		{ "Task time limit", "time_limit" },
		{ "Crash limit", "crash_limit" },
	};
	struct hq_buf b;
	size_t i;

	hq_buf_init(&b);
	for (i = 0; i < HQ_ARRAY_LEN(rows); i++) {
		hq_buf_reset(&b);
		cli_desc_field(&b, desc, rows[i].field);
		job_row(t, rows[i].key, (char *)b.data);
	}
	hq_buf_fini(&b);
}

/* Worker id -> hostname from a worker list answer; "" if unknown. */
static const char *
job_worker_host(json_t *workers, int64_t id)
{
	size_t i;

	for (i = 0; i < json_array_size(workers); i++) {
		json_t *w = json_array_get(workers, i);

		if (cli_jint(w, "id") == id)
			return cli_jstr(w, "_hostname");
	}
	return id ? "N/A" : "";
}

static void
job_failed_table(struct cli *c, json_t *job, json_t **workers)
{
	static const char *const hdr[] = { "Task ID", "Worker", "Error" };
	json_t *errs = json_object_get(job, "_errors");
	int64_t total = cli_jint(job, "_nerrors");
	struct hq_table *t;
	size_t i, n = json_array_size(errs);

	if (n == 0)
		return;
	if (*workers == NULL)
		*workers = cli_query(c, HQ_Q_WORKER_LIST, NULL, NULL, false,
		    NULL, 0, true);
	t = hq_table_create(3);
	hq_table_set_header(t, hdr);
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(errs, i);
		const char *cells[3];
		char id[16];

		snprintf(id, sizeof id, "%lld", (long long)cli_jint(e, "id"));
		cells[0] = id;
		cells[1] = job_worker_host(*workers, cli_jint(e, "worker"));
		cells[2] = cli_jstr(e, "error");
		hq_table_add_row(t, cells);
		hq_table_color_last(t, 2, "31");
	}
	cli_table_print(c, t);
	hq_table_destroy(t);
	if ((int64_t)n < total)
		printf("%lld tasks failed. (%zu shown)\n", (long long)total, n);
	else
		printf("%lld tasks failed.\n", (long long)total);
}

static void
job_info_print(struct cli *c, json_t *job, json_t *ids, json_t **workers)
{
	json_t *info = json_object_get(job, "info");
	json_t *subs = json_object_get(job, "submits");
	json_t *hosts = json_object_get(job, "_workers");
	struct hq_table *t = hq_table_create(2);
	uint64_t start, end;
	struct hq_buf b;
	size_t i, nhosts = json_array_size(hosts);
	bool open = json_is_true(json_object_get(info, "is_open"));

	hq_buf_init(&b);
	hq_buf_printf(&b, "%lld", (long long)cli_jint(info, "id"));
	job_row(t, "ID", hq_buf_cstr(&b));
	job_row(t, "Name", cli_jstr(info, "name"));
	hq_buf_reset(&b);
	job_state_cell(c, &b, info);
	job_row(t, "State", (char *)b.data);
	if (cli_jint(info, "task_count") == 1)
		hq_table_color_last(t, 1, hq_state_sgr((char *)b.data));
	job_row(t, "Cancel Reason", cli_jstr(info, "cancel_reason"));
	job_row(t, "Session", open ? "open" : "closed");
	if (open)
		hq_table_color_last(t, 1, "32");

	hq_buf_reset(&b);
	hq_buf_printf(&b, "%lld", (long long)cli_jint(info, "task_count"));
	if (json_array_size(ids) > 0) {
		hq_buf_append_str(&b, "; Ids: ");
		job_fmt_ids(&b, ids);
	}
	job_row(t, "Tasks", hq_buf_cstr(&b));

	hq_buf_reset(&b);
	for (i = 0; i < nhosts && i < JOB_SHOWN_WORKERS; i++)
		hq_buf_printf(&b, "%s%s", i ? ", " : "",
		    json_string_value(json_array_get(hosts, i)));
	if (nhosts > JOB_SHOWN_WORKERS)
		hq_buf_printf(&b, ", \xe2\x80\xa6 (%zu total)", nhosts);
	job_row(t, "Workers", hq_buf_cstr(&b));

	if (json_array_size(subs) == 1 &&
	    json_object_get(json_array_get(subs, 0), "array") != NULL)
		job_desc_rows(t,
		    json_object_get(json_array_get(subs, 0), "array"));

	/* chrono's round_subsecs(0): the nearest second. */
	start = job_parse_time(cli_jstr(job, "started_at"));
	hq_buf_reset(&b);
	hq_fmt_utc(&b, start + 500);
	job_row(t, "Submission date", (char *)b.data);
	if (json_array_size(subs) == 1)
		job_row(t, "Submission directory",
		    cli_jstr(job, "_submit_dir"));
	end = job_parse_time(cli_jstr(job, "finished_at"));
	if (end == 0)
		end = hq_now_ms();
	hq_buf_reset(&b);
	hq_fmt_makespan(&b, end > start ? end - start : 0);
	job_row(t, "Makespan", (char *)b.data);
	cli_kv_print(c, t);
	hq_table_destroy(t);
	hq_buf_fini(&b);
	job_failed_table(c, job, workers);
}

int
cmd_job_info(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	struct hq_selector sel;
	json_t *res, *ids = NULL, *workers = NULL;
	size_t i, k;

	cli_parse(c, &a, job_none_opts, argc, argv, 1, false, "<JOB_SELECTOR>",
	    "Display detailed information of jobs");
	job_need_pos(c, &a, 1, "<JOB_SELECTOR>");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALL, &sel);
	res = cli_query(c, HQ_Q_JOB_INFO, &sel, NULL, false, NULL, 0,
	    c->mode == CLI_MODE_JSON);
	for (i = 0; i < json_array_size(res); i++) {
		json_t *miss =
		    json_object_get(json_array_get(res, i), "_missing");

		for (k = 0; k < json_array_size(miss); k++)
			hq_error("Job %lld not found",
			    (long long)json_integer_value(
				json_array_get(miss, k)));
	}
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, res);
	} else if (c->mode == CLI_MODE_CLI) {
		if (json_array_size(res) > 0 &&
		    json_object_get(json_array_get(res, 0), "info") != NULL)
			ids = cli_query(c, HQ_Q_TASK_IDS, &sel, NULL, false,
			    NULL, 0, false);
		for (i = 0; i < json_array_size(res); i++) {
			json_t *job = json_array_get(res, i), *info;
			char key[16];

			if ((info = json_object_get(job, "info")) == NULL)
				continue;
			snprintf(key, sizeof key, "%lld",
			    (long long)cli_jint(info, "id"));
			job_info_print(c, job, json_object_get(ids, key),
			    &workers);
		}
	}
	json_decref(workers);
	json_decref(ids);
	json_decref(res);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

/* ---- job summary
 * --------------------------------------------------------------- */

int
cmd_job_summary(struct cli *c, int argc, char **argv)
{
	static const struct {
		const char *name, *key;
	} order[] = {
		{ "RUNNING", "Running" },
		{ "WAITING", "Waiting" },
		{ "FINISHED", "Finished" },
		{ "FAILED", "Failed" },
		{ "ABORTED", "Aborted" },
		{ "CANCELED", "Canceled" },
	};
	static const char *const hdr[] = { "Status", "Count" };
	struct hq_args a;
	struct hq_table *t;
	json_t *res;
	size_t i;

	cli_parse(c, &a, job_none_opts, argc, argv, 0, false, NULL,
	    "Display a summary of jobs");
	res = cli_query(c, HQ_Q_JOB_SUMMARY, NULL, NULL, false, NULL, 0, false);
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, res);
	} else if (c->mode == CLI_MODE_QUIET) {
		for (i = 0; i < HQ_ARRAY_LEN(order); i++)
			printf("%s %lld\n", order[i].name,
			    (long long)cli_jint(res, order[i].key));
	} else {
		t = hq_table_create(2);
		hq_table_set_header(t, hdr);
		hq_table_right(t, 1);
		for (i = 0; i < HQ_ARRAY_LEN(order); i++) {
			const char *cells[2];
			char n[24];

			snprintf(n, sizeof n, "%lld",
			    (long long)cli_jint(res, order[i].key));
			cells[0] = order[i].name;
			cells[1] = n;
			hq_table_add_row(t, cells);
			hq_table_color_last(t, 0, hq_state_sgr(order[i].name));
		}
		cli_table_print(c, t);
		hq_table_destroy(t);
	}
	json_decref(res);
	hq_args_fini(&a);
	return 0;
}

/* ---- cancel, forget, close
 * ----------------------------------------------------- */

int
cmd_job_cancel(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = job_cancel_opts;
	struct hq_args a;
	struct hq_selector sel;
	const char *reason;

	cli_parse(c, &a, opts, argc, argv, 1, false, "<JOB_SELECTOR>",
	    "Cancel jobs");
	job_need_pos(c, &a, 1, "<JOB_SELECTOR>");
	reason = hq_args_get(&a, "reason");
	if (reason != NULL && strlen(reason) > JOB_REASON_MAX)
		cli_fail(c,
		    "error: invalid value for '--reason <REASON>': the reason "
		    "is %zu bytes long, at most %d are allowed\n\nFor more "
		    "information, try '--help'.",
		    strlen(reason), JOB_REASON_MAX);
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALL, &sel);
	job_command(c, HQ_C_JOB_CANCEL, &sel, NULL, 0, reason);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

int
cmd_job_forget(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = job_forget_opts;
	struct hq_args a;
	struct hq_selector sel;
	const char **states = NULL, *filter;
	uint32_t nstates = 0;

	cli_parse(c, &a, opts, argc, argv, 1, false, "<JOB_SELECTOR>",
	    "Forget completed jobs");
	job_need_pos(c, &a, 1, "<JOB_SELECTOR>");
	if ((filter = hq_args_get(&a, "filter")) != NULL)
		states = cli_states(c, filter, job_forget_states, &nstates);
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALL, &sel);
	job_command(c, HQ_C_JOB_FORGET, &sel, states, nstates, NULL);
	free(states);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

int
cmd_job_close(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	struct hq_selector sel;

	cli_parse(c, &a, job_none_opts, argc, argv, 1, false, "<JOB_SELECTOR>",
	    "Close open jobs");
	job_need_pos(c, &a, 1, "<JOB_SELECTOR>");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALL, &sel);
	job_command(c, HQ_C_JOB_CLOSE, &sel, NULL, 0, NULL);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

/* ---- task-ids
 * ------------------------------------------------------------------ */

int
cmd_job_task_ids(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = job_task_ids_opts;
	struct hq_args a;
	struct hq_selector sel;
	const char **states = NULL, *filter;
	uint32_t nstates = 0, *jobs = NULL;
	size_t njobs, i;
	struct hq_buf b;
	json_t *res;

	cli_parse(c, &a, opts, argc, argv, 1, false, "<JOB_SELECTOR>",
	    "Print the task ids of jobs");
	job_need_pos(c, &a, 1, "<JOB_SELECTOR>");
	if ((filter = hq_args_get(&a, "filter")) != NULL)
		states = cli_states(c, filter, job_task_states, &nstates);
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALL, &sel);
	res = cli_query(c, HQ_Q_TASK_IDS, &sel, NULL, false, states, nstates,
	    false);
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, res);
	} else if (c->mode == CLI_MODE_CLI) {
		hq_buf_init(&b);
		jobs = job_keys(res, &njobs);
		for (i = 0; i < njobs; i++) {
			char key[16];

			snprintf(key, sizeof key, "%u", jobs[i]);
			hq_buf_reset(&b);
			job_fmt_ids(&b, json_object_get(res, key));
			if (njobs == 1)
				printf("%s\n", (char *)b.data);
			else
				printf("%u: %s\n", jobs[i], (char *)b.data);
		}
		hq_buf_fini(&b);
	}
	free(jobs);
	json_decref(res);
	free(states);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

/* ---- open
 * ---------------------------------------------------------------------- */

int
cmd_job_open(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = job_open_opts;
	struct hq_args a;
	struct hq_errbuf eb;
	struct hq_cmsg m;
	struct hq_smsg r;
	const char *name, *mf;
	uint32_t job_id;
	char id[16];

	cli_parse(c, &a, opts, argc, argv, 0, false, NULL, "Open a new job");
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_JOB_OPEN;
	name = hq_args_get(&a, "name");
	m.name = (char *)(name != NULL ? name : "job");
	if ((mf = hq_args_get(&a, "max-fails")) != NULL) {
		if (hq_parse_u32(mf, &m.max_fails, &eb) != 0)
			cli_fail(c,
			    "error: invalid value '%s' for '--max-fails "
			    "<MAX_FAILS>': %s\n\nFor more information, try "
			    "'--help'.",
			    mf, eb.msg);
		m.has_max_fails = true;
	}
	cli_connect(c);
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message ? r.message : "server error");
	if (r.kind != HQ_SMSG_SUBMIT)
		cli_fail(c, "unexpected reply from the server");
	job_id = r.job_id;
	hq_smsg_fini(&r);
	snprintf(id, sizeof id, "%u", job_id);
	if (c->mode == CLI_MODE_JSON) {
		json_t *j = json_pack("{s:I}", "id", (json_int_t)job_id);

		cli_print_json(c, j);
		json_decref(j);
	} else if (c->mode == CLI_MODE_QUIET) {
		printf("%s\n", id);
	} else if (c->colors) {
		printf("Job \x1b[32m%s\x1b[0m is open.\n", id);
	} else {
		printf("Job %s is open.\n", id);
	}
	hq_args_fini(&a);
	return 0;
}

/* ---- cat
 * ----------------------------------------------------------------------- */

/* Copy one task's file to stdout, binary-safe. */
static void
job_cat_file(json_t *task, const char *stream)
{
	json_t *v = json_object_get(task, stream);
	const char *path = json_is_string(v) ? json_string_value(v) : NULL;
	char buf[65536];
	size_t n;
	FILE *f;

	if (path == NULL || strcmp(path, "<pipe>") == 0) {
		fflush(stdout);
		hq_warn("Task %lld has no `%s` stream associated with it",
		    (long long)cli_jint(task, "id"), stream);
		return;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		int e = errno;

		fflush(stdout);
		hq_warn("File `%s` cannot be opened: %s", path, strerror(e));
		return;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			break;
	if (ferror(f)) {
		fflush(stdout);
		hq_warn("Could not output contents of `%s`: %s", path,
		    strerror(errno));
	}
	fclose(f);
}

int
cmd_job_cat(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = job_cat_opts;
	struct hq_args a;
	struct hq_selector sel;
	struct hq_idset ids;
	struct hq_errbuf eb;
	const char **states = NULL, *stream, *v;
	uint32_t nstates = 0, *jobs = NULL, i, k, checked = 0;
	size_t njobs, j, t;
	bool header;
	json_t *res;

	cli_parse(c, &a, opts, argc, argv, 2, false,
	    "<JOB_SELECTOR> <stdout|stderr>", "Print the outputs of tasks");
	if (c->mode == CLI_MODE_JSON)
		cli_fail(c, "JSON output mode doesn't support job output");
	job_need_pos(c, &a, 2,
	    a.npos == 0 ? "<JOB_SELECTOR>\n  <STREAM>" : "<STREAM>");
	stream = a.pos[1];
	if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '<STREAM>'\n  [possible "
		    "values: stdout, stderr]\n\nFor more information, try "
		    "'--help'.",
		    stream);
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST, &sel);
	memset(&ids, 0, sizeof ids);
	if ((v = hq_args_get(&a, "tasks")) != NULL &&
	    hq_parse_idset(v, &ids, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '--tasks <TASKS>': %s\n\n"
		    "For more information, try '--help'.",
		    v, eb.msg);
	if ((v = hq_args_get(&a, "task-status")) != NULL)
		states = cli_states(c, v, job_task_states, &nstates);
	header = hq_args_flag(&a, "print-task-header");
	res = cli_query(c, HQ_Q_JOB_OUTPUTS, &sel, &ids,
	    hq_args_get(&a, "tasks") != NULL, states, nstates, false);
	if (sel.kind == HQ_SEL_IDS)
		for (i = 0; i < sel.ids.n; i++)
			for (k = 0; k < sel.ids.r[i].count && checked < 100000;
			     k++, checked++) {
				char key[16];
				uint32_t id =
				    sel.ids.r[i].start + k * sel.ids.r[i].step;

				snprintf(key, sizeof key, "%u", id);
				if (json_object_get(res, key) == NULL)
					hq_error("Job %u not found", id);
			}
	jobs = job_keys(res, &njobs);
	for (j = 0; j < njobs; j++) {
		char key[16];
		json_t *tasks;

		snprintf(key, sizeof key, "%u", jobs[j]);
		tasks = json_object_get(res, key);
		for (t = 0; t < json_array_size(tasks); t++) {
			json_t *task = json_array_get(tasks, t);

			if (header)
				printf("# Job %u, task %lld\n", jobs[j],
				    (long long)cli_jint(task, "id"));
			job_cat_file(task, stream);
		}
	}
	fflush(stdout);
	free(jobs);
	json_decref(res);
	free(states);
	hq_idset_fini(&ids);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}
