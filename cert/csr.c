/*
 * csr.c - PKCS#10 requests: framing, key policy, self-signature, fields.
 *
 * The order of the checks is part of the contract: framing and DER first
 * (CS_EINVAL/CS_ETOOBIG), then the key policy (CS_EINVAL), and only then
 * the signature (CS_ECRYPTO). Policy comes before the signature so that a
 * request with a huge RSA key is refused before it costs a verification.
 */
#include "cert/csr.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/der.h"
#include "cert/pem.h"
#include "lib/error.h"
#include "lib/mem.h"

/* OID contents (DER, without tag and length). */
#define OID_RSA          "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
#define OID_RSA_SHA256   "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"
#define OID_RSA_SHA384   "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c"
#define OID_RSA_SHA512   "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d"
#define OID_ECDSA_SHA256 "\x2a\x86\x48\xce\x3d\x04\x03\x02"
#define OID_ECDSA_SHA384 "\x2a\x86\x48\xce\x3d\x04\x03\x03"
#define OID_ECDSA_SHA512 "\x2a\x86\x48\xce\x3d\x04\x03\x04"
#define OID_ED25519      "\x2b\x65\x70"
#define OID_EXT_REQ      "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x0e"
#define OID_SAN          "\x55\x1d\x11"
#define OID_CN           "\x55\x04\x03"
#define OID_IS(d, lit)                                                         \
	((d).len == sizeof lit - 1 && memcmp((d).p, lit, sizeof lit - 1) == 0)

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096

static bool
is_csr_label(const char *label)
{
	return strcmp(label, "CERTIFICATE REQUEST") == 0 ||
	       strcmp(label, "NEW CERTIFICATE REQUEST") == 0;
}

/* The DER inside PEM text: exactly one request block (other blocks, such
 * as a key pasted along, are skipped). *der is new. */
static int
unpem(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
    char *errmsg)
{
	struct cs_pem it;
	char label[64];
	const uint8_t *body;
	size_t body_len;
	size_t found = 0;
	int rc;

	cs_pem_init(&it, in, len);
	for (;;) {
		rc = cs_pem_next(&it, label, sizeof label, &body, &body_len,
		    errmsg);
		if (rc <= 0)
			break;
		if (!is_csr_label(label))
			continue;
		if (++found > 1) {
			cs_errmsg_printf(errmsg,
			    "block %zu: more than one request", it.block);
			rc = CS_EINVAL;
			break;
		}
		rc = cs_base64_decode(body, body_len, CS_CSR_MAX_DER, der,
		    der_len, errmsg);
		if (rc < 0) {
			cs_errmsg_wrapf(errmsg, "block %zu (%s)", it.block,
			    label);
			break;
		}
	}
	if (rc == 0 && found == 0) {
		cs_errmsg_printf(errmsg, "no CERTIFICATE REQUEST block");
		rc = CS_EINVAL;
	}
	if (rc < 0 && found > 0) {
		free(*der);
		*der = NULL;
	}
	return rc;
}

/* RSA 2048-4096 (rsaEncryption), ECDSA P-256/P-384, Ed25519: what
 * certstore issues for. */
static int
key_policy(const struct cs_csr_info *ci, struct cs_der alg_oid, char *errmsg)
{
	switch (ci->key_type) {
	case CS_KEY_RSA:
		/* RSA-PSS keys are restricted to PSS signatures: keep to
		 * rsaEncryption, which every relying party handles. */
		if (!OID_IS(alg_oid, OID_RSA)) {
			cs_errmsg_printf(errmsg,
			    "key: RSA-PSS keys are not accepted");
			return CS_EINVAL;
		}
		if (ci->key_bits < RSA_MIN_BITS) {
			cs_errmsg_printf(errmsg, "key: RSA %d bits is below %d",
			    ci->key_bits, RSA_MIN_BITS);
			return CS_EINVAL;
		}
		if (ci->key_bits > RSA_MAX_BITS) {
			cs_errmsg_printf(errmsg, "key: RSA %d bits is above %d",
			    ci->key_bits, RSA_MAX_BITS);
			return CS_EINVAL;
		}
		return 0;
	case CS_KEY_EC:
		if (strcmp(ci->curve, "P-256") == 0 ||
		    strcmp(ci->curve, "P-384") == 0)
			return 0;
		cs_errmsg_printf(errmsg,
		    "key: EC curve %s is not accepted (P-256 or "
		    "P-384)",
		    ci->curve[0] != '\0' ? ci->curve
					 : "with explicit parameters");
		return CS_EINVAL;
	case CS_KEY_ED25519:
		return 0;
	case CS_KEY_ED448:
		cs_errmsg_printf(errmsg, "key: Ed448 is not accepted");
		return CS_EINVAL;
	case CS_KEY_DSA:
		cs_errmsg_printf(errmsg, "key: DSA is not accepted");
		return CS_EINVAL;
	default:
		cs_errmsg_printf(errmsg, "key: algorithm is not accepted");
		return CS_EINVAL;
	}
}

