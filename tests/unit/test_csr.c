/*
 * test_csr.c - cert/csr.c: accepted and refused keys, signature checks,
 * PEM and DER framing, bad input.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/csr.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "tests/lib/ca.h"
#include "tests/lib/runner.h"

static const char *const two_dns[] = {"host.example", "alt.example", NULL};

static void
warm_keys(void)
{
	for (int k = CS_TEST_RSA1024; k <= CS_TEST_RSA4096; k++)
		EVP_PKEY_free(cs_test_key_new((enum cs_test_key)k));
}

static char *
pem(const uint8_t *der, size_t len, const char *label)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	char *out;
	long n;

	ck_assert_ptr_nonnull(bio);
	ck_assert_int_gt(PEM_write_bio(bio, label, "", der, (long)len), 0);
	n = BIO_get_mem_data(bio, &p);
	out = cs_strndup(p, (size_t)n);
	BIO_free(bio);
	return out;
}

static uint8_t *
req_der(X509_REQ *req, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_X509_REQ(req, &p);
	uint8_t *der;

	ck_assert_int_gt(n, 0);
	der = cs_memdup(p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return der;
}

static X509_REQ *
req_parse(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);

	ck_assert_ptr_nonnull(req);
	return req;
}

static struct cs_csr_info *
parse_ok(const void *in, size_t len)
{
	struct cs_csr_info *ci = NULL;
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc = cs_csr_parse(in, len, &ci, errmsg);

	ck_assert_msg(rc == 0, "%s: %s", cs_errname(rc), errmsg);
	ck_assert_ptr_nonnull(ci);
	return ci;
}

static struct cs_csr_info untouched;

static void
expect_error(const void *in, size_t len, int want, const char *needle)
{
	struct cs_csr_info *out = &untouched;
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc = cs_csr_parse(in, len, &out, errmsg);

	ck_assert_msg(rc == want, "%s, want %s (%s)", cs_errname(rc),
	    cs_errname(want), errmsg);
	ck_assert_ptr_eq(out, &untouched);
	ck_assert_msg(errmsg[0] != '\0', "empty errmsg");
	ck_assert_msg(needle == NULL || strstr(errmsg, needle) != NULL,
	    "errmsg '%s' lacks '%s'", errmsg, needle);
}

static const struct {
	enum cs_test_key key;
	enum cs_key_type type;
	int bits;
	const char *curve;
} accepted[] = {
    {CS_TEST_P256, CS_KEY_EC, 256, "P-256"},
    {CS_TEST_P384, CS_KEY_EC, 384, "P-384"},
    {CS_TEST_RSA2048, CS_KEY_RSA, 2048, ""},
    {CS_TEST_RSA3072, CS_KEY_RSA, 3072, ""},
    {CS_TEST_RSA4096, CS_KEY_RSA, 4096, ""},
    {CS_TEST_ED25519, CS_KEY_ED25519, 255, ""},
};

START_TEST(test_parse_accepted_keys)
{
	EVP_PKEY *key = cs_test_key_new(accepted[_i].key);
	size_t len;
	uint8_t *der = cs_test_csr(key, "host.example", two_dns, &len);
	struct cs_csr_info *ci = parse_ok(der, len);
	struct cs_csr_info *ci2;
	unsigned char *spki = NULL;
	char *p;
	uint8_t id[CS_SHA256_LEN];
	int n = i2d_PUBKEY(key, &spki);

	ck_assert_str_eq(ci->subject, "CN=host.example");
	ck_assert_uint_eq(ci->names.dns.n, 2);
	ck_assert_str_eq(ci->names.dns.v[0], "host.example");
	ck_assert_str_eq(ci->names.dns.v[1], "alt.example");
	ck_assert_uint_eq(cs_names_count(&ci->names), 2);
	ck_assert_int_eq(ci->key_type, accepted[_i].type);
	ck_assert_int_eq(ci->key_bits, accepted[_i].bits);
	ck_assert_str_eq(ci->curve, accepted[_i].curve);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(ci->spki_len, (size_t)n);
	ck_assert_mem_eq(ci->spki, spki, (size_t)n);
	ck_assert_int_eq(EVP_Digest(spki, (size_t)n, id, NULL, EVP_sha256(),
			     NULL),
	    1);
	ck_assert_mem_eq(ci->key_id, id, CS_SHA256_LEN);
	ck_assert_uint_eq(ci->der_len, len);
	ck_assert_mem_eq(ci->der, der, len);
	/* the same request as PEM gives the same record */
	p = pem(der, len, "CERTIFICATE REQUEST");
	ci2 = parse_ok(p, strlen(p));
	ck_assert_str_eq(ci2->subject, ci->subject);
	ck_assert_uint_eq(cs_names_count(&ci2->names), 2);
	ck_assert_int_eq(ci2->key_bits, ci->key_bits);
	ck_assert_mem_eq(ci2->key_id, ci->key_id, CS_SHA256_LEN);
	ck_assert_uint_eq(ci2->der_len, len);
	ck_assert_mem_eq(ci2->der, der, len);
	cs_csr_info_free(ci2);
	cs_csr_info_free(ci);
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
	free(der);
	free(p);
}
END_TEST

