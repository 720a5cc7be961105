/*
 * ctl_status.c - certctl crl and ocsp (ctl_status.h).
 *
 * The public objects come from the node's plain-HTTP URL (NODE<N>_HTTP,
 * --http-url), through a second HTTP handle; without one, from the API
 * URL, which serves them too. The issuer's certificate that verifies a
 * CRL or an OCSP response comes from the same node (/ca/NAME.crt) unless
 * the user gives it: certctl then checks what the node says against
 * what the user trusts.
 */
#include "api/ctl_status.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/ctl_file.h"
#include "api/ctl_out.h"
#include "cert/cmd.h"
#include "cert/store.h"
#include "cert/x509.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"

#define BUF_MAX     (1u << 20)
#define PEM_MAX     (256 * 1024)
#define MAX_STR     CS_CMD_MAX_STR
#define FIELD_WIDTH 12
#define SKEW        300 /* seconds of clock difference tolerated */

static const char *
or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* ---- the plain-HTTP side ---- */

/* A view of ctl that talks to the plain-HTTP URL: *own is the handle to
 * free (NULL when the API URL serves). */
static int
public_open(struct cs_ctl *ctl, struct cs_ctl *view, struct cs_ctl_http **own)
{
	struct cs_ctl_http_config cfg = {0};
	char err[CS_ERRMSG_SIZE] = "";

	*view = *ctl;
	view->consistent = false; /* not a query these routes know */
	*own = NULL;
	if (ctl->http_url == NULL)
		return CS_CTL_EXIT_OK;
	cfg.url = ctl->http_url;
	cfg.cacert = ctl->cacert; /* for an https:// public listener */
	if (cs_ctl_http_new(&cfg, own, err) < 0) {
		fprintf(stderr, "certctl: %s\n", err);
		return CS_CTL_EXIT_UNREACHABLE;
	}
	view->http = *own;
	view->url = ctl->http_url;
	return CS_CTL_EXIT_OK;
}

static int
get(struct cs_ctl *view, const char *path, struct cs_ctl_http_resp *resp)
{
	struct cs_ctl_http_req req = {.method = "GET", .path = path};

	return cs_ctl_call(view, &req, resp);
}

/* GET /ca/<name>.crt: the issuer's certificate as this node serves it. */
static int
get_ca(struct cs_ctl *view, const char *name, X509 **out)
{
	struct cs_ctl_http_resp resp;
	const unsigned char *p;
	struct cs_buf path;
	int rc;

	cs_buf_init(&path, BUF_MAX);
	cs_ctl_http_resp_init(&resp);
	cs_buf_append_str(&path, "/ca/");
	cs_ctl_http_pct_encode(&path, name);
	cs_buf_append_str(&path, ".crt");
	rc = get(view, (const char *)path.data, &resp);
	if (rc == CS_CTL_EXIT_OK) {
		p = resp.body.data;
		*out = d2i_X509(NULL, &p, (long)resp.body.len);
		ERR_clear_error();
		if (*out == NULL) {
			fprintf(stderr,
			    "certctl: GET %s: the answer is not a "
			    "certificate\n",
			    (const char *)path.data);
			rc = CS_CTL_EXIT_REFUSED;
		}
	}
	cs_ctl_http_resp_close(&resp);
	cs_buf_close(&path);
	return rc;
}

/* ---- OpenSSL values into text ---- */

static int64_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return cs_time_from_utc(tm.tm_year + 1900LL, (unsigned)tm.tm_mon + 1,
	    (unsigned)tm.tm_mday, (unsigned)tm.tm_hour, (unsigned)tm.tm_min,
	    (unsigned)tm.tm_sec);
}

static void
time_text(const ASN1_TIME *t, char out[CS_TIME_TEXT_SIZE])
{
	if (t == NULL)
		snprintf(out, CS_TIME_TEXT_SIZE, "-");
	else
		cs_time_format(asn1_time(t), out);
}

/* An INTEGER as the API writes serials (lower-case hex, no leading
 * zeros) or in decimal (CRL numbers). Returns new. */
static char *
integer_text(const ASN1_INTEGER *i, bool hex)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(i, NULL);
	char *s = NULL, *copy;

	if (bn != NULL)
		s = hex ? BN_bn2hex(bn) : BN_bn2dec(bn);
	BN_free(bn);
	if (s == NULL)
		return cs_strdup("?");
	copy = cs_strdup(s);
	OPENSSL_free(s);
	for (char *p = copy; hex && *p != '\0'; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	return copy;
}

