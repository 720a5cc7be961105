/*
 * routes_certs.c - certificates: import, get, revoke.
 *
 * Import takes a PEM bundle (application/x-pem-file), one DER
 * certificate (application/pkix-cert) or JSON {"pem", "owner", "tags"};
 * owner and tags may also come as query parameters (owner=, tags=a,b).
 * Everything is parsed on the node that builds the command, so malformed
 * input gets a 400 naming the bad certificate and never reaches the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "cert/x509.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"

#define MAX_TAG_TEXT 4096

/* Splits "a,b,c" into the import's tag list (views into the arena). */
static int
split_tags(struct cs_api_req *r, const char *text, struct cs_cmd *cmd)
{
	char *copy = cs_http_req_strndup(r->http, text, strlen(text));
	char *save = NULL;

	/* an empty tag ("a,,b", a leading or trailing comma) is a mistake,
	 * not nothing: PATCH refuses it too */
	if (text[0] == ',' || strstr(text, ",,") != NULL ||
	    (text[0] != '\0' && text[strlen(text) - 1] == ','))
		return CS_EINVAL;

	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (cmd->u.import.ntags == CS_CMD_MAX_TAGS)
			return CS_ETOOBIG;
		if (strlen(t) > CS_CMD_MAX_STR)
			return CS_ETOOBIG;
		cmd->u.import.tags[cmd->u.import.ntags].p = (const uint8_t *)t;
		cmd->u.import.tags[cmd->u.import.ntags].len = strlen(t);
		cmd->u.import.ntags++;
	}
	return 0;
}

/* What an import remembers between proposing and answering. */
struct import_ctx {
	size_t n;
	uint8_t fp[CS_CMD_MAX_CERTS][32];
};

static void
on_imported(struct cs_api_req *r, const struct cs_result *res)
{
	struct cs_store *s = cs_api__store(r->api);
	const struct import_ctx *ic = r->hctx;
	json_t *list;

	if (res->rc < 0) {
		cs_api__problem_rc(r, res->rc, "import");
		return;
	}
	/* new ones were created by this command's entry (a retry that
	 * found the first outcome reports it) */
	list = json_array();
	for (size_t i = 0; i < ic->n; i++) {
		const struct cs_cert *c = cs_store_get_fp(s, ic->fp[i]);
		json_t *o;

		if (c == NULL)
			continue;
		o = cs_api__cert_json(c, cs_api__now(), false);
		json_object_set_new(o, "result",
		    json_string(c->created_index == res->index ? "imported"
							       : "existing"));
		json_array_append_new(list, o);
	}
	cs_api__respond_json(r, res->count > 0 ? 201 : 200,
	    json_pack("{s:i, s:i, s:I, s:o}", "imported", (int)res->count,
		"existing", (int)res->count2, "index", (json_int_t)res->index,
		"certificates", list));
}

