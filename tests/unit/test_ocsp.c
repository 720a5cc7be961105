/*
 * test_ocsp.c - cert/ocsp.c against OpenSSL: requests made by `openssl
 * ocsp` parse into the right CertIDs and nonces; crafted requests that
 * break the rules are refused with a message; responses verify with
 * `openssl ocsp -respin` and with OCSP_basic_verify(), and say what they
 * should (good, revoked with time and reason, unknown, the nonce).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert/der.h"
#include "cert/ocsp.h"
#include "cert/store.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"
#include "tests/lib/ca.h"
#include "tests/lib/proc.h"
#include "tests/lib/runner.h"

/* ---- fixture: a CA, a delegated responder, leaves, a directory ---- */

static struct cs_test_ca *ca;
static uint8_t *resp_der; /* the responder's certificate */
static size_t resp_len;
static X509 *resp_x;
static EVP_PKEY *resp_key;
static struct cs_signer signer;
static char *base_dir; /* per tcase, made by the runner: see proc.h */
static char *dir;      /* per test, inside base_dir */
static int64_t now;

static void
responder_setup(enum cs_test_key type)
{
	struct cs_test_leaf opt = {.cn = "OCSP responder",
	    .eku = "OCSPSigning"};

	resp_key = cs_test_key_new(type);
	opt.key = resp_key;
	resp_der = cs_test_issue(ca, &opt, &resp_len, &resp_x);
	ck_assert_int_eq(cs_signer_init(&signer, resp_key, NULL), 0);
}

static void
responder_teardown(void)
{
	cs_signer_close(&signer);
	X509_free(resp_x);
	resp_x = NULL;
	free(resp_der);
	resp_der = NULL;
	EVP_PKEY_free(resp_key);
	resp_key = NULL;
}

static void
base_setup(void)
{
	base_dir = cs_test_tmpdir_new("ocsp");
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
	ca = cs_test_ca_new("Test Root", CS_TEST_P256, NULL);
	responder_setup(CS_TEST_P256);
	dir = cs_test_tmpdir_sub(base_dir);
	now = (int64_t)time(NULL);
}

static void
teardown(void)
{
	cs_test_tmpdir_free(dir);
	dir = NULL;
	responder_teardown();
	cs_test_ca_free(ca);
	ca = NULL;
}

static void
warm_keys(void)
{
	EVP_PKEY_free(cs_test_key_new(CS_TEST_RSA2048));
}

