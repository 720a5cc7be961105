#include "cert/signer.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert/x509.h"
#include "lib/error.h"
#include "lib/mem.h"

/* DER AlgorithmIdentifiers (RFC 5758, RFC 4055, RFC 8410: ECDSA and
 * Ed25519 without parameters, RSA with NULL). */
static const struct {
	enum cs_sig_alg alg;
	const char *der;
	size_t len;
} algids[] = {
    {CS_SIG_ECDSA_SHA256, "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02",
	12},
    {CS_SIG_ECDSA_SHA384, "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03",
	12},
    {CS_SIG_RSA_SHA256,
	"\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00", 15},
    {CS_SIG_ED25519, "\x30\x05\x06\x03\x2b\x65\x70", 7},
};

static int
pick(EVP_PKEY *key, enum cs_sig_alg *alg, char *errmsg)
{
	enum cs_key_type type;
	char curve[32];
	int bits;

	cs_x509__key_describe(key, &type, &bits, curve);
	switch (type) {
	case CS_KEY_EC:
		if (strcmp(curve, "P-256") == 0) {
			*alg = CS_SIG_ECDSA_SHA256;
			return 0;
		}
		if (strcmp(curve, "P-384") == 0) {
			*alg = CS_SIG_ECDSA_SHA384;
			return 0;
		}
		cs_errmsg_printf(errmsg, "CA key: EC curve %s (P-256 or P-384)",
		    curve[0] != '\0' ? curve : "unnamed");
		return CS_EINVAL;
	case CS_KEY_RSA:
		/* An RSA-PSS key signs PSS only: its signatures would not
		 * verify under sha256WithRSAEncryption. */
		if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA_PSS) {
			cs_errmsg_printf(errmsg,
			    "CA key: RSA-PSS keys do not sign here (an "
			    "rsaEncryption key is needed)");
			return CS_EINVAL;
		}
		if (bits < 2048) {
			cs_errmsg_printf(errmsg,
			    "CA key: RSA %d bits is below "
			    "2048",
			    bits);
			return CS_EINVAL;
		}
		/* Its signatures are as long as the modulus: refuse here
		 * what would fail on every signature later. */
		if (bits > 8 * CS_SIG_MAX) {
			cs_errmsg_printf(errmsg,
			    "CA key: RSA %d bits is above %d", bits,
			    8 * CS_SIG_MAX);
			return CS_EINVAL;
		}
		*alg = CS_SIG_RSA_SHA256;
		return 0;
	case CS_KEY_ED25519:
		*alg = CS_SIG_ED25519;
		return 0;
	default:
		cs_errmsg_printf(errmsg, "CA key: %s keys do not sign here",
		    cs_key_type_name(type));
		return CS_EINVAL;
	}
}

int
cs_signer_init(struct cs_signer *s, EVP_PKEY *key, char *errmsg)
{
	unsigned char *spki = NULL;
	int len, rc;

	memset(s, 0, sizeof *s);
	rc = pick(key, &s->alg, errmsg);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sizeof algids / sizeof algids[0]; i++) {
		if (algids[i].alg == s->alg) {
			memcpy(s->algid, algids[i].der, algids[i].len);
			s->algid_len = algids[i].len;
		}
	}
	len = i2d_PUBKEY(key, &spki);
	if (len <= 0) {
		cs_x509__crypto_errmsg(errmsg, "CA key: public key");
		return CS_ECRYPTO;
	}
	s->spki = cs_memdup(spki, (size_t)len);
	s->spki_len = (size_t)len;
	OPENSSL_free(spki);
	EVP_PKEY_up_ref(key);
	s->key = key;
	return 0;
}

void
cs_signer_close(struct cs_signer *s)
{
	EVP_PKEY_free(s->key);
	free(s->spki);
	memset(s, 0, sizeof *s);
}

int
cs_signer_sign(const struct cs_signer *s, const uint8_t *data, size_t len,
    uint8_t *sig, size_t *sig_len, char *errmsg)
{
	const EVP_MD *md = NULL;
	EVP_MD_CTX *ctx;
	int ok;

	if (s->alg == CS_SIG_ECDSA_SHA256 || s->alg == CS_SIG_RSA_SHA256)
		md = EVP_sha256();
	else if (s->alg == CS_SIG_ECDSA_SHA384)
		md = EVP_sha384();
	ctx = EVP_MD_CTX_new();
	*sig_len = CS_SIG_MAX;
	ok = ctx != NULL &&
	     EVP_DigestSignInit(ctx, NULL, md, NULL, s->key) == 1 &&
	     EVP_DigestSign(ctx, sig, sig_len, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		cs_x509__crypto_errmsg(errmsg, "signing");
		return CS_ECRYPTO;
	}
	return 0;
}

int
cs_signer_append(const struct cs_signer *s, struct cs_derw *w, size_t tbs_mark,
    char *errmsg)
{
	uint8_t sig[CS_SIG_MAX];
	size_t sig_len;
	int rc;

	if (w->err != 0) {
		cs_errmsg_printf(errmsg, "encoding: %s", cs_strerror(w->err));
		return w->err;
	}
	rc = cs_signer_sign(s, w->b->data + tbs_mark, w->b->len - tbs_mark, sig,
	    &sig_len, errmsg);
	if (rc < 0)
		return rc;
	cs_derw_raw(w, s->algid, s->algid_len);
	cs_derw_bits(w, sig, sig_len);
	if (w->err != 0) {
		cs_errmsg_printf(errmsg, "encoding: %s", cs_strerror(w->err));
		return w->err;
	}
	return 0;
}

bool
cs_signer_matches(const struct cs_signer *s, const uint8_t *spki,
    size_t spki_len)
{
	return spki_len == s->spki_len && memcmp(spki, s->spki, spki_len) == 0;
}
