/* conn.c - one HTTP/1.1 connection: reads, TLS, parsing, dispatch in
 * order, the write queue with backpressure, deadlines, graceful close.
 * The phases and the re-entrancy rule are drawn in http_int.h. */
#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http_int.h"
#include "lib/log.h"
#include "lib/mem.h"

#define CONTINUE_HEAD "HTTP/1.1 100 Continue\r\n\r\n"
/* Bodies up to this size are copied behind the head: one write. */
#define SMALL_BODY    (16u * 1024)

struct wreq {
	uv_write_t w;
	uint8_t *owned;                /* freed when the write completes */
	struct cs_http__out *done_out; /* last piece of a plain response */
};

static void conn_process(struct cs_http__conn *c);
static void after_process(struct cs_http__conn *c);
static int read_start(struct cs_http__conn *c);

static uint64_t
now_ms(const struct cs_http__conn *c)
{
	return uv_now(c->srv->loop);
}

static size_t
backlog(const struct cs_http__conn *c)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

static size_t
unparsed(const struct cs_http__conn *c)
{
	return c->in.len - c->in_off;
}

static void
out_free(struct cs_http__out *o)
{
	free(o->head);
	free(o->body);
	free(o);
}

/* ---- deadlines ---- */

static void on_timer(uv_timer_t *t);

static void
arm_timer(struct cs_http__conn *c)
{
	uint64_t d = c->read_deadline;
	uint64_t now;

	if (c->closing)
		return;
	if (c->write_deadline != 0 && (d == 0 || c->write_deadline < d))
		d = c->write_deadline;
	if (d == 0) {
		uv_timer_stop(&c->timer);
		return;
	}
	now = now_ms(c);
	uv_timer_start(&c->timer, on_timer, d > now ? d - now : 0, 0);
}

static void
set_read_deadline(struct cs_http__conn *c, uint64_t ms)
{
	c->read_deadline = ms == 0 ? 0 : now_ms(c) + ms;
}

/* ---- close ---- */

static void
conn_free(struct cs_http__conn *c)
{
	struct cs_http_server *srv = c->srv;
	struct cs_http__out *o;

	while ((o = c->out_head) != NULL) {
		c->out_head = o->next;
		out_free(o);
	}
	cs_http__req_free(c->req);
	cs_http__req_free(c->ready);
	if (c->use_tls)
		cs_tls_close(&c->tls);
	cs_buf_close(&c->in);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;
	if (c->reject)
		srv->n_rejecting--;
	srv->stats.conns_open = srv->n_conns;
	free(c);
	cs_http__server_conn_freed(srv);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct cs_http__conn *c = h->data;

	if (--c->pending_closes == 0)
		conn_free(c);
}

/* Detaches a pending request: its owner answers into the void. */
static void
detach_pending(struct cs_http__conn *c)
{
	if (c->pending == NULL)
		return;
	c->pending->conn = NULL;
	c->pending = NULL;
	c->srv->stats.requests_gone++;
}

/* Immediate close; idempotent. Memory goes in the last close callback
 * (write callbacks run first, with UV_ECANCELED). */
static void
conn_close(struct cs_http__conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	detach_pending(c);
	c->pending_closes = 2;
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

void
cs_http__conn_abort(struct cs_http__conn *c)
{
	conn_close(c);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct cs_http__conn *c = req->handle->data;

	if (c->closing)
		return;
	if (status < 0 || c->eof) {
		conn_close(c);
		return;
	}
	/* Lingering close: drain what the client still sends so our close
	 * does not turn into a reset that eats the last response. */
	c->phase = CS_HTTP__LINGER;
	c->write_deadline = 0;
	c->read_deadline =
	    now_ms(c) + (c->srv->cfg.idle_timeout_ms < CS_HTTP__LINGER_MS
				? c->srv->cfg.idle_timeout_ms
				: CS_HTTP__LINGER_MS);
	after_process(c);
}

/* Once finishing and every answer is handed out: close_notify, then FIN
 * after the queued writes (uv_shutdown() waits for them). */
static void
maybe_shutdown(struct cs_http__conn *c)
{
	int rc;

	if (c->closing || !c->finishing || c->shut || c->pending != NULL ||
	    c->out_head != NULL)
		return;
	if (c->use_tls)
		cs_tls_shutdown(&c->tls); /* no-op unless the session is up */
	if (c->closing)
		return;
	c->shut = 1;
	rc = uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown);
	if (rc < 0)
		conn_close(c);
}

