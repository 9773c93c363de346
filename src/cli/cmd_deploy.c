/* SPDX-License-Identifier: MIT */
/*
 * `hq worker deploy-ssh` (spec 1.4): start a worker on every host of a
 * hostfile with `ssh <host> -t -t [-p port] -- <this hq> worker start
 * <args>`, wait for them all, and stop them on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/log.h"

/* After forwarding a stop signal, how long ssh may take before SIGKILL. */
#define DEPLOY_KILL_AFTER_MS 10000

static const struct hq_opt deploy_opts[] = {
	{ "show-output", 0, HQ_OPT_FLAG, NULL,
	    "Show the output of the workers, each line prefixed with its "
	    "host" },
	{ NULL, 0, 0, NULL, NULL },
};

struct deploy_host {
	char *host;
	char *label;   /* "host[:port]" as written, for messages and output */
	uint32_t port; /* 0: ssh's default */
	uint32_t line;
	pid_t pid;  /* 0: not started or reaped */
	int out_fd; /* --show-output: its stdout and stderr, else -1 */
	struct hq_buf partial;	/* output after the last newline */
	int status;		/* wait status once reaped */
	bool ended;		/* reaped */
	bool ended_before_stop; /* ... before we forwarded a stop signal */
};

struct deploy {
	struct deploy_host *hosts;
	uint32_t n, cap;
	bool show_output;
	int sfd; /* signalfd: SIGINT, SIGTERM, SIGCHLD */
	uint32_t running;
	bool stopping;
	uint64_t kill_at_us;
};

static void
deploy_fini(struct deploy *d)
{
	uint32_t i;

	for (i = 0; i < d->n; i++) {
		free(d->hosts[i].host);
		free(d->hosts[i].label);
		hq_buf_fini(&d->hosts[i].partial);
		if (d->hosts[i].out_fd >= 0)
			close(d->hosts[i].out_fd);
	}
	free(d->hosts);
	if (d->sfd >= 0)
		close(d->sfd);
}

/* ---- the hostfile ---------------------------------------------------- */

