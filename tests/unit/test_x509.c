/*
 * test_x509.c - cert/x509.c against the openssl CLI and the test PKI.
 *
 * The reference for every printed field is `openssl x509` itself: the
 * system CA bundle and generated certificates are run through it and the
 * results compared field by field.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/der.h"
#include "cert/pem.h"
#include "cert/x509.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"
#include "tests/lib/ca.h"
#include "tests/lib/certcmp.h"
#include "tests/lib/runner.h"

#define BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* ---- fixtures ---- */

static struct cs_test_ca *root;
static struct cs_test_ca *inter;
static char *tmp_dir; /* per test, for the openssl CLI's input */

static void
pki_setup(void)
{
	root = cs_test_ca_new("Test Root", CS_TEST_P256, NULL);
	inter = cs_test_ca_new("Test Intermediate", CS_TEST_P256, root);
	tmp_dir = cs_strdup("/tmp/cs-test-x509-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void
pki_teardown(void)
{
	char path[256];

	snprintf(path, sizeof path, "%s/cert.der", tmp_dir);
	unlink(path);
	rmdir(tmp_dir);
	free(tmp_dir);
	cs_test_ca_free(inter);
	cs_test_ca_free(root);
}

/* Runs in the parent once per tcase, so forked tests share the RSA keys
 * instead of each generating a 4096-bit one. */
static void
warm_keys(void)
{
	for (int k = CS_TEST_RSA1024; k <= CS_TEST_RSA4096; k++)
		EVP_PKEY_free(cs_test_key_new((enum cs_test_key)k));
}

/* ---- small helpers ---- */

/* The whole stream, or NULL past 64 MiB. No ck_assert here: it also
 * runs while the suite is built, outside any test. */
static char *
read_stream(FILE *f, size_t *len)
{
	struct cs_buf b;
	char chunk[8192];
	size_t n = 1;
	int rc = 0;

	cs_buf_init(&b, 64 << 20);
	while (rc == 0 && n > 0) {
		n = fread(chunk, 1, sizeof chunk, f);
		rc = cs_buf_append(&b, chunk, n);
	}
	if (rc < 0) {
		cs_buf_close(&b);
		return NULL;
	}
	return (char *)cs_buf_steal(&b, len);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;

	if (f == NULL)
		return NULL;
	p = read_stream(f, len);
	fclose(f);
	return p;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	char *p = slurp(path, len);

	ck_assert_msg(p != NULL, "cannot read %s", path);
	return (uint8_t *)p;
}

static size_t
count_substr(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(s, needle); p != NULL;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

static void
sha256(const void *p, size_t n, uint8_t out[CS_SHA256_LEN])
{
	ck_assert_int_eq(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL), 1);
}

static uint8_t *
x509_der(X509 *x, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509(x, &p);
	uint8_t *der;

	ck_assert_int_gt(n, 0);
	der = cs_memdup(p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return der;
}

static void
strv_add(struct cs_strv *v, const char *s)
{
	v->v = cs_reallocarray(v->v, v->n + 1, sizeof *v->v);
	v->v[v->n++] = cs_strdup(s);
}

static void
assert_strv(const struct cs_strv *got, const char *const *want,
    const char *what)
{
	size_t n = 0;

	while (want != NULL && want[n] != NULL)
		n++;
	ck_assert_msg(got->n == n, "%s: %zu entries, want %zu", what, got->n,
	    n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(got->v[i], want[i]) == 0,
		    "%s[%zu]: '%s', want '%s'", what, i, got->v[i], want[i]);
}

static void
assert_strv_eq(const struct cs_strv *got, const struct cs_strv *want,
    const char *what, const char *who)
{
	ck_assert_msg(got->n == want->n, "%s: %s: %zu entries, openssl %zu",
	    who, what, got->n, want->n);
	for (size_t i = 0; i < got->n; i++)
		ck_assert_msg(strcmp(got->v[i], want->v[i]) == 0,
		    "%s: %s[%zu]: '%s', openssl '%s'", who, what, i, got->v[i],
		    want->v[i]);
}

/* ---- the openssl CLI as the reference ---- */

struct ossl {
	char serial[80];
	char *subject;
	char *issuer;
	int64_t not_before;
	int64_t not_after;
	char fingerprint[2 * CS_SHA256_LEN + 1];
	struct cs_names sans;
	char key_id[2 * CS_SHA256_LEN + 1];
	int key_bits;
	char curve[32];
};

static char *
run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out;
	int status;

	ck_assert_msg(p != NULL, "popen %s", cmd);
	out = read_stream(p, NULL);
	status = pclose(p);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "'%s' failed: %s", cmd, out);
	return out;
}

/* "0A1B" or "-00FF" to cs_serial_format()'s form. */
static void
norm_serial(const char *in, char *out)
{
	char *o = out;

	if (*in == '-')
		*o++ = *in++;
	while (*in == '0' && in[1] != '\0')
		in++;
	for (; *in != '\0'; in++)
		*o++ = (char)(*in >= 'A' && *in <= 'F' ? *in + 32 : *in);
	*o = '\0';
	if (strcmp(out, "-0") == 0)
		strcpy(out, "0");
}

/* openssl 3.0 prints IPv6 as "2001:DB8:0:0:0:0:0:1"; x509.h promises
 * the RFC 5952 form, so the reference goes through inet_ntop() too. */
static void
add_openssl_san(struct cs_names *n, const char *e)
{
	unsigned char ip[16];
	char buf[INET6_ADDRSTRLEN];

	if (strncmp(e, "DNS:", 4) == 0) {
		strv_add(&n->dns, e + 4);
	} else if (strncmp(e, "URI:", 4) == 0) {
		strv_add(&n->uri, e + 4);
	} else if (strncmp(e, "email:", 6) == 0) {
		strv_add(&n->email, e + 6);
	} else if (strncmp(e, "IP Address:", 11) == 0) {
		if (inet_pton(AF_INET6, e + 11, ip) == 1) {
			inet_ntop(AF_INET6, ip, buf, sizeof buf);
			strv_add(&n->ip, buf);
		} else {
			strv_add(&n->ip, e + 11);
		}
	}
}

/* openssl joins the entries with ", " (values are not escaped, so a URI
 * holding ", " would confuse this; none of the test inputs does). */
static void
parse_openssl_sans(struct cs_names *n, char *line)
{
	char *e = line + strspn(line, " ");

	for (;;) {
		char *sep = strstr(e, ", ");

		if (sep != NULL)
			*sep = '\0';
		add_openssl_san(n, e);
		if (sep == NULL)
			break;
		e = sep + 2;
	}
}

/* SHA-256 of the PUBLIC KEY block openssl printed: its own encoding of
 * the SubjectPublicKeyInfo, independent of cert/x509.c. */
static void
pem_pubkey_id(const char *pem, char *out)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	uint8_t id[CS_SHA256_LEN];
	long len = 0;

	ck_assert_ptr_nonnull(bio);
	ck_assert_int_eq(PEM_read_bio(bio, &name, &header, &data, &len), 1);
	ck_assert_str_eq(name, "PUBLIC KEY");
	sha256(data, (size_t)len, id);
	cs_hex_encode(id, CS_SHA256_LEN, out);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
}

/* One openssl run per certificate: the printed fields, the public key
 * in PEM and the key part of -text. stderr is dropped because openssl
 * writes "No extensions in certificate" there, without a newline; a
 * failing run still fails on its exit status. */
