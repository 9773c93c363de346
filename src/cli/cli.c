/* SPDX-License-Identifier: MIT */
/* Shared client machinery: options, connection, output modes. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/jsonout.h"
#include "cli/table.h"
#include "common/log.h"
#include "common/version.h"

static const struct hq_opt global_opts[] = {
	{ "server-dir", 0, HQ_OPT_VALUE, "PATH",
	    "Path to a directory that stores HyperQueue access files" },
	{ "colors", 0, HQ_OPT_VALUE, "auto|always|never",
	    "Console color policy" },
	{ "output-mode", 0, HQ_OPT_VALUE, "cli|json|quiet",
	    "How should the output of the command be formatted" },
	{ "debug", 0, HQ_OPT_FLAG, NULL, "Turn on a more detailed log output" },
	{ NULL, 0, 0, NULL, NULL },
};

static void
apply_global(struct cli *c, const char *name, const char *value)
{
	if (strcmp(name, "server-dir") == 0) {
		free(c->server_dir);
		c->server_dir = hq_path_absolute(value);
		c->server_dir_given = true;
	} else if (strcmp(name, "colors") == 0) {
		if (strcmp(value, "auto") == 0)
			c->color_mode = HQ_COLOR_AUTO;
		else if (strcmp(value, "always") == 0)
			c->color_mode = HQ_COLOR_ALWAYS;
		else if (strcmp(value, "never") == 0)
			c->color_mode = HQ_COLOR_NEVER;
		else
			cli_fail(c,
			    "invalid value '%s' for '--colors <COLORS>' "
			    "[possible values: auto, always, never]",
			    value);
		c->colors = hq_term_colors(c->color_mode, stdout);
	} else if (strcmp(name, "output-mode") == 0) {
		if (strcmp(value, "cli") == 0)
			c->mode = CLI_MODE_CLI;
		else if (strcmp(value, "json") == 0)
			c->mode = CLI_MODE_JSON;
		else if (strcmp(value, "quiet") == 0)
			c->mode = CLI_MODE_QUIET;
		else
			cli_fail(c,
			    "invalid value '%s' for '--output-mode "
			    "<OUTPUT_MODE>' [possible values: cli, json, "
			    "quiet]",
			    value);
	} else if (strcmp(name, "debug") == 0) {
		c->debug = true;
		hq_log_init(1);
	}
}

struct cli_describe *cli_describing;

int
cli_parse(struct cli *c, struct hq_args *a, const struct hq_opt *opts, int argc,
    char **argv, uint32_t max_pos, bool trailing, const char *positional,
    const char *about)
{
	/* The parsed args keep a pointer to the table: it must outlive them. */
	static struct hq_opt merged[HQ_ARGS_MAX_OPTS];
	struct hq_errbuf eb;
	uint32_t n = 0, i;

	for (i = 0; opts[i].name != NULL; i++)
		merged[n++] = opts[i];
	for (i = 0; global_opts[i].name != NULL; i++)
		merged[n++] = global_opts[i];
	memset(&merged[n], 0, sizeof merged[n]);
	if (cli_describing != NULL) {
		cli_describing->opts = merged;
		cli_describing->nown = n - i; /* i: global options */
		cli_describing->positional = positional;
		cli_describing->about = about;
		cli_describing->trailing = trailing;
		longjmp(cli_describing->jb, 1);
	}
	if (hq_args_parse(a, merged, argc, argv, max_pos, trailing, &eb) != 0)
		cli_fail(c, "error: %s\n\nFor more information, try '--help'.",
		    eb.msg);
	if (a->help) {
		hq_args_usage(c->path, about, merged, positional);
		exit(0);
	}
	for (i = 0; global_opts[i].name != NULL; i++) {
		int k = hq_args_index(a, global_opts[i].name);

		if (a->given[k])
			apply_global(c, global_opts[i].name,
			    a->value[k] ? a->value[k] : "");
	}
	return 0;
}

/* ---- errors and output --------------------------------------------------- */

