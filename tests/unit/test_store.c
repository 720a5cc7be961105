/* test_store.c - store records, lookups and queries (cert/store), checked
 * against a brute-force model of the same certificates. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cert/cmd.h"
#include "cert/store.h"
#include "lib/error.h"
#include "tests/lib/ca.h"
#include "tests/lib/cmds.h"
#include "tests/lib/runner.h"

#define N   60
#define NOW 1800000000LL
#define DAY 86400LL

/* What the model knows of certificate seq i + 1. */
struct model {
	char cn[64];
	char dns[64];
	char ip[32];
	char email[64];
	char owner[16];
	char tag[16];
	const char *issuer;
	int64_t not_after;
	int revoked;
	uint8_t fp[32];
	uint8_t key_id[32];
	uint8_t *der;
	size_t der_len;
};

static struct cs_test_ca *root, *inter;
static struct cs_store *st;
static struct model m[N];

static void
setup(void)
{
	root = cs_test_ca_new("Root", CS_TEST_P256, NULL);
	inter = cs_test_ca_new("Intermediate", CS_TEST_P256, root);
	st = cs_store_new();
	for (int i = 0; i < N; i++) {
		struct model *x = &m[i];
		const char *dns[] = {x->dns, NULL};
		const char *ip[] = {x->ip, NULL};
		const char *email[] = {x->email, NULL};
		const char *tags[] = {x->tag, NULL};
		struct cs_test_leaf l;
		struct cs_cert_info *ci = NULL;

		snprintf(x->cn, sizeof x->cn, "device-%02d", i);
		/* mixed case: SAN search must not care */
		snprintf(x->dns, sizeof x->dns, "Device-%02d.Site-%c.test", i,
		    'a' + i % 3);
		snprintf(x->ip, sizeof x->ip, "10.0.%d.%d", i / 10, i % 10);
		snprintf(x->email, sizeof x->email, "dev%02d@hospital.test", i);
		snprintf(x->owner, sizeof x->owner, "owner-%d", i % 4);
		snprintf(x->tag, sizeof x->tag, "class=%d", i % 5);
		x->issuer = i % 2 ? "CN=Intermediate" : "CN=Root";
		/* spread: some expired, some soon, some later */
		x->not_after = NOW + (i - 10) * 3 * DAY + i;
		memset(&l, 0, sizeof l);
		l.cn = x->cn;
		l.dns = dns;
		l.ip = ip;
		l.email = email;
		l.not_before = NOW - 400 * DAY;
		l.not_after = x->not_after;
		l.serial =
		    (uint64_t)(1000 + i % 31); /* i, i + 31: two issuers */
		x->der =
		    cs_test_issue(i % 2 ? inter : root, &l, &x->der_len, NULL);
		ck_assert_int_eq(cs_x509_parse_der(x->der, x->der_len, &ci,
				     NULL),
		    0);
		memcpy(x->fp, ci->fingerprint, 32);
		memcpy(x->key_id, ci->key_id, 32);
		cs_cert_info_free(ci);
		ck_assert_int_eq(cs_test_import(st, x->der, x->der_len,
				     x->owner, tags, NULL),
		    0);
		x->revoked = i % 7 == 3;
		if (x->revoked)
			ck_assert_int_eq(cs_test_revoke(st, x->fp,
					     CS_REASON_SUPERSEDED, NOW),
			    0);
	}
}

static void
teardown(void)
{
	for (int i = 0; i < N; i++)
		free(m[i].der);
	cs_store_free(st);
	cs_test_ca_free(inter);
	cs_test_ca_free(root);
}

