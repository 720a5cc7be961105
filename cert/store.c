#include "cert/store.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cert/store_int.h"
#include "lib/error.h"
#include "lib/mem.h"

_Static_assert(sizeof(struct cs_cert) == 160, "cs_cert layout is on disk");
_Static_assert(sizeof(struct cs_key) == 80, "cs_key layout is on disk");
_Static_assert(sizeof(struct cs_doc) == 40, "cs_doc layout is on disk");

/* ---- names ---- */

static const char *const status_names[CS_STATUS__MAX] = {
    "valid", "revoked", "expired"};
static const char *const source_names[CS_SOURCE__MAX] = {
    "imported", "issued", "discovered", "acme", "est", "scep"};
static const char *const reason_names[CS_REASON__MAX] = {
    "unspecified",    "keyCompromise", "cACompromise",
    "affiliationChanged", "superseded", "cessationOfOperation",
    "certificateHold", NULL,           "removeFromCRL",
    "privilegeWithdrawn", "aACompromise"};
static const char *const key_state_names[CS_KEY_STATE__MAX] = {
    "active", "compromised", "destroyed"};
static const char *const keyloc_names[CS_KEYLOC__MAX] = {
    "unknown", "device", "hsm", "software"};
static const char *const ns_names[CS_NS__MAX] = {
    NULL, "profile", "issuer", "crl", "member", "role", "notify", "acme",
    "est"};

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

/* ---- records and references ---- */

#define REC_PREFIX sizeof(uint64_t) /* the reference count, kept out of
                                       the record bytes */

static uint64_t *
refs_of(const void *rec)
{
	return (uint64_t *)(uintptr_t)rec - 1; /* REC_PREFIX bytes before */
}

void *
cs_store__raw_alloc(size_t size)
{
	uint64_t *refs = cs_calloc(1, REC_PREFIX + size);

	*refs = 1;
	return refs + 1; /* REC_PREFIX bytes later */
}

void *
cs_store__rec_alloc(size_t size)
{
	uint32_t *rec;

	size = (size + 7) & ~(size_t)7;
	rec = cs_store__raw_alloc(size);
	*rec = (uint32_t)size;
	return rec;
}

void
cs_store__rec_ref(const void *rec)
{
	(*refs_of(rec))++;
}

void
cs_store__rec_unref(const void *rec)
{
	uint64_t *refs;

	if (rec == NULL)
		return;
	refs = refs_of(rec);
	assert(*refs > 0);
	if (--*refs == 0)
		free(refs);
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
		for (size_t k = list_count(c, (enum cs_cert_list)i); k > 0;
		     k--)
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

	if (i < s->ndocs && doc_cmp(s->docs[i], d->ns, key, d->klen) == 0) {
		cs_store__rec_unref(s->docs[i]);
		s->docs[i] = d;
		return;
	}
	if (s->ndocs == s->capdocs) {
		s->capdocs = s->capdocs == 0 ? 16 : s->capdocs * 2;
		s->docs = cs_reallocarray(s->docs, s->capdocs, sizeof *s->docs);
	}
	memmove(s->docs + i + 1, s->docs + i,
	    (s->ndocs - i) * sizeof *s->docs);
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
	cs_store__rec_unref(s->docs[i]);
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
	for (size_t i = 1; i <= s->ncerts; i++)
		cs_store__rec_unref(s->certs[i]);
	free(s->certs);
	for (size_t i = 1; i <= s->nkeys; i++)
		cs_store__rec_unref(s->keys[i]);
	free(s->keys);
	for (size_t i = 0; i < s->ndocs; i++)
		cs_store__rec_unref(s->docs[i]);
	free(s->docs);
	for (size_t i = 0; i < s->nchunks; i++)
		cs_store__rec_unref(s->audit[i]);
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
	free(s->revoked);
	free(s->dedupe);
	cs_index_free(s->dedupe_by_id);
	free(s);
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

static void
serial_key(const struct cs_serial *sn, uint8_t *key, size_t *klen)
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
			char *low = len < sizeof small ? small
						       : cs_malloc(len + 1);

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
revoked_add(struct cs_store *s, uint32_t seq)
{
	size_t pos = cs_ids_upper_bound(s->revoked, s->nrevoked, seq);

	if (pos > 0 && s->revoked[pos - 1] == seq)
		return;
	if (s->nrevoked == s->caprevoked) {
		s->caprevoked = s->caprevoked == 0 ? 64 : s->caprevoked * 2;
		s->revoked = cs_reallocarray(s->revoked, s->caprevoked,
		    sizeof *s->revoked);
	}
	memmove(s->revoked + pos + 1, s->revoked + pos,
	    (s->nrevoked - pos) * sizeof *s->revoked);
	s->revoked[pos] = seq;
	s->nrevoked++;
}

static void
revoked_remove(struct cs_store *s, uint32_t seq)
{
	size_t pos = cs_ids_upper_bound(s->revoked, s->nrevoked, seq);

	if (pos == 0 || s->revoked[pos - 1] != seq)
		return;
	pos--;
	memmove(s->revoked + pos, s->revoked + pos + 1,
	    (s->nrevoked - pos - 1) * sizeof *s->revoked);
	s->nrevoked--;
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
		s->certs = cs_reallocarray(s->certs, s->capcerts,
		    sizeof *s->certs);
		s->certs[0] = NULL;
	}
	s->certs[seq] = c;
	s->ncerts++;

	cs_index_add(s->by_fp, c->fingerprint, CS_SHA256_LEN, seq);
	cs_cert_serial(c, &sn);
	serial_key(&sn, skey, &sklen);
	cs_index_add(s->by_serial, skey, sklen, seq);
	cs_index_add(s->by_key, c->key_id, CS_SHA256_LEN, seq);
	cs_index_add(s->by_issuer, issuer, strlen(issuer), seq);
	cs_index_add(s->by_subject, subject, strlen(subject), seq);
	each_san(c, s->by_san, seq, cs_index_add);
	cs_tindex_add(s->by_not_after, c->not_after, seq);
	owner_index(s, c, true);
	tags_index(s, c, true);
	if (c->status == CS_STATUS_REVOKED)
		revoked_add(s, seq);
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
	if (old->status != c->status) {
		if (c->status == CS_STATUS_REVOKED)
			revoked_add(s, c->seq);
		else
			revoked_remove(s, c->seq);
	}
	s->certs[c->seq] = c;
	cs_store__rec_unref(old);
}

