/*
 * client.c - libcurl's multi-socket interface driven by a libuv loop.
 *
 * libcurl tells us which sockets to watch (on_curl_socket: one uv_poll_t
 * per socket, struct sock) and when to wake it up (on_curl_timer:
 * c->timer). When either fires we hand the event to
 * curl_multi_socket_action() and then collect finished transfers
 * (check_done). User callbacks are called only from check_done(),
 * on_deadline() and finish(): never from inside a libcurl callback, never
 * from cs_client_send() or cs_client_close(). So a user callback may
 * re-enter the client freely.
 *
 * Deadlines are ours as well as libcurl's: libcurl 7.88 does not time out
 * a transfer queued for a connection (CURLMOPT_MAX_HOST_CONNECTIONS) until
 * it gets one, so a request behind a hung one would first wait for that
 * one's timeout. c->active is kept sorted by deadline and c->deadline
 * fires for its head (on_deadline); whichever of libcurl and us sees the
 * deadline first ends the transfer with CS_ETIMEDOUT.
 *
 * Each sent request has a struct cs_client__xfer (the easy handle, the
 * response buffers), always on exactly one of:
 *   c->active    in the multi handle, sorted by deadline;
 *   a local list in check_done() or on_deadline(): removed from the multi
 *                handle, callback about to run;
 *   c->canceled  removed by cs_client_close(), callback runs in finish().
 * That is what makes "exactly once" hold. The xfer is freed right after
 * its callback returns, so the views in the request die with it.
 *
 * Closing: cs_client_close() cancels and detaches every xfer, cleans up
 * the multi handle (libcurl closes its cached connections and asks us to
 * stop watching their sockets), closes any poll libcurl left, and the
 * timers. c->nhandles counts the uv handles not yet closed; the last close
 * callback runs finish(): cancelled callbacks, the close callback, free.
 */
#include "api/client.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_TIMEOUT_MS         30000
#define DEFAULT_MAX_HOST_CONNS     4
#define DEFAULT_MAX_CONNS          16
#define DEFAULT_MAX_BODY           (1024 * 1024)
#define DEFAULT_MAX_REQUESTS       1024
#define MAX_PEER_NAME              253

struct cs_client__xfer {
	struct cs_client *c;
	struct cs_client_req *req;
	cs_client_cb cb;
	CURL *easy;                    /* NULL once cancelled */
	struct curl_slist *headers;    /* request headers, owned */
	struct curl_slist *connect_to; /* peer_name redirection, owned */
	struct cs_buf body;            /* response body, capped at max_body */
	struct cs_buf rhdrs; /* response headers: "name\0value\0"... */
	uint64_t deadline;   /* uv_hrtime() in ms */
	long timeout_ms;
	int toobig; /* a write callback hit a cap */
	int status; /* what the callback will get */
	char curl_err[CURL_ERROR_SIZE];
	struct cs_client__xfer *prev, *next;
};

struct xlist {
	struct cs_client__xfer *head, *tail;
};

/* A socket libcurl asked us to watch. */
struct sock {
	uv_poll_t poll;
	struct cs_client *c;
	curl_socket_t fd;
	struct sock *prev, *next; /* c->socks while not closing */
};

struct cs_client {
	uv_loop_t *loop;
	CURLM *multi;        /* NULL once closing */
	uv_timer_t timer;    /* libcurl's */
	uv_timer_t deadline; /* the earliest request deadline */
	char *ca_file;
	char *cert_file;
	char *key_file;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_body;
	unsigned max_requests;
	unsigned nreq; /* xfers on active */
	struct xlist active;
	struct xlist canceled;
	struct sock *socks; /* polls not yet closing */
	unsigned nhandles;  /* uv handles not yet closed (timers + socks) */
	int closing;
	cs_client_close_cb close_cb;
	void *data;
};

static const uint8_t empty_body[1] = {0};

static void finish(struct cs_client *c);

/* ---- lists ---- */

static void
xlist_push(struct xlist *l, struct cs_client__xfer *x)
{
	x->next = NULL;
	x->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = x;
	else
		l->head = x;
	l->tail = x;
}

static void
xlist_remove(struct xlist *l, struct cs_client__xfer *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		l->head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = NULL;
	x->next = NULL;
}

/* Keeps l sorted by deadline; equal deadlines stay in sending order. Most
 * requests use the default timeout, so this is usually an append. */
