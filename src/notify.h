/*
 * notify.h - the service manager's notification protocol (sd_notify(3): READY=1, STOPPING=1,
 * RELOADING=1, STATUS=, MAINPID=, WATCHDOG=1) to $NOTIFY_SOCKET, and the watchdog that pings
 * only while the event loop turns and services its sources.
 */
#ifndef FANOTIFYD_NOTIFY_H
#define FANOTIFYD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define NOTIFY_MSG_MAX 512		/* longest message (STATUS= text is cut to fit) */
#define NOTIFY_WD_SOURCES_MAX 4		/* sources the watchdog checks */
#define NOTIFY_WD_RECHECK_MS 10		/* a held ping looks again after this */
#define NOTIFY_WD_MIN_MS 1		/* shortest ping interval */

/* A source whose waiting input the watchdog checks: fd (-1 = none) and a counter its reader
 * moves on every read (any value; only a change counts). */
struct notify_wd_source {
	const char *name;		/* for the log */
	int fd;
	uint64_t progress;
};

/* The watchdog's state between calls (notify_wd_step() keeps it). */
struct notify_wd {
	uint64_t interval_ms;		/* ping period: half of WATCHDOG_USEC; 0 = off */
	uint64_t due_ms;		/* CLOCK_MONOTONIC ms of the next ping; 0 = at once */
	bool holding;			/* a due ping waits for the sources below */
	uint64_t held_since_ms;		/* ... since then */
	unsigned held_mask;		/* sources found waiting when the ping was held */
	uint64_t progress[NOTIFY_WD_SOURCES_MAX]; /* their counters then */
	bool held_logged;		/* the long hold was logged */
	uint64_t pings;			/* WATCHDOG=1 sent */
	uint64_t held;			/* pings held back at least once */
};

struct notify {
	int fd;				/* owned; AF_UNIX SOCK_DGRAM, -1 = no $NOTIFY_SOCKET */
	struct sockaddr_un addr;	/* $NOTIFY_SOCKET ('@' -> abstract: sun_path[0] = 0) */
	socklen_t addr_len;
	uint64_t watchdog_usec;		/* $WATCHDOG_USEC meant for us; 0 = none */
	struct notify_wd wd;
	bool send_failed;		/* a send failed and was logged (once per kind) */
};

/*
 * Takes $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID out of the environment (so nothing
 * we start inherits them) and opens the socket the messages go out on. Before the first mark
 * and before daemonizing. Never fails the start: a bad or unusable $NOTIFY_SOCKET is logged
 * and the daemon runs without notifications (the service manager then times the start out).
 */
void notify_init(struct notify *n);
/* True when there is somewhere to send messages. */
bool notify_enabled(const struct notify *n);
/* Sends one datagram of text ("KEY=VALUE\n..."). 0 or -errno (logged once). */
int notify_send(struct notify *n, const char *text);
/* READY=1 with STATUS=status (NULL: none); mainpid > 0 adds MAINPID= (a daemonized child,
 * told by the parent, which the service manager started). */
int notify_ready(struct notify *n, pid_t mainpid, const char *status);
/* STOPPING=1: a stop signal was taken. */
int notify_stopping(struct notify *n);
/* RELOADING=1 with MONOTONIC_USEC= (now): a reload begins; READY=1 (notify_ready()) when
 * it is done, whether it applied or was refused. */
int notify_reloading(struct notify *n, const char *status);

/*
 * The watchdog's decision, without system calls: at now_ms, readable says which sources
 * (bit i = src[i]) have input waiting. Returns 1 when a ping is due and every source that
 * was found waiting when it came due has been serviced since (its progress moved or it no
 * longer has input), 0 when not; *ret_next_ms is how long until it should be asked again
 * (-1: never, the watchdog is off).
 */
int notify_wd_step(struct notify_wd *wd, uint64_t now_ms, const struct notify_wd_source *src,
		   unsigned n_src, unsigned readable, int *ret_next_ms);
/*
 * The loop's watchdog timer: polls the sources (no wait) when a ping is due and sends
 * WATCHDOG=1 when notify_wd_step() says so. Returns ms until it is next due, or -1.
 */
int notify_watchdog(struct notify *n, uint64_t now_ms, const struct notify_wd_source *src,
		    unsigned n_src);

void notify_close(struct notify *n);

#endif
