#!/usr/bin/env python3
"""replay_compare.py LIVE REPLAY [--hook]: does fanotifyd --replay of LIVE (a daemon's own
output) say exactly what the live daemon did? Exit 0 if so; otherwise print the first
difference and exit 1.

- Alerts: the live policy's alerts (kinds canary and burst and any later policy kind; the
  kernel's own, overflow and fd_exhausted, are not policy's and are left out) and the
  replay's alert records, in order, agree on seq, ts_ms, kind, pid, comm, exe, path, reason,
  job_id, path_role, count, window_ms, scope and scope_id (the last four where either has
  them). With --hook each replayed alert says "hook":"would run"; without, none has "hook".
- Decisions: the live permission events denied (seq, reason) are exactly the replay's
  decision records, in order, each "deny" with the same reason and "recorded":"deny"; no
  decision record says the replay decided otherwise than the record; the summary counts as
  many permission events and denials as the live output has.
- The summary: one, last, with as many events as the live output has event records.
"""
import json
import sys

FIELDS = ("seq", "ts_ms", "kind", "pid", "comm", "exe", "path", "reason", "job_id",
          "path_role", "count", "window_ms", "scope", "scope_id")
KERNEL_KINDS = ("overflow", "fd_exhausted")


def records(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return [json.loads(l) for l in f if l.strip()]


def first_diff(what, live, replay):
    print("replay differs from live: %s" % what)
    print("  live:   %s" % (json.dumps(live, sort_keys=True) if live is not None else "(none)"))
    print("  replay: %s" % (json.dumps(replay, sort_keys=True) if replay is not None else "(none)"))
    sys.exit(1)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    hook = "--hook" in sys.argv[1:]
    live, rep = records(args[0]), records(args[1])
    la = [r for r in live if r.get("type") == "alert" and r.get("kind") not in KERNEL_KINDS]
    ra = [r for r in rep if r.get("type") == "alert"]
    for i in range(max(len(la), len(ra))):
        l = la[i] if i < len(la) else None
        r = ra[i] if i < len(ra) else None
        if l is None or r is None:
            first_diff("alert %d of %d live, %d replayed" % (i + 1, len(la), len(ra)), l, r)
        for k in FIELDS:
            if (k in l or k in r) and l.get(k, "<absent>") != r.get(k, "<absent>"):
                first_diff("alert %d: %s %r vs %r" % (i + 1, k, l.get(k, "<absent>"),
                                                      r.get(k, "<absent>")), l, r)
        if r.get("hook") != ("would run" if hook else None):
            first_diff("alert %d: hook %r, want %r" % (i + 1, r.get("hook"),
                                                       "would run" if hook else None), l, r)
    perm = [r for r in live if r.get("type") == "event" and r.get("decision") in ("allow", "deny")]
    ld = [r for r in perm if r["decision"] == "deny"]
    rd = [r for r in rep if r.get("type") == "decision"]
    for i in range(max(len(ld), len(rd))):
        l = ld[i] if i < len(ld) else None
        r = rd[i] if i < len(rd) else None
        if l is None or r is None:
            first_diff("denial %d of %d live, %d decision records replayed"
                       % (i + 1, len(ld), len(rd)), l, r)
        for lk, rk in (("seq", "seq"), ("pid", "pid"), ("path", "path"), ("reason", "reason"),
                       ("decision", "decision"), ("decision", "recorded")):
            if l.get(lk) != r.get(rk):
                first_diff("denial %d: live %s %r, replay %s %r" % (i + 1, lk, l.get(lk), rk,
                                                                     r.get(rk)), l, r)
    sums = [r for r in rep if r.get("type") == "replay_summary"]
    if len(sums) != 1 or rep[-1].get("type") != "replay_summary":
        first_diff("%d replay_summary records, want one, last" % len(sums), None, rep[-1:])
    s = sums[0]
    n_events = sum(1 for r in live if r.get("type") == "event")
    for k, want in (("events", n_events), ("perm_events", len(perm)), ("would_deny", len(ld)),
                    ("allow_to_deny", 0), ("deny_to_allow", 0), ("alerts", len(la)),
                    ("malformed", 0)):
        if s.get(k) != want:
            first_diff("summary %s %r, want %r" % (k, s.get(k), want), None, s)
    print("# replay agrees: %d alerts, %d permission events, %d denials, %d events"
          % (len(la), len(perm), len(ld), n_events))


main()
