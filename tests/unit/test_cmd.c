/* test_cmd.c - the log entry codec and the FSM transition (cert/cmd). */
#include <check.h>
#include <msgpack.h>
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

static void
setup(void)
{
	ca = cs_test_ca_new("Test Root", CS_TEST_P256, NULL);
	st = cs_store_new();
}

static void
teardown(void)
{
	cs_store_free(st);
	cs_test_ca_free(ca);
}

/* A leaf from the test CA; *len set; free() the result. */
static uint8_t *
leaf(const char *cn, EVP_PKEY *key, size_t *len)
{
	const char *dns[] = {cn, NULL};
	struct cs_test_leaf l = {.cn = cn, .dns = dns, .key = key};

	return cs_test_issue(ca, &l, len, NULL);
}

static void
fp_of(const uint8_t *der, size_t len, uint8_t fp[32])
{
	struct cs_cert_info *ci = NULL;

	ck_assert_int_eq(cs_x509_parse_der(der, len, &ci, NULL), 0);
	memcpy(fp, ci->fingerprint, 32);
	cs_cert_info_free(ci);
}

/* ---- codec ---- */

static uint8_t der_a[] = {0x30, 0x03, 0x02, 0x01, 0x07};

/* One command of every type with every field set. */
static void
make_cmd(int i, struct cs_cmd *c)
{
	static const char *const tags[] = {"site=a", "class=pump"};

	cs_test_cmd_init(c, (enum cs_cmd_type)(i + 1), 1700000000 + i);
	switch (c->type) {
	case CS_CMD_IMPORT:
		c->u.import.n = 2;
		c->u.import.der[0].p = der_a;
		c->u.import.der[0].len = sizeof der_a;
		c->u.import.der[1] = c->u.import.der[0];
		c->u.import.source = CS_SOURCE_EST;
		c->u.import.location = CS_KEYLOC_HSM;
		c->u.import.profile = cs_test_bytes("default");
		c->u.import.owner = cs_test_bytes("cardiology");
		c->u.import.ntags = 2;
		c->u.import.tags[0] = cs_test_bytes(tags[0]);
		c->u.import.tags[1] = cs_test_bytes(tags[1]);
		break;
	case CS_CMD_REVOKE:
		memset(c->u.revoke.fp, 0xab, 32);
		c->u.revoke.reason = CS_REASON_SUPERSEDED;
		c->u.revoke.invalidity_date = -5;
		break;
	case CS_CMD_UNREVOKE:
		memset(c->u.revoke.fp, 0xcd, 32);
		break;
	case CS_CMD_REVOKE_KEY:
		memset(c->u.revoke_key.key_id, 0x11, 32);
		c->u.revoke_key.reason = CS_REASON_KEY_COMPROMISE;
		break;
	case CS_CMD_REVOKE_BULK:
		c->u.bulk.selector = CS_BULK_TAG;
		c->u.bulk.value = cs_test_bytes("site=a");
		c->u.bulk.reason = CS_REASON_CESSATION;
		break;
	case CS_CMD_KEY_STATE:
		memset(c->u.key_state.key_id, 0x22, 32);
		c->u.key_state.state = CS_KEY_DESTROYED;
		c->u.key_state.location = CS_KEYLOC_KEEP;
		break;
	case CS_CMD_SET_META:
		memset(c->u.meta.fp, 0x33, 32);
		c->u.meta.set_owner = true;
		c->u.meta.owner = cs_test_bytes("radiology");
		c->u.meta.set_tags = false;
		break;
	case CS_CMD_DOC_PUT:
		c->u.doc.ns = CS_NS_ROLE;
		c->u.doc.key = cs_test_bytes("CN=alice");
		c->u.doc.value = cs_test_bytes("\x81\xa4"
					       "role"
					       "\xa5"
					       "admin");
		break;
	case CS_CMD_DOC_DEL:
		c->u.doc.ns = CS_NS_PROFILE;
		c->u.doc.key = cs_test_bytes("default");
		break;
	case CS_CMD_CRL_PUBLISH:
		c->u.crl.issuer = cs_test_bytes("local-ca");
		c->u.crl.number = 7;
		c->u.crl.this_update = 100;
		c->u.crl.next_update = 200;
		c->u.crl.delta_base = 5;
		break;
	default:
		break;
	}
}

