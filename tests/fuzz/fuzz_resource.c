/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the resource syntaxes of src/common/resource.h:
 * worker pool definitions (--resource, --cpus), NAME=VALUE splitting,
 * request entries (--resource on submit) and --coupling. The first byte
 * picks the parser, the rest is the text. Accepted pools are bounded and
 * their display form (`worker hwdetect`, unquoted as in HyperQueue) reads
 * back into the same pool when no label needs quotes; accepted requests
 * display and read back; everything refused is HQ_EINVAL with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/resource.h"
#include "fuzz.h"

static void
fuzz_pool_roundtrip(const struct hq_res_pool *p, bool is_cpus)
{
	struct hq_res_pool q;
	struct hq_errbuf eb;
	struct hq_buf a, b;
	uint32_t i;

	HQ_ASSERT(p->kind == HQ_POOL_SUM || p->nlabels > 0);
	HQ_ASSERT(p->nlabels <= HQ_RES_MAX_INDICES);
	for (i = 0; i < p->nlabels; i++)
		if (p->labels[i][0] == '\0' ||
		    strpbrk(p->labels[i], " \t\r\n\f\v[],\"\\") != NULL)
			return; /* shown unquoted: not meant to be read back */
	hq_buf_init(&a);
	hq_buf_init(&b);
	hq_fmt_pool_def(&a, p);
	hq_buf_append(&a, "", 1);
	if (hq_parse_pool_def(p->name, (char *)a.data, is_cpus, &q, &eb) != 0)
		hq_fatalx("pool %s does not read back: %s", (char *)a.data,
		    eb.msg);
	hq_fmt_pool_def(&b, &q);
	hq_buf_append(&b, "", 1);
	HQ_ASSERT(strcmp((char *)a.data, (char *)b.data) == 0);
	HQ_ASSERT(q.nlabels == p->nlabels && q.ngroups == p->ngroups);
	HQ_ASSERT(hq_res_pool_total(&q) == hq_res_pool_total(p));
	hq_res_pool_fini(&q);
	hq_buf_fini(&a);
	hq_buf_fini(&b);
}

/* Two pools of two groups each, for --coupling. */
static void
fuzz_coupling(const char *s, struct hq_errbuf *eb, int *rc)
{
	struct hq_res_pool *pools = hq_xcalloc(2, sizeof *pools);
	struct hq_worker_res res;
	uint32_t i;

	if (hq_parse_pool_def("cpus", "2x2", true, &pools[0], eb) != 0 ||
	    hq_parse_pool_def("gpus", "[[a,b],[c,d]]", false, &pools[1], eb) !=
		0 ||
	    hq_worker_res_from_pools(pools, 2, &res, eb) != 0)
		hq_fatalx("fuzz setup: %s", eb->msg);
	if ((*rc = hq_parse_coupling(s, &res, eb)) == 0)
		for (i = 0; i < res.ncoupling; i++) {
			const struct hq_coupling_weight *w = &res.coupling[i];

			HQ_ASSERT(w->resource1 < w->resource2);
			HQ_ASSERT(w->resource2 < res.n);
			HQ_ASSERT(w->group1 < res.pools[w->resource1].ngroups);
			HQ_ASSERT(w->group2 < res.pools[w->resource2].ngroups);
			HQ_ASSERT(w->weight <= UINT16_MAX);
		}
	hq_worker_res_fini(&res);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_res_entry e, e2;
	struct hq_res_pool p;
	struct hq_errbuf eb;
	struct hq_buf b;
	char *s, *name, *value;
	int rc = 0;
	uint8_t which;

	if (size == 0)
		return 0;
	which = data[0] % 5;
	s = hq_xstrndup((const char *)data + 1, size - 1);
	memset(&eb, 0, sizeof eb);
	switch (which) {
	case 0:
	case 1:
		rc = hq_parse_pool_def(which ? "cpus" : "res", s, which == 1,
		    &p, &eb);
		if (rc == 0) {
			fuzz_pool_roundtrip(&p, which == 1);
			hq_res_pool_fini(&p);
		}
		break;
	case 2:
		if ((rc = hq_split_name_value(s, &name, &value, &eb)) == 0) {
			HQ_ASSERT(hq_res_name_valid(name));
			free(name);
			free(value);
		}
		break;
	case 3:
		if ((rc = hq_parse_request_entry("res", s, &e, &eb)) == 0) {
			HQ_ASSERT(e.policy == HQ_POLICY_ALL ? e.amount == 0
							    : e.amount > 0);
			hq_buf_init(&b);
			hq_fmt_request_entry(&b, &e);
			hq_buf_append(&b, "", 1);
			if (hq_parse_request_entry("res", (char *)b.data, &e2,
				&eb) != 0)
				hq_fatalx("request %s does not read back: %s",
				    (char *)b.data, eb.msg);
			HQ_ASSERT(
			    e2.amount == e.amount && e2.policy == e.policy);
			free(e2.name);
			free(e.name);
			hq_buf_fini(&b);
		}
		break;
	default:
		fuzz_coupling(s, &eb, &rc);
		break;
	}
	if (rc != 0) {
		HQ_ASSERT(rc == HQ_EINVAL);
		fuzz_check_rejection(rc, &eb);
	}
	free(s);
	return 0;
}
