/* SPDX-License-Identifier: MIT */
/*
 * A strict TOML v1.0 parser for job definition files, without date and
 * time values. One pass, no recursion beyond HQ_TOML_MAX_DEPTH levels.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l(), newlocale() */
#endif
#include "common/toml.h"

#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* How a table or array came to be; decides what may extend it later. */
enum {
	TOML_F_HEADER = 0x01, /* table defined by [header] or [[header]] */
	TOML_F_DOTTED = 0x02, /* table defined or entered by dotted keys */
	TOML_F_INLINE = 0x04, /* inline table (or inside one): closed */
	TOML_F_AOT = 0x08,    /* array created by [[header]] */
};

/* Tables this large get a hash index; smaller ones are searched linearly. */
#define TOML_INDEX_MIN 16

/* Keys and values quoted in messages are cut after about this many bytes. */
#define TOML_MSG_TEXT 64

struct toml_entry {
	char *key;
	struct hq_toml_value *val;
};

struct hq_toml_value {
	enum hq_toml_type type;
	int line;
	int col;
	int depth; /* root table = 0 */
	unsigned flags;
	union {
		char *s;
		int64_t i;
		double f;
		bool b;
		struct {
			struct hq_toml_value **items;
			size_t len;
			size_t cap;
		} arr;
		struct {
			struct toml_entry *ents;
			size_t len;
			size_t cap;
			uint32_t *idx; /* open addressing, entry index + 1 */
			size_t idx_cap;
		} tab;
	} u;
};

struct toml_parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	int line; /* of s[pos], 1-based */
	int col;  /* of s[pos], in characters, 1-based */
	struct hq_errbuf *eb;
	struct hq_toml_value *root;
	struct hq_toml_value *cur; /* table of the last [header] */
};

/* One part of a dotted key and where it starts. */
struct toml_key {
	char *s;
	int line;
	int col;
};

struct toml_keypath {
	struct toml_key *parts;
	size_t len;
	size_t cap;
};

/* A growable string being decoded. */
struct toml_str {
	char *p;
	size_t len;
	size_t cap;
};

static int toml_parse_value(struct toml_parser *, int, struct hq_toml_value **);
static int toml_err_at(struct toml_parser *, int, int, const char *, ...)
    HQ_PRINTF(4, 5);

/* ---- values ----------------------------------------------------------- */

static struct hq_toml_value *
toml_new(enum hq_toml_type type, int line, int col, int depth)
{
	struct hq_toml_value *v = hq_xcalloc(1, sizeof *v);

	v->type = type;
	v->line = line;
	v->col = col;
	v->depth = depth;
	return v;
}

void
hq_toml_free(struct hq_toml_value *v)
{
	size_t i;

	if (v == NULL)
		return;
	switch (v->type) {
	case HQ_TOML_STRING:
		free(v->u.s);
		break;
	case HQ_TOML_ARRAY:
		for (i = 0; i < v->u.arr.len; i++)
			hq_toml_free(v->u.arr.items[i]);
		free(v->u.arr.items);
		break;
	case HQ_TOML_TABLE:
		for (i = 0; i < v->u.tab.len; i++) {
			free(v->u.tab.ents[i].key);
			hq_toml_free(v->u.tab.ents[i].val);
		}
		free(v->u.tab.ents);
		free(v->u.tab.idx);
		break;
	default:
		break;
	}
	free(v);
}

static uint32_t
toml_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static void
toml_index_put(struct hq_toml_value *t, size_t i)
{
	size_t mask = t->u.tab.idx_cap - 1;
	size_t h = toml_hash(t->u.tab.ents[i].key) & mask;

	while (t->u.tab.idx[h] != 0)
		h = (h + 1) & mask;
	t->u.tab.idx[h] = (uint32_t)(i + 1);
}

static struct hq_toml_value *
toml_table_find(const struct hq_toml_value *t, const char *key)
{
	size_t i, mask;
	uint32_t e;

	if (t->u.tab.idx == NULL) {
		for (i = 0; i < t->u.tab.len; i++) {
			if (strcmp(t->u.tab.ents[i].key, key) == 0)
				return t->u.tab.ents[i].val;
		}
		return NULL;
	}
	mask = t->u.tab.idx_cap - 1;
	for (i = toml_hash(key) & mask;; i = (i + 1) & mask) {
		if ((e = t->u.tab.idx[i]) == 0)
			return NULL;
		if (strcmp(t->u.tab.ents[e - 1].key, key) == 0)
			return t->u.tab.ents[e - 1].val;
	}
}

/* Append key -> v to table t; takes ownership of both. */
static void
toml_table_add(struct hq_toml_value *t, char *key, struct hq_toml_value *v)
{
	struct toml_entry e = { .key = key, .val = v };
	size_t i, n;

	HQ_VEC_PUSH(t->u.tab.ents, t->u.tab.len, t->u.tab.cap, e);
	n = t->u.tab.len;
	if (n < TOML_INDEX_MIN)
		return;
	if (t->u.tab.idx_cap < 2 * n) {
		free(t->u.tab.idx);
		t->u.tab.idx_cap = 4 * TOML_INDEX_MIN;
		while (t->u.tab.idx_cap < 4 * n)
			t->u.tab.idx_cap *= 2;
		t->u.tab.idx = hq_xcalloc(t->u.tab.idx_cap, sizeof(uint32_t));
		for (i = 0; i < n; i++)
			toml_index_put(t, i);
	} else {
		toml_index_put(t, n - 1);
	}
}

static void
toml_array_push(struct hq_toml_value *a, struct hq_toml_value *v)
{
	HQ_VEC_PUSH(a->u.arr.items, a->u.arr.len, a->u.arr.cap, v);
}

/* Close an inline table and the tables its dotted keys created. */
static void
toml_mark_inline(struct hq_toml_value *t)
{
	size_t i;

	t->flags |= TOML_F_INLINE;
	for (i = 0; i < t->u.tab.len; i++) {
		if (t->u.tab.ents[i].val->type == HQ_TOML_TABLE)
			toml_mark_inline(t->u.tab.ents[i].val);
	}
}

