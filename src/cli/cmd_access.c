/* SPDX-License-Identifier: MIT */
/*
 * hq server generate-access <ACCESS_FILE> (spec 1.3): an access record
 * made in advance, for `hq server start --access-file`, plus optional
 * client-only and worker-only files (spec 2.11) for deployments where
 * clients and workers should not hold each other's keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct hq_opt access_opts[] = {
	{ "client-port", 0, HQ_OPT_VALUE, "CLIENT_PORT",
	    "Port for clients (required)" },
	{ "worker-port", 0, HQ_OPT_VALUE, "WORKER_PORT",
	    "Port for workers (required)" },
	{ "host", 0, HQ_OPT_VALUE, "HOST",
	    "Host of the server for clients and workers [default: hostname]" },
	{ "client-host", 0, HQ_OPT_VALUE, "CLIENT_HOST",
	    "Host for clients [default: --host]" },
	{ "worker-host", 0, HQ_OPT_VALUE, "WORKER_HOST",
	    "Host for workers [default: --host]" },
	{ "client-file", 0, HQ_OPT_VALUE, "CLIENT_FILE",
	    "Also write a client-only access file" },
	{ "worker-file", 0, HQ_OPT_VALUE, "WORKER_FILE",
	    "Also write a worker-only access file" },
	{ NULL, 0, 0, NULL, NULL },
};

static uint16_t
access_port(struct cli *c, const struct hq_args *a, const char *name,
    const char *value_name)
{
	const char *v = hq_args_get(a, name);
	struct hq_errbuf eb;
	uint16_t port;

	if (v == NULL)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  --%s <%s>\n\nFor more information, try "
		    "'--help'.",
		    name, value_name);
	if (hq_parse_u16(v, &port, &eb) != 0)
		cli_fail(c,
		    "error: invalid value '%s' for '--%s <%s>': %s\n\nFor "
		    "more information, try '--help'.",
		    v, name, value_name, eb.msg);
	return port;
}

/* An option that names a file or a host must not be empty. */
static const char *
access_nonempty(struct cli *c, const struct hq_args *a, const char *name)
{
	const char *v = hq_args_get(a, name);

	if (v != NULL && *v == '\0')
		cli_fail(c,
		    "error: a value is required for '--%s' but none "
		    "was supplied",
		    name);
	return v;
}

int
cmd_server_generate_access(struct cli *c, int argc, char **argv)
{
	const char *host, *chost, *whost, *cfile, *wfile;
	struct hq_access acc;
	struct hq_errbuf eb;
	struct hq_args a;
	uint16_t cport, wport;
	char hostname[256];
	int rc;

	cli_parse(c, &a, access_opts, argc, argv, 1, false, "<ACCESS_FILE>",
	    "Generate an access file in advance (for server start "
	    "--access-file)");
	if (a.npos < 1 || *a.pos[0] == '\0')
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <ACCESS_FILE>\n\nFor more "
		    "information, try '--help'.");
	cport = access_port(c, &a, "client-port", "CLIENT_PORT");
	wport = access_port(c, &a, "worker-port", "WORKER_PORT");
	host = access_nonempty(c, &a, "host");
	chost = access_nonempty(c, &a, "client-host");
	whost = access_nonempty(c, &a, "worker-host");
	cfile = access_nonempty(c, &a, "client-file");
	wfile = access_nonempty(c, &a, "worker-file");
	if (host == NULL) {
		if (gethostname(hostname, sizeof hostname) != 0)
			snprintf(hostname, sizeof hostname, "localhost");
		hostname[sizeof hostname - 1] = '\0';
		host = hostname;
	}
	if ((rc = hq_access_generate(&acc, chost ? chost : host, cport,
		 whost ? whost : host, wport)) != 0)
		cli_fail(c, "Cannot generate keys: %s", hq_strerror(rc));
	/* Every file is created exclusively: nothing is overwritten, and a
	 * failure removes the files written before it. */
	if (hq_access_write(a.pos[0], &acc, HQ_ACCESS_ALL, &eb) != 0)
		cli_fail(c, "%s", eb.msg);
	if (cfile != NULL &&
	    hq_access_write(cfile, &acc, HQ_ACCESS_CLIENT, &eb) != 0) {
		unlink(a.pos[0]);
		cli_fail(c, "%s", eb.msg);
	}
	if (wfile != NULL &&
	    hq_access_write(wfile, &acc, HQ_ACCESS_WORKER, &eb) != 0) {
		unlink(a.pos[0]);
		if (cfile != NULL)
			unlink(cfile);
		cli_fail(c, "%s", eb.msg);
	}
	hq_access_fini(&acc);
	hq_args_fini(&a);
	return 0;
}
