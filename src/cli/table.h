/* SPDX-License-Identifier: MIT */
/*
 * Text tables in the style of HyperQueue's cli-table output: '+'/'-'
 * borders, '|' separators, one space of padding, multi-line cells.
 */
#ifndef HQ_TABLE_H
#define HQ_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct hq_buf;
struct hq_table; /* opaque */

/*
 * A table of 'ncols' columns (ncols >= 1). Never NULL; free with
 * hq_table_destroy().
 */
struct hq_table *hq_table_create(size_t ncols);
/* NULL is a no-op. */
void hq_table_destroy(struct hq_table *t);

/*
 * Set the header: 'names' holds ncols strings, copied. A table with a
 * header prints horizontally (top border, header, border, rows, bottom
 * border); leave it unset for key/value tables.
 */
void hq_table_set_header(struct hq_table *t, const char *const *names);
/* Right-justify the data cells of column 'col' (the header stays left). */
void hq_table_right(struct hq_table *t, size_t col);
/*
 * Append a row: 'cells' holds ncols strings, copied; NULL counts as "".
 * A '\n' inside a cell continues it on extra lines whose other cells are
 * blank. A final '\n' adds no line, and a row whose cells are all empty
 * has no lines and is not printed (cli-table does the same).
 */
void hq_table_add_row(struct hq_table *t, const char *const *cells);
/*
 * Colour cell 'col' of the last added row with the SGR parameter 'sgr'
 * ("32" green, "31" red, "1" bold...; copied; NULL clears it). Used only
 * when printing with colours. There must be a row.
 */
void hq_table_color_last(struct hq_table *t, size_t col, const char *sgr);

/*
 * Print the table to 'out': horizontally if a header is set (header bold
 * with colours), otherwise as border, rows, border. Write errors are the
 * caller's to detect with ferror().
 */
void hq_table_print(struct hq_table *t, FILE *out, bool colors);
/*
 * Print as a vertical key/value table (normally 2 columns: key, value):
 * border, "| Key | Value |" rows, border; the keys are bold with colours.
 * A header, if set, is ignored.
 */
void hq_table_print_kv(struct hq_table *t, FILE *out, bool colors);
/* The same two layouts, appended to 'out' instead of written to a FILE. */
void hq_table_render(struct hq_table *t, struct hq_buf *out, bool colors,
    bool kv);

/*
 * Display width of the first 'len' bytes of 's': UTF-8 code points,
 * not counting ANSI escape sequences (ESC '[' ... final byte), other
 * control characters or UTF-8 continuation bytes.
 */
size_t hq_display_width(const char *s, size_t len);

/*
 * 's' shortened in the middle to at most 'max' code points, with "...":
 * the first ceil((max-3)/2) and last floor((max-3)/2) code points are
 * kept ("abcdef", 5 -> "a...f"). Unchanged if it already fits. For
 * max < 4 it is cut to its first 'max' code points without dots.
 * Caller owns the result; free with free().
 */
char *hq_truncate_middle(const char *s, size_t max);

#endif
