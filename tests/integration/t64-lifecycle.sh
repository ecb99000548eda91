# Lifecycle records: the start record opens every run (seq 1: run_id, host, boot_id,
# version, config digest, mode, marks), the stop record ends it (reason, records, records
# lost); every record carries the run's run_id, and with record_host the host too; seq is
# contiguous from 1; run_id is new at every start; the digest follows the configuration and
# nothing else; a reload record and a subscriber's records carry run_id too.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup

# life OUT KEY=VALUE...: the records of OUT, as a run: start first (seq 1), stop last,
# seq 1..N without a gap, one run_id on every record; each KEY=VALUE a check below.
LIFE=$S/life.py
cat >"$LIFE" <<'PY'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1], "rb").read().split(b"\n") if l]
want = dict(a.split("=", 1) for a in sys.argv[2:])
def bad(msg):
    print("# " + msg)
    sys.exit(1)
if not recs:
    bad("no records")
st, sp = recs[0], recs[-1]
if st.get("type") != "start" or st.get("seq") != 1:
    bad("first record is not the start record with seq 1: %s" % json.dumps(st)[:300])
if sp.get("type") != "stop":
    bad("last record is not the stop record: %s" % json.dumps(sp)[:300])
if [r["seq"] for r in recs] != list(range(1, len(recs) + 1)):
    bad("seq not contiguous from 1: %s" % [r["seq"] for r in recs][:50])
if sum(r["type"] == "start" for r in recs) != 1 or sum(r["type"] == "stop" for r in recs) != 1:
    bad("not one start and one stop record")
rid = st.get("run_id", "")
if not re.fullmatch(r"[0-9a-f]{32}", rid):
    bad("run_id %r is not 32 hex digits" % rid)
if any(r.get("run_id") != rid for r in recs):
    bad("a record without the start record's run_id")
if sp["records"] != len(recs) or sp["records"] != sp["seq"] or sp["dropped_records"] != 0:
    bad("stop counts: records %s dropped %s, %d records in the file" %
        (sp["records"], sp["dropped_records"], len(recs)))
for k, v in want.items():
    if k == "host_everywhere":
        got = [r.get("host") for r in recs]
        if v == "1" and got != [st["host"]] * len(recs):
            bad("host not on every record: %s" % got[:10])
        if v == "0" and [r["type"] for r in recs if "host" in r] != ["start", "stop"]:
            bad("host on records other than start and stop: %s" %
                [r["type"] for r in recs if "host" in r])
    elif k == "marks":
        got = ",".join("%s:%s" % (m["kind"], m["path"]) for m in st["marks"])
        if got != v:
            bad("marks %r, want %r" % (got, v))
    elif k.startswith("stop."):
        if str(sp.get(k[5:])) != v:
            bad("stop %s is %r, want %r" % (k[5:], sp.get(k[5:]), v))
    elif str(st.get(k)) != v:
        bad("start %s is %r, want %r" % (k, st.get(k), v))
PY
life() { "$PY" "$LIFE" "$@"; }
field() { "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$1" "$2"; }

BOOT=$(cat /proc/sys/kernel/random/boot_id)
HOST=$(hostname)
CONF=$S/a.conf
printf 'burst_threshold 50\n' >"$CONF"

# Run 1: events, SIGTERM.
start_daemon -c "$CONF" --watch "$W" || finish
PID1=$DPID
echo x >"$W/f1"
sentinel || finish
stop_daemon
check "run 1 exits 0" [ "$DSTATUS" = 0 ]
check "run 1: start first, stop last, seq contiguous, run_id on every record, stop counts" \
	life "$OUT" mode=observe marks="watch:$W" stop.reason=SIGTERM host_everywhere=0
check "run 1: version is --version's" \
	[ "$(field "$OUT" version)" = "$("$FANOTIFYD" --version | cut -d' ' -f2)" ]
check "run 1: boot_id is the kernel's ($BOOT)" life "$OUT" boot_id="$BOOT"
check "run 1: host is the host name ($HOST)" life "$OUT" host="$HOST"
check "run 1: the start record's pid is the daemon's" life "$OUT" pid="$PID1"
check "run 1: the events are between start and stop" [ "$(count type=event)" -ge 3 ]
RID1=$(field "$OUT" run_id) DIG1=$(field "$OUT" config_digest)
mv "$OUT" "$S/run1.jsonl"

# Run 2: the same file, --record-host, SIGINT: a new run_id (record_host is part of the
# configuration, so the digest is another: checked after run 4).
start_daemon -c "$CONF" --watch "$W" --record-host || finish
PID2=$DPID
echo x >"$W/f2"
sentinel || finish
kill -INT "$DPID"
# stop_daemon's SIGTERM only after the exit: the first stopping signal is the reason
for i in $(seq 1 500); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.02; done
stop_daemon
check "run 2: start/stop/seq/run_id, host on every record, reason SIGINT" \
	life "$OUT" host_everywhere=1 stop.reason=SIGINT pid="$PID2" host="$HOST"
RID2=$(field "$OUT" run_id) DIG2=$(field "$OUT" config_digest)
check "run_id differs between two starts ($RID1, $RID2)" [ "$RID1" != "$RID2" ]
mv "$OUT" "$S/run2.jsonl"

# Run 3: the same again, without --record-host: digest of run 1.
start_daemon -c "$CONF" --watch "$W" || finish
stop_daemon
DIG3=$(field "$OUT" config_digest)
check "run 3: a start without events is start and stop alone" life "$OUT" stop.records=3
check "the config digest is the same for the same configuration ($DIG1, $DIG3)" [ "$DIG1" = "$DIG3" ]
mv "$OUT" "$S/run3.jsonl"

# Run 4: one key of the file changed: another digest.
printf 'burst_threshold 51\n' >"$CONF"
start_daemon -c "$CONF" --watch "$W" || finish
stop_daemon
DIG4=$(field "$OUT" config_digest)
check "the config digest changes with the configuration ($DIG1 -> $DIG4)" [ "$DIG4" != "$DIG1" ]
check "--record-host changes the digest too ($DIG2 vs $DIG1)" [ "$DIG2" != "$DIG1" ]
mv "$OUT" "$S/run4.jsonl"

# Run 5: a reload record and a subscriber that connects after the start: both carry run_id.
start_daemon -c "$CONF" --watch "$W" --socket "$S/sock" || finish
N0=$(nsock)
timeout 60 "$FANOTIFYD" --subscribe "$S/sock" >"$S/sub" 2>"$S/sub.err" &
SUBS="$SUBS $!"
wait_nsock $((N0 + 1)) || fail "the subscriber did not connect"
printf 'burst_threshold 52\n' >"$CONF"
kill -HUP "$DPID"
waitrec type=reload status=applied || fail "no reload record"
echo x >"$W/f5"
sentinel || finish
RID5=$(field "$OUT" run_id)
check "the reload record carries run_id" has type=reload run_id="$RID5"
check "a subscriber that connected after the start gets run_id on every record" \
	"$PY" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if recs and all(r.get("run_id") == sys.argv[2] for r in recs)
         and recs[0]["type"] != "start" else 1)' "$S/sub" "$RID5"
stop_daemon
check "run 5: start/stop/seq/run_id with a reload" life "$OUT"
check "run 5: the subscriber got the output's records after the start, byte for byte" \
	"$PY" -c '
import sys
out, sub = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
sys.exit(0 if sub and out.endswith(sub) else 1)' "$OUT" "$S/sub"
finish
