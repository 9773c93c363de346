/* SPDX-License-Identifier: MIT */
/* Unit tests for the TOML parser (src/common/toml.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/toml.h"
#include "common/util.h"

/* Parse 's' (NUL-terminated) and fail the test on error. */
static struct hq_toml_value *
parse_ok(const char *s)
{
	struct hq_toml_value *root = NULL;
	struct hq_errbuf eb = { { 0 } };
	int rc;

	rc = hq_toml_parse(s, strlen(s), &root, &eb);
	if (rc != 0)
		fail_msg("unexpected error: %s\ninput:\n%s", eb.msg, s);
	assert_non_null(root);
	assert_int_equal(hq_toml_type(root), HQ_TOML_TABLE);
	return root;
}

static const struct hq_toml_value *
get_type(const struct hq_toml_value *t, const char *key, enum hq_toml_type ty)
{
	const struct hq_toml_value *v = hq_toml_get(t, key);

	if (v == NULL)
		fail_msg("key \"%s\" missing", key);
	assert_int_equal(hq_toml_type(v), ty);
	return v;
}

static const char *
get_str(const struct hq_toml_value *t, const char *key)
{
	return hq_toml_string(get_type(t, key, HQ_TOML_STRING));
}

static int64_t
get_int(const struct hq_toml_value *t, const char *key)
{
	return hq_toml_int(get_type(t, key, HQ_TOML_INT));
}

static double
get_float(const struct hq_toml_value *t, const char *key)
{
	return hq_toml_float(get_type(t, key, HQ_TOML_FLOAT));
}

static void
test_toml_empty_and_comments(void **state)
{
	struct hq_toml_value *root;
	struct hq_errbuf eb;

	(void)state;
	root = parse_ok("");
	assert_int_equal(hq_toml_table_len(root), 0);
	assert_int_equal(hq_toml_line(root), 1);
	assert_int_equal(hq_toml_col(root), 1);
	hq_toml_free(root);

	root = parse_ok("# only a comment\n\n   \t\n# another\t\xc3\xa9 one");
	assert_int_equal(hq_toml_table_len(root), 0);
	hq_toml_free(root);

	root = NULL;
	assert_int_equal(hq_toml_parse(NULL, 0, &root, &eb), 0);
	assert_non_null(root);
	hq_toml_free(root);
	hq_toml_free(NULL);
}

static void
test_toml_basic_strings(void **state)
{
	struct hq_toml_value *root;

	(void)state;
	root = parse_ok("a = \"plain\"\n"
			"b = \"\\b\\t\\n\\f\\r\\\"\\\\\"\n"
			"c = \"\\u00e9\\U0001F600\\u20AC\"\n"
			"d = \"\"\n"
			"e = \"tab\tinside # not a comment\"  # comment\n"
			"f = \"caf\xc3\xa9\"\n");
	assert_string_equal(get_str(root, "a"), "plain");
	assert_string_equal(get_str(root, "b"), "\b\t\n\f\r\"\\");
	assert_string_equal(get_str(root, "c"),
	    "\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac");
	assert_string_equal(get_str(root, "d"), "");
	assert_string_equal(get_str(root, "e"), "tab\tinside # not a comment");
	assert_string_equal(get_str(root, "f"), "caf\xc3\xa9");
	hq_toml_free(root);
}

static void
test_toml_literal_strings(void **state)
{
	struct hq_toml_value *root;

	(void)state;
	root = parse_ok("path = 'C:\\Users\\nodejs\\templates'\n"
			"quoted = 'Tom \"Dubs\" Preston-Werner'\n"
			"empty = ''\n");
	assert_string_equal(get_str(root, "path"),
	    "C:\\Users\\nodejs\\templates");
	assert_string_equal(get_str(root, "quoted"),
	    "Tom \"Dubs\" Preston-Werner");
	assert_string_equal(get_str(root, "empty"), "");
	hq_toml_free(root);
}

static void
test_toml_multiline_strings(void **state)
{
	struct hq_toml_value *root;

	(void)state;
	root = parse_ok("a = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n"
			"b = \"\"\"\\\n  The quick \\\n\n   brown \\   \n"
			"  fox.\\\n  \"\"\"\n"
			"c = \"\"\"Here are two quotes: \"\". Simple.\"\"\"\n"
			"d = \"\"\"\"This,\" she said, \"is a quote.\"\"\"\"\n"
			"e = '''\nThe first newline is\ntrimmed in raw "
			"strings.\n   All other \\n whitespace\n   is "
			"preserved.\n'''\n"
			"f = ''''That,' she said, 'is still pointless.''''\n"
			"g = \"\"\"x\\u0041\\ty\"\"\"\n"
			"h = \"\"\"\"\"\"\n"
			"i = \"\"\"a\r\nb\"\"\"\n");
	assert_string_equal(get_str(root, "a"),
	    "Roses are red\nViolets are blue");
	assert_string_equal(get_str(root, "b"), "The quick brown fox.");
	assert_string_equal(get_str(root, "c"),
	    "Here are two quotes: \"\". "
	    "Simple.");
	assert_string_equal(get_str(root, "d"),
	    "\"This,\" she said, \"is a quote.\"");
	assert_string_equal(get_str(root, "e"),
	    "The first newline is\ntrimmed in raw strings.\n   All other "
	    "\\n whitespace\n   is preserved.\n");
	assert_string_equal(get_str(root, "f"),
	    "'That,' she said, 'is still pointless.'");
	assert_string_equal(get_str(root, "g"), "xA\ty");
	assert_string_equal(get_str(root, "h"), "");
	assert_string_equal(get_str(root, "i"), "a\nb");
	hq_toml_free(root);
}

