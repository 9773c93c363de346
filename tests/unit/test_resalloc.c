/* SPDX-License-Identifier: MIT */
/* The index allocator: policies, fractions, "all", strictness, release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/resalloc.h"
#include "common/resource.h"
#include "worker/topo.h"

#define ONE HQ_AMOUNT_ONE

/* Worker resources from "name=def" strings. */
static void
make_res(const char *const *defs, uint32_t n, struct hq_worker_res *r)
{
	struct hq_res_pool *pools = hq_xcalloc(n, sizeof *pools);
	struct hq_errbuf eb = { "" };
	char *name, *def;
	uint32_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(hq_split_name_value(defs[i], &name, &def, &eb),
		    0);
		if (hq_parse_pool_def(name, def, strcmp(name, "cpus") == 0,
			&pools[i], &eb) != 0)
			fail_msg("%s: %s", defs[i], eb.msg);
		free(name);
		free(def);
	}
	if (hq_worker_res_from_pools(pools, n, r, &eb) != 0)
		fail_msg("%s", eb.msg);
}

/* A variant from "name=req" strings; caller frees with variant_free. */
static struct hq_res_variant *
variant(const char *spec)
{
	struct hq_res_variant *v = hq_xcalloc(1, sizeof *v);
	struct hq_errbuf eb = { "" };
	struct hq_res_entry e;
	char *copy = hq_xstrdup(spec), *item, *save = NULL, *name, *req;

	v->weight = ONE;
	for (item = strtok_r(copy, ";", &save); item != NULL;
	     item = strtok_r(NULL, ";", &save)) {
		assert_int_equal(hq_split_name_value(item, &name, &req, &eb),
		    0);
		if (hq_parse_request_entry(name, req, &e, &eb) != 0)
			fail_msg("%s: %s", item, eb.msg);
		assert_int_equal(hq_variant_add_entry(v, &e, &eb), 0);
		free(name);
		free(req);
	}
	free(copy);
	return v;
}

static void
variant_free(struct hq_res_variant *v)
{
	uint32_t i;

	for (i = 0; i < v->n; i++)
		free(v->e[i].name);
	free(v->e);
	free(v);
}

static int
try_spec(struct hq_ralloc *a, const char *spec, struct hq_ralloc_result *r)
{
	struct hq_res_variant *v = variant(spec);
	int rc;

	memset(r, 0, sizeof *r);
	rc = hq_ralloc_try(a, v, r);
	variant_free(v);
	return rc;
}

static void
try_ok(struct hq_ralloc *a, const char *spec, struct hq_ralloc_result *r)
{
	int rc = try_spec(a, spec, r);

	if (rc != 0)
		fail_msg("\"%s\" failed: %d", spec, rc);
}

/* Per-group counts of a part, as "a,b,c". */
static const char *
group_counts(const struct hq_worker_res *res, const struct hq_ralloc_part *p,
    char *buf, size_t size)
{
	const struct hq_res_pool *pool = &res->pools[p->pool];
	uint32_t g, i, c;
	size_t off = 0;

	buf[0] = '\0';
	for (g = 0; g < pool->ngroups; g++) {
		c = 0;
		for (i = 0; i < p->n; i++)
			if (p->index[i] >= pool->group_start[g] &&
			    p->index[i] < pool->group_start[g + 1])
				c++;
		off += (size_t)snprintf(buf + off, size - off, "%s%u",
		    g > 0 ? "," : "", c);
	}
	return buf;
}

static const char *
labels(struct hq_ralloc *a, const struct hq_ralloc_part *p, struct hq_buf *b)
{
	hq_buf_reset(b);
	hq_ralloc_fmt_labels(b, a, p);
	hq_buf_append(b, "", 1);
	return (const char *)b->data;
}

static const char *const res3x4[] = { "cpus=3x4", "gpus=[a,b,c,d]",
	"mem=sum(1000)" };

/* Fresh allocator on 3x4 free: policy -> groups (spec 2.9 example). */
static void
check_policy_3x4(const char *spec, const char *want_groups,
    const char *want_labels)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result r;
	struct hq_buf b;
	char buf[64];

	hq_buf_init(&b);
	make_res(res3x4, 3, &res);
	a = hq_ralloc_create(&res);
	try_ok(a, spec, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.parts[0].pool, 0);
	assert_string_equal(group_counts(&res, &r.parts[0], buf, sizeof buf),
	    want_groups);
	assert_string_equal(labels(a, &r.parts[0], &b), want_labels);
	hq_ralloc_result_fini(&r);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
	hq_buf_fini(&b);
}

