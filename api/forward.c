/*
 * forward.c - a follower's writes go to the leader in batches.
 *
 * Each forwarded HTTP request costs the follower a libcurl transfer and
 * the leader a TLS record, a parse and a response: at 64 concurrent
 * writers that was a third of the cluster's CPU per write. So a follower
 * queues the writes it forwards and, at the end of the loop turn (a check
 * handle), sends the queue as one POST /v1/internal/forward per up to
 * forward-batch writes, with at most CS_FWD_INFLIGHT batches in flight.
 * At low load a batch is the one write that came in, sent in the loop
 * turn it arrived in, so latency does not grow; under load the writes
 * that arrive while batches are in flight go together in the next one.
 *
 * On the leader (any node, in fact), each part of a batch becomes an
 * inner request (cs_http_req_new_inner) carrying the batch's peer
 * certificate and is handed to the API like any request: the same
 * identity rules (X-Certstore-Client-Cert counts because the peer is a
 * node), routes, roles, dedupe by request id, and "never forwarded
 * twice" (a part that reaches a node that is not the leader gets 503
 * with X-Certstore-Not-Leader). The batch is answered when its last
 * part is. The writes of a batch are proposed together (cs_replica_cork):
 * one raft_apply, so one log append and one AppendEntries per follower. The
 * parts are pending requests of the API, so shutdown answers them as it answers
 * any; the batch itself is not.
 *
 * The follower relays each part's answer as the single path does. A
 * part refused with X-Certstore-Not-Leader, and every part of a batch
 * that failed as a whole, is retried with its request id until its
 * deadline, as a single forwarded write is. A part whose answer is over
 * CS_FWD_ANSWER_MAX comes back with status 0 and no body, and is
 * forwarded again alone: its request id makes that safe.
 *
 * Wire format, msgpack:
 *   request  [[method, target, request id (hex), content type | nil,
 *              client certificate (base64 DER) | nil, body (bin)], ...]
 *   answer   [[status, [name, value, ...], body (bin)], ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "cert/mp.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"

/* ---- the follower: queue, batch, relay ---- */

struct batch {
	struct cs_client_req req;
	struct cs_api *api;
	struct cs_buf body;
	size_t n;
	struct cs_api_req *parts[];
};

static void on_check(uv_check_t *h);

void
cs_api__forward_init(struct cs_api *api)
{
	uv_check_init(api->loop, &api->fwd_check);
	api->fwd_check.data = api;
}

void
cs_api__forward_queue(struct cs_api_req *r)
{
	struct cs_api *api = r->api;

	r->next_fwd = NULL;
	if (api->fwd_tail != NULL)
		api->fwd_tail->next_fwd = r;
	else
		api->fwd_head = r;
	api->fwd_tail = r;
	if (!uv_is_active((uv_handle_t *)&api->fwd_check))
		uv_check_start(&api->fwd_check, on_check);
}

static struct cs_api_req *
dequeue(struct cs_api *api)
{
	struct cs_api_req *r = api->fwd_head;

	if (r != NULL) {
		api->fwd_head = r->next_fwd;
		if (api->fwd_head == NULL)
			api->fwd_tail = NULL;
		r->next_fwd = NULL;
	}
	return r;
}

/* Every queued write through dispatch again: it answers 503 once the API
 * closes, serves on the leader, or waits on the retry list; it never
 * queues here again, for its callers run when this node cannot forward. */
static void
dispatch_all(struct cs_api *api)
{
	struct cs_api_req *r;

	while ((r = dequeue(api)) != NULL)
		cs_api__dispatch(r);
}

void
cs_api__forward_close(struct cs_api *api, uv_close_cb closed)
{
	dispatch_all(api); /* closing: each gets 503 */
	uv_close((uv_handle_t *)&api->fwd_check, closed);
}

static void
batch_free(struct batch *b)
{
	cs_buf_close(&b->body);
	free(b);
}

/* Every part again through dispatch (retry list, same request id). */
static void
retry_all(struct batch *b, const char *why)
{
	for (size_t i = 0; i < b->n; i++)
		cs_api__retry(b->parts[i], why);
	batch_free(b);
}

