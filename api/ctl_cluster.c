/*
 * ctl_cluster.c - certctl cluster, cluster join/remove/transfer/hash,
 * health, ready, metrics, snapshot (ctl_cluster.h).
 */
#include "api/ctl_cluster.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/ctl_file.h"
#include "api/ctl_out.h"
#include "lib/error.h"

/* ---- the cluster view ---- */

static const char *
yes_no(const json_t *v)
{
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	return "-"; /* unknown to the node that answered */
}

/* Prints a cluster view (GET /v1/cluster, and the answer of a
 * membership change). */
static void
print_cluster(struct cs_ctl *ctl, const json_t *c)
{
	static const char *const head[] = {"ID", "ROLE", "LEADER", "REACHABLE",
	    "SITE", "RAFT ADDRESS", "API URL"};
	struct cs_ctl_out_table *t = cs_ctl_out_table_new(7, head);
	const json_t *members = json_object_get(c, "members");
	const json_t *leader = json_object_get(c, "leader_id");
	char leader_text[24] = "none";
	bool is_leader = cs_ctl_jstr(c, "state") != NULL &&
			 strcmp(cs_ctl_jstr(c, "state"), "leader") == 0;

	if (json_is_integer(leader))
		snprintf(leader_text, sizeof leader_text,
		    "%" JSON_INTEGER_FORMAT, json_integer_value(leader));
	/* "ready" in the view is the leader's: elected and serving writes
	 * (a follower's readiness is GET /readyz, certctl ready) */
	fprintf(ctl->out,
	    "node %lld (%s): %s%s, term %lld, leader %s, applied %lld, "
	    "commit %lld\n",
	    cs_ctl_jint(c, "node_id"),
	    cs_ctl_jstr(c, "site") != NULL ? cs_ctl_jstr(c, "site") : "-",
	    cs_ctl_jstr(c, "state") != NULL ? cs_ctl_jstr(c, "state") : "?",
	    is_leader && !cs_ctl_jbool(c, "ready") ? " (not ready yet)" : "",
	    cs_ctl_jint(c, "term"), leader_text,
	    cs_ctl_jint(c, "applied_index"), cs_ctl_jint(c, "commit_index"));
	for (size_t i = 0;
	     json_is_array(members) && i < json_array_size(members); i++) {
		const json_t *m = json_array_get(members, i);

		cs_ctl_out_table_cellf(t, "%lld", cs_ctl_jint(m, "id"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(m, "role"));
		cs_ctl_out_table_cell(t, cs_ctl_jbool(m, "leader") ? "*" : "");
		cs_ctl_out_table_cell(t,
		    yes_no(json_object_get(m, "reachable")));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(m, "site"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(m, "raft_address"));
		cs_ctl_out_table_cell(t, cs_ctl_jstr(m, "api_url"));
	}
	fputc('\n', ctl->out);
	cs_ctl_out_table_print(t, ctl->out);
	cs_ctl_out_table_free(t);
}

/* Prints a JSON answer: as is with --json, else with print. */
static int
show(struct cs_ctl *ctl, int rc, json_t *doc, struct cs_ctl_http_resp *raw,
    void (*print)(struct cs_ctl *, const json_t *))
{
	if (rc == CS_CTL_EXIT_OK) {
		if (ctl->json)
			cs_ctl_print_raw(ctl, raw);
		else
			print(ctl, doc);
	}
	json_decref(doc);
	cs_ctl_http_resp_close(raw);
	return rc;
}

static int
run_cluster(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *c = NULL;
	int rc;

	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, "/v1/cluster", NULL, &c, &raw);
	return show(ctl, rc, c, &raw, print_cluster);
}

/* "a.b.c.d:port", as the server checks it. */
static bool
valid_raft_address(const char *s)
{
	unsigned a, b, c, d, port;
	char tail;

	return sscanf(s, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &port, &tail) ==
		   5 &&
	       a < 256 && b < 256 && c < 256 && d < 256 && port > 0 &&
	       port < 65536;
}