static void
test_resalloc_policies_3x4(void **state)
{
	(void)state;
	check_policy_3x4("cpus=6", "3,3,0", "0,1,2,4,5,6");
	check_policy_3x4("cpus=6 compact", "3,3,0", "0,1,2,4,5,6");
	check_policy_3x4("cpus=6 compact!", "3,3,0", "0,1,2,4,5,6");
	check_policy_3x4("cpus=6 tight", "4,2,0", "0,1,2,3,4,5");
	check_policy_3x4("cpus=6 tight!", "4,2,0", "0,1,2,3,4,5");
	check_policy_3x4("cpus=6 scatter", "2,2,2", "0,1,4,5,8,9");
	check_policy_3x4("cpus=4 compact", "4,0,0", "0,1,2,3");
	check_policy_3x4("cpus=4 scatter", "2,1,1", "0,1,4,8");
	check_policy_3x4("cpus=7 compact", "4,3,0", "0,1,2,3,4,5,6");
	check_policy_3x4("cpus=9 compact", "3,3,3", "0,1,2,4,5,6,8,9,10");
	check_policy_3x4("cpus=9 tight", "4,4,1", "0,1,2,3,4,5,6,7,8");
	check_policy_3x4("cpus=12 scatter", "4,4,4",
	    "0,1,2,3,4,5,6,7,8,9,10,11");
	check_policy_3x4("cpus=1 scatter", "1,0,0", "0");
}

/* After 1 index is taken from group 0 the best fit for 3 is group 0. */
static void
test_resalloc_best_fit(void **state)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result r1, r2, r3;
	char buf[64];

	(void)state;
	make_res(res3x4, 3, &res);
	a = hq_ralloc_create(&res);
	try_ok(a, "cpus=1", &r1);
	try_ok(a, "cpus=3", &r2);
	assert_string_equal(group_counts(&res, &r2.parts[0], buf, sizeof buf),
	    "3,0,0");
	/* group 0 full now; 2 compact picks group 1 (tie: lowest) */
	try_ok(a, "cpus=2", &r3);
	assert_string_equal(group_counts(&res, &r3.parts[0], buf, sizeof buf),
	    "0,2,0");
	hq_ralloc_result_fini(&r3);
	hq_ralloc_release(a, &r1);
	hq_ralloc_release(a, &r2);
	hq_ralloc_result_fini(&r1);
	hq_ralloc_result_fini(&r2);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
}

static void
test_resalloc_tight_remainder_best_fit(void **state)
{
	static const char *const defs[] = {
		"cpus=[[0,1,2,3],[4,5,6,7],[8,9]]"
	};
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result r;
	char buf[64];

	(void)state;
	make_res(defs, 1, &res);
	a = hq_ralloc_create(&res);
	/* free [4,4,2]: 6 tight takes group 0 and the 2 from group 2 */
	try_ok(a, "cpus=6 tight", &r);
	assert_string_equal(group_counts(&res, &r.parts[0], buf, sizeof buf),
	    "4,0,2");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	try_ok(a, "cpus=6 compact", &r);
	assert_string_equal(group_counts(&res, &r.parts[0], buf, sizeof buf),
	    "3,3,0");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	try_ok(a, "cpus=2", &r);
	assert_string_equal(group_counts(&res, &r.parts[0], buf, sizeof buf),
	    "0,0,2");
	hq_ralloc_result_fini(&r);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
}

static void
test_resalloc_strict_fragmented(void **state)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result frag, r;
	char buf[64];

	(void)state;
	make_res(res3x4, 3, &res);
	a = hq_ralloc_create(&res);
	try_ok(a, "cpus=3 scatter", &frag); /* one index of every group */
	assert_string_equal(group_counts(&res, &frag.parts[0], buf, sizeof buf),
	    "1,1,1");
	assert_int_equal(try_spec(a, "cpus=4 compact!", &r), HQ_EBUSY);
	assert_int_equal(try_spec(a, "cpus=4 tight!", &r), HQ_EBUSY);
	assert_int_equal(try_spec(a, "cpus=3.5 compact!", &r), HQ_EBUSY);
	/* what still fits one group is fine */
	try_ok(a, "cpus=3 compact!", &r);
	assert_string_equal(group_counts(&res, &r.parts[0], buf, sizeof buf),
	    "3,0,0");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	/* non-strict policies take two groups */
	try_ok(a, "cpus=4 compact", &r);
	assert_string_equal(group_counts(&res, &r.parts[0], buf, sizeof buf),
	    "2,2,0");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	try_ok(a, "cpus=4 tight", &r);
	assert_string_equal(group_counts(&res, &r.parts[0], buf, sizeof buf),
	    "3,1,0");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	/* once defragmented, compact! succeeds */
	hq_ralloc_release(a, &frag);
	hq_ralloc_result_fini(&frag);
	try_ok(a, "cpus=4 compact!", &r);
	assert_string_equal(group_counts(&res, &r.parts[0], buf, sizeof buf),
	    "4,0,0");
	hq_ralloc_result_fini(&r);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
}

