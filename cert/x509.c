/*
 * x509.c - X.509 certificates to struct cs_cert_info, and the PEM, DER and
 * name helpers that csr.c shares (declared at the end of x509.h).
 *
 * Strictness is deliberate: certstore indexes what it parses, so a field
 * it cannot represent faithfully (a serial over 32 bytes, a SAN with a
 * control character, a name that is not UTF-8, extensions OpenSSL marks
 * invalid) rejects the certificate instead of storing a guess.
 */
#include "cert/x509.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/der.h"
#include "cert/pem.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "lib/text.h"

/* `openssl x509 -nameopt RFC2253,-esc_msb`: the CLI starts from no flags,
 * adds XN_FLAG_RFC2253 and removes ESC_MSB, so UTF-8 comes out raw while
 * RFC 4514 specials and control characters stay escaped. */
#define NAME_FLAGS (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

static const char *const key_type_names[CS_KEY__MAX] = {
    [CS_KEY_UNKNOWN] = "unknown",
    [CS_KEY_RSA] = "rsa",
    [CS_KEY_EC] = "ec",
    [CS_KEY_ED25519] = "ed25519",
    [CS_KEY_ED448] = "ed448",
    [CS_KEY_DSA] = "dsa",
};

const char *
cs_key_type_name(enum cs_key_type t)
{
	if ((int)t < 0 || t >= CS_KEY__MAX)
		return "unknown";
	return key_type_names[t];
}

int
cs_key_type_parse(const char *name, enum cs_key_type *out)
{
	for (int t = 0; t < CS_KEY__MAX; t++) {
		if (strcmp(name, key_type_names[t]) == 0) {
			*out = (enum cs_key_type)t;
			return 0;
		}
	}
	return CS_EINVAL;
}

void
cs_x509__crypto_errmsg(char *errmsg, const char *context)
{
	const char *reason = NULL;
	const char *data = NULL;
	const char *d;
	unsigned long e;
	int flags;
	char buf[CS_ERRMSG_SIZE];

	/* The first error is the root cause ("wrong tag"); later ones add
	 * where it happened ("Field=serialNumber"). Copy before clearing:
	 * the strings belong to the queue. */
	buf[0] = '\0';
	for (;;) {
		e = ERR_get_error_all(NULL, NULL, NULL, &d, &flags);
		if (e == 0)
			break;
		if (reason == NULL)
			reason = ERR_reason_error_string(e);
		if (data == NULL && (flags & ERR_TXT_STRING) != 0 &&
		    d != NULL && d[0] != '\0') {
			snprintf(buf, sizeof buf, "%s", d);
			data = buf;
		}
	}
	if (reason == NULL)
		cs_errmsg_printf(errmsg, "%s", context);
	else if (data == NULL)
		cs_errmsg_printf(errmsg, "%s: %s", context, reason);
	else
		cs_errmsg_printf(errmsg, "%s: %s (%s)", context, reason, data);
	ERR_clear_error();
}

/* ---- strings, lists and names ---- */

void
cs_strv_push(struct cs_strv *v, char *s)
{
	v->v = cs_reallocarray(v->v, v->n + 1, sizeof *v->v);
	v->v[v->n++] = s;
}

void
cs_strv_free(struct cs_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

void
cs_names_free(struct cs_names *n)
{
	cs_strv_free(&n->dns);
	cs_strv_free(&n->ip);
	cs_strv_free(&n->uri);
	cs_strv_free(&n->email);
}

size_t
cs_names_count(const struct cs_names *n)
{
	return n->dns.n + n->ip.n + n->uri.n + n->email.n;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
 * A BMPString holding a lone surrogate prints as one, so this matters. */
static bool
utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += k + 1;
	}
	return true;
}