static void
test_toml_integers(void **state)
{
	struct hq_toml_value *root;

	(void)state;
	root =
	    parse_ok("a = 99\nb = +42\nc = 0\nd = -17\ne = 1_000\n"
		     "f = 5_349_221\ng = 0xDEADbeef\nh = 0xdead_beef\n"
		     "i = 0o755\nj = 0b1101_0110\nk = 9223372036854775807\n"
		     "l = -9223372036854775808\nm = -0\nn = 0x7fffffffffffffff"
		     "\no = +0\n");
	assert_int_equal(get_int(root, "a"), 99);
	assert_int_equal(get_int(root, "b"), 42);
	assert_int_equal(get_int(root, "c"), 0);
	assert_int_equal(get_int(root, "d"), -17);
	assert_int_equal(get_int(root, "e"), 1000);
	assert_int_equal(get_int(root, "f"), 5349221);
	assert_int_equal(get_int(root, "g"), 0xdeadbeef);
	assert_int_equal(get_int(root, "h"), 0xdeadbeef);
	assert_int_equal(get_int(root, "i"), 0755);
	assert_int_equal(get_int(root, "j"), 0xd6);
	assert_true(get_int(root, "k") == INT64_MAX);
	assert_true(get_int(root, "l") == INT64_MIN);
	assert_int_equal(get_int(root, "m"), 0);
	assert_true(get_int(root, "n") == INT64_MAX);
	assert_int_equal(get_int(root, "o"), 0);
	hq_toml_free(root);
}

static void
test_toml_floats(void **state)
{
	struct hq_toml_value *root;

	(void)state;
	root = parse_ok("a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\n"
			"e = 1e06\nf = -2E-2\ng = 6.626e-34\n"
			"h = 224_617.445_991_228\ni = inf\nj = +inf\n"
			"k = -inf\nl = nan\nm = -nan\nn = -0.0\no = 0e0\n"
			"p = 1e1_0\n");
	assert_true(get_float(root, "a") == 1.0);
	assert_true(get_float(root, "b") == 3.1415);
	assert_true(get_float(root, "c") == -0.01);
	assert_true(get_float(root, "d") == 5e22);
	assert_true(get_float(root, "e") == 1e6);
	assert_true(get_float(root, "f") == -2e-2);
	assert_true(get_float(root, "g") == 6.626e-34);
	assert_true(get_float(root, "h") == 224617.445991228);
	assert_true(isinf(get_float(root, "i")) && get_float(root, "i") > 0);
	assert_true(isinf(get_float(root, "j")) && get_float(root, "j") > 0);
	assert_true(isinf(get_float(root, "k")) && get_float(root, "k") < 0);
	assert_true(isnan(get_float(root, "l")));
	assert_true(isnan(get_float(root, "m")));
	assert_true(
	    get_float(root, "n") == 0.0 && signbit(get_float(root, "n")));
	assert_true(get_float(root, "o") == 0.0);
	assert_true(get_float(root, "p") == 1e10);
	hq_toml_free(root);
}

static void
test_toml_booleans(void **state)
{
	struct hq_toml_value *root;

	(void)state;
	root = parse_ok("t = true\nf = false\n");
	assert_true(hq_toml_bool(get_type(root, "t", HQ_TOML_BOOL)));
	assert_false(hq_toml_bool(get_type(root, "f", HQ_TOML_BOOL)));
	hq_toml_free(root);
}

static void
test_toml_arrays(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *a, *e;

	(void)state;
	root = parse_ok("ints = [ 1, 2, 3 ]\n"
			"empty = []\n"
			"nested = [ [ 1, 2 ], [\"a\", 'b', \"\"\"c\"\"\"] ]\n"
			"mixed = [ 0.1, \"x\", true, { k = 1 }, [] ]\n"
			"multi = [\n  # leading comment\n  1, # one\n\n"
			"  2,  # two, trailing comma follows\n]\n"
			"spaced = [\n\n]\n");
	a = get_type(root, "ints", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(a), 3);
	assert_int_equal(hq_toml_int(hq_toml_array_get(a, 2)), 3);
	a = get_type(root, "empty", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(a), 0);
	a = get_type(root, "nested", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(a), 2);
	e = hq_toml_array_get(a, 1);
	assert_int_equal(hq_toml_array_len(e), 3);
	assert_string_equal(hq_toml_string(hq_toml_array_get(e, 2)), "c");
	a = get_type(root, "mixed", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(a), 5);
	assert_int_equal(hq_toml_type(hq_toml_array_get(a, 0)), HQ_TOML_FLOAT);
	assert_int_equal(hq_toml_type(hq_toml_array_get(a, 1)), HQ_TOML_STRING);
	assert_int_equal(hq_toml_type(hq_toml_array_get(a, 2)), HQ_TOML_BOOL);
	assert_int_equal(get_int(hq_toml_array_get(a, 3), "k"), 1);
	assert_int_equal(hq_toml_type(hq_toml_array_get(a, 4)), HQ_TOML_ARRAY);
	a = get_type(root, "multi", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(a), 2);
	assert_int_equal(hq_toml_int(hq_toml_array_get(a, 1)), 2);
	assert_int_equal(hq_toml_array_len(
			     get_type(root, "spaced", HQ_TOML_ARRAY)),
	    0);
	hq_toml_free(root);
}