static void
openssl_view(const uint8_t *der, size_t len, struct ossl *v)
{
	char cmd[2048];
	char *path, *out, *save = NULL;
	const char *pk = NULL;
	bool san_next = false;

	memset(v, 0, sizeof *v);
	path = cs_test_write_file(tmp_dir, "cert.der", der, len);
	snprintf(cmd, sizeof cmd,
	    "openssl x509 -inform DER -in %s -noout -serial -subject -issuer "
	    "-startdate -enddate -fingerprint -sha256 -nameopt "
	    "RFC2253,-esc_msb -dateopt iso_8601 -pubkey -text -certopt "
	    "no_header,no_version,no_serial,no_signame,no_validity,"
	    "no_subject,no_issuer,no_extensions,no_sigdump,no_aux "
	    "-ext subjectAltName 2>/dev/null",
	    path);
	out = run(cmd);
	if (strstr(out, "-----BEGIN PUBLIC KEY-----") != NULL) {
		pem_pubkey_id(strstr(out, "-----BEGIN PUBLIC KEY-----"),
		    v->key_id);
		pk = v->key_id;
	}
	for (char *l = strtok_r(out, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		const char *t = l + strspn(l, " ");

		if (san_next) {
			parse_openssl_sans(&v->sans, l);
			san_next = false;
		} else if (strncmp(l, "serial=", 7) == 0) {
			norm_serial(l + 7, v->serial);
		} else if (strncmp(l, "subject=", 8) == 0) {
			v->subject = cs_strdup(l + 8);
		} else if (strncmp(l, "issuer=", 7) == 0) {
			v->issuer = cs_strdup(l + 7);
		} else if (strncmp(l, "notBefore=", 10) == 0) {
			ck_assert_int_eq(cs_time_parse(l + 10, &v->not_before),
			    0);
		} else if (strncmp(l, "notAfter=", 9) == 0) {
			ck_assert_int_eq(cs_time_parse(l + 9, &v->not_after),
			    0);
		} else if (strncmp(l, "sha256 Fingerprint=", 19) == 0) {
			char *o = v->fingerprint;

			for (const char *p = l + 19;
			     *p != '\0' &&
			     o < v->fingerprint + sizeof v->fingerprint - 1;
			     p++) {
				if (*p != ':')
					*o++ = (char)(*p >= 'A' && *p <= 'F'
							  ? *p + 32
							  : *p);
			}
		} else if (strncmp(l, "X509v3 Subject Alternative Name:", 32) ==
			   0) {
			san_next = true;
		} else if (strncmp(t, "Public-Key: (", 13) == 0) {
			v->key_bits = atoi(t + 13);
		} else if (strncmp(t, "NIST CURVE: ", 12) == 0) {
			snprintf(v->curve, sizeof v->curve, "%s", t + 12);
		} else if (strncmp(t, "ASN1 OID: ", 10) == 0 &&
			   v->curve[0] == '\0') {
			snprintf(v->curve, sizeof v->curve, "%s", t + 10);
		}
	}
	free(out);
	free(path);
	ck_assert_ptr_nonnull(v->subject);
	ck_assert_ptr_nonnull(v->issuer);
	ck_assert_ptr_nonnull(pk);
}

static void
ossl_free(struct ossl *v)
{
	free(v->subject);
	free(v->issuer);
	cs_names_free(&v->sans);
}

/* Every field the CLI prints, compared with the record. */
static void
assert_matches_openssl(const struct cs_cert_info *ci, const char *who)
{
	struct ossl v;
	char s[CS_SERIAL_TEXT_SIZE];
	char h[2 * CS_SHA256_LEN + 1];

	openssl_view(ci->der, ci->der_len, &v);
	cs_serial_format(&ci->serial, s);
	ck_assert_msg(strcmp(s, v.serial) == 0, "%s: serial %s, openssl %s",
	    who, s, v.serial);
	ck_assert_msg(strcmp(ci->subject, v.subject) == 0,
	    "%s: subject\n  '%s'\nopenssl\n  '%s'", who, ci->subject,
	    v.subject);
	ck_assert_msg(strcmp(ci->issuer, v.issuer) == 0,
	    "%s: issuer\n  '%s'\nopenssl\n  '%s'", who, ci->issuer, v.issuer);
	ck_assert_msg(ci->not_before == v.not_before,
	    "%s: not_before %lld, openssl %lld", who, (long long)ci->not_before,
	    (long long)v.not_before);
	ck_assert_msg(ci->not_after == v.not_after,
	    "%s: not_after %lld, openssl %lld", who, (long long)ci->not_after,
	    (long long)v.not_after);
	cs_hex_encode(ci->fingerprint, CS_SHA256_LEN, h);
	ck_assert_msg(strcmp(h, v.fingerprint) == 0,
	    "%s: fingerprint %s, openssl %s", who, h, v.fingerprint);
	cs_hex_encode(ci->key_id, CS_SHA256_LEN, h);
	ck_assert_msg(strcmp(h, v.key_id) == 0, "%s: key id %s, openssl %s",
	    who, h, v.key_id);
	if (ci->key_type == CS_KEY_RSA || ci->key_type == CS_KEY_EC)
		ck_assert_msg(ci->key_bits == v.key_bits,
		    "%s: key bits %d, openssl %d", who, ci->key_bits,
		    v.key_bits);
	if (ci->key_type == CS_KEY_EC)
		ck_assert_msg(strcmp(ci->curve, v.curve) == 0,
		    "%s: curve %s, openssl %s", who, ci->curve, v.curve);
	assert_strv_eq(&ci->sans.dns, &v.sans.dns, "SAN DNS", who);
	assert_strv_eq(&ci->sans.ip, &v.sans.ip, "SAN IP", who);
	assert_strv_eq(&ci->sans.uri, &v.sans.uri, "SAN URI", who);
	assert_strv_eq(&ci->sans.email, &v.sans.email, "SAN email", who);
	ossl_free(&v);
}

/* ---- (a) the system CA bundle ---- */

/* Parsed once in the parent (an unchecked fixture); the forked tests
 * inherit it. Failures are recorded here and asserted by the count test,
 * since an unchecked fixture is no place for ck_assert. */
static struct cs_cert_info **bundle;
static size_t bundle_n;
static int bundle_rc = CS_ENOTFOUND;
static char bundle_err[CS_ERRMSG_SIZE] = "not read";

static void
bundle_setup(void)
{
	size_t len;
	char *text = slurp(BUNDLE, &len);

	if (text == NULL)
		return;
	bundle_err[0] = '\0';
	bundle_rc = cs_x509_parse_bundle((uint8_t *)text, len, 10000, &bundle,
	    &bundle_n, bundle_err);
	free(text);
}

static void
bundle_teardown(void)
{
	if (bundle_rc == 0)
		cs_cert_info_free_all(bundle, bundle_n);
	bundle = NULL;
	bundle_n = 0;
}

START_TEST(test_parse_bundle_ca_certificates_count)
{
	size_t len;
	char *text = (char *)read_file(BUNDLE, &len);
	size_t want = count_substr(text, "-----BEGIN CERTIFICATE-----");

	ck_assert_msg(bundle_rc == 0, "%s: %s: %s", BUNDLE,
	    cs_errname(bundle_rc), bundle_err);
	ck_assert_uint_gt(want, 100); /* a real bundle, not a stub */
	ck_assert_uint_eq(bundle_n, want);
	free(text);
}
END_TEST

START_TEST(test_parse_bundle_ca_certificates_match_openssl)
{
	char who[64];

	/* _i may pass the count when a future bundle grows: the count test
	 * above catches that, this one must just not read past the end. */
	ck_assert_uint_lt((size_t)_i, bundle_n);
	snprintf(who, sizeof who, "bundle certificate %d", _i + 1);
	assert_matches_openssl(bundle[_i], who);
	ck_assert(bundle[_i]->key_type == CS_KEY_RSA ||
		  bundle[_i]->key_type == CS_KEY_EC);
}
END_TEST

/* Roots are CAs that sign certificates; their records must say so. */
START_TEST(test_parse_bundle_ca_certificates_are_cas)
{
	size_t self_issued = 0;

	for (size_t i = 0; i < bundle_n; i++) {
		const struct cs_cert_info *ci = bundle[i];

		ck_assert_msg(ci->ca, "bundle certificate %zu (%s) is not a CA",
		    i + 1, ci->subject);
		ck_assert_uint_gt(ci->der_len, 0);
		if (strcmp(ci->subject, ci->issuer) == 0)
			self_issued++;
		if (ci->has_key_usage)
			ck_assert_msg(ci->key_usage & CS_KU_KEY_CERT_SIGN,
			    "%s lacks keyCertSign", ci->subject);
	}
	ck_assert_uint_eq(self_issued, bundle_n);
}
END_TEST

/* ---- (b) generated certificates ---- */

static struct cs_cert_info *
parse_ok(const uint8_t *der, size_t len)
{
	struct cs_cert_info *ci = NULL;
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc = cs_x509_parse_der(der, len, &ci, errmsg);

	ck_assert_msg(rc == 0, "parse: %s: %s", cs_errname(rc), errmsg);
	ck_assert_ptr_nonnull(ci);
	return ci;
}

static const char *const full_dns[] = {"www.example.org", "*.example.org",
    NULL};
static const char *const full_ip[] = {"10.1.2.3", "2001:db8::1",
    "::ffff:192.0.2.1", "fe80::1:0:0:2", NULL};
static const char *const full_uri[] = {"https://example.org/a?b=c",
    "spiffe://hospital/ward/7", NULL};
static const char *const full_email[] = {"pki@example.org", NULL};

START_TEST(test_parse_der_leaf_every_field)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P384);
	struct cs_test_leaf leaf = {
	    .cn = "www.example.org",
	    .subject_extra = "O=Hospital,OU=Cardiology",
	    .dns = full_dns,
	    .ip = full_ip,
	    .uri = full_uri,
	    .email = full_email,
	    .not_before = 1700000000,
	    .not_after = 1800000000,
	    .serial = 0x1234567890abcdefULL,
	    .key = key,
	    .ocsp_url = "http://ocsp.example.org/",
	    .ca_issuers_url = "http://pki.example.org/inter.crt",
	    .crl_url = "http://pki.example.org/inter.crl",
	    .eku = "serverAuth,clientAuth,1.3.6.1.4.1.99999.7",
	    .key_usage = "digitalSignature,keyEncipherment",
	};
	static const char *const eku[] = {"serverAuth", "clientAuth",
	    "1.3.6.1.4.1.99999.7", NULL};
	static const char *const want_ip[] = {"10.1.2.3", "2001:db8::1",
	    "::ffff:192.0.2.1", "fe80::1:0:0:2", NULL};
	static const char *const ocsp[] = {"http://ocsp.example.org/", NULL};
	static const char *const cai[] = {"http://pki.example.org/inter.crt",
	    NULL};
	static const char *const crl[] = {"http://pki.example.org/inter.crl",
	    NULL};
	uint8_t want[CS_SHA256_LEN];
	unsigned char *spki = NULL;
	struct cs_cert_info *ci;
	X509 *x = NULL;
	const ASN1_OCTET_STRING *ski;
	char s[CS_SERIAL_TEXT_SIZE];
	size_t len;
	uint8_t *der = cs_test_issue(inter, &leaf, &len, &x);
	int n;

	ci = parse_ok(der, len);
	cs_serial_format(&ci->serial, s);
	ck_assert_str_eq(s, "1234567890abcdef");
	ck_assert(!ci->serial.neg);
	ck_assert_str_eq(ci->subject,
	    "CN=www.example.org,OU=Cardiology,O=Hospital");
	ck_assert_str_eq(ci->issuer, "CN=Test Intermediate");
	assert_strv(&ci->sans.dns, full_dns, "dns");
	assert_strv(&ci->sans.ip, want_ip, "ip");
	assert_strv(&ci->sans.uri, full_uri, "uri");
	assert_strv(&ci->sans.email, full_email, "email");
	ck_assert_uint_eq(cs_names_count(&ci->sans), 9);
	ck_assert_int_eq(ci->not_before, 1700000000);
	ck_assert_int_eq(ci->not_after, 1800000000);
	n = i2d_PUBKEY(key, &spki);
	ck_assert_int_gt(n, 0);
	sha256(spki, (size_t)n, want);
	ck_assert_mem_eq(ci->key_id, want, CS_SHA256_LEN);
	sha256(der, len, want);
	ck_assert_mem_eq(ci->fingerprint, want, CS_SHA256_LEN);
	ck_assert_int_eq(ci->key_type, CS_KEY_EC);
	ck_assert_int_eq(ci->key_bits, 384);
	ck_assert_str_eq(ci->curve, "P-384");
	ck_assert(!ci->ca);
	ck_assert_int_eq(ci->path_len, -1);
	ck_assert(ci->has_key_usage);
	ck_assert_uint_eq(ci->key_usage,
	    CS_KU_DIGITAL_SIGNATURE | CS_KU_KEY_ENCIPHERMENT);
	assert_strv(&ci->eku, eku, "eku");
	ski = X509_get0_subject_key_id(x);
	ck_assert_ptr_nonnull(ski);
	ck_assert_uint_eq(ci->ski_len, (size_t)ASN1_STRING_length(ski));
	ck_assert_mem_eq(ci->ski, ASN1_STRING_get0_data(ski), ci->ski_len);
	ski = X509_get0_subject_key_id(inter->cert);
	ck_assert_uint_eq(ci->aki_len, (size_t)ASN1_STRING_length(ski));
	ck_assert_mem_eq(ci->aki, ASN1_STRING_get0_data(ski), ci->aki_len);
	assert_strv(&ci->ocsp, ocsp, "ocsp");
	assert_strv(&ci->ca_issuers, cai, "caIssuers");
	assert_strv(&ci->crl_dp, crl, "crl_dp");
	ck_assert_uint_eq(ci->der_len, len);
	ck_assert_mem_eq(ci->der, der, len);
	assert_matches_openssl(ci, "leaf");
	cs_cert_info_free(ci);
	OPENSSL_free(spki);
	X509_free(x);
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

START_TEST(test_parse_der_leaf_defaults_are_absent)
{
	struct cs_test_leaf leaf = {0};
	size_t len;
	uint8_t *der = cs_test_issue(root, &leaf, &len, NULL);
	struct cs_cert_info *ci = parse_ok(der, len);

	ck_assert_str_eq(ci->subject, "CN=leaf");
	ck_assert_uint_eq(cs_names_count(&ci->sans), 0);
	ck_assert(!ci->has_key_usage);
	ck_assert_uint_eq(ci->key_usage, 0);
	ck_assert_uint_eq(ci->eku.n, 0);
	ck_assert_uint_eq(ci->crl_dp.n, 0);
	ck_assert_uint_eq(ci->ocsp.n, 0);
	ck_assert_uint_eq(ci->ca_issuers.n, 0);
	ck_assert_uint_ge(ci->serial.len, 15); /* 16 random bytes */
	ck_assert_int_eq(ci->not_after - ci->not_before, 90 * 86400);
	assert_matches_openssl(ci, "default leaf");
	cs_cert_info_free(ci);
	free(der);
}
END_TEST

START_TEST(test_parse_der_every_key_usage_bit)
{
	struct cs_test_leaf leaf = {
	    .key_usage = "digitalSignature,nonRepudiation,keyEncipherment,"
			 "dataEncipherment,keyAgreement,keyCertSign,cRLSign,"
			 "encipherOnly,decipherOnly",
	};
	size_t len;
	uint8_t *der = cs_test_issue(root, &leaf, &len, NULL);
	struct cs_cert_info *ci = parse_ok(der, len);

	ck_assert(ci->has_key_usage);
	ck_assert_uint_eq(ci->key_usage,
	    CS_KU_DIGITAL_SIGNATURE | CS_KU_NON_REPUDIATION |
		CS_KU_KEY_ENCIPHERMENT | CS_KU_DATA_ENCIPHERMENT |
		CS_KU_KEY_AGREEMENT | CS_KU_KEY_CERT_SIGN | CS_KU_CRL_SIGN |
		CS_KU_ENCIPHER_ONLY | CS_KU_DECIPHER_ONLY);
	cs_cert_info_free(ci);
	free(der);
}
END_TEST

