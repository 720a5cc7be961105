/* test_client.c - api/client.c against real HTTPS servers on 127.0.0.1.
 *
 * The runner process (an unchecked fixture, so it also runs when a test
 * fails or crashes) generates a throwaway PKI with OpenSSL into a temporary
 * directory and starts tests/integration/client_server.py, three python3
 * stdlib HTTPS servers on port 0 (see that file). Its teardown kills and
 * reaps the server and removes the directory. The server also exits on EOF
 * of its stdin, so it never outlives this program. Each test (forked by
 * Check) makes its own loop and client, and ends with uv_loop_close() == 0.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <uv.h>

#include "api/client.h"
#include "lib/error.h"
#include "lib/mem.h"

/* ---- the environment: PKI and servers (runner process) ---- */

static char dir[64];          /* the temporary PKI directory */
static char env_err[512];     /* set when the environment failed */
static pid_t server_pid = -1; /* client_server.py */
static int server_stdin = -1; /* its stdin: closing it stops it */
static int port_good, port_wrongname, port_untrusted;

static const char *const pki_files[] = {
    "ca.pem",
    "ca.key",
    "server.pem",
    "server.key",
    "wrongname.pem",
    "wrongname.key",
    "untrusted.pem",
    "untrusted.key",
    "client.pem",
    "client.key",
    "ca2.pem",
    "ca2.key",
};

static void
path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static int
add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	int ok;

	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A P-256 certificate for key, signed by issuer (or itself); a CA when
 * san is NULL, else a leaf with that subjectAltName. */