/* The certificates of the request, from whichever body type. */
static const uint8_t *
import_body(struct cs_api_req *r, struct cs_cmd *cmd, size_t *len,
    json_t **json)
{
	const char *ctype = cs_http_req_header(r->http, "Content-Type");
	const uint8_t *body = cs_http_req_body(r->http, len);
	const char *v;

	*json = NULL;
	if (ctype != NULL && strncasecmp(ctype, "application/json", 16) == 0) {
		json_t *o = cs_api__body_json(r);
		json_t *pem, *tags;
		size_t plen;

		if (o == NULL)
			return NULL;
		*json = o;
		pem = json_object_get(o, "pem");
		if (!json_is_string(pem)) {
			cs_api__problem(r, 400, "invalid",
			    "pem: the certificate(s) as PEM text");
			return NULL;
		}
		if (json_object_get(o, "owner") != NULL &&
		    !json_is_string(json_object_get(o, "owner")) &&
		    !json_is_null(json_object_get(o, "owner"))) {
			cs_api__problem(r, 400, "invalid",
			    "owner: a string (or null)");
			return NULL;
		}
		v = json_string_value(json_object_get(o, "owner"));
		if (v != NULL)
			cmd->u.import.owner =
			    (struct cs_bytes){(const uint8_t *)v, strlen(v)};
		v = json_string_value(json_object_get(o, "profile"));
		if (json_object_get(o, "profile") != NULL &&
		    (v == NULL || cs_store_doc(cs_api__store(r->api),
				      CS_NS_PROFILE, v, &plen) == NULL)) {
			cs_api__problem(r, 400, "invalid",
			    "profile: the name of an existing profile (its "
			    "rotate_after then applies to these certificates)");
			return NULL;
		}
		if (v != NULL)
			cmd->u.import.profile =
			    (struct cs_bytes){(const uint8_t *)v, strlen(v)};
		tags = json_object_get(o, "tags");
		if (tags != NULL && !json_is_array(tags) &&
		    !json_is_null(tags)) {
			cs_api__problem(r, 400, "invalid",
			    "tags: a list of strings");
			return NULL;
		}
		for (size_t i = 0;
		     json_is_array(tags) && i < json_array_size(tags); i++) {
			json_t *t = json_array_get(tags, i);

			if (!json_is_string(t) ||
			    cmd->u.import.ntags == CS_CMD_MAX_TAGS ||
			    json_string_length(t) == 0 ||
			    json_string_length(t) > CS_CMD_MAX_STR) {
				cs_api__problem(r, 400, "invalid",
				    "tags: at most %d non-empty strings of at "
				    "most %d bytes",
				    CS_CMD_MAX_TAGS, CS_CMD_MAX_STR);
				return NULL;
			}
			cmd->u.import.tags[cmd->u.import.ntags++] =
			    (struct cs_bytes){(const uint8_t *)
						  json_string_value(t),
				json_string_length(t)};
		}
		*len = json_string_length(pem);
		return (const uint8_t *)json_string_value(pem);
	}
	if (ctype != NULL &&
	    strncasecmp(ctype, "application/x-pem-file", 22) != 0 &&
	    strncasecmp(ctype, "application/pkix-cert", 21) != 0 &&
	    strncasecmp(ctype, "text/plain", 10) != 0 &&
	    strncasecmp(ctype, "application/octet-stream", 24) != 0) {
		cs_api__problem(r, 415, "unsupported-media-type",
		    "Content-Type %s: use application/x-pem-file, "
		    "application/pkix-cert or application/json",
		    ctype);
		return NULL;
	}
	if (cs_http_req_query_param(r->http, "owner", &v) == 0)
		cmd->u.import.owner =
		    (struct cs_bytes){(const uint8_t *)v, strlen(v)};
	if (cs_http_req_query_param(r->http, "tags", &v) == 0 &&
	    split_tags(r, v, cmd) < 0) {
		cs_api__problem(r, 400, "invalid",
		    "tags: at most %d non-empty tags of at most %d bytes",
		    CS_CMD_MAX_TAGS, CS_CMD_MAX_STR);
		return NULL;
	}
	return body;
}

void
cs_api__post_certs(struct cs_api_req *r)
{
	struct cs_cmd *cmd = cs_http_req_alloc(r->http, sizeof *cmd);
	struct import_ctx *ic;
	struct cs_cert_info **ci = NULL;
	size_t n = 0, len = 0;
	char err[CS_ERRMSG_SIZE] = "";
	json_t *json = NULL;
	const uint8_t *certs;
	int rc;

	cs_api__cmd_init(r, cmd, CS_CMD_IMPORT);
	cmd->u.import.source = CS_SOURCE_IMPORTED;
	certs = import_body(r, cmd, &len, &json);
	if (certs == NULL)
		goto out;
	if (cmd->u.import.owner.len > CS_CMD_MAX_STR) {
		cs_api__problem(r, 400, "invalid", "owner: at most %d bytes",
		    CS_CMD_MAX_STR);
		goto out;
	}
	rc = cs_x509_parse_bundle(certs, len, CS_CMD_MAX_CERTS, &ci, &n, err);
	if (rc == CS_ETOOBIG) {
		cs_api__problem(r, 413, "too-many-certificates",
		    "%s (at most %d certificates per request: import in "
		    "batches)",
		    err, CS_CMD_MAX_CERTS);
		goto out;
	}
	if (rc < 0) {
		cs_api__problem(r, 400, "bad-certificate", "%s", err);
		goto out;
	}
	cmd->u.import.n = n;
	ic = cs_http_req_alloc(r->http,
	    sizeof *ic - sizeof ic->fp + n * sizeof ic->fp[0]);
	ic->n = n;
	for (size_t i = 0; i < n; i++) {
		/* DER views: ci outlives the proposal's encoding below */
		cmd->u.import.der[i].p = ci[i]->der;
		cmd->u.import.der[i].len = ci[i]->der_len;
		memcpy(ic->fp[i], ci[i]->fingerprint, 32);
	}
	r->hctx = ic;
	cs_api__propose(r, cmd, on_imported);
out:
	cs_cert_info_free_all(ci, n);
	json_decref(json);
}

