#!/usr/bin/env bash
# Removes the host tool spark-pg and everything it put on the host (the command and its files under
# INSTALL_DIR, /etc/sparks/spark-pg.json, the unit templates and any orphaned instance or timer
# links, the password directory, ROOT/.snapshots, the lock), but only while this resource holds its
# claim and only when ROOT holds nothing: an instance that remains (a protected one, or one made at
# a shell) keeps the tool, its units and config, so it still runs and can still be managed. What is
# kept stays claimed: a later deploy takes it over, a later destroy of this resource removes it.
# sparks-include: lib/owner.sh
leave_unless_owned spark-pg-tool spark-pg "the spark-pg tool"
if [ ! -d "$ROOT" ]; then
  # An unmounted volume hides the instances; better a tool too many than instances without one.
  echo "instance root $ROOT is not there (volume not mounted?): cannot tell whether instances remain; spark-pg left in place"
  exit 0
fi
lock=/run/lock/spark-pg.lock
mkdir -p "${lock%/*}"
# The tool's own lock: no fork or ensure can add an instance between the look and the removal.
exec 9>>"$lock"
flock -w 600 9 || fail "another spark-pg command held $lock for 600 s"
remaining=$(find "$ROOT" "$ROOT/.snapshots" -mindepth 1 -maxdepth 1 ! -path "$ROOT/.snapshots" -printf '%f ' 2>/dev/null || true)
if [ -n "$remaining" ]; then
  echo "spark-pg kept with its units, config and passwords: $ROOT still holds ${remaining% } (instances, snapshots or leftovers of a fork: see spark-pg list; spark-pg destroy NAME removes one)"
  exit 0
fi

remove() {
  local path
  for path in "$@"; do
    if [ -e "$path" ] || [ -L "$path" ]; then
      rm -f -- "$path"
      changed "removed $path"
    fi
  done
}
link=/usr/local/sbin/spark-pg
if [ "$(readlink -- "$link" || true)" = "$INSTALL_DIR/spark-pg" ]; then remove "$link"; fi
remove "$INSTALL_DIR/spark-pg"
# The package sparks_host serves every host tool installed here: it goes with the last of them.
others=$(find "$INSTALL_DIR" -mindepth 1 -maxdepth 1 ! -name sparks_host -printf '%f ' 2>/dev/null || true)
if [ -z "$others" ]; then
  for file in "${TOOL_FILES[@]}"; do
    case $file in sparks_host/*) remove "$INSTALL_DIR/$file" ;; esac
  done
  rm -rf -- "$INSTALL_DIR/sparks_host/__pycache__"
  rmdir -- "$INSTALL_DIR/sparks_host" "$INSTALL_DIR" 2>/dev/null || true
else
  echo "$INSTALL_DIR/sparks_host kept for ${others% }"
fi

units=/etc/systemd/system
systemctl stop 'spark-pg-expire@*.timer' 'spark-pg-expire@*.service' 2>/dev/null || true
# With no instance left, any instance or timer link is an orphan of one destroyed by hand.
remove "$units"/multi-user.target.wants/spark-pg@*.service "$units"/timers.target.wants/spark-pg-expire@*.timer \
  "$units"/spark-pg-expire@*.timer /var/lib/systemd/timers/stamp-spark-pg-expire@*.timer \
  "$units/spark-pg@.service" "$units/spark-pg-expire@.service"
if [ "$SPARKS_CHANGES" -gt 0 ]; then
  systemctl daemon-reload
  systemctl reset-failed 'spark-pg@*.service' 'spark-pg-expire@*.service' 2>/dev/null || true
fi

remove /etc/sparks/spark-pg.json /etc/sparks/spark-pg/*.password
for dir in /etc/sparks/spark-pg "$ROOT/.snapshots" /etc/sparks; do
  [ -d "$dir" ] || continue
  if rmdir -- "$dir" 2>/dev/null; then
    changed "removed $dir"
  elif [ "$dir" != /etc/sparks ]; then
    echo "$dir kept: it holds files spark-pg did not write: $(find "$dir" -mindepth 1 -maxdepth 1 -printf "%f ")"
  fi
done
remove "$lock"
release spark-pg-tool spark-pg
