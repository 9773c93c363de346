/* SPDX-License-Identifier: MIT */
/*
 * Parsers for the value syntaxes of the command line and of #HQ directives
 * (spec 1.2, 1.5, 2.3): id selectors, numbers, durations, resource amounts,
 * --env, --stdout/--stderr, --crash-limit, and word splitting. Pure: no I/O.
 *
 * Every parser takes a NUL-terminated string, fills its out-params only on
 * success and returns 0, or HQ_EINVAL with a message in 'eb' (which may be
 * NULL) that quotes the offending input.
 */
#ifndef HQ_PARSE_H
#define HQ_PARSE_H

#include <stdint.h>

#include "common/model.h"
#include "common/util.h"

/* ---- id selectors ------------------------------------------------------ */

enum hq_sel_kind {
	HQ_SEL_IDS = 0,
	HQ_SEL_LAST,
	HQ_SEL_ALL,
};

/* 'ids' is used only with HQ_SEL_IDS (it is empty otherwise). */
struct hq_selector {
	enum hq_sel_kind kind;
	struct hq_idset ids;
};

/* Free the ids of 's'; 's' may then be reused. */
void hq_selector_fini(struct hq_selector *s);

/* Flags for hq_parse_selector(). */
#define HQ_SEL_ALLOW_LAST 1 /* "last" is accepted */
#define HQ_SEL_ALLOW_ALL  2 /* "all" is accepted */
#define HQ_SEL_SINGLE	  4 /* only one plain id (or "last" if allowed) */

/*
 * Parse an id selector: "last", "all" or an IntArray (see
 * hq_parse_idset()), as allowed by 'allow'. With HQ_SEL_SINGLE the result
 * is HQ_SEL_LAST or HQ_SEL_IDS holding exactly one id. On success *out is
 * overwritten (not freed first); release it with hq_selector_fini().
 */
int hq_parse_selector(const char *s, int allow, struct hq_selector *out,
    struct hq_errbuf *eb);

/*
 * Parse an IntArray: comma-separated items "N", "A-B" (A <= B) or "A-B:S"
 * (0 < S <= B-A). Whitespace around items and '_' digit separators
 * ("1-1000_000") are allowed. Items that share an id are an error, so is an
 * empty string or an empty item. The ranges are kept in the order given.
 * On success *out is overwritten; free it with hq_idset_fini().
 */
int hq_parse_idset(const char *s, struct hq_idset *out, struct hq_errbuf *eb);
/*
 * Whether two ranges of s share an id; *dup gets one such id. An IntArray
 * names each task once: the CLI refuses overlapping items and the server
 * refuses such a submit from the wire.
 */
bool hq_idset_find_overlap(const struct hq_idset *s, uint32_t *dup);

/* ---- numbers ----------------------------------------------------------- */

/*
 * Decimal integers. The first character must be a digit (or, for i32, an
 * optional '+'/'-' before it); later '_' separators are allowed. No
 * surrounding whitespace. Values out of the type's range are an error.
 */
int hq_parse_u32(const char *s, uint32_t *out, struct hq_errbuf *eb);
int hq_parse_u16(const char *s, uint16_t *out, struct hq_errbuf *eb);
int hq_parse_i32(const char *s, int32_t *out, struct hq_errbuf *eb);
int hq_parse_u64(const char *s, uint64_t *out, struct hq_errbuf *eb);
/* Decimal float ("1", "-2.5", "1e3", ".5"); must be finite. No hex/inf/nan. */
int hq_parse_f64(const char *s, double *out, struct hq_errbuf *eb);

/* ---- durations --------------------------------------------------------- */

/*
 * Duration (spec 1.2): "[[HH:]MM:]SS" ("01:00:00", "5:00", "30" = 30 s;
 * fields are not range-checked, "1:90" is 150 s) or humantime (see
 * hq_parse_humantime()). Result in milliseconds.
 */
int hq_parse_duration(const char *s, uint64_t *ms, struct hq_errbuf *eb);

