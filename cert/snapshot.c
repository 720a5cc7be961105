#include "cert/snapshot.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "cert/store_int.h"
#include "lib/error.h"
#include "lib/mem.h"

#define MAGIC       "CSSNAP\0\0"
#define HEADER_SIZE 64

struct header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t applied_index;
	uint64_t ncerts;
	uint64_t nkeys;
	uint64_t ndocs;
	uint64_t naudit;
	uint32_t meta_len;
	uint32_t zero;
};
_Static_assert(sizeof(struct header) == HEADER_SIZE, "snapshot header");

struct cs_snapshot {
	struct header hdr;
	struct cs_buf meta; /* meta msgpack + padding */
	struct cs_bytes *bufs;
	size_t nbufs;
	size_t cap; /* allocated entries of bufs */
	size_t size;
	struct cs_store *store; /* holds its records (cs_store__snap_hold) */
};

/* ---- take ---- */

static void
encode_meta(const struct cs_store *s, struct cs_buf *out)
{
	static const uint8_t zeros[8] = {0};
	struct cs_mp_out w;
	size_t first;
	int rc;

	cs_mp_out_init(&w, out);
	cs_mp_array(&w, 3);
	cs_mp_array(&w, s->nactors);
	for (size_t i = 0; i < s->nactors; i++)
		cs_mp_cstr(&w, s->actors[i]);
	/* the ring, oldest first */
	cs_mp_array(&w, s->ndedupe);
	first = s->ndedupe < CS_DEDUPE_MAX ? 0 : s->dedupe_next;
	for (size_t k = 0; k < s->ndedupe; k++) {
		const struct cs_dedupe_entry *e =
		    &s->dedupe[(first + k) % CS_DEDUPE_MAX];

		cs_mp_array(&w, 6);
		cs_mp_bin(&w, e->id, CS_REQUEST_ID_LEN);
		cs_mp_int(&w, e->res.rc);
		cs_mp_uint(&w, e->res.count);
		cs_mp_uint(&w, e->res.count2);
		cs_mp_uint(&w, e->res.index);
		cs_mp_bin(&w, e->res.fingerprint, CS_SHA256_LEN);
	}
	cs_mp_bin(&w, s->audit_head, CS_SHA256_LEN);
	rc = cs_buf_append(out, zeros, (8 - out->len % 8) % 8);
	/* The buffer is uncapped (SIZE_MAX): the packer cannot fail. */
	if (w.err != 0 || rc != 0)
		abort();
}

static void
add_buf(struct cs_snapshot *snap, const void *p, size_t len)
{
	snap->bufs[snap->nbufs].p = p;
	snap->bufs[snap->nbufs].len = len;
	snap->nbufs++;
	snap->size += len;
}

