/*
 * test_crl.c - cert/crl.c against OpenSSL: the same CRL built with
 * OpenSSL's X509_CRL API must have the very same TBSCertList bytes, and
 * `openssl crl`, `openssl verify -crl_check` (with deltas too) and
 * d2i_X509_CRL() + X509_CRL_verify() must read and accept ours.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/crl.h"
#include "cert/der.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "tests/lib/ca.h"
#include "tests/lib/cmds.h"
#include "tests/lib/proc.h"
#include "tests/lib/runner.h"

#define FRESHEST "http://pki.example/crl/root-delta.crl"

/* ---- fixture: a CA, its signer, a temporary directory ---- */

static struct cs_test_ca *ca;
static struct cs_signer signer;
static struct cs_der ca_name, ca_ski;
static char *base_dir; /* per tcase, made by the runner: see proc.h */
static char *dir;      /* per test, inside base_dir */
static int64_t now;

static void
ca_setup(enum cs_test_key type)
{
	struct cs_der_cert dc;
	const ASN1_OCTET_STRING *ski;

	ca = cs_test_ca_new("Test Root", type, NULL);
	ck_assert_int_eq(cs_der_cert_split(ca->der, ca->der_len, &dc, NULL), 0);
	ca_name = dc.subject;
	ski = X509_get0_subject_key_id(ca->cert);
	ck_assert_ptr_nonnull(ski);
	ca_ski.p = ASN1_STRING_get0_data(ski);
	ca_ski.len = (size_t)ASN1_STRING_length(ski);
	ck_assert_int_eq(cs_signer_init(&signer, ca->key, NULL), 0);
	dir = cs_test_tmpdir_sub(base_dir);
	now = (int64_t)time(NULL);
}

static void
base_setup(void)
{
	base_dir = cs_test_tmpdir_new("crl");
}

static void
base_teardown(void)
{
	cs_test_tmpdir_free(base_dir);
	base_dir = NULL;
}

static void
setup(void)
{
	ca_setup(CS_TEST_P256);
}

static void
teardown(void)
{
	cs_test_tmpdir_free(dir);
	dir = NULL;
	cs_signer_close(&signer);
	cs_test_ca_free(ca);
	ca = NULL;
}

/* Runs in the parent: forked tests share the RSA key. */
static void
warm_keys(void)
{
	EVP_PKEY_free(cs_test_key_new(CS_TEST_RSA2048));
}

static void
params_init(struct cs_crl_params *p, const struct cs_crl_entry *e, size_t n)
{
	memset(p, 0, sizeof *p);
	p->issuer_name = ca_name.p;
	p->issuer_name_len = ca_name.len;
	p->issuer_ski = ca_ski.p;
	p->issuer_ski_len = ca_ski.len;
	p->number = 1;
	p->this_update = now - 60;
	p->next_update = now + 86400;
	p->entries = e;
	p->n = n;
}

static void
build(const struct cs_crl_params *p, struct cs_buf *out)
{
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc;

	cs_buf_init(out, CS_CRL_MAX_BYTES);
	rc = cs_crl_build(p, &signer, out, errmsg);
	ck_assert_msg(rc == 0, "cs_crl_build: %s (%s)", cs_errname(rc), errmsg);
}

static X509_CRL *
parse(const struct cs_buf *b)
{
	const unsigned char *p = b->data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)b->len);

	ck_assert_ptr_nonnull(crl);
	ck_assert(p == b->data + b->len);
	return crl;
}

/* Writes DER as PEM ("X509 CRL" or "CERTIFICATE") to dir/name, appending
 * so that a file can hold several CRLs. Returns the path (free()). */
