/* SPDX-License-Identifier: MIT */
/*
 * Framed connections on libev: TLS (or plain TCP) handshake, frame
 * reassembly, a write queue gated by journal sequence numbers, graceful
 * close; plus the listener and a blocking connect.
 */
#include "common/conn.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"

#define CONN_HANDSHAKE_TIMEOUT 10.0 /* s */
#define CONN_CLOSE_TIMEOUT     2.0  /* s, flush + close_notify + drain */
#define CONN_READ_CHUNK	       (64 * 1024)
/* Bytes read per wakeup before yielding to other watchers. */
#define CONN_READ_BUDGET  (4 * 1024 * 1024)
#define CONN_ACCEPT_BURST 128
/* Largest idle output buffer kept between bursts. */
#define CONN_OUT_KEEP (256 * 1024)
/* Default backlog of written-to-be frames a peer may leave unread. */
#define CONN_OUT_LIMIT ((size_t)64 << 20)
/*
 * No new frame is delivered while this much output is queued: a peer that
 * sends requests faster than it reads the replies is not read meanwhile,
 * so one burst of requests cannot pile up replies without bound.
 */
#define CONN_OUT_THROTTLE ((size_t)8 << 20)

enum conn_state {
	CONN_HANDSHAKE, /* TLS handshake, or plain TCP before on_ready */
	CONN_READY,
	CONN_CLOSING,  /* hq_conn_close(): flushing released frames */
	CONN_SHUTDOWN, /* close_notify and FIN sent: draining the peer */
	CONN_DEAD,     /* fd closed; on_close pending on the defer timer */
};

/* A queued frame that may not be written before 'seq' is released. */
struct conn_hold {
	uint64_t end; /* stream offset just past the frame */
	uint64_t seq;
};

struct hq_conn {
	struct ev_loop *loop;
	ev_io io;
	ev_timer timer; /* handshake or close timeout */
	ev_timer defer; /* 0 s: plain on_ready, resumed input, on_close */
	int fd;
	int io_events; /* what io is armed for; 0 = stopped */
	SSL *ssl;      /* NULL for plain TCP */
	bool server_side;
	enum conn_state state;
	size_t max_frame;
	size_t out_limit; /* see hq_conn_set_out_limit() */
	struct hq_conn_cbs cbs;
	void *arg;
	char peer[64];
	char *why;
	double hs_timeout;

	struct hq_buf in;
	struct hq_buf out;
	uint64_t out_pos;  /* stream offset of hq_buf_head(&out) */
	uint64_t released; /* stream offset up to which writing is allowed */
	uint64_t durable;  /* highest seq released */
	struct conn_hold *holds;
	size_t hold_head, hold_len, hold_cap;
	size_t begin_len; /* payload size between frame_begin and _end */
	bool in_begin;

	int retry_len;	    /* SSL_write length to repeat after WANT_* */
	bool hs_want_write; /* handshake or SSL_shutdown needs EV_WRITE */
	bool rd_want_write; /* SSL_read needs EV_WRITE */
	bool wr_want_read;  /* SSL_write needs EV_READ */
	bool paused;
	bool throttled; /* too much output queued: not reading */
	bool shut_sent; /* close_notify and FIN sent */
};

static void conn_io_cb(struct ev_loop *, ev_io *, int);
static void conn_timer_cb(struct ev_loop *, ev_timer *, int);
static void conn_defer_cb(struct ev_loop *, ev_timer *, int);

static void
conn_format_addr(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size)
{
	char host[INET6_ADDRSTRLEN], serv[8];

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
		NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, size, "local");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, serv);
	else
		snprintf(buf, size, "%s:%s", host, serv);
}

static int
conn_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	if (fcntl(fd, F_SETFL, fl) < 0)
		return -errno;
	return 0;
}

/* Best effort: fails harmlessly on non-TCP sockets (tests use pairs). */
static void
conn_set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static bool
conn_writable(const struct hq_conn *c)
{
	return c->retry_len > 0 || c->released > c->out_pos;
}

