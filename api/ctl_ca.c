/*
 * ctl_ca.c - certctl issuer list/show/create/delete (ctl_ca.h).
 *
 * Every value is checked and every input file read and parsed before the
 * first request, so that a mistake is exit 2 and costs nothing; the key
 * of a new CA is made after that, and only then is anything sent.
 */
#include "api/ctl_ca.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api/ctl_file.h"
#include "api/ctl_out.h"
#include "api/ctl_pki.h"
#include "api/keys.h"
#include "cert/cmd.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"

#define BUF_MAX     (1u << 20)
#define PEM_MAX     (256 * 1024) /* a certificate, a chain, a request */
#define MAX_STR     CS_CMD_MAX_STR
#define MAX_CHAIN   16
#define MAX_DAYS    36500
#define ROOT_DAYS   3650
#define BACKDATE    300 /* as the server does: clocks that run late */
#define FIELD_WIDTH 12

static const char *
or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* "/v1/issuers/<name>" into path, or a usage error. */
static int
issuer_path(struct cs_ctl *ctl, const char *name, struct cs_buf *path)
{
	if (name[0] == '\0' || strlen(name) > MAX_STR)
		return cs_ctl_usage(ctl, "NAME: a text of 1 to %d bytes",
		    MAX_STR);
	cs_buf_append_str(path, "/v1/issuers/");
	cs_ctl_http_pct_encode(path, name);
	return CS_CTL_EXIT_OK;
}

/* The first certificate of a PEM or DER file; a usage error otherwise.
 * With max > 1 every certificate (a chain): *n of them. */
static int
read_certs(struct cs_ctl *ctl, const char *what, const char *file, size_t max,
    struct cs_cert_info ***out, size_t *n)
{
	char err[CS_ERRMSG_SIZE] = "";
	struct cs_buf text;
	int rc = CS_CTL_EXIT_OK;

	cs_buf_init(&text, PEM_MAX);
	if (cs_ctl_file_read(file, PEM_MAX, &text, err) < 0 ||
	    cs_x509_parse_bundle(text.data, text.len, max, out, n, err) < 0)
		rc = cs_ctl_usage(ctl, "%s %s: %s", what, file, err);
	cs_buf_close(&text);
	return rc;
}

/* ---- printing ---- */

static void
print_issuer(struct cs_ctl *ctl, const json_t *is,
    const struct cs_ctl_http_resp *raw, bool pem)
{
	const json_t *pl = json_object_get(is, "path_len");
	const char *key = cs_ctl_jstr(is, "key");
	FILE *f = ctl->out;

	cs_ctl_out_field(f, FIELD_WIDTH, "name", "%s",
	    or_dash(cs_ctl_jstr(is, "name")));
	cs_ctl_out_field(f, FIELD_WIDTH, "subject", "%s",
	    or_dash(cs_ctl_jstr(is, "subject")));
	cs_ctl_out_field(f, FIELD_WIDTH, "description", "%s",
	    or_dash(cs_ctl_jstr(is, "description")));
	cs_ctl_out_field(f, FIELD_WIDTH, "fingerprint", "%s",
	    or_dash(cs_ctl_jstr(is, "fingerprint")));
	cs_ctl_out_field(f, FIELD_WIDTH, "serial", "%s",
	    or_dash(cs_ctl_jstr(is, "serial")));
	cs_ctl_out_field(f, FIELD_WIDTH, "not before", "%s",
	    or_dash(cs_ctl_jstr(is, "not_before")));
	cs_ctl_out_field(f, FIELD_WIDTH, "not after", "%s",
	    or_dash(cs_ctl_jstr(is, "not_after")));
	if (json_is_integer(pl))
		cs_ctl_out_field(f, FIELD_WIDTH, "path len", "%lld",
		    (long long)json_integer_value(pl));
	else
		cs_ctl_out_field(f, FIELD_WIDTH, "path len", "none");
	cs_ctl_out_field(f, FIELD_WIDTH, "key ref", "%s",
	    or_dash(cs_ctl_jstr(is, "key_ref")));
	/* the key is resolved by each node: say which one answered */
	cs_ctl_out_field(f, FIELD_WIDTH, "key", "%s%s%s%s", or_dash(key),
	    raw != NULL && raw->node[0] != '\0' ? " (on node " : "",
	    raw != NULL && raw->node[0] != '\0' ? raw->node : "",
	    raw != NULL && raw->node[0] != '\0' ? ")" : "");
	if (pem) {
		const char *cert = cs_ctl_jstr(is, "certificate");
		const char *chain = cs_ctl_jstr(is, "chain");

		fprintf(f, "\n%s%s", cert != NULL ? cert : "",
		    chain != NULL ? chain : "");
	}
}