static char *
write_pem(const char *name, const char *label, const uint8_t *der, size_t len)
{
	char *path = cs_test_path(dir, name);
	FILE *f = fopen(path, "a");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_gt(PEM_write(f, label, "", der, (long)len), 0);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static char *
write_der(const char *name, const uint8_t *der, size_t len)
{
	char *path = cs_test_path(dir, name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(der, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* `openssl crl -text` of a DER CRL; must succeed. */
static char *
crl_text(const struct cs_buf *b)
{
	char *path = write_der("text.der", b->data, b->len);
	int st;
	char *out = cs_test_run(&st,
	    "openssl crl -inform DER -in %s -noout "
	    "-text",
	    path);

	ck_assert_msg(st == 0, "openssl crl: %s", out);
	free(path);
	return out;
}

static void
assert_has(const char *text, const char *needle)
{
	ck_assert_msg(strstr(text, needle) != NULL, "'%s' not in:\n%s", needle,
	    text);
}

static void
serial_set(struct cs_serial *s, uint64_t v)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	ck_assert_int_eq(cs_serial_from_bytes(s, be, 8, false), 0);
}

/* The serial of an X509 as a struct cs_serial. */
static void
serial_of_cert(X509 *x, struct cs_serial *s)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	uint8_t b[64];
	int n = BN_bn2bin(bn, b);

	ck_assert_int_eq(cs_serial_from_bytes(s, b, (size_t)n,
			     BN_is_negative(bn)),
	    0);
	BN_free(bn);
}

/* OpenSSL's names for the reasons, as `openssl crl -text` prints them. */
static const char *const reason_text[CS_REASON__MAX] = {
    [CS_REASON_UNSPECIFIED] = "Unspecified",
    [CS_REASON_KEY_COMPROMISE] = "Key Compromise",
    [CS_REASON_CA_COMPROMISE] = "CA Compromise",
    [CS_REASON_AFFILIATION_CHANGED] = "Affiliation Changed",
    [CS_REASON_SUPERSEDED] = "Superseded",
    [CS_REASON_CESSATION] = "Cessation Of Operation",
    [CS_REASON_CERTIFICATE_HOLD] = "Certificate Hold",
    [CS_REASON_REMOVE_FROM_CRL] = "Remove From CRL",
    [CS_REASON_PRIVILEGE_WITHDRAWN] = "Privilege Withdrawn",
    [CS_REASON_AA_COMPROMISE] = "AA Compromise",
};

/* ---- the same CRL from OpenSSL's API ---- */

static ASN1_INTEGER *
asn1_serial(const struct cs_serial *s)
{
	BIGNUM *bn = BN_bin2bn(s->b, s->len, NULL);
	ASN1_INTEGER *ai;

	BN_set_negative(bn, s->neg);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	ck_assert_ptr_nonnull(ai);
	BN_free(bn);
	return ai;
}

/* What cs_crl_build() should write, built by OpenSSL; returns the DER of
 * its TBSCertList (new, free()). */
static uint8_t *
reference_tbs(const struct cs_crl_params *p, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t;
	ASN1_INTEGER *ai;
	unsigned char *der = NULL;
	uint8_t *out;
	int n;

	ck_assert_int_eq(X509_CRL_set_version(crl, X509_CRL_VERSION_2), 1);
	ck_assert_int_eq(X509_CRL_set_issuer_name(crl,
			     X509_get_subject_name(ca->cert)),
	    1);
	t = ASN1_TIME_set(NULL, (time_t)p->this_update);
	ck_assert_int_eq(X509_CRL_set1_lastUpdate(crl, t), 1);
	ASN1_TIME_free(t);
	t = ASN1_TIME_set(NULL, (time_t)p->next_update);
	ck_assert_int_eq(X509_CRL_set1_nextUpdate(crl, t), 1);
	ASN1_TIME_free(t);
	for (size_t i = 0; i < p->n; i++) {
		const struct cs_crl_entry *e = &p->entries[i];
		X509_REVOKED *r = X509_REVOKED_new();

		ai = asn1_serial(&e->serial);
		ck_assert_int_eq(X509_REVOKED_set_serialNumber(r, ai), 1);
		ASN1_INTEGER_free(ai);
		t = ASN1_TIME_set(NULL, (time_t)e->time);
		ck_assert_int_eq(X509_REVOKED_set_revocationDate(r, t), 1);
		ASN1_TIME_free(t);
		if (e->reason != CS_REASON_UNSPECIFIED) {
			ASN1_ENUMERATED *en = ASN1_ENUMERATED_new();

			ck_assert_int_eq(ASN1_ENUMERATED_set(en, e->reason), 1);
			ck_assert_int_eq(X509_REVOKED_add1_ext_i2d(r,
					     NID_crl_reason, en, 0, 0),
			    1);
			ASN1_ENUMERATED_free(en);
		}
		if (e->invalidity_date != 0) {
			ASN1_GENERALIZEDTIME *g = ASN1_GENERALIZEDTIME_set(NULL,
			    (time_t)e->invalidity_date);

			ck_assert_int_eq(X509_REVOKED_add1_ext_i2d(r,
					     NID_invalidity_date, g, 0, 0),
			    1);
			ASN1_GENERALIZEDTIME_free(g);
		}
		ck_assert_int_eq(X509_CRL_add0_revoked(crl, r), 1);
	}
	if (p->issuer_ski != NULL) {
		AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

		akid->keyid = ASN1_OCTET_STRING_new();
		ck_assert_int_eq(ASN1_OCTET_STRING_set(akid->keyid,
				     p->issuer_ski, (int)p->issuer_ski_len),
		    1);
		ck_assert_int_eq(X509_CRL_add1_ext_i2d(crl,
				     NID_authority_key_identifier, akid, 0, 0),
		    1);
		AUTHORITY_KEYID_free(akid);
	}
	ai = ASN1_INTEGER_new();
	ck_assert_int_eq(ASN1_INTEGER_set_uint64(ai, p->number), 1);
	ck_assert_int_eq(X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0),
	    1);
	ASN1_INTEGER_free(ai);
	if (p->delta_base != 0) {
		ai = ASN1_INTEGER_new();
		ck_assert_int_eq(ASN1_INTEGER_set_uint64(ai, p->delta_base), 1);
		ck_assert_int_eq(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, ai,
				     1, 0),
		    1);
		ASN1_INTEGER_free(ai);
	} else if (p->freshest_url != NULL) {
		char value[512];
		X509_EXTENSION *ext;

		snprintf(value, sizeof value, "URI:%s", p->freshest_url);
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_freshest_crl, value);
		ck_assert_ptr_nonnull(ext);
		ck_assert_int_eq(X509_CRL_add_ext(crl, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	/* signing fills in the TBS signature algorithm */
	ck_assert_int_gt(X509_CRL_sign(crl, ca->key,
			     EVP_PKEY_get_base_id(ca->key) == EVP_PKEY_ED25519
				 ? NULL
			     : signer.alg == CS_SIG_ECDSA_SHA384
				 ? EVP_sha384()
				 : EVP_sha256()),
	    0);
	n = i2d_re_X509_CRL_tbs(crl, &der);
	ck_assert_int_gt(n, 0);
	out = cs_memdup(der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return out;
}

/* The TBSCertList TLV of our CRL. */
static struct cs_der
tbs_of(const struct cs_buf *b)
{
	struct cs_der in = {b->data, b->len}, crl, tbs;

	ck_assert_int_eq(cs_der_expect(&in, CS_DER_SEQUENCE, &crl, NULL), 0);
	ck_assert_uint_eq(in.len, 0);
	ck_assert_int_eq(cs_der_expect(&crl, CS_DER_SEQUENCE, NULL, &tbs), 0);
	return tbs;
}

static void
assert_same_as_openssl(const struct cs_crl_params *p, const struct cs_buf *b)
{
	struct cs_der tbs = tbs_of(b);
	size_t len;
	uint8_t *ref = reference_tbs(p, &len);

	if (tbs.len != len || memcmp(tbs.p, ref, len) != 0) {
		size_t i = 0;

		while (i < len && i < tbs.len && tbs.p[i] == ref[i])
			i++;
		ck_abort_msg("TBSCertList differs from OpenSSL's at byte %zu "
			     "(ours %zu bytes, OpenSSL %zu)",
		    i, tbs.len, len);
	}
	free(ref);
}

/* ---- byte-exact against OpenSSL ---- */

static const struct cs_crl_entry *
mixed_entries(size_t *n)
{
	static struct cs_crl_entry e[8];
	static const uint8_t twenty[20] = {0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	    11, 12, 13, 14, 15, 16, 17, 18, 19};
	static const uint8_t top[20] = {0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15, 16, 17, 18, 19};

	memset(e, 0, sizeof e);
	serial_set(&e[0].serial, 0x1234);
	e[0].time = 1700000000;
	e[0].reason = CS_REASON_KEY_COMPROMISE;
	e[0].invalidity_date = 1699990000;
	cs_serial_from_bytes(&e[1].serial, twenty, 20, false);
	e[1].time = 1700000001;
	e[1].reason = CS_REASON_UNSPECIFIED; /* no extensions at all */
	cs_serial_from_bytes(&e[2].serial, top, 20, false); /* 21 in DER */
	e[2].time = 2524608000;                             /* 2050 */
	e[2].reason = CS_REASON_SUPERSEDED;
	cs_serial_from_bytes(&e[3].serial, (const uint8_t *)"\x01", 1, true);
	e[3].time = -631152001; /* 1949 */
	e[3].reason = CS_REASON_CERTIFICATE_HOLD;
	cs_serial_from_bytes(&e[4].serial, (const uint8_t *)"\x80\x00", 2,
	    true);
	e[4].time = 1;
	e[4].reason = CS_REASON_AA_COMPROMISE;
	e[4].invalidity_date = 4107542400; /* GeneralizedTime either way */
	cs_serial_from_bytes(&e[5].serial, (const uint8_t *)"\x81", 1, true);
	e[5].time = 1700000005;
	e[5].invalidity_date = 1600000000; /* invalidity without reason */
	cs_serial_from_bytes(&e[6].serial, NULL, 0, false); /* zero */
	e[6].time = 1700000006;
	e[6].reason = CS_REASON_PRIVILEGE_WITHDRAWN;
	serial_set(&e[7].serial, 0xffffffffffffffffull);
	e[7].time = 1700000007;
	e[7].reason = CS_REASON_CA_COMPROMISE;
	*n = 8;
	return e;
}

START_TEST(test_build_matches_openssl_bytes)
{
	struct cs_crl_params p;
	struct cs_buf b;
	size_t n;
	const struct cs_crl_entry *e = mixed_entries(&n);

	/* full, with AKI and FreshestCRL */
	params_init(&p, e, n);
	p.number = 0x1234567890ull;
	p.freshest_url = FRESHEST;
	build(&p, &b);
	assert_same_as_openssl(&p, &b);
	cs_buf_close(&b);

	/* no AKI, no FreshestCRL, no entries */
	params_init(&p, NULL, 0);
	p.issuer_ski = NULL;
	build(&p, &b);
	assert_same_as_openssl(&p, &b);
	cs_buf_close(&b);

	/* a delta (FreshestCRL is for full CRLs only: not written) */
	params_init(&p, e, n);
	p.number = 8;
	p.delta_base = 7;
	p.freshest_url = FRESHEST;
	build(&p, &b);
	assert_same_as_openssl(&p, &b);
	cs_buf_close(&b);
}
END_TEST

/* The same for every signing key type, and the signature verifies. */
static const enum cs_test_key key_types[] = {CS_TEST_P256, CS_TEST_P384,
    CS_TEST_RSA2048, CS_TEST_ED25519};

START_TEST(test_build_every_key_type)
{
	struct cs_crl_params p;
	struct cs_buf b;
	size_t n;
	const struct cs_crl_entry *e;
	X509_CRL *crl;

	teardown();
	ca_setup(key_types[_i]);
	e = mixed_entries(&n);
	params_init(&p, e, n);
	build(&p, &b);
	assert_same_as_openssl(&p, &b);
	crl = parse(&b);
	ck_assert_int_eq(X509_CRL_verify(crl, ca->key), 1);
	ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)),
	    (int)n);
	X509_CRL_free(crl);
	cs_buf_close(&b);
}
END_TEST

