/* test_index.c - the hash posting-list index and the ordered time index,
 * checked against simple reference models under random operations. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert/index.h"
#include "lib/error.h"
#include "tests/lib/runner.h"

/* ---- cs_index ---- */

START_TEST(test_index_add_get_sorted_unique)
{
	struct cs_index *ix = cs_index_new();
	const uint32_t *ids;
	size_t n;
	uint32_t in[] = {5, 3, 9, 3, 1, 9, 7, 2, 8, 4, 6, 10};

	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
		cs_index_add(ix, "owner-a", 7, in[i]);
	ids = cs_index_get(ix, "owner-a", 7, &n);
	ck_assert_uint_eq(n, 10);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(ids[i], i + 1);
	ck_assert_ptr_null(cs_index_get(ix, "owner-b", 7, &n));
	ck_assert_uint_eq(n, 0);
	/* same bytes, different length: a different key */
	ck_assert_ptr_null(cs_index_get(ix, "owner-a", 6, &n));
	ck_assert_uint_eq(cs_index_size(ix), 1);
	cs_index_free(ix);
}
END_TEST

START_TEST(test_index_remove_shrinks_and_drops)
{
	struct cs_index *ix = cs_index_new();
	const uint32_t *ids;
	size_t n;

	for (uint32_t i = 1; i <= 20; i++)
		cs_index_add(ix, "k", 1, i);
	for (uint32_t i = 1; i <= 18; i++)
		cs_index_remove(ix, "k", 1, i);
	ids = cs_index_get(ix, "k", 1, &n);
	ck_assert_uint_eq(n, 2); /* back inline */
	ck_assert_uint_eq(ids[0], 19);
	ck_assert_uint_eq(ids[1], 20);
	cs_index_remove(ix, "k", 1, 42); /* absent: no-op */
	cs_index_remove(ix, "nope", 4, 1);
	ck_assert_uint_eq(cs_index_get(ix, "k", 1, &n)[0], 19);
	cs_index_remove(ix, "k", 1, 19);
	cs_index_remove(ix, "k", 1, 20);
	ck_assert_ptr_null(cs_index_get(ix, "k", 1, &n));
	ck_assert_uint_eq(cs_index_size(ix), 0);
	cs_index_free(ix);
}
END_TEST

/* A reference model: keys 0..K-1, a bitmap of ids per key. */
#define K   500
#define IDS 64

START_TEST(test_index_random_against_model)
{
	struct cs_index *ix = cs_index_new();
	static unsigned char model[K][IDS];
	char key[32];

	memset(model, 0, sizeof model);
	srand(1234);
	for (int op = 0; op < 200000; op++) {
		int k = rand() % K;
		uint32_t id = (uint32_t)(rand() % IDS);
		int klen = snprintf(key, sizeof key, "key-%d", k);

		if (rand() % 3 != 0) {
			cs_index_add(ix, key, (size_t)klen, id);
			model[k][id] = 1;
		} else {
			cs_index_remove(ix, key, (size_t)klen, id);
			model[k][id] = 0;
		}
	}
	for (int k = 0; k < K; k++) {
		int klen = snprintf(key, sizeof key, "key-%d", k);
		size_t n, expect = 0, j = 0;
		const uint32_t *ids = cs_index_get(ix, key, (size_t)klen, &n);

		for (uint32_t id = 0; id < IDS; id++) {
			if (!model[k][id])
				continue;
			expect++;
			ck_assert_uint_lt(j, n);
			ck_assert_uint_eq(ids[j++], id);
		}
		ck_assert_uint_eq(n, expect);
	}
	cs_index_free(ix);
}
END_TEST

