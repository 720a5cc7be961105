/*
 * ext.c - the certificate extensions certstore reads, straight from their
 * DER, without OpenSSL's template decoders.
 *
 * Why: d2i_X509_EXTENSIONS() and one X509V3_get_d2i() per extension read
 * made some fifty small allocations per certificate; with the names moved
 * off OpenSSL (dn.c) they were most of cs_x509_parse_der()'s time, and
 * most of a node's malloc calls while it applied imports.
 *
 * Almost every certificate met in practice encodes its extensions in
 * plain DER, with GeneralNames of the four kinds certstore indexes. Those
 * are read here. Anything else makes cs_ext_fast() decline, and x509.c
 * decodes the whole list with OpenSSL as it always did:
 *   - BER forms OpenSSL tolerates (non-minimal lengths, constructed
 *     strings, explicit DEFAULT values, BOOLEANs other than 0xff, data
 *     after a value inside its OCTET STRING);
 *   - GeneralName kinds other than rfc822Name, dNSName, URI and
 *     iPAddress (their contents OpenSSL decodes and checks), and the
 *     parts of CRL DPs and AKIs that are made of them or of names;
 *   - the extensions x509.c only checks for decodability (name
 *     constraints, proxyCertInfo, issuingDistributionPoint);
 *   - empty lists, which DER allows but RFC 5280 does not;
 *   - every case x509.c refuses (duplicate extensions, strings that are
 *     not printable ASCII, IP addresses not of 4 or 16 bytes, more than
 *     CS_X509_MAX_SANS names, negative or non-minimal path lengths, key
 *     ids over 64 bytes, malformed OIDs), so the refusal and its message
 *     stay OpenSSL's path's.
 * The rule: take a certificate only when OpenSSL's path would take it and
 * give the same record; never refuse one. tests/unit/test_x509.c and
 * tests/fuzz/fuzz_x509.c compare the two paths field by field.
 *
 * Extensions this file does not know are skipped, critical or not: the
 * OpenSSL path never decodes them either.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "cert/der.h"
#include "cert/x509.h"
#include "lib/mem.h"

#define MAX_EXTS 64 /* more: OpenSSL's to read */

/* GeneralName tags (RFC 5280 4.2.1.6), IMPLICIT primitives. */
#define GN_EMAIL 0x81
#define GN_DNS   0x82
#define GN_URI   0x86
#define GN_IP    0x87

enum kind {
	K_BASIC,
	K_KEY_USAGE,
	K_EKU,
	K_SAN,
	K_SKI,
	K_AKI,
	K_CRL_DP,
	K_AIA,
	K_OPENSSL /* x509.c checks that it decodes: OpenSSL's to read */
};

#define OID(s) s, sizeof s - 1

/* Extension OIDs (DER contents) as OpenSSL's NIDs that x509.c asks for. */
static const struct {
	const char *oid;
	size_t len;
	enum kind kind;
} known[] = {
    {OID("\x55\x1d\x13"), K_BASIC},                       /* 2.5.29.19 */
    {OID("\x55\x1d\x0f"), K_KEY_USAGE},                   /* 2.5.29.15 */
    {OID("\x55\x1d\x25"), K_EKU},                         /* 2.5.29.37 */
    {OID("\x55\x1d\x11"), K_SAN},                         /* 2.5.29.17 */
    {OID("\x55\x1d\x0e"), K_SKI},                         /* 2.5.29.14 */
    {OID("\x55\x1d\x23"), K_AKI},                         /* 2.5.29.35 */
    {OID("\x55\x1d\x1f"), K_CRL_DP},                      /* 2.5.29.31 */
    {OID("\x2b\x06\x01\x05\x05\x07\x01\x01"), K_AIA},     /* id-pe 1 */
    {OID("\x55\x1d\x1e"), K_OPENSSL},                     /* 2.5.29.30 */
    {OID("\x2b\x06\x01\x05\x05\x07\x01\x0e"), K_OPENSSL}, /* id-pe 14 */
    {OID("\x55\x1d\x1c"), K_OPENSSL},                     /* 2.5.29.28 */
};

/* Key purposes by OBJ_nid2sn(), which x509.c's path prints; others go
 * through OpenSSL's OID table, as there. */
static const struct {
	const char *oid;
	size_t len;
	const char *sn;
} purposes[] = {
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x01"), "serverAuth"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x02"), "clientAuth"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x03"), "codeSigning"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x04"), "emailProtection"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x05"), "ipsecEndSystem"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x06"), "ipsecTunnel"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x07"), "ipsecUser"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x08"), "timeStamping"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x09"), "OCSPSigning"},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x11"), "ipsecIKE"},
    {OID("\x55\x1d\x25\x00"), "anyExtendedKeyUsage"},
};