static void
test_toml_inline_tables(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *t, *u;

	(void)state;
	root =
	    parse_ok("name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
		     "point = {x=1,y=2}\n"
		     "empty = {}\n"
		     "animal = { type.name = \"pug\", type.age = 3 }\n"
		     "deep = { a = { b = { c = [1, {d = true}] } } }\n");
	t = get_type(root, "name", HQ_TOML_TABLE);
	assert_int_equal(hq_toml_table_len(t), 2);
	assert_string_equal(hq_toml_table_key(t, 0), "first");
	assert_string_equal(get_str(t, "last"), "Preston-Werner");
	t = get_type(root, "point", HQ_TOML_TABLE);
	assert_int_equal(get_int(t, "y"), 2);
	assert_int_equal(hq_toml_table_len(
			     get_type(root, "empty", HQ_TOML_TABLE)),
	    0);
	t = get_type(get_type(root, "animal", HQ_TOML_TABLE), "type",
	    HQ_TOML_TABLE);
	assert_string_equal(get_str(t, "name"), "pug");
	assert_int_equal(get_int(t, "age"), 3);
	t = hq_toml_get(hq_toml_get(hq_toml_get(root, "deep"), "a"), "b");
	u = get_type(t, "c", HQ_TOML_ARRAY);
	assert_true(hq_toml_bool(hq_toml_get(hq_toml_array_get(u, 1), "d")));
	hq_toml_free(root);
}

static void
test_toml_keys(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *t;

	(void)state;
	root = parse_ok("bare_key-1 = 1\n"
			"\"127.0.0.1\" = 2\n"
			"\"quoted \\u00e9\" = 3\n"
			"'key2' = 4\n"
			"\"\" = 5\n"
			"1234 = 6\n"
			"3.14 = 7\n"
			"site.\"google.com\" = true\n"
			"a . b\t.  c = 8\n"
			"a.d = 9\n");
	assert_int_equal(get_int(root, "bare_key-1"), 1);
	assert_int_equal(get_int(root, "127.0.0.1"), 2);
	assert_int_equal(get_int(root, "quoted \xc3\xa9"), 3);
	assert_int_equal(get_int(root, "key2"), 4);
	assert_int_equal(get_int(root, ""), 5);
	assert_int_equal(get_int(root, "1234"), 6);
	assert_int_equal(get_int(get_type(root, "3", HQ_TOML_TABLE), "14"), 7);
	t = get_type(root, "site", HQ_TOML_TABLE);
	assert_true(hq_toml_bool(hq_toml_get(t, "google.com")));
	t = get_type(root, "a", HQ_TOML_TABLE);
	assert_int_equal(hq_toml_table_len(t), 2);
	assert_int_equal(get_int(get_type(t, "b", HQ_TOML_TABLE), "c"), 8);
	assert_int_equal(get_int(t, "d"), 9);
	assert_null(hq_toml_get(root, "missing"));
	assert_null(hq_toml_get(NULL, "a"));
	assert_null(hq_toml_get(hq_toml_get(root, "bare_key-1"), "a"));
	hq_toml_free(root);
}

static void
test_toml_tables(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *t;

	(void)state;
	root = parse_ok("top = 0\n"
			"[table-1]\nkey1 = \"some string\"\nkey2 = 123\n"
			"[ dog . \"tater.man\" ]\ntype.name = \"pug\"\n"
			"[x.y.z.w]\n"
			"[x]\nv = 1\n"
			"[fruit]\napple.color = \"red\"\n"
			"apple.taste.sweet = true\n"
			"[fruit.apple.texture]\nsmooth = true\n"
			"[a.b.c]\n"
			"[a]\nb.d = 2\n"
			"[a.b.c.e]\n");
	assert_int_equal(get_int(root, "top"), 0);
	t = get_type(root, "table-1", HQ_TOML_TABLE);
	assert_int_equal(get_int(t, "key2"), 123);
	assert_int_equal(hq_toml_line(t), 2);
	assert_int_equal(hq_toml_col(t), 1);
	t = hq_toml_get(hq_toml_get(root, "dog"), "tater.man");
	assert_string_equal(get_str(get_type(t, "type", HQ_TOML_TABLE), "name"),
	    "pug");
	t = get_type(root, "x", HQ_TOML_TABLE);
	assert_int_equal(get_int(t, "v"), 1);
	/* [x] came after [x.y.z.w]: it now points at its own header. */
	assert_int_equal(hq_toml_line(t), 8);
	assert_non_null(
	    hq_toml_get(hq_toml_get(hq_toml_get(t, "y"), "z"), "w"));
	t = hq_toml_get(hq_toml_get(root, "fruit"), "apple");
	assert_string_equal(get_str(t, "color"), "red");
	assert_true(
	    hq_toml_bool(hq_toml_get(hq_toml_get(t, "taste"), "sweet")));
	assert_true(
	    hq_toml_bool(hq_toml_get(hq_toml_get(t, "texture"), "smooth")));
	t = hq_toml_get(hq_toml_get(root, "a"), "b");
	assert_int_equal(get_int(t, "d"), 2);
	assert_non_null(hq_toml_get(t, "c"));
	hq_toml_free(root);
}

