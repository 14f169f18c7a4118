"""Known traffic for the process-attribution tests: servers and clients whose pids the tests know.

    traffic.py tcp-server HOST          listen; drain each connection, answer "ok" per message
    traffic.py udp-server HOST          answer each datagram with "ok"
    traffic.py tcp-client HOST PORT N SIZE GAP      one connection, N messages of SIZE bytes
    traffic.py udp-client HOST PORT N SIZE GAP      one connected UDP socket, N datagrams
    traffic.py short-client HOST PORT N HOLD        N connections: connect, send, receive, hold HOLD s, close
    traffic.py http-server HOST         HTTP server answering GET with 20000 bytes after 0.2 s

Every mode prints one JSON line ({"pid", "port"?}) when ready. Servers and clients then wait
until stdin closes (so `ss` can be asked while the sockets are open), bounded: everything
exits by itself after 60 seconds. Only the addresses given are used (loopback or a test
namespace's veth).
"""
import json
import os
import select
import socket
import sys
import threading
import time

DEADLINE = time.monotonic() + 60


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def ready(**kw):
    print(json.dumps({"pid": os.getpid(), **kw}), flush=True)


def wait_stdin():
    while time.monotonic() < DEADLINE:
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        if r and not sys.stdin.read(1):
            return


def tcp_server(host):
    srv = socket.socket(family(host), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen(256)

    def conn(a):
        a.settimeout(30)
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                a.sendall(b"ok")
        except OSError:
            pass
        a.close()

    def accept():
        while time.monotonic() < DEADLINE:
            try:
                a, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=conn, args=(a,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    ready(port=srv.getsockname()[1])
    wait_stdin()


def udp_server(host):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.bind((host, 0))

    def loop():
        while time.monotonic() < DEADLINE:
            r, _, _ = select.select([s], [], [], 0.5)
            if r:
                _, peer = s.recvfrom(65536)
                s.sendto(b"ok", peer)

    threading.Thread(target=loop, daemon=True).start()
    ready(port=s.getsockname()[1])
    wait_stdin()


def tcp_client(host, port, n, size, gap):
    c = socket.create_connection((host, port), timeout=10)
    ready(local_port=c.getsockname()[1])
    for _ in range(n):
        c.sendall(b"x" * size)
        got = b""
        while len(got) < 2:
            got += c.recv(2 - len(got))
        time.sleep(gap)
    print("DONE", flush=True)
    wait_stdin()
    c.close()


def udp_client(host, port, n, size, gap):
    c = socket.socket(family(host), socket.SOCK_DGRAM)
    c.settimeout(5)
    c.connect((host, port))
    ready(local_port=c.getsockname()[1])
    for _ in range(n):
        c.send(b"u" * size)
        c.recv(16)
        time.sleep(gap)
    print("DONE", flush=True)
    wait_stdin()
    c.close()


def short_client(host, port, n, hold):
    ready()
    ports = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=10)
        ports.append(s.getsockname()[1])
        s.sendall(b"hello")
        s.recv(2)
        time.sleep(hold)
        s.close()
        time.sleep(0.01)
    print(json.dumps({"ports": ports}), flush=True)
    wait_stdin()


def http_server(host):
    import http.server

    body = b"b" * 20000

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(0.2)  # keeps each curl connection open long enough to be looked at
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    ready(port=srv.server_address[1])
    wait_stdin()


mode, args = sys.argv[1], sys.argv[2:]
if mode == "tcp-server":
    tcp_server(args[0])
elif mode == "udp-server":
    udp_server(args[0])
elif mode == "tcp-client":
    tcp_client(args[0], int(args[1]), int(args[2]), int(args[3]), float(args[4]))
elif mode == "udp-client":
    udp_client(args[0], int(args[1]), int(args[2]), int(args[3]), float(args[4]))
elif mode == "http-server":
    http_server(args[0])
elif mode == "short-client":
    short_client(args[0], int(args[1]), int(args[2]), float(args[3]))
else:
    sys.exit("unknown mode " + mode)
