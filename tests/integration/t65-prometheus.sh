# prometheus_file PATH: with every stats record the same counters in Prometheus text format,
# written to PATH.tmp.PID and renamed onto PATH (never seen half written, no temporary file
# left), read for real by prometheus-node-exporter's textfile collector on 127.0.0.1; a
# file on a --perm --mount'ed filesystem neither hangs the daemon nor shows in the records;
# a directory the daemon cannot write after its privilege drop is a --check-config error
# (exit 2) and a start error (exit 1); stats_interval_ms defaults to 15000 with it.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NE" ] || skip "prometheus-node-exporter is not installed (Debian package prometheus-node-exporter; make deps)"
TF=$S/textfile
mkdir "$TF"
PROM=$TF/fanotifyd.prom
NEPID=
cleanup_more() { [ -z "$NEPID" ] || { kill "$NEPID" 2>/dev/null; wait "$NEPID" 2>/dev/null; }; }

# matches SOURCE: SOURCE (a .prom file, or an http:// URL to scrape) holds, for every key
# of the stats record in $S/stats.json, one family fanotifyd_KEY_total (counter) or
# fanotifyd_KEY (gauge) with # HELP and # TYPE, whose value is the record's number.
matches() {
	"$PY" - "$S/stats.json" "$1" <<'PY'
import json, re, sys, urllib.request
rec = json.load(open(sys.argv[1]))
src = sys.argv[2]
if src.startswith("http://"):
    text = urllib.request.urlopen(src, timeout=5).read().decode()
else:
    text = open(src).read()
skip = {"schema_version", "type", "seq", "ts_ms", "run_id", "host"}
keys = [k for k in rec if k not in skip]
samples, types, helps = {}, {}, set()
for line in text.splitlines():
    m = re.match(r"# TYPE (fanotifyd_\w+) (\w+)$", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    m = re.match(r"# HELP (fanotifyd_\w+) ", line)
    if m:
        helps.add(m.group(1))
        continue
    m = re.match(r"(fanotifyd_\w+) (\S+)$", line)
    if m:
        samples[m.group(1)] = float(m.group(2))
bad = []
for k in keys:
    names = [n for n in ("fanotifyd_%s_total" % k, "fanotifyd_%s" % k) if n in samples]
    if len(names) != 1:
        bad.append("%s: %d samples" % (k, len(names)))
        continue
    n = names[0]
    # Levels are gauges (latency quantiles and maxima, sizes, subscribers now); running
    # counts are counters.
    level = re.search(r"_(p50|p99|max|kib)$", k) or k == "sock_clients"
    want = "gauge" if level else "counter"
    if n != ("fanotifyd_%s" % k if level else "fanotifyd_%s_total" % k):
        bad.append("%s: named as a %s" % (k, "counter" if level else "gauge"))
    if types.get(n) != want or n not in helps:
        bad.append("%s: type %s, help %s" % (n, types.get(n), n in helps))
    if samples[n] != rec[k]:
        bad.append("%s = %s, the record's %s = %s" % (n, samples[n], k, rec[k]))
extra = set(samples) - {"fanotifyd_%s_total" % k for k in keys} - {"fanotifyd_%s" % k for k in keys}
if extra or len(keys) < 50:
    bad.append("extra %s, %d keys" % (sorted(extra), len(keys)))
for b in bad[:10]:
    print("# " + b)
sys.exit(1 if bad else 0)
PY
}

# prom_caught_up: within 10 s, $PROM's fanotifyd_records_total is the stats record's
# records (the writer thread renames it in after the record is written).
prom_caught_up() {
	local want i
	want=$(stat_of records)
	for i in $(seq 1 500); do
		grep -qx "fanotifyd_records_total $want" "$PROM" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

# prom_val NAME: the value of fanotifyd_NAME in $PROM (0 if absent).
prom_val() { sed -n "s/^fanotifyd_$1 //p" "$PROM" | grep . || echo 0; }
no_tmp() { [ -z "$(find "$1" -name '*.tmp.*' 2>/dev/null)" ]; }

# 1. Observe mode, the file outside the marks; node-exporter reads it.
printf 'watch %s\nprometheus_file %s\nstats_interval_ms 3600000\n' "$W" "$PROM" >"$S/p.conf"
start_daemon -c "$S/p.conf" || finish
for i in $(seq 1 50); do echo x >"$W/f$i"; done
sentinel || finish
stats || finish
check "the file has the stats record's records ($(stat_of records)) within 10 s" prom_caught_up
check "every stats key is one fanotifyd_ family (HELP, TYPE) with the record's number" \
	matches "$PROM"
check "file mode 0644 (node-exporter runs as its own user)" \
	[ "$(stat -c %a "$PROM")" = 644 ]

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$NE" --web.listen-address="127.0.0.1:$PORT" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$TF" >"$S/ne.log" 2>&1 &
NEPID=$!
URL=http://127.0.0.1:$PORT/metrics
up=0
for i in $(seq 1 500); do
	if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
		"$URL" 2>/dev/null; then
		up=1
		break
	fi
	kill -0 "$NEPID" 2>/dev/null || break
	sleep 0.02
done
check "node-exporter serves $URL" [ "$up" = 1 ] || { tail -n 5 "$S/ne.log"; finish; }
check "node-exporter's /metrics has every fanotifyd_ counter equal to the stats record" \
	matches "$URL"
"$PY" - "$URL" >"$S/ne.metrics" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
PY
check "node-exporter reports no textfile scrape error" \
	grep -qx 'node_textfile_scrape_error 0' "$S/ne.metrics"
# A second round: the counters moved, the file and the scrape follow.
for i in $(seq 1 20); do echo y >"$W/g$i"; done
sentinel || finish
old=$(stat_of records)
stats || finish
check "a second SIGUSR1: records moved ($old -> $(stat_of records)), the file follows" \
	eval '[ "$(stat_of records)" -gt "$old" ] && prom_caught_up'
check "... and so does node-exporter's /metrics" matches "$URL"
kill "$NEPID" 2>/dev/null
wait "$NEPID" 2>/dev/null
NEPID=
# Its directory was opened before the first mark: a reload cannot move it.
printf 'watch %s\nprometheus_file %s\nstats_interval_ms 3600000\n' "$W" "$TF/other.prom" >"$S/p.conf"
kill -HUP "$DPID"
check "a reload changing prometheus_file is refused, naming it" \
	waitrec type=reload status=refused refused~prometheus_file
stop_daemon
check "daemon exit status 0 (got $DSTATUS)" [ "$DSTATUS" = 0 ]
last=$(grep '"type":"stats"' "$OUT" | tail -n 1)
echo "$last" >"$S/stats.json"
check "at exit the file has the last stats record's numbers" matches "$PROM"
check "no temporary file left in $TF" no_tmp "$TF"

# 2. Replaced atomically: a reader reading it 1000s of times while it is rewritten every
# 2 ms never finds a partial file (every read: whole lines, every family, the same number
# of samples), and sees it change.
: >"$OUT"
start_daemon --watch "$W" --prometheus-file "$PROM" --stats-interval-ms 2 || finish
"$PY" - "$PROM" >"$S/reader" <<'PY'
import os, sys, time
path = sys.argv[1]
reads = partial = 0
seen = set()
end = time.monotonic() + 3
while time.monotonic() < end:
    try:
        data = open(path).read()
    except FileNotFoundError:
        partial += 1
        continue
    reads += 1
    lines = data.split("\n")
    samples = [l for l in lines if l.startswith("fanotifyd_")]
    if not data.endswith("\n") or len(samples) < 50 or \
            len([l for l in lines if l.startswith("# TYPE ")]) != len(samples):
        partial += 1
    seen.add(data)
print(reads, partial, len(seen))
PY
read -r nreads npartial nseen <"$S/reader"
check "reader: $nreads reads, $npartial partial or missing, $nseen versions seen" \
	eval '[ "$nreads" -gt 500 ] && [ "$npartial" = 0 ] && [ "$nseen" -gt 50 ]'
stop_daemon
check "daemon exit status 0 (got $DSTATUS)" [ "$DSTATUS" = 0 ]
check "no temporary file left after $(grep -c '"type":"stats"' "$OUT") rewrites" no_tmp "$TF"

# 3. The file on a --perm --mount'ed filesystem: every open there waits for the daemon's
# answer, the writer's too. The loop never opens it, so nothing hangs.
if have_fanotify perm; then
	: >"$OUT"
	mkdir "$W/tf"
	DAEMON_TIMEOUT=30 start_daemon --perm --mount "$W" --prometheus-file "$W/tf/fanotifyd.prom" \
		--stats-interval-ms 5 || finish
	PROM=$W/tf/fanotifyd.prom
	psentinel || finish
	check "the file appears inside the permission-marked mount" wait_file "$PROM"
	check "reading it completes (its open is answered)" reads "$PROM"
	psentinel || finish
	stats || finish
	check "after SIGUSR1 the file's records_total reaches the record's ($(stat_of records))" \
		eval '[ "$(prom_val records_total)" -ge "$(stat_of records)" ]'
	before=$(prom_val records_total)
	ok=1
	for i in $(seq 1 50); do psentinel || { ok=0; break; }; done
	check "opens are still answered: 50 sentinels while it is rewritten every 5 ms" [ "$ok" = 1 ]
	check "... and it is rewritten (records_total $before -> $(prom_val records_total))" \
		[ "$(prom_val records_total)" -gt "$before" ]
	dpid=$DPID
	stop_daemon
	check "daemon exits 0 (got $DSTATUS; 137: killed at its timeout, hung)" [ "$DSTATUS" = 0 ]
	check "the test's own reads of the file are recorded (the mark sees it)" \
		[ "$(count path="$PROM" comm=cat)" -ge 1 ]
	check "no record of the daemon's own (pid $dpid) writes, no temporary file named" \
		eval '[ "$(count type=event pid="$dpid")" = 0 ] && [ "$(count path~"$W/tf/.*[.]tmp[.]")" = 0 ]'
	check "no temporary file left in $W/tf" no_tmp "$W/tf"
fi

# 4. The directory: checked by --check-config (exit 2) and at start (exit 1).
run --foreground --check-config --watch "$W" --prometheus-file "$S/nodir/f.prom"
check "--check-config, missing directory: exit 2 (got $RC)" [ "$RC" = 2 ]
check "... naming prometheus_file" grep -q "prometheus_file $S/nodir/f.prom: directory" "$ERR"
mkdir -m 0555 "$S/ro"
run --foreground --check-config --watch "$W" --prometheus-file "$S/ro/f.prom"
check "--check-config, a directory uid 0 may not write without CAP_DAC_OVERRIDE: exit 2 (got $RC)" \
	[ "$RC" = 2 ]
check "... saying why" grep -q "not writable by uid 0 without CAP_DAC_OVERRIDE" "$ERR"
run --foreground --check-config --watch "$W" --prometheus-file "$TF"
check "--check-config, PATH a directory: exit 2 (got $RC)" [ "$RC" = 2 ]
run --foreground --output "$OUT" --pid-file "$PIDF" --watch "$W" --prometheus-file "$S/nodir/f.prom"
check "start with a missing directory: exit 1 (got $RC)" [ "$RC" = 1 ]
check "... the error names it" grep -q "prometheus_file $S/nodir/f.prom: directory" "$ERR"
run --foreground --output "$OUT" --pid-file "$PIDF" --watch "$W" --prometheus-file "$S/ro/f.prom"
check "start with a directory not writable after the privilege drop: exit 1 (got $RC)" [ "$RC" = 1 ]
run --foreground --check-config --watch "$W" --prometheus-file "$TF/ok.prom"
check "--check-config, good directory: exit 0 (got $RC), dumped" \
	eval '[ "$RC" = 0 ] && grep -qx "prometheus_file $TF/ok.prom" "$S/stdout"'
check "stats_interval_ms 0 with prometheus_file is 15000" grep -qx "stats_interval_ms 15000" "$S/stdout"
run --foreground --check-config --watch "$W" --prometheus-file "$TF/ok.prom" --stats-interval-ms 2500
check "an explicit stats_interval_ms stays" grep -qx "stats_interval_ms 2500" "$S/stdout"
check "--check-config created nothing" no_tmp "$TF"
finish
