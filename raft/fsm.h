/*
 * fsm.h - the raft state machine: committed entries -> cs_cmd_apply() on
 * the store; snapshots of the store by reference.
 *
 * FSM version 2 with snapshot_finalize: snapshot() takes references to
 * the store's immutable records (no copying or encoding on the loop), raft
 * compresses and writes those bytes on its threadpool, and
 * snapshot_finalize() drops the references once raft is done with them.
 * At most one snapshot is outstanding (raft guarantees it; a second
 * request gets RAFT_BUSY).
 *
 * apply() never fails (notes/raft-0.15.md: a non-zero return stalls the
 * node): business outcomes are in the result. The entry's log index is
 * raft_last_applied() + 1 during apply in 0.15 (last_applied is bumped
 * after the FSM returns); tests pin this down.
 *
 * restore() replaces the whole store, all or nothing; the old store is
 * freed (records still referenced by an outstanding snapshot live on).
 * Never cache cs_fsm_store() across loop turns: a restore replaces it.
 *
 * Loop thread only.
 */
#ifndef CS_FSM_H
#define CS_FSM_H

#include <raft.h>
#include <stdint.h>

#include "cert/cmd.h"
#include "cert/store.h"

struct cs_fsm;

/* Called after every applied entry (on every node) and after a restore
 * (res NULL), e.g. to drop cached OCSP responses or wake waiters. */
typedef void (*cs_fsm_applied_cb)(struct cs_fsm *f, const struct cs_result *res,
    void *data);

struct cs_fsm {
	struct raft_fsm fsm; /* give &fsm to raft_init() */
	struct raft *raft;   /* set once raft is initialised */
	/* private */
	struct cs_store *store;
	struct cs_result last; /* the result handed to the apply callback */
	struct cs_snapshot *pending;
	struct raft_buffer *bufs; /* reused from snapshot to snapshot */
	size_t cap_bufs;
	cs_fsm_applied_cb applied_cb;
	void *applied_data;
	cs_fsm_applied_cb replica_cb; /* the replica's (batched proposals) */
	void *replica_data;
	unsigned snapshot_base; /* 0: raft's threshold is left alone */
	/* statistics */
	uint64_t snapshots;
	uint64_t snapshot_take_max_us; /* longest time snapshot() held the
					  loop */
	uint64_t snapshot_take_last_us;
	uint64_t restores;
};

/* Starts with an empty store. */
void cs_fsm_init(struct cs_fsm *f);
void cs_fsm_close(struct cs_fsm *f);
void cs_fsm_set_applied_cb(struct cs_fsm *f, cs_fsm_applied_cb cb, void *data);
/* After each snapshot, sets raft's snapshot threshold to the larger of
 * base and a quarter of the store's records (certificates + keys). */
void cs_fsm_set_snapshot_base(struct cs_fsm *f, unsigned base);

/* The current store. View, valid until the next restore. */
struct cs_store *cs_fsm_store(const struct cs_fsm *f);

#endif