/* ---- strings under construction ----------------------------------------- */

static void
toml_str_putc(struct toml_str *sb, int c)
{
	HQ_VEC_PUSH(sb->p, sb->len, sb->cap, (char)c);
}

static void
toml_str_putcp(struct toml_str *sb, uint32_t cp)
{
	if (cp < 0x80) {
		toml_str_putc(sb, (int)cp);
	} else if (cp < 0x800) {
		toml_str_putc(sb, 0xC0 | (int)(cp >> 6));
		toml_str_putc(sb, 0x80 | (int)(cp & 0x3F));
	} else if (cp < 0x10000) {
		toml_str_putc(sb, 0xE0 | (int)(cp >> 12));
		toml_str_putc(sb, 0x80 | (int)((cp >> 6) & 0x3F));
		toml_str_putc(sb, 0x80 | (int)(cp & 0x3F));
	} else {
		toml_str_putc(sb, 0xF0 | (int)(cp >> 18));
		toml_str_putc(sb, 0x80 | (int)((cp >> 12) & 0x3F));
		toml_str_putc(sb, 0x80 | (int)((cp >> 6) & 0x3F));
		toml_str_putc(sb, 0x80 | (int)(cp & 0x3F));
	}
}

/* NUL-terminate and hand over the string; sb is empty afterwards. */
static char *
toml_str_finish(struct toml_str *sb)
{
	char *p;

	toml_str_putc(sb, '\0');
	p = sb->p;
	sb->p = NULL;
	sb->len = sb->cap = 0;
	return p;
}

/* ---- messages ------------------------------------------------------------ */

/*
 * Append s[0..n) to buf as message text: escaped, and cut with "..." at a
 * character boundary once the text passes TOML_MSG_TEXT bytes.
 */
static void
toml_msg_append(char *buf, size_t size, const char *s, size_t n)
{
	size_t o = strlen(buf), i;
	unsigned char c;

	for (i = 0; i < n && o + 8 < size; i++) {
		c = (unsigned char)s[i];
		if (o >= TOML_MSG_TEXT && (c & 0xC0) != 0x80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o] = '\0';
}

/* The first 'upto' parts of a dotted key, joined with '.', for messages. */
static const char *
toml_msg_path(char *buf, size_t size, const struct toml_keypath *kp,
    size_t upto)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < upto; i++) {
		if (i > 0)
			toml_msg_append(buf, size, ".", 1);
		toml_msg_append(buf, size, kp->parts[i].s,
		    strlen(kp->parts[i].s));
	}
	return buf;
}

static const char *
toml_msg_text(char *buf, size_t size, const unsigned char *s, size_t n)
{
	buf[0] = '\0';
	toml_msg_append(buf, size, (const char *)s, n);
	return buf;
}

static int
toml_err_at(struct toml_parser *ps, int line, int col, const char *fmt, ...)
{
	char msg[440];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return hq_errf(ps->eb, HQ_EINVAL, "line %d, column %d: %s", line, col,
	    msg);
}

#define toml_err(ps, ...) toml_err_at((ps), (ps)->line, (ps)->col, __VA_ARGS__)

/* ---- input ------------------------------------------------------------- */

static int
toml_peek(const struct toml_parser *ps, size_t k)
{
	if (ps->pos + k >= ps->len)
		return -1;
	return ps->s[ps->pos + k];
}

static void
toml_adv(struct toml_parser *ps)
{
	unsigned char c = ps->s[ps->pos++];

	/* Continuation bytes do not start a character: no new column. */
	if (c == '\n') {
		ps->line++;
		ps->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		ps->col++;
	}
}

static void
toml_advn(struct toml_parser *ps, size_t n)
{
	while (n-- > 0)
		toml_adv(ps);
}

static bool
toml_at_newline(const struct toml_parser *ps)
{
	int c = toml_peek(ps, 0);

	return c == '\n' || (c == '\r' && toml_peek(ps, 1) == '\n');
}

