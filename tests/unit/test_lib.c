/*
 * test_lib.c - lib/: capped buffers, error codes and messages, text codecs.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/text.h"
#include "tests/lib/runner.h"

/* ---- buf ---- */

static void
assert_terminated(const struct cs_buf *b)
{
	ck_assert_ptr_nonnull(b->data);
	ck_assert_uint_lt(b->len, b->cap);
	ck_assert_int_eq(b->data[b->len], '\0');
}

START_TEST(test_buf_append_cap_exact)
{
	struct cs_buf b;
	char big[100];

	memset(big, 'x', sizeof big);
	cs_buf_init(&b, 10);
	ck_assert_int_eq(cs_buf_append(&b, big, 10), 0);
	assert_terminated(&b);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(cs_buf_append(&b, big, 0), 0); /* 10 + 0 fits */
	ck_assert_int_eq(cs_buf_append_byte(&b, 'y'), CS_ETOOBIG);
	ck_assert_uint_eq(b.len, 10); /* unchanged by the failure */
	ck_assert_mem_eq(b.data, "xxxxxxxxxx", 11);
	cs_buf_reset(&b);
	ck_assert_int_eq(cs_buf_append(&b, big, 11), CS_ETOOBIG);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(cs_buf_append_str(&b, "0123456789"), 0);
	ck_assert_int_eq(cs_buf_append_str(&b, "a"), CS_ETOOBIG);
	ck_assert_str_eq((char *)b.data, "0123456789");
	ck_assert_int_eq(cs_buf_reserve(&b, SIZE_MAX), CS_ETOOBIG);
	cs_buf_close(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_buf_append_grows_and_terminates)
{
	struct cs_buf b;

	cs_buf_init(&b, 1 << 20);
	for (int i = 0; i < 5000; i++) {
		ck_assert_int_eq(cs_buf_append_byte(&b,
				     (uint8_t)('a' + i % 26)),
		    0);
		assert_terminated(&b);
	}
	ck_assert_uint_eq(b.len, 5000);
	ck_assert_int_eq(b.data[4999], 'a' + 4999 % 26);
	cs_buf_close(&b);
	/* usable again after close */
	ck_assert_int_eq(cs_buf_append_str(&b, "again"), 0);
	ck_assert_str_eq((char *)b.data, "again");
	cs_buf_close(&b);
}
END_TEST

START_TEST(test_buf_printf)
{
	struct cs_buf b;

	cs_buf_init(&b, 32);
	ck_assert_int_eq(cs_buf_printf(&b, "%s=%d", "rc", -7), 0);
	ck_assert_int_eq(cs_buf_printf(&b, "%s", ""), 0);
	ck_assert_int_eq(cs_buf_printf(&b, " %05.1f", 2.5), 0);
	ck_assert_str_eq((char *)b.data, "rc=-7 002.5");
	ck_assert_uint_eq(b.len, 11);
	assert_terminated(&b);
	/* 11 + 22 > 32: refused, content kept */
	ck_assert_int_eq(cs_buf_printf(&b, "%22s", "x"), CS_ETOOBIG);
	ck_assert_str_eq((char *)b.data, "rc=-7 002.5");
	ck_assert_int_eq(cs_buf_printf(&b, "%21s", "x"), 0);
	ck_assert_uint_eq(b.len, 32);
	assert_terminated(&b);
	cs_buf_close(&b);
}
END_TEST

START_TEST(test_buf_steal)
{
	struct cs_buf b;
	uint8_t *p;
	size_t len = 99;

	cs_buf_init(&b, 100);
	p = cs_buf_steal(&b, &len); /* empty: "" rather than NULL */
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(p[0], '\0');
	free(p);
	ck_assert_int_eq(cs_buf_append_str(&b, "hello"), 0);
	p = cs_buf_steal(&b, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq((char *)p, "hello");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.max, 100); /* the cap survives */
	free(p);
	p = cs_buf_steal(&b, NULL);
	ck_assert_ptr_nonnull(p);
	free(p);
}
END_TEST

START_TEST(test_buf_reset_keeps_allocation)
{
	struct cs_buf b;
	uint8_t *data;

	cs_buf_init(&b, 100);
	cs_buf_reset(&b); /* before any allocation: no-op */
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(cs_buf_append_str(&b, "abc"), 0);
	data = b.data;
	cs_buf_reset(&b);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq((char *)b.data, "");
	cs_buf_close(&b);
}
END_TEST

START_TEST(test_buf_truncate_undoes_appends)
{
	struct cs_buf b;

	cs_buf_init(&b, 100);
	cs_buf_truncate(&b, 0); /* before any allocation: no-op */
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(cs_buf_append_str(&b, "head"), 0);
	ck_assert_int_eq(cs_buf_append_str(&b, "-tail"), 0);
	cs_buf_truncate(&b, 4);
	ck_assert_uint_eq(b.len, 4);
	ck_assert_str_eq((char *)b.data, "head");
	cs_buf_truncate(&b, 9); /* longer than the content: unchanged */
	ck_assert_uint_eq(b.len, 4);
	ck_assert_str_eq((char *)b.data, "head");
	cs_buf_close(&b);
}
END_TEST

/* ---- error ---- */

START_TEST(test_strerror_every_code)
{
	int rc = -_i;
	const char *text = cs_strerror(rc);
	const char *name = cs_errname(rc);

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_gt(strlen(text), 3);
	ck_assert_str_ne(text, "unknown error");
	ck_assert_uint_eq(strncmp(name, "CS_", 3), 0);
	/* names and texts are distinct across codes */
	for (int other = 0; other >= CS_E__MIN; other--) {
		if (other == rc)
			continue;
		ck_assert_str_ne(text, cs_strerror(other));
		ck_assert_str_ne(name, cs_errname(other));
	}
}
END_TEST

START_TEST(test_strerror_known_and_unknown)
{
	ck_assert_str_eq(cs_errname(CS_OK), "CS_OK");
	ck_assert_str_eq(cs_errname(CS_EINVAL), "CS_EINVAL");
	ck_assert_str_eq(cs_errname(CS_ELEADERLOST), "CS_ELEADERLOST");
	ck_assert_str_eq(cs_strerror(CS_ETOOBIG), "too big");
	ck_assert_str_eq(cs_strerror(1), "unknown error");
	ck_assert_str_eq(cs_strerror(CS_E__MIN - 1), "unknown error");
	ck_assert_str_eq(cs_errname(-1000), "CS_E?");
}
END_TEST

START_TEST(test_err_from_errno)
{
	static const struct {
		int e, rc;
	} t[] = {
	    {0, 0},
	    {ENOMEM, CS_ENOMEM},
	    {EINVAL, CS_EINVAL},
	    {ENOENT, CS_ENOTFOUND},
	    {EEXIST, CS_EEXIST},
	    {EADDRINUSE, CS_EEXIST},
	    {EAGAIN, CS_EBUSY},
	    {ECANCELED, CS_ECANCELED},
	    {EMSGSIZE, CS_ETOOBIG},
	    {EACCES, CS_EPERM},
	    {ETIMEDOUT, CS_ETIMEDOUT},
	    {EPROTO, CS_EPROTO},
	    {EPIPE, CS_EIO},
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		ck_assert_int_eq(cs_err_from_errno(t[i].e), t[i].rc);
		ck_assert_int_eq(cs_err_from_errno(-t[i].e), t[i].rc);
	}
}
END_TEST

START_TEST(test_errmsg_wrapf_chains)
{
	char m[CS_ERRMSG_SIZE] = "";

	cs_errmsg_wrapf(m, "inner %d", 1); /* empty: just the context */
	ck_assert_str_eq(m, "inner 1");
	cs_errmsg_wrapf(m, "certificate %d", 3);
	cs_errmsg_wrapf(m, "parse bundle");
	ck_assert_str_eq(m, "parse bundle: certificate 3: inner 1");
	cs_errmsg_printf(m, "fresh %s", "start");
	ck_assert_str_eq(m, "fresh start");
	cs_errmsg_printf(NULL, "ignored");
	cs_errmsg_wrapf(NULL, "ignored");
}
END_TEST

START_TEST(test_errmsg_wrapf_truncates)
{
	char m[CS_ERRMSG_SIZE];
	char ctx[400];

	memset(m, 'i', sizeof m - 1);
	m[sizeof m - 1] = '\0';
	cs_errmsg_wrapf(m, "outer");
	ck_assert_uint_eq(strlen(m), CS_ERRMSG_SIZE - 1);
	ck_assert_uint_eq(strncmp(m, "outer: iii", 10), 0);
	/* a context longer than the buffer keeps its start, terminated */
	memset(ctx, 'c', sizeof ctx - 1);
	ctx[sizeof ctx - 1] = '\0';
	cs_errmsg_printf(m, "inner");
	cs_errmsg_wrapf(m, "%s", ctx);
	ck_assert_uint_eq(strlen(m), CS_ERRMSG_SIZE - 1);
	ck_assert_int_eq(m[0], 'c');
	cs_errmsg_printf(m, "%s", ctx);
	ck_assert_uint_eq(strlen(m), CS_ERRMSG_SIZE - 1);
}
END_TEST

/* ---- text: hex ---- */

START_TEST(test_hex_round_trip)
{
	uint8_t in[256], out[256];
	char text[513];
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	cs_hex_encode(in, sizeof in, text);
	ck_assert_uint_eq(strlen(text), 512);
	ck_assert_uint_eq(strncmp(text, "000102", 6), 0);
	ck_assert_str_eq(text + 506, "fdfeff");
	ck_assert_int_eq(cs_hex_decode(text, 512, out, sizeof out, &n), 0);
	ck_assert_uint_eq(n, 256);
	ck_assert_mem_eq(in, out, 256);
	ck_assert_int_eq(cs_hex_decode("DeAdBeEf", 8, out, 4, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(out, "\xde\xad\xbe\xef", 4);
	cs_hex_encode(in, 0, text);
	ck_assert_str_eq(text, "");
	ck_assert_int_eq(cs_hex_decode("", 0, out, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_hex_decode_bad_input)
{
	uint8_t out[4];
	size_t n = 77;

	ck_assert_int_eq(cs_hex_decode("abc", 3, out, 4, &n), CS_EINVAL);
	ck_assert_int_eq(cs_hex_decode("zz", 2, out, 4, &n), CS_EINVAL);
	ck_assert_int_eq(cs_hex_decode("0g", 2, out, 4, &n), CS_EINVAL);
	ck_assert_int_eq(cs_hex_decode("0 ", 2, out, 4, &n), CS_EINVAL);
	ck_assert_int_eq(cs_hex_decode("0011223344", 10, out, 4, &n),
	    CS_ETOOBIG);
	ck_assert_uint_eq(n, 77);
}
END_TEST

/* ---- text: RFC 3339 ---- */

static const struct {
	const char *text;
	int64_t t;
} time_table[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"1969-12-31T23:59:59Z", -1},
    {"2000-02-29T00:00:00Z", 951782400},
    {"2000-03-01T00:00:00Z", 951868800},
    {"2038-01-19T03:14:08Z", 2147483648LL},
    {"2100-02-28T23:59:59Z", 4107542399LL},
    {"2100-03-01T00:00:00Z", 4107542400LL},
    {"1900-03-01T00:00:00Z", -2203891200LL},
    {"0001-01-01T00:00:00Z", -62135596800LL},
    {"9999-12-31T23:59:59Z", 253402300799LL},
};

START_TEST(test_time_format_vectors)
{
	char text[CS_TIME_TEXT_SIZE];
	int64_t t = 1;

	cs_time_format(time_table[_i].t, text);
	ck_assert_str_eq(text, time_table[_i].text);
	ck_assert_int_eq(cs_time_parse(time_table[_i].text, &t), 0);
	ck_assert_int_eq(t, time_table[_i].t);
}
END_TEST

START_TEST(test_time_format_clamps)
{
	char text[CS_TIME_TEXT_SIZE];

	cs_time_format(253402300800LL, text); /* 10000-01-01 */
	ck_assert_str_eq(text, "9999-12-31T23:59:59Z");
	cs_time_format(INT64_MAX, text);
	ck_assert_str_eq(text, "9999-12-31T23:59:59Z");
	cs_time_format(-62167219201LL, text); /* before year 0 */
	ck_assert_str_eq(text, "0000-01-01T00:00:00Z");
	cs_time_format(INT64_MIN, text);
	ck_assert_str_eq(text, "0000-01-01T00:00:00Z");
}
END_TEST

/* Random instants over years 1..9999 against glibc's gmtime_r/timegm,
 * which are TZ-free in UTC and handle the proleptic calendar. */
START_TEST(test_time_random_vs_timegm)
{
	const int64_t lo = -62135596800LL, hi = 253402300799LL;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char mine[CS_TIME_TEXT_SIZE], ref[64];

	for (int i = 0; i < 20000; i++) {
		int64_t t, back = 0;
		time_t tt;
		struct tm tm;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
		if (i < 400) /* around the epoch and leap days, densely */
			t = (int64_t)(i - 200) * 86399;
		tt = (time_t)t;
		ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
		snprintf(ref, sizeof ref, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		cs_time_format(t, mine);
		ck_assert_str_eq(mine, ref);
		ck_assert_int_eq(cs_time_parse(mine, &back), 0);
		ck_assert_int_eq(back, t);
		ck_assert_int_eq((int64_t)timegm(&tm), t);
	}
}
END_TEST

static const struct {
	const char *text;
	int64_t t;
} time_forms[] = {
    {"2026-11-27T09:45:49Z", 1795772749},
    {"2026-11-27t09:45:49z", 1795772749},
    {"2026-11-27 09:45:49Z", 1795772749},
    {"2026-11-27T09:45:49.123456789Z", 1795772749},
    {"2026-11-27T10:45:49+01:00", 1795772749},
    {"2026-11-27T04:15:49-05:30", 1795772749},
    {"2026-11-28T09:44:49+23:59", 1795772749},
    {"2026-11-27T09:45:49.5+00:00", 1795772749},
    {"2026-11-27T09:45:49-00:00", 1795772749},
    {"2024-02-29T00:00:00Z", 1709164800},
    /* RFC 3339 allows a leap second; it folds into the next second */
    {"2016-12-31T23:59:60Z", 1483228800},
};

START_TEST(test_time_parse_forms)
{
	int64_t t = 0;

	ck_assert_msg(cs_time_parse(time_forms[_i].text, &t) == 0, "%s",
	    time_forms[_i].text);
	ck_assert_int_eq(t, time_forms[_i].t);
}
END_TEST

static const char *const bad_times[] = {
    "",
    "2026-11-27",
    "2026-11-27T09:45Z",
    "2026-11-27T09:45:49",
    "2026-11-27T09:45:49ZZ",
    "2026-11-27T09:45:49Z ",
    "2026-11-27T09:45:49.Z",
    "2026-11-27T09:45:49+01",
    "2026-11-27T09:45:49+0100",
    "2026-11-27T09:45:49+24:00",
    "2026-11-27T09:45:49+01:60",
    "2026-11-27X09:45:49Z",
    "26-11-27T09:45:49Z",
    "2026/11/27T09:45:49Z",
    "2026-00-27T09:45:49Z",
    "2026-13-27T09:45:49Z",
    "2026-11-00T09:45:49Z",
    "2026-11-31T09:45:49Z",
    "2026-02-29T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-11-27T24:00:00Z",
    "2026-11-27T09:60:49Z",
    "2026-11-27T09:45:61Z",
    "2026-11-27T-9:45:49Z",
    "2026-1l-27T09:45:49Z",
};

START_TEST(test_time_parse_rejects)
{
	int64_t t = 4242;

	ck_assert_msg(cs_time_parse(bad_times[_i], &t) == CS_EINVAL,
	    "'%s' accepted", bad_times[_i]);
	ck_assert_int_eq(t, 4242);
}
END_TEST

/* ---- text: durations ---- */

static const struct {
	const char *text;
	int64_t secs;
} duration_table[] = {
    {"0", 0},
    {"0s", 0},
    {"45", 45},
    {"45s", 45},
    {"90m", 5400},
    {"12h", 43200},
    {"30d", 2592000},
    {"2w", 1209600},
    {"007m", 420},
    {"9223372036854775807s", INT64_MAX - 0},
    {"106751991167300d", 106751991167300LL * 86400},
};

START_TEST(test_duration_parse_table)
{
	int64_t v = -1;
	int rc = cs_duration_parse(duration_table[_i].text, &v);

	ck_assert_msg(rc == 0, "'%s': %s", duration_table[_i].text,
	    cs_errname(rc));
	ck_assert_int_eq(v, duration_table[_i].secs);
}
END_TEST

static const char *const bad_durations[] = {
    "",
    "s",
    "d",
    "10x",
    "10dd",
    "10ms",
    "-5m",
    "+5m",
    "1.5h",
    " 5m",
    "5 m",
    "5m ",
    "5M",
    "0x10",
    "9223372036854775808",
    "99999999999999999999999",
    "106751991167301d",
    "15250284452472w",
    "153722867280912931m",
};

START_TEST(test_duration_parse_rejects)
{
	int64_t v = 4242;

	ck_assert_msg(cs_duration_parse(bad_durations[_i], &v) == CS_EINVAL,
	    "'%s' accepted", bad_durations[_i]);
	ck_assert_int_eq(v, 4242);
}
END_TEST

START_TEST(test_duration_format)
{
	static const struct {
		int64_t secs;
		const char *text;
	} t[] = {
	    {0, "0s"},
	    {7, "7s"},
	    {60, "1m"},
	    {5400, "90m"},
	    {3600, "1h"},
	    {43200, "12h"},
	    {86400, "1d"},
	    {2592000, "30d"},
	    {604800, "7d"},
	    {86401, "86401s"},
	    {90000, "25h"},
	};
	char text[24];
	int64_t back;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		cs_duration_format(t[i].secs, text);
		ck_assert_str_eq(text, t[i].text);
		ck_assert_int_eq(cs_duration_parse(text, &back), 0);
		ck_assert_int_eq(back, t[i].secs);
	}
}
END_TEST

static Suite *
lib_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *tc;

	tc = tcase_create("buf");
	tcase_add_test(tc, test_buf_append_cap_exact);
	tcase_add_test(tc, test_buf_append_grows_and_terminates);
	tcase_add_test(tc, test_buf_printf);
	tcase_add_test(tc, test_buf_steal);
	tcase_add_test(tc, test_buf_reset_keeps_allocation);
	tcase_add_test(tc, test_buf_truncate_undoes_appends);
	suite_add_tcase(s, tc);

	tc = tcase_create("error");
	tcase_add_loop_test(tc, test_strerror_every_code, 0, -CS_E__MIN + 1);
	tcase_add_test(tc, test_strerror_known_and_unknown);
	tcase_add_test(tc, test_err_from_errno);
	tcase_add_test(tc, test_errmsg_wrapf_chains);
	tcase_add_test(tc, test_errmsg_wrapf_truncates);
	suite_add_tcase(s, tc);

	tc = tcase_create("hex");
	tcase_add_test(tc, test_hex_round_trip);
	tcase_add_test(tc, test_hex_decode_bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_loop_test(tc, test_time_format_vectors, 0,
	    sizeof time_table / sizeof time_table[0]);
	tcase_add_test(tc, test_time_format_clamps);
	tcase_add_test(tc, test_time_random_vs_timegm);
	tcase_add_loop_test(tc, test_time_parse_forms, 0,
	    sizeof time_forms / sizeof time_forms[0]);
	tcase_add_loop_test(tc, test_time_parse_rejects, 0,
	    sizeof bad_times / sizeof bad_times[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("duration");
	tcase_add_loop_test(tc, test_duration_parse_table, 0,
	    sizeof duration_table / sizeof duration_table[0]);
	tcase_add_loop_test(tc, test_duration_parse_rejects, 0,
	    sizeof bad_durations / sizeof bad_durations[0]);
	tcase_add_test(tc, test_duration_format);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(lib_suite)