/* Recompute EV_READ/EV_WRITE interest from the state and the queue. */
static void
conn_update(struct hq_conn *c)
{
	int ev = 0;

	switch (c->state) {
	case CONN_HANDSHAKE:
		if (c->ssl != NULL)
			ev = EV_READ | (c->hs_want_write ? EV_WRITE : 0);
		break;
	case CONN_READY:
		if ((!c->paused && !c->throttled) || c->wr_want_read)
			ev |= EV_READ;
		if (conn_writable(c) || c->rd_want_write)
			ev |= EV_WRITE;
		break;
	case CONN_CLOSING:
		/* EV_WRITE also moves on to close_notify once flushed. */
		ev = EV_READ | EV_WRITE;
		break;
	case CONN_SHUTDOWN:
		ev = EV_READ | (c->hs_want_write ? EV_WRITE : 0);
		break;
	case CONN_DEAD:
		break;
	}
	if (ev == c->io_events)
		return;
	if (c->io_events != 0)
		ev_io_stop(c->loop, &c->io);
	c->io_events = ev;
	if (ev != 0) {
		ev_io_set(&c->io, c->fd, ev);
		ev_io_start(c->loop, &c->io);
	}
}

static void
conn_kick(struct hq_conn *c)
{
	if (!ev_is_active(&c->defer)) {
		ev_timer_set(&c->defer, 0., 0.);
		ev_timer_start(c->loop, &c->defer);
	}
}

/* Release the socket now; on_close follows from the loop. */
static void
conn_teardown(struct hq_conn *c)
{
	HQ_ASSERT(c->state != CONN_DEAD);
	if (c->io_events != 0)
		ev_io_stop(c->loop, &c->io);
	c->io_events = 0;
	ev_timer_stop(c->loop, &c->timer);
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
	c->state = CONN_DEAD;
	conn_kick(c);
}

/*
 * Every way of losing the peer ends here: log 'level' (or nothing if < 0)
 * with the peer's address, keep the first reason for on_close, tear down.
 */
static void HQ_PRINTF(3, 4)
    conn_lost(struct hq_conn *c, int level, const char *fmt, ...)
{
	char msg[512];
	const char *verb;
	va_list ap;

	if (c->state == CONN_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->why != NULL) {
		/* Closing on the owner's request: its reason stands. */
		hq_debug("connection %s %s: %s while closing",
		    c->server_side ? "from" : "to", c->peer, msg);
	} else {
		c->why = hq_xstrdup(msg);
		if (c->state == CONN_HANDSHAKE)
			verb = c->server_side ? "refused" : "failed";
		else
			verb = "closed";
		if (level >= 0 && hq_log_enabled((enum hq_log_level)level))
			hq_log((enum hq_log_level)level,
			    "connection %s %s %s: %s",
			    c->server_side ? "from" : "to", c->peer, verb, msg);
	}
	conn_teardown(c);
}

