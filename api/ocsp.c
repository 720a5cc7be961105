/*
 * ocsp.c - the OCSP responder every node runs (RFC 6960), on every
 * listener: POST /ocsp and GET /ocsp/{url-encoded base64 request}.
 *
 * Answers come from this node's own copy of the state. Each node signs
 * with its own delegated responder key: a P-256 key made in memory when
 * the node first answers for an issuer, certified by the issuer's key
 * (which every node resolves itself) with EKU OCSPSigning and
 * ocsp-nocheck, for CS_OCSP_SIGNER_DAYS days and renewed at half-life.
 * Responder certificates are not written to the log: a node cut off from
 * the leader must still be able to renew its own.
 *
 * Signed single responses are cached by CertID (exactly as requested:
 * the response echoes it). A cached response is used only while the
 * certificate's record is the version it was signed for (so a revocation
 * applied here is answered at once), the issuer is the one it was signed
 * under, and it is younger than a quarter of its validity. Requests with
 * a nonce or several CertIDs are signed afresh.
 *
 * A node that has known no leader for longer than ocsp-staleness answers
 * tryLater rather than vouch for a status that may have changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/api_int.h"
#include "cert/issue.h"
#include "cert/ocsp.h"
#include "cert/pem.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"

#define CS_OCSP_SIGNER_DAYS 7
#define OCSP_VALIDITY       3600 /* nextUpdate - thisUpdate */
#define CACHE_MAX           (1u << 20)
#define CERTID_MAX          256
#define CATCHING_UP         1000 /* entries behind the commit index */

struct cs_ocsp_cached {
	uint64_t gen;     /* of the issuer it was signed under; 0: free */
	uint64_t version; /* the record's updated_index, 0: unknown */
	int64_t produced;
	uint32_t hash;
	uint16_t certid_len;
	uint8_t certid[CERTID_MAX];
	uint8_t *der;
	size_t len;
};

struct cs_api_ocsp_cache {
	struct cs_ocsp_cached *slots;
	size_t cap, n;
	uint64_t hits, misses;
};

static const char ctype_resp[] = "application/ocsp-response";

/* Relying parties and proxies may keep an answer a minute (RFC 5019
 * caching), not until its nextUpdate: a revocation must show soon. */
static const struct cs_http_header cache_hdr[] = {
    {"Cache-Control", "public, max-age=60, no-transform, must-revalidate"},
};

/* ---- the cache ---- */

static uint32_t
fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void
cache_clear(struct cs_api_ocsp_cache *c)
{
	for (size_t i = 0; i < c->cap; i++) {
		free(c->slots[i].der);
		c->slots[i].der = NULL;
		c->slots[i].gen = 0;
	}
	c->n = 0;
}

void
cs_api__ocsp_free(struct cs_api *api)
{
	struct cs_api_ocsp_cache *c = api->ocsp;

	if (c == NULL)
		return;
	cache_clear(c);
	free(c->slots);
	free(c);
	api->ocsp = NULL;
}

static struct cs_ocsp_cached *
cache_find(struct cs_api_ocsp_cache *c, const struct cs_der *certid, uint32_t h)
{
	if (c == NULL || c->cap == 0)
		return NULL;
	for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		struct cs_ocsp_cached *e = &c->slots[i];

		if (e->gen == 0)
			return NULL;
		if (e->hash == h && e->certid_len == certid->len &&
		    memcmp(e->certid, certid->p, certid->len) == 0)
			return e;
	}
}

