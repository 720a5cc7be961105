#include "cert/issue.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/sha.h>

#include "cert/der.h"
#include "cert/derw.h"
#include "lib/error.h"

#define OID_BASIC      CS_OID("\x55\x1d\x13")
#define OID_KU         CS_OID("\x55\x1d\x0f")
#define OID_EKU        CS_OID("\x55\x1d\x25")
#define OID_SKI        CS_OID("\x55\x1d\x0e")
#define OID_AKI        CS_OID("\x55\x1d\x23")
#define OID_SAN        CS_OID("\x55\x1d\x11")
#define OID_CRL_DP     CS_OID("\x55\x1d\x1f")
#define OID_AIA        CS_OID("\x2b\x06\x01\x05\x05\x07\x01\x01")
#define OID_AD_OCSP    CS_OID("\x2b\x06\x01\x05\x05\x07\x30\x01")
#define OID_AD_CA      CS_OID("\x2b\x06\x01\x05\x05\x07\x30\x02")
#define OID_OCSP_NOCHK CS_OID("\x2b\x06\x01\x05\x05\x07\x30\x01\x05")

/* GeneralName tags (IMPLICIT, primitive). */
#define GN_EMAIL 0x81
#define GN_DNS   0x82
#define GN_URI   0x86
#define GN_IP    0x87

int
cs_issue_ski(const uint8_t *spki, size_t spki_len, uint8_t ski[20])
{
	struct cs_der in = {spki, spki_len}, seq, alg, bits;

	if (cs_der_expect(&in, CS_DER_SEQUENCE, &seq, NULL) < 0 ||
	    cs_der_expect(&seq, CS_DER_SEQUENCE, &alg, NULL) < 0 ||
	    cs_der_expect(&seq, CS_DER_BIT_STRING, &bits, NULL) < 0 ||
	    bits.len < 1)
		return CS_EINVAL;
	SHA1(bits.p + 1, bits.len - 1, ski);
	return 0;
}

/* Opens an Extension: SEQUENCE { extnID, critical?, OCTET STRING { ... */
static void
ext_begin(struct cs_derw *w, struct cs_oid oid, bool critical, size_t *m1,
    size_t *m2)
{
	*m1 = cs_derw_begin(w, CS_DER_SEQUENCE);
	cs_derw_oid(w, oid);
	if (critical)
		cs_derw_bool(w, true);
	*m2 = cs_derw_begin(w, CS_DER_OCTET_STRING);
}

static void
ext_end(struct cs_derw *w, size_t m1, size_t m2)
{
	cs_derw_end(w, m2);
	cs_derw_end(w, m1);
}

static size_t
strv_n(const struct cs_strv *v)
{
	return v != NULL ? v->n : 0;
}

static int
write_sans(struct cs_derw *w, const struct cs_names *n, char *errmsg)
{
	for (size_t i = 0; i < n->dns.n; i++)
		cs_derw_str(w, GN_DNS, n->dns.v[i]);
	for (size_t i = 0; i < n->ip.n; i++) {
		uint8_t a[16];

		if (inet_pton(AF_INET, n->ip.v[i], a) == 1) {
			cs_derw_tlv(w, GN_IP, a, 4);
		} else if (inet_pton(AF_INET6, n->ip.v[i], a) == 1) {
			cs_derw_tlv(w, GN_IP, a, 16);
		} else {
			cs_errmsg_printf(errmsg,
			    "IP SAN \"%s\" is not an address", n->ip.v[i]);
			return CS_EINVAL;
		}
	}
	for (size_t i = 0; i < n->uri.n; i++)
		cs_derw_str(w, GN_URI, n->uri.v[i]);
	for (size_t i = 0; i < n->email.n; i++)
		cs_derw_str(w, GN_EMAIL, n->email.v[i]);
	return 0;
}

