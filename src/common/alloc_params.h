/* SPDX-License-Identifier: MIT */
/*
 * Parameters of an automatic allocation queue (`hq alloc add`, spec 1.8):
 * shared by the client that builds them, the wire and journal encodings,
 * and the server that submits allocations with them.
 */
#ifndef HQ_ALLOC_PARAMS_H
#define HQ_ALLOC_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

/* The batch system of a queue. */
enum hq_manager {
	HQ_MANAGER_PBS = 0,
	HQ_MANAGER_SLURM,
};

/*
 * Every pointer is owned by the struct (NULL when absent); free with
 * hq_alloc_params_fini().
 */
struct hq_alloc_params {
	enum hq_manager manager;
	uint32_t backlog;		/* >= 1: max queued allocations */
	uint32_t max_workers_per_alloc; /* >= 1: nodes per allocation */
	uint32_t max_worker_count;	/* 0: unlimited */
	uint64_t time_limit_ms;		/* walltime of an allocation, > 0 */
	uint64_t worker_time_limit_ms;	/* 0: time_limit_ms */
	uint64_t idle_timeout_ms;	/* of the workers, > 0 */
	char *name;			/* allocations are <name>-<n> */
	/* `hq worker start` options, values quoted for the shell:
	 * {"--cpus", "\"4\"", "--on-server-lost", "\"finish-running\""...} */
	char **worker_args;
	uint32_t nworker_args;
	/* Trailing sbatch/qsub arguments, one #SBATCH/#PBS line. */
	char **additional_args;
	uint32_t nadditional_args;
	char *start_cmd; /* run before the worker: <start> && <worker> */
	char *stop_cmd;	 /* run after it: <worker>; <stop> */
	char *wrap_cmd;	 /* prefix of `hq worker start` */
	/* --cpus and --resource as given: the worker resources the queue
	 * knows before its first worker connects. */
	char *cpus;
	char **resources; /* NAME=DEF */
	uint32_t nresources;
	uint32_t min_utilization; /* x10000 */
};

void hq_alloc_params_fini(struct hq_alloc_params *p);
/* Deep copy into dst (dst is overwritten, not freed). */
void hq_alloc_params_copy(struct hq_alloc_params *dst,
    const struct hq_alloc_params *src);
/* The time limit the workers get: worker_time_limit_ms or time_limit_ms. */
uint64_t hq_alloc_params_worker_limit(const struct hq_alloc_params *p);

/* "PBS" / "Slurm" (spec 3.2 alloc list). */
const char *hq_manager_name(enum hq_manager m);
/* The worker configuration's manager string: "PBS" / "SLURM". */
const char *hq_manager_worker_name(enum hq_manager m);

#endif
