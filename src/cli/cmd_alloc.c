/* SPDX-License-Identifier: MIT */
/*
 * The `hq alloc ...` commands (spec 1.8): add and dry-run build the queue
 * parameters (the worker options are validated here and forwarded quoted),
 * list and info render the server's JSON (spec 3.1, 3.2), log prints an
 * allocation's output file, pause, resume and remove change a queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "common/batch.h"
#include "common/fmt.h"
#include "common/log.h"
#include "common/resource.h"

/* Idle timeouts above this get a warning (workers hold allocations). */
#define ALLOC_IDLE_WARN_MS    (10 * 60 * 1000)
#define ALLOC_DEFAULT_IDLE_MS (5 * 60 * 1000)

static const struct hq_opt alloc_add_opts[] = {
	{ "time-limit", 't', HQ_OPT_VALUE, "TIME_LIMIT",
	    "Time limit (walltime) of the allocations" },
	{ "backlog", 'b', HQ_OPT_VALUE, "BACKLOG",
	    "How many allocations may be queued at once [default: 1]" },
	{ "max-workers-per-alloc", 'm', HQ_OPT_VALUE, "MAX_WORKERS_PER_ALLOC",
	    "Maximum number of workers (nodes) per allocation [default: 1]" },
	{ "max-worker-count", 0, HQ_OPT_VALUE, "MAX_WORKER_COUNT",
	    "Maximum number of queued and running workers of the queue" },
	{ "name", 'n', HQ_OPT_VALUE, "NAME",
	    "Name of the allocations (<name>-<n>)" },
	{ "cpus", 0, HQ_OPT_VALUE, "CPUS", "CPU resource of the workers" },
	{ "resource", 0, HQ_OPT_MULTI, "NAME=DEF",
	    "Resource pool of the workers (repeatable)" },
	{ "group", 0, HQ_OPT_VALUE, "GROUP", "Worker group" },
	{ "coupling", 0, HQ_OPT_VALUE, "COUPLING", "Coupled resources" },
	{ "detect-resources", 0, HQ_OPT_VALUE, "all|none|LIST",
	    "Resources the workers detect [default: all]" },
	{ "no-hyper-threading", 0, HQ_OPT_FLAG, NULL,
	    "Workers use only the first hyper-thread of each core" },
	{ "idle-timeout", 0, HQ_OPT_VALUE, "IDLE_TIMEOUT",
	    "Workers stop after being idle this long [default: 5m]" },
	{ "overview-interval", 0, HQ_OPT_VALUE, "DURATION",
	    "Period of hardware overview reports of the workers" },
	{ "min-utilization", 0, HQ_OPT_VALUE, "0..1",
	    "Minimal CPU utilization of a new worker [default: 0.0]" },
	{ "on-server-lost", 0, HQ_OPT_VALUE, "stop|finish-running|reconnect",
	    "What workers do when the server is lost [default: "
	    "finish-running]" },
	{ "worker-start-cmd", 0, HQ_OPT_VALUE, "CMD",
	    "Shell command run before the worker" },
	{ "worker-stop-cmd", 0, HQ_OPT_VALUE, "CMD",
	    "Shell command run after the worker" },
	{ "worker-wrap-cmd", 0, HQ_OPT_VALUE, "CMD",
	    "Prefix of the worker command (e.g. a container runner)" },
	{ "worker-time-limit", 0, HQ_OPT_VALUE, "DURATION",
	    "Time limit of the workers [default: the time limit]" },
	{ "no-dry-run", 0, HQ_OPT_FLAG, NULL,
	    "Do not submit a test allocation first" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt alloc_none_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt alloc_info_opts[] = {
	{ "filter", 0, HQ_OPT_VALUE, "queued|running|finished|failed",
	    "Display only allocations in this state" },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt alloc_remove_opts[] = {
	{ "force", 0, HQ_OPT_FLAG, NULL,
	    "Remove the queue even if it has running allocations" },
	{ NULL, 0, 0, NULL, NULL },
};

/* clap's name of an option's value: --max-worker-count <MAX_WORKER_COUNT>. */
HQ_NORETURN static void
alloc_bad_value(struct cli *c, const char *opt, const char *value,
    const char *why)
{
	const struct hq_opt *o;
	const char *vn = "VALUE";

	for (o = alloc_add_opts; o->name != NULL; o++)
		if (strcmp(o->name, opt) == 0 && o->value_name != NULL)
			vn = o->value_name;
	cli_fail(c,
	    "error: invalid value '%s' for '--%s <%s>': %s\n\nFor more "
	    "information, try '--help'.",
	    value, opt, vn, why);
}

static void
alloc_missing(struct cli *c, const char *what)
{
	cli_fail(c,
	    "error: the following required arguments were not provided:\n  "
	    "%s\n\nFor more information, try '--help'.",
	    what);
}

static uint32_t
alloc_queue_id(struct cli *c, const struct hq_args *a)
{
	struct hq_errbuf eb;
	uint32_t id;

	if (a->npos < 1)
		alloc_missing(c, "<QUEUE_ID>");
	if (hq_parse_u32(a->pos[0], &id, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '<QUEUE_ID>': %s\n\nFor "
		    "more information, try '--help'.",
		    a->pos[0], eb.msg);
	return id;
}

/* ---- add, dry-run ------------------------------------------------------ */

static char **
alloc_strv_push(char **v, uint32_t *n, const char *s)
{
	v = hq_xreallocarray(v, *n + 1, sizeof *v);
	v[(*n)++] = hq_xstrdup(s);
	return v;
}

/* Append "--opt" and, if value, its shell-quoted value. */
static void
alloc_warg(struct hq_alloc_params *p, const char *opt, const char *value)
{
	struct hq_buf b;

	p->worker_args = alloc_strv_push(p->worker_args, &p->nworker_args, opt);
	if (value == NULL)
		return;
	hq_buf_init(&b);
	hq_batch_quote(&b, value);
	p->worker_args = alloc_strv_push(p->worker_args, &p->nworker_args,
	    (const char *)b.data);
	hq_buf_fini(&b);
}

static uint64_t
alloc_duration(struct cli *c, const struct hq_args *a, const char *opt,
    bool human_only, uint64_t dflt)
{
	const char *v = hq_args_get(a, opt);
	struct hq_errbuf eb;
	uint64_t ms;

	if (v == NULL)
		return dflt;
	if ((human_only ? hq_parse_humantime(v, &ms, &eb)
			: hq_parse_duration(v, &ms, &eb)) != 0)
		alloc_bad_value(c, opt, v, eb.msg);
	return ms;
}

static uint32_t
alloc_u32(struct cli *c, const struct hq_args *a, const char *opt,
    uint32_t dflt, uint32_t min)
{
	const char *v = hq_args_get(a, opt);
	struct hq_errbuf eb;
	uint32_t n;

	if (v == NULL)
		return dflt;
	if (hq_parse_u32(v, &n, &eb) != 0)
		alloc_bad_value(c, opt, v, eb.msg);
	if (n < min)
		alloc_bad_value(c, opt, v, "the value must be at least 1");
	return n;
}

static void
alloc_check_detect(struct cli *c, const char *v)
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
		if (known[i] == NULL)
			alloc_bad_value(c, "detect-resources", v,
			    "expected all, none, or a list of cpus, mem, "
			    "gpus/nvidia, gpus/amd");
	}
	free(copy);
}

/* The queue parameters from the command line (spec 1.8, 2.13). */
static void
alloc_params(struct cli *c, const struct hq_args *a, struct hq_alloc_params *p)
{
	const char *v, *cpus = hq_args_get(a, "cpus"), **res;
	struct hq_buf b;
	uint32_t nres, i;
	uint64_t wtl;

	memset(p, 0, sizeof *p);
	if (a->npos < 1)
		alloc_missing(c, "<MANAGER>");
	if (strcmp(a->pos[0], "slurm") == 0)
		p->manager = HQ_MANAGER_SLURM;
	else if (strcmp(a->pos[0], "pbs") == 0)
		p->manager = HQ_MANAGER_PBS;
	else
		cli_fail(c,
		    "error: invalid value '%s' for '<MANAGER>'\n  [possible "
		    "values: pbs, slurm]\n\nFor more information, try "
		    "'--help'.",
		    a->pos[0]);
	if (hq_args_get(a, "time-limit") == NULL)
		alloc_missing(c, "--time-limit <TIME_LIMIT>");
	p->time_limit_ms = alloc_duration(c, a, "time-limit", false, 0);
	if (p->time_limit_ms == 0)
		alloc_bad_value(c, "time-limit", hq_args_get(a, "time-limit"),
		    "the time limit must be positive");
	p->backlog = alloc_u32(c, a, "backlog", 1, 1);
	p->max_workers_per_alloc =
	    alloc_u32(c, a, "max-workers-per-alloc", 1, 1);
	p->max_worker_count = alloc_u32(c, a, "max-worker-count", 0, 1);
	if ((v = hq_args_get(a, "name")) != NULL) {
		if (*v == '\0' || strpbrk(v, "/ \t\n\"'\\$`") != NULL)
			alloc_bad_value(c, "name", v,
			    "the name must be non-empty, without '/', quotes "
			    "or whitespace");
		p->name = hq_xstrdup(v);
	}
	p->idle_timeout_ms =
	    alloc_duration(c, a, "idle-timeout", false, ALLOC_DEFAULT_IDLE_MS);
	if (p->idle_timeout_ms > ALLOC_IDLE_WARN_MS)
		hq_warn(
		    "Idle timeout is set to a value larger than 10 minutes. "
		    "This might lead to wasting allocation resources.");
	wtl = alloc_duration(c, a, "worker-time-limit", false, 0);
	if (wtl > p->time_limit_ms)
		cli_fail(c,
		    "Worker time limit cannot be larger than the time "
		    "limit of the allocation queue");
	p->worker_time_limit_ms = wtl;

	/* Worker options, in the order of the worker command (spec 2.13). */
	res = hq_args_multi(a, "resource", &nres);
	cli_check_worker_pools(c, cpus, res, nres, alloc_bad_value);
	if (cpus != NULL) {
		alloc_warg(p, "--cpus", cpus);
		p->cpus = hq_xstrdup(cpus);
	}
	for (i = 0; i < nres; i++) {
		alloc_warg(p, "--resource", res[i]);
		p->resources =
		    alloc_strv_push(p->resources, &p->nresources, res[i]);
	}
	if ((v = hq_args_get(a, "coupling")) != NULL)
		alloc_warg(p, "--coupling", v);
	if ((v = hq_args_get(a, "group")) != NULL)
		alloc_warg(p, "--group", v);
	if (hq_args_flag(a, "no-hyper-threading"))
		alloc_warg(p, "--no-hyper-threading", NULL);
	if ((v = hq_args_get(a, "detect-resources")) != NULL) {
		alloc_check_detect(c, v);
		alloc_warg(p, "--detect-resources", v);
	}
	if ((v = hq_args_get(a, "overview-interval")) != NULL) {
		alloc_duration(c, a, "overview-interval", true, 0);
		alloc_warg(p, "--overview-interval", v);
	}
	if ((v = hq_args_get(a, "min-utilization")) != NULL) {
		struct hq_errbuf eb;
		double u;

		if (hq_parse_f64(v, &u, &eb) != 0)
			alloc_bad_value(c, "min-utilization", v, eb.msg);
		if (u < 0.0 || u > 1.0)
			alloc_bad_value(c, "min-utilization", v,
			    "the value must be between 0 and 1");
		p->min_utilization = (uint32_t)(u * 10000.0 + 0.5);
		p->worker_args = alloc_strv_push(p->worker_args,
		    &p->nworker_args, "--min-utilization");
		p->worker_args =
		    alloc_strv_push(p->worker_args, &p->nworker_args, v);
	}
	v = hq_args_get(a, "on-server-lost");
	if (v == NULL)
		v = "finish-running";
	else if (strcmp(v, "stop") != 0 && strcmp(v, "finish-running") != 0 &&
	    strcmp(v, "reconnect") != 0)
		alloc_bad_value(c, "on-server-lost", v,
		    "possible values: stop, finish-running, reconnect");
	alloc_warg(p, "--on-server-lost", v);
	hq_buf_init(&b);
	hq_fmt_duration(&b, hq_alloc_params_worker_limit(p));
	alloc_warg(p, "--time-limit", (const char *)b.data);
	hq_buf_fini(&b);

	if ((v = hq_args_get(a, "worker-start-cmd")) != NULL)
		p->start_cmd = hq_xstrdup(v);
	if ((v = hq_args_get(a, "worker-stop-cmd")) != NULL)
		p->stop_cmd = hq_xstrdup(v);
	if ((v = hq_args_get(a, "worker-wrap-cmd")) != NULL)
		p->wrap_cmd = hq_xstrdup(v);
	for (i = 0; i < a->ntrail; i++)
		p->additional_args = alloc_strv_push(p->additional_args,
		    &p->nadditional_args, a->trail[i]);
}

/* Send an alloc request and print its outcome; exits on an error. */
static void
alloc_send(struct cli *c, struct hq_cmsg *m)
{
	struct hq_smsg r;

	cli_connect(c);
	m->kind = HQ_CMSG_ALLOC;
	cli_request(c, m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message ? r.message : "server error");
	if (r.kind != HQ_SMSG_COMMAND)
		cli_fail(c, "unexpected reply from the server");
	cli_print_lines(c, &r);
	hq_smsg_fini(&r);
}

static int
alloc_add_common(struct cli *c, int argc, char **argv, int kind,
    const char *about)
{
	struct hq_args a;
	struct hq_cmsg m;

	cli_parse(c, &a, alloc_add_opts, argc, argv, 1, true,
	    "<MANAGER> [-- <ADDITIONAL_ARGS>...]", about);
	memset(&m, 0, sizeof m);
	m.sub = kind;
	alloc_params(c, &a, &m.aparams);
	m.no_dry_run = hq_args_flag(&a, "no-dry-run");
	alloc_send(c, &m);
	hq_alloc_params_fini(&m.aparams);
	hq_args_fini(&a);
	return 0;
}

int
cmd_alloc_add(struct cli *c, int argc, char **argv)
{
	return alloc_add_common(c, argc, argv, HQ_AREQ_ADD,
	    "Create an allocation queue (pbs or slurm)");
}

int
cmd_alloc_dry_run(struct cli *c, int argc, char **argv)
{
	return alloc_add_common(c, argc, argv, HQ_AREQ_DRY_RUN,
	    "Submit a test allocation and cancel it at once");
}

/* ---- pause, resume, remove -------------------------------------------- */

static int
alloc_queue_cmd(struct cli *c, int argc, char **argv, int kind,
    const struct hq_opt *opts, const char *about)
{
	struct hq_args a;
	struct hq_cmsg m;

	cli_parse(c, &a, opts, argc, argv, 1, false, "<QUEUE_ID>", about);
	memset(&m, 0, sizeof m);
	m.sub = kind;
	m.queue_id = alloc_queue_id(c, &a);
	if (kind == HQ_AREQ_REMOVE)
		m.force = hq_args_flag(&a, "force");
	alloc_send(c, &m);
	hq_args_fini(&a);
	return 0;
}

int
cmd_alloc_pause(struct cli *c, int argc, char **argv)
{
	return alloc_queue_cmd(c, argc, argv, HQ_AREQ_PAUSE, alloc_none_opts,
	    "Stop submitting allocations of a queue");
}

int
cmd_alloc_resume(struct cli *c, int argc, char **argv)
{
	return alloc_queue_cmd(c, argc, argv, HQ_AREQ_RESUME, alloc_none_opts,
	    "Resume submitting allocations of a paused queue");
}

int
cmd_alloc_remove(struct cli *c, int argc, char **argv)
{
	return alloc_queue_cmd(c, argc, argv, HQ_AREQ_REMOVE, alloc_remove_opts,
	    "Remove a queue and cancel its allocations");
}

/* ---- list, info, log ----------------------------------------------------- */

static void
alloc_fmt_secs(struct hq_buf *b, json_t *v)
{
	hq_buf_reset(b);
	if (json_is_number(v))
		hq_fmt_duration(b,
		    (uint64_t)(json_number_value(v) * 1000.0 + 0.5));
	hq_buf_append(b, "", 1);
}

int
cmd_alloc_list(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "ID", "State", "Backlog size",
		"Max workers per alloc", "Max worker count", "Timelimit",
		"Manager", "Worker resources", "Name", "Args" };
	struct hq_args a;
	struct hq_table *t;
	struct hq_buf tl, args;
	json_t *res;
	size_t i, k;

	cli_parse(c, &a, alloc_none_opts, argc, argv, 0, false, NULL,
	    "List allocation queues");
	res = cli_query(c, HQ_Q_ALLOC_LIST, NULL, NULL, false, NULL, 0, false);
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, res);
	} else if (c->mode == CLI_MODE_CLI) {
		t = hq_table_create(HQ_ARRAY_LEN(hdr));
		hq_table_set_header(t, hdr);
		hq_buf_init(&tl);
		hq_buf_init(&args);
		for (i = 0; i < json_array_size(res); i++) {
			json_t *q = json_array_get(res, i);
			json_t *extra = json_object_get(q, "additional_args");
			char id[16], backlog[16], mwpa[16], mwc[16];
			const char *cells[HQ_ARRAY_LEN(hdr)];
			const char *state = cli_jstr(q, "state");

			snprintf(id, sizeof id, "%lld",
			    (long long)cli_jint(q, "id"));
			snprintf(backlog, sizeof backlog, "%lld",
			    (long long)cli_jint(q, "backlog"));
			snprintf(mwpa, sizeof mwpa, "%lld",
			    (long long)cli_jint(q, "max_workers_per_alloc"));
			if (json_is_integer(
				json_object_get(q, "max_worker_count")))
				snprintf(mwc, sizeof mwc, "%lld",
				    (long long)cli_jint(q, "max_worker_count"));
			else
				mwc[0] = '\0';
			alloc_fmt_secs(&tl, json_object_get(q, "timelimit"));
			hq_buf_reset(&args);
			for (k = 0; k < json_array_size(extra); k++)
				hq_buf_printf(&args, "%s%s", k ? " " : "",
				    json_string_value(
					json_array_get(extra, k)));
			hq_buf_append(&args, "", 1);
			cells[0] = id;
			cells[1] =
			    strcmp(state, "Paused") == 0 ? "PAUSED" : "ACTIVE";
			cells[2] = backlog;
			cells[3] = mwpa;
			cells[4] = mwc;
			cells[5] = (const char *)tl.data;
			cells[6] = cli_jstr(q, "manager");
			cells[7] = cli_jstr(q, "_resources");
			cells[8] = cli_jstr(q, "name");
			cells[9] = (const char *)args.data;
			hq_table_add_row(t, cells);
		}
		cli_table_print(c, t);
		hq_table_destroy(t);
		hq_buf_fini(&tl);
		hq_buf_fini(&args);
	}
	json_decref(res);
	hq_args_fini(&a);
	return 0;
}

