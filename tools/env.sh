# shellcheck shell=bash
# Sourced by the tools: puts Node 22 first on PATH when the machine's own Node is older.
if [ -x /opt/node22/bin/node ] && ! node -e 'process.exit(+process.versions.node.split(".")[0] < 22)' 2>/dev/null; then
  export PATH="/opt/node22/bin:$PATH"
fi