int
cs_x509__name_text(const X509_NAME *name, char **out, char *errmsg)
{
	BIO *bio = NULL;
	char *p = NULL;
	long n;
	int rc = CS_EINVAL;

	bio = BIO_new(BIO_s_mem());
	if (bio == NULL) {
		cs_x509__crypto_errmsg(errmsg, "name");
		rc = CS_ENOMEM;
		goto out;
	}
	if (X509_NAME_print_ex(bio, name, 0, NAME_FLAGS) < 0) {
		cs_x509__crypto_errmsg(errmsg, "name: does not print");
		goto out;
	}
	n = BIO_get_mem_data(bio, &p);
	if (n < 0 || (n > 0 && p == NULL)) {
		cs_errmsg_printf(errmsg, "name: does not print");
		goto out;
	}
	/* ESC_CTRL turns NUL into "\00", so a NUL here is a bug upstream;
	 * checked anyway because callers treat the result as a C string. An
	 * empty name leaves p NULL, which memchr() must not see. */
	if (n > 0 && (memchr(p, '\0', (size_t)n) != NULL ||
			 !utf8_valid((const uint8_t *)p, (size_t)n))) {
		cs_errmsg_printf(errmsg, "name: not valid UTF-8");
		goto out;
	}
	*out = cs_strndup(n > 0 ? p : "", (size_t)n);
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

/* An IA5String from a certificate as a C string. Printable ASCII only:
 * NUL would truncate the name (the classic "a.com\0.evil.com" trick) and
 * control characters have no business in DNS names, URIs or addresses. */
static int
ia5_text(const ASN1_IA5STRING *s, const char *what, char **out, char *errmsg)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);

	for (int i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e) {
			cs_errmsg_printf(errmsg,
			    "%s: byte 0x%02x at offset %d is not printable "
			    "ASCII",
			    what, p[i], i);
			return CS_EINVAL;
		}
	}
	*out = cs_strndup(n > 0 ? (const char *)p : "", (size_t)n);
	return 0;
}

static int
ip_text(const ASN1_OCTET_STRING *s, char **out, char *errmsg)
{
	char buf[INET6_ADDRSTRLEN];
	int n = ASN1_STRING_length(s);
	int af;

	if (n == 4) {
		af = AF_INET;
	} else if (n == 16) {
		af = AF_INET6;
	} else {
		cs_errmsg_printf(errmsg, "SAN IP address of %d bytes", n);
		return CS_EINVAL;
	}
	if (inet_ntop(af, ASN1_STRING_get0_data(s), buf, sizeof buf) == NULL) {
		cs_errmsg_printf(errmsg, "SAN IP address does not format");
		return CS_EINVAL;
	}
	*out = cs_strdup(buf);
	return 0;
}