START_TEST(test_index_many_keys_survive_growth_and_deletion)
{
	struct cs_index *ix = cs_index_new();
	uint8_t key[32];
	size_t n;

	memset(key, 0, sizeof key);
	for (uint32_t i = 0; i < 100000; i++) {
		memcpy(key, &i, sizeof i);
		cs_index_add(ix, key, sizeof key, i + 1);
	}
	ck_assert_uint_eq(cs_index_size(ix), 100000);
	/* delete every third key: backward-shift must keep the rest
	 * reachable */
	for (uint32_t i = 0; i < 100000; i += 3) {
		memcpy(key, &i, sizeof i);
		cs_index_remove(ix, key, sizeof key, i + 1);
	}
	for (uint32_t i = 0; i < 100000; i++) {
		const uint32_t *ids;

		memcpy(key, &i, sizeof i);
		ids = cs_index_get(ix, key, sizeof key, &n);
		if (i % 3 == 0) {
			ck_assert_uint_eq(n, 0);
		} else {
			ck_assert_uint_eq(n, 1);
			ck_assert_uint_eq(ids[0], i + 1);
		}
	}
	cs_index_free(ix);
}
END_TEST

START_TEST(test_ids_upper_bound)
{
	uint32_t v[] = {2, 4, 4, 8};

	ck_assert_uint_eq(cs_ids_upper_bound(v, 4, 0), 0);
	ck_assert_uint_eq(cs_ids_upper_bound(v, 4, 2), 1);
	ck_assert_uint_eq(cs_ids_upper_bound(v, 4, 4), 3);
	ck_assert_uint_eq(cs_ids_upper_bound(v, 4, 9), 4);
	ck_assert_uint_eq(cs_ids_upper_bound(v, 0, 9), 0);
}
END_TEST

/* ---- cs_tindex ---- */

struct pair {
	int64_t t;
	uint32_t id;
};

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

START_TEST(test_tindex_random_order_and_ranges)
{
	struct cs_tindex *t = cs_tindex_new();
	size_t n = 50000;
	struct pair *ref = calloc(n, sizeof *ref);
	struct cs_tindex_iter it;
	int64_t key;
	uint32_t id;
	size_t i;

	srand(99);
	for (i = 0; i < n; i++) {
		/* many equal times, negative times too */
		ref[i].t = (int64_t)(rand() % 5000) - 1000;
		ref[i].id = (uint32_t)i + 1;
		cs_tindex_add(t, ref[i].t, ref[i].id);
		cs_tindex_add(t, ref[i].t, ref[i].id); /* duplicate: no-op */
	}
	ck_assert_uint_eq(cs_tindex_size(t), n);
	qsort(ref, n, sizeof *ref, pair_cmp);
	cs_tindex_seek(t, &it, INT64_MIN, 0);
	for (i = 0; cs_tindex_next(&it, &key, &id, NULL); i++) {
		ck_assert_uint_lt(i, n);
		ck_assert_int_eq(key, ref[i].t);
		ck_assert_uint_eq(id, ref[i].id);
	}
	ck_assert_uint_eq(i, n);
	/* a window [100, 200) matches the model */
	{
		size_t lo = 0, got = 0, expect = 0;

		while (lo < n && ref[lo].t < 100)
			lo++;
		for (size_t j = lo; j < n && ref[j].t < 200; j++)
			expect++;
		cs_tindex_seek(t, &it, 100, 0);
		while (cs_tindex_next(&it, &key, &id, NULL) && key < 200) {
			ck_assert_int_eq(key, ref[lo + got].t);
			ck_assert_uint_eq(id, ref[lo + got].id);
			got++;
		}
		ck_assert_uint_eq(got, expect);
	}
	/* seek to an exact pair resumes at it */
	cs_tindex_seek(t, &it, ref[n / 2].t, ref[n / 2].id);
	ck_assert(cs_tindex_next(&it, &key, &id, NULL));
	ck_assert_uint_eq(id, ref[n / 2].id);
	free(ref);
	cs_tindex_free(t);
}
END_TEST

