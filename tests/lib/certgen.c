/*
 * certgen.c - the template-patching certificate generator of certgen.h.
 *
 * The template is a real certificate built and signed with OpenSSL's X509
 * API, with marker values where the variable fields go: serial
 * 4f 11 .. 11, CN "<prefix>0000000", IP 10.123.45.67, notAfter now + 400
 * days (a 13-character UTCTime) and a throwaway P-256 point. Its
 * TBSCertificate is re-encoded (i2d_re_X509_tbs) and the offset of each
 * marker found in it. Every patched field keeps its length, so no DER
 * length in the TBS changes; only the outer SEQUENCE, built here, depends
 * on the signature's length.
 *
 * Thread safety: the template is read-only once made. Each thread has its
 * own EC group, point, digest context and TBS copy; the CA key is shared,
 * which OpenSSL 3 allows for signing.
 */
#include "tests/lib/certgen.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/mem.h"

#define DAY        86400
#define NAME_LEN   10 /* prefix (3) + 7 digits */
#define MAX_NAMES  4  /* occurrences of the name in the TBS: CN, DNS SAN */
#define SERIAL_LEN 16
#define POINT_LEN  65 /* 04 X Y */
#define TIME_LEN   13 /* UTCTime "YYMMDDHHMMSSZ" */

struct cs_certgen {
	uint8_t *tbs; /* the template's TBSCertificate, OPENSSL_free() */
	size_t tbs_len;
	size_t off_serial; /* SERIAL_LEN bytes */
	size_t off_name[MAX_NAMES];
	size_t nname;
	size_t off_ip;        /* 4 bytes */
	size_t off_not_after; /* TIME_LEN bytes */
	size_t off_point;     /* POINT_LEN bytes */
	uint8_t sigalg[32];   /* the AlgorithmIdentifier, DER */
	size_t sigalg_len;
	size_t sig_max; /* bytes a signature may take */
	const EVP_MD *md;
	EVP_PKEY *ca_key; /* borrowed from the CA */
	char prefix[4];
	uint64_t key_base;
	int64_t now;
};

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "certgen: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

#define CHECK(expr)                                                            \
	do {                                                                   \
		if (!(expr))                                                   \
			die(#expr);                                            \
	} while (0)

/* The offset of needle in hay at or after from, or SIZE_MAX. */
static size_t
find(const uint8_t *hay, size_t n, const void *needle, size_t m, size_t from)
{
	for (size_t i = from; i + m <= n; i++) {
		if (memcmp(hay + i, needle, m) == 0)
			return i;
	}
	return SIZE_MAX;
}

static size_t
find_one(const struct cs_certgen *g, const void *needle, size_t m,
    const char *what)
{
	size_t at = find(g->tbs, g->tbs_len, needle, m, 0);

	if (at == SIZE_MAX) {
		fprintf(stderr, "certgen: template field %s not found\n", what);
		abort();
	}
	return at;
}

static void
two(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/* UTCTime text "YYMMDDHHMMSSZ" (and a NUL) */
static void
utc(int64_t t, char out[TIME_LEN + 1])
{
	time_t tt = (time_t)t;
	struct tm tm;

	CHECK(gmtime_r(&tt, &tm) != NULL);
	two(out, tm.tm_year % 100);
	two(out + 2, tm.tm_mon + 1);
	two(out + 4, tm.tm_mday);
	two(out + 6, tm.tm_hour);
	two(out + 8, tm.tm_min);
	two(out + 10, tm.tm_sec);
	out[12] = 'Z';
	out[13] = '\0';
}

static void
add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);

	CHECK(ext != NULL);
	CHECK(X509_add_ext(x, ext, -1) == 1);
	X509_EXTENSION_free(ext);
}

static void
add_name(X509_NAME *name, const char *field, const char *value)
{
	CHECK(X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
		  (const unsigned char *)value, -1, -1, 0) == 1);
}

static int
prefix_ok(const char *p)
{
	if (strlen(p) != 3)
		return 0;
	for (size_t i = 0; i < 3; i++) {
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
			(p[i] >= '0' && p[i] <= '9')))
			return 0;
	}
	return 1;
}