/* The answer of one part, as views into the batch's answer. */
struct answer {
	uint64_t status;
	struct cs_bytes body;
	size_t nh;
	struct cs_bytes names[16], values[16];
};

static int
decode_answers(const uint8_t *p, size_t len, struct answer *a, size_t n,
    char *errmsg)
{
	struct cs_mp_in in;
	size_t got;

	cs_mp_in_init(&in, p, len, errmsg);
	cs_mp_read_array(&in, n, &got);
	if (in.err == 0 && got != n)
		cs_mp_fail(&in, "answers: not one per part");
	for (size_t i = 0; i < n && in.err == 0; i++) {
		size_t three, nv;

		cs_mp_read_array(&in, 3, &three);
		if (in.err == 0 && three != 3)
			cs_mp_fail(&in, "answer: [status, headers, body]");
		cs_mp_read_uint(&in, 599, &a[i].status);
		cs_mp_read_array(&in, 2 * 16, &nv);
		if (in.err == 0 && nv % 2 != 0)
			cs_mp_fail(&in, "answer headers: name, value pairs");
		a[i].nh = nv / 2;
		for (size_t j = 0; j < a[i].nh && in.err == 0; j++) {
			cs_mp_read_str(&in, 256, &a[i].names[j]);
			cs_mp_read_str(&in, 8192, &a[i].values[j]);
		}
		cs_mp_read_bin(&in, 0, CS_FWD_ANSWER_MAX, &a[i].body);
	}
	if (in.err == 0 && !cs_mp_done(&in))
		cs_mp_fail(&in, "bytes after the answers");
	return in.err;
}

static void
relay(struct cs_api_req *r, const struct answer *a)
{
	struct cs_api_headers hs;

	hs.n = 0;
	for (size_t j = 0; j < a->nh; j++) {
		hs.h[hs.n].name = cs_http_req_strndup(r->http,
		    (const char *)a->names[j].p, a->names[j].len);
		hs.h[hs.n].value = cs_http_req_strndup(r->http,
		    (const char *)a->values[j].p, a->values[j].len);
		hs.n++;
	}
	if (a->status == 503 &&
	    cs_api__headers_get(&hs, "X-Certstore-Not-Leader") != NULL) {
		cs_api__retry(r, "the leader changed");
		return;
	}
	cs_api__relay(r, (int)a->status, &hs,
	    cs_memdup(a->body.len > 0 ? a->body.p : (const uint8_t *)"",
		a->body.len),
	    a->body.len);
}

static void
on_batch(struct cs_client_req *f, int status)
{
	struct batch *b = cs_container_of(f, struct batch, req);
	struct cs_api *api = b->api;
	struct answer *a;
	char why[CS_ERRMSG_SIZE + 64];
	char errmsg[CS_ERRMSG_SIZE] = "";
	uint64_t leader;

	api->fwd_inflight--;
	if (status < 0) {
		snprintf(why, sizeof why, "forwarding to the leader: %s",
		    f->errmsg[0] != '\0' ? f->errmsg : cs_strerror(status));
		cs_client_req_reset(f);
		retry_all(b, why);
		return;
	}
	if (f->http_status >= 400 && f->http_status < 500) {
		/* refused whole (a leader that does not know batches, or
		 * takes smaller bodies): each part goes again alone */
		cs_log(CS_LOG_WARN, "forward batch-refused status=%d parts=%zu",
		    f->http_status, b->n);
		cs_client_req_reset(f);
		leader = cs_replica_leader(api->replica);
		for (size_t i = 0; i < b->n; i++)
			cs_api__forward_one(b->parts[i], leader);
		batch_free(b);
		return;
	}
	if (f->http_status != 200) {
		snprintf(why, sizeof why,
		    "the leader answered %d to a batch of %zu writes",
		    f->http_status, b->n);
		cs_client_req_reset(f);
		retry_all(b, why);
		return;
	}
	a = cs_calloc(b->n, sizeof *a);
	if (decode_answers(f->resp, f->resp_len, a, b->n, errmsg) < 0) {
		cs_log(CS_LOG_ERR, "forward bad-answer parts=%zu why=\"%s\"",
		    b->n, errmsg);
		free(a);
		cs_client_req_reset(f);
		retry_all(b, "the leader's answer to a batch cannot be read");
		return;
	}
	leader = cs_replica_leader(api->replica);
	for (size_t i = 0; i < b->n; i++) {
		if (a[i].status == 0)
			cs_api__forward_one(b->parts[i], leader); /* too big */
		else
			relay(b->parts[i], &a[i]);
	}
	free(a);
	cs_client_req_reset(f);
	batch_free(b);
}

