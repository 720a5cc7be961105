/*
 * crl.c - CRLs: the leader decides when and with which number, every
 * node builds, signs and serves.
 *
 * The leader's job (a 1 s timer, on the ready leader only) proposes
 * CS_CMD_CRL_PUBLISH for an issuer when its full CRL is due (none yet,
 * crl-interval since the last, or close to its nextUpdate) or, a
 * crl-delay after revocations changed, a delta on the current full CRL.
 * The number, thisUpdate and nextUpdate are in the entry, so every node
 * agrees on them.
 *
 * Every node, when it applies the publication (the FSM's applied
 * callback), copies the entries out of its store at that exact index
 * (cert/crl.h: cs_crl_collect) and builds and signs the CRL on the
 * thread pool, off the loop; the result replaces the one it serves at
 * /crl/<issuer>.crl (DER), .pem, and -delta.crl / -delta.pem. After a
 * restore (snapshot install) the node rebuilds from the restored state.
 * A node without the issuer's key serves no CRL for it (503).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "cert/crl.h"
#include "cert/pem.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/mem.h"

#define TICK_MS 1000

/* What one node serves for one issuer. */
struct cs_api_crl {
	char *issuer;
	uint8_t *full, *delta; /* DER */
	size_t full_len, delta_len;
	uint64_t full_number, delta_number;
	int64_t full_next, delta_next; /* nextUpdate, for Cache-Control */
	unsigned building;
	char err[CS_ERRMSG_SIZE]; /* why the last build failed, or "" */
	int64_t dirty_since;      /* leader: revocations noticed at */
	struct publish_op *op;    /* leader: a publication in flight */
	struct cs_api_crl *next;
};

struct publish_op {
	struct cs_propose propose;
	struct cs_api *api; /* NULL once the API is gone */
	char *issuer;
};

/* A build on the thread pool. */
struct crl_job {
	uv_work_t work;
	struct cs_api *api;
	char *issuer;
	struct cs_signer signer; /* its own reference to the key */
	uint8_t *name;
	size_t name_len;
	uint8_t ski[64];
	size_t ski_len;
	struct cs_crl_params p;
	struct cs_crl_entry *entries;
	char freshest[1100];
	struct cs_buf out;
	int rc;
	char err[CS_ERRMSG_SIZE];
	double seconds;
};

static struct cs_api_crl *
crl_get(struct cs_api *api, const char *issuer, bool create)
{
	struct cs_api_crl *c;

	for (c = api->crls; c != NULL; c = c->next)
		if (strcmp(c->issuer, issuer) == 0)
			return c;
	if (!create)
		return NULL;
	c = cs_calloc(1, sizeof *c);
	c->issuer = cs_strdup(issuer);
	c->next = api->crls;
	api->crls = c;
	return c;
}

void
cs_api__crls_free(struct cs_api *api)
{
	while (api->crls != NULL) {
		struct cs_api_crl *next = api->crls->next;

		free(api->crls->issuer);
		free(api->crls->full);
		free(api->crls->delta);
		free(api->crls);
		api->crls = next;
	}
}

/* ---- building, on every node ---- */

static void
job_work(uv_work_t *w)
{
	struct crl_job *j = cs_container_of(w, struct crl_job, work);
	uint64_t t0 = uv_hrtime();

	j->rc = cs_crl_build(&j->p, &j->signer, &j->out, j->err);
	j->seconds = (double)(uv_hrtime() - t0) / 1e9;
}

static void
job_free(struct crl_job *j)
{
	cs_signer_close(&j->signer);
	free(j->issuer);
	free(j->name);
	free(j->entries);
	cs_buf_close(&j->out);
	free(j);
}