static const char *
reason_text(int code)
{
	const char *s = code >= 0 && code < CS_REASON__MAX
			    ? cs_reason_name((enum cs_reason)code)
			    : NULL;

	return s != NULL ? s : "unspecified";
}

/* ---- crl ---- */

static json_t *
crl_entries(const X509_CRL *crl, struct cs_ctl_out_table *t)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED((X509_CRL *)crl);
	json_t *a = json_array();

	for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, i);
		ASN1_ENUMERATED *e =
		    X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		char *serial =
		    integer_text(X509_REVOKED_get0_serialNumber(r), true);
		char when[CS_TIME_TEXT_SIZE];
		const char *why =
		    reason_text(e != NULL ? (int)ASN1_ENUMERATED_get(e) : 0);

		time_text(X509_REVOKED_get0_revocationDate(r), when);
		if (t != NULL) {
			cs_ctl_out_table_cell(t, serial);
			cs_ctl_out_table_cell(t, when);
			cs_ctl_out_table_cell(t, why);
		}
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:s}", "serial", serial, "revoked",
			when, "reason", why));
		free(serial);
		ASN1_ENUMERATED_free(e);
	}
	ERR_clear_error();
	return a;
}

static void
print_crl(struct cs_ctl *ctl, const char *name, const char *subject,
    const X509_CRL *crl, bool delta)
{
	static const char *const head[] = {"SERIAL", "REVOKED", "REASON"};
	ASN1_INTEGER *num =
	    X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	ASN1_INTEGER *base =
	    X509_CRL_get_ext_d2i(crl, NID_delta_crl, NULL, NULL);
	char *number = num != NULL ? integer_text(num, false) : NULL;
	char *base_number = base != NULL ? integer_text(base, false) : NULL;
	char this_update[CS_TIME_TEXT_SIZE], next_update[CS_TIME_TEXT_SIZE];
	struct cs_ctl_out_table *t = NULL;
	FILE *f = ctl->out;
	json_t *entries;

	ERR_clear_error();
	time_text(X509_CRL_get0_lastUpdate(crl), this_update);
	time_text(X509_CRL_get0_nextUpdate(crl), next_update);
	if (!ctl->json)
		t = cs_ctl_out_table_new(3, head);
	entries = crl_entries(crl, t);
	if (ctl->json) {
		json_t *o = json_pack("{s:s, s:s, s:b, s:s?, s:s?, s:s, s:s, "
				      "s:s, s:I, s:o}",
		    "issuer", name, "issuer_subject", subject, "delta", delta,
		    "number", number, "base_number", base_number, "this_update",
		    this_update, "next_update", next_update, "signature",
		    "verified", "count", (json_int_t)json_array_size(entries),
		    "entries", entries);

		cs_ctl_print_json(ctl, o);
		json_decref(o);
	} else {
		cs_ctl_out_field(f, FIELD_WIDTH, "issuer", "%s (%s)", name,
		    subject);
		if (delta)
			cs_ctl_out_field(f, FIELD_WIDTH, "kind",
			    "delta CRL on full CRL %s", or_dash(base_number));
		else
			cs_ctl_out_field(f, FIELD_WIDTH, "kind", "full CRL");
		cs_ctl_out_field(f, FIELD_WIDTH, "number", "%s",
		    or_dash(number));
		cs_ctl_out_field(f, FIELD_WIDTH, "this update", "%s",
		    this_update);
		cs_ctl_out_field(f, FIELD_WIDTH, "next update", "%s",
		    next_update);
		cs_ctl_out_field(f, FIELD_WIDTH, "signature",
		    "verified with the certificate of %s", name);
		cs_ctl_out_field(f, FIELD_WIDTH, "entries", "%zu",
		    json_array_size(entries));
		if (json_array_size(entries) > 0) {
			fputc('\n', f);
			cs_ctl_out_table_print(t, f);
		}
		json_decref(entries);
	}
	cs_ctl_out_table_free(t);
	ASN1_INTEGER_free(num);
	ASN1_INTEGER_free(base);
	free(number);
	free(base_number);
}

/* Checks a CRL against its issuer's certificate: the right issuer, a
 * good signature, the kind asked for. */
