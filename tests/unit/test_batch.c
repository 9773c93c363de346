/* SPDX-License-Identifier: MIT */
/*
 * batch.c: submission scripts and worker commands for Slurm and PBS, and
 * the parsers of sbatch/qsub, squeue, qstat and scontrol output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/batch.h"

#define SEC 1000ull

static void
params(struct hq_alloc_params *p, enum hq_manager m)
{
	memset(p, 0, sizeof *p);
	p->manager = m;
	p->backlog = 1;
	p->max_workers_per_alloc = 2;
	p->time_limit_ms = 3600 * SEC + 1;
	p->idle_timeout_ms = 300 * SEC;
	p->nworker_args = 4;
	p->worker_args = calloc(4, sizeof *p->worker_args);
	p->worker_args[0] = strdup("--on-server-lost");
	p->worker_args[1] = strdup("\"finish-running\"");
	p->worker_args[2] = strdup("--time-limit");
	p->worker_args[3] = strdup("\"1h\"");
}

static char *
script(const struct hq_alloc_params *p, uint32_t workers, bool dry_run)
{
	struct hq_batch_job j = { 0 };
	struct hq_buf b;
	char *s;

	j.p = p;
	j.workers = workers;
	j.name = "hq-1-3";
	j.dir = "/srv/hq/001/autoalloc/1/003";
	j.hq_exe = "/opt/hq/bin/hq";
	j.server_dir = "/srv/hq/001";
	j.dry_run = dry_run;
	hq_buf_init(&b);
	hq_batch_script(&b, &j);
	s = strdup((const char *)b.data);
	hq_buf_fini(&b);
	return s;
}

static void
has(const char *text, const char *part)
{
	if (strstr(text, part) == NULL)
		fail_msg("missing \"%s\" in:\n%s", part, text);
}

static void
lacks(const char *text, const char *part)
{
	if (strstr(text, part) != NULL)
		fail_msg("unexpected \"%s\" in:\n%s", part, text);
}

static void
test_batch_slurm_script(void **unused)
{
	struct hq_alloc_params p;
	char *s;

	(void)unused;
	params(&p, HQ_MANAGER_SLURM);
	p.nadditional_args = 2;
	p.additional_args = calloc(2, sizeof *p.additional_args);
	p.additional_args[0] = strdup("--partition=debug");
	p.additional_args[1] = strdup("-A proj");
	s = script(&p, 1, false);
	assert_string_equal(s,
	    "#!/bin/bash\n"
	    "#SBATCH --nodes=1\n"
	    "#SBATCH --job-name=hq-1-3\n"
	    "#SBATCH --output=/srv/hq/001/autoalloc/1/003/stdout\n"
	    "#SBATCH --error=/srv/hq/001/autoalloc/1/003/stderr\n"
	    "#SBATCH --time=01:00:01\n"
	    "#SBATCH --partition=debug -A proj\n"
	    "\n"
	    "/opt/hq/bin/hq worker start --idle-timeout \"5m\" --manager "
	    "\"slurm\" --server-dir \"/srv/hq/001\" --on-server-lost "
	    "\"finish-running\" --time-limit \"1h\"\n");
	free(s);
	/* Several nodes: one worker on each through srun; a dry run is
	 * held. */
	s = script(&p, 3, true);
	has(s, "#SBATCH --nodes=3\n");
	has(s, "#SBATCH --hold\n");
	has(s,
	    "\nsrun --overlap --ntasks=3 --nodes=3 /opt/hq/bin/hq worker "
	    "start ");
	free(s);
	hq_alloc_params_fini(&p);
}

static void
test_batch_pbs_script(void **unused)
{
	struct hq_alloc_params p;
	char *s;

	(void)unused;
	params(&p, HQ_MANAGER_PBS);
	p.time_limit_ms = 50 * 3600 * SEC;
	s = script(&p, 1, false);
	has(s, "#!/bin/bash\n#PBS -l select=1\n#PBS -N hq-1-3\n");
	has(s, "#PBS -o /srv/hq/001/autoalloc/1/003/stdout\n");
	has(s, "#PBS -e /srv/hq/001/autoalloc/1/003/stderr\n");
	has(s, "#PBS -l walltime=50:00:00\n");
	has(s, "--manager \"pbs\"");
	lacks(s, "#PBS -h");
	lacks(s, "pbsdsh");
	free(s);
	s = script(&p, 2, true);
	has(s, "#PBS -l select=2\n");
	has(s, "#PBS -h\n");
	has(s,
	    "\npbsdsh -- bash -l -c '/opt/hq/bin/hq worker start "
	    "--idle-timeout \"5m\"");
	free(s);
	hq_alloc_params_fini(&p);
}

