/* test_http_server.c - the real server on 127.0.0.1:0, its loop driven
 * by the test, clients on blocking sockets / OpenSSL in a helper thread.
 *
 * The client thread never calls Check: it records its first failed
 * expectation (CK) in F->why, and the main thread asserts after join, so
 * a failure names the client line. The PKI (two CAs, a server certificate,
 * good / foreign / expired client certificates) is generated per test
 * with OpenSSL into a temporary directory. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "api/http.h"
#include "api/tls.h"
#include "lib/error.h"
#include "tests/lib/runner.h"

#define BIG (20u * 1024 * 1024)

struct resp {
	int status;
	char head[8192];
	char *body;
	size_t body_len;
};

struct cli {
	int fd;
	SSL *ssl;
	char buf[1 << 16];
	size_t len;
	unsigned slow_us; /* sleep before each read of the body */
	int ssl_err;      /* SSL_get_error() of the last failure */
	int reason;       /* ERR_GET_REASON() of the last failure */
};

struct fx {
	uv_loop_t loop;
	struct cs_http_server *srv;
	uv_async_t done;
	pthread_t th;
	void (*client)(struct fx *);
	int port;
	int tls_case; /* per-test parameter for the client */
	/* server side */
	int srv_closing;
	int close_cbs;
	uint64_t closed_at;
	uint64_t answered_at;
	struct cs_http_stats st; /* copied in the close callback */
	int handled;
	int peer_seen;
	int peer_verified;
	char peer_cn[64];
	int gone_seen;
	int gone_rc;
	int async_rc;
	int async_done;
	struct cs_http_req *held;
	int held_rc;
	/* client side */
	int fails;
	char why[256];
	/* PKI */
	char dir[64];
	char ca1[128], ca2[128], srv_crt[128], srv_key[128];
	char good_crt[128], good_key[128], other_crt[128], other_key[128];
	char old_crt[128], old_key[128];
};

static struct fx *F;

static void
cfail(int line, const char *what)
{
	if (F->fails++ == 0)
		snprintf(F->why, sizeof F->why, "client line %d: %s", line,
			 what);
}