int
cs_x509__names_add(struct cs_names *out, const GENERAL_NAMES *gens,
    char *errmsg)
{
	int n = sk_GENERAL_NAME_num(gens);

	if (n > CS_X509_MAX_SANS) {
		cs_errmsg_printf(errmsg,
		    "%d subject alternative names, at "
		    "most %d allowed",
		    n, CS_X509_MAX_SANS);
		return CS_ETOOBIG;
	}
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char *s = NULL;
		int rc = 0;

		switch (g->type) {
		case GEN_DNS:
			rc = ia5_text(g->d.dNSName, "SAN DNS name", &s, errmsg);
			if (rc == 0)
				cs_strv_push(&out->dns, s);
			break;
		case GEN_IPADD:
			rc = ip_text(g->d.iPAddress, &s, errmsg);
			if (rc == 0)
				cs_strv_push(&out->ip, s);
			break;
		case GEN_URI:
			rc = ia5_text(g->d.uniformResourceIdentifier, "SAN URI",
			    &s, errmsg);
			if (rc == 0)
				cs_strv_push(&out->uri, s);
			break;
		case GEN_EMAIL:
			rc =
			    ia5_text(g->d.rfc822Name, "SAN e-mail", &s, errmsg);
			if (rc == 0)
				cs_strv_push(&out->email, s);
			break;
		default:
			break; /* otherName, dirName, ...: not indexed */
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- keys ---- */

void
cs_x509__key_describe(const EVP_PKEY *pkey, enum cs_key_type *type, int *bits,
    char curve[32])
{
	char group[64];
	EC_GROUP *g = NULL;
	const char *nist, *name;
	size_t k;
	int nid;

	*type = CS_KEY_UNKNOWN;
	*bits = 0;
	curve[0] = '\0';
	if (pkey == NULL)
		return;
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		*type = CS_KEY_RSA;
		*bits = EVP_PKEY_get_bits(pkey);
		break;
	case EVP_PKEY_DSA:
		*type = CS_KEY_DSA;
		*bits = EVP_PKEY_get_bits(pkey);
		break;
	case EVP_PKEY_ED25519:
		*type = CS_KEY_ED25519;
		*bits = 255; /* OpenSSL says 253 (security bits) */
		break;
	case EVP_PKEY_ED448:
		*type = CS_KEY_ED448;
		*bits = 448; /* OpenSSL says 456 */
		break;
	case EVP_PKEY_EC:
		*type = CS_KEY_EC;
		/* EVP_PKEY_get_bits() is the order's size; the field's is
		 * what curve names mean (secp224k1 has a 225-bit order). */
		*bits = EVP_PKEY_get_bits(pkey);
		if (EVP_PKEY_get_group_name(pkey, group, sizeof group, NULL) !=
		    1)
			break; /* explicit parameters: no name */
		nid = OBJ_sn2nid(group);
		if (nid == NID_undef)
			nid = OBJ_ln2nid(group);
		if (nid == NID_undef)
			break;
		nist = EC_curve_nid2nist(nid);
		name = nist != NULL ? nist : OBJ_nid2sn(nid);
		k = strnlen(name, 31); /* curve SNs are far shorter */
		memcpy(curve, name, k);
		curve[k] = '\0';
		g = EC_GROUP_new_by_curve_name(nid);
		if (g != NULL)
			*bits = EC_GROUP_get_degree(g);
		EC_GROUP_free(g);
		break;
	default:
		break;
	}
	ERR_clear_error(); /* "unknown" is an answer, not an error */
}

int
cs_x509__spki(const X509_PUBKEY *pub, uint8_t **der, size_t *len,
    uint8_t key_id[CS_SHA256_LEN], char *errmsg)
{
	unsigned char *p = NULL;
	int n;
	int rc = CS_ECRYPTO;

	n = i2d_X509_PUBKEY(pub, &p);
	if (n <= 0) {
		cs_x509__crypto_errmsg(errmsg, "public key: does not encode");
		goto out;
	}
	if (EVP_Digest(p, (size_t)n, key_id, NULL, EVP_sha256(), NULL) != 1) {
		cs_x509__crypto_errmsg(errmsg, "public key: SHA-256");
		goto out;
	}
	if (der != NULL) {
		*der = cs_memdup(p, (size_t)n);
		*len = (size_t)n;
	}
	rc = 0;
out:
	OPENSSL_free(p);
	return rc;
}

char *
cs_x509_der_to_pem(const uint8_t *der, size_t len)
{
	return cs_pem_encode("CERTIFICATE", der, len);
}

/* ---- certificate fields ---- */

static int
time_unix(const ASN1_TIME *t, const char *what, int64_t *out, char *errmsg)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (ASN1_TIME_to_tm(t, &tm) != 1) {
		cs_x509__crypto_errmsg(errmsg, what);
		return CS_EINVAL;
	}
	*out = cs_time_from_utc((int64_t)tm.tm_year + 1900,
	    (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday, (unsigned)tm.tm_hour,
	    (unsigned)tm.tm_min, (unsigned)tm.tm_sec);
	return 0;
}

/* The certificate's extensions, decoded one at a time from the list by
 * OpenSSL's template decoders (cheap), never through an X509 object
 * (whose public key decoding is the expensive part: cert/der.h). */
typedef STACK_OF(X509_EXTENSION) exts_t;

/* X509V3_get_d2i() with its three outcomes told apart: present (the
 * decoded extension), absent (NULL, *rc 0), and malformed or repeated
 * (NULL, *rc CS_EINVAL). */
static void *
ext_d2i(const exts_t *exts, int nid, int *rc, char *errmsg)
{
	void *ext;
	int crit = -1;

	*rc = 0;
	ext = X509V3_get_d2i(exts, nid, &crit, NULL);
	if (ext != NULL || crit == -1)
		return ext;
	if (crit == -2)
		cs_errmsg_printf(errmsg, "extension %s appears more than once",
		    OBJ_nid2sn(nid));
	else
		cs_x509__crypto_errmsg(errmsg, OBJ_nid2sn(nid));
	*rc = CS_EINVAL;
	return NULL;
}

/* RFC 5280 4.2: "A certificate MUST NOT include more than one instance of
 * a particular extension." OpenSSL marks such certificates invalid
 * (EXFLAG_INVALID) for the extensions it knows; this checks them all. */
static int
check_unique(const exts_t *exts, char *errmsg)
{
	int n = sk_X509_EXTENSION_num(exts);

	for (int i = 0; i < n; i++) {
		const ASN1_OBJECT *a =
		    X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i));

		for (int j = i + 1; j < n; j++) {
			const ASN1_OBJECT *b = X509_EXTENSION_get_object(
			    sk_X509_EXTENSION_value(exts, j));

			if (OBJ_cmp(a, b) == 0) {
				char oid[80];

				OBJ_obj2txt(oid, sizeof oid, a, 0);
				cs_errmsg_printf(errmsg,
				    "extension %s appears more than "
				    "once",
				    oid);
				return CS_EINVAL;
			}
		}
	}
	return 0;
}

