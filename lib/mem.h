/*
 * mem.h - allocation that never returns NULL.
 *
 * certstore is an application: on out-of-memory it logs and aborts rather
 * than threading CS_ENOMEM through every path (redis, h2o). Inputs are
 * capped at the boundary instead, so memory use is bounded by the caps.
 * Free with free(); free(NULL) is a no-op.
 */
#ifndef CS_MEM_H
#define CS_MEM_H

#include <stddef.h>

/* The struct that embeds *p as its member (libuv and raft hand callbacks
 * a pointer to the embedded handle or request). Through void *: the
 * member is at a fixed offset of a properly aligned struct. */
#define cs_container_of(p, type, member)                                       \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

void *cs_malloc(size_t n);
void *cs_calloc(size_t nmemb, size_t size);
void *cs_realloc(void *p, size_t n);
/* reallocarray(): aborts on overflow as well as on out-of-memory. */
void *cs_reallocarray(void *p, size_t nmemb, size_t size);
char *cs_strdup(const char *s);
/* Copies at most n bytes of s and NUL-terminates. */
char *cs_strndup(const char *s, size_t n);
void *cs_memdup(const void *p, size_t n);

#endif
