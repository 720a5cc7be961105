/*
 * test_issue.c - cert/issue: certificates built by hand from a request,
 * checked with OpenSSL (signature, chain, every extension) and with our
 * own parser.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cert/csr.h"
#include "cert/issue.h"
#include "cert/signer.h"
#include "cert/x509.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "tests/lib/ca.h"
#include "tests/lib/runner.h"

#define T0 1800000000 /* 2027-01-15 */

/* Writable strings for struct cs_strv (char **). */
static char w1[] = "clientAuth";
static char w2[] = "serverAuth";
static char w3[] = "http://ca.test/crl/local-ca.crl";
static char w4[] = "http://ca.test/ocsp";
static char w5[] = "http://ca.test/ca/local-ca.crt";
static char w6[] = "10.20.0.7";
static char w7[] = "2001:db8::7";
static char w8[] = "OCSPSigning";
static char w9[] = "not-an-eku";
static char w10[] = "10.0.0.300";

static const char *const two_dns[] = {"pump-1.site-a.test", "pump-1.alias.test",
    NULL};

struct fixture {
	struct cs_test_ca *ca;
	struct cs_signer signer;
	uint8_t *name;
	size_t name_len;
	uint8_t ski[20];
	struct cs_issue_ca issuer;
};

static void
fixture_init(struct fixture *f, enum cs_test_key type)
{
	unsigned char *name = NULL;
	int n;
	char errmsg[CS_ERRMSG_SIZE];
	const ASN1_OCTET_STRING *ski;

	f->ca = cs_test_ca_new("Test Issuing CA", type, NULL);
	ck_assert_int_eq(cs_signer_init(&f->signer, f->ca->key, errmsg), 0);
	n = i2d_X509_NAME(X509_get_subject_name(f->ca->cert), &name);
	ck_assert_int_gt(n, 0);
	f->name = cs_memdup(name, (size_t)n);
	f->name_len = (size_t)n;
	OPENSSL_free(name);
	ski = X509_get0_subject_key_id(f->ca->cert);
	ck_assert_ptr_nonnull(ski);
	ck_assert_int_eq(ASN1_STRING_length(ski), 20);
	memcpy(f->ski, ASN1_STRING_get0_data(ski), 20);
	f->issuer =
	    (struct cs_issue_ca){f->name, f->name_len, f->ski, 20, &f->signer};
}

static void
fixture_close(struct fixture *f)
{
	cs_signer_close(&f->signer);
	free(f->name);
	cs_test_ca_free(f->ca);
}

static struct cs_csr_info *
csr_for(EVP_PKEY *key, const char *cn, const char *const *dns)
{
	size_t len;
	uint8_t *der = cs_test_csr(key, cn, dns, &len);
	struct cs_csr_info *ci = NULL;
	char errmsg[CS_ERRMSG_SIZE];

	ck_assert_msg(cs_csr_parse(der, len, &ci, errmsg) == 0, "%s", errmsg);
	free(der);
	return ci;
}

static struct cs_serial
serial_of(uint8_t first)
{
	uint8_t r[20];
	struct cs_serial s;

	for (int i = 0; i < 20; i++)
		r[i] = (uint8_t)(first + i * 7);
	cs_serial_from_random(&s, r, sizeof r);
	return s;
}

/* Verifies der against the fixture's CA with OpenSSL's chain building. */
static X509 *
verify_chain(const struct fixture *f, const uint8_t *der, size_t len,
    int purpose)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_eq(p, der + len);
	ck_assert_int_eq(X509_STORE_add_cert(store, f->ca->cert), 1);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
	X509_STORE_CTX_set_time(ctx, 0, T0 + 3600);
	if (purpose != 0)
		X509_STORE_CTX_set_purpose(ctx, purpose);
	ok = X509_verify_cert(ctx);
	ck_assert_msg(ok == 1, "verify: %s",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return x;
}

static const enum cs_test_key ca_keys[] = {CS_TEST_P256, CS_TEST_P384,
    CS_TEST_RSA2048, CS_TEST_ED25519};