static int
copy_keyid(const ASN1_OCTET_STRING *id, const char *what, uint8_t *dst,
    size_t size, size_t *len, char *errmsg)
{
	int n;

	*len = 0;
	if (id == NULL)
		return 0;
	n = ASN1_STRING_length(id);
	if (n < 0 || (size_t)n > size) {
		cs_errmsg_printf(errmsg, "%s of %d bytes, at most %zu kept",
		    what, n, size);
		return CS_EINVAL;
	}
	if (n > 0)
		memcpy(dst, ASN1_STRING_get0_data(id), (size_t)n);
	*len = (size_t)n;
	return 0;
}

static int
get_key_ids(const exts_t *exts, struct cs_cert_info *ci, char *errmsg)
{
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *aki = NULL;
	int rc;

	ski = ext_d2i(exts, NID_subject_key_identifier, &rc, errmsg);
	if (rc == 0)
		rc = copy_keyid(ski, "subjectKeyIdentifier", ci->ski,
		    sizeof ci->ski, &ci->ski_len, errmsg);
	if (rc == 0)
		aki = ext_d2i(exts, NID_authority_key_identifier, &rc, errmsg);
	if (rc == 0 && aki != NULL)
		rc = copy_keyid(aki->keyid, "authorityKeyIdentifier", ci->aki,
		    sizeof ci->aki, &ci->aki_len, errmsg);
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(aki);
	return rc;
}

static int
get_key_usage(const exts_t *exts, struct cs_cert_info *ci, char *errmsg)
{
	ASN1_BIT_STRING *ku = NULL;
	int rc;

	ku = ext_d2i(exts, NID_key_usage, &rc, errmsg);
	ci->has_key_usage = ku != NULL;
	ci->key_usage = 0;
	/* as X509_get_key_usage(): the first two octets, low one first */
	if (ku != NULL && ASN1_STRING_length(ku) > 0) {
		const unsigned char *d = ASN1_STRING_get0_data(ku);

		ci->key_usage = d[0];
		if (ASN1_STRING_length(ku) > 1)
			ci->key_usage |= (uint32_t)d[1] << 8;
	}
	ASN1_BIT_STRING_free(ku);
	return rc;
}

