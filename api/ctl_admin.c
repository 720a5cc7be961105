/*
 * ctl_admin.c - certctl key, profile, role and audit commands
 * (ctl_admin.h).
 *
 * Profile names and role identities travel in the URL path, percent-
 * encoded as a whole: an identity is a subject like "CN=a/b,O=c" whose
 * "/" and "," must stay inside one path segment.
 */
#include "api/ctl_admin.h"

#include <stdlib.h>
#include <string.h>

#include "api/ctl_file.h"
#include "api/ctl_out.h"
#include "cert/cmd.h"
#include "cert/store.h"
#include "lib/buf.h"
#include "lib/error.h"

#define BUF_MAX      (1u << 20)
#define PROFILE_MAX  CS_CMD_MAX_DOC
#define NAME_MAX_LEN CS_CMD_MAX_STR /* document keys */
#define FIELD_WIDTH  13

static const char *
or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* "<prefix><name percent-encoded>" into path; a usage error for an
 * empty or overlong name. */
static int
named_path(struct cs_ctl *ctl, const char *what, const char *prefix,
    const char *name, struct cs_buf *path)
{
	if (name[0] == '\0' || strlen(name) > NAME_MAX_LEN)
		return cs_ctl_usage(ctl, "%s: a text of 1 to %d bytes", what,
		    NAME_MAX_LEN);
	cs_buf_append_str(path, prefix);
	cs_ctl_http_pct_encode(path, name);
	return CS_CTL_EXIT_OK;
}

/* Prints a JSON answer: as is with --json, else with print. Frees. */
static int
answer(struct cs_ctl *ctl, int rc, json_t *doc, struct cs_ctl_http_resp *raw,
    void (*print)(struct cs_ctl *, const json_t *))
{
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json && raw->status != 204)
			cs_ctl_print_raw(ctl, raw);
		else if (!ctl->json)
			print(ctl, doc);
	}
	json_decref(doc);
	cs_ctl_http_resp_close(raw);
	return rc;
}

/* ---- keys ---- */

static void
print_key(struct cs_ctl *ctl, const json_t *k)
{
	static const char *const head[] = {"FINGERPRINT", "STATUS", "SUBJECT"};
	const json_t *certs = json_object_get(k, "certificates");
	const char *curve = cs_ctl_jstr(k, "curve");
	const char *actor = cs_ctl_jstr(k, "state_actor");
	const char *since = cs_ctl_jstr(k, "state_time");
	struct cs_ctl_out_table *t;
	FILE *f = ctl->out;

	cs_ctl_out_field(f, FIELD_WIDTH, "key id", "%s",
	    or_dash(cs_ctl_jstr(k, "key_id")));
	cs_ctl_out_field(f, FIELD_WIDTH, "type", "%s %lld%s%s%s",
	    or_dash(cs_ctl_jstr(k, "key_type")), cs_ctl_jint(k, "key_bits"),
	    curve != NULL ? " (" : "", curve != NULL ? curve : "",
	    curve != NULL ? ")" : "");
	cs_ctl_out_field(f, FIELD_WIDTH, "state", "%s%s%s%s%s",
	    or_dash(cs_ctl_jstr(k, "state")), since != NULL ? " since " : "",
	    since != NULL ? since : "", actor != NULL ? " by " : "",
	    actor != NULL ? actor : "");
	cs_ctl_out_field(f, FIELD_WIDTH, "location", "%s",
	    or_dash(cs_ctl_jstr(k, "location")));
	cs_ctl_out_field(f, FIELD_WIDTH, "certificates", "%zu%s",
	    json_is_array(certs) ? json_array_size(certs) : 0,
	    cs_ctl_jbool(k, "more_certificates") ? " (and more)" : "");
	if (!json_is_array(certs) || json_array_size(certs) == 0)
		return;
	fputc('\n', f);
	t = cs_ctl_out_table_new(3, head);
	for (size_t i = 0; i < json_array_size(certs); i++) {
		const json_t *c = json_array_get(certs, i);
		char fp[CS_CTL_OUT_SHORT_FP_SIZE];

		cs_ctl_out_short_fp(cs_ctl_jstr(c, "fingerprint"), fp);
		cs_ctl_out_table_cell(t, fp);
		cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "status"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "subject"));
	}
	cs_ctl_out_table_print(t, f);
	cs_ctl_out_table_free(t);
}

