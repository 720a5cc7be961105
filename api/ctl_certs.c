/*
 * ctl_certs.c - certctl search, show, set, revoke, unhold, revoke-bulk,
 * expiring, rotation-due (ctl_certs.h).
 */
#include "api/ctl_certs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctl_out.h"
#include "cert/cmd.h"
#include "cert/serial.h"
#include "cert/store.h"
#include "lib/buf.h"
#include "lib/error.h"

#define MAX_TAGS    CS_CMD_MAX_TAGS /* the server's caps */
#define MAX_STR     CS_CMD_MAX_STR
#define LIST_MAX    1000 /* ?limit= */
#define BUF_MAX     (1u << 20)
#define FIELD_WIDTH 12

/* "/v1/certs/<fp><suffix>" into out. */
static void
cert_path(char *out, size_t size, const char *fp, const char *suffix)
{
	snprintf(out, size, "/v1/certs/%s%s", fp, suffix);
}

/* ---- printing ---- */

static const char *
or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

void
cs_ctl_certs_print(struct cs_ctl *ctl, const json_t *c)
{
	const json_t *rev = json_object_get(c, "revocation");
	struct cs_buf b;
	FILE *f = ctl->out;

	cs_buf_init(&b, BUF_MAX);
	cs_ctl_out_field(f, FIELD_WIDTH, "fingerprint", "%s",
	    or_dash(cs_ctl_jstr(c, "fingerprint")));
	cs_ctl_out_field(f, FIELD_WIDTH, "subject", "%s",
	    or_dash(cs_ctl_jstr(c, "subject")));
	cs_ctl_out_field(f, FIELD_WIDTH, "issuer", "%s",
	    or_dash(cs_ctl_jstr(c, "issuer")));
	cs_ctl_out_field(f, FIELD_WIDTH, "serial", "%s",
	    or_dash(cs_ctl_jstr(c, "serial")));
	cs_ctl_jnames(c, &b);
	cs_ctl_out_field(f, FIELD_WIDTH, "names", "%s",
	    or_dash((const char *)b.data));
	cs_ctl_out_field(f, FIELD_WIDTH, "not before", "%s",
	    or_dash(cs_ctl_jstr(c, "not_before")));
	cs_ctl_out_field(f, FIELD_WIDTH, "not after", "%s",
	    or_dash(cs_ctl_jstr(c, "not_after")));
	cs_ctl_out_field(f, FIELD_WIDTH, "key", "%s %lld, id %s",
	    or_dash(cs_ctl_jstr(c, "key_type")), cs_ctl_jint(c, "key_bits"),
	    or_dash(cs_ctl_jstr(c, "key_id")));
	cs_ctl_out_field(f, FIELD_WIDTH, "ca", "%s",
	    cs_ctl_jbool(c, "ca") ? "yes" : "no");
	if (json_is_object(rev)) {
		const char *inv = cs_ctl_jstr(rev, "invalidity_date");

		cs_ctl_out_field(f, FIELD_WIDTH, "status", "%s: %s at %s%s%s",
		    or_dash(cs_ctl_jstr(c, "status")),
		    or_dash(cs_ctl_jstr(rev, "reason")),
		    or_dash(cs_ctl_jstr(rev, "time")),
		    inv != NULL ? ", invalid since " : "",
		    inv != NULL ? inv : "");
	} else {
		cs_ctl_out_field(f, FIELD_WIDTH, "status", "%s",
		    or_dash(cs_ctl_jstr(c, "status")));
	}
	cs_ctl_out_field(f, FIELD_WIDTH, "source", "%s",
	    or_dash(cs_ctl_jstr(c, "source")));
	cs_ctl_out_field(f, FIELD_WIDTH, "profile", "%s",
	    or_dash(cs_ctl_jstr(c, "profile")));
	cs_ctl_out_field(f, FIELD_WIDTH, "owner", "%s",
	    or_dash(cs_ctl_jstr(c, "owner")));
	cs_ctl_out_field(f, FIELD_WIDTH, "tags", "%s",
	    or_dash(cs_ctl_jjoin(c, "tags", ", ", &b)));
	cs_ctl_out_field(f, FIELD_WIDTH, "log index",
	    "created %lld, updated %lld", cs_ctl_jint(c, "created_index"),
	    cs_ctl_jint(c, "updated_index"));
	if (cs_ctl_jstr(c, "pem") != NULL)
		fprintf(f, "\n%s", cs_ctl_jstr(c, "pem"));
	cs_buf_close(&b);
}

