#!/usr/bin/env python3
"""analyze.py - helpers for bench/run.sh (fanotifyd benchmark, issue 5).

Subcommands (all paths absolute):
  waitfor FILE PATH EVENT... [--timeout S]
      wait until the JSONL FILE holds an event record for PATH whose events, over all its
      records, include every EVENT (the "arrived" handshake for the sentinel); exit 1 on timeout
  idle PID [--quiet-ms MS] [--timeout S]
      wait until process PID has used no CPU for MS (all threads, from schedstat)
  waitstats FILE COUNT [--timeout S]
      wait until the JSONL FILE holds more than COUNT stats records (fanotifyd writes one
      into its output on SIGUSR1 and at exit: {"type":"stats",...})
  statsfield FILE KEY
      print KEY of the last stats record in FILE (empty if none)
  procstat PID
      print "cpu_s=.. hwm_kb=.. rss_kb=.." of PID (utime+stime of all threads; VmHWM; VmRSS)
  sample PID --out FILE [--interval S]
      append "MONO_S RSS_KB HWM_KB" of PID to FILE every S seconds until PID is gone; on
      SIGTERM one last sample, then exit (T5 flatness)
  run --listener KIND --workload WL --dir DIR [...] [--allow-cache] [--set key=value ...]
      figures of one run as one JSON line (see cmd_run)
  flatrow --samples FILE --stats-file OUT.jsonl [--set key=value ...]
      figures of one T5 flatness run as one JSON line ("kind": "flat")
  flatsummary
      one JSON row of flatrow on stdin -> one line for humans
  report RAW.jsonl --md FILE [--meta FILE] [--notes FILE]
      the table (stdout) and RESULTS.md
"""
import argparse
import json
import os
import re
import signal
import statistics
import sys
import time

# --- handshakes -----------------------------------------------------------------------------


def cmd_waitfor(a):
    need = set(a.events)
    seen = set()
    last_ts_ms = 0
    pos = 0
    rest = b""
    needle = os.path.basename(a.path).encode()
    deadline = time.monotonic() + a.timeout
    while True:
        try:
            with open(a.file, "rb") as f:
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            data = b""
        pos += len(data)
        data = rest + data
        lines = data.split(b"\n")
        rest = lines.pop()
        for line in lines:
            if needle not in line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("path") == a.path and rec.get("events"):
                if not need <= seen:
                    last_ts_ms = max(last_ts_ms, rec.get("ts_ms") or 0)
                seen.update(rec["events"].split(","))
        if need <= seen:
            # ts_ms is when the daemon read the sentinel's last needed event: the backlog
            # ahead of it had been read by then.
            if a.since_real and last_ts_ms:
                print("drain_s=%.3f" % max(0.0, last_ts_ms / 1000.0 - a.since_real))
            return 0
        if time.monotonic() > deadline:
            print("waitfor: %s: saw %s, wanted %s" % (a.path, sorted(seen), sorted(need)),
                  file=sys.stderr)
            return 1
        time.sleep(0.005)


