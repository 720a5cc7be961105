/*
 * api_int.h - what the files of the API share (api/-private: cs_api__
 * prefix for cross-file functions).
 *
 * A request's life, in the API's terms:
 *
 *   http server -> dispatch: listener, route, authentication, role
 *        |
 *        +-- public or read route ----------------------> handler -> answer
 *        +-- ?consistency=leader read, on the leader ---> barrier -> handler
 *        +-- write route, on the ready leader ---------> handler -> propose
 *        |                                                  |
 *        |                      committed: render <---------+
 *        |                      leadership lost: retry -----+
 *        +-- write or consistent read elsewhere ----> forward to the leader
 *                                                          |
 *                         answered: relay  <---------------+
 *                         503 not-leader / transport: retry (same id)
 *
 *   forward: a write joins the forwarding queue and goes out with the
 *   others queued in the same loop turn, as one batch (forward.c); the
 *   leader hands each part of a batch to dispatch as an inner request.
 *
 *   retry: wait a little (the retry list), then dispatch again, until
 *   the request's deadline; then 503 with Retry-After.
 *
 * Every answer goes through cs_api__respond() (json.c), which adds the
 * X-Certstore-Index, X-Certstore-Node and X-Request-Id headers and
 * releases what the request holds.
 */
#ifndef CS_API_INT_H
#define CS_API_INT_H

#include <http_parser.h>
#include <jansson.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api/api.h"
#include "api/client.h"
#include "api/http.h"
#include "cert/cmd.h"
#include "cert/doc.h"
#include "cert/ocsp.h"
#include "cert/signer.h"
#include "cert/store.h"
#include "cert/x509.h"
#include "lib/error.h"
#include "raft/replica.h"

enum cs_listener {
	CS_LISTENER_API = 0,
	CS_LISTENER_PUBLIC = 1,
	CS_LISTENER_HTTP = 2,
	CS_LISTENER__MAX
};

/* Roles, as bits: a route lists the roles that may call it. */
enum {
	CS_ROLE_AUDITOR = 1u << 0,
	CS_ROLE_ENROLLER = 1u << 1,
	CS_ROLE_OPERATOR = 1u << 2,
	CS_ROLE_ADMIN = 1u << 3
};
#define CS_ROLES_READ  (CS_ROLE_ADMIN | CS_ROLE_OPERATOR | CS_ROLE_AUDITOR)
#define CS_ROLES_WRITE (CS_ROLE_ADMIN | CS_ROLE_OPERATOR)
const char *cs_api__role_name(unsigned role);
int cs_api__role_parse(const char *name, unsigned *out);

/* Who a certificate says someone is. Reference-counted: a request holds
 * its identities until it is answered. */
struct cs_identity {
	unsigned refs;
	uint8_t fp[32]; /* SHA-256 of the certificate */
	char *subject;  /* RFC 4514 */
	char **sans;    /* SAN values (DNS, IP, URI, e-mail) */
	size_t nsans;
	bool node;          /* chains to the cluster CA */
	char *der_b64;      /* the certificate, for forwarding */
	uint64_t last_used; /* for the cache */
};

/* An issuer as this node can use it (ca.c): the document decoded, the
 * CA certificate parsed, the key resolved (or why not). Reloaded when
 * its document changes. */
struct cs_api_issuer {
	char *name;
	uint8_t digest[32];           /* SHA-256 of the document it came from */
	const struct cs_store *store; /* and the store and issuer-document */
	uint64_t doc_version;         /* version it was last checked at */
	struct cs_issuer doc;
	struct cs_cert_info *ci;
	uint8_t *name_der; /* the CA's subject, DER */
	size_t name_len;
	char *cert_pem;
	int key_rc; /* 0: signer is usable */
	char key_err[CS_ERRMSG_SIZE];
	struct cs_signer signer;
	/* OCSP (ocsp.c): this load's generation, the CertID hashes by
	 * algorithm, this node's delegated responder */
	uint64_t gen;
	uint8_t ocsp_name_hash[CS_OCSP_HASH__MAX][CS_OCSP_HASH_MAX];
	uint8_t ocsp_key_hash[CS_OCSP_HASH__MAX][CS_OCSP_HASH_MAX];
	bool responder_ok;
	struct cs_signer responder;
	uint8_t *responder_cert;
	size_t responder_cert_len;
	int64_t responder_not_after;
	struct cs_api_issuer *next;
};