/* Which table a list of certificates gets. */
enum cert_cols {
	COLS_SEARCH,
	COLS_EXPIRING,
	COLS_ROTATION
};

static void
print_cert_table(struct cs_ctl *ctl, const json_t *list, enum cert_cols cols)
{
	static const char *const search[] = {"FINGERPRINT", "SUBJECT", "STATUS",
	    "NOT AFTER", "OWNER", "TAGS"};
	static const char *const expiring[] = {"FINGERPRINT", "SUBJECT",
	    "NOT AFTER", "EXPIRES IN", "OWNER"};
	static const char *const rotation[] = {"FINGERPRINT", "SUBJECT",
	    "PROFILE", "DUE SINCE", "NOT AFTER"};
	const json_t *items = json_object_get(list, "items");
	struct cs_ctl_out_table *t;
	struct cs_buf b;

	if (cols == COLS_SEARCH)
		t = cs_ctl_out_table_new(6, search);
	else if (cols == COLS_EXPIRING)
		t = cs_ctl_out_table_new(5, expiring);
	else
		t = cs_ctl_out_table_new(5, rotation);
	cs_buf_init(&b, BUF_MAX);
	for (size_t i = 0; json_is_array(items) && i < json_array_size(items);
	     i++) {
		const json_t *c = json_array_get(items, i);
		char fp[CS_CTL_OUT_SHORT_FP_SIZE], age[CS_CTL_OUT_AGE_SIZE];
		char when[CS_TIME_TEXT_SIZE];
		const json_t *due;

		cs_ctl_out_short_fp(cs_ctl_jstr(c, "fingerprint"), fp);
		cs_ctl_out_table_cell(t, fp);
		cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "subject"));
		switch (cols) {
		case COLS_SEARCH:
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "status"));
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "not_after"));
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "owner"));
			cs_ctl_out_table_cell(t,
			    cs_ctl_jjoin(c, "tags", ",", &b));
			break;
		case COLS_EXPIRING:
			cs_ctl_out_age(cs_ctl_jint(c, "expires_in_s"), age);
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "not_after"));
			cs_ctl_out_table_cell(t, age);
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "owner"));
			break;
		case COLS_ROTATION:
			/* Unix seconds from the server; text if it ever
			 * sends RFC 3339 like every other time */
			due = json_object_get(c, "rotation_due_since");
			if (json_is_integer(due))
				cs_time_format(json_integer_value(due), when);
			else
				snprintf(when, sizeof when, "%s",
				    or_dash(json_string_value(due)));
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "profile"));
			cs_ctl_out_table_cell(t, when);
			cs_ctl_out_table_cell(t, cs_ctl_jstr(c, "not_after"));
			break;
		}
	}
	cs_ctl_out_table_print(t, ctl->out);
	cs_ctl_out_table_free(t);
	cs_buf_close(&b);
}

/* ---- lists ---- */

/* --limit, --cursor, --all: the page size into q, the rest to list(). */
static int
paging(struct cs_ctl *ctl, struct cs_buf *q)
{
	const char *limit = cs_ctl_opt(ctl, "limit");
	uint64_t n;
	int rc;

	if (limit != NULL) {
		rc = cs_ctl_check_uint(ctl, "--limit", limit, 1, LIST_MAX, &n);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
		cs_ctl_http_query_add(q, "limit", limit);
	} else if (cs_ctl_flag(ctl, "all")) {
		/* fewest round trips */
		cs_ctl_http_query_add(q, "limit", "1000");
	}
	if (cs_ctl_opt(ctl, "cursor") != NULL &&
	    cs_ctl_opt(ctl, "cursor")[0] == '\0')
		return cs_ctl_usage(ctl, "--cursor: the next_cursor of a page");
	return CS_CTL_EXIT_OK;
}

static int
list(struct cs_ctl *ctl, const char *path, struct cs_buf *q,
    enum cert_cols cols)
{
	json_t *doc = NULL;
	bool all = cs_ctl_flag(ctl, "all");
	int rc;

