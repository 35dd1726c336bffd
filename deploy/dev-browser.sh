#!/usr/bin/env bash
# Install what the browser tests need, if it is missing: Debian's Chromium (driven by Playwright
# through executable_path; Playwright's own browser download does not work here) and a CJK font,
# so that screenshots of the Chinese console show characters instead of boxes.
# Needs root and apt-get; without them it says what to install (the browser tests then skip,
# or fail under CI=true).
set -u

want=()
[ -x /usr/bin/chromium ] || want+=(chromium)
[ -e /usr/lib/chromium/locales/zh-CN.pak ] || want+=(chromium-l10n)  # Chinese date/time inputs
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk\|noto serif cjk" || want+=(fonts-wqy-microhei)
if [ ${#want[@]} -eq 0 ]; then
  echo "dev-browser: chromium, its Chinese locale and a CJK font are installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "dev-browser: please install ${want[*]} (Debian packages); browser tests skip (fail under CI=true)" >&2
  exit 0
fi
echo "dev-browser: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${want[@]}" >/tmp/exsched-apt.log 2>&1; then
  apt-get update >>/tmp/exsched-apt.log 2>&1
  apt-get install -y --no-install-recommends "${want[@]}" >>/tmp/exsched-apt.log 2>&1 \
    || { echo "dev-browser: apt-get failed; see /tmp/exsched-apt.log" >&2; tail -5 /tmp/exsched-apt.log >&2; }
fi
