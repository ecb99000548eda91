/*
 * subscribe.h - the --subscribe client (client mode of the same binary).
 */
#ifndef FANOTIFYD_SUBSCRIBE_H
#define FANOTIFYD_SUBSCRIBE_H

#include <stdbool.h>

/* Connects to the daemon's socket at path and copies the stream to stdout until the daemon
 * closes it; with text, each JSON line is printed as text.h's human line instead (coloured
 * if color). Returns the process exit status: 0 (also when stdout is closed early, as by
 * `| head`), or 1 with a message on stderr (nothing listens, the daemon closed the
 * connection without sending anything: refused, full, or shutting down; or out of
 * memory). */
int subscribe_run(const char *path, bool text, bool color);

#endif