static void
print_issuers(struct cs_ctl *ctl, const json_t *list)
{
	static const char *const head[] = {"NAME", "SUBJECT", "NOT AFTER",
	    "PATH LEN", "KEY", "DESCRIPTION"};
	const json_t *items = json_object_get(list, "items");
	struct cs_ctl_out_table *t = cs_ctl_out_table_new(6, head);

	for (size_t i = 0; json_is_array(items) && i < json_array_size(items);
	     i++) {
		const json_t *is = json_array_get(items, i);
		const json_t *pl = json_object_get(is, "path_len");

		cs_ctl_out_table_cell(t, cs_ctl_jstr(is, "name"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(is, "subject"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(is, "not_after"));
		if (json_is_integer(pl))
			cs_ctl_out_table_cellf(t, "%lld",
			    (long long)json_integer_value(pl));
		else
			cs_ctl_out_table_cell(t, "none");
		cs_ctl_out_table_cell(t, cs_ctl_jstr(is, "key"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(is, "description"));
	}
	cs_ctl_out_table_print(t, ctl->out);
	cs_ctl_out_table_free(t);
}

/* ---- issuer list, show, delete ---- */

static int
run_issuer_list(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *list = NULL;
	int rc;

	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, "/v1/issuers", NULL, &list, &raw);
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json)
			cs_ctl_print_raw(ctl, &raw);
		else
			print_issuers(ctl, list);
	}
	json_decref(list);
	cs_ctl_http_resp_close(&raw);
	return rc;
}

static int
run_issuer_show(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	struct cs_buf path;
	json_t *is = NULL;
	int rc;

	cs_buf_init(&path, BUF_MAX);
	cs_ctl_http_resp_init(&raw);
	rc = issuer_path(ctl, cs_ctl_arg(ctl, 0), &path);
	if (rc == CS_CTL_EXIT_OK)
		rc = cs_ctl_get_json(ctl, (const char *)path.data, NULL, &is,
		    &raw);
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json)
			cs_ctl_print_raw(ctl, &raw);
		else
			print_issuer(ctl, is, &raw, cs_ctl_flag(ctl, "pem"));
	}
	json_decref(is);
	cs_ctl_http_resp_close(&raw);
	cs_buf_close(&path);
	return rc;
}

static int
run_issuer_delete(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	struct cs_buf path;
	int rc;

	cs_buf_init(&path, BUF_MAX);
	cs_ctl_http_resp_init(&raw);
	rc = issuer_path(ctl, cs_ctl_arg(ctl, 0), &path);
	if (rc == CS_CTL_EXIT_OK)
		rc = cs_ctl_send_json(ctl, "DELETE", (const char *)path.data,
		    NULL, NULL, &raw);
	if (rc == CS_CTL_EXIT_OK && !ctl->json)
		fprintf(ctl->out,
		    "deleted issuer %s (its key is left where key_ref "
		    "says)\n",
		    cs_ctl_arg(ctl, 0));
	cs_ctl_http_resp_close(&raw);
	cs_buf_close(&path);
	return rc;
}

/* ---- issuer create ---- */

/* What issuer create was asked to do, checked. */
struct create {
	const char *name;
	bool reg; /* --register */
	/* --register */
	char *cert_pem;
	struct cs_buf chain_pem;
	const char *key_ref;
	/* a new CA */
	struct cs_buf subject; /* DER Name */
	const char *key_file;
	const char *pkcs11;
	enum cs_ctl_pki_alg alg;
	uint64_t days; /* 0: not given */
	const char *parent;
	int path_len; /* -1: not given */
	const char *description;
};

