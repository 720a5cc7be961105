#include "cert/audit.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "cert/store_int.h"
#include "lib/error.h"
#include "lib/mem.h"

_Static_assert(sizeof(struct cs_audit) == 88, "cs_audit layout is on disk");

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
cs_audit__hash(const uint8_t prev[CS_SHA256_LEN], const struct cs_audit *a,
    const char *actor, uint8_t out[CS_SHA256_LEN])
{
	uint8_t fixed[8 + 8];
	uint8_t tail[2 + 2];
	uint8_t zero = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = CS_SHA256_LEN;

	if (ctx == NULL)
		abort(); /* out of memory: the OOM policy of lib/mem.h */
	put_be(fixed, a->index, 8);
	put_be(fixed + 8, (uint64_t)a->time, 8);
	put_be(tail, a->type, 2);
	put_be(tail + 2, (uint16_t)a->rc, 2);
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev, CS_SHA256_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, fixed, sizeof fixed) != 1 ||
	    EVP_DigestUpdate(ctx, actor, strlen(actor)) != 1 ||
	    EVP_DigestUpdate(ctx, &zero, 1) != 1 ||
	    EVP_DigestUpdate(ctx, tail, sizeof tail) != 1 ||
	    EVP_DigestUpdate(ctx, a->digest, CS_SHA256_LEN) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1)
		abort(); /* SHA-256 cannot fail but for OOM */
	EVP_MD_CTX_free(ctx);
}

uint32_t
cs_audit__actor(struct cs_store *s, const char *name, size_t len)
{
	size_t n;
	const uint32_t *ids = cs_index_get(s->actor_by_name, name, len, &n);

	if (n > 0)
		return ids[0] - 1;
	if (s->nactors == s->capactors) {
		s->capactors = s->capactors == 0 ? 16 : s->capactors * 2;
		s->actors =
		    cs_reallocarray(s->actors, s->capactors, sizeof *s->actors);
	}
	s->actors[s->nactors] = cs_strndup(name, len);
	s->nactors++;
	cs_index_add(s->actor_by_name, name, len, (uint32_t)s->nactors);
	return (uint32_t)(s->nactors - 1);
}

void
cs_audit__append(struct cs_store *s, uint64_t index, int64_t time,
    uint32_t actor, uint16_t type, int16_t rc,
    const uint8_t digest[CS_SHA256_LEN])
{
	size_t chunk = s->naudit / CS_AUDIT_CHUNK;
	struct cs_audit *a;

	if (chunk == s->nchunks) {
		s->audit =
		    cs_reallocarray(s->audit, s->nchunks + 1, sizeof *s->audit);
		s->audit[s->nchunks++] =
		    cs_calloc(CS_AUDIT_CHUNK, sizeof(struct cs_audit));
	}
	a = &s->audit[chunk][s->naudit % CS_AUDIT_CHUNK];
	a->index = index;
	a->time = time;
	a->actor = actor;
	a->type = type;
	a->rc = rc;
	memcpy(a->digest, digest, CS_SHA256_LEN);
	cs_audit__hash(s->audit_head, a, cs_audit_actor(s, actor), a->hash);
	memcpy(s->audit_head, a->hash, CS_SHA256_LEN);
	s->naudit++;
}

/* Position i < naudit, unchecked. */
static const struct cs_audit *
entry_at(const struct cs_store *s, size_t i)
{
	return &s->audit[i / CS_AUDIT_CHUNK][i % CS_AUDIT_CHUNK];
}

size_t
cs_audit_count(const struct cs_store *s)
{
	return s->naudit;
}

const struct cs_audit *
cs_audit_get(const struct cs_store *s, size_t i)
{
	if (i >= s->naudit)
		return NULL;
	return entry_at(s, i);
}

size_t
cs_audit_find(const struct cs_store *s, uint64_t from)
{
	size_t lo = 0, hi = s->naudit;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entry_at(s, mid)->index < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *
cs_audit_actor(const struct cs_store *s, uint32_t actor)
{
	return actor < s->nactors ? s->actors[actor] : "";
}

const uint8_t *
cs_audit_head(const struct cs_store *s)
{
	return s->audit_head;
}

struct cs_audit_view {
	const struct cs_audit **chunks;
	size_t n;
	char **actors;
	size_t nactors;
	uint8_t head[CS_SHA256_LEN];
};

struct cs_audit_view *
cs_audit_view_new(const struct cs_store *s)
{
	struct cs_audit_view *v = cs_calloc(1, sizeof *v);

	/* + 1: an empty store has no arrays yet */
	v->chunks = cs_calloc(s->nchunks + 1, sizeof *v->chunks);
	if (s->nchunks > 0)
		memcpy(v->chunks, s->audit, s->nchunks * sizeof *v->chunks);
	v->n = s->naudit;
	v->actors = cs_calloc(s->nactors + 1, sizeof *v->actors);
	if (s->nactors > 0)
		memcpy(v->actors, s->actors, s->nactors * sizeof *v->actors);
	v->nactors = s->nactors;
	memcpy(v->head, s->audit_head, CS_SHA256_LEN);
	return v;
}

void
cs_audit_view_free(struct cs_audit_view *v)
{
	if (v == NULL)
		return;
	free(v->chunks);
	free(v->actors);
	free(v);
}

size_t
cs_audit_view_count(const struct cs_audit_view *v)
{
	return v->n;
}

const uint8_t *
cs_audit_view_head(const struct cs_audit_view *v)
{
	return v->head;
}

int
cs_audit_view_verify(const struct cs_audit_view *v, size_t *bad)
{
	uint8_t prev[CS_SHA256_LEN] = {0};
	uint8_t h[CS_SHA256_LEN];

	for (size_t i = 0; i < v->n; i++) {
		const struct cs_audit *a =
		    &v->chunks[i / CS_AUDIT_CHUNK][i % CS_AUDIT_CHUNK];
		const struct cs_audit *p =
		    i > 0 ? &v->chunks[(i - 1) / CS_AUDIT_CHUNK]
				      [(i - 1) % CS_AUDIT_CHUNK]
			  : NULL;

		if (a->actor >= v->nactors) {
			*bad = i;
			return CS_EPROTO;
		}
		cs_audit__hash(prev, a, v->actors[a->actor], h);
		if (memcmp(h, a->hash, CS_SHA256_LEN) != 0 ||
		    (p != NULL && a->index <= p->index)) {
			*bad = i;
			return CS_EPROTO;
		}
		memcpy(prev, h, CS_SHA256_LEN);
	}
	if (memcmp(prev, v->head, CS_SHA256_LEN) != 0) {
		*bad = v->n;
		return CS_EPROTO;
	}
	return 0;
}

int
cs_audit_verify(const struct cs_store *s, size_t *bad)
{
	struct cs_audit_view *v = cs_audit_view_new(s);
	int rc = cs_audit_view_verify(v, bad);

	cs_audit_view_free(v);
	return rc;
}
