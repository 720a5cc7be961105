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

#include "lib/error.h"
#include "lib/mem.h"

/* `openssl x509 -nameopt RFC2253,-esc_msb`: the CLI starts from no flags,
 * adds XN_FLAG_RFC2253 and removes ESC_MSB, so UTF-8 comes out raw while
 * RFC 4514 specials and control characters stay escaped. */
#define NAME_FLAGS (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

static const char *const key_type_names[CS_KEY__MAX] = {
    [CS_KEY_UNKNOWN] = "unknown", [CS_KEY_RSA] = "rsa",
    [CS_KEY_EC] = "ec",           [CS_KEY_ED25519] = "ed25519",
    [CS_KEY_ED448] = "ed448",     [CS_KEY_DSA] = "dsa",
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

static void
strv_push(struct cs_strv *v, char *s)
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
	 * checked anyway because callers treat the result as a C string. */
	if (memchr(p, '\0', (size_t)n) != NULL ||
	    !utf8_valid((const uint8_t *)p, (size_t)n)) {
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
			cs_errmsg_printf(
			    errmsg,
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
				strv_push(&out->dns, s);
			break;
		case GEN_IPADD:
			rc = ip_text(g->d.iPAddress, &s, errmsg);
			if (rc == 0)
				strv_push(&out->ip, s);
			break;
		case GEN_URI:
			rc = ia5_text(g->d.uniformResourceIdentifier, "SAN URI",
				      &s, errmsg);
			if (rc == 0)
				strv_push(&out->uri, s);
			break;
		case GEN_EMAIL:
			rc =
			    ia5_text(g->d.rfc822Name, "SAN e-mail", &s, errmsg);
			if (rc == 0)
				strv_push(&out->email, s);
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

/* ---- DER and PEM framing ---- */

/* Reads one DER TLV header: tag 0x30, definite length in minimal form.
 * Returns the total TLV size, or 0 with errmsg set. */
static size_t
seq_size(const uint8_t *in, size_t len, const char *what, char *errmsg)
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
			cs_errmsg_printf(
			    errmsg, "%s: indefinite length is not DER", what);
			return 0;
		}
		if (nlen > 4) {
			cs_errmsg_printf(errmsg,
					 "%s: length of %u bytes is too long",
					 what, nlen);
			return 0;
		}
		if (len < 2 + nlen) {
			cs_errmsg_printf(errmsg, "%s: truncated (%zu bytes)",
					 what, len);
			return 0;
		}
		if (in[2] == 0 || (nlen == 1 && in[2] < 0x80)) {
			cs_errmsg_printf(
			    errmsg, "%s: length is not in minimal DER form",
			    what);
			return 0;
		}
		for (unsigned i = 0; i < nlen; i++)
			content = content << 8 | in[2 + i];
		hdr += nlen;
	}
	return hdr + content;
}

int
cs_x509__der_check(const uint8_t *in, size_t len, size_t max, const char *what,
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
	total = seq_size(in, len, what, errmsg);
	if (total == 0)
		return CS_EINVAL;
	if (total > len) {
		cs_errmsg_printf(errmsg,
				 "%s: truncated (DER says %zu bytes, got %zu)",
				 what, total, len);
		return CS_EINVAL;
	}
	if (total < len) {
		cs_errmsg_printf(errmsg, "%s: %zu bytes of trailing data", what,
				 len - total);
		return CS_EINVAL;
	}
	return 0;
}

