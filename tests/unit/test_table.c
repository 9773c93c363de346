/* SPDX-License-Identifier: MIT */
/* Unit tests for the CLI output helpers: tables, terminal, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/jsonout.h"
#include "cli/table.h"
#include "cli/term.h"
#include "common/buf.h"

/* Render a table into a NUL-terminated string the caller frees. */
static char *
render(struct hq_table *t, bool colors, bool kv)
{
	struct hq_buf b;
	char *s;

	hq_buf_init(&b);
	hq_table_render(t, &b, colors, kv);
	s = calloc(1, b.len + 1);
	assert_non_null(s);
	memcpy(s, b.data, b.len);
	hq_buf_fini(&b);
	return s;
}

static void
assert_render(struct hq_table *t, bool colors, bool kv, const char *expect)
{
	char *s = render(t, colors, kv);

	assert_string_equal(s, expect);
	free(s);
}

static struct hq_table *
job_table(void)
{
	static const char *const hdr[] = { "ID", "Name", "State", "Tasks" };
	static const char *const r1[] = { "1", "echo", "FINISHED", "1" };
	static const char *const r2[] = { "2", "b", "WAITING", "3" };
	struct hq_table *t = hq_table_create(4);

	hq_table_set_header(t, hdr);
	hq_table_right(t, 0);
	hq_table_add_row(t, r1);
	hq_table_color_last(t, 2, hq_state_sgr("FINISHED"));
	hq_table_add_row(t, r2);
	hq_table_color_last(t, 2, hq_state_sgr("WAITING"));
	return t;
}

static void
test_table_horizontal_right_ids(void **state)
{
	struct hq_table *t = job_table();

	(void)state;
	assert_render(t, false, false,
	    "+----+------+----------+-------+\n"
	    "| ID | Name | State    | Tasks |\n"
	    "+----+------+----------+-------+\n"
	    "|  1 | echo | FINISHED | 1     |\n"
	    "|  2 | b    | WAITING  | 3     |\n"
	    "+----+------+----------+-------+\n");
	hq_table_destroy(t);
}

static void
test_table_horizontal_colors(void **state)
{
	struct hq_table *t = job_table();

	(void)state;
	assert_render(t, true, false,
	    "+----+------+----------+-------+\n"
	    "| \x1b[1mID\x1b[0m | \x1b[1mName\x1b[0m | \x1b[1mState\x1b[0m"
	    "    | \x1b[1mTasks\x1b[0m |\n"
	    "+----+------+----------+-------+\n"
	    "|  1 | echo | \x1b[32mFINISHED\x1b[0m | 1     |\n"
	    "|  2 | b    | \x1b[36mWAITING\x1b[0m  | 3     |\n"
	    "+----+------+----------+-------+\n");
	hq_table_destroy(t);
}

static void
test_table_print_to_file(void **state)
{
	struct hq_table *t = job_table();
	char *mem = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&mem, &len);
	assert_non_null(f);
	hq_table_print(t, f, false);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(mem,
	    "+----+------+----------+-------+\n"
	    "| ID | Name | State    | Tasks |\n"
	    "+----+------+----------+-------+\n"
	    "|  1 | echo | FINISHED | 1     |\n"
	    "|  2 | b    | WAITING  | 3     |\n"
	    "+----+------+----------+-------+\n");
	free(mem);
	hq_table_destroy(t);
}

static void
test_table_multiline_cells(void **state)
{
	static const char *const hdr[] = { "ID", "Command", "Worker" };
	static const char *const r1[] = { "10", "echo\nhello world", "w1" };
	/* A final newline adds no line; "\r\n" is a line end too. */
	static const char *const r2[] = { "7", "a\r\nb\n", "w2\nw3\nw4\n" };
	static const char *const r3[] = { "8", "", NULL };
	struct hq_table *t = hq_table_create(3);

	(void)state;
	hq_table_set_header(t, hdr);
	hq_table_right(t, 0);
	hq_table_add_row(t, r1);
	hq_table_add_row(t, r2);
	hq_table_add_row(t, r3);
	assert_render(t, false, false,
	    "+----+-------------+--------+\n"
	    "| ID | Command     | Worker |\n"
	    "+----+-------------+--------+\n"
	    "| 10 | echo        | w1     |\n"
	    "|    | hello world |        |\n"
	    "|  7 | a           | w2     |\n"
	    "|    | b           | w3     |\n"
	    "|    |             | w4     |\n"
	    "|  8 |             |        |\n"
	    "+----+-------------+--------+\n");
	hq_table_destroy(t);
}

