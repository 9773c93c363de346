/* SPDX-License-Identifier: MIT */
/*
 * Entry point of the hq binary: global options, then the command tree of
 * HyperQueue's CLI. Commands are data: a path and a function.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/version.h"

struct cmd_entry {
	const char *path;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *about;
};

static const struct cmd_entry commands[] = {
	{ "server start", cmd_server_start, "Start the server" },
	{ "server stop", cmd_server_stop, "Stop the server" },
	{ "server info", cmd_server_info, "Show information about the server" },
	{ "server wait", cmd_server_wait, "Wait until the server is running" },
	{ "server generate-access", cmd_server_generate_access,
	    "Generate an access file in advance" },
	{ "server debug-dump", cmd_server_debug_dump,
	    "Write the scheduler state as JSON (debug)" },
	{ "worker start", cmd_worker_start, "Start a worker" },
	{ "worker stop", cmd_worker_stop, "Stop workers" },
	{ "worker list", cmd_worker_list, "Display information about workers" },
	{ "worker info", cmd_worker_info,
	    "Display information about a worker" },
	{ "worker wait", cmd_worker_wait, "Wait until workers are connected" },
	{ "worker address", cmd_worker_address, "Print the worker's hostname" },
	{ "worker hwdetect", cmd_worker_hwdetect,
	    "Display the resources a worker would detect" },
	{ "worker deploy-ssh", cmd_worker_deploy_ssh,
	    "Start workers on remote hosts through ssh" },
	{ "submit", cmd_submit, "Submit a job" },
	{ "job submit", cmd_submit, "Submit a job" },
	{ "job submit-file", cmd_job_submit_file,
	    "Submit a job from a job definition file" },
	{ "job list", cmd_job_list, "Display information about jobs" },
	{ "job info", cmd_job_info, "Display detailed information of jobs" },
	{ "job summary", cmd_job_summary, "Display a summary of jobs" },
	{ "job cancel", cmd_job_cancel, "Cancel jobs" },
	{ "job forget", cmd_job_forget, "Forget completed jobs" },
	{ "job wait", cmd_job_wait, "Wait for jobs to finish" },
	{ "job progress", cmd_job_progress, "Show the progress of jobs" },
	{ "job task-ids", cmd_job_task_ids, "Print the task ids of jobs" },
	{ "job open", cmd_job_open, "Open a new job" },
	{ "job close", cmd_job_close, "Close open jobs" },
	{ "job cat", cmd_job_cat, "Print the outputs of tasks" },
	{ "task list", cmd_task_list, "Display tasks of jobs" },
	{ "task info", cmd_task_info, "Display information about tasks" },
	{ "journal export", cmd_journal_export,
	    "Print the events of a journal file as NDJSON" },
	{ "journal stream", cmd_journal_stream,
	    "Stream the server's events (past, then live) as NDJSON" },
	{ "journal replay", cmd_journal_replay,
	    "Print the server's past events as NDJSON" },
	{ "journal prune", cmd_journal_prune,
	    "Drop the journal's history (the state is kept)" },
	{ "journal flush", cmd_journal_flush, "Flush the journal to disk" },
	{ "journal report", cmd_journal_report,
	    "Write an HTML report of a journal file" },
	{ "output-log", cmd_output_log,
	    "Read the output of tasks streamed with --stream" },
	{ "task notify", cmd_task_notify,
	    "Send a notification from inside a task" },
	{ "task explain", cmd_task_explain,
	    "Explain why a task can or cannot run on the workers" },
	{ "generate-completion", cmd_generate_completion,
	    "Generate shell completion scripts" },
	{ "doc", cmd_doc, "Print the location of the documentation" },
	{ "dashboard", cmd_dashboard,
	    "Terminal UI: workers, jobs, autoalloc (live or from a journal)" },
	{ "alloc add", cmd_alloc_add, "Create an allocation queue" },
	{ "alloc dry-run", cmd_alloc_dry_run,
	    "Test whether an allocation can be submitted" },
	{ "alloc list", cmd_alloc_list, "List allocation queues" },
	{ "alloc info", cmd_alloc_info, "Display allocations of a queue" },
	{ "alloc log", cmd_alloc_log, "Print the output of an allocation" },
	{ "alloc pause", cmd_alloc_pause, "Pause an allocation queue" },
	{ "alloc resume", cmd_alloc_resume, "Resume an allocation queue" },
	{ "alloc remove", cmd_alloc_remove, "Remove an allocation queue" },
	{ NULL, NULL, NULL },
};

static bool
is_global_with_value(const char *arg)
{
	return strcmp(arg, "--server-dir") == 0 ||
	    strcmp(arg, "--colors") == 0 || strcmp(arg, "--output-mode") == 0;
}

static void
usage(const char *prefix)
{
	const struct cmd_entry *e;
	size_t plen = prefix ? strlen(prefix) : 0;

	printf("hq: a HyperQueue-compatible meta-scheduler\n\nUsage: hq "
	       "[OPTIONS] %s%s<COMMAND>\n\nCommands:\n",
	    prefix ? prefix : "", prefix ? " " : "");
	for (e = commands; e->path != NULL; e++)
		if (plen == 0 ||
		    (strncmp(e->path, prefix, plen) == 0 &&
			e->path[plen] == ' '))
			printf("  %-18s %s\n", e->path + (plen ? plen + 1 : 0),
			    e->about);
	printf("\nOptions:\n  --server-dir <PATH>\n  --colors "
	       "<auto|always|never>\n  --output-mode <cli|json|quiet>\n  "
	       "--debug\n  -h, --help\n  -V, --version\n");
}

int
main(int argc, char **argv)
{
	struct cli c;
	const struct cmd_entry *e, *best = NULL;
	char **rest, *words[3] = { NULL, NULL, NULL };
	int nrest = 0, nwords = 0, i, rc;
	const char *env;
	char path[64];

	memset(&c, 0, sizeof c);
	hq_log_init(0);
	signal(SIGPIPE, SIG_DFL);
	c.server_dir = hq_server_dir_default();
	c.colors = hq_term_colors(HQ_COLOR_AUTO, stdout);
	env = getenv("HQ_OUTPUT_MODE");
	if (env != NULL && *env) {
		if (strcmp(env, "json") == 0)
			c.mode = CLI_MODE_JSON;
		else if (strcmp(env, "quiet") == 0)
			c.mode = CLI_MODE_QUIET;
	}
	/* Find the command path (one or two words) anywhere among leading
	 * global options; everything else goes to the command's parser, in
	 * order. */
	rest = calloc((size_t)argc + 1, sizeof *rest);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char cand[64];
		size_t len;

		if (best != NULL) {
			rest[nrest++] = argv[i];
			continue;
		}
		if (a[0] == '-') {
			if (strcmp(a, "-V") == 0 ||
			    strcmp(a, "--version") == 0) {
				printf("hyperqueue %s\n", HQ_VERSION);
				rc = 0;
				goto out;
			}
			if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
				usage(nwords ? words[0] : NULL);
				rc = 0;
				goto out;
			}
			rest[nrest++] = argv[i];
			if (is_global_with_value(a) && i + 1 < argc)
				rest[nrest++] = argv[++i];
			continue;
		}
		snprintf(cand, sizeof cand, "%s%s%s", nwords ? words[0] : "",
		    nwords ? " " : "", a);
		len = strlen(cand);
		for (e = commands; e->path != NULL; e++) {
			if (strcmp(e->path, cand) == 0)
				best = e;
			if (strncmp(e->path, cand, len) == 0 &&
			    e->path[len] == ' ')
				break;
		}
		if (best == NULL && e->path == NULL) {
			if (nwords > 0) {
				fprintf(stderr,
				    "error: unrecognized subcommand '%s'\n\n",
				    a);
				usage(words[0]);
			} else {
				fprintf(stderr,
				    "error: unrecognized subcommand '%s'\n\n"
				    "For more information, try '--help'.\n",
				    a);
			}
			rc = 1;
			goto out;
		}
		words[nwords++] = argv[i];
	}
	if (best == NULL) {
		usage(nwords ? words[0] : NULL);
		rc = nwords || argc > 1 ? 1 : 0;
		goto out;
	}
	snprintf(path, sizeof path, "%s", best->path);
	c.path = path;
	rc = best->run(&c, nrest, rest);
	rc = cli_finish(&c, rc);
out:
	free(rest);
	free(c.server_dir);
	hq_access_fini(&c.access);
	return rc;
}

const char *
cli_command_at(size_t i, cli_cmd_fn **run, const char **about)
{
	if (i >= HQ_ARRAY_LEN(commands) - 1)
		return NULL;
	if (run != NULL)
		*run = commands[i].run;
	if (about != NULL)
		*about = commands[i].about;
	return commands[i].path;
}
