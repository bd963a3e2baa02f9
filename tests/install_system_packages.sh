#!/usr/bin/env bash
# Install the Debian packages the tests use: single-node SLURM, munge and an SSH server (the remote computer),
# graphviz (provenance graphs) and chromium (the report opened in a browser).
# Idempotent and quiet: installs only what is missing; needs root (or password-less sudo) only when it installs.
set -euo pipefail

packages=(slurm-wlm munge openssh-server graphviz chromium)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "install_system_packages.sh: missing ${missing[*]}; run this script as root to install them" >&2
    exit 1
fi

echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq >/dev/null
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