/* Both PEM labels, text around the block and a key block next to it. */
START_TEST(test_parse_pem_labels)
{
	static const char *const labels[] = {"CERTIFICATE REQUEST",
	    "NEW CERTIFICATE REQUEST"};
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	size_t len;
	uint8_t *der = cs_test_csr(key, "pem.example", NULL, &len);

	for (size_t k = 0; k < 2; k++) {
		char *p = pem(der, len, labels[k]);
		struct cs_buf b;
		struct cs_csr_info *ci;

		cs_buf_init(&b, 1 << 20);
		cs_buf_printf(&b, "Subject: pem.example\r\n%s", p);
		cs_buf_printf(&b, "-----BEGIN PRIVATE KEY-----\nxx\n"
				  "-----END PRIVATE KEY-----\n");
		ci = parse_ok(b.data, b.len);
		ck_assert_str_eq(ci->subject, "CN=pem.example");
		ck_assert_uint_eq(cs_names_count(&ci->names), 0);
		ck_assert_uint_eq(ci->der_len, len);
		ck_assert_mem_eq(ci->der, der, len);
		cs_csr_info_free(ci);
		cs_buf_close(&b);
		free(p);
	}
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

START_TEST(test_parse_subject_escaped)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	size_t len;
	uint8_t *der = cs_test_csr(key, "Müller, Anna", NULL, &len);
	struct cs_csr_info *ci = parse_ok(der, len);

	ck_assert_str_eq(ci->subject, "CN=Müller\\, Anna");
	cs_csr_info_free(ci);
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

static const struct {
	enum cs_test_key key;
	const char *reason;
} refused[] = {
    {CS_TEST_RSA1024, "key: RSA 1024 bits is below 2048"},
    {CS_TEST_P521, "key: EC curve P-521 is not accepted"},
    {CS_TEST_SECP256K1, "key: EC curve secp256k1 is not accepted"},
    {CS_TEST_ED448, "key: Ed448 is not accepted"},
};

START_TEST(test_parse_refused_keys)
{
	EVP_PKEY *key = cs_test_key_new(refused[_i].key);
	size_t len;
	uint8_t *der = cs_test_csr(key, "weak.example", two_dns, &len);
	char *p = pem(der, len, "CERTIFICATE REQUEST");

	expect_error(der, len, CS_EINVAL, refused[_i].reason);
	expect_error(p, strlen(p), CS_EINVAL, refused[_i].reason);
	free(p);
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

/* A 4104-bit RSA public key put into a 2048-bit request: refused by the
 * policy before the (now wrong) signature is even looked at. */
START_TEST(test_parse_refuses_big_rsa_before_signature)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_RSA2048);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *big = NULL;
	BIGNUM *n = BN_new(), *e = BN_new();
	X509_REQ *req;
	size_t len;
	uint8_t *der = cs_test_csr(key, "big.example", NULL, &len);

	ck_assert_int_eq(BN_set_bit(n, 4103), 1);
	ck_assert_int_eq(BN_set_bit(n, 0), 1);
	ck_assert_int_eq(BN_set_word(e, 65537), 1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n),
	    1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e),
	    1);
	params = OSSL_PARAM_BLD_to_param(bld);
	ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &big, EVP_PKEY_PUBLIC_KEY,
			     params),
	    1);
	req = req_parse(der, len);
	ck_assert_int_eq(X509_REQ_set_pubkey(req, big), 1);
	free(der);
	der = req_der(req, &len);
	expect_error(der, len, CS_EINVAL, "key: RSA 4104 bits is above 4096");
	free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(big);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(key);
}
END_TEST

