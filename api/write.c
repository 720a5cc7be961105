/*
 * write.c - dispatch, and the write path: propose on the leader, forward
 * from a follower, retry on a leader change (see the diagram in
 * api_int.h).
 *
 * Raft operations (proposals, barriers) are small heap objects that point
 * back at their request: at shutdown the API may answer a request before
 * raft calls back (raft calls back only when it closes, after the API),
 * so the request can go and the operation just notes that nobody waits
 * for it any more.
 */
#include <assert.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_int.h"
#include "cert/doc.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/text.h"

struct op {
	union {
		struct cs_propose propose;
		struct cs_barrier barrier;
		struct cs_change change;
		struct cs_transfer transfer;
	} u;
	struct cs_api_req *r; /* NULL once nobody waits */
};

struct cs_store *
cs_api__store(const struct cs_api *api)
{
	return cs_fsm_store(cs_replica_fsm(api->replica));
}

int64_t
cs_api__now(void)
{
	return (int64_t)time(NULL);
}

void
cs_api__pending_remove(struct cs_api_req *r)
{
	struct cs_api *api = r->api;

	if (r->prev_pending != NULL)
		r->prev_pending->next_pending = r->next_pending;
	else if (api->pending == r)
		api->pending = r->next_pending;
	if (r->next_pending != NULL)
		r->next_pending->prev_pending = r->prev_pending;
	r->prev_pending = r->next_pending = NULL;
	if (r->op != NULL) {
		/* an op in flight whose request goes away first */
		((struct op *)r->op)->r = NULL;
		r->op = NULL;
	}
}

void
cs_api__cmd_init(struct cs_api_req *r, struct cs_cmd *cmd,
    enum cs_cmd_type type)
{
	memset(cmd, 0, sizeof *cmd);
	cmd->type = type;
	memcpy(cmd->request_id, r->request_id, CS_REQUEST_ID_LEN);
	cmd->actor.p =
	    (const uint8_t *)(r->client != NULL ? r->client->subject : "");
	cmd->actor.len = strlen((const char *)cmd->actor.p);
	cmd->time = cs_api__now();
}

/* ---- retries ---- */

static void arm(struct cs_api *api);

static void
on_retry_timer(uv_timer_t *t)
{
	struct cs_api *api = cs_container_of(t, struct cs_api, retry_timer);
	uint64_t now = uv_now(api->loop);

	while (api->waiting != NULL && api->waiting->wake_at <= now) {
		struct cs_api_req *r = api->waiting;

		api->waiting = r->next_wait;
		r->next_wait = NULL;
		cs_api__dispatch(r);
	}
	arm(api);
}

static void
arm(struct cs_api *api)
{
	uint64_t now = uv_now(api->loop);

	if (api->waiting == NULL) {
		uv_timer_stop(&api->retry_timer);
		return;
	}
	uv_timer_start(&api->retry_timer, on_retry_timer,
	    api->waiting->wake_at > now ? api->waiting->wake_at - now : 0, 0);
}

void
cs_api__retry(struct cs_api_req *r, const char *why)
{
	struct cs_api *api = r->api;
	uint64_t now = uv_now(api->loop);
	uint64_t delay;
	struct cs_api_req **pp;

	if (api->closing) {
		cs_api__unavailable(r, "%s; the node is shutting down", why);
		return;
	}
	if (now >= r->deadline) {
		cs_log(CS_LOG_WARN,
		    "write gave-up req=%s attempts=%u why=\"%s\"",
		    r->request_id_hex, r->attempts, why);
		cs_api__unavailable(r, "%s; gave up after %u ms", why,
		    api->cfg.write_timeout_ms);
		return;
	}
	/* 20, 40, 80 ... 400 ms: a new leader is usually there within an
	 * election timeout */
	delay = 20u << (r->attempts < 5 ? r->attempts : 5);
	if (delay > 400)
		delay = 400;
	r->attempts++;
	r->wake_at = now + delay < r->deadline ? now + delay : r->deadline;
	cs_log(CS_LOG_DEBUG, "write retry req=%s attempt=%u in=%llu why=\"%s\"",
	    r->request_id_hex, r->attempts,
	    (unsigned long long)(r->wake_at - now), why);
	for (pp = &api->waiting; *pp != NULL && (*pp)->wake_at <= r->wake_at;
	     pp = &(*pp)->next_wait)
		;
	r->next_wait = *pp;
	*pp = r;
	arm(api);
}