static void
encode_part(struct cs_mp_out *w, struct cs_api_req *r)
{
	const char *ctype = cs_http_req_header(r->http, "Content-Type");
	const uint8_t *body;
	size_t len;

	body = cs_http_req_body(r->http, &len);
	cs_mp_array(w, 6);
	cs_mp_cstr(w, cs_http_req_method(r->http));
	cs_mp_cstr(w, cs_http_req_target(r->http));
	cs_mp_cstr(w, r->request_id_hex);
	if (ctype != NULL)
		cs_mp_cstr(w, ctype);
	else
		cs_mp_nil(w);
	if (r->client != NULL)
		cs_mp_cstr(w, r->client->der_b64);
	else
		cs_mp_nil(w);
	cs_mp_bin(w, body, len);
}

/* Bytes a part takes in a batch, with room for msgpack's headers. */
static uint64_t
part_size(struct cs_api_req *r)
{
	const char *ctype = cs_http_req_header(r->http, "Content-Type");
	size_t len;

	cs_http_req_body(r->http, &len);
	return len + strlen(cs_http_req_target(r->http)) +
	       (ctype != NULL ? strlen(ctype) : 0) +
	       (r->client != NULL ? strlen(r->client->der_b64) : 0) + 128;
}

/* Whether r fits in a batch by itself (else it goes alone). */
bool
cs_api__forward_batchable(struct cs_api_req *r)
{
	size_t len;

	cs_http_req_body(r->http, &len);
	return len <= CS_FWD_BODY_MAX &&
	       part_size(r) + 16 <= r->api->cfg.max_body_bytes;
}

/* Sends up to forward-batch queued writes to the leader as one request. */
static void
send_batch(struct cs_api *api, const char *base)
{
	size_t max = api->cfg.forward_batch;
	uint64_t now = uv_now(api->loop);
	uint64_t timeout = api->cfg.forward_timeout_ms;
	struct cs_mp_out w;
	struct batch *b;
	char *url;
	uint64_t bytes = 16; /* what the batch's body takes, about */
	int rc;

	b = cs_calloc(1, sizeof *b + max * sizeof b->parts[0]);
	b->api = api;
	while (b->n < max && api->fwd_head != NULL) {
		struct cs_api_req *r = api->fwd_head;
		uint64_t left = r->deadline > now ? r->deadline - now : 1;
		uint64_t size = part_size(r);

		/* the leader's body cap holds the whole batch (same config) */
		if (b->n > 0 && bytes + size > api->cfg.max_body_bytes)
			break;
		dequeue(api);
		bytes += size;
		if (left < timeout)
			timeout = left;
		b->parts[b->n++] = r;
	}
	cs_buf_init(&b->body, SIZE_MAX);
	cs_mp_out_init(&w, &b->body);
	cs_mp_array(&w, b->n);
	for (size_t i = 0; i < b->n; i++)
		encode_part(&w, b->parts[i]);
	url = cs_malloc(strlen(base) + sizeof CS_FWD_PATH);
	strcpy(url, base);
	strcat(url, CS_FWD_PATH);
	cs_client_req_init(&b->req);
	b->req.method = CS_CLIENT_METHOD_POST;
	b->req.url = url; /* copied at send */
	b->req.headers = (const char *const[]){"Content-Type: " CS_FWD_TYPE};
	b->req.nheaders = 1;
	b->req.body = b->body.data;
	b->req.body_len = b->body.len;
	b->req.timeout_ms = timeout;
	rc = cs_client_send(api->client, &b->req, on_batch);
	free(url);
	if (rc < 0) {
		retry_all(b, "cannot forward to the leader");
		return;
	}
	api->fwd_inflight++;
	api->fwd_batches++;
	api->fwd_parts += b->n;
}