struct cs_snapshot *
cs_snapshot_take(const struct cs_store *cs)
{
	/* the store is not changed, only told to keep retired records */
	struct cs_store *s = (struct cs_store *)(uintptr_t)cs;
	struct cs_snapshot *snap = cs_calloc(1, sizeof *snap);
	size_t nrec = s->ncerts + s->nkeys + s->ndocs + s->nchunks;
	struct cs_bytes *b;

	memcpy(snap->hdr.magic, MAGIC, 8);
	snap->hdr.version = CS_SNAPSHOT_VERSION;
	snap->hdr.header_size = HEADER_SIZE;
	snap->hdr.applied_index = s->applied_index;
	snap->hdr.ncerts = s->ncerts;
	snap->hdr.nkeys = s->nkeys;
	snap->hdr.ndocs = s->ndocs;
	snap->hdr.naudit = s->naudit;
	cs_buf_init(&snap->meta, SIZE_MAX);
	encode_meta(s, &snap->meta);
	snap->hdr.meta_len = (uint32_t)snap->meta.len;

	/* The array is the store's, reused from one snapshot to the next:
	 * fresh memory is expensive to touch (page faults; 32 MiB at a
	 * million certificates), memory used before is not. */
	if (s->snap_bufs != NULL && s->cap_snap_bufs >= 2 + nrec) {
		snap->bufs = s->snap_bufs;
		snap->cap = s->cap_snap_bufs;
		s->snap_bufs = NULL;
		s->cap_snap_bufs = 0;
	} else {
		snap->bufs =
		    cs_reallocarray(NULL, 2 + nrec, sizeof *snap->bufs);
		snap->cap = 2 + nrec;
	}
	add_buf(snap, &snap->hdr, sizeof snap->hdr);
	add_buf(snap, snap->meta.data, snap->meta.len);
	/* Sequential reads of two arrays per table; the records themselves
	 * are not touched (millions of cache misses on the loop). */
	b = snap->bufs + snap->nbufs;
	for (size_t i = 1; i <= s->ncerts; i++, b++) {
		b->p = (const uint8_t *)s->certs[i];
		b->len = s->cert_sizes[i];
		snap->size += b->len;
	}
	for (size_t i = 1; i <= s->nkeys; i++, b++) {
		b->p = (const uint8_t *)s->keys[i];
		b->len = s->key_sizes[i];
		snap->size += b->len;
	}
	snap->nbufs = (size_t)(b - snap->bufs);
	for (size_t i = 0; i < s->ndocs; i++)
		add_buf(snap, s->docs[i], s->docs[i]->size);
	/* Audit chunks are appended to, never rewritten: the first naudit
	 * entries are stable. */
	for (size_t i = 0; i < s->nchunks; i++) {
		size_t k = s->naudit - i * CS_AUDIT_CHUNK;

		if (k > CS_AUDIT_CHUNK)
			k = CS_AUDIT_CHUNK;
		add_buf(snap, s->audit[i], k * sizeof(struct cs_audit));
	}
	snap->store = s;
	cs_store__snap_hold(s);
	return snap;
}

const struct cs_bytes *
cs_snapshot_bufs(const struct cs_snapshot *snap, size_t *n)
{
	*n = snap->nbufs;
	return snap->bufs;
}

size_t
cs_snapshot_size(const struct cs_snapshot *snap)
{
	return snap->size;
}

uint64_t
cs_snapshot_index(const struct cs_snapshot *snap)
{
	return snap->hdr.applied_index;
}

void
cs_snapshot_release(struct cs_snapshot *snap)
{
	if (snap == NULL)
		return;
	/* give the array back for the next snapshot to reuse */
	if (!snap->store->zombie && snap->cap > snap->store->cap_snap_bufs) {
		free(snap->store->snap_bufs);
		snap->store->snap_bufs = snap->bufs;
		snap->store->cap_snap_bufs = snap->cap;
		snap->bufs = NULL;
	}
	free(snap->bufs);
	cs_store__snap_drop(snap->store); /* may free a zombie store */
	cs_buf_close(&snap->meta);
	free(snap);
}

void
cs_snapshot_hash(const struct cs_snapshot *snap, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 32;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort(); /* out of memory */
	for (size_t i = 0; i < snap->nbufs; i++) {
		if (EVP_DigestUpdate(ctx, snap->bufs[i].p, snap->bufs[i].len) !=
		    1)
			abort();
	}
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
}

void
cs_store_hash(const struct cs_store *s, uint8_t out[32])
{
	struct cs_snapshot *snap = cs_snapshot_take(s);

	cs_snapshot_hash(snap, out);
	cs_snapshot_release(snap);
}

int
cs_store_encode(const struct cs_store *s, struct cs_buf *out)
{
	struct cs_snapshot *snap = cs_snapshot_take(s);
	int rc = cs_buf_reserve(out, snap->size);

	for (size_t i = 0; rc == 0 && i < snap->nbufs; i++)
		rc = cs_buf_append(out, snap->bufs[i].p, snap->bufs[i].len);
	cs_snapshot_release(snap);
	return rc;
}

/* ---- decode ---- */

struct reader {
	const uint8_t *p;
	size_t left;
	char *errmsg;
};

static int
bad(struct reader *r, const char *what, size_t i)
{
	cs_errmsg_printf(r->errmsg, "snapshot: %s (record %zu)", what, i);
	return CS_EPROTO;
}

/* Takes the next record in place: checks its size field and returns a
 * pointer to it in *out. */