/* Peer gone or failed on SSL_read/SSL_write/recv/send. */
static void
conn_io_failed(struct hq_conn *c, int ssl_err, int sys_errno)
{
	struct hq_errbuf eb;
	int rc, level;

	if (c->ssl != NULL) {
		rc = hq_tls_io_error(ssl_err, sys_errno, &eb);
		/* Answer a close_notify with ours (best effort). */
		if (ssl_err == SSL_ERROR_ZERO_RETURN)
			(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
	} else if (ssl_err == SSL_ERROR_ZERO_RETURN) {
		rc = hq_errf(&eb, HQ_ECLOSED, "connection closed by peer");
	} else {
		rc = hq_errf(&eb, -sys_errno, "%s", strerror(sys_errno));
	}
	if (c->state == CONN_READY && hq_buf_avail(&c->in) > 0) {
		size_t have = hq_buf_avail(&c->in);

		if (have < 4)
			conn_lost(c, HQ_LOG_WARN,
			    "%s in a frame header (%zu of 4 bytes)", eb.msg,
			    have);
		else
			conn_lost(c, HQ_LOG_WARN,
			    "%s in the middle of a frame (%zu of %zu bytes)",
			    eb.msg, have - 4,
			    (size_t)hq_get_u32be(hq_buf_head(&c->in)));
		return;
	}
	if (rc != HQ_ECLOSED)
		level = HQ_LOG_WARN;
	else if (ssl_err == SSL_ERROR_ZERO_RETURN)
		level = HQ_LOG_DEBUG;
	else
		level = c->ssl != NULL ? HQ_LOG_INFO : HQ_LOG_DEBUG;
	conn_lost(c, level, "%s", eb.msg);
}

/*
 * Read into 'p' (room 'n'). Returns bytes read, 0 when the socket would
 * block, -1 when the connection was lost.
 */
static ssize_t
conn_recv(struct hq_conn *c, uint8_t *p, size_t n)
{
	ssize_t r;
	int err;

	if (c->ssl == NULL) {
		do
			r = recv(c->fd, p, n, 0);
		while (r < 0 && errno == EINTR);
		if (r > 0)
			return r;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		conn_io_failed(c, r == 0 ? SSL_ERROR_ZERO_RETURN : 0,
		    r == 0 ? 0 : errno);
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_read(c->ssl, p, (int)HQ_MIN(n, (size_t)INT_MAX));
	if (r > 0) {
		c->rd_want_write = false;
		return r;
	}
	err = SSL_get_error(c->ssl, (int)r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		c->rd_want_write = err == SSL_ERROR_WANT_WRITE;
		return 0;
	}
	conn_io_failed(c, err, errno);
	return -1;
}

/*
 * Deliver the whole frames buffered in 'in'. Returns 0 to go on reading,
 * -1 when the owner paused or closed the connection, or it was lost.
 */
static int
conn_deliver(struct hq_conn *c)
{
	size_t len;

	while (hq_buf_avail(&c->in) >= 4) {
		if (hq_buf_avail(&c->out) > CONN_OUT_THROTTLE) {
			c->throttled = true; /* conn_flush resumes */
			return -1;
		}
		len = hq_get_u32be(hq_buf_head(&c->in));
		if (len > c->max_frame) {
			conn_lost(c, HQ_LOG_WARN,
			    "frame of %zu bytes exceeds the limit of %zu", len,
			    c->max_frame);
			return -1;
		}
		if (hq_buf_avail(&c->in) - 4 < len)
			break;
		if (c->cbs.on_frame != NULL)
			c->cbs.on_frame(c, hq_buf_head(&c->in) + 4, len,
			    c->arg);
		hq_buf_consume(&c->in, 4 + len);
		if (c->state != CONN_READY || c->paused)
			return -1;
	}
	return 0;
}

/* Read until the socket would block (TLS buffers hide readiness). */
static void
conn_read(struct hq_conn *c)
{
	size_t total = 0, room, avail;
	ssize_t n;

	while (c->state == CONN_READY && !c->paused && !c->throttled) {
		if (conn_deliver(c) != 0)
			return;
		if (total >= CONN_READ_BUDGET) {
			conn_kick(c); /* more next iteration */
			return;
		}
		room = CONN_READ_CHUNK;
		avail = hq_buf_avail(&c->in);
		if (avail >= 4)
			room = HQ_MAX(room,
			    4 + (size_t)hq_get_u32be(hq_buf_head(&c->in)) -
				avail);
		n = conn_recv(c, hq_buf_reserve(&c->in, room), room);
		if (n == 0 && hq_buf_avail(&c->in) == 0)
			hq_buf_fini(
			    &c->in); /* idle connections hold no buffer */
		if (n <= 0)
			return;
		c->in.len += (size_t)n;
		total += (size_t)n;
	}
}

/* Write released bytes until the socket would block or nothing is left. */
static void
conn_flush(struct hq_conn *c)
{
	size_t n;
	ssize_t r;
	int err;

	while (c->state == CONN_READY || c->state == CONN_CLOSING) {
		if (c->retry_len > 0)
			n = (size_t)c->retry_len;
		else
			n = HQ_MIN(c->released - c->out_pos, (uint64_t)INT_MAX);
		if (n == 0) {
			if (hq_buf_avail(&c->out) == 0 &&
			    c->out.cap > CONN_OUT_KEEP && !c->in_begin)
				hq_buf_fini(&c->out); /* after a big frame */
			return;
		}
		if (c->ssl == NULL) {
			r = send(c->fd, hq_buf_head(&c->out), n, MSG_NOSIGNAL);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (r < 0) {
				conn_io_failed(c, 0, errno);
				return;
			}
		} else {
			ERR_clear_error();
			errno = 0;
			r = SSL_write(c->ssl, hq_buf_head(&c->out), (int)n);
			if (r <= 0) {
				err = SSL_get_error(c->ssl, (int)r);
				if (err == SSL_ERROR_WANT_WRITE ||
				    err == SSL_ERROR_WANT_READ) {
					/* OpenSSL wants the same length. */
					c->retry_len = (int)n;
					c->wr_want_read =
					    err == SSL_ERROR_WANT_READ;
					return;
				}
				conn_io_failed(c, err, errno);
				return;
			}
			c->retry_len = 0;
			c->wr_want_read = false;
		}
		hq_buf_consume(&c->out, (size_t)r);
		c->out_pos += (uint64_t)r;
		if (c->throttled &&
		    hq_buf_avail(&c->out) <= CONN_OUT_THROTTLE / 2) {
			c->throttled = false;
			conn_kick(c); /* deliver what waits, then read */
		}
	}
}

static void
conn_dispatch_ready(struct hq_conn *c, int revents)
{
	if ((revents & EV_WRITE) || (c->wr_want_read && (revents & EV_READ)))
		conn_flush(c);
	if ((revents & EV_READ) || (c->rd_want_write && (revents & EV_WRITE)))
		conn_read(c);
}

static void
conn_become_ready(struct hq_conn *c)
{
	ev_timer_stop(c->loop, &c->timer);
	c->state = CONN_READY;
	c->hs_want_write = false;
	if (c->ssl != NULL)
		hq_debug("connection %s %s: TLS ready (%s, %s)",
		    c->server_side ? "from" : "to", c->peer,
		    SSL_get_cipher_name(c->ssl),
		    OBJ_nid2sn(SSL_get_negotiated_group(c->ssl)));
	if (c->cbs.on_ready != NULL)
		c->cbs.on_ready(c, c->arg);
	/* Data may already sit in OpenSSL's buffers: read it now. */
	if (c->state == CONN_READY)
		conn_dispatch_ready(c, EV_READ | EV_WRITE);
}

static void
conn_dispatch_handshake(struct hq_conn *c)
{
	struct hq_errbuf eb;
	int r, err;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	if (r != 1) {
		err = SSL_get_error(c->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			c->hs_want_write = err == SSL_ERROR_WANT_WRITE;
			return;
		}
		hq_tls_handshake_error(c->ssl, err, errno,
		    "TLS handshake failed", &eb);
		conn_lost(c, HQ_LOG_WARN, "%s", eb.msg);
		return;
	}
	if (hq_tls_check_done(c->ssl, &eb) != 0) {
		conn_lost(c, HQ_LOG_WARN, "%s", eb.msg);
		return;
	}
	conn_become_ready(c);
}

/* Read and discard while closing; the peer's end finishes the close. */
static void
conn_drain(struct hq_conn *c)
{
	uint8_t junk[4096];
	size_t total = 0;
	ssize_t n;
	int err;

	while (c->state == CONN_CLOSING || c->state == CONN_SHUTDOWN) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_read(c->ssl, junk, sizeof junk);
			if (n <= 0) {
				err = SSL_get_error(c->ssl, (int)n);
				if (err == SSL_ERROR_WANT_READ ||
				    err == SSL_ERROR_WANT_WRITE)
					return;
				ERR_clear_error();
				conn_teardown(c);
				return;
			}
		} else {
			n = recv(c->fd, junk, sizeof junk, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n <= 0) {
				conn_teardown(c);
				return;
			}
		}
		total += (size_t)n;
		if (total >= CONN_READ_BUDGET)
			return; /* still readable: next iteration */
	}
}

