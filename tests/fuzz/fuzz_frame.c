/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the frame reader of src/common/conn.c, driven
 * through a real connection (plain, over a socketpair) on a libev loop.
 * The input scripts the peer: chunks of bytes, pauses and resumes of
 * reading, loop turns and the final hang-up. Whatever the bytes, the
 * connection delivers exactly the whole frames a reference splitter finds,
 * in order, never one past an oversized length, and then closes once,
 * with the reason the stream calls for.
 */
#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conn.h"
#include "common/log.h"
#include "fuzz.h"

#define FUZZ_MAX_FRAMES 4096

struct fuzz_frame_ctx {
	const uint8_t *stream; /* everything the peer wrote */
	size_t stream_len;
	size_t off; /* where the next delivered frame must start */
	uint32_t nframes;
	bool closed;
	char why[256];
	struct hq_conn *conn;
	bool pause_in_cb;
};

static void
fuzz_on_frame(struct hq_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct fuzz_frame_ctx *x = arg;

	HQ_ASSERT(!x->closed);
	HQ_ASSERT(x->off + 4 + len <= x->stream_len);
	HQ_ASSERT(hq_get_u32be(x->stream + x->off) == len);
	HQ_ASSERT(len == 0 || memcmp(data, x->stream + x->off + 4, len) == 0);
	x->off += 4 + len;
	x->nframes++;
	/* Backpressure from inside the callback, as the server does. */
	if (x->pause_in_cb && (len & 1))
		hq_conn_pause_read(c, true);
}

static void
fuzz_on_close(struct hq_conn *c, const char *why, void *arg)
{
	struct fuzz_frame_ctx *x = arg;

	(void)c;
	HQ_ASSERT(!x->closed);
	x->closed = true;
	x->conn = NULL;
	snprintf(x->why, sizeof x->why, "%s", why);
}

static const struct hq_conn_cbs fuzz_cbs = {
	.on_frame = fuzz_on_frame,
	.on_close = fuzz_on_close,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop *loop;
	struct fuzz_in in = { data, size };
	struct fuzz_frame_ctx x;
	struct hq_buf sent;
	size_t max_frame, off, flen, n;
	int sv[2], turns;
	ssize_t r;
	uint8_t op;

	if (loop == NULL) {
		loop = ev_loop_new(EVFLAG_AUTO);
		hq_log_set_level(HQ_LOG_ERROR);
	}
	memset(&x, 0, sizeof x);
	hq_buf_init(&sent);
	max_frame = (size_t)fuzz_u8(&in) * 8;
	x.pause_in_cb = fuzz_u8(&in) & 1;
	HQ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	HQ_ASSERT(hq_conn_create(loop, sv[0], NULL, true, max_frame, &fuzz_cbs,
		      &x, &x.conn) == 0);
	while (in.n > 0 && !x.closed) {
		op = fuzz_u8(&in);
		if (op < 0xf0) {
			n = HQ_MIN((size_t)op + 1, in.n);
			/*
			 * Fails once the connection hung up; may send less
			 * (or nothing) while reading is paused and the socket
			 * is full: the rest is dropped, as if never written.
			 */
			r = send(sv[1], in.p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r > 0)
				hq_buf_append(&sent, in.p, (size_t)r);
			in.p += n;
			in.n -= n;
		} else if (op == 0xf0) {
			hq_conn_pause_read(x.conn, true);
		} else if (op == 0xf1) {
			hq_conn_pause_read(x.conn, false);
		} else {
			ev_run(loop, EVRUN_NOWAIT);
		}
		x.stream = sent.data;
		x.stream_len = sent.len;
	}
	/* Hang up, resume reading, and let the connection see it all. */
	shutdown(sv[1], SHUT_WR);
	for (turns = 0; turns < 10000 && !x.closed; turns++) {
		if (x.conn != NULL)
			hq_conn_pause_read(x.conn, false);
		ev_run(loop, EVRUN_NOWAIT);
	}
	HQ_ASSERT(x.closed);
	close(sv[1]);

	/* The reference split: every whole frame up to the first bad one. */
	for (off = 0; off + 4 <= sent.len; off += 4 + flen) {
		flen = hq_get_u32be(sent.data + off);
		if (flen > max_frame || off + 4 + flen > sent.len)
			break;
	}
	HQ_ASSERT(x.off == off);
	if (off == sent.len)
		HQ_ASSERT(strstr(x.why, "closed by peer") != NULL);
	else if (off + 4 <= sent.len &&
	    hq_get_u32be(sent.data + off) > max_frame)
		HQ_ASSERT(strstr(x.why, "exceeds the limit") != NULL);
	else if (off + 4 > sent.len)
		HQ_ASSERT(strstr(x.why, "in a frame header") != NULL);
	else
		HQ_ASSERT(strstr(x.why, "in the middle of a frame") != NULL);
	hq_buf_fini(&sent);
	return 0;
}
