#!/usr/bin/env bash
# System packages the full suite needs (none yet for the spine); kept in one place so .ci/run and
# a developer's machine install the same things.
set -euo pipefail
echo "system-deps: nothing to install"