/* ---- writing ---- */

static void
on_write(uv_write_t *w, int status)
{
	struct wreq *wr = (struct wreq *)w;
	struct cs_http__conn *c = w->handle->data;

	free(wr->owned);
	if (wr->done_out != NULL)
		out_free(wr->done_out);
	free(wr);
	c->writes--;
	if (c->closing)
		return;
	if (status < 0) {
		cs_log(CS_LOG_DEBUG, "http write peer=%s rc=%s", c->remote_text,
		    uv_err_name(status));
		conn_close(c);
		return;
	}
	/* Progress: the write deadline restarts. */
	if (c->writes > 0 || c->out_head != NULL)
		c->write_deadline = now_ms(c) + c->srv->cfg.write_timeout_ms;
	else
		c->write_deadline = 0;
	conn_process(c); /* hands out more, may parse again */
}

/* Queues len bytes: owned (taken) or ref (kept alive by done_out). */
static void
write_raw(struct cs_http__conn *c, uint8_t *owned, const void *ref, size_t len,
    struct cs_http__out *done_out)
{
	struct wreq *wr;
	uv_buf_t buf;
	size_t q;
	int rc;

	if (c->closing) {
		free(owned);
		if (done_out != NULL)
			out_free(done_out);
		return;
	}
	buf = uv_buf_init(owned != NULL ? (char *)owned : (char *)ref,
	    (unsigned)len);
	if (c->writes == 0) {
		/* Nothing queued: write now. A response usually fits the
		 * socket buffer, and then libuv's write queue (and the
		 * epoll_ctl it costs on every write) is not involved. */
		rc = uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);
		if (rc == (int)len) {
			free(owned);
			if (done_out != NULL)
				out_free(done_out);
			return;
		}
		if (rc > 0) {
			buf.base += rc;
			buf.len -= (size_t)rc;
		} else if (rc != UV_EAGAIN) {
			free(owned);
			if (done_out != NULL)
				out_free(done_out);
			conn_close(c);
			return;
		}
	}
	wr = cs_calloc(1, sizeof *wr);
	wr->owned = owned;
	wr->done_out = done_out;
	rc = uv_write(&wr->w, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
	if (rc < 0) {
		free(owned);
		if (done_out != NULL)
			out_free(done_out);
		free(wr);
		conn_close(c);
		return;
	}
	c->writes++;
	q = backlog(c);
	if (q > c->srv->stats.write_queue_peak)
		c->srv->stats.write_queue_peak = q;
	if (c->write_deadline == 0) {
		c->write_deadline = now_ms(c) + c->srv->cfg.write_timeout_ms;
		arm_timer(c);
	}
}

static void
on_tls_send(void *arg, uint8_t *buf, size_t len)
{
	write_raw(arg, buf, NULL, len, NULL);
}

/* Hands queued responses to the socket in pieces while the socket's
 * queue is below the high-water mark. */
static void
pump_out(struct cs_http__conn *c)
{
	while (!c->closing && c->out_head != NULL &&
	       backlog(c) < CS_HTTP_WRITE_HIGH_WATER) {
		struct cs_http__out *o = c->out_head;
		const uint8_t *p;
		size_t n;
		int last;

		if (o->off < o->head_len) {
			p = (const uint8_t *)o->head + o->off;
			n = o->head_len - o->off;
		} else {
			size_t boff = o->off - o->head_len;

			p = o->body + boff;
			n = o->body_len - boff;
			if (n > CS_HTTP__CHUNK)
				n = CS_HTTP__CHUNK;
		}
		o->off += n;
		last = o->off == o->head_len + o->body_len;
		if (last) {
			c->out_head = o->next;
			if (c->out_head == NULL)
				c->out_tail = NULL;
		}
		if (c->use_tls) {
			int rc = cs_tls_write(&c->tls, p, n, c->errmsg);

			if (last)
				out_free(o);
			if (rc < 0) {
				c->srv->stats.tls_failures++;
				conn_close(c);
			}
		} else {
			write_raw(c, NULL, p, n, last ? o : NULL);
		}
	}
}

static void
enqueue(struct cs_http__conn *c, struct cs_http__out *o)
{
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	pump_out(c);
}