START_TEST(test_parse_der_ca_and_path_length)
{
	struct cs_cert_info *r = parse_ok(root->der, root->der_len);
	struct cs_cert_info *i = parse_ok(inter->der, inter->der_len);
	struct cs_test_leaf leaf = {.ca = 1, .cn = "Sub CA"};
	size_t len;
	uint8_t *der = cs_test_issue(inter, &leaf, &len, NULL);
	struct cs_cert_info *l = parse_ok(der, len);

	ck_assert(r->ca);
	ck_assert_int_eq(r->path_len, -1);
	ck_assert_uint_eq(r->key_usage, CS_KU_KEY_CERT_SIGN | CS_KU_CRL_SIGN);
	ck_assert_str_eq(r->subject, r->issuer);
	/* A root's AKI names its own key. */
	ck_assert_uint_eq(r->aki_len, r->ski_len);
	ck_assert_mem_eq(r->aki, r->ski, r->ski_len);
	ck_assert(i->ca);
	ck_assert_int_eq(i->path_len, 0);
	ck_assert_str_eq(i->issuer, r->subject);
	ck_assert_uint_eq(i->aki_len, r->ski_len);
	ck_assert_mem_eq(i->aki, r->ski, r->ski_len);
	ck_assert(l->ca);
	ck_assert_int_eq(l->path_len, -1);
	assert_matches_openssl(r, "root");
	assert_matches_openssl(i, "intermediate");
	cs_cert_info_free(r);
	cs_cert_info_free(i);
	cs_cert_info_free(l);
	free(der);
}
END_TEST

static const struct {
	enum cs_test_key key;
	enum cs_key_type type;
	int bits;
	const char *curve;
} key_table[] = {
    {CS_TEST_P256, CS_KEY_EC, 256, "P-256"},
    {CS_TEST_P384, CS_KEY_EC, 384, "P-384"},
    {CS_TEST_P521, CS_KEY_EC, 521, "P-521"},
    {CS_TEST_SECP256K1, CS_KEY_EC, 256, "secp256k1"},
    {CS_TEST_RSA1024, CS_KEY_RSA, 1024, ""},
    {CS_TEST_RSA2048, CS_KEY_RSA, 2048, ""},
    {CS_TEST_RSA3072, CS_KEY_RSA, 3072, ""},
    {CS_TEST_RSA4096, CS_KEY_RSA, 4096, ""},
    {CS_TEST_ED25519, CS_KEY_ED25519, 255, ""},
    {CS_TEST_ED448, CS_KEY_ED448, 448, ""},
};

/* Every key type as the leaf's key and as the issuing CA's key (so the
 * signature algorithms vary too). */
START_TEST(test_parse_der_key_types)
{
	EVP_PKEY *key = cs_test_key_new(key_table[_i].key);
	struct cs_test_ca *ca =
	    cs_test_ca_new("Key CA", key_table[_i].key, NULL);
	struct cs_test_leaf leaf = {.key = key, .dns = full_dns};
	size_t len;
	uint8_t *der = cs_test_issue(ca, &leaf, &len, NULL);
	struct cs_cert_info *ci = parse_ok(der, len);
	struct cs_cert_info *cci = parse_ok(ca->der, ca->der_len);
	uint8_t want[CS_SHA256_LEN];
	unsigned char *spki = NULL;
	char who[64];
	int n;

	ck_assert_int_eq(ci->key_type, key_table[_i].type);
	ck_assert_int_eq(ci->key_bits, key_table[_i].bits);
	ck_assert_str_eq(ci->curve, key_table[_i].curve);
	ck_assert_int_eq(cci->key_type, key_table[_i].type);
	ck_assert_int_eq(cci->key_bits, key_table[_i].bits);
	n = i2d_PUBKEY(key, &spki);
	ck_assert_int_gt(n, 0);
	sha256(spki, (size_t)n, want);
	ck_assert_mem_eq(ci->key_id, want, CS_SHA256_LEN);
	OPENSSL_free(spki);
	spki = NULL;
	n = i2d_PUBKEY(ca->key, &spki);
	ck_assert_int_gt(n, 0);
	sha256(spki, (size_t)n, want);
	ck_assert_mem_eq(cci->key_id, want, CS_SHA256_LEN);
	OPENSSL_free(spki);
	snprintf(who, sizeof who, "%s leaf", cs_key_type_name(ci->key_type));
	assert_matches_openssl(ci, who);
	cs_cert_info_free(ci);
	cs_cert_info_free(cci);
	cs_test_ca_free(ca);
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

/* subject_extra -> the RFC 4514 text, most specific RDN first. Each row
 * is also checked against the openssl CLI. */
static const struct {
	const char *extra;
	const char *want;
} name_table[] = {
    {"O=Hospital,OU=Cardiology", "CN=leaf,OU=Cardiology,O=Hospital"},
    {"DC=org,DC=example", "CN=leaf,DC=example,DC=org"},
    /* RFC 4514 specials, leading '#' and space, trailing space */
    {"O=A\\,B,OU=a\\+b;c<d>e\"f\\\\g", "CN=leaf,OU=a\\+b\\;c\\<d\\>e\\\"f\\\\g,"
				       "O=A\\,B"},
    {"O=#hash,OU= lead,L=trail ", "CN=leaf,L=trail\\ ,OU=\\ lead,O=\\#hash"},
    /* multi-valued RDN: DER sorts the SET OF, openssl prints it
     * last-first: the order follows the encodings, not the input */
    {"O=A+OU=B,L=C", "CN=leaf,L=C,OU=B+O=A"},
    /* UTF-8 comes out raw (-esc_msb), 2- to 4-byte sequences */
    {"O=Hôpital Süd+OU=Kardiologie,L=Zürich",
	"CN=leaf,L=Zürich,O=Hôpital Süd+OU=Kardiologie"},
    {"O=東京病院,OU=😀", "CN=leaf,OU=😀,O=東京病院"},
    /* control characters are escaped as \XX */
    {"O=tab\there", "CN=leaf,O=tab\\09here"},
    /* emailAddress is an IA5String; an unknown OID dumps its DER */
    {"emailAddress=pki@example.org", "CN=leaf,emailAddress=pki@example.org"},
    {"1.2.3.4=foo", "CN=leaf,1.2.3.4=#0C03666F6F"},
};

START_TEST(test_parse_der_subject_rfc4514)
{
	struct cs_test_leaf leaf = {.subject_extra = name_table[_i].extra};
	size_t len;
	uint8_t *der = cs_test_issue(root, &leaf, &len, NULL);
	struct cs_cert_info *ci = parse_ok(der, len);

	ck_assert_str_eq(ci->subject, name_table[_i].want);
	assert_matches_openssl(ci, name_table[_i].extra);
	cs_cert_info_free(ci);
	free(der);
}
END_TEST

/* UTCTime before 1970 and GeneralizedTime after 2049. */
START_TEST(test_parse_der_times_outside_utctime_years)
{
	struct cs_test_leaf leaf = {
	    .not_before = -86400LL * 365 * 15, /* 1955 */
	    .not_after = 4102444800LL + 12345, /* 2100-01-01T03:25:45Z */
	};
	size_t len;
	uint8_t *der = cs_test_issue(root, &leaf, &len, NULL);
	struct cs_cert_info *ci = parse_ok(der, len);

	ck_assert_int_eq(ci->not_before, leaf.not_before);
	ck_assert_int_eq(ci->not_after, leaf.not_after);
	assert_matches_openssl(ci, "far dates");
	cs_cert_info_free(ci);
	free(der);
}
END_TEST

/* A leaf from the test PKI, changed by mutate() and signed again. */
static uint8_t *
craft(void (*mutate)(X509 *), size_t *len)
{
	struct cs_test_leaf leaf = {.dns = full_dns};
	X509 *x = NULL;
	uint8_t *der;

	free(cs_test_issue(root, &leaf, len, &x));
	mutate(x);
	ck_assert_int_gt(X509_sign(x, root->key, EVP_sha256()), 0);
	der = x509_der(x, len);
	X509_free(x);
	return der;
}

static void
set_serial_hex(X509 *x, const char *hexstr)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai;

	ck_assert_int_gt(BN_hex2bn(&bn, hexstr), 0);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	ck_assert_ptr_nonnull(ai);
	ck_assert_int_eq(X509_set_serialNumber(x, ai), 1);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
}

static void
negative_serial(X509 *x)
{
	set_serial_hex(x, "-00F00D");
}

static void
long_serial(X509 *x)
{
	/* 32 bytes: the most cs_serial keeps */
	set_serial_hex(x, "7fffffffffffffffffffffffffffffffffffffffffffffffffff"
			  "ffffffffffff");
}

static void
too_long_serial(X509 *x)
{
	set_serial_hex(x, "7fffffffffffffffffffffffffffffffffffffffffffffffffff"
			  "ffffffffffffff");
}

static void
zero_serial(X509 *x)
{
	set_serial_hex(x, "0");
}

START_TEST(test_parse_der_serial_forms)
{
	static const struct {
		void (*mutate)(X509 *);
		const char *want;
	} t[] = {
	    {negative_serial, "-f00d"},
	    {long_serial, "7fffffffffffffffffffffffffffffffffffffffffffffffff"
			  "ffffffffffffff"},
	    {zero_serial, "0"},
	};
	char s[CS_SERIAL_TEXT_SIZE];
	size_t len;

	for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
		uint8_t *der = craft(t[k].mutate, &len);
		struct cs_cert_info *ci = parse_ok(der, len);

		cs_serial_format(&ci->serial, s);
		ck_assert_str_eq(s, t[k].want);
		assert_matches_openssl(ci, t[k].want);
		cs_cert_info_free(ci);
		free(der);
	}
}
END_TEST

static void
sans_with(X509 *x, int type, const void *data, int len, int count)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	int loc = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);

	if (loc >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, loc));
	for (int i = 0; i < count; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_STRING *s = ASN1_STRING_type_new(
		    type == GEN_IPADD ? V_ASN1_OCTET_STRING : V_ASN1_IA5STRING);

		ck_assert_int_eq(ASN1_STRING_set(s, data, len), 1);
		GENERAL_NAME_set0_value(g, type, s);
		sk_GENERAL_NAME_push(gens, g);
	}
	ck_assert_int_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
			     X509V3_ADD_DEFAULT),
	    1);
	GENERAL_NAMES_free(gens);
}

static void
san_with_nul(X509 *x)
{
	static const char name[] = "good.example\0.evil.example";

	sans_with(x, GEN_DNS, name, sizeof name - 1, 1);
}

static void
san_with_control(X509 *x)
{
	sans_with(x, GEN_URI, "http://a/\x1b[31m", 14, 1);
}

static void
san_ip_bad_length(X509 *x)
{
	sans_with(x, GEN_IPADD, "\x0a\x00\x00\x01\x18", 5, 1);
}

static void
sans_at_cap(X509 *x)
{
	sans_with(x, GEN_DNS, "a.example", 9, CS_X509_MAX_SANS);
}

static void
sans_over_cap(X509 *x)
{
	sans_with(x, GEN_DNS, "a.example", 9, CS_X509_MAX_SANS + 1);
}

static void
duplicate_san(X509 *x)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	ck_assert_ptr_nonnull(gens);
	ck_assert_int_eq(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
			     X509V3_ADD_APPEND),
	    1);
	GENERAL_NAMES_free(gens);
}

static void
set_basic(X509 *x, int ca, long pathlen)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();

	bc->ca = ca;
	bc->pathlen = ASN1_INTEGER_new();
	ASN1_INTEGER_set(bc->pathlen, pathlen);
	ck_assert_int_eq(X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1,
			     X509V3_ADD_REPLACE),
	    1);
	BASIC_CONSTRAINTS_free(bc);
}

