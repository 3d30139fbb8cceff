"""Django's PostgreSQL backend with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django asks `is_usable()` before the first query of every request,
and the stock backend answers with `SELECT 1`: one of the dozen round trips of a phone's
visit post (bench/sync.py: about a tenth of the posts per second). A connection the server
has dropped (a restart, a failover, an idle timeout) has had its socket closed by the
server, which the client can see locally: the socket is readable, and reading it finds the
end of the stream. So: look at the socket without waiting, read what is there, and trust the
connection if libpq still calls it good and it is not stuck in a failed transaction.

A peer that vanished without closing the socket (a cut cable) is not detected by this, but
neither was it by `SELECT 1` without a timeout: the first query fails, and Django closes the
connection at the end of that request.
"""

import select

from django.db.backends.postgresql import base
from psycopg import OperationalError, pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        try:
            # Usually the server's goodbye ("terminating connection ...") and then the end of
            # the stream, which libpq turns into a bad status (psycopg raises here); the two
            # may take more than one read.
            for _ in range(4):
                readable, _, _ = select.select([pgconn.socket], [], [], 0)
                if not readable:
                    break
                pgconn.consume_input()
        except (OperationalError, OSError, ValueError):
            return False
        return pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status in (
            pq.TransactionStatus.IDLE,
            pq.TransactionStatus.INTRANS,
        )
