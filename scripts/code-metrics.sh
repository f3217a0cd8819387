#!/usr/bin/env bash
# Prints the figures issue 10 tracks about how the domain crates are declared:
# GraphQL code per exposed field, the longest `register`, capitalised string literals in
# GraphQL code (type names written as strings), file length median/p90, duplicate pairs.
set -euo pipefail
cd "$(dirname "$0")/.."
gql_files=$(find crates -path '*/src/graphql/*' -name '*.rs' | sort)
gql_lines=$(cat $gql_files | wc -l)
# Fields of object and interface types in the generated SDL (not inputs or enums).
fields=$(awk '/^(type|interface) /{t=1;next} /^}/{t=0} t && /^\t[a-zA-Z_]+[(:]/{n++} END{print n}' schema.graphql)
echo "graphql code lines: $gql_lines; exposed object fields: $fields; lines per field: $(echo "scale=2; $gql_lines/$fields" | bc)"
echo "capitalised string literals in graphql code: $(cat $gql_files | grep -oE '"[A-Z][A-Za-z0-9]+"' | wc -l)"
echo "\"Membership\" literals in crates: $(grep -rhoE '"Membership"' crates --include=*.rs | wc -l)"
# Longest `register` function: from `fn register` to the next line that is exactly `}`.
awk 'FNR==1{inside=0} /^pub fn register|^pub\(crate\) fn register|^fn register/{inside=1;start=FNR;name=FILENAME":"FNR;next} inside && /^}/{len=FNR-start+1; print len, name; inside=0}' $(find crates -name '*.rs') | sort -rn | head -3 | sed 's/^/register: /'
lens=$(find crates -name '*.rs' -exec wc -l {} + | grep -v ' total$' | awk '{print $1}' | sort -n)
n=$(echo "$lens" | wc -l)
echo "rust files under crates: $n; median lines: $(echo "$lens" | sed -n "$(( (n+1)/2 ))p"); p90: $(echo "$lens" | sed -n "$(( (n*9+9)/10 ))p"); max: $(echo "$lens" | tail -1)"
if command -v duplicates >/dev/null; then duplicates --repo crates --most 1 --seconds 60 | head -1 | sed 's/^/duplicates --repo crates: /'; fi
