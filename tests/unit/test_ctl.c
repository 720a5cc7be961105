/* test_ctl.c - certctl's pure parts: the option parser (api/ctl_args),
 * the KEY=VALUE file (api/ctl_conf), tables and short forms
 * (api/ctl_out), percent-encoding (api/ctl_http), keys, requests and
 * self-signed CAs (api/ctl_pki), and the option checks of the CA
 * commands, which must refuse bad values before any request (their runs
 * get no HTTP handle: a request would crash the test). The commands
 * themselves run against a real cluster in
 * tests/integration/test_certctl.py. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/ctl.h"
#include "api/ctl_args.h"
#include "api/ctl_ca.h"
#include "api/ctl_conf.h"
#include "api/ctl_http.h"
#include "api/ctl_issue.h"
#include "api/ctl_out.h"
#include "api/ctl_pki.h"
#include "api/ctl_status.h"
#include "cert/csr.h"
#include "cert/x509.h"
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

/* ---- ctl_pki ---- */

static const struct {
	const char *in;
	const char *text; /* as openssl -nameopt RFC2253 prints it */
} names_ok[] = {
    {"CN=Device CA,O=Hospital", "CN=Device CA,O=Hospital"},
    {" CN = pump 7 , O=St. Mary's ", "CN=pump 7,O=St. Mary's"},
    {"CN=a\\,b\\+c,OU=x", "CN=a\\,b\\+c,OU=x"},
    {"CN=Z\\C3\\BCrich,C=CH", "CN=Z\xc3\xbcrich,C=CH"},
    /* a multi-valued RDN is a DER SET: sorted */
    {"CN=a+UID=7,DC=test", "UID=7+CN=a,DC=test"},
    {"2.5.4.3=by oid", "CN=by oid"},
    {"commonName=long,organizationName=names", "CN=long,O=names"},
    {"CN=\\ padded\\ ", "CN=\\ padded\\ "},
};

START_TEST(test_ctl_pki_name_parse_round_trip)
{
	struct cs_buf der;
	char err[CS_ERRMSG_SIZE] = "", *text = NULL;
	const unsigned char *p;
	X509_NAME *name;

	cs_buf_init(&der, 4096);
	ck_assert_msg(cs_ctl_pki_name_parse(names_ok[_i].in, &der, err) == 0,
	    "%s: %s", names_ok[_i].in, err);
	p = der.data;
	name = d2i_X509_NAME(NULL, &p, (long)der.len);
	ck_assert_ptr_nonnull(name);
	ck_assert_int_eq(cs_x509__name_text(name, &text, err), 0);
	ck_assert_str_eq(text, names_ok[_i].text);
	free(text);
	X509_NAME_free(name);
	cs_buf_close(&der);
}
END_TEST

static const struct {
	const char *in;
	const char *msg;
} names_bad[] = {
    {"", "expected TYPE=value"},
    {"CN", "expected TYPE=value"},
    {"=x", "expected TYPE=value"},
    {"CN=", "an empty value"},
    {"CN=a,", "expected TYPE=value"},
    {"XYZ=a", "not an attribute type"},
    {"CN=a;b", "must be escaped"},
    {"CN=#0403616263", "no #hex"},
    {"CN=\"quoted\"", "no #hex, no quotes"},
    {"CN=a\\q", "a bad escape"},
    {"C=USA", "C=USA"},
    {"CN=0123456789012345678901234567890123456789012345678901234567890123"
     "4",
	"too long"},
};

START_TEST(test_ctl_pki_name_parse_bad)
{
	struct cs_buf der;
	char err[CS_ERRMSG_SIZE] = "";

	cs_buf_init(&der, 4096);
	ck_assert_int_eq(cs_ctl_pki_name_parse(names_bad[_i].in, &der, err),
	    CS_EINVAL);
	ck_assert_msg(strstr(err, names_bad[_i].msg) != NULL, "%s: %s",
	    names_bad[_i].in, err);
	ck_assert_uint_eq(der.len, 0);
	cs_buf_close(&der);
}
END_TEST

