/* SPDX-License-Identifier: MIT */
/*
 * The write-ahead journal: opaque records, group commits, checkpoints and a
 * SHA-256 hash chain, in one LMDB file. It knows nothing of jobs.
 */
#ifndef HQ_JOURNAL_H
#define HQ_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/*
 * File layout (one LMDB environment, MDB_NOSUBDIR, mode 0600, lock file
 * PATH-lock). Integer keys are native 8-byte uint64 (MDB_INTEGERKEY);
 * integers inside values are little-endian.
 *
 *   "events"       seq -> record bytes. Seqs start at 1, are contiguous and
 *                  only ever deleted from the old end (prune).
 *   "chain"        last seq of a commit -> le64 first seq || 32-byte link,
 *                  link = SHA256(previous link || for each record of the
 *                  commit: le64(seq) || le32(len) || bytes).
 *                  One entry per commit, except that a commit is cut in
 *                  two at every checkpoint seq that falls inside it, so
 *                  that every checkpoint sits on a link.
 *   "checkpoints"  seq -> 32-byte link at that seq || snapshot bytes.
 *   "meta"         string keys (no NUL stored) -> bytes. Reserved keys:
 *                  "format" (HQ_JOURNAL_FORMAT as a decimal string),
 *                  "chain_base" (32 bytes: the link before the first
 *                  chain entry; zeros at creation), "chain_base_seq"
 *                  (le64: the seq after which the chain starts).
 */

#define HQ_JOURNAL_LINK_LEN 32

/* Opaque. One per process and file (LMDB refuses nothing, we do). */
struct hq_journal;

struct hq_journal_opts {
	uint64_t map_size; /* 0: 64 GiB for writers, the file's for readers */
	bool readonly;	   /* MDB_RDONLY: reading functions only */
	/* A writer opens even when records and chain disagree, to salvage
	 * the consistent prefix with hq_journal_truncate(). */
	bool recover;
};

/*
 * Open the journal at 'path' (o may be NULL: defaults). A writer creates the
 * file when missing and takes an exclusive flock on it; readers may open it
 * while a writer (another process) has it open.
 * Returns 0 and *jp (caller owns; free with hq_journal_close()), or:
 * -errno (ENOENT for a missing file when read-only), HQ_EVERSION for an
 * unknown or missing format (also an LMDB file that is not a journal),
 * HQ_ECORRUPT for a damaged, truncated or non-LMDB file, HQ_EBUSY when
 * another writer holds the file, HQ_EJOURNAL for other LMDB errors.
 * 'eb' names the path and the problem. Garbage and truncated files are
 * refused untouched (an empty file is initialised by a writer); damage *inside*
 * well-formed LMDB pages is caught by hq_journal_verify_chain() (values) or
 * LMDB's own page checks. A writer refuses a file whose records and chain
 * disagree (HQ_ECORRUPT). LMDB caveats: never use a journal across fork(); a
 * read-only open in the process that has the writer open works, but closing it
 * drops LMDB's process-wide lock-file lock: readers belong in other processes.
 */
int hq_journal_open(const char *path, const struct hq_journal_opts *o,
    struct hq_journal **jp, struct hq_errbuf *eb);

/*
 * Close the journal (NULL is a no-op). Batches already handed over with
 * hq_journal_flush_async() are committed first, then the writer thread
 * stops; records appended but never handed over are dropped.
 */
void hq_journal_close(struct hq_journal *j);

/*
 * ---- Writing. All of these belong to one owner thread ("the loop"). ----
 * After a commit has failed (sync or async), every writing function returns
 * that error: the journal is stuck, the file keeps what was committed before.
 * Read-only journals return HQ_EINVAL.
 */

/*
 * Buffer a copy of 'rec' ('len' bytes, borrowed) for the next commit and
 * give it the next seq in *seqp (may be NULL). Never touches the disk.
 * HQ_ETOOBIG if len does not fit in 32 bits.
 */
int hq_journal_append(struct hq_journal *j, const void *rec, size_t len,
    uint64_t *seqp);

/* Last appended (or, after open, stored) seq; 0 for an empty journal. */
uint64_t hq_journal_last_seq(const struct hq_journal *j);

/*
 * Last seq known durable, as of the last hq_journal_commit() or
 * hq_journal_poll() on the loop thread.
 */
uint64_t hq_journal_durable_seq(const struct hq_journal *j);

/*
 * Queue a meta key/value for the next commit; 'key' (non-empty, at most 255
 * bytes, not reserved) and 'val' are copied. HQ_EINVAL for a bad key.
 */
int hq_journal_put_meta(struct hq_journal *j, const char *key, const void *val,
    size_t len);

/*
 * Queue a checkpoint for the next commit: 'snap' (copied) is the state after
 * applying every record <= seq. 'seq' must lie between the last seq handed
 * to a commit (flush_async or commit) and hq_journal_last_seq(): the usual
 * call passes hq_journal_last_seq(). HQ_EINVAL otherwise. A second
 * checkpoint for the same seq replaces the first.
 */
int hq_journal_put_checkpoint(struct hq_journal *j, uint64_t seq,
    const void *snap, size_t len);

/*
 * Commit everything buffered in ONE write transaction, synced: returns 0
 * only when it is durable (then hq_journal_durable_seq() ==
 * hq_journal_last_seq()). Waits first for pending async batches to drain
 * (and returns their error if one failed). Nothing buffered: returns 0.
 * HQ_EJOURNAL_FULL when the map or the disk is full; the failed
 * transaction is aborted and the journal is stuck (see above).
 */