static void
ca_pathlen_7(X509 *x)
{
	set_basic(x, 0xff, 7);
}

static void
ca_pathlen_negative(X509 *x)
{
	set_basic(x, 0xff, -1);
}

static void
pathlen_on_non_ca(X509 *x)
{
	set_basic(x, 0, 3);
}

static void
long_ski(X509 *x)
{
	ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
	uint8_t b[65];

	memset(b, 0xab, sizeof b);
	ASN1_OCTET_STRING_set(id, b, sizeof b);
	ck_assert_int_eq(X509_add1_ext_i2d(x, NID_subject_key_identifier, id, 0,
			     X509V3_ADD_REPLACE),
	    1);
	ASN1_OCTET_STRING_free(id);
}

START_TEST(test_parse_der_crafted_extensions)
{
	static const struct {
		void (*mutate)(X509 *);
		int rc;
		const char *needle;
	} t[] = {
	    {too_long_serial, CS_ETOOBIG, "serial"},
	    {san_with_nul, CS_EINVAL, "SAN DNS name: byte 0x00"},
	    {san_with_control, CS_EINVAL, "SAN URI: byte 0x1b"},
	    {san_ip_bad_length, CS_EINVAL, "IP address of 5 bytes"},
	    {sans_over_cap, CS_ETOOBIG, "1025 subject alternative names"},
	    {duplicate_san, CS_EINVAL, "extension"},
	    {ca_pathlen_negative, CS_EINVAL, "negative pathLenConstraint"},
	    {long_ski, CS_EINVAL, "subjectKeyIdentifier of 65 bytes"},
	};
	static struct cs_cert_info untouched;
	struct cs_cert_info *out = &untouched;
	char errmsg[CS_ERRMSG_SIZE];
	size_t len;

	for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
		uint8_t *der = craft(t[k].mutate, &len);
		int rc;

		errmsg[0] = '\0';
		rc = cs_x509_parse_der(der, len, &out, errmsg);
		ck_assert_msg(rc == t[k].rc, "case %zu: %s, want %s (%s)", k,
		    cs_errname(rc), cs_errname(t[k].rc), errmsg);
		ck_assert_ptr_eq(out, &untouched);
		ck_assert_msg(strstr(errmsg, t[k].needle) != NULL,
		    "case %zu: '%s' lacks '%s'", k, errmsg, t[k].needle);
		free(der);
	}
}
END_TEST

START_TEST(test_parse_der_san_cap_and_pathlen_accepted)
{
	size_t len;
	uint8_t *der = craft(sans_at_cap, &len);
	struct cs_cert_info *ci = parse_ok(der, len);

	ck_assert_uint_eq(ci->sans.dns.n, CS_X509_MAX_SANS);
	cs_cert_info_free(ci);
	free(der);
	der = craft(ca_pathlen_7, &len);
	ci = parse_ok(der, len);
	ck_assert(ci->ca);
	ck_assert_int_eq(ci->path_len, 7);
	cs_cert_info_free(ci);
	free(der);
	/* RFC 5280 4.2.1.9: the path length means something only with cA;
	 * such certificates exist, so they parse, without a path length. */
	der = craft(pathlen_on_non_ca, &len);
	ci = parse_ok(der, len);
	ck_assert(!ci->ca);
	ck_assert_int_eq(ci->path_len, -1);
	cs_cert_info_free(ci);
	free(der);
}
END_TEST

/* ---- PEM, bundles, DER to PEM ---- */

static uint8_t *
leaf_der(const char *cn, size_t *len)
{
	struct cs_test_leaf leaf = {.cn = cn};

	return cs_test_issue(inter, &leaf, len, NULL);
}

START_TEST(test_parse_bundle_pem_mixed_text)
{
	size_t l1, l2, n = 0;
	uint8_t *d1 = leaf_der("one", &l1);
	uint8_t *d2 = leaf_der("two", &l2);
	char *p1 = cs_test_pem(d1, l1);
	char *p2 = cs_test_pem(d2, l2);
	struct cs_buf b;
	struct cs_cert_info **v = NULL;
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc;

	/* Comments, a CRL-ish block and a key block between certificates,
	 * CRLF line ends on the second one: all as openssl tolerates. */
	cs_buf_init(&b, 1 << 20);
	cs_buf_printf(&b, "# leaf one\nsubject=CN=one\n%s\n", p1);
	cs_buf_printf(&b, "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n"
			  "-----END PRIVATE KEY-----\n");
	for (const char *p = p2; *p != '\0'; p++) {
		if (*p == '\n')
			cs_buf_append_byte(&b, '\r');
		cs_buf_append_byte(&b, (uint8_t)*p);
	}
	cs_buf_printf(&b, "-----BEGIN X509 CRL-----\nAAAA\n"
			  "-----END X509 CRL-----\ntrailing words");
	rc = cs_x509_parse_bundle(b.data, b.len, 10, &v, &n, errmsg);
	ck_assert_msg(rc == 0, "%s", errmsg);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0]->subject, "CN=one");
	ck_assert_str_eq(v[1]->subject, "CN=two");
	ck_assert_mem_eq(v[1]->der, d2, l2);
	cs_cert_info_free_all(v, n);
	cs_buf_close(&b);
	free(p1);
	free(p2);
	free(d1);
	free(d2);
}
END_TEST

START_TEST(test_parse_bundle_single_der_and_x509_label)
{
	size_t len, n = 0;
	uint8_t *der = leaf_der("der", &len);
	struct cs_cert_info **v = NULL;
	char errmsg[CS_ERRMSG_SIZE] = "";
	char *pem, *p;

	ck_assert_int_eq(cs_x509_parse_bundle(der, len, 1, &v, &n, errmsg), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0]->subject, "CN=der");
	cs_cert_info_free_all(v, n);
	/* The old "X509 CERTIFICATE" label is a certificate too. */
	pem = cs_x509_der_to_pem(der, len);
	p = cs_malloc(strlen(pem) + 16);
	sprintf(p, "%.11sX509 %s", pem, pem + 11);
	*strstr(p, "-----END ") = '\0';
	strcat(p, "-----END X509 CERTIFICATE-----\n");
	ck_assert_int_eq(cs_x509_parse_bundle((uint8_t *)p, strlen(p), 1, &v,
			     &n, errmsg),
	    0);
	ck_assert_uint_eq(n, 1);
	cs_cert_info_free_all(v, n);
	free(p);
	free(pem);
	free(der);
}
END_TEST

START_TEST(test_der_to_pem_matches_openssl_and_round_trips)
{
	size_t len, n = 0;
	uint8_t *der = leaf_der("pem", &len);
	char *mine = cs_x509_der_to_pem(der, len);
	char *theirs = cs_test_pem(der, len);
	struct cs_cert_info **v = NULL;
	char errmsg[CS_ERRMSG_SIZE] = "";

	ck_assert_str_eq(mine, theirs);
	ck_assert_int_eq(cs_x509_parse_bundle((uint8_t *)mine, strlen(mine), 1,
			     &v, &n, errmsg),
	    0);
	ck_assert_uint_eq(v[0]->der_len, len);
	ck_assert_mem_eq(v[0]->der, der, len);
	cs_cert_info_free_all(v, n);
	free(mine);
	free(theirs);
	free(der);
}
END_TEST

/* Lengths around the 48-byte line boundary and the base64 padding. */
START_TEST(test_der_to_pem_line_lengths)
{
	uint8_t buf[200];
	uint8_t *back = NULL;
	size_t back_len;
	char *pem, *theirs;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof buf; len++) {
		pem = cs_x509_der_to_pem(buf, len);
		if (len > 0) {
			theirs = cs_test_pem(buf, len);
			ck_assert_str_eq(pem, theirs);
			free(theirs);
			ck_assert_int_eq(cs_base64_decode((uint8_t *)pem + 28,
					     strlen(pem) - 28 - 26, len, &back,
					     &back_len, NULL),
			    0);
			ck_assert_uint_eq(back_len, len);
			ck_assert_mem_eq(back, buf, len);
			free(back);
		}
		free(pem);
	}
}
END_TEST

/* ---- (c) bad input ---- */

static struct cs_cert_info untouched_ci;

static void
expect_der_error(const uint8_t *p, size_t n, int want, const char *needle)
{
	struct cs_cert_info *out = &untouched_ci;
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc = cs_x509_parse_der(p, n, &out, errmsg);

	ck_assert_msg(rc == want, "len %zu: %s, want %s (%s)", n,
	    cs_errname(rc), cs_errname(want), errmsg);
	ck_assert_ptr_eq(out, &untouched_ci);
	ck_assert_msg(errmsg[0] != '\0', "empty errmsg");
	ck_assert_msg(needle == NULL || strstr(errmsg, needle) != NULL,
	    "errmsg '%s' lacks '%s'", errmsg, needle);
}

static void
expect_bundle_error(const void *p, size_t n, size_t max, int want,
    const char *needle)
{
	struct cs_cert_info *sentinel[1] = {&untouched_ci};
	struct cs_cert_info **out = sentinel;
	size_t count = 4242;
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc = cs_x509_parse_bundle(p, n, max, &out, &count, errmsg);

	ck_assert_msg(rc == want, "%s, want %s (%s)", cs_errname(rc),
	    cs_errname(want), errmsg);
	ck_assert_ptr_eq(out, sentinel);
	ck_assert_uint_eq(count, 4242);
	ck_assert_msg(errmsg[0] != '\0', "empty errmsg");
	ck_assert_msg(needle == NULL || strstr(errmsg, needle) != NULL,
	    "errmsg '%s' lacks '%s'", errmsg, needle);
}

START_TEST(test_parse_der_empty)
{
	expect_der_error((const uint8_t *)"", 0, CS_EINVAL, "empty");
	expect_bundle_error("", 0, 10, CS_EINVAL, "empty");
}
END_TEST

START_TEST(test_parse_der_truncated)
{
	size_t len;
	uint8_t *der = leaf_der("cut", &len);
	const size_t cuts[] = {1, 2, 3, 4, 10, 100, len / 2, len - 1};

	for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
		expect_der_error(der, cuts[k], CS_EINVAL, "truncated");
		expect_bundle_error(der, cuts[k], 10, CS_EINVAL, "truncated");
	}
	free(der);
}
END_TEST

START_TEST(test_parse_der_garbage)
{
	static const uint8_t junk[] = "\x30\x82\x00\x05hello";
	uint8_t rnd[512];
	size_t len;
	uint8_t *der = leaf_der("garbage", &len);

	for (size_t i = 0; i < sizeof rnd; i++)
		rnd[i] = (uint8_t)(i * 131 + 17);
	expect_der_error(rnd, sizeof rnd, CS_EINVAL, "not DER");
	expect_der_error((const uint8_t *)"hello, world", 12, CS_EINVAL,
	    "not DER");
	expect_der_error(junk, sizeof junk - 1, CS_EINVAL, "minimal");
	expect_der_error((const uint8_t *)"\x30\x80\x00\x00", 4, CS_EINVAL,
	    "indefinite");
	/* Right outer length, broken inside: OpenSSL's reason comes out. */
	der[4] = 0x31; /* TBSCertificate tag: SET instead of SEQUENCE */
	expect_der_error(der, len, CS_EINVAL, "bad DER");
	free(der);
}
END_TEST

START_TEST(test_parse_der_trailing_garbage)
{
	size_t len;
	uint8_t *der = leaf_der("trailing", &len);
	uint8_t *more = cs_malloc(len + 3);

	memcpy(more, der, len);
	memcpy(more + len, "\0\0\x01", 3);
	expect_der_error(more, len + 3, CS_EINVAL, "3 bytes of trailing data");
	expect_bundle_error(more, len + 3, 10, CS_EINVAL, "trailing");
	memcpy(more + len, "\x30\x00", 2); /* a second, empty SEQUENCE */
	expect_der_error(more, len + 2, CS_EINVAL, "2 bytes of trailing data");
	free(more);
	free(der);
}
END_TEST

