/* tls.c - listener contexts and the memory-BIO pump (contract in tls.h). */
#include "api/tls.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lib/error.h"
#include "lib/mem.h"

static const unsigned char session_id_ctx[] = "certstore";

/* Drains OpenSSL's error queue into errmsg as "what: reason". */
static void
ssl_errmsg(char *errmsg, const char *what)
{
	char text[160] = "no detail";
	unsigned long e;
	unsigned long first = 0;

	while ((e = ERR_get_error()) != 0) {
		if (first == 0)
			first = e;
	}
	if (first != 0)
		ERR_error_string_n(first, text, sizeof text);
	cs_errmsg_printf(errmsg, "%s: %s", what, text);
}

/* The protocol and cipher policy shared by both ends. */
static int
ctx_policy(SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		return 0;
	if (SSL_CTX_set_cipher_list(ctx, CS_TLS_CIPHERS_TLS12) != 1)
		return 0;
	if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1)
		return 0;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
				     SSL_OP_NO_COMPRESSION |
				     SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Idle keep-alive connections give their record buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return 1;
}

SSL_CTX *
cs_tls_server_ctx_new(const char *cert_file, const char *key_file,
    const char *client_ca_file, enum cs_tls_verify verify, char *errmsg)
{
	SSL_CTX *ctx = NULL;
	STACK_OF(X509_NAME) *names = NULL;
	int mode;

	if (cert_file == NULL || key_file == NULL || verify < 0 ||
	    verify >= CS_TLS_VERIFY__MAX ||
	    (verify == CS_TLS_VERIFY_NONE) != (client_ca_file == NULL)) {
		cs_errmsg_printf(errmsg, "tls server context: bad arguments");
		return NULL;
	}
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || !ctx_policy(ctx)) {
		ssl_errmsg(errmsg, "tls server context");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ssl_errmsg(errmsg, cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ssl_errmsg(errmsg, key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_errmsg(errmsg, "certificate and key do not match");
		goto fail;
	}
	/* Required whenever SSL_VERIFY_PEER is on; harmless otherwise. */
	if (SSL_CTX_set_session_id_context(ctx, session_id_ctx,
		sizeof session_id_ctx - 1) != 1) {
		ssl_errmsg(errmsg, "session id context");
		goto fail;
	}
	if (verify == CS_TLS_VERIFY_NONE) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	if (SSL_CTX_load_verify_locations(ctx, client_ca_file, NULL) != 1) {
		ssl_errmsg(errmsg, client_ca_file);
		goto fail;
	}
	names = SSL_load_client_CA_file(client_ca_file);
	if (names == NULL) {
		ssl_errmsg(errmsg, client_ca_file);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names); /* takes names */
	mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
	if (verify == CS_TLS_VERIFY_REQUIRED)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
cs_tls_client_ctx_new(const char *ca_file, const char *cert_file,
    const char *key_file, char *errmsg)
{
	SSL_CTX *ctx = NULL;

	if (ca_file == NULL || (cert_file == NULL) != (key_file == NULL)) {
		cs_errmsg_printf(errmsg, "tls client context: bad arguments");
		return NULL;
	}
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || !ctx_policy(ctx)) {
		ssl_errmsg(errmsg, "tls client context");
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		ssl_errmsg(errmsg, ca_file);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key_file,
			SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			ssl_errmsg(errmsg, cert_file);
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *
cs_tls_client_ssl_new(SSL_CTX *ctx, const char *host, char *errmsg)
{
	unsigned char addr[16];
	int is_ip;
	SSL *ssl = NULL;

	is_ip = inet_pton(AF_INET, host, addr) == 1 ||
		inet_pton(AF_INET6, host, addr) == 1;
	ERR_clear_error();
	ssl = SSL_new(ctx);
	if (ssl == NULL)
		goto fail;
	SSL_set_connect_state(ssl);
	if (is_ip) {
		/* No SNI for literals (RFC 6066); match an IP SAN. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) !=
		    1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(ssl, host) != 1 ||
		    SSL_set1_host(ssl, host) != 1)
			goto fail;
	}
	return ssl;
fail:
	ssl_errmsg(errmsg, host);
	SSL_free(ssl);
	return NULL;
}

/* Sends whatever the SSL wrote into the wbio. */
static void
flush(struct cs_tls *t)
{
	size_t n = BIO_ctrl_pending(t->wbio);
	uint8_t *buf;
	int got;

	if (n == 0)
		return;
	buf = cs_malloc(n);
	got = BIO_read(t->wbio, buf, (int)n);
	/* A memory BIO hands back exactly what it holds. */
	if (got <= 0) {
		free(buf);
		return;
	}
	t->send(t->arg, buf, (size_t)got);
}

int
cs_tls_init(struct cs_tls *t, SSL_CTX *ctx, SSL *ssl, int server,
    cs_tls_send_cb send, void *arg, char *errmsg)
{
	memset(t, 0, sizeof *t);
	ERR_clear_error();
	t->ssl = ssl != NULL ? ssl : SSL_new(ctx);
	if (t->ssl == NULL)
		goto fail;
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->rbio == NULL || t->wbio == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		goto fail;
	}
	/* An empty rbio means "want read", not EOF. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio); /* ssl takes both */
	if (server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	t->send = send;
	t->arg = arg;
	t->state = CS_TLS_HANDSHAKE;
	return 0;
fail:
	ssl_errmsg(errmsg, "tls init");
	SSL_free(t->ssl);
	memset(t, 0, sizeof *t);
	return CS_ECRYPTO;
}

void
cs_tls_close(struct cs_tls *t)
{
	SSL_free(t->ssl); /* frees both BIOs */
	t->ssl = NULL;
	t->rbio = NULL;
	t->wbio = NULL;
}

void
cs_tls_feed(struct cs_tls *t, const void *p, size_t n)
{
	/* A memory BIO grows; it cannot refuse short of OOM. */
	while (n > 0) {
		int chunk = n > INT32_MAX ? INT32_MAX : (int)n;
		int w = BIO_write(t->rbio, p, chunk);

		if (w <= 0)
			abort();
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
}

static ssize_t
tls_fail(struct cs_tls *t, const char *what, char *errmsg)
{
	t->state = CS_TLS_FAILED;
	ssl_errmsg(errmsg, what);
	flush(t); /* the alert, if OpenSSL queued one */
	return CS_EPROTO;
}

ssize_t
cs_tls_read(struct cs_tls *t, void *out, size_t cap, char *errmsg)
{
	size_t total = 0;
	int rc;
	int err;

	if (t->state == CS_TLS_FAILED)
		return CS_EPROTO;
	if (t->state == CS_TLS_PEER_CLOSED)
		return CS_ECANCELED;
	if (t->state == CS_TLS_HANDSHAKE) {
		ERR_clear_error();
		rc = SSL_do_handshake(t->ssl);
		if (rc != 1) {
			err = SSL_get_error(t->ssl, rc);
			if (err != SSL_ERROR_WANT_READ &&
			    err != SSL_ERROR_WANT_WRITE)
				return tls_fail(t, "tls handshake", errmsg);
			flush(t);
			return 0;
		}
		t->state = CS_TLS_OPEN;
		flush(t);
	}
	while (total < cap) {
		size_t want = cap - total;

		ERR_clear_error();
		rc = SSL_read(t->ssl, (uint8_t *)out + total,
		    want > INT32_MAX ? INT32_MAX : (int)want);
		if (rc > 0) {
			total += (size_t)rc;
			continue;
		}
		err = SSL_get_error(t->ssl, rc);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			break;
		if (err == SSL_ERROR_ZERO_RETURN) {
			t->state = CS_TLS_PEER_CLOSED;
			flush(t);
			return total > 0 ? (ssize_t)total : CS_ECANCELED;
		}
		/* Return what was decrypted; the next call reports. */
		if (total > 0) {
			t->state = CS_TLS_FAILED;
			flush(t);
			return (ssize_t)total;
		}
		return tls_fail(t, "tls read", errmsg);
	}
	flush(t); /* TLS 1.3 tickets, key updates */
	return (ssize_t)total;
}

size_t
cs_tls_pending(const struct cs_tls *t)
{
	if (t->ssl == NULL)
		return 0;
	return (size_t)SSL_pending(t->ssl) + BIO_ctrl_pending(t->rbio);
}

int
cs_tls_write(struct cs_tls *t, const void *p, size_t n, char *errmsg)
{
	int rc;

	if (t->state != CS_TLS_OPEN && t->state != CS_TLS_PEER_CLOSED)
		return CS_EINVAL;
	while (n > 0) {
		int chunk = n > INT32_MAX ? INT32_MAX : (int)n;

		ERR_clear_error();
		rc = SSL_write(t->ssl, p, chunk);
		if (rc <= 0)
			return (int)tls_fail(t, "tls write", errmsg);
		p = (const uint8_t *)p + rc;
		n -= (size_t)rc;
	}
	flush(t);
	return 0;
}

void
cs_tls_shutdown(struct cs_tls *t)
{
	if (t->shutdown_sent || t->ssl == NULL ||
	    (t->state != CS_TLS_OPEN && t->state != CS_TLS_PEER_CLOSED))
		return;
	t->shutdown_sent = 1;
	ERR_clear_error();
	(void)SSL_shutdown(t->ssl); /* 0: sent, not waiting for the peer's */
	ERR_clear_error();
	flush(t);
}

int
cs_tls_handshake_done(const struct cs_tls *t)
{
	return t->ssl != NULL && SSL_is_init_finished(t->ssl);
}

X509 *
cs_tls_peer_cert(const struct cs_tls *t, int *verified)
{
	X509 *x = t->ssl != NULL ? SSL_get0_peer_certificate(t->ssl) : NULL;

	if (verified != NULL)
		*verified =
		    x != NULL && SSL_get_verify_result(t->ssl) == X509_V_OK;
	return x;
}

const char *
cs_tls_version(const struct cs_tls *t)
{
	return t->ssl != NULL ? SSL_get_version(t->ssl) : "none";
}
