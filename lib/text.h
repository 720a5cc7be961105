/*
 * text.h - small pure text codecs shared by every layer: hex, RFC 3339
 * times, durations ("30d", "12h", "90m", "45s").
 *
 * Times are int64_t seconds since the Unix epoch, UTC, everywhere in
 * certstore (X.509 has second resolution).
 */
#ifndef CS_TEXT_H
#define CS_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*n lower-case hex digits and a NUL to out (2*n+1 bytes). */
void cs_hex_encode(const uint8_t *p, size_t n, char *out);

/* Decodes len hex digits (either case) into out (at most max bytes).
 * CS_EINVAL on an odd length or a non-hex digit, CS_ETOOBIG if the result
 * does not fit. On success *outlen = len / 2. */
int cs_hex_decode(const char *s, size_t len, uint8_t *out, size_t max,
    size_t *outlen);

/* Unix seconds of a UTC calendar time (proleptic Gregorian; no time zone
 * or libc state involved). mon 1..12, mday 1..31. */
int64_t cs_time_from_utc(int64_t year, unsigned mon, unsigned mday,
    unsigned hour, unsigned min, unsigned sec);

#define CS_TIME_TEXT_SIZE 32
/* "2026-11-27T09:45:49Z" into out (CS_TIME_TEXT_SIZE bytes). */
void cs_time_format(int64_t t, char *out);
/* Parses RFC 3339 ("2026-11-27T09:45:49Z", fraction and numeric offsets
 * accepted). CS_EINVAL on anything else. */
int cs_time_parse(const char *s, int64_t *out);

/* Parses "<digits><unit>" with unit s, m, h, d or w (a bare number means
 * seconds) into seconds. CS_EINVAL on bad syntax or overflow. */
int cs_duration_parse(const char *s, int64_t *out);
/* Writes the largest exact unit ("30d", "90m", "7s") into out (24 bytes). */
void cs_duration_format(int64_t secs, char *out);

#endif
