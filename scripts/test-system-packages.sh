#!/usr/bin/env bash
# The Debian packages the test suite needs beyond npm, installed when missing: headless Chromium for the dashboard's
# browser tests (playwright-core cannot download its own browser here) and python3-requests/pandas for the Python
# example of docs/bi-tools.md. `npm test` runs this first (pretest) so that a fresh machine needs only the README's
# two commands; .ci/run runs it too. It installs only as root or with password-less sudo, and never fails the run:
# without the packages, the tests that need them fail with a message naming what to install.
# LAKEBASE_GRAPHQL_NO_APT=1 skips it (a machine whose packages are managed otherwise).
set -uo pipefail
[ "${LAKEBASE_GRAPHQL_NO_APT:-}" = 1 ] && exit 0

need=()
if [ -z "${CHROMIUM_PATH:-}" ] && ! [ -x /usr/bin/chromium-headless-shell ] && ! [ -x /usr/bin/chromium ] &&
  ! [ -x /usr/bin/chromium-browser ]; then
  need+=(chromium-headless-shell)
fi
# The same Pythons test/bi-tools-docs.test.ts tries.
if ! python3 -c 'import requests, pandas' 2>/dev/null && ! /usr/bin/python3 -c 'import requests, pandas' 2>/dev/null; then
  need+=(python3-requests python3-pandas)
fi
[ ${#need[@]} -eq 0 ] && exit 0

advice="apt-get install -y ${need[*]} (or LAKEBASE_GRAPHQL_NO_APT=1 to stop this check)"
if ! command -v apt-get >/dev/null; then
  echo "test prerequisites: missing ${need[*]}, and no apt-get here; the tests that need them will fail: $advice" >&2
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "test prerequisites: missing ${need[*]}; not root, so not installed: sudo $advice" >&2
  exit 0
fi
echo "test prerequisites: installing Debian packages ${need[*]} (once; about a minute)"
if "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null; then
  echo "test prerequisites: installed ${need[*]}"
else
  echo "test prerequisites: apt-get failed; the tests that need ${need[*]} will fail: $advice" >&2
fi
exit 0