static int
write_eku(struct cs_derw *w, const struct cs_strv *eku, char *errmsg)
{
	size_t m1, m2, seq;

	ext_begin(w, OID_EKU, false, &m1, &m2);
	seq = cs_derw_begin(w, CS_DER_SEQUENCE);
	for (size_t i = 0; i < eku->n; i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(eku->v[i], 0);

		if (o == NULL || OBJ_length(o) == 0) {
			ASN1_OBJECT_free(o);
			cs_errmsg_printf(errmsg,
			    "eku: \"%s\" is not a known name or an OID",
			    eku->v[i]);
			return CS_EINVAL;
		}
		cs_derw_tlv(w, CS_DER_OID, OBJ_get0_data(o), OBJ_length(o));
		ASN1_OBJECT_free(o);
	}
	cs_derw_end(w, seq);
	ext_end(w, m1, m2);
	return 0;
}

static void
write_aia(struct cs_derw *w, const struct cs_issue_params *p)
{
	size_t m1, m2, seq;

	ext_begin(w, OID_AIA, false, &m1, &m2);
	seq = cs_derw_begin(w, CS_DER_SEQUENCE);
	for (size_t i = 0; i < strv_n(p->ocsp_urls); i++) {
		size_t ad = cs_derw_begin(w, CS_DER_SEQUENCE);

		cs_derw_oid(w, OID_AD_OCSP);
		cs_derw_str(w, GN_URI, p->ocsp_urls->v[i]);
		cs_derw_end(w, ad);
	}
	for (size_t i = 0; i < strv_n(p->ca_issuers); i++) {
		size_t ad = cs_derw_begin(w, CS_DER_SEQUENCE);

		cs_derw_oid(w, OID_AD_CA);
		cs_derw_str(w, GN_URI, p->ca_issuers->v[i]);
		cs_derw_end(w, ad);
	}
	cs_derw_end(w, seq);
	ext_end(w, m1, m2);
}

static void
write_crl_dp(struct cs_derw *w, const struct cs_strv *urls)
{
	size_t m1, m2, seq;

	/* one DistributionPoint per URL: { [0] { [0] { URI } } } */
	ext_begin(w, OID_CRL_DP, false, &m1, &m2);
	seq = cs_derw_begin(w, CS_DER_SEQUENCE);
	for (size_t i = 0; i < urls->n; i++) {
		size_t dp = cs_derw_begin(w, CS_DER_SEQUENCE);
		size_t dpn = cs_derw_begin(w, 0xa0);
		size_t full = cs_derw_begin(w, 0xa0);

		cs_derw_str(w, GN_URI, urls->v[i]);
		cs_derw_end(w, full);
		cs_derw_end(w, dpn);
		cs_derw_end(w, dp);
	}
	cs_derw_end(w, seq);
	ext_end(w, m1, m2);
}

/* KeyUsage named bits: digitalSignature (0) .. decipherOnly (8), from
 * the CS_KU_* values (which follow OpenSSL's KU_* layout). */
static uint32_t
ku_named_bits(uint32_t ku)
{
	static const uint32_t order[9] = {CS_KU_DIGITAL_SIGNATURE,
	    CS_KU_NON_REPUDIATION, CS_KU_KEY_ENCIPHERMENT,
	    CS_KU_DATA_ENCIPHERMENT, CS_KU_KEY_AGREEMENT, CS_KU_KEY_CERT_SIGN,
	    CS_KU_CRL_SIGN, CS_KU_ENCIPHER_ONLY, CS_KU_DECIPHER_ONLY};
	uint32_t bits = 0;

	for (int i = 0; i < 9; i++)
		if (ku & order[i])
			bits |= 1u << i;
	return bits;
}

