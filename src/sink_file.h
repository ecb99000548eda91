/*
 * sink_file.h - the output file or stdout, written by a thread of its own so that no disk
 * or pipe stall ever delays the event loop (and so permission answers).
 */
#ifndef FANOTIFYD_SINK_FILE_H
#define FANOTIFYD_SINK_FILE_H

#include <pthread.h>
#include <sys/types.h>
#include <time.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define SINK_FILE_PENDING_MAX (16u << 20) /* bytes queued for the writer before dropping */
#define SINK_FILE_BATCH (64u << 10)	/* bytes that wake the writer at once */
#define SINK_FILE_LINGER_MS 20		/* longest a record waits for more to join it */
#define SINK_FILE_CLOSE_MS 3000		/* longest sink_file_close() waits for the writer */

struct sink_file {
	char *path;			/* owned; NULL = stdout */
	mode_t mode;			/* output_mode on every open; 0 = 0640 less the umask */
	gid_t gid;			/* output_group on every open ... */
	bool gid_set;			/* ... if set */
	int fd;				/* owned (not for stdout) */
	bool torn;			/* writer only: the output ends inside a record */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock: */
	char *pending;
	size_t pending_len, pending_cap;
	bool stop, reopen;
	struct timespec pending_since;	/* CLOCK_MONOTONIC when pending became non-empty */
	size_t writer_cap;		/* capacity of the buffer the writer holds */
	size_t backlog_max;		/* largest pending_len so far */
	uint64_t write_errors;		/* writes that failed (records lost) */
	size_t notice_off;		/* where a dropped notice starts in pending ... */
	uint64_t notice_count;		/* ... and the count it carries; 0 = none queued */
	size_t inflight;		/* bytes the writer has taken and not finished */
	uint64_t lost_owed;		/* records to report lost (write failures), not taken yet */
	uint64_t lost_new;		/* ... of them lost by now (not a lost notice's count again) */
	int lost_errno;			/* errno of the last failed write */
	bool abandoned;			/* sink_file_close() gave up waiting for the writer */
	int opened_fd;			/* owned until taken: a dup of the last reopened file, for
					 * the loop to ignore-mark; -1 = none */
	int opened_efd;			/* owned (not under lock): eventfd, readable when
					 * opened_fd is set; -1 for stdout */
};

/* Opens path for appending (O_NOFOLLOW), or stdout for "-". Refuses anything but a
 * regular file owned by our euid with one link. Resolves group (output_group: name or gid;
 * NULL = keep the group a new file gets) and gives the file that group and mode
 * (output_mode; 0 = created 0640 less the umask, and write and exec taken away from group
 * and others), now and at every reopen. Call before any mark is placed (NSS reads /etc).
 * Returns 0 or negative errno with the reason, naming path, in msg. */
int sink_file_open(struct sink_file *s, const char *path, mode_t mode, const char *group,
		   char *msg, size_t msg_len);

/* Whether sink_file_open() could open path, without creating or opening anything (for
 * --check-config): an existing file passes its checks, an absent one's directory exists
 * and is writable by us. "-" passes. Returns 0 or negative errno with the reason in msg. */
int sink_file_check(const char *path, char *msg, size_t msg_len);

/* After a SIGHUP reopen: the new file, as a descriptor the caller owns (a dup), so that
 * the loop puts its ignore mark on it — the writer thread touches nothing of the loop's.
 * Call when opened_efd is readable; returns -1 when there is none. */
int sink_file_opened(struct sink_file *s);

/* Starts the writer thread. Returns 0 or negative errno. */
int sink_file_start(struct sink_file *s);

/* Queues len bytes (whole records); notice_count > 0 says the first record is a dropped
 * notice carrying that count, which sink_file_lost() owes again if the notice is lost in a
 * write. Returns 0, or -ENOBUFS when the queue is full (or holds another notice) and
 * nothing was queued. Never blocks on I/O. */
int sink_file_write(struct sink_file *s, const void *data, size_t len, uint64_t notice_count);

/* Takes the count a dropped notice must report for failed writes (0 = none) and the errno
 * of the last one; *ret_new gets how many of them are records lost since the last call
 * (the rest are counts of lost notices, owed again). */
uint64_t sink_file_lost(struct sink_file *s, uint64_t *ret_new, int *ret_errno);

/* Fills the output's counters of st: the queue's memory, out_buf_kib (both buffers'
 * capacity: each grows to the largest backlog, up to SINK_FILE_PENDING_MAX, and keeps that
 * size) and out_backlog_max_kib (the largest backlog so far), and out_write_errors. */
void sink_file_stats(struct sink_file *s, struct stats *st);

/* Asks the writer to reopen the file (log rotation); it opens the new file itself. */
void sink_file_reopen(struct sink_file *s);

/* Writes everything queued, stops the thread, closes the file. Safe twice. Waits at most
 * SINK_FILE_CLOSE_MS for a writer stuck in write() or open(); it is then left behind (with
 * s, which must outlive it until exit) and the bytes abandoned are logged. */
void sink_file_close(struct sink_file *s);

#endif
