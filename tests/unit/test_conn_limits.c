/* SPDX-License-Identifier: MIT */
/*
 * Output limits of src/common/conn.c with a peer that does not read:
 * backpressure (no frame is delivered while 8 MiB are queued, delivery
 * resumes when the peer reads) and the backlog limit (a peer that leaves
 * too much unread while frames keep coming is closed, with the reason).
 * Plain connections over a socketpair; the test plays the peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conn.h"
#include "common/log.h"

#define MIB (1024 * 1024)

struct side {
	struct ev_loop *loop;
	struct hq_conn *conn;
	int peer; /* the test's end of the socketpair */
	uint32_t frames;
	size_t reply; /* bytes queued per frame received (0: none) */
	bool closed;
	char why[512];
};

static void
side_on_frame(struct hq_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct side *s = arg;
	uint8_t *p;

	(void)data;
	(void)len;
	s->frames++;
	if (s->reply > 0) {
		p = hq_conn_frame_begin(c, s->reply);
		memset(p, 'r', s->reply);
		hq_conn_frame_end(c, 0);
	}
}

static void
side_on_close(struct hq_conn *c, const char *why, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->closed = true;
	s->conn = NULL;
	snprintf(s->why, sizeof s->why, "%s", why);
}

static const struct hq_conn_cbs side_cbs = {
	.on_frame = side_on_frame,
	.on_close = side_on_close,
};

static void
side_open(struct side *s)
{
	int sv[2];

	memset(s, 0, sizeof *s);
	s->loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(hq_conn_create(s->loop, sv[0], NULL, true, 64 * MIB,
			     &side_cbs, s, &s->conn),
	    0);
	s->peer = sv[1];
	fcntl(s->peer, F_SETFL, O_NONBLOCK);
	ev_run(s->loop, EVRUN_NOWAIT); /* on_ready */
}

static void
side_turns(struct side *s, int n)
{
	while (n-- > 0)
		ev_run(s->loop, EVRUN_NOWAIT);
}

static void
side_close(struct side *s)
{
	int i;

	close(s->peer);
	if (s->conn != NULL)
		hq_conn_abort(s->conn, "test done");
	for (i = 0; i < 100 && !s->closed; i++)
		ev_run(s->loop, EVRUN_NOWAIT);
	assert_true(s->closed);
	ev_loop_destroy(s->loop);
}

/* Read everything the connection wrote; returns the byte count. */
static size_t
peer_drain(struct side *s)
{
	static uint8_t junk[1 << 16];
	size_t total = 0;
	ssize_t n;

	while ((n = read(s->peer, junk, sizeof junk)) > 0)
		total += (size_t)n;
	return total;
}

static void
test_conn_limits_backlog_closes_a_peer_that_does_not_read(void **state)
{
	struct side s;
	size_t sent = 0;
	uint8_t *p;
	int i;

	(void)state;
	side_open(&s);
	hq_conn_set_out_limit(s.conn, 1 * MIB);
	/* The server keeps pushing 64 KiB frames; the peer never reads. */
	for (i = 0; i < 1000 && !s.closed; i++) {
		if (s.conn == NULL)
			break;
		p = hq_conn_frame_begin(s.conn, 64 * 1024);
		memset(p, 'x', 64 * 1024);
		hq_conn_frame_end(s.conn, 0);
		sent += 64 * 1024;
		side_turns(&s, 2);
	}
	assert_true(s.closed);
	assert_non_null(strstr(s.why, "the peer does not read"));
	assert_non_null(strstr(s.why, "(limit 1048576)"));
	/* Cut off soon after the socket and the backlog were full. */
	assert_true(sent < 16 * MIB);
	side_close(&s);
}

static void
test_conn_limits_released_frames_only_count(void **state)
{
	struct side s;
	uint8_t *p;
	int i;

	(void)state;
	side_open(&s);
	hq_conn_set_out_limit(s.conn, 1 * MIB);
	/* Held frames (waiting for a commit) are not the peer's fault. */
	for (i = 0; i < 64; i++) {
		p = hq_conn_frame_begin(s.conn, 64 * 1024);
		memset(p, 'h', 64 * 1024);
		hq_conn_frame_end(s.conn, 1000 + (uint64_t)i);
	}
	side_turns(&s, 5);
	assert_false(s.closed);
	assert_true(hq_conn_queued_bytes(s.conn) >= 4 * MIB);
	/* Released and read as they go: never cut off. */
	hq_conn_release(s.conn, UINT64_MAX);
	for (i = 0; i < 200 && hq_conn_queued_bytes(s.conn) > 0; i++) {
		side_turns(&s, 1);
		peer_drain(&s);
	}
	assert_false(s.closed);
	assert_int_equal(hq_conn_queued_bytes(s.conn), 0);
	side_close(&s);
}

static void
test_conn_limits_backpressure_pauses_delivery(void **state)
{
	struct side s;
	uint8_t req[4 + 4] = { 0, 0, 0, 4, 'p', 'i', 'n', 'g' };
	uint32_t at_pause;
	size_t got = 0;
	int i;

	(void)state;
	side_open(&s);
	s.reply = 1 * MIB;
	/* 40 requests whose replies (40 MiB) the peer does not read. */
	for (i = 0; i < 40; i++)
		assert_int_equal(write(s.peer, req, sizeof req), sizeof req);
	side_turns(&s, 20);
	at_pause = s.frames;
	/* Delivery stopped once 8 MiB were queued (what the socket took
	 * counts no more). */
	assert_true(at_pause >= 8 && at_pause < 20);
	assert_true(hq_conn_queued_bytes(s.conn) <= 9 * MIB);
	assert_false(s.closed);
	/* The peer reads: the rest is delivered and answered. */
	for (i = 0; i < 10000 && got < 40 * (MIB + 4); i++) {
		side_turns(&s, 1);
		got += peer_drain(&s);
	}
	assert_int_equal(s.frames, 40);
	assert_int_equal(got, 40 * (MIB + 4));
	assert_false(s.closed);
	side_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_conn_limits_backlog_closes_a_peer_that_does_not_read),
		cmocka_unit_test(test_conn_limits_released_frames_only_count),
		cmocka_unit_test(test_conn_limits_backpressure_pauses_delivery),
	};

	hq_log_set_level(HQ_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