static void
job_done(uv_work_t *w, int status)
{
	struct crl_job *j = cs_container_of(w, struct crl_job, work);
	struct cs_api *api = j->api;
	struct cs_api_crl *c = crl_get(api, j->issuer, true);
	bool delta = j->p.delta_base != 0;

	c->building--;
	if (status != 0 || j->rc < 0) {
		snprintf(c->err, sizeof c->err, "CRL %llu: %.200s",
		    (unsigned long long)j->p.number,
		    status != 0 ? "cancelled" : j->err);
		cs_log(CS_LOG_ERR,
		    "crl build issuer=%s number=%llu error=\"%s\"", j->issuer,
		    (unsigned long long)j->p.number, c->err);
	} else if (delta && j->p.number > c->delta_number) {
		free(c->delta);
		c->delta = cs_buf_steal(&j->out, &c->delta_len);
		c->delta_number = j->p.number;
		c->delta_next = j->p.next_update;
		c->err[0] = '\0';
	} else if (!delta && j->p.number > c->full_number) {
		free(c->full);
		c->full = cs_buf_steal(&j->out, &c->full_len);
		c->full_number = j->p.number;
		c->full_next = j->p.next_update;
		/* a delta on an older base is no use with this full CRL */
		free(c->delta);
		c->delta = NULL;
		c->delta_len = 0;
		c->err[0] = '\0';
	}
	if (status == 0 && j->rc == 0)
		cs_log(CS_LOG_INFO,
		    "crl built issuer=%s number=%llu delta=%d entries=%zu "
		    "bytes=%zu seconds=%.3f",
		    j->issuer, (unsigned long long)j->p.number, delta ? 1 : 0,
		    j->p.n,
		    c->delta_number == j->p.number ? c->delta_len : c->full_len,
		    j->seconds);
	job_free(j);
	cs_api__work_done(api);
}

/* FreshestCRL of a full CRL: the delta of the member with the lowest
 * raft id that has a plain-HTTP URL (from the replicated member
 * documents, so every node writes the same). */
static bool
freshest_url(struct cs_api *api, const char *issuer, char *buf, size_t size)
{
	struct cs_store *s = cs_api__store(api);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;
	uint64_t best = UINT64_MAX;
	bool found = false;

	while ((k = cs_store_doc_next(s, CS_NS_MEMBER, k, &v, &len)) != NULL) {
		struct cs_member m;

		if (cs_member_decode(v, len, &m, NULL) < 0)
			continue;
		if (m.http_url != NULL && m.http_url[0] != '\0' &&
		    m.id < best) {
			best = m.id;
			snprintf(buf, size, "%s/crl/%s-delta.crl", m.http_url,
			    issuer);
			found = true;
		}
		cs_member_close(&m);
	}
	return found;
}

/* Starts building what st says was published last, from the store as it
 * is now (the caller makes sure that is the publication's index). */
static void
build(struct cs_api *api, const char *issuer, const struct cs_crl_state *st,
    bool delta)
{
	struct cs_api_issuer *is = cs_api__issuer(api, issuer);
	struct cs_api_crl *c = crl_get(api, issuer, true);
	struct crl_job *j;

	if (is == NULL)
		return;
	if (is->key_rc < 0) {
		snprintf(c->err, sizeof c->err,
		    "the issuer's key is not usable on this node: %.200s",
		    is->key_err);
		return;
	}
	j = cs_calloc(1, sizeof *j);
	j->api = api;
	j->issuer = cs_strdup(issuer);
	if (cs_signer_init(&j->signer, is->signer.key, j->err) < 0) {
		free(j->issuer);
		free(j);
		return;
	}
	j->name = cs_memdup(is->name_der, is->name_len);
	j->name_len = is->name_len;
	memcpy(j->ski, is->ci->ski, is->ci->ski_len);
	j->ski_len = is->ci->ski_len;
	cs_crl_collect(cs_api__store(api), is->ci->subject,
	    delta ? st->full_index : 0, &j->entries, &j->p.n);
	j->p.issuer_name = j->name;
	j->p.issuer_name_len = j->name_len;
	j->p.issuer_ski = j->ski_len > 0 ? j->ski : NULL;
	j->p.issuer_ski_len = j->ski_len;
	j->p.number = delta ? st->number : st->full_number;
	j->p.this_update = delta ? st->this_update : st->full_this_update;
	j->p.next_update = delta ? st->next_update : st->full_next_update;
	j->p.delta_base = delta ? st->full_number : 0;
	j->p.entries = j->entries;
	if (!delta &&
	    freshest_url(api, issuer, j->freshest, sizeof j->freshest))
		j->p.freshest_url = j->freshest;
	cs_buf_init(&j->out, CS_CRL_MAX_BYTES);
	j->work.data = j;
	if (uv_queue_work(api->loop, &j->work, job_work, job_done) != 0) {
		job_free(j);
		return;
	}
	c->building++;
	api->works++;
}

static bool
crl_state(struct cs_store *s, const char *issuer, struct cs_crl_state *st)
{
	const uint8_t *v;
	size_t len;

	v = cs_store_doc(s, CS_NS_CRL, issuer, &len);
	return v != NULL && cs_crl_state_decode(v, len, st, NULL) == 0;
}

