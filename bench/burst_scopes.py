#!/usr/bin/env python3
"""burst_scopes.py MAKE.jsonl TAR.jsonl: the false-positive table of bench/burst-scopes.sh.

For each burst scope, over the event records of each workload: the burst alerts policy.c
would raise at threshold 32 in a 1000 ms window (its rule: the count within the window
reaches the threshold -> a burst, the count restarts; an alert unless the identity alerted
within the 5000 ms cooldown; parent: the parent and grandparent, never init, and nothing
above a parent that bursts now or alerted within the cooldown), and the threshold the scope
needs to stay quiet (the most mutating events any identity had within one window, plus 1).
session and job: the workload runs in one session and one job root, so one identity.
"""
import collections, json, sys

MUTATING = {"MODIFY", "CLOSE_WRITE", "ATTRIB", "CREATE", "DELETE", "MOVED_FROM", "MOVED_TO",
            "RENAME"}
THRESHOLD, WINDOW_MS, COOLDOWN_MS, DEPTH = 32, 1000, 5000, 2
SCOPES = ["process", "parent", "session", "uid", "exe", "job"]


def ids(r, scope):
    if scope == "process":
        return [r["pid"]]
    if scope == "parent":
        anc = r.get("ancestors") or ([r["ppid"]] if r.get("ppid") else [])
        out = []
        for a in anc[:DEPTH]:
            if a <= 1:
                break
            out.append(a)
        return out
    if scope in ("session", "job"):
        return ["workload"]
    v = r.get(scope)
    return [v] if v is not None else []


class Ident:
    def __init__(self):
        self.ring = collections.deque()   # the policy's window (restarts at a burst)
        self.all = collections.deque()    # every event in the last window (peak)
        self.peak = 0
        self.last_alert = None


def analyse(path):
    state = {s: collections.defaultdict(Ident) for s in SCOPES}
    alerts = collections.Counter()
    bursts = collections.Counter()
    n = 0
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        if r.get("type") != "event" or not set(r["events"].split(",")) & MUTATING:
            continue
        n += 1
        t = r["ts_ms"]
        for s in SCOPES:
            for k in ids(r, s):
                e = state[s][k]
                while e.all and t - e.all[0] >= WINDOW_MS:
                    e.all.popleft()
                e.all.append(t)
                e.peak = max(e.peak, len(e.all))
                while e.ring and t - e.ring[0] >= WINDOW_MS:
                    e.ring.popleft()
                e.ring.append(t)
                burst = len(e.ring) >= THRESHOLD
                caught = burst or (e.last_alert is not None and t - e.last_alert < COOLDOWN_MS)
                if burst:
                    e.ring.clear()
                    bursts[s] += 1
                    if e.last_alert is None or t - e.last_alert >= COOLDOWN_MS:
                        alerts[s] += 1
                        e.last_alert = t
                if s == "parent" and caught:
                    break
    quiet = {s: max((e.peak for e in state[s].values()), default=0) + 1 for s in SCOPES}
    return n, alerts, bursts, quiet, {s: len(state[s]) for s in SCOPES}


res = [analyse(p) for p in sys.argv[1:3]]
print("| scope | make -j2: alerts at 32 (bursts) | make -j2: quiet at | tar -x: alerts at 32 (bursts) | tar -x: quiet at |")
print("| --- | --- | --- | --- | --- |")
for s in SCOPES:
    row = [s]
    for n, alerts, bursts, quiet, idents in res:
        row += ["%d (%d)" % (alerts[s], bursts[s]), "%d (%d identities)" % (quiet[s], idents[s])]
    print("| " + " | ".join(row) + " |")
print()
print("Mutating events: make -j2 %d, tar -x %d; window %d ms, cooldown %d ms." %
      (res[0][0], res[1][0], WINDOW_MS, COOLDOWN_MS))