static int
crl_check(const char *path, const X509_CRL *crl, X509 *ca, bool delta)
{
	ASN1_INTEGER *base;
	const char *why = NULL;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
		X509_get_subject_name(ca)) != 0)
		why = "it names another issuer";
	else if (X509_CRL_verify((X509_CRL *)crl, X509_get0_pubkey(ca)) != 1)
		why = "its signature does not verify with the issuer's "
		      "certificate";
	if (why == NULL) {
		base = X509_CRL_get_ext_d2i(crl, NID_delta_crl, NULL, NULL);
		if ((base != NULL) != delta)
			why = delta ? "it is not a delta CRL"
				    : "it is a delta CRL";
		ASN1_INTEGER_free(base);
	}
	ERR_clear_error();
	if (why != NULL) {
		fprintf(stderr, "certctl: GET %s: %s\n", path, why);
		return CS_CTL_EXIT_REFUSED;
	}
	return CS_CTL_EXIT_OK;
}

static int
run_crl(struct cs_ctl *ctl)
{
	const char *name = cs_ctl_arg(ctl, 0);
	const char *out = cs_ctl_opt(ctl, "out");
	bool delta = cs_ctl_flag(ctl, "delta");
	struct cs_ctl_http *own = NULL;
	struct cs_ctl_http_resp resp;
	struct cs_ctl_file_out fo = {0};
	struct cs_cert_info *ci = NULL;
	char err[CS_ERRMSG_SIZE] = "";
	struct cs_ctl view;
	struct cs_buf path;
	X509_CRL *crl = NULL;
	X509 *ca = NULL;
	const unsigned char *p;
	int rc;

	if (name[0] == '\0' || strlen(name) > MAX_STR)
		return cs_ctl_usage(ctl, "ISSUER: an issuer's name");
	if (out != NULL && cs_ctl_file_out_open(&fo, out, err) < 0)
		return cs_ctl_usage(ctl, "--out: %s", err);
	if (out != NULL && fo.f != stdout)
		(void)fchmod(fileno(fo.f), 0644);
	cs_buf_init(&path, BUF_MAX);
	cs_ctl_http_resp_init(&resp);
	rc = public_open(ctl, &view, &own);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	cs_buf_append_str(&path, "/crl/");
	cs_ctl_http_pct_encode(&path, name);
	cs_buf_append_str(&path, delta ? "-delta.crl" : ".crl");
	rc = get(&view, (const char *)path.data, &resp);
	if (rc == CS_CTL_EXIT_OK)
		rc = get_ca(&view, name, &ca);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	p = resp.body.data;
	crl = d2i_X509_CRL(NULL, &p, (long)resp.body.len);
	ERR_clear_error();
	if (crl == NULL || p != resp.body.data + resp.body.len) {
		fprintf(stderr, "certctl: GET %s: the answer is not a CRL\n",
		    (const char *)path.data);
		rc = CS_CTL_EXIT_REFUSED;
		goto out;
	}
	rc = crl_check((const char *)path.data, crl, ca, delta);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	{
		unsigned char *der = NULL;
		int len = i2d_X509(ca, &der);

		if (len > 0)
			(void)cs_x509_parse_der(der, (size_t)len, &ci, NULL);
		OPENSSL_free(der);
	}
	if (out != NULL) {
		fwrite(resp.body.data, 1, resp.body.len, fo.f);
		if (cs_ctl_file_out_commit(&fo, err) < 0) {
			fprintf(stderr, "certctl: %s\n", err);
			rc = CS_CTL_EXIT_USAGE;
			goto out;
		}
	}
	print_crl(ctl, name, ci != NULL ? ci->subject : "?", crl, delta);
out:
	cs_ctl_file_out_abort(&fo);
	cs_cert_info_free(ci);
	X509_CRL_free(crl);
	X509_free(ca);
	cs_ctl_http_resp_close(&resp);
	cs_ctl_http_free(own);
	cs_buf_close(&path);
	return rc;
}

/* ---- ocsp ---- */

/* The first certificate of a PEM or DER file. */
static int
read_cert(struct cs_ctl *ctl, const char *what, const char *file, X509 **out,
    struct cs_cert_info **info)
{
	struct cs_cert_info **certs = NULL;
	char err[CS_ERRMSG_SIZE] = "";
	const unsigned char *p;
	struct cs_buf text;
	size_t n = 0;
	int rc = CS_CTL_EXIT_OK;