START_TEST(test_store_records_hold_the_parsed_fields)
{
	for (int i = 0; i < N; i++) {
		const struct cs_cert *c = cs_store_cert(st, (uint32_t)i + 1);
		struct cs_cert_info *ci = NULL;
		struct cs_serial sn;
		const uint8_t *der;
		size_t len, n;
		const char *p;

		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(c->size % 8, 0);
		ck_assert_int_eq(cs_x509_parse_der(m[i].der, m[i].der_len, &ci,
				     NULL),
		    0);
		ck_assert_str_eq(cs_cert_subject(c), ci->subject);
		ck_assert_str_eq(cs_cert_issuer(c), m[i].issuer);
		ck_assert_str_eq(cs_cert_owner(c), m[i].owner);
		ck_assert_str_eq(cs_cert_profile(c), "");
		ck_assert_str_eq(cs_cert_curve(c), "P-256");
		ck_assert_int_eq(c->key_type, CS_KEY_EC);
		ck_assert_int_eq(c->key_bits, 256);
		ck_assert_int_eq(c->not_after, m[i].not_after);
		ck_assert_int_eq(c->not_before, ci->not_before);
		cs_cert_serial(c, &sn);
		ck_assert(cs_serial_equal(&sn, &ci->serial));
		der = cs_cert_der(c, &len);
		ck_assert_uint_eq(len, m[i].der_len);
		ck_assert_mem_eq(der, m[i].der, len);
		p = cs_cert_list(c, CS_LIST_DNS, &n);
		ck_assert_uint_eq(n, 1);
		ck_assert_str_eq(p, m[i].dns);
		p = cs_cert_list(c, CS_LIST_IP, &n);
		ck_assert_uint_eq(n, 1);
		ck_assert_str_eq(p, m[i].ip);
		p = cs_cert_list(c, CS_LIST_EMAIL, &n);
		ck_assert_str_eq(p, m[i].email);
		cs_cert_list(c, CS_LIST_URI, &n);
		ck_assert_uint_eq(n, 0);
		p = cs_cert_list(c, CS_LIST_TAGS, &n);
		ck_assert_uint_eq(n, 1);
		ck_assert_str_eq(p, m[i].tag);
		ck_assert_int_eq(cs_cert_status_at(c, NOW),
		    m[i].revoked ? CS_STATUS_REVOKED
				 : (m[i].not_after < NOW ? CS_STATUS_EXPIRED
							 : CS_STATUS_VALID));
		cs_cert_info_free(ci);
	}
	ck_assert_ptr_null(cs_store_cert(st, 0));
	ck_assert_ptr_null(cs_store_cert(st, N + 1));
}
END_TEST

START_TEST(test_store_get_by_fp_serial_key)
{
	const struct cs_cert *out[8];
	struct cs_serial sn;
	uint8_t nope[32] = {0};

	for (int i = 0; i < N; i++)
		ck_assert_uint_eq(cs_store_get_fp(st, m[i].fp)->seq,
		    (uint32_t)i + 1);
	ck_assert_ptr_null(cs_store_get_fp(st, nope));
	/* serial 1003 was used by seq 4 (Intermediate), 35 (Root) */
	ck_assert_int_eq(cs_serial_parse("3eb", &sn), 0);
	ck_assert_uint_eq(cs_store_get_serial(st, NULL, &sn, out, 8), 2);
	ck_assert_uint_eq(cs_store_get_serial(st, "CN=Intermediate", &sn, out,
			      8),
	    1);
	ck_assert_uint_eq(out[0]->seq, 4);
	ck_assert_uint_eq(cs_store_get_serial(st, "CN=Root", &sn, out, 8), 1);
	ck_assert_uint_eq(out[0]->seq, 35);
	ck_assert_uint_eq(cs_store_get_serial(st, "CN=Other", &sn, out, 8), 0);
	/* a full out array still counts */
	ck_assert_uint_eq(cs_store_get_serial(st, NULL, &sn, out, 1), 2);
	ck_assert_ptr_nonnull(cs_store_get_key(st, m[5].key_id));
	ck_assert_ptr_null(cs_store_get_key(st, nope));
}
END_TEST

