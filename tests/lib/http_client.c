/* http_client.c - blocking HTTP/1.1 test client and test PKI files
 * (contract in http_client.h). */
#include "tests/lib/http_client.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static unsigned serial_counter;

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate valid from now+from to now+to seconds; issuer NULL makes
 * a self-signed CA. */
static X509 *
cert_new(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long from,
    long to, const char *san, const char *eku)
{
	X509 *x = X509_new();
	X509_NAME *n;

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)++serial_counter);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x,
	    issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	    issuer == NULL ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
	    issuer == NULL ? "critical,keyCertSign,cRLSign"
			   : "critical,digitalSignature");
	add_ext(x, x, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		add_ext(x, issuer, NID_authority_key_identifier,
		    "keyid:always");
	if (san != NULL)
		add_ext(x, issuer, NID_subject_alt_name, san);
	if (eku != NULL)
		add_ext(x, issuer, NID_ext_key_usage, eku);
	ck_assert_int_gt(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()),
	    0);
	return x;
}

static void
write_pem(const char *dir, char *path, const char *name, X509 *x, EVP_PKEY *k)
{
	FILE *f;

	snprintf(path, CS_TEST_PATH_SIZE, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	if (x != NULL)
		ck_assert_int_eq(PEM_write_X509(f, x), 1);
	if (k != NULL)
		ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
				     NULL),
		    1);
	fclose(f);
}

void
cs_test_pki_make(struct cs_test_pki *p)
{
	EVP_PKEY *k1 = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	EVP_PKEY *ks = EVP_EC_gen("P-256"), *kc = EVP_EC_gen("P-256");
	X509 *ca1, *ca2, *s, *good, *other, *old;

	ck_assert(k1 && k2 && ks && kc);
	strcpy(p->dir, "/tmp/cs-http-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(p->dir));
	ca1 = cert_new("test-ca-1", k1, NULL, NULL, -3600, 86400, NULL, NULL);
	ca2 = cert_new("test-ca-2", k2, NULL, NULL, -3600, 86400, NULL, NULL);
	s = cert_new("localhost", ks, ca1, k1, -3600, 86400,
	    "DNS:localhost,IP:127.0.0.1", "serverAuth");
	good = cert_new("good-client", kc, ca1, k1, -3600, 86400, NULL,
	    "clientAuth");
	other = cert_new("other-client", kc, ca2, k2, -3600, 86400, NULL,
	    "clientAuth");
	old = cert_new("old-client", kc, ca1, k1, -10 * 86400, -86400, NULL,
	    "clientAuth");
	write_pem(p->dir, p->ca1, "ca1.pem", ca1, NULL);
	write_pem(p->dir, p->ca2, "ca2.pem", ca2, NULL);
	write_pem(p->dir, p->srv_crt, "srv.pem", s, NULL);
	write_pem(p->dir, p->srv_key, "srv.key", NULL, ks);
	write_pem(p->dir, p->good_crt, "good.pem", good, NULL);
	write_pem(p->dir, p->good_key, "good.key", NULL, kc);
	write_pem(p->dir, p->other_crt, "other.pem", other, NULL);
	write_pem(p->dir, p->other_key, "other.key", NULL, kc);
	write_pem(p->dir, p->old_crt, "old.pem", old, NULL);
	write_pem(p->dir, p->old_key, "old.key", NULL, kc);
	X509_free(ca1);
	X509_free(ca2);
	X509_free(s);
	X509_free(good);
	X509_free(other);
	X509_free(old);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(ks);
	EVP_PKEY_free(kc);
}

void
cs_test_pki_remove(struct cs_test_pki *p)
{
	const char *files[] = {p->ca1, p->ca2, p->srv_crt, p->srv_key,
	    p->good_crt, p->good_key, p->other_crt, p->other_key, p->old_crt,
	    p->old_key};

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (files[i][0] != '\0')
			unlink(files[i]);
	}
	if (p->dir[0] != '\0')
		rmdir(p->dir);
}

int
cs_test_cli_open(struct cs_test_cli *c, int port)
{
	struct sockaddr_in a;
	struct timeval tv = {5, 0};

	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(c->fd, (struct sockaddr *)&a, sizeof a);
}

static void
ssl_fail(struct cs_test_cli *c, int rc)
{
	unsigned long e = ERR_peek_last_error();

	c->ssl_err = SSL_get_error(c->ssl, rc);
	c->reason = e != 0 ? ERR_GET_REASON(e) : 0;
}

/* TLS handshake with ctx (taken). Returns SSL_connect()'s result. */
int
cs_test_cli_tls(struct cs_test_cli *c, SSL_CTX *ctx)
{
	int rc;

	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	ERR_clear_error();
	rc = SSL_connect(c->ssl);
	if (rc != 1)
		ssl_fail(c, rc);
	return rc;
}

