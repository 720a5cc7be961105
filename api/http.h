/*
 * http.h - the HTTP/1.1 server of the API (plain or TLS), on one uv loop.
 *
 * Why hand-written, and the checklist it implements: notes/http.md.
 * http-parser frames requests; this module owns connections, deadlines,
 * caps, pipelining order, backpressure, TLS and shutdown. Routes live
 * elsewhere: the server calls one handler per complete request.
 *
 * Requests. The handler gets a struct cs_http_req with the request fully
 * read (headers and body, both capped). It must answer it exactly once
 * with cs_http_respond() or cs_http_respond_take(), now (inside the
 * handler) or later from any loop callback (raft apply, forward, timer).
 * Answering frees the request. Until then the request is valid even if
 * the client goes away: the connection then only detaches itself (see
 * cs_http_req_gone()) and the late answer is dropped. The server never
 * frees a request that reached the handler, not even at shutdown: the
 * owner of the pending operation must answer it (the pending operation
 * gets CS_ECANCELED at shutdown by its own rules, then answers 503).
 *
 * Connections. One request at a time per connection: while a request is
 * with the handler, parsing of pipelined input stops (responses stay in
 * order) and at most max_pipeline bytes are buffered before reading
 * stops. Reading also stops while more than a bound of response bytes is
 * queued for the socket (a slow reader cannot make the server buffer a
 * large CRL twice). Deadlines: header_timeout from the first byte of a
 * request (from accept for the first one, covering the TLS handshake) to
 * the end of its headers, body_timeout for the body, idle_timeout between
 * requests, write_timeout without write progress. A client that half-closes
 * (EOF) still gets the answers to the requests it sent; a reset or a write
 * error detaches a pending request at once.
 *
 * Errors the server answers itself carry application/problem+json
 * (RFC 7807) and close the connection: 400 unparsable or HTTP/1.1
 * without Host, 405 CONNECT, 408
 * header/body deadline with a partial request, 413 body over max_body
 * (before reading it when Content-Length says so, also for
 * Expect: 100-continue), 414 URL over max_url, 417 unknown Expect, 431
 * headers over max_header_bytes, 503 over max_conns.
 *
 * Loop thread only; no locks. Logs at DEBUG/INFO, never above WARN for
 * client misbehaviour. The process must ignore SIGPIPE (libuv writes with
 * write(2); a peer that left would otherwise kill it).
 */
#ifndef CS_API_HTTP_H
#define CS_API_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <http_parser.h>
#include <openssl/ssl.h>
#include <uv.h>

struct cs_http_server; /* opaque */
struct cs_http_req;    /* opaque */

typedef void (*cs_http_handler)(struct cs_http_req *req, void *data);
/* Fires once when cs_http_server_close() is done; srv is freed on return. */
typedef void (*cs_http_close_cb)(struct cs_http_server *srv, void *data);

/* Defaults for zero fields of struct cs_http_config. */
#define CS_HTTP_DEFAULT_MAX_HEADER_BYTES (16u * 1024)
#define CS_HTTP_DEFAULT_MAX_HEADERS      100u
#define CS_HTTP_DEFAULT_MAX_URL          (8u * 1024)
#define CS_HTTP_DEFAULT_MAX_BODY         (1024u * 1024)
#define CS_HTTP_DEFAULT_MAX_CONNS        1024u
#define CS_HTTP_DEFAULT_MAX_PIPELINE     (64u * 1024)
#define CS_HTTP_DEFAULT_HEADER_TIMEOUT   10000u /* ms */
#define CS_HTTP_DEFAULT_BODY_TIMEOUT     30000u
#define CS_HTTP_DEFAULT_IDLE_TIMEOUT     60000u
#define CS_HTTP_DEFAULT_WRITE_TIMEOUT    30000u
#define CS_HTTP_DEFAULT_SHUTDOWN_TIMEOUT 10000u

/* Bytes of response data queued for one socket above which the server
 * stops encrypting/handing out more and stops reading (backpressure). */
#define CS_HTTP_WRITE_HIGH_WATER (256u * 1024)

