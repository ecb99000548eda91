#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/{decode,record,config}/ from cases of the unit
tests (test_decode.c, test_record.c, test_config.c). Run it after changing a case here; the
output is committed, so make fuzz needs no Python. Crash inputs go to tests/fuzz/regress/."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# fanotify constants (linux/fanotify.h)
FID, DFID_NAME, DFID, PIDFD, ERROR, OLD_DFID_NAME, NEW_DFID_NAME = 1, 2, 3, 4, 5, 10, 12
FAN_ACCESS, FAN_MODIFY, FAN_ATTRIB, FAN_CLOSE_WRITE, FAN_OPEN = 0x1, 0x2, 0x4, 0x8, 0x20
FAN_CREATE, FAN_DELETE, FAN_FS_ERROR = 0x100, 0x200, 0x8000
FAN_OPEN_PERM, FAN_RENAME, FAN_ONDIR = 0x10000, 0x10000000, 0x40000000
FAN_NOFD, FAN_NOPIDFD = -1, -1


def event(mask, fd, pid, *records, metadata_len=24):
    body = b"".join(records)
    extra = b"\xff" * (metadata_len - 24)
    event_len = 24 + len(extra) + len(body)
    return struct.pack("<IBBHQii", event_len, 3, 0, metadata_len, mask, fd, pid) + extra + body


def fid(typ, handle, name=None, handle_type=1):
    body = struct.pack("<iiIi", -2, 7, len(handle), handle_type) + handle
    if name is not None:
        body += name + b"\0"
    rec_len = (4 + len(body) + 3) & ~3
    return struct.pack("<BBH", typ, 0, rec_len) + body + b"\0" * (rec_len - 4 - len(body))


def info(typ, payload, rec_len=None):
    if rec_len is None:
        rec_len = 4 + len(payload)
    return struct.pack("<BBH", typ, 0, rec_len) + payload


HA, HB, HC = bytes(range(0xa1, 0xa9)), bytes(range(0xb1, 0xbd)), bytes(range(0xc1, 0xc7))

DECODE = {
    "plain-fd": event(FAN_OPEN_PERM, 17, 4242),
    "fid-dfid-name": event(FAN_CREATE, FAN_NOFD, 4242, fid(FID, HA),
                           fid(DFID_NAME, HB, b"hello.txt")),
    "dfid": event(FAN_ATTRIB | FAN_ONDIR, FAN_NOFD, 4242, fid(DFID, HA)),
    "rename": event(FAN_RENAME, FAN_NOFD, 4242, fid(OLD_DFID_NAME, HA, b"old"),
                    fid(NEW_DFID_NAME, HB, b"new-name.txt"), fid(FID, HC)),
    "empty-name": event(FAN_DELETE, FAN_NOFD, 4242, fid(DFID_NAME, HA, b"")),
    "handle-128": event(FAN_MODIFY, FAN_NOFD, 4242,
                        fid(FID, bytes((i * 7 + 1) & 0xff for i in range(128)))),
    "pidfd": event(FAN_OPEN, 17, 4242, info(PIDFD, struct.pack("<i", 7))),
    "pidfd-nopidfd": event(FAN_OPEN, 17, 4242, info(PIDFD, struct.pack("<i", FAN_NOPIDFD))),
    "unknown-info": event(FAN_FS_ERROR, FAN_NOFD, 0, info(ERROR, struct.pack("<iI", -5, 3)),
                          info(99, b"\xff" * 12), fid(FID, HA)),
    "long-metadata": event(FAN_MODIFY, FAN_NOFD, 4242, info(PIDFD, struct.pack("<i", 11)),
                           metadata_len=32),
    "two-events": event(FAN_CREATE, FAN_NOFD, 4242, fid(FID, HA), fid(DFID_NAME, HB, b"first"),
                        info(PIDFD, struct.pack("<i", 5)))
    + event(FAN_RENAME, FAN_NOFD, 4243, fid(OLD_DFID_NAME, HA, b"from"), info(77, b"\0" * 4),
            fid(NEW_DFID_NAME, HC, b"to"), info(PIDFD, struct.pack("<i", 6))),
    "info-len-zero": event(FAN_MODIFY, FAN_NOFD, 4242, info(99, b"\0" * 8, rec_len=0)),
    "name-without-nul": event(FAN_CREATE, FAN_NOFD, 4242, fid(DFID_NAME, HA)),
    "vers-2": b"\x18\0\0\0\x02\0\x18\0" + struct.pack("<Qii", FAN_OPEN_PERM, 17, 4242),
}


def record(flags=0, verdict=0, nulls=0, seq=1, ts_ms=1700000000000, mask=FAN_OPEN,
           pid=4242, ppid=1, uid=1000, count=0, window_ms=0, strings=()):
    head = struct.pack("<BBBQQQIIIII", flags, verdict, nulls, seq, ts_ms, mask,
                       pid & 0xffffffff, ppid, uid, count, window_ms)
    assert len(head) == 47
    return head + b"\0".join(strings)


