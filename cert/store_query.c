#include "cert/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cert/store_int.h"
#include "lib/mem.h"

/* Queries over the store: search by any indexed field with a cursor,
 * expiry windows, revocations, counts. Read-only. */

#define REVOKED_FLAG 1u /* in the ordered index: see cs_store__cert_insert */

void
cs_query_init(struct cs_query *q, int64_t now)
{
	memset(q, 0, sizeof *q);
	q->status = -1;
	q->source = -1;
	q->now = now;
	q->limit = 100;
}

static bool
has_san(const struct cs_cert *c, const char *low)
{
	for (int l = CS_LIST_DNS; l <= CS_LIST_EMAIL; l++) {
		size_t n;
		const char *p = cs_cert_list(c, (enum cs_cert_list)l, &n);

		for (size_t i = 0; i < n; i++, p = cs_str_next(p)) {
			if (strcasecmp(p, low) == 0)
				return true;
		}
	}
	return false;
}

static bool
has_tag(const struct cs_cert *c, const char *tag)
{
	size_t n;
	const char *p = cs_cert_list(c, CS_LIST_TAGS, &n);

	for (size_t i = 0; i < n; i++, p = cs_str_next(p)) {
		if (strcmp(p, tag) == 0)
			return true;
	}
	return false;
}

static bool
matches(const struct cs_cert *c, const struct cs_query *q)
{
	if (q->subject != NULL && strcmp(cs_cert_subject(c), q->subject) != 0)
		return false;
	if (q->issuer != NULL && strcmp(cs_cert_issuer(c), q->issuer) != 0)
		return false;
	if (q->owner != NULL && strcmp(cs_cert_owner(c), q->owner) != 0)
		return false;
	if (q->profile != NULL && strcmp(cs_cert_profile(c), q->profile) != 0)
		return false;
	if (q->tag != NULL && !has_tag(c, q->tag))
		return false;
	if (q->san != NULL && !has_san(c, q->san))
		return false;
	if (q->key_id != NULL &&
	    memcmp(c->key_id, q->key_id, CS_SHA256_LEN) != 0)
		return false;
	if (q->serial != NULL) {
		struct cs_serial sn;

		cs_cert_serial(c, &sn);
		if (!cs_serial_equal(&sn, q->serial))
			return false;
	}
	if (q->status >= 0 && (int)cs_cert_status_at(c, q->now) != q->status)
		return false;
	if (q->source >= 0 && c->source != q->source)
		return false;
	if (q->expires_after != 0 && c->not_after < q->expires_after)
		return false;
	if (q->expires_before != 0 && c->not_after >= q->expires_before)
		return false;
	return true;
}

/* The candidate list a search walks: the smallest posting list among the
 * query's indexed fields. */
struct plan {
	const uint32_t *ids;
	size_t n;
	bool have;
};

static void
consider(struct plan *p, const uint32_t *ids, size_t n)
{
	if (!p->have || n < p->n) {
		p->ids = ids;
		p->n = n;
		p->have = true;
	}
}

