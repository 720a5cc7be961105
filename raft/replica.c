#include "raft/replica.h"

#include <assert.h>
#include <raft/uv.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "raft/transport.h"

/* A FIFO of proposals, linked through their next. */
struct plist {
	struct cs_propose *head, *tail;
};

static void
plist_push(struct plist *l, struct cs_propose *p)
{
	p->next = NULL;
	if (l->tail != NULL)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
}

static struct cs_propose *
plist_pop(struct plist *l)
{
	struct cs_propose *p = l->head;

	if (p != NULL) {
		l->head = p->next;
		if (l->head == NULL)
			l->tail = NULL;
		p->next = NULL;
	}
	return p;
}

struct cs_replica {
	struct raft *raft;
	struct cs_fsm *fsm;
	struct cs_replica_hooks hooks;
	bool own;     /* raft, io, transport and fsm below are ours */
	bool started; /* raft_init succeeded: raft_close is owed */
	bool closing;

	/* the monitor's view */
	int state;
	bool ready;
	bool ready_told; /* hooks.leader_ready called for this term */
	bool barrier_inflight;
	uint64_t barrier_term;
	uint64_t leader_seen; /* raft I/O time (ms) a leader was last known */
	struct raft_barrier elect; /* the post-election barrier */

	/* batched proposals (cs_replica_cork) */
	unsigned corked;
	bool autocork;     /* the monitor uncorks at the end of the turn */
	bool autocork_on;  /* cs_replica_autocork() */
	struct plist cork; /* proposed while corked */
	unsigned cork_n;
	struct plist fly; /* batched, in raft, by index */

	/* owned mode */
	uv_loop_t *loop;
	struct raft raft_own;
	struct raft_io io;
	struct cs_transport transport;
	struct cs_fsm fsm_own;
	struct raft_tracer tracer;
	uv_prepare_t monitor;
	uv_timer_t close_timer;
	int handles_open;
	cs_replica_close_cb close_cb;
	void *close_data;
	char errmsg[CS_ERRMSG_SIZE];
};

int
cs_err_from_raft(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case RAFT_NOMEM:
		return CS_ENOMEM;
	case RAFT_NOTLEADER:
		return CS_ENOTLEADER;
	case RAFT_LEADERSHIPLOST:
		return CS_ELEADERLOST;
	case RAFT_SHUTDOWN:
	case RAFT_CANCELED:
		return CS_ECANCELED;
	case RAFT_CANTCHANGE:
	case RAFT_BUSY:
		return CS_EBUSY;
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
		return CS_EEXIST;
	case RAFT_BADID:
	case RAFT_NOTFOUND:
		return CS_ENOTFOUND;
	case RAFT_NOCONNECTION:
		return CS_ETIMEDOUT;
	case RAFT_TOOBIG:
		return CS_ETOOBIG;
	case RAFT_MALFORMED:
	case RAFT_CORRUPT:
		return CS_EPROTO;
	case RAFT_BADROLE:
	case RAFT_INVALID:
	case RAFT_NAMETOOLONG:
		return CS_EINVAL;
	default:
		return CS_EIO; /* IOERR, NOSPACE, UNAUTHORIZED, TOOMANY... */
	}
}

const char *
cs_replica_state_name(int state)
{
	switch (state) {
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	case RAFT_LEADER:
		return "leader";
	default:
		return "unavailable";
	}
}

/* A request completing while the replica closes reports CS_ECANCELED,
 * whatever raft said (raft_close fails them with LEADERSHIPLOST). */
static int
status_of(const struct cs_replica *r, int raft_status)
{
	if (raft_status != 0 && r->closing)
		return CS_ECANCELED;
	return cs_err_from_raft(raft_status);
}

/* ---- batched proposals in flight ---- */

/* Completes every batched proposal still waiting with status. */
static void
fail_flying(struct cs_replica *r, int status)
{
	struct cs_propose *p;

	while ((p = plist_pop(&r->fly)) != NULL)
		p->cb(p, status, NULL);
}

