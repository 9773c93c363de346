/* SPDX-License-Identifier: MIT */
/*
 * Job definition files (`hq job submit-file`, spec 2.7): a parsed TOML tree
 * becomes a struct hq_submit. Pure: no I/O, no clock; the client's current
 * directory comes in as a parameter.
 */
#ifndef HQ_JOBFILE_H
#define HQ_JOBFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/model.h"
#include "common/util.h"

struct hq_jobfile_opts {
	/* The client's absolute current directory: the submit dir and the
	 * default working directory of every task. Borrowed. */
	const char *cwd;
	/*
	 * The submit goes into an existing open job (--job): dependencies
	 * on ids that the file does not define are left for the server to
	 * check against the job's tasks. Without it they are an error.
	 */
	bool open_job;
};

/* A parsed job file: job-level fields and the submit to send. */
struct hq_jobfile {
	char *name; /* "" when absent (HyperQueue's default) */
	bool has_max_fails;
	uint32_t max_fails;
	struct hq_submit submit;
};

/*
 * Parse 'len' bytes of TOML text (need not be NUL-terminated) into *out.
 *
 * [[task]] files become a graph submit: one desc per task, ids assigned as
 * HyperQueue does (tasks without "id" get max(explicit ids, 0) + 1, + 2,
 * ...), dependencies de-duplicated and the tasks sorted topologically. An
 * [array] file becomes an array submit with explicit ids (0..n-1 for
 * entries without "ids") and its entries.
 *
 * Unknown fields, wrong types, bad values, duplicate ids, self or unknown
 * dependencies and cycles are HQ_EINVAL with a message in 'eb' (may be
 * NULL). Messages about one place of the file start with
 * "line L, column C: "; the messages of spec 2.7 ("Task N is defined
 * multiple times", "Task N is part of dependency cycle or has an invalid
 * dependencies", "Invalid dependency on N", "No tasks defined", "Items
 * 'ids' and 'entries' does not match") appear word for word.
 *
 * On success the caller owns *out and frees it with hq_jobfile_fini(); on
 * error *out is left zeroed.
 */
int hq_jobfile_parse(const char *text, size_t len,
    const struct hq_jobfile_opts *o, struct hq_jobfile *out,
    struct hq_errbuf *eb);

/* Free what hq_jobfile_parse() filled in; the struct is zeroed. */
void hq_jobfile_fini(struct hq_jobfile *jf);

#endif