struct cs_api_req;
typedef void (*cs_api_handler)(struct cs_api_req *r);

enum {
	CS_ROUTE_WRITE = 1u << 0,  /* on the leader only (else forwarded) */
	CS_ROUTE_READ = 1u << 1,   /* honours ?consistency=leader */
	CS_ROUTE_PUBLIC = 1u << 2, /* no client certificate needed */
	CS_ROUTE_NODE = 1u << 3,   /* nodes of the cluster only */
};

struct cs_route {
	enum http_method method;
	const char *pattern; /* "/v1/certs/{}/revoke": {} takes a segment */
	unsigned roles;      /* who may call it (ignored when PUBLIC) */
	unsigned listeners;  /* bit per enum cs_listener */
	unsigned flags;
	cs_api_handler handler;
};

#define CS_ROUTE_MAX_PARAMS 4

struct cs_api_req {
	struct cs_api *api;
	struct cs_http_req *http;
	enum cs_listener listener;
	const struct cs_route *route;
	const char *params[CS_ROUTE_MAX_PARAMS]; /* the {} segments */
	struct cs_identity *peer;   /* the TLS peer, NULL if none */
	struct cs_identity *client; /* whom the request acts for */
	unsigned roles;
	bool forwarded;     /* came from a node on behalf of a client */
	bool consistent;    /* ?consistency=leader */
	uint64_t min_index; /* ?min_index=N: read at or after index N */
	uint8_t request_id[CS_REQUEST_ID_LEN];
	char request_id_hex[2 * CS_REQUEST_ID_LEN + 1];
	uint64_t deadline; /* uv_now() ms */
	uint64_t start_ns; /* uv_hrtime() when it reached us */
	unsigned attempts;
	/* the operation in flight */
	void *op; /* a raft operation in flight (write.c) */
	struct cs_client_req fwd;
	void (*done)(struct cs_api_req *r, const struct cs_result *res);
	void (*change_done)(struct cs_api_req *r, int status);
	void *hctx;          /* the handler's, in the request's arena */
	cs_api_handler then; /* what answers after a document write */
	/* the retry list and the list of pending requests */
	struct cs_api_req *next_wait;
	uint64_t wake_at;
	struct cs_api_req *prev_pending, *next_pending;
	struct cs_api_req *next_fwd; /* the forwarding queue (forward.c) */
};

#define CS_API_IDENTITY_CACHE 256
#define CS_API_BUCKETS        14

/* Requests answered, by route, method and status (metrics.c). */
struct cs_api_stat {
	const struct cs_route *route; /* NULL: matched no route */
	int method;
	int status;
	uint64_t count;
	double sum;
	uint64_t buckets[CS_API_BUCKETS];
};

struct cs_api {
	uv_loop_t *loop;
	struct cs_replica *replica;
	struct cs_api_config cfg; /* strings below are copies */
	char *strings;            /* where the config strings live */
	struct cs_api_member *members;
	struct cs_http_server *servers[CS_LISTENER__MAX];
	SSL_CTX *ssl_api, *ssl_public;
	X509_STORE *cluster_store; /* to tell nodes from clients */
	struct cs_client *client;  /* node-to-node */
	uv_timer_t retry_timer;
	struct cs_api_req *waiting; /* the retry list, by wake_at */
	struct cs_api_req *pending; /* every request not answered yet */
	struct cs_identity *ids[CS_API_IDENTITY_CACHE];
	uint64_t id_clock;
	bool closing;
	int closes_left;
	cs_api_close_cb close_cb;
	void *close_data;
	struct member_op *member_op;   /* an initial member being written */
	unsigned works;                /* uv_queue_work jobs in flight */
	struct cs_api_issuer *issuers; /* ca.c */
	uint64_t issuer_gen;
	struct cs_api_ocsp_cache *ocsp; /* ocsp.c */
	struct cs_api_crl *crls;        /* crl.c */
	bool crl_rebuild; /* publications skipped while catching up */
	uv_timer_t crl_timer;
	struct cs_api_stat *stats; /* metrics.c */
	size_t nstats, capstats;
	/* forward.c: writes waiting to go to the leader in a batch */
	struct cs_api_req *fwd_head, *fwd_tail;
	unsigned fwd_inflight; /* batches sent, not answered */
	uv_check_t fwd_check;  /* sends the queue at the end of a loop turn */
	uint64_t fwd_batches, fwd_parts; /* sent, for /metrics */
};

