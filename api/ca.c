/*
 * ca.c - the CA: issuers as this node can use them, issuance and renewal,
 * and the issuer routes (documents, CA certificates).
 *
 * An issuer document (cert/doc.h) carries the CA certificate and a key
 * reference; every node resolves the reference itself (api/keys.h) the
 * first time the issuer is used and again whenever its document changes.
 * A node without the key still serves the CA certificate, OCSP with its
 * own delegated key cannot be renewed, and issuance there answers 503.
 *
 * Issuance runs on the leader (a follower forwards the request): check
 * the request against the profile, pick a random 160-bit serial, take the
 * times from this clock (not_before 5 minutes back for devices whose clock
 * runs late), sign, and propose an import of the signed certificate. The
 * answer is built from the committed state, so a retry under the same
 * request id after a leader change answers with the certificate that was
 * committed first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "api/api_int.h"
#include "api/keys.h"
#include "cert/csr.h"
#include "cert/der.h"
#include "cert/doc.h"
#include "cert/issue.h"
#include "cert/pem.h"
#include "cert/profile.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"

#define BACKDATE        300
#define MAX_ISSUERS     256
#define CERT_MAX        (64 * 1024)
#define MAX_DEFAULT_URL 16

/* ---- the issuer cache ---- */

static void
issuer_free(struct cs_api_issuer *is)
{
	if (is == NULL)
		return;
	free(is->name);
	cs_issuer_close(&is->doc);
	cs_cert_info_free(is->ci);
	free(is->name_der);
	free(is->cert_pem);
	if (is->key_rc == 0)
		cs_signer_close(&is->signer);
	cs_api__ocsp_issuer_close(is);
	free(is);
}

void
cs_api__issuers_free(struct cs_api *api)
{
	while (api->issuers != NULL) {
		struct cs_api_issuer *next = api->issuers->next;

		issuer_free(api->issuers);
		api->issuers = next;
	}
}

/* Resolves the key and checks it is the certificate's. */
static void
issuer_key(struct cs_api_issuer *is)
{
	EVP_PKEY *key = NULL;
	struct cs_der_cert dc;

	is->key_rc = cs_keys_load(is->doc.key_ref, &key, is->key_err);
	if (is->key_rc < 0)
		return;
	is->key_rc = cs_signer_init(&is->signer, key, is->key_err);
	EVP_PKEY_free(key);
	if (is->key_rc < 0)
		return;
	if (cs_der_cert_split(is->doc.cert, is->doc.cert_len, &dc, NULL) < 0 ||
	    !cs_signer_matches(&is->signer, dc.spki.p, dc.spki.len)) {
		cs_signer_close(&is->signer);
		snprintf(is->key_err, sizeof is->key_err,
		    "key_ref %s: not the private key of the CA certificate",
		    is->doc.key_ref);
		is->key_rc = CS_EINVAL;
	}
}

/* Builds the cache entry for a document; NULL when the document does not
 * hold a usable CA certificate (an invalid document never reaches the
 * store: PUT checks it). */
static struct cs_api_issuer *
issuer_load(struct cs_api *api, const char *name, const uint8_t *doc,
    size_t len, const uint8_t digest[32])
{
	struct cs_api_issuer *is = cs_calloc(1, sizeof *is);
	struct cs_der_cert dc;

	is->name = cs_strdup(name);
	memcpy(is->digest, digest, 32);
	if (cs_issuer_decode(doc, len, &is->doc, NULL) < 0 ||
	    cs_x509_parse_der(is->doc.cert, is->doc.cert_len, &is->ci, NULL) <
		0 ||
	    cs_der_cert_split(is->doc.cert, is->doc.cert_len, &dc, NULL) < 0) {
		issuer_free(is);
		return NULL;
	}
	is->name_der = cs_memdup(dc.subject.p, dc.subject.len);
	is->name_len = dc.subject.len;
	is->cert_pem = cs_x509_der_to_pem(is->doc.cert, is->doc.cert_len);
	issuer_key(is);
	cs_api__ocsp_issuer_init(api, is);
	return is;
}

struct cs_api_issuer *
cs_api__issuer(struct cs_api *api, const char *name)
{
	struct cs_api_issuer **pp, *is;
	const uint8_t *doc;
	uint8_t digest[32];
	size_t len, n = 0;

	struct cs_store *s = cs_api__store(api);
	uint64_t version = cs_store_doc_version(s, CS_NS_ISSUER);

	for (pp = &api->issuers; *pp != NULL; pp = &(*pp)->next, n++) {
		if (strcmp((*pp)->name, name) == 0)
			break;
	}
	/* no issuer document changed since this entry was checked */
	if (*pp != NULL && (*pp)->store == s && (*pp)->doc_version == version)
		return *pp;
	doc = cs_store_doc(s, CS_NS_ISSUER, name, &len);
	if (doc == NULL) {
		if (*pp != NULL) {
			is = *pp;
			*pp = is->next;
			issuer_free(is);
		}
		return NULL;
	}
	SHA256(doc, len, digest);
	if (*pp != NULL && memcmp((*pp)->digest, digest, 32) == 0) {
		(*pp)->store = s;
		(*pp)->doc_version = version;
		return *pp;
	}
	is = issuer_load(api, name, doc, len, digest);
	if (is == NULL)
		return NULL;
	is->store = s;
	is->doc_version = version;
	if (*pp != NULL) {
		is->next = (*pp)->next;
		issuer_free(*pp);
		*pp = is;
	} else if (n < MAX_ISSUERS) {
		is->next = api->issuers;
		api->issuers = is;
	} else {
		/* more issuers than the cache holds: the oldest goes */
		issuer_free(is);
		return NULL;
	}
	return is;
}

