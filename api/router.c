/*
 * router.c - the route table: method + path pattern -> handler, who may
 * call it, on which listeners, and how it replicates.
 *
 * Patterns are literal segments, {} for one segment of any text
 * (captured raw: fingerprints and ids need no decoding) and a final {*}
 * for the rest of the path, slashes included (OCSP GET requests). A path that
 * matches a pattern with another method gets 405, no match at all 404.
 */
#include <string.h>

#include "api/api_int.h"

#define API (1u << CS_LISTENER_API)
#define ALL (API | 1u << CS_LISTENER_PUBLIC | 1u << CS_LISTENER_HTTP)

#define R     CS_ROLES_READ
#define W     CS_ROLES_WRITE
#define ADMIN CS_ROLE_ADMIN
#define AUDIT (CS_ROLE_ADMIN | CS_ROLE_AUDITOR)

/* Who may do what (DESIGN.md section 6): admin everything; operator
 * certificates, keys, revocations and reading; auditor reading and the
 * audit chain; enroller only issuance (the CA routes). */
static const struct cs_route routes[] = {
    {HTTP_GET, "/healthz", 0, ALL, CS_ROUTE_PUBLIC, cs_api__get_healthz},
    {HTTP_GET, "/readyz", 0, ALL, CS_ROUTE_PUBLIC, cs_api__get_readyz},
    {HTTP_GET, "/metrics", R, API, 0, cs_api__get_metrics},
    {HTTP_GET, "/v1/cluster", CS_ROLES_READ, API, CS_ROUTE_READ,
	cs_api__get_cluster},
    {HTTP_GET, "/v1/cluster/state-hash", CS_ROLE_ADMIN | CS_ROLE_AUDITOR, API,
	CS_ROUTE_READ, cs_api__get_state_hash},
    {HTTP_POST, "/v1/cluster/members", CS_ROLE_ADMIN, API, CS_ROUTE_WRITE,
	cs_api__post_member},
    {HTTP_DELETE, "/v1/cluster/members/{}", CS_ROLE_ADMIN, API, CS_ROUTE_WRITE,
	cs_api__delete_member},
    {HTTP_POST, "/v1/cluster/transfer", CS_ROLE_ADMIN, API, CS_ROUTE_WRITE,
	cs_api__post_transfer},
    {HTTP_GET, "/v1/snapshot", ADMIN, API, CS_ROUTE_READ, cs_api__get_snapshot},
    {HTTP_POST, CS_FWD_PATH, 0, API, CS_ROUTE_NODE, cs_api__post_forward},
    {HTTP_POST, "/v1/certs", W, API, CS_ROUTE_WRITE, cs_api__post_certs},
    {HTTP_GET, "/v1/certs", R, API, CS_ROUTE_READ, cs_api__get_certs},
    {HTTP_GET, "/v1/certs/{}", R, API, CS_ROUTE_READ, cs_api__get_cert},
    {HTTP_PATCH, "/v1/certs/{}", W, API, CS_ROUTE_WRITE, cs_api__patch_cert},
    {HTTP_POST, "/v1/certs/{}/revoke", W, API, CS_ROUTE_WRITE,
	cs_api__post_revoke},
    {HTTP_POST, "/v1/revocations", W, API, CS_ROUTE_WRITE,
	cs_api__post_revocations},
    {HTTP_GET, "/v1/expiring", R, API, CS_ROUTE_READ, cs_api__get_expiring},
    {HTTP_GET, "/v1/rotation-due", R, API, CS_ROUTE_READ,
	cs_api__get_rotation_due},
    {HTTP_GET, "/v1/keys/{}", R, API, CS_ROUTE_READ, cs_api__get_key},
    {HTTP_POST, "/v1/keys/{}/compromise", W, API, CS_ROUTE_WRITE,
	cs_api__post_compromise},
    {HTTP_POST, "/v1/keys/{}/destroy", W, API, CS_ROUTE_WRITE,
	cs_api__post_destroy},
    {HTTP_GET, "/v1/profiles", R, API, CS_ROUTE_READ, cs_api__get_profiles},
    {HTTP_GET, "/v1/profiles/{}", R, API, CS_ROUTE_READ, cs_api__get_profile},
    {HTTP_PUT, "/v1/profiles/{}", ADMIN, API, CS_ROUTE_WRITE,
	cs_api__put_profile},
    {HTTP_DELETE, "/v1/profiles/{}", ADMIN, API, CS_ROUTE_WRITE,
	cs_api__delete_profile},
    {HTTP_GET, "/v1/roles", AUDIT, API, CS_ROUTE_READ, cs_api__get_roles},
    {HTTP_GET, "/v1/roles/{}", AUDIT, API, CS_ROUTE_READ, cs_api__get_role},
    {HTTP_PUT, "/v1/roles/{}", ADMIN, API, CS_ROUTE_WRITE, cs_api__put_role},
    {HTTP_DELETE, "/v1/roles/{}", ADMIN, API, CS_ROUTE_WRITE,
	cs_api__delete_role},
    {HTTP_POST, "/v1/issue", W | CS_ROLE_ENROLLER, API, CS_ROUTE_WRITE,
	cs_api__post_issue},
    {HTTP_POST, "/v1/certs/{}/renew", W | CS_ROLE_ENROLLER, API, CS_ROUTE_WRITE,
	cs_api__post_renew},
    {HTTP_GET, "/v1/issuers", R, API, CS_ROUTE_READ, cs_api__get_issuers},
    {HTTP_GET, "/v1/issuers/{}", R, API, CS_ROUTE_READ, cs_api__get_issuer},
    {HTTP_PUT, "/v1/issuers/{}", ADMIN, API, CS_ROUTE_WRITE,
	cs_api__put_issuer},
    {HTTP_DELETE, "/v1/issuers/{}", ADMIN, API, CS_ROUTE_WRITE,
	cs_api__delete_issuer},
    {HTTP_GET, "/ca/{}", 0, ALL, CS_ROUTE_PUBLIC, cs_api__get_ca_cert},
    {HTTP_GET, "/crl/{}", 0, ALL, CS_ROUTE_PUBLIC, cs_api__get_crl},
    {HTTP_POST, "/ocsp", 0, ALL, CS_ROUTE_PUBLIC, cs_api__post_ocsp},
    {HTTP_POST, "/ocsp/", 0, ALL, CS_ROUTE_PUBLIC, cs_api__post_ocsp},
    {HTTP_GET, "/ocsp/{*}", 0, ALL, CS_ROUTE_PUBLIC, cs_api__get_ocsp},
    {HTTP_GET, "/v1/audit", AUDIT, API, CS_ROUTE_READ, cs_api__get_audit},
    {HTTP_GET, "/v1/audit/verify", AUDIT, API, CS_ROUTE_READ,
	cs_api__get_audit_verify},
};

