#!/usr/bin/env bash
# Every command the book tells the reader to run, in one list, in two modes.
#
#   bash book/generate.sh                     # generate: run them, write book/src/output/
#   bash book/generate.sh chapter6 comparing  # only those sections
#   bash book/generate.sh --check             # check: run them all at small sizes, write nothing
#
# Generate mode re-creates every output, table and figure the chapters include, from real runs
# on this machine (about 20 minutes, on an otherwise idle machine: it runs benchmarks). Each
# transcript starts with a comment naming the machine and date, then the command exactly as a
# reader types it, then what it printed (stdout and stderr). Commit the results.
#
# Check mode (CI runs it) runs the same commands, and the ones the book only mentions, with
# fewer connections (at most 2,000, so that select still meets its limit), one repeat,
# benchmarks once each (criterion's --test) and servers on port 0. It checks each exit status,
# and that each output still has the shape the chapter describes (the patterns for its name in
# book/shapes.txt). It reports every failure, then exits 1 if there was any. book-check's tests
# make sure that every command the book and the README give is in this file.
set -euo pipefail
cd "$(dirname "$0")/.."
out=book/src/output
mkdir -p "$out"

mode=generate
if [ "${1:-}" = "--check" ]; then
    mode=check
    shift
fi
failures=()
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ "$mode" = check ]; then
    # Two of the book's commands use them (the introduction's curl, comparing's jq).
    for tool in curl jq; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "generate.sh --check: the book's commands need $tool; install it (for example: apt install $tool)" >&2
            exit 2
        fi
    done
fi

cargo build --release --workspace --bins
machine="$(nproc)-core $(uname -m), Linux $(uname -r | cut -d- -f1), $(date -u +%Y-%m-%d)"

# quiet COMMAND...: the command with `-q` after `cargo run`, so cargo's own progress lines stay
# out of the transcript.
quiet() {
    if [ "$1 $2" = "cargo run" ]; then
        cargo run -q "${@:3}"
    else
        "$@"
    fi
}

# shrink COMMAND...: sets the array `cmd` to COMMAND, made small in check mode: at most 2,000
# connections, one repeat, benchmarks run once (criterion's --test), servers on port 0, and
# files (--svg) written to a scratch folder.
shrink() {
    cmd=("$@")
    [ "$mode" = check ] || return 0
    local i
    for ((i = 0; i < ${#cmd[@]}; i++)); do
        case "${cmd[i]}" in
            --connections) if [ "${cmd[i + 1]}" -gt 2000 ]; then cmd[i + 1]=2000; fi ;;
            --repeat) cmd[i + 1]=1 ;;
            --addr) cmd[i + 1]="${cmd[i + 1]%:*}:0" ;;
            --svg) cmd[i + 1]="$scratch/$(basename "${cmd[i + 1]}")" ;; # writes nothing of the book's
        esac
    done
    if [ "${cmd[0]} ${cmd[1]}" = "cargo bench" ]; then
        cmd+=(-- --test)
    fi
}

# fail WHAT WHY: records a failure (check mode goes on with the next command); generate mode
# stops at once.
fail() {
    printf 'generate.sh: %s: %s\n' "$1" "$2" >&2
    if [ "$mode" = generate ]; then
        exit 1
    fi
    failures+=("$1")
}

# check_shape NAME TEXT: every pattern book/shapes.txt gives for NAME matches a line of TEXT.
check_shape() {
    local name=$1 text=$2 pattern found=0
    while IFS=$'\t' read -r key pattern; do
        [ "$key" = "$name" ] || continue
        found=1
        if [[ "$pattern" == '!'* ]]; then
            if grep -Eq -- "${pattern#!}" <<<"$text"; then
                fail "$name" "a line matches /${pattern#!}/, which none should, in:
$(head -n 40 <<<"$text")"
                return 0
            fi
        elif ! grep -Eq -- "$pattern" <<<"$text"; then
            fail "$name" "no line matches /$pattern/ in:
$(head -n 40 <<<"$text")"
            return 0
        fi
    done < <(grep -v '^#' book/shapes.txt)
    if [ "$found" = 0 ]; then
        fail "$name" "book/shapes.txt has no pattern for it"
    else
        echo "checked $name"
    fi
}

# elide: shortens long runs of the step 3 "fd N connected to ADDR" progress lines to their first
# three and last two, with a line in brackets saying how many the book left out (worded so that
# it does not read as the program's own output).
elide() {
    awk '
        function flush() {
            if (n <= 6) { for (i = 1; i <= n; i++) print run[i] }
            else {
                for (i = 1; i <= 3; i++) print run[i]
                printf "[the book cuts %d more lines like these]\n", n - 5
                for (i = n - 1; i <= n; i++) print run[i]
            }
            n = 0
        }
        /^fd [0-9]+ connected to / { run[++n] = $0; next }
        { flush(); print }
        END { flush() }
    '
}

# run_checked NAME STATUS: runs `cmd`, which must exit with STATUS; its output (stdout and
# stderr, elided) is left in `text`. Returns 1 (after recording the failure) if it did not.
run_checked() {
    local name=$1 expected=$2 status=0
    text=$(quiet "${cmd[@]}" 2>&1 | elide; exit "${PIPESTATUS[0]}") || status=$?
    if [ "$status" != "$expected" ]; then
        fail "$name" "\`${cmd[*]}\` exited with $status, expected $expected:
$(head -n 40 <<<"$text")"
        return 1
    fi
}

