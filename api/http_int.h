/*
 * http_int.h - private to api/http.c (server, requests, formatting) and
 * api/conn.c (one connection: read, parse, write, deadlines, close).
 *
 * Connection phases (c->phase) and the read deadline each one arms:
 *
 *   accept -> NEW --first byte--> HEADERS --headers done--> BODY
 *   (header_timeout)  (header_timeout, kept)   (body_timeout)
 *                                                  |
 *   IDLE <--answered, nothing buffered-- PENDING <-+ message complete
 *   (idle_timeout)                        (none: the handler's business)
 *   IDLE --first byte--> HEADERS (header_timeout from that byte)
 *
 *   any --error / Connection: close / server close--> finishing: stop
 *   parsing, flush the answers, close_notify, shutdown(SHUT_WR), then
 *   LINGER (read and discard until EOF or a short deadline) -> closed.
 *   any --reset, write error or write deadline--> closed at once.
 *
 * conn_process() (conn.c) is the only place that parses. It is guarded by
 * c->in_process: a respond() from inside the handler (or any nested path)
 * only sets c->again, and the outer call loops; a burst of pipelined
 * requests answered synchronously never recurses.
 *
 * Ownership: the connection owns c->req (being parsed); a request that
 * reached the handler (c->pending) is owned by whoever answers it. Memory
 * of a connection is freed only in its last close callback.
 */
#ifndef CS_API_HTTP_INT_H
#define CS_API_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "api/http.h"
#include "api/tls.h"
#include "lib/buf.h"
#include "lib/error.h"

#define CS_HTTP__READ_SIZE   (64u * 1024) /* one uv read */
#define CS_HTTP__CHUNK       (64u * 1024) /* plaintext per write step */
#define CS_HTTP__LINGER_MS   2000u        /* discard input after FIN */
#define CS_HTTP__MAX_REJECTS 64u          /* 503s in progress at once */
#define CS_HTTP__MAX_HEAD    (64u * 1024) /* response head */

struct cs_http__conn;