static void
test_batch_worker_cmd_start_stop_wrap(void **unused)
{
	struct hq_alloc_params p;
	struct hq_batch_job j = { 0 };
	struct hq_buf b;
	char *s;

	(void)unused;
	params(&p, HQ_MANAGER_SLURM);
	p.start_cmd = strdup("module load x");
	p.stop_cmd = strdup("echo 'bye'");
	p.wrap_cmd = strdup("podman run --rm img");
	j.p = &p;
	j.workers = 1;
	j.hq_exe = "/path with space/hq";
	j.server_dir = "/srv/$dir";
	j.rust_log = "debug";
	hq_buf_init(&b);
	hq_batch_worker_cmd(&b, &j);
	assert_string_equal((const char *)b.data,
	    "module load x && RUST_LOG=\"debug\" podman run --rm img "
	    "\"/path with space/hq\" worker start --idle-timeout \"5m\" "
	    "--manager \"slurm\" --server-dir \"/srv/\\$dir\" "
	    "--on-server-lost \"finish-running\" --time-limit \"1h\"; "
	    "echo 'bye'");
	hq_buf_fini(&b);
	/* With start/stop commands a multi-node body runs them per node. */
	s = script(&p, 2, false);
	has(s,
	    "\nsrun --overlap --ntasks=2 --nodes=2 bash -l -c 'module load "
	    "x && ");
	has(s, "; echo '\\''bye'\\'''\n");
	free(s);
	hq_alloc_params_fini(&p);
}

static void
test_batch_quote_and_walltime(void **unused)
{
	struct hq_buf b;

	(void)unused;
	hq_buf_init(&b);
	hq_batch_quote(&b, "a \"b\" $c `d` \\e");
	assert_string_equal((const char *)b.data,
	    "\"a \\\"b\\\" \\$c \\`d\\` \\\\e\"");
	hq_buf_reset(&b);
	hq_batch_fmt_walltime(&b, 0);
	assert_string_equal((const char *)b.data, "00:00:00");
	hq_buf_reset(&b);
	hq_batch_fmt_walltime(&b, 1);
	assert_string_equal((const char *)b.data, "00:00:01");
	hq_buf_reset(&b);
	hq_batch_fmt_walltime(&b, (100 * 3600 + 61) * SEC);
	assert_string_equal((const char *)b.data, "100:01:01");
	hq_buf_fini(&b);
}

static void
test_batch_parse_submit(void **unused)
{
	struct hq_errbuf eb;
	char *id;

	(void)unused;
	assert_int_equal(hq_batch_parse_submit(HQ_MANAGER_SLURM,
			     "Submitted batch job 4242\n", &id, &eb),
	    0);
	assert_string_equal(id, "4242");
	free(id);
	assert_int_equal(hq_batch_parse_submit(HQ_MANAGER_SLURM,
			     "sbatch: warning: x\nSubmitted batch job 7 on "
			     "cluster c2\n",
			     &id, &eb),
	    0);
	assert_string_equal(id, "7");
	free(id);
	assert_int_equal(hq_batch_parse_submit(HQ_MANAGER_SLURM,
			     "sbatch: error: nope\n", &id, &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "sbatch: error: nope"));
	assert_int_equal(hq_batch_parse_submit(HQ_MANAGER_PBS,
			     "  123.pbs-server.example  \n", &id, &eb),
	    0);
	assert_string_equal(id, "123.pbs-server.example");
	free(id);
	assert_int_equal(hq_batch_parse_submit(HQ_MANAGER_PBS, "\n", &id, &eb),
	    HQ_EINVAL);
	assert_int_equal(hq_batch_parse_submit(HQ_MANAGER_PBS, "12 34\n", &id,
			     &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "12 34"));
}

static void
test_batch_parse_squeue(void **unused)
{
	struct hq_batch_status *st;
	struct hq_errbuf eb;
	enum hq_batch_state s;
	uint32_t n;

	(void)unused;
	assert_int_equal(hq_batch_parse_squeue("5|PENDING\n\n6|RUNNING\n"
					       "7|COMPLETED\n8|CANCELLED by 0\n"
					       "9|TIMEOUT\n10|NODE_FAIL\n",
			     &st, &n, &eb),
	    0);
	assert_int_equal(n, 6);
	assert_string_equal(st[0].id, "5");
	assert_int_equal(st[0].state, HQ_BJ_QUEUED);
	assert_int_equal(st[1].state, HQ_BJ_RUNNING);
	assert_int_equal(st[2].state, HQ_BJ_FINISHED);
	assert_int_equal(st[3].state, HQ_BJ_FAILED);
	assert_int_equal(st[4].state, HQ_BJ_FINISHED);
	assert_int_equal(st[5].state, HQ_BJ_FAILED);
	hq_batch_status_free(st, n);
	assert_int_equal(hq_batch_parse_squeue("", &st, &n, &eb), 0);
	assert_int_equal(n, 0);
	hq_batch_status_free(st, n);
	assert_int_equal(hq_batch_parse_squeue("5 PENDING\n", &st, &n, &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "5 PENDING"));
	assert_int_equal(hq_batch_parse_squeue("5|WEIRD\n", &st, &n, &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "WEIRD"));
	assert_true(hq_batch_slurm_state("COMPLETING", &s));
	assert_int_equal(s, HQ_BJ_RUNNING);
	assert_false(hq_batch_slurm_state("PEND", &s));
}