/* ---- who may issue under a profile ---- */

static bool
binding_allows(struct cs_store *s, const char *key, const char *profile)
{
	struct cs_role_binding b;
	const uint8_t *v;
	size_t len;
	bool ok = false;

	v = cs_store_doc(s, CS_NS_ROLE, key, &len);
	if (v == NULL || cs_role_decode(v, len, &b, NULL) < 0)
		return false;
	if (strcmp(b.role, "enroller") == 0) {
		for (size_t i = 0; i < b.profiles.n && !ok; i++)
			ok = strcmp(b.profiles.v[i], profile) == 0;
	}
	cs_role_close(&b);
	return ok;
}

/* Operators and admins issue under any profile; an enroller under the
 * profiles its binding lists. */
static bool
may_issue(struct cs_api_req *r, const char *profile)
{
	const struct cs_identity *id = r->client;
	struct cs_store *s = cs_api__store(r->api);
	char key[CS_CMD_MAX_STR + 8], hex[65];

	if (r->roles & (CS_ROLE_ADMIN | CS_ROLE_OPERATOR))
		return true;
	if (id == NULL)
		return false;
	cs_hex_encode(id->fp, 32, hex);
	snprintf(key, sizeof key, "fp:%s", hex);
	if (binding_allows(s, key, profile) ||
	    binding_allows(s, id->subject, profile))
		return true;
	for (size_t i = 0; i < id->nsans; i++) {
		snprintf(key, sizeof key, "san:%s", id->sans[i]);
		if (binding_allows(s, key, profile))
			return true;
	}
	return false;
}

/* ---- issuance ---- */

/* The URLs every certificate points at when the profile names none: each
 * member's plain-HTTP listener (CRL and OCSP are signed objects; relying
 * parties fetch them over http://, and any node answers). */
static void
default_urls(struct cs_api *api, const char *issuer, struct cs_strv *crl,
    struct cs_strv *ocsp, struct cs_strv *cai)
{
	struct cs_store *s = cs_api__store(api);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;
	char url[1200];

	crl->v = cs_calloc(MAX_DEFAULT_URL + 1, sizeof *crl->v);
	ocsp->v = cs_calloc(MAX_DEFAULT_URL + 1, sizeof *ocsp->v);
	cai->v = cs_calloc(2, sizeof *cai->v);
	while ((k = cs_store_doc_next(s, CS_NS_MEMBER, k, &v, &len)) != NULL &&
	       crl->n < MAX_DEFAULT_URL) {
		struct cs_member m;

		if (cs_member_decode(v, len, &m, NULL) < 0)
			continue;
		if (m.http_url != NULL && m.http_url[0] != '\0') {
			snprintf(url, sizeof url, "%s/crl/%s.crl", m.http_url,
			    issuer);
			crl->v[crl->n++] = cs_strdup(url);
			snprintf(url, sizeof url, "%s/ocsp", m.http_url);
			ocsp->v[ocsp->n++] = cs_strdup(url);
			if (cai->n == 0) {
				snprintf(url, sizeof url, "%s/ca/%s.crt",
				    m.http_url, issuer);
				cai->v[cai->n++] = cs_strdup(url);
			}
		}
		cs_member_close(&m);
	}
}

/* Everything one issuance needs, gathered before signing. */
struct issue_job {
	const char *profile_name;
	struct cs_profile profile;
	struct cs_api_issuer *issuer;
	const uint8_t *subject; /* DER Name, NULL: empty */
	size_t subject_len;
	const uint8_t *spki;
	size_t spki_len;
	const struct cs_names *sans;
	int64_t validity;
	struct cs_buf name;
};

struct issue_ctx {
	uint8_t fp[32];
	char issuer[CS_CMD_MAX_STR + 1];
};

static void
on_issued(struct cs_api_req *r, const struct cs_result *res)
{
	struct cs_store *s = cs_api__store(r->api);
	const struct issue_ctx *ic = r->hctx;
	struct cs_api_issuer *is;
	const struct cs_cert *c;
	struct cs_serial sn;
	char serial[CS_SERIAL_TEXT_SIZE], fp[65];
	struct cs_buf chain;
	const uint8_t *der;
	size_t der_len;
	char *pem;
	json_t *o;

	if (res->rc < 0) {
		cs_api__problem_rc(r, res->rc, "issue");
		return;
	}
	/* the certificate this request id committed (after a retry, maybe
	 * not the one signed this time) */
	c = cs_store_get_fp(s, res->fingerprint);
	if (c == NULL)
		c = cs_store_get_fp(s, ic->fp);
	if (c == NULL) {
		cs_api__problem(r, 500, "internal", "issued certificate gone");
		return;
	}
	der = cs_cert_der(c, &der_len);
	pem = cs_x509_der_to_pem(der, der_len);
	cs_buf_init(&chain, 1 << 20);
	is = cs_api__issuer(r->api, ic->issuer);
	if (is != NULL) {
		cs_buf_append_str(&chain, is->cert_pem);
		if (is->doc.chain_pem != NULL)
			cs_buf_append_str(&chain, is->doc.chain_pem);
	}
	cs_cert_serial(c, &sn);
	cs_serial_format(&sn, serial);
	cs_hex_encode(c->fingerprint, 32, fp);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "fingerprint", fp,
	    "serial", serial, "issuer", ic->issuer, "profile",
	    cs_cert_profile(c), "certificate", pem, "chain",
	    chain.len > 0 ? (const char *)chain.data : "", "cert",
	    cs_api__cert_json(c, cs_api__now(), false));
	free(pem);
	cs_buf_close(&chain);
	cs_api__respond_json(r, 201, o);
}