/* The FSM applied an entry: if it is the next batched proposal's, its
 * answer. Inside raft's apply loop, as raft's own apply callbacks. */
static void
on_fsm_applied(struct cs_fsm *f, const struct cs_result *res, void *data)
{
	struct cs_replica *r = data;
	uint64_t index = raft_last_applied(f->raft) + 1; /* 0.15: see fsm.c */
	struct cs_propose *p;
	struct cs_result copy;

	if (raft_state(r->raft) != RAFT_LEADER)
		return; /* not leading: the monitor fails them */
	while ((p = r->fly.head) != NULL && p->index < index) {
		/* passed without being applied here: cannot happen while
		 * leading, but nobody must wait for it forever */
		plist_pop(&r->fly);
		p->cb(p, CS_ELEADERLOST, NULL);
	}
	if (p == NULL || p->index != index)
		return; /* an entry of another kind, or of a single proposal */
	plist_pop(&r->fly);
	copy = *res; /* scratch: copy */
	p->cb(p, 0, &copy);
}

/* ---- the monitor ---- */

static void
on_elect_barrier(struct raft_barrier *b, int status)
{
	struct cs_replica *r = cs_container_of(b, struct cs_replica, elect);

	r->barrier_inflight = false;
	if (r->closing || status != 0)
		return; /* lost it again; the monitor retries if needed */
	if (raft_state(r->raft) == RAFT_LEADER &&
	    r->raft->current_term == r->barrier_term) {
		r->ready = true;
		cs_log(CS_LOG_INFO, "raft leader-ready id=%llu term=%llu",
		    (unsigned long long)r->raft->id,
		    (unsigned long long)r->barrier_term);
		/* the hook runs from the monitor, outside raft's callbacks */
	}
}

void
cs_replica_check(struct cs_replica *r)
{
	int state;

	if (r->closing || !r->started)
		return;
	state = raft_state(r->raft);
	/* the clock starts at the first leader, not at start: a node that
	 * restarts holds its snapshot, and its log only once a leader says
	 * what is committed, so until then its state is of unknown age */
	if (state == RAFT_LEADER || cs_replica_leader(r) != 0)
		r->leader_seen = r->raft->io->time(r->raft->io);
	if (state != RAFT_LEADER)
		fail_flying(r, CS_ELEADERLOST);
	if (state != r->state) {
		int old = r->state;

		r->state = state;
		r->ready = false;
		r->ready_told = false;
		cs_log(CS_LOG_INFO,
		    "raft state id=%llu from=%s to=%s term=%llu",
		    (unsigned long long)r->raft->id, cs_replica_state_name(old),
		    cs_replica_state_name(state),
		    (unsigned long long)r->raft->current_term);
		if (r->hooks.state_changed != NULL)
			r->hooks.state_changed(r, old, state, r->hooks.data);
		if (state == RAFT_UNAVAILABLE) {
			cs_log(CS_LOG_ERR,
			    "raft unavailable id=%llu msg=\"%s\"",
			    (unsigned long long)r->raft->id,
			    raft_errmsg(r->raft));
			if (r->hooks.unavailable != NULL)
				r->hooks.unavailable(r, r->hooks.data);
			return;
		}
	}
	if (r->ready && !r->ready_told) {
		r->ready_told = true;
		if (r->hooks.leader_ready != NULL)
			r->hooks.leader_ready(r, r->hooks.data);
	}
	/* A new leader proves its term with a barrier before serving
	 * (0.15 appends no entry on election). Retried while it fails. */
	if (state == RAFT_LEADER && !r->ready && !r->barrier_inflight) {
		int rv;

		r->barrier_term = r->raft->current_term;
		rv = raft_barrier(r->raft, &r->elect, on_elect_barrier);
		if (rv == 0)
			r->barrier_inflight = true;
	}
}