static int
key_path(struct cs_ctl *ctl, const char *suffix, char *path, size_t size,
    char id[65])
{
	int rc = cs_ctl_check_sha256(ctl, "KEYID", cs_ctl_arg(ctl, 0), id);

	if (rc == CS_CTL_EXIT_OK)
		snprintf(path, size, "/v1/keys/%s%s", id, suffix);
	return rc;
}

static int
run_key_show(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *k = NULL;
	char id[65], path[128];
	int rc;

	rc = key_path(ctl, "", path, sizeof path, id);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, path, NULL, &k, &raw);
	return answer(ctl, rc, k, &raw, print_key);
}

static int
run_key_compromise(struct cs_ctl *ctl)
{
	const char *reason = cs_ctl_opt(ctl, "reason");
	struct cs_ctl_http_resp raw;
	json_t *body = NULL, *o = NULL;
	char id[65], path[128];
	int rc;

	rc = key_path(ctl, "/compromise", path, sizeof path, id);
	if (rc == CS_CTL_EXIT_OK && reason != NULL)
		rc = cs_ctl_check_reason(ctl, reason, false);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	body = json_object();
	if (reason != NULL)
		json_object_set_new(body, "reason", json_string(reason));
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "POST", path, body, &o, &raw);
	json_decref(body);
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json)
			cs_ctl_print_raw(ctl, &raw);
		else
			fprintf(ctl->out,
			    "key %s compromised: revoked %lld certificate%s "
			    "(log index %lld)\n",
			    id, cs_ctl_jint(o, "revoked"),
			    cs_ctl_jint(o, "revoked") == 1 ? "" : "s",
			    cs_ctl_jint(o, "index"));
	}
	json_decref(o);
	cs_ctl_http_resp_close(&raw);
	return rc;
}

static int
run_key_destroy(struct cs_ctl *ctl)
{
	const char *loc = cs_ctl_opt(ctl, "location");
	struct cs_ctl_http_resp raw;
	json_t *body = NULL, *k = NULL;
	char id[65], path[128];
	int rc;

	rc = key_path(ctl, "/destroy", path, sizeof path, id);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	if (loc != NULL) {
		enum cs_key_location l;

		if (cs_keyloc_parse(loc, &l) < 0)
			return cs_ctl_usage(ctl,
			    "--location \"%s\": device, hsm, software or "
			    "unknown",
			    loc);
	}
	body = json_object();
	if (loc != NULL)
		json_object_set_new(body, "location", json_string(loc));
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "POST", path, body, &k, &raw);
	json_decref(body);
	return answer(ctl, rc, k, &raw, print_key);
}

/* ---- profiles ---- */

static void
print_profile(struct cs_ctl *ctl, const json_t *p)
{
	static const char *const kinds[] = {"dns", "ip", "uri", "email"};
	const json_t *allow = json_object_get(p, "allow");
	FILE *f = ctl->out;
	struct cs_buf b;

	cs_buf_init(&b, BUF_MAX);
	cs_ctl_out_field(f, FIELD_WIDTH, "name", "%s",
	    or_dash(cs_ctl_jstr(p, "name")));
	cs_ctl_out_field(f, FIELD_WIDTH, "issuer", "%s",
	    or_dash(cs_ctl_jstr(p, "issuer")));
	cs_ctl_out_field(f, FIELD_WIDTH, "description", "%s",
	    or_dash(cs_ctl_jstr(p, "description")));
	cs_ctl_out_field(f, FIELD_WIDTH, "key types", "%s",
	    or_dash(cs_ctl_jjoin(p, "key_types", ", ", &b)));
	cs_ctl_out_field(f, FIELD_WIDTH, "max validity", "%s",
	    or_dash(cs_ctl_jstr(p, "max_validity")));
	cs_ctl_out_field(f, FIELD_WIDTH, "rotate after", "%s",
	    or_dash(cs_ctl_jstr(p, "rotate_after")));
	for (size_t i = 0; i < 4; i++) {
		char key[24];

		snprintf(key, sizeof key, "allow %s", kinds[i]);
		cs_ctl_out_field(f, FIELD_WIDTH, key, "%s",
		    or_dash(cs_ctl_jjoin(allow, kinds[i], ", ", &b)));
	}
	cs_ctl_out_field(f, FIELD_WIDTH, "allow no SAN", "%s",
	    cs_ctl_jbool(p, "allow_no_san") ? "yes" : "no");
	cs_ctl_out_field(f, FIELD_WIDTH, "key usage", "%s",
	    or_dash(cs_ctl_jjoin(p, "key_usage", ", ", &b)));
	cs_ctl_out_field(f, FIELD_WIDTH, "eku", "%s",
	    or_dash(cs_ctl_jjoin(p, "eku", ", ", &b)));
	cs_ctl_out_field(f, FIELD_WIDTH, "crl urls", "%s",
	    or_dash(cs_ctl_jjoin(p, "crl_urls", ", ", &b)));
	cs_ctl_out_field(f, FIELD_WIDTH, "ocsp urls", "%s",
	    or_dash(cs_ctl_jjoin(p, "ocsp_urls", ", ", &b)));
	cs_buf_close(&b);
}