/* A key recorded as compromised gets no new certificate (the store would
 * only mark it revoked on arrival): answers 409 and returns true. */
static bool
key_compromised(struct cs_api_req *r, const uint8_t *spki, size_t spki_len)
{
	const struct cs_key *k;
	uint8_t id[32];
	char hex[65];

	SHA256(spki, spki_len, id);
	k = cs_store_get_key(cs_api__store(r->api), id);
	if (k == NULL || k->state != CS_KEY_COMPROMISED)
		return false;
	cs_hex_encode(id, 32, hex);
	cs_api__problem(r, 409, "key-compromised",
	    "key %s is recorded as compromised: no certificate is issued "
	    "for it; make a new key",
	    hex);
	return true;
}

/* Signs and proposes. Answers on every error. */
static void
issue(struct cs_api_req *r, struct issue_job *j, struct cs_cmd *cmd)
{
	struct cs_api_issuer *is = j->issuer;
	struct cs_strv crl = {0}, ocsp = {0}, cai = {0};
	struct cs_issue_params p = {0};
	struct cs_issue_ca ca;
	struct cs_serial sn;
	struct issue_ctx *ic;
	struct cs_buf *der;
	uint8_t rnd[20];
	char err[CS_ERRMSG_SIZE] = "";
	int64_t now = cs_api__now();
	int rc;

	if (is->key_rc < 0) {
		cs_api__unavailable(r,
		    "issuer %s: its key is not usable on this node (%s)",
		    is->name, is->key_err);
		return;
	}
	if (key_compromised(r, j->spki, j->spki_len))
		return;
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		cs_api__problem(r, 500, "internal", "no random serial");
		return;
	}
	cs_serial_from_random(&sn, rnd, sizeof rnd);
	if (j->profile.crl_urls.n + j->profile.ocsp_urls.n == 0)
		default_urls(r->api, is->name, &crl, &ocsp, &cai);
	p.subject = j->subject;
	p.subject_len = j->subject_len;
	p.spki = j->spki;
	p.spki_len = j->spki_len;
	p.sans = j->sans;
	p.serial = &sn;
	p.not_before = now - BACKDATE;
	p.not_after = p.not_before +
		      (j->validity > 0 ? j->validity : j->profile.max_validity);
	if (p.not_after > is->ci->not_after)
		p.not_after = is->ci->not_after; /* never past the CA */
	p.path_len = -1;
	p.key_usage = j->profile.key_usage;
	p.eku = &j->profile.eku;
	p.crl_urls = j->profile.crl_urls.n > 0 ? &j->profile.crl_urls : &crl;
	p.ocsp_urls =
	    j->profile.ocsp_urls.n > 0 ? &j->profile.ocsp_urls : &ocsp;
	p.ca_issuers = &cai;
	ca = (struct cs_issue_ca){is->name_der, is->name_len, is->ci->ski,
	    is->ci->ski_len, &is->signer};
	der = cs_http_req_alloc(r->http, sizeof *der);
	cs_buf_init(der, CERT_MAX);
	rc = cs_issue_build(&p, &ca, der, err);
	cs_strv_free(&crl);
	cs_strv_free(&ocsp);
	cs_strv_free(&cai);
	if (rc < 0) {
		cs_buf_close(der);
		cs_api__problem(r, rc == CS_EINVAL ? 400 : 500, "issue-failed",
		    "%s", err);
		return;
	}
	ic = cs_http_req_alloc(r->http, sizeof *ic);
	SHA256(der->data, der->len, ic->fp);
	snprintf(ic->issuer, sizeof ic->issuer, "%s", is->name);
	cmd->u.import.n = 1;
	cmd->u.import.der[0] = (struct cs_bytes){der->data, der->len};
	cmd->u.import.source = CS_SOURCE_ISSUED;
	cmd->u.import.profile =
	    (struct cs_bytes){(const uint8_t *)j->profile_name,
		strlen(j->profile_name)};
	r->hctx = ic;
	cs_api__propose(r, cmd, on_issued);
	cs_buf_close(der);
}

/* The profile and its issuer, or an answer. */
static int
job_profile(struct cs_api_req *r, struct issue_job *j, const char *name)
{
	const uint8_t *v;
	size_t len;

	j->profile_name = name;
	v = cs_store_doc(cs_api__store(r->api), CS_NS_PROFILE, name, &len);
	if (v == NULL || cs_profile_decode(v, len, &j->profile, NULL) < 0) {
		cs_api__problem(r, 404, "no-such-profile",
		    "no profile \"%s\" (GET /v1/profiles lists them)", name);
		return CS_ENOTFOUND;
	}
	if (!may_issue(r, name)) {
		cs_api__problem(r, 403, "forbidden",
		    "%s may not issue under profile \"%s\"",
		    r->client != NULL ? r->client->subject : "this client",
		    name);
		return CS_EPERM;
	}
	j->issuer = cs_api__issuer(r->api, j->profile.issuer);
	if (j->issuer == NULL) {
		cs_api__problem(r, 409, "no-such-issuer",
		    "profile \"%s\" names issuer \"%s\", which does not exist",
		    name, j->profile.issuer);
		return CS_ENOTFOUND;
	}
	return 0;
}

