/* SPDX-License-Identifier: MIT */
/* Allocation queue parameters: copy, free, names. */
#include "common/alloc_params.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static void
strv_free(char **v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **
strv_copy(char *const *v, uint32_t n)
{
	char **out;
	uint32_t i;

	if (n == 0)
		return NULL;
	out = hq_xcalloc(n, sizeof *out);
	for (i = 0; i < n; i++)
		out[i] = hq_xstrdup(v[i]);
	return out;
}

static char *
str_copy(const char *s)
{
	return s != NULL ? hq_xstrdup(s) : NULL;
}

void
hq_alloc_params_fini(struct hq_alloc_params *p)
{
	free(p->name);
	strv_free(p->worker_args, p->nworker_args);
	strv_free(p->additional_args, p->nadditional_args);
	free(p->start_cmd);
	free(p->stop_cmd);
	free(p->wrap_cmd);
	free(p->cpus);
	strv_free(p->resources, p->nresources);
	memset(p, 0, sizeof *p);
}

void
hq_alloc_params_copy(struct hq_alloc_params *dst,
    const struct hq_alloc_params *src)
{
	*dst = *src;
	dst->name = str_copy(src->name);
	dst->worker_args = strv_copy(src->worker_args, src->nworker_args);
	dst->additional_args =
	    strv_copy(src->additional_args, src->nadditional_args);
	dst->start_cmd = str_copy(src->start_cmd);
	dst->stop_cmd = str_copy(src->stop_cmd);
	dst->wrap_cmd = str_copy(src->wrap_cmd);
	dst->cpus = str_copy(src->cpus);
	dst->resources = strv_copy(src->resources, src->nresources);
}

uint64_t
hq_alloc_params_worker_limit(const struct hq_alloc_params *p)
{
	return p->worker_time_limit_ms ? p->worker_time_limit_ms
				       : p->time_limit_ms;
}

const char *
hq_manager_name(enum hq_manager m)
{
	return m == HQ_MANAGER_PBS ? "PBS" : "Slurm";
}

const char *
hq_manager_worker_name(enum hq_manager m)
{
	return m == HQ_MANAGER_PBS ? "PBS" : "SLURM";
}
