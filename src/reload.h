/*
 * reload.h - SIGHUP's configuration reload: a reader thread builds the new configuration
 * off the loop thread; the loop applies what can change live, refuses the rest.
 */
#ifndef FANOTIFYD_RELOAD_H
#define FANOTIFYD_RELOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

struct reload_job;

struct reload {
	int argc;
	char **argv;			/* borrowed: main()'s, which outlives the daemon */
	char *cwd;			/* owned; where relative paths were resolved at start */
	int efd;			/* owned; eventfd: the reader is done */
	struct reload_job *job;		/* owned; the reader's, NULL = none running */
	bool again;			/* a SIGHUP came while the reader ran: read once more */
};

/* What reload_finish() did. */
enum reload_status {
	RELOAD_NONE,			/* no reader had finished */
	RELOAD_UNCHANGED,		/* the new config equals the running one */
	RELOAD_APPLIED,
	RELOAD_REFUSED,			/* a key that cannot change live changed: nothing applied */
	RELOAD_FAILED,			/* the new config is invalid or could not be put in place */
};

/* Takes argv and the working directory (call before a daemon changes it to /) and opens the
 * eventfd. Returns 0 or negative errno. */
int reload_init(struct reload *r, int argc, char **argv);

/* Starts the reader thread, which reads the config the way start-up did (the file, then
 * the command line over it), resolves paths and opens what new marks need, and builds the
 * new policy, all off the loop thread: any of it may wait on a filesystem a permission mark
 * makes wait for our own answer. While one runs, another SIGHUP only asks for one more
 * read after it. Returns 0 or negative errno. */
int reload_start(struct reload *r, const struct daemon *d);

/*
 * When efd is readable: takes the reader's result and, on the loop thread, applies it to d
 * (new marks before old ones go, the new policy with the old per-process state, hooks,
 * log level, stats interval), or refuses it whole; then writes the reload record and logs
 * what happened. Returns what it did.
 */
enum reload_status reload_finish(struct reload *r, struct daemon *d);

/* Releases the eventfd and cwd. A reader still running (a config on a hung filesystem) is
 * left behind, with its job, to end with the process. */
void reload_close(struct reload *r);

#endif
