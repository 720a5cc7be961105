#include "node/node.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "api/api.h"
#include "api/keys.h"
#include "api/tls.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "raft/replica.h"

#define CONFIG_MAX       (1u << 20)
#define TRANSFER_WAIT_MS 3000

struct cs_node {
	uv_loop_t loop;
	struct cs_config cfg;
	const char *config_path;
	struct cs_replica *replica;
	struct cs_api *api;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t stop_timer;
	struct cs_transfer transfer;
	int exit_code;
	bool stopping;
};

int
cs_node_read_config(const char *path, struct cs_config *out, char *errmsg)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int rc;

	if (f == NULL) {
		cs_errmsg_printf(errmsg, "%s: %s", path, strerror(errno));
		return cs_err_from_errno(errno);
	}
	text = cs_malloc(CONFIG_MAX + 1);
	n = fread(text, 1, CONFIG_MAX + 1, f);
	fclose(f);
	if (n > CONFIG_MAX) {
		free(text);
		cs_errmsg_printf(errmsg, "%s: larger than %u bytes", path,
		    CONFIG_MAX);
		return CS_ETOOBIG;
	}
	rc = cs_config_parse(text, n, out, errmsg);
	free(text);
	if (rc < 0)
		cs_errmsg_wrapf(errmsg, "%s", path);
	return rc;
}

static int
mkdir_p(const char *path, char *errmsg)
{
	char buf[CS_CONFIG_STR];

	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	cs_errmsg_printf(errmsg, "data-dir %s: %s", buf, strerror(errno));
	return cs_err_from_errno(errno);
}

int
cs_node_check_files(const struct cs_config *cfg, char *errmsg)
{
	SSL_CTX *ctx;

	ctx = cs_tls_server_ctx_new(cfg->tls_cert, cfg->tls_key, cfg->client_ca,
	    CS_TLS_VERIFY_REQUIRED, errmsg);
	if (ctx == NULL)
		return CS_EINVAL;
	SSL_CTX_free(ctx);
	if (cfg->cluster_ca[0] != '\0' && access(cfg->cluster_ca, R_OK) < 0) {
		cs_errmsg_printf(errmsg, "cluster-ca %s: %s", cfg->cluster_ca,
		    strerror(errno));
		return CS_EINVAL;
	}
	return mkdir_p(cfg->data_dir, errmsg);
}

/* ---- stopping ---- */

static void
on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void
on_replica_closed(struct cs_replica *r, void *data)
{
	struct cs_node *n = data;

	(void)r;
	n->replica = NULL;
	cs_log(CS_LOG_INFO, "node stopped id=%llu",
	    (unsigned long long)n->cfg.node_id);
	uv_close((uv_handle_t *)&n->sig_term, on_handle_closed);
	uv_close((uv_handle_t *)&n->sig_int, on_handle_closed);
	uv_close((uv_handle_t *)&n->sig_hup, on_handle_closed);
	uv_close((uv_handle_t *)&n->stop_timer, on_handle_closed);
}

static void
on_api_closed(struct cs_api *api, void *data)
{
	struct cs_node *n = data;

	(void)api;
	n->api = NULL;
	if (n->replica != NULL)
		cs_replica_close(n->replica, on_replica_closed, n);
	else
		on_replica_closed(NULL, n);
}

static void
close_all(struct cs_node *n)
{
	uv_timer_stop(&n->stop_timer);
	if (n->api != NULL)
		cs_api_close(n->api, on_api_closed, n);
	else
		on_api_closed(NULL, n);
}

static void
on_transfer(struct cs_transfer *t, int status)
{
	struct cs_node *n = cs_container_of(t, struct cs_node, transfer);

	cs_log(CS_LOG_INFO, "node handed-over-leadership ok=%s",
	    status == 0 ? "yes" : "no");
	if (n->stopping)
		close_all(n);
}

static void
on_stop_timer(uv_timer_t *t)
{
	/* the transfer did not call back in time: stop anyway (raft_close
	 * then completes it with its own cancellation) */
	close_all(cs_container_of(t, struct cs_node, stop_timer));
}