static X509 *
mkcert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    const char *san, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	int ok;

	if (x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	ok = X509_set_version(x, X509_VERSION_3) &&
	     ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
	     X509_set_pubkey(x, key) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		 (const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_issuer_name(x,
		 issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ok = ok && add_ext(x, &v3, NID_subject_key_identifier, "hash") &&
	     add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (san == NULL)
		ok = ok &&
		     add_ext(x, &v3, NID_basic_constraints,
			 "critical,CA:TRUE") &&
		     add_ext(x, &v3, NID_key_usage,
			 "critical,keyCertSign,cRLSign");
	else
		ok = ok &&
		     add_ext(x, &v3, NID_basic_constraints,
			 "critical,CA:FALSE") &&
		     add_ext(x, &v3, NID_key_usage,
			 "critical,digitalSignature") &&
		     add_ext(x, &v3, NID_ext_key_usage,
			 "serverAuth,clientAuth") &&
		     add_ext(x, &v3, NID_subject_alt_name, san);
	ok = ok && X509_sign(x, issuer_key != NULL ? issuer_key : key,
		       EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int
write_pem(const char *name, X509 *x, EVP_PKEY *key)
{
	char p[128];
	FILE *f;
	int ok;

	path(p, sizeof p, name);
	f = fopen(p, "w");
	if (f == NULL)
		return 0;
	ok = x != NULL
		 ? PEM_write_X509(f, x)
		 : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok;
}

/* Writes the files of pki_files. Returns 1 on success. */
static int
make_pki(void)
{
	static const struct {
		const char *name; /* name.pem, name.key */
		const char *cn;
		const char *san; /* NULL: a CA */
		int issuer;      /* index of the signing CA below, -1: self */
	} certs[] = {
	    {"ca", "cs-test-ca", NULL, -1},
	    {"ca2", "cs-test-untrusted-ca", NULL, -1},
	    {"server", "cs-test-server", "IP:127.0.0.1,DNS:localhost", 0},
	    {"wrongname", "cs-test-wrongname", "DNS:node9.test", 0},
	    {"untrusted", "cs-test-untrusted", "IP:127.0.0.1", 1},
	    {"client", "cs-test-client", "DNS:client.test", 0},
	};
	enum {
		N = sizeof certs / sizeof certs[0]
	};
	EVP_PKEY *keys[N] = {NULL};
	X509 *x509[N] = {NULL};
	char name[64];
	int ok = 1;

	for (int i = 0; ok && i < N; i++) {
		int is = certs[i].issuer;
		keys[i] = EVP_EC_gen("P-256");
		ok = keys[i] != NULL;
		if (ok)
			x509[i] = mkcert(keys[i], certs[i].cn,
			    is < 0 ? NULL : x509[is], is < 0 ? NULL : keys[is],
			    certs[i].san, 1000 + i);
		ok = ok && x509[i] != NULL;
		snprintf(name, sizeof name, "%s.pem", certs[i].name);
		ok = ok && write_pem(name, x509[i], NULL);
		snprintf(name, sizeof name, "%s.key", certs[i].name);
		ok = ok && write_pem(name, NULL, keys[i]);
	}
	for (int i = 0; i < N; i++) {
		X509_free(x509[i]);
		EVP_PKEY_free(keys[i]);
	}
	return ok;
}

/* Starts client_server.py and reads its ports. Returns 1 on success. */
static int
start_server(void)
{
	int in[2] = {-1, -1};
	int out[2] = {-1, -1};
	pid_t parent = getpid();
	const char *py = getenv("PYTHON");
	char line[128] = "";
	size_t len = 0;
	struct pollfd pfd;
	ssize_t n;

	if (py == NULL)
		py = "python3";
	if (pipe(in) != 0 || pipe(out) != 0) {
		snprintf(env_err, sizeof env_err, "pipe: %s", strerror(errno));
		return 0;
	}
	server_pid = fork();
	if (server_pid < 0) {
		snprintf(env_err, sizeof env_err, "fork: %s", strerror(errno));
		return 0;
	}
	if (server_pid == 0) {
#ifdef __linux__
		prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
		if (getppid() != parent)
			_exit(1);
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execlp(py, py, CS_TEST_CLIENT_SERVER, dir, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", py, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	server_stdin = in[1];
	fcntl(server_stdin, F_SETFD, FD_CLOEXEC);
	/* "ports A B C\n" within 20 s */
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (strchr(line, '\n') == NULL && len < sizeof line - 1) {
		if (poll(&pfd, 1, 20000) <= 0)
			break;
		n = read(out[0], line + len, sizeof line - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(out[0]);
	if (sscanf(line, "ports %d %d %d", &port_good, &port_wrongname,
		&port_untrusted) != 3) {
		snprintf(env_err, sizeof env_err,
		    "%s %s did not report its ports (got \"%s\")", py,
		    CS_TEST_CLIENT_SERVER, line);
		return 0;
	}
	return 1;
}

static void
env_teardown(void)
{
	char p[128];

	if (server_stdin >= 0)
		close(server_stdin);
	server_stdin = -1;
	if (server_pid > 0) {
		kill(server_pid, SIGKILL);
		while (waitpid(server_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	server_pid = -1;
	if (dir[0] != '\0') {
		for (size_t i = 0; i < sizeof pki_files / sizeof pki_files[0];
		     i++) {
			path(p, sizeof p, pki_files[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	dir[0] = '\0';
}

/* Unchecked: runs in the runner process, once for the tcase. It must not
 * ck_assert (that would end the runner); tests check env_err instead. */
static void
env_setup(void)
{
	env_err[0] = '\0';
	snprintf(dir, sizeof dir, "/tmp/cs-client-test-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		snprintf(env_err, sizeof env_err, "mkdtemp: %s",
		    strerror(errno));
		dir[0] = '\0';
		return;
	}
	if (!make_pki()) {
		snprintf(env_err, sizeof env_err, "test PKI generation failed");
		return;
	}
	start_server();
}

/* ---- per test (forked) ---- */

static uv_loop_t loop;

static void
setup(void)
{
	ck_assert_msg(env_err[0] == '\0', "environment: %s", env_err);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
}

static void
teardown(void)
{
}

/* A client of the trusted CA, presenting client.pem; fields of *over that
 * are set win. */
static struct cs_client *
client_new(const struct cs_client_config *over)
{
	static char ca[128], cert[128], key[128];
	struct cs_client_config cfg = {0};
	char errmsg[CS_ERRMSG_SIZE] = "";
	struct cs_client *c;

	path(ca, sizeof ca, "ca.pem");
	path(cert, sizeof cert, "client.pem");
	path(key, sizeof key, "client.key");
	if (over != NULL)
		cfg = *over;
	if (cfg.ca_file == NULL)
		cfg.ca_file = ca;
	if (cfg.cert_file == NULL && cfg.key_file == NULL) {
		cfg.cert_file = cert;
		cfg.key_file = key;
	}
	c = cs_client_new(&loop, &cfg, errmsg);
	ck_assert_msg(c != NULL, "cs_client_new: %s", errmsg);
	return c;
}

static void
on_closed(struct cs_client *c)
{
	int *closed = cs_client_get_data(c);

	(*closed)++;
}

/* Closes c, runs the loop dry and checks that nothing is left on it. */
static void
close_client(struct cs_client *c)
{
	int closed = 0;

	cs_client_set_data(c, &closed);
	cs_client_close(c, on_closed);
	cs_client_close(c, on_closed); /* idempotent */
	ck_assert_int_eq(closed, 0);   /* never from inside close */
	while (closed == 0)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(closed, 1);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

static void
count_active(uv_handle_t *h, void *arg)
{
	if (uv_is_active(h))
		(*(int *)arg)++;
}

/* Active handles on the loop: an idle client must not keep it alive. */
static int
active_handles(void)
{
	int n = 0;

	uv_walk(&loop, count_active, &n);
	return n;
}

static void
url(char *out, size_t size, int port, const char *p)
{
	snprintf(out, size, "https://127.0.0.1:%d%s", port, p);
}

/* What a callback saw; the views die with the callback, so it copies. */
struct result {
	int calls;
	int status;
	int http_status;
	char body[2048];
	size_t body_len;
	char x_method[16], x_test[64], x_peer[64], x_ctype[64], x_expect[32];
	char x_conn[16], x_accepts[16], location[64];
	char errmsg[CS_ERRMSG_SIZE];
	uint64_t ms; /* from send to callback */
	uint64_t t0;
};

static void
copy_header(const struct cs_client_req *req, const char *name, char *out,
    size_t size)
{
	const char *v = cs_client_req_header(req, name);

	snprintf(out, size, "%s", v != NULL ? v : "(none)");
}

static void
record(struct cs_client_req *req, int status)
{
	struct result *r = req->data;

	/* Let a waiting uv_run(UV_RUN_ONCE) return without blocking for I/O:
	 * a callback from the timer phase would else wait for the next
	 * event. */
	uv_stop(&loop);
	r->calls++;
	r->status = status;
	r->http_status = req->http_status;
	r->ms = (uv_hrtime() - r->t0) / 1000000;
	snprintf(r->errmsg, sizeof r->errmsg, "%s", req->errmsg);
	if (status != 0) {
		ck_assert_ptr_null(req->resp);
		ck_assert_ptr_null(cs_client_req_header(req, "X-Conn"));
		return;
	}
	ck_assert_ptr_nonnull(req->resp);
	ck_assert_uint_eq(req->resp[req->resp_len], 0);
	r->body_len = req->resp_len;
	memcpy(r->body, req->resp,
	    req->resp_len < sizeof r->body ? req->resp_len : sizeof r->body);
	copy_header(req, "X-Method", r->x_method, sizeof r->x_method);
	copy_header(req, "x-test", r->x_test, sizeof r->x_test);
	copy_header(req, "X-PEER", r->x_peer, sizeof r->x_peer);
	copy_header(req, "X-Content-Type", r->x_ctype, sizeof r->x_ctype);
	copy_header(req, "X-Expect", r->x_expect, sizeof r->x_expect);
	copy_header(req, "X-Conn", r->x_conn, sizeof r->x_conn);
	copy_header(req, "X-Accepts", r->x_accepts, sizeof r->x_accepts);
	copy_header(req, "Location", r->location, sizeof r->location);
}

static void
on_result(struct cs_client_req *req, int status)
{
	record(req, status);
}

/* Sends req (data must be a struct result) and runs the loop until its
 * callback. */
static int
run(struct cs_client *c, struct cs_client_req *req)
{
	struct result *r = req->data;
	int rc;

	memset(r, 0, sizeof *r);
	r->t0 = uv_hrtime();
	rc = cs_client_send(c, req, on_result);
	if (rc < 0)
		return rc;
	while (r->calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(r->calls, 1);
	return 0;
}

/* One request with the given method, path and port. */
static struct result
fetch(struct cs_client *c, enum cs_client_method m, int port, const char *p)
{
	struct cs_client_req req;
	struct result r;
	char u[256];

	cs_client_req_init(&req);
	url(u, sizeof u, port, p);
	req.method = m;
	req.url = u;
	req.data = &r;
	ck_assert_int_eq(run(c, &req), 0);
	return r;
}

/* ---- tests: requests and answers, connection reuse ---- */

START_TEST(test_send_get_roundtrip)
{
	const char *headers[] = {"X-Test: hello world", "Accept: */*"};
	struct cs_client *c;
	struct cs_client_req req;
	struct result r, r2;
	char u[256];

	/* the proxy environment must be ignored: this one would refuse */
	setenv("https_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
	setenv("all_proxy", "http://127.0.0.1:1", 1);
	c = client_new(NULL);
	cs_client_req_init(&req);
	url(u, sizeof u, port_good, "/echo");
	req.url = u;
	req.headers = headers;
	req.nheaders = 2;
	req.data = &r;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.errmsg);
	ck_assert_int_eq(r.http_status, 200);
	ck_assert_str_eq(r.x_method, "GET");
	ck_assert_str_eq(r.x_test, "hello world");
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_eq(r.errmsg, "");

	/* the same request struct again: the connection is reused */
	req.data = &r2;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r2.status, 0);
	ck_assert_int_eq(r2.http_status, 200);
	ck_assert_str_eq(r2.x_conn, r.x_conn);
	ck_assert_uint_eq(cs_client_pending(c), 0);
	/* idle: nothing left armed or watched that would wake the loop */
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(active_handles(), 0);
	close_client(c);
}
END_TEST

static uint8_t *stolen;
static size_t stolen_len;

static void
on_steal(struct cs_client_req *req, int status)
{
	record(req, status);
	if (status == 0)
		stolen = cs_client_req_steal_body(req, &stolen_len);
	ck_assert_ptr_null(req->resp);
}

START_TEST(test_send_post_roundtrip)
{
	const char *headers[] = {"Content-Type: application/x-test", "X-Test:"};
	/* over 1 MiB: there libcurl would add "Expect: 100-continue" */
	enum {
		BODY = 1024 * 1024 + 4096
	};
	struct cs_client_config cfg = {0};
	uint8_t *body = malloc(BODY);
	struct cs_client *c;
	struct cs_client_req req;
	struct result r;
	char u[256];

	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < BODY; i++)
		body[i] = (uint8_t)(i * 7); /* NUL bytes included */
	cfg.max_body = 2 * BODY;
	c = client_new(&cfg);
	cs_client_req_init(&req);
	url(u, sizeof u, port_good, "/echo");
	req.method = CS_CLIENT_METHOD_POST;
	req.url = u;
	req.headers = headers;
	req.nheaders = 2;
	req.body = body;
	req.body_len = BODY;
	req.data = &r;
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(cs_client_send(c, &req, on_steal), 0);
	while (r.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.errmsg);
	ck_assert_int_eq(r.http_status, 200);
	ck_assert_str_eq(r.x_method, "POST");
	ck_assert_str_eq(r.x_ctype, "application/x-test");
	ck_assert_str_eq(r.x_expect, "-"); /* no Expect: 100-continue */
	ck_assert_str_eq(r.x_test, "");    /* "Name:" sends an empty value */
	ck_assert_uint_eq(r.body_len, BODY);
	/* the stolen body outlives the callback */
	ck_assert_ptr_nonnull(stolen);
	ck_assert_uint_eq(stolen_len, BODY);
	ck_assert(memcmp(stolen, body, BODY) == 0);
	free(stolen);
	free(body);

	/* no Content-Type given: none sent (not libcurl's form default) */
	req.headers = NULL;
	req.nheaders = 0;
	req.body = "abc";
	req.body_len = 3;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.x_ctype, "-");
	ck_assert_uint_eq(r.body_len, 3);
	ck_assert_mem_eq(r.body, "abc", 3);

	/* PUT and DELETE carry their method; POST without a body */
	req.method = CS_CLIENT_METHOD_PUT;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_str_eq(r.x_method, "PUT");
	ck_assert_mem_eq(r.body, "abc", 3);
	req.method = CS_CLIENT_METHOD_DELETE;
	req.body = NULL;
	req.body_len = 0;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_str_eq(r.x_method, "DELETE");
	req.method = CS_CLIENT_METHOD_POST;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_str_eq(r.x_method, "POST");
	ck_assert_uint_eq(r.body_len, 0);
	close_client(c);
}
END_TEST

START_TEST(test_send_status_and_redirect_not_followed)
{
	struct cs_client *c = client_new(NULL);
	struct result r;

	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/redirect");
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(r.http_status, 302);
	ck_assert_str_eq(r.location, "/echo");
	ck_assert_str_eq(r.x_method, "(none)"); /* /echo was not fetched */
	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/status/503");
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(r.http_status, 503);
	ck_assert_uint_eq(r.body_len, 7);
	r = fetch(c, CS_CLIENT_METHOD_HEAD, port_good, "/big?n=100");
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(r.http_status, 200);
	ck_assert_uint_eq(r.body_len, 0);
	close_client(c);
}
END_TEST

enum {
	NCONC = 100,
	CONC_HOST_CONNS = 4
};
static struct result conc[NCONC];
static int conc_done;

/* The request was malloc()ed by the test: free it here, as a user may. */
static void
on_conc(struct cs_client_req *req, int status)
{
	record(req, status);
	free((void *)(uintptr_t)req->body);
	free(req);
	conc_done++;
}

START_TEST(test_send_concurrent_reuses_connections)
{
	struct cs_client_config cfg = {0};
	struct cs_client *c;
	struct result r;
	int seen[NCONC] = {0};
	int conns = 0;
	int first, last;
	char u[256];
	char want[32];

	cfg.max_host_connections = CONC_HOST_CONNS;
	cfg.max_connections = 8;
	c = client_new(&cfg);
	/* The server counts connections over the whole run: note where this
	 * test starts. This connection stays in the pool. */
	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/echo");
	ck_assert_int_eq(r.status, 0);
	first = atoi(r.x_accepts);
	ck_assert_int_ge(first, 1);

	url(u, sizeof u, port_good, "/echo");
	for (int i = 0; i < NCONC; i++) {
		struct cs_client_req *req = malloc(sizeof *req);
		char *body = malloc(32);

		ck_assert_ptr_nonnull(req);
		ck_assert_ptr_nonnull(body);
		cs_client_req_init(req);
		req->method = CS_CLIENT_METHOD_POST;
		req->url = u;
		req->body = body;
		req->body_len = (size_t)snprintf(body, 32, "request %d", i);
		req->data = &conc[i];
		conc[i].t0 = uv_hrtime();
		ck_assert_int_eq(cs_client_send(c, req, on_conc), 0);
	}
	ck_assert_uint_eq(cs_client_pending(c), NCONC);
	while (conc_done < NCONC)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_uint_eq(cs_client_pending(c), 0);

	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/echo");
	ck_assert_int_eq(r.status, 0);
	last = atoi(r.x_accepts);
	/* at most 3 more connections than the one of the first request */
	ck_assert_int_ge(last, first);
	ck_assert_int_le(last - first, CONC_HOST_CONNS - 1);
	for (int i = 0; i < NCONC; i++) {
		int id;

		ck_assert_int_eq(conc[i].calls, 1);
		ck_assert_msg(conc[i].status == 0, "request %d: %d %s", i,
		    conc[i].status, conc[i].errmsg);
		ck_assert_int_eq(conc[i].http_status, 200);
		/* each answer is its own request's */
		snprintf(want, sizeof want, "request %d", i);
		ck_assert_uint_eq(conc[i].body_len, strlen(want));
		ck_assert_mem_eq(conc[i].body, want, strlen(want));
		id = atoi(conc[i].x_conn);
		ck_assert_int_ge(id, first);
		ck_assert_int_le(id, last);
		if (!seen[id - first]++)
			conns++;
	}
	/* 101 requests on at most 4 connections, the first one's included:
	 * kept alive, reused, and never more than the per-host cap */
	ck_assert_int_ge(conns, 1);
	ck_assert_int_le(conns, CONC_HOST_CONNS);
	close_client(c);
}
END_TEST

/* ---- tests: TLS (trust, names, client certificates) ---- */

START_TEST(test_send_untrusted_ca_fails)
{
	struct cs_client *c = client_new(NULL);
	struct cs_client_req req;
	struct result r;
	char u[256];

	cs_client_req_init(&req);
	url(u, sizeof u, port_untrusted, "/echo");
	req.url = u;
	req.data = &r;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, CS_EIO);
	ck_assert_int_eq(r.http_status, 0);
	ck_assert_msg(strstr(r.errmsg, "certificate") != NULL, "errmsg: %s",
	    r.errmsg);
	close_client(c);
}
END_TEST

START_TEST(test_send_name_mismatch_fails)
{
	struct cs_client *c = client_new(NULL);
	struct cs_client_req req;
	struct result r;
	char u[256];

	cs_client_req_init(&req);
	req.data = &r;
	req.url = u;

	/* certificate for node9.test, URL host 127.0.0.1 */
	url(u, sizeof u, port_wrongname, "/echo");
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, CS_EIO);
	ck_assert_msg(strstr(r.errmsg, "127.0.0.1") != NULL, "errmsg: %s",
	    r.errmsg);

	/* the same server, told to expect node9.test: accepted */
	req.peer_name = "node9.test";
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.errmsg);
	ck_assert_int_eq(r.http_status, 200);
	/* that kept-alive connection is not reused for the URL host */
	req.peer_name = NULL;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, CS_EIO);

	/* a certificate for 127.0.0.1 and localhost: fine as such, but not
	 * when node9.test is expected, even with a verified connection to
	 * the same address in the pool */
	url(u, sizeof u, port_good, "/echo");
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, 0);
	req.peer_name = "node9.test";
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, CS_EIO);
	ck_assert_msg(strstr(r.errmsg, "node9.test") != NULL, "errmsg: %s",
	    r.errmsg);

	/* URL by name, checked by IP: the IP SAN is what is verified */
	snprintf(u, sizeof u, "https://localhost:%d/echo", port_good);
	req.peer_name = "127.0.0.1";
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.errmsg);
	req.peer_name = "127.0.0.2";
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, CS_EIO);
	close_client(c);
}
END_TEST

START_TEST(test_send_presents_client_cert)
{
	struct cs_client_config cfg = {0};
	struct cs_client *c = client_new(NULL);
	struct result r;
	char ca[128];

	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/echo");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.x_peer, "cs-test-client");
	close_client(c);

	/* without one, the server that requires it refuses */
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	path(ca, sizeof ca, "ca.pem");
	cfg.ca_file = ca;
	cfg.cert_file = NULL;
	cfg.key_file = NULL;
	{
		char errmsg[CS_ERRMSG_SIZE] = "";

		c = cs_client_new(&loop, &cfg, errmsg);
		ck_assert_msg(c != NULL, "%s", errmsg);
	}
	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/echo");
	ck_assert_int_eq(r.status, CS_EIO);
	ck_assert_str_ne(r.errmsg, "");
	close_client(c);
}
END_TEST

/* A TCP socket on 127.0.0.1, bound to port 0, listening or not. */
static int
local_socket(int listening, int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	if (listening)
		ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* ---- tests: deadlines, caps and refused connections ---- */

START_TEST(test_send_timeout)
{
	struct cs_client_config cfg = {0};
	struct cs_client *c;
	struct cs_client_req req;
	struct result r;
	char u[256];
	int port;
	int fd;

	cfg.connect_timeout_ms = 200;
	c = client_new(&cfg);
	cs_client_req_init(&req);
	req.url = u;
	req.data = &r;

	/* TLS and HTTP fine, no answer: the request's own timeout */
	url(u, sizeof u, port_good, "/hang");
	req.timeout_ms = 300;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, CS_ETIMEDOUT);
	ck_assert_msg(r.ms >= 290 && r.ms < 2000, "took %llu ms",
	    (unsigned long long)r.ms);
	ck_assert_str_ne(r.errmsg, "");

	/* the kernel accepts, nobody speaks TLS: the connect timeout */
	fd = local_socket(1, &port);
	url(u, sizeof u, port, "/");
	req.timeout_ms = 5000;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, CS_ETIMEDOUT);
	ck_assert_msg(r.ms >= 190 && r.ms < 2000, "took %llu ms",
	    (unsigned long long)r.ms);
	close(fd);
	close_client(c);
}
END_TEST

/* A request queued behind a busy connection times out on its own time,
 * not after the request holding the connection. */
START_TEST(test_send_timeout_while_queued)
{
	static const uint64_t timeout[2] = {2000, 300};
	struct cs_client_config cfg = {0};
	struct cs_client *c;
	struct cs_client_req req[2];
	struct result r[2];
	char u[256];

	cfg.max_host_connections = 1;
	c = client_new(&cfg);
	url(u, sizeof u, port_good, "/hang");
	for (int i = 0; i < 2; i++) {
		cs_client_req_init(&req[i]);
		req[i].url = u;
		req[i].timeout_ms = timeout[i];
		req[i].data = &r[i];
		memset(&r[i], 0, sizeof r[i]);
		r[i].t0 = uv_hrtime();
		ck_assert_int_eq(cs_client_send(c, &req[i], on_result), 0);
	}
	while (r[0].calls == 0 || r[1].calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, CS_ETIMEDOUT);
	}
	ck_assert_msg(r[0].ms >= 1990, "took %llu ms",
	    (unsigned long long)r[0].ms);
	ck_assert_msg(r[1].ms >= 290 && r[1].ms < 1500, "queued took %llu ms",
	    (unsigned long long)r[1].ms);
	close_client(c);
}
END_TEST

START_TEST(test_send_body_cap)
{
	struct cs_client_config cfg = {0};
	struct cs_client *c;
	struct result r;

	cfg.max_body = 1000;
	c = client_new(&cfg);
	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/big?n=1000");
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.body_len, 1000);
	/* Content-Length over the cap */
	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/big?n=1001");
	ck_assert_int_eq(r.status, CS_ETOOBIG);
	ck_assert_int_eq(r.http_status, 0);
	ck_assert_str_ne(r.errmsg, "");
	/* no Content-Length: stopped while reading */
	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/chunked?n=5000");
	ck_assert_int_eq(r.status, CS_ETOOBIG);
	r = fetch(c, CS_CLIENT_METHOD_GET, port_good, "/chunked?n=999");
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.body_len, 999);
	close_client(c);
}
END_TEST

START_TEST(test_send_connection_refused)
{
	struct cs_client *c = client_new(NULL);
	struct cs_client_req req;
	struct result r;
	char u[256];
	int port;
	int fd = local_socket(0, &port); /* bound, not listening: refused */

	cs_client_req_init(&req);
	url(u, sizeof u, port, "/echo");
	req.url = u;
	req.data = &r;
	ck_assert_int_eq(run(c, &req), 0);
	ck_assert_int_eq(r.status, CS_EIO);
	ck_assert_msg(strstr(r.errmsg, "onnect") != NULL, "errmsg: %s",
	    r.errmsg);
	ck_assert_uint_lt(r.ms, 2000);
	close(fd);
	close_client(c);
}
END_TEST

/* ---- tests: closing, re-entrancy and bad requests ---- */

enum {
	NCANCEL = 6
};
static int cancel_calls;
static int cancel_closed;
static int cancel_order_ok = 1;

static void
on_cancel(struct cs_client_req *req, int status)
{
	struct result *r = req->data;

	record(req, status);
	if (cancel_closed)
		cancel_order_ok = 0; /* a request callback after close cb */
	(void)r;
	cancel_calls++;
}

static void
on_cancel_closed(struct cs_client *c)
{
	(void)c;
	cancel_closed++;
}

static void
on_close_timer(uv_timer_t *t)
{
	struct cs_client *c = t->data;
	struct cs_client_req late;
	struct result r = {0};

	cs_client_close(c, on_cancel_closed);
	/* a send after close fails and never calls back */
	cs_client_req_init(&late);
	late.url = "https://127.0.0.1:1/";
	late.data = &r;
	ck_assert_int_eq(cs_client_send(c, &late, on_result), CS_ECANCELED);
	ck_assert_str_ne(late.errmsg, "");
	ck_assert_int_eq(r.calls, 0);
	ck_assert_int_eq(cancel_calls, 0); /* not from inside close */
	uv_close((uv_handle_t *)t, NULL);
}

START_TEST(test_close_cancels_in_flight)
{
	struct cs_client_config cfg = {0};
	struct cs_client *c;
	struct cs_client_req req[NCANCEL];
	struct result r[NCANCEL];
	uv_timer_t timer;
	char u[256];

	/* 4 on the wire, 2 waiting for a connection */
	cfg.max_host_connections = 4;
	c = client_new(&cfg);
	url(u, sizeof u, port_good, "/hang");
	for (int i = 0; i < NCANCEL; i++) {
		cs_client_req_init(&req[i]);
		req[i].url = u;
		req[i].data = &r[i];
		memset(&r[i], 0, sizeof r[i]);
		ck_assert_int_eq(cs_client_send(c, &req[i], on_cancel), 0);
	}
	uv_timer_init(&loop, &timer);
	timer.data = c;
	uv_timer_start(&timer, on_close_timer, 300, 0);
	while (cancel_closed == 0)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(cancel_closed, 1);
	ck_assert_int_eq(cancel_calls, NCANCEL);
	ck_assert(cancel_order_ok);
	for (int i = 0; i < NCANCEL; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, CS_ECANCELED);
		ck_assert_int_eq(r[i].http_status, 0);
	}
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_close_before_loop_runs)
{
	struct cs_client *c = client_new(NULL);
	struct cs_client_req req[3];
	struct result r[3];
	char u[256];

	url(u, sizeof u, port_good, "/echo");
	for (int i = 0; i < 3; i++) {
		cs_client_req_init(&req[i]);
		req[i].url = u;
		req[i].data = &r[i];
		memset(&r[i], 0, sizeof r[i]);
		ck_assert_int_eq(cs_client_send(c, &req[i], on_result), 0);
	}
	close_client(c);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(r[i].calls, 1);
		ck_assert_int_eq(r[i].status, CS_ECANCELED);
	}
}
END_TEST

