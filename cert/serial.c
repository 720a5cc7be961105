#include "cert/serial.h"

#include <string.h>

#include "lib/error.h"
#include "lib/text.h"

int
cs_serial_from_bytes(struct cs_serial *s, const uint8_t *p, size_t n, bool neg)
{
	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	if (n > CS_SERIAL_MAX)
		return CS_ETOOBIG;
	memset(s, 0, sizeof *s);
	s->len = (uint8_t)n;
	s->neg = n > 0 && neg;
	if (n > 0)
		memcpy(s->b, p, n);
	return 0;
}

void
cs_serial_format(const struct cs_serial *s, char *out)
{
	char *p = out;
	char hex[2 * CS_SERIAL_MAX + 1];
	const char *h = hex;

	if (s->len == 0) {
		strcpy(out, "0");
		return;
	}
	if (s->neg)
		*p++ = '-';
	cs_hex_encode(s->b, s->len, hex);
	if (h[0] == '0')
		h++; /* no leading zero nibble */
	strcpy(p, h);
}

int
cs_serial_parse(const char *text, struct cs_serial *out)
{
	uint8_t b[CS_SERIAL_MAX + 1];
	char digits[2 * (CS_SERIAL_MAX + 1) + 1];
	size_t nd = 0;
	size_t n;
	bool neg = false;
	bool seen_digit = false;
	const char *p = text;
	int rc;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p == '\0')
		return CS_EINVAL;
	for (; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		seen_digit = true;
		if (nd == 0 && *p == '0')
			continue; /* leading zeros */
		if (nd >= sizeof digits - 2)
			return CS_ETOOBIG;
		digits[nd++] = *p;
	}
	if (!seen_digit)
		return CS_EINVAL; /* only separators */
	if (nd % 2 != 0) {
		memmove(digits + 1, digits, nd);
		digits[0] = '0';
		nd++;
	}
	rc = cs_hex_decode(digits, nd, b, sizeof b, &n);
	if (rc < 0)
		return rc == CS_ETOOBIG ? CS_ETOOBIG : CS_EINVAL;
	return cs_serial_from_bytes(out, b, n, neg);
}

void
cs_serial_from_random(struct cs_serial *s, const uint8_t *rand, size_t n)
{
	if (n > 20)
		n = 20;
	memset(s, 0, sizeof *s);
	memcpy(s->b, rand, n);
	s->b[0] &= 0x7f;
	s->b[0] |= 0x40; /* keeps >= 127 significant bits and never zero */
	s->len = (uint8_t)n;
}

bool
cs_serial_equal(const struct cs_serial *a, const struct cs_serial *b)
{
	return a->len == b->len && a->neg == b->neg &&
	       memcmp(a->b, b->b, a->len) == 0;
}
