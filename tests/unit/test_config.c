/* test_config.c - the configuration parser (node/config). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "node/config.h"
#include "tests/lib/runner.h"

#define BASE                                                                   \
	"node-id 2\n"                                                          \
	"raft-address 127.0.0.1:7002\n"                                        \
	"data-dir /var/lib/certstore\n"                                        \
	"api-listen 127.0.0.1:8442\n"                                          \
	"tls-cert /etc/certstore/node.pem\n"                                   \
	"tls-key /etc/certstore/node.key\n"                                    \
	"client-ca /etc/certstore/clients.pem\n"

START_TEST(test_config_parse_full)
{
	static const char text[] =
	    "# a comment line\n"
	    "node-id 2   # trailing comment\n"
	    "raft-address 127.0.0.1:7002\r\n"
	    "data-dir \"/var/lib/cert store\"\n"
	    "api-listen 127.0.0.1:8442\n"
	    "http-listen 127.0.0.1:8082\n"
	    "tls-cert /etc/certstore/node.pem\n"
	    "tls-key /etc/certstore/node.key\n"
	    "client-ca /etc/certstore/clients.pem\n"
	    "admin-identity \"CN=Hospital \\\"PKI\\\" Admin\"\n"
	    "election-timeout-ms 3000\n"
	    "heartbeat-timeout-ms 300\n"
	    "raft-trace yes\n"
	    "ocsp-staleness 2h\n"
	    "\n"
	    "member 1 127.0.0.1:7001 https://127.0.0.1:8441 site-a\n"
	    "member 2 127.0.0.1:7002 https://10.0.0.2:8442 site-b "
	    "http://10.0.0.2:8082 https://10.0.0.2:8443\n"
	    "member 3 127.0.0.1:7003 https://127.0.0.1:8443 site-c";
	struct cs_config c;
	char err[CS_ERRMSG_SIZE] = "";

	ck_assert_int_eq(cs_config_parse(text, sizeof text - 1, &c, err), 0);
	ck_assert_uint_eq(c.node_id, 2);
	ck_assert_str_eq(c.raft_address, "127.0.0.1:7002");
	ck_assert_str_eq(c.data_dir, "/var/lib/cert store");
	ck_assert_str_eq(c.admin_identity, "CN=Hospital \"PKI\" Admin");
	ck_assert_uint_eq(c.election_timeout_ms, 3000);
	ck_assert_uint_eq(c.heartbeat_timeout_ms, 300);
	ck_assert(c.raft_trace);
	ck_assert_int_eq(c.ocsp_staleness, 7200);
	ck_assert_uint_eq(c.nmembers, 3);
	ck_assert_str_eq(c.members[2].site, "site-c");
	ck_assert_str_eq(c.members[1].http_url, "http://10.0.0.2:8082");
	/* advertised URLs and site come from this node's member line */
	ck_assert_str_eq(c.api_url, "https://10.0.0.2:8442");
	ck_assert_str_eq(c.http_url, "http://10.0.0.2:8082");
	ck_assert_str_eq(c.public_url, "https://10.0.0.2:8443");
	ck_assert_str_eq(c.site, "site-b");
	ck_assert_ptr_eq(cs_config_member(&c, 3), &c.members[2]);
	ck_assert_ptr_null(cs_config_member(&c, 4));
}
END_TEST

START_TEST(test_config_defaults)
{
	struct cs_config c;
	char err[CS_ERRMSG_SIZE] = "";

	ck_assert_int_eq(cs_config_parse(BASE, strlen(BASE), &c, err), 0);
	ck_assert_uint_eq(c.election_timeout_ms, 1000);
	ck_assert_uint_eq(c.heartbeat_timeout_ms, 100);
	ck_assert_uint_eq(c.snapshot_threshold, 65536);
	ck_assert_uint_eq(c.max_body_bytes, 8388608);
	ck_assert_int_eq(c.ocsp_staleness, 3600);
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_str_eq(c.api_url, "https://127.0.0.1:8442");
	ck_assert_str_eq(c.http_url, "");
	ck_assert(!c.raft_trace);
	ck_assert_uint_eq(c.nmembers, 0);
}
END_TEST

