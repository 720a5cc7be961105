#include "cert/store.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cert/store_int.h"
#include "lib/error.h"
#include "lib/mem.h"

_Static_assert(sizeof(struct cs_cert) == 160, "cs_cert layout is on disk");
_Static_assert(sizeof(struct cs_key) == 80, "cs_key layout is on disk");
_Static_assert(sizeof(struct cs_doc) == 40, "cs_doc layout is on disk");

/* ---- names ---- */

static const char *const status_names[CS_STATUS__MAX] = {"valid", "revoked",
    "expired"};
static const char *const source_names[CS_SOURCE__MAX] = {"imported", "issued",
    "discovered", "acme", "est", "scep"};
static const char *const reason_names[CS_REASON__MAX] = {"unspecified",
    "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
    "cessationOfOperation", "certificateHold", NULL, "removeFromCRL",
    "privilegeWithdrawn", "aACompromise"};
static const char *const key_state_names[CS_KEY_STATE__MAX] = {"active",
    "compromised", "destroyed"};
static const char *const keyloc_names[CS_KEYLOC__MAX] = {"unknown", "device",
    "hsm", "software"};
static const char *const ns_names[CS_NS__MAX] = {NULL, "profile", "issuer",
    "crl", "member", "role", "notify", "acme", "est"};

static const char *
name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] != NULL ? names[v] : "?";
}

static int
parse_name(const char *const *names, size_t n, const char *s, unsigned *out)
{
	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], s) == 0) {
			*out = (unsigned)i;
			return 0;
		}
	}
	return CS_EINVAL;
}

#define NAMES(t) t, sizeof t / sizeof t[0]

const char *
cs_status_name(enum cs_cert_status v)
{
	return name_of(NAMES(status_names), v);
}

int
cs_status_parse(const char *s, enum cs_cert_status *out)
{
	unsigned v;
	int rc = parse_name(NAMES(status_names), s, &v);

	if (rc == 0)
		*out = (enum cs_cert_status)v;
	return rc;
}

const char *
cs_source_name(enum cs_cert_source v)
{
	return name_of(NAMES(source_names), v);
}

int
cs_source_parse(const char *s, enum cs_cert_source *out)
{
	unsigned v;
	int rc = parse_name(NAMES(source_names), s, &v);

	if (rc == 0)
		*out = (enum cs_cert_source)v;
	return rc;
}

const char *
cs_reason_name(enum cs_reason v)
{
	return name_of(NAMES(reason_names), v);
}

int
cs_reason_parse(const char *s, enum cs_reason *out)
{
	unsigned v;
	int rc = parse_name(NAMES(reason_names), s, &v);

	if (rc == 0)
		*out = (enum cs_reason)v;
	return rc;
}

const char *
cs_key_state_name(enum cs_key_state v)
{
	return name_of(NAMES(key_state_names), v);
}

int
cs_key_state_parse(const char *s, enum cs_key_state *out)
{
	unsigned v;
	int rc = parse_name(NAMES(key_state_names), s, &v);

	if (rc == 0)
		*out = (enum cs_key_state)v;
	return rc;
}

const char *
cs_keyloc_name(enum cs_key_location v)
{
	return name_of(NAMES(keyloc_names), v);
}

int
cs_keyloc_parse(const char *s, enum cs_key_location *out)
{
	unsigned v;
	int rc = parse_name(NAMES(keyloc_names), s, &v);

	if (rc == 0)
		*out = (enum cs_key_location)v;
	return rc;
}

const char *
cs_ns_name(enum cs_ns ns)
{
	return name_of(NAMES(ns_names), ns);
}

/* ---- record memory ---- */

void *
cs_store__rec_alloc(size_t size)
{
	uint32_t *rec;

	size = (size + 7) & ~(size_t)7;
	rec = cs_calloc(1, size); /* zeroed: padding bytes are canonical */
	*rec = (uint32_t)size;
	return rec;
}

/* Frees a record for good: back to malloc, or one less live record in
 * the slab it lives in. */
