# shellcheck shell=bash
# Package installs a component can take back: what an install added is recorded in a claim
# (lib/owner.sh), and destroy purges exactly that (with lib/packages.sh).

installed_packages() {
  dpkg-query -W -f='${binary:Package} ${db:Status-Status}\n' | sed -n 's/:[^ ]* / /; s/ installed$//p' | sort -u
}

# install_recorded KIND KEY "PACKAGES" [FIELD=VALUE...]: installs the missing PACKAGES and records in
# the claim KIND/KEY exactly which packages the install added (created=yes packages=...), so that
# purge_recorded takes back only those. When nothing was added (installed before, or by an earlier
# run of this resource or the one it was renamed from), what that run recorded stays.
# Needs lib/owner.sh and lib/packages.sh.
install_recorded() {
  local kind=$1 key=$2 packages=$3 before added created
  shift 3
  take_package_lock
  before=$(installed_packages)
  # shellcheck disable=SC2086 # a list of package names
  install_missing_packages $packages
  added=$(comm -13 <(printf '%s\n' "$before") <(installed_packages) | tr '\n' ' ')
  added=${added% }
  if [ -n "$added" ]; then
    claim "$kind" "$key" created=yes "packages=$added" "$@"
  else
    created=$(claim_field "$kind" "$key" created)
    claim "$kind" "$key" "created=${created:-no}" "packages=$(claim_field "$kind" "$key" packages)" "$@"
  fi
}

# purge_recorded KIND KEY: purges the packages install_recorded added that are still installed,
# except the Host's base packages (KEEP_PACKAGES), and only when apt would remove nothing else with
# them. When it leaves them it says why and sets PACKAGES_KEPT=yes: the caller keeps its claim then.
# (Not a return status: `set -e` does not apply inside a function called as a condition.)
# shellcheck disable=SC2034 # PACKAGES_KEPT is read by the calling script
purge_recorded() {
  local kind=$1 key=$2 package simulated installed=() others=()
  take_package_lock
  PACKAGES_KEPT=no
  for package in $(claim_field "$kind" "$key" packages); do
    case " ${KEEP_PACKAGES[*]} " in
      *" $package "*) continue ;; # the Host's base packages stay with the host
    esac
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)" = installed ]; then installed+=("$package"); fi
  done
  if [ "${#installed[@]}" -eq 0 ]; then
    echo "none of the packages installed for $key remain"
    return 0
  fi
  simulated=$(apt-get -s -o Debug::NoLocking=1 purge "${installed[@]}") || fail "apt-get -s purge ${installed[*]} failed: $simulated"
  while read -r package; do
    package=${package%%:*}
    case " ${installed[*]} " in
      *" $package "*) ;;
      *) others+=("$package") ;;
    esac
  done < <(sed -n 's/^\(Purg\|Remv\) \([^ ]*\).*/\2/p' <<<"$simulated")
  if [ "${#others[@]}" -gt 0 ]; then
    echo "$key and the packages installed with it are kept: purging them would also remove ${others[*]}, which other software installed"
    PACKAGES_KEPT=yes
    return 0
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 purge "${installed[@]}" || fail "apt-get purge ${installed[*]} failed"
  changed "purged ${installed[*]}"
}
