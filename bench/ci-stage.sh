#!/usr/bin/env bash
# ci-stage.sh — tests/run-all.sh's bench stage: the benchmark suite in smoke mode (it still works;
# figures are not judged), then the callgrind gate (instructions per frame of the main cases
# against bench/callgrind-baseline.txt; more than 3 % worse fails). PASS/FAIL lines from both;
# non-zero exit if either failed.
cd "$(dirname "$0")/.."
bench/run.sh --smoke
rc=$?
bench/callgrind_gate.py --ferryd "${FERRYD:-build/app/ferryd/ferryd}" || rc=1
exit $rc
