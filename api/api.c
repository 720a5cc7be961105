/*
 * api.c - the API's lifecycle: TLS contexts, the three listeners, the
 * entry point of every request (route, authentication, roles), and an
 * orderly close.
 *
 * Close, in order: stop taking requests (listeners close gracefully and
 * let in-flight requests finish), answer whatever still waits for a retry
 * with 503, close the node-to-node client (its forwards then end), and
 * free the API once every request is answered. Requests still waiting on
 * raft when the listeners are gone are answered 503 and their raft
 * operations orphaned (write.c): raft calls back only when the replica
 * closes, after the API.
 */
#include <ctype.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/tls.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/text.h"

struct listener {
	struct cs_api *api;
	enum cs_listener which;
};

/* The listeners' handler data lives here so it outlives the requests. */
static struct listener *
listener_data(struct cs_api *api)
{
	return (struct listener *)(api + 1);
}

static void
pending_add(struct cs_api_req *r)
{
	struct cs_api *api = r->api;

	r->next_pending = api->pending;
	if (api->pending != NULL)
		api->pending->prev_pending = r;
	api->pending = r;
}

/* The request id: the client's (32 hex digits), else a new one. */
static int
request_id(struct cs_api_req *r)
{
	const char *h = cs_http_req_header(r->http, "X-Request-Id");
	size_t n;

	if (h == NULL) {
		cs_api__new_request_id(r->request_id);
	} else if (strlen(h) != 2 * CS_REQUEST_ID_LEN ||
		   cs_hex_decode(h, strlen(h), r->request_id, CS_REQUEST_ID_LEN,
		       &n) < 0) {
		return CS_EINVAL;
	}
	cs_hex_encode(r->request_id, CS_REQUEST_ID_LEN, r->request_id_hex);
	return 0;
}

static void
forbidden(struct cs_api_req *r)
{
	char have[64] = "";
	char need[64] = "";

	for (unsigned bit = 1; bit <= CS_ROLE_ADMIN; bit <<= 1) {
		if (r->roles & bit)
			snprintf(have + strlen(have),
			    sizeof have - strlen(have), "%s%s",
			    have[0] ? "," : "", cs_api__role_name(bit));
		if (r->route->roles & bit)
			snprintf(need + strlen(need),
			    sizeof need - strlen(need), "%s%s",
			    need[0] ? "," : "", cs_api__role_name(bit));
	}
	if (r->roles == 0)
		cs_api__problem(r, 403, "no-role",
		    "no role is bound to identity \"%s\"; %s %s needs one "
		    "of: %s",
		    r->client->subject, cs_http_req_method(r->http),
		    r->route->pattern, need);
	else
		cs_api__problem(r, 403, "forbidden",
		    "identity \"%s\" has role %s; %s %s needs one of: %s",
		    r->client->subject, have, cs_http_req_method(r->http),
		    r->route->pattern, need);
}

/* Who is asking: the TLS peer, or the client a node forwards for. */
static bool
authenticate(struct cs_api_req *r)
{
	int verified = 0;
	X509 *cert = cs_http_req_peer_cert(r->http, &verified);
	const char *fwd;

	if (cert == NULL || !verified) {
		cs_api__problem(r, 401, "no-certificate",
		    "this call needs a client certificate from the client "
		    "CA");
		return false;
	}
	r->peer = cs_api__identity(r->api, cert);
	if (r->peer == NULL) {
		cs_api__problem(r, 401, "bad-certificate",
		    "the client certificate cannot be read");
		return false;
	}
	r->client = r->peer;
	r->client->refs++;
	if (r->route->flags & CS_ROUTE_NODE) {
		/* the parts of a batch carry their clients themselves */
		if (!r->peer->node) {
			cs_api__problem(r, 403, "nodes-only",
			    "%s %s is for the nodes of the cluster; \"%s\" "
			    "is not one",
			    cs_http_req_method(r->http), r->route->pattern,
			    r->peer->subject);
			return false;
		}
		return true;
	}
	fwd = cs_http_req_header(r->http, "X-Certstore-Client-Cert");
	if (fwd != NULL && r->peer->node) {
		struct cs_identity *c = cs_api__identity_b64(r->api, fwd);

		if (c == NULL) {
			cs_api__problem(r, 400, "bad-forward",
			    "X-Certstore-Client-Cert does not hold a "
			    "certificate");
			return false;
		}
		cs_api__identity_unref(r->client);
		r->client = c;
		r->forwarded = true;
	} else if (fwd != NULL) {
		/* only nodes act for others; from a client it means nothing */
		cs_log(CS_LOG_WARN,
		    "api ignored-identity-header peer=\"%s\" from=%s",
		    r->peer->subject, cs_http_req_remote_text(r->http));
	}
	r->roles = cs_api__roles(r->api, r->client);
	if (!(r->roles & r->route->roles)) {
		forbidden(r);
		return false;
	}
	return true;
}