static void
test_table_multiline_header_and_empty_row(void **state)
{
	static const char *const hdr[] = { "Job\nID", "X" };
	static const char *const empty[] = { "", "" };
	static const char *const r1[] = { "1", "y" };
	struct hq_table *t = hq_table_create(2);

	(void)state;
	hq_table_set_header(t, hdr);
	/* A row without any line is not printed (as in cli-table). */
	hq_table_add_row(t, empty);
	hq_table_add_row(t, r1);
	assert_render(t, false, false,
	    "+-----+---+\n"
	    "| Job | X |\n"
	    "| ID  |   |\n"
	    "+-----+---+\n"
	    "| 1   | y |\n"
	    "+-----+---+\n");
	hq_table_destroy(t);
}

static void
test_table_no_rows(void **state)
{
	static const char *const hdr[] = { "Task ID", "Error" };
	struct hq_table *t = hq_table_create(2);

	(void)state;
	hq_table_set_header(t, hdr);
	assert_render(t, false, false,
	    "+---------+-------+\n"
	    "| Task ID | Error |\n"
	    "+---------+-------+\n"
	    "+---------+-------+\n");
	hq_table_destroy(t);
}

static void
test_table_utf8_names(void **state)
{
	static const char *const hdr[] = { "ID", "Name" };
	/* 5 code points in 10 bytes, and 3 code points in 9 bytes. */
	static const char *const r1[] = { "1", "žluťá" };
	static const char *const r2[] = { "22", "日本語" };
	static const char *const r3[] = { "3", "ab" };
	struct hq_table *t = hq_table_create(2);

	(void)state;
	hq_table_set_header(t, hdr);
	hq_table_right(t, 0);
	hq_table_add_row(t, r1);
	hq_table_add_row(t, r2);
	hq_table_add_row(t, r3);
	assert_render(t, false, false,
	    "+----+-------+\n"
	    "| ID | Name  |\n"
	    "+----+-------+\n"
	    "|  1 | žluťá |\n"
	    "| 22 | 日本語   |\n"
	    "|  3 | ab    |\n"
	    "+----+-------+\n");
	hq_table_destroy(t);
}

static void
test_table_ansi_in_cells(void **state)
{
	static const char *const r1[] = { "State",
		"[\x1b[32m##\x1b[0m..]\n"
		"\x1b[33mRUNNING (1)\x1b[0m" };
	static const char *const r2[] = { "Name", "x" };
	struct hq_table *t = hq_table_create(2);

	(void)state;
	hq_table_add_row(t, r1);
	hq_table_add_row(t, r2);
	assert_render(t, false, true,
	    "+-------+-------------+\n"
	    "| State | [\x1b[32m##\x1b[0m..]      |\n"
	    "|       | \x1b[33mRUNNING (1)\x1b[0m |\n"
	    "| Name  | x           |\n"
	    "+-------+-------------+\n");
	hq_table_destroy(t);
}