/* EC keys are made from a per-curve template holding just the group
 * (EVP_PKEY_copy_parameters + EVP_PKEY_set1_encoded_public_key: ~5 us):
 * building the group anew for each request (EVP_PKEY_fromdata) costs
 * ~18 us, d2i_PUBKEY ~90 us. The point is checked to be on the curve. */
static EVP_PKEY *ec_templates[2];
static pthread_once_t ec_once = PTHREAD_ONCE_INIT;

static void
ec_templates_init(void)
{
	static const char *const groups[2] = {"prime256v1", "secp384r1"};

	for (int i = 0; i < 2; i++) {
		EVP_PKEY_CTX *ctx =
		    EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		OSSL_PARAM params[2];

		params[0] =
		    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
			(char *)(uintptr_t)groups[i], 0);
		params[1] = OSSL_PARAM_construct_end();
		if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &ec_templates[i],
			EVP_PKEY_KEY_PARAMETERS, params) != 1)
			ec_templates[i] = NULL;
		EVP_PKEY_CTX_free(ctx);
	}
}

/* The public key as an EVP_PKEY, the cheap way: in OpenSSL 3.0,
 * d2i_PUBKEY() goes through the decoder framework (~90 us). RSA requests
 * are rare and keep the general path. */
static EVP_PKEY *
public_key(const struct cs_csr_info *ci, struct cs_der point)
{
	EVP_PKEY *pkey = NULL;

	if (ci->key_type == CS_KEY_EC) {
		EVP_PKEY *tmpl;

		pthread_once(&ec_once, ec_templates_init);
		tmpl = ec_templates[strcmp(ci->curve, "P-256") == 0 ? 0 : 1];
		pkey = tmpl != NULL ? EVP_PKEY_new() : NULL;
		if (pkey != NULL &&
		    (EVP_PKEY_copy_parameters(pkey, tmpl) != 1 ||
			EVP_PKEY_set1_encoded_public_key(pkey, point.p,
			    point.len) != 1)) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	} else if (ci->key_type == CS_KEY_ED25519) {
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    point.p, point.len);
	} else {
		const unsigned char *p = ci->spki;

		pkey = d2i_PUBKEY(NULL, &p, (long)ci->spki_len);
	}
	return pkey;
}

/* The digest a signature algorithm names, given the key's type; NULL
 * (with *ed set) for Ed25519. CS_EINVAL for anything else. */
static int
signature_md(const struct cs_csr_info *ci, struct cs_der sigalg,
    const EVP_MD **md, bool *ed, char *errmsg)
{
	struct cs_der in = sigalg, seq, oid, params = {NULL, 0};
	bool null_or_absent;

	*md = NULL;
	*ed = false;
	if (cs_der_expect(&in, CS_DER_SEQUENCE, &seq, NULL) < 0 ||
	    cs_der_expect(&seq, CS_DER_OID, &oid, NULL) < 0) {
		cs_errmsg_printf(errmsg, "signature algorithm: bad DER");
		return CS_EINVAL;
	}
	params = seq;
	null_or_absent =
	    params.len == 0 ||
	    (params.len == 2 && params.p[0] == CS_DER_NULL && params.p[1] == 0);
	if (ci->key_type == CS_KEY_EC && params.len == 0) {
		if (OID_IS(oid, OID_ECDSA_SHA256))
			*md = EVP_sha256();
		else if (OID_IS(oid, OID_ECDSA_SHA384))
			*md = EVP_sha384();
		else if (OID_IS(oid, OID_ECDSA_SHA512))
			*md = EVP_sha512();
	} else if (ci->key_type == CS_KEY_RSA && null_or_absent) {
		if (OID_IS(oid, OID_RSA_SHA256))
			*md = EVP_sha256();
		else if (OID_IS(oid, OID_RSA_SHA384))
			*md = EVP_sha384();
		else if (OID_IS(oid, OID_RSA_SHA512))
			*md = EVP_sha512();
	} else if (ci->key_type == CS_KEY_ED25519 && params.len == 0 &&
		   OID_IS(oid, OID_ED25519)) {
		*ed = true;
		return 0;
	}
	if (*md == NULL) {
		cs_errmsg_printf(errmsg,
		    "signature algorithm: not one certstore accepts for a "
		    "%s key (SHA-256 or stronger)",
		    cs_key_type_name(ci->key_type));
		return CS_EINVAL;
	}
	return 0;
}