static void
test_toml_array_of_tables(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *a, *t, *r;

	(void)state;
	root = parse_ok("[[task]]\nid = 1\n"
			"[[task.request]]\nn_nodes = 1\n"
			"[[task.request]]\nn_nodes = 2\n"
			"[task.extra]\nx = 1\n"
			"[[task]]\nid = 2\n"
			"[[task]]\n"
			"[[task.request]]\nn_nodes = 3\n");
	a = get_type(root, "task", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(a), 3);
	t = hq_toml_array_get(a, 0);
	assert_int_equal(get_int(t, "id"), 1);
	r = get_type(t, "request", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(r), 2);
	assert_int_equal(get_int(hq_toml_array_get(r, 1), "n_nodes"), 2);
	assert_int_equal(hq_toml_line(hq_toml_array_get(r, 1)), 5);
	assert_int_equal(get_int(hq_toml_get(t, "extra"), "x"), 1);
	t = hq_toml_array_get(a, 1);
	assert_int_equal(get_int(t, "id"), 2);
	assert_null(hq_toml_get(t, "request"));
	t = hq_toml_array_get(a, 2);
	assert_int_equal(hq_toml_table_len(t), 1);
	r = get_type(t, "request", HQ_TOML_ARRAY);
	assert_int_equal(get_int(hq_toml_array_get(r, 0), "n_nodes"), 3);
	hq_toml_free(root);
}

static void
test_toml_key_order(void **state)
{
	static const char *const keys[] = { "zeta", "alpha", "mid", "beta",
		"tbl" };
	struct hq_toml_value *root;
	size_t i;

	(void)state;
	root = parse_ok("zeta = 1\nalpha = 2\nmid.x = 3\nbeta = 4\n[tbl]\n");
	assert_int_equal(hq_toml_table_len(root), HQ_ARRAY_LEN(keys));
	for (i = 0; i < HQ_ARRAY_LEN(keys); i++) {
		assert_string_equal(hq_toml_table_key(root, i), keys[i]);
		assert_ptr_equal(hq_toml_table_value(root, i),
		    hq_toml_get(root, keys[i]));
	}
	hq_toml_free(root);
}

static void
test_toml_positions(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *v;

	(void)state;
	/* Columns count characters: "é" and "€" are one column each. */
	root = parse_ok("\"\xc3\xa9\xe2\x82\xac\" = \"x\"\n"
			"  b = [1,\n  2]\n"
			"\tc = { d = 1.5 }\n");
	v = hq_toml_get(root, "\xc3\xa9\xe2\x82\xac");
	assert_non_null(v);
	assert_int_equal(hq_toml_line(v), 1);
	assert_int_equal(hq_toml_col(v), 8);
	v = hq_toml_get(root, "b");
	assert_int_equal(hq_toml_line(v), 2);
	assert_int_equal(hq_toml_col(v), 7);
	v = hq_toml_array_get(v, 1);
	assert_int_equal(hq_toml_line(v), 3);
	assert_int_equal(hq_toml_col(v), 3);
	v = hq_toml_get(hq_toml_get(root, "c"), "d");
	assert_int_equal(hq_toml_line(v), 4);
	assert_int_equal(hq_toml_col(v), 12);
	hq_toml_free(root);
}

static void
test_toml_crlf_and_bom(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *v;

	(void)state;
	root = parse_ok("\xef\xbb\xbf"
			"a = 1\r\n# c\r\n[t]\r\nb = [\r\n 2,\r\n]\r\n"
			"s = '''\r\nx\r\ny'''\r\n");
	assert_int_equal(get_int(root, "a"), 1);
	v = hq_toml_get(root, "a");
	assert_int_equal(hq_toml_col(v), 5);
	v = hq_toml_get(root, "t");
	assert_int_equal(hq_toml_line(v), 3);
	assert_int_equal(hq_toml_array_len(hq_toml_get(v, "b")), 1);
	assert_string_equal(get_str(v, "s"), "x\ny");
	hq_toml_free(root);
}

static void
test_toml_large_table(void **state)
{
	struct hq_toml_value *root = NULL;
	struct hq_errbuf eb;
	char *text, key[32];
	size_t len = 0, cap = 64 * 1000;
	int i, n = 1000;

	(void)state;
	text = hq_xmalloc(cap);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "k%d = %d\n", i,
		    i * 3);
	assert_int_equal(hq_toml_parse(text, len, &root, &eb), 0);
	assert_int_equal(hq_toml_table_len(root), n);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(get_int(root, key), i * 3);
		assert_string_equal(hq_toml_table_key(root, (size_t)i), key);
	}
	assert_null(hq_toml_get(root, "k1000"));
	hq_toml_free(root);

	/* A duplicate is still found once the table is indexed. */
	len += (size_t)snprintf(text + len, cap - len, "k999 = 0\n");
	root = NULL;
	assert_int_equal(hq_toml_parse(text, len, &root, &eb), HQ_EINVAL);
	assert_null(root);
	assert_string_equal(eb.msg,
	    "line 1001, column 1: duplicate key "
	    "\"k999\"");
	free(text);
}

