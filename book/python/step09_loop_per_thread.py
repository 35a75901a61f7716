# The server: start it first, in another terminal:
#   cargo run --release -p testbed -- serve --addr 127.0.0.1:8080
#
# Python's way to every core, with asyncio: not one loop shared by many threads, but one loop
# per thread (or, to get past the GIL, per process), each with its own share of the work.
# Nothing moves between loops: a coroutine stays on the loop that started it.
import asyncio
import threading
import time

WORKERS = 2                                 # as with --workers 2
CONNECTIONS = 100

async def fetch(host, port, path):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.0\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()          # to end-of-file
    writer.close()
    await writer.wait_closed()
    return response

async def share(ids):
    return await asyncio.gather(
        *(asyncio.wait_for(fetch("127.0.0.1", 8080, "/delay/50"), 10) for _ in ids),
        return_exceptions=True)

def worker(ids, results):
    results.extend(asyncio.run(share(ids)))  # a loop of its own, on this thread

start = time.monotonic()
results = []                                 # list.extend is atomic under the GIL
threads = [threading.Thread(target=worker, args=(range(w, CONNECTIONS, WORKERS), results))
           for w in range(WORKERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
failed = [r for r in results if isinstance(r, BaseException)]
print("ok %d, failed %d, wall %.1f ms, %d loops" % (len(results) - len(failed), len(failed),
      (time.monotonic() - start) * 1000, WORKERS))
for error in failed[:3]:
    print("  failed:", repr(error))