struct cs_http__arena {
	struct cs_http__arena *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

struct cs_http__hdr {
	size_t name; /* offsets into req->hbuf */
	size_t value;
};

#define CS_HTTP__REQ_MAGIC 0x68747271u /* "htrq" */
#define CS_HTTP__REQ_FREED 0xdeadbeefu

struct cs_http_req {
	unsigned magic;
	struct cs_http__conn *conn; /* NULL once detached (client gone) */
	enum http_method method;
	int version;
	int keep_alive;
	int tls;
	struct cs_buf url;  /* request-target, capped at max_url */
	struct cs_buf hbuf; /* "name\0value\0"..., capped at max_header_bytes */
	struct cs_http__hdr *hdrs;
	size_t nhdrs;
	size_t hdrs_cap;
	int hstate;         /* 0 before any, 1 in a name, 2 in a value */
	const char *path;   /* arena */
	const char *query;  /* arena or NULL */
	struct cs_buf body; /* capped at max_body */
	struct sockaddr_storage remote;
	char remote_text[64];
	X509 *peer; /* own reference */
	int peer_verified;
	struct cs_http__arena *arena;
	cs_http_sink sink; /* inner requests: where the answer goes */
	void *sink_data;
};

enum cs_http__phase {
	CS_HTTP__NEW = 0,
	CS_HTTP__HEADERS,
	CS_HTTP__BODY,
	CS_HTTP__PENDING,
	CS_HTTP__IDLE,
	CS_HTTP__LINGER,
	CS_HTTP__PHASE__MAX
};

/* A response (or a 100 Continue) not yet fully handed to the transport. */
struct cs_http__out {
	struct cs_http__out *next;
	char *head; /* owned */
	size_t head_len;
	uint8_t *body; /* owned, may be NULL */
	size_t body_len;
	size_t off; /* bytes of head + body handed out */
};

struct cs_http__conn {
	struct cs_http_server *srv;
	struct cs_http__conn *prev;
	struct cs_http__conn *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t shutdown_req;
	int pending_closes;
	enum cs_http__phase phase;
	uint64_t read_deadline;  /* uv_now() ms, 0 for none */
	uint64_t write_deadline; /* 0 for none */
	http_parser parser;
	int use_tls;
	struct cs_tls tls;
	struct cs_buf in; /* plaintext not yet parsed */
	size_t in_off;
	struct cs_http_req *req;     /* being parsed; owned */
	struct cs_http_req *ready;   /* complete, not yet handed out; owned */
	struct cs_http_req *pending; /* with the handler; not owned */
	struct cs_http__out *out_head;
	struct cs_http__out *out_tail;
	unsigned writes;  /* uv_write requests in flight */
	int error_status; /* set by a parser callback that failed */
	const char *error_detail;
	unsigned closing : 1;   /* uv_close() called */
	unsigned finishing : 1; /* no more requests; close once flushed */
	unsigned shut : 1;      /* uv_shutdown() issued */
	unsigned eof : 1;       /* peer sent FIN or close_notify */
	unsigned reading : 1;
	unsigned in_process : 1;
	unsigned again : 1;
	unsigned in_message : 1; /* parser between begin and complete */
	unsigned reject : 1;     /* over max_conns: answer 503 */
	unsigned counted_reject : 1;
	struct sockaddr_storage remote;
	char remote_text[64];
	char errmsg[CS_ERRMSG_SIZE];
};

struct cs_http_server {
	uv_loop_t *loop;
	struct cs_http_config cfg; /* defaults applied; cfg.bind not kept */
	SSL_CTX *ssl_ctx;          /* own reference, NULL for plain */
	uv_tcp_t listener;
	uv_timer_t shutdown_timer;
	int pending_closes;
	int port;
	int closing;
	int started; /* listener is up */
	struct cs_http__conn *conns;
	unsigned n_conns;
	unsigned n_rejecting;
	cs_http_close_cb close_cb;
	void *close_data;
	struct cs_http_stats stats;
	uint8_t rbuf[CS_HTTP__READ_SIZE]; /* consumed within each read cb */
	char errmsg[CS_ERRMSG_SIZE];
};

/* http.c */
struct cs_http_req *cs_http__req_new(struct cs_http__conn *c);
void cs_http__req_free(struct cs_http_req *req);
/* Checks handler headers: names are tokens, values free of CR, LF and
 * NUL. Returns 0 (and *want_close when one is "Connection: close") or
 * CS_EINVAL. */
int cs_http__headers_check(const struct cs_http_header *h, size_t n,
    int *want_close);
/* Formats the status line and checked headers into a new NUL-terminated
 * buffer (free()), adding Date, Content-Length (when with_length) and
 * Connection (close, or keep-alive for an HTTP/1.0 client). */
char *cs_http__format_head(int status, const struct cs_http_header *h, size_t n,
    int with_length, size_t body_len, int close, int keep10, size_t *len);
/* A new problem+json body for status (free()). */
uint8_t *cs_http__problem(int status, const char *detail, size_t *len);
/* Called by conn.c after a connection's memory was freed. */
void cs_http__server_conn_freed(struct cs_http_server *srv);

/* conn.c */
void cs_http__conn_accept(struct cs_http_server *srv);
/* Server is closing: finish idle connections now, others after their
 * current request. */
void cs_http__conn_drain(struct cs_http__conn *c);
/* Closes at once (shutdown deadline). */
void cs_http__conn_abort(struct cs_http__conn *c);
/* Queues the answer to c->pending == req, which the caller then frees.
 * headers are validated; body is taken. */
int cs_http__conn_respond(struct cs_http__conn *c, struct cs_http_req *req,
    int status, const struct cs_http_header *headers, size_t n, uint8_t *body,
    size_t len);
/* Splits req->url into req->path and req->query (undecoded). */
int cs_http__split_target(struct cs_http_req *req);
/* Continues parsing after an answer was queued and the request freed. */
void cs_http__conn_resume(struct cs_http__conn *c);

#endif