/* A device certificate from a request, for every CA key type: the chain
 * verifies and every field is what was asked. */
START_TEST(test_issue_device_certificate)
{
	struct fixture f;
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	struct cs_csr_info *csr = csr_for(key, "pump-1", two_dns);
	struct cs_serial sn = serial_of(0x42);
	struct cs_strv eku = {2, (char *[]){w1, w2}};
	struct cs_strv crl = {1, (char *[]){w3}};
	struct cs_strv ocsp = {1, (char *[]){w4}};
	struct cs_strv cai = {1, (char *[]){w5}};
	struct cs_names sans = {0};
	struct cs_issue_params p = {0};
	struct cs_cert_info *ci = NULL;
	char errmsg[CS_ERRMSG_SIZE];
	struct cs_buf out;
	X509 *x;
	EVP_PKEY *pub;

	fixture_init(&f, ca_keys[_i]);
	sans = csr->names;
	sans.ip = (struct cs_strv){2, (char *[]){w6, w7}};
	p.subject = csr->subject_der;
	p.subject_len = csr->subject_der_len;
	p.spki = csr->spki;
	p.spki_len = csr->spki_len;
	p.sans = &sans;
	p.serial = &sn;
	p.not_before = T0;
	p.not_after = T0 + 90 * 86400;
	p.path_len = -1;
	p.key_usage = CS_KU_DIGITAL_SIGNATURE | CS_KU_KEY_ENCIPHERMENT;
	p.eku = &eku;
	p.crl_urls = &crl;
	p.ocsp_urls = &ocsp;
	p.ca_issuers = &cai;
	cs_buf_init(&out, 1 << 20);
	ck_assert_msg(cs_issue_build(&p, &f.issuer, &out, errmsg) == 0, "%s",
	    errmsg);
	x = verify_chain(&f, out.data, out.len, X509_PURPOSE_SSL_CLIENT);
	pub = X509_get0_pubkey(x);
	ck_assert_int_eq(EVP_PKEY_eq(pub, key), 1);
	ck_assert_int_eq(X509_get_version(x), 2);
	ck_assert_int_eq(X509_get_extension_flags(x) & EXFLAG_CA, 0);
	X509_free(x);

	ck_assert_msg(cs_x509_parse_der(out.data, out.len, &ci, errmsg) == 0,
	    "%s", errmsg);
	ck_assert_str_eq(ci->subject, "CN=pump-1");
	ck_assert_str_eq(ci->issuer, "CN=Test Issuing CA");
	ck_assert_uint_eq(ci->serial.len, sn.len);
	ck_assert_mem_eq(ci->serial.b, sn.b, sn.len);
	ck_assert_int_eq(ci->not_before, T0);
	ck_assert_int_eq(ci->not_after, T0 + 90 * 86400);
	ck_assert_uint_eq(ci->sans.dns.n, 2);
	ck_assert_str_eq(ci->sans.dns.v[0], "pump-1.site-a.test");
	ck_assert_str_eq(ci->sans.dns.v[1], "pump-1.alias.test");
	ck_assert_uint_eq(ci->sans.ip.n, 2);
	ck_assert_str_eq(ci->sans.ip.v[0], "10.20.0.7");
	ck_assert_str_eq(ci->sans.ip.v[1], "2001:db8::7");
	ck_assert_mem_eq(ci->key_id, csr->key_id, CS_SHA256_LEN);
	ck_assert_int_eq(ci->key_usage,
	    CS_KU_DIGITAL_SIGNATURE | CS_KU_KEY_ENCIPHERMENT);
	ck_assert_uint_eq(ci->eku.n, 2);
	ck_assert_str_eq(ci->eku.v[0], "clientAuth");
	ck_assert_str_eq(ci->eku.v[1], "serverAuth");
	ck_assert_uint_eq(ci->crl_dp.n, 1);
	ck_assert_str_eq(ci->crl_dp.v[0], crl.v[0]);
	ck_assert_uint_eq(ci->ocsp.n, 1);
	ck_assert_str_eq(ci->ocsp.v[0], ocsp.v[0]);
	ck_assert_uint_eq(ci->ca_issuers.n, 1);
	ck_assert_str_eq(ci->ca_issuers.v[0], cai.v[0]);
	ck_assert(ci->aki_len == 20 && memcmp(ci->aki, f.ski, 20) == 0);
	ck_assert_uint_eq(ci->ski_len, 20);
	ck_assert(!ci->ca);
	cs_cert_info_free(ci);
	cs_buf_close(&out);
	cs_csr_info_free(csr);
	EVP_PKEY_free(key);
	fixture_close(&f);
}
END_TEST

