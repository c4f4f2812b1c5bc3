#!/usr/bin/env bash
# Installs what the project needs on a Debian machine, as root: the Debian packages the sandbox
# host and the tests use, Node 22 (from the npm registry's node package when the machine's Node
# is older) and the npm dependencies. Idempotent; prints nothing but progress.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_MAJOR=22
NODE_VERSION=22.23.3
NODE_PREFIX=/opt/node$NODE_MAJOR
# iproute2, nftables, apt-cacher-ng: the sandbox's own network; postgresql-client: the e2e tests' client off the host.
DEBIAN_PACKAGES=(debootstrap systemd-container btrfs-progs util-linux shellcheck openssh-client e2fsprogs ca-certificates iproute2 nftables apt-cacher-ng postgresql-client)

say() { printf 'setup: %s\n' "$*" >&2; }

# Debian's own Node and npm only bootstrap Node 22 from the npm registry; a machine with npm skips them.
command -v npm >/dev/null || DEBIAN_PACKAGES+=(nodejs npm)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q update
  apt-get -q -y install --no-install-recommends "${missing[@]}"
  # Each sandbox runs an apt-cacher-ng of its own on its veth address; the package's system-wide
  # service, which we just installed and nobody uses, would hold port 3142 on every address.
  if [[ " ${missing[*]} " == *" apt-cacher-ng "* ]]; then
    say "disabling the system apt-cacher-ng service (sandboxes run their own)"
    if [ -d /run/systemd/system ]; then
      systemctl disable --now apt-cacher-ng.service
    else
      service apt-cacher-ng stop >/dev/null 2>&1 || true
      update-rc.d apt-cacher-ng disable
    fi
  fi
fi

# Node trusts only its own CA bundle; where the machine reaches the registry through a TLS proxy,
# that proxy's CA is in the system bundle, which ca-certificates keeps.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major node)" -lt "$NODE_MAJOR" ] && [ "$(node_major "$NODE_PREFIX/bin/node")" -lt "$NODE_MAJOR" ]; then
  say "installing Node $NODE_VERSION into $NODE_PREFIX (the machine's Node is older)"
  npm install --global --prefix "$NODE_PREFIX" --no-fund --no-audit "node@$NODE_VERSION"
fi
if [ "$(node_major node)" -lt "$NODE_MAJOR" ]; then
  export PATH="$NODE_PREFIX/bin:$PATH"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-fund --no-audit
fi
say "ready: node $(node --version), $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
