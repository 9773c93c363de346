/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 with an external pre-shared key (no certificates) and (EC)DHE for
 * forward secrecy. One context per role (client or worker) and side.
 */
#ifndef HQ_TLS_H
#define HQ_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define HQ_KEY_LEN 32

/* Which port and key: CLI clients or workers. */
enum hq_role {
	HQ_ROLE_CLIENT = 0,
	HQ_ROLE_WORKER = 1,
};

/* Wraps an SSL_CTX for one role and one side (opaque). */
struct hq_tls;

/*
 * Initialise OpenSSL without reading openssl.cnf and ignore SIGPIPE (the
 * socket BIO uses write()). Idempotent and thread-safe; hq_tls_create()
 * calls it too, but daemons should call it first thing in main().
 */
void hq_tls_global_init(void);

/*
 * Create a context for 'role'. A server-side context accepts exactly that
 * role's identity ("hq:client" or "hq:worker") with 'key'; any other
 * identity or key fails the handshake. A client-side context presents the
 * role's identity and key, and refuses servers that try certificates
 * instead of the key. 'key' is copied.
 * Returns 0 and *out (free with hq_tls_destroy()), or HQ_EINVAL (unknown
 * role) / HQ_EAUTH (OpenSSL refused the setup) with 'eb'.
 */
int hq_tls_create(enum hq_role role, bool server_side,
    const uint8_t key[HQ_KEY_LEN], struct hq_tls **out, struct hq_errbuf *eb);

/* Free a context; NULL ok. No connection may still use it. */
void hq_tls_destroy(struct hq_tls *t);

/* "hq:client" or "hq:worker". */
const char *hq_tls_role_identity(enum hq_role role);

/*
 * Below: internal to the network layer (conn.c, bconn.c), which include
 * <openssl/ssl.h>; 'struct ssl_st' is OpenSSL's SSL.
 */
struct ssl_st;

bool hq_tls_is_server(const struct hq_tls *t);

/*
 * A new SSL object on 'fd' (not owned), in accept state for a server-side
 * context and connect state otherwise. The caller owns *out: SSL_free().
 * Returns 0 or HQ_EAUTH with 'eb'.
 */
int hq_tls_ssl_new(struct hq_tls *t, int fd, struct ssl_st **out,
    struct hq_errbuf *eb);

/*
 * Call after SSL_do_handshake() returned 1: checks that the pre-shared key
 * was used and that an (EC)DHE group was negotiated (forward secrecy).
 * Returns 0, or HQ_EAUTH with the reason in 'eb'.
 */
int hq_tls_check_done(struct ssl_st *ssl, struct hq_errbuf *eb);

/*
 * Explain a failed handshake for humans: 'ssl_err' is SSL_get_error()'s
 * result and 'sys_errno' the errno seen right after the failing call.
 * Writes "<what>: <cause>" (or "<what> (hint): <cause>") into 'eb', drains
 * the thread's OpenSSL error queue and returns the code: HQ_EAUTH for a
 * refused key or identity, -errno for a system error, HQ_ECLOSED when the
 * peer hung up, HQ_EPROTO otherwise.
 */
int hq_tls_handshake_error(struct ssl_st *ssl, int ssl_err, int sys_errno,
    const char *what, struct hq_errbuf *eb);

/*
 * The same for SSL_read()/SSL_write() after the handshake; a clean
 * close_notify (SSL_ERROR_ZERO_RETURN) gives HQ_ECLOSED and
 * "connection closed by peer". Drains the thread's error queue.
 */
int hq_tls_io_error(int ssl_err, int sys_errno, struct hq_errbuf *eb);

#endif
