/*
 * test_profile.c - cert/profile: what a profile may say (validate), the
 * name matchers, and what a request must satisfy (check), each violation
 * named.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cert/csr.h"
#include "cert/profile.h"
#include "lib/error.h"
#include "lib/mem.h"
#include "tests/lib/ca.h"
#include "tests/lib/runner.h"

static char *
dup(const char *s)
{
	return cs_strdup(s);
}

static void
push(struct cs_strv *v, const char *s)
{
	v->v = cs_reallocarray(v->v, v->n + 1, sizeof *v->v);
	v->v[v->n++] = dup(s);
}

/* The profile of the cluster's default: P-256/P-384 devices of site A. */
static void
device_profile(struct cs_profile *p)
{
	memset(p, 0, sizeof *p);
	p->issuer = dup("local-ca");
	p->key_specs = CS_KEYSPEC_P256 | CS_KEYSPEC_P384;
	p->max_validity = 90 * 86400;
	p->rotate_after = 30 * 86400;
	push(&p->allow.dns, "*.site-a.test");
	push(&p->allow.ip, "10.20.0.0/16");
	push(&p->allow.uri, "urn:device:*");
	push(&p->allow.email, "*@site-a.test");
	p->key_usage = CS_KU_DIGITAL_SIGNATURE;
	push(&p->eku, "clientAuth");
}

static struct cs_csr_info *
request(enum cs_test_key kt, const char *cn, const char *const *dns)
{
	EVP_PKEY *key = cs_test_key_new(kt);
	size_t len;
	uint8_t *der = cs_test_csr(key, cn, dns, &len);
	struct cs_csr_info *ci = NULL;
	char errmsg[CS_ERRMSG_SIZE];

	ck_assert_msg(cs_csr_parse(der, len, &ci, errmsg) == 0, "%s", errmsg);
	free(der);
	EVP_PKEY_free(key);
	return ci;
}

static bool
has(const struct cs_strv *v, const char *needle)
{
	for (size_t i = 0; i < v->n; i++)
		if (strstr(v->v[i], needle) != NULL)
			return true;
	return false;
}

START_TEST(test_validate_accepts_and_names_fields)
{
	struct cs_profile p;
	char errmsg[CS_ERRMSG_SIZE];

	device_profile(&p);
	ck_assert_msg(cs_profile_validate(&p, errmsg) == 0, "%s", errmsg);

	free(p.issuer);
	p.issuer = dup("");
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "issuer"));
	cs_profile_close(&p);

	device_profile(&p);
	p.key_specs = 0;
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "key_types"));
	cs_profile_close(&p);

	device_profile(&p);
	p.max_validity = 0;
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "max_validity"));
	cs_profile_close(&p);

	device_profile(&p);
	p.rotate_after = p.max_validity + 1;
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "rotate_after"));
	cs_profile_close(&p);

	device_profile(&p);
	push(&p.allow.dns, "a.*.test");
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "a.*.test"));
	cs_profile_close(&p);

	device_profile(&p);
	push(&p.allow.ip, "10.0.0.0/33");
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "10.0.0.0/33"));
	cs_profile_close(&p);

	device_profile(&p);
	push(&p.allow.email, "no-at-sign");
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "allow.email"));
	cs_profile_close(&p);

	device_profile(&p);
	push(&p.allow_cn, "bad\ncn");
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "allow.cn"));
	cs_profile_close(&p);

	device_profile(&p);
	push(&p.eku, "no-such-purpose");
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "no-such-purpose"));
	cs_profile_close(&p);

	device_profile(&p);
	push(&p.crl_urls, "ftp://ca.test/x.crl");
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	ck_assert_ptr_nonnull(strstr(errmsg, "ftp://"));
	cs_profile_close(&p);

	/* no pattern at all needs allow_no_san */
	memset(&p, 0, sizeof p);
	p.issuer = dup("x");
	p.key_specs = CS_KEYSPEC_P256;
	p.max_validity = 86400;
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), CS_EINVAL);
	p.allow_no_san = true;
	ck_assert_int_eq(cs_profile_validate(&p, errmsg), 0);
	cs_profile_close(&p);
}
END_TEST

