/* test_http_server.c - api/http.c and api/conn.c: the real server on
 * 127.0.0.1:0, its loop driven by the test, clients on blocking sockets
 * (or OpenSSL for the TLS variants) in a helper thread (fixture in
 * tests/lib/http_fixture.h). HTTP semantics, caps, deadlines, request
 * lifetime, backpressure and shutdown. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "api/http.h"
#include "api/tls.h"
#include "lib/error.h"
#include "tests/lib/http_client.h"
#include "tests/lib/http_fixture.h"
#include "tests/lib/runner.h"

/* ---- HTTP semantics ---- */

static void
client_basic(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};
	char v[64];

	(void)f;
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_send(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200);
	CK(strcmp(r.body, "hello") == 0);
	CK(cs_test_hdr_is(&r, "Content-Length", "5"));
	CK(cs_test_hdr(&r, "Date", v, sizeof v) && strstr(v, " GMT") != NULL);
	CK(!cs_test_hdr(&r, "Connection", v, sizeof v));
	/* POST with a decoded query parameter, same connection; header
	 * names in any case, values trimmed */
	CK(cs_test_cli_send(&c,
	       "POST /echo?q=a%2Fb+c HTTP/1.1\r\nhOST:  x  \r\n"
	       "content-length: 11\r\n\r\nhello world") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello world") == 0);
	CK(cs_test_hdr_is(&r, "X-Method", "POST"));
	CK(cs_test_hdr_is(&r, "X-Query", "a/b c"));
	CK(cs_test_hdr_is(&r, "X-Names", "hOST,content-length,"));
	CK(cs_test_hdr(&r, "X-Remote", v, sizeof v) &&
	    strncmp(v, "127.0.0.1:", 10) == 0 && atoi(v + 10) > 0);
	/* HEAD: same Content-Length, no body; the GET after it parses,
	 * so no body bytes were sent */
	CK(cs_test_cli_send(&c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n") ==
	    0);
	CK(cs_test_cli_resp(&c, &r, 1) == 0);
	CK(r.status == 200 && cs_test_hdr_is(&r, "Content-Length", "5"));
	CK(cs_test_cli_send(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello") == 0);
	/* chunked request body */
	CK(cs_test_cli_send(&c,
	       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	       "chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello world") == 0);
	/* the raw path: no decoding, no "//" collapsing (OCSP GET) */
	CK(cs_test_cli_send(&c,
	       "GET /echo/MEkw%2BRz//x+y%2F HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(cs_test_hdr_is(&r, "X-Path", "/echo/MEkw%2BRz//x+y%2F"));
	/* absolute-form target */
	CK(cs_test_cli_send(&c,
	       "GET http://x/echo/abs?q=1 HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(cs_test_hdr_is(&r, "X-Path", "/echo/abs") &&
	    cs_test_hdr_is(&r, "X-Query", "1"));
	/* a handler's problem answer */
	CK(cs_test_cli_send(&c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 404);
	CK(cs_test_hdr_is(&r, "Content-Type", "application/problem+json"));
	CK(strstr(r.body, "\"status\":404") != NULL);
	cs_test_cli_close(&c, &r);
}

START_TEST(test_server_get_post_head)
{
	cs_test_fx_start(NULL, NULL);
	cs_test_fx_run(client_basic);
	ck_assert_int_eq(F->st.requests, 8);
	ck_assert_int_eq(F->st.responses[2], 7);
	ck_assert_int_eq(F->st.responses[4], 1);
}
END_TEST

static void
client_continue(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};

	(void)f;
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_send(&c,
	       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	       "Expect: 100-continue\r\n\r\n") == 0);
	/* the body is not sent until 100 arrives (recv times out at 5 s) */
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 100);
	CK(cs_test_cli_send(&c, "hello") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello") == 0);
	cs_test_cli_close(&c, &r);
	/* too big: 413 before any body byte, then the connection ends */
	CK(cs_test_fx_roundtrip(&c,
	       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
	       "Expect: 100-continue\r\n\r\n",
	       &r) == 0);
	CK(r.status == 413);
	CK(cs_test_hdr_is(&r, "Connection", "close"));
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
	CK(cs_test_fx_roundtrip(&c,
	       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	       "Expect: teapot\r\n\r\n",
	       &r) == 0);
	CK(r.status == 417);
	cs_test_cli_close(&c, &r);
}

START_TEST(test_server_expect_continue)
{
	struct cs_http_config cfg = {.max_body = 1000};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_continue);
	ck_assert_int_eq(F->st.responses[1], 1);
	ck_assert_int_eq(F->handled, 1); /* the 413/417 never reached it */
}
END_TEST

static void
client_http10(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};

	(void)f;
	CK(cs_test_fx_roundtrip(&c, "GET /hello HTTP/1.0\r\n\r\n", &r) == 0);
	CK(r.status == 200 && strcmp(r.body, "hello") == 0);
	CK(cs_test_hdr_is(&r, "Connection", "close"));
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
	CK(cs_test_fx_roundtrip(&c,
	       "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	       &r) == 0);
	CK(r.status == 200 && cs_test_hdr_is(&r, "Connection", "keep-alive"));
	CK(cs_test_cli_send(&c,
	       "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200);
	cs_test_cli_close(&c, &r);
	CK(cs_test_fx_roundtrip(&c,
	       "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	       &r) == 0);
	CK(r.status == 200 && cs_test_hdr_is(&r, "Connection", "close"));
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
}

START_TEST(test_server_http10_keepalive)
{
	cs_test_fx_start(NULL, NULL);
	cs_test_fx_run(client_http10);
	ck_assert_int_eq(F->st.requests, 4);
}
END_TEST

#define NPIPE 300

static void
client_pipeline(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};
	char *all = malloc(NPIPE * 64);
	size_t len = 0;
	char want[32];

	(void)f;
	for (int i = 0; i < NPIPE; i++)
		len += (size_t)sprintf(all + len,
		    "GET /%s?i=%d HTTP/1.1\r\nHost: x\r\n\r\n",
		    i % 50 == 25 ? "an" : "n", i);
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_write(&c, all, len) == 0); /* one burst */
	free(all);
	for (int i = 0; i < NPIPE; i++) {
		snprintf(want, sizeof want, "i=%d", i);
		CK(cs_test_cli_resp(&c, &r, 0) == 0);
		CK(r.status == 200);
		CK(strcmp(r.body, want) == 0);
	}
	cs_test_cli_close(&c, &r);
}

START_TEST(test_server_pipeline_in_order)
{
	/* a small input cap: reading must stop and resume, not fail */
	struct cs_http_config cfg = {.max_pipeline = 1024};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_pipeline);
	ck_assert_int_eq(F->st.requests, NPIPE);
	ck_assert_int_eq(F->async_done, NPIPE / 50);
}
END_TEST

/* ---- caps ---- */

static void
client_caps(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};
	char big[4096];

	(void)f;
	/* 413 by Content-Length; the body follows at once */
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_send(&c, "POST /echo HTTP/1.1\r\nHost: "
				"x\r\nContent-Length: 2000\r\n\r\n") == 0);
	memset(big, 'b', 2000);
	CK(cs_test_cli_write(&c, big, 2000) == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 413);
	CK(cs_test_hdr_is(&r, "Content-Type", "application/problem+json"));
	CK(strstr(r.body, "\"status\":413") != NULL);
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
	/* 413 for a chunked body that grows past the cap */
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_send(&c, "POST /echo HTTP/1.1\r\nHost: "
				"x\r\nTransfer-Encoding: chunked\r\n"
				"\r\n400\r\n") == 0);
	memset(big, 'c', 1024);
	CK(cs_test_cli_write(&c, big, 1024) == 0);
	CK(cs_test_cli_send(&c, "\r\n400\r\n") == 0);
	CK(cs_test_cli_write(&c, big, 1024) == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 413);
	cs_test_cli_close(&c, &r);
	/* 414 */
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	strcpy(big + 300, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CK(cs_test_fx_roundtrip(&c, big, &r) == 0);
	CK(r.status == 414 && strstr(r.body, "\"status\":414") != NULL);
	cs_test_cli_close(&c, &r);
	/* 431 */
	memset(big, 'h', sizeof big);
	{
		const char *h = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ";

		memcpy(big, h, strlen(h));
	}
	strcpy(big + 2000, "\r\n\r\n");
	CK(cs_test_fx_roundtrip(&c, big, &r) == 0);
	CK(r.status == 431 && strstr(r.body, "\"status\":431") != NULL);
	cs_test_cli_close(&c, &r);
	/* 400: HTTP/1.1 needs Host */
	CK(cs_test_fx_roundtrip(&c, "GET /hello HTTP/1.1\r\n\r\n", &r) == 0);
	CK(r.status == 400 && strstr(r.body, "Host") != NULL);
	cs_test_cli_close(&c, &r);
	/* 400 */
	CK(cs_test_fx_roundtrip(&c, "GARBAGE\r\n\r\n", &r) == 0);
	CK(r.status == 400);
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
	/* just under the caps still works */
	CK(cs_test_fx_roundtrip(&c,
	       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
	       &r) == 0);
	CK(r.status == 200);
	cs_test_cli_close(&c, &r);
}

START_TEST(test_server_caps_413_414_431)
{
	struct cs_http_config cfg = {.max_body = 1000,
	    .max_url = 200,
	    .max_header_bytes = 1000};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_caps);
	ck_assert_int_eq(F->handled, 1);
	ck_assert_int_eq(F->st.responses[4], 6);
}
END_TEST

static void
client_max_conns(struct cs_test_fx *f)
{
	struct cs_test_cli a, b, c, d;
	struct cs_test_resp r = {0};
	uint64_t t0;

	(void)f;
	CK(cs_test_fx_roundtrip(&a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
	       &r) == 0);
	CK(r.status == 200);
	CK(cs_test_fx_roundtrip(&b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
	       &r) == 0);
	CK(r.status == 200);
	CK(cs_test_fx_roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
	       &r) == 0);
	CK(r.status == 503);
	CK(cs_test_hdr_is(&r, "Connection", "close"));
	CK(strstr(r.body, "\"status\":503") != NULL);
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
	/* a slot frees when a client leaves */
	cs_test_cli_close(&a, NULL);
	t0 = cs_test_mono_ms();
	do {
		cs_test_sleep_ms(20);
		CK(cs_test_fx_roundtrip(&d,
		       "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 0);
		cs_test_cli_close(&d, NULL);
	} while (r.status == 503 && cs_test_mono_ms() - t0 < 2000);
	CK(r.status == 200);
	cs_test_cli_close(&b, &r);
}

START_TEST(test_server_max_conns_503)
{
	struct cs_http_config cfg = {.max_conns = 2};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_max_conns);
	ck_assert_int_ge(F->st.conns_rejected, 1);
	ck_assert_int_eq(F->st.responses[5], F->st.conns_rejected);
}
END_TEST

/* ---- deadlines ---- */

static void
client_slowloris(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};
	struct pollfd p;
	uint64_t t0;
	int sent = 0;

	(void)f;
	CK(cs_test_cli_open(&c, F->port) == 0);
	t0 = cs_test_mono_ms();
	CK(cs_test_cli_send(&c, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ") ==
	    0);
	/* one byte every 50 ms: far faster than any idle timeout */
	for (;;) {
		p.fd = c.fd;
		p.events = POLLIN;
		if (poll(&p, 1, 50) == 1)
			break;
		CK(cs_test_mono_ms() - t0 < 3000);
		if (cs_test_cli_send(&c, "a") < 0)
			break;
		sent++;
	}
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 408);
	CK(cs_test_mono_ms() - t0 >= 250 && cs_test_mono_ms() - t0 < 1500);
	CK(sent >= 3);
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
}

START_TEST(test_server_header_deadline_slowloris)
{
	struct cs_http_config cfg = {.header_timeout_ms = 300,
	    .idle_timeout_ms = 60000};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_slowloris);
	ck_assert_int_eq(F->st.timeouts, 1);
	ck_assert_int_eq(F->handled, 0);
}
END_TEST

static void
client_body_deadline(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};
	uint64_t t0;

	(void)f;
	CK(cs_test_cli_open(&c, F->port) == 0);
	t0 = cs_test_mono_ms();
	CK(cs_test_cli_send(&c,
	       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
	       "0123456789") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 408);
	CK(strstr(r.body, "body") != NULL);
	CK(cs_test_mono_ms() - t0 >= 250 && cs_test_mono_ms() - t0 < 1500);
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
}