static const struct {
	enum cs_ctl_pki_san kind;
	const char *value;
	bool ok;
} sans[] = {
    {CS_CTL_PKI_SAN_DNS, "pump-7.ward_3.hospital.test", true},
    {CS_CTL_PKI_SAN_DNS, "*.hospital.test", true},
    {CS_CTL_PKI_SAN_DNS, "localhost", true},
    {CS_CTL_PKI_SAN_DNS, "a..b", false},
    {CS_CTL_PKI_SAN_DNS, "a.b.", false},
    {CS_CTL_PKI_SAN_DNS, "a b", false},
    {CS_CTL_PKI_SAN_DNS, "x.*.test", false},
    {CS_CTL_PKI_SAN_DNS, "", false},
    {CS_CTL_PKI_SAN_IP, "10.1.2.3", true},
    {CS_CTL_PKI_SAN_IP, "2001:db8::1", true},
    {CS_CTL_PKI_SAN_IP, "300.1.2.3", false},
    {CS_CTL_PKI_SAN_IP, "10.1.2", false},
    {CS_CTL_PKI_SAN_URI, "urn:device:pump-7", true},
    {CS_CTL_PKI_SAN_URI, "https://h.test/x?y=1,2", true},
    {CS_CTL_PKI_SAN_URI, "no-scheme", false},
    {CS_CTL_PKI_SAN_URI, "1x:y", false},
    {CS_CTL_PKI_SAN_URI, "urn:", false},
    {CS_CTL_PKI_SAN_EMAIL, "ward7@hospital.test", true},
    {CS_CTL_PKI_SAN_EMAIL, "ward7", false},
    {CS_CTL_PKI_SAN_EMAIL, "a@b@c.test", false},
    {CS_CTL_PKI_SAN_EMAIL, "@hospital.test", false},
    {CS_CTL_PKI_SAN_EMAIL, "a@*.test", false},
};

START_TEST(test_ctl_pki_san_check_vectors)
{
	char err[CS_ERRMSG_SIZE] = "";
	int rc = cs_ctl_pki_san_check(sans[_i].kind, sans[_i].value, err);

	ck_assert_msg((rc == 0) == sans[_i].ok, "%s: %d %s", sans[_i].value, rc,
	    err);
}
END_TEST

START_TEST(test_ctl_pki_alg_parse_and_names)
{
	enum cs_ctl_pki_alg a;

	ck_assert_int_eq(cs_ctl_pki_alg_parse("p384", false, &a), 0);
	ck_assert_int_eq(a, CS_CTL_PKI_P384);
	ck_assert_int_eq(cs_ctl_pki_alg_parse("ed25519", false, &a), CS_EINVAL);
	ck_assert_int_eq(cs_ctl_pki_alg_parse("ed25519", true, &a), 0);
	ck_assert_int_eq(cs_ctl_pki_alg_parse("P-256", true, &a), CS_EINVAL);
	ck_assert(cs_ctl_pki_issuer_name_ok("local-ca"));
	ck_assert(cs_ctl_pki_issuer_name_ok("Ward_7.devices"));
	ck_assert(!cs_ctl_pki_issuer_name_ok(""));
	ck_assert(!cs_ctl_pki_issuer_name_ok("my ca"));
	ck_assert(!cs_ctl_pki_issuer_name_ok("a/b"));
	ck_assert(!cs_ctl_pki_issuer_name_ok("-x"));
	ck_assert(
	    !cs_ctl_pki_issuer_name_ok("a12345678901234567890123456789012345678"
				       "90123456789012345678901234"));
}
END_TEST

static char tmpdir[64];

