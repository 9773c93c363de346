/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing in the manner of HyperQueue's (clap): long options
 * with a value as the next word or after '=', short options, repeatable
 * options, global options valid anywhere, and an optional trailing command
 * (everything from the first positional, or after "--").
 */
#ifndef HQ_ARGS_H
#define HQ_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

enum hq_opt_kind {
	HQ_OPT_FLAG = 0, /* --flag */
	HQ_OPT_VALUE,	 /* --opt VALUE (last one wins) */
	HQ_OPT_MULTI,	 /* --opt VALUE, repeatable */
};

struct hq_opt {
	const char *name; /* long name without "--" */
	char short_name;  /* 0: none */
	enum hq_opt_kind kind;
	const char *value_name; /* for help */
	const char *help;
};

#define HQ_ARGS_MAX_OPTS 64

struct hq_args {
	const struct hq_opt *opts;
	uint32_t nopts;
	bool given[HQ_ARGS_MAX_OPTS];
	const char *value[HQ_ARGS_MAX_OPTS];
	const char **multi[HQ_ARGS_MAX_OPTS];
	uint32_t nmulti[HQ_ARGS_MAX_OPTS];
	const char **pos; /* positionals (before the trailing command) */
	uint32_t npos;
	const char **trail; /* trailing command and its arguments */
	uint32_t ntrail;
	bool help;
};

/*
 * Parse argv[0..argc) against opts (terminated by a zeroed entry).
 * max_pos positionals are taken; with 'trailing', the next positional
 * starts the trailing command. Strings point into argv. Returns 0, or
 * HQ_EINVAL with a message naming the problem.
 */
int hq_args_parse(struct hq_args *a, const struct hq_opt *opts, int argc,
    char **argv, uint32_t max_pos, bool trailing, struct hq_errbuf *eb);
void hq_args_fini(struct hq_args *a);

/* Index of an option by long name (asserts it exists). */
int hq_args_index(const struct hq_args *a, const char *name);
bool hq_args_flag(const struct hq_args *a, const char *name);
/* The value, or NULL if not given. */
const char *hq_args_get(const struct hq_args *a, const char *name);
/* Values of a repeatable option. */
const char **hq_args_multi(const struct hq_args *a, const char *name,
    uint32_t *n);

/* Print "Usage: hq <path> ..." and the option list. */
void hq_args_usage(const char *path, const char *about,
    const struct hq_opt *opts, const char *positional);

#endif
