/* test_http.c - the pure parts of api/http: percent-decoding, query
 * lookup, response heads, problem bodies, dates, header validation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/http.h"
#include "api/http_int.h"
#include "lib/error.h"
#include "tests/lib/runner.h"

/* ---- cs_http_pct_decode ---- */

static const struct {
	const char *in;
	int plus_space;
	int rc;
	const char *out;
} pct_vectors[] = {
    {"abc", 0, 0, "abc"},
    {"", 0, 0, ""},
    /* OCSP GET: base64 with '+' and '/' must come through untouched */
    {"MEkw%2BRzBF%2Fab+c/d", 0, 0, "MEkw+RzBF/ab+c/d"},
    {"a+b", 1, 0, "a b"},
    {"%41%62%7e", 0, 0, "Ab~"},
    {"%4", 0, CS_EINVAL, NULL},
    {"%", 0, CS_EINVAL, NULL},
    {"%zz", 0, CS_EINVAL, NULL},
    {"a%00b", 0, CS_EINVAL, NULL}, /* no NUL smuggling */
    {"%C3%A9", 0, 0, "\xc3\xa9"},
};

START_TEST(test_pct_decode_vectors)
{
	char out[64];
	size_t outlen = 999;
	int rc;

	rc = cs_http_pct_decode(pct_vectors[_i].in, strlen(pct_vectors[_i].in),
	    out, &outlen, pct_vectors[_i].plus_space);
	ck_assert_int_eq(rc, pct_vectors[_i].rc);
	if (rc == 0) {
		ck_assert_str_eq(out, pct_vectors[_i].out);
		ck_assert_uint_eq(outlen, strlen(pct_vectors[_i].out));
	}
}
END_TEST

/* ---- cs_http_query_find ---- */