START_TEST(test_server_body_deadline)
{
	struct cs_http_config cfg = {.body_timeout_ms = 300};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_body_deadline);
	ck_assert_int_eq(F->st.timeouts, 1);
}
END_TEST

static void
client_idle(struct cs_test_fx *f)
{
	struct cs_test_cli c, s;
	struct cs_test_resp r = {0};
	uint64_t t0;

	(void)f;
	CK(cs_test_cli_open(&s, F->port) == 0); /* never sends a byte */
	CK(cs_test_fx_roundtrip(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
	       &r) == 0);
	CK(r.status == 200);
	t0 = cs_test_mono_ms();
	CK(cs_test_cli_eof(&c) == 1); /* closed quietly, no 408 */
	CK(cs_test_mono_ms() - t0 >= 150 && cs_test_mono_ms() - t0 < 1500);
	CK(cs_test_cli_eof(&s) == 1); /* the header deadline covers silence */
	cs_test_cli_close(&c, &r);
	cs_test_cli_close(&s, NULL);
}

START_TEST(test_server_idle_timeout)
{
	struct cs_http_config cfg = {.idle_timeout_ms = 200,
	    .header_timeout_ms = 400};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_idle);
	ck_assert_int_eq(F->st.responses[4], 0);
}
END_TEST

