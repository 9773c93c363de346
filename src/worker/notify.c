/* SPDX-License-Identifier: MIT */
/*
 * Task notifications (spec 2.14), worker side: a unix socket (mode 0600,
 * in the work dir) where `hq task notify` running inside a task delivers a
 * message. Each running task gets HQ_ACCESS_KEY=<socket path>:<token>
 * with a random token of its own; the token identifies the task, and a
 * request with any other token is refused. Accepted messages go to the
 * server as NotifyRequest.
 *
 * The local protocol (hq talks only to itself here): the client sends
 * "HQN1 <token>\n<message>" and shuts down its writing side; the worker
 * answers "ok\n" or "error: <why>\n" and closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "worker/worker.h"

#define NOTIFY_MAGIC	 "HQN1 "
#define NOTIFY_MAGIC_LEN 5
/* Request limit: magic, token, newline, message. */
#define NOTIFY_REQ_MAX	 (NOTIFY_MAGIC_LEN + WORKER_TOKEN_LEN + 1 + HQ_NOTIFY_MAX)
#define NOTIFY_MAX_CONNS 64
#define NOTIFY_TIMEOUT_S 10.0

struct wnotify_conn {
	struct wnotify_conn *next, *prev;
	struct wnotify *n;
	int fd;
	ev_io io;
	ev_timer timer;
	size_t len;
	bool too_long;
	uint8_t buf[NOTIFY_REQ_MAX];
};

struct wnotify {
	struct worker *w;
	int fd;
	ev_io accept_w;
	char *path;
	char *own_dir; /* a directory we made for the socket, or NULL */
	struct wnotify_conn *conns;
	uint32_t nconns;
};

static void
notify_conn_close(struct wnotify_conn *nc)
{
	struct wnotify *n = nc->n;

	ev_io_stop(n->w->loop, &nc->io);
	ev_timer_stop(n->w->loop, &nc->timer);
	close(nc->fd);
	if (nc->prev)
		nc->prev->next = nc->next;
	else
		n->conns = nc->next;
	if (nc->next)
		nc->next->prev = nc->prev;
	n->nconns--;
	free(nc);
}

static void notify_reply(struct wnotify_conn *nc, const char *fmt, ...)
    HQ_PRINTF(2, 3);

static void
notify_reply(struct wnotify_conn *nc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	/* A few bytes into an empty socket buffer: never blocks. */
	if (send(nc->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		hq_debug("notification reply lost: %s", strerror(errno));
}

/* Compare without an early exit, so timing does not reveal a prefix. */
static bool
notify_token_eq(const char *a, const uint8_t *b)
{
	unsigned diff = 0;
	size_t i;

	for (i = 0; i < WORKER_TOKEN_LEN; i++)
		diff |= (unsigned)((uint8_t)a[i] ^ b[i]);
	return diff == 0;
}

static void
notify_handle(struct wnotify_conn *nc)
{
	struct worker *w = nc->n->w;
	const uint8_t *p = nc->buf, *msg;
	size_t mlen;
	struct wtask *t;

	if (nc->too_long) {
		notify_reply(nc,
		    "error: Notify message limit exceeded, the "
		    "limit is %u bytes\n",
		    HQ_NOTIFY_MAX);
		return;
	}
	if (nc->len < NOTIFY_MAGIC_LEN + WORKER_TOKEN_LEN + 1 ||
	    memcmp(p, NOTIFY_MAGIC, NOTIFY_MAGIC_LEN) != 0 ||
	    p[NOTIFY_MAGIC_LEN + WORKER_TOKEN_LEN] != '\n') {
		notify_reply(nc, "error: malformed notification request\n");
		return;
	}
	msg = p + NOTIFY_MAGIC_LEN + WORKER_TOKEN_LEN + 1;
	mlen = nc->len - (size_t)(msg - p);
	if (memchr(msg, '\0', mlen) != NULL) {
		notify_reply(nc, "error: the message contains a NUL byte\n");
		return;
	}
	for (t = w->running; t != NULL; t = t->next)
		if (t->notify_token[0] != '\0' && !t->canceled &&
		    notify_token_eq(t->notify_token, p + NOTIFY_MAGIC_LEN))
			break;
	if (t == NULL) {
		hq_warn("Refused a task notification: the access key is not "
			"valid");
		notify_reply(nc,
		    "error: Invalid access key: no running task "
		    "of this worker has it\n");
		return;
	}
	if (w->conn == NULL || !w->registered) {
		notify_reply(nc,
		    "error: the worker is not connected to the "
		    "server\n");
		return;
	}
	worker_report_notify(w, t, msg, mlen);
	notify_reply(nc, "ok\n");
}

static void
notify_timeout_cb(struct ev_loop *loop, ev_timer *tw, int revents)
{
	(void)loop;
	(void)revents;
	notify_conn_close(tw->data);
}

static void
notify_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct wnotify_conn *nc = io->data;
	uint8_t spill[256];
	ssize_t n;

	(void)loop;
	(void)revents;
	if (nc->len < sizeof nc->buf)
		n = read(nc->fd, nc->buf + nc->len, sizeof nc->buf - nc->len);
	else
		n = read(nc->fd, spill, sizeof spill);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		notify_conn_close(nc);
		return;
	}
	if (n > 0) {
		if (nc->len < sizeof nc->buf)
			nc->len += (size_t)n;
		else
			nc->too_long = true;
		return;
	}
	notify_handle(nc);
	notify_conn_close(nc);
}