def cpu_ns(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def cmd_idle(a):
    """drain_s: when the listener last used CPU, relative to --since. If it never did while
    we watched, it had caught up before the first sample: print drain_le (an upper bound)."""
    deadline = time.monotonic() + a.timeout
    try:
        last = cpu_ns(a.pid)
    except FileNotFoundError:
        return 0
    first = time.monotonic()
    busy_until = None
    quiet_since = first
    while time.monotonic() < deadline:
        time.sleep(0.01)
        try:
            now = cpu_ns(a.pid)
        except FileNotFoundError:
            return 0
        if now != last:
            last = now
            busy_until = quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= a.quiet_ms:
            if a.since:
                if busy_until is not None:
                    print("drain_s=%.3f" % max(0.0, busy_until - a.since))
                else:
                    print("drain_le=%.3f" % max(0.0, first - a.since))
            return 0
    print("idle: pid %d still busy after %ss" % (a.pid, a.timeout), file=sys.stderr)
    return 1


# A stats record's marker: '"type":"stats"' cannot occur inside a JSON string (a '"' there
# is escaped), so a line holding it is a stats record, found without parsing the others.
STATS_MARK = b'"type":"stats"'


def stats_records(path, pos=0):
    """The stats records of the JSONL file path from byte pos on (complete lines only),
    parsed, and the offset after the last complete line read."""
    out = []
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            data = f.read()
    except FileNotFoundError:
        return out, pos
    end = data.rfind(b"\n") + 1
    for line in data[:end].split(b"\n"):
        if STATS_MARK in line:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out, pos + end


def last_stats(path):
    """The counters of the last stats record in path (no schema_version/type/seq/ts_ms),
    or None."""
    recs, _ = stats_records(path)
    if not recs:
        return None
    return {k: v for k, v in recs[-1].items()
            if k not in ("schema_version", "type", "seq", "ts_ms")}


def cmd_waitstats(a):
    deadline = time.monotonic() + a.timeout
    seen, pos = 0, 0
    while time.monotonic() < deadline:
        recs, pos = stats_records(a.file, pos)
        seen += len(recs)
        if seen > a.count:
            return 0
        time.sleep(0.01)
    print("waitstats: no new stats record in %s" % a.file, file=sys.stderr)
    return 1


def cmd_statsfield(a):
    st = last_stats(a.file)
    if st and st.get(a.key) is not None:
        print(st[a.key])
    return 0


def procstat(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    after = s[s.rindex(")") + 2:].split()
    ticks = int(after[11]) + int(after[12])
    hz = os.sysconf("SC_CLK_TCK")
    hwm = rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return ticks / hz, hwm, rss


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop()


def read_rss(pid):
    rss = hwm = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, hwm


def cmd_sample(a):
    """VmRSS of PID every --interval s (CLOCK_MONOTONIC stamps, as the workload's end_mono)."""
    signal.signal(signal.SIGTERM, _raise_stop)
    out = open(a.out, "a")

    def one():
        try:
            rss, hwm = read_rss(a.pid)
        except (FileNotFoundError, ProcessLookupError):
            return False
        if rss is None:  # a zombie has no VmRSS
            return False
        out.write("%.3f %d %d\n" % (time.monotonic(), rss, hwm or 0))
        out.flush()
        return True

    try:
        while one():
            time.sleep(a.interval)
    except _Stop:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        one()
    out.close()
    return 0


def cmd_procstat(a):
    total_cpu, hwm, rss = 0.0, 0, 0
    for i, pid in enumerate(a.pid):
        try:
            c, h, r = procstat(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        total_cpu += c
        if i == 0:
            hwm, rss = h, r
    print("cpu_s=%.2f hwm_kb=%d rss_kb=%d" % (total_cpu, hwm, rss))
    return 0


# --- figures of one run ---------------------------------------------------------------------

# What each workload provably does, per operation kind (see RESULTS.md notes).
def expected_ops(wl, n, tar_dirs, tar_files):
    if wl in ("openclose", "reopen"):
        return {"open": n}
    if wl == "churn":
        return {"open": n, "create": n, "modify": n, "close_write": n, "rename": n,
                "delete": n}
    if wl == "execs":
        return {"exec": n}
    if wl == "tar":
        f = tar_dirs * tar_files
        return {"mkdir": tar_dirs, "create": f, "open": f, "modify": f, "close_write": f}
    if wl == "shortlived":
        return {"create": n, "open": n, "modify": n, "close_write": n}
    # unwatched-execs: its programs are on a tmpfs no listener marks, so there is nothing to
    # see; build: make's operations are not counted one by one (records are shown, no loss).
    if wl in ("unwatched-execs", "build"):
        return {}
    raise ValueError(wl)


def reopen_opens(n, files):
    """reopen N FILES: key (f%06d's digits) -> how many times the workload opened it."""
    def opens(k):
        j = int(k)
        if j >= files:
            return 0
        return n // files + (1 if j < n % files else 0)
    return opens


def cached_expected(wl, exp, n, files):
    """--allow-cache: what the daemon is asked about, hence records, once the kernel allows
    a file's later opens itself: the first two opens of each file (the mark is placed on the
    second). Only reopen (each file opened
    N/FILES times) opens a file more than once; execs are never cached (every exec is still
    asked), so every other workload is unchanged."""
    exp = dict(exp)
    if wl == "reopen":
        exp["open"] = min(n, 2 * files)
    return exp


ALL_OPS = {"open", "exec", "create", "modify", "close_write", "rename", "delete", "mkdir"}
# Operation kinds each listener can deliver at all (a kind it cannot see is not loss).
CAPS = {
    "none": set(),
    "ref-fid": ALL_OPS,
    "ref-perm": {"open", "exec"},
    "fanotifyd": ALL_OPS,
    "fanotifyd-nofid": {"open", "exec", "modify", "close_write"},
    "fatrace": {"open", "exec", "modify", "close_write"},
    "inotify": ALL_OPS,
    # fapolicyd (permissive) writes no per-event records (only decisions that would deny, on
    # stderr with --debug-deny): nothing to count, so no records and no loss.
    "fapolicyd": set(),
}

KEY_RE = {
    "openclose": re.compile(r"f(\d{6})$"),
    "reopen": re.compile(r"f(\d{6})$"),
    "churn": re.compile(r"c(\d+)(?:\.r)?$"),
    "execs": re.compile(r"(true)$"),
    "tar": re.compile(r"(?:\./)?(d\d{3}/f\d{3}\.txt)$"),
    "shortlived": re.compile(r"f(\d+)$"),
    "unwatched-execs": re.compile(r"(true)$"),
    "build": re.compile(r"(.+)$"),
}
TAR_DIR_RE = re.compile(r"(?:\./)?(d\d{3})/?$")


class Obs:
    """Per operation kind, the set of files (keys) it was seen for; exec is a count. With
    per_file (reopen: key -> opens the file got), opens are counted per file, one per record
    carrying the bit, capped at that file's opens."""

    def __init__(self, wl, dirpath, per_file=None):
        self.wl = wl
        self.prefix = dirpath.rstrip("/") + "/"
        self.sets = {k: set() for k in ALL_OPS}
        self.exec_count = 0
        self.per_file = per_file
        self.open_count = {}

    def key(self, path):
        if not path or not path.startswith(self.prefix):
            return None
        rel = path[len(self.prefix):]
        m = KEY_RE[self.wl].match(rel)
        return m.group(1) if m else None

    def dirkey(self, path):
        if self.wl != "tar" or not path or not path.startswith(self.prefix):
            return None
        m = TAR_DIR_RE.match(path[len(self.prefix):])
        return m.group(1) if m else None

    def note(self, path, ops, is_dir=False, old_path=None):
        if is_dir:
            k = self.dirkey(path)
            if k is not None and "create" in ops:
                self.sets["mkdir"].add(k)
            return
        k = self.key(path)
        if k is None and old_path:
            k = self.key(old_path)
        if k is None:
            return
        if self.wl == "execs":
            if "exec" in ops:
                self.exec_count += 1
            return
        for op in ops:
            if op != "exec":
                self.sets[op].add(k)
        if self.per_file is not None and "open" in ops:
            self.open_count[k] = self.open_count.get(k, 0) + 1

    def counts(self):
        c = {k: len(v) for k, v in self.sets.items()}
        c["exec"] = self.exec_count
        if self.per_file is not None:
            c["open"] = sum(min(v, self.per_file(k)) for k, v in self.open_count.items())
        return c


def fanotifyd_ops(bits):
    ops = set()
    if "OPEN" in bits or "OPEN_PERM" in bits:
        ops.add("open")
    if "OPEN_EXEC" in bits or "OPEN_EXEC_PERM" in bits:
        ops.add("exec")
    if "CREATE" in bits:
        ops.add("create")
    if "MODIFY" in bits:
        ops.add("modify")
    if "CLOSE_WRITE" in bits:
        ops.add("close_write")
    if bits & {"RENAME", "MOVED_FROM", "MOVED_TO"}:
        ops.add("rename")
    if "DELETE" in bits:
        ops.add("delete")
    return ops


def figures_fanotifyd(a, r, obs):
    records = overflow = null_path = exe_known = 0
    wl_records = wl_exe_known = write_total = write_right = 0
    alerts = dropped = 0
    try:
        f = open(a.out, "rb")
    except FileNotFoundError:
        r["note"] = "no output file"
        return
    with f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                r["bad_lines"] = r.get("bad_lines", 0) + 1
                continue
            t = rec.get("type")
            if t == "alert":
                alerts += 1
                if rec.get("kind") == "overflow":
                    overflow += 1
                continue
            if t == "dropped":
                dropped += rec.get("count", 0)
                continue
            if t != "event":
                continue
            path = rec.get("path")
            if a.sentinel and path and os.path.basename(path).startswith(".sentinel-"):
                continue
            records += 1
            if path is None:
                null_path += 1
            if rec.get("exe") is not None:
                exe_known += 1
            bits = set((rec.get("events") or "").split(","))
            ops = fanotifyd_ops(bits)
            obs.note(path, ops, bool(rec.get("is_dir")), rec.get("old_path"))
            if obs.key(path) is not None or obs.key(rec.get("old_path")) is not None:
                wl_records += 1
                if rec.get("exe") is not None:
                    wl_exe_known += 1
                if bits & {"MODIFY", "CLOSE_WRITE"}:
                    write_total += 1
                    if rec.get("exe") == a.sh_exe:
                        write_right += 1
    r.update(records=records, overflow=overflow, null_path=null_path, exe_known=exe_known,
             alerts=alerts, dropped=dropped, wl_records=wl_records, wl_exe_known=wl_exe_known,
             write_total=write_total, write_right=write_right)
    if a.stats_file:
        st = last_stats(a.stats_file)
        if st:
            r["stats"] = st
            r["overflow_stats"] = st.get("overflows")


def parse_kv(path):
    out = {}
    try:
        with open(path) as f:
            for tok in f.read().split():
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    try:
                        out[k] = int(v)
                    except ValueError:
                        pass
    except FileNotFoundError:
        pass
    return out


def figures_ref(a, r, exp):
    c = parse_kv(a.out)
    if not c:
        r["note"] = "no counters from the reference loop"
        return
    r["records"] = c.get("events", 0)
    r["overflow"] = c.get("overflow", 0)
    r["ref_counters"] = c
    if a.listener == "ref-perm":
        got = {"open": c.get("open_perm", 0), "exec": c.get("open_exec_perm", 0)}
    else:
        create = c.get("create", 0)
        got = {"open": c.get("open", 0), "exec": c.get("open_exec", 0),
               "modify": c.get("modify", 0), "close_write": c.get("close_write", 0),
               "rename": c.get("rename", 0), "delete": c.get("delete", 0)}
        # Counters carry no paths: directory creations are told apart only by count.
        mk = exp.get("mkdir", 0)
        got["mkdir"] = min(mk, c.get("ondir", 0), create)
        got["create"] = create - got["mkdir"]
    return got


FATRACE_RE = re.compile(r"^(.*?)\((\d+)\): ([A-Z+<>]+) +(.*)$")


def figures_fatrace(a, r, obs):
    records = 0
    try:
        f = open(a.out, errors="surrogateescape")
    except FileNotFoundError:
        r["note"] = "no output file"
        return
    with f:
        for line in f:
            m = FATRACE_RE.match(line.rstrip("\n"))
            if not m:
                continue
            path = m.group(4)
            if path == "(deleted)":
                # fatrace prints no name for a file unlinked before it read the event.
                r["anon_records"] = r.get("anon_records", 0) + 1
                continue
            if path.endswith(" (deleted)"):
                path = path[:-len(" (deleted)")]
            if not (path + "/").startswith(obs.prefix):
                continue
            records += 1
            t = m.group(3)
            ops = set()
            if "O" in t:
                ops.add("exec" if a.workload == "execs" else "open")
            if "W" in t:
                ops.add("modify")
            if "C" in t and a.workload in ("churn", "tar", "shortlived"):
                ops.add("close_write")
            obs.note(path, ops)
    r["records"] = records + r.get("anon_records", 0)


def figures_inotify(a, r, obs):
    records = 0
    try:
        f = open(a.out, errors="surrogateescape")
    except FileNotFoundError:
        r["note"] = "no output file"
        return
    with f:
        for line in f:
            if "Q_OVERFLOW" in line:
                r["overflow"] = r.get("overflow", 0) + 1
                continue
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) < 2:
                continue
            w, ev = parts[0], parts[1]
            name = parts[2] if len(parts) > 2 else ""
            path = w + name
            if not (path + "/").startswith(obs.prefix):
                continue
            records += 1
            bits = set(ev.split(","))
            ops = set()
            if "OPEN" in bits:
                ops.add("exec" if a.workload == "execs" else "open")
            for k, op in (("CREATE", "create"), ("MODIFY", "modify"),
                          ("CLOSE_WRITE", "close_write"), ("MOVED_FROM", "rename"),
                          ("MOVED_TO", "rename"), ("DELETE", "delete")):
                if k in bits:
                    ops.add(op)
            obs.note(path.rstrip("/"), ops, "ISDIR" in bits)
    r["records"] = records


def parse_sets(sets):
    r = {}
    for kv in sets or []:
        k, v = kv.split("=", 1)
        try:
            r[k] = int(v)
        except ValueError:
            try:
                r[k] = float(v)
            except ValueError:
                r[k] = v
    return r


def cmd_run(a):
    r = parse_sets(a.set)
    exp = expected_ops(a.workload, a.n, a.tar_dirs, a.tar_files)
    caps = CAPS[a.caps or a.listener]
    # What the listener can be asked about: with --allow-cache the first two opens of a file.
    asked = cached_expected(a.workload, exp, a.n, a.files) if a.allow_cache else exp
    per_file = None
    if a.workload == "reopen":
        opens = reopen_opens(a.n, a.files)
        per_file = (lambda k: min(2, opens(k))) if a.allow_cache else opens
    obs = Obs(a.workload, a.dir, per_file)
    got = None
    if a.listener == "fanotifyd":
        figures_fanotifyd(a, r, obs)
    elif a.listener in ("ref-fid", "ref-perm"):
        got = figures_ref(a, r, exp)
    elif a.listener == "fatrace":
        figures_fatrace(a, r, obs)
    elif a.listener == "inotify":
        figures_inotify(a, r, obs)
    if got is None and a.listener != "none":
        got = obs.counts()
    if got is not None:
        want = {k: v for k, v in asked.items() if k in caps}
        seen = {k: min(got.get(k, 0), v) for k, v in want.items()}
        r["ops_expected"] = sum(want.values())
        r["ops_seen"] = sum(seen.values())
        r["ops_by_kind"] = {k: [seen[k], want[k]] for k in want}
        r["ops_blind"] = sorted(k for k in exp if k not in caps)
    r["ops_total"] = sum(exp.values())
    if a.allow_cache:
        # Operations the kernel allowed itself (no event, no record), by design.
        r["ops_cached_away"] = sum(exp.values()) - sum(asked.values())
    print(json.dumps(r, sort_keys=True))
    return 0


# --- T5: one long run -------------------------------------------------------------------------

FLAT_POINTS = (10, 25, 50, 75, 100)
FLAT_GROWTH_KB = 256  # "flat": VmRSS grows by at most this from the 25% sample to the end
FLAT_EVENTS = 1000000


def cmd_flatrow(a):
    """The run spans the workload's start (end_mono - time_s) to the moment the daemon had
    caught up (end_mono + drain_s). RSS at p% = the last sample taken by p% of that span;
    at 100% the last sample of all, taken once the daemon had caught up (finding the
    sentinel in a large output takes the helper a while; the daemon is idle by then)."""
    r = parse_sets(a.set)
    samples = []
    try:
        with open(a.samples) as f:
            for line in f:
                p = line.split()
                if len(p) == 3:
                    samples.append((float(p[0]), int(p[1]), int(p[2])))
    except FileNotFoundError:
        pass
    if a.stats_file:
        st = last_stats(a.stats_file)
        if st:
            for k in ("events", "records", "perm_answered", "overflows", "dropped_records",
                      "out_buf_kib", "out_backlog_max_kib"):
                if k in st:
                    r["stats_" + k] = st[k]
    if not samples:
        r.setdefault("note", "no RSS samples")
        print(json.dumps(r, sort_keys=True))
        return 0
    def num(k):
        v = r.get(k)
        return v if isinstance(v, (int, float)) else None
    end = samples[-1][0]
    start = samples[0][0]
    if num("end_mono") is not None and num("time_s") is not None:
        start = max(start, r["end_mono"] - r["time_s"])
        end = min(end, r["end_mono"] + (num("drain_s") or 0.0))
    at = {}
    for pct in FLAT_POINTS:
        t = start + (end - start) * pct / 100.0
        before = [x for x in samples if x[0] <= t + 1e-6]
        at[str(pct)] = (before[-1] if before else samples[0])[1]
    at["100"] = samples[-1][1]
    r["rss_at_kb"] = at
    r["rss_max_kb"] = max(x[1] for x in samples)
    r["hwm_kb"] = max([x[2] for x in samples] + [r.get("hwm_kb") or 0])
    r["growth_kb"] = at["100"] - at["25"]
    r["n_samples"] = len(samples)
    r["span_s"] = round(end - start, 3)
    r["samples"] = [[round(x[0] - start, 2), x[1]] for x in samples]
    print(json.dumps(r, sort_keys=True))
    return 0


def flat_line(row):
    """The T5 flatness line of one flatrow row."""
    label = CONFIG_LABEL.get(row.get("config"), row.get("config"))
    if row.get("status") != "ok" or "rss_at_kb" not in row:
        return "- T5 flatness, %s: not measured (%s)" % (
            label, row.get("note") or row.get("status"))
    at = row["rss_at_kb"]
    ev = row.get("stats_events")
    g = row["growth_kb"]
    flat = g <= FLAT_GROWTH_KB
    hwm = row["hwm_kb"]
    line = ("- T5 flatness, %s: churn of %d files, %s events read by the daemon in %.1f s; RSS "
            "%d KiB at 25%% of the run, %d KiB at the end: %+d KiB (%s); peak VmHWM %d KiB "
            "(≤ 4096 KiB: %s)" % (
                label, row.get("n_files", 0), "{:,}".format(ev) if ev is not None else "?",
                row["span_s"], at["25"], at["100"], g,
                ("flat, ≤ %d KiB" % FLAT_GROWTH_KB) if flat
                else ("grows by %d KiB, more than %d KiB" % (g, FLAT_GROWTH_KB)),
                hwm, "yes" if hwm <= 4096 else "no"))
    if row.get("stats_out_buf_kib") is not None:
        line += ("; the output queue's two buffers, which grow to the largest backlog (bounded "
                 "by the 16 MiB queue) and keep that size: %d KiB at the end, largest backlog "
                 "%d KiB" % (row["stats_out_buf_kib"], row.get("stats_out_backlog_max_kib", 0)))
    if ev is None or ev < FLAT_EVENTS:
        line += ("; fewer than 1,000,000 events: the target (bounded over a 1,000,000-event "
                 "run) is not claimed by this run")
    else:
        line += "; bounded over ≥ 1,000,000 events (target): %s" % (
            "met" if flat and hwm <= 4096 else "MISSED")
    return line


def cmd_flatsummary(a):
    for line in sys.stdin:
        if line.strip():
            print("  " + flat_line(json.loads(line))[2:])
    return 0


def flat_table(flat_rows):
    lines = ["| configuration | files | events | run s | " +
             " | ".join("RSS KiB at %d%%" % p for p in FLAT_POINTS) +
             " | max sampled | VmHWM KiB | growth 25%→100% | samples |",
             "|" + "---|" * (8 + len(FLAT_POINTS))]
    for row in flat_rows:
        label = CONFIG_LABEL.get(row.get("config"), row.get("config"))
        if "rss_at_kb" not in row:
            lines.append("| %s | %s |%s" % (label, row.get("status"),
                                            " |" * (6 + len(FLAT_POINTS))))
            continue
        ev = row.get("stats_events")
        lines.append("| %s | %d | %s | %.1f | %s | %d | %d | %+d KiB | %d |" % (
            label, row.get("n_files", 0), "{:,}".format(ev) if ev is not None else "-",
            row["span_s"], " | ".join(str(row["rss_at_kb"][str(p)]) for p in FLAT_POINTS),
            row["rss_max_kb"], row["hwm_kb"], row["growth_kb"], row["n_samples"]))
    return "\n".join(lines)


# --- report ---------------------------------------------------------------------------------

CONFIG_LABEL = {
    "none": "no listener",
    "ref-fid": "ref fid_loop",
    "ref-perm": "ref perm_loop",
    "fd-observe": "fanotifyd observe (FID)",
    "fd-observe-quiet": "fanotifyd observe, --exec-hold-ms 0",
    "fd-nofid": "fanotifyd --no-fid",
    "fd-perm": "fanotifyd --perm",
    "fd-perm-nospin": "fanotifyd --perm --spin-us 0",
    "fd-perm-cache": "fanotifyd --perm --allow-cache",
    "fd-policy": "fanotifyd --perm policy",
    "fd-policy-nospin": "fanotifyd --perm policy --spin-us 0",
    "fd-policy-cache": "fanotifyd --perm policy --allow-cache",
    "fd-policy-subs": "fanotifyd --perm policy +8 subs",
    "fd-policy-burst": "fanotifyd --perm policy, bursts per process",
    "fd-policy-scopes": "fanotifyd --perm policy, bursts per process,parent,session,uid",
    "fatrace": "fatrace -c",
    "inotifywait": "inotifywait -m -r",
    "fapolicyd": "fapolicyd (permissive)",
}
# Which reference each configuration is held against ("vs ref" column).
# fanotifyd's --perm configurations.
PERM_CONFIGS = ("fd-perm", "fd-perm-nospin", "fd-perm-cache", "fd-policy", "fd-policy-nospin",
                "fd-policy-cache", "fd-policy-subs", "fd-policy-burst", "fd-policy-scopes")
REF_OF = {"fd-observe": "ref-fid", "fd-observe-quiet": "ref-fid", "fd-nofid": "ref-fid"}
REF_OF.update((c, "ref-perm") for c in PERM_CONFIGS)
# fapolicyd answers OPEN_PERM and OPEN_EXEC_PERM like the allow-all loop.
REF_OF["fapolicyd"] = "ref-perm"
WORKLOADS = ["openclose", "reopen", "churn", "tar", "execs", "shortlived", "unwatched-execs",
             "build"]
# Issue 13's goals, as ratios to none in one run: (workload, configurations, bound).
I13_GOALS = (("unwatched-execs", ("fd-observe", "fd-perm", "fd-policy", "fd-policy-cache"), 1.02),
             ("execs", ("fd-observe", "fd-observe-quiet", "fd-perm"), 1.05),
             ("shortlived", ("fd-observe", "fd-observe-quiet", "fd-perm"), 1.05),
             ("build", ("fd-policy-cache",), 1.10))
# ... and --perm with the canary policy against plain --perm, in one run.
I13_POLICY = (("openclose", "churn", "tar"), "fd-policy", "fd-perm", 1.10)
# Daemon counters of the T6 levers (stats record), medians over the repetitions.
LEVER_KEYS = ("perm_answered", "spins", "spin_hits", "cache_marks", "cache_errors",
              "cache_flushes")
# T6: a lever "wins" when it changes the time by more than this, either way.
LEVER_TIE = 0.03


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="%.3f", none="-"):
    return none if x is None else spec % x


def summarize(rows):
    """(workload, config) -> summary dict, in the order first seen."""
    groups = {}
    for row in rows:
        groups.setdefault((row["workload"], row["config"]), []).append(row)
    out = {}
    for key, rs in groups.items():
        ok = [x for x in rs if x.get("status") == "ok"]
        s = {"n_runs": len(rs), "n_ok": len(ok)}
        bad = [x.get("status") for x in rs if x.get("status") != "ok"]
        s["status"] = "ok" if ok and not bad else (bad[0] if bad else "ok")
        times = [x["time_s"] for x in ok if "time_s" in x]
        s["times"] = times
        s["median"] = med(times)
        s["records"] = med([x.get("records") for x in ok])
        s["ops_total"] = ok[0].get("ops_total") if ok else None
        s["cached_away"] = med([x.get("ops_cached_away") for x in ok])
        exp = sum(x.get("ops_expected", 0) for x in ok)
        seen = sum(x.get("ops_seen", 0) for x in ok)
        s["loss"] = (1 - seen / exp) if exp else None
        s["loss_max"] = max((1 - x["ops_seen"] / x["ops_expected"]) for x in ok
                            if x.get("ops_expected")) if exp else None
        kinds = {}
        for x in ok:
            for k, (a_, b_) in (x.get("ops_by_kind") or {}).items():
                kk = kinds.setdefault(k, [0, 0])
                kk[0] += a_
                kk[1] += b_
        s["kinds_lost"] = {k: 1 - v[0] / v[1] for k, v in kinds.items() if v[1] and v[0] < v[1]}
        s["blind"] = ok[0].get("ops_blind") if ok else []
        s["overflow"] = sum((x.get("overflow") or 0) for x in ok)
        s["dropped"] = sum((x.get("dropped") or 0) for x in ok)
        wt = sum(x.get("write_total", 0) for x in ok)
        wr = sum(x.get("write_right", 0) for x in ok)
        wk = sum(x.get("wl_exe_known", 0) for x in ok)
        wn = sum(x.get("wl_records", 0) for x in ok)
        s["exe_right"] = wr / wt if wt else None
        s["exe_known"] = wk / wn if wn else None
        s["cpu"] = med([x.get("cpu_s") for x in ok])
        s["subs_cpu"] = med([x.get("subs_cpu_s") for x in ok])
        s["fapo_allowed"] = med([x.get("fapo_allowed") for x in ok])
        s["hwm"] = max([x.get("hwm_kb") or 0 for x in ok] or [0]) or None
        s["rss"] = med([x.get("rss_kb") for x in ok])
        s["drain"] = med([x.get("drain_s") for x in ok])
        s["drain_le"] = med([x.get("drain_le") for x in ok])
        st = [x["stats"] for x in ok if x.get("stats")]
        if st and any(t.get("perm_answered") for t in st):
            s["lat"] = (med([t.get("answer_us_p50") for t in st]),
                        med([t.get("answer_us_p99") for t in st]),
                        max(t.get("answer_us_max", 0) for t in st))
        else:
            s["lat"] = None
        s["ctr"] = {k: med([t.get(k) for t in st]) for k in LEVER_KEYS} if st else None
        s["stats_dropped"] = sum(t.get("dropped_records", 0) for t in st)
        s["sock_dropped"] = sum(t.get("sock_dropped_clients", 0) for t in st)
        out[key] = s
    return out


def table(rows):
    summ = summarize(rows)
    configs = []
    for row in rows:
        if row["config"] not in configs:
            configs.append(row["config"])
    wls = [w for w in WORKLOADS if any(k[0] == w for k in summ)]
    hdr = ("| workload | configuration | median s | × none | vs ref | records | loss | ovf "
           "| exe known | CPU s | RSS peak/steady KiB | drain s | answer µs p50/p99/max |")
    lines = [hdr, "|" + "---|" * 13]
    for w in wls:
        base = summ.get((w, "none"), {}).get("median")
        ratios = {}
        for c in configs:
            s = summ.get((w, c))
            if s and s["median"] is not None and base:
                ratios[c] = s["median"] / base
        ops = next((v["ops_total"] for (w2, c2), v in summ.items()
                    if w2 == w and v.get("ops_total")), None)
        first = True
        for c in configs:
            s = summ.get((w, c))
            if not s:
                continue
            wlabel = ("%s (%d ops)" % (w, ops)) if (first and ops) else w
            first = False
            label = CONFIG_LABEL.get(c, c)
            if s["n_ok"] == 0:
                lines.append("| %s | %s | %s |%s" % (wlabel, label, s["status"], " |" * 10))
                continue
            ratio = ratios.get(c)
            vs = "-"
            ref = REF_OF.get(c)
            if ref and ratio and ratios.get(ref):
                vs = "%.2f× %s" % (ratio / ratios[ref], "fid" if ref == "ref-fid" else "perm")
            if c == "none":
                loss = "-"
            elif s["loss"] is None:
                loss = "-"
            else:
                loss = "%.2f%%" % (100 * s["loss"])
                if s["loss_max"] and s["loss_max"] > s["loss"] + 1e-9:
                    loss += " (max %.2f%%)" % (100 * s["loss_max"])
                if s["cached_away"]:
                    loss += " of first two opens"
            exe = "-"
            if s["exe_right"] is not None and w == "shortlived":
                exe = "%.1f%% (sh %.1f%%)" % (100 * s["exe_known"], 100 * s["exe_right"])
            elif s["exe_known"] is not None and w == "shortlived":
                exe = "%.1f%%" % (100 * s["exe_known"])
            if s["lat"]:
                # Exact below 1024 µs; above, the upper end of a power-of-two bucket.
                lat = "%d / %d / %d" % s["lat"]
            elif c in ("ref-perm", "fapolicyd"):
                lat = "n/a (no counters)"
            elif c in PERM_CONFIGS:
                lat = "n/a (no stats record)"
            else:
                lat = "-"
            cpu = fmt(s["cpu"], "%.2f")
            if s["subs_cpu"]:
                cpu += " (+%.2f subs)" % s["subs_cpu"]
            rss = "-" if not s["hwm"] else "%d / %d" % (s["hwm"], s["rss"] or 0)
            if c in ("none", "ref-perm", "fapolicyd"):
                drain = "-"
            elif s["drain"] is not None and (s["drain_le"] is None or s["drain"] > s["drain_le"]):
                drain = "%.2f" % s["drain"]
            elif s["drain_le"] is not None:
                drain = "≤%.2f" % s["drain_le"]
            else:
                drain = "-"
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                wlabel, label, fmt(s["median"]), fmt(ratio, "%.2f×"), vs,
                fmt(s["records"], "%d") if c != "none" else "-", loss,
                s["overflow"] if c != "none" else "-", exe, cpu if c != "none" else "-", rss,
                drain, lat))
    return "\n".join(lines), summ, configs, wls


