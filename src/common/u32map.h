/* SPDX-License-Identifier: MIT */
/* Open-addressing hash map from uint64 keys to uint32 values. Pure. */
#ifndef HQ_U32MAP_H
#define HQ_U32MAP_H

#include <stdbool.h>
#include <stdint.h>

struct hq_u32map {
	uint64_t *keys;
	uint32_t *vals;
	uint8_t *used;
	uint32_t cap; /* power of two, or 0 */
	uint32_t n;
};

void hq_u32map_init(struct hq_u32map *m);
void hq_u32map_fini(struct hq_u32map *m);
/* Insert or overwrite. */
void hq_u32map_put(struct hq_u32map *m, uint64_t key, uint32_t val);
/* true and *val when present. */
bool hq_u32map_get(const struct hq_u32map *m, uint64_t key, uint32_t *val);

#endif