static bool
valid_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static int
run_join(struct cs_ctl *ctl)
{
	const char *addr = cs_ctl_arg(ctl, 1), *api = cs_ctl_arg(ctl, 2);
	const char *site = cs_ctl_opt(ctl, "site");
	const char *http = cs_ctl_opt(ctl, "http-url");
	const char *pub = cs_ctl_opt(ctl, "public-url");
	struct cs_ctl_http_resp raw;
	json_t *body, *c = NULL;
	uint64_t id;
	int rc;

	rc = cs_ctl_check_uint(ctl, "ID", cs_ctl_arg(ctl, 0), 1, UINT32_MAX,
	    &id);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	if (!valid_raft_address(addr))
		return cs_ctl_usage(ctl,
		    "RAFT_ADDR \"%s\": an IPv4 address and port, like "
		    "10.0.0.4:9000",
		    addr);
	if (!valid_url(api))
		return cs_ctl_usage(ctl, "API_URL \"%s\": an https:// URL",
		    api);
	if ((http != NULL && !valid_url(http)) ||
	    (pub != NULL && !valid_url(pub)))
		return cs_ctl_usage(ctl,
		    "--http-url, --public-url: http:// or https:// URLs");
	if (site != NULL && site[0] == '\0')
		return cs_ctl_usage(ctl, "--site: a name");
	body = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id,
	    "raft_address", addr, "api_url", api);
	if (site != NULL)
		json_object_set_new(body, "site", json_string(site));
	if (http != NULL)
		json_object_set_new(body, "http_url", json_string(http));
	if (pub != NULL)
		json_object_set_new(body, "public_url", json_string(pub));
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "POST", "/v1/cluster/members", body, &c,
	    &raw);
	json_decref(body);
	return show(ctl, rc, c, &raw, print_cluster);
}

static int
run_remove(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *c = NULL;
	uint64_t id;
	char path[64];
	int rc;

	rc = cs_ctl_check_uint(ctl, "ID", cs_ctl_arg(ctl, 0), 1, UINT32_MAX,
	    &id);
	if (rc != CS_CTL_EXIT_OK)
		return rc;
	snprintf(path, sizeof path, "/v1/cluster/members/%" PRIu64, id);
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "DELETE", path, NULL, &c, &raw);
	return show(ctl, rc, c, &raw, print_cluster);
}

static void
print_transfer(struct cs_ctl *ctl, const json_t *o)
{
	if (json_is_integer(json_object_get(o, "previous_leader")))
		fprintf(ctl->out, "leadership transferred from node %lld\n",
		    cs_ctl_jint(o, "previous_leader"));
	else
		fprintf(ctl->out, "leadership transferred\n");
}

static int
run_transfer(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *body = json_object(), *o = NULL;
	uint64_t id;
	int rc;

	if (cs_ctl_arg(ctl, 0) != NULL) {
		rc = cs_ctl_check_uint(ctl, "ID", cs_ctl_arg(ctl, 0), 1,
		    UINT32_MAX, &id);
		if (rc != CS_CTL_EXIT_OK) {
			json_decref(body);
			return rc;
		}
		json_object_set_new(body, "to", json_integer((json_int_t)id));
	}
	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_send_json(ctl, "POST", "/v1/cluster/transfer", body, &o,
	    &raw);
	json_decref(body);
	return show(ctl, rc, o, &raw, print_transfer);
}

static void
print_hash(struct cs_ctl *ctl, const json_t *o)
{
	cs_ctl_out_field(ctl->out, 13, "applied index", "%lld",
	    cs_ctl_jint(o, "applied_index"));
	cs_ctl_out_field(ctl->out, 13, "state hash", "%s",
	    cs_ctl_jstr(o, "hash") != NULL ? cs_ctl_jstr(o, "hash") : "-");
	cs_ctl_out_field(ctl->out, 13, "certificates", "%lld",
	    cs_ctl_jint(o, "certificates"));
}

static int
run_hash(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *o = NULL;
	int rc;

	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, "/v1/cluster/state-hash", NULL, &o, &raw);
	return show(ctl, rc, o, &raw, print_hash);
}

/* ---- health, readiness, metrics ---- */

static void
print_health(struct cs_ctl *ctl, const json_t *o)
{
	fprintf(ctl->out, "node %lld: %s\n", cs_ctl_jint(o, "node_id"),
	    cs_ctl_jstr(o, "status") != NULL ? cs_ctl_jstr(o, "status") : "?");
}

static int
run_health(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *o = NULL;
	int rc;

	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, "/healthz", NULL, &o, &raw);
	return show(ctl, rc, o, &raw, print_health);
}

static void
print_ready(struct cs_ctl *ctl, const json_t *o)
{
	fprintf(ctl->out, "%s: %s (leader %lld, applied index %lld)\n",
	    ctl->url,
	    cs_ctl_jstr(o, "status") != NULL ? cs_ctl_jstr(o, "status") : "?",
	    cs_ctl_jint(o, "leader_id"), cs_ctl_jint(o, "applied_index"));
}

/* A node that is not ready answers 503 with {"status": "not ready",
 * "reason"}: reported like any refusal, exit status 1. */