/* Formats and queues one response. body is taken. */
static void
queue_response(struct cs_http__conn *c, int status,
    const struct cs_http_header *h, size_t n, uint8_t *body, size_t len,
    int head_only, int keep10, int close)
{
	struct cs_http__out *o = cs_calloc(1, sizeof *o);
	int with_length = status != 204 && status != 304;
	size_t hl;

	o->head = cs_http__format_head(status, h, n, with_length, len, close,
	    keep10 && !close, &hl);
	if (o->head == NULL) {
		/* Handler headers over CS_HTTP__MAX_HEAD. */
		cs_log(CS_LOG_WARN, "http response head too big status=%d",
		    status);
		status = 500;
		free(body);
		body = NULL;
		len = 0;
		o->head = cs_http__format_head(status, NULL, 0, 1, 0, close,
		    keep10 && !close, &hl);
	}
	o->head_len = hl;
	if (head_only || !with_length || len == 0) {
		free(body);
	} else if (len <= SMALL_BODY) {
		o->head = cs_realloc(o->head, hl + len);
		memcpy(o->head + hl, body, len);
		o->head_len += len;
		free(body);
	} else {
		o->body = body;
		o->body_len = len;
	}
	c->srv->stats.responses[status / 100]++;
	if (close)
		c->finishing = 1;
	enqueue(c, o);
}

/* An answer from the server itself; the connection ends after it. */
static void
server_error(struct cs_http__conn *c, int status, const char *detail)
{
	static const struct cs_http_header h[] = {
	    {"Content-Type", "application/problem+json"},
	};
	uint8_t *body;
	size_t len;

	cs_log(CS_LOG_DEBUG, "http error peer=%s status=%d detail=%s",
	    c->remote_text, status, detail != NULL ? detail : "");
	cs_http__req_free(c->req);
	c->req = NULL;
	c->in_message = 0;
	body = cs_http__problem(status, detail, &len);
	queue_response(c, status, h, 1, body, len, 0, 0, 1);
}

int
cs_http__conn_respond(struct cs_http__conn *c, struct cs_http_req *req,
    int status, const struct cs_http_header *headers, size_t n, uint8_t *body,
    size_t len)
{
	static const struct cs_http_header ph[] = {
	    {"Content-Type", "application/problem+json"},
	};
	int want_close = 0;
	int close;
	int rc = 0;

	assert(c->pending == req && !c->closing);
	c->pending = NULL;
	req->conn = NULL;
	if (status < 200 || status > 599 ||
	    cs_http__headers_check(headers, n, &want_close) < 0) {
		cs_log(CS_LOG_WARN, "http bad response status=%d target=%s",
		    status, cs_http_req_target(req));
		free(body);
		status = 500;
		body = cs_http__problem(500, "the handler's answer was invalid",
		    &len);
		headers = ph;
		n = 1;
		rc = CS_EINVAL;
	}
	close =
	    want_close || !req->keep_alive || c->srv->closing || c->finishing;
	queue_response(c, status, headers, n, body, len,
	    req->method == HTTP_HEAD, req->version == 10, close);
	return rc;
}

void
cs_http__conn_resume(struct cs_http__conn *c)
{
	conn_process(c);
}

/* ---- parser callbacks ---- */

static int
fail_with(struct cs_http__conn *c, int status, const char *detail)
{
	c->error_status = status;
	c->error_detail = detail;
	return 1;
}

static int
on_message_begin(http_parser *p)
{
	struct cs_http__conn *c = p->data;

	assert(c->req == NULL);
	c->req = cs_http__req_new(c);
	c->in_message = 1;
	/* The first request's deadline runs from accept (it covers the TLS
	 * handshake); later ones from their first byte. */
	if (c->phase != CS_HTTP__NEW)
		set_read_deadline(c, c->srv->cfg.header_timeout_ms);
	c->phase = CS_HTTP__HEADERS;
	arm_timer(c);
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct cs_http__conn *c = p->data;

	if (cs_buf_append(&c->req->url, at, len) < 0)
		return fail_with(c, 414, "request target too long");
	return 0;
}

