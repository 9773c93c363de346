/* SPDX-License-Identifier: MIT */
/*
 * A small strict TOML v1.0 parser for job definition files. Pure: no I/O.
 * Date and time values are not supported (they are rejected with an error).
 */
#ifndef HQ_TOML_H
#define HQ_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hq_errbuf;

enum hq_toml_type {
	HQ_TOML_STRING,
	HQ_TOML_INT,
	HQ_TOML_FLOAT,
	HQ_TOML_BOOL,
	HQ_TOML_ARRAY,
	HQ_TOML_TABLE,
};

/* A parsed value: a node of the tree returned by hq_toml_parse(). Opaque. */
struct hq_toml_value;

/* Nesting limit of tables and arrays (the root table is level 0). */
#define HQ_TOML_MAX_DEPTH 128

/*
 * Parse 'len' bytes of UTF-8 TOML text ('text' need not be NUL-terminated
 * and may be NULL when len is 0). On success *root is the top-level table;
 * the caller owns it and frees it with hq_toml_free(). Returns 0, or
 * HQ_EINVAL (HQ_ETOOBIG over INT_MAX bytes) with *root untouched and 'eb'
 * (may be NULL) holding "line L, column C: <problem>", where L and C are
 * 1-based and C counts characters, not bytes.
 */
int hq_toml_parse(const char *text, size_t len, struct hq_toml_value **root,
    struct hq_errbuf *eb);

/* Free a tree returned by hq_toml_parse(); NULL is a no-op. */
void hq_toml_free(struct hq_toml_value *v);

/*
 * Accessors. Every pointer they return is borrowed from the tree and valid
 * until hq_toml_free() of its root. Calling an accessor on a value of
 * another type is a programming error (HQ_ASSERT); check hq_toml_type().
 */
enum hq_toml_type hq_toml_type(const struct hq_toml_value *v);

/*
 * Where the value was defined: its first character, the '[' of a table
 * header, or for a table only created implicitly (by [a.b] or a.b = 1),
 * the key that created it. The root table is at line 1, column 1.
 */
int hq_toml_line(const struct hq_toml_value *v);
int hq_toml_col(const struct hq_toml_value *v);

/* Tables keep their keys in definition order. i < hq_toml_table_len(t). */
size_t hq_toml_table_len(const struct hq_toml_value *t);
const char *hq_toml_table_key(const struct hq_toml_value *t, size_t i);
const struct hq_toml_value *hq_toml_table_value(const struct hq_toml_value *t,
    size_t i);

/*
 * The value of 'key' in table 't', or NULL if absent. Also NULL when 't' is
 * NULL or not a table, so that lookups can be chained.
 */
const struct hq_toml_value *hq_toml_get(const struct hq_toml_value *t,
    const char *key);

/* Arrays; i < hq_toml_array_len(a). Elements may have mixed types. */
size_t hq_toml_array_len(const struct hq_toml_value *a);
const struct hq_toml_value *hq_toml_array_get(const struct hq_toml_value *a,
    size_t i);

/* NUL-terminated UTF-8; strings containing NUL are rejected by the parser. */
const char *hq_toml_string(const struct hq_toml_value *v);
int64_t hq_toml_int(const struct hq_toml_value *v);
double hq_toml_float(const struct hq_toml_value *v);
bool hq_toml_bool(const struct hq_toml_value *v);

/* "string", "integer", "float", "boolean", "array" or "table". */
const char *hq_toml_type_name(enum hq_toml_type t);

#endif