/* Builds and signs the template certificate, then records where each
 * variable field sits in its TBS. */
static void
make_template(struct cs_certgen *g, const struct cs_test_ca *ca)
{
	static const uint8_t serial[SERIAL_LEN] = {0x4f, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
	static const uint8_t ip_mark[4] = {10, 123, 45, 67};
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = BN_bin2bn(serial, SERIAL_LEN, NULL);
	ASN1_INTEGER *sn = NULL;
	X509V3_CTX v3;
	char dn[NAME_LEN + 1], san[160], na[TIME_LEN + 1];
	uint8_t point[POINT_LEN];
	size_t plen = sizeof point;
	const X509_ALGOR *alg = NULL;
	unsigned char *p = NULL;
	unsigned char *q;
	int len;

	CHECK(x != NULL && name != NULL && bn != NULL);
	sn = BN_to_ASN1_INTEGER(bn, NULL);
	CHECK(sn != NULL);
	snprintf(dn, sizeof dn, "%s%07u", g->prefix, 0u);
	CHECK(X509_set_version(x, X509_VERSION_3) == 1);
	CHECK(X509_set_serialNumber(x, sn) == 1);
	add_name(name, "O", "Hospital");
	add_name(name, "OU", "Infusion pumps");
	add_name(name, "CN", dn);
	CHECK(X509_set_subject_name(x, name) == 1);
	CHECK(X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) == 1);
	CHECK(X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, NULL) != NULL);
	/* far enough to be a UTCTime of 13 characters, like every patch */
	CHECK(ASN1_TIME_set(X509_getm_notAfter(x),
		  (time_t)(g->now + 400 * DAY)) != NULL);
	CHECK(X509_set_pubkey(x, key) == 1);
	X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
	snprintf(san, sizeof san, "DNS:%s.site-a.hospital.test,IP:10.123.45.67",
	    dn);
	add_ext(x, &v3, NID_subject_alt_name, san);
	add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(x, &v3, NID_key_usage, "critical,digitalSignature");
	add_ext(x, &v3, NID_ext_key_usage, "clientAuth");
	add_ext(x, &v3, NID_crl_distribution_points,
	    "URI:http://pki.hospital.test/crl/local-ca.crl");
	add_ext(x, &v3, NID_info_access,
	    "OCSP;URI:http://pki.hospital.test/ocsp,"
	    "caIssuers;URI:http://pki.hospital.test/ca/local-ca.crt");
	add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	CHECK(X509_sign(x, ca->key, g->md) > 0);

	len = i2d_re_X509_tbs(x, &p);
	CHECK(len > 0);
	g->tbs = p;
	g->tbs_len = (size_t)len;
	g->off_serial = find_one(g, serial, SERIAL_LEN, "serial");
	for (size_t from = 0; g->nname < MAX_NAMES;) {
		size_t at = find(g->tbs, g->tbs_len, dn, NAME_LEN, from);

		if (at == SIZE_MAX)
			break;
		g->off_name[g->nname++] = at;
		from = at + NAME_LEN;
	}
	CHECK(g->nname >= 2); /* CN and the DNS SAN */
	g->off_ip = find_one(g, ip_mark, 4, "IP address");
	utc(g->now + 400 * DAY, na);
	g->off_not_after = find_one(g, na, TIME_LEN, "notAfter");
	CHECK(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY,
		  point, sizeof point, &plen) == 1 &&
	      plen == POINT_LEN);
	g->off_point = find_one(g, point, POINT_LEN, "EC point");

	X509_get0_signature(NULL, &alg, x);
	len = i2d_X509_ALGOR(alg, NULL);
	CHECK(len > 0 && (size_t)len <= sizeof g->sigalg);
	q = g->sigalg;
	i2d_X509_ALGOR(alg, &q);
	g->sigalg_len = (size_t)len;
	CHECK(EVP_PKEY_get_size(ca->key) > 0);
	g->sig_max = (size_t)EVP_PKEY_get_size(ca->key);

	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
}