void
cli_fail(struct cli *c, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->mode == CLI_MODE_JSON) {
		json_t *j = json_pack("{s:s}", "error", msg);

		hq_json_print(stdout, j);
		json_decref(j);
	} else {
		fprintf(stderr, "%s\n", msg);
	}
	fflush(stdout);
	exit(1);
}

/* Remove keys starting with '_' (CLI-only detail) recursively. */
static void
strip_private(json_t *j)
{
	size_t i;

	if (json_is_array(j)) {
		for (i = json_array_size(j); i > 0; i--) {
			json_t *e = json_array_get(j, i - 1);

			/* Markers like {"_missing": [...]} go away whole. */
			if (json_is_object(e) && json_object_size(e) == 1 &&
			    json_object_get(e, "_missing") != NULL) {
				json_array_remove(j, i - 1);
				continue;
			}
			strip_private(e);
		}
	} else if (json_is_object(j)) {
		const char *key;
		json_t *v;
		void *tmp;

		json_object_foreach_safe(j, tmp, key, v)
		{
			if (key[0] == '_')
				json_object_del(j, key);
			else
				strip_private(v);
		}
	}
}

void
cli_print_json(struct cli *c, json_t *j)
{
	strip_private(j);
	hq_json_print(stdout, j);
	c->printed = true;
}

bool
cli_print_lines(struct cli *c, const struct hq_smsg *r)
{
	bool error = false;
	uint32_t i;

	(void)c;
	for (i = 0; i < r->nlines; i++) {
		enum hq_log_level lv = r->lines[i].level == HQ_LINE_ERROR
		    ? HQ_LOG_ERROR
		    : r->lines[i].level == HQ_LINE_WARN ? HQ_LOG_WARN
							: HQ_LOG_INFO;

		hq_log(lv, "%s", r->lines[i].text);
		error |= r->lines[i].level == HQ_LINE_ERROR;
	}
	return error;
}

int
cli_finish(struct cli *c, int rc)
{
	if (c->mode == CLI_MODE_JSON && !c->printed && rc == 0)
		printf("{}\n");
	fflush(stdout);
	cli_disconnect(c);
	return rc;
}

void
cli_table_print(struct cli *c, struct hq_table *t)
{
	hq_table_print(t, stdout, c->colors);
	c->printed = true;
}

void
cli_kv_print(struct cli *c, struct hq_table *t)
{
	hq_table_print_kv(t, stdout, c->colors);
	c->printed = true;
}

const char *
cli_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

int64_t
cli_jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

void
cli_selector(struct cli *c, const char *s, int allow, struct hq_selector *out)
{
	struct hq_errbuf eb;

	if (hq_parse_selector(s, allow, out, &eb) != 0)
		cli_fail(c, "%s", eb.msg);
}

const char **
cli_states(struct cli *c, const char *list, const char *const *allowed,
    uint32_t *n)
{
	const char **out = NULL;
	char *copy = hq_xstrdup(list), *tok, *save = NULL;

	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		uint32_t i;

		while (*tok == ' ')
			tok++;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcasecmp(allowed[i], tok) == 0)
				break;
		if (allowed[i] == NULL) {
			struct hq_buf b;

			hq_buf_init(&b);
			for (i = 0; allowed[i] != NULL; i++)
				hq_buf_printf(&b, "%s%s", i ? ", " : "",
				    allowed[i]);
			hq_buf_append(&b, "", 1);
			cli_fail(c,
			    "invalid value '%s' for '--filter' [possible "
			    "values: %s]",
			    tok, (char *)b.data);
		}
		out = hq_xreallocarray(out, *n + 1, sizeof *out);
		out[(*n)++] = allowed[i];
	}
	free(copy);
	return out;
}

/* ---- connection ---------------------------------------------------------- */