# transcript NAME STATUS COMMAND...: runs COMMAND, which must exit with STATUS, and writes
# $out/NAME.txt (generate) or checks its shape (check).
transcript() {
    local name=$1 expected=$2 text
    shift 2
    shrink "$@"
    run_checked "$name" "$expected" || return 0
    if [ "$mode" = check ]; then
        check_shape "$name" "$text"
        return 0
    fi
    printf '# on a %s\n$ %s\n%s\n' "$machine" "$*" "$text" >"$out/$name.txt"
    echo "wrote $out/$name.txt"
}

# mentioned NAME STATUS COMMAND...: a command the book gives without showing its output: only
# checked (check mode), never written.
mentioned() {
    local name=$1 expected=$2 text
    shift 2
    [ "$mode" = check ] || return 0
    shrink "$@"
    run_checked "$name" "$expected" || return 0
    check_shape "$name" "$text"
}

# pipeline NAME LINE: a shell line the book gives (commands joined by pipes or files), run as
# it is, from the top of the workspace (it cleans up after itself); only checked, never written.
pipeline() {
    local name=$1 line=$2 status=0 text
    [ "$mode" = check ] || return 0
    text=$(bash -c "set -o pipefail; $line" 2>&1) || status=$?
    if [ "$status" != 0 ]; then
        fail "$name" "\`$line\` exited with $status:
$(head -n 40 <<<"$text")"
        return 0
    fi
    check_shape "$name" "$text"
}

# shell_transcript NAME LINE [STATUS]: a shell line the book gives with its output (one that sets an
# environment variable, say), run from the top of the workspace; cargo's own progress lines are
# left out. It must exit with STATUS (0 unless given). Writes $out/NAME.txt (generate) or checks its
# shape (check).
shell_transcript() {
    local name=$1 line=$2 expected=${3:-0} status=0 text
    text=$(bash -c "set -o pipefail; $line" 2>&1 |
        grep -Ev '^ *(Compiling|Checking|Finished|Running|Blocking|Preparing|Downloaded|Downloading|Locking|Adding) |^A sysroot for Miri is now available';
        exit "${PIPESTATUS[0]}") || status=$?
    if [ "$status" != "$expected" ]; then
        fail "$name" "\`$line\` exited with $status, expected $expected:
$(head -n 40 <<<"$text")"
        return 0
    fi
    if [ "$mode" = check ]; then
        check_shape "$name" "$text"
        return 0
    fi
    printf '# on a %s\n$ %s\n%s\n' "$machine" "$line" "$text" >"$out/$name.txt"
    echo "wrote $out/$name.txt"
}

# svg_out NAME SVG: in check mode, that SVG is an SVG; in generate mode, writes it as
# $out/NAME.svg.
svg_out() {
    local name=$1 svg=$2
    if [ "$mode" = check ]; then
        if [[ "$svg" == "<svg"* ]]; then echo "checked $name"; else fail "$name" "no SVG came out"; fi
        return 0
    fi
    printf '%s\n' "$svg" >"$out/$name.svg"
    echo "wrote $out/$name.svg"
}

# figure NAME TITLE COMMAND...: runs COMMAND with --json and draws its timeline as
# $out/NAME.svg (check: that an SVG comes out).
figure() {
    local name=$1 title=$2 caption svg
    shift 2
    shrink "$@"
    caption=$(printf '%s\n$ %s --json\non a %s' "$title" "$*" "$machine")
    if ! svg=$(quiet "${cmd[@]}" --json | ./target/release/testbed timeline --svg --title "$caption"); then
        fail "$name" "\`${cmd[*]} --json | testbed timeline --svg\` failed"
        return 0
    fi
    svg_out "$name" "$svg"
}

# table NAME COMMAND...: runs COMMAND (whose stdout is Markdown) and writes it, with the
# command under it, to $out/NAME.md. Progress on stderr is dropped.
table() {
    local name=$1 text
    shift
    shrink "$@"
    if ! text=$(quiet "${cmd[@]}" 2>/dev/null); then
        fail "$name" "\`${cmd[*]}\` failed"
        return 0
    fi
    if [ "$mode" = check ]; then
        check_shape "$name" "$text"
        return 0
    fi
    printf '%s\n\n(`%s`)\n' "$text" "$*" >"$out/$name.md"
    echo "wrote $out/$name.md"
}

# bench COMMAND...: runs a `cargo bench` command, for the tables (check: each benchmark once).
bench() {
    shrink "$@"
    if ! "${cmd[@]}" >/dev/null 2>&1; then
        fail "$*" "\`${cmd[*]}\` failed"
    elif [ "$mode" = check ]; then
        echo "checked $*"
    fi
}