static bool
bytes_eq(struct cs_bytes a, struct cs_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

START_TEST(test_cmd_encode_round_trip)
{
	struct cs_cmd in;
	struct cs_cmd_decoded *d = NULL;
	const struct cs_cmd *out;
	size_t len;
	uint8_t *e;
	char err[CS_ERRMSG_SIZE] = "";

	make_cmd(_i, &in);
	e = cs_test_encode(&in, &len);
	ck_assert_uint_eq(len % 8, 0);
	ck_assert_int_eq(cs_cmd_decode(e, len, &d, err), 0);
	out = cs_cmd_decoded_get(d);
	ck_assert_int_eq(out->type, in.type);
	ck_assert_mem_eq(out->request_id, in.request_id, 16);
	ck_assert(bytes_eq(out->actor, in.actor));
	ck_assert_int_eq(out->time, in.time);
	switch (in.type) {
	case CS_CMD_IMPORT:
		ck_assert_uint_eq(out->u.import.n, 2);
		ck_assert(bytes_eq(out->u.import.der[1], in.u.import.der[1]));
		ck_assert_uint_eq(out->u.import.source, CS_SOURCE_EST);
		ck_assert_uint_eq(out->u.import.location, CS_KEYLOC_HSM);
		ck_assert(bytes_eq(out->u.import.owner, in.u.import.owner));
		ck_assert(bytes_eq(out->u.import.profile, in.u.import.profile));
		ck_assert_uint_eq(out->u.import.ntags, 2);
		ck_assert(bytes_eq(out->u.import.tags[1], in.u.import.tags[1]));
		break;
	case CS_CMD_REVOKE:
		ck_assert_mem_eq(out->u.revoke.fp, in.u.revoke.fp, 32);
		ck_assert_uint_eq(out->u.revoke.reason, in.u.revoke.reason);
		ck_assert_int_eq(out->u.revoke.invalidity_date, -5);
		break;
	case CS_CMD_UNREVOKE:
		ck_assert_mem_eq(out->u.revoke.fp, in.u.revoke.fp, 32);
		break;
	case CS_CMD_REVOKE_KEY:
		ck_assert_mem_eq(out->u.revoke_key.key_id,
		    in.u.revoke_key.key_id, 32);
		ck_assert_uint_eq(out->u.revoke_key.reason, 1);
		break;
	case CS_CMD_REVOKE_BULK:
		ck_assert_uint_eq(out->u.bulk.selector, CS_BULK_TAG);
		ck_assert(bytes_eq(out->u.bulk.value, in.u.bulk.value));
		ck_assert_uint_eq(out->u.bulk.reason, CS_REASON_CESSATION);
		break;
	case CS_CMD_KEY_STATE:
		ck_assert_uint_eq(out->u.key_state.state, CS_KEY_DESTROYED);
		ck_assert_uint_eq(out->u.key_state.location, CS_KEYLOC_KEEP);
		break;
	case CS_CMD_SET_META:
		ck_assert(out->u.meta.set_owner);
		ck_assert(!out->u.meta.set_tags);
		ck_assert(bytes_eq(out->u.meta.owner, in.u.meta.owner));
		break;
	case CS_CMD_DOC_PUT:
	case CS_CMD_DOC_DEL:
		ck_assert_uint_eq(out->u.doc.ns, in.u.doc.ns);
		ck_assert(bytes_eq(out->u.doc.key, in.u.doc.key));
		ck_assert(bytes_eq(out->u.doc.value, in.u.doc.value));
		break;
	case CS_CMD_CRL_PUBLISH:
		ck_assert(bytes_eq(out->u.crl.issuer, in.u.crl.issuer));
		ck_assert_uint_eq(out->u.crl.number, 7);
		ck_assert_int_eq(out->u.crl.this_update, 100);
		ck_assert_int_eq(out->u.crl.next_update, 200);
		ck_assert_uint_eq(out->u.crl.delta_base, 5);
		break;
	default:
		ck_abort_msg("type not covered");
	}
	cs_cmd_decoded_close(d);
	free(e);
}
END_TEST

START_TEST(test_cmd_encode_pads_to_8)
{
	char actor[64];

	for (size_t n = 0; n < sizeof actor; n++) {
		struct cs_cmd c;
		size_t len;
		uint8_t *e;
		uint32_t payload;

		memset(actor, 'a', n);
		actor[n] = '\0';
		make_cmd(1, &c);
		c.actor = cs_test_bytes(actor);
		e = cs_test_encode(&c, &len);
		ck_assert_uint_eq(len % 8, 0);
		memcpy(&payload, e, 4);
		ck_assert_uint_lt(len - 8 - payload, 8);
		for (size_t i = 8 + payload; i < len; i++)
			ck_assert_uint_eq(e[i], 0);
		free(e);
	}
}
END_TEST

START_TEST(test_cmd_encode_rejects_invalid)
{
	struct cs_cmd c;
	struct cs_buf b;

	cs_buf_init(&b, CS_CMD_MAX_ENTRY);
	make_cmd(0, &c);
	c.u.import.n = 0;
	ck_assert_int_eq(cs_cmd_encode(&c, &b), CS_EINVAL);
	c.u.import.n = CS_CMD_MAX_CERTS + 1;
	ck_assert_int_eq(cs_cmd_encode(&c, &b), CS_EINVAL);
	c.type = (enum cs_cmd_type)0;
	ck_assert_int_eq(cs_cmd_encode(&c, &b), CS_EINVAL);
	ck_assert_uint_eq(b.len, 0);
	/* over the buffer's cap: CS_ETOOBIG and out unchanged */
	cs_buf_close(&b);
	cs_buf_init(&b, 16);
	make_cmd(1, &c);
	ck_assert_int_eq(cs_cmd_encode(&c, &b), CS_ETOOBIG);
	ck_assert_uint_eq(b.len, 0);
	cs_buf_close(&b);
}
END_TEST

/* Frames a raw msgpack payload as an entry (free() the result). */
static uint8_t *
frame(const void *payload, size_t plen, uint32_t version, size_t *len)
{
	size_t n = (8 + plen + 7) / 8 * 8;
	uint8_t *e = calloc(1, n + 8);
	uint32_t p32 = (uint32_t)plen;

	memcpy(e, &p32, 4);
	memcpy(e + 4, &version, 4);
	memcpy(e + 8, payload, plen);
	*len = n;
	return e;
}

static int
decode_raw(const void *payload, size_t plen)
{
	struct cs_cmd_decoded *d = NULL;
	size_t len;
	uint8_t *e = frame(payload, plen, CS_CMD_FORMAT, &len);
	char err[CS_ERRMSG_SIZE] = "";
	int rc = cs_cmd_decode(e, len, &d, err);

	if (rc == 0)
		cs_cmd_decoded_close(d);
	else
		ck_assert_msg(err[0] != '\0', "no message for a bad entry");
	free(e);
	return rc;
}

START_TEST(test_cmd_decode_rejects_bad_frames)
{
	struct cs_cmd c;
	struct cs_cmd_decoded *d = NULL;
	size_t len;
	uint8_t *e;
	char err[CS_ERRMSG_SIZE];

	make_cmd(1, &c);
	e = cs_test_encode(&c, &len);
	/* too short, not a multiple of 8 */
	ck_assert_int_eq(cs_cmd_decode(e, 4, &d, err), CS_EPROTO);
	ck_assert_int_eq(cs_cmd_decode(e, len - 3, &d, err), CS_EPROTO);
	ck_assert_int_eq(cs_cmd_decode(e, len + 8, &d, err), CS_EPROTO);
	/* unknown format version */
	e[4] = 2;
	ck_assert_int_eq(cs_cmd_decode(e, len, &d, err), CS_EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "version"));
	e[4] = CS_CMD_FORMAT;
	/* payload length beyond the entry */
	e[0] = (uint8_t)(e[0] + 8);
	ck_assert_int_eq(cs_cmd_decode(e, len, &d, err), CS_EPROTO);
	e[0] = (uint8_t)(e[0] - 8);
	/* non-zero padding (only if this entry has padding) */
	{
		uint32_t payload;

		memcpy(&payload, e, 4);
		if (8 + payload < len) {
			e[len - 1] = 1;
			ck_assert_int_eq(cs_cmd_decode(e, len, &d, err),
			    CS_EPROTO);
			e[len - 1] = 0;
		}
	}
	ck_assert_int_eq(cs_cmd_decode(e, len, &d, err), 0);
	cs_cmd_decoded_close(d);
	free(e);
}
END_TEST