static void
notify_accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct wnotify *n = io->data;
	struct wnotify_conn *nc;
	int fd;

	(void)revents;
	fd = accept4(n->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (n->nconns >= NOTIFY_MAX_CONNS) {
		hq_warn("Too many notification connections; refusing one");
		close(fd);
		return;
	}
	nc = hq_xcalloc(1, sizeof *nc);
	nc->n = n;
	nc->fd = fd;
	ev_io_init(&nc->io, notify_read_cb, fd, EV_READ);
	nc->io.data = nc;
	ev_io_start(loop, &nc->io);
	ev_timer_init(&nc->timer, notify_timeout_cb, NOTIFY_TIMEOUT_S, 0.);
	nc->timer.data = nc;
	ev_timer_start(loop, &nc->timer);
	nc->next = n->conns;
	if (n->conns)
		n->conns->prev = nc;
	n->conns = nc;
	n->nconns++;
}

int
worker_notify_open(struct worker *w, struct hq_errbuf *eb)
{
	struct sockaddr_un sa;
	struct wnotify *n;
	mode_t old;
	int rc;

	n = hq_xcalloc(1, sizeof *n);
	n->w = w;
	n->fd = -1;
	n->path = hq_xprintf("%s/notify.sock", w->work_dir);
	if (strlen(n->path) >= sizeof sa.sun_path) {
		/* Too long for a socket address: a private dir in /tmp. */
		char tmpl[] = "/tmp/hq-notify-XXXXXX";

		if (mkdtemp(tmpl) == NULL) {
			rc = hq_errf(eb, -errno,
			    "cannot create a directory for the notification "
			    "socket: %s",
			    strerror(errno));
			goto fail;
		}
		n->own_dir = hq_xstrdup(tmpl);
		free(n->path);
		n->path = hq_xprintf("%s/notify.sock", tmpl);
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, n->path, strlen(n->path) + 1);
	unlink(n->path);
	if ((n->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		 0)) < 0) {
		rc = hq_errf(eb, -errno, "cannot create a unix socket: %s",
		    strerror(errno));
		goto fail;
	}
	/* Created with mode 0600: only our user may connect. */
	old = umask(0177);
	rc = bind(n->fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || listen(n->fd, 64) != 0) {
		rc = hq_errf(eb, -errno, "cannot listen on %s: %s", n->path,
		    strerror(errno));
		goto fail;
	}
	ev_io_init(&n->accept_w, notify_accept_cb, n->fd, EV_READ);
	n->accept_w.data = n;
	ev_io_start(w->loop, &n->accept_w);
	w->notify = n;
	hq_debug("Notifications accepted at %s", n->path);
	return 0;
fail:
	if (n->fd >= 0)
		close(n->fd);
	if (n->own_dir != NULL)
		rmdir(n->own_dir);
	free(n->own_dir);
	free(n->path);
	free(n);
	return rc;
}

char *
worker_notify_key(struct worker *w, struct wtask *t)
{
	uint8_t rnd[WORKER_TOKEN_LEN / 2];

	if (w->notify == NULL || hq_random_bytes(rnd, sizeof rnd) != 0)
		return NULL;
	hq_hex_encode(rnd, sizeof rnd, t->notify_token);
	return hq_xprintf("%s:%s", w->notify->path, t->notify_token);
}

void
worker_notify_close(struct worker *w)
{
	struct wnotify *n = w->notify;

	if (n == NULL)
		return;
	while (n->conns != NULL)
		notify_conn_close(n->conns);
	ev_io_stop(w->loop, &n->accept_w);
	close(n->fd);
	unlink(n->path);
	if (n->own_dir != NULL)
		rmdir(n->own_dir);
	free(n->own_dir);
	free(n->path);
	free(n);
	w->notify = NULL;
}
