/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the journal's records and checkpoints, as the
 * server's recovery and hq-replay read them: the input is a sequence of
 * records (a type byte, a 16-bit length, the bytes). An event record is
 * decoded and applied to the current state, and rendered as NDJSON; a
 * checkpoint record replaces the state with the restored snapshot. Every
 * refusal carries a message, a refused event leaves a consistent state,
 * and at the end the state survives a snapshot round trip unchanged.
 * The state starts from a fixed prefix, so events can refer to it. Valid
 * events that would only make an execution slow are skipped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/evjson.h"
#include "common/wire.h"
#include "fuzz.h"
#include "fuzz_state.h"

/*
 * Events that are valid but make one execution slow: a table sized by an
 * id well above what the prefix has (from 2^12 up to 2^26: larger ones are
 * refused, and still applied), or a submit of more than 10k tasks. Skipped.
 */
static bool
fuzz_too_big(const struct hq_event *ev)
{
	uint32_t id = 0;

	switch (ev->kind) {
	case HQ_EV_JOB_SUBMITTED:
		if (!ev->u.submitted.submit.graph &&
		    hq_idset_count(&ev->u.submitted.submit.ids) > 10000)
			return true;
		id = ev->u.submitted.job_id;
		break;
	case HQ_EV_JOB_OPENED:
		id = ev->u.opened.job_id;
		break;
	case HQ_EV_WORKER_CONNECTED:
		id = ev->u.wconn.worker_id;
		break;
	default:
		return false;
	}
	return id >= (1u << 12) && id < HQ_STATE_MAX_ID;
}

static void
fuzz_render(const struct hq_event *ev, uint64_t seq, const struct hq_state *st)
{
	uint32_t i, n = hq_event_json_nlines(ev);
	json_t *j;
	char *s;

	for (i = 0; i < n && i < 64; i++) {
		j = hq_event_to_json(ev, seq, st, i);
		HQ_ASSERT(j != NULL);
		s = json_dumps(j, HQ_EVJSON_DUMP_FLAGS);
		HQ_ASSERT(s != NULL);
		free(s);
		json_decref(j);
	}
	HQ_ASSERT(hq_event_to_json(ev, seq, st, n) == NULL);
}

/* FUZZ_DEBUG=1: print each record (to read a crash input). */
static void
fuzz_debug_event(const struct hq_event *ev, uint64_t seq, int rc,
    const struct hq_errbuf *eb)
{
	json_t *j = hq_event_to_json(ev, seq, NULL, 0);
	char *s = j != NULL ? json_dumps(j, HQ_EVJSON_DUMP_FLAGS) : NULL;

	fprintf(stderr, "%llu %s: %s%s%s\n", (unsigned long long)seq,
	    hq_event_kind_name(ev), s != NULL ? s : "(no line)",
	    rc ? " -> refused: " : "", rc ? eb->msg : "");
	if (ev->kind == HQ_EV_TASK_RUN)
		fprintf(stderr,
		    "    run kind %d job %u worker %u n %u nnodes %u\n",
		    ev->u.run.kind, ev->u.run.job, ev->u.run.worker,
		    ev->u.run.n, ev->u.run.nnodes);
	free(s);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int debug = -1;
	struct fuzz_in in = { data, size };
	struct hq_state *st = fuzz_state_prefix(), *restored;
	struct hq_errbuf eb;
	struct hq_event ev;
	const uint8_t *rec;
	uint64_t seq = 100;
	size_t len;
	uint8_t type;
	int rc;

	if (debug < 0)
		debug = getenv("FUZZ_DEBUG") != NULL;
	while (in.n > 0) {
		type = fuzz_u8(&in);
		rec = fuzz_take(&in, 1u << 16, &len);
		seq++;
		memset(&eb, 0, sizeof eb);
		if (type & 0x80) {
			restored = NULL;
			rc = hq_state_restore(rec, len, &restored, &eb);
			if (debug)
				fprintf(stderr, "%llu checkpoint: %s\n",
				    (unsigned long long)seq,
				    rc ? eb.msg : "restored");
			if (rc != 0) {
				HQ_ASSERT(
				    rc == HQ_ECORRUPT || rc == HQ_EVERSION);
				HQ_ASSERT(restored == NULL);
				fuzz_check_rejection(rc, &eb);
				continue;
			}
			fuzz_state_check(restored);
			hq_state_destroy(st);
			st = restored;
			continue;
		}
		rc = hq_wire_decode_event(rec, len, &ev, &eb);
		if (rc != 0) {
			HQ_ASSERT(rc == HQ_ECORRUPT);
			fuzz_check_rejection(rc, &eb);
			continue;
		}
		if (fuzz_too_big(&ev)) {
			hq_event_fini(&ev);
			continue;
		}
		rc = hq_state_apply(st, &ev, &eb);
		if (debug)
			fuzz_debug_event(&ev, seq, rc, &eb);
		if (rc != 0)
			fuzz_check_rejection(rc, &eb);
		fuzz_state_check(st);
		fuzz_render(&ev, seq, rc == 0 ? st : NULL);
		hq_event_fini(&ev);
	}
	fuzz_snapshot_check(st);
	hq_state_destroy(st);
	return 0;
}
