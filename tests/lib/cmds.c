#include "tests/lib/cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/error.h"

static uint64_t next_id = 1;

struct cs_bytes
cs_test_bytes(const char *s)
{
	struct cs_bytes b = {(const uint8_t *)s, s != NULL ? strlen(s) : 0};

	return b;
}

static void
fresh_id(uint8_t id[16])
{
	uint64_t v = next_id++;

	memset(id, 0, 16);
	memcpy(id, &v, sizeof v);
	id[15] = 0xa5; /* never all zero */
}

void
cs_test_cmd_init(struct cs_cmd *c, enum cs_cmd_type type, int64_t time)
{
	memset(c, 0, sizeof *c);
	c->type = type;
	fresh_id(c->request_id);
	c->actor = cs_test_bytes("test");
	c->time = time;
}

uint8_t *
cs_test_encode(const struct cs_cmd *c, size_t *len)
{
	struct cs_buf b;
	int rc;

	cs_buf_init(&b, CS_CMD_MAX_ENTRY);
	rc = cs_cmd_encode(c, &b);
	if (rc < 0) {
		fprintf(stderr, "cs_test_encode: %s\n", cs_strerror(rc));
		abort();
	}
	return cs_buf_steal(&b, len);
}

int
cs_test_apply(struct cs_store *s, const struct cs_cmd *c, struct cs_result *res)
{
	struct cs_cmd *copy = malloc(sizeof *copy);
	int rc;

	if (copy == NULL)
		abort();
	*copy = *c;
	fresh_id(copy->request_id);
	rc = cs_test_apply_exact(s, copy, res);
	free(copy);
	return rc;
}

int
cs_test_apply_exact(struct cs_store *s, const struct cs_cmd *c,
    struct cs_result *res)
{
	struct cs_result local;
	size_t len;
	uint8_t *e = cs_test_encode(c, &len);

	if (res == NULL)
		res = &local;
	cs_cmd_apply_entry(s, e, len, cs_store_applied_index(s) + 1, res);
	free(e);
	return res->rc;
}

int
cs_test_import(struct cs_store *s, const uint8_t *der, size_t len,
    const char *owner, const char *const *tags, struct cs_result *res)
{
	struct cs_cmd *c = malloc(sizeof *c);
	int rc;

	if (c == NULL)
		abort();
	cs_test_cmd_init(c, CS_CMD_IMPORT, 1700000000);
	c->u.import.n = 1;
	c->u.import.der[0].p = der;
	c->u.import.der[0].len = len;
	c->u.import.owner = cs_test_bytes(owner);
	for (size_t i = 0; tags != NULL && tags[i] != NULL; i++)
		c->u.import.tags[c->u.import.ntags++] = cs_test_bytes(tags[i]);
	rc = cs_test_apply(s, c, res);
	free(c);
	return rc;
}

int
cs_test_revoke(struct cs_store *s, const uint8_t fp[32], int reason,
    int64_t time)
{
	struct cs_cmd c;

	cs_test_cmd_init(&c, CS_CMD_REVOKE, time);
	memcpy(c.u.revoke.fp, fp, 32);
	c.u.revoke.reason = (uint8_t)reason;
	return cs_test_apply(s, &c, NULL);
}