static void
test_table_kv(void **state)
{
	static const char *const r1[] = { "ID", "1" };
	static const char *const r2[] = { "Name", "echo" };
	static const char *const r3[] = { "Command", "echo\ntt" };
	static const char *const r4[] = { "State", "FAILED" };
	struct hq_table *t = hq_table_create(2);
	char *mem = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	hq_table_add_row(t, r1);
	hq_table_add_row(t, r2);
	hq_table_add_row(t, r3);
	hq_table_add_row(t, r4);
	hq_table_color_last(t, 1, "31");
	assert_render(t, false, true,
	    "+---------+--------+\n"
	    "| ID      | 1      |\n"
	    "| Name    | echo   |\n"
	    "| Command | echo   |\n"
	    "|         | tt     |\n"
	    "| State   | FAILED |\n"
	    "+---------+--------+\n");

	f = open_memstream(&mem, &len);
	assert_non_null(f);
	hq_table_print_kv(t, f, true);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(mem,
	    "+---------+--------+\n"
	    "| \x1b[1mID\x1b[0m      | 1      |\n"
	    "| \x1b[1mName\x1b[0m    | echo   |\n"
	    "| \x1b[1mCommand\x1b[0m | echo   |\n"
	    "|         | tt     |\n"
	    "| \x1b[1mState\x1b[0m   | \x1b[31mFAILED\x1b[0m |\n"
	    "+---------+--------+\n");
	free(mem);

	/* A colour on a key combines with bold. */
	hq_table_color_last(t, 0, "33");
	hq_table_color_last(t, 1, NULL);
	{
		char *s = render(t, true, true);

		assert_non_null(
		    strstr(s, "| \x1b[1;33mState\x1b[0m   | FAILED |\n"));
		free(s);
	}
	hq_table_destroy(t);
}

static void
test_table_print_without_header_is_vertical(void **state)
{
	static const char *const r1[] = { "a", "bb" };
	struct hq_table *t = hq_table_create(2);
	char *mem = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	hq_table_add_row(t, r1);
	f = open_memstream(&mem, &len);
	assert_non_null(f);
	/* No header, so no bold keys even with colours. */
	hq_table_print(t, f, true);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(mem,
	    "+---+----+\n"
	    "| a | bb |\n"
	    "+---+----+\n");
	free(mem);
	hq_table_destroy(t);
}

static void
test_table_display_width(void **state)
{
	const char *s;

	(void)state;
	assert_int_equal(hq_display_width("", 0), 0);
	assert_int_equal(hq_display_width("abc", 3), 3);
	s = "žluť";
	assert_int_equal(hq_display_width(s, strlen(s)), 4);
	s = "\x1b[1;32mok\x1b[0m!";
	assert_int_equal(hq_display_width(s, strlen(s)), 3);
	s = "\x1b]8;;http://x\x07link\x1b]8;;\x1b\\";
	assert_int_equal(hq_display_width(s, strlen(s)), 4);
	s = "a\tb\x7f";
	assert_int_equal(hq_display_width(s, strlen(s)), 2);
	/* Only the first len bytes count. */
	assert_int_equal(hq_display_width("abcdef", 2), 2);
	/* An escape sequence cut short swallows the rest. */
	assert_int_equal(hq_display_width("x\x1b[31", 5), 1);
}

static void
test_table_truncate_middle(void **state)
{
	static const struct {
		const char *in;
		size_t max;
		const char *out;
	} cases[] = {
		{ "", 5, "" },
		{ "a", 5, "a" },
		{ "abcde", 5, "abcde" },
		{ "abcdef", 5, "a...f" },
		{ "abcdefgh", 6, "ab...h" },
		{ "abcdefgh", 7, "ab...gh" },
		{ "abcdef", 4, "a..." },
		{ "abcdef", 2, "ab" },
		{ "žluťoučký kůň", 9, "žlu...kůň" },
		{ "日本語のテキスト", 7, "日本...スト" },
	};
	char name[80], *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = hq_truncate_middle(cases[i].in, cases[i].max);
		assert_string_equal(s, cases[i].out);
		free(s);
	}

	/* Job list names: 50 characters. */
	memset(name, 'x', 60);
	name[0] = 'A';
	name[59] = 'Z';
	name[60] = '\0';
	s = hq_truncate_middle(name, 50);
	/* 24 characters, "...", 23 characters. */
	assert_string_equal(s,
	    "Axxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxZ");
	free(s);
	name[50] = '\0';
	s = hq_truncate_middle(name, 50);
	assert_string_equal(s, name);
	free(s);
}

static void
test_term_state_sgr(void **state)
{
	(void)state;
	assert_string_equal(hq_state_sgr("RUNNING"), "33");
	assert_string_equal(hq_state_sgr("FINISHED"), "32");
	assert_string_equal(hq_state_sgr("FAILED"), "31");
	assert_string_equal(hq_state_sgr("CANCELED"), "35");
	assert_string_equal(hq_state_sgr("WAITING"), "36");
	assert_string_equal(hq_state_sgr("OPENED"), "36");
	assert_string_equal(hq_state_sgr("ABORTED"), "31");
	assert_string_equal(hq_state_sgr("running"), "33");
	assert_null(hq_state_sgr("CONNECTION LOST"));
	assert_null(hq_state_sgr(""));
	assert_null(hq_state_sgr(NULL));
}

