#!/usr/bin/env bash
# Install the Debian packages the test suite drives for real: chromium (browser end-to-end
# tests) and prometheus-alertmanager (the inbound-alert end-to-end test). Skips what is there.
# Outside CI a machine without apt (or without root) just prints why the browser tests will skip;
# with CI=true a failed install fails the run.
set -uo pipefail
wanted=()
command -v chromium >/dev/null 2>&1 || wanted+=(chromium)
command -v prometheus-alertmanager >/dev/null 2>&1 || [ -x /usr/bin/prometheus-alertmanager ] || wanted+=(prometheus-alertmanager)
[ ${#wanted[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: cannot install ${wanted[*]} (needs root and apt-get); tests that need them will skip" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "install-system-deps: installing ${wanted[*]} from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null; }; then
  echo "install-system-deps: apt-get install ${wanted[*]} failed" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
# The Debian package starts an alertmanager service on :9093; tests start their own on free ports.
# Stop only the service this run installed, through the service manager that started it: an
# alertmanager that was already there (someone else's) is left alone.
case " ${wanted[*]} " in
  *" prometheus-alertmanager "*)
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus-alertmanager 2>/dev/null; then
      systemctl stop prometheus-alertmanager >/dev/null 2>&1 || true
    elif command -v service >/dev/null 2>&1; then
      service prometheus-alertmanager stop >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0