void
cs_api__get_cert(struct cs_api_req *r)
{
	uint8_t fp[32];
	const struct cs_cert *c;
	const char *pem = NULL;

	if (!cs_api__param_fp(r, fp))
		return;
	c = cs_store_get_fp(cs_api__store(r->api), fp);
	if (c == NULL) {
		cs_api__problem(r, 404, "not-found",
		    "no certificate with fingerprint %s", r->params[0]);
		return;
	}
	cs_http_req_query_param(r->http, "pem", &pem);
	cs_api__respond_json(r, 200,
	    cs_api__cert_json(c, cs_api__now(),
		pem != NULL && strcmp(pem, "0") != 0));
}

static void
on_revoked(struct cs_api_req *r, const struct cs_result *res)
{
	const struct cs_cert *c =
	    cs_store_get_fp(cs_api__store(r->api), res->fingerprint);

	if (res->rc == CS_ECONFLICT) {
		cs_api__problem(r, 409, "already-revoked",
		    "certificate %s is already revoked (or, for "
		    "removeFromCRL, not on hold)",
		    r->params[0]);
		return;
	}
	if (res->rc < 0) {
		cs_api__problem_rc(r, res->rc, "certificate");
		return;
	}
	if (c == NULL) {
		cs_api__problem(r, 500, "internal", "revoked but not found");
		return;
	}
	cs_api__respond_json(r, 200,
	    cs_api__cert_json(c, cs_api__now(), false));
}

void
cs_api__post_revoke(struct cs_api_req *r)
{
	struct cs_cmd cmd;
	uint8_t fp[32];
	enum cs_reason reason = CS_REASON_UNSPECIFIED;
	int64_t invalidity = 0;
	json_t *o, *v;

	if (!cs_api__param_fp(r, fp))
		return;
	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	v = json_object_get(o, "reason");
	if (v != NULL &&
	    (!json_is_string(v) ||
		cs_reason_parse(json_string_value(v), &reason) < 0)) {
		json_decref(o);
		cs_api__problem(r, 400, "bad-reason",
		    "reason: one of unspecified, keyCompromise, cACompromise, "
		    "affiliationChanged, superseded, cessationOfOperation, "
		    "certificateHold, removeFromCRL, privilegeWithdrawn, "
		    "aACompromise");
		return;
	}
	v = json_object_get(o, "invalidity_date");
	if (v != NULL &&
	    (!json_is_string(v) ||
		cs_time_parse(json_string_value(v), &invalidity) < 0)) {
		json_decref(o);
		cs_api__problem(r, 400, "bad-time",
		    "invalidity_date: an RFC 3339 time");
		return;
	}
	json_decref(o);
	if (reason == CS_REASON_REMOVE_FROM_CRL) {
		cs_api__cmd_init(r, &cmd, CS_CMD_UNREVOKE);
		memcpy(cmd.u.revoke.fp, fp, 32);
	} else {
		cs_api__cmd_init(r, &cmd, CS_CMD_REVOKE);
		memcpy(cmd.u.revoke.fp, fp, 32);
		cmd.u.revoke.reason = (uint8_t)reason;
		cmd.u.revoke.invalidity_date = invalidity;
	}
	cs_api__propose(r, &cmd, on_revoked);
}

