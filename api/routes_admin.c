/*
 * routes_admin.c - profiles, role bindings, the audit chain, and the
 * snapshot download (backups).
 *
 * Profiles and role bindings are documents in the store; the JSON shape
 * here is the API's, the msgpack shape is cert/doc.h's. Role binding
 * names are identities as they appear in URLs: percent-encoded subjects
 * ("CN%3Doperator%2CO%3DHospital"), "fp:<hex>" or "san:<value>".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "cert/audit.h"
#include "cert/doc.h"
#include "cert/profile.h"
#include "cert/snapshot.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"

/* ---- common ---- */

/* The {} segment, percent-decoded into the arena; NULL after 400. */
const char *
cs_api__name_param(struct cs_api_req *r)
{
	const char *raw = r->params[0];
	size_t n = strlen(raw), out;
	char *s = cs_http_req_alloc(r->http, n + 1);

	if (cs_http_pct_decode(raw, n, s, &out, 0) < 0 || out == 0 ||
	    out > CS_CMD_MAX_STR) {
		cs_api__problem(r, 400, "bad-name",
		    "the name in the path is not valid percent-encoded text");
		return NULL;
	}
	return s;
}

json_t *
cs_api__strv_json(const struct cs_strv *v)
{
	json_t *a = json_array();

	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

/* A JSON array of strings into a strv of copies; 0, or CS_EINVAL. */
int
cs_api__strv_from(json_t *a, size_t max, struct cs_strv *out)
{
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > max)
		return CS_EINVAL;
	out->v = cs_calloc(json_array_size(a) + 1, sizeof *out->v);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *s = json_array_get(a, i);

		if (!json_is_string(s) || json_string_length(s) > 1024)
			return CS_EINVAL;
		out->v[out->n++] = cs_strdup(json_string_value(s));
	}
	return 0;
}

static void
on_doc_written(struct cs_api_req *r, const struct cs_result *res)
{
	if (res->rc < 0) {
		cs_api__problem_rc(r, res->rc, cs_http_req_path(r->http));
		return;
	}
	if (r->then != NULL)
		r->then(r);
	else
		cs_api__respond(r, 204, NULL, NULL, 0, NULL, 0);
}

/* Proposes a document put (value given) or delete (value NULL), then
 * answers with then(r) or 204. */
void
cs_api__propose_doc(struct cs_api_req *r, enum cs_ns ns, const char *key,
    const struct cs_buf *value, cs_api_handler then)
{
	struct cs_cmd cmd;

	cs_api__cmd_init(r, &cmd,
	    value != NULL ? CS_CMD_DOC_PUT : CS_CMD_DOC_DEL);
	cmd.u.doc.ns = (uint8_t)ns;
	cmd.u.doc.key.p = (const uint8_t *)key;
	cmd.u.doc.key.len = strlen(key);
	if (value != NULL) {
		cmd.u.doc.value.p = value->data;
		cmd.u.doc.value.len = value->len;
	}
	r->then = then;
	cs_api__propose(r, &cmd, on_doc_written);
}

/* ---- profiles ---- */

json_t *
cs_api__duration_json(int64_t s)
{
	char buf[24];

	if (s <= 0)
		return json_null();
	cs_duration_format(s, buf);
	return json_string(buf);
}

