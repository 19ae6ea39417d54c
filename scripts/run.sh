#!/usr/bin/env bash
# Set up and start the app on the embedded demo data, in local mode: http://127.0.0.1:8501
# (scripts/serve.sh starts the server mode for the intranet once sign-in is set up)
set -euo pipefail
cd "$(dirname "$0")/.."
# PNG and PDF exports draw Chinese with Debian's Noto CJK font (the app says so if it is missing)
if [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] && [ "$(id -u)" = 0 ] \
    && command -v apt-get > /dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk > /dev/null
fi
python3 -m pip install -q -r requirements.txt
exec python3 -m streamlit run app.py "$@"