START_TEST(test_parse_der_oversized)
{
	size_t n = CS_X509_MAX_DER + 1;
	uint8_t *big = cs_calloc(1, n);
	char *pem;

	big[0] = 0x30;
	big[1] = 0x83;
	big[2] = (uint8_t)((n - 5) >> 16);
	big[3] = (uint8_t)((n - 5) >> 8);
	big[4] = (uint8_t)(n - 5);
	expect_der_error(big, n, CS_ETOOBIG, "at most 65536");
	expect_bundle_error(big, n, 10, CS_ETOOBIG, "at most 65536");
	/* the same bytes as PEM hit the cap while decoding base64 */
	pem = cs_test_pem(big, n);
	expect_bundle_error(pem, strlen(pem), 10, CS_ETOOBIG, "block 1");
	free(pem);
	free(big);
}
END_TEST

START_TEST(test_parse_bundle_pem_without_end)
{
	size_t len;
	uint8_t *der = leaf_der("noend", &len);
	char *pem = cs_test_pem(der, len);
	char *full;
	struct cs_buf b;

	cs_buf_init(&b, 1 << 20);
	cs_buf_append_str(&b, pem);
	*strstr(pem, "-----END") = '\0';
	cs_buf_append_str(&b, pem);
	expect_bundle_error(b.data, b.len, 10, CS_EINVAL,
	    "block 2 (CERTIFICATE): no END line");
	cs_buf_reset(&b);
	cs_buf_printf(&b, "%s-----END PRIVATE KEY-----\n", pem);
	expect_bundle_error(b.data, b.len, 10, CS_EINVAL,
	    "END line does not match");
	/* the first of two blocks lacks its END */
	full = cs_test_pem(der, len);
	cs_buf_reset(&b);
	cs_buf_printf(&b, "%s%s", pem, full);
	expect_bundle_error(b.data, b.len, 10, CS_EINVAL,
	    "block 1 (CERTIFICATE): no END line before the "
	    "next BEGIN");
	cs_buf_close(&b);
	free(full);
	free(pem);
	free(der);
}
END_TEST

START_TEST(test_parse_bundle_pem_corrupt_base64)
{
	size_t len;
	uint8_t *der = leaf_der("b64", &len);
	char *pem = cs_test_pem(der, len);
	char *body = strchr(pem, '\n') + 1;
	char *copy;

	copy = cs_strdup(pem);
	copy[body - pem + 10] = '*';
	expect_bundle_error(copy, strlen(copy), 10, CS_EINVAL,
	    "block 1 (CERTIFICATE): bad base64: '*'");
	free(copy);
	copy = cs_strdup(pem);
	copy[body - pem + 5] = '='; /* padding in the middle */
	expect_bundle_error(copy, strlen(copy), 10, CS_EINVAL, "bad base64");
	free(copy);
	copy = cs_strdup(pem);
	body = copy + (body - pem);
	memmove(body + 1, body + 2, strlen(body + 2) + 1); /* drop 1 char */
	expect_bundle_error(copy, strlen(copy), 10, CS_EINVAL, "groups of 4");
	free(copy);
	free(pem);
	/* valid base64 of a broken certificate names the block too */
	der[4] = 0x31; /* TBSCertificate tag: SET instead of SEQUENCE */
	pem = cs_test_pem(der, len);
	expect_bundle_error(pem, strlen(pem), 10, CS_EINVAL, "block 1");
	free(pem);
	free(der);
}
END_TEST

START_TEST(test_parse_bundle_over_max_certs)
{
	size_t len;
	uint8_t *der = leaf_der("many", &len);
	char *pem = cs_test_pem(der, len);
	struct cs_buf b;

	cs_buf_init(&b, 1 << 20);
	for (int i = 0; i < 4; i++)
		cs_buf_append_str(&b, pem);
	expect_bundle_error(b.data, b.len, 3, CS_ETOOBIG, "more than 3");
	expect_bundle_error(pem, strlen(pem), 0, CS_ETOOBIG, "more than 0");
	expect_bundle_error(der, len, 0, CS_ETOOBIG, "more than 0");
	cs_buf_close(&b);
	free(pem);
	free(der);
}
END_TEST

START_TEST(test_parse_bundle_no_certificate_block)
{
	static const char key[] = "-----BEGIN PRIVATE KEY-----\n"
				  "MC4CAQAwBQYDK2VwBCIEIGNvZmZlZQ==\n"
				  "-----END PRIVATE KEY-----\n";
	static const char text[] = "hello\n-----BEGIN nothing here\n";

	expect_bundle_error(key, strlen(key), 10, CS_EINVAL,
	    "no CERTIFICATE block");
	expect_bundle_error(text, strlen(text), 10, CS_EINVAL,
	    "no CERTIFICATE block");
}
END_TEST

/* ---- small functions ---- */

START_TEST(test_key_type_name_round_trip)
{
	enum cs_key_type t = CS_KEY__MAX;

	ck_assert_int_eq(cs_key_type_parse(cs_key_type_name(_i), &t), 0);
	ck_assert_int_eq(t, _i);
}
END_TEST

START_TEST(test_key_type_parse_rejects)
{
	enum cs_key_type t = CS_KEY_RSA;

	ck_assert_str_eq(cs_key_type_name(CS_KEY_ED25519), "ed25519");
	ck_assert_str_eq(cs_key_type_name(CS_KEY__MAX), "unknown");
	ck_assert_str_eq(cs_key_type_name((enum cs_key_type) - 1), "unknown");
	ck_assert_int_eq(cs_key_type_parse("RSA", &t), CS_EINVAL);
	ck_assert_int_eq(cs_key_type_parse("", &t), CS_EINVAL);
	ck_assert_int_eq(cs_key_type_parse("ecdsa", &t), CS_EINVAL);
	ck_assert_int_eq(t, CS_KEY_RSA);
}
END_TEST

/* cs_dn_fast() against OpenSSL: each name is built by OpenSSL; when the
 * fast path takes it, the text must be what X509_NAME_print_ex() gives;
 * names it must leave to OpenSSL are listed as such. */
static const struct {
	const char *fields[4][2]; /* {short name, value} */
	int type;                 /* MBSTRING_ASC or V_ASN1_* */
	int multi;                /* 1: the last two in one RDN */
	int fast;                 /* 1: the fast path must take it */
} dn_table[] = {
    {{{"CN", "pump-1.site-a.test"}}, MBSTRING_ASC, 0, 1},
    {{{"C", "DE"}, {"O", "St. Elsewhere"}, {"OU", "ICU"}, {"CN", "Monitor #4"}},
	MBSTRING_ASC, 0, 1},
    {{{"DC", "test"}, {"DC", "hospital"}, {"UID", "u42"},
	 {"emailAddress", "pki@hospital.test"}},
	MBSTRING_ASC, 0, 1},
    {{{"serialNumber", "SN-1"}, {"SN", "Doe"}, {"GN", "Jane"},
	 {"title", "Dr."}},
	MBSTRING_ASC, 0, 1},
    {{{"street", "1 Main St"}, {"postalCode", "12345"}, {"L", "Town"},
	 {"ST", "State"}},
	MBSTRING_ASC, 0, 1},
    {{{"dnQualifier", "q=1"}}, MBSTRING_ASC, 0, 1},
    {{{"CN", "a,b"}}, MBSTRING_ASC, 0, 0},
    {{{"CN", "a+b"}}, MBSTRING_ASC, 0, 0},
    {{{"CN", "#hash"}}, MBSTRING_ASC, 0, 0},
    {{{"CN", " lead"}}, MBSTRING_ASC, 0, 0},
    {{{"CN", "trail "}}, MBSTRING_ASC, 0, 0},
    {{{"CN", "quo\"te"}}, MBSTRING_ASC, 0, 0},
    {{{"CN", "back\\slash"}}, MBSTRING_ASC, 0, 0},
    {{{"CN", "<angle>"}}, MBSTRING_ASC, 0, 0},
    {{{"CN", "semi;colon"}}, MBSTRING_ASC, 0, 0},
    {{{"CN", "caf\xc3\xa9"}}, MBSTRING_UTF8, 0, 0},
    {{{"O", "x"}, {"CN", "a"}, {"OU", "b"}}, MBSTRING_ASC, 1, 0},
    {{{"businessCategory", "Hospital"}}, MBSTRING_ASC, 0, 0},
};

START_TEST(test_dn_fast_matches_openssl)
{
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	char *fast = NULL, *slow = NULL;
	char errmsg[CS_ERRMSG_SIZE];
	int len, took;
	size_t n = 0;

	while (n < 4 && dn_table[_i].fields[n][0] != NULL)
		n++;
	for (size_t k = 0; k < n; k++) {
		int set = dn_table[_i].multi && k == n - 1 ? -1 : 0;

		ck_assert_int_eq(X509_NAME_add_entry_by_txt(name,
				     dn_table[_i].fields[k][0],
				     dn_table[_i].type,
				     (const unsigned char *)dn_table[_i]
					 .fields[k][1],
				     -1, -1, set),
		    1);
	}
	len = i2d_X509_NAME(name, &der);
	ck_assert_int_gt(len, 0);
	took = cs_dn_fast(der, (size_t)len, &fast);
	ck_assert_int_eq(took, dn_table[_i].fast);
	ck_assert_int_eq(cs_x509__name_text(name, &slow, errmsg), 0);
	if (took)
		ck_assert_str_eq(fast, slow);
	free(fast);
	free(slow);
	OPENSSL_free(der);
	X509_NAME_free(name);
}
END_TEST

START_TEST(test_dn_fast_refuses_malformed)
{
	static const struct {
		const char *der;
		size_t len;
	} bad[] = {
	    {"", 0},
	    {"\x30", 1},
	    {"\x30\x03\x31\x01", 4}, /* truncated */
	    {"\x30\x02\x31\x00", 4}, /* empty RDN */
	    {"\x30\x00\x00", 3},     /* trailing byte */
	    {"\x31\x00", 2},         /* SET, not SEQUENCE */
	    {"\x30\x0b\x31\x09\x30\x07\x06\x03\x55\x04\x03\x05\x00", 13},
	    /* well formed, but a BMPString: OpenSSL's to print */
	    {"\x30\x0f\x31\x0d\x30\x0b\x06\x03\x55\x04\x03\x1e\x04"
	     "\x00\x41\x00\x42",
		17},
	};
	char *out = NULL;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(cs_dn_fast((const uint8_t *)bad[i].der,
				     bad[i].len, &out),
		    0);
		ck_assert_ptr_null(out);
	}
	ck_assert_int_eq(cs_dn_fast((const uint8_t *)"\x30\x00", 2, &out), 1);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

START_TEST(test_names_free_and_count)
{
	struct cs_names n = {0};

	ck_assert_uint_eq(cs_names_count(&n), 0);
	strv_add(&n.dns, "a");
	strv_add(&n.dns, "b");
	strv_add(&n.ip, "1.2.3.4");
	strv_add(&n.email, "x@y");
	ck_assert_uint_eq(cs_names_count(&n), 4);
	cs_names_free(&n);
	ck_assert_uint_eq(cs_names_count(&n), 0);
	ck_assert_ptr_null(n.dns.v);
	cs_names_free(&n); /* twice is fine */
	cs_cert_info_free(NULL);
	cs_cert_info_free_all(NULL, 0);
}
END_TEST

/* ---- (d) the strict DER reader against OpenSSL's path ---- */

