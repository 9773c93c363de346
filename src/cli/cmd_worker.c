/* SPDX-License-Identifier: MIT */
/*
 * The `hq worker ...` commands: start (options into struct worker_opts,
 * then the worker process itself), stop, list, info, wait, address and
 * hwdetect. Tables are rendered from the server's worker JSON (spec 3.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/jsonout.h"
#include "cli/table.h"
#include "common/fmt.h"
#include "common/log.h"
#include "common/resource.h"
#include "worker/topo.h"
#include "worker/worker.h"

/* Polling period of `worker wait`. */
#define WORKER_WAIT_US 200000

static const struct hq_opt worker_start_opts[] = {
	{ "cpus", 0, HQ_OPT_VALUE, "CPUS",
	    "CPU resource: N, NxM, [a,b,..], [[..],[..]] or range(A-B)" },
	{ "resource", 0, HQ_OPT_MULTI, "NAME=DEF",
	    "Resource pool (repeatable)" },
	{ "group", 0, HQ_OPT_VALUE, "GROUP",
	    "Worker group for multi-node tasks" },
	{ "coupling", 0, HQ_OPT_VALUE, "COUPLING",
	    "Coupled resources: r1[g]:r2[g][=W],..." },
	{ "detect-resources", 0, HQ_OPT_VALUE, "all|none|LIST",
	    "Resources to detect: all, none, or a list of cpus, mem, "
	    "gpus/nvidia, gpus/amd [default: all]" },
	{ "no-hyper-threading", 0, HQ_OPT_FLAG, NULL,
	    "Use only the first hyper-thread of each core" },
	{ "idle-timeout", 0, HQ_OPT_VALUE, "DURATION",
	    "Stop the worker after being idle this long" },
	{ "overview-interval", 0, HQ_OPT_VALUE, "DURATION",
	    "Period of hardware overview reports (accepted, not used)" },
	{ "min-utilization", 0, HQ_OPT_VALUE, "0..1",
	    "Minimal CPU utilization for planning tasks [default: 0.0]" },
	{ "heartbeat", 0, HQ_OPT_VALUE, "DURATION",
	    "Heartbeat period [default: 8s]" },
	{ "time-limit", 0, HQ_OPT_VALUE, "DURATION", "Lifetime of the worker" },
	{ "manager", 0, HQ_OPT_VALUE, "detect|none|pbs|slurm",
	    "Batch system to read [default: detect]" },
	{ "hostname", 0, HQ_OPT_VALUE, "HOSTNAME",
	    "Hostname reported to the server" },
	{ "on-server-lost", 0, HQ_OPT_VALUE, "stop|finish-running|reconnect",
	    "What to do when the server is lost [default: stop]" },
	{ "reconnect-timeout", 0, HQ_OPT_VALUE, "DURATION",
	    "With --on-server-lost reconnect: how long to keep trying "
	    "[default: 10m]" },
	{ "work-dir", 0, HQ_OPT_VALUE, "PATH",
	    "Working directory of the worker" },
	{ "retract-check-interval", 0, HQ_OPT_VALUE, "DURATION",
	    "Check period of overdue pre-assigned tasks (accepted, not used)" },
	{ "bench", 0, HQ_OPT_FLAG, NULL,
	    "Benchmarks only: tasks complete at once without a process" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt worker_list_opts[] = {
	{ "all", 0, HQ_OPT_FLAG, NULL, "Display also offline workers" },
	{ "filter", 0, HQ_OPT_VALUE, "running|offline",
	    "Display only workers in this state" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt worker_none_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt worker_hwdetect_opts[] = {
	{ "no-hyper-threading", 0, HQ_OPT_FLAG, NULL,
	    "Use only the first hyper-thread of each core" },
	{ NULL, 0, 0, NULL, NULL },
};

/* Report a bad option value as clap does: '--opt-name <OPT_NAME>'. */
HQ_NORETURN static void
worker_bad_value(struct cli *c, const char *opt, const char *value,
    const char *why)
{
	char upper[64];
	size_t i;

	for (i = 0; opt[i] != '\0' && i + 1 < sizeof upper; i++) {
		if (opt[i] == '-')
			upper[i] = '_';
		else if (opt[i] >= 'a' && opt[i] <= 'z')
			upper[i] = (char)(opt[i] - 'a' + 'A');
		else
			upper[i] = opt[i];
	}
	upper[i] = '\0';
	cli_fail(c,
	    "error: invalid value '%s' for '--%s <%s>': %s\n\nFor more "
	    "information, try '--help'.",
	    value, opt, upper, why);
}

/* ---- worker info rendering
 * ----------------------------------------------------- */

static const char *
worker_state_sgr(const char *state)
{
	if (strcmp(state, "RUNNING") == 0)
		return "32";
	if (strcmp(state, "CONNECTION LOST") == 0 ||
	    strcmp(state, "HEARTBEAT LOST") == 0)
		return "31";
	if (strcmp(state, "STOPPED") == 0)
		return "35";
	if (strcmp(state, "IDLE TIMEOUT") == 0 ||
	    strcmp(state, "TIME LIMIT REACHED") == 0)
		return "36";
	return NULL;
}

/* Float seconds (JSON) as humantime, or "None" for null. */
static void
worker_fmt_secs(struct hq_buf *out, json_t *v)
{
	if (json_is_number(v)) {
		double s = json_number_value(v);

		hq_fmt_duration(out, s > 0 ? (uint64_t)(s * 1000.0 + 0.5) : 0);
	} else {
		hq_buf_append_str(out, "None");
	}
	hq_buf_cstr(out);
}

/* A JSON value as its JSON text: the "Started" quirk (spec 4.17). */
static void
worker_fmt_json(struct hq_buf *out, json_t *v)
{
	char *s = hq_json_dumps_compact(v);

	hq_buf_append_str(out, s);
	free(s);
	hq_buf_cstr(out);
}

static void
worker_fmt_runtime(struct hq_buf *out, json_t *rt)
{
	json_t *single = json_object_get(rt, "SingleNodeTasks");
	json_t *multi = json_object_get(rt, "MultiNodeTask");

	if (single != NULL) {
		int64_t running = cli_jint(single, "running_tasks");

		hq_buf_printf(out, "assigned tasks: %lld",
		    (long long)cli_jint(single, "assigned_tasks"));
		if (running > 0)
			hq_buf_printf(out, "; running tasks: %lld",
			    (long long)running);
		if (json_is_true(json_object_get(single, "is_reserved")))
			hq_buf_append_str(out,
			    "; reserved for a multi-node task");
	} else if (multi != NULL) {
		hq_buf_printf(out, "running multinode task; %s",
		    json_is_true(json_object_get(multi, "main_node"))
			? "main node"
			: "secondary node");
	}
	hq_buf_cstr(out);
}

/* A detail the server puts at the top level and `worker start` keeps in
 * the configuration; "" if neither has it. */
static const char *
worker_detail(json_t *wk, json_t *cfg, const char *top, const char *inner)
{
	const char *s = cli_jstr(wk, top);

	return *s ? s : cli_jstr(cfg, inner);
}

static void
worker_row(struct hq_table *t, const char *key, const char *value)
{
	const char *cells[2] = { key, value };

	hq_table_add_row(t, cells);
}

static void
worker_info_print(struct cli *c, json_t *wk)
{
	json_t *cfg = json_object_get(wk, "configuration");
	json_t *last = json_object_get(wk, "last_task_started");
	struct hq_table *t = hq_table_create(2);
	const char *state = cli_jstr(wk, "_state"), *s;
	int64_t pid;
	struct hq_buf b;

	hq_buf_init(&b);
	hq_buf_printf(&b, "%lld", (long long)cli_jint(wk, "id"));
	worker_row(t, "Worker", hq_buf_cstr(&b));
	worker_row(t, "State", state);
	hq_table_color_last(t, 1, worker_state_sgr(state));
	worker_row(t, "Hostname", cli_jstr(cfg, "hostname"));
	hq_buf_reset(&b);
	worker_fmt_json(&b, json_object_get(wk, "started"));
	worker_row(t, "Started", (char *)b.data);
	worker_row(t, "Data provider", cli_jstr(cfg, "listen_address"));
	worker_row(t, "Working directory", cli_jstr(cfg, "work_dir"));
	hq_buf_reset(&b);
	worker_fmt_secs(&b, json_object_get(cfg, "heartbeat_interval"));
	worker_row(t, "Heartbeat", (char *)b.data);
	hq_buf_reset(&b);
	worker_fmt_secs(&b, json_object_get(cfg, "idle_timeout"));
	worker_row(t, "Idle timeout", (char *)b.data);
	hq_buf_reset(&b);
	worker_fmt_secs(&b, json_object_get(cfg, "overview_interval"));
	worker_row(t, "Overview interval", (char *)b.data);
	worker_row(t, "Resources", cli_jstr(wk, "_resources_lines"));
	hq_buf_reset(&b);
	worker_fmt_secs(&b, json_object_get(cfg, "time_limit"));
	worker_row(t, "Time Limit", (char *)b.data);
	pid = cli_jint(wk, "_pid");
	if (pid == 0)
		pid = cli_jint(cfg, "_pid");
	hq_buf_reset(&b);
	if (pid > 0)
		hq_buf_printf(&b, "%lld", (long long)pid);
	else
		hq_buf_append_str(&b, "N/A");
	worker_row(t, "Process pid", hq_buf_cstr(&b));
	worker_row(t, "Group", cli_jstr(cfg, "group"));
	s = worker_detail(wk, cfg, "_manager", "_manager");
	worker_row(t, "Manager", *s ? s : "None");
	s = worker_detail(wk, cfg, "_manager_job_id", "_allocation_id");
	worker_row(t, "Manager Job ID", *s ? s : "N/A");
	hq_buf_reset(&b);
	if (json_is_object(last)) {
		json_t *tid = json_object_get(last, "task_id");

		hq_buf_printf(&b,
		    "%lld@%lld; Time: ", (long long)cli_jint(tid, "job_id"),
		    (long long)cli_jint(tid, "job_task_id"));
		worker_fmt_json(&b, json_object_get(last, "time"));
	}
	worker_row(t, "Last task started", hq_buf_cstr(&b));
	hq_buf_reset(&b);
	worker_fmt_runtime(&b, json_object_get(wk, "runtime_info"));
	worker_row(t, "Runtime Info", (char *)b.data);
	cli_kv_print(c, t);
	hq_table_destroy(t);
	hq_buf_fini(&b);
}

void
cli_print_worker_info(struct cli *c, json_t *arr)
{
	size_t i;

	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, arr);
	} else if (c->mode == CLI_MODE_CLI) {
		for (i = 0; i < json_array_size(arr); i++) {
			json_t *wk = json_array_get(arr, i);

			if (json_object_get(wk, "_missing") == NULL)
				worker_info_print(c, wk);
		}
	}
	fflush(stdout);
}

/* ---- worker start
 * -------------------------------------------------------------- */

static struct cli *worker_start_cli;

/* Called by the worker once it is registered (hq_worker_print_info). */
static void
worker_start_print_cb(struct worker *w, json_t *info)
{
	json_t *arr = json_array(), *copy = json_deep_copy(info);
	struct hq_buf b;

	hq_buf_init(&b);
	hq_fmt_worker_res_lines(&b, &w->cfg.res);
	json_object_set_new(copy, "_resources_lines",
	    json_stringn(b.len ? (char *)b.data : "", b.len));
	hq_buf_fini(&b);
	json_array_append_new(arr, copy);
	cli_print_worker_info(worker_start_cli, arr);
	json_decref(arr);
}

static void
worker_check_duration(struct cli *c, const struct hq_args *a, const char *opt,
    bool human_only, uint64_t *ms)
{
	const char *v = hq_args_get(a, opt);
	struct hq_errbuf eb;
	uint64_t out;
	int rc;

	if (v == NULL)
		return;
	rc = human_only ? hq_parse_humantime(v, &out, &eb)
			: hq_parse_duration(v, &out, &eb);
	if (rc != 0)
		worker_bad_value(c, opt, v, eb.msg);
	if (ms != NULL)
		*ms = out;
}

void
cli_check_worker_pools(struct cli *c, const char *cpus, const char **res,
    uint32_t nres, cli_bad_value_fn *bad)
{
	struct hq_res_pool pool;
	struct hq_errbuf eb;
	char **names;
	uint32_t i, k;

	if (cpus != NULL) {
		if (hq_parse_pool_def("cpus", cpus, true, &pool, &eb) != 0)
			bad(c, "cpus", cpus, eb.msg);
		hq_res_pool_fini(&pool);
	}
	names = hq_xcalloc(nres + 1, sizeof *names);
	for (i = 0; i < nres; i++) {
		char *def;

		if (hq_split_name_value(res[i], &names[i], &def, &eb) != 0)
			bad(c, "resource", res[i], eb.msg);
		if (hq_parse_pool_def(names[i], def,
			strcmp(names[i], "cpus") == 0, &pool, &eb) != 0)
			bad(c, "resource", res[i], eb.msg);
		hq_res_pool_fini(&pool);
		free(def);
		if (cpus != NULL && strcmp(names[i], "cpus") == 0)
			cli_fail(c,
			    "error: --cpus conflicts with --resource "
			    "cpus=...\n\nFor more information, try '--help'.");
		for (k = 0; k < i; k++)
			if (strcmp(names[k], names[i]) == 0)
				bad(c, "resource", res[i],
				    "the resource is defined twice");
	}
	for (i = 0; i < nres; i++)
		free(names[i]);
	free(names);
}

static void
worker_check_detect(struct cli *c, const char *v)
{
	static const char *const known[] = { "cpus", "mem", "gpus/nvidia",
		"gpus/amd", NULL };
	char *copy, *tok, *save = NULL;
	uint32_t i;

	if (strcmp(v, "all") == 0 || strcmp(v, "none") == 0)
		return;
	copy = hq_xstrdup(v);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], tok) == 0)
				break;
		if (known[i] == NULL) {
			char *why = hq_xprintf("unknown resource '%s' "
					       "(expected all, none, or a list "
					       "of cpus, mem, gpus/nvidia, "
					       "gpus/amd)",
			    tok);

			worker_bad_value(c, "detect-resources", v, why);
		}
	}
	free(copy);
}

