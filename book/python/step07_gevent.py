# The server: start it first, in another terminal:
#   cargo run --release -p testbed -- serve --addr 127.0.0.1:8080
from gevent import monkey; monkey.patch_all()   # before anything imports socket
import socket
import time
import gevent
from gevent.pool import Pool

def fetch(host, port, path):                     # plain blocking code, as in chapter 1
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
    chunks = []
    while chunk := s.recv(8192):
        chunks.append(chunk)
    s.close()
    return b"".join(chunks)

start = time.monotonic()
pool = Pool(5)                                   # as with --connections 20 --limit 5
jobs = [pool.spawn(fetch, "127.0.0.1", 8080, "/delay/50") for _ in range(20)]
gevent.joinall(jobs)
ok = sum(1 for job in jobs if job.successful())
print("ok %d, failed %d, wall %.1f ms" % (ok, len(jobs) - ok, (time.monotonic() - start) * 1000))
