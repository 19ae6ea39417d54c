#!/usr/bin/env bash
# Set up and run the tests: Python packages, Debian's Chromium for the browser tests, then
# ruff and pytest. The README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  else
    echo "note: /usr/bin/chromium is missing and cannot be installed here (needs root and" \
         "apt-get): the browser tests will be skipped" >&2
  fi
fi

python3 -m pip install -q -r requirements-dev.txt
python3 -m ruff check .
python3 -m pytest -q "$@"
