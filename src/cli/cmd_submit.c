/* SPDX-License-Identifier: MIT */
/*
 * hq submit / hq job submit: options, #HQ directives (spec 2.3), entries
 * (--each-line, --from-json), stdin, and the submit request.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/entries.h"
#include "cli/jsonout.h"
#include "common/log.h"
#include "common/placeholder.h"
#include "common/resource.h"
#include "common/taskpath.h"

/* Options allowed in #HQ directives come first (spec 1.5 "task options",
 * plus --name and --max-fails); submit-only options follow. */
#define TASK_OPTS                                                              \
	{ "nodes", 0, HQ_OPT_VALUE, "N",                                       \
		"Number of nodes (multi-node task)" },                         \
	    { "cpus", 0, HQ_OPT_VALUE, "REQ",                                  \
		    "CPUs per task (\"2\", \"4 scatter\", \"all\")" },         \
	    { "resource", 0, HQ_OPT_MULTI, "NAME=REQ",                         \
		    "Resource request (repeatable)" },                         \
	    { "time-request", 0, HQ_OPT_VALUE, "TIME",                         \
		    "Minimal remaining worker lifetime" },                     \
	    { "weight", 0, HQ_OPT_VALUE, "FLOAT", "Resource request weight" }, \
	    { "pin", 0, HQ_OPT_VALUE, "taskset|omp",                           \
		    "Pin the task to its CPUs" },                              \
	    { "cwd", 0, HQ_OPT_VALUE, "PATH", "Working directory" },           \
	    { "stdout", 0, HQ_OPT_VALUE, "SPEC",                               \
		    "Path, none, or <path>:rm-if-finished" },                  \
	    { "stderr", 0, HQ_OPT_VALUE, "SPEC",                               \
		    "Path, none, or <path>:rm-if-finished" },                  \
	    { "env", 0, HQ_OPT_MULTI, "KEY=VALUE",                             \
		    "Environment variable (repeatable)" },                     \
	    { "each-line", 0, HQ_OPT_VALUE, "FILE",                            \
		    "One task per line of FILE" },                             \
	    { "from-json", 0, HQ_OPT_VALUE, "FILE",                            \
		    "One task per element of a JSON array" },                  \
	    { "array", 0, HQ_OPT_VALUE, "IDS", "Task ids, e.g. 1-100" },       \
	    { "priority", 0, HQ_OPT_VALUE, "N", "Higher runs first" },         \
	    { "time-limit", 0, HQ_OPT_VALUE, "TIME",                           \
		    "Wall-time limit of each task" },                          \
	    { "stream", 0, HQ_OPT_VALUE, "DIR", "Stream outputs into DIR" },   \
	    { "task-dir", 0, HQ_OPT_FLAG, NULL,                                \
		    "Create a temporary directory per task" },                 \
	    { "crash-limit", 0, HQ_OPT_VALUE, "N",                             \
		    "N, never-restart or unlimited" },                         \
	    { "name", 0, HQ_OPT_VALUE, "NAME", "Name of the job" },            \
	{                                                                      \
		"max-fails", 0, HQ_OPT_VALUE, "N",                             \
		    "Abort the job after more than N failed tasks"             \
	}

static const struct hq_opt directive_opts[] = {
	TASK_OPTS,
	{ NULL, 0, 0, NULL, NULL },
};

static const struct hq_opt submit_opts[] = {
	TASK_OPTS,
	{ "job", 0, HQ_OPT_VALUE, "JOB_ID", "Submit into an open job" },
	{ "wait", 0, HQ_OPT_FLAG, NULL, "Wait until the job completes" },
	{ "progress", 0, HQ_OPT_FLAG, NULL, "Show a progress bar until done" },
	{ "on-notify", 0, HQ_OPT_VALUE, "CMD",
	    "Run CMD for each task notification (with --wait)" },
	{ "stdin", 0, HQ_OPT_FLAG, NULL, "Feed this command's stdin to tasks" },
	{ "directives", 0, HQ_OPT_VALUE, "auto|file|stdin|off",
	    "Parsing of #HQ directives" },
	{ NULL, 0, 0, NULL, NULL },
};