static void
test_resalloc_fractions(void **state)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result h1, h2, h3, r, r2, r3;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	make_res(res3x4, 3, &res);
	a = hq_ralloc_create(&res);
	/* 0.5 twice share one index */
	try_ok(a, "gpus=0.5", &h1);
	try_ok(a, "gpus=0.5", &h2);
	assert_int_equal(h1.parts[0].n, 1);
	assert_int_equal(h1.parts[0].index[0], 0);
	assert_int_equal(h1.parts[0].amount[0], 5000);
	assert_int_equal(h2.parts[0].index[0], 0);
	assert_int_equal(hq_ralloc_index_free(a, 1, 0), 0);
	assert_string_equal(labels(a, &h2.parts[0], &b), "a");
	/* the third half takes a new index */
	try_ok(a, "gpus=0.5", &h3);
	assert_int_equal(h3.parts[0].index[0], 1);
	/* 1.5: one whole index and the other half of index 1 (last) */
	try_ok(a, "gpus=1.5", &r);
	assert_int_equal(r.parts[0].n, 2);
	assert_int_equal(r.parts[0].index[0], 2);
	assert_int_equal(r.parts[0].amount[0], ONE);
	assert_int_equal(r.parts[0].index[1], 1);
	assert_int_equal(r.parts[0].amount[1], 5000);
	assert_int_equal(r.parts[0].sum_amount, 15000);
	assert_string_equal(labels(a, &r.parts[0], &b), "c,b");
	assert_int_equal(hq_ralloc_pool_free(a, 1), ONE);
	/* a quarter shares index 0, the only partial index left */
	hq_ralloc_release(a, &h1);
	hq_ralloc_result_fini(&h1);
	try_ok(a, "gpus=0.25", &h1);
	assert_int_equal(h1.parts[0].index[0], 0);
	assert_int_equal(hq_ralloc_index_free(a, 1, 0), 2500);
	/* 0.75 does not fit index 0: the free index 3 takes it */
	try_ok(a, "gpus=0.75", &r2);
	assert_int_equal(r2.parts[0].index[0], 3);
	assert_string_equal(labels(a, &r2.parts[0], &b), "d");
	/* 0.3 fits nowhere now; 0.25 goes to the lowest of two equals */
	assert_int_equal(try_spec(a, "gpus=0.3", &r3), HQ_EBUSY);
	try_ok(a, "gpus=0.25", &r3);
	assert_int_equal(r3.parts[0].index[0], 0);
	assert_int_equal(hq_ralloc_pool_free(a, 1), 2500);
	hq_ralloc_result_fini(&r2);
	hq_ralloc_result_fini(&r3);
	hq_ralloc_result_fini(&h3);
	hq_ralloc_result_fini(&h1);
	hq_ralloc_result_fini(&h2);
	hq_ralloc_result_fini(&r);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
	hq_buf_fini(&b);
}

static void
test_resalloc_fraction_busy_and_sum(void **state)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result r1, r2, r3, r4;

	(void)state;
	make_res(res3x4, 3, &res);
	a = hq_ralloc_create(&res);
	try_ok(a, "gpus=3.5", &r1);
	assert_int_equal(r1.parts[0].n, 4);
	assert_int_equal(hq_ralloc_index_free(a, 1, 3), 5000);
	assert_int_equal(try_spec(a, "gpus=0.6", &r2), HQ_EBUSY);
	assert_int_equal(try_spec(a, "gpus=1", &r2), HQ_EBUSY);
	try_ok(a, "gpus=0.5", &r2);
	assert_int_equal(hq_ralloc_pool_free(a, 1), 0);
	/* sum pools just subtract */
	try_ok(a, "mem=999.5", &r3);
	assert_int_equal(r3.parts[0].n, 0);
	assert_int_equal(r3.parts[0].sum_amount, 9995000);
	assert_int_equal(hq_ralloc_pool_free(a, 2), 5000);
	assert_int_equal(try_spec(a, "mem=0.5001", &r4), HQ_EBUSY);
	assert_int_equal(try_spec(a, "mem=all", &r4), HQ_EBUSY);
	hq_ralloc_release(a, &r3);
	hq_ralloc_result_fini(&r3);
	assert_int_equal(hq_ralloc_pool_free(a, 2), 10000000);
	hq_ralloc_release(a, &r1);
	hq_ralloc_release(a, &r2);
	hq_ralloc_result_fini(&r1);
	hq_ralloc_result_fini(&r2);
	assert_int_equal(hq_ralloc_pool_free(a, 1), 4 * ONE);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
}

static void
test_resalloc_all(void **state)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result r, r2;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	make_res(res3x4, 3, &res);
	a = hq_ralloc_create(&res);
	try_ok(a, "cpus=all;mem=all", &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.parts[0].n, 12);
	assert_int_equal(r.parts[0].sum_amount, 12 * ONE);
	assert_string_equal(labels(a, &r.parts[0], &b),
	    "0,1,2,3,4,5,6,7,8,9,10,11");
	assert_int_equal(r.parts[1].sum_amount, 1000 * ONE);
	assert_int_equal(hq_ralloc_pool_free(a, 0), 0);
	assert_int_equal(try_spec(a, "cpus=all", &r2), HQ_EBUSY);
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	/* one shared fraction keeps "all" waiting */
	try_ok(a, "gpus=0.1", &r);
	assert_int_equal(try_spec(a, "gpus=all", &r2), HQ_EBUSY);
	try_ok(a, "mem=1", &r2);
	hq_ralloc_result_fini(&r2);
	assert_int_equal(try_spec(a, "mem=all", &r2), HQ_EBUSY);
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
	hq_buf_fini(&b);
}