static int
get_eku(const exts_t *exts, struct cs_strv *out, char *errmsg)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	int rc;

	eku = ext_d2i(exts, NID_ext_key_usage, &rc, errmsg);
	for (int i = 0; rc == 0 && i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(o);
		int n;
		char *s;

		if (nid != NID_undef) {
			cs_strv_push(out, cs_strdup(OBJ_nid2sn(nid)));
			continue;
		}
		n = OBJ_obj2txt(NULL, 0, o, 1);
		if (n <= 0) {
			cs_x509__crypto_errmsg(errmsg, "extendedKeyUsage");
			rc = CS_EINVAL;
			break;
		}
		s = cs_malloc((size_t)n + 1);
		OBJ_obj2txt(s, n + 1, o, 1);
		cs_strv_push(out, s);
	}
	EXTENDED_KEY_USAGE_free(eku);
	return rc;
}

/* Collects the URIs of a GENERAL_NAMES: CRL DP and AIA locations. */
static int
push_uri(struct cs_strv *out, const GENERAL_NAME *g, const char *what,
    char *errmsg)
{
	char *s = NULL;
	int rc;

	if (g->type != GEN_URI)
		return 0;
	rc = ia5_text(g->d.uniformResourceIdentifier, what, &s, errmsg);
	if (rc == 0)
		cs_strv_push(out, s);
	return rc;
}

static int
get_crl_dp(const exts_t *exts, struct cs_strv *out, char *errmsg)
{
	CRL_DIST_POINTS *dps = NULL;
	int rc;

	dps = ext_d2i(exts, NID_crl_distribution_points, &rc, errmsg);
	for (int i = 0; rc == 0 && i < sk_DIST_POINT_num(dps); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		const GENERAL_NAMES *full;

		/* Only fullName carries URIs; nameRelativeToCRLIssuer is a
		 * DN fragment. */
		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		full = dp->distpoint->name.fullname;
		for (int j = 0; rc == 0 && j < sk_GENERAL_NAME_num(full); j++)
			rc = push_uri(out, sk_GENERAL_NAME_value(full, j),
			    "CRL distribution point", errmsg);
	}
	CRL_DIST_POINTS_free(dps);
	return rc;
}