static void
test_term_colors_policy(void **state)
{
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	assert_true(hq_term_colors(HQ_COLOR_ALWAYS, f));
	assert_false(hq_term_colors(HQ_COLOR_NEVER, f));
	/* A regular file is not a terminal. */
	assert_false(hq_term_colors(HQ_COLOR_AUTO, f));
	assert_false(hq_term_colors(HQ_COLOR_AUTO, NULL));
	fclose(f);
}

static void
test_term_colors_auto_on_a_tty(void **state)
{
	int master, slave;
	FILE *f;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
		if (master >= 0)
			close(master);
		skip();
	}
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	f = fdopen(slave, "w");
	assert_non_null(f);

	assert_int_equal(setenv("TERM", "xterm", 1), 0);
	assert_int_equal(unsetenv("NO_COLOR"), 0);
	assert_true(hq_term_colors(HQ_COLOR_AUTO, f));
	assert_false(hq_term_colors(HQ_COLOR_NEVER, f));
	assert_int_equal(setenv("NO_COLOR", "1", 1), 0);
	assert_false(hq_term_colors(HQ_COLOR_AUTO, f));
	assert_true(hq_term_colors(HQ_COLOR_ALWAYS, f));
	assert_int_equal(unsetenv("NO_COLOR"), 0);
	assert_int_equal(setenv("TERM", "dumb", 1), 0);
	assert_false(hq_term_colors(HQ_COLOR_AUTO, f));
	assert_int_equal(unsetenv("TERM"), 0);
	assert_false(hq_term_colors(HQ_COLOR_AUTO, f));

	fclose(f);
	close(master);
}

static char *
progress(const struct hq_progress *p, bool colors)
{
	struct hq_buf b;
	char *s;

	hq_buf_init(&b);
	hq_progress_line(&b, p, colors);
	s = calloc(1, b.len + 1);
	assert_non_null(s);
	memcpy(s, b.data, b.len);
	hq_buf_fini(&b);
	return s;
}

static void
test_term_progress_line_plain(void **state)
{
	struct hq_progress p = {
		.jobs_total = 2,
		.jobs_done = 1,
		.tasks_total = 10,
		.running = 2,
		.finished = 5,
		.failed = 1,
		.canceled = 0,
		.aborted = 0,
	};
	char *s;

	(void)state;
	s = progress(&p, false);
	/* failed 1/10 -> 4, finished 5/10 -> 20, running 2/10 -> 8 */
	assert_string_equal(s,
	    "\r\x1b[2K[################################........] "
	    "1/2 jobs, 6/10 tasks (2 RUNNING, 5 FINISHED, 1 FAILED)");
	free(s);

	/* Nothing happened yet: all dots and no parenthesis. */
	memset(&p, 0, sizeof p);
	p.jobs_total = 1;
	p.tasks_total = 3;
	s = progress(&p, false);
	assert_string_equal(s,
	    "\r\x1b[2K[........................................] "
	    "0/1 jobs, 0/3 tasks ");
	free(s);
}

static void
test_term_progress_line_colors(void **state)
{
	struct hq_progress p = {
		.jobs_total = 3,
		.jobs_done = 3,
		.tasks_total = 4,
		.running = 0,
		.finished = 1,
		.failed = 1,
		.canceled = 1,
		.aborted = 1,
	};
	char *s;

	(void)state;
	s = progress(&p, true);
	assert_string_equal(s,
	    "\r\x1b[2K["
	    "\x1b[35m##########\x1b[0m"
	    "\x1b[31m##########\x1b[0m"
	    "\x1b[32m##########\x1b[0m"
	    "\x1b[31m##########\x1b[0m"
	    "] 3/3 jobs, 4/4 tasks ("
	    "1 \x1b[32mFINISHED\x1b[0m, "
	    "1 \x1b[31mFAILED\x1b[0m, "
	    "1 \x1b[35mCANCELED\x1b[0m, "
	    "1 \x1b[31mABORTED\x1b[0m)");
	free(s);
}