static int
take_record(struct reader *r, uint16_t type, size_t min, size_t i, void **out)
{
	uint32_t size;
	uint16_t rtype, rver;

	if (r->left < 8)
		return bad(r, "truncated", i);
	memcpy(&size, r->p, 4);
	memcpy(&rtype, r->p + 4, 2);
	memcpy(&rver, r->p + 6, 2);
	if (rtype != type || rver != CS_REC_VERSION)
		return bad(r, "unexpected record type or version", i);
	if (size < min || size % 8 != 0 || size > r->left)
		return bad(r, "bad record size", i);
	*out = (void *)(uintptr_t)r->p;
	r->p += size;
	r->left -= size;
	return 0;
}

/* Walks n NUL-terminated strings starting at *pos, all below end. */
static bool
walk_strings(const uint8_t *rec, size_t *pos, size_t end, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const void *nul;

		if (*pos >= end)
			return false;
		nul = memchr(rec + *pos, '\0', end - *pos);
		if (nul == NULL)
			return false;
		*pos = (size_t)((const uint8_t *)nul - rec) + 1;
	}
	return true;
}

static bool
zero_tail(const uint8_t *rec, size_t from, size_t size)
{
	for (size_t i = from; i < size; i++) {
		if (rec[i] != 0)
			return false;
	}
	return size - from < 8;
}

static bool
cert_ok(const struct cs_cert *c, uint32_t seq)
{
	const uint8_t *rec = (const uint8_t *)c;
	size_t pos = sizeof *c + c->serial_len;
	size_t nstr =
	    5 + (size_t)c->n_tags + c->n_dns + c->n_ip + c->n_uri + c->n_email;

	if (c->seq != seq || c->serial_len > CS_SERIAL_MAX ||
	    c->status > CS_STATUS_REVOKED || c->reason >= CS_REASON__MAX ||
	    c->source >= CS_SOURCE__MAX || c->key_type >= CS_KEY__MAX ||
	    c->ca > 1 || c->serial_neg > 1)
		return false;
	if (pos > c->size || c->der_off > c->size ||
	    c->der_len > c->size - c->der_off || c->der_len == 0)
		return false;
	if (!walk_strings(rec, &pos, c->der_off, nstr) || pos != c->der_off)
		return false;
	for (size_t i = 0; i < sizeof c->pad0; i++) {
		if (c->pad0[i] != 0)
			return false;
	}
	for (size_t i = 0; i < sizeof c->pad1 / sizeof c->pad1[0]; i++) {
		if (c->pad1[i] != 0)
			return false;
	}
	return zero_tail(rec, (size_t)c->der_off + c->der_len, c->size);
}

static bool
key_ok(const struct cs_key *k, uint32_t seq)
{
	size_t pos = sizeof *k;

	if (k->seq != seq || k->state >= CS_KEY_STATE__MAX ||
	    k->location >= CS_KEYLOC__MAX || k->key_type >= CS_KEY__MAX)
		return false;
	for (size_t i = 0; i < sizeof k->pad; i++) {
		if (k->pad[i] != 0)
			return false;
	}
	if (!walk_strings((const uint8_t *)k, &pos, k->size, 2))
		return false;
	return zero_tail((const uint8_t *)k, pos, k->size);
}

static bool
doc_ok(const struct cs_doc *d)
{
	const uint8_t *rec = (const uint8_t *)d;
	size_t end = sizeof *d + (size_t)d->klen + 1 + d->vlen;

	if (d->ns == 0 || d->ns >= CS_NS__MAX || d->klen == 0 ||
	    (size_t)d->klen + 1 + d->vlen > d->size - sizeof *d)
		return false;
	if (rec[sizeof *d + d->klen] != '\0' ||
	    memchr(rec + sizeof *d, '\0', d->klen) != NULL)
		return false;
	if (d->pad[0] != 0 || d->pad[1] != 0 || d->pad[2] != 0 || d->pad2 != 0)
		return false;
	return zero_tail(rec, end, d->size);
}

