/* SPDX-License-Identifier: MIT */
/* Pool definitions, requests, coupling and display forms (resource.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/resource.h"

/* The buffer's text, NUL-terminated (valid until the next append). */
static const char *
buf_str(struct hq_buf *b)
{
	hq_buf_append(b, "", 1);
	b->len--;
	return (const char *)b->data;
}

static void
parse_ok(const char *def, bool is_cpus, struct hq_res_pool *p)
{
	struct hq_errbuf eb = { "" };
	int rc = hq_parse_pool_def("r", def, is_cpus, p, &eb);

	if (rc != 0)
		fail_msg("\"%s\" rejected: %s", def, eb.msg);
}

/* Parse must fail and the message must contain 'needle'. */
static void
parse_err(const char *def, bool is_cpus, const char *needle)
{
	struct hq_errbuf eb = { "" };
	struct hq_res_pool p;
	int rc;

	memset(&p, 0x5a, sizeof p);
	rc = hq_parse_pool_def("r", def, is_cpus, &p, &eb);
	if (rc != HQ_EINVAL)
		fail_msg("\"%s\" accepted (rc %d)", def, rc);
	if (strstr(eb.msg, needle) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", def, eb.msg,
		    needle);
	if (strstr(eb.msg, "\"r\"") == NULL)
		fail_msg("message \"%s\" does not name the resource", eb.msg);
}

/* Labels joined by ',' with groups separated by '|'. */
static const char *
pool_layout(const struct hq_res_pool *p, struct hq_buf *b)
{
	uint32_t g, i;

	for (g = 0; g < p->ngroups; g++) {
		if (g > 0)
			hq_buf_append_str(b, "|");
		for (i = p->group_start[g]; i < p->group_start[g + 1]; i++)
			hq_buf_printf(b, "%s%s",
			    i > p->group_start[g] ? "," : "", p->labels[i]);
	}
	return buf_str(b);
}

static void
check_pool(const char *def, bool is_cpus, enum hq_pool_kind kind,
    const char *layout)
{
	struct hq_res_pool p;
	struct hq_buf b;

	hq_buf_init(&b);
	parse_ok(def, is_cpus, &p);
	assert_string_equal(p.name, "r");
	assert_int_equal(p.kind, kind);
	assert_int_equal(p.group_start[0], 0);
	assert_int_equal(p.group_start[p.ngroups], p.nlabels);
	assert_string_equal(pool_layout(&p, &b), layout);
	hq_res_pool_fini(&p);
	hq_buf_fini(&b);
}

static void
test_resource_pool_list(void **state)
{
	(void)state;
	check_pool("[a, b, \"c d\"]", false, HQ_POOL_LIST, "a,b,c d");
	check_pool("  [ x ]  ", false, HQ_POOL_LIST, "x");
	check_pool("[\"x,y\", \"[z]\", \"q\\\"r\", \"\\\\\"]", false,
	    HQ_POOL_LIST, "x,y,[z],q\"r,\\");
	check_pool("[0,1,2]", true, HQ_POOL_LIST, "0,1,2");
}

static void
test_resource_pool_range(void **state)
{
	(void)state;
	check_pool("range(2-5)", false, HQ_POOL_RANGE, "2,3,4,5");
	check_pool("range( 3 - 3 )", false, HQ_POOL_RANGE, "3");
	check_pool("range(1_0-1_2)", false, HQ_POOL_RANGE, "10,11,12");
	check_pool("range(0-3)", true, HQ_POOL_RANGE, "0,1,2,3");
}

static void
test_resource_pool_groups(void **state)
{
	(void)state;
	check_pool("[[0,1],[2,3]]", false, HQ_POOL_GROUPS, "0,1|2,3");
	check_pool("[ [a] , [b, c] , [\"d e\"] ]", false, HQ_POOL_GROUPS,
	    "a|b,c|d e");
	/* one group collapses to a list */
	check_pool("[[a,b]]", false, HQ_POOL_LIST, "a,b");
	check_pool("[[5, 7, 123]]", true, HQ_POOL_LIST, "5,7,123");
	check_pool("[[0], [7], [123, 200]]", true, HQ_POOL_GROUPS,
	    "0|7|123,200");
}