# bench_table NAME CRATE BENCH GROUP COLUMNS ROW_LABEL CAPTION: after `bench CRATE BENCH`,
# turns criterion's estimates for GROUP into $out/NAME.md, captioned "CAPTION, measured by ..."
# (generate only: check mode's single runs leave no estimates; the table tool itself is tested
# by book-check).
bench_table() {
    local name=$1 crate=$2 bench=$3 group=$4 columns=$5 row_label=$6 caption=$7
    [ "$mode" = generate ] || return 0
    {
        cargo run -q -p book-check -- criterion-table "target/criterion/${crate}_$group" \
            --columns "$columns" --row-label "$row_label"
        printf '\n%s, measured by `cargo bench -p %s --bench %s` on a %s.\n' "$caption" "$crate" "$bench" "$machine"
    } >"$out/$name.md"
    echo "wrote $out/$name.md"
}

# session NAME WRITE SERVER CLIENT: starts SERVER (a `cargo run [--release] -p CRATE -- ARGS`
# line, run from its release binary), waits for its `listening on HOST:PORT` line, runs the
# bash CLIENT against it (which sees the port as $PORT), stops the server, and writes the
# session, as a reader would see it in two terminals, to $out/NAME.txt (if WRITE is 1, in
# generate mode) or checks its shape (check mode).
session() {
    local name=$1 write=$2 server=$3 client=$4
    local log pid addr port reply words crate
    read -r -a words <<<"$server"
    shrink "${words[@]}"
    # cmd is now: cargo run [--release] -p CRATE -- ARGS...
    local i=2
    [ "${cmd[i]}" = --release ] && i=$((i + 1))
    crate=${cmd[i + 1]}
    log=$(mktemp)
    ./target/release/"$crate" "${cmd[@]:i+3}" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q '^listening on ' "$log" && break; sleep 0.05; done
    addr=$(sed -n 's/^listening on //p' "$log")
    if [ -z "$addr" ]; then
        kill "$pid" 2>/dev/null || true
        fail "$name" "\`$server\` did not say where it listens: $(cat "$log")"
        rm -f "$log"
        return 0
    fi
    port=${addr##*:}
    reply=$(PORT=$port bash -c "$client" 2>&1) || true
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    local text
    text=$(
        printf '# on a %s\n' "$machine"
        printf '$ %s\n%s\n\n' "$server" "$(cat "$log")"
        printf '# in another terminal:\n$ %s\n%s\n' "${client//\$PORT/$port}" "$reply"
    )
    rm -f "$log"
    if [ "$mode" = check ]; then
        check_shape "$name" "$text"
    elif [ "$write" = 1 ]; then
        printf '%s\n' "$text" >"$out/$name.txt"
        echo "wrote $out/$name.txt"
    fi
}

# The introduction (and the real-servers appendix): the server on its own, and curl.
introduction() {
    session testbed-serve 1 "cargo run --release -p testbed -- serve --delay-ms 50" 'curl -si http://127.0.0.1:$PORT/delay/200'
}

# Chapter 1
chapter1() {
    transcript step01-connect 0 cargo run --release -p step01-blocking --bin connect
    transcript step01-sequential 0 cargo run --release -p step01-blocking -- --connections 20 --timeline
    figure step01-sequential "step01-blocking, sequential" \
        cargo run --release -p step01-blocking -- --connections 20
    transcript step01-threads 0 cargo run --release -p step01-blocking -- --variant threads --connections 100 --timeline
    figure step01-threads "step01-blocking, threads" \
        cargo run --release -p step01-blocking -- --variant threads --connections 100
    transcript step01-thread-cost 0 cargo run --release -p step01-blocking --bin thread_cost
    transcript step01-threads-1000 0 cargo run --release -p step01-blocking -- --variant threads --connections 1000
}

# Chapter 2
chapter2() {
    book_check_figure step02-connection states step02-connection
    transcript step02-count 0 cargo run --release -p step02-nonblocking --bin count_while_connecting
    transcript step02-count-refused 1 cargo run --release -p step02-nonblocking --bin count_while_connecting -- --refused
    transcript step02-busy-wait 0 cargo run --release -p step02-nonblocking -- --connections 100 --timeline
    figure step02-busy-wait "step02-nonblocking, busy-wait" \
        cargo run --release -p step02-nonblocking -- --connections 100
    transcript step02-busy-wait-1000 0 cargo run --release -p step02-nonblocking -- --connections 1000
}

# Chapter 3
chapter3() {
    transcript step03-select 0 cargo run --release -p step03-select -- --timeline
    figure step03-select "step03-select, select" cargo run --release -p step03-select --
    transcript step03-fd-setsize 1 cargo run --release -p step03-select -- --connections 1100
    transcript step03-poll-10000 0 cargo run --release -p step03-select -- --variant poll --connections 10000
    transcript step03-epoll-10000 0 cargo run --release -p step03-select -- --variant epoll --connections 10000
    bench cargo bench -p step03-select --bench wait
    bench_table step03-wait step03-select wait wait select,poll,epoll "idle descriptors (+1 ready)" \
        "Median time of one wait call"
}

# Chapter 4
chapter4() {
    transcript step04-callbacks 0 cargo run --release -p step04-callbacks -- --timeline
    figure step04-callbacks "step04-callbacks, callbacks" cargo run --release -p step04-callbacks --
    session step04-hello 1 "cargo run --release -p step04-callbacks -- hello-server --addr 127.0.0.1:8000" \
        'for i in 1 2 3; do exec 3<>/dev/tcp/127.0.0.1/$PORT; cat <&3; exec 3<&-; done'
    session step04-echo 1 "cargo run --release -p step04-callbacks -- echo-server --addr 127.0.0.1:8001" \
        'exec 3<>/dev/tcp/127.0.0.1/$PORT; printf "echo, echo\n" >&3; head -n 1 <&3'
}

# Chapter 5
chapter5() {
    book_check_figure step05-fetch states step05-fetch
    transcript step05-toy-block-on 0 cargo run --release -p step05-futures --bin toy_block_on
    transcript step05-toy-executor 0 cargo run --release -p step05-futures --bin toy_executor
    transcript step05-toy-reactor 0 cargo run --release -p step05-futures --bin toy_reactor
    transcript step05-state-machine 0 cargo run --release -p step05-futures -- --timeline
    figure step05-state-machine "step05-futures, state-machine" cargo run --release -p step05-futures --
    transcript step05-as-completed 0 cargo run --release -p step05-futures --bin as_completed
    transcript step05-trace 0 cargo run --release -p step05-futures -- --connections 2 --trace
    transcript step05-task-vs-future 0 cargo run --release -p step05-futures --bin task_vs_future
    transcript step05-first-to-finish 0 cargo run --release -p step05-futures --bin first_to_finish
    bench cargo bench -p step05-futures --bench machinery
    local group
    for group in wake_and_poll spawn_and_finish; do
        bench_table "step05-$group" step05-futures machinery "$group" ours,futures-executor,tokio count \
            "Median time for the whole count"
    done
    bench_table step05-timers step05-futures machinery timers set-and-cancel count \
        "Median time for the whole count"
}

# Chapter 6
chapter6() {
    transcript step06-ours 0 cargo run --release -p step06-async-await -- --timeline
    transcript step06-tokio 0 cargo run --release -p step06-async-await -- --runtime tokio
    transcript step06-limit 0 cargo run --release -p step06-async-await -- --connections 20 --limit 5 --timeline
    transcript step06-block 0 cargo run --release -p step06-async-await -- --connections 20 --block-ms 200 --timeline
    figure step06-block "step06-async-await, a task blocking the loop for 200 ms" \
        cargo run --release -p step06-async-await -- --connections 20 --block-ms 200
    transcript step06-block-pool 0 cargo run --release -p step06-async-await -- --connections 20 --block-ms 200 --blocking-pool --timeline
    transcript step06-sizes 0 cargo run --release -p step06-async-await --bin future_sizes
    bench cargo bench -p step06-async-await --bench ours_vs_tokio
    local group
    for group in fan_out spawn echo; do
        bench_table "step06-$group" step06-async-await ours_vs_tokio "$group" ours,tokio workload \
            "Median time per run"
    done
}

# Chapter 7
chapter7() {
    book_check_figure step07-stacks stacks
    transcript step07-green 0 cargo run --release -p step07-green-threads -- --timeline
    figure step07-green "step07-green-threads, green" cargo run --release -p step07-green-threads --
    transcript step07-limit 0 cargo run --release -p step07-green-threads -- --connections 20 --limit 5 --timeline
    transcript step07-10000 0 cargo run --release -p step07-green-threads -- --connections 10000
    transcript step07-green-cost 0 cargo run --release -p step07-green-threads --bin green_cost
    table step07-memory cargo run --release -p compare -- --connections 10000 \
        --steps step01-blocking/threads,step06-async-await,step07-green-threads,tokio --markdown
    transcript step07-implicit-switch 0 cargo run --release -p step07-green-threads --bin implicit_switch
    bench cargo bench -p step07-green-threads --bench switch
    bench_table step07-round_trip step07-green-threads switch round_trip \
        green-yield,step05-wake-and-poll,os-thread-ping-pong count "Median time for the whole count"
    bench_table step07-spawn_and_join step07-green-threads switch spawn_and_join \
        green,os-threads count "Median time for the whole count"
    bench_table step07-fan_out step07-green-threads switch fan_out \
        green,step05-join-all count "Median time for the whole count"
}

# syscalls NAME N STEP[/VARIANT]...: each step's fan-out of N connections under `strace -c`, in
# the step's own process (not the embedded server's), as a table of system calls in all and
# per connection, written as $out/NAME.md (check: at 100 connections, that the counts come).
syscalls() {
    local name=$1 n=$2 spec crate variant total rows="" text
    shift 2
    [ "$mode" = check ] && n=100
    if ! command -v strace >/dev/null 2>&1; then
        fail "$name" "strace is not installed (Debian: apt-get install strace)"
        return 0
    fi
    for spec in "$@"; do
        crate=${spec%%/*}
        variant=${spec#*/}
        local args=(--connections "$n")
        [ "$variant" != "$spec" ] && args+=(--variant "$variant")
        if ! strace -c -q -o "$scratch/strace.txt" ./target/release/"$crate" "${args[@]}" >/dev/null 2>&1; then
            fail "$name" "\`strace -c ./target/release/$crate ${args[*]}\` failed"
            return 0
        fi
        total=$(awk '$NF == "total" {print $4}' "$scratch/strace.txt")
        rows+="| $spec | $total | $(awk -v t="$total" -v n="$n" 'BEGIN {printf "%.2f", t / n}') |"$'\n'
    done
    text=$(printf '| step | system calls | per connection |\n|---|---:|---:|\n%s\n%s connections, server delay 50 ms, counted in the step'"'"'s own process by `strace -c -q ./target/release/STEP --connections %s > /dev/null`, on a %s.' "$rows" "$n" "$n" "$machine")
    if [ "$mode" = check ]; then
        check_shape "$name" "$text"
        return 0
    fi
    printf '%s\n' "$text" >"$out/$name.md"
    echo "wrote $out/$name.md"
}

# overflows NAME N: step 8's fan-out of N connections between two readings of the kernel's
# TCP counters (`nstat`), as a transcript: the accept-queue overflows and SYN retransmits it
# caused. They do not happen on every run (it depends on how fast the server accepts), and the
# chapter shows one where they did: generate mode tries up to five runs. (Check: that the
# commands run; the counts may be zero at the check's size.)
overflows() {
    local name=$1 n=$2 run counts text attempt
    [ "$mode" = check ] && n=2000
    if ! command -v nstat >/dev/null 2>&1; then
        fail "$name" "nstat is not installed (Debian: apt-get install iproute2)"
        return 0
    fi
    # A run in which a connection caught in an overflow was reset exits 1 (the chapter says
    # so): it is not the one to show, and another attempt is made.
    local output failed="" good=""
    for attempt in 1 2 3 4 5; do
        nstat -n >/dev/null
        if ! output=$(./target/release/step08-io-uring --connections "$n"); then
            failed=$output
            continue
        fi
        run=$output good=yes
        counts=$(nstat | grep -E 'TcpExtListenOverflows|TcpExtTCPSynRetrans' || true)
        [ "$mode" = check ] || [ -n "$counts" ] && break
    done
    if [ -z "$good" ]; then
        fail "$name" "step08-io-uring --connections $n failed in all five attempts; the last:
$(grep -iE 'error|fail|reset' <<<"$failed" | tail -n 10)"
        return 0
    fi
    text=$(printf '# on a %s\n$ nstat -n; cargo run --release -p step08-io-uring -- --connections %s\n%s\n$ nstat | grep -E '"'"'ListenOverflows|SynRetrans'"'"'\n%s' "$machine" "$n" "$run" "${counts:-(none)}")
    if [ "$mode" = check ]; then
        check_shape "$name" "$text"
        return 0
    fi
    printf '%s\n' "$text" >"$out/$name.txt"
    echo "wrote $out/$name.txt (attempt $attempt)"
}

# batches_figure NAME: the two queues of io_uring, drawn from a real traced run of step 8.
batches_figure() {
    local name=$1 svg
    shrink cargo run --release -p step08-io-uring -- --connections 20 --trace
    if ! svg=$(quiet "${cmd[@]}" | ./target/release/book-check batches \
        --title "The two queues, in a real run of twenty connections" \
        --caption "Drawn from: \$ ${cmd[*]} | book-check batches" \
        --caption "on a $machine; the last three rows are the ring's drop"); then
        fail "$name" "\`${cmd[*]} | book-check batches\` failed"
        return 0
    fi
    svg_out "$name" "$svg"
}

# Chapter 8
chapter8() {
    transcript step08-ring 0 cargo run --release -p step08-io-uring -- --timeline
    batches_figure step08-batches
    syscalls step08-syscalls 1000 step03-select/epoll step05-futures step06-async-await step08-io-uring
    overflows step08-overflows 10000
    transcript step08-tiny-ring 0 cargo run --release -p step08-io-uring -- --connections 1000 --ring-entries 4
    table step08-buffers cargo run --release -p compare -- --steps step05-futures,step06-async-await,step08-io-uring --connections 10000 --repeat 5 --markdown
    shell_transcript step08-pool-sizes 'for b in 16 64 512 4096; do cargo run -q --release -p step08-io-uring -- --connections 10000 --limit 4000 --pool-buffers $b --json | jq -c "{pool_buffers: $b, cpu_ms: (.cpu_user_ms + .cpu_sys_ms | round), peak_rss_mib: (.max_rss_kib / 1024 | round), pool_ran_dry, ok}"; done'
    bench cargo bench -p step08-io-uring --bench ring
    bench_table step08-nops step08-io-uring ring nops one-by-one,batched count \
        "Median time for the whole count, on one ring (making the ring is not timed)"
    bench_table step08-fan_out step08-io-uring ring fan_out \
        ring-pool,ring-owned,step05-join-all,step06-ours connections "Median time for the whole fan-out, no server delay"
}

# Chapter 9
chapter9() {
    transcript step09-fan-out 0 cargo run --release -p step09-work-stealing -- --connections 16 --timeline
    figure step09-fan-out "step09-work-stealing, two workers" \
        cargo run --release -p step09-work-stealing -- --connections 100
    transcript step09-blocked 0 cargo run --release -p step09-work-stealing -- --workers 2 --block-ms 300 --connections 12 --timeline
    transcript step09-blocked-tokio 0 cargo run --release -p step09-work-stealing -- --runtime tokio --workers 2 --block-ms 300 --connections 12 --timeline
    shell_transcript step09-idle 'cargo test -p step09-work-stealing --test idle -- --nocapture'
    shell_transcript step09-loom 'RUSTFLAGS="--cfg step09_loom" cargo test -p step09-work-stealing --test loom --release --target-dir target/loom'
    transcript step09-greedy-no-budget 0 cargo run --release -p step09-work-stealing -- --workers 1 --greedy --budget 0 --connections 12 --timeline
    transcript step09-greedy-budget 0 cargo run --release -p step09-work-stealing -- --workers 1 --greedy --connections 12 --timeline
    transcript step09-one-worker 0 cargo run --release -p step09-work-stealing -- --workers 1 --connections 10000
    transcript step09-two-workers 0 cargo run --release -p step09-work-stealing -- --workers 2 --connections 10000
    transcript step09-four-workers 0 cargo run --release -p step09-work-stealing -- --workers 4 --connections 10000
    shell_transcript step09-budgets 'for b in 0 1024 128 16 1; do cargo run -q --release -p step09-work-stealing -- --workers 1 --greedy --budget $b --connections 12 --json | jq -c "{budget: $b, last_connection_done_ms: ([.results[].done_ms] | max | round), greedy_until_ms}"; done'
    table step09-compare cargo run --release -p compare -- --steps step06-async-await,step09-work-stealing,tokio --repeat 3 --markdown
    table step09-compare-10000 cargo run --release -p compare -- --steps step06-async-await,step09-work-stealing,tokio --connections 10000 --repeat 3 --markdown
    transcript step09-echo 0 cargo run --release -p compare -- echo --servers step06-async-await,step09-work-stealing,tokio-multi-thread,tokio
    bench cargo bench -p step09-work-stealing --bench every_core
    bench_table step09-spawn step09-work-stealing every_core spawn ours,tokio tasks \
        "Median time to spawn 1,000 tasks from block_on's thread and wait for them all"
    bench_table step09-bench-fan-out step09-work-stealing every_core fan_out ours,tokio connections \
        "Median time for the whole fan-out"
}

# miri_transcript NAME STATUS COMMAND...: a `cargo +nightly miri` command, which must exit with
# STATUS, as a transcript without cargo's and Miri's progress lines. Miri needs a nightly
# toolchain with its component: check mode says it skipped when there is none (CI installs it
# first), generate mode fails.
miri_transcript() {
    local name=$1 expected=$2
    shift 2
    if ! cargo +nightly miri --version >/dev/null 2>&1; then
        if [ "$mode" = check ]; then
            echo "skipped $name: no nightly toolchain with miri (rustup toolchain install nightly --component miri)"
        else
            fail "$name" "no nightly toolchain with miri (rustup toolchain install nightly --component miri)"
        fi
        return 0
    fi
    shell_transcript "$name" "$*" "$expected"
}

# Cancellation
cancellation() {
    transcript cancellation-lines 0 cargo run -p cancellation -- lines
    transcript cancellation-write-all 0 cargo run -p cancellation -- write-all
    transcript cancellation-busy 0 cargo run -p cancellation -- busy
    transcript cancellation-tasks 0 cargo run -p cancellation -- tasks
    transcript cancellation-queue 0 cargo run -p cancellation -- queue
}

# Servers that behave
servers() {
    table servers-flood cargo run --release -p step06-async-await --bin flood
    table servers-flood-tokio cargo run --release -p step06-async-await --bin flood -- --runtime tokio
    table servers-flood-large cargo run --release -p step06-async-await --bin flood -- --clients 1000 --request-kib 256
    transcript servers-python 0 python3 book/python/servers.py
    transcript servers-shutdown 0 cargo run --release -p step06-async-await --bin shutdown
    transcript servers-shutdown-tokio 0 cargo run --release -p step06-async-await --bin shutdown -- --runtime tokio
    transcript servers-dump 0 cargo run --release -p step06-async-await -- --connections 5 --delay-ms 300 --dump-after-ms 100
    transcript servers-hang 0 cargo run --release -p step06-async-await --bin hang
    transcript servers-spans 0 cargo run --release -p step06-async-await --bin spans
}

# Pin
pinning() {
    transcript pinning-sizes 0 cargo run -p pinning -- sizes
    transcript pinning-unpinned 0 cargo run -p pinning -- unpinned
    miri_transcript pinning-miri 1 cargo +nightly miri run -p pinning -- unpinned
    transcript pinning-pinned 0 cargo run -p pinning -- pinned
    if cargo +nightly miri --version >/dev/null 2>&1; then
        mentioned pinning-miri-pinned 0 cargo +nightly miri run -p pinning -- pinned
    fi
    # The picture of the move, at this run's addresses.
    local file="$out/pin-move.svg"
    [ "$mode" = check ] && file="$scratch/pin-move.svg"
    if ! cargo run -q -p pinning -- svg "$file"; then
        fail pin-move "\`cargo run -p pinning -- svg FILE\` failed"
        return 0
    fi
    svg_out pin-move "$(cat "$file")"
}

# Interop
interop() {
    transcript interop 0 cargo run --release -p interop
    # The same cases again, drawn: who turns which reactor, beside each verdict.
    local svg
    shrink cargo run --release -p interop -- --svg "$out/interop.svg"
    if ! quiet "${cmd[@]}" --caption "Drawn from a real run: \$ cargo run --release -p interop -- --svg FILE" \
        --caption "on a $machine" >/dev/null; then
        fail interop.svg "\`${cmd[*]}\` failed"
        return 0
    fi
    svg=$(cat "${cmd[-1]}")
    svg_out interop "$svg"
}

# book_check_figure NAME ARGS...: the figure `book-check ARGS...` draws (state machines and
# stacks, each held to the code it shows by a test in book-check), written as NAME.svg in
# generate mode, checked in check mode.
book_check_figure() {
    local name=$1 svg
    shift
    if ! svg=$(./target/release/book-check "$@"); then
        fail "$name" "\`book-check $*\` failed"
        return 0
    fi
    svg_out "$name" "$svg"
}

# The lifecycle diagrams (chapter 5, comparing): one connection's life, and its one wake for
# the response, drawn from the same real step 5 trace.
lifecycle() {
    local trace svg
    shrink cargo run --release -p step05-futures -- --connections 1 --trace
    if ! trace=$(quiet "${cmd[@]}"); then
        fail lifecycle "\`${cmd[*]}\` failed"
        return 0
    fi
    if ! svg=$(./target/release/book-check lifecycle <<<"$trace" \
        --title "One connection's life, from step 3 to step 6" \
        --caption "Drawn from a real run of step 5: \$ ${cmd[*]} | book-check lifecycle" \
        --caption "on a $machine; the kernel's part is what each traced call implies"); then
        fail lifecycle "\`book-check lifecycle\` failed on the trace of \`${cmd[*]}\`"
        return 0
    fi
    svg_out lifecycle "$svg"
    if ! svg=$(./target/release/book-check lifecycle --one-wake <<<"$trace" \
        --title "One wake: from Pending to the next poll" \
        --caption "Drawn from a real run of step 5: \$ ${cmd[*]} | book-check lifecycle --one-wake" \
        --caption "on a $machine; the kernel's part is what each traced call implies"); then
        fail step05-one-wake "\`book-check lifecycle --one-wake\` failed on the trace of \`${cmd[*]}\`"
        return 0
    fi
    svg_out step05-one-wake "$svg"
}

# Comparing the steps
comparing() {
    table compare cargo run --release -p compare -- --repeat 3 --syscalls --markdown --svg "$out/compare.svg"
    table compare-10000 cargo run --release -p compare -- --connections 10000 --repeat 3 --syscalls --markdown
    table compare-50-pages cargo run --release -p compare -- --connections 50 --delay-ms 90 --markdown
    transcript compare-echo 0 cargo run --release -p compare -- echo
}

# The Python programs the chapters show (book/python/): check mode compiles them all and runs
# the ones that need only Python's standard library against a testbed server, with the port
# they name (8080) replaced by the server's. (tornado, twisted and gevent are not assumed.)
python_programs() {
    [ "$mode" = check ] || return 0
    local log pid port file name text status
    log=$(mktemp)
    ./target/release/testbed serve --addr 127.0.0.1:0 >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q '^listening on ' "$log" && break; sleep 0.05; done
    port=$(sed -n 's/^listening on 127\.0\.0\.1://p' "$log")
    for file in book/python/*.py; do
        name=python-$(basename "$file" .py)
        if ! python3 -m py_compile "$file" 2>"$scratch/compile.txt"; then
            fail "$name" "does not compile: $(cat "$scratch/compile.txt")"
            continue
        fi
        case "$name" in
            python-step04_flood) echo "compiled $name (a load for step 4's echo server, run by hand)"; continue ;;
            python-step04_* | python-step07_*) echo "compiled $name (needs tornado, twisted or gevent to run)"; continue ;;
        esac
        sed "s/8080/$port/g" "$file" >"$scratch/program.py"
        status=0
        text=$(timeout 60 python3 "$scratch/program.py" 2>&1) || status=$?
        if [ "$status" != 0 ]; then
            fail "$name" "exited with $status: $(head -n 20 <<<"$text")"
            continue
        fi
        check_shape "$name" "$text"
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -f "$log" book/python/__pycache__/*.pyc
    rmdir book/python/__pycache__ 2>/dev/null || true
}

# The commands the book and the README give without showing their output: checked, not written.
mentioned_commands() {
    # The README, and the introduction's "what to run".
    mentioned readme-compare 0 cargo run --release -p compare
    mentioned readme-threads 0 cargo run --release -p step01-blocking -- --variant threads --timeline
    mentioned readme-step01 0 cargo run --release -p step01-blocking -- --timeline
    mentioned readme-step02 0 cargo run --release -p step02-nonblocking -- --timeline
    mentioned readme-step03 0 cargo run --release -p step03-select -- --variant epoll --timeline
    mentioned readme-step05 0 cargo run --release -p step05-futures -- --connections 2 --trace
    mentioned readme-step06 0 cargo run --release -p step06-async-await -- --block-ms 200 --timeline
    mentioned readme-step07 0 cargo run --release -p step07-green-threads -- --limit 5 --connections 20 --timeline
    mentioned readme-step08 0 cargo run --release -p step08-io-uring -- --timeline
    mentioned readme-step09 0 cargo run --release -p step09-work-stealing -- --timeline
    mentioned readme-compare-svg 0 cargo run --release -p compare -- --svg compare.svg
    # The README's benchmarks, and chapter 1's.
    mentioned bench-step01-blocking 0 cargo bench -p step01-blocking
    mentioned bench-step01-thread-cost 0 cargo bench -p step01-blocking --bench thread_cost
    mentioned bench-step02-nonblocking 0 cargo bench -p step02-nonblocking
    mentioned bench-step03-select 0 cargo bench -p step03-select
    mentioned bench-step04-callbacks 0 cargo bench -p step04-callbacks
    mentioned bench-step05-futures 0 cargo bench -p step05-futures
    mentioned bench-step06-async-await 0 cargo bench -p step06-async-await
    mentioned bench-interop 0 cargo bench -p interop --bench drivers
    mentioned bench-step07-green-threads 0 cargo bench -p step07-green-threads
    mentioned bench-step08-io-uring 0 cargo bench -p step08-io-uring
    mentioned bench-step09-work-stealing 0 cargo bench -p step09-work-stealing
    mentioned bench-compare 0 cargo bench -p compare
    mentioned bench-testbed 0 cargo bench -p testbed
    # Chapter 7's exercise 1: a release build's fan-out fits in 16 KiB stacks.
    mentioned step07-small-stack 0 cargo run --release -p step07-green-threads -- --stack-kib 16
    session readme-step04-echo 0 "cargo run --release -p step04-callbacks -- echo-server" \
        'exec 3<>/dev/tcp/127.0.0.1/$PORT; printf "ping\n" >&3; head -n 1 <&3'
    session step05-echo 0 "cargo run --release -p step05-futures -- echo-server" \
        'exec 3<>/dev/tcp/127.0.0.1/$PORT; printf "ping\n" >&3; head -n 1 <&3'
    session readme-step07-echo 0 "cargo run --release -p step07-green-threads -- echo-server" \
        'exec 3<>/dev/tcp/127.0.0.1/$PORT; printf "ping\n" >&3; head -n 1 <&3'
    session readme-step08-echo 0 "cargo run --release -p step08-io-uring -- echo-server" \
        'exec 3<>/dev/tcp/127.0.0.1/$PORT; printf "ping\n" >&3; head -n 1 <&3'
    session readme-step09-echo 0 "cargo run --release -p step09-work-stealing -- echo-server" \
        'exec 3<>/dev/tcp/127.0.0.1/$PORT; printf "ping\n" >&3; head -n 1 <&3'
    session python-server 0 "cargo run --release -p testbed -- serve --addr 127.0.0.1:8080" \
        'curl -s http://127.0.0.1:$PORT/delay/10'
    # Comparing the steps: "Run it yourself".
    mentioned compare-repeat 0 cargo run --release -p compare -- --repeat 5 --svg compare.svg
    mentioned compare-few 0 cargo run --release -p compare -- --connections 10000 --steps poll,epoll,tokio
    mentioned compare-one-step 0 cargo run --release -p compare -- --steps step05-futures --connections 10000
    # Chapter 5's exercise 4 and chapter 6's exercise 2: the step's own report at 10,000.
    mentioned step05-unordered-10000 0 cargo run --release -p step05-futures -- --variant unordered --connections 10000
    mentioned step06-10000 0 cargo run --release -p step06-async-await -- --connections 10000
    pipeline compare-jq "cargo run --release -p compare -- --connections 1000 --delay-ms 200 --json | jq '.rows[] | {step, variant, wall_ms}'"
    mentioned compare-echo-small 0 cargo run --release -p compare -- echo --connections 200 --messages 500 --size 64
    # Comparing's exercise 2 (its solution's loop, at small sizes): the JSON fields it reads exist.
    pipeline compare-knee 'for n in 100 200; do ./target/release/compare --connections $n --steps threads,epoll --json | jq -c --arg n $n '"'"'.rows[] | {n: $n, variant, wall_ms, max_rss_kib, ok, failed}'"'"'; done'
    # The run report appendix: a report, drawn.
    pipeline report-svg "cargo run --release -p step01-blocking -- --variant threads --json > run.json && cargo run --release -p testbed -- timeline --svg < run.json > run.svg && head -c 4 run.svg && rm run.json run.svg"
    pipeline report-trace "cargo run --release -p step06-async-await -- --connections 10000 --trace-file trace.json && head -c 40 trace.json && rm trace.json"
}

# Everything, or only the sections named on the command line (for example: bash book/generate.sh chapter6 comparing).
sections=(introduction chapter1 chapter2 chapter3 chapter4 chapter5 chapter6 cancellation servers pinning chapter7 chapter8 chapter9 interop lifecycle comparing)
if [ "$#" -eq 0 ]; then
    set -- "${sections[@]}"
    if [ "$mode" = check ]; then
        set -- "$@" mentioned_commands python_programs
    fi
fi
for section in "$@"; do
    case "$section" in
        introduction | chapter[1-9] | cancellation | servers | pinning | interop | lifecycle | comparing | mentioned_commands | python_programs) "$section" ;;
        *)
            echo "generate.sh: no section $section (${sections[*]}, mentioned_commands, python_programs)" >&2
            exit 2
            ;;
    esac
done
if [ "${#failures[@]}" -gt 0 ]; then
    printf 'generate.sh --check: %d command(s) failed or changed shape: %s\n' "${#failures[@]}" "${failures[*]}" >&2
    exit 1
fi
if [ "$mode" = check ]; then
    echo "generate.sh --check: every command ran and kept its shape"
fi
