# Burst scopes (issue 14): a fork per file cannot hide a burst. The issue's loop
#   for f in *; do sh -c 'rev "$1" > "$1.locked" && rm -f "$1"' sh "$f"; done
# over 300 files, with --perm --deny-on-alert --burst-threshold 32 --mount W (a 10 s window
# and a 60 s quarantine, so a slow machine does not let the containment lapse mid-loop):
#   process  (the default) lets it through: no process reaches 32 events, 300 of 300 files
#            changed, no burst alert;
#   parent   stops it within 64 files: the alert names the loop's shell (the writers'
#            parent or grandparent), scope "parent", not the shell's own parent (this
#            script), and a process outside the loop is still allowed;
#   session  (the loop under its own setsid) stops it within 64 files; scope_id is the
#            session id (the loop shell's pid);
#   uid      a setsid per file (each file in a session of its own), run as nobody (no other
#            process of this host writes to W as nobody): stopped within 64 files, scope_id
#            65534; a root process is still allowed while nobody is contained;
#   exe, job (one run, a config file with a job over the loop's directory): burst alerts
#            with scope "exe" and a string scope_id naming an executable, and scope "job"
#            with scope_id "J".
# Each alert's hook gets FAN_SCOPE and FAN_SCOPE_ID, checked against the alert record.
# Each run's output, replayed (fanotifyd --replay) with the same options, gives exactly its
# alerts and denials (replay_compare.py): the parent scope through the records' ancestors.
. "$(dirname "$0")/lib.sh"
require_fanotify perm
require_fanotify fid
setup

N=300
OPTS=(--perm --deny-on-alert --burst-threshold 32 --burst-window-ms 10000 --quarantine-ms 60000
	--mount "$W")
cat >"$S/hook.sh" <<'SH'
printf '%s %s\n' "$FAN_SCOPE" "$FAN_SCOPE_ID" >>"$1"
SH

# files DIR: N files of known content, writable by anyone (the uid run is nobody's).
files() {
	mkdir -p "$1" && chmod 0777 "$1" &&
		for i in $(seq -w 1 $N); do echo "file $i" >"$1/f$i"; done
}
# changed DIR: how many of the N originals the loop removed (rev's copy written, then rm).
changed() { echo $((N - $(find "$1" -name 'f*' ! -name '*.locked' | wc -l))); }
LOOP='cd "$1" && echo $$ >"$2" && for f in f*; do '
REV='sh -c '\''rev "$1" > "$1.locked" && rm -f "$1"'\'' sh "$f"; done'
# replays LABEL ARGS...: the replay of $OUT with ARGS is the live run's policy.
replays() {
	replay "$OUT" "${@:2}"
	check "$1: the replay gives exactly the live alerts and denials" compare "$OUT" --hook
}
# hooked SCOPE ID: the hook ran for that scope and identity.
hooked() { timeout 10 sh -c 'until grep -qxF "$1 $2" "$3" 2>/dev/null; do sleep 0.05; done' \
	sh "$1" "$2" "$S/hooks"; }

# --- process scope: the loop goes through ---------------------------------------------------
files "$W/p"
OUT=$S/process.jsonl
start_daemon "${OPTS[@]}" || finish
bash -c "$LOOP$REV" sh "$W/p" "$S/pid.p" 2>/dev/null
sentinel
check "process: the fork-per-file loop changes every file ($(changed "$W/p") of $N)" \
	[ "$(changed "$W/p")" = $N ]
check "process: no burst alert" [ "$(count type=alert kind=burst)" = 0 ]
stop_daemon

# --- parent scope -----------------------------------------------------------------------------
files "$W/a"
OUT=$S/parent.jsonl
: >"$S/hooks"
start_daemon "${OPTS[@]}" --burst-scope parent --hook "sh '$S/hook.sh' '$S/hooks'" || finish
bash -c "$LOOP$REV" sh "$W/a" "$S/pid.a" 2>/dev/null
LP=$(cat "$S/pid.a")
C=$(changed "$W/a")
echo "# parent: $C of $N files changed"
check "parent: the loop is contained within 64 files ($C)" [ "$C" -le 64 ]
check "parent: burst alert for the loop's shell" waitrec type=alert kind=burst scope=parent \
	scope_id="$LP" count=32 window_ms=10000
