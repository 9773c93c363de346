/* SPDX-License-Identifier: MIT */
/*
 * Batch systems (Slurm, PBS) as text: the submission script of an
 * allocation and the worker command in it (spec 2.13), and parsers for
 * what sbatch/qsub, squeue, scontrol and qstat print. Pure: no I/O; the
 * server and the worker run the programs and hand the output here.
 */
#ifndef HQ_BATCH_H
#define HQ_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/alloc_params.h"
#include "common/buf.h"
#include "common/util.h"

struct hq_batch_job {
	const struct hq_alloc_params *p;
	uint32_t workers;	/* nodes, one worker each */
	const char *name;	/* job name */
	const char *dir;	/* allocation directory (stdout, stderr) */
	const char *hq_exe;	/* absolute path of hq */
	const char *server_dir; /* passed to the workers as --server-dir */
	const char *rust_log;	/* copied into the worker command; NULL */
	bool dry_run;		/* held job: checked, never started */
};

/*
 * The command that starts the worker(s):
 *   [RUST_LOG=x ][wrap ]<hq> worker start --idle-timeout "5m"
 *       --manager "slurm" --server-dir "<dir>" <worker args...>
 * with the start and stop commands around it ("<start> && <cmd>; <stop>").
 * Appended to out (NUL-terminated).
 */
void hq_batch_worker_cmd(struct hq_buf *out, const struct hq_batch_job *j);

/*
 * The whole script: "#!/bin/bash", the #SBATCH or #PBS header (nodes, job
 * name, output and error files in j->dir, walltime, the additional
 * arguments on one line, a hold for a dry run), then the worker command;
 * with several nodes it runs on each of them through
 * `srun --overlap --ntasks=N --nodes=N` or `pbsdsh -- bash -l -c`.
 * Appended to out (NUL-terminated).
 */
void hq_batch_script(struct hq_buf *out, const struct hq_batch_job *j);

/* A word in double quotes for the shell: " \ $ ` are escaped. */
void hq_batch_quote(struct hq_buf *out, const char *s);

/* A walltime as HH:MM:SS (hours may exceed 24), rounded up to seconds. */
void hq_batch_fmt_walltime(struct hq_buf *out, uint64_t ms);

/*
 * The job id from what the submission program printed: sbatch's
 * "Submitted batch job <id>[ on cluster <c>]" or qsub's id (the trimmed
 * output). Returns 0 with *id malloc'd (caller frees), or HQ_EINVAL
 * quoting the output.
 */
int hq_batch_parse_submit(enum hq_manager m, const char *out, char **id,
    struct hq_errbuf *eb);

/* A job's state as the allocator sees it (spec 2.2). */
enum hq_batch_state {
	HQ_BJ_QUEUED = 0,
	HQ_BJ_RUNNING,
	HQ_BJ_FINISHED,
	HQ_BJ_FAILED,
};

struct hq_batch_status {
	char *id;
	enum hq_batch_state state;
};

/* Free an array from the parsers below; NULL is ok. */
void hq_batch_status_free(struct hq_batch_status *st, uint32_t n);

/*
 * Slurm's job state names: PENDING, CONFIGURING, REQUEUED... are queued;
 * RUNNING, COMPLETING, SUSPENDED... running; COMPLETED and TIMEOUT
 * finished; CANCELLED, FAILED, NODE_FAIL, OUT_OF_MEMORY... failed. Text
 * after the name ("CANCELLED by 0") is ignored. Returns false for an
 * unknown name.
 */
bool hq_batch_slurm_state(const char *s, enum hq_batch_state *out);

/*
 * `squeue --noheader --states=all --jobs=<ids> --format=%i|%T` output:
 * one "id|STATE" per line; blank lines are skipped. Returns 0 with a
 * malloc'd array (hq_batch_status_free), or HQ_EINVAL naming the line.
 */
int hq_batch_parse_squeue(const char *out, struct hq_batch_status **st,
    uint32_t *n, struct hq_errbuf *eb);

/*
 * `qstat -f <ids> -F json -x` output: {"Jobs": {"<id>": {"job_state":
 * "Q|H|W|T|S|R|E|B|F|X", "Exit_status": N}}}. Q, H, W, T, S are queued;
 * R, E, B running; F and X (and Torque's C) finished when Exit_status is
 * 0, failed otherwise. A document without "Jobs" has no jobs. Returns 0
 * with a malloc'd array, or HQ_EINVAL for malformed JSON.
 */
int hq_batch_parse_qstat(const char *json, struct hq_batch_status **st,
    uint32_t *n, struct hq_errbuf *eb);

/*
 * A Slurm duration: "[D-]HH:MM:SS", "MM:SS", "M", "D-HH", "D-HH:MM".
 * "UNLIMITED", "Partition_Limit" and "NONE" give 0 (no limit).
 */
int hq_batch_parse_slurm_time(const char *s, uint64_t *ms,
    struct hq_errbuf *eb);

/*
 * Remaining walltime of a running job, for a worker's default time limit:
 * from `scontrol show job <id>` (TimeLimit - RunTime) or from
 * `qstat -f <id> -F json` (Resource_List.walltime - resources_used.walltime
 * of job 'id', or of the only job). 0 means no limit. Returns HQ_EINVAL if
 * the fields are missing or malformed.
 */
int hq_batch_slurm_remaining(const char *scontrol_out, uint64_t *ms,
    struct hq_errbuf *eb);
int hq_batch_pbs_remaining(const char *json, const char *id, uint64_t *ms,
    struct hq_errbuf *eb);

#endif