/* A self-signed root and an intermediate under it, then a leaf under
 * that: the chain verifies, path lengths and key usages as asked. */
START_TEST(test_issue_root_intermediate_leaf)
{
	EVP_PKEY *root_key = cs_test_key_new(CS_TEST_P256);
	EVP_PKEY *sub_key = cs_test_key_new(CS_TEST_P384);
	EVP_PKEY *leaf_key = cs_test_key_new(CS_TEST_ED25519);
	struct cs_csr_info *root_req = csr_for(root_key, "Root", NULL);
	struct cs_csr_info *sub_req = csr_for(sub_key, "Sub", NULL);
	struct cs_csr_info *leaf_req = csr_for(leaf_key, "leaf", two_dns);
	struct cs_signer root_signer, sub_signer;
	uint8_t root_ski[20], sub_ski[20];
	struct cs_serial sn1 = serial_of(1), sn2 = serial_of(2),
			 sn3 = serial_of(3);
	struct cs_buf root, sub, leaf;
	struct cs_issue_params p = {0};
	struct cs_issue_ca ca;
	char errmsg[CS_ERRMSG_SIZE];
	const unsigned char *q;
	X509 *xroot, *xsub, *xleaf;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();

	cs_buf_init(&root, 1 << 16);
	cs_buf_init(&sub, 1 << 16);
	cs_buf_init(&leaf, 1 << 16);
	ck_assert_int_eq(cs_signer_init(&root_signer, root_key, errmsg), 0);
	ck_assert_int_eq(cs_signer_init(&sub_signer, sub_key, errmsg), 0);
	ck_assert_int_eq(cs_issue_ski(root_req->spki, root_req->spki_len,
			     root_ski),
	    0);
	ck_assert_int_eq(cs_issue_ski(sub_req->spki, sub_req->spki_len,
			     sub_ski),
	    0);

	p.subject = root_req->subject_der;
	p.subject_len = root_req->subject_der_len;
	p.spki = root_req->spki;
	p.spki_len = root_req->spki_len;
	p.serial = &sn1;
	p.not_before = T0 - 86400;
	p.not_after = T0 + 3650 * 86400;
	p.ca = true;
	p.path_len = 1;
	p.key_usage = CS_KU_KEY_CERT_SIGN | CS_KU_CRL_SIGN;
	ca = (struct cs_issue_ca){root_req->subject_der,
	    root_req->subject_der_len, root_ski, 20, &root_signer};
	ck_assert_msg(cs_issue_build(&p, &ca, &root, errmsg) == 0, "%s",
	    errmsg);

	p.subject = sub_req->subject_der;
	p.subject_len = sub_req->subject_der_len;
	p.spki = sub_req->spki;
	p.spki_len = sub_req->spki_len;
	p.serial = &sn2;
	p.path_len = 0;
	ck_assert_int_eq(cs_issue_build(&p, &ca, &sub, errmsg), 0);

	p.subject = leaf_req->subject_der;
	p.subject_len = leaf_req->subject_der_len;
	p.spki = leaf_req->spki;
	p.spki_len = leaf_req->spki_len;
	p.sans = &leaf_req->names;
	p.serial = &sn3;
	p.ca = false;
	p.path_len = -1;
	p.not_after = T0 + 30 * 86400;
	p.key_usage = CS_KU_DIGITAL_SIGNATURE;
	ca = (struct cs_issue_ca){sub_req->subject_der,
	    sub_req->subject_der_len, sub_ski, 20, &sub_signer};
	ck_assert_int_eq(cs_issue_build(&p, &ca, &leaf, errmsg), 0);

	q = root.data;
	xroot = d2i_X509(NULL, &q, (long)root.len);
	q = sub.data;
	xsub = d2i_X509(NULL, &q, (long)sub.len);
	q = leaf.data;
	xleaf = d2i_X509(NULL, &q, (long)leaf.len);
	ck_assert(xroot != NULL && xsub != NULL && xleaf != NULL);
	ck_assert_int_eq(X509_check_ca(xroot), 1);
	ck_assert_int_eq(X509_get_pathlen(xroot), 1);
	ck_assert_int_eq(X509_get_pathlen(xsub), 0);
	ck_assert_int_eq(X509_check_issued(xroot, xroot), X509_V_OK);
	ck_assert_int_eq(X509_STORE_add_cert(store, xroot), 1);
	ck_assert_int_eq(sk_X509_push(untrusted, xsub), 1);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, xleaf, untrusted), 1);
	X509_STORE_CTX_set_time(ctx, 0, T0);
	ck_assert_msg(X509_verify_cert(ctx) == 1, "%s",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	ck_assert_int_eq(X509_STORE_CTX_get_error_depth(ctx), 0);

	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	X509_free(xroot);
	X509_free(xsub);
	X509_free(xleaf);
	cs_buf_close(&root);
	cs_buf_close(&sub);
	cs_buf_close(&leaf);
	cs_signer_close(&root_signer);
	cs_signer_close(&sub_signer);
	cs_csr_info_free(root_req);
	cs_csr_info_free(sub_req);
	cs_csr_info_free(leaf_req);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(sub_key);
	EVP_PKEY_free(leaf_key);
}
END_TEST

