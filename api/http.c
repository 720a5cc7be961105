/* http.c - server lifecycle, the request object, answering, and the pure
 * HTTP helpers (contract in http.h; connection I/O is in conn.c). */
#include "api/http.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/http_int.h"
#include "lib/log.h"
#include "lib/mem.h"

/* ---- server ---- */

static void
apply_defaults(struct cs_http_config *c)
{
	if (c->max_header_bytes == 0)
		c->max_header_bytes = CS_HTTP_DEFAULT_MAX_HEADER_BYTES;
	if (c->max_headers == 0)
		c->max_headers = CS_HTTP_DEFAULT_MAX_HEADERS;
	if (c->max_url == 0)
		c->max_url = CS_HTTP_DEFAULT_MAX_URL;
	if (c->max_body == 0)
		c->max_body = CS_HTTP_DEFAULT_MAX_BODY;
	if (c->max_conns == 0)
		c->max_conns = CS_HTTP_DEFAULT_MAX_CONNS;
	if (c->max_pipeline == 0)
		c->max_pipeline = CS_HTTP_DEFAULT_MAX_PIPELINE;
	if (c->header_timeout_ms == 0)
		c->header_timeout_ms = CS_HTTP_DEFAULT_HEADER_TIMEOUT;
	if (c->body_timeout_ms == 0)
		c->body_timeout_ms = CS_HTTP_DEFAULT_BODY_TIMEOUT;
	if (c->idle_timeout_ms == 0)
		c->idle_timeout_ms = CS_HTTP_DEFAULT_IDLE_TIMEOUT;
	if (c->write_timeout_ms == 0)
		c->write_timeout_ms = CS_HTTP_DEFAULT_WRITE_TIMEOUT;
	if (c->shutdown_timeout_ms == 0)
		c->shutdown_timeout_ms = CS_HTTP_DEFAULT_SHUTDOWN_TIMEOUT;
}

/* "1.2.3.4:80" or "[::1]:80" into addr. */
static int
parse_bind(const char *bind, struct sockaddr_storage *addr)
{
	char host[64];
	const char *colon;
	const char *h = bind;
	size_t hlen;
	char *end;
	long port;

	colon = strrchr(bind, ':');
	if (colon == NULL || colon[1] == '\0')
		return CS_EINVAL;
	hlen = (size_t)(colon - bind);
	if (bind[0] == '[') {
		if (hlen < 2 || bind[hlen - 1] != ']')
			return CS_EINVAL;
		h = bind + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof host)
		return CS_EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return CS_EINVAL;
	if (bind[0] == '[')
		return uv_ip6_addr(host, (int)port,
			   (struct sockaddr_in6 *)addr) == 0
			   ? 0
			   : CS_EINVAL;
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr) == 0
		   ? 0
		   : CS_EINVAL;
}

static void
on_connection(uv_stream_t *listener, int status)
{
	struct cs_http_server *srv = listener->data;

	if (status < 0) {
		cs_log(CS_LOG_WARN, "http accept rc=%s", uv_err_name(status));
		return;
	}
	if (srv->closing)
		return;
	cs_http__conn_accept(srv);
}

static void
on_failed_close(uv_handle_t *h)
{
	free(h->data);
}

int
cs_http_server_new(uv_loop_t *loop, const struct cs_http_config *cfg,
    struct cs_http_server **out, char *errmsg)
{
	struct cs_http_server *srv = NULL;
	struct sockaddr_storage addr;
	int len = sizeof addr;
	int rc;