/* A chain of callbacks re-entering the client: step 1 re-sends its own
 * request, step 2 sends a new one, step 3 closes the client while another
 * request is still in flight. */
struct chain {
	struct cs_client *c;
	struct cs_client_req req;
	struct cs_client_req *next; /* heap, freed in its callback */
	struct cs_client_req hang;
	struct result r[3];
	struct result hang_r;
	int steps;
	int closed;
	char url[256];
	char hang_url[256];
};

static const char *const chain_second[] = {"X-Test: second"};

static void on_chain(struct cs_client_req *req, int status);

static void
on_chain_closed(struct cs_client *c)
{
	struct chain *ch = cs_client_get_data(c);

	ch->closed++;
}

static void
on_chain_next(struct cs_client_req *req, int status)
{
	struct chain *ch = req->data;

	req->data = &ch->r[2];
	record(req, status);
	free(req);
	ch->steps++;
	/* close from inside a callback, with "hang" still in flight */
	cs_client_close(ch->c, on_chain_closed);
	ck_assert_int_eq(ch->hang_r.calls, 0);
}

static void
on_chain(struct cs_client_req *req, int status)
{
	struct chain *ch = cs_container_of(req, struct chain, req);

	ch->steps++;
	if (ch->steps == 1) {
		req->data = &ch->r[0];
		record(req, status);
		/* the same request, again, from its own callback */
		req->headers = chain_second;
		req->nheaders = 1;
		req->data = NULL;
		ck_assert_int_eq(cs_client_send(ch->c, req, on_chain), 0);
		ck_assert_ptr_null(req->resp); /* views dropped */
		return;
	}
	req->data = &ch->r[1];
	record(req, status);
	ch->next = malloc(sizeof *ch->next);
	ck_assert_ptr_nonnull(ch->next);
	cs_client_req_init(ch->next);
	ch->next->url = ch->url;
	ch->next->data = ch;
	ck_assert_int_eq(cs_client_send(ch->c, ch->next, on_chain_next), 0);
}

