/* test_ctl.c - certctl's pure parts: the option parser (api/ctl_args),
 * the KEY=VALUE file (api/ctl_conf), tables and short forms
 * (api/ctl_out), percent-encoding (api/ctl_http). The commands themselves
 * run against a real cluster in tests/integration/test_certctl.py. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctl_args.h"
#include "api/ctl_conf.h"
#include "api/ctl_http.h"
#include "api/ctl_out.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "tests/lib/runner.h"

static const struct cs_ctl_opt globals[] = {
    {"json", 0, NULL, false, "json"},
    {"node", 0, "N", false, "node"},
    {"help", 'h', NULL, false, "help"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt own[] = {
    {"owner", 0, "O", false, "owner"},
    {"tag", 0, "T", true, "tag"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_opt *const both[] = {globals, own};

/* Parses a NULL-terminated list of words. */
static int
parse(struct cs_ctl_args *a, char *err, const char **words)
{
	int n = 0;

	while (words[n] != NULL)
		n++;
	return cs_ctl_args_parse(a, n, (char **)(uintptr_t)words, both, 2, err);
}

START_TEST(test_ctl_args_parse_mixed)
{
	const char *w[] = {"a.pem", "--tag", "x", "--owner=bob", "-", "--json",
	    "--tag=y,z", "--", "--not-an-option", NULL};
	struct cs_ctl_args a;
	char err[CS_ERRMSG_SIZE] = "";
	const char *tags[4];

	ck_assert_int_eq(parse(&a, err, w), 0);
	ck_assert_uint_eq(a.npos, 3);
	ck_assert_str_eq(a.pos[0], "a.pem");
	ck_assert_str_eq(a.pos[1], "-");
	ck_assert_str_eq(a.pos[2], "--not-an-option");
	ck_assert_str_eq(cs_ctl_args_get(&a, "owner"), "bob");
	ck_assert(cs_ctl_args_has(&a, "json"));
	ck_assert_str_eq(cs_ctl_args_get(&a, "json"), "");
	ck_assert(!cs_ctl_args_has(&a, "node"));
	ck_assert_uint_eq(cs_ctl_args_all(&a, "tag", tags, 4), 2);
	ck_assert_str_eq(tags[0], "x");
	ck_assert_str_eq(tags[1], "y,z");
	cs_ctl_args_close(&a);
}
END_TEST

START_TEST(test_ctl_args_parse_value_may_look_like_an_option)
{
	const char *w[] = {"--owner", "--json", "-h", NULL};
	struct cs_ctl_args a;
	char err[CS_ERRMSG_SIZE] = "";

	ck_assert_int_eq(parse(&a, err, w), 0);
	ck_assert_str_eq(cs_ctl_args_get(&a, "owner"), "--json");
	ck_assert(!cs_ctl_args_has(&a, "json"));
	ck_assert(cs_ctl_args_has(&a, "help"));
	cs_ctl_args_close(&a);
}
END_TEST

/* Command lines the parser refuses, and what it says. */
static const struct {
	const char *w[4];
	const char *msg;
} bad[] = {
    {{"--bogus", NULL}, "unknown option --bogus"},
    {{"--bogus=1", NULL}, "unknown option --bogus"},
    {{"-x", NULL}, "unknown option -x"},
    {{"--owner", NULL}, "--owner needs a value"},
    {{"--json=yes", NULL}, "--json takes no value"},
    {{"--owner", "a", "--owner=b", NULL}, "--owner given more than once"},
    {{"--node", "1", "--node", "2"}, "--node given more than once"},
};

START_TEST(test_ctl_args_parse_bad)
{
	struct cs_ctl_args a = {0};
	char err[CS_ERRMSG_SIZE] = "";
	const char *w[5] = {NULL};

	memcpy(w, bad[_i].w, sizeof bad[_i].w);
	ck_assert_int_eq(parse(&a, err, w), CS_EINVAL);
	ck_assert_msg(strstr(err, bad[_i].msg) != NULL, "%s", err);
	ck_assert_ptr_null(a.pos);
}
END_TEST

START_TEST(test_ctl_conf_file_parse_shell_forms)
{
	static const char text[] = "# written by deploy/cluster.sh up 3\n"
				   "CLUSTER_SIZE=3\n"
				   "\n"
				   "  NODE1_API=https://127.0.0.1:8443  \r\n"
				   "export CERTCTL_CERT=\"/a b/admin.pem\"\n"
				   "CERTCTL_KEY='k'\n"
				   "EMPTY=\n"
				   "NODE1_API=https://127.0.0.1:9443";
	struct cs_ctl_conf_file f;
	char err[CS_ERRMSG_SIZE] = "";

	ck_assert_int_eq(cs_ctl_conf_file_parse(text, sizeof text - 1, &f, err),
	    0);
	ck_assert_str_eq(cs_ctl_conf_file_get(&f, "CLUSTER_SIZE"), "3");
	/* the last one wins, as in the shell */
	ck_assert_str_eq(cs_ctl_conf_file_get(&f, "NODE1_API"),
	    "https://127.0.0.1:9443");
	ck_assert_str_eq(cs_ctl_conf_file_get(&f, "CERTCTL_CERT"),
	    "/a b/admin.pem");
	ck_assert_str_eq(cs_ctl_conf_file_get(&f, "CERTCTL_KEY"), "k");
	ck_assert_str_eq(cs_ctl_conf_file_get(&f, "EMPTY"), "");
	ck_assert_ptr_null(cs_ctl_conf_file_get(&f, "NODE2_API"));
	cs_ctl_conf_file_close(&f);
}
END_TEST