static void
tmpdir_setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_ctl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmpdir_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_ctl_pki_keyfile_exclusive_0600)
{
	struct cs_ctl_pki_keyfile k, k2;
	char path[128], err[CS_ERRMSG_SIZE] = "";
	EVP_PKEY *key = NULL;
	struct stat st;
	FILE *f;

	umask(022);
	snprintf(path, sizeof path, "%s/ca.key", tmpdir);
	ck_assert_int_eq(cs_ctl_pki_keygen(CS_CTL_PKI_P256, &key, err), 0);
	ck_assert_int_eq(cs_ctl_pki_keyfile_open(&k, path, err), 0);
	ck_assert(k.path[0] == '/');
	/* the name is taken before the key is written */
	ck_assert_int_eq(cs_ctl_pki_keyfile_open(&k2, path, err), CS_EEXIST);
	ck_assert_msg(strstr(err, "never overwrites") != NULL, "%s", err);
	ck_assert_int_eq(cs_ctl_pki_keyfile_write(&k, key, err), 0);
	cs_ctl_pki_keyfile_keep(&k);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	EVP_PKEY_free(key);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(key);
	EVP_PKEY_free(key);
	/* a refused request: the new file goes again */
	snprintf(path, sizeof path, "%s/gone.key", tmpdir);
	ck_assert_int_eq(cs_ctl_pki_keyfile_open(&k, path, err), 0);
	cs_ctl_pki_keyfile_remove(&k);
	ck_assert_int_eq(access(path, F_OK), -1);
	cs_ctl_pki_keyfile_remove(&k); /* closed: a no-op */
	snprintf(path, sizeof path, "%s/no/such/dir.key", tmpdir);
	ck_assert_int_eq(cs_ctl_pki_keyfile_open(&k, path, err), CS_EIO);
}
END_TEST

START_TEST(test_ctl_pki_csr_parses_back)
{
	static const enum cs_ctl_pki_alg algs[] = {CS_CTL_PKI_P256,
	    CS_CTL_PKI_P384, CS_CTL_PKI_ED25519};
	char d[] = "pump-7.hospital.test", i[] = "10.0.0.7";
	char u[] = "urn:device:pump-7", e[] = "w7@hospital.test";
	char *dns[] = {d}, *ip[] = {i}, *uri[] = {u}, *email[] = {e};
	struct cs_names n = {{1, dns}, {1, ip}, {1, uri}, {1, email}};
	struct cs_csr_info *ci = NULL;
	char err[CS_ERRMSG_SIZE] = "", *pem = NULL;
	EVP_PKEY *key = NULL;
	struct cs_buf subj;

	cs_buf_init(&subj, 4096);
	ck_assert_int_eq(cs_ctl_pki_name_parse("CN=pump-7,O=Ward 7", &subj,
			     err),
	    0);
	ck_assert_int_eq(cs_ctl_pki_keygen(algs[_i], &key, err), 0);
	ck_assert_int_eq(cs_ctl_pki_csr(key, subj.data, subj.len, &n, &pem,
			     err),
	    0);
	ck_assert_msg(cs_csr_parse((const uint8_t *)pem, strlen(pem), &ci,
			  err) == 0,
	    "%s", err);
	ck_assert_str_eq(ci->subject, "CN=pump-7,O=Ward 7");
	ck_assert_uint_eq(cs_names_count(&ci->names), 4);
	ck_assert_str_eq(ci->names.ip.v[0], "10.0.0.7");
	ck_assert_str_eq(ci->names.email.v[0], "w7@hospital.test");
	ck_assert_int_eq(ci->key_type,
	    algs[_i] == CS_CTL_PKI_ED25519 ? CS_KEY_ED25519 : CS_KEY_EC);
	cs_csr_info_free(ci);
	free(pem);
	/* no subject, no names: a renewal's request for a new key */
	ck_assert_int_eq(cs_ctl_pki_csr(key, NULL, 0, NULL, &pem, err), 0);
	ck_assert_int_eq(cs_csr_parse((const uint8_t *)pem, strlen(pem), &ci,
			     err),
	    0);
	ck_assert_str_eq(ci->subject, "");
	cs_csr_info_free(ci);
	free(pem);
	EVP_PKEY_free(key);
	cs_buf_close(&subj);
}
END_TEST

