/*
 * json.c - answers: common headers, JSON bodies, problem details
 * (RFC 7807), and the JSON shape of a certificate (DESIGN.md section 8).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "cert/x509.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"

void
cs_api__respond(struct cs_api_req *r, int status, const char *ctype, void *body,
    size_t len, const struct cs_http_header *extra, size_t nextra)
{
	struct cs_http_header h[16];
	size_t n = 0;
	char index[24], node[24];

	snprintf(index, sizeof index, "%llu",
	    (unsigned long long)cs_store_applied_index(cs_api__store(r->api)));
	snprintf(node, sizeof node, "%llu",
	    (unsigned long long)r->api->cfg.node_id);
	if (ctype != NULL)
		h[n++] = (struct cs_http_header){"Content-Type", ctype};
	h[n++] = (struct cs_http_header){"X-Certstore-Index", index};
	h[n++] = (struct cs_http_header){"X-Certstore-Node", node};
	if (r->request_id_hex[0] != '\0')
		h[n++] =
		    (struct cs_http_header){"X-Request-Id", r->request_id_hex};
	for (size_t i = 0; i < nextra && n < sizeof h / sizeof h[0]; i++)
		h[n++] = extra[i];
	cs_api__count(r, status);
	cs_api__pending_remove(r);
	cs_api__identity_unref(r->peer);
	cs_api__identity_unref(r->client);
	r->peer = NULL;
	r->client = NULL;
	if (body == NULL)
		body = cs_calloc(1, 1);
	/* frees r->http, and r with it (r lives in its arena) */
	cs_http_respond_take(r->http, status, h, n, body, len);
}

void
cs_api__respond_json(struct cs_api_req *r, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t len;
	char *copy;

	json_decref(body);
	if (text == NULL) {
		cs_api__respond(r, 500, NULL, NULL, 0, NULL, 0);
		return;
	}
	len = strlen(text);
	copy = cs_memdup(text, len + 1); /* jansson's allocator is not ours */
	free(text);
	cs_api__respond(r, status, "application/json", copy, len, NULL, 0);
}

static void vproblem(struct cs_api_req *r, int status, const char *type,
    const struct cs_http_header *extra, size_t nextra, json_t *more,
    const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));

static void
vproblem(struct cs_api_req *r, int status, const char *type,
    const struct cs_http_header *extra, size_t nextra, json_t *more,
    const char *fmt, va_list ap)
{
	char detail[1024];
	char typ[96];
	json_t *o;
	char *text;
	size_t len;
	char *copy;

	vsnprintf(detail, sizeof detail, fmt, ap);
	snprintf(typ, sizeof typ, "urn:certstore:problem:%s", type);
	o = json_pack("{s:s, s:s, s:i, s:s}", "type", typ, "title",
	    cs_http_status_text(status), "status", status, "detail", detail);
	if (more != NULL) {
		json_object_update(o, more);
		json_decref(more);
	}
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL) {
		cs_api__respond(r, status, NULL, NULL, 0, extra, nextra);
		return;
	}
	len = strlen(text);
	copy = cs_memdup(text, len + 1);
	free(text);
	cs_api__respond(r, status, "application/problem+json", copy, len, extra,
	    nextra);
}

void
cs_api__problem(struct cs_api_req *r, int status, const char *type,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(r, status, type, NULL, 0, NULL, fmt, ap);
	va_end(ap);
}

void
cs_api__problem_more(struct cs_api_req *r, int status, const char *type,
    json_t *more, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(r, status, type, NULL, 0, more, fmt, ap);
	va_end(ap);
}

void
cs_api__unavailable(struct cs_api_req *r, const char *fmt, ...)
{
	static const struct cs_http_header retry = {"Retry-After", "1"};
	va_list ap;

	va_start(ap, fmt);
	vproblem(r, 503, "unavailable", &retry, 1, NULL, fmt, ap);
	va_end(ap);
}

void
cs_api__problem_rc(struct cs_api_req *r, int rc, const char *what)
{
	switch (rc) {
	case CS_ENOTFOUND:
		cs_api__problem(r, 404, "not-found", "%s: not found", what);
		return;
	case CS_EEXIST:
		cs_api__problem(r, 409, "exists", "%s: already exists", what);
		return;
	case CS_ECONFLICT:
		cs_api__problem(r, 409, "conflict",
		    "%s: not allowed in its current state", what);
		return;
	case CS_EINVAL:
	case CS_EPROTO:
		cs_api__problem(r, 400, "invalid", "%s: invalid", what);
		return;
	case CS_EPERM:
		cs_api__problem(r, 403, "forbidden", "%s: not permitted", what);
		return;
	case CS_ETOOBIG:
		cs_api__problem(r, 413, "too-big", "%s: too big", what);
		return;
	default:
		cs_api__problem(r, 500, "internal", "%s: %s", what,
		    cs_strerror(rc));
		return;
	}
}

