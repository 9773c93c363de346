/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 external-PSK contexts, following VERIFIED-FACTS.md section 1: one
 * cipher suite, no tickets, no session cache, psk_dhe_ke only.
 */
#include "common/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hq_tls {
	SSL_CTX *ctx;
	enum hq_role role;
	bool server_side;
	uint8_t key[HQ_KEY_LEN];
};

/* TLS_AES_128_GCM_SHA256: the session's suite must be the only one listed. */
static const unsigned char tls_suite_id[2] = { 0x13, 0x01 };
#define TLS_SUITE_NAME "TLS_AES_128_GCM_SHA256"

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
/* SSL ex_data slot: why the server's PSK callback refused an identity. */
static int tls_note_idx = -1;

static void
tls_note_free(HQ_UNUSED void *parent, void *ptr, HQ_UNUSED CRYPTO_EX_DATA *ad,
    HQ_UNUSED int idx, HQ_UNUSED long argl, HQ_UNUSED void *argp)
{
	free(ptr);
}

static void
tls_once_init(void)
{
	struct sigaction sa;

	/*
	 * No configuration file, no legacy name tables (TLS 1.3 fetches its
	 * algorithms from the default provider), no clean-up at exit: a
	 * client process starts and exits faster (docs/BENCHMARKS.md).
	 */
	OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG |
		OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
		OPENSSL_INIT_NO_ADD_ALL_DIGESTS | OPENSSL_INIT_NO_ATEXIT,
	    NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	tls_note_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_note_free);
}

void
hq_tls_global_init(void)
{
	pthread_once(&tls_once, tls_once_init);
}

const char *
hq_tls_role_identity(enum hq_role role)
{
	return role == HQ_ROLE_WORKER ? "hq:worker" : "hq:client";
}

static const char *
tls_role_name(enum hq_role role)
{
	return role == HQ_ROLE_WORKER ? "worker" : "client";
}

static enum hq_role
tls_other_role(enum hq_role role)
{
	return role == HQ_ROLE_WORKER ? HQ_ROLE_CLIENT : HQ_ROLE_WORKER;
}

/* A session carrying the external PSK; NULL on failure. */
static SSL_SESSION *
tls_psk_session(SSL *ssl, const uint8_t *key)
{
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, tls_suite_id);
	SSL_SESSION *s;

	if (cipher == NULL || (s = SSL_SESSION_new()) == NULL)
		return NULL;
	if (!SSL_SESSION_set1_master_key(s, key, HQ_KEY_LEN) ||
	    !SSL_SESSION_set_cipher(s, cipher) ||
	    !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

static struct hq_tls *
tls_of(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

static int
tls_use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id,
    size_t *idlen, SSL_SESSION **sess)
{
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, tls_suite_id);
	struct hq_tls *t = tls_of(ssl);
	const char *ident = hq_tls_role_identity(t->role);

	*sess = NULL;
	*id = NULL;
	*idlen = 0;
	if (cipher == NULL)
		return 0;
	/*
	 * After a HelloRetryRequest 'md' is a provider-fetched digest, never
	 * pointer-equal to the cipher's static one: compare the types.
	 */
	if (md != NULL &&
	    EVP_MD_get_type(SSL_CIPHER_get_handshake_digest(cipher)) !=
		EVP_MD_get_type(md))
		return 1;
	if ((*sess = tls_psk_session(ssl, t->key)) == NULL)
		return 0;
	*id = (const unsigned char *)ident;
	*idlen = strlen(ident);
	return 1;
}

