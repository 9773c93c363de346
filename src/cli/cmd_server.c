/* SPDX-License-Identifier: MIT */
/* hq server start | stop | info | wait | debug-dump */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "common/fmt.h"
#include "common/log.h"
#include "server/server.h"

/* Format an RFC 3339 timestamp from the server as "YYYY-MM-DD HH:MM:SS UTC". */
static void
fmt_date(char *out, size_t n, const char *rfc)
{
	if (strlen(rfc) >= 19)
		snprintf(out, n, "%.10s %.8s UTC", rfc, rfc + 11);
	else
		snprintf(out, n, "%s", rfc);
}

void
cli_print_server_info(struct cli *c, json_t *info, const char *dir)
{
	struct hq_table *t;
	char port1[16], port2[16], pid[16], date[64];
	json_t *jp = json_object_get(info, "journal_path");

	if (dir != NULL)
		json_object_set_new(info, "server_dir", json_string(dir));
	if (c->mode == CLI_MODE_JSON) {
		cli_print_json(c, info);
		return;
	}
	if (c->mode == CLI_MODE_QUIET) {
		if (dir != NULL)
			printf("%s\n", dir);
		return;
	}
	t = hq_table_create(2);
	snprintf(port1, sizeof port1, "%lld",
	    (long long)cli_jint(info, "client_port"));
	snprintf(port2, sizeof port2, "%lld",
	    (long long)cli_jint(info, "worker_port"));
	snprintf(pid, sizeof pid, "%lld", (long long)cli_jint(info, "pid"));
	fmt_date(date, sizeof date, cli_jstr(info, "start_date"));
	if (dir != NULL)
		hq_table_add_row(t,
		    (const char *const[]){ "Server directory", dir });
	hq_table_add_row(t,
	    (const char *const[]){ "Server UID",
		cli_jstr(info, "server_uid") });
	hq_table_add_row(t,
	    (const char *const[]){ "Client host",
		cli_jstr(info, "client_host") });
	hq_table_add_row(t, (const char *const[]){ "Client port", port1 });
	hq_table_add_row(t,
	    (const char *const[]){ "Worker host",
		cli_jstr(info, "worker_host") });
	hq_table_add_row(t, (const char *const[]){ "Worker port", port2 });
	hq_table_add_row(t,
	    (const char *const[]){ "Version", cli_jstr(info, "version") });
	hq_table_add_row(t, (const char *const[]){ "Pid", pid });
	hq_table_add_row(t, (const char *const[]){ "Start date", date });
	hq_table_add_row(t,
	    (const char *const[]){ "Journal path",
		json_is_string(jp) ? json_string_value(jp) : "None" });
	cli_kv_print(c, t);
	hq_table_destroy(t);
	fflush(stdout);
}

static struct cli *server_cli;

static void
print_started(struct server *s, json_t *info)
{
	cli_print_server_info(server_cli, info, s->server_dir);
}

static const struct hq_opt start_opts[] = {
	{ "host", 0, HQ_OPT_VALUE, "HOST", "Hostname/IP of the machine" },
	{ "idle-timeout", 0, HQ_OPT_VALUE, "TIME",
	    "Stop the server after this time without workers and tasks" },
	{ "client-port", 0, HQ_OPT_VALUE, "PORT", "Port for clients" },
	{ "worker-port", 0, HQ_OPT_VALUE, "PORT", "Port for workers" },
	{ "journal", 0, HQ_OPT_VALUE, "PATH",
	    "LMDB journal file: state survives restarts" },
	{ "journal-flush-period", 0, HQ_OPT_VALUE, "TIME",
	    "Accepted for compatibility: every change is durable before it "
	    "is acknowledged" },
	{ "journal-recover", 0, HQ_OPT_FLAG, NULL,
	    "Start from the consistent prefix of a damaged journal" },
	{ "journal-map-size", 0, HQ_OPT_VALUE, "BYTES",
	    "Maximal journal size (default 64 GiB)" },
	{ "journal-retention", 0, HQ_OPT_VALUE, "TIME",
	    "Drop journal history older than this (default 7d; 0: keep all)" },
	{ "reconnect-grace", 0, HQ_OPT_VALUE, "TIME",
	    "How long workers in reconnect mode may take to come back "
	    "(default 30s)" },
	{ "access-file", 0, HQ_OPT_VALUE, "PATH",
	    "Use a pre-generated access file" },
	{ "disable-client-authentication-and-encryption", 0, HQ_OPT_FLAG, NULL,
	    "Plain TCP for clients (insecure)" },
	{ "disable-worker-authentication-and-encryption", 0, HQ_OPT_FLAG, NULL,
	    "Plain TCP for workers (insecure)" },
	{ "scheduler-time-limit", 0, HQ_OPT_VALUE, "TIME",
	    "Accepted for compatibility (the scheduler is not a MILP solver)" },
	{ NULL, 0, 0, NULL, NULL },
};