START_TEST(test_tindex_remove)
{
	struct cs_tindex *t = cs_tindex_new();
	struct cs_tindex_iter it;
	int64_t key;
	uint32_t id, expect = 2;

	for (uint32_t i = 1; i <= 5000; i++)
		cs_tindex_add(t, i, i);
	for (uint32_t i = 1; i <= 5000; i += 2)
		cs_tindex_remove(t, i, i);
	cs_tindex_remove(t, 7, 8); /* absent pair: no-op */
	ck_assert_uint_eq(cs_tindex_size(t), 2500);
	cs_tindex_seek(t, &it, INT64_MIN, 0);
	while (cs_tindex_next(&it, &key, &id, NULL)) {
		ck_assert_uint_eq(id, expect);
		expect += 2;
	}
	ck_assert_uint_eq(expect, 5002);
	cs_tindex_free(t);
}
END_TEST

START_TEST(test_tindex_flags_and_bulk_build)
{
	struct cs_tindex *t = cs_tindex_new(), *b = cs_tindex_new();
	int64_t keys[2000];
	uint32_t ids[2000], flags[2000];
	struct cs_tindex_iter it, jt;
	int64_t k1, k2;
	uint32_t i1, i2, f1, f2;

	srand(5);
	for (uint32_t i = 0; i < 2000; i++) {
		keys[i] = rand() % 300;
		ids[i] = i + 1;
		flags[i] = i % 3 == 0;
		cs_tindex_add(t, keys[i], ids[i]);
	}
	for (uint32_t i = 0; i < 2000; i += 3)
		ck_assert_int_eq(cs_tindex_set_flags(t, keys[i], ids[i], 1), 0);
	ck_assert_int_eq(cs_tindex_set_flags(t, 5000, 1, 1), CS_ENOTFOUND);
	cs_tindex_build(b, keys, ids, flags, 2000);
	ck_assert_uint_eq(cs_tindex_size(b), 2000);
	/* the incremental and the bulk index agree, flags included */
	cs_tindex_seek(t, &it, INT64_MIN, 0);
	cs_tindex_seek(b, &jt, INT64_MIN, 0);
	while (cs_tindex_next(&it, &k1, &i1, &f1)) {
		ck_assert(cs_tindex_next(&jt, &k2, &i2, &f2));
		ck_assert_int_eq(k1, k2);
		ck_assert_uint_eq(i1, i2);
		ck_assert_uint_eq(f1, f2);
		ck_assert_uint_eq(f1, (i1 - 1) % 3 == 0);
	}
	ck_assert(!cs_tindex_next(&jt, &k2, &i2, &f2));
	/* the bulk-built index takes inserts like any other */
	cs_tindex_add(b, -1, 9999);
	cs_tindex_seek(b, &jt, INT64_MIN, 0);
	ck_assert(cs_tindex_next(&jt, &k2, &i2, NULL));
	ck_assert_uint_eq(i2, 9999);
	cs_tindex_free(t);
	cs_tindex_free(b);
}
END_TEST

START_TEST(test_index_reserve_keeps_contents)
{
	struct cs_index *ix = cs_index_new();
	size_t n;

	cs_index_add(ix, "a", 1, 7);
	cs_index_reserve(ix, 100000);
	ck_assert_uint_eq(cs_index_get(ix, "a", 1, &n)[0], 7);
	for (uint32_t i = 0; i < 1000; i++)
		cs_index_add(ix, &i, sizeof i, i);
	ck_assert_uint_eq(cs_index_size(ix), 1001);
	cs_index_free(ix);
}
END_TEST

static Suite *
index_suite(void)
{
	Suite *s = suite_create("index");
	TCase *tc = tcase_create("index");

	tcase_add_test(tc, test_index_add_get_sorted_unique);
	tcase_add_test(tc, test_index_remove_shrinks_and_drops);
	tcase_add_test(tc, test_index_random_against_model);
	tcase_add_test(tc, test_index_many_keys_survive_growth_and_deletion);
	tcase_add_test(tc, test_ids_upper_bound);
	tcase_add_test(tc, test_index_reserve_keeps_contents);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	tc = tcase_create("tindex");
	tcase_add_test(tc, test_tindex_random_order_and_ranges);
	tcase_add_test(tc, test_tindex_remove);
	tcase_add_test(tc, test_tindex_flags_and_bulk_build);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(index_suite)