static void
test_resalloc_never_fits(void **state)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result r, busy;
	struct hq_res_variant *v;

	(void)state;
	make_res(res3x4, 3, &res);
	a = hq_ralloc_create(&res);
	assert_int_equal(try_spec(a, "foo=1", &r), HQ_EINVAL);
	assert_int_equal(try_spec(a, "cpus=13", &r), HQ_EINVAL);
	assert_int_equal(try_spec(a, "cpus=12.0001", &r), HQ_EINVAL);
	assert_int_equal(try_spec(a, "mem=1000.0001", &r), HQ_EINVAL);
	assert_int_equal(try_spec(a, "cpus=2;gpus=5", &r), HQ_EINVAL);
	/* a busy entry before an impossible one: still "never" */
	try_ok(a, "gpus=4", &busy);
	assert_int_equal(try_spec(a, "gpus=1", &r), HQ_EBUSY);
	assert_int_equal(try_spec(a, "gpus=1;cpus=20", &r), HQ_EINVAL);
	hq_ralloc_release(a, &busy);
	hq_ralloc_result_fini(&busy);
	assert_int_equal(hq_ralloc_pool_free(a, 1), 4 * ONE);
	v = variant("cpus=1");
	assert_true(hq_ralloc_fits_total(&res, v));
	v->n_nodes = 2;
	assert_false(hq_ralloc_fits_total(&res, v));
	assert_int_equal(hq_ralloc_try(a, v, &r), HQ_EINVAL);
	variant_free(v);
	v = variant("cpus=12;gpus=all;mem=1000");
	assert_true(hq_ralloc_fits_total(&res, v));
	variant_free(v);
	v = variant("cpus=12;gpus=4.5");
	assert_false(hq_ralloc_fits_total(&res, v));
	variant_free(v);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
}

/* A failing later entry rolls back the earlier ones. */
static void
test_resalloc_rollback(void **state)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result busy, r;

	(void)state;
	make_res(res3x4, 3, &res);
	a = hq_ralloc_create(&res);
	try_ok(a, "gpus=3", &busy);
	assert_int_equal(try_spec(a, "cpus=4;mem=10;gpus=2", &r), HQ_EBUSY);
	assert_int_equal(hq_ralloc_pool_free(a, 0), 12 * ONE);
	assert_int_equal(hq_ralloc_pool_free(a, 2), 1000 * ONE);
	assert_int_equal(r.n, 0);
	try_ok(a, "cpus=4;mem=10;gpus=1", &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.parts[0].pool, 0);
	assert_int_equal(r.parts[1].pool, 2);
	assert_int_equal(r.parts[2].pool, 1);
	assert_int_equal(hq_ralloc_pool_free(a, 1), 0);
	hq_ralloc_release(a, &r);
	hq_ralloc_release(a, &busy);
	hq_ralloc_result_fini(&r);
	hq_ralloc_result_fini(&busy);
	assert_int_equal(hq_ralloc_pool_free(a, 0), 12 * ONE);
	assert_int_equal(hq_ralloc_pool_free(a, 1), 4 * ONE);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
}

/* 2 packages x 2 NUMA x 8 cores x SMT 2, detected from the XML fixture. */
static void
topo_res(bool no_ht, struct hq_worker_res *res)
{
	char path[1024];
	struct hq_topo_opts o = {
		.no_hyper_threading = no_ht,
		.detect_cpus = true,
	};
	struct hq_res_pool *pools = NULL;
	struct hq_errbuf eb = { "" };
	uint32_t n = 0;
	const char *dir = getenv("HQ_TEST_DATA");

	snprintf(path, sizeof path, "%s/topo/2x2x8-smt.xml",
	    dir != NULL ? dir : "tests/data");
	o.xml_path = path;
	if (hq_topo_detect(&o, &pools, &n, &eb) != 0)
		fail_msg("%s", eb.msg);
	assert_int_equal(n, 1);
	if (hq_worker_res_from_pools(pools, n, res, &eb) != 0)
		fail_msg("%s", eb.msg);
}

static void
check_topo_policy(struct hq_ralloc *a, const struct hq_worker_res *res,
    const char *spec, const char *want)
{
	struct hq_ralloc_result r;
	char buf[64];

	try_ok(a, spec, &r);
	assert_string_equal(group_counts(res, &r.parts[0], buf, sizeof buf),
	    want);
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
}

static void
test_resalloc_topology_2x2x8(void **state)
{
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result r, frag;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	topo_res(false, &res);
	assert_int_equal(res.pools[0].ngroups, 4);
	a = hq_ralloc_create(&res);
	check_topo_policy(a, &res, "cpus=20 compact", "10,10,0,0");
	check_topo_policy(a, &res, "cpus=20 tight", "16,4,0,0");
	check_topo_policy(a, &res, "cpus=20 scatter", "5,5,5,5");
	check_topo_policy(a, &res, "cpus=16 compact!", "16,0,0,0");
	check_topo_policy(a, &res, "cpus=33 compact", "11,11,11,0");
	check_topo_policy(a, &res, "cpus=33 tight!", "16,16,1,0");
	/* the first NUMA node's labels are both SMT siblings */
	try_ok(a, "cpus=16", &r);
	assert_string_equal(labels(a, &r.parts[0], &b),
	    "0,1,2,3,4,5,6,7,32,33,34,35,36,37,38,39");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	/* one PU in every node: 16 compact! waits, 15 compact! does not */
	try_ok(a, "cpus=4 scatter", &frag);
	assert_int_equal(try_spec(a, "cpus=16 compact!", &r), HQ_EBUSY);
	assert_int_equal(try_spec(a, "cpus=16 tight!", &r), HQ_EBUSY);
	check_topo_policy(a, &res, "cpus=15 tight!", "15,0,0,0");
	check_topo_policy(a, &res, "cpus=16 compact", "8,8,0,0");
	check_topo_policy(a, &res, "cpus=16 tight", "15,1,0,0");
	hq_ralloc_release(a, &frag);
	hq_ralloc_result_fini(&frag);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);

	topo_res(true, &res);
	a = hq_ralloc_create(&res);
	check_topo_policy(a, &res, "cpus=12 compact", "6,6,0,0");
	check_topo_policy(a, &res, "cpus=12 tight", "8,4,0,0");
	check_topo_policy(a, &res, "cpus=12 scatter", "3,3,3,3");
	try_ok(a, "cpus=8", &r);
	assert_string_equal(labels(a, &r.parts[0], &b), "0,1,2,3,4,5,6,7");
	hq_ralloc_result_fini(&r);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
	hq_buf_fini(&b);
}