static void
xlist_insert_sorted(struct xlist *l, struct cs_client__xfer *x)
{
	struct cs_client__xfer *at = l->tail;

	while (at != NULL && at->deadline > x->deadline)
		at = at->prev;
	if (at == NULL) {
		x->prev = NULL;
		x->next = l->head;
		if (l->head != NULL)
			l->head->prev = x;
		else
			l->tail = x;
		l->head = x;
		return;
	}
	x->prev = at;
	x->next = at->next;
	if (at->next != NULL)
		at->next->prev = x;
	else
		l->tail = x;
	at->next = x;
}

static struct cs_client__xfer *
xlist_pop(struct xlist *l)
{
	struct cs_client__xfer *x = l->head;

	if (x != NULL)
		xlist_remove(l, x);
	return x;
}

/* ---- handle lifetimes ---- */

static void
on_handle_closed(struct cs_client *c)
{
	assert(c->nhandles > 0);
	c->nhandles--;
	if (c->closing && c->nhandles == 0)
		finish(c);
}

static void
on_sock_close(uv_handle_t *h)
{
	struct sock *s = cs_container_of(h, struct sock, poll);
	struct cs_client *c = s->c;

	free(s);
	on_handle_closed(c);
}

static void
on_timer_close(uv_handle_t *h)
{
	on_handle_closed(cs_container_of(h, struct cs_client, timer));
}

static void
on_deadline_close(uv_handle_t *h)
{
	on_handle_closed(cs_container_of(h, struct cs_client, deadline));
}

/* Stops watching s; uv_close() stops the poll at once, so libcurl may
 * close the descriptor right after this returns. */
static void
sock_close(struct sock *s)
{
	struct cs_client *c = s->c;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		c->socks = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	uv_close((uv_handle_t *)&s->poll, on_sock_close);
}

static void
xfer_free(struct cs_client__xfer *x)
{
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
	cs_buf_close(&x->body);
	cs_buf_close(&x->rhdrs);
	free(x);
}

/* ---- completion ---- */

static int
status_from_curl(struct cs_client__xfer *x, CURLcode cc)
{
	switch (cc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return CS_ETIMEDOUT;
	case CURLE_FILESIZE_EXCEEDED:
		return CS_ETOOBIG;
	case CURLE_WRITE_ERROR:
		return x->toobig ? CS_ETOOBIG : CS_EIO;
	case CURLE_OUT_OF_MEMORY:
		return CS_ENOMEM;
	default:
		return CS_EIO;
	}
}

/* Records the outcome of a transfer that libcurl finished with cc. */
static void
xfer_done(struct cs_client__xfer *x, CURLcode cc)
{
	struct cs_client_req *req = x->req;
	long code = 0;

	x->status = status_from_curl(x, cc);
	if (x->status == 0) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		req->http_status = (int)code;
		req->errmsg[0] = '\0';
	} else if (x->status == CS_ETOOBIG) {
		cs_errmsg_printf(req->errmsg,
		    "response over its cap (body %zu bytes, headers %d bytes)",
		    x->c->max_body, CS_CLIENT_MAX_HEADER_BYTES);
	} else {
		cs_errmsg_printf(req->errmsg, "%s",
		    x->curl_err[0] != '\0' ? x->curl_err
					   : curl_easy_strerror(cc));
	}
}

/* Calls the callback of x, then frees x. Touches neither x->req nor the
 * client afterwards: the callback may free the one and close the other. */
static void
xfer_deliver(struct cs_client__xfer *x)
{
	struct cs_client_req *req = x->req;
	cs_client_cb cb = x->cb;
	int status = x->status;

	req->state = CS_CLIENT_REQ_DONE;
	req->xfer = x;
	req->resp = NULL;
	req->resp_len = 0;
	if (status == 0) {
		req->resp = x->body.data != NULL ? x->body.data : empty_body;
		req->resp_len = x->body.len;
	} else {
		req->http_status = 0;
	}
	cb(req, status);
	xfer_free(x);
}

/* c stays allocated until a later loop iteration even if a callback
 * closes it, but c->multi is then gone: only the list is used here. */
static void
deliver_all(struct xlist *done)
{
	struct cs_client__xfer *x;

	for (;;) {
		x = xlist_pop(done);
		if (x == NULL)
			break;
		xfer_deliver(x);
	}
}

static void arm_deadline(struct cs_client *c);