/* ---- what OpenSSL reads back ---- */

START_TEST(test_build_empty)
{
	struct cs_crl_params p;
	struct cs_buf b;
	struct cs_der tbs, in, v;
	uint8_t tag;
	X509_CRL *crl;
	char *text;

	params_init(&p, NULL, 0);
	build(&p, &b);

	/* revokedCertificates is absent: nextUpdate is followed by [0] */
	tbs = tbs_of(&b);
	in = tbs;
	ck_assert_int_eq(cs_der_expect(&in, CS_DER_SEQUENCE, &tbs, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&tbs, CS_DER_INTEGER, &v, NULL), 0);
	ck_assert_uint_eq(v.len, 1);
	ck_assert_uint_eq(v.p[0], 1); /* v2 */
	for (int i = 0; i < 4; i++)   /* algid, issuer, this, next */
		ck_assert_int_eq(cs_der_next(&tbs, &tag, NULL, NULL), 0);
	ck_assert(cs_der_peek(&tbs, CS_DER_CTX0));

	crl = parse(&b);
	ck_assert_int_eq(X509_CRL_verify(crl, ca->key), 1);
	ck_assert_int_eq(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	ck_assert_ptr_null(X509_CRL_get_REVOKED(crl)); /* none, not empty */
	X509_CRL_free(crl);

	text = crl_text(&b);
	assert_has(text, "No Revoked Certificates.");
	assert_has(text, "X509v3 CRL Number: \n                1");
	assert_has(text, "X509v3 Authority Key Identifier");
	assert_has(text, "Issuer: CN = Test Root");
	free(text);
	cs_buf_close(&b);
}
END_TEST

START_TEST(test_build_extensions_read_back)
{
	struct cs_crl_params p;
	struct cs_buf b;
	size_t n;
	const struct cs_crl_entry *e = mixed_entries(&n);
	X509_CRL *crl;
	ASN1_INTEGER *num;
	AUTHORITY_KEYID *akid;
	STACK_OF(DIST_POINT) * fresh;
	GENERAL_NAME *gn;
	int crit;

	params_init(&p, e, n);
	p.number = 42;
	p.freshest_url = FRESHEST;
	build(&p, &b);
	crl = parse(&b);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	ck_assert_ptr_nonnull(num);
	ck_assert_int_eq(crit, 0);
	ck_assert_int_eq(ASN1_INTEGER_get(num), 42);
	ASN1_INTEGER_free(num);
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit,
	    NULL);
	ck_assert_ptr_nonnull(akid);
	ck_assert_int_eq(ASN1_STRING_cmp(akid->keyid,
			     X509_get0_subject_key_id(ca->cert)),
	    0);
	ck_assert_ptr_null(akid->issuer);
	AUTHORITY_KEYID_free(akid);
	fresh = X509_CRL_get_ext_d2i(crl, NID_freshest_crl, &crit, NULL);
	ck_assert_ptr_nonnull(fresh);
	ck_assert_int_eq(crit, 0);
	ck_assert_int_eq(sk_DIST_POINT_num(fresh), 1);
	ck_assert_int_eq(sk_DIST_POINT_value(fresh, 0)->distpoint->type, 0);
	gn = sk_GENERAL_NAME_value(sk_DIST_POINT_value(fresh, 0)
				       ->distpoint->name.fullname,
	    0);
	ck_assert_int_eq(gn->type, GEN_URI);
	ck_assert_str_eq((const char *)ASN1_STRING_get0_data(
			     gn->d.uniformResourceIdentifier),
	    FRESHEST);
	sk_DIST_POINT_pop_free(fresh, DIST_POINT_free);
	ck_assert_ptr_null(
	    X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL));
	ck_assert_int_eq(crit, -1); /* absent */
	X509_CRL_free(crl);
	cs_buf_close(&b);
}
END_TEST

