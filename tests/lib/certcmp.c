/*
 * certcmp.c - the field-by-field comparison of certcmp.h.
 *
 * Every field of struct cs_cert_info is listed here; a field added to it
 * must be added here too, or the differential tests go blind to it.
 */
#include "tests/lib/certcmp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/text.h"

static int differ(char *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
differ(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, CS_CERTCMP_WHY_SIZE, fmt, ap);
	va_end(ap);
	return -1;
}

static int
cmp_str(const char *a, const char *b, const char *what, char *why)
{
	if (a == NULL || b == NULL) {
		if (a == b)
			return 0;
		return differ(why, "%s: %s vs %s", what, a ? a : "(null)",
		    b ? b : "(null)");
	}
	if (strcmp(a, b) != 0)
		return differ(why, "%s: '%s' vs '%s'", what, a, b);
	return 0;
}

static int
cmp_strv(const struct cs_strv *a, const struct cs_strv *b, const char *what,
    char *why)
{
	char name[64];

	if (a->n != b->n)
		return differ(why, "%s: %zu vs %zu entries", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		snprintf(name, sizeof name, "%s[%zu]", what, i);
		if (cmp_str(a->v[i], b->v[i], name, why) < 0)
			return -1;
	}
	return 0;
}

static int
cmp_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const char *what, char *why)
{
	char ha[2 * 64 + 1], hb[2 * 64 + 1];

	if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0))
		return 0;
	cs_hex_encode(a, alen < 64 ? alen : 64, ha);
	cs_hex_encode(b, blen < 64 ? blen : 64, hb);
	return differ(why, "%s: %zu bytes %s vs %zu bytes %s", what, alen, ha,
	    blen, hb);
}

#define CMP_INT(f)                                                             \
	do {                                                                   \
		if (a->f != b->f)                                              \
			return differ(why, #f ": %" PRId64 " vs %" PRId64,     \
			    (int64_t)a->f, (int64_t)b->f);                     \
	} while (0)

int
cs_certcmp(const struct cs_cert_info *a, const struct cs_cert_info *b,
    char *why)
{
	CMP_INT(serial.len);
	CMP_INT(serial.neg);
	if (cmp_bytes(a->serial.b, sizeof a->serial.b, b->serial.b,
		sizeof b->serial.b, "serial", why) < 0 ||
	    cmp_str(a->subject, b->subject, "subject", why) < 0 ||
	    cmp_str(a->issuer, b->issuer, "issuer", why) < 0 ||
	    cmp_strv(&a->sans.dns, &b->sans.dns, "sans.dns", why) < 0 ||
	    cmp_strv(&a->sans.ip, &b->sans.ip, "sans.ip", why) < 0 ||
	    cmp_strv(&a->sans.uri, &b->sans.uri, "sans.uri", why) < 0 ||
	    cmp_strv(&a->sans.email, &b->sans.email, "sans.email", why) < 0)
		return -1;
	CMP_INT(not_before);
	CMP_INT(not_after);
	if (cmp_bytes(a->key_id, sizeof a->key_id, b->key_id, sizeof b->key_id,
		"key_id", why) < 0)
		return -1;
	CMP_INT(key_type);
	CMP_INT(key_bits);
	if (memchr(a->curve, '\0', sizeof a->curve) == NULL ||
	    memchr(b->curve, '\0', sizeof b->curve) == NULL)
		return differ(why, "curve: not terminated");
	if (cmp_str(a->curve, b->curve, "curve", why) < 0 ||
	    cmp_bytes(a->fingerprint, sizeof a->fingerprint, b->fingerprint,
		sizeof b->fingerprint, "fingerprint", why) < 0)
		return -1;
	CMP_INT(ca);
	CMP_INT(path_len);
	CMP_INT(has_key_usage);
	CMP_INT(key_usage);
	if (cmp_strv(&a->eku, &b->eku, "eku", why) < 0)
		return -1;
	/* the whole arrays: bytes past the length must be zero both ways */
	CMP_INT(ski_len);
	CMP_INT(aki_len);
	if (cmp_bytes(a->ski, sizeof a->ski, b->ski, sizeof b->ski, "ski",
		why) < 0 ||
	    cmp_bytes(a->aki, sizeof a->aki, b->aki, sizeof b->aki, "aki",
		why) < 0 ||
	    cmp_strv(&a->crl_dp, &b->crl_dp, "crl_dp", why) < 0 ||
	    cmp_strv(&a->ocsp, &b->ocsp, "ocsp", why) < 0 ||
	    cmp_strv(&a->ca_issuers, &b->ca_issuers, "ca_issuers", why) < 0 ||
	    cmp_bytes(a->der, a->der_len, b->der, b->der_len, "der", why) < 0)
		return -1;
	return 0;
}

int
cs_certcmp_paths(const uint8_t *der, size_t len, int *accepted, char *why)
{
	struct cs_cert_info *fast = NULL, *slow = NULL;
	char efast[CS_ERRMSG_SIZE] = "", eslow[CS_ERRMSG_SIZE] = "";
	int rfast, rslow, rc = 0;

	rfast = cs_x509_parse_der(der, len, &fast, efast);
	rslow = cs_x509__parse_der_openssl(der, len, &slow, eslow);
	if (accepted != NULL)
		*accepted = rfast == 0;
	if (rfast != rslow)
		rc = differ(why, "rc: %s (%s) vs OpenSSL's %s (%s)",
		    cs_errname(rfast), efast, cs_errname(rslow), eslow);
	else if (rfast < 0 && strcmp(efast, eslow) != 0)
		rc =
		    differ(why, "errmsg: '%s' vs OpenSSL's '%s'", efast, eslow);
	else if (rfast == 0)
		rc = cs_certcmp(fast, slow, why);
	cs_cert_info_free(fast);
	cs_cert_info_free(slow);
	return rc;
}
