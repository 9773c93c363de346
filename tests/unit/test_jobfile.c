/* SPDX-License-Identifier: MIT */
/* Unit tests for job definition files (src/common/jobfile.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/jobfile.h"
#include "common/util.h"

#define CWD "/home/user/project"

static const struct hq_jobfile_opts opts_new = { CWD, false };
static const struct hq_jobfile_opts opts_open = { CWD, true };

static void
parse_ok(const char *s, const struct hq_jobfile_opts *o, struct hq_jobfile *jf)
{
	struct hq_errbuf eb = { { 0 } };

	if (hq_jobfile_parse(s, strlen(s), o, jf, &eb) != 0)
		fail_msg("unexpected error: %s\ninput:\n%s", eb.msg, s);
}

/* Parse must fail with a message containing 'want' (and 'where' if set). */
static void
parse_err(const char *s, const struct hq_jobfile_opts *o, const char *want,
    const char *where)
{
	struct hq_errbuf eb = { { 0 } };
	struct hq_jobfile jf;
	int rc;

	memset(&jf, 0xab, sizeof jf);
	rc = hq_jobfile_parse(s, strlen(s), o, &jf, &eb);
	if (rc == 0)
		fail_msg("expected an error containing \"%s\" for:\n%s", want,
		    s);
	assert_int_equal(rc, HQ_EINVAL);
	if (strstr(eb.msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", eb.msg, want);
	if (where != NULL && strncmp(eb.msg, where, strlen(where)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", eb.msg,
		    where);
	/* Nothing is left allocated or half-filled on error. */
	assert_null(jf.name);
	assert_null(jf.submit.descs);
	assert_int_equal(jf.submit.ntasks, 0);
}

static char *
read_data(const char *name, size_t *len)
{
	const char *dir = getenv("HQ_TEST_DATA");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/jobfiles/%s", dir ? dir : "tests/data",
	    name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const char *
env_get(const struct hq_task_desc *d, const char *key)
{
	uint32_t i;

	for (i = 0; i < d->nenv; i++)
		if (strcmp(d->env[i].key, key) == 0)
			return d->env[i].value;
	return NULL;
}

static const struct hq_res_entry *
entry(const struct hq_res_variant *v, const char *name)
{
	uint32_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->e[i].name, name) == 0)
			return &v->e[i];
	return NULL;
}

/* ---- successful parses --------------------------------------------------- */

static void
test_jobfile_minimal_task_defaults(void **state)
{
	struct hq_jobfile jf;
	const struct hq_task_desc *d;

	(void)state;
	parse_ok("[[task]]\ncommand = [\"sleep\", \"1\"]\n", &opts_new, &jf);
	assert_string_equal(jf.name, "");
	assert_false(jf.has_max_fails);
	assert_true(jf.submit.graph);
	assert_int_equal(jf.submit.ntasks, 1);
	assert_int_equal(jf.submit.ndescs, 1);
	/* Auto ids start at 1, not 0 (spec 2.7, 4 item 7). */
	assert_int_equal(jf.submit.tasks[0].id, 1);
	assert_int_equal(jf.submit.tasks[0].ndeps, 0);
	assert_string_equal(jf.submit.submit_dir, CWD);
	assert_null(jf.submit.stream_dir);
	d = &jf.submit.descs[0];
	assert_int_equal(d->argc, 2);
	assert_string_equal(d->argv[0], "sleep");
	assert_null(d->argv[2]);
	/* The default cwd is the client's directory, not %{SUBMIT_DIR}. */
	assert_string_equal(d->cwd, CWD);
	assert_int_equal(d->out.kind, HQ_STDIO_FILE);
	assert_string_equal(d->out.path,
	    "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout");
	assert_string_equal(d->err.path,
	    "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stderr");
	assert_int_equal(d->crash_limit, HQ_CRASH_DEFAULT);
	assert_int_equal(d->pin, HQ_PIN_NONE);
	assert_false(d->task_dir);
	assert_int_equal(d->time_limit_ms, 0);
	assert_null(d->stdin_data);
	/* No request: cpus = 1 compact. */
	assert_int_equal(d->req.n, 1);
	assert_int_equal(d->req.v[0].n, 1);
	assert_string_equal(d->req.v[0].e[0].name, "cpus");
	assert_int_equal(d->req.v[0].e[0].amount, 10000);
	assert_int_equal(d->req.v[0].e[0].policy, HQ_POLICY_COMPACT);
	assert_int_equal(d->req.v[0].weight, 10000);
	hq_jobfile_fini(&jf);
	assert_null(jf.name);
}

static void
test_jobfile_tasks_example(void **state)
{
	struct hq_jobfile jf;
	struct hq_errbuf eb;
	const struct hq_task_desc *d;
	const struct hq_res_variant *v;
	size_t len;
	char *text = read_data("tasks.toml", &len);

	(void)state;
	if (hq_jobfile_parse(text, len, &opts_new, &jf, &eb) != 0)
		fail_msg("%s", eb.msg);
	free(text);
	assert_string_equal(jf.name, "pipeline");
	assert_true(jf.has_max_fails);
	assert_int_equal(jf.max_fails, 2);
	assert_string_equal(jf.submit.stream_dir, "logs/%{JOB_ID}");
	assert_int_equal(jf.submit.ntasks, 3);
	/* Already in dependency order. */
	assert_int_equal(jf.submit.tasks[0].id, 1);
	assert_int_equal(jf.submit.tasks[1].id, 2);
	assert_int_equal(jf.submit.tasks[2].id, 3);
	assert_int_equal(jf.submit.tasks[2].ndeps, 2);
	assert_int_equal(jf.submit.tasks[2].deps[0], 1);
	assert_int_equal(jf.submit.tasks[2].deps[1], 2);

	d = &jf.submit.descs[jf.submit.tasks[0].desc];
	assert_string_equal(d->argv[0], "./prepare.sh");
	assert_string_equal(env_get(d, "OMP_NUM_THREADS"), "4");
	assert_string_equal(env_get(d, "MY VAR"), "x y");
	assert_int_equal(d->out.kind, HQ_STDIO_FILE);
	assert_string_equal(d->out.path, "out/%{TASK_ID}.out");
	assert_true(d->out.rm_if_finished);
	assert_int_equal(d->err.kind, HQ_STDIO_NONE);
	assert_int_equal(d->time_limit_ms, 90 * 60 * 1000);
	assert_int_equal(d->priority, -1);
	assert_int_equal(d->req.n, 2);
	v = &d->req.v[0];
	assert_int_equal(v->min_time_ms, 3600 * 1000);
	assert_int_equal(entry(v, "cpus")->amount, 40000);
	assert_int_equal(entry(v, "cpus")->policy, HQ_POLICY_FORCE_COMPACT);
	assert_int_equal(entry(v, "gpus/nvidia")->amount, 20000);
	assert_int_equal(entry(v, "mem")->amount, 15000);
	assert_int_equal(entry(&d->req.v[1], "cpus")->amount, 80000);
	assert_int_equal(d->req.v[1].n_nodes, 0);

	/* With a top-level stream, unset channels are streamed. */
	d = &jf.submit.descs[jf.submit.tasks[1].desc];
	assert_int_equal(d->out.kind, HQ_STDIO_STREAM);
	assert_int_equal(d->err.kind, HQ_STDIO_STREAM);
	assert_int_equal(d->crash_limit, HQ_CRASH_NEVER_RESTART);

	d = &jf.submit.descs[jf.submit.tasks[2].desc];
	assert_string_equal(d->argv[2], "--config=C:\\cfg\\model.yaml");
	assert_int_equal(d->pin, HQ_PIN_OMP);
	assert_true(d->task_dir);
	hq_jobfile_fini(&jf);
}

static void
test_jobfile_array_example(void **state)
{
	struct hq_jobfile jf;
	struct hq_errbuf eb;
	const struct hq_task_desc *d;
	size_t len;
	char *text = read_data("array.toml", &len);

	(void)state;
	if (hq_jobfile_parse(text, len, &opts_new, &jf, &eb) != 0)
		fail_msg("%s", eb.msg);
	free(text);
	assert_string_equal(jf.name, "sweep");
	assert_false(jf.submit.graph);
	assert_int_equal(jf.submit.ndescs, 1);
	assert_int_equal(hq_idset_count(&jf.submit.ids), 10);
	assert_true(hq_idset_contains(&jf.submit.ids, 1));
	assert_true(hq_idset_contains(&jf.submit.ids, 10));
	assert_int_equal(jf.submit.nentries, 10);
	assert_string_equal(jf.submit.entries[0], "alpha");
	assert_string_equal(jf.submit.entries[9], "kappa");
	d = &jf.submit.descs[0];
	assert_string_equal(d->cwd, "%{SUBMIT_DIR}/work");
	assert_string_equal(env_get(d, "RUN_MODE"), "batch");
	assert_int_equal(d->crash_limit, 3);
	assert_int_equal(d->req.v[0].e[0].policy, HQ_POLICY_ALL);
	hq_jobfile_fini(&jf);
}

static void
test_jobfile_multinode_example(void **state)
{
	struct hq_jobfile jf;
	struct hq_errbuf eb;
	const struct hq_task_desc *d;
	size_t len;
	char *text = read_data("multinode.toml", &len);

	(void)state;
	if (hq_jobfile_parse(text, len, &opts_new, &jf, &eb) != 0)
		fail_msg("%s", eb.msg);
	free(text);
	assert_string_equal(jf.name, "mpi");
	assert_int_equal(jf.submit.tasks[0].id, 1);
	d = &jf.submit.descs[0];
	assert_string_equal(d->argv[3], "1_000");
	assert_string_equal(d->out.path, "%{CWD}/solver.out");
	assert_int_equal(d->req.v[0].n_nodes, 4);
	assert_int_equal(d->req.v[0].n, 0);
	assert_int_equal(d->req.v[0].min_time_ms, 2 * 3600 * 1000);
	assert_int_equal(d->req.v[0].weight, 5000);
	hq_jobfile_fini(&jf);
}

static void
test_jobfile_auto_ids_follow_max_explicit(void **state)
{
	struct hq_jobfile jf;

	(void)state;
	parse_ok("[[task]]\nid = 5\ncommand = [\"a\"]\n"
		 "[[task]]\ncommand = [\"b\"]\n"
		 "[[task]]\nid = 2\ncommand = [\"c\"]\n"
		 "[[task]]\ncommand = [\"d\"]\n",
	    &opts_new, &jf);
	assert_int_equal(jf.submit.ntasks, 4);
	assert_int_equal(jf.submit.tasks[0].id, 5);
	assert_int_equal(jf.submit.tasks[1].id, 6);
	assert_int_equal(jf.submit.tasks[2].id, 2);
	assert_int_equal(jf.submit.tasks[3].id, 7);
	/* desc indices follow the file. */
	assert_string_equal(jf.submit.descs[jf.submit.tasks[3].desc].argv[0],
	    "d");
	hq_jobfile_fini(&jf);
}

static void
test_jobfile_toposort_and_dedup_deps(void **state)
{
	struct hq_jobfile jf;

	(void)state;
	parse_ok("[[task]]\nid = 1\ncommand = [\"last\"]\ndeps = [3, 2, 3]\n"
		 "[[task]]\nid = 2\ncommand = [\"mid\"]\ndeps = [3]\n"
		 "[[task]]\nid = 3\ncommand = [\"first\"]\n",
	    &opts_new, &jf);
	assert_int_equal(jf.submit.ntasks, 3);
	assert_int_equal(jf.submit.tasks[0].id, 3);
	assert_int_equal(jf.submit.tasks[1].id, 2);
	assert_int_equal(jf.submit.tasks[2].id, 1);
	assert_int_equal(jf.submit.tasks[2].ndeps, 2);
	assert_int_equal(jf.submit.tasks[2].deps[0], 3);
	assert_int_equal(jf.submit.tasks[2].deps[1], 2);
	assert_string_equal(jf.submit.descs[jf.submit.tasks[0].desc].argv[0],
	    "first");
	hq_jobfile_fini(&jf);
}

static void
test_jobfile_open_job_deps_outside_file(void **state)
{
	struct hq_jobfile jf;
	const char *s = "[[task]]\nid = 10\ncommand = [\"x\"]\ndeps = [0, 1]\n";

	(void)state;
	/* New job: unknown ids are an error; open job: the server checks. */
	parse_err(s, &opts_new, "Invalid dependency on 0", "line 1, column 1");
	parse_ok(s, &opts_open, &jf);
	assert_int_equal(jf.submit.tasks[0].ndeps, 2);
	hq_jobfile_fini(&jf);
	/* A self-dependency is wrong either way. */
	parse_err("[[task]]\nid = 4\ncommand = [\"x\"]\ndeps = [4]\n",
	    &opts_open, "Invalid dependency on 4", NULL);
}

static void
test_jobfile_array_entries_only(void **state)
{
	struct hq_jobfile jf;

	(void)state;
	parse_ok("[array]\ncommand = [\"echo\"]\nentries = [\"a\", \"b\", "
		 "\"c\"]\nstdout = \"none\"\n",
	    &opts_new, &jf);
	assert_false(jf.submit.graph);
	assert_int_equal(hq_idset_count(&jf.submit.ids), 3);
	assert_true(hq_idset_contains(&jf.submit.ids, 0));
	assert_true(hq_idset_contains(&jf.submit.ids, 2));
	assert_int_equal(jf.submit.descs[0].out.kind, HQ_STDIO_NONE);
	hq_jobfile_fini(&jf);
	parse_ok("[array]\ncommand = [\"echo\"]\nids = \"3-5\"\n", &opts_new,
	    &jf);
	assert_int_equal(hq_idset_count(&jf.submit.ids), 3);
	assert_int_equal(jf.submit.nentries, 0);
	hq_jobfile_fini(&jf);
}

static void
test_jobfile_request_forms(void **state)
{
	struct hq_jobfile jf;
	const struct hq_res_variant *v;

	(void)state;
	parse_ok("[[task]]\ncommand = [\"x\"]\n"
		 "[[task.request]]\nresources = { gpus = 1, mem = 1.5, fpga = "
		 "0.25, a = \"2 scatter\" }\nweight = 2\n"
		 "[[task.request]]\nresources = { cpus = 0.1 }\n",
	    &opts_new, &jf);
	v = &jf.submit.descs[0].req.v[0];
	/* An explicit request adds no cpus. */
	assert_null(entry(v, "cpus"));
	assert_int_equal(entry(v, "gpus")->amount, 10000);
	assert_int_equal(entry(v, "mem")->amount, 15000);
	assert_int_equal(entry(v, "fpga")->amount, 2500);
	assert_int_equal(entry(v, "a")->amount, 20000);
	assert_int_equal(entry(v, "a")->policy, HQ_POLICY_SCATTER);
	assert_int_equal(v->weight, 20000);
	/* Floats go through f32 and are rounded up (spec 2.7). */
	assert_int_equal(entry(&jf.submit.descs[0].req.v[1], "cpus")->amount,
	    1001);
	hq_jobfile_fini(&jf);
}

static void
test_jobfile_stdin_env_and_limits(void **state)
{
	struct hq_jobfile jf;
	const struct hq_task_desc *d;

	(void)state;
	parse_ok("name = \"j\"\nmax_fails = 0\n[[task]]\ncommand = [\"cat\"]\n"
		 "stdin = \"hello\\n\"\ncwd = \"rel/dir\"\ncrash_limit = "
		 "\"unlimited\"\ntime_limit = \"2m 5s\"\npriority = 7\n"
		 "[task.env]\nA = \"1\"\n",
	    &opts_new, &jf);
	assert_true(jf.has_max_fails);
	assert_int_equal(jf.max_fails, 0);
	d = &jf.submit.descs[0];
	assert_int_equal(d->stdin_len, 6);
	assert_memory_equal(d->stdin_data, "hello\n", 6);
	assert_string_equal(d->cwd, "rel/dir");
	assert_int_equal(d->crash_limit, HQ_CRASH_UNLIMITED);
	assert_int_equal(d->time_limit_ms, 125000);
	assert_int_equal(d->priority, 7);
	assert_string_equal(env_get(d, "A"), "1");
	hq_jobfile_fini(&jf);
}

/* ---- errors
 * ------------------------------------------------------------------ */

static void
test_jobfile_spec_errors_word_for_word(void **state)
{
	(void)state;
	parse_err("", &opts_new, "No tasks defined", "No tasks defined");
	parse_err("name = \"x\"\n", &opts_new, "No tasks defined", NULL);
	parse_err("task = []\n", &opts_new, "No tasks defined", NULL);
	parse_err("[[task]]\nid = 1\ncommand = [\"a\"]\n\n"
		  "[[task]]\nid = 1\ncommand = [\"b\"]\n",
	    &opts_new, "Task 1 is defined multiple times", "line 5, column 1");
	/* An auto id can clash with nothing: it is above every explicit one,
	 * but two equal explicit ids after auto ones still clash. */
	parse_err("[[task]]\ncommand = [\"a\"]\n[[task]]\nid = 1\ncommand = "
		  "[\"b\"]\n[[task]]\nid = 1\ncommand = [\"c\"]\n",
	    &opts_new, "Task 1 is defined multiple times", "line 6, column 1");
	parse_err("[[task]]\nid = 1\ncommand = [\"a\"]\ndeps = [2]\n"
		  "[[task]]\nid = 2\ncommand = [\"b\"]\ndeps = [1]\n",
	    &opts_new,
	    "Task 1 is part of dependency cycle or has an invalid "
	    "dependencies",
	    "line 1, column 1");
	parse_err("[[task]]\nid = 1\ncommand = [\"a\"]\ndeps = [7]\n",
	    &opts_new, "Invalid dependency on 7", NULL);
	parse_err("[array]\ncommand = [\"a\"]\nids = \"1-3\"\nentries = "
		  "[\"x\"]\n",
	    &opts_new, "Items 'ids' and 'entries' does not match",
	    "line 1, column 1");
}

static void
test_jobfile_unknown_fields_named_with_position(void **state)
{
	(void)state;
	parse_err("nmae = \"x\"\n[[task]]\ncommand = [\"a\"]\n", &opts_new,
	    "unknown field `nmae`", "line 1, column 8");
	parse_err("[[task]]\ncommand = [\"a\"]\ncomand = 1\n", &opts_new,
	    "unknown field `comand` in [[task]]", "line 3, column 10");
	parse_err("[[task]]\ncommand = [\"a\"]\n[[task.request]]\n"
		  "resource = { cpus = 1 }\n",
	    &opts_new, "unknown field `resource` in [[task.request]]",
	    "line 4, column 12");
	parse_err("[[task]]\ncommand = [\"a\"]\nstdout = { path = \"x\", mode "
		  "= \"rm-if-finished\" }\n",
	    &opts_new, "unknown field `mode` in `stdout`", "line 3, ");
	/* Array-only and task-only fields stay apart. */
	parse_err("[[task]]\ncommand = [\"a\"]\nentries = [\"x\"]\n", &opts_new,
	    "unknown field `entries`", NULL);
	parse_err("[array]\ncommand = [\"a\"]\nids = \"1\"\ndeps = [1]\n",
	    &opts_new, "unknown field `deps` in [array]", NULL);
}

static void
test_jobfile_bad_values(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[[task]]\n", "missing field `command` in [[task]]" },
		{ "[[task]]\ncommand = \"ls\"\n",
		    "`command` must be an array, not a string" },
		{ "[[task]]\ncommand = []\n", "`command` must not be empty" },
		{ "[[task]]\ncommand = [\"a\", 1]\n", "item 1 is an integer" },
		{ "[[task]]\ncommand = [\"\"]\n", "must not be empty" },
		{ "[[task]]\ncommand = [\"a\"]\npriority = \"high\"\n",
		    "`priority` must be an integer, not a string" },
		{ "[[task]]\ncommand = [\"a\"]\npriority = 3000000000\n",
		    "`priority` must be between" },
		{ "[[task]]\ncommand = [\"a\"]\nid = -1\n",
		    "`id` must be between 0 and 4294967295, not -1" },
		{ "[[task]]\ncommand = [\"a\"]\ncrash_limit = 0\n",
		    "`crash_limit` must be between 1 and 65535" },
		{ "[[task]]\ncommand = [\"a\"]\ncrash_limit = \"never\"\n",
		    "`crash_limit` must be a number" },
		{ "[[task]]\ncommand = [\"a\"]\npin = \"yes\"\n",
		    "`pin` must be \"none\", \"taskset\" or \"omp\"" },
		{ "[[task]]\ncommand = [\"a\"]\ntime_limit = \"10 parsecs\"\n",
		    "invalid `time_limit`" },
		{ "[[task]]\ncommand = [\"a\"]\ntime_limit = \"01:00:00\"\n",
		    "invalid `time_limit`" },
		{ "[[task]]\ncommand = [\"a\"]\ntask_dir = \"yes\"\n",
		    "`task_dir` must be a boolean" },
		{ "[[task]]\ncommand = [\"a\"]\nenv = { A = 1 }\n",
		    "environment variable `A` must be a string" },
		{ "[[task]]\ncommand = [\"a\"]\nenv = { \"A=B\" = \"1\" }\n",
		    "invalid environment variable name `A=B`" },
		{ "[[task]]\ncommand = [\"a\"]\nstdout = 5\n",
		    "`stdout` must be a path" },
		{ "[[task]]\ncommand = [\"a\"]\nstderr = { on_close = "
		  "\"none\" }\n",
		    "missing field `path` in `stderr`" },
		{ "[[task]]\ncommand = [\"a\"]\nstdout = { path = \"x\", "
		  "on_close = \"rm\" }\n",
		    "`on_close` must be \"none\" or \"rm-if-finished\"" },
		{ "[[task]]\ncommand = [\"a\"]\ndeps = [\"1\"]\n",
		    "`deps` must be an array of task ids" },
		{ "[[task]]\ncommand = [\"a\"]\nrequest = { resources = {} }\n",
		    "`request` must be an array, not a table" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\n",
		    "the request has neither `resources` nor `n_nodes`" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\nresources = "
		  "{ "
		  "cpus = 0 }\n",
		    "resource `cpus`: the amount must be between 1" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\nresources = "
		  "{ "
		  "cpus = -0.5 }\n",
		    "resource `cpus`: the amount must be a positive number" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\nresources = "
		  "{ "
		  "cpus = \"1.00001\" }\n",
		    "Resource precision exceeded" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\nresources = "
		  "{ "
		  "cpus = true }\n",
		    "resource `cpus` must be an integer, a float or a string" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\nresources = "
		  "{ "
		  "\"9x\" = 1 }\n",
		    "invalid resource name `9x`" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\nresources = "
		  "{ "
		  "cpus = 1 }\nn_nodes = 2\n",
		    "cannot also list `resources`" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\nresources = "
		  "{ "
		  "cpus = 1 }\nweight = 0\n",
		    "`weight` must be a number greater than 0" },
		{ "[[task]]\ncommand = [\"a\"]\n[[task.request]]\nresources = "
		  "{ "
		  "cpus = 1 }\ntime_request = 5\n",
		    "`time_request` must be a string, not an integer" },
		{ "[array]\ncommand = [\"a\"]\n", "No tasks defined" },
		{ "[array]\ncommand = [\"a\"]\nids = \"3-1\"\n",
		    "invalid `ids`" },
		{ "[array]\ncommand = [\"a\"]\nentries = [1]\n",
		    "`entries` must be an array of strings" },
		{ "[array]\ncommand = [\"a\"]\nids = \"1\"\n[[task]]\ncommand "
		  "= "
		  "[\"b\"]\n",
		    "[array] cannot be combined with [[task]]" },
		{ "[task]\ncommand = [\"a\"]\n",
		    "`task` must be an array, not a table" },
		{ "name = \"a\\nb\"\n[[task]]\ncommand = [\"a\"]\n",
		    "`name` must not contain a newline" },
		{ "max_fails = -1\n[[task]]\ncommand = [\"a\"]\n",
		    "`max_fails` must be between 0" },
		{ "stream = \"\"\n[[task]]\ncommand = [\"a\"]\n",
		    "`stream` must not be empty" },
		/* TOML syntax errors carry the parser's position. */
		{ "[[task]]\ncommand = [\"a\"\n",
		    "line 2, column 11: unterminated array" },
		{ "[[task]]\ncommand = [\"a\"]\ncommand = [\"b\"]\n",
		    "line 3, column 1" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(cases); i++)
		parse_err(cases[i].text, &opts_new, cases[i].want, "line ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobfile_minimal_task_defaults),
		cmocka_unit_test(test_jobfile_tasks_example),
		cmocka_unit_test(test_jobfile_array_example),
		cmocka_unit_test(test_jobfile_multinode_example),
		cmocka_unit_test(test_jobfile_auto_ids_follow_max_explicit),
		cmocka_unit_test(test_jobfile_toposort_and_dedup_deps),
		cmocka_unit_test(test_jobfile_open_job_deps_outside_file),
		cmocka_unit_test(test_jobfile_array_entries_only),
		cmocka_unit_test(test_jobfile_request_forms),
		cmocka_unit_test(test_jobfile_stdin_env_and_limits),
		cmocka_unit_test(test_jobfile_spec_errors_word_for_word),
		cmocka_unit_test(
		    test_jobfile_unknown_fields_named_with_position),
		cmocka_unit_test(test_jobfile_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