static char *
write_file(const char *name, const void *p, size_t len)
{
	char *path = cs_test_path(dir, name);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static char *
write_cert(const char *name, const uint8_t *der, size_t len)
{
	char *pem = cs_test_pem(der, len);
	char *path = write_file(name, pem, strlen(pem));

	free(pem);
	return path;
}

static uint8_t *
read_file(const char *name, size_t *len)
{
	char *path = cs_test_path(dir, name);
	char *p = cs_test_slurp(path, len);

	ck_assert_msg(p != NULL, "cannot read %s", path);
	free(path);
	return (uint8_t *)p;
}

static void
assert_has(const char *text, const char *needle)
{
	ck_assert_msg(strstr(text, needle) != NULL, "'%s' not in:\n%s", needle,
	    text);
}

static bool
inside(struct cs_der v, const uint8_t *p, size_t len)
{
	return v.p >= p && v.len <= len && (size_t)(v.p - p) <= len - v.len;
}

/* The CA's subject Name and SPKI, as views of its DER. */
static void
ca_parts(struct cs_der *name, struct cs_der *spki)
{
	struct cs_der_cert dc;

	ck_assert_int_eq(cs_der_cert_split(ca->der, ca->der_len, &dc, NULL), 0);
	*name = dc.subject;
	*spki = dc.spki;
}

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

struct leaf {
	uint8_t *der;
	size_t len;
	X509 *x;
	char *path;
};

static void
leaf_new(struct leaf *l, const char *name)
{
	struct cs_test_leaf opt = {.cn = name,
	    .ocsp_url = "http://ocsp.example/"};
	char file[64];

	l->der = cs_test_issue(ca, &opt, &l->len, &l->x);
	snprintf(file, sizeof file, "%s.pem", name);
	l->path = write_cert(file, l->der, l->len);
}

static void
leaf_free(struct leaf *l)
{
	free(l->der);
	X509_free(l->x);
	free(l->path);
}

/* ---- requests made by `openssl ocsp` ---- */

static const struct {
	const char *opts; /* before the -cert options */
	int ncerts;
	bool nonce;
	enum cs_ocsp_hash hash;
} cli_table[] = {
    {"", 1, true, CS_OCSP_SHA1},
    {"-no_nonce", 1, false, CS_OCSP_SHA1},
    {"-sha256", 1, true, CS_OCSP_SHA256},
    {"-sha384 -no_nonce", 1, false, CS_OCSP_SHA384},
    {"-sha512", 1, true, CS_OCSP_SHA512},
    {"", 3, true, CS_OCSP_SHA1},
    {"-sha256 -no_nonce", 8, false, CS_OCSP_SHA256},
};

START_TEST(test_parse_openssl_requests)
{
	struct leaf l[8];
	struct cs_buf certs;
	struct cs_ocsp_request req;
	struct cs_der name, spki;
	uint8_t nh[CS_OCSP_HASH_MAX], kh[CS_OCSP_HASH_MAX];
	char errmsg[CS_ERRMSG_SIZE] = "";
	char *ca_path, *out;
	uint8_t *der;
	size_t len;
	int st, n = cli_table[_i].ncerts;
	enum cs_ocsp_hash h = cli_table[_i].hash;
	OCSP_REQUEST *oreq;
	const unsigned char *q;

	ca_path = write_cert("ca.pem", ca->der, ca->der_len);
	cs_buf_init(&certs, 4096);
	for (int i = 0; i < n; i++) {
		char cn[16];

		snprintf(cn, sizeof cn, "leaf%d", i);
		leaf_new(&l[i], cn);
		cs_buf_printf(&certs, " -cert %s", l[i].path);
	}
	out = cs_test_run(&st,
	    "cd %s && openssl ocsp -issuer %s %s%s -reqout req.der", dir,
	    ca_path, cli_table[_i].opts, (char *)certs.data);
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	der = read_file("req.der", &len);

	ck_assert_int_eq(cs_ocsp_parse_request(der, len, &req, errmsg), 0);
	ck_assert_uint_eq(req.n, (size_t)n);
	ca_parts(&name, &spki);
	ck_assert_int_eq(cs_ocsp_issuer_hashes(h, name.p, name.len, spki.p,
			     spki.len, nh, kh),
	    0);
	for (int i = 0; i < n; i++) {
		struct cs_ocsp_certid *id = &req.ids[i];
		struct cs_serial want;

		ck_assert_int_eq(id->hash, h);
		ck_assert_uint_eq(id->name_hash.len, cs_ocsp_hash_len(h));
		ck_assert_uint_eq(id->key_hash.len, cs_ocsp_hash_len(h));
		ck_assert(memcmp(id->name_hash.p, nh, id->name_hash.len) == 0);
		ck_assert(memcmp(id->key_hash.p, kh, id->key_hash.len) == 0);
		serial_of_cert(l[i].x, &want);
		ck_assert(cs_serial_equal(&id->serial, &want));
		ck_assert(inside(id->whole, der, len));
		ck_assert(inside(id->name_hash, der, len));
		ck_assert(inside(id->key_hash, der, len));
		ck_assert_uint_eq(id->whole.p[0], 0x30);
	}

	/* the nonce, as OpenSSL reads it: extnValue = OCTET STRING { nonce } */
	q = der;
	oreq = d2i_OCSP_REQUEST(NULL, &q, (long)len);
	ck_assert_ptr_nonnull(oreq);
	{
		int at = OCSP_REQUEST_get_ext_by_NID(oreq,
		    NID_id_pkix_OCSP_Nonce, -1);

		if (!cli_table[_i].nonce) {
			ck_assert_int_lt(at, 0);
			ck_assert_uint_eq(req.nonce.len, 0);
		} else {
			X509_EXTENSION *x = OCSP_REQUEST_get_ext(oreq, at);
			const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(x);
			const uint8_t *vp = ASN1_STRING_get0_data(v);

			ck_assert_int_ge(at, 0);
			ck_assert_uint_eq(req.nonce.len, 16); /* openssl's */
			ck_assert_int_eq(ASN1_STRING_length(v), 18);
			ck_assert_uint_eq(vp[0], 0x04);
			ck_assert_uint_eq(vp[1], 16);
			ck_assert(memcmp(req.nonce.p, vp + 2, 16) == 0);
			ck_assert(inside(req.nonce, der, len));
		}
	}
	/* the CertIDs echo exactly what OpenSSL encodes */
	for (int i = 0; i < n; i++) {
		OCSP_ONEREQ *one = OCSP_request_onereq_get0(oreq, i);
		unsigned char *e = NULL;
		int el = i2d_OCSP_CERTID(OCSP_onereq_get0_id(one), &e);

		ck_assert_int_eq(el, (int)req.ids[i].whole.len);
		ck_assert(memcmp(e, req.ids[i].whole.p, (size_t)el) == 0);
		OPENSSL_free(e);
	}
	OCSP_REQUEST_free(oreq);

	/* every proper prefix is refused, with a message */
	for (size_t k = 0; k < len; k++) {
		struct cs_ocsp_request r2;

		errmsg[0] = '\0';
		ck_assert_int_eq(cs_ocsp_parse_request(der, k, &r2, errmsg),
		    CS_EINVAL);
		ck_assert_msg(errmsg[0] != '\0', "prefix %zu: no message", k);
	}

	free(der);
	for (int i = 0; i < n; i++)
		leaf_free(&l[i]);
	cs_buf_close(&certs);
	free(ca_path);
}
END_TEST

/* ---- crafted requests ---- */

/* A request assembled from parts, to break one rule at a time. */
/* A request assembled from parts, to break one rule at a time. Zero
 * everywhere is a plain SHA-1 request for one serial. */
struct rq {
	int n;              /* CertIDs; 0: one, -1: none */
	int hash;           /* enum cs_ocsp_hash; -1: MD5 */
	int hlen_delta;     /* added to the hash length */
	int params;         /* 0 NULL, 1 absent, 2 an OCTET STRING */
	const char *serial; /* hex INTEGER contents; NULL: "01" */
	int version;        /* 0: absent; else 1 + the value written */
	bool requestor;
	bool signature;
	int nonce_len; /* 0: no nonce; -1: an empty one */
	bool nonce_unwrapped;
	bool two_nonces;
	int ext;        /* 0 none, 1 unknown, 2 unknown critical, 3 empty
			   Extensions, 4 unknown with explicit FALSE, 5 bad
			   BOOLEAN, 6 nonce critical */
	int single_ext; /* 0 none, 1 unknown, 2 unknown critical */
	int trailing;   /* 1 in CertID, 2 in Request, 3 in TBSRequest,
			   4 in OCSPRequest, 5 after it */
	int indefinite; /* 1: BER indefinite length on the outer SEQUENCE */
	size_t pad;     /* bytes of an unknown non-critical extension */
};

static const uint8_t oid_md5[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02,
    0x05};
static const uint8_t oid_sha[][9] = {
    {0x2b, 0x0e, 0x03, 0x02, 0x1a},
    {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01},
    {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02},
    {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03},
};
static const size_t oid_sha_len[] = {5, 9, 9, 9};
static const uint8_t oid_nonce[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30,
    0x01, 0x02};
static const uint8_t oid_unknown[] = {0x2a, 0x03, 0x04}; /* 1.2.3.4 */

static int
rq_ids(const struct rq *q)
{
	return q->n == 0 ? 1 : q->n < 0 ? 0 : q->n;
}

static int
rq_nonce(const struct rq *q)
{
	return q->nonce_len < 0 ? 0 : q->nonce_len;
}

/* Extension { oid, critical (-1: absent, else the BOOLEAN's byte),
 * extnValue } */
static void
ext(struct cs_derw *w, const uint8_t *oid, size_t oid_len, int crit,
    const uint8_t *val, size_t val_len)
{
	size_t m = cs_derw_begin(w, CS_DER_SEQUENCE);
	uint8_t c = (uint8_t)crit;

	cs_derw_tlv(w, CS_DER_OID, oid, oid_len);
	if (crit >= 0)
		cs_derw_tlv(w, CS_DER_BOOLEAN, &c, 1);
	cs_derw_octets(w, val, val_len);
	cs_derw_end(w, m);
}

static void
nonce_ext(struct cs_derw *w, const struct rq *q, int crit)
{
	uint8_t v[2 + 127], raw[127];
	size_t n = (size_t)rq_nonce(q);

	ck_assert_uint_lt(n, sizeof raw);
	for (size_t i = 0; i < n; i++)
		raw[i] = (uint8_t)(0x30 + i);
	if (q->nonce_unwrapped) {
		ext(w, oid_nonce, sizeof oid_nonce, crit, raw, n);
		return;
	}
	v[0] = 0x04;
	v[1] = (uint8_t)n;
	memcpy(v + 2, raw, n);
	ext(w, oid_nonce, sizeof oid_nonce, crit, v, 2 + n);
}

static void
build_rq(const struct rq *q, struct cs_buf *b)
{
	struct cs_derw w;
	size_t outer, tbs, list, m, m2;
	uint8_t hash[64 + 8], serial[64];
	size_t hl, sl;

	cs_derw_init(&w, b);
	outer = cs_derw_begin(&w, CS_DER_SEQUENCE);
	tbs = cs_derw_begin(&w, CS_DER_SEQUENCE);
	if (q->version != 0) {
		m = cs_derw_begin(&w, CS_DER_CTX0);
		cs_derw_u64(&w, (uint64_t)(q->version - 1));
		cs_derw_end(&w, m);
	}
	if (q->requestor) {
		m = cs_derw_begin(&w, 0xa1);
		cs_derw_tlv(&w, 0x82, "requestor.example", 17); /* dNSName */
		cs_derw_end(&w, m);
	}
	list = cs_derw_begin(&w, CS_DER_SEQUENCE);
	for (int i = 0; i < rq_ids(q); i++) {
		size_t req = cs_derw_begin(&w, CS_DER_SEQUENCE);
		size_t cid = cs_derw_begin(&w, CS_DER_SEQUENCE);
		size_t alg = cs_derw_begin(&w, CS_DER_SEQUENCE);

		if (q->hash < 0)
			cs_derw_tlv(&w, CS_DER_OID, oid_md5, sizeof oid_md5);
		else
			cs_derw_tlv(&w, CS_DER_OID, oid_sha[q->hash],
			    oid_sha_len[q->hash]);
		if (q->params == 0)
			cs_derw_null(&w);
		else if (q->params == 2)
			cs_derw_octets(&w, NULL, 0);
		cs_derw_end(&w, alg);
		hl = (size_t)((int)(q->hash < 0
					? 16
					: cs_ocsp_hash_len(
					      (enum cs_ocsp_hash)q->hash)) +
			      q->hlen_delta);
		memset(hash, 0xa0 + i, hl);
		cs_derw_octets(&w, hash, hl);
		memset(hash, 0xb0 + i, hl);
		cs_derw_octets(&w, hash, hl);
		ck_assert_int_eq(cs_hex_decode(q->serial != NULL ? q->serial
								 : "01",
				     strlen(
					 q->serial != NULL ? q->serial : "01"),
				     serial, sizeof serial, &sl),
		    0);
		cs_derw_tlv(&w, CS_DER_INTEGER, serial, sl);
		if (q->trailing == 1)
			cs_derw_null(&w);
		cs_derw_end(&w, cid);
		if (q->single_ext != 0) {
			m = cs_derw_begin(&w, CS_DER_CTX0);
			m2 = cs_derw_begin(&w, CS_DER_SEQUENCE);
			ext(&w, oid_unknown, sizeof oid_unknown,
			    q->single_ext == 2 ? 0xff : -1,
			    (const uint8_t *)"\x05\x00", 2);
			cs_derw_end(&w, m2);
			cs_derw_end(&w, m);
		}
		if (q->trailing == 2)
			cs_derw_null(&w);
		cs_derw_end(&w, req);
	}
	cs_derw_end(&w, list);
	if (q->nonce_len != 0 || q->ext != 0 || q->pad != 0) {
		m = cs_derw_begin(&w, 0xa2);
		m2 = cs_derw_begin(&w, CS_DER_SEQUENCE);
		if (q->nonce_len != 0) {
			nonce_ext(&w, q, q->ext == 6 ? 0xff : -1);
			if (q->two_nonces)
				nonce_ext(&w, q, -1);
		}
		if (q->ext == 1 || q->ext == 2 || q->ext == 4 || q->ext == 5)
			ext(&w, oid_unknown, sizeof oid_unknown,
			    q->ext == 2   ? 0xff
			    : q->ext == 4 ? 0x00
			    : q->ext == 5 ? 0x01
					  : -1,
			    (const uint8_t *)"\x05\x00", 2);
		if (q->pad != 0) {
			uint8_t *pad = cs_calloc(1, q->pad);

			ext(&w, oid_unknown, sizeof oid_unknown, -1, pad,
			    q->pad);
			free(pad);
		}
		cs_derw_end(&w, m2);
		cs_derw_end(&w, m);
	}
	if (q->trailing == 3)
		cs_derw_null(&w);
	cs_derw_end(&w, tbs);
	if (q->signature) {
		/* [0] { Signature { sha256WithRSAEncryption, BIT STRING,
		 * certs [0] { } } } */
		size_t sig;

		m = cs_derw_begin(&w, CS_DER_CTX0);
		sig = cs_derw_begin(&w, CS_DER_SEQUENCE);
		cs_derw_raw(&w,
		    "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05"
		    "\x00",
		    15);
		cs_derw_bits(&w, "\x11\x22\x33", 3);
		m2 = cs_derw_begin(&w, CS_DER_CTX0);
		cs_derw_raw(&w, "\x30\x00", 2);
		cs_derw_end(&w, m2);
		cs_derw_end(&w, sig);
		cs_derw_end(&w, m);
	}
	if (q->trailing == 4)
		cs_derw_null(&w);
	cs_derw_end(&w, outer);
	if (q->trailing == 5)
		cs_derw_null(&w);
	ck_assert_int_eq(w.err, 0);
	if (q->indefinite) {
		/* 30 LL ... -> 30 80 ... 00 00 (only for short forms) */
		ck_assert_uint_lt(b->data[1], 0x80);
		b->data[1] = 0x80;
		cs_buf_append(b, "\0\0", 2);
	}
}

#define RQ(...) ((struct rq){__VA_ARGS__})

static const struct {
	const char *name;
	struct rq q;
	int rc;
	const char *msg; /* in errmsg on error */
} craft_table[] = {
    /* accepted */
    {"plain", RQ(.hash = CS_OCSP_SHA1), 0, NULL},
    {"absent hash parameters", RQ(.hash = CS_OCSP_SHA256, .params = 1), 0,
	NULL},
    {"explicit v1", RQ(.version = 1), 0, NULL},
    {"requestorName", RQ(.requestor = true), 0, NULL},
    {"signed", RQ(.signature = true), 0, NULL},
    {"nonce of 1", RQ(.nonce_len = 1), 0, NULL},
    {"nonce of 32", RQ(.nonce_len = 32), 0, NULL},
    {"critical nonce", RQ(.nonce_len = 8, .ext = 6), 0, NULL},
    {"unknown extension", RQ(.ext = 1), 0, NULL},
    {"explicit critical FALSE", RQ(.ext = 4, .nonce_len = 4), 0, NULL},
    {"unknown single extension", RQ(.single_ext = 1), 0, NULL},
    {"8 CertIDs", RQ(.n = 8, .hash = CS_OCSP_SHA512), 0, NULL},
    {"negative serial", RQ(.serial = "ff7f"), 0, NULL},
    {"serial 0", RQ(.serial = "00"), 0, NULL},
    {"serial of 32 bytes",
	RQ(.serial = "00ffffffffffffffffffffffffffffffffffffffffffffffffffffff"
		     "ffffffffff"),
	0, NULL},
    /* refused */
    {"9 CertIDs", RQ(.n = 9), CS_ETOOBIG, "more than 8"},
    {"no CertID", RQ(.n = -1), CS_EINVAL, "no CertID"},
    {"MD5", RQ(.hash = -1), CS_EINVAL, "1.2.840.113549.2.5"},
    {"short hashes", RQ(.hash = CS_OCSP_SHA256, .hlen_delta = -12), CS_EINVAL,
	"issuer hashes of 20 and 20 bytes for SHA-256"},
    {"long hashes", RQ(.hlen_delta = 1), CS_EINVAL, "for SHA-1"},
    {"hash parameters", RQ(.params = 2), CS_EINVAL, "parameters"},
    {"version 2", RQ(.version = 2), CS_EINVAL, "version"},
    {"nonce of 33", RQ(.nonce_len = 33), CS_EINVAL, "nonce of 33 bytes"},
    {"nonce of 0", RQ(.nonce_len = -1), CS_EINVAL, "nonce of 0 bytes"},
    {"unwrapped nonce", RQ(.nonce_len = 16, .nonce_unwrapped = true), CS_EINVAL,
	"nonce"},
    {"two nonces", RQ(.nonce_len = 8, .two_nonces = true), CS_EINVAL,
	"two nonces"},
    {"unknown critical extension", RQ(.ext = 2), CS_EINVAL,
	"unknown critical extension 1.2.3.4"},
    {"empty Extensions", RQ(.ext = 3), CS_EINVAL, "empty"},
    {"bad BOOLEAN", RQ(.ext = 5), CS_EINVAL, "critical flag"},
    {"unknown critical single extension", RQ(.single_ext = 2), CS_EINVAL,
	"singleRequestExtensions: unknown critical extension"},
    {"serial not minimal", RQ(.serial = "0001"), CS_EINVAL, "serialNumber"},
    {"serial not minimal, negative", RQ(.serial = "ff80"), CS_EINVAL,
	"serialNumber"},
    {"serial empty", RQ(.serial = ""), CS_EINVAL, "serialNumber"},
    {"serial of 33 bytes",
	RQ(.serial = "01ffffffffffffffffffffffffffffffffffffffffffffffffffffff"
		     "ffffffffff"),
	CS_EINVAL, "serial of 33 bytes"},
    {"data after the serial", RQ(.trailing = 1), CS_EINVAL, "trailing"},
    {"data in Request", RQ(.trailing = 2), CS_EINVAL, "Request"},
    {"data in TBSRequest", RQ(.trailing = 3), CS_EINVAL, "tbsRequest"},
    {"data in OCSPRequest", RQ(.trailing = 4), CS_EINVAL, "trailing"},
    {"data after OCSPRequest", RQ(.trailing = 5), CS_EINVAL,
	"2 bytes of trailing data"},
    {"indefinite length", RQ(.indefinite = 1), CS_EINVAL, "indefinite"},
};

START_TEST(test_parse_crafted)
{
	struct cs_ocsp_request req, sentinel;
	struct cs_buf b;
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc;

	cs_buf_init(&b, 1 << 16);
	build_rq(&craft_table[_i].q, &b);
	memset(&req, 0xee, sizeof req);
	sentinel = req;
	rc = cs_ocsp_parse_request(b.data, b.len, &req, errmsg);
	ck_assert_msg(rc == craft_table[_i].rc, "%s: rc %s (%s), want %s",
	    craft_table[_i].name, cs_errname(rc), errmsg,
	    cs_errname(craft_table[_i].rc));
	if (rc < 0) {
		ck_assert_msg(strstr(errmsg, craft_table[_i].msg) != NULL,
		    "%s: errmsg '%s' should say '%s'", craft_table[_i].name,
		    errmsg, craft_table[_i].msg);
		ck_assert_msg(memcmp(&req, &sentinel, sizeof req) == 0,
		    "%s: out changed on error", craft_table[_i].name);
	} else {
		const struct rq *q = &craft_table[_i].q;

		ck_assert_uint_eq(req.n, (size_t)rq_ids(q));
		ck_assert_uint_eq(req.nonce.len, (size_t)rq_nonce(q));
		if (q->nonce_len > 0) {
			ck_assert_uint_eq(req.nonce.p[0], 0x30);
			ck_assert(inside(req.nonce, b.data, b.len));
		}
		for (size_t i = 0; i < req.n; i++) {
			ck_assert(inside(req.ids[i].whole, b.data, b.len));
			ck_assert_uint_eq(req.ids[i].name_hash.p[0], 0xa0 + i);
			ck_assert_uint_eq(req.ids[i].key_hash.p[0], 0xb0 + i);
		}
	}
	cs_buf_close(&b);
}
END_TEST

/* Serials come out as struct cs_serial: sign and magnitude. */
START_TEST(test_parse_serial_values)
{
	static const struct {
		const char *der;  /* INTEGER contents */
		const char *text; /* cs_serial_format() */
	} t[] = {
	    {"00", "0"},
	    {"01", "1"},
	    {"7f", "7f"},
	    {"0080", "80"},
	    {"ff", "-1"},
	    {"80", "-80"},
	    {"ff7f", "-81"},
	    {"ff00", "-100"},
	    {"8000", "-8000"},
	    {"00ff", "ff"},
	    {"533cfd5ec6a2774d8824f465eea3bba8a12b37ea",
		"533cfd5ec6a2774d8824f465eea3bba8a12b37ea"},
	};
	struct cs_ocsp_request req;
	struct cs_buf b;
	char text[CS_SERIAL_TEXT_SIZE];

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct rq q = RQ(.serial = t[i].der);

		cs_buf_init(&b, 4096);
		build_rq(&q, &b);
		ck_assert_int_eq(cs_ocsp_parse_request(b.data, b.len, &req,
				     NULL),
		    0);
		cs_serial_format(&req.ids[0].serial, text);
		ck_assert_str_eq(text, t[i].text);
		cs_buf_close(&b);
	}
}
END_TEST