/* Checks the request against the profile; answers 400 with every
 * violation listed. */
static int
job_check(struct cs_api_req *r, struct issue_job *j,
    const struct cs_csr_info *csr)
{
	struct cs_strv v = {0};
	json_t *list;

	if (cs_profile_check(&j->profile, csr, j->validity, &v) == 0)
		return 0;
	list = cs_api__strv_json(&v);
	cs_api__problem_more(r, 400, "profile-violation",
	    json_pack("{s:o, s:s}", "violations", list, "profile",
		j->profile_name),
	    "the request breaks %zu rule%s of profile \"%s\": %s%s", v.n,
	    v.n == 1 ? "" : "s", j->profile_name, v.v[0],
	    v.n > 1 ? "; ..." : "");
	cs_strv_free(&v);
	return CS_EINVAL;
}

/* A Name holding just the request's CN (other RDNs of a request are not
 * vouched for by anyone; the profile checked the CN). */
static void
job_subject(struct issue_job *j, const struct cs_csr_info *csr)
{
	struct cs_derw w;
	size_t seq, set, ava;

	if (csr->cn_value == NULL)
		return;
	cs_buf_init(&j->name, 4096);
	cs_derw_init(&w, &j->name);
	seq = cs_derw_begin(&w, CS_DER_SEQUENCE);
	set = cs_derw_begin(&w, CS_DER_SET);
	ava = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_oid(&w, CS_OID("\x55\x04\x03"));
	cs_derw_raw(&w, csr->cn_value, csr->cn_value_len);
	cs_derw_end(&w, ava);
	cs_derw_end(&w, set);
	cs_derw_end(&w, seq);
	if (w.err == 0) {
		j->subject = j->name.data;
		j->subject_len = j->name.len;
	}
}

/* owner, tags and key_location of a JSON body into the import. */
static int
import_meta(struct cs_api_req *r, json_t *o, struct cs_cmd *cmd)
{
	json_t *owner = json_object_get(o, "owner");
	json_t *tags = json_object_get(o, "tags");
	json_t *loc = json_object_get(o, "key_location");
	enum cs_key_location l = CS_KEYLOC_DEVICE;

	if (owner != NULL && (!json_is_string(owner) ||
				 json_string_length(owner) > CS_CMD_MAX_STR)) {
		cs_api__problem(r, 400, "invalid",
		    "owner: a string of at "
		    "most %d bytes",
		    CS_CMD_MAX_STR);
		return CS_EINVAL;
	}
	if (owner != NULL)
		cmd->u.import.owner =
		    (struct cs_bytes){(const uint8_t *)json_string_value(owner),
			json_string_length(owner)};
	if (tags != NULL && !json_is_array(tags)) {
		cs_api__problem(r, 400, "invalid", "tags: a list of strings");
		return CS_EINVAL;
	}
	for (size_t i = 0; tags != NULL && i < json_array_size(tags); i++) {
		json_t *t = json_array_get(tags, i);

		if (!json_is_string(t) ||
		    cmd->u.import.ntags == CS_CMD_MAX_TAGS ||
		    json_string_length(t) > CS_CMD_MAX_STR) {
			cs_api__problem(r, 400, "invalid",
			    "tags: at most %d strings of at most %d bytes",
			    CS_CMD_MAX_TAGS, CS_CMD_MAX_STR);
			return CS_EINVAL;
		}
		cmd->u.import.tags[cmd->u.import.ntags++] =
		    (struct cs_bytes){(const uint8_t *)json_string_value(t),
			json_string_length(t)};
	}
	if (loc != NULL &&
	    (!json_is_string(loc) ||
		cs_keyloc_parse(json_string_value(loc), &l) < 0)) {
		cs_api__problem(r, 400, "invalid",
		    "key_location: device, hsm, software or unknown");
		return CS_EINVAL;
	}
	cmd->u.import.location = (uint8_t)l;
	return 0;
}

static int
job_validity(struct cs_api_req *r, json_t *o, struct issue_job *j)
{
	char err[CS_ERRMSG_SIZE];

	if (cs_api__duration_field(o, "validity", &j->validity, err) < 0) {
		cs_api__problem(r, 400, "invalid", "%s", err);
		return CS_EINVAL;
	}
	/* validity runs from notBefore, BACKDATE in the past: less than
	 * an hour would hand out certificates that expire at once */
	if (j->validity != 0 && j->validity < 3600) {
		cs_api__problem(r, 400, "invalid",
		    "validity: at least 1h (it counts from notBefore, %d s "
		    "before issuance)",
		    BACKDATE);
		return CS_EINVAL;
	}
	return 0;
}

static bool
known_fields(struct cs_api_req *r, json_t *o, const char *const *known,
    size_t n)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(known[i], k) == 0)
				break;
		if (i == n) {
			cs_api__problem(r, 400, "invalid",
			    "unknown field \"%s\"", k);
			return false;
		}
	}
	return true;
}