static void
test_resource_pool_nxm(void **state)
{
	(void)state;
	check_pool("2x3", false, HQ_POOL_GROUPS, "0,1,2|3,4,5");
	check_pool("3x1", true, HQ_POOL_GROUPS, "0|1|2");
	check_pool("1x4", false, HQ_POOL_RANGE, "0,1,2,3");
	check_pool("4", true, HQ_POOL_RANGE, "0,1,2,3");
	check_pool("1", true, HQ_POOL_RANGE, "0");
}

static void
test_resource_pool_sum(void **state)
{
	struct hq_res_pool p;

	(void)state;
	parse_ok("sum(100)", false, &p);
	assert_int_equal(p.kind, HQ_POOL_SUM);
	assert_int_equal(p.size, 1000000);
	assert_int_equal(p.nlabels, 0);
	hq_res_pool_fini(&p);
	parse_ok("sum( 1.5 )", false, &p);
	assert_int_equal(p.size, 15000);
	hq_res_pool_fini(&p);
	parse_ok("sum(1_000_000.0001)", false, &p);
	assert_int_equal(p.size, 10000000001ull);
	hq_res_pool_fini(&p);
}

static void
test_resource_pool_errors(void **state)
{
	(void)state;
	parse_err("", false, "empty definition");
	parse_err("   ", false, "empty definition");
	parse_err("[]", false, "empty list at column 1");
	parse_err("[ ]", false, "empty list");
	parse_err("[[]]", false, "empty group at column 2");
	parse_err("[[a],[]]", false, "empty group at column 6");
	parse_err("[a,,b]", false, "empty label at column 4");
	parse_err("[a,]", false, "empty label at column 4");
	parse_err("[a,a]", false, "label \"a\" is not unique");
	parse_err("[[a,b],[c,a]]", false, "label \"a\" is not unique");
	parse_err("[a", false, "unterminated list");
	parse_err("[a b]", false, "expected ',' or ']', found 'b' at column 4");
	parse_err("[\"a]", false, "unterminated quoted label at column 2");
	parse_err("[\"\"]", false, "empty label");
	parse_err("[a] x", false, "unexpected \"x\" at column 5");
	parse_err("[[a] b]", false, "expected ',' or ']'");
	parse_err("[[a], b]", false, "expected '[' of a group at column 7");
	parse_err("range(5-2)", false, "range start 5 is greater than end 2");
	parse_err("range(1-2", false, "expected ')', found the end");
	parse_err("range(x-2)", false, "expected a number at column 7");
	parse_err("range(1 2)", false, "expected '-', found '2'");
	parse_err("range(0-99999999)", false, "more than");
	parse_err("range(0-99999999999)", false, "number too large");
	parse_err("foo", false, "expected [..]");
	parse_err("0x4", false, "empty resource (0x4)");
	parse_err("4x0", false, "empty resource (4x0)");
	parse_err("4x", false, "expected a number at column 3");
	parse_err("2000x2000", false, "more than");
	parse_err("4", false, "a plain number is only valid for cpus");
	parse_err("0", true, "zero CPUs");
	parse_err("sum(0)", false, "empty resource (size 0)");
	parse_err("sum()", false, "expected an amount at column 5");
	parse_err("sum(x)", false, "expected an amount");
	parse_err("sum(1", false, "expected ')'");
	parse_err("sum(10)", true, "cpus cannot be a sum resource");
	parse_err("[a,b]", true, "CPU id \"a\" is not a number");
	parse_err("[[0,1],[2,x]]", true, "CPU id \"x\" is not a number");
	parse_err("sum", false, "expected '('");
}