/*
 * The options of `worker start` (parsed into 'a') as worker_opts, checked:
 * a bad value exits through cli_fail(). Strings of *o point into 'a' and
 * c->server_dir.
 */
static void
worker_start_options(struct cli *c, const struct hq_args *a,
    struct worker_opts *o)
{
	struct hq_errbuf eb;
	const char *v;

	memset(o, 0, sizeof *o);
	o->server_dir = c->server_dir;
	o->cpus = hq_args_get(a, "cpus");
	o->resources = hq_args_multi(a, "resource", &o->nresources);
	cli_check_worker_pools(c, o->cpus, o->resources, o->nresources,
	    worker_bad_value);
	o->group = hq_args_get(a, "group");
	o->coupling = hq_args_get(a, "coupling");
	if ((v = hq_args_get(a, "detect-resources")) != NULL)
		worker_check_detect(c, v);
	o->detect = v;
	o->no_hyper_threading = hq_args_flag(a, "no-hyper-threading");
	worker_check_duration(c, a, "idle-timeout", false, &o->idle_timeout_ms);
	worker_check_duration(c, a, "overview-interval", true, NULL);
	worker_check_duration(c, a, "heartbeat", false, &o->heartbeat_ms);
	worker_check_duration(c, a, "time-limit", false, &o->time_limit_ms);
	worker_check_duration(c, a, "retract-check-interval", false, NULL);
	if (hq_args_get(a, "heartbeat") != NULL && o->heartbeat_ms == 0)
		worker_bad_value(c, "heartbeat", hq_args_get(a, "heartbeat"),
		    "the heartbeat must be positive");
	if ((v = hq_args_get(a, "min-utilization")) != NULL) {
		double u;

		if (hq_parse_f64(v, &u, &eb) != 0)
			worker_bad_value(c, "min-utilization", v, eb.msg);
		if (u < 0.0 || u > 1.0)
			worker_bad_value(c, "min-utilization", v,
			    "the value must be between 0 and 1");
		o->min_utilization = (uint32_t)(u * 10000.0 + 0.5);
	}
	if ((v = hq_args_get(a, "manager")) != NULL &&
	    strcmp(v, "detect") != 0 && strcmp(v, "none") != 0 &&
	    strcmp(v, "pbs") != 0 && strcmp(v, "slurm") != 0)
		worker_bad_value(c, "manager", v,
		    "possible values: detect, none, pbs, slurm");
	o->manager = v;
	o->hostname = hq_args_get(a, "hostname");
	o->on_server_lost = WORKER_ON_LOST_STOP;
	if ((v = hq_args_get(a, "on-server-lost")) != NULL) {
		if (strcmp(v, "finish-running") == 0)
			o->on_server_lost = WORKER_ON_LOST_FINISH;
		else if (strcmp(v, "reconnect") == 0)
			o->on_server_lost = WORKER_ON_LOST_RECONNECT;
		else if (strcmp(v, "stop") != 0)
			worker_bad_value(c, "on-server-lost", v,
			    "possible values: stop, finish-running, reconnect");
	}
	o->reconnect_timeout_ms = 10 * 60 * 1000;
	worker_check_duration(c, a, "reconnect-timeout", false,
	    &o->reconnect_timeout_ms);
	o->work_dir = hq_args_get(a, "work-dir");
	o->bench = hq_args_flag(a, "bench");
}