void
cs_api__post_issue(struct cs_api_req *r)
{
	static const char *const known[] = {"csr", "profile", "owner", "tags",
	    "validity", "key_location"};
	struct cs_cmd *cmd = cs_http_req_alloc(r->http, sizeof *cmd);
	struct issue_job j = {0};
	struct cs_csr_info *csr = NULL;
	char err[CS_ERRMSG_SIZE] = "";
	json_t *o, *v;
	int rc;

	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	if (!known_fields(r, o, known, sizeof known / sizeof known[0]))
		goto out;
	v = json_object_get(o, "profile");
	if (!json_is_string(v)) {
		cs_api__problem(r, 400, "invalid",
		    "profile: the name of the profile to issue under");
		goto out;
	}
	if (job_profile(r, &j, json_string_value(v)) < 0)
		goto out;
	v = json_object_get(o, "csr");
	if (!json_is_string(v)) {
		cs_api__problem(r, 400, "invalid",
		    "csr: a PKCS#10 request, PEM text");
		goto out;
	}
	rc = cs_csr_parse((const uint8_t *)json_string_value(v),
	    json_string_length(v), &csr, err);
	if (rc < 0) {
		cs_api__problem(r, rc == CS_ETOOBIG ? 413 : 400, "bad-csr",
		    "%s", err);
		goto out;
	}
	cs_api__cmd_init(r, cmd, CS_CMD_IMPORT);
	if (job_validity(r, o, &j) < 0 || import_meta(r, o, cmd) < 0 ||
	    job_check(r, &j, csr) < 0)
		goto out;
	job_subject(&j, csr);
	j.spki = csr->spki;
	j.spki_len = csr->spki_len;
	j.sans = &csr->names;
	issue(r, &j, cmd);
out:
	cs_buf_close(&j.name);
	cs_profile_close(&j.profile);
	cs_csr_info_free(csr);
	json_decref(o);
}

/* Renewal: the same subject, names and profile as the certificate named;
 * the same key, or the key of a new request (whose own names are not
 * used: a renewal does not widen what a certificate says). */
void
cs_api__post_renew(struct cs_api_req *r)
{
	static const char *const known[] = {"csr", "validity", "owner", "tags",
	    "key_location"};
	struct cs_cmd *cmd = cs_http_req_alloc(r->http, sizeof *cmd);
	struct issue_job j = {0};
	struct cs_csr_info *csr = NULL, *as_csr = NULL;
	struct cs_cert_info *old = NULL;
	struct cs_der_cert dc;
	char err[CS_ERRMSG_SIZE] = "";
	const struct cs_cert *c;
	const uint8_t *der;
	size_t der_len;
	uint8_t fp[32];
	json_t *o, *v;
	int rc;

	if (!cs_api__param_fp(r, fp))
		return;
	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	if (!known_fields(r, o, known, sizeof known / sizeof known[0]))
		goto out;
	c = cs_store_get_fp(cs_api__store(r->api), fp);
	if (c == NULL) {
		cs_api__problem(r, 404, "not-found",
		    "no certificate with fingerprint %s", r->params[0]);
		goto out;
	}
	if (cs_cert_profile(c)[0] == '\0') {
		cs_api__problem(r, 409, "not-issued-here",
		    "certificate %s was not issued under a profile; issue a "
		    "new one with POST /v1/issue",
		    r->params[0]);
		goto out;
	}
	if (job_profile(r, &j, cs_cert_profile(c)) < 0)
		goto out;
	if (json_object_get(o, "csr") == NULL &&
	    c->status == CS_STATUS_REVOKED &&
	    c->reason == CS_REASON_KEY_COMPROMISE) {
		cs_api__problem(r, 409, "key-compromised",
		    "certificate %s was revoked for keyCompromise: renew it "
		    "with a csr for a new key",
		    r->params[0]);
		goto out;
	}
	der = cs_cert_der(c, &der_len);
	if (cs_x509_parse_der(der, der_len, &old, err) < 0 ||
	    cs_der_cert_split(der, der_len, &dc, err) < 0) {
		cs_api__problem(r, 500, "internal", "%s", err);
		goto out;
	}
	v = json_object_get(o, "csr");
	if (v != NULL) {
		if (!json_is_string(v)) {
			cs_api__problem(r, 400, "invalid",
			    "csr: a PKCS#10 request, PEM text (for a new key)");
			goto out;
		}
		rc = cs_csr_parse((const uint8_t *)json_string_value(v),
		    json_string_length(v), &csr, err);
		if (rc < 0) {
			cs_api__problem(r, rc == CS_ETOOBIG ? 413 : 400,
			    "bad-csr", "%s", err);
			goto out;
		}
	}
	cs_api__cmd_init(r, cmd, CS_CMD_IMPORT);
	if (job_validity(r, o, &j) < 0 || import_meta(r, o, cmd) < 0)
		goto out;
	/* the profile as it is now judges the old names with the new key */
	as_csr = cs_calloc(1, sizeof *as_csr);
	as_csr->names = old->sans;
	as_csr->key_type = csr != NULL ? csr->key_type : old->key_type;
	as_csr->key_bits = csr != NULL ? csr->key_bits : old->key_bits;
	snprintf(as_csr->curve, sizeof as_csr->curve, "%s",
	    csr != NULL ? csr->curve : old->curve);
	if (job_check(r, &j, as_csr) < 0)
		goto out;
	if (cmd->u.import.owner.len == 0 && cs_cert_owner(c)[0] != '\0') {
		const char *ow = cs_cert_owner(c);

		cmd->u.import.owner =
		    (struct cs_bytes){(const uint8_t *)ow, strlen(ow)};
	}
	if (cmd->u.import.ntags == 0) {
		size_t n;
		const char *t = cs_cert_list(c, CS_LIST_TAGS, &n);

		for (size_t i = 0; i < n && i < CS_CMD_MAX_TAGS;
		     i++, t = cs_str_next(t))
			cmd->u.import.tags[cmd->u.import.ntags++] =
			    (struct cs_bytes){(const uint8_t *)t, strlen(t)};
	}
	j.subject = dc.subject.p;
	j.subject_len = dc.subject.len;
	j.spki = csr != NULL ? csr->spki : dc.spki.p;
	j.spki_len = csr != NULL ? csr->spki_len : dc.spki.len;
	j.sans = &old->sans;
	issue(r, &j, cmd);
out:
	if (as_csr != NULL) {
		memset(&as_csr->names, 0, sizeof as_csr->names);
		cs_csr_info_free(as_csr);
	}
	cs_cert_info_free(old);
	cs_profile_close(&j.profile);
	cs_csr_info_free(csr);
	json_decref(o);
}

