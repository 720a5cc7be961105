/*
 * test_sign.c - cert/derw.c (the DER writer) and cert/signer.c (the CA
 * signer), against OpenSSL's own encoders and verifiers.
 *
 * Every encoding is compared with what OpenSSL produces for the same
 * value (i2d_* on ASN1_* objects), and every signature is verified by
 * OpenSSL, both as a raw signature and inside a structure X509_CRL_verify()
 * checks, so the AlgorithmIdentifiers are proven too.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cert/der.h"
#include "cert/derw.h"
#include "cert/signer.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"
#include "tests/lib/ca.h"
#include "tests/lib/runner.h"

/* ---- helpers ---- */

/* Lower-case hex of p (static buffer: one call per expression). */
static const char *
hex(const uint8_t *p, size_t n)
{
	static char out[2 * 512 + 1];

	ck_assert_uint_le(n, 512);
	cs_hex_encode(p, n, out);
	return out;
}

static void
assert_bytes(const struct cs_buf *b, const uint8_t *want, size_t n,
    const char *what)
{
	char got[2 * 512 + 1];

	ck_assert_uint_le(b->len, 512);
	cs_hex_encode(b->data, b->len, got);
	ck_assert_msg(b->len == n && memcmp(b->data, want, n) == 0,
	    "%s: got %s, want %s", what, got, hex(want, n));
}

/* OpenSSL's DER of an ASN1 object, as a new buffer. */
#define I2D(fn, obj, out, len)                                                 \
	do {                                                                   \
		unsigned char *p_ = NULL;                                      \
		int n_ = fn(obj, &p_);                                         \
		ck_assert_int_gt(n_, 0);                                       \
		*(out) = cs_memdup(p_, (size_t)n_);                            \
		*(len) = (size_t)n_;                                           \
		OPENSSL_free(p_);                                              \
	} while (0)

/* ---- lengths ---- */

static const size_t lengths[] = {0, 1, 127, 128, 255, 256, 65535, 65536,
    16777215, 16777216};

static size_t
header_of(size_t len, uint8_t tag, uint8_t hdr[8])
{
	hdr[0] = tag;
	if (len < 128) {
		hdr[1] = (uint8_t)len;
		return 2;
	}
	if (len < 256) {
		hdr[1] = 0x81;
		hdr[2] = (uint8_t)len;
		return 3;
	}
	if (len < 65536) {
		hdr[1] = 0x82;
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		return 4;
	}
	if (len < 16777216) {
		hdr[1] = 0x83;
		hdr[2] = (uint8_t)(len >> 16);
		hdr[3] = (uint8_t)(len >> 8);
		hdr[4] = (uint8_t)len;
		return 5;
	}
	hdr[1] = 0x84;
	hdr[2] = (uint8_t)(len >> 24);
	hdr[3] = (uint8_t)(len >> 16);
	hdr[4] = (uint8_t)(len >> 8);
	hdr[5] = (uint8_t)len;
	return 6;
}

/* A whole TLV and a begin/end pair give the same, minimal header, and
 * OpenSSL reads the value back with the right length. */
START_TEST(test_derw_lengths_at_boundaries)
{
	size_t len = lengths[_i];
	uint8_t *content = cs_malloc(len + 1);
	uint8_t hdr[8];
	size_t hn = header_of(len, CS_DER_OCTET_STRING, hdr);
	struct cs_buf a, b;
	struct cs_derw wa, wb;
	ASN1_OCTET_STRING *os;
	const unsigned char *p;
	size_t mark;

	for (size_t i = 0; i < len; i++)
		content[i] = (uint8_t)(i * 7 + 1);
	cs_buf_init(&a, 64 << 20);
	cs_buf_init(&b, 64 << 20);
	cs_derw_init(&wa, &a);
	cs_derw_init(&wb, &b);

	cs_derw_tlv(&wa, CS_DER_OCTET_STRING, content, len);
	mark = cs_derw_begin(&wb, CS_DER_OCTET_STRING);
	ck_assert_uint_eq(mark, 0);
	cs_derw_raw(&wb, content, len);
	cs_derw_end(&wb, mark);
	ck_assert_int_eq(wa.err, 0);
	ck_assert_int_eq(wb.err, 0);
	ck_assert_uint_eq(a.len, hn + len);
	ck_assert_msg(memcmp(a.data, hdr, hn) == 0, "len %zu: header %s", len,
	    hex(a.data, hn));
	ck_assert_uint_eq(b.len, a.len);
	ck_assert(memcmp(a.data, b.data, a.len) == 0);
	ck_assert_uint_eq(a.data[a.len], 0); /* cs_buf keeps its NUL */
	ck_assert_uint_eq(b.data[b.len], 0);

	p = a.data;
	os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)a.len);
	ck_assert_ptr_nonnull(os);
	ck_assert(p == a.data + a.len);
	ck_assert_int_eq(ASN1_STRING_length(os), (int)len);
	ck_assert(
	    len == 0 || memcmp(ASN1_STRING_get0_data(os), content, len) == 0);
	ASN1_OCTET_STRING_free(os);
	cs_buf_close(&a);
	cs_buf_close(&b);
	free(content);
}
END_TEST

/* Nested constructed values whose lengths grow past the short form are
 * moved correctly, inner first, and our strict reader accepts them. */
