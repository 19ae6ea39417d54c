#!/usr/bin/env bash
# Set up and run the tests: Python packages, Debian's Chromium for the browser tests, then
# ruff and pytest. The README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

# Debian packages the tests need: Chromium (browser tests), a CJK font (PNG/PDF in Chinese),
# poppler-utils (pdftotext reads the PDF reports back).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
command -v pdftotext > /dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
  else
    echo "note: missing ${missing[*]} and cannot install them here (needs root and apt-get):" \
         "the tests that need them will be skipped" >&2
  fi
fi

python3 -m pip install -q -r requirements-dev.txt
python3 -m ruff check .
python3 -m pytest -q "$@"
