/*
 * csr.c - PKCS#10 requests: framing, key policy, self-signature, fields.
 *
 * The order of the checks is part of the contract: framing and DER first
 * (CS_EINVAL/CS_ETOOBIG), then the key policy (CS_EINVAL), and only then
 * the signature (CS_ECRYPTO). Policy comes before the signature so that a
 * request with a huge RSA key is refused before it costs a verification.
 */
#include "cert/csr.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert/der.h"
#include "cert/pem.h"
#include "lib/error.h"
#include "lib/mem.h"

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

/* RSA 2048-4096, ECDSA P-256/P-384, Ed25519: what certstore issues for. */
static int
key_policy(const EVP_PKEY *pkey, const struct cs_csr_info *ci, char *errmsg)
{
	int id = EVP_PKEY_get_base_id(pkey);

	switch (ci->key_type) {
	case CS_KEY_RSA:
		/* RSA-PSS keys are restricted to PSS signatures: keep to
		 * rsaEncryption, which every relying party handles. */
		if (id != EVP_PKEY_RSA) {
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
		cs_errmsg_printf(errmsg, "key: algorithm %s is not accepted",
		    OBJ_nid2sn(id));
		return CS_EINVAL;
	}
}

/* The SAN of the extensionRequest attribute, if there is one. */
static int
get_names(X509_REQ *req, struct cs_names *out, char *errmsg)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	int loc, crit = -1;
	int rc = CS_EINVAL;

	loc = X509_REQ_get_attr_by_NID(req, NID_ext_req, -1);
	if (loc < 0)
		return 0;
	if (X509_REQ_get_attr_by_NID(req, NID_ext_req, loc) >= 0) {
		cs_errmsg_printf(errmsg, "more than one extensionRequest");
		return CS_EINVAL;
	}
	exts = X509_REQ_get_extensions(req);
	if (exts == NULL) {
		cs_x509__crypto_errmsg(errmsg, "extensionRequest");
		goto out;
	}
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL && crit != -1) {
		if (crit == -2)
			cs_errmsg_printf(errmsg, "more than one "
						 "subjectAltName");
		else
			cs_x509__crypto_errmsg(errmsg, "subjectAltName");
		goto out;
	}
	rc = gens != NULL ? cs_x509__names_add(out, gens, errmsg) : 0;
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

static int
fill(struct cs_csr_info *ci, X509_REQ *req, char *errmsg)
{
	EVP_PKEY *pkey;
	int rc;

	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		cs_errmsg_printf(errmsg, "version field %ld, not 0 (v1)",
		    X509_REQ_get_version(req));
		return CS_EINVAL;
	}
	pkey = X509_REQ_get0_pubkey(req);
	if (pkey == NULL) {
		cs_x509__crypto_errmsg(errmsg, "key: unsupported or malformed");
		return CS_EINVAL;
	}
	cs_x509__key_describe(pkey, &ci->key_type, &ci->key_bits, ci->curve);
	rc = key_policy(pkey, ci, errmsg);
	if (rc < 0)
		return rc;
	rc = X509_REQ_verify(req, pkey);
	if (rc != 1) {
		cs_x509__crypto_errmsg(errmsg, "signature does not verify");
		return CS_ECRYPTO;
	}
	rc = cs_x509__name_text(X509_REQ_get_subject_name(req), &ci->subject,
	    errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "subject");
		return rc;
	}
	rc = get_names(req, &ci->names, errmsg);
	if (rc == 0)
		rc = cs_x509__spki(X509_REQ_get_X509_PUBKEY(req), &ci->spki,
		    &ci->spki_len, ci->key_id, errmsg);
	return rc;
}

int
cs_csr_parse(const uint8_t *in, size_t len, struct cs_csr_info **out,
    char *errmsg)
{
	struct cs_csr_info *ci = NULL;
	X509_REQ *req = NULL;
	uint8_t *pem_der = NULL;
	const uint8_t *der = in;
	const unsigned char *p;
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
	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)der_len);
	if (req == NULL || p != der + der_len) {
		cs_x509__crypto_errmsg(errmsg, "request: bad DER");
		rc = CS_EINVAL;
		goto out;
	}
	ci = cs_calloc(1, sizeof *ci);
	rc = fill(ci, req, errmsg);
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
	X509_REQ_free(req);
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
	free(ci->der);
	free(ci);
}
