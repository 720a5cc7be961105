/*
 * api.h - the node's HTTP API: listeners, authentication, routes, and the
 * write path (local proposal or forwarding to the leader).
 *
 * Three listeners (DESIGN.md section 6):
 *   - the API listener, mutual TLS: every route; clients present a
 *     certificate from the client CA, nodes one from the cluster CA;
 *   - the public listener, TLS without client certificates: OCSP, CRL,
 *     CA certificates (later ACME and EST), health;
 *   - the plain HTTP listener: OCSP, CRL, CA certificates, health.
 *
 * Writes (DESIGN.md section 5). A write is handled where it arrives: the
 * leader builds the command and proposes it, and answers after commit; a
 * follower forwards the request, with the client's certificate attached,
 * to the leader over node-to-node mutual TLS and relays the answer. On a
 * leader change the write is retried, under the same request id, until
 * write_timeout_ms; then 503 with Retry-After. The FSM's request-id table
 * makes the retries safe. A forwarded request is never forwarded again.
 *
 * Reads are local and say which applied index they reflect
 * (X-Certstore-Index); ?consistency=leader makes a read linearizable (a
 * barrier on the leader; a follower forwards it).
 *
 * Loop thread only.
 */
#ifndef CS_API_H
#define CS_API_H

#include <stdint.h>
#include <uv.h>

#include "raft/replica.h"

struct cs_api;

/* An initial member, as the node's configuration lists it. */
struct cs_api_member {
	uint64_t id;
	const char *raft_address;
	const char *api_url;
	const char *site;
	const char *http_url;
	const char *public_url;
};

struct cs_api_config {
	uint64_t node_id;
	const char *site;
	const char *api_listen;    /* required */
	const char *public_listen; /* NULL or "": none */
	const char *http_listen;   /* NULL or "": none */
	const char *api_url;       /* this node's advertised URLs */
	const char *public_url;
	const char *http_url;
	const char *tls_cert;
	const char *tls_key;
	const char *client_ca;
	const char *cluster_ca;              /* NULL or "": client_ca */
	const char *admin_identity;          /* "" or NULL: none */
	const struct cs_api_member *members; /* the initial members */
	size_t nmembers;
	unsigned write_timeout_ms;
	unsigned forward_timeout_ms;
	unsigned forward_batch; /* writes per forwarded batch; 0: one each */
	unsigned max_connections;
	uint64_t max_body_bytes;
	unsigned max_header_bytes;
	unsigned header_timeout_ms;
	unsigned body_timeout_ms;
	unsigned idle_timeout_ms;
	int64_t ocsp_staleness;
	int64_t crl_interval; /* seconds between full CRLs */
	int64_t crl_validity; /* nextUpdate - thisUpdate */
	int64_t crl_delay;    /* revocations to delta CRL */
};

/* Starts the listeners. r is borrowed and must outlive the API. On error
 * nothing is left running except handles that finish closing on the
 * loop; errmsg says what failed. */
int cs_api_new(uv_loop_t *loop, struct cs_replica *r,
    const struct cs_api_config *cfg, struct cs_api **out, char *errmsg);

/* Graceful stop: listeners close, in-flight requests finish (pending
 * writes are answered 503), the forwarding client closes; cb fires once,
 * then the API is freed. */
typedef void (*cs_api_close_cb)(struct cs_api *api, void *data);
void cs_api_close(struct cs_api *api, cs_api_close_cb cb, void *data);

/* Replica events the node passes on. */
void cs_api_on_leader_ready(struct cs_api *api);
void cs_api_on_state(struct cs_api *api, int old_state, int state);

/* Reloads the TLS key pair and CAs (SIGHUP). 0, or an error with errmsg
 * (the old contexts stay in use). */
int cs_api_reload_tls(struct cs_api *api, char *errmsg);

/* The bound ports (tests use port 0): which = 0 API, 1 public, 2 plain;
 * -1 when that listener is off. */
int cs_api_port(const struct cs_api *api, int which);

#endif