static void
test_resource_pool_precision(void **state)
{
	struct hq_errbuf eb = { "" };
	struct hq_res_pool p;

	(void)state;
	assert_int_equal(hq_parse_pool_def("mem", "sum(1.23456)", false, &p,
			     &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "Resource precision exceeded"));
	assert_int_equal(hq_parse_pool_def("mem", "sum(5000000000)", false, &p,
			     &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "out of range"));
}

static void
test_resource_split_name_value(void **state)
{
	struct hq_errbuf eb = { "" };
	char *n = NULL, *v = NULL;

	(void)state;
	assert_int_equal(hq_split_name_value("gpus=[0,1]", &n, &v, &eb), 0);
	assert_string_equal(n, "gpus");
	assert_string_equal(v, "[0,1]");
	free(n);
	free(v);
	assert_int_equal(hq_split_name_value(" gpus/nvidia = sum(1=2) ", &n, &v,
			     &eb),
	    0);
	assert_string_equal(n, "gpus/nvidia");
	assert_string_equal(v, "sum(1=2)");
	free(n);
	free(v);
	assert_int_equal(hq_split_name_value("noeq", &n, &v, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "noeq"));
	assert_int_equal(hq_split_name_value("1gpu=3", &n, &v, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "\"1gpu\""));
	assert_int_equal(hq_split_name_value("a-b=3", &n, &v, &eb), HQ_EINVAL);
	assert_int_equal(hq_split_name_value("=3", &n, &v, &eb), HQ_EINVAL);
	assert_true(hq_res_name_valid("a"));
	assert_true(hq_res_name_valid("gpus/amd2"));
	assert_false(hq_res_name_valid(""));
	assert_false(hq_res_name_valid("/x"));
	assert_false(hq_res_name_valid("a_b"));
}

/* Pools for res: parsed from "name=def" strings. */
static struct hq_res_pool *
make_pools(const char *const *defs, uint32_t n)
{
	struct hq_res_pool *pools = hq_xcalloc(n, sizeof *pools);
	struct hq_errbuf eb;
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
	return pools;
}

static void
make_res(const char *const *defs, uint32_t n, struct hq_worker_res *r)
{
	struct hq_errbuf eb = { "" };

	if (hq_worker_res_from_pools(make_pools(defs, n), n, r, &eb) != 0)
		fail_msg("worker res: %s", eb.msg);
}

static void
test_resource_worker_res_sorted(void **state)
{
	static const char *const defs[] = { "mem=sum(10)", "gpus=[a,b]",
		"cpus=4", "aaa=range(1-2)" };
	struct hq_worker_res r;

	(void)state;
	make_res(defs, 4, &r);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.pools[0].name, "aaa");
	assert_string_equal(r.pools[1].name, "cpus");
	assert_string_equal(r.pools[2].name, "gpus");
	assert_string_equal(r.pools[3].name, "mem");
	assert_int_equal(r.ncoupling, 0);
	assert_ptr_equal(hq_worker_res_find(&r, "gpus"), &r.pools[2]);
	hq_worker_res_fini(&r);
}

static void
test_resource_worker_res_errors(void **state)
{
	static const char *const dup[] = { "cpus=4", "gpus=[a]", "gpus=[b]" };
	static const char *const nocpus[] = { "gpus=[a]", "mem=sum(1)" };
	struct hq_errbuf eb = { "" };
	struct hq_worker_res r;
	struct hq_res_pool *p;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(hq_worker_res_from_pools(make_pools(dup, 3), 3, &r,
			     &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "\"gpus\" is defined more than once"));
	assert_int_equal(hq_worker_res_from_pools(make_pools(nocpus, 2), 2, &r,
			     &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "\"cpus\" is missing"));
	/* an empty pool built by hand */
	p = make_pools(dup, 1);
	p = hq_xreallocarray(p, 2, sizeof *p);
	memset(&p[1], 0, sizeof p[1]);
	p[1].name = hq_xstrdup("mem");
	p[1].kind = HQ_POOL_SUM;
	assert_int_equal(hq_worker_res_from_pools(p, 2, &r, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "\"mem\" is empty"));
	assert_null(r.pools); /* untouched on error */
}

