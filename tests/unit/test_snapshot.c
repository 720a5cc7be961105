/* test_snapshot.c - snapshots by reference, canonical encoding, strict
 * decoding (cert/snapshot). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert/audit.h"
#include "cert/cmd.h"
#include "cert/doc.h"
#include "cert/snapshot.h"
#include "lib/error.h"
#include "tests/lib/ca.h"
#include "tests/lib/cmds.h"
#include "tests/lib/runner.h"

static struct cs_test_ca *ca;
static struct cs_store *st;
static uint8_t replay_id[16];

/* A store that has seen every kind of command. */
static void
setup(void)
{
	EVP_PKEY *shared = cs_test_key_new(CS_TEST_P256);
	struct cs_cmd c;

	ca = cs_test_ca_new("Snap Root", CS_TEST_P256, NULL);
	st = cs_store_new();
	for (int i = 0; i < 12; i++) {
		char cn[32];
		const char *dns[] = {cn, NULL};
		const char *tags[] = {"site=a", i % 2 ? "class=pump" : NULL,
		    NULL};
		struct cs_test_leaf l = {.cn = cn, .dns = dns};
		size_t len;
		uint8_t *der;

		snprintf(cn, sizeof cn, "d%d.test", i);
		l.key = i < 3 ? shared : NULL;
		der = cs_test_issue(ca, &l, &len, NULL);
		ck_assert_int_eq(cs_test_import(st, der, len,
				     i % 3 ? "icu" : "lab", tags, NULL),
		    0);
		free(der);
	}
	cs_test_revoke(st, cs_store_cert(st, 5)->fingerprint,
	    CS_REASON_CERTIFICATE_HOLD, 100);
	cs_test_cmd_init(&c, CS_CMD_REVOKE_KEY, 200);
	memcpy(c.u.revoke_key.key_id, cs_store_cert(st, 1)->key_id, 32);
	c.u.revoke_key.reason = CS_REASON_KEY_COMPROMISE;
	ck_assert_int_eq(cs_test_apply_exact(st, &c, NULL), 0);
	memcpy(replay_id, c.request_id, 16);
	cs_test_cmd_init(&c, CS_CMD_DOC_PUT, 300);
	c.u.doc.ns = CS_NS_ROLE;
	c.u.doc.key = cs_test_bytes("CN=admin");
	c.u.doc.value = cs_test_bytes("\x81\xa4"
				      "role"
				      "\xa5"
				      "admin");
	ck_assert_int_eq(cs_test_apply(st, &c, NULL), 0);
	c.u.doc.key = cs_test_bytes("CN=auditor");
	ck_assert_int_eq(cs_test_apply(st, &c, NULL), 0);
	cs_test_cmd_init(&c, CS_CMD_DOC_DEL, 300);
	c.u.doc.ns = CS_NS_PROFILE;
	c.u.doc.key = cs_test_bytes("missing");
	ck_assert_int_eq(cs_test_apply(st, &c, NULL), CS_ENOTFOUND);
	EVP_PKEY_free(shared);
}

static void
teardown(void)
{
	cs_store_free(st);
	cs_test_ca_free(ca);
}

static uint8_t *
encode(const struct cs_store *s, size_t *len)
{
	struct cs_buf b;

	cs_buf_init(&b, SIZE_MAX);
	ck_assert_int_eq(cs_store_encode(s, &b), 0);
	return cs_buf_steal(&b, len);
}

