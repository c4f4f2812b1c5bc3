#!/usr/bin/env bash
# The main job on the sandbox, from a fresh Debian machine, as root: installs what it needs, boots
# the sandbox host, applies the sandbox stack, and verifies it. The sandbox stays up afterwards;
# `npm run sandbox -- down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# shellcheck source=tools/env.sh
. tools/env.sh
npm run -s sandbox -- up
npm run -s apply -- --stack sandbox
npm run -s verify -- --stack sandbox --junit test-results/verify-sandbox.xml