static void
conn_dispatch_closing(struct hq_conn *c)
{
	int r, err;

	if (c->state == CONN_CLOSING) {
		conn_flush(c);
		if (c->state != CONN_CLOSING)
			return;
		if (!conn_writable(c))
			c->state = CONN_SHUTDOWN;
	}
	if (c->state == CONN_SHUTDOWN && !c->shut_sent) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			r = SSL_shutdown(c->ssl);
			if (r < 0) {
				err = SSL_get_error(c->ssl, r);
				ERR_clear_error();
				if (err == SSL_ERROR_WANT_WRITE) {
					c->hs_want_write = true;
					return;
				}
				if (err != SSL_ERROR_WANT_READ) {
					conn_teardown(c);
					return;
				}
			} else if (r == 1) {
				conn_teardown(c); /* both sides are done */
				return;
			}
		}
		(void)shutdown(c->fd, SHUT_WR);
		c->shut_sent = true;
		c->hs_want_write = false;
	}
	conn_drain(c);
}

static void
conn_io_cb(HQ_UNUSED struct ev_loop *loop, ev_io *w, int revents)
{
	struct hq_conn *c = w->data;

	switch (c->state) {
	case CONN_HANDSHAKE:
		conn_dispatch_handshake(c);
		break;
	case CONN_READY:
		conn_dispatch_ready(c, revents);
		break;
	case CONN_CLOSING:
	case CONN_SHUTDOWN:
		conn_dispatch_closing(c);
		break;
	case CONN_DEAD:
		break;
	}
	conn_update(c);
}

