/* SPDX-License-Identifier: MIT */
/* Linear-probing u64 -> u32 map (no deletion: ids of a job never go away). */
#include "common/u32map.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static uint32_t
map_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (uint32_t)k;
}

void
hq_u32map_init(struct hq_u32map *m)
{
	memset(m, 0, sizeof *m);
}

void
hq_u32map_fini(struct hq_u32map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof *m);
}

static void
map_grow(struct hq_u32map *m)
{
	struct hq_u32map old = *m;
	uint32_t i;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->n = 0;
	m->keys = hq_xcalloc(m->cap, sizeof *m->keys);
	m->vals = hq_xcalloc(m->cap, sizeof *m->vals);
	m->used = hq_xcalloc(m->cap, 1);
	for (i = 0; i < old.cap; i++)
		if (old.used[i])
			hq_u32map_put(m, old.keys[i], old.vals[i]);
	hq_u32map_fini(&old);
}

void
hq_u32map_put(struct hq_u32map *m, uint64_t key, uint32_t val)
{
	uint32_t i;

	if ((uint64_t)(m->n + 1) * 4 > (uint64_t)m->cap * 3)
		map_grow(m);
	for (i = map_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i]) {
			m->used[i] = 1;
			m->keys[i] = key;
			m->vals[i] = val;
			m->n++;
			return;
		}
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return;
		}
	}
}

bool
hq_u32map_get(const struct hq_u32map *m, uint64_t key, uint32_t *val)
{
	uint32_t i;

	if (m->cap == 0)
		return false;
	for (i = map_hash(key) & (m->cap - 1); m->used[i];
	     i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return true;
		}
	}
	return false;
}
