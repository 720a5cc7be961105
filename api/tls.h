/*
 * tls.h - OpenSSL contexts for the API listeners, and the memory-BIO pump
 * that runs one TLS connection over bytes moved by someone else (a libuv
 * stream in api/conn.c).
 *
 * Contexts. cs_tls_server_ctx_new() builds the one policy every listener
 * uses: TLS 1.2 minimum, ECDHE with AEAD ciphers only for TLS 1.2 (TLS 1.3
 * suites are all AEAD), server cipher preference, no renegotiation, no
 * compression, a session id context (needed once SSL_VERIFY_PEER is on, or
 * resumption fails). The client certificate policy is per listener (notes/
 * http.md section 3): NONE never asks (public port: OCSP, CRL, ACME), and
 * REQUIRED fails the handshake, with an alert, when the client sends no
 * certificate or one that does not chain to client_ca_file (admin and
 * node-to-node port). OPTIONAL asks; a client that sends none is let in,
 * one that sends a certificate that does not verify is refused like
 * REQUIRED (EST re-enroll). TLS 1.3 post-handshake auth is never used.
 *
 * Reload (SIGHUP): build a new context from the same files and hand it to
 * cs_http_server_set_ssl_ctx(); connections keep the context they started
 * with (each SSL holds a reference), new ones get the new one. If building
 * fails, keep serving with the old one.
 *
 * The pump. struct cs_tls wraps an SSL with two memory BIOs: ciphertext
 * from the network goes in with cs_tls_feed(), plaintext comes out of
 * cs_tls_read(); plaintext goes in with cs_tls_write(), ciphertext comes
 * out through the send callback. The pump calls send itself after every
 * step that can produce records (handshake, each SSL_read loop: TLS 1.3
 * tickets and key updates, each SSL_write, close_notify, and the alert of a
 * failed handshake), so a caller cannot forget a flush; the caller only has
 * to write what it is given, in order, and close the socket after a
 * failure once those writes are done so that the alert reaches the peer.
 *
 * Loop thread only. No logging: errors come back as CS_E* with errmsg.
 */
#ifndef CS_API_TLS_H
#define CS_API_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

enum cs_tls_verify {
	CS_TLS_VERIFY_NONE = 0, /* no CertificateRequest */
	CS_TLS_VERIFY_OPTIONAL, /* ask; none is fine, a bad one fails */
	CS_TLS_VERIFY_REQUIRED, /* a certificate chaining to the CA is a must */
	CS_TLS_VERIFY__MAX
};

/* TLS 1.2 cipher list: ECDHE key exchange and AEAD only (Mozilla
 * "intermediate" without DHE). Exposed for the tests and for certctl. */
#define CS_TLS_CIPHERS_TLS12                                                   \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Returns a new server context (SSL_CTX_free()), or NULL with errmsg set.
 * cert_file is a PEM chain (leaf first), key_file its PEM private key; the
 * pair is checked. client_ca_file (PEM) lists the CAs client certificates
 * must chain to; it must be NULL with CS_TLS_VERIFY_NONE and set
 * otherwise (CS_EINVAL). */
SSL_CTX *cs_tls_server_ctx_new(const char *cert_file, const char *key_file,
    const char *client_ca_file, enum cs_tls_verify verify, char *errmsg);

/* Returns a new client context (SSL_CTX_free()), or NULL with errmsg set:
 * same protocol and cipher policy, peer verification on against ca_file
 * (PEM). cert_file/key_file: the client certificate, both NULL for none.
 * The caller names the peer per connection with cs_tls_client_ssl_new(). */
SSL_CTX *cs_tls_client_ctx_new(const char *ca_file, const char *cert_file,
    const char *key_file, char *errmsg);

/* Returns a new client SSL (SSL_free()) in connect state that sends SNI
 * (for a DNS name) and checks that the server certificate matches host, a
 * DNS name or an IP address literal (SSL_set1_host() or the IP check).
 * NULL with errmsg set on a bad host. */
SSL *cs_tls_client_ssl_new(SSL_CTX *ctx, const char *host, char *errmsg);

/* Called with ciphertext to put on the wire. buf is taken (free() it);
 * len > 0. Must not call back into the pump. */
typedef void (*cs_tls_send_cb)(void *arg, uint8_t *buf, size_t len);

enum cs_tls_state {
	CS_TLS_HANDSHAKE = 0, /* handshake in progress */
	CS_TLS_OPEN,          /* application data flows */
	CS_TLS_PEER_CLOSED,   /* close_notify received: EOF */
	CS_TLS_FAILED,        /* fatal error; any alert was sent */
	CS_TLS_STATE__MAX
};

struct cs_tls {
	/* private */
	SSL *ssl;
	BIO *rbio; /* network -> SSL; owned by ssl */
	BIO *wbio; /* SSL -> network; owned by ssl */
	cs_tls_send_cb send;
	void *arg;
	enum cs_tls_state state;
	int shutdown_sent;
};

/* Starts a connection on ctx (the SSL takes its own reference to ctx), in
 * accept state when server is non-zero, else in connect state. ssl, if
 * not NULL, is a prepared SSL (cs_tls_client_ssl_new()) that is taken and
 * ctx is ignored. Returns 0, or CS_ECRYPTO with errmsg set. */
int cs_tls_init(struct cs_tls *t, SSL_CTX *ctx, SSL *ssl, int server,
    cs_tls_send_cb send, void *arg, char *errmsg);
/* Frees the SSL and its BIOs. Sends nothing. Safe on a zeroed struct. */
void cs_tls_close(struct cs_tls *t);

/* Hands ciphertext from the network to the pump (copied). */
void cs_tls_feed(struct cs_tls *t, const void *p, size_t n);

/* Advances the handshake, then decrypts up to cap bytes into out.
 * Returns the byte count (> 0); 0 when more input is needed (or the
 * handshake just progressed); CS_ECANCELED once the peer sent close_notify
 * (EOF; state CS_TLS_PEER_CLOSED); CS_EPROTO on a fatal TLS error (state
 * CS_TLS_FAILED; errmsg set; an alert, if any, has been sent). */
ssize_t cs_tls_read(struct cs_tls *t, void *out, size_t cap, char *errmsg);

/* Bytes already decrypted or buffered as ciphertext that cs_tls_read()
 * can return without new input. */
size_t cs_tls_pending(const struct cs_tls *t);

/* Encrypts all n bytes (after the handshake). Returns 0, or CS_EPROTO
 * (errmsg set), or CS_EINVAL before the handshake completed. */
int cs_tls_write(struct cs_tls *t, const void *p, size_t n, char *errmsg);

/* Sends close_notify once (later calls, or calls before the handshake or
 * after a failure, do nothing). Does not wait for the peer's. */
void cs_tls_shutdown(struct cs_tls *t);

/* Views valid while t is open. */
int cs_tls_handshake_done(const struct cs_tls *t);
/* The peer's certificate (get0), NULL if none; *verified set to 1 when
 * OpenSSL verified it against the configured CAs. */
X509 *cs_tls_peer_cert(const struct cs_tls *t, int *verified);
/* "TLSv1.3" etc. */
const char *cs_tls_version(const struct cs_tls *t);

#endif
