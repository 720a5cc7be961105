/*
 * ocsp.c - OCSP requests read with the strict DER reader, responses
 * written with the DER writer (RFC 6960 section 4; nonce: RFC 8954).
 *
 * The parser runs once per HTTP request on the public, unauthenticated
 * OCSP endpoint, so it allocates nothing, builds no OpenSSL object and
 * hands back views of the caller's bytes. Strict DER with two
 * tolerances, both for values equal to a DEFAULT, which DER says to
 * leave out but which some encoders write anyway and which mean nothing
 * else: an explicit version v1 and an explicit critical FALSE.
 */
#include "cert/ocsp.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "cert/derw.h"
#include "cert/store.h"
#include "lib/error.h"

/* id-pkix-ocsp (1.3.6.1.5.5.7.48.1) arcs, as OBJECT IDENTIFIER contents */
#define OCSP_ARC  "\x2b\x06\x01\x05\x05\x07\x30\x01"
#define OID_BASIC CS_OID(OCSP_ARC "\x01")
#define OID_NONCE CS_OID(OCSP_ARC "\x02")

static const struct {
	const char *oid; /* OBJECT IDENTIFIER contents */
	size_t oid_len;
	size_t len; /* digest bytes */
	const char *name;
} hashes[CS_OCSP_HASH__MAX] = {
    [CS_OCSP_SHA1] = {"\x2b\x0e\x03\x02\x1a", 5, 20, "SHA-1"},
    [CS_OCSP_SHA256] = {"\x60\x86\x48\x01\x65\x03\x04\x02\x01", 9, 32,
	"SHA-256"},
    [CS_OCSP_SHA384] = {"\x60\x86\x48\x01\x65\x03\x04\x02\x02", 9, 48,
	"SHA-384"},
    [CS_OCSP_SHA512] = {"\x60\x86\x48\x01\x65\x03\x04\x02\x03", 9, 64,
	"SHA-512"},
};

size_t
cs_ocsp_hash_len(enum cs_ocsp_hash h)
{
	return (unsigned)h < CS_OCSP_HASH__MAX ? hashes[h].len : 0;
}

