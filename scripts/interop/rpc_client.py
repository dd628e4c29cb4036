"""A minimal Transmission RPC client (the X-Transmission-Session-Id handshake
over one keep-alive HTTP connection), enough for the daemon benchmark to drive
transmission-daemon and `bitfountain daemon` with the same code.

Each request goes out in one write (as curl and browsers send a small POST),
and the answer is read with TCP_QUICKACK set before every read: a server that
leaves Nagle on (transmission-daemon's libevent does) otherwise holds the last
segment of a large answer until this side's delayed ACK, ~40 ms on a
keep-alive connection, which would be measured as the daemon's time."""
import http.client
import io
import json
import socket

SESSION_HEADER = "X-Transmission-Session-Id"


class RpcError(Exception):
    pass


class _QuickAckReader(io.RawIOBase):
    def __init__(self, sock):
        self.sock = sock

    def readable(self):
        return True

    def readinto(self, buffer):
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return self.sock.recv_into(buffer)


class _QuickAckSocket:
    """What http.client.HTTPResponse needs of a socket: makefile()."""

    def __init__(self, sock):
        self.sock = sock

    def makefile(self, _mode):
        return io.BufferedReader(_QuickAckReader(self.sock))


class RpcClient:
    def __init__(self, host, port, path="/transmission/rpc", timeout=120.0):
        self.host, self.port, self.path, self.timeout = host, port, path, timeout
        self.session_id = None
        self.sock = None

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _exchange(self, body):
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n")
        if self.session_id:
            head += f"{SESSION_HEADER}: {self.session_id}\r\n"
        try:
            self.sock.sendall(head.encode() + b"\r\n" + body)
            response = http.client.HTTPResponse(_QuickAckSocket(self.sock), method="POST")
            response.begin()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response, data

    def call_raw(self, method, arguments=None):
        """The answer's body, bytes, read to the end (not parsed: what a
        benchmark times is the daemon's answer, not this client's JSON)."""
        body = json.dumps({"method": method, "arguments": arguments or {}}).encode()
        for _ in range(2):  # a 409 hands out the session id; the second try carries it
            response, data = self._exchange(body)
            if response.status == 409:
                self.session_id = response.getheader(SESSION_HEADER)
                continue
            if response.status != 200:
                raise RpcError(f"{method}: HTTP {response.status}: {data[:200]!r}")
            return data
        raise RpcError(f"{method}: no session id accepted")

    def call(self, method, arguments=None):
        answer = json.loads(self.call_raw(method, arguments))
        if answer.get("result") != "success":
            raise RpcError(f"{method}: {answer.get('result')}")
        return answer.get("arguments", {})
