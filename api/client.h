/*
 * client.h - outgoing HTTP(S) requests on the node's libuv loop.
 *
 * Used by the follower-to-leader forwarder (node-to-node mutual TLS) and,
 * later, webhooks and endpoint discovery. One struct cs_client owns one
 * libcurl multi handle whose sockets and timer are driven by the caller's
 * loop: one uv_poll_t per socket libcurl asks to watch, a uv_timer_t for
 * libcurl's timeouts (curl_multi_socket_action) and one for the request
 * deadlines. Nothing blocks the loop and no thread is started for numeric
 * addresses (host names go through libcurl's threaded resolver). An idle
 * client keeps no handle active, so it never holds the loop open.
 *
 * Fixed policy, the same for every request:
 *   - HTTP/1.1 only; the http and https schemes only; no redirects followed
 *     (a 3xx is a response like any other); no proxy (the *_proxy
 *     environment variables are ignored); no signals; no cookies, no netrc.
 *   - TLS 1.2 or later. The server's chain is verified against
 *     cfg->ca_file only (never the system store), and its name against the
 *     URL host, or against req->peer_name when set (DNS name or IP address,
 *     as OpenSSL's host and IP checks do). The client certificate, when
 *     configured, is presented on every connection.
 *   - Connections are kept alive and reused: at most max_host_connections
 *     to one host and port (and peer name), max_connections in all. Requests
 *     beyond that wait in libcurl's queue for a free connection.
 *   - A request's timeout bounds all of it, time spent queued for a
 *     connection included; the connect timeout bounds TCP + TLS setup.
 *   - Caps: the response body (max_body, CS_ETOOBIG), the response headers
 *     (CS_CLIENT_MAX_HEADER_BYTES), requests in flight (max_requests,
 *     CS_EBUSY at send), request headers (CS_CLIENT_MAX_REQ_HEADERS).
 *
 * Client lifecycle (libuv rules, STYLE.md section 1):
 *
 *     cs_client_new() --> OPEN --cs_client_close(cb)--> CLOSING
 *                                                           |
 *                        freed <-- cb(c) <-- last handle closed
 *
 *   cs_client_close() cancels every request still in flight, closes every
 *   uv handle of the client, then calls each cancelled request's callback
 *   with CS_ECANCELED (once), then cb, then frees the client. After cb the
 *   client holds no uv handle, so uv_loop_close() can return 0.
 *
 * Request lifecycle (state in the private section):
 *
 *     IDLE --cs_client_send()=0--> ACTIVE --response/error/cancel--> DONE
 *      ^                                                              |
 *      +-------------- cs_client_req_reset() or cs_client_send() ----+
 *
 *   | transition    | function                                          |
 *   |---------------|---------------------------------------------------|
 *   | IDLE->ACTIVE  | cs_client_send() returning 0                      |
 *   | ACTIVE->DONE  | the client, just before calling the callback      |
 *   | DONE->IDLE    | cs_client_req_reset()                             |
 *   | DONE->ACTIVE  | cs_client_send() (also from inside the callback)  |
 *
 *   If cs_client_send() returns an error the callback is never called; if
 *   it returns 0 the callback is called exactly once, never from inside
 *   cs_client_send() or cs_client_close(), always from the loop.
 *
 * Re-entrancy: a callback may call cs_client_send() (with this or another
 * request), cs_client_close(), free its request, or run anything else on
 * the loop. The client touches neither the request nor the response views
 * after the callback returns.
 *
 * libcurl's global state: cs_client_new() takes a reference
 * (curl_global_init()) and the freeing of the client drops it
 * (curl_global_cleanup()); both are counted by libcurl. Loop thread only.
 */
#ifndef CS_CLIENT_H
#define CS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "lib/error.h"

/* Response headers kept per request (names and values), beyond: CS_ETOOBIG. */
#define CS_CLIENT_MAX_HEADER_BYTES (64 * 1024)
/* Request headers per request, and bytes per request header line. */
#define CS_CLIENT_MAX_REQ_HEADERS  64
#define CS_CLIENT_MAX_REQ_HEADER   8192

struct cs_client; /* opaque */
struct cs_client__xfer;

/* Borrowed by cs_client_new(); the strings are copied. 0 means the default
 * given on each field. */
struct cs_client_config {
	const char *ca_file;   /* PEM trust anchors for servers; required */
	const char *cert_file; /* PEM client certificate (+ chain), or NULL */
	const char *key_file;  /* PEM key of cert_file; NULL iff cert_file is */
	uint64_t connect_timeout_ms;   /* TCP + TLS handshake; 0: 5000 */
	uint64_t timeout_ms;           /* whole request, by default; 0: 30000 */
	unsigned max_host_connections; /* per host:port; 0: 4 */
	unsigned max_connections;      /* in all, kept alive too; 0: 16 */
	size_t max_body;               /* response body cap; 0: 1 MiB */
	unsigned max_requests;         /* in flight, queued too; 0: 1024 */
};