static void
conn_timer_cb(HQ_UNUSED struct ev_loop *loop, ev_timer *w,
    HQ_UNUSED int revents)
{
	struct hq_conn *c = w->data;

	if (c->state == CONN_HANDSHAKE) {
		conn_lost(c, HQ_LOG_WARN, "TLS handshake timed out after %g s",
		    c->hs_timeout);
	} else if (c->state == CONN_CLOSING || c->state == CONN_SHUTDOWN) {
		hq_debug("connection %s %s: close timed out, dropping %zu "
			 "bytes",
		    c->server_side ? "from" : "to", c->peer,
		    hq_buf_avail(&c->out));
		conn_teardown(c);
	}
}

static void
conn_free(struct hq_conn *c)
{
	ev_timer_stop(c->loop, &c->defer);
	hq_buf_fini(&c->in);
	hq_buf_fini(&c->out);
	free(c->holds);
	free(c->why);
	free(c);
}

static void
conn_defer_cb(HQ_UNUSED struct ev_loop *loop, ev_timer *w,
    HQ_UNUSED int revents)
{
	struct hq_conn *c = w->data;

	switch (c->state) {
	case CONN_DEAD:
		if (c->cbs.on_close != NULL)
			c->cbs.on_close(c, c->why != NULL ? c->why : "closed",
			    c->arg);
		conn_free(c);
		return;
	case CONN_HANDSHAKE:
		if (c->ssl == NULL)
			conn_become_ready(c);
		break;
	case CONN_READY:
		conn_read(c);
		break;
	case CONN_CLOSING:
	case CONN_SHUTDOWN:
		break;
	}
	conn_update(c);
}

/* CONN_OUT_LIMIT, or $HQ_CONN_OUT_LIMIT bytes (tests, operators). */
static size_t
conn_default_out_limit(void)
{
	static size_t limit;
	const char *e;
	char *end;
	unsigned long long v;

	if (limit == 0) {
		limit = CONN_OUT_LIMIT;
		if ((e = getenv("HQ_CONN_OUT_LIMIT")) != NULL && *e != '\0') {
			errno = 0;
			v = strtoull(e, &end, 10);
			if (errno == 0 && *end == '\0' && v > 0)
				limit = (size_t)v;
			else
				hq_warn("ignoring HQ_CONN_OUT_LIMIT=%s: not a "
					"byte count",
				    e);
		}
	}
	return limit;
}

int
hq_conn_create(struct ev_loop *loop, int fd, struct hq_tls *tls,
    bool server_side, size_t max_frame, const struct hq_conn_cbs *cbs,
    void *arg, struct hq_conn **out)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	struct hq_errbuf eb;
	struct hq_conn *c;
	int rc;

	HQ_ASSERT(tls == NULL || hq_tls_is_server(tls) == server_side);
	if ((rc = conn_set_nonblock(fd, true)) != 0) {
		close(fd);
		return rc;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	conn_set_nodelay(fd);
	c = hq_xcalloc(1, sizeof *c);
	c->loop = loop;
	c->fd = fd;
	c->server_side = server_side;
	c->max_frame = max_frame;
	c->out_limit = conn_default_out_limit();
	c->cbs = *cbs;
	c->arg = arg;
	c->hs_timeout = CONN_HANDSHAKE_TIMEOUT;
	hq_buf_init(&c->in);
	hq_buf_init(&c->out);
	if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0)
		conn_format_addr((struct sockaddr *)&ss, sslen, c->peer,
		    sizeof c->peer);
	else
		snprintf(c->peer, sizeof c->peer, "unconnected");
	if (tls != NULL && (rc = hq_tls_ssl_new(tls, fd, &c->ssl, &eb)) != 0) {
		hq_warn("connection %s %s: %s", server_side ? "from" : "to",
		    c->peer, eb.msg);
		close(fd);
		free(c);
		return rc;
	}
	ev_io_init(&c->io, conn_io_cb, fd, 0);
	c->io.data = c;
	ev_init(&c->timer, conn_timer_cb);
	c->timer.data = c;
	ev_init(&c->defer, conn_defer_cb);
	c->defer.data = c;
	if (c->ssl != NULL) {
		/* The client speaks first. */
		c->hs_want_write = !server_side;
		ev_timer_set(&c->timer, c->hs_timeout, 0.);
		ev_timer_start(loop, &c->timer);
		conn_update(c);
	} else {
		conn_kick(c);
	}
	*out = c;
	return 0;
}