int
cmd_worker_start(struct cli *c, int argc, char **argv)
{
	struct worker_opts o;
	struct hq_args a;
	int rc;

	cli_parse(c, &a, worker_start_opts, argc, argv, 0, false, NULL,
	    "Start a worker");
	worker_start_options(c, &a, &o);
	worker_start_cli = c;
	hq_worker_print_info = worker_start_print_cb;
	rc = worker_main(&o);
	hq_worker_print_info = NULL;
	worker_start_cli = NULL;
	hq_args_fini(&a);
	return rc;
}

void
cli_worker_check_start_args(struct cli *c, int argc, char **argv)
{
	struct cli scratch;
	struct worker_opts o;
	struct hq_args a;

	/* A scratch context: global options among the arguments are the
	 * remote worker's, not ours. Errors keep our output mode. */
	memset(&scratch, 0, sizeof scratch);
	scratch.mode = c->mode;
	scratch.server_dir = hq_xstrdup(c->server_dir);
	scratch.path = (char *)"worker start";
	cli_parse(&scratch, &a, worker_start_opts, argc, argv, 0, false, NULL,
	    "Start a worker");
	worker_start_options(&scratch, &a, &o);
	hq_args_fini(&a);
	free(scratch.server_dir);
}

/* ---- stop, list, info
 * ---------------------------------------------------------- */