/* ---- auth.c ---- */

/* The identity of a certificate (cached by fingerprint); a new
 * reference, or NULL when it cannot be read. */
struct cs_identity *cs_api__identity(struct cs_api *api, X509 *cert);
/* The identity of a forwarded client certificate (base64 DER). */
struct cs_identity *cs_api__identity_b64(struct cs_api *api, const char *b64);
void cs_api__identity_unref(struct cs_identity *id);
/* The roles of an identity: role bindings in the store (by "fp:<hex>",
 * subject, "san:<value>"), and admin for the configured first admin. */
unsigned cs_api__roles(struct cs_api *api, const struct cs_identity *id);
void cs_api__identities_free(struct cs_api *api);
int cs_api__cluster_store_load(struct cs_api *api, char *errmsg);

/* ---- router.c ---- */

/* The route for method and path on listener, its {} segments in
 * params. Returns it, or NULL with *status 404 (no such path) or 405 (no
 * such method for that path). */
const struct cs_route *cs_api__route(struct cs_api_req *r,
    enum http_method method, const char *path, int *status);

/* ---- json.c: answering ---- */

/* Answers with status and body (taken; may be NULL), adding the common
 * headers; extra headers (borrowed) may be NULL. Releases the request. */
void cs_api__respond(struct cs_api_req *r, int status, const char *ctype,
    void *body, size_t len, const struct cs_http_header *extra, size_t nextra);
void cs_api__respond_json(struct cs_api_req *r, int status, json_t *body);
/* application/problem+json: type is a short slug ("not-found"),
 * detail printf-style. */
