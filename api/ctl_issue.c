/*
 * ctl_issue.c - certctl issue and renew (ctl_issue.h).
 *
 * Every value is checked, every input file read and parsed and every
 * output file opened before the first request, so that a mistake is exit
 * 2 and costs nothing. The key and the request are made after that, and
 * only then is anything sent.
 */
#include "api/ctl_issue.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "api/ctl_file.h"
#include "api/ctl_out.h"
#include "api/ctl_pki.h"
#include "cert/cmd.h"
#include "cert/csr.h"
#include "cert/pem.h"
#include "cert/store.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"

#define BUF_MAX     (1u << 20)
#define PEM_MAX     (256 * 1024) /* a request */
#define MAX_TAGS    CS_CMD_MAX_TAGS
#define MAX_STR     CS_CMD_MAX_STR
#define MAX_SANS    256
#define FIELD_WIDTH 12

static const char *
or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* What issue or renew was asked to do, checked. */
struct enroll {
	/* --csr */
	char *csr_pem;
	/* --key-out: a new key and request */
	const char *key_out;
	enum cs_ctl_pki_alg alg;
	struct cs_buf subject; /* DER Name; empty: none */
	struct cs_names sans;
	/* outputs */
	struct cs_ctl_file_out cert_out, chain_out;
	const char *cert_path, *chain_path;
};

static void
enroll_close(struct enroll *e)
{
	free(e->csr_pem);
	cs_buf_close(&e->subject);
	cs_names_free(&e->sans);
	cs_ctl_file_out_abort(&e->cert_out);
	cs_ctl_file_out_abort(&e->chain_out);
}

/* The request in a file (PEM or DER), checked here as the server will:
 * its signature and key. */
static int
enroll_csr_file(struct cs_ctl *ctl, const char *file, struct enroll *e)
{
	struct cs_csr_info *ci = NULL;
	char err[CS_ERRMSG_SIZE] = "";
	struct cs_buf text;
	int rc = CS_CTL_EXIT_OK;

	cs_buf_init(&text, PEM_MAX);
	if (cs_ctl_file_read(file, PEM_MAX, &text, err) < 0 ||
	    cs_csr_parse(text.data, text.len, &ci, err) < 0)
		rc = cs_ctl_usage(ctl, "--csr %s: %s", file, err);
	else
		e->csr_pem =
		    cs_pem_encode("CERTIFICATE REQUEST", ci->der, ci->der_len);
	cs_csr_info_free(ci);
	cs_buf_close(&text);
	return rc;
}

/* The repeatable --dns/--ip/--uri/--email values, checked, into sans. */
static int
enroll_sans(struct cs_ctl *ctl, struct cs_names *sans, size_t *total)
{
	static const struct {
		const char *opt;
		enum cs_ctl_pki_san kind;
	} kinds[] = {{"dns", CS_CTL_PKI_SAN_DNS}, {"ip", CS_CTL_PKI_SAN_IP},
	    {"uri", CS_CTL_PKI_SAN_URI}, {"email", CS_CTL_PKI_SAN_EMAIL}};
	struct cs_strv *v[] = {&sans->dns, &sans->ip, &sans->uri, &sans->email};
	char err[CS_ERRMSG_SIZE] = "";

	*total = 0;
	for (size_t k = 0; k < 4; k++) {
		const char *vals[MAX_SANS];
		size_t n =
		    cs_ctl_args_all(ctl->args, kinds[k].opt, vals, MAX_SANS);

		*total += n;
		if (*total > MAX_SANS)
			return cs_ctl_usage(ctl,
			    "at most %d names (--dns, --ip, --uri, --email)",
			    MAX_SANS);
		v[k]->v = cs_calloc(n + 1, sizeof *v[k]->v);
		for (size_t i = 0; i < n; i++) {
			if (cs_ctl_pki_san_check(kinds[k].kind, vals[i], err) <
			    0)
				return cs_ctl_usage(ctl, "%s", err);
			v[k]->v[v[k]->n++] = cs_strdup(vals[i]);
		}
	}
	return CS_CTL_EXIT_OK;
}

