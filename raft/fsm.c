#include "raft/fsm.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert/snapshot.h"
#include "lib/mem.h"

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
fsm_apply(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
	struct cs_fsm *f = rf->data;
	uint64_t index = raft_last_applied(f->raft) + 1;

	cs_cmd_apply_entry(f->store, buf->base, buf->len, index, &f->last);
	*result = &f->last;
	if (f->applied_cb != NULL)
		f->applied_cb(f, &f->last, f->applied_data);
	if (f->replica_cb != NULL)
		f->replica_cb(f, &f->last, f->replica_data);
	return 0; /* always: see fsm.h */
}

static int
fsm_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n)
{
	struct cs_fsm *f = rf->data;
	uint64_t t0 = now_us();
	const struct cs_bytes *b;
	size_t nb;

	if (f->pending != NULL)
		return RAFT_BUSY;
	f->pending = cs_snapshot_take(f->store);
	b = cs_snapshot_bufs(f->pending, &nb);
	/* kept between snapshots: touching fresh memory is what costs */
	if (nb > f->cap_bufs) {
		free(f->bufs);
		f->bufs = cs_calloc(nb, sizeof *f->bufs);
		f->cap_bufs = nb;
	}
	for (size_t i = 0; i < nb; i++) {
		/* raft only reads these (threadpool): records are
		 * immutable, see cert/snapshot.h */
		f->bufs[i].base = (void *)(uintptr_t)b[i].p;
		f->bufs[i].len = b[i].len;
	}
	*bufs = f->bufs;
	*n = (unsigned)nb;
	f->snapshots++;
	/* The next snapshot after a quarter of the state's size in new
	 * entries: the cost of snapshots stays proportional to the writes
	 * (a 1M-certificate store is not rewritten every 8192 entries),
	 * and a restart replays at most that many entries. */
	if (f->snapshot_base > 0 && f->raft != NULL) {
		size_t records = cs_store_cert_count(f->store) +
				 cs_store_key_count(f->store);
		unsigned next =
		    (unsigned)(records / 4 < UINT32_MAX ? records / 4
							: UINT32_MAX);

		raft_set_snapshot_threshold(f->raft,
		    next > f->snapshot_base ? next : f->snapshot_base);
	}
	f->snapshot_take_last_us = now_us() - t0;
	if (f->snapshot_take_last_us > f->snapshot_take_max_us)
		f->snapshot_take_max_us = f->snapshot_take_last_us;
	return 0;
}

static int
fsm_snapshot_finalize(struct raft_fsm *rf, struct raft_buffer *bufs[],
    unsigned *n)
{
	struct cs_fsm *f = rf->data;

	(void)bufs;
	(void)n;
	cs_snapshot_release(f->pending);
	f->pending = NULL;
	return 0;
}

static int
fsm_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
	struct cs_fsm *f = rf->data;
	struct cs_store *s = NULL;
	int rc;

	/* in place: the store keeps buf (raft_malloc memory, ours on
	 * success) as the home of its records */
	rc = cs_snapshot_load(buf->base, buf->len, raft_free, &s,
	    f->raft != NULL ? f->raft->errmsg : NULL);
	if (rc < 0)
		return RAFT_MALFORMED; /* raft frees buf on failure */
	cs_store_free(f->store);
	f->store = s;
	f->restores++;
	if (f->applied_cb != NULL)
		f->applied_cb(f, NULL, f->applied_data);
	return 0;
}

void
cs_fsm_init(struct cs_fsm *f)
{
	memset(f, 0, sizeof *f);
	f->fsm.version = 2;
	f->fsm.data = f;
	f->fsm.apply = fsm_apply;
	f->fsm.snapshot = fsm_snapshot;
	f->fsm.snapshot_finalize = fsm_snapshot_finalize;
	f->fsm.restore = fsm_restore;
	f->store = cs_store_new();
}

void
cs_fsm_close(struct cs_fsm *f)
{
	cs_snapshot_release(f->pending);
	f->pending = NULL;
	free(f->bufs);
	f->bufs = NULL;
	cs_store_free(f->store);
	f->store = NULL;
}

void
cs_fsm_set_snapshot_base(struct cs_fsm *f, unsigned base)
{
	f->snapshot_base = base;
}

void
cs_fsm_set_applied_cb(struct cs_fsm *f, cs_fsm_applied_cb cb, void *data)
{
	f->applied_cb = cb;
	f->applied_data = data;
}

struct cs_store *
cs_fsm_store(const struct cs_fsm *f)
{
	return f->store;
}