struct submit_ctx {
	struct cli *c;
	struct hq_args *cli_args;
	struct hq_args *dir_args; /* NULL without directives */
	char **dir_words;	  /* keeps the strings dir_args points to */
};

/* Effective single value: the CLI wins when it gave the option. */
static const char *
eff(struct submit_ctx *s, const char *name)
{
	const char *v = hq_args_get(s->cli_args, name);

	if (v != NULL || s->dir_args == NULL)
		return v;
	return hq_args_get(s->dir_args, name);
}

static bool
eff_flag(struct submit_ctx *s, const char *name)
{
	return hq_args_flag(s->cli_args, name) ||
	    (s->dir_args != NULL && hq_args_flag(s->dir_args, name));
}

/* Repeatable options concatenate: directives first, then the CLI. */
static const char **
eff_multi(struct submit_ctx *s, const char *name, uint32_t *n)
{
	const char **out = NULL, **v;
	uint32_t nv, i;

	*n = 0;
	if (s->dir_args != NULL) {
		v = hq_args_multi(s->dir_args, name, &nv);
		for (i = 0; i < nv; i++) {
			out = hq_xreallocarray(out, *n + 1, sizeof *out);
			out[(*n)++] = v[i];
		}
	}
	v = hq_args_multi(s->cli_args, name, &nv);
	for (i = 0; i < nv; i++) {
		out = hq_xreallocarray(out, *n + 1, sizeof *out);
		out[(*n)++] = v[i];
	}
	return out;
}

