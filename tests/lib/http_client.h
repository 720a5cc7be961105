/*
 * http_client.h - a blocking HTTP/1.1 client over a socket or OpenSSL, and
 * a throwaway PKI written to PEM files, for the HTTP server tests.
 *
 * The client functions run in a helper thread while the test's loop runs
 * the server: they never call Check and report failure by return value.
 * Sockets get 5 s send/receive timeouts so a broken server fails a test
 * instead of hanging it. cs_test_pki_make() runs in the fixture (it uses
 * ck_assert). Tests only.
 */
#ifndef CS_TEST_HTTP_CLIENT_H
#define CS_TEST_HTTP_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#define CS_TEST_PATH_SIZE 128

/* Two CAs; a server certificate for localhost / 127.0.0.1 from ca1;
 * client certificates from ca1 ("good-client"), from ca2
 * ("other-client") and from ca1 but expired ("old-client"). */
struct cs_test_pki {
	char dir[64];
	char ca1[CS_TEST_PATH_SIZE];
	char ca2[CS_TEST_PATH_SIZE];
	char srv_crt[CS_TEST_PATH_SIZE];
	char srv_key[CS_TEST_PATH_SIZE];
	char good_crt[CS_TEST_PATH_SIZE];
	char good_key[CS_TEST_PATH_SIZE];
	char other_crt[CS_TEST_PATH_SIZE];
	char other_key[CS_TEST_PATH_SIZE];
	char old_crt[CS_TEST_PATH_SIZE];
	char old_key[CS_TEST_PATH_SIZE];
};

/* Creates a temporary directory with the PEM files. */
void cs_test_pki_make(struct cs_test_pki *p);
/* Removes the files and the directory. */
void cs_test_pki_remove(struct cs_test_pki *p);

struct cs_test_resp {
	int status;
	char head[8192]; /* status line and headers, NUL-terminated */
	char *body;      /* malloc()ed, NUL-terminated */
	size_t body_len;
};

struct cs_test_cli {
	int fd;
	SSL *ssl; /* NULL for plain */
	char buf[1 << 16];
	size_t len;
	unsigned slow_us; /* sleep before each read of a large body */
	int ssl_err;      /* SSL_get_error() of the last TLS failure */
	int reason;       /* ERR_GET_REASON() of the last TLS failure */
};

/* Connects to 127.0.0.1:port. Returns connect()'s result (errno set). */
int cs_test_cli_open(struct cs_test_cli *c, int port);
/* TLS handshake with ctx (taken). Returns SSL_connect()'s result. */
int cs_test_cli_tls(struct cs_test_cli *c, SSL_CTX *ctx);
int cs_test_cli_write(struct cs_test_cli *c, const void *p, size_t n);
int cs_test_cli_send(struct cs_test_cli *c, const char *s);
/* > 0 bytes, 0 EOF (or close_notify), -1 error. */
ssize_t cs_test_cli_recv(struct cs_test_cli *c, void *p, size_t n);
/* Reads one response (head_only for HEAD). 0, or -1. */
int cs_test_cli_resp(struct cs_test_cli *c, struct cs_test_resp *r,
    int head_only);
/* 1: EOF (or reset) without close_notify, 2: TLS close_notify, 0: data
 * came instead, -1: error or timeout. */
int cs_test_cli_eof(struct cs_test_cli *c);
/* Closes the connection and frees r's body (r may be NULL). */
void cs_test_cli_close(struct cs_test_cli *c, struct cs_test_resp *r);

/* Copies the first value of header name into out; 0 if absent. */
int cs_test_hdr(const struct cs_test_resp *r, const char *name, char *out,
    size_t outlen);
/* Whether header name is value (case-insensitive). */
int cs_test_hdr_is(const struct cs_test_resp *r, const char *name,
    const char *value);

#endif
