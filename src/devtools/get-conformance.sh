#!/bin/sh
# npm run conformance:get: fetches BuildKit's Dockerfile parser and shell-lexer test data, at the
# commit LayerLab's conformance tests were written against, into .conformance/buildkit (git-ignored),
# laid out as the tests read it (see src/testdata/conformance.ts):
#   parser/testfiles/<case>/{Dockerfile,result}   parser/testfiles-negative/<case>/Dockerfile
#   parser/testfile-line/Dockerfile               shell/envVarTest   shell/wordsTest   LICENSE
# A sparse, blob-less clone: only those files' contents are downloaded. Needs git and the network.
# LAYERLAB_BUILDKIT_REPO overrides where BuildKit is cloned from (a mirror, or a local clone).
set -eu

COMMIT=73ed6825c4b7569379ef89df0aedcdbe64473d31
REPO=${LAYERLAB_BUILDKIT_REPO:-https://github.com/moby/buildkit.git}
root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/.conformance/buildkit"

fail() {
  echo "conformance:get: $*" >&2
  exit 1
}
command -v git >/dev/null 2>&1 || fail "git is needed to fetch BuildKit's test data"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
src="$work/buildkit"

echo "conformance:get: cloning $REPO (sparse, no file contents yet)"
if ! git clone --quiet --filter=blob:none --sparse --no-checkout "$REPO" "$src" 2>"$work/err"; then
  sed 's/^/  /' "$work/err" >&2
  fail "could not clone $REPO: is the network reachable? (set LAYERLAB_BUILDKIT_REPO to use a mirror)"
fi
git -C "$src" sparse-checkout set --no-cone \
  '/LICENSE' \
  '/frontend/dockerfile/parser/testfiles/' \
  '/frontend/dockerfile/parser/testfiles-negative/' \
  '/frontend/dockerfile/parser/testfile-line/' \
  '/frontend/dockerfile/shell/envVarTest' \
  '/frontend/dockerfile/shell/wordsTest' ||
  fail "git sparse-checkout failed (git 2.27 or later is needed)"
if ! git -C "$src" -c advice.detachedHead=false checkout --quiet "$COMMIT" 2>"$work/err"; then
  sed 's/^/  /' "$work/err" >&2
  fail "could not check out BuildKit commit $COMMIT from $REPO"
fi
[ "$(git -C "$src" rev-parse HEAD)" = "$COMMIT" ] || fail "checked out $(git -C "$src" rev-parse HEAD), not $COMMIT"

p="$src/frontend/dockerfile/parser"
s="$src/frontend/dockerfile/shell"
for f in "$p/testfiles" "$p/testfiles-negative" "$p/testfile-line/Dockerfile" "$s/envVarTest" "$s/wordsTest" "$src/LICENSE"; do
  [ -e "$f" ] || fail "BuildKit $COMMIT has no ${f#"$src"/}: the layout the tests expect has moved"
done

# Lay it out beside the final place, then swap it in, so an interrupted run leaves no half copy.
next="$dest.next"
rm -rf "$next"
mkdir -p "$next/parser/testfile-line" "$next/shell"
cp -R "$p/testfiles" "$p/testfiles-negative" "$next/parser/"
cp "$p/testfile-line/Dockerfile" "$next/parser/testfile-line/"
cp "$s/envVarTest" "$s/wordsTest" "$next/shell/"
cp "$src/LICENSE" "$next/"
cat >"$next/SOURCE.md" <<EOT
BuildKit's Dockerfile parser and shell-lexer test data (Apache License 2.0, see LICENSE), unchanged,
from https://github.com/moby/buildkit at commit $COMMIT, fetched by \`npm run conformance:get\`.
EOT
rm -rf "$dest"
mv "$next" "$dest"
echo "conformance:get: BuildKit's test data at $COMMIT is in ${dest#"$root"/}"
