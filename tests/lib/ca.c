/*
 * ca.c - the throwaway test PKI of ca.h.
 *
 * Every OpenSSL failure aborts with the OpenSSL error queue on stderr: a
 * test PKI that cannot be built means the test itself is broken.
 */
#include "tests/lib/ca.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/mem.h"

/* RSA keys per size, generated once per process: 4096-bit generation
 * takes seconds. Tests that fork (Check does) should warm this in an
 * unchecked fixture so the children inherit it. */
static EVP_PKEY *rsa_cache[CS_TEST_KEY__MAX];

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "test ca: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

#define CHECK(expr)                                                            \
	do {                                                                   \
		if (!(expr))                                                   \
			die(#expr);                                            \
	} while (0)

EVP_PKEY *
cs_test_key_new(enum cs_test_key type)
{
	static const size_t rsa_bits[CS_TEST_KEY__MAX] = {
	    [CS_TEST_RSA1024] = 1024,
	    [CS_TEST_RSA2048] = 2048,
	    [CS_TEST_RSA3072] = 3072,
	    [CS_TEST_RSA4096] = 4096,
	};
	EVP_PKEY *k = NULL;

	switch (type) {
	case CS_TEST_P256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case CS_TEST_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case CS_TEST_P521:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
		break;
	case CS_TEST_SECP256K1:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
		break;
	case CS_TEST_ED25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case CS_TEST_ED448:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
		break;
	case CS_TEST_RSA1024:
	case CS_TEST_RSA2048:
	case CS_TEST_RSA3072:
	case CS_TEST_RSA4096:
		if (rsa_cache[type] == NULL) {
			rsa_cache[type] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
			    rsa_bits[type]);
			CHECK(rsa_cache[type] != NULL);
		}
		CHECK(EVP_PKEY_up_ref(rsa_cache[type]) == 1);
		k = rsa_cache[type];
		break;
	default:
		die("unknown test key type");
	}
	CHECK(k != NULL);
	return k;
}

/* EdDSA signs the message itself: no separate digest. */
static const EVP_MD *
sign_md(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL
							      : EVP_sha256();
}

static void
set_random_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;

	CHECK(RAND_bytes(b, sizeof b) == 1);
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40); /* positive, 16 bytes */
	bn = BN_bin2bn(b, sizeof b, NULL);
	CHECK(bn != NULL);
	CHECK(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL);
	BN_free(bn);
}

static void
set_time(ASN1_TIME *t, int64_t when)
{
	CHECK(ASN1_TIME_set(t, (time_t)when) != NULL);
}

static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);

	if (ext == NULL) {
		fprintf(stderr, "test ca: extension %s=%s\n", OBJ_nid2sn(nid),
		    value);
		die("X509V3_EXT_nconf_nid");
	}
	CHECK(X509_add_ext(x, ext, -1) == 1);
	X509_EXTENSION_free(ext);
}

static void
add_entry(X509_NAME *name, const char *field, const char *value, int set)
{
	if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
		(const unsigned char *)value, -1, -1, set) != 1) {
		fprintf(stderr, "test ca: name entry %s=%s\n", field, value);
		die("X509_NAME_add_entry_by_txt");
	}
}

/* "k=v,k=v+k=v": ',' starts a new RDN, '+' adds to the current one, '\'
 * makes the next character literal. */
static void
add_subject_extra(X509_NAME *name, const char *s)
{
	size_t n = strlen(s);
	char *key = cs_malloc(n + 1);
	char *val = cs_malloc(n + 1);
	int set = 0;

	while (*s != '\0') {
		size_t k = 0, v = 0;
		int next_set = 0;

		while (*s != '\0' && *s != '=')
			key[k++] = *s++;
		key[k] = '\0';
		if (*s++ != '=')
			die("subject_extra: missing '='");
		while (*s != '\0' && *s != ',' && *s != '+') {
			if (*s == '\\' && s[1] != '\0')
				s++;
			val[v++] = *s++;
		}
		val[v] = '\0';
		if (*s == '+')
			next_set = -1;
		if (*s != '\0')
			s++;
		add_entry(name, key, val, set);
		set = next_set;
	}
	free(key);
	free(val);
}