static void
test_batch_parse_qstat(void **unused)
{
	const char *json =
	    "{\"timestamp\": 1, \"pbs_version\": \"2022.1\", \"Jobs\": {"
	    "\"1.srv\": {\"job_state\": \"Q\"},"
	    "\"2.srv\": {\"job_state\": \"R\", \"stime\": \"x\"},"
	    "\"3.srv\": {\"job_state\": \"F\", \"Exit_status\": 0},"
	    "\"4.srv\": {\"job_state\": \"F\", \"Exit_status\": 271},"
	    "\"5.srv\": {\"job_state\": \"E\"}}}";
	struct hq_batch_status *st;
	struct hq_errbuf eb;
	uint32_t n;

	(void)unused;
	assert_int_equal(hq_batch_parse_qstat(json, &st, &n, &eb), 0);
	assert_int_equal(n, 5);
	assert_string_equal(st[0].id, "1.srv");
	assert_int_equal(st[0].state, HQ_BJ_QUEUED);
	assert_int_equal(st[1].state, HQ_BJ_RUNNING);
	assert_int_equal(st[2].state, HQ_BJ_FINISHED);
	assert_int_equal(st[3].state, HQ_BJ_FAILED);
	assert_int_equal(st[4].state, HQ_BJ_RUNNING);
	hq_batch_status_free(st, n);
	assert_int_equal(hq_batch_parse_qstat("{\"timestamp\": 1}", &st, &n,
			     &eb),
	    0);
	assert_int_equal(n, 0);
	hq_batch_status_free(st, n);
	assert_int_equal(hq_batch_parse_qstat("{\"Jobs\": {", &st, &n, &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "line 1"));
	assert_int_equal(hq_batch_parse_qstat("{\"Jobs\": {\"1\": "
					      "{\"job_state\": \"Z\"}}}",
			     &st, &n, &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "job 1"));
}

static void
test_batch_remaining_time(void **unused)
{
	struct hq_errbuf eb;
	uint64_t ms;

	(void)unused;
	assert_int_equal(hq_batch_parse_slurm_time("1-02:03:04", &ms, &eb), 0);
	assert_int_equal(ms, (86400 + 2 * 3600 + 3 * 60 + 4) * SEC);
	assert_int_equal(hq_batch_parse_slurm_time("05:00", &ms, &eb), 0);
	assert_int_equal(ms, 300 * SEC);
	assert_int_equal(hq_batch_parse_slurm_time("10", &ms, &eb), 0);
	assert_int_equal(ms, 600 * SEC);
	assert_int_equal(hq_batch_parse_slurm_time("2-12", &ms, &eb), 0);
	assert_int_equal(ms, (2 * 86400 + 12 * 3600) * SEC);
	assert_int_equal(hq_batch_parse_slurm_time("UNLIMITED", &ms, &eb), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(hq_batch_parse_slurm_time("1:2:3:4", &ms, &eb),
	    HQ_EINVAL);
	assert_int_equal(hq_batch_parse_slurm_time("", &ms, &eb), HQ_EINVAL);

	assert_int_equal(
	    hq_batch_slurm_remaining("JobId=9 JobName=x\n   JobState=RUNNING "
				     "Reason=None\n   RunTime=00:00:12 "
				     "TimeLimit=00:05:00 TimeMin=N/A\n",
		&ms, &eb),
	    0);
	assert_int_equal(ms, 288 * SEC);
	assert_int_equal(hq_batch_slurm_remaining("RunTime=00:00:12 "
						  "TimeLimit=UNLIMITED",
			     &ms, &eb),
	    0);
	assert_int_equal(ms, 0);
	assert_int_equal(hq_batch_slurm_remaining("JobState=RUNNING", &ms, &eb),
	    HQ_EINVAL);

	assert_int_equal(
	    hq_batch_pbs_remaining("{\"Jobs\": {\"7.s\": {\"Resource_List\": "
				   "{\"walltime\": \"01:00:00\"}, "
				   "\"resources_used\": "
				   "{\"walltime\": \"00:10:00\"}}}}",
		"7.s", &ms, &eb),
	    0);
	assert_int_equal(ms, 3000 * SEC);
	/* The id as qstat prints it may differ (server suffix): the only
	 * job is taken. */
	assert_int_equal(hq_batch_pbs_remaining("{\"Jobs\": {\"7.s.example\": "
						"{\"Resource_List\": "
						"{\"walltime\": \"00:30\"}}}}",
			     "7.s", &ms, &eb),
	    0);
	assert_int_equal(ms, 30 * SEC);
	assert_int_equal(hq_batch_pbs_remaining("{\"Jobs\": {}}", "7", &ms,
			     &eb),
	    HQ_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_slurm_script),
		cmocka_unit_test(test_batch_pbs_script),
		cmocka_unit_test(test_batch_worker_cmd_start_stop_wrap),
		cmocka_unit_test(test_batch_quote_and_walltime),
		cmocka_unit_test(test_batch_parse_submit),
		cmocka_unit_test(test_batch_parse_squeue),
		cmocka_unit_test(test_batch_parse_qstat),
		cmocka_unit_test(test_batch_remaining_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
