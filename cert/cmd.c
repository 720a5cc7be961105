#include "cert/cmd.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "cert/doc.h"
#include "cert/store_int.h"
#include "lib/error.h"
#include "lib/mem.h"

static const char *const type_names[CS_CMD__MAX] = {NULL, "import", "revoke",
    "unrevoke", "revoke_key", "revoke_bulk", "key_state", "set_meta", "doc_put",
    "doc_del", "crl_publish"};

const char *
cs_cmd_type_name(enum cs_cmd_type t)
{
	if ((int)t <= 0 || t >= CS_CMD__MAX)
		return "invalid";
	return type_names[t];
}

#define HEADER 8 /* u32 payload length, u32 format version */

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- encode ---- */

static void
pack_bytes_list(struct cs_mp_out *w, const struct cs_bytes *v, size_t n)
{
	cs_mp_array(w, n);
	for (size_t i = 0; i < n; i++)
		cs_mp_str(w, v[i].p, v[i].len);
}

static void
pack_args(struct cs_mp_out *w, const struct cs_cmd *c)
{
	switch (c->type) {
	case CS_CMD_IMPORT:
		cs_mp_array(w, c->u.import.n);
		for (size_t i = 0; i < c->u.import.n; i++)
			cs_mp_bin(w, c->u.import.der[i].p,
			    c->u.import.der[i].len);
		cs_mp_uint(w, c->u.import.source);
		cs_mp_str(w, c->u.import.profile.p, c->u.import.profile.len);
		cs_mp_str(w, c->u.import.owner.p, c->u.import.owner.len);
		pack_bytes_list(w, c->u.import.tags, c->u.import.ntags);
		cs_mp_uint(w, c->u.import.location);
		break;
	case CS_CMD_REVOKE:
		cs_mp_bin(w, c->u.revoke.fp, CS_SHA256_LEN);
		cs_mp_uint(w, c->u.revoke.reason);
		cs_mp_int(w, c->u.revoke.invalidity_date);
		break;
	case CS_CMD_UNREVOKE:
		cs_mp_bin(w, c->u.revoke.fp, CS_SHA256_LEN);
		break;
	case CS_CMD_REVOKE_KEY:
		cs_mp_bin(w, c->u.revoke_key.key_id, CS_SHA256_LEN);
		cs_mp_uint(w, c->u.revoke_key.reason);
		break;
	case CS_CMD_REVOKE_BULK:
		cs_mp_uint(w, c->u.bulk.selector);
		cs_mp_str(w, c->u.bulk.value.p, c->u.bulk.value.len);
		cs_mp_uint(w, c->u.bulk.reason);
		break;
	case CS_CMD_KEY_STATE:
		cs_mp_bin(w, c->u.key_state.key_id, CS_SHA256_LEN);
		cs_mp_uint(w, c->u.key_state.state);
		cs_mp_uint(w, c->u.key_state.location);
		break;
	case CS_CMD_SET_META:
		cs_mp_bin(w, c->u.meta.fp, CS_SHA256_LEN);
		if (c->u.meta.set_owner)
			cs_mp_str(w, c->u.meta.owner.p, c->u.meta.owner.len);
		else
			cs_mp_nil(w);
		if (c->u.meta.set_tags)
			pack_bytes_list(w, c->u.meta.tags, c->u.meta.ntags);
		else
			cs_mp_nil(w);
		break;
	case CS_CMD_DOC_PUT:
		cs_mp_uint(w, c->u.doc.ns);
		cs_mp_str(w, c->u.doc.key.p, c->u.doc.key.len);
		cs_mp_bin(w, c->u.doc.value.p, c->u.doc.value.len);
		break;
	case CS_CMD_DOC_DEL:
		cs_mp_uint(w, c->u.doc.ns);
		cs_mp_str(w, c->u.doc.key.p, c->u.doc.key.len);
		break;
	case CS_CMD_CRL_PUBLISH:
		cs_mp_str(w, c->u.crl.issuer.p, c->u.crl.issuer.len);
		cs_mp_uint(w, c->u.crl.number);
		cs_mp_int(w, c->u.crl.this_update);
		cs_mp_int(w, c->u.crl.next_update);
		cs_mp_uint(w, c->u.crl.delta_base);
		break;
	default:
		break;
	}
}

static const size_t nargs[CS_CMD__MAX] = {
    [CS_CMD_IMPORT] = 6,
    [CS_CMD_REVOKE] = 3,
    [CS_CMD_UNREVOKE] = 1,
    [CS_CMD_REVOKE_KEY] = 2,
    [CS_CMD_REVOKE_BULK] = 3,
    [CS_CMD_KEY_STATE] = 3,
    [CS_CMD_SET_META] = 3,
    [CS_CMD_DOC_PUT] = 3,
    [CS_CMD_DOC_DEL] = 2,
    [CS_CMD_CRL_PUBLISH] = 5,
};