static const EVP_MD *
hash_md(enum cs_ocsp_hash h)
{
	switch (h) {
	case CS_OCSP_SHA1:
		return EVP_sha1();
	case CS_OCSP_SHA256:
		return EVP_sha256();
	case CS_OCSP_SHA384:
		return EVP_sha384();
	case CS_OCSP_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static bool
oid_eq(struct cs_der o, struct cs_oid want)
{
	return o.len == want.len && memcmp(o.p, want.der, o.len) == 0;
}

/* Dotted text of an OBJECT IDENTIFIER's contents, for messages. */
static void
oid_text(struct cs_der o, char *out, size_t size)
{
	size_t n = 0;
	uint64_t v = 0;
	bool first = true;
	int k;

	out[0] = '\0';
	for (size_t i = 0; i < o.len; i++) {
		if (v > (UINT64_MAX >> 7))
			goto bad;
		v = v << 7 | (o.p[i] & 0x7f);
		if (o.p[i] & 0x80)
			continue;
		if (first)
			k = snprintf(out + n, size - n, "%d.%llu",
			    v < 40   ? 0
			    : v < 80 ? 1
				     : 2,
			    (unsigned long long)(v < 80 ? v % 40 : v - 80));
		else
			k = snprintf(out + n, size - n, ".%llu",
			    (unsigned long long)v);
		if (k < 0 || (size_t)k >= size - n)
			return; /* truncated: good enough for a message */
		n += (size_t)k;
		first = false;
		v = 0;
	}
	if (!first && v == 0 && (o.p[o.len - 1] & 0x80) == 0)
		return;
bad:
	snprintf(out, size, "(malformed OID)");
}

/* A minimally encoded INTEGER's contents. */
static bool
minimal_integer(struct cs_der c)
{
	if (c.len == 0)
		return false;
	if (c.len > 1 && ((c.p[0] == 0x00 && !(c.p[1] & 0x80)) ||
			     (c.p[0] == 0xff && (c.p[1] & 0x80))))
		return false;
	return true;
}

/* The serial from an INTEGER's contents (two's complement). */
static int
serial_of(struct cs_der c, struct cs_serial *out)
{
	uint8_t mag[CS_SERIAL_MAX + 1];
	unsigned carry = 1;

	if (c.len > sizeof mag)
		return CS_ETOOBIG;
	if (!(c.p[0] & 0x80))
		return cs_serial_from_bytes(out, c.p, c.len, false);
	for (size_t i = c.len; i-- > 0;) {
		unsigned v = (uint8_t)~c.p[i] + carry;

		mag[i] = (uint8_t)v;
		carry = v >> 8;
	}
	return cs_serial_from_bytes(out, mag, c.len, true);
}

static int
bad(char *errmsg, const char *what)
{
	cs_errmsg_printf(errmsg, "OCSP request: %s", what);
	return CS_EINVAL;
}

/*
 * Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension, inside an EXPLICIT
 * tag (x is the tag's contents). With nonce non-NULL (requestExtensions)
 * the nonce is taken; every other extension is ignored unless critical.
 */
static int
extensions(struct cs_der x, struct cs_der *nonce, const char *where,
    char *errmsg)
{
	struct cs_der exts, e, oid, crit, val, inner;
	char text[64];

	if (cs_der_expect(&x, CS_DER_SEQUENCE, &exts, NULL) < 0 || x.len != 0) {
		cs_errmsg_printf(errmsg, "OCSP request: %s: not Extensions",
		    where);
		return CS_EINVAL;
	}
	if (exts.len == 0) {
		cs_errmsg_printf(errmsg, "OCSP request: %s: empty", where);
		return CS_EINVAL;
	}
	while (exts.len > 0) {
		bool critical = false;

		if (cs_der_expect(&exts, CS_DER_SEQUENCE, &e, NULL) < 0 ||
		    cs_der_expect(&e, CS_DER_OID, &oid, NULL) < 0 ||
		    oid.len == 0) {
			cs_errmsg_printf(errmsg,
			    "OCSP request: %s: malformed extension", where);
			return CS_EINVAL;
		}
		oid_text(oid, text, sizeof text);
		if (cs_der_peek(&e, CS_DER_BOOLEAN)) {
			if (cs_der_expect(&e, CS_DER_BOOLEAN, &crit, NULL) <
				0 ||
			    crit.len != 1 ||
			    (crit.p[0] != 0x00 && crit.p[0] != 0xff)) {
				cs_errmsg_printf(errmsg,
				    "OCSP request: %s: extension %s: "
				    "bad critical flag",
				    where, text);
				return CS_EINVAL;
			}
			critical = crit.p[0] == 0xff;
		}
		if (cs_der_expect(&e, CS_DER_OCTET_STRING, &val, NULL) < 0 ||
		    e.len != 0) {
			cs_errmsg_printf(errmsg,
			    "OCSP request: %s: extension %s: malformed", where,
			    text);
			return CS_EINVAL;
		}
		if (nonce != NULL && oid_eq(oid, OID_NONCE)) {
			/* RFC 8954: extnValue holds Nonce ::= OCTET STRING
			 * (SIZE(1..32)) */
			if (nonce->p != NULL) {
				cs_errmsg_printf(errmsg,
				    "OCSP request: two nonces");
				return CS_EINVAL;
			}
			if (cs_der_expect(&val, CS_DER_OCTET_STRING, &inner,
				NULL) < 0 ||
			    val.len != 0) {
				cs_errmsg_printf(errmsg,
				    "OCSP request: nonce is not an OCTET "
				    "STRING in the extension value");
				return CS_EINVAL;
			}
			if (inner.len == 0 || inner.len > CS_OCSP_MAX_NONCE) {
				cs_errmsg_printf(errmsg,
				    "OCSP request: nonce of %zu bytes "
				    "(1..%d allowed)",
				    inner.len, CS_OCSP_MAX_NONCE);
				return CS_EINVAL;
			}
			*nonce = inner;
			continue;
		}
		if (critical) {
			cs_errmsg_printf(errmsg,
			    "OCSP request: %s: unknown critical extension %s",
			    where, text);
			return CS_EINVAL;
		}
	}
	return 0;
}

/* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash,
 * serialNumber }. Messages without the "OCSP request" prefix: the caller
 * adds it with the request's position. */
static int
certid(struct cs_der *in, struct cs_ocsp_certid *id, char *errmsg)
{
	struct cs_der c, alg, oid, params, serial;
	char text[64];
	size_t hl;
	int h;
	uint8_t t;

	if (cs_der_expect(in, CS_DER_SEQUENCE, &c, &id->whole) < 0) {
		cs_errmsg_printf(errmsg, "reqCert is not a CertID");
		return CS_EINVAL;
	}
	if (cs_der_expect(&c, CS_DER_SEQUENCE, &alg, NULL) < 0 ||
	    cs_der_expect(&alg, CS_DER_OID, &oid, NULL) < 0) {
		cs_errmsg_printf(errmsg, "CertID: bad hashAlgorithm");
		return CS_EINVAL;
	}
	/* parameters: absent or NULL (RFC 5754 allows both) */
	if (alg.len > 0 &&
	    (cs_der_next(&alg, &t, &params, NULL) < 0 || t != CS_DER_NULL ||
		params.len != 0 || alg.len != 0)) {
		cs_errmsg_printf(errmsg, "CertID: hash parameters not NULL");
		return CS_EINVAL;
	}
	for (h = 0; h < CS_OCSP_HASH__MAX; h++)
		if (oid.len == hashes[h].oid_len &&
		    memcmp(oid.p, hashes[h].oid, oid.len) == 0)
			break;
	if (h == CS_OCSP_HASH__MAX) {
		oid_text(oid, text, sizeof text);
		cs_errmsg_printf(errmsg,
		    "CertID: hash algorithm %s (SHA-1, SHA-256, SHA-384 or "
		    "SHA-512 expected)",
		    text);
		return CS_EINVAL;
	}
	id->hash = (enum cs_ocsp_hash)h;
	hl = hashes[h].len;
	if (cs_der_expect(&c, CS_DER_OCTET_STRING, &id->name_hash, NULL) < 0 ||
	    cs_der_expect(&c, CS_DER_OCTET_STRING, &id->key_hash, NULL) < 0) {
		cs_errmsg_printf(errmsg, "CertID: bad issuer hashes");
		return CS_EINVAL;
	}
	if (id->name_hash.len != hl || id->key_hash.len != hl) {
		cs_errmsg_printf(errmsg,
		    "CertID: issuer hashes of %zu and %zu bytes for %s (%zu)",
		    id->name_hash.len, id->key_hash.len, hashes[h].name, hl);
		return CS_EINVAL;
	}
	if (cs_der_expect(&c, CS_DER_INTEGER, &serial, NULL) < 0 ||
	    !minimal_integer(serial)) {
		cs_errmsg_printf(errmsg, "CertID: bad serialNumber");
		return CS_EINVAL;
	}
	if (serial_of(serial, &id->serial) < 0) {
		cs_errmsg_printf(errmsg,
		    "CertID: serial of %zu bytes (at most %d)", serial.len,
		    CS_SERIAL_MAX);
		return CS_EINVAL;
	}
	if (c.len != 0) {
		cs_errmsg_printf(errmsg, "CertID: trailing data");
		return CS_EINVAL;
	}
	return 0;
}

/* optionalSignature [0] EXPLICIT Signature: Signature ::= SEQUENCE {
 * signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT OPTIONAL }.
 * Checked for shape only: its signature is not verified (ocsp.h). */
static int
signature(struct cs_der x, char *errmsg)
{
	struct cs_der sig;

	if (cs_der_expect(&x, CS_DER_SEQUENCE, &sig, NULL) < 0 || x.len != 0 ||
	    cs_der_expect(&sig, CS_DER_SEQUENCE, NULL, NULL) < 0 ||
	    cs_der_expect(&sig, CS_DER_BIT_STRING, NULL, NULL) < 0 ||
	    (cs_der_peek(&sig, CS_DER_CTX0) &&
		cs_der_expect(&sig, CS_DER_CTX0, NULL, NULL) < 0) ||
	    sig.len != 0)
		return bad(errmsg, "optionalSignature");
	return 0;
}

int
cs_ocsp_parse_request(const uint8_t *der, size_t len,
    struct cs_ocsp_request *out, char *errmsg)
{
	struct cs_ocsp_request r;
	struct cs_der in = {der, len}, req, tbs, list, one, x, v;
	int rc;

	rc =
	    cs_der_check(der, len, CS_OCSP_MAX_REQUEST, "OCSP request", errmsg);
	if (rc < 0)
		return rc;
	r.n = 0;
	r.nonce.p = NULL;
	r.nonce.len = 0;
	if (cs_der_expect(&in, CS_DER_SEQUENCE, &req, NULL) < 0)
		return bad(errmsg, "not an OCSPRequest");
	if (cs_der_expect(&req, CS_DER_SEQUENCE, &tbs, NULL) < 0)
		return bad(errmsg, "tbsRequest");
	if (req.len > 0) {
		if (cs_der_expect(&req, CS_DER_CTX0, &x, NULL) < 0 ||
		    req.len != 0)
			return bad(errmsg, "trailing data after tbsRequest");
		rc = signature(x, errmsg);
		if (rc < 0)
			return rc;
	}

	/* version [0] EXPLICIT Version DEFAULT v1 */
	if (cs_der_peek(&tbs, CS_DER_CTX0)) {
		if (cs_der_expect(&tbs, CS_DER_CTX0, &x, NULL) < 0 ||
		    cs_der_expect(&x, CS_DER_INTEGER, &v, NULL) < 0 ||
		    x.len != 0 || !minimal_integer(v))
			return bad(errmsg, "version");
		if (v.len != 1 || v.p[0] != 0)
			return bad(errmsg, "version is not v1");
	}
	/* requestorName [1] EXPLICIT GeneralName OPTIONAL: one TLV */
	if (cs_der_peek(&tbs, 0xa1)) {
		uint8_t t;

		if (cs_der_expect(&tbs, 0xa1, &x, NULL) < 0 ||
		    cs_der_next(&x, &t, NULL, NULL) < 0 || x.len != 0)
			return bad(errmsg, "requestorName");
	}
	if (cs_der_expect(&tbs, CS_DER_SEQUENCE, &list, NULL) < 0)
		return bad(errmsg, "requestList");
	if (cs_der_peek(&tbs, 0xa2)) {
		if (cs_der_expect(&tbs, 0xa2, &x, NULL) < 0)
			return bad(errmsg, "requestExtensions");
		rc = extensions(x, &r.nonce, "requestExtensions", errmsg);
		if (rc < 0)
			return rc;
	}
	if (tbs.len != 0)
		return bad(errmsg, "trailing data in tbsRequest");

	/* Request ::= SEQUENCE { reqCert CertID,
	 *   singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL } */
	while (list.len > 0) {
		if (r.n == CS_OCSP_MAX_IDS) {
			cs_errmsg_printf(errmsg,
			    "OCSP request: more than %d CertIDs",
			    CS_OCSP_MAX_IDS);
			return CS_ETOOBIG;
		}
		if (cs_der_expect(&list, CS_DER_SEQUENCE, &one, NULL) < 0)
			return bad(errmsg, "Request");
		rc = certid(&one, &r.ids[r.n], errmsg);
		if (rc < 0) {
			cs_errmsg_wrapf(errmsg, "OCSP request: Request %zu",
			    r.n + 1);
			return rc;
		}
		if (cs_der_peek(&one, CS_DER_CTX0)) {
			if (cs_der_expect(&one, CS_DER_CTX0, &x, NULL) < 0)
				return bad(errmsg, "singleRequestExtensions");
			rc = extensions(x, NULL, "singleRequestExtensions",
			    errmsg);
			if (rc < 0)
				return rc;
		}
		if (one.len != 0)
			return bad(errmsg, "trailing data in Request");
		r.n++;
	}
	if (r.n == 0)
		return bad(errmsg, "no CertID in requestList");
	*out = r;
	return 0;
}

/* The subjectPublicKey bits of an SPKI: the BIT STRING's contents after
 * the unused-bits octet, which must be 0. */
static int
key_bits(const uint8_t *spki, size_t len, struct cs_der *bits)
{
	struct cs_der in = {spki, len}, seq;

	if (spki == NULL ||
	    cs_der_expect(&in, CS_DER_SEQUENCE, &seq, NULL) < 0 ||
	    in.len != 0 ||
	    cs_der_expect(&seq, CS_DER_SEQUENCE, NULL, NULL) < 0 ||
	    cs_der_expect(&seq, CS_DER_BIT_STRING, bits, NULL) < 0 ||
	    seq.len != 0 || bits->len == 0 || bits->p[0] != 0)
		return CS_EINVAL;
	bits->p++;
	bits->len--;
	return 0;
}

int
cs_ocsp_issuer_hashes(enum cs_ocsp_hash h, const uint8_t *name_der,
    size_t name_len, const uint8_t *spki, size_t spki_len,
    uint8_t name_hash[CS_OCSP_HASH_MAX], uint8_t key_hash[CS_OCSP_HASH_MAX])
{
	const EVP_MD *md = hash_md(h);
	struct cs_der bits;

	if (md == NULL || name_der == NULL || name_len == 0 ||
	    key_bits(spki, spki_len, &bits) < 0)
		return CS_EINVAL;
	if (EVP_Digest(name_der, name_len, name_hash, NULL, md, NULL) != 1 ||
	    EVP_Digest(bits.p, bits.len, key_hash, NULL, md, NULL) != 1)
		return CS_ECRYPTO;
	return 0;
}

/* ---- responses ---- */

static bool
time_ok(int64_t t)
{
	return t >= -62167219200 && t <= 253402300799; /* years 0..9999 */
}

static bool
one_tlv(const uint8_t *p, size_t len)
{
	struct cs_der in = {p, len};

	return p != NULL &&
	       cs_der_expect(&in, CS_DER_SEQUENCE, NULL, NULL) == 0 &&
	       in.len == 0;
}

static int
check_response(const struct cs_ocsp_response *r, char *errmsg)
{
	if (r->n == 0 || r->singles == NULL) {
		cs_errmsg_printf(errmsg, "OCSP response: no SingleResponse");
		return CS_EINVAL;
	}
	if (!time_ok(r->produced_at)) {
		cs_errmsg_printf(errmsg, "OCSP response: producedAt");
		return CS_EINVAL;
	}
	if (r->nonce != NULL && r->nonce_len > CS_OCSP_MAX_NONCE) {
		cs_errmsg_printf(errmsg, "OCSP response: nonce of %zu bytes",
		    r->nonce_len);
		return CS_EINVAL;
	}
	if (r->signer_cert != NULL &&
	    !one_tlv(r->signer_cert, r->signer_cert_len)) {
		cs_errmsg_printf(errmsg,
		    "OCSP response: responder certificate is not DER");
		return CS_EINVAL;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct cs_ocsp_single *s = &r->singles[i];
		const char *what = NULL;

		if (!one_tlv(s->certid.p, s->certid.len))
			what = "CertID is not one DER SEQUENCE";
		else if ((unsigned)s->status > CS_OCSP_UNKNOWN)
			what = "bad status";
		else if (s->status == CS_OCSP_REVOKED &&
			 (!time_ok(s->revoked_at) || s->reason < -1 ||
			     s->reason >= CS_REASON__MAX || s->reason == 7))
			what = "bad revocation time or reason";
		else if (!time_ok(s->this_update) ||
			 (s->next_update != 0 &&
			     (!time_ok(s->next_update) ||
				 s->next_update <= s->this_update)))
			what = "bad thisUpdate or nextUpdate";
		if (what != NULL) {
			cs_errmsg_printf(errmsg,
			    "OCSP response: SingleResponse %zu: %s", i + 1,
			    what);
			return CS_EINVAL;
		}
	}
	return 0;
}

static void
single(struct cs_derw *w, const struct cs_ocsp_single *s)
{
	size_t seq, m, m2;

	seq = cs_derw_begin(w, CS_DER_SEQUENCE);
	cs_derw_raw(w, s->certid.p, s->certid.len);
	switch (s->status) {
	case CS_OCSP_GOOD:
		cs_derw_tlv(w, 0x80, NULL, 0); /* [0] IMPLICIT NULL */
		break;
	case CS_OCSP_REVOKED:
		m = cs_derw_begin(w, 0xa1); /* [1] IMPLICIT RevokedInfo */
		cs_derw_gentime(w, s->revoked_at);
		if (s->reason >= 0) {
			m2 = cs_derw_begin(w, CS_DER_CTX0);
			cs_derw_enum(w, (uint8_t)s->reason);
			cs_derw_end(w, m2);
		}
		cs_derw_end(w, m);
		break;
	case CS_OCSP_UNKNOWN:
		cs_derw_tlv(w, 0x82, NULL, 0); /* [2] IMPLICIT NULL */
		break;
	}
	cs_derw_gentime(w, s->this_update);
	if (s->next_update != 0) {
		m = cs_derw_begin(w, CS_DER_CTX0);
		cs_derw_gentime(w, s->next_update);
		cs_derw_end(w, m);
	}
	cs_derw_end(w, seq);
}

int
cs_ocsp_build(const struct cs_ocsp_response *r, const struct cs_signer *signer,
    struct cs_buf *out, char *errmsg)
{
	uint8_t key_hash[20];
	struct cs_derw w;
	struct cs_der bits;
	size_t start = out->len;
	size_t outer, rb, seq, os, basic, tbs, m, m2, m3;
	int rc;

	rc = check_response(r, errmsg);
	if (rc < 0)
		return rc;
	/* ResponderID byKey: SHA-1 of the responder's subjectPublicKey
	 * bits, as for issuerKeyHash */
	if (key_bits(signer->spki, signer->spki_len, &bits) < 0 ||
	    EVP_Digest(bits.p, bits.len, key_hash, NULL, EVP_sha1(), NULL) !=
		1) {
		cs_errmsg_printf(errmsg, "OCSP response: responder key hash");
		return CS_ECRYPTO;
	}

	cs_derw_init(&w, out);
	outer = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_enum(&w, 0); /* successful */
	rb = cs_derw_begin(&w, CS_DER_CTX0);
	seq = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_oid(&w, OID_BASIC);
	os = cs_derw_begin(&w, CS_DER_OCTET_STRING);
	basic = cs_derw_begin(&w, CS_DER_SEQUENCE);

	tbs = cs_derw_begin(&w, CS_DER_SEQUENCE);
	/* version v1 is the DEFAULT: left out */
	m = cs_derw_begin(&w, 0xa2);
	cs_derw_octets(&w, key_hash, sizeof key_hash);
	cs_derw_end(&w, m);
	cs_derw_gentime(&w, r->produced_at);
	m = cs_derw_begin(&w, CS_DER_SEQUENCE);
	for (size_t i = 0; i < r->n; i++)
		single(&w, &r->singles[i]);
	cs_derw_end(&w, m);
	if (r->nonce != NULL && r->nonce_len > 0) {
		m = cs_derw_begin(&w, 0xa1); /* responseExtensions */
		m2 = cs_derw_begin(&w, CS_DER_SEQUENCE);
		m3 = cs_derw_begin(&w, CS_DER_SEQUENCE);
		cs_derw_oid(&w, OID_NONCE);
		{
			size_t v = cs_derw_begin(&w, CS_DER_OCTET_STRING);

			cs_derw_octets(&w, r->nonce, r->nonce_len);
			cs_derw_end(&w, v);
		}
		cs_derw_end(&w, m3);
		cs_derw_end(&w, m2);
		cs_derw_end(&w, m);
	}
	cs_derw_end(&w, tbs);
	rc = cs_signer_append(signer, &w, tbs, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "OCSP response");
		goto fail;
	}
	if (r->signer_cert != NULL) {
		m = cs_derw_begin(&w, CS_DER_CTX0);
		m2 = cs_derw_begin(&w, CS_DER_SEQUENCE);
		cs_derw_raw(&w, r->signer_cert, r->signer_cert_len);
		cs_derw_end(&w, m2);
		cs_derw_end(&w, m);
	}
	cs_derw_end(&w, basic);
	cs_derw_end(&w, os);
	cs_derw_end(&w, seq);
	cs_derw_end(&w, rb);
	cs_derw_end(&w, outer);
	if (w.err != 0) {
		rc = w.err;
		cs_errmsg_printf(errmsg, "OCSP response: %s", cs_strerror(rc));
		goto fail;
	}
	return 0;
fail:
	cs_buf_truncate(out, start); /* nothing appended on error */
	return rc;
}

const uint8_t *
cs_ocsp_error(enum cs_ocsp_error_status st, size_t *len)
{
	/* OCSPResponse { responseStatus ENUMERATED } without responseBytes */
	static const uint8_t resp[][5] = {
	    [CS_OCSP_MALFORMED] = {0x30, 0x03, 0x0a, 0x01, 0x01},
	    [CS_OCSP_INTERNAL] = {0x30, 0x03, 0x0a, 0x01, 0x02},
	    [CS_OCSP_TRY_LATER] = {0x30, 0x03, 0x0a, 0x01, 0x03},
	    [CS_OCSP_SIG_REQUIRED] = {0x30, 0x03, 0x0a, 0x01, 0x05},
	    [CS_OCSP_UNAUTHORIZED] = {0x30, 0x03, 0x0a, 0x01, 0x06},
	};

	if ((unsigned)st >= sizeof resp / sizeof resp[0] || resp[st][0] == 0) {
		*len = 0;
		return NULL;
	}
	*len = sizeof resp[st];
	return resp[st];
}