static int
decode_meta(struct cs_store *s, const uint8_t *p, size_t len, char *errmsg)
{
	struct cs_mp_in r;
	struct cs_bytes b, head;
	size_t n, nactors, ndedupe;

	cs_mp_in_init(&r, p, len, errmsg);
	cs_mp_read_array(&r, 3, &n);
	if (r.err == 0 && n != 3)
		cs_mp_fail(&r, "meta: expected 3 fields");
	cs_mp_read_array(&r, UINT32_MAX, &nactors);
	for (size_t i = 0; i < nactors && r.err == 0; i++) {
		cs_mp_read_str(&r, CS_CMD_MAX_STR, &b);
		if (r.err == 0 &&
		    cs_audit__actor(s, (const char *)b.p, b.len) != i)
			cs_mp_fail(&r, "meta: duplicate actor");
	}
	cs_mp_read_array(&r, CS_DEDUPE_MAX, &ndedupe);
	for (size_t i = 0; i < ndedupe && r.err == 0; i++) {
		struct cs_result res;
		struct cs_bytes id, fp;
		int64_t rc;
		uint64_t c1, c2;

		memset(&res, 0, sizeof res);
		cs_mp_read_array(&r, 6, &n);
		if (r.err == 0 && n != 6)
			cs_mp_fail(&r, "meta: bad request entry");
		cs_mp_read_bin(&r, CS_REQUEST_ID_LEN, CS_REQUEST_ID_LEN, &id);
		cs_mp_read_int(&r, &rc);
		cs_mp_read_uint(&r, UINT32_MAX, &c1);
		cs_mp_read_uint(&r, UINT32_MAX, &c2);
		cs_mp_read_uint(&r, UINT64_MAX, &res.index);
		cs_mp_read_bin(&r, CS_SHA256_LEN, CS_SHA256_LEN, &fp);
		if (r.err != 0)
			break;
		if (rc > 0 || rc < CS_E__MIN || cs_cmd_seen(s, id.p) != NULL) {
			cs_mp_fail(&r, "meta: bad request entry");
			break;
		}
		res.rc = (int32_t)rc;
		res.count = (uint32_t)c1;
		res.count2 = (uint32_t)c2;
		memcpy(res.fingerprint, fp.p, CS_SHA256_LEN);
		cs_store__dedupe_put(s, id.p, &res);
	}
	cs_mp_read_bin(&r, CS_SHA256_LEN, CS_SHA256_LEN, &head);
	if (r.err == 0)
		memcpy(s->audit_head, head.p, CS_SHA256_LEN);
	if (r.err == 0) {
		/* only zero padding may follow */
		while (r.p < r.end && *r.p == 0)
			r.p++;
		if (r.p != r.end || len % 8 != 0)
			cs_mp_fail(&r, "meta: trailing bytes");
	}
	return r.err == 0 ? 0 : CS_EPROTO;
}

static int
decode_records(struct cs_store *s, const struct header *h, struct reader *r)
{
	int rc;

	for (uint64_t i = 0; i < h->ncerts; i++) {
		struct cs_cert *c = NULL;

		rc = take_record(r, CS_REC_CERT, sizeof *c, i, (void **)&c);
		if (rc < 0)
			return rc;
		if (!cert_ok(c, (uint32_t)(i + 1)) ||
		    cs_store_get_fp(s, c->fingerprint) != NULL)
			return bad(r, "bad certificate record", i);
		s->slabs[0].live++;
		cs_store__cert_insert(s, c);
	}
	for (uint64_t i = 0; i < h->nkeys; i++) {
		struct cs_key *k = NULL;

		rc = take_record(r, CS_REC_KEY, sizeof *k, i, (void **)&k);
		if (rc < 0)
			return rc;
		if (!key_ok(k, (uint32_t)(i + 1)) ||
		    cs_store_get_key(s, k->key_id) != NULL)
			return bad(r, "bad key record", i);
		s->slabs[0].live++;
		cs_store__key_insert(s, k);
	}
	for (uint64_t i = 0; i < h->ndocs; i++) {
		struct cs_doc *d = NULL;
		const struct cs_doc *prev =
		    s->ndocs > 0 ? s->docs[s->ndocs - 1] : NULL;

		rc = take_record(r, CS_REC_DOC, sizeof *d, i, (void **)&d);
		if (rc < 0)
			return rc;
		/* strictly ascending: documents are unique and sorted */
		if (!doc_ok(d) ||
		    (prev != NULL && !(prev->ns < d->ns ||
					 (prev->ns == d->ns &&
					     strcmp(cs_store__doc_key(prev),
						 cs_store__doc_key(d)) < 0))))
			return bad(r, "bad document record", i);
		s->slabs[0].live++;
		cs_store__doc_put(s, d);
	}
	return 0;
}