static int
get_aia(const exts_t *exts, struct cs_strv *ocsp, struct cs_strv *ca_issuers,
    char *errmsg)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	int rc;

	aia = ext_d2i(exts, NID_info_access, &rc, errmsg);
	for (int i = 0; rc == 0 && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		const ACCESS_DESCRIPTION *ad =
		    sk_ACCESS_DESCRIPTION_value(aia, i);
		int nid = OBJ_obj2nid(ad->method);

		if (nid == NID_ad_OCSP)
			rc = push_uri(ocsp, ad->location, "AIA OCSP", errmsg);
		else if (nid == NID_ad_ca_issuers)
			rc = push_uri(ca_issuers, ad->location, "AIA caIssuers",
			    errmsg);
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

static int
get_basic(const exts_t *exts, struct cs_cert_info *ci, char *errmsg)
{
	BASIC_CONSTRAINTS *bc = NULL;
	int64_t pl;
	int rc;

	ci->ca = false;
	ci->path_len = -1;
	bc = ext_d2i(exts, NID_basic_constraints, &rc, errmsg);
	if (rc < 0 || bc == NULL)
		goto out;
	ci->ca = bc->ca != 0;
	if (bc->pathlen != NULL &&
	    ASN1_STRING_type(bc->pathlen) == V_ASN1_NEG_INTEGER) {
		/* what OpenSSL flags EXFLAG_INVALID */
		cs_errmsg_printf(errmsg, "basicConstraints: negative "
					 "pathLenConstraint");
		rc = CS_EINVAL;
		goto out;
	}
	/* RFC 5280 4.2.1.9: pathLenConstraint means something only when cA
	 * is set. Some end-entity certificates carry one anyway; it is
	 * ignored rather than refused. */
	if (ci->ca && bc->pathlen != NULL) {
		/* Absurdly large values are clamped: they limit nothing. */
		if (ASN1_INTEGER_get_int64(&pl, bc->pathlen) != 1)
			pl = INT64_MAX;
		ci->path_len = pl > INT_MAX ? INT_MAX : (int)pl;
	}
out:
	BASIC_CONSTRAINTS_free(bc);
	ERR_clear_error(); /* a pathlen over int64 leaves an error behind */
	return rc;
}

static int
get_sans(const exts_t *exts, struct cs_names *out, char *errmsg)
{
	GENERAL_NAMES *gens = NULL;
	int rc;

	gens = ext_d2i(exts, NID_subject_alt_name, &rc, errmsg);
	if (rc == 0 && gens != NULL)
		rc = cs_x509__names_add(out, gens, errmsg);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* The other extensions OpenSSL's own reading refuses to accept when they
 * do not decode (x509v3_cache_extensions: EXFLAG_INVALID). */
static int
check_decodable(const exts_t *exts, char *errmsg)
{
	static const int nids[] = {NID_name_constraints, NID_proxyCertInfo,
	    NID_issuing_distribution_point};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof nids / sizeof nids[0]; i++) {
		void *ext = ext_d2i(exts, nids[i], &rc, errmsg);
		const X509V3_EXT_METHOD *m = X509V3_EXT_get_nid(nids[i]);

		if (ext != NULL && m != NULL && m->it != NULL)
			ASN1_item_free(ext, ASN1_ITEM_ptr(m->it));
	}
	return rc;
}

/* Serial from the INTEGER's contents (two's complement, minimal). */
static int
get_serial(struct cs_der c, struct cs_serial *out, char *errmsg)
{
	uint8_t mag[CS_SERIAL_MAX + 1];
	bool neg = (c.p[0] & 0x80) != 0;
	int rc;

	if (neg) {
		/* magnitude = two's complement negation */
		unsigned carry = 1;

		if (c.len > sizeof mag)
			goto too_long;
		for (size_t i = c.len; i-- > 0;) {
			unsigned v = (uint8_t)~c.p[i] + carry;

			mag[i] = (uint8_t)v;
			carry = v >> 8;
		}
		rc = cs_serial_from_bytes(out, mag, c.len, true);
	} else {
		rc = cs_serial_from_bytes(out, c.p, c.len, false);
	}
	if (rc == 0)
		return 0;
too_long:
	cs_errmsg_printf(errmsg, "serial of %zu bytes, at most %d kept", c.len,
	    CS_SERIAL_MAX);
	return CS_ETOOBIG;
}

/* fast: cert/dn.c first, OpenSSL when it declines. */
static int
get_name(struct cs_der tlv, const char *what, bool fast, char **out,
    char *errmsg)
{
	const unsigned char *p = tlv.p;
	X509_NAME *name;
	int rc;

	if (fast && cs_dn_fast(tlv.p, tlv.len, out))
		return 0;
	name = d2i_X509_NAME(NULL, &p, (long)tlv.len);
	if (name == NULL || p != tlv.p + tlv.len) {
		X509_NAME_free(name);
		cs_x509__crypto_errmsg(errmsg, what);
		return CS_EINVAL;
	}
	rc = cs_x509__name_text(name, out, errmsg);
	X509_NAME_free(name);
	if (rc < 0)
		cs_errmsg_wrapf(errmsg, "%s", what);
	return rc;
}

/* fast: cs_der_time() first, OpenSSL for the forms it leaves alone. */
static int
get_time(struct cs_der tlv, const char *what, bool fast, int64_t *out,
    char *errmsg)
{
	const unsigned char *p = tlv.p;
	ASN1_TIME *t;
	int rc;

	if (fast && cs_der_time(tlv, out))
		return 0;
	t = d2i_ASN1_TIME(NULL, &p, (long)tlv.len);
	if (t == NULL || p != tlv.p + tlv.len) {
		ASN1_TIME_free(t);
		cs_x509__crypto_errmsg(errmsg, what);
		return CS_EINVAL;
	}
	rc = time_unix(t, what, out, errmsg);
	ASN1_TIME_free(t);
	return rc;
}

/* The extensions through OpenSSL: the list by d2i_X509_EXTENSIONS(), then
 * each one read by its template decoder. ci's extension fields are empty
 * on entry. */
static int
get_extensions(struct cs_der der, struct cs_cert_info *ci, char *errmsg)
{
	exts_t *exts = NULL;
	int rc;

	ci->path_len = -1;
	if (der.len > 0) {
		const unsigned char *p = der.p;

		exts = d2i_X509_EXTENSIONS(NULL, &p, (long)der.len);
		if (exts == NULL || p != der.p + der.len) {
			cs_x509__crypto_errmsg(errmsg, "extensions");
			rc = CS_EINVAL;
			goto out;
		}
	}
	rc = check_unique(exts, errmsg);
	if (rc == 0)
		rc = get_basic(exts, ci, errmsg);
	if (rc == 0)
		rc = get_key_usage(exts, ci, errmsg);
	if (rc == 0)
		rc = get_sans(exts, &ci->sans, errmsg);
	if (rc == 0)
		rc = get_eku(exts, &ci->eku, errmsg);
	if (rc == 0)
		rc = get_key_ids(exts, ci, errmsg);
	if (rc == 0)
		rc = get_crl_dp(exts, &ci->crl_dp, errmsg);
	if (rc == 0)
		rc = get_aia(exts, &ci->ocsp, &ci->ca_issuers, errmsg);
	if (rc == 0)
		rc = check_decodable(exts, errmsg);
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* fast: the strict DER readers (cert/dn.c, cs_der_time(), cert/ext.c)
 * for what they take, OpenSSL for the rest; otherwise OpenSSL for all. */
static int
fill(struct cs_cert_info *ci, const struct cs_der_cert *dc, const uint8_t *der,
    size_t len, bool fast, char *errmsg)
{
	int rc;

	rc = get_serial(dc->serial, &ci->serial, errmsg);
	if (rc == 0)
		rc = get_name(dc->subject, "subject", fast, &ci->subject,
		    errmsg);
	if (rc == 0)
		rc = get_name(dc->issuer, "issuer", fast, &ci->issuer, errmsg);
	if (rc == 0)
		rc = get_time(dc->not_before, "notBefore", fast,
		    &ci->not_before, errmsg);
	if (rc == 0)
		rc = get_time(dc->not_after, "notAfter", fast, &ci->not_after,
		    errmsg);
	if (rc == 0 && cs_der_spki_describe(dc->spki, &ci->key_type,
			   &ci->key_bits, ci->curve) < 0) {
		cs_errmsg_printf(errmsg, "bad subjectPublicKeyInfo");
		rc = CS_EINVAL;
	}
	if (rc < 0)
		return rc;
	if (EVP_Digest(dc->spki.p, dc->spki.len, ci->key_id, NULL, EVP_sha256(),
		NULL) != 1 ||
	    EVP_Digest(der, len, ci->fingerprint, NULL, EVP_sha256(), NULL) !=
		1) {
		cs_x509__crypto_errmsg(errmsg, "digest");
		return CS_ECRYPTO;
	}
	/* A failure's message names the first error queued, so what the
	 * steps above left there (a curve OpenSSL does not know, say) would
	 * take the place of its cause; and cert/ext.c's OID lookups clear
	 * the queue, which would make the two paths' messages differ. */
	ERR_clear_error();
	if (!fast || !cs_ext_fast(dc->extensions.p, dc->extensions.len, ci)) {
		rc = get_extensions(dc->extensions, ci, errmsg);
		if (rc < 0)
			return rc;
	}
	ci->der = cs_memdup(der, len);
	ci->der_len = len;
	return 0;
}

static int
parse_der(const uint8_t *der, size_t len, bool fast, struct cs_cert_info **out,
    char *errmsg)
{
	struct cs_cert_info *ci = NULL;
	struct cs_der_cert dc;
	int rc;

	ERR_clear_error();
	rc = cs_der_check(der, len, CS_X509_MAX_DER, "certificate", errmsg);
	if (rc < 0)
		goto out;
	rc = cs_der_cert_split(der, len, &dc, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "certificate");
		goto out;
	}
	ci = cs_calloc(1, sizeof *ci);
	rc = fill(ci, &dc, der, len, fast, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "certificate");
		goto out;
	}
	*out = ci;
	ci = NULL;
out:
	cs_cert_info_free(ci);
	ERR_clear_error();
	return rc;
}

