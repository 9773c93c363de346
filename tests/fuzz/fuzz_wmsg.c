/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for worker -> server messages: any frame is refused
 * with HQ_EPROTO, or decodes into a message that re-encodes stably. A
 * hello's configuration then registers a worker the way workers.c does
 * (a refusal leaves the state as it was), and the scheduler plans for it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/wire.h"
#include "fuzz.h"
#include "fuzz_state.h"
#include "server/sched.h"

static void
fuzz_register(const struct hq_wmsg *m)
{
	struct hq_state *st = fuzz_state_prefix();
	struct hq_sched_opts so = { .layers = 2 };
	struct hq_plan plan;
	struct hq_errbuf eb;
	struct hq_event ev;
	uint32_t before = st->next_worker_id;
	int rc;

	memset(&plan, 0, sizeof plan);
	memset(&ev, 0, sizeof ev);
	ev.kind = HQ_EV_WORKER_CONNECTED;
	ev.time_ms = 5000;
	ev.u.wconn.worker_id = st->next_worker_id;
	ev.u.wconn.cfg = m->cfg; /* borrowed, as in workers.c */
	rc = hq_state_apply(st, &ev, &eb);
	if (rc != 0) {
		fuzz_check_rejection(rc, &eb);
		HQ_ASSERT(st->next_worker_id == before);
	} else {
		HQ_ASSERT(hq_state_worker(st, before) != NULL);
	}
	fuzz_state_check(st);
	hq_sched_plan(st, 6000, &so, &plan);
	fuzz_snapshot_check(st);
	hq_plan_fini(&plan);
	hq_state_destroy(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_wmsg m, m2;
	struct hq_errbuf eb;
	struct hq_buf b1, b2;
	int rc;

	memset(&eb, 0, sizeof eb);
	rc = hq_wire_decode_wmsg(data, size, &m, &eb);
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_EPROTO);
		fuzz_check_rejection(rc, &eb);
		return 0;
	}
	HQ_ASSERT(m.kind >= HQ_WMSG_HELLO && m.kind <= HQ_WMSG_NOTIFY);
	HQ_ASSERT(m.nheld == 0 || m.held != NULL);
	hq_buf_init(&b1);
	hq_buf_init(&b2);
	HQ_ASSERT(hq_wire_encode_wmsg(&m, &b1) == 0);
	HQ_ASSERT(hq_wire_decode_wmsg(b1.data, b1.len, &m2, &eb) == 0);
	HQ_ASSERT(hq_wire_encode_wmsg(&m2, &b2) == 0);
	HQ_ASSERT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	hq_wmsg_fini(&m2);
	hq_buf_fini(&b1);
	hq_buf_fini(&b2);
	if (m.kind == HQ_WMSG_HELLO)
		fuzz_register(&m);
	hq_wmsg_fini(&m);
	return 0;
}
