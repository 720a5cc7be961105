/*
 * routes_cluster.c - health, readiness, the cluster view, membership,
 * leadership transfer, and the state hash replicas are compared by.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

#define CS_CONFIG_MEMBERS_MAX 64
#include "cert/doc.h"
#include "cert/snapshot.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/text.h"

void
cs_api__get_healthz(struct cs_api_req *r)
{
	cs_api__respond_json(r, 200,
	    json_pack("{s:s, s:I}", "status", "ok", "node_id",
		(json_int_t)r->api->cfg.node_id));
}

/* Ready: a member of a cluster with a known leader, and caught up with
 * what it knows to be committed. */
void
cs_api__get_readyz(struct cs_api_req *r)
{
	struct cs_replica *rep = r->api->replica;
	uint64_t leader = cs_replica_leader(rep);
	uint64_t applied = cs_replica_applied_index(rep);
	uint64_t commit = cs_replica_commit_index(rep);
	const char *why = NULL;

	if (cs_replica_state(rep) == CS_REPLICA_UNAVAILABLE)
		why = "raft is not running";
	else if (leader == 0)
		why = "no leader is known";
	else if (leader == r->api->cfg.node_id && !cs_replica_ready(rep))
		why = "elected, not yet ready";
	else if (applied < commit)
		why = "catching up";
	if (why != NULL) {
		cs_api__respond_json(r, 503,
		    json_pack("{s:s, s:s, s:I, s:I}", "status", "not ready",
			"reason", why, "applied_index", (json_int_t)applied,
			"commit_index", (json_int_t)commit));
		return;
	}
	cs_api__respond_json(r, 200,
	    json_pack("{s:s, s:I, s:I}", "status", "ready", "leader_id",
		(json_int_t)leader, "applied_index", (json_int_t)applied));
}

static const char *
role_text(int role)
{
	switch (role) {
	case RAFT_VOTER:
		return "voter";
	case RAFT_STANDBY:
		return "standby";
	case RAFT_SPARE:
		return "spare";
	default:
		return "unknown";
	}
}

static json_t *
member_json(struct cs_api *api, const struct cs_replica_member *m,
    uint64_t leader)
{
	struct cs_member doc;
	char key[24];
	const uint8_t *v;
	size_t len;
	int reach = cs_replica_reachable(api->replica, m->id);
	json_t *o;

	o = json_pack("{s:I, s:s, s:s, s:b, s:o}", "id", (json_int_t)m->id,
	    "raft_address", m->address, "role", role_text(m->role), "leader",
	    m->id == leader, "reachable",
	    reach < 0 ? json_null() : json_boolean(reach));
	snprintf(key, sizeof key, "%llu", (unsigned long long)m->id);
	v = cs_store_doc(cs_api__store(api), CS_NS_MEMBER, key, &len);
	if (v != NULL && cs_member_decode(v, len, &doc, NULL) == 0) {
		json_object_set_new(o, "site", json_string(doc.site));
		json_object_set_new(o, "api_url", json_string(doc.api_url));
		if (doc.http_url != NULL && doc.http_url[0] != '\0')
			json_object_set_new(o, "http_url",
			    json_string(doc.http_url));
		cs_member_close(&doc);
	} else {
		json_object_set_new(o, "site", json_null());
		json_object_set_new(o, "api_url", json_null());
	}
	return o;
}

void
cs_api__get_cluster(struct cs_api_req *r)
{
	struct cs_api *api = r->api;
	struct cs_replica *rep = api->replica;
	struct cs_replica_member m[16];
	size_t n = cs_replica_members(rep, m, 16);
	uint64_t leader = cs_replica_leader(rep);
	json_t *members = json_array();

	struct cs_fsm *f = cs_replica_fsm(rep);
	json_t *fsm;

	for (size_t i = 0; i < n && i < 16; i++)
		json_array_append_new(members, member_json(api, &m[i], leader));
	/* this node's own snapshot activity (drills check catch-up by it) */
	fsm = json_pack("{s:I, s:I, s:I, s:I}", "snapshots",
	    (json_int_t)f->snapshots, "restores", (json_int_t)f->restores,
	    "snapshot_take_max_us", (json_int_t)f->snapshot_take_max_us,
	    "certificates",
	    (json_int_t)cs_store_cert_count(cs_api__store(api)));
	cs_api__respond_json(r, 200,
	    json_pack("{s:I, s:s, s:o, s:I, s:s, s:b, s:I, s:I, s:o, s:o}",
		"node_id", (json_int_t)api->cfg.node_id, "site", api->cfg.site,
		"leader_id",
		leader != 0 ? json_integer((json_int_t)leader) : json_null(),
		"term", (json_int_t)cs_replica_term(rep), "state",
		cs_replica_state_name(cs_replica_state(rep)), "ready",
		cs_replica_ready(rep), "applied_index",
		(json_int_t)cs_replica_applied_index(rep), "commit_index",
		(json_int_t)cs_replica_commit_index(rep), "members", members,
		"fsm", fsm));
}