static void
print_profiles(struct cs_ctl *ctl, const json_t *list)
{
	static const char *const head[] = {"NAME", "ISSUER", "KEY TYPES",
	    "MAX VALIDITY", "ROTATE AFTER", "DESCRIPTION"};
	const json_t *items = json_object_get(list, "items");
	struct cs_ctl_out_table *t = cs_ctl_out_table_new(6, head);
	struct cs_buf b;

	cs_buf_init(&b, BUF_MAX);
	for (size_t i = 0; json_is_array(items) && i < json_array_size(items);
	     i++) {
		const json_t *p = json_array_get(items, i);

		cs_ctl_out_table_cell(t, cs_ctl_jstr(p, "name"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(p, "issuer"));
		cs_ctl_out_table_cell(t, cs_ctl_jjoin(p, "key_types", ",", &b));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(p, "max_validity"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(p, "rotate_after"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(p, "description"));
	}
	cs_ctl_out_table_print(t, ctl->out);
	cs_ctl_out_table_free(t);
	cs_buf_close(&b);
}

static int
run_profile_list(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *list = NULL;
	int rc;

	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, "/v1/profiles", NULL, &list, &raw);
	return answer(ctl, rc, list, &raw, print_profiles);
}

static int
run_profile_show(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	struct cs_buf path;
	json_t *p = NULL;
	int rc;

	cs_buf_init(&path, BUF_MAX);
	rc =
	    named_path(ctl, "NAME", "/v1/profiles/", cs_ctl_arg(ctl, 0), &path);
	if (rc != CS_CTL_EXIT_OK) {
		cs_buf_close(&path);
		return rc;
	}
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, (const char *)path.data, NULL, &p, &raw);
	cs_buf_close(&path);
	return answer(ctl, rc, p, &raw, print_profile);
}

/* The file is checked to be one JSON object here; its fields are the
 * server's to judge (it names the bad one). */
static int
run_profile_put(struct cs_ctl *ctl)
{
	const char *file = cs_ctl_arg(ctl, 1);
	struct cs_ctl_http_resp raw;
	struct cs_buf path, text;
	json_t *body = NULL, *p = NULL;
	json_error_t e;
	char err[CS_ERRMSG_SIZE] = "";
	int rc;

	cs_buf_init(&path, BUF_MAX);
	cs_buf_init(&text, PROFILE_MAX);
	cs_ctl_http_resp_init(&raw);
	rc =
	    named_path(ctl, "NAME", "/v1/profiles/", cs_ctl_arg(ctl, 0), &path);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	if (cs_ctl_file_read(file, PROFILE_MAX, &text, err) < 0) {
		rc = cs_ctl_usage(ctl, "%s", err);
		goto out;
	}
	body = json_loadb(text.len > 0 ? (const char *)text.data : "", text.len,
	    JSON_REJECT_DUPLICATES, &e);
	if (body == NULL || !json_is_object(body)) {
		rc = cs_ctl_usage(ctl, "%s: %s (line %d)", file,
		    body == NULL ? e.text : "not a JSON object",
		    body == NULL ? e.line : 1);
		goto out;
	}
	rc = cs_ctl_send_json(ctl, "PUT", (const char *)path.data, body, &p,
	    &raw);
	rc = answer(ctl, rc, p, &raw, print_profile);
out:
	json_decref(body);
	cs_ctl_http_resp_close(&raw);
	cs_buf_close(&path);
	cs_buf_close(&text);
	return rc;
}

