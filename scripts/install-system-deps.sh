#!/usr/bin/env bash
# Installs the Debian packages moclab needs (Graphviz's `dot` for pathway diagrams, headless Chromium for the
# report's rendering tests and screenshot) when they are missing.
# Runs as root on a fresh machine; uses sudo otherwise; does nothing when everything is present.
set -euo pipefail

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
# headless Chromium renders the HTML report in its tests and for the README screenshot; fonts for its text
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
  || command -v google-chrome >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core fonts-liberation2)

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "moclab needs these Debian packages: ${missing[*]}. Install them as root (apt-get install ${missing[*]})." >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