static int
create_register(struct cs_ctl *ctl, struct create *cr)
{
	static const char *const not_with[] = {"subject", "key-file", "pkcs11",
	    "curve", "days", "parent", "path-len", "pkcs11-module"};
	const char *file = cs_ctl_opt(ctl, "register");
	const char *chain = cs_ctl_opt(ctl, "chain");
	struct cs_cert_info **certs = NULL;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < sizeof not_with / sizeof not_with[0]; i++) {
		if (cs_ctl_flag(ctl, not_with[i]))
			return cs_ctl_usage(ctl,
			    "--register takes an existing CA: --%s is for a "
			    "new one",
			    not_with[i]);
	}
	cr->reg = true;
	cr->key_ref = cs_ctl_opt(ctl, "key-ref");
	if (cr->key_ref == NULL)
		return cs_ctl_usage(ctl,
		    "--register needs --key-ref: file:/path or a pkcs11: URI "
		    "that every node resolves to the CA's key");
	if (!(strncmp(cr->key_ref, "file:/", 6) == 0 ||
		strncmp(cr->key_ref, "pkcs11:", 7) == 0) ||
	    strlen(cr->key_ref) > 4096)
		return cs_ctl_usage(ctl,
		    "--key-ref \"%.60s\": file:/absolute/path or a pkcs11: URI",
		    cr->key_ref);
	rc = read_certs(ctl, "--register", file, 1, &certs, &n);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	if (!certs[0]->ca) {
		rc = cs_ctl_usage(ctl,
		    "--register %s: %s is not a CA certificate "
		    "(basicConstraints cA)",
		    file, certs[0]->subject);
		goto out;
	}
	cr->cert_pem = cs_x509_der_to_pem(certs[0]->der, certs[0]->der_len);
	cs_cert_info_free_all(certs, n);
	certs = NULL;
	n = 0;
	if (chain != NULL) {
		rc = read_certs(ctl, "--chain", chain, MAX_CHAIN, &certs, &n);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
		for (size_t i = 0; i < n; i++) {
			char *pem = cs_x509_der_to_pem(certs[i]->der,
			    certs[i]->der_len);

			cs_buf_append_str(&cr->chain_pem, pem);
			free(pem);
		}
	}
out:
	cs_cert_info_free_all(certs, n);
	return rc;
}

static int
create_new(struct cs_ctl *ctl, struct create *cr)
{
	const char *subject = cs_ctl_opt(ctl, "subject");
	const char *curve = cs_ctl_opt(ctl, "curve");
	const char *days = cs_ctl_opt(ctl, "days");
	const char *path_len = cs_ctl_opt(ctl, "path-len");
	char err[CS_ERRMSG_SIZE] = "";
	uint64_t v;
	int rc;

	if (cs_ctl_flag(ctl, "key-ref") || cs_ctl_flag(ctl, "chain"))
		return cs_ctl_usage(ctl,
		    "--key-ref and --chain go with --register (an existing "
		    "CA)");
	if (subject == NULL)
		return cs_ctl_usage(ctl,
		    "a new CA needs --subject \"CN=...,O=...\" (or "
		    "--register CERT.pem for an existing one)");
	if (cs_ctl_pki_name_parse(subject, &cr->subject, err) < 0)
		return cs_ctl_usage(ctl, "--subject \"%s\": %s", subject, err);
	cr->key_file = cs_ctl_opt(ctl, "key-file");
	cr->pkcs11 = cs_ctl_opt(ctl, "pkcs11");
	if ((cr->key_file == NULL) == (cr->pkcs11 == NULL))
		return cs_ctl_usage(ctl,
		    "where the key lives: give --key-file PATH (a new key) or "
		    "--pkcs11 URI (a key in an HSM), one of them");
	if (cr->pkcs11 != NULL && (strncmp(cr->pkcs11, "pkcs11:", 7) != 0 ||
				      strlen(cr->pkcs11) > 4096))
		return cs_ctl_usage(ctl,
		    "--pkcs11 \"%.60s\": a PKCS#11 URI, "
		    "pkcs11:token=T;object=O;type=private"
		    "?pin-source=file:/etc/certstore/hsm.pin",
		    cr->pkcs11);
	if (cr->pkcs11 != NULL && strstr(cr->pkcs11, "pin-value=") != NULL)
		return cs_ctl_usage(ctl,
		    "--pkcs11: a PIN in the URI would be replicated to every "
		    "node and kept in every backup; write it to a file (mode "
		    "0600) on each node and use pin-source=file:/path");
	if (cr->pkcs11 != NULL && curve != NULL)
		return cs_ctl_usage(ctl,
		    "--curve is for a new key (--key-file); the HSM key is "
		    "what it is");
	if (cr->pkcs11 == NULL && cs_ctl_flag(ctl, "pkcs11-module"))
		return cs_ctl_usage(ctl, "--pkcs11-module goes with --pkcs11");
	cr->alg = CS_CTL_PKI_P256;
	if (curve != NULL && cs_ctl_pki_alg_parse(curve, false, &cr->alg) < 0)
		return cs_ctl_usage(ctl,
		    "--curve \"%s\": p256 or p384 (a CA key is ECDSA)", curve);
	if (days != NULL) {
		rc = cs_ctl_check_uint(ctl, "--days", days, 1, MAX_DAYS,
		    &cr->days);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
	}
	cr->parent = cs_ctl_opt(ctl, "parent");
	if (cr->parent != NULL &&
	    (cr->parent[0] == '\0' || strlen(cr->parent) > MAX_STR))
		return cs_ctl_usage(ctl, "--parent: an issuer's name");
	cr->path_len = -1;
	if (path_len != NULL) {
		rc = cs_ctl_check_uint(ctl, "--path-len", path_len, 0, 8, &v);
		if (rc != CS_CTL_EXIT_OK)
			return rc;
		cr->path_len = (int)v;
	}
	/* a file certctl would refuse to overwrite later: say so now */
	if (cr->key_file != NULL && access(cr->key_file, F_OK) == 0)
		return cs_ctl_usage(ctl,
		    "--key-file %s exists: certctl never overwrites a key "
		    "file",
		    cr->key_file);
	return CS_CTL_EXIT_OK;
}