int
cs_test_cli_write(struct cs_test_cli *c, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w;

		if (c->ssl != NULL) {
			ERR_clear_error();
			w = SSL_write(c->ssl, p, (int)n);
			if (w <= 0) {
				ssl_fail(c, (int)w);
				return -1;
			}
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0)
				return -1;
		}
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

int
cs_test_cli_send(struct cs_test_cli *c, const char *s)
{
	return cs_test_cli_write(c, s, strlen(s));
}

/* > 0 bytes, 0 EOF, -1 error (ssl_err/reason set for TLS). */
ssize_t
cs_test_cli_recv(struct cs_test_cli *c, void *p, size_t n)
{
	ssize_t r;

	if (c->ssl == NULL) {
		r = recv(c->fd, p, n, 0);
		return r;
	}
	ERR_clear_error();
	r = SSL_read(c->ssl, p, (int)n);
	if (r <= 0) {
		ssl_fail(c, (int)r);
		return c->ssl_err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	return r;
}

static ssize_t
fill(struct cs_test_cli *c)
{
	ssize_t r;

	if (c->len == sizeof c->buf)
		return -1;
	r = cs_test_cli_recv(c, c->buf + c->len, sizeof c->buf - c->len);
	if (r > 0)
		c->len += (size_t)r;
	return r;
}

/* Copies the value of header name (first match) into out; 0 if absent. */
int
cs_test_hdr(const struct cs_test_resp *r, const char *name, char *out,
    size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p = strstr(r->head, "\r\n");

	while (p != NULL && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t vlen;

			while (*v == ' ')
				v++;
			vlen = strcspn(v, "\r");
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 1;
		}
		p = strstr(p, "\r\n");
	}
	return 0;
}

int
cs_test_hdr_is(const struct cs_test_resp *r, const char *name,
    const char *value)
{
	char v[256];

	return cs_test_hdr(r, name, v, sizeof v) && strcasecmp(v, value) == 0;
}

static char *
find_crlf2(char *p, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++) {
		if (memcmp(p + i, "\r\n\r\n", 4) == 0)
			return p + i;
	}
	return NULL;
}

/* Reads one response; head_only for HEAD. 0, or -1. */
int
cs_test_cli_resp(struct cs_test_cli *c, struct cs_test_resp *r, int head_only)
{
	char *end;
	size_t hlen;
	char v[32];
	size_t clen = 0;

	free(r->body);
	memset(r, 0, sizeof *r);
	while ((end = find_crlf2(c->buf, c->len)) == NULL) {
		if (fill(c) <= 0)
			return -1;
	}
	hlen = (size_t)(end - c->buf) + 4;
	if (hlen >= sizeof r->head)
		return -1;
	memcpy(r->head, c->buf, hlen);
	if (sscanf(r->head, "HTTP/1.1 %d ", &r->status) != 1)
		return -1;
	memmove(c->buf, c->buf + hlen, c->len - hlen);
	c->len -= hlen;
	if (cs_test_hdr(r, "Content-Length", v, sizeof v))
		clen = strtoul(v, NULL, 10);
	if (head_only || r->status < 200 || r->status == 204)
		clen = 0;
	r->body = malloc(clen + 1);
	r->body_len = clen;
	while (c->len < clen && c->len < sizeof c->buf) {
		/* Big bodies go straight into r->body below. */
		if (clen - c->len <= sizeof c->buf - c->len) {
			if (fill(c) <= 0)
				return -1;
			continue;
		}
		break;
	}
	if (c->len >= clen) {
		memcpy(r->body, c->buf, clen);
		memmove(c->buf, c->buf + clen, c->len - clen);
		c->len -= clen;
	} else {
		size_t got = c->len;

		memcpy(r->body, c->buf, got);
		c->len = 0;
		while (got < clen) {
			size_t want = clen - got;
			ssize_t n;

			if (c->slow_us != 0) {
				usleep(c->slow_us);
				if (want > 65536)
					want = 65536;
			}
			n = cs_test_cli_recv(c, r->body + got, want);
			if (n <= 0)
				return -1;
			got += (size_t)n;
		}
	}
	r->body[clen] = '\0';
	return 0;
}

/* 1: EOF without close_notify, 2: TLS close_notify, 0: data, -1 error. */
int
cs_test_cli_eof(struct cs_test_cli *c)
{
	char b[256];
	ssize_t n;

	if (c->len > 0)
		return 0;
	n = cs_test_cli_recv(c, b, sizeof b);
	if (n > 0)
		return 0;
	if (n == 0)
		return c->ssl != NULL && c->ssl_err == SSL_ERROR_ZERO_RETURN
			   ? 2
			   : 1;
	if (c->ssl != NULL && c->ssl_err == SSL_ERROR_SYSCALL && errno == 0)
		return 1; /* EOF without close_notify */
	return errno == ECONNRESET ? 1 : -1;
}

void
cs_test_cli_close(struct cs_test_cli *c, struct cs_test_resp *r)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (r != NULL) {
		free(r->body);
		r->body = NULL;
	}
}