def levers_table(summ, configs, wls):
    """The daemon's counters of the T6 levers, for the --perm configurations."""
    lines = ["| workload | configuration | perm answered | spins | spin hits (hits/spins) "
             "| cache marks | cache errors | cache flushes |", "|" + "---|" * 8]
    for w in wls:
        for c in configs:
            s = summ.get((w, c))
            if c not in PERM_CONFIGS or not s or not s.get("ctr"):
                continue
            t = s["ctr"]

            def n(k):
                return "-" if t.get(k) is None else "%d" % t[k]
            hits = n("spin_hits")
            if t.get("spins"):
                hits += " (%.0f%%)" % (100.0 * (t.get("spin_hits") or 0) / t["spins"])
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                w, CONFIG_LABEL.get(c, c), n("perm_answered"), n("spins"), hits,
                n("cache_marks"), n("cache_errors"), n("cache_flushes")))
    return "\n".join(lines) if len(lines) > 2 else ""


def targets(summ, wls, flat_rows=()):
    out = []

    def ratio(w, c):
        b = summ.get((w, "none"), {}).get("median")
        m = summ.get((w, c), {}).get("median")
        return m / b if (b and m) else None

    def verdict(ok):
        return "met" if ok else "MISSED"

    for w in ("openclose", "churn", "tar"):
        r, ref = ratio(w, "fd-observe"), ratio(w, "ref-fid")
        s = summ.get((w, "fd-observe"))
        if r and ref and s:
            q = r / ref
            out.append("- T1 %s: observe %.2f× vs fid_loop %.2f× = %.2f× the reference "
                       "(target ≤ 1.10×: %s); loss %.2f%%, overflow alerts %d (target 0 / 0: %s)"
                       % (w, r, ref, q, verdict(q <= 1.10), 100 * (s["loss"] or 0),
                          s["overflow"], verdict((s["loss"] or 0) == 0 and s["overflow"] == 0)))
    for w in wls:
        r, ref, rp = ratio(w, "fd-perm"), ratio(w, "ref-perm"), ratio(w, "fd-policy")
        if r and ref:
            line = ("- T2 %s: --perm %.2f× vs perm_loop %.2f× = %.2f× (target ≤ 1.20×: %s)"
                    % (w, r, ref, r / ref, verdict(r / ref <= 1.20)))
            if rp:
                line += "; policy %.2f× = %.2f× plain --perm (target ≤ 1.10×: %s)" % (
                    rp, rp / r, verdict(rp / r <= 1.10))
            out.append(line)
    p99s = []
    for (w, c), s in summ.items():
        if s.get("lat") and c in PERM_CONFIGS:
            p99s.append((s["lat"][1], w, c))
    if p99s:
        worst = max(p99s)
        out.append("- T3 answer latency p99 (daemon's histogram, read to answer): worst %d µs "
                   "(%s, %s%s), best %d µs (target ≤ 20 µs: %s)"
                   % (worst[0], worst[1], CONFIG_LABEL[worst[2]],
                      "; the upper end of its power-of-two bucket" if worst[0] >= 1024 else "",
                      min(p99s)[0], verdict(worst[0] <= 20)))
    for c in ("fd-observe", "fd-nofid") + PERM_CONFIGS:
        s = summ.get(("shortlived", c))
        if s and s.get("exe_right") is not None:
            out.append("- T4 shortlived, %s: %.1f%% of write records with exe = /bin/sh's "
                       "(target ≥ 99%%: %s)" % (CONFIG_LABEL[c], 100 * s["exe_right"],
                                                verdict(s["exe_right"] >= 0.99)))
    hw = [(s["hwm"], w, c) for (w, c), s in summ.items() if c.startswith("fd-") and s.get("hwm")]
    if hw:
        m = max(hw)
        out.append("- T5 peak RSS (VmHWM) of fanotifyd: max %d KiB (%s, %s) (target ≤ 4096 KiB: "
                   "%s); %s"
                   % (m[0], m[1], CONFIG_LABEL[m[2]], verdict(m[0] <= 4096),
                      "flatness: the lines below" if flat_rows
                      else "flatness not measured by this run (FLAT=0)"))
    out.extend(flat_line(row) for row in flat_rows)
    out.extend(t6_lines(summ, wls, ratio, verdict))
    for w, cfgs, bound in I13_GOALS:
        parts = []
        for c in cfgs:
            r = ratio(w, c)
            if r:
                parts.append("%s %.2f× (%s)" % (CONFIG_LABEL.get(c, c), r, verdict(r <= bound)))
        peers = ["%s %.2f×" % (CONFIG_LABEL.get(c, c), ratio(w, c))
                 for c in ("fd-observe", "fd-perm", "fatrace", "inotifywait", "fapolicyd")
                 if c not in cfgs and ratio(w, c)]
        if parts:
            cpu = ["%s %.2f s" % (CONFIG_LABEL.get(c, c), summ[(w, c)]["cpu"])
                   for c in cfgs + ("fd-observe", "fd-perm", "fatrace", "fapolicyd")
                   if summ.get((w, c), {}).get("cpu") is not None]
            out.append("- issue 13 %s: × none, goal ≤ %.2f×: %s%s; listener CPU (median): %s" % (
                w, bound, ", ".join(parts),
                ("; beside " + ", ".join(dict.fromkeys(peers))) if peers else "",
                ", ".join(dict.fromkeys(cpu)) or "-"))
    wls13, pol, plain, bound = I13_POLICY
    parts = ["%s %.2f× (%s)" % (w, ratio(w, pol) / ratio(w, plain),
                                 verdict(ratio(w, pol) / ratio(w, plain) <= bound))
             for w in wls13 if ratio(w, pol) and ratio(w, plain)]
    if parts:
        out.append("- issue 13 %s ÷ %s, goal ≤ %.2f×: %s" % (
            CONFIG_LABEL.get(pol, pol), CONFIG_LABEL.get(plain, plain), bound, ", ".join(parts)))
    return out