struct cs_certgen *
cs_certgen_new(const struct cs_test_ca *ca, const struct cs_certgen_config *cfg)
{
	struct cs_certgen *g = cs_calloc(1, sizeof *g);
	int id = EVP_PKEY_get_base_id(ca->key);
	const char *prefix =
	    cfg != NULL && cfg->prefix != NULL ? cfg->prefix : "dev";

	if (!prefix_ok(prefix)) {
		fprintf(stderr, "certgen: prefix \"%s\" is not 3 of [a-z0-9]\n",
		    prefix);
		abort();
	}
	memcpy(g->prefix, prefix, 4);
	g->now = cfg != NULL && cfg->now != 0 ? cfg->now : (int64_t)time(NULL);
	g->key_base = cfg != NULL ? cfg->key_base : 0;
	g->ca_key = ca->key;
	/* EdDSA signs the message itself: no separate digest (as ca.c) */
	g->md = id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL
							       : EVP_sha256();
	make_template(g, ca);
	return g;
}

void
cs_certgen_free(struct cs_certgen *g)
{
	if (g == NULL)
		return;
	OPENSSL_free(g->tbs);
	free(g);
}

int64_t
cs_certgen_now(const struct cs_certgen *g)
{
	return g->now;
}

/* ---- generation ---- */

/* One thread's share: certificates first .. first + n - 1, written at
 * index i - base of the output arrays. */
struct share {
	const struct cs_certgen *g;
	uint32_t first;
	size_t n;
	size_t base;
	const struct cs_certgen_out *out;
};

static size_t
der_len_bytes(size_t n)
{
	return n < 128 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 4;
}

static uint8_t *
put_len(uint8_t *w, size_t n)
{
	if (n < 128) {
		*w++ = (uint8_t)n;
	} else if (n < 256) {
		*w++ = 0x81;
		*w++ = (uint8_t)n;
	} else if (n < 65536) {
		*w++ = 0x82;
		*w++ = (uint8_t)(n >> 8);
		*w++ = (uint8_t)n;
	} else {
		*w++ = 0x83;
		*w++ = (uint8_t)(n >> 16);
		*w++ = (uint8_t)(n >> 8);
		*w++ = (uint8_t)n;
	}
	return w;
}

/* Certificate = SEQUENCE { tbs, sigalg, BIT STRING { 0 unused, sig } } */
static uint8_t *
assemble(const struct cs_certgen *g, const uint8_t *tbs, const uint8_t *sig,
    size_t siglen, size_t *len)
{
	size_t bitlen = siglen + 1;
	size_t body =
	    g->tbs_len + g->sigalg_len + 1 + der_len_bytes(bitlen) + bitlen;
	size_t total = 1 + der_len_bytes(body) + body;
	uint8_t *der = cs_malloc(total);
	uint8_t *w = der;

	*w++ = 0x30;
	w = put_len(w, body);
	memcpy(w, tbs, g->tbs_len);
	w += g->tbs_len;
	memcpy(w, g->sigalg, g->sigalg_len);
	w += g->sigalg_len;
	*w++ = 0x03;
	w = put_len(w, bitlen);
	*w++ = 0;
	memcpy(w, sig, siglen);
	*len = total;
	return der;
}