/* ---- issuer routes ---- */

/* key_ref as shown: a PIN in a pkcs11: URI is never echoed. */
static char *
ref_shown(const char *ref)
{
	char *s = cs_strdup(ref);
	char *p = strstr(s, "pin-value=");

	if (p != NULL) {
		char *end = strpbrk(p, ";&");

		p += strlen("pin-value=");
		if (end != NULL)
			memmove(p + 3, end, strlen(end) + 1);
		else
			p[3] = '\0';
		memcpy(p, "***", 3);
	}
	return s;
}

static json_t *
issuer_json(const struct cs_api_issuer *is, bool full)
{
	char fp[65], serial[CS_SERIAL_TEXT_SIZE];
	char *ref = ref_shown(is->doc.key_ref);
	json_t *o;

	cs_hex_encode(is->ci->fingerprint, 32, fp);
	cs_serial_format(&is->ci->serial, serial);
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s}", "name",
	    is->name, "subject", is->ci->subject, "fingerprint", fp, "serial",
	    serial, "not_before", cs_api__time_json(is->ci->not_before),
	    "not_after", cs_api__time_json(is->ci->not_after), "key_ref", ref,
	    "key", is->key_rc == 0 ? "ok" : is->key_err, "description",
	    is->doc.description != NULL ? is->doc.description : "");
	free(ref);
	json_object_set_new(o, "path_len",
	    is->ci->path_len >= 0 ? json_integer(is->ci->path_len)
				  : json_null());
	if (full) {
		json_object_set_new(o, "certificate",
		    json_string(is->cert_pem));
		json_object_set_new(o, "chain",
		    json_string(
			is->doc.chain_pem != NULL ? is->doc.chain_pem : ""));
	}
	return o;
}

void
cs_api__get_issuer(struct cs_api_req *r)
{
	const char *name = cs_api__name_param(r);
	struct cs_api_issuer *is;

	if (name == NULL)
		return;
	is = cs_api__issuer(r->api, name);
	if (is == NULL) {
		cs_api__problem(r, 404, "not-found", "no issuer \"%s\"", name);
		return;
	}
	cs_api__respond_json(r, 200, issuer_json(is, true));
}