START_TEST(test_query_find_params)
{
	const char *v;
	size_t len;

	ck_assert_int_eq(cs_http_query_find("a=1&bb=x%2Fy&c", "bb", &v, &len),
	    0);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(strncmp(v, "x%2Fy", len), 0);
	ck_assert_int_eq(cs_http_query_find("a=1&bb=2&c", "c", &v, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(cs_http_query_find("a=1&bb=2", "b", &v, &len),
	    CS_ENOTFOUND);
	ck_assert_int_eq(cs_http_query_find("", "a", &v, &len), CS_ENOTFOUND);
	ck_assert_int_eq(cs_http_query_find("x=&a=", "a", &v, &len), 0);
	ck_assert_uint_eq(len, 0);
	/* the first of repeated names wins */
	ck_assert_int_eq(cs_http_query_find("a=1&a=2", "a", &v, &len), 0);
	ck_assert_int_eq(v[0], '1');
}
END_TEST

/* ---- formatting ---- */

START_TEST(test_format_head_adds_fields)
{
	const struct cs_http_header h[] = {
	    {"Content-Type", "text/plain"},
	    {"Content-Length", "999"}, /* ignored: the server counts */
	    {"X-A", "b"},
	};
	size_t len;
	char *head;

	head = cs_http__format_head(404, h, 3, 1, 12, 0, 1, &len);
	ck_assert_ptr_nonnull(head);
	ck_assert_uint_eq(strlen(head), len);
	ck_assert_int_eq(strncmp(head, "HTTP/1.1 404 Not Found\r\nDate: ", 30),
	    0);
	ck_assert_ptr_nonnull(strstr(head, "\r\nContent-Type: text/plain\r\n"));
	ck_assert_ptr_nonnull(strstr(head, "\r\nX-A: b\r\n"));
	ck_assert_ptr_nonnull(strstr(head, "\r\nContent-Length: 12\r\n"));
	ck_assert_ptr_null(strstr(head, "999"));
	ck_assert_ptr_nonnull(strstr(head, "\r\nConnection: keep-alive\r\n"));
	ck_assert_str_eq(head + len - 4, "\r\n\r\n");
	free(head);

	head = cs_http__format_head(204, NULL, 0, 0, 0, 1, 0, &len);
	ck_assert_ptr_null(strstr(head, "Content-Length"));
	ck_assert_ptr_nonnull(strstr(head, "\r\nConnection: close\r\n"));
	free(head);

	/* lengths written by hand: zero and a large one */
	head = cs_http__format_head(200, NULL, 0, 1, 0, 0, 0, &len);
	ck_assert_ptr_nonnull(strstr(head, "\r\nContent-Length: 0\r\n"));
	ck_assert_ptr_null(strstr(head, "Connection:"));
	free(head);
	head =
	    cs_http__format_head(503, NULL, 0, 1, 1234567890123u, 0, 0, &len);
	ck_assert_int_eq(strncmp(head, "HTTP/1.1 503 ", 13), 0);
	ck_assert_ptr_nonnull(
	    strstr(head, "\r\nContent-Length: 1234567890123\r\n"));
	free(head);
	/* the Date is today's, in the IMF-fixdate form */
	{
		char want[32];

		cs_http_date_format((int64_t)time(NULL), want);
		head = cs_http__format_head(200, NULL, 0, 0, 0, 0, 0, &len);
		ck_assert_ptr_nonnull(strstr(head, "\r\nDate: "));
		ck_assert_int_eq(strncmp(strstr(head, "\r\nDate: ") + 8, want,
				     17),
		    0); /* the day: "Fri, 27 Nov 2026 " */
		free(head);
	}
	/* a status that is not three digits is refused */
	ck_assert_ptr_null(
	    cs_http__format_head(1000, NULL, 0, 0, 0, 0, 0, &len));
}
END_TEST

START_TEST(test_headers_check_rejects_splitting)
{
	const struct cs_http_header ok[] = {{"Location", "/a?b=c d"},
	    {"Connection", "Close"}};
	const struct cs_http_header crlf[] = {{"X", "a\r\nSet-Cookie: x"}};
	const struct cs_http_header lf[] = {{"X", "a\nb"}};
	const struct cs_http_header badname[] = {{"X Y", "a"}};
	const struct cs_http_header colon[] = {{"X:", "a"}};
	const struct cs_http_header empty[] = {{"", "a"}};
	int close = -1;

	ck_assert_int_eq(cs_http__headers_check(ok, 2, &close), 0);
	ck_assert_int_eq(close, 1);
	ck_assert_int_eq(cs_http__headers_check(ok, 1, &close), 0);
	ck_assert_int_eq(close, 0);
	ck_assert_int_eq(cs_http__headers_check(crlf, 1, &close), CS_EINVAL);
	ck_assert_int_eq(cs_http__headers_check(lf, 1, &close), CS_EINVAL);
	ck_assert_int_eq(cs_http__headers_check(badname, 1, &close), CS_EINVAL);
	ck_assert_int_eq(cs_http__headers_check(colon, 1, &close), CS_EINVAL);
	ck_assert_int_eq(cs_http__headers_check(empty, 1, &close), CS_EINVAL);
}
END_TEST

START_TEST(test_problem_body_escapes)
{
	size_t len;
	uint8_t *b = cs_http__problem(413, "too \"big\"\n\\", &len);

	ck_assert_str_eq((char *)b,
	    "{\"type\":\"urn:certstore:problem:too-big\",\"title\":"
	    "\"Payload Too Large\","
	    "\"status\":413,\"detail\":\"too \\\"big\\\"\\u000a\\\\\"}");
	ck_assert_uint_eq(len, strlen((char *)b));
	free(b);
	b = cs_http__problem(503, NULL, &len);
	ck_assert_str_eq((char *)b,
	    "{\"type\":\"urn:certstore:problem:unavailable\",\"title\":"
	    "\"Service Unavailable\",\"status\":503}");
	free(b);
}
END_TEST

START_TEST(test_date_format_imf)
{
	char out[32];

	cs_http_date_format(784111777, out); /* RFC 9110's example */
	ck_assert_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	cs_http_date_format(0, out);
	ck_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
}
END_TEST

START_TEST(test_status_text_known_and_not)
{
	ck_assert_str_eq(cs_http_status_text(200), "OK");
	ck_assert_str_eq(cs_http_status_text(431),
	    "Request Header Fields Too Large");
	ck_assert_str_eq(cs_http_status_text(599), "Unknown");
	ck_assert_str_eq(cs_http_status_text(42), "Unknown");
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("pct_decode");
	tcase_add_loop_test(tc, test_pct_decode_vectors, 0,
	    sizeof pct_vectors / sizeof pct_vectors[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("query_find");
	tcase_add_test(tc, test_query_find_params);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, test_format_head_adds_fields);
	tcase_add_test(tc, test_headers_check_rejects_splitting);
	tcase_add_test(tc, test_problem_body_escapes);
	tcase_add_test(tc, test_date_format_imf);
	tcase_add_test(tc, test_status_text_known_and_not);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(http_suite)
