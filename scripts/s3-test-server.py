"""An S3-compatible server for colloq's tests: moto in server mode on loopback.

Prints the port it listens on, then serves until its standard input closes (the
test process that started it exited), so no server outlives the tests.
"""

import sys

from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
