/* SPDX-License-Identifier: MIT */
/*
 * The short-lived client side of hq: global options, the connection to the
 * server, output in the three modes (cli, json, quiet), and the commands.
 */
#ifndef HQ_CLI_H
#define HQ_CLI_H

#include <jansson.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/args.h"
#include "cli/term.h"
#include "common/access.h"
#include "common/bconn.h"
#include "common/parse.h"
#include "common/wire.h"

enum cli_mode {
	CLI_MODE_CLI = 0,
	CLI_MODE_JSON,
	CLI_MODE_QUIET,
};

struct cli {
	enum cli_mode mode;
	enum hq_color_mode color_mode;
	bool colors;
	bool debug;
	char *server_dir;
	bool server_dir_given;
	bool printed; /* JSON mode: something was printed */
	struct hq_access access;
	struct hq_tls *tls;
	struct hq_bconn *conn;
	char *path; /* command path for usage, e.g. "job list" */
};

/* Parse a command's options (plus the global ones) and apply globals.
 * Prints usage and exits 0 for --help. */
int cli_parse(struct cli *c, struct hq_args *a, const struct hq_opt *opts,
    int argc, char **argv, uint32_t max_pos, bool trailing,
    const char *positional, const char *about);

/*
 * Introspection for shell completion and docs (cmd_complete.c): while
 * cli_describing is set, cli_parse() fills it in and longjmps to its
 * jmp_buf instead of parsing. Commands therefore call cli_parse() before
 * they allocate or do anything else.
 */
struct cli_describe {
	jmp_buf jb;
	const struct hq_opt *opts; /* own options, then the global ones;
				      valid until the next cli_parse() */
	uint32_t nown;		   /* how many of them are the command's own */
	const char *positional;
	const char *about;
	bool trailing;
};
extern struct cli_describe *cli_describing;

/* A command of the table in main.c. */
typedef int cli_cmd_fn(struct cli *c, int argc, char **argv);
/* Entry i of the command table ("job list", its function and summary),
 * or NULL past the end. Defined in main.c. */
const char *cli_command_at(size_t i, cli_cmd_fn **run, const char **about);

/* Connect to the server of c->server_dir and say hello. Exits on error. */
void cli_connect(struct cli *c);
void cli_disconnect(struct cli *c);
/* Send one message and wait for one reply. Exits on transport errors. */
void cli_request(struct cli *c, const struct hq_cmsg *m, struct hq_smsg *r);
/* Receive one more message (waits, progress). timeout < 0: forever. */
int cli_recv(struct cli *c, struct hq_smsg *r, double timeout_s);
/* A query returning JSON; exits with the server's error if any. */
json_t *cli_query(struct cli *c, int kind, const struct hq_selector *sel,
    const struct hq_idset *tasks, bool has_tasks, const char **states,
    uint32_t nstates, bool all);

/* Report an error in the current mode and exit 1. */
HQ_NORETURN void cli_fail(struct cli *c, const char *fmt, ...) HQ_PRINTF(2, 3);
/* Print JSON (keys starting with '_' removed) in JSON mode. */
void cli_print_json(struct cli *c, json_t *j);
/* Print the log lines of a command reply; returns true if any is an error. */
bool cli_print_lines(struct cli *c, const struct hq_smsg *r);
/* At exit: JSON mode prints {} if nothing was printed. */
int cli_finish(struct cli *c, int rc);

/* Parse a selector or exit with the error. */
void cli_selector(struct cli *c, const char *s, int allow,
    struct hq_selector *out);
/* Parse a comma-separated list of states into a NULL-free array. */
const char **cli_states(struct cli *c, const char *list,
    const char *const *allowed, uint32_t *n);

/* Table rendering helpers shared by commands. */
struct hq_table;
void cli_table_print(struct cli *c, struct hq_table *t);
void cli_kv_print(struct cli *c, struct hq_table *t);
const char *cli_jstr(json_t *o, const char *key); /* "" if absent */
int64_t cli_jint(json_t *o, const char *key);
/* Print a worker or server info table from JSON (server/worker start). */
void cli_print_server_info(struct cli *c, json_t *info, const char *dir);
void cli_print_worker_info(struct cli *c, json_t *arr);