/* ---- the state hash, off the loop ---- */

struct hash_work {
	uv_work_t work;
	struct cs_api *api;
	struct cs_api_req *r;
	struct cs_snapshot *snap;
	uint8_t hash[32];
};

static void
hash_run(uv_work_t *w)
{
	struct hash_work *h = cs_container_of(w, struct hash_work, work);

	/* the snapshot's records are immutable: safe off the loop */
	cs_snapshot_hash(h->snap, h->hash);
}

static void
hash_done(uv_work_t *w, int status)
{
	struct hash_work *h = cs_container_of(w, struct hash_work, work);
	struct cs_api *api = h->api;
	char hex[65];

	cs_hex_encode(h->hash, 32, hex);
	if (status == 0)
		cs_api__respond_json(h->r, 200,
		    json_pack("{s:I, s:s, s:I}", "applied_index",
			(json_int_t)cs_snapshot_index(h->snap), "hash", hex,
			"certificates",
			(json_int_t)cs_store_cert_count(cs_api__store(api))));
	else
		cs_api__unavailable(h->r, "the hash was cancelled");
	cs_snapshot_release(h->snap);
	free(h);
	cs_api__work_done(api);
}

void
cs_api__get_state_hash(struct cs_api_req *r)
{
	struct hash_work *h = cs_calloc(1, sizeof *h);

	h->api = r->api;
	h->r = r;
	h->snap = cs_snapshot_take(cs_api__store(r->api));
	r->api->works++;
	if (uv_queue_work(r->api->loop, &h->work, hash_run, hash_done) < 0) {
		r->api->works--;
		cs_snapshot_release(h->snap);
		free(h);
		cs_api__unavailable(r, "cannot start the hash");
	}
}

/* ---- membership ---- */

static const char *
str_field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
valid_address(const char *s)
{
	unsigned a, b, c, d, port;
	char tail;

	return s != NULL &&
	       sscanf(s, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &port, &tail) ==
		   5 &&
	       a < 256 && b < 256 && c < 256 && d < 256 && port > 0 &&
	       port < 65536;
}

static bool
valid_url(const char *s)
{
	return s != NULL &&
	       (strncmp(s, "https://", 8) == 0 ||
		   strncmp(s, "http://", 7) == 0) &&
	       strlen(s) < 512;
}

static void
on_joined(struct cs_api_req *r, int status)
{
	switch (status) {
	case 0:
		cs_api__get_cluster(r);
		return;
	case CS_ETIMEDOUT:
		cs_api__problem(r, 504, "not-caught-up",
		    "the new node did not catch up with the log in time; it "
		    "stays a spare (is it running, and reachable at its raft "
		    "address?)");
		return;
	case CS_EEXIST:
		cs_api__problem(r, 409, "exists",
		    "a member with this id or raft address exists");
		return;
	case CS_EBUSY:
		cs_api__problem(r, 409, "busy",
		    "another membership change is in progress; try again");
		return;
	case CS_ENOTLEADER:
	case CS_ELEADERLOST:
		cs_api__retry(r, "leadership lost during the change");
		return;
	default:
		cs_api__problem_rc(r, status, "membership change");
		return;
	}
}

static void
on_member_doc(struct cs_api_req *r, const struct cs_result *res)
{
	json_t *o;

	if (res->rc < 0) {
		cs_api__problem_rc(r, res->rc, "member");
		return;
	}
	/* the body was checked before the document was written */
	o = cs_api__body_json(r);
	if (o == NULL)
		return;
	cs_api__join(r, (uint64_t)json_integer_value(json_object_get(o, "id")),
	    str_field(o, "raft_address"), on_joined);
	json_decref(o);
}

/* A join that the configuration refuses is answered 409 here, before
 * the member document is written: a refused join changes nothing. */
static bool
member_conflict(struct cs_api_req *r, uint64_t id, const char *address)
{
	struct cs_replica_member m[CS_CONFIG_MEMBERS_MAX];
	size_t n =
	    cs_replica_members(r->api->replica, m, CS_CONFIG_MEMBERS_MAX);

	if (n > CS_CONFIG_MEMBERS_MAX)
		n = CS_CONFIG_MEMBERS_MAX;
	for (size_t i = 0; i < n; i++) {
		if (m[i].id == id) {
			cs_api__problem(r, 409, "exists",
			    "member %llu is already in the cluster (at %s)",
			    (unsigned long long)id, m[i].address);
			return true;
		}
		if (strcmp(m[i].address, address) == 0) {
			cs_api__problem(r, 409, "exists",
			    "raft address %s is member %llu's", address,
			    (unsigned long long)m[i].id);
			return true;
		}
	}
	return false;
}

