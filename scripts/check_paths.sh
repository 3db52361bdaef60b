#!/usr/bin/env bash
# check_paths.sh - every repository path named in the docs, the README and the source
# comments must exist: a doc that points at a moved or deleted file misleads its reader.
# Prints each dangling reference as FILE:LINE: PATH and exits 1 if there is any.
# A path may be relative to the repository or to the naming file's folder. Paths with glob
# characters or placeholders (NNN, NAME, <...>) are not checked.
set -euo pipefail
cd "$(dirname "$0")/.."
roots='engine|faultfs|harness|workloads|oracle|reports|docs|scripts|tests|fuzz|examples|\.ci'
bad=0
while IFS= read -r hit; do
  file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}; path=${rest#*:}
  path=${path%.}; path=${path%,}
  case $path in *'*'*|*'<'*|*NNN*|*NAME*|*'{'*|*XXXX*) continue ;; esac
  case $path in */|*.c|*.h|*.md|*.sh|*.py|*.txt|*.in|*.cmake|*.json|*.yml) ;; *) continue ;; esac
  # a path relative to the naming file's own folder (module CMakeLists, module docs) counts too
  [ -e "$path" ] || [ -e "$(dirname "$file")/$path" ] && continue
  echo "$file:$line: $path"
  bad=1
done < <(git ls-files -- '*.md' '*.c' '*.h' '*.sh' '*.py' 'CMakeLists.txt' '*/CMakeLists.txt' '*.cmake' '*.in' |
         xargs grep -noE "(^|[^A-Za-z0-9_./-])($roots)/[A-Za-z0-9_./*<>{}-]*[A-Za-z0-9_*>}/]" |
         sed -E 's/:[^A-Za-z0-9_.]?((engine|faultfs|harness|workloads|oracle|reports|docs|scripts|tests|fuzz|examples|\.ci)\/)/:\1/')
# the project stands on its own: nothing may point outside the repository for its design
if git ls-files | xargs grep -nE '\.\./shared/|[^a-z/]DESIGN\.md' -- 2>/dev/null | grep -v '^scripts/check_paths.sh:'; then
  echo "the lines above cite files outside the repository (the design is docs/design.md)"
  bad=1
fi
exit $bad