/* Commands. argc/argv start after the command path. */
int cmd_server_start(struct cli *c, int argc, char **argv);
int cmd_server_stop(struct cli *c, int argc, char **argv);
int cmd_server_info(struct cli *c, int argc, char **argv);
int cmd_server_wait(struct cli *c, int argc, char **argv);
int cmd_worker_start(struct cli *c, int argc, char **argv);
int cmd_worker_stop(struct cli *c, int argc, char **argv);
int cmd_worker_list(struct cli *c, int argc, char **argv);
int cmd_worker_info(struct cli *c, int argc, char **argv);
int cmd_worker_wait(struct cli *c, int argc, char **argv);
int cmd_worker_address(struct cli *c, int argc, char **argv);
int cmd_worker_hwdetect(struct cli *c, int argc, char **argv);
/*
 * Check argv[0..argc) as the options of `worker start` (global options
 * included) without starting anything: a bad option exits through
 * cli_fail() with the message `hq worker start` would give. Overwrites
 * the option table of the caller's last cli_parse() (read it first).
 */
void cli_worker_check_start_args(struct cli *c, int argc, char **argv);
/* The handler of a bad option value: prints and exits (cli_fail). */
typedef void cli_bad_value_fn(struct cli *c, const char *opt, const char *value,
    const char *why);
/* Validate a worker's --cpus and --resource pool definitions (worker start,
 * alloc add) before connecting; a bad one goes to bad(). */
void cli_check_worker_pools(struct cli *c, const char *cpus, const char **res,
    uint32_t nres, cli_bad_value_fn *bad);
/* cmd_deploy.c */
int cmd_worker_deploy_ssh(struct cli *c, int argc, char **argv);
/* cmd_server.c: `server debug-dump` */
int cmd_server_debug_dump(struct cli *c, int argc, char **argv);
int cmd_submit(struct cli *c, int argc, char **argv);
int cmd_job_list(struct cli *c, int argc, char **argv);
int cmd_job_info(struct cli *c, int argc, char **argv);
int cmd_job_summary(struct cli *c, int argc, char **argv);
int cmd_job_cancel(struct cli *c, int argc, char **argv);
int cmd_job_forget(struct cli *c, int argc, char **argv);
int cmd_job_wait(struct cli *c, int argc, char **argv);
int cmd_job_progress(struct cli *c, int argc, char **argv);
int cmd_job_task_ids(struct cli *c, int argc, char **argv);
int cmd_job_open(struct cli *c, int argc, char **argv);
int cmd_job_close(struct cli *c, int argc, char **argv);
int cmd_job_cat(struct cli *c, int argc, char **argv);
int cmd_task_list(struct cli *c, int argc, char **argv);
int cmd_task_info(struct cli *c, int argc, char **argv);
int cmd_journal_export(struct cli *c, int argc, char **argv);
int cmd_journal_stream(struct cli *c, int argc, char **argv);
int cmd_journal_replay(struct cli *c, int argc, char **argv);
int cmd_journal_prune(struct cli *c, int argc, char **argv);
int cmd_journal_report(struct cli *c, int argc, char **argv);
int cmd_journal_flush(struct cli *c, int argc, char **argv);
/* cmd_outputlog.c */
int cmd_output_log(struct cli *c, int argc, char **argv);
/* cmd_notify.c: `task notify`, and waiting with --on-notify. */
int cmd_task_notify(struct cli *c, int argc, char **argv);
/*
 * After a submit with notify set (the server then waits for the job):
 * receive until job 'job_id' is done, running argv[0..argc) plus the
 * message for every task notification (spec 2.14).
 */
int cli_wait_notify(struct cli *c, uint32_t job_id, char **argv, int argc);
/* cmd_jobfile.c */
int cmd_job_submit_file(struct cli *c, int argc, char **argv);
/* cmd_explain.c */
int cmd_task_explain(struct cli *c, int argc, char **argv);
/* cmd_access.c */
int cmd_server_generate_access(struct cli *c, int argc, char **argv);
/* cmd_complete.c */
int cmd_generate_completion(struct cli *c, int argc, char **argv);
/* cmd_doc.c */
int cmd_doc(struct cli *c, int argc, char **argv);
/* cmd_dashboard.c */
int cmd_dashboard(struct cli *c, int argc, char **argv);
int cmd_alloc_add(struct cli *c, int argc, char **argv);
int cmd_alloc_dry_run(struct cli *c, int argc, char **argv);
int cmd_alloc_list(struct cli *c, int argc, char **argv);
int cmd_alloc_info(struct cli *c, int argc, char **argv);
int cmd_alloc_log(struct cli *c, int argc, char **argv);
int cmd_alloc_pause(struct cli *c, int argc, char **argv);
int cmd_alloc_resume(struct cli *c, int argc, char **argv);
int cmd_alloc_remove(struct cli *c, int argc, char **argv);

/* Wait for jobs (after a submit or for job wait/progress). */
int cli_wait_jobs(struct cli *c, const struct hq_selector *sel,
    bool without_close, bool progress);

#endif