/* Every %XX of the query is two hex digits, and decodes to something
 * other than NUL: a parameter that does not decode is an error, never
 * "absent". */
static bool
query_valid(const char *q)
{
	if (q == NULL)
		return true;
	for (; *q != '\0'; q++) {
		if (*q != '%')
			continue;
		if (!isxdigit((unsigned char)q[1]) ||
		    !isxdigit((unsigned char)q[2]) ||
		    (q[1] == '0' && q[2] == '0'))
			return false;
		q += 2;
	}
	return true;
}

void
cs_api__handle(struct cs_api *api, enum cs_listener which,
    struct cs_http_req *http)
{
	struct cs_api_req *r = cs_http_req_alloc(http, sizeof *r);
	const char *consistency;
	int status = 404;

	memset(r, 0, sizeof *r);
	r->api = api;
	r->http = http;
	r->listener = which;
	r->deadline = uv_now(api->loop) + api->cfg.write_timeout_ms;
	r->start_ns = uv_hrtime();
	pending_add(r);
	if (request_id(r) < 0) {
		cs_api__problem(r, 400, "bad-request-id",
		    "X-Request-Id must be %d hexadecimal digits",
		    2 * CS_REQUEST_ID_LEN);
		return;
	}
	r->route = cs_api__route(r, cs_http_req_method_id(http),
	    cs_http_req_path(http), &status);
	if (r->route == NULL) {
		cs_api__problem(r, status,
		    status == 404 ? "not-found" : "method-not-allowed",
		    "%s %s: %s", cs_http_req_method(http),
		    cs_http_req_path(http),
		    status == 404 ? "no such resource"
				  : "method not allowed here");
		return;
	}
	if (!(r->route->flags & CS_ROUTE_PUBLIC) && !authenticate(r))
		return;
	if (!query_valid(cs_http_req_query(http))) {
		cs_api__problem(r, 400, "bad-parameter",
		    "the query string is not valid percent-encoding");
		return;
	}
	if (cs_http_req_query_param(http, "min_index", &consistency) == 0) {
		char *end;

		errno = 0;
		r->min_index = strtoull(consistency, &end, 10);
		if (errno != 0 || end == consistency || *end != '\0' ||
		    consistency[0] == '-' ||
		    !(r->route->flags & CS_ROUTE_READ)) {
			cs_api__problem(r, 400, "bad-parameter",
			    "min_index: a log index (X-Certstore-Index of a "
			    "write), on reads only");
			return;
		}
	}
	if (cs_http_req_query_param(http, "consistency", &consistency) == 0) {
		if (strcmp(consistency, "leader") == 0) {
			r->consistent = true;
		} else if (strcmp(consistency, "local") != 0) {
			cs_api__problem(r, 400, "bad-parameter",
			    "consistency must be \"local\" or \"leader\"");
			return;
		}
	}
	cs_api__dispatch(r);
}

static void
on_request(struct cs_http_req *http, void *data)
{
	struct listener *l = data;

	cs_api__handle(l->api, l->which, http);
}

/* ---- lifecycle ---- */