static void
consider_key(struct plan *p, const struct cs_index *ix, const void *key,
    size_t klen)
{
	size_t n;
	const uint32_t *ids = cs_index_get(ix, key, klen, &n);

	consider(p, ids, n);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
cs_store_search(const struct cs_store *s, const struct cs_query *q,
    const struct cs_cert **out, size_t *n, uint32_t *next)
{
	struct plan p = {NULL, 0, false};
	size_t got = 0;
	uint32_t *owned = NULL;
	size_t limit = q->limit;
	char *low = NULL;

	if (limit == 0 || limit > CS_QUERY_MAX_LIMIT)
		limit = limit == 0 ? 1 : CS_QUERY_MAX_LIMIT;
	*n = 0;
	*next = 0;

	if (q->subject != NULL)
		consider_key(&p, s->by_subject, q->subject, strlen(q->subject));
	if (q->issuer != NULL)
		consider_key(&p, s->by_issuer, q->issuer, strlen(q->issuer));
	if (q->owner != NULL)
		consider_key(&p, s->by_owner, q->owner, strlen(q->owner));
	if (q->tag != NULL)
		consider_key(&p, s->by_tag, q->tag, strlen(q->tag));
	if (q->san != NULL) {
		size_t len = strlen(q->san);

		low = cs_malloc(len + 1);
		cs_store__lower(q->san, len, low);
		consider_key(&p, s->by_san, low, len);
	}
	if (q->key_id != NULL)
		consider_key(&p, s->by_key, q->key_id, CS_SHA256_LEN);
	if (q->serial != NULL) {
		uint8_t key[1 + CS_SERIAL_MAX];
		size_t klen;

		cs_store__serial_key(q->serial, key, &klen);
		consider_key(&p, s->by_serial, key, klen);
	}
	if (q->status == CS_STATUS_REVOKED)
		consider(&p, s->revoked.v, s->revoked.n);

	/* A time window (or "expired") with nothing more selective: take
	 * the window from the ordered index and sort it by seq. */
	if (!p.have && (q->expires_after != 0 || q->expires_before != 0 ||
			   q->status == CS_STATUS_EXPIRED)) {
		int64_t from =
		    q->expires_after != 0 ? q->expires_after : INT64_MIN;
		int64_t to =
		    q->expires_before != 0 ? q->expires_before : INT64_MAX;
		struct cs_tindex_iter it;
		size_t cap = 0, k = 0;
		int64_t t;
		uint32_t id;

		if (q->status == CS_STATUS_EXPIRED && q->now < to)
			to = q->now;
		cs_tindex_seek(s->by_not_after, &it, from, 0);
		while (cs_tindex_next(&it, &t, &id, NULL) && t < to) {
			if (id <= q->after)
				continue;
			if (k == cap) {
				cap = cap == 0 ? 256 : cap * 2;
				owned =
				    cs_reallocarray(owned, cap, sizeof *owned);
			}
			owned[k++] = id;
		}
		qsort(owned, k, sizeof *owned, cmp_u32);
		consider(&p, owned, k);
	}

	if (p.have) {
		for (size_t i = cs_ids_upper_bound(p.ids, p.n, q->after);
		     i < p.n; i++) {
			const struct cs_cert *c = s->certs[p.ids[i]];

			if (!matches(c, q))
				continue;
			if (got == limit) {
				*next = out[got - 1]->seq;
				break;
			}
			out[got++] = c;
		}
	} else {
		for (size_t seq = (size_t)q->after + 1; seq <= s->ncerts;
		     seq++) {
			const struct cs_cert *c = s->certs[seq];

			if (!matches(c, q))
				continue;
			if (got == limit) {
				*next = out[got - 1]->seq;
				break;
			}
			out[got++] = c;
		}
	}
	*n = got;
	free(owned);
	free(low);
}

void
cs_store_expiring(const struct cs_store *s, int64_t from, int64_t to,
    int64_t after_time, uint32_t after_seq, size_t limit,
    const struct cs_cert **out, size_t *n, bool *more)
{
	struct cs_tindex_iter it;
	int64_t t;
	uint32_t id, flags;
	size_t got = 0;

	*more = false;
	/* Start at the later of (from, 0) and just after the cursor. */
	if (after_seq != 0 &&
	    (after_time > from || (after_time == from && after_seq > 0))) {
		if (after_seq == UINT32_MAX)
			cs_tindex_seek(s->by_not_after, &it, after_time + 1, 0);
		else
			cs_tindex_seek(s->by_not_after, &it, after_time,
			    after_seq + 1);
	} else {
		cs_tindex_seek(s->by_not_after, &it, from, 0);
	}
	while (cs_tindex_next(&it, &t, &id, &flags) && t < to) {
		if (flags & REVOKED_FLAG)
			continue;
		if (got == limit) {
			*more = true;
			break;
		}
		out[got++] = s->certs[id];
	}
	*n = got;
}

void
cs_store_revoked(const struct cs_store *s, const char *issuer, uint32_t after,
    size_t limit, const struct cs_cert **out, size_t *n, uint32_t *next)
{
	size_t got = 0;

	*next = 0;
	for (size_t i = cs_ids_upper_bound(s->revoked.v, s->revoked.n, after);
	     i < s->revoked.n; i++) {
		const struct cs_cert *c = s->certs[s->revoked.v[i]];

		if (issuer != NULL && strcmp(cs_cert_issuer(c), issuer) != 0)
			continue;
		if (got == limit) {
			*next = out[got - 1]->seq;
			break;
		}
		out[got++] = c;
	}
	*n = got;
}

size_t
cs_store_revoked_count(const struct cs_store *s)
{
	return s->revoked.n;
}

void
cs_store_counts(const struct cs_store *s, int64_t now, size_t *valid,
    size_t *revoked, size_t *expired)
{
	struct cs_tindex_iter it;
	int64_t t;
	uint32_t id, flags;
	size_t exp = 0;

	cs_tindex_seek(s->by_not_after, &it, INT64_MIN, 0);
	while (cs_tindex_next(&it, &t, &id, &flags) && t < now) {
		if (!(flags & REVOKED_FLAG))
			exp++;
	}
	*revoked = s->revoked.n;
	*expired = exp;
	*valid = s->ncerts - s->revoked.n - exp;
}

size_t
cs_store_count_expiring(const struct cs_store *s, int64_t now, int64_t within)
{
	struct cs_tindex_iter it;
	int64_t t;
	uint32_t id, flags;
	size_t k = 0;

	cs_tindex_seek(s->by_not_after, &it, now, 0);
	while (cs_tindex_next(&it, &t, &id, &flags) && t < now + within) {
		if (!(flags & REVOKED_FLAG))
			k++;
	}
	return k;
}

void
cs_store_crl_entries(const struct cs_store *s, const char *issuer,
    uint64_t changed_after, void (*fn)(void *arg, const struct cs_cert *c),
    void *arg)
{
	const struct cs_seqset *sets[2] = {&s->revoked, &s->released};

	for (int k = 0; k < (changed_after > 0 ? 2 : 1); k++) {
		for (size_t i = 0; i < sets[k]->n; i++) {
			const struct cs_cert *c = s->certs[sets[k]->v[i]];

			if (c->updated_index <= changed_after ||
			    strcmp(cs_cert_issuer(c), issuer) != 0)
				continue;
			fn(arg, c);
		}
	}
}

uint64_t
cs_store_crl_index(const struct cs_store *s)
{
	return s->crl_index;
}

uint64_t
cs_store_revocation_index(const struct cs_store *s)
{
	return s->revocation_index;
}

uint64_t
cs_store_doc_version(const struct cs_store *s, enum cs_ns ns)
{
	return ns < CS_NS__MAX ? s->doc_version[ns] : 0;
}