/* cs_x509_parse_der() reads names, times and extensions with the strict
 * DER reader when they are plain, and leaves the rest to OpenSSL;
 * cs_x509__parse_der_openssl() leaves everything to OpenSSL. Both must
 * give the same result, refusal message or record, on every input. The
 * tables below also say which inputs the reader must take itself, so
 * that a reader that declined everything would not pass. */

/* Asserts that both paths agree on der; returns whether they accepted. */
static int
paths_agree(const uint8_t *der, size_t len, const char *who)
{
	char why[CS_CERTCMP_WHY_SIZE];
	int accepted = 0;

	ck_assert_msg(cs_certcmp_paths(der, len, &accepted, why) == 0,
	    "%s: the paths disagree: %s", who, why);
	return accepted;
}

/* Whether cert/ext.c reads der's extensions itself. */
static int
ext_fast(const uint8_t *der, size_t len)
{
	struct cs_der_cert dc;
	struct cs_cert_info t;
	int took;

	ck_assert_int_eq(cs_der_cert_split(der, len, &dc, NULL), 0);
	memset(&t, 0, sizeof t);
	took = cs_ext_fast(dc.extensions.p, dc.extensions.len, &t);
	cs_names_free(&t.sans);
	cs_strv_free(&t.eku);
	cs_strv_free(&t.crl_dp);
	cs_strv_free(&t.ocsp);
	cs_strv_free(&t.ca_issuers);
	return took;
}

/* Both paths accept der, and the reader takes its times and extensions. */
static void
assert_fast_and_agree(const uint8_t *der, size_t len, const char *who)
{
	struct cs_der_cert dc;
	int64_t t;

	ck_assert_msg(paths_agree(der, len, who), "%s: refused", who);
	ck_assert_msg(ext_fast(der, len), "%s: extensions left to OpenSSL",
	    who);
	ck_assert_int_eq(cs_der_cert_split(der, len, &dc, NULL), 0);
	ck_assert_msg(cs_der_time(dc.not_before, &t) &&
			  cs_der_time(dc.not_after, &t),
	    "%s: times left to OpenSSL", who);
}

START_TEST(test_parse_der_paths_agree_bundle)
{
	char who[64];
	size_t fast = 0;

	ck_assert_int_eq(bundle_rc, 0);
	for (size_t i = 0; i < bundle_n; i++) {
		snprintf(who, sizeof who, "bundle certificate %zu", i + 1);
		ck_assert_msg(paths_agree(bundle[i]->der, bundle[i]->der_len,
				  who),
		    "%s refused", who);
		fast += (size_t)ext_fast(bundle[i]->der, bundle[i]->der_len);
	}
	/* Roots have the odd name constraint or authorityCertIssuer, but
	 * most are plain. */
	ck_assert_msg(fast * 2 > bundle_n, "only %zu of %zu read directly",
	    fast, bundle_n);
}
END_TEST

static const char *const eku_all[] = {"serverAuth", "clientAuth", "codeSigning",
    "emailProtection", "ipsecEndSystem", "ipsecTunnel", "ipsecUser",
    "timeStamping", "OCSPSigning", "ipsecIKE", "anyExtendedKeyUsage", "msSGC",
    "nsSGC", "1.3.6.1.4.1.99999.7", NULL};
static const char *const more_ip[] = {"::", "::1",
    "2001:db8:0:1::", "1:2:3:4:5:6:7:8", "2001:db8::8:800:200c:417a", "0.0.0.0",
    "255.255.255.255", "127.0.0.1", NULL};

/* The test PKI's leaves with every option of struct cs_test_leaf. */
static const struct {
	const char *who;
	struct cs_test_leaf leaf;
	enum cs_test_key key;
	const char *const *eku; /* the record's, when given */
} fast_leaves[] = {
    {"every option",
	{
	    .cn = "www.example.org",
	    .subject_extra = "O=Hospital,OU=Cardiology",
	    .dns = full_dns,
	    .ip = full_ip,
	    .uri = full_uri,
	    .email = full_email,
	    .not_before = 1700000000,
	    .not_after = 1800000000,
	    .serial = 0x1234567890abcdefULL,
	    .ocsp_url = "http://ocsp.example.org/",
	    .ca_issuers_url = "http://pki.example.org/inter.crt",
	    .crl_url = "http://pki.example.org/inter.crl",
	    .eku = "serverAuth,clientAuth,1.3.6.1.4.1.99999.7",
	    .key_usage = "digitalSignature,keyEncipherment",
	},
	CS_TEST_P384, NULL},
    {"defaults", {0}, CS_TEST_P256, NULL},
    {"every key usage",
	{.key_usage = "digitalSignature,nonRepudiation,keyEncipherment,"
		      "dataEncipherment,keyAgreement,keyCertSign,cRLSign,"
		      "encipherOnly,decipherOnly"},
	CS_TEST_P256, NULL},
    {"every key purpose",
	{.eku = "serverAuth,clientAuth,codeSigning,"
		"emailProtection,ipsecEndSystem,"
		"ipsecTunnel,ipsecUser,timeStamping,"
		"OCSPSigning,ipsecIKE,anyExtendedKeyUsage,"
		"msSGC,nsSGC,1.3.6.1.4.1.99999.7"},
	CS_TEST_P256, eku_all},
    {"IPv4 and IPv6 forms", {.ip = more_ip, .dns = full_dns}, CS_TEST_P256,
	NULL},
    {"sub-CA", {.ca = 1, .cn = "Sub CA", .key_usage = "keyCertSign"},
	CS_TEST_P256, NULL},
    {"OCSP only", {.ocsp_url = "http://o/"}, CS_TEST_P256, NULL},
    {"caIssuers only", {.ca_issuers_url = "http://c/ca.crt"}, CS_TEST_P256,
	NULL},
    {"far dates",
	{.not_before = -86400LL * 365 * 15, .not_after = 4102444800LL + 12345},
	CS_TEST_P256, NULL},
    {"UTCTime edges", {.not_before = 0, .not_after = 2524607999LL},
	CS_TEST_P256, NULL},
    {"RSA", {.dns = full_dns}, CS_TEST_RSA2048, NULL},
    {"Ed25519", {.dns = full_dns}, CS_TEST_ED25519, NULL},
};

START_TEST(test_parse_der_paths_agree_leaves)
{
	EVP_PKEY *key = cs_test_key_new(fast_leaves[_i].key);
	struct cs_test_leaf leaf = fast_leaves[_i].leaf;
	size_t len;
	uint8_t *der;

	leaf.key = key;
	der = cs_test_issue(inter, &leaf, &len, NULL);
	assert_fast_and_agree(der, len, fast_leaves[_i].who);
	if (fast_leaves[_i].eku != NULL) {
		struct cs_cert_info *ci = parse_ok(der, len);

		assert_strv(&ci->eku, fast_leaves[_i].eku, "eku");
		cs_cert_info_free(ci);
	}
	free(der);
	EVP_PKEY_free(key);
}
END_TEST

/* The CAs, every key type as leaf and CA key, and the subject names of
 * name_table. */
START_TEST(test_parse_der_paths_agree_cas_keys_names)
{
	size_t len;
	uint8_t *der;

	assert_fast_and_agree(root->der, root->der_len, "root");
	assert_fast_and_agree(inter->der, inter->der_len, "intermediate");
	for (size_t i = 0; i < sizeof key_table / sizeof key_table[0]; i++) {
		EVP_PKEY *key = cs_test_key_new(key_table[i].key);
		struct cs_test_ca *ca =
		    cs_test_ca_new("Key CA", key_table[i].key, NULL);
		struct cs_test_leaf leaf = {.key = key, .dns = full_dns};

		der = cs_test_issue(ca, &leaf, &len, NULL);
		assert_fast_and_agree(der, len, "key type leaf");
		assert_fast_and_agree(ca->der, ca->der_len, "key type CA");
		free(der);
		cs_test_ca_free(ca);
		EVP_PKEY_free(key);
	}
	for (size_t i = 0; i < sizeof name_table / sizeof name_table[0]; i++) {
		struct cs_test_leaf leaf = {
		    .subject_extra = name_table[i].extra};

		der = cs_test_issue(root, &leaf, &len, NULL);
		assert_fast_and_agree(der, len, name_table[i].extra);
		free(der);
	}
}
END_TEST

/* The crafted certificates of the tests above. */
static const struct {
	void (*mutate)(X509 *);
	int ext_fast; /* 1: cert/ext.c reads the extensions */
	int ok;       /* 1: the certificate parses */
} crafted[] = {
    {negative_serial, 1, 1},
    {long_serial, 1, 1},
    {too_long_serial, 1, 0},
    {zero_serial, 1, 1},
    {san_with_nul, 0, 0},
    {san_with_control, 0, 0},
    {san_ip_bad_length, 0, 0},
    {sans_at_cap, 1, 1},
    {sans_over_cap, 0, 0},
    {duplicate_san, 0, 0},
    {ca_pathlen_7, 1, 1},
    {ca_pathlen_negative, 0, 0},
    {pathlen_on_non_ca, 1, 1},
    {long_ski, 0, 0},
};

START_TEST(test_parse_der_paths_agree_crafted)
{
	size_t len;
	uint8_t *der = craft(crafted[_i].mutate, &len);
	char who[32];

	snprintf(who, sizeof who, "crafted %d", _i);
	ck_assert_int_eq(paths_agree(der, len, who), crafted[_i].ok);
	ck_assert_int_eq(ext_fast(der, len), crafted[_i].ext_fast);
	free(der);
}
END_TEST

/* One extension with the given value (DER contents of its OCTET STRING,
 * in hex), replacing the leaf's extensions of that type; every other
 * extension certstore reads is present too. */