START_TEST(test_cmd_decode_rejects_every_truncation)
{
	struct cs_cmd c;
	size_t len;
	uint8_t *e;
	uint32_t payload;

	make_cmd(_i, &c);
	e = cs_test_encode(&c, &len);
	memcpy(&payload, e, 4);
	for (size_t cut = 0; cut < payload; cut++)
		ck_assert_int_eq(decode_raw(e + 8, cut), CS_EPROTO);
	ck_assert_int_eq(decode_raw(e + 8, payload), 0);
	free(e);
}
END_TEST

/* Packs a REVOKE-shaped command with the given pieces. */
struct raw {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void
raw_init(struct raw *r)
{
	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void
raw_head(struct raw *r, size_t n, uint64_t type)
{
	uint8_t id[16] = {1};

	msgpack_pack_array(&r->pk, n);
	msgpack_pack_uint64(&r->pk, type);
	msgpack_pack_bin_with_body(&r->pk, id, 16);
	msgpack_pack_str_with_body(&r->pk, "a", 1);
	msgpack_pack_int64(&r->pk, 5);
}

static int
raw_decode(struct raw *r)
{
	int rc = decode_raw(r->sb.data, r->sb.size);

	msgpack_sbuffer_destroy(&r->sb);
	return rc;
}

START_TEST(test_cmd_decode_rejects_wrong_types)
{
	struct raw r;
	uint8_t fp[32] = {0};
	uint8_t id15[15] = {1};

	/* the good shape decodes */
	raw_init(&r);
	raw_head(&r, 7, CS_CMD_REVOKE);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	msgpack_pack_uint8(&r.pk, 1);
	msgpack_pack_int64(&r.pk, 0);
	ck_assert_int_eq(raw_decode(&r), 0);
	/* fingerprint as a string */
	raw_init(&r);
	raw_head(&r, 7, CS_CMD_REVOKE);
	msgpack_pack_str_with_body(&r.pk, (const char *)fp, 32);
	msgpack_pack_uint8(&r.pk, 1);
	msgpack_pack_int64(&r.pk, 0);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* fingerprint of 31 bytes */
	raw_init(&r);
	raw_head(&r, 7, CS_CMD_REVOKE);
	msgpack_pack_bin_with_body(&r.pk, fp, 31);
	msgpack_pack_uint8(&r.pk, 1);
	msgpack_pack_int64(&r.pk, 0);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* reason negative */
	raw_init(&r);
	raw_head(&r, 7, CS_CMD_REVOKE);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	msgpack_pack_int8(&r.pk, -1);
	msgpack_pack_int64(&r.pk, 0);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* one argument missing, one too many */
	raw_init(&r);
	raw_head(&r, 6, CS_CMD_REVOKE);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	msgpack_pack_uint8(&r.pk, 1);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	raw_init(&r);
	raw_head(&r, 8, CS_CMD_REVOKE);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	msgpack_pack_uint8(&r.pk, 1);
	msgpack_pack_int64(&r.pk, 0);
	msgpack_pack_nil(&r.pk);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* trailing object after the array */
	raw_init(&r);
	raw_head(&r, 7, CS_CMD_REVOKE);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	msgpack_pack_uint8(&r.pk, 1);
	msgpack_pack_int64(&r.pk, 0);
	msgpack_pack_nil(&r.pk);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* unknown type, type 0 */
	raw_init(&r);
	raw_head(&r, 4, 99);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	raw_init(&r);
	raw_head(&r, 4, 0);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* request id of 15 bytes */
	raw_init(&r);
	msgpack_pack_array(&r.pk, 5);
	msgpack_pack_uint64(&r.pk, CS_CMD_UNREVOKE);
	msgpack_pack_bin_with_body(&r.pk, id15, 15);
	msgpack_pack_str_with_body(&r.pk, "a", 1);
	msgpack_pack_int64(&r.pk, 5);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* actor with a NUL byte, actor as an integer */
	raw_init(&r);
	msgpack_pack_array(&r.pk, 5);
	msgpack_pack_uint64(&r.pk, CS_CMD_UNREVOKE);
	msgpack_pack_bin_with_body(&r.pk, fp, 16);
	msgpack_pack_str_with_body(&r.pk, "a\0b", 3);
	msgpack_pack_int64(&r.pk, 5);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	raw_init(&r);
	msgpack_pack_array(&r.pk, 5);
	msgpack_pack_uint64(&r.pk, CS_CMD_UNREVOKE);
	msgpack_pack_bin_with_body(&r.pk, fp, 16);
	msgpack_pack_int64(&r.pk, 7);
	msgpack_pack_int64(&r.pk, 5);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* not an array at all */
	raw_init(&r);
	msgpack_pack_map(&r.pk, 0);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
}
END_TEST

START_TEST(test_cmd_decode_rejects_oversized_counts)
{
	struct raw r;
	static const uint8_t huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	uint8_t fp[32] = {0};

	/* an array header claiming 4 billion elements in 5 bytes */
	ck_assert_int_eq(decode_raw(huge_array, sizeof huge_array), CS_EPROTO);
	/* an import of MAX_CERTS + 1 certificates */
	raw_init(&r);
	raw_head(&r, 10, CS_CMD_IMPORT);
	msgpack_pack_array(&r.pk, CS_CMD_MAX_CERTS + 1);
	for (int i = 0; i < CS_CMD_MAX_CERTS + 1; i++)
		msgpack_pack_bin_with_body(&r.pk, der_a, sizeof der_a);
	msgpack_pack_uint8(&r.pk, 0);
	msgpack_pack_str_with_body(&r.pk, "", 0);
	msgpack_pack_str_with_body(&r.pk, "", 0);
	msgpack_pack_array(&r.pk, 0);
	msgpack_pack_uint8(&r.pk, 0);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* a tag list of MAX_TAGS + 1 */
	raw_init(&r);
	raw_head(&r, 7, CS_CMD_SET_META);
	msgpack_pack_bin_with_body(&r.pk, fp, 32);
	msgpack_pack_nil(&r.pk);
	msgpack_pack_array(&r.pk, CS_CMD_MAX_TAGS + 1);
	for (int i = 0; i < CS_CMD_MAX_TAGS + 1; i++)
		msgpack_pack_str_with_body(&r.pk, "t", 1);
	ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
	/* a string longer than the cap */
	{
		char *big = malloc(CS_CMD_MAX_STR + 1);

		memset(big, 'x', CS_CMD_MAX_STR + 1);
		raw_init(&r);
		raw_head(&r, 7, CS_CMD_REVOKE_BULK);
		msgpack_pack_uint8(&r.pk, 0);
		msgpack_pack_str_with_body(&r.pk, big, CS_CMD_MAX_STR + 1);
		msgpack_pack_uint8(&r.pk, 0);
		ck_assert_int_eq(raw_decode(&r), CS_EPROTO);
		free(big);
	}
}
END_TEST

/* ---- apply ---- */

START_TEST(test_cmd_apply_import_adds_once)
{
	struct cs_result res;
	size_t len;
	uint8_t *der = leaf("pump-1.site-a.hospital.test", NULL, &len);
	const char *tags[] = {"site=a", NULL};
	const struct cs_cert *c;
	uint8_t fp[32];

	fp_of(der, len, fp);
	ck_assert_int_eq(cs_test_import(st, der, len, "cardiology", tags, &res),
	    0);
	ck_assert_uint_eq(res.count, 1);
	ck_assert_uint_eq(res.count2, 0);
	ck_assert_uint_eq(res.index, 1);
	ck_assert_mem_eq(res.fingerprint, fp, 32);
	ck_assert_uint_eq(cs_store_cert_count(st), 1);
	ck_assert_uint_eq(cs_store_key_count(st), 1);
	c = cs_store_get_fp(st, fp);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(cs_cert_owner(c), "cardiology");
	ck_assert_uint_eq(c->created_index, 1);
	ck_assert_ptr_nonnull(cs_store_get_key(st, c->key_id));
	/* the same certificate again: present, nothing added */
	ck_assert_int_eq(cs_test_import(st, der, len, "other", NULL, &res), 0);
	ck_assert_uint_eq(res.count, 0);
	ck_assert_uint_eq(res.count2, 1);
	ck_assert_ptr_eq(cs_store_get_fp(st, fp), c);
	ck_assert_str_eq(cs_cert_owner(c), "cardiology");
	free(der);
}
END_TEST

START_TEST(test_cmd_apply_import_bad_der_changes_nothing)
{
	struct cs_cmd c;
	struct cs_result res;
	size_t l1, l2;
	uint8_t *d1 = leaf("a.test", NULL, &l1);
	uint8_t *d2 = leaf("b.test", NULL, &l2);
	ck_assert_int_eq(cs_test_import(st, d1, l1, NULL, NULL, NULL), 0);
	cs_test_cmd_init(&c, CS_CMD_IMPORT, 1);
	c.u.import.n = 3;
	c.u.import.der[0].p = d2;
	c.u.import.der[0].len = l2;
	c.u.import.der[1].p = der_a; /* not a certificate */
	c.u.import.der[1].len = sizeof der_a;
	c.u.import.der[2].p = d2;
	c.u.import.der[2].len = l2 - 1; /* truncated */
	ck_assert_uint_eq(cs_store_cert_count(st), 1);
	ck_assert_int_eq(cs_test_apply(st, &c, &res), CS_EINVAL);
	ck_assert_uint_eq(res.count, 0);
	ck_assert_uint_eq(cs_store_cert_count(st), 1);
	ck_assert_uint_eq(cs_store_key_count(st), 1);
	/* the bad command left a trace in the audit chain only */
	ck_assert_uint_eq(cs_audit_count(st), 2);
	ck_assert_int_eq(cs_audit_get(st, 1)->rc, CS_EINVAL);
	free(d1);
	free(d2);
}
END_TEST

START_TEST(test_cmd_apply_import_bundle_with_duplicate)
{
	struct cs_cmd c;
	struct cs_result res;
	size_t l1, l2;
	uint8_t *d1 = leaf("a.test", NULL, &l1);
	uint8_t *d2 = leaf("b.test", NULL, &l2);

	cs_test_cmd_init(&c, CS_CMD_IMPORT, 1);
	c.u.import.n = 3;
	c.u.import.der[0] = (struct cs_bytes){d1, l1};
	c.u.import.der[1] = (struct cs_bytes){d2, l2};
	c.u.import.der[2] = (struct cs_bytes){d1, l1};
	ck_assert_int_eq(cs_test_apply(st, &c, &res), 0);
	ck_assert_uint_eq(res.count, 2);
	ck_assert_uint_eq(res.count2, 1);
	ck_assert_uint_eq(cs_store_cert_count(st), 2);
	ck_assert_uint_eq(cs_store_cert(st, 1)->seq, 1);
	ck_assert_uint_eq(cs_store_cert(st, 2)->seq, 2);
	free(d1);
	free(d2);
}
END_TEST

struct crl_seen {
	size_t n;
	int last_reason;
};

static void
crl_seen_fn(void *arg, const struct cs_cert *c)
{
	struct crl_seen *seen = arg;

	seen->n++;
	seen->last_reason = c->reason;
}

START_TEST(test_cmd_apply_revoke_rules)
{
	size_t len;
	uint8_t *der = leaf("a.test", NULL, &len);
	uint8_t fp[32], unknown[32];
	const struct cs_cert *c, *before;
	struct cs_cmd cmd;

	fp_of(der, len, fp);
	memset(unknown, 0x5a, 32);
	cs_test_import(st, der, len, NULL, NULL, NULL);
	ck_assert_int_eq(cs_test_revoke(st, unknown, 1, 10), CS_ENOTFOUND);
	ck_assert_int_eq(cs_test_revoke(st, fp, 7, 10), CS_EINVAL);
	ck_assert_int_eq(cs_test_revoke(st, fp, CS_REASON_REMOVE_FROM_CRL, 10),
	    CS_EINVAL);
	ck_assert_int_eq(cs_test_revoke(st, fp, 11, 10), CS_EINVAL);
	before = cs_store_get_fp(st, fp);
	ck_assert_int_eq(before->status, CS_STATUS_VALID);
	/* hold, then lift the hold */
	ck_assert_int_eq(cs_test_revoke(st, fp, CS_REASON_CERTIFICATE_HOLD,
			     1000),
	    0);
	c = cs_store_get_fp(st, fp);
	ck_assert_int_eq(c->status, CS_STATUS_REVOKED);
	ck_assert_int_eq(c->reason, CS_REASON_CERTIFICATE_HOLD);
	ck_assert_int_eq(c->revoked_at, 1000);
	ck_assert_uint_eq(c->updated_index, cs_store_applied_index(st));
	ck_assert_uint_eq(cs_store_revocation_index(st),
	    cs_store_applied_index(st));
	ck_assert_uint_eq(cs_store_revoked_count(st), 1);
	cs_test_cmd_init(&cmd, CS_CMD_UNREVOKE, 1100);
	memcpy(cmd.u.revoke.fp, fp, 32);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	c = cs_store_get_fp(st, fp);
	ck_assert_int_eq(c->status, CS_STATUS_VALID);
	/* a released hold remembers removeFromCRL and when, for delta CRLs */
	ck_assert_int_eq(c->reason, CS_REASON_REMOVE_FROM_CRL);
	ck_assert_int_eq(c->revoked_at, 1100);
	ck_assert_uint_eq(cs_store_revoked_count(st), 0);
	{
		struct crl_seen seen = {0};

		cs_store_crl_entries(st, cs_cert_issuer(c), 0, crl_seen_fn,
		    &seen);
		ck_assert_uint_eq(seen.n, 0); /* not on a full CRL */
		cs_store_crl_entries(st, cs_cert_issuer(c),
		    c->updated_index - 1, crl_seen_fn, &seen);
		ck_assert_uint_eq(seen.n, 1); /* on a delta after the hold */
		ck_assert_int_eq(seen.last_reason, CS_REASON_REMOVE_FROM_CRL);
		seen.n = 0;
		cs_store_crl_entries(st, cs_cert_issuer(c), c->updated_index,
		    crl_seen_fn, &seen);
		ck_assert_uint_eq(seen.n, 0); /* not on a later delta */
		cs_store_crl_entries(st, "CN=another issuer",
		    c->updated_index - 1, crl_seen_fn, &seen);
		ck_assert_uint_eq(seen.n, 0);
	}
	/* unrevoke of a valid certificate */
	cs_test_cmd_init(&cmd, CS_CMD_UNREVOKE, 1100);
	memcpy(cmd.u.revoke.fp, fp, 32);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ECONFLICT);
	/* hold, then a permanent reason replaces it */
	ck_assert_int_eq(cs_test_revoke(st, fp, CS_REASON_CERTIFICATE_HOLD,
			     1200),
	    0);
	ck_assert_int_eq(cs_test_revoke(st, fp, CS_REASON_CERTIFICATE_HOLD,
			     1250),
	    CS_ECONFLICT);
	ck_assert_int_eq(cs_test_revoke(st, fp, CS_REASON_KEY_COMPROMISE, 1300),
	    0);
	c = cs_store_get_fp(st, fp);
	ck_assert_int_eq(c->reason, CS_REASON_KEY_COMPROMISE);
	ck_assert_int_eq(c->revoked_at, 1300);
	/* revoked for good: no second revocation, no unrevoke */
	ck_assert_int_eq(cs_test_revoke(st, fp, CS_REASON_SUPERSEDED, 1400),
	    CS_ECONFLICT);
	cs_test_cmd_init(&cmd, CS_CMD_UNREVOKE, 1500);
	memcpy(cmd.u.revoke.fp, fp, 32);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ECONFLICT);
	ck_assert_ptr_eq(cs_store_get_fp(st, fp), c); /* no new version */
	free(der);
}
END_TEST

