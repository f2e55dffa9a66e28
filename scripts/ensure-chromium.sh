#!/usr/bin/env bash
# Makes sure Chromium is installed for the browser tests (package
# browsertest), installing the distribution's chromium package when it is
# missing. Prints the path of the binary on stdout; messages go to stderr.
# Fast and silent when Chromium is already there. The recommended packages
# (sandbox helper, desktop services) are of no use to a headless browser
# run by tests, so they are left out.
exec "$(dirname "$0")/ensure-deb.sh" /usr/bin/chromium chromium