int hq_journal_commit(struct hq_journal *j, struct hq_errbuf *eb);

/*
 * Group commit off the loop: hand everything buffered so far to a writer
 * thread (started on first use, with all signals blocked). If the writer is
 * busy, the batch is committed right after the current one, in one
 * transaction with anything else handed over meanwhile. Returns 0 (also
 * when nothing is buffered) or the stuck error.
 */
int hq_journal_flush_async(struct hq_journal *j);

/*
 * An eventfd (owned by the journal, non-blocking) that becomes readable when
 * the writer finished a transaction: the durable seq advanced or a commit
 * failed. Watch it for reading; call hq_journal_poll() when it fires.
 * HQ_EINVAL for a read-only journal.
 */
int hq_journal_event_fd(struct hq_journal *j);

/*
 * Drain the eventfd and update *durable (may be NULL) and
 * hq_journal_durable_seq(). Returns 0, or the error of a failed async commit
 * with its message in 'eb' (then the journal is stuck).
 */
int hq_journal_poll(struct hq_journal *j, uint64_t *durable,
    struct hq_errbuf *eb);

/*
 * ---- Reading. Any thread, concurrently with the writer; each call uses
 * its own read transaction, so it sees one consistent committed snapshot
 * (never the buffered, uncommitted puts). Callbacks must not call the
 * writing functions. ----
 */

/*
 * Copy of a meta value: *val is malloc'd (caller frees with free(); one
 * spare NUL byte follows the value, so text can be used as a C string) and
 * *len its size. HQ_ENOTFOUND if absent.
 */
int hq_journal_get_meta(struct hq_journal *j, const char *key, void **val,
    size_t *len);

/*
 * Newest checkpoint: *seq, *snap (malloc'd, caller frees; NULL-safe to pass
 * NULL for snap/len to get only the seq) and *len. HQ_ENOTFOUND if none.
 */
int hq_journal_latest_checkpoint(struct hq_journal *j, uint64_t *seq,
    void **snap, size_t *len);

/*
 * Called per checkpoint in seq order; 'snap' is valid only during the call.
 * Return 0 to go on, non-zero to stop (the value is returned).
 */
typedef int hq_journal_ckpt_fn(uint64_t seq, const void *snap, size_t len,
    void *arg);
int hq_journal_foreach_checkpoint(struct hq_journal *j, hq_journal_ckpt_fn *fn,
    void *arg);

/*
 * Called per record with from <= seq <= to (to = UINT64_MAX for all) in seq
 * order; 'rec' is valid only during the call. Return 0 to go on, non-zero
 * to stop (that value is returned by hq_journal_foreach).
 */
typedef int hq_journal_record_fn(uint64_t seq, const void *rec, size_t len,
    void *arg);
int hq_journal_foreach(struct hq_journal *j, uint64_t from, uint64_t to,
    hq_journal_record_fn *fn, void *arg);

/*
 * Check the whole chain against the records (links, gaps, records outside
 * the chain) and every checkpoint's stored link. Returns 0, or HQ_ECORRUPT
 * with *bad_seq (may be NULL) = first seq of the first bad commit (for a
 * bad checkpoint: of the commit whose link it should carry; for a record
 * outside the chain: that record) and a message naming it in 'eb'; LMDB
 * errors as for open. Cost: reads and hashes every record.
 */
int hq_journal_verify_chain(struct hq_journal *j, uint64_t *bad_seq,
    struct hq_errbuf *eb);
/*
 * The same check from the checkpoint at seq 'from' on (its stored link
 * starts the chain): what a restart replays, without hashing the older
 * history. from = 0 checks everything.
 */
int hq_journal_verify_tail(struct hq_journal *j, uint64_t from,
    uint64_t *bad_seq, struct hq_errbuf *eb);
/*
 * Drop every record, chain entry and checkpoint from seq 'from' on (from
 * the start of the commit holding 'from'), in one synced transaction, so
 * that the journal ends with its consistent prefix. Writer only, before any
 * append. *kept gets the new last seq.
 */
int hq_journal_truncate(struct hq_journal *j, uint64_t from, uint64_t *kept,
    struct hq_errbuf *eb);

struct hq_journal_stat {
	uint64_t first_seq; /* first stored record, 0 if none */
	uint64_t last_seq;  /* last stored record, 0 if none */
	uint64_t n_records;
	uint64_t record_bytes; /* sum of record sizes (scans the records) */
	uint64_t n_checkpoints;
	uint64_t last_checkpoint_seq; /* 0 if none */
	uint64_t file_bytes;
	uint64_t n_commits; /* chain entries */
};
/* Fill *st from one read transaction. */
int hq_journal_stat(struct hq_journal *j, struct hq_journal_stat *st);

/*
 * Delete old history in one synced write transaction. With C the newest
 * checkpoint <= before (nothing happens without one), records and chain
 * entries with seq <= K are deleted, where K = C if C < before, otherwise the
 * last commit boundary below 'before'; checkpoints older than C are deleted.
 * chain_base/chain_base_seq become the link at K, so verify still passes.
 * Writer only: waits for pending async batches first; buffered records are
 * kept. Errors as for commit (a failed prune does not make the journal
 * stuck).
 */
int hq_journal_prune(struct hq_journal *j, uint64_t before,
    struct hq_errbuf *eb);

/*
 * Write a compacted copy of the committed journal to the new file 'dst'
 * (mode 0600; -EEXIST if it exists), synced. Any thread; the copy is one
 * consistent snapshot.
 */
int hq_journal_copy(struct hq_journal *j, const char *dst,
    struct hq_errbuf *eb);

#endif