	cs_buf_init(&text, PEM_MAX);
	if (cs_ctl_file_read(file, PEM_MAX, &text, err) < 0 ||
	    cs_x509_parse_bundle(text.data, text.len, 64, &certs, &n, err) <
		0) {
		rc = cs_ctl_usage(ctl, "%s%s%s: %s", what, what[0] ? " " : "",
		    file, err);
		goto out;
	}
	p = certs[0]->der;
	*out = d2i_X509(NULL, &p, (long)certs[0]->der_len);
	ERR_clear_error();
	if (*out == NULL) {
		rc = cs_ctl_usage(ctl, "%s %s: OpenSSL cannot read it", what,
		    file);
		goto out;
	}
	if (info != NULL) {
		*info = certs[0];
		certs[0] = NULL;
	}
out:
	cs_cert_info_free_all(certs, n);
	cs_buf_close(&text);
	return rc;
}

/* True when ca issued cert: names, key identifiers and the signature. */
static bool
issued_by(X509 *ca, X509 *cert)
{
	bool ok = X509_check_issued(ca, cert) == X509_V_OK &&
		  X509_verify(cert, X509_get0_pubkey(ca)) == 1;

	ERR_clear_error();
	return ok;
}

/* The issuer of ci as the node serves it: by the name in the
 * certificate's caIssuers URL (".../ca/NAME.crt"), else by the issuer
 * list of the API whose subject is ci's issuer. */
static int
find_issuer(struct cs_ctl *ctl, struct cs_ctl *view,
    const struct cs_cert_info *ci, X509 *cert, X509 **out)
{
	json_t *list = NULL, *items;
	int rc;

	for (size_t i = 0; i < ci->ca_issuers.n; i++) {
		const char *u = strstr(ci->ca_issuers.v[i], "/ca/");
		size_t n = u != NULL ? strlen(u + 4) : 0;
		char name[MAX_STR + 1];
		X509 *ca = NULL;

		if (n <= 4 || n - 4 > MAX_STR ||
		    strcmp(u + 4 + n - 4, ".crt") != 0)
			continue;
		memcpy(name, u + 4, n - 4);
		name[n - 4] = '\0';
		rc = get_ca(view, name, &ca);
		if (rc == CS_CTL_EXIT_OK && issued_by(ca, cert)) {
			*out = ca;
			return CS_CTL_EXIT_OK;
		}
		X509_free(ca);
		if (rc == CS_CTL_EXIT_UNREACHABLE)
			return rc;
	}
	rc = cs_ctl_get_json(ctl, "/v1/issuers", NULL, &list, NULL);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	items = json_object_get(list, "items");
	for (size_t i = 0; json_is_array(items) && i < json_array_size(items);
	     i++) {
		const json_t *is = json_array_get(items, i);
		const char *subject = cs_ctl_jstr(is, "subject");
		const char *name = cs_ctl_jstr(is, "name");
		X509 *ca = NULL;

		if (subject == NULL || name == NULL ||
		    strcmp(subject, ci->issuer) != 0)
			continue;
		rc = get_ca(view, name, &ca);
		if (rc == CS_CTL_EXIT_OK && issued_by(ca, cert)) {
			*out = ca;
			json_decref(list);
			return CS_CTL_EXIT_OK;
		}
		X509_free(ca);
	}
	json_decref(list);
	fprintf(stderr,
	    "certctl: no issuer of the cluster issued %s: give --issuer "
	    "CA.pem\n",
	    ci->subject);
	return CS_CTL_EXIT_REFUSED;
}

/* The responder's name: the URI in its certificate's SAN (certstore's
 * responders are urn:certstore:node:<id>), else its subject. New. */
static char *
responder_text(OCSP_BASICRESP *bs)
{
	X509 *signer = NULL;
	GENERAL_NAMES *gens;
	char *s = NULL;

	if (OCSP_resp_get0_signer(bs, &signer, NULL) != 1 || signer == NULL) {
		ERR_clear_error();
		return cs_strdup("?");
	}
	gens = X509_get_ext_d2i(signer, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; s == NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_URI)
			s = cs_strndup((const char *)ASN1_STRING_get0_data(
					   g->d.uniformResourceIdentifier),
			    (size_t)ASN1_STRING_length(
				g->d.uniformResourceIdentifier));
	}
	GENERAL_NAMES_free(gens);
	if (s == NULL) {
		char buf[512];

		X509_NAME_oneline(X509_get_subject_name(signer), buf,
		    sizeof buf);
		s = cs_strdup(buf);
	}
	ERR_clear_error();
	return s;
}

/* Verifies the response: a successful, signed answer, by a responder
 * that the issuer certified for OCSP (or the issuer itself), about this
 * certificate, with our nonce, current. Fills the status. */
