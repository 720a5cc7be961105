/*
 * replica.h - one raft server: libraft 0.15 + raft_uv, used the way
 * notes/raft-0.15.md says it must be.
 *
 *   - entries are padded to 8 bytes (cs_cmd_encode() does; proposals that
 *     are not are refused with CS_EINVAL);
 *   - raft_uv auto-recovery is off (a corrupt segment stops the node
 *     instead of silently dropping committed entries);
 *   - raft is never closed from inside one of its callbacks: close is
 *     deferred to a fresh loop turn;
 *   - pre-vote is on;
 *   - there is no state callback in 0.15, so a uv_prepare handle checks
 *     raft_state() on every loop turn (cs_replica_check());
 *   - 0.15 appends no entry when a leader is elected, so a new leader runs
 *     a barrier before it serves writes or linearizable reads
 *     ("ready"); until then proposals get CS_EBUSY.
 *
 * State diagram of the replica as the node sees it:
 *
 *   FOLLOWER/CANDIDATE --elected--> LEADER (not ready) --barrier ok--> READY
 *          ^                             |                               |
 *          +------- stepped down / lost / transfer ----------------------+
 *   any --tick or I/O error--> UNAVAILABLE (fatal: hooks.unavailable)
 *
 * Async requests (propose, barrier, join, remove, transfer) follow the
 * libuv rule: an error return means the callback is never called; 0 means
 * it is called exactly once, with CS_ECANCELED when the replica closes.
 *
 * A replica either owns its raft instance on a libuv loop
 * (cs_replica_new()) or is attached to a raft instance that a test
 * fixture owns (cs_replica_attach(); the test calls cs_replica_check()
 * after each fixture step). Loop thread only.
 */
#ifndef CS_REPLICA_H
#define CS_REPLICA_H

#include <raft.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cert/cmd.h"
#include "raft/fsm.h"

struct cs_replica;

/* Maps a RAFT_* code to CS_E*. */
int cs_err_from_raft(int rv);

struct cs_replica_peer {
	uint64_t id;
	const char *address; /* a.b.c.d:port */
};

struct cs_replica_config {
	uint64_t id;
	const char *address; /* raft address, a.b.c.d:port (0.15: IPv4) */
	const char *dir;     /* must exist */
	/* The initial members. A node that is one of them bootstraps on an
	 * empty data dir (all of them with this identical list); a node that
	 * is not waits to be added by the leader. */
	const struct cs_replica_peer *initial;
	size_t ninitial;
	unsigned election_timeout_ms;         /* default 1000 */
	unsigned heartbeat_timeout_ms;        /* default 100; also the tick */
	unsigned install_snapshot_timeout_ms; /* default 30000 */
	unsigned snapshot_threshold;          /* default 1024 */
	unsigned snapshot_trailing;           /* default 2048 */
	unsigned catch_up_rounds;             /* default 100 */
	unsigned catch_up_round_ms;           /* default 30000 */
	unsigned connect_retry_ms;            /* default 500 */
	size_t segment_size;                  /* default 8 MiB */
	bool trace; /* raft's tracer -> cs_log DEBUG */
	/* LZ4 snapshot files (libraft's default; the node's default is on);
	 * off saves the CPU of compressing every snapshot, for larger files */
	bool snapshot_compression;
	/* proposals of a loop turn go to raft together (cs_replica_autocork) */
	bool autocork;
};

enum cs_replica_state {
	CS_REPLICA_UNAVAILABLE = RAFT_UNAVAILABLE,
	CS_REPLICA_FOLLOWER = RAFT_FOLLOWER,
	CS_REPLICA_CANDIDATE = RAFT_CANDIDATE,
	CS_REPLICA_LEADER = RAFT_LEADER
};
const char *cs_replica_state_name(int state);

struct cs_replica_hooks {
	void *data;
	/* raft_state() changed (seen by the monitor). */
	void (*state_changed)(struct cs_replica *r, int old_state, int state,
	    void *data);
	/* This node leads and its post-election barrier applied. */
	void (*leader_ready)(struct cs_replica *r, void *data);
	/* raft went UNAVAILABLE outside of a close: the node must stop. */
	void (*unavailable)(struct cs_replica *r, void *data);
};