/* Everything published, from the state as it is (start, restore). */
static void
build_all(struct cs_api *api)
{
	struct cs_store *s = cs_api__store(api);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;

	while ((k = cs_store_doc_next(s, CS_NS_CRL, k, &v, &len)) != NULL) {
		struct cs_crl_state st;

		if (cs_crl_state_decode(v, len, &st, NULL) < 0)
			continue;
		build(api, k, &st, false);
		if (st.index != st.full_index)
			build(api, k, &st, true);
	}
}

/* The FSM's applied callback, on every node. */
static void
on_applied(struct cs_fsm *f, const struct cs_result *res, void *data)
{
	struct cs_api *api = data;
	struct cs_store *s = cs_fsm_store(f);
	const char *k = NULL;
	const uint8_t *v;
	size_t len;

	if (api->closing)
		return;
	if (res == NULL) {
		build_all(api);
		return;
	}
	if (res->rc != 0 || cs_store_crl_index(s) != res->index)
		return;
	/* replaying a backlog (a restart, a node catching up): the
	 * publications are built once it is done, from the state then */
	if (cs_replica_commit_index(api->replica) > res->index + 64) {
		api->crl_rebuild = true;
		return;
	}
	/* a publication applied just now: which issuer's? */
	while ((k = cs_store_doc_next(s, CS_NS_CRL, k, &v, &len)) != NULL) {
		struct cs_crl_state st;

		if (cs_crl_state_decode(v, len, &st, NULL) < 0 ||
		    st.index != res->index)
			continue;
		build(api, k, &st, st.full_index != st.index);
	}
}

/* ---- deciding, on the leader ---- */

static void
on_published(struct cs_propose *p, int status, const struct cs_result *res)
{
	struct publish_op *op = cs_container_of(p, struct publish_op, propose);
	struct cs_api_crl *c;

	if (op->api != NULL) {
		c = crl_get(op->api, op->issuer, true);
		c->op = NULL;
		if (status < 0 || (res != NULL && res->rc < 0))
			cs_log(CS_LOG_WARN,
			    "crl publish issuer=%s status=%s rc=%s", op->issuer,
			    cs_strerror(status),
			    res != NULL ? cs_strerror(res->rc) : "-");
	}
	free(op->issuer);
	free(op);
}

static void
propose_publish(struct cs_api *api, const char *issuer,
    const struct cs_crl_state *st, bool full, int64_t now)
{
	struct cs_api_crl *c = crl_get(api, issuer, true);
	struct publish_op *op;
	struct cs_buf entry;
	struct cs_cmd cmd;

	memset(&cmd, 0, sizeof cmd);
	cmd.type = CS_CMD_CRL_PUBLISH;
	cs_api__new_request_id(cmd.request_id);
	cmd.actor.p = (const uint8_t *)"certstored";
	cmd.actor.len = 10;
	cmd.time = now;
	cmd.u.crl.issuer.p = (const uint8_t *)issuer;
	cmd.u.crl.issuer.len = strlen(issuer);
	cmd.u.crl.number = st->number + 1;
	cmd.u.crl.this_update = now;
	cmd.u.crl.next_update = now + api->cfg.crl_validity;
	cmd.u.crl.delta_base = full ? 0 : st->full_number;
	cs_buf_init(&entry, CS_CMD_MAX_ENTRY);
	op = cs_calloc(1, sizeof *op);
	op->api = api;
	op->issuer = cs_strdup(issuer);
	if (cs_cmd_encode(&cmd, &entry) == 0 &&
	    cs_replica_propose(api->replica, &op->propose, entry.data,
		entry.len, on_published) == 0) {
		c->op = op;
		c->dirty_since = 0;
		op = NULL;
	}
	if (op != NULL) {
		free(op->issuer);
		free(op);
	}
	cs_buf_close(&entry);
}

static void
on_tick(uv_timer_t *t)
{
	struct cs_api *api = t->data;
	struct cs_store *s;
	const char *k = NULL;
	const uint8_t *v;
	size_t len;
	int64_t now = cs_api__now();

	if (api->closing)
		return;
	if (api->crl_rebuild && cs_replica_applied_index(api->replica) + 64 >=
				    cs_replica_commit_index(api->replica)) {
		api->crl_rebuild = false;
		build_all(api);
	}
	if (!cs_replica_ready(api->replica))
		return;
	s = cs_api__store(api);
	while ((k = cs_store_doc_next(s, CS_NS_ISSUER, k, &v, &len)) != NULL) {
		struct cs_crl_state st;
		struct cs_api_crl *c = crl_get(api, k, true);
		bool have = crl_state(s, k, &st);

		if (c->op != NULL)
			continue;
		if (!have)
			memset(&st, 0, sizeof st);
		if (!have ||
		    now >= st.full_this_update + api->cfg.crl_interval ||
		    now >= st.full_next_update - api->cfg.crl_interval / 4) {
			propose_publish(api, k, &st, true, now);
			continue;
		}
		if (st.delta_base != st.full_number) {
			/* a delta on every full CRL, so that the URL its
			 * FreshestCRL names always answers */
			propose_publish(api, k, &st, false, now);
			continue;
		}
		if (cs_store_revocation_index(s) <= st.index) {
			c->dirty_since = 0;
			continue;
		}
		if (c->dirty_since == 0)
			c->dirty_since = now;
		if (now - c->dirty_since >= api->cfg.crl_delay)
			propose_publish(api, k, &st, false, now);
	}
}