/* Deterministic pseudo-random numbers (xorshift64*, fixed seed). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rng(uint32_t bound)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 33) % bound;
}

/* Random allocations and releases never over-allocate: at every step the
 * free state plus the outstanding allocations add up to the totals. */
static void
test_resalloc_property_random(void **state)
{
	static const char *const defs[] = { "cpus=[[0,1,2],[3,4,5,6],[7]]",
		"gpus=[a,b,c]", "mem=sum(100)", "fpga=4x2" };
	static const char *const pols[] = { "compact", "compact!", "tight",
		"tight!", "scatter" };
	static const char *const names[] = { "cpus", "gpus", "mem", "fpga" };
	struct hq_ralloc_result live[64];
	uint32_t nlive = 0, step, i, j, k, p;
	uint32_t used[4][8];
	uint64_t used_sum, ok = 0, busy = 0;
	struct hq_worker_res res;
	struct hq_ralloc *a;
	char spec[256];
	size_t off;

	(void)state;
	make_res(defs, 4, &res);
	a = hq_ralloc_create(&res);
	for (step = 0; step < 20000; step++) {
		if (nlive > 0 && (nlive == 64 || rng(3) == 0)) {
			k = rng(nlive);
			hq_ralloc_release(a, &live[k]);
			hq_ralloc_result_fini(&live[k]);
			live[k] = live[--nlive];
		} else {
			off = 0;
			for (i = 0; i < 4; i++) {
				uint32_t amt;

				if (rng(2) == 0)
					continue;
				if (rng(12) == 0) {
					off += (size_t)snprintf(spec + off,
					    sizeof spec - off, "%s%s=all",
					    off ? ";" : "", names[i]);
					continue;
				}
				amt = 1 + rng(40000);
				if (rng(2) == 0)
					amt = (1 + rng(4)) * ONE;
				off += (size_t)snprintf(spec + off,
				    sizeof spec - off, "%s%s=%u.%04u %s",
				    off ? ";" : "", names[i], amt / ONE,
				    amt % ONE, pols[rng(5)]);
			}
			if (off == 0)
				continue;
			k = (uint32_t)try_spec(a, spec, &live[nlive]);
			if ((int)k == 0) {
				struct hq_ralloc_result *r = &live[nlive++];

				ok++;
				/* every part gets exactly what was asked */
				for (i = 0; i < r->n; i++) {
					const struct hq_ralloc_part *q =
					    &r->parts[i];
					uint64_t s = 0;

					for (j = 0; j < q->n; j++) {
						s += q->amount[j];
						for (p = j + 1; p < q->n; p++)
							assert_int_not_equal(
							    q->index[j],
							    q->index[p]);
						if (j + 1 < q->n)
							assert_int_equal(
							    q->amount[j], ONE);
					}
					if (res.pools[q->pool].kind !=
					    HQ_POOL_SUM)
						assert_int_equal(s,
						    q->sum_amount);
				}
			} else {
				assert_true(
				    (int)k == HQ_EBUSY || (int)k == HQ_EINVAL);
				busy++;
			}
		}
		/* invariant: free + used == whole, per index and per sum */
		memset(used, 0, sizeof used);
		used_sum = 0;
		for (k = 0; k < nlive; k++)
			for (i = 0; i < live[k].n; i++) {
				const struct hq_ralloc_part *q =
				    &live[k].parts[i];

				if (res.pools[q->pool].kind == HQ_POOL_SUM)
					used_sum += q->sum_amount;
				for (j = 0; j < q->n; j++)
					used[q->pool][q->index[j]] +=
					    q->amount[j];
			}
		for (p = 0; p < 4; p++) {
			if (res.pools[p].kind == HQ_POOL_SUM) {
				assert_int_equal(hq_ralloc_pool_free(a, p) +
					used_sum,
				    res.pools[p].size);
				continue;
			}
			for (j = 0; j < res.pools[p].nlabels; j++)
				assert_int_equal(hq_ralloc_index_free(a, p, j) +
					used[p][j],
				    ONE);
		}
	}
	/* the run exercised both outcomes */
	assert_true(ok > 1000);
	assert_true(busy > 1000);
	for (k = 0; k < nlive; k++) {
		hq_ralloc_release(a, &live[k]);
		hq_ralloc_result_fini(&live[k]);
	}
	for (p = 0; p < 4; p++)
		assert_int_equal(hq_ralloc_pool_free(a, p),
		    hq_res_pool_total(&res.pools[p]));
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
}