int
cs_cmd_encode(const struct cs_cmd *c, struct cs_buf *out)
{
	static const uint8_t zeros[8] = {0};
	size_t start = out->len;
	size_t payload, pad;
	struct cs_mp_out w;
	uint8_t header[HEADER];
	int rc;

	if ((int)c->type <= 0 || c->type >= CS_CMD__MAX ||
	    (c->type == CS_CMD_IMPORT &&
		(c->u.import.n == 0 || c->u.import.n > CS_CMD_MAX_CERTS ||
		    c->u.import.ntags > CS_CMD_MAX_TAGS)) ||
	    (c->type == CS_CMD_SET_META && c->u.meta.ntags > CS_CMD_MAX_TAGS))
		return CS_EINVAL;
	rc = cs_buf_append(out, zeros, HEADER);
	if (rc < 0)
		return rc;
	cs_mp_out_init(&w, out);
	cs_mp_array(&w, 4 + nargs[c->type]);
	cs_mp_uint(&w, (uint64_t)c->type);
	cs_mp_bin(&w, c->request_id, CS_REQUEST_ID_LEN);
	cs_mp_str(&w, c->actor.p, c->actor.len);
	cs_mp_int(&w, c->time);
	pack_args(&w, c);
	payload = out->len - start - HEADER;
	pad = (8 - (out->len - start) % 8) % 8;
	if (w.err == 0)
		w.err = cs_buf_append(out, zeros, pad);
	if (w.err == 0 && out->len - start > CS_CMD_MAX_ENTRY)
		w.err = CS_ETOOBIG;
	if (w.err != 0) {
		cs_buf_truncate(out, start); /* leave out as it was */
		return w.err;
	}
	put_le32(header, (uint32_t)payload);
	put_le32(header + 4, CS_CMD_FORMAT);
	memcpy(out->data + start, header, HEADER);
	return 0;
}

/* ---- decode ---- */

struct cs_cmd_decoded {
	struct cs_cmd cmd;
};

static void
read_bytes_list(struct cs_mp_in *r, struct cs_bytes *v, size_t *n)
{
	cs_mp_read_array(r, CS_CMD_MAX_TAGS, n);
	for (size_t i = 0; i < *n && r->err == 0; i++)
		cs_mp_read_str(r, CS_CMD_MAX_STR, &v[i]);
}

static void
read_fixed(struct cs_mp_in *r, uint8_t *out, size_t len)
{
	struct cs_bytes b;

	cs_mp_read_bin(r, len, len, &b);
	if (r->err == 0)
		memcpy(out, b.p, len);
}