uint64_t
cs_replica_leaderless_ms(const struct cs_replica *r)
{
	uint64_t now;

	if (!r->started)
		return 0;
	if (r->leader_seen == 0)
		return UINT64_MAX; /* none known since this process started */
	now = r->raft->io->time(r->raft->io);
	return now > r->leader_seen ? now - r->leader_seen : 0;
}

static void
on_monitor(uv_prepare_t *h)
{
	struct cs_replica *r = cs_container_of(h, struct cs_replica, monitor);

	/* the end of a loop turn (before it waits for I/O): what was
	 * proposed during the turn goes to raft together */
	if (r->corked > 0 && r->autocork) {
		r->autocork = false;
		cs_replica_uncork(r);
	}
	cs_replica_check(r);
}

static void
on_trace(struct raft_tracer *t, const char *file, int line, const char *msg)
{
	(void)t;
	cs_log(CS_LOG_DEBUG, "raft-trace at=%s:%d %s", file, line, msg);
}

/* ---- lifecycle ---- */

static void
on_handle_closed(uv_handle_t *h)
{
	struct cs_replica *r = h->data;

	if (--r->handles_open > 0)
		return;
	cs_fsm_close(r->fsm);
	if (r->close_cb != NULL)
		r->close_cb(r, r->close_data);
	free(r);
}

static void
on_raft_closed(struct raft *raft)
{
	struct cs_replica *r = raft->data;

	/* raft failed what it held; batched entries past a batch's first
	 * one it never knew about */
	fail_flying(r, CS_ECANCELED);
	/* now, and only now, raft_uv and the transport may go */
	raft_uv_close(&r->io);
	cs_transport_close(&r->transport);
	uv_close((uv_handle_t *)&r->monitor, on_handle_closed);
	uv_close((uv_handle_t *)&r->close_timer, on_handle_closed);
}

static void
on_close_timer(uv_timer_t *t)
{
	struct cs_replica *r =
	    cs_container_of(t, struct cs_replica, close_timer);

	/* a fresh loop turn: never inside a raft callback */
	raft_close(r->raft, on_raft_closed);
}

void
cs_replica_close(struct cs_replica *r, cs_replica_close_cb cb, void *data)
{
	if (r->closing)
		return;
	r->closing = true;
	r->close_cb = cb;
	r->close_data = data;
	assert(r->own);
	uv_prepare_stop(&r->monitor);
	if (r->autocork) {
		/* what the turn proposed completes with CS_ECANCELED */
		r->autocork = false;
		cs_replica_uncork(r);
	}
	uv_timer_start(&r->close_timer, on_close_timer, 0, 0);
}

static void
replica_tune(struct cs_replica *r, const struct cs_replica_config *cfg)
{
	struct raft *raft = r->raft;

#define OR(v, d) ((v) != 0 ? (v) : (d))
	raft_set_election_timeout(raft, OR(cfg->election_timeout_ms, 1000));
	raft_set_heartbeat_timeout(raft, OR(cfg->heartbeat_timeout_ms, 100));
	raft_set_install_snapshot_timeout(raft,
	    OR(cfg->install_snapshot_timeout_ms, 30000));
	raft_set_snapshot_threshold(raft, OR(cfg->snapshot_threshold, 1024));
	cs_fsm_set_snapshot_base(r->fsm, OR(cfg->snapshot_threshold, 1024));
	raft_set_snapshot_trailing(raft, OR(cfg->snapshot_trailing, 2048));
	raft_set_max_catch_up_rounds(raft, OR(cfg->catch_up_rounds, 100));
	raft_set_max_catch_up_round_duration(raft,
	    OR(cfg->catch_up_round_ms, 30000));
	raft_set_pre_vote(raft, true);
#undef OR
}

