/* SPDX-License-Identifier: MIT */
/*
 * The index allocator of one worker: group policies, fractions, "all".
 * See resalloc.h for the policy contract.
 */
#include "common/resalloc.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct ralloc_pool {
	uint32_t ngroups;
	uint32_t *gstart;   /* ngroups + 1 entries (own copy) */
	uint32_t *group_of; /* label index -> group */
	uint32_t *free;	    /* label index -> free amount (indexed pools) */
	uint64_t free_sum;  /* sum pools */
};

struct hq_ralloc {
	const struct hq_worker_res *res;
	struct ralloc_pool *pools;
};

struct hq_ralloc *
hq_ralloc_create(const struct hq_worker_res *res)
{
	struct hq_ralloc *a = hq_xcalloc(1, sizeof *a);
	uint32_t i, g, k;

	a->res = res;
	a->pools = hq_xcalloc(res->n, sizeof *a->pools);
	for (i = 0; i < res->n; i++) {
		const struct hq_res_pool *p = &res->pools[i];
		struct ralloc_pool *rp = &a->pools[i];

		if (p->kind == HQ_POOL_SUM) {
			rp->free_sum = p->size;
			continue;
		}
		/* A pool without group boundaries is one group. */
		if (p->ngroups > 0 && p->group_start != NULL) {
			rp->ngroups = p->ngroups;
			rp->gstart = hq_xmemdup(p->group_start,
			    (p->ngroups + 1) * sizeof *p->group_start);
		} else {
			rp->ngroups = 1;
			rp->gstart = hq_xcalloc(2, sizeof *rp->gstart);
			rp->gstart[1] = p->nlabels;
		}
		HQ_ASSERT(rp->gstart[rp->ngroups] == p->nlabels);
		rp->free = hq_xcalloc(p->nlabels, sizeof *rp->free);
		rp->group_of = hq_xcalloc(p->nlabels, sizeof *rp->group_of);
		for (g = 0; g < rp->ngroups; g++)
			for (k = rp->gstart[g]; k < rp->gstart[g + 1]; k++)
				rp->group_of[k] = g;
		for (k = 0; k < p->nlabels; k++)
			rp->free[k] = HQ_AMOUNT_ONE;
	}
	return a;
}

void
hq_ralloc_destroy(struct hq_ralloc *a)
{
	uint32_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->res->n; i++) {
		free(a->pools[i].gstart);
		free(a->pools[i].group_of);
		free(a->pools[i].free);
	}
	free(a->pools);
	free(a);
}

void
hq_ralloc_result_fini(struct hq_ralloc_result *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		free(r->parts[i].index);
		free(r->parts[i].amount);
	}
	free(r->parts);
	memset(r, 0, sizeof *r);
}