/* Ends the header value being read: trims trailing whitespace. */
static int
end_value(struct cs_http_req *req)
{
	struct cs_http__hdr *h;

	if (req->hstate == 0)
		return 0;
	h = &req->hdrs[req->nhdrs - 1];
	if (req->hstate == 1) {
		if (cs_buf_append_byte(&req->hbuf, 0) < 0)
			return CS_ETOOBIG;
		h->value = req->hbuf.len;
	}
	while (req->hbuf.len > h->value &&
	       (req->hbuf.data[req->hbuf.len - 1] == ' ' ||
		   req->hbuf.data[req->hbuf.len - 1] == '\t'))
		req->hbuf.len--;
	req->hstate = 0;
	return cs_buf_append_byte(&req->hbuf, 0);
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct cs_http__conn *c = p->data;
	struct cs_http_req *req = c->req;

	if (req->hstate != 1) {
		if (end_value(req) < 0)
			return fail_with(c, 431, "header fields too large");
		if (req->nhdrs == c->srv->cfg.max_headers)
			return fail_with(c, 431, "too many header fields");
		if (req->nhdrs == req->hdrs_cap) {
			req->hdrs_cap =
			    req->hdrs_cap == 0 ? 16 : req->hdrs_cap * 2;
			req->hdrs = cs_reallocarray(req->hdrs, req->hdrs_cap,
			    sizeof *req->hdrs);
		}
		req->hdrs[req->nhdrs].name = req->hbuf.len;
		req->hdrs[req->nhdrs].value = 0;
		req->nhdrs++;
		req->hstate = 1;
	}
	if (cs_buf_append(&req->hbuf, at, len) < 0)
		return fail_with(c, 431, "header fields too large");
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct cs_http__conn *c = p->data;
	struct cs_http_req *req = c->req;

	if (req->hstate == 1) {
		if (cs_buf_append_byte(&req->hbuf, 0) < 0)
			return fail_with(c, 431, "header fields too large");
		req->hdrs[req->nhdrs - 1].value = req->hbuf.len;
		req->hstate = 2;
	}
	if (cs_buf_append(&req->hbuf, at, len) < 0)
		return fail_with(c, 431, "header fields too large");
	return 0;
}

