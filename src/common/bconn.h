/* SPDX-License-Identifier: MIT */
/*
 * A blocking framed connection (TLS or plain TCP) for the short-lived CLI
 * client: no event loop, every call waits with a timeout.
 */
#ifndef HQ_BCONN_H
#define HQ_BCONN_H

#include <stddef.h>
#include <stdint.h>

#include "common/tls.h"
#include "common/util.h"

/* One connection (opaque). */
struct hq_bconn;

/*
 * TCP connect (see hq_tcp_connect()) plus, if 'tls' (a client-side
 * context, borrowed, must outlive the connection) is not NULL, the TLS
 * handshake, all within 'timeout_s' (< 0: no limit). 'timeout_s' is also
 * the longest hq_bconn_send() waits for the socket to accept more bytes.
 * Incoming frames over 'max_frame' bytes are refused.
 * Returns 0 and *out (free with hq_bconn_close()), or a negative code with
 * 'eb', e.g. HQ_EAUTH and "TLS handshake with 127.0.0.1:4242 failed: the
 * server refused the key (alert illegal parameter) -- is the access file
 * current?", HQ_ETIMEOUT, -ECONNREFUSED.
 */
int hq_bconn_connect(const char *host, uint16_t port, struct hq_tls *tls,
    size_t max_frame, double timeout_s, struct hq_bconn **out,
    struct hq_errbuf *eb);

/*
 * Send 'data' as one frame. Returns 0, or HQ_ETIMEOUT, HQ_ECLOSED, -errno
 * or HQ_EPROTO with 'eb'; after an error the connection is unusable.
 */
int hq_bconn_send(struct hq_bconn *c, const void *data, size_t len,
    struct hq_errbuf *eb);

/*
 * Receive one frame within 'timeout_s' (< 0: wait forever). Returns 0 with
 * *data (caller frees with free(); non-NULL even for len 0) and *len, or
 * HQ_ECLOSED (peer closed), HQ_ETIMEOUT (a partial frame stays buffered:
 * calling again continues it), HQ_ETOOBIG (frame over max_frame), -errno or
 * HQ_EPROTO, with 'eb'. After an error other than HQ_ETIMEOUT the
 * connection is unusable.
 */
int hq_bconn_recv(struct hq_bconn *c, uint8_t **data, size_t *len,
    double timeout_s, struct hq_errbuf *eb);

/* The socket, for poll() by the caller; OpenSSL may hold read data too. */
int hq_bconn_fd(const struct hq_bconn *c);

/* Send close_notify (best effort), close and free; NULL ok. */
void hq_bconn_close(struct hq_bconn *c);

#endif
