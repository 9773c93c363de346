/* SPDX-License-Identifier: MIT */
/* Task entries from a JSON array (submit --from-json). */
#include "cli/entries.h"

#include <jansson.h>
#include <stdlib.h>

#include "cli/jsonout.h"

int
hq_entries_from_json(const char *text, size_t len, const char *what,
    char ***out, uint32_t *n, struct hq_errbuf *eb)
{
	json_error_t jerr;
	json_t *root, *v;
	char **entries;
	size_t i;
	int rc = 0;

	root = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	if (root == NULL)
		return hq_errf(eb, HQ_EINVAL,
		    "Cannot parse %s: line %d, column %d: %s", what, jerr.line,
		    jerr.column, jerr.text);
	if (!json_is_array(root)) {
		rc = hq_errf(eb, HQ_EINVAL,
		    "The top-level value of %s must be an array", what);
		goto out;
	}
	if (json_array_size(root) > UINT32_MAX) {
		rc = hq_errf(eb, HQ_EINVAL, "%s has too many entries", what);
		goto out;
	}
	entries = hq_xcalloc(json_array_size(root) + 1, sizeof *entries);
	json_array_foreach(root, i, v) entries[i] = hq_json_dumps_compact(v);
	*n = (uint32_t)json_array_size(root);
	*out = entries;
out:
	json_decref(root);
	return rc;
}