/* --subject: an RFC 4514 name, or a bare text that is the CN. */
static int
enroll_subject(struct cs_ctl *ctl, const char *s, struct cs_buf *der)
{
	char err[CS_ERRMSG_SIZE] = "";
	struct cs_buf text;
	int rc = CS_CTL_EXIT_OK;

	cs_buf_init(&text, 16 * 1024);
	if (strchr(s, '=') != NULL) {
		cs_buf_append_str(&text, s);
	} else {
		cs_buf_append_str(&text, "CN=");
		for (const char *p = s; *p != '\0'; p++) {
			if (strchr(",+\"\\<>;=#", *p) != NULL ||
			    (*p == ' ' && (p == s || p[1] == '\0')))
				cs_buf_append_str(&text, "\\");
			cs_buf_append(&text, (const uint8_t *)p, 1);
		}
	}
	if (cs_ctl_pki_name_parse((const char *)text.data, der, err) < 0)
		rc = cs_ctl_usage(ctl, "--subject \"%s\": %s", s, err);
	cs_buf_close(&text);
	return rc;
}

/* The options that say where the request comes from. */
static int
enroll_check(struct cs_ctl *ctl, bool renew, struct enroll *e)
{
	static const char *const names[] = {"subject", "dns", "ip", "uri",
	    "email"};
	const char *csr = cs_ctl_opt(ctl, "csr");
	const char *curve = cs_ctl_opt(ctl, "curve");
	const char *subject = cs_ctl_opt(ctl, "subject");
	size_t nsans = 0;
	int rc;

	e->key_out = cs_ctl_opt(ctl, "key-out");
	if (csr != NULL && e->key_out != NULL)
		return cs_ctl_usage(ctl,
		    "--csr (a request you made) or --key-out (certctl makes "
		    "the key and the request), not both");
	if (!renew && csr == NULL && e->key_out == NULL)
		return cs_ctl_usage(ctl,
		    "give --csr FILE, or --key-out FILE for a new key and "
		    "request made here");
	if (e->key_out == NULL) {
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			if (!renew && cs_ctl_flag(ctl, names[i]))
				return cs_ctl_usage(ctl,
				    "--%s goes with --key-out: a request "
				    "(--csr) carries its own names",
				    names[i]);
		}
		if (curve != NULL)
			return cs_ctl_usage(ctl,
			    "--curve goes with --key-out (a new key)");
		return csr != NULL ? enroll_csr_file(ctl, csr, e)
				   : CS_CTL_EXIT_OK;
	}
	e->alg = CS_CTL_PKI_P256;
	if (curve != NULL && cs_ctl_pki_alg_parse(curve, true, &e->alg) < 0)
		return cs_ctl_usage(ctl,
		    "--curve \"%s\": p256, p384 or ed25519", curve);
	if (access(e->key_out, F_OK) == 0)
		return cs_ctl_usage(ctl,
		    "--key-out %s exists: certctl never overwrites a key file",
		    e->key_out);
	if (renew)
		return CS_CTL_EXIT_OK; /* a renewal keeps its names */
	rc = enroll_sans(ctl, &e->sans, &nsans);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	/* no --subject: the first host name is the CN, as is customary */
	if (subject == NULL && e->sans.dns.n > 0)
		subject = e->sans.dns.v[0];
	if (subject == NULL && nsans == 0)
		return cs_ctl_usage(ctl,
		    "what the certificate names: give --subject CN or "
		    "--dns, --ip, --uri, --email");
	if (subject != NULL)
		return enroll_subject(ctl, subject, &e->subject);
	return CS_CTL_EXIT_OK;
}

/* --owner, --tag, --validity, --key-location into the body. */
static int
enroll_meta(struct cs_ctl *ctl, json_t *body)
{
	const char *owner = cs_ctl_opt(ctl, "owner");
	const char *validity = cs_ctl_opt(ctl, "validity");
	const char *loc = cs_ctl_opt(ctl, "key-location");
	const char *tags[MAX_TAGS];
	size_t ntags = cs_ctl_args_all(ctl->args, "tag", tags, MAX_TAGS);
	enum cs_key_location l;
	char norm[24];
	int rc;

	if (owner != NULL) {
		if (owner[0] == '\0' || strlen(owner) > MAX_STR)
			return cs_ctl_usage(ctl,
			    "--owner: a text of 1 to %d bytes", MAX_STR);
		json_object_set_new(body, "owner", json_string(owner));
	}
	if (ntags > MAX_TAGS)
		return cs_ctl_usage(ctl, "--tag: at most %d tags", MAX_TAGS);
	if (ntags > 0) {
		json_t *a = json_array();

		for (size_t i = 0; i < ntags; i++) {
			if (tags[i][0] == '\0' || strlen(tags[i]) > MAX_STR) {
				json_decref(a);
				return cs_ctl_usage(ctl,
				    "--tag: a text of 1 to %d bytes", MAX_STR);
			}
			json_array_append_new(a, json_string(tags[i]));
		}
		json_object_set_new(body, "tags", a);
	}
	if (validity != NULL) {
		rc = cs_ctl_check_duration(ctl, "--validity", validity, norm,
		    NULL);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
		json_object_set_new(body, "validity", json_string(norm));
	}
	if (loc != NULL) {
		if (cs_keyloc_parse(loc, &l) < 0)
			return cs_ctl_usage(ctl,
			    "--key-location \"%s\": device, hsm, software or "
			    "unknown",
			    loc);
		json_object_set_new(body, "key_location", json_string(loc));
	} else if (cs_ctl_flag(ctl, "key-out")) {
		/* certctl made it, in a file */
		json_object_set_new(body, "key_location",
		    json_string("software"));
	}
	return CS_CTL_EXIT_OK;
}