START_TEST(test_cmd_apply_revoke_key_revokes_every_user)
{
	EVP_PKEY *shared = cs_test_key_new(CS_TEST_P256);
	size_t l1, l2, l3, l4;
	uint8_t *d1 = leaf("a.test", shared, &l1);
	uint8_t *d2 = leaf("b.test", shared, &l2);
	uint8_t *d3 = leaf("c.test", NULL, &l3);
	uint8_t *d4 = leaf("d.test", shared, &l4);
	const struct cs_cert *c1;
	const struct cs_key *k;
	struct cs_cmd cmd;
	struct cs_result res;
	uint8_t fp[32];

	cs_test_import(st, d1, l1, NULL, NULL, NULL);
	cs_test_import(st, d2, l2, NULL, NULL, NULL);
	cs_test_import(st, d3, l3, NULL, NULL, NULL);
	ck_assert_uint_eq(cs_store_key_count(st), 2);
	c1 = cs_store_cert(st, 1);
	cs_test_cmd_init(&cmd, CS_CMD_REVOKE_KEY, 5000);
	memcpy(cmd.u.revoke_key.key_id, c1->key_id, 32);
	cmd.u.revoke_key.reason = CS_REASON_KEY_COMPROMISE;
	cmd.actor = cs_test_bytes("CN=operator");
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	ck_assert_uint_eq(res.count, 2);
	ck_assert_int_eq(cs_store_cert(st, 1)->status, CS_STATUS_REVOKED);
	ck_assert_int_eq(cs_store_cert(st, 2)->status, CS_STATUS_REVOKED);
	ck_assert_int_eq(cs_store_cert(st, 3)->status, CS_STATUS_VALID);
	ck_assert_int_eq(cs_store_cert(st, 2)->reason,
	    CS_REASON_KEY_COMPROMISE);
	k = cs_store_get_key(st, cs_store_cert(st, 1)->key_id);
	ck_assert_int_eq(k->state, CS_KEY_COMPROMISED);
	ck_assert_int_eq(k->state_time, 5000);
	ck_assert_str_eq(cs_key_actor(k), "CN=operator");
	/* a certificate imported later with the compromised key is revoked
	 * on arrival */
	cs_test_import(st, d4, l4, NULL, NULL, NULL);
	fp_of(d4, l4, fp);
	ck_assert_int_eq(cs_store_get_fp(st, fp)->status, CS_STATUS_REVOKED);
	/* again: nothing left to revoke, still success */
	cs_test_cmd_init(&cmd, CS_CMD_REVOKE_KEY, 6000);
	memcpy(cmd.u.revoke_key.key_id, k->key_id, 32);
	cmd.u.revoke_key.reason = CS_REASON_KEY_COMPROMISE;
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	ck_assert_uint_eq(res.count, 0);
	/* unknown key */
	memset(cmd.u.revoke_key.key_id, 0x42, 32);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ENOTFOUND);
	EVP_PKEY_free(shared);
	free(d1);
	free(d2);
	free(d3);
	free(d4);
}
END_TEST