static void
read_args(struct cs_mp_in *r, struct cs_cmd *c)
{
	uint64_t u;

	switch (c->type) {
	case CS_CMD_IMPORT:
		cs_mp_read_array(r, CS_CMD_MAX_CERTS, &c->u.import.n);
		if (r->err == 0 && c->u.import.n == 0)
			cs_mp_fail(r, "import without certificates");
		for (size_t i = 0; i < c->u.import.n && r->err == 0; i++)
			cs_mp_read_bin(r, 1, CS_X509_MAX_DER,
			    &c->u.import.der[i]);
		cs_mp_read_uint(r, CS_SOURCE__MAX - 1, &u);
		c->u.import.source = (uint8_t)u;
		cs_mp_read_str(r, CS_CMD_MAX_STR, &c->u.import.profile);
		cs_mp_read_str(r, CS_CMD_MAX_STR, &c->u.import.owner);
		read_bytes_list(r, c->u.import.tags, &c->u.import.ntags);
		cs_mp_read_uint(r, CS_KEYLOC__MAX - 1, &u);
		c->u.import.location = (uint8_t)u;
		break;
	case CS_CMD_REVOKE:
		read_fixed(r, c->u.revoke.fp, CS_SHA256_LEN);
		cs_mp_read_uint(r, 255, &u);
		c->u.revoke.reason = (uint8_t)u;
		cs_mp_read_int(r, &c->u.revoke.invalidity_date);
		break;
	case CS_CMD_UNREVOKE:
		read_fixed(r, c->u.revoke.fp, CS_SHA256_LEN);
		break;
	case CS_CMD_REVOKE_KEY:
		read_fixed(r, c->u.revoke_key.key_id, CS_SHA256_LEN);
		cs_mp_read_uint(r, 255, &u);
		c->u.revoke_key.reason = (uint8_t)u;
		break;
	case CS_CMD_REVOKE_BULK:
		cs_mp_read_uint(r, CS_BULK_ISSUER, &u);
		c->u.bulk.selector = (uint8_t)u;
		cs_mp_read_str(r, CS_CMD_MAX_STR, &c->u.bulk.value);
		cs_mp_read_uint(r, 255, &u);
		c->u.bulk.reason = (uint8_t)u;
		break;
	case CS_CMD_KEY_STATE:
		read_fixed(r, c->u.key_state.key_id, CS_SHA256_LEN);
		cs_mp_read_uint(r, CS_KEY_STATE__MAX - 1, &u);
		c->u.key_state.state = (uint8_t)u;
		cs_mp_read_uint(r, 255, &u);
		c->u.key_state.location = (uint8_t)u;
		break;
	case CS_CMD_SET_META:
		read_fixed(r, c->u.meta.fp, CS_SHA256_LEN);
		c->u.meta.set_owner = !cs_mp_read_nil(r);
		if (c->u.meta.set_owner)
			cs_mp_read_str(r, CS_CMD_MAX_STR, &c->u.meta.owner);
		c->u.meta.set_tags = !cs_mp_read_nil(r);
		if (c->u.meta.set_tags)
			read_bytes_list(r, c->u.meta.tags, &c->u.meta.ntags);
		break;
	case CS_CMD_DOC_PUT:
	case CS_CMD_DOC_DEL:
		cs_mp_read_uint(r, CS_NS__MAX - 1, &u);
		c->u.doc.ns = (uint8_t)u;
		cs_mp_read_str(r, CS_CMD_MAX_STR, &c->u.doc.key);
		if (c->type == CS_CMD_DOC_PUT)
			cs_mp_read_bin(r, 0, CS_CMD_MAX_DOC, &c->u.doc.value);
		break;
	case CS_CMD_CRL_PUBLISH:
		cs_mp_read_str(r, CS_CMD_MAX_STR, &c->u.crl.issuer);
		cs_mp_read_uint(r, UINT64_MAX, &c->u.crl.number);
		cs_mp_read_int(r, &c->u.crl.this_update);
		cs_mp_read_int(r, &c->u.crl.next_update);
		cs_mp_read_uint(r, UINT64_MAX, &c->u.crl.delta_base);
		break;
	default:
		break;
	}
}

int
cs_cmd_decode(const uint8_t *entry, size_t len, struct cs_cmd_decoded **out,
    char *errmsg)
{
	struct cs_cmd_decoded *d = NULL;
	struct cs_mp_in r;
	uint32_t payload, version;
	size_t n;
	uint64_t type;
	struct cs_bytes id;

	if (len < HEADER || len % 8 != 0 || len > CS_CMD_MAX_ENTRY) {
		cs_errmsg_printf(errmsg, "entry: bad length %zu", len);
		return CS_EPROTO;
	}
	payload = get_le32(entry);
	version = get_le32(entry + 4);
	if (version != CS_CMD_FORMAT) {
		cs_errmsg_printf(errmsg, "entry: unknown format version %u",
		    version);
		return CS_EPROTO;
	}
	if (payload > len - HEADER || len - HEADER - payload >= 8) {
		cs_errmsg_printf(errmsg,
		    "entry: payload length %u does not match %zu", payload,
		    len);
		return CS_EPROTO;
	}
	for (size_t i = HEADER + payload; i < len; i++) {
		if (entry[i] != 0) {
			cs_errmsg_printf(errmsg, "entry: non-zero padding");
			return CS_EPROTO;
		}
	}
	d = cs_calloc(1, sizeof *d);
	cs_mp_in_init(&r, entry + HEADER, payload, errmsg);
	cs_mp_read_array(&r, 16, &n);
	cs_mp_read_uint(&r, CS_CMD__MAX - 1, &type);
	if (r.err == 0 && type == 0)
		cs_mp_fail(&r, "command type 0");
	if (r.err == 0 && n != 4 + nargs[type])
		cs_mp_fail(&r, "wrong number of arguments");
	d->cmd.type = (enum cs_cmd_type)type;
	cs_mp_read_bin(&r, CS_REQUEST_ID_LEN, CS_REQUEST_ID_LEN, &id);
	if (r.err == 0)
		memcpy(d->cmd.request_id, id.p, CS_REQUEST_ID_LEN);
	cs_mp_read_str(&r, CS_CMD_MAX_STR, &d->cmd.actor);
	cs_mp_read_int(&r, &d->cmd.time);
	if (r.err == 0)
		read_args(&r, &d->cmd);
	if (r.err == 0 && !cs_mp_done(&r))
		cs_mp_fail(&r, "trailing bytes");
	if (r.err != 0) {
		free(d);
		cs_errmsg_wrapf(errmsg, "entry: %s", cs_cmd_type_name(type));
		return CS_EPROTO;
	}
	*out = d;
	return 0;
}