static const char *const coupled_defs[] = { "cpus=2x4", "gpus=[[0,1],[2,3]]",
	"mem=sum(100)", "nics=[a,b]" };

static void
test_resource_coupling(void **state)
{
	struct hq_errbuf eb = { "" };
	struct hq_worker_res r;

	(void)state;
	make_res(coupled_defs, 4, &r);
	assert_int_equal(
	    hq_parse_coupling("gpus[1]:cpus[1], cpus[0]:gpus[0]=512", &r, &eb),
	    0);
	assert_int_equal(r.ncoupling, 2);
	/* normalized (resource1 < resource2) and sorted */
	assert_int_equal(r.coupling[0].resource1, 0);
	assert_int_equal(r.coupling[0].group1, 0);
	assert_int_equal(r.coupling[0].resource2, 1);
	assert_int_equal(r.coupling[0].group2, 0);
	assert_int_equal(r.coupling[0].weight, 512);
	assert_int_equal(r.coupling[1].group1, 1);
	assert_int_equal(r.coupling[1].group2, 1);
	assert_int_equal(r.coupling[1].weight, HQ_COUPLING_DEFAULT_WEIGHT);
	/* appending more; a pair already present is rejected */
	assert_int_equal(hq_parse_coupling("cpus[0]:gpus[1]=0", &r, &eb), 0);
	assert_int_equal(r.ncoupling, 3);
	assert_int_equal(hq_parse_coupling("gpus[0]:cpus[0]", &r, &eb),
	    HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "coupled twice"));
	assert_int_equal(r.ncoupling, 3);
	hq_worker_res_fini(&r);
}

static void
coupling_err(const char *s, const char *needle)
{
	struct hq_errbuf eb = { "" };
	struct hq_worker_res r;

	make_res(coupled_defs, 4, &r);
	if (hq_parse_coupling(s, &r, &eb) != HQ_EINVAL)
		fail_msg("coupling \"%s\" accepted", s);
	if (strstr(eb.msg, needle) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, eb.msg,
		    needle);
	assert_int_equal(r.ncoupling, 0);
	assert_null(r.coupling);
	hq_worker_res_fini(&r);
}

static void
test_resource_coupling_errors(void **state)
{
	(void)state;
	coupling_err("", "empty");
	coupling_err("cpus[0]:foo[0]", "unknown resource \"foo\" at column 9");
	coupling_err("cpus[0]:mem[0]", "\"mem\" does not have more than one");
	coupling_err("cpus[0]:nics[0]", "\"nics\" does not have more than one");
	coupling_err("cpus[2]:gpus[0]", "\"cpus\" has no group 2 at column 6");
	coupling_err("cpus[0]:gpus[0]=70000", "weight 70000 is larger");
	coupling_err("cpus[0]:cpus[1]", "coupled with itself");
	coupling_err("cpus[0]:gpus[0],cpus[0]:gpus[0]", "coupled twice");
	coupling_err("cpus[0]:gpus[0] x", "expected ',' or the end");
	coupling_err("cpus[0]gpus[0]", "expected ':'");
	coupling_err("cpus[x]:gpus[0]", "expected a number");
	coupling_err("cpus[0]:gpus[0],", "expected a resource name");
}

static void
req_ok(const char *req, uint64_t amount, enum hq_policy policy)
{
	struct hq_errbuf eb = { "" };
	struct hq_res_entry e;

	if (hq_parse_request_entry("cpus", req, &e, &eb) != 0)
		fail_msg("request \"%s\" rejected: %s", req, eb.msg);
	assert_string_equal(e.name, "cpus");
	assert_int_equal(e.amount, amount);
	assert_int_equal(e.policy, policy);
	free(e.name);
}

