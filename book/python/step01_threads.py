# The server: start it first, in another terminal:
#   cargo run --release -p testbed -- serve --addr 127.0.0.1:8080
import socket
import threading
import time

done = []                                                # list.append is safe from many threads

def fetch(i):
    with socket.create_connection(("127.0.0.1", 8080)) as sock:
        sock.sendall(b"GET /delay/50 HTTP/1.0\r\n\r\n")
        while sock.recv(8192):                           # blocks until data or EOF
            pass
    done.append(i)                                       # not reached if a call above raised

start = time.monotonic()
threads = [threading.Thread(target=fetch, args=(i,)) for i in range(100)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok %d, failed %d, wall %.1f ms" % (len(done), 100 - len(done), (time.monotonic() - start) * 1000))