static void
cache_put(struct cs_api *api, const struct cs_der *certid, uint32_t h,
    uint64_t gen, uint64_t version, int64_t produced, uint8_t *der, size_t len)
{
	struct cs_api_ocsp_cache *c = api->ocsp;
	struct cs_ocsp_cached *e;

	if (certid->len > CERTID_MAX) {
		free(der);
		return;
	}
	if (c == NULL) {
		c = api->ocsp = cs_calloc(1, sizeof *c);
		c->cap = 1024;
		c->slots = cs_calloc(c->cap, sizeof *c->slots);
	}
	e = cache_find(c, certid, h);
	if (e == NULL && (c->n + 1) * 2 > c->cap) {
		if (c->cap < CACHE_MAX) {
			struct cs_ocsp_cached *old = c->slots;
			size_t oldcap = c->cap;

			c->cap *= 2;
			c->slots = cs_calloc(c->cap, sizeof *c->slots);
			c->n = 0;
			for (size_t i = 0; i < oldcap; i++) {
				struct cs_ocsp_cached *o = &old[i], *d;
				size_t k;

				if (o->gen == 0)
					continue;
				for (k = o->hash & (c->cap - 1);
				     c->slots[k].gen != 0;
				     k = (k + 1) & (c->cap - 1))
					;
				d = &c->slots[k];
				*d = *o;
				c->n++;
			}
			free(old);
		} else {
			cache_clear(c); /* full: start over */
		}
	}
	if (e == NULL) {
		size_t k;

		for (k = h & (c->cap - 1); c->slots[k].gen != 0;
		     k = (k + 1) & (c->cap - 1))
			;
		e = &c->slots[k];
		c->n++;
		e->hash = h;
		e->certid_len = (uint16_t)certid->len;
		memcpy(e->certid, certid->p, certid->len);
	}
	free(e->der);
	e->gen = gen;
	e->version = version;
	e->produced = produced;
	e->der = der;
	e->len = len;
}

/* ---- the responder key of this node ---- */

/* Makes (or renews at half-life) this node's responder certificate for
 * issuer is. 0, or an error when the issuer's key is not usable here. */
static int
responder(struct cs_api *api, struct cs_api_issuer *is, int64_t now)
{
	static char eku_name[] = "OCSPSigning";
	char *eku_v[1] = {eku_name};
	struct cs_strv eku = {1, eku_v};
	struct cs_issue_params p = {0};
	struct cs_issue_ca ca;
	struct cs_serial sn;
	struct cs_buf der;
	EVP_PKEY *key;
	uint8_t rnd[20];
	char err[CS_ERRMSG_SIZE];
	unsigned char *spki = NULL;
	int spki_len, rc;

	if (is->responder_ok &&
	    now < is->responder_not_after - CS_OCSP_SIGNER_DAYS * 86400 / 2)
		return 0;
	if (is->key_rc < 0)
		return is->key_rc;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL || RAND_bytes(rnd, sizeof rnd) != 1) {
		EVP_PKEY_free(key);
		return CS_ECRYPTO;
	}
	spki_len = i2d_PUBKEY(key, &spki);
	cs_serial_from_random(&sn, rnd, sizeof rnd);
	p.subject = NULL;
	p.spki = spki;
	p.spki_len = spki_len > 0 ? (size_t)spki_len : 0;
	p.serial = &sn;
	p.not_before = now - 300;
	p.not_after = now + CS_OCSP_SIGNER_DAYS * 86400;
	if (p.not_after > is->ci->not_after)
		p.not_after = is->ci->not_after;
	p.path_len = -1;
	p.key_usage = CS_KU_DIGITAL_SIGNATURE;
	p.eku = &eku;
	p.ocsp_nocheck = true;
	/* the subject names the node, as the responder's SAN */
	{
		char uri_buf[96];
		char *uris[1] = {uri_buf};
		struct cs_names sans = {0};

		snprintf(uri_buf, sizeof uri_buf, "urn:certstore:node:%llu",
		    (unsigned long long)api->cfg.node_id);
		sans.uri = (struct cs_strv){1, uris};
		p.sans = &sans;
		ca = (struct cs_issue_ca){is->name_der, is->name_len,
		    is->ci->ski, is->ci->ski_len, &is->signer};
		cs_buf_init(&der, 64 * 1024);
		rc = cs_issue_build(&p, &ca, &der, err);
	}
	OPENSSL_free(spki);
	if (rc < 0) {
		cs_log(CS_LOG_ERR, "ocsp responder issuer=%s error=\"%s\"",
		    is->name, err);
		cs_buf_close(&der);
		EVP_PKEY_free(key);
		return rc;
	}
	if (is->responder_ok)
		cs_signer_close(&is->responder);
	rc = cs_signer_init(&is->responder, key, err);
	EVP_PKEY_free(key);
	if (rc < 0) {
		is->responder_ok = false;
		cs_buf_close(&der);
		return rc;
	}
	free(is->responder_cert);
	is->responder_cert = cs_buf_steal(&der, &is->responder_cert_len);
	is->responder_not_after = p.not_after;
	is->responder_ok = true;
	cs_log(CS_LOG_INFO, "ocsp responder issuer=%s not_after=%lld", is->name,
	    (long long)p.not_after);
	return 0;
}

/* ---- answering ---- */