START_TEST(test_ctl_pki_self_signed_is_a_ca)
{
	static const uint8_t rnd[20] = {0x81, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15, 16, 17, 18, 19, 20};
	struct cs_cert_info *ci = NULL;
	char err[CS_ERRMSG_SIZE] = "";
	const unsigned char *p;
	EVP_PKEY *key = NULL;
	struct cs_buf subj, der;
	X509 *x;

	cs_buf_init(&subj, 4096);
	cs_buf_init(&der, 65536);
	ck_assert_int_eq(cs_ctl_pki_name_parse("CN=Root,O=Hospital", &subj,
			     err),
	    0);
	ck_assert_int_eq(cs_ctl_pki_keygen(CS_CTL_PKI_P384, &key, err), 0);
	ck_assert_int_eq(cs_ctl_pki_self_signed(key, subj.data, subj.len,
			     1700000000, 1700000000 + 86400 * 3650LL, 1, rnd,
			     &der, err),
	    0);
	ck_assert_int_eq(cs_x509_parse_der(der.data, der.len, &ci, err), 0);
	ck_assert(ci->ca);
	ck_assert_int_eq(ci->path_len, 1);
	ck_assert(ci->has_key_usage);
	ck_assert_uint_eq(ci->key_usage,
	    CS_KU_KEY_CERT_SIGN | CS_KU_CRL_SIGN | CS_KU_DIGITAL_SIGNATURE);
	ck_assert_str_eq(ci->subject, "CN=Root,O=Hospital");
	ck_assert_str_eq(ci->issuer, ci->subject);
	ck_assert_uint_eq(ci->ski_len, 20);
	ck_assert_uint_eq(ci->aki_len, 20);
	ck_assert_mem_eq(ci->ski, ci->aki, 20);
	ck_assert_int_eq(ci->not_before, 1700000000);
	ck_assert_str_eq(ci->curve, "P-384");
	p = der.data;
	x = d2i_X509(NULL, &p, (long)der.len);
	ck_assert_int_eq(X509_verify(x, key), 1);
	ck_assert_int_eq(X509_check_issued(x, x), X509_V_OK);
	X509_free(x);
	cs_cert_info_free(ci);
	EVP_PKEY_free(key);
	cs_buf_close(&subj);
	cs_buf_close(&der);
}
END_TEST

/* ---- the CA commands refuse bad values before any request ---- */

static const struct cs_ctl_opt test_globals[] = {
    {"json", 0, NULL, false, "json"},
    {NULL, 0, NULL, false, NULL},
};

static const struct cs_ctl_command *
command(const char *name)
{
	const struct cs_ctl_command *const tables[] = {cs_ctl_ca_commands,
	    cs_ctl_issue_commands, cs_ctl_status_commands};

	for (size_t t = 0; t < 3; t++) {
		for (const struct cs_ctl_command *c = tables[t];
		     c->name != NULL; c++) {
			if (strcmp(c->name, name) == 0)
				return c;
		}
	}
	return NULL;
}

/* Placeholders in the words: K a key file that does not exist, E one
 * that does, G a file of garbage, C a CA certificate, X a directory that
 * does not exist. */