static void
print_deleted(struct cs_ctl *ctl, const json_t *unused)
{
	(void)unused;
	fprintf(ctl->out, "deleted %s %s\n",
	    strncmp(ctl->cmd->name, "profile", 7) == 0 ? "profile"
						       : "role binding",
	    cs_ctl_arg(ctl, 0));
}

/* DELETE path: 204 and no body, so --json prints nothing. */
static int
delete_at(struct cs_ctl *ctl, int rc, struct cs_buf *path)
{
	struct cs_ctl_http_resp raw;

	if (rc == CS_CTL_EXIT_OK) {
		cs_ctl_http_resp_init(&raw);
		rc = cs_ctl_send_json(ctl, "DELETE", (const char *)path->data,
		    NULL, NULL, &raw);
		rc = answer(ctl, rc, NULL, &raw, print_deleted);
	}
	cs_buf_close(path);
	return rc;
}

static int
run_profile_delete(struct cs_ctl *ctl)
{
	struct cs_buf path;
	int rc;

	cs_buf_init(&path, BUF_MAX);
	rc =
	    named_path(ctl, "NAME", "/v1/profiles/", cs_ctl_arg(ctl, 0), &path);
	return delete_at(ctl, rc, &path);
}

/* ---- role bindings ---- */

static const char *const roles[] = {"admin", "operator", "auditor", "enroller"};

static void
print_role(struct cs_ctl *ctl, const json_t *r)
{
	struct cs_buf b;

	cs_buf_init(&b, BUF_MAX);
	cs_ctl_out_field(ctl->out, FIELD_WIDTH, "identity", "%s",
	    or_dash(cs_ctl_jstr(r, "identity")));
	cs_ctl_out_field(ctl->out, FIELD_WIDTH, "role", "%s",
	    or_dash(cs_ctl_jstr(r, "role")));
	cs_ctl_out_field(ctl->out, FIELD_WIDTH, "profiles", "%s",
	    or_dash(cs_ctl_jjoin(r, "profiles", ", ", &b)));
	cs_buf_close(&b);
}

static void
print_roles(struct cs_ctl *ctl, const json_t *list)
{
	static const char *const head[] = {"IDENTITY", "ROLE", "PROFILES",
	    "FROM"};
	const json_t *items = json_object_get(list, "items");
	struct cs_ctl_out_table *t = cs_ctl_out_table_new(4, head);
	struct cs_buf b;

	cs_buf_init(&b, BUF_MAX);
	for (size_t i = 0; json_is_array(items) && i < json_array_size(items);
	     i++) {
		const json_t *r = json_array_get(items, i);

		cs_ctl_out_table_cell(t, cs_ctl_jstr(r, "identity"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(r, "role"));
		cs_ctl_out_table_cell(t, cs_ctl_jjoin(r, "profiles", ",", &b));
		cs_ctl_out_table_cell(t, cs_ctl_jbool(r, "from_config")
					     ? "configuration"
					     : "binding");
	}
	cs_ctl_out_table_print(t, ctl->out);
	cs_ctl_out_table_free(t);
	cs_buf_close(&b);
}

static int
run_role_list(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *list = NULL;
	int rc;

	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, "/v1/roles", NULL, &list, &raw);
	return answer(ctl, rc, list, &raw, print_roles);
}

/* An identity as the server accepts one: a subject ("CN=..."),
 * "fp:<sha256>" or "san:<name>". */
static int
role_path(struct cs_ctl *ctl, struct cs_buf *path)
{
	const char *id = cs_ctl_arg(ctl, 0);

	if (strncmp(id, "fp:", 3) != 0 && strncmp(id, "san:", 4) != 0 &&
	    strchr(id, '=') == NULL)
		return cs_ctl_usage(ctl,
		    "IDENTITY \"%s\": a subject "
		    "(\"CN=pump-admin,O=Hospital\"), "
		    "\"fp:<sha256>\" or \"san:<name>\"",
		    id);
	return named_path(ctl, "IDENTITY", "/v1/roles/", id, path);
}

static int
run_role_show(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	struct cs_buf path;
	json_t *r = NULL;
	int rc;

	cs_buf_init(&path, BUF_MAX);
	rc = role_path(ctl, &path);
	if (rc != CS_CTL_EXIT_OK) {
		cs_buf_close(&path);
		return rc;
	}
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, (const char *)path.data, NULL, &r, &raw);
	cs_buf_close(&path);
	return answer(ctl, rc, r, &raw, print_role);
}

