#include "lib/text.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

void
cs_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
cs_hex_decode(const char *s, size_t len, uint8_t *out, size_t max,
    size_t *outlen)
{
	if (len % 2 != 0)
		return CS_EINVAL;
	if (len / 2 > max)
		return CS_ETOOBIG;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(s[i]);
		int lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			return CS_EINVAL;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = len / 2;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so that no time zone or libc state is involved. */
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

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

int64_t
cs_time_from_utc(int64_t year, unsigned mon, unsigned mday, unsigned hour,
    unsigned min, unsigned sec)
{
	return days_from_civil(year, mon, mday) * 86400 + hour * 3600 +
	       min * 60 + sec;
}

void
cs_time_format(int64_t t, char *out)
{
	int64_t days = t / 86400;
	int64_t rem = t % 86400;
	int64_t y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) { /* outside RFC 3339: clamp, never overflow */
		strcpy(out,
		    y < 0 ? "0000-01-01T00:00:00Z" : "9999-12-31T23:59:59Z");
		return;
	}
	snprintf(out, CS_TIME_TEXT_SIZE, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
	    (long long)y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
	    (int)(rem % 60));
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return CS_EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* "2026-02-30" must be refused, not read as March 2. */
static int
days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int
cs_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	int sign = 0;
	const char *p = s;

	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0)
		return CS_EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return CS_EINVAL;
	p++;
	if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0 ||
	    *p++ != ':' || digits(&p, 2, &sec) < 0)
		return CS_EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return CS_EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (digits(&p, 2, &oh) < 0 || *p++ != ':' ||
		    digits(&p, 2, &om) < 0)
			return CS_EINVAL;
	} else {
		return CS_EINVAL;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return CS_EINVAL;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	       h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}

int
cs_duration_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	int64_t mult = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return CS_EINVAL;
	while (isdigit((unsigned char)*p)) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return CS_EINVAL;
		v = v * 10 + (*p - '0');
		p++;
	}
	switch (*p) {
	case '\0':
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	case 'w':
		mult = 7 * 86400;
		break;
	default:
		return CS_EINVAL;
	}
	if (*p != '\0' && p[1] != '\0')
		return CS_EINVAL;
	if (v > INT64_MAX / mult)
		return CS_EINVAL;
	*out = v * mult;
	return 0;
}

void
cs_duration_format(int64_t secs, char *out)
{
	if (secs != 0 && secs % 86400 == 0)
		snprintf(out, 24, "%lldd", (long long)(secs / 86400));
	else if (secs != 0 && secs % 3600 == 0)
		snprintf(out, 24, "%lldh", (long long)(secs / 3600));
	else if (secs != 0 && secs % 60 == 0)
		snprintf(out, 24, "%lldm", (long long)(secs / 60));
	else
		snprintf(out, 24, "%llds", (long long)secs);
}