START_TEST(test_matchers)
{
	ck_assert(cs_profile_dns_match("*.site-a.test", "pump-1.site-a.test"));
	ck_assert(cs_profile_dns_match("*.site-a.test", "PUMP-1.Site-A.test"));
	ck_assert(!cs_profile_dns_match("*.site-a.test", "site-a.test"));
	ck_assert(!cs_profile_dns_match("*.site-a.test", "a.b.site-a.test"));
	ck_assert(!cs_profile_dns_match("*.site-a.test", ".site-a.test"));
	ck_assert(cs_profile_dns_match("exact.test", "EXACT.test"));
	ck_assert(!cs_profile_dns_match("exact.test", "x.exact.test"));
	ck_assert(cs_profile_ip_match("10.20.0.0/16", "10.20.255.1"));
	ck_assert(!cs_profile_ip_match("10.20.0.0/16", "10.21.0.1"));
	ck_assert(cs_profile_ip_match("10.0.0.7", "10.0.0.7"));
	ck_assert(!cs_profile_ip_match("10.0.0.0/8", "2001:db8::1"));
	ck_assert(cs_profile_ip_match("2001:db8::/32", "2001:db8:1::5"));
	ck_assert(!cs_profile_ip_match("2001:db8::/32", "2001:db9::5"));
	ck_assert(cs_profile_glob_match("urn:device:*", "urn:device:pump:7"));
	ck_assert(!cs_profile_glob_match("urn:device:*", "urn:other:7"));
	ck_assert(cs_profile_glob_match("*@site-a.test", "nurse@SITE-A.test"));
	ck_assert(!cs_profile_glob_match("*@site-a.test", "x@site-b.test"));
	ck_assert(cs_profile_glob_match("Pump *", "Pump 0042"));
}
END_TEST

START_TEST(test_check_accepts_good_request)
{
	static const char *const dns[] = {"pump-1.site-a.test", NULL};
	struct cs_profile p;
	struct cs_csr_info *ci =
	    request(CS_TEST_P256, "pump-1.site-a.test", dns);
	struct cs_strv v = {0};

	device_profile(&p);
	ck_assert_uint_eq(cs_profile_check(&p, ci, 0, &v), 0);
	ck_assert_uint_eq(cs_profile_check(&p, ci, 90 * 86400, &v), 0);
	ck_assert_str_eq(ci->cn, "pump-1.site-a.test");
	ck_assert_int_eq(ci->ncn, 1);
	cs_strv_free(&v);
	cs_csr_info_free(ci);
	cs_profile_close(&p);
}
END_TEST

/* One request that breaks every rule: each violation is named. */
START_TEST(test_check_names_every_violation)
{
	static const char *const dns[] = {"pump-1.site-b.test",
	    "pump-2.site-a.test", NULL};
	struct cs_profile p;
	struct cs_csr_info *ci = request(CS_TEST_RSA2048, "rogue", dns);
	struct cs_strv v = {0};

	device_profile(&p);
	ck_assert_uint_eq(cs_profile_check(&p, ci, 400 * 86400, &v), 4);
	ck_assert_msg(has(&v, "key: rsa 2048 is not allowed (allowed: p256, "
			      "p384)"),
	    "%s", v.v[0]);
	ck_assert(has(&v, "dns: \"pump-1.site-b.test\" matches none"));
	ck_assert(!has(&v, "pump-2.site-a.test"));
	ck_assert(has(&v, "subject: CN \"rogue\" is not allowed"));
	ck_assert(
	    has(&v, "validity: 400d is more than the profile's maximum 90d"));
	cs_strv_free(&v);
	cs_csr_info_free(ci);

	/* no SAN at all; a CN that is not a name; allow_cn decides */
	ci = request(CS_TEST_P256, "Pump 0042", NULL);
	ck_assert_uint_eq(cs_profile_check(&p, ci, 0, &v), 2);
	ck_assert(has(&v, "no subjectAltName"));
	ck_assert(has(&v, "CN \"Pump 0042\""));
	cs_strv_free(&v);
	push(&p.allow_cn, "Pump *");
	p.allow_no_san = true;
	ck_assert_uint_eq(cs_profile_check(&p, ci, 0, &v), 0);
	cs_strv_free(&p.allow_cn);
	push(&p.allow_cn, "Monitor *");
	ck_assert_uint_eq(cs_profile_check(&p, ci, 0, &v), 1);
	ck_assert(has(&v, "matches none of allow_cn"));
	cs_strv_free(&v);
	cs_csr_info_free(ci);
	cs_profile_close(&p);

	/* kinds the profile does not allow at all */
	memset(&p, 0, sizeof p);
	p.issuer = dup("x");
	p.key_specs = CS_KEYSPEC_ALL;
	p.max_validity = 86400;
	push(&p.allow.dns, "pump-1.site-b.test");
	push(&p.allow.dns, "pump-2.site-a.test");
	ci = request(CS_TEST_ED25519, "pump-2.site-a.test", dns);
	ck_assert_uint_eq(cs_profile_check(&p, ci, 0, &v), 0);
	cs_strv_free(&p.allow.dns);
	push(&p.allow.ip, "10.0.0.0/8");
	ck_assert_uint_eq(cs_profile_check(&p, ci, 0, &v), 2);
	ck_assert(has(&v, "the profile allows no dns names"));
	cs_strv_free(&v);
	cs_csr_info_free(ci);
	cs_profile_close(&p);
}
END_TEST

static Suite *
profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("profile");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_validate_accepts_and_names_fields);
	tcase_add_test(tc, test_matchers);
	tcase_add_test(tc, test_check_accepts_good_request);
	tcase_add_test(tc, test_check_names_every_violation);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(profile_suite)