enum cs_client_method {
	CS_CLIENT_METHOD_GET = 0,
	CS_CLIENT_METHOD_HEAD,
	CS_CLIENT_METHOD_POST,
	CS_CLIENT_METHOD_PUT,
	CS_CLIENT_METHOD_PATCH,
	CS_CLIENT_METHOD_DELETE,
	CS_CLIENT_METHOD__MAX
};

/* The private state of a request (see the diagram above). */
enum cs_client_req_state {
	CS_CLIENT_REQ_IDLE = 0,
	CS_CLIENT_REQ_ACTIVE,
	CS_CLIENT_REQ_DONE,
	CS_CLIENT_REQ__MAX
};

struct cs_client_req;

/* status: 0 when an HTTP response arrived (any HTTP status: read
 * req->http_status), else CS_ETIMEDOUT, CS_EIO (connect, TLS or protocol
 * failure; libcurl's text is in req->errmsg), CS_ETOOBIG (response over a
 * cap) or CS_ECANCELED (cs_client_close()). */
typedef void (*cs_client_cb)(struct cs_client_req *req, int status);
/* c is valid during the call and freed right after it returns. */
typedef void (*cs_client_close_cb)(struct cs_client *c);

/*
 * A request, allocated by the caller (embed it, or malloc it and free it in
 * its callback). A zeroed struct is an IDLE GET; cs_client_req_init() zeroes.
 * The struct itself is borrowed by cs_client_send() until the callback.
 */
struct cs_client_req {
	/* in: set before cs_client_send() */
	void *data;                   /* the user's; never touched */
	enum cs_client_method method; /* GET and HEAD take no body */
	const char *url;              /* absolute http(s) URL; copied at send */
	const char *const *headers;   /* "Name: value" lines, no CR/LF; */
	size_t nheaders;              /*   copied at send */
	const void *body;             /* borrowed until the callback */
	size_t body_len;
	uint64_t timeout_ms;   /* whole request; 0: the client's default */
	const char *peer_name; /* name or IP the server's certificate must
				  carry, when not the URL host; NULL: the URL
				  host. Copied at send. */

	/* out: set before the callback (errmsg also on a failed send). The
	 * views are valid until the callback returns, or until
	 * cs_client_req_reset() or cs_client_send() on this request. */
	int http_status;             /* 0 unless status 0 */
	const uint8_t *resp;         /* view: body, NUL-terminated; never NULL
					in the callback of status 0 */
	size_t resp_len;             /* bytes, the NUL not counted */
	char errmsg[CS_ERRMSG_SIZE]; /* "" unless the status is an error */

	/* private */
	int state; /* CS_CLIENT_REQ_* */
	cs_client_cb cb;
	struct cs_client__xfer *xfer; /* ACTIVE: in flight; DONE: the one
					 whose callback runs */
};

/* Returns new (close with cs_client_close()), or NULL with the reason in
 * errmsg (nullable, CS_ERRMSG_SIZE bytes) when the config is invalid or its
 * files do not load (checked here, not at the first connection). Borrows
 * cfg; keeps loop, which must outlive the client. */
struct cs_client *cs_client_new(uv_loop_t *loop,
    const struct cs_client_config *cfg, char *errmsg);

/* Starts the asynchronous close described at the top. cb may be NULL.
 * Idempotent: a second call does nothing (its cb is not called). */
void cs_client_close(struct cs_client *c, cs_client_close_cb cb);

void cs_client_set_data(struct cs_client *c, void *data);
void *cs_client_get_data(const struct cs_client *c);

/* Requests in flight (sent, callback not yet called). */
unsigned cs_client_pending(const struct cs_client *c);

/* Zeroes *req: an IDLE GET with no URL. */
void cs_client_req_init(struct cs_client_req *req);

/* Clears the outputs and drops the response views; keeps the inputs, so
 * the request can be changed and sent again. The request must not be
 * ACTIVE (asserted). */
void cs_client_req_reset(struct cs_client_req *req);

/*
 * Sends req and calls cb(req, status) exactly once when it is answered,
 * fails or is cancelled. Borrows req and req->body until then; copies the
 * URL, headers and peer name. A request may be sent again (reused) from
 * inside its own callback or after it.
 *
 * Errors (cb is never called; the reason is in req->errmsg, except when
 * req is ACTIVE: then req is left untouched):
 *   CS_EINVAL    bad URL or scheme, method, peer name or header line, or a
 *                body on GET/HEAD
 *   CS_ETOOBIG   too many or too long request headers
 *   CS_EBUSY     req is ACTIVE, or max_requests are in flight
 *   CS_ECANCELED the client is closing
 *   CS_EIO       libcurl refused the transfer
 */
int cs_client_send(struct cs_client *c, struct cs_client_req *req,
    cs_client_cb cb);

/* In the callback of status 0: the value of the first response header
 * named name (case-insensitive), trimmed, or NULL. Returns view, valid as
 * req->resp. */
const char *cs_client_req_header(const struct cs_client_req *req,
    const char *name);

/* In the callback of status 0: takes the response body out of the request
 * so that it outlives the callback (no copy). Returns new (free() it),
 * never NULL; *len gets its length. req->resp becomes NULL. */
uint8_t *cs_client_req_steal_body(struct cs_client_req *req, size_t *len);

#endif