static int
run_role_put(struct cs_ctl *ctl)
{
	const char *role = cs_ctl_arg(ctl, 1);
	const char *profiles[256];
	size_t np = cs_ctl_args_all(ctl->args, "profile", profiles, 256);
	struct cs_ctl_http_resp raw;
	struct cs_buf path;
	json_t *body = NULL, *r = NULL, *a;
	size_t i;
	int rc;

	for (i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		if (strcmp(roles[i], role) == 0)
			break;
	}
	if (i == sizeof roles / sizeof roles[0])
		return cs_ctl_usage(ctl,
		    "ROLE \"%s\": admin, operator, auditor or enroller", role);
	if (np > 256)
		return cs_ctl_usage(ctl, "--profile: at most 256");
	for (i = 0; i < np; i++) {
		if (profiles[i][0] == '\0')
			return cs_ctl_usage(ctl, "--profile: a profile name");
	}
	cs_buf_init(&path, BUF_MAX);
	rc = role_path(ctl, &path);
	if (rc != CS_CTL_EXIT_OK) {
		cs_buf_close(&path);
		return rc;
	}
	a = json_array();
	for (i = 0; i < np; i++)
		json_array_append_new(a, json_string(profiles[i]));
	body = json_pack("{s:s, s:o}", "role", role, "profiles", a);
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "PUT", (const char *)path.data, body, &r,
	    &raw);
	json_decref(body);
	cs_buf_close(&path);
	return answer(ctl, rc, r, &raw, print_role);
}

static int
run_role_delete(struct cs_ctl *ctl)
{
	struct cs_buf path;

	cs_buf_init(&path, BUF_MAX);
	return delete_at(ctl, role_path(ctl, &path), &path);
}

/* ---- audit ---- */