/* The model's answer to q, in seq order. */
static size_t
brute(const struct cs_query *q, uint32_t *out)
{
	size_t n = 0;

	for (int i = 0; i < N; i++) {
		const struct model *x = &m[i];
		int status = x->revoked
				 ? CS_STATUS_REVOKED
				 : (x->not_after < q->now ? CS_STATUS_EXPIRED
							  : CS_STATUS_VALID);

		if (q->owner && strcmp(q->owner, x->owner) != 0)
			continue;
		if (q->tag && strcmp(q->tag, x->tag) != 0)
			continue;
		if (q->issuer && strcmp(q->issuer, x->issuer) != 0)
			continue;
		if (q->san && strcasecmp(q->san, x->dns) != 0 &&
		    strcmp(q->san, x->ip) != 0 &&
		    strcasecmp(q->san, x->email) != 0)
			continue;
		if (q->subject && (strncmp(q->subject, "CN=", 3) != 0 ||
				      strcmp(q->subject + 3, x->cn) != 0))
			continue;
		if (q->key_id && memcmp(q->key_id, x->key_id, 32) != 0)
			continue;
		if (q->status >= 0 && q->status != status)
			continue;
		if (q->expires_after && x->not_after < q->expires_after)
			continue;
		if (q->expires_before && x->not_after >= q->expires_before)
			continue;
		out[n++] = (uint32_t)i + 1;
	}
	return n;
}

/* Pages through the store's answer with a small limit and checks it
 * against the model. */
static void
check_query(struct cs_query *q)
{
	uint32_t expect[N];
	size_t nexpect = brute(q, expect), got = 0;
	const struct cs_cert *page[7];
	size_t n;
	uint32_t next;

	q->limit = 7;
	q->after = 0;
	do {
		cs_store_search(st, q, page, &n, &next);
		for (size_t i = 0; i < n; i++) {
			ck_assert_uint_lt(got, nexpect);
			ck_assert_uint_eq(page[i]->seq, expect[got]);
			got++;
		}
		if (next != 0) {
			ck_assert_uint_eq(n, 7);
			ck_assert_uint_eq(next, page[6]->seq);
		}
		q->after = next;
	} while (next != 0);
	ck_assert_uint_eq(got, nexpect);
}

START_TEST(test_store_search_each_filter_pages_like_the_model)
{
	struct cs_query q;
	char subj[80];

	cs_query_init(&q, NOW);
	check_query(&q);
	cs_query_init(&q, NOW);
	q.owner = "owner-2";
	check_query(&q);
	cs_query_init(&q, NOW);
	q.tag = "class=3";
	check_query(&q);
	cs_query_init(&q, NOW);
	q.issuer = "CN=Root";
	check_query(&q);
	cs_query_init(&q, NOW);
	q.san = "DEVICE-17.site-C.TEST";
	check_query(&q);
	cs_query_init(&q, NOW);
	q.san = "10.0.4.2";
	check_query(&q);
	cs_query_init(&q, NOW);
	q.san = "Dev33@Hospital.Test";
	check_query(&q);
	cs_query_init(&q, NOW);
	snprintf(subj, sizeof subj, "CN=%s", m[12].cn);
	q.subject = subj;
	check_query(&q);
	cs_query_init(&q, NOW);
	q.key_id = m[40].key_id;
	check_query(&q);
	for (int s = 0; s < CS_STATUS__MAX; s++) {
		cs_query_init(&q, NOW);
		q.status = s;
		check_query(&q);
	}
	cs_query_init(&q, NOW);
	q.expires_after = NOW;
	q.expires_before = NOW + 30 * DAY;
	check_query(&q);
	cs_query_init(&q, NOW);
	q.expires_before = NOW - 5 * DAY;
	check_query(&q);
	/* combinations */
	cs_query_init(&q, NOW);
	q.owner = "owner-1";
	q.issuer = "CN=Intermediate";
	q.status = CS_STATUS_VALID;
	check_query(&q);
	cs_query_init(&q, NOW);
	q.tag = "class=0";
	q.expires_after = NOW + 10 * DAY;
	check_query(&q);
	/* nothing matches */
	cs_query_init(&q, NOW);
	q.owner = "nobody";
	check_query(&q);
}
END_TEST