/* Splits the raw target into path and query, undecoded. */
int
cs_http__split_target(struct cs_http_req *req)
{
	const char *t = cs_http_req_target(req);
	size_t len = req->url.len;
	struct http_parser_url u;
	const char *q;

	if (t[0] == '/' || strcmp(t, "*") == 0) {
		q = memchr(t, '?', len);
		if (q == NULL) {
			req->path = t;
			return 0;
		}
		req->path = cs_http_req_strndup(req, t, (size_t)(q - t));
		req->query = q + 1;
		return 0;
	}
	/* absolute-form (RFC 9112 3.2.2) */
	http_parser_url_init(&u);
	if (http_parser_parse_url(t, len, 0, &u) != 0)
		return CS_EINVAL;
	req->path =
	    (u.field_set & (1 << UF_PATH))
		? cs_http_req_strndup(req, t + u.field_data[UF_PATH].off,
		      u.field_data[UF_PATH].len)
		: "/";
	if (u.field_set & (1 << UF_QUERY))
		req->query = cs_http_req_strndup(req,
		    t + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
	return 0;
}

static void
queue_continue(struct cs_http__conn *c)
{
	struct cs_http__out *o = cs_calloc(1, sizeof *o);

	o->head = cs_strdup(CONTINUE_HEAD);
	o->head_len = sizeof CONTINUE_HEAD - 1;
	c->srv->stats.responses[1]++;
	enqueue(c, o);
}

/* Returns 0, or -1 to fail (1 would mean "skip the body"). */
static int
on_headers_complete(http_parser *p)
{
	struct cs_http__conn *c = p->data;
	struct cs_http_req *req = c->req;
	const struct cs_http_config *cfg = &c->srv->cfg;
	const char *expect;
	int has_body;

	if (end_value(req) < 0) {
		fail_with(c, 431, "header fields too large");
		return -1;
	}
	req->method = (enum http_method)p->method;
	req->version = p->http_major * 10 + p->http_minor;
	req->keep_alive = http_should_keep_alive(p);
	if (c->reject) {
		fail_with(c, 503, "too many connections");
		return -1;
	}
	if (p->http_major != 1) {
		fail_with(c, 505, "only HTTP/1.x is spoken here");
		return -1;
	}
	/* RFC 9112 3.2: an HTTP/1.1 request without Host is a 400. */
	if (req->version >= 11 && cs_http_req_header(req, "Host") == NULL) {
		fail_with(c, 400, "missing Host header");
		return -1;
	}
	if (req->method == HTTP_CONNECT) {
		fail_with(c, 405, "CONNECT is not supported");
		return -1;
	}
	if (cs_http__split_target(req) < 0) {
		fail_with(c, 400, "bad request target");
		return -1;
	}
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > cfg->max_body) {
		fail_with(c, 413, "request body too large");
		return -1;
	}
	has_body = (p->flags & F_CHUNKED) ||
		   ((p->flags & F_CONTENTLENGTH) && p->content_length > 0);
	expect = cs_http_req_header(req, "Expect");
	if (expect != NULL && req->version >= 11) {
		if (strcasecmp(expect, "100-continue") != 0) {
			fail_with(c, 417, "unsupported expectation");
			return -1;
		}
		if (has_body)
			queue_continue(c);
	}
	if (has_body) {
		c->phase = CS_HTTP__BODY;
		set_read_deadline(c, cfg->body_timeout_ms);
		arm_timer(c);
	}
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct cs_http__conn *c = p->data;

	if (cs_buf_append(&c->req->body, at, len) < 0)
		return fail_with(c, 413, "request body too large");
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct cs_http__conn *c = p->data;

	c->ready = c->req;
	c->req = NULL;
	c->in_message = 0;
	http_parser_pause(p, 1); /* one request at a time */
	return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- the processing loop ---- */

/* The handler gets the request; it may answer before returning. */
static void
dispatch(struct cs_http__conn *c)
{
	struct cs_http_req *req = c->ready;
	struct cs_http_server *srv = c->srv;

	c->ready = NULL;
	c->pending = req;
	c->phase = CS_HTTP__PENDING;
	c->read_deadline = 0;
	arm_timer(c);
	if (c->use_tls) {
		X509 *x = cs_tls_peer_cert(&c->tls, &req->peer_verified);

		if (x != NULL && X509_up_ref(x) == 1)
			req->peer = x;
	}
	srv->stats.requests++;
	srv->cfg.handler(req, srv->cfg.data);
}

static void
parse_some(struct cs_http__conn *c)
{
	size_t n;
	enum http_errno err;

	if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED)
		http_parser_pause(&c->parser, 0);
	n = http_parser_execute(&c->parser, &parser_settings,
	    (const char *)c->in.data + c->in_off, unparsed(c));
	c->in_off += n;
	err = HTTP_PARSER_ERRNO(&c->parser);
	if (err == HPE_PAUSED && c->ready != NULL) {
		dispatch(c);
		return;
	}
	if (err != HPE_OK) {
		int status = c->error_status;

		if (status == 0)
			status = err == HPE_HEADER_OVERFLOW ? 431 : 400;
		server_error(c, status,
		    c->error_detail != NULL ? c->error_detail
					    : http_errno_description(err));
		return;
	}
	if (unparsed(c) > 0) /* an upgrade stop; we do not upgrade */
		server_error(c, 400, "protocol upgrade not supported");
}

/* The peer will not send more: answer what it sent, then close. */
static void
peer_eof(struct cs_http__conn *c)
{
	c->eof = 1;
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
}

/* A dead TLS session: flush the alert, then close. */
static void
tls_failed(struct cs_http__conn *c)
{
	c->srv->stats.tls_failures++;
	cs_log(CS_LOG_DEBUG, "http tls peer=%s %s", c->remote_text, c->errmsg);
	detach_pending(c);
	cs_http__req_free(c->req);
	c->req = NULL;
	c->in_message = 0;
	peer_eof(c);
	c->finishing = 1;
}

static size_t
room(const struct cs_http__conn *c)
{
	size_t used = unparsed(c);
	size_t max = c->srv->cfg.max_pipeline;

	return used >= max ? 0 : max - used;
}

/* Moves plaintext out of the TLS session into c->in, up to the cap. */
static void
tls_fill(struct cs_http__conn *c)
{
	while (!c->closing && c->phase != CS_HTTP__LINGER &&
	       c->tls.state != CS_TLS_FAILED) {
		size_t want = room(c);
		ssize_t n;

		if (want == 0)
			break;
		if (want > CS_HTTP__READ_SIZE)
			want = CS_HTTP__READ_SIZE;
		if (c->in_off > 0 && c->in.len + want > c->in.max) {
			/* compact first so the cap counts unparsed bytes */
			memmove(c->in.data, c->in.data + c->in_off,
			    unparsed(c));
			c->in.len -= c->in_off;
			c->in_off = 0;
		}
		if (cs_buf_reserve(&c->in, want) < 0)
			break;
		n = cs_tls_read(&c->tls, c->in.data + c->in.len, want,
		    c->errmsg);
		if (n > 0) {
			c->in.len += (size_t)n;
			c->in.data[c->in.len] = '\0';
			continue;
		}
		if (n == CS_ECANCELED)
			peer_eof(c);
		else if (n < 0)
			tls_failed(c);
		break;
	}
}