void
cs_store__key_insert(struct cs_store *s, struct cs_key *k)
{
	assert(k->seq == s->nkeys + 1);
	if (s->nkeys + 2 > s->capkeys) {
		s->capkeys = s->capkeys < 64 ? 64 : s->capkeys * 2;
		s->keys = cs_reallocarray(s->keys, s->capkeys, sizeof *s->keys);
		s->keys[0] = NULL;
	}
	s->keys[k->seq] = k;
	s->nkeys++;
	cs_index_add(s->key_by_id, k->key_id, CS_SHA256_LEN, k->seq);
}

void
cs_store__key_replace(struct cs_store *s, struct cs_key *k)
{
	struct cs_key *old = s->keys[k->seq];

	s->keys[k->seq] = k;
	cs_store__rec_unref(old);
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

	serial_key(serial, key, &klen);
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

/* ---- search ---- */

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

		serial_key(q->serial, key, &klen);
		consider_key(&p, s->by_serial, key, klen);
	}
	if (q->status == CS_STATUS_REVOKED)
		consider(&p, s->revoked, s->nrevoked);

	/* A time window (or "expired") with nothing more selective: take
	 * the window from the ordered index and sort it by seq. */
	if (!p.have && (q->expires_after != 0 || q->expires_before != 0 ||
			   q->status == CS_STATUS_EXPIRED)) {
		int64_t from = q->expires_after != 0 ? q->expires_after
						     : INT64_MIN;
		int64_t to = q->expires_before != 0 ? q->expires_before
						    : INT64_MAX;
		struct cs_tindex_iter it;
		size_t cap = 0, k = 0;
		int64_t t;
		uint32_t id;

		if (q->status == CS_STATUS_EXPIRED && q->now < to)
			to = q->now;
		cs_tindex_seek(s->by_not_after, &it, from, 0);
		while (cs_tindex_next(&it, &t, &id) && t < to) {
			if (id <= q->after)
				continue;
			if (k == cap) {
				cap = cap == 0 ? 256 : cap * 2;
				owned = cs_reallocarray(owned, cap,
				    sizeof *owned);
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
	uint32_t id;
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
	while (cs_tindex_next(&it, &t, &id) && t < to) {
		const struct cs_cert *c = s->certs[id];

		if (c->status == CS_STATUS_REVOKED)
			continue;
		if (got == limit) {
			*more = true;
			break;
		}
		out[got++] = c;
	}
	*n = got;
}

void
cs_store_revoked(const struct cs_store *s, const char *issuer, uint32_t after,
    size_t limit, const struct cs_cert **out, size_t *n, uint32_t *next)
{
	size_t got = 0;

	*next = 0;
	for (size_t i = cs_ids_upper_bound(s->revoked, s->nrevoked, after);
	     i < s->nrevoked; i++) {
		const struct cs_cert *c = s->certs[s->revoked[i]];

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
	return s->nrevoked;
}

void
cs_store_counts(const struct cs_store *s, int64_t now, size_t *valid,
    size_t *revoked, size_t *expired)
{
	struct cs_tindex_iter it;
	int64_t t;
	uint32_t id;
	size_t exp = 0;

	cs_tindex_seek(s->by_not_after, &it, INT64_MIN, 0);
	while (cs_tindex_next(&it, &t, &id) && t < now) {
		if (s->certs[id]->status != CS_STATUS_REVOKED)
			exp++;
	}
	*revoked = s->nrevoked;
	*expired = exp;
	*valid = s->ncerts - s->nrevoked - exp;
}

size_t
cs_store_count_expiring(const struct cs_store *s, int64_t now, int64_t within)
{
	struct cs_tindex_iter it;
	int64_t t;
	uint32_t id;
	size_t k = 0;

	cs_tindex_seek(s->by_not_after, &it, now, 0);
	while (cs_tindex_next(&it, &t, &id) && t < now + within) {
		if (s->certs[id]->status != CS_STATUS_REVOKED)
			k++;
	}
	return k;
}