	memset(&addr, 0, sizeof addr);
	if (cfg->handler == NULL || cfg->bind == NULL ||
	    parse_bind(cfg->bind, &addr) < 0) {
		cs_errmsg_printf(errmsg, "http server: bad config (bind %s)",
		    cfg->bind != NULL ? cfg->bind : "(none)");
		return CS_EINVAL;
	}
	srv = cs_calloc(1, sizeof *srv);
	srv->loop = loop;
	srv->cfg = *cfg;
	srv->cfg.bind = NULL;
	apply_defaults(&srv->cfg);
	rc = uv_tcp_init(loop, &srv->listener);
	if (rc < 0) {
		free(srv);
		cs_errmsg_printf(errmsg, "http server: %s", uv_strerror(rc));
		return cs_err_from_errno(rc);
	}
	srv->listener.data = srv;
	rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->listener, 511,
		    on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(&srv->listener,
		    (struct sockaddr *)&addr, &len);
	if (rc < 0) {
		cs_errmsg_printf(errmsg, "http server: listen %s: %s",
		    cfg->bind, uv_strerror(rc));
		uv_close((uv_handle_t *)&srv->listener, on_failed_close);
		return cs_err_from_errno(rc);
	}
	srv->port = ntohs(addr.ss_family == AF_INET6
			      ? ((struct sockaddr_in6 *)&addr)->sin6_port
			      : ((struct sockaddr_in *)&addr)->sin_port);
	if (cfg->ssl_ctx != NULL) {
		SSL_CTX_up_ref(cfg->ssl_ctx);
		srv->ssl_ctx = cfg->ssl_ctx;
	}
	srv->started = 1;
	*out = srv;
	return 0;
}

int
cs_http_server_port(const struct cs_http_server *srv)
{
	return srv->port;
}

int
cs_http_server_set_ssl_ctx(struct cs_http_server *srv, SSL_CTX *ctx)
{
	if (srv->ssl_ctx == NULL || ctx == NULL)
		return CS_EINVAL;
	SSL_CTX_up_ref(ctx);
	SSL_CTX_free(srv->ssl_ctx); /* live connections keep their own ref */
	srv->ssl_ctx = ctx;
	return 0;
}

const struct cs_http_stats *
cs_http_server_stats(const struct cs_http_server *srv)
{
	return &srv->stats;
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct cs_http_server *srv = h->data;

	SSL_CTX_free(srv->ssl_ctx);
	srv->close_cb(srv, srv->close_data);
	free(srv);
}

/* The last step: every connection and the listener are gone. */
static void
maybe_done(struct cs_http_server *srv)
{
	if (!srv->closing || srv->pending_closes > 0 || srv->n_conns > 0)
		return;
	srv->pending_closes = -1; /* done once */
	uv_close((uv_handle_t *)&srv->shutdown_timer, on_timer_closed);
}

static void
on_listener_closed(uv_handle_t *h)
{
	struct cs_http_server *srv = h->data;

	srv->pending_closes--;
	maybe_done(srv);
}

static void
on_shutdown_timeout(uv_timer_t *t)
{
	struct cs_http_server *srv = t->data;
	struct cs_http__conn *c;

	cs_log(CS_LOG_INFO, "http shutdown deadline conns=%u", srv->n_conns);
	for (c = srv->conns; c != NULL; c = c->next)
		cs_http__conn_abort(c); /* frees nothing synchronously */
}

void
cs_http_server_close(struct cs_http_server *srv, cs_http_close_cb cb,
    void *data)
{
	struct cs_http__conn *c;

	assert(!srv->closing);
	srv->closing = 1;
	srv->close_cb = cb;
	srv->close_data = data;
	uv_timer_init(srv->loop, &srv->shutdown_timer);
	srv->shutdown_timer.data = srv;
	uv_timer_start(&srv->shutdown_timer, on_shutdown_timeout,
	    srv->cfg.shutdown_timeout_ms, 0);
	srv->pending_closes = 1;
	uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
	for (c = srv->conns; c != NULL; c = c->next)
		cs_http__conn_drain(c);
	maybe_done(srv);
}

void
cs_http__server_conn_freed(struct cs_http_server *srv)
{
	maybe_done(srv);
}

/* ---- the request ---- */