int
cmd_worker_stop(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	struct hq_selector sel;
	struct hq_cmsg m;
	struct hq_smsg r;

	cli_parse(c, &a, worker_none_opts, argc, argv, 1, false,
	    "<WORKER_SELECTOR>", "Stop workers");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <WORKER_SELECTOR>\n\nFor more information, "
		    "try '--help'.");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALL, &sel);
	cli_connect(c);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_COMMAND;
	m.sub = HQ_C_WORKER_STOP;
	m.sel = sel;
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message ? r.message : "server error");
	if (r.kind != HQ_SMSG_COMMAND)
		cli_fail(c, "unexpected reply from the server");
	cli_print_lines(c, &r);
	hq_smsg_fini(&r);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

static void
worker_list_print(struct cli *c, json_t *arr)
{
	static const char *const hdr[] = { "ID", "State", "Hostname",
		"Resources", "Manager", "Manager Job ID" };
	struct hq_table *t = hq_table_create(6);
	size_t i;

	hq_table_set_header(t, hdr);
	hq_table_right(t, 0);
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *wk = json_array_get(arr, i);
		const char *cells[6];
		char id[16];

		snprintf(id, sizeof id, "%lld", (long long)cli_jint(wk, "id"));
		cells[0] = id;
		cells[1] = cli_jstr(wk, "_state");
		cells[2] = cli_jstr(wk, "_hostname");
		cells[3] = cli_jstr(wk, "_resources");
		cells[4] = cli_jstr(wk, "_manager");
		cells[5] = cli_jstr(wk, "_manager_job_id");
		hq_table_add_row(t, cells);
		hq_table_color_last(t, 1, worker_state_sgr(cells[1]));
	}
	cli_table_print(c, t);
	hq_table_destroy(t);
}