START_TEST(test_parse_rejects_raw_input)
{
	struct cs_ocsp_request req;
	char errmsg[CS_ERRMSG_SIZE];
	uint8_t *big = cs_calloc(1, CS_OCSP_MAX_REQUEST + 1);
	struct cs_buf b;
	struct rq q = RQ(.hash = CS_OCSP_SHA1);

	errmsg[0] = '\0';
	ck_assert_int_eq(cs_ocsp_parse_request(NULL, 0, &req, errmsg),
	    CS_EINVAL);
	assert_has(errmsg, "empty");
	errmsg[0] = '\0';
	ck_assert_int_eq(cs_ocsp_parse_request((const uint8_t *)"GET /", 5,
			     &req, errmsg),
	    CS_EINVAL);
	ck_assert_str_ne(errmsg, "");

	/* over the cap: refused before it is looked at */
	big[0] = 0x30;
	big[1] = 0x82;
	errmsg[0] = '\0';
	ck_assert_int_eq(cs_ocsp_parse_request(big, CS_OCSP_MAX_REQUEST + 1,
			     &req, errmsg),
	    CS_ETOOBIG);
	assert_has(errmsg, "8192");

	/* a request of exactly the cap (padded with an unknown extension)
	 * is fine; one byte more is not */
	cs_buf_init(&b, 1 << 16);
	build_rq(&q, &b);
	q.pad = CS_OCSP_MAX_REQUEST - b.len - 16;
	cs_buf_reset(&b);
	build_rq(&q, &b);
	q.pad += CS_OCSP_MAX_REQUEST - b.len;
	cs_buf_reset(&b);
	build_rq(&q, &b);
	ck_assert_uint_eq(b.len, CS_OCSP_MAX_REQUEST);
	ck_assert_int_eq(cs_ocsp_parse_request(b.data, b.len, &req, NULL), 0);
	q.pad++;
	cs_buf_reset(&b);
	build_rq(&q, &b);
	ck_assert_uint_eq(b.len, CS_OCSP_MAX_REQUEST + 1);
	ck_assert_int_eq(cs_ocsp_parse_request(b.data, b.len, &req, NULL),
	    CS_ETOOBIG);
	cs_buf_close(&b);
	free(big);
}
END_TEST