START_TEST(test_derw_nested_long_forms)
{
	struct cs_buf b;
	struct cs_derw w;
	struct cs_der in, outer, mid, inner, rest;
	uint8_t body[300], tag;
	size_t m1, m2, m3;

	memset(body, 0x5a, sizeof body);
	cs_buf_init(&b, 1 << 20);
	cs_derw_init(&w, &b);
	m1 = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_null(&w);
	m2 = cs_derw_begin(&w, CS_DER_CTX0);
	m3 = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_octets(&w, body, 200);
	cs_derw_end(&w, m3);
	cs_derw_octets(&w, body, 100);
	cs_derw_end(&w, m2);
	cs_derw_bool(&w, true);
	cs_derw_end(&w, m1);
	ck_assert_int_eq(w.err, 0);

	in.p = b.data;
	in.len = b.len;
	ck_assert_int_eq(cs_der_expect(&in, CS_DER_SEQUENCE, &outer, NULL), 0);
	ck_assert_uint_eq(in.len, 0);
	ck_assert_int_eq(cs_der_expect(&outer, CS_DER_NULL, NULL, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&outer, CS_DER_CTX0, &mid, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&mid, CS_DER_SEQUENCE, &inner, NULL), 0);
	ck_assert_int_eq(cs_der_expect(&inner, CS_DER_OCTET_STRING, &rest,
			     NULL),
	    0);
	ck_assert_uint_eq(rest.len, 200);
	ck_assert_uint_eq(inner.len, 0);
	ck_assert_int_eq(cs_der_expect(&mid, CS_DER_OCTET_STRING, &rest, NULL),
	    0);
	ck_assert_uint_eq(rest.len, 100);
	ck_assert_uint_eq(mid.len, 0);
	ck_assert_int_eq(cs_der_next(&outer, &tag, &rest, NULL), 0);
	ck_assert_uint_eq(tag, CS_DER_BOOLEAN);
	ck_assert_uint_eq(rest.p[0], 0xff);
	ck_assert_uint_eq(outer.len, 0);
	cs_buf_close(&b);
}
END_TEST

/* ---- caps and sticky errors ---- */

START_TEST(test_derw_cap_exact_fit)
{
	uint8_t body[10] = {0};
	struct cs_buf b;
	struct cs_derw w;

	cs_buf_init(&b, 12);
	cs_derw_init(&w, &b);
	cs_derw_octets(&w, body, 10);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(b.len, 12);
	cs_derw_null(&w);
	ck_assert_int_eq(w.err, CS_ETOOBIG);
	ck_assert_uint_eq(b.len, 12); /* the failed append changed nothing */
	cs_buf_close(&b);
}
END_TEST

/* After the first failure, every call is a no-op and err keeps the first
 * error. */
START_TEST(test_derw_errors_are_sticky)
{
	uint8_t body[64] = {0};
	struct cs_buf b;
	struct cs_derw w;
	size_t mark, len;

	cs_buf_init(&b, 40);
	cs_derw_init(&w, &b);
	mark = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_octets(&w, body, 64); /* too big */
	ck_assert_int_eq(w.err, CS_ETOOBIG);
	len = b.len;
	cs_derw_enum(&w, 200); /* would be CS_EINVAL on its own */
	cs_derw_gentime(&w, INT64_MAX);
	cs_derw_null(&w);
	cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_end(&w, mark);
	ck_assert_int_eq(w.err, CS_ETOOBIG);
	ck_assert_uint_eq(b.len, len);
	cs_buf_close(&b);

	cs_buf_init(&b, 40);
	cs_derw_init(&w, &b);
	cs_derw_enum(&w, 128);
	ck_assert_int_eq(w.err, CS_EINVAL);
	cs_derw_octets(&w, body, 64);
	ck_assert_int_eq(w.err, CS_EINVAL);
	ck_assert_uint_eq(b.len, 0);
	cs_buf_close(&b);
}
END_TEST

/* cs_derw_end() needs room to move the contents when the length grows
 * past 127 bytes: the cap applies there too, and the buffer is left as
 * it was. */
START_TEST(test_derw_cap_in_end)
{
	uint8_t body[126] = {0};
	struct cs_buf b;
	struct cs_derw w;
	size_t mark;

	/* SEQUENCE { OCTET STRING (126) }: contents 128 bytes, header
	 * 30 81 80: 131 bytes in all */
	cs_buf_init(&b, 130);
	cs_derw_init(&w, &b);
	mark = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_octets(&w, body, sizeof body);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(b.len, 130);
	cs_derw_end(&w, mark);
	ck_assert_int_eq(w.err, CS_ETOOBIG);
	ck_assert_uint_eq(b.len, 130);
	cs_buf_close(&b);

	cs_buf_init(&b, 131);
	cs_derw_init(&w, &b);
	mark = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_octets(&w, body, sizeof body);
	cs_derw_end(&w, mark);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(b.len, 131);
	ck_assert_uint_eq(b.data[0], 0x30);
	ck_assert_uint_eq(b.data[1], 0x81);
	ck_assert_uint_eq(b.data[2], 0x80);
	ck_assert_uint_eq(b.data[3], 0x04);
	ck_assert_uint_eq(b.data[4], 0x7e);
	cs_buf_close(&b);
}
END_TEST

