/* SPDX-License-Identifier: MIT */
/*
 * Phase 2 of placeholder resolution (spec 2.3): a task's working directory
 * and output paths at start. The worker uses it to start tasks, the server
 * to show them; both get the same answer.
 */
#ifndef HQ_TASKPATH_H
#define HQ_TASKPATH_H

#include <stdint.h>

#include "common/model.h"

struct hq_task_paths {
	char *cwd;
	char *out; /* NULL: none or stream */
	char *err;
};

/* Default output templates when a FILE channel has no path. */
#define HQ_DEFAULT_STDOUT "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout"
#define HQ_DEFAULT_STDERR "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stderr"

/* Fill p (malloc'd strings); cwd against submit_dir, outputs against cwd. */
void hq_task_paths_resolve(struct hq_task_paths *p,
    const struct hq_task_desc *d, uint32_t job_id, uint32_t task_id,
    uint32_t instance, const char *submit_dir, const char *server_uid);
void hq_task_paths_fini(struct hq_task_paths *p);

#endif
