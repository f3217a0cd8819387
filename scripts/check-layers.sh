#!/usr/bin/env bash
# Proves the crate graph keeps its layers (architecture.md): a lower crate never depends
# on a higher one. `cargo tree -i X -p Y` prints nothing when Y does not depend on X.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
check() { # check LOWER HIGHER...: LOWER must not depend on any HIGHER
  local lower=$1; shift
  for higher in "$@"; do
    if cargo tree -q -e normal -p "opsgraph-$lower" -i "opsgraph-$higher" >/dev/null 2>&1; then
      echo "forbidden dependency: opsgraph-$lower -> opsgraph-$higher" >&2; fail=1
    fi
  done
}
check core org work crm knowledge finance ai schema server
check org work crm knowledge finance ai schema server
check work crm knowledge finance ai schema server
# crm sits above work: it owns the edges between them (Project.account, Account.projects,
# convertDealToProject), as work owns its edges onto org (docs/architecture.md).
check crm knowledge finance ai schema server
# knowledge sits above work and crm: it owns the edges from documents to their entities.
check knowledge finance ai schema server
check finance ai schema server
check ai finance schema server
check schema server

# A domain's rows are reached only through its public API (services, loaders, node types):
# no other crate imports its `entity` module or names its tables in SQL.
domains="org work crm knowledge finance ai"
for owner in $domains; do
  dir="crates/$owner/src"
  tables=$( (grep -rhoP 'table_name = "\K[a-z_]+' "$dir/entity" 2>/dev/null || true) | sort -u | paste -sd'|' -)
  for other in $domains schema server; do
    [ "$other" = "$owner" ] && continue
    if grep -rnE "opsgraph_$owner::entity" "crates/$other/src" 2>/dev/null; then
      echo "forbidden import: opsgraph-$other uses opsgraph-$owner's entities (use its node types / services)" >&2; fail=1
    fi
    if [ -n "$tables" ] && grep -rniP "\b(from|join|into|update|table)\s+($tables)\b" "crates/$other/src" 2>/dev/null; then
      echo "forbidden SQL: opsgraph-$other names tables of opsgraph-$owner (call its services)" >&2; fail=1
    fi
  done
done
[ $fail = 0 ] && echo "layers ok"
exit $fail