static const char ad_ocsp[] = "\x2b\x06\x01\x05\x05\x07\x30\x01";
static const char ad_ca_issuers[] = "\x2b\x06\x01\x05\x05\x07\x30\x02";

static bool
oid_is(struct cs_der o, const char *v, size_t n)
{
	return o.len == n && memcmp(o.p, v, n) == 0;
}

/* What OpenSSL's c2i_ASN1_OBJECT() accepts: not empty, the last octet
 * ends a subidentifier, no subidentifier starts with 0x80. */
static bool
oid_valid(struct cs_der o)
{
	if (o.len == 0 || (o.p[o.len - 1] & 0x80) != 0)
		return false;
	for (size_t i = 0; i < o.len; i++)
		if (o.p[i] == 0x80 && (i == 0 || !(o.p[i - 1] & 0x80)))
			return false;
	return true;
}

/* v is exactly one TLV with tag; *c its contents. */
static bool
whole(struct cs_der v, uint8_t tag, struct cs_der *c)
{
	return cs_der_expect(&v, tag, c, NULL) == 0 && v.len == 0;
}

/* A non-empty SEQUENCE OF as the whole of v. */
static bool
list(struct cs_der v, struct cs_der *c)
{
	return whole(v, CS_DER_SEQUENCE, c) && c->len > 0;
}

/* As ia5_text() in x509.c accepts: printable ASCII. */
static bool
printable(struct cs_der s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < 0x20 || s.p[i] > 0x7e)
			return false;
	return true;
}

static char *
text(struct cs_der s)
{
	return cs_strndup(s.len > 0 ? (const char *)s.p : "", s.len);
}

/* The next GeneralName of *in when it is of a kind read here (its tag in
 * *tag, its contents in *value), with the IA5String kinds printable. */
static bool
general_name(struct cs_der *in, uint8_t *tag, struct cs_der *value)
{
	if (cs_der_next(in, tag, value, NULL) < 0)
		return false;
	switch (*tag) {
	case GN_EMAIL:
	case GN_DNS:
	case GN_URI:
		return printable(*value);
	case GN_IP:
		return true;
	default:
		return false;
	}
}

static bool
get_basic(struct cs_der v, struct cs_cert_info *ci)
{
	struct cs_der seq, b, n;
	bool has_n = false;

	if (!whole(v, CS_DER_SEQUENCE, &seq))
		return false;
	if (cs_der_peek(&seq, CS_DER_BOOLEAN)) {
		/* DEFAULT FALSE: DER leaves it out, and TRUE is 0xff */
		if (cs_der_expect(&seq, CS_DER_BOOLEAN, &b, NULL) < 0 ||
		    b.len != 1 || b.p[0] != 0xff)
			return false;
		ci->ca = true;
	}
	if (cs_der_peek(&seq, CS_DER_INTEGER)) {
		if (cs_der_expect(&seq, CS_DER_INTEGER, &n, NULL) < 0 ||
		    !cs_der_minimal_integer(n) || (n.p[0] & 0x80) != 0)
			return false; /* negative: x509.c refuses it */
		has_n = true;
	}
	if (seq.len != 0)
		return false;
	/* As x509.c: a path length only with cA, clamped to INT_MAX. */
	if (ci->ca && has_n) {
		uint32_t pl = 0;

		if (n.p[0] == 0) {
			n.p++;
			n.len--;
		}
		for (size_t i = 0; i < n.len && n.len <= 4; i++)
			pl = pl << 8 | n.p[i];
		ci->path_len = n.len > 4 || pl > INT_MAX ? INT_MAX : (int)pl;
	}
	return true;
}

static bool
get_key_usage(struct cs_der v, struct cs_cert_info *ci)
{
	struct cs_der b;
	unsigned unused;

	if (!whole(v, CS_DER_BIT_STRING, &b) || b.len == 0 || b.p[0] > 7)
		return false;
	unused = b.p[0];
	b.p++;
	b.len--;
	/* DER: the unused bits are zero, and there are none of no octets */
	if (b.len == 0 ? unused != 0
		       : (b.p[b.len - 1] & ((1u << unused) - 1)) != 0)
		return false;
	ci->has_key_usage = true;
	/* as X509_get_key_usage(): the first two octets, low one first */
	if (b.len > 0)
		ci->key_usage = b.p[0];
	if (b.len > 1)
		ci->key_usage |= (uint32_t)b.p[1] << 8;
	return true;
}

/* An OID missing from purposes[] named as x509.c's path names it, with
 * OpenSSL's table: its short name, or the dotted form. NULL on failure. */
