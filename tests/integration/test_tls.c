/* test_tls.c - api/tls.c through the real server: client certificate
 * policies per listener (none / foreign CA / expired / good, TLS 1.2 and
 * 1.3), the alert on failure, protocol floor, close_notify, context
 * reload, and the client side's server-name check. Fixture in
 * tests/lib/http_fixture.h. */
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

/* ---- TLS ---- */

/* _i: 0 no cert, 1 foreign CA, 2 expired, 3 good; +4 for TLS 1.2. */
static void
client_required(struct cs_test_fx *f)
{
	const char *certs[4] = {NULL, F->pki.other_crt, F->pki.old_crt,
	    F->pki.good_crt};
	const char *keys[4] = {NULL, F->pki.other_key, F->pki.old_key,
	    F->pki.good_key};
	int k = f->tls_case % 4;
	int ver = f->tls_case >= 4 ? TLS1_2_VERSION : TLS1_3_VERSION;
	struct cs_test_cli c;
	struct cs_test_resp r = {0};
	int rc;

	CK(cs_test_cli_open(&c, F->port) == 0);
	rc = cs_test_cli_tls(&c, cs_test_fx_cli_ctx(certs[k], keys[k], ver));
	if (k == 3) {
		CK(rc == 1);
		CK(cs_test_cli_send(&c,
		       "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
		CK(cs_test_cli_resp(&c, &r, 0) == 0);
		CK(r.status == 200);
		CK(strcmp(r.body, "tls=1 peer=good-client v=1") == 0);
		cs_test_cli_close(&c, &r);
		return;
	}
	/* TLS 1.3 clients finish their side first and meet the alert on
	 * the first read */
	if (rc == 1) {
		if (cs_test_cli_send(&c,
			"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n") == 0)
			CK(cs_test_cli_resp(&c, &r, 0) < 0);
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
	cs_test_cli_close(&c, &r);
}

START_TEST(test_tls_required_client_cert)
{
	F->tls_case = _i;
	cs_test_fx_start(NULL, cs_test_fx_server_ctx(CS_TLS_VERIFY_REQUIRED));
	cs_test_fx_run(client_required);
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
client_optional(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};
	int k = f->tls_case;
	int rc;

	CK(cs_test_cli_open(&c, F->port) == 0);
	rc = cs_test_cli_tls(&c,
	    k == 0 ? cs_test_fx_cli_ctx(NULL, NULL, 0)
	    : k == 1
		? cs_test_fx_cli_ctx(F->pki.good_crt, F->pki.good_key, 0)
		: cs_test_fx_cli_ctx(F->pki.other_crt, F->pki.other_key, 0));
	if (rc == 1 &&
	    cs_test_cli_send(&c, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n") == 0)
		rc = cs_test_cli_resp(&c, &r, 0) == 0 ? 1 : -1;
	if (k == 2) {
		CK(rc != 1 && c.reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA);
	} else {
		CK(rc == 1 && r.status == 200);
		CK(strcmp(r.body, k == 0 ? "tls=1 peer=none v=0"
					 : "tls=1 peer=good-client v=1") == 0);
	}
	cs_test_cli_close(&c, &r);
}

START_TEST(test_tls_optional_client_cert)
{
	F->tls_case = _i;
	cs_test_fx_start(NULL, cs_test_fx_server_ctx(CS_TLS_VERIFY_OPTIONAL));
	cs_test_fx_run(client_optional);
	ck_assert_int_eq(F->handled, _i == 2 ? 0 : 1);
}
END_TEST

static void
client_plain_peer(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};

	(void)f;
	CK(cs_test_fx_roundtrip(&c, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n",
	       &r) == 0);
	CK(strcmp(r.body, "tls=0 peer=none v=0") == 0);
	cs_test_cli_close(&c, &r);
}

START_TEST(test_tls_plain_listener_has_no_peer)
{
	cs_test_fx_start(NULL, NULL);
	cs_test_fx_run(client_plain_peer);
	ck_assert_int_eq(F->peer_seen, 0);
}
END_TEST

static void
client_tls11(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	(void)f;
	/* Let this client really offer TLS 1.1 despite the system policy. */
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_tls(&c, ctx) != 1);
	CK(c.reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	cs_test_cli_close(&c, NULL);
}

START_TEST(test_tls_11_refused)
{
	cs_test_fx_start(NULL, cs_test_fx_server_ctx(CS_TLS_VERIFY_NONE));
	cs_test_fx_run(client_tls11);
	ck_assert_int_eq(F->st.tls_failures, 1);
	ck_assert_int_eq(F->st.requests, 0);
}
END_TEST

static void
client_close_notify(struct cs_test_fx *f)
{
	struct cs_test_cli c;
	struct cs_test_resp r = {0};

	(void)f;
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_tls(&c, cs_test_fx_cli_ctx(NULL, NULL, 0)) == 1);
	CK(cs_test_cli_send(&c,
	       "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") ==
	    0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(r.status == 200 && cs_test_hdr_is(&r, "Connection", "close"));
	CK(cs_test_cli_eof(&c) == 2); /* close_notify, not a bare FIN */
	cs_test_cli_close(&c, &r);
	/* the idle timeout closes with close_notify too */
	CK(cs_test_cli_open(&c, F->port) == 0);
	CK(cs_test_cli_tls(&c,
	       cs_test_fx_cli_ctx(NULL, NULL, TLS1_2_VERSION)) == 1);
	CK(cs_test_cli_send(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&c, &r, 0) == 0);
	CK(cs_test_cli_eof(&c) == 2);
	cs_test_cli_close(&c, &r);
}

START_TEST(test_tls_close_notify_sent)
{
	struct cs_http_config cfg = {.idle_timeout_ms = 200};

	cs_test_fx_start(&cfg, cs_test_fx_server_ctx(CS_TLS_VERIFY_NONE));
	cs_test_fx_run(client_close_notify);
}
END_TEST

static void
client_reload(struct cs_test_fx *f)
{
	struct cs_test_cli a, b;
	struct cs_test_resp r = {0};

	(void)f;
	CK(cs_test_cli_open(&a, F->port) == 0);
	CK(cs_test_cli_tls(&a, cs_test_fx_cli_ctx(NULL, NULL, 0)) == 1);
	CK(cs_test_cli_send(&a, "GET /reload HTTP/1.1\r\nHost: x\r\n\r\n") ==
	    0);
	CK(cs_test_cli_resp(&a, &r, 0) == 0 && r.status == 200);
	/* a new connection meets the new policy */
	CK(cs_test_cli_open(&b, F->port) == 0);
	if (cs_test_cli_tls(&b,
		cs_test_fx_cli_ctx(NULL, NULL, TLS1_2_VERSION)) == 1)
		CK(0);
	CK(b.reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
	cs_test_cli_close(&b, NULL);
	CK(cs_test_cli_open(&b, F->port) == 0);
	CK(cs_test_cli_tls(&b,
	       cs_test_fx_cli_ctx(F->pki.good_crt, F->pki.good_key, 0)) == 1);
	CK(cs_test_cli_send(&b, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&b, &r, 0) == 0 && r.status == 200);
	cs_test_cli_close(&b, NULL);
	/* the old connection keeps its session */
	CK(cs_test_cli_send(&a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n") == 0);
	CK(cs_test_cli_resp(&a, &r, 0) == 0 && r.status == 200);
	cs_test_cli_close(&a, &r);
}

START_TEST(test_tls_reload_context)
{
	cs_test_fx_start(NULL, cs_test_fx_server_ctx(CS_TLS_VERIFY_NONE));
	cs_test_fx_run(client_reload);
	ck_assert_int_eq(F->reload_rc, 0);
	ck_assert_int_eq(F->peer_verified, 1);
}
END_TEST

/* cs_tls_client_ssl_new() checks the server's name: _i 0 "127.0.0.1"
 * (IP SAN), 1 "localhost" (DNS SAN), 2 "other.example" (refused). */
static void
client_server_name(struct cs_test_fx *f)
{
	static const char *const hosts[] = {"127.0.0.1", "localhost",
	    "other.example"};
	char errmsg[CS_ERRMSG_SIZE] = "";
	SSL_CTX *ctx = cs_test_fx_cli_ctx(NULL, NULL, 0);
	struct cs_test_cli c;
	int rc;

	CK(ctx != NULL);
	CK(cs_test_cli_open(&c, F->port) == 0);
	c.ssl = cs_tls_client_ssl_new(ctx, hosts[f->tls_case], errmsg);
	SSL_CTX_free(ctx);
	CK(c.ssl != NULL);
	SSL_set_fd(c.ssl, c.fd);
	rc = SSL_connect(c.ssl);
	if (f->tls_case < 2) {
		CK(rc == 1);
		CK(SSL_get_verify_result(c.ssl) == X509_V_OK);
	} else {
		CK(rc != 1);
		CK(SSL_get_verify_result(c.ssl) ==
		    X509_V_ERR_HOSTNAME_MISMATCH);
	}
	cs_test_cli_close(&c, NULL);
}

START_TEST(test_tls_client_checks_server_name)
{
	F->tls_case = _i;
	cs_test_fx_start(NULL, cs_test_fx_server_ctx(CS_TLS_VERIFY_NONE));
	cs_test_fx_run(client_server_name);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc;

	tc = tcase_create("client_cert");
	tcase_add_checked_fixture(tc, cs_test_fx_setup, cs_test_fx_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_tls_required_client_cert, 0, 8);
	tcase_add_loop_test(tc, test_tls_optional_client_cert, 0, 3);
	tcase_add_test(tc, test_tls_plain_listener_has_no_peer);
	tcase_add_test(tc, test_tls_11_refused);
	tcase_add_test(tc, test_tls_close_notify_sent);
	tcase_add_test(tc, test_tls_reload_context);
	tcase_add_loop_test(tc, test_tls_client_checks_server_name, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(tls_suite)