/* ---- issuer hashes ---- */

START_TEST(test_issuer_hashes_match_openssl)
{
	static const struct {
		enum cs_ocsp_hash h;
		size_t len;
		const EVP_MD *(*md)(void);
	} t[] = {
	    {CS_OCSP_SHA1, 20, EVP_sha1},
	    {CS_OCSP_SHA256, 32, EVP_sha256},
	    {CS_OCSP_SHA384, 48, EVP_sha384},
	    {CS_OCSP_SHA512, 64, EVP_sha512},
	};
	struct cs_der name, spki;
	uint8_t nh[CS_OCSP_HASH_MAX], kh[CS_OCSP_HASH_MAX];

	ca_parts(&name, &spki);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		OCSP_CERTID *id =
		    OCSP_cert_id_new(t[i].md(), X509_get_subject_name(ca->cert),
			X509_get0_pubkey_bitstr(ca->cert),
			X509_get0_serialNumber(ca->cert));
		ASN1_OCTET_STRING *onh, *okh;

		ck_assert_ptr_nonnull(id);
		ck_assert_int_eq(OCSP_id_get0_info(&onh, NULL, &okh, NULL, id),
		    1);
		ck_assert_uint_eq(cs_ocsp_hash_len(t[i].h), t[i].len);
		ck_assert_int_eq(cs_ocsp_issuer_hashes(t[i].h, name.p, name.len,
				     spki.p, spki.len, nh, kh),
		    0);
		ck_assert_int_eq(ASN1_STRING_length(onh), (int)t[i].len);
		ck_assert(
		    memcmp(nh, ASN1_STRING_get0_data(onh), t[i].len) == 0);
		ck_assert(
		    memcmp(kh, ASN1_STRING_get0_data(okh), t[i].len) == 0);
		OCSP_CERTID_free(id);
	}
	ck_assert_uint_eq(cs_ocsp_hash_len(CS_OCSP_HASH__MAX), 0);
	ck_assert_int_eq(cs_ocsp_issuer_hashes(CS_OCSP_HASH__MAX, name.p,
			     name.len, spki.p, spki.len, nh, kh),
	    CS_EINVAL);
	ck_assert_int_eq(cs_ocsp_issuer_hashes(CS_OCSP_SHA1, name.p, name.len,
			     spki.p, spki.len - 1, nh, kh),
	    CS_EINVAL);
	ck_assert_int_eq(cs_ocsp_issuer_hashes(CS_OCSP_SHA1, name.p, name.len,
			     name.p, name.len, nh, kh),
	    CS_EINVAL);
}
END_TEST