/* A certificate file anyone may read, unlike the key. */
static int
open_out(struct cs_ctl *ctl, const char *opt, const char *path,
    struct cs_ctl_file_out *o)
{
	char err[CS_ERRMSG_SIZE] = "";
	mode_t mask;

	if (path == NULL)
		return CS_CTL_EXIT_OK;
	if (cs_ctl_file_out_open(o, path, err) < 0)
		return cs_ctl_usage(ctl, "--%s: %s", opt, err);
	if (o->f != stdout) {
		mask = umask(0);
		umask(mask);
		(void)fchmod(fileno(o->f), 0644 & ~mask);
	}
	return CS_CTL_EXIT_OK;
}

static int
enroll_outputs(struct cs_ctl *ctl, struct enroll *e)
{
	int rc;

	e->cert_path = cs_ctl_opt(ctl, "out");
	e->chain_path = cs_ctl_opt(ctl, "chain-out");
	if (e->cert_path != NULL && e->chain_path != NULL &&
	    strcmp(e->cert_path, e->chain_path) == 0)
		return cs_ctl_usage(ctl,
		    "--out and --chain-out name the same file");
	rc = open_out(ctl, "out", e->cert_path, &e->cert_out);
	if (rc == CS_CTL_EXIT_OK)
		rc = open_out(ctl, "chain-out", e->chain_path, &e->chain_out);
	return rc;
}

/* The new key and its request, when --key-out asked for them. */
static int
enroll_make(struct cs_ctl *ctl, struct enroll *e, struct cs_ctl_pki_keyfile *kf)
{
	char err[CS_ERRMSG_SIZE] = "";
	EVP_PKEY *key = NULL;
	int rc = CS_CTL_EXIT_REFUSED;

	if (e->key_out == NULL)
		return CS_CTL_EXIT_OK;
	if (cs_ctl_pki_keyfile_open(kf, e->key_out, err) < 0)
		return cs_ctl_usage(ctl, "--key-out: %s", err);
	if (cs_ctl_pki_keygen(e->alg, &key, err) < 0 ||
	    cs_ctl_pki_keyfile_write(kf, key, err) < 0 ||
	    cs_ctl_pki_csr(key, e->subject.len > 0 ? e->subject.data : NULL,
		e->subject.len, &e->sans, &e->csr_pem, err) < 0) {
		fprintf(stderr, "certctl: %s\n", err);
		cs_ctl_pki_keyfile_remove(kf);
		goto out;
	}
	rc = CS_CTL_EXIT_OK;
out:
	EVP_PKEY_free(key);
	return rc;
}

/* A profile violation: every rule broken, one a line, on stderr. */
static void
print_violations(const struct cs_ctl_http_resp *raw)
{
	json_t *o = NULL, *v;

	if (raw->status != 400 || raw->body.len == 0)
		return;
	o = json_loadb((const char *)raw->body.data, raw->body.len, 0, NULL);
	v = json_object_get(o, "violations");
	for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
		const char *s = json_string_value(json_array_get(v, i));

		if (s != NULL)
			fprintf(stderr, "  - %s\n", s);
	}
	json_decref(o);
}