struct cs_http_req *
cs_http__req_new(struct cs_http__conn *c)
{
	struct cs_http_req *req = cs_calloc(1, sizeof *req);
	const struct cs_http_config *cfg = &c->srv->cfg;

	req->magic = CS_HTTP__REQ_MAGIC;
	req->conn = c;
	cs_buf_init(&req->url, cfg->max_url);
	cs_buf_init(&req->hbuf, cfg->max_header_bytes);
	cs_buf_init(&req->body, cfg->max_body);
	req->remote = c->remote;
	memcpy(req->remote_text, c->remote_text, sizeof req->remote_text);
	req->tls = c->use_tls;
	return req;
}

void
cs_http__req_free(struct cs_http_req *req)
{
	struct cs_http__arena *a;

	if (req == NULL)
		return;
	assert(req->magic == CS_HTTP__REQ_MAGIC);
	cs_buf_close(&req->url);
	cs_buf_close(&req->hbuf);
	cs_buf_close(&req->body);
	free(req->hdrs);
	while ((a = req->arena) != NULL) {
		req->arena = a->next;
		free(a);
	}
	X509_free(req->peer);
	req->magic = CS_HTTP__REQ_FREED;
	free(req);
}

const char *
cs_http_req_method(const struct cs_http_req *req)
{
	return http_method_str(req->method);
}

enum http_method
cs_http_req_method_id(const struct cs_http_req *req)
{
	return req->method;
}

const char *
cs_http_req_target(const struct cs_http_req *req)
{
	return req->url.data != NULL ? (const char *)req->url.data : "";
}

const char *
cs_http_req_path(const struct cs_http_req *req)
{
	return req->path;
}

const char *
cs_http_req_query(const struct cs_http_req *req)
{
	return req->query;
}

int
cs_http_req_version(const struct cs_http_req *req)
{
	return req->version;
}

int
cs_http_req_keep_alive(const struct cs_http_req *req)
{
	return req->keep_alive;
}

const char *
cs_http_req_header(const struct cs_http_req *req, const char *name)
{
	const char *base = (const char *)req->hbuf.data;

	for (size_t i = 0; i < req->nhdrs; i++) {
		if (strcasecmp(base + req->hdrs[i].name, name) == 0)
			return base + req->hdrs[i].value;
	}
	return NULL;
}

size_t
cs_http_req_header_count(const struct cs_http_req *req)
{
	return req->nhdrs;
}

void
cs_http_req_header_at(const struct cs_http_req *req, size_t i,
    const char **name, const char **value)
{
	const char *base = (const char *)req->hbuf.data;

	assert(i < req->nhdrs);
	*name = base + req->hdrs[i].name;
	*value = base + req->hdrs[i].value;
}

const uint8_t *
cs_http_req_body(const struct cs_http_req *req, size_t *len)
{
	*len = req->body.len;
	return req->body.data != NULL ? req->body.data : (const uint8_t *)"";
}

const struct sockaddr_storage *
cs_http_req_remote(const struct cs_http_req *req)
{
	return &req->remote;
}

const char *
cs_http_req_remote_text(const struct cs_http_req *req)
{
	return req->remote_text;
}

X509 *
cs_http_req_peer_cert(const struct cs_http_req *req, int *verified)
{
	if (verified != NULL)
		*verified = req->peer != NULL && req->peer_verified;
	return req->peer;
}

int
cs_http_req_tls(const struct cs_http_req *req)
{
	return req->tls;
}

int
cs_http_req_gone(const struct cs_http_req *req)
{
	assert(req->magic == CS_HTTP__REQ_MAGIC);
	return req->conn == NULL && req->sink == NULL;
}

#define ARENA_CHUNK 4096u
#define ARENA_ALIGN (sizeof(max_align_t))

void *
cs_http_req_alloc(struct cs_http_req *req, size_t n)
{
	struct cs_http__arena *a = req->arena;
	size_t size;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN)
		abort();
	n = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
	if (a == NULL || a->size - a->used < n) {
		size = n > ARENA_CHUNK / 2 ? n : ARENA_CHUNK;
		a = cs_malloc(sizeof *a + size);
		a->size = size;
		a->used = 0;
		if (size > ARENA_CHUNK && req->arena != NULL) {
			/* A big one: keep filling the current small chunk. */
			a->next = req->arena->next;
			req->arena->next = a;
		} else {
			a->next = req->arena;
			req->arena = a;
		}
	}
	p = (char *)a->data + a->used;
	a->used += n;
	return p;
}