/* The last byte is inside the signature for every algorithm. */
START_TEST(test_parse_bad_signature)
{
	EVP_PKEY *key = cs_test_key_new(accepted[_i].key);
	size_t len;
	uint8_t *der = cs_test_csr(key, "host.example", two_dns, &len);

	der[len - 1] ^= 0x01;
	expect_error(der, len, CS_ECRYPTO, "signature does not verify");
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

START_TEST(test_parse_tampered_subject)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_ED25519);
	size_t len;
	uint8_t *der = cs_test_csr(key, "host.example", NULL, &len);
	uint8_t *at = NULL;

	for (size_t i = 0; i + 12 <= len; i++) {
		if (memcmp(der + i, "host.example", 12) == 0) {
			at = der + i;
			break;
		}
	}
	ck_assert_ptr_nonnull(at);
	*at = 'g'; /* "gost.example": still a valid name, wrong signature */
	expect_error(der, len, CS_ECRYPTO, "signature does not verify");
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

START_TEST(test_parse_version_not_v1)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	size_t len;
	uint8_t *der = cs_test_csr(key, "v3.example", NULL, &len);
	X509_REQ *req = req_parse(der, len);

	ck_assert_int_eq(X509_REQ_set_version(req, 2), 1);
	ck_assert_int_gt(X509_REQ_sign(req, key, EVP_sha256()), 0);
	free(der);
	der = req_der(req, &len);
	expect_error(der, len, CS_EINVAL, "version");
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

START_TEST(test_parse_bad_framing)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	size_t len;
	uint8_t *der = cs_test_csr(key, "frame.example", two_dns, &len);
	uint8_t *more = cs_malloc(len + 4);
	uint8_t junk[300];
	const size_t cuts[] = {1, 2, 5, len / 2, len - 1};

	expect_error("", 0, CS_EINVAL, "empty");
	for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++)
		expect_error(der, cuts[k], CS_EINVAL, "truncated");
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	expect_error(junk, sizeof junk, CS_EINVAL, "not DER");
	memcpy(more, der, len);
	memcpy(more + len, "\0\0\0\0", 4);
	expect_error(more, len + 4, CS_EINVAL, "4 bytes of trailing data");
	/* right outer length, wrong inner tag */
	memcpy(more, der, len);
	more[4] = 0x31;
	expect_error(more, len, CS_EINVAL, "bad DER");
	free(more);
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

START_TEST(test_parse_oversized)
{
	size_t n = CS_CSR_MAX_DER + 1;
	uint8_t *big = cs_calloc(1, n);
	char *p;

	big[0] = 0x30;
	big[1] = 0x82;
	big[2] = (uint8_t)((n - 4) >> 8);
	big[3] = (uint8_t)(n - 4);
	expect_error(big, n, CS_ETOOBIG, "at most 32768");
	p = pem(big, n, "CERTIFICATE REQUEST");
	expect_error(p, strlen(p), CS_ETOOBIG, "at most 32768");
	free(p);
	free(big);
}
END_TEST