static void
test_toml_nesting_limit(void **state)
{
	struct hq_toml_value *root = NULL;
	struct hq_errbuf eb;
	char text[2 * HQ_TOML_MAX_DEPTH + 16];
	size_t len;
	int i;

	(void)state;
	/* 'a' itself is level 1: HQ_TOML_MAX_DEPTH levels are fine. */
	len = (size_t)snprintf(text, sizeof text, "a = ");
	for (i = 0; i < HQ_TOML_MAX_DEPTH; i++)
		text[len++] = '[';
	for (i = 0; i < HQ_TOML_MAX_DEPTH; i++)
		text[len++] = ']';
	assert_int_equal(hq_toml_parse(text, len, &root, &eb), 0);
	hq_toml_free(root);

	root = NULL;
	len = (size_t)snprintf(text, sizeof text, "a = ");
	for (i = 0; i < HQ_TOML_MAX_DEPTH + 1; i++)
		text[len++] = '[';
	assert_int_equal(hq_toml_parse(text, len, &root, &eb), HQ_EINVAL);
	assert_null(root);
	assert_string_equal(eb.msg,
	    "line 1, column 133: nesting too deep "
	    "(more than 128 levels)");
}

static char *
read_jobfile(const char *name, size_t *lenp)
{
	const char *dir = getenv("HQ_TEST_DATA");
	char path[512];
	FILE *f;
	char *buf;
	size_t n;

	if (dir == NULL)
		dir = "tests/data";
	snprintf(path, sizeof path, "%s/jobfiles/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (set HQ_TEST_DATA)", path);
	buf = hq_xmalloc(64 * 1024);
	n = fread(buf, 1, 64 * 1024, f);
	fclose(f);
	*lenp = n;
	return buf;
}

static struct hq_toml_value *
parse_jobfile(const char *name)
{
	struct hq_toml_value *root = NULL;
	struct hq_errbuf eb;
	size_t len;
	char *text = read_jobfile(name, &len);

	if (hq_toml_parse(text, len, &root, &eb) != 0)
		fail_msg("%s: %s", name, eb.msg);
	free(text);
	return root;
}

static void
test_toml_jobfile_tasks(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *tasks, *t, *v, *req, *res;

	(void)state;
	root = parse_jobfile("tasks.toml");
	assert_string_equal(get_str(root, "name"), "pipeline");
	assert_int_equal(get_int(root, "max_fails"), 2);
	assert_string_equal(get_str(root, "stream"), "logs/%{JOB_ID}");
	tasks = get_type(root, "task", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(tasks), 3);

	t = hq_toml_array_get(tasks, 0);
	assert_int_equal(hq_toml_line(t), 6);
	assert_int_equal(get_int(t, "id"), 1);
	v = get_type(t, "command", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(v), 3);
	assert_string_equal(hq_toml_string(hq_toml_array_get(v, 0)),
	    "./prepare.sh");
	v = get_type(t, "env", HQ_TOML_TABLE);
	assert_string_equal(hq_toml_table_key(v, 1), "MY VAR");
	assert_string_equal(get_str(v, "OMP_NUM_THREADS"), "4");
	v = get_type(t, "stdout", HQ_TOML_TABLE);
	assert_string_equal(get_str(v, "on_close"), "rm-if-finished");
	assert_string_equal(get_str(t, "stderr"), "none");
	assert_int_equal(get_int(t, "priority"), -1);
	req = get_type(t, "request", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(req), 2);
	res = get_type(hq_toml_array_get(req, 0), "resources", HQ_TOML_TABLE);
	assert_string_equal(hq_toml_table_key(res, 0), "cpus");
	assert_string_equal(get_str(res, "cpus"), "4 compact!");
	assert_int_equal(get_int(res, "gpus/nvidia"), 2);
	assert_true(get_float(res, "mem") == 1.5);
	assert_string_equal(get_str(hq_toml_array_get(req, 0), "time_request"),
	    "1h");
	assert_int_equal(get_int(hq_toml_array_get(req, 1), "n_nodes"), 0);

	t = hq_toml_array_get(tasks, 1);
	v = get_type(t, "deps", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_int(hq_toml_array_get(v, 0)), 1);
	assert_string_equal(get_str(t, "crash_limit"), "never-restart");

	t = hq_toml_array_get(tasks, 2);
	v = get_type(t, "command", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(v), 3);
	assert_string_equal(hq_toml_string(hq_toml_array_get(v, 2)),
	    "--config=C:\\cfg\\model.yaml");
	assert_true(hq_toml_bool(get_type(t, "task_dir", HQ_TOML_BOOL)));
	hq_toml_free(root);
}

static void
test_toml_jobfile_array(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *arr, *v;

	(void)state;
	root = parse_jobfile("array.toml");
	assert_string_equal(get_str(root, "name"), "sweep");
	arr = get_type(root, "array", HQ_TOML_TABLE);
	assert_string_equal(get_str(arr, "ids"), "1-10");
	v = get_type(arr, "entries", HQ_TOML_ARRAY);
	assert_int_equal(hq_toml_array_len(v), 10);
	assert_string_equal(hq_toml_string(hq_toml_array_get(v, 9)), "kappa");
	v = get_type(arr, "env", HQ_TOML_TABLE);
	assert_string_equal(get_str(v, "RUN_MODE"), "batch");
	assert_string_equal(get_str(v, "LEVEL"), "3");
	assert_int_equal(get_int(arr, "crash_limit"), 3);
	v = get_type(arr, "request", HQ_TOML_ARRAY);
	v = get_type(hq_toml_array_get(v, 0), "resources", HQ_TOML_TABLE);
	assert_string_equal(get_str(v, "cpus"), "all");
	hq_toml_free(root);
}