static void
test_term_progress_bar_rounding(void **state)
{
	struct hq_progress p;
	struct hq_buf b;

	(void)state;
	/* ceil(1/3 * 40) = 14 for each: 14 + 14 + capped 12. */
	memset(&p, 0, sizeof p);
	p.tasks_total = 3;
	p.canceled = 1;
	p.finished = 1;
	p.running = 1;
	hq_buf_init(&b);
	hq_progress_bar(&b, &p, 40, false);
	assert_int_equal(b.len, 42);
	assert_memory_equal(b.data,
	    "[########################################]", 42);

	/* 1 of a million still shows one '#'. */
	memset(&p, 0, sizeof p);
	p.tasks_total = 1000000;
	p.running = 1;
	hq_buf_reset(&b);
	hq_progress_bar(&b, &p, 10, false);
	assert_int_equal(b.len, 12);
	assert_memory_equal(b.data, "[#.........]", 12);

	/* Huge counts do not overflow: half of UINT64_MAX is 20 of 40. */
	memset(&p, 0, sizeof p);
	p.tasks_total = UINT64_MAX;
	p.finished = UINT64_MAX / 2;
	hq_buf_reset(&b);
	hq_progress_bar(&b, &p, 40, false);
	assert_int_equal(b.len, 42);
	assert_memory_equal(b.data,
	    "[####################....................]", 42);

	/* No tasks: all dots; zero width: just brackets. */
	memset(&p, 0, sizeof p);
	p.running = 5;
	hq_buf_reset(&b);
	hq_progress_bar(&b, &p, 4, true);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "[....]", 6);
	p.tasks_total = 5;
	hq_buf_reset(&b);
	hq_progress_bar(&b, &p, 0, true);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "[]", 2);
	hq_buf_fini(&b);
}

static char *
json_text(json_t *v, bool pretty)
{
	struct hq_buf b;
	char *s;

	hq_buf_init(&b);
	hq_json_format(&b, v, pretty);
	s = calloc(1, b.len + 1);
	assert_non_null(s);
	if (b.len > 0)
		memcpy(s, b.data, b.len);
	hq_buf_fini(&b);
	return s;
}

static void
assert_json(json_t *v, bool pretty, const char *expect)
{
	char *s = json_text(v, pretty);

	assert_string_equal(s, expect);
	free(s);
}

static void
test_json_pretty_nested(void **state)
{
	json_t *v;
	json_error_t err;
	char *mem = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	/* Keys deliberately not sorted: insertion order must be kept. */
	v = json_loads("{\"id\": 1, \"name\": \"echo\", \"is_open\": false,"
		       " \"task_stats\": {\"running\": 0, \"finished\": 1},"
		       " \"cancel_reason\": null, \"tags\": [], \"env\": {},"
		       " \"args\": [\"echo\", [1, [2]], {\"z\": true}]}",
	    0, &err);
	assert_non_null(v);
	f = open_memstream(&mem, &len);
	assert_non_null(f);
	hq_json_print(f, v);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(mem,
	    "{\n"
	    "  \"id\": 1,\n"
	    "  \"name\": \"echo\",\n"
	    "  \"is_open\": false,\n"
	    "  \"task_stats\": {\n"
	    "    \"running\": 0,\n"
	    "    \"finished\": 1\n"
	    "  },\n"
	    "  \"cancel_reason\": null,\n"
	    "  \"tags\": [],\n"
	    "  \"env\": {},\n"
	    "  \"args\": [\n"
	    "    \"echo\",\n"
	    "    [\n"
	    "      1,\n"
	    "      [\n"
	    "        2\n"
	    "      ]\n"
	    "    ],\n"
	    "    {\n"
	    "      \"z\": true\n"
	    "    }\n"
	    "  ]\n"
	    "}\n");
	free(mem);

	assert_json(v, false,
	    "{\"id\":1,\"name\":\"echo\",\"is_open\":false,"
	    "\"task_stats\":{\"running\":0,\"finished\":1},"
	    "\"cancel_reason\":null,\"tags\":[],\"env\":{},"
	    "\"args\":[\"echo\",[1,[2]],{\"z\":true}]}");
	json_decref(v);
}

