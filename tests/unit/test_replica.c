/*
 * test_replica.c - replication on raft's deterministic fixture: the FSM
 * (raft/fsm), the replica logic (raft/replica: post-election barrier,
 * proposals, join, transfer) and the command de-duplication that makes
 * retries after a leader change safe.
 */
#include <check.h>
#include <raft.h>
#include <raft/fixture.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert/audit.h"
#include "cert/snapshot.h"
#include "lib/error.h"
#include "raft/replica.h"
#include "tests/lib/cmds.h"
#include "tests/lib/runner.h"

#define N    3
#define MAXN 4

static struct raft_fixture fix;
static struct cs_fsm fsms[MAXN];
static struct cs_replica *reps[MAXN];
static unsigned nservers;

/* The monitor runs after every fixture event, as the uv_prepare handle
 * does on every loop turn in the daemon. */
static void
hook(struct raft_fixture *f, struct raft_fixture_event *e)
{
	(void)f;
	(void)e;
	for (unsigned i = 0; i < nservers; i++)
		cs_replica_check(reps[i]);
}

static void
add_server(void)
{
	unsigned i = nservers;

	cs_fsm_init(&fsms[i]);
	ck_assert_int_eq(raft_fixture_grow(&fix, &fsms[i].fsm), 0);
	reps[i] = cs_replica_attach(raft_fixture_get(&fix, i), &fsms[i], NULL);
	raft_set_snapshot_threshold(raft_fixture_get(&fix, i), 8);
	raft_set_snapshot_trailing(raft_fixture_get(&fix, i), 2);
	raft_set_pre_vote(raft_fixture_get(&fix, i), true);
	nservers++;
}

static void
setup(void)
{
	struct raft_configuration conf;

	nservers = 0;
	ck_assert_int_eq(raft_fixture_initialize(&fix), 0);
	for (unsigned i = 0; i < N; i++)
		add_server();
	ck_assert_int_eq(raft_fixture_configuration(&fix, N, &conf), 0);
	ck_assert_int_eq(raft_fixture_bootstrap(&fix, &conf), 0);
	raft_configuration_close(&conf);
	ck_assert_int_eq(raft_fixture_start(&fix), 0);
	raft_fixture_hook(&fix, hook);
}

static void
teardown(void)
{
	raft_fixture_close(&fix);
	for (unsigned i = 0; i < nservers; i++) {
		cs_replica_detach(reps[i]);
		cs_fsm_close(&fsms[i]);
	}
}

static bool
is_ready(struct raft_fixture *f, void *arg)
{
	(void)f;
	return cs_replica_ready(reps[*(unsigned *)arg]);
}

static void
elect_ready(unsigned i)
{
	raft_fixture_elect(&fix, i);
	ck_assert(raft_fixture_step_until(&fix, is_ready, &i, 5000));
}

/* One proposal and its outcome. */
struct prop {
	struct cs_propose req;
	bool done;
	int status;
	struct cs_result res;
};

static void
on_prop(struct cs_propose *req, int status, const struct cs_result *res)
{
	struct prop *p = req->data;

	ck_assert(!p->done); /* exactly once */
	p->done = true;
	p->status = status;
	if (res != NULL)
		p->res = *res;
}

static bool
prop_done(struct raft_fixture *f, void *arg)
{
	(void)f;
	return ((struct prop *)arg)->done;
}

/* An entry that creates document k<n> in the notify namespace, under
 * request id `id` (0: fresh). */
static uint8_t *
doc_entry(int n, uint64_t id, size_t *len)
{
	struct cs_cmd c;
	char key[16];

	snprintf(key, sizeof key, "k%d", n);
	cs_test_cmd_init(&c, CS_CMD_DOC_PUT, 1000 + n);
	if (id != 0) {
		memset(c.request_id, 0, 16);
		memcpy(c.request_id, &id, sizeof id);
	}
	c.u.doc.ns = CS_NS_NOTIFY;
	c.u.doc.key = cs_test_bytes(key);
	c.u.doc.value = cs_test_bytes("\x81\xa4"
				      "sent"
				      "\x01");
	return cs_test_encode(&c, len);
}

