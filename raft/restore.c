#include "raft/restore.h"

#include <raft.h>
#include <raft/uv.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cert/snapshot.h"
#include "lib/error.h"
#include "lib/mem.h"

struct put {
	struct raft_io_snapshot_put req;
	bool done;
	int status;
};

static void
on_put(struct raft_io_snapshot_put *req, int status)
{
	struct put *p = cs_container_of(req, struct put, req);

	p->done = true;
	p->status = status;
}

static void
on_io_closed(struct raft_io *io)
{
	*(bool *)io->data = true;
}

int
cs_restore(const char *dir, uint64_t id, const char *address,
    const struct cs_replica_peer *members, size_t nmembers,
    const uint8_t *backup, size_t len, uint64_t *index, char *errmsg)
{
	struct cs_store *store = NULL;
	uv_loop_t loop;
	struct raft_uv_transport transport;
	struct raft_io io;
	struct raft_snapshot snap, *loaded = NULL;
	struct raft_entry *entries = NULL;
	struct raft_buffer buf;
	raft_term term = 0;
	raft_id vote = 0;
	raft_index start = 0;
	size_t nentries = 0;
	struct put put;
	bool closed = false, io_ready = false;
	int rv, rc = CS_EIO;

	memset(&snap, 0, sizeof snap);
	rc = cs_snapshot_decode(backup, len, &store, errmsg);
	if (rc < 0) {
		cs_errmsg_wrapf(errmsg, "backup");
		return CS_EPROTO;
	}
	snap.index = cs_store_applied_index(store) > 0
			 ? cs_store_applied_index(store)
			 : 1;
	cs_store_free(store);
	rc = CS_EIO;

	uv_loop_init(&loop);
	rv = raft_uv_tcp_init(&transport, &loop);
	if (rv == 0)
		rv = raft_uv_init(&io, &loop, dir, &transport);
	if (rv != 0) {
		cs_errmsg_printf(errmsg, "raft I/O on %s: %s", dir,
		    raft_strerror(rv));
		goto out_transport;
	}
	io.data = &closed;
	raft_uv_set_auto_recovery(&io, false);
	rv = io.init(&io, id, address);
	if (rv != 0) {
		cs_errmsg_printf(errmsg, "raft I/O on %s: %s", dir, io.errmsg);
		goto out_io;
	}
	io_ready = true;
	rv = io.load(&io, &term, &vote, &loaded, &start, &entries, &nentries);
	if (rv != 0) {
		cs_errmsg_printf(errmsg, "reading %s: %s", dir, io.errmsg);
		goto out_io;
	}
	if (term != 0 || loaded != NULL || nentries != 0) {
		cs_errmsg_printf(errmsg,
		    "%s already holds raft state (term %llu, %zu entries): "
		    "restore only into an empty data directory",
		    dir, (unsigned long long)term, nentries);
		rc = CS_EEXIST;
		goto out_io;
	}
	raft_configuration_init(&snap.configuration);
	for (size_t i = 0; i < nmembers; i++) {
		rv = raft_configuration_add(&snap.configuration, members[i].id,
		    members[i].address, RAFT_VOTER);
		if (rv != 0) {
			cs_errmsg_printf(errmsg, "member %llu: %s",
			    (unsigned long long)members[i].id,
			    raft_strerror(rv));
			goto out_conf;
		}
	}
	rv = io.set_term(&io, 1);
	if (rv != 0) {
		cs_errmsg_printf(errmsg, "writing the term: %s", io.errmsg);
		goto out_conf;
	}
	snap.term = 1;
	snap.configuration_index = snap.index;
	buf.base = (void *)(uintptr_t)backup;
	buf.len = len;
	snap.bufs = &buf;
	snap.n_bufs = 1;
	memset(&put, 0, sizeof put);
	/* trailing 0: an install, as when a follower receives a snapshot */
	rv = io.snapshot_put(&io, 0, &put.req, &snap, on_put);
	if (rv != 0) {
		cs_errmsg_printf(errmsg, "writing the snapshot: %s", io.errmsg);
		goto out_conf;
	}
	while (!put.done)
		uv_run(&loop, UV_RUN_ONCE);
	if (put.status != 0) {
		cs_errmsg_printf(errmsg, "writing the snapshot: %s",
		    raft_strerror(put.status));
		goto out_conf;
	}
	*index = snap.index;
	rc = 0;
out_conf:
	raft_configuration_close(&snap.configuration);
out_io:
	if (entries != NULL)
		raft_free(entries);
	if (io_ready) {
		io.close(&io, on_io_closed);
		while (!closed)
			uv_run(&loop, UV_RUN_ONCE);
	}
	raft_uv_close(&io);
out_transport:
	raft_uv_tcp_close(&transport);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0 && rc == 0) {
		cs_errmsg_printf(errmsg, "the restore left handles open");
		rc = CS_EIO;
	}
	return rc;
}