static int
bootstrap(struct cs_replica *r, const struct cs_replica_config *cfg,
    char *errmsg)
{
	struct raft_configuration conf;
	bool member = false;
	int rv = 0;

	for (size_t i = 0; i < cfg->ninitial; i++)
		member = member || cfg->initial[i].id == cfg->id;
	if (!member)
		return 0; /* a joiner: waits for the leader to add it */
	raft_configuration_init(&conf);
	for (size_t i = 0; i < cfg->ninitial && rv == 0; i++)
		rv = raft_configuration_add(&conf, cfg->initial[i].id,
		    cfg->initial[i].address, RAFT_VOTER);
	if (rv == 0)
		rv = raft_bootstrap(r->raft, &conf);
	raft_configuration_close(&conf);
	if (rv == RAFT_CANTBOOTSTRAP)
		return 0; /* not pristine: this node has state already */
	if (rv != 0) {
		cs_errmsg_printf(errmsg, "raft bootstrap: %s (%s)",
		    raft_strerror(rv), raft_errmsg(r->raft));
		return cs_err_from_raft(rv);
	}
	cs_log(CS_LOG_INFO, "raft bootstrap id=%llu members=%zu",
	    (unsigned long long)cfg->id, cfg->ninitial);
	return 0;
}

int
cs_replica_new(uv_loop_t *loop, const struct cs_replica_config *cfg,
    const struct cs_replica_hooks *hooks, struct cs_replica **out, char *errmsg)
{
	struct cs_replica *r = cs_calloc(1, sizeof *r);
	int rv;

	r->own = true;
	r->loop = loop;
	r->raft = &r->raft_own;
	r->fsm = &r->fsm_own;
	if (hooks != NULL)
		r->hooks = *hooks;
	r->state = RAFT_UNAVAILABLE;
	r->tracer.emit = on_trace;
	r->tracer.enabled = cfg->trace;

	rv = cs_transport_init(&r->transport, loop, cfg->address);
	if (rv != 0) {
		cs_errmsg_printf(errmsg, "raft transport on %s: %s",
		    cfg->address, raft_strerror(rv));
		free(r);
		return cs_err_from_raft(rv);
	}
	rv = raft_uv_init(&r->io, loop, cfg->dir,
	    cs_transport_raft(&r->transport));
	if (rv != 0) {
		cs_errmsg_printf(errmsg, "raft I/O on %s: %s", cfg->dir,
		    raft_strerror(rv));
		cs_transport_close(&r->transport);
		free(r);
		return cs_err_from_raft(rv);
	}
	raft_uv_set_auto_recovery(&r->io, false);
	raft_uv_set_segment_size(&r->io,
	    cfg->segment_size != 0 ? cfg->segment_size : 8u << 20);
	raft_uv_set_connect_retry_delay(&r->io,
	    cfg->connect_retry_ms != 0 ? cfg->connect_retry_ms : 500);
	raft_uv_set_tracer(&r->io, &r->tracer);
	/* an older snapshot written either way is read either way */
	raft_uv_set_snapshot_compression(&r->io, cfg->snapshot_compression);
	cs_fsm_init(r->fsm);
	r->fsm->replica_cb = on_fsm_applied;
	r->fsm->replica_data = r;
	r->autocork_on = cfg->autocork;
	rv = raft_init(r->raft, &r->io, &r->fsm->fsm, cfg->id, cfg->address);
	if (rv != 0) {
		/* no raft_close after a failed raft_init (notes 1.2) */
		cs_errmsg_printf(errmsg, "raft init: %s (%s)",
		    rv > 0 ? raft_strerror(rv) : "incompatible FSM",
		    raft_errmsg(r->raft));
		raft_uv_close(&r->io);
		cs_transport_close(&r->transport);
		cs_fsm_close(r->fsm);
		free(r);
		return rv > 0 ? cs_err_from_raft(rv) : CS_EINVAL;
	}
	r->started = true;
	r->raft->data = r;
	r->raft->tracer = &r->tracer;
	r->fsm->raft = r->raft;
	replica_tune(r, cfg);
	uv_prepare_init(loop, &r->monitor);
	uv_timer_init(loop, &r->close_timer);
	r->monitor.data = r;
	r->close_timer.data = r;
	r->handles_open = 2;
	uv_prepare_start(&r->monitor, on_monitor);

	rv = bootstrap(r, cfg, errmsg);
	if (rv == 0) {
		rv = raft_start(r->raft);
		if (rv != 0) {
			cs_errmsg_printf(errmsg, "raft start: %s (%s)",
			    raft_strerror(rv), raft_errmsg(r->raft));
			rv = cs_err_from_raft(rv);
		}
	}
	*out = r; /* even on error: raft_close is owed (notes 1.2) */
	if (rv == 0)
		cs_replica_check(r);
	return rv;
}