/* Serials: negative, zero, 20 bytes, top bit set, 32 bytes: OpenSSL reads
 * back the same numbers, and `openssl crl` prints them. */
START_TEST(test_build_serials)
{
	struct cs_crl_entry e[4];
	struct cs_crl_params p;
	struct cs_buf b;
	size_t n;
	const struct cs_crl_entry *m = mixed_entries(&n);
	struct cs_crl_entry all[12];
	uint8_t big[32];
	X509_CRL *crl;
	STACK_OF(X509_REVOKED) * rev;
	char *text;

	memset(e, 0, sizeof e);
	memset(big, 0xa5, sizeof big);
	cs_serial_from_bytes(&e[0].serial, big, 32, false);
	cs_serial_from_bytes(&e[1].serial, big, 32, true);
	cs_serial_from_bytes(&e[2].serial, (const uint8_t *)"\xff", 1, true);
	cs_serial_from_bytes(&e[3].serial, (const uint8_t *)"\x7f\xff", 2,
	    true);
	for (int i = 0; i < 4; i++)
		e[i].time = 1700000000;
	memcpy(all, m, n * sizeof *m);
	memcpy(all + n, e, sizeof e);
	params_init(&p, all, n + 4);
	build(&p, &b);
	crl = parse(&b);
	ck_assert_int_eq(X509_CRL_verify(crl, ca->key), 1);
	rev = X509_CRL_get_REVOKED(crl);
	ck_assert_int_eq(sk_X509_REVOKED_num(rev), (int)(n + 4));
	for (size_t i = 0; i < n + 4; i++) {
		const ASN1_INTEGER *ai = X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(rev, (int)i));
		ASN1_INTEGER *want = asn1_serial(&all[i].serial);

		ck_assert_msg(ASN1_INTEGER_cmp(ai, want) == 0,
		    "entry %zu: serial differs", i);
		ASN1_INTEGER_free(want);
	}
	X509_CRL_free(crl);
	text = crl_text(&b);
	assert_has(text, "Serial Number: -01\n");
	assert_has(text, "Serial Number: -7FFF\n");
	assert_has(text, "Serial Number: -8000\n");
	assert_has(text, "Serial Number: 00\n");
	assert_has(text, "Serial Number: "
			 "A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A"
			 "5A5A5A5A5A5\n");
	assert_has(text, "Serial Number: "
			 "-A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5"
			 "A5A5A5A5A5A5\n");
	assert_has(text,
	    "Serial Number: 7F0102030405060708090A0B0C0D0E0F10111213\n");
	assert_has(text,
	    "Serial Number: FF0102030405060708090A0B0C0D0E0F10111213\n");
	free(text);
	cs_buf_close(&b);
}
END_TEST

/* Times: UTCTime through 2049, GeneralizedTime from 2050, for the
 * header; invalidity dates always GeneralizedTime. */