static char *
purpose_openssl(struct cs_der tlv)
{
	const unsigned char *p = tlv.p;
	ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long)tlv.len);
	char *s = NULL;
	int nid, n;

	if (o == NULL || p != tlv.p + tlv.len)
		goto out;
	nid = OBJ_obj2nid(o);
	if (nid != NID_undef) {
		s = cs_strdup(OBJ_nid2sn(nid));
		goto out;
	}
	n = OBJ_obj2txt(NULL, 0, o, 1);
	if (n <= 0)
		goto out;
	s = cs_malloc((size_t)n + 1);
	OBJ_obj2txt(s, n + 1, o, 1);
out:
	ASN1_OBJECT_free(o);
	ERR_clear_error();
	return s;
}

static bool
get_eku(struct cs_der v, struct cs_strv *out)
{
	struct cs_der seq, oid, tlv;

	if (!list(v, &seq))
		return false;
	while (seq.len > 0) {
		char *s = NULL;

		if (cs_der_expect(&seq, CS_DER_OID, &oid, &tlv) < 0 ||
		    !oid_valid(oid))
			return false;
		for (size_t i = 0; i < sizeof purposes / sizeof purposes[0];
		     i++) {
			if (oid_is(oid, purposes[i].oid, purposes[i].len)) {
				s = cs_strdup(purposes[i].sn);
				break;
			}
		}
		if (s == NULL)
			s = purpose_openssl(tlv);
		if (s == NULL)
			return false;
		cs_strv_push(out, s);
	}
	return true;
}

/* As ip_text() in x509.c, without its refusals (left to it). */
static char *
ip_text(struct cs_der a)
{
	char buf[INET6_ADDRSTRLEN];
	int af = a.len == 4 ? AF_INET : AF_INET6;

	if ((a.len != 4 && a.len != 16) ||
	    inet_ntop(af, a.p, buf, sizeof buf) == NULL)
		return NULL;
	return cs_strdup(buf);
}

static bool
get_sans(struct cs_der v, struct cs_names *out)
{
	struct cs_der seq, value;
	size_t n = 0;
	uint8_t tag;

	if (!list(v, &seq))
		return false;
	while (seq.len > 0) {
		char *s;

		if (++n > CS_X509_MAX_SANS || !general_name(&seq, &tag, &value))
			return false;
		switch (tag) {
		case GN_DNS:
			cs_strv_push(&out->dns, text(value));
			break;
		case GN_URI:
			cs_strv_push(&out->uri, text(value));
			break;
		case GN_EMAIL:
			cs_strv_push(&out->email, text(value));
			break;
		default: /* GN_IP */
			s = ip_text(value);
			if (s == NULL)
				return false;
			cs_strv_push(&out->ip, s);
			break;
		}
	}
	return true;
}

static bool
get_key_id(struct cs_der id, uint8_t *dst, size_t size, size_t *len)
{
	if (id.len > size)
		return false;
	if (id.len > 0)
		memcpy(dst, id.p, id.len);
	*len = id.len;
	return true;
}

static bool
get_ski(struct cs_der v, struct cs_cert_info *ci)
{
	struct cs_der id;

	return whole(v, CS_DER_OCTET_STRING, &id) &&
	       get_key_id(id, ci->ski, sizeof ci->ski, &ci->ski_len);
}

/* keyIdentifier [0], and an authorityCertSerialNumber [2] checked as
 * OpenSSL checks INTEGERs; authorityCertIssuer [1] is OpenSSL's. */
static bool
get_aki(struct cs_der v, struct cs_cert_info *ci)
{
	struct cs_der seq, id, serial;

	if (!whole(v, CS_DER_SEQUENCE, &seq) || seq.len == 0)
		return false;
	if (cs_der_peek(&seq, 0x80) &&
	    (cs_der_expect(&seq, 0x80, &id, NULL) < 0 ||
		!get_key_id(id, ci->aki, sizeof ci->aki, &ci->aki_len)))
		return false;
	if (cs_der_peek(&seq, 0x82) &&
	    (cs_der_expect(&seq, 0x82, &serial, NULL) < 0 ||
		!cs_der_minimal_integer(serial)))
		return false;
	return seq.len == 0;
}

/* Each DistributionPoint must be a fullName and nothing else. */
static bool
get_crl_dp(struct cs_der v, struct cs_strv *out)
{
	struct cs_der seq, dp, dpn, names, value;
	uint8_t tag;

	if (!list(v, &seq))
		return false;
	while (seq.len > 0) {
		if (cs_der_expect(&seq, CS_DER_SEQUENCE, &dp, NULL) < 0 ||
		    !whole(dp, CS_DER_CTX0, &dpn) ||
		    !whole(dpn, CS_DER_CTX0, &names) || names.len == 0)
			return false;
		while (names.len > 0) {
			if (!general_name(&names, &tag, &value))
				return false;
			if (tag == GN_URI)
				cs_strv_push(out, text(value));
		}
	}
	return true;
}