static void
check_done(struct cs_client *c)
{
	struct xlist done = {NULL, NULL};
	struct cs_client__xfer *head = c->active.head;
	struct cs_client__xfer *x;
	CURLMsg *msg;
	CURLcode cc;
	char *priv;
	int left;

	/* Collect first: no libcurl call may run while user code does. */
	for (;;) {
		msg = curl_multi_info_read(c->multi, &left);
		if (msg == NULL)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		cc = msg->data.result;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct cs_client__xfer *)(void *)priv;
		assert(x != NULL && x->easy == msg->easy_handle);
		curl_multi_remove_handle(c->multi, x->easy);
		xlist_remove(&c->active, x);
		c->nreq--;
		xfer_done(x, cc);
		xlist_push(&done, x);
	}
	/* re-arm for the new earliest, or stop: an idle client must not
	 * keep waking the loop */
	if (c->active.head != head)
		arm_deadline(c);
	deliver_all(&done);
}

/* The last uv handle of a closing client is closed. */
static void
finish(struct cs_client *c)
{
	struct cs_client__xfer *x;
	cs_client_close_cb cb = c->close_cb;

	assert(c->closing && c->nhandles == 0 && c->multi == NULL);
	for (;;) {
		x = xlist_pop(&c->canceled);
		if (x == NULL)
			break;
		xfer_deliver(x);
	}
	if (cb != NULL)
		cb(c);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c);
	curl_global_cleanup();
}

/* ---- deadlines ---- */

static uint64_t
now_ms(void)
{
	return uv_hrtime() / 1000000;
}

static void on_deadline(uv_timer_t *t);

/* Arms c->deadline for the earliest request. The loop's cached time may
 * lag, so on_deadline() checks the clock and re-arms when early. */
static void
arm_deadline(struct cs_client *c)
{
	struct cs_client__xfer *x = c->active.head;
	uint64_t now = now_ms();

	if (c->closing)
		return;
	if (x == NULL) {
		uv_timer_stop(&c->deadline);
		return;
	}
	uv_timer_start(&c->deadline, on_deadline,
	    x->deadline > now ? x->deadline - now : 0, 0);
}

static void
on_deadline(uv_timer_t *t)
{
	struct cs_client *c = cs_container_of(t, struct cs_client, deadline);
	struct xlist done = {NULL, NULL};
	struct cs_client__xfer *x;
	uint64_t now = now_ms();

	for (;;) {
		x = c->active.head;
		if (x == NULL || x->deadline > now)
			break;
		xlist_remove(&c->active, x);
		curl_multi_remove_handle(c->multi, x->easy);
		c->nreq--;
		x->status = CS_ETIMEDOUT;
		cs_errmsg_printf(x->req->errmsg,
		    "timed out after %ld ms (waiting for a connection, or "
		    "in progress)",
		    x->timeout_ms);
		xlist_push(&done, x);
	}
	arm_deadline(c);
	deliver_all(&done);
}

/* ---- libcurl <-> libuv ---- */

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *s = cs_container_of(p, struct sock, poll);
	struct cs_client *c = s->c;
	int flags = 0;
	int running;
	CURLMcode mc;

	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	mc = curl_multi_socket_action(c->multi, s->fd, flags, &running);
	/* s may be closing now (libcurl dropped the socket): not used below */
	if (mc != CURLM_OK)
		cs_log(CS_LOG_WARN, "client socket_action rc=%d err=\"%s\"",
		    (int)mc, curl_multi_strerror(mc));
	check_done(c);
}

static void
on_timer(uv_timer_t *t)
{
	struct cs_client *c = cs_container_of(t, struct cs_client, timer);
	int running;
	CURLMcode mc;

	mc = curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	if (mc != CURLM_OK)
		cs_log(CS_LOG_WARN, "client timer_action rc=%d err=\"%s\"",
		    (int)mc, curl_multi_strerror(mc));
	check_done(c);
}

/* CURLMOPT_TIMERFUNCTION: never call socket_action from here, only arm
 * the timer (a 0 ms timer fires in the next loop iteration). */
static int
on_curl_timer(CURLM *m, long ms, void *arg)
{
	struct cs_client *c = arg;

	(void)m;
	if (c->closing)
		return 0;
	if (ms < 0)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, on_timer, (uint64_t)ms, 0);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION. After CURL_POLL_REMOVE libcurl forgets sockp
 * itself, and may close fd as soon as we return. Returning -1 would mark
 * the whole multi handle dead (CURLM_ABORTED_BY_CALLBACK for every later
 * call), so a poll that cannot start is logged and left to the transfer's
 * timeout instead. */