check "parent: its descendants' opens denied" \
	waitrec type=event decision=deny reason="quarantined after burst"
check "parent: no alert blames the loop shell's own parent (this script)" \
	[ "$(count type=alert scope=parent scope_id=$$)" = 0 ]
check "parent: events carry the ancestors" waitrec type=event 'ancestors?'
check "parent: the hook got FAN_SCOPE=parent FAN_SCOPE_ID=$LP" hooked parent "$LP"
check "parent: a process outside the loop is allowed" timeout 5 sh -c 'echo y >"$1"' sh "$W/a/other"
stop_daemon
replays parent "${OPTS[@]}" --burst-scope parent --hook true

# --- session scope ----------------------------------------------------------------------------
files "$W/s"
OUT=$S/session.jsonl
: >"$S/hooks"
start_daemon "${OPTS[@]}" --burst-scope session --hook "sh '$S/hook.sh' '$S/hooks'" || finish
setsid -w bash -c "$LOOP$REV" sh "$W/s" "$S/pid.s" 2>/dev/null
SID=$(cat "$S/pid.s")
C=$(changed "$W/s")
echo "# session: $C of $N files changed"
check "session: the loop is contained within 64 files ($C)" [ "$C" -le 64 ]
check "session: burst alert for the loop's session" waitrec type=alert kind=burst scope=session \
	scope_id="$SID"
check "session: the hook got FAN_SCOPE=session FAN_SCOPE_ID=$SID" hooked session "$SID"
check "session: a process of another session is allowed" \
	timeout 5 sh -c 'echo y >"$1"' sh "$W/s/other"
stop_daemon
replays session "${OPTS[@]}" --burst-scope session --hook true

# --- uid scope: a session per file, as nobody --------------------------------------------------
files "$W/u"
OUT=$S/uid.jsonl
: >"$S/hooks"
NOBODY=$(id -u nobody)
chmod 0711 "$IT_BASE_DIR"	# nobody reaches $W/u through it
: >"$S/pid.u" && chmod 0666 "$S/pid.u"
start_daemon "${OPTS[@]}" --burst-scope uid --hook "sh '$S/hook.sh' '$S/hooks'" || finish
setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c \
	"${LOOP}setsid -w $REV" sh "$W/u" "$S/pid.u" 2>/dev/null
C=$(changed "$W/u")
echo "# uid: $C of $N files changed"
check "uid: a setsid per file is contained within 64 files ($C)" [ "$C" -le 64 ]
check "uid: burst alert for uid $NOBODY" waitrec type=alert kind=burst scope=uid \
	scope_id="$NOBODY"
check "uid: the hook got FAN_SCOPE=uid FAN_SCOPE_ID=$NOBODY" hooked uid "$NOBODY"
check "uid: root is still allowed" timeout 5 sh -c 'echo y >"$1"' sh "$W/u/other"
stop_daemon
replays uid "${OPTS[@]}" --burst-scope uid --hook true

# --- exe and job scopes --------------------------------------------------------------------------
files "$W/j"
OUT=$S/exejob.jsonl
: >"$S/hooks"
cat >"$S/conf" <<CONF
burst_scope exe,job
burst_threshold_job 40
burst_window_ms_job 20000
job J
workspace $W/j
CONF
start_daemon "${OPTS[@]}" -c "$S/conf" --hook "sh '$S/hook.sh' '$S/hooks'" || finish
bash -c "$LOOP$REV" sh "$W/j" "$S/pid.j" 2>/dev/null
check "job: burst alert with scope_id \"J\" and the job's own threshold and window" \
	waitrec type=alert kind=burst scope=job scope_id=J count=40 window_ms=20000 job_id=J
check "job: the hook got FAN_SCOPE=job FAN_SCOPE_ID=J" hooked job J
check "exe: burst alert naming an executable" waitrec type=alert kind=burst scope=exe \
	'scope_id~^/'
EXE=$($JSONL get "$OUT" scope_id type=alert scope=exe)
check "exe: the hook got FAN_SCOPE=exe FAN_SCOPE_ID=$EXE" hooked exe "$EXE"
stop_daemon
replays "exe, job" "${OPTS[@]}" -c "$S/conf" --hook true
# After the daemon: the whole job's directory is contained, our find too.
check "job, exe: contained within 64 files ($(changed "$W/j"))" [ "$(changed "$W/j")" -le 64 ]
finish
