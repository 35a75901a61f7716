# The server: start it first, in another terminal:
#   cargo run --release -p testbed -- serve --addr 127.0.0.1:8080
import asyncio
import time

async def fetch(host, port, path):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.0\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()          # to end-of-file
    writer.close()
    await writer.wait_closed()
    return response

async def main():
    limit = asyncio.Semaphore(5)            # as with --connections 20 --limit 5
    async def limited(i):
        async with limit:
            return await asyncio.wait_for(fetch("127.0.0.1", 8080, "/delay/50"), 10)
    # return_exceptions: a failed connection is a result, not the end of the run
    return await asyncio.gather(*(limited(i) for i in range(20)), return_exceptions=True)

start = time.monotonic()
results = asyncio.run(main())
failed = [r for r in results if isinstance(r, BaseException)]
print("ok %d, failed %d, wall %.1f ms" % (len(results) - len(failed), len(failed), (time.monotonic() - start) * 1000))
for error in failed[:3]:                     # the first few reasons, as the Rust report gives them
    print("  failed:", repr(error))
