/* SPDX-License-Identifier: MIT */
/*
 * Task notifications, client side (spec 2.14): `hq task notify <MSG>` run
 * inside a task hands the message to its worker through the unix socket
 * named in HQ_ACCESS_KEY (protocol in worker/notify.c); `hq submit --wait
 * --on-notify CMD` runs CMD for every notification while it waits.
 */
#include <errno.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"
#include "worker/worker.h"

/* How long `task notify` waits for the worker's answer. */
#define NOTIFY_REPLY_TIMEOUT_MS 30000

extern char **environ;

static const struct hq_opt notify_opts[] = {
	{ NULL, 0, 0, NULL, NULL },
};

/* Write all of p or fail. */
static void
notify_write_all(struct cli *c, int fd, const void *p, size_t n)
{
	const char *b = p;
	ssize_t k;

	while (n > 0) {
		k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			cli_fail(c,
			    "Cannot send the notification to the "
			    "worker: %s",
			    strerror(k < 0 ? errno : EIO));
		b += k;
		n -= (size_t)k;
	}
}

int
cmd_task_notify(struct cli *c, int argc, char **argv)
{
	struct sockaddr_un sa;
	struct hq_args a;
	const char *key, *colon, *msg;
	char reply[600];
	size_t rlen = 0, plen;
	struct pollfd pfd;
	ssize_t n;
	int fd;

	cli_parse(c, &a, notify_opts, argc, argv, 1, false, "<MESSAGE>",
	    "Send a notification from inside a task to the clients waiting "
	    "for its job (submit --wait --on-notify)");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <MESSAGE>\n\nFor more information, "
		    "try '--help'.");
	msg = a.pos[0];
	if (strlen(msg) > HQ_NOTIFY_MAX)
		cli_fail(c,
		    "Notify message limit exceeded, message len: %zu, limit: "
		    "%u",
		    strlen(msg), HQ_NOTIFY_MAX);
	if ((key = getenv("HQ_ACCESS_KEY")) == NULL)
		cli_fail(c,
		    "HQ_ACCESS_KEY variable not found. Are you running "
		    "this command inside a task?");
	/* The path may contain ':', the token never does. */
	colon = strrchr(key, ':');
	if (colon == NULL || colon == key ||
	    strlen(colon + 1) != WORKER_TOKEN_LEN)
		cli_fail(c, "Value of HQ_ACCESS_KEY has a wrong format");
	plen = (size_t)(colon - key);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (plen >= sizeof sa.sun_path)
		cli_fail(c,
		    "Value of HQ_ACCESS_KEY has a wrong format: the "
		    "socket path is too long");
	memcpy(sa.sun_path, key, plen);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		cli_fail(c, "Cannot connect to the worker at %s: %s",
		    sa.sun_path, strerror(errno));
	notify_write_all(c, fd, "HQN1 ", 5);
	notify_write_all(c, fd, colon + 1, WORKER_TOKEN_LEN);
	notify_write_all(c, fd, "\n", 1);
	notify_write_all(c, fd, msg, strlen(msg));
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		int r = poll(&pfd, 1, NOTIFY_REPLY_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			cli_fail(c,
			    "The worker did not answer the "
			    "notification");
		n = read(fd, reply + rlen, sizeof reply - 1 - rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || rlen + (size_t)n >= sizeof reply - 1) {
			if (n > 0)
				rlen += (size_t)n;
			break;
		}
		rlen += (size_t)n;
	}
	close(fd);
	reply[rlen] = '\0';
	if (rlen > 0 && reply[rlen - 1] == '\n')
		reply[--rlen] = '\0';
	if (strcmp(reply, "ok") != 0)
		cli_fail(c, "%s",
		    strncmp(reply, "error: ", 7) == 0 ? reply + 7
			: rlen == 0
			? "The worker closed the connection without "
			  "an answer"
			: reply);
	hq_args_fini(&a);
	return 0;
}

/* ---- --on-notify
 * ------------------------------------------------------------- */

/* Run the callback for one notification and wait for it; only warns. */
static void
notify_run(char **cmd, int ncmd, const struct hq_smsg *r)
{
	char **argv, **env, num[3][32];
	size_t nenv = 0, i;
	pid_t pid;
	int rc, status, k;

	argv = hq_xcalloc((size_t)ncmd + 2, sizeof *argv);
	for (k = 0; k < ncmd; k++)
		argv[k] = cmd[k];
	argv[ncmd] = hq_xstrndup((const char *)r->n_msg, r->n_msg_len);
	while (environ[nenv] != NULL)
		nenv++;
	env = hq_xcalloc(nenv + 4, sizeof *env);
	for (i = k = 0; i < nenv; i++)
		if (strncmp(environ[i], "HQ_JOB_ID=", 10) != 0 &&
		    strncmp(environ[i], "HQ_TASK_ID=", 11) != 0 &&
		    strncmp(environ[i], "HQ_WORKER_ID=", 13) != 0)
			env[k++] = environ[i];
	snprintf(num[0], sizeof num[0], "HQ_JOB_ID=%u", r->n_job);
	snprintf(num[1], sizeof num[1], "HQ_TASK_ID=%u", r->n_task);
	snprintf(num[2], sizeof num[2], "HQ_WORKER_ID=%u", r->n_worker);
	env[k++] = num[0];
	env[k++] = num[1];
	env[k++] = num[2];
	env[k] = NULL;
	fflush(stdout);
	fflush(stderr);
	rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, env);
	if (rc != 0) {
		hq_warn("Notification command `%s` could not be started: %s",
		    argv[0], strerror(rc));
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			hq_warn("Notification command `%s` exited with code "
				"%d",
			    argv[0], WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			hq_warn("Notification command `%s` was killed by "
				"signal %d",
			    argv[0], WTERMSIG(status));
	}
	free(argv[ncmd]);
	free(argv);
	free(env);
}

int
cli_wait_notify(struct cli *c, uint32_t job_id, char **argv, int argc)
{
	struct hq_smsg r;

	/* The submit (with notify set) registered the wait: only receive. */
	for (;;) {
		cli_recv(c, &r, -1);
		if (r.kind == HQ_SMSG_ERROR)
			cli_fail(c, "%s", r.message);
		if (r.kind == HQ_SMSG_NOTIFICATION && r.n_job == job_id)
			notify_run(argv, argc, &r);
		else if (r.kind != HQ_SMSG_PROGRESS)
			cli_fail(c, "unexpected reply while waiting");
		else if (r.progress.done)
			break;
		hq_smsg_fini(&r);
	}
	hq_smsg_fini(&r);
	return 0;
}