START_TEST(test_cmd_apply_bulk_by_owner_tag_issuer)
{
	const char *tag_a[] = {"site=a", NULL};
	const char *tag_b[] = {"site=b", NULL};
	struct cs_cmd cmd;
	struct cs_result res;
	char cn[32];

	for (int i = 0; i < 9; i++) {
		size_t len;
		uint8_t *d;

		snprintf(cn, sizeof cn, "dev%d.test", i);
		d = leaf(cn, NULL, &len);
		cs_test_import(st, d, len, i < 3 ? "icu" : "lab",
		    i % 2 ? tag_a : tag_b, NULL);
		free(d);
	}
	cs_test_cmd_init(&cmd, CS_CMD_REVOKE_BULK, 10);
	cmd.u.bulk.selector = CS_BULK_OWNER;
	cmd.u.bulk.value = cs_test_bytes("icu");
	cmd.u.bulk.reason = CS_REASON_CESSATION;
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	ck_assert_uint_eq(res.count, 3);
	cs_test_cmd_init(&cmd, CS_CMD_REVOKE_BULK, 11);
	cmd.u.bulk.selector = CS_BULK_TAG;
	cmd.u.bulk.value = cs_test_bytes("site=a");
	cmd.u.bulk.reason = CS_REASON_AFFILIATION_CHANGED;
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	ck_assert_uint_eq(res.count, 3); /* 4 tagged, dev1 already revoked */
	cs_test_cmd_init(&cmd, CS_CMD_REVOKE_BULK, 12);
	cmd.u.bulk.selector = CS_BULK_ISSUER;
	cmd.u.bulk.value = cs_test_bytes("CN=Test Root");
	cmd.u.bulk.reason = CS_REASON_CA_COMPROMISE;
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	ck_assert_uint_eq(res.count, 3);
	ck_assert_uint_eq(cs_store_revoked_count(st), 9);
	/* nothing matches: zero, not an error; empty value is an error */
	cmd.u.bulk.value = cs_test_bytes("CN=Nobody");
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	ck_assert_uint_eq(res.count, 0);
	cmd.u.bulk.value = cs_test_bytes("");
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), CS_EINVAL);
}
END_TEST