static int
run_ready(struct cs_ctl *ctl)
{
	struct cs_ctl_http_resp raw;
	json_t *o = NULL;
	int rc;

	cs_ctl_http_resp_init(&raw);
	rc = cs_ctl_get_json(ctl, "/readyz", NULL, &o, &raw);
	return show(ctl, rc, o, &raw, print_ready);
}

/* Prometheus text, with or without --json: there is no JSON form. */
static int
run_metrics(struct cs_ctl *ctl)
{
	struct cs_ctl_http_req req = {.method = "GET", .path = "/metrics"};
	struct cs_ctl_http_resp resp;
	int rc;

	cs_ctl_http_resp_init(&resp);
	rc = cs_ctl_call(ctl, &req, &resp);
	if (rc == CS_CTL_EXIT_OK)
		fwrite(resp.body.data != NULL ? resp.body.data
					      : (const uint8_t *)"",
		    1, resp.body.len, ctl->out);
	cs_ctl_http_resp_close(&resp);
	return rc;
}

/* ---- snapshot ---- */

/* Streams the snapshot into a temporary file renamed into place when
 * complete: a cut-off download never sits under the backup's name. */
static int
run_snapshot(struct cs_ctl *ctl)
{
	const char *path = cs_ctl_arg(ctl, 0);
	struct cs_ctl_http_req req = {.method = "GET", .path = "/v1/snapshot"};
	struct cs_ctl_http_resp resp;
	struct cs_ctl_file_out o;
	char err[CS_ERRMSG_SIZE] = "";
	bool to_stdout = strcmp(path, "-") == 0;
	FILE *report = to_stdout ? stderr : ctl->out;
	int rc;

	if (cs_ctl_file_out_open(&o, path, err) < 0)
		return cs_ctl_usage(ctl, "%s", err);
	cs_ctl_http_resp_init(&resp);
	req.sink = o.f;
	rc = cs_ctl_call(ctl, &req, &resp);
	if (rc == CS_CTL_EXIT_OK && cs_ctl_file_out_commit(&o, err) < 0) {
		fprintf(stderr, "certctl: %s\n", err);
		rc = CS_CTL_EXIT_REFUSED;
	}
	cs_ctl_file_out_abort(&o);
	if (rc == CS_CTL_EXIT_OK && ctl->json && !to_stdout) {
		json_t *doc = json_pack("{s:s, s:I, s:I}", "file", path,
		    "index", (json_int_t)strtoll(resp.snapshot_index, NULL, 10),
		    "bytes", (json_int_t)resp.sunk);

		cs_ctl_print_json(ctl, doc);
		json_decref(doc);
	} else if (rc == CS_CTL_EXIT_OK) {
		fprintf(report, "snapshot at index %s: %zu bytes in %s\n",
		    resp.snapshot_index[0] ? resp.snapshot_index : "?",
		    resp.sunk, to_stdout ? "standard output" : path);
	}
	cs_ctl_http_resp_close(&resp);
	return rc;
}

/* ---- the table ---- */

static const struct cs_ctl_opt join_opts[] = {
    {"site", 0, "S", false, "the node's site (default: \"default\")"},
    {"http-url", 0, "U", false, "the node's plain HTTP URL (OCSP, CRL)"},
    {"public-url", 0, "U", false, "the node's public HTTPS URL"},
    {NULL, 0, NULL, false, NULL},
};

const struct cs_ctl_command cs_ctl_cluster_commands[] = {
    {"cluster", "", "the members as a node sees them", NULL, 0, 0, run_cluster},
    {"cluster join", "ID RAFT_ADDR API_URL [--site S] [--http-url U]",
	"add a node (a spare, a voter once caught up)", join_opts, 3, 3,
	run_join},
    {"cluster remove", "ID", "remove a member", NULL, 1, 1, run_remove},
    {"cluster transfer", "[ID]",
	"hand leadership to member ID (or any up-to-date voter)", NULL, 0, 1,
	run_transfer},
    {"cluster hash", "",
	"the SHA-256 of the replicated state (equal on nodes at one index)",
	NULL, 0, 0, run_hash},
    {"health", "", "is the node up", NULL, 0, 0, run_health},
    {"ready", "", "is the node ready: a leader known, caught up", NULL, 0, 0,
	run_ready},
    {"metrics", "", "the node's Prometheus metrics", NULL, 0, 0, run_metrics},
    {"snapshot", "FILE", "download the store as a snapshot file (- : stdout)",
	NULL, 1, 1, run_snapshot},
    {NULL, NULL, NULL, NULL, 0, 0, NULL},
};