/* Frames ending at or before 'end' may be written once 'seq' is durable. */
static void
conn_queued(struct hq_conn *c, uint64_t end, uint64_t seq)
{
	struct conn_hold h = { .end = end, .seq = seq };

	if (c->hold_len == c->hold_head && seq <= c->durable) {
		c->released = end;
		return;
	}
	if (c->hold_head > 0 && c->hold_len == c->hold_cap) {
		memmove(c->holds, c->holds + c->hold_head,
		    (c->hold_len - c->hold_head) * sizeof *c->holds);
		c->hold_len -= c->hold_head;
		c->hold_head = 0;
	}
	HQ_VEC_PUSH(c->holds, c->hold_len, c->hold_cap, h);
}

uint8_t *
hq_conn_frame_begin(struct hq_conn *c, size_t len)
{
	uint8_t *p;

	HQ_ASSERT(!c->in_begin);
	HQ_ASSERT(len <= UINT32_MAX);
	p = hq_buf_reserve(&c->out, 4 + len);
	hq_put_u32be(p, (uint32_t)len);
	c->in_begin = true;
	c->begin_len = len;
	return p + 4;
}

void
hq_conn_frame_end(struct hq_conn *c, uint64_t seq)
{
	uint64_t unread = c->released - c->out_pos;

	HQ_ASSERT(c->in_begin);
	c->in_begin = false;
	if (c->state >= CONN_CLOSING)
		return; /* dropped */
	/*
	 * A peer that stopped reading while frames keep coming would make us
	 * hold everything for it: cut it off once what it left unread (of
	 * frames it could have read) passes the limit. One big reply to a
	 * slow reader is fine: only the backlog before a new frame counts.
	 */
	if (c->state == CONN_READY && unread > c->out_limit) {
		conn_lost(c, HQ_LOG_WARN,
		    "the peer does not read: %llu bytes wait to be written "
		    "(limit %zu)",
		    (unsigned long long)unread, c->out_limit);
		return;
	}
	c->out.len += 4 + c->begin_len;
	conn_queued(c, c->out_pos + hq_buf_avail(&c->out), seq);
	conn_update(c);
}

void
hq_conn_send(struct hq_conn *c, const void *data, size_t len, uint64_t seq)
{
	uint8_t *p = hq_conn_frame_begin(c, len);

	if (len > 0)
		memcpy(p, data, len);
	hq_conn_frame_end(c, seq);
}

void
hq_conn_release(struct hq_conn *c, uint64_t durable_seq)
{
	if (durable_seq > c->durable)
		c->durable = durable_seq;
	while (c->hold_head < c->hold_len &&
	    c->holds[c->hold_head].seq <= c->durable)
		c->released = c->holds[c->hold_head++].end;
	if (c->hold_head == c->hold_len)
		c->hold_head = c->hold_len = 0;
	conn_update(c);
}

void
hq_conn_drop_held(struct hq_conn *c)
{
	uint64_t tail = c->out_pos + hq_buf_avail(&c->out);

	if (c->in_begin)
		return;
	c->out.len -= (size_t)(tail - c->released);
	c->hold_head = c->hold_len = 0;
	conn_update(c);
}

bool
hq_conn_has_held(const struct hq_conn *c)
{
	return c->hold_head < c->hold_len;
}

