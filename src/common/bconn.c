/* SPDX-License-Identifier: MIT */
/*
 * Blocking framed connection for the CLI. The socket is non-blocking
 * underneath so that every wait is a poll() with a deadline.
 */
#include "common/bconn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conn.h"

#define BCONN_READ_CHUNK (64 * 1024)

struct hq_bconn {
	int fd;
	SSL *ssl; /* NULL for plain TCP */
	size_t max_frame;
	double timeout_s;
	bool broken; /* a failure desynchronised the stream */
	char peer[300];
	struct hq_buf in;
	struct hq_buf out;
};

/* Absolute deadline in us for 'timeout_s' from now; 0 = none. */
static uint64_t
bconn_deadline(double timeout_s)
{
	if (timeout_s < 0)
		return 0;
	return hq_mono_us() + (uint64_t)(timeout_s * 1e6) + 1;
}

/* Wait for 'events' on the socket: 0, HQ_ETIMEOUT or -errno. */
static int
bconn_wait(struct hq_bconn *c, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	uint64_t now;
	int r, ms;

	for (;;) {
		ms = -1;
		if (deadline != 0) {
			now = hq_mono_us();
			if (now >= deadline)
				return HQ_ETIMEOUT;
			ms = (int)HQ_MIN((deadline - now + 999) / 1000,
			    (uint64_t)INT_MAX);
		}
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return HQ_ETIMEOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static void
bconn_free(struct hq_bconn *c)
{
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	hq_buf_fini(&c->in);
	hq_buf_fini(&c->out);
	free(c);
}

static int
bconn_handshake(struct hq_bconn *c, uint64_t deadline, double timeout_s,
    struct hq_errbuf *eb)
{
	struct hq_errbuf why;
	char what[360];
	int r, err, rc;

	snprintf(what, sizeof what, "TLS handshake with %s failed", c->peer);
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((r = SSL_do_handshake(c->ssl)) == 1)
			break;
		err = SSL_get_error(c->ssl, r);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			return hq_tls_handshake_error(c->ssl, err, errno, what,
			    eb);
		rc = bconn_wait(c,
		    err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (rc == HQ_ETIMEOUT)
			return hq_errf(eb, rc,
			    "TLS handshake with %s timed out after %g s",
			    c->peer, timeout_s);
		if (rc != 0)
			return hq_errf(eb, rc, "%s: %s", what, hq_strerror(rc));
	}
	if ((rc = hq_tls_check_done(c->ssl, &why)) != 0)
		return hq_errf(eb, rc, "%s: %s", what, why.msg);
	return 0;
}

int
hq_bconn_connect(const char *host, uint16_t port, struct hq_tls *tls,
    size_t max_frame, double timeout_s, struct hq_bconn **out,
    struct hq_errbuf *eb)
{
	uint64_t deadline = bconn_deadline(timeout_s);
	struct hq_bconn *c = NULL;
	int fd = -1, rc, fl;

	HQ_ASSERT(tls == NULL || !hq_tls_is_server(tls));
	if (tls != NULL)
		hq_tls_global_init();
	if ((rc = hq_tcp_connect(host, port, timeout_s, &fd, eb)) != 0)
		return rc;
	c = hq_xcalloc(1, sizeof *c);
	c->fd = fd;
	c->max_frame = max_frame;
	c->timeout_s = timeout_s;
	hq_buf_init(&c->in);
	hq_buf_init(&c->out);
	if (host == NULL)
		host = "localhost";
	snprintf(c->peer, sizeof c->peer,
	    strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, port);
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = hq_errf(eb, -errno, "connection to %s: fcntl: %s", c->peer,
		    strerror(errno));
		goto out;
	}
	if (tls != NULL) {
		if ((rc = hq_tls_ssl_new(tls, fd, &c->ssl, eb)) != 0)
			goto out;
		if ((rc = bconn_handshake(c, deadline, timeout_s, eb)) != 0)
			goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	if (c != NULL)
		bconn_free(c);
	return rc;
}

/* Write all of out; 'timeout_s' bounds each wait without progress. */
static int
bconn_write_all(struct hq_bconn *c, struct hq_errbuf *eb)
{
	struct hq_errbuf why;
	const uint8_t *p;
	size_t n;
	ssize_t r;
	int err, rc;
	short wait_for;

	while ((n = hq_buf_avail(&c->out)) > 0) {
		p = hq_buf_head(&c->out);
		if (c->ssl == NULL) {
			r = send(c->fd, p, n, MSG_NOSIGNAL);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				return hq_errf(eb, -errno, "sending to %s: %s",
				    c->peer, strerror(errno));
			wait_for = POLLOUT;
		} else {
			/* After WANT_*, OpenSSL wants the same length. */
			ERR_clear_error();
			errno = 0;
			r = SSL_write(c->ssl, p,
			    (int)HQ_MIN(n, (size_t)INT_MAX));
			if (r <= 0) {
				err = SSL_get_error(c->ssl, (int)r);
				if (err != SSL_ERROR_WANT_READ &&
				    err != SSL_ERROR_WANT_WRITE) {
					rc = hq_tls_io_error(err, errno, &why);
					return hq_errf(eb, rc,
					    "sending to %s: %s", c->peer,
					    why.msg);
				}
				wait_for = err == SSL_ERROR_WANT_READ ? POLLIN
								      : POLLOUT;
			}
		}
		if (r > 0) {
			hq_buf_consume(&c->out, (size_t)r);
			continue;
		}
		rc = bconn_wait(c, wait_for, bconn_deadline(c->timeout_s));
		if (rc == HQ_ETIMEOUT)
			return hq_errf(eb, rc,
			    "sending to %s timed out after %g s", c->peer,
			    c->timeout_s);
		if (rc != 0)
			return hq_errf(eb, rc, "sending to %s: %s", c->peer,
			    hq_strerror(rc));
	}
	return 0;
}

int
hq_bconn_send(struct hq_bconn *c, const void *data, size_t len,
    struct hq_errbuf *eb)
{
	uint8_t *p;
	int rc;

	if (c->broken)
		return hq_errf(eb, HQ_ECLOSED, "connection to %s is broken",
		    c->peer);
	if (len > UINT32_MAX)
		return hq_errf(eb, HQ_ETOOBIG,
		    "frame of %zu bytes is too large to send", len);
	/* Header and payload in one buffer: one TLS record, one write. */
	hq_buf_reset(&c->out);
	p = hq_buf_reserve(&c->out, 4 + len);
	hq_put_u32be(p, (uint32_t)len);
	if (len > 0)
		memcpy(p + 4, data, len);
	c->out.len = 4 + len;
	if ((rc = bconn_write_all(c, eb)) != 0)
		c->broken = true;
	return rc;
}

/* Read more into 'in': >0 bytes, or a negative code with 'eb'. */
static ssize_t
bconn_read_some(struct hq_bconn *c, size_t room, uint64_t deadline,
    double timeout_s, struct hq_errbuf *eb)
{
	uint8_t *p = hq_buf_reserve(&c->in, room);
	struct hq_errbuf why;
	ssize_t r;
	int err, rc;
	short wait_for;

	for (;;) {
		if (c->ssl == NULL) {
			r = recv(c->fd, p, room, 0);
			if (r > 0)
				return r;
			if (r == 0)
				return HQ_ECLOSED;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return hq_errf(eb, -errno,
				    "receiving from %s: %s", c->peer,
				    strerror(errno));
			wait_for = POLLIN;
		} else {
			ERR_clear_error();
			errno = 0;
			r = SSL_read(c->ssl, p,
			    (int)HQ_MIN(room, (size_t)INT_MAX));
			if (r > 0)
				return r;
			err = SSL_get_error(c->ssl, (int)r);
			if (err != SSL_ERROR_WANT_READ &&
			    err != SSL_ERROR_WANT_WRITE) {
				rc = hq_tls_io_error(err, errno, &why);
				if (rc == HQ_ECLOSED)
					return rc;
				return hq_errf(eb, rc, "receiving from %s: %s",
				    c->peer, why.msg);
			}
			wait_for =
			    err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		}
		rc = bconn_wait(c, wait_for, deadline);
		if (rc == HQ_ETIMEOUT)
			return hq_errf(eb, rc, "no answer from %s within %g s",
			    c->peer, timeout_s);
		if (rc != 0)
			return hq_errf(eb, rc, "receiving from %s: %s", c->peer,
			    hq_strerror(rc));
	}
}

int
hq_bconn_recv(struct hq_bconn *c, uint8_t **data, size_t *len, double timeout_s,
    struct hq_errbuf *eb)
{
	uint64_t deadline = bconn_deadline(timeout_s);
	size_t avail, flen = 0, room;
	ssize_t r;

	if (c->broken)
		return hq_errf(eb, HQ_ECLOSED, "connection to %s is broken",
		    c->peer);
	for (;;) {
		avail = hq_buf_avail(&c->in);
		room = BCONN_READ_CHUNK;
		if (avail >= 4) {
			flen = hq_get_u32be(hq_buf_head(&c->in));
			if (flen > c->max_frame) {
				c->broken = true;
				return hq_errf(eb, HQ_ETOOBIG,
				    "frame of %zu bytes from %s exceeds the "
				    "limit of %zu",
				    flen, c->peer, c->max_frame);
			}
			if (avail - 4 >= flen) {
				*data =
				    hq_xmemdup(hq_buf_head(&c->in) + 4, flen);
				*len = flen;
				hq_buf_consume(&c->in, 4 + flen);
				return 0;
			}
			room = HQ_MAX(room, 4 + flen - avail);
		}
		r = bconn_read_some(c, room, deadline, timeout_s, eb);
		if (r == HQ_ETIMEOUT)
			return HQ_ETIMEOUT;
		if (r == HQ_ECLOSED) {
			c->broken = true;
			if (avail == 0)
				return hq_errf(eb, HQ_ECLOSED,
				    "%s closed the connection", c->peer);
			return hq_errf(eb, HQ_ECLOSED,
			    "%s closed the connection in the middle of a "
			    "frame (%zu bytes received)",
			    c->peer, avail);
		}
		if (r < 0) {
			c->broken = true;
			return (int)r;
		}
		c->in.len += (size_t)r;
	}
}

int
hq_bconn_fd(const struct hq_bconn *c)
{
	return c->fd;
}

void
hq_bconn_close(struct hq_bconn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL && !c->broken && SSL_is_init_finished(c->ssl)) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl); /* close_notify, no wait */
		ERR_clear_error();
	}
	bconn_free(c);
}