static int
propose(unsigned i, const uint8_t *e, size_t len, struct prop *p)
{
	memset(p, 0, sizeof *p);
	p->req.data = p;
	return cs_replica_propose(reps[i], &p->req, e, len, on_prop);
}

static size_t
ndocs(unsigned i)
{
	const uint8_t *v;
	size_t vlen, n = 0;
	const char *k = NULL;
	struct cs_store *s = cs_fsm_store(&fsms[i]);

	while ((k = cs_store_doc_next(s, CS_NS_NOTIFY, k, &v, &vlen)) != NULL)
		n++;
	return n;
}

static void
assert_same_state(unsigned n)
{
	uint8_t h0[32], h[32];

	cs_store_hash(cs_fsm_store(&fsms[0]), h0);
	for (unsigned i = 1; i < n; i++) {
		cs_store_hash(cs_fsm_store(&fsms[i]), h);
		ck_assert_mem_eq(h0, h, 32);
	}
}

START_TEST(test_replica_replicates_to_all)
{
	struct prop p[10];
	raft_index last = 0;

	elect_ready(0);
	for (int k = 0; k < 10; k++) {
		size_t len;
		uint8_t *e = doc_entry(k, 0, &len);

		ck_assert_int_eq(propose(0, e, len, &p[k]), 0);
		free(e);
	}
	ck_assert(raft_fixture_step_until(&fix, prop_done, &p[9], 5000));
	for (int k = 0; k < 10; k++) {
		ck_assert_int_eq(p[k].status, 0);
		ck_assert_int_eq(p[k].res.rc, 0);
		ck_assert_uint_gt(p[k].res.index, last);
		last = p[k].res.index;
	}
	ck_assert(raft_fixture_step_until_applied(&fix, N, last, 5000));
	for (unsigned i = 0; i < N; i++) {
		ck_assert_uint_eq(ndocs(i), 10);
		/* the FSM's index (last_applied + 1 during apply) matches
		 * raft's own, barriers and configuration entries included */
		ck_assert_uint_eq(cs_store_applied_index(
				      cs_fsm_store(&fsms[i])),
		    last);
	}
	assert_same_state(N);
}
END_TEST

START_TEST(test_replica_propose_refusals)
{
	size_t len;
	uint8_t *e = doc_entry(1, 0, &len);
	struct prop p;

	raft_fixture_elect(&fix, 0);
	hook(&fix, NULL);
	/* elected, but its barrier has not applied yet */
	ck_assert_int_eq(cs_replica_state(reps[0]), CS_REPLICA_LEADER);
	ck_assert_int_eq(propose(0, e, len, &p), CS_EBUSY);
	ck_assert_int_eq(propose(1, e, len, &p), CS_ENOTLEADER);
	{
		unsigned zero = 0;

		ck_assert(raft_fixture_step_until(&fix, is_ready, &zero, 5000));
	}
	ck_assert_int_eq(propose(0, e, len - 1, &p), CS_EINVAL);
	ck_assert_int_eq(propose(0, e, len, &p), 0);
	ck_assert(!p.done); /* the callback comes later, never inline */
	ck_assert(raft_fixture_step_until(&fix, prop_done, &p, 5000));
	ck_assert_uint_eq(cs_replica_leader(reps[1]), 1);
	free(e);
}
END_TEST

static void
partition(unsigned i)
{
	for (unsigned j = 0; j < nservers; j++) {
		if (j == i)
			continue;
		raft_fixture_saturate(&fix, i, j);
		raft_fixture_saturate(&fix, j, i);
	}
}

static void
heal(unsigned i)
{
	for (unsigned j = 0; j < nservers; j++) {
		if (j == i)
			continue;
		raft_fixture_desaturate(&fix, i, j);
		raft_fixture_desaturate(&fix, j, i);
	}
}