static void
print_issued(struct cs_ctl *ctl, const json_t *doc, const struct enroll *e,
    const char *key_path)
{
	const json_t *c = json_object_get(doc, "cert");
	FILE *f = ctl->out;
	struct cs_buf b;

	cs_buf_init(&b, BUF_MAX);
	cs_ctl_jnames(c, &b);
	cs_ctl_out_field(f, FIELD_WIDTH, "fingerprint", "%s",
	    or_dash(cs_ctl_jstr(doc, "fingerprint")));
	cs_ctl_out_field(f, FIELD_WIDTH, "serial", "%s",
	    or_dash(cs_ctl_jstr(doc, "serial")));
	cs_ctl_out_field(f, FIELD_WIDTH, "subject", "%s",
	    or_dash(cs_ctl_jstr(c, "subject")));
	cs_ctl_out_field(f, FIELD_WIDTH, "names", "%s",
	    or_dash((const char *)b.data));
	cs_ctl_out_field(f, FIELD_WIDTH, "not before", "%s",
	    or_dash(cs_ctl_jstr(c, "not_before")));
	cs_ctl_out_field(f, FIELD_WIDTH, "not after", "%s",
	    or_dash(cs_ctl_jstr(c, "not_after")));
	cs_ctl_out_field(f, FIELD_WIDTH, "issuer", "%s (%s)",
	    or_dash(cs_ctl_jstr(doc, "issuer")),
	    or_dash(cs_ctl_jstr(c, "issuer")));
	cs_ctl_out_field(f, FIELD_WIDTH, "profile", "%s",
	    or_dash(cs_ctl_jstr(doc, "profile")));
	if (key_path != NULL)
		cs_ctl_out_field(f, FIELD_WIDTH, "key", "%s (mode 0600)",
		    key_path);
	if (e->cert_path != NULL)
		cs_ctl_out_field(f, FIELD_WIDTH, "certificate", "%s",
		    e->cert_path);
	if (e->chain_path != NULL)
		cs_ctl_out_field(f, FIELD_WIDTH, "chain", "%s", e->chain_path);
	if (e->cert_path == NULL)
		fprintf(f, "\n%s", or_dash(cs_ctl_jstr(doc, "certificate")));
	cs_buf_close(&b);
}

/* Writes the certificate and the chain where asked. */
static int
enroll_save(struct enroll *e, const json_t *doc)
{
	char err[CS_ERRMSG_SIZE] = "";
	const char *cert = cs_ctl_jstr(doc, "certificate");
	const char *chain = cs_ctl_jstr(doc, "chain");

	if (e->cert_path != NULL) {
		fputs(cert != NULL ? cert : "", e->cert_out.f);
		if (cs_ctl_file_out_commit(&e->cert_out, err) < 0)
			goto bad;
	}
	if (e->chain_path != NULL) {
		fputs(chain != NULL ? chain : "", e->chain_out.f);
		if (cs_ctl_file_out_commit(&e->chain_out, err) < 0)
			goto bad;
	}
	return CS_CTL_EXIT_OK;
bad:
	/* the certificate exists in the cluster: show it, renew nothing */
	fprintf(stderr,
	    "certctl: %s (the certificate was issued: certctl show %s "
	    "--pem)\n",
	    err, or_dash(cs_ctl_jstr(doc, "fingerprint")));
	return CS_CTL_EXIT_USAGE;
}

/* The common part of issue and renew: body has what is specific. */
static int
enroll(struct cs_ctl *ctl, bool renew, const char *path, json_t *body)
{
	struct enroll e = {0};
	struct cs_ctl_pki_keyfile kf = {NULL, -1};
	struct cs_ctl_http_resp raw;
	json_t *doc = NULL;
	bool sent = false;
	int rc;

	cs_buf_init(&e.subject, 64 * 1024);
	cs_ctl_http_resp_init(&raw);
	rc = enroll_check(ctl, renew, &e);
	if (rc == CS_CTL_EXIT_OK)
		rc = enroll_meta(ctl, body);
	if (rc == CS_CTL_EXIT_OK)
		rc = enroll_outputs(ctl, &e);
	if (rc == CS_CTL_EXIT_OK)
		rc = enroll_make(ctl, &e, &kf);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	if (e.csr_pem != NULL)
		json_object_set_new(body, "csr", json_string(e.csr_pem));
	rc = cs_ctl_send_json(ctl, "POST", path, body, &doc, &raw);
	sent = true;
	if (rc == CS_CTL_EXIT_REFUSED)
		print_violations(&raw);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	rc = enroll_save(&e, doc);
	if (ctl->json)
		cs_ctl_print_raw(ctl, &raw);
	else
		print_issued(ctl, doc, &e, kf.path);
out:
	cs_ctl_pki_keyfile_end(&kf, rc == CS_CTL_EXIT_OK, sent, raw.status,
	    "the certificate may yet be issued");
	enroll_close(&e);
	json_decref(doc);
	cs_ctl_http_resp_close(&raw);
	return rc;
}

