#include "cert/der.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/text.h"

int
cs_der_next(struct cs_der *in, uint8_t *tag, struct cs_der *contents,
    struct cs_der *whole)
{
	const uint8_t *p = in->p;
	size_t left = in->len;
	size_t len, hdr;

	if (left < 2)
		return CS_EINVAL;
	if ((p[0] & 0x1f) == 0x1f)
		return CS_EINVAL; /* high tag numbers: none in X.509 */
	if (p[1] < 0x80) {
		len = p[1];
		hdr = 2;
	} else {
		size_t n = p[1] & 0x7f;

		/* 0x80 is indefinite (BER); > 4 length bytes is absurd */
		if (n == 0 || n > 4 || left < 2 + n || p[2] == 0)
			return CS_EINVAL;
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = len << 8 | p[2 + i];
		if (len < 0x80)
			return CS_EINVAL; /* not the minimal form */
		hdr = 2 + n;
	}
	if (len > left - hdr)
		return CS_EINVAL;
	*tag = p[0];
	if (contents != NULL) {
		contents->p = p + hdr;
		contents->len = len;
	}
	if (whole != NULL) {
		whole->p = p;
		whole->len = hdr + len;
	}
	in->p += hdr + len;
	in->len -= hdr + len;
	return 0;
}

int
cs_der_expect(struct cs_der *in, uint8_t tag, struct cs_der *contents,
    struct cs_der *whole)
{
	struct cs_der save = *in;
	uint8_t t;

	if (cs_der_next(in, &t, contents, whole) < 0)
		return CS_EINVAL;
	if (t != tag) {
		*in = save;
		return CS_EINVAL;
	}
	return 0;
}

bool
cs_der_peek(const struct cs_der *in, uint8_t tag)
{
	return in->len > 0 && in->p[0] == tag;
}

/* An AlgorithmIdentifier: SEQUENCE { OID, parameters ANY OPTIONAL }. */
static int
algorithm(struct cs_der *in, struct cs_der *whole, struct cs_der *oid,
    struct cs_der *params)
{
	struct cs_der seq, o;
	uint8_t t;

	if (cs_der_expect(in, CS_DER_SEQUENCE, &seq, whole) < 0 ||
	    cs_der_expect(&seq, CS_DER_OID, &o, NULL) < 0 || o.len == 0)
		return CS_EINVAL;
	if (oid != NULL)
		*oid = o;
	if (params != NULL) {
		params->p = seq.p;
		params->len = seq.len;
	}
	if (seq.len > 0 && cs_der_next(&seq, &t, NULL, NULL) < 0)
		return CS_EINVAL;
	return seq.len == 0 ? 0 : CS_EINVAL;
}

bool
cs_der_minimal_integer(struct cs_der c)
{
	if (c.len == 0)
		return false;
	if (c.len > 1 && ((c.p[0] == 0x00 && !(c.p[1] & 0x80)) ||
			     (c.p[0] == 0xff && (c.p[1] & 0x80))))
		return false;
	return true;
}

static int
fail(char *errmsg, const char *what)
{
	cs_errmsg_printf(errmsg, "bad DER: %s", what);
	return CS_EINVAL;
}

