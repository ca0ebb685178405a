#!/bin/sh
# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; its own browser
# download is not used). Installed when missing and we may use apt-get; otherwise say so.
set -e
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "Installing Debian's chromium for the browser tests…"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
    exit 0
fi
echo "Chromium is missing at $CHROMIUM and cannot be installed here (needs root and apt-get)." >&2
echo "Install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM_PATH;" >&2
echo "the browser tests (tests/e2e) fail without it." >&2
exit 0
