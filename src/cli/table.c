/* SPDX-License-Identifier: MIT */
/* Text tables laid out like HyperQueue's (cli-table) output. */
#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"

struct table_row {
	char **cells; /* ncols strings, never NULL */
	char **sgr;   /* ncols SGR parameters, NULL = plain */
};

struct hq_table {
	size_t ncols;
	char **header; /* NULL: no header */
	bool *right;
	struct table_row *rows;
	size_t nrows;
	size_t rows_cap;
};

struct hq_table *
hq_table_create(size_t ncols)
{
	struct hq_table *t;

	HQ_ASSERT(ncols >= 1);
	t = hq_xcalloc(1, sizeof *t);
	t->ncols = ncols;
	t->right = hq_xcalloc(ncols, sizeof *t->right);
	return t;
}

static void
table_free_strv(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **
table_copy_strv(const char *const *v, size_t n)
{
	char **out = hq_xcalloc(n, sizeof *out);
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = hq_xstrdup(v[i] != NULL ? v[i] : "");
	return out;
}

void
hq_table_destroy(struct hq_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows; i++) {
		table_free_strv(t->rows[i].cells, t->ncols);
		table_free_strv(t->rows[i].sgr, t->ncols);
	}
	free(t->rows);
	table_free_strv(t->header, t->ncols);
	free(t->right);
	free(t);
}

void
hq_table_set_header(struct hq_table *t, const char *const *names)
{
	table_free_strv(t->header, t->ncols);
	t->header = table_copy_strv(names, t->ncols);
}

void
hq_table_right(struct hq_table *t, size_t col)
{
	HQ_ASSERT(col < t->ncols);
	t->right[col] = true;
}

void
hq_table_add_row(struct hq_table *t, const char *const *cells)
{
	struct table_row row;

	row.cells = table_copy_strv(cells, t->ncols);
	row.sgr = hq_xcalloc(t->ncols, sizeof *row.sgr);
	HQ_VEC_PUSH(t->rows, t->nrows, t->rows_cap, row);
}

void
hq_table_color_last(struct hq_table *t, size_t col, const char *sgr)
{
	struct table_row *row;

	HQ_ASSERT(t->nrows > 0 && col < t->ncols);
	row = &t->rows[t->nrows - 1];
	free(row->sgr[col]);
	row->sgr[col] = sgr != NULL ? hq_xstrdup(sgr) : NULL;
}

size_t
hq_display_width(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, w = 0;

	while (i < len) {
		unsigned char c = p[i++];

		if (c == 0x1b && i < len && p[i] == '[') {
			/* CSI: parameters up to a final byte in 0x40..0x7e. */
			for (i++; i < len; i++) {
				if (p[i] >= 0x40 && p[i] <= 0x7e) {
					i++;
					break;
				}
			}
		} else if (c == 0x1b && i < len && p[i] == ']') {
			/* OSC: up to BEL or ESC '\'. */
			for (i++; i < len; i++) {
				if (p[i] == 0x07) {
					i++;
					break;
				}
				if (p[i] == 0x1b && i + 1 < len &&
				    p[i + 1] == '\\') {
					i += 2;
					break;
				}
			}
		} else if (c < 0x20 || c == 0x7f) {
			/* Control characters take no columns. */
		} else if ((c & 0xc0) == 0x80) {
			/* UTF-8 continuation byte. */
		} else if (c == 0xc2 && i < len && p[i] >= 0x80 &&
		    p[i] <= 0x9f) {
			i++; /* C1 control character */
		} else {
			w++;
		}
	}
	return w;
}

/*
 * Take the next line of a cell, as Rust's str::lines() does: split at
 * "\n" or "\r\n", no line after a final newline, none at all for "".
 */
static bool
table_next_line(const char **cursor, const char **line, size_t *len)
{
	const char *s = *cursor, *nl;

	if (*s == '\0')
		return false;
	nl = strchr(s, '\n');
	if (nl == NULL) {
		*line = s;
		*len = strlen(s);
		*cursor = s + *len;
		return true;
	}
	*line = s;
	*len = (size_t)(nl - s);
	if (*len > 0 && s[*len - 1] == '\r')
		(*len)--;
	*cursor = nl + 1;
	return true;
}

static size_t
table_cell_width(const char *s, size_t *nlines)
{
	const char *line;
	size_t len, w = 0, n = 0, lw;

	while (table_next_line(&s, &line, &len)) {
		lw = hq_display_width(line, len);
		if (lw > w)
			w = lw;
		n++;
	}
	if (nlines != NULL)
		*nlines = n;
	return w;
}

static void
table_border(struct hq_buf *out, const size_t *widths, size_t ncols)
{
	size_t c, i;

	hq_buf_append_str(out, "+");
	for (c = 0; c < ncols; c++) {
		for (i = 0; i < widths[c] + 2; i++)
			hq_buf_append(out, "-", 1);
		hq_buf_append(out, "+", 1);
	}
	hq_buf_append(out, "\n", 1);
}