static void
req_err(const char *name, const char *req, const char *needle)
{
	struct hq_errbuf eb = { "" };
	struct hq_res_entry e = { NULL, 7, HQ_POLICY_TIGHT };

	if (hq_parse_request_entry(name, req, &e, &eb) != HQ_EINVAL)
		fail_msg("request \"%s\" accepted", req);
	if (strstr(eb.msg, needle) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", req, eb.msg,
		    needle);
	assert_null(e.name);
	assert_int_equal(e.amount, 7);
}

static void
test_resource_request_entry(void **state)
{
	(void)state;
	req_ok("4", 40000, HQ_POLICY_COMPACT);
	req_ok("  2   tight  ", 20000, HQ_POLICY_TIGHT);
	req_ok("1.5 scatter", 15000, HQ_POLICY_SCATTER);
	req_ok("2 compact!", 20000, HQ_POLICY_FORCE_COMPACT);
	req_ok("3 tight!", 30000, HQ_POLICY_FORCE_TIGHT);
	req_ok("1 compact", 10000, HQ_POLICY_COMPACT);
	req_ok("0.0001", 1, HQ_POLICY_COMPACT);
	req_ok("1_000", 10000000, HQ_POLICY_COMPACT);
	req_ok("all", 0, HQ_POLICY_ALL);
	req_ok(" all ", 0, HQ_POLICY_ALL);
	req_err("cpus", "0", "must be greater than zero");
	req_err("cpus", "0.0000", "must be greater than zero");
	req_err("cpus", "1.23456", "Resource precision exceeded");
	req_err("cpus", "2 foo", "invalid policy \"foo\"");
	req_err("cpus", "2 all", "invalid policy \"all\"");
	req_err("cpus", "", "empty request");
	req_err("cpus", "x", "Invalid resource amount \"x\"");
	req_err("cpus", "1.", "Invalid resource amount \"1.\"");
	req_err("cpus", ".5", "Invalid resource amount \".5\"");
	req_err("cpus", "-1", "Invalid resource amount");
	req_err("cpus", "4294967296", "out of range");
	req_err("9gpus", "1", "invalid resource name \"9gpus\"");
}

static void
test_resource_variant_add(void **state)
{
	struct hq_res_variant v;
	struct hq_res_entry e;
	struct hq_errbuf eb = { "" };

	(void)state;
	memset(&v, 0, sizeof v);
	assert_int_equal(hq_parse_request_entry("cpus", "2", &e, &eb), 0);
	assert_int_equal(hq_variant_add_entry(&v, &e, &eb), 0);
	assert_null(e.name);
	assert_int_equal(hq_parse_request_entry("gpus", "1", &e, &eb), 0);
	assert_int_equal(hq_variant_add_entry(&v, &e, &eb), 0);
	assert_int_equal(hq_parse_request_entry("cpus", "1", &e, &eb), 0);
	assert_int_equal(hq_variant_add_entry(&v, &e, &eb), HQ_EINVAL);
	assert_non_null(strstr(eb.msg, "\"cpus\" is requested more than once"));
	free(e.name);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.e[0].name, "cpus");
	assert_string_equal(v.e[1].name, "gpus");
	free(v.e[0].name);
	free(v.e[1].name);
	free(v.e);
}

static void
fmt_req(const char *req, const char *want)
{
	struct hq_errbuf eb = { "" };
	struct hq_res_entry e;
	struct hq_buf b;

	hq_buf_init(&b);
	assert_int_equal(hq_parse_request_entry("x", req, &e, &eb), 0);
	hq_fmt_request_entry(&b, &e);
	assert_string_equal(buf_str(&b), want);
	free(e.name);
	hq_buf_fini(&b);
}