/* ---- responses ---- */

/* Builds a response to req (as parsed) with one status per CertID. */
static void
respond(const struct cs_ocsp_request *req,
    const enum cs_ocsp_cert_status *status, const int *reason, bool with_cert,
    struct cs_buf *out)
{
	struct cs_ocsp_single singles[CS_OCSP_MAX_IDS];
	struct cs_ocsp_response r = {0};
	char errmsg[CS_ERRMSG_SIZE] = "";
	int rc;

	for (size_t i = 0; i < req->n; i++) {
		singles[i] = (struct cs_ocsp_single){
		    .certid = req->ids[i].whole,
		    .status = status[i],
		    .revoked_at = now - 3600 - (int64_t)i,
		    .reason = reason[i],
		    .this_update = now - 60,
		    .next_update = i % 2 == 0 ? now + 3600 : 0,
		};
	}
	r.singles = singles;
	r.n = req->n;
	r.produced_at = now - 30;
	if (req->nonce.len > 0) {
		r.nonce = req->nonce.p;
		r.nonce_len = req->nonce.len;
	}
	if (with_cert) {
		r.signer_cert = resp_der;
		r.signer_cert_len = resp_len;
	}
	cs_buf_init(out, 1 << 16);
	rc = cs_ocsp_build(&r, &signer, out, errmsg);
	ck_assert_msg(rc == 0, "cs_ocsp_build: %s (%s)", cs_errname(rc),
	    errmsg);
}

/* A request from the CLI for the given leaves; returns its DER. */
static uint8_t *
cli_request(struct leaf *l, int n, const char *opts, size_t *len)
{
	char *ca_path = write_cert("ca.pem", ca->der, ca->der_len);
	struct cs_buf certs;
	char *out;
	int st;

	cs_buf_init(&certs, 4096);
	for (int i = 0; i < n; i++)
		cs_buf_printf(&certs, " -cert %s", l[i].path);
	out = cs_test_run(&st,
	    "cd %s && openssl ocsp -issuer %s %s%s -reqout req.der", dir,
	    ca_path, opts, (char *)certs.data);
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	cs_buf_close(&certs);
	free(ca_path);
	return read_file("req.der", len);
}

static const struct {
	enum cs_ocsp_cert_status status;
	int reason;
	const char *text; /* in the -resp_text dump */
	const char *says; /* in the status summary for -cert */
} status_table[] = {
    {CS_OCSP_GOOD, -1, "Cert Status: good", "leaf.pem: good"},
    {CS_OCSP_REVOKED, CS_REASON_KEY_COMPROMISE,
	"Revocation Reason: keyCompromise (0x1)", "Reason: keyCompromise"},
    {CS_OCSP_REVOKED, CS_REASON_CERTIFICATE_HOLD,
	"Revocation Reason: certificateHold (0x6)", "Reason: certificateHold"},
    {CS_OCSP_REVOKED, CS_REASON_UNSPECIFIED,
	"Revocation Reason: unspecified (0x0)", "Reason: unspecified"},
    {CS_OCSP_REVOKED, -1, "Cert Status: revoked", "leaf.pem: revoked"},
    {CS_OCSP_UNKNOWN, -1, "Cert Status: unknown", "leaf.pem: unknown"},
};

/* `openssl ocsp -respin` verifies the response against the CA, checks
 * the nonce against the request (-reqin) and prints the status. */
START_TEST(test_build_verifies_with_openssl_cli)
{
	struct leaf l;
	struct cs_ocsp_request req;
	struct cs_buf resp;
	char *req_path, *resp_path, *ca_path, *out;
	uint8_t *der;
	size_t len;
	int st;

	leaf_new(&l, "leaf");
	der = cli_request(&l, 1, "", &len);
	ck_assert_int_eq(cs_ocsp_parse_request(der, len, &req, NULL), 0);
	ck_assert_uint_gt(req.nonce.len, 0);
	respond(&req, &status_table[_i].status, &status_table[_i].reason, true,
	    &resp);
	resp_path = write_file("resp.der", resp.data, resp.len);
	req_path = cs_test_path(dir, "req.der");
	ca_path = write_cert("ca.pem", ca->der, ca->der_len);

	/* with the request: the nonce is checked (no -cert: openssl would
	 * make a request of its own, with a nonce of its own) */
	out = cs_test_run(&st,
	    "openssl ocsp -respin %s -reqin %s -CAfile %s -resp_text",
	    resp_path, req_path, ca_path);
	ck_assert_msg(st == 0, "openssl ocsp -reqin failed:\n%s", out);
	assert_has(out, "Response verify OK");
	assert_has(out, "OCSP Response Status: successful (0x0)");
	assert_has(out, "Response Type: Basic OCSP Response");
	assert_has(out, "Responder Id: ");
	assert_has(out, "OCSP Nonce: ");
	assert_has(out, "Subject: CN=OCSP responder"); /* the cert sent */
	assert_has(out, status_table[_i].text);
	ck_assert_ptr_null(strstr(out, "Nonce Verify error"));
	ck_assert_ptr_null(strstr(out, "WARNING"));
	free(out);

	/* with the certificate: openssl matches the CertID and says what
	 * the status is */
	out = cs_test_run(&st,
	    "openssl ocsp -respin %s -CAfile %s -issuer %s -cert %s -no_nonce "
	    "-resp_text",
	    resp_path, ca_path, ca_path, l.path);
	ck_assert_msg(st == 0, "openssl ocsp -cert failed:\n%s", out);
	assert_has(out, "Response verify OK");
	assert_has(out, status_table[_i].says);
	if (status_table[_i].status == CS_OCSP_REVOKED) {
		char when[64];
		struct tm tm;
		time_t t = (time_t)(now - 3600);

		gmtime_r(&t, &tm);
		strftime(when, sizeof when,
		    "Revocation Time: %b %e %H:%M:%S %Y GMT", &tm);
		assert_has(out, when);
	}
	free(out);
	free(der);
	free(req_path);
	free(resp_path);
	free(ca_path);
	cs_buf_close(&resp);
	leaf_free(&l);
}
END_TEST