int
cmd_worker_list(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = worker_list_opts;
	struct hq_args a;
	const char *filter;
	bool all, offline = false;
	json_t *res;
	size_t i;

	cli_parse(c, &a, opts, argc, argv, 0, false, NULL,
	    "Display information about workers");
	all = hq_args_flag(&a, "all");
	filter = hq_args_get(&a, "filter");
	if (all && filter != NULL)
		cli_fail(c,
		    "error: the argument '--all' cannot be used with "
		    "'--filter <FILTER>'\n\nFor more information, try "
		    "'--help'.");
	if (filter != NULL) {
		if (strcmp(filter, "offline") == 0)
			offline = true;
		else if (strcmp(filter, "running") != 0)
			cli_fail(c,
			    "error: invalid value '%s' for '--filter "
			    "<FILTER>'\n  [possible values: running, "
			    "offline]\n\nFor more information, try '--help'.",
			    filter);
	}
	res = cli_query(c, HQ_Q_WORKER_LIST, NULL, NULL, false, NULL, 0,
	    all || offline);
	if (offline)
		for (i = json_array_size(res); i > 0; i--)
			if (strcmp(cli_jstr(json_array_get(res, i - 1),
				       "_state"),
				"RUNNING") == 0)
				json_array_remove(res, i - 1);
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, res);
	} else if (c->mode == CLI_MODE_QUIET) {
		for (i = 0; i < json_array_size(res); i++)
			printf("%lld %s\n",
			    (long long)cli_jint(json_array_get(res, i), "id"),
			    cli_jstr(json_array_get(res, i), "_state"));
	} else {
		worker_list_print(c, res);
	}
	json_decref(res);
	hq_args_fini(&a);
	return 0;
}