static const struct {
	const char *oid; /* dotted */
	int crit;
	const char *hex;
	int fast; /* 1: cert/ext.c reads the extensions */
	int ok;   /* 1: the certificate parses */
} raw_ext[] = {
    /* cA absent */
    {"2.5.29.19", 1, "3000", 1, 1},
    /* cA */
    {"2.5.29.19", 1, "30030101ff", 1, 1},
    /* cA, pathlen 0 */
    {"2.5.29.19", 1, "30060101ff020100", 1, 1},
    /* pathlen 127 */
    {"2.5.29.19", 1, "30060101ff02017f", 1, 1},
    /* pathlen 128 */
    {"2.5.29.19", 1, "30070101ff02020080", 1, 1},
    /* pathlen INT_MAX */
    {"2.5.29.19", 1, "30090101ff02047fffffff", 1, 1},
    /* pathlen 2^32-1, clamped */
    {"2.5.29.19", 1, "300a0101ff020500ffffffff", 1, 1},
    /* pathlen 2^64-1, clamped */
    {"2.5.29.19", 1, "300e0101ff020900ffffffffffffffff", 1, 1},
    /* pathlen 2^160, clamped */
    {"2.5.29.19", 1, "301a0101ff0215010000000000000000000000000000000000000000",
	1, 1},
    /* pathlen on a non-CA: ignored */
    {"2.5.29.19", 0, "3003020103", 1, 1},
    /* negative pathlen */
    {"2.5.29.19", 1, "30060101ff0201ff", 0, 0},
    /* negative pathlen on a non-CA */
    {"2.5.29.19", 1, "30030201ff", 0, 0},
    /* non-minimal pathlen */
    {"2.5.29.19", 1, "30070101ff02020005", 0, 0},
    /* empty pathlen */
    {"2.5.29.19", 1, "30050101ff0200", 0, 0},
    /* explicit cA FALSE (BER) */
    {"2.5.29.19", 1, "3003010100", 0, 1},
    /* cA TRUE as 0x01 (BER) */
    {"2.5.29.19", 1, "3003010101", 0, 1},
    /* BOOLEAN of two octets */
    {"2.5.29.19", 1, "30040102ffff", 0, 0},
    /* data after the value */
    {"2.5.29.19", 1, "300000", 0, 1},
    /* non-minimal length */
    {"2.5.29.19", 1, "3081030101ff", 0, 1},
    /* extra field */
    {"2.5.29.19", 1, "30050101ff3000", 0, 0},
    /* fields swapped */
    {"2.5.29.19", 1, "30060201030101ff", 0, 0},
    /* empty value */
    {"2.5.29.19", 1, "", 0, 0},
    /* NULL */
    {"2.5.29.19", 1, "0500", 0, 0},
    /* digitalSignature */
    {"2.5.29.15", 1, "03020780", 1, 1},
    /* digitalSignature, keyEncipherment */
    {"2.5.29.15", 1, "030205a0", 1, 1},
    /* decipherOnly */
    {"2.5.29.15", 1, "0303070080", 1, 1},
    /* all nine */
    {"2.5.29.15", 1, "030300ff80", 1, 1},
    /* no bits */
    {"2.5.29.15", 1, "030100", 1, 1},
    /* trailing zero octets */
    {"2.5.29.15", 1, "030400860000", 1, 1},
    /* unused bits without octets */
    {"2.5.29.15", 1, "030101", 0, 1},
    /* unused bits set (BER) */
    {"2.5.29.15", 1, "030207ff", 0, 1},
    /* 8 unused bits */
    {"2.5.29.15", 1, "03020880", 0, 0},
    /* empty BIT STRING */
    {"2.5.29.15", 1, "0300", 0, 0},
    /* constructed BIT STRING (BER) */
    {"2.5.29.15", 1, "230403020780", 0, 1},
    /* every purpose in cert/ext.c's table */
    {"2.5.29.37", 0,
	"306a06082b0601050507030106082b0601050507030206082b0601050507030306082b"
	"0601050507030406082b0601050507030506082b0601050507030606082b0601050507"
	"030706082b0601050507030806082b0601050507030906082b06010505070311060455"
	"1d2500",
	1, 1},
    /* purposes OpenSSL names and one it does not */
    {"2.5.29.37", 0,
	"302c060a2b0601040182370a030306096086480186f842040106082b06010505070315"
	"06092b06010401868d1f07",
	1, 1},
    /* a 65-bit arc, 0.0, rsaEncryption */
    {"2.5.29.37", 0,
	"301c060c88378280808080808080800006010006092a864886f70d010101", 1, 1},
    /* empty list */
    {"2.5.29.37", 0, "3000", 0, 1},
    /* OID with a 0x80 pad */
    {"2.5.29.37", 0, "300506032b8001", 0, 0},
    /* OID cut short */
    {"2.5.29.37", 0, "300406022b86", 0, 0},
    /* empty OID */
    {"2.5.29.37", 0, "30020600", 0, 0},
    /* an INTEGER in the list */
    {"2.5.29.37", 0, "300d06082b06010505070301020101", 0, 0},
    /* one of each kind */
    {"2.5.29.17", 0,
	"303d8209612e6578616d706c6587040a000001871020010db800000000000000000000"
	"0001860b68747470733a2f2f782f79810b6140622e6578616d706c65",
	1, 1},
    /* IPv6 forms (::, mapped, zero runs), 0.0.0.0, 255.255.255.255 */
    {"2.5.29.17", 0,
	"3054871000000000000000000000000000000000871000000000000000000000ffffc0"
	"0002018710fe800000000000000001000000000002871020010db80000000100000000"
	"000000008704000000008704ffffffff",
	1, 1},
    /* empty DNS name */
    {"2.5.29.17", 0, "30028200", 1, 1},
    /* space and tilde */
    {"2.5.29.17", 0, "30048202207e", 1, 1},
    /* otherName */
    {"2.5.29.17", 0, "301a820161a015060a2b060104018237140203a0070c0575706e4078",
	0, 1},
    /* directoryName */
    {"2.5.29.17", 0, "3013820161a40e300c310a300806035504030c0178", 0, 1},
    /* registeredID */
    {"2.5.29.17", 0, "300488022a03", 0, 1},
    /* IP of 5 bytes */
    {"2.5.29.17", 0, "300787050000000000", 0, 0},
    /* IP with a mask */
    {"2.5.29.17", 0, "300a87080000000000000000", 0, 0},
    /* NUL in a DNS name */
    {"2.5.29.17", 0, "30058203610062", 0, 0},
    /* UTF-8 in an e-mail */
    {"2.5.29.17", 0, "30068104c3a94078", 0, 0},
    /* constructed DNS name (BER) */
    {"2.5.29.17", 0, "300da20b1609612e6578616d706c65", 0, 1},
    /* empty list */
    {"2.5.29.17", 0, "3000", 0, 1},
    /* data after the value */
    {"2.5.29.17", 0, "30038201610000", 0, 1},
    /* 20 bytes */
    {"2.5.29.14", 0, "0414000102030405060708090a0b0c0d0e0f10111213", 1, 1},
    /* empty */
    {"2.5.29.14", 0, "0400", 1, 1},
    /* 64 bytes */
    {"2.5.29.14", 0,
	"0440000000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000",
	1, 1},
    /* 65 bytes */
    {"2.5.29.14", 0,
	"0441000000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000",
	0, 0},
    /* constructed (BER) */
    {"2.5.29.14", 0, "240404026162", 0, 1},
    /* keyIdentifier */
    {"2.5.29.35", 0, "30168014000102030405060708090a0b0c0d0e0f10111213", 1, 1},
    /* keyIdentifier and serial */
    {"2.5.29.35", 0, "301a8014000102030405060708090a0b0c0d0e0f1011121382020102",
	1, 1},
    /* serial only (negative) */
    {"2.5.29.35", 0, "30048202ff02", 1, 1},
    /* keyIdentifier, issuer and serial */
    {"2.5.29.35", 0,
	"302b8014000102030405060708090a0b0c0d0e0f10111213a110a40e300c310a300806"
	"035504030c0178820101",
	0, 1},
    /* non-minimal serial */
    {"2.5.29.35", 0, "300482020001", 0, 0},
    /* 65-byte keyIdentifier */
    {"2.5.29.35", 0,
	"3043804100000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000000000000000000000000000000000000000",
	0, 0},
    /* empty */
    {"2.5.29.35", 0, "3000", 0, 1},
    /* fields swapped */
    {"2.5.29.35", 0, "3006820101800101", 0, 0},
    /* one URI */
    {"2.5.29.31", 0, "30163014a012a010860e687474703a2f2f612f632e63726c", 1, 1},
    /* two points, a DNS name skipped */
    {"2.5.29.31", 0,
	"303b3023a021a01f860e687474703a2f2f612f632e63726c820161860a6c6461703a2f"
	"2f622f633014a012a010860e687474703a2f2f632f642e63726c",
	1, 1},
    /* an IP of 5 bytes (not a SAN: skipped) */
    {"2.5.29.31", 0, "300d300ba009a00787050000000000", 1, 1},
    /* reasons */
    {"2.5.29.31", 0, "30153013a00da00b8609687474703a2f2f612f81020640", 0, 1},
    /* cRLIssuer */
    {"2.5.29.31", 0,
	"301e301ca00da00b8609687474703a2f2f612fa20b8609687474703a2f2f622f", 0,
	1},
    /* nameRelativeToCRLIssuer */
    {"2.5.29.31", 0, "3010300ea00ca10a300806035504030c0178", 0, 1},
    /* empty point */
    {"2.5.29.31", 0, "30023000", 0, 1},
    /* directoryName */
    {"2.5.29.31", 0, "300a3008a006a004a4023000", 0, 1},
    /* control character in a URI */
    {"2.5.29.31", 0, "30123010a00ea00c860a687474703a2f2f612f1b", 0, 0},
    /* non-ASCII DNS name (not a URI: skipped) */
    {"2.5.29.31", 0, "30093007a005a003820180", 0, 1},
    /* OCSP, caIssuers, OCSP */
    {"1.3.6.1.5.5.7.1.1", 0,
	"3052301806082b06010505073001860c687474703a2f2f6f6373702f301b06082b0601"
	"0505073002860f687474703a2f2f63612f632e637274301906082b0601050507300186"
	"0d687474703a2f2f6f637370322f",
	1, 1},
    /* caRepository; OCSP as a DNS name */
    {"1.3.6.1.5.5.7.1.1", 0,
	"3034301806082b06010505073005860c687474703a2f2f7265706f2f301806082b0601"
	"0505073001820c6f6373702e6578616d706c65",
	1, 1},
    /* directoryName */
    {"1.3.6.1.5.5.7.1.1", 0, "3010300e06082b06010505073002a4023000", 0, 1},
    /* bad method OID */
    {"1.3.6.1.5.5.7.1.1", 0, "3011300f06022b808609687474703a2f2f782f", 0, 0},
    /* two locations */
    {"1.3.6.1.5.5.7.1.1", 0,
	"3022302006082b060105050730018609687474703a2f2f782f8609687474703a2f2f79"
	"2f",
	0, 0},
    /* DEL in an OCSP URI */
    {"1.3.6.1.5.5.7.1.1", 0,
	"3018301606082b06010505073001860a687474703a2f2f782f7f", 0, 0},
    /* name constraints */
    {"2.5.29.30", 1, "300ea00c300a82082e6578616d706c65", 0, 1},
    /* name constraints that do not decode */
    {"2.5.29.30", 1, "0500", 0, 0},
    /* issuingDistributionPoint */
    {"2.5.29.28", 1, "3000", 0, 1},
    /* proxyCertInfo that does not decode */
    {"1.3.6.1.5.5.7.1.14", 1, "0500", 0, 0},
    /* certificatePolicies that do not decode: never read */
    {"2.5.29.32", 1, "ff", 1, 1},
    /* unknown critical extension */
    {"1.2.3.4", 1, "", 1, 1},

};