void
cs_api__crl_start(struct cs_api *api)
{
	cs_fsm_set_applied_cb(cs_replica_fsm(api->replica), on_applied, api);
	uv_timer_init(api->loop, &api->crl_timer);
	api->crl_timer.data = api;
	uv_timer_start(&api->crl_timer, on_tick, TICK_MS, TICK_MS);
	/* what the store already holds (a restart from disk) */
	build_all(api);
}

/* At close: no more builds; publications in flight are left to raft. */
void
cs_api__crl_stop(struct cs_api *api)
{
	cs_fsm_set_applied_cb(cs_replica_fsm(api->replica), NULL, NULL);
	for (struct cs_api_crl *c = api->crls; c != NULL; c = c->next) {
		if (c->op != NULL) {
			c->op->api = NULL;
			c->op = NULL;
		}
	}
	uv_timer_stop(&api->crl_timer);
}

/* A minute in caches: a CRL published after a revocation must reach
 * relying parties soon, whatever its nextUpdate says. */
static const struct cs_http_header crl_cache[] = {
    {"Cache-Control", "public, max-age=60, no-transform"},
};

/* GET /crl/{issuer}.crl | .pem | -delta.crl | -delta.pem, public. */
void
cs_api__get_crl(struct cs_api_req *r)
{
	static const struct {
		const char *suffix;
		bool delta, pem;
	} kinds[] = {
	    {"-delta.crl", true, false},
	    {"-delta.pem", true, true},
	    {".crl", false, false},
	    {".pem", false, true},
	};
	const char *seg = r->params[0];
	size_t n = strlen(seg);
	char name[CS_CMD_MAX_STR + 1];
	struct cs_api_crl *c;
	const uint8_t *der;
	size_t len;
	size_t k;

	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		size_t sl = strlen(kinds[k].suffix);

		if (n > sl && n - sl <= CS_CMD_MAX_STR &&
		    strcmp(seg + n - sl, kinds[k].suffix) == 0) {
			memcpy(name, seg, n - sl);
			name[n - sl] = '\0';
			break;
		}
	}
	if (k == sizeof kinds / sizeof kinds[0]) {
		cs_api__problem(r, 404, "not-found",
		    "CRLs are /crl/<issuer>.crl, .pem, -delta.crl or "
		    "-delta.pem");
		return;
	}
	if (cs_api__issuer(r->api, name) == NULL) {
		cs_api__problem(r, 404, "not-found", "no issuer \"%s\"", name);
		return;
	}
	c = crl_get(r->api, name, false);
	der = c == NULL ? NULL : kinds[k].delta ? c->delta : c->full;
	len = c == NULL ? 0 : kinds[k].delta ? c->delta_len : c->full_len;
	if (der == NULL) {
		if (c != NULL && c->err[0] != '\0')
			cs_api__unavailable(r, "no CRL for %s on this node: %s",
			    name, c->err);
		else
			cs_api__problem(r, 404, "not-found",
			    "no %s CRL for %s yet",
			    kinds[k].delta ? "delta" : "full", name);
		return;
	}
	if (kinds[k].pem) {
		char *pem = cs_pem_encode("X509 CRL", der, len);

		len = strlen(pem);
		cs_api__respond(r, 200, "application/x-pem-file", pem, len,
		    crl_cache, 1);
		return;
	}
	cs_api__respond(r, 200, "application/pkix-crl", cs_memdup(der, len),
	    len, crl_cache, 1);
}

void
cs_api__crl_stats(const struct cs_api *api, const char *issuer, uint64_t *full,
    uint64_t *delta)
{
	const struct cs_api_crl *c;

	*full = *delta = 0;
	for (c = api->crls; c != NULL; c = c->next) {
		if (strcmp(c->issuer, issuer) == 0) {
			*full = c->full_number;
			*delta = c->delta_number;
		}
	}
}