START_TEST(test_snapshot_round_trip_is_canonical)
{
	size_t len, len2;
	uint8_t *bytes = encode(st, &len);
	uint8_t *bytes2;
	struct cs_store *back = NULL;
	uint8_t h1[32], h2[32];
	char err[CS_ERRMSG_SIZE] = "";
	size_t bad;

	ck_assert_uint_eq(len % 8, 0);
	ck_assert_int_eq(cs_snapshot_decode(bytes, len, &back, err), 0);
	cs_store_hash(st, h1);
	cs_store_hash(back, h2);
	ck_assert_mem_eq(h1, h2, 32);
	bytes2 = encode(back, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_mem_eq(bytes, bytes2, len);
	ck_assert_uint_eq(cs_store_applied_index(back),
	    cs_store_applied_index(st));
	ck_assert_uint_eq(cs_store_cert_count(back), 12);
	ck_assert_uint_eq(cs_store_key_count(back), 10);
	ck_assert_uint_eq(cs_audit_count(back), cs_audit_count(st));
	ck_assert_int_eq(cs_audit_verify(back, &bad), 0);
	free(bytes);
	free(bytes2);
	cs_store_free(back);
}
END_TEST

START_TEST(test_snapshot_restored_store_answers_like_the_original)
{
	size_t len;
	uint8_t *bytes = encode(st, &len);
	struct cs_store *back = NULL;
	struct cs_query q;
	const struct cs_cert *out[20];
	size_t n, vlen;
	uint32_t next;
	struct cs_cmd c;
	struct cs_result r;

	ck_assert_int_eq(cs_snapshot_decode(bytes, len, &back, NULL), 0);
	/* every index was rebuilt */
	for (uint32_t seq = 1; seq <= 12; seq++) {
		const struct cs_cert *c0 = cs_store_cert(st, seq);

		ck_assert_uint_eq(cs_store_get_fp(back, c0->fingerprint)->seq,
		    seq);
	}
	cs_query_init(&q, 0);
	q.owner = "lab";
	cs_store_search(back, &q, out, &n, &next);
	ck_assert_uint_eq(n, 4);
	cs_query_init(&q, 0);
	q.tag = "class=pump";
	cs_store_search(back, &q, out, &n, &next);
	ck_assert_uint_eq(n, 6);
	cs_query_init(&q, 0);
	q.san = "D7.TEST";
	cs_store_search(back, &q, out, &n, &next);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0]->seq, 8);
	ck_assert_uint_eq(cs_store_revoked_count(back), 4);
	ck_assert_int_eq(cs_store_get_key(back, cs_store_cert(back, 1)->key_id)
			     ->state,
	    CS_KEY_COMPROMISED);
	ck_assert_ptr_nonnull(
	    cs_store_doc(back, CS_NS_ROLE, "CN=admin", &vlen));
	/* the request-id table survived: a retry still gets its result */
	ck_assert_ptr_nonnull(cs_cmd_seen(back, replay_id));
	cs_test_cmd_init(&c, CS_CMD_REVOKE_KEY, 999);
	memcpy(c.request_id, replay_id, 16);
	memcpy(c.u.revoke_key.key_id, cs_store_cert(back, 1)->key_id, 32);
	c.u.revoke_key.reason = CS_REASON_KEY_COMPROMISE;
	ck_assert_int_eq(cs_test_apply_exact(back, &c, &r), 0);
	ck_assert_uint_eq(r.count, 3);
	/* and the restored store goes on applying like the original */
	cs_test_revoke(st, cs_store_cert(st, 9)->fingerprint, 1, 5);
	cs_test_revoke(back, cs_store_cert(back, 9)->fingerprint, 1, 5);
	ck_assert_int_eq(cs_store_cert(back, 9)->status, CS_STATUS_REVOKED);
	free(bytes);
	cs_store_free(back);
}
END_TEST

START_TEST(test_snapshot_taken_is_stable_while_store_changes)
{
	struct cs_snapshot *snap = cs_snapshot_take(st);
	uint8_t before[32], after[32], now[32];
	struct cs_cmd c;

	cs_snapshot_hash(snap, before);
	ck_assert_uint_eq(cs_snapshot_index(snap), cs_store_applied_index(st));
	/* replace records the snapshot references */
	cs_test_revoke(st, cs_store_cert(st, 10)->fingerprint, 4, 500);
	cs_test_cmd_init(&c, CS_CMD_SET_META, 1);
	memcpy(c.u.meta.fp, cs_store_cert(st, 11)->fingerprint, 32);
	c.u.meta.set_owner = true;
	c.u.meta.owner = cs_test_bytes("radiology");
	ck_assert_int_eq(cs_test_apply(st, &c, NULL), 0);
	cs_test_cmd_init(&c, CS_CMD_DOC_DEL, 1);
	c.u.doc.ns = CS_NS_ROLE;
	c.u.doc.key = cs_test_bytes("CN=admin");
	ck_assert_int_eq(cs_test_apply(st, &c, NULL), 0);
	cs_store_hash(st, now);
	ck_assert_mem_ne(before, now, 32);
	cs_snapshot_hash(snap, after);
	ck_assert_mem_eq(before, after, 32);
	/* even the store's end leaves the snapshot intact */
	cs_store_free(st);
	st = cs_store_new();
	cs_snapshot_hash(snap, after);
	ck_assert_mem_eq(before, after, 32);
	{
		size_t n, total = 0;
		const struct cs_bytes *b = cs_snapshot_bufs(snap, &n);

		for (size_t i = 0; i < n; i++)
			total += b[i].len;
		ck_assert_uint_eq(total, cs_snapshot_size(snap));
	}
	cs_snapshot_release(snap);
}
END_TEST

