#!/usr/bin/env bash
# Vendors GraphiQL's browser assets from npm into graphql_api/static/, with their licenses,
# so /graphql works with no internet. These are the versions Strawberry 0.341's own
# GraphiQL page loads from a CDN. Re-run after changing a version here; needs npm.
set -euo pipefail
cd "$(dirname "$0")/static"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

vendor() {  # vendor NPM_SPEC DIR FILE... : copies FILEs and the LICENSE of NPM_SPEC into DIR/
  local spec=$1 dir=$2
  shift 2
  local tarball
  tarball="$(cd "$work" && npm pack --silent "$spec")"
  rm -rf "$work/package" && tar -xzf "$work/$tarball" -C "$work"
  rm -rf "$dir" && mkdir -p "$dir"
  for file in "$@" LICENSE; do
    cp "$work/package/$file" "$dir/"
  done
}

vendor react@18.2.0 react umd/react.production.min.js
vendor react-dom@18.2.0 react-dom umd/react-dom.production.min.js
vendor graphiql@3.8.3 graphiql graphiql.min.js graphiql.min.css

# The Subresource Integrity values graphiql.html pins (the same as Strawberry's page).
for file in */*.js */*.css; do
  echo "$file sha384-$(openssl dgst -sha384 -binary "$file" | base64 -w0)"
done