def t6_lines(summ, wls, ratio, verdict):
    """T6: each lever against the same configuration without it, and the best --perm
    configuration against the allow-all loop; all ratios of × none in this run."""
    out = []
    wins = {"spin": [], "no spin": [], "cache": [], "no cache": [], "below": []}

    def lever(q, on, off):
        if q < 1 - LEVER_TIE:
            return on + " wins"
        if q > 1 + LEVER_TIE:
            return off + " wins"
        return "even, within ±%d%%" % round(100 * LEVER_TIE)

    for w in wls:
        parts = []
        # (lever, configuration with it, without it, label, name on / off, text)
        levers = (
            ("spin", "fd-perm", "fd-perm-nospin", "--perm", "spin", "no spin",
             "%s %.2f× vs --spin-us 0 %.2f× = %.2f× (%s)"),
            ("spin", "fd-policy", "fd-policy-nospin", "policy", "spin", "no spin",
             "%s %.2f× vs --spin-us 0 %.2f× = %.2f× (%s)"),
            ("cache", "fd-perm-cache", "fd-perm", "--perm", "cache", "no cache",
             "%s --allow-cache %.2f× vs without %.2f× = %.2f× (%s)"),
            ("cache", "fd-policy-cache", "fd-policy", "policy", "cache", "no cache",
             "%s --allow-cache %.2f× vs without %.2f× = %.2f× (%s)"),
        )
        found = {"spin": [], "cache": []}
        for kind, on_cfg, off_cfg, name, on, off, text in levers:
            r1, r0 = ratio(w, on_cfg), ratio(w, off_cfg)
            if r1 and r0:
                v = lever(r1 / r0, on, off)
                found[kind].append(text % (name, r1, r0, r1 / r0, v))
                if "wins" in v:
                    wins[v[:-5]].append("%s %s" % (w, name))
        for kind in ("spin", "cache"):
            if found[kind]:
                parts.append("%s lever: %s" % (kind, ", ".join(found[kind])))
        ref = ratio(w, "ref-perm")
        best = min(((ratio(w, c), c) for c in PERM_CONFIGS if ratio(w, c)), default=None)
        if ref and best:
            q = best[0] / ref
            parts.append("best --perm configuration %s %.2f× vs perm_loop %.2f× = %.2f× "
                         "(target < 1.00×, below the allow-all loop: %s)" % (
                             CONFIG_LABEL[best[1]], best[0], ref, q, verdict(q < 1.0)))
            if q < 1.0:
                wins["below"].append(w)
        if parts:
            out.append("- T6 %s: %s" % (w, "; ".join(parts)))
    if out:
        def where(k):
            return ", ".join(wins[k]) or "nowhere"
        out.append("- T6 summary: the spin wins on %s, loses on %s; the allow cache wins on %s, "
                   "loses on %s (a change within ±%d%% is even); a --perm configuration is "
                   "below the allow-all loop on %s" % (
                       where("spin"), where("no spin"), where("cache"), where("no cache"),
                       round(100 * LEVER_TIE), where("below")))
    return out