static int
create_check(struct cs_ctl *ctl, struct create *cr)
{
	cr->name = cs_ctl_arg(ctl, 0);
	if (!cs_ctl_pki_issuer_name_ok(cr->name))
		return cs_ctl_usage(ctl,
		    "NAME \"%s\": 1 to 64 letters, digits, '.', '_' or '-' "
		    "(it goes into the CRL and CA URLs of every certificate "
		    "the issuer signs)",
		    cr->name);
	cr->description = cs_ctl_opt(ctl, "description");
	if (cr->description != NULL && strlen(cr->description) > MAX_STR)
		return cs_ctl_usage(ctl, "--description: at most %d bytes",
		    MAX_STR);
	if (cs_ctl_opt(ctl, "register") != NULL)
		return create_register(ctl, cr);
	return create_new(ctl, cr);
}

/* 0 when the issuer does not exist yet; exit 1 when it does. */
static int
create_absent(struct cs_ctl *ctl, const char *name)
{
	struct cs_ctl_http_req req = {.method = "GET"};
	struct cs_ctl_http_resp resp;
	struct cs_buf path;
	int rc;

	cs_buf_init(&path, BUF_MAX);
	cs_ctl_http_resp_init(&resp);
	issuer_path(ctl, name, &path);
	req.path = (const char *)path.data;
	rc = cs_ctl_call_quiet(ctl, &req, &resp);
	if (rc == CS_CTL_EXIT_OK) {
		fprintf(stderr,
		    "certctl: issuer %s exists (certctl issuer show %s); "
		    "issuer create makes new ones only\n",
		    name, name);
		rc = CS_CTL_EXIT_REFUSED;
	} else if (rc == CS_CTL_EXIT_REFUSED && resp.status == 404) {
		rc = CS_CTL_EXIT_OK;
	} else if (rc == CS_CTL_EXIT_REFUSED && resp.status >= 100) {
		rc = cs_ctl_report(ctl, &resp);
	}
	cs_ctl_http_resp_close(&resp);
	cs_buf_close(&path);
	return rc;
}

/* The key of a new CA: made and written to the reserved file, or loaded
 * from the HSM. *key_ref is new. */