static int
parse_port(struct cli *c, const char *name, const char *v)
{
	struct hq_errbuf eb;
	uint16_t port;

	if (v == NULL)
		return -1;
	if (hq_parse_u16(v, &port, &eb) != 0)
		cli_fail(c, "invalid value '%s' for '--%s <PORT>': %s", v, name,
		    eb.msg);
	return port;
}

int
cmd_server_start(struct cli *c, int argc, char **argv)
{
	struct server_opts o;
	struct hq_errbuf eb;
	struct hq_args a;
	char *journal_abs = NULL;
	const char *v;
	int rc;

	cli_parse(c, &a, start_opts, argc, argv, 0, false, NULL,
	    "Start the server");
	memset(&o, 0, sizeof o);
	o.server_dir = c->server_dir;
	o.host = hq_args_get(&a, "host");
	o.client_port =
	    parse_port(c, "client-port", hq_args_get(&a, "client-port"));
	o.worker_port =
	    parse_port(c, "worker-port", hq_args_get(&a, "worker-port"));
	o.journal_path = hq_args_get(&a, "journal");
	if (o.journal_path != NULL && *o.journal_path == '\0')
		cli_fail(c, "--journal needs a path");
	o.access_file = hq_args_get(&a, "access-file");
	o.disable_client_auth =
	    hq_args_flag(&a, "disable-client-authentication-and-encryption");
	o.disable_worker_auth =
	    hq_args_flag(&a, "disable-worker-authentication-and-encryption");
	o.journal_recover = hq_args_flag(&a, "journal-recover");
	if ((v = hq_args_get(&a, "idle-timeout")) != NULL &&
	    hq_parse_duration(v, &o.idle_timeout_ms, &eb) != 0)
		cli_fail(c, "invalid value for '--idle-timeout': %s", eb.msg);
	if ((v = hq_args_get(&a, "journal-flush-period")) != NULL) {
		uint64_t ms;

		if (hq_parse_duration(v, &ms, &eb) != 0)
			cli_fail(c,
			    "invalid value for '--journal-flush-period': %s",
			    eb.msg);
	}
	if ((v = hq_args_get(&a, "scheduler-time-limit")) != NULL) {
		uint64_t ms;

		if (hq_parse_duration(v, &ms, &eb) != 0)
			cli_fail(c,
			    "invalid value for '--scheduler-time-limit': %s",
			    eb.msg);
	}
	o.journal_retention_ms = 7ULL * 24 * 3600 * 1000;
	if ((v = hq_args_get(&a, "journal-retention")) != NULL &&
	    strcmp(v, "0") != 0 &&
	    hq_parse_duration(v, &o.journal_retention_ms, &eb) != 0)
		cli_fail(c, "invalid value for '--journal-retention': %s",
		    eb.msg);
	if (v != NULL && strcmp(v, "0") == 0)
		o.journal_retention_ms = 0;
	o.reconnect_grace_ms = 30 * 1000;
	if ((v = hq_args_get(&a, "reconnect-grace")) != NULL &&
	    hq_parse_duration(v, &o.reconnect_grace_ms, &eb) != 0)
		cli_fail(c, "invalid value for '--reconnect-grace': %s",
		    eb.msg);
	if ((v = hq_args_get(&a, "journal-map-size")) != NULL &&
	    hq_parse_u64(v, &o.journal_map_size, &eb) != 0)
		cli_fail(c, "invalid value for '--journal-map-size': %s",
		    eb.msg);
	if (o.journal_path != NULL)
		o.journal_path = journal_abs = hq_path_absolute(o.journal_path);
	server_cli = c;
	hq_server_print_info = print_started;
	rc = server_main(&o);
	free(journal_abs);
	c->printed = true;
	hq_args_fini(&a);
	return rc;
}

static const struct hq_opt no_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