static void
test_json_top_level_values(void **state)
{
	json_t *v;

	(void)state;
	v = json_array();
	assert_json(v, true, "[]");
	json_decref(v);
	v = json_object();
	assert_json(v, true, "{}");
	json_decref(v);
	assert_json(NULL, true, "null");
	v = json_integer(-9223372036854775807LL - 1);
	assert_json(v, true, "-9223372036854775808");
	json_decref(v);
	v = json_true();
	assert_json(v, false, "true");
	json_decref(v);
}

static void
test_json_floats(void **state)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
		{ 8.0, "8.0" },
		{ 1.5, "1.5" },
		{ 0.1, "0.1" },
		{ 3600.0, "3600.0" },
		{ 0.0, "0.0" },
		{ -0.0, "-0.0" },
		{ -2.25, "-2.25" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 123456789.125, "123456789.125" },
		{ 1e15, "1000000000000000.0" },
		{ 1e16, "1e16" },
		{ 1.2345678901234568e20, "1.2345678901234568e20" },
		{ 0.0001, "0.0001" },
		{ 1.2345e-5, "0.000012345" },
		{ 1e-6, "1e-6" },
		{ 1.5e-7, "1.5e-7" },
		{ 1.5e300, "1.5e300" },
		{ 5e-324, "5e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e308" },
	};
	json_t *v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = json_real(cases[i].v);
		assert_non_null(v);
		assert_json(v, true, cases[i].text);
		json_decref(v);
	}
	/* Inside containers, as durations appear in worker info. */
	v = json_pack("{s:f, s:[f, f]}", "heartbeat_interval", 8.0, "times",
	    0.5, 86400.0);
	assert_json(v, false,
	    "{\"heartbeat_interval\":8.0,\"times\":[0.5,86400.0]}");
	json_decref(v);
}

static void
test_json_strings(void **state)
{
	json_t *v;
	char *s;

	(void)state;
	v = json_pack("{s:s, s:s, s:s%}", "utf8", "žluť 日本 ✓", "esc",
	    "q\"b\\s/t\tn\nr\rb\bf\f\x01\x1f\x7f", "nul", "a\0b", (size_t)3);
	assert_non_null(v);
	s = hq_json_dumps_compact(v);
	assert_string_equal(s,
	    "{\"utf8\":\"žluť 日本 ✓\","
	    "\"esc\":\"q\\\"b\\\\s/t\\tn\\nr\\rb\\bf\\f\\u0001\\u001f\x7f\","
	    "\"nul\":\"a\\u0000b\"}");
	free(s);
	json_decref(v);

	/* Keys are escaped the same way. */
	v = json_object();
	json_object_set_new(v, "a\"b\n", json_integer(1));
	assert_json(v, true, "{\n  \"a\\\"b\\n\": 1\n}");
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_horizontal_right_ids),
		cmocka_unit_test(test_table_horizontal_colors),
		cmocka_unit_test(test_table_print_to_file),
		cmocka_unit_test(test_table_multiline_cells),
		cmocka_unit_test(test_table_multiline_header_and_empty_row),
		cmocka_unit_test(test_table_no_rows),
		cmocka_unit_test(test_table_utf8_names),
		cmocka_unit_test(test_table_ansi_in_cells),
		cmocka_unit_test(test_table_kv),
		cmocka_unit_test(test_table_print_without_header_is_vertical),
		cmocka_unit_test(test_table_display_width),
		cmocka_unit_test(test_table_truncate_middle),
		cmocka_unit_test(test_term_state_sgr),
		cmocka_unit_test(test_term_colors_policy),
		cmocka_unit_test(test_term_colors_auto_on_a_tty),
		cmocka_unit_test(test_term_progress_line_plain),
		cmocka_unit_test(test_term_progress_line_colors),
		cmocka_unit_test(test_term_progress_bar_rounding),
		cmocka_unit_test(test_json_pretty_nested),
		cmocka_unit_test(test_json_top_level_values),
		cmocka_unit_test(test_json_floats),
		cmocka_unit_test(test_json_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