/* No subject: the SAN is critical (RFC 5280 4.2.1.6); an OCSP responder
 * certificate carries ocsp-nocheck. Times after 2049 are
 * GeneralizedTime. */
START_TEST(test_issue_empty_subject_nocheck_and_late_times)
{
	struct fixture f;
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	struct cs_csr_info *csr = csr_for(key, "x", two_dns);
	struct cs_serial sn = serial_of(9);
	struct cs_strv eku = {1, (char *[]){w8}};
	struct cs_issue_params p = {0};
	char errmsg[CS_ERRMSG_SIZE];
	struct cs_buf out;
	const unsigned char *q;
	X509 *x;
	int crit = -1;
	GENERAL_NAMES *gens;
	ASN1_NULL *nocheck;
	struct cs_cert_info *ci = NULL;

	fixture_init(&f, CS_TEST_P256);
	p.spki = csr->spki;
	p.spki_len = csr->spki_len;
	p.sans = &csr->names;
	p.serial = &sn;
	p.not_before = T0;
	p.not_after = 2600000000; /* 2052 */
	p.path_len = -1;
	p.eku = &eku;
	p.ocsp_nocheck = true;
	cs_buf_init(&out, 1 << 16);
	ck_assert_msg(cs_issue_build(&p, &f.issuer, &out, errmsg) == 0, "%s",
	    errmsg);
	q = out.data;
	x = d2i_X509(NULL, &q, (long)out.len);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	ck_assert_ptr_nonnull(gens);
	ck_assert_int_eq(crit, 1);
	GENERAL_NAMES_free(gens);
	nocheck = X509_get_ext_d2i(x, NID_id_pkix_OCSP_noCheck, &crit, NULL);
	ck_assert_ptr_nonnull(nocheck);
	ASN1_NULL_free(nocheck);
	ck_assert_int_eq(ASN1_STRING_type(X509_get0_notAfter(x)),
	    V_ASN1_GENERALIZEDTIME);
	ck_assert_int_eq(ASN1_STRING_type(X509_get0_notBefore(x)),
	    V_ASN1_UTCTIME);
	ck_assert(X509_get_extended_key_usage(x) & XKU_OCSP_SIGN);
	ck_assert_int_eq(X509_verify(x, f.ca->key), 1);
	ck_assert_int_eq(cs_x509_parse_der(out.data, out.len, &ci, errmsg), 0);
	ck_assert_int_eq(ci->not_after, 2600000000);
	ck_assert_str_eq(ci->subject, "");
	cs_cert_info_free(ci);
	X509_free(x);
	cs_buf_close(&out);
	cs_csr_info_free(csr);
	EVP_PKEY_free(key);
	fixture_close(&f);
}
END_TEST