/* The issuer a CertID names, among the issuers in the store. */
static struct cs_api_issuer *
issuer_of(struct cs_api *api, const struct cs_ocsp_certid *id)
{
	struct cs_store *s = cs_api__store(api);
	size_t hl = cs_ocsp_hash_len(id->hash);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;

	if (id->name_hash.len != hl || id->key_hash.len != hl)
		return NULL;
	/* issuers are few; each is cached and checked for change */
	while ((k = cs_store_doc_next(s, CS_NS_ISSUER, k, &v, &len)) != NULL) {
		struct cs_api_issuer *is = cs_api__issuer(api, k);

		if (is != NULL &&
		    memcmp(is->ocsp_key_hash[id->hash], id->key_hash.p, hl) ==
			0 &&
		    memcmp(is->ocsp_name_hash[id->hash], id->name_hash.p, hl) ==
			0)
			return is;
	}
	return NULL;
}

/* Status of one CertID; *version the record's version (0: unknown). */
static void
status_of(struct cs_api *api, struct cs_api_issuer *is,
    const struct cs_ocsp_certid *id, struct cs_ocsp_single *one,
    uint64_t *version)
{
	const struct cs_cert *c = NULL;

	*version = 0;
	one->certid = id->whole;
	one->status = CS_OCSP_UNKNOWN;
	one->reason = -1;
	if (is != NULL &&
	    cs_store_get_serial(cs_api__store(api), is->ci->subject,
		&id->serial, &c, 1) > 0 &&
	    c != NULL) {
		*version = c->updated_index;
		if (c->status == CS_STATUS_REVOKED) {
			one->status = CS_OCSP_REVOKED;
			one->revoked_at = c->revoked_at;
			one->reason = c->reason == CS_REASON_UNSPECIFIED
					  ? -1
					  : (int)c->reason;
		} else {
			one->status = CS_OCSP_GOOD;
		}
	}
}

static void
answer_error(struct cs_api_req *r, enum cs_ocsp_error_status st)
{
	size_t len;
	const uint8_t *b = cs_ocsp_error(st, &len);

	cs_api__respond(r, 200, ctype_resp, cs_memdup(b, len), len, NULL, 0);
}

static void
answer(struct cs_api_req *r, const uint8_t *der, size_t len)
{
	struct cs_api *api = r->api;
	struct cs_ocsp_request req;
	struct cs_ocsp_single singles[CS_OCSP_MAX_IDS];
	uint64_t versions[CS_OCSP_MAX_IDS];
	struct cs_api_issuer *is = NULL, *signer_is = NULL;
	struct cs_ocsp_response resp = {0};
	struct cs_buf out;
	char err[CS_ERRMSG_SIZE];
	int64_t now = cs_api__now();
	bool cacheable;
	uint32_t h = 0;

	if (cs_ocsp_parse_request(der, len, &req, err) < 0) {
		cs_log(CS_LOG_DEBUG, "ocsp malformed error=\"%s\"", err);
		answer_error(r, CS_OCSP_MALFORMED);
		return;
	}
	if (api->cfg.ocsp_staleness > 0 &&
	    cs_replica_leaderless_ms(api->replica) >
		(uint64_t)api->cfg.ocsp_staleness * 1000) {
		answer_error(r, CS_OCSP_TRY_LATER);
		return;
	}
	/* a node replaying a backlog (back after downtime) knows a leader
	 * but not yet what it missed: no answers until it has caught up */
	if (cs_replica_commit_index(api->replica) >
	    cs_replica_applied_index(api->replica) + CATCHING_UP) {
		answer_error(r, CS_OCSP_TRY_LATER);
		return;
	}
	cacheable = req.n == 1 && req.nonce.len == 0;
	if (cacheable) {
		struct cs_ocsp_cached *e;

		h = fnv1a(req.ids[0].whole.p, req.ids[0].whole.len);
		e = cache_find(api->ocsp, &req.ids[0].whole, h);
		if (e != NULL) {
			is = issuer_of(api, &req.ids[0]);
			status_of(api, is, &req.ids[0], &singles[0],
			    &versions[0]);
			if (is != NULL && e->gen == is->gen &&
			    e->version == versions[0] &&
			    now - e->produced < OCSP_VALIDITY / 4) {
				api->ocsp->hits++;
				cs_api__respond(r, 200, ctype_resp,
				    cs_memdup(e->der, e->len), e->len,
				    cache_hdr, 1);
				return;
			}
		}
	}
	for (size_t i = 0; i < req.n; i++) {
		is = issuer_of(api, &req.ids[i]);
		status_of(api, is, &req.ids[i], &singles[i], &versions[i]);
		singles[i].this_update = now;
		singles[i].next_update = now + OCSP_VALIDITY;
		if (is != NULL && signer_is == NULL)
			signer_is = is;
	}
	/* signed by the responder of the first issuer we know; a request
	 * only about issuers we do not know is not ours to answer */
	if (signer_is == NULL) {
		answer_error(r, CS_OCSP_UNAUTHORIZED);
		return;
	}
	if (responder(api, signer_is, now) < 0) {
		answer_error(r, CS_OCSP_TRY_LATER);
		return;
	}
	resp.singles = singles;
	resp.n = req.n;
	resp.produced_at = now;
	if (req.nonce.len > 0) {
		resp.nonce = req.nonce.p;
		resp.nonce_len = req.nonce.len;
	}
	resp.signer_cert = signer_is->responder_cert;
	resp.signer_cert_len = signer_is->responder_cert_len;
	cs_buf_init(&out, 1 << 20);
	if (cs_ocsp_build(&resp, &signer_is->responder, &out, err) < 0) {
		cs_log(CS_LOG_ERR, "ocsp build error=\"%s\"", err);
		cs_buf_close(&out);
		answer_error(r, CS_OCSP_INTERNAL);
		return;
	}
	if (api->ocsp != NULL)
		api->ocsp->misses++;
	if (cacheable) {
		uint8_t *copy = cs_memdup(out.data, out.len);

		cache_put(api, &req.ids[0].whole, h, signer_is->gen,
		    versions[0], now, copy, out.len);
	}
	len = out.len;
	cs_api__respond(r, 200, ctype_resp, cs_buf_steal(&out, &len), len, NULL,
	    0);
}

