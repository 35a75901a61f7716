#!/usr/bin/env bash
# Regenerates the command outputs and timeline figures the book shows, from real runs on this
# machine, into book/src/output/. Run from anywhere, on an otherwise idle machine:
#   bash book/generate.sh                     # everything (about 20 minutes: it runs benchmarks)
#   bash book/generate.sh chapter6 comparing  # only those sections
# Each transcript starts with a comment naming the machine and date, then the command exactly
# as a reader types it, then what it printed (stdout and stderr). Commit the results.
set -euo pipefail
cd "$(dirname "$0")/.."
out=book/src/output
mkdir -p "$out"

cargo build --release --workspace --bins --examples
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

# elide: shortens long runs of the step 3 "fd N connected to ADDR" progress lines to their first
# three and last two, saying how many were left out.
elide() {
    awk '
        function flush() {
            if (n <= 6) { for (i = 1; i <= n; i++) print run[i] }
            else {
                for (i = 1; i <= 3; i++) print run[i]
                printf "... (%d more lines like these)\n", n - 5
                for (i = n - 1; i <= n; i++) print run[i]
            }
            n = 0
        }
        /^fd [0-9]+ connected to / { run[++n] = $0; next }
        { flush(); print }
        END { flush() }
    '
}

# transcript NAME STATUS COMMAND...: runs COMMAND, which must exit with STATUS, and writes
# $out/NAME.txt.
transcript() {
    local name=$1 expected=$2
    shift 2
    local status=0 text
    text=$(quiet "$@" 2>&1 | elide; exit "${PIPESTATUS[0]}") || status=$?
    if [ "$status" != "$expected" ]; then
        printf 'generate.sh: `%s` exited with %s, expected %s:\n%s\n' "$*" "$status" "$expected" "$text" >&2
        exit 1
    fi
    printf '# on a %s\n$ %s\n%s\n' "$machine" "$*" "$text" >"$out/$name.txt"
    echo "wrote $out/$name.txt"
}

# figure NAME TITLE COMMAND...: runs COMMAND with --json and draws its timeline as
# $out/NAME.svg.
figure() {
    local name=$1 title=$2
    shift 2
    local caption
    caption=$(printf '%s\n$ %s --json\non a %s' "$title" "$*" "$machine")
    quiet "$@" --json | ./target/release/testbed timeline --svg --title "$caption" >"$out/$name.svg"
    echo "wrote $out/$name.svg"
}

# table NAME COMMAND...: runs COMMAND (whose stdout is Markdown) and writes it, with the
# command under it, to $out/NAME.md. Progress on stderr is dropped.
table() {
    local name=$1
    shift
    local text
    text=$(quiet "$@" 2>/dev/null) || { printf 'generate.sh: `%s` failed\n' "$*" >&2; exit 1; }
    printf '%s\n\n(`%s`)\n' "$text" "$*" >"$out/$name.md"
    echo "wrote $out/$name.md"
}

# Chapter 1
chapter1() {
    transcript step01-connect 0 cargo run --release -p step01-blocking --example connect
    transcript step01-sequential 0 cargo run --release -p step01-blocking -- --connections 20 --timeline
    figure step01-sequential "step01-blocking, sequential" \
        cargo run --release -p step01-blocking -- --connections 20
    transcript step01-threads 0 cargo run --release -p step01-blocking -- --variant threads --connections 100 --timeline
    figure step01-threads "step01-blocking, threads" \
        cargo run --release -p step01-blocking -- --variant threads --connections 100
    transcript step01-thread-cost 0 cargo run --release -p step01-blocking --example thread_cost
    transcript step01-threads-1000 0 cargo run --release -p step01-blocking -- --variant threads --connections 1000
}

# Chapter 2
chapter2() {
    transcript step02-count 0 cargo run --release -p step02-nonblocking --example count_while_connecting
    transcript step02-count-refused 1 cargo run --release -p step02-nonblocking --example count_while_connecting -- --refused
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
    cargo bench -p step03-select --bench wait >/dev/null 2>&1
    {
        cargo run -q -p book-check -- criterion-table target/criterion/step03-select_wait \
            --columns select,poll,epoll --row-label "idle descriptors (+1 ready)"
        printf '\nMedian time of one wait call, measured by `cargo bench -p step03-select --bench wait` on a %s.\n' "$machine"
    } >"$out/step03-wait.md"
    echo "wrote $out/step03-wait.md"
}

