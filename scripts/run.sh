#!/usr/bin/env bash
# Set up and start the app on the embedded demo data: http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -r requirements.txt
exec python3 -m streamlit run app.py "$@"