static const struct {
	const char *cmd;
	const char *w[14];
	const char *msg;
} refused[] = {
    {"issuer create", {"my ca", "--subject", "CN=x", "--key-file", "K"},
	"NAME \"my ca\""},
    {"issuer create", {"r", "--key-file", "K"}, "needs --subject"},
    {"issuer create", {"r", "--subject", "CN=x"}, "give --key-file PATH"},
    {"issuer create",
	{"r", "--subject", "CN=x", "--key-file", "K", "--pkcs11",
	    "pkcs11:token=t"},
	"one of them"},
    {"issuer create", {"r", "--subject", "XYZ=x", "--key-file", "K"},
	"not an attribute type"},
    {"issuer create",
	{"r", "--subject", "CN=x", "--key-file", "K", "--curve", "ed25519"},
	"p256 or p384"},
    {"issuer create",
	{"r", "--subject", "CN=x", "--key-file", "K", "--days", "0"},
	"--days \"0\": a number from 1 to 36500"},
    {"issuer create",
	{"r", "--subject", "CN=x", "--key-file", "K", "--parent", "p",
	    "--path-len", "9"},
	"from 0 to 8"},
    {"issuer create", {"r", "--subject", "CN=x", "--pkcs11", "/a/key"},
	"a PKCS#11 URI"},
    {"issuer create",
	{"r", "--subject", "CN=x", "--pkcs11", "pkcs11:x", "--curve", "p256"},
	"--curve is for a new key"},
    {"issuer create", {"r", "--subject", "CN=x", "--key-file", "E"},
	"never overwrites"},
    {"issuer create",
	{"r", "--subject", "CN=x", "--key-file", "K", "--key-ref", "file:/k"},
	"go with --register"},
    {"issuer create",
	{"r", "--register", "C", "--key-ref", "file:/k", "--subject", "CN=x"},
	"--register takes an existing CA: --subject"},
    {"issuer create", {"r", "--register", "C"}, "needs --key-ref"},
    {"issuer create", {"r", "--register", "C", "--key-ref", "k.pem"},
	"file:/absolute/path"},
    {"issuer create", {"r", "--register", "G", "--key-ref", "file:/k"},
	"--register"},
    {"issuer create",
	{"r", "--register", "C", "--key-ref", "file:/k", "--chain", "G"},
	"--chain"},
    {"issuer show", {""}, "NAME"},
    {"issue", {"--key-out", "K", "--dns", "a.test"}, "--profile"},
    {"issue", {"--profile", "p"}, "give --csr FILE"},
    {"issue", {"--profile", "p", "--csr", "G", "--key-out", "K"}, "not both"},
    {"issue", {"--profile", "p", "--csr", "G"}, "--csr"},
    {"issue", {"--profile", "p", "--csr", "G", "--dns", "a.test"},
	"--dns goes with --key-out"},
    {"issue", {"--profile", "p", "--key-out", "K"},
	"what the certificate names"},
    {"issue", {"--profile", "p", "--key-out", "K", "--dns", "a b"}, "--dns"},
    {"issue", {"--profile", "p", "--key-out", "K", "--ip", "10.0.0.300"},
	"--ip"},
    {"issue", {"--profile", "p", "--key-out", "K", "--uri", "pump"}, "a URI"},
    {"issue", {"--profile", "p", "--key-out", "K", "--email", "x"}, "e-mail"},
    {"issue", {"--profile", "p", "--key-out", "K", "--subject", "CN="},
	"an empty value"},
    {"issue",
	{"--profile", "p", "--key-out", "K", "--dns", "a.test", "--curve",
	    "rsa"},
	"p256, p384 or ed25519"},
    {"issue",
	{"--profile", "p", "--key-out", "K", "--dns", "a.test", "--validity",
	    "3 days"},
	"duration"},
    {"issue",
	{"--profile", "p", "--key-out", "K", "--dns", "a.test",
	    "--key-location", "moon"},
	"device, hsm"},
    {"issue",
	{"--profile", "p", "--key-out", "K", "--dns", "a.test", "--tag", ""},
	"--tag"},
    {"issue", {"--profile", "p", "--key-out", "E", "--dns", "a.test"},
	"never overwrites"},
    {"issue",
	{"--profile", "p", "--key-out", "K", "--dns", "a.test", "--out", "X"},
	"--out"},
    {"issue",
	{"--profile", "p", "--key-out", "K", "--dns", "a.test", "--out", "f",
	    "--chain-out", "f"},
	"the same file"},
    {"renew", {"abc"}, "64 hexadecimal digits"},
    {"renew",
	{"0000000000000000000000000000000000000000000000000000000000000000",
	    "--csr", "G", "--key-out", "K"},
	"not both"},
    {"renew",
	{"0000000000000000000000000000000000000000000000000000000000000000",
	    "--curve", "p384"},
	"--curve goes with --key-out"},
    {"crl", {""}, "an issuer's name"},
    {"crl", {"local-ca", "--out", "X"}, "--out"},
    {"ocsp", {"G"}, "garbage.pem"},
    {"ocsp", {"C", "--issuer", "G"}, "--issuer"},
};

