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

		if (o == NULL)
			return NULL;
		*json = o;
		pem = json_object_get(o, "pem");
		if (!json_is_string(pem)) {
			cs_api__problem(r, 400, "invalid",
			    "pem: the certificate(s) as PEM text");
			return NULL;
		}
		v = json_string_value(json_object_get(o, "owner"));
		if (v != NULL)
			cmd->u.import.owner =
			    (struct cs_bytes){(const uint8_t *)v, strlen(v)};
		tags = json_object_get(o, "tags");
		for (size_t i = 0;
		     json_is_array(tags) && i < json_array_size(tags); i++) {
			json_t *t = json_array_get(tags, i);

			if (!json_is_string(t) ||
			    cmd->u.import.ntags == CS_CMD_MAX_TAGS ||
			    json_string_length(t) > CS_CMD_MAX_STR) {
				cs_api__problem(r, 400, "invalid",
				    "tags: at most %d strings of at most %d "
				    "bytes",
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
		    "tags: at most %d tags of at most %d bytes",
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

	if (cs_api__parse_fp(r->params[0], fp) < 0) {
		cs_api__problem(r, 400, "bad-fingerprint",
		    "a certificate is named by its SHA-256 fingerprint: 64 "
		    "hexadecimal digits");
		return;
	}
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

	if (cs_api__parse_fp(r->params[0], fp) < 0) {
		cs_api__problem(r, 400, "bad-fingerprint",
		    "a certificate is named by its SHA-256 fingerprint: 64 "
		    "hexadecimal digits");
		return;
	}
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