const struct cs_cmd *
cs_cmd_decoded_get(const struct cs_cmd_decoded *d)
{
	return &d->cmd;
}

void
cs_cmd_decoded_close(struct cs_cmd_decoded *d)
{
	free(d);
}

/* ---- the recent request ids ---- */

static bool
is_zero_id(const uint8_t id[CS_REQUEST_ID_LEN])
{
	for (int i = 0; i < CS_REQUEST_ID_LEN; i++) {
		if (id[i] != 0)
			return false;
	}
	return true;
}

const struct cs_result *
cs_cmd_seen(const struct cs_store *s, const uint8_t id[CS_REQUEST_ID_LEN])
{
	size_t n;
	const uint32_t *slot;

	if (is_zero_id(id))
		return NULL; /* an all-zero id opts out of de-duplication */
	slot = cs_index_get(s->dedupe_by_id, id, CS_REQUEST_ID_LEN, &n);
	return n > 0 ? &s->dedupe[slot[0] - 1].res : NULL;
}

void
cs_store__dedupe_put(struct cs_store *s, const uint8_t id[CS_REQUEST_ID_LEN],
    const struct cs_result *res)
{
	struct cs_dedupe_entry *e;

	if (is_zero_id(id))
		return;
	/* The ring grows until it is full; it cannot have wrapped before,
	 * so growing keeps arrival order. */
	if (s->ndedupe == s->capdedupe && s->capdedupe < CS_DEDUPE_MAX) {
		s->capdedupe = s->capdedupe == 0 ? 64 : s->capdedupe * 2;
		if (s->capdedupe > CS_DEDUPE_MAX)
			s->capdedupe = CS_DEDUPE_MAX;
		s->dedupe =
		    cs_reallocarray(s->dedupe, s->capdedupe, sizeof *s->dedupe);
	}
	e = &s->dedupe[s->dedupe_next];
	if (s->ndedupe == CS_DEDUPE_MAX) /* evict the oldest */
		cs_index_remove(s->dedupe_by_id, e->id, CS_REQUEST_ID_LEN,
		    (uint32_t)s->dedupe_next + 1);
	else
		s->ndedupe++;
	memcpy(e->id, id, CS_REQUEST_ID_LEN);
	e->res = *res;
	cs_index_add(s->dedupe_by_id, id, CS_REQUEST_ID_LEN,
	    (uint32_t)s->dedupe_next + 1);
	s->dedupe_next = (s->dedupe_next + 1) % CS_DEDUPE_MAX;
}

/* ---- apply ---- */

static char *
dup_bytes(struct cs_bytes b)
{
	return cs_bytes_dup(b);
}

/* Packs a list of string views into NUL-separated bytes (caller frees
 * *scratch). */
static void
pack_views(const struct cs_bytes *v, size_t n, char **scratch,
    struct cs_packed *out)
{
	size_t bytes = 0;
	char *p;

	for (size_t i = 0; i < n; i++)
		bytes += v[i].len + 1;
	p = cs_malloc(bytes + 1);
	*scratch = p;
	out->p = p;
	out->bytes = bytes;
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, v[i].p, v[i].len);
		p[v[i].len] = '\0';
		p += v[i].len + 1;
	}
}

static bool
reason_ok(unsigned r)
{
	return r < CS_REASON__MAX && r != 7 && r != CS_REASON_REMOVE_FROM_CRL;
}

/* Makes a new version of certificate c with a new status. */
static void
set_status(struct cs_store *s, const struct cs_cert *c, uint8_t status,
    uint8_t reason, int64_t at, int64_t invalidity, uint64_t index)
{
	struct cs_cert_parts p;

	cs_store__cert_parts(c, &p);
	p.hdr.status = status;
	/* a released hold keeps removeFromCRL and its time, for delta CRLs */
	p.hdr.reason =
	    status == CS_STATUS_REVOKED || reason == CS_REASON_REMOVE_FROM_CRL
		? reason
		: 0;
	p.hdr.revoked_at =
	    p.hdr.reason != 0 || status == CS_STATUS_REVOKED ? at : 0;
	p.hdr.invalidity_date = status == CS_STATUS_REVOKED ? invalidity : 0;
	p.hdr.updated_index = index;
	cs_store__cert_replace(s, cs_store__cert_build(&p));
}