#define CK(cond)                                                               \
	do {                                                                   \
		if (!(cond)) {                                                 \
			cfail(__LINE__, #cond);                                \
			return;                                                \
		}                                                              \
	} while (0)

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ---- test PKI ---- */

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
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
					       : n);
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
write_pem(char *path, const char *name, X509 *x, EVP_PKEY *k)
{
	FILE *f;

	snprintf(path, 128, "%s/%s", F->dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	if (x != NULL)
		ck_assert_int_eq(PEM_write_X509(f, x), 1);
	if (k != NULL)
		ck_assert_int_eq(
		    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

static void
make_pki(void)
{
	EVP_PKEY *k1 = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	EVP_PKEY *ks = EVP_EC_gen("P-256"), *kc = EVP_EC_gen("P-256");
	X509 *ca1, *ca2, *s, *good, *other, *old;

	ck_assert(k1 && k2 && ks && kc);
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
	write_pem(F->ca1, "ca1.pem", ca1, NULL);
	write_pem(F->ca2, "ca2.pem", ca2, NULL);
	write_pem(F->srv_crt, "srv.pem", s, NULL);
	write_pem(F->srv_key, "srv.key", NULL, ks);
	write_pem(F->good_crt, "good.pem", good, NULL);
	write_pem(F->good_key, "good.key", NULL, kc);
	write_pem(F->other_crt, "other.pem", other, NULL);
	write_pem(F->other_key, "other.key", NULL, kc);
	write_pem(F->old_crt, "old.pem", old, NULL);
	write_pem(F->old_key, "old.key", NULL, kc);
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

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN); /* as certstored does */
	F = calloc(1, sizeof *F);
	ck_assert_int_eq(uv_loop_init(&F->loop), 0);
	strcpy(F->dir, "/tmp/cs-http-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(F->dir));
	make_pki();
}

static void
teardown(void)
{
	const char *files[] = {
	    F->ca1,      F->ca2,       F->srv_crt,   F->srv_key, F->good_crt,
	    F->good_key, F->other_crt, F->other_key, F->old_crt, F->old_key};

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(files[i]);
	rmdir(F->dir);
	free(F);
	F = NULL;
}

/* ---- the example handler ---- */

static const struct cs_http_header text[] = {{"Content-Type", "text/plain"}};

struct delayed {
	uv_timer_t t;
	struct cs_http_req *req;
	char body[128];
	int poll_gone; /* answer once the client is gone (or after 3 s) */
	int ticks;
};

static void
on_delayed_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
on_delayed(uv_timer_t *t)
{
	struct delayed *d = t->data;
	int rc;

	if (d->poll_gone) {
		if (!cs_http_req_gone(d->req) && ++d->ticks < 600)
			return;
		F->gone_seen = cs_http_req_gone(d->req);
		F->gone_rc = cs_http_respond(d->req, 200, text, 1, "late", 4);
	} else {
		rc = cs_http_respond(d->req, 200, text, 1, d->body,
				     strlen(d->body));
		F->async_rc = rc;
		F->async_done++;
		F->answered_at = uv_now(&F->loop);
	}
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, on_delayed_closed);
}

static void
delay(struct cs_http_req *req, uint64_t ms, const char *body, int poll)
{
	struct delayed *d = calloc(1, sizeof *d);

	d->req = req;
	d->poll_gone = poll;
	snprintf(d->body, sizeof d->body, "%s", body);
	uv_timer_init(&F->loop, &d->t);
	d->t.data = d;
	uv_timer_start(&d->t, on_delayed, ms, poll ? 5 : 0);
}

static void on_srv_closed(struct cs_http_server *srv, void *data);

static void
close_server(void)
{
	if (F->srv_closing)
		return;
	F->srv_closing = 1;
	cs_http_server_close(F->srv, on_srv_closed, F);
}

static void
handler(struct cs_http_req *req, void *data)
{
	const char *path = cs_http_req_path(req);
	const char *q = cs_http_req_query(req);
	const char *v;
	char buf[256];

	ck_assert_ptr_eq(data, F);
	F->handled++;
	if (strcmp(path, "/hello") == 0) {
		cs_http_respond(req, 200, text, 1, "hello", 5);
	} else if (strncmp(path, "/echo", 5) == 0) {
		size_t len;
		const uint8_t *body = cs_http_req_body(req, &len);
		char qv[64] = "-";
		struct cs_http_header h[3] = {
		    {"X-Method", cs_http_req_method(req)},
		    {"X-Path", path},
		    {"X-Query", qv},
		};

		if (cs_http_req_query_param(req, "q", &v) == 0)
			snprintf(qv, sizeof qv, "%s", v);
		cs_http_respond(req, 200, h, 3, body, len);
	} else if (strcmp(path, "/n") == 0) {
		cs_http_respond(req, 200, text, 1, q, strlen(q));
	} else if (strcmp(path, "/an") == 0) {
		delay(req, 20, q, 0);
	} else if (strcmp(path, "/async") == 0) {
		delay(req, 100, "async", 0);
	} else if (strcmp(path, "/slow") == 0) {
		delay(req, 300, "slow", 0);
		close_server();
	} else if (strcmp(path, "/gone") == 0) {
		delay(req, 5, "", 1);
	} else if (strcmp(path, "/hold") == 0) {
		F->held = req;
		close_server();
	} else if (strcmp(path, "/big") == 0) {
		size_t n = BIG;
		uint8_t *b = malloc(n);

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)(i * 131 + 7);
		cs_http_respond_take(req, 200, NULL, 0, b, n);
	} else if (strcmp(path, "/peer") == 0) {
		int verified = -1;
		X509 *x = cs_http_req_peer_cert(req, &verified);

		F->peer_seen = x != NULL;
		F->peer_verified = verified;
		if (x != NULL)
			X509_NAME_get_text_by_NID(X509_get_subject_name(x),
						  NID_commonName, F->peer_cn,
						  sizeof F->peer_cn);
		snprintf(buf, sizeof buf, "tls=%d peer=%s v=%d",
			 cs_http_req_tls(req), x != NULL ? F->peer_cn : "none",
			 verified);
		cs_http_respond(req, 200, text, 1, buf, strlen(buf));
	} else {
		cs_http_respond_problem(req, 404, "no such test route");
	}
}

/* ---- driving the loop ---- */

static void
on_srv_closed(struct cs_http_server *srv, void *data)
{
	ck_assert_ptr_eq(data, F);
	F->close_cbs++;
	F->closed_at = uv_now(&F->loop);
	F->st = *cs_http_server_stats(srv);
	if (F->held != NULL) {
		F->held_rc = cs_http_respond(F->held, 200, text, 1, "x", 1);
		F->held = NULL;
	}
}

static void
on_done(uv_async_t *a)
{
	uv_close((uv_handle_t *)a, NULL);
	close_server();
}

static void *
client_main(void *arg)
{
	struct fx *f = arg;

	f->client(f);
	uv_async_send(&f->done);
	return NULL;
}

static void
start(const struct cs_http_config *over, SSL_CTX *ctx)
{
	struct cs_http_config cfg;
	char errmsg[CS_ERRMSG_SIZE] = "";

	if (over != NULL)
		cfg = *over;
	else
		memset(&cfg, 0, sizeof cfg);
	cfg.bind = "127.0.0.1:0";
	cfg.ssl_ctx = ctx;
	cfg.handler = handler;
	cfg.data = F;
	if (cfg.shutdown_timeout_ms == 0)
		cfg.shutdown_timeout_ms = 2000;
	ck_assert_msg(cs_http_server_new(&F->loop, &cfg, &F->srv, errmsg) == 0,
		      "%s", errmsg);
	SSL_CTX_free(ctx); /* the server holds its own reference */
	F->port = cs_http_server_port(F->srv);
	ck_assert_int_gt(F->port, 0);
}

static SSL_CTX *
server_ctx(enum cs_tls_verify v)
{
	char errmsg[CS_ERRMSG_SIZE] = "";
	SSL_CTX *ctx = cs_tls_server_ctx_new(
	    F->srv_crt, F->srv_key, v == CS_TLS_VERIFY_NONE ? NULL : F->ca1, v,
	    errmsg);

	ck_assert_msg(ctx != NULL, "%s", errmsg);
	return ctx;
}

/* Runs the client in a thread while the loop runs here; then the server
 * closes and the loop must end with nothing left on it. */
static void
run(void (*client)(struct fx *))
{
	F->client = client;
	ck_assert_int_eq(uv_async_init(&F->loop, &F->done, on_done), 0);
	ck_assert_int_eq(pthread_create(&F->th, NULL, client_main, F), 0);
	ck_assert_int_eq(uv_run(&F->loop, UV_RUN_DEFAULT), 0);
	pthread_join(F->th, NULL);
	ck_assert_msg(F->fails == 0, "%s", F->why);
	ck_assert_int_eq(F->close_cbs, 1);
	ck_assert_int_eq(F->st.conns_open, 0);
	ck_assert_int_eq(uv_loop_close(&F->loop), 0);
}

/* ---- client helpers (helper thread) ---- */

static int
cli_open(struct cli *c, int port)
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
ssl_fail(struct cli *c, int rc)
{
	unsigned long e = ERR_peek_last_error();

	c->ssl_err = SSL_get_error(c->ssl, rc);
	c->reason = e != 0 ? ERR_GET_REASON(e) : 0;
}

/* TLS handshake with ctx (taken). Returns SSL_connect()'s result. */
static int
cli_tls(struct cli *c, SSL_CTX *ctx)
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

static SSL_CTX *
cli_ctx(const char *crt, const char *key, int version)
{
	char errmsg[CS_ERRMSG_SIZE] = "";
	SSL_CTX *ctx = cs_tls_client_ctx_new(F->ca1, crt, key, errmsg);

	if (ctx != NULL && version != 0) {
		SSL_CTX_set_min_proto_version(ctx, version);
		SSL_CTX_set_max_proto_version(ctx, version);
	}
	return ctx;
}

static int
cli_write(struct cli *c, const void *p, size_t n)
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

static int
cli_send(struct cli *c, const char *s)
{
	return cli_write(c, s, strlen(s));
}

/* > 0 bytes, 0 EOF, -1 error (ssl_err/reason set for TLS). */
static ssize_t
cli_recv(struct cli *c, void *p, size_t n)
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
cli_fill(struct cli *c)
{
	ssize_t r;

	if (c->len == sizeof c->buf)
		return -1;
	r = cli_recv(c, c->buf + c->len, sizeof c->buf - c->len);
	if (r > 0)
		c->len += (size_t)r;
	return r;
}

/* Copies the value of header name (first match) into out; 0 if absent. */
static int
hdr(const struct resp *r, const char *name, char *out, size_t outlen)
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

static int
hdr_is(const struct resp *r, const char *name, const char *value)
{
	char v[256];

	return hdr(r, name, v, sizeof v) && strcasecmp(v, value) == 0;
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
static int
cli_resp(struct cli *c, struct resp *r, int head_only)
{
	char *end;
	size_t hlen;
	char v[32];
	size_t clen = 0;

	free(r->body);
	memset(r, 0, sizeof *r);
	while ((end = find_crlf2(c->buf, c->len)) == NULL) {
		if (cli_fill(c) <= 0)
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
	if (hdr(r, "Content-Length", v, sizeof v))
		clen = strtoul(v, NULL, 10);
	if (head_only || r->status < 200 || r->status == 204)
		clen = 0;
	r->body = malloc(clen + 1);
	r->body_len = clen;
	while (c->len < clen && c->len < sizeof c->buf) {
		/* Big bodies go straight into r->body below. */
		if (clen - c->len <= sizeof c->buf - c->len) {
			if (cli_fill(c) <= 0)
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
			n = cli_recv(c, r->body + got, want);
			if (n <= 0)
				return -1;
			got += (size_t)n;
		}
	}
	r->body[clen] = '\0';
	return 0;
}

/* 1: EOF without close_notify, 2: TLS close_notify, 0: data, -1 error. */
static int
cli_eof(struct cli *c)
{
	char b[256];
	ssize_t n;

	if (c->len > 0)
		return 0;
	n = cli_recv(c, b, sizeof b);
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

static void
cli_close(struct cli *c, struct resp *r)
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

/* One request, one response on a fresh connection. */
static int
roundtrip(struct cli *c, const char *req, struct resp *r)
{
	if (cli_open(c, F->port) < 0 || cli_send(c, req) < 0)
		return -1;
	return cli_resp(c, r, 0);
}

/* ---- HTTP semantics ---- */

static void
client_basic(struct fx *f)
{
	struct cli c;
	struct resp r = {0};
	char v[64];

	(void)f;
	CK(cli_open(&c, F->port) == 0);
	CK(cli_send(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200);
	CK(strcmp(r.body, "hello") == 0);
	CK(hdr_is(&r, "Content-Length", "5"));
	CK(hdr(&r, "Date", v, sizeof v) && strstr(v, " GMT") != NULL);
	CK(!hdr(&r, "Connection", v, sizeof v));
	/* POST with a decoded query parameter, same connection */
	CK(cli_send(&c, "POST /echo?q=a%2Fb+c HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: 11\r\n\r\nhello world") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello world") == 0);
	CK(hdr_is(&r, "X-Method", "POST"));
	CK(hdr_is(&r, "X-Query", "a/b c"));
	/* HEAD: same Content-Length, no body; the GET after it parses,
	 * so no body bytes were sent */
	CK(cli_send(&c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cli_resp(&c, &r, 1) == 0);
	CK(r.status == 200 && hdr_is(&r, "Content-Length", "5"));
	CK(cli_send(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello") == 0);
	/* chunked request body */
	CK(cli_send(&c,
		    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") ==
	   0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello world") == 0);
	/* the raw path: no decoding, no "//" collapsing (OCSP GET) */
	CK(cli_send(&c, "GET /echo/MEkw%2BRz//x+y%2F HTTP/1.1\r\n\r\n") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(hdr_is(&r, "X-Path", "/echo/MEkw%2BRz//x+y%2F"));
	/* absolute-form target */
	CK(cli_send(&c, "GET http://x/echo/abs?q=1 HTTP/1.1\r\n\r\n") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(hdr_is(&r, "X-Path", "/echo/abs") && hdr_is(&r, "X-Query", "1"));
	/* a handler's problem answer */
	CK(cli_send(&c, "GET /nope HTTP/1.1\r\n\r\n") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 404);
	CK(hdr_is(&r, "Content-Type", "application/problem+json"));
	CK(strstr(r.body, "\"status\":404") != NULL);
	cli_close(&c, &r);
}

START_TEST(test_server_get_post_head)
{
	start(NULL, NULL);
	run(client_basic);
	ck_assert_int_eq(F->st.requests, 8);
	ck_assert_int_eq(F->st.responses[2], 7);
	ck_assert_int_eq(F->st.responses[4], 1);
}
END_TEST

static void
client_continue(struct fx *f)
{
	struct cli c;
	struct resp r = {0};

	(void)f;
	CK(cli_open(&c, F->port) == 0);
	CK(cli_send(&c,
		    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
		    "Expect: 100-continue\r\n\r\n") == 0);
	/* the body is not sent until 100 arrives (recv times out at 5 s) */
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 100);
	CK(cli_send(&c, "hello") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello") == 0);
	cli_close(&c, &r);
	/* too big: 413 before any body byte, then the connection ends */
	CK(roundtrip(&c,
		     "POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n"
		     "Expect: 100-continue\r\n\r\n",
		     &r) == 0);
	CK(r.status == 413);
	CK(hdr_is(&r, "Connection", "close"));
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
	CK(roundtrip(&c,
		     "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n"
		     "Expect: teapot\r\n\r\n",
		     &r) == 0);
	CK(r.status == 417);
	cli_close(&c, &r);
}

START_TEST(test_server_expect_continue)
{
	struct cs_http_config cfg = {.max_body = 1000};

	start(&cfg, NULL);
	run(client_continue);
	ck_assert_int_eq(F->st.responses[1], 1);
	ck_assert_int_eq(F->handled, 1); /* the 413/417 never reached it */
}
END_TEST

static void
client_http10(struct fx *f)
{
	struct cli c;
	struct resp r = {0};

	(void)f;
	CK(roundtrip(&c, "GET /hello HTTP/1.0\r\n\r\n", &r) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello") == 0);
	CK(hdr_is(&r, "Connection", "close"));
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
	CK(roundtrip(&c,
		     "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		     &r) == 0);
	CK(r.status == 200 && hdr_is(&r, "Connection", "keep-alive"));
	CK(cli_send(&c,
		    "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") ==
	   0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200);
	cli_close(&c, &r);
	CK(roundtrip(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n",
		     &r) == 0);
	CK(r.status == 200 && hdr_is(&r, "Connection", "close"));
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
}

START_TEST(test_server_http10_keepalive)
{
	start(NULL, NULL);
	run(client_http10);
	ck_assert_int_eq(F->st.requests, 4);
}
END_TEST

#define NPIPE 300

static void
client_pipeline(struct fx *f)
{
	struct cli c;
	struct resp r = {0};
	char *all = malloc(NPIPE * 64);
	size_t len = 0;
	char want[32];

	(void)f;
	for (int i = 0; i < NPIPE; i++)
		len += (size_t)sprintf(
		    all + len, "GET /%s?i=%d HTTP/1.1\r\nHost: x\r\n\r\n",
		    i % 50 == 25 ? "an" : "n", i);
	CK(cli_open(&c, F->port) == 0);
	CK(cli_write(&c, all, len) == 0); /* one burst */
	free(all);
	for (int i = 0; i < NPIPE; i++) {
		snprintf(want, sizeof want, "i=%d", i);
		CK(cli_resp(&c, &r, 0) == 0);
		CK(r.status == 200);
		CK(strcmp(r.body, want) == 0);
	}
	cli_close(&c, &r);
}

START_TEST(test_server_pipeline_in_order)
{
	/* a small input cap: reading must stop and resume, not fail */
	struct cs_http_config cfg = {.max_pipeline = 1024};

	start(&cfg, NULL);
	run(client_pipeline);
	ck_assert_int_eq(F->st.requests, NPIPE);
	ck_assert_int_eq(F->async_done, NPIPE / 50);
}
END_TEST

/* ---- caps ---- */

static void
client_caps(struct fx *f)
{
	struct cli c;
	struct resp r = {0};
	char big[4096];

	(void)f;
	/* 413 by Content-Length; the body follows at once */
	CK(cli_open(&c, F->port) == 0);
	CK(cli_send(
	       &c, "POST /echo HTTP/1.1\r\nContent-Length: 2000\r\n\r\n") == 0);
	memset(big, 'b', 2000);
	CK(cli_write(&c, big, 2000) == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 413);
	CK(hdr_is(&r, "Content-Type", "application/problem+json"));
	CK(strstr(r.body, "\"status\":413") != NULL);
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
	/* 413 for a chunked body that grows past the cap */
	CK(cli_open(&c, F->port) == 0);
	CK(cli_send(&c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			"\r\n400\r\n") == 0);
	memset(big, 'c', 1024);
	CK(cli_write(&c, big, 1024) == 0);
	CK(cli_send(&c, "\r\n400\r\n") == 0);
	CK(cli_write(&c, big, 1024) == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 413);
	cli_close(&c, &r);
	/* 414 */
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	strcpy(big + 300, " HTTP/1.1\r\n\r\n");
	CK(roundtrip(&c, big, &r) == 0);
	CK(r.status == 414 && strstr(r.body, "\"status\":414") != NULL);
	cli_close(&c, &r);
	/* 431 */
	memset(big, 'h', sizeof big);
	memcpy(big, "GET /hello HTTP/1.1\r\nX-Big: ", 28);
	strcpy(big + 2000, "\r\n\r\n");
	CK(roundtrip(&c, big, &r) == 0);
	CK(r.status == 431 && strstr(r.body, "\"status\":431") != NULL);
	cli_close(&c, &r);
	/* 400 */
	CK(roundtrip(&c, "GARBAGE\r\n\r\n", &r) == 0);
	CK(r.status == 400);
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
	/* just under the caps still works */
	CK(roundtrip(&c, "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		     &r) == 0);
	CK(r.status == 200);
	cli_close(&c, &r);
}

START_TEST(test_server_caps_413_414_431)
{
	struct cs_http_config cfg = {
	    .max_body = 1000, .max_url = 200, .max_header_bytes = 1000};

	start(&cfg, NULL);
	run(client_caps);
	ck_assert_int_eq(F->handled, 1);
	ck_assert_int_eq(F->st.responses[4], 5);
}
END_TEST

static void
client_max_conns(struct fx *f)
{
	struct cli a, b, c, d;
	struct resp r = {0};
	uint64_t t0;

	(void)f;
	CK(roundtrip(&a, "GET /hello HTTP/1.1\r\n\r\n", &r) == 0);
	CK(r.status == 200);
	CK(roundtrip(&b, "GET /hello HTTP/1.1\r\n\r\n", &r) == 0);
	CK(r.status == 200);
	CK(roundtrip(&c, "GET /hello HTTP/1.1\r\n\r\n", &r) == 0);
	CK(r.status == 503);
	CK(hdr_is(&r, "Connection", "close"));
	CK(strstr(r.body, "\"status\":503") != NULL);
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
	/* a slot frees when a client leaves */
	cli_close(&a, NULL);
	t0 = mono_ms();
	do {
		sleep_ms(20);
		CK(roundtrip(&d, "GET /hello HTTP/1.1\r\n\r\n", &r) == 0);
		cli_close(&d, NULL);
	} while (r.status == 503 && mono_ms() - t0 < 2000);
	CK(r.status == 200);
	cli_close(&b, &r);
}

START_TEST(test_server_max_conns_503)
{
	struct cs_http_config cfg = {.max_conns = 2};

	start(&cfg, NULL);
	run(client_max_conns);
	ck_assert_int_ge(F->st.conns_rejected, 1);
	ck_assert_int_eq(F->st.responses[5], F->st.conns_rejected);
}
END_TEST

/* ---- deadlines ---- */

static void
client_slowloris(struct fx *f)
{
	struct cli c;
	struct resp r = {0};
	struct pollfd p;
	uint64_t t0;
	int sent = 0;

	(void)f;
	CK(cli_open(&c, F->port) == 0);
	t0 = mono_ms();
	CK(cli_send(&c, "GET /hello HTTP/1.1\r\nX-Slow: ") == 0);
	/* one byte every 50 ms: far faster than any idle timeout */
	for (;;) {
		p.fd = c.fd;
		p.events = POLLIN;
		if (poll(&p, 1, 50) == 1)
			break;
		CK(mono_ms() - t0 < 3000);
		if (cli_send(&c, "a") < 0)
			break;
		sent++;
	}
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 408);
	CK(mono_ms() - t0 >= 250 && mono_ms() - t0 < 1500);
	CK(sent >= 3);
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
}

START_TEST(test_server_header_deadline_slowloris)
{
	struct cs_http_config cfg = {.header_timeout_ms = 300,
				     .idle_timeout_ms = 60000};

	start(&cfg, NULL);
	run(client_slowloris);
	ck_assert_int_eq(F->st.timeouts, 1);
	ck_assert_int_eq(F->handled, 0);
}
END_TEST

static void
client_body_deadline(struct fx *f)
{
	struct cli c;
	struct resp r = {0};
	uint64_t t0;

	(void)f;
	CK(cli_open(&c, F->port) == 0);
	t0 = mono_ms();
	CK(cli_send(&c, "POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\n"
			"0123456789") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 408);
	CK(strstr(r.body, "body") != NULL);
	CK(mono_ms() - t0 >= 250 && mono_ms() - t0 < 1500);
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
}

START_TEST(test_server_body_deadline)
{
	struct cs_http_config cfg = {.body_timeout_ms = 300};

	start(&cfg, NULL);
	run(client_body_deadline);
	ck_assert_int_eq(F->st.timeouts, 1);
}
END_TEST

static void
client_idle(struct fx *f)
{
	struct cli c, s;
	struct resp r = {0};
	uint64_t t0;

	(void)f;
	CK(cli_open(&s, F->port) == 0); /* never sends a byte */
	CK(roundtrip(&c, "GET /hello HTTP/1.1\r\n\r\n", &r) == 0);
	CK(r.status == 200);
	t0 = mono_ms();
	CK(cli_eof(&c) == 1); /* closed quietly, no 408 */
	CK(mono_ms() - t0 >= 150 && mono_ms() - t0 < 1500);
	CK(cli_eof(&s) == 1); /* the header deadline covers silence */
	cli_close(&c, &r);
	cli_close(&s, NULL);
}

START_TEST(test_server_idle_timeout)
{
	struct cs_http_config cfg = {.idle_timeout_ms = 200,
				     .header_timeout_ms = 400};

	start(&cfg, NULL);
	run(client_idle);
	ck_assert_int_eq(F->st.responses[4], 0);
}
END_TEST

/* ---- the client leaves while its request is pending ---- */

static void
client_reset(struct fx *f)
{
	struct cli c;
	struct linger l = {1, 0};

	(void)f;
	CK(cli_open(&c, F->port) == 0);
	CK(cli_send(&c, "GET /gone HTTP/1.1\r\n\r\n") == 0);
	sleep_ms(100);
	setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	cli_close(&c, NULL); /* RST */
	sleep_ms(100);
}

START_TEST(test_server_client_gone_while_pending)
{
	start(NULL, NULL);
	run(client_reset);
	ck_assert_int_eq(F->gone_seen, 1);
	ck_assert_int_eq(F->gone_rc, CS_ECANCELED);
	ck_assert_int_eq(F->st.requests_gone, 1);
}
END_TEST

static void
client_half_close(struct fx *f)
{
	struct cli c;
	struct resp r = {0};

	(void)f;
	/* FIN after the request: the answer still comes */
	CK(cli_open(&c, F->port) == 0);
	CK(cli_send(&c, "GET /async HTTP/1.1\r\n\r\n") == 0);
	shutdown(c.fd, SHUT_WR);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "async") == 0);
	CK(cli_eof(&c) == 1);
	cli_close(&c, &r);
	/* full close with the request pending: the late answer is safe */
	CK(cli_open(&c, F->port) == 0);
	CK(cli_send(&c, "GET /async HTTP/1.1\r\n\r\n") == 0);
	cli_close(&c, NULL);
	sleep_ms(300);
}

START_TEST(test_server_client_closes_while_pending)
{
	start(NULL, NULL);
	run(client_half_close);
	ck_assert_int_eq(F->async_done, 2);
}
END_TEST

/* ---- large response, slow reader ---- */

static void
client_big(struct fx *f)
{
	struct cli c;
	struct resp r = {0};

	CK(cli_open(&c, F->port) == 0);
	if (f->tls_case)
		CK(cli_tls(&c, cli_ctx(NULL, NULL, 0)) == 1);
	c.slow_us = 1500;
	CK(cli_send(&c, "GET /big HTTP/1.1\r\n\r\n") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && r.body_len == BIG);
	for (size_t i = 0; i < BIG; i++)
		CK((uint8_t)r.body[i] == (uint8_t)(i * 131 + 7));
	cli_close(&c, &r);
}

START_TEST(test_server_large_response_slow_reader)
{
	F->tls_case = _i;
	start(NULL, _i ? server_ctx(CS_TLS_VERIFY_NONE) : NULL);
	run(client_big);
	/* the reader was slower than the writer (the queue filled), and
	 * the server never queued much more than its high-water mark */
	ck_assert_uint_ge(F->st.write_queue_peak, CS_HTTP_WRITE_HIGH_WATER / 2);
	ck_assert_uint_le(F->st.write_queue_peak,
			  CS_HTTP_WRITE_HIGH_WATER + 2 * 64 * 1024);
}
END_TEST

static void
client_no_reader(struct fx *f)
{
	struct cli c;
	char b[65536];
	size_t total = 0;
	ssize_t n;

	(void)f;
	CK(cli_open(&c, F->port) == 0);
	CK(cli_send(&c, "GET /big HTTP/1.1\r\n\r\n") == 0);
	sleep_ms(1200); /* read nothing */
	while ((n = recv(c.fd, b, sizeof b, 0)) > 0)
		total += (size_t)n;
	CK(total < BIG); /* cut off, not delivered */
	cli_close(&c, NULL);
}

START_TEST(test_server_write_deadline)
{
	struct cs_http_config cfg = {.write_timeout_ms = 300};

	start(&cfg, NULL);
	run(client_no_reader);
	ck_assert_int_eq(F->st.timeouts, 1);
}
END_TEST

/* ---- TLS ---- */

/* _i: 0 no cert, 1 foreign CA, 2 expired, 3 good; +4 for TLS 1.2. */
static void
client_required(struct fx *f)
{
	const char *certs[4] = {NULL, F->other_crt, F->old_crt, F->good_crt};
	const char *keys[4] = {NULL, F->other_key, F->old_key, F->good_key};
	int k = f->tls_case % 4;
	int ver = f->tls_case >= 4 ? TLS1_2_VERSION : TLS1_3_VERSION;
	struct cli c;
	struct resp r = {0};
	int rc;

	CK(cli_open(&c, F->port) == 0);
	rc = cli_tls(&c, cli_ctx(certs[k], keys[k], ver));
	if (k == 3) {
		CK(rc == 1);
		CK(cli_send(&c, "GET /peer HTTP/1.1\r\n\r\n") == 0);
		CK(cli_resp(&c, &r, 0) == 0);
		CK(r.status == 200);
		CK(strcmp(r.body, "tls=1 peer=good-client v=1") == 0);
		cli_close(&c, &r);
		return;
	}
	/* TLS 1.3 clients finish their side first and meet the alert on
	 * the first read */
	if (rc == 1) {
		if (cli_send(&c, "GET /peer HTTP/1.1\r\n\r\n") == 0)
			CK(cli_resp(&c, &r, 0) < 0);
	}
	CK(c.ssl_err == SSL_ERROR_SSL);
	switch (k) {
	case 0:
		CK(c.reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
		   c.reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
		break;
	case 1:
		CK(c.reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA);
		break;
	default:
		CK(c.reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED);
		break;
	}
	cli_close(&c, &r);
}

START_TEST(test_tls_required_client_cert)
{
	F->tls_case = _i;
	start(NULL, server_ctx(CS_TLS_VERIFY_REQUIRED));
	run(client_required);
	if (_i % 4 == 3) {
		ck_assert_int_eq(F->peer_seen, 1);
		ck_assert_int_eq(F->peer_verified, 1);
		ck_assert_str_eq(F->peer_cn, "good-client");
		ck_assert_int_eq(F->st.tls_failures, 0);
	} else {
		ck_assert_int_eq(F->handled, 0);
		ck_assert_int_eq(F->st.tls_failures, 1);
	}
}
END_TEST

/* _i: 0 no cert (let in), 1 good cert, 2 foreign CA (refused). */
static void
client_optional(struct fx *f)
{
	struct cli c;
	struct resp r = {0};
	int k = f->tls_case;
	int rc;

	CK(cli_open(&c, F->port) == 0);
	rc = cli_tls(&c, k == 0   ? cli_ctx(NULL, NULL, 0)
			 : k == 1 ? cli_ctx(F->good_crt, F->good_key, 0)
				  : cli_ctx(F->other_crt, F->other_key, 0));
	if (rc == 1 && cli_send(&c, "GET /peer HTTP/1.1\r\n\r\n") == 0)
		rc = cli_resp(&c, &r, 0) == 0 ? 1 : -1;
	if (k == 2) {
		CK(rc != 1 && c.reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA);
	} else {
		CK(rc == 1 && r.status == 200);
		CK(strcmp(r.body, k == 0 ? "tls=1 peer=none v=0"
					 : "tls=1 peer=good-client v=1") == 0);
	}
	cli_close(&c, &r);
}

START_TEST(test_tls_optional_client_cert)
{
	F->tls_case = _i;
	start(NULL, server_ctx(CS_TLS_VERIFY_OPTIONAL));
	run(client_optional);
	ck_assert_int_eq(F->handled, _i == 2 ? 0 : 1);
}
END_TEST

static void
client_plain_peer(struct fx *f)
{
	struct cli c;
	struct resp r = {0};

	(void)f;
	CK(roundtrip(&c, "GET /peer HTTP/1.1\r\n\r\n", &r) == 0);
	CK(strcmp(r.body, "tls=0 peer=none v=0") == 0);
	cli_close(&c, &r);
}

START_TEST(test_tls_plain_listener_has_no_peer)
{
	start(NULL, NULL);
	run(client_plain_peer);
	ck_assert_int_eq(F->peer_seen, 0);
}
END_TEST

static void
client_tls11(struct fx *f)
{
	struct cli c;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	(void)f;
	/* Let this client really offer TLS 1.1 despite the system policy. */
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
	CK(cli_open(&c, F->port) == 0);
	CK(cli_tls(&c, ctx) != 1);
	CK(c.reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	cli_close(&c, NULL);
}

START_TEST(test_tls_11_refused)
{
	start(NULL, server_ctx(CS_TLS_VERIFY_NONE));
	run(client_tls11);
	ck_assert_int_eq(F->st.tls_failures, 1);
	ck_assert_int_eq(F->st.requests, 0);
}
END_TEST

static void
client_close_notify(struct fx *f)
{
	struct cli c;
	struct resp r = {0};

	(void)f;
	CK(cli_open(&c, F->port) == 0);
	CK(cli_tls(&c, cli_ctx(NULL, NULL, 0)) == 1);
	CK(cli_send(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n") ==
	   0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && hdr_is(&r, "Connection", "close"));
	CK(cli_eof(&c) == 2); /* close_notify, not a bare FIN */
	cli_close(&c, &r);
	/* the idle timeout closes with close_notify too */
	CK(cli_open(&c, F->port) == 0);
	CK(cli_tls(&c, cli_ctx(NULL, NULL, TLS1_2_VERSION)) == 1);
	CK(cli_send(&c, "GET /hello HTTP/1.1\r\n\r\n") == 0);
	CK(cli_resp(&c, &r, 0) == 0);
	CK(cli_eof(&c) == 2);
	cli_close(&c, &r);
}

START_TEST(test_tls_close_notify_sent)
{
	struct cs_http_config cfg = {.idle_timeout_ms = 200};

	start(&cfg, server_ctx(CS_TLS_VERIFY_NONE));
	run(client_close_notify);
}
END_TEST

/* ---- shutdown ---- */

static void
client_shutdown(struct fx *f)
{
	struct cli idle, slow, late;
	struct resp r = {0};
	uint64_t t0;

	CK(cli_open(&idle, F->port) == 0);
	if (f->tls_case)
		CK(cli_tls(&idle, cli_ctx(NULL, NULL, 0)) == 1);
	CK(cli_send(&idle, "GET /hello HTTP/1.1\r\n\r\n") == 0);
	CK(cli_resp(&idle, &r, 0) == 0 && r.status == 200);
	CK(cli_open(&slow, F->port) == 0);
	if (f->tls_case)
		CK(cli_tls(&slow, cli_ctx(NULL, NULL, 0)) == 1);
	t0 = mono_ms();
	CK(cli_send(&slow, "GET /slow HTTP/1.1\r\n\r\n") == 0);
	/* the idle connection goes at once, before the slow answer */
	CK(cli_eof(&idle) == (f->tls_case ? 2 : 1));
	CK(mono_ms() - t0 < 250);
	/* no new connections */
	CK(cli_open(&late, F->port) < 0 && errno == ECONNREFUSED);
	cli_close(&late, NULL);
	/* the request in flight finishes, then its connection closes */
	CK(cli_resp(&slow, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "slow") == 0);
	CK(hdr_is(&r, "Connection", "close"));
	CK(cli_eof(&slow) == (f->tls_case ? 2 : 1));
	cli_close(&slow, &r);
	cli_close(&idle, NULL);
}

START_TEST(test_server_graceful_shutdown)
{
	F->tls_case = _i;
	start(NULL, _i ? server_ctx(CS_TLS_VERIFY_NONE) : NULL);
	run(client_shutdown);
	ck_assert_int_eq(F->async_done, 1);
	ck_assert_int_eq(F->async_rc, 0);
	ck_assert_uint_ge(F->closed_at, F->answered_at);
	ck_assert_int_eq(F->st.requests_gone, 0);
}
END_TEST

static void
client_hold(struct fx *f)
{
	struct cli c;
	uint64_t t0;

	(void)f;
	CK(cli_open(&c, F->port) == 0);
	t0 = mono_ms();
	CK(cli_send(&c, "GET /hold HTTP/1.1\r\n\r\n") == 0);
	CK(cli_eof(&c) == 1); /* no answer: cut at the deadline */
	CK(mono_ms() - t0 >= 150 && mono_ms() - t0 < 1500);
	cli_close(&c, NULL);
}

START_TEST(test_server_shutdown_deadline)
{
	struct cs_http_config cfg = {.shutdown_timeout_ms = 200};

	start(&cfg, NULL);
	run(client_hold);
	ck_assert_int_eq(F->held_rc, CS_ECANCELED); /* answered after */
	ck_assert_int_eq(F->st.requests_gone, 1);
}
END_TEST

START_TEST(test_server_bad_bind)
{
	struct cs_http_config cfg = {.bind = "127.0.0.1:99999",
				     .handler = handler};
	struct cs_http_server *srv = NULL;
	char errmsg[CS_ERRMSG_SIZE] = "";

	ck_assert_int_eq(cs_http_server_new(&F->loop, &cfg, &srv, errmsg),
			 CS_EINVAL);
	cfg.bind = "nonsense";
	ck_assert_int_eq(cs_http_server_new(&F->loop, &cfg, &srv, errmsg),
			 CS_EINVAL);
	ck_assert_ptr_null(srv);
	ck_assert_int_eq(uv_run(&F->loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&F->loop), 0);
}
END_TEST

static Suite *
http_server_suite(void)
{
	Suite *s = suite_create("http_server");
	TCase *tc;

	tc = tcase_create("http");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_server_get_post_head);
	tcase_add_test(tc, test_server_expect_continue);
	tcase_add_test(tc, test_server_http10_keepalive);
	tcase_add_test(tc, test_server_pipeline_in_order);
	tcase_add_test(tc, test_server_caps_413_414_431);
	tcase_add_test(tc, test_server_max_conns_503);
	tcase_add_test(tc, test_server_bad_bind);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadlines");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_server_header_deadline_slowloris);
	tcase_add_test(tc, test_server_body_deadline);
	tcase_add_test(tc, test_server_idle_timeout);
	tcase_add_test(tc, test_server_write_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_server_client_gone_while_pending);
	tcase_add_test(tc, test_server_client_closes_while_pending);
	tcase_add_loop_test(tc, test_server_large_response_slow_reader, 0, 2);
	tcase_add_loop_test(tc, test_server_graceful_shutdown, 0, 2);
	tcase_add_test(tc, test_server_shutdown_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("tls");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_tls_required_client_cert, 0, 8);
	tcase_add_loop_test(tc, test_tls_optional_client_cert, 0, 3);
	tcase_add_test(tc, test_tls_plain_listener_has_no_peer);
	tcase_add_test(tc, test_tls_11_refused);
	tcase_add_test(tc, test_tls_close_notify_sent);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(http_server_suite)
