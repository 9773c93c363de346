/* SPDX-License-Identifier: MIT */
/*
 * Framed, non-blocking connections on a libev loop (TLS or plain TCP), the
 * listener that accepts them, and a blocking TCP connect.
 * Frame: 4-byte big-endian length, then that many bytes (0 allowed).
 */
#ifndef HQ_CONN_H
#define HQ_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/tls.h"
#include "common/util.h"

struct ev_loop;

/* A connection (opaque); it owns its fd, its buffers and its SSL. */
struct hq_conn;

/*
 * Callbacks; 'arg' is the one given to hq_conn_create() or
 * hq_conn_set_data(). Every function of this header may be called from
 * inside them, for this connection or another.
 */
struct hq_conn_cbs {
	/* Handshake done; for plain TCP, on the first loop iteration. */
	void (*on_ready)(struct hq_conn *c, void *arg);
	/* One whole frame; 'data' is valid only during the call. */
	void (*on_frame)(struct hq_conn *c, const uint8_t *data, size_t len,
	    void *arg);
	/*
	 * Called exactly once, from the loop (never from inside an hq_conn_*
	 * call); 'c' is freed when it returns. 'why' is the reason given to
	 * hq_conn_close()/hq_conn_abort(), or the failure.
	 */
	void (*on_close)(struct hq_conn *c, const char *why, void *arg);
};

/*
 * Wrap the connected socket 'fd' (ownership passes to the connection, also
 * on failure; it is made non-blocking). 'tls' (borrowed, must outlive the
 * connection) selects TLS; NULL means plain TCP. Its side selects accept or
 * connect; 'server_side' must agree with it and names the peer in logs
 * ("connection from" vs "connection to"). Frames announcing more than
 * 'max_frame' bytes close the connection before anything is allocated.
 * 'cbs' is copied. Returns 0 and *out, or a negative code (the fd is then
 * closed).
 *
 * The connection logs (WARN) every failure it detects itself: refused
 * handshakes, handshake timeouts (default 10 s), oversized frames, resets,
 * truncated frames, a peer that does not read (hq_conn_set_out_limit()).
 * A clean close by the peer is logged at DEBUG level, and closes requested
 * through hq_conn_close()/hq_conn_abort() are not logged.
 */
int hq_conn_create(struct ev_loop *loop, int fd, struct hq_tls *tls,
    bool server_side, size_t max_frame, const struct hq_conn_cbs *cbs,
    void *arg, struct hq_conn **out);

/*
 * Outgoing frames are appended to the connection's queue in order. A frame
 * tagged 'seq' is written only once hq_conn_release() was called with a
 * value >= seq (durability gating: replies wait for the journal commit they
 * depend on). seq 0 means no dependency, but a frame never overtakes an
 * earlier one. Frames queued before the handshake completes are sent after
 * it. Frames queued after a close are dropped. Writing happens from the
 * loop: EV_WRITE is armed while released data is queued.
 */

/*
 * Room for a frame of 'len' payload bytes, valid until hq_conn_frame_end(),
 * which must follow before any other call on 'c'.
 */
uint8_t *hq_conn_frame_begin(struct hq_conn *c, size_t len);
void hq_conn_frame_end(struct hq_conn *c, uint64_t seq);
/* Queue a copy of 'data' as one frame. */
void hq_conn_send(struct hq_conn *c, const void *data, size_t len,
    uint64_t seq);
/* Everything tagged <= durable_seq may now be written. */
void hq_conn_release(struct hq_conn *c, uint64_t durable_seq);
/* True while frames wait for a release. */
bool hq_conn_has_held(const struct hq_conn *c);
/* Forget every frame still waiting for a release (the change it depends
 * on will never be durable); released frames stay queued. */
void hq_conn_drop_held(struct hq_conn *c);
/* Bytes queued and not yet written (held or not, headers included). */
size_t hq_conn_queued_bytes(const struct hq_conn *c);

/*
 * Close gracefully: stop delivering frames, write what is released
 * (bounded by a 2 s timeout), send TLS close_notify, wait briefly for the
 * peer's end, close the fd, then call on_close(why). Held frames are
 * dropped. During a TLS handshake this is an abort. Further calls to close
 * are ignored (abort still cuts the flush short). Safe from inside any
 * callback.
 */
void hq_conn_close(struct hq_conn *c, const char *why);
/* Close now: no flush, no close_notify; on_close(why) follows from the loop. */
void hq_conn_abort(struct hq_conn *c, const char *why);

/* "127.0.0.1:4242" ("[::1]:4242" for IPv6, "local" for other sockets). */
const char *hq_conn_peer(const struct hq_conn *c);
/* Change the callbacks' 'arg'. */
void hq_conn_set_data(struct hq_conn *c, void *arg);
/*
 * Output backpressure: while more than 8 MiB are queued for the peer, no
 * frame is delivered and nothing is read from it (a peer that sends
 * requests faster than it reads the replies is slowed down to its reading
 * speed); reading resumes once half of it is written.
 *
 * Backlog limit (default 64 MiB, or $HQ_CONN_OUT_LIMIT bytes): when a
 * frame is queued while more than 'bytes' of earlier, released frames are
 * still unwritten because the peer
 * does not read, the connection is closed (logged at WARN with the
 * reason, which on_close gets). Held frames do not count. Keep it above
 * what the owner queues in one burst for a reading peer (the server's
 * journal stream queues up to 4 MiB at a time).
 */
void hq_conn_set_out_limit(struct hq_conn *c, size_t bytes);
/* Handshake timeout in seconds, counted from now; no effect once ready. */
void hq_conn_set_handshake_timeout(struct hq_conn *c, double seconds);
/*
 * Backpressure: while paused, no data is read and no frame is delivered
 * (not even one already buffered). Unpausing delivers buffered frames from
 * the loop.
 */
void hq_conn_pause_read(struct hq_conn *c, bool paused);

/* A listening TCP socket on a loop (opaque). */
struct hq_listener;

/*
 * Listen on host:port (host NULL or "" = 0.0.0.0; port 0 = a free port)
 * with SO_REUSEADDR. Accepted sockets (non-blocking, close-on-exec) are
 * handed to on_accept, which owns them. Returns 0 and *out, or -errno with
 * 'eb' ("cannot listen on 0.0.0.0:6789: Address already in use").
 */
int hq_listener_open(struct ev_loop *loop, const char *host, uint16_t port,
    void (*on_accept)(int fd, void *arg), void *arg, struct hq_listener **out,
    struct hq_errbuf *eb);
/* The bound port (useful after port 0). */
uint16_t hq_listener_port(const struct hq_listener *l);
/* Stop listening and close the socket; NULL ok. */
void hq_listener_close(struct hq_listener *l);

/*
 * Connect to host:port (getaddrinfo; each address in turn) within
 * 'timeout_s' seconds overall (< 0: the system's own limit), with
 * TCP_NODELAY. Returns 0 and a blocking, close-on-exec socket in *fdp, or
 * -errno / HQ_ETIMEOUT / HQ_ENOTFOUND (name not resolved) with 'eb'.
 */
int hq_tcp_connect(const char *host, uint16_t port, double timeout_s, int *fdp,
    struct hq_errbuf *eb);

#endif