/* Revokes c unless it is already revoked for good; true if changed. A
 * certificate on hold takes the new (permanent) reason. */
static bool
revoke_one(struct cs_store *s, const struct cs_cert *c, uint8_t reason,
    int64_t at, int64_t invalidity, uint64_t index)
{
	if (c->status == CS_STATUS_REVOKED &&
	    (c->reason != CS_REASON_CERTIFICATE_HOLD ||
		reason == CS_REASON_CERTIFICATE_HOLD))
		return false;
	set_status(s, c, CS_STATUS_REVOKED, reason, at, invalidity, index);
	return true;
}

/* Revokes every certificate in ids (a posting list that revocation does
 * not change). Returns how many changed. */
static uint32_t
revoke_ids(struct cs_store *s, const uint32_t *ids, size_t n, uint8_t reason,
    int64_t at, uint64_t index)
{
	uint32_t count = 0;
	uint32_t *copy = cs_memdup(ids, n * sizeof *ids);

	/* copy: the owner/tag posting lists are rebuilt by each new
	 * version, which may move them */
	for (size_t i = 0; i < n; i++) {
		if (revoke_one(s, s->certs[copy[i]], reason, at, 0, index))
			count++;
	}
	free(copy);
	return count;
}

static void
key_record(struct cs_store *s, const struct cs_cert_info *ci, uint8_t location,
    uint64_t index)
{
	size_t n;
	const uint32_t *ids =
	    cs_index_get(s->key_by_id, ci->key_id, CS_SHA256_LEN, &n);
	struct cs_key hdr;

	if (n > 0) {
		const struct cs_key *k = s->keys[ids[0]];

		if (location == CS_KEYLOC_UNKNOWN || k->location == location)
			return;
		hdr = *k;
		hdr.location = location;
		hdr.updated_index = index;
		cs_store__key_replace(s, cs_store__key_build(&hdr,
					     cs_key_curve(k), cs_key_actor(k)));
		return;
	}
	memset(&hdr, 0, sizeof hdr);
	hdr.seq = (uint32_t)s->nkeys + 1;
	hdr.key_bits = (uint16_t)ci->key_bits;
	hdr.key_type = (uint8_t)ci->key_type;
	hdr.state = CS_KEY_ACTIVE;
	memcpy(hdr.key_id, ci->key_id, CS_SHA256_LEN);
	hdr.created_index = index;
	hdr.updated_index = index;
	hdr.location = location;
	cs_store__key_insert(s, cs_store__key_build(&hdr, ci->curve, ""));
}

static void
insert_cert(struct cs_store *s, const struct cs_cert_info *ci,
    const struct cs_cmd *c, const struct cs_packed *tags, uint64_t index)
{
	struct cs_cert_parts p;
	char *scratch[4] = {NULL, NULL, NULL, NULL};
	char *profile = dup_bytes(c->u.import.profile);
	char *owner = dup_bytes(c->u.import.owner);
	const struct cs_strv *lists[4] = {&ci->sans.dns, &ci->sans.ip,
	    &ci->sans.uri, &ci->sans.email};
	const struct cs_key *k;

	memset(&p, 0, sizeof p);
	p.hdr.seq = (uint32_t)s->ncerts + 1;
	p.hdr.key_bits = (uint16_t)ci->key_bits;
	p.hdr.key_type = (uint8_t)ci->key_type;
	p.hdr.status = CS_STATUS_VALID;
	memcpy(p.hdr.fingerprint, ci->fingerprint, CS_SHA256_LEN);
	memcpy(p.hdr.key_id, ci->key_id, CS_SHA256_LEN);
	p.hdr.not_before = ci->not_before;
	p.hdr.not_after = ci->not_after;
	p.hdr.created_index = index;
	p.hdr.updated_index = index;
	p.hdr.source = c->u.import.source;
	p.hdr.ca = ci->ca ? 1 : 0;
	p.hdr.serial_neg = ci->serial.neg ? 1 : 0;
	p.hdr.serial_len = ci->serial.len;
	p.serial = ci->serial.b;
	p.issuer = ci->issuer;
	p.subject = ci->subject;
	p.profile = profile;
	p.owner = owner;
	p.curve = ci->curve;
	p.list[CS_LIST_TAGS] = *tags;
	for (int l = 0; l < 4; l++)
		cs_store__pack((const char *const *)lists[l]->v, lists[l]->n,
		    &scratch[l], &p.list[CS_LIST_DNS + l]);
	p.der = ci->der;
	p.der_len = ci->der_len;
	/* A known-compromised key taints every certificate that uses it,
	 * also one imported later. */
	k = cs_store_get_key(s, ci->key_id);
	if (k != NULL && k->state == CS_KEY_COMPROMISED) {
		p.hdr.status = CS_STATUS_REVOKED;
		p.hdr.reason = CS_REASON_KEY_COMPROMISE;
		p.hdr.revoked_at = c->time;
	}
	cs_store__cert_insert(s, cs_store__cert_build(&p));
	for (int l = 0; l < 4; l++)
		free(scratch[l]);
	free(profile);
	free(owner);
}