static char *
copy_str(char **w, const char *s)
{
	char *p = *w;
	size_t n = s != NULL ? strlen(s) + 1 : 1;

	memcpy(p, s != NULL ? s : "", n);
	*w += n;
	return p;
}

/* Copies the config and its strings into the API. */
static void
copy_config(struct cs_api *api, const struct cs_api_config *cfg)
{
	const char *const *fields[] = {&cfg->site, &cfg->api_listen,
	    &cfg->public_listen, &cfg->http_listen, &cfg->api_url,
	    &cfg->public_url, &cfg->http_url, &cfg->tls_cert, &cfg->tls_key,
	    &cfg->client_ca, &cfg->cluster_ca, &cfg->admin_identity};
	const char **mine[] = {&api->cfg.site, &api->cfg.api_listen,
	    &api->cfg.public_listen, &api->cfg.http_listen, &api->cfg.api_url,
	    &api->cfg.public_url, &api->cfg.http_url, &api->cfg.tls_cert,
	    &api->cfg.tls_key, &api->cfg.client_ca, &api->cfg.cluster_ca,
	    &api->cfg.admin_identity};
	size_t total = 0;
	char *w;

	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		total += (*fields[i] != NULL ? strlen(*fields[i]) : 0) + 1;
	for (size_t i = 0; i < cfg->nmembers; i++) {
		const struct cs_api_member *m = &cfg->members[i];
		const char *s[] = {m->raft_address, m->api_url, m->site,
		    m->http_url, m->public_url};

		for (size_t k = 0; k < 5; k++)
			total += (s[k] != NULL ? strlen(s[k]) : 0) + 1;
	}
	api->cfg = *cfg;
	api->strings = cs_malloc(total);
	w = api->strings;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		*mine[i] = copy_str(&w, *fields[i]);
	api->members = cs_calloc(cfg->nmembers + 1, sizeof *api->members);
	for (size_t i = 0; i < cfg->nmembers; i++) {
		const struct cs_api_member *m = &cfg->members[i];
		struct cs_api_member *d = &api->members[i];

		d->id = m->id;
		d->raft_address = copy_str(&w, m->raft_address);
		d->api_url = copy_str(&w, m->api_url);
		d->site = copy_str(&w, m->site);
		d->http_url = copy_str(&w, m->http_url);
		d->public_url = copy_str(&w, m->public_url);
	}
	api->cfg.members = api->members;
	if (api->cfg.cluster_ca[0] == '\0')
		api->cfg.cluster_ca = api->cfg.client_ca;
}

/* The API listener's context trusts client and cluster CAs. */
static int
make_contexts(struct cs_api *api, SSL_CTX **ssl_api, SSL_CTX **ssl_public,
    char *errmsg)
{
	SSL_CTX *a = NULL, *p = NULL;

	a = cs_tls_server_ctx_new(api->cfg.tls_cert, api->cfg.tls_key,
	    api->cfg.client_ca, CS_TLS_VERIFY_REQUIRED, errmsg);
	if (a == NULL)
		goto fail;
	if (strcmp(api->cfg.cluster_ca, api->cfg.client_ca) != 0 &&
	    (SSL_CTX_load_verify_locations(a, api->cfg.cluster_ca, NULL) != 1 ||
		SSL_add_file_cert_subjects_to_stack(SSL_CTX_get_client_CA_list(
							a),
		    api->cfg.cluster_ca) != 1)) {
		cs_errmsg_printf(errmsg, "cluster CA %s: cannot load",
		    api->cfg.cluster_ca);
		goto fail;
	}
	p = cs_tls_server_ctx_new(api->cfg.tls_cert, api->cfg.tls_key, NULL,
	    CS_TLS_VERIFY_NONE, errmsg);
	if (p == NULL)
		goto fail;
	*ssl_api = a;
	*ssl_public = p;
	return 0;
fail:
	SSL_CTX_free(a);
	SSL_CTX_free(p);
	return CS_EINVAL;
}