static int
on_curl_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct cs_client *c = arg;
	struct sock *s = sockp;
	int events = 0;
	int rc;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			sock_close(s);
		return 0;
	}
	if (c->closing)
		return 0;
	if (s == NULL) {
		s = cs_calloc(1, sizeof *s);
		rc = uv_poll_init_socket(c->loop, &s->poll, fd);
		if (rc != 0) {
			cs_log(CS_LOG_ERR, "client poll_init fd=%d err=%s",
			    (int)fd, uv_strerror(rc));
			free(s);
			return 0;
		}
		s->c = c;
		s->fd = fd;
		s->next = c->socks;
		if (c->socks != NULL)
			c->socks->prev = s;
		c->socks = s;
		c->nhandles++;
		curl_multi_assign(c->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	rc = uv_poll_start(&s->poll, events, on_poll);
	if (rc != 0)
		cs_log(CS_LOG_ERR, "client poll_start fd=%d err=%s", (int)fd,
		    uv_strerror(rc));
	return 0;
}

/* ---- response writers ---- */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct cs_client__xfer *x = arg;

	if (cs_buf_append(&x->body, p, size * n) < 0) {
		x->toobig = 1;
		return 0; /* CURLE_WRITE_ERROR */
	}
	return size * n;
}

static int
is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Called once per header line of every response, interim (1xx) ones too:
 * a status line starts the set over, so only the final response's
 * headers are kept. Obsolete line folding is dropped. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct cs_client__xfer *x = arg;
	size_t len = size * n;
	const char *end = p + len;
	const char *colon;
	const char *name_end;
	const char *v;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		cs_buf_reset(&x->rhdrs);
		return len;
	}
	while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	colon = memchr(p, ':', (size_t)(end - p));
	if (colon == NULL || colon == p || is_ows(p[0]))
		return len;
	name_end = colon;
	while (name_end > p && is_ows(name_end[-1]))
		name_end--;
	v = colon + 1;
	while (v < end && is_ows(*v))
		v++;
	while (end > v && is_ows(end[-1]))
		end--;
	if (cs_buf_reserve(&x->rhdrs,
		(size_t)(name_end - p) + (size_t)(end - v) + 2) < 0) {
		x->toobig = 1;
		return 0;
	}
	cs_buf_append(&x->rhdrs, p, (size_t)(name_end - p));
	cs_buf_append_byte(&x->rhdrs, 0);
	cs_buf_append(&x->rhdrs, v, (size_t)(end - v));
	cs_buf_append_byte(&x->rhdrs, 0);
	return len;
}

/* ---- the client ---- */

/* Drains OpenSSL's error queue into errmsg behind context. */
static void
ssl_errmsg(char *errmsg, const char *context, const char *file)
{
	char text[160] = "no detail";
	unsigned long e;
	unsigned long last = 0;

	for (;;) {
		e = ERR_get_error();
		if (e == 0)
			break;
		last = e;
	}
	if (last != 0)
		ERR_error_string_n(last, text, sizeof text);
	cs_errmsg_printf(errmsg, "%s %s: %s", context, file, text);
}

/* Keys must not be encrypted: never prompt on a terminal for one. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return 0;
}

/* Loads the files once, so a bad path or a key that does not match its
 * certificate fails at start rather than at the first request. libcurl
 * loads them again for each new connection. */
static int
check_tls_files(const struct cs_client_config *cfg, char *errmsg)
{
	SSL_CTX *ctx = NULL;
	int rc = CS_EINVAL;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		ssl_errmsg(errmsg, "SSL_CTX_new", "");
		rc = CS_ECRYPTO;
		goto out;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
		ssl_errmsg(errmsg, "ca_file", cfg->ca_file);
		goto out;
	}
	if (cfg->cert_file == NULL) {
		rc = 0;
		goto out;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
		ssl_errmsg(errmsg, "cert_file", cfg->cert_file);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) !=
	    1) {
		ssl_errmsg(errmsg, "key_file", cfg->key_file);
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_errmsg(errmsg, "key_file does not match", cfg->cert_file);
		goto out;
	}
	rc = 0;
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

static long
ms_to_long(uint64_t ms, uint64_t dflt)
{
	if (ms == 0)
		ms = dflt;
	return ms > LONG_MAX ? LONG_MAX : (long)ms;
}

