import socket
s = socket.create_connection(("127.0.0.1", 8001))
for i in range(100):
    s.sendall(b"x" * (1 << 20))
    print(i + 1, "MiB sent", flush=True)