START_TEST(test_build_time_types)
{
	struct cs_crl_params p;
	struct cs_crl_entry e = {0};
	struct cs_buf b;
	X509_CRL *crl;
	X509_REVOKED *r;
	ASN1_GENERALIZEDTIME *inv;
	int crit;
	char *text;

	serial_set(&e.serial, 7);
	e.time = 2524607999;            /* 2049-12-31 23:59:59 */
	e.invalidity_date = 1700000000; /* 2023-11-14 22:13:20 */
	e.reason = CS_REASON_KEY_COMPROMISE;
	params_init(&p, &e, 1);
	p.this_update = 2524607999;
	p.next_update = 2524608000; /* 2050-01-01 */
	build(&p, &b);
	crl = parse(&b);
	ck_assert_int_eq(ASN1_STRING_type(X509_CRL_get0_lastUpdate(crl)),
	    V_ASN1_UTCTIME);
	ck_assert_int_eq(ASN1_STRING_type(X509_CRL_get0_nextUpdate(crl)),
	    V_ASN1_GENERALIZEDTIME);
	r = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 0);
	ck_assert_int_eq(ASN1_STRING_type(X509_REVOKED_get0_revocationDate(r)),
	    V_ASN1_UTCTIME);
	inv = X509_REVOKED_get_ext_d2i(r, NID_invalidity_date, &crit, NULL);
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq(crit, 0);
	ck_assert_int_eq(ASN1_STRING_type(inv), V_ASN1_GENERALIZEDTIME);
	{
		ASN1_TIME *want = ASN1_TIME_set(NULL, 1700000000);

		ck_assert_int_eq(ASN1_TIME_compare(inv, want), 0);
		ASN1_TIME_free(want);
	}
	ASN1_GENERALIZEDTIME_free(inv);
	X509_CRL_free(crl);

	text = crl_text(&b);
	assert_has(text, "Last Update: Dec 31 23:59:59 2049 GMT");
	assert_has(text, "Next Update: Jan  1 00:00:00 2050 GMT");
	assert_has(text, "Revocation Date: Dec 31 23:59:59 2049 GMT");
	assert_has(text, "Invalidity Date: \n                Nov 14 22:13:20 "
			 "2023 GMT");
	free(text);
	cs_buf_close(&b);
}
END_TEST

/* ---- against `openssl verify` with real certificates ---- */

struct leaf {
	uint8_t *der;
	size_t len;
	X509 *x;
	uint8_t fp[32];
	char *pem_path;
};

static void
leaf_issue(struct cs_store *st, struct leaf *l, const char *cn, EVP_PKEY *key)
{
	struct cs_test_leaf opt = {.cn = cn, .key = key};
	struct cs_result res;
	char name[64];

	l->der = cs_test_issue(ca, &opt, &l->len, &l->x);
	ck_assert_int_eq(cs_test_import(st, l->der, l->len, NULL, NULL, &res),
	    0);
	memcpy(l->fp, res.fingerprint, 32);
	snprintf(name, sizeof name, "%s.pem", cn);
	l->pem_path = write_pem(name, "CERTIFICATE", l->der, l->len);
}

static void
leaf_free(struct leaf *l)
{
	free(l->der);
	X509_free(l->x);
	free(l->pem_path);
}

static const char *
store_issuer(struct cs_store *st, const struct leaf *l)
{
	const struct cs_cert *c = cs_store_get_fp(st, l->fp);

	ck_assert_ptr_nonnull(c);
	return cs_cert_issuer(c);
}

/* openssl verify's verdict: 0 for OK, else its output must say
 * "certificate revoked". */
static int
verify(const char *crl_path, const struct leaf *l, const char *extra)
{
	char *ca_path =
	    write_pem("ca.pem", "CERTIFICATE", ca->der, ca->der_len);
	int st;
	char *out = cs_test_run(&st,
	    "openssl verify -crl_check %s -CAfile %s -CRLfile %s %s", extra,
	    ca_path, crl_path, l->pem_path);

	if (st == 0)
		assert_has(out, ": OK");
	else
		assert_has(out, "certificate revoked");
	free(out);
	unlink(ca_path); /* written again (appended) next time */
	free(ca_path);
	return st;
}

/* Every reason: the leaf revoked with it fails `openssl verify
 * -crl_check`, a good leaf passes, and `openssl crl -text` names the
 * reason (none for unspecified). All reasons but removeFromCRL, which
 * only a delta may carry (test_delta_*). */
static const uint8_t full_reasons[] = {CS_REASON_UNSPECIFIED,
    CS_REASON_KEY_COMPROMISE, CS_REASON_CA_COMPROMISE,
    CS_REASON_AFFILIATION_CHANGED, CS_REASON_SUPERSEDED, CS_REASON_CESSATION,
    CS_REASON_CERTIFICATE_HOLD, CS_REASON_PRIVILEGE_WITHDRAWN,
    CS_REASON_AA_COMPROMISE};

START_TEST(test_verify_every_reason)
{
	uint8_t reason = full_reasons[_i];
	struct cs_store *st = cs_store_new();
	struct leaf bad, good;
	struct cs_crl_entry *e = NULL;
	struct cs_crl_params p;
	struct cs_buf b;
	struct cs_serial serial;
	char want[128];
	char *crl_path, *text;
	size_t n;

	leaf_issue(st, &bad, "revoked", NULL);
	leaf_issue(st, &good, "good", NULL);
	ck_assert_int_eq(cs_test_revoke(st, bad.fp, reason, now - 30), 0);
	cs_crl_collect(st, store_issuer(st, &bad), 0, &e, &n);
	ck_assert_uint_eq(n, 1);
	serial_of_cert(bad.x, &serial);
	ck_assert(cs_serial_equal(&e[0].serial, &serial));
	ck_assert_int_eq(e[0].reason, reason);
	ck_assert_int_eq(e[0].time, now - 30);
	params_init(&p, e, n);
	build(&p, &b);
	crl_path = write_pem("crl.pem", "X509 CRL", b.data, b.len);

	ck_assert_int_ne(verify(crl_path, &bad, ""), 0);
	ck_assert_int_eq(verify(crl_path, &good, ""), 0);

	text = crl_text(&b);
	if (reason == CS_REASON_UNSPECIFIED) {
		ck_assert_ptr_null(strstr(text, "CRL Reason Code"));
		ck_assert_ptr_null(strstr(text, "CRL entry extensions"));
	} else {
		snprintf(want, sizeof want,
		    "X509v3 CRL Reason Code: \n                %s\n",
		    reason_text[reason]);
		assert_has(text, want);
	}
	free(text);
	{
		int status;
		char *ca_path =
		    write_pem("ca.pem", "CERTIFICATE", ca->der, ca->der_len);
		char *out = cs_test_run(&status,
		    "openssl crl -in %s -noout -verify -CAfile %s", crl_path,
		    ca_path);

		ck_assert_msg(status == 0, "%s", out);
		assert_has(out, "verify OK");
		free(out);
		free(ca_path);
	}
	free(crl_path);
	free(e);
	cs_buf_close(&b);
	leaf_free(&bad);
	leaf_free(&good);
	cs_store_free(st);
}
END_TEST

