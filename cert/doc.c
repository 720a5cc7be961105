#include "cert/doc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cert/mp.h"
#include "cert/profile.h"
#include "lib/error.h"
#include "lib/mem.h"

/*
 * One table per document type: field name, type, where it lives in the
 * struct, its cap. Encoding writes every field in table order (so the
 * bytes are canonical); decoding accepts the fields in any order.
 */
enum ftype {
	F_STR,  /* char * (NULL encodes as "") */
	F_BIN,  /* uint8_t * at off, size_t at off2 */
	F_STRV, /* struct cs_strv */
	F_U64,
	F_U32,
	F_I64,
	F_BOOL
};

struct field {
	const char *name;
	enum ftype type;
	size_t off;
	size_t off2;
	size_t max; /* bytes for STR/BIN, items for STRV, value for U64/U32 */
	bool required;
};

struct doctype {
	const char *name;
	const struct field *fields;
	size_t nfields;
};

#define STRV_ITEM_MAX 1024
#define FIELDS(t)     t, sizeof t / sizeof t[0]

#define P(f) offsetof(struct cs_profile, f)
static const struct field profile_fields[] = {
    {"issuer", F_STR, P(issuer), 0, 256, true},
    {"key_specs", F_U32, P(key_specs), 0, CS_KEYSPEC_ALL, true},
    {"max_validity", F_I64, P(max_validity), 0, 0, true},
    {"rotate_after", F_I64, P(rotate_after), 0, 0, false},
    {"allow_dns", F_STRV, P(allow.dns), 0, 256, false},
    {"allow_ip", F_STRV, P(allow.ip), 0, 256, false},
    {"allow_uri", F_STRV, P(allow.uri), 0, 256, false},
    {"allow_email", F_STRV, P(allow.email), 0, 256, false},
    {"allow_no_san", F_BOOL, P(allow_no_san), 0, 0, false},
    {"allow_cn", F_STRV, P(allow_cn), 0, 256, false},
    {"key_usage", F_U32, P(key_usage), 0, 0xffff, false},
    {"eku", F_STRV, P(eku), 0, 32, false},
    {"crl_urls", F_STRV, P(crl_urls), 0, 16, false},
    {"ocsp_urls", F_STRV, P(ocsp_urls), 0, 16, false},
    {"description", F_STR, P(description), 0, 1024, false},
};
#undef P

#define I(f) offsetof(struct cs_issuer, f)
static const struct field issuer_fields[] = {
    {"cert", F_BIN, I(cert), I(cert_len), CS_X509_MAX_DER, true},
    {"chain_pem", F_STR, I(chain_pem), 0, 256 * 1024, false},
    {"key_ref", F_STR, I(key_ref), 0, 4096, true},
    {"description", F_STR, I(description), 0, 1024, false},
};
#undef I

#define C(f) offsetof(struct cs_crl_state, f)
static const struct field crl_fields[] = {
    {"number", F_U64, C(number), 0, UINT64_MAX, true},
    {"this_update", F_I64, C(this_update), 0, 0, true},
    {"next_update", F_I64, C(next_update), 0, 0, true},
    {"full_number", F_U64, C(full_number), 0, UINT64_MAX, true},
    {"full_this_update", F_I64, C(full_this_update), 0, 0, true},
    {"full_next_update", F_I64, C(full_next_update), 0, 0, true},
    {"delta_base", F_U64, C(delta_base), 0, UINT64_MAX, false},
    {"index", F_U64, C(index), 0, UINT64_MAX, false},
    {"full_index", F_U64, C(full_index), 0, UINT64_MAX, false},
};
#undef C

#define M(f) offsetof(struct cs_member, f)
static const struct field member_fields[] = {
    {"id", F_U64, M(id), 0, UINT64_MAX, true},
    {"raft_address", F_STR, M(raft_address), 0, 256, true},
    {"api_url", F_STR, M(api_url), 0, 1024, true},
    {"public_url", F_STR, M(public_url), 0, 1024, false},
    {"http_url", F_STR, M(http_url), 0, 1024, false},
    {"site", F_STR, M(site), 0, 256, false},
    {"role", F_U64, M(role), 0, CS_MEMBER__MAX - 1, false},
};
#undef M

#define R(f) offsetof(struct cs_role_binding, f)
static const struct field role_fields[] = {
    {"role", F_STR, R(role), 0, 64, true},
    {"profiles", F_STRV, R(profiles), 0, 256, false},
};
#undef R

#define N(f) offsetof(struct cs_notify, f)
static const struct field notify_fields[] = {
    {"sent", F_I64, N(sent), 0, 0, true},
    {"detail", F_STR, N(detail), 0, 1024, false},
};
#undef N