/* ---- INTEGER ---- */

static const struct {
	const char *mag; /* hex, big-endian magnitude */
	bool neg;
	const char *der; /* hex */
} int_table[] = {
    {"", false, "020100"},
    {"00", false, "020100"},
    {"0000", true, "020100"}, /* zero has no sign */
    {"01", false, "020101"},
    {"000001", false, "020101"},
    {"7f", false, "02017f"},
    {"80", false, "02020080"},
    {"0080", false, "02020080"},
    {"ff", false, "020200ff"},
    {"0100", false, "02020100"},
    {"ffff", false, "020300ffff"},
    {"01", true, "0201ff"},
    {"7f", true, "020181"},
    {"80", true, "020180"},
    {"81", true, "0202ff7f"},
    {"ff", true, "0202ff01"},
    {"0100", true, "0202ff00"},
    {"0101", true, "0202feff"},
    {"8000", true, "02028000"},
    {"8001", true, "0203ff7fff"},
    {"010000", true, "0203ff0000"},
    {"00000005", true, "0201fb"},
    /* 20 bytes with the top bit set, both signs */
    {"ffffffffffffffffffffffffffffffffffffffff", false,
	"021500ffffffffffffffffffffffffffffffffffffffff"},
    {"ffffffffffffffffffffffffffffffffffffffff", true,
	"0215ff0000000000000000000000000000000000000001"},
    {"8000000000000000000000000000000000000000", true,
	"02148000000000000000000000000000000000000000"},
};

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	ck_assert_int_eq(cs_hex_decode(s, strlen(s), out, max, &n), 0);
	return n;
}

/* The table, and OpenSSL's encoding of the same BIGNUM. */
START_TEST(test_derw_int_table)
{
	uint8_t mag[64], want[80];
	size_t n = unhex(int_table[_i].mag, mag, sizeof mag);
	size_t wn = unhex(int_table[_i].der, want, sizeof want);
	struct cs_buf b;
	struct cs_derw w;
	BIGNUM *bn = BN_bin2bn(mag, (int)n, NULL);
	ASN1_INTEGER *ai;
	uint8_t *ref;
	size_t ref_len;

	cs_buf_init(&b, 1024);
	cs_derw_init(&w, &b);
	cs_derw_int(&w, mag, n, int_table[_i].neg);
	ck_assert_int_eq(w.err, 0);
	assert_bytes(&b, want, wn, int_table[_i].mag);

	ck_assert_ptr_nonnull(bn);
	BN_set_negative(bn, int_table[_i].neg);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	ck_assert_ptr_nonnull(ai);
	I2D(i2d_ASN1_INTEGER, ai, &ref, &ref_len);
	assert_bytes(&b, ref, ref_len, "vs OpenSSL");
	free(ref);
	ASN1_INTEGER_free(ai);
	BN_free(bn);

	if (!int_table[_i].neg) { /* cs_derw_uint is the unsigned half */
		cs_buf_reset(&b);
		cs_derw_uint(&w, mag, n);
		assert_bytes(&b, want, wn, "cs_derw_uint");
	}
	cs_buf_close(&b);
}
END_TEST

/* Every 1..3 byte magnitude pattern that matters (all values of the
 * first byte, with zero / non-zero tails), both signs, against OpenSSL. */
START_TEST(test_derw_int_matches_openssl_sweep)
{
	struct cs_buf b;
	struct cs_derw w;
	static const uint8_t tails[][2] = {{0, 0}, {0, 1}, {1, 0}, {0xff, 0xff},
	    {0x80, 0}};

	cs_buf_init(&b, 1024);
	cs_derw_init(&w, &b);
	for (unsigned first = 0; first < 256; first++) {
		for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
			for (size_t n = 1; n <= 3; n++) {
				uint8_t mag[3] = {(uint8_t)first, tails[t][0],
				    tails[t][1]};

				for (int neg = 0; neg < 2; neg++) {
					BIGNUM *bn =
					    BN_bin2bn(mag, (int)n, NULL);
					ASN1_INTEGER *ai;
					uint8_t *ref;
					size_t rl;

					BN_set_negative(bn, neg);
					ai = BN_to_ASN1_INTEGER(bn, NULL);
					I2D(i2d_ASN1_INTEGER, ai, &ref, &rl);
					cs_buf_reset(&b);
					cs_derw_int(&w, mag, n, neg);
					ck_assert_msg(b.len == rl &&
							  memcmp(b.data, ref,
							      rl) == 0,
					    "%s%s: got %s", neg ? "-" : "",
					    hex(mag, n), "mismatch");
					free(ref);
					ASN1_INTEGER_free(ai);
					BN_free(bn);
				}
			}
		}
	}
	ck_assert_int_eq(w.err, 0);
	cs_buf_close(&b);
}
END_TEST

static const uint64_t u64_table[] = {0, 1, 127, 128, 255, 256, 32767, 32768,
    65535, 65536, 0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX};

START_TEST(test_derw_u64_matches_openssl)
{
	uint64_t v = u64_table[_i];
	struct cs_buf b;
	struct cs_derw w;
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	uint8_t *ref;
	size_t rl;

	ck_assert_int_eq(ASN1_INTEGER_set_uint64(ai, v), 1);
	I2D(i2d_ASN1_INTEGER, ai, &ref, &rl);
	cs_buf_init(&b, 64);
	cs_derw_init(&w, &b);
	cs_derw_u64(&w, v);
	ck_assert_int_eq(w.err, 0);
	assert_bytes(&b, ref, rl, "u64");
	free(ref);
	ASN1_INTEGER_free(ai);
	cs_buf_close(&b);
}
END_TEST