static int
create_key(struct cs_ctl *ctl, struct create *cr, struct cs_ctl_pki_keyfile *kf,
    EVP_PKEY **key, char **key_ref)
{
	char err[CS_ERRMSG_SIZE] = "";
	struct cs_buf ref;
	int rc;

	if (cr->pkcs11 != NULL) {
		cs_keys_set_pkcs11_module(cs_ctl_opt(ctl, "pkcs11-module"));
		if (cs_keys_load(cr->pkcs11, key, err) < 0)
			return cs_ctl_usage(ctl, "--pkcs11: %s", err);
		*key_ref = cs_strdup(cr->pkcs11);
		return CS_CTL_EXIT_OK;
	}
	rc = cs_ctl_pki_keyfile_open(kf, cr->key_file, err);
	if (rc < 0)
		return cs_ctl_usage(ctl, "--key-file: %s", err);
	if (cs_ctl_pki_keygen(cr->alg, key, err) < 0 ||
	    cs_ctl_pki_keyfile_write(kf, *key, err) < 0) {
		fprintf(stderr, "certctl: %s\n", err);
		cs_ctl_pki_keyfile_remove(kf);
		return CS_CTL_EXIT_REFUSED;
	}
	cs_buf_init(&ref, 8192);
	cs_buf_printf(&ref, "file:%s", kf->path);
	*key_ref = cs_strdup((const char *)ref.data);
	cs_buf_close(&ref);
	return CS_CTL_EXIT_OK;
}

/* The body of the PUT for a new root or intermediate. */
static int
create_body(struct create *cr, EVP_PKEY *key, const char *key_ref, json_t **out)
{
	char err[CS_ERRMSG_SIZE] = "";
	json_t *body = json_pack("{s:s}", "key_ref", key_ref);
	char *pem = NULL;

	if (cr->parent == NULL) {
		int64_t now = (int64_t)time(NULL);
		uint64_t days = cr->days > 0 ? cr->days : ROOT_DAYS;
		uint8_t rnd[20];
		struct cs_buf der;

		cs_buf_init(&der, 64 * 1024);
		if (RAND_bytes(rnd, sizeof rnd) != 1 ||
		    cs_ctl_pki_self_signed(key, cr->subject.data,
			cr->subject.len, now - BACKDATE,
			now + (int64_t)days * 86400, cr->path_len, rnd, &der,
			err) < 0) {
			fprintf(stderr, "certctl: the CA certificate: %s\n",
			    err[0] != '\0' ? err : "no random serial");
			cs_buf_close(&der);
			json_decref(body);
			return CS_CTL_EXIT_REFUSED;
		}
		pem = cs_x509_der_to_pem(der.data, der.len);
		cs_buf_close(&der);
		json_object_set_new(body, "certificate", json_string(pem));
	} else {
		if (cs_ctl_pki_csr(key, cr->subject.data, cr->subject.len, NULL,
			&pem, err) < 0) {
			fprintf(stderr, "certctl: %s\n", err);
			json_decref(body);
			return CS_CTL_EXIT_REFUSED;
		}
		json_object_set_new(body, "csr", json_string(pem));
		json_object_set_new(body, "parent", json_string(cr->parent));
		if (cr->days > 0) {
			char v[32];

			snprintf(v, sizeof v, "%llud",
			    (unsigned long long)cr->days);
			json_object_set_new(body, "validity", json_string(v));
		}
		if (cr->path_len >= 0)
			json_object_set_new(body, "path_len",
			    json_integer(cr->path_len));
	}
	free(pem);
	*out = body;
	return CS_CTL_EXIT_OK;
}

static int
run_issuer_create(struct cs_ctl *ctl)
{
	struct create cr = {0};
	struct cs_ctl_pki_keyfile kf = {NULL, -1};
	struct cs_ctl_http_resp raw;
	struct cs_buf path;
	char maybe[160];
	EVP_PKEY *key = NULL;
	json_t *body = NULL, *is = NULL;
	char *key_ref = NULL;
	bool sent = false;
	int rc;

	cs_buf_init(&cr.subject, 64 * 1024);
	cs_buf_init(&cr.chain_pem, PEM_MAX * 2);
	cs_buf_init(&path, BUF_MAX);
	cs_ctl_http_resp_init(&raw);
	rc = create_check(ctl, &cr);
	if (rc != CS_CTL_EXIT_OK)
		goto out;
	issuer_path(ctl, cr.name, &path);
	if (cr.reg) {
		body = json_pack("{s:s, s:s}", "certificate", cr.cert_pem,
		    "key_ref", cr.key_ref);
		if (cr.chain_pem.len > 0)
			json_object_set_new(body, "chain",
			    json_string((const char *)cr.chain_pem.data));
	} else {
		rc = create_absent(ctl, cr.name);
		if (rc == CS_CTL_EXIT_OK)
			rc = create_key(ctl, &cr, &kf, &key, &key_ref);
		if (rc == CS_CTL_EXIT_OK)
			rc = create_body(&cr, key, key_ref, &body);
		if (rc != CS_CTL_EXIT_OK)
			goto out;
	}
	if (cr.description != NULL)
		json_object_set_new(body, "description",
		    json_string(cr.description));
	rc = cs_ctl_send_json(ctl, "PUT", (const char *)path.data, body, &is,
	    &raw);
	sent = true;
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json)
			cs_ctl_print_raw(ctl, &raw);
		else
			print_issuer(ctl, is, &raw, false);
		if (kf.path != NULL && !ctl->json)
			cs_ctl_out_field(ctl->out, FIELD_WIDTH, "key file",
			    "%s (mode 0600: every node needs it at this path)",
			    kf.path);
	}
