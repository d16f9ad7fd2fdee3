#!/usr/bin/env bash
# Fetch the GOV.UK Frontend assets from the npm registry and copy them to backend/static/govuk/,
# which the app serves at /assets/ (see backend/web_auth.py). Nothing built here is committed:
# assets/package.json and assets/package-lock.json pin the version, build/ and the copy are
# gitignored. Idempotent and quick when the copy is already there: `make assets` runs it.
#
# govuk-frontend 6.3.0 is the release that govuk-frontend-jinja 4.1.0 (pyproject.toml) ports its
# macros from (its README: "4.1.0 | 6.3.0"); change the two together.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="backend/static/govuk"
BUILD="build/assets"
VERSION="$(sed -n 's/.*"govuk-frontend": *"\([^"]*\)".*/\1/p' assets/package.json | head -n 1)"

if [ -f "$DEST/VERSION" ] && [ "$(cat "$DEST/VERSION")" = "$VERSION" ] \
        && [ -f "$DEST/govuk-frontend.min.css" ] && [ -f "$DEST/govuk-frontend.min.js" ]; then
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "build-assets: npm is missing (Debian: apt-get install -y npm; see scripts/system-deps.sh)" >&2
    exit 1
fi

echo "build-assets: installing govuk-frontend $VERSION from the npm registry"
mkdir -p "$BUILD"
cp assets/package.json assets/package-lock.json "$BUILD/"
(cd "$BUILD" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)

DIST="$BUILD/node_modules/govuk-frontend/dist/govuk"
rm -rf "$DEST"
mkdir -p "$DEST"
# The compiled CSS finds its fonts and images at /assets/fonts/ and /assets/images/, so the
# contents of dist/govuk/assets/ and the compiled CSS and JS all go to one folder served at /assets/.
cp -R "$DIST/assets/." "$DEST/"
cp "$DIST/govuk-frontend.min.css" "$DIST/govuk-frontend.min.js" "$DEST/"
[ -f "$DIST/govuk-frontend.min.css.map" ] && cp "$DIST/govuk-frontend.min.css.map" "$DEST/"
[ -f "$DIST/govuk-frontend.min.js.map" ] && cp "$DIST/govuk-frontend.min.js.map" "$DEST/"
echo "$VERSION" > "$DEST/VERSION"
echo "build-assets: govuk-frontend $VERSION copied to $DEST/"