/*
 * A base CRL and a delta on it, from a store:
 *   before the base: A keyCompromise, H certificateHold
 *   after the base:  H released (removeFromCRL), S superseded
 * The delta lists H (removeFromCRL) and S, not A; with -use_deltas,
 * openssl takes H as good again and S as revoked; without, H is still on
 * hold (the base says so) and S looks good.
 */
START_TEST(test_delta_with_openssl)
{
	struct cs_store *st = cs_store_new();
	struct leaf a, h, s, g;
	struct cs_crl_entry *e = NULL;
	struct cs_crl_params p;
	struct cs_buf base, delta;
	struct cs_cmd cmd;
	uint64_t base_index;
	char *both, *base_only, *text;
	char *issuer;
	size_t n;
	X509_CRL *crl;
	ASN1_INTEGER *bn;
	int crit;

	leaf_issue(st, &a, "a", NULL);
	leaf_issue(st, &h, "h", NULL);
	leaf_issue(st, &s, "s", NULL);
	leaf_issue(st, &g, "g", NULL);
	/* a copy: views of the store end at the next command */
	issuer = cs_strdup(store_issuer(st, &a));
	ck_assert_int_eq(cs_test_revoke(st, a.fp, CS_REASON_KEY_COMPROMISE,
			     now - 100),
	    0);
	ck_assert_int_eq(cs_test_revoke(st, h.fp, CS_REASON_CERTIFICATE_HOLD,
			     now - 90),
	    0);

	/* the base, published at this index */
	base_index = cs_store_applied_index(st);
	cs_crl_collect(st, issuer, 0, &e, &n);
	ck_assert_uint_eq(n, 2);
	params_init(&p, e, n);
	p.number = 5;
	p.this_update = now - 80;
	p.freshest_url = FRESHEST;
	build(&p, &base);
	free(e);

	cs_test_cmd_init(&cmd, CS_CMD_UNREVOKE, now - 70);
	memcpy(cmd.u.revoke.fp, h.fp, 32);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	ck_assert_int_eq(cs_test_revoke(st, s.fp, CS_REASON_SUPERSEDED,
			     now - 60),
	    0);

	cs_crl_collect(st, issuer, base_index, &e, &n);
	ck_assert_uint_eq(n, 2);
	/* revoked first, then released holds */
	ck_assert_int_eq(e[0].reason, CS_REASON_SUPERSEDED);
	ck_assert_int_eq(e[0].time, now - 60);
	ck_assert_int_eq(e[1].reason, CS_REASON_REMOVE_FROM_CRL);
	ck_assert_int_eq(e[1].time, now - 70);
	params_init(&p, e, n);
	p.number = 6;
	p.delta_base = 5;
	p.this_update = now - 50;
	p.freshest_url = FRESHEST; /* ignored on a delta */
	build(&p, &delta);
	assert_same_as_openssl(&p, &delta);
	free(e);

	text = crl_text(&base);
	assert_has(text, "X509v3 Freshest CRL: \n");
	assert_has(text, "URI:" FRESHEST);
	assert_has(text, "Certificate Hold");
	assert_has(text, "Key Compromise");
	free(text);
	text = crl_text(&delta);
	assert_has(text, "X509v3 Delta CRL Indicator: critical\n"
			 "                5\n");
	assert_has(text, "Remove From CRL");
	assert_has(text, "Superseded");
	ck_assert_ptr_null(strstr(text, "Key Compromise"));
	ck_assert_ptr_null(strstr(text, "Freshest CRL"));
	free(text);

	crl = parse(&delta);
	ck_assert_int_eq(X509_CRL_verify(crl, ca->key), 1);
	bn = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
	ck_assert_ptr_nonnull(bn);
	ck_assert_int_eq(crit, 1);
	ck_assert_int_eq(ASN1_INTEGER_get(bn), 5);
	ASN1_INTEGER_free(bn);
	X509_CRL_free(crl);

	base_only = write_pem("base.pem", "X509 CRL", base.data, base.len);
	both = write_pem("both.pem", "X509 CRL", base.data, base.len);
	free(both);
	both = write_pem("both.pem", "X509 CRL", delta.data, delta.len);

	ck_assert_int_ne(verify(both, &a, "-use_deltas"), 0);
	ck_assert_int_eq(verify(both, &h, "-use_deltas"), 0);
	ck_assert_int_ne(verify(both, &s, "-use_deltas"), 0);
	ck_assert_int_eq(verify(both, &g, "-use_deltas"), 0);

	ck_assert_int_ne(verify(base_only, &a, ""), 0);
	ck_assert_int_ne(verify(base_only, &h, ""), 0);
	ck_assert_int_eq(verify(base_only, &s, ""), 0);
	ck_assert_int_eq(verify(base_only, &g, ""), 0);

	free(both);
	free(base_only);
	cs_buf_close(&base);
	cs_buf_close(&delta);
	leaf_free(&a);
	leaf_free(&h);
	leaf_free(&s);
	leaf_free(&g);
	free(issuer);
	cs_store_free(st);
}
END_TEST

/* ---- cs_crl_collect ---- */

