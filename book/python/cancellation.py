# The server: start it first, in another terminal:
#   cargo run --release -p testbed -- serve --addr 127.0.0.1:8080
#
# Cancellation in asyncio: Task.cancel() raises CancelledError *inside* the coroutine, at the
# await where it is suspended. The coroutine's own code runs once more: it can clean up
# (except, finally), and it can even swallow the error and go on. Rust has no such step: a
# dropped future is never polled again; only its destructors run.
import asyncio
import time

async def fetch(log):
    reader, writer = await asyncio.open_connection("127.0.0.1", 8080)
    try:
        writer.write(b"GET /delay/1000 HTTP/1.0\r\n\r\n")
        await writer.drain()
        log.append("fetch: waiting for the response")
        return await reader.read()
    except asyncio.CancelledError:
        log.append("fetch: CancelledError raised at my await; I may clean up")
        raise                               # and let it go on, as asyncio expects
    finally:
        writer.close()
        log.append("fetch: finally runs, the connection is closed")

async def stubborn(log):
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        log.append("stubborn: caught CancelledError, and carried on")  # Rust cannot refuse
    return "stubborn: finished anyway"

async def busy(log):
    started = time.monotonic()
    while time.monotonic() - started < 0.05:    # 50 ms with no await: nobody can cancel it
        pass
    log.append("busy: 50 ms of work done, no await reached")
    return "busy: finished"

async def main():
    log = []
    task = asyncio.create_task(fetch(log))
    await asyncio.sleep(0.05)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        log.append("main: the fetch ended cancelled")

    task = asyncio.create_task(stubborn(log))
    await asyncio.sleep(0.01)
    task.cancel()
    log.append(await task)

    try:
        log.append(await asyncio.wait_for(busy(log), timeout=0.01))
        log.append("main: wait_for(busy, 10 ms) returned the result: it could not cut it")
    except TimeoutError:
        log.append("main: wait_for timed out")

    for line in log:
        print(line)

asyncio.run(main())