int
cs_der_cert_split(const uint8_t *der, size_t len, struct cs_der_cert *out,
    char *errmsg)
{
	struct cs_der in = {der, len}, cert, tbs, v, spki, sig;
	uint8_t t;

	memset(out, 0, sizeof *out);
	if (cs_der_expect(&in, CS_DER_SEQUENCE, &cert, NULL) < 0)
		return fail(errmsg, "not a certificate SEQUENCE");
	if (in.len != 0) {
		cs_errmsg_printf(errmsg, "%zu bytes of trailing data", in.len);
		return CS_EINVAL;
	}
	if (cs_der_expect(&cert, CS_DER_SEQUENCE, &tbs, &out->tbs) < 0)
		return fail(errmsg, "tbsCertificate");
	if (algorithm(&cert, &out->sigalg, NULL, NULL) < 0)
		return fail(errmsg, "signatureAlgorithm");
	if (cs_der_expect(&cert, CS_DER_BIT_STRING, &sig, NULL) < 0 ||
	    sig.len == 0 || cert.len != 0)
		return fail(errmsg, "signatureValue");
	out->signature = sig;

	out->version = 0;
	if (cs_der_peek(&tbs, CS_DER_CTX0)) {
		struct cs_der explicit;

		if (cs_der_expect(&tbs, CS_DER_CTX0, &explicit, NULL) < 0 ||
		    cs_der_expect(&explicit, CS_DER_INTEGER, &v, NULL) < 0 ||
		    explicit.len != 0 || v.len != 1 || v.p[0] > 2)
			return fail(errmsg, "version");
		out->version = v.p[0];
	}
	if (cs_der_expect(&tbs, CS_DER_INTEGER, &out->serial, NULL) < 0 ||
	    !cs_der_minimal_integer(out->serial))
		return fail(errmsg, "serialNumber");
	if (algorithm(&tbs, &out->tbs_sigalg, NULL, NULL) < 0)
		return fail(errmsg, "signature");
	if (cs_der_expect(&tbs, CS_DER_SEQUENCE, NULL, &out->issuer) < 0)
		return fail(errmsg, "issuer");
	{
		struct cs_der validity;

		if (cs_der_expect(&tbs, CS_DER_SEQUENCE, &validity, NULL) < 0 ||
		    cs_der_next(&validity, &t, NULL, &out->not_before) < 0 ||
		    cs_der_next(&validity, &t, NULL, &out->not_after) < 0 ||
		    validity.len != 0)
			return fail(errmsg, "validity");
	}
	if (cs_der_expect(&tbs, CS_DER_SEQUENCE, NULL, &out->subject) < 0)
		return fail(errmsg, "subject");
	if (cs_der_expect(&tbs, CS_DER_SEQUENCE, &spki, &out->spki) < 0 ||
	    algorithm(&spki, NULL, NULL, NULL) < 0 ||
	    cs_der_expect(&spki, CS_DER_BIT_STRING, &sig, NULL) < 0 ||
	    sig.len == 0 || spki.len != 0)
		return fail(errmsg, "subjectPublicKeyInfo");
	if (cs_der_peek(&tbs, CS_DER_CTX1) &&
	    cs_der_next(&tbs, &t, NULL, NULL) < 0)
		return fail(errmsg, "issuerUniqueID");
	if (cs_der_peek(&tbs, CS_DER_CTX2) &&
	    cs_der_next(&tbs, &t, NULL, NULL) < 0)
		return fail(errmsg, "subjectUniqueID");
	if (cs_der_peek(&tbs, CS_DER_CTX3)) {
		struct cs_der explicit;

		if (cs_der_expect(&tbs, CS_DER_CTX3, &explicit, NULL) < 0 ||
		    cs_der_expect(&explicit, CS_DER_SEQUENCE, NULL,
			&out->extensions) < 0 ||
		    explicit.len != 0)
			return fail(errmsg, "extensions");
	}
	if (tbs.len != 0)
		return fail(errmsg, "trailing data in tbsCertificate");
	return 0;
}

/* n decimal digits at p as a number, or -1 if one is not a digit. */
static int
digits(const uint8_t *p, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

bool
cs_der_time(struct cs_der tlv, int64_t *out)
{
	static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31};
	struct cs_der in = tlv, c;
	int year, mon, mday, hour, min, sec, days;
	uint8_t tag;

	if (cs_der_next(&in, &tag, &c, NULL) < 0 || in.len != 0)
		return false;
	if (tag == CS_DER_UTC_TIME && c.len == 13) {
		year = digits(c.p, 2);
		if (year < 0)
			return false;
		year += year < 50 ? 2000 : 1900; /* RFC 5280 4.1.2.5.1 */
	} else if (tag == CS_DER_GEN_TIME && c.len == 15) {
		year = digits(c.p, 4);
		if (year < 0)
			return false;
		c.p += 2; /* now lined up with the UTCTime form */
	} else {
		return false;
	}
	mon = digits(c.p + 2, 2);
	mday = digits(c.p + 4, 2);
	hour = digits(c.p + 6, 2);
	min = digits(c.p + 8, 2);
	sec = digits(c.p + 10, 2);
	if (c.p[12] != 'Z' || mon < 1 || mon > 12 || mday < 1 || hour < 0 ||
	    hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59)
		return false;
	days = mdays[mon - 1];
	if (mon == 2 && (year % 400 == 0 || (year % 100 != 0 && year % 4 == 0)))
		days++;
	if (mday > days)
		return false;
	*out = cs_time_from_utc(year, (unsigned)mon, (unsigned)mday,
	    (unsigned)hour, (unsigned)min, (unsigned)sec);
	return true;
}

