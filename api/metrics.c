/*
 * metrics.c - GET /metrics in the Prometheus text format (0.0.4), and
 * the request counters behind it.
 *
 * Every answer (local or relayed from the leader) is counted by route,
 * method and status, with its latency in a histogram. The table is small
 * (routes x statuses seen) and scanned linearly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "cert/audit.h"
#include "lib/buf.h"
#include "lib/mem.h"

static const double bounds[CS_API_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

void
cs_api__count(struct cs_api_req *r, int status)
{
	struct cs_api *api = r->api;
	const struct cs_route *rt = r->route;
	double secs = (double)(uv_hrtime() - r->start_ns) / 1e9;
	struct cs_api_stat *st = NULL;
	int method = cs_http_req_method_id(r->http);

	for (size_t i = 0; i < api->nstats; i++) {
		if (api->stats[i].route == rt &&
		    api->stats[i].status == status &&
		    api->stats[i].method == method) {
			st = &api->stats[i];
			break;
		}
	}
	if (st == NULL) {
		if (api->nstats == api->capstats) {
			api->capstats = api->capstats ? api->capstats * 2 : 32;
			api->stats = cs_reallocarray(api->stats, api->capstats,
			    sizeof *api->stats);
		}
		st = &api->stats[api->nstats++];
		memset(st, 0, sizeof *st);
		st->route = rt;
		st->status = status;
		st->method = method;
	}
	st->count++;
	st->sum += secs;
	for (int b = 0; b < CS_API_BUCKETS; b++) {
		if (secs <= bounds[b])
			st->buckets[b]++;
	}
}

#define P(...) cs_buf_printf(&out, __VA_ARGS__)

void
cs_api__get_metrics(struct cs_api_req *r)
{
	static const char *const listeners[] = {"api", "public", "http"};
	static const char *const states[] = {"unavailable", "follower",
	    "candidate", "leader"};
	struct cs_api *api = r->api;
	struct cs_replica *rep = api->replica;
	struct cs_store *s = cs_api__store(api);
	struct cs_fsm *f = cs_replica_fsm(rep);
	struct cs_buf out;
	int64_t now = cs_api__now();
	size_t valid, revoked, expired, len;
	int state = cs_replica_state(rep);

	cs_buf_init(&out, 64u << 20);
	P("# HELP certstore_raft_state Raft state of this node (1 for the "
	  "current one).\n# TYPE certstore_raft_state gauge\n");
	for (int i = 0; i < 4; i++)
		P("certstore_raft_state{state=\"%s\"} %d\n", states[i],
		    state == i);
	P("# HELP certstore_raft_ready 1 when this node leads and serves.\n"
	  "# TYPE certstore_raft_ready gauge\ncertstore_raft_ready %d\n",
	    cs_replica_ready(rep));
	P("# TYPE certstore_raft_term gauge\ncertstore_raft_term %llu\n",
	    (unsigned long long)cs_replica_term(rep));
	P("# TYPE certstore_raft_leader_id gauge\n"
	  "certstore_raft_leader_id %llu\n",
	    (unsigned long long)cs_replica_leader(rep));
	P("# TYPE certstore_raft_applied_index gauge\n"
	  "certstore_raft_applied_index %llu\n",
	    (unsigned long long)cs_replica_applied_index(rep));
	P("# TYPE certstore_raft_commit_index gauge\n"
	  "certstore_raft_commit_index %llu\n",
	    (unsigned long long)cs_replica_commit_index(rep));
	P("# HELP certstore_forward_batches_total Batches of writes this "
	  "node sent to the leader.\n"
	  "# TYPE certstore_forward_batches_total counter\n"
	  "certstore_forward_batches_total %llu\n",
	    (unsigned long long)api->fwd_batches);
	P("# HELP certstore_forward_writes_total Writes in those batches.\n"
	  "# TYPE certstore_forward_writes_total counter\n"
	  "certstore_forward_writes_total %llu\n",
	    (unsigned long long)api->fwd_parts);
	P("# TYPE certstore_fsm_snapshots_total counter\n"
	  "certstore_fsm_snapshots_total %llu\n",
	    (unsigned long long)f->snapshots);
	P("# TYPE certstore_fsm_restores_total counter\n"
	  "certstore_fsm_restores_total %llu\n",
	    (unsigned long long)f->restores);
	P("# HELP certstore_fsm_snapshot_take_max_seconds Longest time a "
	  "snapshot held the event loop.\n"
	  "# TYPE certstore_fsm_snapshot_take_max_seconds gauge\n"
	  "certstore_fsm_snapshot_take_max_seconds %.6f\n",
	    (double)f->snapshot_take_max_us / 1e6);

	cs_store_counts(s, now, &valid, &revoked, &expired);
	P("# HELP certstore_certificates Certificates by status.\n"
	  "# TYPE certstore_certificates gauge\n"
	  "certstore_certificates{status=\"valid\"} %zu\n"
	  "certstore_certificates{status=\"revoked\"} %zu\n"
	  "certstore_certificates{status=\"expired\"} %zu\n",
	    valid, revoked, expired);
	P("# HELP certstore_certificates_expiring Valid certificates expiring "
	  "within a window from now.\n"
	  "# TYPE certstore_certificates_expiring gauge\n");
	for (int d = 0; d < 3; d++) {
		static const int days[] = {7, 30, 90};

		P("certstore_certificates_expiring{within=\"%dd\"} %zu\n",
		    days[d],
		    cs_store_count_expiring(s, now, (int64_t)days[d] * 86400));
	}
	P("# TYPE certstore_keys gauge\ncertstore_keys %zu\n",
	    cs_store_key_count(s));
	P("# TYPE certstore_audit_entries gauge\ncertstore_audit_entries %zu\n",
	    cs_audit_count(s));

	P("# HELP certstore_http_connections_open Open connections by "
	  "listener.\n# TYPE certstore_http_connections_open gauge\n");
	for (int i = 0; i < CS_LISTENER__MAX; i++) {
		if (api->servers[i] != NULL)
			P("certstore_http_connections_open{listener=\"%s\"} "
			  "%llu\n",
			    listeners[i],
			    (unsigned long long)cs_http_server_stats(
				api->servers[i])
				->conns_open);
	}
	P("# TYPE certstore_http_connections_rejected_total counter\n");
	for (int i = 0; i < CS_LISTENER__MAX; i++) {
		if (api->servers[i] != NULL)
			P("certstore_http_connections_rejected_total{listener="
			  "\"%s\"} %llu\n",
			    listeners[i],
			    (unsigned long long)cs_http_server_stats(
				api->servers[i])
				->conns_rejected);
	}
	P("# HELP certstore_http_requests_total Answered requests.\n"
	  "# TYPE certstore_http_requests_total counter\n");
	for (size_t i = 0; i < api->nstats; i++) {
		const struct cs_api_stat *st = &api->stats[i];

		P("certstore_http_requests_total{route=\"%s\",method=\"%s\","
		  "status=\"%d\"} %llu\n",
		    st->route != NULL ? st->route->pattern : "unmatched",
		    http_method_str((enum http_method)st->method), st->status,
		    (unsigned long long)st->count);
	}
	P("# HELP certstore_http_request_duration_seconds Time from the end "
	  "of a request to its answer.\n"
	  "# TYPE certstore_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < api->nstats; i++) {
		const struct cs_api_stat *st = &api->stats[i];
		const char *route =
		    st->route != NULL ? st->route->pattern : "unmatched";
		const char *m = http_method_str((enum http_method)st->method);

		for (int b = 0; b < CS_API_BUCKETS; b++)
			P("certstore_http_request_duration_seconds_bucket{"
			  "route="
			  "\"%s\",method=\"%s\",status=\"%d\",le=\"%g\"} "
			  "%llu\n",
			    route, m, st->status, bounds[b],
			    (unsigned long long)st->buckets[b]);
		P("certstore_http_request_duration_seconds_bucket{route=\"%s\","
		  "method=\"%s\",status=\"%d\",le=\"+Inf\"} %llu\n",
		    route, m, st->status, (unsigned long long)st->count);
		P("certstore_http_request_duration_seconds_sum{route=\"%s\","
		  "method=\"%s\",status=\"%d\"} %.6f\n",
		    route, m, st->status, st->sum);
		P("certstore_http_request_duration_seconds_count{route=\"%s\","
		  "method=\"%s\",status=\"%d\"} %llu\n",
		    route, m, st->status, (unsigned long long)st->count);
	}
	{
		uint8_t *body = cs_buf_steal(&out, &len);

		cs_api__respond(r, 200, "text/plain; version=0.0.4", body, len,
		    NULL, 0);
	}
}