START_TEST(test_collect_copies_and_filters)
{
	struct cs_store *st = cs_store_new();
	struct cs_test_ca *other =
	    cs_test_ca_new("Other CA", CS_TEST_P256, NULL);
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	struct cs_crl_entry *e = (struct cs_crl_entry *)1;
	struct leaf l[300];
	uint8_t fp_other[32];
	size_t n = 99;
	const char *issuer;
	char *issuer_copy;
	struct cs_cmd cmd;
	struct cs_result res;

	/* nothing revoked: NULL, 0 */
	cs_crl_collect(st, "CN=Test Root", 0, &e, &n);
	ck_assert_ptr_null(e);
	ck_assert_uint_eq(n, 0);

	for (size_t i = 0; i < 300; i++) {
		struct cs_test_leaf opt = {.key = key, .serial = 1000 + i};

		l[i].der = cs_test_issue(ca, &opt, &l[i].len, NULL);
		ck_assert_int_eq(cs_test_import(st, l[i].der, l[i].len, NULL,
				     NULL, &res),
		    0);
		memcpy(l[i].fp, res.fingerprint, 32);
		free(l[i].der);
	}
	{
		struct cs_test_leaf opt = {.key = key, .serial = 5};
		size_t len;
		uint8_t *der = cs_test_issue(other, &opt, &len, NULL);

		ck_assert_int_eq(cs_test_import(st, der, len, NULL, NULL, &res),
		    0);
		memcpy(fp_other, res.fingerprint, 32);
		free(der);
	}
	issuer_copy = cs_strdup(cs_cert_issuer(cs_store_get_fp(st, l[0].fp)));
	issuer = issuer_copy;
	ck_assert_str_eq(issuer, "CN=Test Root");

	/* every other one revoked, the last with an invalidity date; one of
	 * the other CA's */
	for (size_t i = 0; i < 300; i += 2) {
		cs_test_cmd_init(&cmd, CS_CMD_REVOKE, 1700000000 + (int64_t)i);
		memcpy(cmd.u.revoke.fp, l[i].fp, 32);
		cmd.u.revoke.reason = (uint8_t)(i % 6);
		cmd.u.revoke.invalidity_date = i == 298 ? 1600000000 : 0;
		ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	}
	ck_assert_int_eq(cs_test_revoke(st, fp_other, CS_REASON_KEY_COMPROMISE,
			     1700000000),
	    0);

	cs_crl_collect(st, issuer, 0, &e, &n);
	ck_assert_uint_eq(n, 150);
	for (size_t k = 0; k < n; k++) {
		struct cs_serial want;

		serial_set(&want, 1000 + 2 * k);
		ck_assert(cs_serial_equal(&e[k].serial, &want));
		ck_assert_int_eq(e[k].time, 1700000000 + (int64_t)(2 * k));
		ck_assert_int_eq(e[k].reason, (2 * k) % 6);
		ck_assert_int_eq(e[k].invalidity_date,
		    k == 149 ? 1600000000 : 0);
	}
	free(e);

	/* a delta after everything: empty */
	cs_crl_collect(st, issuer, cs_store_applied_index(st), &e, &n);
	ck_assert_uint_eq(n, 0);
	free(e);

	/* the entries are copies: the store may change under them */
	cs_crl_collect(st, "CN=Other CA", 0, &e, &n);
	ck_assert_uint_eq(n, 1);
	cs_store_free(st);
	st = NULL;
	{
		struct cs_serial want;

		serial_set(&want, 5);
		ck_assert(cs_serial_equal(&e[0].serial, &want));
		ck_assert_int_eq(e[0].reason, CS_REASON_KEY_COMPROMISE);
	}
	free(e);
	free(issuer_copy);
	EVP_PKEY_free(key);
	cs_test_ca_free(other);
}
END_TEST

/* ---- refusals ---- */

START_TEST(test_build_rejects_impossible_params)
{
	static const uint8_t name_trailing[] = {0x30, 0x00, 0x00};
	struct cs_crl_entry e = {0};
	struct cs_crl_params p;
	struct cs_buf b;
	char errmsg[CS_ERRMSG_SIZE];
	size_t k;

	serial_set(&e.serial, 1);
	e.time = 1700000000;
	cs_buf_init(&b, 1 << 20);
	cs_buf_append(&b, "prefix", 6);
	for (k = 0; k < 12; k++) {
		params_init(&p, &e, 1);
		e.reason = CS_REASON_KEY_COMPROMISE;
		e.time = 1700000000;
		switch (k) {
		case 0:
			p.number = 0;
			break;
		case 1:
			p.next_update = p.this_update;
			break;
		case 2:
			p.next_update = p.this_update - 1;
			break;
		case 3:
			p.delta_base = p.number;
			break;
		case 4:
			p.issuer_name = name_trailing;
			p.issuer_name_len = sizeof name_trailing;
			break;
		case 5:
			p.issuer_name = (const uint8_t *)"\x31\x00";
			p.issuer_name_len = 2;
			break;
		case 6:
			e.reason = 7;
			break;
		case 7:
			e.reason = CS_REASON__MAX;
			break;
		case 8:
			e.reason = CS_REASON_REMOVE_FROM_CRL; /* full CRL */
			break;
		case 9:
			e.time = 253402300800; /* year 10000 */
			break;
		case 10:
			p.next_update = 253402300800;
			break;
		case 11:
			p.entries = NULL;
			break;
		}
		errmsg[0] = '\0';
		ck_assert_msg(cs_crl_build(&p, &signer, &b, errmsg) ==
				  CS_EINVAL,
		    "case %zu", k);
		ck_assert_msg(errmsg[0] != '\0', "case %zu: no message", k);
		ck_assert_uint_eq(b.len, 6);
		ck_assert_str_eq((const char *)b.data, "prefix");
	}
	cs_buf_close(&b);
}
END_TEST