void
cs_api__post_member(struct cs_api_req *r)
{
	json_t *o = cs_api__body_json(r);
	struct cs_member doc;
	struct cs_buf val;
	struct cs_cmd cmd;
	json_int_t id;
	char key[24];

	if (o == NULL)
		return;
	memset(&doc, 0, sizeof doc);
	id = json_integer_value(json_object_get(o, "id"));
	doc.raft_address = (char *)(uintptr_t)str_field(o, "raft_address");
	doc.api_url = (char *)(uintptr_t)str_field(o, "api_url");
	doc.site = (char *)(uintptr_t)str_field(o, "site");
	doc.http_url = (char *)(uintptr_t)str_field(o, "http_url");
	doc.public_url = (char *)(uintptr_t)str_field(o, "public_url");
	if (id <= 0 || id > UINT32_MAX) {
		cs_api__problem(r, 400, "invalid", "id: a positive number");
	} else if (!valid_address(doc.raft_address)) {
		cs_api__problem(r, 400, "invalid",
		    "raft_address: an IPv4 address:port");
	} else if (!valid_url(doc.api_url)) {
		cs_api__problem(r, 400, "invalid", "api_url: an https URL");
	} else if ((doc.http_url != NULL && !valid_url(doc.http_url)) ||
		   (doc.public_url != NULL && !valid_url(doc.public_url))) {
		cs_api__problem(r, 400, "invalid",
		    "http_url, public_url: URLs");
	} else if (member_conflict(r, (uint64_t)id, doc.raft_address)) {
		/* answered: nothing is written for a join that cannot be */
	} else {
		doc.id = (uint64_t)id;
		if (doc.site == NULL)
			doc.site = (char *)(uintptr_t) "default";
		snprintf(key, sizeof key, "%lld", (long long)id);
		cs_buf_init(&val, CS_CMD_MAX_DOC);
		cs_member_encode(&doc, &val);
		cs_api__cmd_init(r, &cmd, CS_CMD_DOC_PUT);
		cmd.u.doc.ns = CS_NS_MEMBER;
		cmd.u.doc.key.p = (const uint8_t *)key;
		cmd.u.doc.key.len = strlen(key);
		cmd.u.doc.value.p = val.data;
		cmd.u.doc.value.len = val.len;
		cs_api__propose(r, &cmd, on_member_doc);
		cs_buf_close(&val);
	}
	json_decref(o);
}

static void
on_member_doc_deleted(struct cs_api_req *r, const struct cs_result *res)
{
	(void)res; /* absent or removed: either way it is gone */
	cs_api__get_cluster(r);
}

static void
on_removed(struct cs_api_req *r, int status)
{
	struct cs_cmd cmd;

	if (status == CS_ENOTLEADER || status == CS_ELEADERLOST) {
		cs_api__retry(r, "leadership lost during the change");
		return;
	}
	if (status < 0) {
		cs_api__problem_rc(r, status, "member");
		return;
	}
	cs_api__cmd_init(r, &cmd, CS_CMD_DOC_DEL);
	/* a distinct request id: the delete is a second command */
	cmd.request_id[0] ^= 0x5a;
	cmd.u.doc.ns = CS_NS_MEMBER;
	cmd.u.doc.key.p = (const uint8_t *)r->params[0];
	cmd.u.doc.key.len = strlen(r->params[0]);
	cs_api__propose(r, &cmd, on_member_doc_deleted);
}

void
cs_api__delete_member(struct cs_api_req *r)
{
	char *end;
	unsigned long long id = strtoull(r->params[0], &end, 10);

	if (*end != '\0' || id == 0) {
		cs_api__problem(r, 400, "invalid", "member id: a number");
		return;
	}
	cs_api__remove(r, id, on_removed);
}

static void
on_transferred(struct cs_api_req *r, int status)
{
	if (status == 0) {
		cs_api__respond_json(r, 200,
		    json_pack("{s:s, s:I}", "status", "transferred",
			"previous_leader", (json_int_t)r->api->cfg.node_id));
		return;
	}
	if (status == CS_ETIMEDOUT) {
		cs_api__unavailable(r,
		    "the target did not take over within the election "
		    "timeout (writes in flight can make it miss); try again");
		return;
	}
	if (status == CS_ENOTFOUND) {
		cs_api__problem(r, 409, "no-voter",
		    "no other voter to transfer to");
		return;
	}
	if (status == CS_EINVAL) {
		cs_api__problem(r, 400, "invalid",
		    "\"to\" must be another voting member");
		return;
	}
	cs_api__problem_rc(r, status, "transfer");
}

void
cs_api__post_transfer(struct cs_api_req *r)
{
	json_t *o = cs_api__body_json(r);
	json_t *to;

	if (o == NULL)
		return;
	to = json_object_get(o, "to");
	if (to != NULL && !json_is_integer(to)) {
		json_decref(o);
		cs_api__problem(r, 400, "invalid", "to: a member id");
		return;
	}
	cs_api__transfer(r, to != NULL ? (uint64_t)json_integer_value(to) : 0,
	    on_transferred);
	json_decref(o);
}