struct cs_replica *
cs_replica_attach(struct raft *raft, struct cs_fsm *fsm,
    const struct cs_replica_hooks *hooks)
{
	struct cs_replica *r = cs_calloc(1, sizeof *r);

	r->raft = raft;
	r->fsm = fsm;
	fsm->raft = raft;
	fsm->replica_cb = on_fsm_applied;
	fsm->replica_data = r;
	if (hooks != NULL)
		r->hooks = *hooks;
	r->state = RAFT_UNAVAILABLE;
	r->started = true;
	return r;
}

void
cs_replica_detach(struct cs_replica *r)
{
	free(r);
}

/* ---- writes and reads ---- */

static int
can_serve(const struct cs_replica *r)
{
	if (r->closing)
		return CS_ECANCELED;
	if (raft_state(r->raft) != RAFT_LEADER)
		return CS_ENOTLEADER;
	/* the monitor may not have run since the election */
	if (!r->ready)
		return CS_EBUSY;
	return 0;
}

static void
on_applied(struct raft_apply *a, int status, void *result)
{
	struct cs_propose *req = cs_container_of(a, struct cs_propose, apply);
	struct cs_result res;

	if (status == 0) {
		res = *(const struct cs_result *)result; /* scratch: copy */
		req->cb(req, 0, &res);
		return;
	}
	req->cb(req, status_of(req->r, status), NULL);
}

/* raft's callback for a batch: once, for its first entry; on success the
 * FSM hook has answered that entry already. */
struct batch {
	struct raft_apply apply;
	struct cs_replica *r;
	unsigned n;
};

static void
on_batch_applied(struct raft_apply *a, int status, void *result)
{
	struct batch *b = cs_container_of(a, struct batch, apply);
	struct cs_replica *r = b->r;
	uint64_t first = a->index;

	(void)result;
	if (status != 0) {
		int st = status_of(r, status);
		struct plist keep = {NULL, NULL};
		struct cs_propose *p;

		/* none of the batch was applied: fail its entries, keep the
		 * others (in index order) */
		while ((p = plist_pop(&r->fly)) != NULL) {
			if (p->index >= first && p->index < first + b->n)
				p->cb(p, st, NULL);
			else
				plist_push(&keep, p);
		}
		r->fly = keep;
	}
	free(b);
}

void
cs_replica_cork(struct cs_replica *r)
{
	r->corked++;
}

void
cs_replica_autocork(struct cs_replica *r, bool on)
{
	r->autocork_on = on;
}

