import time
import pytest
from supportdesk.mail.imap import ImapMailbox

pytestmark = pytest.mark.imap


def _box(s):
    return ImapMailbox(s.host, s.port, s.security, s.username, s.password, timeout=10)


def test_smoke(imap_server):
    msgs = [b"Subject: m%d\nX: y\n\nbody %d\nline\r\nx\rz\n" % (i, i) for i in range(5)]
    t = time.time()
    imap_server.deliver(msgs)
    print("deliver", time.time() - t)
    assert imap_server.count() == 5
    with _box(imap_server) as box:
        st = box.select("INBOX")
        print(st)
        sizes = box.new_messages(0)
        print(sizes)
        raws = box.fetch([u for u, _ in sizes])
        for (u, size), m in zip(sizes, msgs):
            print(repr(raws[u]), size, len(raws[u]))
        print(box.new_messages(sizes[-1][0]))
        print(box.wait_for_news(0.5))
    v = imap_server.uidvalidity()
    imap_server.reset_uidvalidity()
    print(v, imap_server.uidvalidity(), imap_server.count())
    imap_server.stop()
    imap_server.start()
    print(imap_server.count())
