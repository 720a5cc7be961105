/*
 * http_fixture.h - the fixture of the HTTP server tests: a loop owned by
 * the test, a server on 127.0.0.1:0 with an example handler, a client
 * function run in a helper thread, a throwaway PKI. Tests only.
 *
 * The client thread never calls Check: CK() records its first failed
 * expectation in F->why and returns; cs_test_fx_run() joins the thread,
 * asserts no client failure, closes the server (exactly one close
 * callback, no connection left) and asserts uv_loop_close() == 0.
 *
 * Routes of the example handler (no REST here; just enough to drive the
 * server): /hello, /echo* (body, X-Method, X-Path raw, X-Query = decoded
 * q), /n (answers its raw query), /an (same, 20 ms later), /async (100 ms
 * later), /slow (300 ms later, and starts the server's close), /gone
 * (answers once the client is gone), /hold (kept until the server's close
 * callback, which starts now), /big (CS_TEST_FX_BIG bytes, taken), /peer
 * (TLS and client certificate seen), /reload (installs a REQUIRED TLS
 * context); anything else is a 404 problem.
 */
#ifndef CS_TEST_HTTP_FIXTURE_H
#define CS_TEST_HTTP_FIXTURE_H

#include <pthread.h>
#include <stdint.h>

#include "api/http.h"
#include "api/tls.h"
#include "tests/lib/http_client.h"

#define CS_TEST_FX_BIG (20u * 1024 * 1024)

struct cs_test_fx {
	uv_loop_t loop;
	struct cs_http_server *srv;
	uv_async_t done;
	pthread_t th;
	void (*client)(struct cs_test_fx *);
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
	int reload_rc;
	/* client side */
	int fails;
	char why[256];
	struct cs_test_pki pki;
};

/* The fixture of the running test (set by cs_test_fx_setup()). */
extern struct cs_test_fx *cs_test_fx;
#define F cs_test_fx

void cs_test_fx_fail(int line, const char *what);

#define CK(cond)                                                               \
	do {                                                                   \
		if (!(cond)) {                                                 \
			cs_test_fx_fail(__LINE__, #cond);                      \
			return;                                                \
		}                                                              \
	} while (0)

uint64_t cs_test_mono_ms(void);
void cs_test_sleep_ms(unsigned ms);

/* Checked fixture: loop, PKI, SIGPIPE ignored. */
void cs_test_fx_setup(void);
void cs_test_fx_teardown(void);

/* Starts the server; over may be NULL (defaults, shutdown deadline 2 s);
 * ctx (taken) NULL for plain. */
void cs_test_fx_start(const struct cs_http_config *over, SSL_CTX *ctx);
/* A server context from the PKI: ca1 for client certificates. */
SSL_CTX *cs_test_fx_server_ctx(enum cs_tls_verify v);
/* A client context trusting ca1, with an optional client certificate,
 * pinned to one protocol version unless version is 0. */
SSL_CTX *cs_test_fx_cli_ctx(const char *crt, const char *key, int version);
/* Runs client in a helper thread while the loop runs; see above. */
void cs_test_fx_run(void (*client)(struct cs_test_fx *));
/* One request, one response on a fresh plain connection. */
int cs_test_fx_roundtrip(struct cs_test_cli *c, const char *req,
    struct cs_test_resp *r);

#endif