/* ---- proposals and barriers on the leader ---- */

static void
on_proposed(struct cs_propose *p, int status, const struct cs_result *res)
{
	struct op *op = p->data;
	struct cs_api_req *r = op->r;
	void (*done)(struct cs_api_req *, const struct cs_result *);

	free(op);
	if (r == NULL)
		return; /* answered already (shutdown) */
	r->op = NULL;
	done = r->done;
	r->done = NULL;
	if (status == 0) {
		done(r, res);
		return;
	}
	if (status == CS_ELEADERLOST || status == CS_ENOTLEADER ||
	    status == CS_EBUSY) {
		cs_api__retry(r, "leadership lost before commit");
		return;
	}
	if (status == CS_ECANCELED) {
		cs_api__unavailable(r, "the node is shutting down");
		return;
	}
	cs_log(CS_LOG_ERR, "propose failed req=%s rc=%s", r->request_id_hex,
	    cs_errname(status));
	cs_api__unavailable(r, "the write could not be stored: %s",
	    cs_strerror(status));
}

void
cs_api__propose(struct cs_api_req *r, const struct cs_cmd *cmd,
    void (*done)(struct cs_api_req *r, const struct cs_result *res))
{
	struct cs_buf entry;
	struct op *op;
	int rc;

	cs_buf_init(&entry, CS_CMD_MAX_ENTRY);
	rc = cs_cmd_encode(cmd, &entry);
	if (rc < 0) {
		cs_buf_close(&entry);
		cs_api__problem(r, rc == CS_ETOOBIG ? 413 : 400,
		    rc == CS_ETOOBIG ? "too-big" : "invalid",
		    "the command cannot be encoded: %s", cs_strerror(rc));
		return;
	}
	op = cs_calloc(1, sizeof *op);
	op->r = r;
	op->u.propose.data = op;
	rc = cs_replica_propose(r->api->replica, &op->u.propose, entry.data,
	    entry.len, on_proposed);
	cs_buf_close(&entry);
	if (rc < 0) {
		free(op);
		cs_api__retry(r, "not the ready leader");
		return;
	}
	r->done = done;
	r->op = op;
}

static void
on_barrier(struct cs_barrier *b, int status)
{
	struct op *op = b->data;
	struct cs_api_req *r = op->r;

	free(op);
	if (r == NULL)
		return;
	r->op = NULL;
	if (status == 0) {
		r->route->handler(r); /* now a linearizable read */
		return;
	}
	if (status == CS_ECANCELED) {
		cs_api__unavailable(r, "the node is shutting down");
		return;
	}
	cs_api__retry(r, "leadership lost during a consistent read");
}

static void
barrier(struct cs_api_req *r)
{
	struct op *op = cs_calloc(1, sizeof *op);
	int rc;

	op->r = r;
	op->u.barrier.data = op;
	rc = cs_replica_barrier(r->api->replica, &op->u.barrier, on_barrier);
	if (rc < 0) {
		free(op);
		cs_api__retry(r, "not the ready leader");
		return;
	}
	r->done = NULL;
	r->op = op;
}

/* ---- membership and leadership ---- */

static void
change_done(struct op *op, int status)
{
	struct cs_api_req *r = op->r;
	cs_api_change_cb done;

	free(op);
	if (r == NULL)
		return;
	r->op = NULL;
	done = r->change_done;
	r->change_done = NULL;
	done(r, status);
}

static void
on_changed(struct cs_change *c, int status)
{
	change_done(c->data, status);
}

static void
on_transferred(struct cs_transfer *t, int status)
{
	change_done(t->data, status);
}

static void
start_change(struct cs_api_req *r, int kind, uint64_t id, const char *address,
    cs_api_change_cb done)
{
	struct op *op = cs_calloc(1, sizeof *op);
	struct cs_replica *rep = r->api->replica;
	int rc;

	op->r = r;
	r->change_done = done;
	r->op = op;
	if (kind == 0) {
		op->u.change.data = op;
		rc = cs_replica_join(rep, &op->u.change, id, address,
		    on_changed);
	} else if (kind == 1) {
		op->u.change.data = op;
		rc = cs_replica_remove(rep, &op->u.change, id, on_changed);
	} else {
		op->u.transfer.data = op;
		rc = cs_replica_transfer(rep, &op->u.transfer, id,
		    on_transferred);
	}
	if (rc < 0) {
		r->op = NULL;
		r->change_done = NULL;
		free(op);
		done(r, rc);
	}
}

