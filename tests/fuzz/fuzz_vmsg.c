/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for server -> worker messages (what a worker reads):
 * any frame either decodes into a message that re-encodes stably and whose
 * task description passes the checks the worker relies on, or is refused
 * with HQ_EPROTO and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/wire.h"
#include "fuzz.h"

static void
fuzz_check_vmsg(const struct hq_vmsg *m)
{
	uint32_t i;

	HQ_ASSERT(m->kind >= HQ_VMSG_WELCOME && m->kind <= HQ_VMSG_ERROR);
	for (i = 0; i < m->nhosts; i++)
		HQ_ASSERT(m->hosts[i] != NULL);
	if (m->kind == HQ_VMSG_SPEC) {
		HQ_ASSERT(m->task.argc == 0 || m->task.argv != NULL);
		for (i = 0; i < m->task.argc; i++)
			HQ_ASSERT(m->task.argv[i] != NULL);
		if (m->task.argv != NULL)
			HQ_ASSERT(m->task.argv[m->task.argc] == NULL);
		for (i = 0; i < m->task.nenv; i++)
			HQ_ASSERT(m->task.env[i].key != NULL &&
			    m->task.env[i].value != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_vmsg m, m2;
	struct hq_errbuf eb;
	struct hq_buf b1, b2;
	int rc;

	memset(&eb, 0, sizeof eb);
	rc = hq_wire_decode_vmsg(data, size, &m, &eb);
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_EPROTO);
		fuzz_check_rejection(rc, &eb);
		return 0;
	}
	fuzz_check_vmsg(&m);
	hq_buf_init(&b1);
	hq_buf_init(&b2);
	HQ_ASSERT(hq_wire_encode_vmsg(&m, &b1) == 0);
	HQ_ASSERT(hq_wire_decode_vmsg(b1.data, b1.len, &m2, &eb) == 0);
	HQ_ASSERT(hq_wire_encode_vmsg(&m2, &b2) == 0);
	HQ_ASSERT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	hq_vmsg_fini(&m2);
	hq_vmsg_fini(&m);
	hq_buf_fini(&b1);
	hq_buf_fini(&b2);
	return 0;
}