void
cs_replica_uncork(struct cs_replica *r)
{
	struct cs_propose *p, *q;
	struct raft_buffer *bufs;
	struct batch *b;
	unsigned n = r->cork_n, i;
	int rc, rv;

	assert(r->corked > 0);
	if (--r->corked > 0 || n == 0)
		return;
	p = r->cork.head;
	r->cork.head = r->cork.tail = NULL;
	r->cork_n = 0;
	rc = can_serve(r);
	if (rc == 0 && n == 1) {
		/* alone: raft's callback answers it */
		rv = raft_apply(r->raft, &p->apply, &p->buf, 1, on_applied);
		if (rv == 0)
			return;
		raft_free(p->buf.base);
		p->cb(p, status_of(r, rv), NULL);
		return;
	}
	bufs = cs_calloc(n, sizeof *bufs);
	for (q = p, i = 0; q != NULL; q = q->next, i++)
		bufs[i] = q->buf;
	b = cs_calloc(1, sizeof *b);
	b->r = r;
	b->n = n;
	rv = rc == 0 ? raft_apply(r->raft, &b->apply, bufs, n, on_batch_applied)
		     : 0;
	free(bufs); /* raft copied the array; the buffers are its now */
	if (rc < 0 || rv != 0) {
		int st = rc < 0 ? rc : status_of(r, rv);

		free(b);
		while (p != NULL) {
			q = p->next;
			raft_free(p->buf.base);
			p->next = NULL;
			p->cb(p, st, NULL);
			p = q;
		}
		return;
	}
	for (i = 0; p != NULL; p = q, i++) {
		q = p->next;
		p->index = b->apply.index + i;
		plist_push(&r->fly, p);
	}
}

int
cs_replica_propose(struct cs_replica *r, struct cs_propose *req,
    const uint8_t *entry, size_t len, cs_propose_cb cb)
{
	struct raft_buffer buf;
	int rc = can_serve(r);
	int rv;

	if (rc < 0)
		return rc;
	if (len == 0 || len % 8 != 0)
		return CS_EINVAL; /* 0.15 would corrupt it on disk */
	buf.len = len;
	buf.base = raft_malloc(len);
	if (buf.base == NULL)
		return CS_ENOMEM;
	memcpy(buf.base, entry, len);
	req->r = r;
	req->cb = cb;
	req->next = NULL;
	if (r->autocork_on && !r->autocork && !r->closing) {
		r->autocork = true;
		r->corked++;
	}
	if (r->corked > 0) {
		req->buf = buf;
		plist_push(&r->cork, req);
		r->cork_n++;
		return 0;
	}
	rv = raft_apply(r->raft, &req->apply, &buf, 1, on_applied);
	if (rv != 0) {
		raft_free(buf.base); /* still ours on failure */
		return cs_err_from_raft(rv);
	}
	return 0;
}

static void
on_barrier(struct raft_barrier *b, int status)
{
	struct cs_barrier *req = cs_container_of(b, struct cs_barrier, barrier);

	req->cb(req, status_of(req->r, status));
}

int
cs_replica_barrier(struct cs_replica *r, struct cs_barrier *req,
    cs_barrier_cb cb)
{
	int rc = can_serve(r);
	int rv;

	if (rc < 0)
		return rc;
	req->r = r;
	req->cb = cb;
	rv = raft_barrier(r->raft, &req->barrier, on_barrier);
	return cs_err_from_raft(rv);
}

/* ---- membership ---- */

static void
on_change(struct raft_change *c, int status)
{
	struct cs_change *req = cs_container_of(c, struct cs_change, change);
	struct cs_replica *r = req->r;
	int rv;

	if (status == 0 && req->step == 1 && !r->closing) {
		/* added as spare: now promote, which runs catch-up rounds */
		req->step = 2;
		rv = raft_assign(r->raft, &req->change, req->id, RAFT_VOTER,
		    on_change);
		if (rv == 0)
			return;
		status = rv;
	}
	req->cb(req, status_of(r, status));
}

int
cs_replica_join(struct cs_replica *r, struct cs_change *req, uint64_t id,
    const char *address, cs_change_cb cb)
{
	int rc = can_serve(r);
	int rv;

	if (rc < 0)
		return rc;
	if (id == 0 || address == NULL || address[0] == '\0')
		return CS_EINVAL;
	req->r = r;
	req->cb = cb;
	req->id = id;
	req->step = 1;
	rv = raft_add(r->raft, &req->change, id, address, on_change);
	return cs_err_from_raft(rv);
}

