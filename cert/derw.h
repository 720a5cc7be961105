/*
 * derw.h - a DER writer for the structures certstore signs: certificates,
 * CRLs, OCSP responses.
 *
 * Constructed values are written in place: cs_derw_begin() puts the tag
 * and a one-byte length, the contents follow, and cs_derw_end() fixes the
 * length (moving the contents when it needs the long form). Errors are
 * sticky: after a failed append (the buffer's cap) every call is a no-op
 * and w->err holds the first error, so a builder checks once at the end.
 *
 * Pure.
 */
#ifndef CS_DERW_H
#define CS_DERW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct cs_derw {
	struct cs_buf *b;
	int err;
};

/* OIDs as the contents of an OBJECT IDENTIFIER (DER, without the tag). */
struct cs_oid {
	const char *der;
	size_t len;
};
#define CS_OID(s) ((struct cs_oid){s, sizeof s - 1})

void cs_derw_init(struct cs_derw *w, struct cs_buf *b);

/* Opens a constructed value; returns the mark cs_derw_end() takes. */
size_t cs_derw_begin(struct cs_derw *w, uint8_t tag);
void cs_derw_end(struct cs_derw *w, size_t mark);

/* A whole TLV with the given contents. */
void cs_derw_tlv(struct cs_derw *w, uint8_t tag, const void *p, size_t len);
/* Bytes that are already DER (a Name, a SubjectPublicKeyInfo). */
void cs_derw_raw(struct cs_derw *w, const void *p, size_t len);
/* INTEGER from big-endian unsigned magnitude (leading zeros dropped, a
 * zero byte added when the top bit is set). */
void cs_derw_uint(struct cs_derw *w, const uint8_t *be, size_t len);
/* INTEGER from a big-endian magnitude and a sign, in minimal two's
 * complement (a struct cs_serial: negative serials exist in the wild). A
 * zero magnitude is 0 whatever neg says. */
void cs_derw_int(struct cs_derw *w, const uint8_t *mag, size_t len, bool neg);
void cs_derw_u64(struct cs_derw *w, uint64_t v);
void cs_derw_bool(struct cs_derw *w, bool v);
void cs_derw_oid(struct cs_derw *w, struct cs_oid oid);
void cs_derw_null(struct cs_derw *w);
void cs_derw_octets(struct cs_derw *w, const void *p, size_t len);
/* BIT STRING with no unused bits. */
void cs_derw_bits(struct cs_derw *w, const void *p, size_t len);
/* A named bit list (KeyUsage, ReasonFlags): bit 0 is the MSB of the first
 * byte, trailing zero bits dropped as DER wants. */
void cs_derw_named_bits(struct cs_derw *w, uint32_t bits, int nbits);
/* RFC 5280 Time: UTCTime through 2049, GeneralizedTime after (and before
 * 1950). Times outside the years 0000..9999 set CS_EINVAL. */
void cs_derw_time(struct cs_derw *w, int64_t t);
/* GeneralizedTime always (OCSP, invalidity dates). */
void cs_derw_gentime(struct cs_derw *w, int64_t t);
/* A string of the given tag (UTF8String 0x0c, IA5String 0x16...). */
void cs_derw_str(struct cs_derw *w, uint8_t tag, const char *s);
/* ENUMERATED, 0..127 (OCSP statuses, CRL reasons). */
void cs_derw_enum(struct cs_derw *w, uint8_t v);

#define CS_DER_BOOLEAN    0x01
#define CS_DER_ENUMERATED 0x0a
#define CS_DER_UTF8       0x0c
#define CS_DER_SET        0x31
#define CS_DER_IA5        0x16
#define CS_DER_UTCTIME    0x17
#define CS_DER_GENTIME    0x18

#endif