START_TEST(test_parse_bad_pem)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	size_t len;
	uint8_t *der = cs_test_csr(key, "pem.example", NULL, &len);
	char *p = pem(der, len, "CERTIFICATE REQUEST");
	char *cert = pem(der, len, "CERTIFICATE");
	struct cs_buf b;

	cs_buf_init(&b, 1 << 20);
	cs_buf_printf(&b, "%s%s", p, p);
	expect_error(b.data, b.len, CS_EINVAL, "more than one request");
	expect_error(cert, strlen(cert), CS_EINVAL,
	    "no CERTIFICATE REQUEST block");
	cs_buf_reset(&b);
	cs_buf_append_str(&b, p);
	*strstr((char *)b.data, "-----END") = '\0';
	b.len = strlen((char *)b.data);
	expect_error(b.data, b.len, CS_EINVAL, "no END line");
	cs_buf_reset(&b);
	cs_buf_append_str(&b, p);
	b.data[40] = '!';
	expect_error(b.data, b.len, CS_EINVAL, "bad base64: '!'");
	cs_buf_close(&b);
	free(cert);
	free(p);
	EVP_PKEY_free(key);
	free(der);
}
END_TEST

/* Names a profile cannot vet are refused, not silently dropped. */
START_TEST(test_parse_refuses_unsupported_san_kinds)
{
	static const char *const sans[] = {
	    "DNS:ok.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:u@corp",
	    "DNS:ok.example,RID:1.2.3.4",
	    "dirName:dir_sect",
	};
	static const char *const want[] = {"otherName", "registeredID",
	    "directoryName"};
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);

	for (size_t i = 0; i < sizeof sans / sizeof sans[0]; i++) {
		X509_REQ *req = X509_REQ_new();
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		X509V3_CTX ctx;
		CONF *conf = NCONF_new(NULL);
		long eline;
		BIO *b = BIO_new_mem_buf("[dir_sect]\nCN=dir\n", -1);
		X509_EXTENSION *ext;
		uint8_t *der;
		size_t len;

		ck_assert_int_gt(NCONF_load_bio(conf, b, &eline), 0);
		X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
		X509V3_set_nconf(&ctx, conf);
		ext = X509V3_EXT_nconf_nid(conf, &ctx, NID_subject_alt_name,
		    sans[i]);
		ck_assert_ptr_nonnull(ext);
		sk_X509_EXTENSION_push(exts, ext);
		ck_assert_int_eq(X509_REQ_add_extensions(req, exts), 1);
		X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
		    MBSTRING_ASC, (const unsigned char *)"x", -1, -1, 0);
		ck_assert_int_eq(X509_REQ_set_pubkey(req, key), 1);
		ck_assert_int_gt(X509_REQ_sign(req, key, EVP_sha256()), 0);
		der = req_der(req, &len);
		expect_error(der, len, CS_EINVAL, want[i]);
		free(der);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		X509_REQ_free(req);
		NCONF_free(conf);
		BIO_free(b);
	}
	EVP_PKEY_free(key);
}
END_TEST

START_TEST(test_info_free_null)
{
	cs_csr_info_free(NULL);
}
END_TEST

static Suite *
csr_suite(void)
{
	Suite *s = suite_create("csr");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, warm_keys, NULL);
	tcase_add_loop_test(tc, test_parse_accepted_keys, 0,
	    sizeof accepted / sizeof accepted[0]);
	tcase_add_test(tc, test_parse_pem_labels);
	tcase_add_test(tc, test_parse_subject_escaped);
	tcase_add_loop_test(tc, test_parse_refused_keys, 0,
	    sizeof refused / sizeof refused[0]);
	tcase_add_test(tc, test_parse_refuses_big_rsa_before_signature);
	tcase_add_loop_test(tc, test_parse_bad_signature, 0,
	    sizeof accepted / sizeof accepted[0]);
	tcase_add_test(tc, test_parse_tampered_subject);
	tcase_add_test(tc, test_parse_version_not_v1);
	tcase_add_test(tc, test_parse_bad_framing);
	tcase_add_test(tc, test_parse_oversized);
	tcase_add_test(tc, test_parse_bad_pem);
	tcase_add_test(tc, test_parse_refuses_unsupported_san_kinds);
	suite_add_tcase(s, tc);

	tc = tcase_create("info_free");
	tcase_add_test(tc, test_info_free_null);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(csr_suite)