/* ---- owner and tags ---- */

static void
on_meta(struct cs_api_req *r, const struct cs_result *res)
{
	const struct cs_cert *c =
	    cs_store_get_fp(cs_api__store(r->api), res->fingerprint);

	if (res->rc < 0 || c == NULL) {
		cs_api__problem_rc(r, res->rc < 0 ? res->rc : CS_ENOTFOUND,
		    "certificate");
		return;
	}
	cs_api__respond_json(r, 200,
	    cs_api__cert_json(c, cs_api__now(), false));
}

/* PATCH /v1/certs/{fp} {"owner": "..."|null, "tags": [...]}: a field
 * that is absent stays as it is; owner null or "" clears it. */
void
cs_api__patch_cert(struct cs_api_req *r)
{
	struct cs_cmd *cmd = cs_http_req_alloc(r->http, sizeof *cmd);
	json_t *o, *owner, *tags;

	cs_api__cmd_init(r, cmd, CS_CMD_SET_META);
	if (!cs_api__param_fp(r, cmd->u.meta.fp))
		return;
	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	owner = json_object_get(o, "owner");
	tags = json_object_get(o, "tags");
	if ((owner != NULL && !json_is_string(owner) && !json_is_null(owner)) ||
	    (owner != NULL && json_is_string(owner) &&
		json_string_length(owner) > CS_CMD_MAX_STR) ||
	    (tags != NULL && (!json_is_array(tags) ||
				 json_array_size(tags) > CS_CMD_MAX_TAGS))) {
		json_decref(o);
		cs_api__problem(r, 400, "invalid",
		    "owner: a string or null; tags: at most %d strings",
		    CS_CMD_MAX_TAGS);
		return;
	}
	if (owner == NULL && tags == NULL) {
		json_decref(o);
		cs_api__problem(r, 400, "invalid",
		    "nothing to change: give "
		    "owner and/or tags");
		return;
	}
	if (owner != NULL) {
		cmd->u.meta.set_owner = true;
		if (json_is_string(owner))
			cmd->u.meta.owner =
			    (struct cs_bytes){(const uint8_t *)
						  json_string_value(owner),
				json_string_length(owner)};
	}
	if (tags != NULL) {
		cmd->u.meta.set_tags = true;
		for (size_t i = 0; i < json_array_size(tags); i++) {
			json_t *t = json_array_get(tags, i);

			if (!json_is_string(t) || json_string_length(t) == 0 ||
			    json_string_length(t) > CS_CMD_MAX_STR) {
				json_decref(o);
				cs_api__problem(r, 400, "invalid",
				    "tags: non-empty strings of at most %d "
				    "bytes",
				    CS_CMD_MAX_STR);
				return;
			}
			cmd->u.meta.tags[cmd->u.meta.ntags++] =
			    (struct cs_bytes){(const uint8_t *)
						  json_string_value(t),
				json_string_length(t)};
		}
	}
	cs_api__propose(r, cmd, on_meta);
	json_decref(o);
}

/* ---- bulk revocation and keys ---- */

static int
reason_field(struct cs_api_req *r, json_t *o, enum cs_reason dflt,
    enum cs_reason *out)
{
	json_t *v = json_object_get(o, "reason");

	*out = dflt;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) ||
	    cs_reason_parse(json_string_value(v), out) < 0 ||
	    *out == CS_REASON_REMOVE_FROM_CRL) {
		cs_api__problem(r, 400, "bad-reason",
		    "reason: one of unspecified, keyCompromise, cACompromise, "
		    "affiliationChanged, superseded, cessationOfOperation, "
		    "certificateHold, privilegeWithdrawn, aACompromise");
		return CS_EINVAL;
	}
	return 0;
}

static void
on_counted(struct cs_api_req *r, const struct cs_result *res)
{
	if (res->rc < 0) {
		cs_api__problem_rc(r, res->rc, cs_http_req_path(r->http));
		return;
	}
	cs_api__respond_json(r, 200,
	    json_pack("{s:i, s:I}", "revoked", (int)res->count, "index",
		(json_int_t)res->index));
}