out:
	snprintf(maybe, sizeof maybe,
	    "the cluster may yet take the issuer (certctl issuer show %s)",
	    cr.name);
	cs_ctl_pki_keyfile_end(&kf, rc == CS_CTL_EXIT_OK, sent, raw.status,
	    maybe);
	EVP_PKEY_free(key);
	cs_keys_cleanup();
	free(key_ref);
	free(cr.cert_pem);
	json_decref(body);
	json_decref(is);
	cs_ctl_http_resp_close(&raw);
	cs_buf_close(&cr.subject);
	cs_buf_close(&cr.chain_pem);
	cs_buf_close(&path);
	return rc;
}

/* ---- the table ---- */

static const struct cs_ctl_opt show_opts[] = {
    {"pem", 0, NULL, false, "include the certificate and its chain (PEM)"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt create_opts[] = {
    {"subject", 0, "DN", false,
	"the CA's name, RFC 4514: \"CN=Device CA,O=Hospital\""},
    {"key-file", 0, "PATH", false,
	"make a new key in this file (mode 0600; never overwritten); the "
	"issuer's key_ref becomes file:PATH (absolute): every node must find "
	"the key at that same path"},
    {"pkcs11", 0, "URI", false,
	"use an existing HSM key, pkcs11:token=T;object=O;type=private"
	"?pin-source=file:/etc/certstore/hsm.pin; it is the key_ref: every "
	"node must reach the same token with its pkcs11-module and find the "
	"PIN file at that path"},
    {"pkcs11-module", 0, "PATH", false,
	"the PKCS#11 module certctl loads (default " CS_PKCS11_MODULE_DEFAULT
	")"},
    {"curve", 0, "C", false, "the new key: p256 (default) or p384"},
    {"days", 0, "N", false,
	"validity in days (root: 3650; intermediate: the server's 5 years)"},
    {"parent", 0, "ISSUER", false,
	"make an intermediate signed by this issuer of the cluster (a CSR "
	"goes to the server; without --parent: a self-signed root)"},
    {"path-len", 0, "N", false,
	"pathLenConstraint, 0..8 (intermediate: 0 unless given; root: none)"},
    {"description", 0, "T", false, "a description"},
    {"register", 0, "CERT", false,
	"register an existing CA certificate (PEM or DER) instead"},
    {"key-ref", 0, "REF", false,
	"with --register: file:/path or a pkcs11: URI of its key, as every "
	"node resolves it"},
    {"chain", 0, "FILE", false,
	"with --register: the certificates above it (PEM)"},
    {NULL, 0, NULL, false, NULL},
};

const struct cs_ctl_command cs_ctl_ca_commands[] = {
    {"issuer list", "",
	"the cluster's CAs, and whether the answering node "
	"can use each key",
	NULL, 0, 0, run_issuer_list},
    {"issuer show", "NAME [--pem]", "one CA", show_opts, 1, 1, run_issuer_show},
    {"issuer create",
	"NAME --subject DN (--key-file PATH | --pkcs11 URI) [--curve C] "
	"[--days N] [--parent ISSUER [--path-len N]] [--description T] | "
	"NAME --register CERT --key-ref REF [--chain FILE]",
	"make a CA: a self-signed root, or an intermediate under --parent\n\n"
	"Only the key's reference (key_ref) enters the cluster: each node "
	"loads the key\nitself, so the key_ref must resolve on every node "
	"(the same file at the same\nabsolute path, mode 0600, readable by "
	"the service user; or the same HSM token).\nCopy a new key file to "
	"every node before issuing under the CA.",
	create_opts, 1, 1, run_issuer_create},
    {"issuer delete", "NAME",
	"delete a CA (none of the profiles may name it); its key stays", NULL,
	1, 1, run_issuer_delete},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};