START_TEST(test_ctl_conf_file_parse_bad_line)
{
	static const char text[] = "A=1\n# fine\nB = 2\n";
	struct cs_ctl_conf_file f = {0};
	char err[CS_ERRMSG_SIZE] = "";

	ck_assert_int_eq(cs_ctl_conf_file_parse(text, sizeof text - 1, &f, err),
	    CS_EINVAL);
	ck_assert_str_eq(err, "line 3: expected KEY=VALUE");
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

START_TEST(test_ctl_out_table_print_aligns)
{
	static const char *const head[] = {"FP", "SUBJECT", "TAGS"};
	struct cs_ctl_out_table *t = cs_ctl_out_table_new(3, head);
	char short_fp[CS_CTL_OUT_SHORT_FP_SIZE];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cs_ctl_out_short_fp("0123456789abcdef0123456789abcdef", short_fp);
	ck_assert_str_eq(short_fp, "0123456789abcdef\xe2\x80\xa6");
	cs_ctl_out_table_cell(t, short_fp);
	cs_ctl_out_table_cell(t, "CN=Z\xc3\xbcrich"); /* 9 characters */
	cs_ctl_out_table_cell(t, NULL);
	cs_ctl_out_table_cellf(t, "%d", 7);
	cs_ctl_out_table_cell(t, "CN=a");
	cs_ctl_out_table_cell(t, "x,y");
	ck_assert_uint_eq(cs_ctl_out_table_rows(t), 2);
	cs_ctl_out_table_print(t, f);
	fclose(f);
	ck_assert_str_eq(text,
	    "FP                 SUBJECT    TAGS\n"
	    "0123456789abcdef\xe2\x80\xa6  CN=Z\xc3\xbcrich  -\n"
	    "7                  CN=a       x,y\n");
	free(text);
	cs_ctl_out_table_free(t);
}
END_TEST

static const struct {
	int64_t secs;
	const char *text;
} ages[] = {
    {0, "0s"},
    {59, "59s"},
    {61, "1m 1s"},
    {3 * 3600 + 20 * 60 + 5, "3h 20m"},
    {29 * 86400 + 4 * 3600 + 59, "29d 4h"},
    {-90, "-1m 30s"},
};

START_TEST(test_ctl_out_age_rounds)
{
	char out[CS_CTL_OUT_AGE_SIZE];

	cs_ctl_out_age(ages[_i].secs, out);
	ck_assert_str_eq(out, ages[_i].text);
}
END_TEST

START_TEST(test_ctl_http_query_add_encodes)
{
	struct cs_buf q;

	cs_buf_init(&q, 4096);
	cs_ctl_http_query_add(&q, "subject", "CN=a b,O=c+d/e");
	cs_ctl_http_query_add(&q, "tag", "ward-7_x.y~");
	ck_assert_str_eq((const char *)q.data,
	    "subject=CN%3Da%20b%2CO%3Dc%2Bd%2Fe&tag=ward-7_x.y~");
	cs_buf_reset(&q);
	cs_ctl_http_pct_encode(&q, "Z\xc3\xbc");
	ck_assert_str_eq((const char *)q.data, "Z%C3%BC");
	cs_buf_close(&q);
}
END_TEST

static Suite *
ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc;

	tc = tcase_create("args_parse");
	tcase_add_test(tc, test_ctl_args_parse_mixed);
	tcase_add_test(tc, test_ctl_args_parse_value_may_look_like_an_option);
	tcase_add_loop_test(tc, test_ctl_args_parse_bad, 0,
	    sizeof bad / sizeof bad[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("conf_file_parse");
	tcase_add_test(tc, test_ctl_conf_file_parse_shell_forms);
	tcase_add_test(tc, test_ctl_conf_file_parse_bad_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("out");
	tcase_add_test(tc, test_ctl_out_table_print_aligns);
	tcase_add_loop_test(tc, test_ctl_out_age_rounds, 0,
	    sizeof ages / sizeof ages[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("http_query_add");
	tcase_add_test(tc, test_ctl_http_query_add_encodes);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(ctl_suite)