/* A nonce that does not match the request's is caught by openssl: proof
 * that the check above really compares. */
START_TEST(test_build_nonce_mismatch_caught)
{
	struct leaf l;
	struct cs_ocsp_request req;
	struct cs_buf resp;
	enum cs_ocsp_cert_status good = CS_OCSP_GOOD;
	int none = -1;
	uint8_t *der;
	size_t len;
	char *resp_path, *req_path, *ca_path, *out;
	int st;

	leaf_new(&l, "leaf");
	der = cli_request(&l, 1, "", &len);
	ck_assert_int_eq(cs_ocsp_parse_request(der, len, &req, NULL), 0);
	/* answer another nonce: flip a byte of it (a view into der) while
	 * building, then restore it; req.der on disk is the original */
	((uint8_t *)req.nonce.p)[0] ^= 0xff;
	respond(&req, &good, &none, true, &resp);
	((uint8_t *)req.nonce.p)[0] ^= 0xff;
	resp_path = write_file("resp.der", resp.data, resp.len);
	req_path = cs_test_path(dir, "req.der");
	ca_path = write_cert("ca.pem", ca->der, ca->der_len);
	out = cs_test_run(&st, "openssl ocsp -respin %s -reqin %s -CAfile %s",
	    resp_path, req_path, ca_path);
	ck_assert_int_ne(st, 0);
	assert_has(out, "Nonce Verify error");
	free(out);
	free(der);
	free(resp_path);
	free(req_path);
	free(ca_path);
	cs_buf_close(&resp);
	leaf_free(&l);
}
END_TEST

/* In process: every responder key type, several CertIDs of mixed status
 * and hashes, OCSP_basic_verify() against the CA, every field read back
 * with OCSP_resp_find_status(). */
static const enum cs_test_key key_types[] = {CS_TEST_P256, CS_TEST_P384,
    CS_TEST_RSA2048, CS_TEST_ED25519};

static void
check_in_process(const uint8_t *req_der, size_t req_len,
    const struct cs_buf *resp, int n, const enum cs_ocsp_cert_status *status,
    const int *reason, bool delegated)
{
	const unsigned char *q = resp->data;
	OCSP_RESPONSE * or = d2i_OCSP_RESPONSE(NULL, &q, (long)resp->len);
	OCSP_BASICRESP *bs;
	OCSP_REQUEST *oreq;
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *extra = sk_X509_new_null();
	const ASN1_OCTET_STRING *keyid = NULL;
	const X509_NAME *byname = NULL;
	unsigned char md[20];
	unsigned int mdlen;

	ck_assert_ptr_nonnull(or);
	ck_assert(q == resp->data + resp->len);
	ck_assert_int_eq(OCSP_response_status(or),
	    OCSP_RESPONSE_STATUS_SUCCESSFUL);
	bs = OCSP_response_get1_basic(or);
	ck_assert_ptr_nonnull(bs);
	ck_assert_int_eq(X509_STORE_add_cert(store, ca->cert), 1);
	if (!delegated)
		sk_X509_push(extra, ca->cert); /* the CA signs: not in certs */
	ck_assert_int_eq(OCSP_basic_verify(bs, extra, store, 0), 1);
	/* the responder's certificate, or no certs field at all */
	ck_assert_int_eq(sk_X509_num(OCSP_resp_get0_certs(bs)),
	    delegated ? 1 : -1);

	/* ResponderID byKey = SHA-1 of the signer's public key bits */
	ck_assert_int_eq(OCSP_resp_get0_id(bs, &keyid, &byname), 1);
	ck_assert_ptr_nonnull(keyid);
	ck_assert_ptr_null(byname);
	ck_assert_int_eq(X509_pubkey_digest(delegated ? resp_x : ca->cert,
			     EVP_sha1(), md, &mdlen),
	    1);
	ck_assert_int_eq(ASN1_STRING_length(keyid), 20);
	ck_assert(memcmp(ASN1_STRING_get0_data(keyid), md, 20) == 0);

	q = req_der;
	oreq = d2i_OCSP_REQUEST(NULL, &q, (long)req_len);
	ck_assert_ptr_nonnull(oreq);
	ck_assert_int_eq(OCSP_check_nonce(oreq, bs),
	    OCSP_REQUEST_get_ext_by_NID(oreq, NID_id_pkix_OCSP_Nonce, -1) >= 0
		? 1
		: 2); /* 2: neither has one */
	{
		ASN1_GENERALIZEDTIME *produced =
		    (ASN1_GENERALIZEDTIME *)OCSP_resp_get0_produced_at(bs);
		ASN1_TIME *want = ASN1_TIME_set(NULL, (time_t)(now - 30));

		ck_assert_int_eq(ASN1_STRING_type(produced),
		    V_ASN1_GENERALIZEDTIME);
		ck_assert_int_eq(ASN1_TIME_compare(produced, want), 0);
		ASN1_TIME_free(want);
	}
	for (int i = 0; i < n; i++) {
		OCSP_ONEREQ *one = OCSP_request_onereq_get0(oreq, i);
		OCSP_CERTID *id = OCSP_onereq_get0_id(one);
		int st = -1, rs = -2;
		ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL,
				     *nextupd = NULL;

		ck_assert_int_eq(OCSP_resp_find_status(bs, id, &st, &rs, &rev,
				     &thisupd, &nextupd),
		    1);
		ck_assert_int_eq(st, (int)status[i]); /* same numbering */
		ck_assert_int_eq(OCSP_check_validity(thisupd, nextupd, 300, -1),
		    1);
		if (i % 2 == 0)
			ck_assert_ptr_nonnull(nextupd);
		else
			ck_assert_ptr_null(nextupd);
		if (status[i] == CS_OCSP_REVOKED) {
			ASN1_TIME *want =
			    ASN1_TIME_set(NULL, (time_t)(now - 3600 - i));

			ck_assert_int_eq(ASN1_TIME_compare(rev, want), 0);
			ASN1_TIME_free(want);
			ck_assert_int_eq(rs, reason[i]); /* -1: none */
		}
	}
	OCSP_REQUEST_free(oreq);
	sk_X509_free(extra);
	X509_STORE_free(store);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(or);
}