START_TEST(test_snapshot_empty_store_round_trip)
{
	struct cs_store *empty = cs_store_new(), *back = NULL;
	size_t len;
	uint8_t *bytes = encode(empty, &len);

	ck_assert_int_eq(cs_snapshot_decode(bytes, len, &back, NULL), 0);
	ck_assert_uint_eq(cs_store_cert_count(back), 0);
	ck_assert_uint_eq(cs_audit_count(back), 0);
	free(bytes);
	cs_store_free(back);
	cs_store_free(empty);
}
END_TEST

static void
expect_reject(const uint8_t *p, size_t len, const char *what)
{
	struct cs_store *back = NULL;
	char err[CS_ERRMSG_SIZE] = "";

	ck_assert_msg(cs_snapshot_decode(p, len, &back, err) == CS_EPROTO,
	    "accepted: %s", what);
	ck_assert_ptr_null(back);
	ck_assert_msg(err[0] != '\0', "no message: %s", what);
}

START_TEST(test_snapshot_decode_rejects_damage)
{
	size_t len;
	uint8_t *bytes = encode(st, &len);
	uint8_t *copy = malloc(len + 16);
	uint64_t u;
	uint32_t meta_len;

	expect_reject(bytes, 0, "empty");
	expect_reject(bytes, 63, "short header");
	for (size_t cut = 64; cut < len; cut += 8)
		expect_reject(bytes, cut, "truncated");
	memcpy(copy, bytes, len);
	memset(copy + len, 0, 8);
	expect_reject(copy, len + 8, "8 trailing zero bytes");

#define DAMAGE(off, type, val, what)                                           \
	do {                                                                   \
		type v_ = (val);                                               \
		memcpy(copy, bytes, len);                                      \
		memcpy(copy + (off), &v_, sizeof v_);                          \
		expect_reject(copy, len, what);                                \
	} while (0)

	DAMAGE(0, uint8_t, 'X', "bad magic");
	DAMAGE(8, uint32_t, 2, "unknown version");
	DAMAGE(12, uint32_t, 72, "header size");
	u = 1u << 30;
	DAMAGE(24, uint64_t, u, "certificate count over the data");
	DAMAGE(24, uint64_t, 11, "one certificate too few");
	DAMAGE(48, uint64_t, 1, "audit count");
	DAMAGE(60, uint32_t, 1, "non-zero reserved word");
	memcpy(&meta_len, bytes + 56, 4);
	DAMAGE(56, uint32_t, meta_len + 8, "meta length");
	{
		size_t rec = 64 + meta_len; /* the first certificate */
		uint32_t size;

		memcpy(&size, bytes + rec, 4);
		DAMAGE(rec, uint32_t, size + 8, "record size");
		DAMAGE(rec, uint32_t, size - 3, "unaligned record size");
		DAMAGE(rec + 4, uint16_t, 2, "record type");
		DAMAGE(rec + 6, uint16_t, 9, "record version");
		DAMAGE(rec + 8, uint32_t, 2, "sequence out of order");
		DAMAGE(rec + 15, uint8_t, 7, "status");
		DAMAGE(rec + 128, uint8_t, 42, "reason");
		DAMAGE(rec + 132, uint8_t, 33, "serial length");
		DAMAGE(rec + 136, uint16_t, 500, "tag count over the record");
		DAMAGE(rec + 152, uint32_t, size, "DER offset at the end");
		DAMAGE(rec + 156, uint32_t, 0, "empty DER");
		DAMAGE(rec + size - 1, uint8_t, 0xff,
		    "non-zero record padding");
	}
	/* the last audit entry's hash */
	DAMAGE(len - 1, uint8_t, (uint8_t)(bytes[len - 1] ^ 1), "audit chain");
	/* the last audit entry's actor */
	DAMAGE(len - 88 + 16, uint32_t, 999, "audit actor");
#undef DAMAGE
	free(copy);
	free(bytes);
}
END_TEST

START_TEST(test_snapshot_decode_random_flips_never_crash)
{
	size_t len;
	uint8_t *bytes = encode(st, &len);
	uint8_t *copy = malloc(len);

	srand(7);
	for (int i = 0; i < 3000; i++) {
		struct cs_store *back = NULL;
		size_t at = (size_t)rand() % len;

		memcpy(copy, bytes, len);
		copy[at] ^= (uint8_t)(1 + rand() % 255);
		if (cs_snapshot_decode(copy, len, &back, NULL) == 0) {
			/* accepted damage must be a representable change:
			 * re-encoding gives back exactly these bytes */
			size_t len2;
			uint8_t *again = encode(back, &len2);

			ck_assert_uint_eq(len2, len);
			ck_assert_msg(memcmp(again, copy, len) == 0,
			    "flip at %zu accepted but not canonical", at);
			free(again);
			cs_store_free(back);
		}
	}
	free(copy);
	free(bytes);
}
END_TEST