struct cs_http_config {
	const char *bind; /* "127.0.0.1:8443", "[::1]:0"; port 0 picks one */
	SSL_CTX *ssl_ctx; /* NULL: plain HTTP; borrowed (the server keeps its
			     own reference) */
	size_t max_header_bytes; /* names + values; over it: 431 */
	size_t max_headers;      /* header lines; over it: 431 */
	size_t max_url;          /* request-target bytes; over it: 414 */
	size_t max_body;         /* decoded body bytes; over it: 413 */
	unsigned max_conns;      /* open connections; over it: 503 */
	size_t max_pipeline;     /* buffered unparsed input per connection */
	uint64_t header_timeout_ms;
	uint64_t body_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t write_timeout_ms;
	uint64_t shutdown_timeout_ms; /* in-flight grace in close() */
	cs_http_handler handler;
	void *data; /* passed to handler */
};

/* Counters for /metrics. Monotonic except the *_open and *_peak ones. */
struct cs_http_stats {
	uint64_t conns_open;       /* now */
	uint64_t conns_accepted;   /* total, including rejected */
	uint64_t conns_rejected;   /* over max_conns */
	uint64_t requests;         /* handed to the handler */
	uint64_t responses[6];     /* by status class: [2] counts 2xx; [0]
				      unused; server errors included */
	uint64_t requests_gone;    /* client left while pending */
	uint64_t timeouts;         /* deadlines that closed a connection */
	uint64_t tls_failures;     /* handshakes or records that failed */
	uint64_t write_queue_peak; /* most bytes queued on one socket */
};

/* Creates a server listening on cfg->bind. cfg is borrowed (copied);
 * handler must be set. On success *out is a new server: stop it with
 * cs_http_server_close(), never free it otherwise. On error returns
 * CS_EINVAL (bad config or address) or the CS_E* of the bind/listen
 * failure with errmsg set; a half-made listener may still be closing on
 * the loop, so run the loop before uv_loop_close(). */
int cs_http_server_new(uv_loop_t *loop, const struct cs_http_config *cfg,
    struct cs_http_server **out, char *errmsg);

/* The bound port (useful with port 0). */
int cs_http_server_port(const struct cs_http_server *srv);

/* Replaces the TLS context for new connections (certificate reload);
 * ctx is borrowed (a reference is taken). CS_EINVAL on a plain server. */
int cs_http_server_set_ssl_ctx(struct cs_http_server *srv, SSL_CTX *ctx);

/* View, valid until the close callback returns. */
const struct cs_http_stats *cs_http_server_stats(
    const struct cs_http_server *srv);

/* Graceful stop: closes the listener, closes idle connections (TLS
 * close_notify), lets requests being read or with the handler finish
 * (their responses carry Connection: close) for up to
 * shutdown_timeout_ms, then closes whatever is left (pending requests are
 * detached, not freed). cb fires exactly once after every handle is
 * closed; then srv is freed. Call once. */
void cs_http_server_close(struct cs_http_server *srv, cs_http_close_cb cb,
    void *data);

/* ---- the request (all views valid until the request is answered) ---- */

/* "GET", and the http-parser code (HTTP_GET...). */
const char *cs_http_req_method(const struct cs_http_req *req);
enum http_method cs_http_req_method_id(const struct cs_http_req *req);
/* The request-target exactly as sent (origin-form "/a%2Fb?x=1"). */
const char *cs_http_req_target(const struct cs_http_req *req);
/* The raw, undecoded path ("/ocsp/MEkw%2B.../b/"); never collapses "//". */
const char *cs_http_req_path(const struct cs_http_req *req);
/* The raw query without '?', or NULL when the target has no '?'. */
const char *cs_http_req_query(const struct cs_http_req *req);
/* 10 for HTTP/1.0, 11 for HTTP/1.1. */
int cs_http_req_version(const struct cs_http_req *req);
/* Whether the connection stays open after this request (from
 * http_should_keep_alive()); the server may still close it. */
int cs_http_req_keep_alive(const struct cs_http_req *req);

/* The first value of header name (ASCII case-insensitive), or NULL. */
const char *cs_http_req_header(const struct cs_http_req *req, const char *name);
/* Headers in order; i < count. Names as sent (case preserved). */
size_t cs_http_req_header_count(const struct cs_http_req *req);
void cs_http_req_header_at(const struct cs_http_req *req, size_t i,
    const char **name, const char **value);

/* The body (NUL-terminated, not counted in *len); an empty body gives
 * a pointer to "" and *len = 0. */
const uint8_t *cs_http_req_body(const struct cs_http_req *req, size_t *len);

/* The client's address, and as text ("127.0.0.1:50312", "[::1]:443"). */
const struct sockaddr_storage *cs_http_req_remote(
    const struct cs_http_req *req);