static int
apply_import(struct cs_store *s, const struct cs_cmd *c, uint64_t index,
    struct cs_result *res)
{
	struct cs_cert_info **ci = cs_calloc(c->u.import.n, sizeof *ci);
	struct cs_packed tags;
	char *tag_scratch = NULL;
	int rc = 0;

	for (size_t i = 0; i < c->u.import.n; i++) {
		rc = cs_x509_parse_der(c->u.import.der[i].p,
		    c->u.import.der[i].len, &ci[i], NULL);
		if (rc < 0) {
			rc = CS_EINVAL; /* all or nothing */
			goto out;
		}
	}
	memcpy(res->fingerprint, ci[0]->fingerprint, CS_SHA256_LEN);
	pack_views(c->u.import.tags, c->u.import.ntags, &tag_scratch, &tags);
	for (size_t i = 0; i < c->u.import.n; i++) {
		if (cs_store_get_fp(s, ci[i]->fingerprint) != NULL) {
			res->count2++;
			continue;
		}
		key_record(s, ci[i], c->u.import.location, index);
		insert_cert(s, ci[i], c, &tags, index);
		res->count++;
	}
out:
	free(tag_scratch);
	for (size_t i = 0; i < c->u.import.n; i++)
		cs_cert_info_free(ci[i]);
	free(ci);
	return rc;
}

static int
apply_revoke(struct cs_store *s, const struct cs_cmd *c, uint64_t index,
    struct cs_result *res)
{
	const struct cs_cert *cert = cs_store_get_fp(s, c->u.revoke.fp);

	memcpy(res->fingerprint, c->u.revoke.fp, CS_SHA256_LEN);
	if (cert == NULL)
		return CS_ENOTFOUND;
	if (c->type == CS_CMD_UNREVOKE) {
		if (cert->status != CS_STATUS_REVOKED ||
		    cert->reason != CS_REASON_CERTIFICATE_HOLD)
			return CS_ECONFLICT;
		set_status(s, cert, CS_STATUS_VALID, CS_REASON_REMOVE_FROM_CRL,
		    c->time, 0, index);
		res->count = 1;
		return 0;
	}
	if (!reason_ok(c->u.revoke.reason))
		return CS_EINVAL;
	if (!revoke_one(s, cert, c->u.revoke.reason, c->time,
		c->u.revoke.invalidity_date, index))
		return CS_ECONFLICT;
	res->count = 1;
	return 0;
}

static int
apply_revoke_key(struct cs_store *s, const struct cs_cmd *c, uint64_t index,
    struct cs_result *res)
{
	const struct cs_key *k = cs_store_get_key(s, c->u.revoke_key.key_id);
	const uint32_t *ids;
	size_t n;

	if (k == NULL)
		return CS_ENOTFOUND;
	if (!reason_ok(c->u.revoke_key.reason))
		return CS_EINVAL;
	/* Never blocked: even a destroyed key's certificates get revoked;
	 * the key keeps its final state. */
	if (k->state == CS_KEY_ACTIVE) {
		struct cs_key hdr = *k;
		char *actor = dup_bytes(c->actor);

		hdr.state = CS_KEY_COMPROMISED;
		hdr.state_time = c->time;
		hdr.updated_index = index;
		cs_store__key_replace(s,
		    cs_store__key_build(&hdr, cs_key_curve(k), actor));
		free(actor);
	}
	ids =
	    cs_index_get(s->by_key, c->u.revoke_key.key_id, CS_SHA256_LEN, &n);
	res->count =
	    revoke_ids(s, ids, n, c->u.revoke_key.reason, c->time, index);
	return 0;
}

static int
apply_bulk(struct cs_store *s, const struct cs_cmd *c, uint64_t index,
    struct cs_result *res)
{
	struct cs_index *ix;
	const uint32_t *ids;
	size_t n;

	if (!reason_ok(c->u.bulk.reason))
		return CS_EINVAL;
	if (c->u.bulk.value.len == 0)
		return CS_EINVAL;
	switch (c->u.bulk.selector) {
	case CS_BULK_OWNER:
		ix = s->by_owner;
		break;
	case CS_BULK_TAG:
		ix = s->by_tag;
		break;
	default:
		ix = s->by_issuer;
		break;
	}
	ids = cs_index_get(ix, c->u.bulk.value.p, c->u.bulk.value.len, &n);
	res->count = revoke_ids(s, ids, n, c->u.bulk.reason, c->time, index);
	return 0;
}