static void
test_toml_jobfile_multinode(void **state)
{
	struct hq_toml_value *root;
	const struct hq_toml_value *t, *r;

	(void)state;
	root = parse_jobfile("multinode.toml");
	assert_false(hq_toml_bool(get_type(root, "data_layer", HQ_TOML_BOOL)));
	t = hq_toml_array_get(get_type(root, "task", HQ_TOML_ARRAY), 0);
	assert_string_equal(hq_toml_string(
				hq_toml_array_get(hq_toml_get(t, "command"),
				    3)),
	    "1_000");
	r = hq_toml_array_get(get_type(t, "request", HQ_TOML_ARRAY), 0);
	assert_int_equal(get_int(r, "n_nodes"), 4);
	assert_true(get_float(r, "weight") == 0.5);
	hq_toml_free(root);
}

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int line;
	int col;
	const char *msg; /* must appear after "line L, column C: " */
};

static const struct bad_case bad_cases[] = {
	/* keys and structure */
	{ "= 1\n", 0, 1, 1, "expected a key, found '='" },
	{ "a 1\n", 0, 1, 3, "expected '=' after key, found '1'" },
	{ "a\n", 0, 1, 2, "expected '=' after key, found end of line" },
	{ "a =\n", 0, 1, 4, "expected a value, found end of line" },
	{ "a = ", 0, 1, 5, "expected a value, found end of input" },
	{ "a = 1 b = 2\n", 0, 1, 7,
	    "expected end of line after value, found 'b'" },
	{ "a.  = 1\n", 0, 1, 5, "expected a key, found '='" },
	{ "\"\"\"k\"\"\" = 1\n", 0, 1, 1, "multi-line string cannot be" },
	{ "a = \"x\" # ok\nb = 1\nb = 2\n", 0, 3, 1, "duplicate key \"b\"" },
	{ "name = 'x'\nname = 'y'\n", 0, 2, 1, "duplicate key \"name\"" },
	{ "a.b = 1\na.b = 2\n", 0, 2, 3, "duplicate key \"a.b\"" },
	{ "a = 1\na.b = 2\n", 0, 2, 1,
	    "key \"a\" is already defined as integer" },
	{ "\"a\" = 1\n'a' = 2\n", 0, 2, 1, "duplicate key \"a\"" },
	{ "x = hello\n", 0, 1, 5,
	    "invalid value \"hello\" (strings must be quoted)" },
	{ "x = True\n", 0, 1, 5, "invalid value \"True\"" },
	/* tables */
	{ "[a]\n[a]\n", 0, 2, 2, "table [a] is defined twice" },
	{ "[a]\nb = 1\n[a.b]\n", 0, 3, 4,
	    "key \"a.b\" is already defined as integer" },
	{ "[a.b]\n[a]\n[a]\n", 0, 3, 2, "table [a] is defined twice" },
	{ "[]\n", 0, 1, 2, "expected a key, found ']'" },
	{ "[a\n", 0, 1, 3, "expected ']' after table name, found end of line" },
	{ "[[a]\n", 0, 1, 5, "expected ']]' after array of tables name" },
	{ "[a] x = 1\n", 0, 1, 5,
	    "expected end of line after table header, found 'x'" },
	{ "[fruit]\napple.color = 'red'\n[fruit.apple]\n", 0, 3, 8,
	    "table [fruit.apple] is already defined by dotted keys" },
	{ "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 0, 4, 3,
	    "cannot use dotted keys to extend table \"b.c\"" },
	{ "a = {}\n[a.b]\n", 0, 2, 2, "cannot extend inline table \"a\"" },
	{ "a = {}\n[a]\n", 0, 2, 2, "cannot extend inline table \"a\"" },
	{ "a = { b = 1 }\na.c = 2\n", 0, 2, 1,
	    "cannot extend inline table \"a\"" },
	{ "a = { b = { c = 1 }, b.d = 2 }\n", 0, 1, 22,
	    "cannot extend inline table \"b\"" },
	{ "fruit = []\n[[fruit]]\n", 0, 2, 3,
	    "cannot extend array \"fruit\": it is not an array of tables" },
	{ "a = [{}]\n[a.b]\n", 0, 2, 2, "cannot extend array \"a\"" },
	{ "[[albums.songs]]\n[[albums]]\n", 0, 2, 3,
	    "key \"albums\" is already defined as table" },
	{ "[[a]]\n[a]\n", 0, 2, 2, "key \"a\" is already defined as array" },
	{ "[[t.arr]]\n[t]\narr.val = 1\n", 0, 3, 1,
	    "key \"arr\" is already defined as array" },
	{ "a.b = 1\n[a]\n", 0, 2, 2,
	    "table [a] is already defined by dotted keys" },
	{ "[a.b.c]\n[a]\nb.d = 2\n[a.b]\n", 0, 4, 4,
	    "table [a.b] is already defined by dotted keys" },
	{ "a = 1\n[a.b]\n", 0, 2, 2,
	    "key \"a\" is already defined as integer" },
	{ "a = 'x'\n[[a]]\n", 0, 2, 3,
	    "key \"a\" is already defined as string" },
	/* inline tables and arrays */
	{ "a = { b = 1, }\n", 0, 1, 14, "trailing comma is not allowed" },
	{ "a = { b = 1\n}\n", 0, 1, 12, "newline is not allowed" },
	{ "a = {\nb = 1 }\n", 0, 1, 6, "newline is not allowed" },
	{ "a = { b = 1", 0, 1, 5, "unterminated inline table" },
	{ "a = { b = 1 c = 2 }\n", 0, 1, 13,
	    "expected ',' or '}' in inline table, found 'c'" },
	{ "a = { b = 1, b = 2 }\n", 0, 1, 14, "duplicate key \"b\"" },
	{ "a = [1 2]\n", 0, 1, 8, "expected ',' or ']' in array, found '2'" },
	{ "a = [1,,2]\n", 0, 1, 8, "expected a value, found ','" },
	{ "a = [,]\n", 0, 1, 6, "expected a value, found ','" },
	{ "a = [1,\n2,\n", 0, 1, 5, "unterminated array" },
	{ "a = [\n  1, # \x01\n]\n", 0, 2, 8,
	    "control character U+0001 is not allowed in a comment" },
	/* strings */
	{ "a = \"abc\n", 0, 1, 5, "unterminated string" },
	{ "a = \"abc", 0, 1, 5, "unterminated string" },
	{ "a = 'abc\n", 0, 1, 5, "unterminated string" },
	{ "a = \"\"\"abc\n", 0, 1, 5, "unterminated multi-line string" },
	{ "a = '''abc''", 0, 1, 5, "unterminated multi-line string" },
	{ "a = \"x\\qy\"\n", 0, 1, 7, "invalid escape sequence \"\\q\"" },
	{ "a = \"x\\ y\"\n", 0, 1, 7,
	    "invalid escape sequence: '\\' followed "
	    "by ' '" },
	{ "a = \"\\e\"\n", 0, 1, 6, "invalid escape sequence \"\\e\"" },
	{ "a = \"\\u12\"\n", 0, 1, 6, "\\u needs 4 hexadecimal digits" },
	{ "a = \"\\U0000004\"\n", 0, 1, 6, "\\U needs 8 hexadecimal digits" },
	{ "a = \"\\uD800\"\n", 0, 1, 6, "U+D800 is not a Unicode scalar" },
	{ "a = \"\\U00110000\"\n", 0, 1, 6, "U+110000 is not a Unicode" },
	{ "a = \"\\u0000\"\n", 0, 1, 6, "NUL characters are not allowed" },
	{ "a = \"x\x01\"\n", 0, 1, 7,
	    "control character U+0001 is not allowed in a string" },
	{ "a = 'x\x7f'\n", 0, 1, 7, "control character U+007F" },
	{ "a = \"\"\"x\\ y\"\"\"\n", 0, 1, 9, "invalid escape sequence" },
	{ "a = \"\"\"x\"\"\"\"\"\"\n", 0, 1, 14,
	    "expected end of line after value, found '\"'" },
	{ "a = '''x\x0cy'''\n", 0, 1, 9, "control character U+000C" },
	{ "\"a\xc3\xa9\\x\" = 1\n", 0, 1, 4,
	    "invalid escape sequence \"\\x\"" },
	{ "a = \"x\" \"y\"\n", 0, 1, 9, "expected end of line after value" },
	/* numbers */
	{ "a = 012\n", 0, 1, 5, "leading zeros are not allowed" },
	{ "a = 0_1\n", 0, 1, 5, "leading zeros are not allowed" },
	{ "a = 1__2\n", 0, 1, 5, "'_' must be between digits" },
	{ "a = 1_\n", 0, 1, 5, "'_' must be between digits" },
	{ "a = _1\n", 0, 1, 5, "invalid value \"_1\"" },
	{ "a = 1_.5\n", 0, 1, 5, "'_' must be between digits" },
	{ "a = 9223372036854775808\n", 0, 1, 5, "does not fit in 64 bits" },
	{ "a = -9223372036854775809\n", 0, 1, 5, "does not fit in 64 bits" },
	{ "a = 0xffffffffffffffff\n", 0, 1, 5, "does not fit in 64 bits" },
	{ "a = +0x10\n", 0, 1, 5, "a sign is not allowed with 0x" },
	{ "a = 0x\n", 0, 1, 5, "invalid number \"0x\"" },
	{ "a = 0b102\n", 0, 1, 5, "invalid number \"0b102\"" },
	{ "a = 0X10\n", 0, 1, 5, "invalid number \"0X10\"" },
	{ "a = 1.\n", 0, 1, 5, "expected a digit after '.'" },
	{ "a = .5\n", 0, 1, 5, "invalid value \".5\"" },
	{ "a = 1.5.2\n", 0, 1, 5, "invalid number \"1.5.2\"" },
	{ "a = 1e\n", 0, 1, 5, "expected digits in the exponent" },
	{ "a = 1e+\n", 0, 1, 5, "expected digits in the exponent" },
	{ "a = 1e999\n", 0, 1, 5, "float \"1e999\" is out of range" },
	{ "a = infinity\n", 0, 1, 5, "invalid value \"infinity\"" },
	{ "a = 1979-05-27\n", 0, 1, 5,
	    "date and time values are not supported" },
	{ "a = 1979-05-27T07:32:00Z\n", 0, 1, 5,
	    "date and time values are not supported" },
	{ "a = 07:32:00\n", 0, 1, 5, "date and time values are not supported" },
	{ "a = [1979-05-27 07:32:00]\n", 0, 1, 6,
	    "date and time values are not supported" },
	/* encoding and control characters */
	{ "a = 'x'\nb = '\xff'\n", 0, 2, 6,
	    "invalid UTF-8 byte sequence (byte 0xFF)" },
	{ "a = '\xc3'\n", 0, 1, 6, "invalid UTF-8" },
	{ "# \xc0\xaf overlong\n", 0, 1, 3, "invalid UTF-8" },
	{ "a = '\xed\xa0\x80'\n", 0, 1, 6, "invalid UTF-8" },
	{ "a = '\xf4\x90\x80\x80'\n", 0, 1, 6, "invalid UTF-8" },
	{ "\xc3\xa9\xc3\xa9 = 1\n", 0, 1, 1, "expected a key, found U+00E9" },
	{ "a = 1\rb = 2\n", 0, 1, 6,
	    "expected end of line after value, found U+000D" },
	{ "a = 1\x00\n", 6, 1, 6,
	    "expected end of line after value, found U+0000" },
	{ "a = '\x00'\n", 8, 1, 6, "control character U+0000" },
	{ "# a \x7f\n", 0, 1, 5, "control character U+007F" },
	{ "# a\rb\n", 0, 1, 4, "control character U+000D" },
	{ "x = 1\n\xe2\x82\xac = 1\n", 0, 2, 1,
	    "expected a key, found U+20AC" },
	{ "k = \"\xe2\x82\xac\xe2\x82\xac\\z\"\n", 0, 1, 8,
	    "invalid escape sequence \"\\z\"" },
};

