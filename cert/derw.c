#include "cert/derw.h"

#include <string.h>

#include "cert/der.h"
#include "lib/error.h"

void
cs_derw_init(struct cs_derw *w, struct cs_buf *b)
{
	w->b = b;
	w->err = 0;
}

static void
put(struct cs_derw *w, const void *p, size_t len)
{
	struct cs_buf *b = w->b;
	int rc;

	if (w->err != 0 || len == 0)
		return;
	/* The common case, inline: room allocated and under the cap (the
	 * + 1 keeps cs_buf's NUL). A CRL makes some 20 of these per entry. */
	if (len < b->cap - b->len && len <= b->max - b->len) {
		memcpy(b->data + b->len, p, len);
		b->len += len;
		b->data[b->len] = '\0';
		return;
	}
	rc = cs_buf_append(b, p, len);
	if (rc < 0)
		w->err = rc;
}

/* Bytes of the longest length field: 0x80 | n, then n big-endian bytes. */
#define LEN_MAX (1 + sizeof(size_t))

/* The length octets of len; returns how many. */
static size_t
length_octets(size_t len, uint8_t out[LEN_MAX])
{
	size_t n = 0;

	if (len < 0x80) {
		out[0] = (uint8_t)len;
		return 1;
	}
	for (size_t v = len; v > 0; v >>= 8)
		n++;
	out[0] = (uint8_t)(0x80 | n);
	for (size_t i = 0; i < n; i++)
		out[n - i] = (uint8_t)(len >> (8 * i));
	return n + 1;
}

size_t
cs_derw_begin(struct cs_derw *w, uint8_t tag)
{
	uint8_t hdr[2] = {tag, 0};
	size_t mark = w->b->len;

	put(w, hdr, 2);
	return mark;
}

void
cs_derw_end(struct cs_derw *w, size_t mark)
{
	uint8_t lo[LEN_MAX];
	size_t len, n;
	uint8_t *p;

	if (w->err != 0)
		return;
	len = w->b->len - mark - 2;
	n = length_octets(len, lo);
	if (n > 1) {
		int rc = cs_buf_reserve(w->b, n - 1);

		if (rc < 0) {
			w->err = rc;
			return;
		}
		p = w->b->data + mark;
		memmove(p + 1 + n, p + 2, len);
		w->b->len += n - 1;
		w->b->data[w->b->len] = '\0';
	}
	memcpy(w->b->data + mark + 1, lo, n);
}

void
cs_derw_tlv(struct cs_derw *w, uint8_t tag, const void *p, size_t len)
{
	uint8_t hdr[1 + LEN_MAX];
	size_t n;

	hdr[0] = tag;
	n = length_octets(len, hdr + 1);
	put(w, hdr, n + 1);
	put(w, p, len);
}

void
cs_derw_raw(struct cs_derw *w, const void *p, size_t len)
{
	put(w, p, len);
}

void
cs_derw_uint(struct cs_derw *w, const uint8_t *be, size_t len)
{
	uint8_t zero = 0;
	size_t mark;

	while (len > 1 && be[0] == 0) {
		be++;
		len--;
	}
	if (len == 0) {
		cs_derw_tlv(w, CS_DER_INTEGER, &zero, 1);
		return;
	}
	mark = cs_derw_begin(w, CS_DER_INTEGER);
	if (be[0] & 0x80)
		put(w, &zero, 1);
	put(w, be, len);
	cs_derw_end(w, mark);
}

void
cs_derw_int(struct cs_derw *w, const uint8_t *mag, size_t len, bool neg)
{
	uint8_t chunk[64], ff = 0xff;
	size_t last, mark, i, k;

	while (len > 0 && mag[0] == 0) {
		mag++;
		len--;
	}
	if (!neg || len == 0) {
		cs_derw_uint(w, mag, len);
		return;
	}
	/* Two's complement of -M, most significant byte first: the +1 of
	 * ~M + 1 carries through the trailing zero bytes of M (giving 0x00)
	 * into the last non-zero one. The first byte of ~M + 1 is 0xff only
	 * when M is 0x01 00...00, and then the second has its top bit clear,
	 * so the result is minimal once a 0xff is put in front of a first
	 * byte without its top bit. */
	for (last = len - 1; mag[last] == 0; last--)
		;
	mark = cs_derw_begin(w, CS_DER_INTEGER);
	if (((last == 0 ? (uint8_t)(~mag[0] + 1) : (uint8_t)~mag[0]) & 0x80) ==
	    0)
		put(w, &ff, 1);
	for (i = 0; i < len; i += k) {
		for (k = 0; k < sizeof chunk && i + k < len; k++) {
			size_t j = i + k;

			if (j < last)
				chunk[k] = (uint8_t)~mag[j];
			else if (j == last)
				chunk[k] = (uint8_t)(~mag[j] + 1);
			else
				chunk[k] = 0;
		}
		put(w, chunk, k);
	}
	cs_derw_end(w, mark);
}