static int
apply_key_state(struct cs_store *s, const struct cs_cmd *c, uint64_t index,
    struct cs_result *res)
{
	const struct cs_key *k = cs_store_get_key(s, c->u.key_state.key_id);
	struct cs_key hdr;
	char *actor;
	uint8_t to = c->u.key_state.state;
	uint8_t loc = c->u.key_state.location;

	(void)res;
	if (k == NULL)
		return CS_ENOTFOUND;
	if (loc != CS_KEYLOC_KEEP && loc >= CS_KEYLOC__MAX)
		return CS_EINVAL;
	/* compromise goes through REVOKE_KEY, which also revokes */
	if (to == CS_KEY_COMPROMISED && k->state != CS_KEY_COMPROMISED)
		return CS_EINVAL;
	if (to != k->state &&
	    (k->state == CS_KEY_DESTROYED || to == CS_KEY_ACTIVE))
		return CS_ECONFLICT;
	if (to == k->state && to == CS_KEY_DESTROYED)
		return CS_ECONFLICT;
	hdr = *k;
	if (to != k->state) {
		hdr.state = to;
		hdr.state_time = c->time;
	}
	if (loc != CS_KEYLOC_KEEP)
		hdr.location = loc;
	hdr.updated_index = index;
	actor =
	    to != k->state ? dup_bytes(c->actor) : cs_strdup(cs_key_actor(k));
	cs_store__key_replace(s,
	    cs_store__key_build(&hdr, cs_key_curve(k), actor));
	free(actor);
	return 0;
}

static int
apply_meta(struct cs_store *s, const struct cs_cmd *c, uint64_t index,
    struct cs_result *res)
{
	const struct cs_cert *cert = cs_store_get_fp(s, c->u.meta.fp);
	struct cs_cert_parts p;
	char *owner = NULL, *scratch = NULL;

	memcpy(res->fingerprint, c->u.meta.fp, CS_SHA256_LEN);
	if (cert == NULL)
		return CS_ENOTFOUND;
	cs_store__cert_parts(cert, &p);
	if (c->u.meta.set_owner) {
		owner = dup_bytes(c->u.meta.owner);
		p.owner = owner;
	}
	if (c->u.meta.set_tags)
		pack_views(c->u.meta.tags, c->u.meta.ntags, &scratch,
		    &p.list[CS_LIST_TAGS]);
	p.hdr.updated_index = index;
	cs_store__cert_replace(s, cs_store__cert_build(&p));
	free(owner);
	free(scratch);
	res->count = 1;
	return 0;
}

static int
apply_doc(struct cs_store *s, const struct cs_cmd *c, uint64_t index,
    struct cs_result *res)
{
	enum cs_ns ns = (enum cs_ns)c->u.doc.ns;
	const char *key = (const char *)c->u.doc.key.p;
	size_t klen = c->u.doc.key.len;
	const struct cs_doc *old;

	/* CRL numbering moves only through CRL_PUBLISH */
	if ((int)ns <= 0 || ns >= CS_NS__MAX || ns == CS_NS_CRL || klen == 0)
		return CS_EINVAL;
	if (c->type == CS_CMD_DOC_DEL)
		return cs_store__doc_del(s, ns, key, klen);
	if (cs_doc_validate(ns, c->u.doc.value.p, c->u.doc.value.len, NULL) < 0)
		return CS_EINVAL;
	old = cs_store__doc_find(s, ns, key, klen);
	res->count = old == NULL ? 1 : 0;
	cs_store__doc_put(s,
	    cs_store__doc_build(ns, key, klen, c->u.doc.value.p,
		c->u.doc.value.len, old != NULL ? old->created_index : index,
		index));
	return 0;
}

static int
apply_crl(struct cs_store *s, const struct cs_cmd *c, uint64_t index,
    struct cs_result *res)
{
	const char *issuer = (const char *)c->u.crl.issuer.p;
	size_t ilen = c->u.crl.issuer.len;
	const struct cs_doc *d;
	struct cs_crl_state st;
	struct cs_buf buf;
	int rc;