/* ---- the client leaves while its request is pending ---- */

static void
client_reset(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct linger l = {1, 0};

	(void)f;
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_send(&c, "GET /gone HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	cs_test_sleep_ms(100);
	setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	cs_test_cli_close(&c, NULL); /* RST */
	cs_test_sleep_ms(100);
}

START_TEST(test_server_client_gone_while_pending)
{
	cs_test_fx_start(NULL, NULL);
	cs_test_fx_run(client_reset);
	ck_assert_int_eq(F->gone_seen, 1);
	ck_assert_int_eq(F->gone_rc, CS_ECANCELED);
	ck_assert_int_eq(F->st.requests_gone, 1);
}
END_TEST

static void
client_half_close(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};

	(void)f;
	/* FIN after the request: the answer still comes */
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_send(&c, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	shutdown(c.fd, SHUT_WR);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "async") == 0);
	CK(cs_test_cli_eof(&c) == 1);
	cs_test_cli_close(&c, &r);
	/* full close with the request pending: the late answer is safe */
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_send(&c, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	cs_test_cli_close(&c, NULL);
	cs_test_sleep_ms(300);
}

START_TEST(test_server_client_closes_while_pending)
{
	cs_test_fx_start(NULL, NULL);
	cs_test_fx_run(client_half_close);
	ck_assert_int_eq(F->async_done, 2);
}
END_TEST