START_TEST(test_cmd_apply_key_state_transitions)
{
	size_t len;
	uint8_t *d = leaf("a.test", NULL, &len);
	struct cs_cmd cmd;
	const struct cs_key *k;
	uint8_t key_id[32];

	cs_test_import(st, d, len, NULL, NULL, NULL);
	memcpy(key_id, cs_store_cert(st, 1)->key_id, 32);
	cs_test_cmd_init(&cmd, CS_CMD_KEY_STATE, 100);
	memcpy(cmd.u.key_state.key_id, key_id, 32);
	cmd.u.key_state.location = CS_KEYLOC_KEEP;
	/* compromise must go through REVOKE_KEY */
	cmd.u.key_state.state = CS_KEY_COMPROMISED;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_EINVAL);
	/* a location change alone */
	cmd.u.key_state.state = CS_KEY_ACTIVE;
	cmd.u.key_state.location = CS_KEYLOC_DEVICE;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	ck_assert_int_eq(cs_store_get_key(st, key_id)->location,
	    CS_KEYLOC_DEVICE);
	cmd.u.key_state.location = 9;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_EINVAL);
	cmd.u.key_state.location = CS_KEYLOC_KEEP;
	cmd.u.key_state.state = CS_KEY_DESTROYED;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	k = cs_store_get_key(st, key_id);
	ck_assert_int_eq(k->state, CS_KEY_DESTROYED);
	ck_assert_int_eq(k->state_time, 100);
	ck_assert_int_eq(k->location, CS_KEYLOC_DEVICE);
	/* destroyed is final */
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ECONFLICT);
	cmd.u.key_state.state = CS_KEY_ACTIVE;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ECONFLICT);
	memset(cmd.u.key_state.key_id, 1, 32);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ENOTFOUND);
	free(d);
}
END_TEST

START_TEST(test_cmd_apply_set_meta_reindexes)
{
	size_t len;
	uint8_t *d = leaf("a.test", NULL, &len);
	const char *tags[] = {"site=a", "class=pump", NULL};
	struct cs_cmd cmd;
	struct cs_query q;
	const struct cs_cert *out[4];
	size_t n;
	uint32_t next;
	const struct cs_cert *c;

	cs_test_import(st, d, len, "icu", tags, NULL);
	c = cs_store_cert(st, 1);
	cs_test_cmd_init(&cmd, CS_CMD_SET_META, 1);
	memcpy(cmd.u.meta.fp, c->fingerprint, 32);
	cmd.u.meta.set_owner = true;
	cmd.u.meta.owner = cs_test_bytes("lab");
	cmd.u.meta.set_tags = true;
	cmd.u.meta.ntags = 1;
	cmd.u.meta.tags[0] = cs_test_bytes("site=b");
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	cs_query_init(&q, 0);
	q.owner = "icu";
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 0);
	q.owner = "lab";
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 1);
	q.owner = NULL;
	q.tag = "class=pump";
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 0);
	q.tag = "site=b";
	cs_store_search(st, &q, out, &n, &next);
	ck_assert_uint_eq(n, 1);
	/* nil keeps: only the owner changes */
	cmd.u.meta.set_tags = false;
	cmd.u.meta.owner = cs_test_bytes("");
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	c = cs_store_cert(st, 1);
	ck_assert_str_eq(cs_cert_owner(c), "");
	ck_assert_str_eq(cs_cert_list(c, CS_LIST_TAGS, &n), "site=b");
	ck_assert_uint_eq(n, 1);
	memset(cmd.u.meta.fp, 0, 32);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ENOTFOUND);
	free(d);
}
END_TEST

static struct cs_bytes
profile_doc(struct cs_buf *b)
{
	struct cs_profile p;
	char pattern[] = "*.site-a.hospital.test";
	char issuer[] = "local-ca";
	char *dns[] = {pattern, NULL};

	memset(&p, 0, sizeof p);
	p.issuer = issuer;
	p.key_specs = CS_KEYSPEC_P256 | CS_KEYSPEC_RSA2048;
	p.max_validity = 90 * 86400;
	p.rotate_after = 30 * 86400;
	p.allow.dns.n = 1;
	p.allow.dns.v = dns;
	cs_buf_init(b, 1 << 20);
	ck_assert_int_eq(cs_profile_encode(&p, b), 0);
	return (struct cs_bytes){b->data, b->len};
}

