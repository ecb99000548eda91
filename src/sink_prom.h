/*
 * sink_prom.h - prometheus_file: the stats counters as a Prometheus text file, replaced
 * whole (write + rename) by a thread of its own, for node-exporter's textfile collector.
 */
#ifndef FANOTIFYD_SINK_PROM_H
#define FANOTIFYD_SINK_PROM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SINK_PROM_MODE 0644		/* node-exporter runs as another user: it must read */
#define SINK_PROM_CLOSE_MS 3000		/* longest sink_prom_close() waits for the writer */

struct sink_prom {
	char *dir;			/* owned; the file's directory */
	char *name;			/* owned; the file's name in dir */
	char *tmp;			/* owned; NAME.tmp.PID, written then renamed onto name */
	int dir_fd;			/* owned; opened before the first mark; -1 = off */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock: */
	char *next;			/* the newest text not written yet (older ones are
					 * replaced: only the latest counters matter) */
	size_t next_len, next_cap;
	bool due, stop;
	bool abandoned;			/* sink_prom_close() gave up waiting for the writer */
	uint64_t written;		/* files renamed into place */
	uint64_t errors;		/* writes that failed (the old file stays) */
};

/* Marks p off (nothing opened), so that sink_prom_close() is safe on it. */
void sink_prom_init(struct sink_prom *p);

/* Whether path could be written by the daemon after it drops its privileges, creating
 * nothing (for --check-config): its directory exists, and uid 0 may add entries to it
 * without CAP_DAC_OVERRIDE (its mode bits; a read-only mount too); path is not a
 * directory. Returns 0 or negative errno with the reason, naming path, in msg. */
int sink_prom_check(const char *path, char *msg, size_t msg_len);

/* sink_prom_check(), then opens path's directory and proves it takes our temporary file
 * (created and removed): call before any mark is placed. self names the temporary file.
 * Returns 0 or negative errno with the reason in msg. */
int sink_prom_open(struct sink_prom *p, const char *path, pid_t self, char *msg,
		   size_t msg_len);

/* Starts the writer thread (nothing to do when p is off). Returns 0 or negative errno. */
int sink_prom_start(struct sink_prom *p);

/* Hands text (len bytes, a whole file) to the writer, replacing any text it has not
 * written yet. Never blocks on I/O: the loop thread calls it, and the file may lie on a
 * filesystem whose opens wait for the loop's answer. Without a thread (start-up,
 * shutdown) it only queues. Returns 0, or -ENOMEM (the file keeps its older text). */
int sink_prom_write(struct sink_prom *p, const char *text, size_t len);

/* Writes what is queued, stops the thread, closes the directory. Safe twice and on a
 * sink_prom_init() one. Call after the fanotify groups are closed: the writer's open may
 * wait on our answer. Waits at most SINK_PROM_CLOSE_MS, then leaves the writer behind. */
void sink_prom_close(struct sink_prom *p);

#endif
