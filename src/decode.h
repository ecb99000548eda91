/*
 * decode.h - one fanotify read buffer -> struct fan_event, bounds-checked. Pure: no
 * syscalls; fds found in the buffer are handed to the caller, never closed here.
 */
#ifndef FANOTIFYD_DECODE_H
#define FANOTIFYD_DECODE_H

#include <stddef.h>

#include "event.h"

/* Size of the fixed part of struct fanotify_event_metadata (vers 3). */
#define DECODE_METADATA_LEN 24

/*
 * Decodes the event at the start of buf (len bytes left in the buffer).
 *
 * Returns the number of bytes the event occupies (event_len, > 0): ev is filled; info
 * records that are malformed (length below the header, running past
 * event_len, handle past the record, unterminated name) set ev->bad_info and stop info
 * parsing; unknown info types are counted in ev->unknown_info and skipped.
 *
 * Returns -EINVAL when the metadata itself is unusable (len < 24, event_len < metadata_len
 * or > len, metadata_len < 24, wrong vers). The rest of the buffer cannot be walked. If at
 * least the fixed 24 bytes were present, ev->mask, ev->fd and ev->pid are still filled so
 * the caller can answer and close a permission event; otherwise ev->fd is FAN_NOFD.
 *
 * Returns -ENODATA when len is 0.
 */
int decode_event(const void *buf, size_t len, struct fan_event *ev);

#endif