static void
put_ext(X509 *x, const char *oid, int crit, const uint8_t *v, size_t n,
    bool replace)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;
	int loc;

	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(os);
	while (replace && (loc = X509_get_ext_by_OBJ(x, o, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, loc));
	ck_assert_int_eq(ASN1_OCTET_STRING_set(os, v, (int)n), 1);
	ext = X509_EXTENSION_create_by_OBJ(NULL, o, crit, os);
	ck_assert_ptr_nonnull(ext);
	ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

/* A leaf with every extension certstore reads, changed by mutate(x, arg)
 * and signed again. */
static uint8_t *
craft_full(void (*mutate)(X509 *, const void *), const void *arg, size_t *len)
{
	struct cs_test_leaf leaf = {
	    .dns = full_dns,
	    .ip = full_ip,
	    .uri = full_uri,
	    .email = full_email,
	    .ocsp_url = "http://ocsp.example.org/",
	    .ca_issuers_url = "http://pki.example.org/inter.crt",
	    .crl_url = "http://pki.example.org/inter.crl",
	    .eku = "serverAuth",
	    .key_usage = "digitalSignature",
	};
	X509 *x = NULL;
	uint8_t *der;

	free(cs_test_issue(inter, &leaf, len, &x));
	mutate(x, arg);
	ck_assert_int_gt(X509_sign(x, inter->key, EVP_sha256()), 0);
	der = x509_der(x, len);
	X509_free(x);
	return der;
}

static void
raw_ext_mutate(X509 *x, const void *arg)
{
	int i = *(const int *)arg;
	const char *hex = raw_ext[i].hex;
	uint8_t v[512];
	size_t n = 0;

	ck_assert_int_eq(cs_hex_decode(hex, strlen(hex), v, sizeof v, &n), 0);
	put_ext(x, raw_ext[i].oid, raw_ext[i].crit, v, n, true);
}

START_TEST(test_parse_der_paths_agree_raw_extensions)
{
	size_t len;
	uint8_t *der = craft_full(raw_ext_mutate, &_i, &len);
	char who[600];

	snprintf(who, sizeof who, "%s %s", raw_ext[_i].oid, raw_ext[_i].hex);
	ck_assert_msg(paths_agree(der, len, who) == raw_ext[_i].ok,
	    "%s: accepted is not %d", who, raw_ext[_i].ok);
	ck_assert_msg(ext_fast(der, len) == raw_ext[_i].fast,
	    "%s: fast is not %d", who, raw_ext[_i].fast);
	free(der);
}
END_TEST

static void
many_extensions(X509 *x, const void *arg)
{
	int n = *(const int *)arg;
	char oid[32];

	for (int i = 0; i < n; i++) {
		snprintf(oid, sizeof oid, "1.2.3.4.%d", i);
		put_ext(x, oid, 0, (const uint8_t *)"\x05\x00", 2, false);
	}
}

static void
duplicate_unknown(X509 *x, const void *arg)
{
	(void)arg;
	put_ext(x, "1.2.3.4", 0, (const uint8_t *)"\x05\x00", 2, false);
	put_ext(x, "1.2.3.4", 0, (const uint8_t *)"\x05\x00", 2, false);
}

/* Outer forms: the critical flag in BER, the list's size, duplicates
 * of an extension nobody reads. */
START_TEST(test_parse_der_paths_agree_extension_list)
{
	static const uint8_t ku_crit[] = {0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01,
	    0x01, 0xff};
	const int few = 40, lots = 70;
	size_t len;
	uint8_t *der, *p;

	/* keyUsage is critical: TRUE as 0x01 and an explicit FALSE are
	 * BER that OpenSSL takes */
	der = craft_full(many_extensions, &few, &len);
	assert_fast_and_agree(der, len, "40 more extensions");
	for (p = der; p + sizeof ku_crit <= der + len; p++)
		if (memcmp(p, ku_crit, sizeof ku_crit) == 0)
			break;
	ck_assert_ptr_ne(p + sizeof ku_crit, der + len + 1);
	p[sizeof ku_crit - 1] = 0x01;
	ck_assert_int_eq(paths_agree(der, len, "critical 0x01"), 1);
	ck_assert_int_eq(ext_fast(der, len), 0);
	p[sizeof ku_crit - 1] = 0x00;
	ck_assert_int_eq(paths_agree(der, len, "critical 0x00"), 1);
	ck_assert_int_eq(ext_fast(der, len), 0);
	free(der);
	der = craft_full(many_extensions, &lots, &len);
	ck_assert_int_eq(paths_agree(der, len, "70 more extensions"), 1);
	ck_assert_int_eq(ext_fast(der, len), 0);
	free(der);
	der = craft_full(duplicate_unknown, NULL, &len);
	ck_assert_int_eq(paths_agree(der, len, "duplicate 1.2.3.4"), 0);
	ck_assert_int_eq(ext_fast(der, len), 0);
	free(der);
}
END_TEST

static void
bad_basic_constraints(X509 *x, const void *arg)
{
	(void)arg;
	/* cA as a PrintableString */
	put_ext(x, "2.5.29.19", 1,
	    (const uint8_t *)"\x30\x06\x13\x00\xff\x02\x01\x03", 8, true);
}

/* A curve OID OpenSSL refuses makes the key "unknown", not the
 * certificate bad; the error it queues must not become the message of a
 * later failure (found by fuzz_x509: the paths named different causes). */
START_TEST(test_parse_der_stale_openssl_error)
{
	static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	    0x03, 0x01, 0x07};
	char errmsg[CS_ERRMSG_SIZE] = "";
	struct cs_cert_info *ci = NULL;
	size_t len;
	uint8_t *der = craft_full(bad_basic_constraints, NULL, &len), *p;

	for (p = der; p + sizeof p256 <= der + len; p++)
		if (memcmp(p, p256, sizeof p256) == 0)
			break;
	ck_assert_ptr_ne(p + sizeof p256, der + len + 1);
	p[sizeof p256 - 1] = 0xf8; /* the last subidentifier unfinished */
	ck_assert_int_eq(paths_agree(der, len, "bad curve OID"), 0);
	ck_assert_int_eq(cs_x509_parse_der(der, len, &ci, errmsg), CS_EINVAL);
	ck_assert_msg(strstr(errmsg, "basicConstraints: wrong tag") != NULL,
	    "%s", errmsg);
	free(der);
}
END_TEST

/* cs_der_time() against d2i_ASN1_TIME() and ASN1_TIME_to_tm(): what it
 * takes, OpenSSL reads to the same second. */
static const struct {
	uint8_t tag;
	const char *text;
	int fast;
} time_table[] = {
    {0x17, "700101000000Z", 1},
    {0x17, "491231235959Z", 1},
    {0x17, "500101000000Z", 1},
    {0x17, "000229000000Z", 1},
    {0x17, "991231235959Z", 1},
    {0x18, "20240229120000Z", 1},
    {0x18, "19000228000000Z", 1},
    {0x18, "20000229000000Z", 1},
    {0x18, "00000101000000Z", 1},
    {0x18, "16001231235959Z", 1},
    {0x18, "99991231235959Z", 1},
    {0x18, "20491231235959Z", 1},
    {0x18, "19000229000000Z", 0},
    {0x18, "21000229000000Z", 0},
    {0x18, "20230229000000Z", 0},
    {0x17, "010229000000Z", 0},
    {0x17, "240431000000Z", 0},
    {0x17, "240631000000Z", 0},
    {0x17, "240931000000Z", 0},
    {0x17, "241131000000Z", 0},
    {0x17, "240132000000Z", 0},
    {0x17, "991231235960Z", 0},
    {0x17, "991231236000Z", 0},
    {0x17, "991231240000Z", 0},
    {0x17, "991301000000Z", 0},
    {0x17, "990001000000Z", 0},
    {0x17, "990100000000Z", 0},
    {0x17, "9912312359Z", 0},
    {0x17, "991231235959+0100", 0},
    {0x17, "991231235959-0000", 0},
    {0x18, "20991231235959.5Z", 0},
    {0x18, "209912312359Z", 0},
    {0x17, "99123123595aZ", 0},
    {0x17, "240101000000z", 0},
    {0x17, "240101000000", 0},
    {0x17, "-40101000000Z", 0},
    {0x17, " 40101000000Z", 0},
    {0x17, "+40101000000Z", 0},
    {0x17, "20240101000000Z", 0},
    {0x18, "240101000000Z", 0},
    {0x04, "240101000000Z", 0},
    {0x37, "240101000000Z", 0},
};

START_TEST(test_der_time_matches_openssl)
{
	uint8_t tlv[64];
	size_t n = strlen(time_table[_i].text);
	struct cs_der d = {tlv, n + 2};
	const unsigned char *p = tlv;
	ASN1_TIME *t;
	struct tm tm;
	int64_t fast = 0, slow;

	tlv[0] = time_table[_i].tag;
	tlv[1] = (uint8_t)n;
	memcpy(tlv + 2, time_table[_i].text, n);
	ck_assert_int_eq(cs_der_time(d, &fast), time_table[_i].fast);
	if (!time_table[_i].fast)
		return;
	t = d2i_ASN1_TIME(NULL, &p, (long)(n + 2));
	ck_assert_ptr_nonnull(t);
	memset(&tm, 0, sizeof tm);
	ck_assert_int_eq(ASN1_TIME_to_tm(t, &tm), 1);
	slow = cs_time_from_utc((int64_t)tm.tm_year + 1900,
	    (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday, (unsigned)tm.tm_hour,
	    (unsigned)tm.tm_min, (unsigned)tm.tm_sec);
	ck_assert_int_eq(fast, slow);
	ASN1_TIME_free(t);
}
END_TEST

static Suite *
x509_suite(void)
{
	Suite *s = suite_create("x509");
	TCase *tc;
	size_t len;
	char *text;
	int nbundle = 0;

	/* The loop bound is read here; test_parse_bundle_ca_certificates_count
	 * fails if the file is missing or parses to a different count. */
	text = slurp(BUNDLE, &len);
	if (text != NULL)
		nbundle =
		    (int)count_substr(text, "-----BEGIN CERTIFICATE-----");
	free(text);

	tc = tcase_create("parse_bundle");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, bundle_setup, bundle_teardown);
	tcase_add_checked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_test(tc, test_parse_bundle_ca_certificates_count);
	tcase_add_loop_test(tc, test_parse_bundle_ca_certificates_match_openssl,
	    0, nbundle);
	tcase_add_test(tc, test_parse_bundle_ca_certificates_are_cas);
	tcase_add_test(tc, test_parse_bundle_pem_mixed_text);
	tcase_add_test(tc, test_parse_bundle_single_der_and_x509_label);
	tcase_add_test(tc, test_parse_bundle_pem_without_end);
	tcase_add_test(tc, test_parse_bundle_pem_corrupt_base64);
	tcase_add_test(tc, test_parse_bundle_over_max_certs);
	tcase_add_test(tc, test_parse_bundle_no_certificate_block);
	tcase_add_test(tc, test_parse_der_paths_agree_bundle);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_der");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, warm_keys, NULL);
	tcase_add_checked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_test(tc, test_parse_der_leaf_every_field);
	tcase_add_test(tc, test_parse_der_leaf_defaults_are_absent);
	tcase_add_test(tc, test_parse_der_every_key_usage_bit);
	tcase_add_test(tc, test_parse_der_ca_and_path_length);
	tcase_add_loop_test(tc, test_parse_der_key_types, 0,
	    sizeof key_table / sizeof key_table[0]);
	tcase_add_loop_test(tc, test_dn_fast_matches_openssl, 0,
	    (int)(sizeof dn_table / sizeof dn_table[0]));
	tcase_add_test(tc, test_dn_fast_refuses_malformed);
	tcase_add_loop_test(tc, test_parse_der_subject_rfc4514, 0,
	    sizeof name_table / sizeof name_table[0]);
	tcase_add_test(tc, test_parse_der_times_outside_utctime_years);
	tcase_add_test(tc, test_parse_der_serial_forms);
	tcase_add_test(tc, test_parse_der_crafted_extensions);
	tcase_add_test(tc, test_parse_der_san_cap_and_pathlen_accepted);
	tcase_add_test(tc, test_parse_der_empty);
	tcase_add_test(tc, test_parse_der_truncated);
	tcase_add_test(tc, test_parse_der_garbage);
	tcase_add_test(tc, test_parse_der_trailing_garbage);
	tcase_add_test(tc, test_parse_der_oversized);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths_agree");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, warm_keys, NULL);
	tcase_add_checked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_loop_test(tc, test_parse_der_paths_agree_leaves, 0,
	    (int)(sizeof fast_leaves / sizeof fast_leaves[0]));
	tcase_add_test(tc, test_parse_der_paths_agree_cas_keys_names);
	tcase_add_loop_test(tc, test_parse_der_paths_agree_crafted, 0,
	    (int)(sizeof crafted / sizeof crafted[0]));
	tcase_add_loop_test(tc, test_parse_der_paths_agree_raw_extensions, 0,
	    (int)(sizeof raw_ext / sizeof raw_ext[0]));
	tcase_add_test(tc, test_parse_der_paths_agree_extension_list);
	tcase_add_test(tc, test_parse_der_stale_openssl_error);
	tcase_add_loop_test(tc, test_der_time_matches_openssl, 0,
	    (int)(sizeof time_table / sizeof time_table[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("der_to_pem");
	tcase_add_checked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_test(tc, test_der_to_pem_matches_openssl_and_round_trips);
	tcase_add_test(tc, test_der_to_pem_line_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("key_type");
	tcase_add_loop_test(tc, test_key_type_name_round_trip, 0, CS_KEY__MAX);
	tcase_add_test(tc, test_key_type_parse_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_names_free_and_count);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(x509_suite)