static uint8_t *
cert_der(X509 *x, size_t *len)
{
	unsigned char *p = NULL;
	uint8_t *der;
	int n = i2d_X509(x, &p);

	CHECK(n > 0);
	der = cs_memdup(p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return der;
}

char *
cs_test_pem(const uint8_t *der, size_t len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	char *pem;
	long n;

	CHECK(bio != NULL);
	CHECK(PEM_write_bio(bio, "CERTIFICATE", "", der, (long)len) > 0);
	n = BIO_get_mem_data(bio, &p);
	CHECK(n > 0 && p != NULL);
	pem = cs_strndup(p, (size_t)n);
	BIO_free(bio);
	return pem;
}

struct cs_test_ca *
cs_test_ca_new(const char *cn, enum cs_test_key type,
    const struct cs_test_ca *parent)
{
	struct cs_test_ca *ca = cs_calloc(1, sizeof *ca);
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	EVP_PKEY *signer;
	X509V3_CTX ctx;
	int64_t now = (int64_t)time(NULL);

	CHECK(x != NULL && name != NULL);
	ca->key = cs_test_key_new(type);
	signer = parent != NULL ? parent->key : ca->key;
	CHECK(X509_set_version(x, X509_VERSION_3) == 1);
	set_random_serial(x);
	add_entry(name, "CN", cn, 0);
	CHECK(X509_set_subject_name(x, name) == 1);
	CHECK(X509_set_issuer_name(x, parent != NULL
					  ? X509_get_subject_name(parent->cert)
					  : name) == 1);
	set_time(X509_getm_notBefore(x), now - 86400);
	set_time(X509_getm_notAfter(x), now + 10 * 365 * 86400LL);
	CHECK(X509_set_pubkey(x, ca->key) == 1);
	X509V3_set_ctx(&ctx, parent != NULL ? parent->cert : x, x, NULL, NULL,
	    0);
	/* Roots leave the path length open; intermediates allow none, so
	 * both forms of pathLenConstraint exist in every test PKI. */
	add_ext(x, &ctx, NID_basic_constraints,
	    parent != NULL ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE");
	add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	CHECK(X509_sign(x, signer, sign_md(signer)) > 0);
	ca->cert = x;
	ca->der = cert_der(x, &ca->der_len);
	ca->pem = cs_test_pem(ca->der, ca->der_len);
	X509_NAME_free(name);
	return ca;
}

void
cs_test_ca_free(struct cs_test_ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->der);
	free(ca->pem);
	free(ca);
}

struct cs_test_ca *
cs_test_ca_load(const char *cert_file, const char *key_file, const char *who)
{
	struct cs_test_ca *ca = cs_calloc(1, sizeof *ca);
	FILE *f;

	f = fopen(cert_file, "r");
	if (f != NULL) {
		ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	f = fopen(key_file, "r");
	if (f != NULL) {
		ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (ca->cert == NULL || ca->key == NULL ||
	    X509_check_private_key(ca->cert, ca->key) != 1) {
		fprintf(stderr,
		    "%s: cannot load the issuer %s with key %s (PEM, "
		    "unencrypted, matching)\n",
		    who, cert_file, key_file);
		cs_test_ca_free(ca);
		return NULL;
	}
	return ca;
}

static void
add_gens(GENERAL_NAMES *gens, int type, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_STRING *s;

		CHECK(g != NULL);
		if (type == GEN_IPADD) {
			s = a2i_IPADDRESS(*list);
		} else {
			s = ASN1_IA5STRING_new();
			CHECK(s != NULL);
			CHECK(ASN1_STRING_set(s, *list, -1) == 1);
		}
		if (s == NULL) {
			fprintf(stderr, "test ca: SAN %s\n", *list);
			die("a2i_IPADDRESS");
		}
		GENERAL_NAME_set0_value(g, type, s);
		CHECK(sk_GENERAL_NAME_push(gens, g) > 0);
	}
}

static void
add_sans(X509 *x, const struct cs_test_leaf *leaf)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();

	CHECK(gens != NULL);
	add_gens(gens, GEN_DNS, leaf->dns);
	add_gens(gens, GEN_IPADD, leaf->ip);
	add_gens(gens, GEN_URI, leaf->uri);
	add_gens(gens, GEN_EMAIL, leaf->email);
	if (sk_GENERAL_NAME_num(gens) > 0)
		CHECK(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
			  X509V3_ADD_DEFAULT) == 1);
	GENERAL_NAMES_free(gens);
}