static void
print_audit(struct cs_ctl *ctl, const json_t *list)
{
	static const char *const head[] = {"INDEX", "TIME", "ACTOR", "COMMAND",
	    "RESULT", "CHAIN HASH"};
	const json_t *items = json_object_get(list, "items");
	struct cs_ctl_out_table *t = cs_ctl_out_table_new(6, head);

	for (size_t i = 0; json_is_array(items) && i < json_array_size(items);
	     i++) {
		const json_t *a = json_array_get(items, i);
		char hash[CS_CTL_OUT_SHORT_FP_SIZE];

		cs_ctl_out_short_fp(cs_ctl_jstr(a, "chain_hash"), hash);
		cs_ctl_out_table_cellf(t, "%lld", cs_ctl_jint(a, "index"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(a, "time"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(a, "actor"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(a, "command"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(a, "result"));
		cs_ctl_out_table_cell(t, hash);
	}
	cs_ctl_out_table_print(t, ctl->out);
	cs_ctl_out_table_free(t);
}

static int
run_audit(struct cs_ctl *ctl)
{
	const char *from = cs_ctl_opt(ctl, "from");
	const char *limit = cs_ctl_opt(ctl, "limit");
	bool all = cs_ctl_flag(ctl, "all");
	json_t *doc = NULL;
	struct cs_buf q;
	uint64_t n;
	int rc = CS_CTL_EXIT_OK;

	cs_buf_init(&q, BUF_MAX);
	if (from != NULL)
		rc = cs_ctl_check_uint(ctl, "--from", from, 0, INT64_MAX, &n);
	if (rc == CS_CTL_EXIT_OK && limit != NULL)
		rc = cs_ctl_check_uint(ctl, "--limit", limit, 1, 1000, &n);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	if (limit != NULL || all)
		cs_ctl_http_query_add(&q, "limit",
		    limit != NULL ? limit : "1000");
	/* the audit log's cursor is the next index: it goes in from= */
	rc = cs_ctl_list(ctl, "/v1/audit",
	    q.len > 0 ? (const char *)q.data : NULL, "from", from, all, &doc);
	if (rc == CS_CTL_EXIT_OK && ctl->json) {
		cs_ctl_print_json(ctl, doc);
	} else if (rc == CS_CTL_EXIT_OK) {
		print_audit(ctl, doc);
		cs_ctl_print_more(ctl, doc, "--from");
	}
out:
	json_decref(doc);
	cs_buf_close(&q);
	return rc;
}

/* 200 intact, 409 broken: a broken chain is this command's finding,
 * reported with what the server found, exit status 1. */
static int
run_audit_verify(struct cs_ctl *ctl)
{
	struct cs_ctl_http_req req = {.method = "GET",
	    .path = "/v1/audit/verify"};
	struct cs_ctl_http_resp resp;
	json_t *o = NULL;
	int rc;

	cs_ctl_http_resp_init(&resp);
	rc = cs_ctl_call_quiet(ctl, &req, &resp);
	if (rc == CS_CTL_EXIT_OK ||
	    (rc == CS_CTL_EXIT_REFUSED && resp.status == 409 &&
		resp.body.len > 0)) {
		o = json_loadb((const char *)resp.body.data, resp.body.len, 0,
		    NULL);
	}
	if (o == NULL || !json_is_boolean(json_object_get(o, "intact"))) {
		if (resp.status >= 400) {
			rc = cs_ctl_report(ctl, &resp); /* some other refusal */
		} else if (rc == CS_CTL_EXIT_OK) {
			fprintf(stderr, "certctl: GET /v1/audit/verify: the "
					"answer has no \"intact\"\n");
			rc = CS_CTL_EXIT_REFUSED;
		}
		goto out;
	}
	if (ctl->json)
		cs_ctl_print_raw(ctl, &resp);
	if (cs_ctl_jbool(o, "intact")) {
		if (!ctl->json)
			fprintf(ctl->out,
			    "audit chain intact: %lld entries, head %s\n",
			    cs_ctl_jint(o, "entries"),
			    or_dash(cs_ctl_jstr(o, "head")));
		rc = CS_CTL_EXIT_OK;
	} else {
		fprintf(stderr,
		    "certctl: %ld %s: the audit chain is broken at position "
		    "%lld of %lld entries\n",
		    resp.status, resp.reason,
		    cs_ctl_jint(o, "first_bad_position"),
		    cs_ctl_jint(o, "entries"));
		rc = CS_CTL_EXIT_REFUSED;
	}
out:
	json_decref(o);
	cs_ctl_http_resp_close(&resp);
	return rc;
}

/* ---- the table ---- */

static const struct cs_ctl_opt compromise_opts[] = {
    {"reason", 0, "R", false, "RFC 5280 reason (default keyCompromise)"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt destroy_opts[] = {
    {"location", 0, "L", false,
	"where the key was: device, hsm, software or unknown"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt role_put_opts[] = {
    {"profile", 0, "P", true, "a profile an enroller may issue under"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt audit_opts[] = {
    {"from", 0, "INDEX", false, "start at this log index"},
    {"limit", 0, "N", false, "entries per page (1..1000)"},
    {"all", 0, NULL, false, "every entry to the end"},
    {NULL, 0, NULL, false, NULL},
};

const struct cs_ctl_command cs_ctl_admin_commands[] = {
    {"key show", "KEYID",
	"a key (SHA-256 of its public key) and its certificates", NULL, 1, 1,
	run_key_show},
    {"key compromise", "KEYID [--reason R]",
	"mark a key compromised; revokes every certificate using it",
	compromise_opts, 1, 1, run_key_compromise},
    {"key destroy", "KEYID [--location L]",
	"record that the private key no longer exists (final)", destroy_opts, 1,
	1, run_key_destroy},
    {"profile list", "", "issuance profiles", NULL, 0, 0, run_profile_list},
    {"profile show", "NAME", "one profile", NULL, 1, 1, run_profile_show},
    {"profile put", "NAME FILE.json", "create or replace a profile", NULL, 2, 2,
	run_profile_put},
    {"profile delete", "NAME", "delete a profile", NULL, 1, 1,
	run_profile_delete},
    {"role list", "", "role bindings (and the configured admin)", NULL, 0, 0,
	run_role_list},
    {"role show", "IDENTITY", "one role binding", NULL, 1, 1, run_role_show},
    {"role put", "IDENTITY ROLE [--profile P]...",
	"bind an identity to admin, operator, auditor or enroller",
	role_put_opts, 2, 2, run_role_put},
    {"role delete", "IDENTITY", "delete a role binding", NULL, 1, 1,
	run_role_delete},
    {"audit", "[--from INDEX] [--all]", "the audit log", audit_opts, 0, 0,
	run_audit},
    {"audit verify", "", "recompute the audit hash chain", NULL, 0, 0,
	run_audit_verify},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};
