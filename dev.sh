#!/usr/bin/env bash
# dev.sh: one entry point for a fresh Debian 12 machine.
#   ./dev.sh run    install packages (idempotent), build, run the server on port 6379
#   ./dev.sh test   install packages, build (normal + ASan), run every test suite
#   ./dev.sh build  install packages and build only
set -euo pipefail
cd "$(dirname "$0")"
TOP=$(pwd)

PACKAGES=(build-essential autoconf automake libtool pkg-config
          libevent-dev libssl-dev liblz4-dev check libinih-dev libjemalloc-dev libxxhash-dev
          liblzf-dev liblua5.1-0-dev lua-cjson-dev lua-bitop-dev openssl redis-server redis-tools memcached libmemcached-tools
          python3-redis python3-pytest python3-pymemcache valgrind gnuplot-nox clang libclang-rt-14-dev)

setup() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "dev.sh: installing ${missing[*]}"
        local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
    fi
}

# build DIR [configure flags...]
build() {
    local dir=$1; shift
    [ -x "$TOP/configure" ] || (cd "$TOP" && autoreconf -fi >/dev/null)
    mkdir -p "$dir"
    (cd "$dir" && { [ -f Makefile ] && [ "$TOP/configure" -ot Makefile ] || "$TOP/configure" "$@" >/dev/null; } \
        && make -j"$(nproc)" >/dev/null)
}

run_tests() {
    local passed=0 failed=0 log
    log=$(mktemp)
    count() { # parse "N passed" / "N failed" from pytest or automake output in $log
        local p f
        p=$(grep -Eo '([0-9]+) passed' "$log" | tail -1 | grep -Eo '[0-9]+' || true)
        p=${p:-0}
        f=$(grep -Eo '([0-9]+) (failed|error)' "$log" | awk '{s+=$1} END {print s+0}' || true)
        passed=$((passed + p)); failed=$((failed + f))
    }
    unit() { # unit tests through make check; counts from the .log files
        local dir=$1
        if (cd "$dir" && make -j"$(nproc)" check >"$log" 2>&1); then :; fi
        local p f
        p=$(cat "$dir"/tests/unit/test_*.log 2>/dev/null | grep -Eo '[0-9]+%: Checks: [0-9]+' | awk '{s+=$3} END {print s+0}' || true)
        f=$(cat "$dir"/tests/unit/test_*.log 2>/dev/null | grep -Eo 'Failures: [0-9]+, Errors: [0-9]+' | awk -F'[ ,]+' '{s+=$2+$4} END {print s+0}' || true)
        if grep -q '^# FAIL: *[1-9]' "$log"; then f=$((f > 0 ? f : 1)); fi
        echo "unit ($dir): $p checks, $f failed"
        passed=$((passed + p)); failed=$((failed + f))
    }
    integ() { # integ BUILD THREADS [pytest args...]
        local dir=$1 threads=$2; shift 2
        (cd "$TOP/tests/integration" && DRAGONFLY_BIN="$dir/dragonfly" DF_TEST_THREADS=$threads \
            PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@") >"$log" 2>&1 || true
        tail -3 "$log"
        grep -E '^(FAILED|ERROR)' "$log" | head -20 || true
        grep -E '^E  ' "$log" | head -20 || true # the failed assertions, for the record
        count
    }
    unit "$TOP/build"
    integ "$TOP/build" 1
    integ "$TOP/build" 3
    unit "$TOP/build-asan"
    integ "$TOP/build-asan" 3 test_protocol.py test_strings.py test_multi.py test_torture.py test_keys.py test_hll.py test_geo.py test_pubsub.py test_keyspace_events.py test_maxmemory.py test_metrics.py test_snapshot.py test_replica.py test_memcached.py test_scripting.py test_scripting_libs.py test_script_kill.py test_functions.py test_aof.py test_acl.py test_tls.py test_streams.py test_monitor.py test_tracking.py test_migrate.py test_output_limits.py test_supervised.py
    (DRAGONFLY_BIN="$TOP/build/dragonfly" "$TOP/bench/run-smoke" --server "$TOP/build/dragonfly" >"$log" 2>&1 \
        && { echo "bench smoke: ok"; passed=$((passed + 1)); }) \
        || { echo "bench smoke: FAILED"; tail -20 "$log"; failed=$((failed + 1)); }
    rm -f "$log"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

case "${1:-}" in
    run)
        setup; build "$TOP/build"
        exec "$TOP/build/dragonfly" --port 6379 "${@:2}" ;;
    build)
        setup; build "$TOP/build" ;;
    test)
        setup
        build "$TOP/build"
        build "$TOP/build-asan" --enable-asan --enable-debug
        run_tests ;;
    *)
        echo "usage: $0 run|test|build" >&2; exit 2 ;;
esac
