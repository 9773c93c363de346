/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/placeholder.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/placeholder.h"
#include "common/util.h"

static const struct hq_ph_ctx full = {
	.job_id = "5",
	.task_id = "10",
	.instance_id = "6",
	.submit_dir = "/foo",
	.cwd = "/work",
	.server_uid = "testHQ",
};

/* Phase 1 of spec 2.3: only JOB_ID, SUBMIT_DIR and SERVER_UID known. */
static const struct hq_ph_ctx submit = {
	.job_id = "1",
	.submit_dir = "/abs",
	.server_uid = "AbC123",
};

static void
check_expand(const char *in, const struct hq_ph_ctx *ctx, const char *want,
    int want_unknown)
{
	int unknown = -1;
	char *got;

	got = hq_ph_expand(in, ctx, &unknown);
	if (strcmp(got, want) != 0 || unknown != want_unknown)
		fail_msg("\"%s\": got \"%s\" (%d unknown), want \"%s\" (%d)",
		    in, got, unknown, want, want_unknown);
	free(got);
}

static void
test_placeholder_expand_full(void **state)
{
	(void)state;
	check_expand("", &full, "", 0);
	check_expand("plain", &full, "plain", 0);
	check_expand("%{JOB_ID}", &full, "5", 0);
	check_expand("%{SUBMIT_DIR}/%{SERVER_UID}/%{JOB_ID}-%{TASK_ID}", &full,
	    "/foo/testHQ/5-10", 0);
	check_expand("%{SERVER_UID}-%{TASK_ID}-%{INSTANCE_ID}", &full,
	    "testHQ-10-6", 0);
	check_expand("%{CWD}/%{TASK_ID}.out", &full, "/work/10.out", 0);
	check_expand("a%{JOB_ID}b%{JOB_ID}c", &full, "a5b5c", 0);
	check_expand("%", &full, "%", 0);
	check_expand("%%{JOB_ID}", &full, "%5", 0);
	check_expand("100%", &full, "100%", 0);
	check_expand("%{JOB_ID", &full, "%{JOB_ID", 0);
	check_expand("x%{", &full, "x%{", 0);
	check_expand("{JOB_ID}", &full, "{JOB_ID}", 0);
	check_expand("% {JOB_ID}", &full, "% {JOB_ID}", 0);
	check_expand("%{job_id}", &full, "%{job_id}", 1);
	check_expand("%{ JOB_ID}", &full, "%{ JOB_ID}", 1);
}

static void
test_placeholder_expand_unknown(void **state)
{
	(void)state;
	check_expand("%{FOO}", &full, "%{FOO}", 1);
	check_expand("%{FOO}/%{JOB_ID}/%{BAR}/%{FOO}", &full,
	    "%{FOO}/5/%{BAR}/%{FOO}", 3);
	check_expand("%{}", &full, "%{}", 1);
	/* The name runs to the first '}'. */
	check_expand("%{%{JOB_ID}}", &full, "%{%{JOB_ID}}", 1);
	check_expand("%{A}}", &full, "%{A}}", 1);
	/* n_unknown may be NULL. */
	free(hq_ph_expand("%{FOO}", &full, NULL));
}

static void
test_placeholder_expand_partial(void **state)
{
	static const struct hq_ph_ctx none = { 0 };
	static const struct hq_ph_ctx cwd_only = { .cwd = "/c" };

	(void)state;
	check_expand("%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout", &submit,
	    "%{CWD}/job-1/%{TASK_ID}.stdout", 0);
	check_expand("%{SUBMIT_DIR}/x-%{INSTANCE_ID}", &submit,
	    "/abs/x-%{INSTANCE_ID}", 0);
	check_expand("%{CWD}/job-1/%{TASK_ID}.stdout", &cwd_only,
	    "/c/job-1/%{TASK_ID}.stdout", 0);
	check_expand("%{JOB_ID}%{X}", &none, "%{JOB_ID}%{X}", 1);
	/* Values are inserted verbatim, never expanded again. */
	{
		struct hq_ph_ctx tricky = { .cwd = "%{JOB_ID}", .job_id = "9" };

		check_expand("%{CWD}/%{JOB_ID}", &tricky, "%{JOB_ID}/9", 0);
	}
	/* An empty value is a value. */
	{
		struct hq_ph_ctx empty = { .task_id = "" };

		check_expand("a%{TASK_ID}b", &empty, "ab", 0);
	}
}

static void
test_placeholder_contains(void **state)
{
	(void)state;
	assert_true(hq_ph_contains("%{TASK_ID}", "TASK_ID"));
	assert_true(hq_ph_contains("/x/%{JOB_ID}/%{TASK_ID}.out", "TASK_ID"));
	assert_true(hq_ph_contains("%{FOO}", "FOO"));
	assert_false(hq_ph_contains("/x/%{JOB_ID}.out", "TASK_ID"));
	assert_false(hq_ph_contains("TASK_ID", "TASK_ID"));
	assert_false(hq_ph_contains("%{TASK_ID", "TASK_ID"));
	assert_false(hq_ph_contains("%{TASK_IDX}", "TASK_ID"));
	assert_false(hq_ph_contains("%{XTASK_ID}", "TASK_ID"));
	assert_false(hq_ph_contains("", "TASK_ID"));
	assert_true(hq_ph_contains("%{CWD}/%{TASK_ID}", "CWD"));
}

static void
test_placeholder_has_known(void **state)
{
	(void)state;
	assert_false(hq_ph_has_known(""));
	assert_false(hq_ph_has_known("/abs/path"));
	assert_false(hq_ph_has_known("%{FOO}/%{BAR}"));
	assert_false(hq_ph_has_known("%{JOB_ID"));
	assert_false(hq_ph_has_known("%{job_id}"));
	assert_true(hq_ph_has_known("%{JOB_ID}"));
	assert_true(hq_ph_has_known("%{FOO}/%{SERVER_UID}"));
	assert_true(hq_ph_has_known("/abs/job-1/%{TASK_ID}.stdout"));
	assert_true(hq_ph_has_known("%{INSTANCE_ID}"));
	assert_true(hq_ph_has_known("%{SUBMIT_DIR}"));
	assert_true(hq_ph_has_known("%{CWD}"));
}

static void
test_placeholder_unknown_names(void **state)
{
	static const struct {
		const char *in, *names;
		int n;
	} t[] = {
		{ "", "", 0 },
		{ "/a/%{JOB_ID}/%{TASK_ID}", "", 0 },
		{ "%{FOO}", "FOO", 1 },
		{ "%{FOO}/%{JOB_ID}/%{BAR}", "FOO, BAR", 2 },
		{ "%{FOO}/%{FOO}/%{BAR}/%{FOO}", "FOO, BAR", 2 },
		{ "%{}", "", 1 },
		{ "%{job_id}%{X}", "job_id, X", 2 },
		{ "%{FOO", "", 0 },
	};
	struct hq_buf b;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(t); i++) {
		hq_buf_init(&b);
		hq_buf_append_str(&b, ">");
		n = hq_ph_unknown(t[i].in, &b);
		assert_int_equal(n, t[i].n);
		assert_int_equal(b.data[b.len], '\0');
		assert_string_equal((char *)b.data + 1, t[i].names);
		hq_buf_fini(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholder_expand_full),
		cmocka_unit_test(test_placeholder_expand_unknown),
		cmocka_unit_test(test_placeholder_expand_partial),
		cmocka_unit_test(test_placeholder_contains),
		cmocka_unit_test(test_placeholder_has_known),
		cmocka_unit_test(test_placeholder_unknown_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