START_TEST(test_store_search_serial_profile_source)
{
	struct cs_query q;
	struct cs_serial sn;
	const struct cs_cert *out[10];
	size_t n;
	uint32_t next;

	cs_query_init(&q, NOW);
	ck_assert_int_eq(cs_serial_parse("3f0", &sn), 0); /* 1008 */
	q.serial = &sn;
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(out[0]->seq, 9);
	ck_assert_uint_eq(out[1]->seq, 40);
	q.issuer = "CN=Intermediate";
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 1);
	cs_query_init(&q, NOW);
	q.source = CS_SOURCE_IMPORTED;
	q.limit = 10;
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(next, 10);
	q.source = CS_SOURCE_ISSUED;
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 0);
	cs_query_init(&q, NOW);
	q.profile = "";
	q.limit = 0; /* clamped to 1 */
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(next, 1);
}
END_TEST

START_TEST(test_store_expiring_window_in_time_order)
{
	const struct cs_cert *page[5];
	size_t n, got = 0;
	bool more;
	int64_t at = INT64_MIN;
	uint32_t after = 0;
	int64_t prev = INT64_MIN;
	size_t expect = 0;

	for (int i = 0; i < N; i++) {
		if (!m[i].revoked && m[i].not_after >= NOW &&
		    m[i].not_after < NOW + 60 * DAY)
			expect++;
	}
	do {
		cs_store_expiring(st, NOW, NOW + 60 * DAY, at, after, 5, page,
		    &n, &more);
		for (size_t i = 0; i < n; i++) {
			ck_assert_int_ge(page[i]->not_after, NOW);
			ck_assert_int_lt(page[i]->not_after, NOW + 60 * DAY);
			ck_assert_int_ne(page[i]->status, CS_STATUS_REVOKED);
			ck_assert_int_gt(page[i]->not_after, prev);
			prev = page[i]->not_after;
			got++;
		}
		if (n > 0) {
			at = page[n - 1]->not_after;
			after = page[n - 1]->seq;
		}
	} while (more);
	ck_assert_uint_eq(got, expect);
	ck_assert_uint_eq(cs_store_count_expiring(st, NOW, 60 * DAY), expect);
	/* expired: everything before now that is not revoked */
	cs_store_expiring(st, INT64_MIN, NOW, INT64_MIN, 0, 5, page, &n, &more);
	ck_assert_uint_eq(n, 5);
	ck_assert(more); /* 9 expired, not revoked */
	for (size_t i = 0; i < n; i++)
		ck_assert_int_lt(page[i]->not_after, NOW);
}
END_TEST

START_TEST(test_store_counts_and_revoked)
{
	size_t valid, revoked, expired, ev = 0, er = 0, ex = 0;
	const struct cs_cert *out[N];
	size_t n;
	uint32_t next;

	for (int i = 0; i < N; i++) {
		if (m[i].revoked)
			er++;
		else if (m[i].not_after < NOW)
			ex++;
		else
			ev++;
	}
	cs_store_counts(st, NOW, &valid, &revoked, &expired);
	ck_assert_uint_eq(valid, ev);
	ck_assert_uint_eq(revoked, er);
	ck_assert_uint_eq(expired, ex);
	ck_assert_uint_eq(cs_store_revoked_count(st), er);
	cs_store_revoked(st, NULL, 0, N, out, &n, &next);
	ck_assert_uint_eq(n, er);
	ck_assert_uint_eq(next, 0);
	cs_store_revoked(st, "CN=Root", 0, N, out, &n, &next);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(cs_cert_issuer(out[i]), "CN=Root");
		ck_assert_int_eq(out[i]->reason, CS_REASON_SUPERSEDED);
		ck_assert_int_eq(out[i]->revoked_at, NOW);
	}
	cs_store_revoked(st, NULL, 0, 2, out, &n, &next);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(next, out[1]->seq);
	cs_store_revoked(st, NULL, next, 2, out, &n, &next);
	ck_assert_uint_gt(out[0]->seq, 2);
}
END_TEST