static void api_free(struct cs_api *api);

static void
maybe_done(struct cs_api *api)
{
	cs_api_close_cb cb = api->close_cb;
	void *data = api->close_data;

	if (api->closes_left > 0 || api->works > 0)
		return;
	api_free(api);
	if (cb != NULL)
		cb(api, data);
}

static void
on_client_closed(struct cs_client *c)
{
	struct cs_api *api = cs_client_get_data(c);

	api->client = NULL;
	api->closes_left--;
	maybe_done(api);
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct cs_api *api = h->data;

	api->closes_left--;
	maybe_done(api);
}

/* Every listener is gone: answer what still waits, close the rest. */
static void
listeners_closed(struct cs_api *api)
{
	while (api->waiting != NULL) {
		struct cs_api_req *r = api->waiting;

		api->waiting = r->next_wait;
		cs_api__unavailable(r, "the node is shutting down");
	}
	/* still waiting on raft: raft calls back only when it closes */
	while (api->pending != NULL && api->pending->op != NULL)
		cs_api__unavailable(api->pending, "the node is shutting down");
	cs_api__orphan_ops(api);
	cs_api__forward_close(api, on_timer_closed);
	uv_close((uv_handle_t *)&api->retry_timer, on_timer_closed);
	uv_close((uv_handle_t *)&api->crl_timer, on_timer_closed);
	if (api->client != NULL)
		cs_client_close(api->client, on_client_closed);
	else
		api->closes_left--;
}

static void
on_server_closed(struct cs_http_server *srv, void *data)
{
	struct cs_api *api = data;

	for (int i = 0; i < CS_LISTENER__MAX; i++) {
		if (api->servers[i] == srv)
			api->servers[i] = NULL;
	}
	api->closes_left--;
	for (int i = 0; i < CS_LISTENER__MAX; i++) {
		if (api->servers[i] != NULL)
			return;
	}
	listeners_closed(api);
	maybe_done(api);
}

void
cs_api_close(struct cs_api *api, cs_api_close_cb cb, void *data)
{
	int open = 0;

	if (api->closing)
		return;
	api->closing = true;
	api->close_cb = cb;
	api->close_data = data;
	cs_api__crl_stop(api);
	/* servers + retry timer + CRL timer + client + forwarding check */
	for (int i = 0; i < CS_LISTENER__MAX; i++)
		open += api->servers[i] != NULL;
	api->closes_left = open + 4;
	if (open == 0) {
		api->closes_left = 4;
		listeners_closed(api);
		return;
	}
	for (int i = 0; i < CS_LISTENER__MAX; i++) {
		if (api->servers[i] != NULL)
			cs_http_server_close(api->servers[i], on_server_closed,
			    api);
	}
}

static void
api_free(struct cs_api *api)
{
	cs_api__identities_free(api);
	cs_api__issuers_free(api);
	cs_api__ocsp_free(api);
	cs_api__crls_free(api);
	free(api->stats);
	SSL_CTX_free(api->ssl_api);
	SSL_CTX_free(api->ssl_public);
	X509_STORE_free(api->cluster_store);
	free(api->members);
	free(api->strings);
	free(api);
}

static int
listen_on(struct cs_api *api, enum cs_listener which, const char *bind,
    SSL_CTX *ctx, char *errmsg)
{
	struct listener *l = &listener_data(api)[which];
	struct cs_http_config hc;
	int rc;

	memset(&hc, 0, sizeof hc);
	hc.bind = bind;
	hc.ssl_ctx = ctx;
	hc.max_body = api->cfg.max_body_bytes;
	hc.max_header_bytes = api->cfg.max_header_bytes;
	hc.max_conns = api->cfg.max_connections;
	hc.header_timeout_ms = api->cfg.header_timeout_ms;
	hc.body_timeout_ms = api->cfg.body_timeout_ms;
	hc.idle_timeout_ms = api->cfg.idle_timeout_ms;
	hc.handler = on_request;
	hc.data = l;
	l->api = api;
	l->which = which;
	rc = cs_http_server_new(api->loop, &hc, &api->servers[which], errmsg);
	if (rc < 0)
		cs_errmsg_wrapf(errmsg, "listen on %s", bind);
	return rc;
}

