#include "cert/index.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/mem.h"

/*
 * cs_index layout. The table is open addressing with linear probing; a
 * slot holds the key's hash and its entry, so most probes never touch the
 * entry. An entry is one allocation: header, then the key bytes. Sets of
 * one or two ids live inline (most keys: fingerprints, SANs, serials).
 */
#define INLINE_IDS 2

struct entry {
	uint32_t n;   /* ids in the set */
	uint32_t cap; /* 0 while inline */
	union {
		uint32_t inl[INLINE_IDS];
		uint32_t *ids;
	} u;
	uint32_t klen;
	uint8_t key[];
};

struct slot {
	uint64_t hash; /* 0 marks an empty slot (real hashes are never 0) */
	struct entry *e;
};

struct cs_index {
	struct slot *slots;
	size_t mask;  /* capacity - 1; capacity is a power of two */
	size_t count; /* live entries */
};

/* FNV-1a with a final avalanche (splitmix64). Keys here are short. */
static uint64_t
hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h == 0 ? 1 : h;
}

static uint32_t *
entry_ids(struct entry *e)
{
	return e->cap == 0 ? e->u.inl : e->u.ids;
}

static const uint32_t *
entry_cids(const struct entry *e)
{
	return e->cap == 0 ? e->u.inl : e->u.ids;
}

static void
entry_free(struct entry *e)
{
	if (e->cap != 0)
		free(e->u.ids);
	free(e);
}

struct cs_index *
cs_index_new(void)
{
	struct cs_index *ix = cs_calloc(1, sizeof *ix);

	ix->mask = 15;
	ix->slots = cs_calloc(ix->mask + 1, sizeof *ix->slots);
	return ix;
}

void
cs_index_free(struct cs_index *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i <= ix->mask; i++) {
		if (ix->slots[i].hash != 0)
			entry_free(ix->slots[i].e);
	}
	free(ix->slots);
	free(ix);
}

size_t
cs_index_size(const struct cs_index *ix)
{
	return ix->count;
}

static void grow_to(struct cs_index *ix, size_t cap);

void
cs_index_reserve(struct cs_index *ix, size_t n)
{
	size_t cap = ix->mask + 1;

	while (n * 4 > cap * 3)
		cap *= 2;
	if (cap > ix->mask + 1)
		grow_to(ix, cap);
}

/* Returns the slot holding key, or the empty slot where it would go. */
static struct slot *
find(const struct cs_index *ix, uint64_t h, const void *key, size_t klen)
{
	size_t i = (size_t)h & ix->mask;

	for (;;) {
		struct slot *s = &ix->slots[i];

		if (s->hash == 0)
			return s;
		if (s->hash == h && s->e->klen == klen &&
		    memcmp(s->e->key, key, klen) == 0)
			return s;
		i = (i + 1) & ix->mask;
	}
}

static void
grow_to(struct cs_index *ix, size_t cap)
{
	struct slot *old = ix->slots;
	size_t oldcap = ix->mask + 1;

	ix->mask = cap - 1;
	ix->slots = cs_calloc(cap, sizeof *ix->slots);
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].hash == 0)
			continue;
		j = (size_t)old[i].hash & ix->mask;
		while (ix->slots[j].hash != 0)
			j = (j + 1) & ix->mask;
		ix->slots[j] = old[i];
	}
	free(old);
}

static void
grow(struct cs_index *ix)
{
	grow_to(ix, (ix->mask + 1) * 2);
}

size_t
cs_ids_upper_bound(const uint32_t *ids, size_t n, uint32_t after)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ids[mid] <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
cs_index_add(struct cs_index *ix, const void *key, size_t klen, uint32_t id)
{
	uint64_t h = hash_bytes(key, klen);
	struct slot *s = find(ix, h, key, klen);
	struct entry *e;
	uint32_t *ids;
	size_t pos;

	if (s->hash == 0) {
		if ((ix->count + 1) * 4 > (ix->mask + 1) * 3) {
			grow(ix);
			s = find(ix, h, key, klen);
		}
		e = cs_malloc(sizeof *e + klen);
		e->n = 1;
		e->cap = 0;
		e->u.inl[0] = id;
		e->klen = (uint32_t)klen;
		memcpy(e->key, key, klen);
		s->hash = h;
		s->e = e;
		ix->count++;
		return;
	}
	e = s->e;
	ids = entry_ids(e);
	/* Ids mostly arrive in ascending order: check the tail first. */
	if (ids[e->n - 1] < id)
		pos = e->n;
	else
		pos = cs_ids_upper_bound(ids, e->n, id);
	if (pos > 0 && ids[pos - 1] == id)
		return;
	if (e->cap == 0 && e->n == INLINE_IDS) {
		uint32_t *heap = cs_malloc(8 * sizeof *heap);

		memcpy(heap, e->u.inl, sizeof e->u.inl);
		e->u.ids = heap;
		e->cap = 8;
		ids = heap;
	} else if (e->cap != 0 && e->n == e->cap) {
		e->cap *= 2;
		e->u.ids = cs_reallocarray(e->u.ids, e->cap, sizeof *ids);
		ids = e->u.ids;
	}
	memmove(ids + pos + 1, ids + pos, (e->n - pos) * sizeof *ids);
	ids[pos] = id;
	e->n++;
}