int
cmd_server_stop(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	struct hq_cmsg m;
	struct hq_smsg r;
	int i;

	cli_parse(c, &a, no_opts, argc, argv, 0, false, NULL,
	    "Stop the server");
	cli_connect(c);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_COMMAND;
	m.sub = HQ_C_SERVER_STOP;
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message);
	hq_smsg_fini(&r);
	hq_info("Stopping server");
	/* Return once the server has closed the connection (it is gone). */
	for (i = 0; i < 50; i++) {
		uint8_t *data;
		size_t len;

		if (hq_bconn_recv(c->conn, &data, &len, 0.1, NULL) ==
		    HQ_ETIMEOUT)
			continue;
		break;
	}
	hq_args_fini(&a);
	return 0;
}

int
cmd_server_info(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	json_t *info;

	cli_parse(c, &a, no_opts, argc, argv, 0, false, NULL,
	    "Show information about the running server");
	info =
	    cli_query(c, HQ_Q_SERVER_INFO, NULL, NULL, false, NULL, 0, false);
	cli_print_server_info(c, info, NULL);
	json_decref(info);
	hq_args_fini(&a);
	return 0;
}

static const struct hq_opt wait_opts[] = {
	{ "timeout", 0, HQ_OPT_VALUE, "TIME",
	    "How long to wait for the server (default 5m)" },
	{ NULL, 0, 0, NULL, NULL },
};

static bool
server_reachable(struct cli *c)
{
	char *cur = hq_server_dir_current(c->server_dir);
	char *path = hq_xprintf("%s/access.json", cur);
	struct hq_access acc;
	bool ok = false;
	int fd;

	if (hq_access_read(path, &acc, NULL) == 0) {
		if (hq_tcp_connect(acc.client.host, acc.client.port, 1.0, &fd,
			NULL) == 0) {
			close(fd);
			ok = true;
		}
		hq_access_fini(&acc);
	}
	free(path);
	free(cur);
	return ok;
}

int
cmd_server_wait(struct cli *c, int argc, char **argv)
{
	uint64_t timeout = 5 * 60 * 1000, start = hq_mono_us();
	struct hq_errbuf eb;
	struct hq_args a;
	const char *v;

	cli_parse(c, &a, wait_opts, argc, argv, 0, false, NULL,
	    "Wait until the server is running");
	if ((v = hq_args_get(&a, "timeout")) != NULL &&
	    hq_parse_duration(v, &timeout, &eb) != 0)
		cli_fail(c, "invalid value for '--timeout': %s", eb.msg);
	while (!server_reachable(c)) {
		if ((hq_mono_us() - start) / 1000 >= timeout) {
			struct hq_buf b;

			hq_buf_init(&b);
			hq_fmt_duration(&b, timeout);
			hq_buf_append(&b, "", 1);
			cli_fail(c,
			    "Timeout after %s: Could not connect to server at "
			    "`%s`. Make sure that the server is running.",
			    (char *)b.data, c->server_dir);
		}
		usleep(200000);
	}
	hq_args_fini(&a);
	return 0;
}

/* `server debug-dump <PATH>`: the server builds the JSON from its state;
 * we only write it. */
int
cmd_server_debug_dump(struct cli *c, int argc, char **argv)
{
	struct hq_args a;
	struct hq_cmsg m;
	struct hq_smsg r;
	const char *path;
	FILE *f;
	int err = 0;

	cli_parse(c, &a, no_opts, argc, argv, 1, false, "<PATH>",
	    "Write the scheduler state as JSON (debug)");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <PATH>\n\nFor more information, try "
		    "'--help'.");
	path = a.pos[0];
	cli_connect(c);
	memset(&m, 0, sizeof m);
	m.kind = HQ_CMSG_DEBUG_DUMP;
	cli_request(c, &m, &r);
	if (r.kind == HQ_SMSG_ERROR)
		cli_fail(c, "%s", r.message ? r.message : "server error");
	if (r.kind != HQ_SMSG_JSON || r.json == NULL)
		cli_fail(c, "unexpected reply from the server");
	if ((f = fopen(path, "w")) == NULL) {
		err = errno;
	} else {
		errno = 0;
		if (fputs(r.json, f) == EOF || fputc('\n', f) == EOF)
			err = errno ? errno : EIO;
		if (fclose(f) != 0 && err == 0)
			err = errno ? errno : EIO;
	}
	if (err != 0)
		cli_fail(c, "Cannot write the debug dump to %s: %s", path,
		    strerror(err));
	hq_smsg_fini(&r);
	hq_args_fini(&a);
	return 0;
}