void
cs_derw_u64(struct cs_derw *w, uint64_t v)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	cs_derw_uint(w, be, sizeof be);
}

void
cs_derw_bool(struct cs_derw *w, bool v)
{
	uint8_t b = v ? 0xff : 0x00;

	cs_derw_tlv(w, CS_DER_BOOLEAN, &b, 1);
}

void
cs_derw_oid(struct cs_derw *w, struct cs_oid oid)
{
	cs_derw_tlv(w, CS_DER_OID, oid.der, oid.len);
}

void
cs_derw_null(struct cs_derw *w)
{
	cs_derw_tlv(w, CS_DER_NULL, NULL, 0);
}

void
cs_derw_octets(struct cs_derw *w, const void *p, size_t len)
{
	cs_derw_tlv(w, CS_DER_OCTET_STRING, p, len);
}

void
cs_derw_bits(struct cs_derw *w, const void *p, size_t len)
{
	uint8_t unused = 0;
	size_t mark = cs_derw_begin(w, CS_DER_BIT_STRING);

	put(w, &unused, 1);
	put(w, p, len);
	cs_derw_end(w, mark);
}

void
cs_derw_named_bits(struct cs_derw *w, uint32_t bits, int nbits)
{
	uint8_t v[5] = {0};
	int last = -1;

	for (int i = 0; i < nbits && i < 32; i++) {
		if (bits & (1u << i)) {
			v[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
			last = i;
		}
	}
	if (last < 0) {
		cs_derw_tlv(w, CS_DER_BIT_STRING, v, 1);
		return;
	}
	v[0] = (uint8_t)(7 - last % 8); /* unused bits of the last byte */
	cs_derw_tlv(w, CS_DER_BIT_STRING, v, (size_t)(2 + last / 8));
}

/* The proleptic Gregorian date of a day count from 1970-01-01 (Howard
 * Hinnant's civil_from_days). gmtime_r() would do, but glibc takes a
 * process-wide lock in it, and a CRL formats one or two times per entry,
 * on several threads at once. */
static void
civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *
two_digits(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ; years 0000..9999 (CS_EINVAL past). */
static void
time_as(struct cs_derw *w, int64_t t, bool utc)
{
	int64_t days = t / 86400, secs = t % 86400, y;
	unsigned m, d;
	char s[16], *p = s;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999 || (utc && (y < 1950 || y > 2049))) {
		if (w->err == 0)
			w->err = CS_EINVAL;
		return;
	}
	if (!utc)
		p = two_digits(p, (unsigned)(y / 100));
	p = two_digits(p, (unsigned)(y % 100));
	p = two_digits(p, m);
	p = two_digits(p, d);
	p = two_digits(p, (unsigned)(secs / 3600));
	p = two_digits(p, (unsigned)(secs / 60 % 60));
	p = two_digits(p, (unsigned)(secs % 60));
	*p++ = 'Z';
	cs_derw_tlv(w, utc ? CS_DER_UTCTIME : CS_DER_GENTIME, s,
	    (size_t)(p - s));
}

void
cs_derw_time(struct cs_derw *w, int64_t t)
{
	/* 1950-01-01 .. 2049-12-31 in UTCTime (RFC 5280 4.1.2.5) */
	time_as(w, t, t >= -631152000 && t < 2524608000);
}

void
cs_derw_gentime(struct cs_derw *w, int64_t t)
{
	time_as(w, t, false);
}

void
cs_derw_str(struct cs_derw *w, uint8_t tag, const char *s)
{
	cs_derw_tlv(w, tag, s, strlen(s));
}

void
cs_derw_enum(struct cs_derw *w, uint8_t v)
{
	if (v >= 0x80) {
		if (w->err == 0)
			w->err = CS_EINVAL;
		return;
	}
	cs_derw_tlv(w, CS_DER_ENUMERATED, &v, 1);
}