struct cs_client *
cs_client_new(uv_loop_t *loop, const struct cs_client_config *cfg, char *errmsg)
{
	struct cs_client *c = NULL;
	unsigned host_conns;
	unsigned conns;
	CURLMcode mc = CURLM_OK;
	int global = 0;

	assert(loop != NULL && cfg != NULL);
	if (cfg->ca_file == NULL) {
		cs_errmsg_printf(errmsg, "client: ca_file is required");
		goto fail;
	}
	if ((cfg->cert_file == NULL) != (cfg->key_file == NULL)) {
		cs_errmsg_printf(errmsg,
		    "client: cert_file and key_file go together");
		goto fail;
	}
	if (check_tls_files(cfg, errmsg) < 0) {
		cs_errmsg_wrapf(errmsg, "client");
		goto fail;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cs_errmsg_printf(errmsg, "client: curl_global_init failed");
		goto fail;
	}
	global = 1;

	c = cs_calloc(1, sizeof *c);
	c->loop = loop;
	c->ca_file = cs_strdup(cfg->ca_file);
	if (cfg->cert_file != NULL) {
		c->cert_file = cs_strdup(cfg->cert_file);
		c->key_file = cs_strdup(cfg->key_file);
	}
	c->connect_timeout_ms =
	    ms_to_long(cfg->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
	c->timeout_ms = ms_to_long(cfg->timeout_ms, DEFAULT_TIMEOUT_MS);
	c->max_body = cfg->max_body != 0 ? cfg->max_body : DEFAULT_MAX_BODY;
	c->max_requests =
	    cfg->max_requests != 0 ? cfg->max_requests : DEFAULT_MAX_REQUESTS;
	host_conns = cfg->max_host_connections != 0 ? cfg->max_host_connections
						    : DEFAULT_MAX_HOST_CONNS;
	conns = cfg->max_connections != 0 ? cfg->max_connections
					  : DEFAULT_MAX_CONNS;
	if (host_conns > conns)
		host_conns = conns;

	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		cs_errmsg_printf(errmsg, "client: curl_multi_init failed");
		goto fail;
	}
	/* The timers first: from here on nothing fails, so they are always
	 * there for cs_client_close() to close. */
	uv_timer_init(loop, &c->timer);
	uv_timer_init(loop, &c->deadline);
	c->nhandles = 2;
	mc = curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION,
	    on_curl_socket);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION,
		    on_curl_timer);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_PIPELINING,
		    (long)CURLPIPE_NOTHING);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
		    (long)host_conns);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
		    (long)conns);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
		    (long)conns);
	/* Failing here is a programming error (an option name), not input. */
	assert(mc == CURLM_OK);
	return c;

fail:
	if (c != NULL) {
		curl_multi_cleanup(c->multi);
		free(c->ca_file);
		free(c->cert_file);
		free(c->key_file);
		free(c);
	}
	if (global)
		curl_global_cleanup();
	return NULL;
}

void
cs_client_close(struct cs_client *c, cs_client_close_cb cb)
{
	struct cs_client__xfer *x;

	assert(c != NULL);
	if (c->closing)
		return;
	c->closing = 1;
	c->close_cb = cb;
	for (;;) {
		x = xlist_pop(&c->active);
		if (x == NULL)
			break;
		/* Closes the transfer's connection: a CURL_POLL_REMOVE */
		curl_multi_remove_handle(c->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
		x->status = CS_ECANCELED;
		cs_errmsg_printf(x->req->errmsg, "canceled: client closed");
		c->nreq--;
		xlist_push(&c->canceled, x);
	}
	assert(c->nreq == 0);
	/* Closes the cached connections; libcurl may or may not report
	 * them with CURL_POLL_REMOVE. */
	curl_multi_cleanup(c->multi);
	c->multi = NULL;
	while (c->socks != NULL)
		sock_close(c->socks);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_timer_close);
	uv_timer_stop(&c->deadline);
	uv_close((uv_handle_t *)&c->deadline, on_deadline_close);
}

void
cs_client_set_data(struct cs_client *c, void *data)
{
	c->data = data;
}

void *
cs_client_get_data(const struct cs_client *c)
{
	return c->data;
}

unsigned
cs_client_pending(const struct cs_client *c)
{
	return c->nreq;
}

/* ---- requests ---- */

void
cs_client_req_init(struct cs_client_req *req)
{
	memset(req, 0, sizeof *req);
}

void
cs_client_req_reset(struct cs_client_req *req)
{
	assert(req->state != CS_CLIENT_REQ_ACTIVE);
	req->state = CS_CLIENT_REQ_IDLE;
	req->cb = NULL;
	req->xfer = NULL;
	req->http_status = 0;
	req->resp = NULL;
	req->resp_len = 0;
	req->errmsg[0] = '\0';
}