static void
alloc_fmt_time(struct hq_buf *b, json_t *o, const char *key)
{
	int64_t ms = cli_jint(o, key);

	hq_buf_reset(b);
	if (ms > 0)
		hq_fmt_local(b, (uint64_t)ms);
	hq_buf_append(b, "", 1);
}

int
cmd_alloc_info(struct cli *c, int argc, char **argv)
{
	static const char *const hdr[] = { "ID", "State", "Working directory",
		"Worker count", "Queue time", "Start time", "Finish time" };
	static const char *const states[] = { "queued", "running", "finished",
		"failed", NULL };
	struct hq_selector sel;
	const char **filter = NULL;
	uint32_t nfilter = 0;
	struct hq_args a;
	json_t *res;
	const char *v;
	size_t i;

	cli_parse(c, &a, alloc_info_opts, argc, argv, 1, false, "<QUEUE_ID>",
	    "Display allocations of a queue");
	memset(&sel, 0, sizeof sel);
	sel.kind = HQ_SEL_IDS;
	hq_idset_add(&sel.ids, alloc_queue_id(c, &a));
	if ((v = hq_args_get(&a, "filter")) != NULL)
		filter = cli_states(c, v, states, &nfilter);
	res = cli_query(c, HQ_Q_ALLOC_INFO, &sel, NULL, false, filter, nfilter,
	    false);
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, res);
	} else if (c->mode == CLI_MODE_CLI) {
		struct hq_table *t = hq_table_create(HQ_ARRAY_LEN(hdr));
		struct hq_buf qt, st, ft;

		hq_table_set_header(t, hdr);
		hq_buf_init(&qt);
		hq_buf_init(&st);
		hq_buf_init(&ft);
		for (i = 0; i < json_array_size(res); i++) {
			json_t *o = json_array_get(res, i);
			const char *cells[HQ_ARRAY_LEN(hdr)];
			char state[16], count[16];
			size_t k;

			snprintf(state, sizeof state, "%s",
			    cli_jstr(o, "status"));
			for (k = 0; state[k] != '\0'; k++)
				if (state[k] >= 'a' && state[k] <= 'z')
					state[k] = (char)(state[k] - 32);
			snprintf(count, sizeof count, "%lld",
			    (long long)cli_jint(o, "target_worker_count"));
			alloc_fmt_time(&qt, o, "_queued_ms");
			alloc_fmt_time(&st, o, "_started_ms");
			alloc_fmt_time(&ft, o, "_ended_ms");
			cells[0] = cli_jstr(o, "id");
			cells[1] = state;
			cells[2] = cli_jstr(o, "workdir");
			cells[3] = count;
			cells[4] = (const char *)qt.data;
			cells[5] = (const char *)st.data;
			cells[6] = (const char *)ft.data;
			hq_table_add_row(t, cells);
		}
		cli_table_print(c, t);
		hq_table_destroy(t);
		hq_buf_fini(&qt);
		hq_buf_fini(&st);
		hq_buf_fini(&ft);
	}
	json_decref(res);
	free(filter);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return 0;
}

