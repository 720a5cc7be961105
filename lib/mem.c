#include "lib/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void __attribute__((noreturn)) oom(size_t n)
{
	/* Not cs_log(): it may allocate in the future; keep this path bare. */
	fprintf(stderr, "<2>out of memory size=%zu\n", n);
	abort();
}

void *
cs_malloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		oom(n);
	return p;
}

void *
cs_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
cs_realloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	if (q == NULL)
		oom(n);
	return q;
}

void *
cs_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return cs_realloc(p, nmemb * size);
}

char *
cs_strdup(const char *s)
{
	return cs_memdup(s, strlen(s) + 1);
}

char *
cs_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = cs_malloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *
cs_memdup(const void *p, size_t n)
{
	void *q = cs_malloc(n);

	if (n > 0)
		memcpy(q, p, n);
	return q;
}