char *
cs_http_req_strndup(struct cs_http_req *req, const char *s, size_t n)
{
	char *p = cs_http_req_alloc(req, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
cs_http_req_query_param(struct cs_http_req *req, const char *name,
    const char **out)
{
	const char *raw;
	size_t len;
	size_t outlen;
	char *p;
	int rc;

	if (req->query == NULL)
		return CS_ENOTFOUND;
	rc = cs_http_query_find(req->query, name, &raw, &len);
	if (rc < 0)
		return rc;
	p = cs_http_req_alloc(req, len + 1);
	rc = cs_http_pct_decode(raw, len, p, &outlen, 1);
	if (rc < 0)
		return rc;
	*out = p;
	return 0;
}

/* ---- inner requests ---- */

static void
inner_header(struct cs_http_req *req, const char *name, const char *value)
{
	if (req->nhdrs == req->hdrs_cap) {
		req->hdrs_cap = req->hdrs_cap == 0 ? 8 : req->hdrs_cap * 2;
		req->hdrs = cs_reallocarray(req->hdrs, req->hdrs_cap,
		    sizeof *req->hdrs);
	}
	req->hdrs[req->nhdrs].name = req->hbuf.len;
	cs_buf_append(&req->hbuf, name, strlen(name) + 1);
	req->hdrs[req->nhdrs].value = req->hbuf.len;
	cs_buf_append(&req->hbuf, value, strlen(value) + 1);
	req->nhdrs++;
}

struct cs_http_req *
cs_http_req_new_inner(const struct cs_http_req *outer, enum http_method method,
    const char *target, size_t target_len, const struct cs_http_header *headers,
    size_t n, const void *body, size_t len, cs_http_sink sink, void *data)
{
	struct cs_http_req *req = cs_calloc(1, sizeof *req);
	int rc;

	assert(target_len > 0 && target[0] == '/' &&
	       memchr(target, '\0', target_len) == NULL);
	req->magic = CS_HTTP__REQ_MAGIC;
	req->method = method;
	req->version = 11;
	req->keep_alive = 1;
	req->tls = outer->tls;
	req->remote = outer->remote;
	memcpy(req->remote_text, outer->remote_text, sizeof req->remote_text);
	if (outer->peer != NULL && X509_up_ref(outer->peer) == 1) {
		req->peer = outer->peer;
		req->peer_verified = outer->peer_verified;
	}
	req->sink = sink;
	req->sink_data = data;
	/* the outer request's caps bound every part: no caps here */
	cs_buf_init(&req->url, SIZE_MAX);
	cs_buf_init(&req->hbuf, SIZE_MAX);
	cs_buf_init(&req->body, SIZE_MAX);
	cs_buf_append(&req->url, target, target_len);
	for (size_t i = 0; i < n; i++)
		inner_header(req, headers[i].name, headers[i].value);
	cs_buf_append(&req->body, body, len);
	rc = cs_http__split_target(req); /* origin-form: cannot fail */
	assert(rc == 0);
	(void)rc;
	return req;
}

/* ---- answering ---- */

static int
respond(struct cs_http_req *req, int status,
    const struct cs_http_header *headers, size_t n, uint8_t *body, size_t len)
{
	struct cs_http__conn *c;
	int rc;

	assert(req->magic == CS_HTTP__REQ_MAGIC);
	if (req->sink != NULL) {
		req->sink(req->sink_data, status, headers, n, body, len);
		cs_http__req_free(req);
		return 0;
	}
	c = req->conn;
	if (c == NULL) {
		free(body);
		cs_http__req_free(req);
		return CS_ECANCELED;
	}
	rc = cs_http__conn_respond(c, req, status, headers, n, body, len);
	cs_http__req_free(req);
	cs_http__conn_resume(c);
	return rc;
}

int
cs_http_respond(struct cs_http_req *req, int status,
    const struct cs_http_header *headers, size_t n, const void *body,
    size_t len)
{
	uint8_t *copy = NULL;

	/* A detached request needs no copy; a HEAD still needs the length. */
	if (len > 0 && (req->conn != NULL || req->sink != NULL) &&
	    req->method != HTTP_HEAD)
		copy = cs_memdup(body, len);
	return respond(req, status, headers, n, copy, len);
}

int
cs_http_respond_take(struct cs_http_req *req, int status,
    const struct cs_http_header *headers, size_t n, void *body, size_t len)
{
	return respond(req, status, headers, n, body, len);
}

int
cs_http_respond_problem(struct cs_http_req *req, int status, const char *detail)
{
	static const struct cs_http_header h[] = {
	    {"Content-Type", "application/problem+json"},
	};
	uint8_t *body;
	size_t len;

	body = cs_http__problem(status, detail, &len);
	return respond(req, status, h, 1, body, len);
}

/* ---- formatting ---- */

static int
is_tchar(unsigned char ch)
{
	/* RFC 9110 token characters */
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z') ||
	       strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Names the server writes itself. */
static int
reserved(const char *name)
{
	return strcasecmp(name, "Content-Length") == 0 ||
	       strcasecmp(name, "Date") == 0 ||
	       strcasecmp(name, "Connection") == 0 ||
	       strcasecmp(name, "Transfer-Encoding") == 0;
}

int
cs_http__headers_check(const struct cs_http_header *h, size_t n,
    int *want_close)
{
	*want_close = 0;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p;

		if (h[i].name == NULL || h[i].value == NULL ||
		    h[i].name[0] == '\0')
			return CS_EINVAL;
		for (p = (const unsigned char *)h[i].name; *p != '\0'; p++) {
			if (!is_tchar(*p))
				return CS_EINVAL;
		}
		for (p = (const unsigned char *)h[i].value; *p != '\0'; p++) {
			if (*p == '\r' || *p == '\n')
				return CS_EINVAL;
		}
		if (strcasecmp(h[i].name, "Connection") == 0 &&
		    strcasecmp(h[i].value, "close") == 0)
			*want_close = 1;
	}
	return 0;
}

char *
cs_http__format_head(int status, const struct cs_http_header *h, size_t n,
    int with_length, size_t body_len, int close, int keep10, size_t *len)
{
	/* the Date text changes once a second: kept per thread */
	static _Thread_local int64_t date_sec = -1;
	static _Thread_local char date[32];
	int64_t now = (int64_t)time(NULL);
	char num[3 * sizeof(size_t) + 1];
	struct cs_buf b;
	int rc;

	if (now != date_sec) {
		cs_http_date_format(now, date);
		date_sec = now;
	}
	/* appends, not printf: this runs once per response */
	cs_buf_init(&b, CS_HTTP__MAX_HEAD);
	rc = cs_buf_reserve(&b, 256);
	if (rc == 0 && (status < 100 || status > 999))
		rc = CS_EINVAL;
	if (rc == 0) {
		char line[] = "HTTP/1.1 000 ";

		line[9] = (char)('0' + status / 100);
		line[10] = (char)('0' + status / 10 % 10);
		line[11] = (char)('0' + status % 10);
		rc = cs_buf_append_str(&b, line);
	}
	if (rc == 0)
		rc = cs_buf_append_str(&b, cs_http_status_text(status));
	if (rc == 0)
		rc = cs_buf_append_str(&b, "\r\nDate: ");
	if (rc == 0)
		rc = cs_buf_append_str(&b, date);
	if (rc == 0)
		rc = cs_buf_append_str(&b, "\r\n");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (reserved(h[i].name))
			continue;
		rc = cs_buf_append_str(&b, h[i].name);
		if (rc == 0)
			rc = cs_buf_append(&b, ": ", 2);
		if (rc == 0)
			rc = cs_buf_append_str(&b, h[i].value);
		if (rc == 0)
			rc = cs_buf_append(&b, "\r\n", 2);
	}
	if (rc == 0 && with_length) {
		char *p = num + sizeof num;
		size_t v = body_len;

		do
			*--p = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		rc = cs_buf_append_str(&b, "Content-Length: ");
		if (rc == 0)
			rc = cs_buf_append(&b, p,
			    (size_t)(num + sizeof num - p));
		if (rc == 0)
			rc = cs_buf_append(&b, "\r\n", 2);
	}
	if (rc == 0 && close)
		rc = cs_buf_append_str(&b, "Connection: close\r\n");
	else if (rc == 0 && keep10)
		rc = cs_buf_append_str(&b, "Connection: keep-alive\r\n");
	if (rc == 0)
		rc = cs_buf_append_str(&b, "\r\n");
	if (rc < 0) {
		cs_buf_close(&b);
		return NULL;
	}
	return (char *)cs_buf_steal(&b, len);
}

/* The problem type of the errors the HTTP layer answers by itself, in
 * the API's urn:certstore:problem: namespace. */
static const char *
problem_slug(int status)
{
	switch (status) {
	case 400:
		return "bad-request";
	case 408:
		return "request-timeout";
	case 411:
		return "length-required";
	case 413:
		return "too-big";
	case 414:
		return "uri-too-long";
	case 417:
		return "expectation-failed";
	case 431:
		return "headers-too-large";
	case 501:
		return "not-implemented";
	case 503:
		return "unavailable";
	case 505:
		return "http-version";
	default:
		return status >= 500 ? "internal" : "bad-request";
	}
}

uint8_t *
cs_http__problem(int status, const char *detail, size_t *len)
{
	struct cs_buf b;
	const unsigned char *p;

	cs_buf_init(&b, SIZE_MAX / 2);
	(void)cs_buf_printf(&b,
	    "{\"type\":\"urn:certstore:problem:%s\",\"title\":\"%s\","
	    "\"status\":%d",
	    problem_slug(status), cs_http_status_text(status), status);
	if (detail != NULL) {
		(void)cs_buf_append_str(&b, ",\"detail\":\"");
		for (p = (const unsigned char *)detail; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				(void)cs_buf_printf(&b, "\\%c", *p);
			else if (*p < 0x20 || *p == 0x7f)
				(void)cs_buf_printf(&b, "\\u%04x", *p);
			else
				(void)cs_buf_append_byte(&b, *p);
		}
		(void)cs_buf_append_str(&b, "\"");
	}
	(void)cs_buf_append_str(&b, "}");
	return cs_buf_steal(&b, len);
}

const char *
cs_http_status_text(int status)
{
	const char *s;

	if (status < 100 || status > 599)
		return "Unknown";
	s = http_status_str((enum http_status)status);
	return strcmp(s, "<unknown>") == 0 ? "Unknown" : s;
}

void
cs_http_date_format(int64_t t, char *out)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    (tm.tm_year + 1900) % 10000, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
cs_http_pct_decode(const char *s, size_t len, char *out, size_t *outlen,
    int plus_space)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)s[i];

		if (ch == '%') {
			int hi;
			int lo;

			if (len - i < 3)
				return CS_EINVAL;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return CS_EINVAL;
			ch = hi * 16 + lo;
			i += 2;
		} else if (ch == '+' && plus_space) {
			ch = ' ';
		}
		if (ch == 0)
			return CS_EINVAL;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

int
cs_http_query_find(const char *query, const char *name, const char **value,
    size_t *len)
{
	size_t nlen = strlen(name);
	const char *p = query;

	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t plen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', plen);
		size_t klen = eq != NULL ? (size_t)(eq - p) : plen;

		if (klen == nlen && memcmp(p, name, nlen) == 0) {
			*value = eq != NULL ? eq + 1 : p + plen;
			*len = eq != NULL ? plen - klen - 1 : 0;
			return 0;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	return CS_ENOTFOUND;
}
