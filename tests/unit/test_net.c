/* SPDX-License-Identifier: MIT */
/*
 * Network layer: TLS-PSK and plain connections on 127.0.0.1, framing, seq
 * gating, refusals (wrong key, wrong role, oversized frames, garbage,
 * silence) and the blocking client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/bconn.h"
#include "common/conn.h"
#include "common/log.h"
#include "common/tls.h"

#define MIB (1024 * 1024)

static uint8_t key_client[HQ_KEY_LEN];
static uint8_t key_worker[HQ_KEY_LEN];
static uint8_t key_wrong[HQ_KEY_LEN];

static struct hq_tls *
mk_tls(enum hq_role role, bool server, const uint8_t *key)
{
	struct hq_errbuf eb;
	struct hq_tls *t = NULL;

	assert_int_equal(hq_tls_create(role, server, key, &t, &eb), 0);
	assert_non_null(t);
	return t;
}

/* Byte j of test frame k. */
static uint8_t
pattern(size_t k, size_t j)
{
	return (uint8_t)(k * 31 + j * 7 + (j >> 8));
}

static uint8_t *
mk_frame(size_t k, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	size_t j;

	assert_non_null(p);
	for (j = 0; j < len; j++)
		p[j] = pattern(k, j);
	return p;
}

static bool
frame_ok(size_t k, const uint8_t *p, size_t len, size_t want)
{
	size_t j;

	if (len != want)
		return false;
	for (j = 0; j < len; j++)
		if (p[j] != pattern(k, j))
			return false;
	return true;
}

static int
raw_connect(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	return fd;
}