static int
verify(const struct cs_csr_info *ci, struct cs_der point, struct cs_der tbs,
    struct cs_der sigalg, struct cs_der sig, char *errmsg)
{
	const EVP_MD *md;
	EVP_PKEY *pkey;
	bool ed;
	int rc, ok = 0;

	rc = signature_md(ci, sigalg, &md, &ed, errmsg);
	if (rc < 0)
		return rc;
	pkey = public_key(ci, point);
	if (pkey == NULL) {
		cs_x509__crypto_errmsg(errmsg, "key: malformed");
		return CS_EINVAL;
	}
	if (ed) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		ok = ctx != NULL &&
		     EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		     EVP_DigestVerify(ctx, sig.p, sig.len, tbs.p, tbs.len) == 1;
		EVP_MD_CTX_free(ctx);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
		uint8_t digest[EVP_MAX_MD_SIZE];
		unsigned int dlen;

		ok = ctx != NULL &&
		     EVP_Digest(tbs.p, tbs.len, digest, &dlen, md, NULL) == 1 &&
		     EVP_PKEY_verify_init(ctx) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
		     EVP_PKEY_verify(ctx, sig.p, sig.len, digest, dlen) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	EVP_PKEY_free(pkey);
	if (!ok) {
		cs_x509__crypto_errmsg(errmsg, "signature does not verify");
		return CS_ECRYPTO;
	}
	return 0;
}

/* The subjectAltName of the extensionRequest attribute, if any. */
static int
get_names(struct cs_der attrs, struct cs_names *out, char *errmsg)
{
	struct cs_der san = {NULL, 0};
	bool seen_req = false;

	while (attrs.len > 0) {
		struct cs_der attr, oid, values, exts;

		if (cs_der_expect(&attrs, CS_DER_SEQUENCE, &attr, NULL) < 0 ||
		    cs_der_expect(&attr, CS_DER_OID, &oid, NULL) < 0 ||
		    cs_der_expect(&attr, 0x31, &values, NULL) < 0 ||
		    attr.len != 0) {
			cs_errmsg_printf(errmsg, "attributes: bad DER");
			return CS_EINVAL;
		}
		if (!OID_IS(oid, OID_EXT_REQ))
			continue;
		if (seen_req) {
			cs_errmsg_printf(errmsg,
			    "more than one extensionRequest");
			return CS_EINVAL;
		}
		seen_req = true;
		if (cs_der_expect(&values, CS_DER_SEQUENCE, &exts, NULL) < 0 ||
		    values.len != 0) {
			cs_errmsg_printf(errmsg, "extensionRequest: bad DER");
			return CS_EINVAL;
		}
		while (exts.len > 0) {
			struct cs_der ext, eoid, val;

			if (cs_der_expect(&exts, CS_DER_SEQUENCE, &ext, NULL) <
				0 ||
			    cs_der_expect(&ext, CS_DER_OID, &eoid, NULL) < 0) {
				cs_errmsg_printf(errmsg,
				    "extensionRequest: bad DER");
				return CS_EINVAL;
			}
			if (cs_der_peek(&ext, 0x01)) {
				struct cs_der crit;

				(void)cs_der_expect(&ext, 0x01, &crit, NULL);
			}
			if (cs_der_expect(&ext, CS_DER_OCTET_STRING, &val,
				NULL) < 0 ||
			    ext.len != 0) {
				cs_errmsg_printf(errmsg,
				    "extensionRequest: bad DER");
				return CS_EINVAL;
			}
			if (!OID_IS(eoid, OID_SAN))
				continue;
			if (san.p != NULL) {
				cs_errmsg_printf(errmsg,
				    "more than one subjectAltName");
				return CS_EINVAL;
			}
			san = val;
		}
	}
	if (san.p != NULL) {
		const unsigned char *p = san.p;
		GENERAL_NAMES *gens =
		    d2i_GENERAL_NAMES(NULL, &p, (long)san.len);
		int rc;

		if (gens == NULL || p != san.p + san.len) {
			GENERAL_NAMES_free(gens);
			cs_x509__crypto_errmsg(errmsg, "subjectAltName");
			return CS_EINVAL;
		}
		/* a name no profile can vet is refused, not dropped: the
		 * requester would get less than it asked for */
		for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
			int type = sk_GENERAL_NAME_value(gens, i)->type;

			if (type != GEN_DNS && type != GEN_IPADD &&
			    type != GEN_URI && type != GEN_EMAIL) {
				GENERAL_NAMES_free(gens);
				cs_errmsg_printf(errmsg,
				    "subjectAltName: %s names are not issued "
				    "(DNS, IP, URI and e-mail only)",
				    type == GEN_OTHERNAME  ? "otherName"
				    : type == GEN_DIRNAME  ? "directoryName"
				    : type == GEN_RID      ? "registeredID"
				    : type == GEN_X400     ? "x400Address"
				    : type == GEN_EDIPARTY ? "ediPartyName"
							   : "other");
				return CS_EINVAL;
			}
		}
		rc = cs_x509__names_add(out, gens, errmsg);
		GENERAL_NAMES_free(gens);
		return rc;
	}
	return 0;
}