static void
table_spaces(struct hq_buf *out, size_t n)
{
	while (n-- > 0)
		hq_buf_append(out, " ", 1);
}

/*
 * One table row, possibly several lines high. 'bold' makes every cell
 * bold (header); 'bold_first' only column 0 (keys). 'justify' applies
 * the right-justified columns (data rows only).
 */
static void
table_row(struct hq_buf *out, const struct hq_table *t, const size_t *widths,
    char *const *cells, char *const *sgr, bool colors, bool bold,
    bool bold_first, bool justify)
{
	const char **cursor;
	const char *line, *color;
	size_t c, len, pad, height = 0, n, l;
	bool on;

	cursor = hq_xcalloc(t->ncols, sizeof *cursor);
	for (c = 0; c < t->ncols; c++) {
		cursor[c] = cells[c];
		table_cell_width(cells[c], &n);
		if (n > height)
			height = n;
	}
	for (l = 0; l < height; l++) {
		hq_buf_append(out, "|", 1);
		for (c = 0; c < t->ncols; c++) {
			if (!table_next_line(&cursor[c], &line, &len)) {
				line = "";
				len = 0;
			}
			pad = widths[c] - hq_display_width(line, len);
			color = sgr != NULL ? sgr[c] : NULL;
			on = colors && len > 0 &&
			    (bold || (bold_first && c == 0) || color != NULL);

			hq_buf_append(out, " ", 1);
			if (justify && t->right[c])
				table_spaces(out, pad);
			if (on) {
				hq_buf_append_str(out, "\x1b[");
				if (bold || (bold_first && c == 0))
					hq_buf_append_str(out,
					    color != NULL ? "1;" : "1");
				if (color != NULL)
					hq_buf_append_str(out, color);
				hq_buf_append(out, "m", 1);
			}
			hq_buf_append(out, line, len);
			if (on)
				hq_buf_append_str(out, "\x1b[0m");
			if (!(justify && t->right[c]))
				table_spaces(out, pad);
			hq_buf_append(out, " |", 2);
		}
		hq_buf_append(out, "\n", 1);
	}
	free(cursor);
}

void
hq_table_render(struct hq_table *t, struct hq_buf *out, bool colors, bool kv)
{
	bool horizontal = !kv && t->header != NULL;
	size_t *widths, c, r, w;

	widths = hq_xcalloc(t->ncols, sizeof *widths);
	for (c = 0; c < t->ncols; c++) {
		if (horizontal)
			widths[c] = table_cell_width(t->header[c], NULL);
		for (r = 0; r < t->nrows; r++) {
			w = table_cell_width(t->rows[r].cells[c], NULL);
			if (w > widths[c])
				widths[c] = w;
		}
	}

	table_border(out, widths, t->ncols);
	if (horizontal) {
		table_row(out, t, widths, t->header, NULL, colors, true, false,
		    false);
		table_border(out, widths, t->ncols);
	}
	for (r = 0; r < t->nrows; r++)
		table_row(out, t, widths, t->rows[r].cells, t->rows[r].sgr,
		    colors, false, kv, true);
	table_border(out, widths, t->ncols);
	free(widths);
}

static void
table_write(struct hq_table *t, FILE *out, bool colors, bool kv)
{
	struct hq_buf b;

	hq_buf_init(&b);
	hq_table_render(t, &b, colors, kv);
	if (b.len > 0)
		fwrite(b.data, 1, b.len, out);
	hq_buf_fini(&b);
}

void
hq_table_print(struct hq_table *t, FILE *out, bool colors)
{
	table_write(t, out, colors, false);
}

void
hq_table_print_kv(struct hq_table *t, FILE *out, bool colors)
{
	table_write(t, out, colors, true);
}

/* Byte offset just past the first n code points of s (or its length). */
static size_t
table_skip_chars(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (p[i] != '\0') {
		if ((p[i] & 0xc0) != 0x80) {
			if (n == 0)
				break;
			n--;
		}
		i++;
	}
	return i;
}

char *
hq_truncate_middle(const char *s, size_t max)
{
	size_t n = 0, keep, head, tail, hlen, toff;
	const unsigned char *p;
	char *out;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p & 0xc0) != 0x80)
			n++;
	if (n <= max)
		return hq_xstrdup(s);
	if (max < 4)
		return hq_xstrndup(s, table_skip_chars(s, max));

	keep = max - 3;
	head = (keep + 1) / 2;
	tail = keep / 2;
	hlen = table_skip_chars(s, head);
	toff = table_skip_chars(s, n - tail);
	out = hq_xmalloc(hlen + 3 + strlen(s + toff) + 1);
	memcpy(out, s, hlen);
	memcpy(out + hlen, "...", 3);
	strcpy(out + hlen + 3, s + toff);
	return out;
}