void cs_api__problem(struct cs_api_req *r, int status, const char *type,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same with extra members (taken) in the body ("violations"). */
void cs_api__problem_more(struct cs_api_req *r, int status, const char *type,
    json_t *more, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 503 with Retry-After, for "try again shortly". */
void cs_api__unavailable(struct cs_api_req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The answer to a business result code from apply. */
void cs_api__problem_rc(struct cs_api_req *r, int rc, const char *what);

/* RFC 3339 UTC text, or null for 0. */
json_t *cs_api__time_json(int64_t t);
/* A certificate as the API shows it (DESIGN.md section 8). */
json_t *cs_api__cert_json(const struct cs_cert *c, int64_t now, bool pem);
/* The request body as JSON (an object), or NULL after answering 400. An
 * empty body gives an empty object. */
json_t *cs_api__body_json(struct cs_api_req *r);
/* Parses a lower-case or upper-case 64-hex fingerprint. */
int cs_api__parse_fp(const char *s, uint8_t fp[32]);
/* The route's first parameter as a certificate fingerprint, or a key id:
 * true, or false after answering 400 bad-fingerprint / bad-key-id. */
bool cs_api__param_fp(struct cs_api_req *r, uint8_t fp[32]);
bool cs_api__param_key_id(struct cs_api_req *r, uint8_t id[32]);

/* ---- routes_admin.c: shared by the document routes ---- */

/* The {} segment percent-decoded into the arena; NULL after a 400. */
const char *cs_api__name_param(struct cs_api_req *r);
json_t *cs_api__strv_json(const struct cs_strv *v);
/* A JSON array of at most max strings into copies; 0 or CS_EINVAL. */
int cs_api__strv_from(json_t *a, size_t max, struct cs_strv *out);
/* "30d" or null for 0. */
json_t *cs_api__duration_json(int64_t s);
/* A duration field ("90d" or seconds; absent or null: 0); 0 or CS_EINVAL
 * with err. */
int cs_api__duration_field(json_t *o, const char *name, int64_t *out,
    char *err);
/* Proposes a document put (value given) or delete (value NULL), then
 * answers with then(r) or 204. */
void cs_api__propose_doc(struct cs_api_req *r, enum cs_ns ns, const char *key,
    const struct cs_buf *value, cs_api_handler then);

/* ---- write.c: the write path ---- */

void cs_api__dispatch(struct cs_api_req *r);
/* Proposes a command built by the handler (from r's request id and
 * client) and calls done() on the leader with the result once it is
 * committed. Leadership lost on the way: the request is retried. */
void cs_api__propose(struct cs_api_req *r, const struct cs_cmd *cmd,
    void (*done)(struct cs_api_req *r, const struct cs_result *res));
/* A fresh random request id. */
void cs_api__new_request_id(uint8_t id[CS_REQUEST_ID_LEN]);
/* Starts a command struct for r: type, request id, actor, time. */
void cs_api__cmd_init(struct cs_api_req *r, struct cs_cmd *cmd,
    enum cs_cmd_type type);
/* Waits and dispatches again (same request id), or answers 503 once the
 * deadline passed. */
void cs_api__retry(struct cs_api_req *r, const char *why);
/* The store, now. */
struct cs_store *cs_api__store(const struct cs_api *api);
/* Wall-clock time, seconds. */
int64_t cs_api__now(void);
/* Removes r from the pending list (before it is answered). */
void cs_api__pending_remove(struct cs_api_req *r);
/* The API URL of member id (member document, else the configuration),
 * or NULL. */
const char *cs_api__member_url(struct cs_api *api, uint64_t id, char *buf,
    size_t size);

/* Forwards r to the leader on its own (one HTTP request). */
void cs_api__forward_one(struct cs_api_req *r, uint64_t leader);
/* A few headers of a leader's answer, values in the answered request's
 * arena, and their lookup (ASCII case-insensitive; NULL if absent). */
struct cs_api_headers {
	size_t n;
	struct cs_http_header h[16];
};
const char *cs_api__headers_get(const struct cs_api_headers *hs,
    const char *name);
/* Answers r with a leader's answer: status, body (taken), and those of
 * hs worth relaying. */
void cs_api__relay(struct cs_api_req *r, int status,
    const struct cs_api_headers *hs, uint8_t *body, size_t len);

/* ---- api.c ---- */

/* Takes a request of listener which from the top: request id, route,
 * authentication, parameters, dispatch. */
void cs_api__handle(struct cs_api *api, enum cs_listener which,
    struct cs_http_req *http);

/* ---- forward.c: batches of forwarded writes ---- */

/* Writes per batch at most; parts of a batch whose answer is bigger than
 * CS_FWD_ANSWER_MAX come back empty and go again alone. Bodies over
 * CS_FWD_BODY_MAX are never batched. */
#define CS_FWD_BATCH_MAX  64
#define CS_FWD_INFLIGHT   4
#define CS_FWD_BODY_MAX   (64u * 1024)
#define CS_FWD_ANSWER_MAX (64u * 1024)
#define CS_FWD_PATH       "/v1/internal/forward"
#define CS_FWD_TYPE       "application/vnd.certstore.forward+msgpack"

void cs_api__forward_init(struct cs_api *api);
/* Whether write r may go in a batch: a small body, and a batch of it
 * alone within the leader's body cap. */
bool cs_api__forward_batchable(struct cs_api_req *r);
/* Queues write r for the leader (a follower's dispatch). */
void cs_api__forward_queue(struct cs_api_req *r);
/* Shutdown: answers what is queued (503) and closes the check handle;
 * closed(api) follows. */
void cs_api__forward_close(struct cs_api *api, uv_close_cb closed);
/* POST /v1/internal/forward: a node's batch, on any node. */
void cs_api__post_forward(struct cs_api_req *r);

/* ---- ca.c ---- */

/* The issuer named so, as of the store now; NULL when there is none. */
struct cs_api_issuer *cs_api__issuer(struct cs_api *api, const char *name);
void cs_api__issuers_free(struct cs_api *api);

/* ---- ocsp.c ---- */

/* Per issuer load: generation and CertID hashes; and its release. */
void cs_api__ocsp_issuer_init(struct cs_api *api, struct cs_api_issuer *is);
void cs_api__ocsp_issuer_close(struct cs_api_issuer *is);
void cs_api__ocsp_free(struct cs_api *api);
void cs_api__ocsp_stats(const struct cs_api *api, uint64_t *hits,
    uint64_t *misses, size_t *cached);

/* ---- crl.c ---- */

/* Starts the CRL jobs (the applied callback, the leader's timer) and
 * builds what the store holds; stop at close. */
void cs_api__crl_start(struct cs_api *api);
void cs_api__crl_stop(struct cs_api *api);
void cs_api__crls_free(struct cs_api *api);
/* The numbers of the full and delta CRLs this node serves for issuer. */
void cs_api__crl_stats(const struct cs_api *api, const char *issuer,
    uint64_t *full, uint64_t *delta);

/* ---- metrics.c ---- */

/* Counts an answer with status (called as it goes out). */
void cs_api__count(struct cs_api_req *r, int status);

/* ---- the route handlers ---- */

void cs_api__get_cluster(struct cs_api_req *r);
void cs_api__post_member(struct cs_api_req *r);
void cs_api__delete_member(struct cs_api_req *r);
void cs_api__post_transfer(struct cs_api_req *r);
void cs_api__get_healthz(struct cs_api_req *r);
void cs_api__get_readyz(struct cs_api_req *r);
void cs_api__get_state_hash(struct cs_api_req *r);
void cs_api__post_certs(struct cs_api_req *r);
void cs_api__get_cert(struct cs_api_req *r);
void cs_api__post_revoke(struct cs_api_req *r);
void cs_api__patch_cert(struct cs_api_req *r);
void cs_api__get_certs(struct cs_api_req *r);
void cs_api__post_revocations(struct cs_api_req *r);
void cs_api__get_key(struct cs_api_req *r);
void cs_api__post_compromise(struct cs_api_req *r);
void cs_api__post_destroy(struct cs_api_req *r);
void cs_api__get_expiring(struct cs_api_req *r);
void cs_api__get_rotation_due(struct cs_api_req *r);
void cs_api__get_profiles(struct cs_api_req *r);
void cs_api__get_profile(struct cs_api_req *r);
void cs_api__put_profile(struct cs_api_req *r);
void cs_api__delete_profile(struct cs_api_req *r);
void cs_api__get_roles(struct cs_api_req *r);
void cs_api__get_role(struct cs_api_req *r);
void cs_api__put_role(struct cs_api_req *r);
void cs_api__delete_role(struct cs_api_req *r);
void cs_api__get_audit(struct cs_api_req *r);
void cs_api__get_audit_verify(struct cs_api_req *r);
void cs_api__get_snapshot(struct cs_api_req *r);
void cs_api__get_metrics(struct cs_api_req *r);
void cs_api__post_issue(struct cs_api_req *r);
void cs_api__post_renew(struct cs_api_req *r);
void cs_api__get_issuers(struct cs_api_req *r);
void cs_api__get_issuer(struct cs_api_req *r);
void cs_api__put_issuer(struct cs_api_req *r);
void cs_api__delete_issuer(struct cs_api_req *r);
void cs_api__get_ca_cert(struct cs_api_req *r);
void cs_api__post_ocsp(struct cs_api_req *r);
void cs_api__get_ocsp(struct cs_api_req *r);
void cs_api__get_crl(struct cs_api_req *r);
/* The initial members' documents, proposed once by a new leader. */
void cs_api__write_members(struct cs_api *api);
/* At close: raft operations not waited for any more. */
void cs_api__orphan_ops(struct cs_api *api);
/* Membership changes and transfers on the leader; done(r, status) with
 * 0 or a CS_E* (CS_ELEADERLOST, CS_ETIMEDOUT, ...). A request that goes
 * away first orphans the operation. */
typedef void (*cs_api_change_cb)(struct cs_api_req *r, int status);
void cs_api__join(struct cs_api_req *r, uint64_t id, const char *address,
    cs_api_change_cb done);
void cs_api__remove(struct cs_api_req *r, uint64_t id, cs_api_change_cb done);
void cs_api__transfer(struct cs_api_req *r, uint64_t id, cs_api_change_cb done);
/* Called when a threadpool job of the API ends (api->works--). */
void cs_api__work_done(struct cs_api *api);

#endif
