# The server: start it first, in another terminal:
#   cargo run --release -p testbed -- serve --addr 127.0.0.1:8080
import errno
import select
import socket

ADDR = ("127.0.0.1", 8080)

pending = {}
for _ in range(100):
    sock = socket.socket()
    sock.setblocking(False)
    sock.connect_ex(ADDR)                 # EINPROGRESS, returned as a number, not raised
    pending[sock.fileno()] = sock

while pending:
    _, writable, _ = select.select([], list(pending), [])
    for fd in writable:
        sock = pending.pop(fd)
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            print("fd %d failed: %s" % (fd, errno.errorcode.get(err, err)))
        else:
            print("fd %d connected to %s:%d" % ((fd,) + sock.getpeername()))