static json_t *
profile_json(const char *name, const struct cs_profile *p)
{
	json_t *keys = json_array(), *ku = json_array();

	for (uint32_t bit = 1; bit <= CS_KEYSPEC_ALL; bit <<= 1) {
		if (p->key_specs & bit)
			json_array_append_new(keys,
			    json_string(cs_keyspec_name(bit)));
	}
	for (uint32_t bit = 1; bit <= 0x8000; bit <<= 1) {
		if ((p->key_usage & bit) && strcmp(cs_ku_name(bit), "?") != 0)
			json_array_append_new(ku, json_string(cs_ku_name(bit)));
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o, "
			 "s:o},"
			 " s:b, s:o, s:o, s:o, s:o, s:s}",
	    "name", name, "issuer", p->issuer, "key_types", keys,
	    "max_validity", cs_api__duration_json(p->max_validity),
	    "rotate_after", cs_api__duration_json(p->rotate_after), "allow",
	    "dns", cs_api__strv_json(&p->allow.dns), "ip",
	    cs_api__strv_json(&p->allow.ip), "uri",
	    cs_api__strv_json(&p->allow.uri), "email",
	    cs_api__strv_json(&p->allow.email), "cn",
	    cs_api__strv_json(&p->allow_cn), "allow_no_san", p->allow_no_san,
	    "key_usage", ku, "eku", cs_api__strv_json(&p->eku), "crl_urls",
	    cs_api__strv_json(&p->crl_urls), "ocsp_urls",
	    cs_api__strv_json(&p->ocsp_urls), "description",
	    p->description != NULL ? p->description : "");
}

int
cs_api__duration_field(json_t *o, const char *name, int64_t *out, char *err)
{
	json_t *v = json_object_get(o, name);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) &&
	    cs_duration_parse(json_string_value(v), out) == 0)
		return 0;
	snprintf(err, CS_ERRMSG_SIZE, "%s: a duration like 90d or seconds",
	    name);
	return CS_EINVAL;
}

/* JSON -> profile; 0, or CS_EINVAL with err naming the field. */
static int
profile_from(json_t *o, struct cs_profile *p, char *err)
{
	static const char *const known[] = {"name", "issuer", "key_types",
	    "max_validity", "rotate_after", "allow", "allow_no_san",
	    "key_usage", "eku", "crl_urls", "ocsp_urls", "description"};
	json_t *v, *allow;
	const char *k;

	memset(p, 0, sizeof *p);
	json_object_foreach(o, k, v)
	{
		size_t i;

		for (i = 0; i < sizeof known / sizeof known[0]; i++) {
			if (strcmp(known[i], k) == 0)
				break;
		}
		if (i == sizeof known / sizeof known[0]) {
			snprintf(err, CS_ERRMSG_SIZE, "unknown field \"%s\"",
			    k);
			return CS_EINVAL;
		}
	}
	v = json_object_get(o, "issuer");
	if (!json_is_string(v)) {
		snprintf(err, CS_ERRMSG_SIZE, "issuer: the issuer's name");
		return CS_EINVAL;
	}
	p->issuer = cs_strdup(json_string_value(v));
	v = json_object_get(o, "key_types");
	if (v != NULL && !json_is_array(v)) {
		snprintf(err, CS_ERRMSG_SIZE, "key_types: a list");
		return CS_EINVAL;
	}
	for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
		uint32_t bit;
		json_t *t = json_array_get(v, i);

		if (!json_is_string(t) ||
		    cs_keyspec_parse(json_string_value(t), &bit) < 0) {
			snprintf(err, CS_ERRMSG_SIZE,
			    "key_types: rsa2048, rsa3072, rsa4096, p256, p384, "
			    "ed25519");
			return CS_EINVAL;
		}
		p->key_specs |= bit;
	}
	if (cs_api__duration_field(o, "max_validity", &p->max_validity, err) <
		0 ||
	    cs_api__duration_field(o, "rotate_after", &p->rotate_after, err) <
		0)
		return CS_EINVAL;
	allow = json_object_get(o, "allow");
	if (allow != NULL && !json_is_object(allow)) {
		snprintf(err, CS_ERRMSG_SIZE, "allow: an object");
		return CS_EINVAL;
	}
	json_object_foreach(allow, k, v)
	{
		if (strcmp(k, "dns") != 0 && strcmp(k, "ip") != 0 &&
		    strcmp(k, "uri") != 0 && strcmp(k, "email") != 0 &&
		    strcmp(k, "cn") != 0) {
			snprintf(err, CS_ERRMSG_SIZE,
			    "allow: unknown field \"%s\" (dns, ip, uri, "
			    "email, cn)",
			    k);
			return CS_EINVAL;
		}
	}
	if (cs_api__strv_from(json_object_get(allow, "dns"), 256,
		&p->allow.dns) < 0 ||
	    cs_api__strv_from(json_object_get(allow, "ip"), 256, &p->allow.ip) <
		0 ||
	    cs_api__strv_from(json_object_get(allow, "uri"), 256,
		&p->allow.uri) < 0 ||
	    cs_api__strv_from(json_object_get(allow, "email"), 256,
		&p->allow.email) < 0 ||
	    cs_api__strv_from(json_object_get(allow, "cn"), 256, &p->allow_cn) <
		0) {
		snprintf(err, CS_ERRMSG_SIZE,
		    "allow: {dns, ip, uri, email, cn}: lists of at most 256 "
		    "patterns");
		return CS_EINVAL;
	}
	v = json_object_get(o, "allow_no_san");
	if (v != NULL && !json_is_boolean(v)) {
		snprintf(err, CS_ERRMSG_SIZE, "allow_no_san: true or false");
		return CS_EINVAL;
	}
	p->allow_no_san = json_is_true(v);
	v = json_object_get(o, "key_usage");
	if (v != NULL && !json_is_array(v)) {
		snprintf(err, CS_ERRMSG_SIZE, "key_usage: a list");
		return CS_EINVAL;
	}
	for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
		uint32_t bit;
		json_t *t = json_array_get(v, i);

		if (!json_is_string(t) ||
		    cs_ku_parse(json_string_value(t), &bit) < 0) {
			snprintf(err, CS_ERRMSG_SIZE,
			    "key_usage: RFC 5280 names like digitalSignature");
			return CS_EINVAL;
		}
		p->key_usage |= bit;
	}
	if (cs_api__strv_from(json_object_get(o, "eku"), 32, &p->eku) < 0 ||
	    cs_api__strv_from(json_object_get(o, "crl_urls"), 16,
		&p->crl_urls) < 0 ||
	    cs_api__strv_from(json_object_get(o, "ocsp_urls"), 16,
		&p->ocsp_urls) < 0) {
		snprintf(err, CS_ERRMSG_SIZE,
		    "eku, crl_urls, ocsp_urls: lists of strings");
		return CS_EINVAL;
	}
	v = json_object_get(o, "description");
	if (v != NULL && !json_is_string(v)) {
		snprintf(err, CS_ERRMSG_SIZE, "description: a string");
		return CS_EINVAL;
	}
	if (json_is_string(v))
		p->description = cs_strdup(json_string_value(v));
	return cs_profile_validate(p, err);
}

