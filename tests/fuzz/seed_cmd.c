/*
 * seed_cmd.c - writes a seed corpus for fuzz_cmd into DIR: one entry of
 * every command type (with real certificates), their payloads alone, and
 * the snapshot of the store they produce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert/snapshot.h"
#include "tests/lib/ca.h"
#include "tests/lib/cmds.h"

static void
put(const char *dir, const char *name, const void *p, size_t len)
{
	free(cs_test_write_file(dir, name, p, len));
}

int
main(int argc, char **argv)
{
	struct cs_test_ca *ca = cs_test_ca_new("Seed CA", CS_TEST_P256, NULL);
	struct cs_store *s = cs_store_new();
	const char *dns[] = {"seed.test", NULL};
	struct cs_test_leaf l = {.cn = "seed", .dns = dns};
	struct cs_cmd c;
	struct cs_buf b;
	size_t len, dlen;
	uint8_t *der = cs_test_issue(ca, &l, &dlen, NULL);
	uint8_t *e;
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: seed_cmd DIR\n");
		return 2;
	}
	for (int t = 1; t < CS_CMD__MAX; t++) {
		cs_test_cmd_init(&c, (enum cs_cmd_type)t, 1700000000);
		switch (t) {
		case CS_CMD_IMPORT:
			c.u.import.n = 1;
			c.u.import.der[0].p = der;
			c.u.import.der[0].len = dlen;
			c.u.import.owner = cs_test_bytes("icu");
			c.u.import.ntags = 1;
			c.u.import.tags[0] = cs_test_bytes("site=a");
			break;
		case CS_CMD_REVOKE:
		case CS_CMD_UNREVOKE:
			memcpy(c.u.revoke.fp, cs_store_cert(s, 1)->fingerprint,
			    32);
			c.u.revoke.reason = CS_REASON_CERTIFICATE_HOLD;
			break;
		case CS_CMD_SET_META:
			memcpy(c.u.meta.fp, cs_store_cert(s, 1)->fingerprint,
			    32);
			c.u.meta.set_owner = true;
			c.u.meta.owner = cs_test_bytes("lab");
			break;
		case CS_CMD_REVOKE_KEY:
			memcpy(c.u.revoke_key.key_id,
			    cs_store_cert(s, 1)->key_id, 32);
			c.u.revoke_key.reason = 1;
			break;
		case CS_CMD_KEY_STATE:
			memcpy(c.u.key_state.key_id,
			    cs_store_cert(s, 1)->key_id, 32);
			c.u.key_state.state = CS_KEY_DESTROYED;
			c.u.key_state.location = CS_KEYLOC_KEEP;
			break;
		case CS_CMD_REVOKE_BULK:
			c.u.bulk.value = cs_test_bytes("icu");
			break;
		case CS_CMD_DOC_PUT:
		case CS_CMD_DOC_DEL:
			c.u.doc.ns = CS_NS_ROLE;
			c.u.doc.key = cs_test_bytes("CN=x");
			c.u.doc.value = cs_test_bytes("\x81\xa4"
						      "role"
						      "\xa5"
						      "admin");
			break;
		case CS_CMD_CRL_PUBLISH:
			c.u.crl.issuer = cs_test_bytes("local-ca");
			c.u.crl.number = 1;
			c.u.crl.this_update = 1;
			c.u.crl.next_update = 2;
			break;
		}
		e = cs_test_encode(&c, &len);
		snprintf(name, sizeof name, "entry-%s", cs_cmd_type_name(t));
		put(argv[1], name, e, len);
		snprintf(name, sizeof name, "payload-%s", cs_cmd_type_name(t));
		put(argv[1], name, e + 8, len - 8);
		cs_test_apply_exact(s, &c, NULL);
		free(e);
	}
	cs_buf_init(&b, SIZE_MAX);
	if (cs_store_encode(s, &b) == 0)
		put(argv[1], "snapshot", b.data, b.len);
	cs_buf_close(&b);
	free(der);
	cs_store_free(s);
	cs_test_ca_free(ca);
	return 0;
}