static void
test_toml_invalid(void **state)
{
	struct hq_toml_value *root;
	struct hq_errbuf eb;
	char prefix[64];
	size_t i, len;
	int rc;

	(void)state;
	for (i = 0; i < HQ_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];

		len = bc->len != 0 ? bc->len : strlen(bc->text);
		root = NULL;
		memset(&eb, 0, sizeof eb);
		rc = hq_toml_parse(bc->text, len, &root, &eb);
		if (rc != HQ_EINVAL)
			fail_msg("case %zu: rc %d for:\n%s", i, rc, bc->text);
		assert_null(root);
		snprintf(prefix, sizeof prefix,
		    "line %d, column %d: ", bc->line, bc->col);
		if (strncmp(eb.msg, prefix, strlen(prefix)) != 0 ||
		    strstr(eb.msg + strlen(prefix), bc->msg) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s%s\"", i,
			    eb.msg, prefix, bc->msg);
	}
}

static void
test_toml_long_key_in_message(void **state)
{
	struct hq_toml_value *root = NULL;
	struct hq_errbuf eb;
	char text[1024];
	size_t len = 0;
	int i;

	(void)state;
	/* Two lines "kkk...k = 1": the message quotes a shortened key. */
	for (i = 0; i < 2; i++) {
		memset(text + len, 'k', 400);
		len += 400;
		memcpy(text + len, " = 1\n", 5);
		len += 5;
	}
	assert_int_equal(hq_toml_parse(text, len, &root, &eb), HQ_EINVAL);
	assert_null(root);
	assert_true(
	    strncmp(eb.msg, "line 2, column 1: duplicate key \"kkk", 35) == 0);
	assert_non_null(strstr(eb.msg, "k...\""));
	assert_true(strlen(eb.msg) < 120);
}