static void
release(struct cs_store *s, const void *rec)
{
	const uint8_t *p = rec;

	for (size_t i = 0; i < s->nslabs; i++) {
		struct cs_slab *sl = &s->slabs[i];

		if (p < sl->base || p >= sl->base + sl->len)
			continue;
		assert(sl->live > 0);
		if (--sl->live == 0) {
			if (sl->free_fn != NULL)
				sl->free_fn(sl->base);
			s->slabs[i] = s->slabs[--s->nslabs];
		}
		return;
	}
	free((void *)(uintptr_t)rec);
}

void
cs_store__retire(struct cs_store *s, const void *rec)
{
	if (rec == NULL)
		return;
	if (s->nsnaps == 0) {
		release(s, rec);
		return;
	}
	/* a snapshot may point at it: free it when the last one goes */
	if (s->ngrave == s->capgrave) {
		s->capgrave = s->capgrave == 0 ? 64 : s->capgrave * 2;
		s->grave =
		    cs_reallocarray(s->grave, s->capgrave, sizeof *s->grave);
	}
	s->grave[s->ngrave++] = rec;
}

void
cs_store__slab_add(struct cs_store *s, uint8_t *base, size_t len, size_t live)
{
	struct cs_slab *sl;

	s->slabs = cs_reallocarray(s->slabs, s->nslabs + 1, sizeof *s->slabs);
	sl = &s->slabs[s->nslabs++];
	sl->base = base;
	sl->len = len;
	sl->live = live;
	sl->free_fn = NULL;
}

void
cs_store__slab_own(struct cs_store *s, uint8_t *base, void (*free_fn)(void *))
{
	for (size_t i = 0; i < s->nslabs; i++) {
		if (s->slabs[i].base == base)
			s->slabs[i].free_fn = free_fn;
	}
}

static void
destroy(struct cs_store *s)
{
	for (size_t i = 1; i <= s->ncerts; i++)
		release(s, s->certs[i]);
	free(s->certs);
	free(s->cert_sizes);
	for (size_t i = 1; i <= s->nkeys; i++)
		release(s, s->keys[i]);
	free(s->keys);
	free(s->key_sizes);
	for (size_t i = 0; i < s->ndocs; i++)
		release(s, s->docs[i]);
	free(s->docs);
	for (size_t i = 0; i < s->ngrave; i++)
		release(s, s->grave[i]);
	free(s->grave);
	/* an owned slab went with its last record; what remains is a buffer
	 * a failed load never took */
	for (size_t i = 0; i < s->nslabs; i++)
		assert(s->slabs[i].free_fn == NULL);
	free(s->slabs);
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->audit[i]);
	free(s->audit);
	for (size_t i = 0; i < s->nactors; i++)
		free(s->actors[i]);
	free(s->actors);
	cs_index_free(s->by_fp);
	cs_index_free(s->by_serial);
	cs_index_free(s->by_key);
	cs_index_free(s->by_issuer);
	cs_index_free(s->by_subject);
	cs_index_free(s->by_san);
	cs_index_free(s->by_owner);
	cs_index_free(s->by_tag);
	cs_tindex_free(s->by_not_after);
	cs_index_free(s->key_by_id);
	cs_index_free(s->actor_by_name);
	free(s->revoked.v);
	free(s->released.v);
	free(s->dedupe);
	cs_index_free(s->dedupe_by_id);
	free(s->snap_bufs);
	free(s);
}

void
cs_store__snap_hold(struct cs_store *s)
{
	s->nsnaps++;
}

void
cs_store__snap_drop(struct cs_store *s)
{
	assert(s->nsnaps > 0);
	if (--s->nsnaps > 0)
		return;
	for (size_t i = 0; i < s->ngrave; i++)
		release(s, s->grave[i]);
	s->ngrave = 0;
	if (s->zombie)
		destroy(s);
}

void
cs_store__lower(const char *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
}

/* ---- certificate records ---- */

const char *
cs_str_next(const char *p)
{
	return p + strlen(p) + 1;
}

static const char *
cert_strings(const struct cs_cert *c)
{
	return (const char *)c + sizeof *c + c->serial_len;
}