/* ---- large response, slow reader ---- */

static void
client_big(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};

	CK(cs_test_cli_open(&c, F->port) == 0);
	if (f->tls_case)
		CK(cs_test_cli_tls(&c, cs_test_fx_cli_ctx(NULL, NULL, 0)) == 1);
	c.slow_us = 1500;
	CK(cs_test_cli_send(&c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && r.body_len == CS_TEST_FX_BIG);
	for (size_t i = 0; i < CS_TEST_FX_BIG; i++)
		CK((uint8_t)r.body[i] == (uint8_t)(i * 131 + 7));
	cs_test_cli_close(&c, &r);
}

START_TEST(test_server_large_response_slow_reader)
{
	F->tls_case = _i;
	cs_test_fx_start(NULL,
	    _i ? cs_test_fx_server_ctx(CS_TLS_VERIFY_NONE) : NULL);
	cs_test_fx_run(client_big);
	/* the reader was slower than the writer (the queue filled), and
	 * the server never queued much more than its high-water mark */
	ck_assert_uint_ge(F->st.write_queue_peak, CS_HTTP_WRITE_HIGH_WATER / 2);
	ck_assert_uint_le(F->st.write_queue_peak,
	    CS_HTTP_WRITE_HIGH_WATER + 2 * 64 * 1024);
}
END_TEST