# Chapter 4
chapter4() {
    transcript step04-callbacks 0 cargo run --release -p step04-callbacks -- --timeline
    figure step04-callbacks "step04-callbacks, callbacks" cargo run --release -p step04-callbacks --

    # server_session NAME SUBCOMMAND CLIENT: starts a step 4 server, runs the bash CLIENT (which sees
    # the address as $PORT) against it, and writes the session, as a reader would see it in two
    # terminals, to $out/NAME.txt.
    server_session() {
        local name=$1 subcommand=$2 client=$3
        local log
        log=$(mktemp)
        # shellcheck disable=SC2086 # the subcommand and its options, split into words
        ./target/release/step04-callbacks $subcommand >"$log" 2>&1 &
        local pid=$!
        for _ in $(seq 100); do grep -q '^listening on ' "$log" && break; sleep 0.05; done
        local addr port reply
        addr=$(sed -n 's/^listening on //p' "$log")
        port=${addr##*:}
        reply=$(PORT=$port bash -c "$client")
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        {
            printf '# on a %s\n' "$machine"
            printf '$ cargo run --release -p step04-callbacks -- %s\n%s\n\n' "$subcommand" "$(cat "$log")"
            printf '# in another terminal:\n$ %s\n%s\n' "${client//\$PORT/$port}" "$reply"
        } >"$out/$name.txt"
        rm -f "$log"
        echo "wrote $out/$name.txt"
    }
    server_session step04-hello "hello-server --addr 127.0.0.1:8000" 'for i in 1 2 3; do exec 3<>/dev/tcp/127.0.0.1/$PORT; cat <&3; exec 3<&-; done'
    server_session step04-echo "echo-server --addr 127.0.0.1:8001" 'exec 3<>/dev/tcp/127.0.0.1/$PORT; printf "echo, echo\n" >&3; head -n 1 <&3'
}

# Chapter 5
chapter5() {
    transcript step05-state-machine 0 cargo run --release -p step05-futures -- --timeline
    figure step05-state-machine "step05-futures, state-machine" cargo run --release -p step05-futures --
    transcript step05-as-completed 0 cargo run --release -p step05-futures --example as_completed
    transcript step05-trace 0 cargo run --release -p step05-futures -- --connections 2 --trace
    transcript step05-task-vs-future 0 cargo run --release -p step05-futures --example task_vs_future
    transcript step05-first-to-finish 0 cargo run --release -p step05-futures --example first_to_finish
    cargo bench -p step05-futures --bench machinery >/dev/null 2>&1
    for group in wake_and_poll spawn_and_finish; do
        {
            cargo run -q -p book-check -- criterion-table "target/criterion/step05-futures_$group" \
                --columns ours,futures-executor,tokio --row-label "count"
            printf '\nMedian time for the whole count, measured by `cargo bench -p step05-futures --bench machinery` on a %s.\n' "$machine"
        } >"$out/step05-$group.md"
        echo "wrote $out/step05-$group.md"
    done
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
    transcript step06-sizes 0 cargo run --release -p step06-async-await --example future_sizes
    cargo bench -p step06-async-await --bench ours_vs_tokio >/dev/null 2>&1
    for group in fan_out spawn echo; do
        {
            cargo run -q -p book-check -- criterion-table "target/criterion/step06-async-await_$group" \
                --columns ours,tokio --row-label "workload"
            printf '\nMedian time per run, measured by `cargo bench -p step06-async-await --bench ours_vs_tokio` on a %s.\n' "$machine"
        } >"$out/step06-$group.md"
        echo "wrote $out/step06-$group.md"
    done
}

# Chapter 7
chapter7() {
    transcript step07-green 0 cargo run --release -p step07-green-threads -- --timeline
    figure step07-green "step07-green-threads, green" cargo run --release -p step07-green-threads --
    transcript step07-limit 0 cargo run --release -p step07-green-threads -- --connections 20 --limit 5 --timeline
    transcript step07-10000 0 cargo run --release -p step07-green-threads -- --connections 10000
    transcript step07-green-cost 0 cargo run --release -p step07-green-threads --example green_cost
    table step07-memory cargo run --release -p compare -- --connections 10000 \
        --steps step01-blocking/threads,step06-async-await,step07-green-threads,tokio --markdown
    transcript step07-implicit-switch 0 cargo run --release -p step07-green-threads --example implicit_switch
    cargo bench -p step07-green-threads --bench switch >/dev/null 2>&1
    local group columns
    for group in round_trip spawn_and_join fan_out; do
        case "$group" in
            round_trip) columns=green-yield,step05-wake-and-poll,os-thread-ping-pong ;;
            spawn_and_join) columns=green,os-threads ;;
            fan_out) columns=green,step05-join-all ;;
        esac
        {
            cargo run -q -p book-check -- criterion-table "target/criterion/step07-green-threads_$group" \
                --columns "$columns" --row-label "count"
            printf '\nMedian time for the whole count, measured by `cargo bench -p step07-green-threads --bench switch` on a %s.\n' "$machine"
        } >"$out/step07-$group.md"
        echo "wrote $out/step07-$group.md"
    done
}

# Interop
interop() {
    transcript interop 0 cargo run --release -p step06-async-await --example interop
}

# Comparing the steps
comparing() {
    table compare cargo run --release -p compare -- --repeat 3 --markdown --svg "$out/compare.svg"
    table compare-10000 cargo run --release -p compare -- --connections 10000 --markdown
    table compare-50-pages cargo run --release -p compare -- --connections 50 --delay-ms 90 --markdown
    transcript compare-echo 0 cargo run --release -p compare -- echo
}

# Everything, or only the sections named on the command line (for example: bash book/generate.sh chapter6 comparing).
if [ "$#" -eq 0 ]; then
    set -- chapter1 chapter2 chapter3 chapter4 chapter5 chapter6 chapter7 interop comparing
fi
for section in "$@"; do
    case "$section" in
        chapter[1-7] | interop | comparing) "$section" ;;
        *)
            echo "generate.sh: no section $section (chapter1 to chapter7, interop, comparing)" >&2
            exit 2
            ;;
    esac
done
