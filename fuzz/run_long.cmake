# One long fuzz job (ctest label fuzz-long, `make fuzz`):
#   cmake -DFUZZER=path -DTIME=seconds -DOPTS="..." -DCORPUS=dir -DWORK=dir -P run_long.cmake
# Runs FUZZER for TIME seconds from the committed corpus CORPUS, new inputs in
# WORK/new, its log in WORK/log. It runs in libFuzzer's fork mode with one
# worker (-fork=1: one core) and goes on after a finding, so that one known
# crash does not end an hour's run: every finding (a crash, an oracle's abort,
# a timeout) is saved in WORK, and the job fails at the end naming them. The
# new inputs are merged into CORPUS first, minimised (-merge=1 keeps only
# inputs that add coverage), so the corpus grows by what the run found.
foreach(v FUZZER TIME CORPUS WORK)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_long.cmake: -D${v}=... is required")
  endif()
endforeach()
separate_arguments(OPTS)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/new ${CORPUS})
execute_process(
  COMMAND ${FUZZER} -max_total_time=${TIME} -fork=1 -ignore_crashes=1 -ignore_timeouts=1
          -ignore_ooms=1 -artifact_prefix=${WORK}/ ${OPTS} ${WORK}/new ${CORPUS}
  RESULT_VARIABLE rc ERROR_FILE ${WORK}/log)
# the last progress line: executions, coverage (cov: edges, ft: features), corpus
file(STRINGS ${WORK}/log progress REGEX "^#[0-9]+: cov:")
list(LENGTH progress n)
if(n GREATER 0)
  math(EXPR last "${n} - 1")
  list(GET progress ${last} line)
  message(STATUS "fuzz: ${line}")
endif()
file(GLOB found ${WORK}/crash-* ${WORK}/timeout-* ${WORK}/oom-* ${WORK}/leak-*)
execute_process(COMMAND ${FUZZER} -merge=1 ${OPTS} ${CORPUS} ${WORK}/new
                RESULT_VARIABLE mrc ERROR_FILE ${WORK}/merge.log)
if(NOT mrc EQUAL 0)
  message(FATAL_ERROR "fuzz: merging into ${CORPUS} failed (log: ${WORK}/merge.log)")
endif()
file(STRINGS ${WORK}/merge.log merged REGEX "MERGE-OUTER: [0-9]+ new files")
message(STATUS "${merged}")
if(found OR NOT rc EQUAL 0)
  # fork mode keeps the workers' output to itself: run each reproducer once for its message
  set(report "")
  foreach(f ${found})
    execute_process(COMMAND ${FUZZER} ${OPTS} ${f} ERROR_VARIABLE out OUTPUT_QUIET RESULT_VARIABLE frc)
    string(REGEX MATCHALL "(ORACLE|SUMMARY)[^\n]*" why "${out}")
    list(GET why 0 first)
    string(APPEND report "  ${f}\n    ${first}\n")
  endforeach()
  message(FATAL_ERROR "fuzz: ${FUZZER} found something (exit ${rc}):\n${report}log: ${WORK}/log")
endif()