/* Creates the raft instance, its raft_uv I/O and TCP transport on loop,
 * bootstraps when the config says so, and starts raft. On error *out is
 * untouched, nothing is left on the loop unless the message says that
 * raft_start failed: then *out is set and must be closed. */
int cs_replica_new(uv_loop_t *loop, const struct cs_replica_config *cfg,
    const struct cs_replica_hooks *hooks, struct cs_replica **out,
    char *errmsg);

/* For tests: wraps a raft instance the caller owns (raft fixture), with
 * fsm its FSM. Returns new; free with cs_replica_detach(). */
struct cs_replica *cs_replica_attach(struct raft *raft, struct cs_fsm *fsm,
    const struct cs_replica_hooks *hooks);
void cs_replica_detach(struct cs_replica *r);

/* Closes raft (deferred to a fresh loop turn), then raft_uv and the
 * handles; cb fires once everything is closed, after which r is freed.
 * Pending requests complete with CS_ECANCELED. Idempotent. */
typedef void (*cs_replica_close_cb)(struct cs_replica *r, void *data);
void cs_replica_close(struct cs_replica *r, cs_replica_close_cb cb, void *data);

/* The state monitor: notices state changes and starts the post-election
 * barrier. Runs on every loop turn by itself; tests with a fixture call
 * it after each step. */
void cs_replica_check(struct cs_replica *r);

/* ---- writes ---- */

struct cs_propose;
typedef void (*cs_propose_cb)(struct cs_propose *req, int status,
    const struct cs_result *res);

struct cs_propose {
	void *data;
	/* private */
	struct raft_apply apply;
	struct cs_replica *r;
	cs_propose_cb cb;
	struct raft_buffer buf;  /* corked: the entry, raft memory */
	uint64_t index;          /* batched: the entry's index */
	struct cs_propose *next; /* the cork queue, then the batch list */
};

/*
 * Proposes one encoded command entry (borrowed: copied into raft memory).
 * Synchronous errors: CS_ENOTLEADER (not the leader, or a transfer is
 * running), CS_EBUSY (leader, but the post-election barrier has not
 * applied yet), CS_ECANCELED (closing), CS_EINVAL (not padded to 8).
 * Callback status: 0 with the result; CS_ELEADERLOST when leadership was
 * lost before commit (the outcome is unknown: retry with the same request
 * id, the FSM's de-duplication makes it safe); CS_EIO; CS_ECANCELED.
 */
int cs_replica_propose(struct cs_replica *r, struct cs_propose *req,
    const uint8_t *entry, size_t len, cs_propose_cb cb);

/*
 * Between cork and uncork, proposals queue up, and uncork hands them to
 * raft in one raft_apply() of n entries: one log append and one
 * AppendEntries per follower instead of n, and one acknowledgement from
 * each. 0.15 calls back once per raft_apply (for the first entry), so the
 * entries of a batch are answered from the FSM as each is applied, in
 * index order (their index is known once raft_apply returns). If the
 * node stops leading before they are applied, they complete with
 * CS_ELEADERLOST (the caller retries with the same request id, which the
 * FSM deduplicates); at close, with CS_ECANCELED. Nested corks count.
 * A proposal made while corked returns 0 unless it is invalid (CS_EINVAL)
 * or the node cannot serve writes now: the error of cs_replica_propose().
 */
void cs_replica_cork(struct cs_replica *r);
void cs_replica_uncork(struct cs_replica *r);
/* On: every loop turn is corked: proposals made during a turn reach raft
 * together when the monitor runs, before the loop waits for I/O (owned
 * mode only: the monitor is the loop's prepare handle). */
void cs_replica_autocork(struct cs_replica *r, bool on);

/* ---- linearizable reads ---- */

struct cs_barrier;
typedef void (*cs_barrier_cb)(struct cs_barrier *req, int status);

struct cs_barrier {
	void *data;
	/* private */
	struct raft_barrier barrier;
	struct cs_replica *r;
	cs_barrier_cb cb;
};