void
cs_api__join(struct cs_api_req *r, uint64_t id, const char *address,
    cs_api_change_cb done)
{
	start_change(r, 0, id, address, done);
}

void
cs_api__remove(struct cs_api_req *r, uint64_t id, cs_api_change_cb done)
{
	start_change(r, 1, id, NULL, done);
}

void
cs_api__transfer(struct cs_api_req *r, uint64_t id, cs_api_change_cb done)
{
	start_change(r, 2, id, NULL, done);
}

/* ---- forwarding to the leader ---- */

const char *
cs_api__member_url(struct cs_api *api, uint64_t id, char *buf, size_t size)
{
	struct cs_member m;
	char key[24];
	const uint8_t *v;
	size_t len;

	snprintf(key, sizeof key, "%llu", (unsigned long long)id);
	v = cs_store_doc(cs_api__store(api), CS_NS_MEMBER, key, &len);
	if (v != NULL && cs_member_decode(v, len, &m, NULL) == 0) {
		snprintf(buf, size, "%s", m.api_url);
		cs_member_close(&m);
		return buf;
	}
	for (size_t i = 0; i < api->cfg.nmembers; i++) {
		if (api->members[i].id == id) {
			snprintf(buf, size, "%s", api->members[i].api_url);
			return buf;
		}
	}
	return NULL;
}

static const char *const relayed[] = {"Content-Type", "Retry-After", "Location",
    "X-Certstore-Index", "X-Certstore-Node", "X-Certstore-Leader"};

void
cs_api__relay(struct cs_api_req *r, int status, const struct cs_api_headers *hs,
    uint8_t *body, size_t len)
{
	struct cs_http_header h[8];
	size_t n = 0;

	/* the leader's answer as it is, its index and node included */
	for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; i++) {
		const char *v = cs_api__headers_get(hs, relayed[i]);

		if (v != NULL)
			h[n++] = (struct cs_http_header){relayed[i], v};
	}
	if (r->request_id_hex[0] != '\0')
		h[n++] =
		    (struct cs_http_header){"X-Request-Id", r->request_id_hex};
	cs_api__count(r, status);
	cs_api__pending_remove(r);
	cs_api__identity_unref(r->peer);
	cs_api__identity_unref(r->client);
	cs_http_respond_take(r->http, status, h, n, body, len);
}

const char *
cs_api__headers_get(const struct cs_api_headers *hs, const char *name)
{
	for (size_t i = 0; i < hs->n; i++) {
		if (strcasecmp(hs->h[i].name, name) == 0)
			return hs->h[i].value;
	}
	return NULL;
}

static void
on_forwarded(struct cs_client_req *f, int status)
{
	struct cs_api_req *r = cs_container_of(f, struct cs_api_req, fwd);
	struct cs_api_headers hs;
	size_t len = 0;
	uint8_t *body;

	if (status < 0) {
		char why[CS_ERRMSG_SIZE + 32];

		snprintf(why, sizeof why, "forwarding to the leader: %s",
		    f->errmsg[0] != '\0' ? f->errmsg : cs_strerror(status));
		cs_client_req_reset(f);
		cs_api__retry(r, why);
		return;
	}
	if (f->http_status == 503 &&
	    cs_client_req_header(f, "X-Certstore-Not-Leader") != NULL) {
		cs_client_req_reset(f);
		cs_api__retry(r, "the leader changed");
		return;
	}
	/* copies of the headers worth relaying: the views end at the reset,
	 * and r (f with it) with the answer */
	hs.n = 0;
	for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; i++) {
		const char *v = cs_client_req_header(f, relayed[i]);

		if (v != NULL)
			hs.h[hs.n++] = (struct cs_http_header){relayed[i],
			    cs_http_req_strndup(r->http, v, strlen(v))};
	}
	status = f->http_status;
	body = cs_client_req_steal_body(f, &len);
	cs_client_req_reset(f);
	cs_api__relay(r, status, &hs, body, len);
}