static int
profile_get(struct cs_api *api, const char *name, struct cs_profile *p)
{
	size_t len;
	const uint8_t *v =
	    cs_store_doc(cs_api__store(api), CS_NS_PROFILE, name, &len);

	if (v == NULL)
		return CS_ENOTFOUND;
	return cs_profile_decode(v, len, p, NULL);
}

void
cs_api__get_profile(struct cs_api_req *r)
{
	struct cs_profile p;
	const char *name = cs_api__name_param(r);

	if (name == NULL)
		return;
	if (profile_get(r->api, name, &p) < 0) {
		cs_api__problem(r, 404, "not-found", "no profile \"%s\"", name);
		return;
	}
	cs_api__respond_json(r, 200, profile_json(name, &p));
	cs_profile_close(&p);
}

void
cs_api__get_profiles(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;
	json_t *items = json_array();

	while ((k = cs_store_doc_next(s, CS_NS_PROFILE, k, &v, &len)) != NULL) {
		struct cs_profile p;

		if (cs_profile_decode(v, len, &p, NULL) == 0) {
			json_array_append_new(items, profile_json(k, &p));
			cs_profile_close(&p);
		}
	}
	cs_api__respond_json(r, 200,
	    json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

void
cs_api__put_profile(struct cs_api_req *r)
{
	const char *name = cs_api__name_param(r);
	json_t *o;
	struct cs_profile p;
	struct cs_buf val;
	char err[CS_ERRMSG_SIZE] = "";

	if (name == NULL)
		return;
	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	if (profile_from(o, &p, err) < 0) {
		json_decref(o);
		cs_profile_close(&p);
		cs_api__problem(r, 400, "bad-profile", "%s", err);
		return;
	}
	json_decref(o);
	cs_buf_init(&val, CS_CMD_MAX_DOC);
	cs_profile_encode(&p, &val);
	cs_profile_close(&p);
	cs_api__propose_doc(r, CS_NS_PROFILE, name, &val, cs_api__get_profile);
	cs_buf_close(&val);
}

void
cs_api__delete_profile(struct cs_api_req *r)
{
	const char *name = cs_api__name_param(r);

	if (name != NULL)
		cs_api__propose_doc(r, CS_NS_PROFILE, name, NULL, NULL);
}

/* ---- role bindings ---- */

static json_t *
role_json(const char *identity, const struct cs_role_binding *b)
{
	return json_pack("{s:s, s:s, s:o}", "identity", identity, "role",
	    b->role, "profiles", cs_api__strv_json(&b->profiles));
}

void
cs_api__get_role(struct cs_api_req *r)
{
	const char *name = cs_api__name_param(r);
	struct cs_role_binding b;
	const uint8_t *v;
	size_t len;

	if (name == NULL)
		return;
	v = cs_store_doc(cs_api__store(r->api), CS_NS_ROLE, name, &len);
	if (v == NULL || cs_role_decode(v, len, &b, NULL) < 0) {
		if (strcmp(name, r->api->cfg.admin_identity) == 0) {
			/* the first admin, from the configuration (as the
			 * list shows it) */
			cs_api__respond_json(r, 200,
			    json_pack("{s:s, s:s, s:[], s:b}", "identity", name,
				"role", "admin", "profiles", "from_config", 1));
			return;
		}
		cs_api__problem(r, 404, "not-found",
		    "no role binding for \"%s\"", name);
		return;
	}
	cs_api__respond_json(r, 200, role_json(name, &b));
	cs_role_close(&b);
}

void
cs_api__get_roles(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;
	json_t *items = json_array();

	while ((k = cs_store_doc_next(s, CS_NS_ROLE, k, &v, &len)) != NULL) {
		struct cs_role_binding b;

		if (cs_role_decode(v, len, &b, NULL) == 0) {
			json_array_append_new(items, role_json(k, &b));
			cs_role_close(&b);
		}
	}
	if (r->api->cfg.admin_identity[0] != '\0')
		json_array_append_new(items,
		    json_pack("{s:s, s:s, s:[], s:b}", "identity",
			r->api->cfg.admin_identity, "role", "admin", "profiles",
			"from_config", 1));
	cs_api__respond_json(r, 200,
	    json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

void
cs_api__put_role(struct cs_api_req *r)
{
	const char *name = cs_api__name_param(r);
	struct cs_role_binding b;
	struct cs_buf val;
	unsigned bit;
	json_t *o, *role;

	if (name == NULL)
		return;
	if (strncmp(name, "fp:", 3) != 0 && strncmp(name, "san:", 4) != 0 &&
	    strchr(name, '=') == NULL) {
		cs_api__problem(r, 400, "bad-identity",
		    "an identity is a subject (\"CN=...\"), \"fp:<sha256>\" or "
		    "\"san:<name>\"");
		return;
	}
	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	memset(&b, 0, sizeof b);
	role = json_object_get(o, "role");
	if (!json_is_string(role) ||
	    cs_api__role_parse(json_string_value(role), &bit) < 0 ||
	    cs_api__strv_from(json_object_get(o, "profiles"), 256,
		&b.profiles) < 0) {
		json_decref(o);
		cs_role_close(&b);
		cs_api__problem(r, 400, "bad-role",
		    "role: admin, operator, enroller or auditor; profiles: a "
		    "list of profile names (for enrollers)");
		return;
	}
	b.role = cs_strdup(json_string_value(role));
	json_decref(o);
	/* the profiles named need not exist yet (bindings may be set up
	 * before the profiles; a profile may be deleted later): issuance
	 * checks both */
	cs_buf_init(&val, CS_CMD_MAX_DOC);
	cs_role_encode(&b, &val);
	cs_role_close(&b);
	cs_api__propose_doc(r, CS_NS_ROLE, name, &val, cs_api__get_role);
	cs_buf_close(&val);
}

void
cs_api__delete_role(struct cs_api_req *r)
{
	const char *name = cs_api__name_param(r);

	if (name != NULL)
		cs_api__propose_doc(r, CS_NS_ROLE, name, NULL, NULL);
}

/* ---- the audit chain ---- */

static json_t *
audit_json(struct cs_store *s, const struct cs_audit *a)
{
	char digest[65], hash[65], when[CS_TIME_TEXT_SIZE];

	cs_hex_encode(a->digest, 32, digest);
	cs_hex_encode(a->hash, 32, hash);
	cs_time_format(a->time, when);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "index",
	    (json_int_t)a->index, "time", when, "actor",
	    cs_audit_actor(s, a->actor), "command",
	    cs_cmd_type_name((enum cs_cmd_type)a->type), "result",
	    a->rc == 0 ? "ok" : cs_errname(a->rc), "entry_sha256", digest,
	    "chain_hash", hash);
}

/* GET /v1/audit?from=INDEX&limit=N */
void
cs_api__get_audit(struct cs_api_req *r)
{
	struct cs_store *s = cs_api__store(r->api);
	const char *v;
	uint64_t from = 0;
	size_t limit = 100, i, end;
	json_t *items = json_array();
	char cursor[24];

	const char *from_v = NULL, *cursor_v = NULL;
	char *end_p;

	cs_http_req_query_param(r->http, "from", &from_v);
	cs_http_req_query_param(r->http, "cursor", &cursor_v);
	if (from_v != NULL && cursor_v != NULL) {
		json_decref(items);
		cs_api__problem(r, 400, "bad-parameter",
		    "from (the first index) or cursor (from next_cursor), "
		    "not both");
		return;
	}
	v = from_v != NULL ? from_v : cursor_v;
	if (v != NULL) {
		errno = 0;
		from = strtoull(v, &end_p, 10);
		if (errno != 0 || end_p == v || *end_p != '\0' || v[0] == '-') {
			json_decref(items);
			cs_api__problem(r, 400, "bad-parameter",
			    "%s: a log index",
			    from_v != NULL ? "from" : "cursor");
			return;
		}
	}
	if (cs_http_req_query_param(r->http, "limit", &v) == 0) {
		errno = 0;
		limit = strtoul(v, &end_p, 10);
		if (errno != 0 || end_p == v || *end_p != '\0' || v[0] == '-' ||
		    limit == 0 || limit > 1000) {
			json_decref(items);
			cs_api__problem(r, 400, "bad-parameter",
			    "limit: 1 to 1000");
			return;
		}
	}
	i = cs_audit_find(s, from);
	end = i + limit < cs_audit_count(s) ? i + limit : cs_audit_count(s);
	for (; i < end; i++)
		json_array_append_new(items, audit_json(s, cs_audit_get(s, i)));
	if (end < cs_audit_count(s))
		snprintf(cursor, sizeof cursor, "%llu",
		    (unsigned long long)cs_audit_get(s, end)->index);
	cs_api__respond_json(r, 200,
	    json_pack("{s:o, s:o}", "items", items, "next_cursor",
		end < cs_audit_count(s) ? json_string(cursor) : json_null()));
}

/* Recomputing the chain is one SHA-256 per entry: done on the
 * threadpool over a frozen view of the chain. */
struct verify_work {
	uv_work_t work;
	struct cs_api *api;
	struct cs_api_req *r;
	struct cs_snapshot *snap; /* keeps the store's memory alive */
	struct cs_audit_view *view;
	int rc;
	size_t bad;
};

static void
verify_run(uv_work_t *w)
{
	struct verify_work *v = cs_container_of(w, struct verify_work, work);

	v->rc = cs_audit_view_verify(v->view, &v->bad);
}

static void
verify_done(uv_work_t *w, int status)
{
	struct verify_work *v = cs_container_of(w, struct verify_work, work);
	struct cs_api *api = v->api;
	char head[65];

	cs_hex_encode(cs_audit_view_head(v->view), 32, head);
	if (status != 0)
		cs_api__unavailable(v->r, "the check was cancelled");
	else if (v->rc == 0)
		cs_api__respond_json(v->r, 200,
		    json_pack("{s:b, s:I, s:s}", "intact", 1, "entries",
			(json_int_t)cs_audit_view_count(v->view), "head",
			head));
	else
		cs_api__respond_json(v->r, 409,
		    json_pack("{s:b, s:I, s:I, s:s}", "intact", 0, "entries",
			(json_int_t)cs_audit_view_count(v->view),
			"first_bad_position", (json_int_t)v->bad, "head",
			head));
	cs_audit_view_free(v->view);
	cs_snapshot_release(v->snap);
	free(v);
	cs_api__work_done(api);
}

void
cs_api__get_audit_verify(struct cs_api_req *r)
{
	struct verify_work *v = cs_calloc(1, sizeof *v);
	struct cs_store *s = cs_api__store(r->api);

	v->api = r->api;
	v->r = r;
	v->snap = cs_snapshot_take(s);
	v->view = cs_audit_view_new(s);
	r->api->works++;
	if (uv_queue_work(r->api->loop, &v->work, verify_run, verify_done) <
	    0) {
		r->api->works--;
		cs_audit_view_free(v->view);
		cs_snapshot_release(v->snap);
		free(v);
		cs_api__unavailable(r, "cannot start the check");
	}
}

/* ---- snapshot download ---- */

struct snap_work {
	uv_work_t work;
	struct cs_api *api;
	struct cs_api_req *r;
	struct cs_snapshot *snap;
	uint8_t *bytes;
	size_t len;
};

static void
snap_run(uv_work_t *w)
{
	struct snap_work *s = cs_container_of(w, struct snap_work, work);
	size_t n, off = 0;
	const struct cs_bytes *b = cs_snapshot_bufs(s->snap, &n);

	s->len = cs_snapshot_size(s->snap);
	s->bytes = malloc(s->len > 0 ? s->len : 1);
	if (s->bytes == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		memcpy(s->bytes + off, b[i].p, b[i].len);
		off += b[i].len;
	}
}

static void
snap_done(uv_work_t *w, int status)
{
	struct snap_work *s = cs_container_of(w, struct snap_work, work);
	struct cs_api *api = s->api;
	char index[24], disp[96];
	struct cs_http_header h[2] = {{"X-Certstore-Snapshot-Index", index},
	    {"Content-Disposition", disp}};

	snprintf(index, sizeof index, "%llu",
	    (unsigned long long)cs_snapshot_index(s->snap));
	snprintf(disp, sizeof disp,
	    "attachment; filename=\"certstore-%s.snapshot\"", index);
	if (status != 0 || s->bytes == NULL) {
		free(s->bytes);
		cs_api__unavailable(s->r, "not enough memory for the snapshot");
	} else {
		cs_api__respond(s->r, 200, "application/octet-stream", s->bytes,
		    s->len, h, 2);
	}
	cs_snapshot_release(s->snap);
	free(s);
	cs_api__work_done(api);
}

/* GET /v1/snapshot: the whole store, as a snapshot file (the same bytes
 * raft writes, before compression). Restore: see README, "Backups". */
void
cs_api__get_snapshot(struct cs_api_req *r)
{
	struct snap_work *s = cs_calloc(1, sizeof *s);

	s->api = r->api;
	s->r = r;
	s->snap = cs_snapshot_take(cs_api__store(r->api));
	r->api->works++;
	if (uv_queue_work(r->api->loop, &s->work, snap_run, snap_done) < 0) {
		r->api->works--;
		cs_snapshot_release(s->snap);
		free(s);
		cs_api__unavailable(r, "cannot start the snapshot");
	}
}
