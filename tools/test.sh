#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine, as root: installs what it needs, then runs
# the type check, the unit tests, shellcheck and the e2e tests on a sandbox host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# shellcheck source=tools/env.sh
. tools/env.sh
rm -f test-results/junit.xml
status=0
npm test || status=$?
# One closing line in the plain form CI tools read, whatever the runner printed.
if [ -f test-results/junit.xml ]; then
  node tools/junit-summary.js test-results/junit.xml
fi
exit "$status"