START_TEST(test_store_documents_iterate_in_order)
{
	static const char *const keys[] = {"b", "a", "c", "aa"};
	const char *k = NULL;
	const char *want[] = {"a", "aa", "b", "c"};
	const uint8_t *v;
	size_t vlen;
	int i = 0;

	for (int j = 0; j < 4; j++) {
		struct cs_cmd c;

		cs_test_cmd_init(&c, CS_CMD_DOC_PUT, 1);
		c.u.doc.ns = CS_NS_NOTIFY;
		c.u.doc.key = cs_test_bytes(keys[j]);
		c.u.doc.value = cs_test_bytes("\x81\xa4sent\x05");
		ck_assert_int_eq(cs_test_apply(st, &c, NULL), 0);
	}
	while ((k = cs_store_doc_next(st, CS_NS_NOTIFY, k, &v, &vlen)) != NULL)
		ck_assert_str_eq(k, want[i++]);
	ck_assert_int_eq(i, 4);
	ck_assert_ptr_null(cs_store_doc_next(st, CS_NS_ROLE, NULL, &v, &vlen));
	ck_assert_ptr_null(cs_store_doc(st, CS_NS_NOTIFY, "zz", &vlen));
}
END_TEST

START_TEST(test_store_names_round_trip)
{
	for (int v = 0; v < CS_STATUS__MAX; v++) {
		enum cs_cert_status out;

		ck_assert_int_eq(cs_status_parse(cs_status_name(v), &out), 0);
		ck_assert_int_eq(out, v);
	}
	for (int v = 0; v < CS_SOURCE__MAX; v++) {
		enum cs_cert_source out;

		ck_assert_int_eq(cs_source_parse(cs_source_name(v), &out), 0);
		ck_assert_int_eq(out, v);
	}
	for (int v = 0; v < CS_REASON__MAX; v++) {
		enum cs_reason out;

		if (v == 7) {
			ck_assert_str_eq(cs_reason_name(v), "?");
			continue;
		}
		ck_assert_int_eq(cs_reason_parse(cs_reason_name(v), &out), 0);
		ck_assert_int_eq(out, v);
	}
	for (int v = 0; v < CS_KEY_STATE__MAX; v++) {
		enum cs_key_state out;

		ck_assert_int_eq(cs_key_state_parse(cs_key_state_name(v), &out),
		    0);
		ck_assert_int_eq(out, v);
	}
	for (int v = 0; v < CS_KEYLOC__MAX; v++) {
		enum cs_key_location out;

		ck_assert_int_eq(cs_keyloc_parse(cs_keyloc_name(v), &out), 0);
		ck_assert_int_eq(out, v);
	}
	{
		enum cs_reason r;

		ck_assert_int_eq(cs_reason_parse("keycompromise", &r),
		    CS_EINVAL);
		ck_assert_int_eq(cs_reason_parse("?", &r), CS_EINVAL);
		ck_assert_str_eq(cs_reason_name(CS_REASON__MAX), "?");
	}
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("query");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_store_records_hold_the_parsed_fields);
	tcase_add_test(tc, test_store_get_by_fp_serial_key);
	tcase_add_test(tc, test_store_search_each_filter_pages_like_the_model);
	tcase_add_test(tc, test_store_search_serial_profile_source);
	tcase_add_test(tc, test_store_expiring_window_in_time_order);
	tcase_add_test(tc, test_store_counts_and_revoked);
	tcase_add_test(tc, test_store_documents_iterate_in_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_test(tc, test_store_names_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(store_suite)