/* Runs a raft barrier: when the callback reports 0, every entry committed
 * before the call is applied here and this node was leader in a term a
 * majority acknowledged. Same errors as propose. */
int cs_replica_barrier(struct cs_replica *r, struct cs_barrier *req,
    cs_barrier_cb cb);

/* ---- membership and leadership ---- */

struct cs_change;
typedef void (*cs_change_cb)(struct cs_change *req, int status);

struct cs_change {
	void *data;
	/* private */
	struct raft_change change;
	struct cs_replica *r;
	cs_change_cb cb;
	uint64_t id;
	int step;
};

/* Adds a server as spare, then promotes it to voter once it caught up
 * (raft's catch-up rounds). Leader only. Errors: CS_ENOTLEADER,
 * CS_EBUSY (another change is pending), CS_EEXIST (id or address in
 * use), CS_EINVAL. Callback: 0, or CS_ETIMEDOUT when the new server did
 * not catch up (it stays a spare), CS_ELEADERLOST, CS_ECANCELED. */
int cs_replica_join(struct cs_replica *r, struct cs_change *req, uint64_t id,
    const char *address, cs_change_cb cb);

/* Removes a server. Errors: CS_ENOTLEADER, CS_EBUSY, CS_ENOTFOUND. */
int cs_replica_remove(struct cs_replica *r, struct cs_change *req, uint64_t id,
    cs_change_cb cb);

struct cs_transfer;
typedef void (*cs_transfer_cb)(struct cs_transfer *req, int status);

struct cs_transfer {
	void *data;
	/* private */
	struct raft_transfer transfer;
	struct cs_replica *r;
	cs_transfer_cb cb;
	uint64_t target;
};

/* Transfers leadership to id (0: any up-to-date voter). Callback: 0 when
 * this node no longer leads, CS_ETIMEDOUT when it still does after the
 * election timeout (0.15 sends TimeoutNow once: writes in flight can make
 * it miss; retry). Errors: CS_ENOTLEADER, CS_ENOTFOUND (no voter),
 * CS_EINVAL (not a voter, or self). */
int cs_replica_transfer(struct cs_replica *r, struct cs_transfer *req,
    uint64_t id, cs_transfer_cb cb);

/* ---- introspection ---- */

struct cs_replica_member {
	uint64_t id;
	char address[64];
	int role; /* RAFT_VOTER, RAFT_STANDBY, RAFT_SPARE */
};

int cs_replica_state(const struct cs_replica *r);
/* Leader and the post-election barrier applied. */
bool cs_replica_ready(const struct cs_replica *r);
uint64_t cs_replica_id(const struct cs_replica *r);
/* The leader's id, 0 when unknown (self when leading). */
uint64_t cs_replica_leader(const struct cs_replica *r);
uint64_t cs_replica_term(const struct cs_replica *r);
uint64_t cs_replica_commit_index(const struct cs_replica *r);
uint64_t cs_replica_applied_index(const struct cs_replica *r);
uint64_t cs_replica_last_index(const struct cs_replica *r);
/* The current configuration; returns the count (fills at most max). */
size_t cs_replica_members(const struct cs_replica *r,
    struct cs_replica_member *out, size_t max);
/* Whether this node hears from member id: 1 yes, 0 no, -1 unknown. A
 * leader knows for every member (a reply within the election timeout);
 * a follower knows only for the leader. */
int cs_replica_reachable(const struct cs_replica *r, uint64_t id);
/* Whether raft_uv may append with RWF_NOWAIT kernel AIO (raft/kaio.c;
 * default no: the thread pool). Call before cs_replica_new(). */
void cs_replica_kernel_aio(bool on);

/* How long (ms) this node has known no leader, as the monitor saw it on
 * its last turn; 0 while it knows one; UINT64_MAX when it has known none
 * since it started (a restarted node has applied its snapshot but not
 * the log after it, which waits for a leader's commit index: its state
 * may be older than any bound). Status answers (OCSP) stop vouching for
 * freshness past a bound. */
uint64_t cs_replica_leaderless_ms(const struct cs_replica *r);
struct cs_fsm *cs_replica_fsm(struct cs_replica *r);
const char *cs_replica_errmsg(const struct cs_replica *r);

#endif
