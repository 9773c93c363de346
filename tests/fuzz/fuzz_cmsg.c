/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for client -> server messages, through what the server
 * does with them: any frame either is refused with HQ_EPROTO, or decodes
 * into a message that re-encodes stably; a submit then goes through the
 * server's own validation and path resolution, and an accepted one is
 * applied to a state and scheduled, keeping the state's invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/wire.h"
#include "fuzz.h"
#include "fuzz_state.h"
#include "server/sched.h"
#include "server/server.h"

/* What clients.c does with a submit, against a fixed state. */
static void
fuzz_submit(struct hq_cmsg *m)
{
	struct hq_state *st = fuzz_state_prefix();
	struct hq_submit *sub = &m->submit;
	struct hq_sched_opts so = { .layers = 2 };
	struct hq_plan plan;
	struct hq_job *job = NULL;
	struct hq_errbuf eb;
	struct hq_event ev;
	uint32_t job_id, i;
	int rc;

	memset(&plan, 0, sizeof plan);
	job_id = st->next_job_id;
	if (m->job_id != 0) {
		job = hq_state_job(st, m->job_id);
		if (job == NULL || !job->is_open)
			goto out;
		job_id = m->job_id;
	}
	memset(&eb, 0, sizeof eb);
	if ((rc = clients_validate_submit(sub, job, &eb)) != 0) {
		fuzz_check_rejection(rc, &eb);
		goto out;
	}
	if (!sub->graph && hq_idset_count(&sub->ids) > 100000)
		goto out; /* valid, but too slow to fuzz */
	if (!sub->graph && sub->ids.n == 0) {
		uint32_t first = 0, n = sub->nentries ? sub->nentries : 1;

		if (job != NULL && job->ntasks > 0)
			first = job->max_id + 1;
		hq_idset_add_range(&sub->ids, first, n, 1);
	}
	clients_resolve_submit(sub, job_id, "fuzzuid");
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_JOB_SUBMITTED;
	ev.time_ms = 5000;
	ev.u.submitted.job_id = job_id;
	ev.u.submitted.new_job = job == NULL;
	ev.u.submitted.name = m->name;
	ev.u.submitted.has_max_fails = m->has_max_fails;
	ev.u.submitted.max_fails = m->max_fails;
	ev.u.submitted.submit = *sub;
	rc = hq_state_apply(st, &ev, &eb);
	if (rc != 0)
		fuzz_check_rejection(rc, &eb);
	fuzz_state_check(st);
	/* The next loop iteration schedules: apply what the plan says. */
	hq_sched_plan(st, 6000, &so, &plan);
	for (i = 0; i < plan.n; i++) {
		const struct hq_assign *a = &plan.a[i];
		struct hq_job *j = hq_state_job(st, a->job);
		uint32_t tid = j->tasks[a->idx].id, variant = a->variant;

		memset(&ev, 0, sizeof ev);
		ev.kind = HQ_EV_TASK_RUN;
		ev.time_ms = 6000;
		ev.u.run.kind = HQ_RUN_ASSIGNED;
		ev.u.run.job = a->job;
		ev.u.run.worker = a->worker;
		ev.u.run.n = ev.u.run.cap = 1;
		ev.u.run.tasks = &tid;
		ev.u.run.variants = &variant;
		ev.u.run.nnodes = a->nnodes;
		ev.u.run.nodes = a->nnodes ? plan.nodes + a->nodes : NULL;
		if (hq_state_apply(st, &ev, &eb) != 0)
			hq_fatalx("planned assignment refused: %s", eb.msg);
	}
	fuzz_state_check(st);
	fuzz_snapshot_check(st);
out:
	hq_plan_fini(&plan);
	hq_state_destroy(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_cmsg m, m2;
	struct hq_errbuf eb;
	struct hq_buf b1, b2;
	int rc;

	memset(&eb, 0, sizeof eb);
	rc = hq_wire_decode_cmsg(data, size, &m, &eb);
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_EPROTO);
		fuzz_check_rejection(rc, &eb);
		return 0;
	}
	HQ_ASSERT(m.kind >= HQ_CMSG_HELLO && m.kind <= HQ_CMSG_DEBUG_DUMP);
	hq_buf_init(&b1);
	hq_buf_init(&b2);
	HQ_ASSERT(hq_wire_encode_cmsg(&m, &b1) == 0);
	HQ_ASSERT(hq_wire_decode_cmsg(b1.data, b1.len, &m2, &eb) == 0);
	HQ_ASSERT(hq_wire_encode_cmsg(&m2, &b2) == 0);
	HQ_ASSERT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	hq_cmsg_fini(&m2);
	hq_buf_fini(&b1);
	hq_buf_fini(&b2);
	if (m.kind == HQ_CMSG_SUBMIT)
		fuzz_submit(&m);
	hq_cmsg_fini(&m);
	return 0;
}