static char *
read_file(struct cli *c, const char *path, size_t max, size_t *lenp,
    bool truncate_ok)
{
	struct stat sb;
	char *buf;
	size_t len = 0, cap;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		cli_fail(c, "Cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))
		cli_fail(c, "Cannot read %s: it is a directory", path);
	cap = 65536;
	buf = hq_xmalloc(cap + 1);
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			if (truncate_ok && len >= max)
				break;
			cap *= 2;
			buf = hq_xrealloc(buf, cap + 1);
		}
	}
	if (n < 0)
		cli_fail(c, "Cannot read %s: %s", path, strerror(errno));
	close(fd);
	if (truncate_ok && len > max)
		len = max;
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static char *
read_stdin(struct cli *c, size_t *lenp)
{
	char *buf = hq_xmalloc(65537);
	size_t len = 0, cap = 65536;
	ssize_t n;

	while ((n = read(0, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			cap *= 2;
			buf = hq_xrealloc(buf, cap + 1);
		}
	}
	if (n < 0)
		cli_fail(c, "Cannot read stdin: %s", strerror(errno));
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/*
 * Collect the words of the leading #HQ block of 'text' (spec 2.3). Also
 * returns the shebang line (line 0 starting with "#!") if any.
 */
static char **
directive_words(struct cli *c, const char *text, size_t len, int *nwords,
    char **shebang)
{
	char **words = NULL;
	const char *p = text, *end = text + len;
	int n = 0, lineno = 0;

	*shebang = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char *line = hq_xstrndup(p, (size_t)(le - p)), *t = line;
		size_t l;

		l = strlen(line);
		if (l > 0 && line[l - 1] == '\r')
			line[l - 1] = '\0';
		if (lineno == 0 && strncmp(line, "#!", 2) == 0)
			*shebang = hq_xstrdup(line + 2);
		while (*t == ' ' || *t == '\t')
			t++;
		if (*t != '\0' && *t != '#') {
			free(line);
			break;
		}
		if (strncmp(t, "#HQ ", 4) == 0) {
			struct hq_errbuf eb;
			char **v;
			int k, nv;

			if (hq_split_directive(t + 4, &v, &nv, &eb) != 0)
				cli_fail(c,
				    "Invalid #HQ directive on line "
				    "%d: %s",
				    lineno + 1, eb.msg);
			for (k = 0; k < nv; k++) {
				words = hq_xreallocarray(words, (size_t)n + 2,
				    sizeof *words);
				words[n++] = v[k];
				v[k] = NULL;
			}
			hq_strv_free(v);
		}
		free(line);
		lineno++;
		p = nl ? nl + 1 : end;
	}
	if (words != NULL)
		words[n] = NULL;
	*nwords = n;
	return words;
}

static void
check_name(struct cli *c, const char *name)
{
	if (strchr(name, '\n') || strchr(name, '\t'))
		cli_fail(c, "Job name must not contain a newline or a tab");
}

static void
add_entry(struct hq_res_variant *v, struct cli *c, const char *name,
    const char *req)
{
	struct hq_res_entry e;
	struct hq_errbuf eb;

	if (hq_parse_request_entry(name, req, &e, &eb) != 0)
		cli_fail(c, "Invalid resource request %s=%s: %s", name, req,
		    eb.msg);
	if (hq_variant_add_entry(v, &e, &eb) != 0)
		cli_fail(c, "%s", eb.msg);
}

static void
build_resources(struct submit_ctx *s, struct hq_task_desc *d)
{
	struct cli *c = s->c;
	struct hq_res_variant *v;
	const char *cpus = eff(s, "cpus"), *nodes = eff(s, "nodes"), *x;
	const char **res;
	struct hq_errbuf eb;
	uint32_t nres, i;

	d->req.n = 1;
	d->req.v = v = hq_xcalloc(1, sizeof *v);
	v->weight = 10000;
	if ((x = hq_args_get(s->cli_args, "weight")) != NULL) {
		double w;

		/* Stored x10000 in 32 bits. */
		if (hq_parse_f64(x, &w, &eb) != 0 || !(w > 0))
			cli_fail(c,
			    "Invalid weight '%s': must be a number "
			    "greater than 0",
			    x);
		if (w > (double)UINT32_MAX / 10000.0)
			cli_fail(c, "Invalid weight '%s': must be at most %u",
			    x, (unsigned)(UINT32_MAX / 10000u));
		v->weight = (uint32_t)(w * 10000.0 + 0.5);
		if (v->weight == 0)
			v->weight = 1;
	}
	if ((x = eff(s, "time-request")) != NULL &&
	    hq_parse_duration(x, &v->min_time_ms, &eb) != 0)
		cli_fail(c, "invalid value for '--time-request': %s", eb.msg);
	res = eff_multi(s, "resource", &nres);
	if (nodes != NULL) {
		if (hq_parse_u32(nodes, &v->n_nodes, &eb) != 0)
			cli_fail(c, "invalid value for '--nodes': %s", eb.msg);
		if (cpus != NULL)
			cli_fail(c,
			    "the argument '--nodes <NODES>' cannot be "
			    "used with '--cpus <CPUS>'");
		if (eff(s, "pin") != NULL)
			cli_fail(c,
			    "the argument '--nodes <NODES>' cannot be "
			    "used with '--pin <PIN>'");
	}
	if (cpus != NULL)
		add_entry(v, c, "cpus", cpus);
	for (i = 0; i < nres; i++) {
		char *name, *req;

		if (hq_split_name_value(res[i], &name, &req, &eb) != 0)
			cli_fail(c, "Invalid --resource '%s': %s", res[i],
			    eb.msg);
		if (strcmp(name, "cpus") == 0 && cpus != NULL)
			cli_fail(c,
			    "--cpus and --resource cpus=... cannot be "
			    "combined");
		add_entry(v, c, name, req);
		free(name);
		free(req);
	}
	free(res);
	if (v->n_nodes > 0) {
		if (v->n > 0)
			cli_fail(c,
			    "a multi-node task (--nodes) cannot "
			    "request resources");
		return;
	}
	for (i = 0; i < v->n; i++)
		if (strcmp(v->e[i].name, "cpus") == 0)
			return;
	/* No CPU request: the default "cpus = 1 compact", listed first. */
	add_entry(v, c, "cpus", "1");
	if (v->n > 1) {
		struct hq_res_entry tmp = v->e[v->n - 1];

		memmove(&v->e[1], &v->e[0], (v->n - 1) * sizeof *v->e);
		v->e[0] = tmp;
	}
}

static void
parse_stdio(struct submit_ctx *s, const char *name, struct hq_stdio *io,
    const char *dflt, bool stream)
{
	const char *v = eff(s, name);
	struct hq_errbuf eb;

	memset(io, 0, sizeof *io);
	if (v == NULL) {
		io->kind = stream ? HQ_STDIO_STREAM : HQ_STDIO_FILE;
		if (!stream)
			io->path = hq_xstrdup(dflt);
		return;
	}
	if (hq_parse_stdio(v, io, &eb) != 0)
		cli_fail(s->c, "invalid value for '--%s': %s", name, eb.msg);
	if (io->kind == HQ_STDIO_FILE && io->path == NULL)
		io->path = hq_xstrdup(dflt);
}

static void
warn_placeholders(const char *what, const char *path)
{
	struct hq_buf b;

	if (path == NULL)
		return;
	hq_buf_init(&b);
	if (hq_ph_unknown(path, &b) > 0)
		hq_warn("Unknown placeholder(s) %s in %s: they are left as "
			"they are",
		    (char *)b.data, what);
	hq_buf_fini(&b);
}

/* Entries of --each-line: split on '\n'; no extra task after a final one. */
static char **
entries_from_lines(struct cli *c, const char *path, uint32_t *n)
{
	size_t len, i, start = 0;
	char *text = read_file(c, path, 0, &len, false), **out = NULL;

	*n = 0;
	if (len > 100u * 1024 * 1024)
		hq_warn("File %s is larger than 100 MB", path);
	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (i == len && start == len)
			break;
		out = hq_xreallocarray(out, *n + 1, sizeof *out);
		out[(*n)++] = hq_xstrndup(text + start, i - start);
		start = i + 1;
	}
	free(text);
	return out;
}