START_TEST(test_cmd_apply_documents)
{
	struct cs_cmd cmd;
	struct cs_result res;
	struct cs_buf b;
	struct cs_profile p;
	const uint8_t *v;
	size_t vlen;

	cs_test_cmd_init(&cmd, CS_CMD_DOC_PUT, 1);
	cmd.u.doc.ns = CS_NS_PROFILE;
	cmd.u.doc.key = cs_test_bytes("default");
	cmd.u.doc.value = profile_doc(&b);
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	ck_assert_uint_eq(res.count, 1);
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0); /* new id */
	ck_assert_uint_eq(res.count, 0);                    /* replaced */
	v = cs_store_doc(st, CS_NS_PROFILE, "default", &vlen);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(cs_profile_decode(v, vlen, &p, NULL), 0);
	ck_assert_str_eq(p.issuer, "local-ca");
	ck_assert_int_eq(p.rotate_after, 30 * 86400);
	ck_assert_str_eq(p.allow.dns.v[0], "*.site-a.hospital.test");
	cs_profile_close(&p);
	/* a value that is not a profile, a CRL state put, an empty key */
	cmd.u.doc.value = cs_test_bytes("\x81\xa4"
					"role"
					"\xa5"
					"admin");
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), CS_EINVAL);
	cmd.u.doc.ns = CS_NS_CRL;
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), CS_EINVAL);
	cmd.u.doc.ns = CS_NS_ROLE;
	cmd.u.doc.key = cs_test_bytes("");
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), CS_EINVAL);
	/* protocol state: any map, not a string */
	cmd.u.doc.ns = CS_NS_ACME;
	cmd.u.doc.key = cs_test_bytes("order/1");
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	cmd.u.doc.value = cs_test_bytes("\xa1x");
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), CS_EINVAL);
	/* delete */
	cs_test_cmd_init(&cmd, CS_CMD_DOC_DEL, 2);
	cmd.u.doc.ns = CS_NS_PROFILE;
	cmd.u.doc.key = cs_test_bytes("default");
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), 0);
	ck_assert_ptr_null(cs_store_doc(st, CS_NS_PROFILE, "default", &vlen));
	ck_assert_int_eq(cs_test_apply(st, &cmd, &res), CS_ENOTFOUND);
	cs_buf_close(&b);
}
END_TEST

START_TEST(test_cmd_apply_crl_publish_numbering)
{
	struct cs_cmd cmd;
	struct cs_issuer iss;
	struct cs_buf b;
	struct cs_crl_state cs;
	const uint8_t *v;
	size_t vlen;
	char key_ref[] = "file:/var/lib/certstore/ca.key";
	uint64_t full_at;

	cs_test_cmd_init(&cmd, CS_CMD_CRL_PUBLISH, 1);
	cmd.u.crl.issuer = cs_test_bytes("local-ca");
	cmd.u.crl.number = 1;
	cmd.u.crl.this_update = 1000;
	cmd.u.crl.next_update = 2000;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ENOTFOUND);
	memset(&iss, 0, sizeof iss);
	iss.cert = ca->der;
	iss.cert_len = ca->der_len;
	iss.key_ref = key_ref;
	cs_buf_init(&b, 1 << 20);
	ck_assert_int_eq(cs_issuer_encode(&iss, &b), 0);
	{
		struct cs_cmd put;

		cs_test_cmd_init(&put, CS_CMD_DOC_PUT, 1);
		put.u.doc.ns = CS_NS_ISSUER;
		put.u.doc.key = cs_test_bytes("local-ca");
		put.u.doc.value = (struct cs_bytes){b.data, b.len};
		ck_assert_int_eq(cs_test_apply(st, &put, NULL), 0);
	}
	cs_buf_close(&b);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	full_at = cs_store_applied_index(st);
	ck_assert_uint_eq(cs_store_crl_index(st), full_at);
	/* a delta against the wrong base, a number that does not grow,
	 * next before this */
	cmd.u.crl.number = 2;
	cmd.u.crl.delta_base = 5;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ECONFLICT);
	cmd.u.crl.delta_base = 1;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), 0);
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_ECONFLICT);
	cmd.u.crl.number = 3;
	cmd.u.crl.next_update = 1000;
	ck_assert_int_eq(cs_test_apply(st, &cmd, NULL), CS_EINVAL);
	v = cs_store_doc(st, CS_NS_CRL, "local-ca", &vlen);
	ck_assert_int_eq(cs_crl_state_decode(v, vlen, &cs, NULL), 0);
	ck_assert_uint_eq(cs.number, 2);
	ck_assert_uint_eq(cs.full_number, 1);
	ck_assert_uint_eq(cs.delta_base, 1);
	ck_assert_int_eq(cs.full_next_update, 2000);
	ck_assert_uint_eq(cs.full_index, full_at);
	ck_assert_uint_eq(cs.index, full_at + 2); /* the delta's entry */
	ck_assert_uint_eq(cs_store_crl_index(st), full_at + 2);
}
END_TEST

START_TEST(test_cmd_apply_replayed_id_returns_first_result)
{
	size_t len;
	uint8_t *d = leaf("a.test", NULL, &len);
	struct cs_cmd cmd;
	struct cs_result r1, r2;
	const struct cs_cert *c;
	size_t naudit;

	cs_test_import(st, d, len, NULL, NULL, NULL);
	c = cs_store_cert(st, 1);
	cs_test_cmd_init(&cmd, CS_CMD_REVOKE, 50);
	memcpy(cmd.u.revoke.fp, c->fingerprint, 32);
	cmd.u.revoke.reason = CS_REASON_CERTIFICATE_HOLD;
	ck_assert_int_eq(cs_test_apply_exact(st, &cmd, &r1), 0);
	c = cs_store_cert(st, 1);
	naudit = cs_audit_count(st);
	/* the same request again (a retry after a leader change): the
	 * first outcome, not "already revoked", and no change */
	ck_assert_int_eq(cs_test_apply_exact(st, &cmd, &r2), 0);
	ck_assert_mem_eq(&r1, &r2, sizeof r1);
	ck_assert_uint_eq(r2.index, 2);
	ck_assert_ptr_eq(cs_store_cert(st, 1), c);
	ck_assert_uint_eq(cs_audit_count(st), naudit);
	ck_assert_uint_eq(cs_store_applied_index(st), 3);
	ck_assert_ptr_nonnull(cs_cmd_seen(st, cmd.request_id));
	free(d);
}
END_TEST