/* removeFromCRL is fine in a delta. */
START_TEST(test_build_remove_from_crl_in_delta)
{
	struct cs_crl_entry e = {0};
	struct cs_crl_params p;
	struct cs_buf b;
	char *text;

	serial_set(&e.serial, 0x99);
	e.time = now - 10;
	e.reason = CS_REASON_REMOVE_FROM_CRL;
	params_init(&p, &e, 1);
	p.number = 3;
	p.delta_base = 2;
	build(&p, &b);
	assert_same_as_openssl(&p, &b);
	text = crl_text(&b);
	assert_has(text, "Remove From CRL");
	free(text);
	cs_buf_close(&b);
}
END_TEST

/* Past out's cap: CS_ETOOBIG with a message, out as it was; appending to
 * a buffer that holds something keeps it. */
START_TEST(test_build_cap_and_append)
{
	struct cs_crl_params p;
	struct cs_buf b, whole;
	size_t n;
	const struct cs_crl_entry *e = mixed_entries(&n);
	char errmsg[CS_ERRMSG_SIZE] = "";
	X509_CRL *crl;
	const unsigned char *q;

	params_init(&p, e, n);
	build(&p, &whole);

	for (size_t max = 0; max < whole.len; max += whole.len / 7 + 1) {
		cs_buf_init(&b, max);
		errmsg[0] = '\0';
		ck_assert_int_eq(cs_crl_build(&p, &signer, &b, errmsg),
		    CS_ETOOBIG);
		ck_assert_str_ne(errmsg, "");
		ck_assert_uint_eq(b.len, 0);
		cs_buf_close(&b);
	}
	/* the signature length varies (ECDSA): room for the longest */
	cs_buf_init(&b, whole.len + 16 + 8);
	ck_assert_int_eq(cs_buf_append(&b, "header:", 7), 0);
	ck_assert_int_eq(cs_crl_build(&p, &signer, &b, errmsg), 0);
	ck_assert(memcmp(b.data, "header:", 7) == 0);
	q = b.data + 7;
	crl = d2i_X509_CRL(NULL, &q, (long)(b.len - 7));
	ck_assert_ptr_nonnull(crl);
	ck_assert(q == b.data + b.len);
	ck_assert_int_eq(X509_CRL_verify(crl, ca->key), 1);
	X509_CRL_free(crl);
	cs_buf_close(&b);
	cs_buf_close(&whole);
}
END_TEST

/* ---- 100,000 entries ---- */

START_TEST(test_build_100k)
{
	const size_t n = 100000;
	struct cs_crl_entry *e = cs_calloc(n, sizeof *e);
	struct cs_crl_params p;
	struct cs_buf b;
	struct timespec t0, t1;
	X509_CRL *crl;
	char *path, *ca_path, *out;
	double ms;
	int st;

	for (size_t i = 0; i < n; i++) {
		uint8_t s[16];

		memset(s, 0x5c, sizeof s);
		s[0] = 0x40;
		s[12] = (uint8_t)(i >> 24);
		s[13] = (uint8_t)(i >> 16);
		s[14] = (uint8_t)(i >> 8);
		s[15] = (uint8_t)i;
		ck_assert_int_eq(cs_serial_from_bytes(&e[i].serial, s, 16,
				     false),
		    0);
		e[i].time = 1700000000 + (int64_t)i * 37;
		e[i].reason = full_reasons[i % sizeof full_reasons];
		e[i].invalidity_date = i % 10 == 0 ? e[i].time - 86400 : 0;
	}
	params_init(&p, e, n);
	cs_buf_init(&b, CS_CRL_MAX_BYTES);
	/* twice: the first run also pays for faulting in fresh memory, the
	 * second reuses the buffer as a CRL publisher would */
	for (int run = 0; run < 2; run++) {
		cs_buf_reset(&b);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(cs_crl_build(&p, &signer, &b, NULL), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		fprintf(stderr,
		    "test_crl: 100000-entry CRL (reason codes, 10%% with "
		    "invalidity dates): %zu bytes built in %.1f ms (%s "
		    "buffer)\n",
		    b.len, ms, run == 0 ? "new" : "reused");
	}

	crl = parse(&b);
	ck_assert_int_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)),
	    (int)n);
	ck_assert_int_eq(X509_CRL_verify(crl, ca->key), 1);
	X509_CRL_free(crl);

	path = write_der("big.der", b.data, b.len);
	ca_path = write_pem("ca.pem", "CERTIFICATE", ca->der, ca->der_len);
	out = cs_test_run(&st,
	    "openssl crl -inform DER -in %s -noout -verify -CAfile %s", path,
	    ca_path);
	ck_assert_msg(st == 0, "%s", out);
	assert_has(out, "verify OK");
	free(out);
	free(path);
	free(ca_path);
	cs_buf_close(&b);
	free(e);
}
END_TEST

static Suite *
crl_suite(void)
{
	Suite *s = suite_create("crl");
	TCase *tc;

	tc = tcase_create("build");
	tcase_add_unchecked_fixture(tc, warm_keys, NULL);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_build_matches_openssl_bytes);
	tcase_add_loop_test(tc, test_build_every_key_type, 0,
	    sizeof key_types / sizeof key_types[0]);
	tcase_add_test(tc, test_build_empty);
	tcase_add_test(tc, test_build_extensions_read_back);
	tcase_add_test(tc, test_build_serials);
	tcase_add_test(tc, test_build_time_types);
	tcase_add_test(tc, test_build_rejects_impossible_params);
	tcase_add_test(tc, test_build_remove_from_crl_in_delta);
	tcase_add_test(tc, test_build_cap_and_append);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_verify_every_reason, 0,
	    sizeof full_reasons / sizeof full_reasons[0]);
	tcase_add_test(tc, test_delta_with_openssl);
	suite_add_tcase(s, tc);

	tc = tcase_create("collect");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_collect_copies_and_filters);
	suite_add_tcase(s, tc);

	tc = tcase_create("big");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_build_100k);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(crl_suite)
