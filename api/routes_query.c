/*
 * routes_query.c - reading the store: search with every filter and a
 * cursor, expiry windows, rotation due by profile, keys.
 *
 * Lists are {"items": [...], "next_cursor": "..." | null}; pass the
 * cursor back as ?cursor= for the next page; limit= (1..1000, default
 * 100). Cursors are opaque to clients.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "cert/doc.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX     1000

/* ?limit=: 0 and an answer already sent on error. */
static size_t
limit_param(struct cs_api_req *r)
{
	const char *v;
	char *end;
	unsigned long n;

	if (cs_http_req_query_param(r->http, "limit", &v) < 0)
		return LIMIT_DEFAULT;
	n = strtoul(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n == 0 || n > LIMIT_MAX) {
		cs_api__problem(r, 400, "bad-parameter",
		    "limit: a number from 1 to %d", LIMIT_MAX);
		return 0;
	}
	return n;
}

static int
time_param(struct cs_api_req *r, const char *name, int64_t *out)
{
	const char *v;

	if (cs_http_req_query_param(r->http, name, &v) < 0)
		return 0;
	if (cs_time_parse(v, out) < 0) {
		cs_api__problem(r, 400, "bad-parameter",
		    "%s: an RFC 3339 time (2026-11-27T00:00:00Z)", name);
		return CS_EINVAL;
	}
	return 1;
}

static void
respond_list(struct cs_api_req *r, json_t *items, const char *next)
{
	cs_api__respond_json(r, 200,
	    json_pack("{s:o, s:o}", "items", items, "next_cursor",
		next != NULL ? json_string(next) : json_null()));
}

/* GET /v1/certs?subject=&san=&issuer=&owner=&tag=&status=&profile=
 *   &source=&key_id=&serial=&expires_before=&expires_after=&cursor=&limit= */
void
cs_api__get_certs(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	struct cs_query q;
	const struct cs_cert **out;
	struct cs_serial serial;
	uint8_t key_id[32];
	size_t n, limit = limit_param(r);
	uint32_t next;
	const char *v;
	json_t *items;
	char cursor[16];

	if (limit == 0)
		return;
	cs_query_init(&q, cs_api__now());
	q.limit = limit;
	cs_http_req_query_param(r->http, "subject", &q.subject);
	cs_http_req_query_param(r->http, "san", &q.san);
	cs_http_req_query_param(r->http, "issuer", &q.issuer);
	cs_http_req_query_param(r->http, "owner", &q.owner);
	cs_http_req_query_param(r->http, "tag", &q.tag);
	cs_http_req_query_param(r->http, "profile", &q.profile);
	if (cs_http_req_query_param(r->http, "status", &v) == 0) {
		enum cs_cert_status st;

		if (cs_status_parse(v, &st) < 0) {
			cs_api__problem(r, 400, "bad-parameter",
			    "status: valid, revoked or expired");
			return;
		}
		q.status = (int)st;
	}
	if (cs_http_req_query_param(r->http, "source", &v) == 0) {
		enum cs_cert_source src;

		if (cs_source_parse(v, &src) < 0) {
			cs_api__problem(r, 400, "bad-parameter",
			    "source: imported, issued, discovered, acme, est "
			    "or "
			    "scep");
			return;
		}
		q.source = (int)src;
	}
	if (cs_http_req_query_param(r->http, "key_id", &v) == 0) {
		if (cs_api__parse_fp(v, key_id) < 0) {
			cs_api__problem(r, 400, "bad-parameter",
			    "key_id: 64 hexadecimal digits");
			return;
		}
		q.key_id = key_id;
	}
	if (cs_http_req_query_param(r->http, "serial", &v) == 0) {
		if (cs_serial_parse(v, &serial) < 0) {
			cs_api__problem(r, 400, "bad-parameter",
			    "serial: hexadecimal");
			return;
		}
		q.serial = &serial;
	}
	if (time_param(r, "expires_before", &q.expires_before) < 0 ||
	    time_param(r, "expires_after", &q.expires_after) < 0)
		return;
	if (cs_http_req_query_param(r->http, "cursor", &v) == 0) {
		char *end;
		unsigned long c = strtoul(v, &end, 10);

		if (*v == '\0' || *end != '\0' || c > UINT32_MAX) {
			cs_api__problem(r, 400, "bad-cursor",
			    "cursor: the next_cursor of a previous page");
			return;
		}
		q.after = (uint32_t)c;
	}
	out = cs_http_req_alloc(r->http, limit * sizeof *out);
	cs_store_search(s, &q, out, &n, &next);
	items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items,
		    cs_api__cert_json(out[i], q.now, false));
	snprintf(cursor, sizeof cursor, "%u", next);
	respond_list(r, items, next != 0 ? cursor : NULL);
}