static const char *const method_names[CS_CLIENT_METHOD__MAX] = {
    [CS_CLIENT_METHOD_GET] = "GET",
    [CS_CLIENT_METHOD_HEAD] = "HEAD",
    [CS_CLIENT_METHOD_POST] = "POST",
    [CS_CLIENT_METHOD_PUT] = "PUT",
    [CS_CLIENT_METHOD_PATCH] = "PATCH",
    [CS_CLIENT_METHOD_DELETE] = "DELETE",
};

/* "Name: value" with a token name and no control characters but HTAB. */
static int
check_header(const char *h, char *errmsg)
{
	size_t len = strnlen(h, CS_CLIENT_MAX_REQ_HEADER + 1);
	const char *colon;

	if (len > CS_CLIENT_MAX_REQ_HEADER) {
		cs_errmsg_printf(errmsg, "request header over %d bytes",
		    CS_CLIENT_MAX_REQ_HEADER);
		return CS_ETOOBIG;
	}
	colon = strchr(h, ':');
	if (colon == NULL || colon == h) {
		cs_errmsg_printf(errmsg, "request header without a name");
		return CS_EINVAL;
	}
	for (const char *p = h; p < colon; p++) {
		if (*p <= ' ' || *p == 0x7f ||
		    strchr("()<>@,;\\\"/[]?={}", *p)) {
			cs_errmsg_printf(errmsg, "bad request header name");
			return CS_EINVAL;
		}
	}
	for (const char *p = colon; *p != '\0'; p++) {
		if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f) {
			cs_errmsg_printf(errmsg,
			    "control character in request header");
			return CS_EINVAL;
		}
	}
	return 0;
}

/* curl_slist_append() returns NULL only when out of memory: abort, as
 * cs_malloc() does. */
static struct curl_slist *
slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist *n = curl_slist_append(l, s);

	if (n == NULL) {
		cs_log(CS_LOG_ERR, "out of memory in curl_slist_append");
		abort();
	}
	return n;
}

/* libcurl drops a header given as "Name:" with an empty value (it means
 * "remove"); "Name;" is its spelling for an empty one. */
static struct curl_slist *
header_add(struct curl_slist *l, const char *h)
{
	const char *colon = strchr(h, ':');
	const char *v = colon + 1;
	struct curl_slist *n;
	char *tmp;

	while (is_ows(*v))
		v++;
	if (*v != '\0')
		return slist_add(l, h);
	tmp = cs_strndup(h, (size_t)(colon - h) + 1);
	tmp[colon - h] = ';';
	n = slist_add(l, tmp);
	free(tmp);
	return n;
}

static int
has_header(const char *const *headers, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncasecmp(headers[i], name, len) == 0 &&
		    headers[i][len] == ':')
			return 1;
	return 0;
}

/* A DNS name or an IPv4/IPv6 address, nothing that could change the
 * meaning of the URL or of CURLOPT_CONNECT_TO. */
static int
check_peer_name(const char *name)
{
	size_t len = strnlen(name, MAX_PEER_NAME + 1);

	if (len == 0 || len > MAX_PEER_NAME)
		return CS_EINVAL;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
			ch == ':'))
			return CS_EINVAL;
	}
	return 0;
}

/*
 * Checks the URL and returns new the one libcurl gets (*url, curl_free())
 * and, for a peer name, the CURLOPT_CONNECT_TO entry (*connect_to,
 * free()). libcurl verifies the certificate against the URL host, so a
 * peer name becomes the URL host, and CONNECT_TO sends the connection to
 * the original host and port. libcurl keys its connection reuse on both,
 * so a connection checked for one name is never reused for another.
 */