/* Reads one DER TLV header: tag 0x30, definite length in minimal form.
 * Returns the total TLV size, or 0 with errmsg set. */
size_t
cs_der_seq_size(const uint8_t *in, size_t len, const char *what, char *errmsg)
{
	size_t content = 0;
	size_t hdr = 2;
	unsigned nlen;

	if (len < 2) {
		cs_errmsg_printf(errmsg, "%s: truncated (%zu bytes)", what,
		    len);
		return 0;
	}
	if (in[0] != 0x30) {
		cs_errmsg_printf(errmsg,
		    "%s: not DER (starts with 0x%02x, "
		    "not a SEQUENCE)",
		    what, in[0]);
		return 0;
	}
	if (in[1] < 0x80) {
		content = in[1];
	} else {
		nlen = in[1] & 0x7f;
		if (nlen == 0) {
			cs_errmsg_printf(errmsg,
			    "%s: indefinite length is not DER", what);
			return 0;
		}
		if (nlen > 4) {
			cs_errmsg_printf(errmsg,
			    "%s: length of %u bytes is too long", what, nlen);
			return 0;
		}
		if (len < 2 + nlen) {
			cs_errmsg_printf(errmsg, "%s: truncated (%zu bytes)",
			    what, len);
			return 0;
		}
		if (in[2] == 0 || (nlen == 1 && in[2] < 0x80)) {
			cs_errmsg_printf(errmsg,
			    "%s: length is not in minimal DER form", what);
			return 0;
		}
		for (unsigned i = 0; i < nlen; i++)
			content = content << 8 | in[2 + i];
		hdr += nlen;
	}
	return hdr + content;
}

int
cs_der_check(const uint8_t *in, size_t len, size_t max, const char *what,
    char *errmsg)
{
	size_t total;

	if (len == 0) {
		cs_errmsg_printf(errmsg, "%s: empty input", what);
		return CS_EINVAL;
	}
	if (len > max) {
		cs_errmsg_printf(errmsg, "%s: %zu bytes, at most %zu allowed",
		    what, len, max);
		return CS_ETOOBIG;
	}
	total = cs_der_seq_size(in, len, what, errmsg);
	if (total == 0)
		return CS_EINVAL;
	if (total > len) {
		cs_errmsg_printf(errmsg,
		    "%s: truncated (DER says %zu bytes, got %zu)", what, total,
		    len);
		return CS_EINVAL;
	}
	if (total < len) {
		cs_errmsg_printf(errmsg, "%s: %zu bytes of trailing data", what,
		    len - total);
		return CS_EINVAL;
	}
	return 0;
}

/* ---- public keys ---- */

static const uint8_t oid_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
    0x01, 0x01};
static const uint8_t oid_rsa_pss[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
    0x01, 0x0a};
static const uint8_t oid_ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_dsa[] = {0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01};
static const uint8_t oid_ed25519[] = {0x2b, 0x65, 0x70};
static const uint8_t oid_ed448[] = {0x2b, 0x65, 0x71};
static const uint8_t oid_p256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
    0x07};
static const uint8_t oid_p384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_p521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};

static bool
oid_is(struct cs_der o, const uint8_t *v, size_t n)
{
	return o.len == n && memcmp(o.p, v, n) == 0;
}
#define OID_IS(o, v) oid_is(o, v, sizeof v)