size_t
hq_conn_queued_bytes(const struct hq_conn *c)
{
	return hq_buf_avail(&c->out);
}

void
hq_conn_close(struct hq_conn *c, const char *why)
{
	uint64_t tail = c->out_pos + hq_buf_avail(&c->out);

	if (c->state >= CONN_CLOSING)
		return;
	c->why = hq_xstrdup(why);
	if (c->state == CONN_HANDSHAKE && c->ssl != NULL) {
		conn_teardown(c); /* nothing may be sent yet */
		return;
	}
	/* Plain TCP before on_ready can still flush: on_ready never comes. */
	/* Held frames are not durable: they are never sent. */
	c->out.len -= (size_t)(tail - c->released);
	c->hold_head = c->hold_len = 0;
	c->state = CONN_CLOSING;
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_set(&c->timer, CONN_CLOSE_TIMEOUT, 0.);
	ev_timer_start(c->loop, &c->timer);
	conn_update(c);
}

void
hq_conn_abort(struct hq_conn *c, const char *why)
{
	if (c->state == CONN_DEAD)
		return;
	if (c->why == NULL)
		c->why = hq_xstrdup(why);
	conn_teardown(c);
}

const char *
hq_conn_peer(const struct hq_conn *c)
{
	return c->peer;
}

void
hq_conn_set_data(struct hq_conn *c, void *arg)
{
	c->arg = arg;
}

void
hq_conn_set_out_limit(struct hq_conn *c, size_t bytes)
{
	c->out_limit = bytes;
}

void
hq_conn_set_handshake_timeout(struct hq_conn *c, double seconds)
{
	c->hs_timeout = seconds;
	if (c->state != CONN_HANDSHAKE || c->ssl == NULL)
		return;
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_set(&c->timer, seconds, 0.);
	ev_timer_start(c->loop, &c->timer);
}

void
hq_conn_pause_read(struct hq_conn *c, bool paused)
{
	if (c->state == CONN_DEAD || c->paused == paused)
		return;
	c->paused = paused;
	conn_update(c);
	/* Frames may be buffered here or in OpenSSL: no fd event will come. */
	if (!paused && c->state == CONN_READY)
		conn_kick(c);
}

/* ---- listener ----------------------------------------------------------- */

struct hq_listener {
	struct ev_loop *loop;
	ev_io io;
	ev_timer retry; /* resume accepting after running out of fds */
	int fd;
	uint16_t port;
	void (*on_accept)(int fd, void *arg);
	void *arg;
	bool in_cb;
	bool closed;
};

static void
listener_free(struct hq_listener *l)
{
	ev_io_stop(l->loop, &l->io);
	ev_timer_stop(l->loop, &l->retry);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

static void
listener_accept_cb(HQ_UNUSED struct ev_loop *loop, ev_io *w,
    HQ_UNUSED int revents)
{
	struct hq_listener *l = w->data;
	int i, fd;

	for (i = 0; i < CONN_ACCEPT_BURST; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/*
			 * Out of fds or memory: the socket stays readable, so
			 * pause instead of spinning.
			 */
			hq_warn("accept on port %u: %s; retrying in 1 s",
			    l->port, strerror(errno));
			ev_io_stop(l->loop, &l->io);
			ev_timer_set(&l->retry, 1., 0.);
			ev_timer_start(l->loop, &l->retry);
			return;
		}
		conn_set_nodelay(fd);
		l->in_cb = true;
		l->on_accept(fd, l->arg);
		l->in_cb = false;
		if (l->closed) {
			listener_free(l);
			return;
		}
	}
}

static void
listener_retry_cb(HQ_UNUSED struct ev_loop *loop, ev_timer *w,
    HQ_UNUSED int revents)
{
	struct hq_listener *l = w->data;

	ev_io_start(l->loop, &l->io);
}

