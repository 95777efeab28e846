"""Run a command on a real pseudo-terminal, answering prompts; print JSON {output, status}.

Usage: python3 pty-run.py '<json list of [expect, send] pairs>' CMD ARGS...
Used by the CLI tests to check password prompts as a person at a terminal meets them.
"""
import json, os, pty, select, sys, time

script = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

out = b''


def pump(until=None, timeout=20.0):
    global out
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        out += chunk
        if until is not None and until.encode() in out:
            return True
    return False


for expect, send in script:
    if not pump(expect):
        break
    os.write(fd, send.encode())
pump(None, 5.0)
_, status = os.waitpid(pid, 0)
print(json.dumps({'output': out.decode('utf-8', 'replace'), 'status': os.waitstatus_to_exitcode(status)}))