/* Printable copy of an untrusted identity for the log. */
static void
tls_quote(const unsigned char *p, size_t n, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '\'')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x",
			    p[i]);
	}
	if (i < n && o + 4 <= size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void
tls_set_note(SSL *ssl, const char *note)
{
	free(SSL_get_ex_data(ssl, tls_note_idx));
	SSL_set_ex_data(ssl, tls_note_idx, hq_xstrdup(note));
}

static int
tls_find_session_cb(SSL *ssl, const unsigned char *id, size_t idlen,
    SSL_SESSION **sess)
{
	struct hq_tls *t = tls_of(ssl);
	const char *want = hq_tls_role_identity(t->role);
	const char *other = hq_tls_role_identity(tls_other_role(t->role));
	char quoted[128], note[256];

	*sess = NULL;
	if (idlen == strlen(want) && memcmp(id, want, idlen) == 0) {
		*sess = tls_psk_session(ssl, t->key);
		return *sess != NULL;
	}
	/* Not an internal error: *sess = NULL makes the handshake fail. */
	tls_quote(id, idlen, quoted, sizeof quoted);
	if (idlen == strlen(other) && memcmp(id, other, idlen) == 0)
		snprintf(note, sizeof note,
		    "TLS identity '%s' is for the %s port; this is the %s port",
		    quoted, tls_role_name(tls_other_role(t->role)),
		    tls_role_name(t->role));
	else
		snprintf(note, sizeof note,
		    "unknown TLS identity '%s' (this port accepts '%s')",
		    quoted, want);
	tls_set_note(ssl, note);
	return 1;
}

int
hq_tls_create(enum hq_role role, bool server_side,
    const uint8_t key[HQ_KEY_LEN], struct hq_tls **out, struct hq_errbuf *eb)
{
	struct hq_tls *t = NULL;
	SSL_CTX *ctx = NULL;
	int rc = HQ_EAUTH;

	hq_tls_global_init();
	if (role != HQ_ROLE_CLIENT && role != HQ_ROLE_WORKER)
		return hq_errf(eb, HQ_EINVAL, "unknown TLS role %d", (int)role);
	ERR_clear_error();
	ctx = SSL_CTX_new(
	    server_side ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		hq_errf(eb, rc, "cannot create a TLS context: %s",
		    ERR_reason_error_string(ERR_peek_error()));
		goto out;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, TLS_SUITE_NAME)) {
		hq_errf(eb, rc, "cannot configure TLS 1.3 (%s): %s",
		    TLS_SUITE_NAME, ERR_reason_error_string(ERR_peek_error()));
		goto out;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	/* RELEASE_BUFFERS: idle connections keep no 34 KiB record buffers. */
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (server_side) {
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_psk_find_session_callback(ctx, tls_find_session_cb);
	} else {
		/*
		 * No trust anchors are loaded, so any server that answers
		 * with a certificate instead of the key is refused.
		 */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_psk_use_session_callback(ctx, tls_use_session_cb);
	}
	t = hq_xcalloc(1, sizeof *t);
	t->role = role;
	t->server_side = server_side;
	memcpy(t->key, key, HQ_KEY_LEN);
	t->ctx = ctx;
	SSL_CTX_set_app_data(ctx, t);
	ctx = NULL;
	*out = t;
	rc = 0;
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

void
hq_tls_destroy(struct hq_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	OPENSSL_cleanse(t->key, sizeof t->key);
	free(t);
}

bool
hq_tls_is_server(const struct hq_tls *t)
{
	return t->server_side;
}

int
hq_tls_ssl_new(struct hq_tls *t, int fd, SSL **out, struct hq_errbuf *eb)
{
	SSL *ssl;

	ERR_clear_error();
	if ((ssl = SSL_new(t->ctx)) == NULL || !SSL_set_fd(ssl, fd)) {
		hq_errf(eb, HQ_EAUTH, "cannot create a TLS connection: %s",
		    ERR_reason_error_string(ERR_peek_error()));
		SSL_free(ssl);
		ERR_clear_error();
		return HQ_EAUTH;
	}
	if (t->server_side)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	*out = ssl;
	return 0;
}

int
hq_tls_check_done(SSL *ssl, struct hq_errbuf *eb)
{
	if (!SSL_session_reused(ssl))
		return hq_errf(eb, HQ_EAUTH,
		    "TLS handshake did not use the pre-shared key");
	if (SSL_get_negotiated_group(ssl) == 0)
		return hq_errf(eb, HQ_EAUTH,
		    "TLS handshake negotiated no (EC)DHE group: "
		    "no forward secrecy");
	return 0;
}

/* The first (root-cause) error of the queue, which is then emptied. */
static unsigned long
tls_take_error(char *reason, size_t size)
{
	unsigned long e = ERR_get_error();
	const char *s;

	if (e == 0)
		snprintf(reason, size, "unknown TLS error");
	else if ((s = ERR_reason_error_string(e)) != NULL)
		snprintf(reason, size, "%s", s);
	else
		snprintf(reason, size, "TLS error %lu", e);
	ERR_clear_error();
	return e;
}

int
hq_tls_handshake_error(SSL *ssl, int ssl_err, int sys_errno, const char *what,
    struct hq_errbuf *eb)
{
	struct hq_tls *t = tls_of(ssl);
	const char *note = SSL_get_ex_data(ssl, tls_note_idx);
	char reason[160];
	unsigned long e = tls_take_error(reason, sizeof reason);
	int r = e != 0 ? ERR_GET_REASON(e) : 0;

	if (note != NULL)
		return hq_errf(eb, HQ_EAUTH, "%s: %s", what, note);
	if (ssl_err == SSL_ERROR_SYSCALL && e == 0 && sys_errno != 0)
		return hq_errf(eb, -sys_errno, "%s: %s", what,
		    strerror(sys_errno));
	if ((ssl_err == SSL_ERROR_SYSCALL && e == 0) ||
	    r == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		if (t->server_side)
			return hq_errf(eb, HQ_ECLOSED,
			    "%s: peer closed the connection", what);
		return hq_errf(eb, HQ_ECLOSED,
		    "%s: the server closed the connection (wrong port, or "
		    "encryption disabled on the server?)",
		    what);
	}
	if (t->server_side) {
		if (r == SSL_R_BINDER_DOES_NOT_VERIFY)
			return hq_errf(eb, HQ_EAUTH, "%s (wrong key?): %s",
			    what, reason);
		if (r == SSL_R_WRONG_VERSION_NUMBER || r == SSL_R_HTTP_REQUEST)
			return hq_errf(eb, HQ_EPROTO,
			    "%s (not an hq peer, or encryption disabled on "
			    "it?): %s",
			    what, reason);
		return hq_errf(eb, HQ_EPROTO, "%s: %s", what, reason);
	}
	if (r == SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER)
		return hq_errf(eb, HQ_EAUTH,
		    "%s: the server refused the key (alert illegal "
		    "parameter) \u2014 is the access file current?",
		    what);
	if (r == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)
		return hq_errf(eb, HQ_EAUTH,
		    "%s: the server refused the identity '%s' (alert "
		    "handshake failure) \u2014 is this the %s port?",
		    what, hq_tls_role_identity(t->role),
		    tls_role_name(t->role));
	if (r == SSL_R_CERTIFICATE_VERIFY_FAILED)
		return hq_errf(eb, HQ_EAUTH,
		    "%s: the server presented a certificate instead of "
		    "using the pre-shared key (not an hq server?)",
		    what);
	if (r == SSL_R_WRONG_VERSION_NUMBER)
		return hq_errf(eb, HQ_EPROTO,
		    "%s (encryption disabled on the server?): %s", what,
		    reason);
	return hq_errf(eb, HQ_EPROTO, "%s: %s", what, reason);
}

int
hq_tls_io_error(int ssl_err, int sys_errno, struct hq_errbuf *eb)
{
	char reason[160];
	unsigned long e = tls_take_error(reason, sizeof reason);

	if (ssl_err == SSL_ERROR_ZERO_RETURN)
		return hq_errf(eb, HQ_ECLOSED, "connection closed by peer");
	if (ssl_err == SSL_ERROR_SYSCALL && e == 0 && sys_errno != 0)
		return hq_errf(eb, -sys_errno, "%s", strerror(sys_errno));
	if ((ssl_err == SSL_ERROR_SYSCALL && e == 0) ||
	    (e != 0 && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
		return hq_errf(eb, HQ_ECLOSED,
		    "connection closed by peer (without TLS close_notify)");
	return hq_errf(eb, HQ_EPROTO, "TLS error: %s", reason);
}