/* ---- named bit strings ---- */

/* Every KeyUsage value (9 named bits) and every ReasonFlags value (9 as
 * well) as OpenSSL encodes a named bit list: trailing zero bits dropped
 * and counted in the unused-bits octet. */
START_TEST(test_derw_named_bits_match_openssl)
{
	struct cs_buf b;
	struct cs_derw w;

	cs_buf_init(&b, 64);
	cs_derw_init(&w, &b);
	for (uint32_t v = 0; v < 512; v++) {
		ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
		uint8_t *ref;
		size_t rl;

		for (int i = 0; i < 9; i++)
			ck_assert_int_eq(ASN1_BIT_STRING_set_bit(bs, i,
					     (v >> i) & 1),
			    1);
		I2D(i2d_ASN1_BIT_STRING, bs, &ref, &rl);
		cs_buf_reset(&b);
		cs_derw_named_bits(&w, v, 9);
		ck_assert_msg(b.len == rl && memcmp(b.data, ref, rl) == 0,
		    "bits 0x%03x: want %s", v, hex(ref, rl));
		free(ref);
		ASN1_BIT_STRING_free(bs);
	}
	ck_assert_int_eq(w.err, 0);
	cs_buf_close(&b);
}
END_TEST

START_TEST(test_derw_named_bits_known_values)
{
	static const struct {
		uint32_t bits;
		const char *der;
	} t[] = {
	    {0, "030100"}, {1u << 0, "03020780"}, /* digitalSignature */
	    {(1u << 5) | (1u << 6), "03020106"},  /* keyCertSign, cRLSign */
	    {1u << 8, "0303070080"},              /* decipherOnly */
	    {(1u << 1) | (1u << 2), "03020560"},  /* keyCompromise, cACompromise
						   */
	};
	struct cs_buf b;
	struct cs_derw w;

	cs_buf_init(&b, 64);
	cs_derw_init(&w, &b);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint8_t want[8];
		size_t n = unhex(t[i].der, want, sizeof want);

		cs_buf_reset(&b);
		cs_derw_named_bits(&w, t[i].bits, 9);
		assert_bytes(&b, want, n, t[i].der);
	}
	/* bits past nbits are not written */
	cs_buf_reset(&b);
	cs_derw_named_bits(&w, 1u << 9, 9);
	assert_bytes(&b, (const uint8_t *)"\x03\x01\x00", 3, "past nbits");
	cs_buf_close(&b);
}
END_TEST

/* ---- times ---- */

static const struct {
	int64_t t;
	const char *rfc5280; /* cs_derw_time; NULL: CS_EINVAL */
	const char *gen;     /* cs_derw_gentime; NULL: CS_EINVAL */
} time_table[] = {
    {0, "700101000000Z", "19700101000000Z"},
    {1, "700101000001Z", "19700101000001Z"},
    {-1, "691231235959Z", "19691231235959Z"},
    {951782400, "000229000000Z", "20000229000000Z"}, /* leap day 2000 */
    {1700000000, "231114221320Z", "20231114221320Z"},
    {-631152000, "500101000000Z", "19500101000000Z"}, /* first UTCTime */
    {-631152001, "19491231235959Z", "19491231235959Z"},
    {2524607999, "491231235959Z", "20491231235959Z"}, /* last UTCTime */
    {2524608000, "20500101000000Z", "20500101000000Z"},
    {4107542400, "21000301000000Z", "21000301000000Z"}, /* 2100: no leap */
    {253402300799, "99991231235959Z", "99991231235959Z"},
    {253402300800, NULL, NULL},                           /* year 10000 */
    {-62167219200, "00000101000000Z", "00000101000000Z"}, /* year 0 */
    {-62167219201, NULL, NULL},
    {INT64_MAX, NULL, NULL},
    {INT64_MIN, NULL, NULL},
};

static void
check_time(void (*fn)(struct cs_derw *, int64_t), int64_t t, const char *want)
{
	struct cs_buf b;
	struct cs_derw w;

	cs_buf_init(&b, 64);
	cs_derw_init(&w, &b);
	fn(&w, t);
	if (want == NULL) {
		ck_assert_msg(w.err == CS_EINVAL, "t=%lld: err %d",
		    (long long)t, w.err);
		ck_assert_uint_eq(b.len, 0);
	} else {
		size_t n = strlen(want);

		ck_assert_int_eq(w.err, 0);
		ck_assert_uint_eq(b.len, 2 + n);
		ck_assert_uint_eq(b.data[0],
		    n == 13 ? CS_DER_UTCTIME : CS_DER_GENTIME);
		ck_assert_uint_eq(b.data[1], n);
		ck_assert_msg(memcmp(b.data + 2, want, n) == 0,
		    "t=%lld: got %.*s, want %s", (long long)t, (int)n,
		    (const char *)b.data + 2, want);
	}
	cs_buf_close(&b);
}