/* The commonName of the subject: counted, and when there is exactly one
 * in a string type whose bytes are the text (UTF8String, PrintableString,
 * IA5String), kept as text and as its value TLV. A CN in another string
 * type is counted but not kept, so a profile check refuses it. */
static void
find_cn(struct cs_der name, struct cs_csr_info *ci)
{
	struct cs_der in = name, seq, found = {NULL, 0}, found_v = {NULL, 0};
	uint8_t tag;

	if (cs_der_expect(&in, CS_DER_SEQUENCE, &seq, NULL) < 0)
		return;
	while (seq.len > 0) {
		struct cs_der set;

		if (cs_der_expect(&seq, 0x31, &set, NULL) < 0)
			return;
		while (set.len > 0) {
			struct cs_der ava, oid, v, whole;

			if (cs_der_expect(&set, CS_DER_SEQUENCE, &ava, NULL) <
				0 ||
			    cs_der_expect(&ava, CS_DER_OID, &oid, NULL) < 0 ||
			    cs_der_next(&ava, &tag, &v, &whole) < 0)
				return;
			if (!OID_IS(oid, OID_CN))
				continue;
			ci->ncn++;
			if (tag == 0x0c || tag == 0x13 || tag == 0x16) {
				found = whole;
				found_v = v;
			}
		}
	}
	if (ci->ncn != 1 || found.p == NULL ||
	    memchr(found_v.p, '\0', found_v.len) != NULL)
		return;
	ci->cn = cs_strndup((const char *)found_v.p, found_v.len);
	ci->cn_value = cs_memdup(found.p, found.len);
	ci->cn_value_len = found.len;
}

static int
subject_text(struct cs_der name, char **out, char *errmsg)
{
	const unsigned char *p = name.p;
	X509_NAME *xn;
	int rc;

	if (cs_dn_fast(name.p, name.len, out))
		return 0;
	xn = d2i_X509_NAME(NULL, &p, (long)name.len);
	if (xn == NULL || p != name.p + name.len) {
		X509_NAME_free(xn);
		cs_x509__crypto_errmsg(errmsg, "subject");
		return CS_EINVAL;
	}
	rc = cs_x509__name_text(xn, out, errmsg);
	X509_NAME_free(xn);
	if (rc < 0)
		cs_errmsg_wrapf(errmsg, "subject");
	return rc;
}

/*
 * CertificationRequest ::= SEQUENCE { certificationRequestInfo,
 *     signatureAlgorithm, signature BIT STRING }
 * CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject
 *     Name, subjectPKInfo, attributes [0] IMPLICIT SET OF Attribute }
 *
 * Walked with the DER reader (cert/der.h) rather than d2i_X509_REQ(),
 * which costs ~100 us in OpenSSL 3.0 for the key decode alone.
 */