const char *
cs_cert_issuer(const struct cs_cert *c)
{
	return cert_strings(c);
}

const char *
cs_cert_subject(const struct cs_cert *c)
{
	return cs_str_next(cs_cert_issuer(c));
}

const char *
cs_cert_profile(const struct cs_cert *c)
{
	return cs_str_next(cs_cert_subject(c));
}

const char *
cs_cert_owner(const struct cs_cert *c)
{
	return cs_str_next(cs_cert_profile(c));
}

const char *
cs_cert_curve(const struct cs_cert *c)
{
	return cs_str_next(cs_cert_owner(c));
}

static size_t
list_count(const struct cs_cert *c, enum cs_cert_list l)
{
	switch (l) {
	case CS_LIST_TAGS:
		return c->n_tags;
	case CS_LIST_DNS:
		return c->n_dns;
	case CS_LIST_IP:
		return c->n_ip;
	case CS_LIST_URI:
		return c->n_uri;
	case CS_LIST_EMAIL:
		return c->n_email;
	default:
		return 0;
	}
}

const char *
cs_cert_list(const struct cs_cert *c, enum cs_cert_list l, size_t *n)
{
	const char *p = cs_str_next(cs_cert_curve(c));

	for (int i = 0; i < (int)l; i++) {
		for (size_t k = list_count(c, (enum cs_cert_list)i); k > 0; k--)
			p = cs_str_next(p);
	}
	*n = list_count(c, l);
	return p;
}

void
cs_cert_serial(const struct cs_cert *c, struct cs_serial *out)
{
	memset(out, 0, sizeof *out);
	out->len = c->serial_len;
	out->neg = c->serial_neg != 0;
	memcpy(out->b, (const uint8_t *)c + sizeof *c, c->serial_len);
}

const uint8_t *
cs_cert_der(const struct cs_cert *c, size_t *len)
{
	*len = c->der_len;
	return (const uint8_t *)c + c->der_off;
}

enum cs_cert_status
cs_cert_status_at(const struct cs_cert *c, int64_t now)
{
	if (c->status == CS_STATUS_REVOKED)
		return CS_STATUS_REVOKED;
	return c->not_after < now ? CS_STATUS_EXPIRED : CS_STATUS_VALID;
}

void
cs_store__pack(const char *const *v, size_t n, char **scratch,
    struct cs_packed *out)
{
	size_t bytes = 0;
	char *p;

	for (size_t i = 0; i < n; i++)
		bytes += strlen(v[i]) + 1;
	p = cs_malloc(bytes + 1);
	*scratch = p;
	out->p = p;
	out->bytes = bytes;
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;

		memcpy(p, v[i], len);
		p += len;
	}
}

struct cs_cert *
cs_store__cert_build(const struct cs_cert_parts *p)
{
	const char *strs[5] = {p->issuer, p->subject, p->profile, p->owner,
	    p->curve};
	size_t lens[5];
	size_t size = sizeof(struct cs_cert) + p->hdr.serial_len;
	struct cs_cert *c;
	uint8_t *w;

	for (int i = 0; i < 5; i++) {
		lens[i] = strlen(strs[i] != NULL ? strs[i] : "") + 1;
		size += lens[i];
	}
	for (int l = 0; l < CS_LIST__MAX; l++)
		size += p->list[l].bytes;
	size += p->der_len;
	c = cs_store__rec_alloc(size);
	size = c->size; /* rounded */
	*c = p->hdr;
	c->size = (uint32_t)size;
	c->rtype = CS_REC_CERT;
	c->rver = CS_REC_VERSION;
	c->n_tags = (uint16_t)p->list[CS_LIST_TAGS].n;
	c->n_dns = (uint16_t)p->list[CS_LIST_DNS].n;
	c->n_ip = (uint16_t)p->list[CS_LIST_IP].n;
	c->n_uri = (uint16_t)p->list[CS_LIST_URI].n;
	c->n_email = (uint16_t)p->list[CS_LIST_EMAIL].n;
	memset(c->pad0, 0, sizeof c->pad0);
	memset(c->pad1, 0, sizeof c->pad1);
	w = (uint8_t *)c + sizeof *c;
	memcpy(w, p->serial, p->hdr.serial_len);
	w += p->hdr.serial_len;
	for (int i = 0; i < 5; i++) {
		memcpy(w, strs[i] != NULL ? strs[i] : "", lens[i]);
		w += lens[i];
	}
	for (int l = 0; l < CS_LIST__MAX; l++) {
		if (p->list[l].bytes > 0)
			memcpy(w, p->list[l].p, p->list[l].bytes);
		w += p->list[l].bytes;
	}
	c->der_off = (uint32_t)(w - (uint8_t *)c);
	c->der_len = (uint32_t)p->der_len;
	memcpy(w, p->der, p->der_len);
	/* the padding is zero: cs_store__rec_alloc() zeroed it */
	return c;
}

