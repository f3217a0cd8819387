#!/usr/bin/env bash
# Fails on a dependency a crate declares but never names in its sources (an unused
# dependency costs build time on every machine). A crate counts as used when its Rust name
# (`-` -> `_`) appears as a path (`name::`), in a `use`, or in an attribute.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
for manifest in crates/*/Cargo.toml migration/Cargo.toml tests/Cargo.toml; do
  dir=$(dirname "$manifest")
  deps=$(awk '/^\[(dev-|build-)?dependencies\]/{on=1;next} /^\[/{on=0} on && /^[a-zA-Z0-9_-]+ *[.=]/{sub(/[ .=].*/,""); print}' "$manifest")
  for dep in $deps; do
    name=${dep//-/_}
    if ! grep -rqE "(\b|::)$name(::|\b *;|\b *\{| as )|\[$name::|#\[$name" "$dir" --include=*.rs; then
      echo "unused dependency: $dep in $manifest" >&2; fail=1
    fi
  done
done
[ $fail = 0 ] && echo "dependencies ok"
exit $fail
