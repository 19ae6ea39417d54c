#!/usr/bin/env bash
# Start the server mode for the district's intranet, once sign-in is set up (see the README,
# "Running it for the district"): binds CHANGNING_ADDRESS (default 0.0.0.0) on CHANGNING_PORT
# (default 8501), no tracebacks in the browser, XSRF protection on, uploads up to
# CHANGNING_MAX_UPLOAD_MB (default 50), the cookie secret from .streamlit/secrets.toml [auth].
# Refuses to start without sign-in or a cookie secret.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CHANGNING_SKIP_INSTALL:-}" != 1 ]; then
  python3 -m pip install -q -r requirements.txt
fi
secret="$(python3 scripts/serve_check.py)"
export STREAMLIT_SERVER_COOKIE_SECRET="$secret"
# sign-in stays required even if the last account is removed or the secrets break
export CHANGNING_SERVER_MODE=1
exec python3 -m streamlit run app.py \
  --server.address "${CHANGNING_ADDRESS:-0.0.0.0}" \
  --server.port "${CHANGNING_PORT:-8501}" \
  --server.enableXsrfProtection true \
  --server.maxUploadSize "${CHANGNING_MAX_UPLOAD_MB:-50}" \
  --client.showErrorDetails none \
  --client.toolbarMode minimal \
  "$@"