static bool
get_aia(struct cs_der v, struct cs_strv *ocsp, struct cs_strv *ca_issuers)
{
	struct cs_der seq, ad, method, value;
	uint8_t tag;

	if (!list(v, &seq))
		return false;
	while (seq.len > 0) {
		if (cs_der_expect(&seq, CS_DER_SEQUENCE, &ad, NULL) < 0 ||
		    cs_der_expect(&ad, CS_DER_OID, &method, NULL) < 0 ||
		    !oid_valid(method) || !general_name(&ad, &tag, &value) ||
		    ad.len != 0)
			return false;
		if (tag != GN_URI)
			continue;
		if (oid_is(method, ad_ocsp, sizeof ad_ocsp - 1))
			cs_strv_push(ocsp, text(value));
		else if (oid_is(method, ad_ca_issuers,
			     sizeof ad_ca_issuers - 1))
			cs_strv_push(ca_issuers, text(value));
	}
	return true;
}

static bool
get_ext(enum kind kind, struct cs_der v, struct cs_cert_info *ci)
{
	switch (kind) {
	case K_BASIC:
		return get_basic(v, ci);
	case K_KEY_USAGE:
		return get_key_usage(v, ci);
	case K_EKU:
		return get_eku(v, &ci->eku);
	case K_SAN:
		return get_sans(v, &ci->sans);
	case K_SKI:
		return get_ski(v, ci);
	case K_AKI:
		return get_aki(v, ci);
	case K_CRL_DP:
		return get_crl_dp(v, &ci->crl_dp);
	case K_AIA:
		return get_aia(v, &ci->ocsp, &ci->ca_issuers);
	case K_OPENSSL:
	default:
		return false;
	}
}

static void
ext_fields_free(struct cs_cert_info *t)
{
	cs_names_free(&t->sans);
	cs_strv_free(&t->eku);
	cs_strv_free(&t->crl_dp);
	cs_strv_free(&t->ocsp);
	cs_strv_free(&t->ca_issuers);
}

/* The extension list: one Extension per entry, OIDs valid and distinct. */
static bool
read_list(struct cs_der in, struct cs_der oids[MAX_EXTS],
    struct cs_der values[MAX_EXTS], size_t *n)
{
	struct cs_der seq, ext, crit;

	*n = 0;
	if (!list(in, &seq))
		return false;
	while (seq.len > 0) {
		struct cs_der *oid = &oids[*n];

		if (*n == MAX_EXTS ||
		    cs_der_expect(&seq, CS_DER_SEQUENCE, &ext, NULL) < 0 ||
		    cs_der_expect(&ext, CS_DER_OID, oid, NULL) < 0 ||
		    !oid_valid(*oid))
			return false;
		/* critical BOOLEAN DEFAULT FALSE: DER leaves it out or says
		 * TRUE as 0xff. Whether it is set does not matter here: x509.c
		 * reads the same extensions either way. */
		if (cs_der_peek(&ext, CS_DER_BOOLEAN) &&
		    (cs_der_expect(&ext, CS_DER_BOOLEAN, &crit, NULL) < 0 ||
			crit.len != 1 || crit.p[0] != 0xff))
			return false;
		if (cs_der_expect(&ext, CS_DER_OCTET_STRING, &values[*n],
			NULL) < 0 ||
		    ext.len != 0)
			return false;
		for (size_t i = 0; i < *n; i++)
			if (oid_is(oids[i], (const char *)oid->p, oid->len))
				return false; /* a duplicate: x509.c refuses */
		(*n)++;
	}
	return true;
}

int
cs_ext_fast(const uint8_t *der, size_t len, struct cs_cert_info *ci)
{
	struct cs_der oids[MAX_EXTS], values[MAX_EXTS];
	struct cs_cert_info t;
	size_t n = 0;
	bool ok = true;

	memset(&t, 0, sizeof t);
	t.path_len = -1;
	if (len > 0) {
		struct cs_der in = {der, len};

		ok = read_list(in, oids, values, &n);
	}
	for (size_t i = 0; ok && i < n; i++) {
		for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
			if (oid_is(oids[i], known[k].oid, known[k].len)) {
				ok = get_ext(known[k].kind, values[i], &t);
				break;
			}
		}
	}
	if (!ok) {
		ext_fields_free(&t);
		return 0;
	}
	ci->ca = t.ca;
	ci->path_len = t.path_len;
	ci->has_key_usage = t.has_key_usage;
	ci->key_usage = t.key_usage;
	ci->sans = t.sans;
	ci->eku = t.eku;
	memcpy(ci->ski, t.ski, sizeof ci->ski);
	ci->ski_len = t.ski_len;
	memcpy(ci->aki, t.aki, sizeof ci->aki);
	ci->aki_len = t.aki_len;
	ci->crl_dp = t.crl_dp;
	ci->ocsp = t.ocsp;
	ci->ca_issuers = t.ca_issuers;
	return 1;
}