int
cs_api_new(uv_loop_t *loop, struct cs_replica *r,
    const struct cs_api_config *cfg, struct cs_api **out, char *errmsg)
{
	struct cs_api *api = cs_calloc(1,
	    sizeof *api + CS_LISTENER__MAX * sizeof(struct listener));
	struct cs_client_config cc;
	int rc;

	api->loop = loop;
	api->replica = r;
	copy_config(api, cfg);
	rc = make_contexts(api, &api->ssl_api, &api->ssl_public, errmsg);
	if (rc == 0)
		rc = cs_api__cluster_store_load(api, errmsg);
	if (rc < 0) {
		api_free(api);
		return rc;
	}
	memset(&cc, 0, sizeof cc);
	cc.ca_file = api->cfg.cluster_ca;
	cc.cert_file = api->cfg.tls_cert;
	cc.key_file = api->cfg.tls_key;
	cc.timeout_ms = api->cfg.forward_timeout_ms;
	cc.max_body = api->cfg.max_body_bytes + 65536;
	cc.max_host_connections = 64;
	cc.max_connections = 256;
	cc.max_requests = 8192;
	api->client = cs_client_new(loop, &cc, errmsg);
	if (api->client == NULL) {
		cs_errmsg_wrapf(errmsg, "node-to-node client");
		api_free(api);
		return CS_EINVAL;
	}
	cs_client_set_data(api->client, api);
	uv_timer_init(loop, &api->retry_timer);
	api->retry_timer.data = api;
	cs_api__forward_init(api);
	cs_api__crl_start(api);
	rc = listen_on(api, CS_LISTENER_API, api->cfg.api_listen, api->ssl_api,
	    errmsg);
	if (rc == 0 && api->cfg.public_listen[0] != '\0')
		rc = listen_on(api, CS_LISTENER_PUBLIC, api->cfg.public_listen,
		    api->ssl_public, errmsg);
	if (rc == 0 && api->cfg.http_listen[0] != '\0')
		rc = listen_on(api, CS_LISTENER_HTTP, api->cfg.http_listen,
		    NULL, errmsg);
	if (rc < 0) {
		cs_api_close(api, NULL, NULL); /* frees it on the loop */
		return rc;
	}
	*out = api;
	return 0;
}

void
cs_api_on_leader_ready(struct cs_api *api)
{
	cs_api__write_members(api);
}

void
cs_api_on_state(struct cs_api *api, int old_state, int state)
{
	(void)api;
	(void)old_state;
	(void)state;
	/* Proposals of a deposed leader fail through raft's own callbacks
	 * (RAFT_LEADERSHIPLOST) and are retried from there. */
}

int
cs_api_reload_tls(struct cs_api *api, char *errmsg)
{
	SSL_CTX *a = NULL, *p = NULL;
	int rc = make_contexts(api, &a, &p, errmsg);

	if (rc < 0)
		return rc;
	if (api->servers[CS_LISTENER_API] != NULL)
		cs_http_server_set_ssl_ctx(api->servers[CS_LISTENER_API], a);
	if (api->servers[CS_LISTENER_PUBLIC] != NULL)
		cs_http_server_set_ssl_ctx(api->servers[CS_LISTENER_PUBLIC], p);
	SSL_CTX_free(api->ssl_api);
	SSL_CTX_free(api->ssl_public);
	api->ssl_api = a;
	api->ssl_public = p;
	cs_api__identities_free(api); /* CAs may have changed */
	return cs_api__cluster_store_load(api, errmsg);
}

int
cs_api_port(const struct cs_api *api, int which)
{
	if (which < 0 || which >= CS_LISTENER__MAX ||
	    api->servers[which] == NULL)
		return -1;
	return cs_http_server_port(api->servers[which]);
}