# Strings: job_id, path_role, comm, exe, path, name, old_path, reason (fuzz_record.c); an
# alert takes its path_role, comm, exe, path, reason and, for job_id, name. Its kind is the
# verdict byte: canary, burst, overflow, fd_exhausted, 4 = unknown.
EV = [b"J", b"workspace", b"sh", b"/bin/sh", b"/tmp/a b/c.txt", b"c.txt", b"/tmp/old", b"canary"]
ALERT, IS_DIR, RENAME, PPID, UID, HAS_PROC, DROPPED = (1 << i for i in (0, 1, 2, 3, 4, 5, 7))
CANARY, BURST, OVERFLOW, FD_EXHAUSTED, UNKNOWN_KIND = range(5)
RECORD = {
    "event-plain": record(flags=PPID | UID, strings=EV),
    "event-nulls": record(nulls=0xff, mask=FAN_MODIFY | FAN_CLOSE_WRITE | FAN_OPEN),
    "event-rename-dir": record(flags=RENAME | IS_DIR | PPID, verdict=2, mask=FAN_RENAME | FAN_ONDIR,
                               pid=-1, strings=EV),
    "event-utf8": record(flags=UID, strings=[
        b"", b"", b"caf\xc3\xa9", b"\xe2\x82\xac", b"/\xf0\x9f\x98\x80/\xf4\x8f\xbf\xbf",
        b"\xed\x9f\xbf\xee\x80\x80"]),
    "event-invalid-utf8": record(mask=0xffffffffffffffff, strings=[
        b"\x80\xbf", b"a\xc3", b"\xe2\x82A", b"\xf0\x9f\x98", b"\xc0\x80\xc1\xbf\xe0\x80\x80",
        b"\xed\xa0\x80\xed\xbf\xbf", b"\xf4\x90\x80\x80\xf5\xff", b"caf\xe9.txt"]),
    "event-controls": record(verdict=1, strings=[b"a\nb\x01c\x7f", b"\"\\", b"\b\f\r\t\x1f",
                                                 b"\\u0041", b"/tmp/\"q\"", b" ~", b"/", b"x"]),
    "alert-canary": record(flags=ALERT | HAS_PROC, verdict=CANARY, strings=[
        b"canary", b"rootfs", b"cat", b"/usr/bin/cat", b"/run/jobs/J/root/etc/shadow", b"J", b"",
        b"canary touched"]),
    "alert-burst": record(flags=ALERT | HAS_PROC, verdict=BURST, count=32, window_ms=1000,
                          strings=[b"burst", b"", b"\xff\xfe", b"/x\x80", b"/w", b"", b"",
                                   b"burst"]),
    "alert-overflow": record(flags=ALERT, verdict=OVERFLOW, pid=0, nulls=0x22,
                             strings=[b"overflow"] + [b""] * 6 + [b"queue overflow"]),
    "alert-fd-exhausted": record(flags=ALERT, verdict=FD_EXHAUSTED, pid=0, count=7,
                                 strings=[b""] * 4 + [b"<fd_exhausted>", b"", b"",
                                          b"no descriptor"]),
    "alert-unknown-kind": record(flags=ALERT | HAS_PROC, verdict=UNKNOWN_KIND, nulls=0x0c),
    "dropped": record(flags=DROPPED, mask=12, strings=[b""] * 7 + [b"output queue full"]),
}

def lines(*ls):
    return b"".join(line + b"\n" for line in ls)


CONFIG = {
    "spec-example": open(os.path.join(HERE, "../../examples/cgroupd-landlockd.conf"), "rb").read(),
    "every-key": lines(
        b"output /var/log/fan/J.jsonl", b"socket /run/fan/J.sock",
        b"hook /usr/bin/logger -t fan alert", b"pid_file /run/fan.pid", b"watch /w", b"mount /m",
        b"filesystem /f", b"canary /c/*", b"burst_threshold 32", b"burst_window_ms 250",
        b"hook_cooldown_ms 0", b"foreground 1", b"perm yes", b"deny_on_alert true", b"no_fid on",
        b"access_perm 1", b"spin_us 7", b"verbose 3", b"events open,modify", b"quarantine_ms 0",
        b"hook_timeout_ms 10000", b"hook_max 4", b"allow_cache 0", b"socket_mode 0660",
        b"socket_group adm", b"socket_buffer_kb 1024", b"socket_max_clients 64", b"job J",
        b"rootfs /run/jobs/J/root", b"workspace /run/jobs/J/workspace",
        b"export /run/jobs/J/export", b"cache /var/cache/job-platform"),
    "round-trip": lines(
        b"output /var/log/fan.jsonl", b"hook logger -t fan \"$FAN_KIND\" # not a comment",
        b"watch /w with space", b"watch /w#2", b"canary /d/[ab]?", b"events all", b"verbose 4",
        b"job J", b"rootfs /run/jobs/J/root", b"workspace /run/jobs/J/ws", b"job K.2",
        b"export /e", b"cache /var/cache"),
    "comments-crlf": lines(
        b"# a comment", b"", b"   ", b"\t# indented comment", b"\r", b"watch /a # trailing comment",
        b"watch /b#not-a-comment\r", b"watch   /with inner  spaces  \t", b"watch\t/tab\t#\tcomment",
        b"canary /tmp/x#1", b"canary /tmp/y\t#2", b"hook echo a # b\r", b"output /o#o # c",
        b"  perm   1   # indented key"),
    "events-names": lines(b"events access,CLOSE,move,moved_from,moved_to,open_exec,default"),
    "unterminated": b"watch /a\nperm on",
    "error-unknown-key": lines(b"output /x", b"bogus 1"),
    "error-number": lines(b"burst_threshold 99999999999999999999999"),
    "error-role-before-job": lines(b"rootfs /r"),
    "error-job-twice": lines(b"job a", b"rootfs /r", b"job a"),
    "error-nul": lines(b"watch /a\0b"),
    "utf8-values": lines(b"watch /caf\xc3\xa9", b"canary /\xff\xfe*", b"socket_mode 0777"),
}

for target, seeds in (("decode", DECODE), ("record", RECORD), ("config", CONFIG)):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
