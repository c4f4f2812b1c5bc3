#!/usr/bin/env bash
# CI's verify gate of one deployed stack (deploy.yml, drift.yml):
#   SPARKS_DEPLOY_KEY=... bash tools/ci-verify.sh STACK
# Reads the stack's verify manifest from its Pulumi state (the CLI must be logged in), writes the
# deploy key to a 0600 file for the run's length only, and runs verify, which waits for the hosts,
# writes its markdown report to $GITHUB_STEP_SUMMARY and annotates each failed check. Leaves
# verify-STACK.json and the JUnit file verify-STACK.xml. Exits with verify's status.
set -euo pipefail

stack=${1:?usage: tools/ci-verify.sh STACK}
: "${SPARKS_DEPLOY_KEY:?the environment secret SPARKS_DEPLOY_KEY is not set for this job}"

key_dir=$(mktemp -d "${RUNNER_TEMP:-/tmp}/sparks-key.XXXXXX")
trap 'rm -rf "$key_dir"' EXIT
# ssh refuses a key file others can read; a secret pasted without its last newline is not a key.
(umask 077 && printf '%s\n' "$SPARKS_DEPLOY_KEY" >"$key_dir/identity")

pulumi stack output --stack "$stack" --json verifyManifest >"verify-$stack.json"

status=0
npm run -s verify -- --manifest "verify-$stack.json" --identity "$key_dir/identity" \
  --wait 5m --format markdown --junit "verify-$stack.xml" || status=$?

case "$status" in
  0) exit 0 ;;
  1) reason="a check failed: the failed checks are listed above and annotated" ;;
  2) reason="usage error or bad manifest" ;;
  3) reason="a host was unreachable within 5m" ;;
  *) reason="verify exited $status" ;;
esac
echo "::error title=verify $stack::$reason (exit $status)"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf '\n**verify %s failed (exit %s): %s.**\n' "$stack" "$status" "$reason" >>"$GITHUB_STEP_SUMMARY"
fi
exit "$status"