/* Read until EOF or reset (with a 5 s guard); true if the peer closed. */
static bool
raw_wait_closed(int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	char buf[4096];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	for (;;) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a server in its own thread and loop (peer of the bconn tests) ---- */

#define SRV_MAX_CONNS 16

struct srv {
	struct ev_loop *loop;
	ev_async stop;
	pthread_t thread;
	struct hq_listener *lst;
	struct hq_tls *tls;
	size_t max_frame;
	double hs_timeout; /* 0: default */
	uint16_t port;
	struct hq_conn *live[SRV_MAX_CONNS];
	bool stopping;

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	int accepted, ready, closed, frames;
	char whys[SRV_MAX_CONNS][512];
};

static void
srv_forget(struct srv *s, struct hq_conn *c)
{
	int i, n = 0;

	for (i = 0; i < SRV_MAX_CONNS; i++) {
		if (s->live[i] == c)
			s->live[i] = NULL;
		n += s->live[i] != NULL;
	}
	if (s->stopping && n == 0)
		ev_break(s->loop, EVBREAK_ALL);
}

static void
srv_on_ready(HQ_UNUSED struct hq_conn *c, void *arg)
{
	struct srv *s = arg;

	pthread_mutex_lock(&s->mu);
	s->ready++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void
srv_on_frame(struct hq_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct srv *s = arg;

	pthread_mutex_lock(&s->mu);
	s->frames++;
	pthread_mutex_unlock(&s->mu);
	hq_conn_send(c, data, len, 0);
	if (len == 8 && memcmp(data, "close-me", 8) == 0)
		hq_conn_close(c, "asked to close");
}

static void
srv_on_close(struct hq_conn *c, const char *why, void *arg)
{
	struct srv *s = arg;

	pthread_mutex_lock(&s->mu);
	if (s->closed < SRV_MAX_CONNS)
		snprintf(s->whys[s->closed], sizeof s->whys[0], "%s", why);
	s->closed++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	srv_forget(s, c);
}

static const struct hq_conn_cbs srv_cbs = {
	.on_ready = srv_on_ready,
	.on_frame = srv_on_frame,
	.on_close = srv_on_close,
};

static void
srv_accept(int fd, void *arg)
{
	struct srv *s = arg;
	struct hq_conn *c = NULL;
	int i;

	assert_int_equal(hq_conn_create(s->loop, fd, s->tls, true, s->max_frame,
			     &srv_cbs, s, &c),
	    0);
	if (s->hs_timeout > 0)
		hq_conn_set_handshake_timeout(c, s->hs_timeout);
	for (i = 0; i < SRV_MAX_CONNS && s->live[i] != NULL; i++)
		;
	assert_true(i < SRV_MAX_CONNS);
	s->live[i] = c;
	pthread_mutex_lock(&s->mu);
	s->accepted++;
	pthread_mutex_unlock(&s->mu);
}

static void
srv_stop_cb(HQ_UNUSED struct ev_loop *loop, ev_async *w, HQ_UNUSED int revents)
{
	struct srv *s = w->data;
	int i, n = 0;

	hq_listener_close(s->lst);
	s->lst = NULL;
	s->stopping = true;
	for (i = 0; i < SRV_MAX_CONNS; i++) {
		if (s->live[i] != NULL) {
			hq_conn_abort(s->live[i], "test over");
			n++;
		}
	}
	if (n == 0)
		ev_break(s->loop, EVBREAK_ALL);
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;

	ev_run(s->loop, 0);
	return NULL;
}

static void
srv_start(struct srv *s, struct hq_tls *tls, size_t max_frame)
{
	struct hq_errbuf eb;

	memset(s, 0, sizeof *s);
	s->tls = tls;
	s->max_frame = max_frame;
	s->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(s->loop);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	assert_int_equal(hq_listener_open(s->loop, "127.0.0.1", 0, srv_accept,
			     s, &s->lst, &eb),
	    0);
	s->port = hq_listener_port(s->lst);
	assert_true(s->port != 0);
	ev_async_init(&s->stop, srv_stop_cb);
	s->stop.data = s;
	ev_async_start(s->loop, &s->stop);
}

static void
srv_run(struct srv *s)
{
	assert_int_equal(pthread_create(&s->thread, NULL, srv_main, s), 0);
}

static void
srv_stop(struct srv *s)
{
	ev_async_send(s->loop, &s->stop);
	pthread_join(s->thread, NULL);
	ev_async_stop(s->loop, &s->stop);
	ev_loop_destroy(s->loop);
	hq_tls_destroy(s->tls);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
}

/* Wait until s->closed >= n; returns the count. */
static int
srv_wait_closed(struct srv *s, int n)
{
	struct timespec dl;
	int got;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&s->mu);
	while (
	    s->closed < n && pthread_cond_timedwait(&s->cv, &s->mu, &dl) == 0)
		;
	got = s->closed;
	pthread_mutex_unlock(&s->mu);
	return got;
}

static void
srv_why(struct srv *s, int i, char *out, size_t size)
{
	pthread_mutex_lock(&s->mu);
	snprintf(out, size, "%s", s->whys[i]);
	pthread_mutex_unlock(&s->mu);
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* Round trip one frame through a bconn. */
static void
bconn_echo(struct hq_bconn *b, size_t k, size_t len)
{
	struct hq_errbuf eb = { "" };
	uint8_t *f = mk_frame(k, len), *got = NULL;
	size_t glen = 0;

	assert_int_equal(hq_bconn_send(b, f, len, &eb), 0);
	if (hq_bconn_recv(b, &got, &glen, 10, &eb) != 0)
		fail_msg("recv: %s", eb.msg);
	assert_true(frame_ok(k, got, glen, len));
	free(got);
	free(f);
}

/* ---- an in-loop pair: both ends of one connection on EV_DEFAULT ---- */

struct pside {
	struct pair *p;
	struct hq_conn *c;
	int ready, closed, frames;
	char why[512];
	char last[64];
	void (*hook)(struct pside *s, const uint8_t *data, size_t len);
};

struct pair {
	struct ev_loop *loop;
	struct hq_listener *lst;
	struct hq_tls *stls, *ctls;
	size_t max_frame;
	struct pside srv, cli;
	/* echo verification on the client side */
	const size_t *sizes;
	size_t nsizes, next, bad;
};

static void
pair_on_ready(HQ_UNUSED struct hq_conn *c, void *arg)
{
	struct pside *s = arg;

	s->ready++;
}

static void
pair_on_frame(HQ_UNUSED struct hq_conn *c, const uint8_t *data, size_t len,
    void *arg)
{
	struct pside *s = arg;

	s->frames++;
	snprintf(s->last, sizeof s->last, "%.*s", (int)HQ_MIN(len, 63),
	    (const char *)data);
	if (s->hook != NULL)
		s->hook(s, data, len);
}

static void
pair_on_close(HQ_UNUSED struct hq_conn *c, const char *why, void *arg)
{
	struct pside *s = arg;

	s->closed++;
	snprintf(s->why, sizeof s->why, "%s", why);
	s->c = NULL;
}

static const struct hq_conn_cbs pair_cbs = {
	.on_ready = pair_on_ready,
	.on_frame = pair_on_frame,
	.on_close = pair_on_close,
};

static void
pair_accept(int fd, void *arg)
{
	struct pair *p = arg;

	assert_null(p->srv.c);
	assert_int_equal(hq_conn_create(p->loop, fd, p->stls, true,
			     p->max_frame, &pair_cbs, &p->srv, &p->srv.c),
	    0);
}

static void
pair_open(struct pair *p, struct hq_tls *stls, struct hq_tls *ctls,
    size_t max_frame)
{
	struct hq_errbuf eb;
	int fd = -1;

	memset(p, 0, sizeof *p);
	p->loop = EV_DEFAULT;
	p->stls = stls;
	p->ctls = ctls;
	p->max_frame = max_frame;
	p->srv.p = p->cli.p = p;
	assert_int_equal(hq_listener_open(p->loop, NULL, 0, pair_accept, p,
			     &p->lst, &eb),
	    0);
	if (hq_tcp_connect("127.0.0.1", hq_listener_port(p->lst), 5, &fd,
		&eb) != 0)
		fail_msg("%s", eb.msg);
	assert_int_equal(hq_conn_create(p->loop, fd, ctls, false, max_frame,
			     &pair_cbs, &p->cli, &p->cli.c),
	    0);
}

static void
tick_cb(HQ_UNUSED struct ev_loop *loop, HQ_UNUSED ev_timer *w,
    HQ_UNUSED int revents)
{
}

/* Run the loop until pred() or 'timeout' seconds; returns pred(). */
static bool
run_until(struct pair *p, bool (*pred)(struct pair *), double timeout)
{
	double end = now_s() + timeout;
	ev_timer tick;

	ev_timer_init(&tick, tick_cb, 0.005, 0.005);
	ev_timer_start(p->loop, &tick);
	while ((pred == NULL || !pred(p)) && now_s() < end)
		ev_run(p->loop, EVRUN_ONCE);
	ev_timer_stop(p->loop, &tick);
	return pred == NULL || pred(p);
}

static bool
both_closed(struct pair *p)
{
	return p->srv.closed > 0 && p->cli.closed > 0;
}

static bool
both_ready(struct pair *p)
{
	return p->srv.ready > 0 && p->cli.ready > 0;
}

static void
pair_close(struct pair *p)
{
	if (p->cli.c != NULL)
		hq_conn_abort(p->cli.c, "test over");
	if (p->srv.c != NULL)
		hq_conn_abort(p->srv.c, "test over");
	if (p->srv.c != NULL || p->cli.c != NULL || p->srv.closed > 0)
		run_until(p, both_closed, 5);
	hq_listener_close(p->lst);
	hq_tls_destroy(p->stls);
	hq_tls_destroy(p->ctls);
	assert_true(p->cli.closed <= 1 && p->srv.closed <= 1);
}

static void
echo_hook(struct pside *s, const uint8_t *data, size_t len)
{
	hq_conn_send(s->c, data, len, 0);
}

static void
verify_hook(struct pside *s, const uint8_t *data, size_t len)
{
	struct pair *p = s->p;

	if (p->next >= p->nsizes ||
	    !frame_ok(p->next, data, len, p->sizes[p->next]))
		p->bad++;
	p->next++;
}

static bool
all_echoed(struct pair *p)
{
	return p->next >= p->nsizes || p->cli.closed > 0;
}

static void
echo_in_loop(bool tls)
{
	static const size_t big[] = { 0, 1, 2, 3, 4, 5, 100, 1000, 4095, 16383,
		16384, 16385, 65535, 65536, 100000, 262144, MIB - 1, MIB };
	size_t nbig = HQ_ARRAY_LEN(big), n = nbig + 2000, k;
	size_t *sizes = calloc(n, sizeof *sizes);
	struct pair p;
	char peer[32];
	uint8_t *f;
	double t0;

	assert_non_null(sizes);
	for (k = 0; k < n; k++)
		sizes[k] = k < nbig ? big[k] : (k * 13) % 64;
	if (tls)
		pair_open(&p, mk_tls(HQ_ROLE_WORKER, true, key_worker),
		    mk_tls(HQ_ROLE_WORKER, false, key_worker), MIB);
	else
		pair_open(&p, NULL, NULL, MIB);
	p.srv.hook = echo_hook;
	p.cli.hook = verify_hook;
	p.sizes = sizes;
	p.nsizes = n;
	/* Everything queued before the handshake, in one burst. */
	for (k = 0; k < n; k++) {
		f = mk_frame(k, sizes[k]);
		hq_conn_send(p.cli.c, f, sizes[k], 0);
		free(f);
	}
	assert_false(hq_conn_has_held(p.cli.c));
	assert_true(hq_conn_queued_bytes(p.cli.c) > 2 * MIB);
	t0 = now_s();
	assert_true(run_until(&p, all_echoed, 30));
	assert_int_equal(p.cli.closed, 0);
	assert_int_equal(p.next, n);
	assert_int_equal(p.bad, 0);
	assert_int_equal(p.srv.frames, n);
	assert_int_equal(p.srv.ready, 1);
	assert_int_equal(p.cli.ready, 1);
	hq_debug("echo %s: %zu frames in %.3f s", tls ? "tls" : "plain", n,
	    now_s() - t0);
	assert_int_equal(strncmp(hq_conn_peer(p.srv.c), "127.0.0.1:", 10), 0);
	snprintf(peer, sizeof peer, "127.0.0.1:%u", hq_listener_port(p.lst));
	assert_string_equal(hq_conn_peer(p.cli.c), peer);
	/* A graceful close from the client side. */
	hq_conn_close(p.cli.c, "client done");
	hq_conn_close(p.cli.c, "ignored");
	assert_true(run_until(&p, both_closed, 10));
	assert_string_equal(p.cli.why, "client done");
	assert_string_equal(p.srv.why, "connection closed by peer");
	pair_close(&p);
	free(sizes);
}

static void
test_net_echo_tls(HQ_UNUSED void **state)
{
	echo_in_loop(true);
}

static void
test_net_echo_plain(HQ_UNUSED void **state)
{
	echo_in_loop(false);
}

/* A worker-side hq_conn with the wrong key: both ends say why. */
static void
test_net_conn_wrong_key(HQ_UNUSED void **state)
{
	struct pair p;

	pair_open(&p, mk_tls(HQ_ROLE_WORKER, true, key_worker),
	    mk_tls(HQ_ROLE_WORKER, false, key_wrong), 1024);
	hq_conn_send(p.cli.c, "never sent", 10, 0);
	assert_true(run_until(&p, both_closed, 10));
	assert_int_equal(p.srv.ready + p.cli.ready, 0);
	assert_int_equal(p.srv.frames, 0);
	assert_contains(p.srv.why, "TLS handshake failed (wrong key?)");
	assert_contains(p.srv.why, "binder does not verify");
	assert_contains(p.cli.why, "the server refused the key");
	pair_close(&p);
}

static void
seq_hook(struct pside *s, const uint8_t *data, size_t len)
{
	(void)s;
	(void)data;
	(void)len;
}

static bool
cli_got_one(struct pair *p)
{
	return p->cli.frames >= 1;
}

static bool
cli_got_two(struct pair *p)
{
	return p->cli.frames >= 2;
}

static void
test_net_seq_gating(HQ_UNUSED void **state)
{
	struct pair p;
	uint8_t *w;

	pair_open(&p, mk_tls(HQ_ROLE_CLIENT, true, key_client),
	    mk_tls(HQ_ROLE_CLIENT, false, key_client), 1024);
	p.cli.hook = seq_hook;
	assert_true(run_until(&p, both_ready, 10));
	hq_conn_send(p.srv.c, "five", 4, 5);
	w = hq_conn_frame_begin(p.srv.c, 4);
	memcpy(w, "zero", 4);
	hq_conn_frame_end(p.srv.c, 0); /* must not overtake "five" */
	assert_true(hq_conn_has_held(p.srv.c));
	assert_int_equal(hq_conn_queued_bytes(p.srv.c), 16);
	run_until(&p, NULL, 0.1);
	assert_int_equal(p.cli.frames, 0);
	hq_conn_release(p.srv.c, 4);
	run_until(&p, NULL, 0.1);
	assert_int_equal(p.cli.frames, 0);
	assert_true(hq_conn_has_held(p.srv.c));
	hq_conn_release(p.srv.c, 5);
	assert_false(hq_conn_has_held(p.srv.c));
	assert_true(run_until(&p, cli_got_two, 5));
	assert_int_equal(p.cli.frames, 2);
	assert_string_equal(p.cli.last, "zero");
	assert_int_equal(hq_conn_queued_bytes(p.srv.c), 0);
	/* Already durable: goes out at once; a lower release is a no-op. */
	hq_conn_release(p.srv.c, 3);
	hq_conn_send(p.srv.c, "three", 5, 3);
	assert_false(hq_conn_has_held(p.srv.c));
	p.cli.frames = 0;
	assert_true(run_until(&p, cli_got_one, 5));
	assert_string_equal(p.cli.last, "three");
	/* Held frames are dropped by a close; released ones are flushed. */
	hq_conn_send(p.srv.c, "flushed", 7, 0);
	hq_conn_send(p.srv.c, "held", 4, 9);
	hq_conn_close(p.srv.c, "server done");
	assert_true(run_until(&p, both_closed, 5));
	assert_string_equal(p.cli.last, "flushed");
	assert_string_equal(p.srv.why, "server done");
	assert_string_equal(p.cli.why, "connection closed by peer");
	pair_close(&p);
}

static void
close_hook(struct pside *s, const uint8_t *data, size_t len)
{
	hq_conn_send(s->c, data, len, 0);
	if (len == 3 && memcmp(data, "bye", 3) == 0) {
		hq_conn_close(s->c, "done");
		hq_conn_send(s->c, "late", 4, 0); /* dropped */
	} else if (len == 5 && memcmp(data, "abort", 5) == 0) {
		hq_conn_abort(s->c, "aborted");
		hq_conn_close(s->c, "ignored");
	}
}

static void
close_inside(bool tls, const char *cmd, const char *why)
{
	struct pair p;

	if (tls)
		pair_open(&p, mk_tls(HQ_ROLE_CLIENT, true, key_client),
		    mk_tls(HQ_ROLE_CLIENT, false, key_client), 1024);
	else
		pair_open(&p, NULL, NULL, 1024);
	p.srv.hook = close_hook;
	hq_conn_send(p.cli.c, "x1", 2, 0);
	hq_conn_send(p.cli.c, cmd, strlen(cmd), 0);
	hq_conn_send(p.cli.c, "x2", 2, 0);
	assert_true(run_until(&p, both_closed, 10));
	assert_int_equal(p.srv.frames, 2); /* nothing after the close */
	assert_int_equal(p.srv.closed, 1);
	assert_string_equal(p.srv.why, why);
	if (strcmp(cmd, "bye") == 0) {
		/* The reply queued before the close was flushed. */
		assert_int_equal(p.cli.frames, 2);
		assert_string_equal(p.cli.last, "bye");
		assert_string_equal(p.cli.why, "connection closed by peer");
	}
	pair_close(&p);
}

static void
test_net_close_inside_on_frame(HQ_UNUSED void **state)
{
	close_inside(true, "bye", "done");
	close_inside(false, "bye", "done");
	close_inside(true, "abort", "aborted");
	close_inside(false, "abort", "aborted");
}

static bool
srv_got_one_and_closed(struct pair *p)
{
	return p->srv.frames >= 1 && both_closed(p);
}

/* Plain TCP: a frame queued and closed before on_ready is still sent. */
static void
test_net_close_before_ready(HQ_UNUSED void **state)
{
	struct pair p;

	pair_open(&p, NULL, NULL, 64);
	hq_conn_send(p.cli.c, "last words", 10, 0);
	hq_conn_close(p.cli.c, "quick");
	assert_true(run_until(&p, srv_got_one_and_closed, 5));
	assert_int_equal(p.cli.ready, 0);
	assert_string_equal(p.srv.last, "last words");
	assert_string_equal(p.cli.why, "quick");
	pair_close(&p);

	/* TLS: nothing can be sent before the handshake; an abort. */
	pair_open(&p, mk_tls(HQ_ROLE_CLIENT, true, key_client),
	    mk_tls(HQ_ROLE_CLIENT, false, key_client), 64);
	hq_conn_send(p.cli.c, "lost", 4, 0);
	hq_conn_close(p.cli.c, "quick");
	assert_true(run_until(&p, both_closed, 5));
	assert_int_equal(p.srv.frames, 0);
	assert_string_equal(p.cli.why, "quick");
	pair_close(&p);
}

static void
pause_hook(struct pside *s, HQ_UNUSED const uint8_t *data, HQ_UNUSED size_t len)
{
	if (s->frames == 1)
		hq_conn_pause_read(s->c, true);
}

static bool
srv_got_three(struct pair *p)
{
	return p->srv.frames >= 3;
}

static void
test_net_pause_read(HQ_UNUSED void **state)
{
	int tls;
	struct pair p;

	for (tls = 0; tls < 2; tls++) {
		if (tls)
			pair_open(&p, mk_tls(HQ_ROLE_CLIENT, true, key_client),
			    mk_tls(HQ_ROLE_CLIENT, false, key_client), 64);
		else
			pair_open(&p, NULL, NULL, 64);
		p.srv.hook = pause_hook;
		hq_conn_send(p.cli.c, "a", 1, 0);
		hq_conn_send(p.cli.c, "b", 1, 0);
		hq_conn_send(p.cli.c, "c", 1, 0);
		run_until(&p, NULL, 0.2);
		assert_int_equal(p.srv.frames, 1);
		/* The rest is buffered: no fd event will announce it. */
		hq_conn_pause_read(p.srv.c, false);
		assert_true(run_until(&p, srv_got_three, 5));
		assert_string_equal(p.srv.last, "c");
		pair_close(&p);
	}
}

/* ---- bconn against a server thread ---------------------------------- */

static void
bconn_echo_mode(bool tls)
{
	struct hq_errbuf eb = { "" };
	struct hq_tls *ctls = NULL;
	struct hq_bconn *b = NULL;
	struct srv s;
	size_t k, sizes[] = { 0, 1, 4, 1000, 16384, 16385, 100000, MIB };
	uint8_t *f, *got;
	size_t glen;
	char why[512];
	double t0;

	srv_start(&s, tls ? mk_tls(HQ_ROLE_CLIENT, true, key_client) : NULL,
	    MIB);
	srv_run(&s);
	if (tls)
		ctls = mk_tls(HQ_ROLE_CLIENT, false, key_client);
	if (hq_bconn_connect("127.0.0.1", s.port, ctls, MIB, 5, &b, &eb) != 0)
		fail_msg("connect: %s", eb.msg);
	for (k = 0; k < HQ_ARRAY_LEN(sizes); k++)
		bconn_echo(b, k, sizes[k]);
	/* A burst of small frames, then read all the echoes. */
	for (k = 0; k < 500; k++) {
		f = mk_frame(k, k % 50);
		assert_int_equal(hq_bconn_send(b, f, k % 50, &eb), 0);
		free(f);
	}
	for (k = 0; k < 500; k++) {
		assert_int_equal(hq_bconn_recv(b, &got, &glen, 10, &eb), 0);
		assert_true(frame_ok(k, got, glen, k % 50));
		free(got);
	}
	/* Silence: a timeout, and the connection stays usable. */
	assert_int_equal(hq_bconn_recv(b, &got, &glen, 0.05, &eb), HQ_ETIMEOUT);
	bconn_echo(b, 7, 10);
	/* The server closes after its reply: HQ_ECLOSED after the frame. */
	assert_int_equal(hq_bconn_send(b, "close-me", 8, &eb), 0);
	assert_int_equal(hq_bconn_recv(b, &got, &glen, 10, &eb), 0);
	assert_int_equal(glen, 8);
	free(got);
	assert_int_equal(hq_bconn_recv(b, &got, &glen, 10, &eb), HQ_ECLOSED);
	assert_contains(eb.msg, "closed the connection");
	/* The server lingers (<= 2 s) until our end closes too. */
	t0 = now_s();
	hq_bconn_close(b);
	hq_bconn_close(NULL);
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	assert_true(now_s() - t0 < 1);
	srv_why(&s, 0, why, sizeof why);
	assert_string_equal(why, "asked to close");
	hq_tls_destroy(ctls);
	hq_tls_destroy(NULL);
	srv_stop(&s);
}

static void
test_net_bconn_echo(HQ_UNUSED void **state)
{
	bconn_echo_mode(true);
	bconn_echo_mode(false);
}

/* A correct client still gets served: the server survived. */
static void
srv_still_serves(struct srv *s, struct hq_tls *ctls)
{
	struct hq_errbuf eb = { "" };
	struct hq_bconn *b = NULL;

	if (hq_bconn_connect("127.0.0.1", s->port, ctls, 1024, 5, &b, &eb) != 0)
		fail_msg("connect: %s", eb.msg);
	bconn_echo(b, 3, 100);
	hq_bconn_close(b);
}

static void
test_net_bconn_wrong_key(HQ_UNUSED void **state)
{
	struct hq_tls *bad = mk_tls(HQ_ROLE_CLIENT, false, key_wrong);
	struct hq_tls *good = mk_tls(HQ_ROLE_CLIENT, false, key_client);
	struct hq_errbuf eb = { "" };
	struct hq_bconn *b = NULL;
	struct srv s;
	char want[128], why[512];

	srv_start(&s, mk_tls(HQ_ROLE_CLIENT, true, key_client), 1024);
	srv_run(&s);
	assert_int_equal(hq_bconn_connect("127.0.0.1", s.port, bad, 1024, 5, &b,
			     &eb),
	    HQ_EAUTH);
	assert_null(b);
	snprintf(want, sizeof want, "TLS handshake with 127.0.0.1:%u failed",
	    s.port);
	assert_contains(eb.msg, want);
	assert_contains(eb.msg, "the server refused the key");
	assert_contains(eb.msg, "is the access file current?");
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	srv_why(&s, 0, why, sizeof why);
	assert_contains(why, "binder does not verify");
	srv_still_serves(&s, good);
	hq_tls_destroy(bad);
	hq_tls_destroy(good);
	srv_stop(&s);
}

/* The client identity on the worker port, even with the worker key. */
static void
test_net_bconn_wrong_role(HQ_UNUSED void **state)
{
	struct hq_tls *cli = mk_tls(HQ_ROLE_CLIENT, false, key_worker);
	struct hq_tls *good = mk_tls(HQ_ROLE_WORKER, false, key_worker);
	struct hq_errbuf eb = { "" };
	struct hq_bconn *b = NULL;
	struct srv s;
	char why[512];

	srv_start(&s, mk_tls(HQ_ROLE_WORKER, true, key_worker), 1024);
	srv_run(&s);
	assert_int_equal(hq_bconn_connect("127.0.0.1", s.port, cli, 1024, 5, &b,
			     &eb),
	    HQ_EAUTH);
	assert_contains(eb.msg, "refused the identity 'hq:client'");
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	srv_why(&s, 0, why, sizeof why);
	assert_contains(why, "'hq:client'");
	assert_contains(why, "worker port");
	srv_still_serves(&s, good);
	hq_tls_destroy(cli);
	hq_tls_destroy(good);
	srv_stop(&s);
}

static int
mallory_cb(SSL *ssl, HQ_UNUSED const EVP_MD *md, const unsigned char **id,
    size_t *idlen, SSL_SESSION **sess)
{
	static const unsigned char suite[2] = { 0x13, 0x01 };
	SSL_SESSION *s = SSL_SESSION_new();

	assert_int_equal(SSL_SESSION_set1_master_key(s, key_client, 32), 1);
	assert_int_equal(SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, suite)),
	    1);
	assert_int_equal(SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION),
	    1);
	*sess = s;
	*id = (const unsigned char *)"mall\x01ory";
	*idlen = 8;
	return 1;
}