/* Each bad line, appended to a good base, must fail naming its line
 * (the base has 7 lines, so the bad one is line 8) and the problem. */
static const struct {
	const char *line;
	const char *expect;
} bad[] = {
    {"colour blue", "line 8: unknown setting \"colour\""},
    {"node-id 3", "line 8: node-id: set twice"},
    {"election-timeout-ms ten", "line 8: election-timeout-ms: \"ten\" is "
				"not a number"},
    {"election-timeout-ms -5", "not a number"},
    {"max-connections 99999999999", "not a number"},
    {"http-listen localhost:80", "is not an IPv4 address:port"},
    {"http-listen 127.0.0.1:70000", "is not an IPv4 address:port"},
    {"api-url ftp://x", "is not an http(s):// URL"},
    {"site \"unterminated", "line 8: unterminated quote"},
    {"site", "line 8: site: expected one value"},
    {"site a b", "line 8: site: expected one value"},
    {"raft-trace maybe", "is not yes or no"},
    {"ocsp-staleness soon", "is not a duration"},
    {"member 0 127.0.0.1:7001 https://a site", "member: bad id \"0\""},
    {"member 1 127.0.0.1:7001 https://a", "member: expected ID"},
    {"member 1 127.0.0.1 https://a s", "is not an IPv4 address:port"},
    {"member 1 127.0.0.1:7001 a.example s", "is not an http(s):// URL"},
    {"member 1 127.0.0.1:7001 https://a s\nmember 1 127.0.0.1:7009 "
     "https://b s",
	"line 9: member: id 1 listed twice"},
    {"member 1 127.0.0.1:7001 https://a s\nmember 3 127.0.0.1:7001 "
     "https://b s",
	"line 9: member: raft address 127.0.0.1:7001 listed twice"},
    {"member 2 127.0.0.1:7009 https://a s",
	"member 2 has raft address 127.0.0.1:7009 but raft-address is "
	"127.0.0.1:7002"},
    {"heartbeat-timeout-ms 600", "must be at most half of"},
    {"log-level chatty", "log-level: \"chatty\" is not"},
};

START_TEST(test_config_parse_rejects)
{
	char text[4096];
	struct cs_config c;
	char err[CS_ERRMSG_SIZE] = "";
	int rc;

	snprintf(text, sizeof text, "%s%s\n", BASE, bad[_i].line);
	rc = cs_config_parse(text, strlen(text), &c, err);
	ck_assert_int_eq(rc, CS_EINVAL);
	ck_assert_msg(strstr(err, bad[_i].expect) != NULL,
	    "for \"%s\": got \"%s\", expected \"%s\"", bad[_i].line, err,
	    bad[_i].expect);
}
END_TEST

START_TEST(test_config_missing_and_oversized)
{
	struct cs_config c;
	char err[CS_ERRMSG_SIZE] = "";
	static char huge[8192];
	const char nul[] = "node-id 1\nsite a\0b\n";

	ck_assert_int_eq(cs_config_parse("", 0, &c, err), CS_EINVAL);
	ck_assert_str_eq(err, "missing required setting node-id");
	memset(huge, 'x', sizeof huge - 1);
	memcpy(huge, "site ", 5);
	ck_assert_int_eq(cs_config_parse(huge, sizeof huge - 1, &c, err),
	    CS_ETOOBIG);
	ck_assert_str_eq(err, "line 1: longer than 4096 bytes");
	ck_assert_int_eq(cs_config_parse(nul, sizeof nul - 1, &c, err),
	    CS_EINVAL);
	ck_assert_str_eq(err, "line 2: NUL byte");
	{
		char text[1024];

		memset(text, 0, sizeof text);
		snprintf(text, sizeof text, "%ssite %0600d\n", BASE, 0);
		ck_assert_int_eq(cs_config_parse(text, strlen(text), &c, err),
		    CS_EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "site: value too long"));
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_config_parse_full);
	tcase_add_test(tc, test_config_defaults);
	tcase_add_loop_test(tc, test_config_parse_rejects, 0,
	    sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, test_config_missing_and_oversized);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(config_suite)