START_TEST(test_send_from_callback)
{
	static struct chain ch;

	ch.c = client_new(NULL);
	cs_client_set_data(ch.c, &ch);
	url(ch.url, sizeof ch.url, port_good, "/echo");
	url(ch.hang_url, sizeof ch.hang_url, port_good, "/hang");
	cs_client_req_init(&ch.hang);
	ch.hang.url = ch.hang_url;
	ch.hang.data = &ch.hang_r;
	ck_assert_int_eq(cs_client_send(ch.c, &ch.hang, on_result), 0);
	cs_client_req_init(&ch.req);
	ch.req.url = ch.url;
	ck_assert_int_eq(cs_client_send(ch.c, &ch.req, on_chain), 0);
	while (ch.closed == 0)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(ch.steps, 3);
	ck_assert_int_eq(ch.closed, 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(ch.r[i].calls, 1);
		ck_assert_int_eq(ch.r[i].status, 0);
		ck_assert_int_eq(ch.r[i].http_status, 200);
	}
	ck_assert_str_eq(ch.r[0].x_test, "-");
	ck_assert_str_eq(ch.r[1].x_test, "second");
	ck_assert_int_eq(ch.hang_r.calls, 1);
	ck_assert_int_eq(ch.hang_r.status, CS_ECANCELED);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_send_rejects_bad_requests)
{
	const char *crlf[] = {"X-Test: a\r\nX-Injected: b"};
	const char *noname[] = {": value"};
	const char *many[CS_CLIENT_MAX_REQ_HEADERS + 1];
	struct cs_client_config cfg = {0};
	struct cs_client *c;
	struct cs_client_req req, a, b;
	struct result r = {0}, ra = {0}, rb = {0};
	char u[256];

	cfg.max_requests = 2;
	c = client_new(&cfg);
	url(u, sizeof u, port_good, "/hang");
	cs_client_req_init(&req);
	req.data = &r;

	req.url = NULL;
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	req.url = "not a url";
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	ck_assert_str_ne(req.errmsg, "");
	req.url = "ftp://127.0.0.1/x";
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	req.url = "file:///etc/passwd";
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	req.url = u;
	req.headers = crlf;
	req.nheaders = 1;
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	req.headers = noname;
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	for (int i = 0; i <= CS_CLIENT_MAX_REQ_HEADERS; i++)
		many[i] = "X-Test: x";
	req.headers = many;
	req.nheaders = CS_CLIENT_MAX_REQ_HEADERS + 1;
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_ETOOBIG);
	req.headers = NULL;
	req.nheaders = 0;
	req.body = "x";
	req.body_len = 1;
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	req.body = NULL;
	req.body_len = 0;
	req.peer_name = "evil/host";
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	req.peer_name = NULL;
	req.method = CS_CLIENT_METHOD__MAX;
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EINVAL);
	req.method = CS_CLIENT_METHOD_GET;

	/* the in-flight cap, and a request that is already in flight */
	cs_client_req_init(&a);
	cs_client_req_init(&b);
	a.url = b.url = u;
	a.data = &ra;
	b.data = &rb;
	ck_assert_int_eq(cs_client_send(c, &a, on_result), 0);
	ck_assert_int_eq(cs_client_send(c, &a, on_result), CS_EBUSY);
	ck_assert_int_eq(cs_client_send(c, &b, on_result), 0);
	ck_assert_int_eq(cs_client_send(c, &req, on_result), CS_EBUSY);
	ck_assert_uint_eq(cs_client_pending(c), 2);
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(r.calls, 0); /* no failed send ever called back */
	close_client(c);
	ck_assert_int_eq(r.calls, 0);
	ck_assert_int_eq(ra.calls, 1);
	ck_assert_int_eq(ra.status, CS_ECANCELED);
	ck_assert_int_eq(rb.calls, 1);
	ck_assert_int_eq(rb.status, CS_ECANCELED);
}
END_TEST