/* ---- queue passes -------------------------------------------------------- */

/* A worker queue for the pass tests: variants in queue order. */
struct wq {
	struct hq_res_variant *v[64];
	struct hq_ralloc_result r[64];
	bool started[64];
	uint32_t n;
};

static uint32_t
wq_push(struct wq *q, const char *spec)
{
	HQ_ASSERT(q->n < 64);
	q->v[q->n] = variant(spec);
	q->started[q->n] = false;
	return q->n++;
}

/* One pass over the queued (not started) tasks; returns how many
 * started. With gate false, every task is tried on its own (no pass):
 * the naive policy the pass replaces. */
static uint32_t
wq_pass(struct hq_ralloc *a, struct wq *q, bool gate)
{
	struct hq_ralloc_pass p;
	uint32_t i, n = 0;
	int rc;

	hq_ralloc_pass_begin(a, &p);
	for (i = 0; i < q->n; i++) {
		if (q->v[i] == NULL || q->started[i])
			continue;
		rc = gate ? hq_ralloc_pass_try(a, &p, q->v[i], &q->r[i])
			  : hq_ralloc_try(a, q->v[i], &q->r[i]);
		assert_true(rc == 0 || rc == HQ_EBUSY);
		if (rc == 0) {
			q->started[i] = true;
			n++;
		}
	}
	hq_ralloc_pass_end(&p);
	return n;
}

static void
wq_finish(struct hq_ralloc *a, struct wq *q, uint32_t i)
{
	assert_true(q->started[i]);
	hq_ralloc_release(a, &q->r[i]);
	hq_ralloc_result_fini(&q->r[i]);
	variant_free(q->v[i]);
	q->v[i] = NULL;
	q->started[i] = false;
}

/* Drop finished slots, keeping the queue order. */
static void
wq_compact(struct wq *q)
{
	uint32_t i, k = 0;

	for (i = 0; i < q->n; i++)
		if (q->v[i] != NULL) {
			q->v[k] = q->v[i];
			q->r[k] = q->r[i];
			q->started[k] = q->started[i];
			k++;
		}
	q->n = k;
}

static void
wq_free(struct hq_ralloc *a, struct wq *q)
{
	uint32_t i;

	for (i = 0; i < q->n; i++) {
		if (q->v[i] == NULL)
			continue;
		if (q->started[i]) {
			hq_ralloc_release(a, &q->r[i]);
			hq_ralloc_result_fini(&q->r[i]);
		}
		variant_free(q->v[i]);
	}
	q->n = 0;
}

/*
 * The scenario of a strict task on a busy worker: 2x4 CPUs full of 1-CPU
 * tasks, then "4 compact!" is queued, and every time a small task ends a
 * new one arrives behind the strict one. Returns after how many finishes
 * the strict task started (UINT32_MAX: not within 200).
 */
static uint32_t
strict_behind_small(bool gate)
{
	static const char *const defs[] = { "cpus=2x4" };
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct wq q = { .n = 0 };
	uint32_t i, strict, step, result = UINT32_MAX;

	make_res(defs, 1, &res);
	a = hq_ralloc_create(&res);
	for (i = 0; i < 8; i++)
		wq_push(&q, "cpus=1");
	assert_int_equal(wq_pass(a, &q, gate), 8);
	strict = wq_push(&q, "cpus=4 compact!");
	for (i = 0; i < 4; i++)
		wq_push(&q, "cpus=1");
	wq_pass(a, &q, gate);
	assert_false(q.started[strict]);
	for (step = 1; step <= 200; step++) {
		uint32_t live[64], nlive = 0, pick;

		/* a random running small task ends, a new one arrives */
		for (i = 0; i < q.n; i++)
			if (q.started[i] && i != strict)
				live[nlive++] = i;
		if (nlive == 0)
			break;
		pick = live[rng(nlive)];
		wq_finish(a, &q, pick);
		if (pick < strict)
			strict--;
		wq_compact(&q);
		wq_push(&q, "cpus=1");
		wq_pass(a, &q, gate);
		if (q.started[strict]) {
			char buf[16];

			/* a whole group, as compact! wants */
			assert_string_equal(group_counts(&res,
						&q.r[strict].parts[0], buf,
						sizeof buf),
			    q.r[strict].parts[0].index[0] < 4 ? "4,0" : "0,4");
			result = step;
			break;
		}
	}
	wq_free(a, &q);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
	return result;
}

static void
test_resalloc_pass_strict_not_starved(void **state)
{
	uint32_t k, worst = 0, steps;

	(void)state;
	/* Trying every queued task on its own starves the strict task:
	 * each freed CPU goes to the next small one. */
	assert_int_equal(strict_behind_small(false), UINT32_MAX);
	/* With passes it starts once one group has drained: at most the 8
	 * finishes of the tasks that were running. */
	for (k = 0; k < 50; k++) {
		steps = strict_behind_small(true);
		assert_true(steps <= 8);
		worst = HQ_MAX(worst, steps);
	}
	print_message("  compact! behind a stream of 1-CPU tasks starts after "
		      "at most %u finishes\n",
	    worst);
}