/* A file with text in it; returns its path (static storage). */
static const char *
put_file(const char *name, const char *text)
{
	static char paths[4][128];
	static int next;
	char *path = paths[next++ % 4];
	FILE *f;

	snprintf(path, 128, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(test_ctl_ca_commands_refuse_before_request)
{
	const struct cs_ctl_command *c = command(refused[_i].cmd);
	const struct cs_ctl_opt *tables[2] = {test_globals, NULL};
	struct cs_ctl_args args = {0};
	struct cs_ctl ctl = {.out = stdout, .url = "http://127.0.0.1:1"};
	char err[CS_ERRMSG_SIZE] = "", key[128], missing[128], out[4096];
	const char *words[14];
	struct cs_buf der;
	char *ca_pem;
	EVP_PKEY *pk = NULL;
	size_t n = 0, len;
	FILE *cap;
	int fd, saved;
	static const uint8_t rnd[20] = {1};

	ck_assert_ptr_nonnull(c);
	/* the files the placeholders name */
	snprintf(key, sizeof key, "%s/new.key", tmpdir);
	snprintf(missing, sizeof missing, "%s/none/file", tmpdir);
	cs_buf_init(&der, 65536);
	ck_assert_int_eq(cs_ctl_pki_keygen(CS_CTL_PKI_P256, &pk, err), 0);
	ck_assert_int_eq(cs_ctl_pki_name_parse("CN=t", &der, err), 0);
	{
		struct cs_buf cert;

		cs_buf_init(&cert, 65536);
		ck_assert_int_eq(cs_ctl_pki_self_signed(pk, der.data, der.len,
				     1700000000, 1800000000, -1, rnd, &cert,
				     err),
		    0);
		ca_pem = cs_x509_der_to_pem(cert.data, cert.len);
		cs_buf_close(&cert);
	}
	for (; n < 14 && refused[_i].w[n] != NULL; n++) {
		const char *w = refused[_i].w[n];

		if (strcmp(w, "K") == 0)
			w = key;
		else if (strcmp(w, "E") == 0)
			w = put_file("exists.key", "a key\n");
		else if (strcmp(w, "G") == 0)
			w = put_file("garbage.pem", "garbage\n");
		else if (strcmp(w, "C") == 0)
			w = put_file("ca.pem", ca_pem);
		else if (strcmp(w, "X") == 0)
			w = missing;
		words[n] = w;
	}
	if (n == 1 && refused[_i].w[0][0] == '\0')
		words[0] = "";
	tables[1] = c->opts;
	ck_assert_msg(cs_ctl_args_parse(&args, (int)n,
			  (char **)(uintptr_t)words, tables,
			  c->opts != NULL ? 2 : 1, err) == 0,
	    "%s", err);
	ctl.cmd = c;
	ctl.args = &args;
	ctl.http = NULL; /* any request crashes */
	/* what it says on stderr */
	cap = tmpfile();
	fflush(stderr);
	saved = dup(2);
	fd = fileno(cap);
	dup2(fd, 2);
	ck_assert_int_eq(c->run(&ctl), CS_CTL_EXIT_USAGE);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	len = fread(out, 1, sizeof out - 1, cap);
	out[len] = '\0';
	fclose(cap);
	ck_assert_msg(strstr(out, refused[_i].msg) != NULL, "%s: %s",
	    refused[_i].cmd, out);
	ck_assert_msg(strstr(out, "usage: certctl ") != NULL, "%s", out);
	/* and no key was left behind */
	ck_assert_int_eq(access(key, F_OK), -1);
	cs_ctl_args_close(&args);
	EVP_PKEY_free(pk);
	free(ca_pem);
	cs_buf_close(&der);
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
	tc = tcase_create("pki");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_loop_test(tc, test_ctl_pki_name_parse_round_trip, 0,
	    sizeof names_ok / sizeof names_ok[0]);
	tcase_add_loop_test(tc, test_ctl_pki_name_parse_bad, 0,
	    sizeof names_bad / sizeof names_bad[0]);
	tcase_add_loop_test(tc, test_ctl_pki_san_check_vectors, 0,
	    sizeof sans / sizeof sans[0]);
	tcase_add_test(tc, test_ctl_pki_alg_parse_and_names);
	tcase_add_test(tc, test_ctl_pki_keyfile_exclusive_0600);
	tcase_add_loop_test(tc, test_ctl_pki_csr_parses_back, 0, 3);
	tcase_add_test(tc, test_ctl_pki_self_signed_is_a_ca);
	suite_add_tcase(s, tc);
	tc = tcase_create("ca_commands");
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_loop_test(tc, test_ctl_ca_commands_refuse_before_request, 0,
	    sizeof refused / sizeof refused[0]);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(ctl_suite)