static void
test_toml_type_names(void **state)
{
	(void)state;
	assert_string_equal(hq_toml_type_name(HQ_TOML_STRING), "string");
	assert_string_equal(hq_toml_type_name(HQ_TOML_INT), "integer");
	assert_string_equal(hq_toml_type_name(HQ_TOML_FLOAT), "float");
	assert_string_equal(hq_toml_type_name(HQ_TOML_BOOL), "boolean");
	assert_string_equal(hq_toml_type_name(HQ_TOML_ARRAY), "array");
	assert_string_equal(hq_toml_type_name(HQ_TOML_TABLE), "table");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toml_empty_and_comments),
		cmocka_unit_test(test_toml_basic_strings),
		cmocka_unit_test(test_toml_literal_strings),
		cmocka_unit_test(test_toml_multiline_strings),
		cmocka_unit_test(test_toml_integers),
		cmocka_unit_test(test_toml_floats),
		cmocka_unit_test(test_toml_booleans),
		cmocka_unit_test(test_toml_arrays),
		cmocka_unit_test(test_toml_inline_tables),
		cmocka_unit_test(test_toml_keys),
		cmocka_unit_test(test_toml_tables),
		cmocka_unit_test(test_toml_array_of_tables),
		cmocka_unit_test(test_toml_key_order),
		cmocka_unit_test(test_toml_positions),
		cmocka_unit_test(test_toml_crlf_and_bom),
		cmocka_unit_test(test_toml_large_table),
		cmocka_unit_test(test_toml_nesting_limit),
		cmocka_unit_test(test_toml_jobfile_tasks),
		cmocka_unit_test(test_toml_jobfile_array),
		cmocka_unit_test(test_toml_jobfile_multinode),
		cmocka_unit_test(test_toml_invalid),
		cmocka_unit_test(test_toml_long_key_in_message),
		cmocka_unit_test(test_toml_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
