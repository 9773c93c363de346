/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TOML parser: any input either parses into a tree
 * whose every node is reachable through the accessors, or fails with a
 * "line L, column C: " message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
fuzz_walk(const struct hq_toml_value *v, int depth)
{
	const struct hq_toml_value *c;
	size_t i, n = 1;
	const char *key;

	HQ_ASSERT(depth <= HQ_TOML_MAX_DEPTH + 1);
	HQ_ASSERT(hq_toml_line(v) >= 1 && hq_toml_col(v) >= 1);
	HQ_ASSERT(strlen(hq_toml_type_name(hq_toml_type(v))) > 0);
	switch (hq_toml_type(v)) {
	case HQ_TOML_STRING:
		n += strlen(hq_toml_string(v));
		break;
	case HQ_TOML_INT:
		n += (size_t)(hq_toml_int(v) & 1);
		break;
	case HQ_TOML_FLOAT:
		n += hq_toml_float(v) > 0;
		break;
	case HQ_TOML_BOOL:
		n += hq_toml_bool(v);
		break;
	case HQ_TOML_ARRAY:
		for (i = 0; i < hq_toml_array_len(v); i++)
			n += fuzz_walk(hq_toml_array_get(v, i), depth + 1);
		break;
	case HQ_TOML_TABLE:
		for (i = 0; i < hq_toml_table_len(v); i++) {
			key = hq_toml_table_key(v, i);
			c = hq_toml_table_value(v, i);
			/* Keys are unique: lookup finds this very entry. */
			HQ_ASSERT(hq_toml_get(v, key) == c);
			n += strlen(key) + fuzz_walk(c, depth + 1);
		}
		break;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hq_toml_value *root = NULL;
	struct hq_errbuf eb;
	int rc;

	memset(&eb, 0, sizeof eb);
	rc = hq_toml_parse((const char *)data, size, &root, &eb);
	if (rc != 0) {
		HQ_ASSERT(root == NULL);
		HQ_ASSERT(strncmp(eb.msg, "line ", 5) == 0);
		HQ_ASSERT(strstr(eb.msg, ", column ") != NULL);
		return 0;
	}
	HQ_ASSERT(root != NULL && hq_toml_type(root) == HQ_TOML_TABLE);
	HQ_ASSERT(hq_toml_get(root, "\x01no such key") == NULL);
	fuzz_walk(root, 0);
	hq_toml_free(root);
	return 0;
}