static int
build_url(const struct cs_client_req *req, char **url, char **connect_to,
    char *errmsg)
{
	CURLU *u = NULL;
	CURLUcode uc;
	char *scheme = NULL;
	char *host = NULL;
	char *port = NULL;
	char *peer = NULL;
	char *out = NULL;
	char *to = NULL;
	int rc = CS_EINVAL;

	if (req->url == NULL) {
		cs_errmsg_printf(errmsg, "no URL");
		goto out;
	}
	u = curl_url();
	if (u == NULL) {
		rc = CS_ENOMEM;
		goto out;
	}
	uc = curl_url_set(u, CURLUPART_URL, req->url, 0);
	if (uc != CURLUE_OK) {
		cs_errmsg_printf(errmsg, "URL: %s", curl_url_strerror(uc));
		goto out;
	}
	uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (uc != CURLUE_OK ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		cs_errmsg_printf(errmsg, "URL: scheme is not http or https");
		goto out;
	}
	if (req->peer_name != NULL) {
		if (check_peer_name(req->peer_name) < 0) {
			cs_errmsg_printf(errmsg, "bad peer name");
			goto out;
		}
		uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
		if (uc == CURLUE_OK)
			uc = curl_url_get(u, CURLUPART_PORT, &port,
			    CURLU_DEFAULT_PORT);
		if (uc != CURLUE_OK) {
			cs_errmsg_printf(errmsg, "URL: %s",
			    curl_url_strerror(uc));
			goto out;
		}
		peer = cs_malloc(strlen(req->peer_name) + 3);
		if (strchr(req->peer_name, ':') != NULL)
			sprintf(peer, "[%s]", req->peer_name);
		else
			strcpy(peer, req->peer_name);
		uc = curl_url_set(u, CURLUPART_HOST, peer, 0);
		if (uc != CURLUE_OK) {
			cs_errmsg_printf(errmsg, "peer name: %s",
			    curl_url_strerror(uc));
			goto out;
		}
		/* "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT", empty HOST
		 * and PORT match any: this handle has one URL only. */
		to = cs_malloc(strlen(host) + strlen(port) + 4);
		sprintf(to, "::%s:%s", host, port);
	}
	uc = curl_url_get(u, CURLUPART_URL, &out, 0);
	if (uc != CURLUE_OK) {
		cs_errmsg_printf(errmsg, "URL: %s", curl_url_strerror(uc));
		goto out;
	}
	*url = out;
	out = NULL;
	*connect_to = to;
	to = NULL;
	rc = 0;
out:
	curl_free(out);
	free(to);
	free(peer);
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/* Everything but the URL; the request is already validated. */
static CURLcode
set_options(struct cs_client *c, struct cs_client__xfer *x,
    const struct cs_client_req *req)
{
	CURL *e = x->easy;
	CURLcode cc = CURLE_OK;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt(e, opt, val);                    \
	} while (0)

	SET(CURLOPT_PRIVATE, (void *)x);
	SET(CURLOPT_ERRORBUFFER, x->curl_err);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_TCP_NODELAY, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, x->timeout_ms);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CAINFO, c->ca_file);
	/* Debian's libcurl defaults CAPATH to /etc/ssl/certs: trust only
	 * ca_file. */
	SET(CURLOPT_CAPATH, NULL);
	if (c->cert_file != NULL) {
		SET(CURLOPT_SSLCERTTYPE, "PEM");
		SET(CURLOPT_SSLCERT, c->cert_file);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
		SET(CURLOPT_SSLKEY, c->key_file);
	}
	if (x->connect_to != NULL)
		SET(CURLOPT_CONNECT_TO, x->connect_to);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, (void *)x);
	SET(CURLOPT_HTTPHEADER, x->headers);

	/* GET and HEAD have no body (checked at send); DELETE may have one.
	 * POSTFIELDS is set whenever a body may go: a POST without it would
	 * read the body from stdin. */
	if (req->method == CS_CLIENT_METHOD_GET) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (req->method == CS_CLIENT_METHOD_HEAD) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (req->method == CS_CLIENT_METHOD_DELETE &&
		   req->body_len == 0) {
		SET(CURLOPT_CUSTOMREQUEST, method_names[req->method]);
	} else {
		if (req->method != CS_CLIENT_METHOD_POST)
			SET(CURLOPT_CUSTOMREQUEST, method_names[req->method]);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_POSTFIELDS,
		    req->body != NULL ? req->body : (const void *)"");
	}
#undef SET
	return cc;
}