/* Log "Worker N not found" for the server's {"_missing": [...]} marker. */
static bool
worker_log_missing(json_t *arr)
{
	bool any = false;
	size_t i, k;

	for (i = 0; i < json_array_size(arr); i++) {
		json_t *miss =
		    json_object_get(json_array_get(arr, i), "_missing");

		for (k = 0; k < json_array_size(miss); k++) {
			hq_error("Worker %lld not found",
			    (long long)json_integer_value(
				json_array_get(miss, k)));
			any = true;
		}
	}
	return any;
}

int
cmd_worker_info(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	struct hq_selector sel;
	json_t *res;

	cli_parse(c, &a, worker_none_opts, argc, argv, 1, false,
	    "<WORKER_SELECTOR>", "Display information about a worker");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <WORKER_SELECTOR>\n\nFor more information, "
		    "try '--help'.");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALL, &sel);
	res = cli_query(c, HQ_Q_WORKER_INFO, &sel, NULL, false, NULL, 0, false);
	worker_log_missing(res);
	cli_print_worker_info(c, res);
	json_decref(res);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

/* ---- wait, address
 * --------------------------------------------------------------- */

int
cmd_worker_wait(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	struct hq_errbuf eb;
	uint32_t count;

	cli_parse(c, &a, worker_none_opts, argc, argv, 1, false, "<COUNT>",
	    "Wait until workers are connected");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <COUNT>\n\nFor more information, try "
		    "'--help'.");
	if (hq_parse_u32(a.pos[0], &count, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '<COUNT>': %s\n\nFor more "
		    "information, try '--help'.",
		    a.pos[0], eb.msg);
	for (;;) {
		json_t *res = cli_query(c, HQ_Q_WORKER_LIST, NULL, NULL, false,
		    NULL, 0, false);
		size_t n = json_array_size(res);

		json_decref(res);
		if (n >= count)
			break;
		usleep(WORKER_WAIT_US);
	}
	hq_args_fini(&a);
	return 0;
}