static int
run_issue(struct cs_ctl *ctl)
{
	const char *profile = cs_ctl_opt(ctl, "profile");
	json_t *body;
	int rc;

	if (profile == NULL)
		return cs_ctl_usage(ctl,
		    "--profile: the profile to issue under (certctl profile "
		    "list)");
	if (profile[0] == '\0' || strlen(profile) > MAX_STR)
		return cs_ctl_usage(ctl, "--profile: a text of 1 to %d bytes",
		    MAX_STR);
	body = json_pack("{s:s}", "profile", profile);
	rc = enroll(ctl, false, "/v1/issue", body);
	json_decref(body);
	return rc;
}

static int
run_renew(struct cs_ctl *ctl)
{
	char fp[65], path[128];
	json_t *body;
	int rc;

	rc = cs_ctl_check_sha256(ctl, "FP", cs_ctl_arg(ctl, 0), fp);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	snprintf(path, sizeof path, "/v1/certs/%s/renew", fp);
	body = json_object();
	rc = enroll(ctl, true, path, body);
	json_decref(body);
	return rc;
}

/* ---- the table ---- */

static const struct cs_ctl_opt issue_opts[] = {
    {"profile", 0, "P", false, "the profile to issue under (required)"},
    {"csr", 0, "FILE", false, "a PKCS#10 request (PEM or DER)"},
    {"subject", 0, "CN", false,
	"with --key-out: the CN (default: the first --dns), or an RFC 4514 "
	"name of which the CA keeps the CN"},
    {"dns", 0, "N", true, "with --key-out: a DNS name"},
    {"ip", 0, "A", true, "with --key-out: an IP address"},
    {"uri", 0, "U", true, "with --key-out: a URI"},
    {"email", 0, "E", true, "with --key-out: an e-mail address"},
    {"key-out", 0, "FILE", false,
	"make a new key in FILE (mode 0600; never overwritten) and the "
	"request for it here"},
    {"curve", 0, "C", false, "the new key: p256 (default), p384 or ed25519"},
    {"validity", 0, "D", false,
	"how long: 30d, 12h, ... (default: the profile's maximum)"},
    {"owner", 0, "O", false, "the certificate's owner"},
    {"tag", 0, "T", true, "a tag"},
    {"key-location", 0, "L", false,
	"where the key lives: device, hsm, software, unknown (--key-out: "
	"software)"},
    {"out", 0, "FILE", false,
	"write the certificate here, PEM (default: standard output)"},
    {"chain-out", 0, "FILE", false, "write the issuer's chain here, PEM"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt renew_opts[] = {
    {"csr", 0, "FILE", false,
	"a request for a new key (its names are not used); default: the same "
	"key"},
    {"key-out", 0, "FILE", false,
	"make a new key in FILE (mode 0600; never overwritten) and the "
	"request for it here"},
    {"curve", 0, "C", false, "the new key: p256 (default), p384 or ed25519"},
    {"validity", 0, "D", false,
	"how long: 30d, 12h, ... (default: the profile's maximum)"},
    {"owner", 0, "O", false, "the certificate's owner"},
    {"tag", 0, "T", true, "a tag"},
    {"key-location", 0, "L", false,
	"where the key lives: device, hsm, software, unknown (--key-out: "
	"software)"},
    {"out", 0, "FILE", false,
	"write the certificate here, PEM (default: standard output)"},
    {"chain-out", 0, "FILE", false, "write the issuer's chain here, PEM"},
    {NULL, 0, NULL, false, NULL},
};

const struct cs_ctl_command cs_ctl_issue_commands[] = {
    {"issue",
	"--profile P (--csr FILE | --key-out FILE [--subject CN] [--dns N]... "
	"[--ip A]... [--uri U]... [--email E]... [--curve C]) [--owner O] "
	"[--tag T]... [--validity D] [--out FILE] [--chain-out FILE]",
	"issue a certificate under a profile", issue_opts, 0, 0, run_issue},
    {"renew",
	"FP [--csr FILE | --key-out FILE [--curve C]] [--validity D] "
	"[--out FILE] [--chain-out FILE]",
	"a new certificate with the names and profile of FP", renew_opts, 1, 1,
	run_renew},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};
