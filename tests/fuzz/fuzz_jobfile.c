/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for job definition files: any input either becomes a
 * consistent submit (unique ids, dependencies before their consumers,
 * every task with a command and a request) or fails with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobfile.h"
#include "common/u32map.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_desc(const struct hq_task_desc *d)
{
	uint32_t i;

	HQ_ASSERT(d->argc > 0 && d->argv[0][0] != '\0');
	HQ_ASSERT(d->argv[d->argc] == NULL);
	HQ_ASSERT(d->cwd != NULL && d->cwd[0] != '\0');
	HQ_ASSERT(d->req.n >= 1);
	for (i = 0; i < d->req.n; i++) {
		const struct hq_res_variant *v = &d->req.v[i];

		HQ_ASSERT(v->weight > 0);
		HQ_ASSERT((v->n_nodes > 0) != (v->n > 0));
	}
	HQ_ASSERT(d->crash_limit >= HQ_CRASH_NEVER_RESTART);
	if (d->out.kind == HQ_STDIO_FILE)
		HQ_ASSERT(d->out.path != NULL && d->out.path[0] != '\0');
	if (d->err.kind == HQ_STDIO_FILE)
		HQ_ASSERT(d->err.path != NULL && d->err.path[0] != '\0');
}

static void
fuzz_check(const struct hq_jobfile *jf, bool open_job)
{
	const struct hq_submit *s = &jf->submit;
	struct hq_u32map all, seen;
	uint32_t i, k, v;

	HQ_ASSERT(jf->name != NULL);
	HQ_ASSERT(s->submit_dir != NULL);
	for (i = 0; i < s->ndescs; i++)
		fuzz_check_desc(&s->descs[i]);
	if (!s->graph) {
		HQ_ASSERT(s->ndescs == 1 && s->ntasks == 0);
		HQ_ASSERT(hq_idset_count(&s->ids) > 0);
		HQ_ASSERT(
		    s->nentries == 0 || hq_idset_count(&s->ids) == s->nentries);
		return;
	}
	HQ_ASSERT(s->ntasks > 0 && s->ntasks == s->ndescs);
	hq_u32map_init(&all);
	hq_u32map_init(&seen);
	for (i = 0; i < s->ntasks; i++) {
		HQ_ASSERT(!hq_u32map_get(&all, s->tasks[i].id, &v));
		hq_u32map_put(&all, s->tasks[i].id, i);
	}
	for (i = 0; i < s->ntasks; i++) {
		const struct hq_graph_task *t = &s->tasks[i];

		HQ_ASSERT(t->desc < s->ndescs);
		for (k = 0; k < t->ndeps; k++) {
			HQ_ASSERT(t->deps[k] != t->id);
			/* A task of the file comes before its consumers;
			 * other ids are allowed only into an open job. */
			if (hq_u32map_get(&all, t->deps[k], &v))
				HQ_ASSERT(hq_u32map_get(&seen, t->deps[k], &v));
			else
				HQ_ASSERT(open_job);
		}
		hq_u32map_put(&seen, t->id, i);
	}
	hq_u32map_fini(&seen);
	hq_u32map_fini(&all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_jobfile_opts o = { "/fuzz/cwd", false };
	struct hq_jobfile jf;
	struct hq_errbuf eb;
	int pass, rc;

	for (pass = 0; pass < 2; pass++) {
		o.open_job = pass == 1;
		memset(&eb, 0, sizeof eb);
		rc = hq_jobfile_parse((const char *)data, size, &o, &jf, &eb);
		if (rc != 0) {
			HQ_ASSERT(rc == HQ_EINVAL || rc == HQ_ETOOBIG);
			HQ_ASSERT(eb.msg[0] != '\0');
			HQ_ASSERT(jf.name == NULL && jf.submit.descs == NULL);
			continue;
		}
		fuzz_check(&jf, o.open_job);
		hq_jobfile_fini(&jf);
	}
	return 0;
}
