import socket
from tornado import ioloop

sock = socket.socket()
sock.setblocking(False)
sock.bind(("127.0.0.1", 8000))
sock.listen(128)

def on_readable(fd, events):
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:          # nothing more waiting
            return
        conn.send(b"Hello\n")
        conn.close()

loop = ioloop.IOLoop.current()
loop.add_handler(sock.fileno(), on_readable, ioloop.IOLoop.READ)
print("listening on %s:%d" % sock.getsockname())
loop.start()
