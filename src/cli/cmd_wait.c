/* SPDX-License-Identifier: MIT */
/* Waiting for jobs: submit --wait/--progress, job wait, job progress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"

static void
draw_progress(struct cli *c, const struct hq_wait_progress *w)
{
	struct hq_progress p;
	struct hq_buf b;

	memset(&p, 0, sizeof p);
	p.jobs_total = w->jobs_total;
	p.jobs_done = w->jobs_done;
	p.tasks_total = w->tasks_total;
	p.running = w->running;
	p.finished = w->finished;
	p.failed = w->failed;
	p.canceled = w->canceled;
	p.aborted = w->aborted;
	hq_buf_init(&b);
	hq_progress_line(&b, &p, c->colors);
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	hq_buf_fini(&b);
}

int
cli_wait_jobs(struct cli *c, const struct hq_selector *sel, bool without_close,
    bool progress)
{
	struct hq_cmsg m;
	struct hq_smsg r;
	bool first = true, drew = false;

	cli_connect(c);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_WAIT;
	m.sel = *sel;
	m.without_close = without_close;
	m.progress = progress && c->mode == CLI_MODE_CLI;
	cli_request(c, &m, &r);
	for (;;) {
		if (r.kind == HQ_SMSG_ERROR)
			cli_fail(c, "%s", r.message);
		if (r.kind != HQ_SMSG_PROGRESS)
			cli_fail(c, "unexpected reply while waiting");
		if (first) {
			first = false;
			if (r.progress.jobs_total == 0) {
				hq_warn("There are no jobs to wait for");
				hq_smsg_fini(&r);
				return 0;
			}
			if (progress)
				hq_info("Waiting for %u job(s) with %llu "
					"task(s)",
				    r.progress.jobs_total,
				    (unsigned long long)r.progress.tasks_total);
		}
		if (m.progress) {
			draw_progress(c, &r.progress);
			drew = true;
		}
		if (r.progress.done)
			break;
		hq_smsg_fini(&r);
		cli_recv(c, &r, -1);
	}
	if (drew)
		printf("\n");
	hq_smsg_fini(&r);
	return 0;
}

static const struct hq_opt wait_opts[] = {
	{ "without-close", 0, HQ_OPT_FLAG, NULL,
	    "Do not wait for open jobs to be closed" },
	{ NULL, 0, 0, NULL, NULL },
};

int
cmd_job_wait(struct cli *c, int argc, char **argv)
{
	struct hq_selector sel;
	struct hq_args a;
	int rc;

	cli_parse(c, &a, wait_opts, argc, argv, 1, false, "<SELECTOR>",
	    "Wait until jobs finish");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <SELECTOR>");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALLOW_ALL, &sel);
	rc = cli_wait_jobs(c, &sel, hq_args_flag(&a, "without-close"), false);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return rc;
}

static const struct hq_opt progress_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

int
cmd_job_progress(struct cli *c, int argc, char **argv)
{
	struct hq_selector sel;
	struct hq_args a;
	int rc;

	cli_parse(c, &a, progress_opts, argc, argv, 1, false, "<SELECTOR>",
	    "Show the progress of jobs until they finish");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <SELECTOR>");
	cli_selector(c, a.pos[0], HQ_SEL_ALLOW_LAST | HQ_SEL_ALLOW_ALL, &sel);
	rc = cli_wait_jobs(c, &sel, false, true);
	hq_selector_fini(&sel);
	hq_args_fini(&a);
	return rc;
}