int
cmd_alloc_log(struct cli *c, int argc, char **argv)
{
	struct hq_selector sel;
	struct hq_args a;
	const char *workdir = NULL;
	char buf[16384], *path;
	json_t *res;
	size_t i, n;
	FILE *f;

	cli_parse(c, &a, alloc_none_opts, argc, argv, 2, false,
	    "<ALLOCATION_ID> <stdout|stderr>",
	    "Print the stdout or stderr of an allocation");
	if (a.npos < 2)
		alloc_missing(c,
		    a.npos < 1 ? "<ALLOCATION_ID>\n  <CHANNEL>" : "<CHANNEL>");
	if (strcmp(a.pos[1], "stdout") != 0 && strcmp(a.pos[1], "stderr") != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '<CHANNEL>'\n  [possible "
		    "values: stdout, stderr]\n\nFor more information, try "
		    "'--help'.",
		    a.pos[1]);
	if (c->mode == CLI_MODE_JSON)
		cli_fail(c, "`alloc log` is not supported in JSON output mode");
	memset(&sel, 0, sizeof sel);
	sel.kind = HQ_SEL_ALL;
	res = cli_query(c, HQ_Q_ALLOC_INFO, &sel, NULL, false, NULL, 0, false);
	for (i = 0; i < json_array_size(res) && workdir == NULL; i++)
		if (strcmp(cli_jstr(json_array_get(res, i), "id"), a.pos[0]) ==
		    0)
			workdir = cli_jstr(json_array_get(res, i), "workdir");
	if (workdir == NULL)
		cli_fail(c, "Allocation %s was not found", a.pos[0]);
	path = hq_xprintf("%s/%s", workdir, a.pos[1]);
	if ((f = fopen(path, "rb")) == NULL)
		cli_fail(c, "Cannot read the %s of allocation %s (%s): %s",
		    a.pos[1], a.pos[0], path, strerror(errno));
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	c->printed = true;
	free(path);
	json_decref(res);
	hq_args_fini(&a);
	return 0;
}