	rc = cs_ctl_list(ctl, path, q->len > 0 ? (const char *)q->data : NULL,
	    "cursor", cs_ctl_opt(ctl, "cursor"), all, &doc);
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json) {
			cs_ctl_print_json(ctl, doc);
		} else {
			print_cert_table(ctl, doc, cols);
			cs_ctl_print_more(ctl, doc, "--cursor");
		}
	}
	json_decref(doc);
	return rc;
}

/* A text filter: given means non-empty. */
static int
text_filter(struct cs_ctl *ctl, struct cs_buf *q, const char *opt,
    const char *param)
{
	const char *v = cs_ctl_opt(ctl, opt);

	if (v == NULL)
		return CS_CTL_EXIT_OK;
	if (v[0] == '\0' || strlen(v) > MAX_STR)
		return cs_ctl_usage(ctl, "--%s: a text of 1 to %d bytes", opt,
		    MAX_STR);
	cs_ctl_http_query_add(q, param, v);
	return CS_CTL_EXIT_OK;
}

static int
search_query(struct cs_ctl *ctl, struct cs_buf *q)
{
	static const char *const text[][2] = {{"subject", "subject"},
	    {"san", "san"}, {"issuer", "issuer"}, {"owner", "owner"},
	    {"tag", "tag"}, {"profile", "profile"}};
	const char *v;
	char norm[CS_TIME_TEXT_SIZE > 65 ? CS_TIME_TEXT_SIZE : 65];
	int rc;

	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
		rc = text_filter(ctl, q, text[i][0], text[i][1]);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
	}
	v = cs_ctl_opt(ctl, "status");
	if (v != NULL) {
		enum cs_cert_status st;

		if (cs_status_parse(v, &st) < 0)
			return cs_ctl_usage(ctl,
			    "--status \"%s\": valid, revoked or expired", v);
		cs_ctl_http_query_add(q, "status", v);
	}
	v = cs_ctl_opt(ctl, "source");
	if (v != NULL) {
		enum cs_cert_source src;

		if (cs_source_parse(v, &src) < 0)
			return cs_ctl_usage(ctl,
			    "--source \"%s\": imported, issued, discovered, "
			    "acme, est or scep",
			    v);
		cs_ctl_http_query_add(q, "source", v);
	}
	v = cs_ctl_opt(ctl, "key-id");
	if (v != NULL) {
		rc = cs_ctl_check_sha256(ctl, "--key-id", v, norm);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
		cs_ctl_http_query_add(q, "key_id", norm);
	}
	v = cs_ctl_opt(ctl, "serial");
	if (v != NULL) {
		struct cs_serial sn;
		char text_sn[CS_SERIAL_TEXT_SIZE];

		if (cs_serial_parse(v, &sn) < 0)
			return cs_ctl_usage(ctl,
			    "--serial \"%s\": a serial number in hexadecimal",
			    v);
		cs_serial_format(&sn, text_sn);
		cs_ctl_http_query_add(q, "serial", text_sn);
	}
	v = cs_ctl_opt(ctl, "expires-before");
	if (v != NULL) {
		rc = cs_ctl_check_time(ctl, "--expires-before", v, norm);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
		cs_ctl_http_query_add(q, "expires_before", norm);
	}
	v = cs_ctl_opt(ctl, "expires-after");
	if (v != NULL) {
		rc = cs_ctl_check_time(ctl, "--expires-after", v, norm);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
		cs_ctl_http_query_add(q, "expires_after", norm);
	}
	return paging(ctl, q);
}

static int
run_search(struct cs_ctl *ctl)
{
	struct cs_buf q;
	int rc;

	cs_buf_init(&q, BUF_MAX);
	rc = search_query(ctl, &q);
	if (rc == CS_CTL_EXIT_OK)
		rc = list(ctl, "/v1/certs", &q, COLS_SEARCH);
	cs_buf_close(&q);
	return rc;
}