def cmd_report(a):
    rows = []
    flat_rows = []
    with open(a.raw) as f:
        for line in f:
            line = line.strip()
            if line:
                row = json.loads(line)
                (flat_rows if row.get("kind") == "flat" else rows).append(row)
    tab, summ, configs, wls = table(rows)
    print(tab)
    lev = levers_table(summ, configs, wls)
    if lev:
        print()
        print(lev)
    ftab = flat_table(flat_rows) if flat_rows else ""
    if ftab:
        print()
        print(ftab)
    tg = targets(summ, wls, flat_rows)
    if tg:
        print()
        print("\n".join(tg))
    if not a.md:
        return 0
    meta = ""
    if a.meta:
        with open(a.meta) as f:
            meta = f.read()
    notes = []
    summ_rows = {}
    for row in rows:
        summ_rows.setdefault((row["workload"], row["config"]), []).append(row)
    for (w, c), s in summ.items():
        if s["kinds_lost"]:
            notes.append("%s / %s: lost by kind: %s" % (
                w, CONFIG_LABEL.get(c, c),
                ", ".join("%s %.2f%%" % (k, 100 * v) for k, v in sorted(s["kinds_lost"].items()))))
        if s["stats_dropped"] or s["sock_dropped"] or s["dropped"]:
            notes.append("%s / %s: output records dropped %d, subscribers disconnected %d" % (
                w, CONFIG_LABEL.get(c, c), s["stats_dropped"] or s["dropped"],
                s["sock_dropped"]))
        lost = sum(1 for x in summ_rows.get((w, c), []) if x.get("sentinel_lost"))
        if lost:
            notes.append("%s / %s: the sentinel's records were lost in %d run(s) (a second "
                         "sentinel arrived; drain not measured there)" % (
                             w, CONFIG_LABEL.get(c, c), lost))
        if s.get("fapo_allowed") is not None:
            notes.append("%s / %s: %d permission events answered (median; \"Allowed "
                         "accesses\" of its usage report at exit, start-up and stop included)"
                         % (w, CONFIG_LABEL.get(c, c), s["fapo_allowed"]))
        if s["n_ok"] < s["n_runs"]:
            notes.append("%s / %s: %d of %d runs failed or unavailable: %s" % (
                w, CONFIG_LABEL.get(c, c), s["n_runs"] - s["n_ok"], s["n_runs"], s["status"]))
    times = ["| workload | configuration | times s (run order) |", "|---|---|---|"]
    for (w, c), s in summ.items():
        times.append("| %s | %s | %s |" % (w, CONFIG_LABEL.get(c, c),
                                            " ".join("%.3f" % t for t in s["times"])))
    with open(a.md, "w") as f:
        f.write(meta)
        f.write("\n## Results\n\n")
        f.write(tab + "\n")
        if lev:
            f.write("\n### Permission levers: the daemon's counters (medians)\n\n" + lev + "\n")
        if ftab:
            f.write("\n### T5: RSS over one long run\n\n" + ftab + "\n")
        if tg:
            f.write("\n## Targets of issues 5 and 13\n\n" + "\n".join(tg) + "\n")
        if notes:
            f.write("\n## Per-kind loss and failures (generated)\n\n")
            f.write("\n".join("- " + n for n in notes) + "\n")
        if a.notes and os.path.exists(a.notes):
            with open(a.notes) as nf:
                f.write("\n" + nf.read())
        f.write("\n## Every repetition\n\n" + "\n".join(times) + "\n")
    return 0