void
cs_store__cert_parts(const struct cs_cert *c, struct cs_cert_parts *p)
{
	memset(p, 0, sizeof *p);
	p->hdr = *c;
	p->serial = (const uint8_t *)c + sizeof *c;
	p->issuer = cs_cert_issuer(c);
	p->subject = cs_cert_subject(c);
	p->profile = cs_cert_profile(c);
	p->owner = cs_cert_owner(c);
	p->curve = cs_cert_curve(c);
	for (int l = 0; l < CS_LIST__MAX; l++) {
		size_t n;
		const char *first = cs_cert_list(c, (enum cs_cert_list)l, &n);
		const char *end = first;

		for (size_t i = 0; i < n; i++)
			end = cs_str_next(end);
		p->list[l].p = first;
		p->list[l].n = n;
		p->list[l].bytes = (size_t)(end - first);
	}
	p->der = cs_cert_der(c, &p->der_len);
}

/* ---- keys and documents ---- */

const char *
cs_key_curve(const struct cs_key *k)
{
	return (const char *)k + sizeof *k;
}

const char *
cs_key_actor(const struct cs_key *k)
{
	return cs_str_next(cs_key_curve(k));
}

struct cs_key *
cs_store__key_build(const struct cs_key *hdr, const char *curve,
    const char *actor)
{
	size_t lc = strlen(curve) + 1;
	size_t la = strlen(actor) + 1;
	struct cs_key *k = cs_store__rec_alloc(sizeof *k + lc + la);
	uint32_t size = k->size;
	char *w = (char *)k + sizeof *k;

	*k = *hdr;
	k->size = size;
	k->rtype = CS_REC_KEY;
	k->rver = CS_REC_VERSION;
	memset(k->pad, 0, sizeof k->pad);
	memcpy(w, curve, lc);
	memcpy(w + lc, actor, la);
	return k;
}

const char *
cs_store__doc_key(const struct cs_doc *d)
{
	return (const char *)d + sizeof *d;
}

const uint8_t *
cs_store__doc_value(const struct cs_doc *d)
{
	return (const uint8_t *)d + sizeof *d + d->klen + 1;
}

struct cs_doc *
cs_store__doc_build(enum cs_ns ns, const char *key, size_t klen,
    const uint8_t *val, size_t vlen, uint64_t created, uint64_t updated)
{
	struct cs_doc *d = cs_store__rec_alloc(sizeof *d + klen + 1 + vlen);
	uint8_t *w = (uint8_t *)d + sizeof *d;

	d->rtype = CS_REC_DOC;
	d->rver = CS_REC_VERSION;
	d->ns = (uint8_t)ns;
	d->klen = (uint32_t)klen;
	d->vlen = (uint32_t)vlen;
	d->created_index = created;
	d->updated_index = updated;
	memcpy(w, key, klen);
	w[klen] = '\0';
	if (vlen > 0)
		memcpy(w + klen + 1, val, vlen);
	return d;
}