static int
run_expiring(struct cs_ctl *ctl)
{
	const char *within = cs_ctl_opt(ctl, "within");
	char norm[24];
	struct cs_buf q;
	int rc = CS_CTL_EXIT_OK;

	cs_buf_init(&q, BUF_MAX);
	if (within != NULL) {
		rc = cs_ctl_check_duration(ctl, "--within", within, norm, NULL);
		if (rc == CS_CTL_EXIT_OK)
			cs_ctl_http_query_add(&q, "within", norm);
	}
	if (rc == CS_CTL_EXIT_OK)
		rc = paging(ctl, &q);
	if (rc == CS_CTL_EXIT_OK)
		rc = list(ctl, "/v1/expiring", &q, COLS_EXPIRING);
	cs_buf_close(&q);
	return rc;
}

static int
run_rotation_due(struct cs_ctl *ctl)
{
	struct cs_buf q;
	int rc;

	cs_buf_init(&q, BUF_MAX);
	rc = text_filter(ctl, &q, "profile", "profile");
	if (rc == CS_CTL_EXIT_OK)
		rc = paging(ctl, &q);
	if (rc == CS_CTL_EXIT_OK)
		rc = list(ctl, "/v1/rotation-due", &q, COLS_ROTATION);
	cs_buf_close(&q);
	return rc;
}

/* ---- one certificate ---- */

/* Prints a certificate answer: as is with --json, else as fields. */
static int
show_answer(struct cs_ctl *ctl, int rc, json_t *c, struct cs_ctl_http_resp *raw)
{
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json)
			cs_ctl_print_raw(ctl, raw);
		else
			cs_ctl_certs_print(ctl, c);
	}
	json_decref(c);
	cs_ctl_http_resp_close(raw);
	return rc;
}

static int
run_show(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *c = NULL;
	char fp[65], path[128];
	int rc;

	rc = cs_ctl_check_sha256(ctl, "FP", cs_ctl_arg(ctl, 0), fp);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	cert_path(path, sizeof path, fp, "");
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, path,
	    cs_ctl_flag(ctl, "pem") ? "pem=1" : NULL, &c, &raw);
	return show_answer(ctl, rc, c, &raw);
}

static int
run_set(struct cs_ctl *ctl)
{
	const char *owner = cs_ctl_opt(ctl, "owner");
	const char *tags[MAX_TAGS];
	size_t ntags = cs_ctl_args_all(ctl->args, "tag", tags, MAX_TAGS);
	bool no_owner = cs_ctl_flag(ctl, "no-owner");
	bool no_tags = cs_ctl_flag(ctl, "no-tags");
	struct cs_ctl_http_resp raw;
	json_t *body = NULL, *c = NULL;
	char fp[65], path[128];
	int rc;

	rc = cs_ctl_check_sha256(ctl, "FP", cs_ctl_arg(ctl, 0), fp);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	if (owner != NULL && no_owner)
		return cs_ctl_usage(ctl, "--owner and --no-owner disagree");
	if (ntags > 0 && no_tags)
		return cs_ctl_usage(ctl, "--tag and --no-tags disagree");
	if (owner == NULL && !no_owner && ntags == 0 && !no_tags)
		return cs_ctl_usage(ctl,
		    "nothing to change: give --owner, --no-owner, --tag or "
		    "--no-tags");
	if (owner != NULL && (owner[0] == '\0' || strlen(owner) > MAX_STR))
		return cs_ctl_usage(ctl,
		    "--owner: a text of 1 to %d bytes (--no-owner clears it)",
		    MAX_STR);
	if (ntags > MAX_TAGS)
		return cs_ctl_usage(ctl, "--tag: at most %d tags", MAX_TAGS);
	body = json_object();
	if (owner != NULL || no_owner)
		json_object_set_new(body, "owner",
		    owner != NULL ? json_string(owner) : json_null());
	if (ntags > 0 || no_tags) {
		json_t *a = json_array();

		for (size_t i = 0; i < ntags; i++) {
			if (tags[i][0] == '\0' || strlen(tags[i]) > MAX_STR) {
				json_decref(a);
				json_decref(body);
				return cs_ctl_usage(ctl,
				    "--tag: a text of 1 to %d bytes", MAX_STR);
			}
			json_array_append_new(a, json_string(tags[i]));
		}
		json_object_set_new(body, "tags", a);
	}
	cert_path(path, sizeof path, fp, "");
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "PATCH", path, body, &c, &raw);
	json_decref(body);
	return show_answer(ctl, rc, c, &raw);
}

