/* SPDX-License-Identifier: MIT */
/* Option parsing for the hq command line. */
#include "cli/args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
find_long(const struct hq_args *a, const char *name, size_t len)
{
	uint32_t i;

	for (i = 0; i < a->nopts; i++)
		if (strlen(a->opts[i].name) == len &&
		    strncmp(a->opts[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static int
find_short(const struct hq_args *a, char c)
{
	uint32_t i;

	for (i = 0; i < a->nopts; i++)
		if (a->opts[i].short_name == c)
			return (int)i;
	return -1;
}

static void
set_value(struct hq_args *a, int i, const char *v)
{
	a->given[i] = true;
	if (a->opts[i].kind == HQ_OPT_MULTI) {
		a->multi[i] = hq_xreallocarray(a->multi[i], a->nmulti[i] + 1,
		    sizeof *a->multi[i]);
		a->multi[i][a->nmulti[i]++] = v;
	} else {
		a->value[i] = v;
	}
}

int
hq_args_parse(struct hq_args *a, const struct hq_opt *opts, int argc,
    char **argv, uint32_t max_pos, bool trailing, struct hq_errbuf *eb)
{
	int k;

	memset(a, 0, sizeof *a);
	a->opts = opts;
	while (opts[a->nopts].name != NULL)
		a->nopts++;
	HQ_ASSERT(a->nopts <= HQ_ARGS_MAX_OPTS);
	a->pos = hq_xcalloc((size_t)argc + 1, sizeof *a->pos);
	for (k = 0; k < argc; k++) {
		const char *arg = argv[k];

		if (strcmp(arg, "--") == 0) {
			if (trailing && k + 1 < argc) {
				a->trail = (const char **)argv + k + 1;
				a->ntrail = (uint32_t)(argc - k - 1);
			} else if (!trailing && k + 1 < argc) {
				int j;

				for (j = k + 1; j < argc; j++) {
					if (a->npos >= max_pos)
						return hq_errf(eb, HQ_EINVAL,
						    "unexpected argument '%s' "
						    "found",
						    argv[j]);
					a->pos[a->npos++] = argv[j];
				}
			}
			return 0;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			a->help = true;
			continue;
		}
		if (arg[0] == '-' && arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			int i = find_long(a, name, len);

			if (i < 0)
				return hq_errf(eb, HQ_EINVAL,
				    "unexpected argument '%.*s' found",
				    (int)(len + 2), arg);
			if (opts[i].kind == HQ_OPT_FLAG) {
				if (eq != NULL)
					return hq_errf(eb, HQ_EINVAL,
					    "unexpected value '%s' for '--%s'",
					    eq + 1, opts[i].name);
				a->given[i] = true;
				continue;
			}
			if (eq != NULL) {
				set_value(a, i, eq + 1);
			} else if (k + 1 < argc) {
				set_value(a, i, argv[++k]);
			} else {
				return hq_errf(eb, HQ_EINVAL,
				    "a value is required for '--%s <%s>' but "
				    "none was supplied",
				    opts[i].name,
				    opts[i].value_name ? opts[i].value_name
						       : "VALUE");
			}
			continue;
		}
		if (arg[0] == '-' && arg[1] != '\0' &&
		    !(arg[1] >= '0' && arg[1] <= '9')) {
			const char *p;

			for (p = arg + 1; *p; p++) {
				int i = find_short(a, *p);

				if (i < 0)
					return hq_errf(eb, HQ_EINVAL,
					    "unexpected argument '-%c' found",
					    *p);
				if (opts[i].kind == HQ_OPT_FLAG) {
					a->given[i] = true;
					continue;
				}
				if (p[1] != '\0') {
					set_value(a, i,
					    p[1] == '=' ? p + 2 : p + 1);
				} else if (k + 1 < argc) {
					set_value(a, i, argv[++k]);
				} else {
					return hq_errf(eb, HQ_EINVAL,
					    "a value is required for '-%c' but "
					    "none was supplied",
					    *p);
				}
				break;
			}
			continue;
		}
		if (a->npos < max_pos) {
			a->pos[a->npos++] = arg;
			continue;
		}
		if (trailing) {
			a->trail = (const char **)argv + k;
			a->ntrail = (uint32_t)(argc - k);
			return 0;
		}
		return hq_errf(eb, HQ_EINVAL, "unexpected argument '%s' found",
		    arg);
	}
	return 0;
}

void
hq_args_fini(struct hq_args *a)
{
	uint32_t i;

	for (i = 0; i < a->nopts; i++)
		free(a->multi[i]);
	free(a->pos);
	memset(a, 0, sizeof *a);
}

int
hq_args_index(const struct hq_args *a, const char *name)
{
	int i = find_long(a, name, strlen(name));

	HQ_ASSERT(i >= 0);
	return i;
}

bool
hq_args_flag(const struct hq_args *a, const char *name)
{
	return a->given[hq_args_index(a, name)];
}

const char *
hq_args_get(const struct hq_args *a, const char *name)
{
	int i = hq_args_index(a, name);

	return a->given[i] ? a->value[i] : NULL;
}

const char **
hq_args_multi(const struct hq_args *a, const char *name, uint32_t *n)
{
	int i = hq_args_index(a, name);

	*n = a->nmulti[i];
	return a->multi[i];
}

void
hq_args_usage(const char *path, const char *about, const struct hq_opt *opts,
    const char *positional)
{
	const struct hq_opt *o;

	if (about)
		printf("%s\n\n", about);
	printf("Usage: hq %s [OPTIONS]%s%s\n\nOptions:\n", path,
	    positional ? " " : "", positional ? positional : "");
	for (o = opts; o->name != NULL; o++) {
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof left, "-%c, --%s%s%s%s",
			    o->short_name, o->name, o->kind ? " <" : "",
			    o->kind ? (o->value_name ? o->value_name : "VALUE")
				    : "",
			    o->kind ? ">" : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s%s", o->name,
			    o->kind ? " <" : "",
			    o->kind ? (o->value_name ? o->value_name : "VALUE")
				    : "",
			    o->kind ? ">" : "");
		printf("  %-34s %s\n", left, o->help ? o->help : "");
	}
	printf("  %-34s %s\n", "-h, --help", "Print help");
}
