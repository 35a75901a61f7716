# The server: start it first, in another terminal:
#   cargo run --release -p testbed -- serve --addr 127.0.0.1:8080
import socket

sock = socket.create_connection(("127.0.0.1", 8080))   # blocks for the handshake
print("We are connected to %s:%d" % sock.getpeername())
