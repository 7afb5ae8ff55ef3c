#!/usr/bin/env bash
# install-deps.sh: install the Debian packages capplan needs to build, test and benchmark.
# Safe to run again; does nothing when everything is present. Needs root (or sudo).
set -euo pipefail
pkgs=(build-essential cmake pkg-config
      libglpk-dev libyaml-dev libjansson-dev libcriterion-dev librandom123-dev libomp-dev
      gnuplot-nox coinor-clp coinor-cbc python3 python3-numpy python3-pulp python3-yaml)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