/* Matches path against pattern, filling params. */
static bool
match(const char *pattern, const char *path, const char **params,
    struct cs_api_req *r)
{
	const char *p = pattern, *q = path;
	size_t np = 0;

	while (*p != '\0' && *q != '\0') {
		if (strcmp(p, "{*}") == 0) {
			/* the rest of the path, '/' included */
			if (np == CS_ROUTE_MAX_PARAMS)
				return false;
			if (params != NULL)
				params[np] =
				    cs_http_req_strndup(r->http, q, strlen(q));
			return true;
		}
		if (p[0] == '{' && p[1] == '}') {
			const char *end = strchr(q, '/');
			size_t len =
			    end != NULL ? (size_t)(end - q) : strlen(q);

			if (len == 0 || np == CS_ROUTE_MAX_PARAMS)
				return false;
			if (params != NULL)
				params[np] =
				    cs_http_req_strndup(r->http, q, len);
			np++;
			p += 2;
			q += len;
			continue;
		}
		if (*p != *q)
			return false;
		p++;
		q++;
	}
	return *p == '\0' && *q == '\0';
}

const struct cs_route *
cs_api__route(struct cs_api_req *r, enum http_method method, const char *path,
    int *status)
{
	bool path_known = false;
	/* HEAD is GET without the body (the server drops it) */
	enum http_method m = method == HTTP_HEAD ? HTTP_GET : method;

	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct cs_route *rt = &routes[i];

		if (!(rt->listeners & (1u << r->listener)))
			continue;
		if (!match(rt->pattern, path, NULL, r))
			continue;
		path_known = true;
		if (rt->method != m)
			continue;
		match(rt->pattern, path, r->params, r);
		return rt;
	}
	*status = path_known ? 405 : 404;
	return NULL;
}
