/*
 * serial.h - certificate serial numbers as small values.
 *
 * A serial is kept as the big-endian magnitude without leading zero bytes
 * plus a sign flag (a few old roots in the wild have negative serials).
 * Text form is lower-case hex without leading zeros ("0" for zero), with a
 * leading '-' when negative: what the API prints and accepts.
 *
 * Pure. New serials for issuance come from caller-supplied random bytes.
 */
#ifndef CS_SERIAL_H
#define CS_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_SERIAL_MAX       32 /* RFC 5280 says 20; leave room for the wild */
#define CS_SERIAL_TEXT_SIZE (2 * CS_SERIAL_MAX + 2)

struct cs_serial {
	uint8_t len; /* 0..CS_SERIAL_MAX; 0 means the value zero */
	bool neg;
	uint8_t b[CS_SERIAL_MAX];
};

/* From big-endian two's-complement-free magnitude bytes (leading zeros are
 * stripped). CS_ETOOBIG when the magnitude exceeds CS_SERIAL_MAX bytes. */
int cs_serial_from_bytes(struct cs_serial *s, const uint8_t *p, size_t n,
    bool neg);

/* Lower-case hex, no leading zeros; out has CS_SERIAL_TEXT_SIZE bytes. */
void cs_serial_format(const struct cs_serial *s, char *out);

/* Parses hex text (either case, optional '-', leading zeros and ':'
 * separators allowed). CS_EINVAL / CS_ETOOBIG. */
int cs_serial_parse(const char *text, struct cs_serial *out);

/* A new positive serial from `rand` (at least 16 bytes, caller-random):
 * 128 bits or more, top bit cleared so the DER INTEGER stays positive
 * without padding, never zero. n is clamped to 20 bytes. */
void cs_serial_from_random(struct cs_serial *s, const uint8_t *rand, size_t n);

bool cs_serial_equal(const struct cs_serial *a, const struct cs_serial *b);

#endif