START_TEST(test_derw_time_table)
{
	check_time(cs_derw_time, time_table[_i].t, time_table[_i].rfc5280);
	check_time(cs_derw_gentime, time_table[_i].t, time_table[_i].gen);
}
END_TEST

/* A sweep of times from 1900 to 2200 against OpenSSL's ASN1_TIME_set(),
 * which picks UTCTime for 1950..2049 as RFC 5280 does, and against
 * ASN1_GENERALIZEDTIME_set(). */
START_TEST(test_derw_time_matches_openssl)
{
	struct cs_buf b;
	struct cs_derw w;
	int64_t from = -2208988800;      /* 1900-01-01 */
	int64_t to = 7258118400;         /* 2200-01-01 */
	int64_t step = 86400 * 7 + 3661; /* drifts through hours and days */

	cs_buf_init(&b, 64);
	cs_derw_init(&w, &b);
	for (int64_t t = from; t < to; t += step) {
		ASN1_TIME *at = ASN1_TIME_set(NULL, (time_t)t);
		ASN1_GENERALIZEDTIME *gt =
		    ASN1_GENERALIZEDTIME_set(NULL, (time_t)t);
		uint8_t *ref;
		size_t rl;

		ck_assert_ptr_nonnull(at);
		ck_assert_ptr_nonnull(gt);
		I2D(i2d_ASN1_TIME, at, &ref, &rl);
		cs_buf_reset(&b);
		cs_derw_time(&w, t);
		ck_assert_msg(b.len == rl && memcmp(b.data, ref, rl) == 0,
		    "time %lld: want %s", (long long)t, hex(ref, rl));
		free(ref);
		I2D(i2d_ASN1_GENERALIZEDTIME, gt, &ref, &rl);
		cs_buf_reset(&b);
		cs_derw_gentime(&w, t);
		ck_assert_msg(b.len == rl && memcmp(b.data, ref, rl) == 0,
		    "gentime %lld: want %s", (long long)t, hex(ref, rl));
		free(ref);
		ASN1_TIME_free(at);
		ASN1_GENERALIZEDTIME_free(gt);
	}
	ck_assert_int_eq(w.err, 0);
	cs_buf_close(&b);
}
END_TEST

/* ---- the small ones ---- */

START_TEST(test_derw_simple_values)
{
	static const uint8_t want[] = {
	    0x01, 0x01, 0xff,                   /* TRUE */
	    0x01, 0x01, 0x00,                   /* FALSE */
	    0x05, 0x00,                         /* NULL */
	    0x06, 0x03, 0x55, 0x1d, 0x14,       /* 2.5.29.20 */
	    0x04, 0x02, 0xab, 0xcd,             /* OCTET STRING */
	    0x03, 0x03, 0x00, 0xab, 0xcd,       /* BIT STRING */
	    0x03, 0x01, 0x00,                   /* empty BIT STRING */
	    0x16, 0x03, 'a', 'b', 'c',          /* IA5String */
	    0x0c, 0x00,                         /* empty UTF8String */
	    0x0a, 0x01, 0x00, 0x0a, 0x01, 0x7f, /* ENUMERATED */
	    0x30, 0x00,                         /* empty SEQUENCE */
	    0x31, 0x03, 0x02, 0x01, 0x05,       /* SET { 5 } */
	    0xde, 0xad,                         /* raw */
	};
	static const uint8_t ab[] = {0xab, 0xcd};
	struct cs_buf b;
	struct cs_derw w;
	size_t m;

	cs_buf_init(&b, 256);
	cs_derw_init(&w, &b);
	cs_derw_bool(&w, true);
	cs_derw_bool(&w, false);
	cs_derw_null(&w);
	cs_derw_oid(&w, CS_OID("\x55\x1d\x14"));
	cs_derw_octets(&w, ab, 2);
	cs_derw_bits(&w, ab, 2);
	cs_derw_bits(&w, NULL, 0);
	cs_derw_str(&w, CS_DER_IA5, "abc");
	cs_derw_str(&w, CS_DER_UTF8, "");
	cs_derw_enum(&w, 0);
	cs_derw_enum(&w, 127);
	m = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_end(&w, m);
	m = cs_derw_begin(&w, CS_DER_SET);
	cs_derw_u64(&w, 5);
	cs_derw_end(&w, m);
	cs_derw_raw(&w, "\xde\xad", 2);
	ck_assert_int_eq(w.err, 0);
	assert_bytes(&b, want, sizeof want, "simple values");

	cs_derw_enum(&w, 128);
	ck_assert_int_eq(w.err, CS_EINVAL);
	ck_assert_uint_eq(b.len, sizeof want);
	cs_buf_close(&b);
}
END_TEST

/* ---- signer ---- */

static const struct {
	enum cs_test_key key;
	enum cs_sig_alg alg;
	int nid; /* the signature algorithm OpenSSL reads from algid */
} sign_table[] = {
    {CS_TEST_P256, CS_SIG_ECDSA_SHA256, NID_ecdsa_with_SHA256},
    {CS_TEST_P384, CS_SIG_ECDSA_SHA384, NID_ecdsa_with_SHA384},
    {CS_TEST_RSA2048, CS_SIG_RSA_SHA256, NID_sha256WithRSAEncryption},
    {CS_TEST_ED25519, CS_SIG_ED25519, NID_ED25519},
};

