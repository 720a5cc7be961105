#include "tests/lib/proc.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/mem.h"

static void __attribute__((noreturn)) die(const char *what, const char *arg)
{
	fprintf(stderr, "test proc: %s %s failed\n", what, arg);
	abort();
}

static char *
read_all(FILE *f, size_t *len)
{
	struct cs_buf b;
	char chunk[8192];
	size_t n;

	cs_buf_init(&b, (size_t)1 << 30);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (cs_buf_append(&b, chunk, n) < 0)
			die("read", "(over 1 GiB)");
	return (char *)cs_buf_steal(&b, len);
}

char *
cs_test_run(int *status, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	FILE *p;
	char *out;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof cmd - 8, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof cmd - 8)
		die("format", fmt);
	strcat(cmd, " 2>&1");
	fflush(NULL);
	p = popen(cmd, "r");
	if (p == NULL)
		die("popen", cmd);
	out = read_all(p, NULL);
	st = pclose(p);
	*status = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

char *
cs_test_tmpdir_new(const char *tag)
{
	size_t n = strlen(tag) + 32;
	char *dir = cs_malloc(n);

	snprintf(dir, n, "/tmp/cs-test-%s-XXXXXX", tag);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", dir);
	return dir;
}

char *
cs_test_tmpdir_sub(const char *parent)
{
	size_t n = strlen(parent) + 16;
	char *dir = cs_malloc(n);

	snprintf(dir, n, "%s/t-XXXXXX", parent);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", dir);
	return dir;
}

/* rm -r, for the few levels tests make. */
static void
remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = cs_test_path(path, e->d_name);
		remove_tree(p);
		free(p);
	}
	closedir(d);
	rmdir(path);
}

void
cs_test_tmpdir_free(char *dir)
{
	if (dir == NULL)
		return;
	remove_tree(dir);
	free(dir);
}

char *
cs_test_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = cs_malloc(n);

	snprintf(path, n, "%s/%s", dir, name);
	return path;
}

char *
cs_test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;

	if (f == NULL)
		return NULL;
	p = read_all(f, len);
	fclose(f);
	return p;
}