void
cli_connect(struct cli *c)
{
	struct hq_errbuf eb;
	char *cur, *path;
	struct hq_cmsg hello;
	struct hq_smsg r;
	int rc;

	if (c->conn != NULL)
		return;
	cur = hq_server_dir_current(c->server_dir);
	path = hq_xprintf("%s/access.json", cur);
	free(cur);
	if (access(path, F_OK) != 0) {
		free(path);
		cli_fail(c,
		    "No running instance of HQ found at \"%s\".\nTry to start "
		    "the server: `hq server start%s%s` or use a different "
		    "server directory.",
		    c->server_dir, c->server_dir_given ? " --server-dir " : "",
		    c->server_dir_given ? c->server_dir : "");
	}
	rc = hq_access_read(path, &c->access, &eb);
	free(path);
	if (rc != 0)
		cli_fail(c, "%s", eb.msg);
	if (!(c->access.parts & HQ_ACCESS_CLIENT))
		cli_fail(c, "the access file has no client part");
	hq_tls_global_init();
	if (c->access.client.has_key &&
	    hq_tls_create(HQ_ROLE_CLIENT, false, c->access.client.key, &c->tls,
		&eb) != 0)
		cli_fail(c, "%s", eb.msg);
	if (hq_bconn_connect(c->access.client.host, c->access.client.port,
		c->tls, HQ_MAX_FRAME_CLIENT_OUT, 10.0, &c->conn, &eb) != 0) {
		if (strstr(eb.msg, "refused the key") != NULL ||
		    strstr(eb.msg, "TLS") != NULL)
			cli_fail(c, "%s", eb.msg);
		cli_fail(c,
		    "Access token found but HQ server %s:%u is unreachable.\n"
		    "Try to (re)start the server using `hq server start`",
		    c->access.client.host, c->access.client.port);
	}
	memset(&hello, 0, sizeof hello);
	hello.kind = HQ_CMSG_HELLO;
	hello.protocol_version = HQ_PROTOCOL_VERSION;
	hello.version = (char *)HQ_VERSION;
	cli_request(c, &hello, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message);
	if (r.kind != HQ_SMSG_HELLO)
		cli_fail(c, "unexpected reply to the hello");
	hq_smsg_fini(&r);
}

void
cli_disconnect(struct cli *c)
{
	hq_bconn_close(c->conn);
	c->conn = NULL;
	hq_tls_destroy(c->tls);
	c->tls = NULL;
}

int
cli_recv(struct cli *c, struct hq_smsg *r, double timeout_s)
{
	struct hq_errbuf eb;
	uint8_t *data;
	size_t len;
	int rc;

	rc = hq_bconn_recv(c->conn, &data, &len, timeout_s, &eb);
	if (rc == HQ_ETIMEOUT)
		return rc;
	if (rc != 0)
		cli_fail(c, "connection to the server lost: %s", eb.msg);
	rc = hq_wire_decode_smsg(data, len, r, &eb);
	free(data);
	if (rc != 0)
		cli_fail(c, "malformed reply from the server: %s", eb.msg);
	return 0;
}

void
cli_request(struct cli *c, const struct hq_cmsg *m, struct hq_smsg *r)
{
	struct hq_errbuf eb;
	struct hq_buf b;

	hq_buf_init(&b);
	hq_wire_encode_cmsg(m, &b);
	if (hq_bconn_send(c->conn, b.data, b.len, &eb) != 0)
		cli_fail(c, "cannot send the request: %s", eb.msg);
	hq_buf_fini(&b);
	cli_recv(c, r, -1);
}

json_t *
cli_query(struct cli *c, int kind, const struct hq_selector *sel,
    const struct hq_idset *tasks, bool has_tasks, const char **states,
    uint32_t nstates, bool all)
{
	struct hq_cmsg m;
	struct hq_smsg r;
	json_error_t jerr;
	json_t *j;

	cli_connect(c);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_QUERY;
	m.sub = kind;
	if (sel != NULL)
		m.sel = *sel;
	if (tasks != NULL)
		m.tasks = *tasks;
	m.has_tasks = has_tasks;
	m.states = (char **)states;
	m.nstates = nstates;
	m.all = all;
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message);
	if (r.kind != HQ_SMSG_JSON)
		cli_fail(c, "unexpected reply from the server");
	j = json_loads(r.json, 0, &jerr);
	hq_smsg_fini(&r);
	if (j == NULL)
		cli_fail(c, "malformed JSON from the server: %s", jerr.text);
	return j;
}
