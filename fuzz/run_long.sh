#!/usr/bin/env bash
# Long coverage-guided fuzz run of one target with atheris (see fuzz/README.md).
#
#   bash fuzz/run_long.sh <cms|archive|names|certificate> [seconds=3600] [libFuzzer options...]
#
# Environment:
#   PYTHON           interpreter with atheris (default: <repo>/.venv/bin/python)
#   FUZZ_WORK        work folder (default: ${TMPDIR:-/tmp}/sro-fuzz); per target it keeps
#                    corpus/ (grows across runs), seeds/ (rewritten each run) and artifacts/
#   SRO_FUZZ_STRICT  1 = also stop on the known bugs of tests/fuzz/targets.py KNOWN_BUGS
#   SRO_FUZZ_CORPUS  shared corpus (default: <repo>/../shared/corpus)
set -euo pipefail

usage() { echo "usage: bash fuzz/run_long.sh <cms|archive|names|certificate> [seconds=3600] [libFuzzer options...]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
target=$1; shift
case "$target" in cms|archive|names|certificate) ;; *) usage ;; esac
seconds=3600
if [[ $# -ge 1 && $1 =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${PYTHON:-$repo/.venv/bin/python}
work=${FUZZ_WORK:-${TMPDIR:-/tmp}/sro-fuzz}/$target
mkdir -p "$work/corpus" "$work/artifacts"

if ! "$py" -c "import atheris" 2>/dev/null; then
    echo "atheris is not importable by $py; install it: $py -m pip install 'atheris>=3.0'" >&2
    exit 3
fi

cd "$repo"
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
"$py" -m tests.fuzz.targets seed "$target" "$work/seeds"

echo "fuzzing $target for ${seconds}s; corpus $work/corpus, crashes go to $work/artifacts/" >&2
status=0
# New interesting inputs are written to the FIRST corpus folder (corpus/); seeds/ is read only.
"$py" -m tests.fuzz.targets "$target" \
    -max_total_time="$seconds" \
    -max_len=131072 \
    -rss_limit_mb=4096 \
    -timeout=60 \
    -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" \
    "$@" \
    "$work/corpus" "$work/seeds" || status=$?

if [[ $status -ne 0 ]]; then
    echo "fuzzer stopped with exit status $status; artifacts:" >&2
    ls -l "$work/artifacts/" >&2 || true
    echo "reproduce: PYTHONPATH=$repo $py -m tests.fuzz.targets $target <artifact>" >&2
fi
exit "$status"