static void
node_stop(struct cs_node *n, int code)
{
	if (n->stopping)
		return;
	n->stopping = true;
	n->exit_code = code;
	cs_log(CS_LOG_INFO, "node stopping id=%llu code=%d",
	    (unsigned long long)n->cfg.node_id, code);
	/* A leader that stops hands over first: the cluster then elects at
	 * once instead of after an election timeout. */
	if (code == 0 && n->replica != NULL &&
	    cs_replica_state(n->replica) == CS_REPLICA_LEADER &&
	    cs_replica_transfer(n->replica, &n->transfer, 0, on_transfer) ==
		0) {
		uv_timer_start(&n->stop_timer, on_stop_timer, TRANSFER_WAIT_MS,
		    0);
		return;
	}
	close_all(n);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct cs_node *n = s->data;
	struct cs_config fresh;
	char err[CS_ERRMSG_SIZE];
	enum cs_log_level level;

	if (signum != SIGHUP) {
		node_stop(n, 0);
		return;
	}
	if (cs_node_read_config(n->config_path, &fresh, err) < 0) {
		cs_log(CS_LOG_ERR, "reload failed error=\"%s\"", err);
		return;
	}
	if (cs_log_level_parse(fresh.log_level, &level) == 0)
		cs_log_set_level(level);
	if (n->api != NULL && cs_api_reload_tls(n->api, err) < 0) {
		cs_log(CS_LOG_ERR, "reload tls failed error=\"%s\"", err);
		return;
	}
	cs_log(CS_LOG_INFO, "reloaded log-level=%s", fresh.log_level);
}

/* ---- replica events ---- */

static void
on_state(struct cs_replica *r, int old, int state, void *data)
{
	struct cs_node *n = data;

	(void)r;
	if (n->api != NULL)
		cs_api_on_state(n->api, old, state);
}

static void
on_leader_ready(struct cs_replica *r, void *data)
{
	struct cs_node *n = data;

	(void)r;
	if (n->api != NULL)
		cs_api_on_leader_ready(n->api);
}

static void
on_unavailable(struct cs_replica *r, void *data)
{
	struct cs_node *n = data;

	cs_log(CS_LOG_ERR, "raft unavailable, stopping error=\"%s\"",
	    cs_replica_errmsg(r));
	node_stop(n, 1);
}

/* ---- starting ---- */

static int
start_replica(struct cs_node *n, char *errmsg)
{
	struct cs_replica_config rc;
	struct cs_replica_peer peers[CS_CONFIG_MAX_MEMBERS];
	struct cs_replica_hooks hooks = {n, on_state, on_leader_ready,
	    on_unavailable};
	const struct cs_config *c = &n->cfg;

	memset(&rc, 0, sizeof rc);
	for (size_t i = 0; i < c->nmembers; i++) {
		peers[i].id = c->members[i].id;
		peers[i].address = c->members[i].raft_address;
	}
	rc.id = c->node_id;
	rc.address = c->raft_address;
	rc.dir = c->data_dir;
	rc.initial = peers;
	rc.ninitial = c->nmembers;
	rc.election_timeout_ms = c->election_timeout_ms;
	rc.heartbeat_timeout_ms = c->heartbeat_timeout_ms;
	rc.install_snapshot_timeout_ms = c->install_snapshot_timeout_ms;
	rc.snapshot_threshold = c->snapshot_threshold;
	rc.snapshot_trailing = c->snapshot_trailing;
	rc.segment_size = (size_t)c->segment_size;
	rc.trace = c->raft_trace;
	rc.snapshot_compression = c->snapshot_compression;
	rc.autocork = true;
	cs_replica_kernel_aio(c->raft_kernel_aio);
	return cs_replica_new(&n->loop, &rc, &hooks, &n->replica, errmsg);
}