def main():
    p = argparse.ArgumentParser()
    sp = p.add_subparsers(dest="cmd", required=True)
    q = sp.add_parser("waitfor")
    q.add_argument("file")
    q.add_argument("path")
    q.add_argument("events", nargs="+")
    q.add_argument("--timeout", type=float, default=60)
    q.add_argument("--since-real", type=float, help="CLOCK_REALTIME seconds; print drain_s")
    q = sp.add_parser("idle")
    q.add_argument("pid", type=int)
    q.add_argument("--quiet-ms", type=float, default=150)
    q.add_argument("--timeout", type=float, default=120)
    q.add_argument("--since", type=float, help="CLOCK_MONOTONIC seconds; print drain_s")
    q = sp.add_parser("waitstats")
    q.add_argument("file")
    q.add_argument("count", type=int)
    q.add_argument("--timeout", type=float, default=10)
    q = sp.add_parser("statsfield")
    q.add_argument("file")
    q.add_argument("key")
    q = sp.add_parser("procstat")
    q.add_argument("pid", type=int, nargs="+")
    q = sp.add_parser("sample")
    q.add_argument("pid", type=int)
    q.add_argument("--out", required=True)
    q.add_argument("--interval", type=float, default=0.25)
    q = sp.add_parser("flatrow")
    q.add_argument("--samples", required=True)
    q.add_argument("--stats-file")
    q.add_argument("--set", action="append")
    sp.add_parser("flatsummary")
    q = sp.add_parser("run")
    q.add_argument("--listener", required=True,
                   choices=["none", "ref-fid", "ref-perm", "fanotifyd", "fatrace", "inotify",
                            "fapolicyd"])
    q.add_argument("--caps")
    q.add_argument("--workload", required=True, choices=WORKLOADS)
    q.add_argument("--dir", required=True)
    q.add_argument("--n", type=int, default=0)
    q.add_argument("--files", type=int, default=1000, help="reopen: files the opens cycle over")
    q.add_argument("--allow-cache", action="store_true",
                   help="the daemon ran with --allow-cache: expect the first two opens of a file only")
    q.add_argument("--tar-dirs", type=int, default=0)
    q.add_argument("--tar-files", type=int, default=0)
    q.add_argument("--out")
    q.add_argument("--stats-file")
    q.add_argument("--sentinel", action="store_true")
    q.add_argument("--sh-exe", default=os.path.realpath("/bin/sh"))
    q.add_argument("--set", action="append")
    q = sp.add_parser("report")
    q.add_argument("raw")
    q.add_argument("--md")
    q.add_argument("--meta")
    q.add_argument("--notes")
    a = p.parse_args()
    return {"waitfor": cmd_waitfor, "idle": cmd_idle, "waitstats": cmd_waitstats,
            "statsfield": cmd_statsfield, "procstat": cmd_procstat, "sample": cmd_sample,
            "run": cmd_run, "flatrow": cmd_flatrow, "flatsummary": cmd_flatsummary,
            "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