static bool
toml_is_ctrl(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static bool
toml_is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool
toml_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The code point at the current position (the input is valid UTF-8). */
static uint32_t
toml_decode(const struct toml_parser *ps)
{
	const unsigned char *p = ps->s + ps->pos;
	size_t n = ps->len - ps->pos;

	if (p[0] >= 0xF0 && n >= 4)
		return (uint32_t)(p[0] & 0x07) << 18 |
		    (uint32_t)(p[1] & 0x3F) << 12 |
		    (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
	if (p[0] >= 0xE0 && n >= 3)
		return (uint32_t)(p[0] & 0x0F) << 12 |
		    (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
	if (p[0] >= 0xC0 && n >= 2)
		return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
	return p[0];
}

/* What sits at the current position, for "expected X, found Y". */
static const char *
toml_found(const struct toml_parser *ps, char *buf, size_t size)
{
	int c = toml_peek(ps, 0);

	if (c < 0)
		return "end of input";
	if (toml_at_newline(ps))
		return "end of line";
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "U+%04X", (unsigned)toml_decode(ps));
	return buf;
}

static int
toml_check_utf8(struct toml_parser *ps)
{
	const unsigned char *s = ps->s;
	size_t i = ps->pos, n, k;
	int line = ps->line, col = ps->col;
	uint32_t cp, min;

	while (i < ps->len) {
		if (s[i] < 0x80) {
			if (s[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
			i++;
			continue;
		}
		if (s[i] >= 0xC2 && s[i] <= 0xDF) {
			n = 1;
			min = 0x80;
			cp = s[i] & 0x1F;
		} else if (s[i] >= 0xE0 && s[i] <= 0xEF) {
			n = 2;
			min = 0x800;
			cp = s[i] & 0x0F;
		} else if (s[i] >= 0xF0 && s[i] <= 0xF4) {
			n = 3;
			min = 0x10000;
			cp = s[i] & 0x07;
		} else {
			goto bad;
		}
		if (ps->len - i <= n)
			goto bad;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += n + 1;
		col++;
	}
	return 0;
bad:
	return toml_err_at(ps, line, col,
	    "invalid UTF-8 byte sequence (byte 0x%02X)", s[i]);
}

static void
toml_skip_ws(struct toml_parser *ps)
{
	int c;

	while ((c = toml_peek(ps, 0)) == ' ' || c == '\t')
		toml_adv(ps);
}

/* At '#': skip the comment up to (not including) the end of the line. */
static int
toml_skip_comment(struct toml_parser *ps)
{
	int c;

	toml_adv(ps);
	while ((c = toml_peek(ps, 0)) >= 0 && !toml_at_newline(ps)) {
		if (toml_is_ctrl(c))
			return toml_err(ps,
			    "control character U+%04X is not allowed in a "
			    "comment",
			    (unsigned)c);
		toml_adv(ps);
	}
	return 0;
}

static void
toml_skip_newline(struct toml_parser *ps)
{
	if (toml_peek(ps, 0) == '\r')
		toml_adv(ps);
	toml_adv(ps);
}

/* Whitespace, comments and newlines, as allowed between array elements. */
static int
toml_skip_ws_nl(struct toml_parser *ps)
{
	int rc;

	for (;;) {
		toml_skip_ws(ps);
		if (toml_peek(ps, 0) == '#') {
			if ((rc = toml_skip_comment(ps)) != 0)
				return rc;
		} else if (toml_at_newline(ps)) {
			toml_skip_newline(ps);
		} else {
			return 0;
		}
	}
}

static int
toml_expect_eol(struct toml_parser *ps, const char *what)
{
	char fb[32];
	int rc;

	toml_skip_ws(ps);
	if (toml_peek(ps, 0) == '#' && (rc = toml_skip_comment(ps)) != 0)
		return rc;
	if (toml_peek(ps, 0) < 0)
		return 0;
	if (toml_at_newline(ps)) {
		toml_skip_newline(ps);
		return 0;
	}
	return toml_err(ps, "expected end of line after %s, found %s", what,
	    toml_found(ps, fb, sizeof fb));
}

/* ---- strings ------------------------------------------------------------ */

static int
toml_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* At a backslash in a basic string: decode one escape sequence into sb. */
static int
toml_escape(struct toml_parser *ps, struct toml_str *sb)
{
	int line = ps->line, col = ps->col, c = toml_peek(ps, 1), h, i, n;
	uint32_t cp = 0;
	char fb[32];

	toml_adv(ps);
	switch (c) {
	case 'b':
		cp = '\b';
		break;
	case 't':
		cp = '\t';
		break;
	case 'n':
		cp = '\n';
		break;
	case 'f':
		cp = '\f';
		break;
	case 'r':
		cp = '\r';
		break;
	case '"':
		cp = '"';
		break;
	case '\\':
		cp = '\\';
		break;
	case 'u':
	case 'U':
		n = c == 'u' ? 4 : 8;
		toml_adv(ps);
		for (i = 0; i < n; i++) {
			if ((h = toml_hexval(toml_peek(ps, 0))) < 0)
				return toml_err_at(ps, line, col,
				    "invalid escape sequence: \\%c needs %d "
				    "hexadecimal digits",
				    c, n);
			cp = cp << 4 | (uint32_t)h;
			toml_adv(ps);
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return toml_err_at(ps, line, col,
			    "invalid escape sequence: U+%04X is not a Unicode "
			    "scalar value",
			    (unsigned)cp);
		if (cp == 0)
			return toml_err_at(ps, line, col,
			    "NUL characters are not allowed in strings");
		toml_str_putcp(sb, cp);
		return 0;
	default:
		if (c > 0x20 && c < 0x7f)
			return toml_err_at(ps, line, col,
			    "invalid escape sequence \"\\%c\"", c);
		return toml_err_at(ps, line, col,
		    "invalid escape sequence: '\\' followed by %s",
		    toml_found(ps, fb, sizeof fb));
	}
	toml_adv(ps);
	toml_str_putc(sb, (int)cp);
	return 0;
}

/*
 * At the opening quote of a one-line basic ("...") or literal ('...')
 * string: decode it into a new string in *out.
 */
static int
toml_parse_string1(struct toml_parser *ps, char **out)
{
	struct toml_str sb = { 0 };
	int line = ps->line, col = ps->col, q = toml_peek(ps, 0), c, rc;

	toml_adv(ps);
	for (;;) {
		c = toml_peek(ps, 0);
		if (c < 0 || toml_at_newline(ps)) {
			rc = toml_err_at(ps, line, col, "unterminated string");
			goto out;
		}
		if (c == q) {
			toml_adv(ps);
			break;
		}
		if (c == '\\' && q == '"') {
			if ((rc = toml_escape(ps, &sb)) != 0)
				goto out;
			continue;
		}
		if (toml_is_ctrl(c)) {
			rc = toml_err(ps,
			    "control character U+%04X is not allowed in a "
			    "string",
			    (unsigned)c);
			goto out;
		}
		toml_str_putc(&sb, c);
		toml_adv(ps);
	}
	*out = toml_str_finish(&sb);
	rc = 0;
out:
	free(sb.p);
	return rc;
}

/* At """ or ''': decode a multi-line basic or literal string into *out. */
static int
toml_parse_string3(struct toml_parser *ps, char **out)
{
	struct toml_str sb = { 0 };
	int line = ps->line, col = ps->col, q = toml_peek(ps, 0), c, rc;
	size_t k, n;

	toml_advn(ps, 3);
	/* A newline right after the opening delimiter is trimmed. */
	if (toml_at_newline(ps))
		toml_skip_newline(ps);
	for (;;) {
		c = toml_peek(ps, 0);
		if (c < 0) {
			rc = toml_err_at(ps, line, col,
			    "unterminated multi-line string");
			goto out;
		}
		if (c == q) {
			/* Up to two quotes may precede the closing three. */
			for (n = 1; n < 5 && toml_peek(ps, n) == q; n++)
				;
			if (n < 3) {
				for (k = 0; k < n; k++)
					toml_str_putc(&sb, q);
				toml_advn(ps, n);
				continue;
			}
			for (k = 3; k < n; k++)
				toml_str_putc(&sb, q);
			toml_advn(ps, n);
			break;
		}
		if (c == '\\' && q == '"') {
			/* A line-ending backslash eats all whitespace after. */
			for (k = 1; toml_peek(ps, k) == ' ' ||
			     toml_peek(ps, k) == '\t';
			     k++)
				;
			if (toml_peek(ps, k) == '\n' ||
			    (toml_peek(ps, k) == '\r' &&
				toml_peek(ps, k + 1) == '\n')) {
				toml_advn(ps, k);
				while ((c = toml_peek(ps, 0)) == ' ' ||
				    c == '\t' || toml_at_newline(ps))
					toml_adv(ps);
				continue;
			}
			if ((rc = toml_escape(ps, &sb)) != 0)
				goto out;
			continue;
		}
		if (toml_at_newline(ps)) {
			toml_skip_newline(ps);
			toml_str_putc(&sb, '\n');
			continue;
		}
		if (toml_is_ctrl(c)) {
			rc = toml_err(ps,
			    "control character U+%04X is not allowed in a "
			    "string",
			    (unsigned)c);
			goto out;
		}
		toml_str_putc(&sb, c);
		toml_adv(ps);
	}
	*out = toml_str_finish(&sb);
	rc = 0;
out:
	free(sb.p);
	return rc;
}

/* ---- keys ------------------------------------------------------------- */

static void
toml_keypath_free(struct toml_keypath *kp)
{
	size_t i;

	for (i = 0; i < kp->len; i++)
		free(kp->parts[i].s);
	free(kp->parts);
	memset(kp, 0, sizeof *kp);
}

/* A key: one or more bare or quoted parts joined by '.'. */
static int
toml_parse_key(struct toml_parser *ps, struct toml_keypath *kp)
{
	struct toml_key k;
	size_t start;
	char fb[32];
	int c, rc;

	for (;;) {
		toml_skip_ws(ps);
		k.line = ps->line;
		k.col = ps->col;
		c = toml_peek(ps, 0);
		if ((c == '"' || c == '\'') && toml_peek(ps, 1) == c &&
		    toml_peek(ps, 2) == c)
			return toml_err(ps,
			    "a multi-line string cannot be used as a key");
		if (c == '"' || c == '\'') {
			if ((rc = toml_parse_string1(ps, &k.s)) != 0)
				return rc;
		} else if (toml_is_bare(c)) {
			start = ps->pos;
			while (toml_is_bare(toml_peek(ps, 0)))
				toml_adv(ps);
			k.s = hq_xstrndup((const char *)ps->s + start,
			    ps->pos - start);
		} else {
			return toml_err(ps, "expected a key, found %s",
			    toml_found(ps, fb, sizeof fb));
		}
		if (kp->len >= HQ_TOML_MAX_DEPTH) {
			free(k.s);
			return toml_err_at(ps, k.line, k.col,
			    "key has too many parts (more than %d)",
			    HQ_TOML_MAX_DEPTH);
		}
		HQ_VEC_PUSH(kp->parts, kp->len, kp->cap, k);
		toml_skip_ws(ps);
		if (toml_peek(ps, 0) != '.')
			return 0;
		toml_adv(ps);
	}
}

static int
toml_new_container(struct toml_parser *ps, enum hq_toml_type type, int line,
    int col, int depth, struct hq_toml_value **out)
{
	if (depth > HQ_TOML_MAX_DEPTH)
		return toml_err_at(ps, line, col,
		    "nesting too deep (more than %d levels)",
		    HQ_TOML_MAX_DEPTH);
	*out = toml_new(type, line, col, depth);
	return 0;
}

/*
 * Walk all but the last part of a dotted key down from table 'tab',
 * creating tables as needed; *out is the table to hold the last part.
 */
static int
toml_walk_dotted(struct toml_parser *ps, struct hq_toml_value *tab,
    const struct toml_keypath *kp, struct hq_toml_value **out)
{
	const struct toml_key *k;
	struct hq_toml_value *v;
	char path[128];
	size_t i;
	int rc;

	for (i = 0; i + 1 < kp->len; i++) {
		k = &kp->parts[i];
		v = toml_table_find(tab, k->s);
		if (v == NULL) {
			rc = toml_new_container(ps, HQ_TOML_TABLE, k->line,
			    k->col, tab->depth + 1, &v);
			if (rc != 0)
				return rc;
			toml_table_add(tab, hq_xstrdup(k->s), v);
		} else if (v->type != HQ_TOML_TABLE) {
			return toml_err_at(ps, k->line, k->col,
			    "key \"%s\" is already defined as %s",
			    toml_msg_path(path, sizeof path, kp, i + 1),
			    hq_toml_type_name(v->type));
		} else if (v->flags & TOML_F_INLINE) {
			return toml_err_at(ps, k->line, k->col,
			    "cannot extend inline table \"%s\"",
			    toml_msg_path(path, sizeof path, kp, i + 1));
		} else if (v->flags & TOML_F_HEADER) {
			return toml_err_at(ps, k->line, k->col,
			    "cannot use dotted keys to extend table \"%s\" "
			    "defined by a [header]",
			    toml_msg_path(path, sizeof path, kp, i + 1));
		}
		v->flags |= TOML_F_DOTTED;
		tab = v;
	}
	*out = tab;
	return 0;
}

/* key = value, stored into table 'tab'. */
static int
toml_parse_keyval(struct toml_parser *ps, struct hq_toml_value *tab)
{
	struct toml_keypath kp = { 0 };
	struct hq_toml_value *target = NULL, *v = NULL;
	const struct toml_key *last;
	char fb[32], path[128];
	int rc;

	if ((rc = toml_parse_key(ps, &kp)) != 0)
		goto out;
	toml_skip_ws(ps);
	if (toml_peek(ps, 0) != '=') {
		rc = toml_err(ps, "expected '=' after key, found %s",
		    toml_found(ps, fb, sizeof fb));
		goto out;
	}
	toml_adv(ps);
	toml_skip_ws(ps);
	if ((rc = toml_walk_dotted(ps, tab, &kp, &target)) != 0)
		goto out;
	last = &kp.parts[kp.len - 1];
	if (toml_table_find(target, last->s) != NULL) {
		rc = toml_err_at(ps, last->line, last->col,
		    "duplicate key \"%s\"",
		    toml_msg_path(path, sizeof path, &kp, kp.len));
		goto out;
	}
	if ((rc = toml_parse_value(ps, target->depth + 1, &v)) != 0)
		goto out;
	toml_table_add(target, kp.parts[kp.len - 1].s, v);
	kp.parts[kp.len - 1].s = NULL;
out:
	toml_keypath_free(&kp);
	return rc;
}

/* ---- tables headers ------------------------------------------------------ */

/* Make the table named by a [header] or [[header]] the current one. */
static int
toml_open_table(struct toml_parser *ps, const struct toml_keypath *kp, bool aot,
    int line, int col)
{
	struct hq_toml_value *tab = ps->root, *v, *t = NULL;
	const struct toml_key *k;
	char path[128];
	size_t i;
	int rc;

	for (i = 0; i + 1 < kp->len; i++) {
		k = &kp->parts[i];
		v = toml_table_find(tab, k->s);
		if (v == NULL) {
			rc = toml_new_container(ps, HQ_TOML_TABLE, k->line,
			    k->col, tab->depth + 1, &v);
			if (rc != 0)
				return rc;
			toml_table_add(tab, hq_xstrdup(k->s), v);
		} else if (v->type == HQ_TOML_ARRAY &&
		    (v->flags & TOML_F_AOT)) {
			v = v->u.arr.items[v->u.arr.len - 1];
		} else if (v->type == HQ_TOML_ARRAY) {
			return toml_err_at(ps, k->line, k->col,
			    "cannot extend array \"%s\": it is not an array "
			    "of tables",
			    toml_msg_path(path, sizeof path, kp, i + 1));
		} else if (v->type != HQ_TOML_TABLE) {
			return toml_err_at(ps, k->line, k->col,
			    "key \"%s\" is already defined as %s",
			    toml_msg_path(path, sizeof path, kp, i + 1),
			    hq_toml_type_name(v->type));
		} else if (v->flags & TOML_F_INLINE) {
			return toml_err_at(ps, k->line, k->col,
			    "cannot extend inline table \"%s\"",
			    toml_msg_path(path, sizeof path, kp, i + 1));
		}
		tab = v;
	}
	k = &kp->parts[kp->len - 1];
	toml_msg_path(path, sizeof path, kp, kp->len);
	v = toml_table_find(tab, k->s);
	if (!aot) {
		if (v == NULL) {
			rc = toml_new_container(ps, HQ_TOML_TABLE, line, col,
			    tab->depth + 1, &v);
			if (rc != 0)
				return rc;
			toml_table_add(tab, hq_xstrdup(k->s), v);
		} else if (v->type != HQ_TOML_TABLE) {
			return toml_err_at(ps, k->line, k->col,
			    "key \"%s\" is already defined as %s", path,
			    hq_toml_type_name(v->type));
		} else if (v->flags & TOML_F_INLINE) {
			return toml_err_at(ps, k->line, k->col,
			    "cannot extend inline table \"%s\"", path);
		} else if (v->flags & TOML_F_HEADER) {
			return toml_err_at(ps, k->line, k->col,
			    "table [%s] is defined twice", path);
		} else if (v->flags & TOML_F_DOTTED) {
			return toml_err_at(ps, k->line, k->col,
			    "table [%s] is already defined by dotted keys",
			    path);
		} else {
			/* Implicitly created by an earlier header path. */
			v->line = line;
			v->col = col;
		}
		v->flags |= TOML_F_HEADER;
		ps->cur = v;
		return 0;
	}
	if (v == NULL) {
		rc = toml_new_container(ps, HQ_TOML_ARRAY, line, col,
		    tab->depth + 1, &v);
		if (rc != 0)
			return rc;
		v->flags |= TOML_F_AOT;
		toml_table_add(tab, hq_xstrdup(k->s), v);
	} else if (v->type != HQ_TOML_ARRAY) {
		return toml_err_at(ps, k->line, k->col,
		    "key \"%s\" is already defined as %s", path,
		    hq_toml_type_name(v->type));
	} else if (!(v->flags & TOML_F_AOT)) {
		return toml_err_at(ps, k->line, k->col,
		    "cannot extend array \"%s\": it is not an array of tables",
		    path);
	}
	rc = toml_new_container(ps, HQ_TOML_TABLE, line, col, v->depth + 1, &t);
	if (rc != 0)
		return rc;
	t->flags |= TOML_F_HEADER;
	toml_array_push(v, t);
	ps->cur = t;
	return 0;
}

/* At '[': a [table] or [[array.of.tables]] header. */
static int
toml_parse_header(struct toml_parser *ps)
{
	struct toml_keypath kp = { 0 };
	int line = ps->line, col = ps->col, rc;
	bool aot = toml_peek(ps, 1) == '[';
	char fb[32];

	toml_advn(ps, aot ? 2 : 1);
	if ((rc = toml_parse_key(ps, &kp)) != 0)
		goto out;
	toml_skip_ws(ps);
	if (toml_peek(ps, 0) != ']') {
		rc = toml_err(ps, "expected '%s' after table name, found %s",
		    aot ? "]]" : "]", toml_found(ps, fb, sizeof fb));
		goto out;
	}
	toml_adv(ps);
	if (aot && toml_peek(ps, 0) != ']') {
		rc = toml_err(ps,
		    "expected ']]' after array of tables name, found %s",
		    toml_found(ps, fb, sizeof fb));
		goto out;
	}
	if (aot)
		toml_adv(ps);
	rc = toml_open_table(ps, &kp, aot, line, col);
out:
	toml_keypath_free(&kp);
	return rc;
}

/* ---- values ------------------------------------------------------------- */

static bool
toml_is_token(int c)
{
	return toml_is_bare(c) || c == '+' || c == '.' || c == ':';
}

/*
 * Scan digits of 'base' from t[*j], allowing '_' only between two digits.
 * Returns the number of digits, or -1 for a misplaced '_'.
 */
static int
toml_scan_digits(const unsigned char *t, size_t n, size_t *j, int base)
{
	size_t k = *j;
	int nd = 0;

	for (; k < n; k++) {
		if (t[k] == '_') {
			if (nd == 0 || t[k - 1] == '_' || k + 1 >= n ||
			    toml_hexval(t[k + 1]) < 0 ||
			    toml_hexval(t[k + 1]) >= base)
				return -1;
			continue;
		}
		if (toml_hexval(t[k]) < 0 || toml_hexval(t[k]) >= base)
			break;
		nd++;
	}
	*j = k;
	return nd;
}

static double
toml_strtod(const char *s)
{
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	double d;

	/* Job files must not depend on the user's LC_NUMERIC. */
	if (c == (locale_t)0)
		return strtod(s, NULL);
	d = strtod_l(s, NULL, c);
	freelocale(c);
	return d;
}

/*
 * The number in token t[0..n), at line:col. Integers are decimal (no
 * leading zeros), 0x, 0o or 0b; floats have a fraction and/or exponent.
 */
static int
toml_parse_number(struct toml_parser *ps, const unsigned char *t, size_t n,
    int line, int col, struct hq_toml_value **out)
{
	const unsigned char *r = t;
	size_t rn = n, j = 0, k, o;
	bool neg = false, sign = false, is_float = false;
	uint64_t mag = 0, limit = INT64_MAX;
	struct hq_toml_value *v;
	int base = 10, nd, d;
	char tb[96], *copy;
	double f;

	toml_msg_text(tb, sizeof tb, t, n);
	if (r[0] == '+' || r[0] == '-') {
		sign = true;
		neg = r[0] == '-';
		r++;
		rn--;
	}
	if (rn >= 2 && r[0] == '0' &&
	    (r[1] == 'x' || r[1] == 'o' || r[1] == 'b')) {
		if (sign)
			return toml_err_at(ps, line, col,
			    "invalid number \"%s\": a sign is not allowed "
			    "with 0x, 0o or 0b",
			    tb);
		base = r[1] == 'x' ? 16 : r[1] == 'o' ? 8 : 2;
		j = 2;
		nd = toml_scan_digits(r, rn, &j, base);
		if (nd < 0)
			return toml_err_at(ps, line, col,
			    "invalid number \"%s\": '_' must be between "
			    "digits",
			    tb);
		if (nd == 0 || j != rn)
			return toml_err_at(ps, line, col,
			    "invalid number \"%s\"", tb);
	} else {
		nd = toml_scan_digits(r, rn, &j, 10);
		if (nd < 0)
			return toml_err_at(ps, line, col,
			    "invalid number \"%s\": '_' must be between "
			    "digits",
			    tb);
		if (nd == 0)
			return toml_err_at(ps, line, col,
			    "invalid number \"%s\"", tb);
		if (nd > 1 && r[0] == '0')
			return toml_err_at(ps, line, col,
			    "invalid number \"%s\": leading zeros are not "
			    "allowed",
			    tb);
		if (j < rn && r[j] == '.') {
			j++;
			is_float = true;
			nd = toml_scan_digits(r, rn, &j, 10);
			if (nd <= 0)
				return toml_err_at(ps, line, col,
				    "invalid number \"%s\": %s", tb,
				    nd < 0 ? "'_' must be between digits"
					   : "expected a digit after '.'");
		}
		if (j < rn && (r[j] == 'e' || r[j] == 'E')) {
			j++;
			is_float = true;
			if (j < rn && (r[j] == '+' || r[j] == '-'))
				j++;
			nd = toml_scan_digits(r, rn, &j, 10);
			if (nd <= 0)
				return toml_err_at(ps, line, col,
				    "invalid number \"%s\": %s", tb,
				    nd < 0 ? "'_' must be between digits"
					   : "expected digits in the exponent");
		}
		if (j != rn)
			return toml_err_at(ps, line, col,
			    "invalid number \"%s\"", tb);
	}

	if (is_float) {
		copy = hq_xmalloc(n + 1);
		for (k = 0, o = 0; k < n; k++) {
			if (t[k] != '_')
				copy[o++] = (char)t[k];
		}
		copy[o] = '\0';
		f = toml_strtod(copy);
		free(copy);
		if (isinf(f))
			return toml_err_at(ps, line, col,
			    "float \"%s\" is out of range", tb);
		v = toml_new(HQ_TOML_FLOAT, line, col, 0);
		v->u.f = f;
		*out = v;
		return 0;
	}

	if (neg)
		limit = (uint64_t)INT64_MAX + 1;
	for (k = base == 10 ? 0 : 2; k < rn; k++) {
		if (r[k] == '_')
			continue;
		d = toml_hexval(r[k]);
		if (mag > (limit - (uint64_t)d) / (uint64_t)base)
			return toml_err_at(ps, line, col,
			    "integer \"%s\" does not fit in 64 bits", tb);
		mag = mag * (uint64_t)base + (uint64_t)d;
	}
	v = toml_new(HQ_TOML_INT, line, col, 0);
	if (neg)
		v->u.i =
		    mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	else
		v->u.i = (int64_t)mag;
	*out = v;
	return 0;
}

static bool
toml_tok_is(const unsigned char *t, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(t, word, n) == 0;
}

/* A bare value: boolean, number, inf or nan. Dates are refused. */
static int
toml_parse_scalar(struct toml_parser *ps, struct hq_toml_value **out)
{
	int line = ps->line, col = ps->col;
	const unsigned char *t = ps->s + ps->pos, *r;
	struct hq_toml_value *v;
	size_t n, rn;
	char tb[96];

	while (toml_is_token(toml_peek(ps, 0)))
		toml_adv(ps);
	n = (size_t)(ps->s + ps->pos - t);
	if (toml_tok_is(t, n, "true") || toml_tok_is(t, n, "false")) {
		v = toml_new(HQ_TOML_BOOL, line, col, 0);
		v->u.b = t[0] == 't';
		*out = v;
		return 0;
	}
	/* 1979-05-27, 07:32:00, and everything starting like them. */
	if ((n >= 5 && toml_is_digit(t[0]) && toml_is_digit(t[1]) &&
		toml_is_digit(t[2]) && toml_is_digit(t[3]) && t[4] == '-') ||
	    (n >= 3 && toml_is_digit(t[0]) && toml_is_digit(t[1]) &&
		t[2] == ':'))
		return toml_err_at(ps, line, col,
		    "date and time values are not supported");
	r = t;
	rn = n;
	if (rn > 0 && (r[0] == '+' || r[0] == '-')) {
		r++;
		rn--;
	}
	if (toml_tok_is(r, rn, "inf") || toml_tok_is(r, rn, "nan")) {
		v = toml_new(HQ_TOML_FLOAT, line, col, 0);
		v->u.f = r[0] == 'i' ? INFINITY : NAN;
		if (t[0] == '-')
			v->u.f = -v->u.f;
		*out = v;
		return 0;
	}
	if (rn > 0 && toml_is_digit(r[0]))
		return toml_parse_number(ps, t, n, line, col, out);
	return toml_err_at(ps, line, col,
	    "invalid value \"%s\" (strings must be quoted)",
	    toml_msg_text(tb, sizeof tb, t, n));
}

/* At '[': an array literal. */
static int
toml_parse_array(struct toml_parser *ps, int depth, struct hq_toml_value **out)
{
	int line = ps->line, col = ps->col, rc, c;
	struct hq_toml_value *a = NULL, *v;
	char fb[32];

	rc = toml_new_container(ps, HQ_TOML_ARRAY, line, col, depth, &a);
	if (rc != 0)
		goto out;
	toml_adv(ps);
	for (;;) {
		if ((rc = toml_skip_ws_nl(ps)) != 0)
			goto out;
		c = toml_peek(ps, 0);
		if (c == ']')
			break;
		if (c < 0) {
			rc = toml_err_at(ps, line, col, "unterminated array");
			goto out;
		}
		if ((rc = toml_parse_value(ps, depth + 1, &v)) != 0)
			goto out;
		toml_array_push(a, v);
		if ((rc = toml_skip_ws_nl(ps)) != 0)
			goto out;
		c = toml_peek(ps, 0);
		if (c == ']')
			break;
		if (c < 0) {
			rc = toml_err_at(ps, line, col, "unterminated array");
			goto out;
		}
		if (c != ',') {
			rc = toml_err(ps,
			    "expected ',' or ']' in array, found %s",
			    toml_found(ps, fb, sizeof fb));
			goto out;
		}
		toml_adv(ps);
	}
	toml_adv(ps);
	*out = a;
	a = NULL;
out:
	hq_toml_free(a);
	return rc;
}

/* At '{': an inline table, all on one line, without a trailing comma. */
static int
toml_parse_inline(struct toml_parser *ps, int depth, struct hq_toml_value **out)
{
	int line = ps->line, col = ps->col, rc, c;
	struct hq_toml_value *t = NULL;
	char fb[32];

	rc = toml_new_container(ps, HQ_TOML_TABLE, line, col, depth, &t);
	if (rc != 0)
		goto out;
	toml_adv(ps);
	toml_skip_ws(ps);
	if (toml_peek(ps, 0) == '}')
		goto done;
	for (;;) {
		toml_skip_ws(ps);
		if (toml_at_newline(ps)) {
			rc = toml_err(ps,
			    "newline is not allowed in an inline table");
			goto out;
		}
		if (toml_peek(ps, 0) < 0) {
			rc = toml_err_at(ps, line, col,
			    "unterminated inline table");
			goto out;
		}
		if ((rc = toml_parse_keyval(ps, t)) != 0)
			goto out;
		toml_skip_ws(ps);
		c = toml_peek(ps, 0);
		if (c == '}')
			break;
		if (c == ',') {
			toml_adv(ps);
			toml_skip_ws(ps);
			if (toml_peek(ps, 0) == '}') {
				rc = toml_err(ps,
				    "trailing comma is not allowed in an "
				    "inline table");
				goto out;
			}
			continue;
		}
		if (c < 0) {
			rc = toml_err_at(ps, line, col,
			    "unterminated inline table");
		} else if (toml_at_newline(ps)) {
			rc = toml_err(ps,
			    "newline is not allowed in an inline table");
		} else {
			rc = toml_err(ps,
			    "expected ',' or '}' in inline table, found %s",
			    toml_found(ps, fb, sizeof fb));
		}
		goto out;
	}
done:
	toml_adv(ps);
	toml_mark_inline(t);
	*out = t;
	t = NULL;
out:
	hq_toml_free(t);
	return rc;
}

/* Any value; 'depth' is its nesting level if it is an array or table. */
static int
toml_parse_value(struct toml_parser *ps, int depth, struct hq_toml_value **out)
{
	int line = ps->line, col = ps->col, c = toml_peek(ps, 0), rc;
	struct hq_toml_value *v;
	char fb[32], *s;

	switch (c) {
	case '"':
	case '\'':
		if (toml_peek(ps, 1) == c && toml_peek(ps, 2) == c)
			rc = toml_parse_string3(ps, &s);
		else
			rc = toml_parse_string1(ps, &s);
		if (rc != 0)
			return rc;
		v = toml_new(HQ_TOML_STRING, line, col, 0);
		v->u.s = s;
		*out = v;
		return 0;
	case '[':
		return toml_parse_array(ps, depth, out);
	case '{':
		return toml_parse_inline(ps, depth, out);
	default:
		if (toml_is_token(c))
			return toml_parse_scalar(ps, out);
		return toml_err(ps, "expected a value, found %s",
		    toml_found(ps, fb, sizeof fb));
	}
}

static int
toml_parse_document(struct toml_parser *ps)
{
	int c, rc;

	for (;;) {
		toml_skip_ws(ps);
		c = toml_peek(ps, 0);
		if (c < 0)
			return 0;
		if (c == '#') {
			rc = toml_expect_eol(ps, "comment");
		} else if (toml_at_newline(ps)) {
			toml_skip_newline(ps);
			rc = 0;
		} else if (c == '[') {
			if ((rc = toml_parse_header(ps)) == 0)
				rc = toml_expect_eol(ps, "table header");
		} else {
			if ((rc = toml_parse_keyval(ps, ps->cur)) == 0)
				rc = toml_expect_eol(ps, "value");
		}
		if (rc != 0)
			return rc;
	}
}

int
hq_toml_parse(const char *text, size_t len, struct hq_toml_value **root,
    struct hq_errbuf *eb)
{
	struct toml_parser ps;
	int rc;

	memset(&ps, 0, sizeof ps);
	ps.s = (const unsigned char *)(text != NULL ? text : "");
	ps.len = text != NULL ? len : 0;
	ps.line = 1;
	ps.col = 1;
	ps.eb = eb;
	if (ps.len > INT_MAX)
		return hq_errf(eb, HQ_ETOOBIG,
		    "line 1, column 1: input too large (%zu bytes)", ps.len);
	/* A UTF-8 byte order mark is not part of the document. */
	if (ps.len >= 3 && memcmp(ps.s, "\xEF\xBB\xBF", 3) == 0)
		ps.pos = 3;
	if ((rc = toml_check_utf8(&ps)) != 0)
		return rc;
	ps.root = ps.cur = toml_new(HQ_TOML_TABLE, 1, 1, 0);
	if ((rc = toml_parse_document(&ps)) != 0)
		goto out;
	*root = ps.root;
	ps.root = NULL;
out:
	hq_toml_free(ps.root);
	return rc;
}

/* ---- accessors ----------------------------------------------------------- */

enum hq_toml_type
hq_toml_type(const struct hq_toml_value *v)
{
	HQ_ASSERT(v != NULL);
	return v->type;
}

int
hq_toml_line(const struct hq_toml_value *v)
{
	HQ_ASSERT(v != NULL);
	return v->line;
}

int
hq_toml_col(const struct hq_toml_value *v)
{
	HQ_ASSERT(v != NULL);
	return v->col;
}

size_t
hq_toml_table_len(const struct hq_toml_value *t)
{
	HQ_ASSERT(t != NULL && t->type == HQ_TOML_TABLE);
	return t->u.tab.len;
}

const char *
hq_toml_table_key(const struct hq_toml_value *t, size_t i)
{
	HQ_ASSERT(t != NULL && t->type == HQ_TOML_TABLE && i < t->u.tab.len);
	return t->u.tab.ents[i].key;
}

const struct hq_toml_value *
hq_toml_table_value(const struct hq_toml_value *t, size_t i)
{
	HQ_ASSERT(t != NULL && t->type == HQ_TOML_TABLE && i < t->u.tab.len);
	return t->u.tab.ents[i].val;
}

const struct hq_toml_value *
hq_toml_get(const struct hq_toml_value *t, const char *key)
{
	HQ_ASSERT(key != NULL);
	if (t == NULL || t->type != HQ_TOML_TABLE)
		return NULL;
	return toml_table_find(t, key);
}

size_t
hq_toml_array_len(const struct hq_toml_value *a)
{
	HQ_ASSERT(a != NULL && a->type == HQ_TOML_ARRAY);
	return a->u.arr.len;
}

const struct hq_toml_value *
hq_toml_array_get(const struct hq_toml_value *a, size_t i)
{
	HQ_ASSERT(a != NULL && a->type == HQ_TOML_ARRAY && i < a->u.arr.len);
	return a->u.arr.items[i];
}

const char *
hq_toml_string(const struct hq_toml_value *v)
{
	HQ_ASSERT(v != NULL && v->type == HQ_TOML_STRING);
	return v->u.s;
}

int64_t
hq_toml_int(const struct hq_toml_value *v)
{
	HQ_ASSERT(v != NULL && v->type == HQ_TOML_INT);
	return v->u.i;
}

double
hq_toml_float(const struct hq_toml_value *v)
{
	HQ_ASSERT(v != NULL && v->type == HQ_TOML_FLOAT);
	return v->u.f;
}

bool
hq_toml_bool(const struct hq_toml_value *v)
{
	HQ_ASSERT(v != NULL && v->type == HQ_TOML_BOOL);
	return v->u.b;
}

const char *
hq_toml_type_name(enum hq_toml_type t)
{
	switch (t) {
	case HQ_TOML_STRING:
		return "string";
	case HQ_TOML_INT:
		return "integer";
	case HQ_TOML_FLOAT:
		return "float";
	case HQ_TOML_BOOL:
		return "boolean";
	case HQ_TOML_ARRAY:
		return "array";
	case HQ_TOML_TABLE:
		return "table";
	}
	return "unknown";
}