void
cs_api__post_ocsp(struct cs_api_req *r)
{
	size_t len;
	const uint8_t *body = cs_http_req_body(r->http, &len);

	if (len > CS_OCSP_MAX_REQUEST) {
		answer_error(r, CS_OCSP_MALFORMED);
		return;
	}
	answer(r, body, len);
}

void
cs_api__get_ocsp(struct cs_api_req *r)
{
	const char *raw = r->params[0];
	size_t n = strlen(raw), dlen = 0;
	char *text = cs_http_req_alloc(r->http, n + 1);
	uint8_t *der = NULL;

	/* the base64 arrives percent-encoded ('/', '+', '=' may come as
	 * %2F, %2B, %3D) or raw, '/' included */
	if (n > 2 * CS_OCSP_MAX_REQUEST ||
	    cs_http_pct_decode(raw, n, text, &dlen, 0) < 0 ||
	    cs_base64_decode((const uint8_t *)text, dlen, CS_OCSP_MAX_REQUEST,
		&der, &n, NULL) < 0) {
		answer_error(r, CS_OCSP_MALFORMED);
		return;
	}
	answer(r, der, n);
	free(der);
}

void
cs_api__ocsp_issuer_init(struct cs_api *api, struct cs_api_issuer *is)
{
	struct cs_der_cert dc;

	is->gen = ++api->issuer_gen;
	if (cs_der_cert_split(is->doc.cert, is->doc.cert_len, &dc, NULL) < 0)
		return;
	for (int h = 0; h < CS_OCSP_HASH__MAX; h++)
		(void)cs_ocsp_issuer_hashes((enum cs_ocsp_hash)h, dc.subject.p,
		    dc.subject.len, dc.spki.p, dc.spki.len,
		    is->ocsp_name_hash[h], is->ocsp_key_hash[h]);
}

void
cs_api__ocsp_issuer_close(struct cs_api_issuer *is)
{
	if (is->responder_ok)
		cs_signer_close(&is->responder);
	free(is->responder_cert);
	is->responder_cert = NULL;
	is->responder_ok = false;
}

void
cs_api__ocsp_stats(const struct cs_api *api, uint64_t *hits, uint64_t *misses,
    size_t *cached)
{
	const struct cs_api_ocsp_cache *c = api->ocsp;

	*hits = c != NULL ? c->hits : 0;
	*misses = c != NULL ? c->misses : 0;
	*cached = c != NULL ? c->n : 0;
}