int
cs_x509_parse_der(const uint8_t *der, size_t len, struct cs_cert_info **out,
    char *errmsg)
{
	return parse_der(der, len, true, out, errmsg);
}

int
cs_x509__parse_der_openssl(const uint8_t *der, size_t len,
    struct cs_cert_info **out, char *errmsg)
{
	return parse_der(der, len, false, out, errmsg);
}

static bool
is_cert_label(const char *label)
{
	return strcmp(label, "CERTIFICATE") == 0 ||
	       strcmp(label, "X509 CERTIFICATE") == 0;
}

static int
parse_pem(const uint8_t *in, size_t len, size_t max_certs,
    struct cs_cert_info ***v, size_t *nv, char *errmsg)
{
	struct cs_pem it;
	char label[64];
	const uint8_t *body;
	size_t body_len, der_len;
	uint8_t *der = NULL;
	struct cs_cert_info *ci = NULL;
	int rc;

	cs_pem_init(&it, in, len);
	for (;;) {
		rc = cs_pem_next(&it, label, sizeof label, &body, &body_len,
		    errmsg);
		if (rc <= 0)
			break;
		if (!is_cert_label(label))
			continue;
		if (*nv >= max_certs) {
			cs_errmsg_printf(errmsg,
			    "more than %zu certificates (block %zu)", max_certs,
			    it.block);
			rc = CS_ETOOBIG;
			break;
		}
		rc = cs_base64_decode(body, body_len, CS_X509_MAX_DER, &der,
		    &der_len, errmsg);
		if (rc == 0)
			rc = cs_x509_parse_der(der, der_len, &ci, errmsg);
		free(der);
		der = NULL;
		if (rc < 0) {
			cs_errmsg_wrapf(errmsg, "block %zu (%s)", it.block,
			    label);
			break;
		}
		*v = cs_reallocarray(*v, *nv + 1, sizeof **v);
		(*v)[(*nv)++] = ci;
		ci = NULL;
	}
	if (rc == 0 && *nv == 0) {
		cs_errmsg_printf(errmsg,
		    "no CERTIFICATE block in %zu PEM "
		    "blocks",
		    it.block);
		rc = CS_EINVAL;
	}
	return rc;
}