static unsigned
ready_leader(void)
{
	for (unsigned i = 0; i < nservers; i++) {
		if (cs_replica_ready(reps[i]))
			return i;
	}
	return nservers;
}

static bool
other_ready(struct raft_fixture *f, void *arg)
{
	unsigned not = *(unsigned *)arg;
	unsigned l = ready_leader();

	(void)f;
	return l < nservers && l != not ;
}

/* The leader is cut off before anyone saw the entry: lost leadership,
 * the client retries with the same request id on the new leader, the
 * command applies once. */
START_TEST(test_replica_lost_leadership_retry_applies_once)
{
	size_t len;
	uint8_t *e = doc_entry(7, 0x77, &len);
	struct prop p, retry;
	unsigned old = 0, nl;

	elect_ready(0);
	ck_assert_int_eq(propose(0, e, len, &p), 0);
	partition(0);
	ck_assert(
	    raft_fixture_step_until_state_is(&fix, 0, RAFT_FOLLOWER, 10000));
	ck_assert(raft_fixture_step_until(&fix, prop_done, &p, 10000));
	ck_assert_int_eq(p.status, CS_ELEADERLOST);
	ck_assert(raft_fixture_step_until(&fix, other_ready, &old, 10000));
	nl = ready_leader();
	ck_assert_int_eq(propose(nl, e, len, &retry), 0);
	ck_assert(raft_fixture_step_until(&fix, prop_done, &retry, 5000));
	ck_assert_int_eq(retry.status, 0);
	ck_assert_int_eq(retry.res.rc, 0);
	heal(0);
	ck_assert(
	    raft_fixture_step_until_applied(&fix, N, retry.res.index, 10000));
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(ndocs(i), 1);
	assert_same_state(N);
	free(e);
}
END_TEST

static bool
follower_has(struct raft_fixture *f, void *arg)
{
	(void)f;
	return raft_last_index(raft_fixture_get(&fix, 1)) >= *(raft_index *)arg;
}

/* The entry reached a follower, then the leader was cut off: the new
 * leader commits it anyway. The retry under the same request id must
 * return the FIRST outcome (its index) and change nothing. */
START_TEST(test_replica_retry_of_committed_entry_returns_first_result)
{
	size_t len;
	uint8_t *e = doc_entry(8, 0x88, &len);
	struct prop p, retry;
	raft_index idx;
	unsigned old = 0, nl;
	size_t audit_before;

	elect_ready(0);
	ck_assert_int_eq(propose(0, e, len, &p), 0);
	idx = raft_last_index(raft_fixture_get(&fix, 0));
	ck_assert(raft_fixture_step_until(&fix, follower_has, &idx, 5000));
	partition(0);
	ck_assert(raft_fixture_step_until(&fix, prop_done, &p, 10000));
	ck_assert(raft_fixture_step_until(&fix, other_ready, &old, 10000));
	nl = ready_leader();
	/* the old leader could not know; the new one committed it */
	ck_assert_uint_eq(ndocs(nl), 1);
	audit_before = cs_audit_count(cs_fsm_store(&fsms[nl]));
	ck_assert_int_eq(propose(nl, e, len, &retry), 0);
	ck_assert(raft_fixture_step_until(&fix, prop_done, &retry, 5000));
	ck_assert_int_eq(retry.status, 0);
	ck_assert_uint_eq(retry.res.index, idx); /* the first outcome */
	ck_assert_uint_eq(ndocs(nl), 1);
	ck_assert_uint_eq(cs_audit_count(cs_fsm_store(&fsms[nl])),
	    audit_before);
	heal(0);
	ck_assert(raft_fixture_step_until_applied(&fix, N,
	    raft_last_index(raft_fixture_get(&fix, nl)), 10000));
	assert_same_state(N);
	free(e);
}
END_TEST