int
cmd_worker_address(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	struct hq_selector sel;
	struct hq_errbuf eb;
	uint32_t id;
	json_t *res, *wk;

	cli_parse(c, &a, worker_none_opts, argc, argv, 1, false, "<WORKER_ID>",
	    "Print the worker's hostname");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <WORKER_ID>\n\nFor more information, try "
		    "'--help'.");
	if (hq_parse_u32(a.pos[0], &id, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '<WORKER_ID>': %s\n\nFor "
		    "more information, try '--help'.",
		    a.pos[0], eb.msg);
	memset(&sel, 0, sizeof sel);
	sel.kind = HQ_SEL_IDS;
	hq_idset_add(&sel.ids, id);
	res = cli_query(c, HQ_Q_WORKER_INFO, &sel, NULL, false, NULL, 0, false);
	wk = json_array_get(res, 0);
	if (wk == NULL || json_object_get(wk, "_missing") != NULL)
		cli_fail(c, "Worker %u not found", id);
	printf("%s\n",
	    cli_jstr(json_object_get(wk, "configuration"), "hostname"));
	c->printed = true;
	json_decref(res);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

/* ---- hwdetect
 * ------------------------------------------------------------------- */

static void
worker_topo_warn(void *arg, const char *msg)
{
	(void)arg;
	hq_warn("%s", msg);
}

int
cmd_worker_hwdetect(struct cli *c, int argc, char **argv)
{
	const struct hq_opt *opts = worker_hwdetect_opts;
	struct hq_args a;
	struct hq_topo_opts to;
	struct hq_res_pool *pools = NULL;
	struct hq_worker_res res;
	struct hq_errbuf eb;
	struct hq_buf b;
	uint32_t n = 0;

	cli_parse(c, &a, opts, argc, argv, 0, false, NULL,
	    "Display the resources a worker would detect");
	memset(&to, 0, sizeof to);
	to.no_hyper_threading = hq_args_flag(&a, "no-hyper-threading");
	to.detect_cpus = to.detect_mem = true;
	to.detect_gpus_nvidia = to.detect_gpus_amd = true;
	to.warn = worker_topo_warn;
	if (hq_topo_detect(&to, &pools, &n, &eb) != 0)
		cli_fail(c, "%s", eb.msg);
	if (hq_worker_res_from_pools(pools, n, &res, &eb) != 0)
		cli_fail(c, "%s", eb.msg);
	if (c->mode == CLI_MODE_JSON) {
		json_t *j = hq_worker_res_json(&res);

		cli_print_json(c, j);
		json_decref(j);
	} else if (c->mode == CLI_MODE_CLI) {
		hq_buf_init(&b);
		hq_buf_append_str(&b, "Summary:\n");
		hq_fmt_worker_res_lines(&b, &res);
		hq_buf_append_str(&b, "\n\nFull Description:\n");
		hq_fmt_worker_res_describe(&b, &res);
		hq_buf_append_str(&b, "\n");
		fwrite(b.data, 1, b.len, stdout);
		hq_buf_fini(&b);
	}
	hq_worker_res_fini(&res);
	hq_args_fini(&a);
	return 0;
}