/* An identity that is no role at all is refused and logged, quoted. */
static void
test_net_unknown_identity(HQ_UNUSED void **state)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct srv s;
	char why[512];
	SSL *ssl;
	int fd;

	assert_int_equal(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION), 1);
	assert_int_equal(SSL_CTX_set_ciphersuites(ctx,
			     "TLS_AES_128_GCM_SHA256"),
	    1);
	SSL_CTX_set_psk_use_session_callback(ctx, mallory_cb);
	srv_start(&s, mk_tls(HQ_ROLE_CLIENT, true, key_client), 1024);
	srv_run(&s);
	fd = raw_connect(s.port);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	assert_true(SSL_connect(ssl) <= 0);
	ERR_clear_error();
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	srv_why(&s, 0, why, sizeof why);
	assert_contains(why, "unknown TLS identity 'mall\\x01ory'");
	assert_contains(why, "this port accepts 'hq:client'");
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
	srv_stop(&s);
}

static void
oversized_mode(bool tls)
{
	struct hq_tls *ctls =
	    tls ? mk_tls(HQ_ROLE_CLIENT, false, key_client) : NULL;
	struct hq_errbuf eb = { "" };
	struct hq_bconn *a = NULL, *b = NULL;
	uint8_t *f = mk_frame(1, 2000), *got = NULL,
		hdr[4] = { 0xff, 0xff, 0xff, 0xff };
	size_t glen;
	struct srv s;
	char why[512];
	int fd;

	srv_start(&s, tls ? mk_tls(HQ_ROLE_CLIENT, true, key_client) : NULL,
	    1024);
	srv_run(&s);
	assert_int_equal(hq_bconn_connect("127.0.0.1", s.port, ctls, 4096, 5,
			     &b, &eb),
	    0);
	assert_int_equal(hq_bconn_connect("127.0.0.1", s.port, ctls, 4096, 5,
			     &a, &eb),
	    0);
	bconn_echo(b, 0, 1024); /* the limit itself is fine */
	assert_int_equal(hq_bconn_send(a, f, 2000, &eb), 0);
	assert_int_equal(hq_bconn_recv(a, &got, &glen, 10, &eb), HQ_ECLOSED);
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	srv_why(&s, 0, why, sizeof why);
	assert_string_equal(why,
	    "frame of 2000 bytes exceeds the limit of 1024");
	bconn_echo(b, 2, 10); /* the other connection keeps working */
	if (!tls) {
		/* A 4 GiB claim: refused before any allocation. */
		fd = raw_connect(s.port);
		assert_int_equal(write(fd, hdr, 4), 4);
		assert_true(raw_wait_closed(fd));
		close(fd);
		assert_int_equal(srv_wait_closed(&s, 2), 2);
		srv_why(&s, 1, why, sizeof why);
		assert_contains(why, "frame of 4294967295 bytes exceeds");
		/* Garbage is a length too. */
		fd = raw_connect(s.port);
		assert_int_equal(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
		assert_true(raw_wait_closed(fd));
		close(fd);
		assert_int_equal(srv_wait_closed(&s, 3), 3);
		srv_why(&s, 2, why, sizeof why);
		assert_contains(why, "frame of 1195725856 bytes exceeds");
	}
	bconn_echo(b, 3, 10);
	hq_bconn_close(a);
	hq_bconn_close(b);
	hq_tls_destroy(ctls);
	free(f);
	srv_stop(&s);
}

static void
test_net_oversized_frame(HQ_UNUSED void **state)
{
	oversized_mode(true);
	oversized_mode(false);
}

/* The client refuses frames over its own limit. */
static void
test_net_bconn_recv_too_big(HQ_UNUSED void **state)
{
	struct hq_errbuf eb = { "" };
	struct hq_bconn *b = NULL;
	uint8_t *f = mk_frame(0, 100), *got = NULL;
	size_t glen;
	struct srv s;

	srv_start(&s, NULL, 1024);
	srv_run(&s);
	assert_int_equal(hq_bconn_connect("127.0.0.1", s.port, NULL, 50, 5, &b,
			     &eb),
	    0);
	assert_int_equal(hq_bconn_send(b, f, 100, &eb), 0);
	assert_int_equal(hq_bconn_recv(b, &got, &glen, 10, &eb), HQ_ETOOBIG);
	assert_contains(eb.msg, "frame of 100 bytes from 127.0.0.1:");
	assert_contains(eb.msg, "exceeds the limit of 50");
	assert_null(got);
	/* The stream is out of step now: refuse further use. */
	assert_int_equal(hq_bconn_send(b, f, 1, &eb), HQ_ECLOSED);
	assert_true(hq_bconn_fd(b) >= 0);
	hq_bconn_close(b);
	free(f);
	srv_stop(&s);
}

/* A TLS client's PSK session, by hand, on a blocking socket. */
static SSL *
raw_tls_connect(struct hq_tls *ctls, int fd)
{
	struct hq_errbuf eb;
	SSL *ssl = NULL;

	assert_int_equal(hq_tls_ssl_new(ctls, fd, &ssl, &eb), 0);
	assert_int_equal(SSL_do_handshake(ssl), 1);
	assert_int_equal(hq_tls_check_done(ssl, &eb), 0);
	return ssl;
}

static void
test_net_half_frame(HQ_UNUSED void **state)
{
	static const uint8_t half[14] = { 0, 0, 0, 100, 'h', 'a', 'l', 'f' };
	struct hq_tls *ctls = mk_tls(HQ_ROLE_CLIENT, false, key_client);
	struct srv s, t;
	char why[512];
	SSL *ssl;
	int fd;

	srv_start(&s, NULL, 1024);
	srv_run(&s);
	fd = raw_connect(s.port);
	assert_int_equal(write(fd, half, sizeof half), sizeof half);
	close(fd);
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	srv_why(&s, 0, why, sizeof why);
	assert_contains(why, "in the middle of a frame (10 of 100 bytes)");
	fd = raw_connect(s.port);
	assert_int_equal(write(fd, half, 2), 2);
	close(fd);
	assert_int_equal(srv_wait_closed(&s, 2), 2);
	srv_why(&s, 1, why, sizeof why);
	assert_contains(why, "in a frame header (2 of 4 bytes)");
	srv_stop(&s);

	/* Over TLS, closing without close_notify after half a frame. */
	srv_start(&t, mk_tls(HQ_ROLE_CLIENT, true, key_client), 1024);
	srv_run(&t);
	fd = raw_connect(t.port);
	ssl = raw_tls_connect(ctls, fd);
	assert_int_equal(SSL_write(ssl, half, sizeof half), sizeof half);
	SSL_free(ssl);
	close(fd);
	assert_int_equal(srv_wait_closed(&t, 1), 1);
	srv_why(&t, 0, why, sizeof why);
	assert_contains(why, "in the middle of a frame (10 of 100 bytes)");
	srv_still_serves(&t, ctls);
	hq_tls_destroy(ctls);
	srv_stop(&t);
}

static void
test_net_garbage(HQ_UNUSED void **state)
{
	struct hq_tls *ctls = mk_tls(HQ_ROLE_CLIENT, false, key_client);
	uint8_t junk[4096];
	struct srv s;
	char why[512];
	size_t i;
	int fd;

	for (i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	srv_start(&s, mk_tls(HQ_ROLE_CLIENT, true, key_client), 1024);
	srv_run(&s);
	fd = raw_connect(s.port);
	assert_int_equal(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	assert_true(raw_wait_closed(fd));
	close(fd);
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	srv_why(&s, 0, why, sizeof why);
	assert_contains(why, "TLS handshake failed");
	assert_contains(why, "http request");
	fd = raw_connect(s.port);
	assert_int_equal(write(fd, junk, sizeof junk), sizeof junk);
	assert_true(raw_wait_closed(fd));
	close(fd);
	assert_int_equal(srv_wait_closed(&s, 2), 2);
	srv_why(&s, 1, why, sizeof why);
	assert_contains(why, "TLS handshake failed");
	/* connect + close */
	fd = raw_connect(s.port);
	close(fd);
	assert_int_equal(srv_wait_closed(&s, 3), 3);
	srv_why(&s, 2, why, sizeof why);
	assert_contains(why, "peer closed the connection");
	srv_still_serves(&s, ctls);
	hq_tls_destroy(ctls);
	srv_stop(&s);
}

static void
test_net_handshake_timeout(HQ_UNUSED void **state)
{
	struct hq_tls *ctls = mk_tls(HQ_ROLE_CLIENT, false, key_client);
	struct hq_errbuf eb = { "" };
	struct hq_bconn *b = NULL;
	struct srv s;
	char why[512];
	double t0;
	int fd, lfd;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	srv_start(&s, mk_tls(HQ_ROLE_CLIENT, true, key_client), 1024);
	s.hs_timeout = 0.2;
	srv_run(&s);
	t0 = now_s();
	fd = raw_connect(s.port); /* and say nothing */
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	assert_true(now_s() - t0 < 3);
	assert_true(now_s() - t0 >= 0.15);
	srv_why(&s, 0, why, sizeof why);
	assert_string_equal(why, "TLS handshake timed out after 0.2 s");
	assert_true(raw_wait_closed(fd));
	close(fd);
	srv_still_serves(&s, ctls);
	srv_stop(&s);

	/* The client side: a server that accepts TCP and never answers. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	t0 = now_s();
	assert_int_equal(hq_bconn_connect("127.0.0.1", ntohs(sin.sin_port),
			     ctls, 1024, 0.2, &b, &eb),
	    HQ_ETIMEOUT);
	assert_true(now_s() - t0 < 3);
	assert_contains(eb.msg, "timed out after 0.2 s");
	close(lfd);
	hq_tls_destroy(ctls);
}

/* A TLS client against a plain server, and the other way round. */
static void
test_net_tls_mismatch(HQ_UNUSED void **state)
{
	struct hq_tls *ctls = mk_tls(HQ_ROLE_CLIENT, false, key_client);
	struct hq_errbuf eb = { "" };
	struct hq_bconn *b = NULL;
	uint8_t *got = NULL;
	size_t glen;
	struct srv s;
	char why[512];

	srv_start(&s, NULL, 1024);
	srv_run(&s);
	assert_int_equal(hq_bconn_connect("127.0.0.1", s.port, ctls, 1024, 5,
			     &b, &eb),
	    HQ_ECLOSED);
	assert_contains(eb.msg, "encryption disabled on the server?");
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	srv_why(&s, 0, why, sizeof why);
	assert_contains(why, "exceeds the limit of 1024");
	srv_stop(&s);

	srv_start(&s, mk_tls(HQ_ROLE_CLIENT, true, key_client), 1 << 20);
	srv_run(&s);
	assert_int_equal(hq_bconn_connect("127.0.0.1", s.port, NULL, 1024, 5,
			     &b, &eb),
	    0);
	assert_int_equal(hq_bconn_send(b, "hello", 5, &eb), 0);
	assert_true(hq_bconn_recv(b, &got, &glen, 5, &eb) < 0);
	assert_int_equal(srv_wait_closed(&s, 1), 1);
	srv_why(&s, 0, why, sizeof why);
	assert_contains(why, "TLS handshake failed");
	hq_bconn_close(b);
	hq_tls_destroy(ctls);
	srv_stop(&s);
}

/* A certificate server must not be accepted in place of the PSK. */
struct impostor {
	int lfd;
	SSL_CTX *ctx;
};

static void *
impostor_main(void *arg)
{
	struct impostor *im = arg;
	int fd = accept(im->lfd, NULL, NULL);
	SSL *ssl = SSL_new(im->ctx);

	SSL_set_fd(ssl, fd);
	(void)SSL_accept(ssl);
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return NULL;
}

static void
test_net_impostor_certificate(HQ_UNUSED void **state)
{
	struct hq_tls *ctls = mk_tls(HQ_ROLE_CLIENT, false, key_client);
	struct hq_errbuf eb = { "" };
	struct hq_bconn *b = NULL;
	struct impostor im;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	pthread_t th;
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();

	assert_non_null(pk);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"impostor", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	im.ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(im.ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(im.ctx, pk), 1);
	im.lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(im.lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(im.lfd, 4), 0);
	assert_int_equal(getsockname(im.lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(pthread_create(&th, NULL, impostor_main, &im), 0);
	assert_int_equal(hq_bconn_connect("127.0.0.1", ntohs(sin.sin_port),
			     ctls, 1024, 5, &b, &eb),
	    HQ_EAUTH);
	assert_contains(eb.msg, "certificate");
	pthread_join(th, NULL);
	close(im.lfd);
	SSL_CTX_free(im.ctx);
	X509_free(x);
	EVP_PKEY_free(pk);
	hq_tls_destroy(ctls);
}

static void
test_net_connect_errors(HQ_UNUSED void **state)
{
	struct hq_errbuf eb = { "" };
	struct hq_listener *l = NULL, *l2 = NULL;
	char want[96];
	uint16_t port;
	int fd = -1;

	assert_int_equal(hq_listener_open(EV_DEFAULT, "127.0.0.1", 0, NULL,
			     NULL, &l, &eb),
	    0);
	port = hq_listener_port(l);
	/* Port taken (SO_REUSEADDR does not allow two listeners). */
	assert_int_equal(hq_listener_open(EV_DEFAULT, "127.0.0.1", port, NULL,
			     NULL, &l2, &eb),
	    -EADDRINUSE);
	snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%u: ", port);
	assert_contains(eb.msg, want);
	assert_null(l2);
	hq_listener_close(l);
	hq_listener_close(NULL);
	assert_int_equal(hq_tcp_connect("127.0.0.1", port, 2, &fd, &eb),
	    -ECONNREFUSED);
	assert_int_equal(fd, -1);
	snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%u: ", port);
	assert_contains(eb.msg, want);
	assert_int_equal(hq_tls_create((enum hq_role)7, true, key_client, NULL,
			     &eb),
	    HQ_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_echo_tls),
		cmocka_unit_test(test_net_echo_plain),
		cmocka_unit_test(test_net_conn_wrong_key),
		cmocka_unit_test(test_net_seq_gating),
		cmocka_unit_test(test_net_close_inside_on_frame),
		cmocka_unit_test(test_net_close_before_ready),
		cmocka_unit_test(test_net_pause_read),
		cmocka_unit_test(test_net_bconn_echo),
		cmocka_unit_test(test_net_bconn_wrong_key),
		cmocka_unit_test(test_net_bconn_wrong_role),
		cmocka_unit_test(test_net_unknown_identity),
		cmocka_unit_test(test_net_oversized_frame),
		cmocka_unit_test(test_net_bconn_recv_too_big),
		cmocka_unit_test(test_net_half_frame),
		cmocka_unit_test(test_net_garbage),
		cmocka_unit_test(test_net_handshake_timeout),
		cmocka_unit_test(test_net_tls_mismatch),
		cmocka_unit_test(test_net_impostor_certificate),
		cmocka_unit_test(test_net_connect_errors),
	};
	size_t i;

	hq_tls_global_init();
	for (i = 0; i < HQ_KEY_LEN; i++) {
		key_client[i] = (uint8_t)(i + 1);
		key_worker[i] = (uint8_t)(i * 3 + 100);
		key_wrong[i] = (uint8_t)(i + 1);
	}
	key_wrong[HQ_KEY_LEN - 1] ^= 0x80; /* one bit off the client key */
	if (getenv("HQ_TEST_VERBOSE") != NULL)
		hq_log_set_level(HQ_LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