static void
on_check(uv_check_t *h)
{
	struct cs_api *api = h->data;
	struct cs_api_req *r;
	uint64_t leader;
	char base[512];

	if (api->fwd_head == NULL) {
		uv_check_stop(h);
		return;
	}
	leader = cs_replica_leader(api->replica);
	if (api->closing || cs_replica_ready(api->replica) || leader == 0 ||
	    leader == api->cfg.node_id) {
		/* closing, or the leader changed since they were queued */
		dispatch_all(api);
		return;
	}
	if (cs_api__member_url(api, leader, base, sizeof base) == NULL) {
		while ((r = dequeue(api)) != NULL)
			cs_api__retry(r,
			    "the leader's address is not known yet");
		return;
	}
	while (api->fwd_head != NULL && api->fwd_inflight < CS_FWD_INFLIGHT)
		send_batch(api, base);
}

/* ---- the leader: a batch's parts as inner requests ---- */

struct part {
	struct fwd *batch;
	int status;
	struct cs_buf head; /* the answer's headers, packed */
	uint8_t *body;
	size_t len;
};

struct fwd {
	struct cs_api_req *outer;
	size_t n;
	size_t left; /* parts not answered, + 1 while they are handed out */
	struct part parts[];
};

static void
fwd_finish(struct fwd *b)
{
	struct cs_buf out;
	struct cs_mp_out w;
	uint8_t *body;
	size_t len;

	cs_buf_init(&out, SIZE_MAX);
	cs_mp_out_init(&w, &out);
	cs_mp_array(&w, b->n);
	for (size_t i = 0; i < b->n; i++) {
		struct part *p = &b->parts[i];

		cs_mp_array(&w, 3);
		cs_mp_uint(&w, (uint64_t)p->status);
		cs_buf_append(&out, p->head.data, p->head.len);
		cs_mp_bin(&w, p->body, p->len);
		cs_buf_close(&p->head);
		free(p->body);
	}
	body = cs_buf_steal(&out, &len);
	cs_api__respond(b->outer, 200, CS_FWD_TYPE, body, len, NULL, 0);
	free(b);
}

static void
fwd_release(struct fwd *b)
{
	if (--b->left == 0)
		fwd_finish(b);
}

static void
on_part(void *data, int status, const struct cs_http_header *h, size_t n,
    uint8_t *body, size_t len)
{
	struct part *p = data;
	struct cs_mp_out w;

	if (len > CS_FWD_ANSWER_MAX) {
		/* the follower sends it again alone */
		status = 0;
		n = 0;
		free(body);
		body = NULL;
		len = 0;
	}
	if (n > 16)
		n = 16;
	cs_buf_init(&p->head, SIZE_MAX);
	cs_mp_out_init(&w, &p->head);
	cs_mp_array(&w, 2 * n);
	for (size_t i = 0; i < n; i++) {
		cs_mp_cstr(&w, h[i].name);
		cs_mp_cstr(&w, h[i].value);
	}
	p->status = status;
	p->body = body;
	p->len = len;
	fwd_release(p->batch);
}

/* One part as views into the batch's body. */
struct part_in {
	enum http_method method;
	struct cs_bytes target, id, ctype, cert, body;
	bool has_ctype, has_cert;
};

static const enum http_method methods[] = {HTTP_GET, HTTP_POST, HTTP_PUT,
    HTTP_PATCH, HTTP_DELETE};