static int slab_frees;

static void
count_free(void *p)
{
	slab_frees++;
	free(p);
}

/* A restored store keeps its records in the loaded buffer; the buffer is
 * freed once every record in it has been replaced, and not before. */
START_TEST(test_snapshot_load_in_place_frees_slab_with_last_record)
{
	size_t len;
	uint8_t *bytes = encode(st, &len);
	struct cs_store *back = NULL;
	struct cs_cmd c;
	size_t n = cs_store_cert_count(st);
	const char *k = NULL;
	const uint8_t *v;
	size_t vlen;

	slab_frees = 0;
	ck_assert_int_eq(cs_snapshot_load(bytes, len, count_free, &back, NULL),
	    0);
	/* replace every certificate, key and document */
	for (uint32_t seq = 1; seq <= n; seq++) {
		cs_test_cmd_init(&c, CS_CMD_SET_META, 1);
		memcpy(c.u.meta.fp, cs_store_cert(back, seq)->fingerprint, 32);
		c.u.meta.set_owner = true;
		c.u.meta.owner = cs_test_bytes("moved");
		ck_assert_int_eq(cs_test_apply(back, &c, NULL), 0);
	}
	for (uint32_t seq = 1; seq <= n; seq++) {
		const struct cs_key *key =
		    cs_store_get_key(back, cs_store_cert(back, seq)->key_id);

		if (key->state == CS_KEY_DESTROYED)
			continue;
		cs_test_cmd_init(&c, CS_CMD_KEY_STATE, 1);
		memcpy(c.u.key_state.key_id, key->key_id, 32);
		c.u.key_state.state = CS_KEY_DESTROYED;
		c.u.key_state.location = CS_KEYLOC_KEEP;
		ck_assert_int_eq(cs_test_apply(back, &c, NULL), 0);
	}
	ck_assert_int_eq(slab_frees, 0); /* the role documents remain */
	while ((k = cs_store_doc_next(back, CS_NS_ROLE, NULL, &v, &vlen)) !=
	       NULL) {
		cs_test_cmd_init(&c, CS_CMD_DOC_DEL, 1);
		c.u.doc.ns = CS_NS_ROLE;
		c.u.doc.key = cs_test_bytes(k);
		ck_assert_int_eq(cs_test_apply(back, &c, NULL), 0);
	}
	ck_assert_int_eq(slab_frees, 1);
	ck_assert_str_eq(cs_cert_owner(cs_store_cert(back, 3)), "moved");
	cs_store_free(back);
	ck_assert_int_eq(slab_frees, 1);
}
END_TEST

/* While a snapshot is outstanding, replaced records of a restored store
 * stay readable; the slab outlives the store if the snapshot does. */
START_TEST(test_snapshot_of_restored_store_outlives_it)
{
	size_t len, len2;
	uint8_t *bytes = encode(st, &len);
	struct cs_store *back = NULL;
	struct cs_snapshot *snap;
	uint8_t h1[32], h2[32];

	slab_frees = 0;
	ck_assert_int_eq(cs_snapshot_load(bytes, len, count_free, &back, NULL),
	    0);
	snap = cs_snapshot_take(back);
	cs_snapshot_hash(snap, h1);
	cs_test_revoke(back, cs_store_cert(back, 2)->fingerprint, 1, 9);
	cs_store_free(back); /* a zombie until the snapshot goes */
	ck_assert_int_eq(slab_frees, 0);
	cs_snapshot_hash(snap, h2);
	ck_assert_mem_eq(h1, h2, 32);
	/* the first certificate record, read from the freed store's slab */
	ck_assert_mem_eq(cs_snapshot_bufs(snap, &len2)[2].p,
	    cs_store_cert(st, 1), cs_store_cert(st, 1)->size);
	cs_snapshot_release(snap);
	ck_assert_int_eq(slab_frees, 1);
}
END_TEST

static Suite *
snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("snapshot");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_snapshot_round_trip_is_canonical);
	tcase_add_test(tc,
	    test_snapshot_restored_store_answers_like_the_original);
	tcase_add_test(tc, test_snapshot_taken_is_stable_while_store_changes);
	tcase_add_test(tc, test_snapshot_empty_store_round_trip);
	tcase_add_test(tc, test_snapshot_decode_rejects_damage);
	tcase_add_test(tc, test_snapshot_decode_random_flips_never_crash);
	tcase_add_test(tc,
	    test_snapshot_load_in_place_frees_slab_with_last_record);
	tcase_add_test(tc, test_snapshot_of_restored_store_outlives_it);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(snapshot_suite)