/* POST /v1/certs/{fp}/revoke with reason and invalidity date; unhold
 * is the same call with removeFromCRL. */
static int
revoke(struct cs_ctl *ctl, const char *reason, const char *invalidity,
    bool unhold)
{
	struct cs_ctl_http_resp raw;
	json_t *body = json_object(), *c = NULL;
	char fp[65], path[128], when[CS_TIME_TEXT_SIZE];
	int rc;

	rc = cs_ctl_check_sha256(ctl, "FP", cs_ctl_arg(ctl, 0), fp);
	if (rc == CS_CTL_EXIT_OK && invalidity != NULL) {
		rc = cs_ctl_check_time(ctl, "--invalidity-date", invalidity,
		    when);
		json_object_set_new(body, "invalidity_date", json_string(when));
	}
	if (rc == CS_CTL_EXIT_OK && reason != NULL) {
		rc = cs_ctl_check_reason(ctl, reason, unhold);
		json_object_set_new(body, "reason", json_string(reason));
	}
	if (rc != CS_CTL_EXIT_OK) {
		json_decref(body);
		return rc;
	}
	cert_path(path, sizeof path, fp, "/revoke");
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "POST", path, body, &c, &raw);
	json_decref(body);
	if (rc == CS_CTL_EXIT_OK && !ctl->json) {
		const json_t *rev = json_object_get(c, "revocation");

		if (json_is_object(rev))
			fprintf(ctl->out, "%s: revoked (%s) at %s\n", fp,
			    or_dash(cs_ctl_jstr(rev, "reason")),
			    or_dash(cs_ctl_jstr(rev, "time")));
		else
			fprintf(ctl->out, "%s: hold lifted, status %s\n", fp,
			    or_dash(cs_ctl_jstr(c, "status")));
		json_decref(c);
		cs_ctl_http_resp_close(&raw);
		return rc;
	}
	return show_answer(ctl, rc, c, &raw);
}

static int
run_revoke(struct cs_ctl *ctl)
{
	return revoke(ctl, cs_ctl_opt(ctl, "reason"),
	    cs_ctl_opt(ctl, "invalidity-date"), false);
}

static int
run_unhold(struct cs_ctl *ctl)
{
	return revoke(ctl, "removeFromCRL", NULL, true);
}

static int
run_revoke_bulk(struct cs_ctl *ctl)
{
	static const char *const sel[] = {"owner", "tag", "issuer"};
	const char *reason = cs_ctl_opt(ctl, "reason");
	struct cs_ctl_http_resp raw;
	json_t *body = NULL, *o = NULL;
	const char *which = NULL;
	int rc;

	for (size_t i = 0; i < 3; i++) {
		const char *v = cs_ctl_opt(ctl, sel[i]);

		if (v == NULL)
			continue;
		if (which != NULL)
			return cs_ctl_usage(ctl,
			    "give one of --owner, --tag or --issuer, not "
			    "--%s and --%s",
			    which, sel[i]);
		if (v[0] == '\0' || strlen(v) > MAX_STR)
			return cs_ctl_usage(ctl,
			    "--%s: a text of 1 to %d bytes", sel[i], MAX_STR);
		which = sel[i];
	}
	if (which == NULL)
		return cs_ctl_usage(ctl,
		    "which certificates: give --owner, --tag or --issuer");
	if (reason != NULL) {
		rc = cs_ctl_check_reason(ctl, reason, false);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
	}
	body = json_pack("{s:s}", which, cs_ctl_opt(ctl, which));
	if (reason != NULL)
		json_object_set_new(body, "reason", json_string(reason));
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "POST", "/v1/revocations", body, &o, &raw);
	json_decref(body);
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json)
			cs_ctl_print_raw(ctl, &raw);
		else
			fprintf(ctl->out,
			    "revoked %lld certificate%s (log index %lld)\n",
			    cs_ctl_jint(o, "revoked"),
			    cs_ctl_jint(o, "revoked") == 1 ? "" : "s",
			    cs_ctl_jint(o, "index"));
	}
	json_decref(o);
	cs_ctl_http_resp_close(&raw);
	return rc;
}

/* ---- the table ---- */