/* Significant bits of a non-negative INTEGER's contents. */
static int
integer_bits(struct cs_der c)
{
	while (c.len > 0 && c.p[0] == 0) {
		c.p++;
		c.len--;
	}
	if (c.len == 0 || c.len > 4096)
		return 0;
	{
		int bits = (int)c.len * 8;

		for (uint8_t top = c.p[0]; !(top & 0x80); top <<= 1)
			bits--;
		return bits;
	}
}

/* Named curves other than the NIST three: OpenSSL's short name and
 * degree (rare, so the slower lookup is fine). A curve OpenSSL does not
 * know is not an error: what it leaves in the error queue is dropped, or
 * the message of a later failure would name it instead of its own cause. */
static void
other_curve(struct cs_der params, int *bits, char curve[32])
{
	struct cs_der p = params, oid;
	ASN1_OBJECT *obj = NULL;
	const unsigned char *q;
	uint8_t t;
	int nid;

	if (cs_der_next(&p, &t, &oid, NULL) < 0 || t != CS_DER_OID)
		return; /* explicit parameters: unknown */
	q = params.p;
	obj = d2i_ASN1_OBJECT(NULL, &q, (long)(params.len - p.len));
	nid = obj != NULL ? OBJ_obj2nid(obj) : NID_undef;
	ASN1_OBJECT_free(obj);
	if (nid != NID_undef) {
		EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);

		snprintf(curve, 32, "%s", OBJ_nid2sn(nid));
		if (g != NULL)
			*bits = EC_GROUP_get_degree(g);
		EC_GROUP_free(g);
	}
	ERR_clear_error();
}

int
cs_der_spki_describe(struct cs_der spki, enum cs_key_type *type, int *bits,
    char curve[32])
{
	struct cs_der in = spki, seq, oid, params, key;

	*type = CS_KEY_UNKNOWN;
	*bits = 0;
	curve[0] = '\0';
	if (cs_der_expect(&in, CS_DER_SEQUENCE, &seq, NULL) < 0 ||
	    algorithm(&seq, NULL, &oid, &params) < 0 ||
	    cs_der_expect(&seq, CS_DER_BIT_STRING, &key, NULL) < 0 ||
	    key.len == 0 || key.p[0] != 0)
		return CS_EINVAL;
	key.p++; /* the unused-bits octet */
	key.len--;
	if (OID_IS(oid, oid_rsa) || OID_IS(oid, oid_rsa_pss)) {
		struct cs_der rsa, n;

		*type = CS_KEY_RSA;
		if (cs_der_expect(&key, CS_DER_SEQUENCE, &rsa, NULL) == 0 &&
		    cs_der_expect(&rsa, CS_DER_INTEGER, &n, NULL) == 0)
			*bits = integer_bits(n);
	} else if (OID_IS(oid, oid_ec)) {
		struct cs_der p = params, curve_oid;

		*type = CS_KEY_EC;
		if (cs_der_expect(&p, CS_DER_OID, &curve_oid, NULL) < 0) {
			return 0; /* explicit curve parameters */
		} else if (OID_IS(curve_oid, oid_p256)) {
			*bits = 256;
			strcpy(curve, "P-256");
		} else if (OID_IS(curve_oid, oid_p384)) {
			*bits = 384;
			strcpy(curve, "P-384");
		} else if (OID_IS(curve_oid, oid_p521)) {
			*bits = 521;
			strcpy(curve, "P-521");
		} else {
			other_curve(params, bits, curve);
		}
	} else if (OID_IS(oid, oid_ed25519)) {
		*type = CS_KEY_ED25519;
		*bits = 255;
	} else if (OID_IS(oid, oid_ed448)) {
		*type = CS_KEY_ED448;
		*bits = 448;
	} else if (OID_IS(oid, oid_dsa)) {
		struct cs_der p = params, dss, prime;

		*type = CS_KEY_DSA;
		if (cs_der_expect(&p, CS_DER_SEQUENCE, &dss, NULL) == 0 &&
		    cs_der_expect(&dss, CS_DER_INTEGER, &prime, NULL) == 0)
			*bits = integer_bits(prime);
	}
	return 0;
}
