# The work server of "Servers that behave" in asyncio (Python 3.11 or later), with a flood of
# clients against each policy, then a graceful shutdown on SIGTERM. Runs on its own:
#   python3 book/python/servers.py
#
# asyncio.Queue() is the queue; a Semaphore is the room. One difference from the Rust server:
# asyncio's server accepts connections on its own, with no way to pause it, so "wait" here
# means a handler that waits for a place before it reads: the connection is accepted (a task
# and a descriptor), but its request stays in the kernel until there is room.
import asyncio
import os
import signal

CLIENTS, CAPACITY, WORKERS, WORK, REQUEST = 400, 16, 4, 0.002, 32 * 1024

async def work_server(policy):
    queue, room = asyncio.Queue(), asyncio.Semaphore(CAPACITY)
    counts = {"served": 0, "busy": 0, "held": 0, "most": 0}

    async def worker():
        while True:
            request, writer, place = await queue.get()
            try:
                await asyncio.sleep(WORK)
                writer.write(b"done %d\n" % len(request))
                await writer.drain()
                counts["served"] += 1
            except ConnectionError:
                pass                            # the client is gone; the job ends anyway
            finally:                            # what Rust's Drop does for the job's place
                writer.close()
                counts["held"] -= 1
                if place:
                    room.release()

    async def handle(reader, writer):
        place = False
        if policy == "shed" and room.locked():
            writer.write(b"busy\n")
            await writer.drain()
            writer.write_eof()
            await reader.read()                 # what it sent, so the close is not a reset
            writer.close()
            counts["busy"] += 1
            return
        if policy in ("wait", "shed"):
            await room.acquire()
            place = True
        counts["held"] += 1
        counts["most"] = max(counts["most"], counts["held"])
        try:
            request = await reader.read()
        except ConnectionError:
            counts["held"] -= 1
            if place:
                room.release()
            writer.close()
            return
        queue.put_nowait((request, writer, place))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
    return server, workers, counts

async def client(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"x" * REQUEST)
    writer.write_eof()
    answer = await reader.read()
    writer.close()
    return answer.split()[0].decode()

async def flood(policy):
    server, workers, counts = await work_server(policy)
    port = server.sockets[0].getsockname()[1]
    answers = await asyncio.gather(*(client(port) for _ in range(CLIENTS)))
    server.close()
    for task in workers:
        task.cancel()
    print(f"{policy:>9}: {answers.count('done')} done, {answers.count('busy')} busy; "
          f"held at most {counts['most']} jobs")

async def graceful():
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async def connection(seconds):
        await asyncio.sleep(seconds)
    async with asyncio.TaskGroup() as group:       # the group: no child outlives the block
        quick = group.create_task(connection(0.05))
        slow = group.create_task(connection(10))
        os.kill(os.getpid(), signal.SIGTERM)       # as a process manager would
        await stop.wait()
        names = sorted(task.get_coro().__name__ for task in asyncio.all_tasks())
        print(f"SIGTERM: {len(names)} tasks alive: {', '.join(names)}")   # the task dump
        done, pending = await asyncio.wait([quick, slow], timeout=0.5)  # the grace period
        for task in pending:
            task.cancel()                                               # cut the rest
        print(f"shut down: {len(done)} finished within 500 ms, {len(pending)} cut")

async def main():
    print(f"{CLIENTS} clients at once; capacity {CAPACITY}, {WORKERS} workers, "
          f"{WORK * 1000:.0f} ms a job")
    for policy in ("unbounded", "wait", "shed"):
        await flood(policy)
    await graceful()

asyncio.run(main())