START_TEST(test_cmd_apply_dedupe_table_is_bounded)
{
	struct cs_cmd cmd, first;
	uint8_t zero[16] = {0};

	cs_test_cmd_init(&first, CS_CMD_DOC_DEL, 1);
	first.u.doc.ns = CS_NS_ROLE;
	first.u.doc.key = cs_test_bytes("nobody");
	ck_assert_int_eq(cs_test_apply_exact(st, &first, NULL), CS_ENOTFOUND);
	for (int i = 0; i < CS_DEDUPE_MAX - 1; i++) {
		cs_test_cmd_init(&cmd, CS_CMD_DOC_DEL, 1);
		cmd.u.doc = first.u.doc;
		cs_test_apply_exact(st, &cmd, NULL);
	}
	ck_assert_ptr_nonnull(cs_cmd_seen(st, first.request_id));
	cs_test_apply_exact(st, &cmd, NULL); /* a replay: no slot used */
	ck_assert_ptr_nonnull(cs_cmd_seen(st, first.request_id));
	cs_test_cmd_init(&cmd, CS_CMD_DOC_DEL, 1);
	cmd.u.doc = first.u.doc;
	cs_test_apply_exact(st, &cmd, NULL);
	ck_assert_ptr_null(cs_cmd_seen(st, first.request_id));
	ck_assert_ptr_nonnull(cs_cmd_seen(st, cmd.request_id));
	/* an all-zero id is never remembered */
	memset(cmd.request_id, 0, 16);
	cs_test_apply_exact(st, &cmd, NULL);
	ck_assert_ptr_null(cs_cmd_seen(st, zero));
}
END_TEST

START_TEST(test_cmd_apply_undecodable_entry_is_a_noop)
{
	uint8_t junk[16] = {8, 0, 0, 0, 1, 0, 0, 0, 0xc1, 0, 0, 0, 0, 0, 0, 0};
	struct cs_result res;

	cs_cmd_apply_entry(st, junk, sizeof junk, 1, &res);
	ck_assert_int_eq(res.rc, CS_EPROTO);
	ck_assert_uint_eq(res.index, 1);
	ck_assert_uint_eq(cs_store_applied_index(st), 1);
	ck_assert_uint_eq(cs_store_cert_count(st), 0);
	ck_assert_uint_eq(cs_audit_count(st), 1);
}
END_TEST

START_TEST(test_cmd_apply_is_deterministic)
{
	struct cs_store *other = cs_store_new();
	uint8_t h1[32], h2[32];
	uint8_t *entries[20];
	size_t lens[20];
	size_t bad;

	for (int i = 0; i < 20; i++) {
		struct cs_cmd c;
		size_t len;
		uint8_t *d = leaf(i % 2 ? "odd.test" : "even.test", NULL, &len);

		cs_test_cmd_init(&c, CS_CMD_IMPORT, 100 + i);
		c.u.import.n = 1;
		c.u.import.der[0] = (struct cs_bytes){d, len};
		c.u.import.owner = cs_test_bytes(i % 3 ? "icu" : "lab");
		entries[i] = cs_test_encode(&c, &lens[i]);
		free(d);
	}
	for (int i = 0; i < 20; i++) {
		struct cs_result r;

		cs_cmd_apply_entry(st, entries[i], lens[i], (uint64_t)i + 1,
		    &r);
		cs_cmd_apply_entry(other, entries[i], lens[i], (uint64_t)i + 1,
		    &r);
	}
	cs_store_hash(st, h1);
	cs_store_hash(other, h2);
	ck_assert_mem_eq(h1, h2, 32);
	ck_assert_mem_eq(cs_audit_head(st), cs_audit_head(other), 32);
	ck_assert_int_eq(cs_audit_verify(st, &bad), 0);
	/* one more entry on one side only: the hashes differ */
	{
		struct cs_result r;

		cs_cmd_apply_entry(other, entries[0], lens[0], 21, &r);
		cs_store_hash(other, h2);
		ck_assert_mem_ne(h1, h2, 32);
	}
	for (int i = 0; i < 20; i++)
		free(entries[i]);
	cs_store_free(other);
}
END_TEST

static Suite *
cmd_suite(void)
{
	Suite *s = suite_create("cmd");
	TCase *tc = tcase_create("encode");

	tcase_add_loop_test(tc, test_cmd_encode_round_trip, 0, CS_CMD__MAX - 1);
	tcase_add_test(tc, test_cmd_encode_pads_to_8);
	tcase_add_test(tc, test_cmd_encode_rejects_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_test(tc, test_cmd_decode_rejects_bad_frames);
	tcase_add_loop_test(tc, test_cmd_decode_rejects_every_truncation, 0,
	    CS_CMD__MAX - 1);
	tcase_add_test(tc, test_cmd_decode_rejects_wrong_types);
	tcase_add_test(tc, test_cmd_decode_rejects_oversized_counts);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cmd_apply_import_adds_once);
	tcase_add_test(tc, test_cmd_apply_import_bad_der_changes_nothing);
	tcase_add_test(tc, test_cmd_apply_import_bundle_with_duplicate);
	tcase_add_test(tc, test_cmd_apply_revoke_rules);
	tcase_add_test(tc, test_cmd_apply_revoke_key_revokes_every_user);
	tcase_add_test(tc, test_cmd_apply_bulk_by_owner_tag_issuer);
	tcase_add_test(tc, test_cmd_apply_key_state_transitions);
	tcase_add_test(tc, test_cmd_apply_set_meta_reindexes);
	tcase_add_test(tc, test_cmd_apply_documents);
	tcase_add_test(tc, test_cmd_apply_crl_publish_numbering);
	tcase_add_test(tc, test_cmd_apply_replayed_id_returns_first_result);
	tcase_add_test(tc, test_cmd_apply_dedupe_table_is_bounded);
	tcase_add_test(tc, test_cmd_apply_undecodable_entry_is_a_noop);
	tcase_add_test(tc, test_cmd_apply_is_deterministic);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(cmd_suite)
