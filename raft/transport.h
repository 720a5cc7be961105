/*
 * transport.h - raft's TCP transport, with TCP_NODELAY.
 *
 * libraft 0.15's raft_uv_tcp never sets TCP_NODELAY on its connections.
 * With one write in flight that costs nothing; with several, the
 * leader's next AppendEntries waits behind Nagle's algorithm for the
 * follower's delayed ACK (~40 ms), and throughput under concurrency fell
 * below that of a single writer (measured: 404 writes/s with one writer,
 * 166/s with five). This transport wraps raft_uv_tcp and sets
 * TCP_NODELAY on every stream it hands to raft, accepted or connected.
 * It is also where encrypting the raft port (DESIGN.md section 6) would
 * go.
 *
 * Lifecycle: cs_transport_init() before raft_uv_init() (give raft
 * cs_transport_raft()); cs_transport_close() after raft_uv_close(), as
 * for raft_uv_tcp_close(). Loop thread only.
 */
#ifndef CS_TRANSPORT_H
#define CS_TRANSPORT_H

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

struct cs_transport {
	struct raft_uv_transport pub; /* what raft sees */
	/* private */
	struct raft_uv_transport tcp; /* the wrapped raft_uv_tcp */
	raft_uv_accept_cb accept_cb;
	raft_uv_transport_close_cb close_cb;
};

/* bind_address "a.b.c.d:port" (the raft address). Returns 0 or a RAFT_*
 * code. */
int cs_transport_init(struct cs_transport *t, uv_loop_t *loop,
    const char *bind_address);
struct raft_uv_transport *cs_transport_raft(struct cs_transport *t);
void cs_transport_close(struct cs_transport *t);

#endif