/* Runs once in the parent so the forked tests share the RSA key. */
static void
warm_keys(void)
{
	EVP_PKEY_free(cs_test_key_new(CS_TEST_RSA2048));
	EVP_PKEY_free(cs_test_key_new(CS_TEST_RSA1024));
}

static const EVP_MD *
md_of(enum cs_sig_alg alg)
{
	switch (alg) {
	case CS_SIG_ECDSA_SHA256:
	case CS_SIG_RSA_SHA256:
		return EVP_sha256();
	case CS_SIG_ECDSA_SHA384:
		return EVP_sha384();
	default:
		return NULL;
	}
}

START_TEST(test_signer_init_describes_key)
{
	EVP_PKEY *key = cs_test_key_new(sign_table[_i].key);
	char errmsg[CS_ERRMSG_SIZE] = "";
	struct cs_signer s;
	const unsigned char *p;
	X509_ALGOR *alg;
	const ASN1_OBJECT *obj;
	int ptype;
	const void *pval;
	uint8_t *spki;
	size_t spki_len;

	ck_assert_int_eq(cs_signer_init(&s, key, errmsg), 0);
	ck_assert_int_eq(s.alg, sign_table[_i].alg);
	ck_assert_ptr_eq(s.key, key);

	/* the AlgorithmIdentifier, as OpenSSL reads it */
	p = s.algid;
	alg = d2i_X509_ALGOR(NULL, &p, (long)s.algid_len);
	ck_assert_ptr_nonnull(alg);
	ck_assert(p == s.algid + s.algid_len);
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	ck_assert_int_eq(OBJ_obj2nid(obj), sign_table[_i].nid);
	/* RSA carries NULL parameters; ECDSA and EdDSA none (RFC 5758,
	 * RFC 8410) */
	ck_assert_int_eq(ptype, sign_table[_i].alg == CS_SIG_RSA_SHA256
				    ? V_ASN1_NULL
				    : V_ASN1_UNDEF);
	X509_ALGOR_free(alg);

	/* the public key */
	I2D(i2d_PUBKEY, key, &spki, &spki_len);
	ck_assert_uint_eq(s.spki_len, spki_len);
	ck_assert(memcmp(s.spki, spki, spki_len) == 0);
	ck_assert(cs_signer_matches(&s, spki, spki_len));
	ck_assert(!cs_signer_matches(&s, spki, spki_len - 1));
	free(spki);

	/* a reference is held: the caller's may go */
	EVP_PKEY_free(key);
	cs_signer_close(&s);
	ck_assert_ptr_null(s.key);
	ck_assert_ptr_null(s.spki);
	cs_signer_close(&s); /* twice is harmless */
}
END_TEST

START_TEST(test_signer_matches_only_own_key)
{
	EVP_PKEY *a = cs_test_key_new(CS_TEST_P256);
	EVP_PKEY *b = cs_test_key_new(CS_TEST_P256);
	struct cs_signer s;
	uint8_t *spki;
	size_t len;

	ck_assert_int_eq(cs_signer_init(&s, a, NULL), 0);
	I2D(i2d_PUBKEY, b, &spki, &len);
	ck_assert(!cs_signer_matches(&s, spki, len));
	ck_assert(!cs_signer_matches(&s, NULL, 0));
	free(spki);
	cs_signer_close(&s);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}
END_TEST

/* cs_signer_sign() output verifies with EVP_DigestVerify and the key. */
START_TEST(test_signer_sign_verifies)
{
	EVP_PKEY *key = cs_test_key_new(sign_table[_i].key);
	static const uint8_t data[] = "the bytes to be signed";
	uint8_t sig[CS_SIG_MAX];
	size_t sig_len = 0;
	struct cs_signer s;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	ck_assert_int_eq(cs_signer_init(&s, key, NULL), 0);
	ck_assert_int_eq(cs_signer_sign(&s, data, sizeof data, sig, &sig_len,
			     NULL),
	    0);
	ck_assert_uint_gt(sig_len, 0);
	ck_assert_uint_le(sig_len, CS_SIG_MAX);
	ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL,
			     md_of(sign_table[_i].alg), NULL, key),
	    1);
	ck_assert_int_eq(EVP_DigestVerify(ctx, sig, sig_len, data, sizeof data),
	    1);
	/* and not for other data */
	EVP_MD_CTX_free(ctx);
	ctx = EVP_MD_CTX_new();
	ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL,
			     md_of(sign_table[_i].alg), NULL, key),
	    1);
	ck_assert_int_ne(EVP_DigestVerify(ctx, sig, sig_len, data,
			     sizeof data - 1),
	    1);
	EVP_MD_CTX_free(ctx);
	cs_signer_close(&s);
	EVP_PKEY_free(key);
}
END_TEST

/* A minimal v1 CRL: SEQUENCE { TBS { algid, issuer, thisUpdate }, algid,
 * signature }, built with cs_signer_append(); OpenSSL must parse it and
 * X509_CRL_verify() must accept it, which checks that the algid goes with
 * the key and the signature. */