/* GET /v1/expiring?within=30d: valid certificates whose not_after falls
 * within the window from now, soonest first. */
void
cs_api__get_expiring(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	int64_t now = cs_api__now(), within = 30 * 86400;
	int64_t after_t = INT64_MIN;
	uint32_t after_seq = 0;
	size_t limit = limit_param(r), n;
	const struct cs_cert **out;
	const char *v;
	json_t *items;
	bool more;
	char cursor[48];

	if (limit == 0)
		return;
	if (cs_http_req_query_param(r->http, "within", &v) == 0 &&
	    (cs_duration_parse(v, &within) < 0 || within <= 0)) {
		cs_api__problem(r, 400, "bad-parameter",
		    "within: a duration like 30d, 12h or 90m");
		return;
	}
	if (cs_http_req_query_param(r->http, "cursor", &v) == 0) {
		long long t;
		unsigned seq;
		char tail;

		if (sscanf(v, "%lld.%u%c", &t, &seq, &tail) != 2) {
			cs_api__problem(r, 400, "bad-cursor",
			    "cursor: the next_cursor of a previous page");
			return;
		}
		after_t = t;
		after_seq = seq;
	}
	out = cs_http_req_alloc(r->http, limit * sizeof *out);
	cs_store_expiring(s, now, now + within, after_t, after_seq, limit, out,
	    &n, &more);
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = cs_api__cert_json(out[i], now, false);

		json_object_set_new(o, "expires_in_s",
		    json_integer((json_int_t)(out[i]->not_after - now)));
		json_array_append_new(items, o);
	}
	if (more && n > 0)
		snprintf(cursor, sizeof cursor, "%lld.%u",
		    (long long)out[n - 1]->not_after, out[n - 1]->seq);
	respond_list(r, items, more && n > 0 ? cursor : NULL);
}

/* GET /v1/rotation-due: valid, unexpired certificates issued under a
 * profile with rotate_after whose age passed it ("replace every
 * certificate monthly regardless of expiry"), by profile name then seq.
 * ?profile= narrows it. The cursor is "<profile name in hex>.<seq>". */