/*
 * Humantime only: one or more "<number>[ ]<unit>" spans, optionally
 * separated by whitespace ("1h", "2h5m10s", "3h 10m 5s",
 * "2 hours 5 minutes", "15days 2min 2s", "500ms"). Units (case-sensitive):
 * ns nsec nanos, us usec, ms msec millis, s sec secs second seconds,
 * m min mins minute minutes, h hr hrs hour hours, d day days,
 * w week weeks, M month months (30.44 d), y year years (365.25 d).
 * Result in milliseconds; sub-millisecond parts are dropped, except that a
 * non-zero input whose total is below 1 ms gives 1 ms.
 */
int hq_parse_humantime(const char *s, uint64_t *ms, struct hq_errbuf *eb);

/* ---- submit option values ---------------------------------------------- */

/*
 * Resource amount: a u32 with an optional '.' and 1 to 4 fractional digits
 * ('_' allowed after the first digit of each part). Result in 1/10000
 * units ("1.5" -> 15000). Five or more fractional digits give an error
 * whose text contains "Resource precision exceeded".
 */
int hq_parse_amount(const char *s, uint64_t *out, struct hq_errbuf *eb);

/*
 * --env K=V: only the first '=' splits; "K" alone gives the value "".
 * An empty key is an error. On success *key and *value are malloc'd and
 * owned by the caller (free()).
 */
int hq_parse_env(const char *s, char **key, char **value, struct hq_errbuf *eb);

/*
 * --stdout/--stderr SPEC: "none" -> HQ_STDIO_NONE; "<path>" -> FILE;
 * "<path>:rm-if-finished" -> FILE + rm_if_finished; ":rm-if-finished" ->
 * FILE with path NULL (the default path) + rm_if_finished. An empty SPEC
 * is an error. On success *out is overwritten; out->path is malloc'd (or
 * NULL) and owned by the caller.
 */
int hq_parse_stdio(const char *s, struct hq_stdio *out, struct hq_errbuf *eb);

/*
 * --crash-limit N|never-restart|unlimited: N is a u16 >= 1. Result as in
 * model.h: N, HQ_CRASH_UNLIMITED or HQ_CRASH_NEVER_RESTART.
 */
int hq_parse_crash_limit(const char *s, int32_t *out, struct hq_errbuf *eb);

/* ---- word splitting ---------------------------------------------------- */

/*
 * Split the text of a #HQ directive line (after "#HQ ") into words (spec
 * 2.3). Words are separated by blanks (space, tab, CR, LF). Double quotes
 * group ("a b" is one word, x"a b" is the word xa b, "" is an empty word);
 * inside them \" gives " and \\ gives \, any other backslash is literal.
 * Outside quotes a backslash before a blank, '"' or '\' makes that
 * character literal; any other backslash is literal. Single quotes are not
 * special. An unterminated quote is an error.
 * On success *argvp is a malloc'd NULL-terminated array of malloc'd
 * strings (free with hq_strv_free()) and *argcp its length (may be 0).
 */
int hq_split_directive(const char *s, char ***argvp, int *argcp,
    struct hq_errbuf *eb);

/*
 * POSIX-shell-like word splitting, for --on-notify and worker start/stop
 * commands: blanks separate words; single quotes are literal; inside double
 * quotes a backslash escapes only \ " $ ` and newline (backslash-newline
 * is removed); outside quotes a backslash makes the next character literal
 * (backslash-newline is removed). No expansions, no comments. An
 * unterminated quote or a trailing lone backslash is an error.
 * Result as for hq_split_directive().
 */
int hq_split_shell(const char *s, char ***argvp, int *argcp,
    struct hq_errbuf *eb);

/* Free a NULL-terminated array of strings and the strings; NULL is ok. */
void hq_strv_free(char **v);

/*
 * Join 'base' and 'path' without touching the filesystem: an absolute
 * 'path' is copied; otherwise leading "./" components (and a lone ".") of
 * 'path' are dropped and the result is base "/" path, with no doubled '/'
 * at the join. Returns a malloc'd string owned by the caller.
 */
char *hq_path_join(const char *base, const char *path);

#endif
