/* SPDX-License-Identifier: MIT */
/*
 * Worker resource pools and task resource requests (spec 1.4, 1.5, 2.9):
 * parsing the command-line forms, building a worker's resources and the
 * display forms used by `worker list`, `worker hwdetect` and JSON output.
 * Pure: no I/O. Every rejection fills 'eb' with a message that quotes the
 * offending text (and the column for pool definitions).
 */
#ifndef HQ_RESOURCE_H
#define HQ_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/model.h"
#include "common/util.h"

/* Largest number of indices one pool may have (range(0-4000000000) would
 * otherwise allocate a label per index). */
#define HQ_RES_MAX_INDICES (1u << 20)

/* Default coupling weight of --coupling items without "=W". */
#define HQ_COUPLING_DEFAULT_WEIGHT 256u

/*
 * Parse a worker pool definition (spec 2.9) for resource 'name' into *out:
 *   [a, b, "c d"]     list of labels (unique; quoted labels may contain
 *                     [ ] , and whitespace; \" and \\ escape inside quotes)
 *   range(A-B)        A <= B; labels are the numbers
 *   [[a,b],[c,d]]     groups; one group collapses to a list
 *   NxM               N groups of M numbered from 0; N = 1 is range(0-(M-1))
 *   sum(SIZE)         an amount (spec 1.2)
 * With is_cpus, plain "N" means range(0-(N-1)), sum() is rejected and every
 * label must be a CPU id (a u32), since labels are passed to taskset.
 * Empty pools are errors. Returns 0 (caller owns *out: hq_res_pool_fini)
 * or HQ_EINVAL with *out untouched.
 */
int hq_parse_pool_def(const char *name, const char *def, bool is_cpus,
    struct hq_res_pool *out, struct hq_errbuf *eb);

/*
 * Split "NAME=DEF" at the first '='. NAME (whitespace around it is
 * trimmed) must match [A-Za-z][A-Za-z0-9/]*. Returns 0 with *name and
 * *value malloc'd (caller frees), or HQ_EINVAL.
 */
int hq_split_name_value(const char *arg, char **name, char **value,
    struct hq_errbuf *eb);

/* Is 'name' a valid resource name ([A-Za-z][A-Za-z0-9/]*)? */
bool hq_res_name_valid(const char *name);

/*
 * Build a worker's resources from n explicit pools. Always takes ownership
 * of 'pools', a malloc'd array: on success it becomes out->pools, on error
 * the pools are finalized and the array is freed. Pools are sorted by name.
 * Duplicate names, empty pools and a missing "cpus" pool are HQ_EINVAL.
 * On success the caller owns *out (hq_worker_res_fini); on error *out is
 * untouched.
 */
int hq_worker_res_from_pools(struct hq_res_pool *pools, uint32_t n,
    struct hq_worker_res *out, struct hq_errbuf *eb);

/*
 * Parse --coupling "r1[g]:r2[g][=W],..." against 'res' (pools sorted, as
 * hq_worker_res_from_pools leaves them) and append the weights to
 * res->coupling. Both resources must exist, differ and have more than one
 * group; group indices must exist; W is a u16 (default 256); a pair given
 * twice is an error. Items are stored with resource1 < resource2 and kept
 * sorted. Returns 0 or HQ_EINVAL (res unchanged).
 */
int hq_parse_coupling(const char *s, struct hq_worker_res *res,
    struct hq_errbuf *eb);

/*
 * Parse a request entry for resource 'name': REQ is "all" or
 * "<amount>[ compact|compact!|tight|tight!|scatter]" (default compact).
 * Amount 0 is an error; more than 4 fractional digits give "Resource
 * precision exceeded". Returns 0 (caller owns out->name) or HQ_EINVAL
 * with *out untouched.
 */
int hq_parse_request_entry(const char *name, const char *req,
    struct hq_res_entry *out, struct hq_errbuf *eb);

/*
 * Append entry *e to variant v. On success the entry's contents are moved
 * into v (e->name becomes NULL). A resource already present in v is
 * HQ_EINVAL and *e is left to the caller.
 */
int hq_variant_add_entry(struct hq_res_variant *v, struct hq_res_entry *e,
    struct hq_errbuf *eb);

/* "compact", "compact!", "tight", "tight!", "scatter" or "all". */
const char *hq_policy_name(enum hq_policy p);

/* Request display form: "4 compact", "1.5 scatter", "all". */
void hq_fmt_request_entry(struct hq_buf *out, const struct hq_res_entry *e);

/*
 * Pool kind as `worker hwdetect` shows it: [a,b], [[0,1],[2,3]],
 * range(0-7), [5] (one-element range), sum(N).
 */
void hq_fmt_pool_def(struct hq_buf *out, const struct hq_res_pool *p);

/*
 * One-line summary for `worker list`: "cpus 4; mem 1.50 GiB; gpus/nvidia 2"
 * (groups as "NxM", several sizes as "2x4 1x6"; mem in MiB shown as MiB
 * below 512, else GiB, with 2 decimals). As in HyperQueue, " [coupled]" is
 * shown only by the multi-line form.
 */
void hq_fmt_worker_res_summary(struct hq_buf *out,
    const struct hq_worker_res *r);

/* Multi-line form for `worker info`: "cpus: 2x4 [coupled]\nmem: 1.50 GiB". */
void hq_fmt_worker_res_lines(struct hq_buf *out, const struct hq_worker_res *r);

/* Full description for `worker hwdetect`: "name: <pool def>" lines. */
void hq_fmt_worker_res_describe(struct hq_buf *out,
    const struct hq_worker_res *r);

/*
 * Spec 3.2: {"resources":[{"name":..,"kind":"range","start":0,"end":3},
 * {"kind":"list","values":[..]}, {"kind":"groups","groups":[[..]]},
 * {"kind":"sum","size":N}], "coupling":{"weights":[..]}}.
 * Returns a new reference (caller json_decref()s it).
 */
json_t *hq_worker_res_json(const struct hq_worker_res *r);

/* Resource name for env vars: every non-[A-Za-z0-9] char becomes '_'.
 * Caller frees. */
char *hq_res_env_name(const char *name);

#endif