static enum cs_client_method
client_method(enum http_method m)
{
	switch (m) {
	case HTTP_GET:
	case HTTP_HEAD:
		return CS_CLIENT_METHOD_GET;
	case HTTP_PUT:
		return CS_CLIENT_METHOD_PUT;
	case HTTP_PATCH:
		return CS_CLIENT_METHOD_PATCH;
	case HTTP_DELETE:
		return CS_CLIENT_METHOD_DELETE;
	default:
		return CS_CLIENT_METHOD_POST;
	}
}

void
cs_api__forward_one(struct cs_api_req *r, uint64_t leader)
{
	struct cs_api *api = r->api;
	char base[512];
	const char **hdr;
	const char *ctype = cs_http_req_header(r->http, "Content-Type");
	size_t nh = 0, blen;
	uint64_t left = r->deadline - uv_now(api->loop);
	char *url;
	int rc;

	if (cs_api__member_url(api, leader, base, sizeof base) == NULL) {
		cs_api__retry(r, "the leader's address is not known yet");
		return;
	}
	url = cs_http_req_alloc(r->http,
	    strlen(base) + strlen(cs_http_req_target(r->http)) + 1);
	strcpy(url, base);
	strcat(url, cs_http_req_target(r->http));
	hdr = cs_http_req_alloc(r->http, 4 * sizeof *hdr);
	hdr[nh] = cs_http_req_alloc(r->http, 64);
	snprintf((char *)hdr[nh++], 64, "X-Request-Id: %s", r->request_id_hex);
	if (r->client != NULL) {
		size_t n = strlen(r->client->der_b64) + 32;
		char *h = cs_http_req_alloc(r->http, n);

		snprintf(h, n, "X-Certstore-Client-Cert: %s",
		    r->client->der_b64);
		hdr[nh++] = h;
	}
	if (ctype != NULL) {
		size_t n = strlen(ctype) + 16;
		char *h = cs_http_req_alloc(r->http, n);

		snprintf(h, n, "Content-Type: %s", ctype);
		hdr[nh++] = h;
	}
	cs_client_req_init(&r->fwd);
	r->fwd.method = client_method(cs_http_req_method_id(r->http));
	r->fwd.url = url;
	r->fwd.headers = hdr;
	r->fwd.nheaders = nh;
	r->fwd.body = cs_http_req_body(r->http, &blen);
	r->fwd.body_len = blen;
	if (r->fwd.method == CS_CLIENT_METHOD_GET ||
	    r->fwd.method == CS_CLIENT_METHOD_DELETE) {
		r->fwd.body = NULL;
		r->fwd.body_len = 0;
	}
	r->fwd.timeout_ms = left < api->cfg.forward_timeout_ms
				? left
				: api->cfg.forward_timeout_ms;
	if (r->fwd.timeout_ms == 0)
		r->fwd.timeout_ms = 1;
	rc = cs_client_send(api->client, &r->fwd, on_forwarded);
	if (rc < 0)
		cs_api__retry(r, "cannot forward to the leader");
}

/* ---- dispatch ---- */

void
cs_api__dispatch(struct cs_api_req *r)
{
	struct cs_api *api = r->api;
	const struct cs_route *rt = r->route;
	uint64_t leader;

	if (api->closing) {
		cs_api__unavailable(r, "the node is shutting down");
		return;
	}
	if (!(rt->flags & CS_ROUTE_WRITE) &&
	    !((rt->flags & CS_ROUTE_READ) && r->consistent)) {
		/* ?min_index=N (read your writes: N from a write's
		 * X-Certstore-Index): wait for this copy to get there */
		if (r->min_index > cs_replica_applied_index(api->replica)) {
			char why[96];

			snprintf(why, sizeof why,
			    "this node has not applied index %llu yet",
			    (unsigned long long)r->min_index);
			cs_api__retry(r, why);
			return;
		}
		rt->handler(r); /* a local read */
		return;
	}
	if (cs_replica_ready(api->replica)) {
		if (rt->flags & CS_ROUTE_WRITE)
			rt->handler(r);
		else
			barrier(r);
		return;
	}
	if (r->forwarded) {
		/* never forwarded twice: the sender retries with the leader
		 * it learns next */
		static const struct cs_http_header h =
		    {"X-Certstore-Not-Leader", "1"};
		char detail[160];
		char *body;

		snprintf(detail, sizeof detail,
		    "{\"type\":\"urn:certstore:problem:not-leader\","
		    "\"title\":\"Service Unavailable\",\"status\":503,"
		    "\"detail\":\"node %llu is not the ready leader\"}",
		    (unsigned long long)api->cfg.node_id);
		body = cs_strdup(detail);
		cs_api__respond(r, 503, "application/problem+json", body,
		    strlen(body), &h, 1);
		return;
	}
	leader = cs_replica_leader(api->replica);
	if (leader == 0 || leader == api->cfg.node_id) {
		cs_api__retry(r, "no leader is known");
		return;
	}
	if (api->cfg.forward_batch > 0 && (rt->flags & CS_ROUTE_WRITE) &&
	    cs_api__forward_batchable(r)) {
		cs_api__forward_queue(r);
		return;
	}
	cs_api__forward_one(r, leader);
}