START_TEST(test_replica_lagging_node_catches_up_by_snapshot)
{
	struct prop p;
	raft_index last = 0;

	elect_ready(0);
	raft_fixture_kill(&fix, 2);
	for (int k = 0; k < 40; k++) {
		size_t len;
		uint8_t *e = doc_entry(k, 0, &len);

		ck_assert_int_eq(propose(0, e, len, &p), 0);
		ck_assert(raft_fixture_step_until(&fix, prop_done, &p, 5000));
		ck_assert_int_eq(p.status, 0);
		last = p.res.index;
		free(e);
	}
	ck_assert_uint_gt(fsms[0].snapshots, 0);
	ck_assert_uint_eq(fsms[2].restores, 0);
	raft_fixture_revive(&fix, 2);
	ck_assert(raft_fixture_step_until_applied(&fix, 2, last, 20000));
	/* the log it missed was compacted: it got a snapshot */
	ck_assert_uint_gt(fsms[2].restores, 0);
	ck_assert_uint_gt(raft_fixture_n_recv(&fix, 2,
			      RAFT_IO_INSTALL_SNAPSHOT),
	    0);
	ck_assert_uint_eq(ndocs(2), 40);
	ck_assert(raft_fixture_step_until_applied(&fix, N, last, 5000));
	assert_same_state(N);
}
END_TEST

struct chg {
	struct cs_change req;
	bool done;
	int status;
};

static void
on_chg(struct cs_change *req, int status)
{
	struct chg *c = req->data;

	ck_assert(!c->done);
	c->done = true;
	c->status = status;
}

static bool
chg_done(struct raft_fixture *f, void *arg)
{
	(void)f;
	return ((struct chg *)arg)->done;
}

static int
role_of(unsigned leader, uint64_t id)
{
	struct cs_replica_member m[MAXN];
	size_t n = cs_replica_members(reps[leader], m, MAXN);

	for (size_t i = 0; i < n; i++) {
		if (m[i].id == id)
			return m[i].role;
	}
	return -1;
}

START_TEST(test_replica_join_as_spare_then_voter)
{
	struct chg c, c2;
	struct prop p;
	size_t len;
	uint8_t *e;

	elect_ready(0);
	for (int k = 0; k < 12; k++) {
		e = doc_entry(k, 0, &len);
		ck_assert_int_eq(propose(0, e, len, &p), 0);
		ck_assert(raft_fixture_step_until(&fix, prop_done, &p, 5000));
		free(e);
	}
	add_server();
	ck_assert_int_eq(raft_start(raft_fixture_get(&fix, 3)), 0);
	memset(&c, 0, sizeof c);
	c.req.data = &c;
	ck_assert_int_eq(cs_replica_join(reps[0], &c.req, 4, "4", on_chg), 0);
	/* one change at a time */
	memset(&c2, 0, sizeof c2);
	c2.req.data = &c2;
	ck_assert_int_eq(cs_replica_join(reps[0], &c2.req, 5, "5", on_chg),
	    CS_EBUSY);
	ck_assert_int_eq(role_of(0, 4), RAFT_SPARE);
	ck_assert_int_eq(cs_replica_join(reps[1], &c2.req, 5, "5", on_chg),
	    CS_ENOTLEADER);
	ck_assert(raft_fixture_step_until(&fix, chg_done, &c, 20000));
	ck_assert_int_eq(c.status, 0);
	ck_assert_int_eq(role_of(0, 4), RAFT_VOTER);
	/* a duplicate id */
	ck_assert_int_eq(cs_replica_join(reps[0], &c2.req, 4, "9", on_chg),
	    CS_EEXIST);
	e = doc_entry(99, 0, &len);
	ck_assert_int_eq(propose(0, e, len, &p), 0);
	ck_assert(raft_fixture_step_until(&fix, prop_done, &p, 5000));
	ck_assert(raft_fixture_step_until_applied(&fix, 3, p.res.index, 10000));
	ck_assert_uint_eq(ndocs(3), 13);
	assert_same_state(4);
	/* and removal */
	memset(&c, 0, sizeof c);
	c.req.data = &c;
	ck_assert_int_eq(cs_replica_remove(reps[0], &c.req, 4, on_chg), 0);
	ck_assert(raft_fixture_step_until(&fix, chg_done, &c, 10000));
	ck_assert_int_eq(c.status, 0);
	ck_assert_int_eq(role_of(0, 4), -1);
	free(e);
}
END_TEST

