#!/usr/bin/env bash
# Installs the Debian packages listed in deps.txt that are missing, for the given phases.
# usage: scripts/deps.sh build [test ...]   (root, or a user with sudo)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
phases=" ${*:-build} "
missing=()
while read -r pkg phase; do
  case "$pkg" in ''|'#'*) continue ;; esac
  [[ "$phases" == *" $phase "* ]] || continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    # node and npm may come from another source (nodesource); working commands are enough
    if [ "$pkg" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
    if [ "$pkg" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
    missing+=("$pkg")
  fi
done < "$here/deps.txt"
[ ${#missing[@]} -eq 0 ] && exit 0
echo "floe: installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "floe: missing packages ${missing[*]}; run as root or install sudo, then retry" >&2; exit 1
fi
$sudo apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
