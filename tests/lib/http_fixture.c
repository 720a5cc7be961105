/* http_fixture.c - the HTTP server test fixture (contract in
 * http_fixture.h): example handler, loop driver, TLS contexts. */
#include "tests/lib/http_fixture.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"

struct cs_test_fx *cs_test_fx;

void
cs_test_fx_fail(int line, const char *what)
{
	if (F->fails++ == 0)
		snprintf(F->why, sizeof F->why, "client line %d: %s", line,
		    what);
}

uint64_t
cs_test_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
cs_test_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

void
cs_test_fx_setup(void)
{
	signal(SIGPIPE, SIG_IGN); /* as certstored does */
	F = calloc(1, sizeof *F);
	ck_assert_int_eq(uv_loop_init(&F->loop), 0);
	cs_test_pki_make(&F->pki);
}

void
cs_test_fx_teardown(void)
{
	cs_test_pki_remove(&F->pki);
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
		char *names;
		struct cs_http_header h[5] = {
		    {"X-Method", cs_http_req_method(req)},
		    {"X-Path", path},
		    {"X-Query", qv},
		    {"X-Names", ""},
		    {"X-Remote", cs_http_req_remote_text(req)},
		};

		if (cs_http_req_query_param(req, "q", &v) == 0)
			snprintf(qv, sizeof qv, "%s", v);
		/* the arena: a big block between small ones (ASan checks) */
		memset(cs_http_req_alloc(req, 24), 0xa5, 24);
		memset(cs_http_req_alloc(req, 10000), 0xa5, 10000);
		names = cs_http_req_alloc(req, 1024);
		names[0] = '\0';
		for (size_t i = 0; i < cs_http_req_header_count(req); i++) {
			const char *name;
			const char *value;

			cs_http_req_header_at(req, i, &name, &value);
			if (strlen(names) + strlen(name) + 2 < 1024)
				strcat(strcat(names, name), ",");
		}
		h[3].value = names;
		cs_http_respond(req, 200, h, 5, body, len);
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
		size_t n = CS_TEST_FX_BIG;
		uint8_t *b = malloc(n);

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)(i * 131 + 7);
		cs_http_respond_take(req, 200, NULL, 0, b, n);
	} else if (strcmp(path, "/reload") == 0) {
		/* what SIGHUP does: new context for new connections */
		SSL_CTX *ctx = cs_test_fx_server_ctx(CS_TLS_VERIFY_REQUIRED);

		F->reload_rc = cs_http_server_set_ssl_ctx(F->srv, ctx);
		SSL_CTX_free(ctx);
		cs_http_respond(req, 200, text, 1, "reloaded", 8);
	} else if (strcmp(path, "/peer") == 0) {
		int verified = -1;
		X509 *x = cs_http_req_peer_cert(req, &verified);

		F->peer_seen = x != NULL;
		F->peer_verified = verified;
		if (x != NULL)
			X509_NAME_get_text_by_NID(X509_get_subject_name(x),
			    NID_commonName, F->peer_cn, sizeof F->peer_cn);
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
	struct cs_test_fx *f = arg;

	f->client(f);
	uv_async_send(&f->done);
	return NULL;
}

void
cs_test_fx_start(const struct cs_http_config *over, SSL_CTX *ctx)
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

SSL_CTX *
cs_test_fx_server_ctx(enum cs_tls_verify v)
{
	char errmsg[CS_ERRMSG_SIZE] = "";
	SSL_CTX *ctx = cs_tls_server_ctx_new(F->pki.srv_crt, F->pki.srv_key,
	    v == CS_TLS_VERIFY_NONE ? NULL : F->pki.ca1, v, errmsg);

	ck_assert_msg(ctx != NULL, "%s", errmsg);
	return ctx;
}

/* Runs the client in a thread while the loop runs here; then the server
 * closes and the loop must end with nothing left on it. */
void
cs_test_fx_run(void (*client)(struct cs_test_fx *))
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

SSL_CTX *
cs_test_fx_cli_ctx(const char *crt, const char *key, int version)
{
	char errmsg[CS_ERRMSG_SIZE] = "";
	SSL_CTX *ctx = cs_tls_client_ctx_new(F->pki.ca1, crt, key, errmsg);

	if (ctx != NULL && version != 0) {
		SSL_CTX_set_min_proto_version(ctx, version);
		SSL_CTX_set_max_proto_version(ctx, version);
	}
	return ctx;
}

/* One request, one response on a fresh connection. */
int
cs_test_fx_roundtrip(struct cs_test_cli *c, const char *req,
    struct cs_test_resp *r)
{
	if (cs_test_cli_open(c, F->port) < 0 || cs_test_cli_send(c, req) < 0)
		return -1;
	return cs_test_cli_resp(c, r, 0);
}