static void *
share_run(void *arg)
{
	const struct share *s = arg;
	const struct cs_certgen *g = s->g;
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pt = NULL;
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *k = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *tbs = cs_malloc(g->tbs_len);
	uint8_t *sig = cs_malloc(g->sig_max);
	uint8_t base[8];

	CHECK(grp != NULL && bc != NULL && md != NULL);
	pt = EC_POINT_new(grp);
	CHECK(pt != NULL);
	/* P_num = (key_base + num + 1) * G, then one addition per
	 * certificate: distinct, valid and cheap public keys */
	for (int i = 0; i < 8; i++)
		base[i] = (uint8_t)(g->key_base >> (56 - 8 * i));
	k = BN_bin2bn(base, sizeof base, NULL);
	CHECK(k != NULL);
	CHECK(BN_add_word(k, (BN_ULONG)s->first + 1) == 1);
	CHECK(EC_POINT_mul(grp, pt, k, NULL, NULL, bc) == 1);
	memcpy(tbs, g->tbs, g->tbs_len);
	for (size_t i = 0; i < s->n; i++) {
		uint32_t num = s->first + (uint32_t)i;
		size_t at = s->base + i;
		char name[16], na[TIME_LEN + 1];
		size_t siglen = g->sig_max;
		uint8_t *ser = tbs + g->off_serial;

		CHECK(RAND_bytes(ser + 1, SERIAL_LEN - 5) == 1);
		ser[12] = (uint8_t)(num >> 24);
		ser[13] = (uint8_t)(num >> 16);
		ser[14] = (uint8_t)(num >> 8);
		ser[15] = (uint8_t)num;
		snprintf(name, sizeof name, "%s%07u", g->prefix, (unsigned)num);
		for (size_t j = 0; j < g->nname; j++)
			memcpy(tbs + g->off_name[j], name, NAME_LEN);
		tbs[g->off_ip + 1] = (uint8_t)(num >> 16);
		tbs[g->off_ip + 2] = (uint8_t)(num >> 8);
		tbs[g->off_ip + 3] = (uint8_t)num;
		/* expiry spread over 2 years, 1 day .. 730 days ahead */
		utc(g->now + DAY + (int64_t)((num * 7919u) % 729u) * DAY +
			(int64_t)(num % DAY),
		    na);
		memcpy(tbs + g->off_not_after, na, TIME_LEN);
		CHECK(EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED,
			  tbs + g->off_point, POINT_LEN, bc) == POINT_LEN);
		CHECK(EC_POINT_add(grp, pt, pt, EC_GROUP_get0_generator(grp),
			  bc) == 1);
		CHECK(
		    EVP_DigestSignInit(md, NULL, g->md, NULL, g->ca_key) == 1);
		CHECK(EVP_DigestSign(md, sig, &siglen, tbs, g->tbs_len) == 1);
		EVP_MD_CTX_reset(md);
		s->out->der[at] =
		    assemble(g, tbs, sig, siglen, &s->out->len[at]);
		if (s->out->fp != NULL)
			CHECK(
			    EVP_Digest(s->out->der[at], s->out->len[at],
				s->out->fp[at], NULL, EVP_sha256(), NULL) == 1);
	}
	free(sig);
	free(tbs);
	EVP_MD_CTX_free(md);
	BN_free(k);
	BN_CTX_free(bc);
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return NULL;
}

void
cs_certgen_run(const struct cs_certgen *g, uint32_t first, size_t n,
    unsigned nthreads, const struct cs_certgen_out *out)
{
	struct share *shares;
	pthread_t *th;
	size_t done = 0;

	if (n == 0)
		return;
	if (first >= CS_CERTGEN_MAX_NUM || n > CS_CERTGEN_MAX_NUM - first) {
		fprintf(stderr, "certgen: numbers %u + %zu over %u\n",
		    (unsigned)first, n, CS_CERTGEN_MAX_NUM);
		abort();
	}
	if (nthreads == 0)
		nthreads = 1;
	if (nthreads > n)
		nthreads = (unsigned)n;
	shares = cs_calloc(nthreads, sizeof *shares);
	th = cs_calloc(nthreads, sizeof *th);
	for (unsigned i = 0; i < nthreads; i++) {
		size_t k = n / nthreads + (i < n % nthreads ? 1 : 0);

		shares[i].g = g;
		shares[i].first = first + (uint32_t)done;
		shares[i].n = k;
		shares[i].base = done;
		shares[i].out = out;
		done += k;
	}
	for (unsigned i = 1; i < nthreads; i++)
		CHECK(pthread_create(&th[i], NULL, share_run, &shares[i]) == 0);
	share_run(&shares[0]);
	for (unsigned i = 1; i < nthreads; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	free(th);
	free(shares);
}
