/* SPDX-License-Identifier: MIT */
/*
 * hq doc [--open] [TOPIC] (spec 1.11): HyperQueue prints the URL of its
 * online docs; we point at our own: README.md and docs/ next to the
 * binary (the source tree for build/hq, or <prefix>/share/doc/hq).
 */
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"

#define DOC_TOPICS                                                         \
	"job|jobs|tasks|taskarray|resources|worker|workers|autoalloc|pbs|" \
	"slurm|python-api|python|cheatsheet|changelog|faq"

extern char **environ;

static const struct hq_opt doc_opts[] = {
	{ "open", 0, HQ_OPT_FLAG, NULL, "Open the documentation" },
	{ NULL, 0, 0, NULL, NULL },
};

/* Topic -> file of our docs and section anchor. */
static const struct {
	const char *topic, *file, *anchor;
} doc_topics[] = {
	{ "job", "README.md", "jobs" },
	{ "jobs", "README.md", "jobs" },
	{ "tasks", "README.md", "jobs" },
	{ "taskarray", "README.md", "jobs" },
	{ "resources", "README.md", "resources" },
	{ "worker", "README.md", "workers" },
	{ "workers", "README.md", "workers" },
	{ "autoalloc", "README.md", "automatic-allocation" },
	{ "pbs", "README.md", "automatic-allocation" },
	{ "slurm", "README.md", "automatic-allocation" },
	{ "python-api", "docs/COMPATIBILITY.md", "python-api" },
	{ "python", "docs/COMPATIBILITY.md", "python-api" },
	{ "cheatsheet", "README.md", "quick-start" },
	{ "changelog", "docs/COMPATIBILITY.md", NULL },
	{ "faq", "docs/COMPATIBILITY.md", NULL },
};

/* The directory holding README.md and docs/, or NULL. malloc'd. */
static char *
doc_root(void)
{
	static const char *const rel[] = { "..", "../share/doc/hq" };
	char exe[PATH_MAX], path[PATH_MAX + 64], *slash;
	ssize_t n;
	size_t i;

	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return NULL;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return NULL;
	*slash = '\0';
	for (i = 0; i < HQ_ARRAY_LEN(rel); i++) {
		char *real;

		snprintf(path, sizeof path, "%s/%s/docs", exe, rel[i]);
		if (access(path, F_OK) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", exe, rel[i]);
		if ((real = realpath(path, NULL)) != NULL)
			return real;
	}
	return NULL;
}

static void
doc_open(struct cli *c, const char *url)
{
	char *argv[] = { (char *)"xdg-open", (char *)url, NULL };
	pid_t pid;
	int rc, st;

	rc = posix_spawnp(&pid, "xdg-open", NULL, NULL, argv, environ);
	if (rc != 0)
		cli_fail(c, "Cannot open %s: xdg-open: %s", url, strerror(rc));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			cli_fail(c, "Cannot open %s: %s", url, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cli_fail(c, "Cannot open %s: xdg-open failed", url);
}

int
cmd_doc(struct cli *c, int argc, char **argv)
{
	const char *topic, *file = "README.md", *anchor = NULL;
	struct hq_args a;
	char *root, *url;
	size_t i;

	cli_parse(c, &a, doc_opts, argc, argv, 1, false, "[" DOC_TOPICS "]",
	    "Print (or open) the location of the documentation");
	topic = a.npos > 0 ? a.pos[0] : NULL;
	if (topic != NULL) {
		for (i = 0; i < HQ_ARRAY_LEN(doc_topics); i++)
			if (strcmp(doc_topics[i].topic, topic) == 0)
				break;
		if (i == HQ_ARRAY_LEN(doc_topics)) {
			struct hq_buf b;

			hq_buf_init(&b);
			for (i = 0; i < HQ_ARRAY_LEN(doc_topics); i++)
				hq_buf_printf(&b, "%s%s", i ? ", " : "",
				    doc_topics[i].topic);
			hq_buf_append(&b, "", 1);
			cli_fail(c,
			    "error: invalid value '%s' for '[PAGE]'\n  "
			    "[possible values: %s]\n\nFor more information, "
			    "try '--help'.",
			    topic, (char *)b.data);
		}
		file = doc_topics[i].file;
		anchor = doc_topics[i].anchor;
	}
	if ((root = doc_root()) != NULL) {
		url = hq_xprintf("file://%s/%s%s%s", root, file,
		    anchor ? "#" : "", anchor ? anchor : "");
	} else {
		/* Installed without docs: name them in the source tree. */
		hq_warn("The hq documentation was not found next to the "
			"binary; the path is relative to the hq source tree");
		url = hq_xprintf("%s%s%s", file, anchor ? "#" : "",
		    anchor ? anchor : "");
	}
	if (hq_args_flag(&a, "open")) {
		doc_open(c, url);
	} else if (c->mode == CLI_MODE_JSON) {
		json_t *j = json_pack("{s:s}", "url", url);

		cli_print_json(c, j);
		json_decref(j);
	} else {
		printf("%s\n", url);
	}
	free(url);
	free(root);
	hq_args_fini(&a);
	return 0;
}