START_TEST(test_new_rejects_bad_config)
{
	struct cs_client_config cfg = {0};
	char ca[128], cert[128], key[128], other_key[128];
	char errmsg[CS_ERRMSG_SIZE];

	path(ca, sizeof ca, "ca.pem");
	path(cert, sizeof cert, "client.pem");
	path(key, sizeof key, "client.key");
	path(other_key, sizeof other_key, "server.key");

	errmsg[0] = '\0';
	ck_assert_ptr_null(cs_client_new(&loop, &cfg, errmsg));
	ck_assert_str_ne(errmsg, "");
	cfg.ca_file = "/nonexistent/ca.pem";
	errmsg[0] = '\0';
	ck_assert_ptr_null(cs_client_new(&loop, &cfg, errmsg));
	ck_assert_msg(strstr(errmsg, "/nonexistent/ca.pem") != NULL, "%s",
	    errmsg);
	cfg.ca_file = ca;
	cfg.cert_file = cert;
	errmsg[0] = '\0';
	ck_assert_ptr_null(cs_client_new(&loop, &cfg, errmsg));
	ck_assert_str_ne(errmsg, "");
	cfg.key_file = other_key;
	errmsg[0] = '\0';
	ck_assert_ptr_null(cs_client_new(&loop, &cfg, errmsg));
	ck_assert_msg(strstr(errmsg, "match") != NULL, "%s", errmsg);
	cfg.cert_file = ca; /* not a key pair at all: key of another cert */
	ck_assert_ptr_null(cs_client_new(&loop, &cfg, NULL));
	/* nothing was left on the loop */
	ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("send");

	tcase_add_unchecked_fixture(tc, env_setup, env_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_send_get_roundtrip);
	tcase_add_test(tc, test_send_post_roundtrip);
	tcase_add_test(tc, test_send_status_and_redirect_not_followed);
	tcase_add_test(tc, test_send_concurrent_reuses_connections);
	tcase_add_test(tc, test_send_untrusted_ca_fails);
	tcase_add_test(tc, test_send_name_mismatch_fails);
	tcase_add_test(tc, test_send_presents_client_cert);
	tcase_add_test(tc, test_send_timeout);
	tcase_add_test(tc, test_send_timeout_while_queued);
	tcase_add_test(tc, test_send_body_cap);
	tcase_add_test(tc, test_send_connection_refused);
	tcase_add_test(tc, test_close_cancels_in_flight);
	tcase_add_test(tc, test_close_before_loop_runs);
	tcase_add_test(tc, test_send_from_callback);
	tcase_add_test(tc, test_send_rejects_bad_requests);
	tcase_add_test(tc, test_new_rejects_bad_config);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* once for the program, as main() owns library globals
	 * (cs_client_new() also counts its own reference) */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sr = srunner_create(client_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
