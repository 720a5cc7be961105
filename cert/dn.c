/*
 * dn.c - the RFC 4514 text of a DER Name without building an X509_NAME.
 *
 * Why: d2i_X509_NAME() builds the name, its canonical form and a cached
 * encoding, a dozen allocations per attribute; with X509_NAME_print_ex()
 * into a memory BIO it was a quarter of a node's CPU while it applied
 * imports. Almost every name met in practice is simple: one attribute per
 * RDN, a well-known attribute type, and a printable ASCII value that
 * needs no escaping. Those are written here directly, exactly as
 * `openssl x509 -nameopt RFC2253,-esc_msb` prints them; anything else
 * (multi-valued RDNs, other string types, unknown attribute types,
 * characters that RFC 4514 escapes) goes through OpenSSL, so the text is
 * the same either way. tests/unit/test_x509.c and tests/fuzz/fuzz_x509.c
 * compare the two paths.
 */
#include <stdlib.h>
#include <string.h>

#include "cert/der.h"
#include "cert/x509.h"
#include "lib/mem.h"

/* The attribute types written directly, as OBJ_nid2sn() names them. */
static const struct {
	const char *oid; /* DER contents of the OBJECT IDENTIFIER */
	size_t len;
	const char *sn;
} attrs[] = {
#define A(oid, sn)                                                             \
	{                                                                      \
		oid, sizeof oid - 1, sn                                        \
	}
    A("\x55\x04\x03", "CN"),
    A("\x55\x04\x06", "C"),
    A("\x55\x04\x07", "L"),
    A("\x55\x04\x08", "ST"),
    A("\x55\x04\x0a", "O"),
    A("\x55\x04\x0b", "OU"),
    A("\x55\x04\x05", "serialNumber"),
    A("\x55\x04\x04", "SN"),
    A("\x55\x04\x2a", "GN"),
    A("\x55\x04\x0c", "title"),
    A("\x55\x04\x09", "street"),
    A("\x55\x04\x11", "postalCode"),
    A("\x55\x04\x2e", "dnQualifier"),
    A("\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", "emailAddress"),
    A("\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", "DC"),
    A("\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", "UID"),
#undef A
};

#define MAX_RDNS 64

static const char *
attr_name(struct cs_der oid)
{
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
		if (attrs[i].len == oid.len &&
		    memcmp(attrs[i].oid, oid.p, oid.len) == 0)
			return attrs[i].sn;
	return NULL;
}

/* A value printed as is: printable ASCII, none of RFC 4514's specials,
 * no leading '#' or space, no trailing space. */
static bool
plain_value(struct cs_der v)
{
	if (v.len == 0)
		return true;
	if (v.p[0] == '#' || v.p[0] == ' ' || v.p[v.len - 1] == ' ')
		return false;
	for (size_t i = 0; i < v.len; i++) {
		uint8_t c = v.p[i];

		if (c < 0x20 || c > 0x7e || strchr(",+\"\\<>;", c) != NULL)
			return false;
	}
	return true;
}

/* One RDN with a single attribute: its type name and value. */
static bool
simple_rdn(struct cs_der rdn, const char **name, struct cs_der *value)
{
	struct cs_der set, ava, oid;
	uint8_t tag;

	if (cs_der_expect(&rdn, 0x31, &set, NULL) < 0 || rdn.len != 0 ||
	    cs_der_expect(&set, CS_DER_SEQUENCE, &ava, NULL) < 0 ||
	    set.len != 0 || cs_der_expect(&ava, CS_DER_OID, &oid, NULL) < 0 ||
	    cs_der_next(&ava, &tag, value, NULL) < 0 || ava.len != 0)
		return false;
	/* PrintableString, UTF8String, IA5String, T61String: the same text
	 * for ASCII content. */
	if (tag != 0x13 && tag != 0x0c && tag != 0x16 && tag != 0x14)
		return false;
	*name = attr_name(oid);
	return *name != NULL && plain_value(*value);
}

int
cs_dn_fast(const uint8_t *der, size_t len, char **out)
{
	struct cs_der in = {der, len}, seq, rdns[MAX_RDNS];
	struct cs_der values[MAX_RDNS];
	const char *names[MAX_RDNS];
	size_t n = 0, size = 1;
	char *s, *p;

	if (cs_der_expect(&in, CS_DER_SEQUENCE, &seq, NULL) < 0 || in.len != 0)
		return 0;
	while (seq.len > 0) {
		uint8_t tag;

		if (n == MAX_RDNS ||
		    cs_der_next(&seq, &tag, NULL, &rdns[n]) < 0)
			return 0;
		if (!simple_rdn(rdns[n], &names[n], &values[n]))
			return 0;
		size += strlen(names[n]) + 1 + values[n].len + 1;
		n++;
	}
	p = s = cs_malloc(size);
	/* Most specific RDN first (RFC 4514 order). */
	for (size_t i = n; i-- > 0;) {
		size_t k = strlen(names[i]);

		memcpy(p, names[i], k);
		p += k;
		*p++ = '=';
		if (values[i].len > 0)
			memcpy(p, values[i].p, values[i].len);
		p += values[i].len;
		if (i > 0)
			*p++ = ',';
	}
	*p = '\0';
	*out = s;
	return 1;
}
