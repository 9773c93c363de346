/* SPDX-License-Identifier: MIT */
/*
 * serde_json-compatible JSON writer over jansson trees. jansson's own
 * json_dumps differs in small ways that users' scripts can see: it
 * prints reals with %.17g (0.1 -> 0.10000000000000001, 1e-07), escapes
 * with upper-case hex and separates with ", " in compact mode.
 */
#include "cli/jsonout.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"

/* Deeper than anything hq builds; catches a cyclic tree. */
#define JSONOUT_MAX_DEPTH 10000

static void
jsonout_indent(struct hq_buf *out, size_t depth)
{
	size_t n = depth * 2;

	if (n == 0)
		return;
	memset(hq_buf_reserve(out, n), ' ', n);
	out->len += n;
}

static void
jsonout_string(struct hq_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	unsigned char c;
	char esc[6];

	hq_buf_append(out, "\"", 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		hq_buf_append(out, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"':
			hq_buf_append(out, "\\\"", 2);
			break;
		case '\\':
			hq_buf_append(out, "\\\\", 2);
			break;
		case '\b':
			hq_buf_append(out, "\\b", 2);
			break;
		case '\f':
			hq_buf_append(out, "\\f", 2);
			break;
		case '\n':
			hq_buf_append(out, "\\n", 2);
			break;
		case '\r':
			hq_buf_append(out, "\\r", 2);
			break;
		case '\t':
			hq_buf_append(out, "\\t", 2);
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			hq_buf_append(out, esc, sizeof esc);
			break;
		}
	}
	hq_buf_append(out, s + start, len - start);
	hq_buf_append(out, "\"", 1);
}

/*
 * The shortest decimal digits that read back as 'v' (finite, > 0 or
 * +0), and the decimal exponent of the first digit: v = d.ddd x 10^exp.
 * Returns the number of digits written to 'digits' (at most 17).
 */
static size_t
jsonout_shortest(double v, char *digits, int *exp10)
{
	char buf[40], *p, *e;
	size_t n = 0;
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	e = strchr(buf, 'e');
	HQ_ASSERT(e != NULL);
	for (p = buf; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[n++] = *p;
	*exp10 = atoi(e + 1);
	while (n > 1 && digits[n - 1] == '0')
		n--;
	return n;
}

/* A double in ryu's notation, which serde_json uses. */
static void
jsonout_real(struct hq_buf *out, double v)
{
	char digits[24];
	size_t n, i;
	int e10, kk, k;

	if (!isfinite(v)) {
		hq_buf_append_str(out, "null");
		return;
	}
	if (signbit(v)) {
		hq_buf_append(out, "-", 1);
		v = -v;
	}
	n = jsonout_shortest(v, digits, &e10);
	kk = e10 + 1;	 /* position of the decimal point */
	k = kk - (int)n; /* exponent of the last digit */

	if (k >= 0 && kk <= 16) {
		/* 1234e7 -> 12340000000.0 */
		hq_buf_append(out, digits, n);
		for (i = 0; i < (size_t)k; i++)
			hq_buf_append(out, "0", 1);
		hq_buf_append(out, ".0", 2);
	} else if (kk > 0 && kk <= 16) {
		/* 1234e-2 -> 12.34 */
		hq_buf_append(out, digits, (size_t)kk);
		hq_buf_append(out, ".", 1);
		hq_buf_append(out, digits + kk, n - (size_t)kk);
	} else if (kk > -5 && kk <= 0) {
		/* 1234e-6 -> 0.001234 */
		hq_buf_append(out, "0.", 2);
		for (i = 0; i < (size_t)-kk; i++)
			hq_buf_append(out, "0", 1);
		hq_buf_append(out, digits, n);
	} else if (n == 1) {
		/* 1e30 */
		hq_buf_append(out, digits, 1);
		hq_buf_printf(out, "e%d", kk - 1);
	} else {
		/* 1234e30 -> 1.234e33 */
		hq_buf_append(out, digits, 1);
		hq_buf_append(out, ".", 1);
		hq_buf_append(out, digits + 1, n - 1);
		hq_buf_printf(out, "e%d", kk - 1);
	}
}

static void
jsonout_value(struct hq_buf *out, json_t *v, bool pretty, size_t depth)
{
	size_t i, n;
	void *it;

	HQ_ASSERT(depth < JSONOUT_MAX_DEPTH);
	switch (v != NULL ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL:
		hq_buf_append_str(out, "null");
		break;
	case JSON_TRUE:
		hq_buf_append_str(out, "true");
		break;
	case JSON_FALSE:
		hq_buf_append_str(out, "false");
		break;
	case JSON_INTEGER:
		hq_buf_printf(out, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		break;
	case JSON_REAL:
		jsonout_real(out, json_real_value(v));
		break;
	case JSON_STRING:
		jsonout_string(out, json_string_value(v),
		    json_string_length(v));
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		hq_buf_append(out, "[", 1);
		for (i = 0; i < n; i++) {
			if (i > 0)
				hq_buf_append(out, ",", 1);
			if (pretty) {
				hq_buf_append(out, "\n", 1);
				jsonout_indent(out, depth + 1);
			}
			jsonout_value(out, json_array_get(v, i), pretty,
			    depth + 1);
		}
		if (pretty && n > 0) {
			hq_buf_append(out, "\n", 1);
			jsonout_indent(out, depth);
		}
		hq_buf_append(out, "]", 1);
		break;
	case JSON_OBJECT:
		hq_buf_append(out, "{", 1);
		for (it = json_object_iter(v), i = 0; it != NULL;
		     it = json_object_iter_next(v, it), i++) {
			if (i > 0)
				hq_buf_append(out, ",", 1);
			if (pretty) {
				hq_buf_append(out, "\n", 1);
				jsonout_indent(out, depth + 1);
			}
			jsonout_string(out, json_object_iter_key(it),
			    json_object_iter_key_len(it));
			hq_buf_append(out, pretty ? ": " : ":", pretty ? 2 : 1);
			jsonout_value(out, json_object_iter_value(it), pretty,
			    depth + 1);
		}
		if (pretty && i > 0) {
			hq_buf_append(out, "\n", 1);
			jsonout_indent(out, depth);
		}
		hq_buf_append(out, "}", 1);
		break;
	}
}

void
hq_json_format(struct hq_buf *out, json_t *v, bool pretty)
{
	jsonout_value(out, v, pretty, 0);
}

void
hq_json_print(FILE *out, json_t *v)
{
	struct hq_buf b;

	hq_buf_init(&b);
	hq_json_format(&b, v, true);
	hq_buf_append(&b, "\n", 1);
	fwrite(b.data, 1, b.len, out);
	hq_buf_fini(&b);
}

char *
hq_json_dumps_compact(json_t *v)
{
	struct hq_buf b;
	char *s;

	hq_buf_init(&b);
	hq_json_format(&b, v, false);
	hq_buf_append(&b, "", 1);
	s = hq_xmemdup(b.data, b.len);
	hq_buf_fini(&b);
	return s;
}