static void
test_resource_fmt_request(void **state)
{
	(void)state;
	fmt_req("4", "4 compact");
	fmt_req("1.5 scatter", "1.5 scatter");
	fmt_req("all", "all");
	fmt_req("0.0005 tight!", "0.0005 tight!");
	fmt_req("2.25 compact!", "2.25 compact!");
	fmt_req("10.1000 tight", "10.1 tight");
	assert_string_equal(hq_policy_name(HQ_POLICY_FORCE_COMPACT),
	    "compact!");
	assert_string_equal(hq_policy_name(HQ_POLICY_ALL), "all");
}

static void
fmt_def(const char *def, bool is_cpus, const char *want)
{
	struct hq_res_pool p;
	struct hq_buf b;

	hq_buf_init(&b);
	parse_ok(def, is_cpus, &p);
	hq_fmt_pool_def(&b, &p);
	assert_string_equal(buf_str(&b), want);
	hq_res_pool_fini(&p);
	hq_buf_fini(&b);
}

static void
test_resource_fmt_pool_def(void **state)
{
	(void)state;
	fmt_def("[a, b]", false, "[a,b]");
	fmt_def("2x2", false, "[[0,1],[2,3]]");
	fmt_def("8", true, "range(0-7)");
	fmt_def("range(5-5)", false, "[5]");
	fmt_def("sum(4096)", false, "sum(4096)");
	fmt_def("sum(1.5)", false, "sum(1.5)");
}

static void
test_resource_summary(void **state)
{
	static const char *const defs[] = {
		"cpus=[[0,1,2,4],[10,11,12,14]]",
		"gpus=[4,7]",
		"mmmem=sum(1234)",
		"zzz=[[0,1],[10,11],[20,21],[30,31],[40,41],"
		"[50,51,52,53,54,55]]",
	};
	static const char *const mem[] = { "cpus=1", "mem=sum(4219)",
		"small=sum(0.5)" };
	static const char *const mem2[] = { "cpus=[[0]]", "mem=sum(100)" };
	struct hq_worker_res r;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	make_res(defs, 4, &r);
	hq_fmt_worker_res_summary(&b, &r);
	assert_string_equal(buf_str(&b),
	    "cpus 2x4; gpus 2; mmmem 1234; zzz 5x2 1x6");
	hq_buf_reset(&b);
	hq_fmt_worker_res_lines(&b, &r);
	assert_string_equal(buf_str(&b),
	    "cpus: 2x4\ngpus: 2\nmmmem: 1234\nzzz: 5x2 1x6");
	hq_buf_reset(&b);
	hq_fmt_worker_res_describe(&b, &r);
	assert_string_equal(buf_str(&b),
	    "cpus: [[0,1,2,4],[10,11,12,14]]\ngpus: [4,7]\nmmmem: sum(1234)\n"
	    "zzz: [[0,1],[10,11],[20,21],[30,31],[40,41],"
	    "[50,51,52,53,54,55]]");
	hq_worker_res_fini(&r);

	hq_buf_reset(&b);
	make_res(mem, 3, &r);
	hq_fmt_worker_res_summary(&b, &r);
	assert_string_equal(buf_str(&b), "cpus 1; mem 4.12 GiB; small 0.5");
	hq_buf_reset(&b);
	hq_fmt_worker_res_describe(&b, &r);
	assert_string_equal(buf_str(&b),
	    "cpus: [0]\nmem: sum(4219)\nsmall: sum(0.5)");
	hq_worker_res_fini(&r);

	hq_buf_reset(&b);
	make_res(mem2, 2, &r);
	hq_fmt_worker_res_summary(&b, &r);
	assert_string_equal(buf_str(&b), "cpus 1; mem 100.00 MiB");
	hq_worker_res_fini(&r);
	hq_buf_fini(&b);
}