/* Documents are ordered by (ns, key bytes, key length). */
static int
doc_cmp(const struct cs_doc *d, enum cs_ns ns, const char *key, size_t klen)
{
	size_t m = d->klen < klen ? d->klen : klen;
	int c;

	if (d->ns != ns)
		return d->ns < ns ? -1 : 1;
	c = memcmp(cs_store__doc_key(d), key, m);
	if (c != 0)
		return c;
	if (d->klen != klen)
		return d->klen < klen ? -1 : 1;
	return 0;
}

static size_t
doc_lower_bound(const struct cs_store *s, enum cs_ns ns, const char *key,
    size_t klen)
{
	size_t lo = 0, hi = s->ndocs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (doc_cmp(s->docs[mid], ns, key, klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct cs_doc *
cs_store__doc_find(const struct cs_store *s, enum cs_ns ns, const char *key,
    size_t klen)
{
	size_t i = doc_lower_bound(s, ns, key, klen);

	if (i < s->ndocs && doc_cmp(s->docs[i], ns, key, klen) == 0)
		return s->docs[i];
	return NULL;
}

void
cs_store__doc_put(struct cs_store *s, struct cs_doc *d)
{
	const char *key = cs_store__doc_key(d);
	size_t i = doc_lower_bound(s, d->ns, key, d->klen);

	if (d->ns < CS_NS__MAX)
		s->doc_version[d->ns]++;
	if (i < s->ndocs && doc_cmp(s->docs[i], d->ns, key, d->klen) == 0) {
		cs_store__retire(s, s->docs[i]);
		s->docs[i] = d;
		return;
	}
	if (s->ndocs == s->capdocs) {
		s->capdocs = s->capdocs == 0 ? 16 : s->capdocs * 2;
		s->docs = cs_reallocarray(s->docs, s->capdocs, sizeof *s->docs);
	}
	memmove(s->docs + i + 1, s->docs + i, (s->ndocs - i) * sizeof *s->docs);
	s->docs[i] = d;
	s->ndocs++;
}

int
cs_store__doc_del(struct cs_store *s, enum cs_ns ns, const char *key,
    size_t klen)
{
	size_t i = doc_lower_bound(s, ns, key, klen);

	if (i >= s->ndocs || doc_cmp(s->docs[i], ns, key, klen) != 0)
		return CS_ENOTFOUND;
	if (ns < CS_NS__MAX)
		s->doc_version[ns]++;
	cs_store__retire(s, s->docs[i]);
	memmove(s->docs + i, s->docs + i + 1,
	    (s->ndocs - i - 1) * sizeof *s->docs);
	s->ndocs--;
	return 0;
}

const uint8_t *
cs_store_doc(const struct cs_store *s, enum cs_ns ns, const char *key,
    size_t *len)
{
	const struct cs_doc *d = cs_store__doc_find(s, ns, key, strlen(key));

	if (d == NULL) {
		*len = 0;
		return NULL;
	}
	*len = d->vlen;
	return cs_store__doc_value(d);
}

const char *
cs_store_doc_next(const struct cs_store *s, enum cs_ns ns, const char *after,
    const uint8_t **val, size_t *vlen)
{
	size_t i;

	if (after == NULL) {
		i = doc_lower_bound(s, ns, "", 0);
	} else {
		size_t alen = strlen(after);

		i = doc_lower_bound(s, ns, after, alen);
		if (i < s->ndocs && doc_cmp(s->docs[i], ns, after, alen) == 0)
			i++;
	}
	if (i >= s->ndocs || s->docs[i]->ns != ns)
		return NULL;
	*val = cs_store__doc_value(s->docs[i]);
	*vlen = s->docs[i]->vlen;
	return cs_store__doc_key(s->docs[i]);
}

/* ---- store lifecycle ---- */

struct cs_store *
cs_store_new(void)
{
	struct cs_store *s = cs_calloc(1, sizeof *s);

	s->by_fp = cs_index_new();
	s->by_serial = cs_index_new();
	s->by_key = cs_index_new();
	s->by_issuer = cs_index_new();
	s->by_subject = cs_index_new();
	s->by_san = cs_index_new();
	s->by_owner = cs_index_new();
	s->by_tag = cs_index_new();
	s->by_not_after = cs_tindex_new();
	s->key_by_id = cs_index_new();
	s->actor_by_name = cs_index_new();
	s->dedupe_by_id = cs_index_new();
	return s;
}

void
cs_store_free(struct cs_store *s)
{
	if (s == NULL)
		return;
	if (s->nsnaps > 0) {
		/* snapshots still read its records: the last one frees it */
		s->zombie = true;
		return;
	}
	destroy(s);
}

uint64_t
cs_store_applied_index(const struct cs_store *s)
{
	return s->applied_index;
}

size_t
cs_store_cert_count(const struct cs_store *s)
{
	return s->ncerts;
}

size_t
cs_store_key_count(const struct cs_store *s)
{
	return s->nkeys;
}

/* ---- index maintenance ---- */

void
cs_store__serial_key(const struct cs_serial *sn, uint8_t *key, size_t *klen)
{
	key[0] = sn->neg ? 1 : 0;
	memcpy(key + 1, sn->b, sn->len);
	*klen = 1 + (size_t)sn->len;
}

/* Calls fn for every SAN of c, lower-cased. */
static void
each_san(const struct cs_cert *c, struct cs_index *ix, uint32_t seq,
    void (*fn)(struct cs_index *, const void *, size_t, uint32_t))
{
	for (int l = CS_LIST_DNS; l <= CS_LIST_EMAIL; l++) {
		size_t n;
		const char *p = cs_cert_list(c, (enum cs_cert_list)l, &n);

		for (size_t i = 0; i < n; i++, p = cs_str_next(p)) {
			size_t len = strlen(p);
			char small[256];
			char *low =
			    len < sizeof small ? small : cs_malloc(len + 1);

			cs_store__lower(p, len, low);
			fn(ix, low, len, seq);
			if (low != small)
				free(low);
		}
	}
}

static void
each_tag(const struct cs_cert *c, struct cs_index *ix, uint32_t seq,
    void (*fn)(struct cs_index *, const void *, size_t, uint32_t))
{
	size_t n;
	const char *p = cs_cert_list(c, CS_LIST_TAGS, &n);

	for (size_t i = 0; i < n; i++, p = cs_str_next(p))
		fn(ix, p, strlen(p), seq);
}

static void
seqset_add(struct cs_seqset *set, uint32_t seq)
{
	size_t pos = cs_ids_upper_bound(set->v, set->n, seq);

	if (pos > 0 && set->v[pos - 1] == seq)
		return;
	if (set->n == set->cap) {
		set->cap = set->cap == 0 ? 64 : set->cap * 2;
		set->v = cs_reallocarray(set->v, set->cap, sizeof *set->v);
	}
	memmove(set->v + pos + 1, set->v + pos,
	    (set->n - pos) * sizeof *set->v);
	set->v[pos] = seq;
	set->n++;
}

static void
seqset_remove(struct cs_seqset *set, uint32_t seq)
{
	size_t pos = cs_ids_upper_bound(set->v, set->n, seq);

	if (pos == 0 || set->v[pos - 1] != seq)
		return;
	pos--;
	memmove(set->v + pos, set->v + pos + 1,
	    (set->n - pos - 1) * sizeof *set->v);
	set->n--;
}

static bool
released(const struct cs_cert *c)
{
	return c->status == CS_STATUS_VALID &&
	       c->reason == CS_REASON_REMOVE_FROM_CRL;
}

static void
owner_index(struct cs_store *s, const struct cs_cert *c, bool add)
{
	const char *owner = cs_cert_owner(c);

	if (owner[0] == '\0')
		return;
	if (add)
		cs_index_add(s->by_owner, owner, strlen(owner), c->seq);
	else
		cs_index_remove(s->by_owner, owner, strlen(owner), c->seq);
}

static void
tags_index(struct cs_store *s, const struct cs_cert *c, bool add)
{
	each_tag(c, s->by_tag, c->seq, add ? cs_index_add : cs_index_remove);
}

static bool
same_tags(const struct cs_cert *a, const struct cs_cert *b)
{
	size_t na, nb;
	const char *pa = cs_cert_list(a, CS_LIST_TAGS, &na);
	const char *pb = cs_cert_list(b, CS_LIST_TAGS, &nb);

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (strcmp(pa, pb) != 0)
			return false;
		pa = cs_str_next(pa);
		pb = cs_str_next(pb);
	}
	return true;
}

#define REVOKED_FLAG 1u

void
cs_store__cert_insert(struct cs_store *s, struct cs_cert *c)
{
	uint32_t seq = c->seq;
	struct cs_serial sn;
	uint8_t skey[1 + CS_SERIAL_MAX];
	size_t sklen;
	const char *issuer = cs_cert_issuer(c);
	const char *subject = cs_cert_subject(c);

	assert(seq == s->ncerts + 1);
	if (s->ncerts + 2 > s->capcerts) {
		s->capcerts = s->capcerts < 64 ? 64 : s->capcerts * 2;
		s->certs =
		    cs_reallocarray(s->certs, s->capcerts, sizeof *s->certs);
		s->cert_sizes = cs_reallocarray(s->cert_sizes, s->capcerts,
		    sizeof *s->cert_sizes);
		s->certs[0] = NULL;
	}
	s->certs[seq] = c;
	s->cert_sizes[seq] = c->size;
	s->ncerts++;

	cs_index_add(s->by_fp, c->fingerprint, CS_SHA256_LEN, seq);
	cs_cert_serial(c, &sn);
	cs_store__serial_key(&sn, skey, &sklen);
	cs_index_add(s->by_serial, skey, sklen, seq);
	cs_index_add(s->by_key, c->key_id, CS_SHA256_LEN, seq);
	cs_index_add(s->by_issuer, issuer, strlen(issuer), seq);
	cs_index_add(s->by_subject, subject, strlen(subject), seq);
	each_san(c, s->by_san, seq, cs_index_add);
	/* a bulk load builds the ordered index once at the end */
	if (!s->bulk) {
		cs_tindex_add(s->by_not_after, c->not_after, seq);
		if (c->status == CS_STATUS_REVOKED)
			cs_tindex_set_flags(s->by_not_after, c->not_after, seq,
			    REVOKED_FLAG);
	}
	owner_index(s, c, true);
	tags_index(s, c, true);
	if (c->status == CS_STATUS_REVOKED)
		seqset_add(&s->revoked, seq);
	if (released(c))
		seqset_add(&s->released, seq);
	if ((c->status == CS_STATUS_REVOKED || released(c)) &&
	    c->updated_index > s->revocation_index)
		s->revocation_index = c->updated_index;
}

void
cs_store__cert_replace(struct cs_store *s, struct cs_cert *c)
{
	struct cs_cert *old = s->certs[c->seq];

	/* Only the owner, the tags and the status may differ between
	 * versions; re-index just what changed (a bulk revocation of a
	 * million certificates of one owner must not touch that owner's
	 * posting list a million times). */
	assert(c->seq >= 1 && c->seq <= s->ncerts);
	if (strcmp(cs_cert_owner(old), cs_cert_owner(c)) != 0) {
		owner_index(s, old, false);
		owner_index(s, c, true);
	}
	if (!same_tags(old, c)) {
		tags_index(s, old, false);
		tags_index(s, c, true);
	}
	if (old->status != c->status || old->reason != c->reason)
		s->revocation_index = c->updated_index;
	if (old->status != c->status) {
		bool revoked = c->status == CS_STATUS_REVOKED;

		if (revoked)
			seqset_add(&s->revoked, c->seq);
		else
			seqset_remove(&s->revoked, c->seq);
		cs_tindex_set_flags(s->by_not_after, c->not_after, c->seq,
		    revoked ? REVOKED_FLAG : 0);
	}
	if (released(old) != released(c)) {
		if (released(c))
			seqset_add(&s->released, c->seq);
		else
			seqset_remove(&s->released, c->seq);
	}
	s->certs[c->seq] = c;
	s->cert_sizes[c->seq] = c->size;
	cs_store__retire(s, old);
}

void
cs_store__bulk_begin(struct cs_store *s, size_t ncerts, size_t nkeys)
{
	s->bulk = true;
	cs_index_reserve(s->by_fp, ncerts);
	cs_index_reserve(s->by_serial, ncerts);
	cs_index_reserve(s->by_key, nkeys);
	cs_index_reserve(s->by_subject, ncerts);
	cs_index_reserve(s->by_san, ncerts * 2);
	cs_index_reserve(s->key_by_id, nkeys);
}

void
cs_store__bulk_end(struct cs_store *s)
{
	int64_t *keys = cs_reallocarray(NULL, s->ncerts + 1, sizeof *keys);
	uint32_t *ids = cs_reallocarray(NULL, s->ncerts + 1, sizeof *ids);
	uint32_t *flags = cs_reallocarray(NULL, s->ncerts + 1, sizeof *flags);

	for (size_t i = 0; i < s->ncerts; i++) {
		const struct cs_cert *c = s->certs[i + 1];

		keys[i] = c->not_after;
		ids[i] = c->seq;
		flags[i] = c->status == CS_STATUS_REVOKED ? REVOKED_FLAG : 0;
	}
	cs_tindex_build(s->by_not_after, keys, ids, flags, s->ncerts);
	free(keys);
	free(ids);
	free(flags);
	s->bulk = false;
}

void
cs_store__key_insert(struct cs_store *s, struct cs_key *k)
{
	assert(k->seq == s->nkeys + 1);
	if (s->nkeys + 2 > s->capkeys) {
		s->capkeys = s->capkeys < 64 ? 64 : s->capkeys * 2;
		s->keys = cs_reallocarray(s->keys, s->capkeys, sizeof *s->keys);
		s->key_sizes = cs_reallocarray(s->key_sizes, s->capkeys,
		    sizeof *s->key_sizes);
		s->keys[0] = NULL;
	}
	s->keys[k->seq] = k;
	s->key_sizes[k->seq] = k->size;
	s->nkeys++;
	cs_index_add(s->key_by_id, k->key_id, CS_SHA256_LEN, k->seq);
}

void
cs_store__key_replace(struct cs_store *s, struct cs_key *k)
{
	struct cs_key *old = s->keys[k->seq];

	s->keys[k->seq] = k;
	s->key_sizes[k->seq] = k->size;
	cs_store__retire(s, old);
}

/* ---- lookups ---- */

const struct cs_cert *
cs_store_cert(const struct cs_store *s, uint32_t seq)
{
	if (seq == 0 || seq > s->ncerts)
		return NULL;
	return s->certs[seq];
}

const struct cs_cert *
cs_store_get_fp(const struct cs_store *s, const uint8_t fp[CS_SHA256_LEN])
{
	size_t n;
	const uint32_t *ids = cs_index_get(s->by_fp, fp, CS_SHA256_LEN, &n);

	return n > 0 ? s->certs[ids[0]] : NULL;
}

size_t
cs_store_get_serial(const struct cs_store *s, const char *issuer,
    const struct cs_serial *serial, const struct cs_cert **out, size_t max)
{
	uint8_t key[1 + CS_SERIAL_MAX];
	size_t klen, n, found = 0;
	const uint32_t *ids;

	cs_store__serial_key(serial, key, &klen);
	ids = cs_index_get(s->by_serial, key, klen, &n);
	for (size_t i = 0; i < n; i++) {
		const struct cs_cert *c = s->certs[ids[i]];

		if (issuer != NULL && strcmp(cs_cert_issuer(c), issuer) != 0)
			continue;
		if (found < max)
			out[found] = c;
		found++;
	}
	return found;
}

const struct cs_key *
cs_store_get_key(const struct cs_store *s, const uint8_t key_id[CS_SHA256_LEN])
{
	size_t n;
	const uint32_t *ids =
	    cs_index_get(s->key_by_id, key_id, CS_SHA256_LEN, &n);

	return n > 0 ? s->keys[ids[0]] : NULL;
}