static const struct doctype profile_type = {"profile", FIELDS(profile_fields)};
static const struct doctype issuer_type = {"issuer", FIELDS(issuer_fields)};
static const struct doctype crl_type = {"crl", FIELDS(crl_fields)};
static const struct doctype member_type = {"member", FIELDS(member_fields)};
static const struct doctype role_type = {"role", FIELDS(role_fields)};
static const struct doctype notify_type = {"notify", FIELDS(notify_fields)};

/* Through void *: the offsets come from offsetof(), so the field is
 * aligned for its type. */
#define AT(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))
#define CAT(obj, off, type)                                                    \
	((const type *)(const void *)((const char *)(obj) + (off)))

static int
encode(const struct doctype *t, const void *obj, struct cs_buf *out)
{
	struct cs_mp_out w;

	cs_mp_out_init(&w, out);
	cs_mp_map(&w, t->nfields);
	for (size_t i = 0; i < t->nfields; i++) {
		const struct field *f = &t->fields[i];

		cs_mp_cstr(&w, f->name);
		switch (f->type) {
		case F_STR:
			cs_mp_cstr(&w, *CAT(obj, f->off, char *));
			break;
		case F_BIN:
			cs_mp_bin(&w, *CAT(obj, f->off, uint8_t *),
			    *CAT(obj, f->off2, size_t));
			break;
		case F_STRV: {
			const struct cs_strv *v =
			    CAT(obj, f->off, struct cs_strv);

			cs_mp_array(&w, v->n);
			for (size_t k = 0; k < v->n; k++)
				cs_mp_cstr(&w, v->v[k]);
			break;
		}
		case F_U64:
			cs_mp_uint(&w, *CAT(obj, f->off, uint64_t));
			break;
		case F_U32:
			cs_mp_uint(&w, *CAT(obj, f->off, uint32_t));
			break;
		case F_I64:
			cs_mp_int(&w, *CAT(obj, f->off, int64_t));
			break;
		case F_BOOL:
			cs_mp_bool(&w, *CAT(obj, f->off, bool));
			break;
		}
	}
	return w.err;
}

static void
close_doc(const struct doctype *t, void *obj)
{
	for (size_t i = 0; i < t->nfields; i++) {
		const struct field *f = &t->fields[i];

		switch (f->type) {
		case F_STR:
			free(*AT(obj, f->off, char *));
			*AT(obj, f->off, char *) = NULL;
			break;
		case F_BIN:
			free(*AT(obj, f->off, uint8_t *));
			*AT(obj, f->off, uint8_t *) = NULL;
			*AT(obj, f->off2, size_t) = 0;
			break;
		case F_STRV:
			cs_strv_free(AT(obj, f->off, struct cs_strv));
			break;
		default:
			break;
		}
	}
}

static void
read_field(struct cs_mp_in *r, const struct field *f, void *obj)
{
	struct cs_bytes b;
	uint64_t u;

	switch (f->type) {
	case F_STR:
		cs_mp_read_str(r, f->max, &b);
		if (r->err == 0)
			*AT(obj, f->off, char *) = cs_bytes_dup(b);
		break;
	case F_BIN:
		cs_mp_read_bin(r, 0, f->max, &b);
		if (r->err == 0) {
			*AT(obj, f->off, uint8_t *) = cs_memdup(b.p, b.len);
			*AT(obj, f->off2, size_t) = b.len;
		}
		break;
	case F_STRV: {
		struct cs_strv *v = AT(obj, f->off, struct cs_strv);
		size_t n;

		cs_mp_read_array(r, f->max, &n);
		if (r->err != 0)
			break;
		v->v = cs_calloc(n + 1, sizeof *v->v);
		for (size_t k = 0; k < n && r->err == 0; k++) {
			cs_mp_read_str(r, STRV_ITEM_MAX, &b);
			if (r->err == 0)
				v->v[v->n++] = cs_bytes_dup(b);
		}
		break;
	}
	case F_U64:
		cs_mp_read_uint(r, f->max, AT(obj, f->off, uint64_t));
		break;
	case F_U32:
		cs_mp_read_uint(r, f->max, &u);
		*AT(obj, f->off, uint32_t) = (uint32_t)u;
		break;
	case F_I64:
		cs_mp_read_int(r, AT(obj, f->off, int64_t));
		break;
	case F_BOOL:
		cs_mp_read_bool(r, AT(obj, f->off, bool));
		break;
	}
}