START_TEST(test_build_verifies_in_process)
{
	struct leaf l[3];
	struct cs_ocsp_request req;
	struct cs_buf resp;
	static const enum cs_ocsp_cert_status status[3] = {CS_OCSP_GOOD,
	    CS_OCSP_REVOKED, CS_OCSP_UNKNOWN};
	static const int reason[3] = {-1, CS_REASON_AA_COMPROMISE, -1};
	uint8_t *der;
	size_t len;

	responder_teardown();
	responder_setup(key_types[_i]);
	for (int i = 0; i < 3; i++) {
		char cn[16];

		snprintf(cn, sizeof cn, "leaf%d", i);
		leaf_new(&l[i], cn);
	}
	der = cli_request(l, 3, _i % 2 ? "-sha256" : "", &len);
	ck_assert_int_eq(cs_ocsp_parse_request(der, len, &req, NULL), 0);
	respond(&req, status, reason, true, &resp);
	check_in_process(der, len, &resp, 3, status, reason, true);
	cs_buf_close(&resp);
	free(der);

	/* no nonce in the request: none in the response */
	der = cli_request(l, 1, "-no_nonce", &len);
	ck_assert_int_eq(cs_ocsp_parse_request(der, len, &req, NULL), 0);
	respond(&req, status + 1, reason + 1, true, &resp);
	check_in_process(der, len, &resp, 1, status + 1, reason + 1, true);
	cs_buf_close(&resp);
	free(der);
	for (int i = 0; i < 3; i++)
		leaf_free(&l[i]);
}
END_TEST

/* The CA key answers itself: no certs in the response, ResponderID is
 * the CA's key; openssl finds the signer in -verify_other. */
START_TEST(test_build_signed_by_ca)
{
	struct leaf l;
	struct cs_ocsp_request req;
	struct cs_buf resp;
	enum cs_ocsp_cert_status st_good = CS_OCSP_GOOD;
	int none = -1;
	uint8_t *der;
	size_t len;
	char *resp_path, *req_path, *ca_path, *out;
	int st;

	cs_signer_close(&signer);
	ck_assert_int_eq(cs_signer_init(&signer, ca->key, NULL), 0);
	leaf_new(&l, "leaf");
	der = cli_request(&l, 1, "", &len);
	ck_assert_int_eq(cs_ocsp_parse_request(der, len, &req, NULL), 0);
	respond(&req, &st_good, &none, false, &resp);
	check_in_process(der, len, &resp, 1, &st_good, &none, false);

	resp_path = write_file("resp.der", resp.data, resp.len);
	req_path = cs_test_path(dir, "req.der");
	ca_path = write_cert("ca.pem", ca->der, ca->der_len);
	out = cs_test_run(&st,
	    "openssl ocsp -respin %s -reqin %s -CAfile %s -verify_other %s "
	    "-resp_text",
	    resp_path, req_path, ca_path, ca_path);
	ck_assert_msg(st == 0, "%s", out);
	assert_has(out, "Response verify OK");
	assert_has(out, "Cert Status: good");
	ck_assert_ptr_null(strstr(out, "Nonce Verify error"));
	ck_assert_ptr_null(strstr(out, "Certificate:")); /* none sent */
	free(out);
	free(resp_path);
	free(req_path);
	free(ca_path);
	free(der);
	cs_buf_close(&resp);
	leaf_free(&l);
}
END_TEST

/* The shape RFC 6960 asks for, read with our strict reader: no version
 * (v1 is the DEFAULT), ResponderID [2], GeneralizedTimes, the nonce in
 * the same wrapped form as requests carry it. */
START_TEST(test_build_structure)
{
	static const uint8_t certid[] = {0x30, 0x03, 0x02, 0x01, 0x05};
	static const uint8_t nonce[] = {1, 2, 3};
	struct cs_ocsp_single one = {
	    .certid = {certid, sizeof certid},
	    .status = CS_OCSP_REVOKED,
	    .revoked_at = 1700000000,
	    .reason = CS_REASON_SUPERSEDED,
	    .this_update = 1700000100,
	    .next_update = 1700003700,
	};
	struct cs_ocsp_response r = {
	    .singles = &one,
	    .n = 1,
	    .produced_at = 1700000200,
	    .nonce = nonce,
	    .nonce_len = sizeof nonce,
	};
	struct cs_buf b;
	struct cs_der in, x, y, basic, tbs, v, sr, rev;
	uint8_t tag;

	cs_buf_init(&b, 4096);
	ck_assert_int_eq(cs_ocsp_build(&r, &signer, &b, NULL), 0);
	in.p = b.data;
	in.len = b.len;
	ck_assert_int_eq(cs_der_expect(&in, CS_DER_SEQUENCE, &x, NULL), 0);
	ck_assert_uint_eq(in.len, 0);
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_ENUMERATED, &v, NULL), 0);
	ck_assert_uint_eq(v.len, 1);
	ck_assert_uint_eq(v.p[0], 0);
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_CTX0, &y, NULL), 0);
	ck_assert_uint_eq(x.len, 0);
	ck_assert_int_eq(cs_der_expect(&y, CS_DER_SEQUENCE, &x, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_OID, &v, NULL), 0);
	ck_assert_uint_eq(v.len, 9);
	ck_assert(memcmp(v.p, "\x2b\x06\x01\x05\x05\x07\x30\x01\x01", 9) == 0);
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_OCTET_STRING, &y, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&y, CS_DER_SEQUENCE, &basic, NULL), 0);
	ck_assert_uint_eq(y.len, 0);
	ck_assert_int_eq(cs_der_expect(&basic, CS_DER_SEQUENCE, &tbs, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&tbs, 0xa2, &x, NULL), 0); /* byKey */
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_OCTET_STRING, &v, NULL), 0);
	ck_assert_uint_eq(v.len, 20);
	ck_assert_int_eq(cs_der_expect(&tbs, CS_DER_GENTIME, &v, NULL), 0);
	ck_assert(v.len == 15 && memcmp(v.p, "20231114221640Z", 15) == 0);
	ck_assert_int_eq(cs_der_expect(&tbs, CS_DER_SEQUENCE, &x, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_SEQUENCE, &sr, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&sr, CS_DER_SEQUENCE, NULL, &v), 0);
	ck_assert(
	    v.len == sizeof certid && memcmp(v.p, certid, sizeof certid) == 0);
	ck_assert_int_eq(cs_der_expect(&sr, 0xa1, &rev, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&rev, CS_DER_GENTIME, &v, NULL), 0);
	ck_assert(v.len == 15 && memcmp(v.p, "20231114221320Z", 15) == 0);
	ck_assert_int_eq(cs_der_expect(&rev, CS_DER_CTX0, &y, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&y, CS_DER_ENUMERATED, &v, NULL), 0);
	ck_assert_uint_eq(v.p[0], CS_REASON_SUPERSEDED);
	ck_assert_int_eq(cs_der_expect(&sr, CS_DER_GENTIME, &v, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&sr, CS_DER_CTX0, &y, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&y, CS_DER_GENTIME, &v, NULL), 0);
	ck_assert_uint_eq(sr.len, 0);
	ck_assert_int_eq(cs_der_expect(&tbs, 0xa1, &x, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_SEQUENCE, &y, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&y, CS_DER_SEQUENCE, &x, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_OID, &v, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&x, CS_DER_OCTET_STRING, &y, NULL), 0);
	ck_assert_uint_eq(x.len, 0); /* not critical */
	ck_assert_int_eq(cs_der_expect(&y, CS_DER_OCTET_STRING, &v, NULL), 0);
	ck_assert(v.len == 3 && memcmp(v.p, nonce, 3) == 0);
	ck_assert_uint_eq(tbs.len, 0);
	ck_assert_int_eq(cs_der_expect(&basic, CS_DER_SEQUENCE, NULL, &v), 0);
	ck_assert(
	    v.len == signer.algid_len && memcmp(v.p, signer.algid, v.len) == 0);
	ck_assert_int_eq(cs_der_next(&basic, &tag, NULL, NULL), 0);
	ck_assert_uint_eq(tag, CS_DER_BIT_STRING);
	ck_assert_uint_eq(basic.len, 0); /* no certs: none given */
	cs_buf_close(&b);
}
END_TEST