/* POST /v1/revocations {"owner"|"tag"|"issuer": "...", "reason": ...}:
 * every valid (or on hold) certificate that matches, in one entry. */
void
cs_api__post_revocations(struct cs_api_req *r)
{
	static const char *const sel[] = {"owner", "tag", "issuer"};
	struct cs_cmd cmd;
	enum cs_reason reason;
	json_t *o = cs_api__body_json(r);
	int found = -1;

	if (o == NULL)
		return;
	cs_api__cmd_init(r, &cmd, CS_CMD_REVOKE_BULK);
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(o, sel[i]);

		if (v == NULL)
			continue;
		if (found >= 0 || !json_is_string(v) ||
		    json_string_length(v) == 0 ||
		    json_string_length(v) > CS_CMD_MAX_STR) {
			json_decref(o);
			cs_api__problem(r, 400, "invalid",
			    "give exactly one of owner, tag or issuer, a "
			    "non-empty string");
			return;
		}
		found = i;
		cmd.u.bulk.selector = (uint8_t)i;
		cmd.u.bulk.value =
		    (struct cs_bytes){(const uint8_t *)json_string_value(v),
			json_string_length(v)};
	}
	if (found < 0) {
		json_decref(o);
		cs_api__problem(r, 400, "invalid",
		    "give exactly one of owner, tag or issuer");
		return;
	}
	if (reason_field(r, o, CS_REASON_UNSPECIFIED, &reason) < 0) {
		json_decref(o);
		return;
	}
	cmd.u.bulk.reason = (uint8_t)reason;
	cs_api__propose(r, &cmd, on_counted);
	json_decref(o);
}

/* POST /v1/keys/{key_id}/compromise {"reason"?}: marks the key
 * compromised and revokes every certificate that uses it, in one entry
 * (reason keyCompromise unless given). */
void
cs_api__post_compromise(struct cs_api_req *r)
{
	struct cs_cmd cmd;
	enum cs_reason reason;
	json_t *o;

	cs_api__cmd_init(r, &cmd, CS_CMD_REVOKE_KEY);
	if (!cs_api__param_key_id(r, cmd.u.revoke_key.key_id))
		return;
	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	if (reason_field(r, o, CS_REASON_KEY_COMPROMISE, &reason) < 0) {
		json_decref(o);
		return;
	}
	json_decref(o);
	cmd.u.revoke_key.reason = (uint8_t)reason;
	cs_api__propose(r, &cmd, on_counted);
}

static void
on_key_state(struct cs_api_req *r, const struct cs_result *res)
{
	if (res->rc == CS_ECONFLICT) {
		cs_api__problem(r, 409, "conflict",
		    "key %s is destroyed already", r->params[0]);
		return;
	}
	if (res->rc < 0) {
		cs_api__problem_rc(r, res->rc, "key");
		return;
	}
	cs_api__get_key(r);
}

/* POST /v1/keys/{key_id}/destroy {"location"?}: records that the private
 * key no longer exists (final). */
void
cs_api__post_destroy(struct cs_api_req *r)
{
	struct cs_cmd cmd;
	json_t *o, *loc;

	cs_api__cmd_init(r, &cmd, CS_CMD_KEY_STATE);
	if (!cs_api__param_key_id(r, cmd.u.key_state.key_id))
		return;
	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	cmd.u.key_state.state = CS_KEY_DESTROYED;
	cmd.u.key_state.location = CS_KEYLOC_KEEP;
	loc = json_object_get(o, "location");
	if (loc != NULL) {
		enum cs_key_location l;

		if (!json_is_string(loc) ||
		    cs_keyloc_parse(json_string_value(loc), &l) < 0) {
			json_decref(o);
			cs_api__problem(r, 400, "invalid",
			    "location: device, hsm, software or unknown");
			return;
		}
		cmd.u.key_state.location = (uint8_t)l;
	}
	json_decref(o);
	cs_api__propose(r, &cmd, on_key_state);
}