int
cs_replica_remove(struct cs_replica *r, struct cs_change *req, uint64_t id,
    cs_change_cb cb)
{
	int rc = can_serve(r);
	int rv;

	if (rc < 0)
		return rc;
	req->r = r;
	req->cb = cb;
	req->id = id;
	req->step = 0;
	rv = raft_remove(r->raft, &req->change, id, on_change);
	return cs_err_from_raft(rv);
}

static void
on_transfer(struct raft_transfer *t)
{
	struct cs_transfer *req =
	    cs_container_of(t, struct cs_transfer, transfer);
	struct cs_replica *r = req->r;
	int status = 0;

	/* 0.15 gives no status: success is "no longer leading" */
	if (r->closing)
		status = CS_ECANCELED;
	else if (raft_state(r->raft) == RAFT_LEADER)
		status = CS_ETIMEDOUT;
	req->cb(req, status);
}

int
cs_replica_transfer(struct cs_replica *r, struct cs_transfer *req, uint64_t id,
    cs_transfer_cb cb)
{
	int rv;

	if (r->closing)
		return CS_ECANCELED;
	if (raft_state(r->raft) != RAFT_LEADER)
		return CS_ENOTLEADER;
	if (id == r->raft->id)
		return CS_EINVAL;
	req->r = r;
	req->cb = cb;
	req->target = id;
	rv = raft_transfer(r->raft, &req->transfer, id, on_transfer);
	if (rv == RAFT_BADID)
		return CS_EINVAL;
	return cs_err_from_raft(rv);
}

/* ---- introspection ---- */

int
cs_replica_state(const struct cs_replica *r)
{
	return raft_state(r->raft);
}

bool
cs_replica_ready(const struct cs_replica *r)
{
	return r->ready && raft_state(r->raft) == RAFT_LEADER;
}

uint64_t
cs_replica_id(const struct cs_replica *r)
{
	return r->raft->id;
}

uint64_t
cs_replica_leader(const struct cs_replica *r)
{
	raft_id id = 0;
	const char *address = NULL;

	raft_leader(r->raft, &id, &address);
	return id;
}

uint64_t
cs_replica_term(const struct cs_replica *r)
{
	return r->raft->current_term;
}

uint64_t
cs_replica_commit_index(const struct cs_replica *r)
{
	return r->raft->commit_index;
}

uint64_t
cs_replica_applied_index(const struct cs_replica *r)
{
	return raft_last_applied(r->raft);
}

uint64_t
cs_replica_last_index(const struct cs_replica *r)
{
	return raft_last_index(r->raft);
}

size_t
cs_replica_members(const struct cs_replica *r, struct cs_replica_member *out,
    size_t max)
{
	const struct raft_configuration *c = &r->raft->configuration;

	for (unsigned i = 0; i < c->n && i < max; i++) {
		out[i].id = c->servers[i].id;
		snprintf(out[i].address, sizeof out[i].address, "%s",
		    c->servers[i].address);
		out[i].role = c->servers[i].role;
	}
	return c->n;
}

int
cs_replica_reachable(const struct cs_replica *r, uint64_t id)
{
	struct raft *raft = r->raft;

	if (id == raft->id)
		return 1;
	if (raft->state == RAFT_LEADER) {
		for (unsigned i = 0; i < raft->configuration.n; i++) {
			if (raft->configuration.servers[i].id == id)
				return raft->leader_state.progress[i]
					       .recent_recv
					   ? 1
					   : 0;
		}
		return -1;
	}
	if (raft->state == RAFT_FOLLOWER &&
	    raft->follower_state.current_leader.id == id) {
		raft_time now = raft->io->time(raft->io);

		return now - raft->election_timer_start < raft->election_timeout
			   ? 1
			   : 0;
	}
	return -1;
}

struct cs_fsm *
cs_replica_fsm(struct cs_replica *r)
{
	return r->fsm;
}

const char *
cs_replica_errmsg(const struct cs_replica *r)
{
	return r->own ? raft_errmsg(r->raft) : "";
}