void
cs_api__get_issuers(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;
	json_t *items = json_array();
	char name[CS_CMD_MAX_STR + 1];

	while ((k = cs_store_doc_next(s, CS_NS_ISSUER, k, &v, &len)) != NULL) {
		struct cs_api_issuer *is;

		snprintf(name, sizeof name, "%s", k);
		is = cs_api__issuer(r->api, name);
		if (is != NULL)
			json_array_append_new(items, issuer_json(is, false));
	}
	cs_api__respond_json(r, 200,
	    json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

/* Checks that key_ref resolves here to the key of spki. */
static int
check_key(const char *ref, const uint8_t *spki, size_t spki_len, char *err)
{
	struct cs_signer signer;
	EVP_PKEY *key = NULL;
	int rc;

	rc = cs_keys_load(ref, &key, err);
	if (rc < 0)
		return rc;
	rc = cs_signer_init(&signer, key, err);
	EVP_PKEY_free(key);
	if (rc < 0)
		return rc;
	if (!cs_signer_matches(&signer, spki, spki_len)) {
		snprintf(err, CS_ERRMSG_SIZE,
		    "key_ref %s: holds another key than the certificate's",
		    ref);
		rc = CS_EINVAL;
	}
	cs_signer_close(&signer);
	return rc;
}

/* An intermediate signed by parent from a request. *der is new. */
static int
sign_intermediate(struct cs_api_req *r, struct cs_api_issuer *parent,
    const struct cs_csr_info *csr, int64_t validity, int path_len,
    struct cs_buf *der, char *err)
{
	struct cs_strv crl = {0}, ocsp = {0}, cai = {0};
	struct cs_issue_params p = {0};
	struct cs_issue_ca ca;
	struct cs_serial sn;
	uint8_t rnd[20];
	int64_t now = cs_api__now();
	int rc;

	if (parent->key_rc < 0) {
		snprintf(err, CS_ERRMSG_SIZE,
		    "parent %.64s: its key is not usable on this node (%.120s)",
		    parent->name, parent->key_err);
		return CS_EBUSY;
	}
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		snprintf(err, CS_ERRMSG_SIZE, "no random serial");
		return CS_ECRYPTO;
	}
	cs_serial_from_random(&sn, rnd, sizeof rnd);
	default_urls(r->api, parent->name, &crl, &ocsp, &cai);
	p.subject = csr->subject_der;
	p.subject_len = csr->subject_der_len;
	p.spki = csr->spki;
	p.spki_len = csr->spki_len;
	p.serial = &sn;
	p.not_before = now - BACKDATE;
	p.not_after = now + validity;
	if (p.not_after > parent->ci->not_after)
		p.not_after = parent->ci->not_after;
	p.ca = true;
	p.path_len = path_len;
	p.key_usage =
	    CS_KU_KEY_CERT_SIGN | CS_KU_CRL_SIGN | CS_KU_DIGITAL_SIGNATURE;
	p.crl_urls = &crl;
	p.ocsp_urls = &ocsp;
	p.ca_issuers = &cai;
	ca = (struct cs_issue_ca){parent->name_der, parent->name_len,
	    parent->ci->ski, parent->ci->ski_len, &parent->signer};
	rc = cs_issue_build(&p, &ca, der, err);
	cs_strv_free(&crl);
	cs_strv_free(&ocsp);
	cs_strv_free(&cai);
	return rc;
}

void
cs_api__put_issuer(struct cs_api_req *r)
{
	static const char *const known[] = {"certificate", "chain", "key_ref",
	    "description", "csr", "parent", "validity", "path_len"};
	const char *name = cs_api__name_param(r);
	struct cs_issuer doc = {0};
	struct cs_cert_info *ci = NULL, **chain = NULL;
	struct cs_csr_info *csr = NULL;
	struct cs_buf der, val, chain_pem;
	struct cs_der_cert dc;
	char err[CS_ERRMSG_SIZE] = "";
	size_t nchain = 0;
	json_t *o, *v;
	int rc;

	cs_buf_init(&der, CERT_MAX);
	cs_buf_init(&val, CS_CMD_MAX_DOC);
	cs_buf_init(&chain_pem, 256 * 1024);
	if (name == NULL)
		goto out0;
	o = cs_api__body_json(r);
	if (o == NULL)
		goto out0;
	if (!known_fields(r, o, known, sizeof known / sizeof known[0]))
		goto out;
	v = json_object_get(o, "key_ref");
	if (!json_is_string(v) || json_string_length(v) > 4096) {
		cs_api__problem(r, 400, "invalid",
		    "key_ref: where every node finds the CA key: "
		    "file:/path or a pkcs11: URI");
		goto out;
	}
	if (strstr(json_string_value(v), "pin-value=") != NULL) {
		cs_api__problem(r, 400, "bad-key-ref",
		    "key_ref: a PIN in the reference would be replicated to "
		    "every node and kept in every backup; write it to a file "
		    "(mode 600) on each node and use pin-source=file:/path");
		goto out;
	}
	doc.key_ref = cs_strdup(json_string_value(v));
	v = json_object_get(o, "description");
	if (json_is_string(v))
		doc.description = cs_strdup(json_string_value(v));
	if (json_object_get(o, "csr") != NULL) {
		/* a new intermediate under an issuer of this cluster */
		json_t *parent = json_object_get(o, "parent");
		json_t *pl = json_object_get(o, "path_len");
		struct cs_api_issuer *pis;
		int64_t validity = 0;

		if (!json_is_string(parent) ||
		    !json_is_string(json_object_get(o, "csr")) ||
		    (pl != NULL &&
			(!json_is_integer(pl) || json_integer_value(pl) < 0 ||
			    json_integer_value(pl) > 8))) {
			cs_api__problem(r, 400, "invalid",
			    "an intermediate takes csr (PEM), parent (an "
			    "issuer's name), key_ref, and optionally validity "
			    "and path_len (0..8)");
			goto out;
		}
		pis = cs_api__issuer(r->api, json_string_value(parent));
		if (pis == NULL) {
			cs_api__problem(r, 400, "no-such-issuer",
			    "parent: no issuer \"%s\"",
			    json_string_value(parent));
			goto out;
		}
		if (cs_api__duration_field(o, "validity", &validity, err) < 0) {
			cs_api__problem(r, 400, "invalid", "%s", err);
			goto out;
		}
		v = json_object_get(o, "csr");
		rc = cs_csr_parse((const uint8_t *)json_string_value(v),
		    json_string_length(v), &csr, err);
		if (rc < 0) {
			cs_api__problem(r, 400, "bad-csr", "%s", err);
			goto out;
		}
		rc = check_key(doc.key_ref, csr->spki, csr->spki_len, err);
		if (rc == 0)
			rc = sign_intermediate(r, pis, csr,
			    validity > 0 ? validity : 5 * 365 * 86400LL,
			    pl != NULL ? (int)json_integer_value(pl) : 0, &der,
			    err);
		if (rc < 0) {
			if (rc == CS_EBUSY)
				cs_api__unavailable(r, "%s", err);
			else
				cs_api__problem(r, 400, "bad-issuer", "%s",
				    err);
			goto out;
		}
		cs_buf_append_str(&chain_pem, pis->cert_pem);
		if (pis->doc.chain_pem != NULL)
			cs_buf_append_str(&chain_pem, pis->doc.chain_pem);
	} else {
		v = json_object_get(o, "certificate");
		if (!json_is_string(v)) {
			cs_api__problem(r, 400, "invalid",
			    "certificate: the CA certificate, PEM (or csr and "
			    "parent for a new intermediate)");
			goto out;
		}
		rc = cs_x509_parse_bundle((const uint8_t *)json_string_value(v),
		    json_string_length(v), 1, &chain, &nchain, err);
		if (rc < 0) {
			cs_api__problem(r, 400, "bad-certificate", "%s", err);
			goto out;
		}
		cs_buf_append(&der, chain[0]->der, chain[0]->der_len);
		cs_cert_info_free_all(chain, nchain);
		chain = NULL;
		nchain = 0;
		v = json_object_get(o, "chain");
		if (v != NULL) {
			if (!json_is_string(v) ||
			    cs_x509_parse_bundle((const uint8_t *)
						     json_string_value(v),
				json_string_length(v), 16, &chain, &nchain,
				err) < 0) {
				cs_api__problem(r, 400, "bad-chain",
				    "chain: the intermediates above this CA, "
				    "PEM: %s",
				    err);
				goto out;
			}
			for (size_t i = 0; i < nchain; i++) {
				char *pem = cs_x509_der_to_pem(chain[i]->der,
				    chain[i]->der_len);

				cs_buf_append_str(&chain_pem, pem);
				free(pem);
			}
		}
	}
	if (cs_x509_parse_der(der.data, der.len, &ci, err) < 0 ||
	    cs_der_cert_split(der.data, der.len, &dc, err) < 0) {
		cs_api__problem(r, 400, "bad-certificate", "%s", err);
		goto out;
	}
	if (!ci->ca ||
	    (ci->has_key_usage && !(ci->key_usage & CS_KU_KEY_CERT_SIGN))) {
		cs_api__problem(r, 400, "not-a-ca",
		    "%s is not a CA certificate (basicConstraints cA and "
		    "keyCertSign)",
		    ci->subject);
		goto out;
	}
	if (json_object_get(o, "csr") == NULL) {
		rc = check_key(doc.key_ref, dc.spki.p, dc.spki.len, err);
		if (rc < 0) {
			cs_api__problem(r, 400, "bad-key-ref", "%s", err);
			goto out;
		}
	}
	doc.cert = cs_memdup(der.data, der.len);
	doc.cert_len = der.len;
	if (chain_pem.len > 0)
		doc.chain_pem = cs_strdup((const char *)chain_pem.data);
	cs_issuer_encode(&doc, &val);
	cs_api__propose_doc(r, CS_NS_ISSUER, name, &val, cs_api__get_issuer);
out:
	json_decref(o);
out0:
	cs_issuer_close(&doc);
	cs_cert_info_free(ci);
	cs_cert_info_free_all(chain, nchain);
	cs_csr_info_free(csr);
	cs_buf_close(&der);
	cs_buf_close(&val);
	cs_buf_close(&chain_pem);
}

void
cs_api__delete_issuer(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	const char *name = cs_api__name_param(r);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;

	if (name == NULL)
		return;
	while ((k = cs_store_doc_next(s, CS_NS_PROFILE, k, &v, &len)) != NULL) {
		struct cs_profile p;
		bool uses;

		if (cs_profile_decode(v, len, &p, NULL) < 0)
			continue;
		uses = strcmp(p.issuer, name) == 0;
		cs_profile_close(&p);
		if (uses) {
			cs_api__problem(r, 409, "in-use",
			    "profile \"%s\" issues with \"%s\": change or "
			    "delete it first",
			    k, name);
			return;
		}
	}
	cs_api__propose_doc(r, CS_NS_ISSUER, name, NULL, NULL);
}

/* GET /ca/{name}.crt (DER) and /ca/{name}.pem (the certificate and the
 * chain above it), public. */
void
cs_api__get_ca_cert(struct cs_api_req *r)
{
	const char *seg = r->params[0];
	size_t n = strlen(seg);
	char name[CS_CMD_MAX_STR + 1];
	struct cs_api_issuer *is;
	bool pem;

	if (n > 4 && n - 4 <= CS_CMD_MAX_STR &&
	    (strcmp(seg + n - 4, ".crt") == 0 ||
		strcmp(seg + n - 4, ".pem") == 0)) {
		pem = strcmp(seg + n - 4, ".pem") == 0;
		memcpy(name, seg, n - 4);
		name[n - 4] = '\0';
	} else {
		cs_api__problem(r, 404, "not-found",
		    "CA certificates are /ca/<issuer>.crt or .pem");
		return;
	}
	is = cs_api__issuer(r->api, name);
	if (is == NULL) {
		cs_api__problem(r, 404, "not-found", "no issuer \"%s\"", name);
		return;
	}
	if (pem) {
		struct cs_buf b;

		cs_buf_init(&b, 1 << 20);
		cs_buf_append_str(&b, is->cert_pem);
		if (is->doc.chain_pem != NULL)
			cs_buf_append_str(&b, is->doc.chain_pem);
		n = b.len;
		cs_api__respond(r, 200, "application/x-pem-file",
		    cs_buf_steal(&b, &n), n, NULL, 0);
		return;
	}
	cs_api__respond(r, 200, "application/pkix-cert",
	    cs_memdup(is->doc.cert, is->doc.cert_len), is->doc.cert_len, NULL,
	    0);
}