int
cs_client_send(struct cs_client *c, struct cs_client_req *req, cs_client_cb cb)
{
	struct cs_client__xfer *x = NULL;
	char *url = NULL;
	char *to = NULL;
	CURLcode cc;
	CURLMcode mc;
	int rc;

	assert(c != NULL && req != NULL && cb != NULL);
	if (req->state == CS_CLIENT_REQ_ACTIVE)
		return CS_EBUSY;
	cs_client_req_reset(req);
	if (c->closing) {
		cs_errmsg_printf(req->errmsg, "client closed");
		rc = CS_ECANCELED;
		goto out;
	}
	if (c->nreq >= c->max_requests) {
		cs_errmsg_printf(req->errmsg, "%u requests in flight", c->nreq);
		rc = CS_EBUSY;
		goto out;
	}
	rc = CS_EINVAL;
	if ((unsigned)req->method >= CS_CLIENT_METHOD__MAX) {
		cs_errmsg_printf(req->errmsg, "bad method");
		goto out;
	}
	if (req->body_len > 0 && (req->method == CS_CLIENT_METHOD_GET ||
				     req->method == CS_CLIENT_METHOD_HEAD)) {
		cs_errmsg_printf(req->errmsg, "%s with a body",
		    method_names[req->method]);
		goto out;
	}
	if (req->body_len > 0 && req->body == NULL) {
		cs_errmsg_printf(req->errmsg, "body_len without a body");
		goto out;
	}
	if (req->nheaders > CS_CLIENT_MAX_REQ_HEADERS) {
		cs_errmsg_printf(req->errmsg, "over %d request headers",
		    CS_CLIENT_MAX_REQ_HEADERS);
		rc = CS_ETOOBIG;
		goto out;
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		rc = check_header(req->headers[i], req->errmsg);
		if (rc < 0)
			goto out;
	}

	x = cs_calloc(1, sizeof *x);
	x->c = c;
	x->req = req;
	x->cb = cb;
	x->timeout_ms = ms_to_long(req->timeout_ms, (uint64_t)c->timeout_ms);
	cs_buf_init(&x->body, c->max_body);
	cs_buf_init(&x->rhdrs, CS_CLIENT_MAX_HEADER_BYTES);
	rc = build_url(req, &url, &to, req->errmsg);
	if (rc < 0)
		goto out;
	if (to != NULL) {
		x->connect_to = slist_add(NULL, to);
		free(to);
		to = NULL;
	}
	for (size_t i = 0; i < req->nheaders; i++)
		x->headers = header_add(x->headers, req->headers[i]);
	/* libcurl would wait up to 1 s for "100 Continue" before sending a
	 * body over 1 MiB, and label a POST body as a form: neither unless
	 * asked for ("Name:" removes a header libcurl adds itself). */
	if (!has_header(req->headers, req->nheaders, "Expect"))
		x->headers = slist_add(x->headers, "Expect:");
	if (!has_header(req->headers, req->nheaders, "Content-Type"))
		x->headers = slist_add(x->headers, "Content-Type:");

	x->easy = curl_easy_init();
	if (x->easy == NULL) {
		cs_errmsg_printf(req->errmsg, "curl_easy_init failed");
		rc = CS_EIO;
		goto out;
	}
	cc = curl_easy_setopt(x->easy, CURLOPT_URL, url);
	if (cc == CURLE_OK)
		cc = set_options(c, x, req);
	if (cc != CURLE_OK) {
		cs_errmsg_printf(req->errmsg, "curl_easy_setopt: %s",
		    curl_easy_strerror(cc));
		rc = CS_EIO;
		goto out;
	}
	mc = curl_multi_add_handle(c->multi, x->easy);
	if (mc != CURLM_OK) {
		cs_errmsg_printf(req->errmsg, "curl_multi_add_handle: %s",
		    curl_multi_strerror(mc));
		rc = CS_EIO;
		goto out;
	}
	x->deadline = now_ms() + (uint64_t)x->timeout_ms;
	xlist_insert_sorted(&c->active, x);
	if (c->active.head == x)
		arm_deadline(c);
	c->nreq++;
	req->cb = cb;
	req->xfer = x;
	req->state = CS_CLIENT_REQ_ACTIVE;
	x = NULL;
	rc = 0;
out:
	if (x != NULL)
		xfer_free(x);
	free(to);
	curl_free(url);
	return rc;
}

const char *
cs_client_req_header(const struct cs_client_req *req, const char *name)
{
	const struct cs_client__xfer *x = req->xfer;
	const char *p;
	const char *end;
	const char *v;

	if (req->state != CS_CLIENT_REQ_DONE || x == NULL || x->status != 0 ||
	    x->rhdrs.data == NULL)
		return NULL;
	p = (const char *)x->rhdrs.data;
	end = p + x->rhdrs.len;
	while (p < end) {
		v = p + strlen(p) + 1;
		if (strcasecmp(p, name) == 0)
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

uint8_t *
cs_client_req_steal_body(struct cs_client_req *req, size_t *len)
{
	struct cs_client__xfer *x = req->xfer;

	assert(req->state == CS_CLIENT_REQ_DONE && x != NULL && x->status == 0);
	req->resp = NULL;
	req->resp_len = 0;
	return cs_buf_steal(&x->body, len);
}