static int
write_extensions(struct cs_derw *w, const struct cs_issue_params *p,
    const struct cs_issue_ca *ca, char *errmsg)
{
	uint8_t ski[20];
	size_t m1, m2, seq;
	int rc;

	if (cs_issue_ski(p->spki, p->spki_len, ski) < 0) {
		cs_errmsg_printf(errmsg, "public key: malformed");
		return CS_EINVAL;
	}
	/* basicConstraints */
	ext_begin(w, OID_BASIC, true, &m1, &m2);
	seq = cs_derw_begin(w, CS_DER_SEQUENCE);
	if (p->ca) {
		cs_derw_bool(w, true);
		if (p->path_len >= 0)
			cs_derw_u64(w, (uint64_t)p->path_len);
	}
	cs_derw_end(w, seq);
	ext_end(w, m1, m2);
	if (p->key_usage != 0) {
		ext_begin(w, OID_KU, true, &m1, &m2);
		cs_derw_named_bits(w, ku_named_bits(p->key_usage), 9);
		ext_end(w, m1, m2);
	}
	if (strv_n(p->eku) > 0) {
		rc = write_eku(w, p->eku, errmsg);
		if (rc < 0)
			return rc;
	}
	ext_begin(w, OID_SKI, false, &m1, &m2);
	cs_derw_octets(w, ski, sizeof ski);
	ext_end(w, m1, m2);
	if (ca->ski_len > 0) {
		ext_begin(w, OID_AKI, false, &m1, &m2);
		seq = cs_derw_begin(w, CS_DER_SEQUENCE);
		cs_derw_tlv(w, 0x80, ca->ski, ca->ski_len);
		cs_derw_end(w, seq);
		ext_end(w, m1, m2);
	}
	if (p->sans != NULL && cs_names_count(p->sans) > 0) {
		bool empty_subject = p->subject == NULL || p->subject_len <= 2;

		ext_begin(w, OID_SAN, empty_subject, &m1, &m2);
		seq = cs_derw_begin(w, CS_DER_SEQUENCE);
		rc = write_sans(w, p->sans, errmsg);
		if (rc < 0)
			return rc;
		cs_derw_end(w, seq);
		ext_end(w, m1, m2);
	}
	if (strv_n(p->crl_urls) > 0)
		write_crl_dp(w, p->crl_urls);
	if (strv_n(p->ocsp_urls) + strv_n(p->ca_issuers) > 0)
		write_aia(w, p);
	if (p->ocsp_nocheck) {
		ext_begin(w, OID_OCSP_NOCHK, false, &m1, &m2);
		cs_derw_null(w);
		ext_end(w, m1, m2);
	}
	return 0;
}

int
cs_issue_build(const struct cs_issue_params *p, const struct cs_issue_ca *ca,
    struct cs_buf *out, char *errmsg)
{
	static const uint8_t empty_name[] = {0x30, 0x00};
	size_t start = out->len;
	struct cs_derw w;
	size_t cert, tbs, m;
	int rc;

	if (p->not_after < p->not_before) {
		cs_errmsg_printf(errmsg, "not_after is before not_before");
		return CS_EINVAL;
	}
	if (p->serial == NULL || p->serial->len == 0 || p->serial->neg) {
		cs_errmsg_printf(errmsg, "serial: must be positive");
		return CS_EINVAL;
	}
	cs_derw_init(&w, out);
	cert = cs_derw_begin(&w, CS_DER_SEQUENCE);
	tbs = cs_derw_begin(&w, CS_DER_SEQUENCE);
	m = cs_derw_begin(&w, CS_DER_CTX0);
	cs_derw_u64(&w, 2); /* v3 */
	cs_derw_end(&w, m);
	cs_derw_uint(&w, p->serial->b, p->serial->len);
	cs_derw_raw(&w, ca->signer->algid, ca->signer->algid_len);
	cs_derw_raw(&w, ca->name, ca->name_len);
	m = cs_derw_begin(&w, CS_DER_SEQUENCE);
	cs_derw_time(&w, p->not_before);
	cs_derw_time(&w, p->not_after);
	cs_derw_end(&w, m);
	if (p->subject != NULL)
		cs_derw_raw(&w, p->subject, p->subject_len);
	else
		cs_derw_raw(&w, empty_name, sizeof empty_name);
	cs_derw_raw(&w, p->spki, p->spki_len);
	m = cs_derw_begin(&w, CS_DER_CTX3);
	{
		size_t exts = cs_derw_begin(&w, CS_DER_SEQUENCE);

		rc = write_extensions(&w, p, ca, errmsg);
		if (rc < 0)
			goto fail;
		cs_derw_end(&w, exts);
	}
	cs_derw_end(&w, m);
	cs_derw_end(&w, tbs);
	rc = cs_signer_append(ca->signer, &w, tbs, errmsg);
	if (rc < 0)
		goto fail;
	cs_derw_end(&w, cert);
	if (w.err != 0) {
		rc = w.err;
		cs_errmsg_printf(errmsg, "encoding: %s", cs_strerror(rc));
		goto fail;
	}
	return 0;
fail:
	cs_buf_truncate(out, start); /* nothing of it stays */
	return rc;
}