int
hq_listener_open(struct ev_loop *loop, const char *host, uint16_t port,
    void (*on_accept)(int fd, void *arg), void *arg, struct hq_listener **out,
    struct hq_errbuf *eb)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	struct hq_listener *l;
	char portstr[8];
	int fd = -1, one = 1, rc, gai;

	if (host == NULL || *host == '\0')
		host = "0.0.0.0";
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%u", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		rc = gai == EAI_SYSTEM ? -errno : HQ_ENOTFOUND;
		hq_errf(eb, rc, "cannot listen on %s:%u: %s", host, port,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		goto out;
	}
	rc = -EADDRNOTAVAIL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			sizeof one) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		rc = -errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		hq_errf(eb, rc, "cannot listen on %s:%u: %s", host, port,
		    hq_strerror(rc));
		goto out;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
		rc = -errno;
		hq_errf(eb, rc, "cannot listen on %s:%u: getsockname: %s", host,
		    port, strerror(errno));
		close(fd);
		goto out;
	}
	l = hq_xcalloc(1, sizeof *l);
	l->loop = loop;
	l->fd = fd;
	l->port = ntohs(ss.ss_family == AF_INET6
		? ((struct sockaddr_in6 *)&ss)->sin6_port
		: ((struct sockaddr_in *)&ss)->sin_port);
	l->on_accept = on_accept;
	l->arg = arg;
	ev_io_init(&l->io, listener_accept_cb, fd, EV_READ);
	l->io.data = l;
	ev_init(&l->retry, listener_retry_cb);
	l->retry.data = l;
	ev_io_start(loop, &l->io);
	*out = l;
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

uint16_t
hq_listener_port(const struct hq_listener *l)
{
	return l->port;
}

void
hq_listener_close(struct hq_listener *l)
{
	if (l == NULL)
		return;
	if (l->in_cb) {
		/* Inside on_accept: freed when it returns. */
		ev_io_stop(l->loop, &l->io);
		close(l->fd);
		l->fd = -1;
		l->closed = true;
		return;
	}
	listener_free(l);
}

/* ---- blocking connect --------------------------------------------------- */

/* Remaining milliseconds before 'deadline' (us); -1 = no deadline. */
static int
conn_remaining_ms(uint64_t deadline)
{
	uint64_t now;

	if (deadline == 0)
		return -1;
	now = hq_mono_us();
	if (now >= deadline)
		return 0;
	return (int)HQ_MIN((deadline - now + 999) / 1000, (uint64_t)INT_MAX);
}

/* One address: 0, -errno, or HQ_ETIMEOUT when the deadline passed. */
static int
conn_connect_one(const struct addrinfo *ai, uint64_t deadline, int *fdp)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, r, soerr = 0, rc;

	fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto done;
	if (errno != EINPROGRESS) {
		rc = -errno;
		goto fail;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do
		r = poll(&pfd, 1, conn_remaining_ms(deadline));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		rc = -errno;
		goto fail;
	}
	if (r == 0) {
		rc = HQ_ETIMEOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
		rc = -errno;
		goto fail;
	}
	if (soerr != 0) {
		rc = -soerr;
		goto fail;
	}
done:
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

int
hq_tcp_connect(const char *host, uint16_t port, double timeout_s, int *fdp,
    struct hq_errbuf *eb)
{
	struct addrinfo hints, *res = NULL, *ai;
	uint64_t deadline = 0;
	char portstr[8];
	int fd = -1, rc, gai;

	if (timeout_s >= 0)
		deadline = hq_mono_us() + (uint64_t)(timeout_s * 1e6) + 1;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%u", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		rc = gai == EAI_SYSTEM ? -errno : HQ_ENOTFOUND;
		hq_errf(eb, rc, "cannot resolve %s: %s",
		    host != NULL ? host : "localhost",
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		goto out;
	}
	rc = -EADDRNOTAVAIL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((rc = conn_connect_one(ai, deadline, &fd)) == 0 ||
		    rc == HQ_ETIMEOUT)
			break;
	}
	if (rc == HQ_ETIMEOUT) {
		hq_errf(eb, rc, "connecting to %s:%u timed out after %g s",
		    host != NULL ? host : "localhost", port, timeout_s);
		goto out;
	}
	if (rc != 0) {
		hq_errf(eb, rc, "cannot connect to %s:%u: %s",
		    host != NULL ? host : "localhost", port, hq_strerror(rc));
		goto out;
	}
	if ((rc = conn_set_nonblock(fd, false)) != 0) {
		hq_errf(eb, rc, "cannot connect to %s:%u: fcntl: %s",
		    host != NULL ? host : "localhost", port, hq_strerror(rc));
		close(fd);
		goto out;
	}
	conn_set_nodelay(fd);
	*fdp = fd;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}