static void
build_tiny_crl(const struct cs_signer *s, struct cs_buf *b, int *rc,
    char *errmsg)
{
	static const uint8_t name[] = {0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06,
	    0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, 'T', 'e', 's', 't'};
	struct cs_derw w;
	size_t outer, tbs;

	cs_derw_init(&w, b);
	outer = cs_derw_begin(&w, CS_DER_SEQUENCE);
	tbs = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_raw(&w, s->algid, s->algid_len);
	cs_derw_raw(&w, name, sizeof name);
	cs_derw_time(&w, 1700000000);
	cs_derw_end(&w, tbs);
	*rc = cs_signer_append(s, &w, tbs, errmsg);
	cs_derw_end(&w, outer);
	if (*rc == 0 && w.err != 0)
		*rc = w.err;
}

START_TEST(test_signer_append_verifies_in_openssl)
{
	EVP_PKEY *key = cs_test_key_new(sign_table[_i].key);
	struct cs_signer s;
	struct cs_buf b;
	const unsigned char *p;
	X509_CRL *crl;
	int rc;

	ck_assert_int_eq(cs_signer_init(&s, key, NULL), 0);
	cs_buf_init(&b, 1 << 16);
	build_tiny_crl(&s, &b, &rc, NULL);
	ck_assert_int_eq(rc, 0);
	p = b.data;
	crl = d2i_X509_CRL(NULL, &p, (long)b.len);
	ck_assert_ptr_nonnull(crl);
	ck_assert(p == b.data + b.len);
	ck_assert_int_eq(X509_CRL_get_signature_nid(crl), sign_table[_i].nid);
	ck_assert_int_eq(X509_CRL_verify(crl, key), 1);
	X509_CRL_free(crl);

	/* flip one bit of the TBS: the signature no longer verifies */
	b.data[b.len / 4] ^= 0x01;
	p = b.data;
	crl = d2i_X509_CRL(NULL, &p, (long)b.len);
	if (crl != NULL)
		ck_assert_int_ne(X509_CRL_verify(crl, key), 1);
	X509_CRL_free(crl);
	cs_buf_close(&b);
	cs_signer_close(&s);
	EVP_PKEY_free(key);
}
END_TEST

/* The writer's error comes back from cs_signer_append() with a message,
 * nothing is signed or appended. */
START_TEST(test_signer_append_reports_writer_errors)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	char errmsg[CS_ERRMSG_SIZE] = "";
	struct cs_signer s;
	struct cs_buf b;
	struct cs_derw w;
	size_t len;
	int rc;

	ck_assert_int_eq(cs_signer_init(&s, key, NULL), 0);
	cs_buf_init(&b, 64);
	cs_derw_init(&w, &b);
	cs_derw_enum(&w, 200);
	ck_assert_int_eq(cs_signer_append(&s, &w, 0, errmsg), CS_EINVAL);
	ck_assert_str_ne(errmsg, "");
	ck_assert_uint_eq(b.len, 0);

	/* room for the TBS, not for the signature */
	errmsg[0] = '\0';
	cs_derw_init(&w, &b);
	cs_derw_octets(&w, "0123456789", 10);
	len = b.len;
	rc = cs_signer_append(&s, &w, 0, errmsg);
	ck_assert_int_eq(rc, CS_ETOOBIG);
	ck_assert_int_eq(w.err, CS_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(errmsg, "encoding"));
	(void)len;
	cs_buf_close(&b);
	cs_signer_close(&s);
	EVP_PKEY_free(key);
}
END_TEST

/* Keys certstore does not sign with are refused at init, by name. */
static const struct {
	enum cs_test_key key;
	const char *msg;
} refuse_table[] = {
    {CS_TEST_P521, "P-521"},
    {CS_TEST_SECP256K1, "secp256k1"},
    {CS_TEST_RSA1024, "1024"},
    {CS_TEST_ED448, "ed448"},
};

START_TEST(test_signer_refuses_unsupported_keys)
{
	EVP_PKEY *key = cs_test_key_new(refuse_table[_i].key);
	char errmsg[CS_ERRMSG_SIZE] = "";
	struct cs_signer s;

	ck_assert_int_eq(cs_signer_init(&s, key, errmsg), CS_EINVAL);
	ck_assert_msg(strstr(errmsg, refuse_table[_i].msg) != NULL,
	    "errmsg '%s' should name %s", errmsg, refuse_table[_i].msg);
	ck_assert_ptr_null(s.key);
	ck_assert_ptr_null(s.spki);
	cs_signer_close(&s);
	EVP_PKEY_free(key);
}
END_TEST

/* An RSA-PSS key (id-RSASSA-PSS SPKI) signs PSS, not PKCS#1 v1.5: it
 * cannot go with sha256WithRSAEncryption, whose signatures would not
 * verify anywhere. */
START_TEST(test_signer_refuses_rsa_pss_keys)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
	char errmsg[CS_ERRMSG_SIZE] = "";
	EVP_PKEY *key = NULL;
	struct cs_signer s;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
	ck_assert_int_eq(EVP_PKEY_keygen(ctx, &key), 1);
	EVP_PKEY_CTX_free(ctx);
	ck_assert_int_eq(cs_signer_init(&s, key, errmsg), CS_EINVAL);
	ck_assert_msg(strstr(errmsg, "RSA-PSS") != NULL, "errmsg '%s'", errmsg);
	ck_assert_ptr_null(s.key);
	EVP_PKEY_free(key);
}
END_TEST

/* An RSA key of n bits built from made-up numbers: enough for
 * cs_signer_init() to look at, never used to sign. */