static int
decode_audit(struct cs_store *s, const struct header *h, struct reader *r)
{
	size_t bad_at;

	if (h->naudit > r->left / sizeof(struct cs_audit) ||
	    r->left != h->naudit * sizeof(struct cs_audit))
		return bad(r, "audit entries do not fill the rest", 0);
	for (uint64_t i = 0; i < h->naudit; i++) {
		struct cs_audit a;
		size_t chunk = s->naudit / CS_AUDIT_CHUNK;

		memcpy(&a, r->p, sizeof a);
		r->p += sizeof a;
		if (a.actor >= s->nactors)
			return bad(r, "audit entry names an unknown actor", i);
		if (chunk == s->nchunks) {
			s->audit = cs_reallocarray(s->audit, s->nchunks + 1,
			    sizeof *s->audit);
			s->audit[s->nchunks++] =
			    cs_calloc(CS_AUDIT_CHUNK, sizeof(struct cs_audit));
		}
		s->audit[chunk][s->naudit % CS_AUDIT_CHUNK] = a;
		s->naudit++;
	}
	r->left = 0;
	if (cs_audit_verify(s, &bad_at) < 0)
		return bad(r, "audit chain does not verify", bad_at);
	return 0;
}

int
cs_snapshot_load(uint8_t *buf, size_t len, void (*free_fn)(void *),
    struct cs_store **out, char *errmsg)
{
	struct cs_store *s = NULL;
	struct header h;
	struct reader r = {buf, len, errmsg};
	int rc = CS_EPROTO;

	if (len < HEADER_SIZE) {
		cs_errmsg_printf(errmsg, "snapshot: shorter than its header");
		return CS_EPROTO;
	}
	if ((uintptr_t)buf % 8 != 0) {
		cs_errmsg_printf(errmsg, "snapshot: buffer not 8-aligned");
		return CS_EINVAL;
	}
	memcpy(&h, buf, sizeof h);
	if (memcmp(h.magic, MAGIC, 8) != 0 ||
	    h.version != CS_SNAPSHOT_VERSION || h.header_size != HEADER_SIZE ||
	    h.zero != 0 || h.meta_len % 8 != 0 ||
	    h.meta_len > len - HEADER_SIZE ||
	    h.ncerts > len / sizeof(struct cs_cert) ||
	    h.nkeys > len / sizeof(struct cs_key)) {
		cs_errmsg_printf(errmsg, "snapshot: bad header");
		return CS_EPROTO;
	}
	r.p += HEADER_SIZE;
	r.left -= HEADER_SIZE;
	s = cs_store_new();
	/* the records stay where they are: buf becomes a slab, owned by
	 * the store only once everything checked out */
	cs_store__slab_add(s, buf, len, 0);
	cs_store__bulk_begin(s, h.ncerts, h.nkeys);
	rc = decode_meta(s, r.p, h.meta_len, errmsg);
	if (rc < 0)
		goto out;
	r.p += h.meta_len;
	r.left -= h.meta_len;
	rc = decode_records(s, &h, &r);
	if (rc < 0)
		goto out;
	rc = decode_audit(s, &h, &r);
	if (rc < 0)
		goto out;
	cs_store__bulk_end(s);
	s->applied_index = h.applied_index;
	if (s->slabs[0].live == 0) {
		free_fn(buf); /* nothing in it lives on */
		s->nslabs = 0;
	} else {
		cs_store__slab_own(s, buf, free_fn);
	}
	*out = s;
	s = NULL;
out:
	cs_store_free(s); /* on failure: leaves buf to the caller */
	return rc;
}

int
cs_snapshot_decode(const uint8_t *p, size_t len, struct cs_store **out,
    char *errmsg)
{
	uint8_t *copy = cs_malloc(len > 0 ? len : 1);
	int rc;

	if (len > 0)
		memcpy(copy, p, len);
	rc = cs_snapshot_load(copy, len, free, out, errmsg);
	if (rc < 0)
		free(copy);
	return rc;
}