const char *cs_http_req_remote_text(const struct cs_http_req *req);

/* The TLS client certificate (get0: do not free; valid until answered),
 * NULL on a plain listener or without one. *verified (may be NULL) is 1
 * when it chained to the listener's client CA. */
X509 *cs_http_req_peer_cert(const struct cs_http_req *req, int *verified);
/* Whether the request came over TLS. */
int cs_http_req_tls(const struct cs_http_req *req);

/* 1 once the client went away (the answer will be dropped). */
int cs_http_req_gone(const struct cs_http_req *req);

/* Per-request arena: memory freed when the request is answered. Never
 * NULL (aborts on OOM). Aligned for any type. */
void *cs_http_req_alloc(struct cs_http_req *req, size_t n);
char *cs_http_req_strndup(struct cs_http_req *req, const char *s, size_t n);

/* The value of query parameter name, percent-decoded ('+' as space) into
 * the arena. Returns 0 and *out, CS_ENOTFOUND, or CS_EINVAL on a bad
 * escape or an embedded NUL. "a" in "?a&b=1" yields "". */
int cs_http_req_query_param(struct cs_http_req *req, const char *name,
    const char **out);

/* ---- inner requests ---- */

struct cs_http_header;

/* Where the answer to an inner request goes: status, the headers (views
 * valid during the call only) and body, which the sink takes (free()). */
typedef void (*cs_http_sink)(void *data, int status,
    const struct cs_http_header *headers, size_t n, uint8_t *body, size_t len);

/* A request that no connection carries, made from a part of outer: one of
 * the requests a node batches into one (api/forward.c). It has outer's
 * remote address, TLS flag and peer certificate, the given method, target
 * (origin-form: '/' first and no NUL, which the caller has checked),
 * headers and body (all copied), and no caps of its own: outer's bound
 * every part. Answering it calls sink instead of writing to a socket; it
 * is never "gone". Returns new. */
struct cs_http_req *cs_http_req_new_inner(const struct cs_http_req *outer,
    enum http_method method, const char *target, size_t target_len,
    const struct cs_http_header *headers, size_t n, const void *body,
    size_t len, cs_http_sink sink, void *data);

/* ---- answering (exactly once per request; frees req) ---- */

struct cs_http_header {
	const char *name;
	const char *value;
};

/* Sends status with headers (borrowed) and a copy of body. The server
 * adds Date, Content-Length and Connection and ignores those names, and
 * Transfer-Encoding, in headers; "Connection: close" in headers closes
 * the connection after the response. HEAD gets the headers only; 204 and
 * 304 get no body. A header name or value with CR, LF or NUL turns the
 * answer into a 500. Returns 0 when queued, CS_ECANCELED when the client
 * was gone (the answer is dropped), CS_EINVAL for a status outside
 * 200..599 (a 500 is sent instead). req is freed in every case. */
int cs_http_respond(struct cs_http_req *req, int status,
    const struct cs_http_header *headers, size_t n, const void *body,
    size_t len);

/* Same, but takes body (malloc()ed) in every case, even on error: no
 * copy of a large CRL is made. */
int cs_http_respond_take(struct cs_http_req *req, int status,
    const struct cs_http_header *headers, size_t n, void *body, size_t len);

/* An application/problem+json answer {type, title, status, detail}; type
 * is "about:blank" and title the status text. detail may be NULL. */
int cs_http_respond_problem(struct cs_http_req *req, int status,
    const char *detail);

/* ---- pure helpers ---- */

/* Percent-decodes s[0..len) into out (at least len + 1 bytes; NUL
 * terminated); plus_space turns '+' into ' ' (query strings, not paths).
 * Returns 0 and *outlen, or CS_EINVAL on a bad escape or a decoded NUL. */
int cs_http_pct_decode(const char *s, size_t len, char *out, size_t *outlen,
    int plus_space);

/* Finds parameter name in a raw query string ("a=1&b=%2F"). Returns 0
 * with the raw (undecoded) value as a view into query, or CS_ENOTFOUND. */
int cs_http_query_find(const char *query, const char *name, const char **value,
    size_t *len);

/* The reason phrase of status ("Not Found"), "Unknown" if none. */
const char *cs_http_status_text(int status);

/* Writes an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for t into out
 * (at least 30 bytes). */
void cs_http_date_format(int64_t t, char *out);

#endif