static char **
entries_from_json(struct cli *c, const char *path, uint32_t *n)
{
	struct hq_errbuf eb;
	char **out = NULL, *text;
	size_t len;
	int rc;

	/* Read it ourselves: jansson reports a missing file as "line -1". */
	text = read_file(c, path, 0, &len, false);
	rc = hq_entries_from_json(text, len, path, &out, n, &eb);
	free(text);
	if (rc != 0)
		cli_fail(c, "%s", eb.msg);
	return out;
}

int
cmd_submit(struct cli *c, int argc, char **argv)
{
	struct hq_args a, d;
	struct submit_ctx s;
	struct hq_cmsg m;
	struct hq_smsg r;
	struct hq_submit *sub;
	struct hq_task_desc *desc;
	struct hq_errbuf eb;
	const char *v, *mode, *group_src = NULL;
	char **cmd, *shebang = NULL, *stdin_data = NULL, cwd[PATH_MAX];
	uint32_t ncmd, i, nenv;
	size_t stdin_len = 0;
	const char **envs;
	bool stream, is_array;
	struct hq_idset ids;
	char **entries = NULL;
	uint32_t nentries = 0;
	int ndirw = 0, nnotify = 0;
	uint32_t job_id = 0;
	char **notify_cmd = NULL;

	memset(&s, 0, sizeof s);
	memset(&ids, 0, sizeof ids);
	s.c = c;
	cli_parse(c, &a, submit_opts, argc, argv, 0, true, "<COMMAND>...",
	    "Submit a job");
	s.cli_args = &a;
	if (a.ntrail == 0)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <COMMANDS>...");
	ncmd = a.ntrail;
	cmd = (char **)a.trail;
	if (hq_args_flag(&a, "wait") && hq_args_flag(&a, "progress"))
		cli_fail(c,
		    "error: the argument '--wait' cannot be used with "
		    "'--progress'");
	mode = hq_args_get(&a, "directives");
	if (mode == NULL)
		mode = "auto";
	if (strcmp(mode, "auto") && strcmp(mode, "file") &&
	    strcmp(mode, "stdin") && strcmp(mode, "off"))
		cli_fail(c,
		    "invalid value '%s' for '--directives' [possible "
		    "values: auto, file, stdin, off]",
		    mode);
	if (strcmp(mode, "stdin") == 0 && !hq_args_flag(&a, "stdin"))
		cli_fail(c, "--directives=stdin requires --stdin");
	if ((v = hq_args_get(&a, "on-notify")) != NULL) {
		if (hq_split_shell(v, &notify_cmd, &nnotify, &eb) != 0)
			cli_fail(c, "invalid value for '--on-notify': %s",
			    eb.msg);
		if (nnotify == 0)
			cli_fail(c,
			    "invalid value for '--on-notify': the command is "
			    "empty");
	}
	if (hq_args_flag(&a, "stdin")) {
		printf("Reading data from stdin. In the interactive mode press "
		       "Ctrl-D to submit.\n");
		fflush(stdout);
		stdin_data = read_stdin(c, &stdin_len);
	}

	/* #HQ directives. */
	{
		char **words = NULL, *text = NULL;
		size_t tlen = 0, clen = strlen(cmd[0]);
		bool from_file = false;

		if (strcmp(mode, "file") == 0 ||
		    (strcmp(mode, "auto") == 0 && clen > 3 &&
			strcmp(cmd[0] + clen - 3, ".sh") == 0)) {
			text = read_file(c, cmd[0], 32 * 1024, &tlen, true);
			from_file = true;
		} else if (strcmp(mode, "stdin") == 0) {
			text = hq_xstrndup(stdin_data ? stdin_data : "",
			    HQ_MIN(stdin_len, (size_t)32 * 1024));
			tlen = strlen(text);
		}
		if (text != NULL) {
			words =
			    directive_words(c, text, tlen, &ndirw, &shebang);
			if (!from_file) {
				free(shebang);
				shebang = NULL;
			}
		}
		free(text);
		if (words != NULL) {
			if (hq_args_parse(&d, directive_opts, ndirw, words, 0,
				false, &eb) != 0)
				cli_fail(c,
				    "You have used invalid parameter(s) after "
				    "a #HQ directive.\n%s",
				    eb.msg);
			s.dir_args = &d;
			s.dir_words = words;
		}
	}
	/* --array/--each-line/--from-json come as a whole from one place. */
	if (hq_args_get(&a, "array") || hq_args_get(&a, "each-line") ||
	    hq_args_get(&a, "from-json") || s.dir_args == NULL)
		group_src = "cli";
	else
		group_src = "dir";
#define GROUP(name)                                            \
	(strcmp(group_src, "cli") == 0 ? hq_args_get(&a, name) \
				       : hq_args_get(s.dir_args, name))

	if (GROUP("each-line") && GROUP("from-json"))
		cli_fail(c,
		    "error: the argument '--each-line <FILE>' cannot "
		    "be used with '--from-json <FILE>'");

	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_SUBMIT;
	sub = &m.submit;
	sub->ndescs = 1;
	sub->descs = desc = hq_xcalloc(1, sizeof *desc);

	/* Job-level options. */
	if ((v = hq_args_get(&a, "job")) != NULL) {
		if (hq_parse_u32(v, &job_id, &eb) != 0)
			cli_fail(c, "invalid value for '--job': %s", eb.msg);
		if (eff(&s, "name") != NULL)
			cli_fail(c,
			    "Parameter --name is not allowed when "
			    "submitting to an open job.");
		if (eff(&s, "max-fails") != NULL)
			cli_fail(c,
			    "Parameter --max-fails is not allowed "
			    "when submitting to an open job.");
	}
	m.job_id = job_id;
	if ((v = eff(&s, "name")) != NULL) {
		check_name(c, v);
		m.name = hq_xstrdup(v);
	} else {
		const char *base = strrchr(cmd[0], '/');

		m.name = hq_xstrdup(base ? base + 1 : cmd[0]);
		if (m.name[0] == '\0') {
			free(m.name);
			m.name = hq_xstrdup("job");
		}
	}
	if ((v = eff(&s, "max-fails")) != NULL) {
		if (hq_parse_u32(v, &m.max_fails, &eb) != 0)
			cli_fail(c, "invalid value for '--max-fails': %s",
			    eb.msg);
		m.has_max_fails = true;
	}

	/* The command (with the script's shebang words first). */
	{
		char **sw = NULL;
		int nsw = 0, k;

		if (shebang != NULL && s.dir_args != NULL &&
		    hq_split_directive(shebang, &sw, &nsw, &eb) != 0)
			nsw = 0;
		desc->argv =
		    hq_xcalloc((size_t)nsw + ncmd + 1, sizeof *desc->argv);
		for (k = 0; k < nsw; k++)
			desc->argv[desc->argc++] = hq_xstrdup(sw[k]);
		for (i = 0; i < ncmd; i++)
			desc->argv[desc->argc++] = hq_xstrdup(cmd[i]);
		if (sw != NULL)
			hq_strv_free(sw);
	}

	/* Environment: directives, then the CLI; the last duplicate wins. */
	envs = eff_multi(&s, "env", &nenv);
	for (i = 0; i < nenv; i++) {
		char *key, *val;
		uint32_t k;

		if (hq_parse_env(envs[i], &key, &val, &eb) != 0)
			cli_fail(c, "invalid value for '--env': %s", eb.msg);
		for (k = 0; k < desc->nenv; k++)
			if (strcmp(desc->env[k].key, key) == 0)
				break;
		if (k < desc->nenv) {
			hq_warn("Environment variable %s is set more than "
				"once; "
				"the last value is used",
			    key);
			free(desc->env[k].value);
			desc->env[k].value = val;
			free(key);
			continue;
		}
		desc->env = hq_xreallocarray(desc->env, desc->nenv + 1,
		    sizeof *desc->env);
		desc->env[desc->nenv].key = key;
		desc->env[desc->nenv].value = val;
		desc->nenv++;
	}
	free(envs);

	/* Paths. */
	if ((v = eff(&s, "cwd")) != NULL) {
		if (hq_ph_contains(v, "CWD"))
			cli_fail(c,
			    "Working directory path cannot contain the "
			    "%%{CWD} placeholder");
		desc->cwd = hq_xstrdup(v);
	} else {
		desc->cwd = hq_xstrdup("%{SUBMIT_DIR}");
	}
	stream = eff(&s, "stream") != NULL;
	parse_stdio(&s, "stdout", &desc->out, HQ_DEFAULT_STDOUT, stream);
	parse_stdio(&s, "stderr", &desc->err, HQ_DEFAULT_STDERR, stream);
	warn_placeholders("--cwd", desc->cwd);
	warn_placeholders("--stdout", desc->out.path);
	warn_placeholders("--stderr", desc->err.path);
	if (getcwd(cwd, sizeof cwd) == NULL)
		cli_fail(c, "Cannot determine the current directory: %s",
		    strerror(errno));
	sub->submit_dir = hq_xstrdup(cwd);
	if (stream)
		sub->stream_dir = hq_xstrdup(eff(&s, "stream"));

	/* Task options. */
	build_resources(&s, desc);
	desc->crash_limit = HQ_CRASH_DEFAULT;
	if ((v = eff(&s, "crash-limit")) != NULL &&
	    hq_parse_crash_limit(v, &desc->crash_limit, &eb) != 0)
		cli_fail(c, "invalid value for '--crash-limit': %s", eb.msg);
	if ((v = eff(&s, "priority")) != NULL &&
	    hq_parse_i32(v, &desc->priority, &eb) != 0)
		cli_fail(c, "invalid value for '--priority': %s", eb.msg);
	if ((v = eff(&s, "time-limit")) != NULL &&
	    hq_parse_duration(v, &desc->time_limit_ms, &eb) != 0)
		cli_fail(c, "invalid value for '--time-limit': %s", eb.msg);
	if ((v = eff(&s, "pin")) != NULL) {
		if (strcmp(v, "taskset") == 0)
			desc->pin = HQ_PIN_TASKSET;
		else if (strcmp(v, "omp") == 0)
			desc->pin = HQ_PIN_OMP;
		else
			cli_fail(c,
			    "invalid value '%s' for '--pin' [possible "
			    "values: taskset, omp]",
			    v);
	}
	desc->task_dir = eff_flag(&s, "task-dir");
	if (stdin_data != NULL && stdin_len > 0) {
		desc->stdin_data = (uint8_t *)stdin_data;
		desc->stdin_len = (uint32_t)stdin_len;
		stdin_data = NULL;
	}

	/* Task ids and entries. */
	if ((v = GROUP("array")) != NULL && hq_parse_idset(v, &ids, &eb) != 0)
		cli_fail(c, "invalid value for '--array': %s", eb.msg);
	if ((v = GROUP("each-line")) != NULL)
		entries = entries_from_lines(c, v, &nentries);
	else if ((v = GROUP("from-json")) != NULL)
		entries = entries_from_json(c, v, &nentries);
	/* An empty --each-line file gives no array: check the option, not
	 * the (NULL) array. */
	if (GROUP("each-line") != NULL || GROUP("from-json") != NULL) {
		if (ids.n > 0) {
			/* Ids select entry indices; larger ones are dropped. */
			char **sel = NULL;
			uint32_t nsel = 0, k, j;

			for (k = 0; k < ids.n; k++)
				for (j = 0; j < ids.r[k].count; j++) {
					uint32_t id =
					    ids.r[k].start + j * ids.r[k].step;

					if (id >= nentries)
						break;
					sel = hq_xreallocarray(sel, nsel + 1,
					    sizeof *sel);
					sel[nsel++] = hq_xstrdup(entries[id]);
					hq_idset_add(&sub->ids, id);
				}
			for (k = 0; k < nentries; k++)
				free(entries[k]);
			free(entries);
			entries = sel;
			nentries = nsel;
			if (nentries == 0)
				cli_fail(c,
				    "No task to submit: the array "
				    "selects no entry");
		}
		sub->entries = entries;
		sub->nentries = nentries;
		if (nentries == 0)
			cli_fail(c, "No task to submit: the file %s is empty",
			    GROUP("each-line") ? GROUP("each-line")
					       : GROUP("from-json"));
	} else if (ids.n > 0) {
		hq_idset_copy(&sub->ids, &ids);
	}
	hq_idset_fini(&ids);
	is_array = nentries > 0 || hq_idset_count(&sub->ids) > 1;

	/* Warnings of spec 1.5. */
	{
		uint64_t ntasks = nentries
		    ? nentries
		    : (sub->ids.n ? hq_idset_count(&sub->ids) : 1);
		uint64_t files = ntasks *
		    ((desc->out.kind == HQ_STDIO_FILE) +
			(desc->err.kind == HQ_STDIO_FILE));

		if (files > 999 && !stream)
			hq_warn("The job will create %llu output files. "
				"Consider --stream, or --stdout/--stderr none, "
				"to reduce the number of files",
			    (unsigned long long)files);
		if (is_array) {
			bool cwd_tid = hq_ph_contains(desc->cwd, "TASK_ID");

			for (i = 0; i < 2; i++) {
				const struct hq_stdio *io =
				    i ? &desc->err : &desc->out;

				if (io->kind != HQ_STDIO_FILE)
					continue;
				if (!hq_ph_contains(io->path, "TASK_ID") &&
				    !(cwd_tid &&
					hq_ph_contains(io->path, "CWD")))
					hq_warn("The job is an array, but the "
						"%s path does not contain "
						"%%{TASK_ID}: tasks will "
						"overwrite each other's "
						"output",
					    i ? "stderr" : "stdout");
			}
		}
	}

	/* With --on-notify the server starts the wait with the submit. */
	m.notify = hq_args_flag(&a, "wait") && notify_cmd != NULL;
	cli_connect(c);
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message);
	if (r.kind != HQ_SMSG_SUBMIT)
		cli_fail(c, "unexpected reply to the submit");
	job_id = r.job_id;
	hq_smsg_fini(&r);
	if (c->mode == CLI_MODE_JSON) {
		json_t *j = json_pack("{s:I}", "id", (json_int_t)job_id);

		cli_print_json(c, j);
		json_decref(j);
	} else if (c->mode == CLI_MODE_QUIET) {
		printf("%u\n", job_id);
	} else {
		printf("Job submitted successfully, job ID: %u\n", job_id);
	}
	fflush(stdout);
	if (hq_args_flag(&a, "wait") && notify_cmd != NULL) {
		/* Only --wait processes notifications (spec 2.14). */
		cli_wait_notify(c, job_id, notify_cmd, nnotify);
	} else if (hq_args_flag(&a, "wait") || hq_args_flag(&a, "progress")) {
		struct hq_selector sel;

		memset(&sel, 0, sizeof sel);
		sel.kind = HQ_SEL_IDS;
		hq_idset_add(&sel.ids, job_id);
		cli_wait_jobs(c, &sel, false, hq_args_flag(&a, "progress"));
		hq_selector_fini(&sel);
	}
	hq_cmsg_fini(&m);
	hq_strv_free(notify_cmd);
	free(shebang);
	free(stdin_data);
	if (s.dir_args != NULL) {
		hq_args_fini(&d);
		hq_strv_free(s.dir_words);
	}
	hq_args_fini(&a);
	return 0;
}