struct ocsp_answer {
	int status; /* V_OCSP_CERTSTATUS_* */
	int reason;
	int64_t revoked, this_update, next_update, produced;
	char *responder;
};

static int
ocsp_verify(const uint8_t *der, size_t len, OCSP_REQUEST *req, OCSP_CERTID *id,
    X509 *issuer, struct ocsp_answer *a)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	X509_STORE *st = NULL;
	STACK_OF(X509) *certs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	char why[CS_ERRMSG_SIZE] = "";
	int status, rc = CS_CTL_EXIT_REFUSED;

	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (resp == NULL || p != der + len) {
		snprintf(why, sizeof why, "the answer is not an OCSP response");
		goto out;
	}
	status = OCSP_response_status(resp);
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(why, sizeof why,
		    "the responder answered %s (an unsigned error)",
		    OCSP_response_status_str(status));
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	st = X509_STORE_new();
	certs = sk_X509_new_null();
	if (bs == NULL || st == NULL || certs == NULL) {
		snprintf(why, sizeof why, "no basic response in the answer");
		goto out;
	}
	/* the issuer is the trust anchor, root or not */
	X509_STORE_add_cert(st, issuer);
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	sk_X509_push(certs, issuer);
	if (OCSP_basic_verify(bs, certs, st, 0) <= 0) {
		cs_x509__crypto_errmsg(why,
		    "the response does not verify with the issuer's "
		    "certificate");
		goto out;
	}
	if (OCSP_check_nonce(req, bs) == 0) {
		snprintf(why, sizeof why,
		    "the response carries another nonce (a replay?)");
		goto out;
	}
	if (OCSP_resp_find_status(bs, id, &a->status, &a->reason, &rev,
		&thisupd, &nextupd) != 1) {
		snprintf(why, sizeof why,
		    "the response says nothing of this certificate");
		goto out;
	}
	if (OCSP_check_validity(thisupd, nextupd, SKEW, -1) != 1) {
		cs_x509__crypto_errmsg(why,
		    "the response is not current (thisUpdate/nextUpdate)");
		goto out;
	}
	a->revoked = asn1_time(rev);
	a->this_update = asn1_time(thisupd);
	a->next_update = asn1_time(nextupd);
	a->produced = asn1_time(OCSP_resp_get0_produced_at(bs));
	a->responder = responder_text(bs);
	rc = CS_CTL_EXIT_OK;
out:
	ERR_clear_error();
	if (rc != CS_CTL_EXIT_OK)
		fprintf(stderr, "certctl: POST /ocsp: %s\n", why);
	sk_X509_free(certs);
	X509_STORE_free(st);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return rc;
}

static void
print_ocsp(struct cs_ctl *ctl, const struct cs_cert_info *ci,
    const struct ocsp_answer *a)
{
	static const char *const names[] = {"good", "revoked", "unknown"};
	const char *status =
	    a->status >= 0 && a->status <= 2 ? names[a->status] : "?";
	char serial[CS_SERIAL_TEXT_SIZE], rev[CS_TIME_TEXT_SIZE];
	char thisu[CS_TIME_TEXT_SIZE], nextu[CS_TIME_TEXT_SIZE];
	char prod[CS_TIME_TEXT_SIZE];
	FILE *f = ctl->out;

	cs_serial_format(&ci->serial, serial);
	cs_time_format(a->revoked, rev);
	cs_time_format(a->this_update, thisu);
	if (a->next_update != 0)
		cs_time_format(a->next_update, nextu);
	else
		snprintf(nextu, sizeof nextu, "-");
	cs_time_format(a->produced, prod);
	if (ctl->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "status", status, "subject", ci->subject, "serial", serial,
		    "this_update", thisu, "next_update", nextu, "produced_at",
		    prod, "responder", a->responder);

		if (a->status == V_OCSP_CERTSTATUS_REVOKED) {
			json_object_set_new(o, "revocation_time",
			    json_string(rev));
			json_object_set_new(o, "reason",
			    json_string(reason_text(a->reason)));
		}
		cs_ctl_print_json(ctl, o);
		json_decref(o);
		return;
	}
	cs_ctl_out_field(f, FIELD_WIDTH, "certificate", "%s, serial %s",
	    ci->subject, serial);
	if (a->status == V_OCSP_CERTSTATUS_REVOKED)
		cs_ctl_out_field(f, FIELD_WIDTH, "status", "revoked at %s (%s)",
		    rev, reason_text(a->reason));
	else
		cs_ctl_out_field(f, FIELD_WIDTH, "status", "%s", status);
	cs_ctl_out_field(f, FIELD_WIDTH, "this update", "%s", thisu);
	cs_ctl_out_field(f, FIELD_WIDTH, "next update", "%s", nextu);
	cs_ctl_out_field(f, FIELD_WIDTH, "produced at", "%s", prod);
	cs_ctl_out_field(f, FIELD_WIDTH, "responder",
	    "%s (signature and authority verified)", a->responder);
}

