/*
 * node.h - certstored: one node, wired on one libuv loop.
 *
 * struct cs_node owns the loop and everything on it: the replica (raft,
 * the FSM, the store), the API (listeners, forwarding client) and the
 * signal handlers. Start order: data directory, replica, API, signals.
 * Stop (SIGTERM, SIGINT, or raft becoming unavailable):
 *
 *   leader? transfer leadership (bounded) -> close the API (listeners
 *   finish in-flight requests) -> close the replica (raft_close, deferred
 *   out of raft's callbacks, then raft_uv) -> close the signal handles
 *   -> the loop runs dry -> uv_loop_close() == 0.
 *
 * SIGHUP re-reads the configuration file for the log level and reloads
 * the TLS key pair and CAs; everything else needs a restart.
 */
#ifndef CS_NODE_H
#define CS_NODE_H

#include "node/config.h"

/* Runs a node with cfg until it stops. config_path is re-read on SIGHUP.
 * Returns the process exit status: 0 after a requested stop, 1 when the
 * node could not start or raft failed. */
int cs_node_run(const struct cs_config *cfg, const char *config_path);

/* Reads and parses a configuration file (capped at 1 MiB). errmsg is
 * "FILE: line N: ..." on error. */
int cs_node_read_config(const char *path, struct cs_config *out, char *errmsg);

/* Checks what a configuration names on disk: the TLS files load and match,
 * the data directory can be created. Used by certstored -n. */
int cs_node_check_files(const struct cs_config *cfg, char *errmsg);

#endif