static int
ralloc_find_pool(const struct hq_worker_res *res, const char *name)
{
	uint32_t i;

	for (i = 0; i < res->n; i++)
		if (strcmp(res->pools[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool
hq_ralloc_fits_total(const struct hq_worker_res *res,
    const struct hq_res_variant *v)
{
	uint32_t i;
	int pi;

	if (v->n_nodes > 0)
		return false;
	for (i = 0; i < v->n; i++) {
		const struct hq_res_entry *e = &v->e[i];

		if ((pi = ralloc_find_pool(res, e->name)) < 0)
			return false;
		if (hq_res_pool_total(&res->pools[pi]) == 0)
			return false;
		if (e->policy == HQ_POLICY_ALL)
			continue;
		if (e->amount == 0 ||
		    e->amount > hq_res_pool_total(&res->pools[pi]))
			return false;
	}
	return true;
}

/* ---- group selection ----------------------------------------------------- */

/* Fewest groups whose counts add up to k (k > 0); ng + 1 if impossible. */
static uint32_t
ralloc_min_groups(const uint32_t *count, uint32_t ng, uint64_t k)
{
	uint32_t *sorted = hq_xmemdup(count, ng * sizeof *count);
	uint32_t i, j, t, m = ng + 1;
	uint64_t sum = 0;

	/* Groups are few (NUMA nodes): insertion sort, descending. */
	for (i = 1; i < ng; i++)
		for (j = i; j > 0 && sorted[j - 1] < sorted[j]; j--) {
			t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (i = 0; i < ng; i++) {
		sum += sorted[i];
		if (sum >= k) {
			m = i + 1;
			break;
		}
	}
	free(sorted);
	return m;
}

/* Group numbers ordered by free count descending, then group ascending. */
static uint32_t *
ralloc_order(const uint32_t *fc, uint32_t ng)
{
	uint32_t *o = hq_xcalloc(ng, sizeof *o);
	uint32_t i, j, t;

	for (i = 0; i < ng; i++)
		o[i] = i;
	for (i = 1; i < ng; i++)
		for (j = i; j > 0 && fc[o[j - 1]] < fc[o[j]]; j--) {
			t = o[j];
			o[j] = o[j - 1];
			o[j - 1] = t;
		}
	return o;
}

/* The group with at least k free among groups not excluded: the highest
 * coupling bonus (NULL: none), then the smallest, then the lowest. */
static uint32_t
ralloc_best_fit(const uint32_t *fc, const bool *excluded, uint32_t ng,
    uint32_t k, const uint64_t *bonus)
{
	uint32_t g, best = UINT32_MAX;

	for (g = 0; g < ng; g++) {
		if ((excluded != NULL && excluded[g]) || fc[g] < k)
			continue;
		if (best == UINT32_MAX ||
		    (bonus != NULL && bonus[g] > bonus[best]) ||
		    ((bonus == NULL || bonus[g] == bonus[best]) &&
			fc[g] < fc[best]))
			best = g;
	}
	HQ_ASSERT(best != UINT32_MAX);
	return best;
}

/* Take k evenly from the groups in 'in' (which together have >= k):
 * every group up to a common level, the remainder to the lowest groups
 * that still have room. */
static void
ralloc_even(const uint32_t *fc, const bool *in, uint32_t ng, uint32_t k,
    uint32_t *take)
{
	uint32_t g, lo = 1, hi = 0, level, rem;
	uint64_t sum;

	for (g = 0; g < ng; g++)
		if (in[g] && fc[g] > hi)
			hi = fc[g];
	/* Smallest level L with sum(min(fc, L)) >= k. */
	while (lo < hi) {
		level = lo + (hi - lo) / 2;
		sum = 0;
		for (g = 0; g < ng; g++)
			if (in[g])
				sum += HQ_MIN(fc[g], level);
		if (sum >= k)
			hi = level;
		else
			lo = level + 1;
	}
	level = lo;
	rem = k;
	for (g = 0; g < ng; g++) {
		take[g] = in[g] ? HQ_MIN(fc[g], level - 1) : 0;
		rem -= take[g];
	}
	for (g = 0; g < ng && rem > 0; g++) {
		if (in[g] && fc[g] >= level) {
			take[g]++;
			rem--;
		}
	}
	HQ_ASSERT(rem == 0);
}

/*
 * How many whole indices to take from each group (take[g]) for k > 0
 * whole indices, fc[g] fully free indices per group, sum(fc) >= k.
 */
static void
ralloc_plan_groups(enum hq_policy policy, const uint32_t *fc, uint32_t ng,
    uint32_t k, const uint64_t *bonus, uint32_t *take)
{
	uint32_t m = ralloc_min_groups(fc, ng, k);
	uint32_t *order = ralloc_order(fc, ng);
	bool *in = hq_xcalloc(ng, sizeof *in);
	uint32_t g, i, rem;

	memset(take, 0, ng * sizeof *take);
	switch (policy) {
	case HQ_POLICY_SCATTER:
		for (g = 0; g < ng; g++)
			in[g] = fc[g] > 0;
		ralloc_even(fc, in, ng, k, take);
		break;
	case HQ_POLICY_TIGHT:
	case HQ_POLICY_FORCE_TIGHT:
		/* Empty the m - 1 fullest groups, then the best fit. */
		rem = k;
		for (i = 0; i + 1 < m; i++) {
			take[order[i]] = fc[order[i]];
			in[order[i]] = true;
			rem -= fc[order[i]];
		}
		take[ralloc_best_fit(fc, in, ng, rem, m == 1 ? bonus : NULL)] =
		    rem;
		break;
	default: /* compact, compact! */
		if (m == 1) {
			take[ralloc_best_fit(fc, NULL, ng, k, bonus)] = k;
			break;
		}
		for (i = 0; i < m; i++)
			in[order[i]] = true;
		ralloc_even(fc, in, ng, k, take);
		break;
	}
	free(in);
	free(order);
}

/* ---- one entry ----------------------------------------------------------- */

static void
ralloc_apply(struct hq_ralloc *a, const struct hq_ralloc_part *part)
{
	const struct hq_res_pool *p = &a->res->pools[part->pool];
	struct ralloc_pool *rp = &a->pools[part->pool];
	uint32_t i;

	if (p->kind == HQ_POOL_SUM) {
		HQ_ASSERT(rp->free_sum >= part->sum_amount);
		rp->free_sum -= part->sum_amount;
		return;
	}
	for (i = 0; i < part->n; i++) {
		HQ_ASSERT(part->index[i] < p->nlabels);
		HQ_ASSERT(rp->free[part->index[i]] >= part->amount[i]);
		rp->free[part->index[i]] -= part->amount[i];
	}
}

static void
ralloc_unapply(struct hq_ralloc *a, const struct hq_ralloc_part *part)
{
	const struct hq_res_pool *p = &a->res->pools[part->pool];
	struct ralloc_pool *rp = &a->pools[part->pool];
	uint32_t i;

	if (p->kind == HQ_POOL_SUM) {
		rp->free_sum += part->sum_amount;
		HQ_ASSERT(rp->free_sum <= p->size);
		return;
	}
	for (i = 0; i < part->n; i++) {
		HQ_ASSERT(part->index[i] < p->nlabels);
		rp->free[part->index[i]] += part->amount[i];
		HQ_ASSERT(rp->free[part->index[i]] <= HQ_AMOUNT_ONE);
	}
}

static void
ralloc_part_push(struct hq_ralloc_part *part, uint32_t index, uint32_t amount)
{
	part->index[part->n] = index;
	part->amount[part->n] = amount;
	part->n++;
	part->sum_amount += amount;
}

/* The index for a fractional remainder, or UINT32_MAX if none fits. */
static uint32_t
ralloc_pick_fraction(const struct ralloc_pool *rp, uint32_t nlabels,
    const bool *chosen, const uint32_t *take, uint32_t frac)
{
	uint32_t i, best = UINT32_MAX;
	bool bu = false, bp = false, u, partial;

	for (i = 0; i < nlabels; i++) {
		if (chosen[i] || rp->free[i] < frac)
			continue;
		u = take[rp->group_of[i]] > 0;
		partial = rp->free[i] < HQ_AMOUNT_ONE;
		if (best != UINT32_MAX) {
			/* in a used group > shared > fullest > lowest */
			if (u != bu) {
				if (!u)
					continue;
			} else if (partial != bp) {
				if (!partial)
					continue;
			} else if (rp->free[i] >= rp->free[best]) {
				continue;
			}
		}
		best = i;
		bu = u;
		bp = partial;
	}
	return best;
}

/* Does a part hold an index of group g of its pool? */
static bool
ralloc_part_in_group(const struct hq_ralloc *a, const struct hq_ralloc_part *q,
    uint32_t g)
{
	const struct ralloc_pool *rp = &a->pools[q->pool];
	uint32_t i;

	if (rp->group_of == NULL)
		return false;
	for (i = 0; i < q->n; i++)
		if (rp->group_of[q->index[i]] == g)
			return true;
	return false;
}

/*
 * Coupling bonus of each group of pool pi: the weights (--coupling) that
 * tie it to groups the earlier entries of this request already use. NULL
 * when the pool is not coupled.
 */
static uint64_t *
ralloc_coupling_bonus(const struct hq_ralloc *a, uint32_t pi,
    const struct hq_ralloc_part *done, uint32_t ndone)
{
	const struct hq_worker_res *res = a->res;
	uint64_t *bonus = NULL;
	uint32_t c, k;

	for (c = 0; c < res->ncoupling; c++) {
		const struct hq_coupling_weight *cw = &res->coupling[c];
		uint32_t mine, other, ogroup;

		if (cw->resource1 == pi) {
			mine = cw->group1;
			other = cw->resource2;
			ogroup = cw->group2;
		} else if (cw->resource2 == pi) {
			mine = cw->group2;
			other = cw->resource1;
			ogroup = cw->group1;
		} else {
			continue;
		}
		if (mine >= a->pools[pi].ngroups)
			continue;
		for (k = 0; k < ndone; k++) {
			if (done[k].pool != other ||
			    !ralloc_part_in_group(a, &done[k], ogroup))
				continue;
			if (bonus == NULL)
				bonus = hq_xcalloc(a->pools[pi].ngroups,
				    sizeof *bonus);
			bonus[mine] += cw->weight;
		}
	}
	return bonus;
}

static int
ralloc_indexed(struct hq_ralloc *a, uint32_t pi, const struct hq_res_entry *e,
    const struct hq_ralloc_part *done, uint32_t ndone,
    struct hq_ralloc_part *part)
{
	const struct hq_res_pool *p = &a->res->pools[pi];
	struct ralloc_pool *rp = &a->pools[pi];
	uint32_t ng = rp->ngroups, *fc = NULL, *cap = NULL, *take = NULL;
	uint32_t whole, frac, g, i, need, used, fi;
	bool *chosen = NULL, strict;
	uint64_t nfree = 0, *bonus = NULL;
	int rc = 0;

	if (e->policy == HQ_POLICY_ALL) {
		for (i = 0; i < p->nlabels; i++)
			if (rp->free[i] != HQ_AMOUNT_ONE)
				return HQ_EBUSY;
		part->index = hq_xcalloc(p->nlabels, sizeof *part->index);
		part->amount = hq_xcalloc(p->nlabels, sizeof *part->amount);
		for (i = 0; i < p->nlabels; i++)
			ralloc_part_push(part, i, HQ_AMOUNT_ONE);
		return 0;
	}
	whole = (uint32_t)(e->amount / HQ_AMOUNT_ONE);
	frac = (uint32_t)(e->amount % HQ_AMOUNT_ONE);
	strict = e->policy == HQ_POLICY_FORCE_COMPACT ||
	    e->policy == HQ_POLICY_FORCE_TIGHT;
	fc = hq_xcalloc(ng, sizeof *fc);
	cap = hq_xcalloc(ng, sizeof *cap);
	take = hq_xcalloc(ng, sizeof *take);
	chosen = hq_xcalloc(p->nlabels, sizeof *chosen);
	for (g = 0; g < ng; g++) {
		cap[g] = rp->gstart[g + 1] - rp->gstart[g];
		for (i = rp->gstart[g]; i < rp->gstart[g + 1]; i++)
			if (rp->free[i] == HQ_AMOUNT_ONE)
				fc[g]++;
		nfree += fc[g];
	}
	if (whole > 0) {
		if (nfree < whole) {
			rc = HQ_EBUSY;
			goto out;
		}
		if (strict &&
		    ralloc_min_groups(fc, ng, whole) >
			ralloc_min_groups(cap, ng, whole)) {
			rc = HQ_EBUSY;
			goto out;
		}
		bonus = ralloc_coupling_bonus(a, pi, done, ndone);
		ralloc_plan_groups(e->policy, fc, ng, whole, bonus, take);
	}
	part->index = hq_xcalloc(whole + 1, sizeof *part->index);
	part->amount = hq_xcalloc(whole + 1, sizeof *part->amount);
	for (g = 0; g < ng; g++) {
		need = take[g];
		for (i = rp->gstart[g]; i < rp->gstart[g + 1] && need > 0;
		     i++) {
			if (rp->free[i] == HQ_AMOUNT_ONE) {
				chosen[i] = true;
				need--;
			}
		}
		HQ_ASSERT(need == 0);
	}
	for (i = 0; i < p->nlabels; i++)
		if (chosen[i])
			ralloc_part_push(part, i, HQ_AMOUNT_ONE);
	if (frac > 0) {
		fi = ralloc_pick_fraction(rp, p->nlabels, chosen, take, frac);
		if (fi == UINT32_MAX) {
			rc = HQ_EBUSY;
			goto out;
		}
		if (strict) {
			used = take[rp->group_of[fi]] > 0 ? 0 : 1;
			for (g = 0; g < ng; g++)
				used += take[g] > 0;
			if (used > ralloc_min_groups(cap, ng, whole + 1)) {
				rc = HQ_EBUSY;
				goto out;
			}
		}
		ralloc_part_push(part, fi, frac);
	}
out:
	if (rc != 0) {
		free(part->index);
		free(part->amount);
		memset(part, 0, sizeof *part);
	}
	free(bonus);
	free(chosen);
	free(take);
	free(cap);
	free(fc);
	return rc;
}

static int
ralloc_entry(struct hq_ralloc *a, const struct hq_res_entry *e,
    const struct hq_ralloc_part *done, uint32_t ndone,
    struct hq_ralloc_part *part)
{
	int pi = ralloc_find_pool(a->res, e->name);
	const struct hq_res_pool *p;
	struct ralloc_pool *rp;
	int rc;

	HQ_ASSERT(pi >= 0);
	p = &a->res->pools[pi];
	rp = &a->pools[pi];
	memset(part, 0, sizeof *part);
	part->pool = (uint32_t)pi;
	if (p->kind == HQ_POOL_SUM) {
		part->sum_amount =
		    e->policy == HQ_POLICY_ALL ? p->size : e->amount;
		if (rp->free_sum < part->sum_amount ||
		    (e->policy == HQ_POLICY_ALL && rp->free_sum != p->size))
			return HQ_EBUSY;
	} else if ((rc = ralloc_indexed(a, (uint32_t)pi, e, done, ndone,
			part)) != 0) {
		return rc;
	}
	ralloc_apply(a, part);
	return 0;
}

int
hq_ralloc_try(struct hq_ralloc *a, const struct hq_res_variant *v,
    struct hq_ralloc_result *out)
{
	struct hq_ralloc_result r = { 0, NULL };
	uint32_t i;
	int rc = 0;

	if (!hq_ralloc_fits_total(a->res, v))
		return HQ_EINVAL;
	r.parts = hq_xcalloc(v->n, sizeof *r.parts);
	for (i = 0; i < v->n; i++) {
		if ((rc = ralloc_entry(a, &v->e[i], r.parts, i, &r.parts[i])) !=
		    0)
			break;
		r.n++;
	}
	if (rc != 0) {
		hq_ralloc_release(a, &r);
		hq_ralloc_result_fini(&r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- queue passes -------------------------------------------------------- */

void
hq_ralloc_pass_begin(const struct hq_ralloc *a, struct hq_ralloc_pass *p)
{
	uint32_t i;

	p->a = a;
	p->free = hq_xcalloc(a->res->n ? a->res->n : 1, sizeof *p->free);
	p->reserved =
	    hq_xcalloc(a->res->n ? a->res->n : 1, sizeof *p->reserved);
	for (i = 0; i < a->res->n; i++)
		p->free[i] = hq_ralloc_pool_free(a, i);
}

void
hq_ralloc_pass_end(struct hq_ralloc_pass *p)
{
	free(p->free);
	free(p->reserved);
	memset(p, 0, sizeof *p);
}

/* Amount entry e takes from its pool (pool total for "all"). */
static uint64_t
ralloc_entry_amount(const struct hq_ralloc *a, uint32_t pi,
    const struct hq_res_entry *e)
{
	return e->policy == HQ_POLICY_ALL
	    ? hq_res_pool_total(&a->res->pools[pi])
	    : e->amount;
}

int
hq_ralloc_pass_try(struct hq_ralloc *a, struct hq_ralloc_pass *p,
    const struct hq_res_variant *v, struct hq_ralloc_result *out)
{
	bool amounts_fit = true;
	uint32_t i;
	int rc;

	HQ_ASSERT(p->a == a);
	if (!hq_ralloc_fits_total(a->res, v))
		return HQ_EINVAL;
	for (i = 0; i < v->n; i++) {
		uint32_t pi = (uint32_t)ralloc_find_pool(a->res, v->e[i].name);
		uint64_t fr = p->free[pi];
		uint64_t res = p->reserved[pi];

		if (res == UINT64_MAX || fr < res ||
		    fr - res < ralloc_entry_amount(a, pi, &v->e[i]))
			amounts_fit = false;
	}
	if (amounts_fit) {
		rc = hq_ralloc_try(a, v, out);
		if (rc == 0)
			for (i = 0; i < out->n; i++)
				p->free[out->parts[i].pool] -=
				    out->parts[i].sum_amount;
		if (rc != HQ_EBUSY)
			return rc;
		/* Only the layout is missing: freeze what it needs. */
		for (i = 0; i < v->n; i++)
			p->reserved[ralloc_find_pool(a->res, v->e[i].name)] =
			    UINT64_MAX;
		return HQ_EBUSY;
	}
	for (i = 0; i < v->n; i++) {
		uint32_t pi = (uint32_t)ralloc_find_pool(a->res, v->e[i].name);
		uint64_t amt = ralloc_entry_amount(a, pi, &v->e[i]);

		if (p->reserved[pi] != UINT64_MAX)
			p->reserved[pi] = amt > UINT64_MAX - 1 - p->reserved[pi]
			    ? UINT64_MAX
			    : p->reserved[pi] + amt;
	}
	return HQ_EBUSY;
}

void
hq_ralloc_release(struct hq_ralloc *a, const struct hq_ralloc_result *r)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		ralloc_unapply(a, &r->parts[i]);
}

void
hq_ralloc_fmt_labels(struct hq_buf *out, const struct hq_ralloc *a,
    const struct hq_ralloc_part *p)
{
	const struct hq_res_pool *pool = &a->res->pools[p->pool];
	uint32_t i;

	for (i = 0; i < p->n; i++) {
		if (i > 0)
			hq_buf_append_str(out, ",");
		hq_buf_append_str(out, pool->labels[p->index[i]]);
	}
}

uint32_t
hq_ralloc_index_free(const struct hq_ralloc *a, uint32_t pool, uint32_t index)
{
	HQ_ASSERT(pool < a->res->n);
	HQ_ASSERT(a->res->pools[pool].kind != HQ_POOL_SUM);
	HQ_ASSERT(index < a->res->pools[pool].nlabels);
	return a->pools[pool].free[index];
}

uint64_t
hq_ralloc_pool_free(const struct hq_ralloc *a, uint32_t pool)
{
	const struct hq_res_pool *p;
	uint64_t sum = 0;
	uint32_t i;

	HQ_ASSERT(pool < a->res->n);
	p = &a->res->pools[pool];
	if (p->kind == HQ_POOL_SUM)
		return a->pools[pool].free_sum;
	for (i = 0; i < p->nlabels; i++)
		sum += a->pools[pool].free[i];
	return sum;
}