static const uint8_t *
find(const uint8_t *p, const uint8_t *end, const char *s)
{
	size_t n = strlen(s);

	while ((size_t)(end - p) >= n) {
		const uint8_t *q = memchr(p, s[0], (size_t)(end - p) - n + 1);

		if (q == NULL)
			return NULL;
		if (memcmp(q, s, n) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

bool
cs_x509__is_pem(const uint8_t *in, size_t len)
{
	if (len > 0 && in[0] == 0x30 && seq_size(in, len, "", NULL) == len)
		return false;
	return find(in, in + len, "-----BEGIN ") != NULL;
}

void
cs_x509__pem_init(struct cs_x509__pem *it, const uint8_t *in, size_t len)
{
	it->p = in;
	it->end = in + len;
	it->block = 0;
}

/* One line of the text: [*line, *line + *n) without the newline and
 * trailing blanks. Advances it->p. Returns false at the end of input. */
static bool
next_line(struct cs_x509__pem *it, const uint8_t **line, size_t *n)
{
	const uint8_t *nl;
	const uint8_t *e;

	if (it->p >= it->end)
		return false;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	e = nl != NULL ? nl : it->end;
	*line = it->p;
	it->p = nl != NULL ? nl + 1 : it->end;
	while (e > *line && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*n = (size_t)(e - *line);
	return true;
}

/* If line is "-----<kw><label>-----", returns the label's length and sets
 * *label; otherwise returns -1. */
static long
boundary(const uint8_t *line, size_t n, const char *kw, const uint8_t **label)
{
	size_t k = strlen(kw);

	if (n < 10 + k || memcmp(line, "-----", 5) != 0 ||
	    memcmp(line + 5, kw, k) != 0 ||
	    memcmp(line + n - 5, "-----", 5) != 0)
		return -1;
	*label = line + 5 + k;
	return (long)(n - 10 - k);
}

int
cs_x509__pem_next(struct cs_x509__pem *it, char *label, size_t label_size,
		  const uint8_t **body, size_t *body_len, char *errmsg)
{
	const uint8_t *line, *lab, *endlab, *start;
	size_t n;
	long ln = -1, eln;

	while (ln < 0) {
		if (!next_line(it, &line, &n))
			return 0;
		ln = boundary(line, n, "BEGIN ", &lab);
	}
	it->block++;
	snprintf(label, label_size, "%.*s", (int)ln, (const char *)lab);
	start = it->p;
	for (;;) {
		const uint8_t *here = it->p;

		if (!next_line(it, &line, &n)) {
			cs_errmsg_printf(errmsg, "block %zu (%s): no END line",
					 it->block, label);
			return CS_EINVAL;
		}
		/* Said here, or the next block's lines would surface later
		 * as a puzzling "bad base64: '-'". */
		if (n >= 11 && memcmp(line, "-----BEGIN ", 11) == 0) {
			cs_errmsg_printf(errmsg,
					 "block %zu (%s): no END line before "
					 "the next BEGIN",
					 it->block, label);
			return CS_EINVAL;
		}
		if (n < 9 || memcmp(line, "-----END", 8) != 0)
			continue;
		eln = boundary(line, n, "END ", &endlab);
		if (eln != ln || memcmp(endlab, lab, (size_t)ln) != 0) {
			cs_errmsg_printf(
			    errmsg,
			    "block %zu (%s): END line does not match BEGIN",
			    it->block, label);
			return CS_EINVAL;
		}
		*body = start;
		*body_len = (size_t)(here - start);
		return 1;
	}
}

static int
b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool
is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
cs_x509__base64_decode(const uint8_t *in, size_t len, size_t max, uint8_t **out,
		       size_t *out_len, char *errmsg)
{
	size_t nchars = 0, npad = 0, olen, o = 0;
	uint32_t acc = 0;
	unsigned nacc = 0;
	uint8_t *buf;

	/* Pass 1 validates and sizes, so nothing is allocated for bad or
	 * oversized input. */
	for (size_t i = 0; i < len; i++) {
		if (is_blank(in[i]))
			continue;
		if (in[i] == '=') {
			npad++;
			continue;
		}
		if (b64val(in[i]) < 0) {
			if (in[i] > 0x20 && in[i] < 0x7f)
				cs_errmsg_printf(
				    errmsg, "bad base64: '%c' at offset %zu",
				    in[i], i);
			else
				cs_errmsg_printf(
				    errmsg,
				    "bad base64: byte 0x%02x at offset %zu",
				    in[i], i);
			return CS_EINVAL;
		}
		if (npad > 0) {
			cs_errmsg_printf(errmsg,
					 "bad base64: data after '=' padding");
			return CS_EINVAL;
		}
		nchars++;
	}
	if (nchars == 0) {
		cs_errmsg_printf(errmsg, "bad base64: no data");
		return CS_EINVAL;
	}
	if (npad > 2 || (nchars + npad) % 4 != 0) {
		cs_errmsg_printf(
		    errmsg,
		    "bad base64: %zu characters and %zu '=' are not whole "
		    "groups of 4",
		    nchars, npad);
		return CS_EINVAL;
	}
	olen = nchars / 4 * 3 + (nchars % 4 == 0 ? 0 : nchars % 4 - 1);
	if (olen > max) {
		cs_errmsg_printf(errmsg, "%zu bytes, at most %zu allowed", olen,
				 max);
		return CS_ETOOBIG;
	}
	buf = cs_malloc(olen);
	for (size_t i = 0; i < len; i++) {
		int v = b64val(in[i]);

		if (v < 0)
			continue; /* blanks and padding, validated above */
		acc = acc << 6 | (uint32_t)v;
		if (++nacc == 4) {
			buf[o++] = (uint8_t)(acc >> 16);
			buf[o++] = (uint8_t)(acc >> 8);
			buf[o++] = (uint8_t)acc;
			acc = 0;
			nacc = 0;
		}
	}
	if (nacc == 2) {
		buf[o++] = (uint8_t)(acc >> 4);
	} else if (nacc == 3) {
		buf[o++] = (uint8_t)(acc >> 10);
		buf[o++] = (uint8_t)(acc >> 2);
	}
	*out = buf;
	*out_len = o;
	return 0;
}

char *
cs_x509_der_to_pem(const uint8_t *der, size_t len)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n";
	static const char tail[] = "-----END CERTIFICATE-----\n";
	size_t b64 = (len + 2) / 3 * 4;
	size_t lines = (b64 + 63) / 64;
	char *pem = cs_malloc(sizeof head + b64 + lines + sizeof tail);
	char *p = pem;

	memcpy(p, head, sizeof head - 1);
	p += sizeof head - 1;
	for (size_t off = 0; off < len; off += 48) {
		size_t chunk = len - off < 48 ? len - off : 48;

		p += EVP_EncodeBlock((unsigned char *)p, der + off, (int)chunk);
		*p++ = '\n';
	}
	memcpy(p, tail, sizeof tail); /* with the NUL */
	return pem;
}

/* ---- certificate fields ---- */

/* Days since 1970-01-01 in the proleptic Gregorian calendar (Howard
 * Hinnant's days_from_civil): no timegm(), so no TZ or libc state. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
time_unix(const ASN1_TIME *t, const char *what, int64_t *out, char *errmsg)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (ASN1_TIME_to_tm(t, &tm) != 1) {
		cs_x509__crypto_errmsg(errmsg, what);
		return CS_EINVAL;
	}
	*out = days_from_civil((int64_t)tm.tm_year + 1900,
			       (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) *
		   86400 +
	       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

/* X509_get_ext_d2i() with its three outcomes told apart: present (the
 * decoded extension), absent (NULL, *rc 0), and malformed or repeated
 * (NULL, *rc CS_EINVAL). */
static void *
ext_d2i(X509 *x, int nid, int *rc, char *errmsg)
{
	void *ext;
	int crit = -1;

	*rc = 0;
	ext = X509_get_ext_d2i(x, nid, &crit, NULL);
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
get_eku(X509 *x, struct cs_strv *out, char *errmsg)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	int rc;

	eku = ext_d2i(x, NID_ext_key_usage, &rc, errmsg);
	for (int i = 0; rc == 0 && i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(o);
		int n;
		char *s;

		if (nid != NID_undef) {
			strv_push(out, cs_strdup(OBJ_nid2sn(nid)));
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
		strv_push(out, s);
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
		strv_push(out, s);
	return rc;
}

static int
get_crl_dp(X509 *x, struct cs_strv *out, char *errmsg)
{
	CRL_DIST_POINTS *dps = NULL;
	int rc;

	dps = ext_d2i(x, NID_crl_distribution_points, &rc, errmsg);
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
get_aia(X509 *x, struct cs_strv *ocsp, struct cs_strv *ca_issuers, char *errmsg)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	int rc;

	aia = ext_d2i(x, NID_info_access, &rc, errmsg);
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
get_basic(X509 *x, struct cs_cert_info *ci, char *errmsg)
{
	BASIC_CONSTRAINTS *bc = NULL;
	int64_t pl;
	int rc;

	ci->ca = false;
	ci->path_len = -1;
	bc = ext_d2i(x, NID_basic_constraints, &rc, errmsg);
	if (rc < 0 || bc == NULL)
		goto out;
	ci->ca = bc->ca != 0;
	/* RFC 5280 4.2.1.9: pathLenConstraint means something only when cA
	 * is set. Some end-entity certificates carry one anyway; it is
	 * ignored rather than refused. */
	if (ci->ca && bc->pathlen != NULL) {
		/* Absurdly large values are clamped: they limit nothing. */
		if (ASN1_INTEGER_get_int64(&pl, bc->pathlen) != 1 || pl < 0) {
			cs_errmsg_printf(errmsg, "basicConstraints: bad "
						 "pathLenConstraint");
			rc = CS_EINVAL;
			goto out;
		}
		ci->path_len = pl > INT_MAX ? INT_MAX : (int)pl;
	}
out:
	BASIC_CONSTRAINTS_free(bc);
	ERR_clear_error(); /* a pathlen over int64 leaves an error behind */
	return rc;
}

static int
get_sans(X509 *x, struct cs_names *out, char *errmsg)
{
	GENERAL_NAMES *gens = NULL;
	int rc;

	gens = ext_d2i(x, NID_subject_alt_name, &rc, errmsg);
	if (rc == 0 && gens != NULL)
		rc = cs_x509__names_add(out, gens, errmsg);
	GENERAL_NAMES_free(gens);
	return rc;
}

static int
fill(struct cs_cert_info *ci, X509 *x, const uint8_t *der, size_t len,
     char *errmsg)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	uint32_t flags;
	int rc;

	rc = cs_serial_from_bytes(&ci->serial, ASN1_STRING_get0_data(sn),
				  (size_t)ASN1_STRING_length(sn),
				  ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER);
	if (rc < 0) {
		cs_errmsg_printf(errmsg, "serial of %d bytes, at most %d kept",
				 ASN1_STRING_length(sn), CS_SERIAL_MAX);
		return rc;
	}
	rc = cs_x509__name_text(X509_get_subject_name(x), &ci->subject, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "subject");
		return rc;
	}
	rc = cs_x509__name_text(X509_get_issuer_name(x), &ci->issuer, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "issuer");
		return rc;
	}
	/* OpenSSL's own reading of the extensions: duplicates, undecodable
	 * ones, a pathlen on a non-CA. Chain building would reject these
	 * too, so an index entry for them would only mislead. */
	flags = X509_get_extension_flags(x);
	if ((flags & EXFLAG_INVALID) != 0) {
		cs_x509__crypto_errmsg(errmsg,
				       "extensions are malformed or repeated");
		return CS_EINVAL;
	}
	rc = time_unix(X509_get0_notBefore(x), "notBefore", &ci->not_before,
		       errmsg);
	if (rc == 0)
		rc = time_unix(X509_get0_notAfter(x), "notAfter",
			       &ci->not_after, errmsg);
	if (rc == 0)
		rc = cs_x509__spki(X509_get_X509_PUBKEY(x), NULL, NULL,
				   ci->key_id, errmsg);
	if (rc < 0)
		return rc;
	/* NULL for algorithms OpenSSL cannot load: still a certificate. */
	cs_x509__key_describe(X509_get0_pubkey(x), &ci->key_type, &ci->key_bits,
			      ci->curve);
	if (EVP_Digest(der, len, ci->fingerprint, NULL, EVP_sha256(), NULL) !=
	    1) {
		cs_x509__crypto_errmsg(errmsg, "fingerprint");
		return CS_ECRYPTO;
	}
	ci->has_key_usage = (flags & EXFLAG_KUSAGE) != 0;
	ci->key_usage = ci->has_key_usage ? X509_get_key_usage(x) : 0;
	rc = get_basic(x, ci, errmsg);
	if (rc == 0)
		rc = get_sans(x, &ci->sans, errmsg);
	if (rc == 0)
		rc = get_eku(x, &ci->eku, errmsg);
	if (rc == 0)
		rc = copy_keyid(X509_get0_subject_key_id(x),
				"subjectKeyIdentifier", ci->ski, sizeof ci->ski,
				&ci->ski_len, errmsg);
	if (rc == 0)
		rc = copy_keyid(X509_get0_authority_key_id(x),
				"authorityKeyIdentifier", ci->aki,
				sizeof ci->aki, &ci->aki_len, errmsg);
	if (rc == 0)
		rc = get_crl_dp(x, &ci->crl_dp, errmsg);
	if (rc == 0)
		rc = get_aia(x, &ci->ocsp, &ci->ca_issuers, errmsg);
	if (rc < 0)
		return rc;
	ci->der = cs_memdup(der, len);
	ci->der_len = len;
	return 0;
}

int
cs_x509_parse_der(const uint8_t *der, size_t len, struct cs_cert_info **out,
		  char *errmsg)
{
	struct cs_cert_info *ci = NULL;
	X509 *x = NULL;
	const unsigned char *p = der;
	int rc;

	ERR_clear_error();
	rc = cs_x509__der_check(der, len, CS_X509_MAX_DER, "certificate",
				errmsg);
	if (rc < 0)
		goto out;
	rc = CS_EINVAL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL) {
		cs_x509__crypto_errmsg(errmsg, "certificate: bad DER");
		goto out;
	}
	if (p != der + len) { /* the outer length matched; the inner did not */
		cs_errmsg_printf(errmsg,
				 "certificate: %zu bytes of trailing "
				 "data",
				 (size_t)(der + len - p));
		goto out;
	}
	ci = cs_calloc(1, sizeof *ci);
	rc = fill(ci, x, der, len, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "certificate");
		goto out;
	}
	*out = ci;
	ci = NULL;
out:
	cs_cert_info_free(ci);
	X509_free(x);
	ERR_clear_error();
	return rc;
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
	struct cs_x509__pem it;
	char label[64];
	const uint8_t *body;
	size_t body_len, der_len;
	uint8_t *der = NULL;
	struct cs_cert_info *ci = NULL;
	int rc;

	cs_x509__pem_init(&it, in, len);
	for (;;) {
		rc = cs_x509__pem_next(&it, label, sizeof label, &body,
				       &body_len, errmsg);
		if (rc <= 0)
			break;
		if (!is_cert_label(label))
			continue;
		if (*nv >= max_certs) {
			cs_errmsg_printf(
			    errmsg, "more than %zu certificates (block %zu)",
			    max_certs, it.block);
			rc = CS_ETOOBIG;
			break;
		}
		rc = cs_x509__base64_decode(body, body_len, CS_X509_MAX_DER,
					    &der, &der_len, errmsg);
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
	} else if (cs_x509__is_pem(in, len)) {
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