/* One "host[:port]" (or "[v6-address][:port]", or a bare v6 address). */
static int
deploy_parse_line(char *s, const char *path, uint32_t lineno,
    struct deploy_host *h, struct hq_errbuf *eb)
{
	char *host = s, *port = NULL, *p, *end;
	unsigned long v;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return hq_errf(eb, HQ_EINVAL,
			    "%s:%u: missing ']' in '%s'", path, lineno, s);
		host = s + 1;
		*end = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return hq_errf(eb, HQ_EINVAL,
			    "%s:%u: unexpected text after ']' in '%s]%s'", path,
			    lineno, host - 1, end + 1);
	} else if ((p = strchr(s, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		*p = '\0';
		port = p + 1;
	}
	/* else: no colon, or several (an IPv6 address without a port) */
	if (*host == '\0')
		return hq_errf(eb, HQ_EINVAL, "%s:%u: empty host name", path,
		    lineno);
	if (strpbrk(host, " \t") != NULL)
		return hq_errf(eb, HQ_EINVAL,
		    "%s:%u: invalid host name '%s' (one host per line)", path,
		    lineno, host);
	/* ssh would take it for an option */
	if (*host == '-')
		return hq_errf(eb, HQ_EINVAL,
		    "%s:%u: invalid host name '%s' (starts with '-')", path,
		    lineno, host);
	if (port != NULL) {
		errno = 0;
		v = strtoul(port, &end, 10);
		if (*port < '0' || *port > '9' || *end != '\0' || errno != 0 ||
		    v == 0 || v > 65535)
			return hq_errf(eb, HQ_EINVAL,
			    "%s:%u: invalid port '%s' of host '%s' (expected "
			    "a number from 1 to 65535)",
			    path, lineno, port, host);
		h->port = (uint32_t)v;
	}
	h->host = hq_xstrdup(host);
	if (h->port != 0)
		h->label = hq_xprintf(strchr(host, ':') ? "[%s]:%u" : "%s:%u",
		    host, h->port);
	else
		h->label = hq_xstrdup(host);
	h->line = lineno;
	return 0;
}

/*
 * Read the hosts of 'path': one "host[:port]" per line; blank lines and
 * lines starting with '#' are skipped. Every bad line is an error naming
 * the file and line; so is a file without hosts.
 */
static int
deploy_read_hostfile(struct deploy *d, const char *path, struct hq_errbuf *eb)
{
	FILE *f;
	char *line = NULL, *s, *e;
	size_t cap = 0;
	ssize_t len;
	uint32_t lineno = 0;
	int rc = 0;

	if ((f = fopen(path, "r")) == NULL)
		return hq_errf(eb, -errno, "Cannot read the hostfile %s: %s",
		    path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct deploy_host h;

		lineno++;
		if (memchr(line, '\0', (size_t)len) != NULL) {
			rc = hq_errf(eb, HQ_EINVAL,
			    "%s:%u: a NUL byte (is it a text file?)", path,
			    lineno);
			goto out;
		}
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		e = s + strlen(s);
		while (e > s &&
		    (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
			e[-1] == '\t'))
			*--e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		memset(&h, 0, sizeof h);
		h.out_fd = -1;
		if ((rc = deploy_parse_line(s, path, lineno, &h, eb)) != 0)
			goto out;
		HQ_VEC_PUSH(d->hosts, d->n, d->cap, h);
	}
	if (ferror(f)) {
		rc = hq_errf(eb, -EIO, "Cannot read the hostfile %s: %s", path,
		    strerror(EIO));
		goto out;
	}
	if (d->n == 0)
		rc = hq_errf(eb, HQ_EINVAL, "The hostfile %s contains no hosts",
		    path);
out:
	free(line);
	fclose(f);
	return rc;
}

/* ---- processes ------------------------------------------------------- */

/*
 * Start ssh for host h. Its stdin is /dev/null (so that ssh never takes
 * over the terminal), its output goes to /dev/null or to a pipe. An exec
 * failure comes back through a close-on-exec pipe, so that it is reported
 * here and not lost in /dev/null.
 */
static int
deploy_spawn(struct deploy *d, struct deploy_host *h, const char *exe,
    int nargs, char **args, const sigset_t *oldmask, struct hq_errbuf *eb)
{
	char **argv, port[16];
	int errp[2] = { -1, -1 }, outp[2] = { -1, -1 }, null = -1;
	int n = 0, i, err = 0, rc = 0;
	pid_t pid;
	ssize_t r;

	argv = hq_xcalloc((size_t)nargs + 12, sizeof *argv);
	argv[n++] = (char *)"ssh";
	argv[n++] = h->host;
	argv[n++] = (char *)"-t";
	argv[n++] = (char *)"-t";
	if (h->port != 0) {
		snprintf(port, sizeof port, "%u", h->port);
		argv[n++] = (char *)"-p";
		argv[n++] = port;
	}
	argv[n++] = (char *)"--";
	argv[n++] = (char *)exe;
	argv[n++] = (char *)"worker";
	argv[n++] = (char *)"start";
	for (i = 0; i < nargs; i++)
		argv[n++] = args[i];
	if (pipe2(errp, O_CLOEXEC) != 0 ||
	    (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
	    (d->show_output && pipe2(outp, O_CLOEXEC) != 0)) {
		rc = hq_errf(eb, -errno, "Cannot start ssh for %s: %s",
		    h->label, strerror(errno));
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		rc = hq_errf(eb, -errno, "Cannot start ssh for %s: %s",
		    h->label, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int outfd = d->show_output ? outp[1] : null;

		sigprocmask(SIG_SETMASK, oldmask, NULL);
		if (dup2(null, STDIN_FILENO) < 0 ||
		    dup2(outfd, STDOUT_FILENO) < 0 ||
		    dup2(outfd, STDERR_FILENO) < 0) {
			err = errno;
		} else {
			execvp(argv[0], argv);
			err = errno;
		}
		if (write(errp[1], &err, sizeof err) < 0)
			_exit(127);
		_exit(127);
	}
	close(errp[1]);
	errp[1] = -1;
	do
		r = read(errp[0], &err, sizeof err);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof err) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		rc = hq_errf(eb, -err, "Cannot run ssh for %s: %s", h->label,
		    strerror(err));
		goto out;
	}
	h->pid = pid;
	d->running++;
	if (d->show_output) {
		h->out_fd = outp[0];
		outp[0] = -1;
		fcntl(h->out_fd, F_SETFL,
		    fcntl(h->out_fd, F_GETFL) | O_NONBLOCK);
	}
out:
	for (i = 0; i < 2; i++) {
		if (errp[i] >= 0)
			close(errp[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	if (null >= 0)
		close(null);
	free(argv);
	return rc;
}

/* Print the complete lines of h's output as "[label] line". ssh -t -t
 * gives the remote pty's "\r\n" line ends: the '\r' goes. */
static void
deploy_print_lines(struct deploy_host *h, bool all)
{
	struct hq_buf *b = &h->partial;
	uint8_t *nl;
	size_t len;

	while (hq_buf_avail(b) > 0) {
		nl = memchr(hq_buf_head(b), '\n', hq_buf_avail(b));
		if (nl == NULL && !all)
			break;
		len = nl ? (size_t)(nl - hq_buf_head(b)) : hq_buf_avail(b);
		if (len > 0 && hq_buf_head(b)[len - 1] == '\r')
			len--;
		printf("[%s] %.*s\n", h->label, (int)len,
		    (const char *)hq_buf_head(b));
		hq_buf_consume(b,
		    nl ? (size_t)(nl - hq_buf_head(b)) + 1 : hq_buf_avail(b));
	}
	fflush(stdout);
}

/* Read what h's pipe holds; at EOF (or an error) print the rest, close. */
static void
deploy_read_output(struct deploy_host *h)
{
	ssize_t r;

	for (;;) {
		r = read(h->out_fd, hq_buf_reserve(&h->partial, 4096), 4096);
		if (r > 0) {
			h->partial.len += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		deploy_print_lines(h, false);
		return;
	}
	deploy_print_lines(h, true);
	close(h->out_fd);
	h->out_fd = -1;
}

static void
deploy_reap(struct deploy *d)
{
	uint32_t i;
	pid_t r;
	int status;

	for (i = 0; i < d->n; i++) {
		struct deploy_host *h = &d->hosts[i];

		if (h->pid <= 0)
			continue;
		r = waitpid(h->pid, &status, WNOHANG);
		if (r != h->pid)
			continue;
		h->pid = 0;
		h->status = status;
		h->ended = true;
		h->ended_before_stop = !d->stopping;
		d->running--;
		hq_debug("ssh for %s ended (status %d)", h->label, status);
	}
}

static void
deploy_signal_all(struct deploy *d, int sig)
{
	uint32_t i;

	for (i = 0; i < d->n; i++)
		if (d->hosts[i].pid > 0)
			kill(d->hosts[i].pid, sig);
}

/* The first SIGINT/SIGTERM is forwarded to every ssh; a second one, or
 * the end of the grace period, kills them. */
static void
deploy_on_signal(struct deploy *d)
{
	struct signalfd_siginfo si;

	while (read(d->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			deploy_reap(d);
		} else if (!d->stopping) {
			hq_info("Stopping %u worker(s)", d->running);
			d->stopping = true;
			d->kill_at_us =
			    hq_mono_us() + DEPLOY_KILL_AFTER_MS * 1000ull;
			deploy_signal_all(d, (int)si.ssi_signo);
		} else {
			deploy_signal_all(d, SIGKILL);
		}
	}
	/* A SIGCHLD may have been merged with an earlier one. */
	deploy_reap(d);
}

/* Until every ssh has ended. Returns 0, or -errno if poll() failed (the
 * processes are then killed). */
static int
deploy_loop(struct deploy *d)
{
	struct pollfd *pfd = hq_xcalloc(d->n + 1, sizeof *pfd);
	uint32_t i, k, np;
	int timeout, rc = 0;

	while (d->running > 0) {
		np = 0;
		pfd[np].fd = d->sfd;
		pfd[np++].events = POLLIN;
		for (i = 0; i < d->n; i++)
			if (d->hosts[i].out_fd >= 0) {
				pfd[np].fd = d->hosts[i].out_fd;
				pfd[np++].events = POLLIN;
			}
		timeout = -1;
		if (d->stopping) {
			uint64_t now = hq_mono_us();

			if (now >= d->kill_at_us) {
				hq_warn("Killing %u ssh process(es) that did "
					"not stop",
				    d->running);
				deploy_signal_all(d, SIGKILL);
				d->kill_at_us = UINT64_MAX;
			} else if (d->kill_at_us != UINT64_MAX) {
				timeout =
				    (int)((d->kill_at_us - now) / 1000) + 1;
			}
		}
		if (poll(pfd, np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			/* Cannot watch them any more: end them and reap. */
			rc = -errno;
			hq_error("poll: %s", strerror(errno));
			deploy_signal_all(d, SIGKILL);
			for (i = 0; i < d->n; i++)
				if (d->hosts[i].pid > 0)
					waitpid(d->hosts[i].pid, NULL, 0);
			break;
		}
		for (k = 1; k < np; k++) {
			if (pfd[k].revents == 0)
				continue;
			for (i = 0; i < d->n; i++)
				if (d->hosts[i].out_fd == pfd[k].fd)
					deploy_read_output(&d->hosts[i]);
		}
		if (pfd[0].revents != 0)
			deploy_on_signal(d);
	}
	/* Whatever is left in the pipes; a process that ssh left behind may
	 * hold one open, so this does not wait for EOF. */
	for (i = 0; i < d->n; i++)
		if (d->hosts[i].out_fd >= 0) {
			deploy_read_output(&d->hosts[i]);
			deploy_print_lines(&d->hosts[i], true);
		}
	free(pfd);
	return rc;
}

/* ---- the command ----------------------------------------------------- */

/*
 * Where our own arguments end: after the hostfile, everything belongs to
 * `worker start` (clap's trailing var-arg), options included; only a
 * --show-output right after the hostfile is still ours (`worker start`
 * has no such option).
 */
static int
deploy_own_argc(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			return i + 2 < argc ? i + 2 : argc;
		if (a[0] != '-' || a[1] == '\0') {
			while (i + 1 < argc &&
			    strcmp(argv[i + 1], "--show-output") == 0)
				i++;
			return i + 1;
		}
		if ((strcmp(a, "--server-dir") == 0 ||
			strcmp(a, "--colors") == 0 ||
			strcmp(a, "--output-mode") == 0) &&
		    i + 1 < argc)
			i++;
	}
	return argc;
}

int
cmd_worker_deploy_ssh(struct cli *c, int argc, char **argv)
{
	struct deploy d;
	struct hq_args a;
	struct hq_errbuf eb;
	sigset_t mask, oldmask;
	char exe[4096], *hostfile;
	int own, rc = 0;
	ssize_t len;
	uint32_t i, nfailed = 0;

	own = deploy_own_argc(argc, argv);
	cli_parse(c, &a, deploy_opts, own, argv, 1, false,
	    "<HOSTFILE> [WORKER_START_ARGS]...",
	    "Start workers on the hosts of a hostfile through ssh");
	if (a.npos < 1)
		cli_fail(c,
		    "error: the following required arguments were not "
		    "provided:\n  <HOSTFILE>\n\nFor more information, try "
		    "'--help'.");
	memset(&d, 0, sizeof d);
	d.sfd = -1;
	d.show_output = hq_args_flag(&a, "show-output");
	hostfile = hq_xstrdup(a.pos[0]);
	hq_args_fini(&a);
	if (deploy_read_hostfile(&d, hostfile, &eb) != 0) {
		deploy_fini(&d);
		free(hostfile);
		cli_fail(c, "%s", eb.msg);
	}
	free(hostfile);
	cli_worker_check_start_args(c, argc - own, argv + own);
	len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len < 0 || (size_t)len >= sizeof exe - 1)
		cli_fail(c, "Cannot find the path of the hq binary: %s",
		    len < 0 ? strerror(errno) : "too long");
	exe[len] = '\0';

	/* Blocked from now on, so that no SIGCHLD is lost: they come through
	 * the signalfd; children get the old mask back before exec. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	if ((d.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		cli_fail(c, "signalfd: %s", strerror(errno));
	hq_info("Starting %u worker(s) through ssh", d.n);
	for (i = 0; i < d.n; i++) {
		if (deploy_spawn(&d, &d.hosts[i], exe, argc - own, argv + own,
			&oldmask, &eb) != 0) {
			hq_error("%s", eb.msg);
			rc = 1;
			if (d.running > 0) {
				d.stopping = true;
				d.kill_at_us = hq_mono_us() +
				    DEPLOY_KILL_AFTER_MS * 1000ull;
				deploy_signal_all(&d, SIGTERM);
			}
			break;
		}
	}
	if (deploy_loop(&d) != 0)
		rc = 1;
	for (i = 0; i < d.n; i++) {
		struct deploy_host *h = &d.hosts[i];
		int st = h->status;

		if (!h->ended || !h->ended_before_stop ||
		    (WIFEXITED(st) && WEXITSTATUS(st) == 0))
			continue;
		nfailed++;
		if (WIFEXITED(st))
			hq_error("Worker on %s failed: ssh exited with code %d",
			    h->label, WEXITSTATUS(st));
		else
			hq_error("Worker on %s failed: ssh was killed by "
				 "signal %d",
			    h->label, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	}
	/* The signals stay blocked: one arriving now must not kill us before
	 * we report. */
	deploy_fini(&d);
	return rc != 0 || nfailed > 0 ? 1 : 0;
}