/* obj must be zeroed by the caller. On error it is closed again. */
static int
decode(const struct doctype *t, const uint8_t *in, size_t len, void *obj,
    char *errmsg)
{
	struct cs_mp_in r;
	uint64_t seen = 0;
	size_t n;

	cs_mp_in_init(&r, in, len, errmsg);
	cs_mp_read_map(&r, 64, &n);
	for (size_t i = 0; i < n && r.err == 0; i++) {
		struct cs_bytes key;
		size_t k;

		cs_mp_read_str(&r, 64, &key);
		if (r.err != 0)
			break;
		for (k = 0; k < t->nfields; k++) {
			if (cs_bytes_eq(key, t->fields[k].name))
				break;
		}
		if (k == t->nfields) {
			cs_mp_skip(&r); /* a newer node's field */
			continue;
		}
		if (seen & (1ULL << k)) {
			cs_mp_fail(&r, "duplicate field");
			break;
		}
		seen |= 1ULL << k;
		read_field(&r, &t->fields[k], obj);
		if (r.err != 0)
			cs_errmsg_wrapf(errmsg, "%s", t->fields[k].name);
	}
	if (r.err == 0 && !cs_mp_done(&r))
		cs_mp_fail(&r, "trailing bytes");
	for (size_t k = 0; r.err == 0 && k < t->nfields; k++) {
		if (t->fields[k].required && !(seen & (1ULL << k))) {
			r.err = CS_EINVAL;
			cs_errmsg_printf(errmsg, "missing field %s",
			    t->fields[k].name);
		}
	}
	if (r.err != 0) {
		close_doc(t, obj);
		cs_errmsg_wrapf(errmsg, "%s document", t->name);
		return CS_EINVAL;
	}
	return 0;
}

#define DOC_FUNCS(prefix, stype, type)                                         \
	int prefix##_encode(const stype *p, struct cs_buf *out)                \
	{                                                                      \
		return encode(&type, p, out);                                  \
	}                                                                      \
	int prefix##_decode(const uint8_t *in, size_t len, stype *out,         \
	    char *errmsg)                                                      \
	{                                                                      \
		memset(out, 0, sizeof *out);                                   \
		return decode(&type, in, len, out, errmsg);                    \
	}

DOC_FUNCS(cs_profile, struct cs_profile, profile_type)
DOC_FUNCS(cs_issuer, struct cs_issuer, issuer_type)
DOC_FUNCS(cs_crl_state, struct cs_crl_state, crl_type)
DOC_FUNCS(cs_member, struct cs_member, member_type)
DOC_FUNCS(cs_role, struct cs_role_binding, role_type)
DOC_FUNCS(cs_notify, struct cs_notify, notify_type)

void
cs_profile_close(struct cs_profile *p)
{
	close_doc(&profile_type, p);
}

void
cs_issuer_close(struct cs_issuer *p)
{
	close_doc(&issuer_type, p);
}

void
cs_member_close(struct cs_member *p)
{
	close_doc(&member_type, p);
}

void
cs_role_close(struct cs_role_binding *p)
{
	close_doc(&role_type, p);
}

void
cs_notify_close(struct cs_notify *p)
{
	close_doc(&notify_type, p);
}

/* The largest document struct, so cs_doc_validate() needs no malloc. */
union any_doc {
	struct cs_profile profile;
	struct cs_issuer issuer;
	struct cs_crl_state crl;
	struct cs_member member;
	struct cs_role_binding role;
	struct cs_notify notify;
};

int
cs_doc_validate(enum cs_ns ns, const uint8_t *value, size_t len, char *errmsg)
{
	static const struct doctype *const types[CS_NS__MAX] = {
	    [CS_NS_PROFILE] = &profile_type,
	    [CS_NS_ISSUER] = &issuer_type,
	    [CS_NS_CRL] = &crl_type,
	    [CS_NS_MEMBER] = &member_type,
	    [CS_NS_ROLE] = &role_type,
	    [CS_NS_NOTIFY] = &notify_type,
	};
	union any_doc d;
	struct cs_mp_in r;
	int rc;

	if ((int)ns <= 0 || ns >= CS_NS__MAX) {
		cs_errmsg_printf(errmsg, "unknown namespace %d", (int)ns);
		return CS_EINVAL;
	}
	if (types[ns] == NULL) {
		/* protocol state: any well-formed map */
		cs_mp_in_init(&r, value, len, errmsg);
		if (len == 0 || (value[0] & 0xf0) != 0x80) {
			if (len == 0 || (value[0] != 0xde && value[0] != 0xdf))
				cs_mp_fail(&r, "expected a map");
		}
		cs_mp_skip(&r);
		if (r.err == 0 && !cs_mp_done(&r))
			cs_mp_fail(&r, "trailing bytes");
		return r.err == 0 ? 0 : CS_EINVAL;
	}
	memset(&d, 0, sizeof d);
	rc = decode(types[ns], value, len, &d, errmsg);
	if (rc < 0)
		return rc;
	/* what a profile says must make sense, not only parse */
	if (ns == CS_NS_PROFILE)
		rc = cs_profile_validate(&d.profile, errmsg);
	close_doc(types[ns], &d);
	return rc;
}