/* An amount that does not fit yet is reserved: smaller tasks behind may
 * use only what is left over, other pools are not affected. */
static void
test_resalloc_pass_amount_reservation(void **state)
{
	static const char *const defs[] = { "cpus=8", "gpus=[a,b]" };
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct wq q = { .n = 0 };
	uint32_t run, big, s1, s2, g1;

	(void)state;
	make_res(defs, 2, &res);
	a = hq_ralloc_create(&res);
	run = wq_push(&q, "cpus=5;gpus=1");
	assert_int_equal(wq_pass(a, &q, true), 1);
	big = wq_push(&q, "cpus=6");
	s1 = wq_push(&q, "cpus=1");
	g1 = wq_push(&q, "gpus=1");
	/* 3 CPUs free, 6 reserved: the 1-CPU task waits; the GPU runs */
	assert_int_equal(wq_pass(a, &q, true), 1);
	assert_false(q.started[big]);
	assert_false(q.started[s1]);
	assert_true(q.started[g1]);
	/* without the reservation the small one would have started */
	wq_finish(a, &q, run);
	/* 8 free: the big one, then 2 left for the small one */
	assert_int_equal(wq_pass(a, &q, true), 2);
	assert_true(q.started[big]);
	assert_true(q.started[s1]);
	s2 = wq_push(&q, "cpus=2");
	assert_int_equal(wq_pass(a, &q, true), 0);
	assert_false(q.started[s2]);
	wq_free(a, &q);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
}

/* Fractions that fit the free amount but not one shared index: the task
 * waits and freezes the pool, so the smaller fraction behind it cannot
 * take the space it waits for; "all" reserves everything. */
static void
test_resalloc_pass_fraction_layout(void **state)
{
	static const char *const defs[] = { "cpus=[0,1]", "mem=sum(10)" };
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct wq q = { .n = 0 };
	uint32_t t1, t2, t3, t4, all, m;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	make_res(defs, 2, &res);
	a = hq_ralloc_create(&res);
	t1 = wq_push(&q, "cpus=0.6");
	t2 = wq_push(&q, "cpus=0.6");
	t3 = wq_push(&q, "cpus=0.6");
	t4 = wq_push(&q, "cpus=0.3");
	m = wq_push(&q, "mem=5");
	/* 0.8 free in total, but 0.4 per index: t3 waits, t4 too */
	assert_int_equal(wq_pass(a, &q, true), 3);
	assert_true(q.started[t1] && q.started[t2] && q.started[m]);
	assert_false(q.started[t3]);
	assert_false(q.started[t4]);
	wq_finish(a, &q, t1);
	assert_int_equal(wq_pass(a, &q, true), 2);
	assert_string_equal(labels(a, &q.r[t3].parts[0], &b), "0");
	assert_string_equal(labels(a, &q.r[t4].parts[0], &b), "0");
	/* "all" behind a running task: waits, and nothing passes it */
	all = wq_push(&q, "cpus=all");
	wq_push(&q, "cpus=0.1");
	assert_int_equal(wq_pass(a, &q, true), 0);
	wq_finish(a, &q, t2);
	wq_finish(a, &q, t3);
	wq_finish(a, &q, t4);
	assert_int_equal(wq_pass(a, &q, true), 1);
	assert_true(q.started[all]);
	/* a request the worker can never serve is refused, not reserved */
	{
		struct hq_ralloc_pass p;
		struct hq_res_variant *v = variant("cpus=3");
		struct hq_ralloc_result r;

		hq_ralloc_pass_begin(a, &p);
		assert_int_equal(hq_ralloc_pass_try(a, &p, v, &r), HQ_EINVAL);
		hq_ralloc_pass_end(&p);
		variant_free(v);
	}
	wq_free(a, &q);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
	hq_buf_fini(&b);
}

/* The 4-GPU node fixture: one NUMA node, so every policy gives the same
 * single group; fractions share a GPU. */
