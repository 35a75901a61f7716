# The server: start it first, in another terminal:
#   cargo run --release -p testbed -- serve --addr 127.0.0.1:8080
import socket

sock = socket.socket()
sock.setblocking(False)
try:
    sock.connect(("127.0.0.1", 8080))
except BlockingIOError:
    pass                                # EINPROGRESS: the handshake goes on without us
count = 0
while True:
    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err:
        raise OSError(err, "connect failed")
    try:
        print("connected to %s:%d after counting to %d" % (sock.getpeername() + (count,)))
        break
    except OSError:                     # ENOTCONN: not yet
        count += 1