static const struct cs_ctl_opt search_opts[] = {
    {"subject", 0, "S", false, "subject, RFC 4514 (CN=a,O=b)"},
    {"san", 0, "N", false, "any subject alternative name (no case)"},
    {"issuer", 0, "I", false, "issuer, RFC 4514"},
    {"owner", 0, "O", false, "owner"},
    {"tag", 0, "T", false, "tag"},
    {"status", 0, "ST", false, "valid, revoked or expired"},
    {"profile", 0, "P", false, "issued under profile P"},
    {"source", 0, "SRC", false, "imported, issued, discovered, acme, est"},
    {"key-id", 0, "K", false, "SHA-256 of the public key (64 hex)"},
    {"serial", 0, "X", false, "serial number (hex)"},
    {"expires-before", 0, "T", false, "not after before T (RFC 3339)"},
    {"expires-after", 0, "T", false, "not after after T (RFC 3339)"},
    {"limit", 0, "N", false, "certificates per page (1..1000)"},
    {"cursor", 0, "C", false, "start at this page (a next_cursor)"},
    {"all", 0, NULL, false, "every page, following next_cursor"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt show_opts[] = {
    {"pem", 0, NULL, false, "include the certificate in PEM"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt set_opts[] = {
    {"owner", 0, "O", false, "set the owner"},
    {"no-owner", 0, NULL, false, "clear the owner"},
    {"tag", 0, "T", true, "set the tags to these"},
    {"no-tags", 0, NULL, false, "clear the tags"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt revoke_opts[] = {
    {"reason", 0, "R", false,
	"RFC 5280 reason: keyCompromise, superseded, certificateHold, ... "
	"(default unspecified)"},
    {"invalidity-date", 0, "T", false,
	"when the key is believed compromised (RFC 3339)"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt bulk_opts[] = {
    {"owner", 0, "O", false, "every valid certificate of this owner"},
    {"tag", 0, "T", false, "every valid certificate with this tag"},
    {"issuer", 0, "I", false, "every valid certificate of this issuer"},
    {"reason", 0, "R", false, "RFC 5280 reason (default unspecified)"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt expiring_opts[] = {
    {"within", 0, "D", false, "the window: 30d (default), 12h, 90m, 2w"},
    {"limit", 0, "N", false, "certificates per page (1..1000)"},
    {"cursor", 0, "C", false, "start at this page (a next_cursor)"},
    {"all", 0, NULL, false, "every page, following next_cursor"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt rotation_opts[] = {
    {"profile", 0, "P", false, "only this profile"},
    {"limit", 0, "N", false, "certificates per page (1..1000)"},
    {"cursor", 0, "C", false, "start at this page (a next_cursor)"},
    {"all", 0, NULL, false, "every page, following next_cursor"},
    {NULL, 0, NULL, false, NULL},
};

const struct cs_ctl_command cs_ctl_certs_commands[] = {
    {"search",
	"[--subject S] [--san N] [--issuer I] [--owner O] [--tag T] "
	"[--status ST] [--profile P] [--source SRC] [--key-id K] "
	"[--serial X] [--expires-before T] [--expires-after T] [--limit N] "
	"[--all]",
	"find certificates (every filter must match)", search_opts, 0, 0,
	run_search},
    {"show", "FP [--pem]", "one certificate, by SHA-256 fingerprint", show_opts,
	1, 1, run_show},
    {"set", "FP [--owner O|--no-owner] [--tag T]... [--no-tags]",
	"change a certificate's owner or tags", set_opts, 1, 1, run_set},
    {"revoke", "FP [--reason R] [--invalidity-date T]", "revoke a certificate",
	revoke_opts, 1, 1, run_revoke},
    {"unhold", "FP", "lift a certificateHold (removeFromCRL)", NULL, 1, 1,
	run_unhold},
    {"revoke-bulk", "(--owner O|--tag T|--issuer I) [--reason R]",
	"revoke every valid certificate that matches, at once", bulk_opts, 0, 0,
	run_revoke_bulk},
    {"expiring", "[--within 30d]",
	"valid certificates expiring within a window, soonest first",
	expiring_opts, 0, 0, run_expiring},
    {"rotation-due", "[--profile P]",
	"valid certificates older than their profile's rotate_after",
	rotation_opts, 0, 0, run_rotation_due},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};
