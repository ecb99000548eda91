/*
 * hash.h - the one byte-string hash: 64-bit FNV-1a steps from a fixed seed, for the
 * in-memory tables (policy.c's roots and canaries, resolve.c's handle cache). Not keyed:
 * each table bounds its chains itself.
 */
#ifndef FANOTIFYD_HASH_H
#define FANOTIFYD_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The starting value: not FNV's published offset basis, which is one digit longer; any
 * seed serves, and this one keeps the tables' layout as it has been. */
#define HASH_SEED 1469598103934665603ull

/* Mixes one value into h: the FNV-1a step with the 64-bit FNV prime. Callers hashing
 * prefixes as they scan (policy.c) take it byte by byte. */
static inline uint64_t hash_step(uint64_t h, uint64_t v)
{
	return (h ^ v) * 1099511628211ull;
}

/* Mixes n bytes into h. */
static inline uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = hash_step(h, s[i]);
	return h;
}

#endif