	if (cs_store__doc_find(s, CS_NS_ISSUER, issuer, ilen) == NULL)
		return CS_ENOTFOUND;
	if (c->u.crl.next_update <= c->u.crl.this_update ||
	    c->u.crl.number == 0)
		return CS_EINVAL;
	memset(&st, 0, sizeof st);
	d = cs_store__doc_find(s, CS_NS_CRL, issuer, ilen);
	if (d != NULL &&
	    cs_crl_state_decode(cs_store__doc_value(d), d->vlen, &st, NULL) < 0)
		memset(&st, 0, sizeof st); /* unreachable: we wrote it */
	if (c->u.crl.number <= st.number)
		return CS_ECONFLICT;
	if (c->u.crl.delta_base != 0 &&
	    (st.full_number == 0 || c->u.crl.delta_base != st.full_number))
		return CS_ECONFLICT;
	st.number = c->u.crl.number;
	st.this_update = c->u.crl.this_update;
	st.next_update = c->u.crl.next_update;
	st.index = index;
	s->crl_index = index;
	if (c->u.crl.delta_base == 0) {
		st.full_index = index;
		st.full_number = c->u.crl.number;
		st.full_this_update = c->u.crl.this_update;
		st.full_next_update = c->u.crl.next_update;
	} else {
		st.delta_base = c->u.crl.delta_base;
	}
	cs_buf_init(&buf, CS_CMD_MAX_DOC);
	rc = cs_crl_state_encode(&st, &buf);
	assert(rc == 0);
	cs_store__doc_put(s,
	    cs_store__doc_build(CS_NS_CRL, issuer, ilen, buf.data, buf.len,
		d != NULL ? d->created_index : index, index));
	cs_buf_close(&buf);
	res->count = 1;
	return rc;
}

static void
digest(const uint8_t *p, size_t len, uint8_t out[CS_SHA256_LEN])
{
	unsigned int n = CS_SHA256_LEN;

	if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1)
		abort(); /* only on out-of-memory */
}

void
cs_cmd_apply(struct cs_store *s, const struct cs_cmd *c, const uint8_t *entry,
    size_t entry_len, uint64_t index, struct cs_result *res)
{
	const struct cs_result *seen = cs_cmd_seen(s, c->request_id);
	uint8_t dg[CS_SHA256_LEN];
	uint32_t actor;
	int rc;

	assert(index > s->applied_index);
	memset(res, 0, sizeof *res);
	s->applied_index = index;
	if (seen != NULL) {
		*res = *seen; /* a retry: the first outcome, no change */
		return;
	}
	res->index = index;
	switch (c->type) {
	case CS_CMD_IMPORT:
		rc = apply_import(s, c, index, res);
		break;
	case CS_CMD_REVOKE:
	case CS_CMD_UNREVOKE:
		rc = apply_revoke(s, c, index, res);
		break;
	case CS_CMD_REVOKE_KEY:
		rc = apply_revoke_key(s, c, index, res);
		break;
	case CS_CMD_REVOKE_BULK:
		rc = apply_bulk(s, c, index, res);
		break;
	case CS_CMD_KEY_STATE:
		rc = apply_key_state(s, c, index, res);
		break;
	case CS_CMD_SET_META:
		rc = apply_meta(s, c, index, res);
		break;
	case CS_CMD_DOC_PUT:
	case CS_CMD_DOC_DEL:
		rc = apply_doc(s, c, index, res);
		break;
	case CS_CMD_CRL_PUBLISH:
		rc = apply_crl(s, c, index, res);
		break;
	default:
		rc = CS_EPROTO;
		break;
	}
	res->rc = rc;
	if (rc < 0) {
		/* business errors change nothing but the counters above
		 * being zero */
		res->count = 0;
		res->count2 = 0;
	}
	digest(entry, entry_len, dg);
	actor = cs_audit__actor(s, (const char *)c->actor.p, c->actor.len);
	cs_audit__append(s, index, c->time, actor, (uint16_t)c->type,
	    (int16_t)rc, dg);
	cs_store__dedupe_put(s, c->request_id, res);
}

void
cs_cmd_apply_entry(struct cs_store *s, const uint8_t *entry, size_t len,
    uint64_t index, struct cs_result *res)
{
	struct cs_cmd_decoded *d = NULL;
	uint8_t dg[CS_SHA256_LEN];

	if (cs_cmd_decode(entry, len, &d, NULL) == 0) {
		cs_cmd_apply(s, cs_cmd_decoded_get(d), entry, len, index, res);
		cs_cmd_decoded_close(d);
		return;
	}
	assert(index > s->applied_index);
	memset(res, 0, sizeof *res);
	res->rc = CS_EPROTO;
	res->index = index;
	s->applied_index = index;
	digest(entry, len, dg);
	cs_audit__append(s, index, 0, cs_audit__actor(s, "", 0), 0, CS_EPROTO,
	    dg);
}