static int
fill(struct cs_csr_info *ci, const uint8_t *der, size_t len, char *errmsg)
{
	struct cs_der in = {der, len}, req, info, info_tlv, version, subject;
	struct cs_der spki, attrs = {NULL, 0}, sigalg, sig, alg, alg_oid, bits;
	int rc;

	if (cs_der_expect(&in, CS_DER_SEQUENCE, &req, NULL) < 0 ||
	    cs_der_expect(&req, CS_DER_SEQUENCE, &info, &info_tlv) < 0 ||
	    cs_der_expect(&req, CS_DER_SEQUENCE, NULL, &sigalg) < 0 ||
	    cs_der_expect(&req, CS_DER_BIT_STRING, &sig, NULL) < 0 ||
	    req.len != 0 || sig.len < 1 || sig.p[0] != 0 ||
	    cs_der_expect(&info, CS_DER_INTEGER, &version, NULL) < 0 ||
	    cs_der_expect(&info, CS_DER_SEQUENCE, NULL, &subject) < 0 ||
	    cs_der_expect(&info, CS_DER_SEQUENCE, NULL, &spki) < 0 ||
	    (info.len > 0 &&
		(cs_der_expect(&info, CS_DER_CTX0, &attrs, NULL) < 0 ||
		    info.len != 0))) {
		cs_errmsg_printf(errmsg, "bad DER");
		return CS_EINVAL;
	}
	sig.p++; /* the unused-bits octet */
	sig.len--;
	if (version.len != 1 || version.p[0] != 0) {
		long v = version.len == 1 ? (long)(int8_t)version.p[0] : -1;

		cs_errmsg_printf(errmsg, "version field %ld, not 0 (v1)", v);
		return CS_EINVAL;
	}
	/* the key: described from its bytes, then policy, then signature */
	{
		struct cs_der k = spki, kseq;

		if (cs_der_expect(&k, CS_DER_SEQUENCE, &kseq, NULL) < 0 ||
		    cs_der_expect(&kseq, CS_DER_SEQUENCE, &alg, NULL) < 0 ||
		    cs_der_expect(&alg, CS_DER_OID, &alg_oid, NULL) < 0 ||
		    cs_der_expect(&kseq, CS_DER_BIT_STRING, &bits, NULL) < 0 ||
		    bits.len < 1 || bits.p[0] != 0 ||
		    cs_der_spki_describe(spki, &ci->key_type, &ci->key_bits,
			ci->curve) < 0) {
			cs_errmsg_printf(errmsg, "key: malformed");
			return CS_EINVAL;
		}
		bits.p++;
		bits.len--;
	}
	ci->spki = cs_memdup(spki.p, spki.len);
	ci->spki_len = spki.len;
	SHA256(spki.p, spki.len, ci->key_id);
	rc = key_policy(ci, alg_oid, errmsg);
	if (rc == 0)
		rc = verify(ci, bits, info_tlv, sigalg, sig, errmsg);
	if (rc < 0)
		return rc;
	rc = subject_text(subject, &ci->subject, errmsg);
	if (rc < 0)
		return rc;
	ci->subject_der = cs_memdup(subject.p, subject.len);
	ci->subject_der_len = subject.len;
	find_cn(subject, ci);
	return get_names(attrs, &ci->names, errmsg);
}

int
cs_csr_parse(const uint8_t *in, size_t len, struct cs_csr_info **out,
    char *errmsg)
{
	struct cs_csr_info *ci = NULL;
	uint8_t *pem_der = NULL;
	const uint8_t *der = in;
	size_t der_len = len;
	int rc;

	ERR_clear_error();
	if (len > 0 && cs_pem_detect(in, len)) {
		rc = unpem(in, len, &pem_der, &der_len, errmsg);
		if (rc < 0)
			goto out;
		der = pem_der;
	}
	rc = cs_der_check(der, der_len, CS_CSR_MAX_DER, "request", errmsg);
	if (rc < 0)
		goto out;
	ci = cs_calloc(1, sizeof *ci);
	rc = fill(ci, der, der_len, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "request");
		goto out;
	}
	ci->der = cs_memdup(der, der_len);
	ci->der_len = der_len;
	*out = ci;
	ci = NULL;
out:
	cs_csr_info_free(ci);
	free(pem_der);
	ERR_clear_error();
	return rc;
}

void
cs_csr_info_free(struct cs_csr_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->subject);
	cs_names_free(&ci->names);
	free(ci->spki);
	free(ci->subject_der);
	free(ci->cn);
	free(ci->cn_value);
	free(ci->der);
	free(ci);
}