static int
can_parse(const struct cs_http__conn *c)
{
	return !c->closing && !c->finishing && c->pending == NULL &&
	       c->phase != CS_HTTP__LINGER &&
	       backlog(c) < CS_HTTP_WRITE_HIGH_WATER &&
	       (!c->use_tls || c->tls.state != CS_TLS_HANDSHAKE);
}

static void
compact(struct cs_http__conn *c)
{
	if (c->in_off == 0)
		return;
	if (unparsed(c) > 0)
		memmove(c->in.data, c->in.data + c->in_off, unparsed(c));
	c->in.len -= c->in_off;
	c->in_off = 0;
	if (c->in.data != NULL)
		c->in.data[c->in.len] = '\0';
}

static void
conn_process(struct cs_http__conn *c)
{
	if (c->in_process) {
		c->again = 1;
		return;
	}
	c->in_process = 1;
	do {
		c->again = 0;
		pump_out(c);
		for (;;) {
			if (c->use_tls)
				tls_fill(c);
			if (!can_parse(c) || unparsed(c) == 0)
				break;
			parse_some(c);
		}
		compact(c);
	} while (c->again && !c->closing);
	after_process(c);
	c->in_process = 0;
}

/* Decides the phase, reading, shutdown and timer after any change. */
static void
after_process(struct cs_http__conn *c)
{
	int want;

	if (c->closing)
		return;
	if (c->eof && !c->finishing && c->pending == NULL && c->ready == NULL &&
	    (c->in_message || unparsed(c) > 0) && can_parse(c) &&
	    (!c->use_tls || cs_tls_pending(&c->tls) == 0)) {
		/* part of a request, and the peer sends no more: it cannot
		 * complete, so the connection goes now, not at a timeout */
		detach_pending(c);
		cs_http__req_free(c->req);
		c->req = NULL;
		c->in_message = 0;
		c->in_off = c->in.len;
		c->finishing = 1;
	}
	if (!c->finishing && c->pending == NULL && !c->in_message &&
	    c->ready == NULL && unparsed(c) == 0 &&
	    (!c->use_tls || cs_tls_pending(&c->tls) == 0)) {
		if (c->eof || c->srv->closing) {
			c->finishing = 1;
		} else if (c->phase != CS_HTTP__NEW &&
			   c->phase != CS_HTTP__IDLE) {
			c->phase = CS_HTTP__IDLE;
			set_read_deadline(c, c->srv->cfg.idle_timeout_ms);
			cs_buf_close(&c->in); /* idle connections hold none */
		}
	}
	if (c->finishing && c->phase != CS_HTTP__LINGER) {
		/* Bounded from here by the write deadline, then the linger
		 * deadline (and the server's shutdown deadline). */
		c->read_deadline = 0;
		maybe_shutdown(c);
		if (c->closing)
			return;
	}
	if (c->phase == CS_HTTP__LINGER)
		want = !c->eof;
	else
		want = !c->eof && !c->finishing && room(c) > 0 &&
		       backlog(c) < CS_HTTP_WRITE_HIGH_WATER &&
		       (!c->use_tls ||
			   cs_tls_pending(&c->tls) < CS_HTTP__READ_SIZE);
	if (want && !c->reading) {
		if (read_start(c) == 0)
			c->reading = 1;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
	arm_timer(c);
}

void
cs_http__conn_drain(struct cs_http__conn *c)
{
	if (c->closing)
		return;
	if (c->in_process) {
		c->again = 1;
		return;
	}
	after_process(c);
}

/* ---- reading ---- */

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct cs_http__conn *c = h->data;
	size_t n = sizeof c->srv->rbuf;

	(void)suggested;
	/* Plaintext goes straight to c->in: never read past the cap. */
	if (!c->use_tls && c->phase != CS_HTTP__LINGER && room(c) < n)
		n = room(c);
	*buf = uv_buf_init((char *)c->srv->rbuf, (unsigned)n);
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct cs_http__conn *c = s->data;

	if (c->closing || nread == 0)
		return;
	if (nread == UV_ENOBUFS) {
		after_process(c); /* stops reading */
		return;
	}
	if (nread < 0) {
		if (nread == UV_EOF && c->phase != CS_HTTP__LINGER) {
			peer_eof(c);
			conn_process(c);
			return;
		}
		if (nread != UV_EOF)
			cs_log(CS_LOG_DEBUG, "http read peer=%s rc=%s",
			    c->remote_text, uv_err_name((int)nread));
		conn_close(c); /* a pending request is detached */
		return;
	}
	if (c->phase == CS_HTTP__LINGER)
		return; /* discarded */
	if (c->use_tls) {
		cs_tls_feed(&c->tls, buf->base, (size_t)nread);
	} else {
		compact(c);
		if (cs_buf_append(&c->in, buf->base, (size_t)nread) < 0) {
			conn_close(c); /* on_alloc keeps us under the cap */
			return;
		}
	}
	conn_process(c);
}