/* The initial members' documents: a new leader writes those that are
 * missing, one at a time, so every node can map a raft id to an API
 * URL. The operation outlives the API if raft holds it at shutdown. */
struct member_op {
	struct cs_propose propose;
	struct cs_api *api; /* NULL once the API is gone */
};

static void
on_member_written(struct cs_propose *p, int status, const struct cs_result *res)
{
	struct member_op *op = cs_container_of(p, struct member_op, propose);
	struct cs_api *api = op->api;

	(void)res;
	free(op);
	if (api == NULL)
		return;
	api->member_op = NULL;
	if (status == 0)
		cs_api__write_members(api); /* the next missing one */
	/* otherwise the next leader writes it */
}

void
cs_api__write_members(struct cs_api *api)
{
	struct cs_store *s = cs_api__store(api);

	if (api->closing || api->member_op != NULL)
		return;
	for (size_t i = 0; i < api->cfg.nmembers; i++) {
		const struct cs_api_member *m = &api->members[i];
		struct cs_member doc;
		struct cs_buf val, entry;
		struct cs_cmd cmd;
		struct member_op *op;
		char key[24];
		size_t len;
		uint32_t id32 = (uint32_t)m->id;

		snprintf(key, sizeof key, "%llu", (unsigned long long)m->id);
		if (cs_store_doc(s, CS_NS_MEMBER, key, &len) != NULL)
			continue;
		memset(&doc, 0, sizeof doc);
		doc.id = m->id;
		doc.raft_address = (char *)(uintptr_t)m->raft_address;
		doc.api_url = (char *)(uintptr_t)m->api_url;
		doc.site = (char *)(uintptr_t)m->site;
		doc.http_url = (char *)(uintptr_t)m->http_url;
		doc.public_url = (char *)(uintptr_t)m->public_url;
		cs_buf_init(&val, CS_CMD_MAX_DOC);
		cs_buf_init(&entry, CS_CMD_MAX_ENTRY);
		memset(&cmd, 0, sizeof cmd);
		cmd.type = CS_CMD_DOC_PUT;
		/* the same id on every leader: a retry is a no-op */
		memcpy(cmd.request_id, "member-doc", 10);
		memcpy(cmd.request_id + 12, &id32, 4);
		cmd.actor.p = (const uint8_t *)"certstored";
		cmd.actor.len = 10;
		cmd.time = cs_api__now();
		cmd.u.doc.ns = CS_NS_MEMBER;
		cmd.u.doc.key.p = (const uint8_t *)key;
		cmd.u.doc.key.len = strlen(key);
		op = cs_calloc(1, sizeof *op);
		op->api = api;
		if (cs_member_encode(&doc, &val) == 0) {
			cmd.u.doc.value.p = val.data;
			cmd.u.doc.value.len = val.len;
			if (cs_cmd_encode(&cmd, &entry) == 0 &&
			    cs_replica_propose(api->replica, &op->propose,
				entry.data, entry.len,
				on_member_written) == 0) {
				api->member_op = op;
				op = NULL;
			}
		}
		free(op);
		cs_buf_close(&val);
		cs_buf_close(&entry);
		return; /* one at a time */
	}
}

void
cs_api__orphan_ops(struct cs_api *api)
{
	if (api->member_op != NULL) {
		api->member_op->api = NULL;
		api->member_op = NULL;
	}
}

void
cs_api__work_done(struct cs_api *api)
{
	api->works--;
}

/* Random request ids for requests that bring none. */
void
cs_api__new_request_id(uint8_t id[CS_REQUEST_ID_LEN])
{
	if (RAND_bytes(id, CS_REQUEST_ID_LEN) != 1)
		abort();
}
