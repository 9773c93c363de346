/* SPDX-License-Identifier: MIT */
/*
 * Path placeholders (spec 2.3): %{JOB_ID} %{TASK_ID} %{INSTANCE_ID}
 * %{SUBMIT_DIR} %{CWD} %{SERVER_UID}. A placeholder is "%{" followed by
 * everything up to the next "}"; an unknown one is left verbatim, and a
 * "%{" without a closing "}" is plain text. Pure: no I/O.
 */
#ifndef HQ_PLACEHOLDER_H
#define HQ_PLACEHOLDER_H

#include <stdbool.h>

#include "common/buf.h"

/* Values to fill in; NULL leaves that placeholder as it is. Borrowed. */
struct hq_ph_ctx {
	const char *job_id;
	const char *task_id;
	const char *instance_id;
	const char *submit_dir;
	const char *cwd;
	const char *server_uid;
};

/*
 * Replace every known placeholder whose value in 'ctx' is non-NULL, in one
 * pass (values are not expanded again). Unknown placeholders stay verbatim
 * and each occurrence is counted in *n_unknown ('n_unknown' may be NULL).
 * Returns a malloc'd string owned by the caller.
 */
char *hq_ph_expand(const char *s, const struct hq_ph_ctx *ctx, int *n_unknown);

/* Whether 's' contains the placeholder %{name}. */
bool hq_ph_contains(const char *s, const char *name);

/* Whether 's' still contains any known placeholder. */
bool hq_ph_has_known(const char *s);

/*
 * For warnings: append the distinct unknown placeholder names of 's' to
 * 'out' in order of appearance, as "X, Y" (without "%{}"), keeping a NUL
 * after out->len. Returns the number of distinct names (0: nothing
 * appended).
 */
int hq_ph_unknown(const char *s, struct hq_buf *out);

#endif