void
cs_api__get_rotation_due(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	int64_t now = cs_api__now();
	size_t limit = limit_param(r), got = 0;
	const char *only = NULL, *name = NULL, *v;
	const uint8_t *val;
	size_t vlen;
	char *from = NULL; /* the cursor's profile */
	uint32_t after = 0;
	json_t *items;
	char *cursor = NULL;

	if (limit == 0)
		return;
	cs_http_req_query_param(r->http, "profile", &only);
	if (cs_http_req_query_param(r->http, "cursor", &v) == 0) {
		const char *dot = strchr(v, '.');
		size_t n;

		from = cs_http_req_alloc(r->http, strlen(v) / 2 + 1);
		if (dot == NULL ||
		    cs_hex_decode(v, (size_t)(dot - v), (uint8_t *)from,
			strlen(v) / 2, &n) < 0) {
			cs_api__problem(r, 400, "bad-cursor",
			    "cursor: the next_cursor of a previous page");
			return;
		}
		from[n] = '\0';
		after = (uint32_t)strtoul(dot + 1, NULL, 10);
	}
	items = json_array();
	while (got < limit && (name = cs_store_doc_next(s, CS_NS_PROFILE, name,
				   &val, &vlen)) != NULL) {
		struct cs_profile p;
		struct cs_query q;
		const struct cs_cert *page[256];
		size_t n;
		uint32_t nx;

		if ((only != NULL && strcmp(only, name) != 0) ||
		    (from != NULL && strcmp(name, from) < 0))
			continue;
		if (cs_profile_decode(val, vlen, &p, NULL) < 0)
			continue;
		cs_query_init(&q, now);
		q.profile = name;
		q.status = CS_STATUS_VALID;
		q.after = from != NULL && strcmp(name, from) == 0 ? after : 0;
		q.limit = sizeof page / sizeof page[0];
		do {
			if (p.rotate_after <= 0)
				break;
			cs_store_search(s, &q, page, &n, &nx);
			for (size_t i = 0; i < n && got < limit; i++) {
				int64_t due =
				    page[i]->not_before + p.rotate_after;
				json_t *o;

				if (due > now)
					continue;
				o = cs_api__cert_json(page[i], now, false);
				json_object_set_new(o, "rotation_due_since",
				    cs_api__time_json(due));
				json_array_append_new(items, o);
				if (++got == limit) {
					size_t len = strlen(name);

					cursor = cs_http_req_alloc(r->http,
					    2 * len + 16);
					cs_hex_encode((const uint8_t *)name,
					    len, cursor);
					sprintf(cursor + 2 * len, ".%u",
					    page[i]->seq);
				}
			}
			q.after = nx;
		} while (nx != 0 && got < limit);
		cs_profile_close(&p);
	}
	respond_list(r, items, cursor);
}

/* GET /v1/keys/{key_id}: the key record and the certificates that use
 * it. */
void
cs_api__get_key(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	const struct cs_key *k;
	uint8_t id[32];
	struct cs_query q;
	const struct cs_cert *page[LIMIT_MAX];
	size_t n;
	uint32_t next;
	json_t *certs;
	char hex[65], when[CS_TIME_TEXT_SIZE];

	if (!cs_api__param_key_id(r, id))
		return;
	k = cs_store_get_key(s, id);
	if (k == NULL) {
		cs_api__problem(r, 404, "not-found", "no key %s", r->params[0]);
		return;
	}
	cs_query_init(&q, cs_api__now());
	q.key_id = id;
	q.limit = LIMIT_MAX;
	cs_store_search(s, &q, page, &n, &next);
	certs = json_array();
	for (size_t i = 0; i < n; i++) {
		char fp[65];

		cs_hex_encode(page[i]->fingerprint, 32, fp);
		json_array_append_new(certs,
		    json_pack("{s:s, s:s, s:s}", "fingerprint", fp, "subject",
			cs_cert_subject(page[i]), "status",
			cs_status_name(cs_cert_status_at(page[i], q.now))));
	}
	cs_hex_encode(k->key_id, 32, hex);
	cs_time_format(k->state_time, when);
	cs_api__respond_json(r, 200,
	    json_pack("{s:s, s:s, s:i, s:o, s:s, s:o, s:o, s:s, s:o, s:b}",
		"key_id", hex, "key_type",
		cs_key_type_name((enum cs_key_type)k->key_type), "key_bits",
		(int)k->key_bits, "curve",
		cs_key_curve(k)[0] ? json_string(cs_key_curve(k)) : json_null(),
		"state", cs_key_state_name((enum cs_key_state)k->state),
		"state_time", k->state_time ? json_string(when) : json_null(),
		"state_actor",
		cs_key_actor(k)[0] ? json_string(cs_key_actor(k)) : json_null(),
		"location", cs_keyloc_name((enum cs_key_location)k->location),
		"certificates", certs, "more_certificates", next != 0));
}