static EVP_PKEY *
fake_rsa(int bits)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *n = BN_new(), *e = BN_new(), *d = BN_new();
	OSSL_PARAM *params;
	EVP_PKEY *key = NULL;

	ck_assert_int_eq(BN_set_bit(n, bits - 1), 1);
	ck_assert_int_eq(BN_set_bit(n, 0), 1);
	ck_assert_int_eq(BN_set_word(e, 65537), 1);
	ck_assert_int_eq(BN_set_word(d, 3), 1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n),
	    1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e),
	    1);
	ck_assert_int_eq(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d),
	    1);
	params = OSSL_PARAM_BLD_to_param(bld);
	ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params),
	    1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	BN_free(d);
	return key;
}

/* RSA signatures are as long as the modulus; CS_SIG_MAX holds 8192 bits.
 * A bigger key must be refused when it is configured, not fail on every
 * signature later. */
START_TEST(test_signer_rsa_size_limits)
{
	EVP_PKEY *key = fake_rsa(8192);
	char errmsg[CS_ERRMSG_SIZE] = "";
	struct cs_signer s;

	ck_assert_int_eq(cs_signer_init(&s, key, errmsg), 0);
	ck_assert_int_eq(s.alg, CS_SIG_RSA_SHA256);
	cs_signer_close(&s);
	EVP_PKEY_free(key);

	key = fake_rsa(8200);
	ck_assert_int_eq(cs_signer_init(&s, key, errmsg), CS_EINVAL);
	ck_assert_msg(strstr(errmsg, "8200") != NULL, "errmsg '%s'", errmsg);
	EVP_PKEY_free(key);
}
END_TEST

/* "A signer may be used from several threads at once." */
struct sign_thread {
	const struct cs_signer *s;
	EVP_PKEY *key;
	int failures;
};

static void *
sign_many(void *arg)
{
	struct sign_thread *t = arg;

	for (int i = 0; i < 200; i++) {
		uint8_t data[16], sig[CS_SIG_MAX];
		size_t sig_len;
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		memset(data, i, sizeof data);
		if (cs_signer_sign(t->s, data, sizeof data, sig, &sig_len,
			NULL) != 0 ||
		    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
			t->key) != 1 ||
		    EVP_DigestVerify(ctx, sig, sig_len, data, sizeof data) != 1)
			t->failures++;
		EVP_MD_CTX_free(ctx);
	}
	return NULL;
}

START_TEST(test_signer_threads)
{
	EVP_PKEY *key = cs_test_key_new(CS_TEST_P256);
	struct cs_signer s;
	struct sign_thread t[3];
	pthread_t th[3];

	ck_assert_int_eq(cs_signer_init(&s, key, NULL), 0);
	for (int i = 0; i < 3; i++) {
		t[i] = (struct sign_thread){&s, key, 0};
		ck_assert_int_eq(pthread_create(&th[i], NULL, sign_many, &t[i]),
		    0);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(t[i].failures, 0);
	}
	cs_signer_close(&s);
	EVP_PKEY_free(key);
}
END_TEST

static Suite *
sign_suite(void)
{
	Suite *s = suite_create("sign");
	TCase *tc;

	tc = tcase_create("derw");
	tcase_add_loop_test(tc, test_derw_lengths_at_boundaries, 0,
	    sizeof lengths / sizeof lengths[0]);
	tcase_add_test(tc, test_derw_nested_long_forms);
	tcase_add_test(tc, test_derw_cap_exact_fit);
	tcase_add_test(tc, test_derw_errors_are_sticky);
	tcase_add_test(tc, test_derw_cap_in_end);
	tcase_add_loop_test(tc, test_derw_int_table, 0,
	    sizeof int_table / sizeof int_table[0]);
	tcase_add_test(tc, test_derw_int_matches_openssl_sweep);
	tcase_add_loop_test(tc, test_derw_u64_matches_openssl, 0,
	    sizeof u64_table / sizeof u64_table[0]);
	tcase_add_test(tc, test_derw_named_bits_match_openssl);
	tcase_add_test(tc, test_derw_named_bits_known_values);
	tcase_add_loop_test(tc, test_derw_time_table, 0,
	    sizeof time_table / sizeof time_table[0]);
	tcase_add_test(tc, test_derw_time_matches_openssl);
	tcase_add_test(tc, test_derw_simple_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("signer");
	tcase_add_unchecked_fixture(tc, warm_keys, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_signer_init_describes_key, 0,
	    sizeof sign_table / sizeof sign_table[0]);
	tcase_add_test(tc, test_signer_matches_only_own_key);
	tcase_add_loop_test(tc, test_signer_sign_verifies, 0,
	    sizeof sign_table / sizeof sign_table[0]);
	tcase_add_loop_test(tc, test_signer_append_verifies_in_openssl, 0,
	    sizeof sign_table / sizeof sign_table[0]);
	tcase_add_test(tc, test_signer_append_reports_writer_errors);
	tcase_add_loop_test(tc, test_signer_refuses_unsupported_keys, 0,
	    sizeof refuse_table / sizeof refuse_table[0]);
	tcase_add_test(tc, test_signer_refuses_rsa_pss_keys);
	tcase_add_test(tc, test_signer_rsa_size_limits);
	tcase_add_test(tc, test_signer_threads);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(sign_suite)