static void
test_resource_summary_coupled(void **state)
{
	struct hq_errbuf eb = { "" };
	struct hq_worker_res r;
	struct hq_buf b;

	(void)state;
	hq_buf_init(&b);
	make_res(coupled_defs, 4, &r);
	assert_int_equal(hq_parse_coupling("cpus[0]:gpus[1]", &r, &eb), 0);
	hq_fmt_worker_res_lines(&b, &r);
	assert_string_equal(buf_str(&b),
	    "cpus: 2x4 [coupled]\ngpus: 2x2 [coupled]\nmem: 100.00 MiB\n"
	    "nics: 2");
	hq_buf_reset(&b);
	hq_fmt_worker_res_summary(&b, &r);
	assert_string_equal(buf_str(&b),
	    "cpus 2x4; gpus 2x2; mem 100.00 MiB; nics 2");
	hq_worker_res_fini(&r);
	hq_buf_fini(&b);
}

static void
test_resource_json(void **state)
{
	static const char *const defs[] = { "cpus=range(0-3)", "gpus=[0,1]",
		"numa=[[0,1],[2,3]]", "mem=sum(2048)" };
	struct hq_errbuf eb = { "" };
	struct hq_worker_res r;
	json_t *j;
	char *s;

	(void)state;
	make_res(defs, 4, &r);
	assert_int_equal(hq_parse_coupling("numa[1]:cpus[0]", &r, &eb),
	    HQ_EINVAL); /* cpus is one range */
	j = hq_worker_res_json(&r);
	s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s,
	    "{\"resources\":["
	    "{\"name\":\"cpus\",\"kind\":\"range\",\"start\":0,\"end\":3},"
	    "{\"name\":\"gpus\",\"kind\":\"list\",\"values\":[\"0\",\"1\"]},"
	    "{\"name\":\"mem\",\"kind\":\"sum\",\"size\":20480000},"
	    "{\"name\":\"numa\",\"kind\":\"groups\","
	    "\"groups\":[[\"0\",\"1\"],[\"2\",\"3\"]]}],"
	    "\"coupling\":{\"weights\":[]}}");
	free(s);
	json_decref(j);
	hq_worker_res_fini(&r);

	make_res(coupled_defs, 4, &r);
	assert_int_equal(hq_parse_coupling("gpus[1]:cpus[0]=300", &r, &eb), 0);
	j = hq_worker_res_json(&r);
	s = json_dumps(json_object_get(j, "coupling"), JSON_COMPACT);
	assert_string_equal(s,
	    "{\"weights\":[{\"resource1_idx\":0,\"group1_idx\":0,"
	    "\"resource2_idx\":1,\"group2_idx\":1,\"weight\":300}]}");
	free(s);
	json_decref(j);
	hq_worker_res_fini(&r);
}

static void
test_resource_env_name(void **state)
{
	char *s;

	(void)state;
	s = hq_res_env_name("gpus/nvidia");
	assert_string_equal(s, "gpus_nvidia");
	free(s);
	s = hq_res_env_name("Abc9");
	assert_string_equal(s, "Abc9");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resource_pool_list),
		cmocka_unit_test(test_resource_pool_range),
		cmocka_unit_test(test_resource_pool_groups),
		cmocka_unit_test(test_resource_pool_nxm),
		cmocka_unit_test(test_resource_pool_sum),
		cmocka_unit_test(test_resource_pool_errors),
		cmocka_unit_test(test_resource_pool_precision),
		cmocka_unit_test(test_resource_split_name_value),
		cmocka_unit_test(test_resource_worker_res_sorted),
		cmocka_unit_test(test_resource_worker_res_errors),
		cmocka_unit_test(test_resource_coupling),
		cmocka_unit_test(test_resource_coupling_errors),
		cmocka_unit_test(test_resource_request_entry),
		cmocka_unit_test(test_resource_variant_add),
		cmocka_unit_test(test_resource_fmt_request),
		cmocka_unit_test(test_resource_fmt_pool_def),
		cmocka_unit_test(test_resource_summary),
		cmocka_unit_test(test_resource_summary_coupled),
		cmocka_unit_test(test_resource_json),
		cmocka_unit_test(test_resource_env_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