uint8_t *
cs_test_issue(const struct cs_test_ca *ca, const struct cs_test_leaf *leaf,
    size_t *len, X509 **cert_out)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	EVP_PKEY *key;
	X509V3_CTX ctx;
	int64_t nb, na;
	char buf[512];
	uint8_t *der;

	CHECK(x != NULL && name != NULL);
	if (leaf->key != NULL) {
		key = leaf->key;
		CHECK(EVP_PKEY_up_ref(key) == 1);
	} else {
		key = cs_test_key_new(CS_TEST_P256);
	}
	CHECK(X509_set_version(x, X509_VERSION_3) == 1);
	if (leaf->serial != 0)
		CHECK(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x),
			  leaf->serial) == 1);
	else
		set_random_serial(x);
	if (leaf->subject_extra != NULL)
		add_subject_extra(name, leaf->subject_extra);
	add_entry(name, "CN", leaf->cn != NULL ? leaf->cn : "leaf", 0);
	CHECK(X509_set_subject_name(x, name) == 1);
	CHECK(X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) == 1);
	nb = leaf->not_before != 0 ? leaf->not_before
				   : (int64_t)time(NULL) - 3600;
	na = leaf->not_after != 0 ? leaf->not_after : nb + 90 * 86400;
	set_time(X509_getm_notBefore(x), nb);
	set_time(X509_getm_notAfter(x), na);
	CHECK(X509_set_pubkey(x, key) == 1);
	X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_basic_constraints,
	    leaf->ca ? "critical,CA:TRUE" : "CA:FALSE");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	add_sans(x, leaf);
	if (leaf->key_usage != NULL) {
		snprintf(buf, sizeof buf, "critical,%s", leaf->key_usage);
		add_ext(x, &ctx, NID_key_usage, buf);
	}
	if (leaf->eku != NULL)
		add_ext(x, &ctx, NID_ext_key_usage, leaf->eku);
	if (leaf->ocsp_url != NULL && leaf->ca_issuers_url != NULL)
		snprintf(buf, sizeof buf, "OCSP;URI:%s,caIssuers;URI:%s",
		    leaf->ocsp_url, leaf->ca_issuers_url);
	else if (leaf->ocsp_url != NULL)
		snprintf(buf, sizeof buf, "OCSP;URI:%s", leaf->ocsp_url);
	else if (leaf->ca_issuers_url != NULL)
		snprintf(buf, sizeof buf, "caIssuers;URI:%s",
		    leaf->ca_issuers_url);
	if (leaf->ocsp_url != NULL || leaf->ca_issuers_url != NULL)
		add_ext(x, &ctx, NID_info_access, buf);
	if (leaf->crl_url != NULL) {
		snprintf(buf, sizeof buf, "URI:%s", leaf->crl_url);
		add_ext(x, &ctx, NID_crl_distribution_points, buf);
	}
	CHECK(X509_sign(x, ca->key, sign_md(ca->key)) > 0);
	der = cert_der(x, len);
	if (cert_out != NULL)
		*cert_out = x;
	else
		X509_free(x);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return der;
}

uint8_t *
cs_test_csr(EVP_PKEY *key, const char *cn, const char *const *dns, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	unsigned char *p = NULL;
	uint8_t *der;
	int n;

	CHECK(req != NULL && name != NULL);
	CHECK(X509_REQ_set_version(req, X509_REQ_VERSION_1) == 1);
	add_entry(name, "CN", cn, 0);
	CHECK(X509_REQ_set_subject_name(req, name) == 1);
	CHECK(X509_REQ_set_pubkey(req, key) == 1);
	if (dns != NULL && dns[0] != NULL) {
		X509_EXTENSION *ext;

		gens = GENERAL_NAMES_new();
		exts = sk_X509_EXTENSION_new_null();
		CHECK(gens != NULL && exts != NULL);
		add_gens(gens, GEN_DNS, dns);
		ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
		CHECK(ext != NULL);
		CHECK(sk_X509_EXTENSION_push(exts, ext) > 0);
		CHECK(X509_REQ_add_extensions(req, exts) == 1);
	}
	CHECK(X509_REQ_sign(req, key, sign_md(key)) > 0);
	n = i2d_X509_REQ(req, &p);
	CHECK(n > 0);
	der = cs_memdup(p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

char *
cs_test_write_file(const char *dir, const char *name, const void *p, size_t len)
{
	char *d = cs_strdup(dir);
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = cs_malloc(n);
	FILE *f;

	/* mkdir -p: each prefix ending before a '/', then the whole. */
	for (char *s = d + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(d, 0700) != 0 && errno != EEXIST)
			die("mkdir");
		*s = '/';
	}
	if (mkdir(d, 0700) != 0 && errno != EEXIST)
		die("mkdir");
	snprintf(path, n, "%s/%s", dir, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(len == 0 || fwrite(p, 1, len, f) == len);
	CHECK(fclose(f) == 0);
	free(d);
	return path;
}
