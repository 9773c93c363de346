/* SPDX-License-Identifier: MIT */
/* Version strings. The access file and hellos carry HQ_VERSION. */
#ifndef HQ_VERSION_H
#define HQ_VERSION_H

/*
 * HyperQueue release whose command line we follow, and our own suffix:
 * a Rust hq client reading our access file reports a version mismatch
 * instead of failing obscurely in the handshake.
 */
#define HQ_COMPAT_VERSION   "0.26.2"
#define HQ_VERSION	    "0.26.2-c1"
#define HQ_PROTOCOL_VERSION 1
/* Journal file format; refused when unknown. */
#define HQ_JOURNAL_FORMAT 1

#endif