static int
start_api(struct cs_node *n, char *errmsg)
{
	struct cs_api_config ac;
	struct cs_api_member m[CS_CONFIG_MAX_MEMBERS];
	const struct cs_config *c = &n->cfg;

	for (size_t i = 0; i < c->nmembers; i++) {
		m[i].id = c->members[i].id;
		m[i].raft_address = c->members[i].raft_address;
		m[i].api_url = c->members[i].api_url;
		m[i].site = c->members[i].site;
		m[i].http_url = c->members[i].http_url;
		m[i].public_url = c->members[i].public_url;
	}
	memset(&ac, 0, sizeof ac);
	ac.node_id = c->node_id;
	ac.site = c->site;
	ac.api_listen = c->api_listen;
	ac.public_listen = c->public_listen;
	ac.http_listen = c->http_listen;
	ac.api_url = c->api_url;
	ac.public_url = c->public_url;
	ac.http_url = c->http_url;
	ac.tls_cert = c->tls_cert;
	ac.tls_key = c->tls_key;
	ac.client_ca = c->client_ca;
	ac.cluster_ca = c->cluster_ca;
	ac.admin_identity = c->admin_identity;
	ac.members = m;
	ac.nmembers = c->nmembers;
	ac.write_timeout_ms = c->write_timeout_ms;
	ac.forward_timeout_ms = c->forward_timeout_ms;
	ac.forward_batch = c->forward_batch;
	ac.max_connections = c->max_connections;
	ac.max_body_bytes = c->max_body_bytes;
	ac.max_header_bytes = c->max_header_bytes;
	ac.header_timeout_ms = c->header_timeout_ms;
	ac.body_timeout_ms = c->body_timeout_ms;
	ac.idle_timeout_ms = c->idle_timeout_ms;
	ac.ocsp_staleness = c->ocsp_staleness;
	ac.crl_interval = c->crl_interval;
	ac.crl_validity = c->crl_validity;
	ac.crl_delay = c->crl_delay;
	cs_keys_set_pkcs11_module(c->pkcs11_module);
	return cs_api_new(&n->loop, n->replica, &ac, &n->api, errmsg);
}

static void
on_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h)) {
		cs_log(CS_LOG_WARN, "node straggler-handle type=%s",
		    uv_handle_type_name(uv_handle_get_type(h)));
		uv_close(h, on_handle_closed);
	}
}

int
cs_node_run(const struct cs_config *cfg, const char *config_path)
{
	struct cs_node *n = cs_calloc(1, sizeof *n);
	char err[CS_ERRMSG_SIZE] = "";
	int rc, code;

	n->cfg = *cfg;
	n->config_path = config_path;
	signal(SIGPIPE, SIG_IGN); /* a peer that left must not kill us */
	uv_loop_init(&n->loop);
	uv_timer_init(&n->loop, &n->stop_timer);
	uv_signal_init(&n->loop, &n->sig_term);
	uv_signal_init(&n->loop, &n->sig_int);
	uv_signal_init(&n->loop, &n->sig_hup);
	n->sig_term.data = n->sig_int.data = n->sig_hup.data = n;
	uv_signal_start(&n->sig_term, on_signal, SIGTERM);
	uv_signal_start(&n->sig_int, on_signal, SIGINT);
	uv_signal_start(&n->sig_hup, on_signal, SIGHUP);

	rc = mkdir_p(n->cfg.data_dir, err);
	if (rc == 0) {
		rc = start_replica(n, err);
		if (rc < 0 && n->replica == NULL)
			cs_errmsg_wrapf(err, "raft");
	}
	if (rc == 0)
		rc = start_api(n, err);
	if (rc < 0) {
		cs_log(CS_LOG_ERR, "node start failed error=\"%s\"", err);
		fprintf(stderr, "certstored: %s\n", err);
		n->exit_code = 1;
		n->stopping = true;
		close_all(n);
	} else {
		cs_log(CS_LOG_INFO,
		    "node started id=%llu raft=%s api=%s public=%s http=%s "
		    "members=%zu",
		    (unsigned long long)n->cfg.node_id, n->cfg.raft_address,
		    n->cfg.api_listen,
		    n->cfg.public_listen[0] ? n->cfg.public_listen : "-",
		    n->cfg.http_listen[0] ? n->cfg.http_listen : "-",
		    n->cfg.nmembers);
	}
	uv_run(&n->loop, UV_RUN_DEFAULT);
	/* anything left open is a bug; close it so the loop can close */
	uv_walk(&n->loop, on_walk, NULL);
	uv_run(&n->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&n->loop) != 0) {
		cs_log(CS_LOG_ERR, "node loop-not-empty");
		n->exit_code = 1;
	}
	code = n->exit_code;
	free(n);
	return code;
}