static void
read_part(struct cs_mp_in *in, struct part_in *p, size_t max_body)
{
	struct cs_bytes m;
	size_t six;
	size_t k;

	cs_mp_read_array(in, 6, &six);
	if (in->err == 0 && six != 6)
		cs_mp_fail(in, "a part is [method, target, request id, "
			       "content type, client certificate, body]");
	cs_mp_read_str(in, 16, &m);
	for (k = 0; in->err == 0 && k < sizeof methods / sizeof methods[0];
	     k++) {
		if (cs_bytes_eq(m, http_method_str(methods[k])))
			break;
	}
	if (in->err == 0 && k == sizeof methods / sizeof methods[0])
		cs_mp_fail(in, "method: GET, POST, PUT, PATCH or DELETE");
	if (in->err == 0)
		p->method = methods[k];
	/* strs hold no NUL (cs_mp_read_str refuses it) */
	cs_mp_read_str(in, CS_HTTP_DEFAULT_MAX_URL, &p->target);
	if (in->err == 0 && (p->target.len == 0 || p->target.p[0] != '/'))
		cs_mp_fail(in, "target: an origin-form path");
	cs_mp_read_str(in, 2 * CS_REQUEST_ID_LEN, &p->id);
	p->has_ctype = !cs_mp_read_nil(in);
	if (p->has_ctype)
		cs_mp_read_str(in, 256, &p->ctype);
	p->has_cert = !cs_mp_read_nil(in);
	if (p->has_cert)
		cs_mp_read_str(in, 4 * CS_X509_MAX_DER / 3 + 4, &p->cert);
	cs_mp_read_bin(in, 0, max_body, &p->body);
}

void
cs_api__post_forward(struct cs_api_req *r)
{
	struct cs_api *api = r->api;
	const char *ctype = cs_http_req_header(r->http, "Content-Type");
	const uint8_t *data;
	size_t len, n;
	struct part_in *in;
	struct cs_mp_in mp;
	char errmsg[CS_ERRMSG_SIZE] = "";
	struct fwd *b;

	if (ctype == NULL || strcmp(ctype, CS_FWD_TYPE) != 0) {
		cs_api__problem(r, 415, "bad-media-type",
		    "a batch is " CS_FWD_TYPE);
		return;
	}
	data = cs_http_req_body(r->http, &len);
	cs_mp_in_init(&mp, data, len, errmsg);
	cs_mp_read_array(&mp, CS_FWD_BATCH_MAX, &n);
	if (mp.err == 0 && n == 0)
		cs_mp_fail(&mp, "an empty batch");
	in = cs_http_req_alloc(r->http, (n > 0 ? n : 1) * sizeof *in);
	for (size_t i = 0; i < n && mp.err == 0; i++)
		read_part(&mp, &in[i], api->cfg.max_body_bytes);
	if (mp.err == 0 && !cs_mp_done(&mp))
		cs_mp_fail(&mp, "bytes after the parts");
	if (mp.err != 0) {
		cs_api__problem(r, 400, "bad-batch", "the batch: %s",
		    errmsg[0] != '\0' ? errmsg : cs_strerror(mp.err));
		return;
	}
	b = cs_calloc(1, sizeof *b + n * sizeof b->parts[0]);
	b->outer = r;
	b->n = n;
	b->left = n + 1;
	/* the parts answer for themselves at shutdown, then the batch */
	cs_api__pending_remove(r);
	/* their proposals go to raft together: one append, one message per
	 * follower */
	cs_replica_cork(api->replica);
	for (size_t i = 0; i < n; i++) {
		struct cs_http_header h[3];
		struct cs_http_req *inner;
		size_t nh = 0;

		b->parts[i].batch = b;
		h[nh++] = (struct cs_http_header){"X-Request-Id",
		    cs_http_req_strndup(r->http, (const char *)in[i].id.p,
			in[i].id.len)};
		if (in[i].has_ctype)
			h[nh++] = (struct cs_http_header){"Content-Type",
			    cs_http_req_strndup(r->http,
				(const char *)in[i].ctype.p, in[i].ctype.len)};
		if (in[i].has_cert)
			h[nh++] =
			    (struct cs_http_header){"X-Certstore-Client-Cert",
				cs_http_req_strndup(r->http,
				    (const char *)in[i].cert.p,
				    in[i].cert.len)};
		inner = cs_http_req_new_inner(r->http, in[i].method,
		    (const char *)in[i].target.p, in[i].target.len, h, nh,
		    in[i].body.p, in[i].body.len, on_part, &b->parts[i]);
		cs_api__handle(api, r->listener, inner);
	}
	cs_replica_uncork(api->replica);
	fwd_release(b);
}