/* Backward-shift deletion keeps probe sequences intact without
 * tombstones. */
static void
delete_slot(struct cs_index *ix, struct slot *s)
{
	size_t i = (size_t)(s - ix->slots);
	size_t j = i;

	entry_free(s->e);
	for (;;) {
		size_t home;

		j = (j + 1) & ix->mask;
		if (ix->slots[j].hash == 0)
			break;
		home = (size_t)ix->slots[j].hash & ix->mask;
		/* Move j back to i unless its home lies cyclically in
		 * (i, j]. */
		if ((i < j) ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		ix->slots[i] = ix->slots[j];
		i = j;
	}
	ix->slots[i].hash = 0;
	ix->slots[i].e = NULL;
	ix->count--;
}

void
cs_index_remove(struct cs_index *ix, const void *key, size_t klen, uint32_t id)
{
	uint64_t h = hash_bytes(key, klen);
	struct slot *s = find(ix, h, key, klen);
	struct entry *e;
	uint32_t *ids;
	size_t pos;

	if (s->hash == 0)
		return;
	e = s->e;
	ids = entry_ids(e);
	pos = cs_ids_upper_bound(ids, e->n, id);
	if (pos == 0 || ids[pos - 1] != id)
		return;
	pos--;
	if (e->n == 1) {
		delete_slot(ix, s);
		return;
	}
	memmove(ids + pos, ids + pos + 1, (e->n - pos - 1) * sizeof *ids);
	e->n--;
	if (e->cap != 0 && e->n <= INLINE_IDS) {
		uint32_t *heap = e->u.ids;

		memcpy(e->u.inl, heap, e->n * sizeof *heap);
		free(heap);
		e->cap = 0;
	}
}

const uint32_t *
cs_index_get(const struct cs_index *ix, const void *key, size_t klen, size_t *n)
{
	uint64_t h = hash_bytes(key, klen);
	const struct slot *s = find(ix, h, key, klen);

	if (s->hash == 0) {
		*n = 0;
		return NULL;
	}
	*n = s->e->n;
	return entry_cids(s->e);
}

/* ---- ordered time index ---- */

struct pair {
	int64_t key;
	uint32_t id;
	uint32_t flags;
};

#define DELTA_MIN 1024

struct cs_tindex {
	struct pair *main;
	size_t nmain, capmain;
	struct pair *delta;
	size_t ndelta, capdelta;
};

static int
pair_cmp(const struct pair *a, int64_t key, uint32_t id)
{
	if (a->key != key)
		return a->key < key ? -1 : 1;
	if (a->id != id)
		return a->id < id ? -1 : 1;
	return 0;
}

/* First position in v[0..n) whose pair is >= (key, id). */
static size_t
lower_bound(const struct pair *v, size_t n, int64_t key, uint32_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pair_cmp(&v[mid], key, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct cs_tindex *
cs_tindex_new(void)
{
	return cs_calloc(1, sizeof(struct cs_tindex));
}

void
cs_tindex_free(struct cs_tindex *t)
{
	if (t == NULL)
		return;
	free(t->main);
	free(t->delta);
	free(t);
}

size_t
cs_tindex_size(const struct cs_tindex *t)
{
	return t->nmain + t->ndelta;
}

static size_t
delta_limit(const struct cs_tindex *t)
{
	size_t lim = DELTA_MIN;

	/* ~sqrt(n) * 4 keeps both the delta memmove and the merge cost
	 * at O(sqrt n) per insert, amortised. */
	while (lim * lim < t->nmain * 16)
		lim *= 2;
	return lim;
}

static void
merge(struct cs_tindex *t)
{
	size_t n = t->nmain + t->ndelta;
	struct pair *out;
	size_t i = 0, j = 0, k = 0;

	if (n > t->capmain)
		t->capmain = n + n / 2;
	out = cs_reallocarray(NULL, t->capmain, sizeof *out);
	while (i < t->nmain && j < t->ndelta) {
		if (pair_cmp(&t->main[i], t->delta[j].key, t->delta[j].id) < 0)
			out[k++] = t->main[i++];
		else
			out[k++] = t->delta[j++];
	}
	while (i < t->nmain)
		out[k++] = t->main[i++];
	while (j < t->ndelta)
		out[k++] = t->delta[j++];
	free(t->main);
	t->main = out;
	t->nmain = n;
	t->ndelta = 0;
}

void
cs_tindex_add(struct cs_tindex *t, int64_t key, uint32_t id)
{
	size_t pos;

	pos = lower_bound(t->main, t->nmain, key, id);
	if (pos < t->nmain && pair_cmp(&t->main[pos], key, id) == 0)
		return;
	pos = lower_bound(t->delta, t->ndelta, key, id);
	if (pos < t->ndelta && pair_cmp(&t->delta[pos], key, id) == 0)
		return;
	if (t->ndelta == t->capdelta) {
		t->capdelta = t->capdelta == 0 ? 64 : t->capdelta * 2;
		t->delta =
		    cs_reallocarray(t->delta, t->capdelta, sizeof *t->delta);
	}
	memmove(t->delta + pos + 1, t->delta + pos,
	    (t->ndelta - pos) * sizeof *t->delta);
	t->delta[pos].key = key;
	t->delta[pos].id = id;
	t->delta[pos].flags = 0;
	t->ndelta++;
	if (t->ndelta >= delta_limit(t))
		merge(t);
}

void
cs_tindex_remove(struct cs_tindex *t, int64_t key, uint32_t id)
{
	size_t pos;

	pos = lower_bound(t->delta, t->ndelta, key, id);
	if (pos < t->ndelta && pair_cmp(&t->delta[pos], key, id) == 0) {
		memmove(t->delta + pos, t->delta + pos + 1,
		    (t->ndelta - pos - 1) * sizeof *t->delta);
		t->ndelta--;
		return;
	}
	pos = lower_bound(t->main, t->nmain, key, id);
	if (pos < t->nmain && pair_cmp(&t->main[pos], key, id) == 0) {
		memmove(t->main + pos, t->main + pos + 1,
		    (t->nmain - pos - 1) * sizeof *t->main);
		t->nmain--;
	}
}

void
cs_tindex_seek(const struct cs_tindex *t, struct cs_tindex_iter *it,
    int64_t key, uint32_t id)
{
	it->t = t;
	it->i = lower_bound(t->main, t->nmain, key, id);
	it->j = lower_bound(t->delta, t->ndelta, key, id);
}

int
cs_tindex_set_flags(struct cs_tindex *t, int64_t key, uint32_t id,
    uint32_t flags)
{
	size_t pos = lower_bound(t->main, t->nmain, key, id);

	if (pos < t->nmain && pair_cmp(&t->main[pos], key, id) == 0) {
		t->main[pos].flags = flags;
		return 0;
	}
	pos = lower_bound(t->delta, t->ndelta, key, id);
	if (pos < t->ndelta && pair_cmp(&t->delta[pos], key, id) == 0) {
		t->delta[pos].flags = flags;
		return 0;
	}
	return CS_ENOTFOUND;
}

static int
pair_sort(const void *a, const void *b)
{
	const struct pair *x = a;

	return -pair_cmp(b, x->key, x->id);
}

void
cs_tindex_build(struct cs_tindex *t, const int64_t *keys, const uint32_t *ids,
    const uint32_t *flags, size_t n)
{
	assert(t->nmain == 0 && t->ndelta == 0);
	free(t->main);
	t->capmain = n > 0 ? n : 1;
	t->main = cs_reallocarray(NULL, t->capmain, sizeof *t->main);
	for (size_t i = 0; i < n; i++) {
		t->main[i].key = keys[i];
		t->main[i].id = ids[i];
		t->main[i].flags = flags != NULL ? flags[i] : 0;
	}
	qsort(t->main, n, sizeof *t->main, pair_sort);
	t->nmain = n;
}

bool
cs_tindex_next(struct cs_tindex_iter *it, int64_t *key, uint32_t *id,
    uint32_t *flags)
{
	const struct cs_tindex *t = it->t;
	const struct pair *p;

	if (it->i < t->nmain && it->j < t->ndelta) {
		const struct pair *a = &t->main[it->i];
		const struct pair *b = &t->delta[it->j];

		if (pair_cmp(a, b->key, b->id) < 0)
			p = &t->main[it->i++];
		else
			p = &t->delta[it->j++];
	} else if (it->i < t->nmain) {
		p = &t->main[it->i++];
	} else if (it->j < t->ndelta) {
		p = &t->delta[it->j++];
	} else {
		return false;
	}
	*key = p->key;
	*id = p->id;
	if (flags != NULL)
		*flags = p->flags;
	return true;
}