static void
test_resalloc_topology_4gpu(void **state)
{
	static const char *const pols[] = { "compact", "compact!", "tight",
		"tight!", "scatter" };
	char path[1024], spec[64];
	const char *dir = getenv("HQ_TEST_DATA");
	struct hq_topo_opts o = {
		.detect_cpus = true,
		.detect_gpus_nvidia = true,
	};
	struct hq_res_pool *pools = NULL;
	struct hq_errbuf eb = { "" };
	struct hq_worker_res res;
	struct hq_ralloc *a;
	struct hq_ralloc_result r, r2, r3;
	struct hq_buf b;
	uint32_t n = 0, i;

	(void)state;
	hq_buf_init(&b);
	snprintf(path, sizeof path, "%s/topo/4gpu.xml",
	    dir != NULL ? dir : "tests/data");
	o.xml_path = path;
	if (hq_topo_detect(&o, &pools, &n, &eb) != 0)
		fail_msg("%s", eb.msg);
	if (hq_worker_res_from_pools(pools, n, &res, &eb) != 0)
		fail_msg("%s", eb.msg);
	a = hq_ralloc_create(&res);
	for (i = 0; i < HQ_ARRAY_LEN(pols); i++) {
		snprintf(spec, sizeof spec, "cpus=4 %s;gpus/nvidia=2 %s",
		    pols[i], pols[i]);
		try_ok(a, spec, &r);
		assert_string_equal(labels(a, &r.parts[0], &b), "0,1,2,3");
		assert_string_equal(labels(a, &r.parts[1], &b), "0,1");
		hq_ralloc_release(a, &r);
		hq_ralloc_result_fini(&r);
	}
	/* 1.5 GPUs twice: one whole GPU each, the halves share GPU 1 (the
	 * partially used index is listed last) */
	try_ok(a, "gpus/nvidia=1.5", &r);
	try_ok(a, "gpus/nvidia=1.5", &r2);
	assert_string_equal(labels(a, &r.parts[0], &b), "0,1");
	assert_string_equal(labels(a, &r2.parts[0], &b), "2,1");
	assert_int_equal(try_spec(a, "gpus/nvidia=2", &r3), HQ_EBUSY);
	assert_int_equal(try_spec(a, "gpus/nvidia=1.5", &r3), HQ_EBUSY);
	try_ok(a, "gpus/nvidia=1", &r3);
	assert_string_equal(labels(a, &r3.parts[0], &b), "3");
	hq_ralloc_release(a, &r3);
	hq_ralloc_result_fini(&r3);
	hq_ralloc_release(a, &r2);
	hq_ralloc_result_fini(&r2);
	assert_int_equal(try_spec(a, "gpus/nvidia=all", &r3), HQ_EBUSY);
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	try_ok(a, "gpus/nvidia=all", &r3);
	assert_string_equal(labels(a, &r3.parts[0], &b), "0,1,2,3");
	hq_ralloc_result_fini(&r3);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
	hq_buf_fini(&b);
}

/* --coupling: a later entry of a request prefers the group coupled to
 * the groups the earlier entries took. */
static void
test_resalloc_coupling(void **state)
{
	static const char *const defs[] = { "cpus=2x2", "gpus=[[a],[b]]" };
	struct hq_worker_res res;
	struct hq_errbuf eb = { "" };
	struct hq_ralloc *a;
	struct hq_ralloc_result busy, r;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	make_res(defs, 2, &res);
	if (hq_parse_coupling("cpus[0]:gpus[0],cpus[1]:gpus[1]", &res, &eb))
		fail_msg("%s", eb.msg);
	a = hq_ralloc_create(&res);
	/* cpus group 0 half busy: 2 cpus come from group 1, and the GPU
	 * coupled to it is b (without coupling: the lowest, a) */
	try_ok(a, "cpus=1", &busy);
	assert_string_equal(labels(a, &busy.parts[0], &b), "0");
	try_ok(a, "cpus=2;gpus=1", &r);
	assert_string_equal(labels(a, &r.parts[0], &b), "2,3");
	assert_string_equal(labels(a, &r.parts[1], &b), "b");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	/* the GPU first: a; then the CPU from the group coupled to a */
	try_ok(a, "gpus=1;cpus=1", &r);
	assert_string_equal(labels(a, &r.parts[0], &b), "a");
	assert_string_equal(labels(a, &r.parts[1], &b), "1");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	/* scatter ignores coupling */
	try_ok(a, "cpus=2 scatter;gpus=2", &r);
	assert_string_equal(labels(a, &r.parts[1], &b), "a,b");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	hq_ralloc_release(a, &busy);
	hq_ralloc_result_fini(&busy);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);

	/* weights decide: group 0 is tied more strongly to b */
	make_res(defs, 2, &res);
	if (hq_parse_coupling("cpus[0]:gpus[0]=10,cpus[0]:gpus[1]=300", &res,
		&eb))
		fail_msg("%s", eb.msg);
	a = hq_ralloc_create(&res);
	try_ok(a, "cpus=2 tight;gpus=1", &r);
	assert_string_equal(labels(a, &r.parts[0], &b), "0,1");
	assert_string_equal(labels(a, &r.parts[1], &b), "b");
	hq_ralloc_release(a, &r);
	hq_ralloc_result_fini(&r);
	hq_ralloc_destroy(a);
	hq_worker_res_fini(&res);
	hq_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resalloc_policies_3x4),
		cmocka_unit_test(test_resalloc_best_fit),
		cmocka_unit_test(test_resalloc_tight_remainder_best_fit),
		cmocka_unit_test(test_resalloc_strict_fragmented),
		cmocka_unit_test(test_resalloc_fractions),
		cmocka_unit_test(test_resalloc_fraction_busy_and_sum),
		cmocka_unit_test(test_resalloc_all),
		cmocka_unit_test(test_resalloc_never_fits),
		cmocka_unit_test(test_resalloc_rollback),
		cmocka_unit_test(test_resalloc_topology_2x2x8),
		cmocka_unit_test(test_resalloc_property_random),
		cmocka_unit_test(test_resalloc_pass_strict_not_starved),
		cmocka_unit_test(test_resalloc_pass_amount_reservation),
		cmocka_unit_test(test_resalloc_pass_fraction_layout),
		cmocka_unit_test(test_resalloc_topology_4gpu),
		cmocka_unit_test(test_resalloc_coupling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
