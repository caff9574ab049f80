# SPDX-License-Identifier: GPL-2.0-only
# A thread-per-request HTTP server on 127.0.0.1 and its load generator, for
# tests/e2e/py_server_pid.sh.
#   py_server.py serve PORTFILE [WORKERS]
#                                   serves until killed (a thread per request,
#                                   or a pool of WORKERS threads); writes its port
#                                   to PORTFILE and, on SIGTERM, its CPU seconds
#                                   (its own threads', live and gone) to PORTFILE.cpu
#   py_server.py load PORT N SECS   N requests, one connection each, at most SECS seconds
import http.client
import http.server
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def render(self):
        # Some work per request, so that handling shows in a profile.
        total = 0
        for i in range(3000):
            total += i * i % 7
        return ("%d\n" % total).encode()

    def do_GET(self):
        body = self.render()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(portfile, workers=0):
    import os
    import resource
    import signal

    def stop(signum, frame):
        ru = resource.getrusage(resource.RUSAGE_SELF)
        with open(portfile + ".cpu.tmp", "w") as f:
            f.write("%.6f\n" % (ru.ru_utime + ru.ru_stime))
        os.rename(portfile + ".cpu.tmp", portfile + ".cpu")
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    if workers:
        srv = PoolServer(("127.0.0.1", 0), Handler, workers)
    else:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


def load(port, n, secs):
    end = time.monotonic() + secs
    done = 0
    while done < n and time.monotonic() < end:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/")
        c.getresponse().read()
        c.close()
        done += 1
    print(done)


class PoolServer(http.server.HTTPServer):
    """Hands each connection to one of a fixed set of long-lived worker
    threads (a thread pool, as most production servers keep) instead of
    starting a thread per request."""

    def __init__(self, address, handler, workers):
        import concurrent.futures
        super().__init__(address, handler)
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)

    def process_request(self, request, client_address):
        self.pool.submit(self.work, request, client_address)

    def work(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    else:
        load(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
