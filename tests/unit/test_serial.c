/*
 * test_serial.c - cert/serial.c: text forms, bytes, random serials.
 */
#include <check.h>
#include <string.h>

#include "cert/serial.h"
#include "lib/error.h"
#include "tests/lib/runner.h"

/* Text in, rc and the canonical text back out. */
static const struct {
	const char *in;
	int rc;
	const char *out;
} parse_table[] = {
    {"0", 0, "0"},
    {"00", 0, "0"},
    {"-0", 0, "0"},
    {"1", 0, "1"},
    {"0001", 0, "1"},
    {"abc", 0, "abc"},
    {"ABC", 0, "abc"},
    {"0A1b", 0, "a1b"},
    {"0a:1b:2c", 0, "a1b2c"},
    {"DE:AD:BE:EF", 0, "deadbeef"},
    {"-ff", 0, "-ff"},
    {"-00:FF", 0, "-ff"},
    {"7fffffffffffffffffffffffffffffffffffffff", 0,
	"7fffffffffffffffffffffffffffffffffffffff"},
    /* 32 bytes: the maximum */
    {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0,
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
    /* leading zeros do not count against the limit */
    {"0000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000001",
	0, "1"},
    {"1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	CS_ETOOBIG, NULL},
    {"", CS_EINVAL, NULL},
    {"-", CS_EINVAL, NULL},
    {":", CS_EINVAL, NULL},
    {"-::", CS_EINVAL, NULL},
    {"xyz", CS_EINVAL, NULL},
    {"0x12", CS_EINVAL, NULL},
    {"12 34", CS_EINVAL, NULL},
    {"--1", CS_EINVAL, NULL},
    {"1-", CS_EINVAL, NULL},
};

START_TEST(test_parse_vectors)
{
	struct cs_serial s, back;
	char text[CS_SERIAL_TEXT_SIZE];
	int rc;

	memset(&s, 0xa5, sizeof s);
	rc = cs_serial_parse(parse_table[_i].in, &s);
	ck_assert_msg(rc == parse_table[_i].rc, "'%s': %s, want %s",
	    parse_table[_i].in, cs_errname(rc), cs_errname(parse_table[_i].rc));
	if (rc < 0)
		return;
	cs_serial_format(&s, text);
	ck_assert_str_eq(text, parse_table[_i].out);
	/* the canonical text parses back to the same value */
	ck_assert_int_eq(cs_serial_parse(text, &back), 0);
	ck_assert(cs_serial_equal(&s, &back));
}
END_TEST

START_TEST(test_from_bytes_strips_leading_zeros)
{
	static const uint8_t b[] = {0, 0, 0x0f, 0x00, 0x01};
	struct cs_serial s;
	char text[CS_SERIAL_TEXT_SIZE];

	ck_assert_int_eq(cs_serial_from_bytes(&s, b, sizeof b, false), 0);
	ck_assert_uint_eq(s.len, 3);
	cs_serial_format(&s, text);
	ck_assert_str_eq(text, "f0001"); /* no leading zero nibble either */
	ck_assert_int_eq(cs_serial_from_bytes(&s, b, sizeof b, true), 0);
	cs_serial_format(&s, text);
	ck_assert_str_eq(text, "-f0001");
	ck_assert_int_eq(cs_serial_from_bytes(&s, b, 2, true), 0);
	ck_assert_uint_eq(s.len, 0);
	ck_assert(!s.neg); /* there is no negative zero */
	cs_serial_format(&s, text);
	ck_assert_str_eq(text, "0");
}
END_TEST

START_TEST(test_from_bytes_too_long)
{
	uint8_t b[CS_SERIAL_MAX + 2];
	struct cs_serial s;

	memset(b, 0x11, sizeof b);
	ck_assert_int_eq(cs_serial_from_bytes(&s, b, CS_SERIAL_MAX, false), 0);
	ck_assert_int_eq(cs_serial_from_bytes(&s, b, CS_SERIAL_MAX + 1, false),
	    CS_ETOOBIG);
	b[0] = 0; /* 33 bytes with a leading zero are 32 */
	ck_assert_int_eq(cs_serial_from_bytes(&s, b, CS_SERIAL_MAX + 1, false),
	    0);
	ck_assert_uint_eq(s.len, CS_SERIAL_MAX);
}
END_TEST

START_TEST(test_format_round_trips_bytes)
{
	struct cs_serial s, back;
	char text[CS_SERIAL_TEXT_SIZE];
	uint8_t b[CS_SERIAL_MAX];
	uint32_t x = 2463534242u;

	for (int iter = 0; iter < 2000; iter++) {
		size_t n = (size_t)(iter % (CS_SERIAL_MAX + 1));

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b[i] = (uint8_t)x;
		}
		ck_assert_int_eq(cs_serial_from_bytes(&s, b, n, iter & 1), 0);
		cs_serial_format(&s, text);
		ck_assert_uint_lt(strlen(text), CS_SERIAL_TEXT_SIZE);
		ck_assert_int_eq(cs_serial_parse(text, &back), 0);
		ck_assert_msg(cs_serial_equal(&s, &back), "%s", text);
	}
}
END_TEST

START_TEST(test_from_random_properties)
{
	static const size_t sizes[] = {16, 17, 20, 21, 32};
	struct cs_serial s;
	uint8_t r[32];
	uint32_t x = 88172645u;

	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t want = sizes[k] > 20 ? 20 : sizes[k];

		for (int iter = 0; iter < 500; iter++) {
			for (size_t i = 0; i < sizeof r; i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				r[i] = (uint8_t)x;
			}
			if (iter == 0)
				memset(r, 0, sizeof r);
			if (iter == 1)
				memset(r, 0xff, sizeof r);
			cs_serial_from_random(&s, r, sizes[k]);
			ck_assert_uint_eq(s.len, want);
			ck_assert(!s.neg);
			/* top bit clear (positive DER without padding) and
			 * the next one set: 8 * len - 1 >= 127 bits, never 0 */
			ck_assert_uint_eq(s.b[0] & 0xc0, 0x40);
			ck_assert_mem_eq(s.b + 1, r + 1, want - 1);
		}
	}
}
END_TEST

START_TEST(test_equal)
{
	struct cs_serial a, b;

	ck_assert_int_eq(cs_serial_parse("abcd", &a), 0);
	ck_assert_int_eq(cs_serial_parse("00:ab:cd", &b), 0);
	ck_assert(cs_serial_equal(&a, &b));
	ck_assert_int_eq(cs_serial_parse("-abcd", &b), 0);
	ck_assert(!cs_serial_equal(&a, &b));
	ck_assert_int_eq(cs_serial_parse("abce", &b), 0);
	ck_assert(!cs_serial_equal(&a, &b));
	ck_assert_int_eq(cs_serial_parse("abcd00", &b), 0);
	ck_assert(!cs_serial_equal(&a, &b));
}
END_TEST

static Suite *
serial_suite(void)
{
	Suite *s = suite_create("serial");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_vectors, 0,
	    sizeof parse_table / sizeof parse_table[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("from_bytes");
	tcase_add_test(tc, test_from_bytes_strips_leading_zeros);
	tcase_add_test(tc, test_from_bytes_too_long);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, test_format_round_trips_bytes);
	suite_add_tcase(s, tc);
	tc = tcase_create("from_random");
	tcase_add_test(tc, test_from_random_properties);
	suite_add_tcase(s, tc);
	tc = tcase_create("equal");
	tcase_add_test(tc, test_equal);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(serial_suite)