struct xfer {
	struct cs_transfer req;
	bool done;
	int status;
};

static void
on_xfer(struct cs_transfer *req, int status)
{
	struct xfer *x = req->data;

	ck_assert(!x->done);
	x->done = true;
	x->status = status;
}

static bool
xfer_done(struct raft_fixture *f, void *arg)
{
	(void)f;
	return ((struct xfer *)arg)->done;
}

START_TEST(test_replica_transfer_leadership)
{
	struct xfer x;
	struct prop p;
	size_t len;
	uint8_t *e = doc_entry(1, 0, &len);
	unsigned two = 2;

	elect_ready(0);
	memset(&x, 0, sizeof x);
	x.req.data = &x;
	ck_assert_int_eq(cs_replica_transfer(reps[0], &x.req, 1, on_xfer),
	    CS_EINVAL); /* self */
	ck_assert_int_eq(cs_replica_transfer(reps[1], &x.req, 3, on_xfer),
	    CS_ENOTLEADER);
	ck_assert_int_eq(cs_replica_transfer(reps[0], &x.req, 3, on_xfer), 0);
	ck_assert(raft_fixture_step_until(&fix, xfer_done, &x, 10000));
	ck_assert_int_eq(x.status, 0);
	ck_assert(raft_fixture_step_until(&fix, is_ready, &two, 10000));
	ck_assert_uint_eq(cs_replica_leader(reps[2]), 3);
	ck_assert_int_eq(propose(0, e, len, &p), CS_ENOTLEADER);
	ck_assert_int_eq(propose(2, e, len, &p), 0);
	ck_assert(raft_fixture_step_until(&fix, prop_done, &p, 5000));
	ck_assert_int_eq(p.status, 0);
	free(e);
}
END_TEST

/* Proposals between cork and uncork go to raft as one raft_apply: one
 * entry each, consecutive indexes, each answered with its own result
 * (0.15 calls back once per raft_apply: the FSM answers the rest). */
START_TEST(test_replica_corked_batch_answers_each)
{
	struct prop p[5], single;
	uint8_t *e[5];
	size_t len[5];
	raft_index before;

	elect_ready(0);
	before = raft_last_index(raft_fixture_get(&fix, 0));
	cs_replica_cork(reps[0]);
	for (int k = 0; k < 5; k++) {
		e[k] = doc_entry(k, 0, &len[k]);
		ck_assert_int_eq(propose(0, e[k], len[k], &p[k]), 0);
	}
	/* nothing reached raft yet; an invalid one is still refused now */
	ck_assert_uint_eq(raft_last_index(raft_fixture_get(&fix, 0)), before);
	ck_assert_int_eq(propose(0, e[0], len[0] - 1, &single), CS_EINVAL);
	cs_replica_uncork(reps[0]);
	ck_assert_uint_eq(raft_last_index(raft_fixture_get(&fix, 0)),
	    before + 5);
	ck_assert(raft_fixture_step_until(&fix, prop_done, &p[4], 5000));
	for (int k = 0; k < 5; k++) {
		ck_assert(p[k].done);
		ck_assert_int_eq(p[k].status, 0);
		ck_assert_int_eq(p[k].res.rc, 0);
		ck_assert_uint_eq(p[k].res.index, before + 1 + (unsigned)k);
		free(e[k]);
	}
	/* a batch of one, and an uncorked proposal, as before */
	cs_replica_cork(reps[0]);
	e[0] = doc_entry(5, 0, &len[0]);
	ck_assert_int_eq(propose(0, e[0], len[0], &single), 0);
	cs_replica_uncork(reps[0]);
	ck_assert(raft_fixture_step_until(&fix, prop_done, &single, 5000));
	ck_assert_int_eq(single.status, 0);
	ck_assert_uint_eq(single.res.index, before + 6);
	free(e[0]);
	ck_assert(raft_fixture_step_until_applied(&fix, N, before + 6, 5000));
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(ndocs(i), 6);
	assert_same_state(N);
}
END_TEST