int
cs_x509_parse_bundle(const uint8_t *in, size_t len, size_t max_certs,
    struct cs_cert_info ***out, size_t *n, char *errmsg)
{
	struct cs_cert_info **v = NULL;
	size_t nv = 0;
	int rc;

	if (len == 0) {
		cs_errmsg_printf(errmsg, "empty input");
		rc = CS_EINVAL;
	} else if (cs_pem_detect(in, len)) {
		rc = parse_pem(in, len, max_certs, &v, &nv, errmsg);
	} else if (max_certs == 0) {
		cs_errmsg_printf(errmsg, "more than 0 certificates");
		rc = CS_ETOOBIG;
	} else {
		v = cs_calloc(1, sizeof *v);
		rc = cs_x509_parse_der(in, len, &v[0], errmsg);
		nv = rc == 0 ? 1 : 0;
	}
	if (rc < 0) {
		cs_cert_info_free_all(v, nv);
		return rc;
	}
	*out = v;
	*n = nv;
	return 0;
}

void
cs_cert_info_free(struct cs_cert_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->subject);
	free(ci->issuer);
	cs_names_free(&ci->sans);
	cs_strv_free(&ci->eku);
	cs_strv_free(&ci->crl_dp);
	cs_strv_free(&ci->ocsp);
	cs_strv_free(&ci->ca_issuers);
	free(ci->der);
	free(ci);
}

void
cs_cert_info_free_all(struct cs_cert_info **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		cs_cert_info_free(v[i]);
	free(v);
}