/* Bad parameters are named and leave the buffer as it was. */
START_TEST(test_issue_bad_parameters)
{
	struct fixture f;
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	struct cs_csr_info *csr = csr_for(key, "bad", NULL);
	struct cs_serial sn = serial_of(5), zero = {0}, neg = sn;
	struct cs_strv bad_eku = {1, (char *[]){w9}};
	struct cs_names bad_ip = {0};
	struct cs_issue_params p = {0}, q;
	char errmsg[CS_ERRMSG_SIZE];
	struct cs_buf out;

	fixture_init(&f, CS_TEST_P256);
	bad_ip.ip = (struct cs_strv){1, (char *[]){w10}};
	neg.neg = true;
	p.subject = csr->subject_der;
	p.subject_len = csr->subject_der_len;
	p.spki = csr->spki;
	p.spki_len = csr->spki_len;
	p.serial = &sn;
	p.not_before = T0;
	p.not_after = T0 + 86400;
	p.path_len = -1;
	cs_buf_init(&out, 1 << 16);
	cs_buf_append_str(&out, "keep");

	q = p;
	q.eku = &bad_eku;
	ck_assert_int_eq(cs_issue_build(&q, &f.issuer, &out, errmsg),
	    CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "not-an-eku"));
	ck_assert_uint_eq(out.len, 4);
	q = p;
	q.sans = &bad_ip;
	ck_assert_int_eq(cs_issue_build(&q, &f.issuer, &out, errmsg),
	    CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "10.0.0.300"));
	ck_assert_uint_eq(out.len, 4);
	ck_assert_str_eq((char *)out.data, "keep");
	q = p;
	q.not_after = T0 - 1;
	ck_assert_int_eq(cs_issue_build(&q, &f.issuer, &out, errmsg),
	    CS_EINVAL);
	q = p;
	q.serial = &zero;
	ck_assert_int_eq(cs_issue_build(&q, &f.issuer, &out, errmsg),
	    CS_EINVAL);
	q.serial = &neg;
	ck_assert_int_eq(cs_issue_build(&q, &f.issuer, &out, errmsg),
	    CS_EINVAL);
	q = p;
	q.spki_len = 5;
	ck_assert_int_eq(cs_issue_build(&q, &f.issuer, &out, errmsg),
	    CS_EINVAL);
	ck_assert_uint_eq(out.len, 4);
	cs_buf_close(&out);
	/* the buffer's cap */
	cs_buf_init(&out, 100);
	ck_assert_int_eq(cs_issue_build(&p, &f.issuer, &out, errmsg),
	    CS_ETOOBIG);
	ck_assert_uint_eq(out.len, 0);
	cs_buf_close(&out);
	cs_csr_info_free(csr);
	EVP_PKEY_free(key);
	fixture_close(&f);
}
END_TEST

static Suite *
issue_suite(void)
{
	Suite *s = suite_create("issue");
	TCase *tc = tcase_create("build");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_issue_device_certificate, 0,
	    (int)(sizeof ca_keys / sizeof ca_keys[0]));
	tcase_add_test(tc, test_issue_root_intermediate_leaf);
	tcase_add_test(tc, test_issue_empty_subject_nocheck_and_late_times);
	tcase_add_test(tc, test_issue_bad_parameters);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(issue_suite)