/* A corked batch on a leader that is cut off: every proposal of it
 * completes once with CS_ELEADERLOST; retried with the same request ids
 * on the new leader, each applies once. */
START_TEST(test_replica_corked_batch_lost_leadership)
{
	struct prop p[3], retry[3];
	uint8_t *e[3];
	size_t len[3];
	unsigned old = 0, nl;

	elect_ready(0);
	cs_replica_cork(reps[0]);
	for (int k = 0; k < 3; k++) {
		e[k] = doc_entry(k, 0x100 + (uint64_t)k, &len[k]);
		ck_assert_int_eq(propose(0, e[k], len[k], &p[k]), 0);
	}
	cs_replica_uncork(reps[0]);
	partition(0);
	ck_assert(
	    raft_fixture_step_until_state_is(&fix, 0, RAFT_FOLLOWER, 10000));
	for (int k = 0; k < 3; k++) {
		ck_assert(
		    raft_fixture_step_until(&fix, prop_done, &p[k], 10000));
		ck_assert_int_eq(p[k].status, CS_ELEADERLOST);
	}
	ck_assert(raft_fixture_step_until(&fix, other_ready, &old, 10000));
	nl = ready_leader();
	cs_replica_cork(reps[nl]);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(propose(nl, e[k], len[k], &retry[k]), 0);
	cs_replica_uncork(reps[nl]);
	ck_assert(raft_fixture_step_until(&fix, prop_done, &retry[2], 5000));
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(retry[k].status, 0);
		ck_assert_int_eq(retry[k].res.rc, 0);
	}
	heal(0);
	ck_assert(raft_fixture_step_until_applied(&fix, N, retry[2].res.index,
	    10000));
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(ndocs(i), 3);
	assert_same_state(N);
	for (int k = 0; k < 3; k++)
		free(e[k]);
}
END_TEST

/* Corked on a follower: the proposal is refused at once, as uncorked. */
START_TEST(test_replica_corked_refusal)
{
	struct prop p;
	size_t len;
	uint8_t *e = doc_entry(1, 0, &len);

	elect_ready(0);
	cs_replica_cork(reps[1]);
	ck_assert_int_eq(propose(1, e, len, &p), CS_ENOTLEADER);
	cs_replica_uncork(reps[1]);
	ck_assert(!p.done);
	free(e);
}
END_TEST

static Suite *
replica_suite(void)
{
	Suite *s = suite_create("replica");
	TCase *tc = tcase_create("fixture");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_replica_replicates_to_all);
	tcase_add_test(tc, test_replica_propose_refusals);
	tcase_add_test(tc, test_replica_lost_leadership_retry_applies_once);
	tcase_add_test(tc,
	    test_replica_retry_of_committed_entry_returns_first_result);
	tcase_add_test(tc, test_replica_lagging_node_catches_up_by_snapshot);
	tcase_add_test(tc, test_replica_join_as_spare_then_voter);
	tcase_add_test(tc, test_replica_transfer_leadership);
	tcase_add_test(tc, test_replica_corked_batch_answers_each);
	tcase_add_test(tc, test_replica_corked_batch_lost_leadership);
	tcase_add_test(tc, test_replica_corked_refusal);
	suite_add_tcase(s, tc);
	return s;
}

CS_TEST_MAIN(replica_suite)