static json_t *
list_json(const struct cs_cert *c, enum cs_cert_list l)
{
	json_t *a = json_array();
	size_t n;
	const char *p = cs_cert_list(c, l, &n);

	for (size_t i = 0; i < n; i++, p = cs_str_next(p))
		json_array_append_new(a, json_string(p));
	return a;
}

json_t *
cs_api__time_json(int64_t t)
{
	char buf[CS_TIME_TEXT_SIZE];

	cs_time_format(t, buf);
	return json_string(buf);
}

json_t *
cs_api__cert_json(const struct cs_cert *c, int64_t now, bool pem)
{
	char fp[65], kid[65], serial[CS_SERIAL_TEXT_SIZE];
	struct cs_serial sn;
	json_t *o, *rev = json_null();
	const char *profile = cs_cert_profile(c);
	const char *owner = cs_cert_owner(c);

	cs_hex_encode(c->fingerprint, 32, fp);
	cs_hex_encode(c->key_id, 32, kid);
	cs_cert_serial(c, &sn);
	cs_serial_format(&sn, serial);
	if (c->status == CS_STATUS_REVOKED) {
		rev = json_pack("{s:o, s:s}", "time",
		    cs_api__time_json(c->revoked_at), "reason",
		    cs_reason_name(c->reason));
		if (c->invalidity_date != 0)
			json_object_set_new(rev, "invalidity_date",
			    cs_api__time_json(c->invalidity_date));
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:{s:o, s:o, s:o, s:o}, s:o, s:o,"
		      " s:s, s:s, s:i, s:b, s:s, s:o, s:s, s:o, s:o, s:o,"
		      " s:I, s:I}",
	    "fingerprint", fp, "serial", serial, "issuer", cs_cert_issuer(c),
	    "subject", cs_cert_subject(c), "sans", "dns",
	    list_json(c, CS_LIST_DNS), "ip", list_json(c, CS_LIST_IP), "uri",
	    list_json(c, CS_LIST_URI), "email", list_json(c, CS_LIST_EMAIL),
	    "not_before", cs_api__time_json(c->not_before), "not_after",
	    cs_api__time_json(c->not_after), "key_id", kid, "key_type",
	    cs_key_type_name((enum cs_key_type)c->key_type), "key_bits",
	    (int)c->key_bits, "ca", c->ca != 0, "status",
	    cs_status_name(cs_cert_status_at(c, now)), "revocation", rev,
	    "source", cs_source_name((enum cs_cert_source)c->source), "profile",
	    profile[0] != '\0' ? json_string(profile) : json_null(), "owner",
	    owner[0] != '\0' ? json_string(owner) : json_null(), "tags",
	    list_json(c, CS_LIST_TAGS), "created_index",
	    (json_int_t)c->created_index, "updated_index",
	    (json_int_t)c->updated_index);
	if (o != NULL && pem) {
		size_t len;
		const uint8_t *der = cs_cert_der(c, &len);
		char *text = cs_x509_der_to_pem(der, len);

		json_object_set_new(o, "pem", json_string(text));
		free(text);
	}
	return o;
}

json_t *
cs_api__body_json(struct cs_api_req *r)
{
	size_t len;
	const uint8_t *body = cs_http_req_body(r->http, &len);
	json_error_t err;
	json_t *o;

	if (len == 0)
		return json_object();
	/* caps: the body is capped by the server; JSON depth by jansson
	 * (2048); duplicate keys refused */
	o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL) {
		cs_api__problem(r, 400, "bad-json",
		    "request body: %s (line %d, column %d)", err.text, err.line,
		    err.column);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		cs_api__problem(r, 400, "bad-json",
		    "request body: expected a JSON object");
		return NULL;
	}
	return o;
}

int
cs_api__parse_fp(const char *s, uint8_t fp[32])
{
	size_t n;

	if (strlen(s) != 64)
		return CS_EINVAL;
	return cs_hex_decode(s, 64, fp, 32, &n);
}

bool
cs_api__param_fp(struct cs_api_req *r, uint8_t fp[32])
{
	if (cs_api__parse_fp(r->params[0], fp) == 0)
		return true;
	cs_api__problem(r, 400, "bad-fingerprint",
	    "a certificate is named by its SHA-256 fingerprint: 64 "
	    "hexadecimal digits");
	return false;
}

bool
cs_api__param_key_id(struct cs_api_req *r, uint8_t id[32])
{
	if (cs_api__parse_fp(r->params[0], id) == 0)
		return true;
	cs_api__problem(r, 400, "bad-key-id",
	    "a key is named by the SHA-256 of its SubjectPublicKeyInfo: 64 "
	    "hexadecimal digits");
	return false;
}
