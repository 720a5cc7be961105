#include "raft/transport.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"

/* A connect request of ours around raft's. */
struct connect_req {
	struct raft_uv_connect inner;
	struct raft_uv_connect *outer;
	struct cs_transport *t;
};

static void
nodelay(struct uv_stream_s *stream)
{
	if (stream != NULL && stream->type == UV_TCP &&
	    uv_tcp_nodelay((uv_tcp_t *)stream, 1) != 0)
		cs_log(CS_LOG_WARN, "raft transport: cannot set TCP_NODELAY");
}

static int
t_init(struct raft_uv_transport *pub, raft_id id, const char *address)
{
	struct cs_transport *t = cs_container_of(pub, struct cs_transport, pub);
	int rv = t->tcp.init(&t->tcp, id, address);

	if (rv != 0)
		memcpy(pub->errmsg, t->tcp.errmsg, sizeof pub->errmsg);
	return rv;
}

static void
on_accept(struct raft_uv_transport *tcp, raft_id id, const char *address,
    struct uv_stream_s *stream)
{
	struct cs_transport *t = cs_container_of(tcp, struct cs_transport, tcp);

	nodelay(stream);
	t->accept_cb(&t->pub, id, address, stream);
}

static int
t_listen(struct raft_uv_transport *pub, raft_uv_accept_cb cb)
{
	struct cs_transport *t = cs_container_of(pub, struct cs_transport, pub);
	int rv;

	t->accept_cb = cb;
	rv = t->tcp.listen(&t->tcp, on_accept);
	if (rv != 0)
		memcpy(pub->errmsg, t->tcp.errmsg, sizeof pub->errmsg);
	return rv;
}

static void
on_connect(struct raft_uv_connect *inner, struct uv_stream_s *stream,
    int status)
{
	struct connect_req *c =
	    cs_container_of(inner, struct connect_req, inner);
	struct raft_uv_connect *outer = c->outer;

	free(c);
	if (status == 0)
		nodelay(stream);
	outer->cb(outer, stream, status);
}

static int
t_connect(struct raft_uv_transport *pub, struct raft_uv_connect *req,
    raft_id id, const char *address, raft_uv_connect_cb cb)
{
	struct cs_transport *t = cs_container_of(pub, struct cs_transport, pub);
	struct connect_req *c = cs_calloc(1, sizeof *c);
	int rv;

	req->cb = cb;
	c->outer = req;
	c->t = t;
	c->inner.data = req->data;
	rv = t->tcp.connect(&t->tcp, &c->inner, id, address, on_connect);
	if (rv != 0) {
		memcpy(pub->errmsg, t->tcp.errmsg, sizeof pub->errmsg);
		free(c);
	}
	return rv;
}

static void
on_closed(struct raft_uv_transport *tcp)
{
	struct cs_transport *t = cs_container_of(tcp, struct cs_transport, tcp);

	if (t->close_cb != NULL)
		t->close_cb(&t->pub);
}

static void
t_close(struct raft_uv_transport *pub, raft_uv_transport_close_cb cb)
{
	struct cs_transport *t = cs_container_of(pub, struct cs_transport, pub);

	t->close_cb = cb;
	t->tcp.close(&t->tcp, on_closed);
}

int
cs_transport_init(struct cs_transport *t, uv_loop_t *loop,
    const char *bind_address)
{
	int rv;

	memset(t, 0, sizeof *t);
	rv = raft_uv_tcp_init(&t->tcp, loop);
	if (rv != 0)
		return rv;
	rv = raft_uv_tcp_set_bind_address(&t->tcp, bind_address);
	if (rv != 0) {
		raft_uv_tcp_close(&t->tcp);
		return rv;
	}
	t->pub.init = t_init;
	t->pub.listen = t_listen;
	t->pub.connect = t_connect;
	t->pub.close = t_close;
	return 0;
}

struct raft_uv_transport *
cs_transport_raft(struct cs_transport *t)
{
	return &t->pub;
}

void
cs_transport_close(struct cs_transport *t)
{
	raft_uv_tcp_close(&t->tcp);
}