START_TEST(test_build_rejects)
{
	static const uint8_t certid[] = {0x30, 0x03, 0x02, 0x01, 0x05};
	static const uint8_t big_nonce[33] = {0};
	struct cs_ocsp_single one;
	struct cs_ocsp_response r;
	struct cs_buf b;
	char errmsg[CS_ERRMSG_SIZE];

	cs_buf_init(&b, 4096);
	cs_buf_append(&b, "keep", 4);
	for (int k = 0; k < 11; k++) {
		one = (struct cs_ocsp_single){
		    .certid = {certid, sizeof certid},
		    .status = CS_OCSP_GOOD,
		    .reason = -1,
		    .this_update = 1700000000,
		};
		r = (struct cs_ocsp_response){.singles = &one,
		    .n = 1,
		    .produced_at = 1700000000};
		switch (k) {
		case 0:
			r.n = 0;
			break;
		case 1:
			r.singles = NULL;
			break;
		case 2:
			one.status = (enum cs_ocsp_cert_status)3;
			break;
		case 3:
			one.status = CS_OCSP_REVOKED;
			one.reason = 7;
			break;
		case 4:
			one.status = CS_OCSP_REVOKED;
			one.reason = CS_REASON__MAX;
			break;
		case 5:
			one.next_update = one.this_update;
			break;
		case 6:
			r.nonce = big_nonce;
			r.nonce_len = sizeof big_nonce;
			break;
		case 7:
			one.certid.len = 4; /* truncated */
			break;
		case 8:
			r.signer_cert = certid;
			r.signer_cert_len = 2;
			break;
		case 9:
			r.produced_at = 253402300800;
			break;
		case 10:
			one.certid.p = NULL;
			break;
		}
		errmsg[0] = '\0';
		ck_assert_msg(cs_ocsp_build(&r, &signer, &b, errmsg) ==
				  CS_EINVAL,
		    "case %d", k);
		ck_assert_msg(errmsg[0] != '\0', "case %d: no message", k);
		ck_assert_uint_eq(b.len, 4);
		ck_assert_str_eq((const char *)b.data, "keep");
	}
	cs_buf_close(&b);

	/* past the cap: CS_ETOOBIG, nothing appended */
	one = (struct cs_ocsp_single){.certid = {certid, sizeof certid},
	    .status = CS_OCSP_GOOD,
	    .reason = -1,
	    .this_update = 1700000000};
	r = (struct cs_ocsp_response){.singles = &one,
	    .n = 1,
	    .produced_at = 1700000000};
	for (size_t max = 0; max < 100; max += 7) {
		cs_buf_init(&b, max);
		errmsg[0] = '\0';
		ck_assert_int_eq(cs_ocsp_build(&r, &signer, &b, errmsg),
		    CS_ETOOBIG);
		ck_assert_str_ne(errmsg, "");
		ck_assert_uint_eq(b.len, 0);
		cs_buf_close(&b);
	}
}
END_TEST

/* ---- unsigned error responses ---- */

static const struct {
	enum cs_ocsp_error_status st;
	const char *cli; /* `openssl ocsp -resp_text` */
} error_table[] = {
    {CS_OCSP_MALFORMED, "Responder Error: malformedrequest (1)"},
    {CS_OCSP_INTERNAL, "Responder Error: internalerror (2)"},
    {CS_OCSP_TRY_LATER, "Responder Error: trylater (3)"},
    {CS_OCSP_SIG_REQUIRED, "Responder Error: sigrequired (5)"},
    {CS_OCSP_UNAUTHORIZED, "Responder Error: unauthorized (6)"},
};

START_TEST(test_error_responses)
{
	size_t len = 0;
	const uint8_t *p = cs_ocsp_error(error_table[_i].st, &len);
	const unsigned char *q = p;
	OCSP_RESPONSE * or ;
	char *path, *out;
	int st;

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 5);
	or = d2i_OCSP_RESPONSE(NULL, &q, (long)len);
	ck_assert_ptr_nonnull(or);
	ck_assert(q == p + len);
	ck_assert_int_eq(OCSP_response_status(or), (int)error_table[_i].st);
	ck_assert_ptr_null(OCSP_response_get1_basic(or));
	OCSP_RESPONSE_free(or);

	path = write_file("err.der", p, len);
	out = cs_test_run(&st, "openssl ocsp -respin %s -resp_text", path);
	assert_has(out, error_table[_i].cli);
	free(out);
	free(path);
}
END_TEST

START_TEST(test_error_refuses_non_errors)
{
	size_t len = 99;

	ck_assert_ptr_null(cs_ocsp_error((enum cs_ocsp_error_status)0, &len));
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_ptr_null(cs_ocsp_error((enum cs_ocsp_error_status)4, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(cs_ocsp_error((enum cs_ocsp_error_status)7, &len));
	ck_assert_ptr_null(
	    cs_ocsp_error((enum cs_ocsp_error_status) - 1, &len));
}
END_TEST

static Suite *
ocsp_suite(void)
{
	Suite *s = suite_create("ocsp");
	TCase *tc;

	tc = tcase_create("parse_request");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_parse_openssl_requests, 0,
	    sizeof cli_table / sizeof cli_table[0]);
	tcase_add_loop_test(tc, test_parse_crafted, 0,
	    sizeof craft_table / sizeof craft_table[0]);
	tcase_add_test(tc, test_parse_serial_values);
	tcase_add_test(tc, test_parse_rejects_raw_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("issuer_hashes");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_issuer_hashes_match_openssl);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_unchecked_fixture(tc, warm_keys, NULL);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_build_verifies_with_openssl_cli, 0,
	    sizeof status_table / sizeof status_table[0]);
	tcase_add_test(tc, test_build_nonce_mismatch_caught);
	tcase_add_loop_test(tc, test_build_verifies_in_process, 0,
	    sizeof key_types / sizeof key_types[0]);
	tcase_add_test(tc, test_build_signed_by_ca);
	tcase_add_test(tc, test_build_structure);
	tcase_add_test(tc, test_build_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("error");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_error_responses, 0,
	    sizeof error_table / sizeof error_table[0]);
	tcase_add_test(tc, test_error_refuses_non_errors);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(ocsp_suite)