static void
client_no_reader(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	char b[65536];
	size_t total = 0;
	ssize_t n;

	(void)f;
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_send(&c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	cs_test_sleep_ms(1200); /* read nothing */
	while ((n = recv(c.fd, b, sizeof b, 0)) > 0)
		total += (size_t)n;
	CK(total < CS_TEST_FX_BIG); /* cut off, not delivered */
	cs_test_cli_close(&c, NULL);
}

START_TEST(test_server_write_deadline)
{
	struct cs_http_config cfg = {.write_timeout_ms = 300};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_no_reader);
	ck_assert_int_eq(F->st.timeouts, 1);
}
END_TEST

/* ---- shutdown ---- */

static void
client_shutdown(struct cs_test_fx *f)
{
	struct cs_test_cli idle, slow, late;
	struct cs_test_resp r = {0};
	uint64_t t0;

	CK(cs_test_cli_open(&idle, F->port) == 0);
	if (f->tls_case)
		CK(cs_test_cli_tls(&idle, cs_test_fx_cli_ctx(NULL, NULL, 0)) ==
		    1);
	CK(cs_test_cli_send(&idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") ==
	    0);
	CK(cs_test_cli_resp(&idle, &r, 0) == 0 && r.status == 200);
	CK(cs_test_cli_open(&slow, F->port) == 0);
	if (f->tls_case)
		CK(cs_test_cli_tls(&slow, cs_test_fx_cli_ctx(NULL, NULL, 0)) ==
		    1);
	t0 = cs_test_mono_ms();
	CK(cs_test_cli_send(&slow, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n") ==
	    0);
	/* the idle connection goes at once, before the slow answer */
	CK(cs_test_cli_eof(&idle) == (f->tls_case ? 2 : 1));
	CK(cs_test_mono_ms() - t0 < 250);
	/* no new connections */
	CK(cs_test_cli_open(&late, F->port) < 0 && errno == ECONNREFUSED);
	cs_test_cli_close(&late, NULL);
	/* the request in flight finishes, then its connection closes */
	CK(cs_test_cli_resp(&slow, &r, 0) == 0);
	CK(r.status == 200 && strcmp(r.body, "slow") == 0);
	CK(cs_test_hdr_is(&r, "Connection", "close"));
	CK(cs_test_cli_eof(&slow) == (f->tls_case ? 2 : 1));
	cs_test_cli_close(&slow, &r);
	cs_test_cli_close(&idle, NULL);
}

START_TEST(test_server_graceful_shutdown)
{
	F->tls_case = _i;
	cs_test_fx_start(NULL,
	    _i ? cs_test_fx_server_ctx(CS_TLS_VERIFY_NONE) : NULL);
	cs_test_fx_run(client_shutdown);
	ck_assert_int_eq(F->async_done, 1);
	ck_assert_int_eq(F->async_rc, 0);
	ck_assert_uint_ge(F->closed_at, F->answered_at);
	ck_assert_int_eq(F->st.requests_gone, 0);
}
END_TEST

static void
client_hold(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	uint64_t t0;

	(void)f;
	CK(cs_test_cli_open(&c, F->port) == 0);
	t0 = cs_test_mono_ms();
	CK(cs_test_cli_send(&c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_eof(&c) == 1); /* no answer: cut at the deadline */
	CK(cs_test_mono_ms() - t0 >= 150 && cs_test_mono_ms() - t0 < 1500);
	cs_test_cli_close(&c, NULL);
}

START_TEST(test_server_shutdown_deadline)
{
	struct cs_http_config cfg = {.shutdown_timeout_ms = 200};

	cs_test_fx_start(&cfg, NULL);
	cs_test_fx_run(client_hold);
	ck_assert_int_eq(F->held_rc, CS_ECANCELED); /* answered after */
	ck_assert_int_eq(F->st.requests_gone, 1);
}
END_TEST

static void
no_handler(struct cs_http_req *req, void *data)
{
	(void)data;
	cs_http_respond(req, 500, NULL, 0, NULL, 0);
}

static void
client_nothing(struct cs_test_fx *f)
{
	(void)f;
}

START_TEST(test_server_bad_bind)
{
	struct cs_http_config cfg = {.bind = "127.0.0.1:99999",
	    .handler = no_handler};
	char bind[32];
	struct cs_http_server *srv = NULL;
	char errmsg[CS_ERRMSG_SIZE] = "";

	ck_assert_int_eq(cs_http_server_new(&F->loop, &cfg, &srv, errmsg),
	    CS_EINVAL);
	cfg.bind = "nonsense";
	ck_assert_int_eq(cs_http_server_new(&F->loop, &cfg, &srv, errmsg),
	    CS_EINVAL);
	cfg.bind = "[::1]:80:";
	ck_assert_int_eq(cs_http_server_new(&F->loop, &cfg, &srv, errmsg),
	    CS_EINVAL);
	ck_assert_ptr_null(srv);
	/* a port in use: the half-made listener frees itself on the loop */
	cs_test_fx_start(NULL, NULL);
	snprintf(bind, sizeof bind, "127.0.0.1:%d", F->port);
	cfg.bind = bind;
	ck_assert_int_eq(cs_http_server_new(&F->loop, &cfg, &srv, errmsg),
	    CS_EEXIST);
	ck_assert_ptr_null(srv);
	ck_assert_ptr_nonnull(strstr(errmsg, "address already in use"));
	cs_test_fx_run(client_nothing);
}
END_TEST

static Suite *
http_server_suite(void)
{
	Suite *s = suite_create("http_server");
	TCase *tc;

	tc = tcase_create("http");
	tcase_add_checked_fixture(tc, cs_test_fx_setup, cs_test_fx_teardown);
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
	tcase_add_checked_fixture(tc, cs_test_fx_setup, cs_test_fx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_server_header_deadline_slowloris);
	tcase_add_test(tc, test_server_body_deadline);
	tcase_add_test(tc, test_server_idle_timeout);
	tcase_add_test(tc, test_server_write_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_add_checked_fixture(tc, cs_test_fx_setup, cs_test_fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_server_client_gone_while_pending);
	tcase_add_test(tc, test_server_client_closes_while_pending);
	tcase_add_loop_test(tc, test_server_large_response_slow_reader, 0, 2);
	tcase_add_loop_test(tc, test_server_graceful_shutdown, 0, 2);
	tcase_add_test(tc, test_server_shutdown_deadline);
	suite_add_tcase(s, tc);

	return s;
}

CS_TEST_MAIN(http_server_suite)
