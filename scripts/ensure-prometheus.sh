#!/usr/bin/env bash
# Makes sure Prometheus is installed for the Prometheus SLI source's
# integration test (package promsli), installing the distribution's
# prometheus package when it is missing. Prints the path of the binary on
# stdout; messages go to stderr. Fast and silent when it is already there.
# The test starts its own Prometheus on a free port with a temporary
# storage directory; a service the package may have started is not used.
exec "$(dirname "$0")/ensure-deb.sh" /usr/bin/prometheus prometheus