static int
read_start(struct cs_http__conn *c)
{
	return uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void
on_timer(uv_timer_t *t)
{
	struct cs_http__conn *c = t->data;
	uint64_t now = now_ms(c);

	if (c->closing)
		return;
	if (c->write_deadline != 0 && now >= c->write_deadline) {
		cs_log(CS_LOG_DEBUG, "http write deadline peer=%s",
		    c->remote_text);
		c->srv->stats.timeouts++;
		conn_close(c);
		return;
	}
	if (c->read_deadline == 0 || now < c->read_deadline) {
		arm_timer(c);
		return;
	}
	c->read_deadline = 0;
	switch (c->phase) {
	case CS_HTTP__LINGER:
		conn_close(c);
		return;
	case CS_HTTP__IDLE:
		c->finishing = 1;
		break;
	case CS_HTTP__NEW:
	case CS_HTTP__HEADERS:
	case CS_HTTP__BODY:
		c->srv->stats.timeouts++;
		if (c->in_message)
			server_error(c, 408,
			    c->phase == CS_HTTP__BODY
				? "request body not received in time"
				: "request headers not received in time");
		else
			c->finishing = 1;
		break;
	default:
		break;
	}
	after_process(c);
}

/* ---- accept ---- */

static void
on_early_close(uv_handle_t *h)
{
	free(h->data);
}

static void
remote_text(struct cs_http__conn *c)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int len = sizeof c->remote;

	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->remote, &len) <
	    0)
		return;
	if (c->remote.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (void *)&c->remote;

		uv_ip6_name(a, ip, sizeof ip);
		snprintf(c->remote_text, sizeof c->remote_text, "[%s]:%u", ip,
		    ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (void *)&c->remote;

		uv_ip4_name(a, ip, sizeof ip);
		snprintf(c->remote_text, sizeof c->remote_text, "%s:%u", ip,
		    ntohs(a->sin_port));
	}
}

void
cs_http__conn_accept(struct cs_http_server *srv)
{
	struct cs_http__conn *c = cs_calloc(1, sizeof *c);

	c->srv = srv;
	if (uv_tcp_init(srv->loop, &c->tcp) < 0) {
		free(c);
		return;
	}
	c->tcp.data = c;
	if (uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->tcp) <
	    0) {
		uv_close((uv_handle_t *)&c->tcp, on_early_close);
		return;
	}
	srv->stats.conns_accepted++;
	if (srv->n_conns >= srv->cfg.max_conns) {
		srv->stats.conns_rejected++;
		if (srv->n_rejecting >= CS_HTTP__MAX_REJECTS) {
			uv_close((uv_handle_t *)&c->tcp, on_early_close);
			return;
		}
		c->reject = 1;
		srv->n_rejecting++;
	}
	uv_timer_init(srv->loop, &c->timer);
	c->timer.data = c;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	srv->stats.conns_open = srv->n_conns;
	strcpy(c->remote_text, "?");
	remote_text(c);
	uv_tcp_nodelay(&c->tcp, 1);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	cs_buf_init(&c->in, srv->cfg.max_pipeline);
	c->phase = CS_HTTP__NEW;
	set_read_deadline(c, srv->cfg.header_timeout_ms);
	if (srv->ssl_ctx != NULL) {
		if (cs_tls_init(&c->tls, srv->ssl_ctx, NULL, 1, on_tls_send, c,
			c->errmsg) < 0) {
			cs_log(CS_LOG_WARN, "http tls init %s", c->errmsg);
			conn_close(c);
			return;
		}
		c->use_tls = 1;
	}
	after_process(c);
}