static int
run_ocsp(struct cs_ctl *ctl)
{
	const char *issuer_file = cs_ctl_opt(ctl, "issuer");
	struct cs_ctl_http *own = NULL;
	struct cs_ctl_http_req req = {.method = "POST",
	    .path = "/ocsp",
	    .ctype = "application/ocsp-request"};
	struct cs_ctl_http_resp resp;
	struct ocsp_answer a = {0};
	struct cs_cert_info *ci = NULL;
	struct cs_ctl view;
	X509 *cert = NULL, *issuer = NULL;
	OCSP_REQUEST *oreq = NULL;
	OCSP_CERTID *id = NULL;
	unsigned char *der = NULL;
	int len, rc;

	cs_ctl_http_resp_init(&resp);
	rc = read_cert(ctl, "", cs_ctl_arg(ctl, 0), &cert, &ci);
	if (rc == CS_CTL_EXIT_OK && issuer_file != NULL)
		rc = read_cert(ctl, "--issuer", issuer_file, &issuer, NULL);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	if (issuer != NULL && !issued_by(issuer, cert)) {
		rc = cs_ctl_usage(ctl, "--issuer %s did not issue %s",
		    issuer_file, cs_ctl_arg(ctl, 0));
		goto out;
	}
	rc = public_open(ctl, &view, &own);
	if (rc == CS_CTL_EXIT_OK && issuer == NULL)
		rc = find_issuer(ctl, &view, ci, cert, &issuer);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	oreq = OCSP_REQUEST_new();
	id = OCSP_cert_to_id(NULL, cert, issuer);
	if (oreq == NULL || id == NULL ||
	    OCSP_request_add0_id(oreq, OCSP_CERTID_dup(id)) == NULL ||
	    OCSP_request_add1_nonce(oreq, NULL, -1) != 1 ||
	    (len = i2d_OCSP_REQUEST(oreq, &der)) <= 0) {
		ERR_clear_error();
		fprintf(stderr, "certctl: cannot build the OCSP request\n");
		rc = CS_CTL_EXIT_REFUSED;
		goto out;
	}
	req.body = der;
	req.len = (size_t)len;
	rc = cs_ctl_call(&view, &req, &resp);
	if (rc == CS_CTL_EXIT_OK)
		rc = ocsp_verify(resp.body.data, resp.body.len, oreq, id,
		    issuer, &a);
	if (rc == CS_CTL_EXIT_OK)
		print_ocsp(ctl, ci, &a);
out:
	free(a.responder);
	OPENSSL_free(der);
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(oreq);
	X509_free(cert);
	X509_free(issuer);
	cs_cert_info_free(ci);
	cs_ctl_http_resp_close(&resp);
	cs_ctl_http_free(own);
	return rc;
}

/* ---- the table ---- */

static const struct cs_ctl_opt crl_opts[] = {
    {"delta", 0, NULL, false, "the delta CRL (revocations since the full one)"},
    {"out", 0, "FILE", false, "also write the CRL here (DER, as served)"},
    {"http-url", 0, "URL", false,
	"the node's plain-HTTP URL (default: NODE<N>_HTTP, else the API URL)"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt ocsp_opts[] = {
    {"issuer", 0, "CA", false,
	"the issuer's certificate (default: the node's, found by the "
	"certificate's caIssuers URL or the issuer list)"},
    {"http-url", 0, "URL", false,
	"the node's plain-HTTP URL (default: NODE<N>_HTTP, else the API URL)"},
    {NULL, 0, NULL, false, NULL},
};

const struct cs_ctl_command cs_ctl_status_commands[] = {
    {"crl", "ISSUER [--delta] [--out FILE]",
	"an issuer's CRL from the node, verified: number, times, entries",
	crl_opts, 1, 1, run_crl},
    {"ocsp", "CERT [--issuer CA]",
	"ask the node's OCSP responder about a certificate and verify the "
	"answer: good, revoked or unknown",
	ocsp_opts, 1, 1, run_ocsp},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};
