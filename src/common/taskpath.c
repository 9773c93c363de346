/* SPDX-License-Identifier: MIT */
/* Resolution of a task's paths at start. Pure. */
#include "common/taskpath.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"
#include "common/placeholder.h"
#include "common/util.h"

static char *
resolve_one(const struct hq_stdio *io, const char *dflt,
    const struct hq_ph_ctx *ctx)
{
	char *p, *abs;

	if (io->kind != HQ_STDIO_FILE)
		return NULL;
	p = hq_ph_expand(io->path ? io->path : dflt, ctx, NULL);
	if (p[0] != '/' && ctx->cwd != NULL) {
		abs = hq_path_join(ctx->cwd, p);
		free(p);
		p = abs;
	}
	return p;
}

void
hq_task_paths_resolve(struct hq_task_paths *p, const struct hq_task_desc *d,
    uint32_t job_id, uint32_t task_id, uint32_t instance,
    const char *submit_dir, const char *server_uid)
{
	char jid[16], tid[16], iid[16];
	struct hq_ph_ctx ctx;
	char *cwd;

	snprintf(jid, sizeof jid, "%u", job_id);
	snprintf(tid, sizeof tid, "%u", task_id);
	snprintf(iid, sizeof iid, "%u", instance);
	memset(&ctx, 0, sizeof ctx);
	ctx.job_id = jid;
	ctx.task_id = tid;
	ctx.instance_id = iid;
	ctx.submit_dir = submit_dir ? submit_dir : "";
	ctx.server_uid = server_uid ? server_uid : "";
	cwd = hq_ph_expand(d->cwd ? d->cwd : "%{SUBMIT_DIR}", &ctx, NULL);
	if (cwd[0] != '/' && submit_dir != NULL) {
		char *abs = hq_path_join(submit_dir, cwd);

		free(cwd);
		cwd = abs;
	}
	ctx.cwd = cwd;
	p->cwd = cwd;
	p->out = resolve_one(&d->out, HQ_DEFAULT_STDOUT, &ctx);
	p->err = resolve_one(&d->err, HQ_DEFAULT_STDERR, &ctx);
}

void
hq_task_paths_fini(struct hq_task_paths *p)
{
	free(p->cwd);
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof *p);
}
